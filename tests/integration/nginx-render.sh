#!/usr/bin/env bash
# nginx-render.sh: the nginx reverse proxy sites that mxdeck renders, checked by nginx
# itself and then run for real. `nginx -t` on a private nginx.conf that includes the
# rendered sites-enabled; then a private nginx (own prefix, pid, loopback ports, a
# backend server block with a lab CA certificate) answers odd-case paths from the right
# backend path, refuses unlisted services, and keeps TLS 1.0 to the legacy vhost.
# For the live run only, the port-80 redirect servers are moved to a free port (a copy
# of the rendered files; everything else is byte for byte what mxdeck rendered).
set -eu
MXDECK=${MXDECK:?}
. "$(dirname "$0")/../lab/web-lab.sh"
web_init nginx curl python3
WEB_PIDFILES=("$T/nginx.pid")
WEB_LOGS=("$T/error.log")
PORT=$(lab_port)
BPORT=$(lab_port)
HPORT=$(lab_port)
SPORT=$(lab_port)	# a slow plain-HTTP backend

web_ca ca
web_cert proxy "DNS:mail.lab.test,DNS:old2013.lab.test,DNS:slow.lab.test"
web_cert backend "DNS:localhost"

{
	web_site nginx-lab nginx "nginx_dir = $T/nginx" "probe_ports = https:$PORT"
	web_vhost mail.lab.test nginx "https://localhost:$BPORT" \
	    "owa oma ecp ews oab autodiscover activesync rpc mapi" "backend_ca = $T/ca.pem"
	web_vhost old2013.lab.test nginx "https://localhost:$BPORT" "owa activesync" \
	    "backend_ca = $T/ca.pem" "legacy_tls = yes"
	web_vhost slow.lab.test nginx "http://127.0.0.1:$SPORT" "owa activesync" \
	    "activesync_timeout = 2"
} >"$T/lab.ini"
"$MXDECK" render "$T/lab.ini" "$T/out" 2>"$T/render.err" || die "render: $(cat "$T/render.err")"
en="$T/out/lab$T/nginx/sites-enabled"
n=0
for l in "$en"/mxdeck-*; do
	[ "$(readlink -f "$l")" = "$T/out/lab$T/nginx/sites-available/$(basename "$l")" ] ||
	    die "$l -> $(readlink "$l")"
	n=$((n + 1))
done
[ "$n" -eq 3 ] || die "expected 3 enabled sites, got $n"
ok "render: 3 sites, each enabled by a sites-enabled symlink"

mkdir -p "$T/tmp"

# the Exchange stand-in names the request it received
cat >"$T/backend.conf" <<EOF
server {
	listen 127.0.0.1:$BPORT ssl;
	server_name localhost;
	ssl_certificate $T/backend.pem;
	ssl_certificate_key $T/backend.key;
	# Exchange can send its own HSTS: the proxy must answer with exactly one, its own.
	add_header Strict-Transport-Security "max-age=60" always;
	location / {
		return 200 "BACKEND \$request_uri\n";
	}
}
EOF
conf() { nginx_conf "$T/nginx.pid" "$T/error.log" "$T/tmp" "$T/backend.conf" "$1/*"; }
conf "$en" >"$T/nginx.conf"
out=$(nginx -t -p "$T/" -c "$T/nginx.conf" 2>&1) || die "nginx -t: $out"
echo "$out" | grep -q 'test is successful' || die "nginx -t: $out"
ok "nginx -t accepts the rendered sites"

# Live run: the same files, port 80 moved to a free loopback port.
nginx_live "$en" "$T/live" "$HPORT"
conf "$T/live" >"$T/nginx-live.conf"
nginx -p "$T/" -c "$T/nginx-live.conf" || die "nginx start"
web_wait "$T/nginx.pid" "$PORT"
[ -s "$T/nginx.pid" ] || die "nginx did not start"
ok "nginx started (pid $(cat "$T/nginx.pid")) on 127.0.0.1:$PORT"

get() { web_get "$PORT" "$@"; }	# host path [curl options]
expect_backend() {	# host path
	local body
	body=$(get "$1" "$2") || die "GET https://$1$2 failed"
	[ "$body" = "BACKEND $2" ] || die "GET https://$1$2: got '$body'"
	ok "https://$1$2 reaches the backend as $2"
}
# nginx passes the path on as the client wrote it (Exchange/IIS ignores case).
expect_backend mail.lab.test /AutoDiscover/AutoDiscover.xml
expect_backend mail.lab.test /autodiscover/autodiscover.xml
expect_backend mail.lab.test /OWA/
expect_backend mail.lab.test /oma/x
expect_backend mail.lab.test /ecp/x
expect_backend mail.lab.test /ews/Exchange.asmx
expect_backend mail.lab.test /OAB/x
expect_backend mail.lab.test /microsoft-server-activesync?Cmd=Ping
expect_backend mail.lab.test /Mapi/emsmdb/
expect_backend mail.lab.test /rpc/rpcproxy.dll
expect_backend old2013.lab.test /owa/
# the proxy's catch-all: unlisted paths never reach the backend
body=$(get old2013.lab.test /EWS/Exchange.asmx)
case $body in BACKEND*) die "old2013.lab.test proxies /EWS which it does not list" ;; esac
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
hsts mail.lab.test /owa/ 200		# proxied: the backend's max-age=60 hidden
hsts mail.lab.test /ECP/x 200
hsts old2013.lab.test /owa/ 200
hsts mail.lab.test / 302
hsts mail.lab.test /nonexistent 404	# the catch-all's error answer
ok "HSTS max-age=31536000, exactly once, on proxied OWA/ECP (backend's own hidden), 302, 404"
code=$(get mail.lab.test / -o /dev/null -w '%{http_code}')
[ "$code" = 302 ] || die "/ should redirect to /owa/, got $code"
code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: mail.lab.test' \
    "http://127.0.0.1:$HPORT/owa/")
[ "$code" = "301 https://mail.lab.test:$PORT/owa/" ] || die "http redirect: $code"
ok "/ redirects to /owa/, http:// redirects to https://"

# ActiveSync has its own read timeout (2 s here); OWA keeps nginx's default (60 s).
web_slow_backend "$SPORT"
sleep 0.3
start=$(date +%s%N)
code=$(get slow.lab.test /Microsoft-Server-ActiveSync/ping -o /dev/null -w '%{http_code}')
ms=$((($(date +%s%N) - start) / 1000000))
[ "$code" = 504 ] && [ "$ms" -ge 1500 ] && [ "$ms" -lt 3900 ] ||
    die "ActiveSync on a 4 s backend: HTTP $code after ${ms} ms, expected 504 after ~2 s"
ok "ActiveSync proxy_read_timeout 2s applies: 504 after ${ms} ms"
body=$(get slow.lab.test /owa/x)
[ "$body" = "SLOW /owa/x" ] || die "OWA on the slow backend: '$body'"
ok "OWA on the same backend is not cut by ActiveSync's timeout"

tls1() { web_tls1 "$PORT" "$1"; }	# host -> 0 if a TLS 1.0 handshake completes
tls1 old2013.lab.test || die "old2013.lab.test (legacy_tls = yes) refused TLS 1.0"
ok "legacy vhost accepts TLS 1.0 (@SECLEVEL=0)"
if tls1 mail.lab.test; then
	echo "# nginx 1.22 takes ssl_protocols from the default server of the port, not from"
	echo "# the SNI-selected one: the modern vhost accepts TLS 1.0 next to a legacy vhost"
	die "mail.lab.test (modern) accepted TLS 1.0"
fi
ok "modern vhost refuses TLS 1.0"
exit 0
