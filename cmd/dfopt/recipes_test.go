package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// readmeRecipe returns the YAML block that follows <!-- recipe:NAME --> in
// the README.
func readmeRecipe(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.ReplaceAll(string(data), "\r\n", "\n")
	marker := "<!-- recipe:" + name + " -->\n```yaml\n"
	_, rest, ok := strings.Cut(readme, marker)
	block, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatalf("README.md has no %q followed by a YAML block", strings.TrimSpace(marker))
	}
	return []byte(block)
}

// decodeStrict decodes YAML into v, failing on keys v does not know: a
// misspelt key in a recipe is a key its CI silently ignores.
func decodeStrict(t *testing.T, name string, data []byte, v any) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("README.md, recipe %s: %v", name, err)
	}
}

// moduleInfo returns the module path and the Go version (1.26) of go.mod.
func moduleInfo(t *testing.T) (path, goMinor string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^module (\S+)$`).FindSubmatch(data)
	g := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(data)
	if m == nil || g == nil {
		t.Fatal("go.mod: no module or go line")
	}
	return string(m[1]), string(g[1])
}

// TestReadmePreCommitRecipe checks the README's .pre-commit-config.yaml:
// it names this repository and hooks that .pre-commit-hooks.yaml has.
// TestPreCommitHooks runs them.
func TestReadmePreCommitRecipe(t *testing.T) {
	var cfg struct {
		Repos []struct {
			Repo  string `yaml:"repo"`
			Rev   string `yaml:"rev"`
			Hooks []struct {
				ID string `yaml:"id"`
			} `yaml:"hooks"`
		} `yaml:"repos"`
	}
	decodeStrict(t, "pre-commit", readmeRecipe(t, "pre-commit"), &cfg)
	module, _ := moduleInfo(t)
	if len(cfg.Repos) != 1 || cfg.Repos[0].Repo != "https://"+module || cfg.Repos[0].Rev == "" || len(cfg.Repos[0].Hooks) == 0 {
		t.Fatalf("README.md, recipe pre-commit: want one repo, https://%s, with a rev and hooks: %+v", module, cfg)
	}
	var ids []string
	for _, h := range readPreCommitHooks(t) {
		ids = append(ids, h.ID)
	}
	for _, h := range cfg.Repos[0].Hooks {
		if !slices.Contains(ids, h.ID) {
			t.Errorf("README.md, recipe pre-commit: no hook %q in .pre-commit-hooks.yaml", h.ID)
		}
	}
}

// recipeTrees are the folders the CI recipes' commands run in: one with a
// Dockerfile dfopt changes, one where dfopt has nothing to change. Both
// hold a README.txt, which a walk does not read.
func recipeTrees(t *testing.T) (naive, clean string) {
	naive, clean = t.TempDir(), t.TempDir()
	writeFiles(t, naive, map[string]string{"Dockerfile": naiveDockerfile, "README.txt": "not a Dockerfile\n"})
	writeFiles(t, clean, map[string]string{"Dockerfile": rewritten(t, naiveDockerfile), "README.txt": "not a Dockerfile\n"})
	return naive, clean
}

// runLine runs a recipe's command line in dir with bash -e, as GitHub
// Actions and GitLab CI do, and dfopt on PATH (TestMain puts it there). It
// returns the exit code and the combined output.
func runLine(t *testing.T, dir, line string) (int, string) {
	t.Helper()
	shell := "bash"
	if _, err := exec.LookPath(shell); err != nil {
		shell = "sh"
	}
	cmd := exec.Command(shell, "-e", "-c", line)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return 0, string(out)
}

// checkSARIF fails the test unless path holds a SARIF 2.1.0 log, with
// results if withResults. internal/report's tests check the log against
// the schema.
func checkSARIF(t *testing.T, path string, withResults bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the SARIF log was not written: %v", err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []json.RawMessage `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &log); err != nil || log.Version != "2.1.0" || len(log.Runs) != 1 || withResults && len(log.Runs[0].Results) == 0 {
		t.Fatalf("%s is no SARIF 2.1.0 log (with results: %v; %v):\n%.500s", path, withResults, err, data)
	}
}

// installLine is how the CI recipes install dfopt.
func installLine(t *testing.T) string {
	module, _ := moduleInfo(t)
	return "go install " + module + "/cmd/dfopt@latest"
}

// TestReadmeGitHubActions checks the README's workflow: its structure (each
// job checks out, sets up Go and installs dfopt; the SARIF upload has the
// permission it needs and uploads the file dfopt wrote), and what its dfopt
// steps do, run as the runner runs them: on a Dockerfile dfopt changes the
// jobs fail with the diff and annotations, the SARIF log is written
// nevertheless and the upload still runs; where nothing changes they pass.
func TestReadmeGitHubActions(t *testing.T) {
	type step struct {
		Name string         `yaml:"name"`
		Uses string         `yaml:"uses"`
		Run  string         `yaml:"run"`
		If   string         `yaml:"if"`
		With map[string]any `yaml:"with"`
	}
	var wf struct {
		Name string `yaml:"name"`
		On   any    `yaml:"on"`
		Jobs map[string]struct {
			RunsOn      string            `yaml:"runs-on"`
			Permissions map[string]string `yaml:"permissions"`
			Steps       []step            `yaml:"steps"`
		} `yaml:"jobs"`
	}
	decodeStrict(t, "github-actions", readmeRecipe(t, "github-actions"), &wf)
	if wf.On == nil || len(wf.Jobs) == 0 {
		t.Fatalf("README.md, recipe github-actions: no on: or no jobs")
	}
	naive, clean := recipeTrees(t)
	uploads := map[string]int{} // SARIF logs uploaded, by tree
	for name, job := range wf.Jobs {
		where := "README.md, recipe github-actions, job " + name
		if job.RunsOn == "" || len(job.Steps) < 4 || !strings.HasPrefix(job.Steps[0].Uses, "actions/checkout@") ||
			!strings.HasPrefix(job.Steps[1].Uses, "actions/setup-go@") || job.Steps[2].Run != installLine(t) {
			t.Errorf("%s: want runs-on, then steps actions/checkout, actions/setup-go, %s", where, installLine(t))
			continue
		}
		for _, tree := range []string{naive, clean} {
			failed := false // a step failed: later steps run only with if: always()
			var out strings.Builder
			for _, st := range job.Steps[3:] {
				if failed && !strings.Contains(st.If, "always()") {
					continue
				}
				switch {
				case strings.HasPrefix(st.Run, "dfopt "):
					code, o := runLine(t, tree, st.Run)
					out.WriteString(o)
					failed = failed || code != 0
				case strings.HasPrefix(st.Uses, "github/codeql-action/upload-sarif@"):
					uploads[tree]++
					file, _ := st.With["sarif_file"].(string)
					if job.Permissions["security-events"] != "write" {
						t.Errorf("%s: upload-sarif needs permissions: security-events: write", where)
					}
					if file == "" {
						t.Fatalf("%s: upload-sarif has no sarif_file", where)
					}
					checkSARIF(t, filepath.Join(tree, file), tree == naive)
				default:
					t.Errorf("%s: a step this test does not know: %+v", where, st)
				}
			}
			switch {
			case tree == clean && failed:
				t.Errorf("%s: fails where dfopt changes nothing:\n%s", where, out.String())
			case tree == naive && !failed:
				t.Errorf("%s: passes on a Dockerfile dfopt changes:\n%s", where, out.String())
			}
			if tree == naive && strings.Contains(out.String(), "README.txt") {
				t.Errorf("%s: dfopt read README.txt:\n%s", where, out.String())
			}
			if tree == naive && name == "dfopt" && (!strings.Contains(out.String(), "--- a/Dockerfile\n") ||
				!strings.Contains(out.String(), "::warning file=Dockerfile,line=2,")) {
				t.Errorf("%s: want the diff and annotations:\n%s", where, out.String())
			}
		}
	}
	if uploads[naive] == 0 || uploads[clean] == 0 {
		t.Errorf("README.md, recipe github-actions: no SARIF upload runs where dfopt changes a Dockerfile (%d) or where it changes nothing (%d)",
			uploads[naive], uploads[clean])
	}
}

// TestReadmeGitLabCI checks the README's .gitlab-ci.yml as
// TestReadmeGitHubActions does the workflow: its job's image has the Go of
// go.mod, its script installs dfopt, then fails on a Dockerfile dfopt
// changes with the diff and passes where nothing changes; the artifact it
// keeps is written, also when the job fails.
func TestReadmeGitLabCI(t *testing.T) {
	var ci map[string]struct {
		Image     string   `yaml:"image"`
		Script    []string `yaml:"script"`
		Artifacts struct {
			When  string   `yaml:"when"`
			Paths []string `yaml:"paths"`
		} `yaml:"artifacts"`
	}
	decodeStrict(t, "gitlab-ci", readmeRecipe(t, "gitlab-ci"), &ci)
	job, ok := ci["dfopt"]
	_, goMinor := moduleInfo(t)
	if !ok || len(ci) != 1 || job.Image != "golang:"+goMinor || len(job.Script) < 2 || job.Script[0] != installLine(t) {
		t.Fatalf("README.md, recipe gitlab-ci: want one job, dfopt, with image golang:%s and a script that starts with %s", goMinor, installLine(t))
	}
	naive, clean := recipeTrees(t)
	for _, tree := range []string{naive, clean} {
		failed := false
		var out strings.Builder
		for _, line := range job.Script[1:] {
			code, o := runLine(t, tree, line)
			out.WriteString(o)
			if code != 0 {
				failed = true // GitLab stops the script at the first failing line
				break
			}
		}
		switch {
		case tree == clean && failed:
			t.Errorf("README.md, recipe gitlab-ci: fails where dfopt changes nothing:\n%s", out.String())
		case tree == naive && (!failed || !strings.Contains(out.String(), "--- a/Dockerfile\n")):
			t.Errorf("README.md, recipe gitlab-ci: want a failure with the diff on a Dockerfile dfopt changes:\n%s", out.String())
		}
		if failed && job.Artifacts.When != "always" {
			t.Errorf("README.md, recipe gitlab-ci: the job fails, so artifacts need when: always")
		}
		for _, p := range job.Artifacts.Paths {
			if strings.HasSuffix(p, ".sarif") {
				checkSARIF(t, filepath.Join(tree, p), tree == naive)
			} else if _, err := os.Stat(filepath.Join(tree, p)); err != nil {
				t.Errorf("README.md, recipe gitlab-ci: the artifact %s is not written: %v", p, err)
			}
		}
	}
}
