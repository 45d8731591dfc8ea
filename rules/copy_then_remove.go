package rules

import (
	"cmp"
	"fmt"
	"maps"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// CopyThenRemove reports files that a COPY or ADD puts in the image and a
// later RUN deletes: the delete hides them, but their bytes ship in the COPY's
// layer all the same. A report-only finding is true or absent: where dfopt
// cannot be sure, it says "may"; where nothing supports it, nothing.
var CopyThenRemove = &rewrite.Rule{
	Name:  "copy-then-remove",
	Title: "Files copied or installed in one layer and deleted in a later one still ship",
	Kind:  rewrite.Report,
	Doc: `Deleting a file in a RUN does not take it out of the layer that COPY or
ADD made: the image carries its bytes anyway. dfopt reports an rm (or unlink)
in a stage whose files reach the image that deletes files a COPY or ADD of
those stages put there, and names some of them. It does not rewrite anything,
since the fix depends on what the files are for. For files that only a build
step reads, use a bind mount, which never enters a layer; for build outputs, a
builder stage.

dfopt lists the files a COPY or ADD brings, and where they land, from the build
context as its .dockerignore and --exclude leave it (a folder's contents go
into the destination), and for COPY --from=<stage> from what that stage copied
from the build context, less what its RUNs delete. It matches each rm operand
against those paths as the shell does (*, ? and [...] do not match the dot that
starts a name; ** is *), and rm -r takes a folder with everything below it. A
folder alone is not reported: only files. Under a RUN's --mount target an rm
deletes the mount's files, not the image's.

Where it cannot list what a COPY or ADD brings (no build context, COPY
--from an image, a Git URL, a source it cannot read, an archive ADD unpacks),
it reports an rm that deletes the very path the copy wrote (its destination,
a named source file in it, the file a URL downloads to), and says that an rm
below the destination "may" remove copied files, unless an earlier command of
the same RUN may have made what it removes. Files a RUN of a builder stage
made are not known, and not reported. A finding also says "may" when the rm
does not always run, or an earlier step may have deleted the files first.

The same holds for what an earlier RUN installed: a RUN that removes a
package an earlier RUN installed by name, apt's lists or apk's index that an
earlier RUN left, frees nothing when merge-runs cannot join the two (another
instruction, or the start of a stage, stands between them): dfopt reports it,
so that the clean-up moves into the RUN that made the files.

Bad:

    COPY hello.c /
    RUN gcc -o /usr/local/bin/hello /hello.c && rm /hello.c

Good:

    RUN --mount=type=bind,source=hello.c,target=/hello.c \
        gcc -o /usr/local/bin/hello /hello.c
`,
	Run: runCopyThenRemove,
}

// held is what dfopt knows of one path of an image: which COPY or ADD put
// it there.
type held struct {
	by *rewrite.Instruction // the COPY or ADD of the stage the path is in
	// exact says the path is one the copy surely wrote, file or folder,
	// though dfopt cannot list what it brought; else the path is a file.
	exact bool
	// maybe says a step after the copy may have deleted or moved it; why
	// says which.
	maybe bool
	why   string
}

// holdings is what the COPYs and ADDs of a stage (and those it is built
// FROM) put in its image, as far as dfopt can tell.
type holdings struct {
	paths map[string]held
	// roots are the destinations of copies that bring what dfopt cannot
	// list, with why it cannot.
	roots map[string]unlisted
}

type unlisted struct {
	by    *rewrite.Instruction
	why   string
	named []string // the paths the copy surely wrote (held exact), which are no roots of their own
}

func newHoldings() *holdings {
	return &holdings{paths: map[string]held{}, roots: map[string]unlisted{}}
}

func (h *holdings) clone() *holdings {
	return &holdings{paths: maps.Clone(h.paths), roots: maps.Clone(h.roots)}
}

// hasBelow tells whether the holdings have a path inside the folder dir.
func (h *holdings) hasBelow(dir string) bool {
	for p := range h.paths {
		if strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

// copyTracer works out what the copies of a document put where.
type copyTracer struct {
	pass   *rewrite.Pass
	doc    *rewrite.Document
	m      *runmodel.Model
	ctx    *rewrite.BuildContext
	copies map[*rewrite.Instruction]*contextCopy
	stages map[*rewrite.Stage]*holdings
}

func runCopyThenRemove(p *rewrite.Pass) {
	d := p.Doc
	t := &copyTracer{pass: p, doc: d, m: runmodel.Of(d), ctx: p.Options.Context,
		copies: map[*rewrite.Instruction]*contextCopy{}, stages: map[*rewrite.Stage]*holdings{}}
	for _, c := range contextCopies(d, nil) {
		t.copies[c.in] = c
	}
	ship := d.Shipping()
	if !removesAny(t.m, d, ship) {
		// Nothing to report, and no need to list what each COPY brings (a
		// COPY . of a large context) or the RUNs' effects.
		reportRunRemovals(p, t.m, ship)
		return
	}
	h := newHoldings()
	for _, st := range d.Stages { // the shipping stages are one chain, parents first
		if !ship[st] {
			continue
		}
		for _, in := range st.Instructions {
			switch in.Command.(type) {
			case *instructions.CopyCommand, *instructions.AddCommand:
				t.copyInto(h, in, true)
			case *instructions.RunCommand:
				r := t.m.Run(in)
				t.reportRemoved(h, r)
				t.applyRun(h, r)
			}
		}
	}
	reportRunRemovals(p, t.m, ship)
}

// removesAny tells whether a RUN of the shipping stages removes anything
// after a COPY or ADD, which is when a copy's files may be reported
// removed.
func removesAny(m *runmodel.Model, d *rewrite.Document, ship map[*rewrite.Stage]bool) bool {
	copied := false
	for _, st := range d.Stages { // in the order runCopyThenRemove takes them
		if !ship[st] {
			continue
		}
		for _, in := range st.Instructions {
			switch in.Command.(type) {
			case *instructions.CopyCommand, *instructions.AddCommand:
				copied = true
			case *instructions.RunCommand:
				if r := m.Run(in); copied && r != nil && len(m.Removals(r)) > 0 {
					return true
				}
			}
		}
	}
	return false
}

// reportRunRemovals reports a RUN of a shipping stage that deletes what an
// earlier RUN surely left there through a package manager (a package it
// installed by name, apt's lists, apk's index) where merge-runs cannot join
// the two: another instruction, or the start of a stage, stands between them.
func reportRunRemovals(p *rewrite.Pass, m *runmodel.Model, ship map[*rewrite.Stage]bool) {
	type step struct {
		in  *rewrite.Instruction
		gap bool // an instruction other than RUN, or a stage's start, comes before it
	}
	var chain []step
	for _, st := range p.Doc.Stages { // parents first
		if !ship[st] {
			continue
		}
		gap := true
		for _, in := range st.Instructions {
			if in.Keyword != "run" {
				gap = true
				continue
			}
			chain = append(chain, step{in, gap})
			gap = false
		}
	}
	for j, later := range chain {
		r := m.Run(later.in)
		if r == nil {
			continue
		}
		del := r.Deleted()
		if len(del.Paths) == 0 && len(del.Pkgs) == 0 {
			continue
		}
		mounts, known := m.MountTargets(r)
		if !known {
			continue // a mount dfopt cannot read may lie over what the rm deletes
		}
		// What the RUN itself, or a RUN next to it that merge-runs may
		// join it with, writes, its removal does free.
		frees := func(what string) bool {
			for i := j; i >= 0; i-- {
				if x := m.Run(chain[i].in); x != nil && del.Reclaimed(x.ManagerWritten()) == what {
					return true
				}
				if chain[i].gap {
					break
				}
			}
			return false
		}
		apart := false
		for i := j - 1; i >= 0; i-- {
			apart = apart || chain[i+1].gap
			e := m.Run(chain[i].in)
			if !apart || e == nil {
				continue
			}
			what := del.Reclaimed(e.ManagerLeft())
			if what == "" || frees(what) || slices.ContainsFunc(mounts, func(t string) bool { return what == t || strings.HasPrefix(what, t+"/") }) {
				continue
			}
			p.Report(rewrite.Finding{
				Line: later.in.StartLine,
				Message: fmt.Sprintf("removes %s, which the RUN at line %d left in its layer: the image ships it all the same, so this frees nothing (remove it in that RUN)",
					what, p.InputLine(chain[i].in.StartLine)),
			})
			break
		}
	}
}

// stageHoldings traces what a stage holds from its copies and those of the
// stages it is built FROM; files its RUNs made are not known.
func (t *copyTracer) stageHoldings(s *rewrite.Stage) *holdings {
	if h, ok := t.stages[s]; ok {
		if h == nil {
			return newHoldings() // a cycle through COPY --from
		}
		return h
	}
	t.stages[s] = nil
	h := newHoldings()
	if parent := t.doc.Parent(s); parent != nil {
		h = t.stageHoldings(parent).clone()
	}
	for _, in := range s.Instructions {
		switch in.Command.(type) {
		case *instructions.CopyCommand, *instructions.AddCommand:
			t.copyInto(h, in, false)
		case *instructions.RunCommand:
			t.applyRun(h, t.m.Run(in))
		}
	}
	t.stages[s] = h
	return h
}

// copyInto adds what a COPY or ADD puts in the image to h. Only the stages
// that ship keep what dfopt cannot list (roots) and the paths it knows a
// copy wrote without listing them (exact): in a builder stage they say
// nothing of the files a COPY --from takes.
func (t *copyTracer) copyInto(h *holdings, in *rewrite.Instruction, ship bool) {
	var srcs []string
	var dest, from string
	var heredocs []instructions.SourceContent
	switch c := in.Command.(type) {
	case *instructions.CopyCommand:
		srcs, dest, from, heredocs = c.SourcePaths, c.DestPath, c.From, c.SourceContents
	case *instructions.AddCommand:
		srcs, dest, heredocs = c.SourcePaths, c.DestPath, c.SourceContents
	}
	st := t.m.State(in)
	d, ok := st.Expand(t.m.Lex, dest)
	if !ok || !path.IsAbs(d) && st.Workdir == "" {
		return // copies to where dfopt cannot tell
	}
	destDir := strings.HasSuffix(d, "/") || d == "." || strings.HasSuffix(d, "/.") || len(srcs)+len(heredocs) > 1
	if !path.IsAbs(d) {
		d = path.Join(st.Workdir, d)
	}
	dest = path.Clean(d)
	destDir = destDir || t.knownDir(h, in, dest)

	put := func(p string, e held) {
		if !ship && e.exact {
			return
		}
		h.paths[p] = e
	}
	for _, hd := range heredocs {
		p := dest
		if destDir {
			p = path.Join(dest, hd.Path)
		}
		put(p, held{by: in})
	}
	if len(srcs) == 0 {
		return
	}
	// ADD unpacks a local tar archive, whatever its name, and with
	// --unpack=true a downloaded one too.
	unpacksLocal, unpacksURL := false, false
	if c, ok := in.Command.(*instructions.AddCommand); ok {
		unpacksLocal = c.Unpack == nil || *c.Unpack
		unpacksURL = c.Unpack != nil && *c.Unpack
	}
	// exact holds the paths a copy writes whatever dfopt can list: for a
	// source that names a file (no wildcard, no final slash, no archive
	// ADD unpacks), the destination or the source's name in it.
	var named []string
	exact := func() {
		for _, s := range srcs {
			name := path.Base(s)
			switch {
			case isRemote(s):
				if name = downloadName(s); name == "" || unpacksURL {
					continue
				}
			case unpacksLocal || strings.ContainsAny(s, "*?[$") || strings.HasSuffix(s, "/") || path.Clean(s) == ".":
				continue
			}
			p := dest
			if destDir {
				p = path.Join(dest, name)
			}
			named = append(named, p)
			put(p, held{by: in, exact: true})
		}
	}
	unlist := func(why string) {
		if ship {
			h.roots[dest] = unlisted{by: in, why: why, named: named}
		}
	}

	switch stage := t.stageNamed(in, from); {
	case from != "" && stage == nil:
		exact()
		unlist("it copies from the image " + from + ", which dfopt cannot see into")
	case from != "":
		// Only what the stage copied from the build context is known.
		t.copyFrom(t.stageHoldings(stage), in, srcs, dest, destDir, put)
	case slices.ContainsFunc(srcs, isRemote):
		exact()
		if unpacksURL || slices.ContainsFunc(srcs, func(s string) bool { return isRemote(s) && downloadName(s) == "" }) {
			unlist("it copies from a URL")
		}
	case t.ctx == nil:
		exact()
		unlist("dfopt has no build context to list what it copies")
	default:
		c := t.copies[in]
		if c == nil {
			return
		}
		files, why := c.landings(t.ctx, dest, destDir)
		for _, f := range files {
			put(f.image, held{by: in})
		}
		if why != "" {
			unlist(why)
		}
	}
}

// knownDir tells whether dest is a folder in the image before in: the
// working folder or one above it, a folder the copies so far filled, or a
// folder every base image with a shell has.
func (t *copyTracer) knownDir(h *holdings, in *rewrite.Instruction, dest string) bool {
	if dest == "/" || h.hasBelow(dest) {
		return true
	}
	if wd := t.m.State(in).Workdir; wd != "" && (wd == dest || strings.HasPrefix(wd, dest+"/")) {
		return true
	}
	root := in.Stage
	for root != nil && t.doc.Parent(root) != nil {
		root = t.doc.Parent(root)
	}
	if root != nil && strings.EqualFold(root.Base, "scratch") {
		return false
	}
	return slices.Contains([]string{"/bin", "/etc", "/home", "/root", "/tmp", "/usr", "/var"}, dest)
}

// stageNamed returns the stage of this file a COPY --from names, or nil for
// an image (or a name dfopt cannot read).
func (t *copyTracer) stageNamed(in *rewrite.Instruction, from string) *rewrite.Stage {
	if from == "" || strings.Contains(from, "$") {
		return nil
	}
	for _, s := range t.doc.Stages {
		if s.Index >= in.Stage.Index {
			break
		}
		if strings.EqualFold(s.Name, from) || fmt.Sprint(s.Index) == from {
			return s
		}
	}
	return nil
}

// copyFrom puts in the image the files of a stage a COPY --from takes, as
// far as the stage's own copies tell: a folder's contents go into dest, a
// file into dest when it is a folder, or as dest.
func (t *copyTracer) copyFrom(from *holdings, in *rewrite.Instruction, srcs []string, dest string, destDir bool, put func(string, held)) {
	type root struct {
		path string
		dir  bool
	}
	// The folders the stage's files are in, for sources that name one.
	dirs := map[string]bool{"/": true}
	for p, e := range from.paths {
		for q := path.Dir(p); !e.exact && !dirs[q]; q = path.Dir(q) {
			dirs[q] = true
		}
	}
	isFile := func(p string) bool { e, ok := from.paths[p]; return ok && !e.exact }
	var roots []root
	for _, s := range srcs {
		if strings.Contains(s, "$") {
			continue
		}
		s = path.Clean("/" + s)
		if !strings.ContainsAny(s, "*?[") {
			if isFile(s) || dirs[s] {
				roots = append(roots, root{s, dirs[s]})
			}
			continue
		}
		depth := strings.Count(s, "/")
		for _, p := range slices.Sorted(maps.Keys(from.paths)) {
			if isFile(p) && strings.Count(p, "/") == depth && matchSource(s, p) {
				roots = append(roots, root{p, false})
			}
		}
		for _, p := range slices.Sorted(maps.Keys(dirs)) {
			if p != "/" && strings.Count(p, "/") == depth && matchSource(s, p) {
				roots = append(roots, root{p, true})
			}
		}
	}
	destDir = destDir || len(roots) > 1
	for _, r := range roots {
		if !r.dir {
			e := from.paths[r.path]
			e.by = in
			if destDir {
				put(path.Join(dest, path.Base(r.path)), e)
			} else {
				put(dest, e)
			}
			continue
		}
		for p, e := range from.paths {
			below, ok := strings.CutPrefix(p, strings.TrimSuffix(r.path, "/")+"/")
			if e.exact || !ok {
				continue
			}
			e.by = in
			put(path.Join(dest, below), e)
		}
	}
}

// downloadName is the name of the file an ADD of a URL writes: the last
// element of the URL's path, as BuildKit names it; "" for a Git source or
// a URL whose path names no file.
func downloadName(src string) string {
	u, err := url.Parse(src)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Fragment != "" || strings.HasSuffix(u.Path, ".git") {
		return ""
	}
	if name := path.Base(u.Path); name != "." && name != "/" {
		return name
	}
	return ""
}

// matchSource tells whether a COPY source with wildcards matches a path,
// as BuildKit matches them.
func matchSource(pattern, p string) bool {
	ok, err := path.Match(pattern, p)
	return ok && err == nil
}

// applyRun updates h for a RUN: what it surely deletes goes, what it may
// delete or move is marked.
func (t *copyTracer) applyRun(h *holdings, r *runmodel.Run) {
	if r == nil {
		return
	}
	fx := t.effectsOf(r)
	for p, e := range h.paths {
		switch gone, may, why := fx.fate(p, e.exact, nil); {
		case gone:
			delete(h.paths, p)
		case may && !e.maybe:
			e.maybe, e.why = true, why
			h.paths[p] = e
		}
	}
	for root := range h.roots {
		for _, rm := range fx.removals {
			if rm.Known && rm.Removes(root, true) && rm.Cmd.Always() && !fx.hidden(root) {
				delete(h.roots, root)
			}
		}
	}
}

// runEffects is what the commands of one RUN may delete.
type runEffects struct {
	r        *runmodel.Run
	line     int // the RUN's line in the input
	removals []runmodel.Removal
	deletes  map[*runmodel.Cmd][]runmodel.Place // the other commands
	// mounts are what the RUN's --mount flags put over the image; what is
	// there the RUN cannot touch. mountsKnown is false when dfopt cannot
	// tell where one goes.
	mounts      []string
	mountsKnown bool
}

// hidden tells whether a mount of the RUN covers the image's path p (or, not
// knowing where a mount goes, may cover it).
func (fx *runEffects) hidden(p string) bool {
	if !fx.mountsKnown {
		return true
	}
	return slices.ContainsFunc(fx.mounts, func(t string) bool { return t == "/" || p == t || strings.HasPrefix(p, t+"/") })
}

func (t *copyTracer) effectsOf(r *runmodel.Run) *runEffects {
	m := t.m
	fx := &runEffects{r: r, line: t.pass.InputLine(r.In.StartLine), removals: m.Removals(r), deletes: map[*runmodel.Cmd][]runmodel.Place{}}
	fx.mounts, fx.mountsKnown = m.MountTargets(r)
	st := m.State(r.In)
	for _, c := range r.Cmds {
		if !c.Opaque && c.Is("rm", "unlink") {
			continue
		}
		fx.deletes[c] = m.Deletes(r, c, st)
	}
	return fx
}

// fate tells what the RUN does to the path p: gone when an rm that always
// runs surely deletes it; may when it may be deleted or moved (an rm that
// does not always run, or whose operand is not known; another command that
// names it or may do anything). With before set, only the commands before
// it count.
func (fx *runEffects) fate(p string, exact bool, before *runmodel.Cmd) (gone, may bool, why string) {
	if fx.hidden(p) {
		return false, false, "" // the RUN sees a mount there
	}
	counts := func(c *runmodel.Cmd) bool { return before == nil || runmodel.Before(c, before) }
	for _, rm := range fx.removals {
		if !counts(rm.Cmd) {
			continue
		}
		switch {
		case removes(rm, p, exact) && rm.Cmd.Always():
			return true, false, ""
		case removes(rm, p, exact) || !rm.Known && rm.MayRemove(p):
			may, why = true, fmt.Sprintf("rm %s at line %d may delete it", rm.Operand, fx.line)
		}
	}
	if may {
		return false, true, why
	}
	place := runmodel.Place{Path: p}
	for _, c := range fx.r.Cmds {
		if !counts(c) {
			continue
		}
		for _, q := range fx.deletes[c] {
			if q.Overlaps(place) {
				if c.Opaque || c.Name == "" {
					return false, true, fmt.Sprintf("%s at line %d may delete or move it: dfopt cannot see what it does", cmp.Or(c.Name, "a command"), fx.line)
				}
				return false, true, fmt.Sprintf("%s at line %d may delete or move it", c.Name, fx.line)
			}
		}
	}
	return false, false, ""
}

// removes tells whether an rm surely deletes a held path: a file, or a
// path a copy surely wrote, file or folder.
func removes(rm runmodel.Removal, p string, exact bool) bool {
	return rm.Removes(p, false) || exact && rm.Removes(p, true)
}

// removed is what one RUN deletes of what one COPY or ADD put in the image.
type removed struct {
	by    *rewrite.Instruction
	sure  []string // paths it surely deletes
	maybe []string // paths it may delete
	why   string   // why it may
}

// reportRemoved reports the files of h a RUN deletes, one finding for each
// COPY or ADD they came from.
func (t *copyTracer) reportRemoved(h *holdings, r *runmodel.Run) {
	if r == nil {
		return
	}
	p := t.pass
	fx := t.effectsOf(r)
	byCopy := map[*rewrite.Instruction]*removed{}
	get := func(in *rewrite.Instruction) *removed {
		if byCopy[in] == nil {
			byCopy[in] = &removed{by: in}
		}
		return byCopy[in]
	}
	for _, pth := range slices.Sorted(maps.Keys(h.paths)) {
		e := h.paths[pth]
		i := slices.IndexFunc(fx.removals, func(rm runmodel.Removal) bool { return removes(rm, pth, e.exact) })
		if i < 0 || fx.hidden(pth) {
			continue
		}
		rm := fx.removals[i]
		why := e.why
		if !e.maybe {
			_, may, w := fx.fate(pth, e.exact, rm.Cmd)
			if may {
				why = w
			} else if !rm.Cmd.Always() {
				why = fmt.Sprintf("the rm at line %d does not always run", fx.line)
			}
		}
		x := get(e.by)
		if why == "" {
			x.sure = append(x.sure, pth)
		} else {
			x.maybe = append(x.maybe, pth)
			x.why = cmp.Or(x.why, why)
		}
	}
	for _, x := range slices.SortedFunc(maps.Values(byCopy), func(a, b *removed) int { return a.by.StartLine - b.by.StartLine }) {
		slices.Sort(x.sure)
		slices.Sort(x.maybe)
		line := p.InputLine(x.by.StartLine)
		if len(x.sure) > 0 {
			p.Report(rewrite.Finding{Line: r.In.StartLine, Message: fmt.Sprintf(
				"removes %s, which the %s at line %d put in the image: %s still ship in that layer (%s)",
				nameSome(x.sure), copyName(x.by), line, bytesOf(x.sure), copyThenRemoveFix)})
			continue
		}
		p.Report(rewrite.Finding{Line: r.In.StartLine, Message: fmt.Sprintf(
			"may remove %s, which the %s at line %d put in the image (%s): if it does, %s still ship in that layer (%s)",
			nameSome(x.maybe), copyName(x.by), line, x.why, bytesOf(x.maybe), copyThenRemoveFix)})
	}
	t.reportUnlisted(h, fx, byCopy)
}

// reportUnlisted reports an rm that may delete what a copy brought that
// dfopt cannot list: one below its destination (for the copy whose
// destination holds it most closely), or one that deletes the destination
// with everything in it. An rm of what the RUN itself may have made before
// is not reported.
func (t *copyTracer) reportUnlisted(h *holdings, fx *runEffects, done map[*rewrite.Instruction]*removed) {
	p, r := t.pass, fx.r
	reported := map[*rewrite.Instruction]bool{}
	for _, rm := range fx.removals {
		if !rm.Known {
			continue
		}
		target, whole := runmodel.GlobLiteral(rm.Pattern)
		if fx.hidden(target) {
			continue
		}
		var roots []string
		inner := ""
		for _, dest := range slices.Sorted(maps.Keys(h.roots)) {
			switch {
			case dest == "/":
			case rm.Removes(dest, true):
				roots = append(roots, dest)
			case (strings.HasPrefix(target, dest+"/") || target == dest && !whole) && len(dest) > len(inner):
				inner = dest
			}
		}
		if inner != "" {
			roots = append(roots, inner)
		}
		for _, root := range roots {
			u := h.roots[root]
			switch {
			case done[u.by] != nil || reported[u.by]:
				continue
			case slices.ContainsFunc(u.named, func(n string) bool { return target == n || strings.HasPrefix(target, n+"/") }):
				continue // what the copy surely wrote is reported as such
			case t.m.WriterBefore(r, rm.Cmd, []runmodel.Place{{Path: target}}) != nil:
				continue // the RUN may have made what it removes
			}
			reported[u.by] = true
			p.Report(rewrite.Finding{Line: r.In.StartLine, Message: fmt.Sprintf(
				"may remove, with rm %s, files that the %s at line %d put in %s (%s): if it does, their bytes still ship in that layer (%s)",
				rm.Operand, copyName(u.by), p.InputLine(u.by.StartLine), root, u.why, copyThenRemoveFix)})
		}
	}
}

const copyThenRemoveFix = "use RUN --mount=type=bind for files only a build step reads, or a builder stage"

// copyName names a COPY or ADD for a message: COPY, ADD, COPY --from=build.
func copyName(in *rewrite.Instruction) string {
	if c, ok := in.Command.(*instructions.CopyCommand); ok && c.From != "" {
		return "COPY --from=" + c.From
	}
	return strings.ToUpper(in.Keyword)
}

// nameSome names a path or two, and says how many more there are.
func nameSome(paths []string) string {
	switch len(paths) {
	case 1:
		return paths[0]
	case 2:
		return paths[0] + " and " + paths[1]
	}
	if len(paths) == 3 {
		return fmt.Sprintf("%s, %s and 1 more file", paths[0], paths[1])
	}
	return fmt.Sprintf("%s, %s and %d more files", paths[0], paths[1], len(paths)-2)
}

func bytesOf(paths []string) string {
	if len(paths) == 1 {
		return "its bytes"
	}
	return "their bytes"
}
