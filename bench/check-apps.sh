#!/usr/bin/env bash
# check-apps.sh builds bench apps three ways (the original Dockerfile, dfopt's
# output, dfopt --propose's output) on the buildkitd of realbuild/buildkit.sh,
# runs each image's command as `docker run` would (its ENTRYPOINT and CMD,
# ENV, WORKDIR and USER, in a chroot with no network but loopback), checks
# the answer against bench/apps/checks.tsv and says whether the variants
# answer as the original does. Until `dfopt verify` exists (issue 10), this
# is how the apps are proven buildable and working.
#
#   bench/check-apps.sh [-k] [-c] [-v VARIANT]... [APP]...
#
#   -k          keep the OCI tarballs and the root folders
#   -c          keep the build cache the bench made (later builds reuse it)
#   -v VARIANT  original, dfopt or propose (default: all three)
#   APP         a folder name under bench/apps (default: every app)
#
# Every build is cold, and the daemon's cache is shared with others: the
# bench builds on its own copies of the bases (hard links, plus one file,
# /etc/dfopt-bench, so that no step matches a cache record another build
# made), and after each variant it removes the cache records that descend
# from those copies, which only its builds made (-c keeps them).
#
# Needs root (chroot, namespaces), go, jq, curl, and buildkitd running
# (realbuild/buildkit.sh start). Results go to ${DFOPT_BENCH_DIR:-/tmp/dfopt-bench}:
# per app and variant the Dockerfile built, the build log, the answer, and
# one line in results.tsv (app, variant, build seconds, layers, the bytes of
# the layers as stored, gzip-compressed, and unpacked, the bytes of the
# final file system, check, same answer as the original).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
apps=$here/apps
out=${DFOPT_BENCH_DIR:-/tmp/dfopt-bench}
buildkit=$repo/realbuild/buildkit.sh
buildctl=${DFOPT_BUILDKIT_DIR:-${TMPDIR:-/tmp}/dfopt-buildkit}/bin/buildctl
# The prefix of the bench's named contexts: the cache records its builds
# make descend from the local sources so named.
prefix=dfopt-bench-
# Set by main from the command line.
keep=0
keep_cache=0
variants=()
opts=()

say() { printf 'check-apps: %s\n' "$*" >&2; }
die() {
	say "error: $*"
	exit 1
}

bctl() { "$buildctl" --addr "$BUILDKIT_HOST" "$@"; }

# bench_opts sets opts: buildctl's arguments that serve each base of
# buildkit.sh opts from the bench's own copy of its folder, under a name
# that starts with $prefix.
bench_opts() {
	local lines=() i arg name dir copy
	mapfile -t lines < <(bash "$buildkit" opts)
	mkdir -p "$out/bases"
	opts=()
	for ((i = 0; i < ${#lines[@]}; i++)); do
		arg=${lines[i]}
		case $arg in
		context:*=local:*) opts+=("${arg%%=local:*}=local:$prefix${arg##*=local:}") ;;
		*=/*)
			name=${arg%%=*} dir=${arg#*=}
			copy=$out/bases/${dir##*/}
			if [[ ! -f $copy/etc/dfopt-bench ]]; then
				rm -rf "$copy" "$copy.tmp"
				cp -al "$dir" "$copy.tmp"
				mkdir -p "$copy.tmp/etc"
				echo 'bench/check-apps.sh: this base is a copy of a buildkit.sh base' >"$copy.tmp/etc/dfopt-bench"
				mv "$copy.tmp" "$copy"
			fi
			opts+=("$prefix$name=$copy")
			;;
		*) opts+=("$arg") ;;
		esac
	done
}

# prune_bench_cache removes the bench's local sources from the cache and
# the records that descend from them: those its builds made, and no other
# build's.
prune_bench_cache() {
	((keep_cache)) && return 0
	local ids=() filters=() id
	mapfile -t ids < <(bctl du --format '{{json .}}' | jq -r --arg p "local source for $prefix" '
		. as $all
		| [.[] | select(.description | startswith($p)) | .id] as $roots
		| {set: $roots, frontier: $roots}
		| until(.frontier == [];
			.set as $set
			| [$all[] | select((.parents // []) as $ps | ($ps - $set) != $ps) | .id] - $set
			| {set: ($set + .), frontier: .})
		| .set[]')
	((${#ids[@]})) || return 0
	for id in "${ids[@]}"; do
		filters+=(--filter "id==$id")
	done
	bctl prune "${filters[@]}" >/dev/null
}

# run_inner runs inside a new mount and network namespace: it mounts /proc
# and /dev into the root folder, brings loopback up and runs the image's
# command there, and, for an http check, asks the server for one path.
run_inner() {
	local root=$1 wd=$2 uid=$3 gid=$4 mode=$5 target=$6 envfile=$7
	shift 7
	local envs=() ids=()
	mapfile -t envs <"$envfile"
	mkdir -p "$root/proc" "$root/dev"
	mount -t proc proc "$root/proc"
	mount --rbind /dev "$root/dev"
	ip link set lo up
	[[ $uid == 0 ]] || ids=(-S "$uid" -G "$gid")
	# unshare's own --root and --wd: the program may be all the image holds.
	local run=(env -i "${envs[@]}" unshare --root="$root" --wd="$wd" "${ids[@]}" -- "$@")
	if [[ $mode == run ]]; then
		timeout 60 "${run[@]}" </dev/null 2>&1
		return
	fi
	local port=${target%%/*} path=/${target#*/} pid i
	"${run[@]}" </dev/null >"$envfile.server.log" 2>&1 &
	pid=$!
	for ((i = 0; i < 150; i++)); do
		if curl -fsS --max-time 2 "http://127.0.0.1:$port$path" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	echo "no answer on port $port; the server's output:"
	cat "$envfile.server.log"
	kill "$pid" 2>/dev/null || true
	return 1
}

# image_config prints the config of the one image of an OCI tarball.
image_config() {
	local tar=$1 manifest config
	manifest=$(tar -xOf "$tar" index.json | jq -r '.manifests[0].digest | sub(":"; "/")')
	config=$(tar -xOf "$tar" "blobs/$manifest" | jq -r '.config.digest | sub(":"; "/")')
	tar -xOf "$tar" "blobs/$config"
}

# layer_sizes prints the layer count of the image of an OCI tarball, the
# bytes of its layers as stored (compressed) and as unpacked (the tar
# streams, which is what docker images reports).
layer_sizes() {
	local tar=$1 manifest layers=() layer digest size type stored=0 unpacked=0
	manifest=$(tar -xOf "$tar" index.json | jq -r '.manifests[0].digest | sub(":"; "/")')
	mapfile -t layers < <(tar -xOf "$tar" "blobs/$manifest" | jq -r '.layers[] | "\(.digest | sub(":"; "/")) \(.size) \(.mediaType)"')
	for layer in "${layers[@]}"; do
		read -r digest size type <<<"$layer"
		stored=$((stored + size))
		case $type in
		*gzip) size=$(tar -xOf "$tar" "blobs/$digest" | gzip -dc | wc -c) ;;
		*zstd) size=$(tar -xOf "$tar" "blobs/$digest" | zstd -dc | wc -c) ;;
		esac
		unpacked=$((unpacked + size))
	done
	echo "${#layers[@]} $stored $unpacked"
}

# run_image runs the command of the image whose config is $2 in root folder
# $1 and prints what it answers.
run_image() {
	local root=$1 config=$2 mode=$3 target=$4 envfile=$5 wd user uid gid argv=()
	jq -r '.config.Env // [] | .[]' <<<"$config" >"$envfile"
	grep -q '^PATH=' "$envfile" || echo 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' >>"$envfile"
	wd=$(jq -r '.config.WorkingDir // "" | if . == "" then "/" else . end' <<<"$config")
	mapfile -t argv < <(jq -r '(.config.Entrypoint // []) + (.config.Cmd // []) | .[]' <<<"$config")
	((${#argv[@]})) || {
		echo "the image has no command"
		return 1
	}
	user=$(jq -r '.config.User // ""' <<<"$config")
	uid=${user%%:*} gid=${user#*:}
	[[ $user == *:* ]] || gid=
	if [[ -z $uid ]]; then
		uid=0
	elif [[ ! $uid =~ ^[0-9]+$ ]]; then
		local line
		line=$(awk -F: -v u="$uid" '$1 == u' "$root/etc/passwd" 2>/dev/null) || true
		[[ -n $line ]] || {
			echo "user $uid is not in the image's /etc/passwd"
			return 1
		}
		uid=$(cut -d: -f3 <<<"$line")
		[[ -n $gid ]] || gid=$(cut -d: -f4 <<<"$line")
	fi
	[[ -n $gid ]] || gid=$uid
	unshare --mount --net --fork -- bash "$0" __inner "$root" "$wd" "$uid" "$gid" "$mode" "$target" "$envfile" "${argv[@]}"
}

# variant_file writes the Dockerfile of one variant of an app to $3.
variant_file() {
	local app=$1 variant=$2 dest=$3
	case $variant in
	original) cp "$apps/$app/Dockerfile" "$dest" ;;
	dfopt) "$out/dfopt" -q --context "$apps/$app" "$apps/$app/Dockerfile" >"$dest" ;;
	propose) "$out/dfopt" -q --propose --context "$apps/$app" "$apps/$app/Dockerfile" >"$dest" ;;
	*) die "unknown variant $variant" ;;
	esac
}

# check_variant builds, measures and runs one variant of an app and writes
# its line of results.tsv.
check_variant() {
	local app=$1 variant=$2 mode=$3 target=$4 expect=$5
	local dir=$out/$app/$variant file t secs tar rootdir config layers stored unpacked answer status same
	rm -rf "$dir"
	mkdir -p "$dir"
	file=$dir/Dockerfile
	variant_file "$app" "$variant" "$file"
	tar=$dir/image.tar
	rootdir=$dir/root
	t=$(date +%s.%N)
	if ! bctl build --frontend dockerfile.v0 --local context="$apps/$app" --local dockerfile="$dir" \
		"${opts[@]}" --output type=oci,dest="$tar" >"$dir/build.log" 2>&1; then
		say "$app $variant: build failed (log: $dir/build.log)"
		tail -n 15 "$dir/build.log" >&2
		printf '%s\t%s\t-\t-\t-\t-\t-\tbuild_failed\t-\n' "$app" "$variant" >>"$out/results.tsv"
		return
	fi
	secs=$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	# The same build again, from the cache, as a folder to run.
	bctl build --frontend dockerfile.v0 --local context="$apps/$app" --local dockerfile="$dir" \
		"${opts[@]}" --output type=local,dest="$rootdir" >"$dir/export.log" 2>&1 ||
		die "$app $variant: export to a folder failed (log: $dir/export.log)"
	# buildctl makes the folder 0700; an image's / is 0755, which a USER
	# other than root needs.
	chmod 755 "$rootdir"
	config=$(image_config "$tar")
	read -r layers stored unpacked < <(layer_sizes "$tar")
	status=ok
	answer=$(run_image "$rootdir" "$config" "$mode" "$target" "$dir/env") || status=run_failed
	printf '%s\n' "$answer" >"$dir/answer"
	if [[ $status == ok && $answer != *"$expect"* ]]; then
		status=wrong_answer
	fi
	same=-
	if [[ $variant != original && -f $out/$app/original/answer ]]; then
		cmp -s "$dir/answer" "$out/$app/original/answer" && same=yes || same=no
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$app" "$variant" "$secs" "$layers" \
		"$stored" "$unpacked" "$(du -sb "$rootdir" | cut -f1)" "$status" "$same" >>"$out/results.tsv"
	say "$app $variant: built in ${secs}s, $layers layers, $((unpacked / 1048576)) MiB ($((stored / 1048576)) MiB compressed), $status, same answer as the original: $same"
	[[ $status == ok ]] || sed 's/^/    /' "$dir/answer" | head -n 20 >&2
	if ((!keep)); then
		rm -rf "$rootdir" "$tar"
	fi
}

check_app() {
	local app=$1 variant line mode target expect
	line=$(awk -F'\t' -v a="$app" '$1 == a' "$apps/checks.tsv")
	[[ -n $line ]] || die "$app: no line in bench/apps/checks.tsv"
	IFS=$'\t' read -r _ mode target expect <<<"$line"
	for variant in "${variants[@]}"; do
		check_variant "$app" "$variant" "$mode" "$target" "$expect"
		prune_bench_cache
	done
}

main() {
	if [[ ${1:-} == __inner ]]; then
		shift
		run_inner "$@"
		return
	fi
	local opt app
	while getopts kcv: opt; do
		case $opt in
		k) keep=1 ;;
		c) keep_cache=1 ;;
		v) variants+=("$OPTARG") ;;
		*) die "usage: $0 [-k] [-c] [-v original|dfopt|propose]... [APP]..." ;;
		esac
	done
	shift $((OPTIND - 1))
	((${#variants[@]})) || variants=(original dfopt propose)
	[[ $(id -u) == 0 ]] || die "need root (chroot and namespaces)"
	eval "$(bash "$buildkit" env)"
	bash "$buildkit" status >/dev/null || die "buildkitd does not run: realbuild/buildkit.sh start"
	mkdir -p "$out"
	bench_opts
	[[ -f $out/results.tsv ]] || printf 'app\tvariant\tbuild_s\tlayers\tgzip_bytes\tbytes\troot_bytes\tcheck\tsame_answer\n' >"$out/results.tsv"
	(cd "$repo" && go build -o "$out/dfopt" ./cmd/dfopt) || die "go build ./cmd/dfopt failed"
	local list=("$@")
	if ((${#list[@]} == 0)); then
		for app in "$apps"/*/; do
			list+=("$(basename "$app")")
		done
	fi
	prune_bench_cache
	for app in "${list[@]}"; do
		[[ -f $apps/$app/Dockerfile ]] || die "no bench/apps/$app/Dockerfile"
		check_app "$app"
	done
	say "results: $out/results.tsv"
}

main "$@"
