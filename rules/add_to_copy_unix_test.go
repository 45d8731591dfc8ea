//go:build unix

package rules

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestAddSourcesPipe checks that a named pipe is judged without being
// opened (reading it would wait for a writer forever): ADD unpacks only
// regular files, so it copies a pipe as COPY does.
func TestAddSourcesPipe(t *testing.T) {
	ctx := addContext(t, map[string]string{"app.conf": "a\n"})
	if err := syscall.Mkfifo(filepath.Join(ctx.Dir, "pipe"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan addAction)
	go func() {
		got, _ := addSources(ctx, []string{"pipe", "*"})
		done <- got
	}()
	select {
	case got := <-done:
		if got != copies {
			t.Errorf("got %v, want copies", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("addSources opened the pipe")
	}
}
