// Package lsp is dfopt's Language Server: it speaks the Language Server
// Protocol 3.17 over a pair of streams (the editor's pipes to "dfopt lsp")
// and shows what dfopt finds in each open Dockerfile as the user types, with
// each finding's rewrite as a quick fix. It calls rewrite.Source as the
// command does; it reads the build context and never writes a file.
package lsp

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/dfopt/dfopt/rewrite"
)

// ErrNoShutdown is what Serve returns when the client ends the session (an
// exit notification, or the end of its input) without a shutdown request
// first; a server then exits with status 1, as the specification says.
var ErrNoShutdown = errors.New("the client ended the session without a shutdown request")

// Server is one session with one client.
type Server struct {
	opts rewrite.Options // the rules and what the user asked for; Path and Context are set per document
	// settings, when set, gives the options for a Dockerfile's path instead
	// of opts: the configuration file that applies to it, under the flags.
	settings func(path string) (rewrite.Options, error)
	version  string // dfopt's version, told to the client

	initialized     bool // the initialize request was answered
	shuttingDown    bool // the shutdown request was answered
	utf8            bool // positions count bytes, not UTF-16 code units
	documentChanges bool // the client takes versioned document edits

	docs  map[string]*document
	dirty []string // URIs whose diagnostics are to be published, in order

	out io.Writer
}

// document is one Dockerfile the client has open.
type document struct {
	uri, path string // path is "" when the URI names no file
	version   int
	text      *text
	context   *rewrite.BuildContext // the file's folder, read at open and save; nil without one
	// opts are the options the configuration gives the file, read at open
	// and save (nil: the server's); optsErr is the configuration's mistake.
	opts     *rewrite.Options
	optsErr  error
	analysis *analysis // of text; nil when text changed since
}

// NewServer returns a server that runs opts.Rules with opts' settings (the
// merge, cache-mount and large-file options); Path, Context, Propose,
// Format and WriteDockerignore are its own to set. version is dfopt's.
func NewServer(opts rewrite.Options, version string) *Server {
	return &Server{opts: opts, version: version, docs: map[string]*document{}}
}

// UseSettings makes the server take each Dockerfile's options from
// settings (its configuration file under the command line's flags, say),
// read when the file is opened and saved; the options NewServer was given
// stay for buffers that are no file.
func (s *Server) UseSettings(settings func(path string) (rewrite.Options, error)) {
	s.settings = settings
}

// readFolder reads what d's folder holds for it: its build context and
// the options its configuration gives.
func (s *Server) readFolder(d *document) {
	d.context = openContext(d.path)
	d.opts, d.optsErr = nil, nil
	if s.settings != nil && d.path != "" {
		opts, err := s.settings(d.path)
		if err != nil {
			d.optsErr = err
		} else {
			d.opts = &opts
		}
	}
}

// incoming is what the reading goroutine hands the server: a message, or
// why there is none.
type incoming struct {
	msg *message
	err error
}

// Serve runs the session: it reads messages from in and writes answers and
// diagnostics to out until the client sends exit. It returns nil after a
// shutdown request and exit (or the end of the input after shutdown),
// ErrNoShutdown without one, and an error saying what was wrong when the
// input is not the protocol.
//
// Each message is handled in turn; dfopt takes a few milliseconds for a
// Dockerfile. Diagnostics are published when no other message waits, so
// that a burst of changes (fast typing) costs one run of the rules, on the
// last text, and before the answer to a request, so that a client that
// asks for code actions has seen the diagnostics they are about.
// $/cancelRequest is ignored: messages are handled in order, so the
// request a cancellation names has been answered by the time it is handled.
func (s *Server) Serve(in io.Reader, out io.Writer) error {
	s.out = out
	msgs := make(chan incoming)
	done := make(chan struct{})
	defer close(done)
	go func() {
		r := bufio.NewReader(in)
		for {
			m, err := readMessage(r)
			select {
			case msgs <- incoming{m, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for {
		var next incoming
		if len(s.dirty) > 0 {
			select {
			case next = <-msgs:
			default:
				if err := s.publishDirty(); err != nil {
					return err
				}
				continue
			}
		} else {
			next = <-msgs
		}
		var pe *parseError
		switch {
		case errors.As(next.err, &pe):
			s.reply(&message{ID: json.RawMessage("null")}, nil, &responseError{Code: codeParseError, Message: pe.Error()})
			return next.err
		case next.err == errEOF && s.shuttingDown:
			return nil
		case next.err == errEOF:
			return fmt.Errorf("%w (input closed)", ErrNoShutdown)
		case next.err != nil:
			return next.err
		}
		if len(next.msg.ID) > 0 && next.msg.Method != "" {
			// A request comes after the diagnostics of the changes before it.
			if err := s.publishDirty(); err != nil {
				return err
			}
		}
		exit, err := s.handle(next.msg)
		if err != nil || exit {
			return err
		}
	}
}

// handle answers one message. It tells whether the session is over.
func (s *Server) handle(m *message) (exit bool, err error) {
	request := len(m.ID) > 0
	switch {
	case m.Method == "exit":
		if !s.shuttingDown {
			return true, ErrNoShutdown
		}
		return true, nil
	case m.Method == "":
		return false, nil // a response: the server sends no requests
	case !request:
		return false, s.notify(m)
	case m.Method != "initialize" && !s.initialized:
		return false, s.reply(m, nil, &responseError{Code: codeServerNotInitialized, Message: "initialize first"})
	case s.shuttingDown:
		return false, s.reply(m, nil, &responseError{Code: codeInvalidRequest, Message: "the server is shutting down"})
	}
	result, rerr := s.call(m)
	return false, s.reply(m, result, rerr)
}

// call answers a request.
func (s *Server) call(m *message) (any, *responseError) {
	switch m.Method {
	case "initialize":
		if s.initialized {
			return nil, &responseError{Code: codeInvalidRequest, Message: "initialize was sent twice"}
		}
		var p initializeParams
		if err := unmarshal(m.Params, &p); err != nil {
			return nil, err
		}
		s.initialized = true
		s.utf8 = slices.Contains(p.Capabilities.General.PositionEncodings, "utf-8")
		s.documentChanges = p.Capabilities.Workspace.WorkspaceEdit.DocumentChanges
		enc := "utf-16"
		if s.utf8 {
			enc = "utf-8"
		}
		return initializeResult{
			Capabilities: serverCapabilities{
				PositionEncoding:           enc,
				TextDocumentSync:           textDocumentSync{OpenClose: true, Change: syncIncremental, Save: saveOptions{}},
				CodeActionProvider:         codeActionProvider{CodeActionKinds: []string{kindQuickFix, kindFixAll}},
				DocumentFormattingProvider: true,
			},
			ServerInfo: serverInfo{Name: "dfopt", Version: s.version},
		}, nil
	case "shutdown":
		s.shuttingDown = true
		return nil, nil
	case "textDocument/codeAction":
		var p codeActionParams
		if err := unmarshal(m.Params, &p); err != nil {
			return nil, err
		}
		d, err := s.doc(p.TextDocument.URI)
		if err != nil {
			return nil, err
		}
		return s.codeActions(d, s.current(d), p.Range, p.Context.Only), nil
	case "textDocument/formatting":
		var p documentFormattingParams
		if err := unmarshal(m.Params, &p); err != nil {
			return nil, err
		}
		d, err := s.doc(p.TextDocument.URI)
		if err != nil {
			return nil, err
		}
		edits, ferr := s.format(d)
		if ferr != nil {
			return nil, &responseError{Code: codeRequestFailed, Message: ferr.Error()}
		}
		return edits, nil
	}
	return nil, &responseError{Code: codeMethodNotFound, Message: "method not found: " + m.Method}
}

// notify handles a notification. Notifications get no answer, so a bad one
// is dropped (as unknown ones are), and the session goes on; the error is
// one of writing to the client.
func (s *Server) notify(m *message) error {
	if !s.initialized || s.shuttingDown {
		return nil
	}
	switch m.Method {
	case "textDocument/didOpen":
		var p didOpenParams
		if unmarshal(m.Params, &p) != nil {
			return nil
		}
		d := &document{uri: p.TextDocument.URI, path: uriPath(p.TextDocument.URI), version: p.TextDocument.Version}
		d.text = newText(p.TextDocument.Text, s.utf8)
		s.readFolder(d)
		s.docs[d.uri] = d
		s.markDirty(d.uri)
	case "textDocument/didChange":
		var p didChangeParams
		if unmarshal(m.Params, &p) != nil {
			return nil
		}
		d := s.docs[p.TextDocument.URI]
		if d == nil {
			return nil
		}
		for _, c := range p.ContentChanges {
			if c.Range == nil {
				d.text = newText(c.Text, s.utf8)
				continue
			}
			start, end := d.text.offset(c.Range.Start), d.text.offset(c.Range.End)
			if end < start {
				start, end = end, start
			}
			d.text = newText(d.text.src[:start]+c.Text+d.text.src[end:], s.utf8)
		}
		if p.TextDocument.Version != nil {
			d.version = *p.TextDocument.Version
		}
		d.analysis = nil
		s.markDirty(d.uri)
	case "textDocument/didSave":
		var p didSaveParams
		if unmarshal(m.Params, &p) != nil {
			return nil
		}
		if d := s.docs[p.TextDocument.URI]; d != nil {
			// The folder may have changed meanwhile (a .dockerignore or a
			// .dfopt.yaml written).
			s.readFolder(d)
			d.analysis = nil
			s.markDirty(d.uri)
		}
	case "textDocument/didClose":
		var p didCloseParams
		if unmarshal(m.Params, &p) != nil {
			return nil
		}
		if _, ok := s.docs[p.TextDocument.URI]; ok {
			delete(s.docs, p.TextDocument.URI)
			s.dirty = slices.DeleteFunc(s.dirty, func(u string) bool { return u == p.TextDocument.URI })
			return s.send("textDocument/publishDiagnostics", publishDiagnosticsParams{URI: p.TextDocument.URI, Diagnostics: []Diagnostic{}})
		}
	}
	return nil
}

// openContext opens the folder of a Dockerfile as its build context, as the
// command does for a Dockerfile given by path; nil when there is no such
// folder to read (an unsaved buffer), and the rules then see no context.
func openContext(path string) *rewrite.BuildContext {
	if path == "" {
		return nil
	}
	ctx, err := rewrite.OpenContext(filepath.Dir(path), path)
	if err != nil {
		return nil
	}
	return ctx
}

func (s *Server) markDirty(uri string) {
	if !slices.Contains(s.dirty, uri) {
		s.dirty = append(s.dirty, uri)
	}
}

// publishDirty publishes the diagnostics of the documents that changed.
func (s *Server) publishDirty() error {
	for len(s.dirty) > 0 {
		uri := s.dirty[0]
		s.dirty = s.dirty[1:]
		d := s.docs[uri]
		if d == nil {
			continue
		}
		v := d.version
		if err := s.send("textDocument/publishDiagnostics", publishDiagnosticsParams{URI: uri, Version: &v, Diagnostics: s.current(d).diags}); err != nil {
			return err
		}
	}
	return nil
}

// current returns the analysis of the document's text, running the rules
// when the text changed since the last run.
func (s *Server) current(d *document) *analysis {
	if d.analysis == nil {
		d.analysis = s.analyze(d)
	}
	return d.analysis
}

func (s *Server) doc(uri string) (*document, *responseError) {
	d := s.docs[uri]
	if d == nil {
		return nil, &responseError{Code: codeInvalidParams, Message: "document not open: " + uri}
	}
	return d, nil
}

// unmarshal reads a request's params.
func unmarshal(params json.RawMessage, v any) *responseError {
	if len(params) == 0 {
		params = json.RawMessage("{}")
	}
	if err := json.Unmarshal(params, v); err != nil {
		return &responseError{Code: codeInvalidParams, Message: "bad params: " + err.Error()}
	}
	return nil
}

// reply answers request m with result, or with rerr when it is not nil.
func (s *Server) reply(m *message, result any, rerr *responseError) error {
	resp := &message{ID: m.ID}
	if rerr != nil {
		resp.Error = rerr
	} else {
		b, err := json.Marshal(result)
		if err != nil {
			return err
		}
		resp.Result = b
	}
	return writeMessage(s.out, resp)
}

// send writes a notification.
func (s *Server) send(method string, params any) error {
	b, err := json.Marshal(params)
	if err != nil {
		return err
	}
	return writeMessage(s.out, &message{Method: method, Params: b})
}
