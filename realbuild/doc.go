// Package realbuild proves on a real Docker engine what the golden fixtures can
// only claim: that a Dockerfile dfopt rewrote builds an image with the same file
// system and the same run-time configuration as the original.
//
// The golden tests compare text; a rewrite that reads well can still build a
// different image (a merged RUN that loses a cd, a COPY that lands a file with
// other permissions, a VOLUME that now swallows a write). So the tests here
// build every chosen fixture twice, before and after dfopt, export both
// containers' file systems with docker export and compare them path by path
// (type, mode, owner, size, link target, sha256 of the content; times aside),
// and compare the image configuration a rewrite must keep (Env, Cmd,
// Entrypoint, WorkingDir, User, ExposedPorts, Volumes, Labels and the rest).
//
// The folder exists apart from rules/ because these tests need a Docker engine,
// take minutes rather than milliseconds, and bring their own machinery:
// engine.sh installs Debian's docker.io and starts a private dockerd with
// locally made base images (no registry is reachable where dfopt is tested),
// and run.sh is what CI calls. Without DFOPT_REALBUILD=1 and an engine that
// answers, every test that needs one skips and says how to run it:
//
//	bash realbuild/run.sh                         # engine, tests, engine stopped
//	DFOPT_REALBUILD_DEBIAN=1 bash realbuild/run.sh # also debian:bookworm and the apt size test
//
// Which fixtures are built: fixtures/merge-runs/*.Dockerfile,
// fixtures/all/*.Dockerfile, and any fixtures/<rule>/<case>.Dockerfile with a
// <case>.realbuild marker file beside it (a <case>.realbuild-debian marker puts
// it in the apt size report instead). A fixture builds in the folder
// fixtures/<rule>/<case>/ when there is one, else in an empty context. It skips,
// saying why, when dfopt leaves it unchanged, when it needs an image the engine
// does not have (only busybox:latest and, with DFOPT_REALBUILD_DEBIAN=1,
// debian:bookworm exist), or what the builder lacks: heredocs, flags such as
// RUN --mount with the classic builder, # syntax= (no registry), and whatever
// else the builder's own Dockerfile parser rejects in the input (Debian's
// dockerd 20.10 has an old built-in frontend: no heredocs, no RUN --network).
//
// Every fixture is built with each builder that works: BuildKit
// (DOCKER_BUILDKIT=1, which needs the docker.io CLI or buildx) and the classic
// builder (DOCKER_BUILDKIT=0). DFOPT_REALBUILD_BUILDERS=buildkit picks one.
//
// TestStaticSite (with DFOPT_REALBUILD_DEBIAN=1) proves multi-stage's split
// of a static site: each app of testdata/staticsite/ builds with vite (from
// the npm registry) and serves the output with serve or http-server; dfopt
// moves it onto nginx:stable-alpine, which the test stands in for with
// Debian's nginx-light on the debian:bookworm-slim stand-in. Both images run
// detached with no network; a busybox container in each one's network
// namespace sends a GET for each path with nc and prints the status code,
// Cache-Control and the body, which must be the same for both.
//
// TestRebuildCache (with DFOPT_REALBUILD_DEBIAN=1) proves copy-manifests-first
// where it pays off: on a rebuild. testdata/apps/ holds a Node app (npm ci of a
// package-lock.json from the npm registry), a Go app (modules from the Go
// module proxy; go.sum is complete, so sum.golang.org is never asked) and a
// Python app (pip install -r requirements.txt, met by Debian's python3-flask:
// no Python package index is reachable), each with the Dockerfile many
// projects have: apt-get install of the toolchain, COPY . ., then the install
// (the Go app in a builder stage: in a stage that ships, the go mod download
// layer would keep the module cache in the image, so there dfopt only
// proposes it).
// The test rewrites each with every rule and the app as the build context,
// checks that the manifests are now copied and installed first, and builds
// both files; then DFOPT_REBUILD_RUNS times (3) it appends a comment to a
// source file and builds both again. Each rebuild of dfopt's output must show
// its dependency step cached (BuildKit's plain progress says CACHED, the
// classic builder "Using cache") and each rebuild of the original must run
// its own; the last two images must compare equal as above, but for the
// content of Go's build-cache trim.txt, which is the time it was written. The
// wall times and their medians are logged, never judged, and appended to the
// file DFOPT_REALBUILD_REPORT names. Where the host trusts certificates of its
// own in /usr/local/share/ca-certificates (an HTTPS-intercepting proxy's), the
// apps build on debian:bookworm with those certificates added, so that npm and
// go reach their registries where the host does. The toolchains (Debian's npm
// alone is some 300 packages) are installed once per app, all apps at once,
// before the timed builds; the test adds about four minutes, with one builder
// (BuildKit) unless DFOPT_REALBUILD_BUILDERS names more.
//
// TestAdversarial is the proof of dfopt's promise that a rewrite changes
// neither the image's files, nor its configuration, nor whether and where
// the build fails (where both fail, they must fail the same way: the same
// exit code and error messages from the failing step, see failureOf).
// testdata/adversarial/<case>/ holds cases written to catch dfopt
// changing a build (package lists and caches a later step still reads,
// merged RUNs that leak a cd or lose set -e, COPYs moved past RUNs that read
// them, ADD of archives without an archive's name, ...): a Dockerfile, the
// build context beside it and a README whose first line says what the case
// probes ("expect: fail" when the original fails on purpose, "keep: PATH"
// when a later build reads a cache the case keeps). Each case is built as it
// is and as dfopt rewrites it, with its default options and with --merge=all
// --propose --cache-mounts, on BuildKit only (an output equal to the input is
// not built), and the images are compared as above. Only the package
// managers' caches and indexes of deliberateRemovals may be missing after
// dfopt (and empty cache-mount points appear); they are listed, never hidden.
// Every build with a cache mount starts with the engine's cache mounts pruned
// (docker builder prune --filter type=exec.cachemount, which a probe checks
// at the start; the whole build cache where the filter does nothing), so
// that no earlier build makes it pass or fail; layers stay cached. A case that
// dfopt leaves unchanged is not built, unless DFOPT_REALBUILD_ADV_ORIGINALS=1,
// which checks that every original does what its README says.
// Many cases build FROM dfopt-adv-tools:latest, busybox with fake package
// managers (testdata/adversarial/_tools), since dfopt reads the command line
// and not the program: a fake that writes and reads where the real tool does
// makes a case fast and the same every time; cases on debian:bookworm (with
// DFOPT_REALBUILD_DEBIAN=1) use the real apt-get, dpkg, sudo and bash. The test
// ends with a table of every case and variant (same, same with deliberate
// removals, DIFFERS, build-success-differs), also written to
// DFOPT_REALBUILD_REPORT, and fails on any difference: each one is a hazard
// dfopt misses; a case whose README says "proposal: RULE why" names a
// proposal that changes the build on purpose, and with --propose that
// difference is listed as the proposal's (changed-by-proposal), not failed.
// Run it alone on a running engine with go test ./realbuild -run
// TestAdversarial (some eight minutes).
//
// TestRealBuildFixtures builds every other rule's fixtures that dfopt changes
// (merge-runs and all are TestRealBuild's), the input against its golden,
// compared as in TestAdversarial (deliberate removals set apart, a fixture
// that applies proposals listed as changed by them). A fixture without a
// folder builds in a context with an empty file for each source its COPY
// and ADD name; a folder fixture's .dockerignore that dfopt writes is there
// in the after build. Bases no registry gives here are stood in for, and the
// table names each stand-in: debian:bookworm for the Debian family,
// dfopt-adv-tools (busybox with the fake package managers) for alpine,
// python, node, golang, maven, centos, fedora and the others; Windows bases
// are skipped. A build on a stand-in proves that the rewrite keeps the
// build's shell and file-system behaviour with the fakes, not with the real
// tools; many fixtures fail on them before and after alike ("same (both
// fail)"), which proves little, and the table says so. Two builds of
// a Debian case run minutes apart: the package lists (and what apt-get
// installs) could differ if the mirror changed in between; the contents of
// dpkg's and apt's logs and binary caches, which hold times, are set aside
// when only their bytes differ, not their size.
//
// TestImage builds dfopt's own image, the repository's Dockerfile, on a
// BuildKit daemon (BUILDKIT_HOST, as realbuild/buildkit.sh starts it, with
// DFOPT_REALBUILD=1; no Docker engine) on a stand-in for golang:1.26-bookworm
// made from buildkit.sh's debian:bookworm and the Go toolchain the tests run
// with. It checks that the image holds /dfopt, a static Go binary built with
// CGO_ENABLED=0, -trimpath and -s -w, and the /src folder and nothing else,
// with user 65532:65532; runs the image (as that user, in a build) and its
// binary on the host; and checks that a rebuild after a change to the code
// takes go mod download from the cache. .ci/run runs it after the bench.
//
// What the file system comparison cannot see is said here rather than
// ignored silently: times, and the files the engine itself puts in each
// container. What it sees that a Dockerfile did not ask for: with the classic
// builder on the vfs storage driver, a hard link made in one RUN to a file of
// an earlier RUN is stored as a copy, so merging those RUNs shows up as "file ->
// hard link"; write fixtures that link in the RUN that makes the file.
package realbuild
