package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/dfopt/dfopt/internal/shparse"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"mvdan.cc/sh/v3/syntax"
)

// Document is a parsed Dockerfile that keeps its source. Instructions point into
// Src by byte offset, so bytes no rule touches can be printed exactly as read.
type Document struct {
	Path    string
	Src     []byte
	Escape  rune   // escape token: '\\' or '`'
	Newline string // "\r\n" when the file uses CRLF line endings, else "\n"
	BOM     bool   // the file starts with a UTF-8 byte order mark

	Instructions []*Instruction
	Stages       []*Stage

	lineStart []int // lineStart[i] is the offset of line i+1; a final entry is len(Src)
	facts     map[any]any
	prev      *Document // the document edits made this one of, when parsed around them
}

// Fact returns what make computes of the document, computing it once: the
// rules of a pass share what they learn of a document (as x/tools analyzers
// share facts), and a new document (after an edit) starts afresh. key is a
// value of a type of the caller's own.
func (d *Document) Fact(key any, make func() any) any {
	if v, ok := d.facts[key]; ok {
		return v
	}
	v := make()
	if d.facts == nil {
		d.facts = map[any]any{}
	}
	d.facts[key] = v
	return v
}

// KnownFact returns what Fact computed for key, if it did.
func (d *Document) KnownFact(key any) (any, bool) {
	v, ok := d.facts[key]
	return v, ok
}

// Carried returns, for an instruction that Source's last edits did not
// touch, the document those edits were made on and the instruction there
// that it was carried over from, its bytes the same (only its lines and
// offsets moved); nil, nil for an instruction parsed anew. What a fact of
// that document says of the instruction alone still holds, so that it
// need not be worked out again.
func (d *Document) Carried(in *Instruction) (*Document, *Instruction) {
	if in.was == nil || d.prev == nil {
		return nil, nil
	}
	return d.prev, in.was
}

// Stage is one FROM and the instructions after it.
type Stage struct {
	Index        int
	Name         string // the AS name, lower case, or ""
	Base         string // the FROM image reference as written
	From         *Instruction
	Instructions []*Instruction // including the FROM

	posix bool // the stage's SHELL reads sh syntax, as far as it goes
}

// Instruction is one Dockerfile instruction and where it sits in the source.
type Instruction struct {
	Node    *parser.Node
	Command any    // the typed command from buildkit's instructions package
	Keyword string // lower case: "run", "copy", ...

	StartLine, EndLine int // 1-based, as buildkit counts them; heredoc bodies included
	Start, End         int // byte span in Src: from the start of StartLine to after EndLine's newline

	Stage *Stage // nil for an ARG before the first FROM

	// Line is the instruction as buildkit sees it: continuation lines joined,
	// comment lines inside the continuation and the escape token removed.
	Line string
	// Args is the part of Line after the keyword and the flags ("" if none), with
	// its offset in Line.
	Args    string
	ArgsOff int

	// POSIX says the stage's SHELL (or the default) reads sh syntax.
	POSIX bool
	// Shell is the parsed shell of a shell-form RUN (not heredoc) under a POSIX
	// shell; nil otherwise, and nil when the program does not parse.
	Shell *Shell

	seg []segment // maps offsets in Line to offsets in Src
	// shellRead says Shell is the parse of Args under a POSIX shell (nil
	// when that failed); link parses it only when it is not.
	shellRead bool
	// was is the instruction of the document before the last edits that
	// this one was carried over from, untouched; nil when parsed anew.
	was *Instruction
}

// Shell is the shell program of a shell-form RUN, parsed once for every rule.
type Shell struct {
	Text string       // what the shell runs
	File *syntax.File // positions are offsets in Text
}

// segment says that Line[log:log+n] was read from Src[src:src+n].
type segment struct{ log, src, n int }

// ParseError is a Dockerfile that buildkit rejects, with the line it names.
type ParseError struct {
	Path string
	Line int
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads a Dockerfile with buildkit's parser and instructions packages,
// rejecting what buildkit rejects (the corpus test holds it to
// instructions.Parse), and builds the source-keeping document.
func Parse(path string, src []byte) (*Document, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		line := errLine(err)
		if dl := directiveErrLine(src); dl > 0 {
			line = dl
		}
		return nil, &ParseError{Path: path, Line: line, Err: cleanErr(err)}
	}
	d := newDocument(path, src, res.EscapeToken)
	b := newBuilder()
	for _, n := range res.AST.Children {
		in, err := b.instruction(d, n)
		if err != nil {
			// buildkit reads the instructions in order: an instruction
			// above this one outside any stage is the error it names.
			if line, err := d.link(b); err != nil {
				return nil, &ParseError{Path: path, Line: line, Err: err}
			}
			return nil, &ParseError{Path: path, Line: n.StartLine, Err: err}
		}
		d.Instructions = append(d.Instructions, in)
	}
	if line, err := d.link(b); err != nil {
		return nil, &ParseError{Path: path, Line: line, Err: err}
	}
	return d, nil
}

// newDocument makes the document of src, with its lines indexed and no
// instructions yet.
func newDocument(path string, src []byte, escape rune) *Document {
	d := &Document{Path: path, Src: src, Escape: escape, Newline: "\n"}
	d.BOM = bytes.HasPrefix(src, []byte("\xef\xbb\xbf"))
	d.indexLines()
	if i := bytes.IndexByte(src, '\n'); i > 0 && src[i-1] == '\r' {
		d.Newline = "\r\n"
	}
	return d
}

func errLine(err error) int {
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		return le.Locations[0][0].Start.Line
	}
	return 0
}

// directiveErrLine returns the line of the parser directive buildkit rejects
// (an escape token other than ` and \, a directive given twice), or 0 when the
// directives are fine. Buildkit rejects them first, but counts their line from
// 0, so its location names the line above, or none for the first line.
func directiveErrLine(src []byte) int {
	var dp parser.DirectiveParser
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	for n, line := range bytes.SplitAfter(src, []byte("\n")) {
		line = bytes.TrimLeftFunc(bytes.TrimRight(line, "\r\n"), unicode.IsSpace)
		dir, err := dp.ParseLine(line)
		if err != nil {
			return n + 1
		}
		if dir == nil {
			return 0 // the directives end at the first line that is none
		}
		if dir.Name == "escape" && dir.Value != "`" && dir.Value != `\` {
			return n + 1
		}
	}
	return 0
}

// cleanErr drops the location wrapper, whose line we print ourselves.
func cleanErr(err error) error {
	var le *parser.LocationError
	if errors.As(err, &le) {
		if inner := le.Unwrap(); inner != nil {
			return errors.New(strings.TrimSpace(inner.Error()))
		}
	}
	return err
}

func (d *Document) indexLines() {
	d.lineStart = append(d.lineStart[:0], 0)
	for at := 0; ; {
		i := bytes.IndexByte(d.Src[at:], '\n')
		if i < 0 || at+i+1 >= len(d.Src) {
			break
		}
		at += i + 1
		d.lineStart = append(d.lineStart, at)
	}
	d.lineStart = append(d.lineStart, len(d.Src))
}

// Lines returns the number of lines in the source.
func (d *Document) Lines() int { return len(d.lineStart) - 1 }

// LineStart returns the offset where 1-based line n starts.
func (d *Document) LineStart(n int) int { return d.lineStart[n-1] }

// LineEnd returns the offset just past line n, its newline included.
func (d *Document) LineEnd(n int) int { return d.lineStart[n] }

// LineText returns line n without its line ending.
func (d *Document) LineText(n int) string {
	return strings.TrimRight(string(d.Src[d.LineStart(n):d.LineEnd(n)]), "\r\n")
}

// lineBytes returns line n without its line ending.
func (d *Document) lineBytes(n int) []byte {
	return bytes.TrimRight(d.Src[d.LineStart(n):d.LineEnd(n)], "\r\n")
}

// LineOf returns the 1-based line holding byte offset off.
func (d *Document) LineOf(off int) int {
	lo, hi := 0, len(d.lineStart)-2
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if d.lineStart[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1
}

// builder is what building a document's instructions needs once, not once
// per instruction: the linter buildkit's instructions package reports to, and
// a shell parser.
type builder struct {
	lint   *linter.Linter
	shells map[string]*syntax.File // programs parsed before, by text (nil: they do not parse)
}

func newBuilder() *builder {
	return &builder{
		lint: linter.New(&linter.Config{}),
	}
}

// instruction reads one node of buildkit's parse as buildkit's
// instructions.Parse does (with a real linter) and maps its logical line back
// to d's source. What an instruction is depends on its own bytes, the escape
// token and the comments right above it (the node has them), never on other
// instructions; link adds what does.
func (b *builder) instruction(d *Document, n *parser.Node) (*Instruction, error) {
	in := &Instruction{
		Node:      n,
		Keyword:   strings.ToLower(n.Value),
		StartLine: n.StartLine,
		EndLine:   n.EndLine,
		Start:     d.LineStart(n.StartLine),
		End:       d.LineEnd(n.EndLine),
	}
	cmd, err := instructions.ParseInstructionWithLinter(n, b.lint)
	if err != nil {
		return nil, cleanErr(err)
	}
	in.Command = cmd
	in.joinLines(d)
	if in.Line != n.Original {
		return nil, errors.New("internal error: source map disagrees with buildkit's reading")
	}
	in.splitArgs(byte(d.Escape))
	if c, ok := cmd.(*instructions.RunCommand); ok && c.PrependShell && n.Next != nil && in.Args != n.Next.Value {
		return nil, errors.New("internal error: RUN arguments disagree with buildkit's reading")
	}
	return in, nil
}

// link builds the stages and gives each instruction what depends on the
// instructions before it: its stage, whether its shell reads sh syntax, and
// for a shell-form RUN under such a shell its parsed program (kept when an
// earlier version of the document parsed it under one too). It checks what
// buildkit's instructions.Parse checks across instructions (every
// instruction but ARG belongs to a stage) and returns the line of what it
// rejects.
func (d *Document) link(b *builder) (int, error) {
	d.Stages = nil
	var stage *Stage
	shellPOSIX := true
	for _, in := range d.Instructions {
		if _, isArg := in.Command.(*instructions.ArgCommand); stage == nil && !isArg {
			if _, isStage := in.Command.(*instructions.Stage); !isStage {
				return in.StartLine, errors.New("no build stage in current context")
			}
		}
		switch c := in.Command.(type) {
		case *instructions.Stage:
			shellPOSIX = !windowsImage(c.BaseName)
			for _, prev := range d.Stages {
				if prev.Name != "" && strings.EqualFold(prev.Name, c.BaseName) {
					shellPOSIX = prev.posix // a stage inherits its parent stage's SHELL
				}
			}
			stage = &Stage{Index: len(d.Stages), Name: c.Name, Base: c.BaseName, From: in}
			d.Stages = append(d.Stages, stage)
		case *instructions.ShellCommand:
			shellPOSIX = isPOSIXShell(c.Shell)
		case *instructions.RunCommand:
			switch {
			case !c.PrependShell || len(in.Node.Heredocs) > 0 || !shellPOSIX:
				in.Shell, in.shellRead = nil, false
			case !in.shellRead:
				in.Shell, in.shellRead = b.parseShell(in.Args), true
			}
		}
		in.Stage = stage
		in.POSIX = shellPOSIX
		if stage != nil {
			stage.posix = shellPOSIX
			stage.Instructions = append(stage.Instructions, in)
		}
	}
	return 0, nil
}

// windowsImage tells whether a base image is a Windows one, whose default
// shell is cmd, not sh.
func windowsImage(ref string) bool {
	r := strings.ToLower(ref)
	for _, w := range []string{"windows", "nanoserver", "servercore", "mcr.microsoft.com/powershell"} {
		if strings.Contains(r, w) {
			return true
		}
	}
	return false
}

// isPOSIXShell tells whether a SHELL instruction names a shell that reads sh syntax.
func isPOSIXShell(args []string) bool {
	if len(args) == 0 {
		return false
	}
	exe := strings.ToLower(args[0])
	if i := strings.LastIndexAny(exe, `/\`); i >= 0 {
		exe = exe[i+1:]
	}
	switch strings.TrimSuffix(exe, ".exe") {
	case "sh", "bash", "ash", "dash", "ksh", "mksh", "zsh", "busybox":
		return true
	}
	return false
}

// parseShell parses text as bash, the widest of the dialects a RUN may use;
// a program it cannot read gets no tree, and rules leave that RUN alone.
func (b *builder) parseShell(text string) *Shell {
	if f, ok := b.shells[text]; ok {
		if f == nil {
			return nil
		}
		return &Shell{Text: text, File: f}
	}
	f, err := shparse.Parse(text)
	if err != nil {
		return nil
	}
	return &Shell{Text: text, File: f}
}

// joinLines rebuilds buildkit's logical line for the instruction and records
// where each of its bytes came from, following parser.Parse line by line.
func (in *Instruction) joinLines(d *Document) {
	var b strings.Builder
	cont := continuationMatcher(d.Escape)
	for ln := in.StartLine; ln <= in.EndLine; ln++ {
		start := d.LineStart(ln)
		raw := d.Src[start:d.LineEnd(ln)]
		if ln == 1 && d.BOM {
			raw, start = raw[3:], start+3
		}
		text := bytes.TrimRight(raw, "\r\n")
		if ln == in.StartLine {
			trimmed := bytes.TrimLeftFunc(text, unicode.IsSpace)
			start += len(text) - len(trimmed)
			text = trimmed
		} else {
			if isCommentLine(text) {
				continue
			}
			if len(bytes.TrimLeftFunc(text, unicode.IsSpace)) == 0 {
				continue
			}
		}
		body, more := cont(text)
		in.seg = append(in.seg, segment{log: b.Len(), src: start, n: len(body)})
		b.Write(body)
		if !more {
			break
		}
	}
	in.Line = b.String()
}

func isCommentLine(text []byte) bool {
	t := bytes.TrimLeftFunc(text, unicode.IsSpace)
	return len(t) > 0 && t[0] == '#'
}

// continuationMatcher mirrors buildkit's line-continuation test: the escape token
// as the last non-blank character, not preceded by another escape token (a lone
// token on a line counts too). It returns the line without it, and whether the
// instruction goes on.
func continuationMatcher(escape rune) func([]byte) ([]byte, bool) {
	e := byte(escape)
	return func(line []byte) ([]byte, bool) {
		t := bytes.TrimRight(line, " \t")
		if len(t) == 0 || t[len(t)-1] != e {
			return line, false
		}
		if len(t) == 1 {
			return t[:0], true
		}
		if t[len(t)-2] == e {
			return line, false
		}
		return t[:len(t)-1], true
	}
}

// splitArgs finds the arguments after the keyword and the flags the way
// buildkit's splitCommand does: they are the trimmed tail of the line.
func (in *Instruction) splitArgs(escape byte) {
	line := strings.TrimRightFunc(in.Line, unicode.IsSpace)
	lead := len(line) - len(strings.TrimLeftFunc(line, unicode.IsSpace))
	kw := strings.IndexFunc(line[lead:], unicode.IsSpace)
	if kw < 0 {
		in.ArgsOff = len(line)
		return
	}
	off := lead + kw
	off += flagsEnd(line[off:], escape)
	// Buildkit trims what follows the flags as UTF-8 (strings.TrimSpace), so
	// a byte such as 0xa0 that is not UTF-8 stays (after "RUN --", say).
	rest := line[off:]
	off += len(rest) - len(strings.TrimLeftFunc(rest, unicode.IsSpace))
	in.ArgsOff = off
	in.Args = line[off:]
}

// flagsEnd returns where the builder flags (--name=value words) at the start of
// s end, walking quotes and escapes as buildkit's extractBuilderFlags does.
func flagsEnd(s string, escape byte) int {
	_, end := flagWords(s, escape)
	return end
}

// flagWords splits the builder flags at the start of s as buildkit's
// extractBuilderFlags does, giving each word as written (quotes and escapes
// kept), and where they end.
func flagWords(s string, escape byte) ([]string, int) {
	var words []string
	pos := 0
	for {
		for pos < len(s) && unicode.IsSpace(rune(s[pos])) {
			pos++
		}
		if !strings.HasPrefix(s[pos:], "--") {
			return words, pos
		}
		start := pos
		var quote byte
		for pos < len(s) {
			c := s[pos]
			switch {
			case quote != 0 && c == quote:
				quote = 0
			case quote == 0 && (c == '\'' || c == '"'):
				quote = c
			case c == escape:
				pos++
			case quote == 0 && unicode.IsSpace(rune(c)):
				goto word
			}
			pos++
		}
	word:
		w := s[start:min(pos, len(s))]
		if w == "--" {
			return words, min(pos, len(s))
		}
		words = append(words, w)
		if pos >= len(s) {
			return words, len(s)
		}
	}
}

// FlagWords returns the builder flags of an instruction as its source
// writes them, continuation lines joined. Node.Flags holds them decoded,
// and byte by byte as buildkit reads them: a byte over 0x7f there is a rune
// of its own, so they cannot be written back as they are.
func (d *Document) FlagWords(in *Instruction) []string {
	line := strings.TrimRightFunc(in.Line, unicode.IsSpace)
	lead := len(line) - len(strings.TrimLeftFunc(line, unicode.IsSpace))
	kw := strings.IndexFunc(line[lead:], unicode.IsSpace)
	if kw < 0 {
		return nil
	}
	words, _ := flagWords(line[lead+kw:], byte(d.Escape))
	return words
}
