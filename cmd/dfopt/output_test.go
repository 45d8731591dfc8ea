package main

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestOneLine(t *testing.T) {
	if got := oneLine("x:1: bad \x00\n\xff"); got != `x:1: bad \x00\n\xff` {
		t.Errorf("oneLine = %q", got)
	}
	long := strings.Repeat("a", maxErrorLen-1) + "é" + strings.Repeat("b", 100)
	got := oneLine(long)
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || len(got) > maxErrorLen+len("…") {
		t.Errorf("oneLine of %d bytes = %q (%d bytes)", len(long), got, len(got))
	}
}
