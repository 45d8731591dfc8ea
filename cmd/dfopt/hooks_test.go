package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// preCommitHook is what the tests read of a hook in .pre-commit-hooks.yaml.
type preCommitHook struct {
	ID            string `yaml:"id"`
	Entry         string `yaml:"entry"`
	Language      string `yaml:"language"`
	Files         string `yaml:"files"`
	Exclude       string `yaml:"exclude"`
	PassFilenames *bool  `yaml:"pass_filenames"`
	RequireSerial *bool  `yaml:"require_serial"`
}

// readPreCommitHooks reads the repository's .pre-commit-hooks.yaml.
func readPreCommitHooks(t *testing.T) []preCommitHook {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", ".pre-commit-hooks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var hooks []preCommitHook
	if err := yaml.Unmarshal(data, &hooks); err != nil {
		t.Fatalf(".pre-commit-hooks.yaml: %v", err)
	}
	return hooks
}

// hookPaths are the paths TestPreCommitPatterns gives a walk and the hooks'
// patterns: the names a walk reads and skips in folders it enters and
// folders it skips, and every extension that says another format, in both
// cases and one letter away.
func hookPaths() []string {
	names := []string{
		"Dockerfile", "Containerfile", "Dockerfile.", "Dockerfile.dev", "Dockerfile.go",
		"Dockerfile.old", "Dockerfile.test", "Dockerfile.prod.arm64", "Containerfile.prod",
		"api.Dockerfile", "api.dockerfile", ".Dockerfile", "web.prod.Dockerfile",
		"dockerfile", "DOCKERFILE", "containerfile", "api.DockerFile", "Dockerfiles",
		"Dockerfile-dev", "Dockerfile_dev", "MyDockerfile", "xDockerfile.dev",
		"Containerfiles", "api.Dockerfile.bak", "api.Dockerfile.md", "README.txt",
		"Dockerfile.dev~", "Dockerfile~", "api.Dockerfile~", "Dockerfile.~dev",
		"Dockerfile.prod.tmpl", "Dockerfile.J2", "Dockerfile.md.dev", "Dockerfile.md.",
	}
	var paths []string
	for _, name := range names {
		for _, dir := range []string{"", "sub/dir/", "vendor/", "app/node_modules/x/", "vendors/", "my_vendor/", "node_modules.d/"} {
			paths = append(paths, dir+name)
		}
	}
	for ext := range otherFormats {
		for _, e := range []string{ext, strings.ToUpper(ext), ext + "x", "x" + ext, ext[:len(ext)-1]} {
			paths = append(paths, "Dockerfile."+e, "sub/Containerfile.prod."+e)
		}
	}
	sort.Strings(paths)
	return slices.Compact(paths)
}

// TestPreCommitPatterns checks that each hook of .pre-commit-hooks.yaml
// passes dfopt exactly the files a walk of the repository reads: the files
// are made in a folder and walked, and the hooks' files and exclude patterns
// must choose the same. Where Python is installed, its re module (which
// pre-commit uses) must agree with Go's regexp on every path.
func TestPreCommitPatterns(t *testing.T) {
	hooks := readPreCommitHooks(t)
	var ids []string
	for _, h := range hooks {
		ids = append(ids, h.ID)
	}
	if !slices.Equal(ids, []string{"dfopt", "dfopt-fix"}) {
		t.Fatalf(".pre-commit-hooks.yaml has the hooks %q, want dfopt and dfopt-fix", ids)
	}

	paths := hookPaths()
	root := t.TempDir()
	for _, p := range paths {
		path := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("FROM scratch\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := &cli{stderr: io.Discard}
	walked := map[string]bool{}
	for _, in := range c.collect(root, nil) {
		rel, err := filepath.Rel(root, in)
		if err != nil {
			t.Fatal(err)
		}
		walked[filepath.ToSlash(rel)] = true
	}
	if len(walked) == 0 {
		t.Fatal("the walk read no file")
	}

	for _, h := range hooks {
		if h.Language != "golang" || h.PassFilenames == nil || !*h.PassFilenames || h.RequireSerial == nil || *h.RequireSerial {
			t.Errorf("hook %s: want language golang, pass_filenames: true, require_serial: false", h.ID)
		}
		if !strings.HasPrefix(h.Entry, "dfopt ") {
			t.Errorf("hook %s: entry %q does not run dfopt", h.ID, h.Entry)
		}
		files, err := regexp.Compile(h.Files)
		if err != nil {
			t.Fatalf("hook %s: files: %v", h.ID, err)
		}
		exclude, err := regexp.Compile(h.Exclude)
		if err != nil {
			t.Fatalf("hook %s: exclude: %v", h.ID, err)
		}
		for _, p := range paths {
			// pre-commit searches each pattern anywhere in the path, as MatchString does.
			chosen := files.MatchString(p) && !exclude.MatchString(p)
			if chosen != walked[p] {
				t.Errorf("hook %s: %s: passed to dfopt: %v, read by a walk: %v", h.ID, p, chosen, walked[p])
			}
		}
	}
	if t.Failed() {
		var exts []string
		for ext := range otherFormats {
			exts = append(exts, ext)
		}
		sort.Strings(exts)
		t.Logf("the extensions a walk skips: %s", strings.Join(exts, "|"))
		return
	}
	for _, h := range hooks {
		comparePythonRe(t, h, paths)
	}
}

// comparePythonRe checks that Python's re.search, as pre-commit calls it,
// chooses the same paths as Go's regexp for a hook's patterns.
func comparePythonRe(t *testing.T, h preCommitHook, paths []string) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Logf("python3 is not installed: the patterns are checked with Go's regexp only")
		return
	}
	const script = `
import json, re, sys
h = json.load(sys.stdin)
files, exclude = re.compile(h["files"]), re.compile(h["exclude"])
json.dump([p for p in h["paths"] if files.search(p) and not exclude.search(p)], sys.stdout)
`
	in, err := json.Marshal(map[string]any{"files": h.Files, "exclude": h.Exclude, "paths": paths})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	var chosen []string
	if err := json.Unmarshal(out, &chosen); err != nil {
		t.Fatalf("python3 printed %q: %v", out, err)
	}
	files, exclude := regexp.MustCompile(h.Files), regexp.MustCompile(h.Exclude)
	var want []string
	for _, p := range paths {
		if files.MatchString(p) && !exclude.MatchString(p) {
			want = append(want, p)
		}
	}
	if !slices.Equal(chosen, want) {
		t.Errorf("hook %s: Python's re chooses\n%q\nGo's regexp\n%q", h.ID, chosen, want)
	}
}
