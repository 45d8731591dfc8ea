package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/dfopt/dfopt/rewrite"
)

var update = flag.Bool("update", false, "rewrite the scripts' expected output in testdata/script")

// TestMain lets the scripts run dfopt as a command, served by this test binary.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"dfopt": main})
}

// oldTime is the modification time chtime gives a file, so that oldtime can
// tell later that nothing wrote it.
var oldTime = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			// CMDBIN is the folder of the commands the scripts run (dfopt):
			// testscript puts it first on PATH.
			dir, _, _ := strings.Cut(env.Getenv("PATH"), string(os.PathListSeparator))
			env.Setenv("CMDBIN", dir)
			// REPO is the checkout, for the scripts that use its files
			// (contrib/pre-commit).
			repo, err := filepath.Abs(filepath.Join("..", ".."))
			if err != nil {
				return err
			}
			env.Setenv("REPO", repo)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "root" { // permissions do not stop root
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status":  cmdStatus,
			"perm":    cmdPerm,
			"islink":  cmdIsLink,
			"chtime":  cmdChtime,
			"oldtime": cmdOldtime,
			"lspmsgs": cmdLSPMsgs,
		},
	})
}

// cmdStatus runs a command and checks its exit status, which "! cmd" cannot
// tell apart: status CODE command [args...]. stdout and stderr then check its
// output as usual.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status CODE command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: bad code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// cmdPerm checks a file's permission bits: perm FILE MODE (octal).
func cmdPerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: perm FILE MODE")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	if err != nil {
		ts.Fatalf("perm: bad mode %q", args[1])
	}
	info, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	got := uint64(info.Mode().Perm())
	switch {
	case neg && got == want:
		ts.Fatalf("%s has mode %#o, want another", args[0], got)
	case !neg && got != want:
		ts.Fatalf("%s has mode %#o, want %#o", args[0], got, want)
	}
}

// cmdIsLink checks that a path is a symbolic link: islink PATH.
func cmdIsLink(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: islink PATH")
	}
	info, err := os.Lstat(ts.MkAbs(args[0]))
	ts.Check(err)
	if (info.Mode()&os.ModeSymlink != 0) == neg {
		ts.Fatalf("%s: symlink is %v", args[0], !neg)
	}
}

// cmdChtime sets a file's modification time to oldTime: chtime FILE.
func cmdChtime(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: chtime FILE")
	}
	ts.Check(os.Chtimes(ts.MkAbs(args[0]), oldTime, oldTime))
}

// cmdOldtime checks that a file still has the time chtime gave it, that is
// that nothing wrote it since: oldtime FILE.
func cmdOldtime(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: oldtime FILE")
	}
	info, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	if info.ModTime().Equal(oldTime) == neg {
		ts.Fatalf("%s: modified %v, chtime gave it %v", args[0], info.ModTime(), oldTime)
	}
}

// cmdLSPMsgs frames each line of a file of JSON messages as the Language
// Server Protocol does (a Content-Length header, CRLF, a blank line), so
// that a script can feed dfopt lsp a session: lspmsgs IN OUT. In IN, $WORK
// is the script's folder, for file:// URIs.
func cmdLSPMsgs(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: lspmsgs IN OUT")
	}
	var out strings.Builder
	for _, line := range strings.Split(ts.ReadFile(args[0]), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.ReplaceAll(line, "$WORK", ts.Getenv("WORK"))
		fmt.Fprintf(&out, "Content-Length: %d\r\n\r\n%s", len(line), line)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(out.String()), 0o644))
}

// TestBadRuleCostsOneFile checks that a rule bug (an edit outside the
// document) costs that one input an error, and that the run goes on.
func TestBadRuleCostsOneFile(t *testing.T) {
	badEdit := &rewrite.Rule{
		Name: "bad-edit",
		Run: func(p *rewrite.Pass) {
			n := len(p.Doc.Src)
			p.Report(rewrite.Finding{Line: 1, Message: "bad", Edits: []rewrite.Edit{{Start: n + 10, End: n + 20, New: "x"}}})
		},
	}
	var stdout, stderr bytes.Buffer
	c := &cli{stdout: &stdout, stderr: &stderr, quiet: true}
	c.opts.Rules = []*rewrite.Rule{badEdit}
	c.process("bad.Dockerfile", []byte("FROM alpine\n"), false)
	c.opts.Rules = nil
	c.process("good.Dockerfile", []byte("FROM alpine\n"), false)

	if !c.failed {
		t.Errorf("failed = false after a rule bug")
	}
	if got := stderr.String(); !strings.HasPrefix(got, "bad.Dockerfile: bad-edit made an edit outside the file") || strings.Count(got, "\n") != 1 {
		t.Errorf("stderr = %q, want one line bad.Dockerfile: bad-edit made an edit outside the file …", got)
	}
	if got := stdout.String(); got != "FROM alpine\n" {
		t.Errorf("stdout = %q, want the second input unchanged", got)
	}
}

// TestFindRules checks the look-up of 'dfopt rules NAME': a name first, else
// every rule carrying the hadolint ID, in list order, so that rules that
// answer one hadolint check are all shown.
func TestFindRules(t *testing.T) {
	all := []*rewrite.Rule{
		{Name: "a", Hadolint: []string{"DL3000"}},
		{Name: "b", Hadolint: []string{"DL3001", "DL3000"}},
		{Name: "dl3001"},
	}
	for _, c := range []struct {
		name string
		want []string
	}{
		{"a", []string{"a"}},
		{"B", []string{"b"}},
		{"DL3000", []string{"a", "b"}},
		{"dl3000", []string{"a", "b"}},
		{"dl3001", []string{"dl3001"}}, // a rule's name comes first
		{"DL3002", nil},
	} {
		var got []string
		for _, r := range findRules(all, c.name) {
			got = append(got, r.Name)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("findRules(%q) = %v, want %v", c.name, got, c.want)
		}
	}
}
