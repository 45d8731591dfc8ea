// Package verify builds a Dockerfile and what dfopt makes of it on a real
// BuildKit engine and compares the two images: their sizes (unpacked and as
// a registry stores them), layers, cold build and rebuild times, and whether
// they hold the same files and configuration, but for what the applied rules
// change on purpose, each such difference named with its rule.
//
// It drives BuildKit through github.com/moby/buildkit/client, as buildctl
// does, so it works with a local buildkitd, Docker's BuildKit or a remote
// one. It is a package of its own, used by the dfopt-verify command, in the
// engine module beside dfopt's, so that dfopt itself, which pre-commit hooks
// and editors start for each file, links none of the engine's client, and
// building dfopt's module (go install ./..., as pre-commit does) downloads
// and compiles none of it either.
package verify
