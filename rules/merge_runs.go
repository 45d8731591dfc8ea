package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
)

// MergeRuns joins consecutive shell-form RUNs into one, so the image has one
// layer where it had many, without letting one RUN's shell state reach the next.
var MergeRuns = &rewrite.Rule{
	Name:     "merge-runs",
	Title:    "Merge RUNs whose bytes a later RUN removes, and a lone index refresh with its install",
	Kind:     rewrite.Safe,
	Hadolint: []string{"DL3059"},
	Doc: `Every RUN makes a layer, and files a later RUN deletes still ship in
the layer of the RUN that wrote them. So a RUN that removes what an earlier RUN
of the same stage wrote (a file, a package list, a cache, a package it
installed) is merged with that RUN and every RUN between them, in stages whose
files reach the image: only then are those bytes never shipped. The finding
names the two RUNs. A RUN that only refreshes a package manager's index (apt-get
update, apk update, yum makecache) is merged with the next RUN when that one
installs with the same manager: alone, its layer ships the index, and once
cached it hands the install a stale one. Other consecutive RUNs stay apart:
merging them saves a layer but no bytes, and costs the cache its finer steps.

--merge=small also merges consecutive small RUNs (two commands or fewer each,
as hadolint's DL3059 counts); --merge=all does that in builder stages too.

Each RUN runs in a fresh shell, so the merge keeps them apart where it matters:
a RUN whose top level changes the shell (cd, pushd, export, unset, a variable
assignment, set, shopt, umask, ulimit, trap, alias, a function, source, exec,
exit, return, ... also written \cd, "cd", command cd or builtin cd) runs in a
subshell ( ... ) when another part follows it; a RUN with ;, || or several
statements is grouped in { ...; } so that && in front of it still decides
whether all of it runs; a trailing shell comment moves to a comment line of
its own.

A merge also keeps the point where the build stops. POSIX shells ignore set -e
in every part of an && list but the last, so a RUN that sets errexit (set -e,
set -o errexit) or a trap is merged only as the last part, and under a SHELL
that stops at the first failure (-e) every part but the last must be a plain
chain of commands, where errexit changes nothing.

RUNs are never merged across another instruction or an ignore comment, when
their flags (--mount, --network, --security, --device) differ, when a mount is
fresh for each RUN (tmpfs, a writable bind mount: merged, the second part
would see what the first wrote), in exec (JSON) form, with heredocs, under a
SHELL that is not POSIX, when one leaves a background job running, when it
reads what its own shell did or is ($_, LINENO, SECONDS, /proc/self), or when its
program ends in a backslash that would escape the joined text (a literal \
under the backtick escape). Builder stages, whose layers never ship, keep
their RUNs apart unless --merge=all.

Bad:

    RUN curl -fsSLo /tmp/src.tgz https://example.com/src.tgz
    RUN cd /tmp && tar xzf src.tgz && make -C src install
    RUN rm -rf /tmp/src.tgz /tmp/src

Good:

    RUN curl -fsSLo /tmp/src.tgz https://example.com/src.tgz \
        && ( cd /tmp && tar xzf src.tgz && make -C src install ) \
        && rm -rf /tmp/src.tgz /tmp/src
`,
	Run: runMergeRuns,
}

// runPart is one RUN about to be merged.
type runPart struct {
	in      *rewrite.Instruction
	run     *runmodel.Run
	text    string // the program's source, continuation lines as written, without a trailing comment
	comment string // the trailing shell comment, if any
	shape   runmodel.Shape
}

func runMergeRuns(p *rewrite.Pass) {
	d := p.Doc
	m := runmodel.Of(d)
	ship := d.Shipping()
	for _, st := range d.Stages {
		if !ship[st] && !p.Options.MergeAll {
			continue
		}
		var seq []runPart // consecutive RUNs that could be merged
		flush := func() {
			mergeSequence(p, m, seq)
			seq = nil
		}
		var prev *rewrite.Instruction
		for _, in := range st.Instructions {
			part, ok := mergeablePart(d, m, in)
			if !ok || ignoreAbove(d, prev, in) {
				// A RUN under an ignore comment stays as it is: merging would
				// widen the comment's reach to the other RUNs, or move it inside.
				flush()
				prev = in
				continue
			}
			prev = in
			if len(seq) > 0 && !slices.Equal(seq[0].in.Node.Flags, in.Node.Flags) {
				flush()
			}
			seq = append(seq, part)
		}
		flush()
	}
}

// mergeSequence decides which neighbours of a sequence of consecutive RUNs to
// merge, and reports each resulting group. A RUN that removes what an earlier
// one wrote (a file, a package, a cache) is merged with it and everything
// between: only then are those bytes never shipped. With --merge=small (or
// all), two small RUNs (two commands or fewer each, as hadolint's DL3059
// counts) are merged too: that saves a layer, not bytes.
//
// A merge must stop where each RUN stopped. A RUN that sets errexit or a trap
// keeps its meaning only as the last of a group; under a SHELL that stops at
// the first failure (-e), every RUN but the last must be a plain chain of
// commands, in which errexit changes nothing.
func mergeSequence(p *rewrite.Pass, m *runmodel.Model, seq []runPart) {
	if len(seq) < 2 {
		return
	}
	errexitShell := m.State(seq[0].in).Errexit()
	link := make([]bool, len(seq)-1) // link[i]: merge seq[i] with seq[i+1]
	small := func(r runPart) bool { return r.shape.Commands <= 2 }
	canLead := func(r runPart) bool { // seq[i] may have a part after it
		return !r.shape.Errexit && (!errexitShell || r.shape.Plain)
	}
	if p.Options.MergeSmall || p.Options.MergeAll {
		for i := range link {
			link[i] = small(seq[i]) && small(seq[i+1])
		}
	}
	index := map[int]bool{} // i: seq[i] only refreshes the index seq[i+1] installs from
	for i := range link {
		if m := refreshOnly(seq[i].run); m != nil && usesIndex(seq[i+1].run, m) {
			index[i], link[i] = true, true
		}
	}
	reclaim := map[int]int{}                     // index of a removing RUN -> the earliest RUN it reclaims from
	left := make([]runmodel.Footprint, len(seq)) // what each leaves, worked out once
	for k := range seq {
		left[k] = seq[k].run.Left()
	}
	for j := 1; j < len(seq); j++ {
		removed := seq[j].run.Removed()
		for k := 0; k < j; k++ {
			if removed.Reclaims(left[k]) {
				reclaim[j] = k
				for i := k; i < j; i++ {
					link[i] = true
				}
				break
			}
		}
	}
	for i := range link {
		link[i] = link[i] && canLead(seq[i])
	}
	start := 0
	for i := 0; i <= len(link); i++ {
		if i < len(link) && link[i] {
			continue
		}
		if i > start {
			reportMerge(p, seq[start:i+1], start, reclaim, index)
		}
		start = i + 1
	}
}

// mergeablePart reads a RUN that can take part in a merge: a shell-form RUN
// whose program dfopt parsed, that leaves no job running, whose text can
// have another joined after it, and whose mounts are not fresh for each
// RUN (tmpfs, a writable bind mount: merged, the second part would see what
// the first wrote there).
func mergeablePart(d *rewrite.Document, m *runmodel.Model, in *rewrite.Instruction) (runPart, bool) {
	if in.Keyword != "run" || in.Shell == nil {
		return runPart{}, false // exec form, heredoc, non-POSIX shell, or a program that does not parse
	}
	r := m.Run(in)
	shape, ok := r.Shape()
	f := in.Shell.File
	if !ok || shape.Background || shape.TrailingEscape || shape.Introspects || len(f.Stmts) == 0 {
		return runPart{}, false
	}
	for _, mt := range r.Mounts {
		if mt.Fresh() {
			return runPart{}, false
		}
	}
	// A trailing ; is dropped: the part ends with its last command.
	start := in.SrcOffset(in.ArgsOff)
	stop := srcEndPos(in, stmtEnd(f.Stmts[len(f.Stmts)-1]))
	part := runPart{
		in:    in,
		run:   r,
		text:  strings.TrimRight(string(d.Src[start:stop]), " \t"),
		shape: shape,
	}
	if c, ok := runmodel.TrailingComment(f); ok {
		cs := in.SrcOffset(in.ArgsOff + int(c.Pos().Offset()))
		if d.LineOf(cs) != in.EndLine {
			return runPart{}, false // the comment runs over a continuation: keep the RUN as it is
		}
		part.comment = strings.TrimRight(string(d.Src[cs:d.LineTextEnd(in.EndLine)]), " \t")
		if strings.HasSuffix(part.comment, string(d.Escape)) {
			// A comment ending in the escape continues onto the next line,
			// even if that line is blank or missing at the end of the file:
			// kept as it is, whatever the blank lines after it.
			return runPart{}, false
		}
	}
	return part, true
}

// ignoreAbove tells whether an ignore comment stands between the previous
// instruction and in.
func ignoreAbove(d *rewrite.Document, prev, in *rewrite.Instruction) bool {
	from := 1
	if prev != nil {
		from = prev.EndLine + 1
	}
	for ln := from; ln < in.StartLine; ln++ {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(d.LineText(ln)), "#"))
		if len(f) >= 2 && (f[0] == "dfopt" || f[0] == "hadolint") {
			return true
		}
	}
	return false
}

func reportMerge(p *rewrite.Pass, group []runPart, offset int, reclaim map[int]int, index map[int]bool) {
	d := p.Doc
	esc := string(d.Escape)
	first, last := group[0].in, group[len(group)-1].in
	kwStart, _ := d.KeywordSpan(first)
	var b strings.Builder
	b.WriteString(string(d.Src[kwStart:first.SrcOffset(first.ArgsOff)]))
	for i, part := range group {
		if i > 0 {
			prev := group[i-1]
			b.WriteString(" " + esc + "\n")
			if prev.comment != "" {
				b.WriteString("    " + prev.comment + "\n")
			}
			for ln := prev.in.EndLine + 1; ln < part.in.StartLine; ln++ {
				if line := d.LineText(ln); strings.TrimSpace(line) != "" {
					b.WriteString(line + "\n") // comments between the RUNs stay, inside the continuation
				}
			}
			b.WriteString("    && ")
		}
		isLast := i == len(group)-1
		switch {
		case part.shape.Leaks && !isLast:
			b.WriteString("( " + part.text + " )")
		case i > 0 && !part.shape.Chain:
			b.WriteString("{ " + part.text + "; }")
		default:
			b.WriteString(part.text)
		}
		if isLast && part.comment != "" {
			b.WriteString(" " + part.comment)
		}
	}
	msg := fmt.Sprintf("%d consecutive RUN instructions (lines %d to %d) make %d layers: merge them into one",
		len(group), p.InputLine(first.StartLine), p.InputLine(last.StartLine), len(group))
	for i := range group[:len(group)-1] {
		if index[offset+i] {
			msg = fmt.Sprintf("the RUN at line %d only refreshes %s's package index, which its layer ships and, once cached, keeps stale for the install at line %d: merge lines %d to %d into one RUN",
				p.InputLine(group[i].in.StartLine), refreshOnly(group[i].run).Name, p.InputLine(group[i+1].in.StartLine), p.InputLine(first.StartLine), p.InputLine(last.StartLine))
			break
		}
	}
	for j := offset + len(group) - 1; j > offset; j-- {
		if k, ok := reclaim[j]; ok && k >= offset {
			msg = fmt.Sprintf("the RUN at line %d removes what the RUN at line %d wrote, whose layer still ships it: merge lines %d to %d into one RUN",
				p.InputLine(group[j-offset].in.StartLine), p.InputLine(group[k-offset].in.StartLine), p.InputLine(first.StartLine), p.InputLine(last.StartLine))
			break
		}
	}
	p.Report(rewrite.Finding{
		Line:    first.StartLine,
		Message: msg,
		Edits:   []rewrite.Edit{{Start: kwStart, End: d.LineTextEnd(last.EndLine), New: b.String()}},
	})
}

// refreshOnly returns the package manager whose index the RUN refreshes when
// that is all it does (apt-get update, apk update, yum makecache), or nil.
func refreshOnly(r *runmodel.Run) *runmodel.Manager {
	if ok, _ := r.Opaque(); ok || len(r.Cmds) == 0 {
		return nil
	}
	var m *runmodel.Manager
	for _, c := range r.Cmds {
		cm := runmodel.ManagerOf(c)
		if cm == nil || m != nil && cm != m || !cm.Read(c).Refreshes() {
			return nil
		}
		m = cm
	}
	return m
}

// usesIndex tells whether the RUN runs manager m to install, refresh or
// read its index.
func usesIndex(r *runmodel.Run, m *runmodel.Manager) bool {
	for _, k := range r.Calls(m) {
		if k.Installs() || k.Refreshes() || k.ReadsIndex() {
			return true
		}
	}
	return false
}
