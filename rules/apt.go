package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/rewrite"
	"mvdan.cc/sh/v3/syntax"
)

// AptHygiene makes apt-get installs correct and lean: the lists fetched in the
// same RUN, no prompt, and no lists left behind in a layer that ships.
var AptHygiene = &rewrite.Rule{
	Name:     "apt-hygiene",
	Title:    "apt-get: update and install in one RUN, -y, no package lists left in the image",
	Kind:     rewrite.Safe,
	Hadolint: []string{"DL3009", "DL3014", "DL3027"},
	Doc: `A RUN that runs apt-get install gets, in the same RUN:
- apt-get update before the install (or upgrade), when none runs there. Lists fetched by an
  earlier RUN come from that RUN's cached layer and go stale: installs then fail
  or install old versions. A RUN just before (only other kinds of instruction
  between) that runs nothing but apt-get update is pulled in.
- -y on install, upgrade, remove and purge, which otherwise stop at their prompt.
- apt instead of apt-get, in scripts, becomes apt-get (apt has no stable
  command line interface).
- rm -rf /var/lib/apt/lists/* at the end, in a stage whose files reach the image,
  unless a later RUN of the stage, or of a stage built FROM it, reads the lists
  without its own update. With --cache-mounts the RUN gets cache mounts on
  /var/cache/apt and /var/lib/apt (sharing=locked) instead, and removes the
  image's docker-clean apt configuration, which would empty the cache.

Bad:

    RUN apt-get update
    RUN apt install curl

Good:

    RUN apt-get update && apt-get install -y curl \
        && rm -rf /var/lib/apt/lists/*
`,
	Run: runAptHygiene,
}

// AptNoInstallRecommends proposes --no-install-recommends, which installs
// fewer packages: the image may then lack something a recommended package gave.
var AptNoInstallRecommends = &rewrite.Rule{
	Name:     "apt-no-install-recommends",
	Title:    "apt-get install --no-install-recommends (proposal: changes which packages get installed)",
	Kind:     rewrite.Proposal,
	Hadolint: []string{"DL3015"},
	Doc: `apt-get installs recommended packages by default, often many megabytes
that the program does not need. --no-install-recommends installs only the
dependencies. That changes which packages the image holds, so dfopt proposes it
(reported always, applied with --propose) in stages whose files ship.

Bad:

    RUN apt-get update && apt-get install -y curl

Good:

    RUN apt-get update && apt-get install -y --no-install-recommends curl
`,
	Run: runAptNoInstallRecommends,
}

// aptCall is one apt-get, apt or apt-cache command of a RUN.
type aptCall struct {
	call    *syntax.CallExpr
	name    string // apt-get, apt or apt-cache
	verb    string
	verbArg int // index of the verb in call.Args, -1 if none
}

func (c aptCall) pos() uint { return c.call.Pos().Offset() }

// aptCalls lists the apt commands of a program in source order.
func aptCalls(f *syntax.File) []aptCall {
	var out []aptCall
	for _, c := range runCommands(f) {
		name := baseName(c.Args[0].Lit())
		if name != "apt-get" && name != "apt" && name != "apt-cache" {
			continue
		}
		a := aptCall{call: c, name: name, verbArg: verbIndex(c)}
		if a.verbArg > 0 {
			a.verb = c.Args[a.verbArg].Lit()
		}
		out = append(out, a)
	}
	return out
}

// aptGetVerbs are the verbs apt and apt-get share, where apt can become apt-get.
var aptGetVerbs = map[string]bool{
	"install": true, "update": true, "upgrade": true, "dist-upgrade": true, "remove": true,
	"purge": true, "autoremove": true, "clean": true, "autoclean": true, "build-dep": true, "source": true, "download": true,
}

// promptVerbs ask before they change anything, unless told yes.
var promptVerbs = map[string]bool{
	"install": true, "upgrade": true, "dist-upgrade": true, "full-upgrade": true, "remove": true,
	"purge": true, "autoremove": true, "build-dep": true,
}

// installVerbsApt fetch packages named in the lists: they want fresh lists.
var installVerbsApt = map[string]bool{
	"install": true, "upgrade": true, "dist-upgrade": true, "full-upgrade": true, "build-dep": true,
}

// listVerbs read the package lists.
var listVerbs = map[string]bool{
	"install": true, "upgrade": true, "dist-upgrade": true, "full-upgrade": true, "build-dep": true,
	"source": true, "download": true, "changelog": true, "policy": true, "search": true, "show": true,
	"showpkg": true, "madison": true, "depends": true, "rdepends": true, "list": true,
}

// assumesYes tells whether an apt command answers its own prompt.
func assumesYes(c *syntax.CallExpr) bool {
	for _, a := range c.Args[1:] {
		w := a.Lit()
		switch {
		case w == "-y" || w == "--yes" || w == "--assume-yes" || w == "-qq" || w == "-q=2" || w == "--quiet=2",
			simulates(w),
			strings.Contains(strings.ToLower(w), "assume-yes"),
			strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "--") && strings.Contains(w, "y"):
			return true
		}
	}
	return false
}

// simulates tells whether an apt option makes the command only pretend, so it
// neither prompts nor installs.
func simulates(w string) bool {
	switch w {
	case "-s", "--simulate", "--just-print", "--dry-run", "--recon", "--no-act":
		return true
	}
	return false
}

// readsLists tells whether an apt command needs the package lists.
func (c aptCall) readsLists() bool {
	return c.name == "apt-cache" || listVerbs[c.verb]
}

// updatedBefore tells whether an update runs before the call in the same RUN.
func updatedBefore(calls []aptCall, c aptCall) bool {
	for _, u := range calls {
		if u.verb == "update" && u.name != "apt-cache" && u.pos() < c.pos() {
			return true
		}
	}
	return false
}

func runAptHygiene(p *rewrite.Pass) {
	d := p.Doc
	ship := d.Shipping()
	for _, st := range d.Stages {
		for i, in := range st.Instructions {
			if in.Keyword != "run" || in.Shell == nil {
				continue
			}
			calls := aptCalls(in.Shell.File)
			if len(calls) == 0 {
				continue
			}
			var edits []rewrite.Edit
			var what []string
			for _, c := range calls {
				if c.name == "apt" && aptGetVerbs[c.verb] {
					w := c.call.Args[0]
					edits = append(edits, rewrite.Edit{Start: srcPos(in, w.Pos()), End: srcEndPos(in, w.End()), New: "apt-get"})
					what = appendOnce(what, "use apt-get, not apt, in scripts")
				}
				if c.name != "apt-cache" && promptVerbs[c.verb] && !assumesYes(c.call) {
					edits = append(edits, insertAfter(in, c.call.Args[c.verbArg].End(), " -y"))
					what = appendOnce(what, "add -y: the prompt would stop the build")
				}
			}
			var install *aptCall
			for _, c := range calls {
				if c.name != "apt-cache" && installVerbsApt[c.verb] {
					install = &c
					break
				}
			}
			updated := slices.ContainsFunc(calls, func(c aptCall) bool { return c.verb == "update" && c.name != "apt-cache" })
			if install != nil && !updatedBefore(calls, *install) {
				stmt := stmtOf(in.Shell.File, install.call)
				if stmt == nil {
					continue // the install sits where a command cannot go in front of it
				}
				edits = append(edits, insertAt(in, stmt.Pos(), "apt-get update && "))
				what = append(what, "run apt-get update in the same RUN: lists from an earlier layer go stale")
				if prev := updateOnlyRunBefore(st, i); prev != nil {
					edits = append(edits, rewrite.Edit{Start: d.LineStart(prev.StartLine), End: d.LineEnd(prev.EndLine)})
					what = append(what, fmt.Sprintf("the RUN at line %d that only updated is pulled in", p.InputLine(prev.StartLine)))
				}
				updated = true
			}
			if ship[st] && install != nil && updated && !cleansLists(in, calls) && !listsCacheMount(in) && !laterReadsLists(d, st, in) {
				if p.Options.CacheMounts {
					edits = append(edits,
						addRunFlags(d, in, "--mount=type=cache,target=/var/cache/apt,sharing=locked", "--mount=type=cache,target=/var/lib/apt,sharing=locked"),
						insertAt(in, in.Shell.File.Stmts[0].Pos(), "rm -f /etc/apt/apt.conf.d/docker-clean; "))
					what = append(what, "keep apt's caches in cache mounts, out of the image")
				} else if e, ok := appendCommand(d, in, "rm -rf /var/lib/apt/lists/*"); ok {
					edits = append(edits, e)
					what = append(what, "remove /var/lib/apt/lists/* at the end: the lists would ship in the layer")
				}
			}
			if len(edits) == 0 {
				continue
			}
			p.Report(rewrite.Finding{Line: in.StartLine, Message: "apt-get: " + strings.Join(what, "; "), Edits: edits})
		}
	}
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// updateOnlyRunBefore finds a RUN, before instruction i of the stage with no
// other RUN between, that runs nothing but apt-get update, with no flags.
func updateOnlyRunBefore(st *rewrite.Stage, i int) *rewrite.Instruction {
	for j := i - 1; j > 0; j-- {
		in := st.Instructions[j]
		switch in.Keyword {
		case "run":
			if in.Shell == nil || len(in.Node.Flags) > 0 {
				return nil
			}
			calls := runCommands(in.Shell.File)
			for _, c := range calls {
				n := baseName(c.Args[0].Lit())
				if n != "apt-get" && n != "apt" || verbIndex(c) < 0 || c.Args[verbIndex(c)].Lit() != "update" {
					return nil
				}
			}
			if len(calls) == 0 {
				return nil
			}
			return in
		case "onbuild", "shell":
			return nil
		}
	}
	return nil
}

// cleansLists tells whether the RUN removes the lists after its last install.
func cleansLists(in *rewrite.Instruction, calls []aptCall) bool {
	var last uint
	for _, c := range calls {
		if c.readsLists() {
			last = max(last, c.pos())
		}
	}
	for _, c := range calls {
		if c.verb == "dist-clean" && c.pos() > last {
			return true // apt 2.7's dist-clean removes the lists too
		}
	}
	for _, c := range runCommands(in.Shell.File) {
		cmd := callCommand(c)
		if cmd.name != "rm" || c.Pos().Offset() < last {
			continue
		}
		for _, op := range operands(cmd.args) {
			if t := literalPrefix(op); t == "/var/lib/apt/lists" || t == "/var/lib/apt" {
				return true
			}
		}
	}
	return false
}

// listsCacheMount tells whether a cache mount keeps the lists out of the image.
func listsCacheMount(in *rewrite.Instruction) bool {
	for _, t := range cacheMountTargets(in) {
		if strings.HasPrefix(path.Clean(t), "/var/lib/apt") {
			return true
		}
	}
	return false
}

// laterReadsLists tells whether a RUN after in, in its stage or in a stage
// built FROM it, reads the package lists without fetching them itself.
func laterReadsLists(d *rewrite.Document, st *rewrite.Stage, in *rewrite.Instruction) bool {
	var later []*rewrite.Instruction
	for _, x := range st.Instructions {
		if x.StartLine > in.StartLine {
			later = append(later, x)
		}
	}
	for _, s := range d.Descendants(st) {
		later = append(later, s.Instructions...)
	}
	for _, x := range later {
		if x.Keyword == "onbuild" && strings.Contains(x.Line, "apt") {
			return true
		}
		if x.Keyword != "run" {
			continue
		}
		if x.Shell == nil {
			if strings.Contains(x.Line, "apt") {
				return true // a program we cannot read might
			}
			continue
		}
		calls := aptCalls(x.Shell.File)
		for _, c := range calls {
			if c.readsLists() && !updatedBefore(calls, c) {
				return true
			}
		}
	}
	return false
}

func runAptNoInstallRecommends(p *rewrite.Pass) {
	d := p.Doc
	ship := d.Shipping()
	for _, st := range d.Stages {
		if !ship[st] {
			continue
		}
		for _, in := range st.Instructions {
			if in.Keyword != "run" || in.Shell == nil {
				continue
			}
			var edits []rewrite.Edit
			for _, c := range aptCalls(in.Shell.File) {
				if c.name == "apt-cache" || c.verb != "install" || hasWord(c.call, "--no-install-recommends") || recommendsOff(c.call) || slices.ContainsFunc(c.call.Args, func(w *syntax.Word) bool { return simulates(w.Lit()) }) {
					continue
				}
				edits = append(edits, insertAfter(in, c.call.Args[c.verbArg].End(), " --no-install-recommends"))
			}
			if len(edits) > 0 {
				p.Report(rewrite.Finding{
					Line:    in.StartLine,
					Message: "apt-get install also installs recommended packages: --no-install-recommends installs only what is needed",
					Edits:   edits,
				})
			}
		}
	}
}

// recommendsOff tells whether an -o option already turns recommends off.
func recommendsOff(c *syntax.CallExpr) bool {
	for _, a := range c.Args[1:] {
		if w := strings.ToLower(a.Lit()); strings.Contains(w, "install-recommends=false") || strings.Contains(w, "install-recommends=0") {
			return true
		}
	}
	return false
}
