package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/internal/config"
)

// skipDirs are folders a walk never enters: they hold other people's files.
var skipDirs = map[string]bool{".git": true, "node_modules": true, "vendor": true}

// skippedDir tells which folder of a relative path, if any, a walk from the
// current folder would not enter (vendor, say), so that a git hook given
// every staged file skips what "dfopt --check ." in CI skips. An absolute
// path has no such folder: a walk enters the folder it is given.
func skippedDir(path string) string {
	if filepath.IsAbs(path) {
		return ""
	}
	for _, dir := range strings.Split(filepath.ToSlash(filepath.Dir(path)), "/") {
		if skipDirs[dir] {
			return dir
		}
	}
	return ""
}

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

// otherFormats are extensions that say a file is something other than a
// Dockerfile although its name starts with "Dockerfile." (or
// "Containerfile."): a template that renders one, its documentation, data,
// a script, a patch or a backup, the Dockerfile's own .dockerignore. Words
// that name a variant as often as a format (Dockerfile.go, Dockerfile.old,
// Dockerfile.test) are not here: those are read.
var otherFormats = map[string]bool{
	// templates
	"j2": true, "jinja": true, "jinja2": true, "tpl": true, "tmpl": true, "template": true,
	"gotmpl": true, "mustache": true, "hbs": true, "erb": true, "njk": true, "in": true,
	// documentation and markup
	"md": true, "markdown": true, "rst": true, "txt": true, "adoc": true, "asciidoc": true,
	"html": true, "htm": true, "org": true, "pdf": true,
	// data and configuration
	"json": true, "yaml": true, "yml": true, "toml": true, "xml": true, "ini": true,
	"cfg": true, "conf": true, "env": true, "properties": true, "lock": true, "csv": true,
	"dockerignore": true,
	// scripts
	"sh": true, "bash": true, "zsh": true, "fish": true, "ps1": true, "bat": true,
	"py": true, "js": true, "mjs": true, "ts": true, "rb": true, "pl": true, "php": true,
	// patches, backups and editors' files
	"orig": true, "rej": true, "patch": true, "diff": true, "bak": true, "backup": true,
	"swp": true, "swo": true, "tmp": true,
	// archives and images
	"gz": true, "tgz": true, "zip": true, "tar": true, "png": true, "svg": true,
}

// notDockerfile tells why a file whose name a walk would pick up is
// evidently no Dockerfile ("" when it may be one): its last extension names
// another format, or it is an editor's backup (a name ending in "~").
func notDockerfile(name string) string {
	if strings.HasSuffix(name, "~") {
		return "a backup, ends in ~"
	}
	if i := strings.LastIndexByte(name, '.'); i > 0 && otherFormats[strings.ToLower(name[i+1:])] {
		return name[i:]
	}
	return ""
}

// collect adds the inputs an argument names to inputs: "-" for standard
// input, a file, or the Dockerfiles in a folder, leaving out what the
// configuration excludes and, in a walk (or with --skip-non-dockerfiles),
// files that are evidently no Dockerfiles. It finds each input's
// configuration on the way, reporting its mistakes.
func (c *cli) collect(arg string, inputs []string) []string {
	if arg == "-" {
		if _, err := c.configFor(stdinName, false); err != nil {
			c.badConfig(err)
		}
		return append(inputs, arg)
	}
	info, err := os.Stat(arg)
	if err != nil {
		c.fail(arg, bareError(err))
		return inputs
	}
	if !info.IsDir() {
		if c.excluded(arg, false) {
			return inputs
		}
		if c.skipNonDockerfiles {
			name := filepath.Base(arg)
			if dir := skippedDir(arg); dir != "" {
				c.verbosef("skipping %s: in %s, which a walk does not enter", arg, dir)
				return inputs
			}
			if !isDockerfileName(name) {
				c.verbosef("skipping %s: not named like a Dockerfile", arg)
				return inputs
			}
			if why := notDockerfile(name); why != "" {
				c.verbosef("skipping %s: not a Dockerfile (%s)", arg, why)
				return inputs
			}
		}
		return append(inputs, arg)
	}
	if c.excluded(arg, true) {
		return inputs
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
			if path != arg && (skipDirs[d.Name()] || c.excluded(path, true)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !isDockerfileName(d.Name()) {
			return nil
		}
		if why := notDockerfile(d.Name()); why != "" {
			c.verbosef("skipping %s: not a Dockerfile (%s)", path, why)
			return nil
		}
		if !d.Type().IsRegular() {
			// Keep symlinks to files (-w rewrites their target), skip the rest.
			if info, err := os.Stat(path); err != nil || !info.Mode().IsRegular() {
				return nil
			}
		}
		if c.excluded(path, false) {
			return nil
		}
		found = true
		inputs = append(inputs, path)
		return nil
	})
	return inputs
}

// excluded tells whether the configuration of path excludes it, saying so
// with -v. A folder counts as excluded only when no "!" pattern could bring
// back a file below it; its files are then looked at one by one. A folder
// is judged by the configuration nearest to it, which is its own
// .dfopt.yaml when it has one.
func (c *cli) excluded(path string, dir bool) bool {
	var cfg *config.File
	var err error
	switch {
	case c.config != nil:
		cfg = c.config
	case c.finder == nil:
		return false
	case dir:
		cfg, err = c.finder.Find(path)
	default:
		cfg, err = c.configFor(path, true)
	}
	if err != nil {
		c.badConfig(err)
		return true
	}
	if cfg == nil || dir && !cfg.Prunes(path) || !dir && !cfg.Excluded(path) {
		return false
	}
	c.verbosef("skipping %s: excluded by %s", path, cfg.Path)
	return true
}

// visitAll processes the inputs in order. Without -w, files are read and
// computed side by side, on as many goroutines as Go runs at once, and
// their outcomes printed in the order of the inputs: nothing is written
// then, so each sees the files as the run found them, as it would one by
// one. With -w each must see what the ones before it wrote (a .dockerignore,
// a sibling Dockerfile), and standard input is read once: those runs go one
// by one.
func (c *cli) visitAll(inputs []string) {
	workers := runtime.GOMAXPROCS(0)
	if c.write || workers < 2 || len(inputs) < 2 || slices.Contains(inputs, "-") {
		for _, in := range inputs {
			c.visit(in)
		}
		return
	}
	outcomes := make([]chan outcome, len(inputs))
	for i := range outcomes {
		outcomes[i] = make(chan outcome, 1)
	}
	// At most a few outcomes wait to be printed, however many the inputs.
	ahead := make(chan struct{}, 2*workers)
	go func() {
		for i, in := range inputs {
			ahead <- struct{}{}
			go func() { outcomes[i] <- c.computeFile(in) }()
		}
	}()
	for i := range inputs {
		o := <-outcomes[i]
		<-ahead
		c.emit(o)
	}
}

// computeFile reads one file and computes its outcome.
func (c *cli) computeFile(path string) outcome {
	src, err := os.ReadFile(path)
	if err != nil {
		return outcome{name: path, err: bareError(err)}
	}
	return c.compute(path, src, true)
}

// visit processes one input: "-" for standard input, or a file.
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
	c.processFile(arg)
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
