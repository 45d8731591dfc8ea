package rules

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
)

// The helpers below are shared by the cache rules (pip-no-cache, node-cache,
// go-clean): what a RUN of a shipping stage sees (its environment, its user,
// its cache mounts), read from the model, and the edits that keep the
// package managers' caches out of the image.

// cacheRun is one shell-form RUN of a stage whose files reach the image.
type cacheRun struct {
	m      *runmodel.Model
	r      *runmodel.Run
	in     *rewrite.Instruction
	st     runmodel.State
	before []*rewrite.Instruction // what runs before it: its stage's and its parent stages' instructions
	root   bool                   // it runs as root
	mounts []string               // targets of its type=cache mounts, as norm spells them
}

type cacheRunsKey struct{}

// cacheRuns lists the RUNs of the stages that ship whose shell program dfopt
// could read, read once per document for every cache rule.
func cacheRuns(m *runmodel.Model) []*cacheRun {
	return m.Doc.Fact(cacheRunsKey{}, func() any {
		var out []*cacheRun
		for _, in := range shippedRuns(m.Doc) {
			out = append(out, newCacheRun(m, in))
		}
		return out
	}).([]*cacheRun)
}

// newCacheRun reads what a RUN sees and runs.
func newCacheRun(m *runmodel.Model, in *rewrite.Instruction) *cacheRun {
	cr := &cacheRun{m: m, r: m.Run(in), in: in, st: m.State(in)}
	cr.before = instructionsBefore(m.Doc, in)
	cr.root = cr.st.Root()
	for _, t := range cr.r.CacheTargets() {
		cr.mounts = append(cr.mounts, cr.norm(t))
	}
	return cr
}

// cmds lists the RUN's commands the model can see, in source order.
func (cr *cacheRun) cmds() []*runmodel.Cmd {
	var out []*runmodel.Cmd
	for _, c := range cr.r.Cmds {
		if !c.Opaque {
			out = append(out, c)
		}
	}
	return out
}

// env returns the value of a variable ENV or ARG set before the RUN, as
// written; ok is false when none did.
func (cr *cacheRun) env(name string) (string, bool) {
	v, ok := cr.st.Env[name]
	return v.Raw, ok
}

// envSet tells whether a variable is set for a command: by ENV or ARG
// before the RUN, by an assignment or export anywhere in the RUN, or by
// env NAME=... in front of the command.
func (cr *cacheRun) envSet(c *runmodel.Cmd, name string) bool {
	_, ok := cr.st.Env[name]
	_, own := c.Assigns[name]
	return ok || own || cr.assignedInRun(name)
}

// assignedInRun tells whether the program assigns or exports the variable
// anywhere.
func (cr *cacheRun) assignedInRun(name string) bool {
	for _, a := range cr.r.Assigns {
		if a.Name == name {
			return true
		}
	}
	return false
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
	return runmodel.LiteralPrefix(p)
}

// locations returns where a manager's caches are for the RUN: the folder a
// variable names (and "$NAME" itself, as an rm might spell it), else the
// table's folders. A value that uses other variables is not known: only
// "$NAME" is returned.
func (cr *cacheRun) locations(caches []runmodel.Cache) []string {
	var dirs []string
	for _, c := range caches {
		for _, e := range c.Env {
			name, sub, _ := strings.Cut(e, "/")
			v, _ := cr.env(name)
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
		dirs = append(dirs, c.Dir)
	}
	return dirs
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

// cleanedAfter tells whether the RUN removes the cache after command c: an
// rm of one of the locations (or of a folder in it), or a command clean
// accepts.
//
// Commands the model cannot see through count too when clean accepts them:
// a clean-up already there means nothing is added.
func (cr *cacheRun) cleanedAfter(c *runmodel.Cmd, locs []string, clean func(*runmodel.Cmd) bool) bool {
	for _, x := range cr.r.Cmds {
		if !runmodel.Before(c, x) {
			continue
		}
		if clean(x) {
			return true
		}
		if !x.Is("rm") {
			continue
		}
		for _, a := range x.Args {
			op := a.Text
			if a.Node != nil {
				if v, ok := wordText(a); ok {
					op = v
				} else {
					continue
				}
			}
			if strings.HasPrefix(op, "-") {
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

// wordText returns a word as written when it holds only literal text,
// quotes and plain parameter expansions (kept as $NAME).
func wordText(w runmodel.Word) (string, bool) {
	if w.Node == nil {
		return w.Text, w.Lit
	}
	v, _, ok := runmodel.ExpandPath(w.Node, func(name string) (string, bool) { return "$" + name, true })
	return v, ok
}

// mountTarget returns the cache mount target to give the RUN instead of a
// flag or a clean-up, when --cache-mounts asks for them and the RUN runs as
// root (a cache mount belongs to root, and ~ is /root only for root); "" when
// the cache should be dealt with in the image instead.
func (cr *cacheRun) mountTarget(p *rewrite.Pass, mgr *runmodel.Manager, c *runmodel.Cmd, caches []runmodel.Cache) string {
	if !cr.mountable(p, mgr, c) {
		return ""
	}
	return cr.mountPath(p, caches)
}

// mountPath is mountTarget without the checks that the mount keeps the
// RUN's meaning, for rules that make them themselves.
func (cr *cacheRun) mountPath(p *rewrite.Pass, caches []runmodel.Cache) string {
	if !p.Options.CacheMounts || !cr.root {
		return ""
	}
	loc := cr.locations(caches)[0]
	if strings.ContainsFunc(loc, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		// buildkit reads a flag byte by byte, so a target outside printable
		// ASCII names another folder than the one the cache is in.
		return ""
	}
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

// cacheReadLater finds a later step that may read what a manager's command
// c left in its cache: a command of the manager that installs from the
// cache alone (a flag, a variable of ENV or of the program, a config file
// of the build context or of the image that turns offline on), a step that
// names the cache, or one the model cannot see through.
func (cr *cacheRun) cacheReadLater(p *rewrite.Pass, mgr *runmodel.Manager, c *runmodel.Cmd) *runmodel.Reader {
	places := cr.m.CachePlaces(mgr, cr.st, c, false)
	return cr.m.LaterReader(cr.in, places, offlineCheck(p, cr.m, mgr))
}

// cacheReadAfter finds a command of the RUN after c that may read what c
// leaves in the cache (see cacheReadLater): a flag that keeps c from
// filling the cache would change what it reads.
func (cr *cacheRun) cacheReadAfter(p *rewrite.Pass, mgr *runmodel.Manager, c *runmodel.Cmd) *runmodel.Reader {
	places := cr.m.CachePlaces(mgr, cr.st, c, false)
	return cr.m.ReaderIn(cr.r, c, places, offlineCheck(p, cr.m, mgr))
}

// mountable tells whether a cache mount over the manager's cache keeps the
// RUN's meaning: the mount hides what the image holds there, so nothing in
// the RUN may read the cache from the image (no command the model cannot
// see through, none that names the cache, the manager not offline), and no
// earlier step may have put files there.
func (cr *cacheRun) mountable(p *rewrite.Pass, mgr *runmodel.Manager, c *runmodel.Cmd) bool {
	places := cr.m.CachePlaces(mgr, cr.st, c, false)
	return cr.m.ReaderIn(cr.r, nil, places, offlineCheck(p, cr.m, mgr)) == nil &&
		cr.m.EarlierWriter(cr.in, places, nil) == nil
}

// offlineCheck accepts a command of the manager that installs from the
// cache alone: a flag, a variable of ENV or of the program, a config file
// of the build context or of the image that turns offline on.
func offlineCheck(p *rewrite.Pass, m *runmodel.Model, mgr *runmodel.Manager) runmodel.ReadCheck {
	config := offlineConfig(p, m, mgr)
	return func(r *runmodel.Run, x *runmodel.Cmd, st runmodel.State) string {
		if runmodel.ManagerOf(x) != mgr {
			return ""
		}
		k := mgr.Read(x)
		switch {
		case k.Offline():
			return x.Name + " installs from its cache alone"
		case config != "":
			return x.Name + " may install from its cache alone: " + config
		}
		for name, v := range st.Env {
			if mgr.OfflineValue(name, v.Value, v.Known) {
				return x.Name + " installs from its cache alone: " + name + " is set"
			}
		}
		for _, a := range r.Assigns {
			if !mgr.OfflineEnvName(a.Name) || !a.Before(x) {
				continue
			}
			if v, ok := a.Value.Value(); mgr.OfflineValue(a.Name, v, ok) {
				return x.Name + " installs from its cache alone: " + a.Name + " is set"
			}
		}
		return ""
	}
}

// offlineConfig says why a config file may make the manager's installs
// offline ("" when none can): a file of the build context (or, without
// one, a COPY that may bring any) with the setting, or a RUN that writes
// the setting.
func offlineConfig(p *rewrite.Pass, m *runmodel.Model, mgr *runmodel.Manager) string {
	if mgr.OfflineSetting == "" {
		return ""
	}
	for _, in := range m.Doc.Instructions {
		r := m.Run(in)
		if r == nil {
			continue
		}
		for _, c := range r.Cmds {
			for _, a := range c.Args {
				if t, ok := a.Pattern(); ok && strings.Contains(t, mgr.OfflineSetting) && (strings.Contains(t, "=") || c.Is(mgr.Commands...)) {
					return "the RUN at line " + strconv.Itoa(p.InputLine(in.StartLine)) + " may set " + mgr.OfflineSetting + " in a config file"
				}
			}
		}
	}
	ctx := p.Options.Context
	if ctx == nil {
		return ""
	}
	return rewrite.SharedKeep(ctx, offlineKey{mgr.Name}, func() string { return contextOffline(ctx, mgr) }, func(_ string, rel string) bool {
		return !slices.Contains(mgr.OfflineConfig, path.Base(rel)) // a file it does not read
	})
}

// offlineKey names contextOffline's answer for a manager among a context's
// facts: the Dockerfiles that share the context share it.
type offlineKey struct{ manager string }

// contextOffline says which config file of the build context turns the
// manager's offline setting on, if one does.
func contextOffline(ctx *rewrite.BuildContext, mgr *runmodel.Manager) string {
	names := map[string]bool{}
	for _, f := range mgr.OfflineConfig {
		if !strings.HasPrefix(f, "/") && !strings.HasPrefix(f, "~") {
			names[f] = true
		}
	}
	files, err := ctx.Files()
	if err != nil {
		return "the build context cannot be read"
	}
	for _, f := range files {
		if f.Dir || !names[path.Base(f.Path)] {
			continue
		}
		if configSets(ctx, f.Path, mgr.OfflineSetting) {
			return f.Path + " in the build context sets " + mgr.OfflineSetting
		}
	}
	return ""
}

// configSets tells whether a config file of the context turns a setting on
// (npm's "offline=true", yarn's "offline true").
func configSets(ctx *rewrite.BuildContext, rel, setting string) bool {
	text := string(head(ctx, rel, 1<<16))
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		k, v, ok := strings.Cut(strings.NewReplacer("=", " ", ":", " ").Replace(line), " ")
		k = strings.TrimLeft(strings.TrimSpace(k), "-")
		if !ok || !strings.EqualFold(k, setting) && !strings.HasSuffix(strings.ToLower(k), "."+setting) {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		if v != "false" && v != "0" && v != "" {
			return true
		}
	}
	return false
}

// changesPath tells whether the program changes PATH or reads a file into
// its shell (source, ., nvm, conda activate), after which a command it ran
// in a shell of its own may not be found by the same name at its end.
func changesPath(cr *cacheRun) bool {
	if cr.assignedInRun("PATH") {
		return true
	}
	for _, c := range cr.r.Cmds {
		if c.Is("source", ".", "nvm") || c.Is("conda") && c.Arg(0) == "activate" {
			return true
		}
	}
	return false
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

// toolRemovedAfter tells whether the RUN takes away the command of c after
// it ran: a package manager removing its package (apt-get purge nodejs, apk
// del go), or rm of its folder or program (rm -rf /usr/local/go).
func (cr *cacheRun) toolRemovedAfter(c *runmodel.Cmd) bool {
	names := toolPackages[c.Name]
	named := func(w string) bool {
		for _, n := range names {
			if w == n || strings.HasPrefix(w, n+"-") || strings.HasPrefix(w, n+"=") || strings.HasPrefix(w, n+"@") {
				return true
			}
		}
		return false
	}
	for _, x := range cr.cmds() {
		if !runmodel.Before(c, x) {
			continue
		}
		if x.Is("rm", "unlink") {
			for _, a := range x.Args {
				w, _ := a.Pattern()
				if !strings.HasPrefix(w, "-") && slices.Contains(names, path.Base(strings.TrimRight(w, "/"))) {
					return true
				}
			}
			continue
		}
		i := verbFrom(x, 0, nil)
		if i < 0 || !removeWords[x.Arg(i)] {
			continue
		}
		for _, a := range x.Args[i+1:] {
			if w, _ := a.Value(); named(w) {
				return true
			}
		}
	}
	return false
}

// verbFrom returns the index in c.Args of the first word from start on
// that is not a flag (nor the value of one of valueFlags), or -1.
func verbFrom(c *runmodel.Cmd, start int, valueFlags []string) int {
	for i := start; i < len(c.Args); i++ {
		w, ok := c.Args[i].Value()
		switch {
		case !ok:
			return -1 // a word dfopt cannot read
		case slices.Contains(valueFlags, w):
			i++
		case !strings.HasPrefix(w, "-"):
			return i
		}
	}
	return -1
}

// cacheFix collects what the cache rules change in one RUN; report turns it
// into one finding.
type cacheFix struct {
	edits   []rewrite.Edit
	appends []string // commands to run at the end of the RUN
	mounts  []string // cache mount targets to add
	msgs    []string
	appMsgs []string // the messages of the appended commands
	// held are the fixes a later step stands in the way of, because it may
	// read the cache: they are proposed, for the reasons in why.
	held     *cacheFix
	proposal bool
	why      []string
}

// unless returns f when none of readers stands in the way; nil when one
// surely reads the cache (the fix would break it); else, when the only
// readers are steps the model cannot see through, the part of f that is
// only proposed, with them as the reason.
func (f *cacheFix) unless(p *rewrite.Pass, readers ...*runmodel.Reader) *cacheFix {
	var why []string
	for _, rd := range readers {
		switch {
		case rd == nil:
		case !rd.Unseen:
			return nil
		default:
			why = append(why, readerWhy(p, rd))
		}
	}
	if len(why) == 0 {
		return f
	}
	if f.held == nil {
		f.held = &cacheFix{proposal: true}
	}
	for _, w := range why {
		f.held.note(&f.held.why, w)
	}
	return f.held
}

// readerWhy says why a step may read what a fix would remove.
func readerWhy(p *rewrite.Pass, rd *runmodel.Reader) string {
	return fmt.Sprintf("the %s at line %d may read it: %s", strings.ToUpper(rd.In.Keyword), p.InputLine(rd.In.StartLine), rd.Why)
}

func (f *cacheFix) insert(e rewrite.Edit, msg string) {
	f.edits = append(f.edits, e)
	f.note(&f.msgs, msg)
}

// insertAfterArg inserts text after argument i of c, when c is the RUN's own.
func (f *cacheFix) insertAfterArg(cr *cacheRun, c *runmodel.Cmd, i int, text, msg string) {
	if e, ok := insertAfterArg(cr.in, c, i, text); ok {
		f.insert(e, msg)
	}
}

func (f *cacheFix) mount(target, msg string) {
	if !slices.Contains(f.mounts, target) {
		f.mounts = append(f.mounts, target)
	}
	f.note(&f.msgs, msg)
}

// appendAfter runs "<command word of c> sub" at the end of the RUN, when c
// always runs, in the RUN's own words, and its command can be found there
// by the same name.
func (f *cacheFix) appendAfter(cr *cacheRun, c *runmodel.Cmd, sub, msg string) {
	if !canAppend(cr.r) {
		return
	}
	if cr.toolRemovedAfter(c) {
		return // the clean-up would not find its command any more
	}
	w, ok := c.Prog.Value()
	if !ok || !c.Own || len(c.Via) > 0 || c.Cond || c.FailOK || c.Background || strings.ContainsAny(w, "$`\"' \t\\") ||
		strings.Contains(w, "/") && !strings.HasPrefix(w, "/") ||
		!c.InShell && !strings.HasPrefix(w, "/") && changesPath(cr) {
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

// report makes one finding of what f collected for the RUN, and one
// proposal of what it holds.
func (f *cacheFix) report(p *rewrite.Pass, cr *cacheRun) {
	if fd, ok := f.finding(p, cr); ok {
		p.Report(fd)
	}
	if f.held == nil {
		return
	}
	if fd, ok := f.held.finding(p, cr); ok {
		fd.Proposal = true
		fd.Message += " (proposal: " + strings.Join(f.held.why, "; ") + ")"
		p.Report(fd)
	}
}

func (f *cacheFix) finding(p *rewrite.Pass, cr *cacheRun) (rewrite.Finding, bool) {
	edits, msgs := f.edits, f.msgs
	if len(f.appends) > 0 {
		esc := string(p.Doc.Escape)
		if e, ok := appendCommand(p.Doc, cr.r, strings.Join(f.appends, " "+esc+"\n    && ")); ok {
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
		return rewrite.Finding{}, false
	}
	return rewrite.Finding{
		Line:    cr.in.StartLine,
		Message: strings.Join(msgs, "; "),
		Edits:   coalesceEdits(edits),
	}, true
}
