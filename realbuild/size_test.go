package realbuild

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// debianBase is the base image of the apt size fixtures; the store imports
// it from buildkit.sh's debootstrap folder when DFOPT_REALBUILD_DEBIAN=1.
const debianBase = "debian:bookworm"

// sizeFixtures lists the Dockerfiles whose image size TestAptImageSize reports:
// fixtures with a <case>.realbuild-debian marker, and the harness's own
// testdata/apt-*/Dockerfile.
func sizeFixtures(t *testing.T, root string) []string {
	t.Helper()
	files, err := markedFixtures(root, ".realbuild-debian")
	if err != nil {
		t.Fatal(err)
	}
	own, err := filepath.Glob(filepath.Join(root, "realbuild", "testdata", "apt-*", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, own...)
	slices.Sort(files)
	return slices.Compact(files)
}

// sizeContext is a size fixture's build context: the harness's own cases build
// in their folder, fixtures as TestRealBuild builds them.
func sizeContext(t *testing.T, path string) string {
	if filepath.Base(path) == "Dockerfile" {
		return filepath.Dir(path)
	}
	return fixtureContext(t, path)
}

// TestAptImageSize builds apt-heavy Dockerfiles on a real debian:bookworm before
// and after dfopt and reports how much smaller the image comes out. It fails
// only when a build fails: the after image may rightly lack files (package
// lists, caches), so the file system differences are counted, not judged, and
// equal sizes are a result too (the rules that shrink these may not exist yet).
// With DFOPT_REALBUILD_REPORT set, each result is appended to that file.
func TestAptImageSize(t *testing.T) {
	e := requireDebianEngine(t, "also needs debian:bookworm")
	root := repoRoot(t)
	files := sizeFixtures(t, root)
	if len(files) == 0 {
		t.Fatal("no size fixtures: testdata/apt-heavy/Dockerfile is missing")
	}
	var lines []string
	for _, path := range files {
		rel, _ := filepath.Rel(root, path)
		t.Run(strings.TrimSuffix(rel, ".Dockerfile"), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			req, err := requirementsOf(src)
			if err != nil {
				t.Fatal(err)
			}
			if why := req.whyNot(e); why != "" {
				t.Skip(why)
			}
			res := optimizeFixture(t, path, src)
			if !res.Changed(src) {
				t.Logf("dfopt leaves it unchanged: built once")
			}
			contextDir := sizeContext(t, path)
			before, err := buildImage(t, e, contextDir, "before", src)
			if err != nil {
				t.Fatalf("does not build before dfopt: %v", err)
			}
			after := before
			if res.Changed(src) {
				if after, err = buildImage(t, e, contextDir, "after", res.Output); err != nil {
					t.Fatalf("dfopt's output does not build, the input does: %v\n--- dfopt's output:\n%s", err, res.Output)
				}
			}
			delta := after.info.Size - before.info.Size
			pct := 0.0
			if before.info.Size > 0 {
				pct = 100 * float64(delta) / float64(before.info.Size)
			}
			line := fmt.Sprintf("%s: size %d -> %d bytes (%+d, %+.1f%%), %s -> %s, layers %d -> %d",
				rel, before.info.Size, after.info.Size, delta, pct,
				humanBytes(before.info.Size), humanBytes(after.info.Size),
				len(before.info.RootFS.Layers), len(after.info.RootFS.Layers))
			t.Log(line)
			if diffs := compareTrees(before.tree, after.tree); len(diffs) > 0 {
				t.Logf("file systems: %s; the first differences:\n%s", treeSummary(before.tree, after.tree), report(diffs[:min(len(diffs), 30)]))
			}
			if diffs := compareConfigs(before.info, after.info); len(diffs) > 0 {
				t.Errorf("the rewrite changes the image configuration:\n%s", report(diffs))
			}
			lines = append(lines, line)
		})
	}
	if path := os.Getenv("DFOPT_REALBUILD_REPORT"); path != "" && len(lines) > 0 {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatalf("DFOPT_REALBUILD_REPORT: %v", err)
		}
		_, err = fmt.Fprintln(f, strings.Join(lines, "\n"))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatalf("DFOPT_REALBUILD_REPORT: %v", err)
		}
	}
}
