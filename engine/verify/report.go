package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the report as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// maxListed is how many differences the text report lists per image
// without -v.
const maxListed = 20

// WriteText writes the report for a reader: a table of the images, then
// for each of dfopt's images what differs and why. verbose lists every
// difference a rule explains, not only a count per rule.
func (r *Report) WriteText(w io.Writer, verbose bool) {
	fmt.Fprintf(w, "%s (context %s", r.Dockerfile, r.Context)
	if r.Touched != "" {
		fmt.Fprintf(w, ", rebuild after editing %s", r.Touched)
	}
	fmt.Fprintln(w, ")")
	if r.Unsteady > 0 {
		fmt.Fprintf(w, "two cold builds of the original differ in %d paths: their content differences are set aside\n", r.Unsteady)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	orig := r.Results[0]
	row := func(label string, cell func(Result) string, ratio func(o, x *Image) string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, res := range r.Results {
			c := "-"
			if res.Image != nil {
				c = cell(res)
				if ratio != nil && res.Variant != Original && orig.Image != nil {
					if q := ratio(orig.Image, res.Image); q != "" {
						c += " (" + q + ")"
					}
				}
			} else if res.Error != "" {
				c = "failed"
			}
			fmt.Fprintf(tw, "%s\t", c)
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "\t")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t", res.Variant)
	}
	fmt.Fprintln(tw)
	row("size", func(x Result) string { return bytesOf(x.Image.Bytes) }, func(o, x *Image) string { return change(o.Bytes, x.Bytes) })
	row("compressed", func(x Result) string { return bytesOf(x.Image.GzipBytes) }, func(o, x *Image) string { return change(o.GzipBytes, x.GzipBytes) })
	row("layers", func(x Result) string { return fmt.Sprint(x.Image.Layers) }, nil)
	row("cold build", func(x Result) string { return fmt.Sprintf("%.1fs", x.Image.BuildS) }, func(o, x *Image) string { return changeF(o.BuildS, x.BuildS) })
	if r.Touched != "" {
		row("rebuild", func(x Result) string {
			return fmt.Sprintf("%.1fs, %d/%d steps ran", x.Image.RebuildS, x.Image.RebuildSteps-x.Image.RebuildCached, x.Image.RebuildSteps)
		}, func(o, x *Image) string { return changeF(o.RebuildS, x.RebuildS) })
	}
	if r.Results[0].Ran != nil {
		row("command", func(x Result) string {
			if x.Ran == nil {
				return "none"
			}
			return x.Ran.how()
		}, nil)
	}
	fmt.Fprintf(tw, "same files and config\t")
	for _, res := range r.Results {
		switch {
		case res.Equal == nil:
			fmt.Fprintf(tw, "\t")
		case *res.Equal && len(res.ByRules) == 0:
			fmt.Fprintf(tw, "yes\t")
		case *res.Equal:
			fmt.Fprintf(tw, "yes, but %d by rules\t", len(res.ByRules))
		default:
			fmt.Fprintf(tw, "NO\t")
		}
	}
	fmt.Fprintln(tw)
	tw.Flush()

	for _, res := range r.Results {
		if res.Error != "" {
			fmt.Fprintf(w, "\n%s: the build failed: %s\n", res.Variant, res.Error)
		}
		if res.Variant == Original {
			continue
		}
		if !res.Changed {
			fmt.Fprintf(w, "\n%s: dfopt changes nothing\n", res.Variant)
			continue
		}
		if len(res.Rules) > 0 {
			fmt.Fprintf(w, "\n%s: rules applied: %s\n", res.Variant, strings.Join(res.Rules, ", "))
		}
		if len(res.ByRules) > 0 {
			byRule := map[string][]string{}
			for _, d := range res.ByRules {
				byRule[d.Rule] = append(byRule[d.Rule], d.What)
			}
			for _, rule := range slices.Sorted(maps.Keys(byRule)) {
				fmt.Fprintf(w, "  changed on purpose by %s: %d paths or settings\n", rule, len(byRule[rule]))
				if verbose {
					for _, d := range byRule[rule] {
						fmt.Fprintf(w, "    %s\n", d)
					}
				}
			}
		}
		if len(res.Stamps) > 0 {
			fmt.Fprintf(w, "  build-time stamps set aside (same size, other content): %d\n", len(res.Stamps))
			if verbose {
				for _, d := range res.Stamps {
					fmt.Fprintf(w, "    %s\n", d)
				}
			}
		}
		if len(res.Differs) > 0 {
			fmt.Fprintf(w, "  DIFFERS, with no rule that explains it (%d):\n", len(res.Differs))
			for i, d := range res.Differs {
				if i == maxListed && !verbose {
					fmt.Fprintf(w, "    ... %d more (-v lists them all)\n", len(res.Differs)-maxListed)
					break
				}
				fmt.Fprintf(w, "    %s\n", d.What)
			}
		}
	}
}

// bytesOf prints a size in MiB (or KiB below one MiB).
func bytesOf(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// change is the relative change from o to x: "-42.0%".
func change(o, x int64) string { return changeF(float64(o), float64(x)) }

func changeF(o, x float64) string {
	if o == 0 {
		return ""
	}
	return fmt.Sprintf("%+.1f%%", (x-o)/o*100)
}
