package rewrite

import (
	"strconv"
	"strings"
	"testing"
)

// TestFindingLinesFollowMovedText checks that a finding about an instruction
// another rule moved names the input line the instruction came from, once, and
// that InputLine maps the document's lines back to the input's.
func TestFindingLinesFollowMovedText(t *testing.T) {
	src := "FROM a\nLABEL x=1\nCOPY . .\nRUN true\n\nCMD [\"sh\"]\n"
	move := &Rule{Name: "move", Run: func(p *Pass) {
		d := p.Doc
		for i, in := range d.Instructions {
			if in.Keyword == "copy" && d.Instructions[i+1].Keyword == "run" {
				next := d.Instructions[i+1]
				p.Report(Finding{Line: in.StartLine, Message: "moved", Edits: []Edit{
					{Start: in.Start, End: in.End},
					{Start: next.End, End: next.End, New: string(d.Src[in.Start:in.End])},
				}})
			}
		}
	}}
	report := &Rule{Name: "report", Run: func(p *Pass) {
		for _, in := range p.Doc.Instructions {
			if in.Keyword == "copy" {
				p.Report(Finding{Line: in.StartLine, Message: "copy here, after input line " + strconv.Itoa(p.InputLine(in.StartLine-1))})
			}
		}
	}}
	res, err := Source([]byte(src), Options{Rules: []*Rule{move, report}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, strconv.Itoa(f.Line)+": "+f.Rule+": "+f.Message)
	}
	want := "3: move: moved|3: report: copy here, after input line 4"
	if strings.Join(got, "|") != want {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.ReplaceAll(want, "|", "\n"))
	}
}
