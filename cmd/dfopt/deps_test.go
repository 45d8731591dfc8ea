package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoEngineClient checks that dfopt's module, its commands and its tests
// alike, uses none of BuildKit's client, gRPC, OpenTelemetry or containerd:
// dfopt verify, the bench and BuildKit's checks of dfopt's outputs live in
// the engine module (engine/), so that dfopt starts in milliseconds in a
// pre-commit hook or an editor, and so that pre-commit's go install ./... at
// the repository's root downloads and compiles dfopt's few dependencies,
// not the engine's. The tests count too: go mod tidy keeps their modules in
// go.mod.
func TestNoEngineClient(t *testing.T) {
	heavy := []string{
		"github.com/moby/buildkit/client",
		"google.golang.org/grpc",
		"go.opentelemetry.io/",
		"github.com/containerd/containerd/",
		"github.com/dfopt/dfopt/engine/",
	}
	for _, args := range [][]string{
		{"list", "-deps", "./..."},          // what go install ./... builds
		{"list", "-deps", "-test", "./..."}, // and go test ./...
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = filepath.Join("..", "..")
		out, err := cmd.Output()
		if _, lookErr := exec.LookPath("go"); lookErr != nil {
			t.Skipf("no go command: %v", lookErr)
		}
		if err != nil {
			// A package whose module go.mod lacks fails here too.
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderrOf(err))
		}
		pkgs := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(pkgs) < 20 {
			t.Fatalf("go %s: %d packages, too few to be dfopt's module: %q", strings.Join(args, " "), len(pkgs), pkgs)
		}
		for _, h := range heavy {
			var found []string
			for _, pkg := range pkgs {
				if strings.HasPrefix(pkg, h) {
					found = append(found, pkg)
				}
			}
			if len(found) > 0 {
				t.Errorf("go %s: dfopt's module needs %d packages of %s, %s first (go mod why -m says which import brings it)",
					strings.Join(args, " "), len(found), h, found[0])
			}
		}
	}
}

// TestStaticBinary checks that the dfopt command links neither package net
// nor cgo, so that go install, with a C compiler at hand as on most
// machines, makes a statically linked binary: one that links cgo loads libc
// and starts cgo's runtime on every run, some 2 ms of the ~6 a hook pays
// per run on a small file (issue 12). net brings cgo for its name
// resolver, os/user for its user look-ups; pflag brought net, for IP
// flags dfopt never had, until internal/flags took its place.
// CGO_ENABLED=1 makes go list answer for a machine with a C compiler,
// whether this one has one or not.
func TestStaticBinary(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("no go command: %v", err)
	}
	cmd := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}:{{range .Imports}} {{.}}{{end}}`, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, stderrOf(err))
	}
	// importers lists, for each package, the packages that import it; a
	// package that uses cgo imports "C", which brings runtime/cgo.
	importers := map[string][]string{}
	linked := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		linked[pkg] = true
		for _, imp := range strings.Fields(imports) {
			if pkg != "runtime/cgo" {
				importers[imp] = append(importers[imp], pkg)
			}
		}
	}
	if len(linked) < 20 {
		t.Fatalf("go list -deps: %d packages, too few to be dfopt's command:\n%s", len(linked), out)
	}
	why := map[string][]string{"net": importers["net"], "runtime/cgo": importers["C"]}
	for _, pkg := range []string{"net", "runtime/cgo"} {
		if linked[pkg] {
			t.Errorf("dfopt links %s (through %s): go install would then make a dynamically linked binary, which loads libc and starts cgo on every run, some 2 ms more than a static one",
				pkg, strings.Join(why[pkg], ", "))
		}
	}
}

// stderrOf returns what a command that failed wrote on its standard error.
func stderrOf(err error) []byte {
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.Stderr
	}
	return nil
}

// TestNoStartupWork checks that no package of dfopt's own that the command
// links compiles a regular expression, or runs an init function, when the
// program starts: a pre-commit hook pays for that on every run, whether
// the rule that needs it runs or not. Such a value is made on first use
// (sync.OnceValue).
func TestNoStartupWork(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Dir}} {{join .GoFiles \" \"}}", "github.com/dfopt/dfopt/cmd/dfopt").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	fset := token.NewFileSet()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if !strings.HasPrefix(fields[0], "github.com/dfopt/dfopt/") {
			continue
		}
		for _, name := range fields[2:] {
			f, err := parser.ParseFile(fset, filepath.Join(fields[1], name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, decl := range f.Decls {
				switch decl := decl.(type) {
				case *ast.FuncDecl:
					if decl.Recv == nil && decl.Name.Name == "init" {
						t.Errorf("%s: an init function", fset.Position(decl.Pos()))
					}
				case *ast.GenDecl:
					if decl.Tok != token.VAR {
						continue
					}
					ast.Inspect(decl, func(n ast.Node) bool {
						switch n := n.(type) {
						case *ast.FuncLit:
							return false // runs when called, not at start
						case *ast.SelectorExpr:
							if x, ok := n.X.(*ast.Ident); ok && x.Name == "regexp" && strings.Contains(n.Sel.Name, "Compile") {
								t.Errorf("%s: regexp.%s at start", fset.Position(n.Pos()), n.Sel.Name)
							}
						}
						return true
					})
				}
			}
		}
	}
}
