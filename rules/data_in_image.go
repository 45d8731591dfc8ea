package rules

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/dfopt/dfopt/rewrite"
)

// DefaultLargeFile is the size over which data-in-image reports a file when
// Options.LargeFile is 0.
const DefaultLargeFile = 10 << 20

// DataInImage reports large files and data a COPY or ADD puts in the image.
var DataInImage = &rewrite.Rule{
	Name:  "data-in-image",
	Title: "Large files, data sets, media and dumps copied into the image",
	Kind:  rewrite.Report,
	Doc: `Every pull and every container start pays for the bytes in an image. Data
sets, model weights, media, archives, PDFs and database dumps rarely belong
there: they change on another schedule than the code, and each change ships a
new copy of them. With a build context (--context, or the Dockerfile's folder)
dfopt reports the files a COPY or ADD in a stage that ships brings in that are
larger than --large-file (10MB by default), or that are data or media by their
extension and at least a tenth of that size, naming them with their sizes. It
does not rewrite anything: mount such files as a volume, or fetch them when the
container starts. An archive that ADD unpacks, or a file a later RUN names, is
an input of the build, and is reported only when it is large.

Bad (the context holds models/weights.safetensors, 2.1 GB):

    FROM python:3.12-slim
    COPY . /app
    CMD ["python", "/app/serve.py"]

Good (.dockerignore keeps models/ out; the weights are mounted at run time):

    FROM python:3.12-slim
    COPY . /app
    CMD ["python", "/app/serve.py", "--weights", "/models/weights.safetensors"]
`,
	Run: runDataInImage,
}

// dataExts are the extensions of files that programs read as data rather
// than run: archives, documents, media, data sets, model weights, dumps and
// disk images. Pictures are not among them: web programs serve them.
var dataExts = map[string]bool{
	".zip": true, ".tar": true, ".gz": true, ".tgz": true, ".bz2": true, ".xz": true, ".7z": true, ".rar": true, ".zst": true,
	".pdf": true,
	".mp4": true, ".mov": true, ".avi": true, ".mkv": true, ".webm": true, ".mp3": true, ".wav": true, ".flac": true, ".ogg": true, ".m4a": true,
	".csv": true, ".tsv": true, ".parquet": true, ".feather": true, ".arrow": true, ".h5": true, ".hdf5": true, ".npy": true, ".npz": true,
	".pkl": true, ".pickle": true, ".pt": true, ".pth": true, ".onnx": true, ".ckpt": true, ".safetensors": true, ".tfrecord": true,
	".sql": true, ".dump": true, ".bak": true, ".sqlite": true, ".sqlite3": true, ".db": true,
	".iso": true, ".dmg": true, ".vmdk": true, ".qcow2": true,
}

// dependencyDirs hold other people's packages, whose data files are theirs
// to ship; large files there are still reported.
var dependencyDirs = []string{"node_modules", "bower_components", "vendor", "site-packages", "dist-packages", ".venv", "venv"}

// shippedFile is a file a COPY brings in, with its size.
type shippedFile struct {
	rel  string
	size int64
}

func runDataInImage(p *rewrite.Pass) {
	ctx := p.Options.Context
	if ctx == nil {
		return
	}
	large := p.Options.LargeFile
	if large <= 0 {
		large = DefaultLargeFile
	}
	for _, c := range contextCopies(p.Doc, p.Doc.Shipping()) {
		var found []shippedFile
		for _, f := range sizeable(ctx, c, large/10) {
			if f.Size > large || isShippedData(p.Doc, c, f.Path) {
				found = append(found, shippedFile{f.Path, f.Size})
			}
		}
		if len(found) == 0 {
			continue
		}
		slices.SortStableFunc(found, func(a, b shippedFile) int {
			return cmp.Or(cmp.Compare(b.size, a.size), strings.Compare(a.rel, b.rel))
		})
		var names []string
		var total int64
		for _, f := range found {
			names = append(names, fmt.Sprintf("%s (%s)", f.rel, FormatSize(f.size)))
			total += f.size
		}
		msg := fmt.Sprintf("%s puts large files or data in the image: %s, %s in all; mount them as a volume or fetch them at start-up instead",
			c.keyword(), listSome(names, 5), FormatSize(total))
		if len(found) == 1 {
			msg = fmt.Sprintf("%s puts a large file or data in the image: %s; mount it as a volume or fetch it at start-up instead", c.keyword(), names[0])
		}
		p.Report(rewrite.Finding{Line: c.in.StartLine, Message: msg})
	}
}

// sizeable lists the regular files of at least min bytes that a copy
// brings, leaving out version control's folders (the dockerignore rule's
// business). For a copy of the whole context, the Dockerfiles that share
// the context share the list.
func sizeable(ctx *rewrite.BuildContext, c *contextCopy, min int64) []rewrite.ContextFile {
	walk := func(c *contextCopy) []rewrite.ContextFile {
		var out []rewrite.ContextFile
		c.walk(ctx, func(f rewrite.ContextFile) bool {
			if f.Dir {
				return slices.Contains([]string{".git", ".hg", ".svn"}, path.Base(f.Path))
			}
			if f.Mode.IsRegular() && f.Size >= min {
				out = append(out, f)
			}
			return false
		})
		return out
	}
	if c.exclude != nil || !slices.Equal(c.srcs, []string{"."}) {
		return walk(c)
	}
	return rewrite.SharedKeep(ctx, sizeableKey{min}, func() []rewrite.ContextFile { return walk(&contextCopy{srcs: []string{"."}}) },
		func(v []rewrite.ContextFile, rel string) bool {
			// The list holds rel neither before nor after the rewrite.
			f, ok := ctx.Stat(rel)
			return ok && f.Size < min && !slices.ContainsFunc(v, func(f rewrite.ContextFile) bool { return f.Path == rel })
		})
}

// sizeableKey names the list of sizeable files among a context's facts.
type sizeableKey struct{ min int64 }

// isShippedData tells whether a file is data or media by its extension, and
// not something the build itself reads: an archive ADD unpacks, a file a
// later RUN names, a package's own files.
func isShippedData(d *rewrite.Document, c *contextCopy, rel string) bool {
	name := strings.ToLower(path.Base(rel))
	if !dataExts[path.Ext(name)] {
		return false
	}
	if c.unpack && isArchiveName(name) {
		return false
	}
	for _, part := range strings.Split(path.Dir(rel), "/") {
		if slices.Contains(dependencyDirs, part) {
			return false
		}
	}
	for _, in := range d.Instructions {
		if in.Keyword == "run" && in.StartLine > c.in.StartLine && mentions(in.Line, path.Base(rel)) {
			return false
		}
	}
	return true
}

// archiveExts are the names ADD's users give the archives it unpacks (and a
// few it copies as they are: .zip, .deb, .rpm).
var archiveExts = []string{
	".tar", ".gz", ".tgz", ".bz2", ".tbz", ".tbz2", ".xz", ".txz", ".zst", ".tzst",
	".lz4", ".lzma", ".tlz", ".z", ".zip", ".7z", ".rar", ".deb", ".rpm", ".apk",
}

// isArchiveName tells whether ADD would unpack a file of this name (it also
// looks at the content; the name is what dfopt goes by).
func isArchiveName(name string) bool {
	for _, ext := range archiveExts {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// ParseSize reads a size such as 10MB, 512k, 1G or 1048576 (bytes). The
// units count in powers of 1024, with or without B or iB.
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	shift, ok := map[string]uint{"": 0, "b": 0, "k": 10, "kb": 10, "kib": 10, "m": 20, "mb": 20, "mib": 20,
		"g": 30, "gb": 30, "gib": 30, "t": 40, "tb": 40, "tib": 40}[unit]
	n, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || n <= 0 || n*float64(int64(1)<<shift) >= 1<<62 {
		return 0, fmt.Errorf("invalid size %q: want a positive number of bytes, or one with a unit: 512k, 10MB, 1G", s)
	}
	return int64(n * float64(int64(1)<<shift)), nil
}

// FormatSize prints a size in bytes for people: 512 B, 2.0 KiB, 13.4 MiB.
func FormatSize(n int64) string {
	if n < 1<<10 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	v := float64(n) / (1 << 10)
	u := 0
	for v >= 1<<10 && u < len(units)-1 {
		v /= 1 << 10
		u++
	}
	return fmt.Sprintf("%.1f %s", v, units[u])
}
