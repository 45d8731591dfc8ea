package imagefs

import (
	"archive/tar"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestApartDeliberate checks what a comparison lets dfopt remove, and that a removal leaves its folder's entry alike.
func TestApartDeliberate(t *testing.T) {
	before, err := ReadTar(tarOf(t,
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
	after, err := ReadTar(tarOf(t,
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
	b, a, apart := Apart(before, after, NewRemovals(nil, []string{"/root/.npm"}))
	wantApart := []string{
		"/go/pkg" + ApartMount,
		"/go/pkg/mod" + ApartMount,
		"/root/.cache" + ApartHolder,
		"/root/.cache/pip" + ApartRemoved,
		"/root/.cache/pip/wheels/a.whl" + ApartRemoved,
		"/usr/local/share/.cache/yarn/v6/index" + ApartRemoved,
		"/var/lib/apt/lists/deb_Packages" + ApartRemoved,
	}
	if !slices.Equal(apart, wantApart) {
		t.Errorf("apart:\n got %q\nwant %q", apart, wantApart)
	}
	got, stamps := ApartStamps(Compare(b, a))
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
	if s := SummarizeApart(apart, NewRemovals(nil, nil)); s != wantSummary {
		t.Errorf("summary:\n got %s\nwant %s", s, wantSummary)
	}
	// Without the kept location, the npm cache is set apart too.
	_, _, apart = Apart(before, after, NewRemovals(nil, nil))
	if !slices.Contains(apart, "/root/.npm/_cacache/index"+ApartRemoved) {
		t.Errorf("apart without keep: %q", apart)
	}
}

// TestDeliberateRemovalsEnv checks that a cache moved by the image's
// environment is a deliberate removal where it went, and only there.
func TestDeliberateRemovalsEnv(t *testing.T) {
	locs := Locations([]string{"PIP_CACHE_DIR=/données/pip/", "GOMODCACHE=/", "npm_config_cache=relative", "PATH=/usr/bin"})
	if !slices.Contains(locs, "/données/pip") {
		t.Errorf("PIP_CACHE_DIR's folder is not a location: %q", locs)
	}
	for _, bad := range []string{"/", "relative", "/usr/bin"} {
		if slices.Contains(locs, bad) {
			t.Errorf("%s is a location: %q", bad, locs)
		}
	}
	before, err := ReadTar(tarOf(t,
		dirEntry("données/", 0o755),
		dirEntry("données/pip/", 0o755),
		fileEntry("données/pip/wheels/flask.whl", 0o644, "w"),
	))
	if err != nil {
		t.Fatal(err)
	}
	after := Tree{}
	_, a, apart := Apart(before, after, NewRemovals([]string{"PIP_CACHE_DIR=/données/pip"}, nil))
	if len(a) != 0 || len(apart) != 3 {
		t.Errorf("with PIP_CACHE_DIR: apart %q", apart)
	}
	b, _, apart := Apart(before, after, NewRemovals(nil, nil))
	if len(apart) != 0 || len(b) != len(before) {
		t.Errorf("without it: apart %q", apart)
	}
}

// TestStampLike checks the files set apart wherever they are, and only at
// the same size.
func TestStampLike(t *testing.T) {
	diffs := []string{
		"/root/.cache/go-build/01/0123-a: content differs, same size 175 (sha256 a -> b)",
		"/home/u/.cache/go-build/ff/ff00-a: content differs, same size 175 (sha256 a -> b)",
		"/root/.cache/go-build/01/0123-d: content differs, same size 175 (sha256 a -> b)",
		"/root/.cache/go-build/01/0123-a: size 175 -> 176 bytes",
		"/opt/x/build/CMakeFiles/CMakeOutput.log: content differs, same size 9 (sha256 a -> b)",
		"/opt/x/build/CMakeOutput.log: content differs, same size 9 (sha256 a -> b)",
		"/app/main-a: content differs, same size 3 (sha256 a -> b)",
	}
	rest, stamps := ApartStamps(diffs)
	if len(stamps) != 3 || len(rest) != 4 || rest[0] != diffs[2] || rest[1] != diffs[3] || rest[2] != diffs[5] || rest[3] != diffs[6] {
		t.Errorf("rest %q\nstamps %q", rest, stamps)
	}
}

// TestNpmDebugLog checks that npm's debug logs, named by the time npm ran,
// are set apart whether they appear, go or differ, and nothing else is.
func TestNpmDebugLog(t *testing.T) {
	diffs := []string{
		"/root/.npm/_logs/2026-12-02T15_07_11_542Z-debug-0.log: only in after (file, 37854 bytes, mode 0644)",
		"/home/node/.npm/_logs/2026-12-02T15_13_12_203Z-debug-12.log: only in before",
		"/root/.npm/_logs/2026-12-02T15_13_12_203Z-debug-0.log: size 9 -> 10 bytes",
		"/root/.npm/_logs/debug.log: only in after (file, 3 bytes, mode 0644)",
		"/root/.npm/_cacache/2026-12-02T15_13_12_203Z-debug-0.log: only in after (file, 3 bytes, mode 0644)",
		"/root/.npm/_logs/2026-12-02T15_13_12_203Z-debug-x.log: only in after (file, 3 bytes, mode 0644)",
		"/app/server.js: only in after (file, 3 bytes, mode 0644)",
	}
	rest, stamps := ApartStamps(diffs)
	if !slices.Equal(stamps, diffs[:3]) || !slices.Equal(rest, diffs[3:]) {
		t.Errorf("rest %q\nstamps %q", rest, stamps)
	}
}
