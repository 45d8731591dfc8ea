package rules

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// CopyManifestsFirst copies a project's dependency manifests, installs the
// dependencies, and only then copies the rest of the project, so that a code
// change no longer re-runs the install.
var CopyManifestsFirst = &rewrite.Rule{
	Name:  "copy-manifests-first",
	Title: "Copy dependency manifests and install before copying the whole project",
	Kind:  rewrite.Safe,
	Doc: `A COPY of the whole build context (or of a source tree) before a
dependency install makes every code edit re-run the install: its cache key
includes every copied file. dfopt copies just the manifests the install reads
(those that exist in the build context and are not ignored), runs the install,
then the original COPY and the rest.

Installs that read only manifests move up as they are: npm ci/install, yarn
install, pnpm install, bun install (package.json, lockfiles, .npmrc, workspace
members' package.json), pip install -r (the requirement files and the files they
include), pipenv install, bundle install (Gemfile, Gemfile.lock), mix deps.get,
dotnet restore. Where the install also builds the project, a dependency-only
step is added before the COPY and the original command stays after it: go mod
download (go.mod, go.sum; with go.work, every module it uses) before go build; poetry install --no-root;
uv sync --no-install-project; composer install --no-scripts --no-autoloader;
mvn dependency:go-offline; gradle dependencies (build scripts, settings,
gradle.properties, the gradle/ folder and gradlew, and the scripts the build
script applies); dotnet restore before dotnet build or publish. Those steps
keep none of the build's words, so a go, Maven or Gradle build may have
options dfopt cannot read (-PindexingBackend=${BACKEND}), but for one that
names the project's folder. A build whose RUN keeps those downloads in a
cache mount (--mount=type=cache,target=/go/pkg/mod) fetches nothing again,
and its prefetch layer would lie hidden under the mount; a go build whose
COPY brings vendor/modules.txt downloads nothing: nothing to report.

The install's folder is where it runs, or the folder its flag names (npm
--prefix, yarn --cwd, pnpm --dir, bun --cwd, composer --working-dir, poetry
and uv --directory or --project, go -C, gradle -p); pip's requirement files
are read from where it runs (pip install -r sub/requirements.txt). The
dependency-only step runs in that folder (cd DIR &&) without the flag.

Without a build context, when a manifest the install needs is missing or
ignored, or when the install's RUN runs other commands that may read the
project, the finding says so and dfopt does not rewrite. Where the install may
read other files (npm lifecycle scripts, a Gemfile with gemspec, local path
requirements, multi-module projects, a composer.json with a path or artifact
repository, or that lets plugins run), the rewrite is a proposal with the
reason; so is a dependency-only step that would not run as the install does
(its RUN sets variables or sources a file before it, or the install runs only
on a condition, or may fail without failing the build). Cargo builds are
reported without a rewrite (they need a dependency stub or a tool such as
cargo-chef), but after cargo chef cook, or any step that built or fetched the
dependencies alone, there is nothing to report. In a stage that
ships, go mod download, mvn dependency:go-offline and gradle dependencies are
proposals too:
their own layer keeps the module cache or repository in the image even where
a later RUN cleans it (a builder stage, or a cache mount on both RUNs, keeps
it out).

The install may also be in a file of the project that the RUN runs: a
recipe of its Makefile (RUN make build, whose recipe, or a prerequisite's,
runs go build or cd web && npm install) or a shell script (RUN
./scripts/build.sh, sh build.sh). dfopt reads the file as the build context
holds it: for make, explicit rules, .PHONY, variables set to plain text and
$@, and no Makefile with include, a recipe inside a conditional, a target
named by a variable, or a goal that a pattern or built-in rule may make.
The dependency-only step (go mod download, ...), or the install as the file
writes it (npm install, pip install -r requirements.txt), goes before the
COPY, and the file runs it again after the COPY, where it finds the
dependencies there. That is always a proposal, which names the file's line:
dfopt reads make and the shell, it does not run them. npm ci removes
node_modules before it installs, so one in such a file is reported without
a rewrite.

Once the install runs first, the COPY of the project comes after it, and
whatever the build context holds where the install writes (node_modules,
vendor, .venv, target, obj, bin, deps, ...) would land on top of what the
install made. So the ignore file must keep those folders out (node_modules,
**/node_modules); where it does not, the rewrite is a proposal that says so,
and with --dockerignore dfopt adds the entries to the ignore file and
applies it. The install's working folder must be known (a WORKDIR or a cd
dfopt can read: a base image's WORKDIR is not). The COPY's destination may
name variables that ENV sets (COPY . $APP); the manifest COPY lines keep them.
A variable a --build-arg may change could send the files anywhere: no rewrite.

The manifest COPY lines take the COPY's place, with its --chown, --chmod and
--link, so that the folders they make are made as it made them; the COPY
goes below the install (or below the dependency-only step, which goes right
above the install and runs as it does). Steps between the COPY and the
install that do not read or change what it copies stay where they are, and
so come before it: ENV and ARG it does not use, WORKDIR (for an absolute
destination; into it, only to a folder the manifest lines make), USER (for
a COPY without --chown), LABEL, EXPOSE, a COPY or ADD elsewhere, and a RUN
whose places, as dfopt's model of RUNs reads them, stay clear of the
destination (package installs by name, housekeeping). A RUN that names the
destination (rm -rf /app/tests, node scripts/prepare.js) keeps the COPY
above it, and nothing is reported; a RUN that may read it (a program dfopt
cannot see through, npm's install scripts, which see the folder they run
from) makes the rewrite a proposal that names it. In the install's own RUN,
commands dfopt follows may run with it (apt-get install && npm ci); any
other command needs a RUN of its own first. Where the steps between are COPY
and ADD alone and one of them writes into the project (COPY --from=web
/src/dist ./public/dist before go build), a dependency-only step (go mod
download, mvn dependency:go-offline, gradle dependencies) still goes before
the COPY, with everything after it left where it is.

Bad:

    WORKDIR /app
    COPY . .
    RUN npm ci

Good:

    WORKDIR /app
    COPY package.json package-lock.json ./
    RUN npm ci
    COPY . .
`,
	Run: runCopyManifestsFirst,
}

// install is a dependency install found in a RUN.
type install struct {
	eco      *ecosystem
	call     *runmodel.Cmd
	cwd      string   // absolute folder the install runs in
	reqFiles []string // manifests named on the command line (pip -r), relative to cwd
	prefetch string   // the dependency-only command (prefetch ecosystems)
	via      *through // the Makefile or script the RUN runs it from; nil for a command of the RUN
}

// ecosystem describes one package manager's manifests and how to install
// from them alone.
type ecosystem struct {
	name      string
	required  []string // manifests the install cannot do without
	optional  []string // manifests copied when they exist (files or folders)
	moveAlone bool     // the install reads only manifests: it moves up as it is
	manual    string   // never rewritten, for this reason
	again     string   // what every code change makes the install do again
}

var (
	ecoNpm      = &ecosystem{name: "npm", required: []string{"package.json"}, optional: []string{"package-lock.json", "npm-shrinkwrap.json", ".npmrc"}, moveAlone: true, again: "installs every dependency again"}
	ecoYarn     = &ecosystem{name: "yarn", required: []string{"package.json"}, optional: []string{"yarn.lock", ".yarnrc", ".yarnrc.yml", ".npmrc", ".yarn/releases", ".yarn/plugins", ".yarn/patches"}, moveAlone: true, again: "installs every dependency again"}
	ecoPnpm     = &ecosystem{name: "pnpm", required: []string{"package.json"}, optional: []string{"pnpm-lock.yaml", "pnpm-workspace.yaml", ".npmrc", ".pnpmfile.cjs", "patches"}, moveAlone: true, again: "installs every dependency again"}
	ecoBun      = &ecosystem{name: "bun", required: []string{"package.json"}, optional: []string{"bun.lockb", "bun.lock", "bunfig.toml", ".npmrc"}, moveAlone: true, again: "installs every dependency again"}
	ecoPip      = &ecosystem{name: "pip", moveAlone: true, again: "installs every dependency again"}
	ecoPipenv   = &ecosystem{name: "pipenv", required: []string{"Pipfile"}, optional: []string{"Pipfile.lock"}, moveAlone: true, again: "installs every dependency again"}
	ecoPoetry   = &ecosystem{name: "poetry", required: []string{"pyproject.toml"}, optional: []string{"poetry.lock", "poetry.toml"}, again: "installs every dependency again"}
	ecoUv       = &ecosystem{name: "uv", required: []string{"pyproject.toml"}, optional: []string{"uv.lock", ".python-version", "uv.toml"}, again: "installs every dependency again"}
	ecoGo       = &ecosystem{name: "go", required: []string{"go.mod"}, optional: []string{"go.sum"}, again: "downloads every module again"}
	ecoBundler  = &ecosystem{name: "bundler", required: []string{"Gemfile"}, optional: []string{"Gemfile.lock"}, moveAlone: true, again: "installs every gem again"}
	ecoComposer = &ecosystem{name: "composer", required: []string{"composer.json"}, optional: []string{"composer.lock", "auth.json", "symfony.lock"}, again: "installs every package again"}
	ecoMaven    = &ecosystem{name: "maven", required: []string{"pom.xml"}, optional: []string{".mvn", "mvnw"}, again: "downloads every dependency again"}
	ecoMix      = &ecosystem{name: "mix", required: []string{"mix.exs"}, optional: []string{"mix.lock", "config"}, moveAlone: true, again: "fetches every dependency again"}
	ecoDotnet   = &ecosystem{name: "dotnet", again: "restores every package again"}
	ecoCargo    = &ecosystem{name: "cargo", required: []string{"Cargo.toml"}, optional: []string{"Cargo.lock"}, manual: "cargo needs a stub crate or cargo-chef to build dependencies alone", again: "downloads and builds every dependency again"}
	ecoGradle   = &ecosystem{name: "gradle", required: []string{}, optional: []string{"build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts", "gradle.properties", "gradle", "gradlew"}, again: "downloads every dependency again"}
)

// words returns a command's words, its name first, as literals ("" where a
// word is not one).
func words(c *runmodel.Cmd) []string {
	out := make([]string, 0, len(c.Args)+1)
	out = append(out, c.Prog.Text)
	for i := range c.Args {
		out = append(out, c.Arg(i))
	}
	return out
}

// detectInstall tells whether a command installs dependencies from manifests,
// and how. The command is read with the manager's table: a flag that takes a
// value (yarn --network-timeout 600000) is no verb nor operand.
func detectInstall(c *runmodel.Cmd) (in install, ok bool) {
	mgr := runmodel.ManagerOf(c)
	if mgr == nil || c.MoreArgs {
		return install{}, false
	}
	w := words(c)
	name := c.Name
	args := w[1:]
	if unreadArgs(c, mgr) {
		return install{}, false // a word dfopt cannot read: the install could be anything
	}
	k := mgr.Read(c)
	verb, rest := k.Verb, []string(nil)
	if k.VerbAt >= 0 {
		rest = args[k.VerbAt+1:]
	}
	noOperands := k.VerbAt >= 0 && k.Next(k.VerbAt) < 0
	// flags are the words after the verb, options with their values, that the
	// dependency-only command keeps; not a flag naming the project's folder,
	// where the command runs (cd DIR &&).
	flags := func(exclude ...string) string {
		var fs []string
		for i := 0; i < len(rest); i++ {
			a := rest[i]
			switch {
			case slices.Contains(mgr.DirFlags, a):
				i++
			case slices.ContainsFunc(mgr.DirFlags, func(f string) bool { return strings.HasPrefix(a, f+"=") }):
			case !slices.Contains(exclude, a):
				fs = append(fs, a)
			}
		}
		return strings.Join(fs, " ")
	}
	with := func(cmd, fl string) string { return strings.TrimSpace(cmd + " " + fl) }
	switch name {
	case "npm":
		if verb == "ci" || verb == "clean-install" || (verb == "install" || verb == "i") && noOperands {
			return install{eco: ecoNpm, call: c}, true
		}
	case "yarn":
		if k.VerbAt < 0 || verb == "install" && noOperands {
			return install{eco: ecoYarn, call: c}, true
		}
	case "pnpm":
		if (verb == "install" || verb == "i") && noOperands {
			return install{eco: ecoPnpm, call: c}, true
		}
	case "bun":
		if (verb == "install" || verb == "i") && noOperands {
			return install{eco: ecoBun, call: c}, true
		}
	case "pip", "uv":
		if name == "uv" && verb == "sync" {
			return install{eco: ecoUv, call: c, prefetch: with("uv sync --no-install-project", flags())}, true
		}
		if name == "uv" && verb != "pip" {
			return install{}, false
		}
		return pipRequirementsInstall(c, args)
	case "pipenv":
		if (verb == "install" || verb == "sync") && noOperands {
			return install{eco: ecoPipenv, call: c}, true
		}
	case "poetry":
		if verb == "install" && !slices.Contains(args, "--only-root") {
			return install{eco: ecoPoetry, call: c, prefetch: with("poetry install --no-root", flags("--no-root"))}, true
		}
	case "go":
		switch verb {
		case "build", "install", "test", "vet", "generate", "run":
			return install{eco: ecoGo, call: c, prefetch: "go mod download"}, true
		case "mod":
			if len(rest) > 0 && rest[0] == "download" {
				return install{eco: ecoGo, call: c}, true
			}
		}
	case "bundle":
		if verb == "install" && noOperands && !c.HasFlag("--gemfile") {
			return install{eco: ecoBundler, call: c}, true
		}
	case "composer":
		if verb == "install" {
			return install{eco: ecoComposer, call: c, prefetch: with("composer install --no-scripts --no-autoloader", flags("--no-scripts", "--no-autoloader", "--optimize-autoloader", "-o", "--classmap-authoritative", "-a", "--apcu-autoloader"))}, true
		}
	case "mvn", "mvnw":
		if c.HasFlag("-f", "--file") {
			return install{}, false // a pom.xml elsewhere
		}
		for _, goal := range args {
			switch goal {
			case "package", "install", "verify", "compile", "test":
				return install{eco: ecoMaven, call: c, prefetch: w[0] + " -B dependency:go-offline"}, true
			}
		}
	case "mix":
		if verb == "deps.get" {
			return install{eco: ecoMix, call: c}, true
		}
	case "dotnet":
		switch verb {
		case "restore":
			return install{eco: ecoDotnet, call: c}, true
		case "build", "publish", "test", "pack":
			if slices.Contains(args, "--no-restore") {
				return install{}, false
			}
			project := "" // dotnet restore takes the project or solution, not the build's options
			if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
				project = rest[0]
			}
			return install{eco: ecoDotnet, call: c, prefetch: with("dotnet restore", project)}, true
		}
	case "cargo":
		if verb == "build" || verb == "install" || verb == "test" {
			return install{eco: ecoCargo, call: c}, true
		}
	case "gradle", "gradlew":
		if c.HasFlag("-b", "--build-file", "-c", "--settings-file", "-I", "--init-script") {
			return install{}, false // build scripts elsewhere, or an init script of the project
		}
		if verb != "" {
			return install{eco: ecoGradle, call: c, prefetch: w[0] + " dependencies --no-daemon"}, true
		}
	}
	return install{}, false
}

// unreadArgs tells whether a command has words dfopt cannot read that may
// change what it installs, or from where. The dependency-only steps of go,
// Maven and Gradle keep none of the build's words, so there a word that
// starts as an option (-PindexingBackend=${BACKEND}, -ldflags "-X
// main.version=$V") may stay unread, but for one naming the project's
// folder.
func unreadArgs(c *runmodel.Cmd, mgr *runmodel.Manager) bool {
	keepsNone := mgr.Name == "go" || mgr.Name == "maven" || mgr.Name == "gradle"
	for i, a := range c.Args {
		if _, ok := a.Value(); ok {
			continue
		}
		flag, _, _ := strings.Cut(a.Text, "=")
		after := c.Arg(i - 1)
		switch {
		case !keepsNone:
			return true
		case strings.HasPrefix(a.Text, "-") && !slices.ContainsFunc(mgr.DirFlags, func(f string) bool { return strings.HasPrefix(flag, f) }):
		case i > 0 && slices.Contains(mgr.ValueFlags, after) && !slices.Contains(mgr.DirFlags, after):
		default:
			return true
		}
	}
	return false
}

// pipRequirementsInstall reads pip install -r: the requirement files are its manifests.
// Local paths and editable installs need the sources, so they do not count.
func pipRequirementsInstall(c *runmodel.Cmd, args []string) (install, bool) {
	i := slices.Index(args, "install")
	if i < 0 {
		return install{}, false
	}
	var req []string
	rest := args[i+1:]
	for k := 0; k < len(rest); k++ {
		a := rest[k]
		switch {
		case a == "-r" || a == "--requirement" || a == "-c" || a == "--constraint":
			if k+1 < len(rest) {
				req = append(req, rest[k+1])
				k++
			}
		case strings.HasPrefix(a, "--requirement=") || strings.HasPrefix(a, "--constraint="):
			req = append(req, a[strings.Index(a, "=")+1:])
		case strings.HasPrefix(a, "-r") && len(a) > 2:
			req = append(req, a[2:])
		case a == "-e" || a == "--editable" || a == "." || strings.Contains(a, "/") || strings.HasSuffix(a, ".whl") || strings.HasSuffix(a, ".tar.gz"):
			return install{}, false
		}
	}
	if len(req) == 0 {
		return install{}, false
	}
	return install{eco: ecoPip, call: c, reqFiles: req}, true
}

// workdirs gives the WORKDIR in force at each instruction, as the model
// knows it: "" where it is not known (the base image's).
func workdirs(m *runmodel.Model) map[*rewrite.Instruction]string {
	at := map[*rewrite.Instruction]string{}
	for _, st := range m.Doc.Stages {
		for _, in := range st.Instructions {
			at[in] = m.State(in).Workdir
		}
	}
	return at
}

// wholeProject is a COPY or ADD that takes the whole build context, or one
// folder of it, into a folder.
type wholeProject struct {
	in       *rewrite.Instruction
	srcDir   string // the folder of the context it copies ("" for all of it)
	dest     string // its destination, absolute and clean
	rawDest  string // its destination as written, when it names variables (ENV APP=/srv, COPY . $APP); "" otherwise
	relative bool   // its destination is relative to the WORKDIR
	chown    bool   // it has --chown
	byName   bool   // --chown names a user or group: the COPY reads the user database
	star     bool   // COPY * takes each of the context's folders apart: their contents land in the destination
}

// wholeCopy reads a COPY or ADD that takes the whole context, or one folder of
// it, into a folder whose path dfopt knows: a destination may name variables
// that ENV set, never ones a --build-arg may change.
func wholeCopy(m *runmodel.Model, ctx *rewrite.BuildContext, in *rewrite.Instruction) (*wholeProject, bool) {
	var srcs []string
	var dst, chown string
	switch c := in.Command.(type) {
	case *instructions.CopyCommand:
		if c.From != "" {
			return nil, false
		}
		srcs, dst, chown = c.SourcePaths, c.DestPath, c.Chown
	case *instructions.AddCommand:
		srcs, dst, chown = c.SourcePaths, c.DestPath, c.Chown
	default:
		return nil, false
	}
	if len(srcs) != 1 || len(in.Node.Heredocs) > 0 {
		return nil, false
	}
	for _, f := range m.Doc.FlagWords(in) {
		if !strings.HasPrefix(f, "--chown") && !strings.HasPrefix(f, "--chmod") && f != "--link" && !strings.HasPrefix(f, "--link=") {
			return nil, false // --exclude, --parents: the manifest lines would copy otherwise
		}
	}
	st := m.State(in)
	expanded, ok := st.Expand(m.Lex, dst)
	if !ok || expanded == "" {
		return nil, false
	}
	wp := &wholeProject{in: in, dest: resolve(st.Workdir, expanded), relative: !path.IsAbs(expanded), chown: chown != ""}
	if wp.dest == "" {
		return nil, false
	}
	if strings.Contains(dst, "$") {
		wp.rawDest = dst
	}
	wp.byName = wp.chown && strings.Trim(chown, "0123456789:") != ""
	src := strings.TrimPrefix(srcs[0], "./")
	switch {
	case src == "*":
		wp.star = true
	case src == "" || src == ".":
	case ctx != nil && !strings.ContainsAny(src, "*?[$") && isContextDir(ctx, src):
		wp.srcDir = path.Clean(src)
	default:
		return nil, false
	}
	return wp, true
}

func isContextDir(ctx *rewrite.BuildContext, rel string) bool {
	info, err := os.Stat(filepath.Join(ctx.Dir, filepath.FromSlash(rel)))
	return err == nil && info.IsDir() && !ctx.Ignored(rel)
}

func runCopyManifestsFirst(p *rewrite.Pass) {
	d := p.Doc
	m := runmodel.Of(d)
	wds := workdirs(m)
	for _, st := range d.Stages {
		for i, cp := range st.Instructions {
			wp, ok := wholeCopy(m, p.Options.Context, cp)
			if !ok {
				continue
			}
			way, found := nextInstall(p, m, st, i, wp)
			if !found {
				continue
			}
			if manifestsCopiedBefore(st, i, way.inst.eco) || depsBuiltBefore(m, st, i, way.inst) {
				continue
			}
			planManifestsFirst(p, st, i, wp, way, wds)
		}
	}
}

// wayToInstall is what lies between the COPY of the project and the install
// that waits for it: the steps the COPY moves below, and why one of them may
// read or change what it copies.
type wayToInstall struct {
	run      *rewrite.Instruction // the install's RUN
	inst     install
	last     *rewrite.Instruction // the last step between them; nil when none
	workdirs []string             // the folders the WORKDIRs between them go to
	mays     []string             // why steps may read or change what the COPY brings
	copies   func(string) bool    // tells whether a place may be one of the COPY's, through the stage's links
	// stay says the steps between are COPY and ADD instructions alone, one
	// of which writes into what the COPY brought: they cannot go above it,
	// but a prefetch (go mod download, ...) can go before the COPY with
	// everything after it left as it is.
	stay bool
	into []string // where those COPY and ADD instructions write
}

// nextInstall finds the dependency install in a RUN after the COPY, past
// the steps that do not read or change what it copies, which the COPY then
// moves below: ENV and ARG it does not use, WORKDIR (for a destination that
// is absolute), USER (for a COPY without --chown), LABEL, EXPOSE, a COPY or
// ADD elsewhere, and a RUN whose places, as the model reads them, stay
// clear of the destination. A RUN that may touch it (a command the model
// cannot see through, an install script) is passed with the reason, which
// makes the rewrite a proposal; one that names it stops the walk.
func nextInstall(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage, i int, wp *wholeProject) (wayToInstall, bool) {
	ctx := p.Options.Context
	links := m.LinksBefore(ctx, st, i)
	way := wayToInstall{copies: func(place string) bool {
		return links.Touch(place, wp.dest) || wp.byName && (links.Touch(place, "/etc/passwd") || links.Touch(place, "/etc/group"))
	}}
	onlyCopies := true // every step so far is a COPY or ADD
	for j := i + 1; j < len(st.Instructions); j++ {
		in := st.Instructions[j]
		switch in.Command.(type) {
		case *instructions.CopyCommand, *instructions.AddCommand:
		case *instructions.RunCommand:
			if !way.stay {
				break
			}
			// Past COPYs into the project, only the install may follow.
			for _, c := range m.Run(in).Cmds {
				if inst, ok := detectInstall(c); ok && inst.prefetch != "" {
					inst.cwd = installDir(m, in, c)
					if inst.cwd == "" || !m.Run(in).Editable {
						return wayToInstall{}, false
					}
					way.run, way.inst = in, inst
					return way, true
				}
			}
			if inst, found, ok := installThrough(m, ctx, in, wp, way.into); found && ok && m.Run(in).Editable {
				way.run, way.inst = in, inst
				return way, true
			}
			return wayToInstall{}, false
		default:
			if way.stay {
				return wayToInstall{}, false
			}
			onlyCopies = false
		}
		switch c := in.Command.(type) {
		case *instructions.EnvCommand, *instructions.ArgCommand:
			for _, n := range definedNames(in) {
				if strings.Contains(wp.in.Line, "$"+n) || strings.Contains(wp.in.Line, "${"+n) {
					return wayToInstall{}, false
				}
			}
		case *instructions.WorkdirCommand:
			wd := m.After(in).Workdir
			if wp.relative || wd == "" {
				return wayToInstall{}, false
			}
			way.workdirs = append(way.workdirs, wd)
		case *instructions.UserCommand:
			if wp.chown {
				return wayToInstall{}, false
			}
		case *instructions.LabelCommand, *instructions.ExposeCommand:
		case *instructions.RunCommand:
			r := m.Run(in)
			for _, c := range r.Cmds {
				inst, ok := detectInstall(c)
				if !ok {
					continue
				}
				inst.cwd = installDir(m, in, c)
				if inst.cwd == "" || !r.Editable {
					return wayToInstall{}, false // it runs where dfopt cannot tell
				}
				way.run, way.inst = in, inst
				return way, true
			}
			if inst, found, ok := installThrough(m, ctx, in, wp, nil); found || !ok {
				if !ok || !r.Editable {
					return wayToInstall{}, false
				}
				way.run, way.inst = in, inst
				return way, true
			}
			why, ok := mayTouch(m.Touches(r).Places, way.copies)
			if !ok {
				return wayToInstall{}, false
			}
			if why != "" {
				way.mays = append(way.mays, fmt.Sprintf("the RUN at line %d would run before the COPY, and may read or change what it copies: %s", p.InputLine(in.StartLine), why))
			}
			links.AddRun(m, r)
		case *instructions.CopyCommand, *instructions.AddCommand:
			s := m.State(in)
			d, ok := s.Expand(m.Lex, copyDest(in))
			if d = resolve(s.Workdir, d); !ok || d == "" {
				return wayToInstall{}, false
			}
			if way.copies(d) {
				if !onlyCopies {
					return wayToInstall{}, false
				}
				way.stay = true // it writes into the project: it stays below the COPY
				way.into = append(way.into, d)
				continue
			}
			if way.stay {
				continue
			}
			if chown := copyChown(c); chown != "" && strings.Trim(chown, "0123456789:") != "" && (links.Touch("/etc/passwd", wp.dest) || links.Touch("/etc/group", wp.dest)) {
				return wayToInstall{}, false // it reads the user database, which the COPY may change
			}
			links.AddStep(ctx, m, in)
		default:
			return wayToInstall{}, false
		}
		way.last = in
	}
	return wayToInstall{}, false
}

// installDir is the folder an install works in: where it runs, or the
// folder its flag names (npm --prefix web, composer --working-dir=/app); ""
// when dfopt cannot tell.
func installDir(m *runmodel.Model, in *rewrite.Instruction, c *runmodel.Cmd) string {
	cwd := m.Cwd(m.State(in), c)
	dir, set, ok := runmodel.ManagerOf(c).Read(c).Dir()
	switch {
	case !set:
		return cwd
	case !ok:
		return ""
	case path.IsAbs(dir):
		return path.Clean(dir)
	case cwd == "":
		return ""
	}
	return path.Join(cwd, dir)
}

// mayTouch reads what a step touches against the COPY's places: ok is
// false when it names one for sure; else why says what may touch one ("" when
// nothing does).
func mayTouch(places []runmodel.Touch, copies func(string) bool) (why string, ok bool) {
	for _, t := range places {
		if !t.May && copies(t.Path) {
			return "", false
		}
	}
	for _, t := range places {
		if t.May && copies(t.Path) {
			return t.Why, true
		}
	}
	return "", true
}

func copyChown(c any) string {
	switch c := c.(type) {
	case *instructions.CopyCommand:
		return c.Chown
	case *instructions.AddCommand:
		return c.Chown
	}
	return ""
}

func copyDest(in *rewrite.Instruction) string {
	switch c := in.Command.(type) {
	case *instructions.CopyCommand:
		return c.DestPath
	case *instructions.AddCommand:
		return c.DestPath
	}
	return ""
}

// definedNames lists the variables an ENV or ARG sets.
func definedNames(in *rewrite.Instruction) []string {
	var out []string
	switch c := in.Command.(type) {
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			out = append(out, kv.Key)
		}
	case *instructions.ArgCommand:
		for _, a := range c.Args {
			out = append(out, a.Key)
		}
	}
	return out
}

// manifestsCopiedBefore tells whether the stage already copies the
// ecosystem's main manifest before instruction i: the file is manifest-first.
func manifestsCopiedBefore(st *rewrite.Stage, i int, eco *ecosystem) bool {
	for _, in := range st.Instructions[:i] {
		c, ok := in.Command.(*instructions.CopyCommand)
		if !ok || c.From != "" {
			continue
		}
		for _, s := range c.SourcePaths {
			base := path.Base(s)
			for _, m := range append(slices.Clone(eco.required), eco.optional...) {
				if ok, _ := path.Match(base, m); ok || base == m {
					return true
				}
			}
			switch eco {
			case ecoPip:
				if strings.Contains(base, "requirements") || strings.HasSuffix(base, ".txt") {
					return true
				}
			case ecoDotnet:
				if strings.HasSuffix(base, "proj") || strings.HasSuffix(base, ".sln") {
					return true
				}
			}
		}
	}
	return false
}

// depsBuiltBefore tells whether a RUN before the COPY, in its stage or a
// stage it is built FROM, fetched or built the dependencies alone (cargo
// chef cook from a recipe, go mod download with go.mod mounted): the
// install finds them done, whatever the COPY changes.
func depsBuiltBefore(m *runmodel.Model, st *rewrite.Stage, i int, inst install) bool {
	mgr := runmodel.ManagerOf(inst.call)
	before := st.Instructions[:i]
	for s := m.Doc.Parent(st); s != nil; s = m.Doc.Parent(s) {
		before = append(slices.Clone(s.Instructions), before...)
	}
	for _, in := range before {
		r := m.Run(in)
		if r == nil || r.Onbuild {
			continue
		}
		for _, c := range r.Cmds {
			if !c.Cond && runmodel.ManagerOf(c) == mgr && mgr.Read(c).DepsOnly() {
				return true
			}
		}
	}
	return false
}

// commandOf names an install's command as the RUN writes it, up to its verb
// ("npm ci", "go build", "pip install"): the ecosystem's name alone called
// go build "the go install".
func commandOf(c *runmodel.Cmd) string {
	if m := runmodel.ManagerOf(c); m != nil {
		if k := m.Read(c); k.VerbAt >= 0 {
			return c.Name + " " + k.Verb
		}
	}
	return c.Name
}

// planManifestsFirst reports one install that waits for the whole project,
// with the rewrite that copies its manifests first where dfopt can show what
// they are: the manifests go where the COPY was (with its flags, so that
// the folders they make are made as it made them), and the COPY goes below
// the install, or below the dependency-only command put just above it.
func planManifestsFirst(p *rewrite.Pass, st *rewrite.Stage, i int, wp *wholeProject, way wayToInstall, wds map[*rewrite.Instruction]string) {
	d := p.Doc
	cp, run, inst := wp.in, way.run, way.inst
	again := inst.eco.again
	if inst.eco == ecoGradle && inst.call.Name == "gradlew" {
		again = "downloads Gradle and every dependency again"
	}
	msg := fmt.Sprintf("the COPY at line %d copies the whole project before %s at line %d, so every code change %s",
		p.InputLine(cp.StartLine), commandOf(inst.call), p.InputLine(run.StartLine), again)
	if t := inst.via; t != nil {
		msg = fmt.Sprintf("the COPY at line %d copies the whole project before %s at line %d, which runs %s (%s), so every code change %s",
			p.InputLine(cp.StartLine), t.what(), p.InputLine(run.StartLine), commandOf(inst.call), t.where(inst.call), again)
	}
	var ignore []rewrite.FileChange // entries the ignore file needs, with --dockerignore
	report := func(detail string, proposal bool, edits []rewrite.Edit) {
		f := rewrite.Finding{Line: cp.StartLine, Message: msg + ": " + detail, Proposal: proposal, Edits: edits}
		if len(edits) > 0 {
			f.Files = ignore
		}
		p.Report(f)
	}
	if inst.eco.manual != "" {
		report("build the dependencies alone first (not rewritten: "+inst.eco.manual+")", false, nil)
		return
	}
	ctx := p.Options.Context
	if ctx == nil {
		report("copy its manifests first (not rewritten: without a build context dfopt cannot see which manifests exist)", false, nil)
		return
	}
	if inst.prefetch != "" && downloadsMounted(runmodel.Of(d), run, inst) {
		return // the downloads outlive every build in the cache mount
	}
	dest := wp.dest
	if inst.cwd != dest && !strings.HasPrefix(inst.cwd, strings.TrimSuffix(dest, "/")+"/") {
		return // the install works outside what the COPY wrote
	}
	dir := path.Join(wp.srcDir, strings.TrimPrefix(strings.TrimPrefix(inst.cwd, dest), "/"))
	if dir == "." {
		dir = ""
	}
	if inst.eco == ecoGo && ctx.Sent(path.Join(dir, "vendor", "modules.txt")) {
		return // go builds from the vendor folder the COPY brings: it downloads nothing
	}
	files, missing, why := manifestsOf(ctx, dir, inst)
	if len(missing) > 0 {
		report(fmt.Sprintf("copy its manifests first (not rewritten: %s not a file of the build context, or ignored)", strings.Join(missing, ", ")), false, nil)
		return
	}
	if outs := unignoredOutputs(ctx, dir, inst, files); len(outs) > 0 {
		why := fmt.Sprintf("the later COPY would put the build context's %s over what the install made; keep it out with the ignore file", strings.Join(outs, ", "))
		change, err := ctx.ExtendIgnoreFile("added by dfopt: the install makes these, the COPY must not bring them", outs)
		if !p.Options.WriteDockerignore || err != nil {
			report("copy its manifests first (not rewritten: "+why+", which dfopt --dockerignore does)", false, nil)
			return
		}
		ignore = []rewrite.FileChange{change}
	}
	if !workdirsMade(way.workdirs, dest, inst.cwd, dir, files) {
		return // a WORKDIR would make a folder of the project that the COPY made
	}
	var whys []string
	if why != "" {
		whys = append(whys, why)
	}
	prefetch := inst.prefetch
	if t := inst.via; t != nil {
		// The file runs the install after the COPY as before: the step
		// before the COPY runs it first, as the file writes it, or runs
		// its dependency-only command.
		if prefetch == "" {
			if inst.eco == ecoNpm && (inst.call.Arg(0) == "ci" || inst.call.Arg(0) == "clean-install") {
				report(fmt.Sprintf("install first (not rewritten: npm ci removes node_modules before it installs, so the %s after the COPY would install everything again; npm install there would not)", t.what()), false, nil)
				return
			}
			prefetch = quotedWords(inst.call)
		}
		why, ok := throughKeepsManifests(runmodel.Of(d), run, inst, wp, files)
		if !ok {
			report(fmt.Sprintf("copy its manifests first (not rewritten: %s changes them before %s)", t.file, commandOf(inst.call)), false, nil)
			return
		}
		whys = append(whys, fmt.Sprintf("dfopt read %s as the build context holds it; %s still runs %s after the COPY, and finds the dependencies there", t.where(inst.call), t.what(), commandOf(inst.call)))
		if why != "" {
			whys = append(whys, fmt.Sprintf("%s runs commands before %s that may change its manifests: %s", t.file, commandOf(inst.call), why))
		}
		if t.may != "" {
			whys = append(whys, "the RUN may change "+t.file+" before it runs it: "+t.may)
		}
	}
	move := prefetch == ""
	if move {
		may, ok := installOnly(runmodel.Of(d), runmodel.Of(d).Run(run), inst, way.copies)
		if !ok {
			report("copy its manifests first and give the install a RUN of its own (not rewritten: the RUN also runs commands that may read the project's files)", false, nil)
			return
		}
		if may != "" {
			whys = append(whys, "the RUN also runs commands that may read or change what the COPY brings: "+may)
		}
		if lock := lockRewritten(inst, files); lock != "" {
			whys = append(whys, fmt.Sprintf("%s may rewrite %s (where it is out of step with the manifest, or of an older format), and the COPY after it would put the build context's back over it", commandOf(inst.call), lock))
		}
	}
	whys = append(whys, way.mays...)
	copyText := manifestCopyText(d, wp, files, dir, inst.cwd, wds[cp])
	var edit rewrite.Edit
	detail := "copy " + strings.Join(files, ", ") + " and install first"
	if move {
		edit = moveInstallUp(d, cp, run, copyText)
	} else {
		detail = "copy " + strings.Join(files, ", ") + " and run " + prefetch + " first"
		if cache, _ := prefetchCache(inst); cache != "" && d.Shipping()[st] {
			whys = append(whys, "in a stage that ships, the "+prefetch+" layer keeps "+cache+" in the image even where a later RUN cleans it; a builder stage, or a cache mount on both RUNs, keeps it out")
		}
		if t := inst.via; t != nil {
			if why := prefetchAlone(runmodel.Of(d).Run(run), install{call: t.outer, prefetch: prefetch}); why != "" {
				whys = append(whys, why)
			}
			if why := throughAlone(inst, inst.prefetch == ""); why != "" {
				whys = append(whys, why)
			}
		} else if why := prefetchAlone(runmodel.Of(d).Run(run), inst); why != "" {
			whys = append(whys, why)
		}
		runText := d.Keyword(cp, "RUN") + " "
		if inst.cwd != wds[run] {
			runText += "cd " + inst.cwd + " && "
		}
		if way.stay {
			// The COPYs between write into the project: everything stays
			// where it is, and the prefetch goes before the COPY.
			at := d.LineStart(d.CommentBlockStart(cp))
			edit = rewrite.Edit{Start: at, End: at, New: copyText + runText + prefetch + "\n"}
		} else {
			edit = prefetchBeforeInstall(d, cp, way.last, run, copyText, runText+prefetch+"\n")
		}
	}
	if len(whys) > 0 {
		report(detail+" (proposal: "+strings.Join(whys, "; ")+")", true, []rewrite.Edit{edit})
		return
	}
	report(detail, false, []rewrite.Edit{edit})
}

// prefetchAlone says why the dependency-only step, a RUN of its own, would
// not run as the install does ("" when it would): the install's RUN sets
// variables or reads a file into its shell before it (export
// COMPOSER_HOME=/composer, . venv/bin/activate); or the install may not
// run at all, or fail without failing the build, where the step always runs
// and stops the build when it fails.
func prefetchAlone(r *runmodel.Run, inst install) string {
	var names []string
	for _, a := range r.Assigns {
		if a.Before(inst.call) && !slices.Contains(names, a.Name) {
			names = append(names, a.Name)
		}
	}
	if len(names) > 0 {
		return fmt.Sprintf("the RUN sets %s before %s, and %s would run without", strings.Join(names, ", "), commandOf(inst.call), inst.prefetch)
	}
	for _, c := range r.Cmds {
		if runmodel.Before(c, inst.call) && c.InShell && (c.Is("source", ".") || c.Name == "") {
			return fmt.Sprintf("the RUN reads a file into its shell before %s, and %s would run without", commandOf(inst.call), inst.prefetch)
		}
	}
	switch {
	case inst.call.Cond:
		return fmt.Sprintf("%s runs only on a condition, where %s would always run, and stop the build when it fails", commandOf(inst.call), inst.prefetch)
	case inst.call.FailOK:
		return fmt.Sprintf("%s may fail without failing the build, where %s would stop it", commandOf(inst.call), inst.prefetch)
	}
	return ""
}

// workdirsMade tells whether the WORKDIRs between the COPY and the install
// find their folders made as the COPY made them: a WORKDIR into the
// destination makes the folder it names when nothing has, as root (or the
// USER), where the COPY would have made it with the context's folder's mode
// and its --chown. Once the COPY comes later, only the folders the manifest
// COPY lines make (the destination and the folders of the manifests in it)
// are made before it.
func workdirsMade(workdirs []string, dest, cwd, dir string, files []string) bool {
	made := map[string]bool{dest: true}
	for _, f := range files {
		rel := strings.TrimPrefix(strings.TrimPrefix(f, dir), "/")
		folder := path.Join(cwd, path.Dir(rel))
		if isDirManifest(rel) {
			folder = path.Join(cwd, rel)
		}
		for ; folder != dest && strings.HasPrefix(folder, dest+"/"); folder = path.Dir(folder) {
			made[folder] = true
		}
	}
	for _, wd := range workdirs {
		if strings.HasPrefix(wd, strings.TrimSuffix(dest, "/")+"/") && !made[wd] {
			return false
		}
	}
	return true
}

// prefetchCache names the cache a prefetch only fills (the Go module cache,
// Maven's and Gradle's repositories), and the manager's entry for it: in
// its own layer it stays in the image whatever a later RUN removes. "" for
// a prefetch that installs what the image needs (composer's vendor, uv's
// and poetry's virtualenv, dotnet's restore output).
func prefetchCache(inst install) (string, runmodel.Cache) {
	mgr := runmodel.ManagerOf(inst.call)
	entry := func(dir string) runmodel.Cache {
		for _, c := range mgr.Caches {
			if strings.HasSuffix(c.Dir, dir) {
				return c
			}
		}
		return runmodel.Cache{}
	}
	switch inst.eco {
	case ecoGo:
		return "the module cache", entry("pkg/mod")
	case ecoMaven:
		return "the Maven repository", entry(".m2/repository")
	case ecoGradle:
		return "Gradle's caches", entry(".gradle/caches")
	}
	return "", runmodel.Cache{}
}

// downloadsMounted tells whether the install's RUN keeps the downloads a
// prefetch would fetch in a cache mount (--mount=type=cache,target=/go/pkg/mod):
// they outlive every build there, and a prefetch layer under the mount
// would be hidden from the install. The mount may name the cache's folder
// or one above it, in a home or GOPATH the model cannot see (/go, /root/.m2).
func downloadsMounted(m *runmodel.Model, run *rewrite.Instruction, inst install) bool {
	name, cache := prefetchCache(inst)
	if name == "" || cache.Dir == "" {
		return false
	}
	r := m.Run(run)
	one := *runmodel.ManagerOf(inst.call)
	one.Caches = []runmodel.Cache{cache}
	places := m.CachePlaces(&one, m.State(run), inst.call, false)
	segs := strings.Split(strings.TrimPrefix(cache.Dir, "~/"), "/")
	for _, t := range r.CacheTargets() {
		if !path.IsAbs(t) {
			continue
		}
		t = path.Clean(t)
		for _, p := range places {
			if p.Overlaps(runmodel.Place{Path: t}) && (p.Home || p.Rel || p.Any || strings.HasPrefix(p.Path, t)) {
				return true
			}
		}
		for k := len(segs); k >= 1; k-- {
			if strings.HasSuffix(t, "/"+strings.Join(segs[:k], "/")) {
				return true
			}
		}
	}
	return false
}

// unignoredOutputs lists, relative to the context, the folders the install
// makes in its project folder (node_modules, vendor, .venv, target, obj, ...)
// that the ignore file does not keep out: once the install runs before the
// COPY of the project, the COPY would put the context's over them.
//
// A workspace install makes them in every member folder too: members are
// the folders of the package.json files among the manifests.
func unignoredOutputs(ctx *rewrite.BuildContext, dir string, inst install, manifests []string) []string {
	m := runmodel.ManagerNamed(inst.eco.name)
	if m == nil {
		return nil
	}
	produces := slices.Clone(m.Produces)
	if inst.eco == ecoPip {
		for _, f := range []string{"-t", "--target", "--prefix", "--root", "--user", "--src"} {
			if inst.call.HasFlag(f) {
				return []string{"(the folder of pip " + f + ")"}
			}
		}
	}
	dirs := []string{dir}
	for _, f := range manifests {
		if path.Base(f) == "package.json" && path.Dir(f) != path.Clean("/" + dir)[1:] && path.Dir(f) != "." {
			dirs = append(dirs, path.Dir(f))
		}
	}
	var out []string
	for _, d := range dirs {
		for _, f := range produces {
			rel := path.Join(d, f)
			if !ctx.Ignored(rel) && !slices.Contains(out, rel) {
				out = append(out, rel)
			}
		}
	}
	return out
}

// isDir tells whether rel names a folder of the context.
func isDir(ctx *rewrite.BuildContext, rel string) bool {
	fi, err := os.Stat(filepath.Join(ctx.Dir, filepath.FromSlash(rel)))
	return err == nil && fi.IsDir()
}

// manifestsOf lists, relative to the context, the manifests of an install
// running in folder dir of the context; those it needs and cannot find; and a
// reason to make the rewrite a proposal, when the install may read more.
func manifestsOf(ctx *rewrite.BuildContext, dir string, inst install) (files, missing []string, why string) {
	eco := inst.eco
	add := func(rel string, required bool) {
		p := path.Join(dir, rel)
		switch {
		case p == "." || p == ".." || strings.HasPrefix(p, "../"):
			// The whole context, or outside it: no manifest to copy first.
			missing = append(missing, p)
		case required && isDir(ctx, p):
			missing = append(missing, p) // a manifest the install needs is a file
		case slices.Contains(files, p):
		case ctx.Sent(p):
			files = append(files, p)
		case required:
			missing = append(missing, p)
		}
	}
	for _, f := range eco.required {
		add(f, true)
	}
	for _, f := range eco.optional {
		add(f, false)
	}
	because := func(reason string) {
		if why == "" {
			why = reason
		} else if !strings.Contains(why, reason) {
			why += "; " + reason
		}
	}
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(ctx.Dir, filepath.FromSlash(path.Join(dir, rel))))
		if err != nil {
			return ""
		}
		return string(b)
	}
	switch eco {
	case ecoNpm, ecoYarn, ecoPnpm, ecoBun:
		var pkg struct {
			Scripts    map[string]string `json:"scripts"`
			Workspaces json.RawMessage   `json:"workspaces"`
		}
		_ = json.Unmarshal([]byte(read("package.json")), &pkg)
		var scripts []string
		for _, s := range []string{"preinstall", "install", "postinstall", "prepare"} {
			if pkg.Scripts[s] != "" && !slices.Contains(words(inst.call), "--ignore-scripts") {
				scripts = append(scripts, s)
			}
		}
		switch len(scripts) {
		case 0:
		case 1:
			because("package.json runs a " + scripts[0] + " script, which may read other files")
		default:
			because("package.json runs " + strings.Join(scripts, ", ") + " scripts, which may read other files")
		}
		var globs []string
		var obj struct {
			Packages []string `json:"packages"`
		}
		if json.Unmarshal(pkg.Workspaces, &globs) != nil && json.Unmarshal(pkg.Workspaces, &obj) == nil {
			globs = obj.Packages
		}
		for _, line := range strings.Split(read("pnpm-workspace.yaml"), "\n") {
			if t := strings.TrimSpace(line); strings.HasPrefix(t, "- ") {
				globs = append(globs, strings.Trim(strings.TrimSpace(t[2:]), `'"`))
			}
		}
		for _, m := range workspaceMembers(ctx, dir, globs) {
			add(path.Join(m, "package.json"), false)
		}
	case ecoPip:
		seen := map[string]bool{}
		var visit func(rel string)
		visit = func(rel string) {
			if seen[rel] {
				return
			}
			seen[rel] = true
			add(rel, true)
			for _, line := range strings.Split(read(rel), "\n") {
				f := strings.Fields(line)
				switch {
				case len(f) == 0 || strings.HasPrefix(f[0], "#"):
				case (f[0] == "-r" || f[0] == "-c" || f[0] == "--requirement" || f[0] == "--constraint") && len(f) > 1:
					visit(path.Join(path.Dir(rel), f[1]))
				case f[0] == "-e" || f[0] == "--editable" || strings.HasPrefix(f[0], ".") || strings.HasPrefix(f[0], "/") || strings.HasPrefix(f[0], "file:"):
					because("a requirement file names a local path, which needs the project's files")
				}
			}
		}
		for _, r := range inst.reqFiles {
			visit(r)
		}
	case ecoComposer:
		var cj struct {
			Repositories json.RawMessage `json:"repositories"`
			Config       struct {
				AllowPlugins json.RawMessage `json:"allow-plugins"`
			} `json:"config"`
		}
		_ = json.Unmarshal([]byte(read("composer.json")), &cj)
		var list []struct{ Type string }
		var byName map[string]struct{ Type string }
		if json.Unmarshal(cj.Repositories, &list) != nil && json.Unmarshal(cj.Repositories, &byName) == nil {
			for _, r := range byName {
				list = append(list, r)
			}
		}
		if slices.ContainsFunc(list, func(r struct{ Type string }) bool { return r.Type == "path" || r.Type == "artifact" }) {
			because("composer.json names a local repository (path or artifact), which needs the project's files")
		}
		var all bool
		var some map[string]bool
		if json.Unmarshal(cj.Config.AllowPlugins, &all) == nil && all ||
			json.Unmarshal(cj.Config.AllowPlugins, &some) == nil && slices.Contains(slices.Collect(maps.Values(some)), true) {
			because("composer.json lets plugins run in the install, and they may read or write other files")
		}
	case ecoBundler:
		if g := read("Gemfile"); strings.Contains(g, "gemspec") || strings.Contains(g, "path:") {
			because("the Gemfile reads a gemspec or a local path")
		}
	case ecoMaven:
		if strings.Contains(read("pom.xml"), "<modules>") {
			because("a multi-module build needs every module's pom.xml")
		}
	case ecoUv:
		if strings.Contains(read("pyproject.toml"), "[tool.uv.workspace]") {
			because("a uv workspace needs every member's pyproject.toml")
		}
	case ecoGo:
		if m := read("go.mod"); strings.Contains(m, "=> ./") || strings.Contains(m, "=> ../") {
			because("go.mod replaces modules with local folders")
		}
		if ctx.Sent(path.Join(dir, "go.work")) {
			// A workspace root need not be a module itself.
			missing = slices.DeleteFunc(missing, func(m string) bool { return m == path.Join(dir, "go.mod") })
			add("go.work", true)
			add("go.work.sum", false)
			for _, use := range goWorkUses(read("go.work")) {
				if strings.HasPrefix(path.Clean(use), "..") {
					because("go.work uses a module outside the copied folder")
					continue
				}
				add(path.Join(use, "go.mod"), true)
				add(path.Join(use, "go.sum"), false)
			}
		}
	case ecoGradle:
		if !slices.Contains(files, path.Join(dir, "build.gradle")) && !slices.Contains(files, path.Join(dir, "build.gradle.kts")) {
			missing = append(missing, path.Join(dir, "build.gradle"))
		}
		// Scripts the build script applies (apply from: "$rootDir/deps.gradle")
		// are read when the build is configured.
		for _, m := range gradleApplyFrom().FindAllStringSubmatch(read("build.gradle")+read("build.gradle.kts"), -1) {
			f := m[1]
			for _, root := range []string{"$rootDir/", "${rootDir}/", "$projectDir/", "${projectDir}/"} {
				f = strings.TrimPrefix(f, root)
			}
			switch {
			case strings.Contains(f, "://"):
			case strings.ContainsAny(f, "$") || path.IsAbs(f):
				because("the build script applies " + m[1] + ", which dfopt cannot find")
			default:
				add(path.Clean(f), true)
			}
		}
		if settings := read("settings.gradle") + read("settings.gradle.kts"); strings.Contains(settings, "include") {
			because("a multi-project build needs every project's build script")
		}
	case ecoDotnet:
		found := dotnetProjectFiles(ctx, dir)
		if len(found) == 0 {
			missing = append(missing, path.Join(dir, "*.csproj"))
		}
		files = append(files, found...)
	}
	return files, missing, why
}

// gradleApplyFrom matches a script a Gradle build script applies.
var gradleApplyFrom = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`apply\s*\(?\s*from\s*[:=]\s*["']([^"']+)["']`) })

// goWorkUses reads the module folders a go.work file uses.
func goWorkUses(work string) []string {
	var out []string
	inBlock := false
	for _, line := range strings.Split(work, "\n") {
		f := strings.Fields(strings.SplitN(line, "//", 2)[0])
		switch {
		case len(f) == 0:
		case inBlock && f[0] == ")":
			inBlock = false
		case inBlock:
			out = append(out, strings.Trim(f[0], `"`))
		case f[0] == "use" && len(f) > 1 && f[1] == "(":
			inBlock = true
		case f[0] == "use" && len(f) > 1:
			out = append(out, strings.Trim(f[1], `"`))
		}
	}
	return out
}

// workspaceMembers expands workspace patterns (one * per segment, as npm,
// yarn and pnpm use them) into the member folders of the context.
func workspaceMembers(ctx *rewrite.BuildContext, dir string, globs []string) []string {
	if len(globs) == 0 {
		return nil
	}
	all, err := ctx.Files()
	if err != nil {
		return nil
	}
	var out []string
	for _, f := range all {
		if !f.Dir {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(f.Path, dir), "/")
		if dir != "" && !strings.HasPrefix(f.Path, dir+"/") {
			continue
		}
		for _, g := range globs {
			g = strings.TrimSuffix(strings.TrimPrefix(g, "./"), "/")
			if ok, _ := path.Match(g, rel); ok && !strings.HasPrefix(g, "!") {
				out = append(out, rel)
				break
			}
		}
	}
	return out
}

// dotnetProjectFiles finds the files dotnet restore reads below dir.
func dotnetProjectFiles(ctx *rewrite.BuildContext, dir string) []string {
	all, err := ctx.Files()
	if err != nil {
		return nil
	}
	var out []string
	for _, f := range all {
		if f.Dir || dir != "" && !strings.HasPrefix(f.Path, dir+"/") || strings.Contains("/"+f.Path+"/", "/bin/") || strings.Contains("/"+f.Path+"/", "/obj/") {
			continue
		}
		base := path.Base(f.Path)
		switch {
		case strings.HasSuffix(base, ".sln"), strings.HasSuffix(base, ".slnx"), strings.HasSuffix(base, ".csproj"),
			strings.HasSuffix(base, ".fsproj"), strings.HasSuffix(base, ".vbproj"),
			base == "Directory.Build.props", base == "Directory.Build.targets", base == "Directory.Packages.props",
			strings.EqualFold(base, "nuget.config"), base == "global.json":
			out = append(out, f.Path)
		}
	}
	return out
}

// installOnly tells whether a RUN can run before the project is copied: it
// does nothing but the install, a cd and cache clean-up, and commands the
// model follows (package installs by name, housekeeping) that do not name
// what the COPY brings. may says why one of those may read or change it
// (an install script, a package's zone).
func installOnly(m *runmodel.Model, r *runmodel.Run, inst install, copies func(string) bool) (may string, ok bool) {
	touches := m.Touches(r)
	for _, c := range r.Cmds {
		if c == inst.call {
			continue
		}
		switch {
		case !c.Opaque && c.Is("cd", "true"):
		case !c.Opaque && c.Is("rm") && !slices.ContainsFunc(c.Args, func(a runmodel.Word) bool {
			t, ok := a.Pattern()
			return !ok || !strings.HasPrefix(t, "-") && !isCachePath(t)
		}):
		case !c.Opaque && runmodel.ManagerOf(c) != nil && (c.Arg(0) == "cache" || c.Arg(0) == "store"):
		case touches.NotFollowed[c] != "":
			return "", false
		default:
			var own []runmodel.Touch
			for _, t := range touches.Places {
				if t.Cmd == c {
					own = append(own, t)
				}
			}
			why, ok := mayTouch(own, copies)
			if !ok {
				return "", false
			}
			if may == "" {
				may = why
			}
		}
	}
	return may, true
}

func isCachePath(p string) bool {
	for _, prefix := range []string{"/root/.", "/tmp/", "/var/cache/", "/usr/local/share/.cache", "/home/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// manifestCopyText writes the COPY lines for the manifests: files folder by
// folder, each folder-manifest on its own, with the ownership flags of the
// original COPY. Destinations are absolute when the original COPY's is, else
// relative to the WORKDIR in force where the lines go (ins) when the install
// folder lies below it; a destination that names variables keeps them.
func manifestCopyText(d *rewrite.Document, wp *wholeProject, files []string, dir, cwd, ins string) string {
	kw := d.Keyword(wp.in, "COPY")
	var flags []string
	for _, f := range d.FlagWords(wp.in) {
		if strings.HasPrefix(f, "--chown") || strings.HasPrefix(f, "--chmod") || f == "--link" || strings.HasPrefix(f, "--link=") {
			flags = append(flags, f)
		}
	}
	destFor := func(sub string) string {
		target := path.Join(cwd, sub)
		switch {
		case wp.rawDest != "":
			rel := strings.TrimPrefix(strings.TrimPrefix(target, wp.dest), "/")
			return strings.TrimSuffix(strings.TrimSuffix(wp.rawDest, "/")+"/"+rel, "/") + "/"
		case !wp.relative:
			return strings.TrimSuffix(target, "/") + "/"
		case target == ins:
			return "./"
		case strings.HasPrefix(target, strings.TrimSuffix(ins, "/")+"/"):
			return strings.TrimPrefix(target, strings.TrimSuffix(ins, "/")+"/") + "/"
		}
		return target + "/"
	}
	line := func(srcs []string, dst string) string {
		args := append(slices.Clone(srcs), dst)
		text := strings.Join(args, " ")
		if slices.ContainsFunc(args, func(a string) bool { return strings.ContainsAny(a, " \t\"'") }) {
			text = rewrite.JSONArgs(args)
		}
		return strings.Join(append(append([]string{kw}, flags...), text), " ") + "\n"
	}
	var b strings.Builder
	groups := map[string][]string{}
	var order []string
	for _, f := range files {
		rel := strings.TrimPrefix(strings.TrimPrefix(f, dir), "/")
		sub := path.Dir(rel)
		if isDirManifest(rel) {
			b.WriteString(line([]string{f}, destFor(rel)))
			continue
		}
		if _, ok := groups[sub]; !ok {
			order = append(order, sub)
		}
		groups[sub] = append(groups[sub], f)
	}
	var out strings.Builder
	for _, sub := range order {
		out.WriteString(line(groups[sub], destFor(sub)))
	}
	return out.String() + b.String()
}

// isDirManifest tells the manifests that are folders.
func isDirManifest(rel string) bool {
	switch rel {
	case ".yarn/releases", ".yarn/plugins", ".yarn/patches", "patches", "config", ".mvn", "gradle":
		return true
	}
	return false
}

// lines returns the source lines from..to, each ending with a line break.
func lines(d *rewrite.Document, from, to int) string {
	if from > to {
		return ""
	}
	s := string(d.Src[d.LineStart(from):d.LineEnd(to)])
	if !strings.HasSuffix(s, "\n") {
		s += d.Newline
	}
	return s
}

// moveInstallUp returns the edit that puts the manifest COPY lines where the
// COPY was, and the COPY right after the install, with its comment block;
// the instructions between them keep their place and their bytes.
func moveInstallUp(d *rewrite.Document, cp, run *rewrite.Instruction, copyText string) rewrite.Edit {
	start := d.LineStart(d.CommentBlockStart(cp))
	end := d.LineEnd(run.EndLine)
	text := copyText + lines(d, cp.EndLine+1, run.EndLine) + lines(d, d.CommentBlockStart(cp), cp.EndLine)
	if !strings.HasSuffix(string(d.Src[start:end]), "\n") {
		text = strings.TrimSuffix(strings.TrimSuffix(text, "\n"), "\r")
	}
	return rewrite.Edit{Start: start, End: end, New: text}
}

// prefetchBeforeInstall returns the edit that puts the manifest COPY lines
// where the COPY was, the dependency-only RUN after the steps between the
// COPY and the install (last is the last of them, nil for none), where it
// runs as the install does, and the COPY, with its comment block, after it.
// Blank lines and loose comments after the steps stay above the install.
func prefetchBeforeInstall(d *rewrite.Document, cp, last, run *rewrite.Instruction, copyText, prefetch string) rewrite.Edit {
	cpStart := d.CommentBlockStart(cp)
	midEnd := cp.EndLine
	if last != nil {
		midEnd = last.EndLine
	}
	runStart := d.CommentBlockStart(run)
	text := copyText + lines(d, cp.EndLine+1, midEnd) + prefetch + lines(d, cpStart, cp.EndLine) + lines(d, midEnd+1, runStart-1)
	return rewrite.Edit{Start: d.LineStart(cpStart), End: d.LineStart(runStart), New: text}
}

// lockRewritten names the lockfile among the manifests copied first that
// the install may write, unless it is told to keep it as it is: npm
// install (not npm ci) brings package-lock.json up to date, and so do
// yarn, pnpm and bun without a frozen lockfile, bundle install without
// --frozen or --deployment, pipenv install without --deploy or
// --ignore-pipfile, and mix deps.get. Once the install moves above the
// COPY of the whole project, that COPY puts the context's lockfile back
// over the one the install wrote, where before the image kept the
// install's (the bench's static-site: a lockfile of npm 6 that npm 9
// rewrote). "" when none may be written.
func lockRewritten(inst install, files []string) string {
	var locks []string
	switch inst.eco {
	case ecoNpm:
		if v := inst.call.Arg(0); v == "ci" || v == "clean-install" {
			return ""
		}
		locks = []string{"package-lock.json", "npm-shrinkwrap.json"}
	case ecoYarn:
		if inst.call.HasFlag("--frozen-lockfile", "--immutable") {
			return ""
		}
		locks = []string{"yarn.lock"}
	case ecoPnpm, ecoBun:
		if inst.call.HasFlag("--frozen-lockfile") {
			return ""
		}
		locks = []string{"pnpm-lock.yaml", "bun.lockb", "bun.lock"}
	case ecoBundler:
		if inst.call.HasFlag("--frozen", "--deployment") {
			return ""
		}
		locks = []string{"Gemfile.lock"}
	case ecoPipenv:
		if inst.call.HasFlag("--deploy", "--ignore-pipfile") {
			return ""
		}
		locks = []string{"Pipfile.lock"}
	case ecoMix:
		locks = []string{"mix.lock"}
	}
	for _, f := range files {
		if slices.Contains(locks, path.Base(f)) {
			return f
		}
	}
	return ""
}
