#!/bin/bash
# push-signals.sh: SIGINT, SIGTERM and SIGHUP sent to `mxdeck apply` (and --batch) at
# several points of a real apply. Before the first rename (right after the lock, during
# the upload, after the staged validation) the host stops with nothing changed; after
# the first rename it finishes. Either way: a message per host, every lock released,
# no temporary file left, exit 128 + the signal. With two hosts and --jobs 1 the
# second host is not started.
# MXDECK_TEST_STALL=POINT:SECONDS makes mxdeck wait at that point for the signal.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

"$labtools/lab-hosts.sh" start "$lab" 2
light_profile 1 1 >"$lab/a.ini"
sed 's|^rule = /^X-Mailer:/ IGNORE$|rule = /^X-Mailer:/ IGNORE\nrule = /^X-Mxdeck-B:/ IGNORE|' \
    "$lab/a.ini" >"$lab/b.ini"
cmp -s "$lab/a.ini" "$lab/b.ini" && die "test setup: profiles A and B are the same"
h=$lab/h1
mx apply --yes "$lab/a.ini" >"$lab/base" 2>&1 || { cat "$lab/base"; die "first apply failed"; }
on=a	# the profile the host has

pid=
extra_cleanup='[ -n "$pid" ] && kill -9 $pid 2>/dev/null'
code() { case $1 in INT) echo 130 ;; TERM) echo 143 ;; HUP) echo 129 ;; esac; }
wait_for() {	# wait_for SECONDS COMMAND...
	local t=$1
	shift
	for _ in $(seq $((t * 20))); do "$@" && return 0; sleep 0.05; done
	return 1
}
have_temps() { [ -n "$(find "$h/etc" -name '.mxdeck.*.tmp' 2>/dev/null)" ]; }
stalled_at() {	# the run reached its stall point
	case $1 in
	locked) [ -e "$h/state/lock/owner" ] ;;
	upload) have_temps ;;
	journal-ready) [ -n "$(find "$h/state" -maxdepth 1 -name '.journal.*.tmp')" ] ;;
	rename) [ -e "$h/state/lock/txn" ] ;;
	esac
}

# signal_case SIG POINT [batch]
signal_case() {
	local sig=$1 point=$2 mode=${3:-apply} want rc=0 other out
	[ $on = a ] && other=b || other=a
	out=$lab/$sig-$point-$mode
	host_state "$h" >"$lab/before"
	# job control: a background job of a script would otherwise ignore SIGINT
	set -m
	if [ "$mode" = batch ]; then
		MXDECK_TEST_STALL=$point:4 "$MXDECK" --known-hosts "$lab/known_hosts" --batch \
		    "$lab/$other.ini" >"$out" 2>&1 &
	else
		MXDECK_TEST_STALL=$point:4 "$MXDECK" --known-hosts "$lab/known_hosts" apply --yes \
		    "$lab/$other.ini" >"$out" 2>&1 &
	fi
	pid=$!
	set +m
	wait_for 30 stalled_at "$point" || { cat "$out"; die "$sig at $point: the stall point was not reached"; }
	[ "$point" = rename ] && sleep 0.3	# the first rename is done
	kill -"$sig" $pid
	wait $pid || rc=$?
	pid=
	want=$(code "$sig")
	[ $rc -eq "$want" ] || { cat "$out"; die "$sig at $point ($mode): exit $rc, want $want"; }
	[ -s "$out" ] || die "$sig at $point: no output"
	grep -q "SIG$sig: stopping" "$out" || { cat "$out"; die "$sig at $point: no message on the signal"; }
	grep -q "interrupted by SIG$sig" "$out" || { cat "$out"; die "$sig at $point: no closing report"; }
	[ ! -e "$h/state/lock" ] || { cat "$out"; die "$sig at $point: the lock is left"; }
	[ -z "$(find "$h/etc" "$h/state" -name '.mxdeck.*' -o -name '.journal.*' | head -n 1)" ] ||
		die "$sig at $point: temporary files left: $(find "$h" -name '.mxdeck.*' -o -name '.journal.*')"
	if [ "$point" = rename ]; then
		grep -q "=== host h1 .*: ok: applied" "$out" || { cat "$out"; die "$sig after the first rename: the host did not finish"; }
		mx plan "$lab/$other.ini" >"$lab/plan" 2>&1 || { cat "$lab/plan"; die "$sig after the first rename: the host is not fully applied"; }
		on=$other
		ok "$sig after the first rename ($mode): the host finished the apply (plan: no changes), lock released, exit $rc"
	else
		grep -q "=== host h1 .*: interrupted: stopped .*nothing was changed" "$out" ||
			{ cat "$out"; die "$sig at $point: the host's state is not reported"; }
		host_state "$h" | diff -u "$lab/before" - || die "$sig at $point: the host changed"
		ok "$sig at $point ($mode): stopped with nothing changed (byte-identical), lock released, exit $rc, reported"
	fi
}

signal_case INT locked
signal_case TERM locked
signal_case HUP locked
signal_case INT upload
signal_case TERM upload batch
signal_case HUP upload
signal_case TERM journal-ready
signal_case INT rename
signal_case TERM rename batch
signal_case HUP rename

# Two hosts, one at a time: the second is not started.
light_profile >"$lab/two.ini"
host_state "$lab/h2" >"$lab/before-h2"
host_state "$h" >"$lab/before"
set -m
MXDECK_TEST_STALL=upload:4 "$MXDECK" --known-hosts "$lab/known_hosts" --batch --jobs 1 \
    "$lab/two.ini" >"$lab/two" 2>&1 &
pid=$!
set +m
wait_for 30 have_temps || { cat "$lab/two"; die "two hosts: h1's upload did not start"; }
kill -TERM $pid
rc=0
wait $pid || rc=$?
pid=
[ $rc -eq 143 ] || { cat "$lab/two"; die "two hosts: exit $rc, want 143"; }
grep -q "=== host h2 .*: interrupted: not started" "$lab/two" || { cat "$lab/two"; die "two hosts: h2 not reported as not started"; }
grep -q "=== host h1 .*: interrupted: stopped" "$lab/two" || { cat "$lab/two"; die "two hosts: h1 not reported as stopped"; }
host_state "$lab/h2" | diff -q "$lab/before-h2" - >/dev/null || die "two hosts: h2 was changed"
host_state "$h" | diff -q "$lab/before" - >/dev/null || die "two hosts: h1 was changed"
[ ! -e "$h/state/lock" ] && [ ! -e "$lab/h2/state/lock" ] || die "two hosts: a lock is left"
ok "two hosts, --jobs 1, SIGTERM during h1's upload: h1 stopped, h2 not started, both unchanged, no lock"
