package imagefs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// tarOf writes entries as a tar stream, as docker export would (or a layer).
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
	before, err := ReadTar(tarOf(t, base...))
	if err != nil {
		t.Fatal(err)
	}
	after, err := ReadTar(tarOf(t, other...))
	if err != nil {
		t.Fatal(err)
	}
	got := Compare(before, after)
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
		t.Errorf("Compare:\n got %q\nwant %q", got, want)
	}
	if d := Compare(before, before); len(d) > 0 {
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
	before := Image{Author: "Jane <j@example.com>", Config: Config{
		Env: []string{"PATH=/bin"}, Cmd: []string{"sh"}, WorkingDir: "/app",
	}}
	moved := before
	moved.Config.Labels = map[string]string{"org.opencontainers.image.authors": "Jane <j@example.com>"}
	if d := CompareConfigs(before, moved); len(d) > 0 {
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
	if got := CompareConfigs(before, changed); !slices.Equal(got, want) {
		t.Errorf("CompareConfigs:\n got %q\nwant %q", got, want)
	}
}

// TestApplyLayer checks the OCI layer rules: a whiteout deletes a path and
// all below it, an opaque whiteout empties its folder of the layers below
// (not of its own layer), and a hard link reads as a copy of its file.
func TestApplyLayer(t *testing.T) {
	tree := Tree{}
	apply := func(entries ...tarEntry) {
		t.Helper()
		if err := ApplyLayer(tree, tarOf(t, entries...)); err != nil {
			t.Fatal(err)
		}
	}
	apply(
		dirEntry("etc/", 0o755),
		fileEntry("etc/a", 0o644, "a"),
		dirEntry("opt/", 0o755),
		fileEntry("opt/x/y", 0o600, "y"),
		fileEntry("opt/z", 0o600, "z"),
		dirEntry("var/", 0o755),
		fileEntry("var/keep", 0o644, "k"),
		dirEntry("proc/", 0o555),
	)
	apply(
		fileEntry("etc/.wh.a", 0o644, ""),
		fileEntry("opt/new", 0o644, "n"),
		fileEntry("opt/.wh..wh..opq", 0o644, ""),
		fileEntry("var/keep2", 0o640, "k2"),
		tarEntry{h: tar.Header{Name: "var/link", Typeflag: tar.TypeLink, Linkname: "var/keep"}},
		tarEntry{h: tar.Header{Name: "var/link2", Typeflag: tar.TypeLink, Linkname: "./var/keep2"}},
	)
	var got []string
	for _, p := range slices.Sorted(maps.Keys(tree)) {
		got = append(got, p+" "+tree[p].Describe())
	}
	want := []string{
		"/etc dir, mode 0755",
		"/opt dir, mode 0755",
		"/opt/new file, 1 bytes, mode 0644",
		"/var dir, mode 0755",
		"/var/keep file, 1 bytes, mode 0644",
		"/var/keep2 file, 2 bytes, mode 0640",
		"/var/link file, 1 bytes, mode 0644",
		"/var/link2 file, 2 bytes, mode 0640",
	}
	if !slices.Equal(got, want) {
		t.Errorf("after two layers:\n got %q\nwant %q", got, want)
	}
	if err := ApplyLayer(tree, tarOf(t, tarEntry{h: tar.Header{Name: "l", Typeflag: tar.TypeLink, Linkname: "nowhere"}})); err == nil {
		t.Error("a hard link to nothing is no error")
	}
}

// TestReadLayout reads an OCI layout written here as BuildKit writes one:
// an index, a manifest, a config and two gzip layers.
func TestReadLayout(t *testing.T) {
	dir := t.TempDir()
	blob := func(b []byte) ociDescriptor {
		t.Helper()
		s := sha256.Sum256(b)
		d := "sha256:" + hex.EncodeToString(s[:])
		if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(blobPath(dir, d), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return ociDescriptor{Digest: d, Size: int64(len(b))}
	}
	layer := func(entries ...tarEntry) (ociDescriptor, int64) {
		raw := tarOf(t, entries...).Bytes()
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(raw)
		zw.Close()
		d := blob(z.Bytes())
		d.MediaType = "application/vnd.oci.image.layer.v1.tar+gzip"
		return d, int64(len(raw))
	}
	l1, n1 := layer(dirEntry("app/", 0o755), fileEntry("app/run", 0o755, "#!/bin/sh\n"))
	l2, n2 := layer(fileEntry("app/.wh.run", 0, ""), fileEntry("app/main", 0o755, "ELF"))
	cfg := blob([]byte(`{"author":"Jane","config":{"Cmd":["/app/main"],"WorkingDir":"/app","Env":["PATH=/bin"]},"rootfs":{"type":"layers"}}`))
	cfg.MediaType = "application/vnd.oci.image.config.v1+json"
	m, _ := json.Marshal(ociManifest{MediaType: "application/vnd.oci.image.manifest.v1+json", Config: cfg, Layers: []ociDescriptor{l1, l2}})
	md := blob(m)
	md.MediaType = "application/vnd.oci.image.manifest.v1+json"
	att := ociDescriptor{MediaType: "application/vnd.in-toto+json; attestation", Digest: md.Digest}
	idx, _ := json.Marshal(ociIndex{Manifests: []ociDescriptor{md, att}})
	if err := os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Image.Author != "Jane" || got.Image.Config.WorkingDir != "/app" || !slices.Equal(got.Image.Config.Cmd, []string{"/app/main"}) {
		t.Errorf("image: %+v", got.Image)
	}
	if len(got.Layers) != 2 || got.Bytes() != n1+n2 || got.Compressed() != l1.Size+l2.Size {
		t.Errorf("layers %+v: bytes %d (want %d), compressed %d (want %d)", got.Layers, got.Bytes(), n1+n2, got.Compressed(), l1.Size+l2.Size)
	}
	if _, ok := got.Tree["/app/run"]; ok || got.Tree["/app/main"].Size != 3 {
		t.Errorf("tree: %v", got.Tree)
	}
	// Two images in one layout are an error.
	idx, _ = json.Marshal(ociIndex{Manifests: []ociDescriptor{md, md}})
	os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644)
	if _, err := ReadLayout(dir); err == nil || !strings.Contains(err.Error(), "2 images") {
		t.Errorf("two images: %v", err)
	}
}
