// Package images is dfopt's knowledge of base images: how an image
// reference reads, which official language images come in a smaller
// variant, the exact tag of that variant upstream, what it leaves out and
// about how much smaller it is. Rules read it; it reads nothing but its
// arguments.
package images

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
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
		if !digestRE().MatchString(r.Digest) {
			return r, fmt.Errorf("image reference %q: bad digest", s)
		}
	}
	if c := strings.LastIndex(name, ":"); c > strings.LastIndex(name, "/") {
		name, r.Tag = name[:c], name[c+1:]
		if !tagRE().MatchString(r.Tag) {
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
	if !pathRE().MatchString(r.Path) {
		return r, fmt.Errorf("image reference %q: repository must be lower case letters, digits and separators", s)
	}
	return r, nil
}

var (
	tagRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`) })
	digestRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$`) })
	pathRE   = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	})
)

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
