package rules_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// privateKeyPEM is assembled so that no scanner mistakes this file for a key.
const privateKeyPEM = "-----BEGIN " + "RSA PRIVATE KEY-----\nnot a key: a dfopt test\n-----END " + "RSA PRIVATE KEY-----\n"

func writeContext(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runInContext runs one rule on the context's Dockerfile, as dfopt does with
// the Dockerfile's folder as the context.
func runInContext(t *testing.T, dir string, opts rewrite.Options, rule *rewrite.Rule) *rewrite.Result {
	t.Helper()
	df := filepath.Join(dir, "Dockerfile")
	ctx, err := rewrite.OpenContext(dir, df)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(df)
	if err != nil {
		t.Fatal(err)
	}
	opts.Path, opts.Context, opts.Rules = df, ctx, []*rewrite.Rule{rule}
	res, err := rewrite.Source(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Output) != string(src) {
		t.Errorf("%s changed the Dockerfile:\n%s", rule.Name, res.Output)
	}
	return res
}

func messages(res *rewrite.Result) string {
	var b strings.Builder
	for _, f := range res.Findings {
		if f.Security {
			b.WriteString("security: ")
		}
		b.WriteString(f.Message + "\n")
	}
	return b.String()
}

// added returns the entries the run appends to the ignore file.
func added(t *testing.T, res *rewrite.Result) []string {
	t.Helper()
	if len(res.Files) == 0 {
		return nil
	}
	if len(res.Files) != 1 {
		t.Fatalf("%d files changed, want one", len(res.Files))
	}
	f := res.Files[0]
	if !strings.HasPrefix(string(f.New), string(f.Old)) {
		t.Fatalf("the ignore file's old bytes are not kept:\n%q\n%q", f.Old, f.New)
	}
	_, tail, _ := strings.Cut(string(f.New[len(f.Old):]), "# added by dfopt --dockerignore")
	entries := strings.Fields(tail)
	if f.Create {
		// A new ignore file keeps itself out of COPY . first.
		if len(entries) == 0 || entries[0] != ".dockerignore" && !strings.HasSuffix(entries[0], ".dockerignore") {
			t.Fatalf("a new ignore file does not name itself first: %q", entries)
		}
		entries = entries[1:]
	}
	return entries
}

func TestDockerignoreKeepsWhatTheBuildNeeds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		files  map[string]string
		want   []string // entries added
		report string   // in the findings
		not    string   // not in the findings
	}{{
		name: "git metadata, the build runs git",
		files: map[string]string{
			"Dockerfile": "FROM golang:1.23\nCOPY . /src\nRUN git -C /src describe > /version\n",
			".git/HEAD":  "ref: refs/heads/main\n", "app.log": "x",
		},
		want:   []string{"*.log"},
		report: "adds all but .git/, which the build may need",
	}, {
		name: "git metadata, setuptools-scm takes the version from it",
		files: map[string]string{
			"Dockerfile":     "FROM python:3.12\nCOPY . /src\nRUN pip install /src\n",
			".git/HEAD":      "ref: refs/heads/main\n",
			"pyproject.toml": "[build-system]\nrequires = [\"setuptools\", \"setuptools_scm\"]\n",
		},
		report: "no .dockerignore to keep out .git/",
	}, {
		name: "git metadata nobody reads",
		files: map[string]string{
			"Dockerfile": "FROM alpine\nCOPY . /srv\n",
			".git/HEAD":  "ref: refs/heads/main\n",
		},
		want: []string{".git"},
	}, {
		name: "node_modules without an install stays",
		files: map[string]string{
			"Dockerfile":          "FROM node:22\nCOPY . /app\nCMD [\"node\", \"/app/index.js\"]\n",
			"node_modules/x/a.js": "x",
		},
		report: "adds none: the build may need them",
	}, {
		name: "private keys by content; a certificate is no secret",
		files: map[string]string{
			"Dockerfile":     "FROM alpine\nCOPY . /srv\n",
			"certs/tls.key":  privateKeyPEM,
			"certs/ca.pem":   "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
			"certs/tls.pem":  privateKeyPEM,
			"certs/repo.key": "-----BEGIN PGP PUBLIC KEY BLOCK-----\nx\n",
		},
		want:   []string{"certs/tls.key", "certs/tls.pem"},
		report: "security: COPY puts secret-looking files in the image, where anyone who can pull it can read them: certs/tls.key, certs/tls.pem;",
		not:    "ca.pem",
	}, {
		name: ".npmrc with a token is reported; a RUN npm needs it",
		files: map[string]string{
			"Dockerfile":          "FROM node:22\nCOPY . /app\nRUN cd /app && npm ci\n",
			".npmrc":              "//registry.npmjs.org/:_authToken=test-not-a-token\n",
			"node_modules/x/a.js": "x",
		},
		want:   []string{"node_modules"},
		report: "security: COPY puts secret-looking files in the image, where anyone who can pull it can read them: .npmrc;",
	}, {
		name: "a sibling Dockerfile that copies .env keeps it in the shared .dockerignore",
		files: map[string]string{
			"Dockerfile":     "FROM alpine\nCOPY . /srv\n",
			"dev.Dockerfile": "FROM alpine\nCOPY .env /srv/.env\n",
			".env":           "A=1\n", "app.log": "x",
		},
		want:   []string{"*.log"},
		report: "adds all but .env, which the build may need",
	}, {
		name: "a wildcard source is a named path",
		files: map[string]string{
			"Dockerfile": "FROM alpine\nCOPY . /srv\nCOPY logs/*.log /var/log/old/\n",
			"logs/a.log": "x", "debug.log": "x",
		},
		want: []string{"debug.log"},
	}, {
		name: "a source dfopt cannot read blocks every entry",
		files: map[string]string{
			"Dockerfile": "FROM alpine\nARG CONF\nCOPY . /srv\nCOPY $CONF /etc/app.conf\n",
			"app.log":    "x",
		},
		report: "adds none",
		not:    "(dfopt --dockerignore adds them)",
	}, {
		name: "an ARG default fills a source in",
		files: map[string]string{
			"Dockerfile": "FROM alpine\nARG LOG=boot.log\nCOPY . /srv\nCOPY ${LOG} /var/log/\n",
			"boot.log":   "x", "app.log": "x",
		},
		want: []string{"app.log"},
	}, {
		name: "COPY --exclude keeps a secret out of the image",
		files: map[string]string{
			"Dockerfile": "# syntax=docker/dockerfile:1.7-labs\nFROM alpine\nCOPY --exclude=.env . /srv\n",
			".env":       "A=1\n",
		},
		want: []string{".env"},
		not:  "security",
	}, {
		name: "a sibling's bind mount of the whole context counts as taking it",
		files: map[string]string{
			"Dockerfile":          "FROM node:22\nCOPY . /app\nRUN cd /app && npm ci\n",
			"build.Dockerfile":    "FROM node:22\nRUN --mount=type=bind,target=/src node /src/build.js\n",
			"node_modules/x/a.js": "x",
		},
		report: "adds none",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeContext(t, tc.files)
			res := runInContext(t, dir, rewrite.Options{WriteDockerignore: true}, rules.Dockerignore)
			got := added(t, res)
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("added %q, want %q\nfindings:\n%s", got, tc.want, messages(res))
			}
			if !strings.Contains(messages(res), tc.report) {
				t.Errorf("findings lack %q:\n%s", tc.report, messages(res))
			}
			if tc.not != "" && strings.Contains(messages(res), tc.not) {
				t.Errorf("findings have %q:\n%s", tc.not, messages(res))
			}
		})
	}
}

// TestExtendIgnoreFileKeepsBytes checks that an ignore file keeps every byte
// and gets its own line endings.
func TestExtendIgnoreFileKeepsBytes(t *testing.T) {
	for _, tc := range []struct{ old, want string }{
		{"", "# c\na\n"},
		{"x\r\ny", "x\r\ny\r\n\r\n# c\r\na\r\n"},
		{"\xef\xbb\xbfx\n\n", "\xef\xbb\xbfx\n\n# c\na\n"},
	} {
		dir := writeContext(t, map[string]string{".dockerignore": tc.old})
		ctx, err := rewrite.OpenContext(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		f, err := ctx.ExtendIgnoreFile("c", []string{"a"})
		if err != nil {
			t.Fatal(err)
		}
		if string(f.New) != tc.want || string(f.Old) != tc.old || f.Create {
			t.Errorf("%q: got %q (create %v), want %q", tc.old, f.New, f.Create, tc.want)
		}
	}
	ctx, err := rewrite.OpenContext(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := ctx.ExtendIgnoreFile("c", []string{"a"})
	if !f.Create || filepath.Base(f.Path) != ".dockerignore" || !strings.HasPrefix(string(f.Diff()), "--- /dev/null\n+++ b/") {
		t.Errorf("no ignore file: got %+v, diff %q", f, f.Diff())
	}
}

// TestContextRulesSilentOnCorpus runs the context rules over the real-world
// corpus without a context (as the corpus test does) and with an empty one:
// neither may report anything.
func TestContextRulesSilentOnCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", "dockerfiles", "*"))
	if len(files) == 0 {
		t.Skip("corpus not found: ../shared is absent")
	}
	empty, err := rewrite.OpenContext(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, ctx := range []*rewrite.BuildContext{nil, empty} {
			res, err := rewrite.Source(src, rewrite.Options{
				Path: filepath.Base(path), Context: ctx, WriteDockerignore: true,
				Rules: []*rewrite.Rule{rules.Dockerignore, rules.DataInImage},
			})
			if err != nil {
				continue // files BuildKit rejects are the corpus test's business
			}
			if ctx != nil { // an empty context has no .dockerignore: only that may be said
				res.Findings = slices.DeleteFunc(res.Findings, func(f rewrite.Finding) bool {
					return f.Rule == "dockerignore" && strings.Contains(f.Message, "there is no .dockerignore: add one")
				})
			}
			if len(res.Findings) > 0 || len(res.Files) > 0 {
				t.Errorf("%s (context %v): %d findings, %d files: %s", path, ctx != nil, len(res.Findings), len(res.Files), messages(res))
			}
		}
	}
}
