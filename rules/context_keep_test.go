package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
)

// TestKeptThroughRewrites checks what the dockerignore rule keeps of a
// context when a file of it is rewritten in place: a sibling Dockerfile
// read again, and the scan dropped when the rewritten file's own kind
// changes (an .npmrc that now holds a token), kept when it does not.
func TestKeptThroughRewrites(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Dockerfile", "FROM alpine\nCOPY . /src\n")
	write("other.Dockerfile", "FROM alpine\nCOPY . /src\nRUN echo hi\n")
	write("third.Dockerfile", "FROM alpine\nRUN git log\n")
	write(".npmrc", "registry=https://registry.example\n")
	var cs rewrite.Contexts
	ctx, err := cs.Open(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	runsGit := func(u *dockerfileUse) bool { return u.runs("git") }

	// The siblings in order: Dockerfile, other.Dockerfile, third.Dockerfile.
	s := siblingsOf(ctx)
	if n, first := s.ask("git", runsGit); n != 1 || first != 2 {
		t.Fatalf("%d siblings run git before the rewrites, the first at %d; want 1 at 2", n, first)
	}
	for _, c := range []struct {
		name, body string
		n, first   int
	}{
		{"other.Dockerfile", "FROM alpine\nCOPY . /src\nRUN git log\n", 2, 1},
		{"third.Dockerfile", "FROM alpine\nRUN echo no\n", 1, 1},
		{"Dockerfile", "FROM alpine\nCOPY . /src\nRUN git status\n", 2, 0},
		{"Dockerfile", "FROM alpine\nCOPY . /src\n", 1, 1},
		{"other.Dockerfile", "FROM alpine\nCOPY . /src\n", 0, -1},
	} {
		write(c.name, c.body)
		cs.Wrote(filepath.Join(dir, c.name))
		if s2 := siblingsOf(ctx); s2 != s {
			t.Fatalf("the siblings were read again from scratch after %s was rewritten in place; want them kept", c.name)
		}
		if n, first := s.ask("git", runsGit); n != c.n || first != c.first {
			t.Errorf("after %s was rewritten %d siblings run git, the first at %d; want %d at %d", c.name, n, first, c.n, c.first)
		}
	}

	scan := scanContext(ctx)
	if len(scan.items) != 0 {
		t.Fatalf("the scan flags %v before the token is written", scan.items)
	}
	write("Dockerfile", "FROM alpine\nCOPY . /app\n")
	cs.Wrote(filepath.Join(dir, "Dockerfile"))
	if scanContext(ctx) != scan {
		t.Error("the scan was made again after a Dockerfile was rewritten in place; want it kept")
	}
	write(".npmrc", "//registry.example/:_authToken=secret\n")
	cs.Wrote(filepath.Join(dir, ".npmrc"))
	if got := scanContext(ctx); got == scan || len(got.items) != 1 {
		t.Errorf("after .npmrc got a token the scan flags %d items (kept: %v), want it made again with 1", len(got.items), got == scan)
	}
}
