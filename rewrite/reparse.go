package rewrite

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"mvdan.cc/sh/v3/syntax"
)

// reparse returns the document of src, which edits (sorted, apart, with the
// document's line endings) made of d. It parses again only the lines around
// the edits: an instruction no edit touches keeps its node, command and shell
// tree, moved to its new lines. Where that cannot be shown to give what a
// parse of the whole file gives, it parses the whole file.
//
// buildkit reads a Dockerfile line by line, and what it makes of an
// instruction depends on the escape token (set by the directives at the
// top), on the comment lines right above it (they go into the node), and on
// the line before it ending the instruction before (no continuation, no open
// heredoc). A stretch of lines from just after an untouched instruction (or
// the top) to just before the next one (or the end) is parsed on its own,
// after the escape directive, with a sentinel instruction after it: the
// sentinel stands alone only when nothing the stretch leaves open runs into
// the untouched instruction, and the comments it collects are the ones that
// instruction gets. The escape token of a stretch at the top must not
// change.
//
// shells are shell programs already parsed, by text (nil: they do not
// parse); RUNs with those programs take their trees. nodes, by edit start,
// are what buildkit made of an edit's new text on its own (see
// knownStretch); either may be nil.
//
// d is spent: the commands of the instructions it hands over are moved to
// their new lines in place.
func (d *Document) reparse(src []byte, edits []Edit, shells map[string]*syntax.File, nodes map[int]*parser.Node) (*Document, error) {
	if nd, ok := d.splice(src, edits, shells, nodes); ok {
		return nd, nil
	}
	return Parse(d.Path, src)
}

// sentinel is the instruction put after a stretch parsed on its own.
const sentinel = "ARG dfopt_sentinel\n"

// stretch is a run of lines of the old document between untouched
// instructions, with an edit in it.
type stretch struct {
	first, last int // old lines, inclusive
	next        int // index of the untouched instruction after it, or len(Instructions)
}

// splice makes the document of src from d around the edits, as reparse
// says, or reports that it cannot.
func (d *Document) splice(src []byte, edits []Edit, shells map[string]*syntax.File, nodes map[int]*parser.Node) (*Document, bool) {
	if len(edits) == 0 || len(d.Instructions) == 0 {
		return nil, false
	}
	touched := make([]bool, len(d.Instructions))
	k := 0
	for _, e := range edits {
		a, b := d.LineOf(e.Start), d.LineOf(e.End)
		for k < len(d.Instructions) && d.Instructions[k].EndLine < a {
			k++
		}
		for j := k; j < len(d.Instructions) && d.Instructions[j].StartLine <= b; j++ {
			touched[j] = true
		}
	}
	nd := newDocument(d.Path, src, d.Escape)
	b := newBuilder()
	b.shells = shells
	for {
		fresh, again, ok := d.parseStretches(nd, b, edits, touched, nodes)
		if !ok {
			return nil, false
		}
		if again >= 0 {
			touched[again] = true // the comments above it changed
			continue
		}
		delta, k := 0, 0 // how far the edits before the instruction moved it
		for i, in := range d.Instructions {
			for ; k < len(edits) && edits[k].Start < in.Start; k++ {
				delta += len(edits[k].New) - (edits[k].End - edits[k].Start)
			}
			if !touched[i] {
				fresh = append(fresh, moved(nd, in, delta))
			}
		}
		slices.SortFunc(fresh, func(a, b *Instruction) int { return a.StartLine - b.StartLine })
		nd.Instructions = fresh
		break
	}
	if _, err := nd.link(b); err != nil {
		return nil, false
	}
	nd.prev, d.prev = d, nil // one step back, not a chain of every version
	for _, in := range d.Instructions {
		in.was = nil
	}
	return nd, true
}

// parseStretches parses every stretch that holds an edit and returns its
// instructions. When the comments above an untouched instruction after a
// stretch changed, it returns that instruction's index, which must then be
// parsed again too; else -1.
func (d *Document) parseStretches(nd *Document, b *builder, edits []Edit, touched []bool, nodes map[int]*parser.Node) ([]*Instruction, int, bool) {
	var out []*Instruction
	ei := 0
	first := 1
	for i := 0; i <= len(d.Instructions); i++ {
		if i < len(d.Instructions) && touched[i] {
			continue
		}
		s := stretch{first: first, last: d.Lines(), next: i}
		if i < len(d.Instructions) {
			s.last = d.Instructions[i].StartLine - 1
			first = d.Instructions[i].EndLine + 1
		}
		// The edits in the stretch: those that start on its lines.
		from := ei
		for ei < len(edits) && (s.next == len(d.Instructions) || d.LineOf(edits[ei].Start) <= s.last) {
			ei++
		}
		if from == ei {
			continue
		}
		ins, prev, ok := d.knownStretch(nd, b, s, edits, from, ei, nodes)
		if !ok {
			ins, prev, ok = d.parseStretch(nd, b, s, edits, from, ei)
		}
		if !ok {
			return nil, -1, false
		}
		if s.next < len(d.Instructions) && !slices.Equal(prev, d.Instructions[s.next].Node.PrevComment) {
			return nil, s.next, true
		}
		out = append(out, ins...)
	}
	return out, -1, ei == len(edits)
}

// parseStretch parses the new text of one stretch, whose edits are
// edits[from:to], and returns its instructions and the comments the
// untouched instruction after it gets.
func (d *Document) parseStretch(nd *Document, b *builder, s stretch, edits []Edit, from, to int) ([]*Instruction, []string, bool) {
	start, end := d.LineStart(s.first), d.LineEnd(s.last)
	if s.first > s.last {
		end = start
	}
	for _, e := range edits[:from] {
		start += len(e.New) - (e.End - e.Start)
	}
	end = start + (end - d.LineStart(s.first))
	for _, e := range edits[from:to] {
		if e.Start < d.LineStart(s.first) || e.End > d.LineEnd(max(s.first, s.last)) {
			return nil, nil, false
		}
		end += len(e.New) - (e.End - e.Start)
	}
	if start < 0 || end < start || end > len(nd.Src) || start > 0 && nd.Src[start-1] != '\n' {
		return nil, nil, false
	}
	var text bytes.Buffer
	head := 0 // lines before the stretch's first
	if start > 0 {
		// A lone "#" ends the directives and, as in the whole file after an
		// instruction, leaves no comment for the next.
		fmt.Fprintf(&text, "# escape=%c\n#\n", d.Escape)
		head = 2
	}
	text.Write(nd.Src[start:end])
	if end > start && nd.Src[end-1] != '\n' {
		text.WriteByte('\n')
	}
	sentinelLine := head + bytes.Count(nd.Src[start:end], []byte("\n")) + 1
	if end > start && nd.Src[end-1] != '\n' {
		sentinelLine++
	}
	text.WriteString(sentinel)
	res, err := parser.Parse(&text)
	if err != nil || res.EscapeToken != d.Escape {
		return nil, nil, false
	}
	nodes := res.AST.Children
	last := nodes[len(nodes)-1]
	if last.StartLine != sentinelLine || last.EndLine != sentinelLine {
		return nil, nil, false // the stretch runs on into what follows it
	}
	shift := 0
	if start < len(nd.Src) {
		shift = nd.LineOf(start) - 1 - head
	}
	var out []*Instruction
	for _, n := range nodes[:len(nodes)-1] {
		n.StartLine += shift
		n.EndLine += shift
		in, err := b.instruction(nd, n)
		if err != nil {
			return nil, nil, false
		}
		out = append(out, in)
	}
	return out, last.PrevComment, true
}

// knownStretch makes the instructions of a stretch from nodes, what buildkit
// made of each edit's new text on its own (lines counted in that text, by
// edit start), without parsing: when each edit of the stretch replaces one
// instruction, from the start of its first line to the end of its last, and
// the stretch has no other instruction, the lines between them are as they
// were, the new texts end where they end (nodes holds only such texts), and
// each new instruction has the comments above it that the old one had.
func (d *Document) knownStretch(nd *Document, b *builder, s stretch, edits []Edit, from, to int, nodes map[int]*parser.Node) ([]*Instruction, []string, bool) {
	if len(nodes) == 0 {
		return nil, nil, false
	}
	first := 0 // the first instruction of the stretch
	if s.next > 0 {
		first = s.next - 1
		for first >= 0 && d.Instructions[first].StartLine >= s.first {
			first--
		}
		first++
	}
	if s.next-first != to-from {
		return nil, nil, false
	}
	delta := 0
	for _, e := range edits[:from] {
		delta += len(e.New) - (e.End - e.Start)
	}
	var out []*Instruction
	for k, e := range edits[from:to] {
		old := d.Instructions[first+k]
		start := old.Start
		if old.StartLine == 1 && d.BOM {
			start += 3
		}
		n := nodes[e.Start]
		if n == nil || e.Start != start || e.End != d.LineTextEnd(old.EndLine) ||
			len(n.Heredocs) > 0 && d.Newline != "\n" { // a heredoc's body keeps its line endings
			return nil, nil, false
		}
		c := *n
		shift := nd.LineOf(e.Start+delta) - 1
		c.StartLine += shift
		c.EndLine += shift
		c.PrevComment = old.Node.PrevComment
		in, err := b.instruction(nd, &c)
		if err != nil || in.End != e.Start+delta+len(e.New)+len(d.Src[e.End:d.LineEnd(old.EndLine)]) {
			return nil, nil, false
		}
		out = append(out, in)
		delta += len(e.New) - (e.End - e.Start)
	}
	var prev []string
	if s.next < len(d.Instructions) {
		prev = d.Instructions[s.next].Node.PrevComment
	}
	return out, prev, true
}

// moved returns an untouched instruction at its place in nd: its bytes are
// the same, only their offset (by delta) and lines moved by the edits before
// it.
func moved(nd *Document, in *Instruction, delta int) *Instruction {
	lines := nd.LineOf(in.Start+delta) - in.StartLine
	c := *in
	node := *in.Node
	node.StartLine += lines
	node.EndLine += lines
	c.Node = &node
	c.StartLine += lines
	c.EndLine += lines
	c.Start += delta
	c.End += delta
	c.seg = slices.Clone(in.seg)
	for i := range c.seg {
		c.seg[i].src += delta
	}
	c.Stage = nil
	c.was = in
	relocate(c.Command, lines)
	return &c
}

// relocate moves the source ranges a command of buildkit's instructions
// package keeps by lines.
func relocate(cmd any, lines int) {
	if lines == 0 {
		return
	}
	var loc []parser.Range
	switch c := cmd.(type) {
	case *instructions.Stage:
		loc = c.Location
	case interface{ Location() []parser.Range }:
		loc = c.Location()
	}
	for i := range loc {
		loc[i].Start.Line += lines
		loc[i].End.Line += lines
	}
}
