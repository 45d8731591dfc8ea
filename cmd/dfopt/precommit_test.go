package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// naiveDockerfile is what the hook tests commit: dfopt merges its RUNs.
const naiveDockerfile = "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\n"

// rewritten is dfopt's output for src, from the code under test.
func rewritten(t *testing.T, src string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run([]string{"-q"}, strings.NewReader(src), &out, &errOut); code != exitOK {
		t.Fatalf("dfopt: exit %d: %s", code, errOut.String())
	}
	if out.String() == src {
		t.Fatalf("dfopt does not change\n%s", src)
	}
	return out.String()
}

// sandbox runs commands with an environment of their own: no GIT_
// variables of a git hook that may be running the tests, no user or
// system git configuration, a fixed identity for commits.
type sandbox struct {
	t   *testing.T
	env []string
}

func newSandbox(t *testing.T) *sandbox {
	gitconfig := filepath.Join(t.TempDir(), "gitconfig")
	if err := os.WriteFile(gitconfig, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") && !strings.HasPrefix(kv, "PRE_COMMIT") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"GIT_CONFIG_GLOBAL="+gitconfig, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=dfopt test", "GIT_AUTHOR_EMAIL=test@dfopt.invalid",
		"GIT_COMMITTER_NAME=dfopt test", "GIT_COMMITTER_EMAIL=test@dfopt.invalid")
	return &sandbox{t: t, env: env}
}

// setenv sets (or replaces) a variable for the commands to come.
func (s *sandbox) setenv(key, value string) {
	s.env = slices.DeleteFunc(s.env, func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
	s.env = append(s.env, key+"="+value)
}

// run runs a command in dir and returns its exit code and combined output.
func (s *sandbox) run(dir, name string, args ...string) (int, string) {
	s.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	case err != nil:
		s.t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return 0, string(out)
}

// must runs a command that must succeed and returns its output.
func (s *sandbox) must(dir, name string, args ...string) string {
	s.t.Helper()
	code, out := s.run(dir, name, args...)
	if code != 0 {
		s.t.Fatalf("%s %s: exit %d:\n%s", name, strings.Join(args, " "), code, out)
	}
	return out
}

// writeFiles writes files (slash paths to contents) under dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkFile fails the test when a file does not hold want.
func checkFile(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s holds\n%s\nwant\n%s", path, got, want)
	}
}

// TestPreCommitHooks runs the hooks of .pre-commit-hooks.yaml as pre-commit
// runs them for a project that lists this repository: pre-commit clones it at
// a commit, builds it with its golang language (go install ./...) and runs
// each hook on the files it chooses. The commit is a snapshot of the working
// tree as it is (changes and new files included), so that the test checks
// the hooks file and the code beside it, on CI's clean clone and locally.
// It needs Debian's pre-commit package (or pip's); DFOPT_PRE_COMMIT=1 makes
// its absence a failure, as in .ci/run.
func TestPreCommitHooks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dfopt with pre-commit: not with -short")
	}
	for _, tool := range []string{"pre-commit", "git", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("DFOPT_PRE_COMMIT") == "1" {
				t.Fatalf("DFOPT_PRE_COMMIT=1 but %s is not installed", tool)
			}
			t.Skipf("%s is not installed (apt-get install pre-commit, or pip install pre-commit): the hooks of .pre-commit-hooks.yaml are not run", tool)
		}
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	sb := newSandbox(t)
	tmp := t.TempDir()
	sb.setenv("PRE_COMMIT_HOME", filepath.Join(tmp, "pre-commit-home"))
	// pre-commit sets GOPATH to its environment's folder, so that go would
	// download every module again into it: the test lends it the module
	// cache of this build instead. What a first install costs is in the
	// README.
	sb.setenv("GOMODCACHE", strings.TrimSpace(sb.must(root, "go", "env", "GOMODCACHE")))
	// The test binary serves dfopt on PATH (TestMain): leave it out, so
	// that the hooks can only run the dfopt pre-commit built.
	if dfopt, err := exec.LookPath("dfopt"); err == nil {
		dir := filepath.Dir(dfopt)
		for i, kv := range sb.env {
			if path, ok := strings.CutPrefix(kv, "PATH="); ok {
				parts := strings.Split(path, string(os.PathListSeparator))
				parts = slices.DeleteFunc(parts, func(p string) bool { return p == dir })
				sb.env[i] = "PATH=" + strings.Join(parts, string(os.PathListSeparator))
			}
		}
	}

	// The snapshot: this working tree committed in a repository of its own,
	// through a separate git directory, so that the checkout is not touched.
	snapshot := filepath.Join(tmp, "dfopt")
	sb.must(tmp, "git", "init", "-q", snapshot)
	gitDir := "--git-dir=" + filepath.Join(snapshot, ".git")
	sb.must(root, "git", gitDir, "--work-tree="+root, "add", "-A")
	sb.must(root, "git", gitDir, "commit", "-q", "--no-verify", "-m", "snapshot of the working tree")
	rev := strings.TrimSpace(sb.must(root, "git", gitDir, "rev-parse", "HEAD"))

	fixed := rewritten(t, naiveDockerfile)
	project := filepath.Join(tmp, "project")
	sb.must(tmp, "git", "init", "-q", project)
	config := func(ids ...string) string {
		s := "repos:\n  - repo: " + snapshot + "\n    rev: " + rev + "\n    hooks:\n"
		for _, id := range ids {
			s += "      - id: " + id + "\n"
		}
		return s
	}
	// Dockerfile.md and README.txt would fail the check if they reached
	// dfopt (one would change, the other does not parse); so would the
	// vendored Dockerfile, which no walk reads either.
	writeFiles(t, project, map[string]string{
		".pre-commit-config.yaml": config("dfopt", "dfopt-fix"),
		"Dockerfile":              naiveDockerfile,
		"clean/Dockerfile":        fixed,
		"Dockerfile.md":           naiveDockerfile,
		"README.txt":              "Build the Dockerfile.\n",
		"vendor/lib/Dockerfile":   naiveDockerfile,
	})
	sb.must(project, "git", "add", "-A")
	others := []string{"README.txt", "Dockerfile.md", "vendor/lib/Dockerfile"}

	// The check fails on the naive Dockerfile, prints the diff and names
	// no other file.
	code, out := sb.run(project, "pre-commit", append([]string{"run", "dfopt", "--files", "Dockerfile"}, others...)...)
	if code != 1 || !strings.Contains(out, "--- a/Dockerfile\n+++ b/Dockerfile\n") || !strings.Contains(out, "+RUN apt-get update \\\n") {
		t.Fatalf("pre-commit run dfopt on a naive Dockerfile: exit %d, want 1 and the diff:\n%s", code, out)
	}
	for _, name := range others {
		if strings.Contains(out, name) {
			t.Errorf("pre-commit run dfopt passed %s to dfopt:\n%s", name, out)
		}
	}
	checkFile(t, filepath.Join(project, "Dockerfile"), naiveDockerfile)

	// A clean Dockerfile passes.
	code, out = sb.run(project, "pre-commit", append([]string{"run", "dfopt", "--files", "clean/Dockerfile"}, others...)...)
	if code != 0 {
		t.Fatalf("pre-commit run dfopt on a clean Dockerfile: exit %d, want 0:\n%s", code, out)
	}

	// The fix hook rewrites the Dockerfile, and nothing else; pre-commit
	// fails it because it changed a file.
	code, out = sb.run(project, "pre-commit", append([]string{"run", "dfopt-fix", "--files", "Dockerfile"}, others...)...)
	if code != 1 || !strings.Contains(out, "files were modified by this hook") {
		t.Fatalf("pre-commit run dfopt-fix: exit %d, want 1 with files modified:\n%s", code, out)
	}
	checkFile(t, filepath.Join(project, "Dockerfile"), fixed)
	for _, name := range others {
		checkFile(t, filepath.Join(project, filepath.FromSlash(name)), map[bool]string{true: "Build the Dockerfile.\n", false: naiveDockerfile}[name == "README.txt"])
	}
	code, out = sb.run(project, "pre-commit", "run", "dfopt", "--files", "Dockerfile")
	if code != 0 {
		t.Fatalf("pre-commit run dfopt after dfopt-fix: exit %d, want 0:\n%s", code, out)
	}

	// As a git hook: pre-commit install, then a commit of a naive
	// Dockerfile is refused with the diff, and the fixed one goes in.
	writeFiles(t, project, map[string]string{".pre-commit-config.yaml": config("dfopt")})
	sb.must(project, "git", "add", "-A")
	sb.must(project, "git", "commit", "-q", "--no-verify", "-m", "the project")
	sb.must(project, "pre-commit", "install")
	writeFiles(t, project, map[string]string{"app/Dockerfile": naiveDockerfile, "NOTES.txt": "notes\n"})
	sb.must(project, "git", "add", "app/Dockerfile", "NOTES.txt")
	code, out = sb.run(project, "git", "commit", "-m", "app")
	if code == 0 || !strings.Contains(out, "--- a/app/Dockerfile\n") || strings.Contains(out, "NOTES.txt") {
		t.Fatalf("git commit of a naive Dockerfile: exit %d, want a failure with the diff of app/Dockerfile alone:\n%s", code, out)
	}
	writeFiles(t, project, map[string]string{"app/Dockerfile": fixed})
	sb.must(project, "git", "add", "app/Dockerfile")
	sb.must(project, "git", "commit", "-q", "-m", "app")
}
