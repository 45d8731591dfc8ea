package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// TestDocExamples checks that each rule, given the Bad example of its doc,
// writes its Good example (with --propose, and no build context), so that
// what 'dfopt rules NAME' shows is what the rule does. The formatter's doc
// (fmt) is checked the same way, with --fmt alone.
func TestDocExamples(t *testing.T) {
	for _, r := range append(rules.All(), rewrite.FormatRule) {
		bad, good, ok := docExamples(r.Doc)
		if !ok {
			continue // the rules about the build context show none (dockerignore, data-in-image)
		}
		const from = "FROM debian:bookworm\n"
		head := ""
		if !strings.HasPrefix(bad, "FROM ") {
			head = from // an example of one stage leaves it out
		}
		opts := rewrite.Options{Rules: []*rewrite.Rule{r}, Propose: true}
		if r == rewrite.FormatRule {
			opts = rewrite.Options{Format: true}
		}
		if files := docContext[r.Name]; files != nil {
			dir := t.TempDir()
			for _, f := range files {
				if err := os.WriteFile(filepath.Join(dir, f), []byte("{}\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ctx, err := rewrite.OpenContext(dir, "")
			if err != nil {
				t.Fatal(err)
			}
			opts.Context = ctx
		}
		res, err := rewrite.Source([]byte(head+bad), opts)
		if err != nil {
			t.Errorf("%s: %v", r.Name, err)
			continue
		}
		got := strings.TrimPrefix(string(res.Output), head)
		if got == bad && len(res.Findings) > 0 {
			// A rule that only reports: the Good example is the fix a
			// person writes, on which it says nothing.
			again, err := rewrite.Source([]byte(head+good), opts)
			if err != nil || len(again.Findings) > 0 {
				t.Errorf("%s: the doc's Good example is reported too: %v %v", r.Name, again.Findings, err)
			}
			continue
		}
		if got != good {
			t.Errorf("%s: the Bad example gives\n%s\nbut the doc's Good example is\n%s", r.Name, got, good)
		}
	}
}

// docContext names the build-context files a rule's doc example needs.
var docContext = map[string][]string{
	"copy-manifests-first": {"package.json", "package-lock.json", "server.js"},
}

// docExamples cuts the indented blocks after "Bad:" and "Good:" out of a
// rule's doc, without their four-space indent.
func docExamples(doc string) (bad, good string, ok bool) {
	_, rest, ok1 := strings.Cut(doc, "\nBad:\n")
	badText, goodText, ok2 := strings.Cut(rest, "\nGood:\n")
	if !ok1 || !ok2 {
		return "", "", false
	}
	if i := strings.Index(goodText, "\n\n"); i >= 0 && !strings.HasPrefix(goodText[i+2:], "    ") {
		goodText = goodText[:i+1]
	}
	return block(badText), block(goodText), true
}

func block(s string) string {
	var out []string
	for _, line := range strings.Split(strings.Trim(s, "\n"), "\n") {
		out = append(out, strings.TrimPrefix(line, "    "))
	}
	return strings.Join(out, "\n") + "\n"
}
