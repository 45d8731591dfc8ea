package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/rewrite"
)

// MergeRuns joins consecutive shell-form RUNs into one, so the image has one
// layer where it had many, without letting one RUN's shell state reach the next.
var MergeRuns = &rewrite.Rule{
	Name:     "merge-runs",
	Title:    "Merge consecutive RUN instructions into one layer",
	Kind:     rewrite.Safe,
	Hadolint: []string{"DL3059"},
	Doc: `Every RUN makes a layer. Files a later RUN deletes still ship in the
earlier layer, and each layer costs a little on every pull. Consecutive RUNs of a
stage whose files reach the image are merged with && into one.

Each RUN runs in a fresh shell, so the merge keeps them apart where it matters:
a RUN whose top level changes the shell (cd, pushd, export, unset, a variable
assignment, set, shopt, umask, ulimit, trap, alias, a function, source, exec,
exit, return, ...) runs in a subshell ( ... ) when another part follows it; a RUN
with ;, || or several statements is grouped in { ...; } so that && in front of
it still decides whether all of it runs; a trailing shell comment moves to a
comment line of its own. RUNs are never merged across another instruction or an
ignore comment, when their flags (--mount, --network, --security, --device)
differ, in exec (JSON) form, with heredocs, under a SHELL that is not POSIX, or
when one leaves a background job running. Builder stages, whose layers never
ship, keep their RUNs apart (they cache better so) unless --merge=all.

Bad:

    RUN apt-get update
    RUN cd /src && make
    RUN make install

Good:

    RUN apt-get update \
        && ( cd /src && make ) \
        && make install
`,
	Run: runMergeRuns,
}

// runPart is one RUN about to be merged.
type runPart struct {
	in      *rewrite.Instruction
	text    string // the program's source, continuation lines as written, without a trailing comment
	comment string // the trailing shell comment, if any
	leaks   bool   // changes the shell's state (needs a subshell when a part follows)
	chain   bool   // a pure && chain (needs no group after &&)
}

func runMergeRuns(p *rewrite.Pass) {
	d := p.Doc
	ship := d.Shipping()
	for _, st := range d.Stages {
		if !ship[st] && !p.Options.MergeAll {
			continue
		}
		var seq []runPart // consecutive RUNs that could be merged
		flush := func() {
			mergeSequence(p, seq)
			seq = nil
		}
		var prev *rewrite.Instruction
		for _, in := range st.Instructions {
			part, ok := mergeablePart(d, in)
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
// merge, and reports each resulting group. Two small RUNs (two commands or
// fewer each, as hadolint's DL3059 counts) are merged: the split gains nothing.
// A RUN that removes what an earlier one wrote (a file, a package, a cache) is
// merged with it and everything between: only then are those bytes never
// shipped. Larger RUNs that each clean up after themselves stay apart, as
// their authors chose; they cache better so.
func mergeSequence(p *rewrite.Pass, seq []runPart) {
	if len(seq) < 2 {
		return
	}
	link := make([]bool, len(seq)-1) // link[i]: merge seq[i] with seq[i+1]
	small := func(r runPart) bool { return commandCount(r.in.Shell.File) <= 2 }
	for i := range link {
		link[i] = small(seq[i]) && small(seq[i+1])
	}
	reclaim := map[int]int{} // index of a removing RUN -> the earliest RUN it reclaims from
	for j := 1; j < len(seq); j++ {
		removed := removalsOf(seq[j].in.Shell.File)
		for k := 0; k < j; k++ {
			if removed.reclaims(leftBy(seq[k].in.Shell.File)) {
				reclaim[j] = k
				for i := k; i < j; i++ {
					link[i] = true
				}
				break
			}
		}
	}
	start := 0
	for i := 0; i <= len(link); i++ {
		if i < len(link) && link[i] {
			continue
		}
		if i > start {
			reportMerge(p, seq[start:i+1], start, reclaim)
		}
		start = i + 1
	}
}

// mergeablePart reads a RUN that can take part in a merge.
func mergeablePart(d *rewrite.Document, in *rewrite.Instruction) (runPart, bool) {
	if in.Keyword != "run" || in.Shell == nil {
		return runPart{}, false // exec form, heredoc, non-POSIX shell, or a program that does not parse
	}
	f := in.Shell.File
	leaks, background := shellEffects(f)
	if background || len(f.Stmts) == 0 {
		return runPart{}, false
	}
	// A trailing ; is dropped: the part ends with its last command.
	start := in.SrcOffset(in.ArgsOff)
	stop := srcEndPos(in, stmtEnd(f.Stmts[len(f.Stmts)-1]))
	part := runPart{
		in:    in,
		text:  strings.TrimRight(string(d.Src[start:stop]), " \t"),
		leaks: leaks,
		chain: andChainOnly(f),
	}
	if c, ok := trailingComment(f); ok {
		cs := in.SrcOffset(in.ArgsOff + int(c.Pos().Offset()))
		if d.LineOf(cs) != in.EndLine {
			return runPart{}, false // the comment runs over a continuation: keep the RUN as it is
		}
		part.comment = strings.TrimRight(string(d.Src[cs:d.LineTextEnd(in.EndLine)]), " \t")
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

func reportMerge(p *rewrite.Pass, group []runPart, offset int, reclaim map[int]int) {
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
		case part.leaks && !isLast:
			b.WriteString("( " + part.text + " )")
		case i > 0 && !part.chain:
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
