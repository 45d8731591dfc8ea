// Package report writes what dfopt found in the forms other programs read:
// text for people, JSON for scripts, SARIF for code scanning, and workflow
// commands that GitHub Actions shows as annotations. The command line and an
// editor's language server share it, so that a finding reads the same in
// every one of them.
package report

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dfopt/dfopt/rewrite"
)

// Format names an output form, as --format spells it.
type Format string

const (
	Text   Format = "text"   // PATH:LINE: RULE: message, one finding a line
	JSON   Format = "json"   // one JSON array of finding objects
	SARIF  Format = "sarif"  // one SARIF 2.1.0 log with one run
	GitHub Format = "github" // GitHub Actions workflow commands
)

// Formats are the forms in the order --help lists them.
var Formats = []Format{Text, JSON, SARIF, GitHub}

// ParseFormat reads a format by its name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown format %q: use text, json, sarif or github", s)
}

// File is what dfopt found in one input.
type File struct {
	// Path names the input as the user gave it ("<stdin>" for standard
	// input).
	Path string
	// Src is the input, which SARIF fixes need to turn byte offsets into
	// lines and columns.
	Src      []byte
	Findings []rewrite.Finding
	// Suppressed are the findings ignore comments switched off, with the
	// comments' reasons: JSON and SARIF show them as suppressed, text as
	// "suppressed (reason: …)" lines among the findings (the command line
	// passes them to text only with -v).
	Suppressed []rewrite.Suppression
}

// Tool is what the formats that describe dfopt say about it (SARIF).
type Tool struct {
	Version string
	Rules   []*rewrite.Rule // every rule, so that SARIF can describe them
	// WorkDir is the folder relative paths are relative to; a SARIF log
	// and GitHub name files relative to it, as code scanning expects.
	WorkDir string
}

// Writer writes the findings of each input in one format: Write for each
// file in turn, then Close once, which ends what needs an end (a JSON
// array, a SARIF log) even when no file was written.
type Writer interface {
	Write(File) error
	Close() error
}

// New returns a writer of format f to w.
func New(f Format, w io.Writer, tool Tool) Writer {
	switch f {
	case JSON:
		return &jsonWriter{w: w, tool: tool}
	case SARIF:
		return newSARIF(w, tool)
	case GitHub:
		return &githubWriter{w: w, tool: tool}
	}
	return &textWriter{w: w}
}

// Level is how much a finding matters, in the words SARIF and GitHub use:
// "error" for a security finding, "note" for a report (nothing to change),
// "warning" for the rest.
func Level(f rewrite.Finding) string {
	switch {
	case f.Security:
		return "error"
	case f.Kind == rewrite.Report:
		return "note"
	}
	return "warning"
}

// Message is a finding's message as people read it: a security finding
// says so first, and control bytes and invalid UTF-8 are escaped.
func Message(f rewrite.Finding) string {
	if f.Security {
		return "security: " + Escape(f.Message)
	}
	return Escape(f.Message)
}

// Escape makes s safe to print on one line of a terminal: control bytes,
// other unprintable characters and bytes that are not UTF-8 become Go
// escapes (\x01, \n, \u200b, \xff), as strconv.Quote writes them; quotes,
// backslashes and printable characters of any script stay as they are.
func Escape(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !strconv.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case strconv.IsPrint(r):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRune(r) // '\x01', '\n', '\u200b'
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

// relPath is path as the formats that point into a repository name it:
// relative to dir, with forward slashes, without "./". A path outside dir
// stays absolute.
func relPath(path, dir string) string {
	if filepath.IsAbs(path) && dir != "" {
		if rel, err := filepath.Rel(dir, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			path = rel
		}
	}
	if !filepath.IsAbs(path) {
		path = filepath.Clean(path)
	}
	return filepath.ToSlash(path)
}

// textWriter writes PATH:LINE: RULE: message lines, as gofmt and compilers
// do, for people and for editors that jump to PATH:LINE.
type textWriter struct{ w io.Writer }

func (t *textWriter) Write(f File) error {
	findings, suppressed := f.Findings, f.Suppressed
	for len(findings) > 0 || len(suppressed) > 0 {
		var err error
		if len(suppressed) == 0 || len(findings) > 0 && findings[0].Line <= suppressed[0].Line {
			fd := findings[0]
			_, err = fmt.Fprintf(t.w, "%s:%d: %s: %s\n", Escape(f.Path), fd.Line, fd.Rule, Message(fd))
			findings = findings[1:]
		} else {
			s := suppressed[0]
			reason := ""
			if s.Reason != "" {
				reason = " (reason: " + Escape(s.Reason) + ")"
			}
			_, err = fmt.Fprintf(t.w, "%s:%d: %s: suppressed%s\n", Escape(f.Path), s.Line, s.Rule, reason)
			suppressed = suppressed[1:]
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *textWriter) Close() error { return nil }

// hadolintIDs returns the hadolint IDs of the named rule, never nil.
func hadolintIDs(rules []*rewrite.Rule, name string) []string {
	if r := rewrite.Lookup(rules, name); r != nil && r.Hadolint != nil {
		return r.Hadolint
	}
	return []string{}
}
