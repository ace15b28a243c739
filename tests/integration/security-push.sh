#!/usr/bin/env bash
# security-push.sh: modes and contents of what apply leaves on a gateway and on the
# admin's machine (share/SECURITY.md §3, §4), against a real lab sshd.
#
# Claims: while an apply runs, the lock directory is 0700 and its files 0600; after
# it, the lock is gone, every backup directory is 0700 and every file under the state
# directory (backups, manifest, journal) is 0600; the journal names the profile by
# hash and holds no file contents; no byte of the SSH identity key is on the host;
# --accept-new-host-keys creates known_hosts 0600 in a 0700 directory.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"
if "$MXDECK" plan /dev/null 2>&1 | grep -q "not built yet"; then
	echo "skip: plan/apply are not built in this tree yet"
	exit 77
fi
fails=0
bad() { echo "not ok - $*"; fails=$((fails + 1)); }

"$labtools/lab-hosts.sh" start "$lab" 1
read -r hname addr port h <"$lab/hosts.list"
light_profile >"$lab/site.ini"
marker=$(sed -n 4p "$lab/id_ed25519" | cut -c1-40)	# key bytes, not the constant header

# 1. the lock while an apply waits in its upload
MXDECK_TEST_STALL=upload:4 "$MXDECK" --known-hosts "$lab/known_hosts" apply --yes \
    "$lab/site.ini" >"$lab/apply1.out" 2>&1 &
mxpid=$!
for _ in $(seq 200); do
	[ -n "$(find "$h" -name '.mxdeck.*.tmp' 2>/dev/null)" ] && break
	sleep 0.05
done
lockdir=$h/state/lock
if [ ! -d "$lockdir" ]; then
	bad "no lock directory $lockdir while the apply runs"
else
	lm=$(stat -c %a "$lockdir")
	lf=$(find "$lockdir" -type f ! -perm 600 -printf '%f=%m ' 2>/dev/null)
	[ "$lm" = 700 ] && [ -z "$lf" ] && ok "lock during apply: directory 0700, files 0600" ||
	    bad "lock during apply: directory $lm, files not 0600: $lf"
fi
# temporary files are created with the final mode, never wider
tm=$(find "$h" -name '.mxdeck.*.tmp' -perm /022 -printf '%p=%m ' 2>/dev/null)
[ -z "$tm" ] && ok "temporary files during upload: not group/world-writable" ||
    bad "temporary files writable by others: $tm"
rc=0
wait "$mxpid" || rc=$?
[ $rc -eq 0 ] || bad "apply: exit $rc: $(tail -n 3 "$lab/apply1.out")"

# 2. after the apply
[ ! -e "$lockdir" ] && ok "lock released after apply" || bad "lock left after apply"
wide=$(find "$h/state" -type f ! -perm 600 -printf '%P=%m ' 2>/dev/null)
[ -z "$wide" ] && ok "every file under the state directory is 0600 ($(find "$h/state" -type f | wc -l) files)" ||
    bad "state files not 0600: $wide"
bdirs=$(find "$h/state" -mindepth 1 -type d ! -perm 700 -printf '%P=%m ' 2>/dev/null)
[ -z "$bdirs" ] && ok "every directory under the state directory is 0700" ||
    bad "state directories not 0700: $bdirs"
if [ -f "$h/state/journal" ]; then
	grep -q "profile=sha256:" "$h/state/journal" && ok "journal names the profile by its hash" ||
	    bad "journal lacks the profile hash"
	# no file contents: none of the rendered map lines is in the journal
	grep -q "postmaster@\|smtpd_tls_protocols\|^[[:space:]]*#" "$h/state/journal" &&
	    bad "journal holds file contents" || ok "journal holds no file contents"
else
	bad "no journal under $h/state"
fi
if grep -rqF -- "$marker" "$h" 2>/dev/null; then
	bad "SSH identity key material found on the host: $(grep -rlF -- "$marker" "$h" | head -n 2)"
else
	ok "no byte of the SSH identity key on the host"
fi

# 3. known_hosts created by --accept-new-host-keys
kh=$lab/newdir/sub/known_hosts
rc=0
"$MXDECK" --known-hosts "$kh" --accept-new-host-keys plan "$lab/site.ini" >"$lab/plan.out" 2>&1 || rc=$?
if [ ! -f "$kh" ]; then
	bad "--accept-new-host-keys wrote no $kh (plan exit $rc): $(tail -n 2 "$lab/plan.out")"
else
	fm=$(stat -c %a "$kh")
	dm=$(stat -c %a "$(dirname "$kh")")
	[ "$fm" = 600 ] && [ "$dm" = 700 ] && ok "known_hosts created 0600 in a 0700 directory" ||
	    bad "known_hosts $fm, its directory $dm"
fi

echo "$fails failed"
[ "$fails" -eq 0 ]
