package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dfopt/dfopt/internal/report"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// sarifSchema compiles the SARIF 2.1.0 schema of testdata, with formats
// (uri, uri-reference) checked.
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func validate(t *testing.T, sch *jsonschema.Schema, out []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	return sch.Validate(inst)
}

// sarifLog is the part of a SARIF log the test reads back.
type sarifLog struct {
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name, Version string
				Rules         []struct {
					ID      string `json:"id"`
					HelpURI string `json:"helpUri"`
					Help    struct{ Text string }
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct{ Text string }
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct{ URI string }
					Region           region
				}
			}
			Fixes []struct {
				ArtifactChanges []struct {
					ArtifactLocation struct{ URI string }
					Replacements     []struct {
						DeletedRegion   region
						InsertedContent struct{ Text string }
					}
				}
			}
		} `json:"results"`
	} `json:"runs"`
}

type region struct{ StartLine, StartColumn, EndLine, EndColumn int }

// offset turns a SARIF line and column (in characters) back into a byte offset.
func offset(src string, line, col int) int {
	at := 0
	for ; line > 1; line-- {
		at += strings.IndexByte(src[at:], '\n') + 1
	}
	for ; col > 1; col-- {
		_, n := utf8.DecodeRuneInString(src[at:])
		at += n
	}
	return at
}

// TestSARIF runs every rule on a Dockerfile with findings of each kind and
// checks the log against the SARIF 2.1.0 schema and what code scanning
// reads: the rules, each result's rule, level, location, and fixes that,
// applied to the input, make the output.
func TestSARIF(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"Dockerfile": "FROM alpine:3.20\r\nADD app.conf /etc/app/\r\nMAINTAINER José <j@example.com>\r\n" +
			"RUN apk update && apk add curl # café\r\nCOPY .env data.csv /app/\r\n",
		"app.conf": "a=1\n", ".env": "TOKEN=x\n", "data.csv": "a,b,c\n1,2,3\n4,5,6\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "Dockerfile")
	ctx, err := rewrite.OpenContext(dir, path)
	if err != nil {
		t.Fatal(err)
	}
	src := files["Dockerfile"]
	res, err := rewrite.Source([]byte(src), rewrite.Options{Path: path, Rules: rules.All(), Context: ctx, LargeFile: 8})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := report.New(report.SARIF, &out, report.Tool{Version: "v1.2.3", Rules: rules.All(), WorkDir: dir})
	if err := w.Write(report.File{Path: path, Src: []byte(src), Findings: res.Findings}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sch := sarifSchema(t)
	if err := validate(t, sch, out.Bytes()); err != nil {
		t.Fatalf("the log does not match the SARIF schema: %v\n%s", err, out.Bytes())
	}
	// The schema is not blind: a log without its version fails it.
	broken := bytes.Replace(out.Bytes(), []byte(`"version": "2.1.0",`), nil, 1)
	if err := validate(t, sch, broken); err == nil {
		t.Fatalf("a log without version passes the schema")
	}

	var log sarifLog
	if err := json.Unmarshal(out.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(log.Runs))
	}
	run := log.Runs[0]
	driver := run.Tool.Driver
	if driver.Name != "dfopt" || driver.Version != "v1.2.3" || len(driver.Rules) != len(rules.All())+1 {
		t.Errorf("driver %s %s with %d rules", driver.Name, driver.Version, len(driver.Rules))
	}
	for i, r := range rules.All() {
		d := driver.Rules[i]
		if d.ID != r.Name || d.HelpURI != report.RuleDocBase+r.Name+".md" || d.Help.Text != r.Doc {
			t.Errorf("rule %d: %s %s, want %s", i, d.ID, d.HelpURI, r.Name)
		}
	}
	levels := map[string]string{}
	fixed := map[string]string{}
	var applied []string // the replacements of the applied findings
	type repl struct {
		start, end int
		text       string
	}
	var all []repl
	for i, r := range run.Results {
		f := res.Findings[i]
		levels[r.RuleID] = r.Level
		loc := r.Locations[0].PhysicalLocation
		if r.RuleID != f.Rule || driver.Rules[r.RuleIndex].ID != r.RuleID || loc.ArtifactLocation.URI != "Dockerfile" || loc.Region.StartLine != f.Line {
			t.Errorf("result %d: %s (index %d) at %s:%d, want %s at Dockerfile:%d", i, r.RuleID, r.RuleIndex, loc.ArtifactLocation.URI, loc.Region.StartLine, f.Rule, f.Line)
		}
		for _, fix := range r.Fixes {
			one := src
			for j := len(fix.ArtifactChanges[0].Replacements) - 1; j >= 0; j-- {
				rp := fix.ArtifactChanges[0].Replacements[j]
				start := offset(src, rp.DeletedRegion.StartLine, rp.DeletedRegion.StartColumn)
				end := offset(src, rp.DeletedRegion.EndLine, rp.DeletedRegion.EndColumn)
				one = one[:start] + rp.InsertedContent.Text + one[end:]
				if f.Applied {
					all = append(all, repl{start, end, rp.InsertedContent.Text})
				}
			}
			fixed[r.RuleID] = one
		}
		if f.Applied {
			applied = append(applied, f.Rule)
		}
	}
	wantLevels := map[string]string{"add-to-copy": "warning", "maintainer-to-label": "warning", "apk-no-cache": "warning", "dockerignore": "error", "data-in-image": "note"}
	for rule, want := range wantLevels {
		if levels[rule] != want {
			t.Errorf("%s: level %q, want %q (levels %v)", rule, levels[rule], want, levels)
		}
	}
	if want := strings.Replace(src, "MAINTAINER José <j@example.com>", `LABEL org.opencontainers.image.authors="José <j@example.com>"`, 1); fixed["maintainer-to-label"] != want {
		t.Errorf("the proposal's fix makes\n%q, want\n%q", fixed["maintainer-to-label"], want)
	}
	if _, ok := fixed["data-in-image"]; ok {
		t.Errorf("a report has a fix")
	}
	// Every applied finding here has its fix; together they make the output.
	if strings.Join(applied, " ") != "add-to-copy apk-no-cache" {
		t.Fatalf("applied %v; the test expects add-to-copy and apk-no-cache", applied)
	}
	for i := 1; i < len(all); i++ { // back to front, as the results are by line
		if all[i].start > all[i-1].start {
			all[i], all[i-1] = all[i-1], all[i]
			i = 0
		}
	}
	got := src
	for _, r := range all {
		got = got[:r.start] + r.text + got[r.end:]
	}
	if got != string(res.Output) {
		t.Errorf("the applied fixes make\n%q\nthe output is\n%q", got, res.Output)
	}
}

// TestSARIFFixes checks the fixes of findings made by hand: a finding whose
// edits no range of the input holds has none; one that writes another file
// replaces that file whole, and a file to create is an insertion.
func TestSARIFFixes(t *testing.T) {
	src := "FROM a\nCOPY . /app\n"
	findings := []rewrite.Finding{
		{Rule: "later-pass", Line: 2, EndLine: 2, Message: "m", Kind: rewrite.Safe, Applied: true,
			Edits: []rewrite.Edit{{Start: 7, End: 11, New: "X"}}},
		{Rule: "dockerignore", Line: 2, EndLine: 2, Message: "m", Kind: rewrite.Safe, Applied: true,
			Files: []rewrite.FileChange{{Path: "ctx/.dockerignore", New: []byte(".git\n"), Create: true}}},
	}
	var out bytes.Buffer
	w := report.New(report.SARIF, &out, report.Tool{Rules: rules.All(), WorkDir: "/nowhere"})
	if err := w.Write(report.File{Path: "ctx/Dockerfile", Src: []byte(src), Findings: findings}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := validate(t, sarifSchema(t), out.Bytes()); err != nil {
		t.Fatalf("the log does not match the SARIF schema: %v\n%s", err, out.Bytes())
	}
	var log sarifLog
	if err := json.Unmarshal(out.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	results := log.Runs[0].Results
	if len(results) != 2 || len(results[0].Fixes) != 0 || len(results[1].Fixes) != 1 {
		t.Fatalf("want no fix, then one:\n%s", out.Bytes())
	}
	ch := results[1].Fixes[0].ArtifactChanges[0]
	rp := ch.Replacements[0]
	if ch.ArtifactLocation.URI != "ctx/.dockerignore" || rp.DeletedRegion != (region{1, 1, 1, 1}) || rp.InsertedContent.Text != ".git\n" {
		t.Errorf("the .dockerignore change: %+v", ch)
	}
	if uri := results[0].Locations[0].PhysicalLocation.ArtifactLocation.URI; uri != "ctx/Dockerfile" {
		t.Errorf("uri %q, want ctx/Dockerfile", uri)
	}
}

// TestSuppressed checks that a finding an ignore comment switched off is a
// SARIF result with an inSource suppression whose justification is the
// comment's reason (the log still valid), and a JSON object marked
// suppressed, while text shows it as a "suppressed" line in line order.
func TestSuppressed(t *testing.T) {
	src := "FROM alpine\n# dfopt ignore=add-to-copy;reason=a tar on some branches\nADD app /app\nADD app /app2\n"
	res, err := rewrite.Source([]byte(src), rewrite.Options{Path: "Dockerfile", Rules: rules.All()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Suppressed) != 1 {
		t.Fatalf("suppressed: %+v, want one", res.Suppressed)
	}
	file := report.File{Path: "Dockerfile", Src: []byte(src), Findings: res.Findings, Suppressed: res.Suppressed}
	write := func(f report.Format) string {
		var out bytes.Buffer
		w := report.New(f, &out, report.Tool{Version: "v1", Rules: rules.All()})
		if err := w.Write(file); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}

	sarif := write(report.SARIF)
	if err := validate(t, sarifSchema(t), []byte(sarif)); err != nil {
		t.Fatalf("the log does not match the SARIF schema: %v\n%s", err, sarif)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID       string `json:"ruleId"`
				Suppressions []struct{ Kind, Justification string }
				Locations    []struct {
					PhysicalLocation struct{ Region struct{ StartLine int } }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(sarif), &log); err != nil {
		t.Fatal(err)
	}
	var suppressed []int
	for _, r := range log.Runs[0].Results {
		if len(r.Suppressions) > 0 {
			s := r.Suppressions[0]
			if r.RuleID != "add-to-copy" || s.Kind != "inSource" || s.Justification != "a tar on some branches" {
				t.Errorf("suppression %+v of %s", s, r.RuleID)
			}
			suppressed = append(suppressed, r.Locations[0].PhysicalLocation.Region.StartLine)
		}
	}
	if !slices.Equal(suppressed, []int{3}) {
		t.Errorf("suppressed results at lines %v, want [3]", suppressed)
	}

	var objs []map[string]any
	if err := json.Unmarshal([]byte(write(report.JSON)), &objs); err != nil {
		t.Fatal(err)
	}
	marked := 0
	for _, o := range objs {
		if s, ok := o["suppressed"].(map[string]any); ok {
			marked++
			if o["line"] != 3.0 || s["reason"] != "a tar on some branches" {
				t.Errorf("JSON suppression %v", o)
			}
		}
	}
	if marked != 1 || len(objs) != len(res.Findings)+1 {
		t.Errorf("JSON: %d objects, %d suppressed; want %d and 1", len(objs), marked, len(res.Findings)+1)
	}

	want := "Dockerfile:3: add-to-copy: suppressed (reason: a tar on some branches)\nDockerfile:4: add-to-copy: "
	if text := write(report.Text); !strings.HasPrefix(text, want) {
		t.Errorf("text:\n%s\nwant it to start with\n%s", text, want)
	}
}
