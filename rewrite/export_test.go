package rewrite

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// SourceReparsed is Source, calling reparsed with every document it makes
// from the edits of a step (rules' or --fmt's).
func SourceReparsed(src []byte, opts Options, reparsed func(*Document)) (*Result, error) {
	return source(src, opts, reparsed)
}

// DocumentDiff compares two documents of the same source field by field
// (lines, instructions with their nodes, commands, offsets and shell trees,
// stages) and says where they differ, or returns "".
func DocumentDiff(a, b *Document) string {
	switch {
	case string(a.Src) != string(b.Src):
		return "sources differ"
	case a.Path != b.Path || a.Escape != b.Escape || a.Newline != b.Newline || a.BOM != b.BOM:
		return fmt.Sprintf("header: %q %q %q %v, want %q %q %q %v", a.Path, a.Escape, a.Newline, a.BOM, b.Path, b.Escape, b.Newline, b.BOM)
	case !slices.Equal(a.lineStart, b.lineStart):
		return "line index differs"
	case len(a.Instructions) != len(b.Instructions):
		return fmt.Sprintf("%d instructions, want %d", len(a.Instructions), len(b.Instructions))
	case len(a.Stages) != len(b.Stages):
		return fmt.Sprintf("%d stages, want %d", len(a.Stages), len(b.Stages))
	}
	for i, x := range a.Instructions {
		y := b.Instructions[i]
		at := fmt.Sprintf("instruction %d (line %d)", i, y.StartLine)
		switch {
		case x.Keyword != y.Keyword || x.StartLine != y.StartLine || x.EndLine != y.EndLine || x.Start != y.Start || x.End != y.End:
			return fmt.Sprintf("%s: %s %d-%d @%d-%d, want %s %d-%d @%d-%d", at,
				x.Keyword, x.StartLine, x.EndLine, x.Start, x.End, y.Keyword, y.StartLine, y.EndLine, y.Start, y.End)
		case x.Line != y.Line || x.Args != y.Args || x.ArgsOff != y.ArgsOff || x.POSIX != y.POSIX:
			return fmt.Sprintf("%s: line, arguments or shell differ", at)
		case !slices.Equal(x.seg, y.seg):
			return fmt.Sprintf("%s: source map %v, want %v", at, x.seg, y.seg)
		case !reflect.DeepEqual(x.Node, y.Node):
			return fmt.Sprintf("%s: node %#v, want %#v", at, *x.Node, *y.Node)
		case !reflect.DeepEqual(sortedFlags(x.Command), sortedFlags(y.Command)):
			return fmt.Sprintf("%s: command %#v, want %#v", at, x.Command, y.Command)
		case (x.Stage == nil) != (y.Stage == nil) || x.Stage != nil && x.Stage.Index != y.Stage.Index:
			return fmt.Sprintf("%s: stage differs", at)
		case (x.Shell == nil) != (y.Shell == nil):
			return fmt.Sprintf("%s: shell tree %v, want %v", at, x.Shell != nil, y.Shell != nil)
		case x.Shell != nil && (x.Shell.Text != y.Shell.Text || !reflect.DeepEqual(x.Shell.File, y.Shell.File)):
			return fmt.Sprintf("%s: shell trees differ", at)
		}
	}
	for i, s := range a.Stages {
		t := b.Stages[i]
		if s.Index != t.Index || s.Name != t.Name || s.Base != t.Base || s.posix != t.posix ||
			s.From.StartLine != t.From.StartLine || len(s.Instructions) != len(t.Instructions) {
			return fmt.Sprintf("stage %d differs", i)
		}
		for k, in := range s.Instructions {
			if !slices.Contains(a.Instructions, in) || in.StartLine != t.Instructions[k].StartLine {
				return fmt.Sprintf("stage %d: instruction %d differs", i, k)
			}
		}
	}
	return ""
}

// sortedFlags returns a command to compare: a RUN's FlagsUsed, which buildkit
// lists in the order of a map, sorted.
func sortedFlags(cmd any) any {
	if r, ok := cmd.(*instructions.RunCommand); ok {
		c := *r
		c.FlagsUsed = slices.Sorted(slices.Values(r.FlagsUsed))
		return &c
	}
	return cmd
}
