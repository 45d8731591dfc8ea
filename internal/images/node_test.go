package images

import "testing"

func TestNodeRuntime(t *testing.T) {
	for base, want := range map[string]string{
		"node:20":                       "node:20-slim",
		"node":                          "node:slim",
		"node:22-bookworm":              "node:22-bookworm-slim",
		"docker.io/library/node:lts":    "node:lts-slim",
		"node:20-slim":                  "node:20-slim",
		"node:20-bookworm-slim":         "node:20-bookworm-slim",
		"node:20-alpine":                "node:20-alpine",
		"node:20-alpine3.19":            "node:20-alpine3.19",
		"node:alpine":                   "node:alpine",
		"node:20@sha256:" + sha256Zeros: "",
		"mirror.example/node:20":        "",
		"node:20-onbuild":               "",
		"debian:bookworm":               "",
	} {
		got, ok := NodeRuntime(base)
		if got != want || ok != (want != "") {
			t.Errorf("NodeRuntime(%q) = %q, %v; want %q", base, got, ok, want)
		}
	}
}

const sha256Zeros = "0000000000000000000000000000000000000000000000000000000000000000"
