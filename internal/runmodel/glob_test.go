package runmodel_test

import (
	"testing"

	"github.com/dfopt/dfopt/internal/runmodel"
)

func TestMatchGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		dir, want     bool
	}{
		{"/app/x.py", "/app/x.py", false, true},
		{"/app/x.py", "/app/y.py", false, false},
		{"/app/*.py", "/app/x.py", false, true},
		{"/app/*.py", "/app/sub/x.py", false, false}, // * stays in its segment
		{"/app/*", "/app/sub", true, true},
		{"/app/*", "/app", true, false},

		// A leading dot is matched by a dot only.
		{"/var/cache/*", "/var/cache/.gitkeep", false, false},
		{"/var/cache/*", "/var/cache/data", false, true},
		{"/var/cache/.*", "/var/cache/.gitkeep", false, true},
		{"/var/cache/?gitkeep", "/var/cache/.gitkeep", false, false},
		{"/var/cache/[.]gitkeep", "/var/cache/.gitkeep", false, false},
		{`/var/cache/\.gitkeep`, "/var/cache/.gitkeep", false, true},
		{"/app/*/x", "/app/.git/x", false, false},
		{"/app/a.*", "/app/a.b", false, true}, // a dot inside a name is a character

		// Bracket expressions.
		{"/app/[ab].txt", "/app/a.txt", false, true},
		{"/app/[ab].txt", "/app/c.txt", false, false},
		{"/app/[!ab].txt", "/app/c.txt", false, true},
		{"/app/[^ab].txt", "/app/a.txt", false, false},
		{"/app/[a-c]x", "/app/bx", false, true},
		{"/app/[a-c]x", "/app/dx", false, false},
		{"/app/[[:digit:]]", "/app/7", false, true},
		{"/app/[[:digit:]]", "/app/x", false, false},
		{"/app/[]]", "/app/]", false, true},
		{"/app/[", "/app/[", false, true}, // no ]: a plain [
		{"/app/[x", "/app/[x", false, true},
		{`/app/\[ab]`, "/app/[ab]", false, true},
		{`/app/\[ab]`, "/app/a", false, false},

		// ** is * without bash's globstar: one segment.
		{"/app/**/x", "/app/a/x", false, true},
		{"/app/**/x", "/app/a/b/x", false, false},
		{"/app/**", "/app/a", false, true},
		{"/app/**", "/app/a/b", false, false},

		// A final slash names folders only.
		{"/app/dir/", "/app/dir", true, true},
		{"/app/dir/", "/app/dir", false, false},
		{"/app/*/", "/app/dir", true, true},
		{"/app/*/", "/app/file", false, false},

		// ? is one character, also a multi-byte one.
		{"/app/?.txt", "/app/é.txt", false, true},
		{"/app/?.txt", "/app/ab.txt", false, false},
		{`/app/\*`, "/app/*", false, true},
		{`/app/\*`, "/app/x", false, false},
	} {
		if got := runmodel.MatchGlob(tc.pattern, tc.name, tc.dir); got != tc.want {
			t.Errorf("MatchGlob(%q, %q, dir=%v) = %v, want %v", tc.pattern, tc.name, tc.dir, got, tc.want)
		}
	}
}

func TestGlobLiteral(t *testing.T) {
	for _, tc := range []struct {
		pattern, want string
		whole         bool
	}{
		{"/app/x", "/app/x", true},
		{"/app/x/", "/app/x", true},
		{"/app/x*", "/app", false},
		{"/app/*/y", "/app", false},
		{"/*", "/", false},
		{`/a\[b\]/c`, "/a[b]/c", true},
		{`/a\*/c?`, "/a*", false},
	} {
		got, whole := runmodel.GlobLiteral(tc.pattern)
		if got != tc.want || whole != tc.whole {
			t.Errorf("GlobLiteral(%q) = %q, %v; want %q, %v", tc.pattern, got, whole, tc.want, tc.whole)
		}
	}
}
