package rules

import (
	"encoding/csv"
	"strings"

	"github.com/dfopt/dfopt/rewrite"
	"mvdan.cc/sh/v3/syntax"
)

// Helpers that turn positions in a RUN's shell program into edits of the
// Dockerfile source. Positions in the program are offsets into in.Args; the
// instruction's source map takes them through continuations and comment lines.

// srcPos is the source offset of a position in the RUN's program.
func srcPos(in *rewrite.Instruction, p syntax.Pos) int {
	return in.SrcOffset(in.ArgsOff + int(p.Offset()))
}

// srcEndPos is the source offset just after a node that ends at p.
func srcEndPos(in *rewrite.Instruction, p syntax.Pos) int {
	return in.SrcEnd(in.ArgsOff + int(p.Offset()))
}

// insertAt returns an edit that inserts text at a position of the program.
func insertAt(in *rewrite.Instruction, p syntax.Pos, text string) rewrite.Edit {
	at := srcPos(in, p)
	return rewrite.Edit{Start: at, End: at, New: text}
}

// insertAfter returns an edit that inserts text just after a node ending at p.
func insertAfter(in *rewrite.Instruction, p syntax.Pos, text string) rewrite.Edit {
	at := srcEndPos(in, p)
	return rewrite.Edit{Start: at, End: at, New: text}
}

// stmtOf returns the statement of the program's current shell that holds a
// command: the one to put a command in front of with "X && ". A command inside
// a pipeline gives the whole pipeline's statement.
func stmtOf(f *syntax.File, call *syntax.CallExpr) *syntax.Stmt {
	var found *syntax.Stmt
	var visit func(s *syntax.Stmt, top *syntax.Stmt)
	visit = func(s *syntax.Stmt, top *syntax.Stmt) {
		if s == nil || found != nil {
			return
		}
		if top == nil {
			top = s
		}
		switch c := s.Cmd.(type) {
		case *syntax.CallExpr:
			if c == call {
				found = top
			}
		case *syntax.BinaryCmd:
			if c.Op == syntax.Pipe || c.Op == syntax.PipeAll {
				visit(c.X, top)
				visit(c.Y, top)
			} else {
				visit(c.X, nil)
				visit(c.Y, nil)
			}
		case *syntax.Block:
			visitAll(c.Stmts, visit)
		case *syntax.Subshell:
			visitAll(c.Stmts, visit)
		case *syntax.IfClause:
			for ic := c; ic != nil; ic = ic.Else {
				visitAll(ic.Cond, visit)
				visitAll(ic.Then, visit)
			}
		case *syntax.WhileClause:
			visitAll(c.Cond, visit)
			visitAll(c.Do, visit)
		case *syntax.ForClause:
			visitAll(c.Do, visit)
		case *syntax.CaseClause:
			for _, it := range c.Items {
				visitAll(it.Stmts, visit)
			}
		case *syntax.TimeClause:
			visit(c.Stmt, top)
		}
	}
	for _, s := range f.Stmts {
		visit(s, nil)
	}
	return found
}

func visitAll(stmts []*syntax.Stmt, visit func(s, top *syntax.Stmt)) {
	for _, s := range stmts {
		visit(s, nil)
	}
}

// appendCommand returns the edit that runs cmd after the whole program of a
// RUN, when it succeeded: " \" + newline + "    && cmd", put before a
// trailing ";" and before a trailing comment. ok is false where that cannot
// keep the program's meaning: a last statement in the background, or a program
// that ends its shell with exit or exec at the top level.
func appendCommand(d *rewrite.Document, in *rewrite.Instruction, cmd string) (rewrite.Edit, bool) {
	f := in.Shell.File
	if len(f.Stmts) == 0 {
		return rewrite.Edit{}, false
	}
	last := f.Stmts[len(f.Stmts)-1]
	if last.Background || last.Coprocess || last.Disown || endsShell(f) {
		return rewrite.Edit{}, false
	}
	end := srcEndPos(in, stmtEnd(last))
	return rewrite.Edit{Start: end, End: end, New: " " + string(d.Escape) + "\n    && " + cmd}, true
}

// stmtEnd is where a statement's command and redirections end, before a ";"
// or "&" that closes it.
func stmtEnd(s *syntax.Stmt) syntax.Pos {
	if !s.Semicolon.IsValid() {
		return s.End()
	}
	end := s.Position
	if s.Cmd != nil {
		end = s.Cmd.End()
	}
	for _, r := range s.Redirs {
		if r.End().Offset() > end.Offset() {
			end = r.End()
		}
	}
	return end
}

// endsShell tells whether the program's top level runs exit or exec, after
// which an appended command would not run.
func endsShell(f *syntax.File) bool {
	for _, s := range f.Stmts {
		var names []string
		var walk func(s *syntax.Stmt)
		walk = func(s *syntax.Stmt) {
			switch c := s.Cmd.(type) {
			case *syntax.CallExpr:
				if len(c.Args) > 0 {
					names = append(names, c.Args[0].Lit())
				}
			case *syntax.BinaryCmd:
				if c.Op != syntax.Pipe && c.Op != syntax.PipeAll {
					walk(c.X)
					walk(c.Y)
				}
			case *syntax.Block:
				for _, s := range c.Stmts {
					walk(s)
				}
			}
		}
		walk(s)
		for _, n := range names {
			if n == "exit" || n == "exec" {
				return true
			}
		}
	}
	return false
}

// runCommands lists the simple commands of a program with their nodes, in
// source order, for rules that edit them.
func runCommands(f *syntax.File) []*syntax.CallExpr {
	var out []*syntax.CallExpr
	syntax.Walk(f, func(n syntax.Node) bool {
		if c, ok := n.(*syntax.CallExpr); ok && len(c.Args) > 0 {
			out = append(out, c)
		}
		return true
	})
	return out
}

// callCommand reads a call as a command (see commandsOf).
func callCommand(c *syntax.CallExpr) command {
	cmd := command{name: baseName(c.Args[0].Lit())}
	for _, w := range c.Args[1:] {
		cmd.args = append(cmd.args, w.Lit())
	}
	return cmd
}

func baseName(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// verbIndex returns the index in c.Args of the package manager's verb (the
// first word after the name that is not a flag), or -1.
func verbIndex(c *syntax.CallExpr) int {
	start := 1
	if n := baseName(c.Args[0].Lit()); (n == "python" || n == "python3") && len(c.Args) > 2 && c.Args[1].Lit() == "-m" {
		start = 3 // python -m pip VERB
	}
	for i := start; i < len(c.Args); i++ {
		if w := c.Args[i].Lit(); w != "" && !strings.HasPrefix(w, "-") {
			return i
		}
	}
	return -1
}

// hasWord tells whether any word of the call is one of words (or starts with
// one of them followed by "=").
func hasWord(c *syntax.CallExpr, words ...string) bool {
	for _, a := range c.Args[1:] {
		lit := a.Lit()
		for _, w := range words {
			if lit == w || strings.HasPrefix(lit, w+"=") {
				return true
			}
		}
	}
	return false
}

// addRunFlags returns the edit that puts BuildKit flags (--mount=...) right
// after the RUN keyword.
func addRunFlags(d *rewrite.Document, in *rewrite.Instruction, flags ...string) rewrite.Edit {
	_, kwEnd := d.KeywordSpan(in)
	return rewrite.Edit{Start: kwEnd, End: kwEnd, New: " " + strings.Join(flags, " ")}
}

// parseMount reads the value of one RUN --mount flag (type=cache,target=/x,…)
// as BuildKit does: CSV fields, type bind by default. ok is false when it is
// not valid CSV. instructions.GetMounts is of no use here: it leaves targets
// empty until the build expands variables.
func parseMount(spec string) (typ, target string, ok bool) {
	fields, err := csv.NewReader(strings.NewReader(spec)).Read()
	if err != nil {
		return "", "", false
	}
	typ = "bind"
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		switch strings.ToLower(k) {
		case "type":
			typ = strings.ToLower(v)
		case "target", "dst", "destination":
			target = v
		}
	}
	return typ, target, true
}
