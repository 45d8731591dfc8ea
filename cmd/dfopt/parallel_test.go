package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestParallelSameAsOneByOne checks that computing the files of a run side
// by side (visitAll) prints, byte for byte, what computing them one by one
// prints, with the exit status: over the corpus files put in folders that
// share build contexts (one with a .dockerignore, one with a .env and a
// .git, one with a config file), in every output format. Run it with -race
// after touching what the inputs share (the contexts, the finder).
func TestParallelSameAsOneByOne(t *testing.T) {
	files := corpusFiles(t)
	dir := t.TempDir()
	writeFiles(t, dir, threeContexts())
	for i, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sub := []string{"a", "b", "c"}[i%3]
		if err := os.WriteFile(filepath.Join(dir, sub, filepath.Base(path)), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	run1 := func(procs int, args []string) (int, string, string) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		var stdout, stderr bytes.Buffer
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	for _, args := range [][]string{
		{"-d", "."},
		{"-l", "--propose", "--fmt", "a", "b", "c"},
		{"--check", "-v", "--fail-on=report", "."},
		{"--format=json", "."},
		{"--format=sarif", "--dockerignore", "-d", "."},
		{"."},
	} {
		wantCode, wantOut, wantErr := run1(1, args)
		code, out, errs := run1(4, args)
		if code != wantCode || out != wantOut || errs != wantErr {
			t.Errorf("dfopt %s: side by side differs from one by one: exit %d, want %d; standard output the same: %v; standard error the same: %v",
				strings.Join(args, " "), code, wantCode, out == wantOut, errs == wantErr)
		}
		if len(wantOut)+len(wantErr) == 0 {
			t.Errorf("dfopt %s printed nothing: the test sees nothing", strings.Join(args, " "))
		}
	}
}

// threeContexts are three folders around the corpus files of a test, each a
// build context of its own: one with a .dockerignore, one with a .env and a
// .git, one with a .dfopt.yaml.
func threeContexts() map[string]string {
	return map[string]string{
		"a/.dockerignore":    "*.log\n",
		"a/package.json":     `{"name":"a"}` + "\n",
		"b/.env":             "KEY=x\n",
		"b/.git/HEAD":        "ref: refs/heads/main\n",
		"b/requirements.txt": "flask\n",
		"c/.dfopt.yaml":      "disable: [merge-runs]\npropose: true\n",
		"c/app.log":          "x\n",
	}
}
