#!/usr/bin/env bash
# run.sh builds every app of bench/apps three ways (as written, dfopt, dfopt
# --propose) with dfopt verify on a private BuildKit and writes
# bench/results.json and bench/RESULTS.md. From the repository root, as root:
#
#   bash bench/run.sh                 # every app
#   bash bench/run.sh --apps go-api   # some ((cd engine && go run ./bench --help) for the flags)
#
# The bench program is engine/bench, in the engine module (it links
# BuildKit's client through package verify, which dfopt's own module leaves
# out); run.sh builds it there and runs it from the repository's root, where
# its paths (--apps-dir, --out) are read.
# It starts realbuild/buildkit.sh's daemon unless one already runs, and then
# stops it again; the base images (debian:bookworm, debian:bookworm-slim,
# busybox, the nginx stand-in) are the OCI layouts buildkit.sh makes.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
bk=$repo/realbuild/buildkit.sh

started=0
tmp=$(mktemp -d)
# shellcheck disable=SC2317 # called by the EXIT trap
stop() {
	rm -rf "$tmp"
	if ((started)); then
		bash "$bk" stop || echo "run.sh: stopping buildkitd failed" >&2
	fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

(cd "$repo/engine" && go build -o "$tmp/bench" ./bench)

if ! bash "$bk" status >/dev/null 2>&1; then
	bash "$bk" start </dev/null
	started=1
fi
eval "$(bash "$bk" env)"
export BUILDKIT_HOST

args=()
while IFS= read -r line; do
	[[ -n $line ]] && args+=(--base "$line")
done < <(bash "$bk" layouts)

cd "$repo"
start=$SECONDS
status=0
"$tmp/bench" "${args[@]}" "$@" </dev/null || status=$?
echo "run.sh: the bench exited $status after $((SECONDS - start))s" >&2
exit "$status"
