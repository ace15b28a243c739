#!/usr/bin/env bash
# Render benchmark: `mxdeck -v render` of a profile with 10k, 100k and 200k users (CSV)
# and 1k vhosts on 2 hosts. Prints the profile load (parse + CSV + lint), the render
# (in memory) and the write of the files, the wall time and the peak memory; best of 3.
# The write is the file system's cost (about 2,000 files); load + render is mxdeck's.
set -eu
cd "$(dirname "$0")/../.."
MXDECK=${MXDECK:-$PWD/build/mxdeck}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-8s %9s %9s %9s %9s %9s %8s\n' users load_ms render_ms write_ms wall_s peak_MB out_MB
declare -A cpu
for n in 10000 100000 200000; do
	tests/bench/gen-profile.sh "$tmp/p$n" "$n" 1000
	best=
	for run in 1 2 3; do
		rm -rf "$tmp/out"
		/usr/bin/time -f '%e %M' -o "$tmp/time" "$MXDECK" -v render "$tmp/p$n/site.ini" "$tmp/out" 2>"$tmp/err"
		line=$(grep 'rendered' "$tmp/err")
		l=$(sed -n 's/.*load \([0-9.]*\) ms.*/\1/p' <<<"$line")
		r=$(sed -n 's/.*render \([0-9.]*\) ms.*/\1/p' <<<"$line")
		w=$(sed -n 's/.*write \([0-9.]*\) ms.*/\1/p' <<<"$line")
		read -r t m <"$tmp/time"
		c=$(awk -v a="$l" -v b="$r" 'BEGIN { print a + b }')
		if [ -z "$best" ] || awk -v a="$c" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$c bl=$l br=$r bw=$w bt=$t bm=$m
		fi
	done
	cpu[$n]=$best
	printf '%-8s %9s %9s %9s %9s %9.1f %8.1f\n' "$n" "$bl" "$br" "$bw" "$bt" \
	    "$(awk -v m="$bm" 'BEGIN { print m / 1024 }')" \
	    "$(du -sb "$tmp/out" | awk '{ print $1 / 1048576 }')"
done
awk -v a="${cpu[10000]}" -v b="${cpu[100000]}" -v c="${cpu[200000]}" 'BEGIN {
	printf "load+render growth: 10k->100k x%.1f (users x10), 100k->200k x%.2f (users x2)\n", b / a, c / b }'
echo "target: 100k users + 1k vhosts rendered in < 1 s, growth linear in users"
