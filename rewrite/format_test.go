package rewrite

import (
	"bytes"
	"testing"
)

// TestFormatKeepsBytesNotUTF8 checks that --fmt keeps bytes that are not
// UTF-8 and is idempotent on them. Collapsing blanks went rune by rune and
// wrote U+FFFD for each such byte (in a LABEL, say), and the exec form of `CopY ["","\xdf"]` was
// left unformatted on the first run and formatted on the second (found by
// FuzzSource).
func TestFormatKeepsBytesNotUTF8(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"FROM 0\nCopY [\"\",\"\xdf\"]", "FROM 0\nCOPY [\"\", \"\ufffd\"]"}, // buildkit reads the JSON as U+FFFD
		{"FROM a\nrun echo \xdf   x\n", "FROM a\nRUN echo \xdf   x\n"},      // mvdan/sh does not read it: blanks kept
		{"FROM a\nLABEL a=\"\xdf\"   b=c\n", "FROM a\nLABEL a=\"\xdf\" b=c\n"},
	} {
		opts := Options{Path: "in", Format: true}
		res, err := Source([]byte(c.src), opts)
		if err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		if string(res.Output) != c.want {
			t.Errorf("%q: got %q, want %q", c.src, res.Output, c.want)
		}
		again, err := Source(res.Output, opts)
		if err != nil || !bytes.Equal(again.Output, res.Output) {
			t.Errorf("%q: not idempotent: %q, then %q (%v)", c.src, res.Output, again.Output, err)
		}
	}
}
