#!/usr/bin/env bash
# probe-http.sh: the HTTP probes against nginx + php-fpm on loopback serving the
# Autodiscover responder and nginx site that `mxdeck render` writes. Names resolve
# through the profile's resolver (an nsd on loopback); libcurl connects where ldns said.
#   port A: the responder rendered with login = email      -> autodiscover ok
#   port B: the responder rendered with login = localpart   -> probed with a profile that
#           says login = email: LoginName is wrong          -> autodiscover fail
# plus a stand-in for Exchange behind the proxy (ActiveSync OPTIONS with
# MS-ASProtocolVersions, OWA redirect), and a name that does not resolve.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MXDECK=${MXDECK:-$ROOT/build/mxdeck}
. "$ROOT/tests/lab/probe-lab.sh"
. "$ROOT/tests/lab/checks.sh"
lab_need openssl ss nsd nginx php-fpm8.2 /usr/bin/python3
lab_init
trap lab_cleanup EXIT

lab_ca
K=$LAB/pki
A=$(lab_port); B=$(lab_port); DNS=$(lab_port)
# plain-http ports standing in for port 80: the rendered redirect servers of A and B,
# and a hand-written server with bad redirects
HA=$(lab_port); HB=$(lab_port); HX=$(lab_port)

cat > "$LAB/lab.test.zone" <<EOF
\$ORIGIN lab.test.
\$TTL 300
@ IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
@ IN NS ns.lab.test.
ns IN A 127.0.0.1
@ IN A 127.0.0.1
mail IN A 127.0.0.1
autodiscover IN CNAME mail.lab.test.
uncovered IN A 127.0.0.1
EOF
# The also domain: no address of its own (Outlook's first step is not served), an
# autodiscover name the certificate covers, and the SRV record of Outlook's last step
# (port 443: the profile host's https probe port).
cat > "$LAB/lab2.test.zone" <<EOF
\$ORIGIN lab2.test.
\$TTL 300
@ IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
@ IN NS ns.lab.test.
autodiscover IN CNAME mail.lab.test.
_autodiscover._tcp IN SRV 0 0 443 autodiscover.lab.test.
EOF
lab_nsd http "$DNS" lab.test "$LAB/lab.test.zone" lab2.test "$LAB/lab2.test.zone"

# The profile both the renderer and the probes read; $1 = login, $2 = port, $3 = tag.
profile() {
	cat <<EOF
[site]
name = lab
domain = lab.test
resolver = 127.0.0.1:$DNS

[host "web"]
address = 127.0.0.1
roles = nginx autodiscover
www_dir = $LAB/www-$3
nginx_dir = $LAB/nginx-$3
php_fpm_socket = $LAB/php.sock
probe_ports = https:$2

[vhost "mail.lab.test"]
server = nginx
backend = https://127.0.0.1:9
services = owa activesync
certificate = $K/good.pem
key = $K/good.key

[autodiscover "lab.test"]
imap = imap.lab.test:993/ssl
pop3 = pop.lab.test:995/ssl
smtp = smtp.lab.test:587/starttls
activesync = https://mail.lab.test/Microsoft-Server-ActiveSync
login = $1
also = lab2.test

[tls]
certificate = $K/good.pem
key = $K/good.key

[users]
default = imap pop3 smtp activesync

[user "alice@lab.test"]
imap = on
EOF
}
render() {	# login port tag http-port
	profile "$1" "$2" "$3" > "$LAB/render-$3.ini"
	"$MXDECK" render "$LAB/render-$3.ini" "$LAB/out-$3" >/dev/null 2>"$LAB/render-$3.err" ||
	    { cat "$LAB/render-$3.err"; return 1; }
	cp -r "$LAB/out-$3/web$LAB/www-$3" "$LAB/www-$3"
	chmod -R a+rX "$LAB/www-$3"
	# The rendered site, bound to loopback only (port 80 moved to a lab port, no
	# IPv6).
	sed -e '/listen \[::\]/d' -e "s/listen 80;/listen 127.0.0.1:$4;/" \
	    -e "s/listen $2 ssl;/listen 127.0.0.1:$2 ssl;/" \
	    "$LAB/out-$3/web$LAB/nginx-$3/sites-available/mxdeck_autodiscover" |
	    awk '/^server \{/ { buf = $0; keep = 0; next }
		buf != "" { buf = buf "\n" $0; if ($0 ~ /listen/) keep = 1;
		    if ($0 ~ /^\}/) { if (keep) print buf; buf = "" } next }
		{ print }' > "$LAB/site-$3.conf"
}
render email "$A" a "$HA"
render localpart "$B" b "$HB"
check "rendered site redirects plain http for the also domain" grep -q 'server_name.*autodiscover.lab2.test' "$LAB/site-a.conf"
check "rendered responder present" test -s "$LAB/www-a/autodiscover/autodiscover.php"
check "rendered site uses a case-insensitive location" grep -q '~\*' "$LAB/site-a.conf"

# Exchange behind the proxy, as far as the probes see it.
cat > "$LAB/exchange.conf" <<EOF
server {
	listen 127.0.0.1:$A ssl;
	server_name mail.lab.test;
	ssl_certificate $K/good.pem;
	ssl_certificate_key $K/good.key;
	location /Microsoft-Server-ActiveSync {
		if (\$request_method = OPTIONS) {
			add_header MS-ASProtocolVersions "2.5,12.0,12.1,14.0,14.1,16.0,16.1" always;
			return 200;
		}
		return 401;
	}
	location /owa/ {
		return 302 /owa/auth/logon.aspx;
	}
}
EOF
# Bad redirects: to a name the certificate does not cover, and to plain http.
cat > "$LAB/badredirect.conf" <<EOF
server {
	listen 127.0.0.1:$HX;
	server_name autodiscover.lab.test;
	location / {
		return 302 https://uncovered.lab.test:$A/Autodiscover/Autodiscover.xml;
	}
}
server {
	listen 127.0.0.1:$HX;
	server_name autodiscover.lab2.test;
	location / {
		return 302 http://autodiscover.lab.test:$HA/autodiscover/autodiscover.xml;
	}
}
EOF
lab_phpfpm
lab_nginx "$LAB/site-a.conf" "$LAB/site-b.conf" "$LAB/exchange.conf" \
    "$LAB/badredirect.conf"
lab_wait_port "$A"
lab_wait_port "$B"
lab_wait_port "$HA"
lab_wait_port "$HB"
lab_wait_port "$HX"

export SSL_CERT_FILE=$K/ca.pem
profile email "$A" a > "$LAB/right.ini"
profile email "$B" b > "$LAB/wrong.ini"
run() {	# ini tag [http-port]
	local rc=0
	MXDECK_PROBE_HTTP_PORT=${3:-$HA} MXDECK_PROBES=http MXDECK_PROBE_TIMEOUT=10 \
	    "$MXDECK" test "$1" --json \
	    >"$LAB/$2.json" 2>"$LAB/$2.txt" || rc=$?
	cat "$LAB/$2.txt"
	echo "$rc" > "$LAB/$2.rc"
}
run "$LAB/right.ini" right
run "$LAB/wrong.ini" wrong "$HB"
run "$LAB/right.ini" badredir "$HX"

res() {	# tag target field
	lab_json_target "$LAB/$1.json" "$2" "$3"
}
U1=https://lab.test/autodiscover/autodiscover.xml
U2=https://autodiscover.lab.test/autodiscover/autodiscover.xml
check "right responder: exit 0" eq "$(cat "$LAB/right.rc")" 0
check "https://lab.test/...: ok" eq "$(res right $U1 status)" ok
check "https://autodiscover.lab.test/...: ok" eq "$(res right $U2 status)" ok
check "6 requests (3 path cases x 2 schemas)" has "$(res right $U2 summary)" "6 requests, every answer right"
check "mobilesync schema checked" has "$(res right $U2 details)" "(mobilesync, alice@lab.test): answer matches"
check "AutoDiscover/AutoDiscover.xml case checked" has "$(res right $U2 details)" "POST https://autodiscover.lab.test/AutoDiscover/AutoDiscover.xml (outlook"
check "connected where the lab DNS said" has "$(res right $U2 details)" "autodiscover.lab.test:443:127.0.0.1:$A"
check "activesync OPTIONS: ok" eq "$(res right https://mail.lab.test/Microsoft-Server-ActiveSync status)" ok
check "activesync: protocol versions" has "$(res right https://mail.lab.test/Microsoft-Server-ActiveSync summary)" "16.1"
check "owa: ok" eq "$(res right https://mail.lab.test/owa/ status)" ok

# Outlook's order for the also domain, with an address in it.
V1=https://lab2.test/autodiscover/autodiscover.xml
V2=https://autodiscover.lab2.test/autodiscover/autodiscover.xml
R1=http://autodiscover.lab.test/autodiscover/autodiscover.xml
R2=http://autodiscover.lab2.test/autodiscover/autodiscover.xml
S1="_autodiscover._tcp.lab.test SRV"
S2="_autodiscover._tcp.lab2.test SRV"
check "also https://lab2.test/...: not served, ok (Outlook goes on)" eq "$(res right $V1 status) $(res right $V1 summary)" "ok not served (no such name; Outlook goes on to the next step)"
check "also https://autodiscover.lab2.test/...: ok" eq "$(res right $V2 status)" ok
check "also: posted an address in lab2.test" has "$(res right $V2 summary)" "every answer right (mxdeck.probe@lab2.test)"
check "also: LoginName checked for that address" has "$(res right $V2 details)" "(mobilesync, mxdeck.probe@lab2.test): answer matches the profile, LoginName ok"
check "redirect lab.test: ok" eq "$(res right $R1 status)" ok
check "redirect lab.test: 302 to the https responder" has "$(res right $R1 summary)" "302 -> https://autodiscover.lab.test:$A/Autodiscover/Autodiscover.xml, answers right"
check "redirect lab2.test: ok, followed with the lab2 address" has "$(res right $R2 status) $(res right $R2 summary)" "ok 302 -> https://autodiscover.lab.test:$A/Autodiscover/Autodiscover.xml, answers right (mxdeck.probe@lab2.test)"
check "SRV lab.test: none, step not used" eq "$(res right "$S1" status) $(res right "$S1" summary)" "ok no SRV record (step not used)"
check "SRV lab2.test: target answers right" eq "$(res right "$S2" status) $(res right "$S2" summary)" "ok 1 SRV target, answers right (mxdeck.probe@lab2.test)"
check "SRV lab2.test: port 443 went to the https probe port" has "$(res right "$S2" details)" "autodiscover.lab.test:443:127.0.0.1:$A"

check "bad redirects: exit 1" eq "$(cat "$LAB/badredir.rc")" 1
check "redirect to an uncovered name: fail" eq "$(res badredir $R1 status)" fail
check "redirect to an uncovered name: says the certificate" has "$(res badredir $R1 details)" "the certificate does not cover the name"
check "redirect to an uncovered name: summary names it" has "$(res badredir $R1 summary)" "CERTIFICATE or TLS fails there (does it cover uncovered.lab.test?)"
check "redirect to plain http: fail" eq "$(res badredir $R2 status) $(res badredir $R2 summary)" "fail redirect NOT TO HTTPS (http://autodiscover.lab.test:$HA/autodiscover/autodiscover.xml)"
check "bad redirects: the https steps are unaffected" eq "$(res badredir $V2 status)" ok
# curl's verdict on the same name: the certificate does not cover uncovered.lab.test
c=$(curl -sS -o /dev/null --cacert "$K/ca.pem" --connect-to "uncovered.lab.test:$A:127.0.0.1:$A" "https://uncovered.lab.test:$A/Autodiscover/Autodiscover.xml" 2>&1 || true)
check "curl agrees: no alternative name matches" has "$c" "uncovered.lab.test"

check "wrong LoginName: exit 1" eq "$(cat "$LAB/wrong.rc")" 1
check "wrong LoginName: autodiscover fails" eq "$(res wrong $U2 status)" fail
check "wrong LoginName: says so" has "$(res wrong $U2 details)" 'LoginName is "alice", expected "alice@lab.test"'
check "wrong responder: mobilesync answers still right" has "$(res wrong $U2 details)" "(mobilesync, alice@lab.test): answer matches"
check "wrong LoginName for the also domain: fail" eq "$(res wrong $V2 status)" fail
check "wrong LoginName for the also domain: says so" has "$(res wrong $V2 details)" 'LoginName is "mxdeck.probe", expected "mxdeck.probe@lab2.test"'
check "wrong LoginName behind the redirect: fail" eq "$(res wrong $R2 status)" fail
check "wrong LoginName behind the SRV target: fail" eq "$(res wrong "$S2" status)" fail

# TLS on the https endpoint, per vhost (SNI mail.lab.test), against its policy.
rc=0
MXDECK_PROBES=tls,tlsver "$MXDECK" test "$LAB/right.ini" --json >"$LAB/tls.json" \
    2>"$LAB/tls.txt" || rc=$?
cat "$LAB/tls.txt"
check "https tls: exit 0" eq "$rc" 0
check "https tls: name ok for the vhost" has "$(res tls '127.0.0.1:'"$A"' (mail.lab.test)' summary)" "name ok (mail.lab.test)"
check "https protocols: as legacy_tls = no" has "$(lab_json_get "$LAB/tls.json" web 'protocols https' summary)" 'accepts TLSv1.2 TLSv1.3, as [vhost "mail.lab.test"] legacy_tls = no'

# A name that does not resolve: clear fail, no hang.
sed 's/^\[autodiscover "lab.test"\]/[autodiscover "nowhere.test"]/' "$LAB/right.ini" > "$LAB/nx.ini"
run "$LAB/nx.ini" nx
check "unresolvable autodiscover domain: fail" eq "$(res nx https://autodiscover.nowhere.test/autodiscover/autodiscover.xml status)" fail
check "unresolvable: says so" has "$(res nx https://autodiscover.nowhere.test/autodiscover/autodiscover.xml summary)" "does not resolve"

checks_done
