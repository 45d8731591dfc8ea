package runmodel_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/internal/runmodel"
)

func TestPythonPackage(t *testing.T) {
	for pkg, want := range map[string]bool{
		"python3": true, "python3-dev": true, "python3-venv": true, "python3-pip": true, "python3.11": true,
		"python3.11-dev": true, "python3.11-venv": true, "libpython3-dev": true, "libpython3.11-dev": true,
		"python3=3.11.2-1+b1": true, "python-is-python3": true, "python3-setuptools": true,
		"python3-numpy": false, "python3-psycopg2": false, "python3.x-dev": false, "libpython3.11": false,
		"libpython3.11-stdlib": false, "python": false, "python2.7": false, "gcc": false,
	} {
		if got := runmodel.PythonPackage(pkg); got != want {
			t.Errorf("PythonPackage(%q) = %v, want %v", pkg, got, want)
		}
	}
}

func TestCompilerPackage(t *testing.T) {
	for pkg, want := range map[string]bool{
		"gcc": true, "g++": true, "clang": true, "build-essential": true, "gcc-12": true, "clang-16": true, "gcc:amd64": true,
		"make": false, "libc6-dev": false, "cpp": false, "cpp-12": false, "pkg-config": false, "libpq-dev": false,
	} {
		if got := runmodel.CompilerPackage(pkg); got != want {
			t.Errorf("CompilerPackage(%q) = %v, want %v", pkg, got, want)
		}
	}
}

func TestDevRuntime(t *testing.T) {
	for _, tc := range []struct {
		release, pkg, lib string
		ok                bool
	}{
		{"bookworm", "libpq-dev", "libpq5", true},
		{"bookworm", "libpq-dev=15.6-0+deb12u1", "libpq5", true},
		{"bookworm", "libffi-dev", "libffi8", true},
		{"bookworm", "default-libmysqlclient-dev", "libmariadb3", true},
		{"bookworm", "libgdal-dev", "", false}, // many libraries
		{"bookworm", "libldap2-dev", "", false},
		{"", "libpq-dev", "", false},        // a release the image does not name
		{"trixie", "libffi-dev", "", false}, // not read for trixie
	} {
		lib, ok := runmodel.DevRuntime(tc.release, tc.pkg)
		if lib != tc.lib || ok != tc.ok {
			t.Errorf("DevRuntime(%q, %q) = %q, %v, want %q, %v", tc.release, tc.pkg, lib, ok, tc.lib, tc.ok)
		}
	}
}

// TestDevRuntimeDebian checks the table against apt: on Debian bookworm
// with package lists (DFOPT_CHECK_APT=1), each -dev package depends,
// directly or through the -dev packages it names, on its runtime library.
func TestDevRuntimeDebian(t *testing.T) {
	if os.Getenv("DFOPT_CHECK_APT") != "1" {
		t.Skip("set DFOPT_CHECK_APT=1 on Debian bookworm with apt's lists to check the table")
	}
	rel, err := exec.Command("sh", "-c", ". /etc/os-release && echo $VERSION_CODENAME").Output()
	if err != nil || strings.TrimSpace(string(rel)) != "bookworm" {
		t.Skip("not Debian bookworm")
	}
	dep := regexp.MustCompile(`(?m)^Depends: (.*)$`)
	depends := func(pkg string) []string {
		out, err := exec.Command("apt-cache", "show", "--no-all-versions", pkg).Output()
		if err != nil {
			t.Fatalf("apt-cache show %s: %v", pkg, err)
		}
		m := dep.FindSubmatch(out)
		if m == nil {
			return nil
		}
		var names []string
		for _, d := range strings.Split(string(m[1]), ",") {
			name, _, _ := strings.Cut(strings.TrimSpace(d), " ")
			names = append(names, name)
		}
		return names
	}
	for _, pkg := range runmodel.DevPackages("bookworm") {
		want, _ := runmodel.DevRuntime("bookworm", pkg)
		seen, queue, found := map[string]bool{}, []string{pkg}, false
		for len(queue) > 0 && !found {
			p := queue[0]
			queue = queue[1:]
			for _, d := range depends(p) {
				found = found || d == want
				if strings.Contains(d, "-dev") && !seen[d] {
					seen[d] = true
					queue = append(queue, d)
				}
			}
		}
		if !found {
			t.Errorf("%s: apt names no dependency %s", pkg, want)
		}
	}
}

func TestVenvOf(t *testing.T) {
	for _, tc := range []struct {
		run, dir string
		ok       bool
	}{
		{"RUN python3 -m venv /opt/venv", "/opt/venv", true},
		{"RUN python -m venv --copies --upgrade-deps /venv", "/venv", true},
		{"ENV V=/opt/v\nRUN python3.12 -m venv $V", "/opt/v", true},
		{"RUN python3 -m venv --system-site-packages /opt/venv", "", false},
		{"RUN python3 -m venv /a /b", "", false},
		{"RUN python3 -m pip install x", "", false},
		{"ARG V=/opt/v\nRUN python3 -m venv $V", "", false}, // a build argument may change it
	} {
		m, r := runOf(t, "FROM debian:bookworm\n"+tc.run+"\n", 0)
		v, ok := runmodel.VenvOf(r.Cmds[0])
		dir := ""
		if ok {
			dir, ok = m.WordPath(r, r.Cmds[0], v.Dir)
		}
		if ok != tc.ok || dir != tc.dir {
			t.Errorf("%q: %q, %v, want %q, %v", tc.run, dir, ok, tc.dir, tc.ok)
		}
	}
}

func TestPipElsewhere(t *testing.T) {
	for _, tc := range []struct {
		run       string
		elsewhere bool
		isolation bool
	}{
		{"RUN pip install -r requirements.txt", false, false},
		{"RUN pip install --user -r requirements.txt", true, false},
		{"RUN pip install --target=/deps x", true, false},
		{"RUN python3 -m pip install -e .", true, false},
		{"RUN pip install -qe .", true, false},
		{"RUN PIP_USER=1 pip install x", true, false},
		{"ENV PIP_PREFIX=/x\nRUN pip install x", true, false},
		{"RUN pip install --no-build-isolation .", false, true},
		{"ENV PIP_NO_BUILD_ISOLATION=0\nRUN pip install .", false, true},
	} {
		m, r := runOf(t, "FROM python:3.12\n"+tc.run+"\n", 0)
		c := r.Cmds[0]
		k := runmodel.ManagerOf(c).Read(c)
		s := m.State(r.In)
		env := func(name string) (string, bool) { v, ok := s.Env[name]; return v.Value, ok }
		if got := runmodel.PipElsewhere(k, env) != ""; got != tc.elsewhere {
			t.Errorf("%q: elsewhere %v, want %v", tc.run, got, tc.elsewhere)
		}
		if got := runmodel.PipBuildIsolationOff(k, env); got != tc.isolation {
			t.Errorf("%q: isolation off %v, want %v", tc.run, got, tc.isolation)
		}
	}
}

func TestPythonStarter(t *testing.T) {
	for prog, want := range map[string]bool{
		"python": true, "python3": true, "python3.12": true, "gunicorn": true, "uvicorn": true,
		"/usr/local/bin/python": false, "bash": false, "node": false, "./app.py": false,
	} {
		if got := runmodel.PythonStarter(prog); got != want {
			t.Errorf("PythonStarter(%q) = %v, want %v", prog, got, want)
		}
	}
	if !runmodel.InVenvBin("/opt/venv/bin/python", "/opt/venv") || runmodel.InVenvBin("/usr/local/bin/python", "/opt/venv") || runmodel.InVenvBin("python", "/opt/venv") {
		t.Error("InVenvBin")
	}
}
