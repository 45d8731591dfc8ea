package rules

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// staticRuntime is the web server a static site goes onto, and staticRoot
// the folder it serves by default.
const (
	staticRuntime = "nginx:stable-alpine"
	staticRoot    = "/usr/share/nginx/html"
)

// staticCommand is nginx's own command, in the foreground: the image's
// command in place of the Node.js static server's.
var staticCommand = []string{"nginx", "-g", "daemon off;"}

// findStaticSiteBuild finds a Node.js project that builds a static site
// with npm run SCRIPT (vite build, ...) and whose image serves the build
// output with serve or http-server, options dfopt reads in full: the
// builder keeps the build as it is; the runtime stage is nginx with the
// output as its root, a server block that keeps the port, the clean URLs
// and (serve -s) the single-page fallback, and nginx's command in place of
// the image's CMD. It reads package.json, the build tool's configuration
// and the build context's files; without them, nothing is proposed.
func findStaticSiteBuild(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage) (*stageSplit, bool) {
	ctx := p.Options.Context
	if ctx == nil || runmodel.DevelopmentImage(p.Doc) {
		return nil, false
	}
	argv, ok := imageCommand(st)
	if !ok {
		return nil, false
	}
	if slices.ContainsFunc(st.Instructions, func(in *rewrite.Instruction) bool {
		_, entry := in.Command.(*instructions.EntrypointCommand)
		return entry
	}) {
		return nil, false // an ENTRYPOINT: the image's command is not the CMD's alone
	}
	last := st.Instructions[len(st.Instructions)-1]
	wd := m.After(last).Workdir
	// npm start runs the start script with node_modules/.bin on PATH.
	viaStart := runmodel.NpmStart(argv)
	srv, npx, why := runmodel.StaticServerOf(argv)
	if why != "" && !viaStart {
		return nil, false
	}
	main, in, script, ok := findNpmRun(m, st)
	if !ok {
		return nil, false
	}
	dir := m.Cwd(m.State(in), main)
	if dir == "" {
		return nil, false
	}
	read := projectReader(p, m, st, in, dir)
	data, ok := read("package.json")
	if !ok {
		return nil, false
	}
	pkg, ok := runmodel.ReadNodePackage(data)
	if !ok || len(pkg.InstallHooks()) > 0 || len(pkg.Hooks(script)) > 0 {
		return nil, false // scripts npm runs around the install or the build may write into the output
	}
	if viaStart {
		if wd != dir || len(pkg.Hooks("start")) > 0 {
			return nil, false
		}
		words, ok := runmodel.ScriptWords(pkg.Scripts["start"])
		if !ok {
			return nil, false
		}
		if srv, npx, why = runmodel.StaticServerOf(words); why != "" || npx {
			return nil, false
		}
	}
	build, why := runmodel.NodeBuildOutput(pkg.Scripts[script], read)
	if why != "" {
		return nil, false
	}
	out := path.Join(dir, build.Out)
	if wd == "" || resolve(wd, srv.Folder) != out {
		return nil, false // it serves another folder than the build's output
	}

	// The image's CMD: the last one, after the build, which the runtime
	// stage's command replaces.
	k := slices.Index(st.Instructions, in)
	cmdAt := -1
	for i, x := range st.Instructions {
		switch x.Command.(type) {
		case *instructions.CmdCommand:
			cmdAt = i
		case *instructions.UserCommand:
			if !m.After(x).Root() {
				return nil, false // nginx starts as root (its pid file, its caches)
			}
		case *instructions.CopyCommand, *instructions.AddCommand:
			if i > k {
				return nil, false // a file added to the site after the build
			}
		}
	}
	if cmdAt <= k {
		return nil, false
	}
	port := srv.Port
	if v, ok := m.After(last).Env["PORT"]; ok && v.ByEnv && srv.DefaultPort {
		n, err := strconv.Atoi(v.Value)
		if !v.Fixed || err != nil || n <= 0 || n > 65535 {
			return nil, false // the port PORT names, where dfopt cannot read it
		}
		port = n
	}
	srv.Port = port

	// Where does the server come from: the project's node_modules, or a
	// global install of the stage.
	global := map[*runmodel.Cmd]bool{}
	installs, ok := npmProjectInstalls(m, st, st.Instructions[k], main, dir, func(_ *rewrite.Instruction, c *runmodel.Cmd, mgr *runmodel.Manager) bool {
		if call := mgr.Read(c); mgr.Name == "npm" && c.Always() && call.Installs() && call.HasFlag("-g", "--global") && !call.AnyUnknownArg() && globalInstallOf(call, srv.Package) {
			global[c] = true
		}
		return true
	})
	if !ok {
		return nil, false
	}
	local := runmodel.NodeDependsOn(data, srv.Package) && len(installs) > 0
	switch {
	case len(installs) == 0:
		return nil, false // nothing installed the build's packages
	case (npx || viaStart) && wd != dir:
		return nil, false // npx and npm run find the project's packages from its folder
	case npx && !local:
		return nil, false // npx would fetch the server when the container starts
	case !npx && !(viaStart && local) && len(global) == 0:
		return nil, false // a server on PATH that the stage did not install
	}
	if configIn(ctx, p.Doc, st) {
		return nil, false
	}

	cmdIn := st.Instructions[cmdAt]
	runKw := p.Doc.Keyword(in, "RUN")
	setup := runKw + " printf '%s\\n'"
	for _, line := range runmodel.NginxStaticConfig(srv, staticRoot) {
		setup += " '" + line + "'"
	}
	setup += " > /etc/nginx/conf.d/default.conf"

	sp := &stageSplit{
		build:   in,
		main:    main,
		program: fmt.Sprintf("the static site %s (served with %s)", out, strings.Join(argv, " ")),
		outputs: []string{out},
		moved:   map[string]string{out: staticRoot},
		runtime: staticRuntime,
		setup:   []string{setup},
		source:  func(string) bool { return true }, // nginx serves the build's output alone
		edits:   []rewrite.Edit{p.Doc.ReplaceInstruction(cmdIn, p.Doc.Keyword(cmdIn, "CMD")+" "+rewrite.JSONArgs(staticCommand))},
	}
	sp.runs = func(got []string, _ string) bool { return slices.Equal(got, argv) }
	sp.step = func(c *runmodel.Cmd) bool {
		switch mgr := runmodel.ManagerOf(c); {
		case installs[c] || global[c]:
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
	how := map[string]string{
		"tsc":     "read from package.json and the tsconfig",
		"vite":    "vite build's default, which no vite.config sets otherwise",
		"esbuild": "read from package.json",
	}[build.Tool]
	if build.Tool == "vite" && strings.Contains(pkg.Scripts[script], "--outDir") {
		how = "read from package.json; no vite.config sets it otherwise"
	}
	differs := "response headers, compression, caching, directory listings and error pages differ"
	switch srv.Package {
	case runmodel.ServePackage:
		differs += "; PATH still serves PATH.html, but serve's redirects of PATH.html to PATH are not kept"
		if srv.Compress {
			differs += "; nginx compresses above 1 KiB, as serve does"
		}
	case runmodel.HTTPServerPackage:
		differs += fmt.Sprintf("; PATH still serves PATH.html (http-server's default extension), and Cache-Control max-age=%d is kept", srv.CacheSeconds)
	}
	served := "a path with no file gets 404, with the site's 404.html where it has one, as " + srv.Package + " answers"
	if srv.Single {
		served = "serve -s's single-page fallback is kept: a path with no file gets /index.html (try_files)"
	}
	portFrom := "the port of the command"
	if srv.DefaultPort {
		portFrom = srv.Package + "'s default port"
		if _, ok := m.After(last).Env["PORT"]; ok {
			portFrom = "the port ENV PORT sets, which " + srv.Package + " reads"
		}
	}
	if viaStart {
		sp.program = fmt.Sprintf("the static site %s (served with npm start: %s)", out, pkg.Scripts["start"])
	}
	sp.assumes = append(sp.assumes,
		"nginx serves "+out+" in place of "+srv.Package+", from "+staticRoot+": "+differs,
		fmt.Sprintf("it listens on %d as before (%s), on IPv4", port, portFrom),
		served,
		"npm run "+script+" ("+pkg.Scripts[script]+") writes the whole site to "+out+" ("+how+"); no devDependency and no Node.js are needed at run time",
		"the image's command becomes nginx's ("+strings.Join(staticCommand, " ")+")")
	return sp, true
}

// globalInstallOf tells whether npm install -g installs pkg alone (any
// version).
func globalInstallOf(call runmodel.Call, pkg string) bool {
	ops := call.Operands()
	if len(ops) != 1 {
		return false
	}
	name, _, _ := strings.Cut(ops[0], "@")
	return name == pkg
}

// configIn tells whether the build context holds a file a static server
// may read as its configuration from the folder it serves, where the
// build may copy it there (serve.json from vite's public/): nginx would
// not follow it.
func configIn(ctx *rewrite.BuildContext, d *rewrite.Document, st *rewrite.Stage) bool {
	found := false
	for _, c := range contextCopies(d, map[*rewrite.Stage]bool{st: true}) {
		if c.unknown {
			return true
		}
		c.walk(ctx, func(f rewrite.ContextFile) bool {
			if !f.Dir && runmodel.StaticServerConfig(f.Path, "package.json") {
				found = true
			}
			return found
		})
	}
	return found
}
