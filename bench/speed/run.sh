#!/usr/bin/env bash
# run.sh measures dfopt's speed beside dockerfmt's, as issue 12 asks, and
# prints the figures that bench/speed/RESULTS.md records. .ci does not run
# it: it needs dockerfmt's source and takes a few minutes. From anywhere:
#
#   bash bench/speed/run.sh DOCKERFMT [BEFORE]
#
# DOCKERFMT is a checkout of github.com/reteps/dockerfmt, or its git folder
# (the search tool's fetch gives one: /work/.mirror/reteps+dockerfmt/repo);
# its module is not on the Go module proxy, its dependencies are. BEFORE is
# a commit of dfopt to measure as well, the one before a change (git
# merge-base HEAD main). The corpus is ../shared/corpus/dockerfiles, or
# $DFOPT_CORPUS; $ROUNDS and $RUNS set the rounds over the corpus (15) and
# the runs of each command for start-up (200).
#
# It prints, for this checkout (its files as they are) and BEFORE:
#   - the time a file of the corpus takes to format in one process, with
#     dockerfmt's library, dfopt --fmt with no rule, and dfopt's default
#     rules (compare.go's format mode: the median of the rounds);
#   - the start-up of dfopt --check on a small file, of dockerfmt --check on
#     it, of a Go hello-world and of floor.go (BuildKit's parser and
#     instructions packages reading the file, nothing else), each run $RUNS times in turn (compare.go's
#     startup mode: the median wall-clock time);
#   - the init work of dfopt's own packages (GODEBUG=inittrace=1, the
#     median of 21 runs).
set -euo pipefail

if (($# < 1)); then
	sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
dockerfmt_src=$1
before=${2:-}
corpus=${DFOPT_CORPUS:-$repo/../shared/corpus/dockerfiles}
rounds=${ROUNDS:-15}
runs=${RUNS:-200}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/dockerfmt" "$tmp/small" "$tmp/hello"

# dockerfmt, from a checkout or a git folder.
if [[ -f $dockerfmt_src/go.mod ]]; then
	cp -R "$dockerfmt_src/." "$tmp/dockerfmt"
else
	# Its js/ folder (a WebAssembly build) is not needed, and a fetched
	# mirror may lack its largest files.
	git --git-dir="$dockerfmt_src" archive HEAD -- . ":(exclude)js" 2>/dev/null | tar -x -C "$tmp/dockerfmt"
	[[ -f $tmp/dockerfmt/go.mod ]] || { echo "run.sh: no dockerfmt source in $dockerfmt_src" >&2; exit 1; }
fi
echo "dockerfmt $(git --git-dir="$dockerfmt_src" rev-parse --short HEAD 2>/dev/null || git -C "$dockerfmt_src" rev-parse --short HEAD 2>/dev/null || echo '(unknown commit)')"
(cd "$tmp/dockerfmt" && go build -o "$tmp/bin/dockerfmt" .)

# A Go hello-world: the floor of a Go program's start-up.
printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello, world") }\n' >"$tmp/hello/main.go"
printf 'module hello\n\ngo 1.26\n' >"$tmp/hello/go.mod"
(cd "$tmp/hello" && go build -o "$tmp/bin/hello" .)

# The versions of dfopt: this checkout, and BEFORE.
versions=(after)
cp -R "$repo/." "$tmp/src-after"
rm -rf "$tmp/src-after/.git"
if [[ -n $before ]]; then
	versions=(before after)
	mkdir "$tmp/src-before"
	git -C "$repo" archive "$before" | tar -x -C "$tmp/src-before"
fi
for v in "${versions[@]}"; do
	(cd "$tmp/src-$v" && go build -o "$tmp/bin/dfopt-$v" ./cmd/dfopt)
	# compare.go in a module of its own that requires both, from their folders.
	mkdir "$tmp/cmp-$v"
	sed '/^\/\/go:build ignore$/d' "$here/compare.go" >"$tmp/cmp-$v/main.go"
	cat >"$tmp/cmp-$v/go.mod" <<MOD
module speedcmp

go 1.26

replace github.com/dfopt/dfopt => $tmp/src-$v

replace github.com/reteps/dockerfmt => $tmp/dockerfmt
MOD
	(cd "$tmp/cmp-$v" && go get github.com/dfopt/dfopt@v0.0.0 github.com/reteps/dockerfmt@v0.0.0 >/dev/null 2>&1 &&
		go mod tidy >/dev/null 2>&1 && go build -o "$tmp/bin/compare-$v" .)
done
echo "dfopt: ${versions[*]}${before:+ (before: $(git -C "$repo" rev-parse --short "$before"))}, after: $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- . || echo '+changes')"
echo "$(go version), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

for v in "${versions[@]}"; do
	echo
	echo "== formatting the corpus in one process, dfopt $v (dockerfmt built with its dependencies)"
	"$tmp/bin/compare-$v" format -rounds "$rounds" -dockerfmt "$tmp/bin/dockerfmt" "$corpus"
done

# The start-up floor of a tool on BuildKit's parser (floor.go), built in
# the copy of this checkout so that it links the same versions.
mkdir -p "$tmp/src-after/cmd/floor"
sed '/^\/\/go:build ignore$/d' "$here/floor.go" >"$tmp/src-after/cmd/floor/main.go"
(cd "$tmp/src-after" && go build -o "$tmp/bin/floor" ./cmd/floor)

# A small file that nothing changes.
printf 'FROM alpine:3.20\nRUN apk add --no-cache curl\nCMD ["curl", "--version"]\n' >"$tmp/small/Dockerfile"
echo
echo "== start-up: $runs runs each, in turn, on a 3-line Dockerfile"
cmds=("hello=$tmp/bin/hello" "buildkit-floor=$tmp/bin/floor $tmp/small/Dockerfile")
for v in "${versions[@]}"; do
	cmds+=("dfopt-$v=$tmp/bin/dfopt-$v --check $tmp/small/Dockerfile")
done
cmds+=("dockerfmt=$tmp/bin/dockerfmt --check $tmp/small/Dockerfile")
"$tmp/bin/compare-after" startup -runs "$runs" "${cmds[@]}"

for v in "${versions[@]}"; do
	echo
	echo "== init of dfopt's packages, dfopt $v (GODEBUG=inittrace=1: the median of 21 runs)"
	for _ in $(seq 21); do
		GODEBUG=inittrace=1 "$tmp/bin/dfopt-$v" --check "$tmp/small/Dockerfile" 2>&1 >/dev/null |
			awk '/^init / { all += $5; if ($2 ~ /dfopt|^main$/) { own += $5; print $2, $5, $8 } }
				END { print "all", all, 0; print "own", own, 0 }'
	done | sort -k1,1 -k2,2n | awk '
		{ v[$1, ++n[$1]] = $2; b[$1] = $3 }
		END {
			for (p in n) {
				m = v[p, int((n[p] + 1) / 2)]
				if (p == "all" || p == "own") total[p] = m
				else printf "  %-48s %.3f ms, %s bytes\n", p, m, b[p]
			}
			printf "  all packages: %.2f ms; dfopt'"'"'s own: %.2f ms\n", total["all"], total["own"]
		}'
done
