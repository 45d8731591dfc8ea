package rules

import (
	"mvdan.cc/sh/v3/syntax"
)

// stateBuiltins change the shell that runs them (directory, variables, options,
// traps, limits, functions, aliases, descriptors) or end it. A command after
// them in the same shell sees the change; in a RUN of its own it would not.
var stateBuiltins = map[string]bool{
	"cd": true, "pushd": true, "popd": true, "export": true, "unset": true,
	"set": true, "shopt": true, "umask": true, "ulimit": true, "trap": true,
	"alias": true, "unalias": true, "source": true, ".": true, "exec": true,
	"exit": true, "return": true, "read": true, "readarray": true, "mapfile": true,
	"getopts": true, "shift": true, "hash": true, "eval": true, "enable": true,
	"bind": true, "declare": true, "typeset": true, "local": true, "readonly": true,
	"let": true, "wait": true, "builtin": true, "command": true, "disown": true,
	"suspend": true, "dirs": true, "logout": true, "times": true, "fc": true,
	"history": true, "jobs": true, "fg": true, "bg": true, "kill": false,
}

// shellEffects tells what a RUN's program does to the shell running it:
// leaks when it changes state a following command would see (a top-level cd,
// export, assignment, set, function, exit, ...), background when it leaves a
// job running (&, coproc), which no merge can keep apart.
func shellEffects(f *syntax.File) (leaks, background bool) {
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Stmt:
			if n.Background || n.Coprocess || n.Disown {
				background = true
			}
		case *syntax.CoprocClause:
			background = true
		case *syntax.ParamExp:
			if n.Exp != nil && (n.Exp.Op == syntax.AssignUnset || n.Exp.Op == syntax.AssignUnsetOrNull) {
				leaks = true // ${x=v} assigns x, wherever it stands
			}
		case *syntax.BinaryArithm:
			if isArithmAssign(n.Op) {
				leaks = true
			}
		case *syntax.UnaryArithm:
			if n.Op == syntax.Inc || n.Op == syntax.Dec {
				leaks = true
			}
		}
		return true
	})
	for _, s := range f.Stmts {
		if stmtLeaks(s) {
			leaks = true
		}
	}
	return leaks, background
}

func isArithmAssign(op syntax.BinAritOperator) bool {
	switch op {
	case syntax.Assgn, syntax.AddAssgn, syntax.SubAssgn, syntax.MulAssgn, syntax.QuoAssgn,
		syntax.RemAssgn, syntax.AndAssgn, syntax.OrAssgn, syntax.XorAssgn, syntax.ShlAssgn, syntax.ShrAssgn:
		return true
	}
	return false
}

// stmtLeaks walks the commands that run in the current shell: through lists,
// && and ||, blocks, if, while, case; not into subshells, pipelines or
// command substitutions, which run in shells of their own.
func stmtLeaks(s *syntax.Stmt) bool {
	switch c := s.Cmd.(type) {
	case nil:
		return false
	case *syntax.CallExpr:
		if len(c.Args) == 0 {
			return len(c.Assigns) > 0 // a plain assignment
		}
		name := c.Args[0].Lit()
		if name == "" {
			return true // a command named by an expansion could be anything
		}
		return stateBuiltins[name]
	case *syntax.BinaryCmd:
		if c.Op == syntax.Pipe || c.Op == syntax.PipeAll {
			return false
		}
		return stmtLeaks(c.X) || stmtLeaks(c.Y)
	case *syntax.Block:
		return anyLeaks(c.Stmts)
	case *syntax.Subshell:
		return false
	case *syntax.IfClause:
		for ic := c; ic != nil; ic = ic.Else {
			if anyLeaks(ic.Cond) || anyLeaks(ic.Then) {
				return true
			}
		}
		return false
	case *syntax.WhileClause:
		return anyLeaks(c.Cond) || anyLeaks(c.Do)
	case *syntax.CaseClause:
		for _, item := range c.Items {
			if anyLeaks(item.Stmts) {
				return true
			}
		}
		return false
	case *syntax.TimeClause:
		return c.Stmt != nil && stmtLeaks(c.Stmt)
	case *syntax.TestClause:
		return false
	default:
		// for (assigns its variable), function definitions, let, declare,
		// (( )), select and anything newer: they change the shell.
		return true
	}
}

func anyLeaks(stmts []*syntax.Stmt) bool {
	for _, s := range stmts {
		if stmtLeaks(s) {
			return true
		}
	}
	return false
}

// andChainOnly tells whether the program is one statement that is a chain of
// pipelines joined by && alone, so that "C && program" runs it only when C
// succeeds and returns its status. Anything else (;, ||, several statements)
// needs a group when && goes in front of it.
func andChainOnly(f *syntax.File) bool {
	if len(f.Stmts) != 1 {
		return false
	}
	var chain func(s *syntax.Stmt) bool
	chain = func(s *syntax.Stmt) bool {
		if s.Background || s.Coprocess || s.Disown {
			return false
		}
		b, ok := s.Cmd.(*syntax.BinaryCmd)
		if !ok {
			return true
		}
		switch b.Op {
		case syntax.AndStmt:
			return chain(b.X) && chain(b.Y)
		case syntax.Pipe, syntax.PipeAll:
			return true
		}
		return false
	}
	return chain(f.Stmts[0])
}

// trailingComment returns the shell comment that ends the program, if any.
func trailingComment(f *syntax.File) (syntax.Comment, bool) {
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
