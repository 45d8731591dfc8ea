package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunErrors checks what dfopt-verify says, and its exit status, when it
// cannot build: bad flags, a file dfopt cannot read, no engine.
func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "Dockerfile")
	bad := filepath.Join(dir, "bad.Dockerfile")
	os.WriteFile(good, []byte("FROM scratch\nCOPY a /a\n"), 0o644)
	os.WriteFile(bad, []byte("FROM scratch\nCOPY --bogus=1 a /a\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no file", nil, "dfopt verify: give one Dockerfile\n"},
		{"two files", []string{good, good}, "give one Dockerfile"},
		{"bad format", []string{"--fmt=yaml", good}, `invalid value "yaml" for --fmt`},
		{"bad variant", []string{"--variants=dfopt,fast", good}, `invalid variant "fast"`},
		{"bad base", []string{"--base=debian", good}, `--base "debian": use REF=DIR`},
		{"base not a folder", []string{"--base=debian=" + good, good}, "is no folder"},
		{"bad merge", []string{"--merge=some", good}, `invalid value "some" for --merge`},
		{"unknown rule", []string{"--enable=nope", good}, "nope"},
		{"no engine", []string{"--buildkit-addr=", good}, "no BuildKit daemon: give --buildkit-addr or set BUILDKIT_HOST"},
		{"engine does not answer", []string{"--buildkit-addr=unix://" + filepath.Join(dir, "none.sock"), good}, "does not answer"},
		// buildctl's schemes are known: this one asks docker for a buildx builder.
		{"docker-container scheme", []string{"--buildkit-addr=docker-container://dfopt-no-such-builder", good}, "docker"},
		{"parse error before any build", []string{"--buildkit-addr=", bad}, bad + ":2:"},
		{"missing file", []string{filepath.Join(dir, "nope")}, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tc.want) || stdout.Len() > 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, stdout.String(), stderr.String(), tc.want)
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "--buildkit-addr") {
		t.Errorf("--help: exit %d, %q", code, stdout.String())
	}
}
