package rules_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// projectsDir holds real repositories reduced to their tree, with their build
// contexts (../shared/projects beside the repository).
var projectsDir = filepath.Join("..", "..", "shared", "projects")

// project is one row of projects/SOURCES.tsv.
type project struct {
	dir         string
	dockerfiles []string // relative to the project's folder, the main one first
	context     string   // the main Dockerfile's build context, relative to the project's folder
}

func readProjects(t *testing.T) []project {
	t.Helper()
	f, err := os.Open(filepath.Join(projectsDir, "SOURCES.tsv"))
	if os.IsNotExist(err) && os.Getenv("CI") == "" {
		t.Skipf("no projects at %s: ../shared is absent", projectsDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = '\t'
	r.LazyQuotes = true
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
	var out []project
	for _, row := range rows[1:] {
		out = append(out, project{
			dir:         row[col["dir"]],
			dockerfiles: strings.Split(row[col["dockerfiles"]], ","),
			context:     row[col["context"]],
		})
	}
	return out
}

// TestProjects runs dfopt on every Dockerfile of the real projects, with the
// build context the project's own build uses, by default and with --propose,
// and compares findings and diff with testdata/projects/<project>/<path>.<mode>.
// Every golden was read by hand before it was accepted (-update writes them;
// read the git diff before committing).
//
// Every Dockerfile of a project gets the build context SOURCES.tsv names for
// the main one: the projects build their other Dockerfiles (.devops/*,
// docker/*/Dockerfile) from the same root with -f.
func TestProjects(t *testing.T) {
	projects := readProjects(t)
	seen := map[string]bool{}
	for _, pr := range projects {
		for _, df := range pr.dockerfiles {
			for _, mode := range []string{"default", "propose"} {
				name := pr.dir + "/" + df + "." + mode
				seen[filepath.Join("testdata", "projects", filepath.FromSlash(name))] = true
				t.Run(name, func(t *testing.T) {
					root := filepath.Join(projectsDir, pr.dir)
					path := filepath.Join(root, filepath.FromSlash(df))
					ctxDir := filepath.Join(root, filepath.FromSlash(pr.context))
					ctx, err := rewrite.OpenContext(ctxDir, path)
					if err != nil {
						t.Fatal(err)
					}
					src, err := os.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					opts := rewrite.Options{Path: df, Rules: rules.All(), Context: ctx, Propose: mode == "propose"}
					res, err := rewrite.Source(src, opts)
					if err != nil {
						t.Fatalf("Source: %v", err)
					}
					var b bytes.Buffer
					rel, _ := filepath.Rel(root, ctxDir)
					fmt.Fprintf(&b, "# dfopt %s--context %s %s\n", map[bool]string{true: "--propose "}[opts.Propose], filepath.ToSlash(rel), df)
					b.Write(findingsText(res.Findings))
					b.Write(rewrite.UnifiedDiff(df, src, res.Output))
					for _, fc := range res.Files {
						frel, _ := filepath.Rel(root, fc.Path)
						b.Write(rewrite.UnifiedDiff(filepath.ToSlash(frel), fc.Old, fc.New))
					}
					golden := filepath.Join("testdata", "projects", filepath.FromSlash(name))
					if *update {
						if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
							t.Fatal(err)
						}
					}
					compareGolden(t, golden, b.Bytes())

					again, err := rewrite.Source(res.Output, opts)
					if err != nil {
						t.Fatalf("Source on the output: %v", err)
					}
					if !bytes.Equal(again.Output, res.Output) {
						t.Errorf("not idempotent; second run gives:\n%s", again.Output)
					}
					checkReparse(t, src, res.Output)
					// BuildKit's own checks of the output run in the engine
					// module: engine/internal/buildlint.
				})
			}
		}
	}
	// A golden whose Dockerfile has gone is stale.
	filepath.WalkDir(filepath.Join("testdata", "projects"), func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && !seen[p] {
			t.Errorf("%s: no such project Dockerfile any more", p)
		}
		return nil
	})
}
