package rewrite

import (
	"slices"
	"strings"
)

// ignores holds the ignore comments of a document. They are read here, once,
// so that rules never see them.
type ignores struct {
	global []ignore         // ignored everywhere
	byInst map[int][]ignore // per instruction start line
}

// ignore is one ignore comment: the rule names and hadolint IDs it switches
// off, and the reason it gives after ";reason=", if any.
type ignore struct {
	names  []string
	reason string
}

// Suppression is a finding that an ignore comment switched off. Source keeps
// them so that output can show what was silenced and why.
type Suppression struct {
	Rule    string
	Line    int    // the finding's line in the input
	Message string // what the rule would have reported
	Reason  string // the comment's ";reason=", "" when it gives none
}

type ignoresKey struct{}

// ignoresOf returns the ignore comments of a document, read once for every
// rule that runs on it.
func ignoresOf(d *Document) ignores {
	return d.Fact(ignoresKey{}, func() any { return readIgnores(d) }).(ignores)
}

// readIgnores reads `# dfopt ignore=…` and `# hadolint ignore=…` from the
// comment block right above each instruction, and their `global` forms from
// the comments before the first instruction.
func readIgnores(d *Document) ignores {
	ig := ignores{byInst: map[int][]ignore{}}
	first := d.Lines() + 1
	if len(d.Instructions) > 0 {
		first = d.Instructions[0].StartLine
	}
	for ln := 1; ln < first; ln++ {
		if c, global := ignoreComment(d.LineText(ln)); global {
			ig.global = append(ig.global, c)
		}
	}
	for _, in := range d.Instructions {
		for ln := d.CommentBlockStart(in); ln < in.StartLine; ln++ {
			if c, global := ignoreComment(d.LineText(ln)); !global && len(c.names) > 0 {
				ig.byInst[in.StartLine] = append(ig.byInst[in.StartLine], c)
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

// ignoreComment parses one comment line: "# dfopt ignore=NAME[,NAME]",
// "# dfopt global ignore=…" or the same after "# hadolint", each optionally
// followed by ";reason=TEXT". It returns what the comment ignores and whether
// it is a global ignore. A part after ";" other than a reason is left out, so
// that a comment written for another tool's syntax still ignores its names.
func ignoreComment(line string) (c ignore, global bool) {
	text := strings.TrimSpace(line)
	if !strings.HasPrefix(text, "#") {
		return ignore{}, false
	}
	head, tail, _ := strings.Cut(text[1:], ";")
	fields := strings.Fields(head)
	if len(fields) < 2 || fields[0] != "dfopt" && fields[0] != "hadolint" {
		return ignore{}, false
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
		return ignore{}, false
	}
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			c.names = append(c.names, n)
		}
	}
	if key, value, ok := strings.Cut(tail, "="); ok && strings.TrimSpace(key) == "reason" {
		c.reason = strings.TrimSpace(value)
	}
	return c, global
}

// suppresses tells whether an ignore comment switches rule r off for finding f:
// at the finding's line or at any instruction its edits touch. It returns the
// comment that does.
func (ig ignores) suppresses(d *Document, r *Rule, f Finding) (ignore, bool) {
	if c, ok := covering(ig.global, r); ok {
		return c, true
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
		if cs := ig.byInst[in.StartLine]; len(cs) > 0 && touched(in) {
			if c, ok := covering(cs, r); ok {
				return c, true
			}
		}
	}
	return ignore{}, false
}

// covering returns the first comment of cs that names r (or "all").
func covering(cs []ignore, r *Rule) (ignore, bool) {
	for _, c := range cs {
		if slices.ContainsFunc(c.names, func(n string) bool { return n == "all" || r.Is(n) }) {
			return c, true
		}
	}
	return ignore{}, false
}
