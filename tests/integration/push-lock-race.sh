#!/bin/bash
# push-lock-race.sh: a stale lock taken over by two runs at once. An apply is killed
# (kill -9) after its first rename, leaving its lock and transaction mark; then two
# applies of different profiles start 10-40 ms apart. Exactly one of them may take
# the stale lock over (it rolls the dead transaction back first, then applies); the
# other is refused as locked. Repeated RACE_ROUNDS times (default 30): zero double
# takeovers, and afterwards the host matches exactly one of the two profiles.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

rounds=${RACE_ROUNDS:-30}
"$labtools/lab-hosts.sh" start "$lab" 1
light_profile >"$lab/a.ini"
h=$lab/h1
# B: one more header rule; V (the victim): other protocols and another rule, so that
# it always has something to rename whichever of A and B is on the host.
sed 's|^rule = /^X-Mailer:/ IGNORE$|rule = /^X-Mailer:/ IGNORE\nrule = /^X-Mxdeck-B:/ IGNORE|' \
    "$lab/a.ini" >"$lab/b.ini"
sed 's|^smtpd_protocols = >=TLSv1.2$|smtpd_protocols = >=TLSv1.3|; s|^rule = /^X-Mailer:/ IGNORE$|rule = /^X-Mailer:/ IGNORE\nrule = /^X-Mxdeck-V:/ IGNORE|' \
    "$lab/a.ini" >"$lab/v.ini"
cmp -s "$lab/a.ini" "$lab/b.ini" && die "test setup: profiles A and B are the same"
cmp -s "$lab/a.ini" "$lab/v.ini" && die "test setup: profiles A and V are the same"
mx apply --yes "$lab/a.ini" >"$lab/base" 2>&1 || { cat "$lab/base"; die "first apply failed"; }

victim=
extra_cleanup='[ -n "$victim" ] && kill -9 $victim 2>/dev/null'
doubles=0 bad=0
for i in $(seq "$rounds"); do
	MXDECK_TEST_STALL=rename:60 "$MXDECK" --known-hosts "$lab/known_hosts" apply --yes \
	    "$lab/v.ini" >"$lab/victim.$i" 2>&1 &
	victim=$!
	for _ in $(seq 600); do [ -e "$h/state/lock/txn" ] && break; sleep 0.05; done
	[ -e "$h/state/lock/txn" ] || { cat "$lab/victim.$i"; die "round $i: the victim did not reach its renames"; }
	sleep 0.3
	kill -9 $victim
	wait $victim 2>/dev/null || true
	victim=
	[ -e "$h/state/lock/txn" ] || die "round $i: the killed run left no transaction mark"
	delay=$(printf '0.%03d' $((10 + (i * 7) % 31)))
	if [ $((i % 2)) -eq 1 ]; then first=a second=b; else first=b second=a; fi
	"$MXDECK" --known-hosts "$lab/known_hosts" apply --yes "$lab/$first.ini" \
	    >"$lab/$first.$i" 2>&1 &
	p1=$!
	sleep "$delay"
	"$MXDECK" --known-hosts "$lab/known_hosts" apply --yes "$lab/$second.ini" \
	    >"$lab/$second.$i" 2>&1 &
	p2=$!
	r1=0 r2=0
	wait $p1 || r1=$?
	wait $p2 || r2=$?
	[ -s "$lab/a.$i" ] && [ -s "$lab/b.$i" ] || die "round $i: an apply printed nothing"
	took=$(cat "$lab/a.$i" "$lab/b.$i" | grep -c "stale lock recovered" || true)
	if [ "$took" -ne 1 ]; then
		doubles=$((doubles + 1))
		echo "# round $i: $took takeovers (A exit, B exit: $(grep -h '^===' "$lab/a.$i" "$lab/b.$i" | tr '\n' ' '))"
	fi
	pa=0 pb=0
	mx plan "$lab/a.ini" >"$lab/plan-a.$i" 2>&1 || pa=$?
	mx plan "$lab/b.ini" >"$lab/plan-b.$i" 2>&1 || pb=$?
	if ! { [ $pa -eq 0 ] && [ $pb -eq 1 ]; } && ! { [ $pa -eq 1 ] && [ $pb -eq 0 ]; }; then
		bad=$((bad + 1))
		echo "# round $i: plan A exit $pa, plan B exit $pb (delay $delay s, $first first; apply exits $r1 $r2)"
		grep -h "change:" "$lab/plan-a.$i" "$lab/plan-b.$i" | head -n 6 | sed 's/^/#   /'
	fi
	[ ! -e "$h/state/lock" ] || { bad=$((bad + 1)); echo "# round $i: a lock is left"; ls -la "$h/state/lock"; }
	[ -z "$(find "$h/etc" -name '.mxdeck.*')" ] || { bad=$((bad + 1)); echo "# round $i: temporary files left"; }
	echo "# round $i: delay $delay s, $first first: exits $r1 $r2, plans A $pa B $pb"
done
[ $doubles -eq 0 ] || die "$doubles of $rounds rounds: not exactly one takeover of the stale lock"
ok "$rounds rounds, two applies 10-40 ms apart after a run killed during its renames: exactly one takeover each time"
[ $bad -eq 0 ] || die "$bad problems: the host did not match exactly one profile, or a lock or temporary file was left"
ok "$rounds rounds: the host matches exactly one profile's files afterwards, no lock or temporary file left"
