package main

import (
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
)

// version is the version a build names with -ldflags "-X main.version=…",
// for a build the go command cannot stamp: the Dockerfile's, whose context
// has no .git. When set, it is what --version prints.
var version string

// moduleVersion is the version the running binary was built at.
func moduleVersion() string {
	if version != "" {
		return version
	}
	bi, _ := debug.ReadBuildInfo()
	return versionOf(bi)
}

// pseudoVersion matches the end of a Go pseudo-version
// (v0.0.0-20250102030405-abcdef123456), which names a commit, not a release.
var pseudoVersion = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\d{14}-[0-9a-f]{12}$`) })

// versionOf says what a build is: the module's version when it was
// installed at a release (go install …@v1.2.0); for a build of a checkout,
// which the go command stamps with the commit, "(devel)", the commit's short
// revision (+dirty when the tree had changes) and its time; "(devel)" alone
// when nothing is known (go run and go test record no commit).
func versionOf(bi *debug.BuildInfo) string {
	if bi == nil {
		return "(devel)"
	}
	var rev, at string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	v := bi.Main.Version
	release := v != "" && v != "(devel)" && !pseudoVersion().MatchString(v) && !strings.HasSuffix(v, "+dirty")
	switch {
	case release && !dirty:
		return v
	case rev == "" && v != "":
		return v // a pseudo-version from go install …@commit
	case rev == "":
		return "(devel)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	if at != "" {
		return "(devel) " + rev + " " + at
	}
	return "(devel) " + rev
}
