// Package images is dfopt's knowledge of base images: how an image
// reference reads, which official language images come in a smaller
// variant, the exact tag of that variant upstream, what it leaves out and
// about how much smaller it is. Rules read it; it reads nothing but its
// arguments.
package images

import (
	"errors"
	"fmt"
	"strings"
)

// Ref is an image reference, [registry/]repository[:tag][@digest], with
// Docker Hub's defaults filled in.
type Ref struct {
	// Domain is the registry, lower case: "docker.io" for Docker Hub
	// (index.docker.io, registry-1.docker.io and registry.docker.com name
	// it too).
	Domain string
	// Path is the repository in the registry: "library/python" for the
	// official image python.
	Path string
	// Tag is the tag as written, "" when there is none (latest).
	Tag string
	// Digest is the digest as written (sha256:…), "" when there is none.
	Digest string
}

// Parse reads an image reference as docker pull does. It fails for a
// reference with variables or with characters a reference cannot hold.
func Parse(s string) (Ref, error) {
	var r Ref
	if s == "" {
		return r, errors.New("empty image reference")
	}
	if strings.ContainsAny(s, "$ \t") {
		return r, fmt.Errorf("image reference %q: not a literal reference", s)
	}
	name := s
	if at := strings.Index(name, "@"); at >= 0 {
		name, r.Digest = name[:at], name[at+1:]
		if !validDigest(r.Digest) {
			return r, fmt.Errorf("image reference %q: bad digest", s)
		}
	}
	if c := strings.LastIndex(name, ":"); c > strings.LastIndex(name, "/") {
		name, r.Tag = name[:c], name[c+1:]
		if !validTag(r.Tag) {
			return r, fmt.Errorf("image reference %q: bad tag", s)
		}
	}
	first, rest, hasSlash := strings.Cut(name, "/")
	if hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost") {
		r.Domain, r.Path = strings.ToLower(first), rest
	} else {
		r.Domain, r.Path = "docker.io", name
	}
	switch r.Domain {
	case "index.docker.io", "registry-1.docker.io", "registry.docker.com":
		r.Domain = "docker.io"
	}
	if r.Domain == "docker.io" && !strings.Contains(r.Path, "/") {
		r.Path = "library/" + r.Path
	}
	if !validPath(r.Path) {
		return r, fmt.Errorf("image reference %q: repository must be lower case letters, digits and separators", s)
	}
	return r, nil
}

// validTag tells whether a tag is one a registry takes: a word character
// and up to 127 more, dots and dashes too.
func validTag(tag string) bool {
	if tag == "" || len(tag) > 128 || tag[0] == '.' || tag[0] == '-' {
		return false
	}
	for i := 0; i < len(tag); i++ {
		if c := tag[i]; !isLowerAlnum(c) && !(c >= 'A' && c <= 'Z') && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// validDigest tells whether a digest reads ALGORITHM:HEX: the algorithm
// lower-case letters and digits in runs joined by one of . + _ -, the hex
// at least 32 digits.
func validDigest(d string) bool {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) < 32 || !runsJoined(alg, func(s string) int {
		if s[0] == '.' || s[0] == '+' || s[0] == '_' || s[0] == '-' {
			return 1
		}
		return 0
	}) {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// validPath tells whether a repository path is components joined by "/",
// each lower-case letters and digits in runs joined by ".", "_", "__" or
// dashes.
func validPath(p string) bool {
	for _, comp := range strings.Split(p, "/") {
		if !runsJoined(comp, pathSeparator) {
			return false
		}
	}
	return true
}

// pathSeparator is the length of the separator a path component's s starts
// with: ".", "_", "__" or any number of dashes; 0 for none.
func pathSeparator(s string) int {
	switch s[0] {
	case '.':
		return 1
	case '_':
		if len(s) > 1 && s[1] == '_' {
			return 2
		}
		return 1
	case '-':
		return len(s) - len(strings.TrimLeft(s, "-"))
	}
	return 0
}

// runsJoined tells whether s is one or more runs of lower-case letters and
// digits, each two joined by a separator (sep gives the length of the one
// its argument starts with, 0 for none).
func runsJoined(s string, sep func(string) int) bool {
	i := 0
	for {
		start := i
		for i < len(s) && isLowerAlnum(s[i]) {
			i++
		}
		switch {
		case i == start:
			return false
		case i == len(s):
			return true
		}
		n := sep(s[i:])
		if n == 0 {
			return false
		}
		i += n
	}
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// Official returns the name of the Docker Official Image the reference
// names ("python" for python, library/python, docker.io/library/python),
// or "" when it names another repository or registry: a mirror's tags may
// differ.
func (r Ref) Official() string {
	if r.Domain != "docker.io" {
		return ""
	}
	name, ok := strings.CutPrefix(r.Path, "library/")
	if !ok || strings.Contains(name, "/") {
		return ""
	}
	return name
}

// String prints the reference in its normal form.
func (r Ref) String() string {
	s := r.Domain + "/" + r.Path
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}
