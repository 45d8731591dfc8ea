package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
)

// ApkNoCache keeps apk's package index out of the image: apk add fetches it
// for itself with --no-cache, which makes an apk update and a removal of
// /var/cache/apk in the same RUN redundant.
var ApkNoCache = &rewrite.Rule{
	Name:     "apk-no-cache",
	Title:    "Use apk add --no-cache instead of apk update and removing /var/cache/apk",
	Kind:     rewrite.Safe,
	Hadolint: []string{"DL3019"},
	Doc: `apk add without --no-cache keeps the package index it read in
/var/cache/apk, and an apk update writes it there: a few megabytes in the layer
that nothing at run time needs. With --no-cache apk fetches the index for
itself and keeps nothing.

In stages whose files reach the image (the last stage and the stages it is
built FROM) every apk add gets --no-cache right after add. Once every apk add
of a RUN has it, an apk update in that RUN is dropped with its && or ; when
nothing else needs the index: no other apk command of the RUN (apk upgrade,
apk search, ...) reads it without --no-cache, and no later RUN of the stage, or
of a stage built FROM it, runs apk without --no-cache. An rm -rf of
/var/cache/apk/* (or /var/cache/apk) in that RUN is dropped the same way, or
just that operand when the rm removes other things too, when neither this
RUN nor an earlier one of the stage wrote an index. A command
that cannot be taken out cleanly (inside if, ||, a pipe or a subshell, or
alone in its RUN) stays. A RUN with a cache or tmpfs mount on /var/cache/apk
or /etc/apk/cache is left alone, and so are builder stages.

apk add --virtual NAME and apk del NAME belong in one RUN: the packages of the
virtual group ship in the layer of the RUN that added them, whatever a later
RUN deletes. When the apk del is in a later RUN that merge-runs cannot merge
with (another instruction between them, different flags, an ignore comment),
the rule reports it and leaves the RUNs as they are.

With --cache-mounts the RUN gets a BuildKit cache mount instead:
--mount=type=cache,target=/var/cache/apk,sharing=locked (the target
hadolint's DL3019 accepts). apk update stays, an apk add that does not
refresh the index itself gets --update-cache (the mount hides any index an
earlier layer left), and the rm of /var/cache/apk goes, since removing the
mount point would fail. Cache mounts need BuildKit.

Bad:

    RUN apk update \
        && apk add curl \
        && rm -rf /var/cache/apk/*

Good:

    RUN apk add --no-cache curl
`,
	Run: runApkNoCache,
}

// apkCacheDirs are where apk keeps its index and, when enabled, packages.
var apkCacheDirs = []string{"/var/cache/apk", "/etc/apk/cache"}

// apk is the package-manager table's apk.
var apk = runmodel.ManagerNamed("apk")

// apkNoCache tells whether an apk command reads and writes no index cache.
func apkNoCache(k runmodel.Call) bool { return k.HasFlag("--no-cache") }

// apkRefreshes tells whether an apk command refreshes the index before using it.
func apkRefreshes(k runmodel.Call) bool { return k.HasFlag("-U", "--update-cache", "--update") }

// apkReadsIndex tells whether the command reads apk's cached index:
// anything but apk del and apk update, unless it runs with --no-cache.
func apkReadsIndex(k runmodel.Call) bool {
	return !apkNoCache(k) && k.Verb != "del" && k.Verb != "update"
}

// apkWritesIndex tells whether the command may leave an index in /var/cache/apk.
func apkWritesIndex(k runmodel.Call) bool {
	return !apkNoCache(k) && k.Verb != "del"
}

func runApkNoCache(p *rewrite.Pass) {
	d := p.Doc
	m := runmodel.Of(d)
	ship := d.Shipping()
	// noIndex holds the RUNs that, once this pass's edits are applied, leave
	// no index in their layer; later RUNs count on it.
	noIndex := map[*rewrite.Instruction]bool{}
	for _, in := range shippedRuns(d) {
		r := m.Run(in)
		if hasCacheMount(r, apkCacheDirs...) {
			continue
		}
		if p.Options.CacheMounts && apkCacheMountRun(p, m, r) {
			noIndex[in] = true
		} else {
			noIndex[in] = apkNoCacheRun(p, m, r, noIndex)
		}
		reportVirtualApart(p, m, in.Stage, r, ship)
	}
}

// apkNoCacheRun gives every apk add of the RUN --no-cache and drops the apk
// update and the removal of /var/cache/apk that it makes redundant. It tells
// whether the RUN, so edited, leaves no index in its layer.
func apkNoCacheRun(p *rewrite.Pass, m *runmodel.Model, r *runmodel.Run, noIndex map[*rewrite.Instruction]bool) bool {
	d := p.Doc
	in := r.In
	calls := r.Calls(apk)
	var edits []rewrite.Edit
	adds, added := 0, 0
	for _, a := range calls {
		if a.Verb != "add" {
			continue
		}
		adds++
		if apkNoCache(a) {
			continue
		}
		e, ok := insertAfterArg(in, a.Cmd, a.VerbAt, " --no-cache")
		if !ok {
			return false // an apk add dfopt cannot edit keeps the index
		}
		edits = append(edits, e)
		added++
	}
	if adds == 0 {
		return false
	}

	// Once every add has --no-cache, an apk update serves nothing but the
	// index it leaves, unless another command here or later reads it.
	var updates []runmodel.Call
	othersFine := true
	for _, a := range calls {
		switch {
		case a.Verb == "add" || a.Verb == "del" || apkNoCache(a):
		case a.Verb == "update" && plainApkUpdate(a):
			updates = append(updates, a)
		default:
			othersFine = false
		}
	}
	if opaque, _ := r.Opaque(); opaque {
		othersFine = false // something here may read the index
	}
	droppedUpdates := 0
	if len(updates) > 0 && othersFine && apkIndexReadLater(m, in) == nil {
		for _, u := range updates {
			if !u.Own || len(u.Via) > 0 {
				continue
			}
			if e, ok := removeCommand(d, in, u.Call); ok && !overlapsEdits(edits, e) {
				edits = append(edits, e...)
				droppedUpdates++
			}
		}
	}

	// With no index written by this RUN or an earlier one, removing
	// /var/cache/apk removes nothing.
	droppedRm := 0
	clean := othersFine && droppedUpdates == len(updates)
	if clean && !apkIndexWrittenBefore(m, in, noIndex) {
		for _, c := range r.Runs("rm") {
			if !c.Own || len(c.Via) > 0 {
				continue
			}
			e, ok := removeOperands(d, in, c, apkCacheDirs[0])
			if removesOnly(c, apkCacheDirs[:1]) {
				e, ok = removeCommand(d, in, c.Call)
			}
			if ok && !overlapsEdits(edits, e) {
				edits = append(edits, e...)
				droppedRm++
			}
		}
	}
	if len(edits) == 0 {
		return clean
	}
	var redundant []string
	if droppedUpdates > 0 {
		redundant = append(redundant, "the apk update")
	}
	if droppedRm > 0 {
		redundant = append(redundant, "the rm of /var/cache/apk")
	}
	var msg string
	switch {
	case added > 0 && len(redundant) > 0:
		msg = fmt.Sprintf("apk add without --no-cache leaves the package index in the image: add --no-cache and drop %s it makes redundant", strings.Join(redundant, " and "))
	case added > 0:
		msg = "apk add without --no-cache leaves the package index in the image: add --no-cache"
	default:
		msg = fmt.Sprintf("every apk add here uses --no-cache: drop %s, redundant with it", strings.Join(redundant, " and "))
	}
	p.Report(rewrite.Finding{Line: in.StartLine, Message: msg, Edits: edits})
	return clean && !mayBeIgnored(p.Doc, in)
}

// apkCacheMountRun gives an installing RUN a cache mount on /var/cache/apk
// (--cache-mounts). It tells whether it took the RUN in hand; when the RUN
// removes the mount's parent, or a later step may read the index from the
// image, it leaves the RUN to --no-cache.
func apkCacheMountRun(p *rewrite.Pass, m *runmodel.Model, r *runmodel.Run) bool {
	d := p.Doc
	in := r.In
	calls := r.Calls(apk)
	var edits []rewrite.Edit
	needs, refreshes := false, false
	refreshed := false // an apk update ran before, in this RUN
	for _, a := range calls {
		if a.Verb == "update" && !a.Cond {
			refreshed = true
		}
		if a.Verb != "add" || apkNoCache(a) {
			if apkReadsIndex(a) && !refreshed && !apkRefreshes(a) {
				return false // it reads an index the mount would hide
			}
			continue
		}
		needs = true
		if !apkRefreshes(a) && !refreshed {
			e, ok := insertAfterArg(in, a.Cmd, a.VerbAt, " --update-cache")
			if !ok {
				return false
			}
			edits = append(edits, e)
			refreshes = true
		}
	}
	if !needs || apkIndexReadLater(m, in) != nil {
		return false
	}
	if opaque, _ := r.Opaque(); opaque {
		return false // it may read the index the mount hides
	}
	// The cache is the mount's now: an rm of its contents goes, and an rm
	// of the mount point itself would fail.
	for _, c := range r.Runs("rm") {
		if !removesUnder(c, apkCacheDirs[0]) {
			continue
		}
		var e []rewrite.Edit
		ok := false
		if c.Own && len(c.Via) == 0 {
			e, ok = removeOperands(d, in, c, apkCacheDirs[0])
			if removesOnly(c, apkCacheDirs[:1]) {
				e, ok = removeCommand(d, in, c.Call)
			}
		}
		if ok && !overlapsEdits(edits, e) {
			edits = append(edits, e...)
			continue
		}
		if removesAbove(c, apkCacheDirs[0]) {
			return false
		}
	}
	edits = append(edits, addRunFlags(d, in, cacheMountFlag("/var/cache/apk")))
	msg := "apk add leaves the package index in the image: give the RUN a cache mount on /var/cache/apk (BuildKit)"
	if refreshes {
		msg += " and let apk add fill it with --update-cache"
	}
	p.Report(rewrite.Finding{Line: in.StartLine, Message: msg, Edits: edits})
	return !mayBeIgnored(d, in)
}

// plainApkUpdate tells whether an apk update takes no options but output
// ones: one with a --repository or --root serves something else.
func plainApkUpdate(k runmodel.Call) bool {
	for _, a := range k.Args {
		v, ok := a.Value()
		switch {
		case !ok:
			return false
		case v == "update", v == "-q", v == "--quiet", v == "-v", v == "--verbose", v == "--no-progress":
		default:
			return false
		}
	}
	return true
}

// apkIndexReadLater finds a later step that may read the index an apk
// update of in leaves: an apk command that reads it (not an apk add this
// rule fixes in the same pass, nor one after a refresh in its own RUN), a
// step that names the index folders, or one the model cannot see through.
func apkIndexReadLater(m *runmodel.Model, in *rewrite.Instruction) *runmodel.Reader {
	d := m.Doc
	ship := d.Shipping()
	places := m.CachePlaces(apk, m.State(in), nil, true)
	return m.LaterReader(in, places, func(r *runmodel.Run, c *runmodel.Cmd, _ runmodel.State) string {
		if runmodel.ManagerOf(c) != apk || hasCacheMount(r, apkCacheDirs...) {
			return ""
		}
		a := apk.Read(c)
		fixed := !r.Onbuild && r.Editable && c.Own && ship[r.In.Stage] && !mayBeIgnored(d, r.In)
		switch {
		case a.VerbAt < 0:
			return "an apk command dfopt cannot read may read the index"
		case a.Verb == "add" && fixed:
		case apkReadsIndex(a) && !apkRefreshes(a) && !runmodel.RefreshedBefore(r, apk, c):
			return "apk " + a.Verb + " reads the index"
		}
		return ""
	})
}

// apkIndexWrittenBefore tells whether this RUN's stage, or a stage it is built
// FROM, ran apk in a way that may have left an index before this RUN, or ran
// something that may have. The RUNs in noIndex leave none once this pass's
// edits are applied.
func apkIndexWrittenBefore(m *runmodel.Model, in *rewrite.Instruction, noIndex map[*rewrite.Instruction]bool) bool {
	d := m.Doc
	earlier := slices.Clone(in.Stage.Instructions[:slices.Index(in.Stage.Instructions, in)])
	for s := d.Parent(in.Stage); s != nil; s = d.Parent(s) {
		earlier = append(earlier, s.Instructions...)
	}
	for _, x := range earlier {
		if x.Keyword != "run" || noIndex[x] {
			continue
		}
		r := m.Run(x)
		if hasCacheMount(r, apkCacheDirs...) {
			continue
		}
		if opaque, _ := r.Opaque(); opaque {
			return true
		}
		for _, a := range r.Calls(apk) {
			if a.VerbAt < 0 || apkWritesIndex(a) {
				return true
			}
		}
	}
	return false
}

// reportVirtualApart reports an apk add --virtual NAME whose apk del NAME
// runs in a later RUN that merge-runs cannot merge with: the virtual
// group's packages ship in this RUN's layer.
func reportVirtualApart(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage, r *runmodel.Run, ship map[*rewrite.Stage]bool) {
	d := p.Doc
	in := r.In
	for _, name := range apkVirtualNames(r) {
		if apkDeletes(r, name) {
			continue
		}
		later := st.Instructions[slices.Index(st.Instructions, in)+1:]
		for _, s := range d.Descendants(st) {
			if ship[s] {
				later = append(later, s.Instructions...)
			}
		}
		for i, x := range later {
			if x.Keyword != "run" || !apkDeletes(m.Run(x), name) {
				continue
			}
			if x.Stage == st && mergeRunsJoins(d, m, append([]*rewrite.Instruction{in}, later[:i+1]...)) {
				break // merge-runs puts them in one RUN
			}
			p.Report(rewrite.Finding{
				Line: in.StartLine,
				Message: fmt.Sprintf("the virtual package %s is deleted only by the RUN at line %d: its files still ship in this RUN's layer; add and delete it in one RUN",
					name, p.InputLine(x.StartLine)),
			})
			break
		}
	}
}

// apkVirtualNames lists the names given to apk add --virtual (-t).
func apkVirtualNames(r *runmodel.Run) []string {
	var names []string
	for _, a := range r.Calls(apk) {
		if a.Verb != "add" {
			continue
		}
		for i := a.VerbAt + 1; i < len(a.Args); i++ {
			w := a.Arg(i)
			switch {
			case (w == "--virtual" || w == "-t") && a.Arg(i+1) != "":
				names = append(names, a.Arg(i+1))
			case strings.HasPrefix(w, "--virtual=") && len(w) > len("--virtual="):
				names = append(names, strings.TrimPrefix(w, "--virtual="))
			}
		}
	}
	return names
}

// apkDeletes tells whether the RUN runs apk del with name among its operands.
func apkDeletes(r *runmodel.Run, name string) bool {
	for _, a := range r.Calls(apk) {
		if a.Verb != "del" {
			continue
		}
		for i := a.VerbAt + 1; i < len(a.Args); i++ {
			if a.Arg(i) == name {
				return true
			}
		}
	}
	return false
}

// mergeRunsJoins tells whether merge-runs can merge the consecutive
// instructions group into one RUN: all of them shell RUNs it accepts, with
// the same flags and no ignore comment above any of them.
func mergeRunsJoins(d *rewrite.Document, m *runmodel.Model, group []*rewrite.Instruction) bool {
	var prev *rewrite.Instruction
	if i := slices.Index(d.Instructions, group[0]); i > 0 {
		prev = d.Instructions[i-1]
	}
	for i, in := range group {
		part, ok := mergeablePart(d, m, in)
		if !ok || ignoreAbove(d, prev, in) {
			return false
		}
		if !slices.Equal(in.Node.Flags, group[0].Node.Flags) {
			return false
		}
		if i < len(group)-1 && (part.shape.Errexit || m.State(in).Errexit() && !part.shape.Plain) {
			return false
		}
		prev = in
	}
	return true
}

// hasCacheMount tells whether the RUN has a cache or tmpfs mount on one of
// dirs, or on a folder above one.
func hasCacheMount(r *runmodel.Run, dirs ...string) bool {
	for _, mt := range r.Mounts {
		if mt.Type != "cache" && mt.Type != "tmpfs" || mt.Target == "" {
			continue
		}
		target := path.Clean(strings.Trim(mt.Target, `"'`))
		for _, dir := range dirs {
			if target == dir || strings.HasPrefix(dir, target+"/") {
				return true
			}
		}
	}
	return false
}

// rmOperands returns the operands of an rm command, or false when c is not
// one or a word of it is not a plain literal.
func rmOperands(c *runmodel.Cmd) ([]string, bool) {
	if !c.Is("rm") || c.Opaque || c.MoreArgs {
		return nil, false
	}
	var ops []string
	for _, a := range c.Args {
		w, ok := a.Pattern()
		switch {
		case !ok || w == "":
			return nil, false
		case !strings.HasPrefix(w, "-"):
			ops = append(ops, w)
		}
	}
	return ops, true
}

// removesOnly tells whether c is an rm whose every operand is one of dirs,
// or all that is in it (dir/*).
func removesOnly(c *runmodel.Cmd, dirs []string) bool {
	ops, ok := rmOperands(c)
	if !ok || len(ops) == 0 {
		return false
	}
	for _, o := range ops {
		o = strings.TrimSuffix(strings.TrimSuffix(o, "*"), "/")
		if !slices.Contains(dirs, o) {
			return false
		}
	}
	return true
}

// removesUnder tells whether c is an rm that removes dir, a folder above it,
// or something inside it.
func removesUnder(c *runmodel.Cmd, dir string) bool {
	ops, ok := rmOperands(c)
	if !ok {
		return c.Is("rm") // an operand dfopt cannot read could be any
	}
	for _, o := range ops {
		o = runmodel.LiteralPrefix(o)
		if o == dir || strings.HasPrefix(o, dir+"/") || strings.HasPrefix(dir, o+"/") || o == "/" {
			return true
		}
	}
	return false
}

// removesAbove tells whether c is an rm that would remove dir itself: an
// operand that names or matches it or a folder above it. A mount point there
// makes the rm fail.
func removesAbove(c *runmodel.Cmd, dir string) bool {
	ops, ok := rmOperands(c)
	if !ok {
		return c.Is("rm")
	}
	for _, o := range ops {
		o = path.Clean(o)
		for d := dir; ; d = path.Dir(d) {
			if m, _ := path.Match(o, d); m {
				return true
			}
			if d == "/" {
				break
			}
		}
	}
	return false
}

// removeOperands returns the edits that take the operands naming dir (or
// dir/*) out of an rm that removes other things too. It gives false when
// there are none, or when a comment line stands in the way.
func removeOperands(d *rewrite.Document, in *rewrite.Instruction, c *runmodel.Cmd, dir string) ([]rewrite.Edit, bool) {
	ops, ok := rmOperands(c)
	if !ok || !c.Own {
		return nil, false
	}
	var edits []rewrite.Edit
	for i, a := range c.Args {
		w, _ := a.Pattern()
		if strings.HasPrefix(w, "-") || strings.TrimSuffix(strings.TrimSuffix(w, "*"), "/") != dir {
			continue
		}
		prev := c.Prog.Node
		if i > 0 {
			prev = c.Args[i-1].Node
		}
		e := rewrite.Edit{Start: srcEndPos(in, prev.End()), End: srcEndPos(in, a.Node.End())}
		if hasCommentLine(d, e.Start, e.End) {
			return nil, false
		}
		edits = append(edits, e)
	}
	if len(edits) == 0 || len(edits) == len(ops) {
		return nil, false
	}
	return edits, true
}
