package rules

import (
	"path"
	"strings"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// AddToCopy turns ADD of plain local files into COPY, whose behaviour is just
// the copy: no download, no git clone, no unpacking of archives.
var AddToCopy = &rewrite.Rule{
	Name:     "add-to-copy",
	Title:    "Use COPY instead of ADD for local files and folders",
	Kind:     rewrite.Safe,
	Hadolint: []string{"DL3020"},
	Doc: `ADD fetches URLs, clones git repositories and unpacks local tar archives;
COPY only copies. For plain files and folders the two do the same, and COPY says
so plainly. dfopt leaves ADD alone when a source is a URL, a git source, looks
like an archive (by its name), uses a variable or a wildcard that could match an
archive, or when ADD has a flag COPY lacks (--checksum, --keep-git-dir, --unpack).
A tar archive whose name does not say so would be unpacked by ADD; name archives
as archives.

Bad:

    ADD requirements.txt /app/

Good:

    COPY requirements.txt /app/
`,
	Run: func(p *rewrite.Pass) {
		for _, in := range p.Doc.Instructions {
			add, ok := in.Command.(*instructions.AddCommand)
			if !ok || len(in.Node.Heredocs) > 0 || !plainAdd(add) {
				continue
			}
			s, e := p.Doc.KeywordSpan(in)
			p.Report(rewrite.Finding{
				Line:    in.StartLine,
				Message: "use COPY for local files: ADD would also unpack archives and fetch URLs",
				Edits:   []rewrite.Edit{{Start: s, End: e, New: p.Doc.Keyword(in, "COPY")}},
			})
		}
	},
}

// plainAdd tells whether every source of an ADD is a local file or folder that
// ADD copies as COPY would, and no flag is ADD's alone.
func plainAdd(add *instructions.AddCommand) bool {
	if add.Checksum != "" || add.KeepGitDir != nil || add.Unpack != nil {
		return false
	}
	for _, src := range add.SourcePaths {
		if !plainLocalSource(src) {
			return false
		}
	}
	return len(add.SourcePaths) > 0
}

// archiveExts are the names ADD's users give the archives it unpacks.
var archiveExts = []string{
	".tar", ".gz", ".tgz", ".bz2", ".tbz", ".tbz2", ".xz", ".txz", ".zst", ".tzst",
	".lz4", ".lzma", ".tlz", ".z", ".zip", ".7z", ".rar", ".deb", ".rpm", ".apk",
}

func plainLocalSource(src string) bool {
	lower := strings.ToLower(src)
	if strings.Contains(lower, "://") || strings.HasPrefix(lower, "git@") || strings.ContainsAny(src, "$") {
		return false
	}
	base := path.Base(strings.TrimRight(lower, "/"))
	for _, ext := range archiveExts {
		if strings.HasSuffix(base, ext) {
			return false
		}
	}
	if strings.ContainsAny(src, "*?[") {
		// A wildcard is plain only when every name it matches has a known
		// non-archive extension.
		ext := path.Ext(base)
		return ext != "" && !strings.ContainsAny(ext, "*?[]")
	}
	return true
}
