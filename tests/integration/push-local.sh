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

# A managed file with a Latin-1 byte, a NUL and an ESC: plan --json is still one valid
# JSON document, the bytes it cannot carry as UTF-8 become U+FFFD, the controls escaped.
dc=$sb/etc/dovecot/conf.d/99-mxdeck.conf
[ -s "$dc" ] || die "test setup: $dc is empty"
printf '# caf\xe9 \x00 \x1b[31m\n' >>"$dc"
rc=0
"$MXDECK" plan --json "$lab/demo.ini" >"$lab/plan.json" 2>"$lab/plan.err" || rc=$?
[ $rc -eq 1 ] || { cat "$lab/plan.err"; die "plan --json after tampering: exit $rc, not 1"; }
[ -s "$lab/plan.json" ] || die "plan --json printed nothing"
python3 - "$lab/plan.json" <<'PY' || die "plan --json with Latin-1/NUL/ESC in a managed file is not valid JSON"
import json, sys
raw = open(sys.argv[1], "rb").read()
raw.decode("utf-8")                      # strict: every byte valid UTF-8
doc = json.loads(raw)                    # strict: a raw control character is an error
def strings(v):
    if isinstance(v, str): yield v
    elif isinstance(v, dict):
        for x in v.values(): yield from strings(x)
    elif isinstance(v, list):
        for x in v: yield from strings(x)
text = "\n".join(strings(doc))
assert "caf\ufffd \x00 \x1b[31m" in text, "the tampered line did not come through whole"
PY
ok "plan --json with a Latin-1 byte, a NUL and an ESC in a managed file: valid UTF-8 JSON"
