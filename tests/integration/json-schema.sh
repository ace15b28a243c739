#!/bin/bash
# json-schema.sh: every command's --json output, on success and on each kind of error,
# is exactly one JSON document on stdout that validates against
# share/schema/mxdeck.schema.json (python3-jsonschema, draft 2020-12), and stderr holds
# one summary line (unless -v). Cases: lint ok / with errors; render ok / profile error /
# unknown --host; plan and audit of a local sandbox in sync, with drift, and with a
# managed file holding Latin-1, NUL and ESC bytes; apply without --yes off a terminal;
# test against a real TLS server and with a profile error.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"
top=$(cd "$labtools/../.." && pwd)
schema=$top/share/schema/mxdeck.schema.json
/usr/bin/python3 -c 'import jsonschema' || die "python3-jsonschema is missing (tests/deps.sh installs it)"

n=0
validate() {	# NAME WANT_EXIT GOT_EXIT [stderr-lines]: $lab/NAME.json and .err
	local name=$1 want=$2 got=$3 lines=${4:-1}
	[ "$got" = "$want" ] || { cat "$lab/$name.err"; die "$name: exit $got, want $want"; }
	[ -s "$lab/$name.json" ] || die "$name: nothing on stdout"
	/usr/bin/python3 - "$schema" "$lab/$name.json" "$want" <<'PY' || die "$name: not one valid document"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
raw = open(sys.argv[2], "rb").read()
doc = json.loads(raw.decode("utf-8"))        # the whole of stdout is one document
jsonschema.Draft202012Validator.check_schema(schema)
jsonschema.Draft202012Validator(schema).validate(doc)
assert doc["exit"] == int(sys.argv[3]), doc["exit"]
PY
	if [ "$lines" != any ]; then
		[ "$(wc -l <"$lab/$name.err")" -eq "$lines" ] ||
			{ cat "$lab/$name.err"; die "$name: stderr has $(wc -l <"$lab/$name.err") lines, want $lines"; }
	fi
	n=$((n + 1))
}
run() {	# NAME ARGS...
	local name=$1
	shift
	rc=0
	"$MXDECK" "$@" >"$lab/$name.json" 2>"$lab/$name.err" </dev/null || rc=$?
}

# The schema can fail: a document without "schema" is refused.
echo '{"command":"lint"}' >"$lab/broken.json"
: >"$lab/broken.err"
if (validate broken 0 0 0) >/dev/null 2>&1; then die "the validator accepted a broken document"; fi

# A local sandbox like push-local's: the demo profile, stock configuration copies.
cp "$top/share/examples/demo.ini" "$top/share/examples/demo-users.csv" "$lab/"
"$top/share/lab/demo-lab.sh" prepare "$lab" >/dev/null	# stock copies, the demo CA
sb=$lab/demo-sandbox
printf '[site]\nname = x\nbogus line\n' >"$lab/bad.ini"

run lint-ok lint --json "$lab/demo.ini"; validate lint-ok 0 "$rc"
run lint-bad lint --json "$lab/bad.ini"; validate lint-bad 2 "$rc"
run render-ok render --json "$lab/demo.ini" "$lab/out"; validate render-ok 0 "$rc"
/usr/bin/python3 - "$lab/render-ok.json" "$lab/out" <<'PY' || die "render --json: files and hashes"
import hashlib, json, os, sys
d = json.load(open(sys.argv[1]))
assert len(d["files"]) > 10, len(d["files"])
links = 0
for f in d["files"]:
    p = os.path.join(sys.argv[2], f["host"], f["path"].lstrip("/"))
    if f["kind"] == "link":
        assert os.readlink(p) == f["target"], p
        links += 1
    else:
        assert hashlib.sha256(open(p, "rb").read()).hexdigest() == f["sha256"], p
assert links > 0, "no module link in the demo's render"
PY
run render-bad render --json "$lab/bad.ini" "$lab/out2"; validate render-bad 2 "$rc"
run render-host render --json --host nosuch "$lab/demo.ini" "$lab/out3"; validate render-host 2 "$rc"
run plan-bad plan --json "$lab/bad.ini"; validate plan-bad 2 "$rc"
run plan-drift plan --json "$lab/demo.ini"; validate plan-drift 1 "$rc"
run apply-tty apply --json "$lab/demo.ini"; validate apply-tty 2 "$rc"
run plan-host plan --json --host nosuch "$lab/demo.ini"; validate plan-host 2 "$rc" any
export MXDECK_PROBES=dns MXDECK_PROBE_TIMEOUT=0.5 MXDECK_PROBE_DEADLINE=3
run audit-drift audit --json "$lab/demo.ini"; validate audit-drift 1 "$rc"
/usr/bin/python3 - "$lab/audit-drift.json" <<'PY' || die "audit --json: results in the test shape"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["summary"]["probes"] == len(d["results"]) > 0
ids = [r["id"] for r in d["results"]]
assert len(ids) == len(set(ids)), "check ids are not unique"
PY
run test-bad test --json "$lab/bad.ini"; validate test-bad 2 "$rc"
for e in plan-bad test-bad; do
	/usr/bin/python3 - "$lab/$e.json" "$lab/bad.ini" <<'PY' || die "$e: the error envelope"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["exit"] == 2 and d["errors"], d
assert any(e["file"] == sys.argv[2] and e["line"] == 3 for e in d["errors"]), d["errors"]
PY
done

# A managed file with bytes that are not UTF-8: still one valid document.
dc=$sb/etc/dovecot/conf.d/99-mxdeck.conf
printf 'ssl = required\n# caf\xe9 \x00 \x1b]0;title\x07\n' >"$dc"
run plan-bytes plan --json "$lab/demo.ini"; validate plan-bytes 1 "$rc"
/usr/bin/python3 - "$lab/plan-bytes.json" "$dc" "$lab/render-ok.json" <<'PY' || die "plan --json: change objects"
import hashlib, json, sys
d = json.load(open(sys.argv[1]))
raw = open(sys.argv[2], "rb").read()
changes = [c for h in d["hosts"] for c in h["changes"]]
assert changes, "no change objects"
kinds = {c["kind"] for c in changes}
assert {"create", "modify"} <= kinds, kinds
mine = [c for c in changes if c["path"] == sys.argv[2]]
assert len(mine) == 1, [c["path"] for c in changes]
c = mine[0]
assert c["kind"] == "modify", c
assert c["old_sha256"] == hashlib.sha256(raw).hexdigest(), (c["old_sha256"], "the file's bytes")
rendered = {(f["host"], f["path"]): f for f in json.load(open(sys.argv[3]))["files"]}
want = rendered[(c["host"], c["path"])]
assert c["new_sha256"] == want["sha256"] != c["old_sha256"], (c, want)
assert c["mode"]["new"].lstrip("0") == want["mode"].lstrip("0"), (c["mode"], want["mode"])
assert c["mode"]["old"] and c["mode"]["new"], c["mode"]
# the diff is this file's alone, and the bytes that are not UTF-8 arrived as U+FFFD / NUL
assert c["diff"].startswith("--- a/" + sys.argv[2].lstrip("/")) and c["diff"].count("\n--- ") == 0, c["diff"][:200]
assert "-# caf\ufffd \x00 \x1b]0;title\x07" in c["diff"], repr(c["diff"])
for c in changes:
    if c["kind"] == "create":
        assert c["mode"]["old"] is None and c["old_sha256"] is None and c["new_sha256"], c
        assert c["diff"].startswith("--- /dev/null"), c["diff"][:80]
    if c["kind"] == "postconf":
        assert c["settings"] and c["option"] in ("-e", "-M", "-P"), c
PY
# The human report still shows the same bytes made visible, and one diff per file.
rc=0; "$MXDECK" plan "$lab/demo.ini" >"$lab/plan-bytes.txt" 2>&1 || rc=$?
[ $rc -eq 1 ] || die "plan (human) with the odd bytes: exit $rc, want 1"
grep -qF -- '-# caf\xe9 \x00 \x1b]0;title\x07' "$lab/plan-bytes.txt" || die "plan (human): the bytes are not shown escaped"
unset MXDECK_PROBES MXDECK_PROBE_TIMEOUT MXDECK_PROBE_DEADLINE

# test against a real TLS server: ids, numbers as numbers.
. "$labtools/probe-lab.sh"
lab_init
extra_cleanup=lab_cleanup
lab_ca
P=$(lab_port); lab_s_server "$P" "$LAB/pki/good.pem" "$LAB/pki/good.key"; lab_wait_port "$P"
printf '[site]\nname = lab\ndomain = lab.test\n\n[autodiscover "lab.test"]\nimap = imap.lab.test:993/ssl\nsmtp = smtp.lab.test:465/ssl\n\n[host "good"]\naddress = 127.0.0.1\nroles = postfix\nprobe_ports = smtp:off submission:off smtps:%s\n' "$P" >"$lab/tls.ini"
SSL_CERT_FILE=$LAB/pki/ca.pem MXDECK_PROBES=tls,tlsver MXDECK_PROBE_TIMEOUT=5 \
    run test-ok test --json "$lab/tls.ini"
validate test-ok 0 "$rc"
/usr/bin/python3 - "$lab/test-ok.json" <<'PY' || die "test --json: numbers"
import json, sys
d = json.load(open(sys.argv[1]))
tls = [r for r in d["results"] if r["kind"] == "tls"][0]
assert isinstance(tls["cert_days"], int) and tls["cert_days"] > 21, tls
assert tls["id"] == "tls/tls-smtps/good/" + tls["target"], tls["id"]
assert d["notes"] == [], d["notes"]
# numbers as numbers, sets as arrays: handshake time, the protocol negotiated, the
# versions the server accepts (s_server: TLS 1.2 and 1.3 at OpenSSL's default level)
assert isinstance(tls["handshake_ms"], (int, float)) and tls["handshake_ms"] > 0, tls
assert tls["protocol"] == "TLSv1.3" and tls["cipher"], tls
ver = [r for r in d["results"] if r["kind"] == "tlsver"][0]
assert isinstance(ver["handshake_ms"], (int, float)), ver
pr = ver["protocols"]
assert pr["accepted"] == ["TLSv1.2", "TLSv1.3"] and pr["refused"] == ["TLSv1", "TLSv1.1"], pr
assert "TLSv1.2" in pr["allowed"] and "TLSv1" not in pr["allowed"], pr
PY

# The host named by an ssh_config alias (as push reaches it): the probes connect to its
# HostName, the certificate is checked against the same names, and a note says so.
printf 'Host good-alias\n    HostName 127.0.0.1\n' >"$lab/alias.cfg"
sed 's/^address = 127.0.0.1$/address = good-alias/' "$lab/tls.ini" >"$lab/tls-alias.ini"
grep -q '^address = good-alias$' "$lab/tls-alias.ini" || die "alias profile not rewritten"
SSL_CERT_FILE=$LAB/pki/ca.pem MXDECK_PROBES=tls,tlsver MXDECK_PROBE_TIMEOUT=5 \
    run test-alias -F "$lab/alias.cfg" test --json "$lab/tls-alias.ini"
validate test-alias 0 "$rc"
/usr/bin/python3 - "$lab/test-alias.json" "$lab/test-ok.json" <<'PY' || die "test --json via an ssh alias"
import json, sys
d, ref = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert [r["target"] for r in d["results"]] and all(r["target"].startswith("127.0.0.1:") for r in d["results"]), d["results"]
assert sorted((r["kind"], r["status"]) for r in d["results"]) == sorted((r["kind"], r["status"]) for r in ref["results"])
assert d["notes"] == ["host good: address good-alias is an ssh_config alias: the live tests connect to its HostName 127.0.0.1"], d["notes"]
PY
# Every row of the probe_kinds[] table (as the MXDECK_PROBES error lists them) is a
# "kind" the schema accepts and is named in mxdeck.1's PROBE KINDS, so a new kind cannot
# be missed there.
kinds=$(MXDECK_PROBES=nosuch "$MXDECK" test "$top/share/examples/demo.ini" 2>&1 |
    sed -n 's/.*unknown probe kind "nosuch" (\(.*\)).*/\1/p' | sed 's/ default / /; s/ all$//')
[ -n "$kinds" ] || die "no probe kind list in the MXDECK_PROBES error"
/usr/bin/python3 - "$schema" "$top/share/man/mxdeck.1" $kinds <<'PY' || die "a probe kind the schema or the man page does not know"
import json, re, sys
schema = json.load(open(sys.argv[1]))
man = open(sys.argv[2]).read()
sect = man[man.index(".SH PROBE KINDS"):]
sect = sect[:sect.index("\n.SH ", 1)]
def kind_rule(o):
    if isinstance(o, dict):
        k = o.get("properties", {}).get("kind")
        if isinstance(k, dict) and "status" in o.get("properties", {}):
            return k
        for v in o.values():
            r = kind_rule(v)
            if r: return r
    if isinstance(o, list):
        for v in o:
            r = kind_rule(v)
            if r: return r
rule = kind_rule(schema)
assert rule, "no result kind in the schema"
for k in sys.argv[3:]:
    if "enum" in rule:
        assert k in rule["enum"], (k, rule)
    else:
        assert re.search(rule["pattern"], k), (k, rule)
    assert re.search(r"^\.BR? %s( ,)?$" % re.escape(k), sect, re.M), "mxdeck.1 PROBE KINDS lacks " + k
print(len(sys.argv) - 3, "kinds")
PY
ok "$n --json documents (lint, render, plan, apply, audit, test; success and error cases) validate against share/schema/mxdeck.schema.json, one summary line on stderr"
