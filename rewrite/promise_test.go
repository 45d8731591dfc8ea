package rewrite_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// The promises Source keeps on any input, checked by TestNoPanic and FuzzSource
// with every option set below:
//
//   - an input buildkit rejects gives a *rewrite.ParseError naming the input;
//   - an input buildkit accepts gives no error (a rule that panics, or writes a
//     Dockerfile buildkit rejects, is a dfopt bug, not the user's);
//   - the output is accepted by buildkit and is its own output; when the
//     build would take the input's instruction flags, it takes the output's;
//   - with no rules the output is the input.

// optionSet is one way the tests run Source.
type optionSet struct {
	name string
	opts rewrite.Options
}

// inputPath is the name the promise checks give their input.
const inputPath = "in"

// optionSets returns the option sets every input goes through: the default
// rules, proposals and --fmt, MergeAll and CacheMounts, and build contexts
// (empty; with manifests, a tar file, node_modules and a large file; the same
// seen through a Dockerfile-specific ignore file).
func optionSets(tb testing.TB) []optionSet {
	tb.Helper()
	all := rules.All()
	open := func(dir, dockerfile string) *rewrite.BuildContext {
		c, err := rewrite.OpenContext(dir, dockerfile)
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
	dir := contextDir(tb)
	empty := open(tb.TempDir(), "")
	rich := open(dir, "")
	ignoring := open(dir, filepath.Join(dir, "Dockerfile"))
	return []optionSet{
		{"default", rewrite.Options{Path: inputPath, Rules: all}},
		{"propose+fmt", rewrite.Options{Path: inputPath, Rules: all, Format: true, Propose: true}},
		{"propose+merge-all+cache-mounts", rewrite.Options{Path: inputPath, Rules: all, Propose: true, MergeAll: true, CacheMounts: true}},
		{"empty context", rewrite.Options{Path: inputPath, Rules: all, Propose: true, Context: empty, WriteDockerignore: true}},
		{"context", rewrite.Options{Path: inputPath, Rules: all, Propose: true, MergeAll: true, Context: rich, WriteDockerignore: true, LargeFile: 1024}},
		{"context+cache-mounts+fmt", rewrite.Options{Path: inputPath, Rules: all, Format: true, CacheMounts: true, Context: rich}},
		{"ignore-file context", rewrite.Options{Path: inputPath, Rules: all, Propose: true, Context: ignoring, WriteDockerignore: true, LargeFile: 1024}},
	}
}

// contextDir writes a small build context: dependency manifests of a few
// ecosystems, sources, a tar file, node_modules, a .git folder, an .env file,
// a file over 1 KiB and Dockerfile.dockerignore (in force only for a context
// opened for <dir>/Dockerfile).
func contextDir(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	files := map[string]string{
		"package.json":                   `{"name":"app","version":"1.0.0","scripts":{"build":"tsc"},"dependencies":{"left-pad":"1.3.0"}}`,
		"package-lock.json":              `{"name":"app","lockfileVersion":3,"packages":{}}`,
		"requirements.txt":               "flask==3.0.0\n",
		"pyproject.toml":                 "[project]\nname = \"app\"\n",
		"go.mod":                         "module example.com/app\n\ngo 1.22\n",
		"go.sum":                         "",
		"main.go":                        "package main\n\nfunc main() {}\n",
		"app.py":                         "print('hi')\n",
		"src/index.js":                   "console.log('hi')\n",
		"node_modules/left-pad/index.js": "module.exports = 1\n",
		".git/HEAD":                      "ref: refs/heads/main\n",
		".env":                           "TOKEN=secret\n",
		"data/big.csv":                   strings.Repeat("a,b,c\n", 400),
		"Dockerfile.dockerignore":        "node_modules\n*.tar\n!keep.tar\n.git\n",
	}
	for name, body := range files {
		writeFile(tb, filepath.Join(dir, filepath.FromSlash(name)), []byte(body))
	}
	writeFile(tb, filepath.Join(dir, "vendor.tar"), tarOf(tb, "lib/a.txt", "a\n"))
	return dir
}

func writeFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

func tarOf(tb testing.TB, name, body string) []byte {
	tb.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	if err := w.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))}); err != nil {
		tb.Fatal(err)
	}
	w.Write([]byte(body))
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// checkPromises runs src through every option set and returns the promises it
// breaks, one line each, naming the option set; none when it keeps them all.
func checkPromises(src []byte, sets []optionSet) []string {
	var broken []string
	add := func(set string, err error) {
		if err != nil {
			broken = append(broken, set+": "+err.Error())
		}
	}
	if !buildkitAccepts(src) {
		for _, s := range sets {
			_, err := rewrite.Source(src, s.opts)
			add(s.name, checkRejected(err, s.opts.Path, len(src) == 0))
		}
		return broken
	}
	add("no rules", checkIdentity(src))
	for _, s := range sets {
		res, err := rewrite.Source(src, s.opts)
		if err := checkAccepted(err); err != nil {
			add(s.name, err)
			continue
		}
		if err := checkOutputAccepted(res.Output); err != nil {
			add(s.name, err)
			continue
		}
		add(s.name, checkOutputBuilds(src, res.Output))
		add(s.name, checkIdempotent(res.Output, s.opts))
	}
	return broken
}

// checkRejected: for an input buildkit rejects, Source returns the
// *rewrite.ParseError itself (not an error wrapping one, as a rule's bug
// does), naming a line unless the input is empty, and its message starts
// with the input's path.
func checkRejected(err error, path string, empty bool) error {
	pe, ok := err.(*rewrite.ParseError)
	switch {
	case err == nil:
		return fmt.Errorf("buildkit rejects the input, Source returned no error")
	case !ok:
		return fmt.Errorf("buildkit rejects the input, Source returned %T, not a *rewrite.ParseError: %v", err, err)
	case pe.Line < 1 && !empty:
		return fmt.Errorf("buildkit rejects the input, the ParseError names no line: %v", err)
	case !strings.HasPrefix(err.Error(), path+":"):
		return fmt.Errorf("buildkit rejects the input, the error does not start with %q: %v", path+":", err)
	}
	return nil
}

// checkAccepted: for an input buildkit accepts, Source returns no error.
func checkAccepted(err error) error {
	if err != nil {
		return fmt.Errorf("buildkit accepts the input, Source failed: %v", err)
	}
	return nil
}

// checkOutputAccepted: buildkit accepts the output.
func checkOutputAccepted(out []byte) error {
	if !buildkitAccepts(out) {
		return fmt.Errorf("buildkit rejects the output:\n%s", out)
	}
	return nil
}

// checkOutputBuilds: when the build would take the input's instruction
// flags (--mount, --chown, ... as buildkit reads them when it builds, not
// when it parses), it takes the output's too.
func checkOutputBuilds(src, out []byte) error {
	if buildkitExpands(src) != nil {
		return nil
	}
	if err := buildkitExpands(out); err != nil {
		return fmt.Errorf("the build would reject the output: %v:\n%s", err, out)
	}
	return nil
}

// buildkitExpands runs what buildkit checks of each instruction only when it
// builds (RUN --mount fields, say), with variables left as written, and
// returns the first error. The input must be one buildkit accepts.
func buildkitExpands(src []byte) error {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return err
	}
	stages, _, err := instructions.Parse(res.AST, linter.New(&linter.Config{}))
	if err != nil {
		return err
	}
	asIs := func(word string) (string, error) { return word, nil }
	for _, st := range stages {
		for _, cmd := range st.Commands {
			if e, ok := cmd.(interface {
				Expand(instructions.SingleWordExpander) error
			}); ok {
				if err := e.Expand(asIs); err != nil {
					return fmt.Errorf("line %d: %w", cmd.Location()[0].Start.Line, err)
				}
			}
		}
	}
	return nil
}

// checkIdempotent: Source run on its output gives that output back.
func checkIdempotent(out []byte, opts rewrite.Options) error {
	again, err := rewrite.Source(out, opts)
	if err != nil {
		return fmt.Errorf("second run on the output: %v", err)
	}
	if !bytes.Equal(again.Output, out) {
		return fmt.Errorf("not idempotent:\n%s", rewrite.UnifiedDiff("out", out, again.Output))
	}
	return nil
}

// checkIdentity: with no rules the output is the input, byte for byte.
func checkIdentity(src []byte) error {
	res, err := rewrite.Source(src, rewrite.Options{Path: inputPath})
	if err != nil {
		return fmt.Errorf("no rules: %v", err)
	}
	if !bytes.Equal(res.Output, src) {
		return fmt.Errorf("no rules: the output is not the input:\n%s", rewrite.UnifiedDiff("in", src, res.Output))
	}
	return nil
}

// TestCheckPromisesCatchesBrokenRules proves the checks of TestNoPanic and
// FuzzSource can fail: each deliberately broken rule below must be flagged,
// naming the rule, and a rule that does nothing must not be.
func TestCheckPromisesCatchesBrokenRules(t *testing.T) {
	src := []byte("FROM alpine\nRUN apk add curl\n")
	firstRun := func(p *rewrite.Pass) *rewrite.Instruction {
		for _, in := range p.Doc.Instructions {
			if in.Keyword == "run" {
				return in
			}
		}
		return nil
	}
	// rewriteKeyword reports an edit replacing the first RUN's keyword with
	// text, once.
	rewriteKeyword := func(text string) func(p *rewrite.Pass) {
		return func(p *rewrite.Pass) {
			in := firstRun(p)
			if in == nil || bytes.Contains(p.Doc.Src, []byte(text)) {
				return
			}
			p.Report(rewrite.Finding{Line: in.StartLine, Message: "broken", Edits: []rewrite.Edit{
				{Start: in.Start, End: in.Start + len("RUN"), New: text},
			}})
		}
	}
	broken := map[string]func(p *rewrite.Pass){
		"panics":               func(p *rewrite.Pass) { panic("boom") },
		"writes-bogus-mount":   rewriteKeyword("RUN --mount=bogus"),
		"writes-unknown-flag":  rewriteKeyword("RUN --bogus"),
		"writes-unknown-instr": rewriteKeyword("RUNS"),
		"edits-out-of-range": func(p *rewrite.Pass) {
			p.Report(rewrite.Finding{Line: 1, Message: "broken", Edits: []rewrite.Edit{{Start: len(p.Doc.Src) + 1, End: len(p.Doc.Src) + 2}}})
		},
		"not-idempotent": func(p *rewrite.Pass) { // adds a comment on every run
			p.Report(rewrite.Finding{Line: 1, Message: "broken", Edits: []rewrite.Edit{{Start: len(p.Doc.Src), End: len(p.Doc.Src), New: "# again\n"}}})
		},
	}
	for name, run := range broken {
		t.Run(name, func(t *testing.T) {
			r := &rewrite.Rule{Name: name, Run: run}
			sets := []optionSet{{"broken", rewrite.Options{Path: inputPath, Rules: []*rewrite.Rule{r}}}}
			got := checkPromises(src, sets)
			if len(got) == 0 {
				t.Fatalf("rule %s is broken, checkPromises found nothing", name)
			}
			if quiet := name == "not-idempotent" || name == "writes-bogus-mount"; !quiet && !strings.Contains(strings.Join(got, "\n"), name) {
				t.Errorf("the problem does not name the rule %s:\n%s", name, strings.Join(got, "\n"))
			}
			t.Logf("%s", strings.Join(got, "\n"))
		})
	}
	t.Run("harmless", func(t *testing.T) {
		r := &rewrite.Rule{Name: "harmless", Run: rewriteKeyword("run")}
		sets := []optionSet{{"harmless", rewrite.Options{Path: inputPath, Rules: []*rewrite.Rule{r}}}}
		if got := checkPromises(src, sets); len(got) > 0 {
			t.Errorf("a rule that keeps the promises was flagged:\n%s", strings.Join(got, "\n"))
		}
	})
}

// TestCheckRejected proves the check for inputs buildkit rejects fails on a
// rule's error (which wraps the ParseError of its output), on no error, and
// on a ParseError naming another path or no line.
func TestCheckRejected(t *testing.T) {
	_, perr := rewrite.Source([]byte("FROM alpine\nRUN --bogus x\n"), rewrite.Options{Path: inputPath})
	pe, ok := perr.(*rewrite.ParseError)
	if !ok {
		t.Fatalf("want a *rewrite.ParseError, got %T: %v", perr, perr)
	}
	if err := checkRejected(pe, inputPath, false); err != nil {
		t.Errorf("a ParseError naming the input and a line was flagged: %v", err)
	}
	for name, err := range map[string]error{
		"no error":   nil,
		"wrapped":    fmt.Errorf("%s: rule x made a Dockerfile that buildkit rejects (a dfopt bug): %w", inputPath, pe),
		"panic":      fmt.Errorf("%s: rule x: internal error: boom", inputPath),
		"other path": &rewrite.ParseError{Path: "other", Line: 2, Err: pe.Err},
		"no line":    &rewrite.ParseError{Path: inputPath, Err: pe.Err},
	} {
		if checkRejected(err, inputPath, false) == nil {
			t.Errorf("%s: not flagged: %v", name, err)
		}
	}
}
