package rules

import (
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// GoClean removes the Go build and module caches from images that build Go
// code in a stage that ships.
var GoClean = &rewrite.Rule{
	Name:  "go-clean",
	Title: "go build in a stage that ships: go clean -cache -modcache after the last go command",
	Kind:  rewrite.Safe,
	Doc: `go build and go install fill the build cache (~/.cache/go-build) and the
module cache (/go/pkg/mod in the golang image): often hundreds of megabytes that
the program does not need at run time. When a stage whose files reach the image
runs go build or go install, the last RUN of the image's stages that runs a go
command that fills the caches (build, install, test, run, get, vet, list,
generate, mod download, ...) gets go clean -cache -modcache at its end: a later
go command would fill the caches again. A module cache an earlier RUN filled
(go mod download before COPY . .) still ships in that RUN's layer; --cache-mounts
keeps it out too. A multi-stage build that copies only the binary into its final
stage needs nothing and gets nothing.

Only Go 1.11 and later know both flags, so the image's Go must be known to be
one: the official golang image (a version tag of 1.11 or later, or none), or a
Go release the Dockerfile downloads or pins by version.

The rule acts only on images that say what they run: a CMD or ENTRYPOINT that
does not run go (nor make, air, dlv and the like). Development and CI images,
which run go later and want their caches, are left alone. Nothing is added where
the caches are already dealt with: the RUN has cache mounts over them (GOCACHE,
GOMODCACHE and GOPATH are read from ENV and ARG), it runs go clean (with the
flags its author chose) or removes them after the last go command, the RUN
removes go itself, GOCACHE=off, or (for the module cache)
GOFLAGS=-mod=vendor with no go get, go mod download or pkg@version. Nor where a
later step may read the caches from the image: a go command run with
GOPROXY=off (or a file:// proxy), a step that names the caches' folders (a cp
out of /go/pkg/mod), or anything dfopt cannot see through (a script, a
Makefile, go test), which may run go offline: when that is all, the clean-up
is a proposal that names the step.

With --cache-mounts, when the RUNs run as root and the module cache's place is
known (GOMODCACHE or GOPATH set, or the official golang image), every RUN of the
image's stages that runs such a go command gets cache mounts (all of them or
none, and none where another step reads the caches from the image) instead:
--mount=type=cache,target=/root/.cache/go-build and
--mount=type=cache,target=/go/pkg/mod (or the folders GOCACHE and GOMODCACHE
name). Cache mounts need BuildKit.

Bad:

    FROM golang:1.23
    COPY . /src
    RUN cd /src && go build -o /usr/local/bin/app .
    CMD ["app"]

Good:

    FROM golang:1.23
    COPY . /src
    RUN cd /src && go build -o /usr/local/bin/app . \
        && go clean -cache -modcache
    CMD ["app"]
`,
	Run: runGoClean,
}

// goM is the package-manager table's go; its caches are the build cache
// and the module cache.
var goM = runmodel.ManagerNamed("go")

// goBuildCache is where go keeps compiled packages.
var goBuildCache = []runmodel.Cache{goM.Caches[0]}

// goCacheVerbs are the go commands that fill the build or module cache.
var goCacheVerbs = map[string]bool{
	"build": true, "install": true, "test": true, "run": true, "get": true,
	"vet": true, "list": true, "generate": true, "mod": true,
}

// goModNoFetch are the go mod commands that fetch nothing.
var goModNoFetch = map[string]bool{"init": true, "edit": true, "help": true}

// goUse is what one RUN does with go.
type goUse struct {
	in      *rewrite.Instruction
	cr      *cacheRun // nil when dfopt cannot edit the RUN
	calls   []*runmodel.Cmd
	builds  bool // go build or go install
	fetches bool // go get, go mod download or pkg@version
	modOnly bool // only go mod and go get, which leave the build cache alone
}

// goVerb returns a go command's verb and its index in Args.
func goVerb(c *runmodel.Cmd) (string, int) {
	i := verbFrom(c, 0, []string{"-C"})
	return c.Arg(i), i
}

// runGoClean finds the last RUN of the shipping stages that runs go and
// cleans the Go caches at its end (or, with --cache-mounts, mounts them on
// every such RUN).
func runGoClean(p *rewrite.Pass) {
	d := p.Doc
	m := runmodel.Of(d)
	ship := d.Shipping()
	var uses []goUse
	builds, fetches := false, false
	for _, st := range d.Stages {
		if !ship[st] {
			continue
		}
		for _, in := range st.Instructions {
			if in.Keyword != "run" {
				continue
			}
			u, ok := goUseOf(m, in)
			if !ok {
				continue
			}
			uses = append(uses, u)
			builds = builds || u.builds
			fetches = fetches || u.fetches
		}
	}
	if !builds || !namesItsProgram(d, ship) || !goAtLeast111(d, uses[len(uses)-1].in) {
		return
	}
	if p.Options.CacheMounts && goMountAll(p, m, uses) {
		return
	}
	last := uses[len(uses)-1]
	if last.cr == nil {
		return // the last go command is in a RUN dfopt cannot edit
	}
	cr := last.cr
	lastGo := last.calls[len(last.calls)-1]
	gocache, _ := cr.env("GOCACHE")
	goflags, _ := cr.env("GOFLAGS")
	needBuild := gocache != "off"
	needMod := !strings.Contains(goflags, "-mod=vendor") || fetches
	buildLocs, modLocs := cr.locations(goBuildCache), cr.locations(goModCache(d, cr))
	if cr.cleanedAfter(lastGo, nil, goCleans("-cache", "-modcache", "-testcache", "-fuzzcache")) {
		return // the author runs go clean already, with the flags they chose
	}
	if cr.mountCovers(buildLocs) || cr.cleanedAfter(lastGo, buildLocs, goCleans("-cache")) {
		needBuild = false
	}
	if cr.mountCovers(modLocs) || cr.cleanedAfter(lastGo, modLocs, goCleans("-modcache")) {
		needMod = false
	}
	var fix cacheFix
	hold := fix.unless(p, goCachesReadLater(m, cr, nil))
	if hold == nil {
		return
	}
	var flags []string
	if needBuild {
		flags = append(flags, "-cache")
	}
	if needMod {
		flags = append(flags, "-modcache")
	}
	if len(flags) == 0 {
		return
	}
	clean := "clean " + strings.Join(flags, " ")
	var names []string
	if needBuild {
		names = append(names, "build")
	}
	if needMod {
		names = append(names, "module")
	}
	what := goCachesStay(names)
	hold.appendAfter(cr, lastGo, clean, what+" in the image: run go "+clean+" after the last go command")
	fix.report(p, cr)
}

// goCachesReadLater finds a step after the RUN that may read Go's caches
// from the image: a go command that works offline (GOPROXY=off, a
// file:// proxy), a step that names the caches, or one the model cannot see
// through. The RUNs in skip are left out (they get cache mounts alike).
func goCachesReadLater(m *runmodel.Model, cr *cacheRun, skip map[*rewrite.Instruction]bool) *runmodel.Reader {
	return m.LaterReaderSkipping(cr.in, goCachePlaces(m, cr), goOffline, func(x *rewrite.Instruction) bool { return skip[x] })
}

// goCachesReadHidden finds what a cache mount on the RUN would hide from it:
// a command of the RUN that may read the caches from the image (go offline,
// a step that names them, one dfopt cannot see through, go test among
// them), or an earlier step that put files there. The RUNs in skip get
// cache mounts alike.
func goCachesReadHidden(m *runmodel.Model, cr *cacheRun, skip map[*rewrite.Instruction]bool) *runmodel.Reader {
	places := goCachePlaces(m, cr)
	if r := m.ReaderInExcept(cr.r, nil, places, goOffline, func(c *runmodel.Cmd) bool { return c.Is("go") }); r != nil {
		return r
	}
	return m.EarlierWriter(cr.in, places, func(x *rewrite.Instruction) bool { return skip[x] })
}

// goCachePlaces are the Go caches of the RUN as places of the model.
func goCachePlaces(m *runmodel.Model, cr *cacheRun) []runmodel.Place {
	var places []runmodel.Place
	for _, loc := range append(cr.locations(goBuildCache), cr.locations(goModCache(m.Doc, cr))...) {
		places = append(places, cachePlaceOf(cr, loc))
	}
	return places
}

// goOffline accepts a go command that works from the module cache alone:
// GOPROXY=off, or a file:// proxy, for it or from ENV or the RUN.
func goOffline(r *runmodel.Run, c *runmodel.Cmd, st runmodel.State) string {
	if !c.Is("go") {
		return ""
	}
	offline := func(v string) bool { return strings.Contains(v, "off") || strings.Contains(v, "file://") }
	if w, ok := c.Assigns["GOPROXY"]; ok {
		if v, known := w.Value(); !known || offline(v) {
			return "go runs with GOPROXY=" + v + ", from the module cache alone"
		}
	}
	if v, ok := st.Env["GOPROXY"]; ok && (!v.Known || offline(v.Value)) {
		return "go runs with GOPROXY=" + v.Value + ", from the module cache alone"
	}
	for _, a := range r.Assigns {
		if a.Name == "GOPROXY" && a.Before(c) {
			return "go runs with a GOPROXY the RUN sets"
		}
	}
	return ""
}

// cachePlaceOf turns a cache location the cache rules spell ("~/.cache/x",
// "$GOPATH/pkg/mod", "/go/pkg/mod") into a place of the model.
func cachePlaceOf(cr *cacheRun, loc string) runmodel.Place {
	home, known := cr.st.Home()
	switch {
	case strings.HasPrefix(loc, "$"):
		return runmodel.Anywhere
	case strings.HasPrefix(loc, "~/") && known:
		return runmodel.Place{Path: path.Join(home, loc[2:])}
	case strings.HasPrefix(loc, "~/"):
		return runmodel.Place{Path: "/" + loc[2:], Home: true}
	case path.IsAbs(loc):
		return runmodel.Place{Path: path.Clean(loc)}
	}
	return runmodel.Anywhere
}

// goUseOf reads what a RUN does with go; ok is false when it runs no go
// command that fills a cache.
func goUseOf(m *runmodel.Model, in *rewrite.Instruction) (goUse, bool) {
	u := goUse{in: in}
	r := m.Run(in)
	for _, c := range r.Cmds {
		if !c.Is("go") {
			continue
		}
		v, i := goVerb(c)
		sub := c.Arg(verbFrom(c, i+1, nil))
		if !goCacheVerbs[v] || v == "mod" && goModNoFetch[sub] {
			continue
		}
		u.calls = append(u.calls, c)
		u.builds = u.builds || v == "build" || v == "install"
		if v == "get" || v == "mod" && sub == "download" || slices.ContainsFunc(c.Args, func(w runmodel.Word) bool {
			t, _ := w.Pattern()
			return strings.Contains(t, "@") && !strings.HasPrefix(t, "-")
		}) {
			u.fetches = true
		}
	}
	if len(u.calls) == 0 {
		return u, false
	}
	u.modOnly = !slices.ContainsFunc(u.calls, func(c *runmodel.Cmd) bool {
		v, _ := goVerb(c)
		return v != "mod" && v != "get"
	})
	if r.Editable {
		u.cr = newCacheRun(m, in)
	}
	return u, true
}

// goModCache says where the module cache is: GOMODCACHE, else the first
// GOPATH entry's pkg/mod, else /go/pkg/mod in the official golang image and
// ~/go/pkg/mod elsewhere.
func goModCache(d *rewrite.Document, cr *cacheRun) []runmodel.Cache {
	c := runmodel.Cache{Dir: "~/go/pkg/mod", Env: []string{"GOMODCACHE"}}
	if gp, _ := cr.env("GOPATH"); gp != "" {
		first, _, _ := strings.Cut(gp, ":")
		c.Dir = strings.TrimRight(first, "/") + "/pkg/mod"
	} else if officialImage(chainRoot(d, cr.in.Stage).Base, "golang") {
		c.Dir = "/go/pkg/mod"
	}
	return []runmodel.Cache{c}
}

// goModKnown tells whether the module cache's place is known for sure.
func goModKnown(d *rewrite.Document, cr *cacheRun) bool {
	mc, _ := cr.env("GOMODCACHE")
	gp, _ := cr.env("GOPATH")
	return mc != "" || gp != "" || officialImage(chainRoot(d, cr.in.Stage).Base, "golang")
}

// goCleans accepts a go clean with one of the flags.
func goCleans(flags ...string) func(*runmodel.Cmd) bool {
	return func(c *runmodel.Cmd) bool {
		v, _ := goVerb(c)
		return c.Is("go") && v == "clean" && c.HasFlag(flags...)
	}
}

// goMountAll gives every RUN that runs go cache mounts over both caches, and
// tells whether it could: every such RUN must be one dfopt can edit, run as
// root, and the module cache's place must be known; and no other step may
// read the caches from the image.
func goMountAll(p *rewrite.Pass, m *runmodel.Model, uses []goUse) bool {
	type plan struct {
		cr      *cacheRun
		targets []string
		names   []string // which caches: build, module
	}
	all := map[*rewrite.Instruction]bool{}
	for _, u := range uses {
		all[u.in] = true
	}
	var plans []plan
	for _, u := range uses {
		if u.cr == nil || !u.cr.root || !goModKnown(p.Doc, u.cr) || goCachesReadLater(m, u.cr, all) != nil || goCachesReadHidden(m, u.cr, all) != nil {
			return false
		}
		var targets, names []string
		for i, s := range [][]runmodel.Cache{goBuildCache, goModCache(p.Doc, u.cr)} {
			if i == 0 && u.modOnly || u.cr.mountCovers(u.cr.locations(s)) {
				continue
			}
			t := u.cr.mountPath(p, s)
			if t == "" {
				return false
			}
			targets = append(targets, t)
			names = append(names, []string{"build", "module"}[i])
		}
		plans = append(plans, plan{u.cr, targets, names})
	}
	for _, pl := range plans {
		if len(pl.targets) == 0 {
			continue
		}
		fix := cacheFix{
			mounts: pl.targets,
			msgs:   []string{goCachesStay(pl.names) + " in the image: give the RUN " + mountWords(pl.targets)},
		}
		fix.report(p, pl.cr)
	}
	return true
}

// namesItsProgram tells whether the image says what it runs, with a CMD or
// ENTRYPOINT that does not run go or a development tool: the caches are then
// of no use in it.
func namesItsProgram(d *rewrite.Document, ship map[*rewrite.Stage]bool) bool {
	found := false
	for _, st := range d.Stages {
		if !ship[st] {
			continue
		}
		for _, in := range st.Instructions {
			var words []string
			switch c := in.Command.(type) {
			case *instructions.CmdCommand:
				words = c.CmdLine
			case *instructions.EntrypointCommand:
				words = c.CmdLine
			default:
				continue
			}
			found = true
			for _, w := range words {
				for _, f := range strings.FieldsFunc(w, func(r rune) bool { return strings.ContainsRune(" \t;&|()'\"", r) }) {
					switch path.Base(f) {
					case "go", "make", "air", "reflex", "CompileDaemon", "gow", "dlv", "gopls", "gotestsum", "golangci-lint":
						return false
					}
				}
			}
		}
	}
	return found
}

// mountWords says which cache mounts a RUN gets.
func mountWords(targets []string) string {
	if len(targets) == 1 {
		return "a cache mount on " + targets[0]
	}
	return "cache mounts on " + strings.Join(targets, " and ")
}

// goCachesStay names the Go caches that stay in the image.
func goCachesStay(names []string) string {
	if len(names) == 1 {
		return "the Go " + names[0] + " cache stays"
	}
	return "the Go " + strings.Join(names, " and ") + " caches stay"
}

// goVersionsInText find a Go version: in a download (go1.22.5.linux-amd64.tar.gz,
// go1.2.1.src.tar.gz), in GOLANG_VERSION or GO_VERSION, or in a pinned
// package (apk add go=1.22.10-r0).
var goVersionsInText = sync.OnceValue(func() []*regexp.Regexp {
	return []*regexp.Regexp{
		regexp.MustCompile(`\bgo([0-9]+)\.([0-9]+)(\.[0-9]+)?\.(linux|src|darwin|freebsd)`),
		regexp.MustCompile(`(GOLANG_VERSION|GO_VERSION)[= ]+["']?v?([0-9]+)\.([0-9]+)`),
		regexp.MustCompile(`(^|\s)(go|golang)=v?([0-9]+)\.([0-9]+)`),
	}
})

// goAtLeast111 tells whether the image's Go is known to be 1.11 or later,
// the first with both go clean -cache and -modcache (older releases stop on
// the unknown flags): the official golang image with a version tag of 1.11 or
// later or none, or a Go 1.11 or later downloaded (or named) in its stages.
func goAtLeast111(d *rewrite.Document, in *rewrite.Instruction) bool {
	newEnough := func(major, minor string) bool {
		return len(major) > 1 || major > "1" || major == "1" && (len(minor) > 2 || len(minor) == 2 && minor >= "11")
	}
	root := chainRoot(d, in.Stage)
	if officialImage(root.Base, "golang") {
		tag := ""
		if _, t, ok := strings.Cut(strings.SplitN(root.Base, "@", 2)[0], ":"); ok {
			tag = expandGlobalArgs(d, t)
		}
		if tag == "" || tag[0] < '0' || tag[0] > '9' {
			return !strings.Contains(tag, "$") // no version: the latest
		}
		major := leadingDigits(tag)
		rest, dot := strings.CutPrefix(tag[len(major):], ".")
		if !dot {
			return major >= "1" // golang:1, golang:1-alpine: the latest 1.x
		}
		return newEnough(major, leadingDigits(rest))
	}
	var texts []string
	for _, b := range append(instructionsBefore(d, in), in) {
		texts = append(texts, b.Line)
	}
	text := strings.Join(texts, "\n")
	for _, re := range goVersionsInText() {
		if m := re.FindStringSubmatch(text); m != nil {
			major, minor := m[len(m)-2], m[len(m)-1]
			if re == goVersionsInText()[0] {
				major, minor = m[1], m[2]
			}
			return newEnough(major, minor)
		}
	}
	return false
}

// expandGlobalArgs replaces $NAME and ${NAME} in s with the defaults of the
// ARGs before the first FROM; a variable without one stays as it is.
func expandGlobalArgs(d *rewrite.Document, s string) string {
	for _, in := range d.Instructions {
		if in.Stage != nil {
			break
		}
		arg, ok := in.Command.(*instructions.ArgCommand)
		if !ok {
			continue
		}
		for _, kv := range arg.Args {
			if kv.Value != nil {
				s = strings.ReplaceAll(s, "${"+kv.Key+"}", *kv.Value)
				s = strings.ReplaceAll(s, "$"+kv.Key, *kv.Value)
			}
		}
	}
	return s
}

// leadingDigits returns the digits s starts with.
func leadingDigits(s string) string {
	return s[:len(s)-len(strings.TrimLeft(s, "0123456789"))]
}
