package report

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/dfopt/dfopt/rewrite"
)

// jsonFinding is one finding in the JSON output. Findings are about whole
// instructions, so there is no column.
type jsonFinding struct {
	Path     string   `json:"path"`
	Line     int      `json:"line"`
	EndLine  int      `json:"endLine"`
	Rule     string   `json:"rule"`
	Kind     string   `json:"kind"` // safe, proposal or report
	Message  string   `json:"message"`
	Hadolint []string `json:"hadolint"`
	Applied  bool     `json:"applied"` // the output has the change
	Security bool     `json:"security"`
	// Suppressed is set for a finding an ignore comment switched off, with
	// the comment's reason ("" when it gives none).
	Suppressed *jsonSuppression `json:"suppressed,omitempty"`
}

type jsonSuppression struct {
	Reason string `json:"reason"`
}

// jsonWriter writes one JSON array of every finding of every file, one
// object a line, as the files come: jq reads it whole, grep a line at a time.
type jsonWriter struct {
	w     io.Writer
	tool  Tool
	count int
}

func (j *jsonWriter) Write(f File) error {
	for _, fd := range f.Findings {
		err := j.write(jsonFinding{
			Path: f.Path, Line: fd.Line, EndLine: max(fd.Line, fd.EndLine),
			Rule: fd.Rule, Kind: fd.Kind.String(), Message: Escape(fd.Message),
			Hadolint: hadolintIDs(j.tool.Rules, fd.Rule),
			Applied:  fd.Applied, Security: fd.Security,
		})
		if err != nil {
			return err
		}
	}
	for _, s := range f.Suppressed {
		kind := rewrite.Safe
		if r := rewrite.Lookup(j.tool.Rules, s.Rule); r != nil {
			kind = r.Kind
		}
		err := j.write(jsonFinding{
			Path: f.Path, Line: s.Line, EndLine: s.Line,
			Rule: s.Rule, Kind: kind.String(), Message: Escape(s.Message),
			Hadolint:   hadolintIDs(j.tool.Rules, s.Rule),
			Suppressed: &jsonSuppression{Reason: Escape(s.Reason)},
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// write writes one object of the array.
func (j *jsonWriter) write(o jsonFinding) error {
	var b bytes.Buffer
	b.WriteString(",\n")
	if j.count == 0 {
		b.Reset()
		b.WriteString("[\n")
	}
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "<stdin>", not "\u003cstdin\u003e"
	if err := enc.Encode(o); err != nil {
		return err
	}
	if _, err := j.w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n"))); err != nil {
		return err
	}
	j.count++
	return nil
}

func (j *jsonWriter) Close() error {
	end := "\n]\n"
	if j.count == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(j.w, end)
	return err
}
