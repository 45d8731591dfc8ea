package rules

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"
)

// CopyChown reports a RUN chown -R or chmod -R of what a COPY or ADD just
// brought in: changing a file's owner or mode in a later layer stores the
// whole file again there.
var CopyChown = &rewrite.Rule{
	Name:  "copy-chown",
	Title: "COPY --chown or --chmod instead of a RUN chown -R or chmod -R that stores the copied files twice (proposal: assumes what the base image holds)",
	Kind:  rewrite.Proposal,
	Doc: `A RUN that changes the owner or mode of a file an earlier layer holds
stores the whole file again in its own layer: the image then carries every
copied file twice. COPY and ADD can give the files their owner (--chown) and
mode (--chmod) as they copy them, in one layer.

The rule looks, in the stages whose files reach the image, at a COPY or ADD
followed by a RUN (with only instructions between them that write no files
there: ENV, ARG, LABEL, USER, EXPOSE, a WORKDIR outside the copied folder,
...) that runs
chown -R OWNER DEST or chmod -R MODE DEST on the folder the COPY filled, or
chown or chmod on the one file a single-source COPY wrote, before any other
command of the RUN that may write there or create users. The finding gives
the size of what is stored twice when the files come from the build context,
and there is no finding when that is under 1 MiB (an entrypoint script made
executable).

The rewrite is a proposal (--propose applies it), because it assumes what
dfopt cannot see in the base image: the COPY gets --chown=OWNER (a user
without a group becomes USER:0, the group the copied files had) or an octal
--chmod=MODE, and a chown -R or chmod -R of a folder becomes the same command
without -R, for the folder itself, which COPY leaves as it was when it existed.
The proposal assumes that the folder held nothing before the COPY that the
recursive command was meant to change too (a folder base images fill, /bin,
/etc, /usr/local/bin, ..., is reported without a rewrite), that a user named
by name exists when the COPY runs, and that the folders COPY creates on the
way may take that owner. --chmod needs BuildKit. A symbolic mode (u+x, +x)
is reported without a rewrite: COPY --chmod takes one only from dockerfile
syntax 1.14.

Bad:

    COPY . /app
    RUN chown -R 1000:1000 /app

Good:

    COPY --chown=1000:1000 . /app
    RUN chown 1000:1000 /app
`,
	Run: runCopyChown,
}

// doubledWorthReporting is the size of build-context files stored twice
// under which the rule says nothing: an entrypoint script made executable
// costs a few hundred bytes.
const doubledWorthReporting = 1 << 20

// copyTarget is what a COPY or ADD wrote, as far as chown and chmod of it go.
type copyTarget struct {
	in     *rewrite.Instruction
	dest   string // absolute, clean
	folder bool   // dest is a folder the sources filled; else the one file written
	chown  string // the COPY's --chown, if any
	chmod  string // the COPY's --chmod, if any
}

func runCopyChown(p *rewrite.Pass) {
	d := p.Doc
	m := runmodel.Of(d)
	ship := d.Shipping()
	for _, st := range d.Stages {
		if !ship[st] {
			continue
		}
		var cur *copyTarget
		for _, in := range st.Instructions {
			switch c := in.Command.(type) {
			case *instructions.CopyCommand:
				cur = targetOf(p, m, in, c.SourcePaths, c.DestPath, c.Chown, c.Chmod)
			case *instructions.AddCommand:
				cur = targetOf(p, m, in, c.SourcePaths, c.DestPath, c.Chown, c.Chmod)
			case *instructions.RunCommand:
				if cur != nil {
					chownAfterCopy(p, m, cur, in)
				}
				cur = nil
			case *instructions.WorkdirCommand:
				if cur != nil && cur.folder && strings.HasPrefix(m.State(in).Workdir, cur.dest+"/") {
					cur = nil // WORKDIR makes a folder inside what the COPY filled
				}
			case *instructions.VolumeCommand, *instructions.OnbuildCommand:
				cur = nil // a RUN after VOLUME may lose what it changes there
			}
		}
	}
}

// targetOf reads what a COPY or ADD wrote: nil for what the rule leaves
// alone (a URL, a git source, a heredoc, a destination with variables).
func targetOf(p *rewrite.Pass, m *runmodel.Model, in *rewrite.Instruction, srcs []string, dest string, chown, chmod string) *copyTarget {
	if len(in.Node.Heredocs) > 0 || strings.Contains(dest, "$") || len(srcs) == 0 {
		return nil
	}
	for _, s := range srcs {
		if strings.Contains(s, "$") || isRemote(s) {
			return nil
		}
	}
	abs := resolve(m.State(in).Workdir, dest)
	if abs == "" || abs == "/" {
		return nil
	}
	t := &copyTarget{in: in, dest: abs, chown: chown, chmod: chmod}
	src := srcs[0]
	switch {
	case strings.HasSuffix(dest, "/") || len(srcs) > 1 || src == "." || strings.HasSuffix(src, "/") ||
		strings.ContainsAny(src, "*?[") || path.Base(path.Clean("/"+src)) == "/":
		t.folder = true
	case isFromStage(in):
		// A source from another stage or image: a file or a folder; only
		// a recursive command on dest covers it either way.
		t.folder = true
	case p.Options.Context != nil:
		rel, ok := contextPath(src, nil)
		if !ok {
			return nil
		}
		if isDir(p.Options.Context, rel) {
			t.folder = true
		}
	default:
		t.folder = true // without the context a source may be a folder
	}
	if !t.folder && len(srcs) > 1 {
		return nil
	}
	if t.folder && wroteBefore(p.Doc, m, in, abs) {
		return nil // a recursive command changes those files too
	}
	return t
}

// wroteBefore tells whether an instruction before in, in its stage or a
// stage it is built from, visibly writes at or under dest: a COPY or ADD
// there, or a RUN that names it.
func wroteBefore(d *rewrite.Document, m *runmodel.Model, in *rewrite.Instruction, dest string) bool {
	var stages []*rewrite.Stage
	for st := in.Stage; st != nil; st = d.Parent(st) {
		stages = append(stages, st)
	}
	for _, st := range stages {
		for _, prev := range st.Instructions {
			if prev == in {
				break
			}
			var dst string
			switch c := prev.Command.(type) {
			case *instructions.CopyCommand:
				dst = c.DestPath
			case *instructions.AddCommand:
				dst = c.DestPath
			case *instructions.RunCommand:
				if prev.Shell == nil {
					return true
				}
				for _, c := range m.Run(prev).Cmds {
					if !c.Opaque && writesUnder(m, m.State(prev), c, dest) {
						return true
					}
				}
				continue
			default:
				continue
			}
			if strings.Contains(dst, "$") {
				return true
			}
			at := resolve(m.State(prev).Workdir, dst)
			if at == "" || at == dest || strings.HasPrefix(at, dest+"/") || strings.HasPrefix(dest, at+"/") && !strings.HasSuffix(dst, "/") {
				return true
			}
		}
	}
	return false
}

func isFromStage(in *rewrite.Instruction) bool {
	c, ok := in.Command.(*instructions.CopyCommand)
	return ok && c.From != ""
}

var (
	ownerWord = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$`)
	})
	octalMode = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^0?[0-7]{3}$`) })
)

// ownCall is a chown or chmod read for this rule.
type ownCall struct {
	c         *runmodel.Cmd
	recursive bool
	value     string // the owner or the mode, as written
	target    string // the one path operand, absolute
}

// readOwnCall reads chown [-R] OWNER PATH or chmod [-R] MODE PATH with
// options that change nothing else; ok is false for any other form.
func readOwnCall(m *runmodel.Model, st runmodel.State, c *runmodel.Cmd) (ownCall, bool) {
	o := ownCall{c: c}
	var operands []string
	for i := range c.Args {
		v, ok := c.Args[i].Value()
		if !ok {
			return o, false
		}
		switch {
		case len(operands) == 0 && (v == "-R" || v == "--recursive"):
			o.recursive = true
		case len(operands) == 0 && (v == "-v" || v == "-c" || v == "-f" || v == "--verbose" || v == "--changes" || v == "--silent" || v == "--quiet"):
		case len(operands) == 0 && strings.HasPrefix(v, "-") && strings.Trim(v[1:], "Rvcf") == "" && len(v) > 1:
			o.recursive = o.recursive || strings.Contains(v, "R")
		case strings.HasPrefix(v, "-") && len(operands) == 0 && c.Name == "chown":
			return o, false // -h, --from, --reference, -H, -L, ...
		default:
			operands = append(operands, v)
		}
	}
	if len(operands) != 2 {
		return o, false
	}
	o.value = operands[0]
	cwd := m.Cwd(st, c)
	o.target = resolve(cwd, operands[1])
	if o.target == "" || strings.ContainsAny(operands[1], "*?[$") {
		return o, false
	}
	return o, true
}

// chownAfterCopy looks in the RUN right after a COPY for a chown or chmod of
// what the COPY wrote.
func chownAfterCopy(p *rewrite.Pass, m *runmodel.Model, t *copyTarget, in *rewrite.Instruction) {
	if in.Shell == nil {
		return
	}
	r := m.Run(in)
	st := m.State(in)
	for _, c := range r.Cmds {
		if c.Opaque || c.Is("useradd", "adduser", "groupadd", "addgroup", "usermod", "groupmod") {
			return // the users may not exist yet when the COPY runs, or anything may have happened
		}
		if !c.Is("chown", "chmod") {
			if writesUnder(m, st, c, t.dest) {
				return
			}
			continue
		}
		o, ok := readOwnCall(m, st, c)
		if !ok || o.target != t.dest || !c.Own || !c.InShell || c.Cond || c.Background || len(c.Via) > 0 || len(c.Assigns) > 0 {
			if ok && (o.target == t.dest || strings.HasPrefix(o.target, t.dest+"/")) {
				return // a chown of the COPY's files this rule cannot move
			}
			if writesUnder(m, st, c, t.dest) {
				return
			}
			continue
		}
		if t.folder && !o.recursive {
			return // the folder alone: nothing is stored twice
		}
		reportCopyChown(p, t, in, o)
		return
	}
}

// writesUnder tells whether a command's literal words name a path at or
// under dest (as far as the model knows, a command may write what it names);
// a word it cannot read, or a relative one in a folder it does not know, may.
func writesUnder(m *runmodel.Model, st runmodel.State, c *runmodel.Cmd, dest string) bool {
	under := func(at string) bool {
		return at == "" || at == "/" || at == dest || strings.HasPrefix(at, dest+"/") || strings.HasPrefix(dest, at+"/")
	}
	cwd := m.Cwd(st, c)
	var words []runmodel.Word
	switch runmodel.KindOf(c.Name) {
	case runmodel.Pure, runmodel.Builtin:
	case runmodel.Users:
		// The user database, home folders, mail spools, and any path
		// among the operands (useradd -d DIR).
		for _, at := range []string{"/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/subuid", "/etc/subgid", "/home", "/var/mail", "/var/spool/mail"} {
			if under(at) {
				return true
			}
		}
		for _, a := range c.Args {
			if v, ok := a.Pattern(); !ok || strings.HasPrefix(v, "/") && under(runmodel.LiteralPrefix(v)) {
				return true
			}
		}
	case runmodel.Packages:
		// Where the table's managers write: system folders, and their
		// project folder (node_modules, vendor, .venv).
		for _, root := range []string{"/usr", "/etc", "/var", "/opt", "/root", "/home", "/lib", "/lib64", "/bin", "/sbin", "/tmp"} {
			if under(root) {
				return true
			}
		}
		if under(resolve(cwd, ".")) {
			return true
		}
		words = c.Args
	default:
		words = c.Args
	}
	for _, rd := range c.Redirs {
		if rd.Write {
			words = append(words, rd.Target)
		}
	}
	skip := c.Is("chown", "chgrp", "chmod") // the first operand is an owner or a mode
	for _, a := range words {
		v, ok := a.Pattern()
		if ok && strings.HasPrefix(v, "-") {
			continue
		}
		if skip {
			skip = false
			continue
		}
		if !ok {
			return true
		}
		if v == "" || strings.Contains(v, "://") {
			continue
		}
		if under(resolve(cwd, runmodel.LiteralPrefix(v))) {
			return true
		}
	}
	return false
}

func reportCopyChown(p *rewrite.Pass, t *copyTarget, run *rewrite.Instruction, o ownCall) {
	d := p.Doc
	what, flag := "owner", "--chown"
	if o.c.Name == "chmod" {
		what, flag = "mode", "--chmod"
	}
	cmdText := o.c.Name
	if o.recursive {
		cmdText += " -R"
	}
	size := ""
	if n, ok := copiedSize(p, t.in); ok {
		if n < doubledWorthReporting {
			return // a few scripts stored twice: not worth a change
		}
		size = fmt.Sprintf(" (%s)", FormatSize(n))
	}
	msg := fmt.Sprintf("%s at line %d changes the %s of every file the %s at line %d brought%s, storing each again in its own layer: %s %s=%s stores them once",
		cmdText, p.InputLine(run.StartLine), what, strings.ToUpper(t.in.Keyword), p.InputLine(t.in.StartLine), size,
		strings.ToUpper(t.in.Keyword), flag, o.value)
	if !t.folder {
		msg = fmt.Sprintf("%s at line %d changes the %s of the file the %s at line %d wrote%s, storing it again in its own layer: %s %s=%s stores it once",
			o.c.Name, p.InputLine(run.StartLine), what, strings.ToUpper(t.in.Keyword), p.InputLine(t.in.StartLine), size,
			strings.ToUpper(t.in.Keyword), flag, o.value)
	}
	f := rewrite.Finding{Line: run.StartLine, Message: msg}
	if has := map[string]string{"--chown": t.chown, "--chmod": t.chmod}[flag]; has != "" {
		// The COPY sets it already; the command changes the files again.
		f.Message = fmt.Sprintf("%s at line %d changes the %s of what the %s at line %d brought with %s=%s, storing it again in its own layer",
			cmdText, p.InputLine(run.StartLine), what, strings.ToUpper(t.in.Keyword), p.InputLine(t.in.StartLine), flag, has)
		if has == o.value {
			// The same owner: whether the files are stored again depends
			// on the engine's file system (overlayfs copies a file up on
			// any chown).
			f.Message = fmt.Sprintf("%s at line %d sets the %s that the %s at line %d gave what it brought (%s=%s): the RUN may store those files again in its own layer for nothing",
				cmdText, p.InputLine(run.StartLine), what, strings.ToUpper(t.in.Keyword), p.InputLine(t.in.StartLine), flag, has)
		}
		p.Report(f)
		return
	}
	value, ok := flagValue(o)
	if !ok {
		// A symbolic mode, or the COPY sets one already: no rewrite.
		if !ok && flag == "--chmod" {
			f.Message = strings.Replace(f.Message, "--chmod="+o.value+" stores", "--chmod with an octal mode stores", 1) +
				fmt.Sprintf(" (%s is symbolic, which COPY takes only from dockerfile syntax 1.14)", o.value)
		}
		p.Report(f)
		return
	}
	if t.folder && systemFolder(t.dest) {
		// Base images hold files there, which the recursive command changes too.
		f.Message += fmt.Sprintf(" for the copied files (%s holds the base image's files too, which %s changes as well: no rewrite)", t.dest, cmdText)
		p.Report(f)
		return
	}
	edits, ok := ownEdits(d, t, run, o, flag+"="+value)
	if !ok {
		p.Report(f)
		return
	}
	f.Message = strings.Replace(f.Message, flag+"="+o.value, flag+"="+value, 1)
	var assumes []string
	if t.folder {
		assumes = append(assumes, fmt.Sprintf("%s held nothing before the COPY that %s was meant to change too", t.dest, cmdText))
	}
	assumes = append(assumes, fmt.Sprintf("the folders the COPY creates on the way to %s may take the new %s", t.dest, what))
	if flag == "--chown" && !numericOwner().MatchString(o.value) {
		assumes = append(assumes, fmt.Sprintf("%s exists when the COPY runs", strings.Split(o.value, ":")[0]))
	}
	why := "it assumes that " + strings.Join(assumes, "; that ")
	if flag == "--chmod" {
		why += "; --chmod needs BuildKit"
	}
	f.Message += " (proposal: " + why + ")"
	f.Proposal = true
	f.Edits = edits
	p.Report(f)
}

// systemFolder tells whether base images keep files of their own in dir:
// the folders of the file-system hierarchy that distributions fill.
func systemFolder(dir string) bool {
	switch dir {
	case "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/usr", "/usr/bin", "/usr/sbin", "/usr/lib",
		"/usr/lib64", "/usr/libexec", "/usr/share", "/usr/include", "/usr/local", "/usr/local/bin", "/usr/local/sbin",
		"/usr/local/lib", "/usr/local/share", "/var", "/var/lib", "/var/cache", "/var/log", "/var/spool", "/root", "/run", "/dev", "/proc", "/sys":
		return true
	}
	return false
}

// flagValue gives the value of COPY's flag for the call: the owner with a
// group (USER:0 for a user alone: COPY would give the group of the same
// number), or an octal mode.
func flagValue(o ownCall) (string, bool) {
	if o.c.Name == "chmod" {
		return o.value, octalMode().MatchString(o.value)
	}
	if !ownerWord().MatchString(o.value) || strings.Contains(o.value, ".") && !strings.Contains(o.value, ":") {
		return "", false // user.group, the old spelling, is not COPY's
	}
	if !strings.Contains(o.value, ":") {
		return o.value + ":0", true
	}
	return o.value, true
}

// ownEdits adds the flag to the COPY and turns the recursive command into
// one for the folder alone, or takes the command out for a file.
func ownEdits(d *rewrite.Document, t *copyTarget, run *rewrite.Instruction, o ownCall, flag string) ([]rewrite.Edit, bool) {
	_, kwEnd := d.KeywordSpan(t.in)
	edits := []rewrite.Edit{{Start: kwEnd, End: kwEnd, New: " " + flag}}
	call := o.c.Call
	start, end := srcPos(run, call.Pos()), srcEndPos(run, call.End())
	if t.folder {
		dest, err := syntax.Quote(t.dest, syntax.LangPOSIX)
		if err != nil {
			return nil, false
		}
		edits = append(edits, rewrite.Edit{Start: start, End: end, New: o.c.Name + " " + o.value + " " + dest})
		return edits, true
	}
	if rm, ok := removeCommand(d, run, call); ok {
		return append(edits, rm...), true
	}
	if len(run.Shell.File.Stmts) == 1 && run.Shell.File.Stmts[0].Cmd == call && plainStmt(run.Shell.File.Stmts[0]) {
		// The RUN is the command alone: it goes, with its line(s).
		return append(edits, rewrite.Edit{Start: run.Start, End: run.End}), true
	}
	return nil, false
}

// copiedSize adds up the sizes of the build-context files a COPY or ADD
// brings; ok is false when it takes from elsewhere.
func copiedSize(p *rewrite.Pass, in *rewrite.Instruction) (int64, bool) {
	ctx := p.Options.Context
	if ctx == nil || isFromStage(in) {
		return 0, false
	}
	for _, c := range contextCopies(p.Doc, nil) {
		if c.in != in {
			continue
		}
		if c.unknown {
			return 0, false
		}
		var n int64
		c.walk(ctx, func(f rewrite.ContextFile) bool {
			if !f.Dir {
				n += f.Size
			}
			return false
		})
		return n, true
	}
	return 0, false
}
