package rules

import (
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/dfopt/dfopt/internal/images"
	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// findGoBuild finds the go build -o FILE of a stage: the program goes onto
// scratch, with CGO_ENABLED=0 where the file does not set it and the
// project needs no cgo, and the files of the build stage a Go program reads
// that the original image had.
func findGoBuild(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage) (*stageSplit, bool) {
	comp, in, ok := findCompile(m, st, "go")
	if !ok {
		return nil, false
	}
	sp := &stageSplit{build: in, main: comp.Cmd, program: comp.Out, outputs: []string{comp.Out}, runs: runsFile(comp.Out),
		runtime: "scratch", extra: goRuntimeFiles(m, st)}
	sp.step = func(c *runmodel.Cmd) bool {
		if c.Name == "go" {
			// Module downloads and checks; go build without -o keeps
			// nothing but caches.
			switch c.Arg(0) {
			case "mod", "version", "env", "vet", "test", "build":
				return true
			}
			return false
		}
		return leftBehind(c, func(pkg string) bool {
			return runmodel.ToolchainPackage("go", pkg) || pkg == "ca-certificates" || pkg == "tzdata"
		})
	}
	sp.source = func(rel string) bool {
		base := path.Base(rel)
		return path.Ext(base) == ".go" || base == "go.mod" || base == "go.sum" || base == "go.work" || base == "go.work.sum" || strings.HasPrefix(rel, "vendor/")
	}
	if !comp.Static {
		if comp.CgoSet {
			return nil, false // cgo is on: the program links the C library
		}
		why, ok := cgoFree(p.Options.Context, p.Doc, st)
		if !ok {
			return nil, false
		}
		edit, ok := prefixCommand(in, comp.Cmd, "CGO_ENABLED=0 ")
		if !ok {
			return nil, false
		}
		sp.edits = append(sp.edits, edit)
		sp.assumes = append(sp.assumes, "the program does not need cgo ("+why+"): CGO_ENABLED=0 makes it need no C library, and the net and os/user packages use their Go code")
	}
	sp.assumes = append(sp.assumes, "it needs no shell or other program, no /tmp and no file of the base image at run time but those the runtime stage copies")
	return sp, true
}

// findCBuild finds a C or C++ compiler's -o FILE in a stage on Debian,
// Ubuntu or Alpine: the program goes onto the same distribution's slim
// image (scratch for a -static program), where the stage installs nothing
// but the toolchain (a -dev library's runtime library would be missing).
func findCBuild(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage) (*stageSplit, bool) {
	comp, in, ok := findCompile(m, st, "c")
	if !ok {
		return nil, false
	}
	rt, ok := slimOf(st.Base)
	if !ok {
		return nil, false
	}
	if comp.Static {
		rt = "scratch" // gcc -static: the program needs no library at all
	}
	sp := &stageSplit{build: in, main: comp.Cmd, program: comp.Out, outputs: []string{comp.Out}, runs: runsFile(comp.Out), runtime: rt}
	// A -dev library the stage installs stands for a runtime library the
	// program may link: on a Debian release dfopt knows, the runtime stage
	// installs it; elsewhere nothing is proposed.
	release := ""
	if ref, err := images.Parse(st.Base); err == nil && !comp.Static {
		release = images.DebianRelease(ref)
	}
	var libs []string
	sp.step = func(c *runmodel.Cmd) bool {
		return leftBehind(c, func(pkg string) bool {
			if runmodel.ToolchainPackage("c", pkg) {
				return true
			}
			lib, ok := runmodel.DevRuntime(release, pkg)
			if ok && !slices.Contains(libs, lib) {
				libs = append(libs, lib)
			}
			return ok
		})
	}
	for _, in := range st.Instructions {
		if r := m.Run(in); r != nil && !stepsOnly(r, sp) {
			return nil, false
		}
	}
	if len(libs) > 0 {
		sp.setup = []string{p.Doc.Keyword(st.From, "RUN") + " apt-get update && apt-get install -y --no-install-recommends " + strings.Join(libs, " ") + " && rm -rf /var/lib/apt/lists/*"}
	}
	sp.source = func(rel string) bool {
		base := path.Base(rel)
		return slices.Contains([]string{".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".C", ".cmake"}, path.Ext(base)) ||
			base == "CMakeLists.txt" || base == "configure.ac" || base == "Makefile.am"
	}
	if comp.Static {
		sp.assumes = append(sp.assumes, "the program, linked with -static, needs no program and no file of the base image at run time (no shell, no /etc, no /tmp on scratch)")
	} else if len(libs) > 0 {
		sp.assumes = append(sp.assumes, "the program links no library but the C and C++ runtime libraries, which "+rt+" has, and "+strings.Join(libs, ", ")+", which the runtime stage installs for the -dev packages the build installed")
	} else {
		sp.assumes = append(sp.assumes, "the program links no library but the C and C++ runtime libraries, which "+rt+" has")
	}
	return sp, true
}

// findCompile finds the one compile of a language in a stage.
func findCompile(m *runmodel.Model, st *rewrite.Stage, lang string) (runmodel.Compile, *rewrite.Instruction, bool) {
	return buildRun(m, st, false, func(r *runmodel.Run, c *runmodel.Cmd) (runmodel.Compile, bool, bool) {
		comp, ok := m.CompileOf(r, c)
		return comp, ok && comp.Lang == lang, true
	})
}

// cgoImport finds import "C" in a Go file's imports.
var cgoImport = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^\s*(import\s+)?"C"\s*$`) })

// cgoModules are modules that build only with cgo.
var cgoModules = []string{"github.com/mattn/go-sqlite3", "github.com/confluentinc/confluent-kafka-go", "github.com/google/gopacket",
	"github.com/go-gl/", "github.com/veandco/go-sdl2", "github.com/tecbot/gorocksdb", "github.com/linxGnu/grocksdb",
	"github.com/DataDog/zstd", "gopkg.in/gographics/imagick", "github.com/h2non/bimg", "github.com/davidbyttow/govips"}

// cgoFree tells whether the project can be built without cgo, and says
// how dfopt knows: no .go file the stage's COPYs bring imports "C", and
// go.mod needs no module known to need it. Without a build context dfopt
// cannot read them, and says so.
func cgoFree(ctx *rewrite.BuildContext, d *rewrite.Document, st *rewrite.Stage) (string, bool) {
	if ctx == nil {
		return "dfopt had no build context to read", true
	}
	free := true
	for _, c := range contextCopies(d, map[*rewrite.Stage]bool{st: true}) {
		c.walk(ctx, func(f rewrite.ContextFile) bool {
			switch rel := f.Path; {
			case f.Dir:
			case strings.HasSuffix(rel, ".go"):
				if cgoImport().Match(head(ctx, rel, 64<<10)) {
					free = false
				}
			case path.Base(rel) == "go.mod":
				text := string(head(ctx, rel, 256<<10))
				for _, mod := range cgoModules {
					free = free && !strings.Contains(text, mod)
				}
			}
			return !free // once decided, nothing below needs reading
		})
	}
	return "no .go file of the build context imports \"C\", and go.mod needs no module known to need it", free
}

// prefixCommand puts text in front of a command of a RUN (CGO_ENABLED=0
// before go build), where the RUN's words are its own and no wrapper (sudo,
// env) runs the command.
func prefixCommand(in *rewrite.Instruction, c *runmodel.Cmd, text string) (rewrite.Edit, bool) {
	if !c.Own || c.Call == nil || in.Shell == nil || len(c.Via) > 0 || len(c.Call.Args) == 0 || c.Call.Args[0] != c.Prog.Node {
		return rewrite.Edit{}, false
	}
	return insertAt(in, c.Call.Pos(), text), true
}

// goRuntimeFiles lists the files of the build stage a Go program on scratch
// may read that the original image had: the CA certificates (the golang
// images have them, or the stage installs ca-certificates), the user
// database where USER names a user, and the time zones where the stage
// installs tzdata.
func goRuntimeFiles(m *runmodel.Model, st *rewrite.Stage) []string {
	certs := false
	if ref := strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(st.Base), "docker.io/"), "library/"); strings.HasPrefix(ref, "golang:") || ref == "golang" {
		certs = true
	}
	certs = certs || installsPackage(m, st, "ca-certificates")
	users := slices.ContainsFunc(st.Instructions, func(in *rewrite.Instruction) bool {
		u, ok := in.Command.(*instructions.UserCommand)
		return ok && strings.Trim(strings.ReplaceAll(u.User, ":", ""), "0123456789") != ""
	})
	var out []string
	if certs {
		out = append(out, "/etc/ssl/certs/ca-certificates.crt")
	}
	if users {
		out = append(out, "/etc/passwd", "/etc/group")
	}
	if installsPackage(m, st, "tzdata") {
		out = append(out, "/usr/share/zoneinfo")
	}
	return out
}

// slimOf names the same distribution's small image for a C program's
// runtime: debian:TAG-slim for debian:TAG, ubuntu and alpine as they are.
func slimOf(base string) (string, bool) {
	ref := strings.ToLower(base)
	ref = strings.TrimPrefix(strings.TrimPrefix(ref, "docker.io/"), "library/")
	if strings.Contains(ref, "@") {
		return "", false
	}
	name, tag, _ := strings.Cut(ref, ":")
	switch name {
	case "debian":
		switch {
		case tag == "" || tag == "latest":
			return "debian:stable-slim", true
		case strings.HasSuffix(tag, "-slim"):
			return "debian:" + tag, true
		case strings.ContainsAny(tag, "-"):
			return "", false // debian:bookworm-20240101 and the like
		}
		return "debian:" + tag + "-slim", true
	case "ubuntu", "alpine":
		if tag == "" {
			tag = "latest"
		}
		return name + ":" + tag, true
	}
	return "", false
}
