package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// TestParse checks that every key is read into the settings it names.
func TestParse(t *testing.T) {
	src := `# dfopt's settings for this repository
enable: [maintainer-to-label]
disable: add-to-copy, DL3059
propose: true
merge: small
cache-mounts: false
dockerignore: yes-is-not-a-boolean-so-not-here
`
	// A wrong type is an error; the rest of the keys are read in full below.
	if _, err := Parse(".dfopt.yaml", ".", []byte(src)); err == nil || err.Error() != `.dfopt.yaml:7: dockerignore: want true or false, not "yes-is-not-a-boolean-so-not-here"` {
		t.Errorf("dockerignore: yes-… gave %v", err)
	}
	src = strings.Replace(src, "yes-is-not-a-boolean-so-not-here", "true", 1) + `large-file: 512k
fail-on: [proposal, security]
exclude:
  - "**/*.tmpl"
  - /legacy
  - "!legacy/keep"
overrides:
  - files: ["ci/**", "*.dev.Dockerfile"]
    propose: false
    merge: none
  - files: ci/fast
    disable: [all]
    large-file: 1048576
`
	f, err := Parse(".dfopt.yaml", "/repo", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, got, want any) {
		t.Helper()
		if !equal(got, want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("Enable", f.Enable, []string{"maintainer-to-label"})
	check("Disable", f.Disable, []string{"add-to-copy", "DL3059"})
	check("Propose", *f.Propose, true)
	check("Merge", *f.Merge, "small")
	check("CacheMounts", *f.CacheMounts, false)
	check("Dockerignore", *f.Dockerignore, true)
	check("LargeFile", *f.LargeFile, int64(512<<10))
	check("FailOn", f.FailOn, []string{"proposal", "security"})
	check("Exclude", f.Exclude, []string{"**/*.tmpl", "legacy", "!legacy/keep"})
	check("len(Overrides)", len(f.Overrides), 2)
	o := f.Overrides[0]
	check("override 0 Files", o.Files, []string{"ci/**", "*.dev.Dockerfile"})
	check("override 0 Line", o.Line, 15)
	check("override 0 Propose", *o.Propose, false)
	check("override 0 Merge", *o.Merge, "none")
	check("override 0 Enable", o.Enable, []string(nil))
	o = f.Overrides[1]
	check("override 1 Files", o.Files, []string{"ci/fast"})
	check("override 1 Disable", o.Disable, []string{"all"})
	check("override 1 LargeFile", *o.LargeFile, int64(1048576))
}

func equal(a, b any) bool {
	if as, ok := a.([]string); ok {
		bs, ok := b.([]string)
		return ok && slices.Equal(as, bs) && (as == nil) == (bs == nil)
	}
	return a == b
}

// TestParseEmpty checks that a file with no settings sets nothing.
func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n", "~\n", "---\n"} {
		f, err := Parse(".dfopt.yaml", ".", []byte(src))
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if f.Enable != nil || f.Propose != nil || f.FailOn != nil || f.Exclude != nil || f.Overrides != nil {
			t.Errorf("%q set something: %+v", src, f)
		}
	}
}

// TestParseErrors checks that each mistake names the file and its line.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"enable: [merge-runs]\n\nenabel: [add-to-copy]\n", `:3: unknown key "enabel"`},
		{"disable:\n  - merge-runs\n  - merge-run\n", `:3: disable: unknown rule "merge-run" (see 'dfopt rules')`},
		{"enable: merge-runs,nope\n", `:1: enable: unknown rule "nope" (see 'dfopt rules')`},
		{"enable: {a: b}\n", `:1: enable: want a list of strings, not a mapping`},
		{"enable: [1]\n", `:1: enable: want a string, not a number`},
		{"propose: yes\n", `:1: propose: want true or false, not "yes"`},
		{"propose: [true]\n", `:1: propose: want true or false, not a list`},
		{"merge: some\n", `:1: merge: unknown value "some": use small, all or none`},
		{"merge: [all]\n", `:1: merge: want small, all or none, not a list`},
		{"large-file: 10 parsecs\n", `:1: large-file: `},
		{"fail-on: [proposals]\n", `:1: fail-on: unknown value "proposals": use report, proposal, security`},
		{"exclude: ['[']\n", `:1: exclude: bad pattern "[": syntax error in pattern`},
		{"exclude: ['!']\n", `:1: exclude: empty pattern`},
		{"exclude:\n  - *.tmpl\n", `.dfopt.yaml:2: did not find expected alphabetic or numeric character (a pattern that starts with "*" must be quoted: "*.tmpl")`},
		{"propose: true\npropose: false\n", `:2: key "propose" given twice (first at line 1)`},
		{"- enable\n", `:1: a configuration is a mapping of settings (enable: [...], exclude: [...], ...), not a list`},
		{"enable: [a\n", `.dfopt.yaml:1: did not find expected ',' or ']'`},
		{"overrides:\n  files: [x]\n", `:2: overrides: want a list of entries (- files: [...]), not a mapping`},
		{"overrides:\n  - propose: true\n", `:2: overrides: an entry needs files: the patterns of the paths it applies to`},
		{"overrides:\n  - files: [x]\n    exclude: [y]\n", `:3: exclude is not allowed in overrides: give it at the top level`},
		{"overrides:\n  - files: [x]\n    fail-on: [report]\n", `:3: fail-on is not allowed in overrides: give it at the top level`},
		{"overrides:\n  - files: [x]\n    propse: true\n", `:3: unknown key "propse"`},
		{"propose: true\n---\npropose: false\n", `:2: more than one YAML document`},
	} {
		_, err := Parse(".dfopt.yaml", ".", []byte(tc.src))
		if err == nil || !strings.HasPrefix(err.Error(), ".dfopt.yaml:") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want .dfopt.yaml…%s", tc.src, err, tc.want)
		}
	}
}

// TestLayersAndExclude checks which overrides apply to a path and what
// exclude names, relative to the file's folder.
func TestLayersAndExclude(t *testing.T) {
	src := `exclude: ["**/*.j2", "legacy", "docs/**", "!docs/keep"]
overrides:
  - files: ["ci/**"]
    propose: true
  - files: ["**/Dockerfile.dev"]
    merge: all
`
	dir := t.TempDir()
	f, err := Parse(".dfopt.yaml", dir, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path     string
		excluded bool
		layers   int
	}{
		{"Dockerfile", false, 1},
		{"Dockerfile.j2", true, 1},
		{"a/b/Dockerfile.j2", true, 1},
		{"legacy", true, 1},
		{"legacy/Dockerfile", true, 1},
		{"docs/Dockerfile", true, 1},
		{"docs/keep", false, 1},
		{"ci/Dockerfile", false, 2},
		{"ci/Dockerfile.dev", false, 3},
		{"Dockerfile.dev", false, 2},
		{"../elsewhere/Dockerfile.j2", false, 1},
	} {
		p := filepath.Join(dir, tc.path)
		if got := f.Excluded(p); got != tc.excluded {
			t.Errorf("Excluded(%s) = %v, want %v", tc.path, got, tc.excluded)
		}
		if got := len(f.Layers(p)); got != tc.layers {
			t.Errorf("Layers(%s) has %d layers, want %d", tc.path, got, tc.layers)
		}
	}
	if len(f.Layers("")) != 1 {
		t.Errorf("standard input got overrides")
	}
	for _, tc := range []struct {
		exclude, dir string
		prunes       bool
	}{
		{`["docs/**", "!docs/keep"]`, "docs", false}, // docs/keep comes back
		{`["legacy", "!docs/keep"]`, "legacy", true},
		{`["legacy"]`, "other", false},
		{`["**/gen", "!**/gen/keep"]`, "a/gen", false}, // any folder may hold one
		{`["a", "!a*/x"]`, "a", false},
		{`["a", "!b*/x"]`, "a", true},
	} {
		g, err := Parse(".dfopt.yaml", dir, []byte("exclude: "+tc.exclude+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Prunes(filepath.Join(dir, tc.dir)); got != tc.prunes {
			t.Errorf("exclude %s: Prunes(%s) = %v, want %v", tc.exclude, tc.dir, got, tc.prunes)
		}
	}
}

// TestApply checks that layers apply in order, the later winning for what
// it sets, and that rules are switched on top of the earlier layers.
func TestApply(t *testing.T) {
	yes, no := true, false
	small, none := "small", "none"
	size := int64(42)
	opts := rewrite.Options{Rules: rules.All(), Propose: true}
	err := Apply(&opts, rules.All(),
		Settings{Disable: []string{"all"}, Enable: []string{"merge-runs", "add-to-copy"}, Merge: &small, CacheMounts: &yes},
		Settings{Disable: []string{"DL3020"}, LargeFile: &size},
		Settings{Enable: []string{"maintainer-to-label"}, Propose: &no, Merge: &none},
		Settings{},
	)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range opts.Rules {
		names = append(names, r.Name)
	}
	if got := strings.Join(names, " "); got != "merge-runs maintainer-to-label" {
		t.Errorf("rules = %s, want merge-runs maintainer-to-label", got)
	}
	if opts.Propose || opts.MergeSmall || opts.MergeAll || !opts.CacheMounts || opts.LargeFile != 42 || opts.WriteDockerignore {
		t.Errorf("options = %+v", opts)
	}
}

// TestFinder checks that the nearest file wins, that the search stops at a
// repository's root, and that both names in one folder are an error.
func TestFinder(t *testing.T) {
	root := t.TempDir()
	write := func(path, content string) {
		t.Helper()
		path = filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".dfopt.yaml", "propose: true\n")           // above the repository: never read
	write("repo/.git/HEAD", "ref: refs/heads/main\n") // the repository's root
	write("repo/.dfopt.yml", "merge: small\n")        // the repository's file
	write("repo/svc/deep/Dockerfile", "FROM a\n")     // finds repo/.dfopt.yml
	write("repo/web/.dfopt.yaml", "merge: all\n")     // the nearest for web/
	write("repo/web/sub/Dockerfile", "FROM a\n")      // finds repo/web/.dfopt.yaml
	write("plain/.git", "gitdir: ../elsewhere\n")     // a worktree's root, with no file of its own
	write("plain/x/Dockerfile", "FROM a\n")           // finds none: the search stops at plain/
	write("bare/Dockerfile", "FROM a\n")              // no repository: finds the top file
	write("both/.dfopt.yaml", "")                     // two files in one folder
	write("both/.dfopt.yml", "")                      //
	write("broken/.dfopt.yaml", "enable: [nope]\n")   // a mistake
	fd := NewFinder()
	for _, tc := range []struct{ dir, want string }{
		{"repo/svc/deep", "merge small"},
		{"repo/svc", "merge small"},
		{"repo", "merge small"},
		{"repo/web/sub", "merge all"},
		{"repo/web", "merge all"},
		{"plain/x", "none"},
		{"bare", "propose"},
	} {
		f, err := fd.Find(filepath.Join(root, tc.dir))
		got := "none"
		switch {
		case err != nil:
			got = err.Error()
		case f != nil && f.Merge != nil:
			got = "merge " + *f.Merge
		case f != nil && f.Propose != nil:
			got = "propose"
		}
		if got != tc.want {
			t.Errorf("Find(%s) = %s, want %s", tc.dir, got, tc.want)
		}
	}
	if _, err := fd.Find(filepath.Join(root, "both")); err == nil || !strings.HasSuffix(err.Error(), "both/.dfopt.yaml: .dfopt.yml is there too: keep one of them") {
		t.Errorf("Find(both) = %v", err)
	}
	if _, err := fd.Find(filepath.Join(root, "broken")); err == nil || !strings.HasSuffix(err.Error(), `broken/.dfopt.yaml:1: enable: unknown rule "nope" (see 'dfopt rules')`) {
		t.Errorf("Find(broken) = %v", err)
	}
}
