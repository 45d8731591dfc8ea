package rewrite

import (
	"strings"
	"testing"
)

// TestSelectFrom checks how enable and disable switch rules, by name, by
// hadolint ID and with "all", on top of an earlier selection.
func TestSelectFrom(t *testing.T) {
	a := &Rule{Name: "a", Hadolint: []string{"DL1"}}
	b := &Rule{Name: "b", Hadolint: []string{"DL2", "DL3"}}
	c := &Rule{Name: "c"}
	all := []*Rule{a, b, c}
	for _, tc := range []struct {
		on              []*Rule
		enable, disable string
		want            string
	}{
		{all, "", "", "a b c"},
		{all, "", "b", "a c"},
		{all, "", "dl3", "a c"},
		{all, "", "all", ""},
		{all, "c", "all", "c"},
		{all, "all", "all", "a b c"},
		{all, "all", "all,a", "b c"},
		{all, "b", "b", "a b c"},
		{[]*Rule{a}, "", "", "a"},
		{[]*Rule{a}, "DL2", "", "a b"},
		{[]*Rule{a}, "all", "", "a b c"},
		{[]*Rule{a}, "all", "c", "a b"},
		{[]*Rule{a, c}, "", "A", "c"},
	} {
		got, err := SelectFrom(all, tc.on, split(tc.enable), split(tc.disable))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range got {
			names = append(names, r.Name)
		}
		if strings.Join(names, " ") != tc.want {
			t.Errorf("SelectFrom(on %d rules, enable %q, disable %q) = %q, want %q", len(tc.on), tc.enable, tc.disable, strings.Join(names, " "), tc.want)
		}
	}
	if _, err := Select(all, []string{"a", "nope"}, nil); err == nil || err.Error() != `unknown rule "nope" (see 'dfopt rules')` {
		t.Errorf("Select with an unknown name: err = %v", err)
	}
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
