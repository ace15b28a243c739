#!/usr/bin/env bash
# golden.sh [BASE_REV]: behaviour unchanged, byte for byte.
#
# Builds BASE_REV (default: the merge-base of HEAD with main) in a temporary git
# worktree, then gives the same profiles to that mxdeck and to this tree's
# ($MXDECK, default build/mxdeck) and compares, per profile:
#   - `mxdeck render PROFILE DIR`: exit code, stderr and the whole tree it writes
#     (file bytes, modes, symlink targets);
#   - `mxdeck lint PROFILE`: exit code and every finding (stdout + stderr).
# Profiles: every share/examples/*.ini and tests/data/profiles/*.ini, the bench profile
# of tests/bench/gen-profile.sh at several sizes, and GOLDEN_N (default 300) profiles
# of tests/golden-profile.sh, one per seed (GOLDEN_SEED, default 1, and on): varied
# hosts, roles, directories, vhosts, users, and about one in five with mistakes, so
# refusals and messages are compared too.
# Exit 0 when everything is identical; 1 with the first differences otherwise.
# GOLDEN_KEEP=1 keeps the outputs (the directory is named at the end).
# Not part of `make check` (it needs git and a second build): `make golden`.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
new=${MXDECK:-$here/build/mxdeck}
n=${GOLDEN_N:-300}
seed0=${GOLDEN_SEED:-1}
base_rev=${1:-$(git merge-base HEAD main)}
[ -x "$new" ] || { echo "golden: $new is not built (make first)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxdeck-golden.XXXXXX")
wt=$tmp/base
cleanup() {
	git worktree remove --force "$wt" >/dev/null 2>&1 || true
	git worktree prune >/dev/null 2>&1 || true
	if [ -n "${GOLDEN_KEEP:-}" ]; then
		echo "golden: outputs kept in $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "golden: base $(git rev-parse --short "$base_rev") vs $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo '+changes')"
git worktree add --quiet --detach "$wt" "$base_rev"
if ! nice -n 10 make -s -C "$wt" -j2 BUILD=build all >"$tmp/base-build.log" 2>&1; then
	cat "$tmp/base-build.log" >&2
	echo "golden: the build of $base_rev failed" >&2
	exit 2
fi
old=$wt/build/mxdeck

# The profiles, each in a directory of its own (with its CSV next to it).
p=$tmp/profiles
mkdir -p "$p"
for f in share/examples/*.ini tests/data/profiles/*.ini; do
	d=$p/$(basename "$(dirname "$f")")-$(basename "$f" .ini)
	mkdir -p "$d"
	cp "$(dirname "$f")"/*.csv "$d"/ 2>/dev/null || true
	cp "$f" "$d/site.ini"
done
for size in "0 0" "1 1" "50 3" "500 12" "3000 40"; do
	set -- $size
	tests/bench/gen-profile.sh "$p/bench-$1-$2" "$1" "$2"
done
for ((s = seed0; s < seed0 + n; s++)); do
	tests/golden-profile.sh "$p/gen-$s" "$s"
done

# Run one binary over every profile: DIR/NAME.{render,lint} and the tree under DIR/NAME/.
# Both binaries render into the same path ($tmp/out) so that messages naming it match.
run() {
	local bin=$1 dest=$2 d name rc
	mkdir -p "$dest"
	for d in "$p"/*/; do
		name=$(basename "$d")
		rm -rf "$tmp/out"
		rc=0
		"$bin" render "$d/site.ini" "$tmp/out" >"$dest/$name.render" 2>&1 || rc=$?
		echo "exit $rc" >>"$dest/$name.render"
		if [ -d "$tmp/out" ]; then
			(cd "$tmp/out" && find . -printf '%p %y %m %l\n' | LC_ALL=C sort) \
			    >"$dest/$name.tree"
			mv "$tmp/out" "$dest/$name"
		fi
		rc=0
		"$bin" lint "$d/site.ini" >"$dest/$name.lint" 2>&1 || rc=$?
		echo "exit $rc" >>"$dest/$name.lint"
	done
}
run "$old" "$tmp/old"
run "$new" "$tmp/new"

nprof=$(find "$p" -mindepth 1 -maxdepth 1 -type d | wc -l)
nfiles=$(find "$tmp/new" -mindepth 2 \( -type f -o -type l \) | wc -l)
nrefused=$(grep -l '^exit [^0]' "$tmp/new"/*.render | wc -l)
nlintfind=$(cat "$tmp/new"/*.lint | grep -c ': \(error\|warning\): ' || true)
[ "$nfiles" -gt 0 ] || { echo "golden: nothing was rendered" >&2; exit 1; }

# Renderer refusals are compared by what they say, not where: since the one findings
# channel (render_refuse) they name the line of their key (or the users-CSV row) instead
# of the section's, and lint shows every refusal of a host instead of the first.
# So in both outputs a refusal "host H: ROLE: [FILE[:LINE]: ]message" loses its FILE and
# LINE; render's output must then be identical, and lint's the same but for refusals
# added (every line of the base must still be there, the exit code the same).
norm() {
	sed -E -e 's#^[^ ]+: error: (host [^:]+: )#error: \1#' \
	    -e 's#(host [^:]+: [a-z]+: )[^ :]+(:[0-9]+)?: #\1#' "$1"
}
ndiff=0 nmore=0 nloc=0 first=
sorted() { norm "$1" | LC_ALL=C sort; }
for f in "$tmp/old"/*.render "$tmp/old"/*.lint; do
	g=$tmp/new/${f##*/}
	cmp -s "$f" "$g" && continue
	if [ "${f##*.}" = render ]; then
		if cmp -s <(norm "$f") <(norm "$g"); then
			nloc=$((nloc + 1))
			continue
		fi
	elif cmp -s <(sorted "$f") <(sorted "$g"); then
		nloc=$((nloc + 1))		# lint sorts by line: the order may change
		continue
	elif [ "$(tail -n 1 "$f")" = "$(tail -n 1 "$g")" ] &&
	    [ -z "$(LC_ALL=C comm -23 <(sorted "$f" | LC_ALL=C uniq) \
	    <(sorted "$g" | LC_ALL=C uniq))" ]; then
		nmore=$((nmore + 1))
		continue
	fi
	ndiff=$((ndiff + 1))
	[ -n "$first" ] || first=$f
done
diff -r --no-dereference -x '*.render' -x '*.lint' "$tmp/old" "$tmp/new" >"$tmp/diff" 2>&1 ||
    ndiff=$((ndiff + 1))
if [ $ndiff -eq 0 ]; then
	echo "golden: identical: $nprof profiles, $nfiles rendered files (bytes, modes," \
	    "links), $nrefused renders refused, $nlintfind lint findings; render and lint" \
	    "output and exit codes identical; $nloc outputs differ only in where a refusal" \
	    "points (its key's line now), $nmore lint runs show more refusals than the base" \
	    "(every base finding kept)"
	exit 0
fi
echo "golden: DIFFERENT ($nprof profiles compared, $ndiff outputs differ)" >&2
[ -z "$first" ] || { echo "first: $first" >&2; diff "$first" "$tmp/new/${first##*/}" | head -n 40 >&2; }
head -n 80 "$tmp/diff" >&2
exit 1
