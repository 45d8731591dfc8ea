package images

import (
	"slices"
	"strings"
)

// NodeRuntime names the official node image a Node.js application built
// on base runs on: the -slim variant of a full, Debian-based tag (node:22
// -> node:22-slim, the same Node.js and npm without the compilers and -dev
// libraries), a slim or Alpine tag as it is. ok is false for another image,
// a digest, or a tag dfopt does not read (onbuild, a Windows tag).
func NodeRuntime(base string) (string, bool) {
	r, err := Parse(base)
	if err != nil || r.Official() != "node" || r.Digest != "" {
		return "", false
	}
	if s, ok := SmallerOf(r); ok {
		return "node:" + s.To, true
	}
	words := tagWords(r.Tag)
	if len(words) > 1 && (slices.Contains(words, "slim") || strings.HasPrefix(words[len(words)-1], "alpine")) || r.Tag == "slim" || strings.HasPrefix(r.Tag, "alpine") {
		return "node:" + r.Tag, true
	}
	return "", false
}
