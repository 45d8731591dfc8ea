package realbuild

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dfopt/dfopt/internal/imagefs"
)

// howToRun is what a skipped test tells its reader.
const howToRun = "needs a BuildKit daemon: run `bash realbuild/run.sh` from the repository root " +
	"(it starts realbuild/buildkit.sh's buildkitd unless one runs, sets DFOPT_REALBUILD=1 and runs these tests), " +
	"or start one with `bash realbuild/buildkit.sh start`, `eval \"$(bash realbuild/buildkit.sh env)\"`, " +
	"put buildctl on PATH (or name it in DFOPT_REALBUILD_BUILDCTL) and set DFOPT_REALBUILD=1"

// engine is BuildKit's buildctl pointed at the daemon the tests use
// (BUILDKIT_HOST), with the images of the run in a store of its own
// (imageStore), and Debian's runc to run them. The tests exec the CLIs
// rather than link BuildKit's client: it is what a user runs, and it keeps
// the tests' builds apart from dfopt verify's code, which they check.
type engine struct {
	buildctl string
	addr     string
	store    *imageStore
	runc     string // for the tests that run images; "" when there is none
	// heredocs says whether the daemon's Dockerfile frontend builds RUN <<EOF.
	heredocs bool
	version  string // buildctl --version, for the log

	costsMu sync.Mutex
	costs   engineCosts
}

// engineCosts adds up where the tests' time goes, for each test's log.
type engineCosts struct {
	builds, reads, unpacks      int
	build, export, read, unpack time.Duration // export: the part of build BuildKit spent exporting
}

func (c engineCosts) String() string {
	return fmt.Sprintf("%d builds %s (of which exporting the images %s), %d images read %s, %d unpacked to run %s",
		c.builds, secs(c.build), secs(c.export), c.reads, secs(c.read), c.unpacks, secs(c.unpack))
}

// minus is what was spent since an earlier copy of the counts.
func (c engineCosts) minus(before engineCosts) engineCosts {
	return engineCosts{
		builds: c.builds - before.builds, reads: c.reads - before.reads, unpacks: c.unpacks - before.unpacks,
		build: c.build - before.build, export: c.export - before.export, read: c.read - before.read, unpack: c.unpack - before.unpack,
	}
}

// count adds to the counts under their lock.
func (e *engine) count(add func(*engineCosts)) {
	e.costsMu.Lock()
	add(&e.costs)
	e.costsMu.Unlock()
}

func (e *engine) costsNow() engineCosts {
	e.costsMu.Lock()
	defer e.costsMu.Unlock()
	return e.costs
}

// The one engine of a test binary's run: its store, with the bases
// imported once, serves every test. TestMain removes the store's folder.
var shared struct {
	once sync.Once
	e    *engine
	skip string // why the tests that need an engine skip
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.e != nil {
		if err := shared.e.pruneOwn(context.Background(), false); err != nil {
			fmt.Fprintf(os.Stderr, "realbuild: prune the run's build cache: %v\n", err)
		}
		if err := os.RemoveAll(shared.e.store.dir); err != nil {
			fmt.Fprintf(os.Stderr, "realbuild: remove the image store: %v\n", err)
		}
	}
	os.Exit(code)
}

// requireEngine skips t unless DFOPT_REALBUILD=1 and a BuildKit daemon
// answers. requireDebianEngine is requireEngine for tests that build on
// debian:bookworm: they also skip, saying how to run them, unless
// DFOPT_REALBUILD_DEBIAN=1. what says what the test does with it.
func requireDebianEngine(t *testing.T, what string) *engine {
	t.Helper()
	if os.Getenv("DFOPT_REALBUILD_DEBIAN") != "1" {
		t.Skip("DFOPT_REALBUILD_DEBIAN is not 1; this test " + what + ": DFOPT_REALBUILD_DEBIAN=1 bash realbuild/run.sh")
	}
	e := requireEngine(t)
	if !e.hasImage(debianBase) {
		t.Fatalf("the image store has no %s although DFOPT_REALBUILD_DEBIAN=1", debianBase)
	}
	return e
}

func requireEngine(t *testing.T) *engine {
	t.Helper()
	if os.Getenv("DFOPT_REALBUILD") != "1" {
		t.Skip("DFOPT_REALBUILD is not 1; this test " + howToRun)
	}
	shared.once.Do(func() { shared.e, shared.skip, shared.err = openEngine(context.Background()) })
	switch {
	case shared.skip != "":
		t.Skipf("%s\nThis test %s", shared.skip, howToRun)
	case shared.err != nil:
		t.Fatal(shared.err)
	}
	e := shared.e
	// What the test's builds leave in the daemon's cache goes when it ends;
	// the bases' own records stay for the next test.
	start := e.costsNow()
	t.Cleanup(func() {
		t.Logf("engine: %s", e.costsNow().minus(start))
		if err := e.pruneOwn(context.Background(), true); err != nil {
			t.Logf("prune the test's build cache: %v", err)
		}
	})
	t.Logf("engine: %s at BUILDKIT_HOST=%s, images in %s, runc: %s; heredocs: %v", e.version, e.addr, e.store.dir, e.runc, e.heredocs)
	return e
}

// probeBase is the image every probe builds on; openEngine imports it.
const probeBase = "busybox:latest"

// openEngine finds buildctl and the daemon, makes the image store and
// imports the bases into it: busybox:latest always, debian:bookworm with
// DFOPT_REALBUILD_DEBIAN=1, from the root folders buildkit.sh makes. It
// then builds two probes: one that only BuildKit builds (a tmpfs mount),
// which every test needs, and a heredoc, which fixtures may need. skip
// says why there is no engine to test with.
func openEngine(ctx context.Context) (e *engine, skip string, err error) {
	bin := os.Getenv("DFOPT_REALBUILD_BUILDCTL")
	if bin == "" {
		bin = "buildctl"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Sprintf("no buildctl: %v", err), nil
	}
	e = &engine{buildctl: path, addr: os.Getenv("BUILDKIT_HOST")}
	if e.addr == "" {
		return nil, "BUILDKIT_HOST is not set", nil
	}
	if _, err := e.ctl(ctx, "debug", "workers"); err != nil {
		return nil, fmt.Sprintf("buildctl debug workers: the daemon does not answer: %v", err), nil
	}
	if e.version, err = e.ctl(ctx, "--version"); err != nil {
		return nil, "", err
	}
	if r, err := exec.LookPath("runc"); err == nil {
		e.runc = r
	}
	dir, err := os.MkdirTemp("", "dfopt-realbuild-store-")
	if err != nil {
		return nil, "", err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	if e.store, err = newImageStore(dir); err != nil {
		return nil, "", err
	}
	bases := []struct{ ref, name, cmd string }{{probeBase, "busybox", "sh"}}
	if os.Getenv("DFOPT_REALBUILD_DEBIAN") == "1" {
		bases = append(bases, struct{ ref, name, cmd string }{debianBase, "debian", "bash"})
	}
	for _, b := range bases {
		root, err := baseFolder(ctx, b.name)
		if err != nil {
			return nil, "", err
		}
		cfg := imagefs.Config{Env: []string{defaultPath}, Cmd: []string{b.cmd}}
		if _, err := e.store.importRoot(ctx, b.ref, root, cfg); err != nil {
			return nil, "", fmt.Errorf("import %s from %s: %w", b.ref, root, err)
		}
	}
	probes := filepath.Join(dir, "probes")
	if err := os.MkdirAll(probes, 0o755); err != nil {
		return nil, "", err
	}
	probe := func(name, text string) error {
		file := filepath.Join(probes, name+".Dockerfile")
		if err := os.WriteFile(file, []byte("FROM "+probeBase+"\n"+text), 0o644); err != nil {
			return err
		}
		id, _, err := e.build(ctx, file, probes, "")
		if err == nil {
			e.removeImage(id)
		}
		return err
	}
	if err := probe("buildkit", "RUN --mount=type=tmpfs,target=/m touch /m/x\n"); err != nil {
		return nil, "", fmt.Errorf("the daemon does not build a probe: %w", err)
	}
	e.heredocs = probe("heredoc", "RUN <<EOF\ntrue\nEOF\n") == nil
	return e, "", nil
}

// baseFolder asks buildkit.sh for the root folder of a base (busybox,
// debian), which its start makes.
func baseFolder(ctx context.Context, name string) (string, error) {
	out, err := exec.CommandContext(ctx, "bash", "buildkit.sh", "base", name).Output()
	if err != nil {
		return "", fmt.Errorf("buildkit.sh base %s: %w", name, err)
	}
	dir := strings.TrimSpace(string(out))
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("the %s base folder %q is not made: run bash realbuild/buildkit.sh start", name, dir)
	}
	return dir, nil
}

// ctl runs one buildctl command and returns its output, trimmed; an error
// carries the command and the tail of what it printed.
func (e *engine) ctl(ctx context.Context, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, e.buildctl, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("buildctl %s: %w\n%s", strings.Join(args, " "), err, tailLines(out.String(), 40))
	}
	return strings.TrimSpace(out.String()), nil
}

// tailLines keeps the last n lines of s, where a build's error is.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d lines]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// build builds dockerfile with contextDir as the build context and every
// named image of the store as a named context, exports the image into the
// store (named tag, unless tag is "") and returns its ID and what the
// build printed (BuildKit's plain progress). Builds use the host's network,
// the daemon's default (buildkit.sh starts it with --oci-worker-net=host),
// as the tests' docker build --network=host did.
func (e *engine) build(ctx context.Context, dockerfile, contextDir, tag string) (id, out string, err error) {
	start := time.Now()
	defer func() { e.count(func(c *engineCosts) { c.builds++; c.build += time.Since(start) }) }()
	e.store.busy.RLock()
	defer e.store.busy.RUnlock()
	dest, err := e.store.newExport()
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(dest)
	args := []string{"build", "--progress=plain", "--frontend=dockerfile.v0",
		"--local", "context=" + contextDir,
		"--local", "dockerfile=" + filepath.Dir(dockerfile),
		"--opt", "filename=" + filepath.Base(dockerfile)}
	args = append(args, e.store.namedContexts()...)
	// Uncompressed: the tests read every layer back, and a gzip of each
	// would cost the two cores more than the disk saves.
	args = append(args, "--output", "type=oci,tar=false,compression=uncompressed,dest="+dest)
	var buf bytes.Buffer
	cmd := exec.CommandContext(ctx, e.buildctl, args...)
	cmd.Stdout, cmd.Stderr = &buf, &buf
	defer e.keepDiskFree(ctx)
	if err := cmd.Run(); err != nil {
		return "", buf.String(), fmt.Errorf("buildctl build -f %s %s: %w\n%s", dockerfile, contextDir, err, tailLines(buf.String(), 40))
	}
	if d, ok := exportTime(buf.String()); ok {
		e.count(func(c *engineCosts) { c.export += d })
	}
	if id, err = exported(dest); err != nil {
		return "", buf.String(), err
	}
	if err := e.store.add(id, tag); err != nil {
		return "", buf.String(), err
	}
	return id, buf.String(), nil
}

// exportStep matches the export's step in BuildKit's plain progress, and
// the line that says how long a step took.
var (
	exportStep = regexp.MustCompile(`^#(\d+) exporting to oci image format`)
	stepDone   = regexp.MustCompile(`^#(\d+) DONE ([0-9.]+)s`)
)

// exportTime reads how long BuildKit took to export the image.
func exportTime(progress string) (time.Duration, bool) {
	vertex := ""
	for line := range strings.Lines(progress) {
		if m := exportStep.FindStringSubmatch(line); m != nil {
			vertex = m[1]
		} else if m := stepDone.FindStringSubmatch(line); m != nil && m[1] == vertex {
			s, err := strconv.ParseFloat(m[2], 64)
			return time.Duration(s * float64(time.Second)), err == nil
		}
	}
	return 0, false
}

// hasImage says whether the store has an image of that ID or reference (no
// registry is reachable where these tests run).
func (e *engine) hasImage(ref string) bool {
	_, ok := e.store.resolve(ref)
	return ok
}

// imageID is the ID of the image a reference names.
func (e *engine) imageID(ref string) (string, error) {
	id, ok := e.store.resolve(ref)
	if !ok {
		return "", fmt.Errorf("no image %s in the store", ref)
	}
	return id, nil
}

// inspect reads what the tests compare of an image's configuration and
// sizes, without reading its files.
func (e *engine) inspect(ref string) (imageInfo, error) {
	id, err := e.imageID(ref)
	if err != nil {
		return imageInfo{}, err
	}
	m, c, err := e.store.manifest(id)
	if err != nil {
		return imageInfo{}, fmt.Errorf("inspect %s: %w", ref, err)
	}
	info := imageInfo{ID: id, Author: c.Author, Config: c.Config}
	info.RootFS.Layers = c.RootFS.DiffIDs
	for _, l := range m.Layers {
		n, err := e.store.unpackedSize(l)
		if err != nil {
			return imageInfo{}, fmt.Errorf("inspect %s: %w", ref, err)
		}
		info.Size += n
	}
	return info, nil
}

// read reads an image's configuration, sizes and file system (the tree of
// its layers applied in order, as imagefs.ReadLayout reads an OCI layout).
func (e *engine) read(ref string) (*built, error) {
	start := time.Now()
	defer func() { e.count(func(c *engineCosts) { c.reads++; c.read += time.Since(start) }) }()
	id, err := e.imageID(ref)
	if err != nil {
		return nil, err
	}
	dir, done, err := e.store.view(id)
	if err != nil {
		return nil, err
	}
	defer done()
	l, err := imagefs.ReadLayout(dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ref, err)
	}
	info := imageInfo{ID: id, Size: l.Bytes(), Author: l.Image.Author, Config: l.Image.Config}
	for _, x := range l.Layers {
		info.RootFS.Layers = append(info.RootFS.Layers, x.Digest)
	}
	return &built{id: id, info: info, tree: l.Tree}, nil
}

// tag names an image, as docker tag did.
func (e *engine) tag(ref, name string) error {
	id, err := e.imageID(ref)
	if err != nil {
		return err
	}
	return e.store.tag(id, name)
}

// removeImage lets go of an image the tests built (by ID) or named, and
// removes the blobs nothing names any more when no build is writing.
// BuildKit's cache is left alone: the daemon may serve others, and its own
// garbage collection keeps its disk in bounds.
func (e *engine) removeImage(refs ...string) {
	for _, ref := range refs {
		e.store.remove(ref)
	}
	// Blobs left now go at a later remove, or when the run ends.
	_ = e.store.collect(false)
}

// removeImages removes images when t ends, its context gone by then.
func (e *engine) removeImages(t *testing.T, refs []string) {
	e.removeImage(refs...)
}

// pruneCacheMounts empties every cache mount of the daemon that no build
// is using (buildctl prune --filter type==exec.cachemount; the single =
// that docker builder prune took is an error to buildctl), leaving its
// layers cached.
func (e *engine) pruneCacheMounts(ctx context.Context) error {
	_, err := e.ctl(ctx, "prune", "--filter", "type==exec.cachemount")
	return err
}

// minFreeDisk is the free space below which a build prunes the run's own
// cache records (pruneOwn) when it ends, its bases kept: the tests that
// build many images side by side (TestRealBuildFixtures) hold some 10 GB
// of the daemon's disk at their peak otherwise.
const minFreeDisk = 8 << 30

// keepDiskFree prunes the run's own cache records when the disk of the
// store (the daemon's too, where it runs on this machine) is nearly full.
func (e *engine) keepDiskFree(ctx context.Context) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(e.store.dir, &st); err != nil || st.Bavail*uint64(st.Bsize) >= minFreeDisk {
		return
	}
	_ = e.pruneOwn(ctx, true)
}

// cacheRecord is what buildctl du --format '{{json .}}' says of one record
// of the daemon's build cache.
type cacheRecord struct {
	ID          string   `json:"id"`
	Parents     []string `json:"parents"`
	Description string   `json:"description"`
}

// pruneOwn removes the daemon's cache records that this run's builds made
// and no build uses: those that descend from the bases the store imported
// (BuildKit describes a base's record as "pulled from NAME@DIGEST", and
// every record built on it names its parents), and the bases' own records
// unless keepBases. The daemon may serve others, so nothing else is
// pruned; its garbage collection takes the rest (a build FROM scratch, the
// build contexts). Without this, the layers of a run (each held twice by
// the daemon, as a snapshot and as the blob it exported) fill the disk.
func (e *engine) pruneOwn(ctx context.Context, keepBases bool) error {
	out, err := e.ctl(ctx, "du", "--format", "{{json .}}")
	if err != nil {
		return err
	}
	var records []cacheRecord
	if err := json.Unmarshal([]byte(out), &records); err != nil {
		return fmt.Errorf("buildctl du: %w", err)
	}
	e.store.mu.Lock()
	imported := slices.Clone(e.store.imported)
	e.store.mu.Unlock()
	children := map[string][]string{}
	var todo []string
	bases := map[string]bool{}
	for _, r := range records {
		for _, p := range r.Parents {
			children[p] = append(children[p], r.ID)
		}
		if from, ok := strings.CutPrefix(r.Description, "pulled from "); ok {
			if _, digest, ok := strings.Cut(from, "@"); ok && slices.Contains(imported, digest) {
				todo = append(todo, r.ID)
				bases[r.ID] = true
			}
		}
	}
	own := map[string]bool{}
	for len(todo) > 0 {
		id := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if own[id] {
			continue
		}
		own[id] = true
		todo = append(todo, children[id]...)
	}
	var filters []string
	for id := range own {
		if !keepBases || !bases[id] {
			filters = append(filters, "--filter", "id=="+id)
		}
	}
	// A record goes once nothing built on it is left: one pass per level
	// of the tree, at most.
	for pass := 0; pass < 20 && len(filters) > 0; pass++ {
		pruned := 0
		for i := 0; i < len(filters); i += 200 {
			out, err := e.ctl(ctx, append([]string{"prune"}, filters[i:min(i+200, len(filters))]...)...)
			if err != nil {
				return err
			}
			pruned += strings.Count(out, "\n")
		}
		if pruned == 0 {
			break
		}
	}
	return nil
}

// errNoRunc says why an image cannot be run here.
var errNoRunc = errors.New("no runc on PATH: the tests that run images need Debian's runc (apt-get install runc)")

// lastLine keeps the last line of an error, where buildctl says what failed.
func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}
