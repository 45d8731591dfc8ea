package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
)

// BuildToolsShipped reports compilers, headers, development packages and
// version control clients that a RUN installs in a stage that ships, and
// devDependencies installed for a build that then ship with the
// application: the image carries hundreds of megabytes the application
// never runs, and a larger attack surface.
var BuildToolsShipped = &rewrite.Rule{
	Name:  "build-tools-shipped",
	Title: "Compilers, -dev packages and devDependencies that a build needs but the image ships",
	Kind:  rewrite.Safe,
	Doc: `Compilers (gcc, build-essential, build-base, make, cmake, ...), C library
headers (libc6-dev, musl-dev, linux-headers), development packages (libpq-dev,
openssl-devel, python3-dev) and version control clients (git) are needed to
build native code, not to run it. Installed in a stage whose files reach the
image, they ship: often more than the application itself.

dfopt reports, in the stages that ship, each RUN that installs such packages
by name with apt, apk, the rpm family or zypper and does not remove them in
the same RUN (apt-get purge, apk del, apk del of their --virtual group). It
says which build step uses them. With pip, the packages that only build
others (Cython, build, pip-tools, scikit-build, meson-python,
setuptools-scm) are reported too; not wheel, which pip itself builds with
and which weighs a few hundred kilobytes, nor setuptools, whose
pkg_resources applications import at run time. Not reported: a Dockerfile
that does not say what the image runs (no CMD nor ENTRYPOINT, or a shell
waiting for a command: a base or development image), packages the image's CMD, ENTRYPOINT or HEALTHCHECK runs or builds
with (CMD ["make", "run"], an entrypoint given git as its command), and a
version control client that no build step fetches with (the application may
run it). Removing them in a later RUN frees nothing: their layer ships.

The fix is a builder stage that compiles and a COPY --from of what it made,
or removing the tools at the end of the RUN that uses them. With --propose,
where a RUN installs compilers or headers (no development packages: removing
those with their dependencies would take out the library what was built
links, libpq5 under libpq-dev) and no later step may use them, dfopt removes
them at the end of that RUN: apt-get purge -y --auto-remove, or, for an apk
add of build tools alone, apk add --virtual .build-deps and apk del
.build-deps. The proposal assumes the base image did not hold them already
and that what the RUN built loads no library that only they pulled in (such
as libgomp or libstdc++, which --auto-remove and apk del take out too).

It also reports an npm ci, npm install, yarn install or pnpm install
without a production flag (--omit=dev, --production, NODE_ENV=production)
that a build (npm run build) follows in a stage that ships, unless the
devDependencies are pruned again: they ship with the application. This is
not rewritten: npm prune --omit=dev would take out a package the
application needs at run time but package.json lists as a devDependency,
and packages that no package.json lists; install the production
dependencies in the final stage, and build in a builder stage.

Bad:

    FROM python:3.12-slim
    RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev
    RUN pip install --no-cache-dir psycopg2
    CMD ["python", "app.py"]

Good:

    FROM python:3.12-slim AS build
    RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev
    RUN pip wheel --no-cache-dir --wheel-dir /wheels psycopg2

    FROM python:3.12-slim
    RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*
    RUN --mount=type=bind,from=build,source=/wheels,target=/wheels pip install --no-cache-dir /wheels/*
    CMD ["python", "app.py"]
`,
	Run: runBuildToolsShipped,
}

// toolLeft is a build tool package an install of a shipping RUN leaves in
// the image, with what dfopt knows of its use.
type toolLeft struct {
	runmodel.Installed
	run      *rewrite.Instruction // the RUN that installs it
	use      *runmodel.Cmd        // the first command after the install that surely uses it
	useIn    *rewrite.Instruction // the instruction of that command
	laterUse bool                 // a later step (of any stage built on this one) may use it
	lateRm   *rewrite.Instruction // a later RUN that removes it, too late
}

func runBuildToolsShipped(p *rewrite.Pass) {
	d := p.Doc
	if len(d.Stages) == 0 {
		return
	}
	m := runmodel.Of(d)
	rt := m.RuntimeOf(d.Stages[len(d.Stages)-1])
	if rt.Open || runmodel.DevelopmentImage(d) {
		return // a base or development image: its users run the tools
	}
	ship := d.Shipping()
	for _, st := range d.Stages {
		if !ship[st] {
			continue
		}
		for _, in := range st.Instructions {
			r := m.Run(in)
			if in.Keyword != "run" || r == nil || r.Whole != "" {
				continue
			}
			reportTools(p, m, rt, r)
			reportDevDependencies(p, m, r)
		}
	}
}

// reportTools reports the build tools a RUN leaves in the image.
func reportTools(p *rewrite.Pass, m *runmodel.Model, rt runmodel.Runtime, r *runmodel.Run) {
	var left []toolLeft
	for _, t := range r.BuildTools() {
		// pip's wheel is left alone: pip itself builds with it, and it
		// weighs a few hundred kilobytes.
		if t.Removed || t.Kind == runmodel.PyBuild && t.Base == "wheel" || rt.Uses(t.By.M.Name, t.Pkg) >= runmodel.BuildsWith {
			continue
		}
		tl := toolLeft{Installed: t, run: r.In}
		use := func(c *runmodel.Cmd, in *rewrite.Instruction) {
			u := runmodel.ToolUse(c, t.By.M.Name, t.Pkg)
			if t.Kind == runmodel.VCS && (u == runmodel.BuildsWith || u == runmodel.Runs && !fetches(c)) {
				// git config, git --version, pip install that may fetch
				// from a repository: no sure checkout of sources.
				u = runmodel.MayUse
			}
			if u >= runmodel.BuildsWith && tl.use == nil {
				tl.use, tl.useIn = c, in
			}
			if u > runmodel.NoUse && in != r.In {
				tl.laterUse = true
			}
		}
		for _, c := range r.Cmds {
			if runmodel.Before(t.By.Cmd, c) {
				use(c, r.In)
			}
		}
		for _, in := range m.Steps(r.In) {
			x := m.Run(in)
			if x == nil {
				continue
			}
			// A later RUN that installs the package itself uses its own.
			var own *runmodel.Cmd
			for _, o := range x.BuildTools() {
				if o.Base == t.Base && o.By.M == t.By.M && o.By.Always() && (own == nil || runmodel.Before(o.By.Cmd, own)) {
					own = o.By.Cmd
				}
			}
			for _, c := range x.Cmds {
				if own == nil || !runmodel.Before(own, c) {
					use(c, in)
				}
			}
			if tl.lateRm == nil && slices.Contains(x.Deleted().Pkgs[t.By.M.Name], t.Base) {
				tl.lateRm = in
			}
		}
		if t.Kind == runmodel.VCS && tl.use == nil {
			continue // no build step fetches with it: the application may run it
		}
		left = append(left, tl)
	}
	if len(left) == 0 {
		return
	}
	f := rewrite.Finding{Line: r.In.StartLine}
	var b strings.Builder
	stay := "stay"
	if len(left) == 1 {
		stay = "stays"
	}
	fmt.Fprintf(&b, "%s, which %s in the image", describeTools(left), stay)
	if u := firstUse(left); u != nil {
		fmt.Fprintf(&b, " (the build uses them: %s at line %d)", useName(u.use), p.InputLine(u.useIn.StartLine))
	} else {
		b.WriteString(" (no later build step runs them)")
	}
	for _, t := range left {
		if t.lateRm != nil {
			fmt.Fprintf(&b, "; the removal of %s at line %d frees nothing, their layer ships", t.Base, p.InputLine(t.lateRm.StartLine))
			break
		}
	}
	edits, removed, why := proposeRemoval(p, r, left)
	switch {
	case len(edits) > 0:
		f.Edits, f.Proposal = edits, true
		fmt.Fprintf(&b, ": proposal: %s at the end of this RUN (assumes the base image did not hold them already, and that what the RUN built loads no library only they pulled in, such as libgomp or libstdc++, which that takes out too)", removed)
	default:
		fmt.Fprintf(&b, ": compile in a builder stage and COPY --from what it makes, or remove them at the end of this RUN (not rewritten: %s)", why)
	}
	f.Message = b.String()
	p.Report(f)
}

// fetches tells whether a git, hg or svn command checks out or reads a
// repository (clone, fetch, describe, …), as a build does.
func fetches(c *runmodel.Cmd) bool {
	for _, v := range c.Options() {
		if strings.HasPrefix(v, "-") {
			continue
		}
		return slices.Contains([]string{"clone", "fetch", "pull", "submodule", "checkout", "co", "archive", "ls-remote", "describe", "rev-parse", "log", "export"}, v)
	}
	return false
}

// describeTools names the packages grouped by kind: "gcc and make
// (compilers and build tools) and libpq-dev (development package)".
func describeTools(left []toolLeft) string {
	var kinds []runmodel.ToolKind
	byKind := map[runmodel.ToolKind][]string{}
	for _, t := range left {
		if !slices.Contains(kinds, t.Kind) {
			kinds = append(kinds, t.Kind)
		}
		if !slices.Contains(byKind[t.Kind], t.Base) {
			byKind[t.Kind] = append(byKind[t.Kind], t.Base)
		}
	}
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s (%s)", andList(byKind[k]), k))
	}
	mgr := left[0].By.M.Name
	return "installs " + andList(parts) + " with " + mgr
}

// firstUse is the tool whose sure use comes first, or nil.
func firstUse(left []toolLeft) *toolLeft {
	var best *toolLeft
	for i := range left {
		t := &left[i]
		if t.use == nil {
			continue
		}
		if best == nil || t.useIn.StartLine < best.useIn.StartLine || t.useIn == best.useIn && runmodel.Before(t.use, best.use) {
			best = t
		}
	}
	return best
}

// keptWhy says why the packages that are no compiler nor headers are not
// removed by a rewrite.
func keptWhy(left []toolLeft) string {
	var why []string
	for _, t := range left {
		switch {
		case t.Kind == runmodel.DevLibrary && !slices.ContainsFunc(why, func(s string) bool { return strings.HasPrefix(s, "removing") }):
			why = append(why, "removing "+t.Base+" with what it pulled in may take out the library that what was built links at run time; install that library by name where the application runs")
		case t.Kind == runmodel.VCS && !slices.ContainsFunc(why, func(s string) bool { return strings.HasPrefix(s, "the application") }):
			why = append(why, "the application may run "+t.Base)
		case t.Kind == runmodel.PyBuild && !slices.ContainsFunc(why, func(s string) bool { return strings.HasPrefix(s, "pip") }):
			why = append(why, "pip packages are not rewritten")
		}
	}
	return strings.Join(why, "; ")
}

// removable tells whether the proposal may remove a tool: a compiler or
// headers that the RUN itself uses and nothing after it may.
func removable(t toolLeft) bool {
	return t.Kind.Pure() && t.use != nil && t.useIn == t.run && !t.laterUse && t.By.Always() && t.lateRm == nil
}

// proposeRemoval returns the edits that remove a RUN's removable tools at
// its end, what they do, and why the others (or all) stay.
func proposeRemoval(p *rewrite.Pass, r *runmodel.Run, left []toolLeft) (edits []rewrite.Edit, does, why string) {
	var rm []toolLeft
	why = keptWhy(left)
	for _, t := range left {
		if removable(t) {
			rm = append(rm, t)
		}
	}
	if len(rm) < len(left) {
		// What stays keeps the RUN from being clean: the builder stage is
		// the fix, and one finding says so.
		for _, t := range left {
			if t.Kind.Pure() && !removable(t) {
				rm = nil
			}
		}
		if rm != nil {
			return nil, "", why
		}
		for _, t := range left {
			switch {
			case !t.By.Always():
				return nil, "", "the install does not always run"
			case t.use != nil && t.useIn != t.run:
				return nil, "", "a later RUN uses them: install, use and remove them in one RUN, or use a builder stage"
			case t.laterUse:
				return nil, "", "a later step may use them"
			case t.lateRm != nil:
				return nil, "", "removing them in a later RUN frees nothing"
			case t.use == nil && t.Kind.Pure():
				return nil, "", "no build step of this RUN uses them, and the application may"
			}
		}
		return nil, "", why
	}
	if !r.Editable || !canAppend(r) {
		return nil, "", "dfopt cannot append a command to this RUN"
	}
	mgr := rm[0].By.M.Name
	for _, t := range rm {
		if t.By.M.Name != mgr {
			return nil, "", "it installs with two package managers"
		}
	}
	var names []string
	for _, t := range rm {
		if !slices.Contains(names, t.Base) {
			names = append(names, t.Base)
		}
	}
	switch mgr {
	case "apt":
		cmd := "apt-get purge -y --auto-remove " + strings.Join(names, " ")
		e, ok := appendCommand(p.Doc, r, cmd)
		if !ok {
			return nil, "", "dfopt cannot append a command to this RUN"
		}
		return []rewrite.Edit{e}, cmd, why
	case "apk":
		call := rm[0].By
		for _, t := range rm {
			if t.By.Cmd != call.Cmd {
				return nil, "", "more than one apk add installs them"
			}
		}
		// Only an apk add of build tools alone gets a --virtual group.
		for _, op := range apkOperands(call) {
			if k := runmodel.BuildTool("apk", op); !k.Pure() {
				return nil, "", "the apk add installs other packages too: give the build tools an apk add --virtual .build-deps of their own"
			}
			if !slices.ContainsFunc(rm, func(t toolLeft) bool { return t.Pkg == op }) {
				return nil, "", "a later step may use " + op
			}
		}
		group := rm[0].Group
		var out []rewrite.Edit
		if group == "" {
			group = ".build-deps"
			for _, c := range r.Cmds {
				for _, a := range c.Args {
					if a.Is(group) {
						return nil, "", "the RUN names .build-deps already"
					}
				}
			}
			e, ok := insertAfterArg(r.In, call.Cmd, call.VerbAt, " --virtual "+group)
			if !ok {
				return nil, "", "dfopt cannot edit this apk add"
			}
			out = append(out, e)
		}
		e, ok := appendCommand(p.Doc, r, "apk del "+group)
		if !ok {
			return nil, "", "dfopt cannot append a command to this RUN"
		}
		does = "apk add --virtual " + group + " and apk del " + group
		if rm[0].Group != "" {
			does = "apk del " + group
		}
		return append(out, e), does, why
	}
	return nil, "", mgr + " is not rewritten"
}

// apkOperands lists the literal packages an apk add names.
func apkOperands(k runmodel.Call) []string {
	var out []string
	for i := k.Next(k.VerbAt); i >= 0; i = k.Next(i) {
		out = append(out, k.Arg(i))
	}
	return out
}

// reportDevDependencies reports a whole-project install with
// devDependencies that a build follows, when nothing prunes them.
func reportDevDependencies(p *rewrite.Pass, m *runmodel.Model, r *runmodel.Run) {
	st := m.State(r.In)
	env := func(c *runmodel.Cmd) func(string) (string, bool) {
		return func(name string) (string, bool) {
			for i := len(r.Assigns) - 1; i >= 0; i-- {
				if a := r.Assigns[i]; a.Name == name && a.Before(c) {
					return a.Value.Value()
				}
			}
			v, ok := st.Env[name]
			if ok && !v.Known {
				return "production", true // a value dfopt cannot know may be production
			}
			return v.Value, ok
		}
	}
	for _, k := range r.AllCalls() {
		if !runmodel.DevInstall(k, env(k.Cmd)) {
			continue
		}
		var build *runmodel.Cmd
		var buildIn *rewrite.Instruction
		pruned := false
		look := func(c *runmodel.Cmd, in *rewrite.Instruction) {
			if build == nil && runmodel.BuildScript(c) {
				build, buildIn = c, in
			}
			if runmodel.DevPruned(c) {
				pruned = true
			}
		}
		for _, c := range r.Cmds {
			if runmodel.Before(k.Cmd, c) {
				look(c, r.In)
			}
		}
		ship := p.Doc.Shipping()
		for _, in := range m.Steps(r.In) {
			if x := m.Run(in); x != nil && ship[in.Stage] {
				for _, c := range x.Cmds {
					look(c, in)
				}
			}
		}
		if build == nil || pruned {
			continue
		}
		p.Report(rewrite.Finding{Line: r.In.StartLine, Message: fmt.Sprintf(
			"%s installs the devDependencies for the build at line %d (%s), and they ship in the image with the application: build in a builder stage, and install with --omit=dev (npm) or --production (yarn, pnpm) where the application runs (not rewritten: pruning them after the build could take out a package the application needs that package.json lists as a devDependency)",
			callName(k), p.InputLine(buildIn.StartLine), cmdText(build))})
	}
}

// useName names the command that uses a tool: "pip install", "gcc".
func useName(c *runmodel.Cmd) string {
	for _, v := range c.Options() {
		if !strings.HasPrefix(v, "-") && c.Name != "gcc" && c.Name != "cc" {
			return c.Name + " " + v
		}
		break
	}
	return c.Name
}

// callName is how a message names a manager's command: "npm ci".
func callName(k runmodel.Call) string {
	if k.VerbAt < 0 {
		return k.Name
	}
	return k.Name + " " + k.Verb
}

// cmdText is a command's name and first literal words, for a message.
func cmdText(c *runmodel.Cmd) string {
	words := []string{c.Name}
	for i := range min(len(c.Args), 2) {
		if v := c.Arg(i); v != "" {
			words = append(words, v)
		}
	}
	return strings.Join(words, " ")
}
