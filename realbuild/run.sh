#!/usr/bin/env bash
# run.sh is what CI calls for dfopt's real-build tests, from the repository root:
#
#   bash realbuild/run.sh                          # busybox fixtures
#   DFOPT_REALBUILD_DEBIAN=1 bash realbuild/run.sh # also debian:bookworm: apt size, rebuilds, adversarial Debian cases, multi-stage, static sites
#
# It starts the private BuildKit daemon (realbuild/buildkit.sh start: buildkitd
# with the OCI worker and Debian's runc, and the base root folders) unless one
# already runs, runs the package's tests against it, stops the daemon again
# only if it started it, and exits with go test's status. A daemon that was
# running may be serving others: it is used as it is (not even its bases are
# made again), left running, and the tests prune no more of its cache than
# what their own builds made and the unused cache mounts. Extra arguments go
# to go test (e.g. -run 'TestAdversarial$').
#
# DFOPT_REALBUILD_KEEP=1 leaves a daemon it started running afterwards (stop
# it with bash realbuild/buildkit.sh stop); DFOPT_REBUILD_RUNS=N sets how
# often the rebuild test changes and rebuilds each app (default 3);
# DFOPT_REALBUILD_REPORT=FILE collects the size, rebuild and adversarial
# reports. buildkit.sh's own settings (DFOPT_BUILDKIT_DIR, ...) pass through.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
buildkit=$here/buildkit.sh
started=0

# shellcheck disable=SC2317 # called by the EXIT trap
stop_daemon() {
	if ((started)) && [[ ${DFOPT_REALBUILD_KEEP:-0} != 1 ]]; then
		bash "$buildkit" stop || echo "run.sh: stopping buildkitd failed" >&2
	fi
}
trap stop_daemon EXIT
# A signal ends the script through exit, so that the EXIT trap stops the
# daemon (buildkitd runs in its own session and would outlive a killed
# process group).
trap 'exit 130' INT
trap 'exit 143' TERM

start=$SECONDS
if bash "$buildkit" status >/dev/null 2>&1; then
	# Left as it is: its start may also remake or remove base folders that
	# others read. The tests say which base is missing, if one is.
	echo "run.sh: using the buildkitd that runs already: $(bash "$buildkit" status)"
else
	started=1
	bash "$buildkit" start </dev/null
fi
eval "$(bash "$buildkit" env)"
export BUILDKIT_HOST
# buildkit.sh keeps buildctl in its folder's bin/.
PATH=${DFOPT_BUILDKIT_DIR:-${TMPDIR:-/tmp}/dfopt-buildkit}/bin:$PATH
echo "run.sh: buildkitd ready after $((SECONDS - start))s"

export DFOPT_REALBUILD=1
export DFOPT_REALBUILD_DEBIAN=${DFOPT_REALBUILD_DEBIAN:-0}

cd "$repo"
status=0
go test ./realbuild -count=1 -v -timeout 75m "$@" </dev/null || status=$?
echo "run.sh: go test exited $status after $((SECONDS - start))s in all"
exit "$status"
