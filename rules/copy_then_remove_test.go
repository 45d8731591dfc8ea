package rules_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// TestCopyThenRemoveLandings checks where copy-then-remove takes a COPY's
// files to land, as BuildKit copies them: what an rm of each path finds.
func TestCopyThenRemoveLandings(t *testing.T) {
	files := map[string]string{
		"a.txt": "a", "b.txt": "b", "conf/app.conf": "c", "conf/.hidden": "h",
		"lib/x.py": "x", "lib/tests/t.py": "t", "skip.log": "s", ".dockerignore": "*.log\n",
	}
	for _, tc := range []struct {
		copy, rm string
		want     string // the files reported, or "" for none
	}{
		{"COPY a.txt /opt/", "/opt/a.txt", "/opt/a.txt"},
		{"COPY a.txt /opt/a", "/opt/a", "/opt/a"},                        // a file as dest
		{"COPY a.txt /tmp", "/tmp/a.txt", "/tmp/a.txt"},                  // into a folder every base image has
		{"COPY a.txt b.txt /opt", "/opt/b.txt", "/opt/b.txt"},            // several sources: dest is a folder
		{"COPY conf /etc/app", "/etc/app/app.conf", "/etc/app/app.conf"}, // a folder's contents
		{"COPY conf /etc/app", "/etc/app/conf", ""},
		{"COPY conf/ /etc/app/", "/etc/app/.hidden", "/etc/app/.hidden"},
		{"COPY * /srv/", "/srv/app.conf", "/srv/app.conf"}, // * takes conf's contents, not conf
		{"COPY * /srv/", "/srv/skip.log", ""},              // the ignore file keeps it out
		{"COPY *.txt /srv/", "/srv/*", "/srv/a.txt and /srv/b.txt"},
		{"COPY . /app", "/app/lib", ""}, // rm without -r deletes no folder
		{"COPY . /app", "-r /app/lib", "/app/lib/tests/t.py and /app/lib/x.py"},
		{"COPY . /app", "-r /app/lib/tests/", "/app/lib/tests/t.py"},
		{"COPY . /app", "-r /app/*/tests", "/app/lib/tests/t.py"},
		{"COPY . /app", "-f /app/conf/*", "/app/conf/app.conf"}, // not .hidden
		{"COPY --exclude=lib/tests . /app", "-r /app/lib/tests", ""},
		{"COPY --exclude=lib/tests . /app", "-r /app/lib", "/app/lib/x.py"},
		{"ADD conf /etc/app", "/etc/app/app.conf", "/etc/app/app.conf"},
	} {
		df := fmt.Sprintf("FROM busybox\n%s\nRUN rm %s\n", tc.copy, tc.rm)
		ctx := map[string]string{"Dockerfile": df}
		for k, v := range files {
			ctx[k] = v
		}
		res := runInContext(t, writeContext(t, ctx), rewrite.Options{}, rules.CopyThenRemove)
		got := messages(res)
		switch {
		case tc.want == "" && got != "":
			t.Errorf("%s; rm %s: want no finding, got %s", tc.copy, tc.rm, got)
		case tc.want != "" && !strings.Contains(got, "removes "+tc.want+", which"):
			t.Errorf("%s; rm %s: want %q removed, got %q", tc.copy, tc.rm, tc.want, got)
		}
	}
}
