#!/usr/bin/env bash
# apache-render.sh: the Apache reverse proxy sites that mxdeck renders, run for real.
# A private apache2 (own ServerRoot, PidFile, loopback ports) includes the rendered
# sites-enabled; a lab CA signs the proxy and backend certificates; the backend is
# another vhost of the same server plus a tiny slow HTTP server. Checks: configtest,
# odd-case paths reach the right backend path, services not listed are not proxied,
# backend certificate verification, ActiveSync's own timeout, and TLS 1.0 refused on a
# modern vhost but accepted on the legacy one (OpenSSL 3, @SECLEVEL=0), and exactly one
# Strict-Transport-Security header, mxdeck's, on proxied, local and error answers.
set -eu
MXDECK=${MXDECK:?}
. "$(dirname "$0")/../lab/web-lab.sh"
web_init apache2 curl python3
WEB_PIDFILES=("$T/srv/apache.pid" "$T/ctl/apache.pid")
WEB_LOGS=("$T/srv/error.log")

PORT=$(lab_port)	# the proxy's HTTPS port (probe_ports https:PORT)
BPORT=$(lab_port)	# the Exchange stand-in (TLS)
SPORT=$(lab_port)	# the slow backend (plain HTTP)

# Lab PKI: a CA for the proxy and the backend, and a second CA nobody trusts.
web_ca ca
web_ca otherca
web_cert proxy "DNS:mail.lab.test,DNS:old2013.lab.test,DNS:wrongca.lab.test,DNS:slow.lab.test,DNS:sysca.lab.test"
web_cert backend "DNS:localhost"

{
	web_site apache-lab apache "apache_dir = $T/apache" "probe_ports = https:$PORT"
	web_vhost mail.lab.test apache "https://localhost:$BPORT" \
	    "owa oma ecp ews oab autodiscover activesync rpc mapi" "backend_ca = $T/ca.pem"
	web_vhost old2013.lab.test apache "https://localhost:$BPORT" "owa mapi" \
	    "backend_ca = $T/ca.pem" "legacy_tls = yes"
	web_vhost wrongca.lab.test apache "https://localhost:$BPORT" owa \
	    "backend_ca = $T/otherca.pem"
	web_vhost sysca.lab.test apache "https://localhost:$BPORT" owa
	web_vhost slow.lab.test apache "http://127.0.0.1:$SPORT" "owa activesync" \
	    "activesync_timeout = 2"
} >"$T/lab.ini"
"$MXDECK" render "$T/lab.ini" "$T/out" 2>"$T/render.err" || die "render: $(cat "$T/render.err")"
en="$T/out/lab$T/apache/sites-enabled"
n=0
for l in "$en"/*.conf; do
	target=$(readlink -f "$l")
	[ "$target" = "$T/out/lab$T/apache/sites-available/$(basename "$l")" ] ||
	    die "$l -> $target"
	n=$((n + 1))
done
[ "$n" -eq 5 ] || die "expected 5 enabled sites, got $n"
ok "render: 5 sites, each enabled by a sites-enabled symlink"

# The Exchange stand-in: a TLS vhost whose files name the path they were fetched as.
mkdir -p "$T/backend"
for p in autodiscover/autodiscover.xml owa/index.html OMA/index.html ecp/index.html \
    EWS/Exchange.asmx OAB/oab.xml Microsoft-Server-ActiveSync/index.html mapi/emsmdb \
    rpc/rpcproxy.dll; do
	mkdir -p "$T/backend/$(dirname "$p")"
	echo "BACKEND /$p" >"$T/backend/$p"
done
mkdir -p "$T/backend/oma" && echo "BACKEND /oma/index.html" >"$T/backend/oma/index.html"

mkdir -p "$T/srv"
{
	apache_conf "$T/srv" "${APACHE_TEST_LOGLEVEL:-warn}" "$PORT $BPORT" mpm_event authz_core \
	    mime dir alias socache_shmcb ssl proxy proxy_http proxy_fcgi headers rewrite
	cat <<EOF
DocumentRoot "$T/backend"
<VirtualHost 127.0.0.1:$BPORT>
	ServerName 127.0.0.1
	SSLEngine on
	SSLCertificateFile "$T/backend.pem"
	SSLCertificateKeyFile "$T/backend.key"
	# Exchange can send its own HSTS: the proxy must answer with exactly one, its own.
	Header always set Strict-Transport-Security "max-age=60"
	DocumentRoot "$T/backend"
	<Directory "$T/backend">
		Require all granted
	</Directory>
</VirtualHost>
Include "$en/*.conf"
EOF
} >"$T/srv/apache2.conf"
out=$(apache2 -d "$T/srv" -f "$T/srv/apache2.conf" -t 2>&1) || die "configtest: $out"
echo "$out" | grep -q 'Syntax OK' || die "configtest: $out"
ok "apache2 -t: Syntax OK"

# The slow backend: answers after 4 s.
web_slow_backend "$SPORT"

apache2 -d "$T/srv" -f "$T/srv/apache2.conf" -k start || die "apache2 -k start"
web_wait "$T/srv/apache.pid" "$PORT"
[ -s "$T/srv/apache.pid" ] || die "apache did not start"
if grep -Ei 'AH01146|Ignoring parameter|already used by another worker' "$T/srv/error.log"; then
	die "a ProxyPass worker parameter is ignored (worker sharing)"
fi
ok "apache started (pid $(cat "$T/srv/apache.pid")) on 127.0.0.1:$PORT, no worker-sharing warning"

get() { web_get "$PORT" "$@"; }	# host path [curl options]
expect_backend() {	# host request-path backend-path
	local body
	body=$(get "$1" "$2") || die "GET https://$1$2 failed"
	[ "$body" = "BACKEND $3" ] || die "GET https://$1$2: expected 'BACKEND $3', got '$body'"
	ok "https://$1$2 reaches the backend's $3"
}
expect_backend mail.lab.test /AutoDiscover/AutoDiscover.xml /autodiscover/autodiscover.xml
expect_backend mail.lab.test /autodiscover/autodiscover.xml /autodiscover/autodiscover.xml
expect_backend mail.lab.test /OWA/index.html /owa/index.html
expect_backend mail.lab.test /oma/index.html /oma/index.html
expect_backend mail.lab.test /ECP/index.html /ecp/index.html
expect_backend mail.lab.test /ews/Exchange.asmx /EWS/Exchange.asmx
expect_backend mail.lab.test /oab/oab.xml /OAB/oab.xml
expect_backend mail.lab.test /microsoft-server-activesync/index.html \
    /Microsoft-Server-ActiveSync/index.html
expect_backend mail.lab.test /MAPI/emsmdb /mapi/emsmdb
expect_backend old2013.lab.test /owa/index.html /owa/index.html

# rpc needs mod_proxy_msrpc, which is not loaded here: not proxied at all.
body=$(get mail.lab.test /rpc/rpcproxy.dll)
[ "$body" != "BACKEND /rpc/rpcproxy.dll" ] || die "rpc proxied without mod_proxy_msrpc"
ok "rpc is not proxied without mod_proxy_msrpc (<IfModule>)"
# Services not listed for a vhost are not proxied.
body=$(get old2013.lab.test /EWS/Exchange.asmx)
case $body in BACKEND*) die "old2013.lab.test proxies /EWS which it does not list" ;; esac
body=$(get old2013.lab.test /autodiscover/autodiscover.xml)
case $body in BACKEND*) die "old2013.lab.test proxies autodiscover which it does not list" ;; esac
# Only the exact Autodiscover file, not a neighbour.
body=$(get mail.lab.test /autodiscover/autodiscover.xml.bak)
case $body in BACKEND*) die "autodiscover.xml.bak was proxied" ;; esac
ok "unlisted services and neighbouring paths are not proxied"

hsts() {	# host path want-code: exactly one HSTS header, mxdeck's one year
	local h
	h=$(get "$1" "$2" -o /dev/null -D - | tr -d '\r')
	[ -n "$h" ] || die "GET https://$1$2: no response headers"
	echo "$h" | head -n 1 | grep -q " $3" || die "GET https://$1$2: want HTTP $3, got $(echo "$h" | head -n 1)"
	[ "$(echo "$h" | grep -ic '^strict-transport-security:')" = 1 ] ||
	    die "GET https://$1$2: want exactly one Strict-Transport-Security header: $h"
	echo "$h" | grep -qix 'strict-transport-security: max-age=31536000' ||
	    die "GET https://$1$2: HSTS is not max-age=31536000: $(echo "$h" | grep -i '^strict')"
}
hsts mail.lab.test /owa/index.html 200	# proxied: the backend's max-age=60 dropped
hsts mail.lab.test /ECP/index.html 200
hsts old2013.lab.test /owa/index.html 200
hsts mail.lab.test /nonexistent 403		# an error answer (not proxied, denied)
hsts mail.lab.test / 302
hsts wrongca.lab.test /owa/ 500		# the proxy's own error page (backend CA refused)
ok "HSTS max-age=31536000, exactly once, on proxied OWA/ECP (backend's own dropped), 302, 403, 500"

code=$(get mail.lab.test / -o /dev/null -w '%{http_code} %{redirect_url}')
[ "$code" = "302 https://mail.lab.test:$PORT/owa/" ] || die "/ redirect: $code"
ok "/ redirects to /owa/"

# Backend verification: a backend certificate from an untrusted CA is refused.
code=$(get wrongca.lab.test /owa/index.html -o /dev/null -w '%{http_code}')
case $code in 500|502) ;; *) die "backend with an untrusted certificate: HTTP $code" ;; esac
grep -q 'AH02039: Certificate Verification: Error' "$T/srv/error.log" ||
    die "no certificate verification failure in the error log"
ok "backend certificate from an untrusted CA: HTTP $code, verification error logged"
# Without backend_ca the system CAs verify the backend: the lab CA is not one of them.
n0=$(grep -c 'AH02039' "$T/srv/error.log")
code=$(get sysca.lab.test /owa/index.html -o /dev/null -w '%{http_code}')
case $code in 500|502) ;; *) die "backend verified against system CAs: HTTP $code" ;; esac
[ "$(grep -c 'AH02039' "$T/srv/error.log")" -gt "$n0" ] || die "no verification error for sysca"
ok "no backend_ca: the system CA store verifies the backend (lab CA refused: HTTP $code)"

# ActiveSync has its own timeout (2 s here); OWA keeps the server's (60 s default).
start=$(date +%s%N)
code=$(get slow.lab.test /Microsoft-Server-ActiveSync/ping -o /dev/null -w '%{http_code}')
ms=$((($(date +%s%N) - start) / 1000000))
case $code in 502|504) ;; *) die "ActiveSync on a 4 s backend: HTTP $code after ${ms} ms" ;; esac
[ "$ms" -ge 1500 ] && [ "$ms" -lt 3900 ] || die "ActiveSync on a 4 s backend: HTTP $code after ${ms} ms, expected ~2 s"
grep -q 'timeout specified has expired' "$T/srv/error.log" || die "no proxy timeout in the error log"
ok "ActiveSync timeout=2 applies: HTTP $code after ${ms} ms"
body=$(get slow.lab.test /owa/x)
[ "$body" = "SLOW /owa/x" ] || die "OWA on the slow backend: '$body'"
ok "OWA on the same backend is not cut by ActiveSync's timeout"

# TLS versions: the modern vhost refuses TLS 1.0, the legacy vhost accepts it.
tls1() { web_tls1 "$PORT" "$1"; }	# host -> 0 if a TLS 1.0 handshake completes
tls1 mail.lab.test && die "mail.lab.test (modern) accepted TLS 1.0"
ok "modern vhost refuses TLS 1.0"
tls1 old2013.lab.test || die "old2013.lab.test (legacy_tls = yes) refused TLS 1.0"
ok "legacy vhost accepts TLS 1.0 (@SECLEVEL=0)"
echo | openssl s_client -connect "127.0.0.1:$PORT" -servername mail.lab.test -tls1_2 2>&1 |
    grep -q '^New, TLSv1.2, Cipher is [A-Z]' || die "mail.lab.test refused TLS 1.2"
ok "modern vhost accepts TLS 1.2"

# Control: the same legacy site without @SECLEVEL=0 configtests fine but TLS 1.0 fails
# (the OpenSSL 3 trap the renderer avoids), so the check above can fail.
CPORT=$(lab_port)
mkdir -p "$T/ctl"
sed -e 's/"@SECLEVEL=0:/"/' -e "s/<VirtualHost \*:$PORT>/<VirtualHost *:$CPORT>/" \
    "$en/mxdeck-old2013.lab.test.conf" >"$T/ctl/old2013.conf"
grep -q "SSLCipherSuite \"@SECLEVEL" "$T/ctl/old2013.conf" && die "control: @SECLEVEL=0 still present"
sed -e "s|^PidFile .*|PidFile \"$T/ctl/apache.pid\"|" -e "s|^ErrorLog .*|ErrorLog \"$T/ctl/error.log\"|" \
    -e "s|^Listen .*||" -e "s|^Include .*|Include \"$T/ctl/old2013.conf\"|" \
    -e "s|^SSLSessionCache .*|SSLSessionCache \"shmcb:$T/ctl/ssl_scache(512000)\"\nListen 127.0.0.1:$CPORT|" \
    -e "/^<VirtualHost 127.0.0.1/,/^<\/VirtualHost>/d" "$T/srv/apache2.conf" >"$T/ctl/apache2.conf"
out=$(apache2 -d "$T/srv" -f "$T/ctl/apache2.conf" -t 2>&1) || die "control configtest: $out"
apache2 -d "$T/srv" -f "$T/ctl/apache2.conf" -k start || die "control apache start"
web_wait "$T/ctl/apache.pid" "$CPORT"
ctl=0
web_tls1 "$CPORT" old2013.lab.test && ctl=1
kill "$(cat "$T/ctl/apache.pid")" 2>/dev/null || true
[ "$ctl" = 0 ] || die "control: TLS 1.0 worked without @SECLEVEL=0"
ok "control: without @SECLEVEL=0 the same site passes configtest but refuses TLS 1.0"
exit 0
