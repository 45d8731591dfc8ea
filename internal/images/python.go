package images

import (
	"slices"
	"strconv"
	"strings"
)

// PythonRuntime returns the tag of the official python image that runs
// what a full Debian-based python tag built: its slim variant (3.12 ->
// 3.12-slim, 3.12-bookworm -> 3.12-slim-bookworm), or the tag itself where
// it is slim already. Both hold the same Python, at the same path
// (/usr/local/bin), so that a virtualenv made on one runs on the other.
// ok is false for another image, a digest, alpine and windows tags.
func PythonRuntime(r Ref) (string, bool) {
	if r.Official() != "python" || r.Digest != "" {
		return "", false
	}
	if s, ok := SmallerOf(r); ok && s.Kind == Slim {
		return s.To, true
	}
	words := tagWords(r.Tag)
	i := slices.Index(words, "slim")
	if i < 0 {
		return "", false
	}
	// slim, 3.12-slim, 3.12-slim-bookworm: what is left once slim is
	// taken out must be a full tag.
	full := strings.Join(slices.Delete(slices.Clone(words), i, i+1), "-")
	if s, ok := SmallerOf(Ref{Domain: r.Domain, Path: r.Path, Tag: full}); !ok || s.To != r.Tag {
		return "", false
	}
	return r.Tag, true
}

// debianVersions are the Debian releases by major version, for debian:12.
var debianVersions = map[int]string{9: "stretch", 10: "buster", 11: "bullseye", 12: "bookworm", 13: "trixie"}

// DebianRelease returns the Debian release an image is built on, where
// its reference names it: debian:bookworm, debian:12, debian:12.5-slim,
// python:3.12-slim-bookworm. "" where the tag does not name one (python:3.12,
// debian:stable, latest): it follows Debian's stable release, which
// changes.
func DebianRelease(r Ref) string {
	switch r.Official() {
	case "debian":
		first, _, _ := strings.Cut(r.Tag, "-")
		if slices.Contains(debianCodenames, first) {
			return first
		}
		major, _, _ := strings.Cut(first, ".")
		if n, err := strconv.Atoi(major); err == nil {
			return debianVersions[n]
		}
	case "python", "ruby", "perl", "node":
		for _, w := range tagWords(r.Tag) {
			if slices.Contains(debianCodenames, w) {
				return w
			}
		}
	}
	return ""
}
