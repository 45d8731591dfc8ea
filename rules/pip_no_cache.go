package rules

import (
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
)

// PipNoCache keeps the download caches of Python's package managers out of
// the layers that ship.
var PipNoCache = &rewrite.Rule{
	Name:     "pip-no-cache",
	Title:    "pip, uv and poetry install without a download cache; conda cleans its packages up",
	Kind:     rewrite.Safe,
	Hadolint: []string{"DL3042"},
	Doc: `pip keeps every wheel it downloads or builds in ~/.cache/pip, so a layer
that ran pip install ships the packages twice: installed, and cached. In a stage
whose files reach the image:
- pip install, pip3 install, python -m pip install and python3 -m pip install get
  --no-cache-dir right after install;
- uv pip install, uv pip sync, uv sync and uv add get --no-cache;
- poetry install, add, update and sync get --no-cache (poetry 1.2 and later;
  left alone where the file pins an older poetry);
- conda install, create, update and env create get conda clean -afy at the end
  of the RUN (packages and tarballs out of the pkgs folder).
Nothing is added where the cache is already off or dealt with: the flag is
there; PIP_NO_CACHE_DIR (pip reads any value, even 0 or false, as "no cache"),
UV_NO_CACHE or the tool's cache folder variable is set by ENV or ARG in the stage
or a stage it is built FROM, or by an assignment in the RUN; pip's configuration
switches the cache off; the RUN has a cache mount over the cache; or the RUN
removes the cache (rm -rf, pip cache purge, uv cache clean, poetry cache clear,
conda clean) after the install. Nor where a later step may read the cache: an
install from the cache alone (pip --no-index, PIP_NO_INDEX, uv or conda
--offline), a step that names the cache's folder (--find-links
~/.cache/pip/wheels), or anything dfopt cannot see through (a script, python
manage.py, pip install -e .), which may read it: when that is all, the edit is a
proposal that names the step. The conda clean-up is only
appended after installs that always run and whose failure fails the RUN (not
inside if, case, loops, a pipe or a list with ||), and only where conda can
still be found at the end of the RUN.

pipenv install and sync, run as root, get rm -rf /root/.cache/pipenv
/root/.cache/pip at the end of the RUN: pipenv has no flag that skips its cache,
and pipenv --clear, which deletes its
cache and pip's, can stop the build with an error (on Python 3.12 and later its
clean-up handler fails when a cache folder does not exist). Builder stages are left alone: their layers never ship.

With --cache-mounts, pip, uv and poetry RUNs that run as root get BuildKit cache
mounts instead (--mount=type=cache,target=/root/.cache/pip, /root/.cache/uv,
/root/.cache/pypoetry, or the folder PIP_CACHE_DIR, UV_CACHE_DIR or
POETRY_CACHE_DIR names): later builds reuse the downloads and the image never
holds them. Cache mounts need BuildKit. hadolint's DL3042 does not look at cache
mounts and still reports such a RUN (hadolint issue 497). conda keeps its
clean-up: where its pkgs folder lies depends on how conda was installed.

Bad:

    RUN pip install -r requirements.txt

Good:

    RUN pip install --no-cache-dir -r requirements.txt
`,
	Run: runPipNoCache,
}

// The package-manager table's Python managers.
var (
	pipM    = runmodel.ManagerNamed("pip")
	uvM     = runmodel.ManagerNamed("uv")
	poetryM = runmodel.ManagerNamed("poetry")
	pipenvM = runmodel.ManagerNamed("pipenv")
	condaM  = runmodel.ManagerNamed("conda")
)

// runPipNoCache reports, for each RUN of a shipping stage, what keeps the
// Python package managers' caches out of its layer.
func runPipNoCache(p *rewrite.Pass) {
	for _, cr := range cacheRuns(runmodel.Of(p.Doc)) {
		var fix cacheFix
		for _, c := range cr.cmds() {
			switch runmodel.ManagerOf(c) {
			case uvM:
				pipUv(p, cr, c, &fix)
			case poetryM:
				pipPoetry(p, cr, c, &fix)
			case condaM:
				if c.Name == "conda" {
					pipConda(p, cr, c, &fix)
				}
			case pipenvM:
				pipPipenv(p, cr, c, &fix)
			case pipM:
				if i := verbFrom(c, 0, nil); i >= 0 && c.Arg(i) == "install" {
					pipInstall(p, cr, c, i, &fix)
				}
			}
		}
		fix.report(p, cr)
	}
}

// pipInstall keeps a pip install's cache out: --no-cache-dir, or a cache mount.
func pipInstall(p *rewrite.Pass, cr *cacheRun, c *runmodel.Cmd, verb int, fix *cacheFix) {
	if c.HasFlag("--no-cache-dir", "--cache-dir", "--help", "-h", "--version", "-V") || pipM.Read(c).NoCacheFlag() ||
		cr.envSet(c, "PIP_NO_CACHE_DIR") || cr.pipConfigNoCache() ||
		cr.oldDistro(p.Doc) && !cr.ranBefore(c, pipUpgrade) {
		return
	}
	locs := cr.locations(pipM.Caches)
	if cr.mountCovers(locs) || cr.cleanedAfter(c, locs, func(x *runmodel.Cmd) bool {
		return runmodel.ManagerOf(x) == pipM && x.Arg(verbFrom(x, 0, nil)) == "cache"
	}) {
		return
	}
	if fix = fix.unless(p, cr.cacheReadLater(p, pipM, c), cr.cacheReadAfter(p, pipM, c)); fix == nil {
		return
	}
	if t := cr.mountTarget(p, pipM, c, pipM.Caches); t != "" && !fix.proposal {
		fix.mount(t, "pip install keeps its download cache in the image: give the RUN a cache mount on "+t)
		return
	}
	fix.insertAfterArg(cr, c, verb, " --no-cache-dir",
		"pip install keeps its download cache in the image: add --no-cache-dir")
}

// pipUv keeps the cache of uv pip install, uv pip sync, uv sync and uv add
// out: --no-cache, or a cache mount.
func pipUv(p *rewrite.Pass, cr *cacheRun, c *runmodel.Cmd, fix *cacheFix) {
	i := verbFrom(c, 0, uvM.ValueFlags)
	if i < 0 {
		return
	}
	first := i
	switch c.Arg(i) {
	case "pip":
		j := verbFrom(c, i+1, uvM.ValueFlags)
		if j < 0 || c.Arg(j) != "install" && c.Arg(j) != "sync" {
			return
		}
		i = j
	case "sync", "add":
	default:
		return
	}
	if c.HasFlag("--no-cache", "--no-cache-dir", "-n", "--cache-dir", "--help", "-h") || cr.envSet(c, "UV_NO_CACHE") {
		return
	}
	locs := cr.locations(uvM.Caches)
	if cr.mountCovers(locs) || cr.cleanedAfter(c, locs, func(x *runmodel.Cmd) bool {
		j := verbFrom(x, 0, uvM.ValueFlags)
		return runmodel.ManagerOf(x) == uvM && j >= 0 && x.Arg(j) == "cache"
	}) {
		return
	}
	if fix = fix.unless(p, cr.cacheReadLater(p, uvM, c), cr.cacheReadAfter(p, uvM, c)); fix == nil {
		return
	}
	words := []string{"uv"}
	for k := first; k <= i; k++ {
		words = append(words, c.Arg(k))
	}
	what := strings.Join(words, " ")
	if t := cr.mountTarget(p, uvM, c, uvM.Caches); t != "" && !fix.proposal {
		fix.mount(t, what+" keeps its download cache in the image: give the RUN a cache mount on "+t)
		return
	}
	fix.insertAfterArg(cr, c, i, " --no-cache", what+" keeps its download cache in the image: add --no-cache")
}

// pipPoetry keeps the cache of poetry install, add, update and sync out:
// --no-cache, or a cache mount.
func pipPoetry(p *rewrite.Pass, cr *cacheRun, c *runmodel.Cmd, fix *cacheFix) {
	i := verbFrom(c, 0, poetryM.ValueFlags)
	switch c.Arg(i) {
	case "install", "add", "update", "sync":
	default:
		return
	}
	if c.HasFlag("--no-cache", "--help", "-h") || oldPoetry(p.Doc) {
		return
	}
	locs := cr.locations(poetryM.Caches)
	if cr.mountCovers(locs) || cr.cleanedAfter(c, locs, func(x *runmodel.Cmd) bool {
		j := verbFrom(x, 0, poetryM.ValueFlags)
		return runmodel.ManagerOf(x) == poetryM && j >= 0 && x.Arg(j) == "cache"
	}) {
		return
	}
	if fix = fix.unless(p, cr.cacheReadLater(p, poetryM, c), cr.cacheReadAfter(p, poetryM, c)); fix == nil {
		return
	}
	what := "poetry " + c.Arg(i)
	if t := cr.mountTarget(p, poetryM, c, poetryM.Caches); t != "" && !fix.proposal {
		fix.mount(t, what+" keeps its download cache in the image: give the RUN a cache mount on "+t)
		return
	}
	fix.insertAfterArg(cr, c, i, " --no-cache", what+" keeps its download cache in the image: add --no-cache")
}

// poetryPin finds a poetry version pinned in the file: poetry==1.1.15,
// POETRY_VERSION=1.1.15, --version 1.1.15 after the installer.
var poetryPin = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)(poetry[=@]=?|POETRY_VERSION[= ]+["']?|install-poetry.*--version[= ])v?([0-9]+)\.([0-9]+)`)
})

// oldPoetry tells whether the file pins a poetry older than 1.2, which has
// no --no-cache.
func oldPoetry(d *rewrite.Document) bool {
	for _, m := range poetryPin().FindAllStringSubmatch(string(d.Src), -1) {
		if m[2] == "0" || m[2] == "1" && len(m[3]) == 1 && m[3] < "2" {
			return true
		}
	}
	return false
}

// pipConda cleans what conda install, create, update and env create
// downloaded, at the end of the RUN.
func pipConda(p *rewrite.Pass, cr *cacheRun, c *runmodel.Cmd, fix *cacheFix) {
	i := verbFrom(c, 0, condaM.ValueFlags)
	what := "conda " + c.Arg(i)
	switch c.Arg(i) {
	case "install", "create", "update", "upgrade":
	case "env":
		j := verbFrom(c, i+1, nil)
		if c.Arg(j) != "create" && c.Arg(j) != "update" {
			return
		}
		what += " " + c.Arg(j)
	default:
		return
	}
	if c.HasFlag("--help", "-h", "--dry-run", "-d") {
		return
	}
	if cr.cleanedAfter(c, nil, func(x *runmodel.Cmd) bool {
		switch {
		case runmodel.ManagerOf(x) == condaM:
			return x.Arg(verbFrom(x, 0, nil)) == "clean"
		case x.Is("rm"):
			return slices.ContainsFunc(x.Args, func(a runmodel.Word) bool {
				w, _ := a.Pattern()
				return strings.HasSuffix(strings.TrimRight(w, "/*"), "/pkgs") || strings.Contains(w, "/pkgs/")
			})
		}
		return false
	}) || cr.mountOnPkgs() {
		return
	}
	if fix = fix.unless(p, cr.cacheReadLater(p, condaM, c)); fix == nil {
		return
	}
	fix.appendAfter(cr, c, "clean -afy", what+" keeps the packages it downloaded in the image: run conda clean -afy after it")
}

// pipenvCaches are where pipenv install and sync keep what they download
// when they run as root: pipenv's own cache and pip's (the table's).
var pipenvCaches = func() []string {
	var out []string
	for _, c := range runmodel.ManagerNamed("pipenv").Caches {
		out = append(out, "/root"+strings.TrimPrefix(c.Dir, "~"))
	}
	return out
}()

// pipPipenv removes pipenv's caches at the end of the RUN. pipenv has no flag
// that skips them, and pipenv --clear fails where a cache folder is missing,
// so the folders are removed directly; only as root, where they are known.
func pipPipenv(p *rewrite.Pass, cr *cacheRun, c *runmodel.Cmd, fix *cacheFix) {
	switch c.Arg(verbFrom(c, 0, nil)) {
	case "install", "sync":
	default:
		return
	}
	if !cr.root || len(c.Via) > 0 || c.Cond || c.FailOK || c.HasFlag("--help", "-h") ||
		cr.envSet(c, "PIPENV_CACHE_DIR") || cr.envSet(c, "XDG_CACHE_HOME") || cr.mountCovers(pipenvCaches) ||
		!canAppend(cr.r) {
		return
	}
	if cr.cleanedAfter(c, pipenvCaches, func(*runmodel.Cmd) bool { return false }) {
		return
	}
	if fix = fix.unless(p, cr.cacheReadLater(p, pipenvM, c), cr.cacheReadLater(p, pipM, c)); fix == nil {
		return
	}
	cmd := "rm -rf " + strings.Join(pipenvCaches, " ")
	if !slices.Contains(fix.appends, cmd) {
		fix.appends = append(fix.appends, cmd)
		fix.appMsgs = append(fix.appMsgs, "pipenv "+c.Arg(verbFrom(c, 0, nil))+" keeps its and pip's download caches in the image: remove them at the end of the RUN")
	}
}

// mountOnPkgs tells whether the RUN has a cache mount over a conda pkgs folder.
func (cr *cacheRun) mountOnPkgs() bool {
	for _, t := range cr.mounts {
		if strings.HasSuffix(t, "/pkgs") || strings.Contains(t, "/pkgs/") {
			return true
		}
	}
	return false
}

// oldDistroBase matches the distribution releases whose packaged pip (1.5,
// before --no-cache-dir came in pip 6) or RubyGems (1.8, before
// --no-document came in RubyGems 2) would reject the flag.
var oldDistroBase = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(docker\.io/)?(library/)?(ubuntu:(1[0-4]\.(04|10)|lucid|precise|trusty)|debian:(6|7|8|squeeze|wheezy|jessie)|centos:(5|6|centos5|centos6))([.-].*)?$`)
})

// oldDistro tells whether the RUN's stages start from such a release.
func (cr *cacheRun) oldDistro(d *rewrite.Document) bool {
	return oldDistroBase().MatchString(strings.ToLower(chainRoot(d, cr.in.Stage).Base))
}

// pipUpgrade tells whether a command upgrades pip itself: pip install -U
// pip, get-pip.py, easy_install pip, python -m ensurepip.
func pipUpgrade(c *runmodel.Cmd) bool {
	switch {
	case runmodel.ManagerOf(c) == pipM:
		return c.Arg(verbFrom(c, 0, nil)) == "install" && c.HasFlag("-U", "--upgrade") && slices.ContainsFunc(c.Args, func(a runmodel.Word) bool { return a.Is("pip") })
	case c.Is("easy_install"):
		return slices.ContainsFunc(c.Args, func(a runmodel.Word) bool { return a.Is("pip") })
	}
	for _, a := range append([]runmodel.Word{c.Prog}, c.Args...) {
		if t, _ := a.Pattern(); strings.Contains(t, "get-pip") || strings.Contains(t, "ensurepip") {
			return true
		}
	}
	return false
}

// ranBefore tells whether a command of an earlier RUN of the stages, or of
// this RUN before c, is one that is accepts.
func (cr *cacheRun) ranBefore(c *runmodel.Cmd, is func(*runmodel.Cmd) bool) bool {
	for _, in := range cr.before {
		if r := cr.m.Run(in); r != nil && !r.Onbuild {
			for _, x := range r.Cmds {
				if is(x) {
					return true
				}
			}
		}
	}
	for _, x := range cr.r.Cmds {
		if runmodel.Before(x, c) && is(x) {
			return true
		}
	}
	return false
}

// pipConfigNoCache tells whether an earlier RUN of the stage, or of the
// stages it is built FROM, switched pip's cache off in its configuration
// (pip config set global.no-cache-dir, a pip.conf written with no-cache-dir).
func (cr *cacheRun) pipConfigNoCache() bool {
	return cr.ranBefore(&runmodel.Cmd{}, func(x *runmodel.Cmd) bool {
		mentions, conf := false, runmodel.ManagerOf(x) == pipM && x.Arg(verbFrom(x, 0, nil)) == "config"
		for _, a := range x.Args {
			t, _ := a.Pattern()
			mentions = mentions || strings.Contains(t, "no-cache-dir")
			conf = conf || strings.Contains(t, "pip.conf")
		}
		for _, rd := range x.Redirs {
			t, _ := rd.Target.Pattern()
			conf = conf || strings.Contains(t, "pip.conf")
		}
		return mentions && conf
	})
}
