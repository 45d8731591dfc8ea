package realbuild

import (
	"archive/tar"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dfopt/dfopt/internal/runmodel"
)

// deliberateRemovals are the package-manager caches and indexes that dfopt's
// rules take out of an image on purpose (apt-hygiene, apk-no-cache,
// rpm-clean, pip-no-cache, node-cache, go-clean, jvm-cache, or a cache mount
// over them with --cache-mounts). TestAdversarial lets a path at or under one
// of them be missing from dfopt's image, and an empty folder be there only
// after dfopt (a cache mount's mount point, and the folders BuildKit makes to
// hold it), and lists each such path apart, never silently. Anything else
// that differs, and any content, mode or owner change even in these folders,
// is a difference. A case's README can take a location back out of this list
// ("keep: /var/lib/apt/lists") where a later build reads it.
//
// env is the original image's environment: a variable the table says moves a
// cache (PIP_CACHE_DIR=/data/pip, or NAME/sub) names where it went instead.
// Only an absolute folder below the root counts.
func deliberateRemovals(env []string) []string {
	locs := []string{"/go/pkg/mod"} // the golang image's module cache (GOPATH=/go)
	add := func(dir string) {
		if !slices.Contains(locs, dir) {
			locs = append(locs, dir)
		}
	}
	vars := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	for _, m := range runmodel.Managers {
		for _, c := range m.Caches {
			dir := c.Dir
			if rest, ok := strings.CutPrefix(dir, "~/"); ok {
				dir = "/root/" + rest
			}
			add(dir)
			for _, e := range c.Env {
				name, sub, _ := strings.Cut(e, "/")
				v := path.Clean(vars[name])
				if path.IsAbs(v) && v != "/" {
					add(path.Join(v, sub))
				}
			}
		}
	}
	return locs
}

// removals is what a comparison may set apart: the locations of
// deliberateRemovals for the image's environment, less those the case keeps.
type removals struct {
	locs, keep []string
}

func newRemovals(env, keep []string) removals {
	return removals{locs: deliberateRemovals(env), keep: keep}
}

// homeCaches are the caches the table keeps in a home folder, relative to
// it ("/.npm"): a user's home other than root's holds them too.
func homeCaches() []string {
	var out []string
	for _, m := range runmodel.Managers {
		for _, c := range m.Caches {
			if rest, ok := strings.CutPrefix(c.Dir, "~/"); ok && !slices.Contains(out, "/"+rest) {
				out = append(out, "/"+rest)
			}
		}
	}
	return out
}

// inHomeCache says whether p lies in a home folder's cache: a path with a
// cache's folders (/.npm, /.cache/pip) at, or above, its end.
func inHomeCache(p string) bool {
	for _, rel := range homeCaches() {
		if strings.HasSuffix(p, rel) || strings.Contains(p, rel+"/") {
			return true
		}
	}
	return false
}

// buildStampFiles are files whose content records when a build ran, so that
// two builds of one Dockerfile, minutes apart, differ there whatever dfopt
// does (found by building a Debian apt-get install twice with --no-cache):
// dpkg's and apt's logs carry times, and apt's binary caches the times of the
// files they index. Only a change of content at the same size is set aside,
// and listed: a log that grew or shrank, or a file that appears or goes, is a
// difference, since it says that something else was installed.
func buildStampFiles() []string {
	return append(timeStampFiles(),
		"/var/log/dpkg.log",
		"/var/cache/ldconfig/aux-cache", // the times and inodes of the libraries it indexed
		"/var/log/alternatives.log",
		"/var/log/apt/history.log",
		"/var/log/apt/term.log",
		"/var/log/apt/eipp.log.xz",
		"/var/cache/apt/pkgcache.bin",
		"/var/cache/apt/srcpkgcache.bin",
	)
}

// under says whether p is loc or lies below it.
func under(p, loc string) bool {
	return p == loc || strings.HasPrefix(p, loc+"/")
}

// path says whether p lies at or under a location that the case does not
// keep.
func (r removals) path(p string) bool {
	return (slices.ContainsFunc(r.locs, func(loc string) bool { return under(p, loc) }) || inHomeCache(p)) &&
		!slices.ContainsFunc(r.keep, func(k string) bool { return under(p, k) })
}

// around says whether a path lies at, under or above a location that the
// case does not keep: a folder above one may exist only because of it
// (BuildKit makes the folders that hold a cache mount's mount point; pip
// makes /root/.cache to hold its cache).
func (r removals) around(p string) bool {
	return (slices.ContainsFunc(r.locs, func(loc string) bool { return under(p, loc) || under(loc, p) }) || aroundHomeCache(p)) &&
		!slices.ContainsFunc(r.keep, func(k string) bool { return under(p, k) })
}

// aroundHomeCache says whether p is in a home folder's cache, or a folder
// of the way to one (/app/.cache on the way to /app/.cache/pip).
func aroundHomeCache(p string) bool {
	if inHomeCache(p) {
		return true
	}
	for _, rel := range homeCaches() {
		for i := 1; i < len(rel); i++ {
			if rel[i] == '/' && strings.HasSuffix(p, rel[:i]) {
				return true
			}
		}
	}
	return false
}

// How apartDeliberate describes what it sets apart.
const (
	apartRemoved = ": only in before"
	apartHolder  = ": only in before (a folder that held only removed caches)"
	apartMount   = ": only in after (a cache-mount point, or a folder that holds only those)"
)

// apartDeliberate takes out of copies of before and after the paths that
// dfopt may remove on purpose: those only in before at or under a location,
// folders only in before that held nothing else, and folders only in after
// that hold nothing but such folders (cache-mount points). It returns the
// copies and those paths with how they differ, in path order. A folder's own
// entry never changes with what is removed from it: the comparison leaves
// times out and gives folders no size.
func apartDeliberate(before, after fsTree, r removals) (fsTree, fsTree, []string) {
	removed := apartSide(before, after, func(p string, e fsEntry) bool {
		return r.path(p) || e.Type == tar.TypeDir && r.around(p)
	})
	mounts := apartSide(after, before, func(p string, e fsEntry) bool {
		return e.Type == tar.TypeDir && r.around(p)
	})
	b, a := maps.Clone(before), maps.Clone(after)
	how := map[string]string{}
	for _, p := range removed {
		delete(b, p)
		how[p] = apartHolder
		if r.path(p) {
			how[p] = apartRemoved
		}
	}
	for _, p := range mounts {
		delete(a, p)
		how[p] = apartMount
	}
	var apart []string
	for _, p := range slices.Sorted(maps.Keys(how)) {
		apart = append(apart, p+how[p])
	}
	return b, a, apart
}

// apartSide lists the paths only in tree, not in other, that ok accepts and
// below which every path is such a path too.
func apartSide(tree, other fsTree, ok func(string, fsEntry) bool) []string {
	only := func(p string) bool {
		_, inOther := other[p]
		return !inOther && ok(p, tree[p])
	}
	var out []string
	for p := range tree {
		if only(p) && allBelow(tree, p, only) {
			out = append(out, p)
		}
	}
	return out
}

// allBelow says whether every path of tree below dir satisfies ok.
func allBelow(tree fsTree, dir string, ok func(string) bool) bool {
	for p := range tree {
		if strings.HasPrefix(p, dir+"/") && !ok(p) {
			return false
		}
	}
	return true
}

// apartStamps moves the same-size content differences of buildStampFiles
// out of a difference list.
func apartStamps(diffs []string) (rest, stamps []string) {
	return apartContentOf(diffs, buildStampFiles())
}

// summarizeApart says in one line which locations the deliberate removals
// fall under and how many paths each: "/var/lib/apt/lists (14 paths)".
func summarizeApart(apart []string, r removals) string {
	counts := map[string]int{}
	for _, line := range apart {
		p, how, _ := strings.Cut(line, ": only in ")
		loc := p
		for _, l := range r.locs {
			if under(p, l) {
				loc = l
				break
			}
		}
		switch ": only in " + how {
		case apartMount:
			loc = "mount point " + loc
		case apartHolder:
			loc = "folder " + loc
		}
		counts[loc]++
	}
	var parts []string
	for _, loc := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s (%d)", loc, counts[loc]))
	}
	return strings.Join(parts, ", ")
}

// TestApartDeliberate checks, without an engine, what the adversarial suite
// lets dfopt remove, and that a removal leaves its folder's entry alike.
func TestApartDeliberate(t *testing.T) {
	before, err := readTree(tarOf(t,
		dirEntry("var/lib/apt/lists/", 0o755),
		fileEntry("var/lib/apt/lists/deb_Packages", 0o644, "Package: hello\n"),
		fileEntry("var/lib/apt/extended_states", 0o644, "x"),
		dirEntry("root/", 0o700),
		fileEntry("root/.npm/_cacache/index", 0o644, "i"),
		dirEntry("root/.cache/", 0o755),
		dirEntry("root/.cache/pip/", 0o755),
		fileEntry("root/.cache/pip/wheels/a.whl", 0o644, "w"),
		dirEntry("usr/local/share/.cache/", 0o755),
		fileEntry("usr/local/share/.cache/other", 0o644, "o"),
		fileEntry("usr/local/share/.cache/yarn/v6/index", 0o644, "y"),
		fileEntry("app/a", 0o644, "a"),
		fileEntry("var/cache/apt/pkgcache.bin", 0o644, "1"),
	))
	if err != nil {
		t.Fatal(err)
	}
	after, err := readTree(tarOf(t,
		// The folder a removal emptied: another time, nothing else.
		tarEntry{h: tar.Header{Name: "var/lib/apt/lists/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(2_000_000_000, 0)}},
		dirEntry("root/", 0o700),
		dirEntry("go/", 0o755),
		dirEntry("go/pkg/", 0o755),
		dirEntry("go/pkg/mod/", 0o755),
		dirEntry("go/other/", 0o755),
		dirEntry("usr/local/share/.cache/", 0o755),
		fileEntry("usr/local/share/.cache/other", 0o644, "o"),
		fileEntry("var/cache/apt/archives/new.deb", 0o644, "d"),
		fileEntry("var/cache/apt/pkgcache.bin", 0o644, "2"),
		dirEntry("srv/", 0o755),
	))
	if err != nil {
		t.Fatal(err)
	}
	b, a, apart := apartDeliberate(before, after, newRemovals(nil, []string{"/root/.npm"}))
	wantApart := []string{
		"/go/pkg" + apartMount,
		"/go/pkg/mod" + apartMount,
		"/root/.cache" + apartHolder,
		"/root/.cache/pip" + apartRemoved,
		"/root/.cache/pip/wheels/a.whl" + apartRemoved,
		"/usr/local/share/.cache/yarn/v6/index" + apartRemoved,
		"/var/lib/apt/lists/deb_Packages" + apartRemoved,
	}
	if !slices.Equal(apart, wantApart) {
		t.Errorf("apart:\n got %q\nwant %q", apart, wantApart)
	}
	got, stamps := apartStamps(compareTrees(b, a))
	want := []string{
		"/app/a: only in before (file, 1 bytes, mode 0644)",
		"/go: only in after (dir, mode 0755)",
		"/go/other: only in after (dir, mode 0755)",
		"/root/.npm/_cacache/index: only in before (file, 1 bytes, mode 0644)",
		"/srv: only in after (dir, mode 0755)",
		"/var/cache/apt/archives/new.deb: only in after (file, 1 bytes, mode 0644)",
		"/var/lib/apt/extended_states: only in before (file, 1 bytes, mode 0644)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("differences left:\n got %q\nwant %q", got, want)
	}
	if len(stamps) != 1 || !strings.HasPrefix(stamps[0], "/var/cache/apt/pkgcache.bin: content differs") {
		t.Errorf("build-time stamps: %q", stamps)
	}
	wantSummary := "/root/.cache/pip (2), /usr/local/share/.cache/yarn (1), /var/lib/apt/lists (1), folder /root/.cache (1), mount point /go/pkg (1), mount point /go/pkg/mod (1)"
	if s := summarizeApart(apart, newRemovals(nil, nil)); s != wantSummary {
		t.Errorf("summary:\n got %s\nwant %s", s, wantSummary)
	}
	// Without the kept location, the npm cache is set apart too.
	_, _, apart = apartDeliberate(before, after, newRemovals(nil, nil))
	if !slices.Contains(apart, "/root/.npm/_cacache/index"+apartRemoved) {
		t.Errorf("apart without keep: %q", apart)
	}
}

// TestDeliberateRemovalsEnv checks that a cache moved by the image's
// environment is a deliberate removal where it went, and only there.
func TestDeliberateRemovalsEnv(t *testing.T) {
	locs := deliberateRemovals([]string{"PIP_CACHE_DIR=/données/pip/", "GOMODCACHE=/", "npm_config_cache=relative", "PATH=/usr/bin"})
	if !slices.Contains(locs, "/données/pip") {
		t.Errorf("PIP_CACHE_DIR's folder is not a location: %q", locs)
	}
	for _, bad := range []string{"/", "relative", "/usr/bin"} {
		if slices.Contains(locs, bad) {
			t.Errorf("%s is a location: %q", bad, locs)
		}
	}
	before, err := readTree(tarOf(t,
		dirEntry("données/", 0o755),
		dirEntry("données/pip/", 0o755),
		fileEntry("données/pip/wheels/flask.whl", 0o644, "w"),
	))
	if err != nil {
		t.Fatal(err)
	}
	after := fsTree{}
	_, a, apart := apartDeliberate(before, after, newRemovals([]string{"PIP_CACHE_DIR=/données/pip"}, nil))
	if len(a) != 0 || len(apart) != 3 {
		t.Errorf("with PIP_CACHE_DIR: apart %q", apart)
	}
	b, _, apart := apartDeliberate(before, after, newRemovals(nil, nil))
	if len(apart) != 0 || len(b) != len(before) {
		t.Errorf("without it: apart %q", apart)
	}
}

// TestFailureOf checks that a failure reads the same through a rewrite of
// the failing RUN and differently where the build stops for another reason.
func TestFailureOf(t *testing.T) {
	fail := func(out, cmd, code string) error {
		return fmt.Errorf("#4 [2/3] RUN apt-get install -y sudo\n#4 2.0 W: missing policy-rc.d\n#4 DONE 2.1s\n#5 [3/3] RUN %s\n#5 0.120 %s\n#5 ERROR: executor failed running [/bin/sh -c %s]: exit code: %s\n------\nexecutor failed running [/bin/sh -c %s]: exit code: %s", cmd, out, cmd, code, cmd, code)
	}
	before := failureOf(fail("npm ERR! missing package-lock.json", "npm ci", "1"))
	if want := "npm ERR! missing package-lock.json / executor failed running: exit code: 1"; before.String() != want {
		t.Errorf("failureOf = %q, want %q (the failing step's output only)", before, want)
	}
	if got := failureOf(fail("npm ERR! missing package-lock.json", "npm ci && npm cache clean --force", "1")); !sameFailure(got, before) {
		t.Errorf("the merged RUN fails otherwise: %q", got)
	}
	// A merged RUN prints what the RUN merged into it printed too.
	merged := fmt.Errorf("#5 [2/2] RUN apt-get install -y sudo && npm ci\n#5 2.0 W: missing policy-rc.d\n#5 3.0 npm ERR! missing package-lock.json\n#5 ERROR: executor failed running [/bin/sh -c x]: exit code: 1\nexecutor failed running [/bin/sh -c x]: exit code: 1")
	if got := failureOf(merged); !sameFailure(before, got) || !sameFailure(got, before) {
		t.Errorf("the merged RUN fails otherwise: %q", got)
	}
	// apt's messages on standard output and error, in another order, with
	// other figures in its progress: the same failure.
	apt := func(lines ...string) error {
		var b strings.Builder
		for _, l := range lines {
			b.WriteString("#6 1.5 " + l + "\n")
		}
		return fmt.Errorf("%s#6 ERROR: executor failed running [/bin/sh -c apt-get install -y x]: exit code: 100\nexecutor failed running [/bin/sh -c apt-get install -y x]: exit code: 100", b.String())
	}
	a1 := failureOf(apt("Fetched 1 MB in 1s (1,024 kB/s)", "is only available from another source", "E: Package 'x' has no installation candidate"))
	a2 := failureOf(apt("E: Package 'x' has no installation candidate", "Fetched 1 MB in 2s (512 kB/s)", "is only available from another source"))
	if !sameFailure(a1, a2) {
		t.Errorf("the same apt failure reads as two: %q, %q", a1, a2)
	}
	for _, other := range []error{
		fail("npm ERR! ENOTCACHED", "npm ci", "1"),
		fail("npm ERR! missing package-lock.json", "npm ci", "2"),
	} {
		if got := failureOf(other); sameFailure(got, before) {
			t.Errorf("%v: reads as the same failure", other)
		}
	}
	var row advRow
	compareOutcomes(&advCase{}, advOutcome{err: fail("a", "x", "1")}, advOutcome{err: fail("b", "x", "1")}, &row)
	if row.result != resFailDiffers || !row.failing() {
		t.Errorf("two failures for different reasons: %s", row.result)
	}
	compareOutcomes(&advCase{}, advOutcome{err: fail("a", "x", "1")}, advOutcome{err: fail("a", "x && y", "1")}, &row)
	if row.result != resBothFail || row.failing() {
		t.Errorf("the same failure: %s", row.result)
	}
}

// TestSplitMessages checks that an error message glued to the end of other
// output reads as its own line, whatever the interleaving.
func TestSplitMessages(t *testing.T) {
	for in, want := range map[string][]string{
		"Building dependency tree...E: Unable to locate package curl": {"Building dependency tree...", "E: Unable to locate package curl"},
		"E: Unable to locate package curl":                            {"E: Unable to locate package curl"},
		"NOTE: nothing":                                               {"NOTE: nothing"},
		"done.npm ERR! a ERROR b":                                     {"done.", "npm ERR! a", "ERROR b"},
		"  ":                                                          nil,
	} {
		if got := splitMessages(in); !slices.Equal(got, want) {
			t.Errorf("splitMessages(%q) = %q, want %q", in, got, want)
		}
	}
	glued := failureOf(fmt.Errorf("#6 1.0 Reading package lists...\n#6 1.1 Building dependency tree...E: Unable to locate package curl\n#6 ERROR: executor failed running [/bin/sh -c x]: exit code: 100\nexecutor failed running [/bin/sh -c x]: exit code: 100"))
	apart := failureOf(fmt.Errorf("#7 1.0 Reading package lists...\n#7 1.1 Building dependency tree...\n#7 1.1 E: Unable to locate package curl\n#7 ERROR: executor failed running [/bin/sh -c y]: exit code: 100\nexecutor failed running [/bin/sh -c y]: exit code: 100"))
	if !sameFailure(glued, apart) {
		t.Errorf("the same failure, glued and apart, reads as two: %q, %q", glued, apart)
	}
}
