package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/dfopt/dfopt/engine/verify"
)

// row is one line of results.json: one image of one app.
type row struct {
	App       string   `json:"app"`
	Variant   string   `json:"variant"` // original, dfopt, propose
	Changed   bool     `json:"changed"` // dfopt changed the Dockerfile
	Rules     []string `json:"rules,omitempty"`
	Bytes     int64    `json:"bytes"`
	GzipBytes int64    `json:"gzip_bytes"`
	Layers    int      `json:"layers"`
	BuildS    float64  `json:"build_s"`
	RebuildS  float64  `json:"rebuild_s"`
	Touched   string   `json:"touched,omitempty"` // the file the rebuild edited
	Equal     *bool    `json:"equal"`             // null for the original
	ByRules   int      `json:"changed_by_rules"`  // differences the applied rules explain
	Differs   []string `json:"differs,omitempty"` // differences no rule explains
	Error     string   `json:"error,omitempty"`
}

func rowsOf(app string, rep *verify.Report) []row {
	var out []row
	for _, r := range rep.Results {
		x := row{App: app, Variant: r.Variant, Changed: r.Changed, Rules: r.Rules, Touched: rep.Touched,
			Equal: r.Equal, ByRules: len(r.ByRules), Error: r.Error}
		if r.Image != nil {
			x.Bytes, x.GzipBytes, x.Layers, x.BuildS, x.RebuildS = r.Image.Bytes, r.Image.GzipBytes, r.Image.Layers, r.Image.BuildS, r.Image.RebuildS
		}
		for _, d := range r.Differs {
			x.Differs = append(x.Differs, d.What)
		}
		out = append(out, x)
	}
	return out
}

func readJSON(name string) ([]row, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var rows []row
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rows, nil
}

// mergeRows replaces the rows of old whose app is in fresh with fresh's,
// keeping the apps in name order.
func mergeRows(old, fresh []row) []row {
	built := map[string]bool{}
	for _, r := range fresh {
		built[r.App] = true
	}
	var out []row
	for _, r := range old {
		if !built[r.App] {
			out = append(out, r)
		}
	}
	out = append(out, fresh...)
	slices.SortStableFunc(out, func(a, b row) int { return strings.Compare(a.App, b.App) })
	return out
}

func writeJSON(name string, rows []row) error {
	b, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(name, append(b, '\n'), 0o644)
}

// ratios are one variant's measures over the original's, per app.
type ratios struct {
	bytes, gzip, build, rebuild []float64
}

// markdown writes RESULTS.md: a table per variant, medians and totals.
func markdown(rows []row, took time.Duration) string {
	var b strings.Builder
	apps := map[string]bool{}
	for _, r := range rows {
		apps[r.App] = true
	}
	fmt.Fprintf(&b, "# dfopt bench results\n\n")
	fmt.Fprintf(&b, "%d apps of bench/apps, each built three ways with `dfopt verify` on BuildKit: as written (original), "+
		"as dfopt rewrites it (dfopt: safe rules) and with `--propose` (propose). Size is the image's layers unpacked, "+
		"gzip as a registry stores them; a cold build has no cache (base images aside); a rebuild follows the edit of one "+
		"source file (`touched`). Ratios are to the original; medians are over the apps. Written by `bash bench/run.sh` "+
		"(took %s).\n\n", len(apps), took.Round(time.Second))
	orig := map[string]row{}
	for _, r := range rows {
		if r.Variant == verify.Original {
			orig[r.App] = r
		}
	}
	for _, variant := range []string{verify.Safe, verify.Propose} {
		var rt ratios
		var tot [2][2]int64 // [original, variant][bytes, gzip]
		equal, built, n := 0, 0, 0
		fmt.Fprintf(&b, "## %s\n\n", variant)
		fmt.Fprintf(&b, "| app | size | gzip | layers | cold build | rebuild | same image | rules |\n|---|---|---|---|---|---|---|---|\n")
		for _, r := range rows {
			if r.Variant != variant {
				continue
			}
			n++
			o := orig[r.App]
			same := "no"
			switch {
			case r.Error != "":
				same = "build failed"
			case r.Equal != nil && *r.Equal && r.ByRules > 0:
				same = fmt.Sprintf("yes (%d by rules)", r.ByRules)
				equal++
			case r.Equal != nil && *r.Equal:
				same = "yes"
				equal++
			}
			if r.Error == "" {
				built++
			}
			if !r.Changed {
				same += ", unchanged"
			}
			if r.Error != "" || o.Error != "" {
				fmt.Fprintf(&b, "| %s | | | | | | %s | %s |\n", r.App, same, strings.Join(r.Rules, ", "))
				continue
			}
			rt.bytes = append(rt.bytes, frac(r.Bytes, o.Bytes))
			rt.gzip = append(rt.gzip, frac(r.GzipBytes, o.GzipBytes))
			rt.build = append(rt.build, r.BuildS/o.BuildS)
			if o.RebuildS > 0 {
				rt.rebuild = append(rt.rebuild, r.RebuildS/o.RebuildS)
			}
			tot[0][0] += o.Bytes
			tot[0][1] += o.GzipBytes
			tot[1][0] += r.Bytes
			tot[1][1] += r.GzipBytes
			fmt.Fprintf(&b, "| %s | %s → %s (%s) | %s → %s (%s) | %d → %d | %.1fs → %.1fs | %s | %s | %s |\n", r.App,
				mib(o.Bytes), mib(r.Bytes), pct(frac(r.Bytes, o.Bytes)),
				mib(o.GzipBytes), mib(r.GzipBytes), pct(frac(r.GzipBytes, o.GzipBytes)),
				o.Layers, r.Layers, o.BuildS, r.BuildS, rebuildCell(o, r), same, strings.Join(r.Rules, ", "))
		}
		fmt.Fprintf(&b, "\n- median size %s, gzip %s; total %s → %s (%s), gzip %s → %s (%s)\n",
			pct(median(rt.bytes)), pct(median(rt.gzip)), mib(tot[0][0]), mib(tot[1][0]), pct(frac(tot[1][0], tot[0][0])),
			mib(tot[0][1]), mib(tot[1][1]), pct(frac(tot[1][1], tot[0][1])))
		fmt.Fprintf(&b, "- median cold build %s, rebuild after an edit %s\n", pct(median(rt.build)), pct(median(rt.rebuild)))
		fmt.Fprintf(&b, "- built %d of %d; same image (or differing only as the applied rules say) %d of %d\n\n", built, n, equal, n)
	}
	return b.String()
}

func rebuildCell(o, r row) string {
	if o.RebuildS == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fs → %.1fs (%s)", o.RebuildS, r.RebuildS, pct(r.RebuildS/o.RebuildS))
}

func frac(x, o int64) float64 {
	if o == 0 {
		return 1
	}
	return float64(x) / float64(o)
}

// pct prints a ratio to the original as a change: 0.4 is "-60.0%".
func pct(r float64) string { return fmt.Sprintf("%+.1f%%", (r-1)*100) }

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 1
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
