#!/usr/bin/env bash
# dns-render.sh: the DNS renderer against real DNS tools.
#  1. every zone snippet passes named-checkzone when $INCLUDEd into a wrapper zone, and
#     ldns-read-zone reads it (flattened: ldns has no $INCLUDE);
#  2. the TLSA records equal `openssl x509 -pubkey | openssl pkey -pubin -outform DER |
#     sha256sum` of the certificate, for every tlsa port at every MX and submission host;
#  3. SRV/CNAME/MX content: autodiscover for the domain and its `also` domain, RFC 6186
#     and RFC 8314 records with `.` for what is not offered, both MX hosts;
#  4. the nsupdate script, applied to a real BIND (named on loopback, zones without the
#     records), makes each zone hold exactly the snippet's records (AXFR); applying it a
#     second time changes nothing;
#  5. TLSA requested but the certificate missing: render fails and says why;
#  6. SPF (default: the postfix hosts, `v=spf1 mx -all`), DMARC ([site] dmarc) and CAA
#     ([tls] caa) at every domain; the nsupdate script adds the SPF TXT without
#     deleting the apex's other TXT records; a malformed [site] spf is refused at its
#     line; mxdeck's spf, dmarc and caa tests pass against what the script published.
set -eu
MXDECK=${MXDECK:?}
tmp=$(mktemp -d)
named_pid=
cleanup() {
	if [ -n "$named_pid" ]; then
		kill "$named_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$named_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$named_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
ok() { echo "ok - $*"; }
die() { echo "not ok - $*"; exit 1; }

for t in named-checkzone ldns-read-zone nsupdate dig named openssl; do
	command -v "$t" >/dev/null || { echo "$t is not installed (bind9, bind9-utils, ldnsutils)"; exit 77; }
done

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj /CN=mx1.example.org -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
want_tlsa=$(openssl x509 -in "$tmp/cert.pem" -pubkey -noout |
    openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)

cat >"$tmp/site.ini" <<EOF
[site]
name = dns-lab
domain = example.org
dmarc = v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@example.org
[host "gw1"]
address = mx1.example.org
roles = postfix dns
state_dir = /var/lib/mxdeck
[host "gw2"]
address = MX2.example.org
roles = postfix apache autodiscover
[vhost "mail.example.org"]
server = apache
backend = https://exchange1.lan.example.org
services = owa autodiscover activesync
certificate = $tmp/cert.pem
key = $tmp/key.pem
[autodiscover "example.org"]
imap = imap.example.org:993/ssl
pop3 = pop.example.org:995/ssl
smtp = smtp.example.org:465/ssl
also = example.com
[tls]
dane = yes
tlsa_ports = 25 465
certificate = $tmp/cert.pem
key = $tmp/key.pem
caa = letsencrypt.org
EOF
"$MXDECK" render --host gw1 "$tmp/site.ini" "$tmp/out" 2>"$tmp/err" || die "render: $(cat "$tmp/err")"
Z=$tmp/out/gw1/var/lib/mxdeck/dns
for f in example.org.zone example.com.zone mxdeck.nsupdate; do
	[ -f "$Z/$f" ] || die "missing $Z/$f"
done
ok "rendered example.org.zone, example.com.zone, mxdeck.nsupdate"

wrapper() {	# DOMAIN -> wrapper zone head on stdout
	printf '$ORIGIN %s.\n$TTL 3600\n@ IN SOA ns1.%s. hostmaster.%s. 1 3600 900 604800 300\n' "$1" "$1" "$1"
	printf '@ IN NS ns1.%s.\nns1 IN A 192.0.2.53\n' "$1"
	# the gateway's addresses, for the spf test (the zone's owner publishes them)
	[ "$1" = example.org ] && printf 'mx1 IN A 192.0.2.1\nmx2 IN A 192.0.2.2\n'
	return 0
}
for d in example.org example.com; do
	{ wrapper "$d"; echo "\$INCLUDE $Z/$d.zone"; } >"$tmp/w-$d.zone"
	named-checkzone -i local "$d" "$tmp/w-$d.zone" >"$tmp/ncz.out" 2>&1 ||
	    die "named-checkzone $d: $(cat "$tmp/ncz.out")"
	ok "named-checkzone accepts $d with the snippet \$INCLUDEd"
	{ wrapper "$d"; cat "$Z/$d.zone"; } >"$tmp/f-$d.zone"
	ldns-read-zone "$tmp/f-$d.zone" >"$tmp/ldns-$d.out" 2>&1 ||
	    die "ldns-read-zone $d: $(cat "$tmp/ldns-$d.out")"
	ok "ldns-read-zone reads $d"
done

# Records, normalized: whitespace collapsed, lower case, comment lines dropped (a DMARC
# record holds ";").
norm() { sed -e '/^;/d' "$@" | awk 'NF { $1 = $1; print tolower($0) }' | sort; }
norm "$Z/example.org.zone" >"$tmp/org.rr"
norm "$Z/example.com.zone" >"$tmp/com.rr"
has() {	# FILE RECORD
	grep -qxF "$2" "$1" || die "$(basename "$1") lacks '$2'"
}
for p in 25 465; do
	for h in mx1.example.org mx2.example.org smtp.example.org; do
		has "$tmp/org.rr" "_$p._tcp.$h. 3600 in tlsa 3 1 1 $want_tlsa"
	done
done
[ "$(grep -c ' tlsa ' "$tmp/org.rr")" = 6 ] || die "expected exactly 6 TLSA records"
ok "TLSA 3 1 1 = sha256(SPKI) from openssl for 25 and 465 at mx1, mx2, smtp"
has "$tmp/org.rr" "example.org. 3600 in mx 10 mx1.example.org."
has "$tmp/org.rr" "example.org. 3600 in mx 20 mx2.example.org."
has "$tmp/com.rr" "example.com. 3600 in mx 10 mx1.example.org."
ok "MX: both postfix hosts, in profile order"
for d in org com; do
	f=$tmp/$d.rr
	has "$f" "_autodiscover._tcp.example.$d. 3600 in srv 0 0 443 mail.example.org."
	has "$f" "autodiscover.example.$d. 3600 in cname mail.example.org."
	has "$f" "_imaps._tcp.example.$d. 3600 in srv 0 1 993 imap.example.org."
	has "$f" "_imap._tcp.example.$d. 3600 in srv 0 0 0 ."
	has "$f" "_pop3s._tcp.example.$d. 3600 in srv 0 1 995 pop.example.org."
	has "$f" "_pop3._tcp.example.$d. 3600 in srv 0 0 0 ."
	has "$f" "_submissions._tcp.example.$d. 3600 in srv 0 1 465 smtp.example.org."
	has "$f" "_submission._tcp.example.$d. 3600 in srv 0 0 0 ."
done
for d in org com; do
	f=$tmp/$d.rr
	has "$f" "example.$d. 3600 in txt \"v=spf1 mx -all\""
	has "$f" "_dmarc.example.$d. 3600 in txt \"v=dmarc1; p=quarantine; rua=mailto:dmarc-reports@example.org\""
	has "$f" "example.$d. 3600 in caa 0 issue \"letsencrypt.org\""
	[ "$(grep -c ' in txt "v=spf1' "$f")" = 1 ] || die "example.$d: expected exactly one SPF record"
done
ok "SPF (default: the MX hosts send, -all), DMARC from [site] dmarc, CAA from [tls] caa at both domains"
grep -q ' tlsa ' "$tmp/com.rr" && die "example.com must not carry TLSA records of example.org hosts"
ok "autodiscover SRV/CNAME and RFC 6186/8314 SRV for example.org and also-domain example.com"

# nsupdate against a real BIND.
port=
while :; do
	port=$((10000 + RANDOM % 22000))	# below the ephemeral range
	ss -Hlun "sport = :$port" | grep -q . || ss -Hltn "sport = :$port" | grep -q . || break
done
mkdir -p "$tmp/named"
for d in example.org example.com; do wrapper "$d" >"$tmp/named/$d.db"; done
cat >"$tmp/named.conf" <<EOF
options {
	directory "$tmp/named";
	pid-file "$tmp/named/named.pid";
	listen-on port $port { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	allow-transfer { 127.0.0.1; };
	dnssec-validation no;
};
controls { };
zone "example.org" { type primary; file "example.org.db"; allow-update { 127.0.0.1; }; };
zone "example.com" { type primary; file "example.com.db"; allow-update { 127.0.0.1; }; };
EOF
named -c "$tmp/named.conf" -f -n 1 >"$tmp/named.log" 2>&1 &
named_pid=$!
for _ in $(seq 100); do
	dig +short +time=1 +tries=1 -p "$port" @127.0.0.1 example.org SOA 2>/dev/null | grep -q ns1 && break
	kill -0 "$named_pid" 2>/dev/null || die "named did not start: $(tail -n 5 "$tmp/named.log")"
	sleep 0.1
done
axfr() {	# DOMAIN -> normalized records other than SOA, NS and ns1's A
	dig +nosplit +noall +answer -p "$port" @127.0.0.1 "$1" AXFR |
	    awk 'NF { $1 = $1; print tolower($0) }' | grep -v -e ' in soa ' -e ' in ns ' -e '^ns1\.' \
	    -e '^mx[12]\.example\.org\. [0-9]* in a ' | sort -u
}
apply() {
	{ echo "server 127.0.0.1 $port"; cat "$Z/mxdeck.nsupdate"; } |
	    nsupdate >"$tmp/nsupdate.out" 2>&1 || die "nsupdate: $(cat "$tmp/nsupdate.out")"
}
apply
axfr example.org >"$tmp/org.axfr"
axfr example.com >"$tmp/com.axfr"
diff "$tmp/org.rr" "$tmp/org.axfr" >"$tmp/diff" || die "example.org after nsupdate differs: $(cat "$tmp/diff")"
diff "$tmp/com.rr" "$tmp/com.axfr" >"$tmp/diff" || die "example.com after nsupdate differs: $(cat "$tmp/diff")"
ok "nsupdate script applied to named: both zones hold exactly the snippet's records"
# Run it again after a stale record appeared: it converges (delete + add per name/type).
printf 'server 127.0.0.1 %s\nzone example.org.\nupdate add _25._tcp.mx1.example.org. 3600 IN TLSA 3 1 1 %s\nsend\n' \
    "$port" "$(printf '%064d' 0)" | nsupdate || die "adding a stale TLSA"
# and a TXT record at the apex that is not ours (a site verification): it must stay.
printf 'server 127.0.0.1 %s\nzone example.org.\nupdate add example.org. 3600 IN TXT "site-verification=x1"\nsend\n' \
    "$port" | nsupdate || die "adding a foreign TXT"
apply
axfr example.org >"$tmp/org.axfr2"
{ cat "$tmp/org.rr"; echo 'example.org. 3600 in txt "site-verification=x1"'; } | sort >"$tmp/org.want2"
diff "$tmp/org.want2" "$tmp/org.axfr2" >"$tmp/diff" || die "second nsupdate run differs: $(cat "$tmp/diff")"
ok "nsupdate script is idempotent, removes a stale TLSA record, keeps the apex's other TXT"

# mxdeck's own spf, dmarc and caa tests against what its nsupdate script published:
# every record passes (the default SPF covers both postfix hosts' addresses).
sed "s/^domain = example.org$/domain = example.org\nresolver = 127.0.0.1:$port/" "$tmp/site.ini" >"$tmp/probe.ini"
set +e
MXDECK_PROBES=spf,dmarc,caa "$MXDECK" test "$tmp/probe.ini" >"$tmp/probe.out" 2>&1
rc=$?
set -e
[ -s "$tmp/probe.out" ] || die "mxdeck test printed nothing"
[ "$rc" = 0 ] || die "mxdeck test spf,dmarc,caa: exit $rc: $(cat "$tmp/probe.out")"
for want in "ok +spf .*example.org: pass for 2 addresses" "ok +spf .*example.com: pass for 2 addresses" \
    "ok +dmarc .*_dmarc.example.org: p=quarantine" "ok +dmarc .*_dmarc.example.com: p=quarantine" \
    "ok +caa .*mail.example.org: CAA issuers letsencrypt.org" "ok +caa .*mx1.example.org: CAA issuers letsencrypt.org"; do
	grep -Eq "$want" "$tmp/probe.out" || die "mxdeck test lacks '$want': $(cat "$tmp/probe.out")"
done
grep -Eq '^(warn|FAIL|fail)' "$tmp/probe.out" && die "a warn or fail: $(cat "$tmp/probe.out")"
ok "mxdeck test: spf (2 domains x 2 addresses), dmarc, caa pass against the published records"

# TLSA asked for but the certificate is not there: an error that names the cause.
sed "s|^certificate = $tmp/cert.pem|certificate = $tmp/nonexistent.pem|" "$tmp/site.ini" >"$tmp/bad.ini"
set +e
"$MXDECK" render --host gw1 "$tmp/bad.ini" "$tmp/out2" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -ne 0 ] || die "render with a missing certificate succeeded"
grep -q 'nonexistent.pem' "$tmp/err" && grep -q 'TLSA' "$tmp/err" ||
    die "the error does not name the certificate and TLSA: $(cat "$tmp/err")"
ok "missing certificate with tlsa_ports: render fails (exit $rc) naming the file"

# A malformed [site] spf: refused at its line, nothing rendered.
sed 's/^domain = example.org$/domain = example.org\nspf = v=spf1 mx ip4:192.0.2.300 -all/' "$tmp/site.ini" >"$tmp/badspf.ini"
set +e
"$MXDECK" render --host gw1 "$tmp/badspf.ini" "$tmp/out3" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -ne 0 ] || die "render with a malformed [site] spf succeeded"
grep -q "badspf.ini:4: .*ip4:192.0.2.300" "$tmp/err" || die "the refusal does not name badspf.ini:4: $(cat "$tmp/err")"
[ -e "$tmp/out3/gw1/var/lib/mxdeck/dns/example.org.zone" ] && die "a zone was rendered from a malformed profile"
ok "malformed [site] spf refused at FILE:LINE (exit $rc), nothing rendered"
