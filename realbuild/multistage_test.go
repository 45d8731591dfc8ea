package realbuild

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/internal/imagefs"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// multiStageApp is one app of testdata/multistage: a single-stage
// Dockerfile that compiles a program and runs it, the program's path, and
// Dockerfile.reference, the split an expert writes by hand.
type multiStageApp struct {
	name     string
	artifact string // the compiled program, in both images
	// rebuilt says why dfopt's build of the program differs on purpose
	// ("" where it must be the original's, byte for byte).
	rebuilt string
	// only names the one rule whose proposal the app proves ("" for
	// multi-stage with every rule); such an app has no reference.
	only string
}

func multiStageApps() []multiStageApp {
	return []multiStageApp{
		{name: "go-api", artifact: "/usr/local/bin/api"},
		{name: "c-hello", artifact: "/usr/local/bin/hello"},
		// libssl-dev in the build: libssl3 in the runtime stage.
		{name: "c-ssl", artifact: "/usr/local/bin/sslversion"},
		{name: "rust-hello", artifact: "/src/target/release/hello"},
		// build-tools-shipped's proposal: gcc purged in the RUN that used it.
		{name: "c-purge", artifact: "/usr/local/bin/hello", only: "build-tools-shipped"},
		// The original builds with cgo (gcc is there): dfopt adds CGO_ENABLED=0.
		{name: "go-templates", artifact: "/app/site", rebuilt: "dfopt adds CGO_ENABLED=0"},
		// Debian's maven, offline, with Debian's packaged plugins (the pom
		// pins their versions): Maven Central is not reachable.
		{name: "java-maven", artifact: "/app/target/hello-1.0.jar"},
		// TypeScript compiled with tsc (a devDependency), run by Debian's nodejs.
		{name: "node-ts", artifact: "/app/dist/main.js"},
		// A C extension linking libpq, built by pip into a virtualenv with
		// Debian's python3, setuptools from python3-venv and no index.
		{name: "py-ext", artifact: "/opt/venv/lib/python3.11/site-packages/fastsum.cpython-311-x86_64-linux-gnu.so"},
	}
}

// slimBase is the stand-in for debian:bookworm-slim, which no registry
// serves here: buildkit.sh's folder of it (see makeSlimBase), imported as
// one layer, so that its size is what it holds.
const slimBase = "debian:bookworm-slim"

// TestMultiStage proves multi-stage by behaviour: for each app it applies
// dfopt's proposals (every rule, --propose), builds the original, dfopt's
// output and the hand-written reference on debian:bookworm (the toolchains
// from Debian's packages), runs each image's command with no network, and
// checks that dfopt's image prints the same and exits with the same code
// as the original, holds the same program, byte for byte, and is no more
// than 10% larger than the reference. An app that names one rule (only)
// proves that rule's proposal the same way, without a reference
// (build-tools-shipped's purge of the compiler its RUN used). The sizes go
// in the log (and in DFOPT_REALBUILD_REPORT).
func TestMultiStage(t *testing.T) {
	e, base := splitEngine(t, "builds the multi-stage apps on debian:bookworm")
	rows := []string{fmt.Sprintf("%-13s %10s %10s %10s %8s  %s", "app", "original", "dfopt", "reference", "ratio", "runtime base (or the rule)")}
	for _, app := range multiStageApps() {
		t.Run(app.name, func(t *testing.T) {
			row, err := checkMultiStage(t, e, base, app)
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, row)
		})
	}
	t.Logf("multi-stage: image sizes (uncompressed)\n%s", strings.Join(rows, "\n"))
	appendReport(t, append([]string{"multi-stage: image sizes (uncompressed)"}, rows...))
}

// splitEngine is the engine the split's real builds run on, with the base
// the apps' toolchains build on (trustingBase) and the
// debian:bookworm-slim stand-in. what says what the test builds.
func splitEngine(t *testing.T, what string) (*engine, string) {
	t.Helper()
	e := requireDebianEngine(t, what)
	if e.runc == "" {
		t.Fatal(errNoRunc)
	}
	base := trustingBase(t, e)
	makeSlimBase(t, e)
	return e, base
}

// proposeApp reads the Dockerfile of an app's build context (dir) and
// rewrites it with the rules and --propose, as dfopt -w would; it fails
// unless the rule's proposal was applied.
func proposeApp(t *testing.T, dir string, use []*rewrite.Rule, rule string) (orig []byte, res *rewrite.Result, err error) {
	t.Helper()
	if orig, err = os.ReadFile(filepath.Join(dir, "Dockerfile")); err != nil {
		return nil, nil, err
	}
	bctx, err := rewrite.OpenContext(dir, filepath.Join(dir, "Dockerfile"))
	if err != nil {
		return nil, nil, err
	}
	if res, err = rewrite.Source(orig, rewrite.Options{Path: "Dockerfile", Rules: use, Context: bctx, Propose: true}); err != nil {
		return nil, nil, err
	}
	if !slices.ContainsFunc(res.Findings, func(f rewrite.Finding) bool { return f.Rule == rule && f.Applied }) {
		return nil, nil, fmt.Errorf("dfopt --propose did not apply %s:\n%s", rule, res.Output)
	}
	t.Logf("dfopt's output:\n%s", res.Output)
	return orig, res, nil
}

// buildOnBase builds one Dockerfile of an app (name says which, for
// errors) with its first stage on base, and removes the image when the
// test ends.
func buildOnBase(t *testing.T, e *engine, base, name string, text []byte, dir string) (string, error) {
	text, err := onBase(text, base)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	file := filepath.Join(t.TempDir(), "Dockerfile")
	if err := os.WriteFile(file, text, 0o644); err != nil {
		return "", err
	}
	id, _, err := e.build(t.Context(), file, dir, "")
	if err != nil {
		return "", fmt.Errorf("build the %s: %w", name, err)
	}
	t.Cleanup(func() { e.removeImage(id) })
	return id, nil
}

// makeSlimBase imports the debian:bookworm-slim stand-in buildkit.sh
// makes (its debian:bookworm folder less what Docker's slim images leave
// out, with their dpkg configuration that keeps leaving it out of the
// packages installed later, and Docker's apt configuration that keeps no
// package cache), unless the store has that image. A stand-in without
// the dpkg configuration hid a failure of the real image: a JRE installed
// on it could link its manual pages, which on the slim image fails.
func makeSlimBase(t *testing.T, e *engine) {
	t.Helper()
	if e.hasImage(slimBase) {
		return
	}
	root, err := baseFolder(t.Context(), "debian-slim")
	if err != nil {
		t.Fatal(err)
	}
	cfg := imagefs.Config{Env: []string{defaultPath}, Cmd: []string{"bash"}}
	if _, err := e.store.importRoot(t.Context(), slimBase, root, cfg); err != nil {
		t.Fatalf("import the %s stand-in from %s: %v", slimBase, root, err)
	}
	t.Cleanup(func() { e.removeImage(slimBase) })
	t.Logf("%s stands in for %s: buildkit.sh's %s", slimBase, slimBase, root)
}

// checkMultiStage builds and runs one app's three images and returns its
// row of the size table.
func checkMultiStage(t *testing.T, e *engine, base string, app multiStageApp) (string, error) {
	ctx := t.Context()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "multistage", app.name))); err != nil {
		return "", err
	}
	ref, err := os.ReadFile(filepath.Join(dir, "Dockerfile.reference"))
	if err != nil && app.only == "" {
		return "", err
	}
	use, rule := rules.All(), rules.MultiStage.Name
	if app.only != "" {
		use, rule = []*rewrite.Rule{rewrite.Lookup(rules.All(), app.only)}, app.only
	}
	orig, res, err := proposeApp(t, dir, use, rule)
	if err != nil {
		return "", err
	}
	images := map[string]string{}
	for _, v := range []struct {
		name string
		text []byte
	}{{"original", orig}, {"dfopt", res.Output}, {"reference", ref}} {
		if v.text == nil {
			continue // no reference
		}
		id, err := buildOnBase(t, e, base, v.name, v.text, dir)
		if err != nil {
			return "", err
		}
		images[v.name] = id
	}
	want, err := runProgram(ctx, e, images["original"])
	if err != nil {
		return "", err
	}
	for _, name := range []string{"dfopt", "reference"} {
		if images[name] == "" {
			continue
		}
		got, err := runProgram(ctx, e, images[name])
		if err != nil {
			return "", err
		}
		if got != want {
			return "", fmt.Errorf("the %s image behaves otherwise:\n original: %s\n %s: %s", name, want, name, got)
		}
	}
	t.Logf("both run: %s", want)
	sums := map[string]string{}
	for _, name := range []string{"original", "dfopt"} {
		sum, err := fileSum(e, images[name], app.artifact)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		sums[name] = sum
	}
	switch {
	case sums["original"] == sums["dfopt"]:
		t.Logf("%s: the same program in both images (sha256 %s)", app.artifact, sums["dfopt"])
	case app.rebuilt != "":
		t.Logf("%s differs on purpose (%s): sha256 %s, then %s", app.artifact, app.rebuilt, sums["original"], sums["dfopt"])
	default:
		return "", fmt.Errorf("%s differs: sha256 %s in the original, %s in dfopt's image", app.artifact, sums["original"], sums["dfopt"])
	}
	sizes := map[string]int64{}
	for name, id := range images {
		info, err := e.inspect(id)
		if err != nil {
			return "", err
		}
		sizes[name] = info.Size
	}
	if _, ok := sizes["reference"]; ok && float64(sizes["dfopt"]) > 1.1*float64(sizes["reference"]) {
		return "", fmt.Errorf("dfopt's image is %s, more than 10%% above the reference's %s", mib(sizes["dfopt"]), mib(sizes["reference"]))
	}
	runtime := rule
	if app.only == "" {
		for _, l := range strings.Split(string(res.Output), "\n") {
			if strings.HasPrefix(l, "FROM ") {
				runtime = strings.TrimPrefix(l, "FROM ")
			}
		}
	}
	refSize := "-"
	if n, ok := sizes["reference"]; ok {
		refSize = mib(n)
	}
	return fmt.Sprintf("%-13s %10s %10s %10s %7.1fx  %s", app.name, mib(sizes["original"]), mib(sizes["dfopt"]), refSize,
		float64(sizes["original"])/float64(sizes["dfopt"]), runtime), nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// runProgram runs an image's command in a container with no network
// (runc, see engine.runImage) and returns what it printed (standard output
// and error) and its exit code.
func runProgram(ctx context.Context, e *engine, id string) (string, error) {
	var out bytes.Buffer
	code, err := e.runImage(ctx, id, runOptions{}, &out, &out)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%q, exit %d", strings.TrimSpace(out.String()), code), nil
}

// fileSum returns the SHA-256 of one file of an image, from its layers.
func fileSum(e *engine, id, file string) (string, error) {
	img, err := e.read(id)
	if err != nil {
		return "", err
	}
	entry, ok := img.tree[file]
	if !ok || entry.Type != tar.TypeReg {
		return "", fmt.Errorf("no file %s in the image", file)
	}
	return entry.Sum, nil
}
