package rules

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// AddToCopy turns ADD of plain local files into COPY, whose behaviour is just
// the copy: no download, no git clone, no unpacking of archives.
var AddToCopy = &rewrite.Rule{
	Name:     "add-to-copy",
	Title:    "Use COPY instead of ADD for local files",
	Kind:     rewrite.Safe,
	Hadolint: []string{"DL3020"},
	Doc: `ADD fetches URLs, clones git repositories and unpacks local tar archives;
COPY only copies. For plain files the two do the same today, but ADD would
start unpacking the file the day it becomes an archive; COPY says plainly
that it copies. ADD knows an archive by its content, whatever its name: a
tar, or a gzip, bzip2, xz or zstd stream. So dfopt looks into the build
context: a file whose first bytes are no archive becomes COPY; a wildcard
does when it matches something and everything it matches does. An ADD of
folders alone (ADD . /app) is left as it is: ADD never unpacks what a folder
holds, so COPY would change nothing but the word.

dfopt leaves ADD alone when a source is a URL, a git source, uses a variable or
is an archive (or, where dfopt cannot see it, is named like one), or when ADD
has a flag COPY lacks (--checksum, --keep-git-dir, --unpack). Where it cannot
tell, COPY is a proposal, applied only with --propose: with no build context
(standard input), for a source the context lacks or its ignore file keeps out,
a wildcard that matches nothing, a symbolic link (ADD unpacks what it leads
to), and a file named like a tar archive that is none (the build may get a
real one: a Git LFS pointer fetched, a file made before the build).

Bad:

    ADD requirements.txt /app/

Good:

    COPY requirements.txt /app/
`,
	Run: runAddToCopy,
}

func runAddToCopy(p *rewrite.Pass) {
	for _, in := range p.Doc.Instructions {
		add, ok := in.Command.(*instructions.AddCommand)
		if !ok || len(in.Node.Heredocs) > 0 || !copyableAdd(add, in.Node.Flags) {
			continue
		}
		what, why := addSources(p.Options.Context, add.SourcePaths)
		if what == mayUnpack || allFolders(p.Options.Context, add.SourcePaths) {
			continue
		}
		msg := "use COPY for local files: ADD would also unpack archives and fetch URLs"
		if what == unclear {
			msg += " (proposal: " + why + ")"
		}
		s, e := p.Doc.KeywordSpan(in)
		p.Report(rewrite.Finding{
			Line:     in.StartLine,
			Message:  msg,
			Proposal: what == unclear,
			Edits:    []rewrite.Edit{{Start: s, End: e, New: p.Doc.Keyword(in, "COPY")}},
		})
	}
}

// allFolders tells whether every source surely names a folder: the context
// itself, or a folder of the context (no wildcard, no link).
func allFolders(ctx *rewrite.BuildContext, srcs []string) bool {
	for _, src := range srcs {
		rel := strings.TrimPrefix(path.Clean("/"+src), "/")
		if rel == "" {
			continue
		}
		if ctx == nil || strings.ContainsAny(rel, "*?[\\") || hasLink(ctx, rel) || ctx.Ignored(rel) {
			return false
		}
		info, err := os.Lstat(filepath.Join(ctx.Dir, filepath.FromSlash(rel)))
		if err != nil || !info.IsDir() {
			return false
		}
	}
	return true
}

// copyableAdd tells whether an ADD could be a COPY as far as its words go:
// every source is local and named without a variable, and no flag is ADD's
// alone. Whether a source is an archive is addSources' business.
func copyableAdd(add *instructions.AddCommand, flags []string) bool {
	for _, f := range flags {
		// By name, not by parsed value: "--checksum=" leaves Checksum empty
		// but COPY still rejects the flag.
		name, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		if !copyFlags[name] {
			return false
		}
	}
	if add.Checksum != "" || add.KeepGitDir != nil || add.Unpack != nil {
		return false
	}
	for _, src := range add.SourcePaths {
		lower := strings.ToLower(src)
		if strings.Contains(lower, "://") || strings.HasPrefix(lower, "git@") || strings.Contains(src, "$") {
			return false
		}
	}
	return len(add.SourcePaths) > 0
}

// copyFlags are the flags ADD shares with COPY, which keep their meaning.
var copyFlags = map[string]bool{"chown": true, "chmod": true, "link": true, "exclude": true, "parents": true}

// addAction is what ADD does with a local source, as far as dfopt can see.
// The values are ordered: an instruction is what its worst source is.
type addAction int

const (
	copies    addAction = iota // a folder, or a file that is no archive: COPY does the same
	unclear                    // dfopt cannot see what the build will get
	mayUnpack                  // an archive, or what may be one: ADD is needed
)

// addSources judges the local sources of one ADD against the build context
// (nil when there is none); why says what dfopt could not see when the
// answer is unclear.
func addSources(ctx *rewrite.BuildContext, srcs []string) (what addAction, why string) {
	return worstOf(srcs, func(src string) (addAction, string) { return addSource(ctx, src) })
}

// worstOf judges each path in turn and keeps the worst answer, with the
// first reason for it. It stops at the first archive: then nothing else
// matters, and no more files need reading.
func worstOf(paths []string, judge func(string) (addAction, string)) (what addAction, why string) {
	for _, p := range paths {
		w, y := judge(p)
		if w > what {
			what, why = w, y
		}
		if what == mayUnpack {
			break
		}
	}
	return what, why
}

// addSource judges one source. Paths are taken as BuildKit takes them: from
// the context's root, ".." going no higher, a trailing slash meaning nothing
// (BuildKit cleans it away, so "src/" may be a file).
func addSource(ctx *rewrite.BuildContext, src string) (addAction, string) {
	rel := strings.TrimPrefix(path.Clean("/"+src), "/")
	if rel == "" {
		return copies, "" // the context itself, a folder whatever it holds
	}
	wildcard := strings.ContainsAny(rel, "*?[")
	switch {
	case ctx == nil && hasTarName(rel):
		return mayUnpack, ""
	case ctx == nil:
		what := src + " is"
		if wildcard {
			what = src + " matches"
		}
		return unclear, fmt.Sprintf("with no build context dfopt cannot see whether %s a tar archive, which ADD would unpack", what)
	case strings.Contains(rel, `\`):
		return unclear, fmt.Sprintf("dfopt does not read the escapes in %s", src)
	case !wildcard:
		return contextSource(ctx, rel)
	}
	if dir := literalDir(rel); hasLink(ctx, dir) {
		return unclear, fmt.Sprintf("%s lies under a symbolic link: ADD follows links and would unpack a tar archive one leads to, and dfopt does not look behind them", src)
	}
	matches := matchSent(ctx, rel)
	if len(matches) == 0 && hasTarName(rel) {
		return mayUnpack, ""
	}
	if len(matches) == 0 {
		return unclear, fmt.Sprintf("%s matches nothing in the build context, so dfopt cannot see what ADD would get", src)
	}
	return worstOf(matches, func(m string) (addAction, string) { return contextSource(ctx, m) })
}

// contextSource judges one path of the context (no wildcard) by what the
// build would send: a folder is copied as COPY copies it; a regular file is
// unpacked when its first bytes say it is an archive; anything else that is
// not a link BuildKit copies as it is.
func contextSource(ctx *rewrite.BuildContext, rel string) (addAction, string) {
	switch {
	case ctx.Ignored(rel) && hasTarName(rel):
		return mayUnpack, ""
	case ctx.Ignored(rel):
		return unclear, fmt.Sprintf("%s keeps %s out of the build context, where the build would not find it; dfopt does not look at it", filepath.Base(ctx.IgnoreFile), rel)
	case hasLink(ctx, rel):
		return unclear, fmt.Sprintf("%s is a symbolic link or lies under one: ADD follows links and would unpack a tar archive one leads to, and dfopt does not look behind them", rel)
	}
	info, err := os.Lstat(filepath.Join(ctx.Dir, filepath.FromSlash(rel)))
	switch {
	case errors.Is(err, fs.ErrNotExist) && hasTarName(rel):
		return mayUnpack, ""
	case errors.Is(err, fs.ErrNotExist):
		return unclear, fmt.Sprintf("%s is not in the build context (see --context), so dfopt cannot see whether it is a tar archive, which ADD would unpack", rel)
	case err != nil:
		return unclear, fmt.Sprintf("dfopt cannot read %s", rel)
	case !info.Mode().IsRegular():
		return copies, "" // a folder, or a device or pipe: ADD unpacks only regular files
	}
	head, err := readHead(filepath.Join(ctx.Dir, filepath.FromSlash(rel)))
	switch {
	case err != nil:
		return unclear, fmt.Sprintf("dfopt cannot read %s", rel)
	case mayBeArchive(head):
		return mayUnpack, ""
	case hasTarName(rel):
		return unclear, fmt.Sprintf("%s is named like a tar archive but is none here; ADD would unpack the build's copy if that is one (a Git LFS pointer fetched, a file made before the build)", rel)
	}
	return copies, ""
}

// hasLink tells whether a context path is, or lies under, a symbolic link.
// BuildKit follows links within the context before it looks for an archive,
// so an innocent name may lead to one; dfopt does not follow them.
func hasLink(ctx *rewrite.BuildContext, rel string) bool {
	if rel == "" || rel == "." {
		return false
	}
	at := ctx.Dir
	for _, part := range strings.Split(rel, "/") {
		at = filepath.Join(at, part)
		info, err := os.Lstat(at)
		if err != nil {
			return false
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			return true
		}
	}
	return false
}

// matchSent lists the context paths a wildcard source (cleaned, relative to
// the context) names, as BuildKit resolves it on the context it was sent
// (fsutil's ResolveWildcards): each element of the pattern matched with
// path.Match against the names one level down, hidden ones included, only
// real folders leading further (below its first wildcard BuildKit's walk
// does not follow links), and nothing the ignore file keeps out.
func matchSent(ctx *rewrite.BuildContext, pattern string) []string {
	parts := strings.Split(pattern, "/")
	first := 0
	for first < len(parts) && !strings.ContainsAny(parts[first], "*?[") {
		first++
	}
	at := []string{strings.Join(parts[:first], "/")}
	for i, part := range parts[first:] {
		last := first+i == len(parts)-1
		var next []string
		for _, dir := range at {
			for _, f := range ctx.ReadDir(dir) {
				if ok, _ := path.Match(part, path.Base(f.Path)); !ok || !last && !f.Dir {
					continue
				}
				rel := f.Path
				if last && ctx.Ignored(rel) {
					continue
				}
				next = append(next, rel)
			}
		}
		at = next
	}
	return at
}
