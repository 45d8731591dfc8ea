package rewrite

import (
	"fmt"
	"slices"
	"strings"
)

// Kind says what happens to a rule's findings, or to one finding: whether its
// edits are applied by default, on request, or never (there are none).
type Kind int

const (
	// Safe rules keep what the Dockerfile does; their edits are applied by default.
	Safe Kind = iota
	// Proposal rules may change behaviour in ways dfopt cannot prove harmless;
	// their findings are always reported, their edits applied only on request.
	Proposal
	// Report rules never rewrite: what they find has no fix dfopt can make
	// (a large file copied into the image, files deleted a layer too late).
	Report
)

func (k Kind) String() string {
	switch k {
	case Proposal:
		return "proposal"
	case Report:
		return "report"
	}
	return "safe"
}

// ParseKind reads a kind by the name String gives it.
func ParseKind(s string) (Kind, error) {
	for _, k := range []Kind{Safe, Proposal, Report} {
		if s == k.String() {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown kind %q: use safe, proposal or report", s)
}

// Rule is one rewrite. Rules are plain values kept in an explicit ordered list
// (see package rules); the order of that list is the pipeline order.
type Rule struct {
	Name     string   // stable kebab-case name used by --enable, --disable and ignore comments
	Title    string   // one line
	Doc      string   // what and why, with a bad and a good example
	Kind     Kind     // Safe, Proposal or Report
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
// by the pipeline; the rule only gives the line the finding is about. The
// finding's Kind is set here from the rule's and the finding's own fields.
func (p *Pass) Report(f Finding) {
	f.Rule = p.Rule.Name
	switch {
	case p.Rule.Kind == Report || len(f.Edits) == 0 && len(f.Files) == 0:
		f.Kind = Report
	case p.Rule.Kind == Proposal || f.Proposal:
		f.Kind = Proposal
	default:
		f.Kind = Safe
	}
	p.findings = append(p.findings, f)
}

// Finding is one thing a rule found, with the edits that would fix it (none when
// the rule only reports).
type Finding struct {
	Rule string
	Line int // 1-based line in the document the rule ran on; the pipeline maps it to the input
	// EndLine is the last input line of the instruction the finding is
	// about, set by the pipeline (Line when it is no instruction's first).
	EndLine int
	// Message says what was found, in a sentence (for security findings
	// without a "security:" prefix: output code adds one where it helps).
	Message string
	Edits   []Edit
	// Files are changes to files beside the Dockerfile (see FileChange),
	// applied or not together with Edits.
	Files []FileChange
	// Proposal marks one finding of a safe rule as a proposal: its edits are
	// applied only with Options.Propose, like those of a Proposal rule.
	Proposal bool
	// Security marks a finding that puts secrets at risk (a key or a .env
	// file copied into the image); --fail-on=security fails on it.
	Security bool
	// Kind is what happens to this finding, set when it is reported: Report
	// when its rule is a Report rule or it carries no change; Proposal when
	// its rule is a Proposal or the finding is marked one; else Safe.
	Kind Kind
	// Applied is set by the pipeline when the edits were written to the output.
	Applied bool
	// InputEdits are Edits as byte ranges of the input (with the input's line
	// endings), set by the pipeline, so that an editor or a SARIF fix can
	// offer them on the file the user has. They are nil when an earlier
	// pass rewrote bytes the edits touch: such edits build on a rewrite the
	// input lacks, and no range of the input holds what they replace.
	InputEdits []Edit
}

// Edit replaces the bytes Src[Start:End] of the document the rule ran on with New.
// New uses "\n" line endings; the pipeline converts them to the document's own.
type Edit struct {
	Start, End int
	New        string
}

// Select returns the rules of all that are switched on by enable and disable
// (names, hadolint IDs or "all"), starting from every rule on and keeping the
// order of all. Unknown names are an error.
func Select(all []*Rule, enable, disable []string) ([]*Rule, error) {
	return SelectFrom(all, all, enable, disable)
}

// SelectFrom switches the rules on, a subset of all, on and off as enable and
// disable say, and returns the rules of all that are then on, in the order of
// all. A rule named in enable is on, else one named in disable is off, else
// "all" in disable switches it off unless enable holds "all" too, else "all"
// in enable switches it on; a rule neither list names keeps its state. Layers
// of settings (a configuration file, its per-path overrides, then the
// command line) apply one after the other this way, each having the last word
// on the rules it names. Unknown names are an error.
func SelectFrom(all, on []*Rule, enable, disable []string) ([]*Rule, error) {
	for _, n := range append(slices.Clone(enable), disable...) {
		if !Known(all, n) {
			return nil, fmt.Errorf("unknown rule %q (see 'dfopt rules')", strings.TrimSpace(n))
		}
	}
	names := func(list []string, r *Rule) bool {
		return slices.ContainsFunc(list, func(n string) bool { return r.Is(n) })
	}
	isAll := func(n string) bool { return strings.EqualFold(strings.TrimSpace(n), "all") }
	var out []*Rule
	for _, r := range all {
		state := slices.Contains(on, r)
		switch {
		case names(enable, r):
			state = true
		case names(disable, r):
			state = false
		case slices.ContainsFunc(disable, isAll):
			state = slices.ContainsFunc(enable, isAll)
		case slices.ContainsFunc(enable, isAll):
			state = true
		}
		if state {
			out = append(out, r)
		}
	}
	return out, nil
}

// Known tells whether name names a rule of all, by its name or one of its
// hadolint IDs, or is "all".
func Known(all []*Rule, name string) bool {
	if strings.EqualFold(strings.TrimSpace(name), "all") {
		return true
	}
	return slices.ContainsFunc(all, func(r *Rule) bool { return r.Is(name) })
}

// Is tells whether name (any case) is the rule's name or one of its hadolint
// IDs, as --enable, --disable, configuration files and ignore comments may
// name it.
func (r *Rule) Is(name string) bool {
	name = strings.TrimSpace(name)
	return strings.EqualFold(name, r.Name) || slices.ContainsFunc(r.Hadolint, func(id string) bool { return strings.EqualFold(id, name) })
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
