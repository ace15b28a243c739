#!/bin/bash
# push-dovecot-pkg.sh: a gateway whose Dovecot lacks a protocol package. The lab host's
# sshd runs in a private mount namespace where /usr/lib/dovecot is a copy without
# pop3-login (what a host without dovecot-pop3d has). The demo profile gives alice POP3:
# plan and apply refuse the host, naming the missing file and the package, and change
# nothing (the old code did not look: Dovecot then never starts a POP3 listener). With
# POP3 off for every user the same host applies.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"
unshare -m --propagation private true 2>/dev/null ||
	{ echo "this kernel/container does not allow a private mount namespace (unshare -m)"; exit 77; }

"$labtools/lab-hosts.sh" start "$lab" 1
"$labtools/lab-hosts.sh" profile "$lab" "$roles_all" >"$lab/site.ini"
grep -q '^pop3 = on$' "$lab/site.ini" || die "test setup: the demo profile gives nobody pop3"
[ -x /usr/lib/dovecot/pop3-login ] && [ -x /usr/lib/dovecot/imap-login ] ||
	die "test setup: dovecot-imapd/dovecot-pop3d not installed (run tests/deps.sh)"

cp -a /usr/lib/dovecot "$lab/dovecot-lib"
rm "$lab/dovecot-lib/pop3-login" "$lab/dovecot-lib/pop3"
addr=$(awk '{print $2}' "$lab/hosts.list")
s=$lab/h1/sshd
"$labtools/sshd.sh" stop "$s"
unshare -m --propagation private bash -c \
    'mount --bind "$1" /usr/lib/dovecot && exec "$2/sshd.sh" start "$3" "$4" 2222 "$5"' \
    sh "$lab/dovecot-lib" "$labtools" "$s" "$addr" "$lab/authorized_keys" >/dev/null
ssh -F none -o UserKnownHostsFile="$lab/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes \
    -i "$lab/id_ed25519" -p 2222 "root@$addr" 'test ! -e /usr/lib/dovecot/pop3-login && test -e /usr/lib/dovecot/imap-login' ||
	die "test setup: the host still has pop3-login (namespace not in effect)"
[ -e /usr/lib/dovecot/pop3-login ] || die "test setup: the machine's own dovecot lost pop3-login"

host_state "$lab/h1" >"$lab/before"
rc=0
mx plan "$lab/site.ini" >"$lab/plan" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$lab/plan"; die "plan: exit $rc, want 1"; }
grep -q "cannot plan: host h1: the profile gives users pop3, but the host's Dovecot has no pop3 server (/usr/lib/dovecot/pop3-login is missing): install the package dovecot-pop3d" "$lab/plan" ||
	{ cat "$lab/plan"; die "plan does not name the missing package"; }
rc=0
mx apply --yes "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 4 ] && grep -q "refused, nothing was changed: .*install the package dovecot-pop3d" "$lab/out" ||
	{ cat "$lab/out"; die "apply: exit $rc, want 4 refused"; }
host_state "$lab/h1" | diff -u "$lab/before" - || die "the refused apply changed the host"
ok "host without dovecot-pop3d, profile with pop3 users: plan exit 1 and apply exit 4 name the package, host unchanged"

# POP3 off for everyone: nothing needs the package.
awk -F, -v OFS=, 'NR > 1 { $3 = 0 } 1' "$lab/demo-users.csv" >"$lab/nopop-users.csv"
sed -e '/^pop3 = on$/d' -e 's|^file = demo-users.csv$|file = nopop-users.csv|' "$lab/site.ini" >"$lab/nopop.ini"
grep -q '^default = .*pop3:off' "$lab/nopop.ini" && grep -q '^file = nopop-users.csv$' "$lab/nopop.ini" ||
	die "test setup: profile"
[ "$(awk -F, 'NR > 1 && $3 != 0' "$lab/nopop-users.csv" | wc -l)" -eq 0 ] &&
	[ "$(wc -l <"$lab/nopop-users.csv")" -gt 2 ] || die "test setup: users CSV"
rc=0
mx apply --yes "$lab/nopop.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/out"; die "apply with pop3 off for everyone: exit $rc"; }
ok "the same host with pop3 off for every user: apply exit 0"
