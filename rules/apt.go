package rules

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// AptHygiene makes apt-get installs correct and lean: the lists fetched in the
// same RUN, no prompt, and no lists left behind in a layer that ships.
var AptHygiene = &rewrite.Rule{
	Name:     "apt-hygiene",
	Title:    "apt-get: update and install in one RUN, -y, no package lists left in the image",
	Kind:     rewrite.Safe,
	Hadolint: []string{"DL3009", "DL3014"},
	Doc: `A RUN that runs apt-get install gets, in the same RUN:
- apt-get update before the install (or upgrade), when none runs there. Lists fetched by an
  earlier RUN come from that RUN's cached layer and go stale: installs then fail
  or install old versions. A RUN just before (only other kinds of instruction
  between) that runs nothing but apt-get update is pulled in. In a stage whose
  files reach the image, the new update writes the lists again into the RUN's
  layer; where they cannot be removed there (a later step may read them, see
  below), that would ship a second copy of the lists, so the update is then a
  proposal that says why. A later RUN that gets its own update this way does
  not count as reading them.
- -y on install, upgrade, remove and purge, which otherwise stop at their prompt.
- apt, the command meant for people, is left as it is (hadolint's DL3027
  would make it apt-get): apt deletes the .deb files it downloaded where
  apt-get keeps them in /var/cache/apt/archives, so the rename could only
  make an image larger, and apt's unstable command line changes nothing
  that dfopt is for.
- rm -rf /var/lib/apt/lists/* at the end, in a stage whose files reach the image,
  unless a later step may read the lists: a RUN of the stage, of a stage built
  FROM it, or an ONBUILD that runs apt without its own update before it, seen
  through sudo, env, xargs, find -exec, sh -c and the like; one that names the
  lists; a COPY --from that takes them; or anything dfopt cannot see through
  (a script, a function it does not know, eval), which may run apt: when
  that is all, the removal is a proposal that names the step. With
  --cache-mounts the RUN gets a cache mount on /var/lib/apt/lists
  (sharing=locked) instead, on the same terms and when every command of the
  RUN that reads the lists updates them first; apt's state in /var/lib/apt
  (extended_states) and /var/cache/apt stay in the image, as they do without
  the mount.
- apt-get update goes right before the install, keeping the && and || list
  around it: "dpkg -i x.deb || apt-get -f install -y" becomes
  "dpkg -i x.deb || { apt-get update && apt-get -f install -y; }". The wrappers
  in front of the install (sudo, env) go in front of the update too.

Bad:

    RUN apt-get update
    RUN apt-get install curl

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
(reported always, applied with --propose) in stages whose files ship. Where the
file has already turned recommends off in apt's configuration
(APT::Install-Recommends "0" or "false" written into /etc/apt/apt.conf.d by a
RUN, or copied there from the build context, in the stage or one it is built
from), there is nothing to propose.

Some recommended packages are what a later step of the file uses: curl, wget
and git recommend ca-certificates, which an https download needs; gcc, g++
and clang recommend libc6-dev, which compiling C needs; git recommends
openssh-client, for git over ssh. Where the install would drop one of these
and a later command (after it in the RUN, or in a later step of the stage or
one built from it) uses it, and no install of the stage names it, the
proposal installs it by name and says why. The base image may hold it
already; dfopt cannot see that.

Bad:

    RUN apt-get update && apt-get install -y curl

Good:

    RUN apt-get update && apt-get install --no-install-recommends -y curl
`,
	Run: runAptNoInstallRecommends,
}

// apt is the package-manager table's apt.
var apt = runmodel.ManagerNamed("apt")

// readsLists tells whether an apt command reads the package lists the
// table says its index is.
func readsLists(k runmodel.Call) bool { return k.ReadsIndex() }

func runAptHygiene(p *rewrite.Pass) {
	d := p.Doc
	m := runmodel.Of(d)
	ship := d.Shipping()
	costly := planUpdates(p, m, ship)
	for _, st := range d.Stages {
		for i, in := range st.Instructions {
			if in.Keyword != "run" || in.Shell == nil {
				continue
			}
			r := m.Run(in)
			calls := r.Calls(apt)
			if len(calls) == 0 {
				continue
			}
			var edits, yes []rewrite.Edit
			var what []string
			for _, c := range calls {
				if c.Name != "apt-cache" && slices.Contains(apt.Prompt, c.Verb) && !c.Answered() {
					if e, ok := insertAfterArg(in, c.Cmd, c.VerbAt, " -y"); ok {
						yes = append(yes, e)
					}
				}
			}
			// It changes what the build does, so it is a proposal: an
			// install that stops at its prompt fails the build.
			if len(yes) > 0 {
				p.Report(rewrite.Finding{Line: in.StartLine, Proposal: true, Edits: yes,
					Message: "apt-get: add -y (proposal: without it the command stops at its prompt and the build fails; with it the build goes on)"})
			}
			install := firstInstall(calls)
			updated := slices.ContainsFunc(calls, func(c runmodel.Call) bool { return c.Refreshes() && c.Name != "apt-cache" })
			inserted := false
			if install != nil && !runmodel.RefreshedBefore(r, apt, install.Cmd) {
				e, ok := prependCommand(in, install.Cmd, "apt-get update")
				if !ok {
					continue // the install sits where a command cannot go in front of it
				}
				if why, ok := costly[in]; ok {
					// The update would write the lists again into this
					// RUN's layer, beside the earlier layer's copy: the
					// image would grow by the lists for fresher ones.
					p.Report(rewrite.Finding{Line: in.StartLine, Proposal: true, Edits: e,
						Message: "apt-get: " + updateWhy + " (proposal: this RUN's layer would ship another copy of the lists, as " + why + ")"})
				} else {
					edits = append(edits, e...)
					what = append(what, updateWhy)
					if prev := updateOnlyRunBefore(m, st, i); prev != nil {
						edits = append(edits, rewrite.Edit{Start: d.LineStart(prev.StartLine), End: d.LineEnd(prev.EndLine)})
						what = append(what, fmt.Sprintf("the RUN at line %d that only updated is pulled in", p.InputLine(prev.StartLine)))
					}
					updated, inserted = true, true
				}
			}
			if ship[st] && install != nil && updated && !cleansLists(r) && !listsCacheMount(r) {
				clean, why := cleanLists(p, r, in, install.Cmd, inserted)
				if rd := listsReadLater(m, in, nil); rd == nil {
					edits = append(edits, clean...)
					what = append(what, why)
				} else if rd.Unseen && len(clean) > 0 {
					p.Report(rewrite.Finding{Line: in.StartLine, Proposal: true, Edits: clean,
						Message: "apt-get: " + why + " (proposal: " + readerWhy(p, rd) + ")"})
				}
			}
			if len(edits) == 0 {
				continue
			}
			p.Report(rewrite.Finding{Line: in.StartLine, Message: "apt-get: " + strings.Join(what, "; "), Edits: coalesceEdits(edits)})
		}
	}
}

// firstInstall returns the first apt call of a RUN that installs (apt-cache
// aside), or nil.
func firstInstall(calls []runmodel.Call) *runmodel.Call {
	for i, c := range calls {
		if c.Name != "apt-cache" && c.Installs() {
			return &calls[i]
		}
	}
	return nil
}

// updateWhy is why apt-hygiene puts an apt-get update in front of an install.
const updateWhy = "run apt-get update in the same RUN: lists from an earlier layer go stale"

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// updateOnlyRunBefore finds a RUN, before instruction i of the stage with no
// other RUN between, that runs nothing but apt-get update, with no flags.
func updateOnlyRunBefore(m *runmodel.Model, st *rewrite.Stage, i int) *rewrite.Instruction {
	for j := i - 1; j > 0; j-- {
		in := st.Instructions[j]
		switch in.Keyword {
		case "run":
			if in.Shell == nil || len(in.Node.Flags) > 0 {
				return nil
			}
			r := m.Run(in)
			if len(r.Cmds) == 0 {
				return nil
			}
			for _, c := range r.Cmds {
				if c.Opaque || !c.Is("apt-get", "apt") || !apt.Read(c).Refreshes() || len(c.Via) > 0 || c.Cond {
					return nil
				}
			}
			return in
		case "onbuild", "shell":
			return nil
		}
	}
	return nil
}

// cleansLists tells whether the RUN removes the lists after its last
// update of them: commands after that read no lists, but write none either.
func cleansLists(r *runmodel.Run) bool {
	var last *runmodel.Cmd
	for _, c := range r.Calls(apt) {
		if c.Refreshes() {
			last = c.Cmd
		}
	}
	after := func(c *runmodel.Cmd) bool { return last == nil || runmodel.Before(last, c) }
	for _, c := range r.Calls(apt) {
		if (c.Verb == "dist-clean" || c.Verb == "distclean") && after(c.Cmd) {
			return true // apt 2.7's dist-clean removes the lists too
		}
	}
	for _, c := range r.Runs("rm") {
		if !after(c) {
			continue
		}
		for _, a := range c.Args {
			op, ok := a.Pattern()
			if !ok || strings.HasPrefix(op, "-") {
				continue
			}
			if t := runmodel.LiteralPrefix(op); t == "/var/lib/apt/lists" || t == "/var/lib/apt" {
				return true
			}
		}
	}
	return false
}

// listsCacheMount tells whether a cache mount keeps the lists out of the image.
func listsCacheMount(r *runmodel.Run) bool {
	const lists = "/var/lib/apt/lists"
	for _, t := range r.CacheTargets() {
		if t = path.Clean(t); t == lists || strings.HasPrefix(lists, t+"/") {
			return true
		}
	}
	return false
}

// allReadersRefresh tells whether every command of the RUN that reads the
// lists comes after an update of them (one there, or the one put in front
// of install): a cache mount over the lists hides those of earlier layers.
func allReadersRefresh(r *runmodel.Run, install *runmodel.Cmd, inserted bool) bool {
	for _, c := range r.Calls(apt) {
		switch {
		case !readsLists(c), runmodel.RefreshedBefore(r, apt, c.Cmd):
		case inserted && (c.Cmd == install || runmodel.Before(install, c.Cmd) && !install.Cond && !c.Cond):
		default:
			return false
		}
	}
	return true
}

// listsReadLater finds a later step that may read the package lists in
// from the image (see runmodel.Model.LaterReader): it runs an apt command
// that reads them without an update before it, names them, or runs
// something the model cannot see through. An apt command of a RUN in
// updating, at or after the install named there, counts as refreshed: the
// rule puts an update in front of that install.
func listsReadLater(m *runmodel.Model, in *rewrite.Instruction, updating map[*rewrite.Instruction]*runmodel.Cmd) *runmodel.Reader {
	places := m.CachePlaces(apt, m.State(in), nil, true)
	return m.LaterReader(in, places, func(r *runmodel.Run, c *runmodel.Cmd, _ runmodel.State) string {
		if runmodel.ManagerOf(c) != apt {
			return ""
		}
		if ic, ok := updating[r.In]; ok && (c == ic || runmodel.Before(ic, c) && !ic.Cond && !c.Cond) {
			return ""
		}
		k := apt.Read(c)
		if readsLists(k) && !runmodel.RefreshedBefore(r, apt, c) {
			return c.Name + " " + k.Verb + " reads the package lists"
		}
		return ""
	})
}

// cleanLists returns the edit that keeps the lists a RUN writes out of its
// layer (a cache mount with --cache-mounts, else their removal at its end),
// and why; none when it cannot be made.
func cleanLists(p *rewrite.Pass, r *runmodel.Run, in *rewrite.Instruction, install *runmodel.Cmd, inserted bool) ([]rewrite.Edit, string) {
	if p.Options.CacheMounts {
		if allReadersRefresh(r, install, inserted) {
			return []rewrite.Edit{addRunFlags(p.Doc, in, cacheMountFlag("/var/lib/apt/lists"))}, "keep apt's package lists in a cache mount, out of the image"
		}
		return nil, ""
	}
	if e, ok := appendCommand(p.Doc, r, "rm -rf /var/lib/apt/lists/*"); ok {
		return []rewrite.Edit{e}, "remove /var/lib/apt/lists/* at the end: the lists would ship in the layer"
	}
	return nil, ""
}

// planUpdates decides, for each RUN whose install has no apt-get update
// before it, whether putting one there leaves the image as small; it
// returns the RUNs where it does not, with why. It
// does when the RUN's stage ships nowhere, when the RUN pulls in the RUN
// before it that only updated (the lists move, no copy is added), or when
// the lists the new update writes stay out of the RUN's layer: the RUN
// removes them or mounts a cache over them already, or their clean-up can
// be added, no later step reading them. A later RUN that gets its own
// update this way reads none of them; the RUNs are decided from the last
// one back, so that a chain of installs is decided in one pass. Only this
// decision counts on the later updates: a clean-up is added when the
// document as it is has no later reader.
func planUpdates(p *rewrite.Pass, m *runmodel.Model, ship map[*rewrite.Stage]bool) map[*rewrite.Instruction]string {
	d := p.Doc
	costly := map[*rewrite.Instruction]string{}
	updating := map[*rewrite.Instruction]*runmodel.Cmd{}
	for si := len(d.Stages) - 1; si >= 0; si-- {
		st := d.Stages[si]
		for i := len(st.Instructions) - 1; i >= 0; i-- {
			in := st.Instructions[i]
			if in.Keyword != "run" || in.Shell == nil {
				continue
			}
			r := m.Run(in)
			install := firstInstall(r.Calls(apt))
			if install == nil || runmodel.RefreshedBefore(r, apt, install.Cmd) {
				continue
			}
			if _, ok := prependCommand(in, install.Cmd, "apt-get update"); !ok {
				continue
			}
			why := ""
			switch {
			case !ship[st], cleansLists(r), listsCacheMount(r), updateOnlyRunBefore(m, st, i) != nil:
			default:
				if rd := listsReadLater(m, in, updating); rd != nil {
					why = "they cannot be removed there: " + readerWhy(p, rd)
				} else if clean, _ := cleanLists(p, r, in, install.Cmd, true); len(clean) == 0 {
					why = "dfopt cannot remove them there"
				}
			}
			if why != "" {
				costly[in] = why
				continue
			}
			updating[in] = install.Cmd
		}
	}
	return costly
}

func runAptNoInstallRecommends(p *rewrite.Pass) {
	d := p.Doc
	m := runmodel.Of(d)
	for _, in := range shippedRuns(d) {
		var edits []rewrite.Edit
		var kept []string
		r := m.Run(in)
		for _, c := range r.Calls(apt) {
			if c.Name == "apt-cache" || c.Verb != "install" || c.HasFlag("--no-install-recommends") || recommendsOff(c) ||
				c.HasFlag("-s", "--simulate", "--just-print", "--dry-run", "--recon", "--no-act") {
				continue
			}
			e, ok := insertAfterArg(in, c.Cmd, c.VerbAt, " --no-install-recommends")
			if !ok {
				continue
			}
			var add []string
			for _, dr := range m.DroppedRecommends(r, c) {
				if slices.Contains(add, dr.Pkg) {
					continue
				}
				add = append(add, dr.Pkg)
				kept = append(kept, fmt.Sprintf("%s (recommended by %s), which %s at line %d %s", dr.Pkg, dr.By, dr.User.Name, p.InputLine(dr.In.StartLine), needWhy[dr.Need]))
			}
			if len(add) > 0 {
				end, ok := insertAfterArg(in, c.Cmd, len(c.Args)-1, " "+strings.Join(add, " "))
				if !ok {
					continue
				}
				edits = append(edits, e, end)
				continue
			}
			edits = append(edits, e)
		}
		if len(edits) > 0 && !recommendsConfigured(p, in) {
			msg := "apt-get install also installs recommended packages: --no-install-recommends installs only what is needed"
			if len(kept) > 0 {
				msg += "; it would also leave out " + strings.Join(kept, "; ") + ": the proposal installs " +
					map[bool]string{true: "it", false: "them"}[len(kept) == 1] + " by name"
			}
			p.Report(rewrite.Finding{
				// The line of the first install, not of the RUN: a RUN that
				// merge-runs made of several names the one at fault.
				Line:    d.LineOf(edits[0].Start),
				Message: msg,
				Edits:   edits,
			})
		}
	}
}

// needWhy says what a later command needs a dropped recommended package for.
var needWhy = map[runmodel.Need]string{
	runmodel.NeedTLS:     "needs for its https download",
	runmodel.NeedLibcDev: "needs to compile and link C",
	runmodel.NeedSSH:     "needs to reach git over ssh",
}

// recommendsConfigured tells whether apt's configuration, as the file sets
// it up by in (in its stage or a stage it is built from), already turns
// recommends off: a RUN that writes APT::Install-Recommends "0" or "false"
// (echo or printf into /etc/apt/apt.conf.d), or a COPY or ADD into
// /etc/apt/apt.conf.d of a build-context file that says so. A base image's
// own configuration is not known.
func recommendsConfigured(p *rewrite.Pass, in *rewrite.Instruction) bool {
	d := p.Doc
	for st := in.Stage; st != nil; st = d.Parent(st) {
		for _, x := range st.Instructions {
			if x.Stage == in.Stage && x.Start > in.Start {
				break // the RUN itself counts: it may set apt up before installing
			}
			switch c := x.Command.(type) {
			case *instructions.RunCommand:
				if text := d.Text(x); recommendsZero().MatchString(text) && strings.Contains(text, "apt.conf") {
					return true
				}
			case *instructions.CopyCommand:
				if c.From == "" && aptConfDest(c.DestPath) && contextSays(p, c.SourcePaths) {
					return true
				}
			case *instructions.AddCommand:
				if aptConfDest(c.DestPath) && contextSays(p, c.SourcePaths) {
					return true
				}
			}
		}
	}
	return false
}

// recommendsZero matches apt's setting that turns recommends off, as a
// configuration file writes it.
var recommendsZero = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)APT::Install-Recommends\W{0,4}(0|false)\b`) })

func aptConfDest(dest string) bool {
	return strings.HasPrefix(path.Clean(dest)+"/", "/etc/apt/apt.conf.d/")
}

// contextSays tells whether one of the build-context files among srcs
// turns recommends off.
func contextSays(p *rewrite.Pass, srcs []string) bool {
	ctx := p.Options.Context
	if ctx == nil {
		return false
	}
	for _, src := range srcs {
		rel, ok := contextPath(src, nil)
		if !ok || rel == "." || strings.ContainsAny(rel, "*?[") || ctx.Ignored(rel) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(ctx.Dir, filepath.FromSlash(rel)))
		if err == nil && recommendsZero().Match(b) {
			return true
		}
	}
	return false
}

// recommendsOff tells whether an -o option already turns recommends off.
func recommendsOff(c runmodel.Call) bool {
	for _, a := range c.Args {
		if w, ok := a.Value(); ok {
			if w = strings.ToLower(w); strings.Contains(w, "install-recommends=false") || strings.Contains(w, "install-recommends=0") {
				return true
			}
		}
	}
	return false
}
