package main

import (
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"testing"
)

func TestVersionOf(t *testing.T) {
	vcs := func(rev, at, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: at}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "3ac46e499ea31bb765fb5cec0751fb91d744e3b0"
	for _, c := range []struct {
		name     string
		version  string
		settings []debug.BuildSetting
		want     string
	}{
		{"go install at a release", "v1.2.0", nil, "v1.2.0"},
		{"go install at a commit", "v0.0.0-20261202133538-3ac46e499ea3", nil, "v0.0.0-20261202133538-3ac46e499ea3"},
		{"go run, go test", "(devel)", nil, "(devel)"},
		{"no version at all", "", nil, "(devel)"},
		{"checkout (go 1.24 and later)", "v0.0.0-20261202133538-3ac46e499ea3", vcs(rev, "2026-12-02T13:35:38Z", "false"), "(devel) 3ac46e499ea3 2026-12-02T13:35:38Z"},
		{"changed checkout", "v0.0.0-20261202133538-3ac46e499ea3+dirty", vcs(rev, "2026-12-02T13:35:38Z", "true"), "(devel) 3ac46e499ea3+dirty 2026-12-02T13:35:38Z"},
		{"checkout (older go)", "(devel)", vcs(rev, "2026-12-02T13:35:38Z", "false"), "(devel) 3ac46e499ea3 2026-12-02T13:35:38Z"},
		{"checkout of a release tag", "v1.2.0", vcs(rev, "2026-12-02T13:35:38Z", "false"), "v1.2.0"},
		{"changed checkout of a release tag", "v1.2.0+dirty", vcs(rev, "2026-12-02T13:35:38Z", "true"), "(devel) 3ac46e499ea3+dirty 2026-12-02T13:35:38Z"},
		{"no commit time", "(devel)", vcs(rev, "", "false")[:2], "(devel) 3ac46e499ea3"},
	} {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/dfopt/dfopt", Version: c.version}, Settings: c.settings}
		if got := versionOf(bi); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if got := versionOf(nil); got != "(devel)" {
		t.Errorf("no build information: %q", got)
	}
}

// TestVersionStamp builds dfopt with a version given to -ldflags
// "-X main.version=…", as the Dockerfile does, and checks that --version
// prints it.
func TestVersionStamp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dfopt")
	}
	bin := filepath.Join(t.TempDir(), "dfopt")
	const stamp = "v9.8.7-test"
	// No -trimpath or CGO_ENABLED=0: the packages go test compiled serve.
	if out, err := exec.Command("go", "build", "-ldflags", "-X main.version="+stamp, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("dfopt --version: %v", err)
	}
	if got, want := string(out), "dfopt "+stamp+"\n"; got != want {
		t.Errorf("dfopt --version printed %q, want %q", got, want)
	}
}
