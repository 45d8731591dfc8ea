package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// TestProposalsApply checks what a finding's message promises: a finding
// that calls itself a proposal has an edit that --propose applies. Run on
// the real projects and the corpus, with --propose.
func TestProposalsApply(t *testing.T) {
	var inputs []string
	for _, pr := range readProjects(t) {
		for _, df := range pr.dockerfiles {
			inputs = append(inputs, filepath.Join(projectsDir, pr.dir, filepath.FromSlash(df))+"\x00"+filepath.Join(projectsDir, pr.dir, filepath.FromSlash(pr.context)))
		}
	}
	corpus, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", "dockerfiles", "*"))
	inputs = append(inputs, corpus...)
	for _, in := range inputs {
		path, ctxDir, _ := strings.Cut(in, "\x00")
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		opts := rewrite.Options{Path: path, Rules: rules.All(), Propose: true}
		if ctxDir != "" {
			if opts.Context, err = rewrite.OpenContext(ctxDir, path); err != nil {
				t.Fatal(err)
			}
		}
		res, err := rewrite.Source(src, opts)
		if err != nil {
			continue // the corpus holds files buildkit rejects
		}
		for _, f := range res.Findings {
			if strings.Contains(f.Message, "proposal") && !f.Applied {
				t.Errorf("%s:%d: %s: a proposal --propose does not apply: %s", path, f.Line, f.Rule, f.Message)
			}
		}
	}
}
