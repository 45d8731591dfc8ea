package rules

import (
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/patternmatcher"
)

// contextCopy is a COPY or ADD that takes files from the build context.
type contextCopy struct {
	in      *rewrite.Instruction
	srcs    []string // context paths: slash-separated, clean, "." for the context itself; wildcards kept
	whole   string   // the source, as written, that takes the whole context, or ""
	unknown bool     // a source dfopt cannot read ($VAR without a default)
	unpack  bool     // an ADD, which unpacks local archives
	exclude *patternmatcher.PatternMatcher
}

func (c *contextCopy) keyword() string { return strings.ToUpper(c.in.Keyword) }

// contextCopies lists the COPY and ADD instructions that read the build
// context, in the given stages (nil: all).
func contextCopies(d *rewrite.Document, stages map[*rewrite.Stage]bool) []*contextCopy {
	vars := map[string]string{}
	var out []*contextCopy
	for _, in := range d.Instructions {
		var srcs, excludes []string
		c := &contextCopy{in: in}
		switch cmd := in.Command.(type) {
		case *instructions.ArgCommand:
			for _, a := range cmd.Args {
				if a.Value != nil {
					vars[a.Key] = *a.Value
				}
			}
			continue
		case *instructions.EnvCommand:
			for _, kv := range cmd.Env {
				vars[kv.Key] = kv.Value
			}
			continue
		case *instructions.CopyCommand:
			if cmd.From != "" {
				continue
			}
			srcs, excludes = cmd.SourcePaths, cmd.ExcludePatterns
		case *instructions.AddCommand:
			srcs, excludes = cmd.SourcePaths, cmd.ExcludePatterns
			c.unpack = cmd.Unpack == nil || *cmd.Unpack
		default:
			continue
		}
		if stages != nil && !stages[in.Stage] {
			continue
		}
		for _, s := range srcs {
			rel, ok := contextPath(s, vars)
			switch {
			case !ok && !isRemote(s):
				c.unknown = true
			case !ok:
			case rel == "." || rel == "*":
				c.whole = s
				c.srcs = append(c.srcs, rel)
			default:
				c.srcs = append(c.srcs, rel)
			}
		}
		if len(excludes) > 0 {
			c.exclude, _ = patternmatcher.New(excludes)
		}
		if len(c.srcs) > 0 || c.unknown {
			out = append(out, c)
		}
	}
	return out
}

var varRef = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))`)
})

// contextPath turns a COPY or ADD source into a path in the context, with
// the variables that have values put in; ok is false for a URL, a git
// source, or a variable without a value.
func contextPath(src string, vars map[string]string) (string, bool) {
	if isRemote(src) {
		return "", false
	}
	unknown := false
	src = varRef().ReplaceAllStringFunc(src, func(ref string) string {
		m := varRef().FindStringSubmatch(ref)
		v, ok := vars[m[1]+m[2]]
		unknown = unknown || !ok
		return v
	})
	if unknown || strings.Contains(src, "$") {
		return "", false
	}
	if rel := strings.TrimPrefix(path.Clean("/"+src), "/"); rel != "" {
		return rel, true
	}
	return ".", true
}

func isRemote(src string) bool {
	l := strings.ToLower(src)
	return strings.Contains(l, "://") || strings.HasPrefix(l, "git@")
}

func (c *contextCopy) excluded(rel string) bool {
	if c.exclude == nil {
		return false
	}
	ok, _ := c.exclude.MatchesOrParentMatches(rel)
	return ok
}

// walk calls visit for every path the copy sends, each source's top
// included ("." for the context itself); visit returns true to skip what is
// below a folder.
func (c *contextCopy) walk(ctx *rewrite.BuildContext, visit func(f rewrite.ContextFile) bool) {
	for _, src := range c.srcs {
		for _, root := range sourceRoots(ctx, src) {
			ctx.Walk(root, func(f rewrite.ContextFile) bool {
				rel := f.Path
				below := strings.TrimPrefix(rel, root+"/")
				if root == "." {
					below = rel
				}
				if rel != root && c.excluded(below) {
					return true // --exclude keeps it back
				}
				return visit(f)
			})
		}
	}
}

// sourceRoots returns the paths a source names: itself, or what its
// wildcards match.
func sourceRoots(ctx *rewrite.BuildContext, src string) []string {
	if src == "*" {
		return []string{"."}
	}
	if !strings.ContainsAny(src, "*?[") {
		return []string{src}
	}
	depth := strings.Count(src, "/")
	var out []string
	ctx.Walk(literalDir(src), func(f rewrite.ContextFile) bool {
		rel := f.Path
		if rel == "." || strings.Count(rel, "/") < depth {
			return false
		}
		if ok, _ := path.Match(src, rel); ok {
			out = append(out, rel)
		}
		return true
	})
	return out
}

// resolve makes p absolute in workdir; "" when workdir is not known ("")
// and p is relative.
func resolve(workdir, p string) string {
	switch {
	case path.IsAbs(p):
		return path.Clean(p)
	case workdir == "":
		return ""
	}
	return path.Join(workdir, p)
}

// literalDir is the part of a wildcard path before its first wildcard
// component.
func literalDir(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if strings.ContainsAny(part, "*?[") {
			return strings.Join(parts[:i], "/")
		}
	}
	return p
}

// head returns up to n bytes from the start of a context file.
func head(ctx *rewrite.BuildContext, rel string, n int64) []byte {
	f, err := os.Open(filepath.Join(ctx.Dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, n))
	return b
}

// landing is a file a COPY or ADD brings from the build context: its path
// in the context and the path it gets in the image.
type landing struct {
	rel, image string
}

// landings lists the files the copy brings from the build context (as its
// ignore file and --exclude leave it) and the paths they get in the image,
// as BuildKit copies them to dest (absolute): a folder source's contents go
// into dest; a file source goes into dest when dest is a folder (written
// with a final slash, the destination of several sources, or one the image
// has: destDir) and becomes dest otherwise. why, when not "", says that
// some source brings what dfopt cannot list: a $VAR it cannot read, a
// symbolic link it does not follow, an archive ADD unpacks, COPY --parents.
func (c *contextCopy) landings(ctx *rewrite.BuildContext, dest string, destDir bool) (out []landing, why string) {
	if cp, ok := c.in.Command.(*instructions.CopyCommand); ok && cp.Parents {
		return nil, "COPY --parents keeps the sources' folders, which dfopt does not follow"
	}
	sent, err := ctx.Files()
	if err != nil {
		return nil, "dfopt cannot read the build context"
	}
	if c.unknown {
		why = "dfopt cannot read a source's variable"
	}
	entry := func(rel string) (rewrite.ContextFile, bool) {
		for _, f := range sent {
			if f.Path == rel {
				return f, true
			}
		}
		return rewrite.ContextFile{}, false
	}
	var roots []rewrite.ContextFile
	for _, src := range c.srcs {
		switch {
		case src == ".":
			roots = append(roots, rewrite.ContextFile{Path: ".", Dir: true})
		case strings.ContainsAny(src, "*?["):
			depth := strings.Count(src, "/")
			for _, f := range sent {
				if ok, _ := path.Match(src, f.Path); ok && strings.Count(f.Path, "/") == depth {
					roots = append(roots, f)
				}
			}
		default:
			if f, ok := entry(src); ok {
				roots = append(roots, f)
			}
		}
	}
	destDir = destDir || len(roots) > 1
	for _, root := range roots {
		switch {
		case root.Link:
			why = "dfopt does not follow the symbolic link " + root.Path
		case !root.Dir && c.unpack && addUnpacks(ctx, root.Path):
			why = "ADD unpacks " + root.Path
		case !root.Dir && destDir:
			out = append(out, landing{root.Path, path.Join(dest, path.Base(root.Path))})
		case !root.Dir:
			out = append(out, landing{root.Path, dest})
		default:
			for _, f := range sent {
				below, ok := strings.CutPrefix(f.Path, root.Path+"/")
				if root.Path == "." {
					below, ok = f.Path, true
				}
				if ok && !f.Dir && !c.excluded(below) {
					out = append(out, landing{f.Path, path.Join(dest, below)})
				}
			}
		}
	}
	return out, why
}

// addUnpacks tells whether ADD may unpack a regular file of the context,
// by its name or its first bytes.
func addUnpacks(ctx *rewrite.BuildContext, rel string) bool {
	if hasTarName(rel) {
		return true
	}
	first, err := readHead(filepath.Join(ctx.Dir, filepath.FromSlash(rel)))
	return err != nil || mayBeArchive(first)
}
