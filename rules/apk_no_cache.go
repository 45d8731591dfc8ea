package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
)

// ApkNoCache keeps apk's package index out of the image: every apk command
// that reads or writes it runs with --no-cache, which fetches the index for
// itself and keeps nothing, and the apk update and removal of
// /var/cache/apk that it makes redundant go.
var ApkNoCache = &rewrite.Rule{
	Name:     "apk-no-cache",
	Title:    "Use apk --no-cache instead of apk update and removing /var/cache/apk",
	Kind:     rewrite.Safe,
	Hadolint: []string{"DL3019"},
	Doc: `apk keeps the package index it fetched in /var/cache/apk: a few
megabytes in the layer that nothing at run time needs. apk update writes it,
and so does any command with -U (--update-cache, or --update as apk reads
it); apk add, apk upgrade and apk fix fetch it when none is there yet and
leave it too. With --no-cache apk fetches the index for itself and keeps
nothing (--no-cache is one of apk's global options: every command takes it).

In stages whose files reach the image (the last stage and the stages it is
built FROM), a RUN whose apk commands leave the index gets:
- --no-cache on every apk command that reads or writes the index: add,
  upgrade and fix, and search, info, list, policy, fetch, dot or version
  when an apk command of the RUN wrote the index before them. It takes the
  place of -U, --update-cache or --update where the command has one (older
  apk releases wrote the index when given both). The plain apk update goes,
  with its && or ;.
- where that cannot be done cleanly, rm -rf /var/cache/apk/* at the end of
  the RUN instead: when the RUN runs something dfopt cannot see through (a
  script, make, ...), which may read the index in between or run apk
  itself; an apk command that must read the cached index (apk add
  --no-network); an apk info (search, ...) whose output goes to a file or a
  pipe, where --no-cache would add the index it fetches; an apk update that
  cannot be taken out (inside if, ||, a pipe or a subshell, alone in its
  RUN, or with options such as --repository); or an apk command dfopt cannot
  edit (inside sh -c '...', or -U in a cluster such as -Uq). Not when the
  RUN does not run as root, or an apk command keeps its cache elsewhere
  (--root, --cache-dir).
Neither is done where a later step may read the index: an apk command of the
stage, or of a stage built FROM it, that reads it without --no-cache and
without fetching it first (apk add --no-network, apk info, apk search, ...,
or an apk add, upgrade or fix of a stage that ships that this rule does not
change: ignored, in an ONBUILD or inside sh -c, which would write it back), a
step that names /var/cache/apk, or a COPY --from of it. The finding then says
that the index stays and which step reads it. When the only such steps are
ones dfopt cannot see through, the edit is a proposal that names them.

A RUN that removes /var/cache/apk itself after its apk commands ships no
index, and is left as it is: apk update && apk add x && rm -rf
/var/cache/apk/* and apk add --no-cache x make the same layer, so the
rewrite hadolint's DL3019 asks for would change words, not bytes. So is an
rm of /var/cache/apk in a RUN whose apk commands all have --no-cache. A RUN
with a cache or tmpfs mount on /var/cache/apk or /etc/apk/cache is left
alone, and so are builder stages.

apk add --virtual NAME and apk del NAME belong in one RUN: the packages of the
virtual group ship in the layer of the RUN that added them, whatever a later
RUN deletes. When the apk del is in a later RUN that merge-runs cannot merge
with (another instruction between them, different flags, an ignore comment),
the rule reports it and leaves the RUNs as they are.

With --cache-mounts a RUN that runs apk add gets a BuildKit cache mount
instead: --mount=type=cache,target=/var/cache/apk,sharing=locked (the target
hadolint's DL3019 accepts). apk update stays, an apk add that does not
refresh the index itself gets --update-cache (the mount hides any index an
earlier layer left), and the rm of /var/cache/apk goes, since removing the
mount point would fail. Not where an apk add --no-network reads the index
an earlier layer left, which the mount would hide. Cache mounts need
BuildKit.

Bad:

    RUN apk update \
        && apk upgrade \
        && apk add curl

Good:

    RUN apk upgrade --no-cache \
        && apk add --no-cache curl
`,
	Run: runApkNoCache,
}

// apkCacheDirs are where apk keeps its index and, when enabled, packages.
var apkCacheDirs = []string{"/var/cache/apk", "/etc/apk/cache"}

// apkCleanUp is what removes the index at the end of a RUN.
const apkCleanUp = "rm -rf /var/cache/apk/*"

// apk is the package-manager table's apk.
var apk = runmodel.ManagerNamed("apk")

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

// apkFix is what apkNoCacheRun changes in one RUN, and what it says of it.
type apkFix struct {
	edits    []rewrite.Edit
	runs     []string // the apk commands that get --no-cache
	flags    []string // the refresh flags (-U, ...) it takes the place of
	dropped  []string // "the apk update", "the rm of /var/cache/apk"
	appended bool     // rm -rf /var/cache/apk/* at the end
	why      string   // why --no-cache could not do it all (with appended)
}

// apkNoCacheRun keeps the index the RUN's apk commands write out of its
// layer (see ApkNoCache's doc) and reports what it did, or why the index
// stays. It tells whether the RUN, so edited, leaves no index in its layer.
func apkNoCacheRun(p *rewrite.Pass, m *runmodel.Model, r *runmodel.Run, noIndex map[*rewrite.Instruction]bool) bool {
	in := r.In
	calls := r.Calls(apk)
	cached := apkIndexWrittenBefore(m, in, noIndex)
	var writers []runmodel.Call
	for _, k := range calls {
		if k.FillsIndex(cached) {
			writers = append(writers, k)
		}
	}
	if len(writers) == 0 {
		return apkDropRm(r)
	}
	if apkCleanedAfter(r, writers) {
		// The RUN removes its index itself: it ships none, and writing it
		// with --no-cache instead would save no byte.
		return true
	}
	leaves := true
	fix, ok := apkNoCacheEdits(p.Doc, r, calls, cached)
	if ok && !cached {
		// With no index left by this RUN or an earlier one, removing
		// /var/cache/apk removes nothing.
		if drops, _ := apkRmEdits(p.Doc, r, fix.edits); drops != nil {
			fix.edits = append(fix.edits, drops...)
			fix.dropped = append(fix.dropped, "the rm of /var/cache/apk")
		}
	}
	if !ok {
		if !apkCanAppend(m, r, writers) {
			return false
		}
		e, _ := appendCommand(p.Doc, r, apkCleanUp)
		why := fix.why
		fix = apkFix{edits: []rewrite.Edit{e}, appended: true, why: why}
	}
	msg := apkFixMessage(writers, leaves, fix)
	if leaves {
		switch rd := apkIndexReadLater(m, in); {
		case rd == nil:
		case !rd.Unseen:
			p.Report(rewrite.Finding{Line: in.StartLine, Message: fmt.Sprintf(
				"%s the package index in the image; it stays, as the %s at line %d reads it: %s",
				apkLeave(writers), strings.ToUpper(rd.In.Keyword), p.InputLine(rd.In.StartLine), rd.Why)})
			return false
		default:
			p.Report(rewrite.Finding{Line: in.StartLine, Proposal: true, Edits: coalesceEdits(fix.edits),
				Message: msg + " (proposal: " + readerWhy(p, rd) + ")"})
			return false
		}
	}
	p.Report(rewrite.Finding{Line: in.StartLine, Message: msg, Edits: coalesceEdits(fix.edits)})
	return !mayBeIgnored(p.Doc, in)
}

// apkNoCacheEdits gives every apk command of the RUN that reads or writes
// the index --no-cache, in place of -U where it has one, and drops its plain
// apk update. ok is false, with fix.why saying why, when that cannot keep
// what the RUN does or cannot be done cleanly.
func apkNoCacheEdits(d *rewrite.Document, r *runmodel.Run, calls []runmodel.Call, cached bool) (apkFix, bool) {
	in := r.In
	var fix apkFix
	if opaque, why := r.Opaque(); opaque {
		return apkFix{why: why + ", which may read it"}, false
	}
	// writtenBefore tells whether an apk command of the RUN may write the
	// index before k, and whether one surely does.
	writtenBefore := func(k runmodel.Call) (may, sure bool) {
		for _, w := range calls {
			if w.Cmd != k.Cmd && runmodel.Before(w.Cmd, k.Cmd) && w.FillsIndex(cached) {
				may = true
				sure = sure || runmodel.Dominates(w.Cmd, k.Cmd)
			}
		}
		return may, sure
	}
	for _, k := range calls {
		name := "apk " + k.Verb
		switch {
		case k.NoCacheFlag(), k.Removes():
			continue
		case k.VerbAt < 0:
			if k.AnyUnknownArg() {
				return apkFix{why: "dfopt cannot read every word of an apk command"}, false
			}
			continue // apk --version, apk --print-arch
		case k.Offline():
			if may, _ := writtenBefore(k); may {
				return apkFix{why: name + " --no-network reads it"}, false
			}
			continue // it reads what an earlier layer left, if anything
		case slices.Contains(apk.Refresh, k.Verb):
			e, ok := apkDropUpdate(d, in, k)
			if !ok || overlapsEdits(fix.edits, e) {
				return apkFix{why: "the apk update cannot be taken out of the RUN cleanly"}, false
			}
			fix.edits = append(fix.edits, e...)
			fix.dropped = appendOnce(fix.dropped, "the apk update")
			continue
		case !k.FillsIndex(false) && !slices.Contains(apk.ReadIndex, k.Verb):
			continue // apk del, apk cache, apk index, apk audit, ...
		case !k.FillsIndex(false):
			// It only reads the index: from this RUN when an apk command
			// wrote it before, else from an earlier layer.
			may, sure := writtenBefore(k)
			if !may {
				continue
			}
			if !sure {
				return apkFix{why: name + " reads it when an apk command before it wrote it, which may not run"}, false
			}
			if len(k.Redirs) > 0 || !k.InShell {
				// With --no-cache it prints the index it fetches, into
				// what reads its output.
				return apkFix{why: "the output of " + name + " would change"}, false
			}
		}
		if !k.Own {
			return apkFix{why: name + " runs from a string dfopt does not edit"}, false
		}
		flag, at, ok := apkRefreshFlag(k)
		switch {
		case !ok:
			return apkFix{why: "the -U in a cluster of options of " + name + " cannot be taken out"}, false
		case at >= 0:
			w := k.Word(at)
			fix.edits = append(fix.edits, rewrite.Edit{Start: srcPos(in, w.Pos()), End: srcEndPos(in, w.End()), New: apk.NoCache})
			fix.runs = appendOnce(fix.runs, name)
			fix.flags = appendOnce(fix.flags, flag)
		default:
			e, ok := insertAfterArg(in, k.Cmd, k.VerbAt, " "+apk.NoCache)
			if !ok {
				return apkFix{why: name + " runs from a string dfopt does not edit"}, false
			}
			fix.edits = append(fix.edits, e)
			fix.runs = appendOnce(fix.runs, name)
		}
	}
	return fix, true
}

// apkRefreshFlag finds the one word of an apk command that asks it to
// refresh the index (-U, --update-cache, --update), for --no-cache to take
// its place: at is its index, -1 when there is none. ok is false when the
// command refreshes in a way one word cannot change: -U in a cluster of
// options, or more than one such flag.
func apkRefreshFlag(k runmodel.Call) (flag string, at int, ok bool) {
	at = -1
	for i, v := range k.Options() {
		if slices.Contains(apk.RefreshFlags, v) {
			if at >= 0 {
				return "", -1, false
			}
			flag, at = v, i
		}
	}
	if at < 0 && k.HasShort('U') {
		return "", -1, false
	}
	return flag, at, true
}

// apkDropUpdate returns the edits that take a plain apk update out of the
// RUN, with its && or ;.
func apkDropUpdate(d *rewrite.Document, in *rewrite.Instruction, k runmodel.Call) ([]rewrite.Edit, bool) {
	if !plainApkUpdate(k) || !k.Own {
		return nil, false
	}
	for _, v := range k.Via {
		if v != "sudo" && v != "env" && v != "nice" && v != "nohup" && v != "timeout" && v != "time" {
			return nil, false
		}
	}
	return removeCommand(d, in, k.Call)
}

// apkDropRm handles a RUN whose apk commands write no index: it tells
// whether the RUN leaves no index in its layer. A removal of /var/cache/apk
// there removes nothing, but it stays: taking it out would save no byte, and
// a reviewer would read a change for nothing.
func apkDropRm(r *runmodel.Run) bool {
	opaque, _ := r.Opaque()
	return !opaque // something the model cannot see through may write the index
}

// apkRmEdits returns the edits that take the RUN's removals of
// /var/cache/apk out (the rm, or just that operand when it removes other
// things too), nil when there are none that can go. all says that no rm
// that removes the whole index stays.
func apkRmEdits(d *rewrite.Document, r *runmodel.Run, taken []rewrite.Edit) (edits []rewrite.Edit, all bool) {
	in := r.In
	all = true
	for _, c := range r.Runs("rm") {
		if !removesAll(c, apkCacheDirs[0]) {
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
		if !ok || overlapsEdits(taken, e) || overlapsEdits(edits, e) {
			all = false
			continue
		}
		edits = append(edits, e...)
	}
	return edits, all
}

// apkCleanedAfter tells whether the RUN removes the whole index after every
// command that may write it, whenever they ran.
func apkCleanedAfter(r *runmodel.Run, writers []runmodel.Call) bool {
	for _, c := range r.Runs("rm") {
		if c.Cond || c.Background || !removesAll(c, apkCacheDirs[0]) {
			continue
		}
		if !slices.ContainsFunc(writers, func(w runmodel.Call) bool { return !runmodel.Before(w.Cmd, c) }) {
			return true
		}
	}
	return false
}

// apkCanAppend tells whether rm -rf /var/cache/apk/* at the end of the RUN
// removes the index its apk commands write: the RUN runs as root and can
// take a command at its end, and no apk command keeps its index elsewhere.
func apkCanAppend(m *runmodel.Model, r *runmodel.Run, writers []runmodel.Call) bool {
	if !m.State(r.In).Root() || !canAppend(r) {
		return false
	}
	for _, w := range writers {
		if w.HasFlag("-p", "--root", "--cache-dir") || w.User != "" && w.User != "root" && w.User != "0" {
			return false
		}
	}
	return true
}

// apkFixMessage says what the fix does to the index the writers leave
// (leaves false: the RUN already removes it).
func apkFixMessage(writers []runmodel.Call, leaves bool, fix apkFix) string {
	head := apkLeave(writers) + " the package index in the image"
	if !leaves {
		head = "the RUN removes the package index " + apkNames(writers) + " " + plural(len(apkWriterNames(writers)), "writes", "write") + " again"
	}
	if fix.appended {
		return head + ": remove /var/cache/apk/* at the end of the RUN (--no-cache does not fit here: " + fix.why + ")"
	}
	if len(fix.runs) == 0 {
		return head + ", and no apk command here reads it without --no-cache: drop " + andList(fix.dropped)
	}
	msg := head + ": run " + andList(fix.runs) + " with --no-cache"
	if len(fix.flags) > 0 {
		msg += " in place of " + andList(fix.flags)
	}
	if len(fix.dropped) > 0 {
		msg += " and drop " + andList(fix.dropped) + " it makes redundant"
	}
	return msg
}

// apkWriterNames names the apk commands that write the index: "apk update",
// "apk upgrade with -U".
func apkWriterNames(writers []runmodel.Call) []string {
	var names []string
	for _, w := range writers {
		name := "apk " + w.Verb
		if w.VerbAt < 0 {
			name = "an apk command dfopt cannot read"
		} else if flag, at, _ := apkRefreshFlag(w); at >= 0 && !slices.Contains(apk.Refresh, w.Verb) {
			name += " with " + flag
		}
		names = appendOnce(names, name)
	}
	return names
}

func apkNames(writers []runmodel.Call) string { return andList(apkWriterNames(writers)) }

// apkLeave is "apk update leaves", "apk update and apk add leave".
func apkLeave(writers []runmodel.Call) string {
	return apkNames(writers) + " " + plural(len(apkWriterNames(writers)), "leaves", "leave")
}

func plural(n int, one, more string) string {
	if n == 1 {
		return one
	}
	return more
}

// andList joins "a", "a and b", "a, b and c".
func andList(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
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
		if a.Offline() && !a.NoCacheFlag() && !refreshed {
			return false // it reads an earlier layer's index, which the mount hides
		}
		if a.Verb != "add" || a.NoCacheFlag() {
			if apkReadsIndex(a) && !refreshed && !a.RefreshFlag() {
				return false // it reads an index the mount would hide
			}
			continue
		}
		needs = true
		if !a.RefreshFlag() && !refreshed {
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

// apkReadsIndex tells whether an apk command may read the cached index:
// anything but apk del and apk update, unless it runs with --no-cache.
func apkReadsIndex(k runmodel.Call) bool {
	return !k.NoCacheFlag() && k.Verb != "del" && k.Verb != "update"
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

// apkIndexReadLater finds a later step that may read the index the RUN in
// leaves: an apk command that reads it without --no-cache and without
// fetching it first (not an apk add, upgrade or fix this rule changes in the
// same pass, nor one in a stage that does not ship, which fetch the index
// they lack), a step that names the index folders, or one the model cannot
// see through.
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
		case a.VerbAt < 0 && a.AnyUnknownArg():
			return "an apk command dfopt cannot read may read the index"
		case a.VerbAt < 0, a.NoCacheFlag(), !slices.Contains(apk.ReadIndex, a.Verb):
		case a.Refreshes(), a.RefreshFlag(), runmodel.RefreshedBefore(r, apk, c):
		case a.Offline():
			return "apk " + a.Verb + " --no-network reads the index"
		case slices.Contains(apk.AutoRefresh, a.Verb) && (fixed || !ship[r.In.Stage]):
		default:
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
		var writers []runmodel.Call
		for _, k := range r.Calls(apk) {
			if k.FillsIndex(false) {
				writers = append(writers, k)
			}
		}
		if len(writers) > 0 && !apkCleanedAfter(r, writers) {
			return true
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

// removesAll tells whether c is an rm that takes all that is in dir: an
// operand that names dir, dir/* or a folder above it.
func removesAll(c *runmodel.Cmd, dir string) bool {
	ops, ok := rmOperands(c)
	if !ok {
		return false
	}
	for _, o := range ops {
		o = strings.TrimSuffix(strings.TrimSuffix(o, "*"), "/")
		if o != "" && !strings.ContainsAny(o, "*?[") && (o == dir || strings.HasPrefix(dir, o+"/")) {
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
