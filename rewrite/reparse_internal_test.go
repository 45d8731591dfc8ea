package rewrite

import (
	"strings"
	"testing"
)

// TestSplice edits documents where parsing only around the edits is right,
// and where it is not (the edit runs on into the next instruction, changes
// the escape token, the comments above an untouched instruction or the shell
// later RUNs read): each result must equal a parse of the whole file, and the
// splice must be taken, or refused, as the case says.
func TestSplice(t *testing.T) {
	cases := []struct {
		name      string
		src       string
		old, new  string // the edit: the first old in src becomes new
		local     bool   // the splice may do it
		instCount int
	}{
		{"one RUN", "FROM a\nRUN x\nRUN y\nCMD z\n", "RUN y", "RUN y2 \\\n  && w", true, 4},
		{"first line", "FROM a\nRUN x\n", "FROM a", "from b AS c", true, 2},
		{"delete", "FROM a\nRUN x\nRUN y\nCMD z\n", "RUN y\n", "", true, 3},
		{"insert before", "FROM a\n# c\nRUN x\nCMD z\n", "# c\n", "# c\nCOPY a b\n", true, 4},
		{"at the end, no newline", "FROM a\nRUN x", "RUN x", "RUN y\nCMD z", true, 3},
		{"in a gap", "FROM a\n\nRUN x\n", "\n", "\nLABEL a=b\n", true, 3},
		{"CRLF", "FROM a\r\nRUN x\r\nRUN y\r\n", "RUN x", "RUN x \\\r\n  && y", true, 3},
		{"BOM", "\xef\xbb\xbffrom a\nRUN x\n", "from a", "FROM b", true, 2},
		{"backtick", "# escape=`\nFROM a\nRUN x `\n  y\nRUN z\n", "RUN z", "RUN z `\n  && w", true, 3},
		{"heredoc", "FROM a\nRUN <<EOF\nx\nEOF\nRUN y\n", "RUN y", "RUN <<E\ny\nE", true, 3},
		{"continues", "FROM a\nRUN x\nRUN y\nCMD z\n", "RUN x", "RUN x \\", false, 3},
		{"continues over a comment", "FROM a\nRUN x\n# c\nRUN y\n", "RUN x", "RUN x \\", false, 2},
		{"opens a heredoc", "FROM a\nRUN x\nRUN y\nCMD\nCMD z\n", "RUN x", "RUN <<CMD", false, 3},
		{"comment above the next", "FROM a\nRUN x\nRUN y\n", "RUN x", "RUN x\n# about y", true, 3},
		{"comment above the next gone", "FROM a\nRUN x\n# about y\nRUN y\n", "\n# about y", "", true, 3},
		{"escape", "# escape=`\nFROM a\nRUN x\n", "# escape=`", "# escape=\\", false, 2},
		{"shell", "FROM a\nSHELL [\"cmd\"]\nRUN x && y\n", "SHELL [\"cmd\"]", "SHELL [\"sh\", \"-c\"]", true, 3},
		{"stage name", "FROM a AS b\nRUN x\nFROM b\nRUN y\n", "FROM a AS b", "FROM mcr.microsoft.com/windows AS b", true, 4},
		{"directive added", "# c\nFROM a\nRUN x\n", "# c", "# escape=`", false, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Parse("in", []byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			at := strings.Index(c.src, c.old)
			if at < 0 {
				t.Fatalf("%q not in the source", c.old)
			}
			e := Edit{Start: at, End: at + len(c.old), New: withNewline(c.new, d.Newline)}
			src := []byte(c.src[:at] + e.New + c.src[e.End:])
			want, err := Parse("in", src)
			if err != nil {
				t.Fatalf("the edited file does not parse: %v", err)
			}
			if len(want.Instructions) != c.instCount {
				t.Fatalf("the edited file has %d instructions, the case says %d", len(want.Instructions), c.instCount)
			}
			if _, local := d.splice(src, []Edit{e}, nil, nil); local != c.local {
				t.Errorf("splice taken: %v, want %v", local, c.local)
			}
			d, _ = Parse("in", []byte(c.src)) // splice spent the first
			got, err := d.reparse(src, []Edit{e}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := DocumentDiff(got, want); diff != "" {
				t.Error(diff)
			}
		})
	}
}
