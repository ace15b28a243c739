#!/usr/bin/env bash
# fault-push.sh: faults on a real lab gateway (OpenSSH sshd on loopback) during
# `mxdeck apply`, injected from the host side (no mock of the server):
#
#   case              fault                                          expected outcome
#   drop-after-lock   the first command after the lock (postconf     exit 3; every file byte-identical;
#                     -h mail_version) kills its own SSH connection  the next apply recovers the stale
#                                                                    lock and applies everything (exit 0)
#   drop-mid-upload   sshd stopped while the upload waits after its  exit 3; byte-identical; recovered
#                     first file (MXDECK_TEST_STALL=upload)          (as push-interrupt.sh)
#   drop-before-rename the staged validation (`postfix -c STAGE      exit 3; byte-identical; recovered
#                     check`, after the upload, before any rename)
#                     kills its connection
#   drop-during-reload the reload script's first command kills its   exit 3..5, loudly; the next apply
#                     connection (files renamed and validated)       ends with the host fully applied
#   disk-full         the Postfix directory is a full tmpfs          exit 4, "nothing was changed",
#                                                                    says the disk is full, byte-identical,
#                                                                    no temporary file left, lock released
#   disk-full-state   the state directory (lock, backups) is a full  exit 4 (the host is reachable), nothing
#                     tmpfs                                          changed, no lock left behind
#   validator-missing `postfix` is not on the host's PATH            exit 4, nothing changed, names it
#   changed-under-apply an admin edits a file mxdeck is about to     apply refuses (exit != 0) and the
#                     replace, between plan and rename               admin's edit is not lost
#   drop-after-journal the journal's commit (mv onto STATE/journal)   exit 3 (never "applied" with the lock
#                     kills its connection once it is done           left); plan and audit report the lock
#                                                                    as drift; a hand edit made afterwards
#                                                                    survives the next apply's recovery
#   disk-full-journal  the state directory is a tmpfs with room for  exit 4, nothing changed, no
#                     the backup but not for the journal             .journal.*.tmp and no lock left
# "Byte-identical" = host_state (content hash, mode, symlink target of every file).
# The faults are armed through wrapper scripts on the host's PATH (sshd SetEnv): a
# wrapper kills the sshd process its command runs under when its argument matches.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"
if "$MXDECK" plan /dev/null 2>&1 | grep -q "not built yet"; then
	echo "skip: plan/apply are not built in this tree yet"
	exit 77
fi
mounts=""
extra_cleanup='for m in $mounts; do umount "$m" 2>/dev/null || true; done'
fails=0
# FAULT_CASES="disk-full ..." runs only those cases
want() { [ -z "${FAULT_CASES:-}" ] || [[ " $FAULT_CASES " == *" $1 "* ]]; }
bad() { echo "not ok - $*"; fails=$((fails + 1)); }

"$labtools/lab-hosts.sh" start "$lab" 1
read -r hname addr port h <"$lab/hosts.list"
light_profile >"$lab/site.ini"
"$MXDECK" render "$lab/site.ini" "$lab/render" 2>/dev/null
sshd_dir=$h/sshd

# The host's PATH: a directory of links to every program, some replaced by wrappers.
fb=$lab/fakebin
mkdir -p "$fb" "$lab/arm"
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
	for f in "$d"/*; do
		b=${f##*/}
		[ -e "$fb/$b" ] || [ -L "$fb/$b" ] || ln -s "$f" "$fb/$b"
	done
done
for prog in postconf postfix mv; do
	real=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$prog")
	rm -f "$fb/$prog"
	cat >"$fb/$prog" <<EOF
#!/bin/sh
# fault wrapper: when $lab/arm/$prog holds a word that is in the arguments, drop the
# SSH connection this command runs under (kill its sshd session process), once;
# "after WORD": run the command first, then drop the connection.
arm=$lab/arm/$prog
if [ -f "\$arm" ]; then
	pat=\$(cat "\$arm")
	after=
	case \$pat in "after "*) after=1; pat=\${pat#after } ;; esac
	case " \$* " in
	*"\$pat"*)
		rm -f "\$arm"
		[ -n "\$after" ] && $real "\$@"
		p=\$\$
		while [ "\$p" -gt 1 ]; do
			case \$(ps -o comm= -p "\$p") in
			sshd*) kill -9 "\$p"; break ;;
			esac
			p=\$(ps -o ppid= -p "\$p" | tr -d ' ')
		done
		sleep 10
		exit 1 ;;
	esac
fi
exec $real "\$@"
EOF
	chmod 755 "$fb/$prog"
done
restart_sshd() {	# restart_sshd PATH
	"$labtools/sshd.sh" stop "$sshd_dir"
	"$labtools/sshd.sh" start "$sshd_dir" "$addr" "$port" "$lab/authorized_keys" >/dev/null
	# sshd.sh wrote a fresh config: give the sessions our PATH, then restart.
	"$labtools/sshd.sh" stop "$sshd_dir"
	sed -i "s|^SetEnv SHLVL=1\$|SetEnv SHLVL=1 PATH=$1|" "$sshd_dir/sshd_config"
	/usr/sbin/sshd -f "$sshd_dir/sshd_config" -E "$sshd_dir/sshd.log"
	for _ in $(seq 100); do [ -s "$sshd_dir/sshd.pid" ] && break; sleep 0.05; done
}
restart_sshd "$fb"

fully_applied() {
	while IFS= read -r -d '' f; do
		cmp -s "$f" "${f#"$lab/render/$hname"}" || return 1
	done < <(find "$lab/render/$hname" -type f -print0)
}
# a pristine copy of the host, to reset between cases
cp -a "$h/etc" "$lab/etc.orig"
reset_host() {
	rm -rf "$h/etc" "$h/state" "$h/www"
	cp -a "$lab/etc.orig" "$h/etc"
	mkdir -p "$h/state" "$h/www"
	rm -f "$lab"/arm/*
}

# apply_case NAME WANT-EXIT-REGEX MESSAGE-REGEX [env...]: one faulty apply; the host
# must be byte-identical unless WANT allows changes (then the recovery run decides).
apply_case() {
	local name=$1 want=$2 msg=$3 rc=0
	shift 3
	env "$@" "$MXDECK" --known-hosts "$lab/known_hosts" apply --yes "$lab/site.ini" \
	    >"$lab/$name.out" 2>&1 || rc=$?
	echo "$rc" >"$lab/$name.rc"
	if ! [[ $rc =~ ^($want)$ ]]; then
		bad "$name: exit $rc, expected $want: $(tail -n 3 "$lab/$name.out")"
		return 1
	fi
	if ! grep -Eqi "$msg" "$lab/$name.out"; then
		bad "$name: exit $rc but the message lacks /$msg/: $(tail -n 3 "$lab/$name.out")"
		return 1
	fi
	return 0
}
# recovered NAME: the next run (no fault) applies everything
recovered() {
	local name=$1 rc=0
	mx apply --yes "$lab/site.ini" >"$lab/$name.next" 2>&1 || rc=$?
	if [ $rc -ne 0 ]; then
		bad "$name: the apply after the fault: exit $rc: $(tail -n 3 "$lab/$name.next")"
		return 1
	fi
	if ! fully_applied; then
		bad "$name: the host is not fully applied after the recovery run"
		return 1
	fi
	if [ -n "$(find "$h" -name '.mxdeck.*' -newer "$lab/$name.out" -path '*/etc/*' 2>/dev/null)" ] ||
	    [ -d "$h/state/lock" ]; then
		bad "$name: temporary files or the lock left after recovery"
		return 1
	fi
	return 0
}

# 1. connection dropped right after the lock (the version query that follows it)
if want drop-after-lock; then
reset_host
host_state "$h" >"$lab/before"
echo "mail_version" >"$lab/arm/postconf"
if apply_case drop-after-lock 3 "$hname"; then
	if ! host_state "$h" | diff -q "$lab/before" - >/dev/null; then
		bad "drop-after-lock: host changed"
	elif recovered drop-after-lock; then
		ok "drop-after-lock: exit 3, host byte-identical; next apply recovers the lock and applies"
	fi
fi

fi

# 2. connection dropped mid-upload (the upload hook, sshd stopped while it waits)
if want drop-mid-upload; then
reset_host
restart_sshd "$fb"
host_state "$h" >"$lab/before"
MXDECK_TEST_STALL=upload:8 "$MXDECK" --known-hosts "$lab/known_hosts" apply --yes \
    "$lab/site.ini" >"$lab/drop-mid-upload.out" 2>&1 &
mxpid=$!
for _ in $(seq 200); do
	[ -n "$(find "$h" -name '.mxdeck.*.tmp' 2>/dev/null)" ] && break
	sleep 0.05
done
"$labtools/sshd.sh" stop "$sshd_dir"
rc=0
wait "$mxpid" || rc=$?
restart_sshd "$fb"
if [ $rc -ne 3 ]; then
	bad "drop-mid-upload: exit $rc, expected 3: $(tail -n 3 "$lab/drop-mid-upload.out")"
elif ! host_state "$h" | diff -q "$lab/before" - >/dev/null; then
	bad "drop-mid-upload: host changed"
elif recovered drop-mid-upload; then
	ok "drop-mid-upload: exit 3, host byte-identical; next apply recovers and applies"
fi

fi

# 3. connection dropped after the upload, before any rename (staged postfix check)
if want drop-before-rename; then
reset_host
host_state "$h" >"$lab/before"
echo "check" >"$lab/arm/postfix"
if apply_case drop-before-rename "3|4" "nothing was changed|connection|lost"; then
	if ! host_state "$h" | diff -q "$lab/before" - >/dev/null; then
		bad "drop-before-rename: host changed"
	elif recovered drop-before-rename; then
		ok "drop-before-rename: exit 3, host byte-identical; next apply recovers and applies"
	fi
fi

fi

# 4. connection dropped during the reload (its first command), files already in place
if want drop-during-reload; then
reset_host
echo "queue_directory" >"$lab/arm/postconf"
if apply_case drop-during-reload "3|4|5" "connection|lost|unreachable|rollback|roll"; then
	recovered drop-during-reload &&
	    ok "drop-during-reload: exit $(cat "$lab/drop-during-reload.rc"), said so; next apply ends fully applied"
fi

fi

# 5. remote disk full: the Postfix directory on a full tmpfs
if want disk-full; then
reset_host
pf=$h/etc/postfix
cp -a "$pf" "$lab/pf.copy"
if ! mount -t tmpfs -o size=1m,mode=0755 tmpfs "$pf" 2>"$lab/mount.err"; then
	echo "# skip disk-full: cannot mount a tmpfs: $(cat "$lab/mount.err")"
else
mounts="$pf $mounts"
cp -a "$lab/pf.copy/." "$pf/"
dd if=/dev/zero of="$pf/zz-filler" bs=4096 2>/dev/null || true
host_state "$h" >"$lab/before"
if apply_case disk-full 4 "nothing was changed|no space"; then
	grep -qi "no space" "$lab/disk-full.out" || bad "disk-full: the message does not say the disk is full"
	if ! host_state "$h" | diff -q "$lab/before" - >/dev/null; then
		bad "disk-full: host changed"
	elif [ -d "$h/state/lock" ]; then
		bad "disk-full: lock not released"
	elif [ -n "$(find "$pf" -name '.mxdeck.*')" ]; then
		bad "disk-full: temporary files left: $(find "$pf" -name '.mxdeck.*' -printf '%f (%s bytes) ')"
	else
		ok "disk-full: exit 4, nothing changed, no temporary file left, lock released"
	fi
fi
umount "$pf"
mounts=""
fi

fi

# 5b. remote disk full where the backups go: the state directory on a full tmpfs
if want disk-full-state; then
reset_host
st=$h/state
if ! mount -t tmpfs -o size=1m,mode=0755 tmpfs "$st" 2>"$lab/mount.err"; then
	echo "# skip disk-full-state: cannot mount a tmpfs: $(cat "$lab/mount.err")"
else
mounts="$st $mounts"
dd if=/dev/zero of="$st/zz-filler" bs=4096 2>/dev/null || true
host_state "$h" >"$lab/before"
if apply_case disk-full-state 4 "nothing was changed"; then
	if ! host_state "$h" | diff -q "$lab/before" - >/dev/null; then
		bad "disk-full-state: host changed"
	elif [ -n "$(find "$h/etc" -name '.mxdeck.*')" ]; then
		bad "disk-full-state: temporary files left under etc"
	elif [ -d "$st/lock" ]; then
		bad "disk-full-state: the lock directory was left behind"
	else
		ok "disk-full-state: exit 4, nothing changed (backup could not be written)"
	fi
fi
umount "$st"
mounts=""
fi
fi

# 6. validator missing: `postfix` not on the host's PATH
if want validator-missing; then
reset_host
nofb=$lab/nopostfix
mkdir -p "$nofb"
for f in "$fb"/*; do [ "${f##*/}" = postfix ] || ln -s "$(readlink -f "$f")" "$nofb/${f##*/}"; done
restart_sshd "$nofb"
host_state "$h" >"$lab/before"
if apply_case validator-missing 4 "postfix"; then
	if ! host_state "$h" | diff -q "$lab/before" - >/dev/null; then
		bad "validator-missing: host changed"
	else
		ok "validator-missing: exit 4, nothing changed, the message names postfix"
	fi
fi
restart_sshd "$fb"

fi

# 7. a file changed between plan and rename: apply must not overwrite the admin's edit
if want changed-under-apply; then
reset_host
mx apply --yes "$lab/site.ini" >"$lab/base.out" 2>&1 || bad "changed-under-apply: first apply failed"
sed -i 's/^always_accept = .*/always_accept = postmaster abuse hostmaster/' "$lab/site.ini"
target=$(grep -l "postmaster" "$h"/etc/postfix/mxdeck_* 2>/dev/null | head -n 1)
MXDECK_TEST_STALL=upload:4 "$MXDECK" --known-hosts "$lab/known_hosts" apply --yes \
    "$lab/site.ini" >"$lab/changed.out" 2>&1 &
mxpid=$!
for _ in $(seq 200); do
	[ -n "$(find "$h" -name '.mxdeck.*.tmp' 2>/dev/null)" ] && break
	sleep 0.05
done
[ -n "$target" ] && echo "admin@ OK  # added by hand during the apply" >>"$target"
rc=0
wait "$mxpid" || rc=$?
if [ -z "$target" ]; then
	bad "changed-under-apply: no mxdeck map under $h/etc/postfix to edit"
elif grep -q "added by hand during the apply" "$target"; then
	ok "changed-under-apply: the admin's edit survived (exit $rc)"
elif [ $rc -ne 0 ] && grep -rqs "added by hand during the apply" "$h/state"; then
	ok "changed-under-apply: exit $rc, the edit is kept in the backup"
else
	bad "changed-under-apply: exit $rc and the admin's edit of $target is gone (not refused, not backed up)"
fi

fi

# 8. the connection dropped right after the journal was committed: the transaction mark
# and the lock are still there, so this is no success; the next apply must see that the
# transaction completed (journal) and keep a hand edit made in between.
if want drop-after-journal; then
reset_host
light_profile >"$lab/site.ini"	# changed-under-apply edited it
echo "after /state/journal" >"$lab/arm/mv"
if apply_case drop-after-journal 3 "lock"; then
	if [ -f "$lab/arm/mv" ]; then
		bad "drop-after-journal: the journal commit never ran (the fault did not fire)"
	elif ! grep -q "profile=sha256:" "$h/state/journal" 2>/dev/null; then
		bad "drop-after-journal: no journal entry: the cut came too early"
	else
		prc=0
		mx plan "$lab/site.ini" >"$lab/daj.plan" 2>&1 || prc=$?
		arc=0
		MXDECK_PROBES=dns MXDECK_PROBE_TIMEOUT=1 mx audit "$lab/site.ini" >"$lab/daj.audit" 2>&1 || arc=$?
		if [ $prc -ne 1 ] || ! grep -q "lock left behind: .*mxdeck unlock" "$lab/daj.plan"; then
			bad "drop-after-journal: plan (exit $prc) does not report the left lock as drift: $(grep -E '^===|lock' "$lab/daj.plan" | head -n 3)"
		elif [ $arc -eq 0 ] || ! grep -q "lock left behind: " "$lab/daj.audit"; then
			bad "drop-after-journal: audit (exit $arc) does not report the left lock"
		else
			postconf -c "$h/etc/postfix" -e "delay_warning_time = 7h"
			if ! recovered drop-after-journal; then
				:
			elif [ "$(postconf -c "$h/etc/postfix" -h delay_warning_time)" != 7h ]; then
				bad "drop-after-journal: the hand edit made after the apply was reset by the recovery"
			elif ! grep -q "had completed its transaction" "$lab/drop-after-journal.next"; then
				bad "drop-after-journal: the recovery does not say the transaction had completed"
			else
				ok "drop-after-journal: exit 3 with the lock named, plan (exit 1) and audit report the lock, the next apply keeps the later hand edit"
			fi
		fi
	fi
fi
fi

# 9. the journal cannot be written (its file system is full): fail before anything moves
if want disk-full-journal; then
reset_host
light_profile >"$lab/site.ini"
st=$h/state
if ! mount -t tmpfs -o size=1m,mode=0755 tmpfs "$st" 2>"$lab/mount.err"; then
	echo "# skip disk-full-journal: cannot mount a tmpfs: $(cat "$lab/mount.err")"
else
mounts="$st $mounts"
# a long journal (earlier applies), then room for the backup but not for a new journal
for _ in $(seq 4000); do
	echo "2026-01-01T00:00:00Z apply host=$hname profile=- backup=$st/backup/20260101T000000Z-1 changes=0"
done >"$st/journal"
chmod 600 "$st/journal"
avail=$(df --output=avail -B4096 "$st" | tail -n 1 | tr -d ' ')
dd if=/dev/zero of="$st/zz-filler" bs=4096 count=$((avail - 40)) 2>/dev/null || true
host_state "$h" >"$lab/before"
cp "$st/journal" "$lab/journal.before"
if apply_case disk-full-journal 4 "nothing was changed"; then
	if ! grep -qi "journal" "$lab/disk-full-journal.out"; then
		bad "disk-full-journal: the message does not name the journal"
	elif ! host_state "$h" | diff -q "$lab/before" - >/dev/null; then
		bad "disk-full-journal: host changed"
	elif [ -n "$(find "$st" -name '.journal.*')" ]; then
		bad "disk-full-journal: left $(find "$st" -name '.journal.*' -printf '%f (%s bytes) ')"
	elif ! cmp -s "$st/journal" "$lab/journal.before"; then
		bad "disk-full-journal: the journal changed"
	elif [ -d "$st/lock" ]; then
		bad "disk-full-journal: the lock directory was left behind"
	elif ! ls "$st"/backup/*/manifest >/dev/null 2>&1; then
		bad "disk-full-journal: test setup: the backup did not fit, so the journal was never reached"
	else
		ok "disk-full-journal: exit 4 before any rename, nothing changed, no journal temporary, no lock"
	fi
fi
umount "$st"
mounts=""
fi
fi

[ -n "${FAULT_KEEP:-}" ] && cp -r "$lab" "$FAULT_KEEP" 2>/dev/null
echo "$fails failed"
[ "$fails" -eq 0 ]
