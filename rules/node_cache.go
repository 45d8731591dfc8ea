package rules

import (
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
)

// NodeCache keeps the caches of npm, yarn, pnpm and composer, and the
// documentation gem install generates, out of the layers that ship.
var NodeCache = &rewrite.Rule{
	Name:     "node-cache",
	Title:    "npm, yarn and pnpm clean their caches; gem install --no-document; composer --no-cache",
	Kind:     rewrite.Safe,
	Hadolint: []string{"DL3060"},
	Doc: `Package managers keep a copy of everything they download. In a stage
whose files reach the image, a RUN that installs packages gets:
- npm install, npm ci (and their aliases), npm update: npm cache clean --force
  at the end of the RUN;
- yarn install, bare yarn, yarn add, yarn global add: yarn cache clean at the
  end of the RUN. Yarn 2 and later (Plug'n'Play) load packages from that cache,
  so the rule does nothing in a file that shows signs of them (.yarnrc.yml,
  .yarn/, .pnp, corepack, yarn set version, --immutable, ...);
- pnpm install, add, update: pnpm store prune at the end of the RUN, only
  where it frees something whatever the build host. pnpm brings the files
  of its store into node_modules as hard links (on a file system with
  reflinks, as clones), and prune removes the store's files that no
  node_modules links to: after an install that linked them, none of them,
  and the store costs the image little more than its index. So prune is
  added where the store keeps files that nothing uses: the RUN takes
  packages out of node_modules after the install (pnpm prune, pnpm remove,
  pnpm install --prod after a full install, rm of node_modules); the
  install copies instead of linking (--package-import-method copy, clone or
  clone-or-copy, or the npm_config_package_import_method variable); or it
  resolves versions against the registry (pnpm add, pnpm update), whose
  metadata pnpm keeps in its cache (~/.cache/pnpm) and prune removes. Not
  after a plain pnpm install, which resolves nothing where the lockfile is
  up to date (dfopt does not look), nor after pnpm fetch, which fills the
  store for a later install. Where the build host's file system has
  reflinks (btrfs, XFS), pnpm clones, and the store is a second copy that
  prune would free: dfopt cannot see the build host;
- gem install: --no-document, which skips generating ri and rdoc pages, as a
  proposal (the pages are installed files, not a cache). Not in images FROM
  the official ruby image, whose gemrc already does so;
- composer install, require, update: --no-cache (composer 2 and the later 1.x
  releases; not where the file shows composer 1, whose early releases lack it).
bundle install has no flag that keeps the downloaded .gem files out (its
--no-cache only skips vendor/cache), so bundle is left alone.
Nothing is added where the cache is already dealt with: the flag is there, the
cache folder is moved (--cache, --cache-folder, --store-dir, or a variable such
as YARN_CACHE_FOLDER or COMPOSER_CACHE_DIR) or covered by a cache mount of the
RUN, or the RUN cleans or removes the cache after the install. Nor where a
later step may read the cache: an install made offline (--offline, the
npm_config_offline or YARN_OFFLINE variable, offline in an .npmrc or .yarnrc
of the build context or written by a RUN), a step that names the cache's
folder, or anything dfopt cannot see through (a script, npm run, a program
it does not know), which may read it: when that is all, the clean-up is a
proposal that names the step. Clean-ups are only appended after
installs that always run and whose failure fails the RUN (not inside if,
case, loops, a pipe or a list with ||), and only where the command can still
be found at the end of the RUN (not after the RUN removes node or npm, nor
after an install in a subshell that changed PATH).
Builder stages are left alone: their layers never ship.

With --cache-mounts, npm, yarn and pnpm RUNs that run as root get BuildKit
cache mounts instead of the clean-up: --mount=type=cache,target=/root/.npm,
/usr/local/share/.cache/yarn (yarn 1's cache for root) and
/root/.local/share/pnpm/store (pnpm 7 and later; $PNPM_HOME/store when
PNPM_HOME is set), or the folder npm_config_cache or YARN_CACHE_FOLDER names.
hadolint's DL3060 accepts a RUN with a cache mount. Cache mounts need BuildKit.
gem and composer keep their flags.

Bad:

    RUN yarn install --frozen-lockfile

Good:

    RUN yarn install --frozen-lockfile \
        && yarn cache clean
`,
	Run: runNodeCache,
}

// The package-manager table's JavaScript, Ruby and PHP managers.
var (
	npmM      = runmodel.ManagerNamed("npm")
	yarnM     = runmodel.ManagerNamed("yarn")
	pnpmM     = runmodel.ManagerNamed("pnpm")
	gemM      = runmodel.ManagerNamed("gem")
	composerM = runmodel.ManagerNamed("composer")
)

// runNodeCache reports, for each RUN of a shipping stage, what keeps the
// JavaScript, Ruby and PHP package managers' caches and docs out of its layer.
func runNodeCache(p *rewrite.Pass) {
	berry := sync.OnceValue(func() bool { return yarnBerry().Match(p.Doc.Src) }) // only read when yarn runs
	for _, cr := range cacheRuns(runmodel.Of(p.Doc)) {
		var fix cacheFix
		for _, c := range cr.cmds() {
			switch runmodel.ManagerOf(c) {
			case npmM:
				nodeNpm(p, cr, c, &fix)
			case yarnM:
				if !berry() {
					nodeYarn(p, cr, c, &fix)
				}
			case pnpmM:
				nodePnpm(p, cr, c, &fix)
			case gemM:
				nodeGem(p, cr, c, &fix)
			case composerM:
				nodeComposer(p, cr, c, &fix)
			}
		}
		fix.report(p, cr)
	}
}

// nodeNpm cleans npm's cache after npm install, ci and update, or gives the
// RUN a cache mount.
func nodeNpm(p *rewrite.Pass, cr *cacheRun, c *runmodel.Cmd, fix *cacheFix) {
	i := verbFrom(c, 0, npmM.ValueFlags)
	if !slices.Contains(npmM.Install, c.Arg(i)) || c.HasFlag("--cache", "--help", "-h", "--dry-run") {
		return
	}
	locs := cr.locations(npmM.Caches)
	if cr.mountCovers(locs) || cr.cleanedAfter(c, locs, func(x *runmodel.Cmd) bool {
		j := verbFrom(x, 0, npmM.ValueFlags)
		return runmodel.ManagerOf(x) == npmM && x.Arg(j) == "cache" && (x.Arg(j+1) == "clean" || x.Arg(j+1) == "clear" || x.Arg(j+1) == "rm")
	}) {
		return
	}
	if fix = fix.unless(p, cr.cacheReadLater(p, npmM, c)); fix == nil {
		return
	}
	what := "npm " + c.Arg(i)
	if t := cr.mountTarget(p, npmM, c, npmM.Caches); t != "" && !fix.proposal {
		fix.mount(t, what+" keeps its download cache in the image: give the RUN a cache mount on "+t)
		return
	}
	fix.appendAfter(cr, c, "cache clean --force", what+" keeps its download cache in the image: run npm cache clean --force after it")
}

// yarnBerry finds signs of Yarn 2 and later, whose Plug'n'Play installs run
// packages straight from the cache that yarn cache clean would delete.
var yarnBerry = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)\.yarnrc\.yml|\.yarn/|\.pnp\.|corepack|yarn\s+set\s+version|set-version|--immutable|yarn\s+workspaces\s+focus|yarn\s+dlx|nodeLinker|YARN_NODE_LINKER|YARN_ENABLE_|yarn@(berry|stable|canary|[2-9])`)
})

// nodeYarn cleans yarn 1's cache after yarn install, add and global add, or
// gives the RUN a cache mount.
func nodeYarn(p *rewrite.Pass, cr *cacheRun, c *runmodel.Cmd, fix *cacheFix) {
	i := verbFrom(c, 0, yarnM.ValueFlags)
	what := "yarn"
	switch {
	case i < 0:
		// Bare yarn installs, unless a word is unreadable or asks for
		// something else.
		if c.AnyUnknownArg() {
			return
		}
	case c.Arg(i) == "install" || c.Arg(i) == "add":
		what += " " + c.Arg(i)
	case c.Arg(i) == "global" && c.Arg(verbFrom(c, i+1, yarnM.ValueFlags)) == "add":
		what += " global add"
	default:
		return
	}
	if c.HasFlag("--cache-folder", "--help", "-h", "--version", "-v") {
		return
	}
	locs := cr.locations(yarnM.Caches)
	if cr.mountCovers(locs) || cr.cleanedAfter(c, locs, func(x *runmodel.Cmd) bool {
		j := verbFrom(x, 0, yarnM.ValueFlags)
		return runmodel.ManagerOf(x) == yarnM && x.Arg(j) == "cache" && x.Arg(j+1) == "clean"
	}) {
		return
	}
	if fix = fix.unless(p, cr.cacheReadLater(p, yarnM, c)); fix == nil {
		return
	}
	if t := cr.mountTarget(p, yarnM, c, yarnM.Caches); t != "" && !fix.proposal {
		fix.mount(t, what+" keeps its download cache in the image: give the RUN a cache mount on "+t)
		return
	}
	fix.appendAfter(cr, c, "cache clean", what+" keeps its download cache in the image: run yarn cache clean after it")
}

// nodePnpm prunes pnpm's store after pnpm install, add and update where
// that frees something, or gives the RUN a cache mount.
func nodePnpm(p *rewrite.Pass, cr *cacheRun, c *runmodel.Cmd, fix *cacheFix) {
	k := pnpmM.Read(c)
	switch k.Verb {
	case "install", "i", "add", "update", "up", "upgrade":
	default:
		return // pnpm fetch fills the store for a later install: keep it
	}
	if c.HasFlag("--store-dir", "--help", "-h") {
		return
	}
	frees := pnpmPruneFrees(cr, k)
	if frees == "" && !p.Options.CacheMounts {
		return
	}
	locs := cr.locations(pnpmM.Caches)
	if cr.mountCovers(locs) || cr.cleanedAfter(c, locs, func(x *runmodel.Cmd) bool {
		j := verbFrom(x, 0, pnpmM.ValueFlags)
		return runmodel.ManagerOf(x) == pnpmM && x.Arg(j) == "store" && x.Arg(j+1) == "prune"
	}) {
		return
	}
	if fix = fix.unless(p, cr.cacheReadLater(p, pnpmM, c)); fix == nil {
		return
	}
	what := "pnpm " + k.Verb
	if t := cr.mountTarget(p, pnpmM, c, pnpmM.Caches); t != "" && !fix.proposal {
		fix.mount(t, what+" keeps its package store in the image: give the RUN a cache mount on "+t)
		return
	}
	if frees != "" {
		fix.appendAfter(cr, c, "store prune", what+" "+frees)
	}
}

// pnpmPruneFrees says what pnpm store prune frees after the install k,
// whatever the file system of the build host: "" when it frees nothing
// where pnpm hard-links its store's files into node_modules (the store then
// holds the same files, and prune removes only those nothing links to).
func pnpmPruneFrees(cr *cacheRun, k runmodel.Call) string {
	const prune = ": run pnpm store prune after it, which removes the store's files that no node_modules links to"
	if m, ok := pnpmImportMethod(cr, k); ok && slices.Contains(pnpmM.CopyImports, m) {
		return "copies its packages out of its store (" + pnpmM.ImportSetting + " " + m + "), and the store keeps a second copy of them" + prune
	}
	for _, x := range cr.cmds() {
		if !runmodel.Before(k.Cmd, x) {
			continue
		}
		if x.Is("rm") && removesNodeModules(x) {
			return "fills its store, and the RUN then removes node_modules, whose files only the store keeps" + prune
		}
		if runmodel.ManagerOf(x) != pnpmM {
			continue
		}
		switch kx := pnpmM.Read(x); {
		case kx.Prunes():
			return "fills its store, and pnpm " + kx.Verb + " then takes packages out of node_modules, whose files only the store keeps" + prune
		case kx.Installs() && kx.ProdOnly() && !k.ProdOnly():
			return "fills its store, and pnpm " + kx.Verb + " with " + pnpmM.ProdFlags[0] + " then takes the development dependencies out of node_modules, whose files only the store keeps" + prune
		}
	}
	if k.Resolves() {
		return "keeps the registry metadata it resolved with in pnpm's cache: run pnpm store prune after it, which removes that metadata"
	}
	return ""
}

// pnpmImportMethod returns how pnpm brings the store's files into
// node_modules for the install k: its --package-import-method, else the
// npm_config_package_import_method variable set for it, in the RUN or by
// ENV or ARG; ok is false when none sets it or its value is not known.
func pnpmImportMethod(cr *cacheRun, k runmodel.Call) (string, bool) {
	if m, ok := k.ImportMethod(); ok || k.HasFlag("--"+pnpmM.ImportSetting) {
		return m, ok
	}
	name := "npm_config_" + strings.ReplaceAll(pnpmM.ImportSetting, "-", "_")
	for n, w := range k.Assigns {
		if strings.EqualFold(n, name) {
			return w.Value()
		}
	}
	for _, a := range cr.r.Assigns {
		if strings.EqualFold(a.Name, name) {
			return "", false // set in the program: dfopt does not follow the value
		}
	}
	for n, v := range cr.st.Env {
		if strings.EqualFold(n, name) {
			return v.Value, v.Known
		}
	}
	return "", false
}

// removesNodeModules tells whether c is an rm of a node_modules folder, or
// of all that is in it.
func removesNodeModules(c *runmodel.Cmd) bool {
	ops, ok := rmOperands(c)
	if !ok {
		return false
	}
	for _, o := range ops {
		if path.Base(strings.TrimSuffix(strings.TrimSuffix(o, "*"), "/")) == "node_modules" {
			return true
		}
	}
	return false
}

// nodeGem adds --no-document to gem install.
func nodeGem(p *rewrite.Pass, cr *cacheRun, c *runmodel.Cmd, fix *cacheFix) {
	i := verbFrom(c, 0, nil)
	if c.Arg(i) != "install" ||
		c.HasFlag("--no-document", "-N", "--no-rdoc", "--no-ri", "--document", "--rdoc", "--ri", "--help", "-h") ||
		officialImage(chainRoot(p.Doc, cr.in.Stage).Base, "ruby") || cr.gemrcNoDocument(c) ||
		cr.oldDistro(p.Doc) && !cr.ranBefore(c, gemUpdateSystem) {
		return
	}
	// The documentation is part of what gem installs, not a cache: leaving
	// it out changes the image's files, so it is a proposal.
	if e, ok := insertAfterArg(cr.in, c, i, " --no-document"); ok {
		p.Report(rewrite.Finding{Line: cr.in.StartLine, Proposal: true, Edits: []rewrite.Edit{e},
			Message: "gem install also generates the gems' documentation: add --no-document (proposal: the image then lacks the ri and rdoc pages)"})
	}
}

// gemUpdateSystem tells whether a command updates RubyGems itself.
func gemUpdateSystem(c *runmodel.Cmd) bool {
	return runmodel.ManagerOf(c) == gemM && c.Arg(verbFrom(c, 0, nil)) == "update" && c.HasFlag("--system")
}

// gemrcNoDocument tells whether a gemrc written before the gem install
// already turns documentation off ("gem: --no-document").
func (cr *cacheRun) gemrcNoDocument(c *runmodel.Cmd) bool {
	return cr.ranBefore(c, func(x *runmodel.Cmd) bool {
		doc, rc := false, false
		for _, a := range x.Args {
			t, _ := a.Pattern()
			doc = doc || strings.Contains(t, "no-document")
			rc = rc || strings.Contains(t, "gemrc") || strings.Contains(t, "gem:")
		}
		for _, rd := range x.Redirs {
			t, _ := rd.Target.Pattern()
			rc = rc || strings.Contains(t, "gemrc")
		}
		return doc && rc
	})
}

// composerOne finds signs of composer 1, whose older releases lack --no-cache.
var composerOne = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`composer:1\b|composer-1\.|(composer|installer)[^\n]*--(1\b|version[= ]1\.)`)
})

// nodeComposer adds --no-cache to composer install, require and update.
// (php composer.phar runs a file the model cannot see: it is left alone.)
func nodeComposer(p *rewrite.Pass, cr *cacheRun, c *runmodel.Cmd, fix *cacheFix) {
	i := verbFrom(c, 0, composerM.ValueFlags)
	switch c.Arg(i) {
	case "install", "require", "update":
	default:
		return
	}
	if c.HasFlag("--no-cache", "--help", "-h") || cr.envSet(c, "COMPOSER_CACHE_DIR") ||
		composerOne().MatchString(string(p.Doc.Src)) {
		return
	}
	locs := cr.locations(composerM.Caches)
	if cr.mountCovers(locs) || cr.cleanedAfter(c, locs, func(x *runmodel.Cmd) bool {
		if runmodel.ManagerOf(x) != composerM {
			return false
		}
		v := x.Arg(verbFrom(x, 0, nil))
		return v == "clear-cache" || v == "clearcache" || v == "cc"
	}) {
		return
	}
	if fix = fix.unless(p, cr.cacheReadLater(p, composerM, c), cr.cacheReadAfter(p, composerM, c)); fix == nil {
		return
	}
	fix.insertAfterArg(cr, c, i, " --no-cache", "composer "+c.Arg(i)+" keeps its download cache in the image: add --no-cache")
}
