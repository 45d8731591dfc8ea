package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/internal/images"
	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// SlimBase proposes the slim variant of a full official language image
// (python, node, ruby, perl) and the JRE of a JDK image (eclipse-temurin,
// openjdk 8 and 11) for a stage that ships: the full images carry a
// compiler tool chain, version control, curl and -dev libraries an
// application that only runs never uses, most of a gigabyte in every pull.
var SlimBase = &rewrite.Rule{
	Name:  "slim-base",
	Title: "A slim (or JRE) official language image for a stage that ships and only runs (proposal: assumes what the application needs at run time)",
	Kind:  rewrite.Proposal,
	Doc: `The full python, node, ruby and perl images are built on buildpack-deps:
Debian with gcc, g++, make, git, mercurial, subversion, ssh, curl, wget,
procps, ImageMagick and dozens of -dev libraries, about 1 GB. Their -slim
variants hold Debian's slim base, the language and its own tools (pip, npm,
yarn, gem, bundle, cpanm) and apt-get, about 130 to 220 MB. A JDK image
(eclipse-temurin:21, openjdk:11-jdk) carries the compiler and the
development tools a program that only runs java never calls.

The rule looks at the FROM of every stage whose files ship (the last stage
and the stages it is built FROM) when it names such an image with a tag
whose smaller variant exists upstream, spelled as upstream spells it:
python:3.12-bookworm becomes python:3.12-slim-bookworm, node:22-bookworm
node:22-bookworm-slim, eclipse-temurin:21-jdk-jammy
eclipse-temurin:21-jre-jammy; openjdk has JRE images for 8 and 11 only.
A reference pinned by a digest, an alpine or Windows variant, an image
that is slim already, a mirror or another registry, and a FROM whose tag
is made of build arguments without a default before the first FROM get
none. Only the image reference's tag changes; AS, --platform and spacing
stay.

dfopt reads what runs on that base, in the stage and in every stage built
FROM it (shipping or not: they change with it), and what the image runs
(ENTRYPOINT, CMD, HEALTHCHECK), and makes no proposal when:

- a command runs a program the smaller image lacks (curl, wget, git, ssh,
  ps, gcc, make, pg_config, python3 for node-gyp, javac, jar, jcmd, ...)
  and no apt-get install before it in the file brings it back;
- the file builds native code: it runs gcc, make, node-gyp, cpanm or
  python setup.py, or installs a compiler or a -dev package (a build on
  the slim image would also need the full image's -dev libraries, which
  the file does not name), or installs Ruby gems (bundle install, gem
  install: C extensions are the rule there, puma, nio4r, bootsnap, pg,
  psych), or a Python package that publishes no wheel (psycopg2,
  mysqlclient, uwsgi, ...), or runs npm rebuild;
- the last stage sets neither ENTRYPOINT nor CMD: the image is a tool box
  (a dev container, a CI image) whose use the file does not show;
- another stage copies from the stage (COPY --from), or an ONBUILD runs in
  the images built FROM it;
- for a JRE: anything but java (and keytool) runs, or a command the model
  cannot read.

The proposal names what it assumes. pip, uv, poetry and npm, yarn, pnpm
installs are not reasons to skip: today almost every package ships a wheel
or a prebuilt binary for glibc on amd64 and arm64, and one that does not
fails the build loudly (no gcc), never the running image; the proposal
says "assumes every pip package installs from a wheel". Commands the model
cannot read (the application, python manage.py, a script, npm run) may
use anything: the proposal names them and assumes they run none of the
full image's programs and load none of its libraries (libpq, libxml2,
ImageMagick's), which is the one thing a reviewer has to check.

Bad:

    FROM python:3.12
    COPY requirements.txt .
    RUN pip install --no-cache-dir -r requirements.txt
    COPY . .
    CMD ["python", "app.py"]

Good:

    FROM python:3.12-slim
    COPY requirements.txt .
    RUN pip install --no-cache-dir -r requirements.txt
    COPY . .
    CMD ["python", "app.py"]
`,
	Run: runSlimBase,
}

func runSlimBase(p *rewrite.Pass) {
	d := p.Doc
	m := runmodel.Of(d)
	ship := d.Shipping()
	for _, st := range d.Stages {
		if !ship[st] || d.Parent(st) != nil {
			continue
		}
		slimBase(p, m, st)
	}
}

// slimBase looks at one shipping stage that starts from an image.
func slimBase(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage) {
	d := p.Doc
	word, start, end, ok := fromImageWord(d, st.From)
	if !ok {
		return
	}
	literal, ok := expandFromWord(d, word)
	if !ok {
		return
	}
	ref, err := images.Parse(literal)
	if err != nil {
		return
	}
	small, ok := images.SmallerOf(ref)
	if !ok {
		return
	}
	newWord, ok := smallerWord(d, word, literal, small)
	if !ok {
		return
	}
	family := append([]*rewrite.Stage{st}, d.Descendants(st)...)
	if readByOthers(d, m, family) {
		return
	}
	u := &baseUse{small: small, inputLine: p.InputLine}
	if !u.stages(m, family) || !u.startup(d, m, st) {
		return
	}
	full := ref.Official() + ":" + ref.Tag
	if ref.Tag == "" {
		full = ref.Official()
	}
	to := ref.Official() + ":" + small.To
	what := "the full image (compilers, git, curl, -dev libraries)"
	if small.Kind == images.JRE {
		what = "a JDK and the image runs java alone"
	}
	msg := fmt.Sprintf("%s (about %d MB) is %s: %s (about %d MB) would save about %d MB",
		full, small.FullMB, what, to, small.SmallMB, small.FullMB-small.SmallMB)
	msg += " (proposal: " + u.assumptions(to, word != literal) + ")"
	p.Report(rewrite.Finding{
		Line:    st.From.StartLine,
		Message: msg,
		Edits:   []rewrite.Edit{{Start: start, End: end, New: newWord}},
	})
}

// fromImageWord finds the image reference of a FROM in the source: the
// first word after the flags, in one piece of one line.
func fromImageWord(d *rewrite.Document, in *rewrite.Instruction) (word string, start, end int, ok bool) {
	args := in.Args
	lead := len(args) - len(strings.TrimLeft(args, " \t"))
	word, _, _ = strings.Cut(args[lead:], " ")
	word, _, _ = strings.Cut(word, "\t")
	if word == "" {
		return "", 0, 0, false
	}
	off := in.ArgsOff + lead
	start, end = in.SrcOffset(off), in.SrcEnd(off+len(word))
	if end-start != len(word) || string(d.Src[start:end]) != word {
		return "", 0, 0, false
	}
	return word, start, end, true
}

// expandFromWord expands the build arguments of a FROM's image reference
// with the defaults the ARGs before the first FROM give them, as the
// build does without --build-arg; ok is false when one has none.
func expandFromWord(d *rewrite.Document, word string) (string, bool) {
	if !strings.Contains(word, "$") {
		return word, true
	}
	lex := shell.NewLex(d.Escape)
	env := runmodel.Env{}
	for _, in := range d.Instructions {
		if in.Stage != nil {
			break
		}
		arg, ok := in.Command.(*instructions.ArgCommand)
		if !ok {
			continue
		}
		for _, kv := range arg.Args {
			if kv.Value == nil {
				delete(env, kv.Key)
				continue
			}
			res, err := lex.ProcessWordWithMatches(*kv.Value, env)
			if err != nil || len(res.Unmatched) > 0 {
				delete(env, kv.Key)
				continue
			}
			env[kv.Key] = runmodel.Var{Value: res.Result, Known: true}
		}
	}
	res, err := lex.ProcessWordWithMatches(word, env)
	if err != nil || len(res.Unmatched) > 0 {
		return "", false
	}
	return res.Result, true
}

// smallerWord writes the image reference with the smaller tag. A
// reference made of build arguments is edited in its literal tag words
// only (python:${PY} becomes python:${PY}-slim), and only when the new
// reference expands to the smaller image's.
func smallerWord(d *rewrite.Document, word, literal string, small images.Smaller) (string, bool) {
	if word == literal {
		if small.Tag == "" {
			return word + ":" + small.To, true
		}
		return strings.TrimSuffix(word, small.Tag) + small.To, strings.HasSuffix(word, ":"+small.Tag)
	}
	colon := strings.LastIndex(word, ":")
	if colon < 0 || colon < strings.LastIndex(word, "/") || strings.Contains(word[:colon], "$") {
		return "", false // the tag is not a word of its own: FROM ${BASE}
	}
	name, tag := word[:colon+1], word[colon+1:]
	want := strings.TrimSuffix(literal, small.Tag) + small.To
	var candidates []string
	if small.Kind == images.JRE {
		candidates = append(candidates, strings.Replace(tag, "-jdk", "-jre", 1), afterFirstVar(tag, "-jre"))
	} else {
		candidates = append(candidates, tag+"-slim", afterFirstVar(tag, "-slim"))
	}
	for _, c := range candidates {
		if c == "" || c == tag {
			continue
		}
		if got, ok := expandFromWord(d, name+c); ok && got == want {
			return name + c, true
		}
	}
	return "", false
}

// afterFirstVar inserts s right after the first variable reference of
// tag ("${PY}-bookworm" → "${PY}-slim-bookworm"); "" when it has none.
func afterFirstVar(tag, s string) string {
	i := strings.Index(tag, "$")
	if i < 0 {
		return ""
	}
	j := i + 1
	if strings.HasPrefix(tag[j:], "{") {
		k := strings.Index(tag[j:], "}")
		if k < 0 {
			return ""
		}
		j += k + 1
	} else {
		for j < len(tag) && (tag[j] == '_' || tag[j] >= 'a' && tag[j] <= 'z' || tag[j] >= 'A' && tag[j] <= 'Z' || tag[j] >= '0' && tag[j] <= '9') {
			j++
		}
	}
	return tag[:j] + s + tag[j:]
}

// readByOthers tells whether a stage outside the family copies or mounts
// files from it (or from a stage named by a build argument): the files
// it takes may be the full image's.
func readByOthers(d *rewrite.Document, m *runmodel.Model, family []*rewrite.Stage) bool {
	names := func(ref string) bool {
		if strings.Contains(ref, "$") {
			return true
		}
		for _, s := range family {
			if s.Name != "" && strings.EqualFold(ref, s.Name) || ref == fmt.Sprint(s.Index) {
				return true
			}
		}
		return false
	}
	for _, in := range d.Instructions {
		if in.Stage == nil || slices.Contains(family, in.Stage) {
			continue
		}
		if c, ok := in.Command.(*instructions.CopyCommand); ok && c.From != "" && names(c.From) {
			return true
		}
		if r := m.Run(in); r != nil {
			for _, mt := range r.Mounts {
				if mt.From != "" && names(mt.From) || !mt.Valid {
					return true
				}
			}
		}
	}
	return false
}

// baseUse is what the commands on a base image need of it, as far as the
// model sees.
type baseUse struct {
	small     images.Smaller
	inputLine func(int) int // the input's line of a document line
	// installed are the packages apt installs, per stage, so far.
	installed map[*rewrite.Stage]map[string]bool
	wheels    []int    // lines of pip, uv, poetry and pipenv installs
	prebuilt  []int    // lines of npm, yarn, pnpm and bun installs
	unread    []string // commands the model cannot read, with their lines
}

// stages reads the RUNs of the stages on the base, in order; false when
// one of them needs the full image.
func (u *baseUse) stages(m *runmodel.Model, family []*rewrite.Stage) bool {
	u.installed = map[*rewrite.Stage]map[string]bool{}
	for _, st := range family {
		have := map[string]bool{}
		if parent := m.Doc.Parent(st); parent != nil {
			for k := range u.installed[parent] {
				have[k] = true
			}
		}
		u.installed[st] = have
		for _, in := range st.Instructions {
			switch c := in.Command.(type) {
			case *instructions.OnbuildCommand:
				return false // it runs in images built FROM this one, which the file does not show
			case *instructions.RunCommand:
				r := m.Run(in)
				if r == nil || !u.cmds(r.Cmds, in.StartLine, have, true) {
					return false
				}
			case *instructions.CopyCommand:
				// Files of another image (COPY --from=gloursdocker/docker / /)
				// may be programs that load the full image's libraries.
				if from := c.From; from != "" && !stageRef(m.Doc, from) {
					u.unread = append(u.unread, fmt.Sprintf("what COPY --from=%s at line %d brings", from, u.inputLine(in.StartLine)))
				}
			}
		}
	}
	return true
}

// startup reads what the image runs: the last ENTRYPOINT, CMD and
// HEALTHCHECK of the stages that ship, from st on.
func (u *baseUse) startup(d *rewrite.Document, m *runmodel.Model, st *rewrite.Stage) bool {
	var entry, cmd, health *rewrite.Instruction
	ship := d.Shipping()
	last := st
	for _, s := range d.Stages[st.Index:] {
		if !ship[s] {
			continue
		}
		last = s
		for _, in := range s.Instructions {
			switch in.Command.(type) {
			case *instructions.EntrypointCommand:
				entry = in
				if cmd != nil && cmd.Stage != s {
					cmd = nil // ENTRYPOINT resets a CMD set before its stage
				}
			case *instructions.CmdCommand:
				cmd = in
			case *instructions.HealthCheckCommand:
				health = in
			}
		}
	}
	if entry == nil && cmd == nil {
		return false // the base image's own command: a shell or a REPL for whatever the user types
	}
	have := u.installed[last]
	var words []string
	shellForm, posix, line := false, true, 0
	switch {
	case entry != nil:
		e := entry.Command.(*instructions.EntrypointCommand)
		words, shellForm, posix, line = e.CmdLine, e.PrependShell, entry.POSIX, entry.StartLine
		if !e.PrependShell && cmd != nil {
			c := cmd.Command.(*instructions.CmdCommand)
			if c.PrependShell {
				words = append(slices.Clone(words), "/bin/sh", "-c", strings.Join(c.CmdLine, " "))
			} else {
				words = append(slices.Clone(words), c.CmdLine...)
			}
		}
	default:
		c := cmd.Command.(*instructions.CmdCommand)
		words, shellForm, posix, line = c.CmdLine, c.PrependShell, cmd.POSIX, cmd.StartLine
	}
	if !u.cmds(runmodel.Command(words, shellForm, posix).Cmds, line, have, false) {
		return false
	}
	if health != nil {
		h := health.Command.(*instructions.HealthCheckCommand)
		if h.Health != nil && len(h.Health.Test) > 1 {
			test := h.Health.Test
			r := runmodel.Command(test[1:], test[0] == "CMD-SHELL", health.POSIX)
			if !u.cmds(r.Cmds, health.StartLine, have, false) {
				return false
			}
		}
	}
	return true
}

// cmds reads commands in order: false when one needs the full image.
// build says they run in the build (where installs count for later ones).
func (u *baseUse) cmds(cmds []*runmodel.Cmd, line int, have map[string]bool, build bool) bool {
	for _, c := range cmds {
		if c.Name == "" {
			if c.Opaque {
				if u.small.Kind == images.JRE {
					return false
				}
				u.unread = append(u.unread, fmt.Sprintf("a command named by a variable at line %d", u.inputLine(line)))
			}
			continue
		}
		if images.BuildTool(c.Name) || c.Is("cpanm", "cpan") || strings.HasPrefix(c.Name, "python") && c.Arg(0) == "setup.py" {
			return false // it builds native code, against headers only the full image may hold
		}
		if pkgs, lacks := u.small.Lacks(c.Name); lacks && !slices.ContainsFunc(pkgs, func(p string) bool { return have[p] }) {
			return false
		}
		if u.small.Kind == images.JRE {
			if c.Opaque && !c.Is("java", "keytool") {
				return false // a script, a build tool: it may run any JDK tool
			}
			if c.Opaque {
				u.unread = append(u.unread, u.named(c, line))
			}
			continue
		}
		if mgr := runmodel.ManagerOf(c); mgr != nil && build {
			k := mgr.Read(c)
			switch mgr.Name {
			case "apt":
				for i := k.Next(k.VerbAt); i >= 0 && k.Installs(); i = k.Next(i) {
					name, _, _ := strings.Cut(k.Arg(i), "=")
					if images.BuildPackage(name) {
						return false // the file builds native code, which may need more of the full image
					}
					name, _, _ = strings.Cut(name, ":")
					have[name] = true
				}
			case "gem", "bundler":
				if (k.Installs() || k.Verb == "" && mgr.Name == "bundler") && !gemBundlerOnly(k) {
					return false // Ruby gems build C extensions as a rule
				}
			case "pip", "uv", "poetry", "pipenv", "conda":
				if k.Installs() || mgr.Name != "pip" && k.Verb == "sync" {
					for i := k.Next(k.VerbAt); i >= 0; i = k.Next(i) {
						if images.SourceOnly("pip", k.Arg(i)) {
							return false // no wheel: it compiles on every install
						}
					}
					u.wheels = append(u.wheels, line)
				}
			case "npm", "yarn", "pnpm", "bun":
				if k.Verb == "rebuild" {
					return false
				}
				if k.Installs() || k.Verb == "" && mgr.Name == "yarn" {
					u.prebuilt = append(u.prebuilt, line)
				}
			}
		}
		if c.Opaque {
			u.unread = append(u.unread, u.named(c, line))
		}
	}
	return true
}

// named names a command the model cannot read, by its first words.
func (u *baseUse) named(c *runmodel.Cmd, line int) string {
	words := []string{c.Prog.Text}
	for i := 0; i < min(2, len(c.Args)); i++ {
		v, ok := c.Args[i].Value()
		if !ok {
			break
		}
		words = append(words, v)
	}
	if len(c.Args) > len(words)-1 {
		words = append(words, "...")
	}
	return fmt.Sprintf("%s at line %d", strings.Join(words, " "), u.inputLine(line))
}

// gemBundlerOnly tells whether a gem install installs bundler alone, a
// gem without C code.
func gemBundlerOnly(k runmodel.Call) bool {
	if k.M.Name != "gem" || k.VerbAt < 0 {
		return false
	}
	n := 0
	for i := k.Next(k.VerbAt); i >= 0; i = k.Next(i) {
		if k.Arg(i) != "bundler" {
			return false
		}
		n++
	}
	return n > 0
}

// assumptions says what the proposal takes for granted.
func (u *baseUse) assumptions(to string, fromArgs bool) string {
	var out []string
	if len(u.wheels) > 0 {
		out = append(out, fmt.Sprintf("every Python package the install %s brings comes as a wheel, since %s has no compiler", u.atLines(u.wheels), to))
	}
	if len(u.prebuilt) > 0 {
		out = append(out, fmt.Sprintf("every npm package with native code the install %s brings has a prebuilt binary, since %s has no compiler nor python3 for node-gyp", u.atLines(u.prebuilt), to))
	}
	unread := slices.Compact(slices.Clone(u.unread))
	what := "the full image's programs (gcc, git, curl, ps, ...) or libraries (libpq, libxml2, ImageMagick, ...)"
	if u.small.Kind == images.JRE {
		what = "no JDK tool (javac, jar, jcmd, ...) or JDK-only module (jdk.compiler, jdk.attach, ...)"
	}
	who := "the image"
	if len(unread) > 0 {
		if len(unread) > 3 {
			unread = append(unread[:3], "...")
		}
		who = strings.Join(unread, ", ")
	}
	if u.small.Kind == images.JRE {
		out = append(out, who+" uses "+what)
	} else {
		out = append(out, who+" uses none of "+what)
	}
	if fromArgs {
		out = append(out, "a --build-arg given to the FROM names a tag with that variant too")
	}
	return "assumes " + strings.Join(out, "; ")
}

// atLines names the lines of a list: "at line 5", "at lines 5 and 9".
func (u *baseUse) atLines(lines []int) string {
	lines = slices.Clone(lines)
	for i := range lines {
		lines[i] = u.inputLine(lines[i])
	}
	lines = slices.Compact(lines)
	if len(lines) == 1 {
		return fmt.Sprintf("at line %d", lines[0])
	}
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = fmt.Sprint(l)
	}
	return "at lines " + strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// stageRef tells whether COPY --from names a stage of the file (by name or
// index) rather than an image.
func stageRef(d *rewrite.Document, from string) bool {
	if strings.Trim(from, "0123456789") == "" {
		return true
	}
	return slices.ContainsFunc(d.Stages, func(s *rewrite.Stage) bool { return s.Name != "" && strings.EqualFold(s.Name, from) })
}
