package rewrite

import (
	"maps"
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

// TestContextsShare checks that the Dockerfiles of one folder share its
// build context, what was read of it and the facts derived from it, and
// that Wrote makes the next of them see what was written.
func TestContextsShare(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"a.Dockerfile":                "FROM scratch\n",
		"b.Dockerfile":                "FROM scratch\n",
		"own.Dockerfile":              "FROM scratch\n",
		"own.Dockerfile.dockerignore": "app.log\n",
		"app.log":                     "log",
		"src/main.go":                 "package main\n",
	})
	var cs Contexts
	open := func(dockerfile string) *BuildContext {
		t.Helper()
		c, err := cs.Open(dir, filepath.Join(dir, dockerfile))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	paths := func(c *BuildContext) []string {
		t.Helper()
		files, err := c.Files()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range files {
			out = append(out, f.Path)
		}
		return out
	}
	type countKey struct{}
	computed, fileComputed := 0, 0
	count := func(c *BuildContext) int {
		return Shared(c, countKey{}, func() int { computed++; return computed })
	}
	countFile := func(c *BuildContext, rel string) int {
		return SharedFile(c, countKey{}, rel, func() int { fileComputed++; return fileComputed })
	}

	a, b := open("a.Dockerfile"), open("b.Dockerfile")
	if a != b {
		t.Fatal("two Dockerfiles with the same ignore file in force got two contexts")
	}
	if own := open("own.Dockerfile"); own == a || !own.Ignored("app.log") || paths(own)[0] != "a.Dockerfile" {
		t.Errorf("own.Dockerfile's context: shared %v, patterns %q", own == a, own.Patterns)
	}
	before := paths(a)
	if count(a) != 1 || count(b) != 1 || countFile(a, "a.Dockerfile") != 1 || countFile(b, "b.Dockerfile") != 2 || countFile(b, "a.Dockerfile") != 1 {
		t.Fatalf("facts computed more than once: %d, %d", computed, fileComputed)
	}

	// What is written without a word to Contexts is not seen: the folder
	// was read once.
	writeTree(t, dir, map[string]string{"new.txt": "new"})
	if got := paths(open("a.Dockerfile")); !slices.Equal(got, before) {
		t.Errorf("the folder was read again: %q", got)
	}

	// Wrote makes it seen, and the facts computed again but for the other
	// files' own.
	cs.Wrote(filepath.Join(dir, "new.txt"))
	if got := paths(open("a.Dockerfile")); !slices.Contains(got, "new.txt") {
		t.Errorf("after Wrote, Files() = %q, without new.txt", got)
	}
	if count(a) != 2 || countFile(a, "a.Dockerfile") != 1 || countFile(a, "new.txt") != 3 {
		t.Errorf("after Wrote: computed %d, %d", computed, fileComputed)
	}
	writeTree(t, dir, map[string]string{"a.Dockerfile": "FROM scratch\nCOPY . .\n"})
	cs.Wrote(filepath.Join(dir, "a.Dockerfile"))
	if countFile(a, "a.Dockerfile") != 4 || countFile(a, "b.Dockerfile") != 2 {
		t.Errorf("after a.Dockerfile was written: computed %d", fileComputed)
	}
	if f, ok := a.Stat("a.Dockerfile"); !ok || f.Size != int64(len("FROM scratch\nCOPY . .\n")) {
		t.Errorf("Stat(a.Dockerfile) = %+v, %v after it was written", f, ok)
	}

	// A .dockerignore written gives the folder's Dockerfiles a new context
	// that it filters; removing it, the old one again.
	writeTree(t, dir, map[string]string{".dockerignore": "*.log\nsrc\n"})
	cs.Wrote(filepath.Join(dir, ".dockerignore"))
	c := open("b.Dockerfile")
	if c == a || !c.Ignored("app.log") || slices.Contains(paths(c), "src/main.go") || !slices.Contains(paths(c), ".dockerignore") {
		t.Errorf("after .dockerignore was written: patterns %q, files %q", c.Patterns, paths(c))
	}
	if err := os.Remove(filepath.Join(dir, ".dockerignore")); err != nil {
		t.Fatal(err)
	}
	cs.Wrote(filepath.Join(dir, ".dockerignore"))
	if c := open("b.Dockerfile"); c.IgnoreFile != "" || slices.Contains(paths(c), ".dockerignore") {
		t.Errorf("after .dockerignore was removed: ignore file %q, files %q", c.IgnoreFile, paths(c))
	}
}

// TestContextWalk checks Walk against the folder: what it visits from a
// root, what visit skips, and that an ignored folder is entered only when a
// "!" pattern may bring back something below it.
func TestContextWalk(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"a/b/c.txt": "c", "a/d.txt": "d", "e.txt": "e",
		"logs/x.log": "x", "logs/keep.txt": "k",
	})
	walk := func(c *BuildContext, root string, skip string) []string {
		var out []string
		c.Walk(root, func(f ContextFile) bool {
			out = append(out, f.Path)
			return f.Path == skip
		})
		return out
	}
	writeTree(t, dir, map[string]string{".dockerignore": "logs\n"})
	c, err := OpenContext(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		root, skip string
		want       []string
	}{
		{".", "", []string{".", ".dockerignore", "a", "a/b", "a/b/c.txt", "a/d.txt", "e.txt"}},
		{".", "a/b", []string{".", ".dockerignore", "a", "a/b", "a/d.txt", "e.txt"}},
		{"a", "", []string{"a", "a/b", "a/b/c.txt", "a/d.txt"}},
		{"../a/./b", "", []string{"a/b", "a/b/c.txt"}},
		{"e.txt", "", []string{"e.txt"}},
		{"missing", "", nil},
		{"logs", "", nil},
	} {
		if got := walk(c, tc.root, tc.skip); !slices.Equal(got, tc.want) {
			t.Errorf("Walk(%q), skipping %q: %q, want %q", tc.root, tc.skip, got, tc.want)
		}
	}
	writeTree(t, dir, map[string]string{".dockerignore": "logs\n!logs/keep.txt\n"})
	if c, err = OpenContext(dir, ""); err != nil {
		t.Fatal(err)
	}
	if got, want := walk(c, "logs", ""), []string{"logs/keep.txt"}; !slices.Equal(got, want) {
		t.Errorf("with an exclusion, Walk(logs) = %q, want %q", got, want)
	}
}

// TestContextWalkError checks that a folder that cannot be read stops
// neither Walk nor Files, and that Files says so. The folder here is one
// removed after its parent was listed.
func TestContextWalkError(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a/x.txt": "x", "b/y.txt": "y", "c.txt": "c"})
	c, err := OpenContext(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ReadDir("."); len(got) != 3 {
		t.Fatalf("ReadDir(.) = %v", got)
	}
	if err := os.RemoveAll(filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	var seen []string
	c.Walk(".", func(f ContextFile) bool { seen = append(seen, f.Path); return false })
	if want := []string{".", "a", "b", "b/y.txt", "c.txt"}; !slices.Equal(seen, want) {
		t.Errorf("Walk visited %q, want %q", seen, want)
	}
	if _, err := c.Files(); err == nil {
		t.Error("Files() gave no error for a folder it could not read")
	}
}

// TestSharedKeep checks what a write keeps of a context: a rewrite in place
// keeps the facts whose keep says so and gives the list of files the new
// entry; a Shared fact, a fact whose keep says no, and every fact after a
// write that adds a path are made again.
func TestSharedKeep(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"Dockerfile": "FROM scratch\n", "a.txt": "a"})
	var cs Contexts
	c, err := cs.Open(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	made := map[string]int{}
	type key string
	facts := func() {
		Shared(c, key("plain"), func() int { made["plain"]++; return 0 })
		SharedKeep(c, key("yes"), func() int { made["yes"]++; return 0 }, func(int, string) bool { return true })
		SharedKeep(c, key("no"), func() int { made["no"]++; return 0 }, func(int, string) bool { return false })
	}
	sizeOf := func(rel string) int64 {
		files, err := c.Files()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if f.Path == rel {
				return f.Size
			}
		}
		t.Fatalf("%s is not among the files", rel)
		return 0
	}
	facts()
	if sizeOf("a.txt") != 1 {
		t.Fatal("a.txt: wrong size before the write")
	}
	writeTree(t, dir, map[string]string{"a.txt": "abc"})
	cs.Wrote(filepath.Join(dir, "a.txt"))
	facts()
	if want := map[string]int{"plain": 2, "yes": 1, "no": 2}; !maps.Equal(made, want) {
		t.Errorf("after a rewrite in place the facts were made %v times, want %v", made, want)
	}
	if got := sizeOf("a.txt"); got != 3 {
		t.Errorf("after a rewrite in place the list of files gives a.txt %d bytes, want 3", got)
	}
	writeTree(t, dir, map[string]string{"b.txt": "b"})
	cs.Wrote(filepath.Join(dir, "b.txt"))
	facts()
	if want := map[string]int{"plain": 3, "yes": 2, "no": 3}; !maps.Equal(made, want) {
		t.Errorf("after a new file the facts were made %v times, want %v", made, want)
	}
	if got := sizeOf("b.txt"); got != 1 {
		t.Errorf("after a new file the list gives b.txt %d bytes, want 1", got)
	}
}
