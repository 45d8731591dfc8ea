package rewrite

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// numbered returns the lines "1\n" .. "n\n", with line i replaced by
// change[i] when present (which may hold several lines, or none to delete it).
func numbered(n int, change map[int]string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if s, ok := change[i]; ok {
			b.WriteString(s)
		} else {
			fmt.Fprintf(&b, "%d\n", i)
		}
	}
	return b.String()
}

// lines joins ls with "\n" and terminates the last one, to spell expected diffs.
func lines(ls ...string) string {
	return strings.Join(ls, "\n") + "\n"
}

var unifiedDiffCases = []struct {
	name, path, old, new string
	want                 string // "" means UnifiedDiff must return nil
}{
	{name: "identical", old: "a\nb\n", new: "a\nb\n"},
	{name: "both empty"},
	{name: "empty old", old: "", new: "a\nb\n",
		want: lines("@@ -0,0 +1,2 @@", "+a", "+b")},
	{name: "empty new", old: "a\nb\n", new: "",
		want: lines("@@ -1,2 +0,0 @@", "-a", "-b")},
	{name: "empty old, new unterminated", old: "", new: "a",
		want: lines("@@ -0,0 +1 @@", "+a", `\ No newline at end of file`)},
	{name: "single line", old: "a\n", new: "b\n",
		want: lines("@@ -1 +1 @@", "-a", "+b")},
	{name: "final newline added", old: "a\nb\nc", new: "a\nb\nc\n",
		want: lines("@@ -1,3 +1,3 @@", " a", " b", "-c", `\ No newline at end of file`, "+c")},
	{name: "final newline removed", old: "a\nb\nc\n", new: "a\nb\nc",
		want: lines("@@ -1,3 +1,3 @@", " a", " b", "-c", "+c", `\ No newline at end of file`)},
	{name: "unterminated context line", old: "a\nb\nc\nd", new: "x\nb\nc\nd",
		want: lines("@@ -1,4 +1,4 @@", "-a", "+x", " b", " c", " d", `\ No newline at end of file`)},
	{name: "both unterminated, last line changed", old: "a\nb", new: "a\nc",
		want: lines("@@ -1,2 +1,2 @@", " a", "-b", `\ No newline at end of file`, "+c", `\ No newline at end of file`)},
	{name: "crlf", old: "a\r\nb\r\nc\r\n", new: "a\r\nB\r\nc\r\n",
		want: lines("@@ -1,3 +1,3 @@", " a\r", "-b\r", "+B\r", " c\r")},
	{name: "crlf to lf", old: "a\r\nb\r\n", new: "a\nb\n",
		want: lines("@@ -1,2 +1,2 @@", "-a\r", "-b\r", "+a", "+b")},
	{name: "bytes kept", old: "\tx  \n\xff\xfe\ny\n", new: "\tx \n\xff\xfe\ny\n",
		want: lines("@@ -1,3 +1,3 @@", "-\tx  ", "+\tx ", " \xff\xfe", " y")},
	{name: "first line", old: numbered(10, nil), new: numbered(10, map[int]string{1: "one\n"}),
		want: lines("@@ -1,4 +1,4 @@", "-1", "+one", " 2", " 3", " 4")},
	{name: "last line", old: numbered(10, nil), new: numbered(10, map[int]string{10: "ten\n"}),
		want: lines("@@ -7,4 +7,4 @@", " 7", " 8", " 9", "-10", "+ten")},
	{name: "insertion", old: numbered(10, nil), new: numbered(10, map[int]string{5: "5\nnew\n"}),
		want: lines("@@ -3,6 +3,7 @@", " 3", " 4", " 5", "+new", " 6", " 7", " 8")},
	{name: "deletion at end", old: numbered(10, nil), new: numbered(10, map[int]string{9: "", 10: ""}),
		want: lines("@@ -6,5 +6,3 @@", " 6", " 7", " 8", "-9", "-10")},
	{name: "gap of 7 gives two hunks", old: numbered(20, nil), new: numbered(20, map[int]string{4: "X\n", 12: "Y\n"}),
		want: lines("@@ -1,7 +1,7 @@", " 1", " 2", " 3", "-4", "+X", " 5", " 6", " 7",
			"@@ -9,7 +9,7 @@", " 9", " 10", " 11", "-12", "+Y", " 13", " 14", " 15")},
	{name: "gap of 6 merges hunks", old: numbered(20, nil), new: numbered(20, map[int]string{4: "X\n", 11: "Y\n"}),
		want: lines("@@ -1,14 +1,14 @@", " 1", " 2", " 3", "-4", "+X",
			" 5", " 6", " 7", " 8", " 9", " 10", "-11", "+Y", " 12", " 13", " 14")},
	{name: "three hunks with shifted numbers", old: numbered(30, nil),
		new: numbered(30, map[int]string{2: "", 15: "15\n15b\n15c\n", 29: "X\n"}),
		want: lines("@@ -1,5 +1,4 @@", " 1", "-2", " 3", " 4", " 5",
			"@@ -13,6 +12,8 @@", " 13", " 14", " 15", "+15b", "+15c", " 16", " 17", " 18",
			"@@ -26,5 +27,5 @@", " 26", " 27", " 28", "-29", "+X", " 30")},
}

// TestUnifiedDiff checks the exact output for each table case and, when GNU
// diff is installed, that the hunks are identical to what "diff -u" prints.
func TestUnifiedDiff(t *testing.T) {
	gnuDiff, _ := exec.LookPath("diff")
	for _, tc := range unifiedDiffCases {
		t.Run(tc.name, func(t *testing.T) {
			got := UnifiedDiff("Dockerfile", []byte(tc.old), []byte(tc.new))
			if tc.want == "" {
				if got != nil {
					t.Fatalf("want nil, got:\n%s", got)
				}
			} else if want := "--- a/Dockerfile\n+++ b/Dockerfile\n" + tc.want; string(got) != want {
				t.Fatalf("got:\n%q\nwant:\n%q", got, want)
			}
			if gnuDiff != "" {
				if gnu := runGNUDiff(t, gnuDiff, tc.old, tc.new); gnu != tc.want {
					t.Errorf("GNU diff -u hunks differ:\n%q\nwant:\n%q", gnu, tc.want)
				}
			}
		})
	}
}

// runGNUDiff returns the output of "diff -u" without its two header lines,
// which hold file names and timestamps.
func runGNUDiff(t *testing.T, gnuDiff, old, new string) string {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, a, []byte(old))
	writeFile(t, b, []byte(new))
	out, err := exec.Command(gnuDiff, "-u", a, b).Output()
	if exitErr, ok := err.(*exec.ExitError); err != nil && !(ok && exitErr.ExitCode() == 1) {
		t.Fatalf("diff -u: %v", err)
	}
	_, hunks, _ := strings.Cut(string(out), "\n+++ ")
	_, hunks, _ = strings.Cut(hunks, "\n")
	return hunks
}

func TestUnifiedDiffPath(t *testing.T) {
	for path, want := range map[string]string{
		"Dockerfile":          "--- a/Dockerfile\n+++ b/Dockerfile\n",
		"./sub/Dockerfile":    "--- a/sub/Dockerfile\n+++ b/sub/Dockerfile\n",
		"../x/Dockerfile":     "--- a/../x/Dockerfile\n+++ b/../x/Dockerfile\n",
		"/abs/dir/Dockerfile": "--- a/abs/dir/Dockerfile\n+++ b/abs/dir/Dockerfile\n",
	} {
		got := UnifiedDiff(path, []byte("a\n"), []byte("b\n"))
		if !bytes.HasPrefix(got, []byte(want)) {
			t.Errorf("UnifiedDiff(%q) headers:\n%s\nwant prefix:\n%s", path, got, want)
		}
	}
}

// TestUnifiedDiffApplies generates random edits and checks that both git apply
// and patch -p1 turn old into exactly new, so the hunk headers, context and
// "\ No newline" markers are right, not only plausible.
func TestUnifiedDiffApplies(t *testing.T) {
	hasPatch := true
	if _, err := exec.LookPath("patch"); err != nil {
		hasPatch = false
		t.Log("patch not installed: checking git apply only")
	}
	r := rand.New(rand.NewPCG(1, 2))
	paths := []string{"Dockerfile", "./sub/Dockerfile", "/abs/dir/Dockerfile"}
	for i := range 60 {
		old, new := randomEdit(r)
		path := paths[i%len(paths)]
		diff := UnifiedDiff(path, old, new)
		if bytes.Equal(old, new) {
			if diff != nil {
				t.Fatalf("case %d: equal inputs gave a diff:\n%s", i, diff)
			}
			continue
		}
		checkApply(t, "git", path, old, new, diff)
		if hasPatch {
			checkApply(t, "patch", path, old, new, diff)
		}
	}
}

// TestUnifiedDiffLarge diffs a file of about 1 MB with scattered edits: it must
// be fast and still apply.
func TestUnifiedDiffLarge(t *testing.T) {
	var old, new bytes.Buffer
	for i := range 20000 {
		line := fmt.Sprintf("RUN step %d: padding padding padding padding pad\n", i)
		old.WriteString(line)
		if i%400 == 7 {
			line = fmt.Sprintf("RUN changed %d\n", i)
		}
		new.WriteString(line)
	}
	start := time.Now()
	diff := UnifiedDiff("Dockerfile", old.Bytes(), new.Bytes())
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("diffing %d bytes took %v", old.Len(), d)
	}
	if n := bytes.Count(diff, []byte("\n@@ ")); n != 50 {
		t.Errorf("got %d hunks, want 50", n)
	}
	checkApply(t, "git", "Dockerfile", old.Bytes(), new.Bytes(), diff)
}

// randomEdit returns a random old text and a random edit of it, drawing lines
// from a small vocabulary so that repeated lines make the alignment ambiguous.
func randomEdit(r *rand.Rand) (old, new []byte) {
	vocab := []string{"FROM alpine", "RUN apk add curl", "", "\t", "COPY . /src  ", "x", "\xff\xfe", "}"}
	n := r.IntN(40)
	if r.IntN(8) == 0 {
		n = 0
	}
	ls := make([]string, n)
	for i := range ls {
		ls[i] = vocab[r.IntN(len(vocab))]
	}
	eol := "\n"
	if r.IntN(4) == 0 {
		eol = "\r\n"
	}
	old = joinLines(ls, eol, r.IntN(3) > 0)

	ls = append([]string(nil), ls...)
	for range r.IntN(6) {
		at := r.IntN(len(ls) + 1)
		switch r.IntN(3) {
		case 0:
			ls = append(ls[:at], append([]string{vocab[r.IntN(len(vocab))]}, ls[at:]...)...)
		case 1:
			if at < len(ls) {
				ls = append(ls[:at], ls[at+1:]...)
			}
		case 2:
			if at < len(ls) {
				ls[at] = fmt.Sprintf("changed %d", r.IntN(100))
			}
		}
	}
	if r.IntN(10) == 0 {
		ls = ls[:0]
	}
	if r.IntN(10) == 0 {
		eol = "\n"
	}
	return old, joinLines(ls, eol, r.IntN(3) > 0)
}

// joinLines ends each line with eol, except the last when final is false.
func joinLines(ls []string, eol string, final bool) []byte {
	s := strings.Join(ls, eol)
	if final && len(ls) > 0 {
		s += eol
	}
	return []byte(s)
}

// checkApply writes old to path in a fresh directory, applies diff there with
// tool ("git" for git apply, or "patch" for patch -p1) and checks that the
// file then holds exactly new. patch must apply every hunk exactly, without
// offset or fuzz, so that the line numbers are checked too.
func checkApply(t *testing.T, tool, path string, old, new, diff []byte) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, filepath.FromSlash(strings.TrimLeft(strings.TrimPrefix(path, "./"), "/")))
	writeFile(t, file, old)

	var cmd *exec.Cmd
	if tool == "git" {
		cmd = exec.Command("git", "apply", "-")
		// Keep git away from any enclosing repository and user config.
		cmd.Env = append(os.Environ(), "GIT_CEILING_DIRECTORIES="+filepath.Dir(dir),
			"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	} else {
		cmd = exec.Command("patch", "-p1", "--batch", "--no-backup-if-mismatch")
	}
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(diff)
	out, err := cmd.CombinedOutput()
	if err != nil || bytes.Contains(out, []byte("offset")) || bytes.Contains(out, []byte("fuzz")) {
		t.Fatalf("%s failed: %v\n%s\nold: %q\nnew: %q\ndiff:\n%s", tool, err, out, old, new, diff)
	}
	if got, err := os.ReadFile(file); err != nil || !bytes.Equal(got, new) {
		t.Fatalf("%s gave %q (%v)\nwant %q\nold: %q\ndiff:\n%s", tool, got, err, new, old, diff)
	}
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
