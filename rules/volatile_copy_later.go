package rules

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"mvdan.cc/sh/v3/syntax"
)

// VolatileCopyLater moves a COPY of files that change often below the
// instructions after it that cannot read them: a change to those files then no
// longer re-runs them.
var VolatileCopyLater = &rewrite.Rule{
	Name:  "volatile-copy-later",
	Title: "Move a COPY of often-changing files below the RUNs that do not read them",
	Kind:  rewrite.Safe,
	Doc: `A change to a file that COPY or ADD takes from the build context invalidates
the build cache of every instruction after it. When the files change often (the
whole context, a source folder, a script, a config file) and the RUNs right
after the COPY do not read them, a code change re-runs those RUNs for nothing.
dfopt moves such a COPY, with the comment block right above it, below them.

It moves a COPY (or an ADD of local folders) of context files past what
provably does not read them: LABEL, EXPOSE and MAINTAINER; ENV and ARG that
none of its words refer to; WORKDIR when its destination is absolute and
elsewhere; USER when it has no --chown; and RUNs made only of installs of
packages named on the command line (apt-get, apk, yum, dnf, microdnf, tdnf,
zypper, pip install; npm install -g, gem install and python -m pip only when
the working directory is outside the destination) and of housekeeping (rm,
mkdir, ln, useradd, groupadd, echo into a file, export, set), whose paths,
mounts, wildcards and tool environment (PATH, PYTHONPATH, PIP_*, a login
SHELL's profiles, ...) stay clear of the top folder of the COPY's destination.
Package managers write all over /etc, /usr, /var, /opt, /srv, /tmp and /root:
a COPY into those stays before them. It stops at anything else (another COPY,
VOLUME, SHELL, CMD, a RUN that builds or runs the code, an install from a
requirements file), and moves only past at least one RUN. A COPY of dependency
manifests and lockfiles (package.json, requirements.txt, go.mod, Gemfile, ...)
stays where it is: it comes early on purpose, for the install that reads it.
dfopt does not see the base image's environment; it assumes the base image does
not point package managers into the COPY's destination.

Bad:

    WORKDIR /app
    COPY . .
    RUN apt-get update && apt-get install -y curl
    EXPOSE 8000
    CMD ["python", "main.py"]

Good:

    WORKDIR /app
    RUN apt-get update && apt-get install -y curl
    EXPOSE 8000
    COPY . .
    CMD ["python", "main.py"]
`,
	Run: runVolatileCopyLater,
}

func runVolatileCopyLater(p *rewrite.Pass) {
	d := p.Doc
	lex := shell.NewLex(d.Escape)
	states := volatileStates(d, lex)
	for _, st := range d.Stages {
		if st.From.POSIX { // Windows stages have other paths and shells
			moveVolatileCopies(p, st, states[st], lex)
		}
	}
}

// volatileBlock is a run of consecutive COPY instructions of volatile files,
// moved together so that they keep their order.
type volatileBlock struct {
	first, last int // indices in the stage's instructions
	copies      []*volatileCopy
	stop        int // the index of the instruction the block cannot pass (len: the stage's end)
	runs        int // the RUNs it passes
	moves       bool
	waits       bool // it stops at a block that moves or waits: it moves on a later pass
}

func moveVolatileCopies(p *rewrite.Pass, st *rewrite.Stage, states []buildState, lex *shell.Lex) {
	var blocks []*volatileBlock
	for i, in := range st.Instructions {
		c, ok := volatileCopyOf(in, states[i], lex)
		if !ok {
			continue
		}
		if n := len(blocks); n > 0 && blocks[n-1].last == i-1 {
			blocks[n-1].last = i
			blocks[n-1].copies = append(blocks[n-1].copies, c)
			continue
		}
		blocks = append(blocks, &volatileBlock{first: i, last: i, copies: []*volatileCopy{c}})
	}
	// From the last block up: a block that stops at one that moves waits for
	// the next pass, so that no COPY is moved twice.
	for i := len(blocks) - 1; i >= 0; i-- {
		b := blocks[i]
		b.walk(st, states)
		if b.runs == 0 {
			continue
		}
		if i+1 < len(blocks) && blocks[i+1].first == b.stop && (blocks[i+1].moves || blocks[i+1].waits) {
			b.waits = true
			continue
		}
		b.moves = true
	}
	for _, b := range blocks {
		if b.moves {
			reportVolatileMove(p, st, b)
		}
	}
}

// walk finds how far the block may go: the instructions after it that it
// may pass, and how many of them are RUNs.
func (b *volatileBlock) walk(st *rewrite.Stage, states []buildState) {
	b.stop = len(st.Instructions)
	for k := b.last + 1; k < len(st.Instructions); k++ {
		in := st.Instructions[k]
		ok := false
		switch c := in.Command.(type) {
		case *instructions.LabelCommand, *instructions.ExposeCommand, *instructions.MaintainerCommand:
			ok = true
		case *instructions.EnvCommand:
			ok = true
			for _, kv := range c.Env {
				ok = ok && !b.uses(kv.Key)
			}
		case *instructions.ArgCommand:
			ok = true
			for _, a := range c.Args {
				ok = ok && !b.uses(a.Key)
			}
		case *instructions.WorkdirCommand:
			wd := states[k+1].workdir
			ok = wd != ""
			for _, cp := range b.copies {
				ok = ok && !cp.relative && !pathsOverlap(wd, cp.top)
			}
		case *instructions.UserCommand:
			ok = true
			for _, cp := range b.copies {
				ok = ok && !cp.chown
			}
		case *instructions.RunCommand:
			ok = b.runPasses(in, states[k])
			if ok {
				b.runs++
			}
		}
		if !ok {
			b.stop = k
			return
		}
	}
}

// uses tells whether a COPY of the block refers to a variable.
func (b *volatileBlock) uses(name string) bool {
	for _, c := range b.copies {
		if slices.Contains(c.vars, name) {
			return true
		}
	}
	return false
}

// runPasses tells whether a RUN provably neither reads nor writes what the
// block's copies write (nor, for --chown by name, the user database).
func (b *volatileBlock) runPasses(in *rewrite.Instruction, s buildState) bool {
	places, ok := runFootprint(in, s)
	if !ok {
		return false
	}
	for _, fp := range places {
		for _, c := range b.copies {
			if pathsOverlap(fp, c.top) || c.byName && pathsOverlap(fp, "/etc") {
				return false
			}
		}
	}
	return true
}

// reportVolatileMove moves the block, with the comment block right above it,
// to just after the last instruction it passes. A block that stood apart,
// with blank lines around it, keeps a blank line above it in its new place
// when one follows that instruction; the blank lines it leaves go with it.
func reportVolatileMove(p *rewrite.Pass, st *rewrite.Stage, b *volatileBlock) {
	d := p.Doc
	first, last := st.Instructions[b.first], st.Instructions[b.last]
	passed := st.Instructions[b.stop-1]
	startLine := d.CommentBlockStart(first)
	chunk := string(d.Src[d.LineStart(startLine):last.End])

	after := last.EndLine + 1
	for after <= d.Lines() && blankLineAt(d, after) {
		after++
	}
	apart := blankLineAt(d, startLine-1) && after > last.EndLine+1
	delEnd := last.End
	if apart {
		delEnd = len(d.Src)
		if after <= d.Lines() {
			delEnd = d.LineStart(after)
		}
	}

	text := chunk
	if apart && (passed.EndLine == d.Lines() || blankLineAt(d, passed.EndLine+1)) {
		text = "\n" + chunk
	}
	if passed.End == len(d.Src) && !strings.HasSuffix(string(d.Src), "\n") {
		text = "\n" + strings.TrimRight(text, "\r\n") // the file had no final newline: it still has none
	}
	p.Report(rewrite.Finding{
		Line:    first.StartLine,
		Message: volatileMessage(b),
		Edits: []rewrite.Edit{
			{Start: d.LineStart(startLine), End: delEnd},
			{Start: passed.End, End: passed.End, New: text},
		},
	})
}

func volatileMessage(b *volatileBlock) string {
	kw := strings.ToUpper(b.copies[0].in.Keyword)
	for _, c := range b.copies[1:] {
		if c.in.Keyword != b.copies[0].in.Keyword {
			kw = "COPY and ADD"
		}
	}
	what, it := kw+" of volatile files busts", "it"
	if len(b.copies) > 1 {
		what, it = fmt.Sprintf("%d %s instructions of volatile files bust", len(b.copies), kw), "them"
	}
	if b.runs == 1 {
		return fmt.Sprintf("%s the cache of the RUN after %s, which does not read them: moved below it", what, it)
	}
	return fmt.Sprintf("%s the cache of the %d RUNs after %s, which do not read them: moved below them", what, b.runs, it)
}

func blankLineAt(d *rewrite.Document, ln int) bool {
	return ln >= 1 && ln <= d.Lines() && strings.TrimSpace(d.LineText(ln)) == ""
}

// volatileCopy is a COPY or ADD of build-context files that change often.
type volatileCopy struct {
	in       *rewrite.Instruction
	top      string   // the top folder of its destination ("/" for the root itself): what it may create or change
	vars     []string // the variables its words refer to
	relative bool     // its destination is relative to WORKDIR
	chown    bool     // it has --chown
	byName   bool     // --chown names a user or group: it reads /etc/passwd and /etc/group
}

var (
	varUse       = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)
	numericOwner = regexp.MustCompile(`^[0-9]+(:[0-9]+)?$`)
)

// volatileCopyOf reads a COPY or ADD of context files that are not
// dependency manifests, with a destination dfopt can resolve.
func volatileCopyOf(in *rewrite.Instruction, s buildState, lex *shell.Lex) (*volatileCopy, bool) {
	var srcs []string
	var dest, chown string
	switch c := in.Command.(type) {
	case *instructions.CopyCommand:
		if c.From != "" || len(c.SourceContents) > 0 {
			return nil, false
		}
		srcs, dest, chown = c.SourcePaths, c.DestPath, c.Chown
	case *instructions.AddCommand:
		if len(c.SourceContents) > 0 {
			return nil, false
		}
		for _, src := range c.SourcePaths {
			if src != "." && !strings.HasSuffix(src, "/") {
				return nil, false // ADD unpacks local archives: only folders are plain copies
			}
		}
		srcs, dest, chown = c.SourcePaths, c.DestPath, c.Chown
	default:
		return nil, false
	}
	if len(srcs) == 0 || len(in.Node.Heredocs) > 0 {
		return nil, false
	}
	for _, src := range srcs {
		if strings.Contains(src, "$") || isRemoteSource(src) || isManifestSource(src) {
			return nil, false
		}
	}
	res, err := lex.ProcessWordWithMatches(dest, s.env)
	if err != nil || len(res.Unmatched) > 0 || res.Result == "" {
		return nil, false
	}
	for name := range res.Matched {
		if !s.env[name].fixed {
			return nil, false // an ARG: --build-arg may send the files anywhere
		}
	}
	c := &volatileCopy{in: in, relative: !path.IsAbs(res.Result), chown: chown != ""}
	c.byName = c.chown && !numericOwner.MatchString(chown)
	dst := res.Result
	if c.relative {
		if s.workdir == "" {
			return nil, false
		}
		dst = path.Join(s.workdir, dst)
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(path.Clean(dst), "/"), "/")
	c.top = "/" + first
	for _, m := range varUse.FindAllStringSubmatch(in.Line, -1) {
		c.vars = append(c.vars, m[1])
	}
	return c, true
}

func isRemoteSource(src string) bool {
	l := strings.ToLower(src)
	return strings.Contains(l, "://") || strings.HasPrefix(l, "git@")
}

// manifestPatterns are files and folders that declare dependencies. A COPY of
// them comes early on purpose, before the install that reads them.
var manifestPatterns = []string{
	"package.json", "npm-shrinkwrap.json", ".npmrc", ".yarnrc", ".yarnrc.yml", ".yarn",
	"pnpm-workspace.yaml", ".pnpmfile.cjs",
	"requirements*.txt", "requirements*.in", "requirements", "constraints*.txt", "pipfile",
	"pyproject.toml", "setup.py", "setup.cfg", "environment*.yml", "environment*.yaml",
	"go.mod", "go.sum", "go.work", "go.work.sum",
	"gemfile", "*.gemspec", "gems.rb", "gems.locked", ".ruby-version",
	"pom.xml", "build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts",
	"gradle.properties", "gradle", "gradlew", "mvnw", ".mvn", "build.sbt", "project",
	"*.csproj", "*.fsproj", "*.vbproj", "*.sln", "packages.config", "nuget.config",
	"directory.build.props", "directory.packages.props", "global.json",
	"cargo.toml", "composer.json", "mix.exs", "rebar.config",
	"package.swift", "package.resolved", "pubspec.yaml", "deno.json", "deno.jsonc",
	"*.cabal", "cabal.project", "stack.yaml", "vcpkg.json", "conanfile.txt", "conanfile.py",
	"description", "podfile", "cpanfile", "cpanfile.snapshot",
}

// lockName matches lockfiles: yarn.lock, package-lock.json, bun.lockb, Gemfile.lock, ...
var lockName = regexp.MustCompile(`(?i)(^|[._-])lock(b|file)?([._-]|$)`)

// manifestSamples stand for what the patterns above match, to test a COPY
// source that is itself a pattern (package*.json).
var manifestSamples = []string{
	"package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb",
	"requirements.txt", "requirements-dev.txt", "constraints.txt", "pipfile.lock", "poetry.lock", "uv.lock",
	"environment.yml", "go.mod", "go.sum", "gemfile", "gemfile.lock", "app.gemspec", "pom.xml",
	"build.gradle", "app.csproj", "app.fsproj", "app.sln", "cargo.toml", "cargo.lock",
	"composer.json", "composer.lock", "mix.exs", "mix.lock", "app.cabal", "pyproject.toml",
}

// isManifestSource tells whether a COPY source names a dependency manifest, a
// lockfile or a folder of them, anywhere in its path, or is a pattern that
// could match one. The whole context (., *) is not one.
func isManifestSource(src string) bool {
	clean := path.Clean("/" + src)
	if clean == "/" || clean == "/*" {
		return false
	}
	for _, elem := range strings.Split(strings.TrimPrefix(clean, "/"), "/") {
		elem = strings.ToLower(elem)
		if strings.ContainsAny(elem, "*?[") {
			for _, s := range manifestSamples {
				if ok, _ := path.Match(elem, s); ok {
					return true
				}
			}
			continue
		}
		if lockName.MatchString(elem) {
			return true
		}
		for _, m := range manifestPatterns {
			if ok, _ := path.Match(m, elem); ok {
				return true
			}
		}
	}
	return false
}

// buildState is what the instructions before a point have set, as far as the
// Dockerfile tells: the working directory and the variables.
type buildState struct {
	workdir    string // absolute; "" when unknown (the base image's, or one made of unknown variables)
	env        buildEnv
	shellReads []string // what the SHELL reads when it starts (a login shell: /etc/profile, ~/.profile)
}

// buildVar is a variable set by ENV or ARG.
type buildVar struct {
	value string
	known bool // its value is all known (a reference to its own earlier value aside: the base image's PATH)
	fixed bool // known, and set by ENV alone: no --build-arg can change it
	env   bool // set by ENV, which an ARG of the same name does not override
}

type buildEnv map[string]buildVar

func (e buildEnv) Get(k string) (string, bool) {
	v, ok := e[k]
	return v.value, ok
}

func (e buildEnv) Keys() []string { return slices.Collect(maps.Keys(e)) }

// volatileStates returns, for each stage, the state before each of its
// instructions, and after the last at the end. A stage built FROM another
// starts with its WORKDIR and ENV.
func volatileStates(d *rewrite.Document, lex *shell.Lex) map[*rewrite.Stage][]buildState {
	out := map[*rewrite.Stage][]buildState{}
	for _, st := range d.Stages {
		cur := buildState{env: buildEnv{}}
		if parent := d.Parent(st); parent != nil {
			ps := out[parent]
			cur = ps[len(ps)-1]
			cur.env = maps.Clone(cur.env)
			maps.DeleteFunc(cur.env, func(_ string, v buildVar) bool { return !v.env }) // build args stay in their stage
		}
		states := make([]buildState, 0, len(st.Instructions)+1)
		for _, in := range st.Instructions {
			states = append(states, cur)
			cur = cur.after(in, lex)
		}
		out[st] = append(states, cur)
	}
	return out
}

// after returns the state once in has run.
func (s buildState) after(in *rewrite.Instruction, lex *shell.Lex) buildState {
	switch c := in.Command.(type) {
	case *instructions.EnvCommand:
		env := maps.Clone(s.env)
		for _, kv := range c.Env {
			v := s.expand(kv.Key, kv.Value, lex) // one ENV sees the values from before it
			v.env = true
			env[kv.Key] = v
		}
		s.env = env
	case *instructions.ArgCommand:
		env := maps.Clone(s.env)
		for _, a := range c.Args {
			if old, ok := env[a.Key]; ok && old.env {
				continue
			}
			v := buildVar{}
			if a.Value != nil {
				v = buildState{env: env}.expand(a.Key, *a.Value, lex)
				v.fixed = false
			}
			env[a.Key] = v
		}
		s.env = env
	case *instructions.ShellCommand:
		s.shellReads = startupFiles(c.Shell)
	case *instructions.WorkdirCommand:
		res, err := lex.ProcessWordWithMatches(c.Path, s.env)
		known := err == nil && len(res.Unmatched) == 0
		for name := range res.Matched {
			known = known && s.env[name].fixed
		}
		switch {
		case !known:
			s.workdir = ""
		case path.IsAbs(res.Result):
			s.workdir = path.Clean(res.Result)
		case s.workdir != "":
			s.workdir = path.Join(s.workdir, res.Result)
		}
	}
	return s
}

// startupFiles tells where a SHELL reads files when it starts: a login or
// interactive shell, and zsh always, read profiles under /etc and in the home
// folder. sh -c and bash -c read none (bash reads $BASH_ENV, a tool variable).
func startupFiles(shellArgs []string) []string {
	if len(shellArgs) == 0 {
		return nil
	}
	reads := path.Base(shellArgs[0]) == "zsh"
	for _, a := range shellArgs[1:] {
		if a == "--login" || a == "--interactive" || strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsAny(a, "li") {
			reads = true
		}
	}
	if reads {
		return []string{"/etc", "/root", "/home"}
	}
	return nil
}

// expand works out the value of variable name set to raw.
func (s buildState) expand(name, raw string, lex *shell.Lex) buildVar {
	res, err := lex.ProcessWordWithMatches(raw, s.env)
	if err != nil {
		return buildVar{}
	}
	v := buildVar{value: res.Result, known: true, fixed: true}
	for ref := range res.Unmatched {
		if ref != name {
			v.known, v.fixed = false, false
		}
	}
	for ref := range res.Matched {
		v.known = v.known && s.env[ref].known
		v.fixed = v.fixed && s.env[ref].fixed
	}
	return v
}

// pathsOverlap tells whether one path is the other or inside it.
func pathsOverlap(a, b string) bool {
	return a == b || a == "/" || b == "/" || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

// systemZone is where system package managers and their maintainer scripts
// may write (openSUSE's apache2 fills /srv/www); language package managers
// write there and in /home as well.
var systemZone = []string{
	"/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/opt",
	"/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var",
}

// runFootprint lists the places a RUN may read or write, as clean absolute
// paths ("/" for a place it cannot tell), when the RUN only installs named
// packages from the network and does housekeeping; ok is false otherwise.
func runFootprint(in *rewrite.Instruction, s buildState) (places []string, ok bool) {
	if in.Shell == nil {
		return nil, false // exec form, heredoc, a shell that is not POSIX, a program that does not parse
	}
	r := &footprint{cwd: s.workdir, places: slices.Clone(s.shellReads)}
	for _, flag := range in.Node.Flags {
		if val, isMount := strings.CutPrefix(flag, "--mount="); isMount {
			r.mount(val)
		}
	}
	for name, v := range s.env {
		if toolVariable(name) {
			r.variable(name, v.value, v.known)
		}
	}
	if len(in.Shell.File.Stmts) == 0 {
		return nil, false
	}
	for _, st := range in.Shell.File.Stmts {
		if !r.stmt(st) {
			return nil, false
		}
	}
	return r.places, true
}

// toolVariable tells whether an environment variable may point a package
// manager, the shell or the dynamic linker at files.
func toolVariable(name string) bool {
	switch name {
	case "PATH", "HOME", "TMPDIR", "SHELL", "ENV", "BASH_ENV", "VIRTUAL_ENV", "CONFIG_SITE",
		"SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "APT_CONFIG",
		"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONPYCACHEPREFIX",
		"NODE_PATH", "NODE_OPTIONS", "NODE_EXTRA_CA_CERTS", "RUBYLIB", "RUBYOPT",
		"PERL5LIB", "PERL5OPT", "PERLLIB", "CONDARC", "CONDA_PREFIX", "CONDA_PKGS_DIRS":
		return true
	}
	up := strings.ToUpper(name)
	for _, prefix := range []string{"LD_", "PIP_", "NPM_CONFIG_", "YARN_", "COREPACK_", "GEM_", "BUNDLE_",
		"XDG_", "DPKG_", "DEBCONF_", "UV_", "ZYPP_"} {
		if strings.HasPrefix(up, prefix) {
			return true
		}
	}
	return false
}

// footprint gathers the places a RUN's program touches.
type footprint struct {
	cwd    string // "" when unknown
	places []string
}

// add records a path the program names: resolved against the working
// directory, cut at its first wildcard; "/" when it cannot tell.
func (r *footprint) add(p string) {
	if i := strings.IndexAny(p, "*?[$"); i >= 0 {
		p = p[:i]
	}
	switch {
	case p == "" || strings.HasPrefix(p, "~"):
		p = "/"
	case !path.IsAbs(p) && r.cwd == "":
		p = "/"
	case !path.IsAbs(p):
		p = path.Join(r.cwd, p)
	}
	r.places = append(r.places, path.Clean(p))
}

// mount records where a RUN --mount puts its files (secrets and SSH agents
// go under /run by default).
func (r *footprint) mount(spec string) {
	typ, target, ok := parseMount(spec)
	if !ok {
		r.places = append(r.places, "/")
		return
	}
	if target == "" && (typ == "secret" || typ == "ssh") {
		target = "/run"
	}
	r.add(target)
}

// addGlob records the folder a shell wildcard lists.
func (r *footprint) addGlob(pattern string) {
	if i := strings.IndexAny(pattern, "*?["); i >= 0 {
		pattern = pattern[:i]
	}
	dir := "."
	if i := strings.LastIndexByte(pattern, '/'); i >= 0 {
		dir = pattern[:i+1]
	}
	r.add(dir)
}

// remoteURL matches URLs of files elsewhere; a file:// URL is a local path.
var remoteURL = regexp.MustCompile(`(?i)\b(https?|ftp|s3|gs|git|ssh|git\+https?|git\+ssh)://[^\s,;]*`)

// value records the paths in an option's value: pieces with a slash, or
// starting with a dot, that are not part of a URL.
func (r *footprint) value(v string) {
	v = strings.ReplaceAll(remoteURL.ReplaceAllString(v, ""), "file://", "")
	for _, piece := range strings.FieldsFunc(v, func(c rune) bool { return strings.ContainsRune("=:,; \t", c) }) {
		if strings.Contains(piece, "/") || strings.HasPrefix(piece, ".") || strings.HasPrefix(piece, "~") {
			r.add(piece)
		}
	}
}

// variable records the paths in a tool variable's value.
func (r *footprint) variable(name, value string, known bool) {
	if !known {
		r.places = append(r.places, "/")
		return
	}
	if name == "HOME" || name == "SHELL" || name == "TMPDIR" {
		r.add(value)
		return
	}
	r.value(value)
}

func (r *footprint) stmt(s *syntax.Stmt) bool {
	if s.Background || s.Coprocess || s.Disown {
		return false
	}
	for _, rd := range s.Redirs {
		if !r.redirect(rd) {
			return false
		}
	}
	switch c := s.Cmd.(type) {
	case *syntax.CallExpr:
		return r.call(c)
	case *syntax.BinaryCmd:
		return (c.Op == syntax.AndStmt || c.Op == syntax.OrStmt) && r.stmt(c.X) && r.stmt(c.Y)
	case *syntax.DeclClause:
		if c.Variant.Value != "export" {
			return false
		}
		return r.assigns(c.Args)
	}
	return false
}

func (r *footprint) redirect(rd *syntax.Redirect) bool {
	if rd.Word == nil {
		return false
	}
	w, ok := readArgWord(rd.Word)
	if !ok {
		return false
	}
	switch rd.Op {
	case syntax.RdrOut, syntax.AppOut, syntax.ClbOut, syntax.RdrAll, syntax.AppAll, syntax.RdrIn:
		r.add(w.text)
		return true
	case syntax.DplOut, syntax.DplIn:
		return w.literal && (w.text == "-" || strings.Trim(w.text, "0123456789") == "")
	}
	return false
}

// assigns records variables a program sets: those that steer tools count.
func (r *footprint) assigns(as []*syntax.Assign) bool {
	for _, a := range as {
		if a.Array != nil || a.Index != nil || a.Name == nil {
			return false
		}
		if a.Value == nil {
			continue
		}
		w, ok := readArgWord(a.Value)
		if !ok {
			return false
		}
		if toolVariable(a.Name.Value) {
			r.variable(a.Name.Value, w.text, w.literal)
		}
	}
	return true
}

func (r *footprint) call(c *syntax.CallExpr) bool {
	if !r.assigns(c.Assigns) {
		return false
	}
	if len(c.Args) == 0 {
		return true
	}
	ws := make([]argWord, len(c.Args))
	for i, a := range c.Args {
		w, ok := readArgWord(a)
		if !ok {
			return false
		}
		switch {
		case w.glob && w.literal:
			r.addGlob(w.text)
		case w.glob:
			r.places = append(r.places, "/") // a wildcard after a variable: any folder
		}
		ws[i] = w
	}
	name := ws[0]
	if !name.literal || name.glob {
		return false
	}
	cmd := name.text
	if strings.Contains(cmd, "/") {
		r.add(cmd)
		cmd = path.Base(cmd)
	}
	args := ws[1:]
	switch {
	case cmd == "apt-get" || cmd == "apt":
		return r.packages(args, aptManager)
	case cmd == "apk":
		return r.packages(args, apkManager)
	case cmd == "yum" || cmd == "dnf" || cmd == "microdnf" || cmd == "tdnf":
		return r.packages(args, rpmManager)
	case cmd == "zypper":
		return r.packages(args, zypperManager)
	case pipName.MatchString(cmd):
		return r.packages(args, pipManager)
	case pythonName.MatchString(cmd):
		if len(args) < 2 || args[0].text != "-m" || !pipName.MatchString(args[1].text) {
			return false
		}
		r.add(".") // python -m puts the working directory first on sys.path
		return r.packages(args[2:], pipManager)
	case cmd == "npm":
		r.add(".") // install scripts see the project they were run from (INIT_CWD)
		return r.packages(args, npmManager)
	case cmd == "gem":
		r.add(".") // gem install takes NAME*.gem from the working directory first
		return r.packages(args, gemManager)
	case cmd == "rm" || cmd == "mkdir" || cmd == "ln":
		return r.files(args)
	case cmd == "useradd" || cmd == "groupadd" || cmd == "adduser" || cmd == "addgroup":
		r.places = append(r.places, "/etc", "/home", "/var")
		for _, w := range args {
			r.value(w.text)
		}
		return true
	case cmd == "echo" || cmd == "printf" || cmd == "set" || cmd == "true" || cmd == ":":
		return true
	}
	return false
}

// files reads rm, mkdir and ln: every operand is a place they touch.
func (r *footprint) files(args []argWord) bool {
	n := 0
	for i := 0; i < len(args); i++ {
		w := args[i]
		if strings.HasPrefix(w.text, "-") {
			if w.text == "-m" || w.text == "--mode" || w.text == "-S" || w.text == "--suffix" {
				i++ // mkdir's mode, ln's backup suffix
			}
			continue
		}
		r.add(w.text)
		n++
	}
	return n > 0
}

// pkgTool describes how to read one package manager's command line.
type pkgTool struct {
	verbs    map[string]bool
	names    *regexp.Regexp // a package given by name (a version pinned by a variable is cut off first)
	urls     bool           // packages may be URLs
	archives []string       // file suffixes that name local packages
	// Flags whose value is the next word: a name, a path, or text that may
	// hold paths (a URL, a key=value option).
	nameFlags, pathFlags, textFlags map[string]bool
	refuse                          func(string) bool // flags that make it read local files (pip -r)
	global                          bool              // npm: only -g installs
	zone                            []string
}

var (
	langZone = append(slices.Clone(systemZone), "/home")

	aptManager = &pkgTool{
		verbs: wordSet("update", "install", "upgrade", "dist-upgrade", "full-upgrade",
			"clean", "autoclean", "autoremove", "remove", "purge"),
		names:     regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?(=[A-Za-z0-9.+~:-]*)?$`),
		archives:  []string{".deb"},
		nameFlags: wordSet("-t", "--target-release", "--default-release", "-a", "--host-architecture"),
		pathFlags: wordSet("-c", "--config-file"),
		textFlags: wordSet("-o", "--option"),
		zone:      systemZone,
	}
	apkManager = &pkgTool{
		verbs:     wordSet("add", "del", "update", "upgrade"),
		names:     regexp.MustCompile(`^([a-z0-9]+:)?\.?[A-Za-z0-9][A-Za-z0-9_.+-]*(@[A-Za-z0-9_-]+)?([<>=~]{1,2}[A-Za-z0-9._+~-]*)?$`),
		archives:  []string{".apk"},
		nameFlags: wordSet("-t", "--virtual", "--arch", "--cache-max-age", "--wait", "--timeout"),
		pathFlags: wordSet("-p", "--root", "--keys-dir", "--repositories-file", "--cache-dir"),
		textFlags: wordSet("-X", "--repository"),
		zone:      systemZone,
	}
	rpmManager = &pkgTool{
		verbs: wordSet("install", "update", "upgrade", "clean", "remove", "erase", "makecache",
			"reinstall", "groupinstall"),
		names:     regexp.MustCompile(`^@?[A-Za-z0-9_][A-Za-z0-9_.+ :-]*(\([A-Za-z0-9_:.-]+\))?([<>=]=?[A-Za-z0-9._+~:-]*)?$`),
		urls:      true,
		archives:  []string{".rpm"},
		nameFlags: wordSet("--releasever", "-x", "--exclude", "--enablerepo", "--disablerepo", "--repo", "--repoid"),
		pathFlags: wordSet("-c", "--config", "--installroot"),
		textFlags: wordSet("--setopt"),
		zone:      systemZone,
	}
	zypperManager = &pkgTool{
		verbs:     wordSet("install", "in", "refresh", "ref", "update", "up", "remove", "rm", "clean", "cc"),
		names:     rpmManager.names,
		archives:  []string{".rpm"},
		nameFlags: wordSet("-r", "--repo", "-t", "--type"),
		pathFlags: wordSet("--root", "-R", "--config", "-c"),
		zone:      systemZone,
	}
	pipManager = &pkgTool{
		verbs:    wordSet("install"),
		names:    regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._ -]*\])?( *(===|==|>=|<=|~=|!=|<|>) *[A-Za-z0-9.*+!_-]*)?( *, *(===|==|>=|<=|~=|!=|<|>) *[A-Za-z0-9.*+!_-]*)*$`),
		urls:     true,
		archives: []string{".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip", ".egg"},
		nameFlags: wordSet("--trusted-host", "--platform", "--python-version", "--implementation", "--abi",
			"--upgrade-strategy", "--progress-bar", "--timeout", "--retries", "--exists-action",
			"--root-user-action", "--only-binary", "--no-binary", "--use-feature", "--use-deprecated"),
		pathFlags: wordSet("-t", "--target", "--prefix", "--root", "--cache-dir", "--log", "--report",
			"--cert", "--client-cert", "--src", "-b", "--build", "--python"),
		textFlags: wordSet("-f", "--find-links", "-i", "--index-url", "--extra-index-url", "--proxy",
			"-C", "--config-settings", "--global-option", "--install-option"),
		refuse: func(flag string) bool {
			for _, f := range []string{"--requirement", "--constraint", "--editable"} {
				if strings.HasPrefix(flag, f) {
					return true
				}
			}
			// -r, -c and -e read local files, also in a cluster: -qr requirements.txt
			return !strings.HasPrefix(flag, "--") && strings.ContainsAny(flag, "rce")
		},
		zone: langZone,
	}
	npmManager = &pkgTool{
		verbs:     wordSet("install", "i", "add"),
		names:     regexp.MustCompile(`^(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*(@[A-Za-z0-9.^~<>=*| -]*)?$`),
		global:    true,
		nameFlags: wordSet("--location", "--loglevel", "--omit", "--include"),
		pathFlags: wordSet("--prefix", "--cache", "--userconfig", "--globalconfig"),
		textFlags: wordSet("--registry"),
		zone:      langZone,
	}
	gemManager = &pkgTool{
		verbs:     wordSet("install", "i"),
		names:     regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(:[0-9A-Za-z.,<>=~ -]+)?$`),
		archives:  []string{".gem"},
		nameFlags: wordSet("-v", "--version", "-P", "--trust-policy", "--platform", "--document"),
		pathFlags: wordSet("-i", "--install-dir", "-n", "--bindir", "--build-root", "--file"),
		textFlags: wordSet("--source", "-s"),
		zone:      langZone,
	}
)

// packages reads a package manager's command line: flags, a verb it knows,
// then packages named (or, where the manager takes them, URLs). Anything that
// makes it read local files (a path, an archive, a requirements file) fails.
func (r *footprint) packages(args []argWord, m *pkgTool) bool {
	verb, global := "", false
	for i := 0; i < len(args); i++ {
		w := args[i]
		if strings.HasPrefix(w.text, "-") {
			flag, val, inline := strings.Cut(w.text, "=")
			if m.refuse != nil && m.refuse(flag) {
				return false
			}
			takesValue := m.nameFlags[flag] || m.pathFlags[flag] || m.textFlags[flag]
			if takesValue && !inline {
				if i++; i >= len(args) {
					return false
				}
				w, val, inline = args[i], args[i].text, true
			}
			switch {
			case !inline || m.nameFlags[flag]: // a switch, or a value that is a name
			case !w.literal:
				r.places = append(r.places, "/") // a value dfopt cannot read
			case m.pathFlags[flag]:
				r.add(strings.TrimPrefix(val, "file://"))
			default:
				r.value(val)
			}
			global = global || flag == "-g" || flag == "--global" || flag == "--location" && val == "global"
			continue
		}
		if verb == "" {
			if !w.literal || !m.verbs[w.text] {
				return false
			}
			verb = w.text
			continue
		}
		if !m.packageName(w) {
			return false
		}
	}
	if verb == "" || m.global && !global {
		return false
	}
	r.places = append(r.places, m.zone...)
	return true
}

// packageName tells whether a word names a package (or a URL, where the
// manager takes those) and not a local file.
func (m *pkgTool) packageName(w argWord) bool {
	if w.glob {
		return false
	}
	if m.urls && w.literal && (strings.HasPrefix(w.text, "https://") || strings.HasPrefix(w.text, "http://") ||
		strings.HasPrefix(w.text, "git+https://") || strings.HasPrefix(w.text, "ftp://")) {
		return true
	}
	lower := strings.ToLower(w.text)
	for _, ext := range m.archives {
		if strings.HasSuffix(lower, ext) {
			return false
		}
	}
	if w.literal {
		return m.names.MatchString(w.text)
	}
	// A version pinned by a variable: curl=${CURL_VERSION}, flask==$V.
	i := strings.IndexAny(w.text, "=<>~@:")
	return i > 0 && m.names.MatchString(w.text[:i])
}

// argWord is a shell word as far as this rule reads it.
type argWord struct {
	text    string // the literal text (quotes removed), up to the first expansion
	literal bool   // no expansion: text is the whole word
	glob    bool   // an unquoted wildcard, which the shell expands against the file system
}

// readArgWord reads a word; ok is false when it runs commands (command or
// process substitution, arithmetic) or has quoting dfopt does not read.
func readArgWord(w *syntax.Word) (argWord, bool) {
	out := argWord{literal: true}
	var b strings.Builder
	lit := func(s string, quoted bool) {
		if !quoted && strings.ContainsAny(s, "*?[") {
			out.glob = true // also after an expansion: $DIR/*
		}
		if !out.literal {
			return
		}
		if strings.ContainsRune(s, '\\') {
			out.literal = false
			if i := strings.IndexByte(s, '\\'); i >= 0 {
				s = s[:i]
			}
		}
		b.WriteString(s)
	}
	ok := true
	for _, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			lit(p.Value, false)
		case *syntax.SglQuoted:
			if p.Dollar {
				out.literal = false
			}
			lit(p.Value, true)
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				switch q := q.(type) {
				case *syntax.Lit:
					lit(q.Value, true)
				case *syntax.ParamExp:
					out.literal = false
					ok = ok && plainParam(q)
				default:
					ok = false
				}
			}
		case *syntax.ParamExp:
			out.literal = false
			ok = ok && plainParam(p)
		default:
			ok = false
		}
	}
	out.text = b.String()
	return out, ok
}

// plainParam tells whether a parameter expansion only reads variables.
func plainParam(p *syntax.ParamExp) bool {
	plain := true
	syntax.Walk(p, func(n syntax.Node) bool {
		switch n.(type) {
		case *syntax.CmdSubst, *syntax.ProcSubst, *syntax.ArithmExp:
			plain = false
		}
		return plain
	})
	return plain && (p.Exp == nil || p.Exp.Op != syntax.AssignUnset && p.Exp.Op != syntax.AssignUnsetOrNull)
}
