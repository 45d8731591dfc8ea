package rules

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// MultiStage splits a single-stage file that installs a toolchain and
// compiles one program into a builder stage and a runtime stage on a small
// base: the toolchain, the sources and the build caches stay behind.
var MultiStage = &rewrite.Rule{
	Name:  "multi-stage",
	Title: "Compile in a builder stage and ship the program on a small runtime base (proposal: assumes what the program reads at run time)",
	Kind:  rewrite.Proposal,
	Doc: `A single-stage image that compiles its program ships the compiler, the
build caches and everything the build installed (golang:1.22 weighs about
800 MB, gcc and its headers about 200 MB) to run one file. A builder stage
keeps the build as it is; a runtime stage from a small base receives the
program with COPY --from and keeps the image's configuration.

dfopt proposes the split for a file with one stage that compiles one
program with go build -o FILE, or with gcc, g++, cc or clang -o FILE, and
runs that program: ENTRYPOINT (or CMD) in exec form names it. Everything
else the stage does must be what dfopt can see through and leave behind:
package installs of the toolchain alone (golang-go, gcc, make, git,
build-essential, musl-dev, ...; for go also ca-certificates and tzdata,
whose files the runtime stage copies), index refreshes and clean-ups, go
mod download, cd, mkdir and COPY from the build context; a RUN after the
compile, an ADD, a SHELL, ONBUILD, a HEALTHCHECK that runs a command, or a
USER named otherwise than root or nobody (or a number) stops it.

The FROM gets a stage name (AS build); right after the compile, a new FROM
starts the runtime stage with the configuration set before the compile
(ENV, ARG, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL, CMD,
ENTRYPOINT, copied as written) and the COPY --from=build of the program;
what came after the compile stays where it is, now in the runtime stage.
Where the build context holds more than sources (templates, static files,
configuration), or dfopt has no build context, the folders the stage
copied the project into are copied too, as the build left them.

The runtime base: for go, scratch, with the files of the build stage the
original image had and a Go program reads: the CA certificates (the golang
images have them, or the stage installs ca-certificates), /etc/passwd and
/etc/group where USER names a user, the time zones where it installs
tzdata; and CGO_ENABLED=0 put in front of go build where the file does not
set it, so that the program needs no C library (where a .go file of the
project imports "C", or go.mod needs a module known to need cgo, nothing is
proposed). For C and C++, the same distribution's slim image: debian:TAG ->
debian:TAG-slim, ubuntu and alpine as they are; where the stage installs
more than the toolchain (a -dev library whose runtime library the program
links), nothing is proposed.

It is a proposal: dfopt cannot see what the program reads at run time. It
assumes the program reads nothing the build installed or wrote outside
what the runtime stage copies, needs no program of the base image (a shell,
curl), and no variable the base image set (PATH, GOPATH).

Bad:

    FROM golang:1.22
    WORKDIR /src
    COPY . .
    RUN CGO_ENABLED=0 go build -o /usr/local/bin/app .
    CMD ["app"]

Good:

    FROM golang:1.22 AS build
    WORKDIR /src
    COPY . .
    RUN CGO_ENABLED=0 go build -o /usr/local/bin/app .

    FROM scratch
    WORKDIR /src
    COPY --from=build /src /src
    COPY --from=build /usr/local/bin/app /usr/local/bin/app
    COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
    CMD ["app"]
`,
	Run: runMultiStage,
}

// runtimePath is where a runtime base looks for a program named without a
// folder (the PATH of distroless and of Debian's and Alpine's images).
var runtimePath = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// stageSplit is what the runtime stage of a split is made of.
type stageSplit struct {
	comp     runmodel.Compile
	build    *rewrite.Instruction   // the RUN that compiles
	carry    []*rewrite.Instruction // configuration set before the compile, repeated in the runtime stage
	projects []string               // where the stage copied the build context before the compile
	runtime  string                 // the runtime base
	extra    []string               // files of the build stage the runtime base lacks: CA certificates, /etc/passwd, time zones
	assumes  []string
	edits    []rewrite.Edit
}

func runMultiStage(p *rewrite.Pass) {
	d := p.Doc
	if len(d.Stages) != 1 || strings.Contains(d.Stages[0].Base, "$") {
		return
	}
	st := d.Stages[0]
	m := runmodel.Of(d)
	sp, ok := readSplit(p, m, st)
	if !ok {
		return
	}
	name := st.Name
	if name == "" {
		name = "build"
		end := d.LineTextEnd(st.From.EndLine)
		sp.edits = append(sp.edits, rewrite.Edit{Start: end, End: end, New: " " + d.Keyword(st.From, "AS") + " build"})
	}
	var b strings.Builder
	at := sp.build.End
	if at == 0 || d.Src[at-1] != '\n' {
		b.WriteString("\n")
	}
	b.WriteString("\n" + d.Keyword(st.From, "FROM") + " " + sp.runtime + "\n")
	for _, in := range sp.carry {
		b.WriteString(d.Text(in) + "\n")
	}
	copyKw := d.Keyword(sp.build, "COPY")
	outCopied := false
	for _, dir := range sp.projects {
		fmt.Fprintf(&b, "%s --from=%s %s %s\n", copyKw, name, dir, dir)
		outCopied = outCopied || covers(dir, sp.comp.Out)
	}
	if !outCopied {
		fmt.Fprintf(&b, "%s --from=%s %s %s\n", copyKw, name, sp.comp.Out, sp.comp.Out)
	}
	for _, f := range sp.extra {
		fmt.Fprintf(&b, "%s --from=%s %s %s\n", copyKw, name, f, f)
	}
	sp.edits = append(sp.edits, rewrite.Edit{Start: at, End: at, New: b.String()})
	toolchain := "the " + map[string]string{"go": "Go", "c": "C"}[sp.comp.Lang] + " toolchain"
	p.Report(rewrite.Finding{
		Line: st.From.StartLine,
		Message: fmt.Sprintf("the image ships %s and what the build installed to run one program, %s (line %d): compile it in a builder stage and copy it onto %s (proposal: assumes %s)",
			toolchain, sp.comp.Out, p.InputLine(sp.build.StartLine), sp.runtime, strings.Join(sp.assumes, "; ")),
		Edits: sp.edits,
	})
}

// readSplit reads a single-stage file as a split: the compile, the
// configuration to carry, what else the runtime stage copies, and the base.
func readSplit(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage) (stageSplit, bool) {
	var sp stageSplit
	k := -1
	for i, in := range st.Instructions {
		r := m.Run(in)
		if r == nil {
			continue
		}
		for _, c := range r.Cmds {
			comp, ok := m.CompileOf(r, c)
			if !ok {
				continue
			}
			if k >= 0 || !c.Always() {
				return stageSplit{}, false // two programs, or one compiled only on a condition
			}
			sp.comp, sp.build, k = comp, in, i
		}
	}
	if k < 0 {
		return stageSplit{}, false
	}
	lang := sp.comp.Lang
	for i, in := range st.Instructions[1:] {
		i++
		switch c := in.Command.(type) {
		case *instructions.RunCommand:
			if i > k || !buildOnly(m, m.Run(in), sp.comp) {
				return stageSplit{}, false
			}
		case *instructions.CopyCommand:
			if c.From != "" || !plainOwner(c.Chown) {
				return stageSplit{}, false
			}
			if i < k {
				dest, ok := copyDestination(m, in, c.DestPath)
				if !ok {
					return stageSplit{}, false
				}
				sp.projects = append(sp.projects, dest)
			}
		case *instructions.AddCommand:
			return stageSplit{}, false // a URL or an archive: what it brings may be read at run time
		case *instructions.UserCommand:
			if !plainOwner(c.User) {
				return stageSplit{}, false
			}
			if i < k {
				sp.carry = append(sp.carry, in)
			}
		case *instructions.HealthCheckCommand:
			if c.Health == nil || len(c.Health.Test) == 0 || c.Health.Test[0] != "NONE" {
				return stageSplit{}, false // a command the runtime base may not have
			}
			if i < k {
				sp.carry = append(sp.carry, in)
			}
		case *instructions.EnvCommand, *instructions.ArgCommand, *instructions.WorkdirCommand, *instructions.LabelCommand,
			*instructions.ExposeCommand, *instructions.VolumeCommand, *instructions.StopSignalCommand,
			*instructions.CmdCommand, *instructions.EntrypointCommand, *instructions.MaintainerCommand:
			if i < k {
				sp.carry = append(sp.carry, in)
			}
		default:
			return stageSplit{}, false // SHELL, ONBUILD
		}
	}
	if !runsProgram(m, st, sp.comp.Out) {
		return stageSplit{}, false
	}
	ctx := p.Options.Context
	switch lang {
	case "go":
		sp.runtime = "scratch"
		sp.extra = goRuntimeFiles(m, st)
		if !sp.comp.Static {
			if sp.comp.CgoSet || !sp.comp.Cmd.Own {
				return stageSplit{}, false // cgo is on: the program links the C library
			}
			why, ok := cgoFree(ctx, p.Doc, st)
			if !ok {
				return stageSplit{}, false
			}
			edit, ok := prefixCommand(sp.build, sp.comp.Cmd, "CGO_ENABLED=0 ")
			if !ok {
				return stageSplit{}, false
			}
			sp.edits = append(sp.edits, edit)
			sp.assumes = append(sp.assumes, "the program does not need cgo ("+why+"): CGO_ENABLED=0 makes it need no C library, and the net and os/user packages use their Go code")
		}
		sp.assumes = append(sp.assumes, "it needs no shell or other program, no /tmp and no file of the base image at run time but those the runtime stage copies")
	case "c":
		rt, ok := slimOf(st.Base)
		if !ok {
			return stageSplit{}, false
		}
		sp.runtime = rt
		sp.assumes = append(sp.assumes, "the program links no library but the C and C++ runtime libraries, which "+rt+" has")
	}
	if ctx != nil && len(sp.projects) > 0 && sourcesOnly(ctx, p.Doc, st, lang) {
		sp.projects = nil
	} else if len(sp.projects) > 0 {
		sp.assumes = append(sp.assumes, "it reads no file the build wrote outside "+strings.Join(sp.projects, ", ")+", which the runtime stage copies as the build left it")
	}
	if len(sp.projects) == 0 {
		sp.assumes = append(sp.assumes, "it reads no file of the build stage at run time (the project's files are sources alone)")
	}
	sp.assumes = append(sp.assumes, "it needs none of the variables the build's base image set (PATH, ...)")
	return sp, true
}

// buildOnly tells whether every command of a RUN before the split (or the
// compile's own RUN) does what the runtime stage can leave behind:
// installs the toolchain, refreshes and cleans package indexes, downloads
// Go modules, or keeps house (cd, mkdir, rm of caches).
func buildOnly(m *runmodel.Model, r *runmodel.Run, comp runmodel.Compile) bool {
	if r.Onbuild || r.Whole != "" {
		return false
	}
	for _, c := range r.Cmds {
		if c == comp.Cmd {
			continue
		}
		if c.Opaque {
			return false
		}
		if c.Name == "go" {
			// Module downloads and checks; go build without -o keeps
			// nothing but caches.
			switch c.Arg(0) {
			case "mod", "version", "env", "vet", "test", "build":
				continue
			}
			return false
		}
		if mgr := runmodel.ManagerOf(c); mgr != nil {
			k := mgr.Read(c)
			switch {
			case k.AnyUnknownArg():
				return false
			case k.Installs():
				for _, pkg := range k.Operands() {
					if !runmodel.ToolchainPackage(comp.Lang, pkg) && !(comp.Lang == "go" && (pkg == "ca-certificates" || pkg == "tzdata")) {
						return false
					}
				}
				continue
			case k.Refreshes() || k.Verb == "clean" || k.Verb == "autoclean" || k.Verb == "autoremove":
				continue
			}
			return false
		}
		switch {
		case c.Is("cd", "echo", "true", "set", ":", "mkdir", "export"):
		case c.Is("rm"):
			for i := range c.Args {
				a, ok := c.Args[i].Pattern()
				if !ok || !strings.HasPrefix(a, "-") && !isCachePath(a) && !strings.HasPrefix(a, "/var/lib/apt/lists") {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}

// plainOwner tells whether a user (USER, --chown) is one the runtime stage
// can have: none given, a number, or root or nobody (in the user database
// every base has, which a runtime stage from scratch copies).
func plainOwner(u string) bool {
	if u == "" {
		return true
	}
	user, group, _ := strings.Cut(u, ":")
	for _, n := range []string{user, group} {
		if n != "" && strings.Trim(n, "0123456789") != "" && n != "root" && n != "nobody" {
			return false
		}
	}
	return true
}

// copyDestination is where a COPY from the build context puts its files,
// absolute.
func copyDestination(m *runmodel.Model, in *rewrite.Instruction, dest string) (string, bool) {
	s := m.State(in)
	d, ok := s.Expand(m.Lex, dest)
	if !ok || d == "" {
		return "", false
	}
	d = resolve(s.Workdir, d)
	return d, d != "" && d != "/"
}

// runsProgram tells whether the image runs the compiled program: the
// ENTRYPOINT in exec form names it, or without one the CMD does, by its
// path or (in a folder on the runtime's PATH) its name.
func runsProgram(m *runmodel.Model, st *rewrite.Stage, out string) bool {
	var argv []string
	exec := false
	for _, in := range st.Instructions {
		switch c := in.Command.(type) {
		case *instructions.EntrypointCommand:
			argv, exec = c.CmdLine, !c.PrependShell
		case *instructions.CmdCommand:
			if argv == nil || !hasEntrypoint(st) {
				argv, exec = c.CmdLine, !c.PrependShell
			}
		}
	}
	if !exec || len(argv) == 0 || strings.Contains(argv[0], "$") {
		return false
	}
	prog := argv[0]
	last := st.Instructions[len(st.Instructions)-1]
	switch {
	case path.IsAbs(prog):
		return path.Clean(prog) == out
	case strings.Contains(prog, "/"):
		wd := m.After(last).Workdir
		return wd != "" && path.Join(wd, prog) == out
	}
	return path.Base(out) == prog && slices.Contains(runtimePath, path.Dir(out))
}

func hasEntrypoint(st *rewrite.Stage) bool {
	return slices.ContainsFunc(st.Instructions, func(in *rewrite.Instruction) bool {
		_, ok := in.Command.(*instructions.EntrypointCommand)
		return ok
	})
}

// cgoImport finds import "C" in a Go file's imports.
var cgoImport = regexp.MustCompile(`(?m)^\s*(import\s+)?"C"\s*$`)

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
		c.walk(ctx, func(rel string, e fs.DirEntry) bool {
			switch {
			case e.IsDir():
			case strings.HasSuffix(rel, ".go"):
				if cgoImport.Match(head(ctx, rel, 64<<10)) {
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

// sourcesOnly tells whether what the stage copies from the build context
// is sources and files the build alone reads (READMEs, licences, the
// Dockerfile), so that the program needs none of it at run time.
func sourcesOnly(ctx *rewrite.BuildContext, d *rewrite.Document, st *rewrite.Stage, lang string) bool {
	only := true
	for _, c := range contextCopies(d, map[*rewrite.Stage]bool{st: true}) {
		if c.unknown {
			return false
		}
		c.walk(ctx, func(rel string, e fs.DirEntry) bool {
			if !e.IsDir() && !sourceFile(lang, rel) {
				only = false
			}
			return !only
		})
	}
	return only
}

// sourceFile tells whether a file of the build context is a source of the
// language or a file no program reads at run time.
func sourceFile(lang, rel string) bool {
	base := path.Base(rel)
	upper := strings.ToUpper(base)
	ext := path.Ext(base)
	switch {
	case strings.HasPrefix(rel, ".git/") || strings.HasPrefix(rel, "docs/") || strings.Contains(rel, "/testdata/") || strings.HasPrefix(rel, "testdata/"):
		return true
	case strings.HasPrefix(upper, "README") || strings.HasPrefix(upper, "LICENSE") || strings.HasPrefix(upper, "COPYING") || strings.HasPrefix(upper, "CHANGELOG") || strings.HasPrefix(upper, "NOTICE"):
		return true
	case strings.HasPrefix(base, "Dockerfile") || base == ".dockerignore" || strings.HasPrefix(base, ".git") || base == "Makefile" || ext == ".md":
		return true
	case lang == "go":
		return ext == ".go" || base == "go.mod" || base == "go.sum" || base == "go.work" || base == "go.work.sum" || strings.HasPrefix(rel, "vendor/")
	case lang == "c":
		return slices.Contains([]string{".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".C", ".cmake"}, ext) || base == "CMakeLists.txt" || base == "configure.ac" || base == "Makefile.am"
	}
	return false
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
	var out []string
	tz, users := false, false
	for _, in := range st.Instructions {
		if u, ok := in.Command.(*instructions.UserCommand); ok && strings.Trim(strings.ReplaceAll(u.User, ":", ""), "0123456789") != "" {
			users = true
		}
		r := m.Run(in)
		if r == nil {
			continue
		}
		for _, c := range r.Cmds {
			if mgr := runmodel.ManagerOf(c); mgr != nil && mgr.Read(c).Installs() {
				certs = certs || slices.Contains(mgr.Read(c).Operands(), "ca-certificates")
				tz = tz || slices.Contains(mgr.Read(c).Operands(), "tzdata")
			}
		}
	}
	if certs {
		out = append(out, "/etc/ssl/certs/ca-certificates.crt")
	}
	if users {
		out = append(out, "/etc/passwd", "/etc/group")
	}
	if tz {
		out = append(out, "/usr/share/zoneinfo")
	}
	return out
}
