package main

import "testing"

// TestNotDockerfile checks which names a walk picks up but skips as
// evidently something else, and that variant names stay.
func TestNotDockerfile(t *testing.T) {
	for name, want := range map[string]string{
		"Dockerfile":              "",
		"Dockerfile.dev":          "",
		"Dockerfile.go":           "",
		"Dockerfile.old":          "",
		"api.Dockerfile":          "",
		"Containerfile.prod":      "",
		"Dockerfile.md":           ".md",
		"Dockerfile.J2":           ".J2",
		"Dockerfile.prod.tmpl":    ".tmpl",
		"Containerfile.in":        ".in",
		"Dockerfile.dockerignore": ".dockerignore",
		"Dockerfile.rej":          ".rej",
		"Dockerfile.dev~":         "a backup, ends in ~",
		"Dockerfile.yaml":         ".yaml",
	} {
		if got := notDockerfile(name); got != want {
			t.Errorf("notDockerfile(%q) = %q, want %q", name, got, want)
		}
	}
}
