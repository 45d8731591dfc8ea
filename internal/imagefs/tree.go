package imagefs

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"reflect"
	"slices"
	"strings"
)

// Entry is what the comparison keeps of one path of an exported file system:
// everything but the times, which differ from one build to the next whatever
// the Dockerfile says.
type Entry struct {
	Type   byte  // tar type flag; the old regular-file flag '\x00' reads as tar.TypeReg
	Mode   int64 // permission bits with setuid, setgid and sticky
	UID    int
	GID    int
	Size   int64
	Link   string // symlink target, or the path a hard link shares its file with
	Sum    string // sha256 of a regular file's content
	Dev    string // "major:minor" of a device node
	Xattrs map[string]string
}

// Tree maps each path of a file system ("/etc/passwd") to its entry.
type Tree map[string]Entry

// Ignored says whether p is left out of the comparison: docker create makes
// /etc/hosts, /etc/hostname, /etc/resolv.conf and /.dockerenv for each
// container, and /proc, /sys and /dev are the engine's mount points (with device
// nodes in a debootstrap root), not what the Dockerfile built.
func Ignored(p string) bool {
	switch p {
	case "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/.dockerenv":
		return true
	}
	for _, dir := range []string{"/proc", "/sys", "/dev"} {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

// cleanPath turns a tar member name ("bin/", "./etc/passwd") into an absolute path.
func cleanPath(name string) string {
	return path.Clean("/" + name)
}

// ReadTar reads a tar stream of a whole file system, as docker export
// writes it, into a Tree.
func ReadTar(r io.Reader) (Tree, error) {
	tree := Tree{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return tree, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read exported file system: %w", err)
		}
		p := cleanPath(h.Name)
		if Ignored(p) {
			continue
		}
		e, err := entryOf(h, tr)
		if err != nil {
			return nil, fmt.Errorf("read exported file system: %s: %w", p, err)
		}
		tree[p] = e
	}
}

// TypeName names a tar type flag for a reader of a difference report.
func TypeName(t byte) string {
	switch t {
	case tar.TypeReg:
		return "file"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeChar:
		return "char device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeDir:
		return "dir"
	case tar.TypeFifo:
		return "fifo"
	}
	return fmt.Sprintf("type %q", t)
}

// Describe says in a few words what an entry is, for "only in" lines.
func (e Entry) Describe() string {
	switch e.Type {
	case tar.TypeReg:
		return fmt.Sprintf("file, %d bytes, mode %04o", e.Size, e.Mode)
	case tar.TypeSymlink, tar.TypeLink:
		return fmt.Sprintf("%s to %s", TypeName(e.Type), e.Link)
	}
	return fmt.Sprintf("%s, mode %04o", TypeName(e.Type), e.Mode)
}

// Compare lists every difference between two file systems, one line each,
// "PATH: what differs", in path order. No line means identical (times aside).
func Compare(before, after Tree) []string {
	paths := slices.Sorted(maps.Keys(before))
	for p := range after {
		if _, ok := before[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var diffs []string
	for _, p := range paths {
		b, inBefore := before[p]
		a, inAfter := after[p]
		switch {
		case !inAfter:
			diffs = append(diffs, fmt.Sprintf("%s: only in before (%s)", p, b.Describe()))
			continue
		case !inBefore:
			diffs = append(diffs, fmt.Sprintf("%s: only in after (%s)", p, a.Describe()))
			continue
		}
		if b.Type != a.Type {
			diffs = append(diffs, fmt.Sprintf("%s: type %s -> %s", p, b.Describe(), a.Describe()))
			continue
		}
		if b.Mode != a.Mode {
			diffs = append(diffs, fmt.Sprintf("%s: mode %04o -> %04o", p, b.Mode, a.Mode))
		}
		if b.UID != a.UID || b.GID != a.GID {
			diffs = append(diffs, fmt.Sprintf("%s: owner %d:%d -> %d:%d", p, b.UID, b.GID, a.UID, a.GID))
		}
		switch {
		case b.Size != a.Size:
			diffs = append(diffs, fmt.Sprintf("%s: size %d -> %d bytes", p, b.Size, a.Size))
		case b.Sum != a.Sum:
			diffs = append(diffs, fmt.Sprintf("%s: content differs, same size %d (sha256 %.12s -> %.12s)", p, b.Size, b.Sum, a.Sum))
		}
		if b.Link != a.Link {
			diffs = append(diffs, fmt.Sprintf("%s: %s target %s -> %s", p, TypeName(b.Type), b.Link, a.Link))
		}
		if b.Dev != a.Dev {
			diffs = append(diffs, fmt.Sprintf("%s: device %s -> %s", p, b.Dev, a.Dev))
		}
		for _, k := range slices.Sorted(maps.Keys(mergeKeys(b.Xattrs, a.Xattrs))) {
			bv, bok := b.Xattrs[k]
			av, aok := a.Xattrs[k]
			switch {
			case !aok:
				diffs = append(diffs, fmt.Sprintf("%s: xattr %s only in before", p, k))
			case !bok:
				diffs = append(diffs, fmt.Sprintf("%s: xattr %s only in after", p, k))
			case bv != av:
				diffs = append(diffs, fmt.Sprintf("%s: xattr %s %q -> %q", p, k, bv, av))
			}
		}
	}
	return diffs
}

func mergeKeys(a, b map[string]string) map[string]bool {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}

// Summary counts what two file systems do not share, for the size report,
// where the after image may rightly lack files (apt lists, caches).
func Summary(before, after Tree) string {
	var onlyB, onlyA, changed int
	var bytesB, bytesA int64
	for p, b := range before {
		a, ok := after[p]
		switch {
		case !ok:
			onlyB++
			bytesB += b.Size
		case !reflect.DeepEqual(a, b):
			changed++
		}
	}
	for p, a := range after {
		if _, ok := before[p]; !ok {
			onlyA++
			bytesA += a.Size
		}
	}
	return fmt.Sprintf("%d paths only before (%d bytes), %d only after (%d bytes), %d changed, of %d", onlyB, bytesB, onlyA, bytesA, changed, len(before))
}

// Image is what the comparison reads of an image: its author (MAINTAINER)
// and its run-time configuration.
type Image struct {
	Author string
	Config Config
}

// Config is the run-time configuration a rewrite must keep: what a
// container of the image starts with.
type Config struct {
	Env          []string
	Cmd          []string
	Entrypoint   []string
	WorkingDir   string
	User         string
	ExposedPorts map[string]struct{}
	Volumes      map[string]struct{}
	Labels       map[string]string
	OnBuild      []string
	Shell        []string
	StopSignal   string
	Healthcheck  json.RawMessage
}

// CompareConfigs lists the differences of the image configurations, "config
// FIELD: before -> after". Author is left out: maintainer-to-label turns
// MAINTAINER (Author) into a label on purpose, so a label the before image
// lacks, with a key MAINTAINER's author may move to and the before image's
// Author as its value, is no difference.
func CompareConfigs(before, after Image) []string {
	bc, ac := before.Config, after.Config
	for _, key := range []string{"org.opencontainers.image.authors", "maintainer"} {
		if _, had := bc.Labels[key]; before.Author != "" && !had && ac.Labels[key] == before.Author {
			ac.Labels = maps.Clone(ac.Labels)
			delete(ac.Labels, key)
		}
	}
	var diffs []string
	bv, av := reflect.ValueOf(bc), reflect.ValueOf(ac)
	for i := range bv.NumField() {
		name := bv.Type().Field(i).Name
		bj, aj := jsonOf(bv.Field(i).Interface()), jsonOf(av.Field(i).Interface())
		if bj != aj {
			diffs = append(diffs, fmt.Sprintf("config %s: %s -> %s", name, bj, aj))
		}
	}
	return diffs
}

// jsonOf prints a config field for comparison; nil and empty read the same,
// since the engine writes either for "not set".
func jsonOf(v any) string {
	rv := reflect.ValueOf(v)
	if (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map) && rv.Len() == 0 {
		return "null"
	}
	if raw, ok := v.(json.RawMessage); ok && (len(raw) == 0 || string(raw) == "null") {
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}
