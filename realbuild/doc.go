// Package realbuild proves on a real BuildKit what the golden fixtures can
// only claim: that a Dockerfile dfopt rewrote builds an image with the same file
// system and the same run-time configuration as the original.
//
// The golden tests compare text; a rewrite that reads well can still build a
// different image (a merged RUN that loses a cd, a COPY that lands a file with
// other permissions, a VOLUME that now swallows a write). So the tests here
// build every chosen fixture twice, before and after dfopt, read both
// images' file systems from their layers and compare them path by path
// (type, mode, owner, size, link target, sha256 of the content; times aside),
// and compare the image configuration a rewrite must keep (Env, Cmd,
// Entrypoint, WorkingDir, User, ExposedPorts, Volumes, Labels and the rest).
//
// The folder exists apart from rules/ because these tests need a build
// engine, take minutes rather than milliseconds, and bring their own
// machinery: buildkit.sh builds buildkitd and buildctl from the Go module
// proxy and runs a private daemon (OCI worker, Debian's runc, host network)
// with locally made base root folders (no registry is reachable where dfopt
// is tested), and run.sh is what CI calls: it starts that daemon unless one
// runs, and stops it afterwards only if it started it. Without
// DFOPT_REALBUILD=1 and a daemon that answers at BUILDKIT_HOST, every test
// that needs one skips and says how to run it:
//
//	bash realbuild/run.sh                         # daemon, tests, daemon stopped
//	DFOPT_REALBUILD_DEBIAN=1 bash realbuild/run.sh # also debian:bookworm: apt size, rebuilds, multi-stage, static sites
//
// The tests drive the daemon as a user would, through buildctl (engine).
// Docker's image store is played by a folder (imageStore): each build
// exports its image there as an OCI layout (uncompressed), sharing one
// blobs/ folder, and every build gets every named image of the store as a
// named context (context:busybox=oci-layout://...), which BuildKit caches by
// digest and whose configuration it applies, as a registry's image. The
// bases are imported into the store once per run from buildkit.sh's root
// folders, as docker import made them: busybox:latest always, and
// debian:bookworm with DFOPT_REALBUILD_DEBIAN=1, one layer each with its
// files' owners (a folder given to BuildKit as a local context would make
// every file root's), PATH and CMD. Each run's bases are new to BuildKit,
// so no run finds another's layers cached, as with the fresh dockerd of old;
// within a run, layers stay cached from test to test. The daemon may serve
// others, so nothing prunes its whole cache: each test removes the records
// its own builds made (those built on the run's bases), and the cache
// mounts are emptied with buildctl prune --filter type==exec.cachemount
// where a test needs them empty (TestAdversarial, TestRealBuildFixtures),
// which empties the unused cache mounts of other users' builds too.
// Containers (TestMultiStage runs programs, TestStaticSite servers) run
// with Debian's runc, as docker run would: the image unpacked, runc spec's
// configuration with the image's command, environment, working folder and
// user, docker's default capabilities, /etc/hosts, and a network namespace
// with loopback alone.
//
// Which fixtures are built: fixtures/merge-runs/*.Dockerfile,
// fixtures/all/*.Dockerfile, and any fixtures/<rule>/<case>.Dockerfile with a
// <case>.realbuild marker file beside it (a <case>.realbuild-debian marker puts
// it in the apt size report instead). A fixture builds in the folder
// fixtures/<rule>/<case>/ when there is one, else in an empty context. It skips,
// saying why, when dfopt leaves it unchanged, when it needs an image the store
// does not have (only busybox:latest and, with DFOPT_REALBUILD_DEBIAN=1,
// debian:bookworm exist), or what the daemon's frontend lacks: # syntax=
// (its image is on a registry), and whatever else the frontend rejects in
// the input. The frontend built into buildkitd v0.34.2 builds heredocs and
// RUN --network, which Debian's dockerd 20.10, where these tests ran before,
// did not.
//
// The classic builder (DOCKER_BUILDKIT=0), with which every fixture was also
// built while the tests ran on docker.io, is no longer covered: it came with
// docker.io, and Docker has deprecated it for BuildKit.
//
// TestStaticSite (with DFOPT_REALBUILD_DEBIAN=1) proves multi-stage's split
// of a static site: each app of testdata/staticsite/ builds with vite (from
// the npm registry) and serves the output with serve or http-server; dfopt
// moves it onto nginx:stable-alpine, which the test stands in for with
// Debian's nginx-light on the debian:bookworm-slim stand-in. Both images run
// detached with no network; a busybox container in each one's network
// namespace (runc joins it, as docker run --network container: did) sends a
// GET for each path with nc and prints the status code, Cache-Control and
// the body, which must be the same for both.
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
// its dependency step cached (BuildKit's plain progress says CACHED) and each
// rebuild of the original must run its own; the last two images must compare equal as above, but for the
// content of Go's build-cache trim.txt, which is the time it was written. The
// wall times and their medians are logged, never judged, and appended to the
// file DFOPT_REALBUILD_REPORT names. Where the host trusts certificates of its
// own in /usr/local/share/ca-certificates (an HTTPS-intercepting proxy's), the
// apps build on debian:bookworm with those certificates added, so that npm and
// go reach their registries where the host does. The toolchains (Debian's npm
// alone is some 300 packages) are installed once per app, all apps at once,
// before the timed builds; the test adds about four minutes.
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
// --propose --cache-mounts (an output equal to the input is not built), and
// the images are compared as above. Only the package
// managers' caches and indexes of deliberateRemovals may be missing after
// dfopt; they are listed, never hidden. (Where a cache mount's target did
// not exist, BuildKit removes the folder it made to mount it on once the
// RUN is done, so a cache folder the original left empty is missing after
// dfopt rather than an empty mount point appearing, as on docker.io's
// older BuildKit: fixtures/apk-no-cache/cache-mounts lists /var/cache/apk
// so.)
// Every build with a cache mount starts with the daemon's cache mounts pruned
// (buildctl prune --filter type==exec.cachemount, which a probe checks at
// the start), so that no earlier build makes it pass or fail; layers stay
// cached. A case that
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
// Run it alone with bash realbuild/run.sh -run 'TestAdversarial$' (some
// four minutes).
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
// ignored silently: times; the files an engine puts in a container
// (/etc/hosts, /etc/hostname, /etc/resolv.conf, /.dockerenv: set aside by
// name, though BuildKit stores none of the mount points it makes for a RUN);
// what /proc, /sys and /dev hold; extended attributes the layers do not
// carry; and which paths share one file: the layers are read as
// imagefs.ReadLayout reads them, a hard link as a copy of the file it links
// to, so a rewrite that turned a hard link into a copy of the same bytes
// would pass (docker export, which the tests read before, kept the links,
// and the classic builder on the vfs driver stored a link to an earlier
// RUN's file as a copy). A run on a container unpacks the same layers: its
// device nodes are the runtime's own /dev.
package realbuild
