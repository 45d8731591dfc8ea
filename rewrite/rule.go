package rewrite

import (
	"fmt"
	"slices"
	"strings"
)

// Kind says whether a rule's edits are applied by default.
type Kind int

const (
	// Safe rules keep what the Dockerfile does; their edits are applied by default.
	Safe Kind = iota
	// Proposal rules may change behaviour in ways dfopt cannot prove harmless;
	// their findings are always reported, their edits applied only on request.
	Proposal
)

func (k Kind) String() string {
	if k == Proposal {
		return "proposal"
	}
	return "safe"
}

// Rule is one rewrite. Rules are plain values kept in an explicit ordered list
// (see package rules); the order of that list is the pipeline order.
type Rule struct {
	Name     string   // stable kebab-case name used by --enable, --disable and ignore comments
	Title    string   // one line
	Doc      string   // what and why, with a bad and a good example
	Kind     Kind     // Safe or Proposal
	Hadolint []string // corresponding hadolint rule IDs, e.g. DL3020
	// Run inspects the document and reports findings, with the edits that fix them.
	// It must not modify the document; the pipeline applies the edits.
	Run func(p *Pass)
}

// Pass is what a rule sees while it runs: the current document and a way to report.
type Pass struct {
	Doc      *Document
	Rule     *Rule
	Options  Options // what the user asked for (MergeAll, ...)
	findings []Finding
	orig     []int // line of the input each line of Doc comes from
}

// InputLine returns the line of the input file that line n of the document
// comes from. Messages that name other lines use it: after earlier rewrites the
// document's line numbers are not the user's.
func (p *Pass) InputLine(n int) int {
	if len(p.orig) == 0 {
		return n
	}
	return p.orig[max(1, min(n, len(p.orig)-1))]
}

// Report records a finding of the running rule. Lines of the edits are worked out
// by the pipeline; the rule only gives the line the finding is about.
func (p *Pass) Report(f Finding) {
	f.Rule = p.Rule.Name
	p.findings = append(p.findings, f)
}

// Finding is one thing a rule found, with the edits that would fix it (none when
// the rule only reports).
type Finding struct {
	Rule    string
	Line    int // 1-based line in the document the rule ran on; the pipeline maps it to the input
	Message string
	Edits   []Edit
	// Files are changes to files beside the Dockerfile (see FileChange),
	// applied or not together with Edits.
	Files []FileChange
	// Proposal marks one finding of a safe rule as a proposal: its edits are
	// applied only with Options.Propose, like those of a Proposal rule.
	Proposal bool
	// Applied is set by the pipeline when the edits were written to the output.
	Applied bool
}

// Edit replaces the bytes Src[Start:End] of the document the rule ran on with New.
// New uses "\n" line endings; the pipeline converts them to the document's own.
type Edit struct {
	Start, End int
	New        string
}

// Select returns the rules of all that are switched on by enable and disable
// (names or "all"), keeping the order of all. Unknown names are an error.
func Select(all []*Rule, enable, disable []string) ([]*Rule, error) {
	enable, disable = lowerAll(enable), lowerAll(disable)
	known := map[string]bool{"all": true}
	for _, r := range all {
		known[r.Name] = true
	}
	for _, n := range append(slices.Clone(enable), disable...) {
		if n == FormatRule.Name && !known[n] {
			return nil, fmt.Errorf("fmt is the formatter: --fmt switches it on, --enable and --disable do not")
		}
		if !known[n] {
			return nil, fmt.Errorf("unknown rule %q (see 'dfopt rules')", n)
		}
	}
	on := func(r *Rule) bool {
		if slices.Contains(enable, r.Name) {
			return true
		}
		if slices.Contains(disable, r.Name) || slices.Contains(disable, "all") {
			return slices.Contains(enable, "all") && !slices.Contains(disable, r.Name)
		}
		return true
	}
	var out []*Rule
	for _, r := range all {
		if on(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

func lowerAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(strings.TrimSpace(n))
	}
	return out
}

// Lookup finds a rule by name.
func Lookup(all []*Rule, name string) *Rule {
	for _, r := range all {
		if strings.EqualFold(r.Name, name) {
			return r
		}
	}
	return nil
}
