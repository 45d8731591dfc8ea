package realbuild

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfopt/dfopt/internal/fixture"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// TestRealBuildFixtures builds every rule's fixtures that dfopt changes,
// before and after: the input, and its golden (the rule's own output with
// the fixture's options). TestRealBuild builds the merge-runs and all
// fixtures with every rule; this test builds the others, so that every
// fixture of a rule that changes a file is built for real where a base can
// be had.
//
// Only busybox and debian:bookworm can be made here (no registry is
// reachable), so most fixtures' bases are stood in for: a Debian-family
// image (debian:bookworm-slim, ubuntu:*) by debian:bookworm, and the
// language and other distributions' images (alpine, python, node, golang,
// maven, centos, fedora, ...) by dfopt-adv-tools, busybox with the fake
// package managers of testdata/adversarial/_tools, which read and write the
// folders the real tools do. What such a build proves is that the rewrite
// keeps the build's shell and file-system behaviour with those tools; the
// summary names the stand-in of each build. Windows bases are skipped.
//
// Differences a rule makes on purpose are set apart and listed, as in
// TestAdversarial: caches and indexes gone (deliberateRemovals), and what a
// proposal the fixture applies (its .args has propose) changes.
func TestRealBuildFixtures(t *testing.T) {
	e := requireEngine(t)
	buildTools(t, e)
	r := newAdvRun(t, e)
	r.checkPrune(t)
	root := repoRoot(t)
	cases := fixtureBuildCases(t, root)
	stand := &standIns{e: e, made: map[string]string{}}
	t.Cleanup(stand.remove)
	start := time.Now()
	var rows []advRow
	var rowsMu sync.Mutex
	slots := make(chan struct{}, fixtureBuilds()) // builds side by side
	t.Run("builds", func(t *testing.T) {
		for _, fc := range cases {
			t.Run(fc.name, func(t *testing.T) {
				t.Parallel()
				slots <- struct{}{}
				defer func() { <-slots }()
				buildFixture(t, r, stand, fc, &rows, &rowsMu)
			})
		}
	})
	slices.SortFunc(rows, func(a, b advRow) int { return strings.Compare(a.caseName, b.caseName) })
	t.Logf("fixtures built for real:\n%s", fixtureTable(rows, time.Since(start)))
}

// fixtureBuilds is how many fixtures build side by side: the builds wait on
// the network (apt) more than on the two cores. DFOPT_REALBUILD_FIXTURE_JOBS
// sets it.
func fixtureBuilds() int {
	if n, err := strconv.Atoi(os.Getenv("DFOPT_REALBUILD_FIXTURE_JOBS")); err == nil && n > 0 {
		return n
	}
	return 3
}

// buildFixture builds one fixture before and after and adds its row.
func buildFixture(t *testing.T, r *advRun, stand *standIns, fc fixtureBuildCase, rows *[]advRow, rowsMu *sync.Mutex) {
	row := advRow{caseName: fc.name, variant: "golden", changed: "yes", rules: appliedRules(fc.res)}
	defer func() {
		rowsMu.Lock()
		*rows = append(*rows, row)
		rowsMu.Unlock()
	}()
	req, err := requirementsOf(fc.src)
	if err != nil {
		row.result, row.detail = resSkipped, "BuildKit's parser rejects it"
		t.Skip(row.detail)
	}
	bases, why := stand.forImages(t, req.images)
	row.base = strings.Join(bases, ",")
	if why == "" {
		req.images = nil // every image is there now, or stood in for
		why = req.whyNot(r.e)
	}
	if why != "" {
		row.result, row.detail = resSkipped, why
		t.Skip(why)
	}
	c := &advCase{name: fc.name, dir: fixtureBuildContext(t, fc, false), src: fc.src}
	before := r.build(t, c, fc.src)
	if why, ok := frontendRejectsOutcome(before); ok {
		row.result, row.detail = resSkipped, "the engine's frontend rejects the input: "+why
		t.Skip(row.detail)
	}
	c.dir = fixtureBuildContext(t, fc, true)
	compareOutcomes(c, before, r.build(t, c, fc.golden), &row)
	if row.failing() && len(appliedProposals(fc.res)) > 0 {
		row.result, row.detail = resByProposal, "changed by the proposals of "+strings.Join(appliedProposals(fc.res), ",")+", which the fixture applies: "+row.detail
	}
	row.dfoptDiff = rewrite.UnifiedDiff(fc.name, fc.src, fc.golden)
	logRow(t, row)
	if row.failing() {
		t.Errorf("%s: %s\n%s", row.result, row.detail, report(row.diffs))
	}
}

// fixtureBuildCase is one fixture whose golden differs from its input.
type fixtureBuildCase struct {
	name        string // fixtures/<rule>/<case>
	context     string // its build context: its folder, or "" for none
	src, golden []byte
	res         *rewrite.Result // dfopt's run that made the golden, for its findings
}

// fixtureBuildCases lists the fixtures to build: every rule's, but
// merge-runs and all (TestRealBuild's), whose golden differs from its input.
func fixtureBuildCases(t *testing.T, root string) []fixtureBuildCase {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(root, "fixtures", "*", "*.Dockerfile"))
	dirs, _ := filepath.Glob(filepath.Join(root, "fixtures", "*", "*", "Dockerfile"))
	var out []fixtureBuildCase
	for _, path := range append(files, dirs...) {
		rel, _ := filepath.Rel(filepath.Join(root, "fixtures"), path)
		rule := strings.Split(filepath.ToSlash(rel), "/")[0]
		if rule == "merge-runs" || rule == "all" || rule == "fmt" || rule == "multi-stage" {
			continue // merge-runs and all: TestRealBuild; multi-stage changes the file system on purpose: TestMultiStage runs its programs
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		goldenPath := strings.TrimSuffix(path, ".Dockerfile") + ".golden"
		context := ""
		if filepath.Base(path) == "Dockerfile" {
			goldenPath, context = path+".golden", filepath.Dir(path)
		}
		golden, err := os.ReadFile(goldenPath)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(src, golden) {
			continue
		}
		opts := rewrite.Options{Path: filepath.Base(path), Rules: []*rewrite.Rule{rewrite.Lookup(rules.All(), rule)}}
		if err := fixture.ApplyArgs(&opts, path); err != nil {
			t.Fatal(err)
		}
		if context != "" {
			if opts.Context, err = rewrite.OpenContext(context, path); err != nil {
				t.Fatal(err)
			}
		}
		res, err := rewrite.Source(src, opts)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if !bytes.Equal(res.Output, golden) {
			t.Fatalf("%s: the golden is not dfopt's output (go test ./rules -run Golden)", rel)
		}
		name := strings.TrimSuffix(strings.TrimSuffix(filepath.ToSlash(rel), ".Dockerfile"), "/Dockerfile")
		out = append(out, fixtureBuildCase{name: name, context: context, src: src, golden: golden, res: res})
	}
	slices.SortFunc(out, func(a, b fixtureBuildCase) int { return strings.Compare(a.name, b.name) })
	return out
}

// fixtureBuildContext is the build context of a fixture's build: a copy of
// its folder, with the files dfopt writes beside the Dockerfile (a
// .dockerignore) in the after build; for a fixture with no folder, a
// folder holding an empty file for every source its COPY and ADD name, so
// that the build gets past them.
func fixtureBuildContext(t *testing.T, fc fixtureBuildCase, after bool) string {
	t.Helper()
	dir := t.TempDir()
	if fc.context != "" {
		// cp -a keeps symbolic links, which os.CopyFS refuses.
		if out, err := exec.Command("cp", "-a", fc.context+"/.", dir).CombinedOutput(); err != nil {
			t.Fatalf("copy %s: %v: %s", fc.context, err, out)
		}
		if after {
			for _, f := range fc.res.Files {
				rel, err := filepath.Rel(fc.context, f.Path)
				if err != nil || strings.HasPrefix(rel, "..") {
					t.Fatalf("%s writes %s, outside its build context", fc.name, f.Path)
				}
				if err := os.WriteFile(filepath.Join(dir, rel), f.New, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		return dir
	}
	for _, src := range copySources(fc.src) {
		p := filepath.Join(dir, filepath.FromSlash(src))
		if src == "." || strings.HasSuffix(src, "/") {
			// A folder, or the whole context: a small project in it, so
			// that the installs and builds after it get as far as they
			// would in a real one.
			_ = os.MkdirAll(p, 0o755)
			for name, content := range projectFiles {
				_ = os.WriteFile(filepath.Join(p, name), []byte(content), 0o644)
			}
			continue
		}
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		_ = os.WriteFile(p, []byte(projectFiles[path.Base(src)]), 0o644)
	}
	return dir
}

// projectFiles is what a made-up context holds for a fixture without one:
// the manifests the fake package managers read (../testdata/adversarial/
// _tools), with enough in them for an install to go through. Any other
// file a COPY names is empty.
var projectFiles = map[string]string{
	"package.json":      `{"name": "app", "version": "1.0.0"}` + "\n",
	"package-lock.json": `{"name": "app", "lockfileVersion": 3}` + "\n",
	"yarn.lock":         "# yarn lockfile v1\n",
	"requirements.txt":  "flask\n",
	"go.mod":            "module example.com/app\n\ngo 1.22\n",
	"go.sum":            "",
	"main.go":           "package main\n\nfunc main() {}\n",
	"composer.json":     "{}\n",
	"pom.xml":           "<project/>\n",
}

// copySources lists the context paths a Dockerfile's COPY and ADD name: "."
// for the whole context, "dir/" for a folder, and for a wildcard the
// projectFiles it matches; none for --from, a URL or a variable.
func copySources(src []byte) []string {
	d, err := rewrite.Parse("Dockerfile", src)
	if err != nil {
		return nil
	}
	var out []string
	for _, in := range d.Instructions {
		var srcs []string
		switch c := in.Command.(type) {
		case *instructions.CopyCommand:
			if c.From == "" {
				srcs = c.SourcePaths
			}
		case *instructions.AddCommand:
			srcs = c.SourcePaths
		}
		for _, s := range srcs {
			clean := strings.TrimPrefix(path.Clean("/"+s), "/")
			switch {
			case strings.Contains(s, "$") || strings.Contains(s, "://") || strings.HasPrefix(s, "git@"):
				continue
			case clean == "":
				clean = "." // the whole context
			case strings.ContainsAny(s, "*?["):
				// A pattern: the project files it matches (package*.json).
				for _, name := range slices.Sorted(maps.Keys(projectFiles)) {
					if ok, _ := path.Match(clean, path.Join(path.Dir(clean), name)); ok {
						out = append(out, path.Join(path.Dir(clean), name))
					}
				}
				continue
			case strings.HasSuffix(s, "/"):
				clean += "/"
			}
			out = append(out, clean)
		}
	}
	return out
}

// standIns tags local images under the names fixtures build FROM.
type standIns struct {
	mu   sync.Mutex
	e    *engine
	made map[string]string // image reference -> the stand-in tagged as it
}

// localImages are the images the store is given and the tests make; every
// other base is stood in for.
var localImages = []string{"busybox", "busybox:latest", debianBase, advToolsImage}

// debianFamily are the images debian:bookworm stands in for.
var debianFamily = []string{"debian", "ubuntu"}

// forImages makes every image a fixture needs, or says why it cannot: the
// stand-ins tagged as each, listed in bases.
func (s *standIns) forImages(t *testing.T, images []string) (bases []string, why string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, img := range images {
		if slices.Contains(localImages, img) {
			bases = append(bases, img)
			continue
		}
		stand, reason := standInFor(img)
		switch {
		case stand == "":
			return bases, reason
		case stand == debianBase && os.Getenv("DFOPT_REALBUILD_DEBIAN") != "1":
			return bases, img + " is stood in for by debian:bookworm: set DFOPT_REALBUILD_DEBIAN=1"
		}
		if s.made[img] == "" {
			if err := s.e.tag(stand, img); err != nil {
				return bases, fmt.Sprintf("tag %s as %s: %v", stand, img, err)
			}
			s.made[img] = stand
		}
		bases = append(bases, img+"="+strings.TrimSuffix(stand, ":latest"))
	}
	return bases, ""
}

// standInFor names the local image that stands in for a reference, or says
// why none can.
func standInFor(ref string) (string, string) {
	repo, _, _ := strings.Cut(strings.ToLower(ref), "@")
	if i := strings.LastIndexByte(repo, ':'); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	name := repo[strings.LastIndex(repo, "/")+1:]
	switch {
	case strings.Contains(repo, "windows") || strings.Contains(repo, "nanoserver") || strings.Contains(repo, "servercore"):
		return "", "a Windows base: no engine here runs it"
	case slices.Contains(debianFamily, name):
		return debianBase, ""
	}
	return advToolsImage, ""
}

// remove untags the stand-ins.
func (s *standIns) remove() {
	for img := range s.made {
		s.e.removeImage(img)
	}
}

// fixtureTable is the summary of the fixtures' builds.
func fixtureTable(rows []advRow, wall time.Duration) string {
	var b strings.Builder
	counts := map[string]int{}
	for _, r := range rows {
		counts[r.result]++
		fmt.Fprintf(&b, "%-60s %-40s %-30s %s\n", r.caseName, r.base, r.result, oneLine(r.detail, 120))
	}
	var keys []string
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Fprintf(&b, "%d fixtures in %s:", len(rows), wall.Round(time.Second))
	for _, k := range keys {
		fmt.Fprintf(&b, " %s %d;", k, counts[k])
	}
	return b.String()
}

// TestStandInFor checks, without an engine, which local image stands in
// for a fixture's base.
func TestStandInFor(t *testing.T) {
	for ref, want := range map[string]string{
		"debian:bookworm-slim":                          debianBase,
		"ubuntu:24.04":                                  debianBase,
		"docker.io/library/debian:12@sha256:abc":        debianBase,
		"alpine:3.20":                                   advToolsImage,
		"python:3.12-slim":                              advToolsImage,
		"registry.access.redhat.com/ubi9/ubi-minimal":   advToolsImage,
		"mcr.microsoft.com/windows/servercore:ltsc2022": "",
	} {
		if got, _ := standInFor(ref); got != want {
			t.Errorf("standInFor(%s) = %q, want %q", ref, got, want)
		}
	}
}

// TestCopySources checks what a made-up context gets for each kind of
// COPY source.
func TestCopySources(t *testing.T) {
	got := copySources([]byte("FROM busybox\nCOPY package*.json ./\nCOPY . .\nCOPY src/ /src/\nCOPY a/b.txt $X /d/\nCOPY --from=build /x /x\nADD https://example.com/f /f\n"))
	want := []string{"package-lock.json", "package.json", ".", "src/", "a/b.txt"}
	if !slices.Equal(got, want) {
		t.Errorf("copySources = %q, want %q", got, want)
	}
}
