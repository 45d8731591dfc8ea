package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// CopyThenRemove reports files that a COPY or ADD puts in the image and a
// later RUN deletes: the delete hides them, but their bytes ship in the COPY's
// layer all the same.
var CopyThenRemove = &rewrite.Rule{
	Name:  "copy-then-remove",
	Title: "Files copied in one layer and deleted in a later one still ship",
	Kind:  rewrite.Safe,
	Doc: `Deleting a file in a RUN does not take it out of the layer that COPY or
ADD made: the image carries its bytes anyway. dfopt reports such files in the
stages whose files reach the image; it does not rewrite them, since the fix
depends on what the files are for. For files that only a build step reads, use a
bind mount, which never enters a layer; for build outputs, a builder stage.

Bad:

    COPY hello.c /
    RUN gcc -o /usr/local/bin/hello /hello.c && rm /hello.c

Good:

    RUN --mount=type=bind,source=hello.c,target=/hello.c \
        gcc -o /usr/local/bin/hello /hello.c
`,
	Run: runCopyThenRemove,
}

// copied is what one COPY or ADD put where.
type copied struct {
	line  int
	paths []string // absolute paths the copy wrote (a folder for folder sources)
}

func runCopyThenRemove(p *rewrite.Pass) {
	d := p.Doc
	ship := d.Shipping()
	for _, st := range d.Stages {
		if !ship[st] || d.Parent(st) != nil && ship[d.Parent(st)] {
			continue // each chain of shipping stages is walked once, from its root
		}
		walkCopies(p, d, st, ship)
	}
}

// walkCopies follows a shipping stage and the shipping stages built FROM it.
func walkCopies(p *rewrite.Pass, d *rewrite.Document, root *rewrite.Stage, ship map[*rewrite.Stage]bool) {
	m := runmodel.Of(d)
	var copies []copied
	for _, st := range append([]*rewrite.Stage{root}, d.Descendants(root)...) {
		if !ship[st] {
			continue
		}
		for _, in := range st.Instructions {
			workdir := m.State(in).Workdir
			switch c := in.Command.(type) {
			case *instructions.CopyCommand:
				copies = append(copies, copiedBy(in.StartLine, workdir, c.SourcePaths, c.DestPath))
			case *instructions.AddCommand:
				copies = append(copies, copiedBy(in.StartLine, workdir, c.SourcePaths, c.DestPath))
			case *instructions.RunCommand:
				reportRemovedCopies(p, m, m.Run(in), copies)
			}
		}
	}
}

// copiedBy works out the paths a COPY wrote: a source's base name inside a
// destination folder, the destination itself for one file, the destination
// folder for folder sources (their contents land there).
func copiedBy(line int, workdir string, srcs []string, dest string) copied {
	c := copied{line: line}
	if strings.Contains(dest, "$") {
		return c
	}
	dir := strings.HasSuffix(dest, "/") || len(srcs) > 1
	dest = resolve(workdir, dest)
	if dest == "" {
		return c
	}
	for _, s := range srcs {
		switch {
		case strings.Contains(s, "$") || strings.Contains(s, "://"):
		case s == "." || strings.HasSuffix(s, "/") || strings.ContainsAny(s, "*?["):
			c.paths = append(c.paths, dest)
		case dir:
			c.paths = append(c.paths, path.Join(dest, path.Base(s)))
		default:
			c.paths = append(c.paths, dest)
		}
	}
	return c
}

// reportRemovedCopies reports an rm of the RUN that removes what a COPY put
// in the image.
func reportRemovedCopies(p *rewrite.Pass, m *runmodel.Model, r *runmodel.Run, copies []copied) {
	st := m.State(r.In)
	for _, c := range r.Runs("rm", "rmdir", "unlink") {
		cwd := m.Cwd(st, c)
		for _, a := range c.Args {
			t, ok := a.Pattern()
			if !ok || strings.HasPrefix(t, "-") {
				continue
			}
			target := runmodel.LiteralPrefix(resolve(cwd, t))
			if target == "/" || target == "" {
				continue
			}
			for _, cp := range copies {
				for _, cpath := range cp.paths {
					if cpath == "/" || !(cpath == target || strings.HasPrefix(cpath, target+"/") || strings.HasPrefix(target, cpath+"/")) {
						continue
					}
					p.Report(rewrite.Finding{
						Line: r.In.StartLine,
						Message: fmt.Sprintf("removes %s, which the COPY or ADD at line %d put in the image: its bytes still ship in that layer (use RUN --mount=type=bind for files only a build step reads, or a builder stage)",
							t, p.InputLine(cp.line)),
					})
					return
				}
			}
		}
	}
}
