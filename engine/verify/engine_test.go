package verify

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// engineOptions skips t unless a BuildKit daemon is at BUILDKIT_HOST and
// DFOPT_BUILDKIT=1 says to use it (bash realbuild/buildkit.sh start, then
// eval "$(bash realbuild/buildkit.sh env)"), and a static busybox is on the
// host to build from scratch with (Debian's busybox-static): these builds need
// no base image.
func engineOptions(t *testing.T, files map[string]string) Options {
	t.Helper()
	addr := os.Getenv("BUILDKIT_HOST")
	if os.Getenv("DFOPT_BUILDKIT") != "1" || addr == "" {
		t.Skip("needs a BuildKit daemon: DFOPT_BUILDKIT=1 and BUILDKIT_HOST (bash realbuild/buildkit.sh start; eval \"$(bash realbuild/buildkit.sh env)\")")
	}
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("needs a static busybox on PATH (Debian's busybox-static)")
	}
	if out, _ := exec.Command("file", "-L", bb).Output(); len(out) > 0 && !strings.Contains(string(out), "statically linked") {
		t.Skipf("%s is not statically linked", bb)
	}
	dir := t.TempDir()
	writeFiles(t, dir, files)
	b, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "busybox"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	return Options{
		Dockerfile: filepath.Join(dir, "Dockerfile"),
		Addr:       addr,
		Rewrite:    rewrite.Options{Rules: rules.All()},
		Variants:   []string{Safe},
	}
}

func init() {
	// containerd's content store warns on every build that it cannot use
	// fsverity here.
	logrus.SetLevel(logrus.ErrorLevel)
}

// scratchBusybox starts a Dockerfile on a shell made from the context's busybox.
const scratchBusybox = "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n"

// TestVerifyEngine builds on a real BuildKit: dfopt's safe rewrite of a small
// file is equal, the rebuild after an edit reruns only what reads the edited
// file, and a rule that changes a file or breaks the build is caught.
func TestVerifyEngine(t *testing.T) {
	files := map[string]string{
		"Dockerfile": scratchBusybox + "ADD app.sh /app/app.sh\nRUN mkdir -p /data\nRUN echo hello > /data/greeting\nCMD [\"/bin/sh\", \"/app/app.sh\"]\n",
		"app.sh":     "cat /data/greeting\n",
	}
	t.Run("safe", func(t *testing.T) {
		o := engineOptions(t, files)
		o.Rewrite.MergeSmall = true
		o.RunFor, o.Control = 5*time.Second, true
		rep, err := Run(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		rep.WriteText(&out, true)
		t.Log(out.String())
		orig, got := rep.Results[0], rep.Results[1]
		if rep.Unsteady != 0 {
			t.Errorf("two builds of the original differ in %d paths", rep.Unsteady)
		}
		if rep.Failed() || got.Equal == nil || !*got.Equal || len(got.ByRules) > 0 || !got.Changed {
			t.Fatalf("dfopt's image is not plainly equal:\n%s", out.String())
		}
		for _, r := range rep.Results {
			if r.Ran == nil || r.Ran.Stdout != "hello\n" || r.Ran.Exit != 0 || r.Ran.Running {
				t.Errorf("%s ran: %+v", r.Variant, r.Ran)
			}
		}
		if rep.Touched != "app.sh" || got.Image.RebuildSteps == 0 || got.Image.RebuildCached == 0 || got.Image.RebuildCached == got.Image.RebuildSteps {
			t.Errorf("the rebuild after editing %q: %+v", rep.Touched, got.Image)
		}
		if orig.Image.Layers != got.Image.Layers+1 || orig.Image.Bytes == 0 || orig.Image.GzipBytes >= orig.Image.Bytes {
			t.Errorf("layers %d -> %d, sizes %+v", orig.Image.Layers, got.Image.Layers, orig.Image)
		}
	})
	t.Run("changed file", func(t *testing.T) {
		o := engineOptions(t, files)
		o.Rewrite.Rules = []*rewrite.Rule{editRule("greeting", "echo hello >", "echo hullo >")}
		o.Touch = "-"
		rep, err := Run(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		got := rep.Results[1]
		if !rep.Failed() || len(got.Differs) != 1 || !strings.HasPrefix(got.Differs[0].What, "/data/greeting: content differs") {
			t.Errorf("a changed file is not caught: %+v", got)
		}
	})
	t.Run("command that ends otherwise", func(t *testing.T) {
		o := engineOptions(t, files)
		o.Rewrite.Rules = []*rewrite.Rule{editRule("exit", `"/app/app.sh"]`, `"-c", "sleep 60"]`)}
		o.Touch, o.RunFor = "-", 2*time.Second
		rep, err := Run(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		got := rep.Results[1]
		if !rep.Failed() || got.Ran == nil || !got.Ran.Running || !slices.ContainsFunc(got.Differs, func(d Diff) bool {
			return d.What == "run: exit code 0 before, still running when stopped after"
		}) {
			t.Errorf("a command that runs on is not caught: %+v", got)
		}
	})
	t.Run("the Dockerfile's own ignore file", func(t *testing.T) {
		o := engineOptions(t, map[string]string{
			"app.Dockerfile":              scratchBusybox + "COPY . /ctx/\nCMD [\"ls\", \"/ctx\"]\n",
			"app.Dockerfile.dockerignore": "secret.txt\n",
			".dockerignore":               "keep.txt\n",
			"secret.txt":                  "s", "keep.txt": "k",
		})
		o.Dockerfile = filepath.Join(filepath.Dir(o.Dockerfile), "app.Dockerfile")
		o.Touch, o.RunFor = "-", 5*time.Second
		rep, err := Run(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		if got := rep.Results[0].Ran; got == nil || got.Stdout != "app.Dockerfile\napp.Dockerfile.dockerignore\nbusybox\nkeep.txt\n" {
			t.Errorf("the original build did not use app.Dockerfile.dockerignore: %+v %s", got, rep.Results[0].Error)
		}
	})
	t.Run("broken build", func(t *testing.T) {
		o := engineOptions(t, files)
		o.Rewrite.Rules = []*rewrite.Rule{editRule("break", "RUN mkdir -p /data", "RUN mkdir /no/such/parent")}
		o.Touch = "-"
		rep, err := Run(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		if got := rep.Results[1]; !rep.Failed() || got.Error == "" || got.Image != nil {
			t.Errorf("a build that fails is not caught: %+v", got)
		}
	})
}

// editRule is a rule that replaces old with new in the document: a rule
// that changes what the build does, for the tests to catch.
func editRule(name, old, new string) *rewrite.Rule {
	return &rewrite.Rule{Name: name, Kind: rewrite.Safe, Run: func(p *rewrite.Pass) {
		src := string(p.Doc.Src)
		if i := strings.Index(src, old); i >= 0 {
			p.Report(rewrite.Finding{Line: 1, Message: name, Edits: []rewrite.Edit{{Start: i, End: i + len(old), New: new}}})
		}
	}}
}
