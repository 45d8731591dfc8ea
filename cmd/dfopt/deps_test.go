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

// TestNoEngineClient checks that dfopt links none of BuildKit's client (or
// gRPC under it): dfopt verify's engine code lives in dfopt-verify, so that
// dfopt starts in milliseconds in a pre-commit hook or an editor.
func TestNoEngineClient(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/dfopt/dfopt/cmd/dfopt").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/moby/buildkit/client") || strings.HasPrefix(pkg, "google.golang.org/grpc") ||
			pkg == "github.com/dfopt/dfopt/verify" {
			t.Errorf("dfopt links %s", pkg)
		}
	}
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
