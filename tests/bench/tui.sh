#!/usr/bin/env bash
# Console benchmark (in a private tmux, 100x30): time to the first frame for the demo
# profile and for a profile with 100k users (CSV), and the time per redraw while
# scrolling the users list. Targets: first frame <= 50 ms (demo), <= 300 ms (100k
# users); redraw <= 5 ms. "first frame" is measured inside mxdeck from the start of
# the console (load + lint + terminal set-up + first refresh); "wall" is the whole
# process from exec to exit (MXDECK_BENCH=first), measured by the shell. Best of 3.
set -eu
cd "$(dirname "$0")/../.."
MXDECK=${MXDECK:-$PWD/build/mxdeck}
tmp=$(mktemp -d)
n=0
# Stop the tmux servers that exist (run() numbers them from 1) and remove $tmp, keeping
# the script's exit status: under set -e a failing command in the trap would end it
# early, with $tmp left behind and the bench reported failed.
cleanup() {
	local rc=$? s
	for s in "$tmp"/tmux-*.sock; do
		if [ -S "$s" ]; then
			tmux -S "$s" kill-server 2>/dev/null || true
		fi
	done
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT

cp share/examples/demo.ini share/examples/demo-users.csv "$tmp/"
share/lab/demo-lab.sh pki "$tmp"	# the demo CA's certificates the profile names
awk 'BEGIN { print "email,imap,pop3,smtp,activesync,mapi,owa,ews";
	for (i = 1; i <= 100000; i++)
		printf "user%06d@example.org,1,%d,1,1,1,1,1\n", i, i % 2 }' > "$tmp/big.csv"
sed 's/^file = demo-users.csv/file = big.csv/' "$tmp/demo.ini" > "$tmp/big.ini"

# run MODE PROFILE: one run in a fresh tmux; leaves mxdeck's stderr in $tmp/err and
# the wall time in ms in $tmp/wall
run() {
	n=$((n + 1))
	rm -f "$tmp/err" "$tmp/wall" "$tmp/done"
	tmux -S "$tmp/tmux-$n.sock" -f /dev/null new-session -d -x 100 -y 30 \
	    "t0=\$(date +%s%N); env TERM=tmux-256color LC_ALL=C.UTF-8 MXDECK_BENCH=$1 $MXDECK $2 2>$tmp/err; t1=\$(date +%s%N); echo \$(( (t1 - t0) / 1000 )) > $tmp/wall; touch $tmp/done; sleep 5"
	for _ in $(seq 1 300); do
		[ -e "$tmp/done" ] && break
		sleep 0.05
	done
	tmux -S "$tmp/tmux-$n.sock" kill-server 2>/dev/null || true
	[ -e "$tmp/done" ] || { echo "mxdeck did not finish" >&2; exit 1; }
}

best() {	# best NUMBERS...: the smallest
	printf '%s\n' "$@" | sort -g | head -1
}

rc=0
verdict() {	# value limit
	if awk -v v="$1" -v l="$2" 'BEGIN { exit !(v <= l) }'; then echo "ok"; else echo "MISSED"; rc=1; fi
}

printf '%-22s %12s %12s %8s %s\n' profile first_ms wall_ms target verdict
for p in demo big; do
	ff=() wall=()
	for _ in 1 2 3; do
		run first "$tmp/$p.ini"
		ff+=("$(sed -n 's/^tui: first frame \([0-9.]*\) ms.*/\1/p' "$tmp/err")")
		wall+=("$(awk '{ printf "%.1f", $1 / 1000 }' "$tmp/wall")")
	done
	f=$(best "${ff[@]}")
	w=$(best "${wall[@]}")
	limit=50
	[ $p = big ] && limit=300
	label="demo (4 users)"
	[ $p = big ] && label="100k users"
	printf '%-22s %12s %12s %8s %s\n' "$label" "$f" "$w" "<=$limit" "$(verdict "$f" $limit)"
done

run 1 "$tmp/big.ini"
line=$(grep 'redraw while scrolling' "$tmp/err")
avg=$(sed -n 's/.*avg \([0-9.]*\) ms.*/\1/p' <<<"$line")
max=$(sed -n 's/.*max \([0-9.]*\) ms.*/\1/p' <<<"$line")
printf '%-22s avg %s ms, max %s ms per redraw (200 redraws)   target <=5 ms  %s\n' \
    "scroll 100k users" "$avg" "$max" "$(verdict "$avg" 5)"
exit $rc
