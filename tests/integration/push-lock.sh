#!/bin/bash
# push-lock.sh: two applies at once on one host: the second is refused by the remote
# lock (exit 3, says who holds it). A run killed while holding the lock leaves it; the
# next run sees its pid is gone, says so, cleans up and applies.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

"$labtools/lab-hosts.sh" start "$lab" 1
light_profile >"$lab/site.ini"
h=$lab/h1

MXDECK_TEST_STALL=upload:4 "$MXDECK" --known-hosts "$lab/known_hosts" apply --yes \
    "$lab/site.ini" >"$lab/first" 2>&1 &
first=$!
extra_cleanup="kill $first 2>/dev/null"
for _ in $(seq 400); do [ -e "$h/state/lock/temps" ] && break; sleep 0.05; done
[ -e "$h/state/lock/owner" ] || die "first apply did not take the lock"
rc=0
mx apply --yes "$lab/site.ini" >"$lab/second" 2>&1 || rc=$?
[ $rc -eq 3 ] || { cat "$lab/second"; die "second apply: exit $rc, want 3"; }
grep -q "locked: another run holds $h/state/lock (mxdeck pid $first on $(hostname)" "$lab/second" ||
	{ cat "$lab/second"; die "second apply: no lock message"; }
rc=0
wait $first || rc=$?
extra_cleanup=:
[ $rc -eq 0 ] || { cat "$lab/first"; die "first apply: exit $rc"; }
[ ! -e "$h/state/lock" ] || die "lock not released"
ok "two applies at once: the second is refused by the lock (exit 3, names pid $first), the first completes"

sed 's|^smtpd_protocols = >=TLSv1.2$|smtpd_protocols = >=TLSv1.3|' "$lab/site.ini" >"$lab/site2.ini"
MXDECK_TEST_STALL=upload:60 "$MXDECK" --known-hosts "$lab/known_hosts" apply --yes \
    "$lab/site2.ini" >/dev/null 2>&1 &
victim=$!
extra_cleanup="kill $victim 2>/dev/null"
for _ in $(seq 400); do [ -n "$(find "$h" -name '.mxdeck.*.tmp')" ] && break; sleep 0.05; done
kill -9 $victim
wait $victim 2>/dev/null || true
extra_cleanup=:
[ -e "$h/state/lock/owner" ] || die "killed run left no lock"
rc=0
mx apply --yes "$lab/site2.ini" >"$lab/third" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/third"; die "apply after a killed run: exit $rc"; }
grep -q "stale lock $h/state/lock: mxdeck pid $victim on .* is no longer running; recovering it" "$lab/third" ||
	{ cat "$lab/third"; die "no stale lock message"; }
[ "$(postconf -c "$h/etc/postfix" -h smtpd_tls_protocols)" = ">=TLSv1.3" ] || die "not applied"
[ -z "$(find "$h" -name '.mxdeck.*')" ] || die "temporary files left"
ok "a killed run's lock is recognised as stale (pid $victim gone), recovered with a message, and the apply completes"
