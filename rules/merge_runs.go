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
		var group []runPart
		flush := func() {
			if len(group) > 1 {
				reportMerge(p, group)
			}
			group = nil
		}
		for _, in := range st.Instructions {
			part, ok := mergeablePart(d, in)
			if !ok {
				flush()
				continue
			}
			if len(group) > 0 && (!slices.Equal(group[0].in.Node.Flags, in.Node.Flags) || ignoreBetween(d, group[len(group)-1].in, in)) {
				flush()
			}
			group = append(group, part)
		}
		flush()
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
	last := f.Stmts[len(f.Stmts)-1]
	end := last.End().Offset()
	if last.Semicolon.IsValid() {
		end = last.Semicolon.Offset() // a trailing ; is dropped: the part ends before it
	}
	start := in.SrcOffset(in.ArgsOff)
	stop := in.SrcEnd(in.ArgsOff + int(end))
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

// ignoreBetween tells whether an ignore comment stands between two RUNs: it
// belongs to the second, and merging would move it inside the first.
func ignoreBetween(d *rewrite.Document, a, b *rewrite.Instruction) bool {
	for ln := a.EndLine + 1; ln < b.StartLine; ln++ {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(d.LineText(ln)), "#"))
		if len(f) >= 2 && (f[0] == "dfopt" || f[0] == "hadolint") {
			return true
		}
	}
	return false
}

func reportMerge(p *rewrite.Pass, group []runPart) {
	d := p.Doc
	esc := string(d.Escape)
	first, last := group[0].in, group[len(group)-1].in
	kwStart, _ := d.KeywordSpan(first)
	var b strings.Builder
	b.WriteString(string(d.Src[kwStart:first.SrcOffset(first.ArgsOff)]))
	lines := make([]string, len(group))
	for i, part := range group {
		lines[i] = fmt.Sprint(part.in.StartLine)
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
	p.Report(rewrite.Finding{
		Line: first.StartLine,
		Message: fmt.Sprintf("%d consecutive RUN instructions (lines %s) make %d layers: merge them into one",
			len(group), strings.Join(lines, ", "), len(group)),
		Edits: []rewrite.Edit{{Start: kwStart, End: d.LineTextEnd(last.EndLine), New: b.String()}},
	})
}
