package lsp

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// client drives a Server over pipes as an editor would, reading every
// message the server writes as it comes (an editor reads while it writes,
// and the pipes hold nothing).
type client struct {
	t      testing.TB
	in     *io.PipeWriter // the server's input
	msgs   chan *message  // what the server wrote, in order
	served chan error     // what Serve returned
	nextID int
	notes  []*message // notifications read while waiting for a response
}

// startServer starts a server with dfopt's default rules on pipes.
func startServer(t testing.TB) *client {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := &client{t: t, in: inW, msgs: make(chan *message, 1<<16), served: make(chan error, 1)}
	srv := NewServer(rewrite.Options{Rules: rules.All()}, "test")
	go func() {
		err := srv.Serve(inR, outW)
		outW.Close()
		c.served <- err
	}()
	go func() {
		r := bufio.NewReader(outR)
		for {
			m, err := readMessage(r)
			if err != nil {
				close(c.msgs)
				return
			}
			c.msgs <- m
		}
	}()
	t.Cleanup(func() { inW.Close(); outR.Close() })
	return c
}

func (c *client) write(m *message) {
	c.t.Helper()
	if err := writeMessage(c.in, m); err != nil {
		c.t.Fatalf("write to server: %v", err)
	}
}

func (c *client) notify(method string, params any) {
	c.t.Helper()
	b, _ := json.Marshal(params)
	c.write(&message{Method: method, Params: b})
}

// call sends a request and returns its response, keeping the notifications
// that came before it.
func (c *client) call(method string, params any) *message {
	c.t.Helper()
	c.nextID++
	id := json.RawMessage(fmt.Sprint(c.nextID))
	b, _ := json.Marshal(params)
	c.write(&message{ID: id, Method: method, Params: b})
	for {
		m := c.read()
		if m.Method != "" {
			c.notes = append(c.notes, m)
			continue
		}
		if string(m.ID) != string(id) {
			c.t.Fatalf("response to id %s, want %s", m.ID, id)
		}
		return m
	}
}

// result calls and decodes the result, failing on an error response.
func (c *client) result(method string, params, v any) {
	c.t.Helper()
	m := c.call(method, params)
	if m.Error != nil {
		c.t.Fatalf("%s: error %d: %s", method, m.Error.Code, m.Error.Message)
	}
	if err := json.Unmarshal(m.Result, v); err != nil {
		c.t.Fatalf("%s: result %s: %v", method, m.Result, err)
	}
}

func (c *client) read() *message {
	c.t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.t.Fatal("the server's output ended")
		}
		return m
	case <-time.After(10 * time.Second):
		c.t.Fatal("no message from the server in 10s")
		return nil
	}
}

// diagnostics returns the next diagnostics published for uri.
func (c *client) diagnostics(uri string) publishDiagnosticsParams {
	c.t.Helper()
	for {
		var m *message
		if len(c.notes) > 0 {
			m, c.notes = c.notes[0], c.notes[1:]
		} else {
			m = c.read()
		}
		if m.Method != "textDocument/publishDiagnostics" {
			c.t.Fatalf("got %s %s, want diagnostics", m.Method, m.Params)
		}
		var p publishDiagnosticsParams
		if err := json.Unmarshal(m.Params, &p); err != nil {
			c.t.Fatal(err)
		}
		if p.URI == uri {
			return p
		}
	}
}

// end waits for Serve to return.
func (c *client) end() error {
	c.t.Helper()
	select {
	case err := <-c.served:
		return err
	case <-time.After(10 * time.Second):
		c.t.Fatal("the server did not stop")
		return nil
	}
}

func (c *client) initialize(caps string) initializeResult {
	c.t.Helper()
	var res initializeResult
	c.result("initialize", json.RawMessage(`{"processId":null,"rootUri":null,"capabilities":`+caps+`}`), &res)
	c.notify("initialized", struct{}{})
	return res
}

func (c *client) open(uri, src string) {
	c.t.Helper()
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "dockerfile", "version": 1, "text": src}})
}

func (c *client) codeActions(uri string, line int, only ...string) []CodeAction {
	c.t.Helper()
	var actions []CodeAction
	params := map[string]any{
		"textDocument": map[string]any{"uri": uri},
		"range":        Range{Start: Position{Line: line}, End: Position{Line: line}},
		"context":      map[string]any{"diagnostics": []any{}, "only": only},
	}
	c.result("textDocument/codeAction", params, &actions)
	return actions
}

// fileURI returns the file:// URI of a path, as editors write it.
func fileURI(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// applyEdit applies a code action's edit to src as a client would.
func applyEdit(t testing.TB, uri, src string, e *WorkspaceEdit) string {
	t.Helper()
	if e == nil {
		t.Fatal("no edit")
	}
	edits := e.Changes[uri]
	for _, dc := range e.DocumentChanges {
		if dc.TextDocument.URI == uri {
			edits = append(edits, dc.Edits...)
		}
	}
	out, err := newText(src, false).apply(edits)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dfopt runs the library as the command line would on the file at path:
// with the given rules, proposals applied or not, the file's folder as the
// build context.
func dfopt(t testing.TB, path, src string, ruleNames []string, propose bool) *rewrite.Result {
	t.Helper()
	all := rules.All()
	if ruleNames != nil {
		var err error
		if all, err = rewrite.Select(all, ruleNames, []string{"all"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, err := rewrite.OpenContext(filepath.Dir(path), path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := rewrite.Source([]byte(src), rewrite.Options{Path: path, Rules: all, Propose: propose, Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func findAction(t testing.TB, actions []CodeAction, title string) CodeAction {
	t.Helper()
	var titles []string
	for _, a := range actions {
		if a.Title == title {
			return a
		}
		titles = append(titles, a.Title)
	}
	t.Fatalf("no action %q among %q", title, titles)
	return CodeAction{}
}

// summary prints diagnostics one a line: LINE-ENDLINE SEVERITY CODE, with
// 1-based lines as dfopt prints them.
func summary(diags []Diagnostic) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "%d-%d %d %s\n", d.Range.Start.Line+1, d.Range.End.Line+1, d.Severity, d.Code)
	}
	return b.String()
}

const sessionSrc = `FROM debian:bookworm
ADD app.conf /etc/app/
RUN apt-get update
RUN apt-get install -y \
      curl
  MAINTAINER someone
ADD app.conf /etc/app2/
`

// TestSession goes through a whole session as an editor would: the
// findings come as diagnostics, follow the edits, and every code action,
// applied to the text, gives what dfopt gives.
func TestSession(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.conf"), []byte("x=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "Dockerfile")
	uri := fileURI(path)
	c := startServer(t)

	init := c.initialize(`{}`)
	caps := init.Capabilities
	if caps.TextDocumentSync.Change != syncIncremental || !caps.TextDocumentSync.OpenClose || !caps.DocumentFormattingProvider ||
		!slices.Equal(caps.CodeActionProvider.CodeActionKinds, []string{"quickfix", "source.fixAll.dfopt"}) || caps.PositionEncoding != "utf-16" {
		t.Errorf("capabilities: %+v", caps)
	}

	c.open(uri, sessionSrc)
	diags := c.diagnostics(uri)
	// 1 is an error, 2 a warning, 3 information.
	// apt-hygiene reports the RUN merge-runs made of lines 3 to 5.
	want := `2-2 2 add-to-copy
3-3 2 merge-runs
3-5 2 apt-hygiene
3-3 3 apt-no-install-recommends
6-6 3 maintainer-to-label
7-7 2 add-to-copy
`
	if got := summary(diags.Diagnostics); got != want || *diags.Version != 1 {
		t.Errorf("diagnostics of version %d:\n%swant:\n%s", *diags.Version, got, want)
	}
	d := diags.Diagnostics[0]
	if d.Source != "dfopt" || d.CodeDescription.Href != RulesDocURL+"add-to-copy.md" || !strings.HasPrefix(d.Message, "use COPY") ||
		d.Range != (Range{Start: Position{Line: 1, Character: 0}, End: Position{Line: 1, Character: len("ADD app.conf /etc/app/")}}) {
		t.Errorf("first diagnostic: %+v", d)
	}
	// The install's range runs to the end of its instruction.
	c.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": uri, "version": 2},
		"contentChanges": []any{map[string]any{"range": Range{Start: Position{Line: 2}, End: Position{Line: 3}}, "text": ""}},
	})
	src := strings.Replace(sessionSrc, "RUN apt-get update\n", "", 1)
	diags = c.diagnostics(uri)
	want = `2-2 2 add-to-copy
3-4 2 apt-hygiene
3-4 3 apt-no-install-recommends
5-5 3 maintainer-to-label
6-6 2 add-to-copy
`
	if got := summary(diags.Diagnostics); got != want || *diags.Version != 2 {
		t.Errorf("after deleting line 3, diagnostics of version %d:\n%swant:\n%s", *diags.Version, got, want)
	}
	if r := diags.Diagnostics[2].Range; r.Start != (Position{Line: 2}) || r.End != (Position{Line: 3, Character: len("      curl")}) {
		t.Errorf("apt-no-install-recommends range %+v, want the whole RUN", r)
	}

	// A quick fix changes its own place only.
	actions := c.codeActions(uri, 5)
	fixed := applyEdit(t, uri, src, findAction(t, actions, "dfopt: apply add-to-copy here").Edit)
	if want := strings.Replace(src, "ADD app.conf /etc/app2/", "COPY app.conf /etc/app2/", 1); fixed != want {
		t.Errorf("add-to-copy quick fix gives\n%s\nwant\n%s", fixed, want)
	}
	// A proposal's quick fix is what dfopt --propose --enable=RULE gives.
	actions = c.codeActions(uri, 4)
	fixed = applyEdit(t, uri, src, findAction(t, actions, "dfopt: apply proposal maintainer-to-label here (may change what the image does)").Edit)
	if want := string(dfopt(t, path, src, []string{"maintainer-to-label"}, true).Output); fixed != want {
		t.Errorf("maintainer-to-label quick fix gives\n%s\nwant\n%s", fixed, want)
	}
	actions = c.codeActions(uri, 3)
	fixed = applyEdit(t, uri, src, findAction(t, actions, "dfopt: apply apt-hygiene here").Edit)
	if want := string(dfopt(t, path, src, []string{"apt-hygiene"}, false).Output); fixed != want {
		t.Errorf("apt-hygiene quick fix gives\n%s\nwant\n%s", fixed, want)
	}
	// All safe fixes at once are what dfopt gives, as a quick fix and as
	// the source action editors run on save.
	all := string(dfopt(t, path, src, nil, false).Output)
	if fixed := applyEdit(t, uri, src, findAction(t, actions, "dfopt: apply all safe fixes").Edit); fixed != all {
		t.Errorf("apply all safe fixes gives\n%s\nwant\n%s", fixed, all)
	}
	actions = c.codeActions(uri, 0, "source.fixAll")
	if len(actions) != 1 || actions[0].Kind != "source.fixAll.dfopt" {
		t.Fatalf("source.fixAll actions: %+v", actions)
	}
	if fixed := applyEdit(t, uri, src, actions[0].Edit); fixed != all {
		t.Errorf("source.fixAll.dfopt gives\n%s\nwant\n%s", fixed, all)
	}

	// Ignoring a finding writes the comment dfopt reads, indented as the
	// instruction; a second ignore joins the first.
	actions = c.codeActions(uri, 4, "quickfix")
	ignored := applyEdit(t, uri, src, findAction(t, actions, "dfopt: ignore maintainer-to-label here").Edit)
	if want := strings.Replace(src, "  MAINTAINER", "  # dfopt ignore=maintainer-to-label\n  MAINTAINER", 1); ignored != want {
		t.Errorf("ignore gives\n%s\nwant\n%s", ignored, want)
	}
	for _, f := range dfopt(t, path, ignored, nil, false).Findings {
		if f.Rule == "maintainer-to-label" {
			t.Errorf("dfopt still reports %s after the ignore comment", f.Rule)
		}
	}
	c.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": uri, "version": 3},
		"contentChanges": []any{map[string]any{"text": ignored}},
	})
	if got := summary(c.diagnostics(uri).Diagnostics); strings.Contains(got, "maintainer-to-label") {
		t.Errorf("diagnostics after the ignore comment:\n%s", got)
	}
	actions = c.codeActions(uri, 2, "quickfix")
	twice := applyEdit(t, uri, ignored, findAction(t, actions, "dfopt: ignore apt-hygiene here").Edit)
	if want := strings.Replace(ignored, "RUN apt-get install", "# dfopt ignore=apt-hygiene\nRUN apt-get install", 1); twice != want {
		t.Errorf("ignore gives\n%s\nwant\n%s", twice, want)
	}
	c.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": uri, "version": 4},
		"contentChanges": []any{map[string]any{"text": twice}},
	})
	c.diagnostics(uri)
	actions = c.codeActions(uri, 3, "quickfix")
	thrice := applyEdit(t, uri, twice, findAction(t, actions, "dfopt: ignore apt-no-install-recommends here").Edit)
	if want := strings.Replace(twice, "=apt-hygiene\n", "=apt-hygiene,apt-no-install-recommends\n", 1); thrice != want {
		t.Errorf("second ignore gives\n%s\nwant\n%s", thrice, want)
	}
	// A comment that gives a reason gets a line of its own above it.
	reasoned := strings.Replace(twice, "=apt-hygiene\n", "=apt-hygiene;reason=pinned lists\n", 1)
	c.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": uri, "version": 5},
		"contentChanges": []any{map[string]any{"text": reasoned}},
	})
	c.diagnostics(uri)
	actions = c.codeActions(uri, 3, "quickfix")
	withReason := applyEdit(t, uri, reasoned, findAction(t, actions, "dfopt: ignore apt-no-install-recommends here").Edit)
	if want := strings.Replace(reasoned, "RUN apt-get install", "# dfopt ignore=apt-no-install-recommends\nRUN apt-get install", 1); withReason != want {
		t.Errorf("ignore below a reason gives\n%s\nwant\n%s", withReason, want)
	}
	c.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": uri, "version": 6},
		"contentChanges": []any{map[string]any{"text": twice}},
	})
	c.diagnostics(uri)

	// Formatting is dfopt --fmt with no rules.
	var edits []TextEdit
	c.result("textDocument/formatting", map[string]any{"textDocument": map[string]any{"uri": uri}, "options": map[string]any{"tabSize": 4, "insertSpaces": true}}, &edits)
	formatted, err := newText(twice, false).apply(edits)
	if err != nil {
		t.Fatal(err)
	}
	res, err := rewrite.Source([]byte(twice), rewrite.Options{Format: true})
	if err != nil {
		t.Fatal(err)
	}
	if formatted != string(res.Output) || formatted == twice {
		t.Errorf("formatting gives\n%s\nwant\n%s", formatted, res.Output)
	}
	if len(edits) < 2 {
		t.Errorf("formatting sent %d edit(s) for changes far apart: %+v", len(edits), edits)
	}

	// Closing clears the diagnostics.
	c.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": uri}})
	if diags := c.diagnostics(uri); len(diags.Diagnostics) != 0 {
		t.Errorf("diagnostics after close: %+v", diags.Diagnostics)
	}
	if m := c.call("shutdown", nil); m.Error != nil || string(m.Result) != "null" {
		t.Errorf("shutdown: %s %+v", m.Result, m.Error)
	}
	c.notify("exit", nil)
	if err := c.end(); err != nil {
		t.Errorf("Serve after shutdown and exit: %v", err)
	}
}
