package rules

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
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
requirements file), and goes no further than the last RUN it passes that is
worth a cache miss: one that installs or downloads. Past housekeeping alone
(mkdir, useradd) it stays where it is. A COPY of dependency
manifests and lockfiles (package.json, requirements.txt, go.mod, Gemfile, ...)
stays where it is: it comes early on purpose, for the install that reads it.

Paths are followed through the stage's symbolic links: those its RUNs make
with ln -s, the merged-/usr links (/bin is /usr/bin), and wherever a link
dfopt cannot see may lie (a RUN it cannot see through, a COPY of folders
whose build context it cannot read or that hold links, an ADD, a COPY
--from), in which case the COPY stays. A path through ".." is anywhere (its
folder may be a link), so are ~ paths and, for a login SHELL, the home folder
of a user other than root. An ADD counts only for folders of the build
context (a file may be an archive, which ADD unpacks).

dfopt does not see the base image's environment; it assumes the base image does
not point package managers into the COPY's destination, and holds no links
into it but the merged-/usr ones.

Bad:

    WORKDIR /app
    COPY . .
    RUN apt-get update && apt-get install -y curl
    EXPOSE 8000
    CMD ["python", "main.py"]

Good:

    WORKDIR /app
    RUN apt-get update && apt-get install -y curl
    COPY . .
    EXPOSE 8000
    CMD ["python", "main.py"]
`,
	Run: runVolatileCopyLater,
}

func runVolatileCopyLater(p *rewrite.Pass) {
	d := p.Doc
	m := runmodel.Of(d)
	for _, st := range d.Stages {
		if st.From.POSIX { // Windows stages have other paths and shells
			moveVolatileCopies(p, m, st)
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

func moveVolatileCopies(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage) {
	var blocks []*volatileBlock
	for i, in := range st.Instructions {
		c, ok := volatileCopyOf(p.Options.Context, m, in)
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
		b.walk(p.Options.Context, m, st)
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
func (b *volatileBlock) walk(ctx *rewrite.BuildContext, m *runmodel.Model, st *rewrite.Stage) {
	b.stop = len(st.Instructions)
	// The block goes only as far as the last RUN worth a cache miss (an
	// install, a download): moved past housekeeping alone (mkdir, useradd),
	// it would save a rebuild nothing and cost a reviewer a diff.
	runs, worth := 0, -1
	defer func() {
		if worth < 0 {
			b.runs = 0
			return
		}
		b.stop = worth + 1
	}()
	links := m.LinksBefore(ctx, st, b.first)
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
			wd := m.After(in).Workdir
			ok = wd != ""
			for _, cp := range b.copies {
				ok = ok && !cp.relative && !links.Touch(wd, cp.top)
			}
		case *instructions.UserCommand:
			ok = true
			for _, cp := range b.copies {
				ok = ok && !cp.chown
			}
		case *instructions.RunCommand:
			r := m.Run(in)
			ok = b.runPasses(m, r, links)
			if ok {
				runs++
				if r.Fetches() {
					worth, b.runs = k, runs
				}
				links.AddRun(m, r)
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
// block's copies write, through any path the stage's symbolic links give
// it (nor, for --chown by name, the user database).
func (b *volatileBlock) runPasses(m *runmodel.Model, r *runmodel.Run, links *runmodel.Links) bool {
	places, ok := runFootprint(m, r, m.State(r.In))
	if !ok {
		return false
	}
	for _, fp := range places {
		for _, c := range b.copies {
			if links.Touch(fp, c.top) || c.byName && links.Touch(fp, "/etc") {
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
// dependency manifests, with a destination dfopt can resolve. An ADD counts
// only for folders of the build context, which it copies as COPY does (a
// file could be an archive, which ADD unpacks, whatever its name).
func volatileCopyOf(ctx *rewrite.BuildContext, m *runmodel.Model, in *rewrite.Instruction) (*volatileCopy, bool) {
	s := m.State(in)
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
			if path.Clean(src) != "." && (ctx == nil || !isContextDir(ctx, path.Clean(src))) {
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
	dst, ok := s.Expand(m.Lex, dest) // not known, or an ARG: --build-arg may send the files anywhere
	if !ok || dst == "" {
		return nil, false
	}
	c := &volatileCopy{in: in, relative: !path.IsAbs(dst), chown: chown != ""}
	c.byName = c.chown && !numericOwner.MatchString(chown)
	if c.relative {
		if s.Workdir == "" {
			return nil, false
		}
		dst = path.Join(s.Workdir, dst)
	}
	if strings.Contains(dst, "..") {
		return nil, false // through a folder that may be a link
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

// pathsOverlap tells whether one path is the other or inside it.
func pathsOverlap(a, b string) bool {
	return a == b || a == "/" || b == "/" || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

// runFootprint lists the places a RUN may read or write, as clean absolute
// paths ("/" for a place it cannot tell), when the RUN only installs named
// packages from the network and does housekeeping; ok is false otherwise.
func runFootprint(m *runmodel.Model, r *runmodel.Run, s runmodel.State) (places []string, ok bool) {
	if !r.Editable || len(r.Cmds) == 0 {
		return nil, false // exec form, heredoc, a shell that is not POSIX, a program that does not parse
	}
	fp := &footprint{m: m, r: r, st: s}
	if s.Login() {
		// A login shell reads /etc/profile and the profile in the home folder.
		fp.places = append(fp.places, "/etc")
		if home, ok := s.Home(); ok {
			fp.add(home, "/")
		} else {
			fp.places = append(fp.places, "/")
		}
	}
	for _, mt := range r.Mounts {
		fp.mount(mt)
	}
	for name, v := range s.Env {
		if toolVariable(name) {
			fp.variable(name, v.Value, v.Known)
		}
	}
	for _, a := range r.Assigns {
		if toolVariable(a.Name) {
			v, known := a.Value.Value()
			fp.variable(a.Name, v, known)
		}
	}
	for _, c := range r.Cmds {
		if !fp.cmd(c) {
			return nil, false
		}
	}
	return fp.places, true
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
	m      *runmodel.Model
	r      *runmodel.Run
	st     runmodel.State
	places []string
}

// add records a path the program names, for a command running in cwd ("":
// not known): resolved against cwd, cut at its first wildcard; "/" when it
// cannot tell (a ~ path, a relative path in an unknown folder, a path
// through ".." whose folder may be a symbolic link).
func (fp *footprint) add(p, cwd string) {
	if i := strings.IndexAny(p, "*?[$"); i >= 0 {
		p = p[:i]
	}
	switch {
	case p == "" || strings.HasPrefix(p, "~"):
		p = "/"
	case !path.IsAbs(p) && cwd == "":
		p = "/"
	case !path.IsAbs(p):
		p = cwd + "/" + p
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			p = "/"
			break
		}
	}
	if p == "/proc" || strings.HasPrefix(p, "/proc/") {
		p = "/" // /proc/self/cwd and /proc/1/root lead anywhere
	}
	fp.places = append(fp.places, path.Clean(p))
}

// mount records where a RUN --mount puts its files (secrets and SSH agents
// go under /run by default).
func (fp *footprint) mount(mt runmodel.Mount) {
	if !mt.Valid {
		fp.places = append(fp.places, "/")
		return
	}
	target := mt.Target
	if target == "" && (mt.Type == "secret" || mt.Type == "ssh") {
		target = "/run"
	}
	fp.add(target, fp.st.Workdir)
}

// addGlob records the folder a shell wildcard lists.
func (fp *footprint) addGlob(pattern, cwd string) {
	if i := strings.IndexAny(pattern, "*?["); i >= 0 {
		pattern = pattern[:i]
	}
	dir := "."
	if i := strings.LastIndexByte(pattern, '/'); i >= 0 {
		dir = pattern[:i+1]
	}
	fp.add(dir, cwd)
}

// remoteURL matches URLs of files elsewhere; a file:// URL is a local path.
var remoteURL = regexp.MustCompile(`(?i)\b(https?|ftp|s3|gs|git|ssh|git\+https?|git\+ssh)://[^\s,;]*`)

// value records the paths in an option's value: pieces with a slash, or
// starting with a dot, that are not part of a URL.
func (fp *footprint) value(v, cwd string) {
	v = strings.ReplaceAll(remoteURL.ReplaceAllString(v, ""), "file://", "")
	for _, piece := range strings.FieldsFunc(v, func(c rune) bool { return strings.ContainsRune("=:,; \t", c) }) {
		if strings.Contains(piece, "/") || strings.HasPrefix(piece, ".") || strings.HasPrefix(piece, "~") {
			fp.add(piece, cwd)
		}
	}
}

// variable records the paths in a tool variable's value.
func (fp *footprint) variable(name, value string, known bool) {
	if !known {
		fp.places = append(fp.places, "/")
		return
	}
	if name == "HOME" || name == "SHELL" || name == "TMPDIR" {
		fp.add(value, fp.st.Workdir)
		return
	}
	fp.value(value, fp.st.Workdir)
}

// cmd records what one command touches; false when the model cannot see it
// through, or it does more than install named packages and keep house.
func (fp *footprint) cmd(c *runmodel.Cmd) bool {
	if c.Opaque || c.Background || c.MoreArgs {
		return false
	}
	cwd := fp.m.Cwd(fp.st, c)
	for name, w := range c.Assigns {
		if toolVariable(name) {
			v, known := w.Value()
			fp.variable(name, v, known)
		}
	}
	for _, rd := range c.Redirs {
		v, ok := rd.Target.Value()
		switch {
		case rd.Write || rd.Read:
			if !rd.Target.Lit {
				return false
			}
			fp.add(rd.Target.Text, cwd)
		case ok && (v == "-" || strings.Trim(v, "0123456789") == ""):
		default:
			return false
		}
	}
	for _, w := range c.Args {
		if !w.Lit && w.Node != nil && !plainWord(w) {
			return false // a command or arithmetic substitution
		}
		switch {
		case w.Glob && w.Lit:
			fp.addGlob(w.Text, cwd)
		case w.Glob:
			fp.places = append(fp.places, "/") // a wildcard after a variable: any folder
		}
	}
	if c.User != "" && c.User != "root" && c.User != "0" {
		fp.places = append(fp.places, "/") // another user's home and environment
	}
	if strings.Contains(c.Prog.Text, "/") {
		fp.add(c.Prog.Text, cwd)
	}
	switch {
	case runmodel.ManagerOf(c) != nil && runmodel.ManagerOf(c).Zone != nil:
		m := runmodel.ManagerOf(c)
		if c.Name == "npm" || c.Name == "gem" {
			fp.add(".", cwd) // npm's install scripts see the project they were run from; gem takes NAME*.gem from the working directory first
		}
		if m.Name == "pip" && len(c.Via) > 0 && strings.HasSuffix(c.Via[len(c.Via)-1], " -m") {
			fp.add(".", cwd) // python -m puts the working directory first on sys.path
		}
		return fp.packages(c, m, cwd)
	case c.Is("rm", "mkdir", "ln"):
		return fp.files(c, cwd)
	case c.Is("cd"):
		if len(c.Args) == 0 {
			fp.places = append(fp.places, "/") // the home folder
			return true
		}
		return fp.files(c, cwd)
	case c.Is("useradd", "groupadd", "adduser", "addgroup"):
		fp.places = append(fp.places, "/etc", "/home", "/var")
		for _, w := range c.Args {
			fp.value(w.Text, cwd)
		}
		return true
	case c.Is("echo", "printf", "set", "true", ":", "export"):
		return true
	}
	return false
}

// plainWord tells whether a word that is not literal only reads variables:
// no command substitution, no arithmetic.
func plainWord(w runmodel.Word) bool {
	plain := true
	syntax.Walk(w.Node, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.CmdSubst, *syntax.ProcSubst, *syntax.ArithmExp:
			plain = false
		case *syntax.ParamExp:
			if n.Exp != nil && (n.Exp.Op == syntax.AssignUnset || n.Exp.Op == syntax.AssignUnsetOrNull) {
				plain = false
			}
		}
		return plain
	})
	return plain
}

// files reads rm, mkdir, ln and cd: every operand is a place they touch.
func (fp *footprint) files(c *runmodel.Cmd, cwd string) bool {
	n := 0
	for i := 0; i < len(c.Args); i++ {
		w := c.Args[i]
		if strings.HasPrefix(w.Text, "-") {
			if w.Text == "-m" || w.Text == "--mode" || w.Text == "-S" || w.Text == "--suffix" {
				i++ // mkdir's mode, ln's backup suffix
			}
			continue
		}
		fp.add(w.Text, cwd)
		n++
	}
	return n > 0
}

// packages reads a package manager's command line with the table: flags, a
// verb it knows, then packages named (or, where the manager takes them,
// URLs). Anything that makes it read local files (a path, an archive, a
// requirements file) fails.
func (fp *footprint) packages(c *runmodel.Cmd, m *runmodel.Manager, cwd string) bool {
	verb, global := "", false
	args := c.Args
	for i := 0; i < len(args); i++ {
		w := args[i]
		if strings.HasPrefix(w.Text, "-") {
			flag, val, inline := strings.Cut(w.Text, "=")
			if m.ReadsFiles(flag) {
				return false
			}
			takesValue := slices.Contains(m.ValueFlags, flag)
			if takesValue && !inline {
				if i++; i >= len(args) {
					return false
				}
				w, val, inline = args[i], args[i].Text, true
			}
			kind := m.ValueKind(flag)
			switch {
			case !inline || takesValue && kind == "name": // a switch, or a value that is a name
			case !w.Lit:
				fp.places = append(fp.places, "/") // a value dfopt cannot read
			case kind == "path":
				fp.add(strings.TrimPrefix(val, "file://"), cwd)
			default:
				fp.value(val, cwd)
			}
			global = global || flag == "-g" || flag == "--global" || flag == "--location" && val == "global"
			continue
		}
		if verb == "" {
			if !w.Lit || !slices.Contains(m.InstallVerbs(), w.Text) {
				return false
			}
			verb = w.Text
			continue
		}
		if !packageName(m, w) {
			return false
		}
	}
	if verb == "" || m.GlobalOnly && !global {
		return false
	}
	fp.places = append(fp.places, m.Zone...)
	return true
}

// packageName tells whether a word names a package (or a URL, where the
// manager takes those) and not a local file.
func packageName(m *runmodel.Manager, w runmodel.Word) bool {
	if w.Glob || m.PackageName == nil {
		return false
	}
	if m.URLs && w.Lit && (strings.HasPrefix(w.Text, "https://") || strings.HasPrefix(w.Text, "http://") ||
		strings.HasPrefix(w.Text, "git+https://") || strings.HasPrefix(w.Text, "ftp://")) {
		return true
	}
	lower := strings.ToLower(w.Text)
	for _, ext := range m.Archives {
		if strings.HasSuffix(lower, ext) {
			return false
		}
	}
	if w.Lit {
		return m.PackageName.MatchString(w.Text)
	}
	// A version pinned by a variable: curl=${CURL_VERSION}, flask==$V.
	i := strings.IndexAny(w.Text, "=<>~@:")
	return i > 0 && m.PackageName.MatchString(w.Text[:i])
}
