#!/usr/bin/env bash
# probe-dane.sh: the DANE verdicts of `mxdeck test` (OpenSSL's DANE verification, RFC
# 7672 on SMTP ports, RFC 6698 elsewhere) against openssl s_server endpoints whose
# TLSA records sit in a DNSSEC-signed lab zone (nsd), cross-checked with Postfix's
# own DANE client (posttls-finger, through a validating unbound) and with
# openssl s_client -dane_tlsa_*. The truth:
#   ta-ok       2 0 1 (lab CA), chain leaf <- lab CA                  -> match (DANE-TA)
#   ta-foreign  2 0 1 (a foreign CA the server appends to its chain,
#               the leaf is issued by the lab CA)                      -> MISMATCH
#   pkix-ee     1 1 1 only, on port 465                                -> no usable TLSA
#   mixed       1 1 1 + 3 1 1, on port 465                             -> match (DANE-EE),
#                                                                         1 1 1 unusable
#   web         1 1 1 on port 443 (RFC 6698: PKIX-EE usable)           -> match (PKIX-EE)
# and a real Postfix that picks its certificate by SNI (tls_server_sni_maps: the right
# one for ta-ok.lab.test, a wrong one without SNI, which is what Postfix's own SMTP
# client gets): the tls probe on port 25 warns (posttls-finger shows both).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MXDECK=${MXDECK:-$ROOT/build/mxdeck}
. "$ROOT/tests/lab/probe-lab.sh"
. "$ROOT/tests/lab/checks.sh"
lab_need openssl ss nsd nsd-checkzone ldns-keygen ldns-signzone unbound unbound-checkconf \
    postfix postmap posttls-finger unshare mount /usr/bin/python3
# posttls-finger uses glibc's resolver: for its DANE lookups it gets a private
# /etc/resolv.conf in a mount namespace of its own. Where that is refused (not root, or
# a chroot whose / is no mount point) only those cross-checks are left out, said so;
# mxdeck's verdicts, unbound's validation and s_client's DANE are checked everywhere.
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: the lab's validating resolver listens on port 53 (root needed)"
	exit 77
fi
private_mnt=0
unshare -m true 2>/dev/null && private_mnt=1
lab_init
trap lab_cleanup EXIT

lab_ca
K=$LAB/pki
lab_pki_leaf dane 30 "ta-ok.lab.test" \
    "DNS:ta-ok.lab.test,DNS:ta-foreign.lab.test,DNS:pkix-ee.lab.test,DNS:mixed.lab.test,DNS:web.lab.test"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$K/foreign.key" -out "$K/foreign.pem" \
    -subj "/CN=foreign CA" -days 30 2>/dev/null
chmod 644 "$K"/*
check "the dane leaf is issued by the lab CA" openssl verify -CAfile "$K/ca.pem" "$K/dane.pem"
not() { ! "$@"; }
lacks() { case $1 in *"$2"*) echo "     '$1' has '$2'" >&2; return 1 ;; esac; return 0; }
check "...not by the foreign CA" not openssl verify -CAfile "$K/foreign.pem" "$K/dane.pem"

P_OK=$(lab_port); lab_s_server "$P_OK" "$K/dane.pem" "$K/dane.key"
# the foreign CA appended to a chain it did not issue
P_FOR=$(lab_port); LAB_CHAIN=$K/foreign.pem lab_s_server "$P_FOR" "$K/dane.pem" "$K/dane.key"
lab_wait_port "$P_OK"
lab_wait_port "$P_FOR"
# Postfix: wrong.other.test by default, the dane leaf for SNI ta-ok.lab.test
cat "$K/dane.key" "$K/dane.pem" "$K/ca.pem" > "$K/dane.chain"
chmod 644 "$K/dane.chain"
printf 'ta-ok.lab.test %s\n' "$K/dane.chain" > "$LAB/sni"
postmap -F "hash:$LAB/sni"
S=$(lab_port); SUB=$(lab_port); SS=$(lab_port)
lab_postfix sni "$S" "$SUB" "$SS" "smtpd_tls_cert_file = $K/wrong.pem" \
    "smtpd_tls_key_file = $K/wrong.key" "tls_server_sni_maps = hash:$LAB/sni"

hash_cert() { openssl x509 -in "$1" -outform DER | openssl dgst -sha256 -binary | od -An -tx1 | tr -d ' \n'; }
hash_spki() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -binary | od -An -tx1 | tr -d ' \n'; }
CAH=$(hash_cert "$K/ca.pem")
FORH=$(hash_cert "$K/foreign.pem")
SPKI=$(hash_spki "$K/dane.pem")

Z=$LAB/zone
mkdir -p "$Z"
# Each TLSA RRset twice: at the service's standard port (what mxdeck looks up) and at
# the lab port (what posttls-finger looks up for [host]:port).
cat > "$Z/lab.test" <<EOF
\$ORIGIN lab.test.
\$TTL 300
@ IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
@ IN NS ns.lab.test.
ns IN A 127.0.0.1
@ IN MX 10 pkix-ee.lab.test.
@ IN MX 20 mixed.lab.test.
ta-ok IN A 127.0.0.1
ta-foreign IN A 127.0.0.1
pkix-ee IN A 127.0.0.1
mixed IN A 127.0.0.1
web IN A 127.0.0.1
_465._tcp.ta-ok IN TLSA 2 0 1 $CAH
_$P_OK._tcp.ta-ok IN TLSA 2 0 1 $CAH
_465._tcp.ta-foreign IN TLSA 2 0 1 $FORH
_$P_FOR._tcp.ta-foreign IN TLSA 2 0 1 $FORH
_465._tcp.pkix-ee IN TLSA 1 1 1 $SPKI
_$P_OK._tcp.pkix-ee IN TLSA 1 1 1 $SPKI
_465._tcp.mixed IN TLSA 1 1 1 $SPKI
_465._tcp.mixed IN TLSA 3 1 1 $SPKI
_$P_OK._tcp.mixed IN TLSA 1 1 1 $SPKI
_$P_OK._tcp.mixed IN TLSA 3 1 1 $SPKI
_443._tcp.web IN TLSA 1 1 1 $SPKI
EOF
lab_sign_zone "$Z" lab.test
nsd-checkzone lab.test "$Z/lab.test.signed" >/dev/null
DNS=$(lab_port); lab_nsd dane "$DNS" lab.test "$Z/lab.test.signed"
# Postfix's resolver is glibc's stub: port 53 on an address of the lab's own.
UADDR=$(lab_addr); lab_unbound dane "$UADDR" 53 "$Z/anchor.key" lab.test "$DNS"
printf 'nameserver %s\noptions edns0 trust-ad\n' "$UADDR" > "$LAB/resolv.conf"

host() {	# name service port [roles]
	printf '\n[host "%s"]\naddress = %s.lab.test\nroles = %s\n' "$1" "$1" "${4:-postfix}"
	if [ "$2" = https ]; then
		printf 'probe_ports = https:%s\n' "$3"
	else
		printf 'probe_ports = smtp:off submission:off smtps:off %s:%s\n' "$2" "$3"
	fi
}
{
	cat <<EOF
[site]
name = lab
domain = lab.test
resolver = 127.0.0.1:$DNS
trust_anchor = $Z/anchor.key

[tls]
dane = yes
tlsa_ports = 465 443
EOF
	host ta-ok smtps "$P_OK"
	host ta-foreign smtps "$P_FOR"
	host pkix-ee smtps "$P_OK"
	host mixed smtps "$P_OK"
	host web https "$P_OK" apache
	printf '\n[host "pfsni"]\naddress = ta-ok.lab.test\nroles = postfix\n'
	printf 'probe_ports = smtp:%s submission:off smtps:off\n' "$S"
} > "$LAB/dane.ini"

export SSL_CERT_FILE=$K/ca.pem
rc=0
MXDECK_PROBES=dns,dane,tls MXDECK_PROBE_TIMEOUT=8 "$MXDECK" test "$LAB/dane.ini" --json \
    >"$LAB/out.json" 2>"$LAB/out.txt" || rc=$?
cat "$LAB/out.txt"
check "JSON output parses" /usr/bin/python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$LAB/out.json"
st() { lab_json_get "$LAB/out.json" "$1" "$2" status; }
sm() { lab_json_get "$LAB/out.json" "$1" "$2" summary; }
dt() { lab_json_get "$LAB/out.json" "$1" "$2" details; }
check "exit 1 (failed DANE verdicts, every host reached)" eq "$rc" 1

check "ta-ok (2 0 1 of the issuing CA): ok" eq "$(st ta-ok 'dane smtps')" ok
check "ta-ok: DANE-TA match" has "$(sm ta-ok 'dane smtps')" "_465._tcp.ta-ok.lab.test: TLSA match (DANE-TA)"
check "ta-ok: OpenSSL names the trust anchor's depth" has "$(dt ta-ok 'dane smtps')" "at depth 1 (/CN=mxdeck lab CA)"
check "ta-foreign (2 0 1 of a CA appended to the chain, not the issuer): fail" \
    eq "$(st ta-foreign 'dane smtps')" fail
check "ta-foreign: TLSA MISMATCH" has "$(sm ta-foreign 'dane smtps')" "TLSA MISMATCH"
check "ta-foreign: says OpenSSL's DANE verification failed" has "$(dt ta-foreign 'dane smtps')" "OpenSSL DANE verification failed"
check "pkix-ee (1 1 1 only, SMTP): fail" eq "$(st pkix-ee 'dane smtps')" fail
check "pkix-ee: no usable TLSA" has "$(sm pkix-ee 'dane smtps')" "_465._tcp.pkix-ee.lab.test: NO USABLE TLSA"
check "pkix-ee: says why (RFC 7672)" has "$(dt pkix-ee 'dane smtps')" "PKIX-EE(1) is unusable for SMTP (RFC 7672 section 3.1.3"
check "pkix-ee: never a TLSA match" lacks "$(sm pkix-ee 'dane smtps')" "TLSA match"
check "mixed (1 1 1 + 3 1 1): warn (one unusable record)" eq "$(st mixed 'dane smtps')" warn
check "mixed: DANE-EE match" has "$(sm mixed 'dane smtps')" "TLSA match (DANE-EE)"
check "mixed: the 1 1 1 record is named unusable" has "$(dt mixed 'dane smtps')" "TLSA 1 1 1 unusable: PKIX-EE(1) is unusable for SMTP"
# The DNS-side TLSA probe (over the MX hosts) applies the same rules.
check "tlsa probe: 1 1 1 alone is no usable TLSA on 465" has "$(sm '' tlsa)" "_465._tcp.pkix-ee.lab.test NO USABLE TLSA"
check "tlsa probe: says why" has "$(dt '' tlsa)" "_465._tcp.pkix-ee.lab.test: TLSA 1 1 1 unusable: PKIX-EE(1) is unusable for SMTP"
check "tlsa probe: 1 1 1 + 3 1 1 is usable" has "$(sm '' tlsa)" "_465._tcp.mixed.lab.test secure"
check "web (1 1 1 on 443, RFC 6698): ok" eq "$(st web 'dane https')" ok
check "web: PKIX-EE match" has "$(sm web 'dane https')" "TLSA match (PKIX-EE)"

# Postfix's verdicts, through the validating unbound (its only trust anchor: the lab
# zone's KSK), the same records at _PORT._tcp.
unbound_ok=$(drill -p 53 @"$UADDR" -D TLSA "_$P_OK._tcp.ta-ok.lab.test" 2>&1 || true)
check "unbound validates the lab zone (AD set)" has "$(grep 'flags:' <<<"$unbound_ok")" " ad"
if [ "$private_mnt" -eq 1 ]; then
ptf() {	# name port -> posttls-finger's output with the lab resolver
	unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && exec posttls-finger -c -w -l dane -t 5 -T 1 "[$2]:$3"' \
	    sh "$LAB/resolv.conf" "$1" "$2" 2>&1 || true
}
o=$(ptf ta-ok.lab.test "$P_OK")
echo "posttls-finger ta-ok: $o"
check "posttls-finger agrees: ta-ok is verified by DANE" has "$o" "Verified TLS connection established"
check "posttls-finger: ta-ok matched the TA" has "$o" "Matched DANE TA certificate at depth 1: 2 0 1"
o=$(ptf ta-foreign.lab.test "$P_FOR")
echo "posttls-finger ta-foreign: $o"
check "posttls-finger agrees: ta-foreign is not verified" has "$o" "Untrusted TLS connection established"
check "posttls-finger: ta-foreign has no matching TLSA" has "$o" "no matching DANE TLSA records"
o=$(ptf pkix-ee.lab.test "$P_OK")
echo "posttls-finger pkix-ee: $o"
check "posttls-finger agrees: usage 1 is unsupported" has "$o" "unsupported TLSA certificate usage: 1 1 1"
check "posttls-finger agrees: pkix-ee not verified" lacks "$o" "Verified TLS connection"
o=$(ptf mixed.lab.test "$P_OK")
echo "posttls-finger mixed: $o"
check "posttls-finger agrees: mixed is verified (3 1 1)" has "$o" "Verified TLS connection established"
else
	echo "note - posttls-finger's DANE cross-checks not run: unshare -m is not permitted here"
fi

# Postfix serving its certificate by SNI, on port 25 with STARTTLS.
check "Postfix SNI-only certificate: warn" eq "$(st pfsni 'tls smtp')" warn
check "Postfix SNI: with SNI the right name" has "$(sm pfsni 'tls smtp')" "name ok (ta-ok.lab.test)"
check "Postfix SNI: without SNI another certificate, named" has "$(sm pfsni 'tls smtp')" "NO-SNI CERT DIFFERS (CN=wrong.other.test (DNS:wrong.other.test))"
o=$(posttls-finger -c -l secure -F "$K/ca.pem" -t 5 -T 5 "[127.0.0.1]:$S" 2>&1 || true)
echo "posttls-finger (no SNI) to Postfix: $o"
check "posttls-finger agrees: without SNI Postfix presents wrong.other.test" has "$o" "subject_CN=wrong.other.test"
o=$(posttls-finger -c -l secure -F "$K/ca.pem" -s ta-ok.lab.test -t 5 -T 5 "[127.0.0.1]:$S" 2>&1 || true)
check "posttls-finger agrees: with SNI ta-ok.lab.test it presents ta-ok.lab.test" has "$o" "subject_CN=ta-ok.lab.test"

# openssl s_client's DANE verdict for the same records.
dane_s_client() {	# port name rrdata -> 0 if verified
	openssl s_client -connect "127.0.0.1:$1" -dane_tlsa_domain "$2" \
	    -dane_tlsa_rrdata "$3" -verify_return_error </dev/null 2>&1 |
	    grep -q '^Verification: OK'
}
check "s_client agrees: ta-ok verifies" dane_s_client "$P_OK" ta-ok.lab.test "2 0 1 $CAH"
check "s_client agrees: ta-foreign does not" not dane_s_client "$P_FOR" ta-foreign.lab.test "2 0 1 $FORH"

checks_done
