#!/bin/bash
# push-local.sh: `address = local` (mxdeck on the gateway itself, no SSH): the demo
# profile applied to a sandbox with copies of the stock configuration, validated by the
# real checkers, then a second apply changes nothing; plan sees a tampered file.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"
top=$(cd "$labtools/../.." && pwd)

cp "$top/share/examples/demo.ini" "$top/share/examples/demo-users.csv" "$lab/"
sb=$lab/demo-sandbox
# the demo lab's sandbox: copies of the stock configuration, the demo CA's certificates
"$top/share/lab/demo-lab.sh" prepare "$lab" >/dev/null
grep -q '^address = local' "$lab/demo.ini" || die "test setup: the demo host is not local"

rc=0
"$MXDECK" apply --yes "$lab/demo.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/out"; die "local apply: exit $rc"; }
[ "$(postconf -c "$sb/etc/postfix" -h smtpd_tls_protocols)" = ">=TLSv1.2" ] || die "postconf not merged"
out=$(postfix -c "$sb/etc/postfix" check 2>&1) && [ -z "$out" ] || die "postfix check: $out"
[ -f "$sb/etc/dovecot/conf.d/99-mxdeck.conf" ] && [ -f "$sb/var/www/mxdeck/autodiscover/autodiscover.php" ] ||
	die "files missing"
grep -q "apply host=demo " "$sb/var/lib/mxdeck/journal" || die "journal"
ok "address = local: demo profile applied to the sandbox, postfix check clean, journal written"

host_mtimes() { (cd "$sb" && find etc var/www \( -type f -o -type l \) -print0 | sort -z | xargs -0 stat -c '%Y.%y %n'); }
host_mtimes >"$lab/m1"
sleep 1.1
rc=0
"$MXDECK" apply --yes "$lab/demo.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] && grep -q ': ok: no changes' "$lab/out" || { cat "$lab/out"; die "second local apply"; }
host_mtimes | diff -q - "$lab/m1" >/dev/null || die "second apply touched files"
ok "second local apply: no changes, no mtime changed"

sed -i 's/^pop3 = on$/pop3 = off/' "$lab/demo.ini"
rc=0
"$MXDECK" plan "$lab/demo.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q '^+alice@example.org' "$lab/out" || { cat "$lab/out"; die "plan after a profile change: exit $rc"; }
ok "a profile change (alice pop3 off) shows up in the local plan as a diff of the deny file"
