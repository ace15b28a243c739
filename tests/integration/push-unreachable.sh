#!/bin/bash
# push-unreachable.sh: one of three hosts is down: the other two are applied, the run
# exits 3, and the per-host report (text and JSON) says which host failed and why.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

"$labtools/lab-hosts.sh" start "$lab" 3
light_profile >"$lab/site.ini"
"$labtools/sshd.sh" stop "$lab/h2/sshd"

rc=0
mx apply --yes --json -v "$lab/site.ini" >"$lab/out.json" 2>"$lab/out.err" || rc=$?
[ $rc -eq 3 ] || { cat "$lab/out.err"; die "one host down: exit $rc, want 3"; }
python3 - "$lab/out.json" <<'PY' || die "JSON report"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["exit"] == 3
h = {x["name"]: x for x in d["hosts"]}
assert h["h1"]["exit"] == 0 and h["h1"]["applied"], h["h1"]
assert h["h3"]["exit"] == 0 and h["h3"]["applied"], h["h3"]
assert h["h2"]["exit"] == 3 and not h["h2"]["applied"], h["h2"]
assert "cannot connect" in h["h2"]["summary"] and "refused" in h["h2"]["summary"], h["h2"]["summary"]
PY
grep -q '=== host h2 (.*): unreachable: host h2: cannot connect to .* port 2222: Connection refused' "$lab/out.err" ||
	{ cat "$lab/out.err"; die "human report (stderr with --json -v) does not name h2"; }
for h in h1 h3; do
	[ "$(postconf -c "$lab/$h/etc/postfix" -h smtpd_tls_protocols)" = ">=TLSv1.2" ] || die "$h not applied"
done
[ ! -e "$lab/h2/etc/postfix/mxdeck.postconf" ] || die "h2 written?"
ok "h2 down: h1 and h3 applied, exit 3, per-host report in JSON and text"

# A host that accepts TCP but never answers: the connect/handshake timeout holds.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind((sys.argv[1], 2222)); s.listen(5)
open(sys.argv[2], "w").write("ready")
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' "$(awk '$1=="h2"{print $2}' "$lab/hosts.list")" "$lab/silent.ready" &
silent=$!
extra_cleanup="kill $silent"
for _ in $(seq 100); do [ -e "$lab/silent.ready" ] && break; sleep 0.05; done
start=$(date +%s)
rc=0
mx plan --host h2 "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
took=$(($(date +%s) - start))
kill $silent
extra_cleanup=:
[ $rc -eq 3 ] || { cat "$lab/out"; die "silent host: exit $rc"; }
[ $took -lt 30 ] || die "silent host took ${took}s"
grep -q "handshake" "$lab/out" || { cat "$lab/out"; die "silent host: no handshake error"; }
ok "a host that accepts but never speaks SSH fails with a handshake timeout (exit 3, ${took}s)"
