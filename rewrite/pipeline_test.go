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

// TestInsertionBeforeReplacement checks that one finding may insert text at
// the offset where another of its edits replaces text, in either order: the
// insertion goes first. (apt-hygiene with CacheMounts did so, and the
// pipeline rejected the edits as overlapping.)
func TestInsertionBeforeReplacement(t *testing.T) {
	src := "FROM a\nRUN apt update\n"
	at := strings.Index(src, "apt")
	insert := Edit{Start: at, End: at, New: "rm -f x; "}
	replace := Edit{Start: at, End: at + len("apt"), New: "apt-get"}
	for name, edits := range map[string][]Edit{
		"replacement first": {replace, insert},
		"insertion first":   {insert, replace},
	} {
		t.Run(name, func(t *testing.T) {
			r := &Rule{Name: "r", Run: func(p *Pass) {
				if strings.Contains(string(p.Doc.Src), "apt update") {
					p.Report(Finding{Line: 2, Message: "m", Edits: edits})
				}
			}}
			res, err := Source([]byte(src), Options{Rules: []*Rule{r}})
			if err != nil {
				t.Fatal(err)
			}
			if want := "FROM a\nRUN rm -f x; apt-get update\n"; string(res.Output) != want {
				t.Errorf("got %q, want %q", res.Output, want)
			}
		})
	}
}

// TestRulesSeeFormattedFile checks that with Format the rules look again at
// the formatted file, so that the output is its own output: merge-runs left
// "RUN 0 #\<newline> " (a comment, then a blank continuation line) alone, and
// merged it with the RUN above once --fmt had dropped the blank line, on a
// second run (found by FuzzSource). The rule below is as layout-sensitive.
func TestRulesSeeFormattedFile(t *testing.T) {
	canonical := &Rule{Name: "canonical", Run: func(p *Pass) {
		for _, in := range p.Doc.Instructions {
			if text := p.Doc.Text(in); text == "RUN a" {
				p.Report(Finding{Line: in.StartLine, Message: "m", Edits: []Edit{{Start: in.End - 1, End: in.End - 1, New: " && b"}}})
			}
		}
	}}
	opts := Options{Rules: []*Rule{canonical}, Format: true}
	res, err := Source([]byte("FROM x\nrun   a\n"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if want := "FROM x\nRUN a && b\n"; string(res.Output) != want {
		t.Errorf("got %q, want %q", res.Output, want)
	}
	again, err := Source(res.Output, opts)
	if err != nil || string(again.Output) != string(res.Output) {
		t.Errorf("not idempotent: %q, then %q (%v)", res.Output, again.Output, err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, strconv.Itoa(f.Line)+": "+f.Rule)
	}
	if want := "2: fmt|2: canonical"; strings.Join(got, "|") != want {
		t.Errorf("findings %q, want %q", strings.Join(got, "|"), want)
	}
}

// TestOnlyAppliesAcceptedFindings checks that Options.Only limits the
// applied edits to the findings it accepts, by input line even after an
// earlier pass moved the lines, and that the others are still reported.
func TestOnlyAppliesAcceptedFindings(t *testing.T) {
	src := "FROM a\nRUN x\nRUN y\nRUN x\n"
	drop := &Rule{Name: "drop", Run: func(p *Pass) { // removes "RUN y"
		for _, in := range p.Doc.Instructions {
			if p.Doc.Text(in) == "RUN y" {
				p.Report(Finding{Line: in.StartLine, Message: "y", Edits: []Edit{{Start: in.Start, End: in.End}}})
			}
		}
	}}
	upper := &Rule{Name: "upper", Run: func(p *Pass) { // RUN x becomes RUN X
		for _, in := range p.Doc.Instructions {
			if p.Doc.Text(in) == "RUN x" {
				p.Report(Finding{Line: in.StartLine, Message: "x", Edits: []Edit{{Start: in.End - 2, End: in.End - 1, New: "X"}}})
			}
		}
	}}
	only := func(f Finding) bool { return f.Rule == "drop" || f.Line == 4 }
	res, err := Source([]byte(src), Options{Rules: []*Rule{drop, upper}, Only: only})
	if err != nil {
		t.Fatal(err)
	}
	if want := "FROM a\nRUN x\nRUN X\n"; string(res.Output) != want {
		t.Errorf("got %q, want %q", res.Output, want)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, strconv.Itoa(f.Line)+": "+f.Rule+" "+strconv.FormatBool(f.Applied))
	}
	if want := "2: upper false|3: drop true|4: upper true"; strings.Join(got, "|") != want {
		t.Errorf("findings %q, want %q", strings.Join(got, "|"), want)
	}
}

// TestInputEdits checks that each finding's InputEdits, applied to the input
// alone, make the change the finding is about, through the steps earlier
// rules applied (a deletion, replacements, CRLF line endings), and that an
// edit over bytes an earlier rule wrote has none.
func TestInputEdits(t *testing.T) {
	src := "# x\r\nFROM a\r\nrun a\r\nRUN b\r\nrun x\r\n"
	each := func(name string, report func(p *Pass, in *Instruction, text string)) *Rule {
		return &Rule{Name: name, Run: func(p *Pass) {
			for _, in := range p.Doc.Instructions {
				report(p, in, p.Doc.Text(in))
			}
		}}
	}
	drop := &Rule{Name: "drop", Run: func(p *Pass) {
		if strings.HasPrefix(string(p.Doc.Src), "# x\r\n") {
			p.Report(Finding{Line: 1, Message: "m", Edits: []Edit{{Start: 0, End: 5}}})
		}
	}}
	from := &Rule{Name: "from", Run: func(p *Pass) {
		if strings.HasPrefix(string(p.Doc.Src), "FROM a") {
			p.Report(Finding{Line: 1, Message: "m", Edits: []Edit{{Start: 0, End: 6, New: "FROM b"}}})
		}
	}}
	upper := &Rule{Name: "upper", Run: func(p *Pass) {
		var edits []Edit
		for _, in := range p.Doc.Instructions {
			if strings.HasPrefix(p.Doc.Text(in), "run ") {
				edits = append(edits, Edit{Start: in.Start, End: in.Start + 3, New: "RUN"})
			}
		}
		if edits != nil {
			p.Report(Finding{Line: 2, Message: "m", Edits: edits})
		}
	}}
	tail := each("tail", func(p *Pass, in *Instruction, text string) {
		if text == "RUN b" && !strings.Contains(string(p.Doc.Src), "RUN c") {
			end := p.Doc.LineTextEnd(in.EndLine)
			p.Report(Finding{Line: in.StartLine, Message: "m", Edits: []Edit{{Start: end, End: end, New: "\nRUN c"}}})
		}
	})
	whole := each("whole", func(p *Pass, in *Instruction, text string) {
		if text == "RUN x" {
			p.Report(Finding{Line: in.StartLine, Message: "m", Edits: []Edit{{Start: in.Start, End: p.Doc.LineTextEnd(in.EndLine), New: "RUN y"}}})
		}
	})
	res, err := Source([]byte(src), Options{Rules: []*Rule{drop, from, upper, tail, whole}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "FROM b\r\nRUN a\r\nRUN b\r\nRUN c\r\nRUN y\r\n"; string(res.Output) != want {
		t.Fatalf("output %q, want %q", res.Output, want)
	}
	want := map[string]string{
		"drop":  "FROM a\r\nrun a\r\nRUN b\r\nrun x\r\n",
		"from":  "# x\r\nFROM b\r\nrun a\r\nRUN b\r\nrun x\r\n", // starts where drop deleted
		"upper": "# x\r\nFROM a\r\nRUN a\r\nRUN b\r\nRUN x\r\n",
		"tail":  "# x\r\nFROM a\r\nrun a\r\nRUN b\r\nRUN c\r\nrun x\r\n",
		"whole": "", // its edit replaces "RUN" that upper wrote
	}
	for _, f := range res.Findings {
		got := ""
		if f.InputEdits != nil {
			var b strings.Builder
			at := 0
			for _, e := range f.InputEdits {
				b.WriteString(src[at:e.Start] + e.New)
				at = e.End
			}
			got = b.String() + src[at:]
		}
		if got != want[f.Rule] {
			t.Errorf("%s: InputEdits %+v make %q, want %q", f.Rule, f.InputEdits, got, want[f.Rule])
		}
		delete(want, f.Rule)
	}
	if len(want) > 0 {
		t.Errorf("no finding of %v", want)
	}
}

// TestFindingKind checks the kind Report gives a finding: a rule's own kind,
// a safe rule's finding marked a proposal, and a finding with no change a
// report; and that a report is never applied.
func TestFindingKind(t *testing.T) {
	rule := func(name string, kind Kind, f Finding) *Rule {
		return &Rule{Name: name, Kind: kind, Run: func(p *Pass) {
			if strings.Contains(string(p.Doc.Src), "RUN a\n") {
				p.Report(f)
			}
		}}
	}
	edit := []Edit{{Start: 7, End: 12, New: "RUN b"}}
	for _, c := range []struct {
		rule    *Rule
		want    Kind
		applied bool
	}{
		{rule("safe", Safe, Finding{Line: 2, Edits: edit}), Safe, true},
		{rule("marked", Safe, Finding{Line: 2, Edits: edit, Proposal: true}), Proposal, false},
		{rule("proposal", Proposal, Finding{Line: 2, Edits: edit}), Proposal, false},
		{rule("no-edit", Safe, Finding{Line: 2}), Report, false},
		{rule("report", Report, Finding{Line: 2, Edits: edit}), Report, false},
	} {
		res, err := Source([]byte("FROM x\nRUN a\n"), Options{Rules: []*Rule{c.rule}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Findings) != 1 {
			t.Fatalf("%s: %d findings", c.rule.Name, len(res.Findings))
		}
		f := res.Findings[0]
		if f.Kind != c.want || f.Applied != c.applied || res.Changed([]byte("FROM x\nRUN a\n")) != c.applied {
			t.Errorf("%s: kind %v, applied %v; want %v, %v", c.rule.Name, f.Kind, f.Applied, c.want, c.applied)
		}
	}
}
