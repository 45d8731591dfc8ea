package shparse

import (
	"strings"
	"testing"

	"mvdan.cc/sh/v3/syntax"
)

// TestParse checks that a parser used again reads each program afresh: a
// program that does not parse leaves nothing behind for the next, and
// bash syntax and comments are read.
func TestParse(t *testing.T) {
	for range 3 {
		if _, err := Parse("echo 'unterminated"); err == nil {
			t.Fatal("an unterminated quote parsed")
		}
		f, err := Parse("[[ -n $x ]] && echo a # note\necho b")
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Stmts) != 2 {
			t.Fatalf("%d statements, want 2", len(f.Stmts))
		}
		var out strings.Builder
		if err := syntax.NewPrinter().Print(&out, f); err != nil {
			t.Fatal(err)
		}
		if want := "[[ -n $x ]] && echo a # note\necho b\n"; out.String() != want {
			t.Fatalf("printed %q, want %q", out.String(), want)
		}
	}
}
