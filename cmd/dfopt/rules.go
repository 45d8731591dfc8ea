package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/dfopt/dfopt/internal/flags"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// The pages of docs/rules/ are made from the same rule values as 'dfopt
// rules' prints, by TestRuleDocs, which also fails when they are not current.
//go:generate go test -run ^TestRuleDocs$ -update

const rulesUsage = `Usage: dfopt rules [NAME]

With no NAME, list every rule in pipeline order: name, kind, hadolint IDs and
title; the formatter (--fmt) comes last, as fmt. Safe rules are applied by
default; proposal rules are reported, and applied only with --propose; report
rules never rewrite, they only report. With a NAME, print that rule and its
documentation; with a hadolint ID (DL3020), each rule that carries it.
`

// runRules is the "dfopt rules" subcommand.
func runRules(args []string, stdout, stderr io.Writer) int {
	fs := &flags.Set{}
	help := fs.BoolP("help", "h", false, "print this help and exit")
	if err := fs.Parse(args); err != nil {
		return usageError(stderr, err)
	}
	if *help {
		fmt.Fprint(stdout, rulesUsage)
		return exitOK
	}
	all := documented()
	switch fs.NArg() {
	case 0:
		writeRuleRows(stdout, all)
	case 1:
		found := findRules(all, fs.Arg(0))
		if len(found) == 0 {
			return usageError(stderr, fmt.Errorf("unknown rule %q (see 'dfopt rules')", fs.Arg(0)))
		}
		for i, r := range found {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			writeRuleRows(stdout, []*rewrite.Rule{r})
			fmt.Fprintf(stdout, "\n%s", r.Doc)
			if !strings.HasSuffix(r.Doc, "\n") {
				fmt.Fprintln(stdout)
			}
		}
	default:
		return usageError(stderr, fmt.Errorf("rules takes at most one rule name, got %d", fs.NArg()))
	}
	return exitOK
}

// documented returns what 'dfopt rules' knows: every rule in pipeline order,
// then the formatter, whose findings and ignore comments name it fmt.
func documented() []*rewrite.Rule {
	return append(rules.All(), rewrite.FormatRule)
}

// findRules returns the rule called name, or else every rule that carries
// name as a hadolint ID (several rules may answer one hadolint check).
func findRules(all []*rewrite.Rule, name string) []*rewrite.Rule {
	if r := rewrite.Lookup(all, name); r != nil {
		return []*rewrite.Rule{r}
	}
	var out []*rewrite.Rule
	for _, r := range all {
		if slices.ContainsFunc(r.Hadolint, func(id string) bool { return strings.EqualFold(id, name) }) {
			out = append(out, r)
		}
	}
	return out
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
