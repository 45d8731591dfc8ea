package images

import "strings"

// buildpackPrograms are the programs buildpack-deps (the base of the full
// python, node, ruby and perl images) adds to Debian, by the packages that
// bring them: what a slim image lacks. The list errs on the side of
// having too much: a program listed that the slim image does have costs a
// proposal, one missing from it would cost a build.
var buildpackPrograms = map[string]string{
	// buildpack-deps:*-curl
	"curl wget":             "curl wget",
	"gpg gpg-agent dirmngr": "gnupg gpg dirmngr",
	"sq":                    "sq",
	// buildpack-deps:*-scm
	"git git-lfs":                    "git",
	"hg":                             "mercurial",
	"svn svnadmin svnversion":        "subversion",
	"bzr":                            "bzr",
	"ssh scp sftp ssh-agent ssh-add": "openssh-client",
	"ps top pgrep pkill pmap free uptime vmstat w watch pwdx slabtop sysctl": "procps",
	// buildpack-deps: compilers, build tools and -dev libraries
	"gcc cc c89 c99 cpp": "gcc build-essential",
	"g++ c++":            "g++ build-essential",
	"make gmake":         "make build-essential",
	"ld ld.bfd ld.gold as ar ranlib nm objcopy objdump strip readelf size strings addr2line gprof": "binutils build-essential",
	"autoconf autoreconf autoheader": "autoconf",
	"automake aclocal":               "automake",
	"libtool libtoolize":             "libtool libtool-bin",
	"pkg-config pkgconf":             "pkg-config pkgconf",
	"patch":                          "patch",
	"file":                           "file",
	"bzip2 bunzip2 bzcat":            "bzip2",
	"xz unxz xzcat lzma unlzma":      "xz-utils",
	"unzip":                          "unzip",
	"dpkg-architecture dpkg-buildpackage dpkg-source dpkg-shlibdeps": "dpkg-dev",
	"convert identify mogrify composite montage compare magick":      "imagemagick",
	"pg_config":                   "libpq-dev",
	"mysql_config mariadb_config": "default-libmysqlclient-dev libmariadb-dev",
	"xml2-config":                 "libxml2-dev",
	"xslt-config":                 "libxslt1-dev libxslt-dev",
	"curl-config":                 "libcurl4-openssl-dev",
	"python3 python":              "python3",
}

// jdkTools are the programs of a JDK that its JRE lacks; no package of the
// JRE image's system brings them back.
const jdkTools = `javac jar jarsigner javadoc javap jdb jdeps jdeprscan jhsdb jimage jinfo jlink
	jmap jmod jpackage jps jrunscript jshell jstack jstat jstatd jcmd jconsole jfr serialver
	rmic native2ascii appletviewer extcheck idlj wsgen wsimport xjc schemagen javah jwebserver`

// lacking returns what the smaller variant of an image lacks.
func lacking(image string) map[string][]string {
	out := map[string][]string{}
	addGroups := func(groups map[string]string, keep func(prog string) bool) {
		for progs, pkgs := range groups {
			for _, p := range strings.Fields(progs) {
				if keep(p) {
					out[p] = strings.Fields(pkgs)
				}
			}
		}
	}
	all := func(string) bool { return true }
	switch image {
	case "python":
		addGroups(buildpackPrograms, func(p string) bool { return p != "python3" && p != "python" })
	case "node", "ruby", "perl":
		addGroups(buildpackPrograms, all)
	case "eclipse-temurin":
		// The JDK image adds binutils (for jlink --strip-debug) to what
		// the JRE image installs.
		addGroups(map[string]string{
			"ld ld.bfd ld.gold as ar ranlib nm objcopy objdump strip readelf size strings addr2line gprof": "binutils",
		}, all)
	case "openjdk":
		// Java 8 and 11 JDK images were built on buildpack-deps:*-scm,
		// their JREs on buildpack-deps:*-curl.
		addGroups(map[string]string{
			"git git-lfs":                    "git",
			"hg":                             "mercurial",
			"svn svnadmin svnversion":        "subversion",
			"bzr":                            "bzr",
			"ssh scp sftp ssh-agent ssh-add": "openssh-client",
			"ps top pgrep pkill pmap free uptime vmstat w watch pwdx slabtop sysctl": "procps",
			"python3 python": "python3",
		}, all)
	}
	if image == "eclipse-temurin" || image == "openjdk" {
		for _, t := range strings.Fields(jdkTools) {
			out[t] = nil
		}
	}
	return out
}
