package lsp

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode"

	"github.com/dfopt/dfopt/internal/report"
	"github.com/dfopt/dfopt/rewrite"
)

// RulesDocURL is where each rule's documentation lives, as
// RulesDocURL + NAME + ".md"; diagnostics link to it.
const RulesDocURL = "https://github.com/dfopt/dfopt/blob/main/docs/rules/"

// source names dfopt in the diagnostics, as editors show it.
const source = "dfopt"

// analysis is what dfopt makes of one version of a document: the findings
// of the rules as diagnostics, and what the fixes need to be computed later.
type analysis struct {
	doc      *rewrite.Document // the text parsed; nil when it does not parse
	result   *rewrite.Result   // the default pipeline's run; nil on error
	findings []rewrite.Finding // result.Findings, in the order of diags
	diags    []Diagnostic
}

// analyze runs the rules over a document's text. A text BuildKit rejects (or
// a dfopt bug) gives one error diagnostic and no findings: the editor shows
// the line, as the command prints PATH:LINE: message.
func (s *Server) analyze(d *document) (a *analysis) {
	src := []byte(d.text.src)
	defer func() {
		// A library bug must cost a diagnostic, not the editor's server.
		if v := recover(); v != nil {
			a = &analysis{diags: []Diagnostic{errorDiagnostic(d.text, 0, fmt.Sprintf("internal error (a dfopt bug): %v", v))}}
		}
	}()
	if d.optsErr != nil {
		// The configuration's mistake names its own file and line.
		return &analysis{diags: []Diagnostic{errorDiagnostic(d.text, 0, d.optsErr.Error())}}
	}
	opts := s.options(d)
	res, err := rewrite.Source(src, opts)
	if err != nil {
		return &analysis{diags: []Diagnostic{sourceErrorDiagnostic(d.text, opts.Path, err)}}
	}
	doc, err := rewrite.Parse(opts.Path, src)
	if err != nil { // Source parsed the same bytes
		return &analysis{diags: []Diagnostic{sourceErrorDiagnostic(d.text, opts.Path, err)}}
	}
	a = &analysis{doc: doc, result: res, findings: res.Findings, diags: make([]Diagnostic, 0, len(res.Findings))}
	for _, f := range res.Findings {
		a.diags = append(a.diags, s.diagnostic(d.text, doc, f))
	}
	return a
}

// options are the options of a run of the rules on d: the server's, with
// the document's path and build context.
func (s *Server) options(d *document) rewrite.Options {
	opts := s.opts
	if d.opts != nil {
		opts = *d.opts
	}
	opts.Path = d.path
	if opts.Path == "" {
		opts.Path = d.uri
	}
	opts.Context = d.context
	opts.Propose, opts.Format, opts.Only = false, false, nil
	// Nothing but the document changes in an editor: the dockerignore
	// rule reports, and dfopt --dockerignore -w writes the ignore file.
	opts.WriteDockerignore = false
	return opts
}

// sourceErrorDiagnostic reports an error of rewrite.Source on the line it
// names, or on the first line.
func sourceErrorDiagnostic(t *text, path string, err error) Diagnostic {
	var pe *rewrite.ParseError
	if errors.As(err, &pe) {
		return errorDiagnostic(t, pe.Line-1, pe.Err.Error())
	}
	msg := strings.TrimPrefix(err.Error(), path+": ")
	return errorDiagnostic(t, 0, msg)
}

func errorDiagnostic(t *text, line int, msg string) Diagnostic {
	line = max(0, min(line, len(t.lineStart)-1))
	return Diagnostic{
		Range:    t.rangeOf(t.lineStart[line], t.lineEnd(line)),
		Severity: severityError,
		Source:   source,
		Message:  msg,
	}
}

// diagnostic turns a finding into what the editor shows: the instruction
// from the finding's line to its end, a severity by the kind of finding, and
// a link to the rule's documentation.
func (s *Server) diagnostic(t *text, doc *rewrite.Document, f rewrite.Finding) Diagnostic {
	first, last := findingLines(doc, f)
	start := doc.LineStart(first)
	if in := instructionAt(doc, first); in != nil && in.StartLine == first {
		start, _ = doc.KeywordSpan(in)
	} else {
		line := doc.LineText(first)
		start += len(line) - len(strings.TrimLeftFunc(line, unicode.IsSpace))
	}
	return Diagnostic{
		Range:           t.rangeOf(start, doc.LineTextEnd(last)),
		Severity:        severity(f),
		Code:            f.Rule,
		CodeDescription: &codeDescription{Href: RulesDocURL + f.Rule + ".md"},
		Source:          source,
		Message:         report.Message(f),
	}
}

// findingLines returns the lines a finding is about: from its line to the
// end of the instruction there (1-based), as the finding's EndLine says or
// else as the document does.
func findingLines(doc *rewrite.Document, f rewrite.Finding) (first, last int) {
	first = max(1, min(f.Line, doc.Lines()))
	if f.EndLine >= first && f.EndLine <= doc.Lines() {
		return first, f.EndLine
	}
	if in := instructionAt(doc, first); in != nil {
		return first, in.EndLine
	}
	return first, first
}

// instructionAt returns the instruction whose lines hold line, or nil.
func instructionAt(doc *rewrite.Document, line int) *rewrite.Instruction {
	for _, in := range doc.Instructions {
		if in.StartLine <= line && line <= in.EndLine {
			return in
		}
	}
	return nil
}

// severity says how loudly an editor shows a finding. A safe rule's finding
// is a warning: dfopt would rewrite it, and dfopt --check fails on it in CI.
// A proposal (applying it is the user's call) and a report (nothing dfopt
// can change) are information. A security finding (secrets that reach the
// image) is a warning whatever its kind.
func severity(f rewrite.Finding) int {
	switch {
	case f.Security:
		return severityWarning
	case f.Kind == rewrite.Proposal, f.Kind == rewrite.Report:
		return severityInformation
	}
	return severityWarning
}

func isProposal(f rewrite.Finding) bool { return f.Kind == rewrite.Proposal }

// codeActions returns the actions for the findings whose lines meet rng:
// each finding's own fix, all safe fixes at once, and an ignore comment;
// and the file's fix-all as a source action. only, when given, limits the
// kinds, as the client asks.
func (s *Server) codeActions(d *document, a *analysis, rng Range, only []string) []CodeAction {
	actions := []CodeAction{}
	if a.doc == nil {
		return actions
	}
	var all *WorkspaceEdit // every safe fix, computed once
	if string(a.result.Output) != d.text.src {
		all = s.workspaceEdit(d, d.text.edits(string(a.result.Output)))
	}
	offeredAll := false
	for i, f := range a.findings {
		first, last := findingLines(a.doc, f)
		if rng.End.Line < first-1 || rng.Start.Line > last-1 {
			continue
		}
		diag := []Diagnostic{a.diags[i]}
		r := rewrite.Lookup(s.options(d).Rules, f.Rule)
		if allowed(kindQuickFix, only) && f.Kind != rewrite.Report && len(f.Edits) > 0 && r != nil {
			if edit, whole := s.fixOne(d, r, f); edit != nil {
				where := " here"
				if whole {
					where = " to the whole file"
				}
				title := "dfopt: apply " + f.Rule + where
				if isProposal(f) {
					title = "dfopt: apply proposal " + f.Rule + where + " (may change what the image does)"
				}
				actions = append(actions, CodeAction{Title: title, Kind: kindQuickFix, Diagnostics: diag, IsPreferred: !isProposal(f), Edit: edit})
			}
		}
		if allowed(kindQuickFix, only) && f.Applied && all != nil && !offeredAll {
			offeredAll = true
			actions = append(actions, CodeAction{Title: "dfopt: apply all safe fixes", Kind: kindQuickFix, Diagnostics: diag, Edit: all})
		}
		if allowed(kindQuickFix, only) {
			actions = append(actions, CodeAction{
				Title: "dfopt: ignore " + f.Rule + " here", Kind: kindQuickFix, Diagnostics: diag,
				Edit: s.workspaceEdit(d, []TextEdit{ignoreEdit(d.text, a.doc, f)}),
			})
		}
	}
	if all != nil && allowed(kindFixAll, only) {
		actions = append(actions, CodeAction{Title: "dfopt: apply all safe fixes", Kind: kindFixAll, Edit: all})
	}
	return actions
}

// allowed tells whether a code action kind is among those the client asked
// for: a kind covers the kinds below it (source covers source.fixAll.dfopt).
func allowed(kind string, only []string) bool {
	if len(only) == 0 {
		return true
	}
	for _, o := range only {
		if kind == o || strings.HasPrefix(kind, o+".") {
			return true
		}
	}
	return false
}

// fixOne returns the edit that applies one finding: the pipeline runs with
// that rule alone (and proposals when the finding is one) and applies only
// the findings of that rule at that line, so the fix changes what dfopt
// --disable=all --enable=RULE would change there and nothing elsewhere.
// When the rule alone finds it on another line (the default run saw the
// file after other rules' edits), the fix is the rule's over the whole
// file, and whole says whether that changes more than one place. The edit
// is nil when the rule changes nothing.
func (s *Server) fixOne(d *document, r *rewrite.Rule, f rewrite.Finding) (edit *WorkspaceEdit, whole bool) {
	opts := s.options(d)
	opts.Rules = []*rewrite.Rule{r}
	opts.Propose = isProposal(f)
	opts.Only = func(g rewrite.Finding) bool { return g.Rule == f.Rule && g.Line == f.Line }
	res, err := rewrite.Source([]byte(d.text.src), opts)
	if err == nil && string(res.Output) != d.text.src {
		return s.workspaceEdit(d, d.text.edits(string(res.Output))), false
	}
	opts.Only = nil
	res, err = rewrite.Source([]byte(d.text.src), opts)
	if err != nil || string(res.Output) == d.text.src {
		return nil, false
	}
	applied := 0
	for _, g := range res.Findings {
		if g.Applied {
			applied++
		}
	}
	return s.workspaceEdit(d, d.text.edits(string(res.Output))), applied > 1
}

// ignoreLine matches a comment that already ignores rules for the
// instruction below, and only names them (no ;reason=), to which another
// name is added; compiled on first use, not when dfopt starts.
var ignoreLine = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^\s*#\s*dfopt\s+ignore=[A-Za-z0-9_,-]+(\s*)$`)
})

// ignoreEdit writes the ignore comment dfopt reads, `# dfopt ignore=RULE`,
// on a line of its own right above the finding's instruction, indented as
// it is; or adds the rule to such a comment already in the comment block
// above it.
func ignoreEdit(t *text, doc *rewrite.Document, f rewrite.Finding) TextEdit {
	first, _ := findingLines(doc, f)
	in := instructionAt(doc, first)
	if in == nil {
		in = &rewrite.Instruction{StartLine: first}
	}
	for ln := doc.CommentBlockStart(in); ln < in.StartLine; ln++ {
		if m := ignoreLine().FindStringSubmatchIndex(doc.LineText(ln)); m != nil {
			at := doc.LineStart(ln) + m[2] // before trailing blanks
			return TextEdit{Range: t.rangeOf(at, at), NewText: "," + f.Rule}
		}
	}
	start := doc.LineStart(in.StartLine)
	line := doc.LineText(in.StartLine)
	if in.StartLine == 1 && doc.BOM {
		start, line = start+3, line[3:]
	}
	indent := line[:len(line)-len(strings.TrimLeftFunc(line, unicode.IsSpace))]
	return TextEdit{Range: t.rangeOf(start, start), NewText: indent + "# dfopt ignore=" + f.Rule + doc.Newline}
}

// format returns the edits of dfopt --fmt with no rules: the formatter alone.
func (s *Server) format(d *document) ([]TextEdit, error) {
	opts := s.options(d)
	opts.Rules, opts.Context, opts.Format = nil, nil, true
	res, err := rewrite.Source([]byte(d.text.src), opts)
	if err != nil {
		return nil, err
	}
	return d.text.edits(string(res.Output)), nil
}

// workspaceEdit wraps a document's edits, with the version they apply to
// when the client can check it.
func (s *Server) workspaceEdit(d *document, edits []TextEdit) *WorkspaceEdit {
	if s.documentChanges {
		v := d.version
		return &WorkspaceEdit{DocumentChanges: []textDocumentEdit{{
			TextDocument: versionedTextDocumentIdentifier{URI: d.uri, Version: &v},
			Edits:        edits,
		}}}
	}
	return &WorkspaceEdit{Changes: map[string][]TextEdit{d.uri: edits}}
}
