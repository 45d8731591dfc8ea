package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	rulesStart = "<!-- rules:start -->\n"
	rulesEnd   = "<!-- rules:end -->\n"
)

// TestReadmeRules keeps the README's rule list from drifting: the lines
// between the rules markers must be the output of "dfopt rules" in a text
// fence. With -update it rewrites them.
func TestReadmeRules(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"rules"}, nil, &out, &errOut); code != exitOK {
		t.Fatalf("dfopt rules: exit %d: %s", code, errOut.String())
	}
	want := "```text\n" + out.String() + "```\n"

	path := filepath.Join("..", "..", "README.md")
	data, err := os.ReadFile(path)
	readme := strings.ReplaceAll(string(data), "\r\n", "\n")
	_, rest, ok := strings.Cut(readme, rulesStart)
	got, _, ok2 := strings.Cut(rest, rulesEnd)
	if err != nil || !ok || !ok2 {
		t.Fatalf("%s has no rule list; put this between lines %q and %q:\n\n%s%s%s",
			path, strings.TrimSpace(rulesStart), strings.TrimSpace(rulesEnd), rulesStart, want, rulesEnd)
	}
	if got != want && *update {
		before, _, _ := strings.Cut(readme, rulesStart)
		fixed := before + rulesStart + want + rulesEnd + strings.SplitN(rest, rulesEnd, 2)[1]
		if err := os.WriteFile(path, []byte(fixed), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want {
		t.Errorf("%s: the rule list differs from 'dfopt rules'; it should read:\n\n%s%s%s",
			path, rulesStart, want, rulesEnd)
	}
}

const (
	exampleStart = "<!-- example:start -->\n"
	exampleEnd   = "<!-- example:end -->\n"
)

// TestReadmeExample runs the README's first example as a reader would, from
// the top of the checkout, and checks that the diff the README shows is what
// dfopt prints, and that the findings its prose names are there. With -update
// it rewrites the diff.
func TestReadmeExample(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.ReplaceAll(string(data), "\r\n", "\n")
	before, rest, ok := strings.Cut(readme, exampleStart)
	example, after, ok2 := strings.Cut(rest, exampleEnd)
	if !ok || !ok2 {
		t.Fatalf("%s has no example between %q and %q", path, strings.TrimSpace(exampleStart), strings.TrimSpace(exampleEnd))
	}
	cmdBlock, diffPart, ok := strings.Cut(strings.TrimPrefix(example, "```sh\n"), "```\n\n```diff\n")
	shown, ok2 := strings.CutSuffix(diffPart, "```\n")
	if !strings.HasPrefix(example, "```sh\n") || !ok || !ok2 || strings.Count(cmdBlock, "\n") != 1 {
		t.Fatalf("%s: the example should be a ```sh block of one command, then a ```diff block:\n%s", path, example)
	}
	args := strings.Fields(cmdBlock)
	if args[0] != "dfopt" {
		t.Fatalf("%s: the example runs %q, not dfopt", path, args[0])
	}

	t.Chdir(filepath.Join("..", ".."))
	var out, errOut bytes.Buffer
	if code := run(args[1:], nil, &out, &errOut); code != exitChanged {
		t.Fatalf("%s: exit %d, want %d (changes found): %s", cmdBlock, code, exitChanged, errOut.String())
	}
	for _, want := range []string{"merge-runs:", "copy-manifests-first:", "node-cache:", "apt-no-install-recommends:", "slim-base:", "about 880 MB"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("%s: the README says dfopt reports %q, which it does not:\n%s", cmdBlock, want, errOut.String())
		}
	}
	if out.String() == shown {
		return
	}
	if *update {
		fixed := before + exampleStart + "```sh\n" + cmdBlock + "```\n\n```diff\n" + out.String() + "```\n" + exampleEnd + after
		if err := os.WriteFile("README.md", []byte(fixed), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md: the example's diff is not what %s prints (go test ./cmd/dfopt -run ReadmeExample -update); it prints:\n%s", strings.TrimSpace(cmdBlock), out.String())
}

// TestReadmeInstall checks that what the README installs from a checkout
// are the commands of this module.
func TestReadmeInstall(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "go install ./"); ok {
			pkgs = strings.Fields("./" + rest)
			break
		}
	}
	if !slices.Equal(pkgs, []string{"./cmd/dfopt", "./cmd/dfopt-verify"}) {
		t.Fatalf("README.md: the install from a checkout installs %q, want ./cmd/dfopt and ./cmd/dfopt-verify", pkgs)
	}
	cmd := exec.Command("go", append([]string{"list", "-f", "{{.Name}}"}, pkgs...)...)
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	if got := strings.Fields(string(out)); !slices.Equal(got, []string{"main", "main"}) {
		t.Errorf("go list %v: %q, want two commands", pkgs, got)
	}
}
