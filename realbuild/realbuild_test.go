package realbuild

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/internal/fixture"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// fixtureGlobs are the fixtures TestRealBuild builds, relative to the
// repository root; fixtures elsewhere join with a <case>.realbuild marker.
func fixtureGlobs() []string {
	return []string{"fixtures/merge-runs/*.Dockerfile", "fixtures/all/*.Dockerfile"}
}

// maxDiffLines bounds a difference report: past that, a count says how many more.
const maxDiffLines = 100

// repoRoot is the repository root; go test runs in realbuild/.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// markedFixtures lists fixtures/<rule>/<case>.Dockerfile files that have a
// <case><marker> file beside them.
func markedFixtures(root, marker string) ([]string, error) {
	all, err := filepath.Glob(filepath.Join(root, "fixtures", "*", "*.Dockerfile"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range all {
		if _, err := os.Stat(strings.TrimSuffix(f, ".Dockerfile") + marker); err == nil {
			out = append(out, f)
		}
	}
	return out, nil
}

// realBuildFixtures lists, sorted and once each, the fixtures TestRealBuild builds.
func realBuildFixtures(t *testing.T, root string) []string {
	t.Helper()
	files, err := markedFixtures(root, ".realbuild")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range fixtureGlobs() {
		m, err := filepath.Glob(filepath.Join(root, g))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	slices.Sort(files)
	return slices.Compact(files)
}

// optimizeFixture is dfopt's output for a fixture, with its fixture options.
func optimizeFixture(t *testing.T, path string, src []byte) *rewrite.Result {
	t.Helper()
	opts, err := fixtureOptions(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := rewrite.Source(src, opts)
	if err != nil {
		t.Fatalf("dfopt: %v", err)
	}
	return res
}

// fixtureOptions are the options a fixture is rewritten with: every rule with
// RUN merging reaching builder stages too, changed by a <case>.args file as in
// the golden tests (see package internal/fixture).
func fixtureOptions(path string) (rewrite.Options, error) {
	opts := rewrite.Options{Path: filepath.Base(path), Rules: rules.All(), MergeAll: true}
	return opts, fixture.ApplyArgs(&opts, path)
}

// fixtureContext is a fixture's build context: the folder fixtures/<rule>/<case>/
// when there is one, else an empty folder.
func fixtureContext(t *testing.T, path string) string {
	t.Helper()
	dir := strings.TrimSuffix(path, ".Dockerfile")
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return dir
	}
	return t.TempDir()
}

// requirements is what building a Dockerfile asks of the engine.
type requirements struct {
	heredocs   bool
	syntax     string   // the frontend image of a # syntax= directive
	images     []string // images from outside the file: FROM and COPY --from
	unresolved []string // FROM lines whose image is an ARG without a default
}

// requirementsOf reads src with BuildKit's parser and lists what it needs.
func requirementsOf(src []byte) (requirements, error) {
	var req requirements
	if ref, _, _, ok := parser.DetectSyntax(src); ok {
		req.syntax = ref
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return req, err
	}
	lex := shell.NewLex(res.EscapeToken)
	metaArgs := envMap{}
	stages := map[string]bool{}
	nStages := 0
	for _, n := range res.AST.Children {
		// The parser keeps the keyword as written: "from", "FROM", "From".
		keyword := strings.ToLower(n.Value)
		if len(n.Heredocs) > 0 {
			req.heredocs = true
		}
		switch keyword {
		case "arg":
			if nStages > 0 {
				continue
			}
			for a := n.Next; a != nil; a = a.Next {
				k, v, hasDefault := strings.Cut(a.Value, "=")
				if !hasDefault {
					continue // a build argument: unknown here
				}
				if w, _, err := lex.ProcessWord(v, metaArgs); err == nil {
					v = w
				}
				metaArgs[k] = v
			}
		case "from":
			if n.Next == nil {
				continue
			}
			base, unmatched, err := lex.ProcessWord(n.Next.Value, metaArgs)
			switch {
			case err != nil || base == "" || len(unmatched) > 0:
				req.unresolved = append(req.unresolved, fmt.Sprintf("line %d: FROM %s", n.StartLine, n.Next.Value))
			case base == "scratch" || stages[strings.ToLower(base)]:
			default:
				req.images = append(req.images, base)
			}
			if as := n.Next.Next; as != nil && strings.EqualFold(as.Value, "as") && as.Next != nil {
				stages[strings.ToLower(as.Next.Value)] = true
			}
			stages[strconv.Itoa(nStages)] = true
			nStages++
		case "copy":
			for _, f := range n.Flags {
				if from, ok := strings.CutPrefix(f, "--from="); ok && !stages[strings.ToLower(from)] {
					req.images = append(req.images, from)
				}
			}
		}
	}
	return req, nil
}

// envMap gives ARG defaults to BuildKit's word expansion.
type envMap map[string]string

func (m envMap) Get(k string) (string, bool) { v, ok := m[k]; return v, ok }
func (m envMap) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// whyNot says why e cannot build a Dockerfile with these requirements, or
// "" when it can.
func (r requirements) whyNot(e *engine) string {
	var why []string
	if r.heredocs && !e.heredocs {
		why = append(why, "uses heredocs, which the daemon's Dockerfile frontend rejects")
	}
	if r.syntax != "" && !e.hasImage(r.syntax) {
		why = append(why, "has a # syntax= directive ("+r.syntax+"), which needs that frontend image, and no registry is reachable")
	}
	if len(r.unresolved) > 0 {
		why = append(why, "its base image is an ARG without a default: "+strings.Join(r.unresolved, ", "))
	}
	var missing []string
	for _, img := range r.images {
		if !slices.Contains(missing, img) && !e.hasImage(img) {
			missing = append(missing, img)
		}
	}
	if len(missing) > 0 {
		why = append(why, "needs "+strings.Join(missing, ", ")+", which the image store does not have (it has busybox:latest, and debian:bookworm with DFOPT_REALBUILD_DEBIAN=1)")
	}
	return strings.Join(why, "; ")
}

// built is one image the tests built, with what they compare of it.
type built struct {
	id   string
	info imageInfo
	tree fsTree
}

// buildImage builds text as a Dockerfile in contextDir, reads the image's
// configuration and file system, and removes the image when t ends.
func buildImage(t *testing.T, e *engine, contextDir, name string, text []byte) (*built, error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), name+".Dockerfile")
	if err := os.WriteFile(file, text, 0o644); err != nil {
		t.Fatal(err)
	}
	id, _, err := e.build(t.Context(), file, contextDir, "")
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { e.removeImage(id) })
	img, err := e.read(id)
	if err != nil {
		t.Fatal(err)
	}
	return img, nil
}

// differences lists how after differs from before: file system, then configuration.
func differences(before, after *built) []string {
	return append(compareTrees(before.tree, after.tree), compareConfigs(before.info, after.info)...)
}

// report prints a difference list for a failure message, cut at maxDiffLines.
func report(diffs []string) string {
	if len(diffs) > maxDiffLines {
		more := len(diffs) - maxDiffLines
		diffs = append(slices.Clone(diffs[:maxDiffLines]), fmt.Sprintf("... and %d more", more))
	}
	return "\t" + strings.Join(diffs, "\n\t")
}

// sizeChange prints "layers 5 -> 2, size 4.2 MiB -> 4.1 MiB (-104857 B)".
func sizeChange(before, after *built) string {
	return fmt.Sprintf("layers %d -> %d, size %s -> %s (%+d B)", len(before.info.RootFS.Layers), len(after.info.RootFS.Layers),
		humanBytes(before.info.Size), humanBytes(after.info.Size), after.info.Size-before.info.Size)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// frontendRejects says whether a build failed because the daemon's
// Dockerfile frontend does not know the syntax (a flag it does not have,
// say) rather than because a command failed, and gives its words for it.
func frontendRejects(err error) (string, bool) {
	for _, line := range strings.Split(err.Error(), "\n") {
		if strings.Contains(line, "dockerfile parse error") {
			return strings.TrimSpace(line), true
		}
	}
	return "", false
}

// checkRewrite builds src and dfopt's output of it on e and fails t when the
// two images differ; it sets *note to a line for TestRealBuild's summary.
func checkRewrite(t *testing.T, e *engine, contextDir, name string, src, out []byte, note *string) {
	t.Helper()
	before, err := buildImage(t, e, contextDir, "before", src)
	if err != nil {
		if why, ok := frontendRejects(err); ok {
			*note = "skipped: the frontend rejects the input: " + why
			t.Skipf("the daemon's Dockerfile frontend rejects %s before any rewrite: %s", name, why)
		}
		*note = "FAILED: the input does not build"
		t.Fatalf("%s does not build before dfopt, so it cannot show what dfopt keeps (fix the fixture, or its base image):\n%v", name, err)
	}
	after, err := buildImage(t, e, contextDir, "after", out)
	if err != nil {
		*note = "FAILED: dfopt's output does not build"
		t.Fatalf("dfopt's output of %s does not build, the input does:\n%v\n--- dfopt's output:\n%s", name, err, out)
	}
	sizes := sizeChange(before, after)
	t.Logf("%s: %s", name, sizes)
	if diffs := differences(before, after); len(diffs) > 0 {
		*note = fmt.Sprintf("FAILED: %d differences; %s", len(diffs), sizes)
		t.Errorf("%s: the rewrite changes the image (%d differences, before -> after):\n%s\n--- dfopt's output:\n%s", name, len(diffs), report(diffs), out)
		return
	}
	*note = "identical: " + sizes
}

// TestRealBuild builds every chosen fixture before and after dfopt and demands
// identical file systems and run-time configuration.
func TestRealBuild(t *testing.T) {
	e := requireEngine(t)
	root := repoRoot(t)
	files := realBuildFixtures(t, root)
	if len(files) == 0 {
		t.Skipf("no fixtures match %v or carry a .realbuild marker", fixtureGlobs())
	}
	var summary []string
	for _, path := range files {
		rel, _ := filepath.Rel(filepath.Join(root, "fixtures"), path)
		name := strings.TrimSuffix(rel, ".Dockerfile")
		note := "FAILED"
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			req, err := requirementsOf(src)
			if err != nil {
				note = "skipped: BuildKit's parser rejects it"
				t.Skipf("BuildKit's parser rejects %s: %v", rel, err)
			}
			if why := req.whyNot(e); why != "" {
				note = "skipped: " + why
				t.Skip(why)
			}
			res := optimizeFixture(t, path, src)
			if !res.Changed(src) {
				note = "skipped: dfopt leaves it unchanged"
				t.Skip("dfopt leaves it unchanged: nothing to prove")
			}
			checkRewrite(t, e, fixtureContext(t, path), rel, src, res.Output, &note)
		})
		summary = append(summary, fmt.Sprintf("%-45s %s", name, note))
	}
	t.Logf("summary:\n%s", strings.Join(summary, "\n"))
}

// TestRealBuildPairs builds the harness's own cases in testdata/same/<case>/:
// before.Dockerfile, a hand-optimized after.Dockerfile and dfopt's output of
// before.Dockerfile must all give the same image. A context/ folder beside
// them is the build context.
func TestRealBuildPairs(t *testing.T) {
	e := requireEngine(t)
	cases, err := filepath.Glob(filepath.Join("testdata", "same", "*"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases in testdata/same: %v", err)
	}
	for _, dir := range cases {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(dir, "before.Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			hand, err := os.ReadFile(filepath.Join(dir, "after.Dockerfile"))
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
			contextDir := filepath.Join(dir, "context")
			if _, err := os.Stat(contextDir); err != nil {
				contextDir = t.TempDir()
			}
			before, err := buildImage(t, e, contextDir, "before", src)
			if err != nil {
				t.Fatalf("before.Dockerfile does not build: %v", err)
			}
			variants := map[string][]byte{"after.Dockerfile": hand}
			res, err := rewrite.Source(src, rewrite.Options{Path: "before.Dockerfile", Rules: rules.All(), MergeAll: true})
			if err != nil {
				t.Fatalf("dfopt: %v", err)
			}
			switch {
			case !res.Changed(src):
				t.Logf("dfopt leaves before.Dockerfile unchanged")
			case bytes.Equal(res.Output, hand):
				t.Logf("dfopt's output is after.Dockerfile")
			default:
				variants["dfopt's output"] = res.Output
			}
			for _, name := range slices.Sorted(maps.Keys(variants)) {
				after, err := buildImage(t, e, contextDir, "after", variants[name])
				if err != nil {
					t.Errorf("%s does not build: %v\n---\n%s", name, err, variants[name])
					continue
				}
				t.Logf("%s: %s", name, sizeChange(before, after))
				if diffs := differences(before, after); len(diffs) > 0 {
					t.Errorf("%s gives another image than before.Dockerfile (%d differences):\n%s\n---\n%s", name, len(diffs), report(diffs), variants[name])
				}
			}
		})
	}
}

// TestCompareDetectsDifference builds two images that differ on purpose, in
// every way the comparison looks at, and demands that it reports each
// difference, and nothing where only times differ: a comparison that passes
// everything would prove nothing.
func TestCompareDetectsDifference(t *testing.T) {
	e := requireEngine(t)
	// Beginnings of the lines the comparison must report, and no other.
	want := []string{
		"/d/content: content differs, same size 4 (sha256 ",
		"/d/size: size 2 -> 4 bytes",
		"/d/mode: mode 0644 -> 0755",
		"/d/owner: owner 0:0 -> 1:1",
		"/d/link: symlink target /d/same -> /d/content",
		"/d/kind: type file, 0 bytes, mode 0644 -> dir, mode 0755",
		"/d/gone: only in before (file, 0 bytes, mode 0644)",
		"/d/new: only in after (file, 0 bytes, mode 0644)",
		// A hard link reads as a copy of the file it links to (see
		// imagefs.ApplyLayer): /d/same's 5 bytes, then /d/content's 4.
		"/d/x-hard: size 5 -> 4 bytes",
		`config Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","MODE=before"] -> ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","MODE=after"]`,
		`config WorkingDir: "/d" -> "/"`,
		`config User: "" -> "1"`,
		`config Labels: {"kind":"before"} -> {"kind":"after"}`,
	}
	dir := filepath.Join("testdata", "differ")
	before, err := os.ReadFile(filepath.Join(dir, "before.Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(filepath.Join(dir, "after.Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.TempDir()
	bi, err := buildImage(t, e, ctx, "before", before)
	if err != nil {
		t.Fatal(err)
	}
	ai, err := buildImage(t, e, ctx, "after", after)
	if err != nil {
		t.Fatal(err)
	}
	got := differences(bi, ai)
	t.Logf("reported:\n%s", report(got))
	// Each want is the start of exactly one reported line.
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
			t.Errorf("not reported: %s", w)
		}
	}
	for _, g := range got {
		if !slices.ContainsFunc(want, func(w string) bool { return strings.HasPrefix(g, w) }) {
			t.Errorf("reported, but not a difference the Dockerfiles make: %s", g)
		}
	}
	// The same image against itself: nothing.
	if diffs := differences(bi, bi); len(diffs) > 0 {
		t.Errorf("an image differs from itself:\n%s", report(diffs))
	}
}

// TestRequirementsOf checks, without an engine, what a Dockerfile is found to
// need, since a wrong answer skips a fixture that could have been built.
func TestRequirementsOf(t *testing.T) {
	src := `# syntax=docker/dockerfile:1
ARG BASE=busybox:latest
ARG TAG
FROM ${BASE} AS build
RUN --mount=type=cache,target=/c true
COPY --from=build /a /b
from build as second
COPY --from=alpine:3.20 /x /y
COPY --from=0 --chown=1:1 /a /c
copy --chmod=755 a b
RUN <<EOF
true
EOF
FROM debian:${TAG}
FROM scratch
HEALTHCHECK --interval=5s CMD true
`
	got, err := requirementsOf([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := requirements{
		heredocs:   true,
		syntax:     "docker/dockerfile:1",
		images:     []string{"busybox:latest", "alpine:3.20"},
		unresolved: []string{"line 14: FROM debian:${TAG}"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("requirementsOf:\n got %+v\nwant %+v", got, want)
	}
	plain, err := requirementsOf([]byte("FROM busybox:latest\nRUN true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(plain, requirements{images: []string{"busybox:latest"}}) {
		t.Errorf("requirementsOf a plain file: %+v", plain)
	}
}
