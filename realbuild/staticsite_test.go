package realbuild

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/rules"
)

// staticSiteApp is one app of testdata/staticsite: a single-stage
// Dockerfile that builds a static site with npm and serves it with a
// Node.js static server, the port it serves on and the paths whose answers
// the test compares.
type staticSiteApp struct {
	name  string
	port  int
	paths []string
}

func staticSiteApps() []staticSiteApp {
	return []staticSiteApp{
		// vite build (public/app.js copied as it is), served by npx serve -s
		// dist -l 3000: a client route gets index.html. (serve redirects
		// /index.html to /, and lists /assets/, which nginx does otherwise.)
		{name: "serve-spa", port: 3000, paths: []string{"/", "/app.js", "/some/route", "/missing.js"}},
		// vite build --outDir site, served by npx http-server site -p 8080
		// --silent: /about is about.html, a missing page or a folder without
		// index.html is 404 with 404.html, Cache-Control max-age=3600.
		{name: "http-docs", port: 8080, paths: []string{"/", "/about", "/about.html", "/missing", "/assets/"}},
	}
}

// nginxBase is the stand-in for nginx:stable-alpine, which no registry
// serves here: debian:bookworm-slim's stand-in with Debian's nginx-light,
// its nginx.conf (which includes /etc/nginx/conf.d/*.conf) without Debian's
// default site, and the official image's command.
const nginxBase = "nginx:stable-alpine"

// TestStaticSite proves multi-stage's split of a static site by behaviour:
// for each app it applies dfopt's proposals (every rule, --propose),
// builds the original (Node.js and its static server) and dfopt's image
// (nginx) on debian:bookworm, runs each detached with no network, asks
// each for the same paths over HTTP from a busybox container in its
// network namespace, and checks that the status codes and the bodies are
// the same. The sizes go in the log (and in DFOPT_REALBUILD_REPORT).
func TestStaticSite(t *testing.T) {
	e, base := splitEngine(t, "builds the static-site apps on debian:bookworm")
	makeNginxBase(t, e)
	rows := []string{fmt.Sprintf("%-13s %10s %10s %8s  %s", "app", "original", "dfopt", "ratio", "runtime base")}
	for _, app := range staticSiteApps() {
		t.Run(app.name, func(t *testing.T) {
			row, err := checkStaticSite(t, e, base, app)
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, row)
		})
	}
	// dfopt's image is the runtime base and the site: the stand-in is
	// Debian's slim stand-in with nginx-light, not Alpine's nginx.
	if info, err := e.inspect(nginxBase); err == nil {
		rows = append(rows, fmt.Sprintf("(the %s stand-in alone: %s)", nginxBase, mib(info.Size)))
	}
	t.Logf("static sites: image sizes (uncompressed)\n%s", strings.Join(rows, "\n"))
	appendReport(t, append([]string{"static sites: image sizes (uncompressed)"}, rows...))
}

// makeNginxBase builds the nginx:stable-alpine stand-in on the
// debian:bookworm-slim stand-in, unless the engine has that image.
func makeNginxBase(t *testing.T, e *engine) {
	t.Helper()
	if e.hasImage(nginxBase) {
		return
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "Dockerfile")
	text := "FROM " + slimBase + "\n" +
		"RUN apt-get update && apt-get install -y --no-install-recommends nginx-light && rm -rf /var/lib/apt/lists/* " +
		"&& rm -f /etc/nginx/sites-enabled/default && grep -q 'include /etc/nginx/conf.d/\\*.conf;' /etc/nginx/nginx.conf " +
		"&& mkdir -p /usr/share/nginx/html\n" +
		"STOPSIGNAL SIGQUIT\n" +
		`CMD ["nginx", "-g", "daemon off;"]` + "\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.build(t.Context(), file, dir, nginxBase); err != nil {
		t.Fatalf("build the %s stand-in: %v", nginxBase, err)
	}
	t.Cleanup(func() { e.removeImage(nginxBase) })
	t.Logf("%s stands in for %s: %s with Debian's nginx-light and no default site", nginxBase, nginxBase, slimBase)
}

// checkStaticSite builds one app's two images, compares their answers and
// returns its row of the size table.
func checkStaticSite(t *testing.T, e *engine, base string, app staticSiteApp) (string, error) {
	ctx := t.Context()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "staticsite", app.name))); err != nil {
		return "", err
	}
	orig, res, err := proposeApp(t, dir, rules.All(), rules.MultiStage.Name)
	if err != nil {
		return "", err
	}
	images := map[string]string{}
	answers := map[string]string{}
	for _, v := range []struct {
		name string
		text []byte
	}{{"original", orig}, {"dfopt", res.Output}} {
		id, err := buildOnBase(t, e, base, v.name, v.text, dir)
		if err != nil {
			return "", err
		}
		images[v.name] = id
		got, err := askOverHTTP(ctx, e, id, app)
		if err != nil {
			return "", fmt.Errorf("the %s image: %w", v.name, err)
		}
		answers[v.name] = got
	}
	if answers["original"] != answers["dfopt"] {
		return "", fmt.Errorf("dfopt's image answers otherwise:\n--- original\n%s\n--- dfopt\n%s", answers["original"], answers["dfopt"])
	}
	t.Logf("both answer:\n%s", answers["original"])
	sizes := map[string]int64{}
	for name, id := range images {
		info, err := e.inspect(id)
		if err != nil {
			return "", err
		}
		sizes[name] = info.Size
	}
	return fmt.Sprintf("%-13s %10s %10s %7.1fx  %s (stand-in)", app.name, mib(sizes["original"]), mib(sizes["dfopt"]),
		float64(sizes["original"])/float64(sizes["dfopt"]), nginxBase), nil
}

// askOverHTTP runs an image detached with no network, then a busybox
// container in its network namespace (as docker run --network container:)
// that waits for the port and sends a GET for each path with nc (wget
// keeps no body of a 404): what it prints is, for each path, the status
// code, the Cache-Control header and the body. Both containers are
// deleted after.
func askOverHTTP(ctx context.Context, e *engine, id string, app staticSiteApp) (string, error) {
	server, err := e.startImage(ctx, id)
	if err != nil {
		return "", err
	}
	defer server.remove()
	// busybox nc stops reading when its input ends: the sleep keeps it
	// open until the server has answered and closed (HTTP/1.0).
	script := fmt.Sprintf(`i=0; until wget -q -O /dev/null http://127.0.0.1:%[1]d/; do i=$((i+1)); [ $i -lt 100 ] || { echo "no answer on port %[1]d"; exit 1; }; sleep 0.2; done
for p in %[2]s; do
	(printf 'GET %%s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$p"; sleep 1) | nc 127.0.0.1 %[1]d | tr -d '\r' > /tmp/answer
	echo "== $p: status $(head -n 1 /tmp/answer | cut -d ' ' -f 2), cache-control: $(sed '/^$/q' /tmp/answer | grep -i '^cache-control:' | cut -d : -f 2- | tr -d ' ')"
	sed '1,/^$/d' /tmp/answer
done`, app.port, strings.Join(app.paths, " "))
	// Its standard output is the answer; wget's complaints while the server
	// starts go to standard error, shown only where the probe fails.
	var out, stderr bytes.Buffer
	code, err := e.runImage(ctx, probeBase, runOptions{args: []string{"sh", "-c", script}, netnsPID: server.pid}, &out, &stderr)
	if err == nil && code != 0 {
		err = fmt.Errorf("the probe exits %d", code)
	}
	if err != nil {
		return "", fmt.Errorf("ask over HTTP: %w\n%s%s\nthe server's log:\n%s", err, out.String(), stderr.String(), server.logs())
	}
	return strings.TrimSpace(out.String()), nil
}
