package runmodel

import (
	"encoding/json"
	"path"
	"slices"
	"strings"
)

// A Node.js application with a build step installs its whole project
// (devDependencies too: the compiler, the bundler), runs a script of
// package.json that writes the build output, and runs that output with
// node. What follows is what dfopt reads of such a project: package.json's
// scripts, where a build tool writes, which packages of the lockfile run
// install scripts, and what a command that starts node runs. It reads the
// project's files only through what it is given; it reads no file itself.

// NodePackage is what dfopt reads of a project's package.json.
type NodePackage struct {
	Scripts map[string]string `json:"scripts"`
	// Gypfile says the project itself builds a native addon.
	Gypfile bool `json:"gypfile"`
}

// ReadNodePackage reads package.json.
func ReadNodePackage(data []byte) (NodePackage, bool) {
	var p NodePackage
	if err := json.Unmarshal(data, &p); err != nil {
		return NodePackage{}, false
	}
	return p, true
}

// nodeInstallHooks are the project's own scripts npm runs on an install of
// the whole project (npm ci, npm install): they may write anywhere.
var nodeInstallHooks = []string{"preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare"}

// InstallHooks lists the project's scripts an install of the whole
// project runs.
func (p NodePackage) InstallHooks() []string {
	var out []string
	for _, h := range nodeInstallHooks {
		if _, ok := p.Scripts[h]; ok {
			out = append(out, h)
		}
	}
	return out
}

// Hooks lists the scripts npm runs around the script name (prebuild and
// postbuild around build).
func (p NodePackage) Hooks(name string) []string {
	var out []string
	for _, h := range []string{"pre" + name, "post" + name} {
		if _, ok := p.Scripts[h]; ok {
			out = append(out, h)
		}
	}
	return out
}

// ScriptWords reads a script of package.json as one simple command: its
// words, split on blanks. ok is false when the script holds anything the
// shell would read otherwise (quotes, expansions, operators, redirections,
// globs, assignments): then it is more than one plain command.
func ScriptWords(script string) ([]string, bool) {
	if strings.ContainsAny(script, "\"'`$&|;<>()*?[]{}~\\#\n") {
		return nil, false
	}
	words := strings.Fields(script)
	if len(words) == 0 || strings.Contains(words[0], "=") {
		return nil, false
	}
	return words, true
}

// NodeBuild is where a build script writes its output.
type NodeBuild struct {
	Tool string // tsc, vite, esbuild
	// Out is the folder (or, for esbuild --outfile, the file) it writes,
	// relative to the project's folder and clean.
	Out string
}

// NodeBuildOutput reads a build script of package.json (its text) and
// says where it writes: tsc (outDir from the command line or from the
// tsconfig it reads), vite build (dist, or --outDir) and esbuild
// (--outdir, --outfile). read gives a file of the project by its path
// relative to the project's folder. why says why dfopt cannot tell ("" when
// it can): another tool (next, webpack, nuxt: their configuration is code),
// a config dfopt cannot read, more than one command.
func NodeBuildOutput(script string, read func(rel string) ([]byte, bool)) (NodeBuild, string) {
	words, ok := ScriptWords(script)
	if !ok {
		return NodeBuild{}, "the build script is more than one plain command"
	}
	var b NodeBuild
	var why string
	switch words[0] {
	case "tsc":
		b, why = tscOutput(words[1:], read)
	case "vite":
		b, why = viteOutput(words[1:], read)
	case "esbuild":
		b, why = esbuildOutput(words[1:])
	default:
		return NodeBuild{}, words[0] + " writes where its configuration says, which dfopt does not read"
	}
	if why != "" {
		return NodeBuild{}, why
	}
	b.Out = path.Clean(b.Out)
	if b.Out == "." || strings.HasPrefix(b.Out, "..") || path.IsAbs(b.Out) || b.Out == "node_modules" || strings.HasPrefix(b.Out, "node_modules/") {
		return NodeBuild{}, words[0] + " writes into the project's own folder or outside it"
	}
	return b, ""
}

func tscOutput(args []string, read func(string) ([]byte, bool)) (NodeBuild, string) {
	b := NodeBuild{Tool: "tsc"}
	project := "tsconfig.json"
	for i := 0; i < len(args); i++ {
		flag, value, hasValue := strings.Cut(args[i], "=")
		switch flag {
		case "-p", "--project", "--outDir", "--outdir":
			if !hasValue {
				if i+1 >= len(args) {
					return NodeBuild{}, "tsc " + flag + " has no value"
				}
				i++
				value = args[i]
			}
			if flag == "-p" || flag == "--project" {
				project = value
			} else {
				b.Out = value
			}
		default:
			// Files named on the command line make tsc ignore its
			// tsconfig; any other option may take a value dfopt would
			// read as a file, or change what tsc writes.
			return NodeBuild{}, "tsc " + args[i] + " is an option or file dfopt does not read"
		}
	}
	if !strings.HasSuffix(project, ".json") {
		project = path.Join(project, "tsconfig.json")
	}
	data, ok := read(path.Clean(project))
	if !ok {
		return NodeBuild{}, "dfopt cannot read " + project
	}
	var cfg struct {
		Extends         json.RawMessage `json:"extends"`
		CompilerOptions struct {
			OutDir              string `json:"outDir"`
			OutFile             string `json:"outFile"`
			NoEmit              bool   `json:"noEmit"`
			EmitDeclarationOnly bool   `json:"emitDeclarationOnly"`
			Composite           bool   `json:"composite"`
		} `json:"compilerOptions"`
		References json.RawMessage `json:"references"`
	}
	if err := json.Unmarshal(jsonc(data), &cfg); err != nil {
		return NodeBuild{}, "dfopt cannot read " + project
	}
	co := cfg.CompilerOptions
	switch {
	case co.NoEmit || co.EmitDeclarationOnly:
		return NodeBuild{}, project + " makes tsc write no JavaScript"
	case co.OutFile != "":
		return NodeBuild{}, project + " sets outFile"
	case len(cfg.References) > 0 || co.Composite:
		return NodeBuild{}, project + " has project references"
	case b.Out != "":
		return b, ""
	case co.OutDir == "" && len(cfg.Extends) > 0:
		return NodeBuild{}, project + " extends another configuration, which may set outDir"
	case co.OutDir == "":
		return NodeBuild{}, "tsc writes its output beside the sources (" + project + " sets no outDir)"
	}
	b.Out = path.Join(path.Dir(path.Clean(project)), co.OutDir)
	return b, ""
}

// viteConfigs are the files vite reads its configuration from.
var viteConfigs = []string{"vite.config.js", "vite.config.ts", "vite.config.mjs", "vite.config.mts", "vite.config.cjs", "vite.config.cts"}

func viteOutput(args []string, read func(string) ([]byte, bool)) (NodeBuild, string) {
	b := NodeBuild{Tool: "vite", Out: "dist"}
	if len(args) == 0 || args[0] != "build" {
		return NodeBuild{}, "vite without build serves rather than builds"
	}
	for i := 1; i < len(args); i++ {
		flag, value, hasValue := strings.Cut(args[i], "=")
		switch flag {
		case "--outDir":
			if !hasValue {
				if i+1 >= len(args) {
					return NodeBuild{}, "vite --outDir has no value"
				}
				i++
				value = args[i]
			}
			b.Out = value
		case "--minify", "--sourcemap", "--emptyOutDir", "--ssr":
			if hasValue || i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				return NodeBuild{}, "vite " + args[i] + " takes a value dfopt does not read"
			}
		default:
			return NodeBuild{}, "vite build " + args[i] + " is an option or folder dfopt does not read"
		}
	}
	for _, f := range viteConfigs {
		if data, ok := read(f); ok && (strings.Contains(string(data), "outDir") || strings.Contains(string(data), "root")) {
			return NodeBuild{}, f + " may set where vite writes"
		}
	}
	return b, ""
}

func esbuildOutput(args []string) (NodeBuild, string) {
	b := NodeBuild{Tool: "esbuild"}
	outs := 0
	for _, a := range args {
		flag, value, hasValue := strings.Cut(a, "=")
		switch {
		case (flag == "--outfile" || flag == "--outdir") && hasValue:
			b.Out = value
			outs++
		case flag == "--outfile" || flag == "--outdir":
			return NodeBuild{}, "esbuild " + flag + " has no value"
		case flag == "--outbase" || flag == "--metafile" || flag == "--tsconfig" || flag == "--watch" || flag == "--serve" || flag == "--servedir":
			return NodeBuild{}, "esbuild " + flag + " is an option dfopt does not read"
		}
	}
	if outs != 1 {
		return NodeBuild{}, "esbuild writes to standard output or to several places"
	}
	return b, ""
}

// jsonc turns JSON with comments and trailing commas (tsconfig.json) into
// JSON.
func jsonc(data []byte) []byte {
	var out []byte
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case inString:
			out = append(out, c)
			if c == '\\' && i+1 < len(data) {
				i++
				out = append(out, data[i])
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
			out = append(out, c)
		case c == '/' && i+1 < len(data) && data[i+1] == '/':
			for i < len(data) && data[i] != '\n' {
				i++
			}
			out = append(out, '\n')
		case c == '/' && i+1 < len(data) && data[i+1] == '*':
			end := strings.Index(string(data[i+2:]), "*/")
			if end < 0 {
				return out
			}
			i += end + 3
		case c == '}' || c == ']':
			// A comma before the closing bracket, blanks between, goes.
			j := len(out) - 1
			for j >= 0 && strings.IndexByte(" \t\r\n", out[j]) >= 0 {
				j--
			}
			if j >= 0 && out[j] == ',' {
				out = append(out[:j], out[j+1:]...)
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return out
}

// nodeSafeFlags are node's options that change neither which file runs nor
// what it loads: any other (--require, --import, --loader, --env-file,
// --eval) may load a module or read a file the runtime stage lacks.
var nodeSafeFlags = []string{"--enable-source-maps", "--no-warnings", "--no-deprecation", "--trace-warnings",
	"--trace-deprecation", "--throw-deprecation", "--max-old-space-size", "--max-semi-space-size",
	"--max-http-header-size", "--unhandled-rejections", "--stack-trace-limit", "--title", "--abort-on-uncaught-exception"}

// NodeMain reads a command that runs a file with node: node (or Debian's
// nodejs), options that load nothing, then the file, as written (relative
// to the working folder or absolute). ok is false for anything else: node
// alone, -e, a module loaded first.
func NodeMain(argv []string) (file string, ok bool) {
	if len(argv) < 2 || path.Base(argv[0]) != "node" && path.Base(argv[0]) != "nodejs" || strings.Contains(argv[0], "$") {
		return "", false
	}
	for _, a := range argv[1:] {
		if !strings.HasPrefix(a, "-") {
			if strings.Contains(a, "$") {
				return "", false
			}
			return a, true
		}
		flag, _, _ := strings.Cut(a, "=")
		if !slices.Contains(nodeSafeFlags, flag) {
			return "", false
		}
	}
	return "", false
}

// NpmStart tells whether a command runs the project's start script with
// npm: npm start, npm run start, npm run-script start (no other word).
func NpmStart(argv []string) bool {
	switch {
	case len(argv) == 2 && argv[0] == "npm" && argv[1] == "start":
		return true
	case len(argv) == 3 && argv[0] == "npm" && (argv[1] == "run" || argv[1] == "run-script") && argv[2] == "start":
		return true
	}
	return false
}

// NodeLockNative reads a package-lock.json (or npm-shrinkwrap.json) of
// lockfileVersion 2 or 3 and lists the packages the application keeps
// (all but devDependencies) that run install scripts (native addons built
// with node-gyp, downloads of binaries): what they write, and what it
// links, dfopt cannot see. A devDependency's install script (esbuild's)
// serves the build alone. ok is false for a lockfile of npm 6 (version 1),
// which does not say.
func NodeLockNative(lock []byte) (native []string, ok bool) {
	var l struct {
		LockfileVersion int `json:"lockfileVersion"`
		Packages        map[string]struct {
			HasInstallScript bool `json:"hasInstallScript"`
			Dev              bool `json:"dev"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(lock, &l); err != nil || l.LockfileVersion < 2 || l.Packages == nil {
		return nil, false
	}
	for name, p := range l.Packages {
		if !p.HasInstallScript || p.Dev {
			continue
		}
		if i := strings.LastIndex(name, "node_modules/"); i >= 0 {
			name = name[i+len("node_modules/"):]
		}
		if name == "" {
			name = "the project itself"
		}
		native = append(native, name)
	}
	slices.Sort(native)
	return native, true
}

// npmInstallFlags are the options of a whole-project npm install that keep
// it one: reporting, scripts, peer resolution, what it leaves out.
var npmInstallFlags = []string{"--no-audit", "--audit", "--no-fund", "--fund", "--prefer-offline", "--no-progress",
	"--progress", "--loglevel", "--silent", "-s", "-q", "--quiet", "-d", "--verbose", "--ignore-scripts",
	"--omit", "--include", "--production", "--legacy-peer-deps", "--strict-peer-deps", "--no-optional",
	"--unsafe-perm", "--foreground-scripts", "--no-update-notifier", "--update-notifier", "--color", "--no-color"}

// NpmProjectInstall tells whether a call installs a whole npm project from
// its manifests in the working folder: npm ci or npm install with no
// package named, no other folder (--prefix) and no option that changes
// what or where it installs.
func NpmProjectInstall(k Call) bool {
	if k.M.Name != "npm" || k.AnyUnknownArg() || k.VerbAt < 0 || !slices.Contains([]string{"ci", "clean-install", "install", "i"}, k.Verb) {
		return false
	}
	if len(k.operands()) > 0 {
		return false
	}
	for i, v := range k.Options() {
		if i == k.VerbAt || i > 0 && k.Arg(i-1) == "--loglevel" || i > 0 && (k.Arg(i-1) == "--omit" || k.Arg(i-1) == "--include") {
			continue
		}
		flag, _, _ := strings.Cut(v, "=")
		if !slices.Contains(npmInstallFlags, flag) {
			return false
		}
	}
	return true
}

// NodeToolchainPackage tells whether a system package is one a Node.js
// build needs and the application does not: npm, yarn, and the C
// toolchain and version control tools of ToolchainPackage.
func NodeToolchainPackage(pkg string) bool {
	name := strings.ToLower(pkg)
	if i := strings.IndexAny(name, "=<>~:"); i > 0 {
		name = name[:i]
	}
	return name == "npm" || name == "yarnpkg" || ToolchainPackage("c", pkg)
}

// NodeRuntimePackage tells whether a system package is one a Node.js
// application may need at run time, that a runtime stage installs again:
// node itself and the data it reads (CA certificates, time zones).
func NodeRuntimePackage(pkg string) bool {
	name := strings.ToLower(pkg)
	if i := strings.IndexAny(name, "=<>~:"); i > 0 {
		name = name[:i]
	}
	return name == "nodejs" || name == "ca-certificates" || name == "tzdata"
}
