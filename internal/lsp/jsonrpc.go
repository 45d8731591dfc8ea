package lsp

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxMessage bounds the Content-Length the server accepts: a Dockerfile
// and its JSON wrapping are far smaller, and a corrupt header must not make
// the server allocate gigabytes.
const maxMessage = 64 << 20

// errEOF is the end of the client's input at a message boundary.
var errEOF = errors.New("end of input")

// readMessage reads one message framed as the base protocol frames it: a
// header of "Name: value" lines, of which Content-Length is required, an
// empty line, then that many bytes of JSON.
func readMessage(r *bufio.Reader) (*message, error) {
	length := -1
	for first := true; ; first = false {
		line, err := r.ReadString('\n')
		if err == io.EOF && first && line == "" {
			return nil, errEOF
		}
		if err != nil {
			return nil, fmt.Errorf("read header: %w", unexpectedEOF(err))
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("bad header line %q", line)
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil || n < 0 || n > maxMessage {
				return nil, fmt.Errorf("bad Content-Length %q", strings.TrimSpace(value))
			}
			length = n
		}
	}
	if length < 0 {
		return nil, errors.New("message without Content-Length header")
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("read message of %d bytes: %w", length, unexpectedEOF(err))
	}
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, &parseError{err: err}
	}
	if m.JSONRPC != "2.0" {
		return nil, &parseError{err: fmt.Errorf("jsonrpc is %q, not \"2.0\"", m.JSONRPC)}
	}
	return &m, nil
}

// parseError is a framed message that is not JSON-RPC; the server answers
// it with a ParseError before it stops.
type parseError struct{ err error }

func (e *parseError) Error() string { return "bad JSON-RPC message: " + e.err.Error() }

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// writeMessage writes one message with its Content-Length header.
func writeMessage(w io.Writer, m *message) error {
	m.JSONRPC = "2.0"
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "Content-Length: %d\r\n\r\n", len(body)); err != nil {
		return err
	}
	_, err = w.Write(body)
	return err
}
