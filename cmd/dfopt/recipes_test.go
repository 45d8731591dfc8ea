package main

import (
	"bytes"
	"os"
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
