package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/rewrite"
	"mvdan.cc/sh/v3/syntax"
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

// apkValueOptions are apk's options that take the next word as their value.
var apkValueOptions = map[string]bool{
	"-X": true, "--repository": true, "-p": true, "--root": true, "--arch": true,
	"--cache-dir": true, "--keys-dir": true, "--repositories-file": true,
	"--wait": true, "--timeout": true, "--cache-max-age": true,
}

// apkCall is one apk command of a RUN.
type apkCall struct {
	call    *syntax.CallExpr
	verb    string // "" when it cannot be read (an expansion before it)
	verbIdx int
	noCache bool // --no-cache: reads and writes no index cache
	refresh bool // --update-cache (-U, --update): refreshes the index before using it
}

func apkCalls(f *syntax.File) []apkCall {
	var out []apkCall
	for _, c := range runCommands(f) {
		if baseName(c.Args[0].Lit()) != "apk" {
			continue
		}
		a := apkCall{call: c, verbIdx: pkgVerbIndex(c, apkValueOptions)}
		if a.verbIdx > 0 {
			a.verb = c.Args[a.verbIdx].Lit()
		}
		a.noCache = hasWord(c, "--no-cache")
		a.refresh = hasWord(c, "-U", "--update-cache", "--update")
		out = append(out, a)
	}
	return out
}

// readsIndex tells whether the command reads apk's cached index: anything
// but apk del and apk update, unless it runs with --no-cache.
func (a apkCall) readsIndex() bool {
	return !a.noCache && a.verb != "del" && a.verb != "update"
}

// writesIndex tells whether the command may leave an index in /var/cache/apk.
func (a apkCall) writesIndex() bool {
	return !a.noCache && a.verb != "del"
}

// pkgVerbIndex returns the index in c.Args of a package manager's verb: the
// first word after the name that is neither an option nor the value of one
// of valued. It is -1 when no verb is found or a word before it is not a
// plain literal (it could hold anything).
func pkgVerbIndex(c *syntax.CallExpr, valued map[string]bool) int {
	for i := 1; i < len(c.Args); i++ {
		w := c.Args[i].Lit()
		switch {
		case w == "" || w == "--":
			return -1
		case strings.HasPrefix(w, "-"):
			if valued[w] {
				i++
			}
		default:
			return i
		}
	}
	return -1
}

func runApkNoCache(p *rewrite.Pass) {
	d := p.Doc
	ship := d.Shipping()
	// noIndex holds the RUNs that, once this pass's edits are applied, leave
	// no index in their layer; later RUNs count on it.
	noIndex := map[*rewrite.Instruction]bool{}
	for _, st := range d.Stages {
		if !ship[st] {
			continue
		}
		for _, in := range st.Instructions {
			if in.Keyword != "run" || in.Shell == nil || hasCacheMount(in, apkCacheDirs...) {
				continue
			}
			if p.Options.CacheMounts && apkCacheMountRun(p, in) {
				noIndex[in] = true
			} else {
				noIndex[in] = apkNoCacheRun(p, st, in, noIndex)
			}
			reportVirtualApart(p, st, in, ship)
		}
	}
}

// apkNoCacheRun gives every apk add of the RUN --no-cache and drops the apk
// update and the removal of /var/cache/apk that it makes redundant. It tells
// whether the RUN, so edited, leaves no index in its layer.
func apkNoCacheRun(p *rewrite.Pass, st *rewrite.Stage, in *rewrite.Instruction, noIndex map[*rewrite.Instruction]bool) bool {
	d := p.Doc
	calls := apkCalls(in.Shell.File)
	var edits []rewrite.Edit
	adds, added := 0, 0
	for _, a := range calls {
		if a.verb != "add" {
			continue
		}
		adds++
		if !a.noCache {
			edits = append(edits, insertAfter(in, a.call.Args[a.verbIdx].End(), " --no-cache"))
			added++
		}
	}
	if adds == 0 {
		return false
	}

	// Once every add has --no-cache, an apk update serves nothing but the
	// index it leaves, unless another command here or later reads it.
	var updates []*syntax.CallExpr
	othersFine := true
	for _, a := range calls {
		switch {
		case a.verb == "add" || a.verb == "del" || a.noCache:
		case a.verb == "update" && plainApkUpdate(a.call):
			updates = append(updates, a.call)
		default:
			othersFine = false
		}
	}
	droppedUpdates := 0
	if len(updates) > 0 && othersFine && !apkIndexReadLater(d, st, in) {
		for _, u := range updates {
			if e, ok := removeCommand(d, in, u); ok && !overlapsEdits(edits, e) {
				edits = append(edits, e...)
				droppedUpdates++
			}
		}
	}

	// With no index written by this RUN or an earlier one, removing
	// /var/cache/apk removes nothing.
	droppedRm := 0
	clean := othersFine && droppedUpdates == len(updates)
	if clean && !apkIndexWrittenBefore(d, st, in, noIndex) {
		for _, c := range runCommands(in.Shell.File) {
			e, ok := removeOperands(d, in, c, apkCacheDirs[0])
			if removesOnly(c, apkCacheDirs[:1]) {
				e, ok = removeCommand(d, in, c)
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
// removes the mount's parent, it leaves the RUN to --no-cache.
func apkCacheMountRun(p *rewrite.Pass, in *rewrite.Instruction) bool {
	d := p.Doc
	f := in.Shell.File
	calls := apkCalls(f)
	var edits []rewrite.Edit
	needs, refreshes := false, false
	refreshed := false // an apk update ran before, in this RUN
	for _, a := range calls {
		if a.verb == "update" {
			refreshed = true
		}
		if a.verb != "add" || a.noCache {
			continue
		}
		needs = true
		if !a.refresh && !refreshed {
			edits = append(edits, insertAfter(in, a.call.Args[a.verbIdx].End(), " --update-cache"))
			refreshes = true
		}
	}
	if !needs {
		return false
	}
	// The cache is the mount's now: an rm of its contents goes, and an rm
	// of the mount point itself would fail.
	for _, c := range runCommands(f) {
		if !removesUnder(c, apkCacheDirs[0]) {
			continue
		}
		e, ok := removeOperands(d, in, c, apkCacheDirs[0])
		if removesOnly(c, apkCacheDirs[:1]) {
			e, ok = removeCommand(d, in, c)
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

// cacheMountFlag is the BuildKit flag for a cache mount on dir.
func cacheMountFlag(dir string) string {
	return "--mount=type=cache,target=" + dir + ",sharing=locked"
}

// plainApkUpdate tells whether an apk update takes no options but output
// ones: one with a --repository or --root serves something else.
func plainApkUpdate(c *syntax.CallExpr) bool {
	for _, a := range c.Args[1:] {
		switch a.Lit() {
		case "update", "-q", "--quiet", "-v", "--verbose", "--no-progress":
		default:
			return false
		}
	}
	return true
}

// apkIndexReadLater tells whether a later RUN of the stage, or of a stage
// built FROM it, may read the index an apk update of this RUN leaves. An
// apk add this rule fixes in the same pass reads none, nor does one that a
// refresh of the index in its own RUN precedes.
func apkIndexReadLater(d *rewrite.Document, st *rewrite.Stage, in *rewrite.Instruction) bool {
	later := st.Instructions[slices.Index(st.Instructions, in)+1:]
	for _, s := range d.Descendants(st) {
		later = append(later, s.Instructions...)
	}
	ship := d.Shipping()
	for _, r := range later {
		if r.Keyword != "run" || hasCacheMount(r, apkCacheDirs...) {
			continue
		}
		if r.Shell == nil {
			if strings.Contains(r.Line, "apk") {
				return true // exec form, heredoc or another shell: cannot tell
			}
			continue
		}
		fixed := ship[r.Stage] && !mayBeIgnored(d, r)
		refreshed := false
		for _, a := range apkCalls(r.Shell.File) {
			switch {
			case a.verb == "":
				return true
			case a.verb == "update":
				refreshed = refreshed || unconditional(r.Shell.File, a.call)
			case a.verb == "add" && fixed:
			case a.readsIndex() && !a.refresh && !refreshed:
				return true
			}
		}
	}
	return false
}

// apkIndexWrittenBefore tells whether this RUN's stage, or a stage it is built
// FROM, ran apk in a way that may have left an index before this RUN. The
// RUNs in noIndex leave none once this pass's edits are applied.
func apkIndexWrittenBefore(d *rewrite.Document, st *rewrite.Stage, in *rewrite.Instruction, noIndex map[*rewrite.Instruction]bool) bool {
	earlier := slices.Clone(st.Instructions[:slices.Index(st.Instructions, in)])
	for s := d.Parent(st); s != nil; s = d.Parent(s) {
		earlier = append(earlier, s.Instructions...)
	}
	for _, r := range earlier {
		if r.Keyword != "run" || noIndex[r] || hasCacheMount(r, apkCacheDirs...) {
			continue
		}
		if r.Shell == nil {
			if strings.Contains(r.Line, "apk") {
				return true
			}
			continue
		}
		for _, a := range apkCalls(r.Shell.File) {
			if a.verb == "" || a.writesIndex() {
				return true
			}
		}
	}
	return false
}

// mayBeIgnored tells whether an ignore comment (of any rule) may stand right
// above the instruction, so that a rule cannot count on its own edit of it.
func mayBeIgnored(d *rewrite.Document, in *rewrite.Instruction) bool {
	for ln := in.StartLine - 1; ln >= 1; ln-- {
		text := strings.TrimSpace(d.LineText(ln))
		if !strings.HasPrefix(text, "#") {
			break
		}
		if strings.Contains(text, "ignore") {
			return true
		}
	}
	for ln := 1; len(d.Instructions) > 0 && ln < d.Instructions[0].StartLine; ln++ {
		if text := strings.TrimSpace(d.LineText(ln)); strings.HasPrefix(text, "#") && strings.Contains(text, "ignore") {
			return true
		}
	}
	return false
}

// reportVirtualApart reports an apk add --virtual NAME whose apk del NAME
// runs in a later RUN that merge-runs cannot merge with: the virtual
// group's packages ship in this RUN's layer.
func reportVirtualApart(p *rewrite.Pass, st *rewrite.Stage, in *rewrite.Instruction, ship map[*rewrite.Stage]bool) {
	d := p.Doc
	for _, name := range apkVirtualNames(in.Shell.File) {
		if apkDeletes(in.Shell.File, name) {
			continue
		}
		later := st.Instructions[slices.Index(st.Instructions, in)+1:]
		for _, s := range d.Descendants(st) {
			if ship[s] {
				later = append(later, s.Instructions...)
			}
		}
		for i, r := range later {
			if r.Keyword != "run" || r.Shell == nil || !apkDeletes(r.Shell.File, name) {
				continue
			}
			if r.Stage == st && mergeRunsJoins(d, append([]*rewrite.Instruction{in}, later[:i+1]...)) {
				break // merge-runs puts them in one RUN
			}
			p.Report(rewrite.Finding{
				Line: in.StartLine,
				Message: fmt.Sprintf("the virtual package %s is deleted only by the RUN at line %d: its files still ship in this RUN's layer; add and delete it in one RUN",
					name, p.InputLine(r.StartLine)),
			})
			break
		}
	}
}

// apkVirtualNames lists the names given to apk add --virtual (-t).
func apkVirtualNames(f *syntax.File) []string {
	var names []string
	for _, a := range apkCalls(f) {
		if a.verb != "add" {
			continue
		}
		args := a.call.Args
		for i := a.verbIdx + 1; i < len(args); i++ {
			w := args[i].Lit()
			switch {
			case (w == "--virtual" || w == "-t") && i+1 < len(args) && args[i+1].Lit() != "":
				names = append(names, args[i+1].Lit())
			case strings.HasPrefix(w, "--virtual=") && len(w) > len("--virtual="):
				names = append(names, strings.TrimPrefix(w, "--virtual="))
			}
		}
	}
	return names
}

// apkDeletes tells whether the program runs apk del with name among its operands.
func apkDeletes(f *syntax.File, name string) bool {
	for _, a := range apkCalls(f) {
		if a.verb != "del" {
			continue
		}
		for _, w := range a.call.Args[a.verbIdx+1:] {
			if w.Lit() == name {
				return true
			}
		}
	}
	return false
}

// mergeRunsJoins tells whether merge-runs can merge the consecutive
// instructions group into one RUN: all of them shell RUNs it accepts, with
// the same flags and no ignore comment above any of them.
func mergeRunsJoins(d *rewrite.Document, group []*rewrite.Instruction) bool {
	var prev *rewrite.Instruction
	if i := slices.Index(d.Instructions, group[0]); i > 0 {
		prev = d.Instructions[i-1]
	}
	for _, in := range group {
		if _, ok := mergeablePart(d, in); !ok || ignoreAbove(d, prev, in) {
			return false
		}
		if !slices.Equal(in.Node.Flags, group[0].Node.Flags) {
			return false
		}
		prev = in
	}
	return true
}

// hasCacheMount tells whether the RUN has a cache or tmpfs mount on one of
// dirs, or on a folder above one.
func hasCacheMount(in *rewrite.Instruction, dirs ...string) bool {
	for _, fl := range in.Node.Flags {
		opts, ok := strings.CutPrefix(fl, "--mount=")
		if !ok {
			continue
		}
		typ, target := "bind", ""
		for _, kv := range strings.Split(opts, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "type":
				typ = strings.ToLower(strings.Trim(v, `"'`))
			case "target", "dst", "destination":
				target = path.Clean(strings.Trim(v, `"'`))
			}
		}
		if typ != "cache" && typ != "tmpfs" || target == "" {
			continue
		}
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
func rmOperands(c *syntax.CallExpr) ([]string, bool) {
	if baseName(c.Args[0].Lit()) != "rm" {
		return nil, false
	}
	var ops []string
	for _, a := range c.Args[1:] {
		switch w := a.Lit(); {
		case w == "":
			return nil, false
		case !strings.HasPrefix(w, "-"):
			ops = append(ops, w)
		}
	}
	return ops, true
}

// removesOnly tells whether c is an rm whose every operand is one of dirs,
// or all that is in it (dir/*).
func removesOnly(c *syntax.CallExpr, dirs []string) bool {
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
func removesUnder(c *syntax.CallExpr, dir string) bool {
	ops, ok := rmOperands(c)
	if !ok {
		return false
	}
	for _, o := range ops {
		o = literalPrefix(o)
		if o == dir || strings.HasPrefix(o, dir+"/") || strings.HasPrefix(dir, o+"/") || o == "/" {
			return true
		}
	}
	return false
}

// removesAbove tells whether c is an rm that would remove dir itself: an
// operand that names or matches it or a folder above it. A mount point there
// makes the rm fail.
func removesAbove(c *syntax.CallExpr, dir string) bool {
	ops, ok := rmOperands(c)
	if !ok {
		return false
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
func removeOperands(d *rewrite.Document, in *rewrite.Instruction, c *syntax.CallExpr, dir string) ([]rewrite.Edit, bool) {
	ops, ok := rmOperands(c)
	if !ok {
		return nil, false
	}
	var edits []rewrite.Edit
	for i, a := range c.Args[1:] {
		w := a.Lit()
		if strings.HasPrefix(w, "-") || strings.TrimSuffix(strings.TrimSuffix(w, "*"), "/") != dir {
			continue
		}
		e := rewrite.Edit{Start: srcEndPos(in, c.Args[i].End()), End: srcEndPos(in, a.End())}
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

// overlapsEdits tells whether an edit of b overlaps one of a, or starts where
// it starts (the order of the two would be undefined).
func overlapsEdits(a, b []rewrite.Edit) bool {
	for _, x := range a {
		for _, y := range b {
			if x.Start < y.End && y.Start < x.End || x.Start == y.Start {
				return true
			}
		}
	}
	return false
}

// removeCommand returns the edits that take a simple command out of a RUN's
// program together with the && or ; that joins it to its neighbour, so that
// what remains runs the same commands in the same way. It handles a command
// that is a statement of the program's top level or a link of a top-level
// && chain; elsewhere (if, ||, a pipe, a subshell), or alone in the program,
// it gives false.
//
// Comment lines of the continuation right above the command go with it: in
// both the leading and the trailing && layouts they are about it.
func removeCommand(d *rewrite.Document, in *rewrite.Instruction, call *syntax.CallExpr) ([]rewrite.Edit, bool) {
	f := in.Shell.File
	stmts := f.Stmts
	for i, s := range stmts {
		if s.Cmd == call {
			if !plainStmt(s) || len(stmts) < 2 {
				return nil, false
			}
			if i < len(stmts)-1 {
				return removeFirst(d, in, s.Pos(), s.End(), stmts[i+1].Pos(), syntax.Pos{}), true
			}
			prev := stmts[i-1]
			if !prev.Semicolon.IsValid() || prev.Background || prev.Coprocess || prev.Disown {
				return nil, false
			}
			return []rewrite.Edit{{Start: srcPos(in, prev.Semicolon), End: srcEndPos(in, s.End())}}, true
		}
		if !plainStmt(s) {
			continue
		}
		links, ops := andLinks(s)
		k := slices.IndexFunc(links, func(l *syntax.Stmt) bool { return l.Cmd == call })
		if k < 0 || len(links) < 2 {
			continue
		}
		if !plainStmt(links[k]) {
			return nil, false
		}
		if k == 0 {
			return removeFirst(d, in, links[0].Pos(), links[0].End(), links[1].Pos(), ops[0]), true
		}
		return []rewrite.Edit{{Start: srcEndPos(in, links[k-1].End()), End: srcEndPos(in, links[k].End())}}, true
	}
	return nil, false
}

// removeFirst takes out a command (from start to end) that the next one
// (at next) follows: everything up to the next command goes, unless comment
// lines stand in between, which are about the next command; then only the
// command and its joiner op (the && at op, or the ; its end includes) go,
// with the blanks after them.
func removeFirst(d *rewrite.Document, in *rewrite.Instruction, start, end, next, op syntax.Pos) []rewrite.Edit {
	s, n := srcPos(in, start), srcPos(in, next)
	if !hasCommentLine(d, s, n) {
		return []rewrite.Edit{{Start: s, End: n}}
	}
	edits := []rewrite.Edit{{Start: s, End: skipBlanks(d, srcEndPos(in, end))}}
	if op.IsValid() {
		o := srcPos(in, op)
		edits = append(edits, rewrite.Edit{Start: o, End: skipBlanks(d, o+len("&&"))})
	}
	return edits
}

// andLinks splits a statement that is a chain of && into its links and the
// positions of the && between them.
func andLinks(s *syntax.Stmt) ([]*syntax.Stmt, []syntax.Pos) {
	b, ok := s.Cmd.(*syntax.BinaryCmd)
	if !ok || b.Op != syntax.AndStmt || s != nil && (s.Negated || len(s.Redirs) > 0) {
		return []*syntax.Stmt{s}, nil
	}
	lx, ox := andLinks(b.X)
	ly, oy := andLinks(b.Y)
	ops := append(append(ox, b.OpPos), oy...)
	return append(lx, ly...), ops
}

// plainStmt tells whether a statement runs its command as is: not negated,
// not in the background, without redirections.
func plainStmt(s *syntax.Stmt) bool {
	return !s.Negated && !s.Background && !s.Coprocess && !s.Disown && len(s.Redirs) == 0
}

// hasCommentLine tells whether a comment line of the source starts inside
// [start, end).
func hasCommentLine(d *rewrite.Document, start, end int) bool {
	for ln := d.LineOf(start) + 1; ln <= d.Lines() && d.LineStart(ln) < end; ln++ {
		if strings.HasPrefix(strings.TrimLeft(d.LineText(ln), " \t"), "#") {
			return true
		}
	}
	return false
}

// skipBlanks returns the offset after the spaces and tabs at off.
func skipBlanks(d *rewrite.Document, off int) int {
	for off < len(d.Src) && (d.Src[off] == ' ' || d.Src[off] == '\t') {
		off++
	}
	return off
}
