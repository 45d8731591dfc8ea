package images

import (
	"slices"
	"strings"
)

// buildTools are the programs that build native code. On a slim image a
// build needs more than the tool chain the file may install: the -dev
// libraries of the full image (libpq, libffi, libyaml, libxml2, …) it
// compiled against go too.
var buildTools = strings.Fields(`gcc cc c89 c99 cpp g++ c++ clang clang++ make gmake cmake ninja meson
	ld ld.bfd ld.gold as autoconf autoreconf automake aclocal libtool libtoolize pkg-config pkgconf
	node-gyp prebuild-install dpkg-buildpackage`)

// BuildTool tells whether a program builds native code.
func BuildTool(program string) bool { return slices.Contains(buildTools, program) }

// BuildPackage tells whether a Debian package is installed to build
// native code: a compiler, make, build-essential, a -dev library. A file
// that installs one on a full image builds against what that image holds.
func BuildPackage(pkg string) bool {
	switch pkg {
	case "gcc", "g++", "cpp", "clang", "make", "cmake", "build-essential", "autoconf", "automake", "libtool",
		"pkg-config", "pkgconf", "dpkg-dev", "libc6-dev":
		return true
	}
	return strings.HasSuffix(pkg, "-dev") || strings.Contains(pkg, "-dev:") || strings.HasPrefix(pkg, "gcc-") || strings.HasPrefix(pkg, "g++-")
}

// sourceOnly are packages of a language's registry that publish no wheel
// or prebuilt binary for Linux: every install builds them from source.
var sourceOnly = map[string][]string{
	"pip": {"psycopg2", "mysqlclient", "mysql-python", "uwsgi", "python-ldap", "pycrypto", "pygraphviz", "pycairo", "mod-wsgi", "mod_wsgi"},
}

// SourceOnly tells whether a package (as an install names it, with or
// without a version) builds from source on every install with a manager
// ("pip").
func SourceOnly(manager, pkg string) bool {
	name := strings.ToLower(pkg)
	if i := strings.IndexAny(name, "=<>!~[;@ "); i >= 0 {
		name = name[:i]
	}
	name = strings.ReplaceAll(name, "_", "-")
	return slices.Contains(sourceOnly[manager], name)
}
