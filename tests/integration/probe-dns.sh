#!/usr/bin/env bash
# probe-dns.sh: DNS, DNSSEC and DANE probes against an authoritative nsd on loopback
# serving a DNSSEC-signed lab zone (ldns-keygen, ldns-signzone) with MX, SRV and TLSA
# records, and against a copy of that zone with a bogus signature. The certificate
# served is the real Postfix's. The truth:
#   mx1.lab.test: TLSA 3 1 1 (port 25) and 3 0 1 (port 465) match    -> dane ok
#   mx2.lab.test: TLSA that does not match                             -> dane fail
#   bogus zone:   mx2's TLSA edited after signing (now matching!)       -> dane fail
# The DANE verdicts are cross-checked with openssl s_client -dane_tlsa_rrdata, the
# DNSSEC verdicts with drill -S.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MXDECK=${MXDECK:-$ROOT/build/mxdeck}
. "$ROOT/tests/lab/probe-lab.sh"
. "$ROOT/tests/lab/checks.sh"
lab_need openssl ss postfix nsd nsd-checkzone ldns-keygen ldns-signzone drill /usr/bin/python3
lab_init
trap lab_cleanup EXIT

lab_ca
K=$LAB/pki
S=$(lab_port); SUB=$(lab_port); SS=$(lab_port)
lab_postfix main "$S" "$SUB" "$SS"

spki=$(openssl x509 -in "$K/good.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -binary | od -An -tx1 | tr -d ' \n')
full=$(openssl x509 -in "$K/good.pem" -outform DER | openssl dgst -sha256 -binary |
    od -An -tx1 | tr -d ' \n')
other=$(openssl x509 -in "$K/wrong.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -binary | od -An -tx1 | tr -d ' \n')

Z=$LAB/zone
mkdir -p "$Z"
cat > "$Z/lab.test" <<EOF
\$ORIGIN lab.test.
\$TTL 300
@ IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
@ IN NS ns.lab.test.
ns IN A 127.0.0.1
@ IN A 127.0.0.1
@ IN MX 10 mx1.lab.test.
@ IN MX 20 mx2.lab.test.
mx1 IN A 127.0.0.1
mx2 IN A 127.0.0.1
smtp IN A 127.0.0.1
imap IN A 127.0.0.1
pop IN A 127.0.0.1
mail IN A 127.0.0.1
autodiscover IN CNAME mail.lab.test.
_autodiscover._tcp IN SRV 0 0 443 mail.lab.test.
_imaps._tcp IN SRV 0 1 993 imap.lab.test.
_imap._tcp IN SRV 0 0 0 .
_pop3s._tcp IN SRV 0 1 995 pop.lab.test.
_pop3._tcp IN SRV 0 0 0 .
_submission._tcp IN SRV 0 1 587 smtp.lab.test.
_submissions._tcp IN SRV 0 0 0 .
_25._tcp.mx1 IN TLSA 3 1 1 $spki
_465._tcp.mx1 IN TLSA 3 0 1 $full
_25._tcp.mx2 IN TLSA 3 1 1 $other
_465._tcp.mx2 IN TLSA 3 1 1 $other
_587._tcp.mx2 IN TXT "a name without TLSA: NODATA"
EOF
(
	cd "$Z"
	ksk=$(ldns-keygen -a RSASHA256 -b 2048 -k lab.test)
	zsk=$(ldns-keygen -a RSASHA256 -b 1024 lab.test)
	ldns-signzone -n -f lab.test.signed lab.test "$zsk" "$ksk" >/dev/null
	cp "$ksk.key" anchor.key
)
nsd-checkzone lab.test "$Z/lab.test.signed" >/dev/null
# The bogus copy: mx2's port-25 TLSA replaced by the matching hash after signing; its
# RRSIG still covers the old data.
sed "s/^\(_25\._tcp\.mx2\.lab\.test\.[[:space:]].*TLSA[[:space:]]*3 1 1 \)[0-9a-fA-F]*/\1$spki/" \
    "$Z/lab.test.signed" > "$Z/lab.test.bogus"
# A third copy: every NSEC3 record's type bitmap extended after signing, so denials of
# existence carry NSEC3 records whose signatures do not verify (positive answers are
# untouched).
awk '$4 == "NSEC3" { print $0 " SPF"; next } { print }' "$Z/lab.test.signed" \
    > "$Z/lab.test.badnsec"
check "tampered copy has tampered NSEC3 records" grep -q 'NSEC3.* SPF$' "$Z/lab.test.badnsec"
nsd-checkzone lab.test "$Z/lab.test.badnsec" >/dev/null
check "bogus copy differs from the signed zone" \
    sh -c "! cmp -s '$Z/lab.test.signed' '$Z/lab.test.bogus'"
DNS=$(lab_port); lab_nsd good "$DNS" lab.test "$Z/lab.test.signed"
BOG=$(lab_port); lab_nsd bogus "$BOG" lab.test "$Z/lab.test.bogus"
BADN=$(lab_port); lab_nsd badnsec "$BADN" lab.test "$Z/lab.test.badnsec"

profile() {	# resolver-port anchor [tlsa_ports]
	cat <<EOF
[site]
name = lab
domain = lab.test
resolver = 127.0.0.1:$1
trust_anchor = $2

[host "gw1"]
address = mx1.lab.test
roles = postfix
probe_ports = smtp:$S submission:$SUB smtps:$SS

[host "gw2"]
address = mx2.lab.test
roles = postfix
probe_ports = smtp:$S submission:$SUB smtps:$SS

[autodiscover "lab.test"]
imap = imap.lab.test:993/ssl
pop3 = pop.lab.test:995/ssl
smtp = smtp.lab.test:587/starttls

[tls]
smtpd_protocols = >=TLSv1.2
no_renegotiation = yes
dane = yes
tlsa_ports = ${3:-25 465}
EOF
}
profile "$DNS" "$Z/anchor.key" > "$LAB/good.ini"
profile "$BOG" "$Z/anchor.key" > "$LAB/bogus.ini"
profile "$DNS" /usr/share/dns/root.key > "$LAB/rootanchor.ini"
# Port 587 has no TLSA anywhere: _587._tcp.mx1 does not exist (NXDOMAIN),
# _587._tcp.mx2 has only a TXT (NODATA). The signed zone proves both absences with
# NSEC3; with the root anchor only, nothing is proven.
profile "$DNS" "$Z/anchor.key" "25 465 587" > "$LAB/missing.ini"
profile "$DNS" /usr/share/dns/root.key "25 465 587" > "$LAB/missingroot.ini"
profile "$BADN" "$Z/anchor.key" "25 465 587" > "$LAB/missingbogus.ini"

export SSL_CERT_FILE=$K/ca.pem
run() {	# ini out
	local rc=0
	MXDECK_PROBES=dns,dane MXDECK_PROBE_TIMEOUT=8 "$MXDECK" test "$1" --json \
	    >"$2.json" 2>"$2.txt" || rc=$?
	cat "$2.txt"
	echo "$rc" > "$2.rc"
}
run "$LAB/good.ini" "$LAB/good"
run "$LAB/bogus.ini" "$LAB/bogus"
run "$LAB/rootanchor.ini" "$LAB/root"
run "$LAB/missing.ini" "$LAB/missing"
run "$LAB/missingroot.ini" "$LAB/missingroot"
run "$LAB/missingbogus.ini" "$LAB/missingbogus"

st() { lab_json_get "$LAB/$1.json" "$2" "$3" status; }
sm() { lab_json_get "$LAB/$1.json" "$2" "$3" summary; }
dt() { lab_json_get "$LAB/$1.json" "$2" "$3" details; }

check "good zone: exit 1 (mx2's TLSA does not match)" eq "$(cat "$LAB/good.rc")" 1
check "mx: ok" eq "$(st good '' mx)" ok
check "mx: both MX, DNSSEC ok" has "$(sm good '' mx)" "2 MX, mx1.lab.test, mx2.lab.test, DNSSEC ok"
check "tlsa: every TLSA RRset validates" eq "$(st good '' tlsa)" ok
check "autodiscover-dns: ok" eq "$(st good '' autodiscover-dns)" ok
check "autodiscover-dns: SRV and CNAME" has "$(sm good '' autodiscover-dns)" "SRV ok, autodiscover.lab.test ok"
check "srv-rfc6186: ok" eq "$(st good '' srv-rfc6186)" ok
check "gw1 dane smtp (3 1 1): ok" eq "$(st good gw1 'dane smtp')" ok
check "gw1 dane smtps (3 0 1): ok" eq "$(st good gw1 'dane smtps')" ok
check "gw2 dane smtp: fail" eq "$(st good gw2 'dane smtp')" fail
check "gw2 dane smtp: says MISMATCH" has "$(sm good gw2 'dane smtp')" "TLSA MISMATCH"
check "gw2 dane smtps: fail" eq "$(st good gw2 'dane smtps')" fail

check "bogus zone: exit 1" eq "$(cat "$LAB/bogus.rc")" 1
check "bogus: gw2 dane smtp fails although the hash now matches" eq "$(st bogus gw2 'dane smtp')" fail
check "bogus: says BOGUS" has "$(dt bogus gw2 'dane smtp')" "BOGUS"
check "bogus: tlsa probe fails" eq "$(st bogus '' tlsa)" fail
check "bogus: tlsa probe names the record" has "$(sm bogus '' tlsa)" "_25._tcp.mx2.lab.test BOGUS"
check "bogus: untouched RRsets still validate (gw1 dane smtp ok)" eq "$(st bogus gw1 'dane smtp')" ok

check "root anchor only: the lab zone does not validate" eq "$(st root gw1 'dane smtp')" fail
check "root anchor only: tlsa fails" eq "$(st root '' tlsa)" fail

check "tlsa 587, NXDOMAIN: proven absent" has "$(sm missing '' tlsa)" "_587._tcp.mx1.lab.test no TLSA (proven absent)"
check "tlsa 587, NODATA: proven absent" has "$(sm missing '' tlsa)" "_587._tcp.mx2.lab.test no TLSA (proven absent)"
check "tlsa 587, NXDOMAIN: says NXDOMAIN" has "$(dt missing '' tlsa)" "_587._tcp.mx1.lab.test: no TLSA record, absence proven by DNSSEC (NXDOMAIN)"
check "tlsa 587, NODATA: says NODATA" has "$(dt missing '' tlsa)" "_587._tcp.mx2.lab.test: no TLSA record, absence proven by DNSSEC (NODATA)"
check "tlsa: a proven absence is a fail under dane = yes" eq "$(st missing '' tlsa)" fail
check "tlsa: present records still secure" has "$(sm missing '' tlsa)" "_25._tcp.mx1.lab.test secure"
check "dane submission gw1: fail, proven absent" eq "$(st missing gw1 'dane submission') $(sm missing gw1 'dane submission')" "fail _587._tcp.mx1.lab.test: no TLSA (proven absent)"
check "dane smtp gw1 unaffected: ok" eq "$(st missing gw1 'dane smtp')" ok
check "root anchor only: absence unproven" has "$(sm missingroot '' tlsa)" "_587._tcp.mx1.lab.test no TLSA (unproven)"
check "root anchor only: NODATA unproven too" has "$(sm missingroot '' tlsa)" "_587._tcp.mx2.lab.test no TLSA (unproven)"
check "root anchor only: says why (NSEC3 does not validate)" has "$(dt missingroot '' tlsa)" "absence is not DNSSEC-proven: NSEC3"
check "root anchor only: dane submission unproven" has "$(sm missingroot gw1 'dane submission')" "no TLSA (unproven)"
check "tampered NSEC3: absence unproven" has "$(sm missingbogus '' tlsa)" "_587._tcp.mx1.lab.test no TLSA (unproven)"
check "tampered NSEC3: says BOGUS" has "$(dt missingbogus '' tlsa)" "absence is not DNSSEC-proven: NSEC3"
check "tampered NSEC3: names the bad signature" has "$(dt missingbogus '' tlsa)" "BOGUS: Bogus DNSSEC signature"
check "tampered NSEC3: positive TLSA answers still validate" has "$(sm missingbogus '' tlsa)" "_25._tcp.mx1.lab.test secure"
# drill agrees: the signed zone denies _587._tcp.mx1 TLSA with a chain to the anchor
d3=$(drill -S -k "$Z/anchor.key" -p "$DNS" @127.0.0.1 TLSA _587._tcp.mx1.lab.test 2>&1 || true)
check "drill -S agrees: denial of existence validates" sh -c "case '$d3' in *'Existence is denied by'*'Chase successful'*) exit 0 ;; esac; exit 1"
d4=$(drill -S -k "$Z/anchor.key" -p "$BADN" @127.0.0.1 TLSA _587._tcp.mx1.lab.test 2>&1 || true)
check "drill -S agrees: the tampered denial does not validate" sh -c "case '$d4' in *'Chase successful'*) exit 1 ;; esac; exit 0"

# Port 25 of a host given by IP, no [autodiscover]: the certificate is checked against
# the MX names (found through the lab resolver).
cat > "$LAB/mxname.ini" <<EOF
[site]
name = lab
domain = lab.test
resolver = 127.0.0.1:$DNS

[host "gw3"]
address = 127.0.0.1
roles = postfix
probe_ports = smtp:$S submission:off smtps:off
EOF
rc=0
MXDECK_PROBES=tls "$MXDECK" test "$LAB/mxname.ini" --json >"$LAB/mxname.json" \
    2>"$LAB/mxname.txt" || rc=$?
cat "$LAB/mxname.txt"
check "IP host, port 25: exit 0" eq "$rc" 0
check "IP host, port 25: name checked against the MX" has "$(sm mxname gw3 'tls smtp')" "name ok (mx1.lab.test)"

# Cross-checks: openssl's DANE verdict for the same records on the same server.
dane_s_client() {	# name rrdata port starttls? -> 0 if verified
	local extra=
	[ "$3" = "$S" ] && extra="-starttls smtp"
	# shellcheck disable=SC2086
	openssl s_client -connect "127.0.0.1:$3" $extra -dane_tlsa_domain "$1" \
	    -dane_tlsa_rrdata "$2" -verify_return_error </dev/null 2>&1 |
	    grep -q '^Verification: OK'
}
check "s_client agrees: mx1 3 1 1 on 25 verifies" dane_s_client mx1.lab.test "3 1 1 $spki" "$S"
check "s_client agrees: mx1 3 0 1 on 465 verifies" dane_s_client mx1.lab.test "3 0 1 $full" "$SS"
not() { ! "$@"; }
check "s_client agrees: mx2 record on 25 does not" not dane_s_client mx2.lab.test "3 1 1 $other" "$S"
# drill's DNSSEC verdict for mx2's TLSA in each zone
drill_ok() {	# port
	drill -S -k "$Z/anchor.key" -p "$1" @127.0.0.1 TLSA _25._tcp.mx2.lab.test 2>&1
}
d1=$(drill_ok "$DNS" || true)
d2=$(drill_ok "$BOG" || true)
check "drill -S agrees: signed zone validates" has "$d1" "Chase successful"
check "drill -S agrees: bogus zone has a bogus signature" has "$d2" "Bogus DNSSEC signature"
check "mxdeck names the same reason" has "$(dt bogus gw2 'dane smtp')" "Bogus DNSSEC signature"

checks_done
