package runmodel

import (
	"strings"
	"unicode/utf8"

	"mvdan.cc/sh/v3/syntax"
)

// MatchGlob tells whether the shell's pathname expansion of pattern, a
// slash-separated shell pattern, yields the existing path name (a folder
// when dir). It matches as sh, dash, ash and bash without globstar do:
// each segment of the pattern matches one segment of the name (so ** is
// *, never several folders); *, ? and [...] never match the dot that
// starts a name; [!...] and [^...] negate, [a-z] and [[:alpha:]] are
// classes, a [ without its ] is itself; a backslash makes the next
// character plain. A pattern ending in a slash names folders only.
func MatchGlob(pattern, name string, dir bool) bool {
	if strings.HasSuffix(pattern, "/") && len(pattern) > 1 {
		if !dir {
			return false
		}
		pattern = strings.TrimRight(pattern, "/")
	}
	ps, ns := strings.Split(pattern, "/"), strings.Split(name, "/")
	if len(ps) != len(ns) {
		return false
	}
	for i := range ps {
		if !matchSegment(ps[i], ns[i]) {
			return false
		}
	}
	return true
}

// matchSegment matches one segment of a name against one of a pattern.
func matchSegment(pat, name string) bool {
	if strings.HasPrefix(name, ".") && !strings.HasPrefix(pat, ".") && !strings.HasPrefix(pat, `\.`) {
		return false // a leading dot is matched by a dot only
	}
	return matchFrom(pat, name)
}

func matchFrom(pat, name string) bool {
	for pat != "" {
		switch pat[0] {
		case '*':
			pat = strings.TrimLeft(pat, "*")
			if pat == "" {
				return true
			}
			for i := 0; i <= len(name); {
				if matchFrom(pat, name[i:]) {
					return true
				}
				if i == len(name) {
					break
				}
				_, n := utf8.DecodeRuneInString(name[i:])
				i += n
			}
			return false
		case '?':
			if name == "" {
				return false
			}
			_, n := utf8.DecodeRuneInString(name)
			pat, name = pat[1:], name[n:]
			continue
		case '[':
			if name == "" {
				return false
			}
			r, n := utf8.DecodeRuneInString(name)
			if ok, rest, valid := matchBracket(pat, r); valid {
				if !ok {
					return false
				}
				pat, name = rest, name[n:]
				continue
			}
			// A [ without its ] is a plain [.
		case '\\':
			if len(pat) > 1 {
				pat = pat[1:]
			}
		}
		pr, pn := utf8.DecodeRuneInString(pat)
		nr, nn := utf8.DecodeRuneInString(name)
		if name == "" || pr != nr {
			return false
		}
		pat, name = pat[pn:], name[nn:]
	}
	return name == ""
}

// posixClasses are the [:name:] classes of a bracket expression.
var posixClasses = map[string]func(r rune) bool{
	"alpha":  func(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' },
	"digit":  func(r rune) bool { return '0' <= r && r <= '9' },
	"alnum":  posixAlnum,
	"upper":  func(r rune) bool { return 'A' <= r && r <= 'Z' },
	"lower":  func(r rune) bool { return 'a' <= r && r <= 'z' },
	"space":  func(r rune) bool { return strings.ContainsRune(" \t\n\r\v\f", r) },
	"blank":  func(r rune) bool { return r == ' ' || r == '\t' },
	"punct":  func(r rune) bool { return r < 128 && r > ' ' && r != 127 && !posixAlnum(r) },
	"xdigit": func(r rune) bool { return '0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F' },
	"print":  func(r rune) bool { return r >= ' ' && r != 127 },
	"graph":  func(r rune) bool { return r > ' ' && r != 127 },
	"cntrl":  func(r rune) bool { return r < ' ' || r == 127 },
}

func posixAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

// matchBracket matches r against the bracket expression that starts pat;
// rest is the pattern after it. valid is false when pat holds no whole
// bracket expression (the [ is then a plain character).
func matchBracket(pat string, r rune) (ok bool, rest string, valid bool) {
	i := 1
	negate := false
	if i < len(pat) && (pat[i] == '!' || pat[i] == '^') {
		negate = true
		i++
	}
	first := true
	for i < len(pat) {
		if pat[i] == ']' && !first {
			return ok != negate, pat[i+1:], true
		}
		first = false
		if strings.HasPrefix(pat[i:], "[:") {
			if end := strings.Index(pat[i+2:], ":]"); end >= 0 {
				if class, known := posixClasses[pat[i+2:i+2+end]]; known {
					ok = ok || class(r)
					i += end + 4
					continue
				}
			}
		}
		lo, n := bracketChar(pat[i:])
		if n == 0 {
			break
		}
		i += n
		hi := lo
		if i+1 < len(pat) && pat[i] == '-' && pat[i+1] != ']' {
			var m int
			hi, m = bracketChar(pat[i+1:])
			if m == 0 {
				break
			}
			i += 1 + m
		}
		ok = ok || lo <= r && r <= hi
	}
	return false, "", false
}

// bracketChar reads one character of a bracket expression, a backslash
// making the next one plain; n is how many bytes it took (0 at the end).
func bracketChar(s string) (rune, int) {
	if s == "" {
		return 0, 0
	}
	if s[0] == '\\' && len(s) > 1 {
		r, n := utf8.DecodeRuneInString(s[1:])
		return r, n + 1
	}
	return utf8.DecodeRuneInString(s)
}

// GlobLiteral returns the segments a shell pattern starts with that hold no
// wildcard, escapes removed, and whether they are the whole pattern:
// "/app/x*" gives "/app", false; "/app/x" gives "/app/x", true.
func GlobLiteral(pattern string) (string, bool) {
	segs := strings.Split(strings.TrimRight(pattern, "/"), "/")
	var out []string
	for _, seg := range segs {
		var b strings.Builder
		for i := 0; i < len(seg); i++ {
			switch c := seg[i]; {
			case c == '\\' && i+1 < len(seg):
				i++
				b.WriteByte(seg[i])
			case c == '*' || c == '?' || c == '[':
				lit := strings.Join(out, "/")
				if lit == "" && strings.HasPrefix(pattern, "/") {
					lit = "/"
				}
				return lit, false
			default:
				b.WriteByte(c)
			}
		}
		out = append(out, b.String())
	}
	lit := strings.Join(out, "/")
	if lit == "" && strings.HasPrefix(pattern, "/") {
		lit = "/"
	}
	return lit, true
}

// GlobPattern returns the word as a shell pattern for MatchGlob when it
// holds no expansion: its unquoted wildcards stay wildcards, and the
// characters quotes or backslashes make plain are escaped. A word of the
// exec form, which no shell expands, is all plain.
func (w Word) GlobPattern() (string, bool) {
	if !w.Lit {
		return "", false
	}
	if w.Node == nil || !w.Glob {
		return escapeGlob(w.Text), true
	}
	var b strings.Builder
	for _, part := range w.Node.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			b.WriteString(strings.ReplaceAll(p.Value, "\\\n", ""))
		case *syntax.SglQuoted:
			b.WriteString(escapeGlob(p.Value))
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				if l, ok := q.(*syntax.Lit); ok {
					b.WriteString(escapeGlob(unescapeDouble(l.Value)))
				}
			}
		}
	}
	return b.String(), true
}

// escapeGlob makes every character of s plain in a shell pattern.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
