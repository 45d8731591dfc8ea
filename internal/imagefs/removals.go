package imagefs

import (
	"archive/tar"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/internal/runmodel"
)

// Locations are the package-manager caches and indexes that dfopt's
// rules take out of an image on purpose (apt-hygiene, apk-no-cache,
// rpm-clean, pip-no-cache, node-cache, go-clean, jvm-cache, or a cache mount
// over them with --cache-mounts). A comparison lets a path at or under one
// of them be missing from dfopt's image, and an empty folder be there only
// after dfopt (a cache mount's mount point, and the folders BuildKit makes to
// hold it), and lists each such path apart, never silently. Anything else
// that differs, and any content, mode or owner change even in these folders,
// is a difference. A caller can take a location back out of this list
// (NewRemovals' keep) where a later build reads it.
//
// env is the original image's environment: a variable the table says moves a
// cache (PIP_CACHE_DIR=/data/pip, or NAME/sub) names where it went instead.
// Only an absolute folder below the root counts.
func Locations(env []string) []string {
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

// Removals is what a comparison may set apart: the locations of
// Locations for the image's environment, less those the caller keeps.
type Removals struct {
	locs, keep []string
}

func NewRemovals(env, keep []string) Removals {
	return Removals{locs: Locations(env), keep: keep}
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

// StampFiles are files whose content records when a build ran, so that
// two builds of one Dockerfile, minutes apart, differ there whatever dfopt
// does (found by building a Debian apt-get install twice with --no-cache):
// dpkg's and apt's logs carry times, and apt's binary caches the times of the
// files they index. Only a change of content at the same size is set aside,
// and listed: a log that grew or shrank, or a file that appears or goes, is a
// difference, since it says that something else was installed.
func StampFiles() []string {
	return append(TimeStampFiles(),
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

// Path says whether p lies at or under a location that is not kept.
func (r Removals) Path(p string) bool {
	return (slices.ContainsFunc(r.locs, func(loc string) bool { return under(p, loc) }) || inHomeCache(p)) &&
		!slices.ContainsFunc(r.keep, func(k string) bool { return under(p, k) })
}

// Around says whether a path lies at, under or above a location that is
// not kept: a folder above one may exist only because of it
// (BuildKit makes the folders that hold a cache mount's mount point; pip
// makes /root/.cache to hold its cache).
func (r Removals) Around(p string) bool {
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

// How Apart describes what it sets apart.
const (
	ApartRemoved = ": only in before"
	ApartHolder  = ": only in before (a folder that held only removed caches)"
	ApartMount   = ": only in after (a cache-mount point, or a folder that holds only those)"
)

// Apart takes out of copies of before and after the paths that
// dfopt may remove on purpose: those only in before at or under a location,
// folders only in before that held nothing else, and folders only in after
// that hold nothing but such folders (cache-mount points). It returns the
// copies and those paths with how they differ, in path order. A folder's own
// entry never changes with what is removed from it: the comparison leaves
// times out and gives folders no size.
func Apart(before, after Tree, r Removals) (Tree, Tree, []string) {
	removed := apartSide(before, after, func(p string, e Entry) bool {
		return r.Path(p) || e.Type == tar.TypeDir && r.Around(p)
	})
	mounts := apartSide(after, before, func(p string, e Entry) bool {
		return e.Type == tar.TypeDir && r.Around(p)
	})
	b, a := maps.Clone(before), maps.Clone(after)
	how := map[string]string{}
	for _, p := range removed {
		delete(b, p)
		how[p] = ApartHolder
		if r.Path(p) {
			how[p] = ApartRemoved
		}
	}
	for _, p := range mounts {
		delete(a, p)
		how[p] = ApartMount
	}
	var apart []string
	for _, p := range slices.Sorted(maps.Keys(how)) {
		apart = append(apart, p+how[p])
	}
	return b, a, apart
}

// apartSide lists the paths only in tree, not in other, that ok accepts and
// below which every path is such a path too.
func apartSide(tree, other Tree, ok func(string, Entry) bool) []string {
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
func allBelow(tree Tree, dir string, ok func(string) bool) bool {
	for p := range tree {
		if strings.HasPrefix(p, dir+"/") && !ok(p) {
			return false
		}
	}
	return true
}

// ApartStamps moves the same-size content differences of StampFiles
// out of a difference list, and every difference of npm's debug logs,
// which npm names by the time it ran (see npmDebugLog).
func ApartStamps(diffs []string) (rest, stamps []string) {
	rest, stamps = ApartContentOf(diffs, StampFiles())
	var kept []string
	for _, d := range rest {
		p, _, ok := strings.Cut(d, ": content differs, same size ")
		if ok && stampLike(p) || npmDebugLog(d) {
			stamps = append(stamps, d)
			continue
		}
		kept = append(kept, d)
	}
	return kept, stamps
}

// npmDebugLog says whether a difference is of a debug log npm writes for
// each command it runs, in its cache folder's _logs, named by the time it
// started (_logs/2026-12-02T15_07_11_542Z-debug-0.log): two builds of one
// Dockerfile have other names there, and a rule that adds an npm command
// (npm cache clean) adds a log. It says how npm ran, not what the image
// does: the bench found node apps equal but for these.
func npmDebugLog(d string) bool {
	p, _, ok := strings.Cut(d, ": ")
	if !ok {
		return false
	}
	dir, base := path.Split(p)
	stamp, n, ok := strings.Cut(strings.TrimSuffix(base, ".log"), "Z-debug-")
	return strings.HasSuffix(dir, "/_logs/") && strings.HasSuffix(base, ".log") && ok &&
		len(stamp) == len("2006-01-02T15_04_05_000") && stamp[4] == '-' && stamp[10] == 'T' && n != "" &&
		strings.Trim(n, "0123456789") == ""
}

// stampLike says whether a file, wherever it is, holds the time (or a
// temporary name) of the build that wrote it, by what tool writes it: the
// action records of Go's build cache ("v1 ACTION OUTPUT SIZE TIME"), and
// CMake's logs of its configure checks (which name their temporary targets).
func stampLike(p string) bool {
	dir, base := path.Split(p)
	switch {
	case strings.HasSuffix(base, "-a") && strings.Contains(dir, "/go-build/"):
		return true
	case strings.HasSuffix(dir, "/CMakeFiles/") && (base == "CMakeOutput.log" || base == "CMakeError.log" || base == "CMakeConfigureLog.yaml"):
		return true
	}
	return false
}

// SummarizeApart says in one line which locations the deliberate removals
// fall under and how many paths each: "/var/lib/apt/lists (14 paths)".
func SummarizeApart(apart []string, r Removals) string {
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
		case ApartMount:
			loc = "mount point " + loc
		case ApartHolder:
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

// TimeStampFiles are files whose content is the time a build wrote them, so
// that two builds differ there whatever the Dockerfile says: Go's build
// cache records when it was trimmed.
func TimeStampFiles() []string {
	return []string{"/root/.cache/go-build/trim.txt"}
}

// ApartContentOf moves the differences in content alone, at the same size,
// of the given files out of a difference list.
func ApartContentOf(diffs, files []string) (rest, apart []string) {
	for _, d := range diffs {
		if slices.ContainsFunc(files, func(p string) bool { return strings.HasPrefix(d, p+": content differs, same size ") }) {
			apart = append(apart, d)
			continue
		}
		rest = append(rest, d)
	}
	return rest, apart
}
