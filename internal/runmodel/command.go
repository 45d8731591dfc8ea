package runmodel

import (
	"iter"
	"path"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Cmd is one simple command a RUN runs, seen through the wrappers in front of
// it (sudo, env, xargs, sh -c '…', …) and through quoting (\cd and "cd" are cd).
type Cmd struct {
	// Call is the simple command in the RUN's program that runs this one:
	// the command itself, or the wrapper (sudo …, sh -c '…') that runs it.
	Call *syntax.CallExpr
	// Own says the command's words are words of the RUN's program (Args[i]
	// is Call.Args[ArgAt+i]), so a rule may edit them; a command read from
	// a string (sh -c '…', su -c '…', eval) or an ONBUILD is not.
	Own   bool
	ArgAt int

	// Name is the base name of what runs ("apt-get" for /usr/bin/apt-get);
	// "" when Opaque.
	Name string
	// Prog is the word that names it, as written.
	Prog Word
	// Args are the words after the name.
	Args []Word
	// Assigns are the variables set for this command alone: NAME=v cmd, env NAME=v cmd.
	Assigns map[string]Word
	// Via lists the wrappers it was found through, outermost first.
	Via []string
	// User is the user it runs as when a wrapper switches (sudo -u NAME,
	// su NAME, gosu NAME): "root" for a plain sudo; "" for the RUN's user.
	User string
	// MoreArgs says the command gets more words at run time than Args
	// (xargs, find -exec): its operands are not all known.
	MoreArgs bool
	// Exec says the command replaces the RUN's shell (exec cmd): nothing
	// after it in that shell runs.
	Exec bool

	// InShell says it runs in the RUN's own shell process: not in a
	// subshell, a pipeline, a command substitution, the background or a
	// shell started for a string.
	InShell bool
	// Cond says the command may not run although the RUN still succeeds:
	// inside if, case, a loop or a function, after || or after && in a
	// statement the program goes on from.
	Cond bool
	// FailOK says the RUN may still succeed when the command fails: it is
	// tested (left of && or ||, an if condition, negated), in a pipeline
	// but last, or a statement the program goes on from without errexit.
	FailOK bool
	// Background says it runs while the rest of the program goes on (&).
	Background bool
	// Cwd is the folder it runs in, as far as the program's cd commands tell:
	// "" for the RUN's working directory, else a path (absolute, or relative
	// to the working directory). CwdKnown is false after a cd the model
	// cannot follow.
	Cwd      string
	CwdKnown bool
	// Redirs are the redirections of the statement that runs it.
	Redirs []Redir

	// Opaque says the model cannot see what runs (a script, a function it
	// does not know, eval of an expansion, a program it does not know, a
	// command named by an expansion, a login shell's profiles): it may read,
	// write and run anything. Why says why.
	Opaque bool
	Why    string

	pos   int   // order in the program
	scope []int // the conditional parts of the program it is in, outermost first
}

// Redir is one redirection: a file the statement reads or writes.
type Redir struct {
	Op     syntax.RedirOperator
	Target Word
	Write  bool // >, >>, >|, &>, &>>, <>
	Read   bool // <, <>
}

// Is tells whether the command is one of names.
func (c *Cmd) Is(names ...string) bool { return c.Name != "" && slices.Contains(names, c.Name) }

// Arg returns argument i's literal value ("" when absent or not literal).
func (c *Cmd) Arg(i int) string {
	if i < 0 || i >= len(c.Args) {
		return ""
	}
	v, _ := c.Args[i].Value()
	return v
}

// Word returns the program's word for argument i, for edits: nil when the
// command is not the RUN's own or the index is out of range.
func (c *Cmd) Word(i int) *syntax.Word {
	if !c.Own || i < 0 || i >= len(c.Args) {
		return nil
	}
	return c.Args[i].Node
}

// Always tells whether the command runs whenever the RUN succeeds, in the
// RUN's own shell.
func (c *Cmd) Always() bool { return !c.Cond && !c.Background && !c.Opaque }

// Options yields the index and text of each literal argument before --:
// where a command's options may stand.
func (c *Cmd) Options() iter.Seq2[int, string] {
	return func(yield func(int, string) bool) {
		for i, a := range c.Args {
			v, ok := a.Value()
			if !ok {
				continue
			}
			if v == "--" || !yield(i, v) {
				return
			}
		}
	}
}

// HasFlag tells whether an argument is one of the flags, or flag=value.
func (c *Cmd) HasFlag(flags ...string) bool {
	for _, v := range c.Options() {
		for _, f := range flags {
			if v == f || strings.HasPrefix(f, "--") && strings.HasPrefix(v, f+"=") {
				return true
			}
		}
	}
	return false
}

// HasAbbrev tells whether an argument before -- is the long option full
// abbreviated to shortest or longer, as optparse and argparse accept it.
func (c *Cmd) HasAbbrev(full, shortest string) bool {
	for _, v := range c.Options() {
		if len(v) >= len(shortest) && strings.HasPrefix(full, v) {
			return true
		}
	}
	return false
}

// HasShort tells whether an argument is a cluster of one-letter options
// (-qy) holding letter.
func (c *Cmd) HasShort(letter byte) bool {
	for _, a := range c.Args {
		v, ok := a.Value()
		if !ok || !isShortCluster(v) {
			continue
		}
		if strings.IndexByte(v[1:], letter) >= 0 {
			return true
		}
	}
	return false
}

// isShortCluster tells whether w is a group of one-letter options, like -qy.
func isShortCluster(w string) bool {
	if len(w) < 2 || w[0] != '-' || w[1] == '-' {
		return false
	}
	for i := 1; i < len(w); i++ {
		c := w[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// AnyUnknownArg tells whether some argument's value is not known.
func (c *Cmd) AnyUnknownArg() bool {
	if c.MoreArgs {
		return true
	}
	for _, a := range c.Args {
		if _, ok := a.Value(); !ok {
			return true
		}
	}
	return false
}

// Dominates tells whether command a runs whenever command b does, before
// it: a comes first and every conditional part of the program a is in
// holds b too.
func Dominates(a, b *Cmd) bool {
	if !Before(a, b) || a.Background || len(a.scope) > len(b.scope) {
		return false
	}
	for i := range a.scope {
		if a.scope[i] != b.scope[i] {
			return false
		}
	}
	return true
}

// Pos is the command's place in the program, for ordering: commands of one
// program compare by it.
func (c *Cmd) Pos() int { return c.pos }

// baseName is the last element of a command path.
func baseName(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// placement is where the walker is in the program.
type placement struct {
	scope                     []int // conditional parts entered (see Cmd.scope)
	cond, inShell, background bool
	own                       bool   // words are the RUN's own
	failOK                    bool   // a failure here can still end in a RUN that succeeds
	user                      string // user set by a wrapper around a string program
	via                       []string
}

// Assignment is a variable the program sets in a shell of its own
// (NAME=v alone, export, declare, local, readonly).
type Assignment struct {
	Name    string
	Value   Word
	InShell bool // in the RUN's own shell: later commands see it
	Cond    bool
	pos     int
}

// Before tells whether the assignment comes before command c in the program.
func (a Assignment) Before(c *Cmd) bool { return a.pos < c.pos }

// enter returns the placement for a part of the program that may not run
// although the program goes on: a new conditional scope.
func (w *walker) enter(pl placement) placement {
	w.seq++
	pl.cond = true
	pl.scope = append(slices.Clone(pl.scope), w.seq)
	return pl
}

// walker reads a program into commands.
type walker struct {
	cmds    []*Cmd
	assigns []Assignment
	errexit bool // set -e is on in the program's own shell
	funcs   map[string]bool
	cwd     string
	known   bool // cwd is known
	seq     int
}

// readProgram lists the commands of a program and the variables it sets.
// own says its words are the RUN's own.
func readProgram(f *syntax.File, own, errexit bool) ([]*Cmd, []Assignment) {
	w := &walker{funcs: map[string]bool{}, known: true, errexit: errexit}
	syntax.Walk(f, func(n syntax.Node) bool {
		if fd, ok := n.(*syntax.FuncDecl); ok && fd.Name != nil {
			w.funcs[fd.Name.Value] = true
		}
		return true
	})
	w.list(f.Stmts, placement{inShell: true, own: own})
	return w.cmds, w.assigns
}

// list walks statements run one after the other; all but the last may fail
// and the list still goes on.
func (w *walker) list(stmts []*syntax.Stmt, pl placement) {
	for i, s := range stmts {
		p := pl
		if i < len(stmts)-1 && !(w.errexit && pl.inShell) {
			p.failOK = true
		}
		w.stmt(s, p)
	}
}

// stmt walks a statement. It returns the placement of what runs once the
// statement has succeeded: after "a && b", inside b's conditional part.
func (w *walker) stmt(s *syntax.Stmt, pl placement) placement {
	if s == nil {
		return pl
	}
	if s.Background || s.Coprocess || s.Disown {
		pl.background, pl.inShell, pl.failOK = true, false, true
		w.scoped(func() { w.stmtBody(s, pl) })
		return pl
	}
	return w.stmtBody(s, pl)
}

// scoped runs f in a shell of its own: a cd there does not outlive it.
func (w *walker) scoped(f func()) {
	cwd, known := w.cwd, w.known
	f()
	w.cwd, w.known = cwd, known
}

func (w *walker) stmtBody(s *syntax.Stmt, pl placement) placement {
	if s.Negated {
		pl.failOK = true
	}
	redirs := readRedirs(s.Redirs)
	switch c := s.Cmd.(type) {
	case nil:
		return pl
	case *syntax.CallExpr:
		w.words(c.Args, pl)
		for _, a := range c.Assigns {
			w.assign(a, pl)
		}
		if len(c.Args) == 0 {
			for _, a := range c.Assigns {
				w.setVar(a, pl)
			}
			return pl
		}
		w.call(c, ReadWords(c.Args), assignsOf(c.Assigns), redirs, pl)
	case *syntax.BinaryCmd:
		switch c.Op {
		case syntax.AndStmt:
			// b runs only once a succeeded: inside a's last conditional part.
			y := w.stmt(c.X, pl)
			y.failOK = pl.failOK
			if pl.failOK {
				y = w.enter(y)
			}
			return w.stmt(c.Y, y)
		case syntax.OrStmt:
			x := pl
			x.failOK = true
			w.stmt(c.X, x)
			w.stmt(c.Y, w.enter(pl))
		default: // pipes: each part runs in a shell of its own
			p := pl
			p.inShell, p.failOK = false, true
			w.scoped(func() { w.stmt(c.X, p) })
			w.scoped(func() { w.stmt(c.Y, p) })
		}
	case *syntax.Block:
		w.list(c.Stmts, pl)
	case *syntax.Subshell:
		p := pl
		p.inShell = false
		w.scoped(func() { w.list(c.Stmts, p) })
	case *syntax.IfClause:
		cp := pl
		for ic := c; ic != nil; ic = ic.Else {
			cp.failOK = true
			w.list(ic.Cond, cp)
			w.list(ic.Then, w.enter(pl))
			cp = w.enter(cp) // the next elif runs only when this condition fails
		}
	case *syntax.WhileClause:
		p := w.enter(pl)
		p.failOK = true
		w.list(c.Cond, p)
		w.list(c.Do, p)
	case *syntax.ForClause:
		if it, ok := c.Loop.(*syntax.WordIter); ok {
			w.words(it.Items, pl)
		}
		w.list(c.Do, w.enter(pl))
	case *syntax.CaseClause:
		w.words([]*syntax.Word{c.Word}, pl)
		for _, it := range c.Items {
			w.list(it.Stmts, w.enter(pl))
		}
	case *syntax.FuncDecl:
		p := w.enter(pl)
		p.failOK = true
		w.stmt(c.Body, p)
	case *syntax.TimeClause:
		w.stmt(c.Stmt, pl)
	case *syntax.CoprocClause:
		p := pl
		p.background, p.inShell, p.failOK = true, false, true
		w.stmt(c.Stmt, p)
	case *syntax.DeclClause:
		for _, a := range c.Args {
			w.assign(a, pl)
			w.setVar(a, pl)
		}
		cmd := w.add(&Cmd{Name: c.Variant.Value, Redirs: redirs}, pl)
		for _, a := range c.Args {
			if a.Name != nil {
				cmd.Args = append(cmd.Args, Word{Text: a.Name.Value, Lit: true})
			}
		}
	default:
		// [[ ]], (( )), let: they run nothing, but read their words.
		w.substitutions(c, pl)
	}
	return pl
}

// words walks the command substitutions inside words: they run before the
// command that gets the words.
func (w *walker) words(ws []*syntax.Word, pl placement) {
	for _, word := range ws {
		if word != nil {
			w.substitutions(word, pl)
		}
	}
}

// substitutions walks the command and process substitutions in a node:
// programs of shells of their own (a process substitution runs beside).
func (w *walker) substitutions(node syntax.Node, pl placement) {
	syntax.Walk(node, func(n syntax.Node) bool {
		var stmts []*syntax.Stmt
		p := pl
		p.inShell, p.failOK = false, true
		switch n := n.(type) {
		case *syntax.CmdSubst:
			stmts = n.Stmts
		case *syntax.ProcSubst:
			stmts, p.background = n.Stmts, true
		default:
			return true
		}
		w.scoped(func() { w.list(stmts, p) })
		return false
	})
}

func (w *walker) assign(a *syntax.Assign, pl placement) {
	if a.Value != nil {
		w.words([]*syntax.Word{a.Value}, pl)
	}
	if a.Array != nil {
		for _, e := range a.Array.Elems {
			w.words([]*syntax.Word{e.Value}, pl)
		}
	}
}

// setVar records a variable the shell keeps.
func (w *walker) setVar(a *syntax.Assign, pl placement) {
	if a.Name == nil || a.Naked && a.Value == nil {
		return
	}
	v := Word{Lit: true}
	if a.Value != nil {
		v = ReadWord(a.Value)
	}
	if a.Array != nil || a.Index != nil || a.Append {
		v = Word{}
	}
	w.seq++
	w.assigns = append(w.assigns, Assignment{Name: a.Name.Value, Value: v, InShell: pl.inShell, Cond: pl.cond, pos: w.seq})
}

func assignsOf(as []*syntax.Assign) map[string]Word {
	if len(as) == 0 {
		return nil
	}
	m := map[string]Word{}
	for _, a := range as {
		if a.Name == nil {
			continue
		}
		m[a.Name.Value] = ReadWord(a.Value)
		if a.Value == nil {
			m[a.Name.Value] = Word{Lit: true}
		}
	}
	return m
}

func readRedirs(rs []*syntax.Redirect) []Redir {
	var out []Redir
	for _, r := range rs {
		if r.Word == nil {
			continue
		}
		rd := Redir{Op: r.Op, Target: ReadWord(r.Word)}
		switch r.Op {
		case syntax.RdrOut, syntax.AppOut, syntax.ClbOut, syntax.RdrAll, syntax.AppAll:
			rd.Write = true
		case syntax.RdrIn:
			rd.Read = true
		case syntax.RdrInOut:
			rd.Read, rd.Write = true, true
		case syntax.DplIn, syntax.DplOut:
			// n>&m duplicates a descriptor; a word that is not a number or
			// "-" is a file for >& (bash): count it as written.
			if v, ok := rd.Target.Value(); !ok || strings.Trim(v, "0123456789") != "" && v != "-" {
				rd.Write = r.Op == syntax.DplOut
			}
		default: // here-documents and here-strings: no file
			continue
		}
		out = append(out, rd)
	}
	return out
}

// add records a command at the walker's place.
func (w *walker) add(c *Cmd, pl placement) *Cmd {
	c.InShell = pl.inShell
	c.scope = pl.scope
	if c.Cond && !pl.cond {
		c.scope = append(slices.Clone(pl.scope), -1) // a scope of its own (find -exec)
	}
	c.Cond = c.Cond || pl.cond
	c.FailOK = c.FailOK || pl.failOK
	c.Background = pl.background
	c.Via = append(slices.Clone(pl.via), c.Via...)
	if c.User == "" {
		c.User = pl.user
	}
	if !pl.own {
		c.Own = false
	}
	c.Cwd, c.CwdKnown = w.cwd, w.known
	w.seq++
	c.pos = w.seq
	w.cmds = append(w.cmds, c)
	if c.Name == "cd" || c.Name == "pushd" || c.Name == "popd" {
		w.followCd(c, pl)
	}
	if c.Name == "set" && pl.inShell && !pl.cond {
		w.followSet(c)
	}
	return c
}

// followSet keeps track of errexit in the program's own shell.
func (w *walker) followSet(c *Cmd) {
	for i, a := range c.Args {
		v, ok := a.Value()
		switch {
		case !ok:
			return
		case v == "--" || !strings.HasPrefix(v, "-") && !strings.HasPrefix(v, "+"):
			return
		case (v == "-o" || v == "+o") && c.Arg(i+1) == "errexit":
			w.errexit = v == "-o"
		case !strings.HasPrefix(v, "--") && strings.Contains(v[1:], "e"):
			w.errexit = v[0] == '-'
		}
	}
}

// followCd keeps track of the working directory through cd.
func (w *walker) followCd(c *Cmd, pl placement) {
	dir, ok := "", false
	if c.Name == "cd" {
		var ops []Word
		for _, a := range c.Args {
			if v, lit := a.Value(); lit && strings.HasPrefix(v, "-") && v != "-" {
				continue // -P, -L
			}
			ops = append(ops, a)
		}
		if len(ops) == 1 {
			dir, ok = ops[0].Value()
			ok = ok && dir != "-" && !strings.HasPrefix(dir, "~")
		}
	}
	switch {
	case !ok || pl.cond || !w.known:
		w.known = false
	case path.IsAbs(dir):
		w.cwd = path.Clean(dir)
	case w.cwd == "":
		w.cwd = path.Clean(dir)
	default:
		w.cwd = path.Join(w.cwd, dir)
	}
}
