package images

import "testing"

func TestPythonRuntime(t *testing.T) {
	for ref, want := range map[string]string{
		"python:3.12":                 "3.12-slim",
		"python:3.12-bookworm":        "3.12-slim-bookworm",
		"python":                      "slim",
		"python:3.12-slim":            "3.12-slim",
		"python:3.11-slim-bookworm":   "3.11-slim-bookworm",
		"python:slim":                 "slim",
		"python:3.12-alpine":          "",
		"python:3.12-slim-alpine":     "",
		"python:3.12@sha256:" + hex64: "",
		"debian:bookworm":             "",
		"example.com/python:3.12":     "",
	} {
		r, err := Parse(ref)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := PythonRuntime(r)
		if got != want || ok != (want != "") {
			t.Errorf("PythonRuntime(%s) = %q, %v, want %q", ref, got, ok, want)
		}
	}
}

func TestDebianRelease(t *testing.T) {
	for ref, want := range map[string]string{
		"debian:bookworm":             "bookworm",
		"debian:bookworm-slim":        "bookworm",
		"debian:bookworm-20240110":    "bookworm",
		"debian:12":                   "bookworm",
		"debian:12.5-slim":            "bookworm",
		"debian:11":                   "bullseye",
		"debian:stable":               "",
		"debian":                      "",
		"python:3.12-slim-bookworm":   "bookworm",
		"python:3.12-bookworm":        "bookworm",
		"python:3.12":                 "",
		"ubuntu:22.04":                "",
		"example.com/debian:bookworm": "",
	} {
		r, err := Parse(ref)
		if err != nil {
			t.Fatal(err)
		}
		if got := DebianRelease(r); got != want {
			t.Errorf("DebianRelease(%s) = %q, want %q", ref, got, want)
		}
	}
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
