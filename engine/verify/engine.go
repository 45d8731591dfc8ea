package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	gofs "io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/tonistiigi/fsutil"
	fstypes "github.com/tonistiigi/fsutil/types"
	"golang.org/x/sync/errgroup"
)

// engine is a BuildKit daemon driven through its Go client, as buildctl
// drives it.
type engine struct {
	c     *client.Client
	bases map[string]string // image reference -> local root folder
	// progress receives BuildKit's progress display; nil shows none.
	progress io.Writer
	mode     progressui.DisplayMode
}

// dial connects to the BuildKit daemon at addr (unix://, tcp://,
// docker-container://, ... as buildctl's --addr) and checks that it answers.
func dial(ctx context.Context, addr string) (*client.Client, error) {
	if addr == "" {
		return nil, fmt.Errorf("no BuildKit daemon: give --buildkit-addr or set BUILDKIT_HOST (for example unix:///run/buildkit/buildkitd.sock)")
	}
	c, err := client.New(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("BuildKit at %s: %w", addr, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := c.ListWorkers(wctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("BuildKit at %s does not answer: %w", addr, err)
	}
	return c, nil
}

// buildSpec is one build: a Dockerfile's bytes, the context it builds in
// and what is done to that context first.
type buildSpec struct {
	name       string // for the progress display: "original, cold build"
	dockerfile []byte
	ignore     []byte // the Dockerfile's own .dockerignore, if dfopt writes one; nil: the context's
	context    string
	target     string
	buildArgs  map[string]string
	noCache    bool
	touch      string // a path of the context whose content gets suffix at its end
	suffix     string
	out        string // an empty folder for the OCI layout; "" exports nothing
}

// touchSuffix makes what a rebuild appends to the file it touches: a line
// of spaces and tabs between line breaks, a blank line in any language,
// spelling a number that differs from run to run, so that no earlier run's
// build of the touched file is in the cache.
func touchSuffix(n uint64) string {
	var b strings.Builder
	b.WriteString("\n")
	for range 32 {
		b.WriteByte(" \t"[n&1])
		n >>= 1
	}
	b.WriteString("\n")
	return b.String()
}

// dockerfileStep matches the progress names of a Dockerfile's own steps
// ("[2/5] RUN ...", "[build 3/7] COPY ..."), not BuildKit's internal ones
// (loading the context, exporting).
var dockerfileStep = regexp.MustCompile(`^\[(\S+ )?\d+/\d+\] `)

// buildResult is what one build took.
type buildResult struct {
	seconds float64
	steps   int // the Dockerfile's steps the build needed
	cached  int // and those that BuildKit took from its cache
}

// solveOpt makes the options of one build of spec: its Dockerfile in a
// folder of its own (removed by the returned func), the context, the bases.
func (e *engine) solveOpt(spec buildSpec) (client.SolveOpt, func(), error) {
	var opt client.SolveOpt
	dfDir, err := os.MkdirTemp("", "dfopt-verify-df-")
	if err != nil {
		return opt, nil, err
	}
	done := func() { os.RemoveAll(dfDir) }
	opt, err = e.fillSolveOpt(spec, dfDir)
	if err != nil {
		done()
		return opt, nil, err
	}
	return opt, done, nil
}

func (e *engine) fillSolveOpt(spec buildSpec, dfDir string) (client.SolveOpt, error) {
	var opt client.SolveOpt
	if err := os.WriteFile(filepath.Join(dfDir, "Dockerfile"), spec.dockerfile, 0o644); err != nil {
		return opt, err
	}
	if spec.ignore != nil {
		// BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile
		// before the context's own .dockerignore.
		if err := os.WriteFile(filepath.Join(dfDir, "Dockerfile.dockerignore"), spec.ignore, 0o644); err != nil {
			return opt, err
		}
	}
	ctxFS, err := fsutil.NewFS(spec.context)
	if err != nil {
		return opt, fmt.Errorf("build context: %w", err)
	}
	if spec.touch != "" {
		ctxFS = &touchedFS{FS: ctxFS, path: filepath.ToSlash(spec.touch), suffix: spec.suffix}
	}
	dfFS, err := fsutil.NewFS(dfDir)
	if err != nil {
		return opt, err
	}
	opt = client.SolveOpt{
		Frontend:      "dockerfile.v0",
		FrontendAttrs: map[string]string{"filename": "Dockerfile"},
		LocalMounts:   map[string]fsutil.FS{"context": ctxFS, "dockerfile": dfFS},
	}
	if spec.target != "" {
		opt.FrontendAttrs["target"] = spec.target
	}
	if spec.noCache {
		opt.FrontendAttrs["no-cache"] = ""
	}
	for k, v := range spec.buildArgs {
		opt.FrontendAttrs["build-arg:"+k] = v
	}
	// The dockerfile frontend looks a FROM up by its name less ":latest"
	// (FROM busybox:latest finds context:busybox).
	keyed := map[string]string{}
	for ref, dir := range e.bases {
		keyed[strings.TrimSuffix(ref, ":latest")] = dir
	}
	refs := make([]string, 0, len(keyed))
	for ref := range keyed {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	for i, ref := range refs {
		name := fmt.Sprintf("dfopt-base-%d", i)
		dir := keyed[ref]
		if digest, err := layoutDigest(dir); err == nil {
			// An OCI layout: BuildKit keys its cache on the image's digest
			// and gets its configuration (ENV, CMD, ...) too.
			store, err := local.NewStore(dir)
			if err != nil {
				return opt, fmt.Errorf("base %s: %w", ref, err)
			}
			if opt.OCIStores == nil {
				opt.OCIStores = map[string]content.Store{}
			}
			opt.OCIStores[name] = store
			opt.FrontendAttrs["context:"+ref] = "oci-layout://" + name + "@" + digest
			continue
		} else if !errors.Is(err, gofs.ErrNotExist) {
			return opt, fmt.Errorf("base %s: %w", ref, err)
		}
		// A root folder: no configuration, and no step on it is ever
		// cached, since BuildKit keys a local source to its session.
		fs, err := fsutil.NewFS(dir)
		if err != nil {
			return opt, fmt.Errorf("base %s: %w", ref, err)
		}
		opt.LocalMounts[name] = fs
		opt.FrontendAttrs["context:"+ref] = "local:" + name
	}
	return opt, nil
}

// build runs one build and, when spec.out is set, exports the image as an
// OCI layout folder there.
func (e *engine) build(ctx context.Context, spec buildSpec) (*buildResult, error) {
	opt, done, err := e.solveOpt(spec)
	if err != nil {
		return nil, err
	}
	defer done()
	if spec.out != "" {
		opt.Exports = []client.ExportEntry{{
			Type:      client.ExporterOCI,
			Attrs:     map[string]string{"tar": "false"},
			OutputDir: spec.out,
		}}
	}

	res := &buildResult{}
	start := time.Now()
	err = e.withProgress(ctx, spec.name, res, func(ctx context.Context, ch chan *client.SolveStatus) error {
		_, err := e.c.Solve(ctx, nil, opt, ch)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.name, err)
	}
	res.seconds = time.Since(start).Seconds()
	return res, nil
}

// withProgress runs solve, which sends its status to ch and closes it,
// showing BuildKit's progress display under the heading name and counting
// the Dockerfile's steps into res (when not nil).
func (e *engine) withProgress(ctx context.Context, name string, res *buildResult, solve func(context.Context, chan *client.SolveStatus) error) error {
	mode := e.mode
	var out io.Writer = e.progress
	if out == nil {
		out, mode = io.Discard, progressui.QuietMode
	}
	display, err := progressui.NewDisplay(out, mode, progressui.WithPhase(name))
	if err != nil {
		return err
	}
	ch := make(chan *client.SolveStatus)
	statuses := make(chan *client.SolveStatus)
	eg, gctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return solve(gctx, ch) })
	eg.Go(func() error {
		// Count the steps as they complete, and pass the status on to the display.
		defer close(statuses)
		seen := map[string]bool{}
		for s := range ch {
			for _, v := range s.Vertexes {
				if res != nil && v.Completed != nil && !seen[v.Digest.String()] && dockerfileStep.MatchString(v.Name) {
					seen[v.Digest.String()] = true
					res.steps++
					if v.Cached {
						res.cached++
					}
				}
			}
			statuses <- s
		}
		return nil
	})
	eg.Go(func() error {
		_, err := display.UpdateFrom(context.WithoutCancel(gctx), statuses)
		return err
	})
	return eg.Wait()
}

// layoutDigest is the digest of the one image of the OCI layout in dir,
// an error wrapping fs.ErrNotExist when dir holds no layout.
func layoutDigest(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return "", err
	}
	var idx struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Join(dir, "index.json"), err)
	}
	if len(idx.Manifests) != 1 {
		return "", fmt.Errorf("the OCI layout %s holds %d images, not one", dir, len(idx.Manifests))
	}
	return idx.Manifests[0].Digest, nil
}

// touchedFS is a build context with one file's content changed: it ends
// with suffix. The folder itself is never written.
type touchedFS struct {
	fsutil.FS
	path   string
	suffix string
}

func (t *touchedFS) Walk(ctx context.Context, target string, fn gofs.WalkDirFunc) error {
	return t.FS.Walk(ctx, target, func(p string, d gofs.DirEntry, err error) error {
		if err == nil && filepath.ToSlash(p) == t.path {
			d = &touchedEntry{DirEntry: d, suffix: int64(len(t.suffix))}
		}
		return fn(p, d, err)
	})
}

func (t *touchedFS) Open(p string) (io.ReadCloser, error) {
	rc, err := t.FS.Open(p)
	if err != nil || filepath.ToSlash(p) != t.path {
		return rc, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(rc, strings.NewReader(t.suffix)), rc}, nil
}

// touchedEntry is the walk's entry of the touched file: longer by the
// suffix, and a second newer.
type touchedEntry struct {
	gofs.DirEntry
	suffix int64
}

func (e *touchedEntry) Info() (gofs.FileInfo, error) {
	fi, err := e.DirEntry.Info()
	if err != nil {
		return nil, err
	}
	st, ok := fi.Sys().(*fstypes.Stat)
	if !ok {
		return nil, fmt.Errorf("touch %s: unexpected file information %T", fi.Name(), fi.Sys())
	}
	c := st.CloneVT()
	c.Size += e.suffix
	c.ModTime += int64(time.Second)
	return &fsutil.StatInfo{Stat: c}, nil
}
