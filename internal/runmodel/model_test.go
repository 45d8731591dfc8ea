package runmodel_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
)

// runOf parses a Dockerfile and returns the model of its n-th RUN (0-based).
func runOf(t *testing.T, src string, n int) (*runmodel.Model, *runmodel.Run) {
	t.Helper()
	d, err := rewrite.Parse("t", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	m := runmodel.Of(d)
	for _, in := range d.Instructions {
		if in.Keyword == "run" || in.Keyword == "onbuild" {
			if n == 0 {
				return m, m.Run(in)
			}
			n--
		}
	}
	t.Fatalf("no such RUN")
	return nil, nil
}

// describe prints the commands of a RUN compactly: name, args, and flags.
func describe(r *runmodel.Run) string {
	var out []string
	for _, c := range r.Cmds {
		s := c.Name
		if c.Opaque {
			s = "OPAQUE(" + c.Name + ")"
		}
		var args []string
		for _, a := range c.Args {
			if v, ok := a.Value(); ok {
				args = append(args, v)
			} else {
				args = append(args, "?")
			}
		}
		if len(args) > 0 {
			s += " " + strings.Join(args, " ")
		}
		var marks []string
		if c.Cond {
			marks = append(marks, "cond")
		}
		if !c.InShell {
			marks = append(marks, "sub")
		}
		if !c.Own {
			marks = append(marks, "str")
		}
		if c.User != "" {
			marks = append(marks, "as "+c.User)
		}
		if c.MoreArgs {
			marks = append(marks, "more")
		}
		if c.Cwd != "" || !c.CwdKnown {
			if c.CwdKnown {
				marks = append(marks, "in "+c.Cwd)
			} else {
				marks = append(marks, "in ?")
			}
		}
		if len(marks) > 0 {
			s += " [" + strings.Join(marks, ",") + "]"
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

func TestCommands(t *testing.T) {
	cases := []struct{ run, want string }{
		{`apt-get install -y curl`, `apt-get install -y curl`},
		{`\cd /tmp && "export" X=1 && 'apt-get' update`, `cd /tmp; export X=1 [in /tmp]; apt-get update [in /tmp]`},
		{`sudo -u app apt-get install -y git`, `apt-get install -y git [as app]`},
		{`sudo apt-get install -y git`, `apt-get install -y git [as root]`},
		{`env DEBIAN_FRONTEND=noninteractive apt-get install -y tree`, `apt-get install -y tree`},
		{`echo tree | xargs apt-get install -y`, `echo tree [sub]; apt-get install -y [sub,more]`},
		{`sh -c 'apt-get install -y tree'`, `apt-get install -y tree [sub,str]`},
		{`bash -lc 'apt-get install -y tree'`, `apt-get install -y tree [sub,str]; OPAQUE(bash) [str]`},
		{`find /x -name '*.txt' -exec apt-get install -y tree \;`, `find /x -name *.txt -exec apt-get install -y tree ;; apt-get install -y tree [cond,more]`},
		{`nice -n 5 timeout 30 command apt-get install -y tree`, `apt-get install -y tree`},
		{`/inst.sh`, `OPAQUE(inst.sh)`},
		{`./configure && make`, `OPAQUE(configure); OPAQUE(make)`},
		{`./configure && make; ls`, `OPAQUE(configure); OPAQUE(make) [cond]; ls`},
		{`$CMD install`, `OPAQUE() install`},
		{`eval cd /tmp`, `eval cd /tmp; cd /tmp [str]`},
		{`eval "$X"`, `OPAQUE(eval) ?`},
		{`. /env.sh`, `OPAQUE(.) /env.sh`},
		{`f() { apt-get install -y x; }; f`, `apt-get install -y x [cond]; f`},
		{`true || apt-get install -y hello`, `true; apt-get install -y hello [cond]`},
		{`apt-get update && apt-get install -y x; echo done`, `apt-get update; apt-get install -y x [cond]; echo done`},
		{`apt-get update && apt-get install -y x`, `apt-get update; apt-get install -y x`},
		{`if true; then apt-get install -y x; fi`, `true; apt-get install -y x [cond]`},
		{`(cd /src && make install) && ls`, `cd /src [sub]; OPAQUE(make) install [sub,in /src]; ls`},
		{`cd $DIR && ls`, `cd ?; ls [in ?]`},
		{`python3 -m pip install flask`, `pip install flask`},
		{`python3 setup.py install`, `OPAQUE(python3) setup.py install`},
		{`npm ci && npm run build`, `npm ci; OPAQUE(npm) run build`},
		{`go build -o /app . && go test ./...`, `go build -o /app .; OPAQUE(go) test ./...`},
		{`su app -c 'npm ci'`, `npm ci [sub,str,as app]`},
		{`trap 'rm -rf /tmp/x' EXIT`, `trap rm -rf /tmp/x EXIT; rm -rf /tmp/x [cond,sub,str]`},
		{`/usr/bin/apt-get install -y x`, `apt-get install -y x`},
		{`rm -f /{app,x}/secret.txt`, `rm -f ?`},
		{`find . -exec rm {} +`, `find . -exec rm {} +; rm ? [cond,more]`},
		{`pip install -e .`, `OPAQUE(pip) install -e .`},
		{`pip install -r ./requirements.txt`, `pip install -r ./requirements.txt`},
		{`pip3 install -r /r.txt ./dist/x.whl`, `OPAQUE(pip3) install -r /r.txt ./dist/x.whl`},
		{`uv pip install -r ./r.txt`, `uv pip install -r ./r.txt`},
		{`pip3.12 install .`, `OPAQUE(pip3.12) install .`},
		{`exec apt-get install -y x`, `apt-get install -y x`},
	}
	for _, c := range cases {
		t.Run(c.run, func(t *testing.T) {
			_, r := runOf(t, "FROM busybox\nRUN "+c.run+"\n", 0)
			if got := describe(r); got != c.want {
				t.Errorf("\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestForms(t *testing.T) {
	cases := []struct{ src, want string }{
		{"FROM x\nRUN [\"apt-get\", \"install\", \"-y\", \"x\"]\n", `apt-get install -y x [sub,str]`},
		{"FROM x\nRUN [\"/bin/sh\", \"-c\", \"apt-get install -y x\"]\n", `apt-get install -y x [sub,str]`},
		{"FROM x\nRUN <<EOF\napt-get install -y x\nEOF\n", `apt-get install -y x [str]`},
		{"FROM x\nRUN cat <<EOF > /f\nhi\nEOF\n", `cat [str]`},
		{"FROM x\nSHELL [\"cmd\", \"/S\", \"/C\"]\nRUN apt-get install x\n", `OPAQUE() [str,in ?]`},
		{"FROM x\nONBUILD RUN apt-get install -y x\n", `apt-get install -y x [str]`},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			_, r := runOf(t, c.src, 0)
			if got := describe(r); got != c.want {
				t.Errorf("\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestShape(t *testing.T) {
	cases := []struct {
		run  string
		want string // leaks errexit ends chain plain background escape
	}{
		{`apt-get update`, "chain plain"},
		{`\cd /tmp`, "leaks chain plain"},
		{`command cd /tmp`, "leaks chain plain"},
		{`builtin cd /tmp`, "leaks chain plain"},
		{`"export" X=1`, "leaks chain plain"},
		{`X=1`, "leaks chain plain"},
		{`set -eux; false`, "leaks errexit"},
		{`set -o errexit`, "leaks errexit chain plain"},
		{`trap 'echo bye' EXIT; true`, "leaks errexit"},
		{`(set -e; false); true`, "errexit"},
		{`exit 0`, "leaks ends chain plain"},
		{`exec echo hi`, "leaks ends chain plain"},
		{`exec >/tmp/log`, "leaks ends chain plain"},
		{`sleep 1 &`, "background"},
		{`a && { b; c; }`, "chain"},
		{`a || b`, ""},

		{`echo 'a \'`, "chain plain"},
		{`echo foo \`, "chain plain escape"},
		{`echo foo \\`, "chain plain"},
		{`$X`, "leaks chain plain"},
		{`f() { :; }`, "leaks"},
		{`echo ${X:=1}`, "leaks chain plain"},
	}
	for _, c := range cases {
		t.Run(c.run, func(t *testing.T) {
			_, r := runOf(t, "# escape=`\nFROM busybox\nRUN "+c.run+"\n", 0)
			s, ok := r.Shape()
			if !ok {
				t.Fatal("no shape")
			}
			var got []string
			for _, f := range []struct {
				on   bool
				name string
			}{{s.Leaks, "leaks"}, {s.Errexit, "errexit"}, {s.EndsShell, "ends"}, {s.Chain, "chain"}, {s.Plain, "plain"}, {s.Background, "background"}, {s.TrailingEscape, "escape"}} {
				if f.on {
					got = append(got, f.name)
				}
			}
			if g := strings.Join(got, " "); g != c.want {
				t.Errorf("got %q, want %q", g, c.want)
			}
		})
	}
}

func TestMounts(t *testing.T) {
	for spec, fresh := range map[string]bool{
		"type=tmpfs,target=/x":               true,
		"type=bind,target=/x,rw":             true,
		"type=bind,target=/x,readwrite=true": true,
		"type=bind,target=/x":                false,
		"target=/x,source=y":                 false,
		"type=cache,target=/x":               false,
		"type=secret,id=x":                   false,
		"\"type=bind":                        true, // not CSV: cannot tell
	} {
		if got := runmodel.ReadMount(spec).Fresh(); got != fresh {
			t.Errorf("%s: Fresh %v, want %v", spec, got, fresh)
		}
	}
}

func TestLaterReader(t *testing.T) {
	apt := runmodel.ManagerNamed("apt")
	listsReader := func(m *runmodel.Model, in *rewrite.Instruction) string {
		st := m.State(in)
		places := m.CachePlaces(apt, st, nil, true)
		r := m.LaterReader(in, places, func(r *runmodel.Run, c *runmodel.Cmd, _ runmodel.State) string {
			for _, k := range r.Calls(apt) {
				if k.Cmd == c && k.ReadsIndex() && !runmodel.RefreshedBefore(r, apt, c) {
					return "reads the lists"
				}
			}
			return ""
		})
		if r == nil {
			return "none"
		}
		unseen := ""
		if r.Unseen {
			unseen = " (unseen)"
		}
		return fmt.Sprintf("line %d: %s%s", r.In.StartLine, r.Why, unseen)
	}
	cases := []struct{ later, want string }{
		{"RUN echo hi", "none"},
		{"RUN apt-get update && apt-get install -y git", "none"},
		{"RUN apt-get install -y git", "line 3: reads the lists"},
		{"RUN sudo apt-get install -y git", "line 3: reads the lists"},
		{"RUN env X=1 apt-get install -y git", "line 3: reads the lists"},
		{"RUN echo git | xargs apt-get install -y", "line 3: reads the lists"},
		{"RUN /inst.sh", "line 3: /inst.sh is a file of the image or the build context (unseen)"},
		// A step that surely reads wins over an earlier one that may.
		{"RUN /inst.sh\nRUN apt-get install -y git", "line 4: reads the lists"},
		{"RUN /inst.sh && apt-get install -y git", "line 3: reads the lists"},
		{"RUN /inst.sh\nFROM busybox\nCOPY --from=base /var/lib/apt/lists /l", "line 5: copies /var/lib/apt/lists from the stage"},
		{"RUN /a.sh\nRUN /b.sh", "line 3: /a.sh is a file of the image or the build context (unseen)"},
		{"RUN sh -c 'apt-get install -y tree'", "line 3: reads the lists"},
		{"RUN find /x -exec apt-get install -y tree \\;", "line 3: reads the lists"},
		{"RUN ls /var/lib/apt/lists", "line 3: ls names /var/lib/apt/lists"},
		{"RUN cp -r /var/lib/apt /x", "line 3: cp names /var/lib/apt"},
		{"RUN apt-cache policy git", "line 3: reads the lists"},
		{"ONBUILD RUN apt-get install -y x", "line 3: reads the lists"},
		{"FROM base AS next\nRUN apt-get install -y x", "line 4: reads the lists"},
		{"FROM busybox\nCOPY --from=base /var/lib/apt/lists /l", "line 4: copies /var/lib/apt/lists from the stage"},
		{"FROM busybox\nCOPY --from=base /etc/passwd /p", "none"},
		// A COPY --from source is expanded with its own stage's variables.
		{"ENV B=/usr/local/bundle\nFROM base\nCOPY --from=base \"${B}\" \"${B}\"", "none"},
		{"ENV L=/var/lib/apt\nFROM base\nCOPY --from=base $L /x", "line 5: copies $L from the stage"},
		{"FROM busybox\nCOPY --from=base $UNSET /x", "line 4: copies $UNSET from the stage"},
		{"RUN apt-get update || true; apt-get install -y x", "none"},
	}
	for _, c := range cases {
		t.Run(c.later, func(t *testing.T) {
			src := "FROM debian AS base\nRUN apt-get update && apt-get install -y curl\n" + c.later + "\n"
			d, err := rewrite.Parse("t", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			m := runmodel.Of(d)
			if got := listsReader(m, d.Instructions[1]); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestCachePlaces(t *testing.T) {
	npm := runmodel.ManagerNamed("npm")
	cases := []struct{ src, want string }{
		{"FROM node\nRUN npm ci\n", "/root/.npm"},
		{"FROM node\nUSER node\nRUN npm ci\n", "~/.npm"},
		{"FROM node\nENV npm_config_cache=/cache\nRUN npm ci\n", "/cache"},
		{"FROM node\nARG npm_config_cache\nRUN npm ci\n", "anywhere"},
		{"FROM node\nRUN npm_config_cache=/c npm ci\n", "/c"},
		{"FROM node\nENV HOME=/home/x\nRUN npm ci\n", "/home/x/.npm"},
	}
	for _, c := range cases {
		m, r := runOf(t, c.src, 0)
		var got []string
		for _, p := range m.CachePlaces(npm, m.State(r.In), r.Cmds[0], false) {
			got = append(got, p.String())
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("%q: got %s, want %s", c.src, g, c.want)
		}
	}
}

func TestPlacesOverlap(t *testing.T) {
	abs := func(p string) runmodel.Place { return runmodel.Place{Path: p} }
	home := func(p string) runmodel.Place { return runmodel.Place{Path: p, Home: true} }
	rel := func(p string) runmodel.Place { return runmodel.Place{Path: p, Rel: true} }
	cases := []struct {
		a, b runmodel.Place
		want bool
	}{
		{abs("/root/.npm"), abs("/root"), true},
		{abs("/root/.npm"), abs("/root/.npmrc"), false},
		{abs("/var/lib/apt/lists"), abs("/var/lib/apt/lists/x"), true},
		{home("/.npm"), abs("/home/u/.npm/_cacache"), true},
		{home("/.npm"), abs("/home"), true},
		{home("/.npm"), abs("/etc"), false},
		{rel("/x"), abs("/root/.npm"), false},
		{rel("/.npm"), abs("/root/.npm"), true},
		{rel("/.npm/x"), abs("/root/.npm"), true},
		{runmodel.Anywhere, abs("/etc"), true},
	}
	for _, c := range cases {
		if got := c.a.Overlaps(c.b); got != c.want {
			t.Errorf("%s overlaps %s: %v, want %v", c.a, c.b, got, c.want)
		}
		if got := c.b.Overlaps(c.a); got != c.want {
			t.Errorf("%s overlaps %s: %v, want %v", c.b, c.a, got, c.want)
		}
	}
}

// TestManagerTable keeps the table consistent with itself: what reads a
// command line agrees on which flags take values.
func TestManagerTable(t *testing.T) {
	for _, m := range runmodel.Managers {
		if m.Zone != nil && m.PackageName == nil {
			t.Errorf("%s: an install zone but no package names", m.Name)
		}
		for _, f := range append(append([]string{}, m.PathFlags...), m.TextFlags...) {
			if !slices.Contains(m.ValueFlags, f) {
				t.Errorf("%s: %s takes a path or text but is no value flag", m.Name, f)
			}
		}
		for _, v := range m.Prompt {
			if !slices.Contains(m.Install, v) && !slices.Contains(m.Remove, v) {
				t.Errorf("%s: prompt verb %s neither installs nor removes", m.Name, v)
			}
		}
		if len(m.Commands) == 0 {
			t.Errorf("%s: no commands", m.Name)
		}
	}
}

// TestLinks checks which places a RUN may reach through the stage's links.
func TestLinks(t *testing.T) {
	cases := []struct {
		before     string // instructions before the point
		place, top string
		want       bool
	}{
		{"", "/data/file", "/app", false},
		{"RUN ln -s /app /data\n", "/data/file", "/app", true},
		{"RUN ln -sf /app /data\n", "/srv/x", "/app", false},
		{"RUN cd /srv && ln -s ../app data\n", "/srv/data/f", "/app", true},
		{"RUN ./setup.sh\n", "/etc", "/app", true},
		{"COPY dist/ /data/\n", "/data/x", "/app", true}, // a folder may bring links, no context to look
		{"COPY app.conf /etc/app.conf\n", "/etc", "/app", false},
		{"RUN tar xf /x.tar -C /opt\n", "/opt/y", "/app", true},
		{"", "/bin/x", "/usr", true}, // merged /usr
		// a link whose target the model cannot read leads anywhere from where it lies
		{"ARG TZ\nRUN ln -snf /usr/share/zoneinfo/$TZ /etc/localtime\n", "/assets", "/opt/app", false},
		{"ARG TZ\nRUN ln -snf /usr/share/zoneinfo/$TZ /etc/localtime\n", "/etc/localtime/x", "/opt/app", true},
		{"ARG TZ\nRUN ln -snf /usr/share/zoneinfo/$TZ /etc/localtime\n", "/srv", "/etc", true},
		{"ARG F\nRUN ln -s $F /etc/localtime\n", "/assets", "/opt/app", true}, // $F may be an option
	}
	for _, c := range cases {
		src := "FROM debian\n" + c.before + "RUN true\n"
		d, err := rewrite.Parse("t", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		m := runmodel.Of(d)
		st := d.Stages[0]
		l := m.LinksBefore(nil, st, len(st.Instructions)-1)
		if got := l.Touch(c.place, c.top); got != c.want {
			t.Errorf("%q: Touch(%s, %s) = %v, want %v", c.before, c.place, c.top, got, c.want)
		}
	}
}

func TestFetches(t *testing.T) {
	for run, want := range map[string]bool{
		"echo hi":                 false,
		"curl -fsSLO https://x/y": true,
		"apt-get update":          true,
		"apt-get remove -y x":     false,
		"./build.sh":              true,
		"pip install flask":       true,
		"mkdir -p /x && cp a b":   false,
	} {
		_, r := runOf(t, "FROM x\nRUN "+run+"\n", 0)
		if got := r.Fetches(); got != want {
			t.Errorf("%s: Fetches %v, want %v", run, got, want)
		}
	}
}

// TestReaderIn checks which command of the RUN itself may read the lists
// after its first one: one that surely reads wins over one the model cannot
// see through, which comes back marked Unseen.
func TestReaderIn(t *testing.T) {
	apt := runmodel.ManagerNamed("apt")
	cases := []struct{ run, want string }{
		{"apt-get update && echo hi", "none"},
		{"apt-get update && ls /var/lib/apt/lists", "ls names /var/lib/apt/lists"},
		{"apt-get update && /x.sh", "/x.sh is a file of the image or the build context (unseen)"},
		{"apt-get update && /x.sh && ls /var/lib/apt/lists", "ls names /var/lib/apt/lists"},
		{"ls /var/lib/apt/lists && apt-get update", "none"},
	}
	for _, c := range cases {
		t.Run(c.run, func(t *testing.T) {
			d, err := rewrite.Parse("t", []byte("FROM debian\nRUN "+c.run+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			m := runmodel.Of(d)
			r := m.Run(d.Instructions[1])
			places := m.CachePlaces(apt, m.State(r.In), nil, true)
			got := "none"
			if rd := m.ReaderIn(r, r.Cmds[0], places, nil); rd != nil {
				got = rd.Why
				if rd.Unseen {
					got += " (unseen)"
				}
			}
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestNoCacheFlag checks the no-cache flag written in full and abbreviated,
// as pip (optparse) takes any unambiguous prefix of a long option.
func TestNoCacheFlag(t *testing.T) {
	pip := runmodel.ManagerNamed("pip")
	for run, want := range map[string]bool{
		"pip install x":                   false,
		"pip install --no-cache-dir x":    true,
		"pip install --no-cache x":        true,
		"pip install --no-ca x":           true,
		"pip install --no-c x":            false, // --no-clean, --no-color, --no-compile too
		"pip install --no-cache-dirs x":   false,
		"pip install -- --no-cache x":     false,
		"pip install x --no-cache-dir":    true,
		"pip3 install -U --no-cache-di x": true,
		"pip install --no-compile x":      false,
	} {
		_, r := runOf(t, "FROM x\nRUN "+run+"\n", 0)
		calls := r.Calls(pip)
		if len(calls) != 1 {
			t.Fatalf("%s: %d pip calls", run, len(calls))
		}
		if got := calls[0].NoCacheFlag(); got != want {
			t.Errorf("%s: NoCacheFlag %v, want %v", run, got, want)
		}
	}
}

// TestDroppedRecommends checks which recommended packages an apt install
// would lose to --no-install-recommends that a later command uses.
func TestDroppedRecommends(t *testing.T) {
	apt := runmodel.ManagerNamed("apt")
	for _, tc := range []struct {
		src  string
		run  int // the RUN holding the install
		want string
	}{
		{"RUN apt-get install -y curl\nRUN curl -fsSLO https://x/y", 0, "ca-certificates by curl for curl"},
		{"RUN apt-get install -y curl\nRUN curl -fsSLO http://x/y", 0, ""},
		{"RUN apt-get install -y curl=8.5.0-2\nRUN curl -fsSLO https://x/y", 0, "ca-certificates by curl for curl"},
		{"RUN apt-get install -y curl ca-certificates\nRUN curl -fsSLO https://x/y", 0, ""},
		{"RUN apt-get install -y ca-certificates\nRUN apt-get install -y wget\nRUN wget https://x/y", 1, ""},
		{"RUN apt-get install -y gcc-12 make\nRUN make", 0, "libc6-dev by gcc-12 for make"},
		{"RUN apt-get install -y git\nRUN git clone git@example.com:a/b.git", 0, "openssh-client by git for git"},
		{"RUN curl https://x/y && apt-get install -y curl", 0, ""}, // before the install
		{"RUN apt-get install -y wget && sudo wget https://x/y", 0, "ca-certificates by wget for wget"},
		{"RUN apt-get install -y curl\nRUN ./fetch.sh https://x/y", 0, ""}, // a script: not surely
	} {
		m, r := runOf(t, "FROM debian\n"+tc.src+"\n", tc.run)
		var got []string
		for _, k := range r.Calls(apt) {
			for _, dr := range m.DroppedRecommends(r, k) {
				got = append(got, dr.Pkg+" by "+dr.By+" for "+dr.User.Name)
			}
		}
		if g := strings.Join(got, "; "); g != tc.want {
			t.Errorf("%q: got %q, want %q", tc.src, g, tc.want)
		}
	}
}

// TestReclaimed checks what a later RUN's removal takes out of what an
// earlier RUN surely left through a package manager.
func TestReclaimed(t *testing.T) {
	for _, tc := range []struct{ first, later, want string }{
		{"apt-get update && apt-get install -y gcc", "rm -rf /var/lib/apt/lists/*", "/var/lib/apt/lists"},
		{"apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*", "rm -rf /var/lib/apt/lists/*", ""},
		{"apt-get update && apt-get install -y gcc", "apt-get purge -y gcc", "apt package gcc"},
		{"apt-get update && apt-get install -y gcc", "apt-get autoremove -y && apt-get clean", ""},
		{"apk add --no-cache gcc", "rm -rf /var/cache/apk/*", ""},
		{"apk update && apk add gcc", "rm -rf /var/cache/apk/*", "/var/cache/apk"},
		{"apk add -U gcc", "rm -rf /var/cache/apk/*", "/var/cache/apk"},
		{"apt-get install -y gcc", "rm -rf /var/lib/apt/lists/*", ""}, // an install reads the lists; the update that wrote them is elsewhere
		{"apk add --virtual .deps gcc", "apk del gcc", "apk package gcc"},
		{"mkdir -p /var/lib/apt/lists/x", "rm -rf /var/lib/apt/lists", ""}, // a word is no proof
		{"--mount=type=cache,target=/var/lib/apt/lists apt-get update", "rm -rf /var/lib/apt/lists/*", ""},
	} {
		src := "FROM debian\nRUN " + tc.first + "\nRUN " + tc.later + "\n"
		_, first := runOf(t, src, 0)
		_, later := runOf(t, src, 1)
		if got := later.Deleted().Reclaimed(first.ManagerLeft()); got != tc.want {
			t.Errorf("RUN %s / RUN %s: got %q, want %q", tc.first, tc.later, got, tc.want)
		}
	}
}

// TestApkIndex checks which apk commands may leave the package index in
// the cache, with none there before (cached false) and with one.
func TestApkIndex(t *testing.T) {
	apk := runmodel.ManagerNamed("apk")
	cases := []struct {
		run           string
		fresh, cached bool // FillsIndex(false), FillsIndex(true)
		refreshes     bool // Refreshes() || RefreshFlag()
	}{
		{"apk update", true, true, true},
		{"apk update --no-cache", false, false, true},
		{"apk add curl", true, false, false},
		{"apk add --no-cache curl", false, false, false},
		{"apk -U add curl", true, true, true},
		{"apk add --update curl", true, true, true},
		{"apk --update-cache upgrade", true, true, true},
		{"apk upgrade", true, false, false},
		{"apk fix", true, false, false},
		{"apk add --no-network curl", false, false, false},
		{"apk del curl", false, false, false},
		{"apk search curl", false, false, false},
		{"apk info -a curl", false, false, false},
		{"apk --version", false, false, false},
		{"apk $CMD curl", true, true, false},
	}
	for _, c := range cases {
		_, r := runOf(t, "FROM alpine\nRUN "+c.run+"\n", 0)
		k := apk.Read(r.Cmds[0])
		if got := k.FillsIndex(false); got != c.fresh {
			t.Errorf("%s: FillsIndex(false) = %v, want %v", c.run, got, c.fresh)
		}
		if got := k.FillsIndex(true); got != c.cached {
			t.Errorf("%s: FillsIndex(true) = %v, want %v", c.run, got, c.cached)
		}
		if k.Refreshes() != (k.Verb == "update") {
			t.Errorf("%s: Refreshes = %v: only apk update is a refresh verb (merge-runs takes a RUN of them for one that only refreshes)", c.run, k.Refreshes())
		}
		if got := k.Refreshes() || k.RefreshFlag(); got != c.refreshes {
			t.Errorf("%s: Refreshes or RefreshFlag = %v, want %v", c.run, got, c.refreshes)
		}
	}
}

// TestPnpmCalls checks what the table says of pnpm commands that decide
// whether its store keeps files no project links to.
func TestPnpmCalls(t *testing.T) {
	pnpm := runmodel.ManagerNamed("pnpm")
	cases := []struct {
		run                    string
		resolves, prunes, prod bool
		method                 string
	}{
		{"pnpm install --frozen-lockfile", false, false, false, ""},
		{"pnpm add -g serve", true, false, false, ""},
		{"pnpm add --offline serve", false, false, false, ""},
		{"pnpm up", true, false, false, ""},
		{"pnpm prune --prod", false, true, true, ""},
		{"pnpm remove lodash", false, true, false, ""},
		{"pnpm install -P", false, false, true, ""},
		{"pnpm install --package-import-method=copy", false, false, false, "copy"},
		{"pnpm install --package-import-method clone-or-copy", false, false, false, "clone-or-copy"},
		{"pnpm install --package-import-method", false, false, false, ""},
	}
	for _, c := range cases {
		_, r := runOf(t, "FROM node\nRUN "+c.run+"\n", 0)
		k := pnpm.Read(r.Cmds[0])
		method, _ := k.ImportMethod()
		if k.Resolves() != c.resolves || k.Prunes() != c.prunes || k.ProdOnly() != c.prod || method != c.method {
			t.Errorf("%s: Resolves %v, Prunes %v, ProdOnly %v, ImportMethod %q; want %v, %v, %v, %q",
				c.run, k.Resolves(), k.Prunes(), k.ProdOnly(), method, c.resolves, c.prunes, c.prod, c.method)
		}
	}
}

// TestTouches reads what a RUN touches: for sure where a command names a
// place, maybe where the model cannot tell, and why it stops following.
func TestTouches(t *testing.T) {
	show := func(ts runmodel.Touches) string {
		var out []string
		for _, p := range ts.Places {
			s := p.Path
			if p.May {
				s = "may " + s
			}
			out = append(out, s)
		}
		if ts.Unfollowed != "" {
			out = append(out, "unfollowed: "+ts.Unfollowed)
		}
		return strings.Join(out, ", ")
	}
	for _, tc := range []struct{ src, want string }{
		{"FROM x\nWORKDIR /app\nRUN rm -rf /app/tests && mkdir -p logs", "/app/tests, /app/logs"},
		{"FROM x\nRUN apk add --no-cache curl", "may /bin, may /boot, may /dev, may /etc, may /lib, may /lib32, may /lib64, may /libx32, may /opt, may /proc, may /root, may /run, may /sbin, may /srv, may /sys, may /tmp, may /usr, may /var"},
		{"FROM x\nWORKDIR /app\nRUN echo x > /etc/motd && ./build.sh", "/etc/motd, may /, /app/build.sh, unfollowed: ./build.sh is a file of the image or the build context"},
		{"FROM x\nWORKDIR /app\nRUN node scripts/prepare.js", "may /, /app/scripts/prepare.js, unfollowed: node is a program the model does not know"},
		{"FROM x\nRUN make", "may /, unfollowed: make is a program the model does not know"},
		{"FROM x\nWORKDIR /app\nRUN npm install express", "may /app, may /, /app/install, /app/express, unfollowed: npm installs more than packages named on the command line"},
	} {
		m, r := runOf(t, tc.src, 0)
		if got := show(m.Touches(r)); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.src, got, tc.want)
		}
	}
}

// TestCallDir reads the folder a manager's flag names in place of the
// working directory.
func TestCallDir(t *testing.T) {
	for run, want := range map[string]string{
		"npm ci --prefix web":                      "web set",
		"yarn --cwd web install --frozen-lockfile": "web set",
		"composer install --working-dir=/opt/app":  "/opt/app set",
		"pnpm -C apps/site install":                "apps/site set",
		"go -C cmd build":                          "cmd set",
		"npm ci":                                   "",
		"npm ci --prefix $DIR":                     "unknown",
		"composer install -d a -d b":               "unknown",
		"pnpm -Capps install":                      "unknown",
		"yarn install --network-timeout 600000":    "",
	} {
		_, r := runOf(t, "FROM x\nRUN "+run, 0)
		c := r.Cmds[0]
		dir, set, ok := runmodel.ManagerOf(c).Read(c).Dir()
		got := ""
		switch {
		case set && !ok:
			got = "unknown"
		case set:
			got = dir + " set"
		}
		if got != want {
			t.Errorf("%s: Dir() = %q, want %q", run, got, want)
		}
	}
}

// TestDepsOnly tells the commands that fetch or build a project's
// dependencies alone.
func TestDepsOnly(t *testing.T) {
	for run, want := range map[string]bool{
		"cargo chef cook --release --recipe-path recipe.json": true,
		"cargo chef prepare --recipe-path recipe.json":        false,
		"cargo build --release":                               false,
		"go mod download":                                     true,
		"go build ./...":                                      false,
		"mvn -B dependency:go-offline":                        true,
	} {
		_, r := runOf(t, "FROM x\nRUN "+run, 0)
		c := r.Cmds[0]
		if got := runmodel.ManagerOf(c).Read(c).DepsOnly(); got != want {
			t.Errorf("%s: DepsOnly() = %v, want %v", run, got, want)
		}
	}
}
