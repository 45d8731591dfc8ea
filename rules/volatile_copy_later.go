package rules

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
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
	t := m.Touches(r)
	if t.Unfollowed != "" {
		return false
	}
	for _, fp := range t.Paths() {
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
	varUse       = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`) })
	numericOwner = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+(:[0-9]+)?$`) })
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
	c.byName = c.chown && !numericOwner().MatchString(chown)
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
	for _, m := range varUse().FindAllStringSubmatch(in.Line, -1) {
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
var lockName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)(^|[._-])lock(b|file)?([._-]|$)`) })

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
		if lockName().MatchString(elem) {
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
