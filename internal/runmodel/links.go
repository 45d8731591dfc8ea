package runmodel

import (
	"path"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// Links is what the model knows of the symbolic links of a stage up to a
// point: links RUNs made with ln -s, the links of merged-/usr systems, and
// the places under which links it cannot see may lie (what a RUN the model
// cannot see through, or a COPY or ADD of a folder, may have brought).
type Links struct {
	links   [][2]string // link, target: absolute, clean
	unknown []string    // places that may hold links to anywhere ("/": everywhere)
	anyTo   []string    // links whose target the model cannot read: a path through one may lead anywhere
}

// touch tells whether a place a RUN touches may be, through the links, a
// place of the copy (both clean absolute paths, or "/").
func (l *Links) Touch(place, top string) bool {
	if nested(place, top) {
		return true
	}
	for _, u := range l.unknown {
		if nested(place, u) || nested(top, u) {
			return true
		}
	}
	for _, lk := range l.anyTo {
		if nested(place, lk) || nested(top, lk) {
			return true
		}
	}
	for _, lk := range l.links {
		near := func(p string) bool { return nested(p, lk[0]) || nested(p, lk[1]) }
		if near(place) && near(top) {
			return true
		}
	}
	return false
}

// LinksBefore gathers the links of the stage (and the stages it is built
// FROM) before instruction upto.
func (m *Model) LinksBefore(ctx *rewrite.BuildContext, st *rewrite.Stage, upto int) *Links {
	l := &Links{}
	for _, d := range []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"} {
		l.links = append(l.links, [2]string{"/" + d, "/usr/" + d}) // merged /usr
	}
	var before []*rewrite.Instruction
	for s := m.Doc.Parent(st); s != nil; s = m.Doc.Parent(s) {
		before = append(slices.Clone(s.Instructions), before...)
	}
	before = append(before, st.Instructions[:upto]...)
	for _, in := range before {
		l.AddStep(ctx, m, in)
	}
	return l
}

// AddStep records the links an instruction may make: a RUN's, or those a
// COPY or ADD may bring.
func (l *Links) AddStep(ctx *rewrite.BuildContext, m *Model, in *rewrite.Instruction) {
	switch c := in.Command.(type) {
	case *instructions.RunCommand:
		l.AddRun(m, m.Run(in))
	case *instructions.CopyCommand:
		l.addCopy(ctx, m, in, c.SourcePaths, c.DestPath, c.From != "")
	case *instructions.AddCommand:
		l.addCopy(ctx, m, in, c.SourcePaths, c.DestPath, true)
	}
}

// AddRun records the links a RUN may make: ln -s with operands the model
// can read; anywhere for what it cannot see through; the places of the
// commands that copy or unpack trees (cp, mv, tar, unzip, rsync, git).
func (l *Links) AddRun(m *Model, r *Run) {
	st := m.State(r.In)
	for _, c := range r.Cmds {
		switch {
		case c.Opaque:
			l.unknown = append(l.unknown, "/")
		case c.Is("ln"):
			l.addLn(m, r, c, st)
		case c.Is("cp", "mv", "tar", "unzip", "rsync", "git", "cpio", "7z", "install", "bsdtar", "busybox"):
			for _, p := range m.Places(r, c, st) {
				l.unknown = append(l.unknown, placePath(p))
			}
		}
	}
}

// addLn records the link an ln -s makes (TARGET LINK: LINK, or LINK/TARGET's
// name when LINK is a folder), or anywhere when its words cannot be read.
func (l *Links) addLn(m *Model, r *Run, c *Cmd, st State) {
	var ops []string
	symbolic, targetKnown := false, true
	for i, a := range c.Args {
		v, ok := a.Value()
		if !ok && i == len(c.Args)-2 && len(ops) == 0 && a.Text != "" && !strings.HasPrefix(a.Text, "-") && !a.Glob {
			// ln -s /usr/share/zoneinfo/$TZ /etc/localtime: the link is
			// known, where it leads is not (a word that starts with a
			// path is a path, as Places reads it).
			ops, targetKnown = append(ops, ""), false
			continue
		}
		if !ok {
			l.unknown = append(l.unknown, "/")
			return
		}
		if strings.HasPrefix(v, "-") {
			symbolic = symbolic || v == "-s" || v == "--symbolic" || !strings.HasPrefix(v, "--") && strings.Contains(v, "s")
			if v == "-t" || v == "--target-directory" || strings.HasPrefix(v, "--target-directory=") || v == "-S" || v == "--suffix" {
				l.unknown = append(l.unknown, "/") // forms the rule does not follow
				return
			}
			continue
		}
		ops = append(ops, v)
	}
	if !symbolic {
		return // a hard link is no path to elsewhere
	}
	cwd := m.Cwd(st, c)
	abs := func(p string) string {
		switch {
		case path.IsAbs(p):
			return path.Clean(p)
		case cwd == "":
			return "/"
		}
		return path.Join(cwd, p)
	}
	if len(ops) != 2 {
		l.unknown = append(l.unknown, "/")
		return
	}
	target, link := ops[0], abs(ops[1])
	if !targetKnown {
		// LINK may also be a folder, where the link goes in with a name
		// the model cannot read: anywhere below it.
		l.anyTo = append(l.anyTo, link)
		return
	}
	if !path.IsAbs(target) {
		target = path.Join(path.Dir(link), target)
	}
	l.links = append(l.links, [2]string{link, path.Clean(target)}, [2]string{path.Join(link, path.Base(target)), path.Clean(target)})
}

// addCopy records where a COPY or ADD may bring links: under its
// destination, unless the build context shows that its sources hold none.
func (l *Links) addCopy(ctx *rewrite.BuildContext, m *Model, in *rewrite.Instruction, srcs []string, dest string, unknown bool) {
	st := m.State(in)
	d, ok := st.Expand(m.Lex, dest)
	switch {
	case !ok:
		l.unknown = append(l.unknown, "/")
		return
	case !path.IsAbs(d) && st.Workdir == "":
		l.unknown = append(l.unknown, "/")
		return
	case !path.IsAbs(d):
		d = path.Join(st.Workdir, d)
	}
	if !unknown && ctx != nil && !contextHasLinks(ctx, srcs) {
		return
	}
	if !unknown && ctx == nil && !slices.ContainsFunc(srcs, mayBeFolder) {
		return // files: a link among the sources is followed, not copied
	}
	l.unknown = append(l.unknown, path.Clean(d))
}

// mayBeFolder tells whether a COPY source may name a folder (whose links
// COPY copies as links) when the build context cannot be read: anything
// but a name with an extension.
func mayBeFolder(src string) bool {
	base := path.Base(src)
	switch {
	case strings.HasSuffix(src, "/") || strings.ContainsAny(src, "*?[$") || base == "." || base == "/":
		return true
	}
	return !strings.Contains(strings.TrimPrefix(base, "."), ".")
}

// contextHasLinks tells whether a COPY's sources may hold symbolic links:
// a source that is or holds one in the build context, or one the rule
// cannot read.
func contextHasLinks(ctx *rewrite.BuildContext, srcs []string) bool {
	files, err := ctx.Files()
	if err != nil {
		return true
	}
	for _, src := range srcs {
		if strings.ContainsAny(src, "$") {
			return true
		}
		clean := strings.TrimPrefix(path.Clean("/"+src), "/")
		for _, f := range files {
			if !f.Link {
				continue
			}
			if clean == "" || clean == "." || f.Path == clean || strings.HasPrefix(f.Path, clean+"/") || strings.ContainsAny(clean, "*?[") {
				return true
			}
		}
	}
	return false
}

// placePath is a place of the model as the rule compares paths: its path
// when it is absolute, else "/".
func placePath(p Place) string {
	if p.Any || p.Home || p.Rel {
		return "/"
	}
	return p.Path
}
