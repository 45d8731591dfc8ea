package runmodel_test

import (
	"strings"
	"testing"

	"github.com/dfopt/dfopt/internal/runmodel"
)

// TestRemovals reads the rm operands of a RUN: their patterns (quoted
// wildcards escaped), -r, and what is not known.
func TestRemovals(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want string
	}{
		{"FROM a\nRUN rm -rf /app/tests /tmp/*.tar.gz", "r /app/tests; r /tmp/*.tar.gz"},
		{"FROM a\nWORKDIR /app\nRUN rm x && cd sub && unlink y", "/app/x; /app/sub/y"},
		{"FROM a\nRUN rm '/a/*' \"/b/[x]\"/* /c\\*", `/a/\*; /b/\[x\]/*; /c\*`},
		{"FROM a\nWORKDIR /app\nRUN rm -r dir/ -- -f", "r /app/dir/; r /app/-f"},
		{"FROM a\nRUN rm -R /a && rm --recursive /b && rm -fr /c && rm -f /d", "r /a; r /b; r /c; /d"},
		{"FROM a\nRUN rm -rf ~/.cache /x/$NAME $Y ../z", "r /root/.cache; r ?/x/; r ?/; r ?/"},
		{"FROM a\nRUN rm -rf rel", "r ?/"}, // no WORKDIR known
		{"FROM a\nRUN find /x -name '*.pyc' | xargs rm -f", "?/"},
		{"FROM a\nRUN rmdir /empty", ""},
		{"FROM a\nRUN [\"rm\", \"/a/*\"]", `/a/\*`}, // no shell, no wildcard
	} {
		m, r := runOf(t, tc.src, 0)
		var got []string
		for _, rm := range m.Removals(r) {
			s := rm.Pattern
			if !rm.Known {
				s = "?" + rm.Prefix
			}
			if rm.Recursive {
				s = "r " + s
			}
			got = append(got, s)
		}
		if g := strings.Join(got, "; "); g != tc.want {
			t.Errorf("%q: removals %q, want %q", tc.src, g, tc.want)
		}
	}
}

func TestRemovalRemoves(t *testing.T) {
	for _, tc := range []struct {
		src  string
		path string
		dir  bool
		want bool
	}{
		{"FROM a\nRUN rm -rf /opt/kimai/var/cache/*", "/opt/kimai/var/cache/.gitkeep", false, false},
		{"FROM a\nRUN rm -rf /opt/kimai/var/cache/*", "/opt/kimai/var/cache/prod/x.php", false, true},
		{"FROM a\nRUN rm -f /opt/kimai/var/cache/*", "/opt/kimai/var/cache/prod/x.php", false, false}, // no -r
		{"FROM a\nRUN rm -f /opt/kimai/var/cache/*", "/opt/kimai/var/cache/x.php", false, true},
		{"FROM a\nRUN rm -rf /app/tests", "/app/tests/a/b.py", false, true},
		{"FROM a\nRUN rm -rf /app/tests", "/app/tests", true, true},
		{"FROM a\nRUN rm /app/tests", "/app/tests", true, false}, // rm refuses a folder
		{"FROM a\nRUN rm -rf /app/tests/", "/app/tests/a.py", false, true},
		{"FROM a\nRUN rm -f /app/x.py/", "/app/x.py", false, false},
		{"FROM a\nRUN rm -rf /", "/etc/passwd", false, false},
		{"FROM a\nRUN rm -rf /app/$X", "/app/y", false, false}, // not known: Removes says no
	} {
		m, r := runOf(t, tc.src, 0)
		got := false
		for _, rm := range m.Removals(r) {
			got = got || rm.Removes(tc.path, tc.dir)
		}
		if got != tc.want {
			t.Errorf("%q removes %s: %v, want %v", tc.src, tc.path, got, tc.want)
		}
	}
}

// TestWriterBefore asks whether a command of the RUN before its rm may have
// made what the rm deletes.
func TestWriterBefore(t *testing.T) {
	for _, tc := range []struct {
		src, place string
		want       bool
	}{
		{"FROM a\nRUN cat /hello.c > /hello && rm /hello.c", "/hello.c", true}, // cat names it: reading is not told from writing
		{"FROM a\nRUN echo hi > /x/y && rm -rf /x", "/x", true},
		{"FROM a\nRUN echo hi && rm -rf /x", "/x", false},
		{"FROM a\nRUN mkdir -p /app/build && rm -rf /app/build", "/app/build", true},
		{"FROM a\nRUN make && rm -rf /app/build", "/app/build", true}, // make may write anything
		{"FROM a\nWORKDIR /app\nRUN npm ci && rm -rf node_modules/x", "/app/node_modules/x", true},
		{"FROM a\nRUN apt-get install -y x && rm -rf /usr/share/doc", "/usr/share/doc", true},
		{"FROM a\nRUN rm -rf /x && rm -rf /x/y", "/x/y", false},
		{"FROM a\nRUN rm -rf /x && make", "/x", false}, // make runs after
	} {
		m, r := runOf(t, tc.src, 0)
		rms := m.Removals(r)
		last := rms[len(rms)-1]
		w := m.WriterBefore(r, last.Cmd, []runmodel.Place{{Path: tc.place}})
		if got := w != nil; got != tc.want {
			t.Errorf("%q: a writer of %s before the last rm: %v (%+v), want %v", tc.src, tc.place, got, w, tc.want)
		}
	}
}

// TestDeletes lists where a command may delete files.
func TestDeletes(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want string
	}{
		{"FROM a\nRUN mv /app/a /app/b", "/app/a /app/b"},
		{"FROM a\nRUN find /app -name '*.pyc' -delete", "/app"},
		{"FROM a\nWORKDIR /app\nRUN find -name '*.pyc' -delete", "/app"},
		{"FROM a\nRUN find /app -name '*.pyc' -print", ""},
		{"FROM a\nRUN cat /app/x > /y && cp /app/x /z && sed -i s/a/b/ /app/x", ""},
		{"FROM a\nRUN echo hi > /app/x", ""},
		{"FROM a\nRUN curl -o /app/x https://example.org/x", ""},
		{"FROM a\nRUN tar -xzf /tmp/v.tar.gz -C /opt && tar -cf /x.tar --remove-files /app", "/x.tar /app"},
		{"FROM a\nRUN gzip /app/log && gzip -k /app/a && gunzip -c /app/b.gz > /b", "/app/log"},
		{"FROM a\nWORKDIR /app\nRUN git clean -fdx", "/app/clean /app"}, // its words read as paths too,
		{"FROM a\nWORKDIR /app\nRUN npm ci", "/app/node_modules"},
		{"FROM a\nRUN apt-get install -y curl", ""},
		{"FROM a\nRUN ./build.sh", "anywhere"},
	} {
		m, r := runOf(t, tc.src, 0)
		var got []string
		for _, c := range r.Cmds {
			for _, p := range m.Deletes(r, c, m.State(r.In)) {
				got = append(got, p.String())
			}
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("%q deletes in %q, want %q", tc.src, g, tc.want)
		}
	}
}

func TestMountTargets(t *testing.T) {
	for _, tc := range []struct {
		src, want string
		known     bool
	}{
		{"FROM a\nRUN --mount=type=cache,target=/root/.cache rm -rf /root/.cache/x", "/root/.cache", true},
		{"FROM a\nWORKDIR /app\nRUN --mount=type=bind,source=x,target=node_modules --mount=type=secret,id=k,target=/run/k true", "/app/node_modules /run/k", true},
		{"FROM a\nRUN --mount=type=cache,target=rel true", "", false},
		{"FROM a\nARG T=/x\nRUN --mount=type=cache,target=$T true", "", false},
		{"FROM a\nRUN --mount=type=secret,id=npmrc --mount=type=ssh true", "/run/secrets /run/buildkit", true},
		{"FROM a\nRUN true", "", true},
	} {
		m, r := runOf(t, tc.src, 0)
		got, known := m.MountTargets(r)
		if g := strings.Join(got, " "); g != tc.want || known != tc.known {
			t.Errorf("%q: MountTargets = %q, %v; want %q, %v", tc.src, g, known, tc.want, tc.known)
		}
	}
}
