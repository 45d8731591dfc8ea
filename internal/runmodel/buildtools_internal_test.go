package runmodel

import (
	"regexp"
	"testing"
)

// TestVersionedCompiler checks versionedCompiler against the regular
// expression it stands for.
func TestVersionedCompiler(t *testing.T) {
	re := regexp.MustCompile(`^(gcc|g\+\+|cpp|clang|gfortran)-[0-9]+(\.[0-9]+)?$`)
	for _, name := range []string{"gcc-12", "g++-12", "cpp-14", "clang-16", "gfortran-12", "gcc-4.9", "clang-3.8",
		"gcc", "gcc-", "gcc-x", "gcc-12.", "gcc-12.1.2", "gcc-12-base", "gcc12", "clang-tools-16", "g++-12.a",
		"llvm-16", "gcc-.1", "gcc--12", "gcc-1.2.", ""} {
		if got, want := versionedCompiler(name), re.MatchString(name); got != want {
			t.Errorf("versionedCompiler(%q) = %v, want %v", name, got, want)
		}
	}
}
