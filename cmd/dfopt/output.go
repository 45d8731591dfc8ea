package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/dfopt/dfopt/internal/report"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// failOnNames are the values --fail-on takes.
var failOnNames = []string{"report", "proposal", "security"}

// failOn is what --fail-on asks to fail on, besides changes.
type failOn struct {
	kinds    []rewrite.Kind
	security bool
}

// parseFailOn reads the --fail-on values (comma lists, repeatable).
func parseFailOn(values []string) (failOn, error) {
	var f failOn
	for _, v := range values {
		v = strings.ToLower(strings.TrimSpace(v))
		switch v {
		case "security":
			f.security = true
		case "report", "proposal":
			k, _ := rewrite.ParseKind(v)
			f.kinds = append(f.kinds, k)
		default:
			return f, fmt.Errorf("invalid value %q for --fail-on: use %s", v, strings.Join(failOnNames, ", "))
		}
	}
	return f, nil
}

// fails tells whether a finding makes --check fail: its kind is one asked
// for (a proposal --propose applied is a change anyway), or it is a security
// finding and security was asked for.
func (f failOn) fails(fd rewrite.Finding) bool {
	return slices.Contains(f.kinds, fd.Kind) || f.security && fd.Security
}

// setOutput checks how --format combines with the other flags and makes
// the writer of the findings. Text goes to standard error as always; the
// other formats are what a program reads, so they take standard output: the
// rewritten files are not printed there (-w still writes them), and JSON
// and SARIF, one document each, do not mix with -l or -d. GitHub's runner
// picks its commands out of any output, so they may.
func (c *cli) setOutput(name string, failOnValues []string, failOnGiven bool) error {
	format, err := report.ParseFormat(name)
	if err != nil {
		return err
	}
	if (format == report.JSON || format == report.SARIF) && (c.list || c.diff) {
		return fmt.Errorf("--format=%s prints to standard output, as -l and -d do: use one of them", format)
	}
	if failOnGiven {
		f, err := parseFailOn(failOnValues)
		if err != nil {
			return err
		}
		if !c.check && !c.list && !c.diff {
			return fmt.Errorf("--fail-on works with --check, -l or -d, whose exit status 1 says what was found")
		}
		c.failOnFlag = &f
	}
	wd, _ := os.Getwd()
	tool := report.Tool{Version: moduleVersion(), Rules: rules.All(), WorkDir: wd}
	c.findingsOut = format != report.Text
	switch {
	case format != report.Text:
		c.findings = report.New(format, c.stdout, tool)
	case !c.quiet || c.verbose: // -q -v: what ignore comments suppressed, no findings
		c.findings = report.New(format, c.stderr, tool)
	}
	return nil
}

// failOnFor is what fails --check for an input whose configuration says
// fail-on: values (nil when it does not): --fail-on wins when given.
func (c *cli) failOnFor(values []string) (failOn, error) {
	if c.failOnFlag != nil {
		return *c.failOnFlag, nil
	}
	return parseFailOn(values)
}

// report hands one input's findings to the writer and notes those that
// --fail-on counts. The findings ignore comments suppressed go to JSON and
// SARIF always, marked so, and to text with -v.
func (c *cli) report(name string, src []byte, res *rewrite.Result) {
	for _, f := range res.Findings {
		if c.failOn.fails(f) {
			c.flagged = true
		}
	}
	if c.findings == nil {
		return
	}
	file := report.File{Path: name, Src: src, Findings: res.Findings}
	if c.quiet && !c.findingsOut {
		file.Findings = nil
	}
	if c.findingsOut || c.verbose {
		file.Suppressed = res.Suppressed
	}
	if err := c.findings.Write(file); err != nil {
		c.writeFailed(err)
	}
}

// closeOutput ends the findings' output (a JSON array, a SARIF log).
func (c *cli) closeOutput() {
	if c.findings == nil {
		return
	}
	if err := c.findings.Close(); err != nil {
		c.writeFailed(err)
	}
}

func (c *cli) writeFailed(err error) {
	if !c.failed {
		fmt.Fprintf(c.stderr, "dfopt: write findings: %v\n", err)
	}
	c.failed = true
}

// maxErrorLen bounds an error line: a binary file's first "line" that
// BuildKit quotes may be as long as the file.
const maxErrorLen = 300

// oneLine makes an error message one readable line: control bytes and
// invalid UTF-8 escaped as Go writes them, and a very long message cut.
func oneLine(msg string) string {
	msg = report.Escape(msg)
	if len(msg) <= maxErrorLen {
		return msg
	}
	cut := maxErrorLen
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}
