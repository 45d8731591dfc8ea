package realbuild

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// howToRun is what a skipped test tells its reader.
const howToRun = "needs a Docker engine: run `bash realbuild/run.sh` from the repository root " +
	"(it starts a private dockerd, sets DFOPT_REALBUILD=1 and runs these tests), " +
	"or start one with `realbuild/engine.sh start`, `eval \"$(realbuild/engine.sh env)\"` and set DFOPT_REALBUILD=1"

// engine is the docker CLI pointed at the engine the tests use. The tests exec
// the CLI rather than link a Docker SDK: it is what a user runs, and it keeps
// the module free of the SDK's dependencies.
type engine struct {
	bin string // DFOPT_REALBUILD_DOCKER, else docker from PATH
}

// requireEngine skips t unless DFOPT_REALBUILD=1 and docker info answers.
// requireDebianEngine is requireEngine for tests that build on debian:bookworm:
// they also skip, saying how to run them, unless DFOPT_REALBUILD_DEBIAN=1 and
// the engine has that image. what says what the test does with it.
func requireDebianEngine(t *testing.T, what string) *engine {
	t.Helper()
	if os.Getenv("DFOPT_REALBUILD_DEBIAN") != "1" {
		t.Skip("DFOPT_REALBUILD_DEBIAN is not 1; this test " + what + ": DFOPT_REALBUILD_DEBIAN=1 bash realbuild/run.sh")
	}
	e := requireEngine(t)
	if !e.hasImage(t.Context(), debianBase) {
		t.Skipf("the engine has no %s: start it with DFOPT_REALBUILD_DEBIAN=1 realbuild/engine.sh start", debianBase)
	}
	return e
}

func requireEngine(t *testing.T) *engine {
	t.Helper()
	if os.Getenv("DFOPT_REALBUILD") != "1" {
		t.Skip("DFOPT_REALBUILD is not 1; this test " + howToRun)
	}
	e := &engine{bin: os.Getenv("DFOPT_REALBUILD_DOCKER")}
	if e.bin == "" {
		e.bin = "docker"
	}
	if _, err := exec.LookPath(e.bin); err != nil {
		t.Skipf("no docker CLI (%v); this test %s", err, howToRun)
	}
	info, err := e.run(t.Context(), nil, "info", "--format", "{{.ServerVersion}} {{.Driver}}")
	if err != nil {
		t.Skipf("docker info does not answer: %v\nThis test %s", err, howToRun)
	}
	version, driver, _ := strings.Cut(info, " ")
	t.Logf("engine: dockerd %s, storage driver %s, CLI %s, DOCKER_HOST=%s", version, driver, e.bin, os.Getenv("DOCKER_HOST"))
	return e
}

// command makes the exec.Cmd of one docker CLI call with extra environment.
func (e *engine) command(ctx context.Context, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = nil
	return cmd
}

// run runs one docker CLI call and returns its standard output, trimmed; an
// error carries the call and the tail of its standard error.
func (e *engine) run(ctx context.Context, env []string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := e.command(ctx, env, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("docker %s: %w\n%s", strings.Join(args, " "), err, tailLines(stderr.String(), 40))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// tailLines keeps the last n lines of s, where a build's error is.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d lines]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// hasImage says whether the engine has ref without pulling it (no registry is
// reachable where these tests run).
func (e *engine) hasImage(ctx context.Context, ref string) bool {
	_, err := e.run(ctx, nil, "image", "inspect", "--format", "{{.Id}}", ref)
	return err == nil
}

// inspect reads what the tests compare of an image.
func (e *engine) inspect(ctx context.Context, image string) (imageInfo, error) {
	out, err := e.run(ctx, nil, "image", "inspect", "--format", "{{json .}}", image)
	if err != nil {
		return imageInfo{}, err
	}
	var info imageInfo
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		return imageInfo{}, fmt.Errorf("inspect %s: %w", image, err)
	}
	return info, nil
}

// exportTree creates a container of image (never started), reads its file
// system with docker export, and removes the container.
func (e *engine) exportTree(ctx context.Context, image string) (fsTree, error) {
	// A command, so that images with neither CMD nor ENTRYPOINT can be created.
	cid, err := e.run(ctx, nil, "create", image, "dfopt-realbuild-never-started")
	if err != nil {
		return nil, err
	}
	defer e.run(context.WithoutCancel(ctx), nil, "rm", "-f", cid) //nolint:errcheck // best effort; the engine is thrown away after the run
	var stderr bytes.Buffer
	cmd := e.command(ctx, nil, "export", cid)
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("docker export: %w", err)
	}
	tree, readErr := readTree(out)
	_, _ = io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("docker export %s: %w\n%s", cid, err, tailLines(stderr.String(), 20))
	}
	return tree, readErr
}

// builder is one way the engine builds images: "buildkit" (DOCKER_BUILDKIT=1)
// or "classic" (DOCKER_BUILDKIT=0, the legacy builder), with what it can do as
// found by building small probes.
type builder struct {
	name     string
	e        *engine
	heredocs bool // RUN <<EOF
}

func (b *builder) env() []string {
	if b.name == "buildkit" {
		return []string{"DOCKER_BUILDKIT=1"}
	}
	return []string{"DOCKER_BUILDKIT=0"}
}

// build builds dockerfile with contextDir as the build context and returns the
// image ID. Builds use the host's network: the engine has no bridge.
func (b *builder) build(ctx context.Context, dockerfile, contextDir string) (string, error) {
	args := []string{"build", "--network=host", "-q", "-f", dockerfile}
	if b.name == "classic" {
		// Also remove the containers of failed steps.
		args = append(args, "--force-rm")
	}
	out, err := b.e.run(ctx, b.env(), append(args, contextDir)...)
	if err != nil {
		return "", err
	}
	lines := strings.Fields(out)
	if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], "sha256:") {
		return "", fmt.Errorf("docker build -q printed no image ID: %q", out)
	}
	return lines[len(lines)-1], nil
}

// removeImage removes an image the tests built and, for BuildKit, its build
// cache, so that disk stays small over many fixtures.
func (b *builder) removeImage(t *testing.T, id string) {
	ctx := context.WithoutCancel(t.Context())
	if _, err := b.e.run(ctx, nil, "rmi", "-f", id); err != nil && !strings.Contains(err.Error(), "No such image") {
		t.Logf("cleanup: %v", err)
	}
	if b.name == "buildkit" {
		if _, err := b.e.run(ctx, b.env(), "builder", "prune", "-a", "-f"); err != nil {
			t.Logf("cleanup: %v", err)
		}
	}
}

// probeBase is the image every probe builds on; engine.sh imports it.
const probeBase = "busybox:latest"

// builders finds the builders the engine offers, or those DFOPT_REALBUILD_BUILDERS
// names ("buildkit,classic"), and what each can do. A named builder that does
// not work fails the test; an unnamed one is left out, saying so.
func builders(t *testing.T, e *engine) []*builder {
	t.Helper()
	ctx := t.Context()
	if !e.hasImage(ctx, probeBase) {
		t.Fatalf("the engine has no %s: realbuild/engine.sh start imports it", probeBase)
	}
	names, asked := []string{"buildkit", "classic"}, false
	if s := os.Getenv("DFOPT_REALBUILD_BUILDERS"); s != "" {
		names, asked = strings.Split(s, ","), true
	}
	dir := t.TempDir()
	probe := func(b *builder, name, text string) error {
		file := filepath.Join(dir, name+".Dockerfile")
		if err := os.WriteFile(file, []byte("FROM "+probeBase+"\n"+text), 0o644); err != nil {
			t.Fatal(err)
		}
		id, err := b.build(ctx, file, dir)
		if err == nil {
			b.removeImage(t, id)
		}
		return err
	}
	var out []*builder
	for _, name := range names {
		b := &builder{name: strings.TrimSpace(name), e: e}
		var works string
		switch b.name {
		case "buildkit":
			works = "RUN --mount=type=tmpfs,target=/m touch /m/x\n"
		case "classic":
			works = "RUN true\n"
		default:
			t.Fatalf("DFOPT_REALBUILD_BUILDERS: unknown builder %q (buildkit, classic)", b.name)
		}
		if err := probe(b, b.name, works); err != nil {
			if asked {
				t.Fatalf("builder %s does not work: %v", b.name, err)
			}
			t.Logf("builder %s left out: it does not build a probe: %s", b.name, lastLine(err.Error()))
			continue
		}
		b.heredocs = probe(b, b.name+"-heredoc", "RUN <<EOF\ntrue\nEOF\n") == nil
		t.Logf("builder %s works; heredocs: %v", b.name, b.heredocs)
		out = append(out, b)
	}
	if len(out) == 0 {
		t.Fatal("no builder works with this engine")
	}
	return out
}

// lastLine keeps the last line of an error, where docker says what failed.
func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}
