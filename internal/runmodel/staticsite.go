package runmodel

import (
	"encoding/json"
	"path"
	"slices"
	"strconv"
	"strings"
)

// A Node.js project that builds a static site (vite build writes dist/) is
// often served, in its image, by a Node.js static file server: vercel's
// serve or http-server. What follows is what dfopt reads of such a
// server's command line, option by option as each documents it, so that a
// web server of its own (nginx) can serve the same folder on the same port
// the same way where it can: any option whose effect dfopt cannot carry
// over is refused, with the reason.

// Static file servers dfopt reads.
const (
	ServePackage      = "serve"       // vercel's serve (serve-handler): port 3000 by default
	HTTPServerPackage = "http-server" // http-party's http-server: port 8080 by default
)

// StaticServer is what a command serving a folder with serve or
// http-server says about how it serves.
type StaticServer struct {
	Package string // ServePackage or HTTPServerPackage: the npm package and its command
	// Folder is the folder it serves, as written: relative to the working
	// folder, or absolute.
	Folder string
	// Port is the TCP port it listens on, on every address. Where the
	// command names none (DefaultPort), both servers read the PORT
	// variable first, and Port is the server's own default.
	Port        int
	DefaultPort bool
	// Single is serve's --single: a path with no file gets /index.html,
	// for single-page applications.
	Single bool
	// Compress says the server compresses responses (serve does, unless
	// --no-compression).
	Compress bool
	// CacheSeconds is the Cache-Control max-age the server sends with
	// every file (http-server's -c, 3600 by default); 0 for none.
	CacheSeconds int
}

// StaticServerOf reads a command that runs serve or http-server: npx NAME
// ARGS (npx runs the project's own copy from node_modules/.bin), or NAME
// ARGS (a copy on PATH: a global install, or node_modules/.bin under npm
// run). npx is true for the first. why says why dfopt does not read it
// ("" when it does): another command, npx with options or a version, an
// option whose effect dfopt cannot carry over.
func StaticServerOf(argv []string) (s StaticServer, npx bool, why string) {
	if len(argv) > 0 && argv[0] == "npx" {
		npx, argv = true, argv[1:]
	}
	if len(argv) == 0 {
		return StaticServer{}, npx, "no command"
	}
	switch argv[0] {
	case ServePackage:
		s, why = serveOf(argv[1:])
	case HTTPServerPackage:
		s, why = httpServerOf(argv[1:])
	default:
		if strings.HasPrefix(argv[0], "-") || strings.Contains(argv[0], "@") {
			return StaticServer{}, npx, "npx " + argv[0] + ": an option or a version of npx dfopt does not read"
		}
		return StaticServer{}, npx, argv[0] + " is no static file server dfopt reads"
	}
	if why != "" {
		return StaticServer{}, npx, why
	}
	return s, npx, ""
}

// serveQuiet are serve's options that change nothing of what it answers:
// messages, the clipboard, what it does when its port is taken.
var serveQuiet = []string{"-n", "--no-clipboard", "-d", "--debug", "--no-port-switching"}

// serveOf reads serve's options (its CLI parses them with the arg package:
// booleans take no value, --opt=value is a long option's value).
func serveOf(args []string) (StaticServer, string) {
	s := StaticServer{Package: ServePackage, Folder: ".", Port: 3000, DefaultPort: true, Compress: true}
	folders, listens := 0, 0
	for i := 0; i < len(args); i++ {
		a := args[i]
		flag, value, hasValue := strings.Cut(a, "=")
		switch {
		case a == "-s" || a == "--single":
			s.Single = true
		case a == "-u" || a == "--no-compression":
			s.Compress = false
		case slices.Contains(serveQuiet, a):
		case flag == "-l" || flag == "--listen" || flag == "-p":
			if !hasValue || flag != "--listen" {
				if hasValue || i+1 >= len(args) {
					return StaticServer{}, "serve " + a + ": a listen endpoint dfopt does not read"
				}
				i++
				value = args[i]
			}
			port, ok := serveEndpoint(value)
			if !ok {
				return StaticServer{}, "serve listens on " + value + ", which dfopt does not read (a port, or tcp://0.0.0.0:PORT)"
			}
			s.Port, s.DefaultPort = port, false
			listens++
		case strings.HasPrefix(a, "-"):
			// --config, --cors, --symlinks, --no-etag, --ssl-*: what each
			// changes (a configuration file's rewrites and headers,
			// symlinks followed, HTTPS) is not carried over.
			return StaticServer{}, "serve " + a + " is an option dfopt does not carry over"
		default:
			s.Folder = a
			folders++
		}
	}
	switch {
	case folders > 1:
		return StaticServer{}, "serve takes one folder"
	case listens > 1:
		return StaticServer{}, "serve listens on more than one endpoint"
	}
	return s, ""
}

// serveEndpoint reads a serve --listen endpoint that is a TCP port on
// every address: PORT or tcp://0.0.0.0:PORT.
func serveEndpoint(v string) (int, bool) {
	if rest, ok := strings.CutPrefix(v, "tcp://0.0.0.0:"); ok {
		v = rest
	}
	return tcpPort(v)
}

// tcpPort reads a TCP port number other than 0 (which picks any).
func tcpPort(v string) (int, bool) {
	if v == "" || strings.Trim(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n > 0 && n < 65536
}

// httpServerOf reads http-server's options. Its CLI parses them with
// minimist and declares no boolean: an option followed by a word that is no
// option takes that word as its value, so a flag is read only at the end
// or before another option.
func httpServerOf(args []string) (StaticServer, string) {
	s := StaticServer{Package: HTTPServerPackage, Port: 8080, DefaultPort: true, CacheSeconds: 3600}
	folders := 0
	for i := 0; i < len(args); i++ {
		a := args[i]
		flag, value, hasValue := strings.Cut(a, "=")
		switch {
		case flag == "-p" || flag == "--port" || a == "-a":
			if !hasValue || flag == "-p" {
				if hasValue || i+1 >= len(args) {
					return StaticServer{}, "http-server " + a + ": a value dfopt does not read"
				}
				i++
				value = args[i]
			}
			if a == "-a" {
				if value != "0.0.0.0" {
					return StaticServer{}, "http-server listens on " + value + " alone"
				}
				continue
			}
			port, ok := tcpPort(value)
			if !ok {
				return StaticServer{}, "http-server's port " + value + " is not one dfopt reads"
			}
			s.Port, s.DefaultPort = port, false
		case a == "-s" || a == "--silent":
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				return StaticServer{}, "http-server " + a + " takes " + args[i+1] + " as its value"
			}
		case strings.HasPrefix(a, "-"):
			// -P (a proxy), -c (caching), -g and -b (precompressed files),
			// -e, -d, -i, --cors, TLS, basic authentication: not carried
			// over.
			return StaticServer{}, "http-server " + a + " is an option dfopt does not carry over"
		default:
			s.Folder = a
			folders++
		}
	}
	switch {
	case folders == 0:
		return StaticServer{}, "http-server without a folder serves ./public where it exists, else ./"
	case folders > 1:
		return StaticServer{}, "http-server takes one folder"
	}
	return s, ""
}

// NodeDependsOn tells whether package.json (its text) names a package among
// its dependencies or devDependencies: npm ci or npm install of the whole
// project puts it in node_modules, where npx and npm run find its command.
func NodeDependsOn(packageJSON []byte, name string) bool {
	var p struct {
		Dependencies    map[string]string `json:"dependencies"`
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if json.Unmarshal(packageJSON, &p) != nil {
		return false
	}
	_, dep := p.Dependencies[name]
	_, dev := p.DevDependencies[name]
	return dep || dev
}

// StaticServerConfig tells whether a file of the build context is one a
// static server may read as its configuration where the build copies it
// into the folder served (vite copies public/ into dist/): serve reads
// serve.json, now.json and package.json's "static" in the folder it
// serves. The project's own package.json (root, relative to the build
// context) is not served; node_modules is the packages'.
func StaticServerConfig(rel, root string) bool {
	if strings.HasPrefix(rel, "node_modules/") || strings.Contains(rel, "/node_modules/") {
		return false
	}
	switch path.Base(rel) {
	case "serve.json", "now.json":
		return true
	case "package.json":
		return rel != root
	}
	return false
}

// NginxStaticConfig writes the server block, line by line, with which
// nginx serves root the way s serves its folder: the same port (on IPv4),
// a file for its path, PATH.html for PATH (serve's clean URLs, http-server's
// default extension), a folder's index.html; then, with serve's --single,
// /index.html for every other path, else a 404 with the folder's 404.html
// where there is one (as both servers answer). serve lists a folder without
// index.html (autoindex); http-server, which looks for the folder's
// index.html and then answers as for a missing file, gets 404 and 404.html
// there too (nginx's 403 turned into that). gzip where serve compresses
// (above 1 KiB, as its compression middleware), and http-server's
// Cache-Control on every answer.
func NginxStaticConfig(s StaticServer, root string) []string {
	lines := []string{
		"server {",
		"    listen " + strconv.Itoa(s.Port) + ";",
		"    root " + root + ";",
		"    index index.html;",
	}
	if s.Package == ServePackage {
		lines = append(lines, "    autoindex on;")
	}
	if s.Compress {
		lines = append(lines, "    gzip on;", "    gzip_min_length 1024;", "    gzip_types text/css application/javascript application/json image/svg+xml text/plain;")
	}
	if s.CacheSeconds > 0 {
		lines = append(lines, "    add_header Cache-Control \"max-age="+strconv.Itoa(s.CacheSeconds)+"\" always;")
	}
	lines = append(lines, "    location / {")
	if s.Single {
		lines = append(lines, "        try_files $uri $uri.html $uri/ /index.html;")
	} else {
		lines = append(lines, "        try_files $uri $uri.html $uri/ =404;")
	}
	lines = append(lines, "    }")
	if !s.Single {
		lines = append(lines, "    error_page 404 /404.html;")
	}
	if s.Package == HTTPServerPackage {
		lines = append(lines, "    error_page 403 =404 /404.html;")
	}
	return append(lines, "}")
}
