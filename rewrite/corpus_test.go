package rewrite_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// corpusFiles returns the real-world Dockerfiles in ../shared, which sits
// beside the repository; tests read them there and never copy them in.
func corpusFiles(tb testing.TB) []string {
	tb.Helper()
	dir := filepath.Join("..", "..", "shared", "corpus", "dockerfiles")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		tb.Skipf("corpus not found at %s: ../shared is absent, skipping the corpus checks", dir)
	}
	return files
}

// buildkitAccepts is the reference: buildkit's parser and instructions.
func buildkitAccepts(src []byte) bool {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return false
	}
	_, _, err = instructions.Parse(res.AST, linter.New(&linter.Config{}))
	return err == nil
}

func TestCorpus(t *testing.T) {
	files := corpusFiles(t)
	var accepted, rejected, changed, fmtChanged, runsBefore, runsAfter int
	perRule := map[string][2]int{} // rule -> findings applied, reported only
	for _, path := range files {
		name := filepath.Base(path)
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			opts := rewrite.Options{Path: name, Rules: rules.All()}
			res, err := rewrite.Source(src, opts)
			if !buildkitAccepts(src) {
				rejected++
				var pe *rewrite.ParseError
				if !errors.As(err, &pe) || pe.Line < 1 || !strings.HasPrefix(err.Error(), name+":") {
					t.Fatalf("buildkit rejects this file; want a ParseError with a line, got %v", err)
				}
				return
			}
			accepted++
			if err != nil {
				t.Fatalf("default rules: %v", err)
			}
			if res.Changed(src) {
				changed++
			}
			runsBefore += countRuns(t, src)
			runsAfter += countRuns(t, res.Output)
			for _, f := range res.Findings {
				n := perRule[f.Rule]
				if f.Applied {
					n[0]++
				} else {
					n[1]++
				}
				perRule[f.Rule] = n
			}
			id, err := rewrite.Source(src, rewrite.Options{Path: name})
			if err != nil || !bytes.Equal(id.Output, src) {
				t.Errorf("--disable=all is not the identity (err %v)", err)
			}
			checkStable(t, "default", res.Output, opts)

			fopts := rewrite.Options{Path: name, Format: true}
			fres, err := rewrite.Source(src, fopts)
			if err != nil {
				t.Fatalf("--fmt: %v", err)
			}
			if fres.Changed(src) {
				fmtChanged++
			}
			checkStable(t, "--fmt", fres.Output, fopts)
			before, _ := rewrite.Parse(name, src)
			after, _ := rewrite.Parse(name, fres.Output)
			if after == nil || !slices.Equal(before.Meaning(), after.Meaning()) {
				t.Errorf("--fmt changed the meaning")
			}

			// The same file written in lower case: --fmt keeps the meaning.
			// BuildKit's own checks of these outputs (no warning the input
			// had not; with --fmt, none about casing) run in the engine
			// module: engine/internal/buildlint.
			lower := lowerKeywords(before)
			lres, err := rewrite.Source(lower, fopts)
			if err != nil {
				t.Fatalf("--fmt, keywords in lower case: %v", err)
			}
			lbefore, _ := rewrite.Parse(name, lower)
			lafter, _ := rewrite.Parse(name, lres.Output)
			if lafter == nil || !slices.Equal(lbefore.Meaning(), lafter.Meaning()) {
				t.Errorf("--fmt changed the meaning of the file in lower case")
			}

			both := rewrite.Options{Path: name, Rules: rules.All(), Format: true}
			bres, err := rewrite.Source(src, both)
			if err != nil {
				t.Fatalf("default rules with --fmt: %v", err)
			}
			checkStable(t, "default+--fmt", bres.Output, both)
		})
	}
	t.Logf("corpus: %d files, %d accepted by buildkit, %d rejected; default rules change %d, --fmt changes %d",
		len(files), accepted, rejected, changed, fmtChanged)
	t.Logf("RUN instructions: %d before, %d after the default rules", runsBefore, runsAfter)
	for _, r := range rules.All() {
		n := perRule[r.Name]
		t.Logf("  %-26s %4d findings applied, %4d reported only", r.Name, n[0], n[1])
	}
}

func countRuns(t *testing.T, src []byte) int {
	doc, err := rewrite.Parse("x", src)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range doc.Instructions {
		if in.Keyword == "run" {
			n++
		}
	}
	return n
}

// lowerKeywords writes every instruction keyword of a document in lower case,
// as some authors do; BuildKit reads keywords in any case.
func lowerKeywords(d *rewrite.Document) []byte {
	out := slices.Clone(d.Src)
	for _, in := range d.Instructions {
		s, e := d.KeywordSpan(in)
		copy(out[s:e], bytes.ToLower(out[s:e]))
	}
	return out
}

// checkStable asserts that an output re-parses and is its own output.
func checkStable(t *testing.T, what string, out []byte, opts rewrite.Options) {
	t.Helper()
	if !buildkitAccepts(out) {
		t.Fatalf("%s: output does not parse", what)
	}
	again, err := rewrite.Source(out, opts)
	if err != nil {
		t.Fatalf("%s: second run: %v", what, err)
	}
	if !bytes.Equal(again.Output, out) {
		t.Errorf("%s: not idempotent:\n%s", what, rewrite.UnifiedDiff("out", out, again.Output))
	}
}

// TestNoPanic feeds inputs no Dockerfile author writes on purpose, and
// Dockerfiles that reach the rules, through every option set: each must keep
// Source's promises (see checkPromises), never panic.
func TestNoPanic(t *testing.T) {
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i*7919 + i>>3)
	}
	cases := []seedCase{
		{"empty", ""},
		{"blank lines", "\n\n   \n"},
		{"only comments", "# just a comment\n"},
		{"binary garbage", string(garbage)},
		{"invalid utf-8", "FROM alpine\nRUN echo \xff\xfe\xc3\x28\nLABEL x=\"\xe2\x82\"\n"},
		{"unterminated heredoc", "FROM alpine\nRUN <<EOF\necho hi\n"},
		{"1 MB line", "FROM alpine\nRUN echo " + strings.Repeat("x", 1<<20) + "\n"},
		{"nul bytes", "FROM alpine\x00\nRUN \x00\n"},
		{"lone continuation", "FROM alpine\nRUN \\"},
	}
	sets := optionSets(t)
	for _, c := range append(cases, ruleSeeds...) {
		t.Run(c.name, func(t *testing.T) {
			if broken := checkPromises([]byte(c.src), sets); len(broken) > 0 {
				t.Errorf("%s", strings.Join(broken, "\n"))
			}
		})
	}
}
