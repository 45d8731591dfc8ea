package rules

import (
	"slices"
	"strings"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"mvdan.cc/sh/v3/syntax"
)

// Helpers that turn positions in a RUN's shell program into edits of the
// Dockerfile source. Positions in the program are offsets into in.Args; the
// instruction's source map takes them through continuations and comment
// lines. Every rule edits RUNs through these, so that an edit keeps the
// program's meaning the same way everywhere.

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

// insertAfterArg inserts text after argument i of a command of the RUN's
// own words; ok is false when the command's words are not the source's.
func insertAfterArg(in *rewrite.Instruction, c *runmodel.Cmd, i int, text string) (rewrite.Edit, bool) {
	w := c.Word(i)
	if w == nil {
		return rewrite.Edit{}, false
	}
	return insertAfter(in, w.End(), text), true
}

// shippedRuns lists the shell-form RUNs of the stages that end up in the
// image (see rewrite.Document.Shipping), in order.
func shippedRuns(d *rewrite.Document) []*rewrite.Instruction {
	ship := d.Shipping()
	var out []*rewrite.Instruction
	for _, st := range d.Stages {
		if !ship[st] {
			continue
		}
		for _, in := range st.Instructions {
			if in.Keyword == "run" && in.Shell != nil {
				out = append(out, in)
			}
		}
	}
	return out
}

// addRunFlags returns the edit that puts BuildKit flags (--mount=...) right
// after the RUN keyword.
func addRunFlags(d *rewrite.Document, in *rewrite.Instruction, flags ...string) rewrite.Edit {
	_, kwEnd := d.KeywordSpan(in)
	return rewrite.Edit{Start: kwEnd, End: kwEnd, New: " " + strings.Join(flags, " ")}
}

// cacheMountFlag is the BuildKit flag for a cache mount on dir.
func cacheMountFlag(dir string) string {
	return "--mount=type=cache,target=" + dir + ",sharing=locked"
}

// canAppend tells whether a command put after the whole program of a RUN,
// joined with &&, runs once the program has done all it does: not when the
// program may end its shell before its end (exit, exec), leaves a job
// running, has a trap that would run after the new command, or ends in a
// backslash that would escape what is joined to it.
func canAppend(r *runmodel.Run) bool {
	s, ok := r.Shape()
	if !ok || s.Background || s.EndsShell || s.TrailingEscape {
		return false
	}
	for _, c := range r.Cmds {
		if c.Name == "trap" {
			return false
		}
	}
	return len(r.In.Shell.File.Stmts) > 0
}

// appendCommand returns the edit that runs cmd after the whole program of a
// RUN, when it succeeded: " \" + newline + "    && cmd", put before a
// trailing ";" and before a trailing comment, in the file's escape token.
// ok is false where that cannot keep the program's meaning (see canAppend).
func appendCommand(d *rewrite.Document, r *runmodel.Run, cmd string) (rewrite.Edit, bool) {
	if !canAppend(r) {
		return rewrite.Edit{}, false
	}
	in := r.In
	f := in.Shell.File
	last := f.Stmts[len(f.Stmts)-1]
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

// prependCommand returns the edits that run pre (a command line) right
// before command c, only when c's statement runs, keeping the precedence of
// the && and || list around it: "pre && " in front of c's pipeline, which
// goes in braces ("a || { pre && c; }") when || comes before it. Wrappers in
// front of c (sudo, env, assignments) are put in front of pre too. ok is
// false when c is not of the RUN's own words, or runs through xargs, find or
// a string.
func prependCommand(in *rewrite.Instruction, c *runmodel.Cmd, pre string) ([]rewrite.Edit, bool) {
	if !c.Own || c.Call == nil || c.MoreArgs || c.Prog.Node == nil || in.Shell == nil {
		return nil, false
	}
	for _, v := range c.Via {
		if v != "sudo" && v != "env" && v != "nice" && v != "nohup" && v != "eatmydata" && v != "time" && v != "timeout" {
			return nil, false
		}
	}
	items, ops, k := andOrOf(in.Shell.File, c.Call)
	if k < 0 {
		return nil, false
	}
	wrap := string(in.Shell.Text[c.Call.Pos().Offset():c.Prog.Node.Pos().Offset()])
	text := wrap + pre + " && "
	item := items[k]
	if k > 0 && ops[k-1] == syntax.OrStmt {
		return []rewrite.Edit{
			insertAt(in, item.Pos(), "{ "+text),
			insertAfter(in, stmtEnd(item), "; }"),
		}, true
	}
	return []rewrite.Edit{insertAt(in, item.Pos(), text)}, true
}

// andOrOf finds the && and || list that holds a call as one of its items
// (the pipelines it joins): the items, the operators between them, and the
// index of the call's item; k is -1 when the call is not found so (it is in
// a command substitution, say).
func andOrOf(f *syntax.File, call *syntax.CallExpr) (items []*syntax.Stmt, ops []syntax.BinCmdOperator, k int) {
	var list func(stmts []*syntax.Stmt) bool
	var compound func(s *syntax.Stmt) bool
	list = func(stmts []*syntax.Stmt) bool {
		for _, s := range stmts {
			var its []*syntax.Stmt
			var os []syntax.BinCmdOperator
			flattenAndOr(s, &its, &os)
			for i, it := range its {
				if direct(it, call) {
					items, ops, k = its, os, i
					return true
				}
				if compound(it) {
					return true
				}
			}
		}
		return false
	}
	compound = func(s *syntax.Stmt) bool {
		switch c := s.Cmd.(type) {
		case *syntax.BinaryCmd:
			return compound(c.X) || compound(c.Y)
		case *syntax.Block:
			return list(c.Stmts)
		case *syntax.Subshell:
			return list(c.Stmts)
		case *syntax.IfClause:
			for ic := c; ic != nil; ic = ic.Else {
				if list(ic.Cond) || list(ic.Then) {
					return true
				}
			}
		case *syntax.WhileClause:
			return list(c.Cond) || list(c.Do)
		case *syntax.ForClause:
			return list(c.Do)
		case *syntax.CaseClause:
			for _, it := range c.Items {
				if list(it.Stmts) {
					return true
				}
			}
		case *syntax.TimeClause:
			return c.Stmt != nil && compound(c.Stmt)
		}
		return false
	}
	k = -1
	if !list(f.Stmts) {
		return nil, nil, -1
	}
	return items, ops, k
}

// flattenAndOr splits a statement into the items of its && and || list.
func flattenAndOr(s *syntax.Stmt, items *[]*syntax.Stmt, ops *[]syntax.BinCmdOperator) {
	if b, ok := s.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.AndStmt || b.Op == syntax.OrStmt) && !s.Negated && len(s.Redirs) == 0 && !s.Background {
		flattenAndOr(b.X, items, ops)
		*ops = append(*ops, b.Op)
		flattenAndOr(b.Y, items, ops)
		return
	}
	*items = append(*items, s)
}

// direct tells whether a pipeline item runs the call itself: the item is
// the call, or a pipeline with the call as one of its parts.
func direct(s *syntax.Stmt, call *syntax.CallExpr) bool {
	switch c := s.Cmd.(type) {
	case *syntax.CallExpr:
		return c == call
	case *syntax.BinaryCmd:
		return (c.Op == syntax.Pipe || c.Op == syntax.PipeAll) && holdsDirect(c, call)
	case *syntax.TimeClause:
		return c.Stmt != nil && direct(c.Stmt, call)
	}
	return false
}

func holdsDirect(b *syntax.BinaryCmd, call *syntax.CallExpr) bool {
	for _, s := range []*syntax.Stmt{b.X, b.Y} {
		switch c := s.Cmd.(type) {
		case *syntax.CallExpr:
			if c == call {
				return true
			}
		case *syntax.BinaryCmd:
			if (c.Op == syntax.Pipe || c.Op == syntax.PipeAll) && holdsDirect(c, call) {
				return true
			}
		}
	}
	return false
}

// overlapsEdits tells whether an edit of b overlaps one of a, or starts where
// it starts (the order of the two would be undefined).
func overlapsEdits(a, b []rewrite.Edit) bool {
	for _, x := range a {
		for _, y := range b {
			if x.Start < y.End && y.Start < x.End || x.Start == y.Start {
				return true
			}
		}
	}
	return false
}

// coalesceEdits joins insertions at the same place into one, in the order
// they were made, so that the pipeline's sort cannot swap them.
func coalesceEdits(edits []rewrite.Edit) []rewrite.Edit {
	var out []rewrite.Edit
	for _, e := range edits {
		joined := false
		for i := range out {
			if out[i].Start == e.Start && out[i].End == e.Start && e.End == e.Start {
				out[i].New += e.New
				joined = true
				break
			}
		}
		if !joined {
			out = append(out, e)
		}
	}
	return out
}

// removeCommand returns the edits that take a simple command out of a RUN's
// program together with the && or ; that joins it to its neighbour, so that
// what remains runs the same commands in the same way. It handles a command
// that is a statement of the program's top level or a link of a top-level
// && chain; elsewhere (if, ||, a pipe, a subshell), or alone in the program,
// it gives false.
//
// Comment lines of the continuation right above the command go with it: in
// both the leading and the trailing && layouts they are about it.
func removeCommand(d *rewrite.Document, in *rewrite.Instruction, call *syntax.CallExpr) ([]rewrite.Edit, bool) {
	f := in.Shell.File
	stmts := f.Stmts
	for i, s := range stmts {
		if s.Cmd == call {
			if !plainStmt(s) || len(stmts) < 2 {
				return nil, false
			}
			if i < len(stmts)-1 {
				return removeFirst(d, in, s.Pos(), s.End(), stmts[i+1].Pos(), syntax.Pos{}), true
			}
			prev := stmts[i-1]
			if !prev.Semicolon.IsValid() || prev.Background || prev.Coprocess || prev.Disown {
				return nil, false
			}
			return []rewrite.Edit{{Start: srcPos(in, prev.Semicolon), End: srcEndPos(in, s.End())}}, true
		}
		if !plainStmt(s) {
			continue
		}
		links, ops := andLinks(s)
		k := slices.IndexFunc(links, func(l *syntax.Stmt) bool { return l.Cmd == call })
		if k < 0 || len(links) < 2 {
			continue
		}
		if !plainStmt(links[k]) {
			return nil, false
		}
		if k == 0 {
			return removeFirst(d, in, links[0].Pos(), links[0].End(), links[1].Pos(), ops[0]), true
		}
		return []rewrite.Edit{{Start: srcEndPos(in, links[k-1].End()), End: srcEndPos(in, links[k].End())}}, true
	}
	return nil, false
}

// removeFirst takes out a command (from start to end) that the next one
// (at next) follows: everything up to the next command goes, unless comment
// lines stand in between, which are about the next command; then only the
// command and its joiner op (the && at op, or the ; its end includes) go,
// with the blanks after them.
func removeFirst(d *rewrite.Document, in *rewrite.Instruction, start, end, next, op syntax.Pos) []rewrite.Edit {
	s, n := srcPos(in, start), srcPos(in, next)
	if !hasCommentLine(d, s, n) {
		return []rewrite.Edit{{Start: s, End: n}}
	}
	edits := []rewrite.Edit{{Start: s, End: skipBlanks(d, srcEndPos(in, end))}}
	if op.IsValid() {
		o := srcPos(in, op)
		edits = append(edits, rewrite.Edit{Start: o, End: skipBlanks(d, o+len("&&"))})
	}
	return edits
}

// andLinks splits a statement that is a chain of && into its links and the
// positions of the && between them.
func andLinks(s *syntax.Stmt) ([]*syntax.Stmt, []syntax.Pos) {
	b, ok := s.Cmd.(*syntax.BinaryCmd)
	if !ok || b.Op != syntax.AndStmt || s != nil && (s.Negated || len(s.Redirs) > 0) {
		return []*syntax.Stmt{s}, nil
	}
	lx, ox := andLinks(b.X)
	ly, oy := andLinks(b.Y)
	ops := append(append(ox, b.OpPos), oy...)
	return append(lx, ly...), ops
}

// plainStmt tells whether a statement runs its command as is: not negated,
// not in the background, without redirections.
func plainStmt(s *syntax.Stmt) bool {
	return !s.Negated && !s.Background && !s.Coprocess && !s.Disown && len(s.Redirs) == 0
}

// hasCommentLine tells whether a comment line of the source starts inside
// [start, end).
func hasCommentLine(d *rewrite.Document, start, end int) bool {
	for ln := d.LineOf(start) + 1; ln <= d.Lines() && d.LineStart(ln) < end; ln++ {
		if strings.HasPrefix(strings.TrimLeft(d.LineText(ln), " \t"), "#") {
			return true
		}
	}
	return false
}

// skipBlanks returns the offset after the spaces and tabs at off.
func skipBlanks(d *rewrite.Document, off int) int {
	for off < len(d.Src) && (d.Src[off] == ' ' || d.Src[off] == '\t') {
		off++
	}
	return off
}

// mayBeIgnored tells whether an ignore comment (of any rule) may stand right
// above the instruction, so that a rule cannot count on its own edit of it.
func mayBeIgnored(d *rewrite.Document, in *rewrite.Instruction) bool {
	for ln := in.StartLine - 1; ln >= 1; ln-- {
		text := strings.TrimSpace(d.LineText(ln))
		if !strings.HasPrefix(text, "#") {
			break
		}
		if strings.Contains(text, "ignore") {
			return true
		}
	}
	for ln := 1; len(d.Instructions) > 0 && ln < d.Instructions[0].StartLine; ln++ {
		if text := strings.TrimSpace(d.LineText(ln)); strings.HasPrefix(text, "#") && strings.Contains(text, "ignore") {
			return true
		}
	}
	return false
}
