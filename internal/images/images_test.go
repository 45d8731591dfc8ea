package images

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in                        string
		domain, path, tag, digest string
		official                  string
		bad                       bool
	}{
		{in: "python", domain: "docker.io", path: "library/python", official: "python"},
		{in: "python:3.12", domain: "docker.io", path: "library/python", tag: "3.12", official: "python"},
		{in: "library/node:22-slim", domain: "docker.io", path: "library/node", tag: "22-slim", official: "node"},
		{in: "docker.io/library/ruby:3.3", domain: "docker.io", path: "library/ruby", tag: "3.3", official: "ruby"},
		{in: "index.docker.io/library/perl", domain: "docker.io", path: "library/perl", official: "perl"},
		{in: "registry.docker.com/library/ruby:3.3", domain: "docker.io", path: "library/ruby", tag: "3.3", official: "ruby"},
		{in: "Docker.IO/library/python:3", domain: "docker.io", path: "library/python", tag: "3", official: "python"},
		{in: "bitnami/python:3.12", domain: "docker.io", path: "bitnami/python", tag: "3.12"},
		{in: "ghcr.io/library/python:3.12", domain: "ghcr.io", path: "library/python", tag: "3.12"},
		{in: "localhost:5000/python:3.12", domain: "localhost:5000", path: "python", tag: "3.12"},
		{in: "localhost/python", domain: "localhost", path: "python"},
		{in: "python:3.12@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", domain: "docker.io",
			path: "library/python", tag: "3.12", digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", official: "python"},
		{in: "Python:3.12", bad: true},
		{in: "python:${V}", bad: true},
		{in: "python:3.12@sha256:xyz", bad: true},
		{in: "python:-x", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		r, err := Parse(tt.in)
		if (err != nil) != tt.bad {
			t.Errorf("Parse(%q) error = %v, want error %v", tt.in, err, tt.bad)
			continue
		}
		if tt.bad {
			continue
		}
		if r.Domain != tt.domain || r.Path != tt.path || r.Tag != tt.tag || r.Digest != tt.digest {
			t.Errorf("Parse(%q) = %+v", tt.in, r)
		}
		if got := r.Official(); got != tt.official {
			t.Errorf("Parse(%q).Official() = %q, want %q", tt.in, got, tt.official)
		}
	}
}

func TestSmallerOf(t *testing.T) {
	tests := []struct {
		in, to string // to "" when there is no smaller variant
		kind   Kind
	}{
		{"python", "slim", Slim},
		{"python:latest", "slim", Slim},
		{"python:3", "3-slim", Slim},
		{"python:3.12", "3.12-slim", Slim},
		{"python:3.12.4", "3.12.4-slim", Slim},
		{"python:3.12-bookworm", "3.12-slim-bookworm", Slim},
		{"python:3.9-bullseye", "3.9-slim-bullseye", Slim},
		{"python:3.14-rc-trixie", "3.14-rc-slim-trixie", Slim},
		{"python:3.14.0rc1-bookworm", "3.14.0rc1-slim-bookworm", Slim},
		{"python:bookworm", "slim-bookworm", Slim},
		{"docker.io/library/python:3.12", "3.12-slim", Slim},
		{"python:3.12-slim", "", 0},
		{"python:3.12-slim-bookworm", "", 0},
		{"python:slim", "", 0},
		{"python:3.12-alpine", "", 0},
		{"python:3.12-alpine3.20", "", 0},
		{"python:3.12-windowsservercore-ltsc2022", "", 0},
		{"python:3.6-onbuild", "", 0},
		{"python:3.12@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "", 0},
		{"python:3.12-BOOKWORM", "", 0},
		{"bitnami/python:3.12", "", 0},
		{"ghcr.io/library/python:3.12", "", 0},
		{"node", "slim", Slim},
		{"node:22", "22-slim", Slim},
		{"node:22.4.0", "22.4.0-slim", Slim},
		{"node:22-bookworm", "22-bookworm-slim", Slim},
		{"node:18-bullseye", "18-bullseye-slim", Slim},
		{"node:lts", "lts-slim", Slim},
		{"node:lts-bookworm", "lts-bookworm-slim", Slim},
		{"node:iron", "iron-slim", Slim},
		{"node:current", "current-slim", Slim},
		{"node:bookworm", "bookworm-slim", Slim},
		{"node:22-slim", "", 0},
		{"node:22-bookworm-slim", "", 0},
		{"node:22-alpine", "", 0},
		{"node:lts-iron", "", 0},
		{"node:22-slim-bookworm", "", 0},
		{"ruby:3.3", "3.3-slim", Slim},
		{"ruby:3.3-bookworm", "3.3-slim-bookworm", Slim},
		{"ruby:3.3-slim", "", 0},
		{"ruby:3.3-alpine", "", 0},
		{"perl", "slim", Slim},
		{"perl:5.40", "5.40-slim", Slim},
		{"perl:5.40-threaded", "5.40-slim-threaded", Slim},
		{"perl:5.40-threaded-bookworm", "5.40-slim-threaded-bookworm", Slim},
		{"perl:5.40-bookworm", "5.40-slim-bookworm", Slim},
		{"perl:threaded", "slim-threaded", Slim},
		{"perl:5.40-slim", "", 0},
		{"eclipse-temurin:21", "21-jre", JRE},
		{"eclipse-temurin:21-jdk", "21-jre", JRE},
		{"eclipse-temurin:21-jdk-jammy", "21-jre-jammy", JRE},
		{"eclipse-temurin:21-noble", "21-jre-noble", JRE},
		{"eclipse-temurin:21.0.3_9-jdk", "21.0.3_9-jre", JRE},
		{"eclipse-temurin:8u412-b08-jdk-focal", "8u412-b08-jre-focal", JRE},
		{"eclipse-temurin:17-jdk", "17-jre", JRE},
		{"eclipse-temurin:21-jre", "", 0},
		{"eclipse-temurin:21-jdk-alpine", "", 0},
		{"eclipse-temurin:21-jdk-ubi9-minimal", "", 0},
		{"eclipse-temurin:21-jdk-windowsservercore", "", 0},
		{"eclipse-temurin:22-jdk", "", 0},
		{"eclipse-temurin", "", 0},
		{"openjdk:8", "8-jre", JRE},
		{"openjdk:8-jdk", "8-jre", JRE},
		{"openjdk:8u342-jdk", "8u342-jre", JRE},
		{"openjdk:11-jdk", "11-jre", JRE},
		{"openjdk:11.0.16-jdk-bullseye", "11.0.16-jre-bullseye", JRE},
		{"openjdk:11-jdk-slim", "", 0},
		{"openjdk:11-jre", "", 0},
		{"openjdk:17-jdk", "", 0},
		{"openjdk:21", "", 0},
		{"golang:1.22", "", 0},
		{"debian:bookworm", "", 0},
	}
	for _, tt := range tests {
		r, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		s, ok := SmallerOf(r)
		if tt.to == "" {
			if ok {
				t.Errorf("SmallerOf(%q) = %q, want none", tt.in, s.To)
			}
			continue
		}
		if !ok || s.To != tt.to || s.Kind != tt.kind {
			t.Errorf("SmallerOf(%q) = %q (kind %d, ok %v), want %q (kind %d)", tt.in, s.To, s.Kind, ok, tt.to, tt.kind)
		}
		if s.FullMB <= s.SmallMB || s.SmallMB <= 0 {
			t.Errorf("SmallerOf(%q): sizes %d and %d MB", tt.in, s.FullMB, s.SmallMB)
		}
	}
}

func TestLacks(t *testing.T) {
	tests := []struct {
		image, prog string
		lacks       bool
		pkg         string // one package that brings it back, if any
	}{
		{"python:3.12", "gcc", true, "build-essential"},
		{"python:3.12", "git", true, "git"},
		{"python:3.12", "curl", true, "curl"},
		{"python:3.12", "ps", true, "procps"},
		{"python:3.12", "python3", false, ""},
		{"python:3.12", "pip", false, ""},
		{"python:3.12", "apt-get", false, ""},
		{"node:22", "python3", true, "python3"},
		{"node:22", "npm", false, ""},
		{"ruby:3.3", "make", true, "make"},
		{"ruby:3.3", "bundle", false, ""},
		{"eclipse-temurin:21-jdk", "javac", true, ""},
		{"eclipse-temurin:21-jdk", "jcmd", true, ""},
		{"eclipse-temurin:21-jdk", "objcopy", true, "binutils"},
		{"eclipse-temurin:21-jdk", "java", false, ""},
		{"eclipse-temurin:21-jdk", "keytool", false, ""},
		{"openjdk:11-jdk", "git", true, "git"},
		{"openjdk:11-jdk", "curl", false, ""},
	}
	for _, tt := range tests {
		r, _ := Parse(tt.image)
		s, ok := SmallerOf(r)
		if !ok {
			t.Fatalf("SmallerOf(%q): none", tt.image)
		}
		pkgs, lacks := s.Lacks(tt.prog)
		if lacks != tt.lacks {
			t.Errorf("%s lacks %s = %v, want %v", s.To, tt.prog, lacks, tt.lacks)
		}
		if tt.pkg != "" && !slices.Contains(pkgs, tt.pkg) {
			t.Errorf("%s: %s comes with %v, want %s among them", s.To, tt.prog, pkgs, tt.pkg)
		}
	}
}

func TestBuild(t *testing.T) {
	for _, p := range []string{"gcc", "make", "node-gyp", "cmake"} {
		if !BuildTool(p) {
			t.Errorf("BuildTool(%q) = false", p)
		}
	}
	for _, p := range []string{"curl", "git", "python", "npm"} {
		if BuildTool(p) {
			t.Errorf("BuildTool(%q) = true", p)
		}
	}
	for _, p := range []string{"build-essential", "gcc", "libpq-dev", "libgeos-dev", "gcc-12"} {
		if !BuildPackage(p) {
			t.Errorf("BuildPackage(%q) = false", p)
		}
	}
	for _, p := range []string{"curl", "libpq5", "nginx", "git", "devscripts"} {
		if BuildPackage(p) {
			t.Errorf("BuildPackage(%q) = true", p)
		}
	}
	for _, p := range []string{"psycopg2", "psycopg2==2.9.9", "mysqlclient>=2", "uWSGI", "python_ldap"} {
		if !SourceOnly("pip", p) {
			t.Errorf("SourceOnly(pip, %q) = false", p)
		}
	}
	for _, p := range []string{"psycopg2-binary", "django", "numpy"} {
		if SourceOnly("pip", p) {
			t.Errorf("SourceOnly(pip, %q) = true", p)
		}
	}
}

func TestApproxMB(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"scratch", 0, true},
		{"golang:1.22", 820, true},
		{"golang:1.22-alpine3.19", 230, true},
		{"debian:bookworm-slim", 75, true},
		{"debian:bookworm", 117, true},
		{"rust:1.75-slim-bookworm", 750, true},
		{"mcr.microsoft.com/dotnet/aspnet:8.0", 220, true},
		{"eclipse-temurin:21-jre", 270, true},
		{"eclipse-temurin:21", 450, true},
		{"python:3.12-slim", 130, true},
		{"registry.example.com/golang:1.22", 0, false},
		{"mysql:8", 0, false},
	} {
		got, ok := ApproxMB(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ApproxMB(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestValidators checks the reference's validators against the regular
// expressions of the distribution spec they stand for, on every string of
// up to six characters over an alphabet of each kind of character (and on
// tags of the longest length).
func TestValidators(t *testing.T) {
	for _, tc := range []struct {
		name  string
		valid func(string) bool
		re    *regexp.Regexp
		alpha string
	}{
		{"tag", validTag, regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`), "aZ9_.-:"},
		{"digest", validDigest, regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$`), "a9.+_-:fG"},
		{"path", validPath, regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`), "a9._-/A"},
	} {
		strs := []string{""}
		for n := 1; n <= 6; n++ {
			for _, s := range strs {
				if len(s) != n-1 {
					continue
				}
				for _, c := range tc.alpha {
					strs = append(strs, s+string(c))
				}
			}
		}
		if tc.name == "tag" {
			strs = append(strs, strings.Repeat("a", 128), strings.Repeat("a", 129), "_"+strings.Repeat("-", 127))
		}
		for _, s := range strs {
			in := s
			if tc.name == "digest" {
				// The digest's hex must be 32 digits or more: padded here,
				// so that the short strings test what comes before.
				in = s + strings.Repeat("0", 31)
			}
			if got, want := tc.valid(in), tc.re.MatchString(in); got != want {
				t.Errorf("%s %q: valid = %v, the spec's expression says %v", tc.name, in, got, want)
			}
		}
	}
}
