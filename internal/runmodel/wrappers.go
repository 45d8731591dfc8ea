package runmodel

import (
	"path"
	"strings"

	"github.com/dfopt/dfopt/internal/shparse"
	"mvdan.cc/sh/v3/syntax"
)

// call reads one simple command of the program, wrappers and all.
func (w *walker) call(c *syntax.CallExpr, words []Word, assigns map[string]Word, redirs []Redir, pl placement) {
	cmd := &Cmd{Call: c, Own: pl.own, Assigns: assigns, Redirs: redirs}
	w.resolve(cmd, words, 0, pl)
}

// resolve looks through the wrappers at the start of words (words[0] is
// Call.Args[at] for a command of the RUN's own words) and records what runs.
func (w *walker) resolve(cmd *Cmd, words []Word, at int, pl placement) {
	chdir, chdirSet := "", false
	for {
		if len(words) == 0 {
			// A wrapper with nothing to run (env alone prints the
			// environment): the wrapper is the command.
			if len(cmd.Via) == 0 {
				return
			}
			cmd.Name = cmd.Via[len(cmd.Via)-1]
			cmd.Via = cmd.Via[:len(cmd.Via)-1]
			w.add(cmd, pl)
			return
		}
		name, ok := words[0].Value()
		if !ok || name == "" {
			cmd.Prog, cmd.Args, cmd.ArgAt = words[0], words[1:], at+1
			w.opaque(cmd, pl, "a command is named by an expansion")
			return
		}
		base := baseName(name)
		rest := words[1:]
		skip := -1 // words of the wrapper after its name; -1: not a wrapper
		switch base {
		case "sudo", "doas":
			n, user, login := sudoOptions(rest)
			if user == "" {
				user = "root"
			}
			cmd.User = user
			if login {
				cmd.Prog, cmd.Args, cmd.ArgAt = words[0], rest, at+1
				w.opaque(cmd, pl, base+" runs the command through a login shell, which reads profile files")
				return
			}
			skip = n
		case "env":
			n, ok := envOptions(rest, cmd, &chdir, &chdirSet)
			if !ok {
				cmd.Prog, cmd.Args, cmd.ArgAt = words[0], rest, at+1
				w.opaque(cmd, pl, "env -S splits a string into a command")
				return
			}
			skip = n
		case "nice":
			skip = optionsEnd(rest, []string{"-n", "--adjustment"})
		case "nohup", "eatmydata", "catchsegv":
			skip = optionsEnd(rest, nil)
		case "setsid":
			skip = optionsEnd(rest, nil)
		case "time":
			skip = optionsEnd(rest, []string{"-f", "--format", "-o", "--output"})
		case "timeout":
			n := optionsEnd(rest, []string{"-s", "--signal", "-k", "--kill-after"})
			skip = min(n+1, len(rest)) // the duration
		case "stdbuf":
			skip = optionsEnd(rest, []string{"-i", "-o", "-e", "--input", "--output", "--error"})
		case "ionice":
			skip = optionsEnd(rest, []string{"-c", "--class", "-n", "--classdata"})
		case "taskset":
			n := optionsEnd(rest, nil)
			skip = min(n+1, len(rest)) // the mask or CPU list
		case "gosu", "su-exec":
			if len(rest) > 0 {
				cmd.User = rest[0].Text
			}
			skip = min(1, len(rest))
		case "command":
			n := optionsEnd(rest, nil)
			for _, o := range rest[:n] {
				if o.Is("-v") || o.Is("-V") {
					// A lookup: nothing runs.
					cmd.Name, cmd.Prog, cmd.Args, cmd.ArgAt = "command", words[0], rest, at+1
					w.add(cmd, pl)
					return
				}
			}
			skip = n
		case "builtin":
			skip = 0
		case "exec":
			n := optionsEnd(rest, []string{"-a"})
			if n == len(rest) {
				// exec with only redirections changes the shell's descriptors.
				cmd.Name, cmd.Prog, cmd.Args, cmd.ArgAt = "exec", words[0], rest, at+1
				w.add(cmd, pl)
				return
			}
			cmd.Exec = true
			skip = n
		case "busybox":
			if len(rest) == 0 || strings.HasPrefix(rest[0].Text, "-") {
				break
			}
			skip = 0
		case "xargs":
			n, replace := xargsOptions(rest)
			cmd.MoreArgs = true
			if n == len(rest) {
				words = []Word{{Text: "echo", Lit: true}} // xargs runs echo by default
				at = -1
				cmd.Own = false
				cmd.Via = append(cmd.Via, "xargs")
				continue
			}
			if replace != "" {
				for i := n; i < len(rest); i++ {
					if strings.Contains(rest[i].Text, replace) || !rest[i].Lit {
						rest[i].Lit = false
					}
				}
			}
			skip = n
		case "find":
			w.find(cmd, words, at, pl)
			return
		case "su", "runuser":
			if w.su(cmd, words, at, pl, base) {
				return
			}
		case "chroot", "unshare", "nsenter", "flock", "watch", "parallel", "chpst", "setpriv", "capsh":
			cmd.Name, cmd.Prog, cmd.Args, cmd.ArgAt = base, words[0], rest, at+1
			w.opaque(cmd, pl, base+" runs a command the model does not follow")
			return
		case "eval":
			w.eval(cmd, words, at, pl)
			return
		case "trap":
			w.trap(cmd, words, at, pl)
			return
		}
		if isShellName(base) {
			w.shell(cmd, words, at, pl, base)
			return
		}
		if skip < 0 {
			break
		}
		cmd.Via = append(cmd.Via, base)
		words = rest[skip:]
		at += 1 + skip
	}
	cmd.Prog, cmd.ArgAt = words[0], at+1
	cmd.Name = baseName(words[0].Text)
	cmd.Args = words[1:]
	if cmd.Name == "python" || isPython(cmd.Name) {
		pythonModule(cmd)
	}
	if chdirSet {
		defer func() {
			if cmd.CwdKnown && path.IsAbs(chdir) {
				cmd.Cwd = path.Clean(chdir)
			} else if cmd.CwdKnown && chdir != "" {
				cmd.Cwd = path.Join(cmd.Cwd, chdir)
			} else {
				cmd.CwdKnown = false
			}
		}()
	}
	if why := opaqueProgram(cmd, w.funcs); why != "" {
		w.opaque(cmd, pl, why)
		return
	}
	w.add(cmd, pl)
}

// opaque records a command the model cannot see through.
func (w *walker) opaque(cmd *Cmd, pl placement, why string) {
	cmd.Opaque, cmd.Why = true, why
	if cmd.Name == "" && cmd.Prog.Lit {
		cmd.Name = baseName(cmd.Prog.Text)
	}
	w.add(cmd, pl)
}

// optionsEnd returns how many words at the start of args are options of a
// wrapper; valued lists the options that take the next word as their value.
func optionsEnd(args []Word, valued []string) int {
	for i := 0; i < len(args); i++ {
		v := args[i].Text
		switch {
		case !args[i].Lit:
			return i
		case v == "--":
			return i + 1
		case !strings.HasPrefix(v, "-") || v == "-":
			return i
		}
		for _, f := range valued {
			if v == f {
				i++
				break
			}
		}
	}
	return len(args)
}

// sudoOptions reads sudo's options: how many words they take, the user
// (-u), and whether the command runs through a login or the user's shell
// (-i, -s), which reads files the model cannot see.
func sudoOptions(args []Word) (n int, user string, login bool) {
	valued := map[string]bool{"-u": true, "-g": true, "-C": true, "-D": true, "-h": true, "-p": true, "-r": true, "-t": true, "-T": true, "-U": true,
		"--user": true, "--group": true, "--close-from": true, "--chdir": true, "--host": true, "--prompt": true, "--role": true, "--type": true, "--command-timeout": true, "--other-user": true}
	for i := 0; i < len(args); i++ {
		v, ok := args[i].Value()
		switch {
		case !ok:
			return i, user, login
		case v == "--":
			return i + 1, user, login
		case !strings.HasPrefix(v, "-"):
			return i, user, login
		case v == "-i" || v == "-s" || v == "--login" || v == "--shell":
			login = true
		case strings.HasPrefix(v, "--user="):
			user = strings.TrimPrefix(v, "--user=")
		case valued[v]:
			if (v == "-u" || v == "--user") && i+1 < len(args) {
				user = args[i+1].Text
			}
			i++
		case isShortCluster(v) && strings.ContainsAny(v, "is"):
			login = true
		}
	}
	return len(args), user, login
}

// envOptions reads env's options and assignments into cmd; it gives false
// for -S, which splits a string into a command line.
func envOptions(args []Word, cmd *Cmd, chdir *string, chdirSet *bool) (int, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		v := a.Text
		switch {
		case !a.Lit && !strings.Contains(v, "="):
			return i, true
		case v == "--":
			return i + 1, true
		case v == "-S" || strings.HasPrefix(v, "--split-string") || strings.HasPrefix(v, "-S"):
			return i, false
		case v == "-u" || v == "--unset":
			i++
		case v == "-C" || v == "--chdir":
			if i+1 < len(args) {
				*chdir, _ = args[i+1].Value()
				*chdirSet = true
			}
			i++
		case strings.HasPrefix(v, "--chdir="):
			*chdir, *chdirSet = strings.TrimPrefix(v, "--chdir="), true
		case strings.HasPrefix(v, "-"):
		case strings.Contains(v, "="):
			name, val, _ := strings.Cut(v, "=")
			if cmd.Assigns == nil {
				cmd.Assigns = map[string]Word{}
			}
			vw := Word{Text: val, Lit: a.Lit, Glob: a.Glob}
			cmd.Assigns[name] = vw
		default:
			return i, true
		}
	}
	return len(args), true
}

// xargsOptions reads xargs's options: how many words they take, and the
// replace string of -I (or -i, --replace), which marks the words that get
// a line of input.
func xargsOptions(args []Word) (int, string) {
	replace := ""
	for i := 0; i < len(args); i++ {
		v, ok := args[i].Value()
		switch {
		case !ok:
			return i, replace
		case v == "--":
			return i + 1, replace
		case !strings.HasPrefix(v, "-"):
			return i, replace
		case v == "-I":
			if i+1 < len(args) {
				replace = args[i+1].Text
			}
			i++
		case strings.HasPrefix(v, "-I"):
			replace = v[2:]
		case v == "-i" || v == "--replace":
			replace = "{}"
		case strings.HasPrefix(v, "--replace="):
			replace = strings.TrimPrefix(v, "--replace=")
		case strings.HasPrefix(v, "-i"):
			replace = v[2:]
		case v == "-a" || v == "-d" || v == "-E" || v == "-L" || v == "-n" || v == "-P" || v == "-s" || v == "--arg-file" || v == "--delimiter" || v == "--max-lines" || v == "--max-args" || v == "--max-procs" || v == "--max-chars" || v == "--eof" || v == "--process-slot-var":
			i++
		}
	}
	return len(args), replace
}

// find records find itself, and each command its -exec, -execdir, -ok and
// -okdir run, once per file found: so maybe never.
func (w *walker) find(cmd *Cmd, words []Word, at int, pl placement) {
	cmd.Prog, cmd.Name, cmd.ArgAt = words[0], "find", at+1
	cmd.Args = words[1:]
	w.add(cmd, pl)
	for i := 1; i < len(words); i++ {
		v, _ := words[i].Value()
		if v != "-exec" && v != "-execdir" && v != "-ok" && v != "-okdir" {
			continue
		}
		end := i + 1
		for end < len(words) && !words[end].Is(";") && !words[end].Is("+") && !words[end].Is("\\;") {
			end++
		}
		sub := append([]Word(nil), words[i+1:end]...)
		for k := range sub {
			if strings.Contains(sub[k].Text, "{}") {
				sub[k].Lit = false
			}
		}
		if len(sub) > 0 {
			inner := &Cmd{Call: cmd.Call, Own: cmd.Own, User: cmd.User, Via: append(append([]string(nil), cmd.Via...), "find "+v), MoreArgs: true, Cond: true}
			w.resolve(inner, sub, at+i+1, pl)
		}
		i = end
	}
}

// su reads su and runuser: with -c the string is a program run as the user;
// a login shell (-, -l) reads profiles, and without -c the shell reads its
// commands from standard input. It tells whether it recorded the command.
func (w *walker) su(cmd *Cmd, words []Word, at int, pl placement, base string) bool {
	rest := words[1:]
	user, login := "root", false
	var program *Word
	i := 0
	for ; i < len(rest); i++ {
		v, ok := rest[i].Value()
		if !ok {
			break
		}
		switch {
		case v == "-" || v == "-l" || v == "--login":
			login = true
		case v == "-c" || v == "--command":
			if i+1 < len(rest) {
				program = &rest[i+1]
			}
			i++
		case strings.HasPrefix(v, "--command="):
			p := Word{Text: strings.TrimPrefix(v, "--command="), Lit: true}
			program = &p
		case v == "-s" || v == "--shell" || v == "-g" || v == "--group" || v == "-G" || v == "--supp-group" || v == "-w" || v == "--whitelist-environment":
			i++
		case v == "-u" || v == "--user": // runuser -u USER -- cmd
			if i+1 < len(rest) {
				user = rest[i+1].Text
			}
			i++
		case v == "--":
			if base == "runuser" && i+1 < len(rest) {
				cmd.User, cmd.Via = user, append(cmd.Via, base)
				w.resolve(cmd, rest[i+1:], at+i+2, pl)
				return true
			}
		case strings.HasPrefix(v, "-"):
		default:
			user = v
		}
	}
	cmd.User = user
	cmd.Prog, cmd.Name, cmd.Args, cmd.ArgAt = words[0], base, rest, at+1
	if program == nil || login {
		why := base + " starts a shell that reads its commands from standard input"
		if login {
			why = base + " starts a login shell, which reads profile files"
		}
		if program != nil {
			w.program(cmd, *program, pl, base+" -c")
		}
		w.opaque(cmd, pl, why)
		return true
	}
	w.program(cmd, *program, pl, base+" -c")
	return true
}

// isShellName tells whether a command is a POSIX-style shell.
func isShellName(name string) bool {
	switch name {
	case "sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "posh", "yash":
		return true
	}
	return false
}

// shell reads sh -c 'program' (and bash, dash, …): the string is a program of
// its own, read like the RUN's. A shell given a script file, or reading
// standard input, or a login or interactive shell (which reads profiles), is
// opaque.
func (w *walker) shell(cmd *Cmd, words []Word, at int, pl placement, base string) {
	rest := words[1:]
	cmd.Prog, cmd.Name, cmd.Args, cmd.ArgAt = words[0], base, rest, at+1
	login, hasC := base == "zsh", false
	if len(rest) == 1 && (rest[0].Is("--version") || rest[0].Is("--help")) {
		w.add(cmd, pl) // it prints and ends
		return
	}
	i := 0
	for ; i < len(rest); i++ {
		v, ok := rest[i].Value()
		if !ok {
			break
		}
		if v == "--" {
			i++
			break
		}
		if !strings.HasPrefix(v, "-") && !strings.HasPrefix(v, "+") {
			break
		}
		switch {
		case v == "--login" || v == "--interactive" || v == "-i" || v == "-l":
			login = true
		case v == "-o" || v == "+o" || v == "-O" || v == "+O" || v == "--rcfile" || v == "--init-file":
			i++
		case strings.HasPrefix(v, "--"):
		default:
			if strings.ContainsAny(v[1:], "il") {
				login = true
			}
			if strings.Contains(v[1:], "c") {
				hasC = true
			}
			if strings.Contains(v[1:], "s") {
				w.opaque(cmd, pl, base+" -s reads its commands from standard input")
				return
			}
		}
	}
	switch {
	case !hasC && i < len(rest):
		w.opaque(cmd, pl, base+" runs a script file")
	case !hasC:
		w.opaque(cmd, pl, base+" reads its commands from standard input")
	case i >= len(rest):
		w.opaque(cmd, pl, base+" -c without a program")
	default:
		w.program(cmd, rest[i], pl, base+" -c")
		if login {
			w.opaque(&Cmd{Call: cmd.Call, Own: false, Prog: cmd.Prog, Name: base, User: cmd.User, Via: cmd.Via}, pl, base+" starts a login or interactive shell, which reads profile files")
		}
	}
}

// program reads a string a command runs as a shell program (sh -c, su -c):
// its commands run in a shell of their own, as the wrapper's user.
func (w *walker) program(cmd *Cmd, text Word, pl placement, via string) {
	s, ok := text.Value()
	if !ok {
		cmd2 := *cmd
		w.opaque(&cmd2, pl, via+" runs a program made at run time")
		return
	}
	f, err := parseText(s)
	if err != nil {
		cmd2 := *cmd
		w.opaque(&cmd2, pl, via+" runs a program the model cannot parse")
		return
	}
	p := pl
	p.inShell, p.own = false, false
	p.user = cmd.User
	p.via = append(append([]string(nil), pl.via...), append(append([]string(nil), cmd.Via...), via)...)
	w.scoped(func() {
		w.list(f.Stmts, p)
	})
}

// eval runs its words, joined by spaces, as a program in the current shell.
func (w *walker) eval(cmd *Cmd, words []Word, at int, pl placement) {
	cmd.Prog, cmd.Name, cmd.Args, cmd.ArgAt = words[0], "eval", words[1:], at+1
	var parts []string
	for _, a := range words[1:] {
		v, ok := a.Value()
		if !ok {
			w.opaque(cmd, pl, "eval runs a program made at run time")
			return
		}
		parts = append(parts, v)
	}
	w.add(cmd, pl)
	f, err := parseText(strings.Join(parts, " "))
	if err != nil {
		w.opaque(&Cmd{Call: cmd.Call, Name: "eval", Prog: cmd.Prog}, pl, "eval runs a program the model cannot parse")
		return
	}
	p := pl
	p.own = false
	p.via = append(append([]string(nil), pl.via...), "eval")
	w.list(f.Stmts, p)
}

// trap records the trap and reads its handler, which may run when the
// shell exits or gets a signal.
func (w *walker) trap(cmd *Cmd, words []Word, at int, pl placement) {
	cmd.Prog, cmd.Name, cmd.Args, cmd.ArgAt = words[0], "trap", words[1:], at+1
	w.add(cmd, pl)
	args := words[1:]
	if len(args) > 0 && args[0].Is("--") {
		args = args[1:]
	}
	if len(args) < 2 || args[0].Is("-p") || args[0].Is("-l") {
		return
	}
	w.program(&Cmd{Call: cmd.Call, Name: "trap", Prog: cmd.Prog, User: cmd.User}, args[0], w.enter(pl), "trap")
}

// parseText parses a program given as a string.
func parseText(s string) (*syntax.File, error) {
	return shparse.Parse(s)
}

// isPython tells whether a command name is a Python interpreter.
func isPython(name string) bool {
	if !strings.HasPrefix(name, "python") {
		return false
	}
	return strings.Trim(name[len("python"):], "0123456789.") == ""
}

// pythonModule turns python -m pip … into pip …: the module is the command.
func pythonModule(cmd *Cmd) {
	if len(cmd.Args) < 2 || !cmd.Args[0].Is("-m") {
		return
	}
	mod, ok := cmd.Args[1].Value()
	if !ok {
		return
	}
	switch {
	case mod == "pip" || mod == "pip3":
		cmd.Via = append(cmd.Via, cmd.Name+" -m")
		cmd.Name = "pip"
		cmd.Args = cmd.Args[2:]
		cmd.ArgAt += 2
	}
}
