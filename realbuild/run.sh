#!/usr/bin/env bash
# run.sh is what CI calls for dfopt's real-build tests, from the repository root:
#
#   bash realbuild/run.sh                          # busybox fixtures
#   DFOPT_REALBUILD_DEBIAN=1 bash realbuild/run.sh # also debian:bookworm and the apt size test
#
# It starts the private engine (realbuild/engine.sh), always stops it again,
# runs the package's tests against it and exits with go test's status. Extra
# arguments go to go test (e.g. -run 'RealBuild/buildkit').
#
# DFOPT_REALBUILD_KEEP=1 leaves the engine running afterwards (stop it with
# realbuild/engine.sh stop); DFOPT_REALBUILD_BUILDERS=buildkit,classic picks
# the builders (default: every one that works; BuildKit alone for the rebuild
# test); DFOPT_REBUILD_RUNS=N sets how often the rebuild test changes and
# rebuilds each app (default 3); DFOPT_REALBUILD_REPORT=FILE collects the
# size and rebuild reports.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
engine=$here/engine.sh

# shellcheck disable=SC2317 # called by the EXIT trap
stop_engine() {
	if [[ ${DFOPT_REALBUILD_KEEP:-0} != 1 ]]; then
		bash "$engine" stop || echo "run.sh: stopping the engine failed" >&2
	fi
}
trap stop_engine EXIT
# A signal ends the script through exit, so that the EXIT trap stops the engine
# (dockerd runs in its own session and would outlive a killed process group).
trap 'exit 130' INT
trap 'exit 143' TERM

start=$SECONDS
bash "$engine" start </dev/null
eval "$(bash "$engine" env)"
export DOCKER_HOST
echo "run.sh: engine ready after $((SECONDS - start))s"

export DFOPT_REALBUILD=1
export DFOPT_REALBUILD_DEBIAN=${DFOPT_REALBUILD_DEBIAN:-0}
# Debian's docker.io brings a 20.10 CLI that drives the engine's built-in
# BuildKit without the buildx plugin; a newer CLI on PATH without buildx knows
# only the classic builder.
if [[ -z ${DFOPT_REALBUILD_DOCKER:-} && -x /usr/bin/docker ]]; then
	export DFOPT_REALBUILD_DOCKER=/usr/bin/docker
fi

cd "$repo"
status=0
go test ./realbuild -count=1 -v -timeout 75m "$@" </dev/null || status=$?
echo "run.sh: go test exited $status after $((SECONDS - start))s in all"
exit "$status"
