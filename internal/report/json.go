package report

import (
	"bytes"
	"encoding/json"
	"io"
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
		var b bytes.Buffer
		b.WriteString(",\n")
		if j.count == 0 {
			b.Reset()
			b.WriteString("[\n")
		}
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // "<stdin>", not "\u003cstdin\u003e"
		err := enc.Encode(jsonFinding{
			Path: f.Path, Line: fd.Line, EndLine: max(fd.Line, fd.EndLine),
			Rule: fd.Rule, Kind: fd.Kind.String(), Message: Escape(fd.Message),
			Hadolint: hadolintIDs(j.tool.Rules, fd.Rule),
			Applied:  fd.Applied, Security: fd.Security,
		})
		if err != nil {
			return err
		}
		if _, err := j.w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n"))); err != nil {
			return err
		}
		j.count++
	}
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
