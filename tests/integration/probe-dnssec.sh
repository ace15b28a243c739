#!/usr/bin/env bash
# probe-dnssec.sh: DNSSEC failures are DNSSEC verdicts, not reachability failures. nsd
# serves three signed zones; a validating unbound (Extended DNS Errors on) trusts
# each zone's anchor:
#   good.test     signed correctly                                  -> host reached
#   exp.test      signed with RRSIGs that expired in 2020           -> DNSSEC BOGUS
#   wrongds.test  signed correctly, but its anchor is the DS of a
#                 key that never signed it (a wrong DS at the parent) -> DNSSEC BOGUS
# Through unbound (SERVFAIL), `mxdeck test` must say DNSSEC bogus and why (the
# resolver's EDE, its own validation with CD set), exit 1 and not call the host
# unreachable. Against nsd directly (no validating resolver) the TLSA validation of
# exp.test must name the expiry, not ldns's "No keys with the keytag...". drill shows
# the SERVFAIL and its own verdict.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MXDECK=${MXDECK:-$ROOT/build/mxdeck}
. "$ROOT/tests/lab/probe-lab.sh"
. "$ROOT/tests/lab/checks.sh"
lab_need openssl ss nsd nsd-checkzone ldns-keygen ldns-signzone unbound \
    unbound-checkconf drill /usr/bin/python3
lab_init
trap lab_cleanup EXIT

lab_ca
K=$LAB/pki
P=$(lab_port); lab_s_server "$P" "$K/good.pem" "$K/good.key"
lab_wait_port "$P"
SPKI=$(openssl x509 -in "$K/good.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -binary | od -An -tx1 | tr -d ' \n')

zone() {	# name -> DIR/name
	mkdir -p "$LAB/z-$1"
	cat > "$LAB/z-$1/$1" <<EOF
\$ORIGIN $1.
\$TTL 300
@ IN SOA ns.$1. hostmaster.$1. 1 3600 600 86400 300
@ IN NS ns.$1.
ns IN A 127.0.0.1
mx IN A 127.0.0.1
_465._tcp.mx IN TLSA 3 1 1 $SPKI
EOF
}
zone good.test
zone exp.test
zone wrongds.test
lab_sign_zone "$LAB/z-good.test" good.test
lab_sign_zone "$LAB/z-exp.test" exp.test -i 20200101000000 -e 20200201000000
lab_sign_zone "$LAB/z-wrongds.test" wrongds.test
# the wrong DS: of a KSK for the zone that never signed it
(cd "$LAB/z-wrongds.test" && other=$(ldns-keygen -a RSASHA256 -b 2048 -k wrongds.test) &&
    cp "$other.ds" wrong.ds)
for z in good.test exp.test wrongds.test; do
	nsd-checkzone "$z" "$LAB/z-$z/$z.signed" >/dev/null
done
check "exp.test's RRSIGs expired in 2020" grep -q 'RRSIG.*A 8 3 300 20200201000000' "$LAB/z-exp.test/exp.test.signed"
cat "$LAB/z-good.test/anchor.key" "$LAB/z-exp.test/anchor.key" "$LAB/z-wrongds.test/wrong.ds" \
    > "$LAB/anchors"
check "the wrong DS is not the DS of wrongds.test's signing KSK" \
    sh -c "! cmp -s '$LAB/z-wrongds.test/wrong.ds' '$LAB/z-wrongds.test/anchor.ds'"

DNS=$(lab_port)
lab_nsd dnssec "$DNS" good.test "$LAB/z-good.test/good.test.signed" \
    exp.test "$LAB/z-exp.test/exp.test.signed" wrongds.test "$LAB/z-wrongds.test/wrongds.test.signed"
UADDR=$(lab_addr)
lab_unbound dnssec "$UADDR" 53 "$LAB/anchors" "good.test exp.test wrongds.test" "$DNS"

host() {	# name address
	printf '\n[host "%s"]\naddress = %s\nroles = postfix\n' "$1" "$2"
	printf 'probe_ports = smtp:off submission:off smtps:%s\n' "$P"
}
{
	printf '[site]\nname = lab\ndomain = good.test\nresolver = %s:53\ntrust_anchor = %s\n' \
	    "$UADDR" "$LAB/anchors"
	host fine mx.good.test
	host expired mx.exp.test
	host wrongds mx.wrongds.test
} > "$LAB/resolver.ini"

# The resolver's own verdict.
for h in mx.exp.test mx.wrongds.test; do
	d=$(drill -p 53 @"$UADDR" A "$h" 2>&1 || true)
	check "unbound answers SERVFAIL for $h" has "$d" "rcode: SERVFAIL"
done
d=$(drill -p 53 @"$UADDR" -D A mx.good.test 2>&1 || true)
check "unbound validates mx.good.test" has "$(grep 'flags:' <<<"$d")" " ad"

export SSL_CERT_FILE=$K/ca.pem
rc=0
MXDECK_PROBES=tls MXDECK_PROBE_TIMEOUT=8 "$MXDECK" test "$LAB/resolver.ini" --json \
    >"$LAB/out.json" 2>"$LAB/out.txt" || rc=$?
cat "$LAB/out.txt"
st() { lab_json_get "$LAB/$1.json" "$2" "$3" status; }
sm() { lab_json_get "$LAB/$1.json" "$2" "$3" summary; }
dt() { lab_json_get "$LAB/$1.json" "$2" "$3" details; }
lacks() { case $1 in *"$2"*) echo "     '$1' has '$2'" >&2; return 1 ;; esac; return 0; }
check "exit 1 (failed tests), not 3 (unreachable)" eq "$rc" 1
check "no host called unreachable" lacks "$(cat "$LAB/out.txt")" "could not be reached"
check "the signed good zone: host reached (reach 1)" eq "$(lab_json_get "$LAB/out.json" fine 'tls smtps' reach)" 1
check "the signed good zone: handshake done" has "$(sm out fine 'tls smtps')" "chain ok"
check "expired RRSIGs: fail" eq "$(st out expired 'tls smtps')" fail
check "expired RRSIGs: DNSSEC BOGUS, not an address lookup failure" eq "$(sm out expired 'tls smtps')" "DNSSEC BOGUS (address lookup)"
check "expired RRSIGs: reach 0 (not -1, unreachable)" eq "$(lab_json_get "$LAB/out.json" expired 'tls smtps' reach)" 0
check "expired RRSIGs: names the expiry" has "$(dt out expired 'tls smtps')" "EXPIRED at 2020-02-01 00:00:00 UTC"
check "expired RRSIGs: the resolver's EDE" has "$(dt out expired 'tls smtps')" "the resolver says EDE 6 (DNSSEC Bogus)"
check "expired RRSIGs: no network advice" lacks "$(dt out expired 'tls smtps')" "firewall"
check "wrong DS: fail" eq "$(st out wrongds 'tls smtps')" fail
check "wrong DS: DNSSEC BOGUS" eq "$(sm out wrongds 'tls smtps')" "DNSSEC BOGUS (address lookup)"
check "wrong DS: says no DNSKEY matches the anchor" has "$(dt out wrongds 'tls smtps')" "matches its trust anchor"
check "wrong DS: the resolver's EDE" has "$(dt out wrongds 'tls smtps')" "the resolver says EDE 6 (DNSSEC Bogus)"

# Straight to nsd (no validating resolver): mxdeck validates the TLSA itself.
{
	printf '[site]\nname = lab\ndomain = exp.test\nresolver = 127.0.0.1:%s\ntrust_anchor = %s\n' \
	    "$DNS" "$LAB/anchors"
	printf '\n[tls]\ndane = yes\ntlsa_ports = 465\n'
	host expired mx.exp.test
	host fine mx.good.test
} > "$LAB/direct.ini"
rc=0
MXDECK_PROBES=dane MXDECK_PROBE_TIMEOUT=8 "$MXDECK" test "$LAB/direct.ini" --json \
    >"$LAB/direct.json" 2>"$LAB/direct.txt" || rc=$?
cat "$LAB/direct.txt"
check "direct: exit 1" eq "$rc" 1
check "direct: good zone's TLSA matches" eq "$(st direct fine 'dane smtps')" ok
check "direct: expired zone's TLSA fails" eq "$(st direct expired 'dane smtps')" fail
check "direct: says BOGUS" has "$(sm direct expired 'dane smtps')" "DNSSEC BOGUS"
check "direct: the cause is the expiry" has "$(dt direct expired 'dane smtps')" "BOGUS: the RRSIG over _465._tcp.mx.exp.test TLSA (key tag"
check "direct: ...expired in 2020" has "$(dt direct expired 'dane smtps')" "EXPIRED at 2020-02-01 00:00:00 UTC"
d=$(drill -S -k "$LAB/z-exp.test/anchor.key" -p "$DNS" @127.0.0.1 TLSA _465._tcp.mx.exp.test 2>&1 || true)
check "drill -S agrees: the chase fails" lacks "$d" "Chase successful"

checks_done
