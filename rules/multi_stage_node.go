package rules

import (
	"path"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/internal/images"
	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// nodePrune is the command the builder runs after the build: it takes the
// devDependencies out of node_modules, so that the runtime stage copies
// the very packages the build installed, less those.
const nodePrune = "npm prune --omit=dev"

// findNodeBuild finds npm run SCRIPT in a stage that installs a Node.js
// project with npm and runs the script's output with node: the builder
// keeps the install and the build and prunes the devDependencies; the
// runtime stage, on the node image's -slim tag or the same distribution's
// slim image with Debian's nodejs, gets package.json, node_modules and the
// build output. dfopt reads package.json, the lockfile and the build
// tool's configuration from the build context: without one, nothing is
// proposed.
func findNodeBuild(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage) (*stageSplit, bool) {
	ctx := p.Options.Context
	if ctx == nil || runmodel.DevelopmentImage(p.Doc) {
		return nil, false // no package.json to read; an image to develop in, which ships its tools on purpose
	}
	main, in, script, ok := findNpmRun(m, st)
	if !ok {
		return nil, false
	}
	dir := m.Cwd(m.State(in), main)
	if dir == "" || m.After(in).Workdir != dir {
		return nil, false // the prune runs in the WORKDIR: it must be the project's
	}
	read := projectReader(p, m, st, in, dir)
	data, ok := read("package.json")
	if !ok {
		return nil, false
	}
	pkg, ok := runmodel.ReadNodePackage(data)
	if !ok || pkg.Gypfile || len(pkg.InstallHooks()) > 0 || len(pkg.Hooks(script)) > 0 {
		return nil, false // scripts npm runs around the install or the build may write anywhere
	}
	if _, ok := read("binding.gyp"); ok {
		return nil, false // a native addon of the project's own
	}
	lock, ok := read("package-lock.json")
	if !ok {
		if lock, ok = read("npm-shrinkwrap.json"); !ok {
			return nil, false
		}
	}
	if native, ok := runmodel.NodeLockNative(lock); !ok || len(native) > 0 {
		return nil, false // install scripts: native addons, downloaded binaries
	}
	build, why := runmodel.NodeBuildOutput(pkg.Scripts[script], read)
	if why != "" {
		return nil, false
	}
	out := path.Join(dir, build.Out)

	var aptRuntime []string // what the stage installs with apt that the application may need
	recommends := false
	installs, ok := npmProjectInstalls(m, st, in, main, dir, func(_ *rewrite.Instruction, c *runmodel.Cmd, mgr *runmodel.Manager) bool {
		k := mgr.Read(c)
		switch {
		case mgr.Name == "apt" && k.Installs():
			for _, pkg := range k.Operands() {
				if runmodel.NodeRuntimePackage(pkg) && !slices.Contains(aptRuntime, pkg) {
					aptRuntime = append(aptRuntime, pkg)
					recommends = recommends || !k.HasFlag("--no-install-recommends")
				}
			}
		case mgr.Name == "apk" && k.Installs() && slices.ContainsFunc(k.Operands(), runmodel.NodeRuntimePackage):
			return false // node from apk: its runtime stage is not written
		}
		return true
	})
	if !ok || len(installs) == 0 {
		return nil, false
	}

	sp := &stageSplit{build: in, main: main, outputs: []string{path.Join(dir, "package.json"), path.Join(dir, "node_modules"), out}}
	viaNpm := false
	if rt, ok := images.NodeRuntime(st.Base); ok {
		sp.runtime = rt
		if rt != st.Base {
			sp.assumes = append(sp.assumes, "it needs no program of "+st.Base+" that "+rt+" lacks (compilers, git, curl)")
		}
	} else {
		rt, ok := slimOf(st.Base)
		if !ok || strings.HasPrefix(rt, "alpine") || !slices.ContainsFunc(aptRuntime, func(p string) bool { return strings.HasPrefix(p, "nodejs") }) {
			return nil, false
		}
		sp.runtime = rt
		sp.assumes = append(sp.assumes, "apt installs on "+rt+" the same "+strings.Join(aptRuntime, ", ")+" as the build did (the same distribution and release), and the application needs no other program")
	}
	if len(aptRuntime) > 0 {
		flags := "-y --no-install-recommends"
		if recommends {
			flags = "-y"
		}
		sp.setup = append(sp.setup, p.Doc.Keyword(in, "RUN")+" apt-get update && apt-get install "+flags+" "+strings.Join(aptRuntime, " ")+" && rm -rf /var/lib/apt/lists/*")
	}
	sp.runs = func(argv []string, wd string) bool {
		file, ok := "", false
		if runmodel.NpmStart(argv) {
			if _, official := images.NodeRuntime(st.Base); !official || wd != dir || len(pkg.Hooks("start")) > 0 {
				return false // Debian's nodejs has no npm; npm start reads package.json in its folder
			}
			words, ok := runmodel.ScriptWords(pkg.Scripts["start"])
			if !ok {
				return false
			}
			if file, ok = runmodel.NodeMain(words); !ok {
				return false
			}
			file, viaNpm = path.Join(dir, file), true
		} else {
			if file, ok = runmodel.NodeMain(argv); !ok {
				return false
			}
			if file = resolve(wd, file); file == "" {
				return false
			}
		}
		sp.program = file
		if covers(out, file) {
			return true
		}
		// A file of the project outside the build output: one the build
		// context brings that is no source, so that the runtime stage
		// copies the project's folder whole (node server.js serving what
		// the build wrote).
		rel, ok := strings.CutPrefix(file, dir+"/")
		if !ok || strings.HasPrefix(rel, "node_modules/") || nodeSource(rel) {
			return false
		}
		_, ok = read(rel)
		return ok
	}
	sp.step = func(c *runmodel.Cmd) bool {
		switch mgr := runmodel.ManagerOf(c); {
		case installs[c]:
			return true
		case mgr != nil && mgr.Name == "npm":
			k := mgr.Read(c)
			return k.Verb == "cache" && k.Arg(k.Next(k.VerbAt)) == "clean"
		case mgr != nil && slices.Contains([]string{"yarn", "pnpm", "bun", "corepack"}, mgr.Name), c.Is("npx", "node", "nodejs", "corepack"):
			return false
		}
		return leftBehind(c, func(pkg string) bool {
			return runmodel.NodeToolchainPackage(pkg) || runmodel.NodeRuntimePackage(pkg)
		})
	}
	sp.source = nodeSource
	sp.edits = append(sp.edits, nodePruneEdit(p.Doc, in))
	how := map[string]string{
		"tsc":     "read from package.json and the tsconfig",
		"vite":    "vite build's default, which no vite.config sets otherwise",
		"esbuild": "read from package.json",
	}[build.Tool]
	sp.assumes = append(sp.assumes,
		"the application needs no devDependency at run time: the builder runs "+nodePrune+" after the build, and the runtime stage copies node_modules as that leaves it",
		"npm run "+script+" ("+pkg.Scripts[script]+") writes all the build output to "+out+" ("+how+")")
	if viaNpm {
		sp.assumes = append(sp.assumes, "npm start runs "+pkg.Scripts["start"]+" as in the original")
	}
	return sp, true
}

// findNpmRun finds the one npm run SCRIPT of a stage (npm run-script, with
// no word after the script's name), which runs whenever its RUN succeeds.
func findNpmRun(m *runmodel.Model, st *rewrite.Stage) (*runmodel.Cmd, *rewrite.Instruction, string, bool) {
	c, at, ok := buildRun(m, st, false, func(r *runmodel.Run, c *runmodel.Cmd) (*runmodel.Cmd, bool, bool) {
		if c.Name != "npm" || c.Arg(0) != "run" && c.Arg(0) != "run-script" {
			return nil, false, true
		}
		return c, true, len(c.Args) == 2 && !c.AnyUnknownArg() && c.InShell && len(c.Via) == 0
	})
	if !ok {
		return nil, nil, "", false
	}
	return c, at, c.Arg(1), true
}

// projectReader reads the files of the project at dir as the stage's
// COPYs before the build put them there, by their path relative to dir.
func projectReader(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage, build *rewrite.Instruction, dir string) func(rel string) ([]byte, bool) {
	ctx := p.Options.Context
	files := map[string]string{} // path in the image -> path in the context
	k := slices.Index(st.Instructions, build)
	for _, c := range contextCopies(p.Doc, map[*rewrite.Stage]bool{st: true}) {
		if i := slices.Index(st.Instructions, c.in); i < 0 || i > k {
			continue
		}
		cp, ok := c.in.Command.(*instructions.CopyCommand)
		if !ok || c.unknown {
			return func(string) ([]byte, bool) { return nil, false }
		}
		dest, ok := copyDestination(m, c.in, cp.DestPath)
		if !ok {
			return func(string) ([]byte, bool) { return nil, false }
		}
		destDir := strings.HasSuffix(cp.DestPath, "/") || cp.DestPath == "." || strings.HasSuffix(cp.DestPath, "/.") || dest == m.State(c.in).Workdir
		landed, why := c.landings(ctx, dest, destDir)
		if why != "" {
			return func(string) ([]byte, bool) { return nil, false }
		}
		for _, l := range landed {
			files[l.image] = l.rel
		}
	}
	return func(rel string) ([]byte, bool) {
		src, ok := files[path.Join(dir, rel)]
		if !ok {
			return nil, false
		}
		data := head(ctx, src, 4<<20)
		return data, data != nil
	}
}

// nodeSource tells whether a file of the build context is one a built
// Node.js application does not read at run time: TypeScript sources, the
// manifests (package.json is copied on its own) and the configuration of
// the build's tools. JavaScript files are not: the application may load
// them.
func nodeSource(rel string) bool {
	base := path.Base(rel)
	switch path.Ext(base) {
	case ".ts", ".tsx", ".mts", ".cts":
		return true
	}
	switch {
	case base == "package.json" || base == "package-lock.json" || base == "npm-shrinkwrap.json" || base == ".nvmrc" || base == ".node-version" || base == ".editorconfig":
		return true
	case strings.HasPrefix(base, "tsconfig") && strings.HasSuffix(base, ".json"):
		return true
	case strings.HasPrefix(base, ".eslintrc") || strings.HasPrefix(base, "eslint.config.") || strings.HasPrefix(base, ".prettierrc") || base == ".prettierignore" || base == ".eslintignore":
		return true
	case strings.HasPrefix(base, "vite.config.") || strings.HasPrefix(base, "vitest.config.") || strings.HasPrefix(base, "jest.config."):
		return true
	}
	return false
}

// nodePruneEdit inserts the prune as a RUN of its own right after the
// build's, before the runtime stage the rule inserts there.
func nodePruneEdit(doc *rewrite.Document, build *rewrite.Instruction) rewrite.Edit {
	at := build.End
	line := doc.Keyword(build, "RUN") + " " + nodePrune
	if at == 0 || doc.Src[at-1] != '\n' {
		line = "\n" + line // the rule adds the line's end before its FROM
	} else {
		line += "\n"
	}
	return rewrite.Edit{Start: at, End: at, New: line}
}

// npmProjectInstalls walks the RUNs of the stage up to the build's (in)
// and finds the npm installs of the whole project in dir that always run.
// Every other command of a package manager but the build goes to other,
// which returns false to give up; so does a command the model cannot see
// through (ok false).
func npmProjectInstalls(m *runmodel.Model, st *rewrite.Stage, in *rewrite.Instruction, main *runmodel.Cmd, dir string, other func(x *rewrite.Instruction, c *runmodel.Cmd, mgr *runmodel.Manager) bool) (installs map[*runmodel.Cmd]bool, ok bool) {
	installs = map[*runmodel.Cmd]bool{}
	for _, x := range st.Instructions {
		if r := m.Run(x); r != nil {
			for _, c := range r.Cmds {
				if c == main {
					continue
				}
				if c.Opaque {
					return nil, false
				}
				mgr := runmodel.ManagerOf(c)
				switch {
				case mgr == nil:
				case mgr.Name == "npm" && runmodel.NpmProjectInstall(mgr.Read(c)) && c.Always() && m.Cwd(m.State(x), c) == dir:
					installs[c] = true
				case !other(x, c, mgr):
					return nil, false
				}
			}
		}
		if x == in {
			break
		}
	}
	return installs, true
}
