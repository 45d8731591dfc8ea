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
#   buildkit.sh bases   print REF=DIR for each image reference a local base
#                       stands in for (to pass one as a named context, drop a
#                       :latest: FROM busybox:latest looks up context:busybox)
#   buildkit.sh layouts print REF=DIR for each base's OCI image layout (what
#                       dfopt verify --base and the bench take: BuildKit
#                       caches builds on a layout, never on a local folder)
#   buildkit.sh opts    print buildctl's arguments (one a line) that serve
#                       every base as a named context
#   buildkit.sh base NAME  print one base's folder (debian, debian-slim,
#                       busybox, nginx, empty)
#   buildkit.sh smoke   build FROM each base and FROM scratch
#   buildkit.sh purge   stop, then also remove the binaries and the bases
#
# Everything lives under ${DFOPT_BUILDKIT_DIR:-${TMPDIR:-/tmp}/dfopt-buildkit}:
#   bin/     buildkitd and buildctl (kept by stop: the next start is quick)
#   bases/   one root folder per base, named by its recipe, and empty/ (kept by stop)
#   layouts/ each base folder as an OCI image layout (kept by stop)
#   daemon/  buildkitd's root, socket, log and state file (removed by stop)
#
# No registry is reachable, so FROM debian:bookworm is served as a named
# context from a local folder:
#   buildctl build --frontend dockerfile.v0 \
#     --local context=DIR --local dockerfile=DIR \
#     --opt context:debian:bookworm=local:debian --local debian="$(buildkit.sh base debian)" ...
# or, for every base at once: mapfile -t opts < <(buildkit.sh opts); buildctl build "${opts[@]}" ...
#
# The bases (buildkit.sh bases lists them):
#   debian:bookworm       debootstrap --variant=minbase, unpacked from engine.sh's
#                         cached tarball when there is one (buildkit.sh base
#                         debian); where the host trusts certificates of its
#                         own, a copy with them in /usr/local/share/ca-certificates
#   debian:bookworm-slim  that folder copied, less what Docker's slim image leaves
#                         out (documentation, manual pages, translations; dpkg
#                         keeps leaving them out), with Docker's docker-clean apt
#                         configuration
#   busybox, busybox:latest  Debian's busybox-static with its applet links, as
#                         engine.sh's busybox image
#   nginx:stable-alpine   the slim folder with Debian's nginx-light, its
#                         nginx.conf (which includes /etc/nginx/conf.d/*.conf)
#                         without the default site, built by this buildkitd
# A folder holds files only: an image built on it gets no ENV, CMD or other
# configuration from its base (RUN still gets BuildKit's default PATH). And
# buildctl hands every file of a local context to uid 0, gid 0, whoever owns
# it in the folder (a type=local output likewise gets the caller's), so in
# an image built on a base every file of the base is root's: /etc/shadow is
# root:root, not root:shadow. Files written by RUN keep their owners.
#
# Settings from the environment:
#   DFOPT_BUILDKIT_DIR            the folder (default ${TMPDIR:-/tmp}/dfopt-buildkit)
#   DFOPT_BUILDKIT_VERSION        BuildKit module version (default v0.34.2)
#   DFOPT_BUILDKIT_SNAPSHOTTER    force a snapshotter (default: overlayfs, else native)
#   DFOPT_BUILDKIT_START_TIMEOUT  seconds to wait for buildkitd (default 60)
#   DFOPT_BUILDKIT_MAX_USED       the build cache's size limit (default 12GB)
#   DFOPT_BUILDKIT_MIN_FREE       the disk space its garbage collection keeps free (default 8GB)
#   DFOPT_REALBUILD_DIR           where engine.sh keeps its cache (to reuse its debian tarball)
#   DFOPT_REALBUILD_MIRROR        Debian mirror for debootstrap (default http://deb.debian.org/debian)
set -euo pipefail

root=${DFOPT_BUILDKIT_DIR:-${TMPDIR:-/tmp}/dfopt-buildkit}
version=${DFOPT_BUILDKIT_VERSION:-v0.34.2}
bin=$root/bin
bases=$root/bases
layouts=$root/layouts
daemon=$root/daemon
state=$daemon/state
sock=$daemon/buildkitd.sock
log=$daemon/buildkitd.log
addr=unix://$sock
timeout=${DFOPT_BUILDKIT_START_TIMEOUT:-60}
mirror=${DFOPT_REALBUILD_MIRROR:-http://deb.debian.org/debian}
realbuild_cache=${DFOPT_REALBUILD_DIR:-${TMPDIR:-/tmp}/dfopt-realbuild}/cache
# Certificates the host trusts besides Debian's (*.crt, in subfolders too):
# an HTTPS-intercepting proxy's, say.
host_cas=/usr/local/share/ca-certificates

# host_ca_tag prints -hostca-HASH, HASH naming the certificates of
# $host_cas, or nothing where the host has none.
host_ca_tag() {
	local files=()
	[[ -d $host_cas ]] && mapfile -t files < <(cd "$host_cas" && find . -name '*.crt' -type f | sort)
	((${#files[@]})) || return 0
	printf -- '-hostca-%s' "$(cd "$host_cas" && cat "${files[@]}" | sha256sum | cut -c1-8)"
}

# Each base's folder is named by its recipe: change the name with the way
# the folder is made (as engine.sh's debian_recipe), and start makes it
# again. A base made from another holds that one's name in its own, so a new
# debian folder makes the slim and nginx folders again too. busybox_recipe
# is engine.sh's, made the same way. Where the host trusts certificates of
# its own, debian:bookworm is served from a copy of the debian folder with
# them in /usr/local/share/ca-certificates (served_debian), where an
# apt-get install ca-certificates adds them to the bundle that go, npm and
# node read: HTTPS from a build then works where the host's does. The slim
# and nginx folders are made from that one.
debian_recipe=debian-bookworm-r2
served_debian=$debian_recipe$(host_ca_tag)
slim_recipe=$served_debian-slim-r1
nginx_recipe=$slim_recipe-nginx-r1
busybox_recipe=busybox-r3
# Each root folder is also written as an OCI image layout, layouts/DIR.$layout_recipe:
# BuildKit caches what it builds on a layout (keyed by the image's digest),
# never what it builds on a local folder (keyed by the session).
layout_recipe=oci-r1

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

# ensure_packages installs runc (the OCI worker's runtime) and, when they are
# to be used, debootstrap and busybox-static.
ensure_packages() {
	local need=()
	command -v runc >/dev/null 2>&1 || need+=(runc)
	if [[ ! -d $bases/$debian_recipe && ! -s $realbuild_cache/$debian_recipe.tar ]]; then
		command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
	fi
	if [[ ! -d $bases/$busybox_recipe ]]; then
		dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || need+=(busybox-static)
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

# ensure_bases makes the bases that need no buildkitd: bases/empty, the
# debian, slim and busybox folders. ensure_nginx makes the last one.
ensure_bases() {
	mkdir -p "$bases/empty"
	prune_bases
	ensure_debian
	ensure_trusting
	ensure_slim
	ensure_busybox
}

# prune_bases removes the folders of bases/ that no current recipe names
# (made by an older recipe, or left by a start that failed half-way).
prune_bases() {
	local d name
	for d in "$bases"/* "$bases"/.[!.]*; do
		[[ -e $d ]] || continue
		name=${d##*/}
		case $name in
		empty | "$debian_recipe" | "$served_debian" | "$slim_recipe" | "$nginx_recipe" | "$busybox_recipe") ;;
		*)
			say "removing $name (no recipe names it now)"
			rm -rf "$d"
			;;
		esac
	done
}

# ensure_debian makes the debian root folder bases/$debian_recipe.
ensure_debian() {
	local dir=$bases/$debian_recipe t=$SECONDS tmp
	[[ -d $dir ]] && return 0
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

# ensure_trusting makes bases/$served_debian, where the host trusts
# certificates of its own: the debian folder with them in $host_cas.
ensure_trusting() {
	local dir=$bases/$served_debian t=$SECONDS tmp
	[[ -d $dir ]] && return 0
	tmp=$(mktemp -d "$bases/.trusting.XXXXXX")
	cp -a "$bases/$debian_recipe/." "$tmp/"
	mkdir -p "$tmp$host_cas"
	(cd "$host_cas" && find . -name '*.crt' -type f -exec cp --parents -t "$tmp$host_cas" {} +)
	find "$tmp$host_cas" -type d -exec chmod 755 {} + -o -type f -exec chmod 644 {} +
	mv "$tmp" "$dir"
	say "made $served_debian: the debian folder with the host's own certificates from $host_cas, in $(elapsed "$t")"
}

# ensure_slim makes the debian:bookworm-slim stand-in bases/$slim_recipe: a
# copy of the folder debian:bookworm is served from (cp -a keeps owners,
# modes and hard links) with what Docker's slim images leave out removed, a
# dpkg configuration that keeps leaving it out of the packages installed
# later, and Docker's apt configuration that keeps no package cache
# (docker-clean).
ensure_slim() {
	local dir=$bases/$slim_recipe t=$SECONDS tmp
	[[ -d $dir ]] && return 0
	tmp=$(mktemp -d "$bases/.slim.XXXXXX")
	cp -a "$bases/$served_debian/." "$tmp/"
	(
		cd "$tmp"
		printf '%s\n' \
			"# dfopt's debian:bookworm-slim stand-in: dpkg installs no documentation" \
			'# (but the copyright files), manual pages or translations, as in' \
			"# Docker's slim images." \
			'path-exclude /usr/share/doc/*' \
			'path-include /usr/share/doc/*/copyright' \
			'path-exclude /usr/share/man/*' \
			'path-exclude /usr/share/groff/*' \
			'path-exclude /usr/share/info/*' \
			'path-exclude /usr/share/lintian/*' \
			'path-exclude /usr/share/linda/*' \
			'path-exclude /usr/share/locale/*' \
			'path-include /usr/share/locale/locale.alias' >etc/dpkg/dpkg.cfg.d/docker
		# The same paths, out of the packages installed already.
		find usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete
		find usr/share/doc -mindepth 1 -type d -empty -delete
		rm -rf usr/share/man/* usr/share/groff/* usr/share/info/* usr/share/lintian/* usr/share/linda/*
		find usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
		rm -f var/cache/debconf/*-old
		# apt-get keeps neither .debs nor its package caches: a stage that
		# installs a library ships no pkgcache.bin.
		local clean='rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true'
		printf '%s\n' \
			"DPkg::Post-Invoke { \"$clean\"; };" \
			"APT::Update::Post-Invoke { \"$clean\"; };" \
			'Dir::Cache::pkgcache "";' \
			'Dir::Cache::srcpkgcache "";' >etc/apt/apt.conf.d/docker-clean
	)
	mv "$tmp" "$dir"
	say "made the debian:bookworm-slim stand-in ($(du -sh "$dir" | cut -f1)) in $(elapsed "$t")"
}

# ensure_busybox makes the busybox root folder bases/$busybox_recipe, as
# engine.sh's make_busybox_tar makes its tarball: /bin/busybox from
# busybox-static with its applet links, and the few files a shell and
# adduser expect.
ensure_busybox() {
	local dir=$bases/$busybox_recipe t=$SECONDS tmp
	[[ -d $dir ]] && return 0
	tmp=$(mktemp -d "$bases/.busybox.XXXXXX")
	# mktemp made it 0700; the folder becomes the image's /, which every
	# user must be able to enter.
	chmod 755 "$tmp"
	if ! (
		cd "$tmp"
		# The folders most base images have, so that files written for
		# debian or alpine find /usr/local/bin and the like here too.
		mkdir -p bin sbin usr/bin usr/sbin usr/local/bin usr/local/sbin usr/local/lib usr/local/share \
			etc root home tmp opt srv var/tmp var/cache var/lib var/log var/spool/mail proc sys dev run
		chmod 1777 tmp var/tmp
		chmod 700 root
		cp /bin/busybox bin/busybox
		# Inside the chroot /proc/self/exe does not resolve, so busybox takes
		# argv[0], /bin/busybox, as the link target: links point inside the folder.
		chroot . /bin/busybox --install -s
		printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/home:/bin/false' >etc/passwd
		printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >etc/group
		printf '%s\n' 'root:*:19000:0:99999:7:::' 'nobody:*:19000:0:99999:7:::' >etc/shadow
		chmod 640 etc/shadow
		printf '%s\n' '/bin/sh' >etc/shells
		[[ -L bin/sh && -x bin/sh ]]
	); then
		rm -rf "$tmp"
		die "could not make the busybox folder (is /bin/busybox busybox-static's?)"
	fi
	mv "$tmp" "$dir"
	say "made the busybox folder in $(elapsed "$t")"
}

# ensure_nginx makes the nginx:stable-alpine stand-in bases/$nginx_recipe
# with this buildkitd: the slim stand-in with Debian's nginx-light, without
# its default site (nginx.conf includes /etc/nginx/conf.d/*.conf, where
# dfopt's static-site split writes its server block) and with the official
# image's /usr/share/nginx/html. An image built FROM it gets no CMD: the
# split writes nginx's own.
ensure_nginx() {
	local dir=$bases/$nginx_recipe t=$SECONDS w
	[[ -d $dir ]] && return 0
	w=$(mktemp -d "$root/nginx.XXXXXX")
	cat >"$w/Dockerfile" <<-'EOF'
		FROM debian:bookworm-slim
		RUN apt-get update && apt-get install -y --no-install-recommends nginx-light && rm -rf /var/lib/apt/lists/* \
		 && rm -f /etc/nginx/sites-enabled/default \
		 && grep -q 'include /etc/nginx/conf.d/\*.conf;' /etc/nginx/nginx.conf \
		 && mkdir -p /usr/share/nginx/html \
		 && nginx -t
	EOF
	say "making the nginx:stable-alpine stand-in (apt-get install nginx-light on the slim one)"
	# type=local writes every file as the caller's (root's); the base's
	# files are root's in any image built on a folder anyway.
	if ! bctl build --frontend dockerfile.v0 \
		--local context="$w" --local dockerfile="$w" \
		--opt context:debian:bookworm-slim=local:slim --local slim="$bases/$slim_recipe" \
		--output type=local,dest="$w/root" >"$w/build.log" 2>&1; then
		tail -n 20 "$w/build.log" >&2
		rm -rf "$w"
		die "building the nginx stand-in failed"
	fi
	chmod 755 "$w/root"
	mv "$w/root" "$dir"
	rm -rf "$w"
	say "made the nginx:stable-alpine stand-in ($(du -sh "$dir" | cut -f1)) in $(elapsed "$t")"
}

# base_config prints the image configuration a base's layout carries, as
# the image it stands in for has it.
base_config() {
	local path='"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"'
	case $1 in
	debian | debian-slim) printf '{"Env":[%s],"Cmd":["bash"]}' "$path" ;;
	busybox) printf '{"Env":[%s],"Cmd":["sh"]}' "$path" ;;
	nginx) printf '{"Env":[%s],"Cmd":["nginx","-g","daemon off;"],"ExposedPorts":{"80/tcp":{}},"StopSignal":"SIGQUIT"}' "$path" ;;
	*) die "base_config: no base $1" ;;
	esac
}

# make_layout ROOTFS OUT CONFIG writes an OCI image layout of one gzip layer
# holding ROOTFS as it is (numeric owners, modes and extended attributes
# kept; /proc, /sys and /dev left empty) with the configuration CONFIG.
make_layout() {
	local rootfs=$1 out=$2 config=$3 tmp layer diffid lsize cfg csize man msize
	mkdir -p "$layouts"
	tmp=$(mktemp -d "$layouts/.layout.XXXXXX")
	mkdir -p "$tmp/blobs/sha256"
	tar -C "$rootfs" --numeric-owner --xattrs --sort=name --mtime=@0 \
		--exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' -cf "$tmp/layer.tar" .
	diffid=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
	gzip -n -1 "$tmp/layer.tar"
	layer=$(sha256sum "$tmp/layer.tar.gz" | cut -d' ' -f1)
	lsize=$(stat -c %s "$tmp/layer.tar.gz")
	mv "$tmp/layer.tar.gz" "$tmp/blobs/sha256/$layer"
	printf '{"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"dfopt realbuild/buildkit.sh"}]}' \
		"$config" "$diffid" >"$tmp/config.json"
	cfg=$(sha256sum "$tmp/config.json" | cut -d' ' -f1)
	csize=$(stat -c %s "$tmp/config.json")
	mv "$tmp/config.json" "$tmp/blobs/sha256/$cfg"
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
		"$cfg" "$csize" "$layer" "$lsize" >"$tmp/manifest.json"
	man=$(sha256sum "$tmp/manifest.json" | cut -d' ' -f1)
	msize=$(stat -c %s "$tmp/manifest.json")
	mv "$tmp/manifest.json" "$tmp/blobs/sha256/$man"
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"}}]}' \
		"$man" "$msize" >"$tmp/index.json"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$tmp/oci-layout"
	mv "$tmp" "$out"
}

# ensure_layouts writes each base folder's OCI layout, once, and removes the
# layouts no current base names.
ensure_layouts() {
	local ref name dir t keep=" " d
	while read -r ref name dir; do
		keep+="$dir.$layout_recipe "
		[[ -d $bases/$dir && ! -d $layouts/$dir.$layout_recipe ]] || continue
		t=$SECONDS
		make_layout "$bases/$dir" "$layouts/$dir.$layout_recipe" "$(base_config "$name")"
		say "wrote the OCI layout of $ref in $(elapsed "$t")"
	done < <(base_table)
	for d in "$layouts"/* "$layouts"/.[!.]*; do
		[[ -e $d && $keep != *" ${d##*/} "* ]] || continue
		say "removing the layout ${d##*/} (no base names it now)"
		rm -rf "$d"
	done
}

# cmd_layouts prints REF=LAYOUT for each base's OCI layout, as dfopt verify's
# --base takes it (there, busybox:latest is busybox).
cmd_layouts() {
	local ref name dir missing=()
	while read -r ref name dir; do
		if [[ -d $layouts/$dir.$layout_recipe ]]; then
			echo "$ref=$layouts/$dir.$layout_recipe"
		else
			missing+=("$ref")
		fi
	done < <(base_table)
	((${#missing[@]} == 0)) || die "not made yet: ${missing[*]} (run $0 start)"
}

# base_table lists, one a line, each image reference a base stands in for,
# the name of its named context and its folder's name under bases/.
base_table() {
	printf '%s\n' \
		"debian:bookworm debian $served_debian" \
		"debian:bookworm-slim debian-slim $slim_recipe" \
		"busybox:latest busybox $busybox_recipe" \
		"busybox busybox $busybox_recipe" \
		"nginx:stable-alpine nginx $nginx_recipe"
}

# cmd_bases prints REF=DIR for each base that is made; it fails, saying
# which, when one is missing.
cmd_bases() {
	local ref name dir missing=()
	while read -r ref name dir; do
		if [[ -d $bases/$dir ]]; then
			echo "$ref=$bases/$dir"
		else
			missing+=("$ref")
		fi
	done < <(base_table)
	((${#missing[@]} == 0)) || die "not made yet: ${missing[*]} (run $0 start)"
}

# cmd_opts prints buildctl build's arguments, one a line, that serve every
# base made as a named context. The dockerfile frontend looks a FROM up by
# its short name less :latest (FROM busybox:latest finds context:busybox,
# never context:busybox:latest), so the key is spelled that way.
cmd_opts() {
	local ref name dir key seen=" "
	while read -r ref name dir; do
		[[ -d $bases/$dir ]] || continue
		key=${ref%:latest}
		if [[ $seen != *" $key "* ]]; then
			printf '%s\n' --opt "context:$key=local:$name"
			seen+="$key "
		fi
		if [[ $seen != *" local:$name "* ]]; then
			printf '%s\n' --local "$name=$bases/$dir"
			seen+="local:$name "
		fi
	done < <(base_table)
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
	# A config of its own keeps /etc/buildkit/buildkitd.toml out; its garbage
	# collection keeps the build cache within what a machine of 2 cores and
	# some 40 GB free can spare.
	printf '[worker.oci]\n  gc = true\n  maxUsedSpace = "%s"\n  minFreeSpace = "%s"\n' \
		"${DFOPT_BUILDKIT_MAX_USED:-12GB}" "${DFOPT_BUILDKIT_MIN_FREE:-8GB}" >"$daemon/buildkitd.toml"
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
	ensure_nginx
	ensure_layouts
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

# cmd_smoke builds FROM debian:bookworm (from the local root folder), FROM
# each other base (a RUN that checks what the base is for) and FROM scratch,
# and checks what comes out.
cmd_smoke() {
	cmd_status >/dev/null || die "buildkitd does not run"
	local w t out ref check opts
	mapfile -t opts < <(cmd_opts)
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
	while IFS='|' read -r ref check; do
		t=$SECONDS
		rm -rf "$w/base" && mkdir "$w/base"
		printf 'FROM %s\nRUN %s\nRUN echo ok > /ok\nFROM scratch\nCOPY --from=0 /ok /ok\n' "$ref" "$check" >"$w/base/Dockerfile"
		bctl build --frontend dockerfile.v0 \
			--local context="$w/base" --local dockerfile="$w/base" "${opts[@]}" \
			--output type=local,dest="$w/out/base" >"$w/base.log" 2>&1 || {
			tail -n 20 "$w/base.log" >&2
			die "FROM $ref: build failed"
		}
		[[ $(cat "$w/out/base/ok") == ok ]] || die "FROM $ref: no /ok"
		say "FROM $ref (local base) built in $(elapsed "$t")"
	done <<-'EOF'
		debian:bookworm-slim|test -f /etc/apt/apt.conf.d/docker-clean && test -f /etc/dpkg/dpkg.cfg.d/docker && test -z "$(ls /usr/share/man)" && test -f /usr/share/doc/bash/copyright && apt-get --version
		busybox:latest|test "$(id -un)" = root && test -d /tmp && busybox | head -n 1
		busybox|test "$(readlink /bin/sh)" = /bin/busybox && wget --help 2>&1 | head -n 1
		nginx:stable-alpine|nginx -t && test -d /etc/nginx/conf.d && test ! -e /etc/nginx/sites-enabled/default && test -d /usr/share/nginx/html
	EOF
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
		debian-slim) echo "$bases/$slim_recipe" ;;
		busybox) echo "$bases/$busybox_recipe" ;;
		nginx) echo "$bases/$nginx_recipe" ;;
		empty) echo "$bases/empty" ;;
		*) die "usage: $0 base debian|debian-slim|busybox|nginx|empty" ;;
		esac
		return
		;;
	layouts)
		cmd_layouts
		return
		;;
	bases)
		cmd_bases
		return
		;;
	opts)
		cmd_opts
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
		rm -rf "$bin" "$bases" "$layouts"
		;;
	status) cmd_status ;;
	smoke) cmd_smoke ;;
	*)
		echo "usage: $0 start|stop|env|status|bases|layouts|opts|smoke|purge|base NAME" >&2
		exit 2
		;;
	esac
}

main "$@"
