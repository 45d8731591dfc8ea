package realbuild

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dfopt/dfopt/internal/imagefs"
	"github.com/distribution/reference"
)

// imageStore is what docker's image store was to these tests, kept in a
// folder: every image is an OCI image (manifest, config, layers) whose blobs
// live in one shared blobs/ folder, as an OCI image layout holds them.
// BuildKit exports each build into it (buildctl --output type=oci,tar=false)
// and reads each named image back as a named context (oci-layout://), which
// it caches by the image's digest and whose configuration it uses, as it
// would a registry's image.
//
// An image's ID is its manifest digest. A build without a name holds its
// image until removed by ID; a named image lives while its name does.
type imageStore struct {
	dir string // blobs/, exports/ (one folder per build), views/ (one per read)

	mu     sync.Mutex
	images map[string]int    // ID -> the unnamed builds that gave it and still hold it
	names  map[string]string // reference, normalized ("docker.io/library/busybox:latest") -> ID
	// imported are the images importRoot made, whatever became of them.
	imported []string

	// busy is held shared while blobs are written that no image names yet
	// (a build's export, an import) and alone by collect, which removes the
	// blobs no image names.
	busy sync.RWMutex
}

// storeName is the name buildctl's --oci-layout gives the store, and
// oci-layout:// references use.
const storeName = "dfopt-store"

// Media types of what the store writes.
const (
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar"
)

func newImageStore(dir string) (*imageStore, error) {
	for _, sub := range []string{"blobs/sha256", "exports", "views"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	// What makes the folder an OCI image layout.
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return nil, err
	}
	return &imageStore{dir: dir, images: map[string]int{}, names: map[string]string{}}, nil
}

// normalizeRef spells an image reference as the store keys it, and gives
// the named-context key the Dockerfile frontend looks it up under: the
// short name without ":latest" (FROM busybox, FROM busybox:latest and FROM
// docker.io/library/busybox all read context:busybox).
func normalizeRef(ref string) (full, contextKey string, err error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", "", err
	}
	named = reference.TagNameOnly(named)
	return named.String(), strings.TrimSuffix(reference.FamiliarString(named), ":latest"), nil
}

// resolve finds the image an ID or a reference names.
func (s *imageStore) resolve(ref string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resolveLocked(ref)
}

func (s *imageStore) resolveLocked(ref string) (string, bool) {
	if _, ok := s.images[ref]; ok {
		return ref, true
	}
	full, _, err := normalizeRef(ref)
	if err != nil {
		return "", false
	}
	id, ok := s.names[full]
	return id, ok
}

// tag names an image; an image the name pointed to before loses it.
func (s *imageStore) tag(id, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tagLocked(id, ref)
}

func (s *imageStore) tagLocked(id, ref string) error {
	full, _, err := normalizeRef(ref)
	if err != nil {
		return fmt.Errorf("tag %s: %w", ref, err)
	}
	if _, ok := s.images[id]; !ok {
		return fmt.Errorf("tag %s: no image %s", ref, id)
	}
	old, had := s.names[full]
	s.names[full] = id
	if had {
		s.dropUnusedLocked(old)
	}
	return nil
}

// add records an image whose blobs are in the store: under a name, or
// held by one more unnamed build.
func (s *imageStore) add(id, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ref == "" {
		s.images[id]++
		return nil
	}
	if _, ok := s.images[id]; !ok {
		s.images[id] = 0
	}
	return s.tagLocked(id, ref)
}

// remove lets go of an image: by ID, one unnamed build's hold on it; by
// reference, the name. An image neither held nor named is gone (its blobs
// go at the next collect). A reference the store does not know is no
// error, as docker rmi of an image already removed was not for the tests.
func (s *imageStore) remove(ref string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.images[ref]; ok {
		s.images[ref] = max(n-1, 0)
		s.dropUnusedLocked(ref)
		return
	}
	full, _, err := normalizeRef(ref)
	if err != nil {
		return
	}
	if id, ok := s.names[full]; ok {
		delete(s.names, full)
		s.dropUnusedLocked(id)
	}
}

func (s *imageStore) dropUnusedLocked(id string) {
	if n, ok := s.images[id]; !ok || n > 0 || slices.Contains(slices.Collect(maps.Values(s.names)), id) {
		return
	}
	delete(s.images, id)
}

// namedContexts are buildctl's arguments that serve every named image of
// the store to a build: the store as an OCI layout, and one named context
// per name, by digest.
func (s *imageStore) namedContexts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	args := []string{"--oci-layout", storeName + "=" + s.dir}
	for _, full := range slices.Sorted(maps.Keys(s.names)) {
		_, key, err := normalizeRef(full)
		if err != nil {
			continue
		}
		args = append(args, "--opt", "context:"+key+"=oci-layout://"+storeName+"@"+s.names[full])
	}
	return args
}

// newExport makes the folder one build exports its image into: an OCI
// layout whose blobs/ is the store's, so that a blob the store has is not
// written again. The caller holds busy shared until the image is added.
func (s *imageStore) newExport() (string, error) {
	dir, err := os.MkdirTemp(filepath.Join(s.dir, "exports"), "build-")
	if err != nil {
		return "", err
	}
	if err := os.Symlink(filepath.Join(s.dir, "blobs"), filepath.Join(dir, "blobs")); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// exported reads the ID of the one image a build exported into dir.
func exported(dir string) (string, error) {
	var idx struct {
		Manifests []ociDescriptor `json:"manifests"`
	}
	if err := readJSONFile(filepath.Join(dir, "index.json"), &idx); err != nil {
		return "", fmt.Errorf("the build exported no image: %w", err)
	}
	var ids []string
	for _, m := range idx.Manifests {
		if !strings.Contains(m.MediaType, "attestation") {
			ids = append(ids, m.Digest)
		}
	}
	if len(ids) != 1 {
		return "", fmt.Errorf("the build exported %d images, not one", len(ids))
	}
	return ids[0], nil
}

// ociDescriptor, ociManifest and ociImageConfig are the parts of the OCI
// image spec's documents that the store reads and writes.
type ociDescriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

type ociManifest struct {
	SchemaVersion int             `json:"schemaVersion"`
	MediaType     string          `json:"mediaType"`
	Config        ociDescriptor   `json:"config"`
	Layers        []ociDescriptor `json:"layers"`
}

type ociImageConfig struct {
	Created      string         `json:"created,omitempty"`
	Author       string         `json:"author,omitempty"`
	Architecture string         `json:"architecture"`
	OS           string         `json:"os"`
	Config       imagefs.Config `json:"config"`
	RootFS       struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
	History []ociHistory `json:"history,omitempty"`
}

type ociHistory struct {
	Created   string `json:"created,omitempty"`
	CreatedBy string `json:"created_by,omitempty"`
}

func readJSONFile(name string, v any) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (s *imageStore) blobPath(digest string) string {
	alg, hexPart, _ := strings.Cut(digest, ":")
	return filepath.Join(s.dir, "blobs", alg, hexPart)
}

// manifest reads an image's manifest and configuration.
func (s *imageStore) manifest(id string) (*ociManifest, *ociImageConfig, error) {
	var m ociManifest
	if err := readJSONFile(s.blobPath(id), &m); err != nil {
		return nil, nil, err
	}
	var c ociImageConfig
	if err := readJSONFile(s.blobPath(m.Config.Digest), &c); err != nil {
		return nil, nil, err
	}
	return &m, &c, nil
}

// view makes a folder that is an OCI image layout of the one image id, for
// imagefs.ReadLayout, and returns it with the function that removes it.
func (s *imageStore) view(id string) (string, func(), error) {
	dir, err := os.MkdirTemp(filepath.Join(s.dir, "views"), "view-")
	if err != nil {
		return "", nil, err
	}
	done := func() { os.RemoveAll(dir) }
	st, err := os.Stat(s.blobPath(id))
	if err != nil {
		done()
		return "", nil, err
	}
	idx, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"manifests":     []ociDescriptor{{MediaType: mediaManifest, Digest: id, Size: st.Size()}},
	})
	if err := os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644); err != nil {
		done()
		return "", nil, err
	}
	if err := os.Symlink(filepath.Join(s.dir, "blobs"), filepath.Join(dir, "blobs")); err != nil {
		done()
		return "", nil, err
	}
	return dir, done, nil
}

// layerReader opens a layer blob as its uncompressed tar stream.
func (s *imageStore) layerReader(d ociDescriptor) (io.ReadCloser, error) {
	f, err := os.Open(s.blobPath(d.Digest))
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasSuffix(d.MediaType, "gzip"):
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, err
		}
		return struct {
			io.Reader
			io.Closer
		}{zr, f}, nil
	case strings.HasSuffix(d.MediaType, "zstd"):
		f.Close()
		return nil, fmt.Errorf("layer %s: zstd is not read", d.Digest)
	}
	return f, nil
}

// unpackedSize is the size of a layer's tar stream: its blob's size where
// it is stored uncompressed, as every export of these tests is.
func (s *imageStore) unpackedSize(d ociDescriptor) (int64, error) {
	if d.MediaType == mediaLayer || strings.HasSuffix(d.MediaType, "tar") {
		return d.Size, nil
	}
	r, err := s.layerReader(d)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	return io.Copy(io.Discard, r)
}

// writeBlob stores the content r gives and returns its descriptor.
func (s *imageStore) writeBlob(r io.Reader, mediaType string) (ociDescriptor, error) {
	f, err := os.CreateTemp(filepath.Join(s.dir, "blobs"), ".incoming-")
	if err != nil {
		return ociDescriptor{}, err
	}
	defer os.Remove(f.Name())
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, sum), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return ociDescriptor{}, err
	}
	d := ociDescriptor{MediaType: mediaType, Digest: "sha256:" + hex.EncodeToString(sum.Sum(nil)), Size: n}
	if err := os.Rename(f.Name(), s.blobPath(d.Digest)); err != nil {
		return ociDescriptor{}, err
	}
	return d, nil
}

func (s *imageStore) writeJSONBlob(v any, mediaType string) (ociDescriptor, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return ociDescriptor{}, err
	}
	return s.writeBlob(bytes.NewReader(b), mediaType)
}

// defaultPath is the PATH docker import gave the bases, and docker run
// gave a container whose image sets none.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// importRoot makes an image of one layer from a root folder, with cfg as
// its configuration, and names it ref: what docker import of the folder's
// tar did. The layer keeps every file's numeric owner, mode, type and hard
// links (writeRootTar). Its root entry, and the configuration, carry the
// time of the import, so that each run's bases are new to BuildKit, as a
// fresh dockerd's images were: no build of a run finds another run's layers
// cached, and the cache records a run makes descend from its own bases
// (engine.pruneOwn).
func (s *imageStore) importRoot(ctx context.Context, ref, root string, cfg imagefs.Config) (string, error) {
	s.busy.RLock()
	defer s.busy.RUnlock()
	now := time.Now().UTC()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeRootTar(ctx, pw, root, now)) }()
	layer, err := s.writeBlob(pr, mediaLayer)
	pr.CloseWithError(err)
	if err != nil {
		return "", fmt.Errorf("the layer of %s: %w", root, err)
	}
	created := now.Format(time.RFC3339Nano)
	c := ociImageConfig{Created: created, Architecture: runtime.GOARCH, OS: "linux", Config: cfg}
	c.RootFS.Type = "layers"
	c.RootFS.DiffIDs = []string{layer.Digest}
	c.History = []ociHistory{{Created: created, CreatedBy: "dfopt realbuild: the root folder " + root}}
	config, err := s.writeJSONBlob(c, mediaConfig)
	if err != nil {
		return "", err
	}
	m, err := s.writeJSONBlob(ociManifest{SchemaVersion: 2, MediaType: mediaManifest, Config: config, Layers: []ociDescriptor{layer}}, mediaManifest)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.imported = append(s.imported, m.Digest)
	s.mu.Unlock()
	return m.Digest, s.add(m.Digest, ref)
}

// writeRootTar writes the folder root as a layer's tar stream, in name
// order: each entry with its numeric owner (not the host's names for it),
// mode and type, device numbers, a hard link as a link to the first name
// of its file; sockets are left out. Times are kept, the root's own entry
// takes rootTime.
func writeRootTar(ctx context.Context, w io.Writer, root string, rootTime time.Time) error {
	tw := tar.NewWriter(w)
	firstName := map[[2]uint64]string{} // device and inode of a file with hard links -> its first name
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSocket != 0 {
			return nil
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		h.Name = "./" + filepath.ToSlash(rel)
		switch {
		case rel == ".":
			h.Name, h.ModTime = "./", rootTime
		case fi.IsDir():
			h.Name += "/"
		}
		h.Uname, h.Gname = "", ""
		h.AccessTime, h.ChangeTime = time.Time{}, time.Time{}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			h.Uid, h.Gid = int(st.Uid), int(st.Gid)
			if fi.Mode().IsRegular() && st.Nlink > 1 {
				key := [2]uint64{uint64(st.Dev), st.Ino}
				if first, ok := firstName[key]; ok {
					h.Typeflag, h.Linkname, h.Size = tar.TypeLink, first, 0
				} else {
					firstName[key] = h.Name
				}
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if h.Typeflag != tar.TypeReg {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.Copy(tw, f); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// collect removes the blobs no image of the store names, once no build
// writes into the store; wait false gives up at once when one does.
func (s *imageStore) collect(wait bool) error {
	if wait {
		s.busy.Lock()
	} else if !s.busy.TryLock() {
		return nil
	}
	defer s.busy.Unlock()
	s.mu.Lock()
	ids := slices.Collect(maps.Keys(s.images))
	s.mu.Unlock()
	keep := map[string]bool{}
	for _, id := range ids {
		m, _, err := s.manifest(id)
		if err != nil {
			return fmt.Errorf("collect: image %s: %w", id, err)
		}
		keep[id], keep[m.Config.Digest] = true, true
		for _, l := range m.Layers {
			keep[l.Digest] = true
		}
	}
	dir := filepath.Join(s.dir, "blobs", "sha256")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !keep["sha256:"+e.Name()] {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// unpack writes an image's file system into the folder root (made empty
// by the caller), as a container runtime would: layer after layer, each
// layer's whiteouts first removing what the layers under it made, every
// entry with its owner and mode. Device nodes and FIFOs are left out: the
// runtime mounts its own /dev. Every write stays inside root (os.Root): a
// layer cannot reach the host through a symbolic link.
func (s *imageStore) unpack(id, root string) error {
	m, _, err := s.manifest(id)
	if err != nil {
		return err
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer r.Close()
	for _, l := range m.Layers {
		if err := s.withLayer(l, func(tr *tar.Reader) error { return applyWhiteouts(r, tr) }); err != nil {
			return fmt.Errorf("layer %s: %w", l.Digest, err)
		}
		if err := s.withLayer(l, func(tr *tar.Reader) error { return extractLayer(r, tr) }); err != nil {
			return fmt.Errorf("layer %s: %w", l.Digest, err)
		}
	}
	return nil
}

func (s *imageStore) withLayer(d ociDescriptor, fn func(*tar.Reader) error) error {
	rc, err := s.layerReader(d)
	if err != nil {
		return err
	}
	defer rc.Close()
	return fn(tar.NewReader(rc))
}

// Whiteouts, as the OCI image spec writes deletions into a layer.
const (
	whiteoutPrefix = ".wh."
	opaqueWhiteout = ".wh..wh..opq"
)

// layerPath turns a tar member name into a path relative to the root
// folder ("." for the root itself).
func layerPath(name string) string {
	p := strings.TrimPrefix(path.Clean("/"+name), "/")
	if p == "" {
		return "."
	}
	return p
}

// applyWhiteouts removes what a layer's whiteouts delete from the layers
// under it: a path, or everything in a folder (opaque).
func applyWhiteouts(r *os.Root, tr *tar.Reader) error {
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		p := layerPath(h.Name)
		dir, base := path.Split(p)
		dir = layerPath(dir)
		switch {
		case base == opaqueWhiteout:
			f, err := r.Open(dir)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			names, err := f.Readdirnames(-1)
			f.Close()
			if err != nil {
				return err
			}
			for _, n := range names {
				if err := r.RemoveAll(path.Join(dir, n)); err != nil {
					return err
				}
			}
		case strings.HasPrefix(base, whiteoutPrefix):
			if err := r.RemoveAll(path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix))); err != nil {
				return err
			}
		}
	}
}

// extractLayer writes a layer's entries into r, replacing what is there
// (a folder stays a folder, its mode and owner updated).
func extractLayer(r *os.Root, tr *tar.Reader) error {
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		p := layerPath(h.Name)
		if strings.HasPrefix(path.Base(p), whiteoutPrefix) {
			continue
		}
		if err := extractEntry(r, p, h, tr); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
}

func extractEntry(r *os.Root, p string, h *tar.Header, content io.Reader) error {
	switch h.Typeflag {
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return nil
	}
	if old, err := r.Lstat(p); err == nil && !(old.IsDir() && h.Typeflag == tar.TypeDir) {
		if err := r.RemoveAll(p); err != nil {
			return err
		}
	}
	if dir := path.Dir(p); dir != "." {
		if err := r.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if err := r.Mkdir(p, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	case tar.TypeReg, tar.TypeRegA:
		f, err := r.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	case tar.TypeSymlink:
		if err := r.Symlink(h.Linkname, p); err != nil {
			return err
		}
		return r.Lchown(p, h.Uid, h.Gid)
	case tar.TypeLink:
		return r.Link(layerPath(h.Linkname), p)
	default:
		return fmt.Errorf("tar entry type %q", h.Typeflag)
	}
	// Owner first: chown clears the setuid and setgid bits.
	if err := r.Lchown(p, h.Uid, h.Gid); err != nil {
		return err
	}
	return r.Chmod(p, fileMode(h.Mode))
}

// fileMode turns a tar header's mode bits into an os.FileMode for Chmod.
func fileMode(mode int64) os.FileMode {
	m := os.FileMode(mode & 0o777)
	if mode&0o4000 != 0 {
		m |= os.ModeSetuid
	}
	if mode&0o2000 != 0 {
		m |= os.ModeSetgid
	}
	if mode&0o1000 != 0 {
		m |= os.ModeSticky
	}
	return m
}

// TestNormalizeRef checks, without an engine, the names the store keeps
// and the named-context keys the Dockerfile frontend looks images up by.
func TestNormalizeRef(t *testing.T) {
	for ref, want := range map[string][2]string{
		"busybox":                           {"docker.io/library/busybox:latest", "busybox"},
		"busybox:latest":                    {"docker.io/library/busybox:latest", "busybox"},
		"docker.io/library/debian:bookworm": {"docker.io/library/debian:bookworm", "debian:bookworm"},
		"dfopt-adv-tools:latest":            {"docker.io/library/dfopt-adv-tools:latest", "dfopt-adv-tools"},
		"ghcr.io/org/app:1":                 {"ghcr.io/org/app:1", "ghcr.io/org/app:1"},
	} {
		full, key, err := normalizeRef(ref)
		if err != nil || full != want[0] || key != want[1] {
			t.Errorf("normalizeRef(%s) = %q, %q, %v; want %q, %q", ref, full, key, err, want[0], want[1])
		}
	}
	if _, _, err := normalizeRef("Not/Valid"); err == nil {
		t.Error("normalizeRef accepts an upper-case repository")
	}
}

// TestImageStore checks, without an engine, that an imported folder reads
// back with its files' owners, modes and links, that unpack applies a later
// layer's whiteouts, and what names, holds and removals do.
func TestImageStore(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the folder holds files of other owners")
	}
	src := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "etc/sub"), 0o755))
	must(os.WriteFile(filepath.Join(src, "etc/owned"), []byte("x\n"), 0o640))
	must(os.Lchown(filepath.Join(src, "etc/owned"), 1, 2))
	must(os.WriteFile(filepath.Join(src, "etc/sub/gone"), nil, 0o644))
	must(os.WriteFile(filepath.Join(src, "etc/sub/kept"), nil, 0o644))
	must(os.WriteFile(filepath.Join(src, "suid"), []byte("#!/bin/sh\n"), 0o755))
	must(os.Chmod(filepath.Join(src, "suid"), 0o4755|os.ModeSetuid))
	must(os.Link(filepath.Join(src, "etc/owned"), filepath.Join(src, "hard")))
	must(os.Symlink("etc/owned", filepath.Join(src, "soft")))

	s, err := newImageStore(t.TempDir())
	must(err)
	id, err := s.importRoot(t.Context(), "base:1", src, imageConfig{Env: []string{defaultPath}, Cmd: []string{"sh"}})
	must(err)
	if got, ok := s.resolve("docker.io/library/base:1"); !ok || got != id {
		t.Fatalf("resolve = %q, %v; want %s", got, ok, id)
	}
	dir, done, err := s.view(id)
	must(err)
	l, err := imagefs.ReadLayout(dir)
	done()
	must(err)
	for p, want := range map[string]imagefs.Entry{
		"/etc/owned": {Type: tar.TypeReg, Mode: 0o640, UID: 1, GID: 2, Size: 2},
		"/suid":      {Type: tar.TypeReg, Mode: 0o4755, Size: 10},
		"/soft":      {Type: tar.TypeSymlink, Mode: 0o777, Link: "etc/owned"},
	} {
		got := l.Tree[p]
		got.Sum = ""
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %+v, want %+v", p, got, want)
		}
	}
	if l.Tree["/hard"].Sum != l.Tree["/etc/owned"].Sum || l.Image.Config.Cmd[0] != "sh" {
		t.Errorf("hard link or config not read back: %+v, %+v", l.Tree["/hard"], l.Image.Config)
	}

	// A second layer, as BuildKit writes one: sub/ made opaque with a new
	// file, /suid deleted.
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	for _, h := range []*tar.Header{
		{Name: "etc/sub/", Typeflag: tar.TypeDir, Mode: 0o700},
		{Name: "etc/sub/" + opaqueWhiteout, Typeflag: tar.TypeReg},
		{Name: "etc/sub/new", Typeflag: tar.TypeReg, Mode: 0o600, Uid: 3, Gid: 4, Size: 3},
		{Name: whiteoutPrefix + "suid", Typeflag: tar.TypeReg},
	} {
		must(tw.WriteHeader(h))
		if h.Size > 0 {
			_, err := tw.Write([]byte("new"))
			must(err)
		}
	}
	must(tw.Close())
	m, c, err := s.manifest(id)
	must(err)
	ld, err := s.writeBlob(&layer, mediaLayer)
	must(err)
	c.RootFS.DiffIDs = append(c.RootFS.DiffIDs, ld.Digest)
	cd, err := s.writeJSONBlob(c, mediaConfig)
	must(err)
	m.Config, m.Layers = cd, append(m.Layers, ld)
	md, err := s.writeJSONBlob(m, mediaManifest)
	must(err)
	must(s.add(md.Digest, ""))

	root := t.TempDir()
	must(s.unpack(md.Digest, root))
	for p, want := range map[string]string{
		"etc/owned":   "-rw-r----- 1:2",
		"etc/sub":     "drwx------ 0:0",
		"etc/sub/new": "-rw------- 3:4",
		"soft":        "Lrwxrwxrwx 0:0",
	} {
		st, err := os.Lstat(filepath.Join(root, p))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		sys := st.Sys().(*syscall.Stat_t)
		if got := fmt.Sprintf("%s %d:%d", st.Mode(), sys.Uid, sys.Gid); got != want {
			t.Errorf("%s: %s, want %s", p, got, want)
		}
	}
	for _, p := range []string{"suid", "etc/sub/gone", "etc/sub/kept"} {
		if _, err := os.Lstat(filepath.Join(root, p)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: not whited out (%v)", p, err)
		}
	}

	// Names and holds: the unnamed image goes with its last hold, the
	// named one with its name, and collect keeps only what is named.
	if got := s.namedContexts(); !slices.Equal(got, []string{"--oci-layout", storeName + "=" + s.dir, "--opt", "context:base:1=oci-layout://" + storeName + "@" + id}) {
		t.Errorf("namedContexts = %q", got)
	}
	s.remove(md.Digest)
	must(s.collect(true))
	if _, err := os.Stat(s.blobPath(ld.Digest)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the removed image's layer is still there: %v", err)
	}
	if _, err := os.Stat(s.blobPath(id)); err != nil {
		t.Errorf("the named image's manifest is gone: %v", err)
	}
	s.remove("base:1")
	must(s.collect(true))
	if left, _ := os.ReadDir(filepath.Join(s.dir, "blobs", "sha256")); len(left) > 0 {
		t.Errorf("after the last name: %d blobs left", len(left))
	}
	if _, ok := s.resolve("base:1"); ok {
		t.Error("base:1 is still named")
	}
}
