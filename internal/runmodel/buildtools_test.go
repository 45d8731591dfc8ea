package runmodel_test

import (
	"strings"
	"testing"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
)

func TestBuildTool(t *testing.T) {
	for _, tc := range []struct {
		mgr, pkg string
		want     runmodel.ToolKind
	}{
		{"apt", "gcc", runmodel.Toolchain},
		{"apt", "gcc-12", runmodel.Toolchain},
		{"apt", "g++", runmodel.Toolchain},
		{"apt", "clang-16", runmodel.Toolchain},
		{"apt", "build-essential", runmodel.Toolchain},
		{"apt", "gcc=4:12.2.0-3", runmodel.Toolchain},
		{"apt", "gcc:amd64", runmodel.Toolchain},
		{"apt", "make", runmodel.Toolchain},
		{"apt", "ninja-build", runmodel.Toolchain},
		{"apt", "pkg-config", runmodel.Toolchain},
		{"apt", "libc6-dev", runmodel.Headers},
		{"apt", "linux-libc-dev", runmodel.Headers},
		{"apt", "libpq-dev", runmodel.DevLibrary},
		{"apt", "python3-dev", runmodel.DevLibrary},
		{"apt", "php8.3-dev", runmodel.DevLibrary},
		{"apt", "libpq5", runmodel.NoTool},
		{"apt", "udev", runmodel.NoTool},
		{"apt", "git", runmodel.VCS},
		{"apt", "mercurial", runmodel.VCS},
		{"apt", "gcc-12-base", runmodel.NoTool}, // a runtime dependency of libgcc
		{"apt", "curl", runmodel.NoTool},
		{"apk", "build-base", runmodel.Toolchain},
		{"apk", "musl-dev", runmodel.Headers},
		{"apk", "linux-headers", runmodel.Headers},
		{"apk", "postgresql-dev", runmodel.DevLibrary},
		{"apk", "gcc~13", runmodel.Toolchain},
		{"apk", "pkgconf", runmodel.Toolchain},
		{"apk", "git=2.45.2-r0", runmodel.VCS},
		{"dnf", "gcc-c++", runmodel.Toolchain},
		{"dnf", "openssl-devel", runmodel.DevLibrary},
		{"dnf", "glibc-devel", runmodel.Headers},
		{"dnf", "@Development Tools", runmodel.Toolchain},
		{"dnf", "@development-tools", runmodel.Toolchain},
		{"yum", "libpq-dev", runmodel.NoTool}, // a Debian name means nothing to yum
		{"zypper", "gcc", runmodel.Toolchain},
		{"microdnf", "python3-devel", runmodel.DevLibrary},
		{"pip", "wheel", runmodel.PyBuild},
		{"pip", "Cython==3.0.10", runmodel.PyBuild},
		{"pip", "setuptools", runmodel.NoTool}, // pkg_resources at run time
		{"pip", "poetry", runmodel.NoTool},
		{"npm", "gcc", runmodel.NoTool},
	} {
		if got := runmodel.BuildTool(tc.mgr, tc.pkg); got != tc.want {
			t.Errorf("BuildTool(%s, %s) = %v, want %v", tc.mgr, tc.pkg, got, tc.want)
		}
	}
}

func TestRunBuildTools(t *testing.T) {
	for _, tc := range []struct {
		run  string
		want string // Base:Kind, with "-" for removed and the group
	}{
		{"apt-get update && apt-get install -y gcc libpq-dev libpq5 && pip install psycopg2", "gcc:compiler or build tool libpq-dev:development package"},
		{"apt-get install -y gcc make && make && apt-get purge -y --auto-remove gcc", "gcc- make:compiler or build tool"},
		{"apk add --no-cache --virtual .build-deps gcc musl-dev && pip install x && apk del .build-deps", "gcc-.build-deps musl-dev-.build-deps"},
		{"apk add --no-cache -t .b gcc && apk del --no-network .b", "gcc-.b"},
		{"apt-get install -y gcc && apt-get purge -y $deps", "gcc-"},
		{"apt-get install -y $deps gcc", ""},                                              // operands after one the model cannot read are not known
		{"apt-get install -y gcc && apt-get autoremove -y", "gcc:compiler or build tool"}, // autoremove keeps what was named
		{"apt-get install -y gcc && apt-get purge -y gcc-12", "gcc:compiler or build tool"},
		{"dnf groupinstall -y 'Development Tools' && dnf clean all", "Development Tools:compiler or build tool"},
		{"yum install -y gcc && dnf remove -y gcc", "gcc-"},
		{"pip install --no-cache-dir wheel cython setuptools", "wheel:Python build tool cython:Python build tool"},
		{"apt-get purge -y gcc && apt-get install -y gcc", "gcc:compiler or build tool"}, // removed before, installed after
		{"apt-get install -y gcc && make && apt-mark auto '.*' && apt-mark manual $saved && apt-get purge -y --auto-remove", "gcc-"},
		{"apt-get install -y gcc && make && apt-mark showmanual | xargs apt-mark auto && apt-get autoremove -y", "gcc-"},
		{"apt-get install -y gcc && make && apt-mark auto '.*'", "gcc:compiler or build tool"},
	} {
		_, r := runOf(t, "FROM debian\nRUN "+tc.run+"\n", 0)
		var got []string
		for _, in := range r.BuildTools() {
			switch {
			case in.Removed && in.Group != "":
				got = append(got, in.Base+"-"+in.Group)
			case in.Removed:
				got = append(got, in.Base+"-")
			default:
				got = append(got, in.Base+":"+in.Kind.String())
			}
		}
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("RUN %s\n got %q\nwant %q", tc.run, s, tc.want)
		}
	}
}

func TestToolUse(t *testing.T) {
	for _, tc := range []struct {
		run, mgr, pkg string
		want          runmodel.Use
	}{
		{"gcc -o hello hello.c", "apt", "gcc", runmodel.Runs},
		{"cc -o hello hello.c", "apt", "build-essential", runmodel.Runs},
		{"sudo make install", "apt", "make", runmodel.Runs},
		{"make", "apt", "libpq-dev", runmodel.BuildsWith},
		{"pip install psycopg2", "apt", "gcc", runmodel.BuildsWith},
		{"python3 -m pip install psycopg2", "apt", "libpq-dev", runmodel.BuildsWith},
		{"npm ci", "apk", "build-base", runmodel.BuildsWith},
		{"node-gyp rebuild", "apt", "g++", runmodel.BuildsWith},
		{"./configure --prefix=/usr", "apt", "gcc", runmodel.BuildsWith},
		{"docker-php-ext-install pdo_pgsql", "apt", "libpq-dev", runmodel.BuildsWith},
		{"./build.sh", "apt", "gcc", runmodel.MayUse},
		{"echo hi", "apt", "gcc", runmodel.NoUse},
		{"rm -rf /tmp/x", "apt", "gcc", runmodel.NoUse},
		{"git clone https://example.com/x", "apt", "git", runmodel.Runs},
		{"pip install git+https://example.com/x", "apt", "git", runmodel.BuildsWith},
		{"gcc -o x x.c", "apt", "git", runmodel.NoUse},
		{"pip wheel -r requirements.txt", "pip", "wheel", runmodel.BuildsWith},
		{"apt-get install -y libpq5", "apt", "gcc", runmodel.NoUse},
		{"sh -c 'gcc -o x x.c'", "apt", "gcc-12", runmodel.Runs},
	} {
		_, r := runOf(t, "FROM debian\nRUN "+tc.run+"\n", 0)
		got := runmodel.NoUse
		for _, c := range r.Cmds {
			got = max(got, runmodel.ToolUse(c, tc.mgr, tc.pkg))
		}
		if got != tc.want {
			t.Errorf("RUN %s: use of %s %s = %d, want %d", tc.run, tc.mgr, tc.pkg, got, tc.want)
		}
	}
}

func TestRuntimeOf(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want string // the runtime's command names, then "open" when open
	}{
		{"FROM debian\nCMD [\"git\", \"daemon\"]\n", "git"},
		{"FROM debian\nENTRYPOINT [\"/entry.sh\"]\nCMD [\"make\", \"run\"]\n", "entry.sh"},
		{"FROM debian\nCMD gcc --version && node app.js\n", "gcc node"},
		{"FROM debian\nRUN true\n", "open"},
		{"FROM debian\nENTRYPOINT [\"bash\", \"-c\"]\n", "bash open"},
		{"FROM debian\nENTRYPOINT [\"bash\", \"-c\"]\nCMD [\"make all\"]\n", "make"},
		{"FROM debian AS base\nCMD [\"python\", \"app.py\"]\nFROM base\nHEALTHCHECK CMD curl -f http://localhost/ || exit 1\n", "python curl exit"},
		{"FROM debian\nENTRYPOINT echo hi\nCMD [\"make\"]\n", "echo"},
	} {
		d, err := rewrite.Parse("t", []byte(tc.src))
		if err != nil {
			t.Fatal(err)
		}
		rt := runmodel.Of(d).RuntimeOf(d.Stages[len(d.Stages)-1])
		var got []string
		for _, c := range rt.Cmds {
			got = append(got, c.Name)
		}
		if rt.Open {
			got = append(got, "open")
		}
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("%q: got %q, want %q", tc.src, s, tc.want)
		}
	}
	d, _ := rewrite.Parse("t", []byte("FROM debian\nENTRYPOINT [\"/entry.sh\"]\nCMD [\"make\", \"run\"]\n"))
	rt := runmodel.Of(d).RuntimeOf(d.Stages[0])
	if u := rt.Uses("apt", "build-essential"); u != runmodel.Runs {
		t.Errorf("an entrypoint given make as its command: use of build-essential %d, want Runs", u)
	}
	if u := rt.Uses("apt", "git"); u != runmodel.MayUse {
		t.Errorf("an entrypoint script: use of git %d, want MayUse", u)
	}
}
