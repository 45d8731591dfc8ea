package rewrite

import (
	"slices"
	"strings"
	"testing"
)

// TestLineMap maps the lines of an edited document back: lines outside the
// edits one to one, moved text to the line it came from (also across
// edits), repeated text to its lines in order, and what an edit wrote anew
// or blank to the line the edit starts on.
func TestLineMap(t *testing.T) {
	cases := []struct {
		name  string
		src   string
		edits []Edit
		want  []int // the old line of each new line, from line 1
	}{
		{"moved down, another edit", "A\nB\nC\nD\n", []Edit{{Start: 2, End: 4}, {Start: 6, End: 6, New: "B\n"}}, []int{1, 3, 2, 4}},
		{"repeated text", "FROM a\nRUN x\nRUN x\n", []Edit{{Start: 7, End: 19, New: "RUN x\nRUN y\nRUN x"}}, []int{1, 2, 2, 3}},
		{"blank", "A\n\nB\n", []Edit{{Start: 2, End: 5, New: "B\n\n"}}, []int{1, 3, 2}},
		{"same line, two edits", "RUN a b\nC\n", []Edit{{Start: 4, End: 5, New: "x\nRUN a"}, {Start: 6, End: 7, New: "y"}}, []int{1, 1, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old := newDocument("in", []byte(c.src), '\\')
			var b strings.Builder
			at := 0
			for _, e := range c.edits {
				b.WriteString(c.src[at:e.Start] + e.New)
				at = e.End
			}
			b.WriteString(c.src[at:])
			doc := newDocument("in", []byte(b.String()), '\\')
			if got := lineMap(old, doc, c.edits, "\n")[1:]; !slices.Equal(got, c.want) {
				t.Errorf("new %q from old %q: lines map to %v, want %v", b.String(), c.src, got, c.want)
			}
		})
	}
}
