package rewrite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// BuildContext is the folder a build sends to the builder, seen through its
// ignore file the way BuildKit sees it. Rules use it to check that the files a
// rewrite relies on exist and are sent.
//
// It reads the folder lazily, one subfolder at a time, and keeps what it
// read: the Dockerfiles that share a context through Contexts share those
// reads, the list of files sent and the facts rules derive from them
// (Shared, SharedFile), so that a folder of many Dockerfiles is read once
// rather than once per Dockerfile.
type BuildContext struct {
	Dir        string
	IgnoreFile string   // the ignore file in force ("" when there is none)
	Patterns   []string // its patterns, as BuildKit reads them

	matcher *patternmatcher.PatternMatcher
	matchMu sync.Mutex // guards matcher
	tree    *contextTree

	mu        sync.Mutex
	files     func() ([]ContextFile, error) // the walk of the sent files, done once
	listed    *atomic.Bool                  // files has run
	facts     map[any]*fact                 // Shared
	fileFacts map[fileFactKey]func() any    // SharedFile
}

type fileFactKey struct {
	key any
	rel string
}

// OpenContext opens dir as the build context of the Dockerfile at dockerfile
// ("" for one read from standard input). As BuildKit does, an ignore file
// named after the Dockerfile (Dockerfile.dockerignore, app.Dockerfile.dockerignore)
// beside it takes the place of the context's .dockerignore. The context
// shares nothing with others; Contexts.Open shares one folder's reads among
// many Dockerfiles.
func OpenContext(dir, dockerfile string) (*BuildContext, error) {
	return new(Contexts).Open(dir, dockerfile)
}

// Contexts opens build contexts for a run over many Dockerfiles: the
// contexts of one folder share its reads, and those with the same ignore
// file in force are one BuildContext, with one list of files sent and one
// set of facts. A caller that writes into a context (dfopt -w writing a
// Dockerfile or an ignore file) says so with Wrote, so that what later
// Dockerfiles see is the folder as it is now. The zero value is ready to
// use.
type Contexts struct {
	mu    sync.Mutex
	trees map[string]*contextTree   // by absolute folder
	views map[viewKey]*BuildContext // by folder and ignore file in force
}

// viewKey tells contexts apart: the same folder seen through the same
// ignore file, with the same content, is the same context.
type viewKey struct {
	dir        string // absolute, for the tree
	name       string // as given, for the BuildContext's Dir
	ignoreFile string
	content    string
}

// Open opens dir as the build context of the Dockerfile at dockerfile ("" for
// one read from standard input), as OpenContext does, sharing what an
// earlier Open of the same folder read. The ignore file is read each time,
// so that a changed one gives a new context.
func (cs *Contexts) Open(dir, dockerfile string) (*BuildContext, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("build context %s: not a directory", dir)
	}
	candidates := []string{filepath.Join(dir, ".dockerignore")}
	if dockerfile != "" {
		candidates = slices.Insert(candidates, 0, dockerfile+".dockerignore")
	}
	key := viewKey{dir: absDir(dir), name: dir}
	for _, name := range candidates {
		content, err := os.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
		key.ignoreFile, key.content = name, string(content)
		break
	}

	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c := cs.views[key]; c != nil {
		return c, nil
	}
	c := &BuildContext{Dir: dir, IgnoreFile: key.ignoreFile}
	if key.ignoreFile != "" {
		c.Patterns, err = ignorefile.ReadAll(strings.NewReader(key.content))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key.ignoreFile, err)
		}
	}
	c.matcher, err = patternmatcher.New(c.Patterns)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.IgnoreFile, err)
	}
	if cs.trees == nil {
		cs.trees = map[string]*contextTree{}
		cs.views = map[viewKey]*BuildContext{}
	}
	c.tree = cs.trees[key.dir]
	if c.tree == nil {
		c.tree = &contextTree{dir: dir, dirs: map[string]*listing{}}
		cs.trees[key.dir] = c.tree
	}
	c.reset("", false)
	cs.views[key] = c
	return c, nil
}

// Wrote tells the contexts that the file at path was written, created or
// removed: the folder it is in is read again for its entry, and what was
// derived from the contexts that hold it is computed again when next asked
// for: their files, their Shared facts and the SharedFile facts of that
// file. Contexts whose ignore file it is are dropped; the next Open reads
// the new one.
func (cs *Contexts) Wrote(path string) {
	abs := absDir(path)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for dir, tree := range cs.trees {
		rel, err := filepath.Rel(dir, abs)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		rel = filepath.ToSlash(rel)
		same := tree.update(rel)
		for key, c := range cs.views {
			if key.dir != dir {
				continue
			}
			if key.ignoreFile != "" && absDir(key.ignoreFile) == abs {
				delete(cs.views, key)
			}
			c.reset(rel, same)
		}
	}
	// A Dockerfile's own ignore file may sit outside its context (with
	// --context); its contexts are dropped all the same.
	for key := range cs.views {
		if key.ignoreFile != "" && absDir(key.ignoreFile) == abs {
			delete(cs.views, key)
		}
	}
}

// absDir returns the absolute, clean form of a path, or the clean path when
// the working folder cannot be known.
func absDir(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

// reset forgets what was derived from the context: the files sent and every
// Shared fact, and the SharedFile facts of rel ("" for all of them). When
// rel was rewritten in place (same says it was a file of the same kind
// before and after), the list of files sent takes rel's new entry, and the
// Shared facts that say they still hold (SharedKeep) are kept.
func (c *BuildContext) reset(rel string, same bool) {
	c.mu.Lock()
	old, oldFiles, oldListed := c.facts, c.files, c.listed
	c.listed = new(atomic.Bool)
	listed := c.listed
	c.files = sync.OnceValues(func() ([]ContextFile, error) {
		defer listed.Store(true)
		var out []ContextFile
		err := c.walk(".", func(f ContextFile) bool {
			if f.Path != "." {
				out = append(out, f)
			}
			return false
		})
		return out, err
	})
	c.facts = map[any]*fact{}
	if rel == "" {
		c.fileFacts = map[fileFactKey]func() any{}
	}
	for k := range c.fileFacts {
		if k.rel == rel {
			delete(c.fileFacts, k)
		}
	}
	c.mu.Unlock()
	if !same || rel == "" {
		return
	}
	if oldListed != nil && oldListed.Load() {
		if files, err := oldFiles(); err == nil {
			if entry, ok := c.Stat(rel); ok {
				files = slices.Clone(files)
				if i := slices.IndexFunc(files, func(f ContextFile) bool { return f.Path == rel }); i >= 0 {
					files[i] = entry
				}
				c.mu.Lock()
				listed.Store(true)
				c.files = func() ([]ContextFile, error) { return files, nil }
				c.mu.Unlock()
			}
		}
	}
	// Outside the lock: a fact's keep may read the context.
	for key, f := range old {
		if f.keep == nil || !f.computed.Load() || !f.keep(f.get(), rel) {
			continue
		}
		c.mu.Lock()
		if _, ok := c.facts[key]; !ok {
			c.facts[key] = f
		}
		c.mu.Unlock()
	}
}

// fact is one Shared fact of a context.
type fact struct {
	get      func() any // computes it, once
	computed atomic.Bool
	// keep, when not nil, tells whether the value still holds after a file
	// of the context was rewritten in place, bringing it up to date if it
	// must.
	keep func(v any, rel string) bool
}

// Shared returns what compute makes of the build context, computing it once
// per context and key: the Dockerfiles that share the context through
// Contexts share the value, until a write into the context (Contexts.Wrote).
// key tells facts apart, as a context.Context's keys do (a value of an
// unexported type of the caller's own); compute must read nothing but the
// context.
func Shared[T any](c *BuildContext, key any, compute func() T) T {
	return SharedKeep(c, key, compute, nil)
}

// SharedKeep is Shared for a fact that may outlive a write: after a file of
// the context (rel) was rewritten in place, a file before and after, keep
// is asked whether v still holds, and may bring v up to date first (under
// a lock of v's own: the Dockerfiles that share the context read it). It
// must say no unless v is then what compute would make of the context as
// it is. A write that adds, removes or changes the kind of a path drops
// the value, as any write drops a Shared one.
func SharedKeep[T any](c *BuildContext, key any, compute func() T, keep func(v T, rel string) bool) T {
	c.mu.Lock()
	f := c.facts[key]
	if f == nil {
		f = &fact{}
		f.get = sync.OnceValue(func() any {
			defer f.computed.Store(true)
			return compute()
		})
		if keep != nil {
			f.keep = func(v any, rel string) bool {
				t, ok := v.(T)
				return ok && keep(t, rel)
			}
		}
		c.facts[key] = f
	}
	c.mu.Unlock()
	v, _ := f.get().(T)
	return v
}

// SharedFile is Shared for a fact of one file of the context (rel,
// slash-separated): compute must read nothing of the context but that file,
// and a write elsewhere in the context keeps the value.
func SharedFile[T any](c *BuildContext, key any, rel string, compute func() T) T {
	k := fileFactKey{key, rel}
	c.mu.Lock()
	f := c.fileFacts[k]
	if f == nil {
		f = sync.OnceValue(func() any { return compute() })
		c.fileFacts[k] = f
	}
	c.mu.Unlock()
	v, _ := f().(T)
	return v
}

// Ignored tells whether the ignore file keeps a path (slash-separated,
// relative to the context) out of the build.
func (c *BuildContext) Ignored(rel string) bool {
	rel = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(rel)), "/")
	if rel == "." || rel == "" {
		return false
	}
	// The matcher compiles each pattern the first time it is used, which
	// is no safe thing for goroutines that share the context to do at once.
	c.matchMu.Lock()
	ok, err := c.matcher.MatchesOrParentMatches(rel)
	c.matchMu.Unlock()
	return err == nil && ok
}

// Sent tells whether a path exists in the context and reaches the builder.
func (c *BuildContext) Sent(rel string) bool {
	if c.Ignored(rel) {
		return false
	}
	_, ok := c.Stat(rel)
	return ok
}

// ContextFile is one file of the build context.
type ContextFile struct {
	Path string // slash-separated, relative to the context
	Size int64
	Dir  bool
	Link bool        // a symbolic link
	Mode fs.FileMode // its type and permission bits, as lstat gives them
}

// Files lists what the build sends: every file and folder not ignored, in
// lexical order. The folder is read once; every rule and pass shares the list.
func (c *BuildContext) Files() ([]ContextFile, error) {
	c.mu.Lock()
	files := c.files
	c.mu.Unlock()
	return files()
}

// Stat returns the entry of a path of the context (slash-separated), as
// lstat sees it, whether or not the ignore file keeps it out.
func (c *BuildContext) Stat(rel string) (ContextFile, bool) {
	if rel = cleanRel(rel); rel == "." {
		return ContextFile{Path: ".", Dir: true, Mode: fs.ModeDir}, true
	}
	return c.tree.stat(rel)
}

// ReadDir lists a folder of the context (slash-separated; "." for its top)
// as os.ReadDir does, in lexical order, whether or not the ignore file
// keeps its entries out; nothing when it is no folder.
func (c *BuildContext) ReadDir(rel string) []ContextFile {
	files, _ := c.tree.readDir(cleanRel(rel))
	return files
}

// Walk calls visit for every path at or below root (a path of the context;
// "." for all of it) that the build sends, root included, in lexical order,
// folders before what they hold; visit returns true to skip what is below a
// folder. Folders the ignore file keeps out are not entered unless a "!"
// pattern may bring back something below them.
func (c *BuildContext) Walk(root string, visit func(ContextFile) bool) {
	_ = c.walk(root, visit)
}

func (c *BuildContext) walk(root string, visit func(ContextFile) bool) error {
	f, ok := c.Stat(root)
	if !ok {
		return nil
	}
	return c.walkFrom(f, visit)
}

// walkFrom walks on past a folder it cannot read, and returns the first
// such error.
func (c *BuildContext) walkFrom(f ContextFile, visit func(ContextFile) bool) error {
	if f.Path != "." && c.Ignored(f.Path) {
		if !f.Dir || !c.matcher.Exclusions() {
			return nil
		}
	} else if visit(f) {
		return nil
	}
	if !f.Dir {
		return nil
	}
	children, err := c.tree.readDir(f.Path)
	for _, child := range children {
		if e := c.walkFrom(child, visit); err == nil {
			err = e
		}
	}
	return err
}

// cleanRel cleans a context path as BuildKit does a COPY source: relative
// to the context's top, which ".." does not leave.
func cleanRel(rel string) string {
	rel = strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(rel)), "/")
	if rel == "" {
		return "."
	}
	return rel
}

func contextFile(rel string, info fs.FileInfo) ContextFile {
	return ContextFile{Path: rel, Size: info.Size(), Dir: info.IsDir(), Link: info.Mode()&fs.ModeSymlink != 0, Mode: info.Mode()}
}

// contextTree is what has been read of a context's folder, shared by the
// contexts that differ only in their ignore file: each subfolder's entries,
// read on first use.
type contextTree struct {
	dir  string
	mu   sync.Mutex
	dirs map[string]*listing // by slash-separated folder, "." for the top
}

type listing struct {
	files []ContextFile // in lexical order of their names
	err   error
}

// readDir returns the entries of a folder of the context, reading it once.
func (t *contextTree) readDir(rel string) ([]ContextFile, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.readDirLocked(rel)
}

func (t *contextTree) readDirLocked(rel string) ([]ContextFile, error) {
	if l := t.dirs[rel]; l != nil {
		return l.files, l.err
	}
	l := &listing{}
	entries, err := os.ReadDir(filepath.Join(t.dir, filepath.FromSlash(rel)))
	l.err = err
	for _, e := range entries {
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the folder was read
		}
		if err != nil {
			l.err = err
			continue
		}
		l.files = append(l.files, contextFile(path.Join(rel, e.Name()), info))
	}
	t.dirs[rel] = l
	return l.files, l.err
}

// stat finds a path's entry in its folder's listing.
func (t *contextTree) stat(rel string) (ContextFile, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	files, _ := t.readDirLocked(path.Dir(rel))
	i, found := slices.BinarySearchFunc(files, rel, func(f ContextFile, rel string) int { return strings.Compare(f.Path, rel) })
	if !found {
		return ContextFile{}, false
	}
	return files[i], true
}

// update reads again the entry of a path that was written, created or
// removed, in the listing of its folder if that was read, and forgets the
// listing of the path itself. It tells whether the path was rewritten in
// place: a regular file in the listing before and after.
func (t *contextTree) update(rel string) (same bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.dirs, rel)
	l := t.dirs[path.Dir(rel)]
	if l == nil {
		return false
	}
	files := slices.Clone(l.files) // a walk under way keeps the old slice
	i, found := slices.BinarySearchFunc(files, rel, func(f ContextFile, rel string) int { return strings.Compare(f.Path, rel) })
	info, err := os.Lstat(filepath.Join(t.dir, filepath.FromSlash(rel)))
	switch {
	case err != nil && found:
		files = slices.Delete(files, i, i+1)
	case err != nil:
	case found:
		old := files[i]
		files[i] = contextFile(rel, info)
		same = old.Mode.IsRegular() && files[i].Mode.IsRegular()
	default:
		files = slices.Insert(files, i, contextFile(rel, info))
	}
	l.files = files
	return same
}
