package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Load reads the configuration file at path; name is how messages call it.
func Load(path string) (*File, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &Error{Path: path, Msg: err.Error()}
	}
	return Parse(path, filepath.Dir(path), src)
}

// Finder finds the configuration file that applies to a folder: the nearest
// .dfopt.yaml (or .dfopt.yml) in the folder or above it, up to the root of
// the repository (a folder holding .git) or of the file system. Nearer files
// replace farther ones whole: settings are not merged across files, so that
// one file tells everything that applies below it. A Finder reads each
// folder and file once; it is not safe for concurrent use.
type Finder struct {
	wd    string            // paths in messages are relative to it
	dirs  map[string]string // absolute folder → its configuration's path, "" for none
	files map[string]*File  // by absolute path
	errs  map[string]error  // by absolute path
}

// NewFinder returns a Finder that names files relative to the current
// folder in messages.
func NewFinder() *Finder {
	wd, _ := os.Getwd()
	return &Finder{wd: wd, dirs: map[string]string{}, files: map[string]*File{}, errs: map[string]error{}}
}

// Find returns the configuration that applies to dir, or nil when there is
// none. A file that cannot be read or has a mistake gives an *Error.
func (f *Finder) Find(dir string) (*File, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	path, err := f.lookup(abs)
	if err != nil || path == "" {
		return nil, err
	}
	if cf, ok := f.files[path]; ok {
		return cf, nil
	}
	if err, ok := f.errs[path]; ok {
		return nil, err
	}
	cf, err := Load(path)
	if err == nil {
		// Load named it by its absolute path; messages use the shorter one.
		cf.Path = f.display(path)
	} else if e, ok := err.(*Error); ok {
		e.Path = f.display(path)
	}
	if err != nil {
		f.errs[path] = err
		return nil, err
	}
	f.files[path] = cf
	return cf, nil
}

// lookup returns the path of the configuration for the absolute folder dir,
// "" when there is none.
func (f *Finder) lookup(dir string) (string, error) {
	if path, ok := f.dirs[dir]; ok {
		return path, nil
	}
	var found []string
	for _, name := range Names {
		if info, err := os.Stat(filepath.Join(dir, name)); err == nil && !info.IsDir() {
			found = append(found, filepath.Join(dir, name))
		}
	}
	var path string
	switch {
	case len(found) > 1:
		return "", &Error{Path: f.display(found[0]), Msg: fmt.Sprintf("%s is there too: keep one of them", Names[1])}
	case len(found) == 1:
		path = found[0]
	case exists(filepath.Join(dir, ".git")) || filepath.Dir(dir) == dir:
		// The root of a repository, or of the file system.
	default:
		var err error
		if path, err = f.lookup(filepath.Dir(dir)); err != nil {
			return "", err
		}
	}
	f.dirs[dir] = path
	return path, nil
}

// display is path as messages show it: relative to the current folder when
// that is shorter.
func (f *Finder) display(path string) string {
	if f.wd == "" {
		return path
	}
	rel, err := filepath.Rel(f.wd, path)
	if err != nil || len(rel) >= len(path) {
		return path
	}
	return rel
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
