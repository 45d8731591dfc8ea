package rewrite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// BuildContext is the folder a build sends to the builder, seen through its
// ignore file the way BuildKit sees it. Rules use it to check that the files a
// rewrite relies on exist and are sent.
type BuildContext struct {
	Dir        string
	IgnoreFile string   // the ignore file in force ("" when there is none)
	Patterns   []string // its patterns, as BuildKit reads them

	matcher *patternmatcher.PatternMatcher
	files   func() ([]ContextFile, error) // walks the folder once, on first use
}

// OpenContext opens dir as the build context of the Dockerfile at dockerfile
// ("" for one read from standard input). As BuildKit does, an ignore file
// named after the Dockerfile (Dockerfile.dockerignore, app.Dockerfile.dockerignore)
// beside it takes the place of the context's .dockerignore.
func OpenContext(dir, dockerfile string) (*BuildContext, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("build context %s: not a directory", dir)
	}
	c := &BuildContext{Dir: dir}
	candidates := []string{filepath.Join(dir, ".dockerignore")}
	if dockerfile != "" {
		candidates = slices.Insert(candidates, 0, dockerfile+".dockerignore")
	}
	for _, name := range candidates {
		f, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
		c.Patterns, err = ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		c.IgnoreFile = name
		break
	}
	c.matcher, err = patternmatcher.New(c.Patterns)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.IgnoreFile, err)
	}
	c.files = sync.OnceValues(c.walk)
	return c, nil
}

// Ignored tells whether the ignore file keeps a path (slash-separated,
// relative to the context) out of the build.
func (c *BuildContext) Ignored(rel string) bool {
	rel = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(rel)), "/")
	if rel == "." || rel == "" {
		return false
	}
	ok, err := c.matcher.MatchesOrParentMatches(rel)
	return err == nil && ok
}

// Sent tells whether a path exists in the context and reaches the builder.
func (c *BuildContext) Sent(rel string) bool {
	if c.Ignored(rel) {
		return false
	}
	_, err := os.Lstat(filepath.Join(c.Dir, filepath.FromSlash(rel)))
	return err == nil
}

// ContextFile is one file of the build context.
type ContextFile struct {
	Path string // slash-separated, relative to the context
	Size int64
	Dir  bool
	Link bool // a symbolic link
}

// Files lists what the build sends: every file and folder not ignored, in
// lexical order. The folder is read once; every rule and pass shares the list.
func (c *BuildContext) Files() ([]ContextFile, error) { return c.files() }

func (c *BuildContext) walk() ([]ContextFile, error) {
	var out []ContextFile
	err := filepath.WalkDir(c.Dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(c.Dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if c.Ignored(rel) {
			if e.IsDir() && !c.matcher.Exclusions() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		out = append(out, ContextFile{Path: rel, Size: info.Size(), Dir: e.IsDir(), Link: e.Type()&fs.ModeSymlink != 0})
		return nil
	})
	return out, err
}
