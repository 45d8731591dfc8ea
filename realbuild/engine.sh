#!/usr/bin/env bash
# engine.sh runs a private Docker engine for dfopt's real-build tests.
#
#   engine.sh start   install what is missing, start dockerd, import base images
#   engine.sh stop    stop that dockerd by its PID and remove its folder
#   engine.sh env     print the export line that points the docker CLI at it
#   engine.sh status  say whether it runs
#   engine.sh purge   stop, then also remove the cached base image tarballs
#
# Everything lives under one folder, ${DFOPT_REALBUILD_DIR:-${TMPDIR:-/tmp}/dfopt-realbuild}:
# engine/ (data root, exec root, socket, log, state file; removed by stop) and
# cache/ (root file system tarballs; kept by stop so the next start is quick).
#
# The engine is Debian's docker.io (dockerd 20.10) with no bridge and no
# iptables: builds use --network=host. No registry is reachable, so base images
# are made locally: busybox:latest from busybox-static always, debian:bookworm
# from debootstrap --variant=minbase when DFOPT_REALBUILD_DEBIAN=1.
#
# Settings from the environment:
#   DFOPT_REALBUILD_DIR             the folder (default ${TMPDIR:-/tmp}/dfopt-realbuild)
#   DFOPT_REALBUILD_DEBIAN=1        also make debian:bookworm (installs debootstrap)
#   DFOPT_REALBUILD_STORAGE_DRIVER  force a storage driver (default: overlay2, else vfs)
#   DFOPT_REALBUILD_START_TIMEOUT   seconds to wait for dockerd (default 60)
#   DFOPT_REALBUILD_MIRROR          Debian mirror for debootstrap (default http://deb.debian.org/debian)
set -euo pipefail

root=${DFOPT_REALBUILD_DIR:-${TMPDIR:-/tmp}/dfopt-realbuild}
engine=$root/engine
cache=$root/cache
state=$engine/state
sock=$engine/docker.sock
log=$engine/dockerd.log
docker_host=unix://$sock
timeout=${DFOPT_REALBUILD_START_TIMEOUT:-60}
mirror=${DFOPT_REALBUILD_MIRROR:-http://deb.debian.org/debian}
want_debian=${DFOPT_REALBUILD_DEBIAN:-0}

say() { printf 'engine.sh: %s\n' "$*" >&2; }
die() {
	say "error: $*"
	exit 1
}

# elapsed prints the seconds since the given start (from $SECONDS).
elapsed() { printf '%ss' "$((SECONDS - $1))"; }

# dk runs the docker CLI against this engine only.
dk() { DOCKER_HOST=$docker_host docker "$@"; }

# state_get prints the value of KEY from the state file.
state_get() {
	[[ -f $state ]] || return 0
	sed -n "s/^$1=//p" "$state"
}

# running says whether PID is a process that has not ended; a zombie (ended,
# not yet reaped by its parent) has.
running() {
	local pid=$1 stat
	[[ -n $pid ]] && stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	# The state follows the command name in parentheses: "123 (dockerd) S ...".
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# is_proc says whether PID runs program NAME (not some process that reused the PID).
is_proc() {
	running "$1" && [[ $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]]
}

# alive says whether PID is our running dockerd.
alive() { is_proc "$1" dockerd; }

answers() { dk info >/dev/null 2>&1; }

# show_log prints what in dockerd's log says why it failed: its errors, then its last lines.
show_log() {
	say "errors in $log:"
	grep -E 'level=(error|fatal)|^failed|Error' "$log" | tail -n 10 >&2 || true
	say "last lines of $log:"
	tail -n 8 "$log" >&2
}

# ensure_packages installs with apt-get what the engine needs and is missing.
ensure_packages() {
	local need=()
	command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
	# The docker.io package also brings its own 20.10 CLI at /usr/bin/docker;
	# any docker CLI on PATH that speaks API 1.41 works.
	command -v docker >/dev/null 2>&1 || need+=(docker.io)
	dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || need+=(busybox-static)
	if [[ $want_debian == 1 ]]; then
		command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
	fi
	((${#need[@]})) || return 0
	mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
	[[ $(id -u) == 0 ]] || die "need root to install ${need[*]} (and to run dockerd)"
	local t=$SECONDS
	say "installing ${need[*]} with apt-get"
	# Without systemd, a package's postinst would start the system's own dockerd
	# and containerd through invoke-rc.d; policy-rc.d exit 101 forbids that.
	local made_policy=0
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	local rc=0
	{
		export DEBIAN_FRONTEND=noninteractive
		local apt=(apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
		if ! "${apt[@]}" install --no-install-recommends "${need[@]}" </dev/null >"$root/apt.log" 2>&1; then
			"${apt[@]}" update </dev/null >>"$root/apt.log" 2>&1 &&
				"${apt[@]}" install --no-install-recommends "${need[@]}" </dev/null >>"$root/apt.log" 2>&1
		fi
	} || rc=$?
	((made_policy)) && rm -f /usr/sbin/policy-rc.d
	if ((rc)); then
		tail -n 20 "$root/apt.log" >&2
		die "apt-get install ${need[*]} failed (log: $root/apt.log)"
	fi
	say "installed ${need[*]} in $(elapsed "$t")"
}

# storage_drivers lists the drivers to try, best first.
storage_drivers() {
	if [[ -n ${DFOPT_REALBUILD_STORAGE_DRIVER:-} ]]; then
		echo "$DFOPT_REALBUILD_STORAGE_DRIVER"
		return
	fi
	if grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null; then
		echo overlay2
	fi
	echo vfs
}

# start_dockerd starts dockerd with the given storage driver and waits until it
# answers; it returns 1 (with the PID stopped) when it does not.
start_dockerd() {
	local driver=$1 t=$SECONDS
	mkdir -p "$engine/data" "$engine/exec"
	echo '{}' >"$engine/daemon.json"
	: >"$log"
	# --config-file keeps /etc/docker/daemon.json out; the containerd namespaces
	# keep a system containerd (which dockerd would reuse) apart from ours.
	local args=(
		--config-file="$engine/daemon.json"
		--data-root="$engine/data"
		--exec-root="$engine/exec"
		--pidfile="$engine/dockerd.pid"
		--host="$docker_host"
		--bridge=none
		--iptables=false
		--ip-masq=false
		--ip-forward=false
		--userland-proxy=false
		--storage-driver="$driver"
		--exec-opt=native.cgroupdriver=cgroupfs
		--containerd-namespace=dfopt-realbuild
		--containerd-plugins-namespace=dfopt-realbuild-plugins
	)
	# setsid: the engine outlives the shell that started it (a CI step, a terminal).
	# 9>&- : the lock stays with this script, not with the engine.
	setsid dockerd "${args[@]}" </dev/null >>"$log" 2>&1 9>&- &
	local pid=$!
	{
		echo "PID=$pid"
		echo "DIR=$engine"
		echo "DRIVER=$driver"
		echo "DOCKER_HOST=$docker_host"
	} >"$state"
	local deadline=$((SECONDS + timeout))
	while ((SECONDS < deadline)); do
		if ! running "$pid"; then
			say "dockerd ($driver) exited"
			show_log
			return 1
		fi
		if answers; then
			local got pidfile
			# setsid execs dockerd in place, so $! is dockerd; trust its pidfile anyway.
			pidfile=$(cat "$engine/dockerd.pid" 2>/dev/null || true)
			if [[ -n $pidfile && $pidfile != "$pid" ]]; then
				pid=$pidfile
				sed -i "s/^PID=.*/PID=$pid/" "$state"
			fi
			got=$(dk info --format '{{.Driver}}' 2>/dev/null || true)
			if [[ $got != "$driver" ]]; then
				say "dockerd came up with storage driver '$got', not '$driver'"
				stop_engine
				return 1
			fi
			say "dockerd $pid answers (storage driver $driver) after $(elapsed "$t")"
			return 0
		fi
		sleep 0.5
	done
	say "dockerd did not answer within ${timeout}s (DFOPT_REALBUILD_START_TIMEOUT)"
	show_log
	stop_engine
	return 1
}

# make_busybox_tar writes a busybox root file system as a tar to $1: /bin/busybox
# from busybox-static with its applet symlinks, and the few files a shell and
# adduser expect.
make_busybox_tar() {
	local out=$1 dir
	dir=$(mktemp -d "$root/busybox-root.XXXXXX")
	# mktemp made it 0700; the tar's "." entry becomes the image's /, which
	# every user must be able to enter.
	chmod 755 "$dir"
	(
		cd "$dir"
		# The folders most base images have, so that fixtures written for
		# debian or alpine find /usr/local/bin and the like here too.
		mkdir -p bin sbin usr/bin usr/sbin usr/local/bin usr/local/sbin usr/local/lib usr/local/share \
			etc root home tmp opt srv var/tmp var/cache var/lib var/log var/spool/mail proc sys dev run
		chmod 1777 tmp var/tmp
		chmod 700 root
		cp /bin/busybox bin/busybox
		# Inside the chroot /proc/self/exe does not resolve, so busybox takes
		# argv[0], /bin/busybox, as the symlink target: links point inside the image.
		chroot . /bin/busybox --install -s
		printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/home:/bin/false' >etc/passwd
		printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >etc/group
		printf '%s\n' 'root:*:19000:0:99999:7:::' 'nobody:*:19000:0:99999:7:::' >etc/shadow
		chmod 640 etc/shadow
		printf '%s\n' '/bin/sh' >etc/shells
	)
	tar -C "$dir" --numeric-owner --owner=0 --group=0 -cf "$out.tmp" .
	mv "$out.tmp" "$out"
	rm -rf "$dir"
}

# make_debian_tar writes a debootstrap --variant=minbase bookworm root file system
# as a tar to $1.
make_debian_tar() {
	local out=$1 dir
	dir=$(mktemp -d "$root/debian-root.XXXXXX")
	chmod 755 "$dir" # the image's /, see make_busybox_tar
	if ! debootstrap --variant=minbase bookworm "$dir" "$mirror" </dev/null >"$root/debootstrap.log" 2>&1; then
		tail -n 20 "$root/debootstrap.log" >&2
		unmount_under "$dir"
		rm -rf "$dir"
		die "debootstrap failed (log: $root/debootstrap.log)"
	fi
	unmount_under "$dir"
	# What the official image drops too: downloaded packages and package lists.
	rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/var/log/bootstrap.log
	tar -C "$dir" --numeric-owner -cf "$out.tmp" .
	mv "$out.tmp" "$out"
	rm -rf "$dir"
}

# import_image imports tarball $2 as image $1 unless the engine has it from
# that very tarball (the state file records which one was imported).
import_image() {
	local ref=$1 tarball=$2 cmd=$3 key
	key="IMPORTED_$(tr -c 'a-zA-Z0-9\n' _ <<<"$ref")"
	if dk image inspect "$ref" >/dev/null 2>&1 && [[ $(state_get "$key") == "$(basename "$tarball")" ]]; then
		return 0
	fi
	local t=$SECONDS
	dk import \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change "CMD [\"$cmd\"]" \
		"$tarball" "$ref" >/dev/null
	sed -i "/^$key=/d" "$state"
	echo "$key=$(basename "$tarball")" >>"$state"
	say "imported $ref in $(elapsed "$t")"
}

# busybox_recipe and debian_recipe name the root file systems make_busybox_tar
# and make_debian_tar make: change a name with its recipe, so that cached
# tarballs and imported images are made again.
busybox_recipe=busybox-r3
debian_recipe=debian-bookworm-r2

import_images() {
	local t
	if [[ ! -s $cache/$busybox_recipe.tar ]]; then
		t=$SECONDS
		rm -f "$cache"/busybox*.tar
		make_busybox_tar "$cache/$busybox_recipe.tar"
		say "made the busybox root file system in $(elapsed "$t")"
	fi
	import_image busybox:latest "$cache/$busybox_recipe.tar" sh
	if [[ $want_debian == 1 ]]; then
		if [[ ! -s $cache/$debian_recipe.tar ]]; then
			t=$SECONDS
			rm -f "$cache"/debian-bookworm*.tar
			say "debootstrap --variant=minbase bookworm from $mirror (about a minute)"
			make_debian_tar "$cache/$debian_recipe.tar"
			say "debootstrap done in $(elapsed "$t")"
		fi
		import_image debian:bookworm "$cache/$debian_recipe.tar" bash
	fi
}

# unmount_under unmounts every mount point at or below $1, deepest first.
unmount_under() {
	local dir=$1 m
	[[ -d $dir ]] || return 0
	dir=$(cd "$dir" && pwd -P)
	while read -r m; do
		[[ -n $m ]] || continue
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || say "could not unmount $m"
	done < <(awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r)
}

# stop_pid sends TERM to PID and waits up to $2 seconds, then KILL.
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

stop_engine() {
	local pid cpid
	pid=$(state_get PID)
	if alive "$pid"; then
		stop_pid "$pid" 30
		say "stopped dockerd $pid"
	fi
	# dockerd stops the containerd it started; after a KILL it may be left over.
	cpid=$(cat "$engine/exec/containerd/containerd.pid" 2>/dev/null || true)
	if is_proc "$cpid" containerd; then
		stop_pid "$cpid" 10
	fi
	unmount_under "$engine"
	rm -rf "$engine"
}

cmd_start() {
	local t0=$SECONDS driver
	ensure_packages
	local pid
	pid=$(state_get PID)
	if alive "$pid" && answers; then
		say "dockerd $pid already runs ($docker_host)"
	else
		# A previous engine that died or was not stopped: clear its folder.
		stop_engine
		mkdir -p "$engine"
		local ok=0
		while read -r driver; do
			if start_dockerd "$driver"; then
				ok=1
				break
			fi
			say "storage driver $driver failed"
			mkdir -p "$engine"
		done < <(storage_drivers)
		((ok)) || die "dockerd did not start with any storage driver"
	fi
	import_images
	say "ready in $(elapsed "$t0"): eval \"\$($0 env)\""
}

cmd_status() {
	local pid
	pid=$(state_get PID)
	if alive "$pid" && answers; then
		echo "running: PID $pid, $docker_host, storage driver $(state_get DRIVER)"
	else
		echo "not running"
		return 1
	fi
}

main() {
	mkdir -p "$root" "$cache"
	# One engine.sh at a time on this folder.
	exec 9>"$root/lock"
	flock 9
	case ${1:-} in
	start) cmd_start ;;
	stop) stop_engine ;;
	purge)
		stop_engine
		rm -rf "$cache"
		;;
	env) echo "export DOCKER_HOST=$docker_host" ;;
	status) cmd_status ;;
	*)
		echo "usage: $0 start|stop|env|status|purge" >&2
		exit 2
		;;
	esac
}

main "$@"
