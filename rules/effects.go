package rules

import (
	"path"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// effects is what a RUN's program leaves in the file system, or takes out of
// it, as far as its literal words tell: paths and packages. It is an estimate
// for deciding where merging RUNs can reclaim bytes, never a proof of safety.
type effects struct {
	paths []string            // paths named, written or removed
	pkgs  map[string][]string // package manager -> packages installed or removed ("*": any)
}

func (e *effects) addPkg(mgr string, names ...string) {
	if e.pkgs == nil {
		e.pkgs = map[string][]string{}
	}
	e.pkgs[mgr] = append(e.pkgs[mgr], names...)
}

// command is one simple command: its name and its words, "" for a word that
// is not a plain literal.
type command struct {
	name string
	args []string
}

// commandsOf lists the simple commands of a program, wherever they stand.
func commandsOf(f *syntax.File) []command {
	var out []command
	for _, c := range runCommands(f) {
		out = append(out, callCommand(c))
	}
	return out
}

// operands drops flags (words starting with -) and the words after
// subcommand-like positions callers cut off themselves.
func operands(words []string) []string {
	var out []string
	for _, w := range words {
		if w != "" && !strings.HasPrefix(w, "-") {
			out = append(out, w)
		}
	}
	return out
}

// packageManager names the package family of a command and its verb, or "".
func packageManager(c command) (mgr, verb string, rest []string) {
	args := c.args
	switch c.name {
	case "apt-get", "apt", "aptitude":
		mgr = "apt"
	case "apk":
		mgr = "apk"
	case "yum", "dnf", "microdnf", "tdnf", "zypper":
		mgr = "rpm"
	case "pip", "pip3":
		mgr = "pip"
	case "python", "python3":
		if len(args) >= 2 && args[0] == "-m" && (args[1] == "pip" || args[1] == "pip3") {
			mgr, args = "pip", args[2:]
		}
	case "npm", "yarn", "pnpm":
		mgr = "npm"
	case "gem":
		mgr = "gem"
	case "go":
		mgr = "go"
	}
	if mgr == "" {
		return "", "", nil
	}
	for i, a := range args {
		if a != "" && !strings.HasPrefix(a, "-") {
			return mgr, a, args[i+1:]
		}
	}
	return mgr, "", nil
}

// cacheOf names where each package family keeps what it downloads.
var cacheOf = map[string][]string{
	"apt": {"/var/cache/apt", "/var/lib/apt/lists"},
	"apk": {"/var/cache/apk"},
	"rpm": {"/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5", "/var/cache/tdnf", "/var/cache/zypp"},
	"pip": {"/root/.cache/pip"},
	"npm": {"/root/.npm", "/usr/local/share/.cache/yarn", "/root/.cache/yarn", "node_modules"},
	"gem": {"/root/.gem", "/usr/local/bundle/cache"},
	"go":  {"/root/.cache/go-build", "/go/pkg/mod"},
}

var installVerbs = map[string]bool{"install": true, "add": true, "ci": true, "update": true, "upgrade": true, "dist-upgrade": true, "build": true, "get": true, "download": true, "makecache": true}
var removeVerbs = map[string]bool{"remove": true, "purge": true, "autoremove": true, "del": true, "erase": true, "uninstall": true, "prune": true, "clean": true}

// writesOf estimates what a program puts in the file system: every literal
// word (paths and names), the base names of URLs it fetches, packages it
// installs and the caches of the package managers it runs.
func writesOf(f *syntax.File) effects {
	var e effects
	for _, c := range commandsOf(f) {
		for _, w := range c.args {
			if w == "" {
				continue
			}
			e.paths = append(e.paths, w)
			if i := strings.Index(w, "://"); i > 0 {
				e.paths = append(e.paths, path.Base(w[i+3:]))
			}
		}
		mgr, verb, rest := packageManager(c)
		if mgr == "" || !installVerbs[verb] {
			continue
		}
		e.paths = append(e.paths, cacheOf[mgr]...)
		names := operands(rest)
		for i, w := range rest {
			if (w == "--virtual" || w == "-t") && i+1 < len(rest) {
				names = append(names, rest[i+1]) // apk's virtual package
			}
		}
		e.addPkg(mgr, names...)
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		if r, ok := n.(*syntax.Redirect); ok && r.Word != nil && r.Op != syntax.RdrIn && r.Op != syntax.DplIn && r.Op != syntax.Hdoc && r.Op != syntax.DashHdoc && r.Op != syntax.WordHdoc {
			if w := r.Word.Lit(); w != "" {
				e.paths = append(e.paths, w)
			}
		}
		return true
	})
	return e
}

// leftBy estimates what a program writes and does not remove again itself:
// what its layer ships.
func leftBy(f *syntax.File) effects {
	w, r := writesOf(f), removalsOf(f)
	var out effects
	for _, p := range w.paths {
		if !r.coversPath(p) {
			out.paths = append(out.paths, p)
		}
	}
	for mgr, names := range w.pkgs {
		for _, n := range names {
			if !slices.Contains(r.pkgs[mgr], n) && !slices.Contains(r.pkgs[mgr], "*") {
				out.addPkg(mgr, n)
			}
		}
	}
	return out
}

// coversPath tells whether a removal takes p away.
func (r effects) coversPath(p string) bool {
	p = literalPrefix(p)
	for _, t := range r.paths {
		if t = literalPrefix(t); t != "" && t != "/" && (p == t || strings.HasPrefix(p, t+"/")) {
			return true
		}
	}
	return false
}

// removalsOf estimates what a program takes out: rm and rmdir operands,
// packages removed, caches cleaned.
func removalsOf(f *syntax.File) effects {
	var e effects
	for _, c := range commandsOf(f) {
		switch c.name {
		case "rm", "rmdir", "unlink":
			e.paths = append(e.paths, operands(c.args)...)
			continue
		}
		mgr, verb, rest := packageManager(c)
		if mgr == "" || !removeVerbs[verb] {
			continue
		}
		if verb == "clean" || verb == "prune" || verb == "autoremove" {
			e.paths = append(e.paths, cacheOf[mgr]...)
			e.addPkg(mgr, "*")
			continue
		}
		e.addPkg(mgr, operands(rest)...)
	}
	return e
}

// reclaims tells whether removing what r names can reclaim something that w
// wrote: a path inside, or equal to, one written; or a package installed.
func (r effects) reclaims(w effects) bool {
	for mgr, names := range r.pkgs {
		installed := w.pkgs[mgr]
		for _, n := range names {
			if len(installed) > 0 && n == "*" {
				return true
			}
			for _, i := range installed {
				if i == n {
					return true
				}
			}
		}
	}
	for _, t := range r.paths {
		t = literalPrefix(t)
		if t == "" || t == "/" || t == "." {
			continue
		}
		for _, p := range w.paths {
			p = literalPrefix(p)
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

// literalPrefix cuts a path at its first glob character and drops a final slash.
func literalPrefix(p string) string {
	if i := strings.IndexAny(p, "*?["); i >= 0 {
		p = p[:i]
	}
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
	}
	return p
}

// commandCount counts the simple commands of a program, as hadolint's DL3059
// does to tell a deliberate split of RUNs from a careless one.
func commandCount(f *syntax.File) int {
	return len(commandsOf(f))
}
