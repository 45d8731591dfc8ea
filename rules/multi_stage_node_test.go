package rules_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// TestMultiStageNodeDevcontainer checks that a Dockerfile in a
// .devcontainer folder, an image to develop in, is not split: the fixture
// node-tsc, whose file is split, read again as .devcontainer/Dockerfile.
func TestMultiStageNodeDevcontainer(t *testing.T) {
	dir := filepath.Join("..", "fixtures", "multi-stage", "node-tsc")
	src, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for path, split := range map[string]bool{"Dockerfile": true, ".devcontainer/Dockerfile": false} {
		ctx, err := rewrite.OpenContext(dir, filepath.Join(dir, "Dockerfile"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := rewrite.Source(src, rewrite.Options{Path: path, Rules: []*rewrite.Rule{rules.MultiStage}, Context: ctx, Propose: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(res.Findings) > 0; got != split {
			t.Errorf("%s: split %v, want %v", path, got, split)
		}
	}
}
