package main

import (
	"os/exec"
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
