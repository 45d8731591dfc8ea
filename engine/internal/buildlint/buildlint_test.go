package buildlint

import (
	"slices"
	"testing"
)

// TestCheck checks that BuildKit's checks run, the build-time ones (which
// need the stages dispatched) and the experimental ones included, and that
// the lines they name are the file's own.
func TestCheck(t *testing.T) {
	src := "# A comment that says nothing of the stage.\nFROM alpine as build\nmaintainer someone\nrun echo hi\nCMD echo\n"
	got := Check([]byte(src))
	if got.Err != nil {
		t.Fatal(got.Err)
	}
	var names []string
	for _, w := range got.Warnings {
		names = append(names, w.String())
	}
	for _, want := range []string{
		"2: FromAsCasing: 'as' and 'FROM' keywords' casing do not match",
		"3: MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label",
		"2: InvalidDefinitionDescription: Comment for FROM should follow the format: `# build <description>`",
		"5: JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("no warning %q in\n%q", want, names)
		}
	}
	if n := len(got.Casing()); n != 3 { // FromAsCasing, and maintainer and run against the upper-case majority
		t.Errorf("%d casing warnings, want 3: %q", n, names)
	}
}

// TestAdded checks the comparison: a rule's warnings count, so one more
// warning of a rule the input already had is new, and an error is too.
func TestAdded(t *testing.T) {
	in := "FROM a\nCMD x\n"
	for _, c := range []struct {
		out  string
		want int
	}{
		{in, 0},
		{"FROM a\nCMD [\"x\"]\n", 0},
		{"FROM a\nCMD x\nENTRYPOINT y\n", 2}, // both warnings of the rule, as in the output
		{"FROM a AS s\nCOPY --from=s / /\nCMD x\n", 1},
	} {
		if got := Added([]byte(in), []byte(c.out)); len(got) != c.want {
			t.Errorf("%q: %d added, want %d: %q", c.out, len(got), c.want, got)
		}
	}
}
