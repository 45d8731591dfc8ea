package realbuild

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfopt/dfopt/internal/imagefs"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// appsDir holds the apps TestRebuildCache builds, one folder each.
const appsDir = "testdata/apps"

// rebuildApp is one app of testdata/apps: a small real project whose
// Dockerfile copies the whole project before installing its dependencies, as
// many Dockerfiles do, and what copy-manifests-first must make of it.
type rebuildApp struct {
	name      string   // its folder under testdata/apps
	manifests []string // what the optimized Dockerfile copies before the install, in that order
	install   string   // how the dependency step before COPY . . starts in the optimized Dockerfile
	source    string   // the source file each rebuild edits
	comment   string   // what starts a line comment in it
	propose   bool     // the rewrite is a proposal: dfopt runs with --propose
}

func rebuildApps() []rebuildApp {
	return []rebuildApp{
		{name: "node", manifests: []string{"package.json", "package-lock.json"}, install: "RUN npm ci", source: "server.js", comment: "//"},
		{name: "go", manifests: []string{"go.mod", "go.sum"}, install: "RUN go mod download", source: "main.go", comment: "//"},
		{name: "python", manifests: []string{"requirements.txt"}, install: "RUN pip install", source: "app.py", comment: "#"},
		// make build, whose Makefile recipe runs go build: a proposal.
		{name: "make", manifests: []string{"go.mod", "go.sum"}, install: "RUN go mod download", source: "main.go", comment: "//", propose: true},
	}
}

// rebuildRuns is how often each app is changed and built again:
// DFOPT_REBUILD_RUNS, 3 by default.
func rebuildRuns(t *testing.T) int {
	t.Helper()
	s := os.Getenv("DFOPT_REBUILD_RUNS")
	if s == "" {
		return 3
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("DFOPT_REBUILD_RUNS=%q: want a whole number of at least 1", s)
	}
	return n
}

// stepName is how BuildKit names an instruction in its output, with single
// spaces between words: "RUN npm ci --omit=dev".
func stepName(text string) string {
	f := strings.Fields(text)
	if len(f) > 0 {
		f[0] = strings.ToUpper(f[0])
	}
	return strings.Join(f, " ")
}

// appSteps are the steps of an app's Dockerfile the rebuild check looks at.
type appSteps struct {
	toolchain []byte // the lines before the whole-project COPY: base image, apt-get, WORKDIR
	whole     string // the COPY of the whole project
	install   string // the dependency step: after the whole COPY in the original, before it in dfopt's output
	manifests string // the COPY of the manifests before the install (dfopt's output only)
}

// wholeCopy finds the COPY of the whole build context ("COPY . ." and the like).
func wholeCopy(nodes []*parser.Node) int {
	return slices.IndexFunc(nodes, func(n *parser.Node) bool {
		return strings.EqualFold(n.Value, "copy") && len(n.Flags) == 0 &&
			n.Next != nil && strings.TrimPrefix(n.Next.Value, "./") == "." && n.Next.Next != nil && n.Next.Next.Next == nil
	})
}

// readSteps finds an app's steps in its original Dockerfile (optimized
// false: the install is the first RUN after the whole COPY) or in dfopt's
// output (optimized true: the manifests' COPY and the install come right
// before the whole COPY).
func readSteps(src []byte, app rebuildApp, optimized bool) (appSteps, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return appSteps{}, err
	}
	nodes := res.AST.Children
	w := wholeCopy(nodes)
	if w < 0 {
		return appSteps{}, fmt.Errorf("no COPY of the whole project")
	}
	lines := bytes.SplitAfter(src, []byte("\n"))
	s := appSteps{
		toolchain: bytes.Join(lines[:nodes[w].StartLine-1], nil),
		whole:     stepName(nodes[w].Original),
	}
	if !optimized {
		r := slices.IndexFunc(nodes[w:], func(n *parser.Node) bool { return strings.EqualFold(n.Value, "run") })
		if r < 0 {
			return appSteps{}, fmt.Errorf("no RUN after %s", s.whole)
		}
		s.install = stepName(nodes[w+r].Original)
		return s, nil
	}
	if w < 2 {
		return appSteps{}, fmt.Errorf("nothing before %s: the manifests are not copied first", s.whole)
	}
	run, cp := nodes[w-1], nodes[w-2]
	s.install, s.manifests = stepName(run.Original), stepName(cp.Original)
	if !strings.HasPrefix(s.install, app.install) {
		return appSteps{}, fmt.Errorf("the step before %s is %q, not %s", s.whole, s.install, app.install)
	}
	want := "COPY " + strings.Join(app.manifests, " ") + " "
	if !strings.HasPrefix(s.manifests, want) {
		return appSteps{}, fmt.Errorf("the step before %q is %q, not a %s...", s.install, s.manifests, want)
	}
	return s, nil
}

// rebuildCase is one app ready to build: its build context (a copy of the
// app that the rebuilds edit), the original Dockerfile, dfopt's output and
// their steps.
type rebuildCase struct {
	app       rebuildApp
	dir       string
	orig, opt []byte
	origSteps appSteps
	optSteps  appSteps
}

// prepareRebuild copies an app into a fresh build context and rewrites its
// Dockerfile with every rule and that context, as dfopt -w would. It fails
// unless copy-manifests-first rewrote the file: the test is its proof.
func prepareRebuild(dir string, app rebuildApp) (*rebuildCase, error) {
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(appsDir, app.name))); err != nil {
		return nil, fmt.Errorf("copy the app: %w", err)
	}
	dockerfile := filepath.Join(dir, "Dockerfile")
	src, err := os.ReadFile(dockerfile)
	if err != nil {
		return nil, err
	}
	ctx, err := rewrite.OpenContext(dir, dockerfile)
	if err != nil {
		return nil, err
	}
	name := filepath.ToSlash(filepath.Join(appsDir, app.name, "Dockerfile"))
	res, err := rewrite.Source(src, rewrite.Options{Path: name, Rules: rules.All(), Context: ctx, Propose: app.propose})
	if err != nil {
		return nil, fmt.Errorf("dfopt: %w", err)
	}
	if !res.Changed(src) {
		return nil, fmt.Errorf("dfopt leaves %s unchanged: copy-manifests-first must rewrite it", name)
	}
	fired := slices.ContainsFunc(res.Findings, func(f rewrite.Finding) bool {
		return f.Rule == rules.CopyManifestsFirst.Name && f.Applied
	})
	var findings []string
	for _, f := range res.Findings {
		findings = append(findings, fmt.Sprintf("%d: %s: %s (applied: %v)", f.Line, f.Rule, f.Message, f.Applied))
	}
	if !fired {
		return nil, fmt.Errorf("copy-manifests-first did not rewrite %s; findings:\n%s\n--- dfopt's output:\n%s", name, strings.Join(findings, "\n"), res.Output)
	}
	c := &rebuildCase{app: app, dir: dir, orig: src, opt: res.Output}
	if c.origSteps, err = readSteps(src, app, false); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if c.optSteps, err = readSteps(res.Output, app, true); err != nil {
		return nil, fmt.Errorf("dfopt's output of %s: %w\n%s", name, err, res.Output)
	}
	// The toolchain build warms the cache both builds start from.
	if !bytes.HasPrefix(res.Output, c.origSteps.toolchain) {
		return nil, fmt.Errorf("dfopt's output of %s changes the lines before %s:\n%s", name, c.origSteps.whole, res.Output)
	}
	return c, nil
}

// localCADir is where update-ca-certificates finds the certificates a machine
// trusts besides Debian's (*.crt, in subfolders too).
const localCADir = "/usr/local/share/ca-certificates"

// hostCAs lists the certificates the host trusts from localCADir, relative to it.
func hostCAs() ([]string, error) {
	var out []string
	err := filepath.WalkDir(localCADir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".crt") {
			rel, err := filepath.Rel(localCADir, p)
			if err != nil {
				return err
			}
			out = append(out, rel)
		}
		return nil
	})
	if os.IsNotExist(err) {
		return nil, nil
	}
	return out, err
}

// appBase is the image the apps build on instead of debian:bookworm, so that
// their HTTPS works where the host's does.
const appBase = "dfopt-realbuild-rebuild-base:bookworm"

// trustingBase returns the base image of the apps: debian:bookworm or, when
// the host trusts certificates of its own (where HTTPS goes through an
// intercepting proxy, say), debian:bookworm with those certificates in
// localCADir, where the apps' apt-get install ca-certificates adds them to the
// bundle that npm, node and go read. Original and optimized build on the same
// base, so it changes neither what the comparison sees nor the rewrite.
func trustingBase(t *testing.T, e *engine) string {
	t.Helper()
	cas, err := hostCAs()
	if err != nil {
		t.Fatalf("read the host's own CA certificates: %v", err)
	}
	if len(cas) == 0 {
		return debianBase
	}
	dir := t.TempDir()
	for _, rel := range cas {
		data, err := os.ReadFile(filepath.Join(localCADir, rel))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, "ca", rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "Dockerfile")
	text := "FROM " + debianBase + "\nCOPY ca/ " + localCADir + "/\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.build(t.Context(), file, dir, appBase); err != nil {
		t.Fatalf("build %s: %v", appBase, err)
	}
	t.Cleanup(func() { e.removeImage(appBase) })
	t.Logf("the apps build on %s: %s with the host's own CA certificates from %s (%s), which HTTPS from this machine needs",
		appBase, debianBase, localCADir, strings.Join(cas, ", "))
	return appBase
}

// onBase makes a Dockerfile's first stage, where the toolchain is installed,
// build on base instead of debian:bookworm (a later stage, which only runs
// the app, stays on debian:bookworm).
func onBase(text []byte, base string) ([]byte, error) {
	m := firstFrom.FindSubmatchIndex(text)
	if m == nil || !bytes.Equal(text[m[2]:m[3]], []byte(debianBase)) {
		return nil, fmt.Errorf("want the first stage FROM %s", debianBase)
	}
	return slices.Concat(text[:m[2]], []byte(base), text[m[3]:]), nil
}

// firstFrom matches the first FROM line; its group is the image.
var firstFrom = regexp.MustCompile(`(?m)^FROM (\S+)(?: AS \S+)?$`)

// stepRun is what a build's output says of one step.
type stepRun struct {
	cached bool
	secs   float64 // how long BuildKit says the step ran; -1 when it does not say
}

// buildRun is one timed build.
type buildRun struct {
	id    string
	wall  time.Duration
	steps map[string]stepRun // by stepName
	out   string             // the builder's output
}

// timedBuild builds text as a Dockerfile in contextDir, with each step in the
// output (BuildKit's plain progress), and measures the wall time of the
// build and its export into the store. The Dockerfile goes to scratch.
func timedBuild(ctx context.Context, e *engine, scratch, contextDir string, text []byte) (*buildRun, error) {
	f, err := os.CreateTemp(scratch, "*.Dockerfile")
	if err != nil {
		return nil, err
	}
	_, err = f.Write(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	start := time.Now()
	id, out, err := e.build(ctx, f.Name(), contextDir, "")
	wall := time.Since(start)
	if err != nil {
		return nil, err
	}
	return &buildRun{id: id, wall: wall, steps: buildkitSteps(out), out: out}, nil
}

var (
	// "#9 [5/5] RUN npm ci", "#1 [internal] load build definition from x"
	buildkitVertex = regexp.MustCompile(`^#(\d+) \[[^\]]*\] (.*)$`)
	// "#9 CACHED", "#9 DONE 1.2s"
	buildkitStatus = regexp.MustCompile(`^#(\d+) (CACHED|DONE ([0-9.]+)s)\s*$`)
)

// buildkitSteps reads BuildKit's plain progress output: each vertex's name
// and whether it was CACHED or how long it ran.
func buildkitSteps(out string) map[string]stepRun {
	names := map[string]string{}
	steps := map[string]stepRun{}
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\r\n")
		if m := buildkitVertex.FindStringSubmatch(line); m != nil {
			names[m[1]] = stepName(m[2])
			if _, ok := steps[names[m[1]]]; !ok {
				steps[names[m[1]]] = stepRun{secs: -1}
			}
			continue
		}
		m := buildkitStatus.FindStringSubmatch(line)
		if m == nil || names[m[1]] == "" {
			continue
		}
		s := steps[names[m[1]]]
		if m[2] == "CACHED" {
			s.cached = true
		} else if secs, err := strconv.ParseFloat(m[3], 64); err == nil {
			s.secs = secs
		}
		steps[names[m[1]]] = s
	}
	return steps
}

// step looks a step up in a build's output; a step the output does not name
// fails the test with the output, since the check cannot be made without it.
func (r *buildRun) step(t *testing.T, label, name string) stepRun {
	t.Helper()
	s, ok := r.steps[name]
	if !ok {
		t.Fatalf("%s: the build output names no step %q; the output:\n%s", label, name, tailLines(r.out, 60))
	}
	return s
}

// median of durations (the mean of the middle two for an even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

// rebuildRow is one line of TestRebuildCache's table.
type rebuildRow struct {
	app               string
	toolchain         time.Duration // the cache warm-up, all apps in parallel
	firstOrig         time.Duration
	firstOpt          time.Duration
	rebuildOrig       []time.Duration
	rebuildOpt        []time.Duration
	skipped           float64 // how long dfopt's dependency step ran in its first build (BuildKit says; -1: unknown)
	cached, rebuilds  int     // optimized rebuilds whose dependency step was cached, of rebuilds
	sizeOrig, sizeOpt int64
}

const rebuildHeader = "app     toolchain*  first build orig/opt  rebuild median orig/opt  speed-up         skipped**  install cached  image size orig/opt"

func (r rebuildRow) String() string {
	mo, mp := median(r.rebuildOrig), median(r.rebuildOpt)
	speed := "-"
	if mp > 0 {
		speed = fmt.Sprintf("%.2fx (%+.1fs)", mo.Seconds()/mp.Seconds(), (mp - mo).Seconds())
	}
	skipped := "-"
	if r.skipped >= 0 {
		skipped = fmt.Sprintf("%.1fs", r.skipped)
	}
	return fmt.Sprintf("%-7s %-11s %-21s %-24s %-16s %-10s %-15s %s",
		r.app, secs(r.toolchain), secs(r.firstOrig)+" / "+secs(r.firstOpt),
		secs(mo)+" / "+secs(mp), speed, skipped, fmt.Sprintf("%d/%d", r.cached, r.rebuilds),
		humanBytes(r.sizeOrig)+" / "+humanBytes(r.sizeOpt))
}

const rebuildFootnote = `* toolchain: FROM, apt-get install and WORKDIR, built for every app at once before the timed builds, so that both first builds find them cached.
** skipped: how long the dependency step of dfopt's output (npm ci, go mod download, pip install) ran in its first build, as BuildKit counts it; each optimized rebuild takes it from the cache.`

// appendReport appends lines to the file DFOPT_REALBUILD_REPORT names, if any.
func appendReport(t *testing.T, lines []string) {
	t.Helper()
	path := os.Getenv("DFOPT_REALBUILD_REPORT")
	if path == "" || len(lines) == 0 {
		return
	}
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

// warmUp is one app's toolchain build, made before the timed builds.
type warmUp struct {
	id   string
	wall time.Duration
	err  error
}

// warmToolchains builds every app's toolchain lines at once, so that the
// timed builds find them cached and the slow apt-get installs overlap.
func warmToolchains(ctx context.Context, e *engine, scratch, base string, cases []*rebuildCase) []warmUp {
	out := make([]warmUp, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		if c == nil {
			continue
		}
		wg.Go(func() {
			text, err := onBase(c.origSteps.toolchain, base)
			if err != nil {
				out[i].err = err
				return
			}
			r, err := timedBuild(ctx, e, scratch, scratch, text)
			if err != nil {
				out[i].err = err
				return
			}
			out[i] = warmUp{id: r.id, wall: r.wall}
		})
	}
	wg.Wait()
	return out
}

// TestRebuildCache proves copy-manifests-first on real builds: for a Node app
// (npm ci from the npm registry), a Go app (modules from the Go module proxy)
// and a Python app (pip install -r, satisfied by Debian's python3 packages),
// it builds the original Dockerfile and dfopt's output, then changes one
// source file and builds both again, several times. Each optimized rebuild
// must find its dependency step cached and each original rebuild must run its
// own; after the last rebuild both images must have the same files and
// configuration. The build times are reported, never judged: they depend on
// the machine and the network.
func TestRebuildCache(t *testing.T) {
	e := requireDebianEngine(t, "builds apps on debian:bookworm")
	runs := rebuildRuns(t)
	base := trustingBase(t, e)
	apps := rebuildApps()
	var rows []string
	cases := make([]*rebuildCase, len(apps))
	errs := make([]error, len(apps))
	for i, app := range apps {
		cases[i], errs[i] = prepareRebuild(t.TempDir(), app)
	}
	scratch := t.TempDir()
	start := time.Now()
	warm := warmToolchains(t.Context(), e, scratch, base, cases)
	var warmed []string
	for _, w := range warm {
		if w.id != "" {
			warmed = append(warmed, w.id)
		}
	}
	t.Cleanup(func() { e.removeImage(warmed...) })
	t.Logf("toolchains of %d apps built in parallel in %s", len(apps), secs(time.Since(start)))
	for i, app := range apps {
		row := rebuildRow{app: app.name, toolchain: warm[i].wall}
		ok := t.Run(app.name, func(t *testing.T) {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if warm[i].err != nil {
				t.Fatalf("the toolchain lines do not build:\n%v", warm[i].err)
			}
			checkRebuilds(t, e, base, cases[i], warm[i].id, runs, &row)
		})
		if ok {
			rows = append(rows, row.String())
		} else {
			rows = append(rows, fmt.Sprintf("%-7s FAILED", app.name))
		}
	}
	t.Logf("rebuild after a source change, %d runs each:\n%s\n%s\n%s", runs, rebuildHeader, strings.Join(rows, "\n"), rebuildFootnote)
	appendReport(t, append([]string{fmt.Sprintf("copy-manifests-first: rebuild after a source change, %d runs each", runs), rebuildHeader}, append(rows, rebuildFootnote)...))
}

// checkRebuilds builds one app's original and optimized Dockerfile, then
// changes its source file and builds both again, runs times, checking the
// dependency step of each rebuild; then compares the last two images. It
// removes the app's images, its toolchain image too, when it ends.
func checkRebuilds(t *testing.T, e *engine, base string, c *rebuildCase, toolchain string, runs int, row *rebuildRow) {
	ctx := t.Context()
	orig, err := onBase(c.orig, base)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := onBase(c.opt, base)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dfopt's output:\n%s", c.opt)
	scratch := t.TempDir()
	ids := []string{toolchain}
	t.Cleanup(func() { e.removeImage(ids...) })
	build := func(label string, text []byte) *buildRun {
		t.Helper()
		r, err := timedBuild(ctx, e, scratch, c.dir, text)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		ids = append(ids, r.id)
		return r
	}
	first := build("first build of the original", orig)
	firstOpt := build("first build of dfopt's output", opt)
	row.firstOrig, row.firstOpt = first.wall, firstOpt.wall
	row.skipped = -1
	if s := firstOpt.step(t, "first build of dfopt's output", c.optSteps.install); !s.cached {
		row.skipped = s.secs
	}
	var lastOrig, lastOpt *buildRun
	src := filepath.Join(c.dir, c.app.source)
	for run := 1; run <= runs; run++ {
		f, err := os.OpenFile(src, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = fmt.Fprintf(f, "%s rebuild %d\n", c.app.comment, run)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		// Which goes first alternates, so neither always finds the disk cache warmer.
		if run%2 == 1 {
			lastOrig = build(fmt.Sprintf("rebuild %d of the original", run), orig)
			lastOpt = build(fmt.Sprintf("rebuild %d of dfopt's output", run), opt)
		} else {
			lastOpt = build(fmt.Sprintf("rebuild %d of dfopt's output", run), opt)
			lastOrig = build(fmt.Sprintf("rebuild %d of the original", run), orig)
		}
		row.rebuildOrig = append(row.rebuildOrig, lastOrig.wall)
		row.rebuildOpt = append(row.rebuildOpt, lastOpt.wall)
		row.rebuilds++

		label := fmt.Sprintf("rebuild %d of the original", run)
		if s := lastOrig.step(t, label, c.origSteps.whole); s.cached {
			t.Fatalf("%s: %q is cached after %s changed: the edit did not reach the build", label, c.origSteps.whole, c.app.source)
		}
		inst := lastOrig.step(t, label, c.origSteps.install)
		if inst.cached {
			t.Errorf("%s: %q is cached, but it follows the COPY of the changed project", label, c.origSteps.install)
		}
		label = fmt.Sprintf("rebuild %d of dfopt's output", run)
		if s := lastOpt.step(t, label, c.optSteps.whole); s.cached {
			t.Fatalf("%s: %q is cached after %s changed: the edit did not reach the build", label, c.optSteps.whole, c.app.source)
		}
		mc := lastOpt.step(t, label, c.optSteps.manifests)
		dep := lastOpt.step(t, label, c.optSteps.install)
		switch {
		case !mc.cached:
			t.Errorf("%s: %q is not cached, though no manifest changed", label, c.optSteps.manifests)
		case !dep.cached:
			t.Errorf("%s: the dependency step %q ran again (%.1fs): it should come from the cache", label, c.optSteps.install, dep.secs)
		default:
			row.cached++
		}
		t.Logf("rebuild %d (%s changed): original %s (%s: ran %s), dfopt's output %s (%s: cached %v)", run, c.app.source,
			secs(lastOrig.wall), c.origSteps.install, stepSecs(inst), secs(lastOpt.wall), c.optSteps.install, dep.cached)
	}
	before, err := e.read(lastOrig.id)
	if err != nil {
		t.Fatal(err)
	}
	after, err := e.read(lastOpt.id)
	if err != nil {
		t.Fatal(err)
	}
	row.sizeOrig, row.sizeOpt = before.info.Size, after.info.Size
	t.Logf("last rebuilds: %s", sizeChange(before, after))
	diffs, stamps := apartTimeStamps(differences(before, after))
	if len(stamps) > 0 {
		t.Logf("not counted: files whose content is the time they were written, which differs between any two builds:\n%s", report(stamps))
	}
	if len(diffs) > 0 {
		t.Errorf("the last rebuilds of the original and of dfopt's output differ (%d differences, original -> optimized):\n%s", len(diffs), report(diffs))
	}
}

// apartTimeStamps moves the content differences of imagefs.TimeStampFiles
// out of a difference list; any other difference of those files stays.
func apartTimeStamps(diffs []string) (rest, stamps []string) {
	return apartContentOf(diffs, imagefs.TimeStampFiles())
}

func stepSecs(s stepRun) string {
	if s.secs < 0 {
		return "?"
	}
	return fmt.Sprintf("%.1fs", s.secs)
}

// TestRebuildSteps checks, without an engine, how the test reads BuildKit's
// output and the apps' Dockerfiles.
func TestRebuildSteps(t *testing.T) {
	bk := `#5 [2/5] RUN apt-get update
#5 CACHED

#8 [4/6] COPY package.json  package-lock.json ./
#8 CACHED

#9 [5/6] RUN npm ci --omit=dev && rm -rf /root/.npm
#9 sha256:90c53b1b3d930cf779c3b17fdc0c8d4873c553512ae8f19e1bd4f355f1a654d3
#9 1.211 added 1 package in 398ms
#9 DONE 1.2s
`
	got := buildkitSteps(bk)
	want := map[string]stepRun{
		"RUN apt-get update":                         {cached: true, secs: -1},
		"COPY package.json package-lock.json ./":     {cached: true, secs: -1},
		"RUN npm ci --omit=dev && rm -rf /root/.npm": {secs: 1.2},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("buildkitSteps:\n got %v\nwant %v", got, want)
	}
	for _, app := range rebuildApps() {
		t.Run(app.name, func(t *testing.T) {
			c, err := prepareRebuild(t.TempDir(), app)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(c.dir, app.source)); err != nil {
				t.Errorf("the source file the rebuilds edit: %v", err)
			}
			t.Logf("original: install %q after %q; optimized: %q, %q, then %q",
				c.origSteps.install, c.origSteps.whole, c.optSteps.manifests, c.optSteps.install, c.optSteps.whole)
		})
	}
}

// TestOnBase checks that only the first stage moves to the apps' base.
func TestOnBase(t *testing.T) {
	got, err := onBase([]byte("FROM debian:bookworm AS build\nRUN x\n\nFROM debian:bookworm\nCMD [\"y\"]\n"), "base:1")
	if want := "FROM base:1 AS build\nRUN x\n\nFROM debian:bookworm\nCMD [\"y\"]\n"; err != nil || string(got) != want {
		t.Errorf("onBase = %q, %v; want %q", got, err, want)
	}
	if _, err := onBase([]byte("FROM alpine\nFROM debian:bookworm\n"), "base:1"); err == nil {
		t.Error("onBase accepts a first stage on another image")
	}
}
