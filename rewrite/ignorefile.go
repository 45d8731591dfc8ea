package rewrite

import (
	"bytes"
	"cmp"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// FileChange is a file other than the Dockerfile that a rule writes, such as
// the build context's ignore file. A rule attaches it to a Finding (Files);
// Source gathers the changes it applies in Result.Files and writes nothing:
// the caller writes them, or shows their diff, as it does with the output.
type FileChange struct {
	// Path names the file as the BuildContext does: joined to its Dir, or
	// the Dockerfile's own ignore file beside the Dockerfile.
	Path   string
	Old    []byte // the content the rule read; empty when Create
	New    []byte
	Create bool // the file does not exist yet
}

// Diff returns the change as a unified diff for git apply and patch -p1; a
// file to create gets "--- /dev/null", which is how both learn to create it.
func (f FileChange) Diff() []byte {
	d := UnifiedDiff(f.Path, f.Old, f.New)
	if f.Create && d != nil {
		_, rest, _ := bytes.Cut(d, []byte("\n"))
		d = append([]byte("--- /dev/null\n"), rest...)
	}
	return d
}

// mergeFiles adds changes to have: a later change of a path takes the place
// of an earlier one (a later pass of the pipeline saw more), and the list
// stays sorted by path.
func mergeFiles(have, add []FileChange) []FileChange {
	for _, f := range add {
		i, found := slices.BinarySearchFunc(have, f.Path, func(g FileChange, p string) int { return cmp.Compare(g.Path, p) })
		if found {
			have[i] = joinChanges(have[i], f)
		} else {
			have = slices.Insert(have, i, f)
		}
	}
	return have
}

// joinChanges makes one change of two made to the same file: when both
// append to the same old content (two findings extend the ignore file), the
// second's appended lines follow the first's; otherwise the second wins.
func joinChanges(a, b FileChange) FileChange {
	if !bytes.Equal(a.Old, b.Old) || !bytes.HasPrefix(a.New, a.Old) || !bytes.HasPrefix(b.New, b.Old) {
		return b
	}
	joined := a
	joined.New = slices.Clone(a.New)
	have := map[string]bool{}
	for _, line := range strings.Split(string(a.New), "\n") {
		have[strings.TrimSpace(line)] = true
	}
	for _, line := range strings.SplitAfter(string(b.New[len(b.Old):]), "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") && have[t] {
			continue // an entry the first change adds already
		}
		joined.New = append(joined.New, line...)
	}
	return joined
}

// ExtendIgnoreFile returns the change that appends entries, under a comment
// line, to the ignore file in force: the bytes already there stay as they
// are, so no entry is ever dropped. With no ignore file it creates the
// context's .dockerignore. New lines take the file's own line endings.
//
// A new ignore file in the context names itself first: COPY . would
// otherwise put it in the image, which it was not in before.
func (c *BuildContext) ExtendIgnoreFile(comment string, entries []string) (FileChange, error) {
	f := FileChange{Path: c.IgnoreFile}
	if f.Path == "" {
		f.Path, f.Create = filepath.Join(c.Dir, ".dockerignore"), true
	} else {
		old, err := os.ReadFile(f.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			f.Create = true
		case err != nil:
			return f, err
		}
		f.Old = old
	}
	nl := "\n"
	if bytes.Contains(f.Old, []byte("\r\n")) {
		nl = "\r\n"
	}
	var b bytes.Buffer
	b.Write(f.Old)
	if len(f.Old) > 0 && !bytes.HasSuffix(f.Old, []byte("\n")) {
		b.WriteString(nl)
	}
	if len(f.Old) > 0 && strings.TrimSpace(lastLine(f.Old)) != "" {
		b.WriteString(nl) // a blank line sets the new block apart
	}
	b.WriteString("# " + comment + nl)
	if f.Create {
		if rel, err := filepath.Rel(c.Dir, f.Path); err == nil && !strings.HasPrefix(rel, "..") && !slices.Contains(entries, filepath.ToSlash(rel)) {
			entries = append([]string{filepath.ToSlash(rel)}, entries...)
		}
	}
	for _, e := range entries {
		b.WriteString(e + nl)
	}
	f.New = b.Bytes()
	return f, nil
}

// lastLine returns the last line of text without its line ending.
func lastLine(text []byte) string {
	t := strings.TrimSuffix(strings.TrimSuffix(string(text), "\n"), "\r")
	if i := strings.LastIndexByte(t, '\n'); i >= 0 {
		t = t[i+1:]
	}
	return t
}
