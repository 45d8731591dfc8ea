package runmodel

import (
	"maps"
	"path"
	"slices"
	"strings"
)

// Footprint estimates what a RUN puts in the image or takes out of it, as
// far as its literal words tell: paths and packages. It is an estimate for
// deciding where merging RUNs reclaims bytes, never a proof of safety.
type Footprint struct {
	Paths []string
	Pkgs  map[string][]string // manager -> packages ("*": any)
}

func (f *Footprint) addPkg(mgr string, names ...string) {
	if f.Pkgs == nil {
		f.Pkgs = map[string][]string{}
	}
	f.Pkgs[mgr] = append(f.Pkgs[mgr], names...)
}

// operands lists the literal operands of a manager call after its verb,
// skipping options and the values of its valued options.
func (k Call) operands() []string {
	var out []string
	for i := k.Next(k.VerbAt); i >= 0; i = k.Next(i) {
		if v := k.Arg(i); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Written estimates what the RUN writes: every literal word (paths and
// names), the base names of URLs it fetches, the files it redirects into,
// the packages it installs and the caches of the managers it runs.
func (r *Run) Written() Footprint {
	var f Footprint
	for _, c := range r.Cmds {
		if c.Opaque {
			continue
		}
		for _, a := range c.Args {
			w, ok := a.Pattern()
			if !ok || w == "" {
				continue
			}
			f.Paths = append(f.Paths, w)
			if i := strings.Index(w, "://"); i > 0 {
				f.Paths = append(f.Paths, path.Base(w[i+3:]))
			}
		}
		for _, rd := range c.Redirs {
			if v, ok := rd.Target.Pattern(); ok && rd.Write {
				f.Paths = append(f.Paths, v)
			}
		}
		m := ManagerOf(c)
		if m == nil {
			continue
		}
		k := m.Read(c)
		if !k.Installs() && !k.Refreshes() {
			continue
		}
		if !k.NoCacheFlag() {
			for _, cache := range m.Caches {
				f.Paths = append(f.Paths, cache.Dir)
			}
		}
		names := k.operands()
		for i, a := range c.Args {
			if (a.Is("--virtual") || a.Is("-t")) && m.Name == "apk" && i+1 < len(c.Args) {
				names = append(names, c.Arg(i+1)) // apk's virtual package
			}
		}
		f.addPkg(m.Name, names...)
	}
	return f
}

// Removed estimates what the RUN takes out: what it deletes by name (see
// Deleted), and the caches and packages a clean-up verb (apt-get clean,
// autoremove, prune) may take out.
func (r *Run) Removed() Footprint {
	f := r.Deleted()
	for _, c := range r.Cmds {
		m := ManagerOf(c)
		if c.Opaque || m == nil {
			continue
		}
		k := m.Read(c)
		if k.VerbAt >= 0 && (k.Verb == "autoremove" || k.Verb == "prune" || m.Clean != "" && strings.HasPrefix(m.Clean, k.Verb+" ") || m.Clean == k.Verb) {
			for _, cache := range m.Caches {
				f.Paths = append(f.Paths, cache.Dir)
			}
			f.addPkg(m.Name, "*")
		}
	}
	return f
}

// Left estimates what the RUN writes and does not remove again itself:
// what its layer ships.
func (r *Run) Left() Footprint {
	return r.Written().less(r.Removed())
}

// less is what of f a removal rm does not take out.
func (f Footprint) less(rm Footprint) Footprint {
	var out Footprint
	for _, p := range f.Paths {
		if !rm.coversPath(p) {
			out.Paths = append(out.Paths, p)
		}
	}
	for mgr, names := range f.Pkgs {
		for _, n := range names {
			if !slices.Contains(rm.Pkgs[mgr], n) && !slices.Contains(rm.Pkgs[mgr], "*") {
				out.addPkg(mgr, n)
			}
		}
	}
	return out
}

// ManagerLeft is what the RUN surely leaves in its layer through a package
// manager: the packages it installs by name and the caches at fixed system
// folders (apt's lists, apk's index, ...) of the managers it runs to install
// or refresh (an index only when it refreshes it), less what the RUN
// removes itself. Unlike Written, no word is
// taken for a path: what this names is there for sure.
func (r *Run) ManagerLeft() Footprint {
	return r.ManagerWritten().less(r.Removed())
}

// ManagerWritten is what the RUN surely writes through a package manager
// (see ManagerLeft), whatever it removes afterwards.
func (r *Run) ManagerWritten() Footprint {
	var w Footprint
	mounted := r.CacheTargets()
	for _, c := range r.Cmds {
		if c.Opaque {
			continue
		}
		m := ManagerOf(c)
		if m == nil {
			continue
		}
		k := m.Read(c)
		if !k.Installs() && !k.Refreshes() {
			continue
		}
		if !k.NoCacheFlag() {
			for _, cache := range m.Caches {
				if cache.Index && !k.Refreshes() && !k.RefreshFlag() {
					continue // an install reads the index; a refresh writes it
				}
				if !path.IsAbs(cache.Dir) || len(cache.Env) > 0 || slices.ContainsFunc(mounted, func(t string) bool {
					t = path.Clean(t)
					return t == cache.Dir || strings.HasPrefix(cache.Dir, t+"/") || strings.HasPrefix(t, cache.Dir+"/")
				}) {
					continue
				}
				w.Paths = append(w.Paths, cache.Dir)
			}
		}
		if k.Installs() {
			w.addPkg(m.Name, k.operands()...)
		}
	}
	return w
}

// Deleted is what the RUN names for removal: rm, rmdir and unlink operands,
// and packages a manager removes by name. Unlike Removed, a clean-up verb
// (apt-get clean, autoremove) counts for nothing: what it takes out depends
// on the image.
func (r *Run) Deleted() Footprint {
	var f Footprint
	for _, c := range r.Cmds {
		if c.Opaque {
			continue
		}
		if c.Is("rm", "rmdir", "unlink") {
			for _, a := range c.Args {
				if v, ok := a.Pattern(); ok && !strings.HasPrefix(v, "-") {
					f.Paths = append(f.Paths, v)
				}
			}
			continue
		}
		if m := ManagerOf(c); m != nil {
			if k := m.Read(c); k.Removes() {
				f.addPkg(m.Name, k.operands()...)
			}
		}
	}
	return f
}

// Reclaimed names the first thing of w that removing what f names takes
// out ("" when nothing): a package, as "MANAGER package NAME", or a path.
func (f Footprint) Reclaimed(w Footprint) string {
	for _, mgr := range slices.Sorted(maps.Keys(f.Pkgs)) {
		installed := w.Pkgs[mgr]
		for _, n := range f.Pkgs[mgr] {
			if slices.Contains(installed, n) {
				return mgr + " package " + n
			}
		}
	}
	for _, t := range f.Paths {
		t = LiteralPrefix(t)
		if t == "" || t == "/" || t == "." {
			continue
		}
		for _, p := range w.Paths {
			if q := LiteralPrefix(p); q == t || strings.HasPrefix(q, t+"/") || strings.HasPrefix(t, q+"/") && strings.Count(q, "/") >= 2 {
				return p
			}
		}
	}
	return ""
}

// coversPath tells whether a removal takes p away.
func (f Footprint) coversPath(p string) bool {
	p = LiteralPrefix(p)
	for _, t := range f.Paths {
		if t = LiteralPrefix(t); t != "" && t != "/" && (p == t || strings.HasPrefix(p, t+"/")) {
			return true
		}
	}
	return false
}

// Reclaims tells whether removing what f names can reclaim something that w
// wrote: a path inside, or equal to, one written; or a package installed.
func (f Footprint) Reclaims(w Footprint) bool {
	for mgr, names := range f.Pkgs {
		installed := w.Pkgs[mgr]
		for _, n := range names {
			if len(installed) > 0 && n == "*" || slices.Contains(installed, n) {
				return true
			}
		}
	}
	for _, t := range f.Paths {
		t = LiteralPrefix(t)
		if t == "" || t == "/" || t == "." {
			continue
		}
		for _, p := range w.Paths {
			p = LiteralPrefix(p)
			if p == "" || p == "/" || p == "." {
				continue
			}
			if p == t || strings.HasPrefix(p, t+"/") || strings.HasPrefix(t, p+"/") && strings.Count(p, "/") >= 2 {
				return true
			}
		}
	}
	return false
}

// LiteralPrefix cuts a path at its first glob character and drops a final
// slash: the folder a pattern lies in, as far as it is literal.
func LiteralPrefix(p string) string {
	if i := strings.IndexAny(p, "*?["); i >= 0 {
		p = p[:i]
	}
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
	}
	return p
}

// Fetches tells whether the RUN may fetch from the network: a download
// program, a package manager's install or refresh, or something the model
// cannot see through.
func (r *Run) Fetches() bool {
	for _, c := range r.Cmds {
		if c.Opaque || KindOf(c.Name) == Fetch {
			return true
		}
		if m := ManagerOf(c); m != nil {
			if k := m.Read(c); k.Installs() || k.Refreshes() || k.VerbAt < 0 {
				return true
			}
		}
	}
	return false
}
