package rules_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/internal/fixture"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

var update = flag.Bool("update", false, "rewrite the .golden and .findings files of the fixtures")

// fixtureOptions picks the options of a fixture from its folder: a rule's name
// runs that rule alone, "all" runs the default pipeline, "fmt" only formats.
// A <case>.args file adds words: propose, fmt, merge-all, cache-mounts,
// dockerignore, large-file=SIZE, rules=a,b. A case with a build context is a
// folder, fixtures/<rule>/<case>/, holding the Dockerfile, Dockerfile.args and
// so on beside the context's files.
func fixtureOptions(t *testing.T, path string) rewrite.Options {
	t.Helper()
	dir := filepath.Base(filepath.Dir(path))
	if isContextCase(path) {
		dir = filepath.Base(filepath.Dir(filepath.Dir(path)))
	}
	opts := rewrite.Options{Path: filepath.Base(path)}
	switch dir {
	case "all":
		opts.Rules = rules.All()
	case "fmt":
		opts.Format = true
	default:
		r := rewrite.Lookup(rules.All(), dir)
		if r == nil {
			t.Fatalf("fixtures/%s: no rule of that name", dir)
		}
		opts.Rules = []*rewrite.Rule{r}
	}
	if err := fixture.ApplyArgs(&opts, path); err != nil {
		t.Fatal(err)
	}
	return opts
}

// isContextCase tells whether a fixture is a folder that is its build context.
func isContextCase(path string) bool { return filepath.Base(path) == "Dockerfile" }

func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("../fixtures/*/*.Dockerfile")
	withContext, _ := filepath.Glob("../fixtures/*/*/Dockerfile")
	cases = append(cases, withContext...)
	if err != nil || len(cases) == 0 {
		t.Fatalf("no fixtures found: %v", err)
	}
	// changes counts, per rule, the findings with edits or files across
	// every case, to check each rule's kind against what it does.
	changes, ran := map[string]int{}, 0
	defer func() {
		if ran == len(cases) && !t.Failed() {
			checkKinds(t, changes)
		}
	}()
	for _, path := range cases {
		name := strings.TrimPrefix(path, "../fixtures/")
		t.Run(name, func(t *testing.T) {
			ran++
			opts := fixtureOptions(t, path)
			if isContextCase(path) {
				ctx, err := rewrite.OpenContext(filepath.Dir(path), path)
				if err != nil {
					t.Fatal(err)
				}
				opts.Context = ctx
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := rewrite.Source(src, opts)
			if err != nil {
				t.Fatalf("Source: %v", err)
			}
			base := strings.TrimSuffix(path, ".Dockerfile")
			compareGolden(t, base+".golden", res.Output)
			compareGolden(t, base+".findings", findingsText(res.Findings))
			for _, f := range res.Findings {
				if len(f.Edits) > 0 || len(f.Files) > 0 {
					changes[f.Rule]++
				}
			}
			compareFileGoldens(t, path, res.Files)

			// Idempotence: the golden is its own output.
			again, err := rewrite.Source(res.Output, opts)
			if err != nil {
				t.Fatalf("Source on the output: %v", err)
			}
			if !bytes.Equal(again.Output, res.Output) {
				t.Errorf("not idempotent; second run gives:\n%s", again.Output)
			}
			checkReparse(t, src, res.Output)
			// BuildKit's own checks of the golden (no warning the input
			// had not) run in the engine module: engine/internal/buildlint.

			// With every rule off, the output is the input.
			id, err := rewrite.Source(src, rewrite.Options{Path: opts.Path})
			if err != nil || !bytes.Equal(id.Output, src) {
				t.Errorf("with no rules the output differs from the input (err %v)", err)
			}
		})
	}
}

// checkKinds checks each rule's kind against its findings in the fixtures: a
// report rule never changes anything, and every other rule does somewhere (or
// it is a report rule that calls itself safe).
func checkKinds(t *testing.T, changes map[string]int) {
	t.Helper()
	for _, r := range rules.All() {
		switch {
		case r.Kind == rewrite.Report && changes[r.Name] > 0:
			t.Errorf("%s is a report rule, yet %d findings in the fixtures carry changes", r.Name, changes[r.Name])
		case r.Kind != rewrite.Report && changes[r.Name] == 0:
			t.Errorf("%s is a %s rule, yet no finding in the fixtures carries a change: make it a report rule, or add a fixture", r.Name, r.Kind)
		}
	}
}

// compareFileGoldens compares the other files a context case writes (its
// .dockerignore, say) with <name>.golden beside them, and checks that every
// such golden still has its file.
func compareFileGoldens(t *testing.T, path string, files []rewrite.FileChange) {
	t.Helper()
	want := map[string]bool{}
	if isContextCase(path) {
		goldens, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.golden"))
		for _, g := range goldens {
			if g != path+".golden" {
				want[g] = true
			}
		}
	}
	for _, f := range files {
		compareGolden(t, f.Path+".golden", f.New)
		delete(want, f.Path+".golden")
	}
	for g := range want {
		t.Errorf("%s: the case writes no such file any more", g)
	}
}

func findingsText(fs []rewrite.Finding) []byte {
	var b bytes.Buffer
	for _, f := range fs {
		state := "reported"
		if f.Applied {
			state = "applied"
		}
		security := ""
		if f.Security {
			security = "security: "
		}
		fmt.Fprintf(&b, "%d: %s: %s%s (%s)\n", f.Line, f.Rule, security, f.Message, state)
	}
	return b.Bytes()
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./rules -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// checkReparse proves an output is a Dockerfile: buildkit's parser and
// instructions accept it, and no RUN whose shell parsed before fails to parse now.
func checkReparse(t *testing.T, in, out []byte) {
	t.Helper()
	res, err := parser.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	if _, _, err := instructions.Parse(res.AST, linter.New(&linter.Config{})); err != nil {
		t.Fatalf("output does not pass instructions.Parse: %v", err)
	}
	if bad, was := badShells(t, out), badShells(t, in); bad > was {
		t.Errorf("%d shell-form RUNs no longer parse as shell", bad-was)
	}
}

func badShells(t *testing.T, src []byte) int {
	doc, err := rewrite.Parse("x", src)
	if err != nil {
		t.Fatalf("rewrite.Parse: %v", err)
	}
	n := 0
	for _, in := range doc.Instructions {
		if in.Keyword == "run" && in.POSIX && !in.Node.Attributes["json"] && len(in.Node.Heredocs) == 0 && in.Shell == nil {
			n++
		}
	}
	return n
}
