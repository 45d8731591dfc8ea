package runmodel

import (
	"bytes"
	"path"
	"slices"
	"strings"
)

// Script is a program a command runs from a file the model can read: the
// recipe lines make runs for its goals, or a shell script run by its path
// or by sh or bash. Its commands are read as a RUN's are, with the outer
// command's place in the RUN (a make that runs only on a condition runs its
// recipes only on it).
type Script struct {
	// File is the file read, as the image holds it (/app/Makefile).
	File string
	// Dir is the folder the program starts in (its commands' Cwd are
	// absolute).
	Dir string
	// Cmds are its commands in the order they appear.
	Cmds  []*Cmd
	lines map[*Cmd]int
	set   map[*Cmd][]string
}

// Line is the line of the file a command of the script is on.
func (s *Script) Line(c *Cmd) int { return s.lines[c] }

// SetBefore names the variables the program sets before a command, in the
// shell that runs it (make runs each recipe line in a shell of its own).
func (s *Script) SetBefore(c *Cmd) []string { return s.set[c] }

// add records the commands of one shell program and the variables it sets
// before each; line is the file's line the program starts on.
func (s *Script) add(cmds []*Cmd, assigns []Assignment, line int) {
	for _, c := range cmds {
		s.lines[c] = line + lineOf(c) - 1
		for _, a := range assigns {
			if a.Before(c) && !slices.Contains(s.set[c], a.Name) {
				s.set[c] = append(s.set[c], a.Name)
			}
		}
	}
	s.Cmds = append(s.Cmds, cmds...)
}

// Cwd is the absolute folder a command of the script runs in; "" when the
// model cannot tell.
func (s *Script) Cwd(c *Cmd) string {
	if !c.CwdKnown {
		return ""
	}
	return c.Cwd
}

// TouchesBefore lists the places the script's commands before c may read
// or write, as Touches does for a RUN; r is the RUN that runs the script.
func (m *Model) TouchesBefore(r *Run, s *Script, c *Cmd) Touches {
	i := slices.Index(s.Cmds, c)
	if i <= 0 {
		return Touches{}
	}
	return m.Touches(&Run{In: r.In, Cmds: s.Cmds[:i], Editable: true, Mounts: r.Mounts, Flags: r.Flags})
}

// FileReader gives a file's content as the image holds it where a command
// runs. ok is false when the model cannot know it; exists is false (with
// ok) when the file is surely not there.
type FileReader func(abs string) (data []byte, exists, ok bool)

// Through reads the program a command runs from a file: make's recipes for
// the goals it is given (see readMakefile for the Makefiles it reads), or a
// shell script run by its path (./build.sh, with a sh or bash #! line or
// none) or by sh or bash (sh -e scripts/build.sh). st is the state of the
// command's RUN; read gives the files. ok is false when the command runs
// no such program, or the model cannot read it.
func (m *Model) Through(st State, c *Cmd, read FileReader) (*Script, bool) {
	cwd := m.Cwd(st, c)
	if !path.IsAbs(cwd) || c.MoreArgs {
		return nil, false
	}
	var s *Script
	switch {
	case c.Name == "make" || c.Name == "gmake":
		s = throughMake(c, cwd, read)
	case isShellName(c.Name):
		s = throughShell(c, cwd, read)
	case c.Prog.Lit && strings.Contains(c.Prog.Text, "/") && !slices.Contains(binDirs, path.Dir(path.Clean(c.Prog.Text))):
		s = throughScript(inDir(cwd, c.Prog.Text), cwd, false, "", read)
	}
	if s == nil {
		return nil, false
	}
	for _, sc := range s.Cmds {
		if sc.CwdKnown {
			sc.Cwd = inDir(s.Dir, sc.Cwd) // absolute: the RUN's WORKDIR is not where it starts
		}
		sc.Own = false
		sc.Cond = sc.Cond || c.Cond
		sc.FailOK = sc.FailOK || c.FailOK
		sc.Background = sc.Background || c.Background
		sc.InShell = false
		sc.Via = append(slices.Clone(c.Via), append([]string{c.Name}, sc.Via...)...)
		if sc.User == "" {
			sc.User = c.User
		}
	}
	return s, true
}

// throughShell reads sh [options] script [args]: the script's #! line is
// only a comment there; -e turns errexit on.
func throughShell(c *Cmd, cwd string, read FileReader) *Script {
	errexit := false
	for i := 0; i < len(c.Args); i++ {
		v, ok := c.Args[i].Value()
		switch {
		case !ok:
			return nil
		case v == "-o" || v == "+o":
			if c.Arg(i+1) == "errexit" {
				errexit = v == "-o"
			}
			i++
		case v == "--" || v == "-":
			return nil // a script after --, or standard input: rare, not read
		case strings.HasPrefix(v, "--"):
			return nil // --login, --rcfile, ...: profiles and other files
		case strings.HasPrefix(v, "-") || strings.HasPrefix(v, "+"):
			if strings.ContainsAny(v[1:], "cilsO") {
				return nil // a program string, a login or interactive shell, standard input
			}
			if strings.Contains(v[1:], "e") {
				errexit = v[0] == '-'
			}
		default:
			return throughScript(inDir(cwd, v), cwd, errexit, c.Name, read)
		}
	}
	return nil
}

// throughScript reads a shell script. shell is the shell that runs it, ""
// when it runs by its path: then its #! line names the shell (sh, bash,
// dash, ash, through /usr/bin/env or not; with -e, errexit), and one
// without runs in sh.
func throughScript(file, cwd string, errexit bool, shell string, read FileReader) *Script {
	data, exists, ok := read(file)
	if !ok || !exists || bytes.IndexByte(data, 0) >= 0 {
		return nil
	}
	text := string(data)
	if shell == "" && strings.HasPrefix(text, "#!") {
		first, _, _ := strings.Cut(text, "\n")
		fields := strings.Fields(strings.TrimPrefix(first, "#!"))
		if len(fields) > 0 && path.Base(fields[0]) == "env" {
			fields = fields[1:]
		}
		if len(fields) == 0 || !isShellName(path.Base(fields[0])) || path.Base(fields[0]) == "zsh" {
			return nil
		}
		for _, f := range fields[1:] {
			if !strings.HasPrefix(f, "-") || strings.ContainsAny(f[1:], "cilsO-") {
				return nil
			}
			errexit = errexit || strings.Contains(f, "e")
		}
	}
	f, err := parseText(text)
	if err != nil {
		return nil
	}
	s := &Script{File: file, Dir: cwd, lines: map[*Cmd]int{}, set: map[*Cmd][]string{}}
	cmds, assigns := readProgram(f, false, errexit)
	s.add(cmds, assigns, 1)
	return s
}

// lineOf is the line of the program a command is on.
func lineOf(c *Cmd) int {
	if c.Call != nil {
		return int(c.Call.Pos().Line())
	}
	return 0
}

// throughMake reads make [options] [VAR=value...] [goal...]: the Makefile
// in the folder it runs in (or -C DIR), read by readMakefile, and the
// recipe lines of the goals (the first target when none is given) and of
// their prerequisites, first to last as make runs them, each line a
// program of its own (sh -c) in the Makefile's folder. A line make may
// not run (its target is a file that may be up to date) is conditional;
// with -i, or a line starting with -, its failure does not stop make.
func throughMake(c *Cmd, cwd string, read FileReader) *Script {
	dir, file := cwd, ""
	ignore := false
	var goals []string
	cmdVars := map[string]string{}
	unknownVars := map[string]bool{}
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i]
		v, ok := a.Value()
		if !ok {
			// VAR=$X: a variable the model does not know; anything else
			// may be a goal or an option.
			name, _, isAssign := strings.Cut(a.Text, "=")
			if !isAssign || !a.Lit && !isMakeName(name) {
				return nil
			}
			unknownVars[name] = true
			continue
		}
		value := func() (string, bool) {
			if i+1 >= len(c.Args) {
				return "", false
			}
			i++
			return c.Args[i].Value()
		}
		switch {
		case v == "-C" || v == "--directory":
			d, ok := value()
			if !ok {
				return nil
			}
			dir = inDir(dir, d)
		case strings.HasPrefix(v, "--directory="):
			dir = inDir(dir, strings.TrimPrefix(v, "--directory="))
		case strings.HasPrefix(v, "-C") && len(v) > 2:
			dir = inDir(dir, v[2:])
		case v == "-f" || v == "--file" || v == "--makefile":
			f, ok := value()
			if !ok || file != "" {
				return nil
			}
			file = f
		case strings.HasPrefix(v, "--file=") || strings.HasPrefix(v, "--makefile="):
			if file != "" {
				return nil
			}
			_, file, _ = strings.Cut(v, "=")
		case v == "-j" || v == "--jobs" || v == "-l" || v == "--load-average":
			// The next word is the number when it is one.
			if n := c.Arg(i + 1); n != "" && strings.Trim(n, "0123456789.") == "" {
				i++
			}
		case strings.HasPrefix(v, "--jobs=") || strings.HasPrefix(v, "--load-average="),
			strings.HasPrefix(v, "-j") && strings.Trim(v[2:], "0123456789") == "":
		case v == "-i" || v == "--ignore-errors":
			ignore = true
		case slices.Contains([]string{"-s", "--silent", "--quiet", "-k", "--keep-going", "-B", "--always-make",
			"--no-print-directory", "-w", "--print-directory", "-r", "--no-builtin-rules", "-R", "--no-builtin-variables",
			"-S", "--no-keep-going", "--stop", "-O", "--output-sync"}, v),
			strings.HasPrefix(v, "--output-sync="):
		case v == "--":
		case strings.HasPrefix(v, "-"):
			return nil // -n, -q, -t, -e, -I, -W, ...: not read
		case strings.Contains(v, "="):
			name, val, _ := strings.Cut(v, "=")
			name = strings.TrimSuffix(strings.TrimSuffix(name, ":"), ":")
			if !isMakeName(name) {
				return nil
			}
			cmdVars[name] = val
		default:
			goals = append(goals, v)
		}
	}
	var files []string
	if file != "" {
		files = []string{inDir(dir, file)}
	} else {
		files = []string{path.Join(dir, "GNUmakefile"), path.Join(dir, "makefile"), path.Join(dir, "Makefile")}
	}
	for _, f := range files {
		data, exists, ok := read(f)
		if !ok {
			return nil
		}
		if !exists {
			continue
		}
		mf := readMakefile(string(data))
		if mf == nil {
			return nil
		}
		for k, v := range cmdVars {
			if mf.override[k] {
				continue // override in the Makefile wins over the command line
			}
			mf.vars[k] = v
			delete(mf.unknown, k)
		}
		for k := range unknownVars {
			delete(mf.vars, k)
			mf.unknown[k] = true
		}
		return mf.script(f, dir, goals, ignore, read)
	}
	return nil
}

// isMakeName tells whether s can name a make variable as dfopt reads them.
func isMakeName(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == ""
}

// script lists the recipe lines make runs for goals, as a program.
func (mf *makefile) script(file, dir string, goals []string, ignore bool, read FileReader) *Script {
	if len(goals) == 0 {
		if mf.first == "" {
			return nil
		}
		goals = []string{mf.first}
	}
	s := &Script{File: file, Dir: dir, lines: map[*Cmd]int{}, set: map[*Cmd][]string{}}
	done := map[string]bool{}
	var visit func(target string, depth int) bool
	visit = func(target string, depth int) bool {
		if done[target] {
			return true
		}
		done[target] = true
		r := mf.rules[target]
		switch {
		case depth > 50:
			return false
		case r == nil:
			// A file of the project: make runs nothing for it, unless it
			// is missing and a built-in rule makes it.
			return mf.noImplicit(path.Join(dir, target), read, true)
		case r.unreadable:
			return false
		}
		for _, p := range r.prereqs {
			if !visit(p, depth+1) {
				return false
			}
		}
		if len(r.recipe) == 0 && !mf.phony[target] && !mf.noImplicit(path.Join(dir, target), read, false) {
			return false // make looks for an implicit rule, and may find one
		}
		for _, rl := range r.recipe {
			text, failOK := rl.text, ignore || mf.ignoreAll
			for len(text) > 0 && strings.ContainsRune("@-+ \t", rune(text[0])) {
				failOK = failOK || text[0] == '-'
				text = text[1:]
			}
			text = mf.expand(text, target)
			f, err := parseText(text)
			if err != nil {
				return false
			}
			// Each line runs in a shell of its own: variables and cd do
			// not carry over to the next.
			cmds, assigns := readProgram(f, false, mf.posix)
			for _, c := range cmds {
				c.Cond = c.Cond || r.cond || !mf.phony[target]
				c.FailOK = c.FailOK || failOK
				c.Via = append([]string{"sh -c"}, c.Via...)
			}
			s.add(cmds, assigns, rl.line)
		}
		return true
	}
	for _, g := range goals {
		if !visit(g, 0) {
			return nil
		}
	}
	return s
}

// builtinSuffixes are the suffixes of the files GNU make's built-in rules
// make a target from (its default .SUFFIXES, and the SCCS and RCS files).
var builtinSuffixes = []string{".o", ".c", ".cc", ".C", ".cpp", ".p", ".f", ".F", ".m", ".r", ".y", ".l", ".ym", ".yl", ".s", ".S", ".mod", ".sym", ".def", ".h", ".info", ".dvi", ".tex", ".texinfo", ".texi", ".txinfo", ".w", ".ch", ".web", ".sh", ".elc", ".el", ",v"}

// noImplicit tells whether make surely finds no built-in rule to make a
// target from: no file named as the target plus a built-in suffix is in its
// folder. mustExist says the target itself must be a file there (a
// prerequisite no rule makes).
func (mf *makefile) noImplicit(target string, read FileReader, mustExist bool) bool {
	if mustExist {
		if _, exists, ok := read(target); !ok || !exists {
			return false
		}
	}
	for _, suf := range builtinSuffixes {
		if _, exists, ok := read(target + suf); !ok || exists {
			return false
		}
	}
	for _, p := range []string{path.Join(path.Dir(target), "RCS", path.Base(target)+",v"), path.Join(path.Dir(target), "SCCS", "s."+path.Base(target))} {
		if _, exists, ok := read(p); !ok || exists {
			return false
		}
	}
	return true
}

// inDir is where a path leads from a folder.
func inDir(dir, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(dir, p)
}
