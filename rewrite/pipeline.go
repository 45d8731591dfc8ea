package rewrite

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"mvdan.cc/sh/v3/syntax"
)

// maxPasses bounds how often the pipeline runs the whole rule list: a rule's
// edit may give an earlier rule new work, but never forever.
const maxPasses = 8

// Source is dfopt's one entry point: it runs the rules over src and returns the
// rewritten file with everything the rules found. A Dockerfile buildkit rejects
// gives a *ParseError naming the line.
func Source(src []byte, opts Options) (*Result, error) {
	return source(src, opts, nil)
}

// source is Source; reparsed, when set, sees every document apply makes.
func source(src []byte, opts Options, reparsed func(*Document)) (*Result, error) {
	if opts.Path == "" {
		opts.Path = "<stdin>"
	}
	doc, err := Parse(opts.Path, src)
	if err != nil {
		return nil, err
	}
	st := &run{opts: opts, doc: doc, orig: identityLines(doc.Lines()), seen: map[string]bool{}, reparsed: reparsed}
	// The rules run until they change nothing more; then --fmt formats, and
	// when that changed the layout the rules look again (a rule may read the
	// formatted file differently), so that the output is its own output.
	formatted := false
	for range maxPasses {
		changed := false
		for _, r := range opts.Rules {
			ok, err := st.runRule(r)
			if err != nil {
				return nil, err
			}
			changed = changed || ok
		}
		if changed {
			formatted = false
			continue
		}
		if !opts.Format || formatted {
			break
		}
		ok, err := st.format()
		if err != nil {
			return nil, err
		}
		formatted = true
		if !ok {
			break
		}
	}
	if opts.Format && !formatted {
		if _, err := st.format(); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(st.findings, func(a, b Finding) int {
		return cmp.Compare(a.Line, b.Line)
	})
	slices.SortStableFunc(st.suppressed, func(a, b Suppression) int {
		return cmp.Compare(a.Line, b.Line)
	})
	return &Result{Output: st.doc.Src, Findings: st.findings, Files: st.files, Suppressed: st.suppressed}, nil
}

// run is the state of one Source call.
type run struct {
	opts     Options
	doc      *Document
	orig     []int // orig[n] is the input line that line n of doc came from
	findings []Finding
	seen     map[string]bool
	files    []FileChange // the other files applied findings change
	// steps are the edits each apply wrote, in order, sorted, with the
	// document's line endings: the way back from doc to the input's bytes.
	steps [][]Edit

	suppressed []Suppression       // findings ignore comments switched off, once each
	ranOn      map[*Rule]*Document // the document each rule last ran on
	// shells are shell programs parsed (nil: they do not parse) since the
	// document was made, by text; the next document takes its RUNs' trees
	// from them.
	shells map[string]*syntax.File
	// nodes are what buildkit made of the new text of the edits apply gets
	// next, parsed on its own, by edit start; nil when not known.
	nodes    map[int]*parser.Node
	reparsed func(*Document) // a test's look at each document apply makes
}

// runRule runs one rule on the current document, reports what it found and
// applies the edits it may apply. It tells whether the document changed.
func (st *run) runRule(r *Rule) (changed bool, err error) {
	if st.ranOn[r] == st.doc {
		// A rule reads only the document and the options: on the document
		// it last ran on it finds what it found then, all of it applied
		// or recorded already.
		return false, nil
	}
	if st.ranOn == nil {
		st.ranOn = map[*Rule]*Document{}
	}
	st.ranOn[r] = st.doc
	p := &Pass{Doc: st.doc, Rule: r, Options: st.opts, orig: st.orig}
	if err := safeRun(r, p); err != nil {
		return false, fmt.Errorf("%s: %w", st.opts.Path, err)
	}
	ign := ignoresOf(st.doc)
	var edits []Edit
	for _, f := range p.findings {
		if c, ok := ign.suppresses(st.doc, r, f); ok {
			st.suppress(Suppression{Rule: f.Rule, Line: p.InputLine(f.Line), Message: f.Message, Reason: c.reason})
			continue
		}
		f.InputEdits = st.inputEdits(f.Edits)
		f.Line, f.EndLine = st.inputLines(f.Line)
		apply := (f.Kind == Safe || f.Kind == Proposal && st.opts.Propose) && (st.opts.Only == nil || st.opts.Only(f))
		if apply && overlapsAny(edits, f.Edits) {
			continue // a later pass finds it again on the edited document
		}
		if apply {
			edits = append(edits, f.Edits...)
			st.files = mergeFiles(st.files, f.Files)
			f.Applied = true
		}
		key := fmt.Sprintf("%s\x00%d\x00%s", f.Rule, f.Line, f.Message)
		if !st.seen[key] {
			st.seen[key] = true
			st.findings = append(st.findings, f)
		}
	}
	if len(edits) == 0 {
		return false, nil
	}
	return true, st.apply(edits, r.Name)
}

// inputLines maps line n of the current document to the input: the line
// itself, and the last line of the instruction that starts there (n itself
// when none does).
func (st *run) inputLines(n int) (line, end int) {
	at := func(n int) int { return st.orig[max(1, min(n, len(st.orig)-1))] }
	line, end = at(n), at(n)
	ins := st.doc.Instructions
	if i, ok := slices.BinarySearchFunc(ins, n, func(in *Instruction, n int) int { return cmp.Compare(in.StartLine, n) }); ok {
		end = max(line, at(ins[i].EndLine))
	}
	return line, end
}

// inputEdits maps edits of the current document to byte ranges of the input,
// back through every step applied so far, or returns nil when a step wrote
// bytes an edit replaces, or inside which it inserts: that edit then builds
// on text the input does not have.
func (st *run) inputEdits(edits []Edit) []Edit {
	if len(edits) == 0 {
		return nil
	}
	out := make([]Edit, 0, len(edits))
	for _, e := range edits {
		start, end := e.Start, e.End
		for j := len(st.steps) - 1; j >= 0; j-- {
			var ok bool
			if start, end, ok = unapply(st.steps[j], start, end); !ok {
				return nil
			}
		}
		out = append(out, Edit{Start: start, End: end, New: withNewline(e.New, st.doc.Newline)})
	}
	return out
}

// unapply maps the range start:end of a document made by step to the
// document step was applied to. It fails when the range overlaps text the
// step wrote, or is an insertion strictly inside such text.
func unapply(step []Edit, start, end int) (int, int, bool) {
	shift := 0 // new offset minus old offset before the edit at hand
	oldStart, oldEnd := -1, -1
	for _, x := range step {
		ns := x.Start + shift
		ne := ns + len(x.New)
		if start < ne && ns < end || start == end && ns < start && start < ne {
			return 0, 0, false
		}
		// A range that starts where a deletion was starts after the
		// deleted bytes; one that ends there ends before them.
		if oldStart < 0 && (start < ns || start == ns && (ns < ne || start == end)) {
			oldStart = start - shift
		}
		if oldEnd < 0 && end <= ns {
			oldEnd = end - shift
		}
		shift += len(x.New) - (x.End - x.Start)
	}
	if oldStart < 0 {
		oldStart = start - shift
	}
	if oldEnd < 0 {
		oldEnd = end - shift
	}
	return oldStart, max(oldStart, oldEnd), true
}

// suppress records a finding an ignore comment switched off, once however
// many passes find it.
func (st *run) suppress(s Suppression) {
	key := fmt.Sprintf("ignored\x00%s\x00%d\x00%s", s.Rule, s.Line, s.Message)
	if !st.seen[key] {
		st.seen[key] = true
		st.suppressed = append(st.suppressed, s)
	}
}

// safeRun keeps a bug in one rule from crashing the command.
func safeRun(r *Rule, p *Pass) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("rule %s: internal error: %v", r.Name, v)
		}
	}()
	r.Run(p)
	return nil
}

// apply writes edits into the document, parses the result again around the
// edits (a rule that produces what buildkit rejects is a bug, reported as
// such) and carries the map back to input lines along.
func (st *run) apply(edits []Edit, by string) error {
	// An insertion at the offset where a replacement starts goes before it.
	slices.SortStableFunc(edits, func(a, b Edit) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End))
	})
	old := st.doc
	for i, e := range edits {
		if e.Start < 0 || e.End < e.Start || e.End > len(old.Src) || i > 0 && e.Start < edits[i-1].End {
			return fmt.Errorf("%s: %s made an edit outside the file or over another (a dfopt bug): %d-%d", old.Path, by, e.Start, e.End)
		}
	}
	var b strings.Builder
	b.Grow(len(old.Src))
	at := 0
	for _, e := range edits {
		b.Write(old.Src[at:e.Start])
		b.WriteString(withNewline(e.New, old.Newline))
		at = e.End
	}
	b.Write(old.Src[at:])
	src := []byte(b.String())
	step := make([]Edit, len(edits))
	for i, e := range edits {
		step[i] = Edit{Start: e.Start, End: e.End, New: withNewline(e.New, old.Newline)}
	}
	doc, err := old.reparse(src, step, st.shells, st.nodes)
	st.shells, st.nodes = nil, nil
	if err != nil {
		return fmt.Errorf("%s: rule %s made a Dockerfile that buildkit rejects (a dfopt bug): %w", old.Path, by, err)
	}
	st.orig = composeLines(st.orig, lineMap(old, doc, edits, old.Newline))
	st.steps = append(st.steps, step)
	st.doc = doc
	if st.reparsed != nil {
		st.reparsed(doc)
	}
	return nil
}

// withNewline turns the "\n" line endings of text written by a rule into the
// document's own, leaving line endings copied from the source as they are.
func withNewline(text, nl string) string {
	if nl == "\n" || !strings.Contains(text, "\n") {
		return text
	}
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' && (i == 0 || text[i-1] != '\r') {
			b.WriteString(nl)
			continue
		}
		b.WriteByte(text[i])
	}
	return b.String()
}

func overlapsAny(have, add []Edit) bool {
	for _, a := range add {
		for _, h := range have {
			if a.Start < h.End && h.Start < a.End || a.Start == h.Start {
				return true
			}
		}
	}
	for i, a := range add {
		for _, b := range add[i+1:] {
			if a.Start < b.End && b.Start < a.End {
				return true
			}
		}
	}
	return false
}

func identityLines(n int) []int {
	m := make([]int, n+1)
	for i := range m {
		m[i] = i
	}
	return m
}

// lineMap returns, for every line of doc (made from old by edits), the line of
// old it comes from: lines outside the edits map one to one; a line an edit
// wrote maps to the same text among the lines the edit replaced (so text a rule
// moved keeps its line), else to the line the edit starts on. It takes time
// in proportion to the lines of doc and of the edits.
func lineMap(old, doc *Document, edits []Edit, nl string) []int {
	spans := make([]editSpan, 0, len(edits))
	shift := 0 // new offset minus old offset after the edits seen so far
	for _, e := range edits {
		n := len(withNewline(e.New, nl))
		spans = append(spans, editSpan{newStart: e.Start + shift, newEnd: e.Start + shift + n, shiftBefore: shift, edit: e})
		shift += n - (e.End - e.Start)
	}
	m := make([]int, doc.Lines()+1)
	from := &origins{old: old, spans: spans, used: map[int]bool{}}
	i := 0 // the first span that does not end before the line
	for line := 1; line <= doc.Lines(); line++ {
		off := doc.LineStart(line)
		oldOff := off - shift
		for i < len(spans) && off >= spans[i].newEnd {
			i++
		}
		switch {
		case i < len(spans) && off >= spans[i].newStart:
			m[line] = from.origin(doc.lineBytes(line), i)
			continue
		case i < len(spans):
			oldOff = off - spans[i].shiftBefore
		}
		m[line] = old.LineOf(max(0, min(oldOff, len(old.Src)-1)))
	}
	return m
}

// editSpan is where one edit's new text lies in the new document.
type editSpan struct {
	newStart, newEnd, shiftBefore int
	edit                          Edit
}

// origins finds the old lines that lines of the edits' new text were
// copied from. It indexes the old lines by their text, per edit and for all
// edits, when a line first asks, so that each old line is looked at a few
// times, not once for every new line.
type origins struct {
	old   *Document
	spans []editSpan
	own   []map[string]*lineQueue // per edit: its old lines by text
	all   map[string]*lineQueue   // every edit's old lines by text, edit after edit
	used  map[int]bool            // old lines already matched
}

// lineQueue lists old lines with one text, in order; the lines before next
// are all used.
type lineQueue struct {
	lines []int
	next  int
}

// take returns the first line of q not yet used, and marks it used.
func (q *lineQueue) take(used map[int]bool) (int, bool) {
	if q == nil {
		return 0, false
	}
	for ; q.next < len(q.lines); q.next++ {
		if ln := q.lines[q.next]; !used[ln] {
			used[ln] = true
			q.next++
			return ln, true
		}
	}
	return 0, false
}

// origin finds the old line that a line of edit i's new text was copied from:
// the first unused line with the same text among the lines edit i replaced,
// then among those the other edits replaced (a move is a deletion here and an
// insertion there), else the line edit i starts on.
func (o *origins) origin(text []byte, i int) int {
	start := o.lineAt(o.spans[i].edit.Start)
	if len(bytes.TrimSpace(text)) == 0 {
		return start
	}
	if o.own == nil {
		o.own = make([]map[string]*lineQueue, len(o.spans))
	}
	if o.own[i] == nil {
		o.own[i] = map[string]*lineQueue{}
		o.index(o.own[i], i)
	}
	if ln, ok := o.own[i][string(text)].take(o.used); ok {
		return ln
	}
	// Every line of edit i with this text is used: the first unused one of
	// all edits, in order, is another edit's.
	if o.all == nil {
		o.all = map[string]*lineQueue{}
		for k := range o.spans {
			o.index(o.all, k)
		}
	}
	if ln, ok := o.all[string(text)].take(o.used); ok {
		return ln
	}
	return start
}

// index adds the old lines edit k replaced to idx.
func (o *origins) index(idx map[string]*lineQueue, k int) {
	e := o.spans[k].edit
	if e.End <= e.Start {
		return
	}
	for ln := o.lineAt(e.Start); ln <= o.lineAt(e.End-1); ln++ {
		t := string(o.old.lineBytes(ln))
		q := idx[t]
		if q == nil {
			q = &lineQueue{}
			idx[t] = q
		}
		q.lines = append(q.lines, ln)
	}
}

func (o *origins) lineAt(off int) int {
	return o.old.LineOf(max(0, min(off, len(o.old.Src)-1)))
}

func composeLines(orig, step []int) []int {
	out := make([]int, len(step))
	for i, o := range step {
		out[i] = orig[max(0, min(o, len(orig)-1))]
	}
	return out
}
