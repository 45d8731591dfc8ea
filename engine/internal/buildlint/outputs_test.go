package buildlint_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/engine/internal/buildlint"
	"github.com/dfopt/dfopt/internal/fixture"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// These tests hold dfopt's outputs to BuildKit's own checks. They live in
// the engine module rather than beside the golden, corpus and project tests
// of rules and rewrite because the checks link BuildKit's Dockerfile-to-LLB
// converter, and through it gRPC, OpenTelemetry and containerd, which
// dfopt's module must not need.

// TestFixtures checks every fixture's golden, the output rules' TestGolden
// holds dfopt to, against its input: the golden may have no warning the
// input did not have, and with --fmt none about casing at all.
func TestFixtures(t *testing.T) {
	root := filepath.Join("..", "..", "..", "fixtures")
	cases, _ := filepath.Glob(filepath.Join(root, "*", "*.Dockerfile"))
	withContext, _ := filepath.Glob(filepath.Join(root, "*", "*", "Dockerfile"))
	cases = append(cases, withContext...)
	if len(cases) == 0 {
		t.Fatalf("no fixtures in %s", root)
	}
	for _, path := range cases {
		name, _ := filepath.Rel(root, path)
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// <case>.golden, or Dockerfile.golden in a context case's folder.
			out, err := os.ReadFile(strings.TrimSuffix(path, ".Dockerfile") + ".golden")
			if err != nil {
				t.Fatalf("%v (go test ./rules -run Golden -update at the repository's root writes it)", err)
			}
			var opts rewrite.Options
			if err := fixture.ApplyArgs(&opts, path); err != nil {
				t.Fatal(err)
			}
			checkLint(t, "golden", in, out, opts.Format || strings.HasPrefix(name, "fmt"+string(filepath.Separator)))
		})
	}
}

// TestCorpus checks what dfopt makes of every file of the real-world corpus
// in ../shared/corpus/dockerfiles that BuildKit accepts, as rewrite's
// TestCorpus makes it: with the default rules, with --fmt (of the file, and
// of the file with its keywords in lower case) and with both.
func TestCorpus(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "..", "shared", "corpus", "dockerfiles")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Skipf("corpus not found at %s: ../shared is absent, skipping the corpus checks", dir)
	}
	checked := 0
	for _, path := range files {
		name := filepath.Base(path)
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			doc, err := rewrite.Parse(name, src)
			if pe := (*rewrite.ParseError)(nil); errors.As(err, &pe) {
				return // BuildKit rejects it: nothing to compare
			} else if err != nil {
				t.Fatal(err)
			}
			checked++
			for _, c := range []struct {
				what string
				in   []byte
				opts rewrite.Options
			}{
				{"default", src, rewrite.Options{Rules: rules.All()}},
				{"--fmt", src, rewrite.Options{Format: true}},
				{"--fmt, keywords in lower case", lowerKeywords(doc), rewrite.Options{Format: true}},
				{"default+--fmt", src, rewrite.Options{Rules: rules.All(), Format: true}},
			} {
				c.opts.Path = name
				res, err := rewrite.Source(c.in, c.opts)
				if err != nil {
					t.Fatalf("%s: %v", c.what, err)
				}
				checkLint(t, c.what, c.in, res.Output, c.opts.Format)
			}
		})
	}
	t.Logf("corpus: %d files, %d accepted by BuildKit and checked", len(files), checked)
}

// TestProjects checks what dfopt makes of every Dockerfile of the real
// projects in ../shared/projects, as rules' TestProjects makes it: with the
// build context SOURCES.tsv names, by default and with --propose.
func TestProjects(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "..", "shared", "projects")
	f, err := os.Open(filepath.Join(dir, "SOURCES.tsv"))
	if os.IsNotExist(err) && os.Getenv("CI") == "" {
		t.Skipf("no projects at %s: ../shared is absent", dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.LazyQuotes = '\t', true
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("SOURCES.tsv: %v (%d rows)", err, len(rows))
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, name := range []string{"dir", "dockerfiles", "context"} {
		if _, ok := col[name]; !ok {
			t.Fatalf("SOURCES.tsv: no column %q", name)
		}
	}
	for _, row := range rows[1:] {
		root := filepath.Join(dir, row[col["dir"]])
		for _, df := range strings.Split(row[col["dockerfiles"]], ",") {
			t.Run(row[col["dir"]]+"/"+df, func(t *testing.T) {
				path := filepath.Join(root, filepath.FromSlash(df))
				ctx, err := rewrite.OpenContext(filepath.Join(root, filepath.FromSlash(row[col["context"]])), path)
				if err != nil {
					t.Fatal(err)
				}
				src, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				for _, propose := range []bool{false, true} {
					res, err := rewrite.Source(src, rewrite.Options{Path: df, Rules: rules.All(), Context: ctx, Propose: propose})
					if err != nil {
						t.Fatalf("Source: %v", err)
					}
					checkLint(t, map[bool]string{false: "default", true: "--propose"}[propose], src, res.Output, false)
				}
			})
		}
	}
}

// checkLint runs BuildKit's checks (those of `docker build --check`) on an
// input and its output: the output may have no warning its input did not
// have (counted per check), and when formatted none about casing at all.
func checkLint(t *testing.T, what string, in, out []byte, formatted bool) {
	t.Helper()
	for _, msg := range buildlint.Added(in, out) {
		t.Errorf("%s: BuildKit's checks: the output has what the input had not: %s", what, msg)
	}
	if formatted {
		for _, w := range buildlint.Check(out).Casing() {
			t.Errorf("%s: BuildKit's checks: --fmt left %s", what, w)
		}
	}
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
