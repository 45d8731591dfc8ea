package runmodel

import (
	"path"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Place is a part of the file system a command may touch: Path and all
// below it. An absolute Path is known; Home says Path is relative to a home
// folder the model does not know ("/.npm" in some home); Any says the place
// cannot be told at all (the whole file system).
type Place struct {
	Path string
	Home bool
	Rel  bool // Path is relative to a folder the model does not know (taken to be no cache's)
	Any  bool
}

// Anywhere is the place of what the model cannot tell.
var Anywhere = Place{Any: true, Path: "/"}

func (p Place) String() string {
	switch {
	case p.Any:
		return "anywhere"
	case p.Home:
		return "~" + p.Path
	case p.Rel:
		return "…" + p.Path
	}
	return p.Path
}

// Overlaps tells whether two places may share a path: one lies in the
// other. A place in an unknown home overlaps an absolute path that ends with
// the same folders, and the folders a home may be in.
func (p Place) Overlaps(q Place) bool {
	switch {
	case p.Any || q.Any:
		return true
	case (p.Home || p.Rel) && (q.Home || q.Rel):
		return segmentsMeet(p.Path, q.Path) || segmentsMeet(q.Path, p.Path)
	case p.Home || p.Rel:
		return homeOverlaps(p.Path, q.Path, p.Home)
	case q.Home || q.Rel:
		return homeOverlaps(q.Path, p.Path, q.Home)
	}
	return nested(p.Path, q.Path)
}

// nested tells whether one absolute path is the other or lies inside it.
func nested(a, b string) bool {
	return a == b || a == "/" || b == "/" || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

// homeOverlaps tells whether rel, in some folder (a home folder when
// home), may share a path with the absolute path abs.
func homeOverlaps(rel, abs string, home bool) bool {
	if abs == "/" {
		return true
	}
	if segmentsMeet(rel, abs) {
		return true
	}
	// abs may be a folder a home lies in.
	as := strings.Split(strings.TrimPrefix(abs, "/"), "/")
	return home && len(as) <= 2 && (as[0] == "root" || as[0] == "home")
}

// segmentsMeet tells whether some folder/rel may share a path with abs:
// abs holds rel's first folders as a run of its own folders that ends abs
// (abs lies inside folder/rel) or takes all of rel (folder/rel lies in abs).
func segmentsMeet(rel, abs string) bool {
	segs := strings.Split(strings.TrimPrefix(rel, "/"), "/")
	as := strings.Split(strings.TrimPrefix(abs, "/"), "/")
	for i := range as {
		k := 0
		for k < len(segs) && i+k < len(as) && as[i+k] == segs[k] {
			k++
		}
		if k > 0 && (i+k == len(as) || k == len(segs)) {
			return true
		}
	}
	return false
}

// placeOf cleans an absolute path; a path with ".." where a folder before
// it may be a symbolic link is not known: the place is Anywhere.
func placeOf(p string) Place {
	if !path.IsAbs(p) || p == "/proc" || strings.HasPrefix(p, "/proc/") {
		return Anywhere // /proc/self/cwd and /proc/1/root lead anywhere
	}
	if strings.Contains(p, "..") {
		for _, seg := range strings.Split(p, "/") {
			if seg == ".." {
				// /a/b/.. is /a only when /a/b is no symbolic link, which
				// the model cannot tell.
				return Anywhere
			}
		}
	}
	return Place{Path: path.Clean(p)}
}

// Lookup gives the value of a variable when it is known.
type Lookup func(name string) (string, bool)

// ExpandPath reads a word as a path: literal text, quotes, and the
// variables lookup knows ($HOME, ENV values). ok is false when a part of it
// cannot be known; prefix then holds the literal text before that part.
func ExpandPath(w *syntax.Word, lookup Lookup) (value, prefix string, ok bool) {
	var b strings.Builder
	ok = true
	add := func(s string) {
		if ok {
			b.WriteString(s)
		}
	}
	param := func(p *syntax.ParamExp) {
		if !ok {
			return
		}
		if p.Param == nil || p.Exp != nil || p.Slice != nil || p.Repl != nil || p.Index != nil || p.Length || p.Excl || p.Width || lookup == nil {
			ok = false
			return
		}
		v, known := lookup(p.Param.Value)
		if !known {
			ok = false
			return
		}
		b.WriteString(v)
	}
	for _, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			v, _ := unescapeUnquoted(p.Value)
			add(v)
		case *syntax.SglQuoted:
			if p.Dollar {
				ok = false
				continue
			}
			add(p.Value)
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				switch q := q.(type) {
				case *syntax.Lit:
					add(unescapeDouble(q.Value))
				case *syntax.ParamExp:
					param(q)
				default:
					ok = false
				}
			}
		case *syntax.ParamExp:
			param(p)
		default:
			ok = false
		}
	}
	if ok {
		return b.String(), b.String(), true
	}
	return "", b.String(), false
}

// wordPlace is the place a word names, for a command running in cwd ("" when
// not known): the word's value (cut at its first wildcard) resolved against
// cwd. A word that cannot be read names any place that starts with its
// literal prefix. "~/x" is in the home folder home ("" when not known).
func wordPlace(value, prefix string, known bool, cwd, home string) Place {
	p := value
	if !known {
		p = prefix
	}
	glob := false
	if i := strings.IndexAny(p, "*?["); i >= 0 {
		p, glob = p[:i], true
	}
	if !known || glob {
		// Everything that starts with the prefix: cut it to its folder.
		if i := strings.LastIndexByte(p, '/'); i >= 0 {
			p = p[:i+1]
		} else {
			p = ""
		}
		if p == "" {
			return Anywhere
		}
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home == "" {
			rest := strings.TrimPrefix(strings.TrimPrefix(p, "~"), "/")
			if rest == "" {
				return Anywhere
			}
			return Place{Path: path.Clean("/" + rest), Home: true}
		}
		p = home + strings.TrimPrefix(p, "~")
	} else if strings.HasPrefix(p, "~") {
		return Anywhere // ~user
	}
	if !path.IsAbs(p) {
		if cwd == "" {
			return relativePlace(p)
		}
		p = cwd + "/" + p
	}
	return placeOf(p)
}

// relativePlace is where a relative path may be when the folder it is
// relative to is not known: anywhere, but a path made only of names can
// only overlap places holding those names.
//
// The folder is taken to be no cache's folder nor one above a cache but
// "/": a base image's working directory is "/" or a project's folder. So a
// bare name ("mod") is a name in "/", and a path with a dot name or a
// slash ("x/.npm", ".cache/pip") may be the end of any path.
func relativePlace(p string) Place {
	clean := path.Clean(p)
	if clean == "." || strings.HasPrefix(clean, "..") {
		return Anywhere
	}
	if !strings.Contains(clean, "/") && !strings.HasPrefix(clean, ".") {
		return Place{Path: "/" + clean}
	}
	return Place{Path: "/" + clean, Rel: true}
}
