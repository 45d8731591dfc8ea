package lsp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// TestEndOfSession checks the ways a session ends: exit after shutdown is
// a clean end, exit or the end of the input without it is not.
func TestEndOfSession(t *testing.T) {
	t.Run("exit without shutdown", func(t *testing.T) {
		c := startServer(t)
		c.initialize(`{}`)
		c.notify("exit", nil)
		if err := c.end(); !errors.Is(err, ErrNoShutdown) {
			t.Errorf("Serve: %v, want ErrNoShutdown", err)
		}
	})
	t.Run("input closed without shutdown", func(t *testing.T) {
		c := startServer(t)
		c.initialize(`{}`)
		c.in.Close()
		if err := c.end(); !errors.Is(err, ErrNoShutdown) {
			t.Errorf("Serve: %v, want ErrNoShutdown", err)
		}
	})
	t.Run("input closed after shutdown", func(t *testing.T) {
		c := startServer(t)
		c.initialize(`{}`)
		c.call("shutdown", nil)
		c.in.Close()
		if err := c.end(); err != nil {
			t.Errorf("Serve: %v, want nil", err)
		}
	})
}

// TestRequestErrors checks the error answers: a request before initialize,
// an unknown method, a request after shutdown, a document not open, bad
// params; an unknown notification gets no answer.
func TestRequestErrors(t *testing.T) {
	c := startServer(t)
	if m := c.call("textDocument/formatting", nil); m.Error == nil || m.Error.Code != codeServerNotInitialized {
		t.Errorf("before initialize: %+v", m.Error)
	}
	c.initialize(`{}`)
	c.notify("$/cancelRequest", map[string]any{"id": 1})
	c.notify("workspace/didChangeConfiguration", map[string]any{"settings": nil})
	if m := c.call("textDocument/hover", nil); m.Error == nil || m.Error.Code != codeMethodNotFound {
		t.Errorf("unknown method: %+v", m.Error)
	}
	if m := c.call("textDocument/formatting", map[string]any{"textDocument": map[string]any{"uri": "file:///nowhere/Dockerfile"}}); m.Error == nil || m.Error.Code != codeInvalidParams {
		t.Errorf("document not open: %+v", m.Error)
	}
	if m := c.call("textDocument/codeAction", "not an object"); m.Error == nil || m.Error.Code != codeInvalidParams {
		t.Errorf("bad params: %+v", m.Error)
	}
	if m := c.call("initialize", map[string]any{}); m.Error == nil || m.Error.Code != codeInvalidRequest {
		t.Errorf("second initialize: %+v", m.Error)
	}
	c.call("shutdown", nil)
	if m := c.call("textDocument/formatting", nil); m.Error == nil || m.Error.Code != codeInvalidRequest {
		t.Errorf("after shutdown: %+v", m.Error)
	}
	if len(c.notes) > 0 {
		t.Errorf("notifications got answers: %+v", c.notes)
	}
	c.notify("exit", nil)
	if err := c.end(); err != nil {
		t.Error(err)
	}
}

// TestMalformedInput checks that input that is not the protocol ends the
// session with an error that says what was wrong, never a panic; a message
// that is not JSON first gets a ParseError answer.
func TestMalformedInput(t *testing.T) {
	for _, tc := range []struct{ name, input, err string }{
		{"no header", "\r\n{}", "message without Content-Length header"},
		{"bad header line", "Content-Length 12\r\n\r\n", `bad header line "Content-Length 12"`},
		{"bad length", "Content-Length: -3\r\n\r\n", `bad Content-Length "-3"`},
		{"huge length", "Content-Length: 99999999999\r\n\r\n", `bad Content-Length "99999999999"`},
		{"short body", "Content-Length: 10\r\n\r\n{}", "read message of 10 bytes: unexpected EOF"},
		{"cut header", "Content-Length: 10\r\n", "read header: unexpected EOF"},
		{"not JSON", "Content-Length: 5\r\n\r\n{oops", "bad JSON-RPC message: invalid character 'o'"},
		{"not JSON-RPC 2.0", "Content-Length: 2\r\n\r\n{}", `bad JSON-RPC message: jsonrpc is "", not "2.0"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := NewServer(rewrite.Options{Rules: rules.All()}, "test").Serve(strings.NewReader(tc.input), &out)
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) || errors.Is(err, ErrNoShutdown) {
				t.Errorf("Serve: %v, want %s…", err, tc.err)
			}
			if strings.HasPrefix(tc.err, "bad JSON-RPC") {
				m, rerr := readMessage(bufio.NewReader(&out))
				if rerr != nil || m.Error == nil || m.Error.Code != codeParseError || string(m.ID) != "null" {
					t.Errorf("answer %+v (%v), want a ParseError with id null", m, rerr)
				}
			} else if out.Len() > 0 {
				t.Errorf("wrote %q", out.String())
			}
		})
	}
}

// TestParseErrorDiagnostic checks that a Dockerfile BuildKit rejects gets
// one error on the line BuildKit names, as the command prints it.
func TestParseErrorDiagnostic(t *testing.T) {
	c := startServer(t)
	c.initialize(`{}`)
	uri := "untitled:Untitled-1"
	c.open(uri, "FROM alpine\nRUN true\nCOPY --chmod\n")
	diags := c.diagnostics(uri).Diagnostics
	_, err := rewrite.Source([]byte("FROM alpine\nRUN true\nCOPY --chmod\n"), rewrite.Options{Path: uri, Rules: rules.All()})
	var pe *rewrite.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("dfopt accepts the input: %v", err)
	}
	if len(diags) != 1 || diags[0].Severity != severityError || diags[0].Range.Start.Line != pe.Line-1 || diags[0].Message != pe.Err.Error() {
		t.Errorf("diagnostics %+v, want one error: %v", diags, err)
	}
	if actions := c.codeActions(uri, pe.Line-1); len(actions) != 0 {
		t.Errorf("code actions on a file dfopt cannot read: %+v", actions)
	}
	if m := c.call("textDocument/formatting", map[string]any{"textDocument": map[string]any{"uri": uri}}); m.Error == nil || m.Error.Code != codeRequestFailed {
		t.Errorf("formatting: %+v", m.Error)
	}
}

// TestVersionedEdits checks that a client that takes document changes gets
// edits naming the version they were made for, and that a client that
// offers UTF-8 gets positions in bytes.
func TestVersionedEdits(t *testing.T) {
	c := startServer(t)
	init := c.initialize(`{"general":{"positionEncodings":["utf-8","utf-16"]},"workspace":{"workspaceEdit":{"documentChanges":true}}}`)
	if init.Capabilities.PositionEncoding != "utf-8" {
		t.Errorf("position encoding %q, want utf-8", init.Capabilities.PositionEncoding)
	}
	uri := "untitled:Untitled-1"
	c.open(uri, "FROM alpine\nMAINTAINER José\n")
	diags := c.diagnostics(uri).Diagnostics
	if len(diags) != 1 || diags[0].Range.End != (Position{Line: 1, Character: len("MAINTAINER José")}) {
		t.Fatalf("diagnostics %+v, want one ending after the 16 bytes of line 2", diags)
	}
	c.notify("textDocument/didChange", map[string]any{
		"textDocument": map[string]any{"uri": uri, "version": 2},
		"contentChanges": []any{map[string]any{
			"range": Range{Start: Position{Line: 1, Character: len("MAINTAINER Jos")}, End: Position{Line: 1, Character: len("MAINTAINER José")}}, "text": "e",
		}},
	})
	diags = c.diagnostics(uri).Diagnostics
	if len(diags) != 1 || diags[0].Range.End != (Position{Line: 1, Character: len("MAINTAINER Jose")}) {
		t.Fatalf("diagnostics %+v, want one ending after the 15 bytes of line 2", diags)
	}
	actions := c.codeActions(uri, 1, "quickfix")
	a := findAction(t, actions, "dfopt: apply proposal maintainer-to-label here (may change what the image does)")
	if len(a.Edit.DocumentChanges) != 1 || a.Edit.Changes != nil || *a.Edit.DocumentChanges[0].TextDocument.Version != 2 {
		t.Errorf("edit %+v, want one document change for version 2", a.Edit)
	}
}

// TestTextPositions checks the conversions between byte offsets and
// positions in both encodings, past line ends and on CRLF lines.
func TestTextPositions(t *testing.T) {
	src := "a\r\nx😀é z\nlast"
	for _, tc := range []struct {
		utf8 bool
		pos  Position
		off  int
	}{
		{false, Position{0, 1}, 1},
		{false, Position{0, 5}, 1}, // past the end of the line: before its CRLF
		{false, Position{1, 0}, 3},
		{false, Position{1, 3}, 3 + 1 + 4}, // the emoji is two UTF-16 units
		{false, Position{1, 4}, 3 + 1 + 4 + 2},
		{true, Position{1, 5}, 3 + 1 + 4},
		{true, Position{1, 7}, 3 + 1 + 4 + 2},
		{false, Position{2, 4}, len(src)},
		{false, Position{9, 0}, len(src)}, // past the last line: the end
	} {
		tx := newText(src, tc.utf8)
		if got := tx.offset(tc.pos); got != tc.off {
			t.Errorf("utf8=%v: offset(%v) = %d, want %d", tc.utf8, tc.pos, got, tc.off)
		}
		if tc.pos.Line < 3 && tc.pos != (Position{0, 5}) {
			if got := tx.position(tc.off); got != tc.pos {
				t.Errorf("utf8=%v: position(%d) = %v, want %v", tc.utf8, tc.off, got, tc.pos)
			}
		}
	}
}

// TestEditsAreMinimalByLines checks that the edits a fix sends leave
// untouched lines out, and turn the text into the new one, also at a last
// line without a newline.
func TestEditsAreMinimalByLines(t *testing.T) {
	for _, tc := range []struct {
		old, new string
		edits    int
	}{
		{"a\nb\nc\n", "a\nB\nc\n", 1},
		{"a\nb\nc\nd\ne\n", "A\nb\nc\nd\nE\n", 2},
		{"a\nb", "a\nb\n", 1},
		{"a\nb\n", "x\na\nb\n", 1},
		{"a\nb\n", "a\nb\n", 0},
		{"", "FROM a\n", 1},
	} {
		tx := newText(tc.old, false)
		edits := tx.edits(tc.new)
		got, err := tx.apply(edits)
		if err != nil || got != tc.new || len(edits) != tc.edits {
			t.Errorf("%q to %q: %d edits %+v give %q (%v)", tc.old, tc.new, len(edits), edits, got, err)
		}
		for _, e := range edits {
			if e.Range.Start.Character != 0 || e.Range.End.Character != 0 && e.Range.End.Line != len(tx.lineStart)-1 {
				t.Errorf("%q to %q: edit %+v does not cover whole lines", tc.old, tc.new, e)
			}
		}
	}
}

// TestDiagnosticsFollowTheLastChange checks that a burst of changes ends
// with the diagnostics of the last text, published for its version.
func TestDiagnosticsFollowTheLastChange(t *testing.T) {
	c := startServer(t)
	c.initialize(`{}`)
	uri := "untitled:Untitled-1"
	c.open(uri, "FROM alpine\n")
	if d := c.diagnostics(uri); len(d.Diagnostics) != 0 {
		t.Errorf("diagnostics of FROM alpine: %+v", d.Diagnostics)
	}
	for v := 2; v <= 20; v++ {
		text := "FROM alpine\n" + strings.Repeat("MAINTAINER x\n", v%3)
		c.notify("textDocument/didChange", map[string]any{
			"textDocument":   map[string]any{"uri": uri, "version": v},
			"contentChanges": []any{map[string]any{"text": text}},
		})
	}
	// Version 20 has two MAINTAINERs; drain until it is published.
	for {
		d := c.diagnostics(uri)
		if *d.Version == 20 {
			if len(d.Diagnostics) != 2 {
				t.Errorf("diagnostics of version 20: %+v", d.Diagnostics)
			}
			break
		}
	}
	var raw json.RawMessage
	c.result("shutdown", nil, &raw)
}
