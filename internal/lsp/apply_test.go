package lsp

import (
	"fmt"
	"strings"
)

// apply returns the text with edits made, which must not overlap; the
// tests use it to apply what the server sends as a client would.
func (t *text) apply(edits []TextEdit) (string, error) {
	type span struct {
		start, end int
		new        string
	}
	spans := make([]span, len(edits))
	for i, e := range edits {
		spans[i] = span{t.offset(e.Range.Start), t.offset(e.Range.End), e.NewText}
		if spans[i].end < spans[i].start {
			return "", fmt.Errorf("edit %d ends before it starts", i)
		}
	}
	var b strings.Builder
	at := 0
	for len(spans) > 0 {
		first := 0
		for i, s := range spans {
			if s.start < spans[first].start {
				first = i
			}
		}
		s := spans[first]
		if s.start < at {
			return "", fmt.Errorf("edits overlap at offset %d", s.start)
		}
		b.WriteString(t.src[at:s.start])
		b.WriteString(s.new)
		at = s.end
		spans = append(spans[:first], spans[first+1:]...)
	}
	b.WriteString(t.src[at:])
	return b.String(), nil
}
