package runmodel_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/internal/runmodel"
)

func TestNodeBuildOutput(t *testing.T) {
	files := map[string]string{
		"tsconfig.json": `{
  // the server
  "compilerOptions": {"outDir": "./dist", "strict": true, /* no */ "target": "es2022",},
}`,
		"tsconfig.build.json":   `{"compilerOptions": {"outDir": "build/server"}}`,
		"sub/tsconfig.json":     `{"compilerOptions": {"outDir": "out"}}`,
		"tsconfig.extends.json": `{"extends": "@tsconfig/node20/tsconfig.json"}`,
		"tsconfig.noemit.json":  `{"compilerOptions": {"noEmit": true, "outDir": "dist"}}`,
		"tsconfig.beside.json":  `{"compilerOptions": {"strict": true}}`,
		"tsconfig.refs.json":    `{"references": [{"path": "./a"}], "compilerOptions": {"outDir": "dist"}}`,
		"tsconfig.up.json":      `{"compilerOptions": {"outDir": "../dist"}}`,
		"tsconfig.url.json":     `{"compilerOptions": {"outDir": "lib"}, "x": "http://a/*b*/"}`,
	}
	read := func(rel string) ([]byte, bool) {
		s, ok := files[rel]
		return []byte(s), ok
	}
	for _, tc := range []struct {
		script, out string // out "" when dfopt cannot tell
	}{
		{"tsc", "dist"},
		{"tsc -p tsconfig.build.json", "build/server"},
		{"tsc --project sub", "sub/out"},
		{"tsc --outDir lib", "lib"},
		{"tsc --outDir=lib", "lib"},
		{"tsc -p tsconfig.url.json", "lib"},
		{"tsc -p tsconfig.extends.json", ""},
		{"tsc -p tsconfig.extends.json --outDir x", "x"},
		{"tsc -p tsconfig.noemit.json", ""},
		{"tsc -p tsconfig.beside.json", ""},
		{"tsc -p tsconfig.refs.json", ""},
		{"tsc -p tsconfig.up.json", ""},
		{"tsc -p missing.json", ""},
		{"tsc src/index.ts", ""},
		{"tsc --target es2020", ""},
		{"tsc -b", ""},
		{"tsc && cp -r public dist", ""},
		{"rm -rf dist; tsc", ""},
		{"NODE_ENV=production tsc", ""},
		{"vite build", "dist"},
		{"vite build --outDir web", "web"},
		{"vite", ""},
		{"esbuild src/main.ts --bundle --platform=node --outfile=dist/main.js", "dist/main.js"},
		{"esbuild src/main.ts --bundle --outdir=out", "out"},
		{"esbuild src/main.ts --bundle", ""},
		{"next build", ""},
		{"webpack --mode production", ""},
		{"tsc --outDir .", ""},
		{"tsc --outDir node_modules/x", ""},
	} {
		b, why := runmodel.NodeBuildOutput(tc.script, read)
		if b.Out != tc.out || (why == "") != (tc.out != "") {
			t.Errorf("NodeBuildOutput(%q) = %q (%s), want %q", tc.script, b.Out, why, tc.out)
		}
	}
	// A vite config that sets outDir is code dfopt does not run.
	files["vite.config.ts"] = `export default { build: { outDir: "public" } }`
	if b, why := runmodel.NodeBuildOutput("vite build", read); why == "" {
		t.Errorf("vite build with a config setting outDir: %q, want no answer", b.Out)
	}
}

func TestNodeMain(t *testing.T) {
	for _, tc := range []struct {
		argv string
		file string
	}{
		{"node dist/server.js", "dist/server.js"},
		{"node /app/dist/server.js --port 80", "/app/dist/server.js"},
		{"nodejs main.js", "main.js"},
		{"/usr/local/bin/node --enable-source-maps --max-old-space-size=512 dist/a.js", "dist/a.js"},
		{"node -r ts-node/register src/a.ts", ""},
		{"node --import tsx src/a.ts", ""},
		{"node --env-file=.env dist/a.js", ""},
		{"node -e console.log(1)", ""},
		{"node", ""},
		{"npm start", ""},
		{"node $MAIN", ""},
	} {
		file, ok := runmodel.NodeMain(strings.Fields(tc.argv))
		if file != tc.file || ok != (tc.file != "") {
			t.Errorf("NodeMain(%q) = %q, %v; want %q", tc.argv, file, ok, tc.file)
		}
	}
	for argv, want := range map[string]bool{"npm start": true, "npm run start": true, "npm run-script start": true, "npm run build": false, "npm start --": false, "yarn start": false} {
		if got := runmodel.NpmStart(strings.Fields(argv)); got != want {
			t.Errorf("NpmStart(%q) = %v", argv, got)
		}
	}
}

func TestNodePackage(t *testing.T) {
	p, ok := runmodel.ReadNodePackage([]byte(`{"scripts": {"build": "tsc", "prebuild": "rimraf dist", "postinstall": "patch-package", "start": "node dist/a.js"}}`))
	if !ok {
		t.Fatal("package.json not read")
	}
	if got := p.InstallHooks(); !slices.Equal(got, []string{"postinstall"}) {
		t.Errorf("InstallHooks = %v", got)
	}
	if got := p.Hooks("build"); !slices.Equal(got, []string{"prebuild"}) {
		t.Errorf("Hooks(build) = %v", got)
	}
	if got := p.Hooks("start"); len(got) != 0 {
		t.Errorf("Hooks(start) = %v", got)
	}
	if _, ok := runmodel.ReadNodePackage([]byte(`{"scripts": `)); ok {
		t.Error("a broken package.json was read")
	}
	for script, ok := range map[string]bool{"node dist/a.js": true, "node dist/a.js --port 80": true, "tsc && node dist/a.js": false,
		"NODE_ENV=production node a.js": false, "node $FILE": false, "node 'a b.js'": false, "node a.js > log": false, "": false} {
		if _, got := runmodel.ScriptWords(script); got != ok {
			t.Errorf("ScriptWords(%q) ok = %v", script, got)
		}
	}
}

func TestNodeLockNative(t *testing.T) {
	for _, tc := range []struct {
		lock   string
		native []string
		ok     bool
	}{
		{`{"lockfileVersion": 3, "packages": {"": {"name": "a"}, "node_modules/ms": {"version": "2.1.3"}}}`, nil, true},
		{`{"lockfileVersion": 2, "packages": {"": {}, "node_modules/bcrypt": {"hasInstallScript": true}, "node_modules/a/node_modules/esbuild": {"hasInstallScript": true}}}`, []string{"bcrypt", "esbuild"}, true},
		{`{"lockfileVersion": 3, "packages": {"node_modules/esbuild": {"hasInstallScript": true, "dev": true}, "node_modules/fsevents": {"hasInstallScript": true, "devOptional": true}}}`, []string{"fsevents"}, true},
		{`{"lockfileVersion": 3, "packages": {"": {"hasInstallScript": true}}}`, []string{"the project itself"}, true},
		{`{"lockfileVersion": 1, "dependencies": {"ms": {"version": "2.1.3"}}}`, nil, false},
		{`not json`, nil, false},
	} {
		native, ok := runmodel.NodeLockNative([]byte(tc.lock))
		if ok != tc.ok || !slices.Equal(native, tc.native) {
			t.Errorf("NodeLockNative(%s) = %v, %v; want %v, %v", tc.lock, native, ok, tc.native, tc.ok)
		}
	}
}

func TestNpmProjectInstall(t *testing.T) {
	for run, want := range map[string]bool{
		"npm ci":                                true,
		"npm ci --no-audit --loglevel warn":     true,
		"npm install":                           true,
		"npm i --omit dev":                      true,
		"npm ci --omit=dev":                     true,
		"npm install --ignore-scripts":          true,
		"npm install express":                   false,
		"npm install -g typescript":             false,
		"npm ci --prefix web":                   false,
		"npm ci $FLAGS":                         false,
		"npm run build":                         false,
		"npm ci --install-links":                false,
		"npm install --workspace a":             false,
		"npm ci --registry https://example.org": false,
	} {
		_, r := runOf(t, "FROM node:20\nRUN "+run+"\n", 0)
		k := runmodel.ManagerNamed("npm").Read(r.Cmds[0])
		if got := runmodel.NpmProjectInstall(k); got != want {
			t.Errorf("NpmProjectInstall(%s) = %v, want %v", run, got, want)
		}
	}
}

func TestNodePackages(t *testing.T) {
	for pkg, want := range map[string][2]bool{
		"nodejs":          {false, true},
		"nodejs=18.19.0":  {false, true},
		"npm":             {true, false},
		"yarnpkg":         {true, false},
		"build-essential": {true, false},
		"git":             {true, false},
		"ca-certificates": {false, true},
		"tzdata":          {false, true},
		"python3":         {false, false},
		"libvips-dev":     {false, false},
	} {
		if got := [2]bool{runmodel.NodeToolchainPackage(pkg), runmodel.NodeRuntimePackage(pkg)}; got != want {
			t.Errorf("%s: toolchain, runtime = %v, want %v", pkg, got, want)
		}
	}
}
