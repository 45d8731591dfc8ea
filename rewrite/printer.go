package rewrite

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"
)

// KeywordSpan returns the byte span of the instruction's keyword in Src. It
// follows buildkit's reading of the line, so a continuation right after the
// keyword (RUN\ then the arguments on the next line) is not part of it.
func (d *Document) KeywordSpan(in *Instruction) (start, end int) {
	n := strings.IndexAny(in.Line, " \t\v\f\r") // buildkit splits the keyword off at these
	if n < 0 {
		n = len(in.Line)
	}
	return in.SrcOffset(0), in.SrcEnd(n)
}

// Keyword spells kw (upper case) the way the instruction spells its own
// keyword, so a file written in lower case stays in lower case.
func (d *Document) Keyword(in *Instruction, kw string) string {
	s, e := d.KeywordSpan(in)
	if orig := string(d.Src[s:e]); orig != "" && orig == strings.ToLower(orig) {
		return strings.ToLower(kw)
	}
	return strings.ToUpper(kw)
}

// Text returns the instruction's source from its keyword to the end of its last
// line, without the final line ending.
func (d *Document) Text(in *Instruction) string {
	s, _ := d.KeywordSpan(in)
	return string(d.Src[s:d.LineTextEnd(in.EndLine)])
}

// LineTextEnd returns the offset of line n's line ending (or of its end when
// it has none).
func (d *Document) LineTextEnd(n int) int {
	return d.LineStart(n) + len(strings.TrimRight(string(d.Src[d.LineStart(n):d.LineEnd(n)]), "\r\n"))
}

// ReplaceInstruction returns the edit that puts text in place of the
// instruction, from its keyword to the end of its last line: indentation before
// and the line ending after stay as they were. Comment lines that sat inside
// the instruction's continuation are kept, above the new text.
func (d *Document) ReplaceInstruction(in *Instruction, text string) Edit {
	start, _ := d.KeywordSpan(in)
	var kept bytes.Buffer
	for ln := in.StartLine + 1; ln <= in.EndLine && len(in.Node.Heredocs) == 0; ln++ {
		if line := d.LineText(ln); isCommentLine([]byte(line)) {
			kept.WriteString(strings.TrimLeftFunc(line, unicode.IsSpace))
			kept.WriteString("\n")
		}
	}
	return Edit{Start: start, End: d.LineTextEnd(in.EndLine), New: kept.String() + text}
}

// JSONArgs prints arguments in the canonical exec form: ["a", "b"].
func JSONArgs(args []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, a := range args {
		if i > 0 {
			b.WriteString(", ")
		}
		var q bytes.Buffer
		enc := json.NewEncoder(&q)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(a) // a string always encodes
		b.Write(bytes.TrimRight(q.Bytes(), "\n"))
	}
	b.WriteByte(']')
	return b.String()
}

// Quote returns s as one double-quoted word that buildkit reads back as s in
// instructions that expand variables (LABEL, ENV, ...), escaping with the
// document's escape token.
func (d *Document) Quote(s string) string {
	esc := string(d.Escape)
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '$' || r == d.Escape {
			b.WriteString(esc)
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
