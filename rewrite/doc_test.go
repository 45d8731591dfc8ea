package rewrite

import (
	"errors"
	"testing"
)

// TestParseErrorLine checks that a file buildkit rejects for its parser
// directives names the directive's line (buildkit counts it from 0, so it
// named none for "# escape=x" on the first line), and that other errors keep
// buildkit's line.
func TestParseErrorLine(t *testing.T) {
	for _, c := range []struct {
		src  string
		line int
	}{
		{"#esCApe=000", 1},
		{"# escape=x\nFROM a\n", 1},
		{"\xef\xbb\xbf# escape=x\nFROM a\n", 1},
		{"# syntax=a\n# escape=x\nFROM a\n", 2},
		{"# syntax=a\r\n  # escape=x\r\nFROM a\r\n", 2},
		{"# escape=\\\n# escape=`\nFROM a\n", 2},
		{"# escape=\\\n# syntax=a\n# escape=`\nFROM a\n", 3},
		{"FROM a\nRUN --bogus x\n", 2},
		{"\n\n  \n", 3},
	} {
		_, err := Parse("in", []byte(c.src))
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != c.line {
			t.Errorf("%q: got %v, want a ParseError on line %d", c.src, err, c.line)
		}
	}
	for _, src := range []string{"# hi\n# escape=x\nFROM a\n", "FROM a\n# escape=x\n"} {
		if _, err := Parse("in", []byte(src)); err != nil {
			t.Errorf("%q: the escape comment is no directive there; got %v", src, err)
		}
	}
}

// TestArgsAfterFlagsEnd checks that the arguments after "--" or the flags
// start where buildkit's do: it skips blanks byte by byte within the flags
// but trims what follows as UTF-8, so a 0xa0 or 0x85 byte (not UTF-8, but
// a space when read as a rune) after "RUN --" is an argument. dfopt rejected
// such a file as an internal error (found by FuzzSource).
func TestArgsAfterFlagsEnd(t *testing.T) {
	for _, c := range []struct{ src, args string }{
		{"FROM 0\nRUN --\xa0", "\xa0"},
		{"FROM 0\nRUN -- \x85x", "\x85x"},
		{"FROM 0\nRUN --network=none \xa0x", "x"},
		{"FROM 0\nRUN \xa0x", "x"},
		{"FROM 0\nRUN --network=none   echo hi  ", "echo hi"},
	} {
		d, err := Parse("in", []byte(c.src))
		if err != nil {
			t.Errorf("%q: %v", c.src, err)
			continue
		}
		in := d.Instructions[1]
		if in.Args != c.args || in.Node.Next == nil || in.Node.Next.Value != c.args {
			t.Errorf("%q: Args %q, want %q", c.src, in.Args, c.args)
		}
	}
}

// TestFlagWords checks that an instruction's flags come back as its source
// writes them, where buildkit's Node.Flags decodes quotes and escapes and
// turns each byte over 0x7f into a rune of its own.
func TestFlagWords(t *testing.T) {
	for _, c := range []struct {
		src  string
		want []string
	}{
		{"FROM a\nCOPY --chown=usé:usé . .\n", []string{"--chown=usé:usé"}},
		{"FROM a\nCOPY --chmod=\"7 55\" --link \\\n  --chown=a\\ b . .\n", []string{`--chmod="7 55"`, "--link", `--chown=a\ b`}},
		{"# escape=`\nFROM a\nRUN --mount=type=cache,target=/x` y `\n  --network=none -- --not-a-flag\n", []string{"--mount=type=cache,target=/x` y", "--network=none"}},
		{"FROM a\nCOPY . .\n", nil},
		{"FROM a\nRUN\n", nil},
	} {
		d, err := Parse("in", []byte(c.src))
		if err != nil {
			t.Fatal(err)
		}
		in := d.Instructions[len(d.Instructions)-1]
		got := d.FlagWords(in)
		if len(got) != len(c.want) {
			t.Errorf("%q: got %q, want %q", c.src, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: got %q, want %q", c.src, got, c.want)
			}
		}
	}
}
