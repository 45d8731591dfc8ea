package rewrite_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
)

// TestReparse holds the documents Source makes after each step (parsing
// again only the lines around the edits) to a parse of the whole file, field
// by field, for every golden fixture, every seed and every corpus file, with
// every option set.
func TestReparse(t *testing.T) {
	cases := append(ruleSeeds, fixtureSeeds()...)
	if files, err := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", "dockerfiles", "*")); err == nil {
		for _, path := range files {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cases = append(cases, seedCase{filepath.Base(path), string(src)})
		}
	}
	steps := 0
	for _, set := range optionSets(t) {
		for _, c := range cases {
			_, _ = rewrite.SourceReparsed([]byte(c.src), set.opts, func(got *rewrite.Document) {
				steps++
				want, err := rewrite.Parse(got.Path, got.Src)
				if err != nil {
					t.Fatalf("%s, %s: the whole file does not parse: %v", c.name, set.name, err)
				}
				if diff := rewrite.DocumentDiff(got, want); diff != "" {
					t.Errorf("%s, %s: the document parsed again around the edits differs from a parse of the whole file: %s", c.name, set.name, diff)
				}
			})
		}
	}
	if steps == 0 {
		t.Fatal("no step edited a document: the test tests nothing")
	}
	t.Logf("%d documents compared", steps)
}
