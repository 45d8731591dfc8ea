package runmodel

import (
	"cmp"
	"fmt"
	"path"
	"strings"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// Cwd returns the folder a command runs in ("" when not known).
func (m *Model) Cwd(st State, c *Cmd) string {
	if !c.CwdKnown {
		return ""
	}
	switch {
	case path.IsAbs(c.Cwd):
		return c.Cwd
	case st.Workdir == "":
		return ""
	case c.Cwd == "":
		return st.Workdir
	}
	return path.Join(st.Workdir, c.Cwd)
}

// lookup gives the variables whose value a command of r sees for sure: HOME
// and PWD when known, and ENV values no build argument and no assignment of
// the program can change.
func (m *Model) lookup(r *Run, c *Cmd, st State) Lookup {
	return func(name string) (string, bool) {
		if _, ok := c.Assigns[name]; ok {
			return "", false
		}
		for _, a := range r.Assigns {
			if a.Name == name {
				return "", false
			}
		}
		switch name {
		case "HOME":
			return st.Home()
		case "PWD":
			cwd := m.Cwd(st, c)
			return cwd, cwd != ""
		}
		v, ok := st.Env[name]
		if !ok || !v.Known || !v.Fixed {
			return "", false
		}
		return v.Value, true
	}
}

// Places lists the places a command of r may touch, as far as its words
// tell: every argument (and the value of a --flag=value), and every
// redirection; Anywhere for a command the model cannot see through. Pure
// commands touch only their redirections.
func (m *Model) Places(r *Run, c *Cmd, st State) []Place {
	if c.Opaque {
		return []Place{Anywhere}
	}
	cwd := m.Cwd(st, c)
	home, _ := st.Home()
	if c.User != "" && c.User != "root" && c.User != "0" {
		home = ""
	} else if c.User != "" {
		home = "/root"
	}
	look := m.lookup(r, c, st)
	files := KindOf(c.Name) != Packages
	var out []Place
	add := func(w Word) {
		v, prefix, ok := w.Text, w.Text, w.Lit
		if w.Node != nil {
			v, prefix, ok = ExpandPath(w.Node, look)
		}
		if ok && cwd == "" && !pathLike(v) && !files {
			return // a package manager's bare word is a name, not a path
		}
		out = append(out, wordPlace(v, prefix, ok, cwd, home))
	}
	for _, rd := range c.Redirs {
		add(rd.Target)
	}
	if KindOf(c.Name) == Pure {
		return out
	}
	for i, a := range c.Args {
		if v, ok := a.Value(); ok && strings.HasPrefix(v, "-") {
			if _, val, has := strings.Cut(v, "="); has && val != "" {
				out = append(out, wordPlace(val, val, true, cwd, home))
			}
			continue
		}
		_ = i
		add(a)
	}
	if c.MoreArgs {
		out = append(out, Anywhere)
	}
	return out
}

// pathLike tells whether a word reads as a path: absolute, relative with a
// slash, or a dot name (.npm).
func pathLike(w string) bool {
	return strings.ContainsAny(w, "/~") || strings.HasPrefix(w, ".")
}

// Reader is a later step that may read what a RUN left, and why.
type Reader struct {
	In  *rewrite.Instruction
	Why string
	// Unseen says the step runs something the model cannot see through,
	// which may read it or not; a step that surely reads it wins over one
	// that is Unseen.
	Unseen bool
}

// ReadCheck tells why a command of a later RUN reads what is asked about,
// or "".
type ReadCheck func(r *Run, c *Cmd, st State) string

// LaterReader returns the first step after in that may read one of places
// or, through check, what a package manager left: a RUN (or ONBUILD RUN)
// of in's stage or of a stage built FROM it that runs something the model
// cannot see through, names one of the places, or that check accepts; or a
// COPY --from or RUN --mount from=… anywhere that takes one of the places
// from those stages. nil when there is none.
func (m *Model) LaterReader(in *rewrite.Instruction, places []Place, check ReadCheck) *Reader {
	return m.LaterReaderSkipping(in, places, check, nil)
}

// LaterReaderSkipping is LaterReader that passes over the steps skip accepts
// (steps a rule changes alike, say).
func (m *Model) LaterReaderSkipping(in *rewrite.Instruction, places []Place, check ReadCheck, skip func(*rewrite.Instruction) bool) *Reader {
	var unseen *Reader
	for _, x := range m.Steps(in) {
		if skip != nil && skip(x) {
			continue
		}
		r := m.Run(x)
		if r == nil {
			continue
		}
		st := m.State(x)
		for _, c := range r.Cmds {
			if rd := m.reads(r, c, st, places, check); rd != nil {
				if !rd.Unseen {
					return rd
				}
				unseen = cmp.Or(unseen, rd)
			}
		}
	}
	return cmp.Or(m.fromReader(in, places), unseen)
}

// reads tells whether command c of RUN r may read one of places or what
// check looks for.
func (m *Model) reads(r *Run, c *Cmd, st State, places []Place, check ReadCheck) *Reader {
	if c.Opaque {
		return &Reader{r.In, c.Why, true}
	}
	if check != nil {
		if why := check(r, c, st); why != "" {
			return &Reader{In: r.In, Why: why}
		}
	}
	if c.Is("rm", "rmdir", "unlink") && len(c.Redirs) == 0 {
		return nil // removing reads nothing
	}
	for _, p := range m.Places(r, c, st) {
		if overlapsAny(p, places) {
			return &Reader{In: r.In, Why: fmt.Sprintf("%s names %s", c.Name, p)}
		}
	}
	return nil
}

// fromReader finds a COPY --from or RUN --mount from=… that takes one of
// places from in's stage or a stage built FROM it.
func (m *Model) fromReader(in *rewrite.Instruction, places []Place) *Reader {
	if in.Stage == nil {
		return nil
	}
	family := map[*rewrite.Stage]bool{in.Stage: true}
	for _, s := range m.Doc.Descendants(in.Stage) {
		family[s] = true
	}
	names := func(ref string) bool {
		if strings.Contains(ref, "$") {
			return true // a stage named by a build argument could be any
		}
		for s := range family {
			if strings.EqualFold(ref, s.Name) || ref == fmt.Sprint(s.Index) {
				return true
			}
		}
		return false
	}
	for _, x := range m.Doc.Instructions {
		if x.Stage == nil || x.Stage.Index <= in.Stage.Index && x.Stage != in.Stage {
			continue
		}
		if x.Stage == in.Stage && x.StartLine <= in.StartLine {
			continue
		}
		var from string
		var srcs []string
		switch c := x.Command.(type) {
		case *instructions.CopyCommand:
			from, srcs = c.From, c.SourcePaths
		case *instructions.RunCommand:
			for _, mt := range readMounts(x.Node.Flags) {
				if mt.From != "" && names(mt.From) {
					src := mt.Source
					if src == "" {
						src = "/"
					}
					if overlapsAny(placeOfSource(src), places) {
						return &Reader{In: x, Why: "mounts " + src + " from the stage"}
					}
				}
			}
			continue
		default:
			continue
		}
		if from == "" || !names(from) {
			continue
		}
		for _, s := range srcs {
			src := s
			if strings.Contains(s, "$") {
				// BuildKit expands the source with the variables of the
				// COPY's own stage.
				if v, ok := m.State(x).Expand(m.Lex, s); ok {
					src = v
				}
			}
			if overlapsAny(placeOfSource(src), places) {
				return &Reader{In: x, Why: "copies " + s + " from the stage"}
			}
		}
	}
	return nil
}

// placeOfSource is the place a COPY --from source names in the stage.
func placeOfSource(src string) Place {
	if strings.Contains(src, "$") {
		return Anywhere
	}
	if !path.IsAbs(src) {
		src = "/" + src // relative to the stage's root (its WORKDIR is not used by COPY --from)
	}
	return wordPlace(src, src, true, "/", "")
}

func overlapsAny(p Place, places []Place) bool {
	for _, q := range places {
		if p.Overlaps(q) {
			return true
		}
	}
	return false
}

// CachePlaces returns where a manager keeps its caches for a command of a
// RUN in state st (Index caches alone with onlyIndex): the folder a variable
// names when it is set, else the table's folder in the user's home.
func (m *Model) CachePlaces(mgr *Manager, st State, c *Cmd, onlyIndex bool) []Place {
	home, known := st.Home()
	if c != nil && c.User != "" {
		home, known = "", c.User == "root" || c.User == "0"
		if known {
			home = "/root"
		}
	}
	var out []Place
	for _, cache := range mgr.Caches {
		if onlyIndex && !cache.Index {
			continue
		}
		out = append(out, cachePlace(cache, st, c, home, known))
	}
	return out
}

func cachePlace(cache Cache, st State, c *Cmd, home string, homeKnown bool) Place {
	for _, e := range cache.Env {
		name, sub, _ := strings.Cut(e, "/")
		var val string
		var set, known bool
		if c != nil {
			if w, ok := c.Assigns[name]; ok {
				val, known = w.Value()
				set = true
			}
		}
		if !set {
			if v, ok := st.Env[name]; ok {
				val, set, known = v.Value, true, v.Known
			}
		}
		if !set {
			continue
		}
		if !known || !path.IsAbs(val) {
			return Anywhere
		}
		return placeOf(path.Join(val, sub))
	}
	rel, inHome := strings.CutPrefix(cache.Dir, "~/")
	switch {
	case !inHome:
		return Place{Path: cache.Dir}
	case homeKnown:
		return placeOf(path.Join(home, rel))
	}
	return Place{Path: "/" + rel, Home: true}
}

// RefreshedBefore tells whether the RUN fetches the manager's index before
// command c, in a command that runs whenever c does.
func RefreshedBefore(r *Run, mgr *Manager, c *Cmd) bool {
	for _, k := range r.Calls(mgr) {
		if k.Cmd == c || !Dominates(k.Cmd, c) {
			continue
		}
		if k.Refreshes() || k.RefreshFlag() {
			return true
		}
	}
	return false
}

// ReaderIn returns a command of r that may read one of places: after
// command after (every command when after is nil), one the model cannot
// see through, one that names a place, or one check accepts. Removals
// read nothing.
func (m *Model) ReaderIn(r *Run, after *Cmd, places []Place, check ReadCheck) *Reader {
	return m.ReaderInExcept(r, after, places, check, nil)
}

// ReaderInExcept is ReaderIn that passes over the commands except accepts
// (the tool whose cache is asked about, which check judges alone).
func (m *Model) ReaderInExcept(r *Run, after *Cmd, places []Place, check ReadCheck, except func(*Cmd) bool) *Reader {
	st := m.State(r.In)
	var unseen *Reader
	for _, c := range r.Cmds {
		if after != nil && !Before(after, c) {
			continue
		}
		if except != nil && except(c) {
			if check != nil {
				if why := check(r, c, st); why != "" {
					return &Reader{In: r.In, Why: why}
				}
			}
			continue
		}
		if rd := m.reads(r, c, st, places, check); rd != nil {
			if !rd.Unseen {
				return rd
			}
			unseen = cmp.Or(unseen, rd)
		}
	}
	return unseen
}

// EarlierWriter returns a step before in, in its stage or a stage it is
// built FROM, that may have put files in one of places: a COPY or ADD to
// them (or to where the model cannot tell), a RUN that names them or runs
// something the model cannot see through. The RUNs skip accepts are passed
// over (a rule changes them alike). A cache mount over places would hide
// what such a step left.
func (m *Model) EarlierWriter(in *rewrite.Instruction, places []Place, skip func(*rewrite.Instruction) bool) *Reader {
	if in.Stage == nil {
		return nil
	}
	var before []*rewrite.Instruction
	for s := m.Doc.Parent(in.Stage); s != nil; s = m.Doc.Parent(s) {
		before = append(s.Instructions[1:len(s.Instructions):len(s.Instructions)], before...)
	}
	for _, x := range in.Stage.Instructions[1:] {
		if x == in {
			break
		}
		before = append(before, x)
	}
	for _, x := range before {
		if skip != nil && skip(x) {
			continue
		}
		var dest string
		switch c := x.Command.(type) {
		case *instructions.CopyCommand:
			dest = c.DestPath
		case *instructions.AddCommand:
			dest = c.DestPath
		case *instructions.RunCommand:
			if r := m.ReaderIn(m.Run(x), nil, places, nil); r != nil {
				return r
			}
			continue
		default:
			continue
		}
		st := m.State(x)
		d, ok := st.Expand(m.Lex, dest)
		if !ok || !path.IsAbs(d) && st.Workdir == "" {
			return &Reader{In: x, Why: "copies to where dfopt cannot tell"}
		}
		if !path.IsAbs(d) {
			d = path.Join(st.Workdir, d)
		}
		if overlapsAny(placeOf(d), places) {
			return &Reader{In: x, Why: "copies into " + d}
		}
	}
	return nil
}
