package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/internal/images"
	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// MultiStage splits a single-stage file that installs a toolchain and
// compiles one program into a builder stage and a runtime stage on a small
// base: the toolchain, the sources and the build caches stay behind.
var MultiStage = &rewrite.Rule{
	Name:  "multi-stage",
	Title: "Compile in a builder stage and ship the program on a small runtime base (proposal: assumes what the program reads at run time)",
	Kind:  rewrite.Proposal,
	Doc: `A single-stage image that compiles its program ships the compiler, the
build caches and everything the build installed (golang:1.22 weighs about
800 MB, gcc and its headers about 200 MB) to run one file. A builder stage
keeps the build as it is; a runtime stage from a small base receives the
program with COPY --from and keeps the image's configuration.

dfopt proposes the split for a file with one stage that compiles one
program with go build -o FILE, or with gcc, g++, cc or clang -o FILE, and
runs that program: ENTRYPOINT (or CMD) in exec form names it. Everything
else the stage does must be what dfopt can see through and leave behind:
package installs of the toolchain alone (golang-go, gcc, make, git,
build-essential, musl-dev, ...; for go also ca-certificates and tzdata,
whose files the runtime stage copies), index refreshes and clean-ups, go
mod download, cd, mkdir and COPY from the build context; a RUN after the
compile, an ADD, a SHELL, ONBUILD, a HEALTHCHECK that runs a command, or a
USER named otherwise than root or nobody (or a number) stops it.

The FROM gets a stage name (AS build); right after the compile, a new FROM
starts the runtime stage with the configuration set before the compile
(ENV, ARG, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL, CMD,
ENTRYPOINT, copied as written) and the COPY --from=build of the program;
what came after the compile stays where it is, now in the runtime stage.
Where the build context holds more than sources (templates, static files,
configuration), or dfopt has no build context, the folders the stage
copied the project into are copied too, as the build left them.

The runtime base: for go, scratch, with the files of the build stage the
original image had and a Go program reads: the CA certificates (the golang
images have them, or the stage installs ca-certificates), /etc/passwd and
/etc/group where USER names a user, the time zones where it installs
tzdata; and CGO_ENABLED=0 put in front of go build where the file does not
set it, so that the program needs no C library (where a .go file of the
project imports "C", or go.mod needs a module known to need cgo, nothing is
proposed). For C and C++, the same distribution's slim image: debian:TAG ->
debian:TAG-slim, ubuntu and alpine as they are (scratch for a program
linked with -static); a -dev library the stage installs on a Debian
release dfopt knows (libssl-dev on bookworm) brings its runtime library
(libssl3) into the runtime stage; any other package, or a -dev library
dfopt cannot map, and nothing is proposed.

For Rust, the last cargo build (--release, --profile, --target) whose
binary the command runs (target/release/NAME in the folder it builds): the
binary goes onto the same Debian release's slim image (debian:stable-slim
where a rust tag names no release: its C library is as new as any rust
image's), or scratch for a musl build (rust's alpine images, --target
*-linux-musl), with the CA certificates where the original had them;
where Cargo.lock names a crate that binds a system library (openssl-sys,
libsqlite3-sys, ...), nothing is proposed. An earlier cargo build of the
dependencies alone (a stub main.rs) stays in the builder. For .NET, a
framework-dependent dotnet publish -o DIR on mcr.microsoft.com/dotnet/sdk
whose command runs what it published: the folder goes onto the aspnet
image of the same tag (it runs console apps too); a self-contained,
single-file or trimmed publish is not proposed.

For Java, the stage builds one jar with mvn package (or verify,
install), gradle build (or assemble, jar, bootJar) or the JDK's jar tool
(jar cfe FILE or jar --create --file FILE), and the image runs it with
java -jar FILE, the path literal (no wildcard, no variable) and no option
before -jar that names a file (-cp, -javaagent:, @argfiles). The jar must
be what the build writes: the jar tool's FILE; for Maven, target/NAME.jar
where pom.xml (read from the build context) names it with finalName or
artifactId-version, or any target/NAME.jar where dfopt cannot read it; for
Gradle, build/libs/NAME.jar (dfopt does not read build.gradle, and says
so). The toolchain's steps may stay behind: the JDK, maven, gradle and
Debian's Maven plugins installed with the package manager, javac, mvn
dependency:go-offline. The runtime base is a JRE of the same Java:
eclipse-temurin:N-jre for eclipse-temurin:N-jdk and for the maven
(eclipse-temurin-N) and gradle (jdkN) images built on it, openjdk's JRE
for openjdk 8 and 11 and eclipse-temurin:N-jre for the later openjdk tags
(another vendor's build, which the message says); for a JDK installed with
apt on Debian or Ubuntu (default-jdk-headless, openjdk-17-jdk), the slim
image with the matching JRE package (default-jre-headless) installed. It
assumes the program needs no JDK tool (javac, jar, jcmd, jshell) at run
time.

For Node.js, dfopt proposes the split for a stage that installs the whole
project with npm ci or npm install (devDependencies too) in its WORKDIR,
then runs npm run SCRIPT, and whose image runs the output with node FILE
(or npm start, where package.json's start script is node FILE). dfopt
reads the build context: package.json (no install, prepare, preSCRIPT or
postSCRIPT scripts), the lockfile (lockfileVersion 2 or 3; no package the
application keeps may run an install script: a native addon's library,
or what the script wrote, would be missed) and where the script writes:
tsc (outDir, from the command line or the tsconfig it reads), vite build
(dist, where no vite.config names another) or esbuild --outfile/--outdir.
Other tools (next, webpack, nuxt) write where code says, and yarn, pnpm,
a Dev Containers image or a .devcontainer folder are left alone. The
builder gets RUN npm prune --omit=dev after the build: the runtime stage
copies package.json, node_modules as that leaves it (the very packages
the build installed, less the devDependencies; no npm needed, nothing
fetched again, which a second npm ci --omit=dev in the runtime stage
would need) and the build output, or the project's folder whole where the
context holds more than TypeScript sources and tools' configuration.
The runtime base is the node image's -slim tag (alpine and slim tags as
they are); on debian or ubuntu with the distribution's nodejs, the same
distribution's slim image, where apt installs nodejs again (with the
ca-certificates and tzdata the stage installed): npm start is then not
proposed, as Debian's nodejs comes without npm.

A static site built the same way (npm run SCRIPT, the output tsc, vite
build or esbuild writes) and served by a Node.js static server goes onto
nginx:stable-alpine instead: the image's command is npx serve, serve,
npx http-server or http-server (or npm start running one of them), with
options dfopt carries over in full (the folder, which must be the build
output; the port; serve's -s, -u and options that change only messages;
http-server's -a 0.0.0.0 and --silent), the server a dependency of
package.json for npx and npm start, or installed with npm install -g. The
runtime stage writes a server block to /etc/nginx/conf.d/default.conf
(RUN printf) that keeps the port (the command's, PORT where the image
sets it, or the server's default: 3000 for serve, 8080 for http-server),
PATH.html for PATH, serve's folder listings, serve -s's fallback to
/index.html (try_files) or else the site's 404.html, serve's compression
and http-server's Cache-Control; the output is copied to
/usr/share/nginx/html and the CMD becomes nginx's. Headers, error pages
and listings still differ, which the message says. Any other option (a proxy, CORS, a
configuration file, HTTPS), a serve.json or now.json in the build
context, an ENTRYPOINT, a USER other than root, or a COPY after the build
stops it.

For Python, a stage on an official python image (its Debian tags) or on
Debian with apt's python3 that installs a C compiler with apt and builds
its dependencies with pip install: the last pip install is the build, and
the runtime stage copies the virtualenv pip installed into. Where the file
installs into the image's Python, the builder gets RUN python -m venv
/opt/venv and ENV PATH=/opt/venv/bin:$PATH before its first pip install
(not with --no-build-isolation: the virtualenv lacks the build packages the
image's Python has). The runtime base is the python image's slim tag, or
debian:TAG-slim with apt's python3, and installs the runtime library of
each -dev package the build installed (libpq-dev -> libpq5), where the
image names its Debian release (python:3.12-bookworm, debian:12). A -dev
package with no known runtime library, pip install --user, --target,
--prefix or -e, a virtualenv with --system-site-packages, conda, or an image
command that does not start Python by name (python app.py, gunicorn) or
from the virtualenv's bin folder stops it.

It is a proposal: dfopt cannot see what the program reads at run time. It
assumes the program reads nothing the build installed or wrote outside
what the runtime stage copies, needs no program of the base image (a shell,
curl), and no variable the base image set (PATH, GOPATH).

Bad:

    FROM golang:1.22
    WORKDIR /src
    COPY . .
    RUN CGO_ENABLED=0 go build -o /usr/local/bin/app .
    CMD ["app"]

Good:

    FROM golang:1.22 AS build
    WORKDIR /src
    COPY . .
    RUN CGO_ENABLED=0 go build -o /usr/local/bin/app .

    FROM scratch
    WORKDIR /src
    COPY --from=build /src /src
    COPY --from=build /usr/local/bin/app /usr/local/bin/app
    COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
    CMD ["app"]
`,
	Run: runMultiStage,
}

// runtimePath is where a runtime base looks for a program named without a
// folder (the PATH of Debian's and Alpine's images, and Docker's default).
var runtimePath = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// toolchain is how the split reads one language's builds. find returns the
// split's build side (the RUN that makes the program, what the runtime
// stage copies and its base) or ok false when the stage does not build
// that way; the rule checks the rest of the stage the same way for all.
type toolchain struct {
	name string // "the Go toolchain", for the message
	find func(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage) (*stageSplit, bool)
}

// toolchains are the languages the split reads, in the order it tries them.
var toolchains = []toolchain{
	{name: "the Go toolchain", find: findGoBuild},
	{name: "the C toolchain", find: findCBuild},
	{name: "the Rust toolchain", find: findRustBuild},
	{name: "the .NET SDK", find: findDotnetBuild},
	{name: "the JDK", find: findJavaBuild},
	{name: "Node.js and its static file server", find: findStaticSiteBuild}, // before Node.js apps: it reads the image's command
	{name: "the build's devDependencies", find: findNodeBuild},
	{name: "a C compiler and -dev packages", find: findPythonBuild},
}

// stageSplit is what the split of one stage is made of.
type stageSplit struct {
	// Set by the toolchain:
	build   *rewrite.Instruction // the RUN that makes the program: the stage's last build step
	main    *runmodel.Cmd        // the command that makes it
	program string               // what the image runs, for the message
	outputs []string             // what the runtime stage copies from the build stage: the program (files or folders, absolute)
	// runs tells whether the image's command (ENTRYPOINT and CMD in exec
	// form, as Docker joins them) runs the program; wd is the last WORKDIR.
	runs func(argv []string, wd string) bool
	// step tells whether a command of a RUN up to the build may stay in
	// the builder: it installs or runs only the toolchain, or keeps house.
	// It sees opaque commands too (cargo build runs build scripts): what
	// the toolchain's own commands do stays in the builder.
	step func(c *runmodel.Cmd) bool
	// source tells whether a file of the build context is one the
	// program does not read at run time (a source of the language).
	source  func(rel string) bool
	runtime string   // the runtime base
	setup   []string // lines that open the runtime stage, after its FROM
	extra   []string // files of the build stage the runtime base lacks: CA certificates, /etc/passwd, ...
	// moved maps an output to where the runtime stage puts it, where that
	// is not where the build wrote it (a static site into the web
	// server's root); the others land where the build wrote them.
	moved   map[string]string
	assumes []string
	edits   []rewrite.Edit // in the build stage (CGO_ENABLED=0 before go build)

	// Set by the rule:
	carry    []*rewrite.Instruction // configuration set before the build, repeated in the runtime stage
	projects []string               // where the stage copied the build context before the build, where the program may read it
}

func runMultiStage(p *rewrite.Pass) {
	d := p.Doc
	if len(d.Stages) != 1 || strings.Contains(d.Stages[0].Base, "$") {
		return
	}
	st := d.Stages[0]
	m := runmodel.Of(d)
	var sp *stageSplit
	var tc toolchain
	for _, tc = range toolchains {
		var ok bool
		if sp, ok = tc.find(p, m, st); ok {
			break
		}
	}
	if sp == nil || !readStage(p, m, st, sp) {
		return
	}
	name := st.Name
	if name == "" {
		name = "build"
		end := d.LineTextEnd(st.From.EndLine)
		sp.edits = append(sp.edits, rewrite.Edit{Start: end, End: end, New: " " + d.Keyword(st.From, "AS") + " build"})
	}
	var b strings.Builder
	at := sp.build.End
	if at == 0 || d.Src[at-1] != '\n' {
		b.WriteString("\n")
	}
	b.WriteString("\n" + d.Keyword(st.From, "FROM") + " " + sp.runtime + "\n")
	for _, line := range sp.setup {
		b.WriteString(line + "\n")
	}
	for _, in := range sp.carry {
		b.WriteString(d.Text(in) + "\n")
	}
	copyKw := d.Keyword(sp.build, "COPY")
	copied := func(f string) bool {
		return slices.ContainsFunc(sp.projects, func(dir string) bool { return covers(dir, f) })
	}
	for _, dir := range sp.projects {
		fmt.Fprintf(&b, "%s --from=%s %s %s\n", copyKw, name, dir, dir)
	}
	for _, f := range append(slices.Clone(sp.outputs), sp.extra...) {
		if to, ok := sp.moved[f]; ok {
			fmt.Fprintf(&b, "%s --from=%s %s %s\n", copyKw, name, f, to)
		} else if !copied(f) {
			fmt.Fprintf(&b, "%s --from=%s %s %s\n", copyKw, name, f, f)
		}
	}
	sp.edits = append(sp.edits, rewrite.Edit{Start: at, End: at, New: b.String()})
	saving := ""
	if from, ok := images.ApproxMB(st.Base); ok {
		if to, ok := images.ApproxMB(sp.runtime); ok && from > to {
			saving = fmt.Sprintf(", at least about %d MB smaller (%s is about %d MB, %s %d MB, before what the build installed)", from-to, st.Base, from, sp.runtime, to)
		}
	}
	p.Report(rewrite.Finding{
		Line: st.From.StartLine,
		Message: fmt.Sprintf("the image ships %s and what the build installed to run %s (line %d): build it in a builder stage and copy it onto %s%s (proposal: assumes %s)",
			tc.name, sp.program, p.InputLine(sp.build.StartLine), sp.runtime, saving, strings.Join(sp.assumes, "; ")),
		Edits: sp.edits,
	})
}

// readStage checks the stage around the build the toolchain found: up to
// the build, RUNs that stay behind (the toolchain's steps) and COPYs from
// the build context; after it, configuration and COPYs alone; the image
// runs the program. It fills the configuration the runtime stage repeats
// and the folders it copies.
func readStage(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage, sp *stageSplit) bool {
	k := slices.Index(st.Instructions, sp.build)
	for i, in := range st.Instructions[1:] {
		i++
		switch c := in.Command.(type) {
		case *instructions.RunCommand:
			if i > k || !stepsOnly(m.Run(in), sp) {
				return false
			}
		case *instructions.CopyCommand:
			if c.From != "" || !plainOwner(c.Chown) {
				return false
			}
			if i < k {
				dest, ok := copyDestination(m, in, c.DestPath)
				if !ok {
					return false
				}
				sp.projects = append(sp.projects, dest)
			}
		case *instructions.AddCommand:
			return false // a URL or an archive: what it brings may be read at run time
		case *instructions.UserCommand:
			if !plainOwner(c.User) {
				return false
			}
			if i < k {
				sp.carry = append(sp.carry, in)
			}
		case *instructions.HealthCheckCommand:
			if c.Health == nil || len(c.Health.Test) == 0 || c.Health.Test[0] != "NONE" {
				return false // a command the runtime base may not have
			}
			if i < k {
				sp.carry = append(sp.carry, in)
			}
		case *instructions.EnvCommand, *instructions.ArgCommand, *instructions.WorkdirCommand, *instructions.LabelCommand,
			*instructions.ExposeCommand, *instructions.VolumeCommand, *instructions.StopSignalCommand,
			*instructions.CmdCommand, *instructions.EntrypointCommand, *instructions.MaintainerCommand:
			if i < k {
				sp.carry = append(sp.carry, in)
			}
		default:
			return false // SHELL, ONBUILD
		}
	}
	argv, ok := imageCommand(st)
	if !ok || !sp.runs(argv, m.After(st.Instructions[len(st.Instructions)-1]).Workdir) {
		return false
	}
	sp.projects = outermost(sp.projects)
	ctx := p.Options.Context
	switch {
	case len(sp.projects) == 0:
	case ctx != nil && sourcesOnly(ctx, p.Doc, st, sp.source):
		sp.projects = nil
	default:
		sp.assumes = append(sp.assumes, "it reads no file the build wrote outside "+strings.Join(sp.projects, ", ")+", which the runtime stage copies as the build left it")
	}
	if len(sp.projects) == 0 {
		sp.assumes = append(sp.assumes, "it reads no file of the build stage at run time but what the runtime stage copies (the project's files are sources alone)")
	}
	sp.assumes = append(sp.assumes, "it needs none of the variables the build's base image set (PATH, ...)")
	return true
}

// outermost keeps, of folders in the order given, those no other one
// holds (each once): COPY package.json ./ and COPY . . both copy into /app,
// which the runtime stage copies once.
func outermost(dirs []string) []string {
	var out []string
	for i, d := range dirs {
		held := slices.ContainsFunc(dirs, func(o string) bool { return o != d && covers(o, d) }) || slices.Contains(dirs[:i], d)
		if !held {
			out = append(out, d)
		}
	}
	return out
}

// stepsOnly tells whether every command of a RUN up to the build is one
// the builder keeps: the build itself, a step of the toolchain, or
// housekeeping.
func stepsOnly(r *runmodel.Run, sp *stageSplit) bool {
	if r.Onbuild || r.Whole != "" {
		return false
	}
	for _, c := range r.Cmds {
		if c != sp.main && !sp.step(c) {
			return false
		}
	}
	return true
}

// leftBehind tells whether a command only installs packages pkg accepts,
// refreshes or cleans package indexes, or keeps house (cd, echo without a
// redirection, mkdir, rm): what a builder stage may keep to itself, since
// the runtime stage needs nothing it makes.
func leftBehind(c *runmodel.Cmd, pkg func(string) bool) bool {
	if c.Opaque {
		return false
	}
	if mgr := runmodel.ManagerOf(c); mgr != nil && c.Name != "go" {
		k := mgr.Read(c)
		switch {
		case k.AnyUnknownArg():
			return false
		case k.Installs():
			return !slices.ContainsFunc(k.Operands(), func(p string) bool { return !pkg(p) })
		case k.Refreshes() || k.Verb == "clean" || k.Verb == "autoclean" || k.Verb == "autoremove":
			return true
		}
		return false
	}
	switch {
	case c.Is("cd", "true", "set", ":", "mkdir", "export", "touch"):
		return true
	case c.Is("echo", "printf"):
		// A file it writes may be read at run time, but for a stub of a
		// source (echo 'fn main() {}' > src/main.rs, to build the
		// dependencies alone first).
		for _, rd := range c.Redirs {
			t, ok := rd.Target.Value()
			if rd.Write && (!ok || !slices.Contains([]string{".rs", ".go", ".c", ".h", ".cc", ".cpp", ".java", ".py", ".js", ".ts"}, path.Ext(t))) {
				return false
			}
		}
		return true
	case c.Is("rm"):
		return true // what a builder removes, no runtime stage needs
	}
	return false
}

// imageCommand is what the image runs, in exec form: the ENTRYPOINT's
// words and the CMD's after them, or the CMD alone. ok is false for a
// shell form, which needs a shell the runtime base may not have.
func imageCommand(st *rewrite.Stage) ([]string, bool) {
	var entry, cmd []string
	entryShell, cmdShell, hasEntry := false, false, false
	for _, in := range st.Instructions {
		switch c := in.Command.(type) {
		case *instructions.EntrypointCommand:
			// It resets the base image's CMD, never one the stage sets.
			entry, entryShell, hasEntry = c.CmdLine, c.PrependShell, true
		case *instructions.CmdCommand:
			cmd, cmdShell = c.CmdLine, c.PrependShell
		}
	}
	switch {
	case hasEntry && (entryShell || len(entry) == 0):
		return nil, false
	case hasEntry && !cmdShell:
		return append(slices.Clone(entry), cmd...), true
	case hasEntry:
		return nil, false
	case cmdShell || len(cmd) == 0:
		return nil, false
	}
	return cmd, true
}

// runsFile tells whether argv starts the program at file: by its path, or
// by its name in a folder of the runtime's PATH.
func runsFile(file string) func(argv []string, wd string) bool {
	return func(argv []string, wd string) bool {
		if len(argv) == 0 || strings.Contains(argv[0], "$") {
			return false
		}
		prog := argv[0]
		switch {
		case path.IsAbs(prog):
			return path.Clean(prog) == file
		case strings.Contains(prog, "/"):
			return wd != "" && path.Join(wd, prog) == file
		}
		return path.Base(file) == prog && slices.Contains(runtimePath, path.Dir(file))
	}
}

// plainOwner tells whether a user (USER, --chown) is one the runtime stage
// can have: none given, a number, or root or nobody (in the user database
// every base has, which a runtime stage from scratch copies).
func plainOwner(u string) bool {
	if u == "" {
		return true
	}
	user, group, _ := strings.Cut(u, ":")
	for _, n := range []string{user, group} {
		if n != "" && strings.Trim(n, "0123456789") != "" && n != "root" && n != "nobody" {
			return false
		}
	}
	return true
}

// copyDestination is where a COPY from the build context puts its files,
// absolute.
func copyDestination(m *runmodel.Model, in *rewrite.Instruction, dest string) (string, bool) {
	s := m.State(in)
	d, ok := s.Expand(m.Lex, dest)
	if !ok || d == "" {
		return "", false
	}
	d = resolve(s.Workdir, d)
	return d, d != "" && d != "/"
}

// sourcesOnly tells whether what the stage copies from the build context
// is sources and files the build alone reads (READMEs, licences, the
// Dockerfile), so that the program needs none of it at run time.
func sourcesOnly(ctx *rewrite.BuildContext, d *rewrite.Document, st *rewrite.Stage, source func(rel string) bool) bool {
	only := true
	for _, c := range contextCopies(d, map[*rewrite.Stage]bool{st: true}) {
		if c.unknown {
			return false
		}
		c.walk(ctx, func(f rewrite.ContextFile) bool {
			if !f.Dir && !source(f.Path) && !buildOnlyFile(f.Path) {
				only = false
			}
			return !only
		})
	}
	return only
}

// buildOnlyFile tells whether a file of the build context is one no
// program reads at run time, whatever its language: version control,
// documentation, licences, the Dockerfile and its ignore file, tests' data.
func buildOnlyFile(rel string) bool {
	base := path.Base(rel)
	upper := strings.ToUpper(base)
	switch {
	case strings.HasPrefix(rel, ".git/") || strings.HasPrefix(rel, "docs/") || strings.Contains(rel, "/testdata/") || strings.HasPrefix(rel, "testdata/"):
		return true
	case strings.HasPrefix(upper, "README") || strings.HasPrefix(upper, "LICENSE") || strings.HasPrefix(upper, "COPYING") || strings.HasPrefix(upper, "CHANGELOG") || strings.HasPrefix(upper, "NOTICE"):
		return true
	}
	return strings.HasPrefix(base, "Dockerfile") || base == ".dockerignore" || strings.HasPrefix(base, ".git") || base == "Makefile" || path.Ext(base) == ".md"
}

// installsPackage tells whether a RUN of the stage installs a package by
// that name.
func installsPackage(m *runmodel.Model, st *rewrite.Stage, pkg string) bool {
	for _, in := range st.Instructions {
		r := m.Run(in)
		if r == nil {
			continue
		}
		for _, c := range r.Cmds {
			if mgr := runmodel.ManagerOf(c); mgr != nil && mgr.Read(c).Installs() && slices.Contains(mgr.Read(c).Operands(), pkg) {
				return true
			}
		}
	}
	return false
}

// buildRun finds the RUN of the stage that builds the program. read tells
// whether a command is such a build (found) and whether dfopt can read it
// (ok: a build it cannot read gives up on the stage). With last, the last
// build counts (an earlier one may build the dependencies alone, from a
// stub); otherwise there must be one. The build must run whenever its RUN
// succeeds.
func buildRun[T any](m *runmodel.Model, st *rewrite.Stage, last bool, read func(r *runmodel.Run, c *runmodel.Cmd) (b T, found, ok bool)) (T, *rewrite.Instruction, bool) {
	var build, none T
	var at *rewrite.Instruction
	for _, in := range st.Instructions {
		r := m.Run(in)
		if r == nil {
			continue
		}
		for _, c := range r.Cmds {
			b, found, ok := read(r, c)
			switch {
			case !found:
				continue
			case !ok || c.Cond || c.Background || at != nil && !last:
				return none, nil, false // a build dfopt cannot read, one on a condition, or two programs
			}
			build, at = b, in
		}
	}
	return build, at, at != nil
}
