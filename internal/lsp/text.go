package lsp

import (
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// text is a document's content with the offsets where its lines start,
// which every conversion between LSP positions and byte offsets reads.
type text struct {
	src       string
	lineStart []int // offsets of the lines' first bytes; lines end at "\n"
	utf8      bool  // positions count bytes; else UTF-16 code units
}

func newText(src string, utf8 bool) *text {
	t := &text{src: src, utf8: utf8, lineStart: []int{0}}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			t.lineStart = append(t.lineStart, i+1)
		}
	}
	return t
}

// lineEnd returns the offset of the end of line n (0-based), before its
// line ending.
func (t *text) lineEnd(n int) int {
	end := len(t.src)
	if n+1 < len(t.lineStart) {
		end = t.lineStart[n+1] - 1
	}
	if end > t.lineStart[n] && t.src[end-1] == '\r' {
		end--
	}
	return end
}

// offset turns a position into a byte offset. As the specification asks, a
// character past the end of its line means the end of the line, and a line
// past the end of the text the end of the text.
func (t *text) offset(p Position) int {
	if p.Line < 0 {
		return 0
	}
	if p.Line >= len(t.lineStart) {
		return len(t.src)
	}
	off, end := t.lineStart[p.Line], t.lineEnd(p.Line)
	for n := 0; off < end && n < p.Character; {
		r, size := utf8.DecodeRuneInString(t.src[off:end])
		n += t.width(r, size)
		off += size
	}
	return off
}

// position turns a byte offset into a position.
func (t *text) position(off int) Position {
	off = max(0, min(off, len(t.src)))
	line := 0
	lo, hi := 0, len(t.lineStart)-1
	for lo <= hi { // the last line starting at or before off
		mid := (lo + hi) / 2
		if t.lineStart[mid] <= off {
			line, lo = mid, mid+1
		} else {
			hi = mid - 1
		}
	}
	char := 0
	for s := t.src[t.lineStart[line]:off]; s != ""; {
		r, size := utf8.DecodeRuneInString(s)
		char += t.width(r, size)
		s = s[size:]
	}
	return Position{Line: line, Character: char}
}

// width is how many units of the position encoding a rune takes.
func (t *text) width(r rune, size int) int {
	switch {
	case t.utf8:
		return size
	case r >= 0x10000:
		return 2 // a surrogate pair
	}
	return 1
}

// rangeOf returns the range of the bytes src[start:end].
func (t *text) rangeOf(start, end int) Range {
	return Range{Start: t.position(start), End: t.position(end)}
}

// edits returns the text edits that turn t into after, one per run of
// changed lines, as a line diff finds them: untouched lines are left out, so
// that the editor keeps its marks and cursors on them.
func (t *text) edits(after string) []TextEdit {
	if after == t.src {
		return []TextEdit{}
	}
	dmp := diffmatchpatch.New()
	a, b, lines := dmp.DiffLinesToRunes(t.src, after)
	diffs := dmp.DiffMainRunes(a, b, false)
	edits := []TextEdit{}
	off := 0    // offset in t.src of the next line
	start := -1 // where the current run of changes starts, or -1
	var newText strings.Builder
	flush := func() {
		if start >= 0 {
			edits = append(edits, TextEdit{Range: t.rangeOf(start, off), NewText: newText.String()})
			start = -1
			newText.Reset()
		}
	}
	for _, d := range diffs {
		n := 0
		for _, r := range d.Text {
			n += len(lines[r])
		}
		switch d.Type {
		case diffmatchpatch.DiffEqual:
			flush()
			off += n
		case diffmatchpatch.DiffDelete:
			if start < 0 {
				start = off
			}
			off += n
		case diffmatchpatch.DiffInsert:
			if start < 0 {
				start = off
			}
			for _, r := range d.Text {
				newText.WriteString(lines[r])
			}
		}
	}
	flush()
	return edits
}

// uriPath returns the file a file:// URI names, or "" for another scheme
// (an unsaved buffer, say), which has no folder to be a build context.
func uriPath(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "file" {
		return ""
	}
	p := u.Path
	if runtime.GOOS == "windows" {
		// file:///C:/x has the path /C:/x.
		if len(p) >= 3 && p[0] == '/' && p[2] == ':' {
			p = p[1:]
		}
		if u.Host != "" {
			p = `\\` + u.Host + p // a UNC path
		}
	}
	return filepath.FromSlash(p)
}
