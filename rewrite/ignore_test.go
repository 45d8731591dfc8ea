package rewrite

import (
	"fmt"
	"strings"
	"testing"
)

// TestIgnoreComment checks the syntax of ignore comments: names, the global
// form, hadolint's prefix, and the optional ";reason=".
func TestIgnoreComment(t *testing.T) {
	for _, tc := range []struct {
		line   string
		names  string // joined by "|"; "" when the line ignores nothing
		reason string
		global bool
	}{
		{"# dfopt ignore=merge-runs", "merge-runs", "", false},
		{"  #dfopt ignore=a, b", "a|b", "", false},
		{"# dfopt global ignore=a,b", "a|b", "", true},
		{"# hadolint ignore=DL3020", "DL3020", "", false},
		{"# dfopt ignore=merge-runs;reason=the layers are cached separately", "merge-runs", "the layers are cached separately", false},
		{"# dfopt ignore=a,b ; reason = kept apart; on purpose ", "a|b", "kept apart; on purpose", false},
		{"# dfopt global ignore=add-to-copy;reason=ADD of a tar", "add-to-copy", "ADD of a tar", true},
		{"# hadolint ignore=DL3059;reason=cached apart", "DL3059", "cached apart", false},
		{"# dfopt ignore=a;why=other tool's key", "a", "", false},
		{"# dfopt ignore=a;reason=", "a", "", false},
		{"# dfopt ignored=a", "", "", false},
		{"# reason=x ignore=a", "", "", false},
		{"RUN dfopt ignore=a", "", "", false},
	} {
		c, global := ignoreComment(tc.line)
		if got := strings.Join(c.names, "|"); got != tc.names || c.reason != tc.reason || (tc.names != "" && global != tc.global) {
			t.Errorf("ignoreComment(%q) = names %q, reason %q, global %v; want %q, %q, %v", tc.line, got, c.reason, global, tc.names, tc.reason, tc.global)
		}
	}
}

// TestSuppressed checks that Source returns the findings ignore comments
// switched off, once each, at their input lines, with the comments' reasons,
// and reports and applies only the others.
func TestSuppressed(t *testing.T) {
	flag := &Rule{Name: "flag-run", Hadolint: []string{"DL9999"}, Run: func(p *Pass) {
		for _, in := range p.Doc.Instructions {
			if string(p.Doc.Src[in.Start:in.Start+3]) == "RUN" {
				p.Report(Finding{Line: in.StartLine, Message: "a run", Edits: []Edit{{Start: in.Start, End: in.Start + 3, New: "run"}}})
			}
		}
	}}
	src := "FROM a\n" +
		"# dfopt ignore=flag-run;reason=kept for the cache\n" +
		"RUN one\n" +
		"# hadolint ignore=DL9999\n" +
		"RUN two\n" +
		"RUN three\n"
	res, err := Source([]byte(src), Options{Rules: []*Rule{flag}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range res.Suppressed {
		got = append(got, fmt.Sprintf("%d: %s: %s (%s)", s.Line, s.Rule, s.Message, s.Reason))
	}
	if want := "3: flag-run: a run (kept for the cache)|5: flag-run: a run ()"; strings.Join(got, "|") != want {
		t.Errorf("suppressed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.ReplaceAll(want, "|", "\n"))
	}
	if len(res.Findings) != 1 || res.Findings[0].Line != 6 {
		t.Errorf("findings = %+v, want one at line 6", res.Findings)
	}
	if want := strings.Replace(src, "RUN three", "run three", 1); string(res.Output) != want {
		t.Errorf("output:\n%s\nwant:\n%s", res.Output, want)
	}

	global := "# dfopt global ignore=all;reason=generated file\n" + src
	res, err = Source([]byte(global), Options{Rules: []*Rule{flag}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 || len(res.Suppressed) != 3 || res.Suppressed[0].Reason != "generated file" || res.Suppressed[0].Line != 4 {
		t.Errorf("with a global ignore: findings %+v, suppressed %+v; want none, and 3 for \"generated file\" from line 4", res.Findings, res.Suppressed)
	}
}
