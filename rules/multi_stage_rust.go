package rules

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
)

// findRustBuild finds a cargo build whose binary the image runs
// (target/release/NAME in the folder it builds): the binary goes onto the
// same distribution's slim image, with the CA certificates where the
// original had them; Cargo.lock must name no crate that binds a system
// library the slim image lacks.
func findRustBuild(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage) (*stageSplit, bool) {
	cb, at, ok := buildRun(m, st, true, func(r *runmodel.Run, c *runmodel.Cmd) (runmodel.CargoBuild, bool, bool) {
		b, ok := m.CargoBuildOf(r, c)
		return b, ok, true
	})
	if !ok {
		return nil, false
	}
	rt, ok := rustRuntime(st.Base, cb.Triple)
	if !ok {
		return nil, false
	}
	sp := &stageSplit{build: at, main: cb.Cmd, runtime: rt}
	sp.runs = func(argv []string, wd string) bool {
		if len(argv) == 0 || strings.Contains(argv[0], "$") {
			return false
		}
		prog := argv[0]
		if !path.IsAbs(prog) {
			if !strings.Contains(prog, "/") || wd == "" {
				return false
			}
			prog = path.Join(wd, prog)
		}
		if path.Dir(prog) != cb.Dir {
			return false
		}
		sp.program, sp.outputs = prog, []string{prog}
		return true
	}
	sp.step = func(c *runmodel.Cmd) bool {
		if c.Name == "cargo" {
			switch c.Arg(0) {
			case "fetch", "build", "test", "check", "clippy", "fmt", "version", "--version", "-V":
				return true
			}
			return false
		}
		return leftBehind(c, func(pkg string) bool {
			return runmodel.ToolchainPackage("rust", pkg) || pkg == "ca-certificates"
		})
	}
	sp.source = func(rel string) bool {
		base := path.Base(rel)
		return path.Ext(base) == ".rs" || base == "Cargo.toml" || base == "Cargo.lock" || base == "build.rs" || base == "rust-toolchain.toml" || base == "rust-toolchain" || strings.HasPrefix(rel, ".cargo/")
	}
	if ctx := p.Options.Context; ctx != nil {
		if crates := systemCrates(ctx, p.Doc, st); len(crates) > 0 {
			return nil, false // the program loads libraries the slim image may lack
		}
		sp.assumes = append(sp.assumes, "the program links no library but the C library (Cargo.lock names no crate that binds one)")
	} else {
		sp.assumes = append(sp.assumes, "the program links no library but the C library (dfopt had no build context to read Cargo.lock)")
	}
	if rustCerts(m, st) {
		sp.extra = append(sp.extra, "/etc/ssl/certs/ca-certificates.crt")
	}
	sp.assumes = append(sp.assumes, fmt.Sprintf("it needs no program and no file of the build's base image at run time but those %s has and the runtime stage copies", rt))
	return sp, true
}

// rustRuntime names the runtime base for a Rust program built on base: the
// official rust images and Debian's cargo build for glibc, whose programs
// run on the same Debian release's slim image (debian:stable-slim where the
// tag names no release: its C library is as new as any rust image's);
// rust's alpine images link statically (musl), as does a --target
// *-linux-musl build: they run on scratch.
func rustRuntime(base, triple string) (string, bool) {
	ref := strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(base), "docker.io/"), "library/")
	name, tag, _ := strings.Cut(ref, ":")
	if strings.Contains(ref, "@") {
		return "", false
	}
	if strings.HasSuffix(triple, "-linux-musl") {
		return "scratch", true
	}
	if triple != "" {
		return "", false
	}
	switch name {
	case "rust":
		if strings.Contains(tag, "alpine") {
			return "scratch", true
		}
		for _, release := range []string{"bookworm", "bullseye", "trixie", "buster"} {
			if strings.Contains(tag, release) {
				return "debian:" + release + "-slim", true
			}
		}
		return "debian:stable-slim", true
	case "debian":
		return slimOf(base)
	}
	return "", false
}

// cargoLockPackage finds the names of Cargo.lock's packages.
var cargoLockPackage = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^name = "([^"]+)"`) })

// systemCrates lists the crates of the Cargo.lock files the stage copies
// that bind a system library.
func systemCrates(ctx *rewrite.BuildContext, d *rewrite.Document, st *rewrite.Stage) []string {
	var out []string
	for _, c := range contextCopies(d, map[*rewrite.Stage]bool{st: true}) {
		c.walk(ctx, func(f rewrite.ContextFile) bool {
			if rel := f.Path; !f.Dir && path.Base(rel) == "Cargo.lock" {
				for _, mt := range cargoLockPackage().FindAllSubmatch(head(ctx, rel, 4<<20), -1) {
					if name := string(mt[1]); runmodel.SystemCrate(name) {
						out = append(out, name)
					}
				}
			}
			return false
		})
	}
	return out
}

// rustCerts tells whether the original image had CA certificates a Rust
// program may read: the official rust images have them, or the stage
// installs ca-certificates.
func rustCerts(m *runmodel.Model, st *rewrite.Stage) bool {
	if strings.HasPrefix(strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(st.Base), "docker.io/"), "library/"), "rust:") {
		return true
	}
	return installsPackage(m, st, "ca-certificates")
}
