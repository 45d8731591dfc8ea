package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestCorpusDiffMatchesWrite checks, for every corpus file dfopt changes, that
// `dfopt -d F | git apply` leaves the same bytes as `dfopt -w F`.
func TestCorpusDiffMatchesWrite(t *testing.T) {
	files := corpusFiles(t)
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	t.Chdir(dir)
	changed := 0
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		if err := os.WriteFile(name, src, 0o644); err != nil {
			t.Fatal(err)
		}
		var diff bytes.Buffer
		switch code := run([]string{"-q", "-d", name}, nil, &diff, io.Discard); code {
		case exitOK, exitError: // unchanged, or a file buildkit rejects
			continue
		case exitChanged:
		default:
			t.Fatalf("%s: dfopt -d exited %d", name, code)
		}
		changed++
		apply := exec.Command("git", "apply", "-")
		apply.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CEILING_DIRECTORIES="+filepath.Dir(dir))
		apply.Stdin = &diff
		if out, err := apply.CombinedOutput(); err != nil {
			t.Errorf("%s: git apply: %v\n%s", name, err, out)
			continue
		}
		applied, _ := os.ReadFile(name)
		if err := os.WriteFile(name, src, 0o644); err != nil {
			t.Fatal(err)
		}
		if code := run([]string{"-q", "-w", name}, nil, io.Discard, io.Discard); code != exitOK {
			t.Fatalf("%s: dfopt -w exited %d", name, code)
		}
		written, _ := os.ReadFile(name)
		if !bytes.Equal(applied, written) {
			t.Errorf("%s: dfopt -d | git apply differs from dfopt -w", name)
		}
		if bytes.Equal(written, src) {
			t.Errorf("%s: -d showed a change but -w wrote none", name)
		}
	}
	t.Logf("%d of %d corpus files change: for each, dfopt -d | git apply == dfopt -w", changed, len(files))
}

// corpusFiles lists the files of ../shared/corpus/dockerfiles by absolute
// path, read there and never copied in; the test is skipped without them.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	corpus, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "corpus", "dockerfiles"))
	files, _ := filepath.Glob(filepath.Join(corpus, "*"))
	if len(files) == 0 {
		t.Skipf("corpus not found at %s: ../shared is absent", corpus)
	}
	return files
}
