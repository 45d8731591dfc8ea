package runmodel

import (
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"mvdan.cc/sh/v3/syntax"
)

// Touch is a place a RUN may read or write.
type Touch struct {
	// Path is a clean absolute path, and all below it; "/" where the model
	// cannot tell.
	Path string
	// Why says what touches it: "rm names /app/tests".
	Why string
	// May says the RUN may touch it or not: what a command the model cannot
	// see through may do, what an install script, a login shell's profiles
	// or a tool variable may lead to, where a package manager may install.
	// A place a command names is touched for sure.
	May bool
	// Cmd is the command that touches it; nil for what the whole RUN
	// touches (its mounts, a login shell's profiles, the tool variables of
	// its environment).
	Cmd *Cmd
}

// Touches is what a RUN reads and writes, as far as the model can list it.
type Touches struct {
	Places []Touch
	// Unfollowed says why the places are not all a RUN may touch ("" when
	// they are): it runs a command the model cannot see through, or one
	// that does more than install packages named on the command line and
	// keep house. Places then also hold "/", May, with this reason, and
	// the places the command's words name.
	Unfollowed string
	// NotFollowed holds each command the model does not follow, and why.
	NotFollowed map[*Cmd]string
}

// Paths lists the places' paths.
func (t Touches) Paths() []string {
	out := make([]string, 0, len(t.Places))
	for _, p := range t.Places {
		out = append(out, p.Path)
	}
	return out
}

// Touches lists the places a RUN may read or write, as clean absolute paths,
// where the RUN only installs packages named on the command line from the
// network (apt-get, apk, yum, dnf, zypper, pip, npm -g, gem, ...) and keeps
// house (rm, mkdir, ln, cd, user and group changes, echo, export, set): the
// paths its words, redirections and mounts name, where its packages may go,
// the files a login shell reads and the paths of the tool variables
// (PATH, PYTHONPATH, PIP_*, ...) it runs with. For any other RUN,
// Unfollowed says why the list is not whole.
func (m *Model) Touches(r *Run) Touches {
	if !r.Editable || len(r.Cmds) == 0 {
		why := r.Whole
		if why == "" {
			why = "a RUN the model cannot read command by command"
		}
		not := map[*Cmd]string{}
		for _, c := range r.Cmds {
			not[c] = why
		}
		return Touches{Places: []Touch{{Path: "/", Why: why, May: true}}, Unfollowed: why, NotFollowed: not}
	}
	s := m.State(r.In)
	fp := &footprint{m: m, r: r, st: s}
	if s.Login() {
		why := "a login shell reads its profiles"
		fp.may("/etc", why)
		if home, ok := s.Home(); ok {
			fp.add(home, "/", why, true)
		} else {
			fp.may("/", why)
		}
	}
	for _, mt := range r.Mounts {
		fp.mount(mt)
	}
	for name, v := range s.Env {
		if toolVariable(name) {
			fp.variable(name, v.Value, v.Known)
		}
	}
	for _, a := range r.Assigns {
		if toolVariable(a.Name) {
			v, known := a.Value.Value()
			fp.variable(a.Name, v, known)
		}
	}
	for _, c := range r.Cmds {
		fp.c = c
		if why := fp.cmd(c); why != "" {
			fp.unfollowed(c, why)
		}
	}
	return Touches{Places: fp.places, Unfollowed: fp.why, NotFollowed: fp.not}
}

// toolVariable tells whether an environment variable may point a package
// manager, the shell or the dynamic linker at files.
func toolVariable(name string) bool {
	switch name {
	case "PATH", "HOME", "TMPDIR", "SHELL", "ENV", "BASH_ENV", "VIRTUAL_ENV", "CONFIG_SITE",
		"SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "APT_CONFIG",
		"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONPYCACHEPREFIX",
		"NODE_PATH", "NODE_OPTIONS", "NODE_EXTRA_CA_CERTS", "RUBYLIB", "RUBYOPT",
		"PERL5LIB", "PERL5OPT", "PERLLIB", "CONDARC", "CONDA_PREFIX", "CONDA_PKGS_DIRS":
		return true
	}
	up := strings.ToUpper(name)
	for _, prefix := range []string{"LD_", "PIP_", "NPM_CONFIG_", "YARN_", "COREPACK_", "GEM_", "BUNDLE_",
		"XDG_", "DPKG_", "DEBCONF_", "UV_", "ZYPP_"} {
		if strings.HasPrefix(up, prefix) {
			return true
		}
	}
	return false
}

// footprint gathers the places a RUN's program touches.
type footprint struct {
	m      *Model
	r      *Run
	st     State
	places []Touch
	why    string // the first command it does not follow, and why
	not    map[*Cmd]string
	c      *Cmd // the command being read
}

// may records a place the RUN may touch.
func (fp *footprint) may(p, why string) {
	fp.places = append(fp.places, Touch{Path: p, Why: why, May: true, Cmd: fp.c})
}

// add records a path the program names, for a command running in cwd ("":
// not known): resolved against cwd, cut at its first wildcard; "/" when it
// cannot tell (a ~ path, a relative path in an unknown folder, a path
// through ".." whose folder may be a symbolic link), which the RUN may
// touch or not.
func (fp *footprint) add(p, cwd, why string, may bool) {
	if i := strings.IndexAny(p, "*?[$"); i >= 0 {
		p = p[:i]
	}
	switch {
	case p == "" || strings.HasPrefix(p, "~"):
		p, may = "/", true
	case !path.IsAbs(p) && cwd == "":
		p, may = "/", true
	case !path.IsAbs(p):
		p = cwd + "/" + p
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			p, may = "/", true
			break
		}
	}
	if p == "/proc" || strings.HasPrefix(p, "/proc/") {
		p, may = "/", true // /proc/self/cwd and /proc/1/root lead anywhere
	}
	fp.places = append(fp.places, Touch{Path: path.Clean(p), Why: why, May: may, Cmd: fp.c})
}

// named records a path a command names, which it touches for sure.
func (fp *footprint) named(c *Cmd, p, cwd string) {
	fp.add(p, cwd, c.Name+" names "+p, false)
}

// unfollowed records a command the model does not follow: it may touch
// anything, and touches for sure what its words name.
func (fp *footprint) unfollowed(c *Cmd, why string) {
	if fp.why == "" {
		fp.why = why
	}
	if fp.not == nil {
		fp.not = map[*Cmd]string{}
	}
	fp.not[c] = why
	fp.may("/", why)
	cwd := fp.m.Cwd(fp.st, c)
	if strings.Contains(c.Prog.Text, "/") {
		fp.named(c, c.Prog.Text, cwd)
	}
	for _, w := range c.Args {
		v, ok := w.Pattern()
		if !ok || v == "" || strings.HasPrefix(v, "-") && !strings.Contains(v, "=") {
			continue
		}
		if strings.HasPrefix(v, "-") {
			_, v, _ = strings.Cut(v, "=")
		}
		if v != "" && !remoteURL().MatchString(v) {
			fp.named(c, v, cwd)
		}
	}
	for _, rd := range c.Redirs {
		if v, ok := rd.Target.Pattern(); ok && (rd.Read || rd.Write) {
			fp.named(c, v, cwd)
		}
	}
}

// mount records where a RUN --mount puts its files (secrets and SSH agents
// go under /run by default).
func (fp *footprint) mount(mt Mount) {
	if !mt.Valid {
		fp.may("/", "a --mount flag the model cannot read")
		return
	}
	target := mt.Target
	if target == "" && (mt.Type == "secret" || mt.Type == "ssh") {
		target = "/run"
	}
	fp.add(target, fp.st.Workdir, "a "+mt.Type+" mount on "+target, false)
}

// addGlob records the folder a shell wildcard lists.
func (fp *footprint) addGlob(c *Cmd, pattern, cwd string) {
	if i := strings.IndexAny(pattern, "*?["); i >= 0 {
		pattern = pattern[:i]
	}
	dir := "."
	if i := strings.LastIndexByte(pattern, '/'); i >= 0 {
		dir = pattern[:i+1]
	}
	fp.add(dir, cwd, c.Name+" lists "+dir, false)
}

// remoteURL matches URLs of files elsewhere; a file:// URL is a local path.
var remoteURL = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)\b(https?|ftp|s3|gs|git|ssh|git\+https?|git\+ssh)://[^\s,;]*`)
})

// value records the paths in an option's value: pieces with a slash, or
// starting with a dot, that are not part of a URL.
func (fp *footprint) value(v, cwd, why string, may bool) {
	v = strings.ReplaceAll(remoteURL().ReplaceAllString(v, ""), "file://", "")
	for _, piece := range strings.FieldsFunc(v, func(c rune) bool { return strings.ContainsRune("=:,; \t", c) }) {
		if strings.Contains(piece, "/") || strings.HasPrefix(piece, ".") || strings.HasPrefix(piece, "~") {
			fp.add(piece, cwd, why, may)
		}
	}
}

// variable records the paths in a tool variable's value: the tools the RUN
// runs may read there.
func (fp *footprint) variable(name, value string, known bool) {
	why := name + " may lead its tools there"
	if !known {
		fp.may("/", name+" has a value the model cannot know")
		return
	}
	if name == "HOME" || name == "SHELL" || name == "TMPDIR" {
		fp.add(value, fp.st.Workdir, why, true)
		return
	}
	fp.value(value, fp.st.Workdir, why, true)
}

// cmd records what one command touches; it says why when the model cannot
// see it through, or it does more than install named packages and keep
// house.
func (fp *footprint) cmd(c *Cmd) string {
	switch {
	case c.Opaque:
		return c.Why
	case c.Background:
		return c.Name + " runs in the background"
	case c.MoreArgs:
		return c.Name + " gets words the model cannot know"
	}
	cwd := fp.m.Cwd(fp.st, c)
	for name, w := range c.Assigns {
		if toolVariable(name) {
			v, known := w.Value()
			fp.variable(name, v, known)
		}
	}
	for _, rd := range c.Redirs {
		v, ok := rd.Target.Value()
		switch {
		case rd.Write || rd.Read:
			if !rd.Target.Lit {
				return c.Name + " redirects to a file the model cannot name"
			}
			fp.named(c, rd.Target.Text, cwd)
		case ok && (v == "-" || strings.Trim(v, "0123456789") == ""):
		default:
			return c.Name + " redirects to a file the model cannot name"
		}
	}
	for _, w := range c.Args {
		if !w.Lit && w.Node != nil && !plainWord(w) {
			return c.Name + " gets a word made by a command or arithmetic"
		}
		switch {
		case w.Glob && w.Lit:
			fp.addGlob(c, w.Text, cwd)
		case w.Glob:
			fp.may("/", c.Name+" lists a folder the model cannot name") // a wildcard after a variable
		}
	}
	if c.User != "" && c.User != "root" && c.User != "0" {
		fp.may("/", c.Name+" runs as "+c.User+", with that user's home and environment")
	}
	if strings.Contains(c.Prog.Text, "/") {
		fp.named(c, c.Prog.Text, cwd)
	}
	switch {
	case ManagerOf(c) != nil && ManagerOf(c).Zone != nil:
		m := ManagerOf(c)
		if c.Name == "npm" {
			fp.add(".", cwd, "npm's install scripts see the folder they run from", true)
		}
		if c.Name == "gem" {
			fp.add(".", cwd, "gem install takes NAME*.gem from the folder it runs in first", true)
		}
		if m.Name == "pip" && len(c.Via) > 0 && strings.HasSuffix(c.Via[len(c.Via)-1], " -m") {
			fp.add(".", cwd, "python -m puts the folder it runs in first on sys.path", true)
		}
		return fp.packages(c, m, cwd)
	case c.Is("rm", "mkdir", "ln"):
		return fp.files(c, cwd)
	case c.Is("cd"):
		if len(c.Args) == 0 {
			fp.may("/", "cd goes to the home folder")
			return ""
		}
		return fp.files(c, cwd)
	case c.Is("useradd", "groupadd", "adduser", "addgroup"):
		for _, p := range []string{"/etc", "/home", "/var"} {
			fp.may(p, c.Name+" writes the user database and home folders")
		}
		for _, w := range c.Args {
			fp.value(w.Text, cwd, c.Name+" names "+w.Text, false)
		}
		return ""
	case c.Is("echo", "printf", "set", "true", ":", "export"):
		return ""
	}
	return c.Name + " is not a package install or housekeeping the model follows"
}

// plainWord tells whether a word that is not literal only reads variables:
// no command substitution, no arithmetic.
func plainWord(w Word) bool {
	plain := true
	syntax.Walk(w.Node, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.CmdSubst, *syntax.ProcSubst, *syntax.ArithmExp:
			plain = false
		case *syntax.ParamExp:
			if n.Exp != nil && (n.Exp.Op == syntax.AssignUnset || n.Exp.Op == syntax.AssignUnsetOrNull) {
				plain = false
			}
		}
		return plain
	})
	return plain
}

// files reads rm, mkdir, ln and cd: every operand is a place they touch.
func (fp *footprint) files(c *Cmd, cwd string) string {
	n := 0
	for i := 0; i < len(c.Args); i++ {
		w := c.Args[i]
		if strings.HasPrefix(w.Text, "-") {
			if w.Text == "-m" || w.Text == "--mode" || w.Text == "-S" || w.Text == "--suffix" {
				i++ // mkdir's mode, ln's backup suffix
			}
			continue
		}
		fp.named(c, w.Text, cwd)
		n++
	}
	if n == 0 {
		return c.Name + " has no operand the model can read"
	}
	return ""
}

// packages reads a package manager's command line with the table: flags, a
// verb it knows, then packages named (or, where the manager takes them,
// URLs). Anything that makes it read local files (a path, an archive, a
// requirements file) is not followed.
func (fp *footprint) packages(c *Cmd, m *Manager, cwd string) string {
	verb, global := "", false
	args := c.Args
	notFollowed := c.Name + " installs more than packages named on the command line"
	for i := 0; i < len(args); i++ {
		w := args[i]
		if strings.HasPrefix(w.Text, "-") {
			flag, val, inline := strings.Cut(w.Text, "=")
			if m.ReadsFiles(flag) {
				return c.Name + " " + flag + " reads local files"
			}
			takesValue := slices.Contains(m.ValueFlags, flag)
			if takesValue && !inline {
				if i++; i >= len(args) {
					return notFollowed
				}
				w, val, inline = args[i], args[i].Text, true
			}
			kind := m.ValueKind(flag)
			switch {
			case !inline || takesValue && kind == "name": // a switch, or a value that is a name
			case !w.Lit:
				fp.may("/", c.Name+" "+flag+" has a value the model cannot read")
			case kind == "path":
				fp.named(c, strings.TrimPrefix(val, "file://"), cwd)
			default:
				fp.value(val, cwd, c.Name+" "+flag+" names "+val, false)
			}
			global = global || flag == "-g" || flag == "--global" || flag == "--location" && val == "global"
			continue
		}
		if verb == "" {
			if !w.Lit || !slices.Contains(m.InstallVerbs(), w.Text) {
				return notFollowed
			}
			verb = w.Text
			continue
		}
		if !packageName(m, w) {
			return notFollowed
		}
	}
	if verb == "" || m.GlobalOnly && !global {
		return notFollowed
	}
	for _, z := range m.Zone {
		fp.may(z, c.Name+" "+verb+" may write anywhere in "+z)
	}
	return ""
}

// packageName tells whether a word names a package (or a URL, where the
// manager takes those) and not a local file.
func packageName(m *Manager, w Word) bool {
	if w.Glob || m.PackageName == nil {
		return false
	}
	if m.URLs && w.Lit && (strings.HasPrefix(w.Text, "https://") || strings.HasPrefix(w.Text, "http://") ||
		strings.HasPrefix(w.Text, "git+https://") || strings.HasPrefix(w.Text, "ftp://")) {
		return true
	}
	lower := strings.ToLower(w.Text)
	for _, ext := range m.Archives {
		if strings.HasSuffix(lower, ext) {
			return false
		}
	}
	if w.Lit {
		return m.PackageName().MatchString(w.Text)
	}
	// A version pinned by a variable: curl=${CURL_VERSION}, flask==$V.
	i := strings.IndexAny(w.Text, "=<>~@:")
	return i > 0 && m.PackageName().MatchString(w.Text[:i])
}
