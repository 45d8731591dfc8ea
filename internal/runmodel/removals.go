package runmodel

import (
	"path"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Removal is one operand of an rm or unlink that a RUN runs: what it
// deletes. rmdir deletes only empty folders, so no file, and is left out.
type Removal struct {
	Cmd *Cmd
	// Operand is the operand as the command gets it, or, when it is not
	// known, its literal text before the first expansion.
	Operand string
	// Known says the operand and the folder it is read in are known:
	// Pattern is then the operand made absolute in the command's folder,
	// as a shell pattern (see GlobPattern and MatchGlob); a final slash
	// is kept. Otherwise Prefix is what every path it may delete starts
	// with ("/" when nothing is known).
	Known   bool
	Pattern string
	Prefix  string
	// Recursive says folders go with everything below them (rm -r).
	Recursive bool

	literal string // the folders Pattern starts with that hold no wildcard
}

// Removals lists what the rm and unlink commands of r delete, operand by
// operand, in the order they run. A command run with more words than it
// shows (xargs rm, find -exec rm) gets an operand that is not known.
func (m *Model) Removals(r *Run) []Removal {
	if r == nil {
		return nil
	}
	st := m.State(r.In)
	var out []Removal
	for _, c := range r.Cmds {
		if c.Opaque || !c.Is("rm", "unlink") {
			continue
		}
		cwd := m.Cwd(st, c)
		home, homeKnown := st.Home()
		if c.User != "" {
			home, homeKnown = "/root", c.User == "root" || c.User == "0"
		}
		recursive := false
		var operands []Word
		options := c.Name == "rm"
		for _, a := range c.Args {
			v, lit := a.Value()
			switch {
			case options && lit && v == "--":
				options = false
			case options && lit && strings.HasPrefix(v, "-") && len(v) > 1:
				recursive = recursive || v == "--recursive" || isShortCluster(v) && strings.ContainsAny(v[1:], "rR")
			default:
				operands = append(operands, a)
			}
		}
		rm := Removal{Cmd: c, Recursive: recursive}
		for _, a := range operands {
			out = append(out, removalOf(rm, a, cwd, home, homeKnown))
		}
		if c.MoreArgs {
			rm.Prefix = "/"
			out = append(out, rm)
		}
	}
	return out
}

// removalOf reads one operand, in the folder cwd ("" when not known).
func removalOf(rm Removal, a Word, cwd, home string, homeKnown bool) Removal {
	rm.Operand = a.Text
	pattern, ok := a.GlobPattern()
	text := a.Text
	if tildeWord(a) {
		// The shell puts the home folder in for ~ and ~/…; ~user is some
		// other home.
		rest, plain := strings.CutPrefix(text, "~/")
		if !homeKnown || !plain && text != "~" {
			rm.Prefix = "/"
			return rm
		}
		text = path.Join(home, rest)
		pattern = escapeGlob(home) + strings.TrimPrefix(pattern, "~")
	}
	if !ok {
		switch {
		case path.IsAbs(text):
			rm.Prefix = text
		case cwd != "" && text != "":
			rm.Prefix = path.Join(cwd, text)
		default:
			rm.Prefix = "/" // an expansion may make it any path
		}
		return rm
	}
	if !path.IsAbs(pattern) && cwd == "" || slices.Contains(strings.Split(pattern, "/"), "..") {
		// A folder not known, or a .. that a symbolic link may take
		// anywhere.
		rm.Prefix = "/"
		return rm
	}
	dir := len(pattern) > 1 && strings.HasSuffix(pattern, "/")
	if path.IsAbs(pattern) {
		pattern = path.Clean(pattern)
	} else {
		pattern = path.Join(cwd, pattern)
	}
	if dir && pattern != "/" {
		pattern += "/"
	}
	rm.Known, rm.Pattern = true, pattern
	rm.literal, _ = GlobLiteral(pattern)
	return rm
}

// tildeWord tells whether the shell puts a home folder in for the start of
// the word: an unquoted ~.
func tildeWord(a Word) bool {
	if a.Node == nil || len(a.Node.Parts) == 0 {
		return false
	}
	l, ok := a.Node.Parts[0].(*syntax.Lit)
	return ok && strings.HasPrefix(l.Value, "~")
}

// Removes tells whether the removal, when it runs, deletes the path p (a
// folder when dir): p matches the operand (a folder only with -r), or lies
// below a folder that matches it and the removal is recursive. rm refuses
// to delete "/".
func (rm Removal) Removes(p string, dir bool) bool {
	if !rm.Known || strings.TrimRight(rm.Pattern, "/") == "" {
		return false
	}
	if rm.literal != "/" && p != rm.literal && !strings.HasPrefix(p, rm.literal+"/") {
		return false // what it matches lies elsewhere
	}
	if MatchGlob(rm.Pattern, p, dir) && (!dir || rm.Recursive) {
		return true
	}
	if !rm.Recursive {
		return false
	}
	for a := path.Dir(p); a != "/" && a != "."; a = path.Dir(a) {
		if MatchGlob(rm.Pattern, a, true) {
			return true
		}
	}
	return false
}

// MayRemove tells whether the removal may delete the path p: it surely
// does (Removes), or its operand is not known and may name p or a folder
// above it.
func (rm Removal) MayRemove(p string) bool {
	if rm.Known {
		return rm.Removes(p, false)
	}
	return rm.Prefix == "/" || strings.HasPrefix(p, rm.Prefix)
}

// Deletes returns the places where a command of r may delete or move
// files, as far as the model sees: anywhere for a command it cannot see
// through; what a program of the deleters table names, when its flags say
// it deletes (mv, rm, find -delete, tar --remove-files, gzip without -k);
// the folder git and patch work in; the folders an install makes in the
// project folder (npm ci replaces node_modules). Other known programs read
// and write what they name, but delete nothing.
func (m *Model) Deletes(r *Run, c *Cmd, st State) []Place {
	if c.Opaque || KindOf(c.Name) == Unknown {
		return []Place{Anywhere}
	}
	if KindOf(c.Name) == Packages {
		return m.produced(c, st)
	}
	flags, ok := deleters[c.Name]
	switch {
	case !ok:
		return nil
	case c.Is("gzip", "gunzip", "bzip2", "bunzip2", "xz", "unxz", "lzma", "unlzma"):
		// They replace each file by its (un)compressed self, unless told
		// to keep it or only to write, list or test.
		if c.HasFlag("-k", "--keep", "-c", "--stdout", "--to-stdout", "-t", "--test", "-l", "--list") ||
			c.HasShort('k') || c.HasShort('c') || c.HasShort('t') || c.HasShort('l') {
			return nil
		}
	case len(flags) > 0 && !c.HasFlag(flags...):
		return nil
	}
	places := m.Places(r, c, st)
	switch c.Name {
	case "find":
		// The starting points come before the expression.
		x := *c
		x.Args = nil
		for _, a := range c.Args {
			if v, _ := a.Value(); strings.HasPrefix(v, "-") || v == "(" || v == "!" {
				break
			}
			x.Args = append(x.Args, a)
		}
		places = m.Places(r, &x, st)
		if len(x.Args) == 0 {
			places = append(places, m.cwdPlace(c, st))
		}
	case "git", "patch":
		places = append(places, m.cwdPlace(c, st))
	}
	return places
}

// deleters are the file programs that may delete or move files they name,
// with the flags that make them do so (none: always).
var deleters = map[string][]string{
	"rm": nil, "rmdir": nil, "unlink": nil, "mv": nil, "patch": nil, "git": nil,
	"gzip": nil, "gunzip": nil, "bzip2": nil, "bunzip2": nil, "xz": nil, "unxz": nil, "lzma": nil, "unlzma": nil,
	"find":   {"-delete"},
	"tar":    {"--remove-files"},
	"zip":    {"-m", "--move"},
	"zstd":   {"--rm"},
	"unzstd": {"--rm"},
	"rsync": {"--remove-source-files", "--delete", "--del", "--delete-before", "--delete-during", "--delete-delay",
		"--delete-after", "--delete-excluded"},
}

// cwdPlace is the folder a command works in: anywhere when not known.
func (m *Model) cwdPlace(c *Cmd, st State) Place {
	if cwd := m.Cwd(st, c); cwd != "" {
		return placeOf(cwd)
	}
	return Anywhere
}

// produced returns the folders a package manager's command makes in the
// folder it runs in (everywhere when that folder is not known).
func (m *Model) produced(c *Cmd, st State) []Place {
	mgr := ManagerOf(c)
	if mgr == nil {
		return []Place{Anywhere}
	}
	if len(mgr.Produces) == 0 {
		return nil
	}
	cwd := m.Cwd(st, c)
	if cwd == "" {
		return []Place{Anywhere}
	}
	var out []Place
	for _, p := range mgr.Produces {
		out = append(out, placeOf(path.Join(cwd, p)))
	}
	return out
}

// WriterBefore returns a command of r before c (every command when c is
// nil) that may have written one of places: one the model cannot see
// through, one that names a place (the model does not tell reading from
// writing), a package manager whose installs write there or that makes
// folders there in its project folder. Removals write nothing.
func (m *Model) WriterBefore(r *Run, c *Cmd, places []Place) *Reader {
	st := m.State(r.In)
	for _, x := range r.Cmds {
		if c != nil && !Before(x, c) {
			break
		}
		if x.Opaque {
			return &Reader{In: r.In, Why: x.Why, Unseen: true}
		}
		if x.Is("rm", "rmdir", "unlink") && len(x.Redirs) == 0 {
			continue
		}
		written := m.Places(r, x, st)
		if KindOf(x.Name) == Packages {
			written = append(written, m.produced(x, st)...)
			if mgr := ManagerOf(x); mgr != nil {
				for _, z := range mgr.Zone {
					written = append(written, Place{Path: z})
				}
			}
		}
		for _, p := range written {
			if overlapsAny(p, places) {
				return &Reader{In: r.In, Why: x.Name + " names " + p.String()}
			}
		}
	}
	return nil
}

// MountTargets returns the folders (or files) the RUN's --mount flags put
// over the image, made absolute in its working folder: what a command
// deletes there is the mount's, not the image's. known is false when a
// target cannot be told (a variable, a relative one in a folder not known,
// a flag that does not read).
func (m *Model) MountTargets(r *Run) (targets []string, known bool) {
	wd := m.State(r.In).Workdir
	for _, mt := range r.Mounts {
		t := strings.Trim(mt.Target, `"'`)
		switch {
		case mt.Valid && t == "" && mt.Type == "secret":
			targets = append(targets, "/run/secrets") // the default is /run/secrets/ID
		case mt.Valid && t == "" && mt.Type == "ssh":
			targets = append(targets, "/run/buildkit") // the default is /run/buildkit/ssh_agent.N
		case !mt.Valid || t == "" || strings.Contains(t, "$"):
			return nil, false
		case path.IsAbs(t):
			targets = append(targets, path.Clean(t))
		case wd == "":
			return nil, false
		default:
			targets = append(targets, path.Join(wd, t))
		}
	}
	return targets, true
}
