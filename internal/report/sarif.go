package report

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/dfopt/dfopt/rewrite"
)

const (
	sarifSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// InformationURI is dfopt's home page, which SARIF names.
	InformationURI = "https://github.com/dfopt/dfopt"
	// RuleDocBase is where each rule's page is, as docs/rules/NAME.md.
	RuleDocBase = "https://github.com/dfopt/dfopt/blob/main/docs/rules/"
)

// fmtRule describes the findings --fmt reports, which no rule makes.
var fmtRule = &rewrite.Rule{
	Name:  "fmt",
	Title: "Every instruction in canonical layout (--fmt)",
	Doc: `With --fmt dfopt prints every instruction canonically: keywords in upper
case, one space between words, continuation lines indented four spaces, && leading
the continued line, exec-form arguments as ["a", "b"]. It never changes what an
instruction means.
`,
}

// The SARIF 2.1.0 objects dfopt writes; the field names are the standard's.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool       sarifTool     `json:"tool"`
		ColumnKind string        `json:"columnKind"`
		Results    []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string         `json:"id"`
		Name                 string         `json:"name"`
		ShortDescription     sarifText      `json:"shortDescription"`
		FullDescription      sarifText      `json:"fullDescription"`
		Help                 sarifText      `json:"help"`
		HelpURI              string         `json:"helpUri"`
		DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
		Properties           map[string]any `json:"properties"`
	}
	sarifConfig struct {
		Level string `json:"level"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifResult struct {
		RuleID       string             `json:"ruleId"`
		RuleIndex    int                `json:"ruleIndex"`
		Level        string             `json:"level"`
		Message      sarifText          `json:"message"`
		Locations    []sarifLocation    `json:"locations"`
		Fixes        []sarifFix         `json:"fixes,omitempty"`
		Suppressions []sarifSuppression `json:"suppressions,omitempty"`
		Properties   map[string]any     `json:"properties"`
	}
	// sarifSuppression is an ignore comment that switched a finding off:
	// in the source, with the comment's reason as its justification.
	sarifSuppression struct {
		Kind          string `json:"kind"`
		Justification string `json:"justification,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           sarifRegion   `json:"region"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn,omitempty"`
		EndLine     int `json:"endLine"`
		EndColumn   int `json:"endColumn,omitempty"`
	}
	sarifFix struct {
		Description     sarifText             `json:"description"`
		ArtifactChanges []sarifArtifactChange `json:"artifactChanges"`
	}
	sarifArtifactChange struct {
		ArtifactLocation sarifArtifact      `json:"artifactLocation"`
		Replacements     []sarifReplacement `json:"replacements"`
	}
	sarifReplacement struct {
		DeletedRegion   sarifRegion `json:"deletedRegion"`
		InsertedContent sarifText   `json:"insertedContent"`
	}
)

// sarifWriter gathers the results of every file and writes one log, with
// one run, when it is closed.
type sarifWriter struct {
	w     io.Writer
	tool  Tool
	log   sarifLog
	index map[string]int // rule name to its index in the driver's rules
}

func newSARIF(w io.Writer, tool Tool) *sarifWriter {
	s := &sarifWriter{w: w, tool: tool, index: map[string]int{}}
	driver := sarifDriver{Name: "dfopt", Version: tool.Version, InformationURI: InformationURI}
	for _, r := range append(tool.Rules[:len(tool.Rules):len(tool.Rules)], fmtRule) {
		s.index[r.Name] = len(driver.Rules)
		driver.Rules = append(driver.Rules, sarifRuleOf(r))
	}
	// Columns count characters, not UTF-16 code units (SARIF's default).
	s.log = sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{{
		Tool: sarifTool{Driver: driver}, ColumnKind: "unicodeCodePoints", Results: []sarifResult{},
	}}}
	return s
}

func sarifRuleOf(r *rewrite.Rule) sarifRule {
	level := "warning"
	if r.Kind == rewrite.Report {
		level = "note"
	}
	hadolint := r.Hadolint
	if hadolint == nil {
		hadolint = []string{}
	}
	return sarifRule{
		ID: r.Name, Name: pascalCase(r.Name),
		ShortDescription:     sarifText{r.Title},
		FullDescription:      sarifText{firstParagraph(r.Doc)},
		Help:                 sarifText{r.Doc},
		HelpURI:              RuleDocBase + r.Name + ".md",
		DefaultConfiguration: sarifConfig{Level: level},
		Properties:           map[string]any{"kind": r.Kind.String(), "hadolint": hadolint, "tags": []string{"dockerfile", r.Kind.String()}},
	}
}

// ruleIndex is the index of the named rule in the log's rules, where a
// rule outside Tool.Rules is added, described from its name alone.
func (s *sarifWriter) ruleIndex(name string) int {
	idx, ok := s.index[name]
	if !ok {
		idx = len(s.log.Runs[0].Tool.Driver.Rules)
		s.index[name] = idx
		s.log.Runs[0].Tool.Driver.Rules = append(s.log.Runs[0].Tool.Driver.Rules, sarifRuleOf(&rewrite.Rule{Name: name, Title: name, Doc: name}))
	}
	return idx
}

func (s *sarifWriter) Write(f File) error {
	uri := s.uri(f.Path)
	lines := lineStarts(f.Src)
	for _, fd := range f.Findings {
		idx := s.ruleIndex(fd.Rule)
		props := map[string]any{"kind": fd.Kind.String(), "applied": fd.Applied}
		if fd.Security {
			props["security"] = true
			props["tags"] = []string{"security"}
		}
		res := sarifResult{
			RuleID: fd.Rule, RuleIndex: idx, Level: Level(fd),
			Message: sarifText{Message(fd)},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{URI: uri},
				Region:           sarifRegion{StartLine: fd.Line, EndLine: max(fd.Line, fd.EndLine)},
			}}},
			Properties: props,
		}
		if fix, ok := s.fix(f, uri, lines, fd); ok {
			res.Fixes = []sarifFix{fix}
		}
		s.log.Runs[0].Results = append(s.log.Runs[0].Results, res)
	}
	for _, sp := range f.Suppressed {
		idx := s.ruleIndex(sp.Rule)
		fd := rewrite.Finding{Rule: sp.Rule, Message: sp.Message}
		if r := rewrite.Lookup(s.tool.Rules, sp.Rule); r != nil {
			fd.Kind = r.Kind
		}
		s.log.Runs[0].Results = append(s.log.Runs[0].Results, sarifResult{
			RuleID: sp.Rule, RuleIndex: idx, Level: Level(fd),
			Message: sarifText{Message(fd)},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{URI: uri},
				Region:           sarifRegion{StartLine: sp.Line, EndLine: sp.Line},
			}}},
			Suppressions: []sarifSuppression{{Kind: "inSource", Justification: Escape(sp.Reason)}},
			Properties:   map[string]any{"kind": fd.Kind.String(), "applied": false},
		})
	}
	return nil
}

// fix is the finding's change as a SARIF fix: its edits as regions of the
// input, and each other file it writes (a .dockerignore) replaced whole. A
// finding whose edits an earlier pass made possible has no InputEdits (see
// rewrite.Finding): no region of the input holds what they replace, and
// offering a whole-file replacement instead would take in the other
// findings' changes, so such a finding has no fix here. A report has none.
func (s *sarifWriter) fix(f File, uri string, lines []int, fd rewrite.Finding) (sarifFix, bool) {
	if fd.Kind == rewrite.Report || len(fd.Edits) > 0 && fd.InputEdits == nil {
		return sarifFix{}, false
	}
	var changes []sarifArtifactChange
	if len(fd.InputEdits) > 0 {
		ch := sarifArtifactChange{ArtifactLocation: sarifArtifact{URI: uri}}
		for _, e := range fd.InputEdits {
			ch.Replacements = append(ch.Replacements, sarifReplacement{
				DeletedRegion:   region(f.Src, lines, e.Start, e.End),
				InsertedContent: sarifText{e.New},
			})
		}
		changes = append(changes, ch)
	}
	for _, fc := range fd.Files {
		changes = append(changes, sarifArtifactChange{
			ArtifactLocation: sarifArtifact{URI: s.uri(fc.Path)},
			Replacements: []sarifReplacement{{
				DeletedRegion:   region(fc.Old, lineStarts(fc.Old), 0, len(fc.Old)),
				InsertedContent: sarifText{string(fc.New)},
			}},
		})
	}
	if len(changes) == 0 {
		return sarifFix{}, false
	}
	desc := "dfopt -w applies it"
	if fd.Kind == rewrite.Proposal {
		desc = "dfopt --propose -w applies it"
	}
	return sarifFix{Description: sarifText{desc}, ArtifactChanges: changes}, true
}

func (s *sarifWriter) Close() error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s.log); err != nil {
		return err
	}
	_, err := s.w.Write(b.Bytes())
	return err
}

// uri names a file as a URI reference relative to the working folder, which
// code scanning resolves against the repository's root; a file outside it
// gets a file: URI.
func (s *sarifWriter) uri(path string) string {
	p := relPath(path, s.tool.WorkDir)
	if filepath.IsAbs(filepath.FromSlash(p)) {
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	return (&url.URL{Path: p}).String()
}

// lineStarts returns the offset of each line's first byte.
func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// region turns the byte range start:end of src into SARIF's 1-based lines
// and columns, columns counting characters (an invalid byte counts as one),
// the end column being the one after the last character.
func region(src []byte, lines []int, start, end int) sarifRegion {
	pos := func(off int) (int, int) {
		ln := 0
		for ln+1 < len(lines) && lines[ln+1] <= off {
			ln++
		}
		return ln + 1, utf8.RuneCount(src[lines[ln]:off]) + 1
	}
	r := sarifRegion{}
	r.StartLine, r.StartColumn = pos(start)
	r.EndLine, r.EndColumn = pos(end)
	return r
}

// firstParagraph is a rule's doc up to its first blank line, on one line.
func firstParagraph(doc string) string {
	para, _, _ := strings.Cut(strings.TrimSpace(doc), "\n\n")
	return strings.Join(strings.Fields(para), " ")
}

// pascalCase turns a rule's kebab-case name into SARIF's customary
// rule name: add-to-copy becomes AddToCopy.
func pascalCase(name string) string {
	var b strings.Builder
	for _, w := range strings.Split(name, "-") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}
