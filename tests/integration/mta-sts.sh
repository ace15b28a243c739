#!/usr/bin/env bash
# mta-sts.sh: MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) end to end. For each case a
# profile with [mta-sts] is rendered (nginx + dns roles); a real nginx serves the
# rendered policy site, an nsd serves the rendered TXT records ($INCLUDEd into the zone
# the way an admin would) plus the MX records; the policy is fetched by mxdeck's probe
# (kind mtasts) and by curl with a strict parser of its own here. Cases:
#   good     everything as rendered                               -> ok, curl agrees
#   ctype    the site answers application/octet-stream            -> fail (Content-Type)
#   redir    the site answers 301 to another URL                  -> fail (redirect)
#   mx       the zone has an MX the policy does not cover         -> fail (names the MX)
#   stale    the TXT id is not the id of the policy served        -> fail (stale)
#   expired  the policy site's certificate has expired            -> fail (certificate)
#   apache   the good case rendered for Apache (its own port)      -> ok
#   mxcert   the MX's certificate (STARTTLS on its smtp port) does not cover its name -> fail
#   rpt      rua set but the _smtp._tls record published is another -> fail (TLS-RPT)
# plus the render refusals (an MX the patterns miss, enforce with a certificate that
# does not cover the MX names, a bad rua, a bad pattern) at the [mta-sts] line.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MXDECK=${MXDECK:-$ROOT/build/mxdeck}
. "$ROOT/tests/lab/web-lab.sh"
. "$ROOT/tests/lab/checks.sh"
lab_need openssl ss nsd nginx apache2 curl /usr/bin/python3
lab_init
T=$LAB
trap web_cleanup EXIT

lab_ca
K=$LAB/pki
W=$(lab_port); DNS=$(lab_port); AP=$(lab_port)
S=$(lab_port); SUB=$(lab_port); SS=$(lab_port)
cases="good ctype redir mx stale expired mxcert rpt"
san=""
for c in $cases; do
	san="$san${san:+,}DNS:mta-sts.$c.test"
	[ "$c" = mxcert ] || san="$san,DNS:mx1.$c.test"
done
lab_pki_leaf sts 30 "mta-sts.good.test" "$san"
lab_pki_leaf stsold -1 "mta-sts.expired.test" "DNS:mta-sts.expired.test"
chmod 644 "$K"/*

profile() {	# case [extra [mta-sts] lines]
	cat <<EOF
[site]
name = sts-$1
domain = $1.test
resolver = 127.0.0.1:$DNS

[host "web"]
address = 127.0.0.1
roles = nginx dns
www_dir = $LAB/www-$1
nginx_dir = $LAB/nginx-$1
state_dir = $LAB/state-$1
probe_ports = https:$W smtp:$S

[tls]
tlsa_ports =

[tests]
ca = $K/ca.pem

[mta-sts]
mode = enforce
max_age = 604800
mx = mx1.$1.test *.mail.$1.test
certificate = $K/$([ "$1" = expired ] && echo stsold || echo sts).pem
key = $K/$([ "$1" = expired ] && echo stsold || echo sts).key
${2:-}
EOF
}

: > "$LAB/sites"
for c in $cases; do
	extra=""
	[ "$c" = rpt ] && extra="rua = mailto:tlsrpt@rpt.test https://rpt.test/report"
	profile "$c" "$extra" > "$LAB/$c.ini"
	"$MXDECK" render "$LAB/$c.ini" "$LAB/out-$c" >/dev/null 2>"$LAB/render-$c.err" ||
	    { cat "$LAB/render-$c.err"; exit 1; }
	mkdir -p "$LAB/www-$c"
	cp -r "$LAB/out-$c/web$LAB/www-$c/." "$LAB/www-$c/"
	chmod -R a+rX "$LAB/www-$c"
	sed -e '/listen \[::\]/d' -e "s/listen $W ssl;/listen 127.0.0.1:$W ssl;/" \
	    "$LAB/out-$c/web$LAB/nginx-$c/sites-available/mxdeck_mta-sts" > "$LAB/site-$c.conf"
	echo "$LAB/site-$c.conf" >> "$LAB/sites"
	zone=$LAB/out-$c/web$LAB/state-$c/dns/$c.test.mta-sts.zone
	cat > "$LAB/$c.zone" <<EOF
\$ORIGIN $c.test.
\$TTL 300
@ IN SOA ns.$c.test. hostmaster.$c.test. 1 3600 600 86400 300
@ IN NS ns.$c.test.
ns IN A 127.0.0.1
@ IN MX 10 mx1.$c.test.
mx1 IN A 127.0.0.1
mta-sts IN A 127.0.0.1
EOF
	# the rendered records, without the CNAME (the lab's web host has no DNS name)
	grep -v CNAME "$zone" >> "$LAB/$c.zone"
done

check "rendered policy: exact RFC 8461 text, CRLF" eq \
    "$(tr '\r' '~' < "$LAB/www-good/mta-sts/.well-known/mta-sts.txt" | tr '\n' '|')" \
    "version: STSv1~|mode: enforce~|mx: mx1.good.test~|mx: *.mail.good.test~|max_age: 604800~|"
check "rendered TXT: v=STSv1 with a 20-digit id" grep -qE \
    '^_mta-sts\.good\.test\. 3600 IN TXT "v=STSv1; id=[0-9a-f]{20}"$' \
    "$LAB/out-good/web$LAB/state-good/dns/good.test.mta-sts.zone"
check "rendered TLS-RPT record when rua is set" grep -qF \
    '_smtp._tls.rpt.test. 3600 IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@rpt.test,https://rpt.test/report"' \
    "$LAB/out-rpt/web$LAB/state-rpt/dns/rpt.test.mta-sts.zone"
id_good=$(sed -n 's/.*id=\([0-9a-f]*\)".*/\1/p' "$LAB/out-good/web$LAB/state-good/dns/good.test.mta-sts.zone")
sha=$(sha256sum < "$LAB/www-good/mta-sts/.well-known/mta-sts.txt" | cut -c1-20)
check "the id is the digest of the policy text" eq "$id_good" "$sha"

# The same policy site rendered for Apache, served by a private apache2 on AP.
sed -e "s/^roles = nginx dns/roles = apache dns/" -e "s|^nginx_dir = .*|apache_dir = $LAB/apache|" \
    -e "s/^probe_ports = https:$W/probe_ports = https:$AP/" -e "s/^name = sts-good/name = sts-apache/" \
    "$LAB/good.ini" > "$LAB/apache.ini"
"$MXDECK" render "$LAB/apache.ini" "$LAB/out-apache" >/dev/null 2>"$LAB/render-apache.err" ||
    { cat "$LAB/render-apache.err"; exit 1; }
check "apache: the rendered policy is byte-identical to nginx's" cmp \
    "$LAB/out-apache/web$LAB/www-good/mta-sts/.well-known/mta-sts.txt" \
    "$LAB/www-good/mta-sts/.well-known/mta-sts.txt"
mkdir -p "$LAB/apsrv"
{
	apache_conf "$LAB/apsrv" warn "$AP" mpm_event authz_core mime alias socache_shmcb ssl
	sed "s/<VirtualHost \*:$AP>/<VirtualHost 127.0.0.1:$AP>/" \
	    "$LAB/out-apache/web$LAB/apache/sites-available/mxdeck_mta-sts.conf"
} > "$LAB/apsrv/apache2.conf"
WEB_PIDFILES=("$LAB/apsrv/apache.pid")
check "apache: apache2 -t accepts the rendered site" apache2 -d "$LAB/apsrv" -f "$LAB/apsrv/apache2.conf" -t
apache2 -d "$LAB/apsrv" -f "$LAB/apsrv/apache2.conf" -k start
web_wait "$LAB/apsrv/apache.pid" "$AP"

# The broken cases.
sed -i 's/default_type text\/plain;/default_type application\/octet-stream;/' "$LAB/site-ctype.conf"
sed -i 's|try_files \$uri =404;|return 301 https://www.redir.test/.well-known/mta-sts.txt;|' "$LAB/site-redir.conf"
echo "@ IN MX 20 mx9.other.test." >> "$LAB/mx.zone"
sed -i 's/id=[0-9a-f]*"/id=20260101000000"/' "$LAB/stale.zone"
sed -i 's/rua=mailto:tlsrpt@rpt.test,https:\/\/rpt.test\/report/rua=mailto:old@rpt.test/' "$LAB/rpt.zone"

args=()
for c in $cases; do
	args+=("$c.test" "$LAB/$c.zone")
done
lab_nsd sts "$DNS" "${args[@]}"
mapfile -t sites < "$LAB/sites"
lab_nginx "${sites[@]}"
# every MX name resolves to 127.0.0.1, where this Postfix answers on the smtp probe port
lab_postfix sts "$S" "$SUB" "$SS" "smtpd_tls_cert_file = $K/sts.pem" "smtpd_tls_key_file = $K/sts.key"
lab_wait_port "$W"

run() {	# case
	local rc=0
	MXDECK_PROBES=mtasts MXDECK_PROBE_TIMEOUT=10 "$MXDECK" test "$LAB/$1.ini" --json \
	    >"$LAB/$1.json" 2>"$LAB/$1.txt" || rc=$?
	echo "$rc" > "$LAB/$1.rc"
}
res() {	# case field
	lab_json_target "$LAB/$1.json" "https://mta-sts.$1.test/.well-known/mta-sts.txt" "$2"
}
for c in $cases; do
	run "$c"
done
cat "$LAB/good.txt"
rc=0
MXDECK_PROBES=mtasts MXDECK_PROBE_TIMEOUT=10 "$MXDECK" test "$LAB/apache.ini" --json \
    >"$LAB/apache.json" 2>"$LAB/apache.txt" || rc=$?
check "apache: ok, exit 0" eq "$(/usr/bin/python3 -c 'import json,sys; print(" ".join(r["status"] for r in json.load(open(sys.argv[1]))["results"]))' "$LAB/apache.json") $rc" "ok 0"
ctap=$(curl -sS --max-redirs 0 --cacert "$K/ca.pem" -o /dev/null -w '%{content_type} %{http_code}' \
    --connect-to "mta-sts.good.test:443:127.0.0.1:$AP" https://mta-sts.good.test/.well-known/mta-sts.txt)
check "apache: curl gets 200 text/plain" eq "$ctap" "text/plain 200"
other=$(curl -sS --cacert "$K/ca.pem" -o /dev/null -w '%{http_code}' \
    --connect-to "mta-sts.good.test:443:127.0.0.1:$AP" https://mta-sts.good.test/index.html)
check "apache: nothing else is served" eq "$other" 403
check "good: captured a result" captured "$LAB/good.json" '"mtasts"'
check "good: ok, exit 0" eq "$(res good status) $(cat "$LAB/good.rc")" "ok 0"
check "good: TXT id read" has "$(res good details)" "_mta-sts.good.test TXT: id=$id_good"
check "good: MX covered" has "$(res good details)" "MX mx1.good.test matches the policy"

# An independent client: curl (no redirects followed) and a strict parser here.
body=$LAB/curl-good.txt
ct=$(curl -sS --max-redirs 0 --cacert "$K/ca.pem" -o "$body" -w '%{content_type} %{http_code}' \
    --connect-to "mta-sts.good.test:443:127.0.0.1:$W" https://mta-sts.good.test/.well-known/mta-sts.txt)
check "curl: 200 text/plain" eq "$ct" "text/plain 200"
check "curl: the policy parses strictly" eq "$(/usr/bin/python3 - "$body" <<'PY'
import re, sys
t = open(sys.argv[1], "rb").read().decode("ascii")
lines = t.split("\r\n")
assert lines[-1] == "", "no CRLF at the end"
kv = [l.split(": ", 1) for l in lines[:-1]]
assert all(len(x) == 2 for x in kv), "not key: value"
assert kv[0] == ["version", "STSv1"], "version first"
d = {}
for k, v in kv:
    d.setdefault(k, []).append(v)
assert d["mode"] in (["enforce"], ["testing"], ["none"])
assert re.fullmatch(r"[0-9]{1,10}", d["max_age"][0]) and int(d["max_age"][0]) <= 31557600
for m in d["mx"]:
    assert re.fullmatch(r"(\*\.)?([a-z0-9-]+\.)+[a-z0-9-]+", m), m
print("strict ok")
PY
)" "strict ok"
redir=$(curl -sS --max-redirs 0 --cacert "$K/ca.pem" -o /dev/null -w '%{http_code}' \
    --connect-to "mta-sts.redir.test:443:127.0.0.1:$W" https://mta-sts.redir.test/.well-known/mta-sts.txt || true)
check "curl sees the redirect case answer 301" eq "$redir" 301

check "ctype: fail" eq "$(res ctype status) $(cat "$LAB/ctype.rc")" "fail 1"
check "ctype: says Content-Type" has "$(res ctype details)" "Content-Type is not text/plain"
check "redir: fail" eq "$(res redir status)" fail
check "redir: says redirect" has "$(res redir details)" "HTTP 301 redirect to https://www.redir.test/.well-known/mta-sts.txt: senders do not follow"
check "mx: fail" eq "$(res mx status)" fail
check "mx: names the uncovered MX" has "$(res mx details)" "MX mx9.other.test matches no mx pattern"
check "mx: the covered MX still ok" has "$(res mx details)" "MX mx1.mx.test matches the policy"
check "stale: fail" eq "$(res stale status)" fail
check "stale: says stale" has "$(res stale details)" "TXT id=20260101000000 is not the id of the policy served"
check "expired: fail" eq "$(res expired status)" fail
check "expired: the certificate" has "$(res expired details)" "certificate has expired"
check "good: the MX certificate verified after STARTTLS" has "$(res good details)" "MX mx1.good.test: STARTTLS, certificate valid for the name"
check "mxcert: fail" eq "$(res mxcert status)" fail
check "mxcert: the MX certificate does not cover the name" has "$(res mxcert details)" "MX mx1.mxcert.test: port $S: the certificate does not verify for mx1.mxcert.test: hostname mismatch"
check "rpt: fail" eq "$(res rpt status)" fail
check "rpt: the TLS-RPT record differs" has "$(res rpt details)" 'the profile says rua=mailto:tlsrpt@rpt.test,https://rpt.test/report'
check "rpt: the policy itself ok" has "$(res rpt details)" "policy: mode enforce"

# Render refusals, each at the [mta-sts] line of the profile.
refuse() {	# tag ini-text want
	local rc=0
	printf '%s\n' "$2" > "$LAB/refuse-$1.ini"
	"$MXDECK" render "$LAB/refuse-$1.ini" "$LAB/refuse-out-$1" >/dev/null 2>"$LAB/refuse-$1.err" || rc=$?
	check "refused: $1 (exit $rc)" eq "$rc" 2
	check "refused: $1 says why, at the line" has "$(cat "$LAB/refuse-$1.err")" "$3"
}
base="[site]
name = r
domain = r.test
[host \"mx\"]
address = mx1.r.test
roles = postfix dns
[tls]
tlsa_ports ="
refuse uncovered "$base
[mta-sts]
mx = *.other.test" "refuse-uncovered.ini:9: [mta-sts] mx patterns do not cover the MX name mx1.r.test"
refuse pattern "$base
[mta-sts]
mx = mx1.r.test *bad*.r.test" "refuse-pattern.ini:9: [mta-sts] mx '*bad*.r.test' is not a host name or *.name pattern"
refuse rua "$base
[mta-sts]
rua = tlsrpt@r.test" "refuse-rua.ini:9: [mta-sts] rua 'tlsrpt@r.test' must be a mailto:ADDRESS or https:// URI"
refuse enforce-cert "$base
certificate = $K/wrong.pem
key = $K/wrong.key
[mta-sts]
mode = enforce" "refuse-enforce-cert.ini:11: [mta-sts] mode enforce, but [tls] certificate $K/wrong.pem is not valid for the MX name mx1.r.test"
printf '%s\n' "$base" "[mta-sts]" "mode = sometimes" > "$LAB/mode.ini"
"$MXDECK" lint "$LAB/mode.ini" >"$LAB/mode.out" 2>&1 || true
check "mode: three values named" has "$(cat "$LAB/mode.out")" "mode must be enforce, testing or none, not 'sometimes'"

checks_done
