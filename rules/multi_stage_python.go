package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/internal/images"
	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
)

// pythonVenv is where the builder's virtualenv goes when the file has
// none: pip installs into the image's Python, whose packages are spread
// over /usr/local; a virtualenv holds them in one folder a runtime stage
// can copy.
const pythonVenv = "/opt/venv"

// pythonBuild is what findPythonBuild reads of a stage.
type pythonBuild struct {
	venv     string          // the virtualenv's folder, absolute
	made     *runmodel.Cmd   // python -m venv, nil where the split adds it
	pips     []*runmodel.Cmd // pip installs, in order
	pipRuns  []*rewrite.Instruction
	compiler bool     // apt installs a C compiler
	devs     []string // -dev packages whose runtime library the runtime stage installs
	libs     []string // those libraries
	carried  []string // ca-certificates, tzdata, netbase
	noRecs   bool     // every apt install has --no-install-recommends
	pyApt    bool     // apt installs Python (python3, python3-venv, ...)
}

// findPythonBuild finds pip installing a project's compiled dependencies
// with a C compiler apt installed: on an official python image (Debian
// tags), or on Debian with apt's python3. The last pip install is the
// build; the runtime stage is the python image's slim tag (or Debian's
// slim image with apt's python3) with the runtime libraries of the -dev
// packages the build installed, and the virtualenv copied whole. Where the
// file installs into the image's Python, the builder gets a virtualenv
// first, and PATH finds its pip and python.
func findPythonBuild(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage) (*stageSplit, bool) {
	ref, err := images.Parse(st.Base)
	if err != nil {
		return nil, false
	}
	release := images.DebianRelease(ref)
	var runtime string
	debian := false
	if tag, ok := images.PythonRuntime(ref); ok {
		runtime = withTag(st.Base, tag)
	} else if ref.Official() == "debian" {
		if runtime, ok = slimOf(st.Base); !ok {
			return nil, false
		}
		debian = true
	} else {
		return nil, false
	}
	pb, ok := readPythonBuild(m, st, release)
	if !ok || !pb.compiler || len(pb.pips) == 0 {
		return nil, false // no compiler: nothing a builder would keep (slim-base reads those)
	}
	if debian && (pb.made == nil || !pb.pyApt) {
		return nil, false // Debian's Python installs into a virtualenv, or not at all (PEP 668)
	}
	main := pb.pips[len(pb.pips)-1]
	build := pb.pipRuns[len(pb.pipRuns)-1]
	if main.Cond || main.Background {
		return nil, false // the build may not run
	}
	argv, ok := imageCommand(st)
	if !ok {
		return nil, false
	}
	last := m.After(st.Instructions[len(st.Instructions)-1])
	if pb.made == nil {
		if _, set := last.Env["PATH"]; set {
			return nil, false // the virtualenv's bin folder must come first on PATH
		}
	} else if !firstOnPath(last.Env, pb.venv) {
		if p := argv[0]; !runmodel.InVenvBin(p, pb.venv) {
			return nil, false
		}
	}
	d := p.Doc
	sp := &stageSplit{build: build, main: main, outputs: []string{pb.venv}, runtime: runtime,
		program: strings.Join(argv, " ") + " with what pip built into " + pb.venv}
	sp.runs = func(argv []string, wd string) bool {
		return len(argv) > 0 && (runmodel.InVenvBin(argv[0], pb.venv) || runmodel.PythonStarter(argv[0]))
	}
	sp.step = func(c *runmodel.Cmd) bool {
		switch {
		case c == pb.made || slices.Contains(pb.pips, c):
			return true
		case runmodel.IsPython(c.Name):
			return len(c.Args) == 1 && (c.Args[0].Is("--version") || c.Args[0].Is("-V"))
		case c.Name == "pip":
			switch runmodel.ManagerOf(c).Read(c).Verb {
			case "list", "freeze", "check", "show", "--version", "-V":
				return true
			}
			return false
		}
		return leftBehind(c, func(pkg string) bool {
			_, dev := runmodel.DevRuntime(release, pkg)
			return runmodel.ToolchainPackage("c", pkg) || runmodel.PythonPackage(pkg) || dev || slices.Contains(runmodel.PythonCarried, pkg)
		})
	}
	sp.source = pythonBuildFile
	installs := pb.libs
	if debian {
		installs = append(append([]string{"python3"}, pb.libs...), pb.carried...)
	}
	if len(installs) > 0 {
		flags := "-y"
		if pb.noRecs {
			flags += " --no-install-recommends"
		}
		sp.setup = append(sp.setup, fmt.Sprintf("%s apt-get update && apt-get install %s %s && rm -rf /var/lib/apt/lists/*",
			d.Keyword(st.From, "RUN"), flags, strings.Join(installs, " ")))
	}
	if pb.made == nil {
		first := pb.pipRuns[0]
		env := d.Keyword(first, "ENV") + " PATH=" + pythonVenv + "/bin:$PATH"
		sp.edits = append(sp.edits, rewrite.Edit{Start: first.Start, End: first.Start,
			New: d.Keyword(first, "RUN") + " python -m venv " + pythonVenv + "\n" + env + "\n"})
		sp.setup = append(sp.setup, env)
		sp.assumes = append(sp.assumes, "pip installs into the virtualenv "+pythonVenv+" (made with the image's Python, its bin folder first on PATH) what it installed into the image's Python, from the same requirements")
	}
	switch {
	case len(pb.libs) > 0:
		sp.assumes = append(sp.assumes, fmt.Sprintf("the packages pip built load no shared library but Python's, the C library's and %s (for %s), which the runtime stage installs",
			strings.Join(pb.libs, ", "), strings.Join(pb.devs, ", ")))
	default:
		sp.assumes = append(sp.assumes, "the packages pip built load no shared library but Python's and the C library's")
	}
	if !debian && !strings.Contains(ref.Tag, "slim") {
		sp.assumes[len(sp.assumes)-1] += " (" + ref.Official() + ":" + ref.Tag + " has -dev libraries " + runtime + " lacks: pip built against none of them)"
	}
	if debian {
		sp.assumes = append(sp.assumes, runtime+" with Debian's python3 runs the virtualenv as the build's python3 did")
	} else if runtime != st.Base {
		sp.assumes = append(sp.assumes, runtime+" holds the same Python as "+st.Base+", at the same path")
	}
	sp.assumes = append(sp.assumes, "nothing but pip wrote outside "+pb.venv+" and the project (a setup.py writes nowhere else)")
	return sp, true
}

// readPythonBuild reads the stage's RUNs: the virtualenv, the pip
// installs and what apt installs. ok is false where a pip install goes
// elsewhere than the one environment, or apt installs a package the
// split does not know what to do with.
func readPythonBuild(m *runmodel.Model, st *rewrite.Stage, release string) (pythonBuild, bool) {
	pb := pythonBuild{noRecs: true}
	viaPath := -1 // whether bare pip finds the virtualenv's: -1 unknown yet, 0 no, 1 yes
	for _, in := range st.Instructions {
		r := m.Run(in)
		if r == nil {
			continue
		}
		s := m.State(in)
		env := func(name string) (string, bool) { v, ok := s.Env[name]; return v.Value, ok }
		for _, c := range r.Cmds {
			if v, ok := runmodel.VenvOf(c); ok {
				dir, ok := m.WordPath(r, c, v.Dir)
				if !ok || dir == "" {
					return pb, false
				}
				if !path.IsAbs(dir) {
					cwd := m.Cwd(s, c)
					if cwd == "" {
						return pb, false
					}
					dir = path.Join(cwd, dir)
				}
				if pb.made != nil || len(pb.pips) > 0 || !c.Always() {
					return pb, false // two virtualenvs, or one made after an install or on a condition
				}
				pb.made, pb.venv = c, path.Clean(dir)
				continue
			}
			mgr := runmodel.ManagerOf(c)
			if mgr == nil {
				continue // the core reads the other commands: housekeeping stays, anything else stops it
			}
			k := mgr.Read(c)
			switch mgr.Name {
			case "pip":
				if !k.Installs() || k.Verb != "install" {
					continue
				}
				if runmodel.PipElsewhere(k, env) != "" {
					return pb, false
				}
				venv, ok := pipEnvironment(c, s, pb)
				if !ok {
					return pb, false
				}
				if venv {
					if viaPath == 0 {
						return pb, false
					}
					viaPath = 1
				} else {
					if viaPath == 1 || runmodel.PipBuildIsolationOff(k, env) {
						return pb, false // the virtualenv lacks what the image's Python had for the build (wheel, setuptools)
					}
					viaPath = 0
				}
				pb.pips = append(pb.pips, c)
				if len(pb.pipRuns) == 0 || pb.pipRuns[len(pb.pipRuns)-1] != in {
					pb.pipRuns = append(pb.pipRuns, in)
				}
			case "apt":
				if !k.Installs() {
					continue
				}
				if k.AnyUnknownArg() {
					return pb, false
				}
				pb.noRecs = pb.noRecs && k.HasFlag("--no-install-recommends")
				for _, pkg := range k.Operands() {
					lib, dev := runmodel.DevRuntime(release, pkg)
					switch {
					case runmodel.ToolchainPackage("c", pkg):
						pb.compiler = pb.compiler || runmodel.CompilerPackage(pkg)
					case runmodel.PythonPackage(pkg):
						pb.pyApt = true
					case dev:
						pb.devs = append(pb.devs, pkg)
						if !slices.Contains(pb.libs, lib) {
							pb.libs = append(pb.libs, lib)
						}
					case slices.Contains(runmodel.PythonCarried, pkg):
						pb.carried = append(pb.carried, pkg)
					default:
						return pb, false // a -dev package without a known runtime library, or a program the image may run
					}
				}
			default:
				return pb, false // another package manager: conda, apk, uv, poetry, ...
			}
		}
	}
	if pb.made == nil {
		pb.venv = pythonVenv
	}
	return pb, true
}

// pipEnvironment tells whether a pip command runs the virtualenv's pip
// (venv true) or the image's, named without a folder (venv false); ok is
// false for a pip or python named by another path.
func pipEnvironment(c *runmodel.Cmd, s runmodel.State, pb pythonBuild) (venv, ok bool) {
	prog, known := c.Prog.Value()
	if !known {
		return false, false
	}
	if strings.Contains(prog, "/") {
		return pb.made != nil && runmodel.InVenvBin(prog, pb.venv), pb.made != nil && runmodel.InVenvBin(prog, pb.venv)
	}
	if pb.made == nil {
		return false, true
	}
	return firstOnPath(s.Env, pb.venv), firstOnPath(s.Env, pb.venv)
}

// firstOnPath tells whether PATH, as ENV set it, starts with a
// virtualenv's bin folder.
func firstOnPath(env runmodel.Env, venv string) bool {
	v, ok := env["PATH"]
	if !ok {
		return false
	}
	first, _, _ := strings.Cut(v.Value, ":")
	return !strings.Contains(first, "$") && path.Clean(first) == path.Join(venv, "bin")
}

// pythonBuildFile tells whether a file of the build context is one only
// the build of a Python project reads: its packaging files, requirements,
// and the C and Cython sources of its extensions.
func pythonBuildFile(rel string) bool {
	base := path.Base(rel)
	switch base {
	case "setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in", "Pipfile", "Pipfile.lock", "poetry.lock", "tox.ini", "noxfile.py":
		return true
	}
	if (strings.HasPrefix(base, "requirements") || strings.HasPrefix(base, "constraints")) && path.Ext(base) == ".txt" {
		return true
	}
	return slices.Contains([]string{".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".pyx", ".pxd"}, path.Ext(base))
}

// withTag writes an image reference as written with another tag.
func withTag(ref, tag string) string {
	name := ref
	if c := strings.LastIndex(ref, ":"); c > strings.LastIndex(ref, "/") {
		name = ref[:c]
	}
	return name + ":" + tag
}
