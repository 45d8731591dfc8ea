package rewrite

import (
	"strings"
	"testing"
)

// TestKeywordSpan checks that the keyword's span follows buildkit's reading:
// a continuation right after the keyword is not part of it (apk-no-cache with
// --cache-mounts wrote "RUN\ --mount=..." for "RUN\<newline> apk add", and
// add-to-copy turned "ADD\<newline> x /y" into "COPY<newline> x /y"; found by
// FuzzSource).
func TestKeywordSpan(t *testing.T) {
	for _, c := range []struct{ src, kw string }{
		{"FROM a\nRUN apk add x\n", "RUN"},
		{"FROM a\n  \trun\tapk add x\n", "run"},
		{"\xef\xbb\xbfFROM a\n", "FROM"},
		{"FROM a\nRUN\\\n apk add x\n", "RUN"},
		{"FROM a\nRUN \\\n apk add x\n", "RUN"},
		{"# escape=`\nFROM a\nRUN`\n apk add x\n", "RUN"},
		{"FROM a\nAD\\\nD x /y\n", "AD\\\nD"},
		{"FROM a\r\nRUN\r\n", "RUN"},
	} {
		d, err := Parse("in", []byte(c.src))
		if err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		in := d.Instructions[len(d.Instructions)-1]
		s, e := d.KeywordSpan(in)
		if got := string(d.Src[s:e]); got != c.kw {
			t.Errorf("%q: keyword %q, want %q", c.src, got, c.kw)
		}
	}
}

// TestEditsAtKeyword runs rules that replace the keyword and put flags right
// after it, as add-to-copy and the cache-mount rules do, on keywords followed
// by a continuation: the output must parse.
func TestEditsAtKeyword(t *testing.T) {
	replace := &Rule{Name: "replace", Run: func(p *Pass) {
		for _, in := range p.Doc.Instructions {
			if in.Keyword == "add" {
				s, e := p.Doc.KeywordSpan(in)
				p.Report(Finding{Line: in.StartLine, Edits: []Edit{{Start: s, End: e, New: p.Doc.Keyword(in, "COPY")}}})
			}
		}
	}}
	flag := &Rule{Name: "flag", Run: func(p *Pass) {
		for _, in := range p.Doc.Instructions {
			if in.Keyword == "run" && !strings.Contains(in.Line, "--network") {
				_, e := p.Doc.KeywordSpan(in)
				p.Report(Finding{Line: in.StartLine, Edits: []Edit{{Start: e, End: e, New: " --network=none"}}})
			}
		}
	}}
	for _, c := range []struct{ src, want string }{
		{"FROM a\nADD\\\n x /y\nRUN\\\n apk add\n", "FROM a\nCOPY\\\n x /y\nRUN --network=none\\\n apk add\n"},
		{"# escape=`\nFROM a\nadd`\n x /y\nrun`\n apk add\n", "# escape=`\nFROM a\ncopy`\n x /y\nrun --network=none`\n apk add\n"},
	} {
		res, err := Source([]byte(c.src), Options{Rules: []*Rule{replace, flag}})
		if err != nil {
			t.Errorf("%q: %v", c.src, err)
			continue
		}
		if string(res.Output) != c.want {
			t.Errorf("%q: got %q, want %q", c.src, res.Output, c.want)
		}
	}
}
