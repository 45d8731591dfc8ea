package runmodel

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Word is one shell word as the command that receives it sees it, as far as
// the program's text tells.
type Word struct {
	// Node is the word in the program; for a word of a string the model
	// parsed itself (sh -c '…'), its positions are not the RUN's.
	Node *syntax.Word
	// Text is the word after quote removal when Lit; otherwise the literal
	// text before its first expansion (what a path starts with).
	Text string
	// Lit says the word holds no expansion: Text is exactly its value.
	Lit bool
	// Glob says the word has an unquoted *, ? or [, which the shell matches
	// against the file system: the command gets other words.
	Glob bool
}

// Value returns the word's value when it is known exactly: literal, no glob.
func (w Word) Value() (string, bool) {
	if !w.Lit || w.Glob {
		return "", false
	}
	return w.Text, true
}

// Pattern returns the word's text with its wildcards when it holds no
// expansion: the path or pattern it names.
func (w Word) Pattern() (string, bool) { return w.Text, w.Lit }

// Is tells whether the word is exactly s.
func (w Word) Is(s string) bool {
	v, ok := w.Value()
	return ok && v == s
}

// ReadWord reads a word of the program. Backslashes, single and double quotes
// are removed as the shell removes them; $'…', parameter, command and
// arithmetic expansions and extended globs make the word not literal.
func ReadWord(w *syntax.Word) Word {
	out := Word{Node: w, Lit: true}
	if w == nil {
		out.Lit = false
		return out
	}
	var b strings.Builder
	stop := func() { // the literal text ends here
		out.Lit = false
	}
	add := func(s string) {
		if out.Lit {
			b.WriteString(s)
		}
	}
	for _, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			if i := braceAt(p.Value); i >= 0 {
				// bash expands {a,b} and {1..3} into several words.
				v, _ := unescapeUnquoted(p.Value[:i])
				add(v)
				stop()
				continue
			}
			v, glob := unescapeUnquoted(p.Value)
			out.Glob = out.Glob || glob
			add(v)
		case *syntax.SglQuoted:
			if p.Dollar {
				stop()
				continue
			}
			add(p.Value)
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				if l, ok := q.(*syntax.Lit); ok {
					add(unescapeDouble(l.Value))
					continue
				}
				stop()
			}
		case *syntax.ExtGlob:
			out.Glob = true
			stop()
		default:
			stop()
		}
	}
	out.Text = b.String()
	return out
}

// braceAt returns where a brace expansion ({a,b}, {1..3}) starts in
// unquoted text, or -1.
func braceAt(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			j := strings.IndexByte(s[i:], '}')
			if j > 0 {
				inner := s[i+1 : i+j]
				if strings.Contains(inner, ",") || strings.Contains(inner, "..") {
					return i
				}
			}
		}
	}
	return -1
}

// unescapeUnquoted removes the backslashes of unquoted text ("\cd" is "cd",
// "\\" is "\") and tells whether an unescaped glob character is there.
func unescapeUnquoted(s string) (string, bool) {
	if !strings.ContainsAny(s, `\*?[`) {
		return s, false
	}
	var b strings.Builder
	glob := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			if s[i] != '\n' {
				b.WriteByte(s[i])
			}
			continue
		case c == '*' || c == '?':
			glob = true
		case c == '[' && strings.IndexByte(s[i+1:], ']') >= 0:
			glob = true // a bracket expression; a lone [ (the test command) is no pattern
		}
		b.WriteByte(c)
	}
	return b.String(), glob
}

// unescapeDouble removes the backslashes that escape a character inside
// double quotes ($, `, ", \ and a newline); others stay.
func unescapeDouble(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
			i++
			if s[i] == '\n' {
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ReadWords reads a list of words.
func ReadWords(ws []*syntax.Word) []Word {
	out := make([]Word, len(ws))
	for i, w := range ws {
		out[i] = ReadWord(w)
	}
	return out
}

// literalWords makes words of known values (the exec form of a RUN).
func literalWords(vals []string) []Word {
	out := make([]Word, len(vals))
	for i, v := range vals {
		out[i] = Word{Text: v, Lit: true}
	}
	return out
}
