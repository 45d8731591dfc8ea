package realbuild

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dfopt/dfopt/internal/imagefs"
	"github.com/dfopt/dfopt/rewrite"
)

// imageHowToRun is what TestImage says when it skips.
const imageHowToRun = "needs a BuildKit daemon and buildctl: bash realbuild/buildkit.sh start; " +
	"eval \"$(bash realbuild/buildkit.sh env)\"; DFOPT_REALBUILD=1 BUILDKIT_HOST=$BUILDKIT_HOST go test ./realbuild -run TestImage -v"

// imageStamp is the version TestImage builds dfopt's image with.
const imageStamp = "v0.0.0-image-test"

// goBaseDockerfile makes the stand-in for golang:1.26-bookworm, which no
// registry gives here: buildkit.sh's debian:bookworm with Debian's
// ca-certificates (which also trust the host's own certificates that
// buildkit.sh put in /usr/local/share/ca-certificates, so that the module
// proxy answers where the host's does), the host's Go toolchain in
// /usr/local/go and the official image's environment and GOPATH.
const goBaseDockerfile = `FROM debian:bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=goroot . /usr/local/go
ENV GOLANG_VERSION=%s GOTOOLCHAIN=local GOPATH=/go
ENV PATH=/go/bin:/usr/local/go/bin:$PATH
RUN mkdir -p /go/src /go/bin && chmod -R 1777 /go && go version
WORKDIR /go
`

// buildctl runs BuildKit's client against BUILDKIT_HOST.
type buildctl struct {
	bin  string
	addr string
}

// requireBuildKit skips t unless DFOPT_REALBUILD=1, BUILDKIT_HOST names a
// daemon that answers and buildctl is found (on PATH, else where
// buildkit.sh builds it).
func requireBuildKit(t *testing.T) *buildctl {
	t.Helper()
	if os.Getenv("DFOPT_REALBUILD") != "1" || os.Getenv("BUILDKIT_HOST") == "" {
		t.Skip("DFOPT_REALBUILD is not 1 or BUILDKIT_HOST is not set; this test " + imageHowToRun)
	}
	b := &buildctl{addr: os.Getenv("BUILDKIT_HOST")}
	var err error
	if b.bin, err = exec.LookPath("buildctl"); err != nil {
		dir := os.Getenv("DFOPT_BUILDKIT_DIR")
		if dir == "" {
			dir = filepath.Join(os.TempDir(), "dfopt-buildkit")
		}
		b.bin = filepath.Join(dir, "bin", "buildctl")
	}
	if _, err := b.run(t.Context(), "debug", "workers"); err != nil {
		t.Skipf("BuildKit does not answer: %v\nThis test %s", err, imageHowToRun)
	}
	return b
}

// run runs one buildctl call and returns what it printed, standard error
// included (where --progress plain writes each step).
func (b *buildctl) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, b.bin, append([]string{"--addr", b.addr}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("buildctl %s: %w\n%s", strings.Join(args, " "), err, tailLines(out.String(), 40))
	}
	return out.String(), nil
}

// ociContext is the pair of buildctl arguments that serves the OCI layout
// in dir as the named context ref.
func ociContext(t *testing.T, name, ref, dir string) []string {
	t.Helper()
	var idx struct{ Manifests []struct{ Digest string } }
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err == nil {
		err = json.Unmarshal(b, &idx)
	}
	if err == nil && len(idx.Manifests) != 1 {
		err = fmt.Errorf("%d images, not one", len(idx.Manifests))
	}
	if err != nil {
		t.Fatalf("the OCI layout %s: %v", dir, err)
	}
	return []string{"--oci-layout", name + "=" + dir, "--opt", "context:" + ref + "=oci-layout://" + name + "@" + idx.Manifests[0].Digest}
}

// TestImage builds the repository's Dockerfile, dfopt's own image, on
// BuildKit and checks what comes out: one layer with /dfopt, a static Go
// binary built with CGO_ENABLED=0, -trimpath and -ldflags '-s -w', that
// prints the version the build named; one with the empty /src; no other
// file; the configuration the Dockerfile asks for (user 65532:65532, the
// entrypoint, /src). The image runs, as that user, in a build on BuildKit,
// and its binary, taken out of the layer, on the host: -d --dockerignore
// on examples/naive gives its diff. A rebuild after a change to the code must
// take go mod download from the cache. The sizes and the times of a build
// with no cache (cache mounts as earlier builds left them) and of the
// rebuild are logged, never judged.
func TestImage(t *testing.T) {
	b := requireBuildKit(t)
	root := repoRoot(t)
	ctx := t.Context()
	work := t.TempDir()

	// The golang:1.26-bookworm stand-in, on buildkit.sh's debian:bookworm.
	layouts, err := exec.CommandContext(ctx, "bash", filepath.Join(root, "realbuild", "buildkit.sh"), "layouts").Output()
	if err != nil {
		t.Fatalf("buildkit.sh layouts: %v", err)
	}
	debian := ""
	for line := range strings.Lines(string(layouts)) {
		if dir, ok := strings.CutPrefix(strings.TrimSpace(line), "debian:bookworm="); ok {
			debian = dir
		}
	}
	if debian == "" {
		t.Fatalf("buildkit.sh layouts names no debian:bookworm:\n%s", layouts)
	}
	goroot, goversion := goToolchain(t)
	from := regexp.MustCompile(`(?m)^FROM (golang:\S+) AS build$`).FindSubmatch(readFile(t, filepath.Join(root, "Dockerfile")))
	if from == nil {
		t.Fatal("the Dockerfile has no FROM golang:… AS build")
	}
	golangRef := string(from[1])
	baseCtx := filepath.Join(work, "gobase-context")
	writeFile(t, filepath.Join(baseCtx, "Dockerfile"), fmt.Sprintf(goBaseDockerfile, strings.TrimPrefix(goversion, "go")))
	goBase := filepath.Join(work, "gobase")
	start := time.Now()
	args := []string{"build", "--progress", "plain", "--frontend", "dockerfile.v0",
		"--local", "context=" + baseCtx, "--local", "dockerfile=" + baseCtx,
		"--local", "goroot=" + goroot, "--opt", "context:goroot=local:goroot",
		"--output", "type=oci,tar=false,dest=" + goBase}
	if _, err := b.run(ctx, slices.Concat(args, ociContext(t, "debian", "debian:bookworm", debian))...); err != nil {
		t.Fatalf("the %s stand-in: %v", golangRef, err)
	}
	t.Logf("%s stand-in (%s, from %s) made in %s", golangRef, goversion, goroot, time.Since(start).Round(100*time.Millisecond))
	goBaseArgs := ociContext(t, "gobase", golangRef, goBase)

	// dfopt's image, from the repository as its .dockerignore sends it,
	// every step run.
	image := filepath.Join(work, "image")
	buildImage := func(contextDir, out string, extra ...string) (string, time.Duration) {
		t.Helper()
		start := time.Now()
		args := []string{"build", "--progress", "plain", "--frontend", "dockerfile.v0",
			"--local", "context=" + contextDir, "--local", "dockerfile=" + contextDir,
			"--opt", "build-arg:DFOPT_VERSION=" + imageStamp,
			"--output", "type=oci,tar=false,dest=" + out}
		log, err := b.run(ctx, slices.Concat(args, goBaseArgs, extra)...)
		if err != nil {
			t.Fatalf("building dfopt's image from %s: %v", contextDir, err)
		}
		return log, time.Since(start)
	}
	log, cold := buildImage(root, image, "--no-cache")
	t.Logf("steps of the build with no cache:\n%s", stepTimes(log))

	layout, err := imagefs.ReadLayout(image)
	if err != nil {
		t.Fatal(err)
	}
	checkImageConfig(t, layout.Image.Config)
	var paths []string
	for p := range layout.Tree {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	if want := []string{"/dfopt", "/src"}; !slices.Equal(paths, want) {
		t.Errorf("the image holds %q, want %q", paths, want)
	}
	if e := layout.Tree["/dfopt"]; e.Type != tar.TypeReg || e.Mode != 0o755 || e.UID != 0 || e.GID != 0 {
		t.Errorf("/dfopt: %s, want a file of root's, mode 0755", e.Describe())
	}
	if e := layout.Tree["/src"]; e.Type != tar.TypeDir {
		t.Errorf("/src: %s, want a folder", e.Describe())
	}
	bin := filepath.Join(work, "dfopt")
	extractFile(t, image, "dfopt", bin)
	checkStaticBinary(t, bin)
	info, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("image: %d layers, %s unpacked, %s compressed; /dfopt %s; built with no cache in %s",
		len(layout.Layers), mib(layout.Bytes()), mib(layout.Compressed()), mib(info.Size()), cold.Round(100*time.Millisecond))

	// The binary on the host: the version, and a diff.
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if got, want := string(out), "dfopt "+imageStamp+"\n"; err != nil || got != want {
		t.Errorf("dfopt --version: %q (%v), want %q", got, err, want)
	}
	naive := filepath.Join(work, "naive")
	for _, name := range []string{"Dockerfile", "package.json", "server.js"} {
		writeFile(t, filepath.Join(naive, name), string(readFile(t, filepath.Join(root, "examples", "naive", name))))
	}
	diff := exec.CommandContext(ctx, bin, "-d", "--dockerignore", "Dockerfile")
	diff.Dir = naive
	out, err = diff.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("dfopt -d on examples/naive: %v, want exit status 1 (changes found)", err)
	}
	for _, want := range []string{"--- a/Dockerfile\n", "+++ b/Dockerfile\n", "+    && rm -rf /var/lib/apt/lists/*\n", "+COPY package.json ./\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("dfopt -d on examples/naive printed no %q:\n%s", want, out)
		}
	}

	// The image itself, run by BuildKit as its user.
	runCtx := filepath.Join(work, "run")
	writeFile(t, filepath.Join(runCtx, "Dockerfile"), "FROM dfopt\nCOPY Dockerfile ./\nRUN [\"/dfopt\", \"--version\"]\nRUN [\"/dfopt\", \"--check\", \"Dockerfile\"]\n")
	log, err = b.run(ctx, slices.Concat([]string{"build", "--progress", "plain", "--no-cache", "--frontend", "dockerfile.v0",
		"--local", "context=" + runCtx, "--local", "dockerfile=" + runCtx}, ociContext(t, "dfopt", "dfopt", image))...)
	if err != nil {
		t.Errorf("running the image: %v", err)
	} else if !strings.Contains(log, " dfopt "+imageStamp+"\n") {
		t.Errorf("the image's dfopt --version printed no %q:\n%s", imageStamp, tailLines(log, 30))
	}

	// A rebuild after a change to the code, from a copy of what the build
	// context sends.
	edited := filepath.Join(work, "edited")
	copyContext(t, root, edited)
	main := filepath.Join(edited, "cmd", "dfopt", "main.go")
	// A comment of its own each time: BuildKit would find an earlier
	// run's edit in its cache.
	writeFile(t, main, fmt.Sprintf("%s\n// edited by TestImage at %d\n", readFile(t, main), time.Now().UnixNano()))
	log, rebuild := buildImage(edited, filepath.Join(work, "image-edited"))
	download := regexp.MustCompile(`(?m)^#(\d+) \[build \d+/\d+\] RUN .*go mod download$`).FindStringSubmatch(log)
	if download == nil || !strings.Contains(log, "\n#"+download[1]+" CACHED\n") {
		t.Errorf("the rebuild after a change to main.go ran go mod download again:\n%s", tailLines(log, 40))
	}
	t.Logf("rebuild after a change to cmd/dfopt/main.go: %s\n%s", rebuild.Round(100*time.Millisecond), stepTimes(log))
}

// progressLine is a line of BuildKit's plain progress that names a step
// (#5 [build 3/6] RUN …) or ends one (#5 DONE 9.2s, #5 CACHED).
var progressLine = regexp.MustCompile(`^#(\d+) (\[.*|DONE [\d.]+s|CACHED)$`)

// stepTimes lists the steps of a build's plain progress with the time
// each took, or CACHED.
func stepTimes(log string) string {
	names := map[string]string{}
	var out []string
	for line := range strings.Lines(log) {
		line = strings.TrimSuffix(line, "\n")
		m := progressLine.FindStringSubmatch(line)
		switch {
		case m == nil:
		case strings.HasPrefix(m[2], "["):
			if _, seen := names[m[1]]; !seen {
				names[m[1]] = oneLine(m[2], 100)
			}
		case names[m[1]] != "" && strings.Contains(names[m[1]], "] "):
			out = append(out, fmt.Sprintf("  %-10s %s", strings.TrimPrefix(m[2], "DONE "), names[m[1]]))
		}
	}
	return strings.Join(out, "\n")
}

// checkImageConfig checks the run-time configuration of dfopt's image.
func checkImageConfig(t *testing.T, c imagefs.Config) {
	t.Helper()
	if c.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", c.User)
	}
	if !slices.Equal(c.Entrypoint, []string{"/dfopt"}) || len(c.Cmd) != 0 {
		t.Errorf("entrypoint %q and command %q, want [/dfopt] and none", c.Entrypoint, c.Cmd)
	}
	if c.WorkingDir != "/src" {
		t.Errorf("working folder %q, want /src", c.WorkingDir)
	}
	if len(c.ExposedPorts)+len(c.Volumes)+len(c.Labels)+len(c.OnBuild) > 0 {
		t.Errorf("unexpected configuration: %+v", c)
	}
}

// checkStaticBinary checks that bin is a Go program built as the
// Dockerfile says: statically linked (no interpreter, no shared library),
// without symbols or DWARF (-s -w), with CGO_ENABLED=0 and -trimpath.
func checkStaticBinary(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("/dfopt: %v", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("/dfopt is dynamically linked (%s)", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("/dfopt needs %q", libs)
	}
	for _, name := range []string{".symtab", ".debug_info", ".zdebug_info"} {
		if f.Section(name) != nil {
			t.Errorf("/dfopt has a %s section: not built with -ldflags '-s -w'", name)
		}
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("/dfopt: %v", err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	// With -trimpath the go command records no -ldflags (they may hold
	// paths): the sections above and --version tell those.
	if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
		t.Errorf("/dfopt built with CGO_ENABLED=%q -trimpath=%q", settings["CGO_ENABLED"], settings["-trimpath"])
	}
	if bi.Path != "github.com/dfopt/dfopt/cmd/dfopt" {
		t.Errorf("/dfopt is %s", bi.Path)
	}
}

// extractFile writes the file name of the image's layers (the last layer
// that holds it) to dst.
func extractFile(t *testing.T, layoutDir, name, dst string) {
	t.Helper()
	var idx, manifest struct {
		Manifests []struct{ Digest string }
		Layers    []struct{ Digest string }
	}
	blob := func(digest string) string {
		alg, hex, _ := strings.Cut(digest, ":")
		return filepath.Join(layoutDir, "blobs", alg, hex)
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(layoutDir, "index.json")), &idx); err != nil || len(idx.Manifests) != 1 {
		t.Fatalf("%s: index.json: %v", layoutDir, err)
	}
	if err := json.Unmarshal(readFile(t, blob(idx.Manifests[0].Digest)), &manifest); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range manifest.Layers {
		f, err := os.Open(blob(l.Digest))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("layer %s: %v", l.Digest, err)
		}
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("layer %s: %v", l.Digest, err)
			}
			if strings.TrimPrefix(h.Name, "./") != name {
				continue
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, dst, string(data))
			if err := os.Chmod(dst, 0o755); err != nil {
				t.Fatal(err)
			}
			found = true
		}
		f.Close()
	}
	if !found {
		t.Fatalf("no %s in the image's layers", name)
	}
}

// copyContext copies what the build context root sends, as its
// .dockerignore filters it, with the Dockerfile and the .dockerignore, to dst.
func copyContext(t *testing.T, root, dst string) {
	t.Helper()
	c, err := rewrite.OpenContext(root, filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"Dockerfile", ".dockerignore"}
	for _, f := range files {
		if !f.Dir {
			paths = append(paths, f.Path)
		}
	}
	for _, p := range paths {
		writeFile(t, filepath.Join(dst, filepath.FromSlash(p)), string(readFile(t, filepath.Join(root, filepath.FromSlash(p)))))
	}
}

// goToolchain is the Go toolchain the tests run with: its GOROOT and version.
func goToolchain(t *testing.T) (goroot, version string) {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT", "GOVERSION").Output()
	fields := strings.Fields(string(out))
	if err != nil || len(fields) != 2 {
		t.Fatalf("go env GOROOT GOVERSION: %v %q", err, out)
	}
	return fields[0], fields[1]
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
