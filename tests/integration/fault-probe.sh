#!/usr/bin/env bash
# fault-probe.sh: every probe type against servers that misbehave (no mocks: real
# sockets on loopback, real nsd for the names).
#
#   case            server behaviour                              expected outcome
#   silent          accepts, never sends a byte                   every tls/tlsver/smtp/http/dane
#                                                                 probe fails and says it timed out,
#                                                                 each within its timeout; exit 1
#   slow            sends one byte every 0.4 s forever             every probe fails within its timeout
#                   (a valid-looking "220 ..." greeting)           (per probe, not per read), with a
#                                                                 reason (TLS ones may fail earlier)
#   dns-silent      resolver never answers (UDP and TCP)          every dns probe fails within the timeout
#   dns-slow        answers after 10 s                            the same
#   dns-truncated   answer cut in the middle of a record          dns probes fail with a reason, no crash
#   dns-tc          TC bit set, TCP accepts and says nothing      dns probes fail within the timeout
#   dns-garbage     random bytes                                  dns probes fail
#   dns-wrongid     a valid answer with another query id          dns probes fail (answer not taken,
#                                                                 RFC 5452)
#   dns-servfail    SERVFAIL                                      dns probes fail, say so
# DNSSEC answers with bad signatures: tests/integration/probe-dns.sh (bogus zone). Here
# the zone is signed, so the dane probes validate their TLSA record and then connect.
# Each case: exit code 1, no probe of the faulty kind "ok", every probe's duration under
# the per-probe timeout plus slack, the run under its deadline, a reason in the summary,
# valid JSON. One line per case and outcome.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MXDECK=${MXDECK:-$ROOT/build/mxdeck}
. "$ROOT/tests/lab/probe-lab.sh"
lab_need ss nsd ldns-keygen ldns-signzone /usr/bin/python3
lab_init
trap lab_cleanup EXIT  # LAB_KEEP=1 keeps $LAB
T=3		# MXDECK_PROBE_TIMEOUT
D=40		# MXDECK_PROBE_DEADLINE
fails=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fails=$((fails + 1)); }

cat >"$LAB/faults.py" <<'PY'
# faults.py MODE PORT: TCP (and for dns-* UDP+TCP) servers that misbehave.
import os, socket, struct, sys, threading, time
mode, port = sys.argv[1], int(sys.argv[2])

def tcp_silent(c):
    time.sleep(600)

def tcp_slow(c):
    for b in b"220 slow.lab.test ESMTP " + b"x" * 2000:
        c.sendall(bytes([b])); time.sleep(0.4)

def dns_answer(q, how):
    if len(q) < 12:
        return None
    qid, flags = struct.unpack(">HH", q[:4])
    # question section: up to the end of QNAME + 4
    i = 12
    while i < len(q) and q[i] != 0:
        i += q[i] + 1
    question = q[12:i + 5]
    if how == "servfail":
        return struct.pack(">HHHHHH", qid, 0x8182, 1, 0, 0, 0) + question
    ans = (struct.pack(">HHHHHH", qid if how != "wrongid" else qid ^ 0x5a5a,
                       0x8580 | (0x0200 if how == "tc" else 0), 1, 1, 0, 0) + question +
           b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + bytes([127, 0, 0, 1]))
    if how == "truncated":
        return ans[:len(ans) - 7]
    if how == "garbage":
        return os.urandom(len(ans))
    return ans

def udp(how):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    while True:
        q, a = s.recvfrom(4096)
        if how in ("silent",):
            continue
        if how == "slow":
            threading.Timer(10, lambda q=q, a=a: s.sendto(dns_answer(q, "ok"), a)).start()
            continue
        r = dns_answer(q, how)
        if r is not None:
            s.sendto(r, a)

def tcp(handler):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()

if mode.startswith("dns-"):
    how = mode[4:]
    # TCP: silent for every DNS mode (a TC answer makes the resolver retry over TCP)
    threading.Thread(target=tcp, args=(tcp_silent,), daemon=True).start()
    udp(how)
else:
    tcp(tcp_silent if mode == "silent" else tcp_slow)
PY
fault() {	# MODE PORT
	/usr/bin/python3 "$LAB/faults.py" "$1" "$2" </dev/null >/dev/null 2>&1 &
	LAB_PIDS="$LAB_PIDS $!"
}

# Names for the probes: nsd serves lab.test, signed (the dane probe needs a validated
# TLSA record before it connects), everything at 127.0.0.1.
NS=$(lab_port)
Z=$LAB/zone
mkdir -p "$Z"
cat >"$Z/lab.test" <<EOF
\$ORIGIN lab.test.
\$TTL 300
@ IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
@ IN NS ns.lab.test.
@ IN MX 10 mx.lab.test.
ns IN A 127.0.0.1
mx IN A 127.0.0.1
mail IN A 127.0.0.1
autodiscover IN A 127.0.0.1
@ IN A 127.0.0.1
_25._tcp.mx IN TLSA 3 1 1 0000000000000000000000000000000000000000000000000000000000000000
_465._tcp.mx IN TLSA 3 1 1 0000000000000000000000000000000000000000000000000000000000000000
_autodiscover._tcp IN SRV 0 0 443 mail.lab.test.
EOF
(
	cd "$Z"
	ksk=$(ldns-keygen -a ECDSAP256SHA256 -k lab.test)
	zsk=$(ldns-keygen -a ECDSAP256SHA256 lab.test)
	ldns-signzone -n -f lab.test.signed lab.test "$zsk" "$ksk" >/dev/null
	cp "$ksk.key" anchor.key
)
lab_nsd lab "$NS" lab.test "$Z/lab.test.signed"

profile() {	# RESOLVER-PORT SERVER-PORT
	cat <<EOF
[site]
name = fault
domain = lab.test
resolver = 127.0.0.1:$1
trust_anchor = $Z/anchor.key

[host "gw"]
address = mx.lab.test
roles = postfix dovecot nginx autodiscover
probe_ports = smtp:$2 submission:$2 smtps:$2 imaps:$2 pop3s:$2 imap:$2 pop3:$2 https:$2

[vhost "mail.lab.test"]
server = nginx
backend = https://192.0.2.1
services = owa ews activesync autodiscover
certificate = /etc/ssl/certs/ssl-cert-snakeoil.pem
key = /etc/ssl/private/ssl-cert-snakeoil.key

[autodiscover "lab.test"]
imap = imap.lab.test:993/ssl
smtp = smtp.lab.test:465/ssl
activesync = https://mail.lab.test/Microsoft-Server-ActiveSync

[tls]
dane = yes
certificate = /etc/ssl/certs/ssl-cert-snakeoil.pem
key = /etc/ssl/private/ssl-cert-snakeoil.key
EOF
}

# run CASE KINDS PROFILE: mxdeck test --json with the timeouts; checks the outcome.
run() {
	local name=$1 kinds=$2 p=$3 rc start end
	start=$(date +%s.%N)
	set +e
	MXDECK_PROBES=$kinds MXDECK_PROBE_TIMEOUT=$T MXDECK_PROBE_DEADLINE=$D \
	    timeout 120 "$MXDECK" test --json "$p" >"$LAB/$name.json" 2>"$LAB/$name.err"
	rc=$?
	set -e
	end=$(date +%s.%N)
	wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	if [ "$rc" -ne 1 ]; then
		bad "$name: exit $rc, expected 1 (a test failed); $(tail -n 2 "$LAB/$name.err")"
		return
	fi
	if ! out=$(/usr/bin/python3 - "$LAB/$name.json" "$kinds" "$T" "$4" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
kinds = set(sys.argv[2].split(","))
limit = float(sys.argv[3]) + 2.0
want = sys.argv[4]
rs = [r for r in doc["results"] if r["kind"] in kinds]
if not rs:
    print("no probe of kinds %s ran" % sorted(kinds)); sys.exit(1)
problems = []
for r in rs:
    label = "%s %s" % (r["kind"], r["name"])
    if r["status"] == "ok":
        problems.append(label + ": ok against a faulty server")
    if r["duration"] is None or float(r["duration"]) > limit:
        problems.append("%s: took %s s (limit %.1f)" % (label, r["duration"], limit))
    text = (r["summary"] or "") + " " + (r["details"] or "")
    if not r["summary"]:
        problems.append(label + ": no reason given")
    if want and want not in text.lower():
        problems.append("%s: reason %r lacks %r" % (label, r["summary"][:80], want))
if problems:
    print("; ".join(problems[:4]) + (" (+%d more)" % (len(problems) - 4) if len(problems) > 4 else ""))
    sys.exit(1)
print("%d probes (%s) failed as they should, slowest %.1f s" % (len(rs), ",".join(sorted(set(r["kind"] for r in rs))),
      max(float(r["duration"]) for r in rs)))
PY
	); then
		bad "$name: $out"
		return
	fi
	if awk -v w="$wall" -v d="$D" 'BEGIN { exit !(w > d + 5) }'; then
		bad "$name: the run took ${wall}s, deadline ${D}s"
		return
	fi
	ok "$name: exit 1, $out, run ${wall}s"
}

# 1. TCP services: silent and slow, every TCP probe kind
for mode in silent slow; do
	P=$(lab_port); fault "$mode" "$P"; lab_wait_port "$P"
	profile "$NS" "$P" >"$LAB/$mode.ini"
	# silent: every probe says it timed out ("timed out", curl's "Timeout was
	# reached"); slow: a TLS probe may fail earlier on the bytes it got, with a reason.
	want=""
	[ "$mode" = silent ] && want="time"
	MXDECK_PROBE_HTTP_PORT=$P run "$mode" "tls,tlsver,smtp,http" "$LAB/$mode.ini" "$want"
	run "$mode-dane" "dane" "$LAB/$mode.ini" ""
done

# 2. DNS: every fault mode against the resolver; all dns probes must fail
for how in silent slow truncated tc garbage wrongid servfail; do
	P=$(lab_port); fault "dns-$how" "$P"; lab_wait_port "$P"
	profile "$P" 9 >"$LAB/dns-$how.ini"
	run "dns-$how" "dns" "$LAB/dns-$how.ini" ""
done

echo "$fails failed"
[ "$fails" -eq 0 ]
