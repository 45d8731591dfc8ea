package rewrite

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/dfopt/dfopt/internal/shparse"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"mvdan.cc/sh/v3/syntax"
)

// FormatRule is the formatter (--fmt) as 'dfopt rules' and ignore comments
// know it: its findings are named "fmt", and `# dfopt ignore=fmt` keeps an
// instruction's layout. It is no step of the rule list and has no Run:
// Source formats after the rules when Options.Format is set.
var FormatRule = &Rule{
	Name:  "fmt",
	Title: "Print every instruction canonically (only with --fmt)",
	Kind:  Safe,
	Doc: `With --fmt, dfopt also prints every instruction in one layout, as gofmt does
for Go: keywords in upper case, one space after the keyword and between
words, continuation lines indented four spaces with && leading them, exec-form
arguments as ["a", "b"]. Comments, blank lines and heredoc bodies stay as they
are. The AS of FROM ... AS name takes the case of FROM, and the keyword of an
ONBUILD trigger is written in upper case too, so that BuildKit's own checks
(FromAsCasing, ConsistentInstructionCasing) find nothing to say of the casing.

It never changes what the Dockerfile does: each instruction's parsed value
(for a shell-form RUN, its shell program as mvdan/sh prints it) is compared
before and after, and where the canonical layout would change it (a quoted
string across a continuation, a word split by one) dfopt keeps a more
cautious layout, or the original. Only --fmt switches it on; an ignore
comment "# dfopt ignore=fmt" above an instruction, or "# dfopt global
ignore=fmt" before the first, keeps the layout as written.

Bad:

    from debian:bookworm as build
    run apt-get update &&\
      apt-get install -y  gcc
    cmd [ "make","all" ]

Good:

    FROM debian:bookworm AS build
    RUN apt-get update \
        && apt-get install -y gcc
    CMD ["make", "all"]
`,
}

// format prints every instruction of the document canonically (--fmt): keyword
// in upper case and one space after it, continuation lines indented four spaces
// with && leading them, exec-form arguments as ["a", "b"]. Each instruction's
// new text is checked to mean what the old one meant; where the canonical form
// would change its meaning, a more cautious form, or the original, is kept.
// It tells whether the document changed.
func (st *run) format() (bool, error) {
	d := st.doc
	ign := ignoresOf(d)
	m := newMeanings()
	var pending []*fmtCandidate
	for _, in := range d.Instructions {
		if _, ok := covering(ign.global, FormatRule); ok {
			continue
		}
		if _, ok := covering(ign.byInst[in.StartLine], FormatRule); ok {
			continue
		}
		start := in.Start
		if in.StartLine == 1 && d.BOM {
			start += 3
		}
		pending = append(pending, &fmtCandidate{in: in, start: start, old: string(d.Src[start:d.LineTextEnd(in.EndLine)])})
	}
	// Each level is tried on the instructions no earlier level settled, and
	// their new texts are checked together, in one parse.
	var edits []Edit
	nodes := map[int]*parser.Node{} // by edit start: what buildkit made of its new text
	for _, level := range []fmtLevel{fmtFull, fmtAnd, fmtNoAnd, fmtKeyword} {
		var check []*fmtCandidate
		for _, c := range pending {
			if c.text = formatInstruction(d, c.in, level); c.text == c.old {
				continue // canonical as it is
			}
			if c.want == "" {
				c.want = m.of(c.in)
			}
			check = append(check, c)
		}
		pending = pending[:0]
		m.texts(check, d)
		for _, c := range check {
			if !c.ok || c.got != c.want {
				pending = append(pending, c)
				continue
			}
			e := Edit{Start: c.start, End: d.LineTextEnd(c.in.EndLine), New: c.text}
			edits = append(edits, e)
			if c.node != nil {
				nodes[c.start] = c.node
			}
			f := Finding{
				Rule: FormatRule.Name, Kind: Safe, Applied: true,
				Message: "layout is not canonical (--fmt)",
				Edits:   []Edit{e}, InputEdits: st.inputEdits([]Edit{e}),
			}
			f.Line, f.EndLine = st.inputLines(c.in.StartLine)
			if key := fmt.Sprintf("%s\x00%d\x00%s", f.Rule, f.Line, f.Message); !st.seen[key] {
				st.seen[key] = true // formatting again after the rules reports a line once
				st.findings = append(st.findings, f)
			}
		}
	}
	if len(edits) == 0 {
		return false, nil
	}
	// The new document's instructions are the texts just checked.
	st.shells, st.nodes = m.shells, nodes
	return true, st.apply(edits, "--fmt")
}

// fmtCandidate is one instruction --fmt would print anew, and what the new
// text means.
type fmtCandidate struct {
	in    *Instruction
	start int    // where its text starts (its first line, past a BOM)
	old   string // its text, from its first line to the end of its last
	want  string // its meaning; "" until a new text needs it

	text string       // the new text at the level tried
	got  string       // its meaning
	node *parser.Node // what buildkit made of it, lines counted in text; nil when unknown
	ok   bool         // it is one instruction that ends where it ends
}

// dropLine marks a line that formatting removes.
const dropLine = "\x00"

type fmtLevel int

const (
	fmtKeyword fmtLevel = iota // keyword case and the space after it
	fmtNoAnd                   // also indentation, continuations and exec form
	fmtAnd                     // also && leading continued lines
	fmtFull                    // also one blank between words
)

// formatInstruction returns the canonical text of one instruction at the given level.
func formatInstruction(d *Document, in *Instruction, level fmtLevel) string {
	esc := string(d.Escape)
	cont := continuationMatcher(d.Escape)
	heredoc := len(in.Node.Heredocs) > 0
	last := in.EndLine
	if heredoc || level == fmtKeyword {
		last = in.StartLine // leave heredoc bodies and all other lines as they are
	}
	var lines []string
	for ln := in.StartLine; ln <= in.EndLine; ln++ {
		lines = append(lines, d.LineText(ln))
	}
	if in.StartLine == 1 && d.BOM {
		lines[0] = lines[0][3:]
	}
	// The first line: keyword, one space, the rest.
	first := strings.TrimLeftFunc(lines[0], unicode.IsSpace)
	kw, rest := first, ""
	if i := strings.IndexFunc(first, unicode.IsSpace); i >= 0 {
		kw, rest = first[:i], strings.TrimLeftFunc(first[i:], unicode.IsSpace)
	}
	lines[0] = strings.ToUpper(kw)
	if rest != "" {
		lines[0] += " " + rest
	}
	switch in.Keyword {
	case "onbuild":
		upperTrigger(lines, d.Escape)
	case "from":
		upperStageAs(lines, in, d.Escape)
	}
	if last == in.StartLine && level == fmtFull && !heredoc {
		collapseBlanks(lines, d.Escape)
	}
	if last == in.StartLine {
		if level > fmtKeyword && !heredoc && in.EndLine == in.StartLine {
			lines[0] = formatExec(lines[0], in)
			lines[0] = strings.TrimRightFunc(lines[0], unicode.IsSpace)
		}
		return strings.Join(lines, "\n")
	}
	base := -1
	for _, l := range lines[1:] {
		if t := bytes.TrimSpace([]byte(l)); len(t) > 0 && !isCommentLine(t) && string(t) != esc {
			if w := indentWidth(l); base < 0 || w < base {
				base = w
			}
		}
	}
	shellAnd := level >= fmtAnd && in.Shell != nil
	if level == fmtFull {
		collapseBlanks(lines, d.Escape)
	}
	pendingAnd := false
	for i, l := range lines {
		t := strings.TrimLeftFunc(l, unicode.IsSpace)
		switch {
		case i == 0:
		case t == "":
			lines[i] = ""
			continue
		case isCommentLine([]byte(t)):
			lines[i] = "    " + strings.TrimRightFunc(t, unicode.IsSpace)
			continue
		case t == esc || strings.TrimRight(t, " \t") == esc:
			lines[i] = "    " + esc // a lone escape token: an empty continuation line
			continue
		default:
			lines[i] = strings.Repeat(" ", 4+indentWidth(l)-base) + t
		}
		if pendingAnd {
			ind := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
			lines[i] = lines[i][:ind] + "&& " + lines[i][ind:]
			pendingAnd = false
		}
		body, more := cont([]byte(lines[i]))
		if !more {
			if i == 0 {
				lines[i] = formatExec(lines[i], in)
			}
			lines[i] = strings.TrimRightFunc(lines[i], unicode.IsSpace)
			continue
		}
		b := string(body)
		spaced := strings.TrimRight(b, " \t") != b // a word join stays a join
		if strings.TrimSpace(b) != "" {
			b = strings.TrimRight(b, " \t")
		}
		if shellAnd && strings.HasSuffix(b, "&&") {
			b = strings.TrimRight(strings.TrimSuffix(b, "&&"), " \t")
			pendingAnd, spaced = true, true
			if strings.TrimSpace(b) == "" {
				lines[i] = dropLine // the line held only the &&, which moves down
				continue
			}
		}
		if strings.TrimSpace(b) == "" {
			lines[i] = b + esc // a lone escape token on its line
			continue
		}
		if spaced {
			b += " "
		}
		lines[i] = b + esc
	}
	if pendingAnd {
		return formatInstruction(d, in, fmtNoAnd)
	}
	lines = slices.DeleteFunc(lines, func(l string) bool { return l == dropLine })
	return strings.Join(lines, "\n")
}

// upperTrigger writes the keyword of an ONBUILD's trigger (its second word,
// on whichever line it is) in upper case, so that every keyword of the file
// has one casing, as BuildKit's ConsistentInstructionCasing check asks.
func upperTrigger(lines []string, escape rune) {
	seen := 0
	for i, l := range lines {
		if i > 0 && isCommentLine([]byte(strings.TrimSpace(l))) {
			continue
		}
		for _, w := range wordSpans(l, escape) {
			if seen == 1 {
				word := strings.TrimSuffix(l[w[0]:w[1]], string(escape))
				lines[i] = l[:w[0]] + strings.ToUpper(word) + l[w[0]+len(word):]
				return
			}
			seen++
		}
	}
}

// upperStageAs writes the AS of a FROM that names its stage in upper case,
// like the FROM before it, which BuildKit's FromAsCasing check asks for
// (BuildKit reads the word in any case). It is the last word but one of the
// instruction, on whichever line it is; comment lines and escape tokens are
// no words.
func upperStageAs(lines []string, in *Instruction, escape rune) {
	if countArgs(in) != 3 || !strings.EqualFold(in.Node.Next.Next.Value, "as") {
		return
	}
	seen := 0 // words after the one looked at
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if i > 0 && isCommentLine([]byte(strings.TrimSpace(l))) {
			continue
		}
		words := wordSpans(l, escape)
		for k := len(words) - 1; k >= 0; k-- {
			w := words[k]
			if seen == 1 {
				word := strings.TrimSuffix(l[w[0]:w[1]], string(escape)) // as\ then the name below
				if strings.EqualFold(word, "as") {
					lines[i] = l[:w[0]] + "AS" + l[w[0]+2:]
				}
				return
			}
			seen++
		}
	}
}

// countArgs counts an instruction's arguments as BuildKit split them.
func countArgs(in *Instruction) int {
	n := 0
	for x := in.Node.Next; x != nil; x = x.Next {
		n++
	}
	return n
}

// wordSpans returns the start and end of each blank-separated word of a line,
// leaving out a lone escape token (a continuation).
func wordSpans(l string, escape rune) [][2]int {
	var out [][2]int
	start := -1
	for j := 0; j <= len(l); j++ {
		if j < len(l) && l[j] != ' ' && l[j] != '\t' {
			if start < 0 {
				start = j
			}
			continue
		}
		if start >= 0 && l[start:j] != string(escape) {
			out = append(out, [2]int{start, j})
		}
		start = -1
	}
	return out
}

// collapseBlanks turns runs of blanks between words into one space, outside
// quotes and past each line's indentation. Whether that keeps the meaning is
// checked by the caller, like every other layout change. It goes byte by byte
// (the escape token, quotes and blanks are ASCII), so that bytes that are not
// UTF-8 stay as they are.
func collapseBlanks(lines []string, escape rune) {
	var quote byte
	for i, l := range lines {
		var b strings.Builder
		ind := len(l) - len(strings.TrimLeft(l, " \t"))
		b.WriteString(l[:ind])
		escaped, blank := false, false
		for j := ind; j < len(l); j++ {
			c := l[j]
			switch {
			case escaped:
				escaped = false
			case rune(c) == escape && quote != '\'':
				escaped = true
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			case c == ' ' || c == '\t':
				if !blank {
					b.WriteByte(' ')
				}
				blank = true
				continue
			}
			blank = false
			b.WriteByte(c)
		}
		lines[i] = b.String()
	}
}

// formatExec prints the exec-form arguments of a one-line instruction as ["a", "b"].
func formatExec(line string, in *Instruction) string {
	if !in.Node.Attributes["json"] || in.Args == "" || !strings.HasSuffix(strings.TrimSpace(line), in.Args) {
		return line
	}
	var args []string
	for n := in.Node.Next; n != nil; n = n.Next {
		args = append(args, n.Value)
	}
	if in.Keyword == "healthcheck" || in.Keyword == "onbuild" {
		return line
	}
	t := strings.TrimRightFunc(line, unicode.IsSpace)
	return t[:len(t)-len(in.Args)] + JSONArgs(args)
}

// indentWidth measures leading blanks, a tab counting as four columns.
func indentWidth(l string) int {
	w := 0
	for _, c := range l {
		switch c {
		case ' ':
			w++
		case '\t':
			w += 4
		default:
			return w
		}
	}
	return w
}

// meanings renders what buildkit makes of instructions, with one shell
// parser and printer for all of them. It keeps the shell programs it parsed,
// so that the document made of the formatted text need not parse them again.
type meanings struct {
	printer *syntax.Printer
	shells  map[string]*syntax.File // by text; nil when the text does not parse
	buf     bytes.Buffer            // canonical's, used again
}

func newMeanings() *meanings {
	return &meanings{
		printer: syntax.NewPrinter(),
		shells:  map[string]*syntax.File{},
	}
}

// of returns the meaning of an instruction of a document, printing the
// shell tree the document has.
func (m *meanings) of(in *Instruction) string {
	var tree *syntax.File
	if in.Shell != nil {
		tree = in.Shell.File
	}
	return m.node(in.Node, in.POSIX, in.Args, tree)
}

// texts works out what each candidate's new text means (see text), parsing
// them in one go, each followed by a sentinel instruction; where that parse
// does not split as it should (a text is not one instruction, runs on into
// the sentinel, or buildkit rejects one), each text is parsed on its own.
func (m *meanings) texts(cs []*fmtCandidate, d *Document) {
	var src strings.Builder
	head := 0
	if d.Escape != parser.DefaultEscapeToken {
		fmt.Fprintf(&src, "# escape=%c\n", d.Escape)
		head = 1
	}
	var batch []*fmtCandidate
	for _, c := range cs {
		if d.LineEnd(c.in.EndLine) == len(d.Src) {
			c.got, c.node, c.ok = m.text(c.text, d.Escape, c.in.POSIX, true)
			continue
		}
		src.WriteString(c.text)
		src.WriteString("\n" + sentinel)
		batch = append(batch, c)
	}
	if len(batch) == 0 {
		return
	}
	res, err := parser.Parse(strings.NewReader(src.String()))
	split := err == nil && len(res.AST.Children) == 2*len(batch)
	for i, line := 0, head+1; split && i < len(batch); i++ {
		n, end := res.AST.Children[2*i], res.AST.Children[2*i+1]
		at := line + strings.Count(batch[i].text, "\n") + 1
		split = n.StartLine == line && end.StartLine == at && end.EndLine == at
		line = at + 1
	}
	for i, c := range batch {
		if !split {
			c.got, c.node, c.ok = m.text(c.text, d.Escape, c.in.POSIX, false)
			continue
		}
		n := res.AST.Children[2*i]
		shift := n.StartLine - 1
		n.StartLine -= shift
		n.EndLine -= shift
		c.got, c.node, c.ok = m.node(n, c.in.POSIX, "", nil), n, true
	}
}

// text parses one instruction's text on its own and returns its meaning,
// and the node buildkit made of it, its lines counted in text. A text that
// is no one instruction has none, nor has one that runs on into the line
// after it (a continuation, a heredoc left open) unless it ends the file
// (last): then it has a meaning but no node.
func (m *meanings) text(text string, escape rune, posixShell, last bool) (string, *parser.Node, bool) {
	var src strings.Builder
	head := 0
	if escape != parser.DefaultEscapeToken {
		fmt.Fprintf(&src, "# escape=%c\n", escape)
		head = 1
	}
	src.WriteString(text)
	src.WriteString("\n")
	if last {
		res, err := parser.Parse(strings.NewReader(src.String()))
		if err != nil || len(res.AST.Children) != 1 {
			return "", nil, false
		}
		return m.node(res.AST.Children[0], posixShell, "", nil), nil, true
	}
	src.WriteString(sentinel)
	res, err := parser.Parse(strings.NewReader(src.String()))
	if err != nil || len(res.AST.Children) != 2 {
		return "", nil, false
	}
	n, end := res.AST.Children[0], res.AST.Children[1]
	if at := head + strings.Count(text, "\n") + 2; end.StartLine != at || end.EndLine != at {
		return "", nil, false
	}
	n.StartLine -= head
	n.EndLine -= head
	return m.node(n, posixShell, "", nil), n, true
}

// node renders what buildkit makes of an instruction: keyword, flags,
// arguments, attributes and heredocs; for a shell-form RUN under a POSIX
// shell, the shell program printed canonically, so that layout inside it
// does not count. tree, when not nil, is the parsed program text.
func (m *meanings) node(n *parser.Node, posixShell bool, text string, tree *syntax.File) string {
	b := make([]byte, 0, 64+len(n.Original))
	b = append(b, strings.ToLower(n.Value)...)
	b = append(b, " ["...)
	for i, f := range n.Flags {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendQuote(b, f)
	}
	b = append(b, "] "...)
	b = strconv.AppendBool(b, n.Attributes["json"])
	if stageAs := strings.EqualFold(n.Value, "from") && n.Next != nil && n.Next.Next != nil &&
		n.Next.Next.Next != nil && n.Next.Next.Next.Next == nil && strings.EqualFold(n.Next.Next.Value, "as"); stageAs {
		// BuildKit reads the AS of FROM IMAGE AS NAME in any case.
		b = append(b, ' ')
		b = strconv.AppendQuote(b, n.Next.Value)
		b = append(b, " as "...)
		b = strconv.AppendQuote(b, n.Next.Next.Next.Value)
		return string(b)
	}
	shellRun := posixShell && strings.EqualFold(n.Value, "run") && !n.Attributes["json"] && len(n.Heredocs) == 0
	for x := n.Next; x != nil; x = x.Next {
		v := x.Value
		if shellRun {
			t := tree
			if t == nil || v != text {
				t = m.parse(v)
			}
			v = m.canonical(v, t)
		}
		b = append(b, ' ')
		b = strconv.AppendQuote(b, v)
		for _, c := range x.Children {
			b = append(b, " ("...)
			b = append(b, m.node(c, false, "", nil)...)
			b = append(b, ')')
		}
	}
	for _, h := range n.Heredocs {
		b = append(b, " <<"...)
		b = strconv.AppendQuote(b, h.Name)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(h.FileDescriptor), 10)
		b = append(b, ' ')
		b = strconv.AppendBool(b, h.Expand)
		b = append(b, ' ')
		b = strconv.AppendBool(b, h.Chomp)
		b = append(b, ' ')
		b = strconv.AppendQuote(b, h.Content)
	}
	return string(b)
}

// parse parses a shell program once.
func (m *meanings) parse(text string) *syntax.File {
	if f, ok := m.shells[text]; ok {
		return f
	}
	f, err := shparse.Parse(text)
	if err != nil {
		f = nil
	}
	m.shells[text] = f
	return f
}

// canonical prints a shell program the way mvdan/sh prints its tree, or
// returns it unchanged when it does not parse.
func (m *meanings) canonical(text string, tree *syntax.File) string {
	if tree == nil {
		return text
	}
	m.buf.Reset()
	if err := m.printer.Print(&m.buf, tree); err != nil {
		return text
	}
	return m.buf.String()
}

// Meaning returns what buildkit makes of each instruction, in order, with the
// layout of shell programs left out. Two documents with equal meanings build
// the same image; --fmt must keep it.
func (d *Document) Meaning() []string {
	m := newMeanings()
	out := make([]string, len(d.Instructions))
	for i, in := range d.Instructions {
		out[i] = m.of(in)
	}
	return out
}
