package main

import (
	"go/ast"
	"go/parser"
	"go/token"
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
