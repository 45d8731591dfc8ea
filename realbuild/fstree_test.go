package realbuild

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// fsEntry is what the comparison keeps of one path of an exported file system:
// everything but the times, which differ from one build to the next whatever
// the Dockerfile says.
type fsEntry struct {
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

// fsTree maps each path of a file system ("/etc/passwd") to its entry.
type fsTree map[string]fsEntry

// ignoredPath says whether p is left out of the comparison: docker create makes
// /etc/hosts, /etc/hostname, /etc/resolv.conf and /.dockerenv for each
// container, and /proc, /sys and /dev are the engine's mount points (with device
// nodes in a debootstrap root), not what the Dockerfile built.
func ignoredPath(p string) bool {
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

// readTree reads a tar stream, as docker export writes it, into an fsTree.
func readTree(r io.Reader) (fsTree, error) {
	tree := fsTree{}
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
		if ignoredPath(p) {
			continue
		}
		e := fsEntry{
			Type: h.Typeflag,
			Mode: h.Mode & 0o7777,
			UID:  h.Uid,
			GID:  h.Gid,
		}
		if e.Type == '\x00' {
			e.Type = tar.TypeReg
		}
		switch e.Type {
		case tar.TypeReg:
			e.Size = h.Size
			sum := sha256.New()
			if _, err := io.Copy(sum, tr); err != nil {
				return nil, fmt.Errorf("read exported file system: %s: %w", p, err)
			}
			e.Sum = hex.EncodeToString(sum.Sum(nil))
		case tar.TypeSymlink:
			e.Link = h.Linkname
		case tar.TypeLink:
			e.Link = cleanPath(h.Linkname)
		case tar.TypeChar, tar.TypeBlock:
			e.Dev = fmt.Sprintf("%d:%d", h.Devmajor, h.Devminor)
		}
		for k, v := range h.PAXRecords {
			if name, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
				if e.Xattrs == nil {
					e.Xattrs = map[string]string{}
				}
				e.Xattrs[name] = v
			}
		}
		tree[p] = e
	}
}

// typeName names a tar type flag for a reader of a difference report.
func typeName(t byte) string {
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

// describe says in a few words what an entry is, for "only in" lines.
func (e fsEntry) describe() string {
	switch e.Type {
	case tar.TypeReg:
		return fmt.Sprintf("file, %d bytes, mode %04o", e.Size, e.Mode)
	case tar.TypeSymlink, tar.TypeLink:
		return fmt.Sprintf("%s to %s", typeName(e.Type), e.Link)
	}
	return fmt.Sprintf("%s, mode %04o", typeName(e.Type), e.Mode)
}

// compareTrees lists every difference between two file systems, one line each,
// "PATH: what differs", in path order. No line means identical (times aside).
func compareTrees(before, after fsTree) []string {
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
			diffs = append(diffs, fmt.Sprintf("%s: only in before (%s)", p, b.describe()))
			continue
		case !inBefore:
			diffs = append(diffs, fmt.Sprintf("%s: only in after (%s)", p, a.describe()))
			continue
		}
		if b.Type != a.Type {
			diffs = append(diffs, fmt.Sprintf("%s: type %s -> %s", p, b.describe(), a.describe()))
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
			diffs = append(diffs, fmt.Sprintf("%s: %s target %s -> %s", p, typeName(b.Type), b.Link, a.Link))
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

// treeSummary counts what two file systems do not share, for the size report,
// where the after image may rightly lack files (apt lists, caches).
func treeSummary(before, after fsTree) string {
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

// imageInfo is the part of docker image inspect the tests read.
type imageInfo struct {
	ID     string `json:"Id"`
	Size   int64
	Author string
	Config imageConfig
	RootFS struct {
		Layers []string
	}
}

// imageConfig is the run-time configuration a rewrite must keep: what a
// container of the image starts with.
type imageConfig struct {
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

// compareConfigs lists the differences of the image configurations, "config
// FIELD: before -> after". Author is left out: maintainer-to-label turns
// MAINTAINER (Author) into a label on purpose, so a label the before image
// lacks, with a key MAINTAINER's author may move to and the before image's
// Author as its value, is no difference.
func compareConfigs(before, after imageInfo) []string {
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

// tarOf writes entries as a tar stream, as docker export would.
func tarOf(t *testing.T, entries ...tarEntry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.h
		h.Size = int64(len(e.body))
		if h.ModTime.IsZero() {
			h.ModTime = time.Unix(1_000_000_000, 0)
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

type tarEntry struct {
	h    tar.Header
	body string
}

func dirEntry(name string, mode int64) tarEntry {
	return tarEntry{h: tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: mode}}
}

func fileEntry(name string, mode int64, body string) tarEntry {
	return tarEntry{h: tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode}, body: body}
}

// TestCompareTrees checks the comparison itself without an engine: what it
// reports, what it ignores (times, the engine's own files), and the wording.
func TestCompareTrees(t *testing.T) {
	base := []tarEntry{
		dirEntry("etc/", 0o755),
		fileEntry("etc/passwd", 0o644, "root:x:0:0::/root:/bin/sh\n"),
		fileEntry("etc/hosts", 0o644, "127.0.0.1 a\n"),
		dirEntry("proc/", 0o555),
		{h: tar.Header{Name: "dev/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3}},
		{h: tar.Header{Name: ".dockerenv", Typeflag: tar.TypeReg, Mode: 0o755}},
		fileEntry("bin/busybox", 0o755, "ELF"),
		{h: tar.Header{Name: "bin/sh", Typeflag: tar.TypeSymlink, Linkname: "/bin/busybox", Mode: 0o777}},
		{h: tar.Header{Name: "bin/sh2", Typeflag: tar.TypeLink, Linkname: "bin/busybox"}},
		fileEntry("app/run", 0o4755, "#!/bin/sh\n"),
	}
	other := []tarEntry{
		dirEntry("./etc/", 0o755),
		// Only the time differs: no difference.
		{h: tar.Header{Name: "./etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644, ModTime: time.Unix(2_000_000_000, 0)}, body: "root:x:0:0::/root:/bin/sh\n"},
		fileEntry("./etc/hosts", 0o644, "other hosts, ignored\n"),
		fileEntry("./bin/busybox", 0o755, "elf"),
		{h: tar.Header{Name: "./bin/sh", Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}},
		fileEntry("./bin/sh2", 0o755, "ELF"),
		{h: tar.Header{Name: "./app/run", Typeflag: tar.TypeReg, Mode: 0o755, Uid: 1000, Gid: 1000, PAXRecords: map[string]string{"SCHILY.xattr.security.capability": "x"}}, body: "#!/bin/sh\n"},
		fileEntry("./app/new", 0o600, "n"),
	}
	before, err := readTree(tarOf(t, base...))
	if err != nil {
		t.Fatal(err)
	}
	after, err := readTree(tarOf(t, other...))
	if err != nil {
		t.Fatal(err)
	}
	got := compareTrees(before, after)
	want := []string{
		"/app/new: only in after (file, 1 bytes, mode 0600)",
		"/app/run: mode 4755 -> 0755",
		"/app/run: owner 0:0 -> 1000:1000",
		`/app/run: xattr security.capability only in after`,
		"/bin/busybox: content differs, same size 3 (sha256 " + sum("ELF")[:12] + " -> " + sum("elf")[:12] + ")",
		"/bin/sh: symlink target /bin/busybox -> busybox",
		"/bin/sh2: type hard link to /bin/busybox -> file, 3 bytes, mode 0755",
	}
	if !slices.Equal(got, want) {
		t.Errorf("compareTrees:\n got %q\nwant %q", got, want)
	}
	if d := compareTrees(before, before); len(d) > 0 {
		t.Errorf("a tree differs from itself: %q", d)
	}
	for _, p := range []string{"/etc/hosts", "/proc", "/dev/null", "/.dockerenv"} {
		if _, ok := before[p]; ok {
			t.Errorf("%s is read, but should be ignored", p)
		}
	}
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestCompareConfigs checks the configuration comparison, and that only the
// move of MAINTAINER's author into a label goes unreported.
func TestCompareConfigs(t *testing.T) {
	before := imageInfo{Author: "Jane <j@example.com>", Config: imageConfig{
		Env: []string{"PATH=/bin"}, Cmd: []string{"sh"}, WorkingDir: "/app",
	}}
	moved := before
	moved.Config.Labels = map[string]string{"org.opencontainers.image.authors": "Jane <j@example.com>"}
	if d := compareConfigs(before, moved); len(d) > 0 {
		t.Errorf("MAINTAINER moved to a label is reported: %q", d)
	}
	changed := before
	changed.Config.Labels = map[string]string{"maintainer": "Bob"}
	changed.Config.Cmd = nil
	changed.Config.Entrypoint = []string{}
	changed.Config.User = "app"
	want := []string{
		`config Cmd: ["sh"] -> null`,
		`config User: "" -> "app"`,
		`config Labels: null -> {"maintainer":"Bob"}`,
	}
	if got := compareConfigs(before, changed); !slices.Equal(got, want) {
		t.Errorf("compareConfigs:\n got %q\nwant %q", got, want)
	}
}
