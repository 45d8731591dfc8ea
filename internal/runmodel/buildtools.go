package runmodel

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// ToolKind says what a package that builds software is for. Rules that
// report build tools left in an image read it, so that every rule names and
// treats a package the same way.
type ToolKind int

const (
	// NoTool is a package the table does not take for a build tool.
	NoTool ToolKind = iota
	// Toolchain packages compile and drive builds: gcc, clang, make, cmake,
	// autotools, pkg-config, build-essential, build-base.
	Toolchain
	// Headers are the C library's and the kernel's headers and start
	// files: libc6-dev, musl-dev, linux-headers. Nothing but a compiler
	// reads them.
	Headers
	// DevLibrary packages are a library's (or a language's) headers for
	// building against it: libpq-dev, openssl-devel, python3-dev. Their
	// package manager pulls the library itself in with them, which what was
	// built needs at run time.
	DevLibrary
	// VCS packages are version control clients: git, mercurial, subversion.
	// An application may run them itself.
	VCS
	// PyBuild packages are Python packages that only build or package
	// other Python packages: wheel, build, Cython, pip-tools.
	PyBuild
)

func (k ToolKind) String() string {
	switch k {
	case Toolchain:
		return "compiler or build tool"
	case Headers:
		return "C library headers"
	case DevLibrary:
		return "development package"
	case VCS:
		return "version control"
	case PyBuild:
		return "Python build tool"
	}
	return "no build tool"
}

// Pure tells whether removing packages of the kind after a build leaves
// what was built working, as far as their own files go: compilers and
// headers, which a built program never loads. A development package's
// removal can take the library it came with; a version control client may
// be run by the application.
func (k ToolKind) Pure() bool { return k == Toolchain || k == Headers }

// buildTool is one entry of the table: a package of the system managers
// (apt, apk, the rpm family, zypper) and the programs it gives.
type buildTool struct {
	kind     ToolKind
	programs []string
}

// systemTools are the build tools of Debian, Ubuntu, Alpine, Fedora, RHEL
// and openSUSE by package name. Versioned compilers (gcc-12, clang-16) are
// read by versioned, -dev and -devel packages by their suffix.
var systemTools = map[string]buildTool{
	"build-essential":   {Toolchain, []string{"gcc", "g++", "cc", "c++", "make", "cpp"}},
	"build-base":        {Toolchain, []string{"gcc", "g++", "cc", "c++", "make", "cpp"}},
	"gcc":               {Toolchain, []string{"gcc", "cc", "cpp"}},
	"g++":               {Toolchain, []string{"g++", "c++"}},
	"gcc-c++":           {Toolchain, []string{"g++", "c++"}},
	"cpp":               {Toolchain, []string{"cpp"}},
	"clang":             {Toolchain, []string{"clang", "clang++", "cc", "c++"}},
	"gfortran":          {Toolchain, []string{"gfortran"}},
	"gcc-gfortran":      {Toolchain, []string{"gfortran"}},
	"make":              {Toolchain, []string{"make", "gmake"}},
	"cmake":             {Toolchain, []string{"cmake", "ctest", "cpack"}},
	"ninja-build":       {Toolchain, []string{"ninja"}},
	"ninja":             {Toolchain, []string{"ninja"}},
	"samurai":           {Toolchain, []string{"ninja", "samu"}},
	"meson":             {Toolchain, []string{"meson"}},
	"autoconf":          {Toolchain, []string{"autoconf", "autoreconf", "autoheader"}},
	"automake":          {Toolchain, []string{"automake", "aclocal"}},
	"libtool":           {Toolchain, []string{"libtool", "libtoolize"}},
	"pkg-config":        {Toolchain, []string{"pkg-config"}},
	"pkgconf":           {Toolchain, []string{"pkg-config", "pkgconf"}},
	"pkgconfig":         {Toolchain, []string{"pkg-config"}},
	"bison":             {Toolchain, []string{"bison", "yacc"}},
	"flex":              {Toolchain, []string{"flex", "lex"}},
	"Development Tools": {Toolchain, []string{"gcc", "g++", "cc", "c++", "make", "cpp", "git"}},
	"development-tools": {Toolchain, []string{"gcc", "g++", "cc", "c++", "make", "cpp", "git"}},

	"libc6-dev":      {Headers, nil},
	"libc-dev":       {Headers, nil},
	"musl-dev":       {Headers, nil},
	"linux-headers":  {Headers, nil},
	"linux-libc-dev": {Headers, nil},
	"glibc-devel":    {Headers, nil},
	"glibc-headers":  {Headers, nil},
	"kernel-headers": {Headers, nil},

	"git":        {VCS, []string{"git"}},
	"git-core":   {VCS, []string{"git"}},
	"mercurial":  {VCS, []string{"hg"}},
	"subversion": {VCS, []string{"svn"}},
	"bzr":        {VCS, []string{"bzr"}},
}

// pyBuildTools are pip packages that only build other packages. setuptools
// is not one: applications import pkg_resources from it at run time;
// neither is poetry, whose "poetry run" may start the application.
var pyBuildTools = map[string][]string{
	"wheel":          {"wheel"},
	"build":          {"pyproject-build"},
	"cython":         {"cython", "cythonize"},
	"pip-tools":      {"pip-compile", "pip-sync"},
	"scikit-build":   nil,
	"meson-python":   nil,
	"setuptools-scm": nil,
}

// versionedCompiler tells whether a name is a compiler's with its version,
// as Debian names them: gcc-12, g++-12, clang-16, gfortran-12.
func versionedCompiler(name string) bool {
	base, version, ok := strings.Cut(name, "-")
	if !ok || !slices.Contains([]string{"gcc", "g++", "cpp", "clang", "gfortran"}, base) {
		return false
	}
	major, minor, dotted := strings.Cut(version, ".")
	return allDigits(major) && (!dotted || allDigits(minor))
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// BuildTool says whether a package named on an install command of manager
// mgr (the name of an entry of Managers) is a build tool, and of which
// kind. The name may carry a version or architecture as the manager writes
// them (gcc=4:12.2.0-3, gcc:amd64, build-base~0.5, "cython==3.0").
func BuildTool(mgr, pkg string) ToolKind {
	k, _ := lookupTool(mgr, pkg)
	return k.kind
}

// ToolPrograms lists the programs a build tool package gives (gcc for
// gcc-12 too), by which a command that runs one is known.
func ToolPrograms(mgr, pkg string) []string {
	k, _ := lookupTool(mgr, pkg)
	return k.programs
}

// PackageBase is a package operand without the version, release or
// architecture its manager lets it carry: what a removal names.
func PackageBase(mgr, pkg string) string {
	switch mgr {
	case "apt":
		pkg, _, _ = strings.Cut(pkg, "=")
		pkg, _, _ = strings.Cut(pkg, ":")
	case "apk":
		if i := strings.IndexAny(pkg, "<>=~@"); i > 0 {
			pkg = pkg[:i]
		}
	case "pip":
		if i := strings.IndexAny(pkg, "<>=!~[ ;"); i > 0 {
			pkg = pkg[:i]
		}
		pkg = strings.ReplaceAll(strings.ToLower(pkg), "_", "-")
	default: // the rpm family and zypper
		if i := strings.IndexAny(pkg, "<>= "); i > 0 && !strings.HasPrefix(pkg, "@") {
			pkg = pkg[:i]
		}
		pkg = strings.TrimPrefix(pkg, "@")
		pkg = strings.TrimPrefix(pkg, "^")
		pkg = strings.TrimSuffix(pkg, ".x86_64")
		pkg = strings.TrimSuffix(pkg, ".aarch64")
		if strings.EqualFold(pkg, "development tools") || strings.EqualFold(pkg, "development") {
			pkg = "Development Tools"
		}
		if pkg == "c-development" {
			pkg = "development-tools"
		}
	}
	return pkg
}

func lookupTool(mgr, pkg string) (buildTool, bool) {
	name := PackageBase(mgr, pkg)
	switch mgr {
	case "pip":
		progs, ok := pyBuildTools[name]
		if !ok {
			return buildTool{}, false
		}
		return buildTool{PyBuild, progs}, true
	case "apt", "apk", "yum", "dnf", "microdnf", "tdnf", "zypper":
	default:
		return buildTool{}, false
	}
	if t, ok := systemTools[name]; ok {
		return t, true
	}
	if versionedCompiler(name) {
		base, _, _ := strings.Cut(name, "-")
		t := systemTools[base]
		return buildTool{Toolchain, append(slices.Clone(t.programs), name)}, true
	}
	if strings.HasPrefix(name, "gcc-toolset-") || strings.HasPrefix(name, "devtoolset-") {
		return buildTool{Toolchain, []string{"gcc", "g++", "cc", "c++", "make"}}, true
	}
	rpm := mgr != "apt" && mgr != "apk"
	if !rpm && strings.HasSuffix(name, "-dev") && len(name) > len("-dev") ||
		rpm && strings.HasSuffix(name, "-devel") && len(name) > len("-devel") {
		return buildTool{DevLibrary, nil}, true
	}
	return buildTool{}, false
}

// Installed is a build tool package that an install command of a RUN names.
type Installed struct {
	Pkg  string   // as written
	Base string   // without version or architecture (see PackageBase)
	Kind ToolKind // what it is for
	By   Call     // the install
	// Group is the apk --virtual (-t) name the install gives it, if any.
	Group string
	// Removed says a command of the same RUN after the install removes it
	// (by name, through its --virtual group, or with operands the model
	// cannot read, which may name it); RemovedBy is that command.
	Removed   bool
	RemovedBy *Cmd
}

// BuildTools lists the build tool packages the install commands of a RUN
// name, in order, each with what in the same RUN removes it. Operands the
// model cannot read are not listed: it cannot tell what they install.
func (r *Run) BuildTools() []Installed {
	var out []Installed
	for _, k := range r.AllCalls() {
		if !k.Installs() || !systemOrPip(k.M.Name) {
			continue
		}
		group := ""
		if k.M.Name == "apk" {
			group = flagValue(k.Cmd, "--virtual", "-t")
		}
		ops := k.operands()
		if k.M.Name != "pip" && len(ops) > 0 && (k.Verb == "groupinstall" || k.Verb == "group") {
			// dnf groupinstall "Development Tools", dnf group install …
			if k.Verb == "group" {
				ops = ops[1:]
			}
			for i, o := range ops {
				ops[i] = "@" + o
			}
		}
		for _, p := range ops {
			kind := BuildTool(k.M.Name, p)
			if kind == NoTool {
				continue
			}
			in := Installed{Pkg: p, Base: PackageBase(k.M.Name, p), Kind: kind, By: k, Group: group}
			in.RemovedBy = r.removerOf(k, in)
			in.Removed = in.RemovedBy != nil
			out = append(out, in)
		}
	}
	return out
}

func systemOrPip(mgr string) bool {
	switch mgr {
	case "apt", "apk", "yum", "dnf", "microdnf", "tdnf", "zypper", "pip":
		return true
	}
	return false
}

// removerOf finds the command of r after the install that removes the
// package: a remove verb of its manager (or of another of the rpm family)
// naming it or its group, or naming what the model cannot read.
//
// apt's official-image idiom counts too: apt-mark auto of the packages
// (or of '.*', or of what it is given through xargs), then a removal with
// --auto-remove, or autoremove, takes out what nothing marked manual again
// needs.
func (r *Run) removerOf(k Call, in Installed) *Cmd {
	marked := false
	for _, x := range r.AllCalls() {
		if !Before(k.Cmd, x.Cmd) || !sameFamily(k.M.Name, x.M.Name) {
			continue
		}
		if x.VerbAt < 0 && x.AnyUnknownArg() {
			return x.Cmd // a verb the model cannot read may be a removal
		}
		if x.Name == "apt-mark" && (x.Verb == "auto" || x.Verb == "markauto") {
			marked = true
			continue
		}
		if !x.Removes() {
			continue
		}
		if x.Verb == "autoremove" || x.Verb == "autopurge" || x.HasFlag("--auto-remove", "--autoremove") {
			if marked {
				return x.Cmd
			}
			if x.Verb == "autoremove" || x.Verb == "autopurge" {
				continue // takes out what was installed as a dependency, not what an install named
			}
		}
		if unreadOperands(x) {
			return x.Cmd
		}
		for _, o := range x.operands() {
			if PackageBase(x.M.Name, o) == in.Base || in.Group != "" && o == in.Group {
				return x.Cmd
			}
		}
	}
	return nil
}

// unreadOperands tells whether a call has an operand after its verb that
// the model cannot read ($buildDeps).
func unreadOperands(k Call) bool {
	for i := k.VerbAt + 1; i < len(k.Args); i++ {
		if _, ok := k.Args[i].Value(); !ok {
			return true
		}
	}
	return k.MoreArgs
}

func sameFamily(a, b string) bool {
	rpm := func(n string) bool { return n == "yum" || n == "dnf" || n == "microdnf" || n == "tdnf" }
	return a == b || rpm(a) && rpm(b)
}

// flagValue returns the value of a valued flag of a command (--virtual
// .build-deps, --virtual=.build-deps, -t .build-deps), "" when it has none.
func flagValue(c *Cmd, flags ...string) string {
	for i, v := range c.Options() {
		for _, f := range flags {
			if v == f {
				return c.Arg(i + 1)
			}
			if val, ok := strings.CutPrefix(v, f+"="); ok && strings.HasPrefix(f, "--") {
				return val
			}
		}
	}
	return ""
}

// Use says how a command may use a build tool package.
type Use int

const (
	// NoUse: the command does not use it.
	NoUse Use = iota
	// MayUse: the model cannot see what the command runs (a script, a
	// program it does not know), which may run it.
	MayUse
	// BuildsWith: the command builds or fetches what may need it: an
	// install of a language's packages may compile native code (pip,
	// gem, npm through node-gyp, go with cgo) or fetch from a repository
	// (pip install git+…); make, cmake and ./configure drive a compiler.
	BuildsWith
	// Runs: the command runs a program of the package.
	Runs
)

// builders are programs that drive a compiler or build native extensions
// whatever their verb.
var builders = []string{"make", "gmake", "cmake", "ninja", "meson", "configure", "node-gyp", "docker-php-ext-install",
	"docker-php-ext-configure", "pecl", "phpize", "cpanm", "luarocks", "R", "Rscript", "cc", "gcc", "g++", "c++", "clang", "clang++", "ld",
	"cargo", "rustc", "autoreconf", "setup.py"}

// compilingManagers are managers whose installs may build native code
// from source, reading a compiler, headers and development packages.
var compilingManagers = []string{"pip", "uv", "poetry", "pipenv", "conda", "npm", "yarn", "pnpm", "bun", "gem", "bundler", "composer", "go", "cargo"}

// ToolUse tells how command c may use the build tool package pkg of
// manager mgr (see Use).
func ToolUse(c *Cmd, mgr, pkg string) Use {
	t, ok := lookupTool(mgr, pkg)
	if !ok {
		return NoUse
	}
	name := c.Name
	if name == "" {
		if v, ok := c.Prog.Value(); ok {
			name = baseName(v)
		}
	}
	if name != "" && (slices.Contains(t.programs, name) || t.kind == Toolchain && versionedCompiler(name) && slices.Contains(t.programs, name)) {
		return Runs
	}
	if t.kind == PyBuild {
		// setup.py and pip's builds import them.
		if m := ManagerOf(c); m != nil && (m.Name == "pip" || m.Name == "uv") || isPython(name) && !c.Opaque {
			return BuildsWith
		}
		if c.Opaque {
			return MayUse
		}
		return NoUse
	}
	if t.kind == VCS {
		if m := ManagerOf(c); m != nil && slices.Contains(compilingManagers, m.Name) && m.Read(c).Installs() {
			return BuildsWith // dependencies from a repository (git+https://…, github: specs)
		}
		if c.Opaque {
			return MayUse
		}
		return NoUse
	}
	if slices.Contains(builders, name) {
		return BuildsWith
	}
	if m := ManagerOf(c); m != nil && slices.Contains(compilingManagers, m.Name) {
		if k := m.Read(c); k.Installs() || k.DepsOnly() {
			return BuildsWith
		}
	}
	if c.Opaque {
		return MayUse
	}
	return NoUse
}

// Runtime is what the image runs when it starts, as far as the Dockerfile
// says: the commands of its ENTRYPOINT and CMD, and of its HEALTHCHECK.
type Runtime struct {
	Cmds []*Cmd
	// Open says the Dockerfile does not say what runs: no CMD nor
	// ENTRYPOINT (the base image's, or one given at docker run: a base or a
	// development image), or a shell that runs whatever command it is given.
	Open bool
}

// RuntimeOf reads what the image built from stage st runs: the last
// ENTRYPOINT, CMD and HEALTHCHECK of st and the stages it is built FROM.
func (m *Model) RuntimeOf(st *rewrite.Stage) Runtime {
	var chain []*rewrite.Stage
	for s := st; s != nil; s = m.Doc.Parent(s) {
		chain = append([]*rewrite.Stage{s}, chain...)
	}
	var entry, cmd, health *instructions.ShellDependantCmdLine
	for _, s := range chain {
		for _, in := range s.Instructions {
			switch c := in.Command.(type) {
			case *instructions.EntrypointCommand:
				entry = &c.ShellDependantCmdLine
			case *instructions.CmdCommand:
				cmd = &c.ShellDependantCmdLine
			case *instructions.HealthCheckCommand:
				health = nil
				if c.Health != nil && len(c.Health.Test) > 1 {
					switch c.Health.Test[0] {
					case "CMD":
						health = &instructions.ShellDependantCmdLine{CmdLine: c.Health.Test[1:]}
					case "CMD-SHELL":
						health = &instructions.ShellDependantCmdLine{CmdLine: c.Health.Test[1:], PrependShell: true}
					}
				}
			}
		}
	}
	var rt Runtime
	if entry == nil && cmd == nil {
		rt.Open = true
	}
	read := func(lines ...*instructions.ShellDependantCmdLine) {
		var words []string
		for _, l := range lines {
			if l == nil {
				continue
			}
			if l.PrependShell {
				words = append(words, "/bin/sh", "-c", strings.Join(l.CmdLine, " "))
				break // a shell-form ENTRYPOINT takes no CMD
			}
			words = append(words, l.CmdLine...)
		}
		if len(words) == 0 {
			return
		}
		w := &walker{funcs: map[string]bool{}, known: true}
		w.resolve(&Cmd{}, literalWords(words), -1, placement{})
		for _, c := range w.cmds {
			if c.Opaque && (strings.HasSuffix(c.Why, "-c without a program") || strings.HasSuffix(c.Why, "reads its commands from standard input")) {
				rt.Open = true
			}
		}
		rt.Cmds = append(rt.Cmds, w.cmds...)
	}
	read(entry, cmd)
	read(health)
	return rt
}

// Uses tells the strongest use the runtime makes of a build tool package:
// a command that uses it, or a word of one that names its program.
func (rt Runtime) Uses(mgr, pkg string) Use {
	u := NoUse
	progs := ToolPrograms(mgr, pkg)
	for _, c := range rt.Cmds {
		u = max(u, ToolUse(c, mgr, pkg))
		// An entrypoint script given the command as its arguments
		// (ENTRYPOINT ["/entry.sh"] CMD ["make", "run"]) runs it.
		for _, a := range c.Args {
			if v, ok := a.Value(); ok && slices.Contains(progs, baseName(v)) {
				u = Runs
			}
		}
	}
	return u
}

// DevelopmentImage tells whether a Dockerfile builds an image to develop
// in, whose users run compilers and version control themselves: one in a
// .devcontainer folder, or built FROM a Dev Containers image.
func DevelopmentImage(d *rewrite.Document) bool {
	if slices.Contains(strings.Split(filepath.ToSlash(d.Path), "/"), ".devcontainer") {
		return true
	}
	for _, st := range d.Stages {
		if d.Parent(st) == nil && (strings.Contains(st.Base, "/devcontainers/") || strings.Contains(st.Base, "vscode/devcontainers")) {
			return true
		}
	}
	return false
}
