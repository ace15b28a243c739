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

# Each change is an object of its kind: after an apply, a mode changed by hand is kind
# "mode" (the same content: equal hashes, no diff), a retargeted module link "relink"
# with its old and new target.
sed -i 's/^pop3 = off$/pop3 = on/' "$lab/demo.ini"
sed -i '$d' "$dc"	# the tampered line away: the content is what apply wrote
"$MXDECK" plan "$lab/demo.ini" >/dev/null 2>&1 || die "test setup: the sandbox is not in sync again"
mf=$(find "$sb/etc/postfix" -maxdepth 1 -name 'mxdeck_*' -type f | head -1)
[ -n "$mf" ] || die "test setup: no managed mxdeck_* map in $sb/etc/postfix"
chmod 0604 "$mf"
ln=$(find "$sb/etc/apache2/mods-enabled" -name '*.load' -type l | head -1)
[ -n "$ln" ] || die "test setup: no module link in mods-enabled"
was=$(readlink "$ln")
ln -sfn ../mods-available/elsewhere.load "$ln"
rc=0
"$MXDECK" plan --json "$lab/demo.ini" >"$lab/kinds.json" 2>/dev/null || rc=$?
[ $rc -eq 1 ] || die "plan --json after chmod and relink: exit $rc, want 1"
/usr/bin/python3 - "$lab/kinds.json" "$mf" "$ln" "$was" "$top/share/schema/mxdeck.schema.json" <<'PY' || die "plan --json: mode and relink objects"
import json, sys, jsonschema
d = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator(json.load(open(sys.argv[5]))).validate(d)
ch = {c["path"]: c for h in d["hosts"] for c in h["changes"]}
assert len(ch) == 2, sorted(ch)
m = ch[sys.argv[2]]
assert m["kind"] == "mode" and m["mode"] == {"old": "0604", "new": "0644"}, m
assert m["old_sha256"] == m["new_sha256"] and m["diff"] == "", m
l = ch[sys.argv[3]]
assert l["kind"] == "relink" and l["target"] == {"old": "../mods-available/elsewhere.load", "new": sys.argv[4]}, l
assert l["mode"] == {"old": None, "new": None} and l["new_sha256"] is None, l
PY
ok "plan --json after a chmod and a retargeted link: one \"mode\" object (equal hashes, no diff) and one \"relink\" object with both targets"
