#!/bin/bash
# push-unlock.sh: a lock left by a run on another machine (or a dead one on this
# machine) and `mxdeck unlock PROFILE --host H`.
#  - apply labels the host "locked" (not "unreachable") with the owner's pid, machine
#    and age, and points to mxdeck unlock instead of deleting the lock by hand;
#  - plan reports the left lock as drift;
#  - unlock rolls the dead run's transaction back (host byte-identical to before that
#    run), releases the lock, and keeps a file edited by hand since that run;
#  - unlock refuses a lock whose owner is alive on this machine, and needs --host.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

"$labtools/lab-hosts.sh" start "$lab" 1
light_profile >"$lab/a.ini"
sed 's|^smtpd_protocols = >=TLSv1.2$|smtpd_protocols = >=TLSv1.3|; s|^rule = /^X-Mailer:/ IGNORE$|rule = /^X-Mailer:/ IGNORE\nrule = /^X-Mxdeck-V:/ IGNORE|' \
    "$lab/a.ini" >"$lab/v.ini"
cmp -s "$lab/a.ini" "$lab/v.ini" && die "test setup: profiles A and V are the same"
h=$lab/h1
mx apply --yes "$lab/a.ini" >"$lab/base" 2>&1 || { cat "$lab/base"; die "first apply failed"; }

victim=
extra_cleanup='[ -n "$victim" ] && kill -9 $victim 2>/dev/null'
# kill_in_renames: an apply of V killed after its first rename
kill_in_renames() {
	MXDECK_TEST_STALL=rename:60 "$MXDECK" --known-hosts "$lab/known_hosts" apply --yes \
	    "$lab/v.ini" >"$lab/victim" 2>&1 &
	victim=$!
	for _ in $(seq 600); do [ -e "$h/state/lock/txn" ] && break; sleep 0.05; done
	[ -e "$h/state/lock/txn" ] || { cat "$lab/victim"; die "the victim did not reach its renames"; }
	sleep 0.3
	kill -9 $victim
	wait $victim 2>/dev/null || true
	victim=
}

# 1. a lock from another machine
host_state "$h" >"$lab/before"
kill_in_renames
host_state "$h" | diff -q "$lab/before" - >/dev/null && die "test setup: nothing was renamed before the kill"
sed -i 's/^controller=.*/controller=other-gw.example/' "$h/state/lock/owner"
rc=0
mx apply --yes "$lab/a.ini" >"$lab/apply" 2>&1 || rc=$?
[ $rc -eq 3 ] || { cat "$lab/apply"; die "apply on a host locked from elsewhere: exit $rc, want 3"; }
grep -q "^=== host h1 .*: locked: host h1: locked: $h/state/lock: held by mxdeck pid [0-9]* on other-gw.example (another machine), since .* ([0-9]* s ago), in the middle of a transaction" "$lab/apply" ||
	{ cat "$lab/apply"; die "the host is not labelled locked with owner, machine and age"; }
grep -q "mxdeck unlock $lab/a.ini --host h1" "$lab/apply" || { cat "$lab/apply"; die "no unlock hint"; }
grep -qi "unreachable" "$lab/apply" && { cat "$lab/apply"; die "a locked host is called unreachable"; }
grep -q "remove the lock directory by hand" "$lab/apply" && die "still tells to remove the lock by hand"
ok "apply on a host locked from another machine: exit 3, labelled locked (pid, machine, age), hint: mxdeck unlock"

rc=0
mx plan "$lab/a.ini" >"$lab/plan" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$lab/plan"; die "plan with a left lock: exit $rc, want 1 (drift)"; }
grep -q "change: lock left behind: .*mxdeck unlock" "$lab/plan" || { cat "$lab/plan"; die "plan does not report the lock"; }
ok "plan reports the left lock and its transaction as drift (exit 1) with what to do"

rc=0
mx unlock "$lab/a.ini" >"$lab/unlock0" 2>&1 || rc=$?
[ $rc -eq 2 ] && grep -q "name the host" "$lab/unlock0" || { cat "$lab/unlock0"; die "unlock without --host: exit $rc"; }
[ -e "$h/state/lock/txn" ] || die "unlock without --host touched the lock"

# The file the killed run renamed is edited by hand before the unlock: it stays.
edited=
while IFS= read -r line; do
	line=$(printf '%b' "${line//%/\\x}")
	case $line in POST\ *) ;; *) continue ;; esac
	hash=${line#POST }; hash=${hash%% *}; path=${line#POST * }
	if [ -f "$path" ] && [ "$(sha256sum <"$path" | cut -c1-64)" = "$hash" ]; then
		edited=$path
		break
	fi
done <"$h/state/lock/txn"
[ -n "$edited" ] || { cat "$h/state/lock/txn"; die "test setup: no renamed file found through the transaction mark"; }
echo "# edited by hand after the dead run" >>"$edited"
cp "$edited" "$lab/edited.want"

rc=0
mx unlock "$lab/a.ini" --host h1 >"$lab/unlock" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/unlock"; die "unlock: exit $rc"; }
grep -q "had started renaming files: restoring its backup" "$lab/unlock" || { cat "$lab/unlock"; die "unlock did not roll the transaction back"; }
grep -q "$edited was changed since the interrupted run" "$lab/unlock" || { cat "$lab/unlock"; die "unlock does not name the file changed since"; }
[ ! -e "$h/state/lock" ] || die "unlock left the lock"
[ -z "$(find "$h/etc" -name '.mxdeck.*')" ] || die "unlock left temporary files"
cmp -s "$edited" "$lab/edited.want" || die "unlock restored the backup over the hand edit of $edited"
host_state "$h" | grep -v " ${edited#"$h/"}\$" >"$lab/after"
grep -v " ${edited#"$h/"}\$" "$lab/before" | diff -u - "$lab/after" || die "unlock: the other files are not back to their state before the dead run"
ok "unlock --host h1: rolled the dead run's transaction back (every other file byte-identical to before it), kept the file edited since, released the lock"

rc=0
mx unlock "$lab/a.ini" --host h1 >"$lab/unlock2" 2>&1 || rc=$?
[ $rc -eq 0 ] && grep -q "not locked" "$lab/unlock2" || { cat "$lab/unlock2"; die "unlock of an unlocked host: exit $rc"; }
ok "unlock of a host without a lock: exit 0, says so"

# 2. the owner is alive on this machine: refused
MXDECK_TEST_STALL=upload:6 "$MXDECK" --known-hosts "$lab/known_hosts" apply --yes \
    "$lab/a.ini" >"$lab/live" 2>&1 &
victim=$!
for _ in $(seq 400); do [ -n "$(find "$h/etc" -name '.mxdeck.*.tmp')" ] && break; sleep 0.05; done
[ -e "$h/state/lock/owner" ] || die "test setup: the live apply holds no lock"
cp "$h/state/lock/owner" "$lab/owner.live"
rc=0
mx unlock "$lab/a.ini" --host h1 >"$lab/unlock3" 2>&1 || rc=$?
[ $rc -eq 3 ] || { cat "$lab/unlock3"; die "unlock of a live run's lock: exit $rc, want 3"; }
grep -q "locked: refused: .*mxdeck pid $victim on $(hostname)" "$lab/unlock3" || { cat "$lab/unlock3"; die "the refusal does not name the live run"; }
cmp -s "$h/state/lock/owner" "$lab/owner.live" || die "unlock touched a live run's lock"
rc=0
wait $victim || rc=$?
victim=
[ $rc -eq 0 ] || { cat "$lab/live"; die "the live apply failed after the refused unlock: exit $rc"; }
[ ! -e "$h/state/lock" ] || die "lock left"
ok "unlock refuses a lock whose owner runs on this machine (exit 3, names it); that apply completes"
