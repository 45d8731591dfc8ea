package rewrite

import (
	"slices"
	"strings"
)

// ignores holds the ignore comments of a document. They are read here, once,
// so that rules never see them.
type ignores struct {
	global []string         // rule names and hadolint IDs ignored everywhere
	byInst map[int][]string // per instruction start line
}

// ignoresOf reads `# dfopt ignore=…` and `# hadolint ignore=…` from the comment
// block right above each instruction, and their `global` forms from the
// comments before the first instruction.
func ignoresOf(d *Document) ignores {
	ig := ignores{byInst: map[int][]string{}}
	first := d.Lines() + 1
	if len(d.Instructions) > 0 {
		first = d.Instructions[0].StartLine
	}
	for ln := 1; ln < first; ln++ {
		if names, global := ignoreComment(d.LineText(ln)); global {
			ig.global = append(ig.global, names...)
		}
	}
	for _, in := range d.Instructions {
		for ln := d.CommentBlockStart(in); ln < in.StartLine; ln++ {
			if names, global := ignoreComment(d.LineText(ln)); !global {
				ig.byInst[in.StartLine] = append(ig.byInst[in.StartLine], names...)
			}
		}
	}
	return ig
}

// CommentBlockStart returns the first line of the comment block right above
// an instruction (no blank line between, nothing of another instruction), or
// the instruction's own first line when there is none. The block belongs to
// the instruction: ignore comments read it, rules that move the instruction
// take it along.
func (d *Document) CommentBlockStart(in *Instruction) int {
	ln := in.StartLine
	for ln > 1 && strings.HasPrefix(strings.TrimSpace(d.LineText(ln-1)), "#") && !isInsideInstruction(d, ln-1) {
		ln--
	}
	return ln
}

// isInsideInstruction tells whether line ln lies in an instruction's span
// (a comment inside a continuation or a heredoc body).
func isInsideInstruction(d *Document, ln int) bool {
	_, found := slices.BinarySearchFunc(d.Instructions, ln, func(in *Instruction, ln int) int {
		switch {
		case in.EndLine < ln:
			return -1
		case in.StartLine > ln:
			return 1
		}
		return 0
	})
	return found
}

// ignoreComment parses one comment line. It returns the names it ignores and
// whether it is a global ignore.
func ignoreComment(line string) (names []string, global bool) {
	text := strings.TrimSpace(line)
	if !strings.HasPrefix(text, "#") {
		return nil, false
	}
	fields := strings.Fields(strings.TrimSpace(text[1:]))
	if len(fields) < 2 || fields[0] != "dfopt" && fields[0] != "hadolint" {
		return nil, false
	}
	rest := fields[1:]
	if rest[0] == "global" {
		global = true
		rest = rest[1:]
	}
	// Names may be written "a,b" or "a, b".
	joined := strings.Join(rest, "")
	list, ok := strings.CutPrefix(joined, "ignore=")
	if !ok {
		return nil, false
	}
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names, global
}

// suppresses tells whether an ignore comment switches rule r off for finding f:
// at the finding's line or at any instruction its edits touch.
func (ig ignores) suppresses(d *Document, r *Rule, f Finding) bool {
	if ig.covers(ig.global, r) {
		return true
	}
	touched := func(in *Instruction) bool {
		if f.Line >= in.StartLine && f.Line <= in.EndLine {
			return true
		}
		for _, e := range f.Edits {
			if e.Start < in.End && in.Start < e.End || e.Start == e.End && e.Start == in.Start {
				return true
			}
		}
		return false
	}
	for _, in := range d.Instructions {
		if names := ig.byInst[in.StartLine]; len(names) > 0 && touched(in) && ig.covers(names, r) {
			return true
		}
	}
	return false
}

func (ignores) covers(names []string, r *Rule) bool {
	for _, n := range names {
		if strings.EqualFold(n, r.Name) || n == "all" || slices.ContainsFunc(r.Hadolint, func(id string) bool { return strings.EqualFold(id, n) }) {
			return true
		}
	}
	return false
}
