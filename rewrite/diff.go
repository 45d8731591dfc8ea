package rewrite

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// diffContext is the number of unchanged lines shown around each change,
// the same default as GNU "diff -u" and git.
const diffContext = 3

// diffTimeout bounds go-diff's search. Realistic edits finish far below it, so
// the diff is minimal; a pathological rewrite of a huge file degrades to a
// larger (still correct) diff instead of hanging.
const diffTimeout = 10 * time.Second

// noNewline is the marker GNU diff prints after a last line that lacks "\n".
const noNewline = "\\ No newline at end of file\n"

// diffLine is one line of the edit script: kind is ' ', '-' or '+', and text
// is the line with its "\n" (absent only on a file's unterminated last line).
type diffLine struct {
	kind byte
	text string
}

// UnifiedDiff returns a unified diff that turns old into new, with headers
// "--- a/PATH" and "+++ b/PATH" and 3 lines of context, or nil when they are equal.
// The output matches GNU "diff -u" hunk for hunk so that both "patch -p1" and
// "git apply" accept it. A leading "./" or "/" is dropped from path so the
// a/ and b/ prefixes always form a relative path.
func UnifiedDiff(path string, old, new []byte) []byte {
	if bytes.Equal(old, new) {
		return nil
	}
	for strings.HasPrefix(path, "./") {
		path = path[2:]
	}
	path = strings.TrimLeft(path, "/")

	lines := diffLines(string(old), string(new))
	var out bytes.Buffer
	fmt.Fprintf(&out, "--- a/%s\n+++ b/%s\n", path, path)

	// oldLine and newLine count the lines of each file before lines[i].
	oldLine, newLine := 0, 0
	for i := 0; i < len(lines); {
		first := nextChange(lines, i)
		if first == len(lines) {
			break
		}
		start := max(i, first-diffContext)
		for _, l := range lines[i:start] {
			oldLine, newLine = advance(l, oldLine, newLine)
		}

		// Extend the hunk while the next change is close enough that the two
		// contexts would touch (gap <= 2*context, as GNU diff does).
		last := first
		for {
			eq := last + 1
			for eq < len(lines) && lines[eq].kind != ' ' {
				eq++
			}
			next := nextChange(lines, eq)
			if next == len(lines) || next-eq > 2*diffContext {
				last = eq - 1
				break
			}
			last = next
		}
		end := min(len(lines), last+1+diffContext)

		oldCount, newCount := 0, 0
		for _, l := range lines[start:end] {
			oldCount, newCount = advance(l, oldCount, newCount)
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(oldLine, oldCount), hunkRange(newLine, newCount))
		for _, l := range lines[start:end] {
			out.WriteByte(l.kind)
			out.WriteString(l.text)
			if !strings.HasSuffix(l.text, "\n") {
				out.WriteString("\n" + noNewline)
			}
		}
		oldLine += oldCount
		newLine += newCount
		i = end
	}
	return out.Bytes()
}

// diffLines computes the line-level edit script from old to new with go-diff's
// line mode, in which each distinct line is hashed to one rune. Within every
// run of changes the deletions come before the insertions, as in GNU output.
func diffLines(old, new string) []diffLine {
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = diffTimeout
	a, b, lineArray := dmp.DiffLinesToRunes(old, new)
	diffs := dmp.DiffCharsToLines(dmp.DiffMainRunes(a, b, false), lineArray)

	var lines, dels, ins []diffLine
	flush := func() {
		lines = append(append(lines, dels...), ins...)
		dels, ins = dels[:0], ins[:0]
	}
	for _, d := range diffs {
		// Every line but a file's last ends in "\n", so splitting the
		// rehydrated text after each "\n" recovers the original lines.
		for _, text := range strings.SplitAfter(d.Text, "\n") {
			if text == "" {
				continue
			}
			switch d.Type {
			case diffmatchpatch.DiffEqual:
				flush()
				lines = append(lines, diffLine{' ', text})
			case diffmatchpatch.DiffDelete:
				dels = append(dels, diffLine{'-', text})
			case diffmatchpatch.DiffInsert:
				ins = append(ins, diffLine{'+', text})
			}
		}
	}
	flush()
	return lines
}

// nextChange returns the index of the first changed line at or after i, or
// len(lines) if there is none.
func nextChange(lines []diffLine, i int) int {
	for i < len(lines) && lines[i].kind == ' ' {
		i++
	}
	return i
}

// advance adds l to the running old and new line counts.
func advance(l diffLine, oldN, newN int) (int, int) {
	if l.kind != '+' {
		oldN++
	}
	if l.kind != '-' {
		newN++
	}
	return oldN, newN
}

// hunkRange formats one side of a hunk header the way GNU diff does: "N" for a
// single line, "N,COUNT" otherwise, and for an empty range the number of the
// line before it (e.g. "0,0" for an empty file). before is the number of lines
// of that file preceding the hunk.
func hunkRange(before, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", before)
	case 1:
		return fmt.Sprintf("%d", before+1)
	}
	return fmt.Sprintf("%d,%d", before+1, count)
}
