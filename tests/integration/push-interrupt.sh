#!/bin/bash
# push-interrupt.sh: sshd killed in the middle of an apply.
#  - during the upload: the host's files stay byte-identical (only temporary files and
#    the lock remain), and the next run says it recovers the stale lock, removes the
#    temporary files and applies everything;
#  - during the renames: the next run rolls the interrupted transaction back from its
#    backup first, then applies everything: never a half-applied host after a run.
# MXDECK_TEST_STALL=POINT:SECONDS makes mxdeck wait at that point so the test can cut
# the connection there.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

"$labtools/lab-hosts.sh" start "$lab" 1
light_profile >"$lab/site.ini"
"$MXDECK" render "$lab/site.ini" "$lab/render" 2>/dev/null
h=$lab/h1
sshd_dir=$h/sshd
addr=$(awk '{print $2}' "$lab/hosts.list")

fully_applied() {
	while IFS= read -r -d '' f; do
		cmp -s "$f" "${f#"$lab/render/h1"}" || return 1
	done < <(find "$lab/render/h1" -type f -print0)
	[ "$(postconf -c "$h/etc/postfix" -h smtpd_tls_protocols)" = ">=TLSv1.2" ]
}

wait_for() {	# wait_for SECONDS COMMAND...
	local t=$1
	shift
	for _ in $(seq $((t * 20))); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}
have_temps() { [ -n "$(find "$h" -name '.mxdeck.*.tmp' 2>/dev/null)" ]; }

# 1. Cut during the upload.
host_state "$h" >"$lab/before"
MXDECK_TEST_STALL=upload:5 "$MXDECK" --known-hosts "$lab/known_hosts" apply --yes \
    "$lab/site.ini" >"$lab/run1" 2>&1 &
mxpid=$!
wait_for 20 have_temps || die "no temporary file appeared"
"$labtools/sshd.sh" stop "$sshd_dir"
rc=0
wait $mxpid || rc=$?
[ $rc -eq 3 ] || { cat "$lab/run1"; die "apply cut during upload: exit $rc, want 3"; }
grep -q "connection lost before any file was put in place" "$lab/run1" || { cat "$lab/run1"; die "no clear message"; }
host_state "$h" | diff -u "$lab/before" - || die "host changed by an interrupted upload"
[ -d "$h/state/lock" ] || die "expected the dead run's lock to remain"
ok "sshd killed during the upload: exit 3, every file byte-identical (temporary files and lock remain)"

"$labtools/sshd.sh" start "$sshd_dir" "$addr" 2222 "$lab/authorized_keys" >/dev/null
rc=0
mx apply --yes "$lab/site.ini" >"$lab/run2" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/run2"; die "apply after the interruption: exit $rc"; }
grep -q "stale lock $h/state/lock: mxdeck pid $mxpid on .* is no longer running; recovering it" "$lab/run2" ||
	{ cat "$lab/run2"; die "no stale-lock message"; }
[ -z "$(find "$h" -name '.mxdeck.*')" ] || die "temporary files not removed"
fully_applied || die "not fully applied after recovery"
[ ! -e "$h/state/lock" ] || die "lock left"
ok "next run: recovers the stale lock with a clear message, removes the temporary files, applies fully"

# 2. Cut during the renames (after the first one): the host is mixed at that moment;
# the run says so (exit 5), and the next run rolls back and applies.
sed 's|^smtpd_protocols = >=TLSv1.2$|smtpd_protocols = >=TLSv1.3|; s|^rule = /^X-Mailer:/ IGNORE$|rule = /^X-Mailer:/ IGNORE\nrule = /^X-Mxdeck-Test:/ IGNORE|' \
    "$lab/site.ini" >"$lab/site2.ini"
host_state "$h" >"$lab/before2"
MXDECK_TEST_STALL=rename:5 "$MXDECK" --known-hosts "$lab/known_hosts" apply --yes \
    "$lab/site2.ini" >"$lab/run3" 2>&1 &
mxpid=$!
wait_for 30 test -e "$h/state/lock/txn" || die "the rename phase did not start"
sleep 0.3
"$labtools/sshd.sh" stop "$sshd_dir"
rc=0
wait $mxpid || rc=$?
[ $rc -eq 5 ] || { cat "$lab/run3"; die "apply cut during the renames: exit $rc, want 5"; }
grep -q "ROLLBACK FAILED" "$lab/run3" || die "exit 5 without saying so"
host_state "$h" | diff -q "$lab/before2" - >/dev/null && die "test setup: no rename happened before the cut"
ok "sshd killed after the first rename: exit 5 and a loud message (the host is mixed right now)"

"$labtools/sshd.sh" start "$sshd_dir" "$addr" 2222 "$lab/authorized_keys" >/dev/null
rc=0
mx plan "$lab/site.ini" >/dev/null 2>&1 || rc=$?
rc=0
mx apply --yes "$lab/site.ini" >"$lab/run4" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/run4"; die "recovery run: exit $rc"; }
grep -q "had started renaming files: restoring its backup" "$lab/run4" || { cat "$lab/run4"; die "no rollback of the interrupted transaction"; }
host_state "$h" | diff -u "$lab/before2" - || die "recovery did not restore the pre-transaction state"
ok "next run rolls the interrupted transaction back: host byte-identical to before it (and site.ini applies: no changes)"
