package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/patternmatcher"
)

// Dockerignore reports what a COPY of the whole build context sends that no
// image needs, and secret-looking files that any COPY puts in the image.
var Dockerignore = &rewrite.Rule{
	Name:  "dockerignore",
	Title: "A .dockerignore that keeps .git, dependencies, build outputs, logs and secrets out of COPY .",
	Kind:  rewrite.Safe,
	Doc: `COPY . sends the whole build context: without a .dockerignore that keeps
them out, .git, node_modules, virtualenvs, build outputs, logs, editor files and
secrets (.env files, private keys, .npmrc tokens, .aws and .ssh folders) slow
every build, change its cache key whenever they change, and land in the image.
With a build context (--context, or the Dockerfile's folder) dfopt reports them
when a stage that ships takes the whole context, and a context with no
.dockerignore at all is reported even when nothing unwanted is there yet. Even
without --dockerignore,
it reports the secret-looking files that any COPY or ADD of such a stage puts
in the image, as "security:" findings.

With --dockerignore it appends entries for them to the ignore file in force
(the Dockerfile's own <Dockerfile>.dockerignore, or the context's .dockerignore,
which it creates when there is none), under a comment line. It never removes an
entry, and leaves out an entry that would keep back a path a COPY or ADD names
(in this Dockerfile or a sibling one in the context), or something the build may
read: node_modules unless a RUN installs packages, .git when a RUN runs git or
the project takes its version from git, build outputs unless a RUN builds them
again, .npmrc when a RUN runs npm, a file the Dockerfile names.

Bad (no .dockerignore; the context holds .git, node_modules and .env):

    FROM node:22-slim
    WORKDIR /app
    COPY . .
    RUN npm ci
    CMD ["node", "server.js"]

Good (.dockerignore):

    .git
    node_modules
    .env
`,
	Run: runDockerignore,
}

func runDockerignore(p *rewrite.Pass) {
	ctx := p.Options.Context
	if ctx == nil {
		return
	}
	copies := contextCopies(p.Doc, p.Doc.Shipping())
	if len(copies) == 0 {
		return
	}
	var scan *contextScan
	for _, c := range copies {
		if c.whole != "" && scan == nil {
			scan = scanContext(ctx)
			reportSent(p, ctx, c, scan)
		}
	}
	for _, c := range copies {
		reportSecrets(p, ctx, c, scan)
	}
}

// reportSecrets reports the secret-looking files a COPY or ADD puts in the
// image. A whole-context copy reads them from the scan of the context.
func reportSecrets(p *rewrite.Pass, ctx *rewrite.BuildContext, c *contextCopy, scan *contextScan) {
	var found []string
	add := func(rel string, dir bool, k *junkKind) {
		if k != nil && k.secret && !slices.Contains(found, display(rel, dir)) {
			found = append(found, display(rel, dir))
		}
	}
	if c.whole != "" {
		for _, it := range scan.items {
			if !c.excluded(it.rel) {
				add(it.rel, it.dir, it.kind)
			}
		}
	} else {
		c.walk(ctx, func(f rewrite.ContextFile) bool {
			k := classify(ctx, f.Path, f.Dir)
			add(f.Path, f.Dir, k)
			return k != nil
		})
	}
	if len(found) == 0 {
		return
	}
	p.Report(rewrite.Finding{
		Line: c.in.StartLine, Security: true,
		Message: fmt.Sprintf("%s puts secret-looking files in the image, where anyone who can pull it can read them: %s; keep them out of the build context and pass secrets at run time or with RUN --mount=type=secret",
			c.keyword(), listSome(found, 5)),
	})
}

// reportSent reports what the whole-context copy c sends that the ignore file
// should keep out, and with --dockerignore attaches the entries that do so.
func reportSent(p *rewrite.Pass, ctx *rewrite.BuildContext, c *contextCopy, scan *contextScan) {
	ignoreName := ".dockerignore"
	if ctx.IgnoreFile != "" {
		ignoreName = filepath.Base(ctx.IgnoreFile)
	}
	if len(scan.items) == 0 {
		if ctx.IgnoreFile == "" {
			// Nothing unwanted is there today; the next .env or node_modules
			// would go straight in.
			p.Report(rewrite.Finding{Line: c.in.StartLine, Message: fmt.Sprintf(
				"%s %s sends the whole build context and there is no .dockerignore: add one, so that what appears later (.git, node_modules, .env, logs, keys) stays out of the build and the image",
				c.keyword(), c.whole)})
		}
		return
	}
	users := ignoreFileUsers(p, ctx)
	entries, left := chooseEntries(scan, users)
	lead := fmt.Sprintf("%s %s sends the whole build context", c.keyword(), c.whole)

	var msg string
	var names []string
	for _, it := range scan.items {
		names = append(names, display(it.rel, it.dir))
	}
	switch {
	case ctx.IgnoreFile == "":
		msg = fmt.Sprintf("%s, and there is no .dockerignore to keep out %s: they slow every build, break its cache and end up in the image", lead, listSome(names, 8))
	default:
		msg = fmt.Sprintf("%s, and %s does not keep out %s: they slow every build, break its cache and end up in the image", lead, ignoreName, listSome(names, 8))
	}
	switch {
	case len(entries) == 0:
		msg += " (dfopt --dockerignore adds none: the build may need them)"
	case len(left) == 0:
		msg += " (dfopt --dockerignore adds them)"
	default:
		msg += fmt.Sprintf(" (dfopt --dockerignore adds all but %s, which the build may need)", listSome(left, 8))
	}
	f := rewrite.Finding{Line: c.in.StartLine, Message: msg}
	if p.Options.WriteDockerignore && len(entries) > 0 {
		if change, err := ctx.ExtendIgnoreFile("added by dfopt --dockerignore", entries); err == nil {
			f.Files = []rewrite.FileChange{change}
		}
	}
	p.Report(f)
}

// chooseEntries picks the ignore-file entries for the scanned items: one
// pattern for all the items of a kind (**/node_modules) where that pattern
// keeps back nothing else, else one entry per item. Items the build may need
// get none; left names them.
func chooseEntries(scan *contextScan, users dockerfileUses) (entries, left []string) {
	var groups []string
	byPattern := map[string][]contextItem{}
	for _, it := range scan.items {
		if _, ok := byPattern[it.pattern]; !ok {
			groups = append(groups, it.pattern)
		}
		byPattern[it.pattern] = append(byPattern[it.pattern], it)
	}
	// Entries of a kind stand together, in the order of junkKinds.
	slices.SortStableFunc(groups, func(a, b string) int {
		return slices.Index(junkKinds, byPattern[a][0].kind) - slices.Index(junkKinds, byPattern[b][0].kind)
	})
	for _, g := range groups {
		items := byPattern[g]
		var ok []contextItem
		for _, it := range items {
			if it.kind.safeFor(users, it.rel) && !users.mentionBlocks(it) {
				ok = append(ok, it)
			} else {
				left = append(left, display(it.rel, it.dir))
			}
		}
		if len(ok) == 0 {
			continue
		}
		pattern := g
		if allAtRoot(items) {
			pattern = strings.TrimPrefix(g, "**/")
		}
		if len(ok) == len(items) && scan.onlyItems(pattern, items) && !scan.ignoresNamed(pattern, users) {
			entries = append(entries, pattern)
			continue
		}
		for _, it := range ok {
			if exact, fine := exactEntry(it.rel); fine && !scan.ignoresNamed(exact, users) {
				entries = append(entries, exact)
			} else {
				left = append(left, display(it.rel, it.dir))
			}
		}
	}
	slices.Sort(left)
	return entries, left
}

func allAtRoot(items []contextItem) bool {
	for _, it := range items {
		if strings.Contains(it.rel, "/") {
			return false
		}
	}
	return true
}

// exactEntry is the ignore-file entry for one path, when the path can be
// written as one without its characters reading as a pattern or a comment.
func exactEntry(rel string) (string, bool) {
	if strings.ContainsAny(rel, `*?[]\`) || strings.HasPrefix(rel, "#") || strings.HasPrefix(rel, "!") || strings.TrimSpace(rel) != rel {
		return "", false
	}
	return rel, true
}

func display(rel string, dir bool) string {
	if dir {
		return rel + "/"
	}
	return rel
}

// listSome joins up to n names, saying how many more there are.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s (+%d more)", strings.Join(names[:n], ", "), len(names)-n)
}

// A junkKind is a kind of path that a build context should not send.
type junkKind struct {
	secret bool
	// match tells whether a path of the context is of this kind, and the
	// pattern that keeps back every path of the kind (with a leading **/).
	match func(ctx *rewrite.BuildContext, rel, name string, dir bool) (pattern string, ok bool)
	// needs tells whether a Dockerfile that takes the whole context may
	// read the path: then no entry keeps it back.
	needs func(u *dockerfileUse, rel string) bool
	// named says that a Dockerfile naming the path's base name anywhere may
	// use it: a log file it tails, an .env file it copies.
	named bool
}

// safeFor tells whether every Dockerfile sharing the ignore file can do
// without the path rel of this kind.
func (k *junkKind) safeFor(users dockerfileUses, rel string) bool {
	return k.needs == nil || !users.any("needs\x00"+rel, func(u *dockerfileUse) bool { return u.whole && k.needs(u, rel) })
}

func fileNamed(names ...string) func(*rewrite.BuildContext, string, string, bool) (string, bool) {
	return func(_ *rewrite.BuildContext, _, name string, dir bool) (string, bool) {
		return "**/" + name, !dir && slices.Contains(names, name)
	}
}

func dirNamed(names ...string) func(*rewrite.BuildContext, string, string, bool) (string, bool) {
	return func(_ *rewrite.BuildContext, _, name string, dir bool) (string, bool) {
		return "**/" + name, dir && slices.Contains(names, name)
	}
}

func fileExt(exts ...string) func(*rewrite.BuildContext, string, string, bool) (string, bool) {
	return func(_ *rewrite.BuildContext, _, name string, dir bool) (string, bool) {
		ext := path.Ext(name)
		return "**/*" + ext, !dir && ext != name && slices.Contains(exts, strings.ToLower(ext))
	}
}

// junkKinds are checked in order; the first that matches a path wins.
var junkKinds = []*junkKind{
	{match: dirNamed(".git", ".hg", ".svn"), named: true,
		needs: func(u *dockerfileUse, _ string) bool { return u.runs("git", "hg", "svn") || u.versionFromVCS }},
	{match: dirNamed("node_modules", "bower_components"), needs: func(u *dockerfileUse, _ string) bool { return !u.installsJS }},
	{match: virtualenv, needs: func(u *dockerfileUse, _ string) bool { return !u.installsPython }},
	{match: dirNamed("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".nox")},
	{match: fileExt(".pyc", ".pyo")},
	{match: buildOutput, needs: func(u *dockerfileUse, rel string) bool { return !u.builds(buildSystemOf(u.ctx, rel)) }},
	{match: dirNamed(".idea", ".vscode"), named: true},
	{match: fileNamed(".DS_Store", "Thumbs.db")},
	{match: coverageReport, named: true},
	{match: fileExt(".log"), named: true},

	// Secrets.
	{secret: true, match: envFile, named: true},
	{secret: true, match: privateKey, named: true},
	{secret: true, match: fileNamed("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"), named: true},
	{secret: true, match: fileExt(".p12", ".pfx", ".jks", ".keystore"), named: true},
	{secret: true, match: tokenFile(".npmrc", "_authToken", "_auth", "_password"), named: true,
		needs: func(u *dockerfileUse, _ string) bool { return u.runs("npm", "npx", "yarn", "pnpm", "bun") }},
	{secret: true, match: tokenFile(".pypirc", "password"), named: true,
		needs: func(u *dockerfileUse, _ string) bool { return u.runs("twine", "poetry", "flit", "hatch") }},
	{secret: true, match: fileNamed(".netrc", ".git-credentials"), named: true,
		needs: func(u *dockerfileUse, _ string) bool { return u.runs("git", "curl", "wget", "pip", "pip3", "ftp") }},
	{secret: true, match: fileNamed("credentials", "credentials.json"), named: true},
	{secret: true, match: dirNamed(".aws"), named: true, needs: func(u *dockerfileUse, _ string) bool { return u.runs("aws") }},
	{secret: true, match: dirNamed(".ssh", ".gnupg"), named: true,
		needs: func(u *dockerfileUse, _ string) bool { return u.runs("ssh", "scp", "git", "rsync", "gpg") }},
}

func classify(ctx *rewrite.BuildContext, rel string, dir bool) *junkKind {
	k, _ := classifyPattern(ctx, rel, dir)
	return k
}

func classifyPattern(ctx *rewrite.BuildContext, rel string, dir bool) (*junkKind, string) {
	name := path.Base(rel)
	for _, k := range junkKinds {
		if pattern, ok := k.match(ctx, rel, name, dir); ok {
			return k, pattern
		}
	}
	return nil, ""
}

// virtualenv is a folder holding a Python virtual environment.
func virtualenv(ctx *rewrite.BuildContext, rel, name string, dir bool) (string, bool) {
	return rel, dir && strings.Count(rel, "/") < 2 && exists(ctx, rel+"/pyvenv.cfg")
}

// coverageReport is what coverage tools leave behind: Python's .coverage and
// htmlcov, istanbul's coverage folder.
func coverageReport(ctx *rewrite.BuildContext, rel, name string, dir bool) (string, bool) {
	switch {
	case !dir && name == ".coverage":
		return "**/.coverage", true
	case dir && name == "htmlcov":
		return "**/htmlcov", true
	case dir && name == "coverage":
		for _, f := range []string{"lcov.info", "coverage-final.json", "clover.xml", "lcov-report"} {
			if exists(ctx, rel+"/"+f) {
				return "**/coverage", true
			}
		}
	}
	return "", false
}

// envFile is .env or .env.something, but not a template such as .env.example.
func envFile(_ *rewrite.BuildContext, rel, name string, dir bool) (string, bool) {
	if dir {
		return "", false
	}
	if name == ".env" {
		return "**/.env", true
	}
	suffix, ok := strings.CutPrefix(name, ".env.")
	if !ok {
		return "", false
	}
	for _, t := range []string{"example", "sample", "template", "dist", "defaults", "schema"} {
		if strings.Contains(strings.ToLower(suffix), t) {
			return "", false
		}
	}
	return "**/.env.*", true
}

// privateKey is a .pem or .key file holding a PEM private key; certificates
// and public keys are not secrets.
func privateKey(ctx *rewrite.BuildContext, rel, name string, dir bool) (string, bool) {
	ext := path.Ext(name)
	if dir || !strings.EqualFold(ext, ".pem") && !strings.EqualFold(ext, ".key") {
		return "", false
	}
	return "**/*" + ext, bytes.Contains(head(ctx, rel, 64<<10), []byte("PRIVATE KEY-----"))
}

// tokenFile is a configuration file of that name holding one of the keys.
func tokenFile(file string, keys ...string) func(*rewrite.BuildContext, string, string, bool) (string, bool) {
	return func(ctx *rewrite.BuildContext, rel, name string, dir bool) (string, bool) {
		if dir || name != file {
			return "", false
		}
		text := head(ctx, rel, 64<<10)
		for _, k := range keys {
			if bytes.Contains(text, []byte(k)) {
				return "**/" + file, true
			}
		}
		return "", false
	}
}

// buildOutput is a folder at the top of the context that a build system
// writes, recognised by the build's own files: Cargo's and Maven's target,
// .NET's bin and obj, Gradle's build, a JavaScript bundler's dist or build.
// Only Dockerfiles that run that build again can do without it.
func buildOutput(ctx *rewrite.BuildContext, rel, name string, dir bool) (string, bool) {
	if !dir || strings.Contains(rel, "/") {
		return "", false
	}
	return name, buildSystemOf(ctx, name) != ""
}

// buildSystemOf names the build tool whose output the folder is, or "".
func buildSystemOf(ctx *rewrite.BuildContext, dir string) string {
	switch dir {
	case "target":
		if exists(ctx, "Cargo.toml") && exists(ctx, "target/CACHEDIR.TAG") {
			return "cargo"
		}
		if exists(ctx, "pom.xml") && (exists(ctx, "target/classes") || exists(ctx, "target/maven-status")) {
			return "mvn"
		}
	case "bin", "obj":
		if exists(ctx, "obj/project.assets.json") && hasFileWithExt(ctx, ".", ".csproj", ".fsproj", ".vbproj", ".sln") {
			return "dotnet"
		}
	case "build", "dist":
		if dir == "build" && (exists(ctx, "build.gradle") || exists(ctx, "build.gradle.kts")) &&
			(exists(ctx, "build/classes") || exists(ctx, "build/libs") || exists(ctx, "build/tmp")) {
			return "gradle"
		}
		if jsBuildOutput(ctx, dir) {
			return "js"
		}
	}
	return ""
}

// jsBuildOutput tells whether dir is what package.json's build script makes:
// there is such a script, it does not read the folder, and the folder holds
// a bundle (an index.html or source maps).
func jsBuildOutput(ctx *rewrite.BuildContext, dir string) bool {
	var pkg struct {
		Scripts map[string]string `json:"scripts"`
	}
	if json.Unmarshal(head(ctx, "package.json", 1<<20), &pkg) != nil || pkg.Scripts["build"] == "" {
		return false
	}
	for _, s := range pkg.Scripts {
		if strings.Contains(s, dir+"/") {
			return false
		}
	}
	return exists(ctx, dir+"/index.html") || hasFileWithExt(ctx, dir, ".map")
}

// The build tools whose outputs buildOutput recognises, by the commands that
// run them.
var buildCommands = map[string][]string{
	"cargo":  {"cargo"},
	"mvn":    {"mvn", "mvnw"},
	"dotnet": {"dotnet"},
	"gradle": {"gradle", "gradlew"},
}

func exists(ctx *rewrite.BuildContext, rel string) bool {
	_, ok := ctx.Stat(rel)
	return ok
}

func hasFileWithExt(ctx *rewrite.BuildContext, dir string, exts ...string) bool {
	for _, f := range ctx.ReadDir(dir) {
		if !f.Dir && slices.Contains(exts, strings.ToLower(path.Ext(f.Path))) {
			return true
		}
	}
	return false
}

// contextScan is what a whole-context copy sends, as far as the ignore file
// is concerned. The Dockerfiles that share a context share its scan.
type contextScan struct {
	items []contextItem // paths of a junk kind, in lexical order
	sent  []string      // every path sent, but the contents of the items' folders

	mu     sync.Mutex
	only   map[string]bool // onlyItems' answers
	sorted []string        // sent in string order, made on first use by below
}

// below returns the paths sent below folder dir (not dir itself), in
// string order. It searches a sorted copy of sent, so that a Dockerfile
// asking of the paths it names does not read every path of the context.
func (s *contextScan) below(dir string) []string {
	s.mu.Lock()
	if s.sorted == nil {
		s.sorted = slices.Sorted(slices.Values(s.sent))
	}
	sorted := s.sorted
	s.mu.Unlock()
	prefix := dir + "/"
	i, _ := slices.BinarySearch(sorted, prefix)
	j := i
	for j < len(sorted) && strings.HasPrefix(sorted[j], prefix) {
		j++
	}
	return sorted[i:j]
}

type contextItem struct {
	rel     string
	dir     bool
	kind    *junkKind
	pattern string // the entry for every path of its kind, with a leading **/
}

// scanKey names the scan of a context among its Shared facts.
type scanKey struct{}

// scanContext walks the paths the build sends, classifying them; it does not
// enter the folders it flags. The Dockerfiles that share the context share
// the scan.
func scanContext(ctx *rewrite.BuildContext) *contextScan {
	return rewrite.SharedKeep(ctx, scanKey{}, func() *contextScan { return scanWalk(ctx) }, func(s *contextScan, rel string) bool {
		return s.rewritten(ctx, rel)
	})
}

// rewritten tells whether the scan still holds after rel was rewritten in
// place. The paths sent are the same; only rel's own kind may change, as
// a kind reads no file's content but the path's own (a key, an .npmrc).
func (s *contextScan) rewritten(ctx *rewrite.BuildContext, rel string) bool {
	if ctx.Ignored(rel) {
		return true // sent neither before nor after
	}
	var was *contextItem
	for i, it := range s.items {
		if it.dir && strings.HasPrefix(rel, it.rel+"/") {
			return true // inside a flagged folder, which the scan does not enter
		}
		if it.rel == rel {
			was = &s.items[i]
		}
	}
	k, pattern := classifyPattern(ctx, rel, false)
	if was == nil {
		return k == nil
	}
	return !was.dir && k == was.kind && pattern == was.pattern
}

func scanWalk(ctx *rewrite.BuildContext) *contextScan {
	s := &contextScan{}
	ctx.Walk(".", func(f rewrite.ContextFile) bool {
		if f.Path == "." {
			return false
		}
		s.sent = append(s.sent, f.Path)
		k, pattern := classifyPattern(ctx, f.Path, f.Dir)
		if k == nil {
			return false
		}
		s.items = append(s.items, contextItem{rel: f.Path, dir: f.Dir, kind: k, pattern: pattern})
		return f.Dir
	})
	return s
}

// onlyItems tells whether a kind's pattern ("**/name", "*.ext", "name")
// keeps back nothing the build sends but the items given. A path below a
// folder the pattern matches need not be checked: the folder is sent too,
// and is either an item or already a reason to say no.
func (s *contextScan) onlyItems(pattern string, items []contextItem) bool {
	key := pattern
	for _, it := range items {
		key += "\x00" + it.rel
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ok, known := s.only[key]
	if !known {
		ok = s.keepsOnly(pattern, items)
		if s.only == nil {
			s.only = map[string]bool{}
		}
		s.only[key] = ok
	}
	return ok
}

func (s *contextScan) keepsOnly(pattern string, items []contextItem) bool {
	isItem := map[string]bool{}
	for _, it := range items {
		isItem[it.rel] = true
	}
	anyDepth := strings.HasPrefix(pattern, "**/")
	glob := strings.TrimPrefix(pattern, "**/")
	for _, rel := range s.sent {
		name := rel
		if anyDepth {
			name = path.Base(rel)
		}
		if ok, err := path.Match(glob, name); (ok || err != nil) && !isItem[rel] {
			return false
		}
	}
	return true
}

// ignoresNamed tells whether an entry would keep back a path that a COPY or
// ADD of the Dockerfiles names: the path itself, a folder above it, or
// something sent below it.
func (s *contextScan) ignoresNamed(pattern string, users dockerfileUses) bool {
	pm, err := patternmatcher.New([]string{pattern})
	if err != nil {
		return true
	}
	// The scan's place in the key: a rewrite that makes the scan again
	// leaves the siblings' answers on the old one behind.
	return users.any(fmt.Sprintf("named\x00%p\x00%s", s, pattern), func(u *dockerfileUse) bool {
		for _, n := range u.namedPaths(s) {
			if ok, _ := pm.MatchesOrParentMatches(n); ok {
				return true
			}
			for _, rel := range s.below(n) {
				if ok, _ := pm.MatchesOrParentMatches(rel); ok {
					return true
				}
			}
		}
		return false
	})
}

// dockerfileUse is what a Dockerfile takes from the build context, as far as
// an ignore-file entry could take it away.
type dockerfileUse struct {
	ctx            *rewrite.BuildContext
	whole          bool            // a COPY, ADD or RUN bind mount takes the whole context
	unknown        bool            // a COPY or ADD source that dfopt cannot read ($VAR)
	named          []string        // the context paths COPY and ADD name; wildcards kept
	commands       map[string]bool // the programs RUNs run, as far as the model sees
	opaque         bool            // a RUN runs something the model cannot see through
	text           []string        // the instructions, but the whole-context copies
	installsJS     bool            // a RUN installs node packages
	installsPython bool            // a RUN installs Python packages
	buildsJS       bool            // a RUN runs the build script of package.json
	versionFromVCS bool            // the project takes its version from git (setuptools-scm, …)
}

// dockerfileUses are the Dockerfiles that read an ignore file: the one
// being rewritten, and the other Dockerfiles of the context that read it
// too, whose answers the Dockerfiles of the context share.
type dockerfileUses struct {
	self     *dockerfileUse
	siblings *siblings // nil when the ignore file is the Dockerfile's own
	selfAt   int       // self's place among the siblings, or -1
}

// any tells whether one of the Dockerfiles makes pred true. key names pred
// among the questions asked of the siblings (the same key, the same
// question), which each sibling answers once.
func (users dockerfileUses) any(key string, pred func(u *dockerfileUse) bool) bool {
	if pred(users.self) {
		return true
	}
	if users.siblings == nil {
		return false
	}
	n, first := users.siblings.ask(key, pred)
	return n > 1 || n == 1 && first != users.selfAt
}

// builds tells whether a RUN runs the build tool that buildSystemOf named.
func (u *dockerfileUse) builds(tool string) bool {
	if tool == "js" {
		return u.buildsJS
	}
	return tool != "" && u.surelyRuns(buildCommands[tool]...)
}

func (u *dockerfileUse) runs(names ...string) bool {
	return u.opaque || u.surelyRuns(names...)
}

// surelyRuns tells whether a RUN runs one of the programs, as the model sees.
func (u *dockerfileUse) surelyRuns(names ...string) bool {
	for _, n := range names {
		if u.commands[n] {
			return true
		}
	}
	return false
}

// namedPaths lists the paths the COPY and ADD sources name, wildcards
// matched against the paths sent.
func (u *dockerfileUse) namedPaths(s *contextScan) []string {
	var out []string
	for _, n := range u.named {
		if !strings.ContainsAny(n, "*?[") {
			out = append(out, n)
			continue
		}
		for _, rel := range s.sent {
			if ok, _ := path.Match(n, rel); ok {
				out = append(out, rel)
			}
		}
		// A wildcard inside a flagged folder matches paths the scan did
		// not list: name the folder.
		prefix := literalDir(n)
		for _, it := range s.items {
			if it.dir && (prefix == it.rel || strings.HasPrefix(prefix, it.rel+"/")) {
				out = append(out, prefix)
			}
		}
	}
	return out
}

// mentionBlocks tells whether some Dockerfile names an item of a kind that
// a mention keeps in, or cannot be read well enough to tell.
func (users dockerfileUses) mentionBlocks(it contextItem) bool {
	return users.any("mention\x00"+it.rel, func(u *dockerfileUse) bool {
		if u.unknown {
			return true
		}
		if !it.kind.named {
			return false
		}
		for _, t := range u.text {
			if mentions(t, path.Base(it.rel)) {
				return true
			}
		}
		return false
	})
}

// mentions tells whether text holds name as a name of its own, not as part
// of a longer one.
func mentions(text, name string) bool {
	nameByte := func(c byte) bool {
		return c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	for i := 0; i+len(name) <= len(text); {
		j := strings.Index(text[i:], name)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(name)
		if (j == 0 || !nameByte(text[j-1])) && (end == len(text) || !nameByte(text[end])) {
			return true
		}
		i = j + 1
	}
	return false
}

// ignoreFileUsers returns what the Dockerfiles that read the ignore file
// take from the context: this one, and, for the context's shared
// .dockerignore, the other Dockerfiles at the top of the context that have
// no ignore file of their own. Those are read once for all the Dockerfiles
// that share the context (until dfopt -w writes one of them).
func ignoreFileUsers(p *rewrite.Pass, ctx *rewrite.BuildContext) dockerfileUses {
	users := dockerfileUses{self: useOf(p.Doc, ctx), selfAt: -1}
	if ctx.IgnoreFile != "" && filepath.Base(ctx.IgnoreFile) != ".dockerignore" {
		return users
	}
	users.siblings = siblingsOf(ctx)
	if self, err := os.Stat(p.Options.Path); err == nil {
		users.selfAt = slices.IndexFunc(users.siblings.list, func(s *sibling) bool { return os.SameFile(s.info, self) })
	}
	return users
}

// siblings are the Dockerfiles at the top of a build context that have no
// ignore file of their own, and the answers they gave to the questions of
// dockerfileUses.any: for each, how many said yes and the first that did.
type siblings struct {
	list []*sibling

	mu      sync.Mutex
	answers map[string]*answer
}

// answer is how many siblings make a question's pred true, and the place
// of the first (-1 for none).
type answer struct {
	n, first int
	pred     func(u *dockerfileUse) bool
}

// ask returns how many siblings make pred true, and the place of the first.
func (s *siblings) ask(key string, pred func(u *dockerfileUse) bool) (n, first int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.answers[key]; ok {
		return a.n, a.first
	}
	first = -1
	for i, sib := range s.list {
		if pred(sib.use) {
			if n++; n == 1 {
				first = i
			}
		}
	}
	s.answers[key] = &answer{n: n, first: first, pred: pred}
	return n, first
}

// siblingsKey and siblingKey name the siblings of a context, and one of
// them, among the facts of a context.
type (
	siblingsKey struct{}
	siblingKey  struct{}
)

// siblingsOf returns the siblings of the context, read once and kept up to
// date through rewrites of its files.
func siblingsOf(ctx *rewrite.BuildContext) *siblings {
	return rewrite.SharedKeep(ctx, siblingsKey{}, func() *siblings { return readSiblings(ctx) }, func(s *siblings, rel string) bool {
		return s.rewritten(ctx, rel)
	})
}

// readSiblings reads the Dockerfiles at the top of the context that have no
// ignore file of their own.
func readSiblings(ctx *rewrite.BuildContext) *siblings {
	s := &siblings{answers: map[string]*answer{}}
	for _, f := range ctx.ReadDir(".") {
		name := f.Path
		if f.Dir || !isDockerfileName(name) || exists(ctx, name+".dockerignore") {
			continue
		}
		sib := rewrite.SharedFile(ctx, siblingKey{}, name, func() *sibling { return readSibling(ctx, name) })
		if sib == nil {
			continue
		}
		s.list = append(s.list, sib.in(ctx, name))
	}
	return s
}

// in returns the sibling as the context sees it: its use with what depends
// on other files of the context.
func (sib *sibling) in(ctx *rewrite.BuildContext, name string) *sibling {
	u := *sib.use
	u.ctx = ctx
	u.versionFromVCS = u.whole && versionFromVCS(ctx)
	return &sibling{name: name, info: sib.info, use: &u}
}

// rewritten brings the siblings up to date after rel was rewritten in
// place, and tells whether they then hold. A sibling that was rewritten is
// read again and each answer changes by what its question says of the old
// and the new sibling: a question reads a sibling's use and the names of
// the context, which a rewrite in place leaves, never another file's
// content (a question on the scan names the scan in its key). A rewrite of
// any other file forgets the answers; one of a file whose content
// versionFromVCS reads drops the siblings.
func (s *siblings) rewritten(ctx *rewrite.BuildContext, rel string) bool {
	if slices.Contains(vcsFiles, rel) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.Contains(rel, "/") || !isDockerfileName(rel) || exists(ctx, rel+".dockerignore") {
		s.answers = map[string]*answer{}
		return true // no sibling, before or after
	}
	i := slices.IndexFunc(s.list, func(sib *sibling) bool { return sib.name == rel })
	sib := rewrite.SharedFile(ctx, siblingKey{}, rel, func() *sibling { return readSibling(ctx, rel) })
	switch {
	case (i >= 0) != (sib != nil):
		return false // it parses now and did not, or the other way round
	case sib == nil:
		return true
	}
	old, now := s.list[i], sib.in(ctx, rel)
	s.list[i] = now
	for _, a := range s.answers {
		switch was, is := a.pred(old.use), a.pred(now.use); {
		case was == is:
		case is:
			if a.n++; a.first < 0 || i < a.first {
				a.first = i
			}
		default:
			if a.n--; a.first == i {
				a.first = -1
				for j := i + 1; j < len(s.list); j++ {
					if a.pred(s.list[j].use) {
						a.first = j
						break
					}
				}
			}
		}
	}
	return true
}

// sibling is another Dockerfile at the top of the build context.
type sibling struct {
	name string         // its path in the context
	info fs.FileInfo    // to tell it from the Dockerfile being rewritten
	use  *dockerfileUse // what it takes from the context
}

// readSibling reads and parses a Dockerfile of the context, leaving out
// of its use what depends on other files (ctx, versionFromVCS); nil when it
// cannot be read or parsed.
func readSibling(ctx *rewrite.BuildContext, name string) *sibling {
	full := filepath.Join(ctx.Dir, name)
	info, err := os.Stat(full)
	if err != nil {
		return nil
	}
	src, err := os.ReadFile(full)
	if err != nil {
		return nil
	}
	d, err := rewrite.Parse(full, src)
	if err != nil {
		return nil
	}
	return &sibling{info: info, use: useOf(d, nil)}
}

// isDockerfileName tells whether a file name is one docker build -f is
// usually given.
func isDockerfileName(name string) bool {
	return name == "Dockerfile" || name == "Containerfile" || strings.HasSuffix(name, ".Dockerfile") ||
		strings.HasSuffix(name, ".dockerfile") || strings.HasPrefix(name, "Dockerfile.") || strings.HasPrefix(name, "Containerfile.")
}

// vcsVersioning are the tools that read a project's version from git.
var vcsVersioning = []string{"setuptools_scm", "setuptools-scm", "hatch-vcs", "versioneer", "dunamai", "dynamic-versioning",
	"git describe", "git rev-parse", "git-rev-sync", "git-describe"}

// useOf reads what a Dockerfile takes from the build context. With no
// context (nil), versionFromVCS is left for the caller to set.
func useOf(d *rewrite.Document, ctx *rewrite.BuildContext) *dockerfileUse {
	u := &dockerfileUse{ctx: ctx, commands: map[string]bool{}}
	wholeLines := map[int]bool{}
	for _, c := range contextCopies(d, nil) {
		if c.whole != "" {
			u.whole = true
			wholeLines[c.in.StartLine] = true
		}
		u.unknown = u.unknown || c.unknown
		for _, s := range c.srcs {
			if s != "." && s != "*" {
				u.named = append(u.named, s)
			}
		}
	}
	for _, in := range d.Instructions {
		if !wholeLines[in.StartLine] {
			u.text = append(u.text, in.Line)
		}
		run, ok := in.Command.(*instructions.RunCommand)
		if !ok {
			continue
		}
		for _, m := range instructions.GetMounts(run) {
			if m.Type == instructions.MountTypeBind && m.From == "" && path.Clean("/"+m.Source) == "/" {
				u.whole = true
			}
		}
		for _, c := range runmodel.Of(d).Run(in).Cmds {
			if c.Opaque {
				u.opaque = true // it may run anything
				if c.Name == "" {
					continue
				}
			}
			u.commands[c.Name] = true
			verb, next := "", ""
			if i := verbFrom(c, 0, nil); i >= 0 {
				verb, next = c.Arg(i), c.Arg(verbFrom(c, i+1, nil))
			}
			switch c.Name {
			case "npm", "pnpm", "bun", "yarn":
				u.installsJS = u.installsJS || slices.Contains([]string{"install", "ci", "i", "add"}, verb) || c.Name == "yarn" && verb == ""
				u.buildsJS = u.buildsJS || verb == "build" && c.Name != "npm" || verb == "run" && next == "build"
			case "pip", "pip3", "uv", "poetry", "pipenv", "pdm", "virtualenv", "conda", "mamba", "micromamba":
				u.installsPython = true
			default:
				if strings.HasPrefix(c.Name, "python") && slices.ContainsFunc(c.Args, func(a runmodel.Word) bool { return a.Is("pip") || a.Is("venv") }) {
					u.installsPython = true
				}
			}
			if runmodel.ManagerOf(c) == pipM {
				u.installsPython = true
			}
		}
	}
	u.versionFromVCS = u.whole && ctx != nil && versionFromVCS(ctx)
	return u
}

// vcsKey names versionFromVCS's answer among the facts of a context.
type vcsKey struct{}

// versionFromVCS tells whether the project of the context takes its
// version from git, by its manifests.
func versionFromVCS(ctx *rewrite.BuildContext) bool {
	return rewrite.SharedKeep(ctx, vcsKey{}, func() bool {
		for _, f := range vcsFiles {
			text := string(head(ctx, f, 1<<20))
			for _, t := range vcsVersioning {
				if strings.Contains(text, t) {
					return true
				}
			}
		}
		return false
	}, func(_ bool, rel string) bool { return !slices.Contains(vcsFiles, rel) })
}

// vcsFiles are the files whose content versionFromVCS reads.
var vcsFiles = []string{"pyproject.toml", "setup.py", "setup.cfg", "package.json"}
