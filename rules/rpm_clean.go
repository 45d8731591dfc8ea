package rules

import (
	"slices"
	"strings"

	"github.com/dfopt/dfopt/rewrite"
	"mvdan.cc/sh/v3/syntax"
)

// RPMClean makes the RPM-family package managers run without asking and
// clean up after themselves in the RUN that filled their cache.
var RPMClean = &rewrite.Rule{
	Name:     "rpm-clean",
	Title:    "Run yum, dnf, microdnf, tdnf and zypper with -y and clean their cache in the same RUN",
	Kind:     rewrite.Safe,
	Hadolint: []string{"DL3030", "DL3032", "DL3034", "DL3036", "DL3038", "DL3040"},
	Doc: `A docker build has no terminal: yum, dnf or tdnf install (update,
remove, ...) without -y stops at "Is this ok [y/N]", reads no answer and fails;
zypper does the same without -n or -y. The rule adds -y right after the verb
(yum, dnf, microdnf, tdnf: unless -y, --assumeyes or --assumeno is there;
zypper install, remove, update, patch, dist-upgrade: unless -n,
--non-interactive, -y or --no-confirm is there), in every stage. microdnf
never asks; it accepts -y, which hadolint's DL3038 wants.

The package managers keep repository metadata, and sometimes packages, in
their cache: tens of megabytes in the layer. In stages whose files reach the
image (the last stage and the stages it is built FROM), a RUN that installs
gets, after all its commands, the clean-up for each tool it used:

    yum       yum clean all && rm -rf /var/cache/yum
    dnf       dnf clean all && rm -rf /var/cache/dnf
    microdnf  microdnf clean all && rm -rf /var/cache/yum
    tdnf      tdnf clean all && rm -rf /var/cache/tdnf
    zypper    zypper clean -a && rm -rf /var/cache/zypp

When the RUN, after its last install, erases packages with rpm -e or
removes the tool, python or rpm, the tool may no longer run: then only its
cache folders are removed (dnf's are /var/cache/dnf and /var/cache/libdnf5).

Nothing is appended when the RUN already cleans after its last install (a
clean, or an rm of the cache folder), has a cache or tmpfs mount on the cache
folder, installs into another root (--installroot, --root), or installs
inside if, ||, a pipe or a subshell, where the tool may not even exist; nor
when a later RUN of the stage, or of a stage built FROM it, runs the tool
with -C, --cacheonly or --no-refresh, which need the cache. Builder stages
keep their caches: their layers never ship.

With --cache-mounts the RUN gets BuildKit cache mounts instead of the
clean-up, with sharing=locked: /var/cache/yum (yum, microdnf), /var/cache/dnf
and /var/cache/libdnf5 (dnf 4 and dnf 5), /var/cache/tdnf, /var/cache/zypp.
hadolint 2.14 accepts the zypper and dnf forms (DL3036 looks for
/var/cache/zypp, DL3040 for /var/cache/libdnf5); its DL3032 accepts no mount
for yum (newer hadolint accepts /var/cache/yum), and its DL3040 wants
/var/cache/libdnf5 also for microdnf, which keeps its cache in /var/cache/yum.
Cache mounts need BuildKit.

Bad:

    RUN yum install httpd

Good:

    RUN yum install -y httpd \
        && yum clean all && rm -rf /var/cache/yum
`,
	Run: runRPMClean,
}

// rpmTool is what the rule knows of one package manager.
type rpmTool struct {
	clean     string   // the command that empties its cache
	rmDir     string   // the cache folder removed after it
	cacheDirs []string // where it may keep its cache (an rm or a mount of one counts as clean)
	dirs      []string // its own cache folders: the cache mounts --cache-mounts gives; removed alone when the tool may be gone
}

var rpmTools = map[string]rpmTool{
	"yum":      {"yum clean all", "/var/cache/yum", []string{"/var/cache/yum", "/var/cache/dnf"}, []string{"/var/cache/yum"}},
	"dnf":      {"dnf clean all", "/var/cache/dnf", []string{"/var/cache/dnf", "/var/cache/libdnf5", "/var/cache/yum"}, []string{"/var/cache/dnf", "/var/cache/libdnf5"}},
	"microdnf": {"microdnf clean all", "/var/cache/yum", []string{"/var/cache/yum"}, []string{"/var/cache/yum"}},
	"tdnf":     {"tdnf clean all", "/var/cache/tdnf", []string{"/var/cache/tdnf"}, []string{"/var/cache/tdnf"}},
	"zypper":   {"zypper clean -a", "/var/cache/zypp", []string{"/var/cache/zypp"}, []string{"/var/cache/zypp"}},
}

// rpmValueOptions are the options of yum, dnf, microdnf and tdnf that take
// the next word as their value.
var rpmValueOptions = map[string]bool{
	"-c": true, "--config": true, "-d": true, "--debuglevel": true, "-e": true,
	"--errorlevel": true, "-x": true, "--exclude": true, "--excludepkgs": true,
	"--enablerepo": true, "--disablerepo": true, "--repo": true, "--repoid": true,
	"--installroot": true, "--releasever": true, "--setopt": true,
	"--downloaddir": true, "--destdir": true, "--color": true, "--rpmverbosity": true,
	"-R": true, "--randomwait": true, "--disableplugin": true, "--enableplugin": true,
	"--forcearch": true, "--comment": true, "--repofrompath": true,
}

// zypperValueOptions are zypper's global options that take a value.
var zypperValueOptions = map[string]bool{
	"-c": true, "--config": true, "-D": true, "--reposd-dir": true, "-C": true,
	"--cache-dir": true, "--raw-cache-dir": true, "--solv-cache-dir": true,
	"--pkg-cache-dir": true, "-R": true, "--root": true, "--installroot": true,
	"-s": true, "--table-style": true, "-p": true, "--plus-repo": true,
	"--plus-content": true, "--userdata": true, "--releasever": true,
}

// Verbs that ask for confirmation (askVerbs) and verbs that fill the cache
// (cacheVerbs). "group" and "module" count with the subcommand after them.
var (
	rpmAskVerbs = wordSet("install", "groupinstall", "localinstall", "update", "upgrade",
		"reinstall", "downgrade", "remove", "erase", "autoremove", "distro-sync",
		"update-minimal", "upgrade-minimal", "swap")
	rpmSubAskVerbs = wordSet("install", "update", "upgrade", "remove", "erase",
		"enable", "disable", "reset", "switch-to")
	rpmCacheVerbs = wordSet("install", "groupinstall", "localinstall", "update", "upgrade",
		"reinstall", "downgrade", "distro-sync", "update-minimal", "upgrade-minimal",
		"swap", "makecache", "builddep")
	rpmSubCacheVerbs = wordSet("install", "update", "upgrade", "enable")

	zypperAskVerbs   = wordSet("install", "in", "remove", "rm", "update", "up", "patch", "dist-upgrade", "dup")
	zypperCacheVerbs = wordSet("install", "in", "update", "up", "patch", "dist-upgrade", "dup",
		"refresh", "ref", "source-install", "si", "install-new-recommends", "inr")
)

func wordSet(words ...string) map[string]bool {
	m := map[string]bool{}
	for _, w := range words {
		m[w] = true
	}
	return m
}

// rpmCall is one command of an RPM-family package manager.
type rpmCall struct {
	call    *syntax.CallExpr
	tool    string
	verbIdx int // the verb's index in call.Args; for group and module, the subcommand's
	verb    string
	sub     bool // verb is the subcommand of group or module
}

func rpmCalls(f *syntax.File) []rpmCall {
	var out []rpmCall
	for _, c := range runCommands(f) {
		if r, ok := readRPMCall(c); ok {
			out = append(out, r)
		}
	}
	return out
}

// readRPMCall reads a command of an RPM-family package manager.
func readRPMCall(c *syntax.CallExpr) (rpmCall, bool) {
	tool := baseName(c.Args[0].Lit())
	if _, ok := rpmTools[tool]; !ok {
		return rpmCall{}, false
	}
	valued := rpmValueOptions
	if tool == "zypper" {
		valued = zypperValueOptions
	}
	r := rpmCall{call: c, tool: tool, verbIdx: pkgVerbIndex(c, valued)}
	if r.verbIdx > 0 {
		r.verb = c.Args[r.verbIdx].Lit()
	}
	if tool != "zypper" && (r.verb == "group" || r.verb == "groups" || r.verb == "module") {
		r.verbIdx = nextOperand(c, r.verbIdx)
		r.verb, r.sub = "", true
		if r.verbIdx > 0 {
			r.verb = c.Args[r.verbIdx].Lit()
		}
	}
	return r, true
}

// nextOperand returns the index of the first word after i that is not an
// option, or -1.
func nextOperand(c *syntax.CallExpr, i int) int {
	for j := i + 1; j < len(c.Args); j++ {
		if w := c.Args[j].Lit(); w == "" {
			return -1
		} else if !strings.HasPrefix(w, "-") {
			return j
		}
	}
	return -1
}

// display names the command by its tool and verb, as in "dnf module enable".
func (r rpmCall) display() string {
	words := []string{r.tool}
	if r.sub {
		words = append(words, r.call.Args[pkgVerbIndex(r.call, rpmValueOptions)].Lit())
	}
	return strings.Join(append(words, r.verb), " ")
}

// asks tells whether the command stops for a confirmation when no answer is given.
func (r rpmCall) asks() bool {
	switch {
	case r.verbIdx < 0:
		return false
	case r.tool == "zypper":
		return zypperAskVerbs[r.verb] && !zypperAnswered(r)
	case r.sub:
		return rpmSubAskVerbs[r.verb] && !rpmAnswered(r.call)
	default:
		return rpmAskVerbs[r.verb] && !rpmAnswered(r.call)
	}
}

// fillsCache tells whether the command downloads metadata or packages into
// the tool's cache.
func (r rpmCall) fillsCache() bool {
	switch {
	case r.verbIdx < 0:
		return false
	case r.tool == "zypper":
		return zypperCacheVerbs[r.verb]
	case r.sub:
		return rpmSubCacheVerbs[r.verb]
	default:
		return rpmCacheVerbs[r.verb]
	}
}

// otherRoot tells whether the command works on another root, whose cache
// is elsewhere.
func (r rpmCall) otherRoot() bool {
	if r.tool == "zypper" {
		return hasWord(r.call, "-R", "--root", "--installroot")
	}
	return hasWord(r.call, "--installroot")
}

// cacheOnly tells whether the command works from the cache alone.
func (r rpmCall) cacheOnly() bool {
	if r.tool == "zypper" {
		return hasWord(r.call, "--no-refresh")
	}
	return hasWord(r.call, "-C", "--cacheonly") || hasShortFlag(r.call, 'C')
}

// cleans tells whether the command empties the cache of tool.
func (r rpmCall) cleans(tool string) bool {
	same := r.tool == tool || r.tool == "yum" && tool == "dnf" || r.tool == "dnf" && tool == "yum"
	return same && (r.verb == "clean" || r.tool == "zypper" && r.verb == "cc")
}

func rpmAnswered(c *syntax.CallExpr) bool {
	for _, a := range c.Args[1:] {
		if w := a.Lit(); w == "-y" || strings.Contains(w, "assumeyes") || strings.Contains(w, "assumeno") {
			return true
		}
	}
	return hasShortFlag(c, 'y')
}

func zypperAnswered(r rpmCall) bool {
	for i, a := range r.call.Args[1:] {
		w := a.Lit()
		if w == "--non-interactive" || w == "--no-confirm" || w == "-y" {
			return true
		}
		if i+1 < r.verbIdx && (w == "-n" || shortCluster(w) && strings.ContainsRune(w, 'n')) {
			return true // -n before the verb; after it, install's -n is --name
		}
		if i+1 > r.verbIdx && shortCluster(w) && strings.ContainsRune(w, 'y') {
			return true
		}
	}
	return false
}

// hasShortFlag tells whether a word of the call is a cluster of short
// options (-qy) holding flag.
func hasShortFlag(c *syntax.CallExpr, flag rune) bool {
	for _, a := range c.Args[1:] {
		if w := a.Lit(); shortCluster(w) && strings.ContainsRune(w[1:], flag) {
			return true
		}
	}
	return false
}

// shortCluster tells whether w is a group of one-letter options, like -qy.
func shortCluster(w string) bool {
	if len(w) < 2 || w[0] != '-' || w[1] == '-' {
		return false
	}
	for _, r := range w[1:] {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

func runRPMClean(p *rewrite.Pass) {
	d := p.Doc
	ship := d.Shipping()
	for _, st := range d.Stages {
		for _, in := range st.Instructions {
			if in.Keyword == "run" && in.Shell != nil {
				rpmCleanRun(p, st, in, ship[st])
			}
		}
	}
}

func rpmCleanRun(p *rewrite.Pass, st *rewrite.Stage, in *rewrite.Instruction, ships bool) {
	d := p.Doc
	f := in.Shell.File
	calls := rpmCalls(f)
	if len(calls) == 0 {
		return
	}
	var edits []rewrite.Edit
	var asked, micro []string // commands that stop at a prompt; microdnf ones, which never do
	for _, r := range calls {
		if !r.asks() {
			continue
		}
		edits = append(edits, insertAfter(in, r.call.Args[r.verbIdx].End(), " -y"))
		list := &asked
		if r.tool == "microdnf" {
			list = &micro
		}
		if s := r.display(); !slices.Contains(*list, s) {
			*list = append(*list, s)
		}
	}
	var msgs []string
	switch len(asked) {
	case 0:
	case 1:
		msgs = append(msgs, asked[0]+" without -y fails at its confirmation prompt: add -y")
	default:
		msgs = append(msgs, strings.Join(asked, " and ")+" without -y fail at their confirmation prompts: add -y")
	}
	if len(micro) > 0 {
		msgs = append(msgs, "add -y to "+strings.Join(micro, " and ")+" as hadolint's DL3038 asks (microdnf itself never prompts)")
	}
	if ships {
		if tools := rpmToClean(d, st, in, calls); len(tools) > 0 {
			if e, msg, ok := rpmCleanUp(p, in, tools); ok {
				edits = append(edits, e)
				msgs = append(msgs, msg)
			}
		}
	}
	if len(edits) == 0 {
		return
	}
	p.Report(rewrite.Finding{Line: in.StartLine, Message: strings.Join(msgs, "; "), Edits: edits})
}

// rpmToClean lists, in the order they first appear, the tools whose cache
// the RUN fills and leaves, where appending their clean-up keeps the RUN's
// meaning.
func rpmToClean(d *rewrite.Document, st *rewrite.Stage, in *rewrite.Instruction, calls []rpmCall) []rpmCleaning {
	f := in.Shell.File
	var tools []string
	for _, r := range calls {
		if r.fillsCache() && !slices.Contains(tools, r.tool) {
			tools = append(tools, r.tool)
		}
	}
	all := runCommands(f)
	var out []rpmCleaning
	for _, tool := range tools {
		last := -1
		skip := hasCacheMount(in, rpmTools[tool].cacheDirs...)
		for _, r := range calls {
			if r.tool != tool || !r.fillsCache() {
				continue
			}
			if r.otherRoot() || !unconditional(f, r.call) {
				skip = true
			}
			last = slices.Index(all, r.call)
		}
		if skip || rpmCleanedAfter(all[last+1:], tool) || rpmCacheNeededLater(d, st, in, tool) {
			continue
		}
		out = append(out, rpmCleaning{tool: tool, gone: rpmMayBeGone(all[last+1:], tool)})
	}
	return out
}

// rpmCleaning is a tool whose cache a RUN leaves.
type rpmCleaning struct {
	tool string
	gone bool // the RUN may have removed the tool (or what it runs on) after installing
}

// rpmMayBeGone tells whether one of the commands may remove the package
// manager itself or what it needs: rpm -e (often with --nodeps), or a remove
// of a package named after the tool, python, rpm or the libraries.
func rpmMayBeGone(cmds []*syntax.CallExpr, tool string) bool {
	for _, c := range cmds {
		if baseName(c.Args[0].Lit()) == "rpm" && (hasWord(c, "-e", "--erase") || hasShortFlag(c, 'e')) {
			return true
		}
		r, ok := readRPMCall(c)
		if !ok || r.verbIdx < 0 || !wordSet("remove", "erase", "rm")[r.verb] {
			continue
		}
		for _, w := range c.Args[r.verbIdx+1:] {
			lit := w.Lit()
			for _, name := range []string{tool, "python", "rpm", "dnf", "yum", "zypp"} {
				if lit == "" || strings.Contains(lit, name) {
					return true
				}
			}
		}
	}
	return false
}

// rpmCleanedAfter tells whether one of the commands cleans tool's cache.
func rpmCleanedAfter(cmds []*syntax.CallExpr, tool string) bool {
	for _, c := range cmds {
		if r, ok := readRPMCall(c); ok && r.cleans(tool) {
			return true
		}
		for _, dir := range rpmTools[tool].cacheDirs {
			if removesUnder(c, dir) {
				return true
			}
		}
	}
	return false
}

// rpmCacheNeededLater tells whether a later RUN of the stage, or of a stage
// built FROM it, runs tool from its cache alone.
func rpmCacheNeededLater(d *rewrite.Document, st *rewrite.Stage, in *rewrite.Instruction, tool string) bool {
	later := st.Instructions[slices.Index(st.Instructions, in)+1:]
	for _, s := range d.Descendants(st) {
		later = append(later, s.Instructions...)
	}
	for _, r := range later {
		if r.Keyword != "run" {
			continue
		}
		if r.Shell == nil {
			if strings.Contains(r.Line, tool) && (strings.Contains(r.Line, "-C") || strings.Contains(r.Line, "cacheonly") || strings.Contains(r.Line, "no-refresh")) {
				return true
			}
			continue
		}
		for _, c := range rpmCalls(r.Shell.File) {
			if c.tool == tool && c.cacheOnly() {
				return true
			}
		}
	}
	return false
}

// rpmCleanUp returns the edit that cleans the tools' caches after the RUN,
// or with --cache-mounts the one that gives it cache mounts.
func rpmCleanUp(p *rewrite.Pass, in *rewrite.Instruction, cleanings []rpmCleaning) (rewrite.Edit, string, bool) {
	d := p.Doc
	var tools []string
	for _, c := range cleanings {
		tools = append(tools, c.tool)
	}
	if p.Options.CacheMounts {
		var targets []string
		for _, t := range tools {
			for _, m := range rpmTools[t].dirs {
				if !slices.Contains(targets, m) {
					targets = append(targets, m)
				}
			}
		}
		busy := false // an rm of a mount point, or of a folder above it, would fail
		for _, c := range runCommands(in.Shell.File) {
			for _, t := range targets {
				busy = busy || removesAbove(c, t)
			}
		}
		if !busy {
			flags := make([]string, len(targets))
			for i, t := range targets {
				flags[i] = cacheMountFlag(t)
			}
			mounts := "a cache mount on "
			if len(targets) > 1 {
				mounts = "cache mounts on "
			}
			return addRunFlags(d, in, flags...),
				leavesCache(tools) + " in the layer: give the RUN " + mounts + strings.Join(targets, " and ") + " (BuildKit)", true
		}
	}
	var cmds, dirs []string
	for _, c := range cleanings {
		t := rpmTools[c.tool]
		rm := []string{t.rmDir}
		if c.gone {
			rm = t.dirs // without the tool's clean, its folders go whole
		} else {
			cmds = append(cmds, t.clean)
		}
		for _, dir := range rm {
			if !slices.Contains(dirs, dir) {
				dirs = append(dirs, dir)
			}
		}
	}
	cmd := strings.Join(append(cmds, "rm -rf "+strings.Join(dirs, " ")), " && ")
	e, ok := appendCommand(d, in, cmd)
	if !ok {
		return rewrite.Edit{}, "", false
	}
	return e, leavesCache(tools) + " in the layer: clean up in the same RUN", true
}

// leavesCache says that tools leave their caches.
func leavesCache(tools []string) string {
	if len(tools) == 1 {
		return tools[0] + " leaves its cache"
	}
	return strings.Join(tools, " and ") + " leave their caches"
}

// unconditional tells whether a command runs whenever the program gets to
// it: a statement of the top level, or a link of a top-level && chain.
func unconditional(f *syntax.File, call *syntax.CallExpr) bool {
	for _, s := range f.Stmts {
		if s.Background || s.Coprocess || s.Disown {
			continue
		}
		links, _ := andLinks(s)
		for _, l := range links {
			if l.Cmd == call {
				return !l.Negated && !l.Background
			}
		}
	}
	return false
}
