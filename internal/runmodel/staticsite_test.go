package runmodel_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/internal/runmodel"
)

func TestStaticServerOf(t *testing.T) {
	for _, tc := range []struct {
		cmd string
		// want is "" where dfopt does not read the command, else
		// package folder port default single compress cache npx.
		want string
	}{
		{"npx serve -s dist -l 3000", "serve dist 3000 false true true 0 true"},
		{"serve -s build", "serve build 3000 true true true 0 false"},
		{"npx serve dist", "serve dist 3000 true false true 0 true"},
		{"npx serve --single dist --listen=5000 -n", "serve dist 5000 false true true 0 true"},
		{"npx serve -s dist -l tcp://0.0.0.0:8000 -u", "serve dist 8000 false true false 0 true"},
		{"npx serve -p 4000 dist", "serve dist 4000 false false true 0 true"},
		{"npx serve", "serve . 3000 true false true 0 true"},
		{"npx http-server dist -p 8080", "http-server dist 8080 false false false 3600 true"},
		{"http-server ./dist --port 9000 -s", "http-server ./dist 9000 false false false 3600 false"},
		{"http-server dist --port=9000 -a 0.0.0.0", "http-server dist 9000 false false false 3600 false"},
		{"http-server dist", "http-server dist 8080 true false false 3600 false"},
		{"npx serve -s dist -l tcp://localhost:3000", ""},   // one address
		{"npx serve -s dist -l unix:/tmp/s.sock", ""},       // a socket
		{"npx serve -s dist -l 3000 -l 4000", ""},           // two endpoints
		{"npx serve -s dist -l=3000", ""},                   // arg reads no -l=VALUE
		{"npx serve -c serve.json dist", ""},                // rewrites and headers of its own
		{"npx serve --cors dist", ""},                       // a header
		{"npx serve a b", ""},                               // two folders
		{"npx serve@14 -s dist", ""},                        // npx fetches that version
		{"npx -y serve -s dist", ""},                        // npx's options
		{"npx vite preview", ""},                            // no static server
		{"http-server -p 8080", ""},                         // ./public or ./
		{"http-server dist -P http://api:3000", ""},         // a proxy
		{"http-server dist -c-1", ""},                       // caching
		{"http-server -s dist", ""},                         // minimist: -s takes dist
		{"http-server dist -a 127.0.0.1", ""},               // one address
		{"http-server dist -p 0", ""},                       // any port
		{"node server.js", ""},                              // no static server
		{"npx", ""},                                         // nothing
		{"npx serve -s dist -l 3000 --ssl-cert c.pem", ""},  // HTTPS
		{"npx http-server dist --port 8080 --cors", ""},     // a header
		{"npx http-server dist --port 8080 -g", ""},         // precompressed files
		{"npx http-server dist --port 8080 --proxy x", ""},  // a proxy
		{"npx http-server dist --port 8080 --username", ""}, // authentication
	} {
		s, npx, why := runmodel.StaticServerOf(strings.Fields(tc.cmd))
		got := ""
		if why == "" {
			got = strings.Join([]string{s.Package, s.Folder, itoa(s.Port), btoa(s.DefaultPort), btoa(s.Single), btoa(s.Compress), itoa(s.CacheSeconds), btoa(npx)}, " ")
		}
		if got != tc.want {
			t.Errorf("%s: got %q (%s), want %q", tc.cmd, got, why, tc.want)
		}
	}
}

func TestNodeDependsOn(t *testing.T) {
	pkg := []byte(`{"dependencies": {"react": "18"}, "devDependencies": {"serve": "14.2.3", "vite": "5"}}`)
	for name, want := range map[string]bool{"serve": true, "react": true, "http-server": false} {
		if got := runmodel.NodeDependsOn(pkg, name); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	if runmodel.NodeDependsOn([]byte("{"), "serve") {
		t.Error("a package.json that does not parse names no package")
	}
}

func TestStaticServerConfig(t *testing.T) {
	for rel, want := range map[string]bool{
		"public/serve.json":               true,
		"serve.json":                      true,
		"public/now.json":                 true,
		"public/package.json":             true,
		"package.json":                    false,
		"src/app.js":                      false,
		"node_modules/serve/package.json": false,
		"a/node_modules/x/serve.json":     false,
	} {
		if got := runmodel.StaticServerConfig(rel, "package.json"); got != want {
			t.Errorf("%s: got %v, want %v", rel, got, want)
		}
	}
}

func TestNginxStaticConfig(t *testing.T) {
	single := strings.Join(runmodel.NginxStaticConfig(runmodel.StaticServer{Package: "serve", Port: 3000, Single: true, Compress: true}, "/usr/share/nginx/html"), "\n")
	for _, want := range []string{"listen 3000;", "root /usr/share/nginx/html;", "try_files $uri $uri.html $uri/ /index.html;", "gzip on;", "autoindex on;"} {
		if !strings.Contains(single, want) {
			t.Errorf("serve -s: no %q in\n%s", want, single)
		}
	}
	if strings.Contains(single, "error_page") || strings.Contains(single, "Cache-Control") {
		t.Errorf("serve -s: an error page or a Cache-Control in\n%s", single)
	}
	plain := strings.Join(runmodel.NginxStaticConfig(runmodel.StaticServer{Package: "http-server", Port: 8080, CacheSeconds: 3600}, "/srv"), "\n")
	for _, want := range []string{"listen 8080;", "try_files $uri $uri.html $uri/ =404;", "error_page 404 /404.html;", `add_header Cache-Control "max-age=3600" always;`, "error_page 403 =404 /404.html;"} {
		if !strings.Contains(plain, want) {
			t.Errorf("http-server: no %q in\n%s", want, plain)
		}
	}
	if strings.Contains(plain, "gzip") || strings.Contains(plain, "autoindex") {
		t.Errorf("http-server: gzip in\n%s", plain)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func btoa(b bool) string { return strconv.FormatBool(b) }
