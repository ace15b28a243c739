#!/usr/bin/env bash
# probe-dnspolicy.sh: the DNS checks receivers and peers make, against the lab's nsd
# (the profile's resolver; never public DNS) and a real Postfix for myhostname:
#   good profile (lab.test): SPF passes 127.0.0.1 through a:smtp.lab.test, DMARC
#     p=reject, CAA of lab.test (issue ca.lab.test) inherited by mail.lab.test,
#     1.0.0.127.in-addr.arpa PTR smtp.lab.test, which resolves back and is Postfix's
#     myhostname                                                      -> all ok
#   bad profile (lab2.test, lab3.test):
#     spf    lab2.test covers only 192.0.2.1                          -> fail NOT COVERED
#            lab3.test has no SPF record                               -> fail NO SPF
#     dmarc  lab2.test none                                            -> fail
#            lab3.test p=none                                          -> warn
#     caa    mail.lab2.test: lab2.test says issue ";"                  -> fail
#            web.lab3.test: a critical unknown property                -> fail
#     fcrdns 127.0.0.1 with a Postfix whose myhostname is wrong.lab.test -> fail
#            127.0.0.3 without PTR                                     -> fail
#            127.0.0.4 PTR ghost.lab.test, which is 127.0.0.9          -> fail
#   dnsbl  [tests] dnsbl = bl.lab.test clean.lab.test (lab zones):
#            127.0.0.1 listed in bl.lab.test (127.0.0.2 + TXT)          -> fail
#            127.0.0.3 in neither                                      -> ok
#            127.0.0.4 answered 127.255.255.254 (a list's refusal)     -> warn
#          the good profile names no list: no dnsbl probe at all
#          a zone that is not a DNS name is a lint error at its line
# The records are cross-checked with drill against the same server.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MXDECK=${MXDECK:-$ROOT/build/mxdeck}
. "$ROOT/tests/lab/probe-lab.sh"
. "$ROOT/tests/lab/checks.sh"
lab_need ss nsd drill postfix postconf /usr/bin/python3
lab_init
trap lab_cleanup EXIT
lab_ca

DNS=$(lab_port)
cat > "$LAB/lab.test.zone" <<'EOF'
$ORIGIN lab.test.
$TTL 300
@ IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
@ IN NS ns.lab.test.
ns IN A 127.0.0.1
@ IN TXT "v=spf1 a:smtp.lab.test include:_spf.lab.test -all"
_spf IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@lab.test"
@ IN CAA 0 issue "ca.lab.test"
@ IN CAA 0 iodef "mailto:caa@lab.test"
smtp IN A 127.0.0.1
mail IN A 127.0.0.1
ghost IN A 127.0.0.9
EOF
cat > "$LAB/lab2.test.zone" <<'EOF'
$ORIGIN lab2.test.
$TTL 300
@ IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
@ IN NS ns.lab.test.
@ IN TXT "v=spf1 ip4:192.0.2.1 -all"
@ IN CAA 0 issue ";"
mail IN A 127.0.0.1
EOF
cat > "$LAB/lab3.test.zone" <<'EOF'
$ORIGIN lab3.test.
$TTL 300
@ IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
@ IN NS ns.lab.test.
@ IN TXT "some-site-verification=abc"
_dmarc IN TXT "v=DMARC1; p=none"
web IN CAA 128 tbs "unknown"
web IN A 127.0.0.1
EOF
cat > "$LAB/rev.zone" <<'EOF'
$ORIGIN 127.in-addr.arpa.
$TTL 300
@ IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
@ IN NS ns.lab.test.
1.0.0 IN PTR smtp.lab.test.
4.0.0 IN PTR ghost.lab.test.
EOF
cat > "$LAB/bl.zone" <<'EOF'
$ORIGIN bl.lab.test.
$TTL 300
@ IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
@ IN NS ns.lab.test.
1.0.0.127 IN A 127.0.0.2
1.0.0.127 IN TXT "listed by the mxdeck lab"
4.0.0.127 IN A 127.255.255.254
EOF
cat > "$LAB/clean.zone" <<'EOF'
$ORIGIN clean.lab.test.
$TTL 300
@ IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
@ IN NS ns.lab.test.
EOF
lab_nsd policy "$DNS" lab.test "$LAB/lab.test.zone" lab2.test "$LAB/lab2.test.zone" \
    lab3.test "$LAB/lab3.test.zone" 127.in-addr.arpa "$LAB/rev.zone" \
    bl.lab.test "$LAB/bl.zone" clean.lab.test "$LAB/clean.zone"
S=$(lab_port); SUB=$(lab_port); SS=$(lab_port)
lab_postfix good "$S" "$SUB" "$SS"
WS=$(lab_port); WSUB=$(lab_port); WSS=$(lab_port)
lab_postfix wrong "$WS" "$WSUB" "$WSS" "myhostname = wrong.lab.test"
echo "lab: nsd $DNS, postfix good $S wrong $WS"

cat > "$LAB/good.ini" <<EOF
[site]
name = lab
domain = lab.test
resolver = 127.0.0.1:$DNS

[host "gw"]
address = 127.0.0.1
roles = postfix
probe_ports = smtp:$S submission:off smtps:off

[host "web"]
address = 127.0.0.1
roles = nginx
probe_ports = https:off

[vhost "mail.lab.test"]
server = nginx
backend = https://127.0.0.1:9
services = owa
certificate = $LAB/pki/good.pem
key = $LAB/pki/good.key
EOF
cat > "$LAB/bad.ini" <<EOF
[site]
name = lab
domain = lab2.test
resolver = 127.0.0.1:$DNS

[host "wrongname"]
address = 127.0.0.1
roles = postfix
probe_ports = smtp:$WS submission:off smtps:off

[host "noptr"]
address = 127.0.0.3
roles = postfix
probe_ports = smtp:off submission:off smtps:off

[host "ghost"]
address = 127.0.0.4
roles = postfix
probe_ports = smtp:off submission:off smtps:off

[host "web"]
address = 127.0.0.1
roles = nginx
probe_ports = https:off

[vhost "mail.lab2.test"]
server = nginx
backend = https://127.0.0.1:9
services = owa
certificate = $LAB/pki/good.pem
key = $LAB/pki/good.key

[vhost "web.lab3.test"]
server = nginx
backend = https://127.0.0.1:9
services = owa
certificate = $LAB/pki/good.pem
key = $LAB/pki/good.key

[tests]
probes = spf dmarc caa fcrdns dnsbl
dnsbl = bl.lab.test clean.lab.test

[autodiscover "lab3.test"]
imap = mail.lab2.test:993/ssl
smtp = mail.lab2.test:587/starttls
EOF

run() {	# profile [MXDECK_PROBES] -> $LAB/NAME.json, exit status echoed
	local rc=0
	MXDECK_PROBES=${2:-} MXDECK_PROBE_TIMEOUT=8 "$MXDECK" test \
	    "$LAB/$1.ini" --json >"$LAB/$1.json" 2>"$LAB/$1.txt" || rc=$?
	cat "$LAB/$1.txt" >&2
	echo "$rc"
}
tg() {	# json target-or-host name field
	/usr/bin/python3 - "$LAB/$1.json" "$2" "$3" "$4" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
print(next((r[sys.argv[4]] for r in doc["results"]
            if r["name"] == sys.argv[3] and sys.argv[2] in (r["target"], r["host"])),
           "MISSING"))
PY
}
check "good: exit 0" eq "$(run good spf,dmarc,caa,fcrdns,dnsbl)" 0
check "good: results" captured "$LAB/good.json" '"kind":"spf"'
check "good: spf ok" eq "$(tg good lab.test spf status)" ok
check "good: spf passes 127.0.0.1" eq "$(tg good lab.test spf summary)" "pass for 1 address"
check "good: spf says which term matched" has "$(tg good lab.test spf details)" \
    "lab.test: +a:smtp.lab.test matches"
check "good: dmarc p=reject" eq "$(tg good _dmarc.lab.test dmarc summary)" "p=reject"
check "good: caa inherited from lab.test" eq "$(tg good mail.lab.test caa summary)" \
    "CAA issuers ca.lab.test"
check "good: fcrdns ok" eq "$(tg good gw fcrdns status)" ok
check "good: fcrdns = myhostname" eq "$(tg good gw fcrdns summary)" \
    "FCrDNS smtp.lab.test = myhostname"

# bad.ini chooses its kinds with [tests] probes, no MXDECK_PROBES
check "bad: exit 1" eq "$(run bad)" 1
check "bad: [tests] probes: no tls probe ran" lacks "$LAB/bad.json" '"kind":"tls"' '"kind":"spf"'
sed 's/^probes = .*/probes = spf tsl/' "$LAB/bad.ini" > "$LAB/badkind.ini"
check "bad: an unknown kind in [tests] probes is a usage error" eq "$(run badkind)" 2
check "bad: the error names the profile, the key and the known kinds" has \
    "$(cat "$LAB/badkind.txt")" "badkind.ini: [tests] probes: unknown probe kind \"tsl\" (dns tls"
check "bad: results" captured "$LAB/bad.json" '"kind":"fcrdns"'
check "bad: lab2.test spf fails" eq "$(tg bad lab2.test spf status)" fail
check "bad: lab2.test does not cover 127.0.0.1" has "$(tg bad lab2.test spf summary)" \
    "127.0.0.1 NOT COVERED"
check "bad: lab3.test has no SPF" has "$(tg bad lab3.test spf summary)" "NO SPF RECORD"
check "bad: lab2.test no DMARC" eq "$(tg bad _dmarc.lab2.test dmarc summary)" "NO DMARC RECORD"
check "bad: lab2.test dmarc fails" eq "$(tg bad _dmarc.lab2.test dmarc status)" fail
check "bad: lab3.test p=none warns" eq "$(tg bad _dmarc.lab3.test dmarc status)" warn
check "bad: mail.lab2.test caa fails" eq "$(tg bad mail.lab2.test caa status)" fail
check "bad: issue \";\" forbids every CA" eq "$(tg bad mail.lab2.test caa summary)" \
    "CAA FORBIDS EVERY CA"
check "bad: web.lab3.test critical property" eq "$(tg bad web.lab3.test caa summary)" \
    "CAA BLOCKS ISSUANCE (critical tbs)"
check "bad: wrong myhostname fails" eq "$(tg bad wrongname fcrdns summary)" \
    "MYHOSTNAME wrong.lab.test != PTR smtp.lab.test"
check "bad: no PTR fails" eq "$(tg bad noptr fcrdns summary)" "NO PTR for 127.0.0.3"
check "bad: PTR not confirmed fails" eq "$(tg bad ghost fcrdns summary)" \
    "NO FCrDNS (127.0.0.4 -> ghost.lab.test)"

check "bad: 127.0.0.1 listed" eq "$(tg bad wrongname dnsbl summary)" \
    "127.0.0.1 LISTED in bl.lab.test"
check "bad: listed fails" eq "$(tg bad wrongname dnsbl status)" fail
check "bad: the list's reason" has "$(tg bad wrongname dnsbl details)" "listed by the mxdeck lab"
check "bad: 127.0.0.3 not listed" eq "$(tg bad noptr dnsbl summary)" "not listed in 2 lists"
check "bad: 127.0.0.3 ok" eq "$(tg bad noptr dnsbl status)" ok
check "bad: 127.0.0.4 refused warns" eq "$(tg bad ghost dnsbl status)" warn
check "good: no dnsbl probe without a list" lacks "$LAB/good.json" '"kind":"dnsbl"' '"kind":"spf"'
sed 's/^dnsbl = .*/dnsbl = bl.lab.test bad_zone!/' "$LAB/bad.ini" > "$LAB/badzone.ini"
rc=0
"$MXDECK" lint "$LAB/badzone.ini" >"$LAB/lint.txt" 2>&1 || rc=$?
check "lint: a bad zone is an error (exit 2)" eq "$rc" 2
check "lint: names the zone at its line" has "$(cat "$LAB/lint.txt")" \
    "badzone.ini:$(grep -n '^dnsbl' "$LAB/badzone.ini" | cut -d: -f1): error: [tests] dnsbl \"bad_zone!\""

# The same records through drill, against the same server.
dr() { drill -p "$DNS" @127.0.0.1 "$@" 2>/dev/null | awk '/ANSWER SECTION/ {a=1; next} /^$/ {a=0} a'; }
check "drill: PTR of 127.0.0.1" has "$(dr -x 127.0.0.1)" "smtp.lab.test."
check "drill: no PTR for 127.0.0.3" eq "$(dr -x 127.0.0.3)" ""
check "drill: lab2.test CAA" has "$(dr lab2.test CAA)" 'issue ";"'
check "drill: lab2.test SPF" has "$(dr lab2.test TXT)" "v=spf1 ip4:192.0.2.1 -all"

checks_done
