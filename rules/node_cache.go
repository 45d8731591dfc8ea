package rules

import (
	"regexp"
	"strings"
	"sync"

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
- pnpm install, add, update: pnpm store prune at the end of the RUN (the
  store drops what no project links to any more; not after pnpm fetch, which
  fills the store for a later install);
- gem install: --no-document, which skips generating ri and rdoc pages. Not in
  images FROM the official ruby image, whose gemrc already does so;
- composer install, require, update: --no-cache (composer 2 and the later 1.x
  releases; not where the file shows composer 1, whose early releases lack it).
bundle install has no flag that keeps the downloaded .gem files out (its
--no-cache only skips vendor/cache), so bundle is left alone.
Nothing is added where the cache is already dealt with: the flag is there, the
cache folder is moved (--cache, --cache-folder, --store-dir, or a variable such
as YARN_CACHE_FOLDER or COMPOSER_CACHE_DIR) or covered by a cache mount of the
RUN, or the RUN cleans or removes the cache after the install, or a later RUN
installs with --offline from that cache. Clean-ups are
only appended after installs that always run (not inside if, case, loops or
a list with ||), and only where the command can still be found at the end of
the RUN (not after the RUN removes node or npm, nor after an install in a
subshell that changed PATH).
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

// runNodeCache reports, for each RUN of a shipping stage, what keeps the
// JavaScript, Ruby and PHP package managers' caches and docs out of its layer.
func runNodeCache(p *rewrite.Pass) {
	berry := sync.OnceValue(func() bool { return yarnBerry.Match(p.Doc.Src) }) // only read when yarn runs
	for _, cr := range cacheRuns(p.Doc) {
		var fix cacheFix
		for _, tc := range cr.calls {
			switch tc.name {
			case "npm":
				nodeNpm(p, cr, tc, &fix)
			case "yarn":
				if !berry() {
					nodeYarn(p, cr, tc, &fix)
				}
			case "pnpm":
				nodePnpm(p, cr, tc, &fix)
			case "gem":
				nodeGem(p, cr, tc, &fix)
			case "composer", "composer.phar", "php":
				nodeComposer(p, cr, tc, &fix)
			}
		}
		fix.report(p, cr)
	}
}

var npmCache = cacheSpec{dirs: []string{"~/.npm"}, env: []string{"npm_config_cache", "NPM_CONFIG_CACHE"}}

var npmInstallVerbs = map[string]bool{
	"install": true, "i": true, "in": true, "ins": true, "inst": true, "insta": true, "instal": true,
	"isnt": true, "isnta": true, "isntal": true, "isntall": true, "add": true, "ci": true,
	"clean-install": true, "ic": true, "install-clean": true, "isntall-clean": true,
	"install-test": true, "it": true, "install-ci-test": true, "cit": true,
	"update": true, "up": true, "upgrade": true, "udpate": true,
}

var npmValueFlags = []string{"--prefix", "-C", "--cache", "--registry", "--userconfig", "--loglevel", "-w", "--workspace"}

// nodeNpm cleans npm's cache after npm install, ci and update, or gives the
// RUN a cache mount.
func nodeNpm(p *rewrite.Pass, cr *cacheRun, tc toolCall, fix *cacheFix) {
	i := tc.verbFrom(1, npmValueFlags)
	if !npmInstallVerbs[tc.arg(i)] || tc.has("--cache", "--help", "-h", "--dry-run") || cr.offlineLater(p.Doc, "npm") {
		return
	}
	locs := npmCache.locations(cr.env)
	if cr.mountCovers(locs) || cr.cleanedAfter(tc, locs, func(c toolCall) bool {
		j := c.verbFrom(1, npmValueFlags)
		return c.name == "npm" && c.arg(j) == "cache" && (c.arg(j+1) == "clean" || c.arg(j+1) == "clear" || c.arg(j+1) == "rm")
	}) {
		return
	}
	what := "npm " + tc.arg(i)
	if t := cr.mountTarget(p, npmCache); t != "" {
		fix.mount(t, what+" keeps its download cache in the image: give the RUN a cache mount on "+t)
		return
	}
	fix.appendAfter(cr, tc, "cache clean --force", what+" keeps its download cache in the image: run npm cache clean --force after it")
}

// yarnBerry finds signs of Yarn 2 and later, whose Plug'n'Play installs run
// packages straight from the cache that yarn cache clean would delete.
var yarnBerry = regexp.MustCompile(`(?i)\.yarnrc\.yml|\.yarn/|\.pnp\.|corepack|yarn\s+set\s+version|set-version|--immutable|yarn\s+workspaces\s+focus|yarn\s+dlx|nodeLinker|YARN_NODE_LINKER|YARN_ENABLE_|yarn@(berry|stable|canary|[2-9])`)

// yarnCache lists yarn 1's cache: /usr/local/share/.cache/yarn for root,
// ~/.cache/yarn for other users.
var yarnCache = cacheSpec{dirs: []string{"/usr/local/share/.cache/yarn", "~/.cache/yarn"}, env: []string{"YARN_CACHE_FOLDER"}}

var yarnValueFlags = []string{"--cwd", "--cache-folder", "--modules-folder", "--network-timeout", "--mutex", "--registry", "--global-folder", "--link-folder", "--network-concurrency"}

// nodeYarn cleans yarn 1's cache after yarn install, add and global add, or
// gives the RUN a cache mount.
func nodeYarn(p *rewrite.Pass, cr *cacheRun, tc toolCall, fix *cacheFix) {
	i := tc.verbFrom(1, yarnValueFlags)
	what := "yarn"
	switch {
	case i < 0:
		// Bare yarn installs, unless a word is unreadable or asks for
		// something else.
		for _, w := range tc.words()[1:] {
			if w == "" {
				return
			}
		}
	case tc.arg(i) == "install" || tc.arg(i) == "add":
		what += " " + tc.arg(i)
	case tc.arg(i) == "global" && tc.arg(tc.verbFrom(i+1, yarnValueFlags)) == "add":
		what += " global add"
	default:
		return
	}
	if tc.has("--cache-folder", "--help", "-h", "--version", "-v") || cr.offlineLater(p.Doc, "yarn") {
		return
	}
	locs := yarnCache.locations(cr.env)
	if cr.mountCovers(locs) || cr.cleanedAfter(tc, locs, func(c toolCall) bool {
		j := c.verbFrom(1, yarnValueFlags)
		return c.name == "yarn" && c.arg(j) == "cache" && c.arg(j+1) == "clean"
	}) {
		return
	}
	if t := cr.mountTarget(p, yarnCache); t != "" {
		fix.mount(t, what+" keeps its download cache in the image: give the RUN a cache mount on "+t)
		return
	}
	fix.appendAfter(cr, tc, "cache clean", what+" keeps its download cache in the image: run yarn cache clean after it")
}

// pnpmStore lists where pnpm keeps its store: store-dir if configured, else
// $PNPM_HOME/store, $XDG_DATA_HOME/pnpm/store or ~/.local/share/pnpm/store
// (pnpm 7 and later; pnpm 6 used ~/.pnpm-store).
var pnpmStore = cacheSpec{
	dirs: []string{"~/.local/share/pnpm/store", "~/.pnpm-store"},
	env:  []string{"npm_config_store_dir", "NPM_CONFIG_STORE_DIR", "PNPM_HOME/store", "XDG_DATA_HOME/pnpm/store"},
}

var pnpmValueFlags = []string{"--dir", "-C", "--filter", "-F", "--store-dir", "--reporter"}

// nodePnpm prunes pnpm's store after pnpm install, add and update, or
// gives the RUN a cache mount.
func nodePnpm(p *rewrite.Pass, cr *cacheRun, tc toolCall, fix *cacheFix) {
	i := tc.verbFrom(1, pnpmValueFlags)
	switch tc.arg(i) {
	case "install", "i", "add", "update", "up", "upgrade":
	default:
		return // pnpm fetch fills the store for a later install: keep it
	}
	if tc.has("--store-dir", "--help", "-h") || cr.offlineLater(p.Doc, "pnpm") {
		return
	}
	locs := pnpmStore.locations(cr.env)
	if cr.mountCovers(locs) || cr.cleanedAfter(tc, locs, func(c toolCall) bool {
		j := c.verbFrom(1, pnpmValueFlags)
		return c.name == "pnpm" && c.arg(j) == "store" && c.arg(j+1) == "prune"
	}) {
		return
	}
	what := "pnpm " + tc.arg(i)
	if t := cr.mountTarget(p, pnpmStore); t != "" {
		fix.mount(t, what+" keeps its package store in the image: give the RUN a cache mount on "+t)
		return
	}
	fix.appendAfter(cr, tc, "store prune", what+" fills its package store in the image: run pnpm store prune after it, which drops what no project uses")
}

// nodeGem adds --no-document to gem install.
func nodeGem(p *rewrite.Pass, cr *cacheRun, tc toolCall, fix *cacheFix) {
	i := tc.verbFrom(1, nil)
	if tc.arg(i) != "install" ||
		tc.has("--no-document", "-N", "--no-rdoc", "--no-ri", "--document", "--rdoc", "--ri", "--help", "-h") ||
		officialImage(chainRoot(p.Doc, cr.in.Stage).Base, "ruby") || cr.gemrcNoDocument(tc) ||
		cr.oldDistro(p.Doc) && !cr.ranBefore(tc, gemUpdateSystem) {
		return
	}
	fix.insert(insertAfter(cr.in, tc.args[i].End(), " --no-document"),
		"gem install also generates the gems' documentation: add --no-document")
}

// gemUpdateSystem finds an update of RubyGems itself.
var gemUpdateSystem = regexp.MustCompile(`gem\s+update\s+--system`)

// gemrcNoDocument tells whether a gemrc written before the gem install
// already turns documentation off ("gem: --no-document").
func (cr *cacheRun) gemrcNoDocument(tc toolCall) bool {
	writesGemrc := func(s string) bool {
		return strings.Contains(s, "no-document") && (strings.Contains(s, "gemrc") || strings.Contains(s, "gem:"))
	}
	for _, in := range cr.before {
		if in.Keyword == "run" && writesGemrc(in.Line) {
			return true
		}
	}
	return writesGemrc(cr.in.Shell.Text[:min(int(tc.call.Pos().Offset()), len(cr.in.Shell.Text))])
}

var composerCache = cacheSpec{dirs: []string{"~/.composer/cache", "~/.cache/composer"}, env: []string{"COMPOSER_CACHE_DIR", "COMPOSER_HOME/cache"}}

// composerOne finds signs of composer 1, whose older releases lack --no-cache.
var composerOne = regexp.MustCompile(`composer:1\b|composer-1\.|(composer|installer)[^\n]*--(1\b|version[= ]1\.)`)

// nodeComposer adds --no-cache to composer install, require and update.
func nodeComposer(p *rewrite.Pass, cr *cacheRun, tc toolCall, fix *cacheFix) {
	start := 1
	if tc.name == "php" {
		if n := baseName(tc.arg(1)); n != "composer" && n != "composer.phar" {
			return
		}
		start = 2
	}
	i := tc.verbFrom(start, []string{"-d", "--working-dir"})
	switch tc.arg(i) {
	case "install", "require", "update":
	default:
		return
	}
	if tc.has("--no-cache", "--help", "-h") || cr.envSet(tc, "COMPOSER_CACHE_DIR") ||
		composerOne.MatchString(string(p.Doc.Src)) {
		return
	}
	locs := composerCache.locations(cr.env)
	if cr.mountCovers(locs) || cr.cleanedAfter(tc, locs, func(c toolCall) bool {
		j := c.verbFrom(1, nil)
		switch {
		case c.name == "php" && strings.HasPrefix(baseName(c.arg(1)), "composer"):
			j = c.verbFrom(2, nil)
		case c.name != "composer" && c.name != "composer.phar":
			return false
		}
		v := c.arg(j)
		return v == "clear-cache" || v == "clearcache" || v == "cc"
	}) {
		return
	}
	fix.insert(insertAfter(cr.in, tc.args[i].End(), " --no-cache"),
		"composer "+tc.arg(i)+" keeps its download cache in the image: add --no-cache")
}
