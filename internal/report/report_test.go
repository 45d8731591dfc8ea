package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain text: a/b \"q\" \\x": "plain text: a/b \"q\" \\x",
		"Dockerfile é 日本":           "Dockerfile é 日本",
		"\x7fELF\x02\x01\x01":       `\x7fELF\x02\x01\x01`,
		"line\nnext\r\ttab":         `line\nnext\r\ttab`,
		"bad \xff\xfe utf-8":        `bad \xff\xfe utf-8`,
		"zero\u200bwidth":           `zero\u200bwidth`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// sample are findings of each kind, as the pipeline leaves them.
var sample = []rewrite.Finding{
	{Rule: "add-to-copy", Line: 2, EndLine: 2, Message: "use COPY", Kind: rewrite.Safe, Applied: true},
	{Rule: "maintainer-to-label", Line: 3, EndLine: 4, Message: "MAINTAINER is deprecated", Kind: rewrite.Proposal},
	{Rule: "dockerignore", Line: 5, EndLine: 5, Message: "COPY puts secret-looking files in the image: .env", Kind: rewrite.Report, Security: true},
	{Rule: "data-in-image", Line: 5, EndLine: 5, Message: "a large \x1b[31mfile", Kind: rewrite.Report},
}

var sampleRules = []*rewrite.Rule{
	{Name: "add-to-copy", Title: "Use COPY", Doc: "ADD unpacks.\n\nBad:\n", Hadolint: []string{"DL3020"}},
	{Name: "maintainer-to-label", Kind: rewrite.Proposal, Title: "LABEL", Doc: "x", Hadolint: []string{"DL4000"}},
	{Name: "dockerignore", Title: "ignore", Doc: "x"},
	{Name: "data-in-image", Kind: rewrite.Report, Title: "data", Doc: "x"},
}

func write(t *testing.T, f Format, files ...File) string {
	t.Helper()
	var b bytes.Buffer
	w := New(f, &b, Tool{Version: "v1.2.3", Rules: sampleRules, WorkDir: "/work"})
	for _, file := range files {
		if err := w.Write(file); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestText(t *testing.T) {
	got := write(t, Text, File{Path: "app/Dockerfile", Findings: sample})
	want := `app/Dockerfile:2: add-to-copy: use COPY
app/Dockerfile:3: maintainer-to-label: MAINTAINER is deprecated
app/Dockerfile:5: dockerignore: security: COPY puts secret-looking files in the image: .env
app/Dockerfile:5: data-in-image: a large \x1b[31mfile
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestJSON(t *testing.T) {
	got := write(t, JSON, File{Path: "<stdin>", Findings: sample[:2]}, File{Path: "b/Dockerfile"}, File{Path: "c/Dockerfile", Findings: sample[2:3]})
	want := `[
{"path":"<stdin>","line":2,"endLine":2,"rule":"add-to-copy","kind":"safe","message":"use COPY","hadolint":["DL3020"],"applied":true,"security":false},
{"path":"<stdin>","line":3,"endLine":4,"rule":"maintainer-to-label","kind":"proposal","message":"MAINTAINER is deprecated","hadolint":["DL4000"],"applied":false,"security":false},
{"path":"c/Dockerfile","line":5,"endLine":5,"rule":"dockerignore","kind":"report","message":"COPY puts secret-looking files in the image: .env","hadolint":[],"applied":false,"security":true}
]
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	var decoded []map[string]any
	if err := json.Unmarshal([]byte(got), &decoded); err != nil || len(decoded) != 3 {
		t.Errorf("not a JSON array of 3 objects: %v", err)
	}
	if got := write(t, JSON, File{Path: "x"}); got != "[]\n" {
		t.Errorf("no findings: %q, want []", got)
	}
}

func TestGitHub(t *testing.T) {
	f := sample[3]
	f.Message = "100% of it,\nreally: yes"
	got := write(t, GitHub,
		File{Path: "/work/app/Dockerfile", Findings: sample[:3]},
		File{Path: "odd,name:50%.Dockerfile", Findings: []rewrite.Finding{f}})
	want := `::warning file=app/Dockerfile,line=2,endLine=2,title=dfopt add-to-copy (safe)::use COPY
::warning file=app/Dockerfile,line=3,endLine=4,title=dfopt maintainer-to-label (proposal)::MAINTAINER is deprecated
::error file=app/Dockerfile,line=5,endLine=5,title=dfopt dockerignore (report)::security: COPY puts secret-looking files in the image: .env
::notice file=odd%2Cname%3A50%25.Dockerfile,line=5,endLine=5,title=dfopt data-in-image (report)::100%25 of it,\nreally: yes
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := githubData("a%b\r\nc"); got != "a%25b%0D%0Ac" {
		t.Errorf("githubData = %q", got)
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		if got, err := ParseFormat(string(f)); got != f || err != nil {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "text, json, sarif or github") {
		t.Errorf("ParseFormat(xml): %v", err)
	}
}
