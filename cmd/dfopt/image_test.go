package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
)

// repoRoot is the repository's root, the build context of its Dockerfile.
const repoRoot = "../.."

// TestOwnDockerfile checks that dfopt has nothing to say about the
// project's own Dockerfile and .dockerignore: no change and no finding of
// any kind, with the default rules, with proposals, and with every rule and
// option switched on.
func TestOwnDockerfile(t *testing.T) {
	dockerfile := filepath.Join(repoRoot, "Dockerfile")
	for _, opts := range [][]string{
		nil,
		{"--propose"},
		{"--enable=all", "--propose", "--fmt", "--merge=all", "--cache-mounts", "--dockerignore", "--large-file=1k"},
	} {
		args := append([]string{"--check", "--fail-on=report,proposal,security", "-v"}, opts...)
		var stdout, stderr bytes.Buffer
		code := run(append(args, dockerfile), nil, &stdout, &stderr)
		if code != exitOK || stdout.Len() > 0 || stderr.Len() > 0 {
			t.Errorf("dfopt %s %s: exit %d\n%s%s", strings.Join(args, " "), dockerfile, code, stdout.String(), stderr.String())
		}
	}
}

// TestDockerfileBuild checks how the Dockerfile builds dfopt: with the Go
// release go.mod names (the golang image's tag carries go.mod's major and
// minor version, and takes the newest patch release of it), and with the
// version stamped where --version reads it (-X names a missing variable
// without a word; TestVersionStamp builds with it).
func TestDockerfileBuild(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	df, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)(\.\d+)?$`).FindSubmatch(mod)
	from := regexp.MustCompile(`(?m)^FROM golang:(\d+\.\d+)-\S+ AS build$`).FindSubmatch(df)
	if goLine == nil || from == nil {
		t.Fatalf("no go line in go.mod (%v) or no FROM golang:X.Y-… AS build in the Dockerfile (%v)", goLine != nil, from != nil)
	}
	if string(goLine[1]) != string(from[1]) {
		t.Errorf("the Dockerfile builds with golang:%s, go.mod asks for go %s", from[1], goLine[1])
	}
	if !bytes.Contains(df, []byte(`-ldflags "-s -w -X main.version=${DFOPT_VERSION}"`)) {
		t.Errorf("the Dockerfile does not stamp the version with -X main.version=${DFOPT_VERSION}")
	}
}

// TestDockerignore checks that the .dockerignore beside the Dockerfile
// sends the build what it compiles, and nothing else: every file of every
// package of this module that cmd/dfopt links, go.mod and go.sum, and no
// other file (no test, no test data, no other package, no .git).
func TestDockerignore(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-json=Dir,Module,GoFiles,CgoFiles,EmbedFiles", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	needed := map[string]bool{"go.mod": true, "go.sum": true}
	dirs := map[string]bool{}
	for dec := json.NewDecoder(bytes.NewReader(out)); dec.More(); {
		var p struct {
			Dir                           string
			Module                        *struct{ Path string }
			GoFiles, CgoFiles, EmbedFiles []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.Module == nil || p.Module.Path != "github.com/dfopt/dfopt" {
			continue
		}
		dir, err := filepath.Rel(root, p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.ToSlash(dir)
		dirs[dir] = true
		for _, f := range slices.Concat(p.GoFiles, p.CgoFiles, p.EmbedFiles) {
			needed[path.Join(dir, f)] = true
		}
	}
	if !dirs["cmd/dfopt"] || !dirs["rewrite"] {
		t.Fatalf("go list found none of dfopt's own packages: %v", dirs)
	}
	ctx, err := rewrite.OpenContext(root, filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if ctx.IgnoreFile != filepath.Join(root, ".dockerignore") {
		t.Fatalf("ignore file %q, want the repository's .dockerignore", ctx.IgnoreFile)
	}
	files, err := ctx.Files()
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string]bool{}
	for _, f := range files {
		if f.Dir {
			continue
		}
		sent[f.Path] = true
		if (!needed[f.Path] && !dirs[path.Dir(f.Path)]) || strings.HasSuffix(f.Path, "_test.go") {
			t.Errorf("the build context holds %s, which dfopt's build does not read", f.Path)
		}
	}
	for _, f := range slices.Sorted(maps.Keys(needed)) {
		if !sent[f] {
			t.Errorf("the build context lacks %s, which dfopt's build reads (.dockerignore keeps it out)", f)
		}
	}
	for _, f := range []string{".git", "fixtures/all", "engine/cmd/dfopt-verify/main.go", "cmd/dfopt/main_test.go", "cmd/dfopt/testdata/script/help.txtar"} {
		if !ctx.Ignored(f) {
			t.Errorf(".dockerignore sends %s to the build", f)
		}
	}
}
