package runmodel

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Shape is what a RUN's program does to the shell that runs it and how it
// ends: what a rule must know to run it together with another program, or
// to put a command after it.
type Shape struct {
	// Leaks says the program changes state a later command of the same
	// shell would see: a directory, a variable, an option, a trap, a
	// function, an alias, a limit (cd, export, x=1, set, umask, …), or runs
	// something that could (source, eval, a command named by an expansion).
	Leaks bool
	// Background says it leaves a job running (&, coproc).
	Background bool
	// Errexit says where it stops depends on where it stands: it sets
	// errexit (set -e, -o errexit, -E) or a trap. POSIX shells ignore -e in
	// every command of an && or || list but the last, so such a program
	// only keeps its meaning as the last part of a merged RUN.
	Errexit bool
	// EndsShell says a command put after it may not run: it runs exit,
	// return or exec in its own shell.
	EndsShell bool
	// Chain says it is one statement of && links only, so that
	// "C && program" runs it only when C succeeds.
	Chain bool
	// Plain says it is a Chain of pipelines of simple commands: errexit
	// changes nothing in it, wherever it stands.
	Plain bool
	// Commands counts its simple commands, as hadolint's DL3059 does.
	Commands int
	// TrailingEscape says its text ends in a backslash that escapes what
	// would follow: nothing may be joined after it.
	TrailingEscape bool
	// Introspects says it reads what its shell has done or is ($_, LINENO,
	// SECONDS, BASH_COMMAND, /proc/self, /proc/$$): merged after another
	// program, it would read that one's too.
	Introspects bool
}

// introspective are the shell variables that tell what the shell did so
// far, or where it is in its program.
var introspective = map[string]bool{
	"_": true, "LINENO": true, "SECONDS": true, "BASH_COMMAND": true, "BASH_LINENO": true,
	"BASH_SOURCE": true, "BASH_ARGV": true, "BASH_ARGC": true, "HISTCMD": true, "EPOCHSECONDS": false,
}

// stateBuiltins change the shell that runs them, or end it.
var stateBuiltins = map[string]bool{
	"cd": true, "pushd": true, "popd": true, "export": true, "unset": true,
	"set": true, "shopt": true, "umask": true, "ulimit": true, "trap": true,
	"alias": true, "unalias": true, "source": true, ".": true, "exec": true,
	"exit": true, "return": true, "read": true, "readarray": true, "mapfile": true,
	"getopts": true, "shift": true, "hash": true, "eval": true, "enable": true,
	"bind": true, "declare": true, "typeset": true, "local": true, "readonly": true,
	"let": true, "wait": true, "builtin": true, "command": true, "disown": true,
	"suspend": true, "dirs": true, "logout": true, "times": true, "fc": true,
	"history": true, "jobs": true, "fg": true, "bg": true, "nameref": true,
}

// Shape returns the shape of a RUN whose program dfopt parsed; ok is false
// for any other RUN.
func (r *Run) Shape() (s Shape, ok bool) {
	if !r.Editable || r.In == nil || r.In.Shell == nil {
		return Shape{}, false
	}
	f := r.In.Shell.File
	for _, c := range r.Cmds {
		if c.Background {
			s.Background = true
		}
		if !c.InShell {
			// A command in a shell of its own changes nothing here, but a
			// set -e or trap in a subshell still decides where it stops.
			s.Errexit = s.Errexit || setsErrexit(c)
			continue
		}
		switch {
		case c.Name == "" || c.Opaque && (c.Name == "source" || c.Name == "." || c.Name == "eval"):
			s.Leaks = true
		case stateBuiltins[c.Name]:
			s.Leaks = true
		}
		if c.Name == "exit" || c.Name == "return" || c.Exec || c.Name == "exec" {
			s.EndsShell = true
			s.Leaks = true // exec replaces the shell: nothing joined after it would run
		}
		s.Errexit = s.Errexit || setsErrexit(c)
	}
	for _, a := range r.Assigns {
		if a.InShell {
			s.Leaks = true
		}
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Stmt:
			if n.Background || n.Coprocess || n.Disown {
				s.Background = true
			}
		case *syntax.CoprocClause:
			s.Background = true
		case *syntax.FuncDecl, *syntax.ForClause, *syntax.LetClause, *syntax.TestDecl:
			s.Leaks = true
		case *syntax.ParamExp:
			if n.Exp != nil && (n.Exp.Op == syntax.AssignUnset || n.Exp.Op == syntax.AssignUnsetOrNull) {
				s.Leaks = true // ${x=v} assigns x, wherever it stands
			}
		case *syntax.BinaryArithm:
			if isArithmAssign(n.Op) {
				s.Leaks = true
			}
		case *syntax.UnaryArithm:
			if n.Op == syntax.Inc || n.Op == syntax.Dec {
				s.Leaks = true
			}
		case *syntax.CallExpr:
			if len(n.Args) > 0 {
				s.Commands++
			}
		}
		if pe, ok := n.(*syntax.ParamExp); ok && pe.Param != nil && introspective[pe.Param.Value] {
			s.Introspects = true
		}
		return true
	})
	if strings.Contains(r.In.Shell.Text, "/proc/self") || strings.Contains(r.In.Shell.Text, "/proc/$$") ||
		strings.Contains(r.In.Shell.Text, "/proc/${$}") || strings.Contains(r.In.Shell.Text, "/dev/fd") {
		s.Introspects = true
	}
	s.Chain, s.Plain = chainShape(f)
	s.TrailingEscape = endsInEscape(r.In.Shell.Text)
	return s, true
}

// setsErrexit tells whether a command sets errexit or errtrace, or a trap.
func setsErrexit(c *Cmd) bool {
	switch c.Name {
	case "trap":
		return true
	case "set", "shopt":
		for _, a := range c.Args {
			v, ok := a.Value()
			switch {
			case !ok:
				return true
			case v == "errexit" || v == "errtrace" || v == "inherit_errexit":
				return true
			case (strings.HasPrefix(v, "-") || strings.HasPrefix(v, "+")) && !strings.HasPrefix(v, "--") && strings.ContainsAny(v[1:], "eE"):
				return true
			}
		}
	}
	return false
}

func isArithmAssign(op syntax.BinAritOperator) bool {
	switch op {
	case syntax.Assgn, syntax.AddAssgn, syntax.SubAssgn, syntax.MulAssgn, syntax.QuoAssgn,
		syntax.RemAssgn, syntax.AndAssgn, syntax.OrAssgn, syntax.XorAssgn, syntax.ShlAssgn, syntax.ShrAssgn:
		return true
	}
	return false
}

// chainShape tells whether the program is one statement of && links
// (chain), and whether those links are pipelines of simple commands
// (plain).
func chainShape(f *syntax.File) (chain, plain bool) {
	if len(f.Stmts) != 1 {
		return false, false
	}
	plain = true
	var link func(s *syntax.Stmt) bool
	link = func(s *syntax.Stmt) bool {
		if s.Background || s.Coprocess || s.Disown {
			return false
		}
		switch c := s.Cmd.(type) {
		case *syntax.BinaryCmd:
			switch c.Op {
			case syntax.AndStmt:
				return link(c.X) && link(c.Y)
			case syntax.Pipe, syntax.PipeAll:
				pipePlain(c.X, &plain)
				pipePlain(c.Y, &plain)
				return true
			}
			return false
		case *syntax.CallExpr, *syntax.DeclClause:
			return true
		case *syntax.FuncDecl:
			return false
		default:
			plain = false
			return true
		}
	}
	chain = link(f.Stmts[0])
	return chain, chain && plain
}

func pipePlain(s *syntax.Stmt, plain *bool) {
	switch c := s.Cmd.(type) {
	case *syntax.BinaryCmd:
		if c.Op != syntax.Pipe && c.Op != syntax.PipeAll {
			*plain = false
			return
		}
		pipePlain(c.X, plain)
		pipePlain(c.Y, plain)
	case *syntax.CallExpr, *syntax.DeclClause:
	default:
		*plain = false
	}
}

// endsInEscape tells whether text ends in an odd run of backslashes (after
// trailing blanks): joining text after it would make the backslash escape
// the first joined character.
func endsInEscape(text string) bool {
	t := strings.TrimRight(text, " \t\r\n")
	n := len(t) - len(strings.TrimRight(t, `\`))
	return n%2 == 1
}

// TrailingComment returns the shell comment that ends the program, if any.
func TrailingComment(f *syntax.File) (syntax.Comment, bool) {
	var last syntax.Comment
	found := false
	syntax.Walk(f, func(n syntax.Node) bool {
		if c, ok := n.(*syntax.Comment); ok && (!found || c.Pos().Offset() > last.Pos().Offset()) {
			last, found = *c, true
		}
		return true
	})
	return last, found
}
