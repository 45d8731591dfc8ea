package rules

import (
	"slices"
	"testing"
)

// TestScanBelow checks the search of the paths sent below a folder: only
// what lies under dir/, not dir itself, nor names that merely start like it
// ("a.txt", "ab/x", which sort among them: '.' < '/' < 'b').
func TestScanBelow(t *testing.T) {
	s := &contextScan{sent: []string{"a", "a/c", "a/c/d", "a/b", "a.txt", "ab/x", "b", "a-1/y"}}
	for _, c := range []struct {
		dir  string
		want []string
	}{
		{"a", []string{"a/b", "a/c", "a/c/d"}},
		{"a/c", []string{"a/c/d"}},
		{"a/c/d", nil},
		{"ab", []string{"ab/x"}},
		{"z", nil},
		{".", nil},
	} {
		if got := s.below(c.dir); !slices.Equal(got, c.want) {
			t.Errorf("below(%q) = %q, want %q", c.dir, got, c.want)
		}
	}
	if !slices.Equal(s.sent, []string{"a", "a/c", "a/c/d", "a/b", "a.txt", "ab/x", "b", "a-1/y"}) {
		t.Errorf("below reordered the scan's own list: %q", s.sent)
	}
}
