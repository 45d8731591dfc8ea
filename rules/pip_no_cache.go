package rules

import (
	"regexp"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"
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
conda clean) after the install; or a later RUN installs with uv or conda
--offline, from that cache. The conda clean-up is only appended after
installs that always run (not inside if, case, loops or a list with ||), and
only where conda can still be found at the end of the RUN.

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

// runPipNoCache reports, for each RUN of a shipping stage, what keeps the
// Python package managers' caches out of its layer.
func runPipNoCache(p *rewrite.Pass) {
	for _, cr := range cacheRuns(p.Doc) {
		var fix cacheFix
		for _, tc := range cr.calls {
			switch tc.name {
			case "uv":
				pipUv(p, cr, tc, &fix)
			case "poetry":
				pipPoetry(p, cr, tc, &fix)
			case "conda":
				pipConda(p.Doc, cr, tc, &fix)
			case "pipenv":
				pipPipenv(cr, tc, &fix)
			default:
				if i := pipInstallVerb(tc); i > 0 {
					pipInstall(p, cr, tc, i, &fix)
				}
			}
		}
		fix.report(p, cr)
	}
}

var (
	pipName    = regexp.MustCompile(`^pip[23]?(\.[0-9]+)?$`)
	pythonName = regexp.MustCompile(`^python[23]?(\.[0-9]+)?$`)
)

// pipInstallVerb returns the index of the install word of a pip install (pip,
// pip3, python -m pip, ...), or -1.
func pipInstallVerb(tc toolCall) int {
	start := 1
	switch {
	case pipName.MatchString(tc.name):
	case pythonName.MatchString(tc.name) && len(tc.args) > 3 && tc.arg(1) == "-m" && pipName.MatchString(tc.arg(2)):
		start = 3
	default:
		return -1
	}
	if i := tc.verbFrom(start, nil); i > 0 && tc.arg(i) == "install" {
		return i
	}
	return -1
}

var pipCache = cacheSpec{dirs: []string{"~/.cache/pip"}, env: []string{"PIP_CACHE_DIR", "XDG_CACHE_HOME/pip"}}

// pipInstall keeps a pip install's cache out: --no-cache-dir, or a cache mount.
func pipInstall(p *rewrite.Pass, cr *cacheRun, tc toolCall, verb int, fix *cacheFix) {
	if tc.has("--no-cache-dir", "--cache-dir", "--help", "-h", "--version", "-V") ||
		cr.envSet(tc, "PIP_NO_CACHE_DIR") || cr.pipConfigNoCache() ||
		cr.oldDistro(p.Doc) && !cr.ranBefore(tc, pipUpgrade) {
		return
	}
	locs := pipCache.locations(cr.env)
	if cr.mountCovers(locs) || cr.cleanedAfter(tc, locs, func(c toolCall) bool {
		return pipName.MatchString(c.name) && c.verbFrom(1, nil) > 0 && c.arg(c.verbFrom(1, nil)) == "cache" ||
			pythonName.MatchString(c.name) && slices.Contains(c.words(), "cache") && slices.Contains(c.words(), "pip")
	}) {
		return
	}
	if t := cr.mountTarget(p, pipCache); t != "" {
		fix.mount(t, "pip install keeps its download cache in the image: give the RUN a cache mount on "+t)
		return
	}
	fix.insert(insertAfter(cr.in, tc.args[verb].End(), " --no-cache-dir"),
		"pip install keeps its download cache in the image: add --no-cache-dir")
}

var uvCache = cacheSpec{dirs: []string{"~/.cache/uv"}, env: []string{"UV_CACHE_DIR", "UV_HOME/cache", "XDG_CACHE_HOME/uv"}}

// uvValueFlags are uv's global options that take a separate value.
var uvValueFlags = []string{"--directory", "--project", "--cache-dir", "--config-file", "--color", "--python", "-p"}

// pipUv keeps the cache of uv pip install, uv pip sync, uv sync and uv add
// out: --no-cache, or a cache mount.
func pipUv(p *rewrite.Pass, cr *cacheRun, tc toolCall, fix *cacheFix) {
	i := tc.verbFrom(1, uvValueFlags)
	if i < 0 {
		return
	}
	switch tc.arg(i) {
	case "pip":
		j := tc.verbFrom(i+1, uvValueFlags)
		if j < 0 || tc.arg(j) != "install" && tc.arg(j) != "sync" {
			return
		}
		i = j
	case "sync", "add":
	default:
		return
	}
	if tc.has("--no-cache", "--no-cache-dir", "-n", "--cache-dir", "--help", "-h") || cr.envSet(tc, "UV_NO_CACHE") ||
		cr.offlineLater(p.Doc, "uv") {
		return
	}
	locs := uvCache.locations(cr.env)
	if cr.mountCovers(locs) || cr.cleanedAfter(tc, locs, func(c toolCall) bool {
		j := c.verbFrom(1, uvValueFlags)
		return c.name == "uv" && j > 0 && c.arg(j) == "cache"
	}) {
		return
	}
	what := "uv " + strings.Join(tc.words()[1:i+1], " ")
	if t := cr.mountTarget(p, uvCache); t != "" {
		fix.mount(t, what+" keeps its download cache in the image: give the RUN a cache mount on "+t)
		return
	}
	fix.insert(insertAfter(cr.in, tc.args[i].End(), " --no-cache"),
		what+" keeps its download cache in the image: add --no-cache")
}

var poetryCache = cacheSpec{dirs: []string{"~/.cache/pypoetry"}, env: []string{"POETRY_CACHE_DIR", "XDG_CACHE_HOME/pypoetry"}}

var poetryValueFlags = []string{"--directory", "-C", "--project", "-P"}

// pipPoetry keeps the cache of poetry install, add, update and sync out:
// --no-cache, or a cache mount.
func pipPoetry(p *rewrite.Pass, cr *cacheRun, tc toolCall, fix *cacheFix) {
	i := tc.verbFrom(1, poetryValueFlags)
	switch tc.arg(i) {
	case "install", "add", "update", "sync":
	default:
		return
	}
	if tc.has("--no-cache", "--help", "-h") || oldPoetry(p.Doc) {
		return
	}
	locs := poetryCache.locations(cr.env)
	if cr.mountCovers(locs) || cr.cleanedAfter(tc, locs, func(c toolCall) bool {
		j := c.verbFrom(1, poetryValueFlags)
		return c.name == "poetry" && j > 0 && c.arg(j) == "cache"
	}) {
		return
	}
	what := "poetry " + tc.arg(i)
	if t := cr.mountTarget(p, poetryCache); t != "" {
		fix.mount(t, what+" keeps its download cache in the image: give the RUN a cache mount on "+t)
		return
	}
	fix.insert(insertAfter(cr.in, tc.args[i].End(), " --no-cache"),
		what+" keeps its download cache in the image: add --no-cache")
}

// poetryPin finds a poetry version pinned in the file: poetry==1.1.15,
// POETRY_VERSION=1.1.15, --version 1.1.15 after the installer.
var poetryPin = regexp.MustCompile(`(?i)(poetry[=@]=?|POETRY_VERSION[= ]+["']?|install-poetry.*--version[= ])v?([0-9]+)\.([0-9]+)`)

// oldPoetry tells whether the file pins a poetry older than 1.2, which has
// no --no-cache.
func oldPoetry(d *rewrite.Document) bool {
	for _, m := range poetryPin.FindAllStringSubmatch(string(d.Src), -1) {
		if m[2] == "0" || m[2] == "1" && len(m[3]) == 1 && m[3] < "2" {
			return true
		}
	}
	return false
}

// pipConda cleans what conda install, create, update and env create
// downloaded, at the end of the RUN.
func pipConda(doc *rewrite.Document, cr *cacheRun, tc toolCall, fix *cacheFix) {
	i := tc.verbFrom(1, []string{"-n", "--name", "-p", "--prefix", "-c", "--channel"})
	what := "conda " + tc.arg(i)
	switch tc.arg(i) {
	case "install", "create", "update", "upgrade":
	case "env":
		j := tc.verbFrom(i+1, nil)
		if tc.arg(j) != "create" && tc.arg(j) != "update" {
			return
		}
		what += " " + tc.arg(j)
	default:
		return
	}
	if tc.has("--help", "-h", "--dry-run", "-d") || cr.offlineLater(doc, "conda") {
		return
	}
	if cr.cleanedAfter(tc, nil, func(c toolCall) bool {
		switch c.name {
		case "conda", "mamba", "micromamba":
			return c.arg(c.verbFrom(1, nil)) == "clean"
		case "rm":
			return slices.ContainsFunc(c.words()[1:], func(w string) bool {
				return strings.HasSuffix(strings.TrimRight(w, "/*"), "/pkgs") || strings.Contains(w, "/pkgs/")
			})
		}
		return false
	}) || cr.mountOnPkgs() {
		return
	}
	fix.appendAfter(cr, tc, "clean -afy", what+" keeps the packages it downloaded in the image: run conda clean -afy after it")
}

// pipenvCaches are where pipenv install and sync keep what they download
// when they run as root: pipenv's own cache and pip's.
var pipenvCaches = []string{"/root/.cache/pipenv", "/root/.cache/pip"}

// pipPipenv removes pipenv's caches at the end of the RUN. pipenv has no flag
// that skips them, and pipenv --clear fails where a cache folder is missing,
// so the folders are removed directly; only as root, where they are known.
func pipPipenv(cr *cacheRun, tc toolCall, fix *cacheFix) {
	switch tc.arg(tc.verbFrom(1, nil)) {
	case "install", "sync":
	default:
		return
	}
	if !cr.root || tc.sudo || cr.cond[tc.call] || tc.has("--help", "-h") ||
		cr.envSet(tc, "PIPENV_CACHE_DIR") || cr.envSet(tc, "XDG_CACHE_HOME") || cr.mountCovers(pipenvCaches) {
		return
	}
	if cr.cleanedAfter(tc, pipenvCaches, func(toolCall) bool { return false }) {
		return
	}
	if _, background := shellEffects(cr.in.Shell.File); background {
		return
	}
	cmd := "rm -rf " + strings.Join(pipenvCaches, " ")
	if !slices.Contains(fix.appends, cmd) {
		fix.appends = append(fix.appends, cmd)
		fix.appMsgs = append(fix.appMsgs, "pipenv "+tc.arg(tc.verbFrom(1, nil))+" keeps its and pip's download caches in the image: remove them at the end of the RUN")
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
var oldDistroBase = regexp.MustCompile(`^(docker\.io/)?(library/)?(ubuntu:(1[0-4]\.(04|10)|lucid|precise|trusty)|debian:(6|7|8|squeeze|wheezy|jessie)|centos:(5|6|centos5|centos6))([.-].*)?$`)

// oldDistro tells whether the RUN's stages start from such a release.
func (cr *cacheRun) oldDistro(d *rewrite.Document) bool {
	return oldDistroBase.MatchString(strings.ToLower(chainRoot(d, cr.in.Stage).Base))
}

// pipUpgrade finds an upgrade of pip itself: pip install -U pip, get-pip.py,
// easy_install pip, ensurepip.
var pipUpgrade = regexp.MustCompile(`pip[0-9.]*\s+install[^\n&;|]*(-U|--upgrade)[^\n&;|]*\spip\b|get-pip|easy_install[^\n&;|]*\spip\b|ensurepip`)

// ranBefore tells whether an earlier RUN of the stages, or the RUN before
// the command, has text that re matches.
func (cr *cacheRun) ranBefore(tc toolCall, re *regexp.Regexp) bool {
	for _, in := range cr.before {
		if in.Keyword == "run" && re.MatchString(in.Line) {
			return true
		}
	}
	return re.MatchString(cr.in.Shell.Text[:min(int(tc.call.Pos().Offset()), len(cr.in.Shell.Text))])
}

// offlineLater tells whether a RUN after this one runs the tool with
// --offline, which installs from the very cache this RUN would drop.
func (cr *cacheRun) offlineLater(d *rewrite.Document, tool string) bool {
	after := false
	for _, in := range d.Instructions {
		if in == cr.in {
			after = true
			continue
		}
		if !after || in.Keyword != "run" || !strings.Contains(in.Line, "--offline") {
			continue
		}
		for _, w := range strings.Fields(in.Line) {
			if baseName(w) == tool {
				return true
			}
		}
	}
	return false
}

// pipConfigNoCache tells whether an earlier RUN of the stage, or of the
// stages it is built FROM, switched pip's cache off in its configuration
// (pip config set global.no-cache-dir, a pip.conf written with no-cache-dir).
func (cr *cacheRun) pipConfigNoCache() bool {
	for _, in := range cr.before {
		if in.Keyword == "run" && strings.Contains(in.Line, "no-cache-dir") &&
			(strings.Contains(in.Line, "pip.conf") || strings.Contains(in.Line, " config ")) {
			return true
		}
	}
	return false
}

// The helpers below are shared by the cache rules (pip-no-cache, node-cache,
// go-clean): what a RUN of a shipping stage sees (its environment, its user,
// its cache mounts), the package managers it calls, and the edits that keep
// their caches out of the image.

// cacheRun is one shell-form RUN of a stage whose files reach the image.
type cacheRun struct {
	in     *rewrite.Instruction
	before []*rewrite.Instruction // what runs before it: its stage's and its parent stages' instructions
	env    map[string]string      // names set by ENV (here or in a parent stage) or ARG (here) before it, values as written
	root   bool                   // it runs as root
	mounts []string               // targets of its type=cache mounts
	calls  []toolCall             // its simple commands, in source order
	nested map[*syntax.CallExpr]bool
	cond   map[*syntax.CallExpr]bool
}

// cacheRuns lists the RUNs of the stages that ship whose shell program dfopt
// could read.
func cacheRuns(d *rewrite.Document) []*cacheRun {
	ship := d.Shipping()
	var out []*cacheRun
	for _, st := range d.Stages {
		if !ship[st] {
			continue
		}
		for _, in := range st.Instructions {
			if in.Keyword != "run" || in.Shell == nil {
				continue
			}
			out = append(out, newCacheRun(d, in))
		}
	}
	return out
}

// newCacheRun reads what a RUN sees and runs.
func newCacheRun(d *rewrite.Document, in *rewrite.Instruction) *cacheRun {
	cr := &cacheRun{in: in, env: map[string]string{}, root: true}
	cr.before = instructionsBefore(d, in)
	for _, b := range cr.before {
		switch c := b.Command.(type) {
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				cr.env[kv.Key] = kv.Value
			}
		case *instructions.ArgCommand:
			if b.Stage != in.Stage {
				continue // an ARG's scope ends with its stage
			}
			for _, kv := range c.Args {
				v := ""
				if kv.Value != nil {
					v = *kv.Value
				}
				cr.env[kv.Key] = v
			}
		case *instructions.UserCommand:
			u := strings.ToLower(c.User)
			cr.root = u == "root" || u == "0" || strings.HasPrefix(u, "root:") || strings.HasPrefix(u, "0:")
		}
	}
	for _, t := range cacheMountTargets(in) {
		cr.mounts = append(cr.mounts, cr.norm(t))
	}
	f := in.Shell.File
	for _, c := range runCommands(f) {
		if tc, ok := newToolCall(c); ok {
			cr.calls = append(cr.calls, tc)
		}
	}
	slices.SortStableFunc(cr.calls, func(a, b toolCall) int { return int(a.call.Pos().Offset()) - int(b.call.Pos().Offset()) })
	cr.nested, cr.cond = callPlaces(f)
	return cr
}

// cacheMountTargets returns the targets of a RUN's --mount=type=cache flags,
// as written (buildkit's parser leaves them empty until it expands them).
func cacheMountTargets(in *rewrite.Instruction) []string {
	var out []string
	for _, flag := range in.Node.Flags {
		val, ok := strings.CutPrefix(flag, "--mount=")
		if !ok {
			continue
		}
		if typ, target, ok := parseMount(val); ok && typ == "cache" && target != "" {
			out = append(out, target)
		}
	}
	return out
}

// instructionsBefore lists the instructions that come before in, in its
// stage and in the stages it is built FROM, oldest first.
func instructionsBefore(d *rewrite.Document, in *rewrite.Instruction) []*rewrite.Instruction {
	var chain []*rewrite.Stage
	for s := d.Parent(in.Stage); s != nil && !slices.Contains(chain, s); s = d.Parent(s) {
		chain = append(chain, s)
	}
	var out []*rewrite.Instruction
	for i := len(chain) - 1; i >= 0; i-- {
		out = append(out, chain[i].Instructions...)
	}
	for _, b := range in.Stage.Instructions {
		if b == in {
			break
		}
		out = append(out, b)
	}
	return out
}

// chainRoot returns the first stage of the chain a stage is built FROM.
func chainRoot(d *rewrite.Document, s *rewrite.Stage) *rewrite.Stage {
	seen := map[*rewrite.Stage]bool{}
	for p := d.Parent(s); p != nil && !seen[p]; p = d.Parent(p) {
		seen[p] = true
		s = p
	}
	return s
}

// officialImage tells whether a FROM reference names the Docker official
// image repo (ruby, golang, ...), from Docker Hub or a mirror of it.
func officialImage(ref, repo string) bool {
	ref = strings.ToLower(ref)
	if i := strings.IndexAny(ref, ":@"); i >= 0 {
		ref = ref[:i]
	}
	return ref == repo || strings.HasSuffix(ref, "/library/"+repo) || ref == "docker.io/"+repo
}

// envSet tells whether a variable is set for a command: by ENV or ARG
// before the RUN, by an assignment or export anywhere in the RUN, or by
// env NAME=... in front of the command.
func (cr *cacheRun) envSet(tc toolCall, name string) bool {
	_, ok := cr.env[name]
	return ok || slices.Contains(tc.assigns, name) || cr.assignedInRun(name)
}

// norm spells a path the way the cache rules compare them: "~/" for the
// home directory (also $HOME and, for root, /root), no trailing slash, cut
// at the first glob character.
func (cr *cacheRun) norm(p string) string {
	for _, home := range []string{"$HOME", "${HOME}"} {
		if p == home || strings.HasPrefix(p, home+"/") {
			p = "~" + p[len(home):]
		}
	}
	if cr.root && (p == "/root" || strings.HasPrefix(p, "/root/")) {
		p = "~" + p[len("/root"):]
	}
	return literalPrefix(p)
}

// cacheSpec says where a tool keeps its cache: dirs by default ("~/" is the
// home directory), or where one of the env variables points (NAME/sub: the
// folder sub inside the variable's value).
type cacheSpec struct {
	dirs []string
	env  []string
}

// locations returns where the cache is for a RUN with env: the folder a
// variable names (and "$NAME" itself, as an rm might spell it), else dirs.
// A value that uses other variables is not known: only "$NAME" is returned.
func (s cacheSpec) locations(env map[string]string) []string {
	for _, e := range s.env {
		name, sub, _ := strings.Cut(e, "/")
		v := env[name]
		if v == "" {
			continue
		}
		loc, sym := strings.TrimRight(v, "/"), "$"+name
		if sub != "" {
			loc += "/" + sub
			sym += "/" + sub
		}
		if strings.Contains(strings.TrimPrefix(strings.TrimPrefix(v, "${HOME}"), "$HOME"), "$") {
			return []string{sym}
		}
		return []string{loc, sym}
	}
	return s.dirs
}

// mountCovers tells whether a cache mount of the RUN lies over, or inside,
// one of the locations: the author keeps that cache out of the image.
func (cr *cacheRun) mountCovers(locs []string) bool {
	for _, t := range cr.mounts {
		for _, l := range locs {
			l = cr.norm(l)
			if pathCovers(t, l) || pathCovers(l, t) {
				return true
			}
		}
	}
	return false
}

// pathCovers tells whether removing, or mounting over, outer takes in inner.
// A path in an unknown home ("~/x" when the RUN is not root) matches an
// absolute path that ends with the same folders.
func pathCovers(outer, inner string) bool {
	if outer == "" || inner == "" || outer == "/" || outer == "." {
		return false
	}
	if outer == inner || strings.HasPrefix(inner, outer+"/") {
		return true
	}
	rel, ok := strings.CutPrefix(inner, "~/")
	if !ok || !strings.HasPrefix(outer, "/") {
		return false
	}
	for i := 0; i <= len(rel); i++ {
		if (i == len(rel) || rel[i] == '/') && strings.HasSuffix(outer, "/"+rel[:i]) {
			return true
		}
	}
	return false
}

// cleanedAfter tells whether the RUN removes the cache after the command:
// an rm of one of the locations (or of a folder in it), or a command clean
// accepts.
func (cr *cacheRun) cleanedAfter(tc toolCall, locs []string, clean func(toolCall) bool) bool {
	after := tc.call.End().Offset()
	for _, c := range cr.calls {
		if c.call.Pos().Offset() < after {
			continue
		}
		if clean(c) {
			return true
		}
		if c.name != "rm" {
			continue
		}
		for _, w := range c.args[1:] {
			op, ok := wordText(w)
			if !ok || strings.HasPrefix(op, "-") {
				continue
			}
			for _, l := range locs {
				// Removing a folder inside the cache counts too: the
				// author cleans it as they see fit.
				if o, l := cr.norm(op), cr.norm(l); pathCovers(o, l) || strings.HasPrefix(o, l+"/") {
					return true
				}
			}
		}
	}
	return false
}

// mountTarget returns the cache mount target to give the RUN instead of a
// flag or a clean-up, when --cache-mounts asks for them and the RUN runs as
// root (a cache mount belongs to root, and ~ is /root only for root); "" when
// the cache should be dealt with in the image instead.
func (cr *cacheRun) mountTarget(p *rewrite.Pass, s cacheSpec) string {
	if !p.Options.CacheMounts || !cr.root {
		return ""
	}
	loc := s.locations(cr.env)[0]
	switch {
	case strings.HasPrefix(loc, "~/"):
		return "/root" + loc[1:]
	case strings.HasPrefix(loc, "$HOME/"):
		return "/root" + loc[len("$HOME"):]
	case strings.HasPrefix(loc, "${HOME}/"):
		return "/root" + loc[len("${HOME}"):]
	case strings.HasPrefix(loc, "/") && !strings.ContainsAny(loc, "$*?[ ,\"'"):
		return loc
	}
	return ""
}

// toolCall is one simple command of a RUN, seen through env and sudo.
type toolCall struct {
	call    *syntax.CallExpr
	args    []*syntax.Word // the command word and its arguments, wrappers dropped
	name    string         // base name of the command
	assigns []string       // variables set for it (NAME=v cmd, env NAME=v cmd)
	sudo    bool
}

// newToolCall reads a simple command through the env and sudo in front of
// it; ok is false when its name is not plain text.
func newToolCall(c *syntax.CallExpr) (toolCall, bool) {
	tc := toolCall{call: c, args: c.Args}
	for _, a := range c.Assigns {
		if a.Name != nil {
			tc.assigns = append(tc.assigns, a.Name.Value)
		}
	}
	for len(tc.args) > 0 {
		w, _ := wordText(tc.args[0])
		switch baseName(w) {
		case "env":
			tc.args = tc.args[1:]
			for len(tc.args) > 0 {
				a, _ := wordText(tc.args[0])
				if name, _, ok := strings.Cut(a, "="); ok && name != "" && !strings.HasPrefix(a, "-") {
					tc.assigns = append(tc.assigns, name)
				} else if !strings.HasPrefix(a, "-") {
					break
				}
				tc.args = tc.args[1:]
				if (a == "-u" || a == "--unset" || a == "-C" || a == "--chdir") && len(tc.args) > 0 {
					tc.args = tc.args[1:]
				}
			}
			continue
		case "sudo":
			tc.sudo = true
			tc.args = tc.args[1:]
			for len(tc.args) > 0 {
				a, _ := wordText(tc.args[0])
				if !strings.HasPrefix(a, "-") {
					break
				}
				tc.args = tc.args[1:]
				if (a == "-u" || a == "-g") && len(tc.args) > 0 {
					tc.args = tc.args[1:]
				}
			}
			continue
		}
		break
	}
	if len(tc.args) == 0 {
		return tc, false
	}
	w, ok := wordText(tc.args[0])
	if !ok || strings.Contains(w, "$") {
		return tc, false
	}
	tc.name = baseName(w)
	return tc, true
}

// arg returns the i-th word as text ("" if it is not plain text or absent).
func (tc toolCall) arg(i int) string {
	if i < 0 || i >= len(tc.args) {
		return ""
	}
	s, _ := wordText(tc.args[i])
	return s
}

// words returns every word as text.
func (tc toolCall) words() []string {
	out := make([]string, len(tc.args))
	for i := range tc.args {
		out[i] = tc.arg(i)
	}
	return out
}

// verbFrom returns the index of the first word from start on that is not a
// flag (nor the value of one of valueFlags), or -1.
func (tc toolCall) verbFrom(start int, valueFlags []string) int {
	for i := start; i < len(tc.args); i++ {
		w := tc.arg(i)
		switch {
		case w == "":
			return -1 // a word dfopt cannot read
		case slices.Contains(valueFlags, w):
			i++
		case !strings.HasPrefix(w, "-"):
			return i
		}
	}
	return -1
}

// has tells whether any argument is one of the flags (or flag=value).
func (tc toolCall) has(flags ...string) bool {
	for _, w := range tc.words()[1:] {
		for _, f := range flags {
			if w == f || strings.HasPrefix(w, f+"=") {
				return true
			}
		}
	}
	return false
}

// wordText returns a word as the shell reads it when it holds only literal
// text, quotes and plain parameter expansions (kept as $NAME); ok is false
// for anything else.
func wordText(w *syntax.Word) (string, bool) {
	var b strings.Builder
	var part func(p syntax.WordPart) bool
	part = func(p syntax.WordPart) bool {
		switch p := p.(type) {
		case *syntax.Lit:
			b.WriteString(p.Value)
		case *syntax.SglQuoted:
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				if !part(q) {
					return false
				}
			}
		case *syntax.ParamExp:
			if p.Param == nil || p.Exp != nil || p.Slice != nil || p.Repl != nil || p.Index != nil || p.Length || p.Excl || p.Width {
				return false
			}
			b.WriteString("$" + p.Param.Value)
		default:
			return false
		}
		return true
	}
	for _, p := range w.Parts {
		if !part(p) {
			return "", false
		}
	}
	return b.String(), true
}

// callPlaces tells, for each simple command of a program, whether it runs in
// a shell of its own or a function (nested), and whether it may not run at
// all although the program goes on (cond: inside if, case, a loop, a
// function, or a list with ||).
func callPlaces(f *syntax.File) (nested, cond map[*syntax.CallExpr]bool) {
	nested, cond = map[*syntax.CallExpr]bool{}, map[*syntax.CallExpr]bool{}
	var walk func(n syntax.Node, isNested, isCond bool)
	walk = func(n syntax.Node, isNested, isCond bool) {
		syntax.Walk(n, func(m syntax.Node) bool {
			if m == n {
				switch c := m.(type) {
				case *syntax.CallExpr:
					nested[c], cond[c] = isNested, isCond
				}
				return true
			}
			switch c := m.(type) {
			case *syntax.Subshell, *syntax.CmdSubst, *syntax.ProcSubst:
				walk(c, true, isCond)
				return false
			case *syntax.FuncDecl:
				walk(c, true, true)
				return false
			case *syntax.IfClause, *syntax.CaseClause, *syntax.WhileClause, *syntax.ForClause:
				walk(c, isNested, true)
				return false
			case *syntax.BinaryCmd:
				if c.Op == syntax.OrStmt {
					// a && b || c: b may be skipped, and so may c.
					walk(c.X, isNested, true)
					walk(c.Y, isNested, true)
					return false
				}
			case *syntax.CallExpr:
				nested[c], cond[c] = isNested, isCond
			}
			return true
		})
	}
	walk(f, false, false)
	return nested, cond
}

// changesPath tells whether the program changes PATH or reads a file into
// its shell (source, ., nvm), after which a command it ran in a shell of its
// own may not be found by the same name at its end.
func changesPath(cr *cacheRun) bool {
	if cr.assignedInRun("PATH") {
		return true
	}
	for _, c := range cr.calls {
		if c.name == "source" || c.name == "." || c.name == "nvm" || c.name == "conda" && c.arg(1) == "activate" {
			return true
		}
	}
	return false
}

// assignedInRun tells whether the program assigns or exports the variable
// anywhere.
func (cr *cacheRun) assignedInRun(name string) bool {
	set := false
	syntax.Walk(cr.in.Shell.File, func(n syntax.Node) bool {
		if a, ok := n.(*syntax.Assign); ok && a.Name != nil && a.Name.Value == name {
			set = true
		}
		return !set
	})
	return set
}

// toolPackages names, for each command a clean-up runs, the packages and
// files that provide it.
var toolPackages = map[string][]string{
	"npm":   {"npm", "nodejs", "node"},
	"yarn":  {"yarn", "nodejs", "node"},
	"pnpm":  {"pnpm", "nodejs", "node"},
	"conda": {"conda", "miniconda", "miniconda3", "anaconda", "anaconda3", "miniforge3"},
	"go":    {"go", "golang"},
}

var removeWords = map[string]bool{
	"remove": true, "purge": true, "del": true, "erase": true, "uninstall": true,
	"rm": true, "un": true, "r": true, "unlink": true,
}

// toolRemovedAfter tells whether the RUN takes away the command of tc after
// it ran: a package manager removing its package (apt-get purge nodejs, apk
// del go), or rm of its folder or program (rm -rf /usr/local/go).
func (cr *cacheRun) toolRemovedAfter(tc toolCall) bool {
	names := toolPackages[tc.name]
	named := func(w string) bool {
		for _, n := range names {
			if w == n || strings.HasPrefix(w, n+"-") || strings.HasPrefix(w, n+"=") || strings.HasPrefix(w, n+"@") {
				return true
			}
		}
		return false
	}
	after := tc.call.End().Offset()
	for _, c := range cr.calls {
		if c.call.Pos().Offset() < after {
			continue
		}
		words := c.words()
		if c.name == "rm" || c.name == "unlink" {
			for _, w := range words[1:] {
				if !strings.HasPrefix(w, "-") && slices.Contains(names, baseName(strings.TrimRight(w, "/"))) {
					return true
				}
			}
			continue
		}
		i := c.verbFrom(1, nil)
		if i < 0 || !removeWords[words[i]] {
			continue
		}
		if slices.ContainsFunc(words[i+1:], named) {
			return true
		}
	}
	return false
}

// cacheFix collects what the cache rules change in one RUN; report turns it
// into one finding.
type cacheFix struct {
	edits   []rewrite.Edit
	appends []string // commands to run at the end of the RUN
	mounts  []string // cache mount targets to add
	msgs    []string
	appMsgs []string // the messages of the appended commands
}

func (f *cacheFix) insert(e rewrite.Edit, msg string) {
	f.edits = append(f.edits, e)
	f.note(&f.msgs, msg)
}

func (f *cacheFix) mount(target, msg string) {
	if !slices.Contains(f.mounts, target) {
		f.mounts = append(f.mounts, target)
	}
	f.note(&f.msgs, msg)
}

// appendAfter runs "<command word of tc> sub" at the end of the RUN, when tc
// always runs and its command can be found there by the same name.
func (f *cacheFix) appendAfter(cr *cacheRun, tc toolCall, sub, msg string) {
	w, ok := wordText(tc.args[0])
	if _, background := shellEffects(cr.in.Shell.File); background {
		return // a job still running could be using the cache
	}
	if cr.toolRemovedAfter(tc) {
		return // the clean-up would not find its command any more
	}
	if !ok || tc.sudo || cr.cond[tc.call] || strings.ContainsAny(w, "$`\"' \t") ||
		strings.Contains(w, "/") && !strings.HasPrefix(w, "/") ||
		cr.nested[tc.call] && !strings.HasPrefix(w, "/") && changesPath(cr) {
		return
	}
	cmd := w + " " + sub
	if !slices.Contains(f.appends, cmd) {
		f.appends = append(f.appends, cmd)
	}
	// One clean-up, one message: the first command that needs it names it.
	_, fixText, _ := strings.Cut(msg, ": ")
	for _, m := range f.appMsgs {
		if strings.HasSuffix(m, ": "+fixText) {
			return
		}
	}
	f.appMsgs = append(f.appMsgs, msg)
}

func (f *cacheFix) note(list *[]string, msg string) {
	if !slices.Contains(*list, msg) {
		*list = append(*list, msg)
	}
}

// report makes one finding of what f collected for the RUN.
func (f *cacheFix) report(p *rewrite.Pass, cr *cacheRun) {
	edits, msgs := f.edits, f.msgs
	if len(f.appends) > 0 {
		esc := string(p.Doc.Escape)
		if e, ok := appendCommand(p.Doc, cr.in, strings.Join(f.appends, " "+esc+"\n    && ")); ok {
			edits = append(edits, e)
			msgs = append(msgs, f.appMsgs...)
		}
	}
	if len(f.mounts) > 0 {
		flags := make([]string, len(f.mounts))
		for i, t := range f.mounts {
			flags[i] = "--mount=type=cache,target=" + t
		}
		edits = append(edits, addRunFlags(p.Doc, cr.in, flags...))
	}
	if len(edits) == 0 {
		return
	}
	p.Report(rewrite.Finding{
		Line:    cr.in.StartLine,
		Message: strings.Join(msgs, "; "),
		Edits:   coalesceEdits(edits),
	})
}

// coalesceEdits joins insertions at the same place into one, in the order
// they were made, so that the pipeline's sort cannot swap them.
func coalesceEdits(edits []rewrite.Edit) []rewrite.Edit {
	var out []rewrite.Edit
	for _, e := range edits {
		joined := false
		for i := range out {
			if out[i].Start == e.Start && out[i].End == e.Start && e.End == e.Start {
				out[i].New += e.New
				joined = true
				break
			}
		}
		if !joined {
			out = append(out, e)
		}
	}
	return out
}
