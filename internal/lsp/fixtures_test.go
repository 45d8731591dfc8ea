package lsp

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// TestFixtureActions runs the code actions over every fixture of the
// rules, its folder as the build context: each finding with edits has a
// fix, which changes the text into one BuildKit accepts; each finding's
// ignore comment silences it; all safe fixes give dfopt's output.
func TestFixtureActions(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "fixtures", "*", "*.Dockerfile"))
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "fixtures", "*", "*", "Dockerfile"))
	paths = append(paths, dirs...)
	if len(paths) < 50 {
		t.Fatalf("found %d fixtures", len(paths))
	}
	s := NewServer(rewrite.Options{Rules: rules.All()}, "test")
	fixes, alone := 0, 0
	for _, path := range paths {
		if strings.Contains(path, filepath.Join("fixtures", "fmt")) {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		abs, _ := filepath.Abs(path)
		d := &document{uri: fileURI(abs), path: abs, version: 1, text: newText(string(src), false), context: openContext(abs)}
		a := s.analyze(d)
		if a.doc == nil {
			t.Errorf("%s: %+v", path, a.diags)
			continue
		}
		if all := findFixAll(s.codeActions(d, a, Range{}, []string{"source"})); string(a.result.Output) != string(src) {
			if all == nil || applyEdit(t, d.uri, d.text.src, all.Edit) != string(a.result.Output) {
				t.Errorf("%s: the fix-all does not give dfopt's output", path)
			}
		} else if all != nil {
			t.Errorf("%s: a fix-all for a file dfopt leaves alone", path)
		}
		for i, f := range a.findings {
			r := rewrite.Lookup(rules.All(), f.Rule)
			if len(f.Edits) > 0 {
				edit, _ := s.fixOne(d, r, f)
				if edit == nil && !f.Applied {
					t.Errorf("%s:%d: %s: no fix of its own, nor in the fix-all", path, f.Line, f.Rule)
				}
				switch {
				case edit == nil:
					alone++ // the rule's edit needs another rule's first
				default:
					fixes++
					if _, err := rewrite.Parse(path, []byte(applyEdit(t, d.uri, d.text.src, edit))); err != nil {
						t.Errorf("%s:%d: %s: the fix gives what BuildKit rejects: %v", path, f.Line, f.Rule, err)
					}
				}
			}
			ignored := applyEdit(t, d.uri, d.text.src, s.workspaceEdit(d, []TextEdit{ignoreEdit(d.text, a.doc, f)}))
			opts := s.options(d)
			res, err := rewrite.Source([]byte(ignored), opts)
			if err != nil {
				t.Errorf("%s:%d: %s: the ignore comment gives what BuildKit rejects: %v", path, f.Line, f.Rule, err)
				continue
			}
			// The instruction moved down a line when the comment is a line
			// of its own; no finding of the rule may be left on it.
			first, last := findingLines(a.doc, f)
			if strings.HasSuffix(ignoreEdit(d.text, a.doc, f).NewText, "\n") {
				first, last = first+1, last+1
			}
			for _, g := range res.Findings {
				if g.Rule == f.Rule && first <= g.Line && g.Line <= last {
					t.Errorf("%s:%d: %s (diagnostic %d): the ignore comment does not silence it:\n%s", path, f.Line, f.Rule, i, ignored)
				}
			}
		}
	}
	t.Logf("%d fixtures, %d findings with a fix of their own, %d only in the fix-all", len(paths), fixes, alone)
}

func findFixAll(actions []CodeAction) *CodeAction {
	for _, a := range actions {
		if a.Kind == kindFixAll {
			return &a
		}
	}
	return nil
}

// TestFixOneFallsBackToTheRule checks the fix of a finding that the rule
// alone finds on another line (apt-hygiene reports the merged RUN at line
// 2 after merge-runs, and at line 3 alone): it is the rule's fix of the
// whole file, and its title says so when that changes more than one place.
func TestFixOneFallsBackToTheRule(t *testing.T) {
	src := "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\nRUN apt-get update && apt-get install -y jq\n"
	s := NewServer(rewrite.Options{Rules: rules.All()}, "test")
	d := &document{uri: "untitled:1", version: 1, text: newText(src, false)}
	a := s.analyze(d)
	var titles []string
	for _, act := range s.codeActions(d, a, Range{Start: Position{Line: 1}, End: Position{Line: 1}}, []string{"quickfix"}) {
		titles = append(titles, act.Title)
		if act.Title == "dfopt: apply apt-hygiene to the whole file" {
			res, err := rewrite.Source([]byte(src), rewrite.Options{Rules: []*rewrite.Rule{rules.AptHygiene}})
			if err != nil {
				t.Fatal(err)
			}
			if got := applyEdit(t, d.uri, src, act.Edit); got != string(res.Output) {
				t.Errorf("the fix gives\n%s\nwant dfopt --disable=all --enable=apt-hygiene's\n%s", got, res.Output)
			}
			return
		}
	}
	t.Errorf("no whole-file apt-hygiene fix among %q", titles)
}

// TestSecurityFinding checks that secrets copied into the image are a
// warning that says "security:", while the dockerignore rule's advice,
// which the server never writes, is information with no fix of its own.
func TestSecurityFinding(t *testing.T) {
	path, _ := filepath.Abs(filepath.Join("..", "..", "fixtures", "dockerignore", "create", "Dockerfile"))
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(rewrite.Options{Rules: rules.All()}, "test")
	d := &document{uri: fileURI(path), path: path, version: 1, text: newText(string(src), false), context: openContext(path)}
	a := s.analyze(d)
	var got []string
	for _, diag := range a.diags {
		got = append(got, fmt.Sprintf("%d %s %.9s", diag.Severity, diag.Code, diag.Message))
	}
	if want := "2 node-cache npm ci ke|3 dockerignore COPY . se|2 dockerignore security:"; strings.Join(got, "|") != want {
		t.Errorf("diagnostics %q, want %q", strings.Join(got, "|"), want)
	}
	for _, act := range s.codeActions(d, a, Range{Start: Position{Line: 4}, End: Position{Line: 4}}, []string{"quickfix"}) {
		if strings.Contains(act.Title, "apply dockerignore") {
			t.Errorf("action %q: the server writes no .dockerignore", act.Title)
		}
	}
}
