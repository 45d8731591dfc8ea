package rewrite

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBuildContext(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		".dockerignore":               "# comment\nnode_modules\n*.log\n!keep.log\nbuild/\n**/*.tmp\n",
		"package.json":                "{}",
		"node_modules/x/index.js":     "x",
		"app.log":                     "log",
		"keep.log":                    "kept",
		"build/out.bin":               "bin",
		"src/main.js":                 "main",
		"src/deep/scratch.tmp":        "tmp",
		"web.Dockerfile":              "FROM scratch\n",
		"web.Dockerfile.dockerignore": "src\n",
	})
	c, err := OpenContext(dir, filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if c.IgnoreFile != filepath.Join(dir, ".dockerignore") {
		t.Errorf("IgnoreFile = %q", c.IgnoreFile)
	}
	for rel, want := range map[string]bool{
		"package.json": true, "node_modules/x/index.js": false, "node_modules": false,
		"app.log": false, "keep.log": true, "build/out.bin": false, "src/main.js": true,
		"src/deep/scratch.tmp": false, "missing.txt": false,
	} {
		if got := c.Sent(rel); got != want {
			t.Errorf("Sent(%q) = %v, want %v", rel, got, want)
		}
	}
	files, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Path)
	}
	want := []string{".dockerignore", "keep.log", "package.json", "src", "src/deep", "src/main.js", "web.Dockerfile", "web.Dockerfile.dockerignore"}
	if !slices.Equal(names, want) {
		t.Errorf("Files() = %q, want %q", names, want)
	}

	// A Dockerfile's own ignore file wins over the context's.
	c, err = OpenContext(dir, filepath.Join(dir, "web.Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Ignored("src/main.js") || c.Ignored("app.log") {
		t.Errorf("web.Dockerfile.dockerignore not in force: patterns %q", c.Patterns)
	}

	if _, err := OpenContext(filepath.Join(dir, "package.json"), ""); err == nil {
		t.Error("a file as context: no error")
	}
}
