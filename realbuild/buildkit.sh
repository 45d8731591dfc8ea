#!/usr/bin/env bash
# buildkit.sh runs a private BuildKit daemon (buildkitd, OCI worker, runc) for
# dfopt's real builds, next to (not instead of) engine.sh's dockerd. Prototype
# for issue 10.
#
#   buildkit.sh start   build buildkitd/buildctl if missing, install runc if
#                       missing, make the local bases, start buildkitd
#   buildkit.sh stop    stop that buildkitd by its PID, unmount and remove its folder
#   buildkit.sh env     print the export line that points buildctl at it
#   buildkit.sh status  say whether it runs
#   buildkit.sh smoke   build FROM debian:bookworm (local base) and FROM scratch
#   buildkit.sh purge   stop, then also remove the binaries and the bases
#
# Everything lives under ${DFOPT_BUILDKIT_DIR:-${TMPDIR:-/tmp}/dfopt-buildkit}:
#   bin/     buildkitd and buildctl (kept by stop: the next start is quick)
#   bases/   debian-bookworm-*/ (a root folder) and empty/ (kept by stop)
#   daemon/  buildkitd's root, socket, log and state file (removed by stop)
#
# No registry is reachable, so FROM debian:bookworm is served as a named
# context from a local folder:
#   buildctl build --frontend dockerfile.v0 \
#     --local context=DIR --local dockerfile=DIR \
#     --opt context:debian:bookworm=local:debian --local debian="$(buildkit.sh base debian)" ...
# The debian root folder is unpacked from engine.sh's cached tarball when there
# is one, else made with debootstrap --variant=minbase.
#
# Settings from the environment:
#   DFOPT_BUILDKIT_DIR            the folder (default ${TMPDIR:-/tmp}/dfopt-buildkit)
#   DFOPT_BUILDKIT_VERSION        BuildKit module version (default v0.34.2)
#   DFOPT_BUILDKIT_SNAPSHOTTER    force a snapshotter (default: overlayfs, else native)
#   DFOPT_BUILDKIT_START_TIMEOUT  seconds to wait for buildkitd (default 60)
#   DFOPT_REALBUILD_DIR           where engine.sh keeps its cache (to reuse its debian tarball)
#   DFOPT_REALBUILD_MIRROR        Debian mirror for debootstrap (default http://deb.debian.org/debian)
set -euo pipefail

root=${DFOPT_BUILDKIT_DIR:-${TMPDIR:-/tmp}/dfopt-buildkit}
version=${DFOPT_BUILDKIT_VERSION:-v0.34.2}
bin=$root/bin
bases=$root/bases
daemon=$root/daemon
state=$daemon/state
sock=$daemon/buildkitd.sock
log=$daemon/buildkitd.log
addr=unix://$sock
timeout=${DFOPT_BUILDKIT_START_TIMEOUT:-60}
mirror=${DFOPT_REALBUILD_MIRROR:-http://deb.debian.org/debian}
realbuild_cache=${DFOPT_REALBUILD_DIR:-${TMPDIR:-/tmp}/dfopt-realbuild}/cache
# Change with the way the root folder is made (as engine.sh's debian_recipe).
debian_recipe=debian-bookworm-r2

say() { printf 'buildkit.sh: %s\n' "$*" >&2; }
die() {
	say "error: $*"
	exit 1
}
elapsed() { printf '%ss' "$((SECONDS - $1))"; }

bctl() { "$bin/buildctl" --addr "$addr" "$@"; }

state_get() {
	[[ -f $state ]] || return 0
	sed -n "s/^$1=//p" "$state"
}

# running, is_proc, unmount_under, stop_pid: as in engine.sh.
running() {
	local pid=$1 stat
	[[ -n $pid ]] && stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}
is_proc() { running "$1" && [[ $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]]; }
alive() { is_proc "$1" buildkitd; }
answers() { bctl debug workers >/dev/null 2>&1; }

unmount_under() {
	local dir=$1 m
	[[ -d $dir ]] || return 0
	dir=$(cd "$dir" && pwd -P)
	while read -r m; do
		[[ -n $m ]] || continue
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || say "could not unmount $m"
	done < <(awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r)
}

stop_pid() {
	local pid=$1 wait=$2 i
	running "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < wait * 10; i++)); do
		running "$pid" || return 0
		sleep 0.1
	done
	say "PID $pid did not stop in ${wait}s; killing it"
	kill -KILL "$pid" 2>/dev/null || true
	sleep 0.5
}

# ensure_packages installs runc (the OCI worker's runtime) and, when it is to
# be used, debootstrap.
ensure_packages() {
	local need=()
	command -v runc >/dev/null 2>&1 || need+=(runc)
	if [[ ! -d $bases/$debian_recipe && ! -s $realbuild_cache/$debian_recipe.tar ]]; then
		command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
	fi
	((${#need[@]})) || return 0
	local t=$SECONDS
	say "installing ${need[*]} with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	local apt=(apt-get -y -q --no-install-recommends)
	if ! "${apt[@]}" install "${need[@]}" </dev/null >"$root/apt.log" 2>&1; then
		{ "${apt[@]}" update && "${apt[@]}" install "${need[@]}"; } </dev/null >>"$root/apt.log" 2>&1 ||
			die "apt-get install ${need[*]} failed (log: $root/apt.log)"
	fi
	say "installed ${need[*]} in $(elapsed "$t")"
}

# ensure_binaries builds buildkitd and buildctl from the Go module proxy into
# $bin, once per version. `go install …@version` refuses (buildkit's go.mod has
# exclude directives), so they are built in a throwaway module.
ensure_binaries() {
	if [[ -x $bin/buildkitd && -x $bin/buildctl && $(cat "$bin/VERSION" 2>/dev/null) == "$version" ]]; then
		return 0
	fi
	command -v go >/dev/null 2>&1 || die "need go to build buildkit $version"
	local t=$SECONDS src
	say "building buildkitd and buildctl $version (a few minutes, once)"
	mkdir -p "$bin"
	src=$(mktemp -d "$root/src.XXXXXX")
	if ! (
		cd "$src"
		export GOFLAGS="${GOFLAGS:+$GOFLAGS }-p=1 -buildvcs=false"
		go mod init dfopt-buildkit-build
		# go get of the two packages (not just the module) also records the
		# go.sum entries of their dependencies.
		go get "github.com/moby/buildkit/cmd/buildkitd@$version" "github.com/moby/buildkit/cmd/buildctl@$version"
		go build -trimpath -o "$bin/buildkitd.tmp" github.com/moby/buildkit/cmd/buildkitd
		go build -trimpath -o "$bin/buildctl.tmp" github.com/moby/buildkit/cmd/buildctl
	) >"$root/build.log" 2>&1; then
		tail -n 20 "$root/build.log" >&2
		rm -rf "$src"
		die "building buildkit $version failed (log: $root/build.log)"
	fi
	mv "$bin/buildkitd.tmp" "$bin/buildkitd"
	mv "$bin/buildctl.tmp" "$bin/buildctl"
	echo "$version" >"$bin/VERSION"
	rm -rf "$src"
	say "built buildkit $version in $(elapsed "$t")"
}

# ensure_bases makes bases/empty and the debian root folder bases/$debian_recipe.
ensure_bases() {
	mkdir -p "$bases/empty"
	local dir=$bases/$debian_recipe t=$SECONDS tmp
	[[ -d $dir ]] && return 0
	rm -rf "$bases"/debian-bookworm*
	tmp=$(mktemp -d "$bases/.debian.XXXXXX")
	chmod 755 "$tmp"
	if [[ -s $realbuild_cache/$debian_recipe.tar ]]; then
		tar -C "$tmp" --numeric-owner -xpf "$realbuild_cache/$debian_recipe.tar"
		say "unpacked engine.sh's $debian_recipe.tar in $(elapsed "$t")"
	else
		say "debootstrap --variant=minbase bookworm from $mirror (about a minute)"
		if ! debootstrap --variant=minbase bookworm "$tmp" "$mirror" </dev/null >"$root/debootstrap.log" 2>&1; then
			tail -n 20 "$root/debootstrap.log" >&2
			unmount_under "$tmp"
			rm -rf "$tmp"
			die "debootstrap failed (log: $root/debootstrap.log)"
		fi
		unmount_under "$tmp"
		rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/* "$tmp"/var/log/bootstrap.log
		say "debootstrap done in $(elapsed "$t")"
	fi
	mv "$tmp" "$dir"
}

snapshotters() {
	if [[ -n ${DFOPT_BUILDKIT_SNAPSHOTTER:-} ]]; then
		echo "$DFOPT_BUILDKIT_SNAPSHOTTER"
		return
	fi
	if grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null; then
		echo overlayfs
	fi
	echo native
}

start_buildkitd() {
	local snap=$1 t=$SECONDS
	mkdir -p "$daemon/root"
	# An empty config keeps /etc/buildkit/buildkitd.toml out.
	: >"$daemon/buildkitd.toml"
	: >"$log"
	local args=(
		--config="$daemon/buildkitd.toml"
		--root="$daemon/root"
		--addr="$addr"
		--oci-worker=true
		--oci-worker-binary=runc
		--oci-worker-snapshotter="$snap"
		--oci-worker-net=host
		--containerd-worker=false
	)
	setsid "$bin/buildkitd" "${args[@]}" </dev/null >>"$log" 2>&1 9>&- &
	local pid=$!
	{
		echo "PID=$pid"
		echo "DIR=$daemon"
		echo "SNAPSHOTTER=$snap"
		echo "BUILDKIT_HOST=$addr"
	} >"$state"
	local deadline=$((SECONDS + timeout))
	while ((SECONDS < deadline)); do
		if ! running "$pid"; then
			say "buildkitd ($snap) exited; last lines of $log:"
			tail -n 10 "$log" >&2
			return 1
		fi
		if answers; then
			say "buildkitd $pid answers (snapshotter $snap) after $(elapsed "$t")"
			return 0
		fi
		sleep 0.2
	done
	say "buildkitd did not answer within ${timeout}s; last lines of $log:"
	tail -n 10 "$log" >&2
	stop_daemon
	return 1
}

stop_daemon() {
	local pid
	pid=$(state_get PID)
	if alive "$pid"; then
		stop_pid "$pid" 30
		say "stopped buildkitd $pid"
	fi
	unmount_under "$daemon"
	rm -rf "$daemon"
}

cmd_start() {
	local t0=$SECONDS pid snap ok=0
	[[ $(id -u) == 0 ]] || die "need root (buildkitd with the OCI worker, apt-get, mounts)"
	ensure_packages
	ensure_binaries
	ensure_bases
	pid=$(state_get PID)
	if alive "$pid" && answers; then
		say "buildkitd $pid already runs ($addr)"
	else
		stop_daemon
		while read -r snap; do
			if start_buildkitd "$snap"; then
				ok=1
				break
			fi
			say "snapshotter $snap failed"
			stop_daemon
		done < <(snapshotters)
		((ok)) || die "buildkitd did not start with any snapshotter"
	fi
	say "ready in $(elapsed "$t0"): eval \"\$($0 env)\""
}

cmd_status() {
	local pid
	pid=$(state_get PID)
	if alive "$pid" && answers; then
		echo "running: PID $pid, $addr, snapshotter $(state_get SNAPSHOTTER), bases in $bases"
	else
		echo "not running"
		return 1
	fi
}

# cmd_smoke builds FROM debian:bookworm (from the local root folder) and FROM
# scratch, and checks what comes out.
cmd_smoke() {
	cmd_status >/dev/null || die "buildkitd does not run"
	local w t out
	w=$(mktemp -d "$root/smoke.XXXXXX")
	mkdir -p "$w/deb" "$w/scratch" "$w/out"
	printf 'FROM debian:bookworm\nRUN echo hi > /hi\n' >"$w/deb/Dockerfile"
	printf 'FROM scratch\nCOPY f /f\n' >"$w/scratch/Dockerfile"
	echo scratch-ok >"$w/scratch/f"
	t=$SECONDS
	bctl build --frontend dockerfile.v0 \
		--local context="$w/deb" --local dockerfile="$w/deb" \
		--opt context:debian:bookworm=local:debian --local debian="$bases/$debian_recipe" \
		--output type=local,dest="$w/out/deb" >"$w/deb.log" 2>&1 || {
		tail -n 20 "$w/deb.log" >&2
		die "debian build failed"
	}
	out=$(cat "$w/out/deb/hi")
	[[ $out == hi ]] || die "debian build: /hi is '$out'"
	say "FROM debian:bookworm (local base) built in $(elapsed "$t"); /hi=$out; owner of /usr/bin/passwd: $(stat -c '%U %a' "$w/out/deb/usr/bin/passwd")"
	t=$SECONDS
	bctl build --frontend dockerfile.v0 \
		--local context="$w/deb" --local dockerfile="$w/deb" \
		--opt context:debian:bookworm=local:debian --local debian="$bases/$debian_recipe" \
		--output type=docker,name=dfopt-smoke:deb,dest="$w/out/deb.tar" >"$w/deb2.log" 2>&1 || {
		tail -n 20 "$w/deb2.log" >&2
		die "debian build (type=docker) failed"
	}
	say "again, as a docker tarball ($(du -h "$w/out/deb.tar" | cut -f1)), in $(elapsed "$t")"
	t=$SECONDS
	bctl build --frontend dockerfile.v0 \
		--local context="$w/scratch" --local dockerfile="$w/scratch" \
		--output type=oci,name=dfopt-smoke:scratch,dest="$w/out/scratch.tar" >"$w/scratch.log" 2>&1 || {
		tail -n 20 "$w/scratch.log" >&2
		die "scratch build failed"
	}
	tar -tf "$w/out/scratch.tar" | grep -q '^index.json$' || die "scratch build: no index.json in the OCI tarball"
	say "FROM scratch built in $(elapsed "$t") (OCI tarball $(du -h "$w/out/scratch.tar" | cut -f1))"
	rm -rf "$w"
}

main() {
	mkdir -p "$root"
	case ${1:-} in
	env)
		echo "export BUILDKIT_HOST=$addr"
		return
		;;
	base)
		case ${2:-} in
		debian) echo "$bases/$debian_recipe" ;;
		empty) echo "$bases/empty" ;;
		*) die "usage: $0 base debian|empty" ;;
		esac
		return
		;;
	esac
	# One buildkit.sh at a time on this folder.
	exec 9>"$root/lock"
	flock 9
	case ${1:-} in
	start) cmd_start ;;
	stop) stop_daemon ;;
	purge)
		stop_daemon
		rm -rf "$bin" "$bases"
		;;
	status) cmd_status ;;
	smoke) cmd_smoke ;;
	*)
		echo "usage: $0 start|stop|env|status|smoke|purge|base debian|empty" >&2
		exit 2
		;;
	esac
}

main "$@"
