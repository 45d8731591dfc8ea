package runmodel

import (
	"path"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/rewrite"
)

// Need is something a command uses that a package apt installs only as
// recommended by another may give.
type Need int

const (
	// NeedTLS: an https download checks the server's certificate against
	// the CA bundle of ca-certificates (curl, wget and git recommend it).
	NeedTLS Need = iota + 1
	// NeedLibcDev: compiling and linking C needs libc's headers and start
	// files (gcc, g++ and clang recommend libc6-dev).
	NeedLibcDev
	// NeedSSH: git over ssh runs ssh (git recommends openssh-client).
	NeedSSH
)

// recommended lists Debian and Ubuntu packages whose Recommends hold what a
// later command of a Dockerfile commonly needs.
var recommended = []struct {
	pkg      string   // the recommended package
	by       []string // the packages that recommend it
	byPrefix []string // and those whose names start so (gcc-12, clang-16)
	need     Need
}{
	{pkg: "ca-certificates", by: []string{"curl", "wget", "git", "aria2", "httpie", "libcurl4", "libcurl4t64", "openssl"}, need: NeedTLS},
	{pkg: "libc6-dev", by: []string{"gcc", "g++", "cpp", "clang", "cc", "c++"}, byPrefix: []string{"gcc-", "g++-", "clang-"}, need: NeedLibcDev},
	{pkg: "openssh-client", by: []string{"git"}, need: NeedSSH},
}

// Dropped is a recommended package --no-install-recommends would leave
// out of an apt install, and the later command that uses what it gives.
type Dropped struct {
	Pkg  string // the recommended package
	By   string // the packages of the install that recommend it, comma-separated
	User *Cmd   // the command that needs it
	In   *rewrite.Instruction
	Need Need
}

// DroppedRecommends lists what --no-install-recommends on the apt install
// k of RUN r would leave out that a command after it uses: in the same RUN
// after it, or in a later step of its stage or one built from it. A
// package installed by name in that RUN or an earlier one of the stage (or
// one it is built from) is not dropped. The base image may hold it too: the
// model cannot see that, so this says what may be missing.
func (m *Model) DroppedRecommends(r *Run, k Call) []Dropped {
	pkgs := k.operands()
	var out []Dropped
	for _, rec := range recommended {
		var by []string
		for _, p := range pkgs {
			name, _, _ := strings.Cut(p, "=")   // curl=8.5.0-2
			name, _, _ = strings.Cut(name, ":") // curl:amd64
			if slices.Contains(rec.by, name) || slices.ContainsFunc(rec.byPrefix, func(pre string) bool { return strings.HasPrefix(name, pre) }) {
				by = append(by, name)
			}
		}
		if len(by) == 0 || m.installedByName(r, rec.pkg) {
			continue
		}
		if user, in := m.firstNeeding(r, k.Cmd, rec.need); user != nil {
			out = append(out, Dropped{Pkg: rec.pkg, By: strings.Join(by, ", "), User: user, In: in, Need: rec.need})
		}
	}
	return out
}

// installedByName tells whether an apt install of r, or of a RUN before it
// in its stage or a stage it is built from, names pkg.
func (m *Model) installedByName(r *Run, pkg string) bool {
	apt := ManagerNamed("apt")
	names := func(x *Run) bool {
		for _, k := range x.Calls(apt) {
			if k.Installs() && slices.ContainsFunc(k.operands(), func(p string) bool {
				name, _, _ := strings.Cut(p, "=")
				return name == pkg
			}) {
				return true
			}
		}
		return false
	}
	if names(r) {
		return true
	}
	in := r.In
	var stages []*rewrite.Stage
	for s := in.Stage; s != nil; s = m.Doc.Parent(s) {
		stages = append(stages, s)
	}
	for _, s := range stages {
		for _, x := range s.Instructions {
			if x == in {
				break
			}
			if xr := m.Run(x); xr != nil && names(xr) {
				return true
			}
		}
	}
	return false
}

// firstNeeding finds the first command after c, in its RUN or a later
// step, that needs what need names.
func (m *Model) firstNeeding(r *Run, c *Cmd, need Need) (*Cmd, *rewrite.Instruction) {
	for _, x := range r.Cmds {
		if Before(c, x) && needs(x, need) {
			return x, r.In
		}
	}
	for _, in := range m.Steps(r.In) {
		xr := m.Run(in)
		if xr == nil {
			continue
		}
		for _, x := range xr.Cmds {
			if needs(x, need) {
				return x, in
			}
		}
	}
	return nil, nil
}

// needs tells whether a command surely uses what need names, by its name
// and literal words.
func needs(c *Cmd, need Need) bool {
	if c.Opaque {
		// make and cmake are programs the model does not see through,
		// but their name says they build.
		v, ok := c.Prog.Value()
		name := path.Base(v)
		return ok && need == NeedLibcDev && (name == "make" || name == "cmake")
	}
	has := func(pred func(string) bool) bool {
		for _, a := range c.Args {
			if v, ok := a.Value(); ok && pred(v) {
				return true
			}
		}
		return false
	}
	switch need {
	case NeedTLS:
		return c.Is("curl", "wget", "git", "aria2c", "http", "https") && has(func(v string) bool {
			return strings.HasPrefix(strings.ToLower(v), "https://") || strings.Contains(strings.ToLower(v), "=https://")
		})
	case NeedLibcDev:
		return c.Is("gcc", "g++", "cc", "c++", "clang", "clang++", "make", "cmake") ||
			strings.HasPrefix(c.Name, "gcc-") || strings.HasPrefix(c.Name, "g++-")
	case NeedSSH:
		return c.Is("ssh", "scp") || c.Is("git") && has(func(v string) bool {
			return strings.HasPrefix(v, "git@") || strings.HasPrefix(v, "ssh://")
		})
	}
	return false
}
