package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

const rulesUsage = `Usage: dfopt rules [NAME]

With no NAME, list every rule in pipeline order: name, kind, hadolint IDs and
title. Safe rules are applied by default; proposal rules are reported, and
applied only with --propose; report rules never rewrite, they only report.
With a NAME, print that rule and its documentation.
`

// runRules is the "dfopt rules" subcommand.
func runRules(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("dfopt rules", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	help := fs.BoolP("help", "h", false, "print this help and exit")
	if err := fs.Parse(args); err != nil {
		return usageError(stderr, err)
	}
	if *help {
		fmt.Fprint(stdout, rulesUsage)
		return exitOK
	}
	all := rules.All()
	switch fs.NArg() {
	case 0:
		writeRuleRows(stdout, all)
	case 1:
		r := rewrite.Lookup(all, fs.Arg(0))
		if r == nil {
			return usageError(stderr, fmt.Errorf("unknown rule %q (see 'dfopt rules')", fs.Arg(0)))
		}
		writeRuleRows(stdout, []*rewrite.Rule{r})
		fmt.Fprintf(stdout, "\n%s", r.Doc)
		if !strings.HasSuffix(r.Doc, "\n") {
			fmt.Fprintln(stdout)
		}
	default:
		return usageError(stderr, fmt.Errorf("rules takes at most one rule name, got %d", fs.NArg()))
	}
	return exitOK
}

// writeRuleRows prints one aligned line per rule: name, kind, hadolint IDs
// ("-" if none), title. The README's rule list is this output.
func writeRuleRows(w io.Writer, rs []*rewrite.Rule) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rs {
		ids := strings.Join(r.Hadolint, ",")
		if ids == "" {
			ids = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, r.Kind, ids, r.Title)
	}
	tw.Flush()
}
