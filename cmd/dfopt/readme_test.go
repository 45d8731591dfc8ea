package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	rulesStart = "<!-- rules:start -->\n"
	rulesEnd   = "<!-- rules:end -->\n"
)

// TestReadmeRules keeps the README's rule list from drifting: the lines
// between the rules markers must be the output of "dfopt rules" in a text
// fence. With -update it rewrites them.
func TestReadmeRules(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"rules"}, nil, &out, &errOut); code != exitOK {
		t.Fatalf("dfopt rules: exit %d: %s", code, errOut.String())
	}
	want := "```text\n" + out.String() + "```\n"

	path := filepath.Join("..", "..", "README.md")
	data, err := os.ReadFile(path)
	readme := strings.ReplaceAll(string(data), "\r\n", "\n")
	_, rest, ok := strings.Cut(readme, rulesStart)
	got, _, ok2 := strings.Cut(rest, rulesEnd)
	if err != nil || !ok || !ok2 {
		t.Fatalf("%s has no rule list; put this between lines %q and %q:\n\n%s%s%s",
			path, strings.TrimSpace(rulesStart), strings.TrimSpace(rulesEnd), rulesStart, want, rulesEnd)
	}
	if got != want && *update {
		before, _, _ := strings.Cut(readme, rulesStart)
		fixed := before + rulesStart + want + rulesEnd + strings.SplitN(rest, rulesEnd, 2)[1]
		if err := os.WriteFile(path, []byte(fixed), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want {
		t.Errorf("%s: the rule list differs from 'dfopt rules'; it should read:\n\n%s%s%s",
			path, rulesStart, want, rulesEnd)
	}
}
