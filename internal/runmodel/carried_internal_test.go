package runmodel

import (
	"reflect"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
)

// TestCarried runs Source with a rule that edits one RUN a step and a rule
// that, on every document, holds the model of each RUN (taken over from the
// document before where the RUN was not touched) to the model read afresh.
func TestCarried(t *testing.T) {
	src := "FROM debian\n" +
		"SHELL [\"/bin/sh\", \"-e\", \"-c\"]\n" +
		"RUN apt-get update && apt-get install -y curl\n" +
		"ONBUILD RUN make\n" +
		"RUN cd /src && make install\n" +
		"SHELL [\"/bin/sh\", \"-c\"]\n" +
		"RUN <<EOF\nset -e\npip install x\nEOF\n" +
		"RUN echo done\n"
	carried := 0
	check := &rewrite.Rule{Name: "check", Run: func(p *rewrite.Pass) {
		m := Of(p.Doc)
		for _, in := range p.Doc.Instructions {
			if _, was := p.Doc.Carried(in); was != nil && m.carried(in) != nil {
				carried++
			}
			got, want := m.Run(in), m.readRun(in)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("line %d: the model taken over differs from the model read afresh:\n%+v\nwant %+v", in.StartLine, got, want)
			}
		}
	}}
	edit := &rewrite.Rule{Name: "edit", Run: func(p *rewrite.Pass) {
		for _, in := range p.Doc.Instructions {
			if in.Keyword == "run" && in.Shell != nil && !strings.HasSuffix(in.Args, "&& :") {
				p.Report(rewrite.Finding{Line: in.StartLine, Message: "edit", Edits: []rewrite.Edit{{Start: in.End - 1, End: in.End - 1, New: " && :"}}})
				return
			}
		}
	}}
	res, err := rewrite.Source([]byte(src), rewrite.Options{Rules: []*rewrite.Rule{check, edit}})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(res.Output), "&& :"); n != 3 {
		t.Fatalf("the edit rule edited %d RUNs, want 3:\n%s", n, res.Output)
	}
	if carried == 0 {
		t.Error("no model was taken over: the test tests nothing")
	}
}
