package imagefs

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Layout is an image read from an OCI image layout folder, as BuildKit's oci
// exporter writes it with tar=false: its layers' sizes, its configuration and
// the file system its layers make.
type Layout struct {
	Image Image
	Tree  Tree
	// Layers are the image's layers in order, each with its size as a
	// registry stores it (compressed) and unpacked.
	Layers []Layer
}

// Layer is one layer of an image.
type Layer struct {
	Digest     string
	Compressed int64 // the blob's size
	Unpacked   int64 // the size of the tar stream it unpacks to
}

// Bytes is the image's size unpacked: the sum of its layers' tar streams.
func (l *Layout) Bytes() int64 {
	var n int64
	for _, x := range l.Layers {
		n += x.Unpacked
	}
	return n
}

// Compressed is the image's size as a registry stores it: the sum of its
// layer blobs (gzip, as BuildKit compresses them by default).
func (l *Layout) Compressed() int64 {
	var n int64
	for _, x := range l.Layers {
		n += x.Compressed
	}
	return n
}

type ociDescriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

type ociIndex struct {
	Manifests []ociDescriptor `json:"manifests"`
}

type ociManifest struct {
	MediaType string          `json:"mediaType"`
	Config    ociDescriptor   `json:"config"`
	Layers    []ociDescriptor `json:"layers"`
	Manifests []ociDescriptor `json:"manifests"` // when it is an index
}

// ReadLayout reads the one image of an OCI image layout folder. An index
// that lists several images (platforms) is an error: dfopt verify builds one.
func ReadLayout(dir string) (*Layout, error) {
	var idx ociIndex
	if err := readJSON(filepath.Join(dir, "index.json"), &idx); err != nil {
		return nil, err
	}
	m, err := manifestOf(dir, idx.Manifests)
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Author string `json:"author"`
		Config Config `json:"config"`
	}
	if err := readJSON(blobPath(dir, m.Config.Digest), &cfg); err != nil {
		return nil, err
	}
	out := &Layout{Image: Image{Author: cfg.Author, Config: cfg.Config}, Tree: Tree{}}
	for _, d := range m.Layers {
		n, err := applyBlob(out.Tree, blobPath(dir, d.Digest), d.MediaType)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", d.Digest, err)
		}
		out.Layers = append(out.Layers, Layer{Digest: d.Digest, Compressed: d.Size, Unpacked: n})
	}
	return out, nil
}

// manifestOf follows an index down to the one image manifest it names,
// leaving out attestation manifests.
func manifestOf(dir string, descs []ociDescriptor) (*ociManifest, error) {
	for depth := 0; depth < 4; depth++ {
		var images []ociDescriptor
		for _, d := range descs {
			if !strings.Contains(d.MediaType, "attestation") {
				images = append(images, d)
			}
		}
		if len(images) != 1 {
			return nil, fmt.Errorf("the image layout in %s holds %d images, not one", dir, len(images))
		}
		var m ociManifest
		if err := readJSON(blobPath(dir, images[0].Digest), &m); err != nil {
			return nil, err
		}
		if len(m.Manifests) == 0 {
			return &m, nil
		}
		descs = m.Manifests
	}
	return nil, fmt.Errorf("the image layout in %s nests indexes too deep", dir)
}

func blobPath(dir, digest string) string {
	alg, hex, _ := strings.Cut(digest, ":")
	return filepath.Join(dir, "blobs", alg, hex)
}

func readJSON(name string, v any) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// applyBlob applies one layer blob, gzip-compressed or not as its media type
// says, and returns the size of its tar stream.
func applyBlob(tree Tree, name, mediaType string) (int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var r io.Reader = f
	switch {
	case strings.HasSuffix(mediaType, "+gzip") || strings.HasSuffix(mediaType, ".gzip"):
		zr, err := gzip.NewReader(f)
		if err != nil {
			return 0, err
		}
		defer zr.Close()
		r = zr
	case strings.HasSuffix(mediaType, "+zstd") || strings.HasSuffix(mediaType, ".zstd"):
		return 0, fmt.Errorf("zstd layers are not read; build with gzip (BuildKit's default)")
	}
	cr := &countReader{r: r}
	if err := ApplyLayer(tree, cr); err != nil {
		return 0, err
	}
	// The tar reader stops at the end-of-archive marker; count the padding after it.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return 0, err
	}
	return cr.n, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Whiteouts, as the OCI image spec writes deletions into a layer.
const (
	whiteoutPrefix = ".wh."
	opaqueWhiteout = ".wh..wh..opq"
)

// ApplyLayer applies one uncompressed layer tar stream to tree: its
// whiteouts delete paths (and all below them) of the layers under it, an
// opaque whiteout empties its folder of them, and its entries are added. A
// hard link is read as a copy of the file it links to: which paths share one
// file depends on how the engine stored the layers, not on what the image
// holds.
func ApplyLayer(tree Tree, r io.Reader) error {
	added := Tree{}
	var deleted, opaque []string
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read layer: %w", err)
		}
		p := cleanPath(h.Name)
		dir, base := path.Split(p)
		switch {
		case base == opaqueWhiteout:
			opaque = append(opaque, path.Clean(dir))
			continue
		case strings.HasPrefix(base, whiteoutPrefix):
			deleted = append(deleted, path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix)))
			continue
		case Ignored(p):
			continue
		}
		e, err := entryOf(h, tr)
		if err != nil {
			return fmt.Errorf("read layer: %s: %w", p, err)
		}
		if e.Type == tar.TypeLink {
			target, ok := added[e.Link]
			if !ok {
				target, ok = tree[e.Link]
			}
			if !ok || target.Type != tar.TypeReg {
				return fmt.Errorf("read layer: %s: hard link to %s, which is no file", p, e.Link)
			}
			e = target
		}
		added[p] = e
	}
	for _, d := range opaque {
		for p := range tree {
			if strings.HasPrefix(p, d+"/") || d == "/" && p != "/" {
				delete(tree, p)
			}
		}
	}
	for _, d := range deleted {
		for p := range tree {
			if p == d || strings.HasPrefix(p, d+"/") {
				delete(tree, p)
			}
		}
	}
	for p, e := range added {
		tree[p] = e
	}
	return nil
}

// entryOf makes the Entry of one tar header, reading a regular file's content.
func entryOf(h *tar.Header, r io.Reader) (Entry, error) {
	e := Entry{
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
		if _, err := io.Copy(sum, r); err != nil {
			return e, err
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
	return e, nil
}
