package runmodel

import (
	"path"
	"strings"
)

// CargoBuild is a cargo build of a package's binaries: where they go.
type CargoBuild struct {
	Cmd *Cmd
	// Dir is the folder the binaries go to, absolute:
	// <project>/target[/<triple>]/<profile>.
	Dir string
	// Triple is the --target it builds for ("" for the host's).
	Triple string
}

// CargoBuildOf reads cargo build [--release | --profile P] [--target T]
// [--locked | --frozen | --offline] [--bin NAME | --bins | -p P] [-j N]
// [--features F] [--no-default-features | --all-features] [-v | -q]: where
// its binaries go. ok is false for a --manifest-path or --target-dir
// elsewhere, a CARGO_TARGET_DIR or CARGO_BUILD_TARGET set, a word the
// model cannot read, and a folder it cannot tell.
func (m *Model) CargoBuildOf(r *Run, c *Cmd) (CargoBuild, bool) {
	// cargo build is opaque for running the project's build scripts;
	// where its binaries go, it says itself.
	if c.MoreArgs || c.Name != "cargo" || c.Arg(0) != "build" {
		return CargoBuild{}, false
	}
	if _, ok := c.Assigns["CARGO_TARGET_DIR"]; ok {
		return CargoBuild{}, false
	}
	st := m.State(r.In)
	for _, v := range []string{"CARGO_TARGET_DIR", "CARGO_BUILD_TARGET", "CARGO_BUILD_TARGET_DIR"} {
		if _, ok := st.Env[v]; ok {
			return CargoBuild{}, false
		}
	}
	profile, triple := "debug", ""
	for i := 1; i < len(c.Args); i++ {
		v, ok := c.Args[i].Value()
		if !ok {
			return CargoBuild{}, false
		}
		flag, value, hasValue := strings.Cut(v, "=")
		next := func() (string, bool) {
			if hasValue {
				return value, true
			}
			i++
			return c.Args[min(i, len(c.Args)-1)].Value()
		}
		switch flag {
		case "--release", "-r":
			profile = "release"
		case "--profile":
			p, ok := next()
			if !ok {
				return CargoBuild{}, false
			}
			profile = map[string]string{"dev": "debug", "test": "debug", "bench": "release"}[p]
			if profile == "" {
				profile = p
			}
		case "--target":
			t, ok := next()
			if !ok || strings.Contains(t, ".json") {
				return CargoBuild{}, false
			}
			triple = t
		case "--bin", "-p", "--package", "--features", "-F", "-j", "--jobs", "--color", "--config", "-Z":
			if _, ok := next(); !ok {
				return CargoBuild{}, false
			}
		case "--locked", "--frozen", "--offline", "--bins", "--all-features", "--no-default-features", "-v", "--verbose", "-q", "--quiet", "--workspace", "--all":
		default:
			return CargoBuild{}, false // --manifest-path, --target-dir, --out-dir, --example, ...
		}
	}
	cwd := m.Cwd(m.State(r.In), c)
	if !path.IsAbs(cwd) {
		return CargoBuild{}, false
	}
	dir := path.Join(cwd, "target")
	if triple != "" {
		dir = path.Join(dir, triple)
	}
	return CargoBuild{Cmd: c, Dir: path.Join(dir, profile), Triple: triple}, true
}

// SystemCrate tells whether a crate of Cargo.lock binds a system library
// that a program built with it loads at run time: a -sys crate other than
// those that bind the kernel or the platform, or build their library in.
func SystemCrate(name string) bool {
	if !strings.HasSuffix(name, "-sys") {
		return false
	}
	switch name {
	case "linux-raw-sys", "windows-sys", "wasi-sys", "js-sys", "web-sys", "core-foundation-sys", "security-framework-sys",
		"cc-sys", "libc-sys", "errno-sys", "mach-sys", "mach2-sys", "io-kit-sys", "fsevent-sys", "inotify-sys", "objc-sys":
		return false
	}
	return true
}
