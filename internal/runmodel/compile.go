package runmodel

import (
	"path"
	"slices"
	"strings"
)

// Compile is a command that compiles a program into one file the image can
// run: go build -o OUT, or a C or C++ compiler's -o OUT. A multi-stage
// split knows from it what the runtime stage needs from the build.
type Compile struct {
	Lang string // "go" or "c"
	Cmd  *Cmd
	// Out is the file it writes, absolute and clean.
	Out string
	// Static says the program surely links no shared library:
	// CGO_ENABLED=0 for go build, -static for a C compiler.
	Static bool
	// CgoSet says go build runs with CGO_ENABLED set, to 0 or not: set
	// to anything but 0, cgo is on for sure.
	CgoSet bool
}

// goBuildValueFlags are go build's flags that take the next word as their
// value (-o is read on its own).
var goBuildValueFlags = []string{"-ldflags", "-gcflags", "-asmflags", "-tags", "-mod", "-modfile", "-p", "-pkgdir",
	"-compiler", "-gccgoflags", "-installsuffix", "-overlay", "-pgo", "-exec", "-toolexec", "-coverpkg", "-covermode", "-C", "-buildmode"}

// CompileOf reads a command of a RUN as a compile: go build with -o naming
// one file (not a folder), for one main package, in the default build mode;
// gcc, g++, cc, c++, clang or clang++ (or gcc-12 and the like) with -o and
// none of -c, -S, -E, -M, -shared. ok is false for anything else, and for a
// command whose words or folder the model cannot read.
func (m *Model) CompileOf(r *Run, c *Cmd) (Compile, bool) {
	if c.Opaque || c.MoreArgs || c.Name == "" {
		return Compile{}, false
	}
	cwd := m.Cwd(m.State(r.In), c)
	switch {
	case c.Name == "go" && c.Arg(0) == "build":
		return m.goBuild(r, c, cwd)
	case isCCompiler(c.Name):
		return cCompile(c, cwd)
	}
	return Compile{}, false
}

func (m *Model) goBuild(r *Run, c *Cmd, cwd string) (Compile, bool) {
	out, pkgs := "", 0
	for i := 1; i < len(c.Args); i++ {
		v, ok := c.Args[i].Value()
		if !ok {
			// An option's value may be unknown (-ldflags "-X main.v=$V");
			// an operand may not.
			if i > 0 && slices.Contains(goBuildValueFlags, c.Arg(i-1)) || strings.HasPrefix(c.Args[i].Text, "-") && !strings.HasPrefix(c.Args[i].Text, "-o") && !strings.HasPrefix(c.Args[i].Text, "-C") && !strings.HasPrefix(c.Args[i].Text, "-buildmode") {
				continue
			}
			return Compile{}, false
		}
		flag, value, hasValue := strings.Cut(v, "=")
		switch {
		case flag == "-o" || flag == "--o":
			if !hasValue {
				if i+1 >= len(c.Args) {
					return Compile{}, false
				}
				i++
				if value, ok = c.Args[i].Value(); !ok {
					return Compile{}, false
				}
			}
			out = value
		case flag == "-C" || flag == "--C":
			return Compile{}, false // another folder: not read
		case flag == "-buildmode" || flag == "--buildmode":
			if !hasValue {
				i++
				value = c.Arg(i)
			}
			if value != "exe" && value != "default" && value != "pie" {
				return Compile{}, false
			}
		case slices.Contains(goBuildValueFlags, flag) || slices.Contains(goBuildValueFlags, strings.TrimPrefix(flag, "-")):
			if !hasValue {
				i++
			}
		case strings.HasPrefix(v, "-"):
		default:
			pkgs++
		}
	}
	if out == "" || strings.HasSuffix(out, "/") || pkgs > 1 || cwd == "" && !strings.HasPrefix(out, "/") {
		return Compile{}, false // the file go names itself, a folder, several packages, or a folder dfopt cannot tell
	}
	comp := Compile{Lang: "go", Cmd: c, Out: inDir(cwd, out)}
	cgo, known, set := "", false, false
	if w, ok := c.Assigns["CGO_ENABLED"]; ok {
		cgo, known = w.Value()
		set = true
	} else {
		for _, a := range r.Assigns {
			if a.Name == "CGO_ENABLED" && a.Before(c) {
				cgo, known = a.Value.Value()
				set = true
			}
		}
		if !set {
			if v, ok := m.State(r.In).Env["CGO_ENABLED"]; ok {
				cgo, known, set = v.Value, v.Known, true
			}
		}
	}
	comp.CgoSet = set && known
	comp.Static = set && known && cgo == "0"
	return comp, true
}

// isCCompiler tells whether a command is a C or C++ compiler driver.
func isCCompiler(name string) bool {
	base := name
	if i := strings.LastIndexByte(name, '-'); i > 0 && strings.Trim(name[i+1:], "0123456789.") == "" {
		base = name[:i] // gcc-12, clang-16
	}
	switch base {
	case "gcc", "g++", "cc", "c++", "clang", "clang++":
		return true
	}
	return false
}

func cCompile(c *Cmd, cwd string) (Compile, bool) {
	comp := Compile{Lang: "c", Cmd: c}
	out := ""
	for i := 0; i < len(c.Args); i++ {
		v, ok := c.Args[i].Value()
		if !ok {
			if i > 0 && c.Arg(i-1) == "-o" {
				return Compile{}, false
			}
			continue // a source or a flag named by a variable: it does not change where the program goes
		}
		switch {
		case v == "-o":
			if i+1 >= len(c.Args) {
				return Compile{}, false
			}
			i++
			if out, ok = c.Args[i].Value(); !ok {
				return Compile{}, false
			}
		case strings.HasPrefix(v, "-o") && len(v) > 2:
			out = v[2:]
		case v == "-c" || v == "-S" || v == "-E" || v == "-M" || v == "-MM" || v == "-shared" || v == "-r":
			return Compile{}, false
		case v == "-static":
			comp.Static = true
		}
	}
	if out == "" || cwd == "" && !strings.HasPrefix(out, "/") {
		return Compile{}, false
	}
	comp.Out = inDir(cwd, out)
	return comp, true
}

// Operands lists the call's literal operands after its verb: the packages
// an install names. AnyUnknownArg tells whether some word is not literal.
func (k Call) Operands() []string { return k.operands() }

// ToolchainPackage tells whether a package a system package manager
// installs is part of a language's build toolchain ("go", "c", "rust"): a
// compiler, its C library headers, make and the like, and the version
// control tools builds fetch with (the build-tool table's Toolchain,
// Headers and VCS kinds, and binutils); for go and rust, the language's own
// packages. A program built with it runs without it.
func ToolchainPackage(lang, pkg string) bool {
	pkg = plainPackage(pkg)
	switch t, ok := lookupTool("apt", pkg); {
	case ok && (t.kind == Toolchain || t.kind == Headers || t.kind == VCS), pkg == "binutils":
		return true
	case lang == "rust":
		// Debian's cargo and rustc; rustup's installer comes with curl.
		return pkg == "cargo" || pkg == "rustc" || pkg == "rust-all" || pkg == "curl"
	case lang == "go":
		// Debian's golang-go and golang-1.22-go, Alpine's go.
		return pkg == "golang-go" || pkg == "golang" || pkg == "go" ||
			strings.HasPrefix(pkg, "golang-") && strings.HasSuffix(pkg, "-go") && strings.Trim(strings.TrimSuffix(strings.TrimPrefix(pkg, "golang-"), "-go"), "0123456789.") == ""
	}
	return false
}

// DotnetPublish is a dotnet publish into a folder.
type DotnetPublish struct {
	Cmd *Cmd
	Out string // the folder it publishes to, absolute
}

// DotnetPublishOf reads dotnet publish [PROJECT] -o DIR (--output DIR) with
// the options that leave the output framework-dependent (-c, --no-restore,
// --no-build, -p:NAME=VALUE, -v, --nologo, -f, /p:...). ok is false
// without -o, for a self-contained or single-file publish or a runtime
// identifier (-r, --sc, --self-contained, -p:PublishSingleFile or
// PublishTrimmed or PublishAot), and for a word or folder the model cannot
// read.
func (m *Model) DotnetPublishOf(r *Run, c *Cmd) (DotnetPublish, bool) {
	if c.MoreArgs || c.Name != "dotnet" || c.Arg(0) != "publish" {
		return DotnetPublish{}, false
	}
	out, projects := "", 0
	for i := 1; i < len(c.Args); i++ {
		v, ok := c.Args[i].Value()
		if !ok {
			return DotnetPublish{}, false
		}
		flag, value, hasValue := strings.Cut(v, "=")
		if strings.HasPrefix(flag, "-p:") || strings.HasPrefix(flag, "/p:") || strings.HasPrefix(flag, "--property:") {
			switch strings.ToLower(strings.SplitN(flag, ":", 2)[1]) {
			case "publishsinglefile", "publishtrimmed", "publishaot", "selfcontained", "runtimeidentifier", "publishreadytorun":
				return DotnetPublish{}, false
			}
			continue
		}
		switch flag {
		case "-o", "--output":
			if !hasValue {
				i++
				if value, ok = c.Args[min(i, len(c.Args)-1)].Value(); !ok || i >= len(c.Args) {
					return DotnetPublish{}, false
				}
			}
			out = value
		case "-c", "--configuration", "-f", "--framework", "-v", "--verbosity", "--version-suffix", "--source", "-s":
			if !hasValue {
				i++
			}
		case "--no-restore", "--no-build", "--nologo", "--no-dependencies", "--force", "--self-contained=false", "--no-self-contained":
		case "-r", "--runtime", "--sc", "--self-contained", "-a", "--arch", "--os", "--ucr", "--use-current-runtime":
			return DotnetPublish{}, false
		default:
			if strings.HasPrefix(v, "-") {
				return DotnetPublish{}, false
			}
			projects++
		}
	}
	cwd := m.Cwd(m.State(r.In), c)
	if out == "" || projects > 1 || !path.IsAbs(out) && !path.IsAbs(cwd) {
		return DotnetPublish{}, false
	}
	return DotnetPublish{Cmd: c, Out: inDir(cwd, out)}, true
}
