package rules

import (
	"slices"
	"strings"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
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
with -C, --cacheonly or --no-refresh, which need the cache. When the only
later step that may read the cache is one dfopt cannot see through (a
script, a program it does not know), the clean-up is a proposal that names
it. Builder stages
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

// rpmManagers are the table's RPM-family package managers.
var rpmManagers = []*runmodel.Manager{
	runmodel.ManagerNamed("yum"), runmodel.ManagerNamed("dnf"), runmodel.ManagerNamed("microdnf"),
	runmodel.ManagerNamed("tdnf"), runmodel.ManagerNamed("zypper"),
}

// Verbs of group and module that ask for confirmation (rpmSubAskVerbs) and
// that fill the cache (rpmSubCacheVerbs).
var (
	rpmSubAskVerbs   = wordSet("install", "update", "upgrade", "remove", "erase", "enable", "disable", "reset", "switch-to")
	rpmSubCacheVerbs = wordSet("install", "update", "upgrade", "enable")
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
	runmodel.Call
	verbAt int // the verb's index in Args; for group and module, the subcommand's
	verb   string
	sub    bool // verb is the subcommand of group or module
}

// rpmCalls lists the RUN's commands of the RPM-family managers.
func rpmCalls(r *runmodel.Run) []rpmCall {
	var out []rpmCall
	for _, c := range r.Cmds {
		if c.Opaque {
			continue
		}
		if k, ok := readRPMCall(c); ok {
			out = append(out, k)
		}
	}
	return out
}

// readRPMCall reads a command of an RPM-family package manager.
func readRPMCall(c *runmodel.Cmd) (rpmCall, bool) {
	m := runmodel.ManagerOf(c)
	if !slices.Contains(rpmManagers, m) {
		return rpmCall{}, false
	}
	k := m.Read(c)
	r := rpmCall{Call: k, verbAt: k.VerbAt, verb: k.Verb}
	if m.Name != "zypper" && (r.verb == "group" || r.verb == "groups" || r.verb == "module") {
		r.verbAt = k.Next(k.VerbAt)
		r.verb, r.sub = k.Arg(r.verbAt), true
	}
	return r, true
}

// display names the command by its tool and verb, as in "dnf module enable".
func (r rpmCall) display() string {
	words := []string{r.Name}
	if r.sub {
		words = append(words, r.Verb)
	}
	return strings.Join(append(words, r.verb), " ")
}

// asks tells whether the command stops for a confirmation when no answer is given.
func (r rpmCall) asks() bool {
	switch {
	case r.verbAt < 0:
		return false
	case r.M.Name == "zypper":
		return slices.Contains(r.M.Prompt, r.verb) && !zypperAnswered(r)
	case r.sub:
		return rpmSubAskVerbs[r.verb] && !r.Answered()
	default:
		return slices.Contains(r.M.Prompt, r.verb) && !r.Answered()
	}
}

// fillsCache tells whether the command downloads metadata or packages into
// the tool's cache.
func (r rpmCall) fillsCache() bool {
	switch {
	case r.verbAt < 0:
		return false
	case r.sub:
		return rpmSubCacheVerbs[r.verb]
	}
	return slices.Contains(r.M.Install, r.verb) || slices.Contains(r.M.Refresh, r.verb)
}

// otherRoot tells whether the command works on another root, whose cache
// is elsewhere.
func (r rpmCall) otherRoot() bool {
	if r.M.Name == "zypper" {
		return r.HasFlag("-R", "--root", "--installroot")
	}
	return r.HasFlag("--installroot")
}

// cacheOnly tells whether the command works from the cache alone.
func (r rpmCall) cacheOnly() bool {
	return r.HasFlag(r.M.OfflineFlags...) || r.M.Name != "zypper" && r.HasShort('C')
}

// cleans tells whether the command empties the cache of manager m.
func (r rpmCall) cleans(m *runmodel.Manager) bool {
	same := r.M == m || r.M.Name == "yum" && m.Name == "dnf" || r.M.Name == "dnf" && m.Name == "yum"
	return same && (r.verb == "clean" || r.M.Name == "zypper" && r.verb == "cc")
}

// zypperAnswered tells whether zypper runs without asking: -n before the
// verb (after it, install's -n is --name), -y after it.
func zypperAnswered(r rpmCall) bool {
	for i, a := range r.Args {
		w, ok := a.Value()
		if !ok {
			continue
		}
		if w == "--non-interactive" || w == "--no-confirm" || w == "-y" {
			return true
		}
		if i < r.verbAt && (w == "-n" || isShortCluster(w) && strings.ContainsRune(w, 'n')) {
			return true
		}
		if i > r.verbAt && isShortCluster(w) && strings.ContainsRune(w, 'y') {
			return true
		}
	}
	return false
}

// isShortCluster tells whether w is a group of one-letter options, like -qy.
func isShortCluster(w string) bool {
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
	m := runmodel.Of(d)
	ship := d.Shipping()
	for _, st := range d.Stages {
		for _, in := range st.Instructions {
			if in.Keyword == "run" && in.Shell != nil {
				rpmCleanRun(p, m, m.Run(in), ship[st])
			}
		}
	}
}

func rpmCleanRun(p *rewrite.Pass, m *runmodel.Model, r *runmodel.Run, ships bool) {
	calls := rpmCalls(r)
	if len(calls) == 0 {
		return
	}
	var edits, yes []rewrite.Edit
	var asked, micro []string // commands that stop at a prompt; microdnf ones, which never do
	for _, k := range calls {
		if !k.asks() {
			continue
		}
		e, ok := insertAfterArg(r.In, k.Cmd, k.verbAt, " -y")
		if !ok {
			continue
		}
		list := &asked
		if k.M.Name == "microdnf" {
			list = &micro
			edits = append(edits, e)
		} else {
			yes = append(yes, e)
		}
		if s := k.display(); !slices.Contains(*list, s) {
			*list = append(*list, s)
		}
	}
	// -y changes whether the build fails (it stops at the prompt without
	// it): a proposal.
	switch len(asked) {
	case 0:
	case 1:
		p.Report(rewrite.Finding{Line: r.In.StartLine, Proposal: true, Edits: yes,
			Message: asked[0] + " without -y fails at its confirmation prompt: add -y (proposal: the build then goes on)"})
	default:
		p.Report(rewrite.Finding{Line: r.In.StartLine, Proposal: true, Edits: yes,
			Message: strings.Join(asked, " and ") + " without -y fail at their confirmation prompts: add -y (proposal: the build then goes on)"})
	}
	var msgs []string
	if len(micro) > 0 {
		msgs = append(msgs, "add -y to "+strings.Join(micro, " and ")+" as hadolint's DL3038 asks (microdnf itself never prompts)")
	}
	if ships {
		sure, held, why := rpmToClean(p, m, r, calls)
		if len(sure) > 0 {
			if e, msg, ok := rpmCleanUp(p, r, sure); ok {
				edits = append(edits, e)
				msgs = append(msgs, msg)
			}
		}
		if len(held) > 0 {
			if e, msg, ok := rpmCleanUp(p, r, held); ok {
				p.Report(rewrite.Finding{Line: r.In.StartLine, Proposal: true, Edits: []rewrite.Edit{e},
					Message: msg + " (proposal: " + strings.Join(why, "; ") + ")"})
			}
		}
	}
	if len(edits) == 0 {
		return
	}
	p.Report(rewrite.Finding{Line: r.In.StartLine, Message: strings.Join(msgs, "; "), Edits: edits})
}

// rpmCleaning is a manager whose cache a RUN leaves.
type rpmCleaning struct {
	m    *runmodel.Manager
	tool string // the program the RUN runs it as (dnf, dnf5, ...)
	gone bool   // the RUN may have removed the tool (or what it runs on) after installing
}

// rpmToClean lists, in the order they first appear, the managers whose cache
// the RUN fills and leaves, where appending their clean-up keeps the RUN's
// meaning (sure), and those where only a later step the model cannot see
// through may read the cache (held, a proposal for the reasons in why).
func rpmToClean(p *rewrite.Pass, m *runmodel.Model, r *runmodel.Run, calls []rpmCall) (sure, held []rpmCleaning, why []string) {
	var mgrs []*runmodel.Manager
	for _, k := range calls {
		if k.fillsCache() && !slices.Contains(mgrs, k.M) {
			mgrs = append(mgrs, k.M)
		}
	}
	for _, mgr := range mgrs {
		var last *runmodel.Cmd
		skip := hasCacheMount(r, cacheDirs(mgr, true)...)
		for _, k := range calls {
			if k.M != mgr || !k.fillsCache() {
				continue
			}
			if k.otherRoot() || k.Cond || k.FailOK || k.Background {
				skip = true
			}
			last = k.Cmd
		}
		if skip || rpmCleanedAfter(r, last, mgr) {
			continue
		}
		c := rpmCleaning{m: mgr, tool: last.Name, gone: rpmMayBeGone(r, last, mgr)}
		switch rd := rpmCacheReadLater(m, r.In, mgr); {
		case rd == nil:
			sure = append(sure, c)
		case rd.Unseen:
			held = append(held, c)
			why = appendOnce(why, readerWhy(p, rd))
		}
	}
	return sure, held, why
}

// cacheDirs lists a manager's cache folders: all, or (own false) only its
// own, not those of another tool it may fill too.
func cacheDirs(m *runmodel.Manager, all bool) []string {
	var out []string
	for _, c := range m.Caches {
		if all || !c.Shared {
			out = append(out, c.Dir)
		}
	}
	return out
}

// after lists the RUN's commands that come after c.
func after(r *runmodel.Run, c *runmodel.Cmd) []*runmodel.Cmd {
	var out []*runmodel.Cmd
	for _, x := range r.Cmds {
		if runmodel.Before(c, x) {
			out = append(out, x)
		}
	}
	return out
}

// rpmMayBeGone tells whether a command after last may remove the package
// manager itself or what it needs: rpm -e (often with --nodeps), or a
// remove of a package named after the tool, python, rpm or the libraries.
func rpmMayBeGone(r *runmodel.Run, last *runmodel.Cmd, mgr *runmodel.Manager) bool {
	for _, c := range after(r, last) {
		if c.Is("rpm") && (c.HasFlag("-e", "--erase") || c.HasShort('e')) {
			return true
		}
		k, ok := readRPMCall(c)
		if !ok || k.verbAt < 0 || !wordSet("remove", "erase", "rm")[k.verb] {
			continue
		}
		for i := k.verbAt + 1; i < len(c.Args); i++ {
			lit, _ := c.Args[i].Value()
			for _, name := range append([]string{mgr.Name}, "python", "rpm", "dnf", "yum", "zypp") {
				if lit == "" || strings.Contains(lit, name) {
					return true
				}
			}
		}
	}
	return false
}

// rpmCleanedAfter tells whether a command after last cleans the manager's cache.
func rpmCleanedAfter(r *runmodel.Run, last *runmodel.Cmd, mgr *runmodel.Manager) bool {
	for _, c := range after(r, last) {
		if k, ok := readRPMCall(c); ok && k.cleans(mgr) {
			return true
		}
		for _, dir := range cacheDirs(mgr, true) {
			if c.Is("rm") && removesUnder(c, dir) {
				return true
			}
		}
	}
	return false
}

// rpmCacheReadLater finds a later step that may read the manager's cache
// from the image: one that runs it from its cache alone (-C, --cacheonly,
// --no-refresh), names the cache, or runs something the model cannot see
// through.
func rpmCacheReadLater(m *runmodel.Model, in *rewrite.Instruction, mgr *runmodel.Manager) *runmodel.Reader {
	var places []runmodel.Place
	for _, dir := range cacheDirs(mgr, true) {
		places = append(places, runmodel.Place{Path: dir})
	}
	return m.LaterReader(in, places, func(_ *runmodel.Run, c *runmodel.Cmd, _ runmodel.State) string {
		if k, ok := readRPMCall(c); ok && k.M == mgr && k.cacheOnly() {
			return k.Name + " runs from its cache alone"
		}
		return ""
	})
}

// rpmCleanUp returns the edit that cleans the managers' caches after the
// RUN, or with --cache-mounts the one that gives it cache mounts.
func rpmCleanUp(p *rewrite.Pass, r *runmodel.Run, cleanings []rpmCleaning) (rewrite.Edit, string, bool) {
	d := p.Doc
	var tools []string
	for _, c := range cleanings {
		tools = append(tools, c.tool)
	}
	if p.Options.CacheMounts {
		var targets []string
		for _, c := range cleanings {
			for _, dir := range cacheDirs(c.m, false) {
				if !slices.Contains(targets, dir) {
					targets = append(targets, dir)
				}
			}
		}
		busy := false // an rm of a mount point, or of a folder above it, would fail
		for _, c := range r.Runs("rm") {
			for _, t := range targets {
				busy = busy || removesAbove(c, t)
			}
		}
		for _, k := range rpmCalls(r) {
			busy = busy || k.cacheOnly() // it reads the cache the mount would hide
		}
		if opaque, _ := r.Opaque(); !busy && !opaque {
			flags := make([]string, len(targets))
			for i, t := range targets {
				flags[i] = cacheMountFlag(t)
			}
			mounts := "a cache mount on "
			if len(targets) > 1 {
				mounts = "cache mounts on "
			}
			return addRunFlags(d, r.In, flags...),
				leavesCache(tools) + " in the layer: give the RUN " + mounts + strings.Join(targets, " and ") + " (BuildKit)", true
		}
	}
	var cmds, dirs []string
	for _, c := range cleanings {
		rm := cacheDirs(c.m, false)[:1]
		if c.gone {
			rm = cacheDirs(c.m, false) // without the tool's clean, its folders go whole
		} else {
			cmds = append(cmds, c.tool+" "+c.m.Clean)
		}
		for _, dir := range rm {
			if !slices.Contains(dirs, dir) {
				dirs = append(dirs, dir)
			}
		}
	}
	cmd := strings.Join(append(cmds, "rm -rf "+strings.Join(dirs, " ")), " && ")
	e, ok := appendCommand(d, r, cmd)
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
