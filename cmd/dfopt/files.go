package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// skipDirs are folders a walk never enters: they hold other people's files.
var skipDirs = map[string]bool{".git": true, "node_modules": true, "vendor": true}

// isDockerfileName tells whether a walk picks up a file of this name. Files
// named on the command line are read whatever their name.
func isDockerfileName(name string) bool {
	switch {
	case name == "Dockerfile", name == "Containerfile",
		strings.HasSuffix(name, ".Dockerfile"), strings.HasSuffix(name, ".dockerfile"),
		strings.HasPrefix(name, "Dockerfile."), strings.HasPrefix(name, "Containerfile."):
		return true
	}
	return false
}

// visit processes one argument: "-" for standard input, a file, or a folder
// to walk.
func (c *cli) visit(arg string) {
	if arg == "-" {
		src, err := io.ReadAll(c.stdin)
		if err != nil {
			c.fail(stdinName, err)
			return
		}
		c.process(stdinName, src, false)
		return
	}
	info, err := os.Stat(arg)
	if err != nil {
		c.fail(arg, bareError(err))
		return
	}
	if !info.IsDir() {
		c.processFile(arg)
		return
	}
	// A trailing separator makes the walk enter a root that is a symlink to
	// a folder; symlinked folders below it are not followed.
	root := arg
	if !os.IsPathSeparator(root[len(root)-1]) {
		root += string(filepath.Separator)
	}
	found := false
	defer func() {
		// As gofmt, a folder with no Dockerfile is no error; -v says so.
		if !found && c.verbose {
			fmt.Fprintf(c.stderr, "dfopt: no Dockerfile found under %s\n", oneLine(arg))
		}
	}()
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if path == root {
			path = arg
		}
		if err != nil {
			c.fail(path, bareError(err))
			return nil
		}
		if d.IsDir() {
			if path != arg && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !isDockerfileName(d.Name()) {
			return nil
		}
		if !d.Type().IsRegular() {
			// Keep symlinks to files (-w rewrites their target), skip the rest.
			if info, err := os.Stat(path); err != nil || !info.Mode().IsRegular() {
				return nil
			}
		}
		found = true
		c.processFile(path)
		return nil
	})
}

func (c *cli) processFile(path string) {
	src, err := os.ReadFile(path)
	if err != nil {
		c.fail(path, bareError(err))
		return
	}
	c.process(path, src, true)
}

// bareError drops the path from an error about that path, which fail prints
// in front anyway: "x: no such file or directory", not "x: open x: no such…".
func bareError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// writeFile replaces the file at path with data the way careful editors save:
// into a temporary file in the same folder, renamed over the original, so
// that nobody ever reads half a Dockerfile. Through a symlink the target is
// replaced and the link stays. The file keeps its permission bits; it gets a
// new inode, so hard links to the old file keep the old content.
func writeFile(path string, data []byte) (err error) {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return bareError(err)
	}
	info, err := os.Stat(target)
	if err != nil {
		return bareError(err)
	}
	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".dfopt-*")
	if err != nil {
		return fmt.Errorf("create temporary file in %s: %w", dir, bareError(err))
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(info.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("replace %s: %w", target, bareError(err))
	}
	return nil
}
