package rewrite

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"mvdan.cc/sh/v3/syntax"
)

// format prints every instruction of the document canonically (--fmt): keyword
// in upper case and one space after it, continuation lines indented four spaces
// with && leading them, exec-form arguments as ["a", "b"]. Each instruction's
// new text is checked to mean what the old one meant; where the canonical form
// would change its meaning, a more cautious form, or the original, is kept.
// It tells whether the document changed.
func (st *run) format() (bool, error) {
	d := st.doc
	var edits []Edit
	for _, in := range d.Instructions {
		start := in.Start
		if in.StartLine == 1 && d.BOM {
			start += 3
		}
		old := string(d.Src[start:d.LineTextEnd(in.EndLine)])
		want := nodeMeaning(in.Node, in.POSIX)
		for _, level := range []fmtLevel{fmtFull, fmtAnd, fmtNoAnd, fmtKeyword} {
			text := formatInstruction(d, in, level)
			if text == old {
				break
			}
			if got, ok := meaningOf(text, d.Escape, in.POSIX); ok && got == want {
				e := Edit{Start: start, End: d.LineTextEnd(in.EndLine), New: text}
				edits = append(edits, e)
				f := Finding{
					Rule: "fmt", Kind: Safe, Applied: true,
					Message: "layout is not canonical (--fmt)",
					Edits:   []Edit{e}, InputEdits: st.inputEdits([]Edit{e}),
				}
				f.Line, f.EndLine = st.inputLines(in.StartLine)
				if key := fmt.Sprintf("%s\x00%d\x00%s", f.Rule, f.Line, f.Message); !st.seen[key] {
					st.seen[key] = true // formatting again after the rules reports a line once
					st.findings = append(st.findings, f)
				}
				break
			}
		}
	}
	if len(edits) == 0 {
		return false, nil
	}
	return true, st.apply(edits, "--fmt")
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

// meaningOf parses one instruction's text on its own and returns its meaning.
func meaningOf(text string, escape rune, posixShell bool) (string, bool) {
	src := fmt.Sprintf("# escape=%c\n%s\n", escape, text)
	res, err := parser.Parse(strings.NewReader(src))
	if err != nil || len(res.AST.Children) != 1 {
		return "", false
	}
	return nodeMeaning(res.AST.Children[0], posixShell), true
}

// nodeMeaning renders what buildkit makes of an instruction: keyword, flags,
// arguments, attributes and heredocs; for a shell-form RUN under a POSIX shell,
// the shell program printed canonically, so that layout inside it does not count.
func nodeMeaning(n *parser.Node, posixShell bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q %v", strings.ToLower(n.Value), n.Flags, n.Attributes["json"])
	shellRun := posixShell && strings.EqualFold(n.Value, "run") && !n.Attributes["json"] && len(n.Heredocs) == 0
	for x := n.Next; x != nil; x = x.Next {
		v := x.Value
		if shellRun {
			v = canonicalShell(v)
		}
		fmt.Fprintf(&b, " %q", v)
		for _, c := range x.Children {
			fmt.Fprintf(&b, " (%s)", nodeMeaning(c, false))
		}
	}
	for _, h := range n.Heredocs {
		fmt.Fprintf(&b, " <<%q %d %v %v %q", h.Name, h.FileDescriptor, h.Expand, h.Chomp, h.Content)
	}
	return b.String()
}

// canonicalShell prints a shell program the way mvdan/sh prints its tree, or
// returns it unchanged when it does not parse.
func canonicalShell(text string) string {
	f, err := syntax.NewParser(syntax.KeepComments(true), syntax.Variant(syntax.LangBash)).
		Parse(strings.NewReader(text), "")
	if err != nil {
		return text
	}
	var b bytes.Buffer
	if err := syntax.NewPrinter().Print(&b, f); err != nil {
		return text
	}
	return b.String()
}

// Meaning returns what buildkit makes of each instruction, in order, with the
// layout of shell programs left out. Two documents with equal meanings build
// the same image; --fmt must keep it.
func (d *Document) Meaning() []string {
	out := make([]string, len(d.Instructions))
	for i, in := range d.Instructions {
		out[i] = nodeMeaning(in.Node, in.POSIX)
	}
	return out
}
