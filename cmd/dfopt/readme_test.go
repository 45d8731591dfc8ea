package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
// are the commands of this repository: dfopt from dfopt's module, and
// dfopt-verify from the engine module in engine/.
func TestReadmeInstall(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	type install struct{ dir, pkg string }
	line := regexp.MustCompile(`^(?:go install (\S+)|\(cd (\S+) && go install (\S+)\))$`)
	var got []install
	for _, l := range strings.Split(string(data), "\n") {
		if m := line.FindStringSubmatch(l); m != nil && len(got) < 2 {
			if m[1] != "" {
				got = append(got, install{".", m[1]})
			} else {
				got = append(got, install{m[2], m[3]})
			}
		}
	}
	want := []install{{".", "./cmd/dfopt"}, {"engine", "./cmd/dfopt-verify"}}
	if !slices.Equal(got, want) {
		t.Fatalf("README.md: the install from a checkout installs %q, want %q", got, want)
	}
	for _, in := range got {
		cmd := exec.Command("go", "list", "-f", "{{.Name}}", in.pkg)
		cmd.Dir = filepath.Join("..", "..", in.dir)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s in %s: %v", in.pkg, in.dir, err)
		}
		if name := strings.TrimSpace(string(out)); name != "main" {
			t.Errorf("go list %s in %s: package %s, want a command", in.pkg, in.dir, name)
		}
	}
}

// TestReadmeTestCommand checks that the README's one command that runs
// every test runs go test ./... in each of dfopt's modules (a go.mod whose
// module is under github.com/dfopt/dfopt): go test ./... at the root does
// not reach a nested module.
func TestReadmeTestCommand(t *testing.T) {
	root := filepath.Join("..", "..")
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "Run every test")
	_, rest, ok2 := strings.Cut(rest, "```sh\n")
	command, _, ok3 := strings.Cut(rest, "\n```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md: no ```sh block after \"Run every test\"")
	}
	form := regexp.MustCompile(`^go test \./\.\.\.((?: && \(cd \S+ && go test \./\.\.\.\))*)$`)
	m := form.FindStringSubmatch(command)
	if m == nil {
		t.Fatalf("README.md: the test command %q is not go test ./... followed by (cd DIR && go test ./...) for each nested module", command)
	}
	tested := []string{"."}
	for _, c := range regexp.MustCompile(`\(cd (\S+) &&`).FindAllStringSubmatch(m[1], -1) {
		tested = append(tested, c[1])
	}
	var modules []string
	err = filepath.WalkDir(root, func(path string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && (e.Name() == ".git" || e.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if e.Name() != "go.mod" {
			return nil
		}
		gomod, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(string(gomod), "\n") {
			if mod, ok := strings.CutPrefix(l, "module "); ok && (mod == "github.com/dfopt/dfopt" || strings.HasPrefix(mod, "github.com/dfopt/dfopt/")) {
				dir, _ := filepath.Rel(root, filepath.Dir(path))
				modules = append(modules, filepath.ToSlash(dir))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(modules)
	slices.Sort(tested)
	if !slices.Equal(tested, modules) {
		t.Errorf("README.md: the test command runs go test ./... in %q; dfopt's modules are in %q", tested, modules)
	}
}
