package rules

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
)

// addContext makes a build context of files (a value of "->target" makes a
// symbolic link) and opens it as dfopt does.
func addContext(t *testing.T, files map[string]string) *rewrite.BuildContext {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(body, "->"); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(body), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx, err := rewrite.OpenContext(dir, filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

func TestAddSources(t *testing.T) {
	archive := string(tarBytes(t, tar.FormatUSTAR, "hostname", "box\n"))
	ctx := addContext(t, map[string]string{
		".dockerignore":    "secret.conf\nbuild/old.tar\n",
		"app.conf":         "listen 8080\n",
		"bundle":           archive,
		"secret.conf":      "password\n",
		".envrc":           "export A=1\n",
		"src/main.py":      "print()\n",
		"conf/a.conf":      "a\n",
		"conf/b.conf":      "b\n",
		"build/new.tar":    "not really\n",
		"build/old.tar":    archive,
		"build/app.txt":    "text\n",
		"real/x.txt":       "x\n",
		"linked":           "->real",
		"current.conf":     "->app.conf",
		"deep/a/b/c.conf":  "c\n",
		"deep/a/d/tar.bin": archive,
	})
	for _, tc := range []struct {
		srcs []string
		want addAction
	}{
		{[]string{"app.conf"}, copies},
		{[]string{"./app.conf"}, copies},
		{[]string{"/app.conf"}, copies},
		{[]string{"../../app.conf"}, copies}, // BuildKit goes no higher than the context
		{[]string{"bundle"}, mayUnpack},
		{[]string{"bundle/"}, mayUnpack}, // the slash is cleaned away: still the file
		{[]string{"src"}, copies},
		{[]string{"src/"}, copies},
		{[]string{"."}, copies},
		{[]string{"app.conf", "bundle"}, mayUnpack},
		{[]string{"missing", "bundle"}, mayUnpack},
		{[]string{"app.conf", "missing"}, unclear},
		{[]string{"missing.tar.gz"}, mayUnpack},
		{[]string{"secret.conf"}, unclear},
		{[]string{"build/old.tar"}, mayUnpack}, // ignored, but named like one
		{[]string{"build/new.tar"}, unclear},   // named like one, text here
		{[]string{"current.conf"}, unclear},
		{[]string{"linked/x.txt"}, unclear},
		{[]string{"linked/*.txt"}, unclear},
		{[]string{"conf/*.conf"}, copies},
		{[]string{"*/?.conf"}, copies},
		{[]string{"build/*.txt"}, copies},
		{[]string{"build/*"}, unclear},          // new.tar is text named like an archive
		{[]string{"build/o*"}, unclear},         // old.tar is not sent: nothing matches
		{[]string{"build/old*.tar"}, mayUnpack}, // nothing matches, and the pattern's name says archive
		{[]string{"build/*.tar"}, unclear},      // new.tar: text named like an archive
		{[]string{"*.conf"}, unclear},           // current.conf is a link; secret.conf is not sent
		{[]string{"a*.conf", ".env*"}, copies},  // hidden names match too
		{[]string{"s*"}, copies},                // a folder
		{[]string{"deep/*/*/c.conf"}, copies},
		{[]string{"deep/*/*/*"}, mayUnpack},
		{[]string{"nothing*"}, unclear},
		{[]string{"["}, unclear}, // a bad pattern matches nothing
		{[]string{`app\*`}, unclear},
	} {
		if got, why := addSources(ctx, tc.srcs); got != tc.want {
			t.Errorf("%q: got %v (%s), want %v", tc.srcs, got, why, tc.want)
		}
	}
}

func TestAddSourcesNoContext(t *testing.T) {
	for _, tc := range []struct {
		srcs []string
		want addAction
	}{
		{[]string{"app.conf"}, unclear},
		{[]string{"src/"}, unclear}, // may be a file: BuildKit cleans the slash away
		{[]string{"."}, copies},
		{[]string{"./"}, copies},
		{[]string{"rootfs.tar.xz"}, mayUnpack},
		{[]string{"*.tgz"}, mayUnpack},
		{[]string{"*.conf"}, unclear},
		{[]string{"app.conf", "vendor.tgz"}, mayUnpack},
		{[]string{"app.zip"}, unclear}, // ADD copies zip files as they are, but this may be anything
	} {
		if got, why := addSources(nil, tc.srcs); got != tc.want {
			t.Errorf("%q: got %v (%s), want %v", tc.srcs, got, why, tc.want)
		}
	}
}
