package rules

import (
	"strings"
	"testing"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
)

// TestReadOwnCall checks which chown and chmod forms the rule reads, and
// how: recursive or not, the owner or mode, the one path made absolute.
func TestReadOwnCall(t *testing.T) {
	for run, want := range map[string]string{
		"chown -R app:app /app":          "R app:app /app",
		"chown --recursive 1000 /app":    "R 1000 /app",
		"chown -Rv app /app":             "R app /app",
		"chown -v -R app /app":           "R app /app",
		"chown -c --silent app data":     "- app /srv/data",
		"chown app /app":                 "- app /app",
		"chmod -R 755 /app":              "R 755 /app",
		"chmod -R -x /app":               "R -x /app", // a mode that looks like an option
		"chmod -f u+x tool":              "- u+x /srv/tool",
		"chown -h app /app":              "no", // -h changes links, not their targets
		"chown --from=root app /app":     "no",
		"chown --reference=/etc /app":    "no",
		"chown -R app /app /data":        "no", // two paths
		"chown -R app":                   "no",
		"chown -R app /app/*":            "no", // a wildcard
		"chown -R $OWNER /app":           "no", // a word dfopt cannot read
		"chown -R app:app /app/../other": "R app:app /other",
	} {
		d, err := rewrite.Parse("t", []byte("FROM x\nWORKDIR /srv\nRUN "+run+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		m := runmodel.Of(d)
		in := d.Instructions[2]
		r := m.Run(in)
		got := "no"
		if o, ok := readOwnCall(m, m.State(in), r.Cmds[0]); ok {
			rec := "-"
			if o.recursive {
				rec = "R"
			}
			got = strings.Join([]string{rec, o.value, o.target}, " ")
		}
		if got != want {
			t.Errorf("RUN %s: got %q, want %q", run, got, want)
		}
	}
}
