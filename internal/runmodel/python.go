package runmodel

import (
	"maps"
	"path"
	"slices"
	"strings"
)

// Python projects with compiled dependencies build their extensions with a
// C compiler against -dev packages of the system, and pip installs them
// into an environment: the image's Python, or a virtualenv (python -m venv
// DIR) that holds all it installs in one folder. What follows is the
// knowledge a multi-stage split needs to tell what a runtime stage must
// have for the installed packages to run: which system packages belong to
// Python itself, which runtime library a -dev package stands for, where an
// install puts its files, and how the image starts Python.

// PythonPackage tells whether a Debian package is Python itself or what
// builds for it: the interpreter, its headers, venv, pip, setuptools and
// wheel (python3, python3.11-dev, libpython3-dev, python3-venv, ...). A
// virtualenv made without --system-site-packages sees none of the Python
// packages apt installs; its interpreter is the system's python3.
func PythonPackage(pkg string) bool {
	pkg = plainPackage(pkg)
	name, ok := strings.CutPrefix(pkg, "python3")
	if !ok {
		if rest, ok := strings.CutPrefix(pkg, "libpython3"); ok {
			ver, dev := strings.CutSuffix(rest, "-dev") // libpython3-dev, libpython3.11-dev
			return dev && (ver == "" || len(ver) > 1 && ver[0] == '.' && strings.Trim(ver[1:], "0123456789") == "")
		}
		return pkg == "python-is-python3" || pkg == "python-dev-is-python3"
	}
	if rest, ok := strings.CutPrefix(name, "."); ok {
		// python3.11, python3.11-dev, python3.11-venv
		ver, part, _ := strings.Cut(rest, "-")
		if ver == "" || strings.Trim(ver, "0123456789") != "" {
			return false
		}
		name = ""
		if part != "" {
			name = "-" + part
		}
	}
	switch name {
	case "", "-dev", "-venv", "-pip", "-setuptools", "-wheel", "-minimal", "-distutils", "-lib2to3", "-pip-whl", "-setuptools-whl", "-wheel-whl":
		return true
	}
	return false
}

// CompilerPackage tells whether a system package is a C or C++ compiler:
// gcc, g++, clang (gcc-12 and the like), build-essential, build-base.
func CompilerPackage(pkg string) bool {
	pkg = plainPackage(pkg)
	switch pkg {
	case "gcc", "g++", "clang", "build-essential", "build-base", "gcc-c++":
		return true
	}
	return versionedCompiler(pkg) && !strings.HasPrefix(pkg, "cpp")
}

// plainPackage is a package name without its version or architecture
// (python3=3.11.2-1, gcc:amd64).
func plainPackage(pkg string) string {
	pkg = strings.ToLower(pkg)
	if i := strings.IndexAny(pkg, "=<>~"); i > 0 {
		pkg = pkg[:i]
	}
	if c := strings.IndexByte(pkg, ':'); c > 0 {
		pkg = pkg[:c]
	}
	return pkg
}

// devRuntime maps Debian's -dev packages to the one runtime library each
// stands for, by release: what a program built against the -dev package
// loads. Each entry was read from the release's Depends of the -dev
// package (apt-cache show); a -dev package whose Depends name several
// libraries (libwebp-dev, libpcre3-dev, libtiff-dev, libcairo2-dev) or a
// library only through another -dev package (libfreetype6-dev,
// libldap2-dev, libkrb5-dev) is left out, so that no runtime is guessed.
// TestDevRuntimeDebian checks the table against apt where it runs on the
// release.
var devRuntime = map[string]map[string]string{
	"bookworm": {
		"libpq-dev":                  "libpq5",
		"libffi-dev":                 "libffi8",
		"libssl-dev":                 "libssl3",
		"libxml2-dev":                "libxml2",
		"libxslt1-dev":               "libxslt1.1",
		"libjpeg62-turbo-dev":        "libjpeg62-turbo",
		"zlib1g-dev":                 "zlib1g",
		"libyaml-dev":                "libyaml-0-2",
		"libsqlite3-dev":             "libsqlite3-0",
		"libmariadb-dev":             "libmariadb3",
		"libpng-dev":                 "libpng16-16",
		"libgeos-dev":                "libgeos-c1v5",
		"libcurl4-openssl-dev":       "libcurl4",
		"libsasl2-dev":               "libsasl2-2",
		"libbz2-dev":                 "libbz2-1.0",
		"liblzma-dev":                "liblzma5",
		"libmagic-dev":               "libmagic1",
		"libzstd-dev":                "libzstd1",
		"liblcms2-dev":               "liblcms2-2",
		"libopenjp2-7-dev":           "libopenjp2-7",
		"libsnappy-dev":              "libsnappy1v5",
		"libev-dev":                  "libev4",
		"libuv1-dev":                 "libuv1",
		"libsodium-dev":              "libsodium23",
		"libexpat1-dev":              "libexpat1",
		"uuid-dev":                   "libuuid1",
		"libcap-dev":                 "libcap2",
		"liblz4-dev":                 "liblz4-1",
		"libbrotli-dev":              "libbrotli1",
		"libsystemd-dev":             "libsystemd0",
		"libgdbm-dev":                "libgdbm6",
		"libmariadb-dev-compat":      "libmariadb3", // through libmariadb-dev
		"default-libmysqlclient-dev": "libmariadb3", // through libmariadb-dev-compat
		"libjpeg-dev":                "libjpeg62-turbo",
	},
}

// DevRuntime returns the runtime library a Debian -dev package stands for
// on a release ("bookworm"); ok is false where the table does not know the
// package, or the release ("" for one the image does not name).
func DevRuntime(release, pkg string) (string, bool) {
	lib, ok := devRuntime[release][plainPackage(pkg)]
	return lib, ok
}

// DevPackages lists the -dev packages the table knows for a release.
func DevPackages(release string) []string {
	return slices.Sorted(maps.Keys(devRuntime[release]))
}

// PythonCarried are Debian packages that hold data a Python program may
// read at run time (CA certificates, time zones, the services and
// protocols files): a runtime stage installs them again where the build
// did.
var PythonCarried = []string{"ca-certificates", "tzdata", "netbase"}

// Venv is what python -m venv DIR creates.
type Venv struct {
	Cmd *Cmd
	// Dir is the folder's word: read it with WordPath.
	Dir Word
	// Copies says --copies: the interpreter is a copy, not a link.
	Copies bool
}

// VenvOf reads python -m venv [--copies|--clear|--upgrade-deps|
// --without-pip|--prompt P] DIR. ok is false for another command, for
// --system-site-packages (the environment then sees whatever apt or pip put
// in the system's site-packages), for several folders and for options the
// model does not read.
func VenvOf(c *Cmd) (Venv, bool) {
	if c.Opaque || !IsPython(c.Name) || len(c.Args) < 3 || !c.Args[0].Is("-m") || !c.Args[1].Is("venv") {
		return Venv{}, false
	}
	v := Venv{Cmd: c}
	dirs := 0
	for i := 2; i < len(c.Args); i++ {
		w, ok := c.Args[i].Value()
		switch {
		case ok && w == "--copies":
			v.Copies = true
		case ok && (w == "--clear" || w == "--upgrade-deps" || w == "--without-pip" || w == "--symlinks"):
		case ok && w == "--prompt":
			i++
		case ok && strings.HasPrefix(w, "--prompt="):
		case ok && strings.HasPrefix(w, "-"):
			return Venv{}, false // --system-site-packages, --upgrade, an option the model does not read
		case !ok && strings.HasPrefix(c.Args[i].Text, "-"):
			return Venv{}, false
		default:
			v.Dir = c.Args[i]
			dirs++
		}
	}
	return v, dirs == 1
}

// WordPath reads a word of a command of r as a path: its literal text, or
// its expansion with the variables the command sees for sure (ENV values
// no build argument or assignment of the program can change, HOME).
func (m *Model) WordPath(r *Run, c *Cmd, w Word) (string, bool) {
	if v, ok := w.Value(); ok {
		return v, true
	}
	if w.Node == nil || w.Glob {
		return "", false
	}
	v, _, ok := ExpandPath(w.Node, m.lookup(r, c, m.State(r.In)))
	return v, ok
}

// IsPython tells whether a command name is a Python interpreter (python,
// python3, python3.12).
func IsPython(name string) bool { return isPython(name) }

// pipPlaces are pip install's flags, and the variables, that put what it
// installs elsewhere than in the environment of the pip that runs.
var (
	pipPlaceFlags = []string{"--user", "-t", "--target", "--prefix", "--root", "-e", "--editable"}
	pipPlaceEnv   = []string{"PIP_USER", "PIP_TARGET", "PIP_PREFIX", "PIP_ROOT", "PIP_EDITABLE", "PYTHONUSERBASE"}
)

// PipElsewhere says why a pip install puts its packages elsewhere than in
// the environment of the pip that runs ("" where it installs there): into
// the user's site-packages (--user), a folder (--target, --prefix,
// --root), or as a link to the project's folder (-e). env reads what ENV
// and ARG set.
func PipElsewhere(k Call, env func(name string) (string, bool)) string {
	for _, f := range pipPlaceFlags {
		if k.HasFlag(f) || len(f) == 2 && k.HasShort(f[1]) {
			return "pip install " + f + " installs outside the environment"
		}
	}
	for _, name := range pipPlaceEnv {
		_, set := k.Assigns[name]
		if _, byEnv := env(name); set || byEnv {
			return name + " moves what pip installs"
		}
	}
	return ""
}

// PipBuildIsolationOff tells whether a pip install builds with the
// packages of its own environment (--no-build-isolation, or
// PIP_NO_BUILD_ISOLATION set for it or by ENV and ARG, which env reads):
// the build then needs setuptools, wheel or Cython to be there, as the
// image's Python or the virtualenv has them.
func PipBuildIsolationOff(k Call, env func(name string) (string, bool)) bool {
	_, set := k.Assigns["PIP_NO_BUILD_ISOLATION"]
	_, byEnv := env("PIP_NO_BUILD_ISOLATION")
	return k.HasFlag("--no-build-isolation") || set || byEnv
}

// pythonServers are programs that Python packages install into an
// environment's bin folder to start an application: their first line
// runs the environment's interpreter.
var pythonServers = []string{"gunicorn", "uvicorn", "hypercorn", "daphne", "granian", "waitress-serve", "celery",
	"flask", "django-admin", "streamlit", "fastapi", "dramatiq", "rq", "huey_consumer"}

// PythonStarter tells whether a program the image runs by its name alone
// starts the Python of the environment first on PATH: the interpreter, or
// a server a Python package installs into that environment's bin folder.
func PythonStarter(name string) bool {
	return !strings.Contains(name, "/") && (isPython(name) || slices.Contains(pythonServers, name))
}

// InVenvBin tells whether a program path is in a virtualenv's bin folder.
func InVenvBin(prog, venv string) bool {
	return path.IsAbs(prog) && path.Dir(path.Clean(prog)) == path.Join(venv, "bin")
}
