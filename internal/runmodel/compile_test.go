package runmodel_test

import (
	"testing"

	"github.com/dfopt/dfopt/internal/runmodel"
)

func TestToolchainPackage(t *testing.T) {
	for _, tc := range []struct {
		lang, pkg string
		want      bool
	}{
		{"c", "gcc", true}, {"c", "gcc-12", true}, {"c", "g++:amd64", true}, {"c", "clang-16", true},
		{"c", "build-essential=12.9", true}, {"c", "libc6-dev", true}, {"c", "musl-dev", true},
		{"c", "binutils", true}, {"c", "git", true}, {"c", "glibc-devel", true},
		{"c", "libssl-dev", false}, {"c", "curl", false}, {"c", "ca-certificates", false}, {"c", "golang-go", false},
		{"go", "golang-go", true}, {"go", "golang-1.22-go", true}, {"go", "go", true}, {"go", "golang-src", false},
		{"rust", "cargo", true}, {"rust", "rustc", true}, {"rust", "curl", true}, {"rust", "libssl-dev", false},
	} {
		if got := runmodel.ToolchainPackage(tc.lang, tc.pkg); got != tc.want {
			t.Errorf("ToolchainPackage(%q, %q) = %v, want %v", tc.lang, tc.pkg, got, tc.want)
		}
	}
}
