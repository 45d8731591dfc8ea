// Package runmodel is dfopt's one model of what a Dockerfile's RUN
// instructions do: the commands each runs (through quoting and wrappers), the
// package managers they call (one table, Managers), the shell state they
// change, what they read, write and remove, and which later steps may read
// what an earlier one leaves. Every rule reads it; rules keep no reading of
// shell of their own.
//
// The model is conservative: whatever it cannot see through (a script, a
// function it does not know, eval of an expansion, a program it does not
// know, a command named by an expansion, xargs operands, a login shell's
// profiles) is Opaque and may read, write and run anything, and the queries
// answer "may" for it.
package runmodel

import (
	"slices"
	"strings"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// Model is what dfopt knows of one document's RUNs, computed once per
// document and shared by every rule of a pass.
type Model struct {
	Doc    *rewrite.Document
	Lex    *shell.Lex
	runs   map[*rewrite.Instruction]*Run
	states map[*rewrite.Instruction]State
}

type modelKey struct{}

// Of returns the model of a document.
func Of(d *rewrite.Document) *Model {
	return d.Fact(modelKey{}, func() any {
		m := &Model{Doc: d, Lex: shell.NewLex(d.Escape), runs: map[*rewrite.Instruction]*Run{}}
		m.states = states(d, m.Lex)
		return m
	}).(*Model)
}

// State returns the state before an instruction of a stage.
func (m *Model) State(in *rewrite.Instruction) State { return m.states[in] }

// After returns the state once an instruction has run.
func (m *Model) After(in *rewrite.Instruction) State { return m.states[in].after(in, m.Lex) }

// Run is what one RUN (or the RUN of an ONBUILD) runs.
type Run struct {
	In *rewrite.Instruction
	// Onbuild says the RUN is an ONBUILD's: it runs in images built FROM
	// this one, after all of this file.
	Onbuild bool
	// Cmds are its simple commands in the order they appear.
	Cmds []*Cmd
	// Assigns are the variables its program sets for later commands.
	Assigns []Assignment
	// Editable says its commands' words are the source's (a shell-form RUN
	// dfopt parsed): rules may edit them (Cmd.Own).
	Editable bool
	// Whole says why the model cannot read the RUN at all ("" when it
	// can): a shell that is not POSIX, a program that does not parse.
	Whole string
	// Mounts are its --mount flags.
	Mounts []Mount
	// Flags are its flags as written.
	Flags []string
}

// Run returns the model of a RUN instruction, or of an ONBUILD RUN; nil
// for any other instruction.
func (m *Model) Run(in *rewrite.Instruction) *Run {
	if r, ok := m.runs[in]; ok {
		return r
	}
	r := m.carried(in)
	if r == nil {
		r = m.readRun(in)
	}
	m.runs[in] = r
	return r
}

// carried returns the model of a RUN that the document's last edits did
// not touch, when the model of the document before them read it already
// and what it read it with is the same (its shell, whether the shell stops
// at the first error): the same commands, of the instruction as it is now.
func (m *Model) carried(in *rewrite.Instruction) *Run {
	prev, was := m.Doc.Carried(in)
	if was == nil {
		return nil
	}
	v, ok := prev.KnownFact(modelKey{})
	if !ok {
		return nil
	}
	pm := v.(*Model)
	pr, ok := pm.runs[was]
	if !ok || pr == nil || was.POSIX != in.POSIX || pm.states[was].Errexit() != m.states[in].Errexit() {
		return nil
	}
	r := *pr
	r.In = in
	return &r
}

func (m *Model) readRun(in *rewrite.Instruction) *Run {
	switch c := in.Command.(type) {
	case *instructions.RunCommand:
		r := &Run{In: in, Flags: in.Node.Flags, Mounts: readMounts(in.Node.Flags)}
		r.read(m, in, c, in.Node, in.Shell, in.POSIX)
		return r
	case *instructions.OnbuildCommand:
		res, err := parser.Parse(strings.NewReader(c.Expression))
		if err != nil || len(res.AST.Children) != 1 {
			return nil
		}
		n := res.AST.Children[0]
		if !strings.EqualFold(n.Value, "run") {
			return nil
		}
		cmd, err := instructions.ParseInstruction(n)
		run, ok := cmd.(*instructions.RunCommand)
		if err != nil || !ok {
			return &Run{In: in, Onbuild: true, Whole: "an ONBUILD RUN the model cannot parse", Cmds: []*Cmd{{Opaque: true, Why: "an ONBUILD RUN the model cannot parse"}}}
		}
		r := &Run{In: in, Onbuild: true, Flags: n.Flags, Mounts: readMounts(n.Flags)}
		var sh *rewrite.Shell
		if run.PrependShell && len(n.Heredocs) == 0 && in.POSIX {
			sh = parseShell(strings.Join(run.CmdLine, " "))
		}
		r.read(m, in, run, n, sh, in.POSIX)
		r.Editable = false
		for _, c := range r.Cmds {
			c.Own = false
		}
		return r
	}
	return nil
}

func parseShell(text string) *rewrite.Shell {
	f, err := parseText(text)
	if err != nil {
		return nil
	}
	return &rewrite.Shell{Text: text, File: f}
}

// read fills the RUN's commands from its shell program, heredocs or exec form.
func (r *Run) read(m *Model, in *rewrite.Instruction, c *instructions.RunCommand, n *parser.Node, sh *rewrite.Shell, posix bool) {
	switch {
	case !c.PrependShell:
		// Exec form: the words are known exactly; a shell among them is
		// read through like any wrapper.
		w := &walker{funcs: map[string]bool{}, known: true}
		if len(c.CmdLine) > 0 {
			w.resolve(&Cmd{}, literalWords(c.CmdLine), -1, placement{own: false})
		}
		r.Cmds, r.Assigns = w.cmds, w.assigns
	case !posix:
		r.whole("the SHELL is not a POSIX shell")
	case len(n.Heredocs) > 0:
		// The heredocs are the program's input; the model reads the
		// program with them, but cannot edit it.
		text := strings.Join(c.CmdLine, " ") + "\n"
		for _, h := range c.Files {
			text += h.Data
			if !strings.HasSuffix(text, "\n") {
				text += "\n"
			}
			text += h.Name + "\n"
		}
		if len(c.CmdLine) == 1 && strings.HasPrefix(strings.TrimSpace(c.CmdLine[0]), "<<") && len(c.Files) == 1 {
			// RUN <<EOF runs the heredoc as a script of the shell.
			text = c.Files[0].Data
			if strings.HasPrefix(text, "#!") {
				r.whole("a heredoc script with its own interpreter")
				return
			}
		}
		f, err := parseText(text)
		if err != nil {
			r.whole("a heredoc program the model cannot parse")
			return
		}
		r.Cmds, r.Assigns = readProgram(f, false, m.states[in].Errexit())
	case sh == nil:
		r.whole("a program the model cannot parse")
	default:
		r.Editable = true
		r.Cmds, r.Assigns = readProgram(sh.File, true, m.states[in].Errexit())
	}
}

// whole marks the whole RUN as one opaque command.
func (r *Run) whole(why string) {
	r.Whole = why
	r.Cmds = []*Cmd{{Opaque: true, Why: why, InShell: true}}
}

// Opaque tells whether some command of the RUN may do anything, and why.
func (r *Run) Opaque() (bool, string) {
	for _, c := range r.Cmds {
		if c.Opaque {
			return true, c.Why
		}
	}
	return false, ""
}

// Runs lists the RUN's commands that are one of names.
func (r *Run) Runs(names ...string) []*Cmd {
	var out []*Cmd
	for _, c := range r.Cmds {
		if !c.Opaque && c.Is(names...) {
			out = append(out, c)
		}
	}
	return out
}

// MayRun tells whether the RUN may run one of the programs: it runs it, or
// something the model cannot see through.
func (r *Run) MayRun(names ...string) bool {
	if ok, _ := r.Opaque(); ok {
		return true
	}
	return len(r.Runs(names...)) > 0
}

// Calls lists the RUN's commands of a manager, read with its flags.
func (r *Run) Calls(m *Manager) []Call {
	var out []Call
	for _, c := range r.Cmds {
		if !c.Opaque && ManagerOf(c) == m {
			out = append(out, m.Read(c))
		}
	}
	return out
}

// AllCalls lists the RUN's commands of every manager of the table.
func (r *Run) AllCalls() []Call {
	var out []Call
	for _, c := range r.Cmds {
		if m := ManagerOf(c); m != nil && !c.Opaque {
			out = append(out, m.Read(c))
		}
	}
	return out
}

// Before tells whether command a comes before command b in the program.
func Before(a, b *Cmd) bool { return a.pos < b.pos }

// Mount is one RUN --mount flag.
type Mount struct {
	Type   string // bind (the default), cache, tmpfs, secret, ssh
	Target string // as written
	Source string
	From   string
	RW     bool // a bind mount the RUN may write to
	Valid  bool // the flag's value could be read
}

// readMounts reads the --mount flags as BuildKit does: CSV fields, type
// bind by default. instructions.GetMounts is of no use here: it leaves
// targets empty until the build expands variables.
func readMounts(flags []string) []Mount {
	var out []Mount
	for _, f := range flags {
		spec, ok := strings.CutPrefix(f, "--mount=")
		if !ok {
			continue
		}
		out = append(out, ReadMount(spec))
	}
	return out
}

// ReadMount reads the value of one --mount flag.
func ReadMount(spec string) Mount {
	m := Mount{Type: "bind", Valid: true}
	fields, err := csvFields(spec)
	if err != nil {
		m.Valid = false
		return m
	}
	for _, f := range fields {
		k, v, hasValue := strings.Cut(f, "=")
		switch strings.ToLower(k) {
		case "type":
			m.Type = strings.ToLower(v)
		case "target", "dst", "destination":
			m.Target = v
		case "source", "src":
			m.Source = v
		case "from":
			m.From = v
		case "rw", "readwrite":
			m.RW = !hasValue || v == "true" || v == "1"
		case "ro", "readonly":
			m.RW = hasValue && (v == "false" || v == "0")
		}
	}
	return m
}

// Fresh tells whether a mount gives each RUN its own files, so that two
// RUNs merged into one would share what each wrote: tmpfs, and bind mounts
// the RUN may write to.
func (mt Mount) Fresh() bool {
	return !mt.Valid || mt.Type == "tmpfs" || mt.Type == "bind" && mt.RW
}

// CacheTargets lists the targets of the RUN's cache mounts, as written.
func (r *Run) CacheTargets() []string {
	var out []string
	for _, mt := range r.Mounts {
		if mt.Type == "cache" && mt.Target != "" {
			out = append(out, mt.Target)
		}
	}
	return out
}

// Steps lists, in order, what runs after in and may see the files it
// leaves: the later instructions of its stage, of the stages built FROM it,
// and the ONBUILD instructions of all of them (they run in images built
// FROM the result).
func (m *Model) Steps(in *rewrite.Instruction) []*rewrite.Instruction {
	st := in.Stage
	if st == nil {
		return nil
	}
	var out []*rewrite.Instruction
	i := slices.Index(st.Instructions, in)
	out = append(out, st.Instructions[i+1:]...)
	for _, s := range m.Doc.Descendants(st) {
		out = append(out, s.Instructions[1:]...)
	}
	// ONBUILD instructions of the stage before in run later too.
	for _, x := range st.Instructions[:i] {
		if x.Keyword == "onbuild" {
			out = append(out, x)
		}
	}
	return out
}
