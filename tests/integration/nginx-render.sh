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
command -v nginx >/dev/null || { echo "nginx is not installed"; exit 77; }
command -v curl >/dev/null || { echo "curl is not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 is not installed"; exit 77; }
T=$(mktemp -d)
chmod 755 "$T"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	if [ -s "$T/nginx.pid" ]; then
		kill "$(cat "$T/nginx.pid")" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$(cat "$T/nginx.pid" 2>/dev/null)" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -rf "$T"
}
trap cleanup EXIT
ok() { echo "ok - $*"; }
die() {
	echo "not ok - $*"
	[ -f "$T/error.log" ] && tail -n 20 "$T/error.log" | sed 's/^/# /'
	exit 1
}
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
BPORT=$(free_port)
HPORT=$(free_port)
SPORT=$(free_port)	# a slow plain-HTTP backend

cd "$T"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mxdeck lab ca" \
    -keyout ca.key -out ca.pem 2>/dev/null
mkcert() {	# name SAN
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$1.key" -out "$1.csr" 2>/dev/null
	printf 'subjectAltName=%s\n' "$2" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
	    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
mkcert proxy "DNS:mail.lab.test,DNS:old2013.lab.test,DNS:slow.lab.test"
mkcert backend "DNS:localhost"

cat >"$T/lab.ini" <<EOF
[site]
name = nginx-lab
domain = lab.test

[host "lab"]
address = local
roles = nginx
nginx_dir = $T/nginx
probe_ports = https:$PORT

[vhost "mail.lab.test"]
server = nginx
backend = https://localhost:$BPORT
backend_ca = $T/ca.pem
services = owa oma ecp ews oab autodiscover activesync rpc mapi
certificate = $T/proxy.pem
key = $T/proxy.key

[vhost "old2013.lab.test"]
server = nginx
backend = https://localhost:$BPORT
backend_ca = $T/ca.pem
services = owa activesync
certificate = $T/proxy.pem
key = $T/proxy.key
legacy_tls = yes

[vhost "slow.lab.test"]
server = nginx
backend = http://127.0.0.1:$SPORT
services = owa activesync
certificate = $T/proxy.pem
key = $T/proxy.key
activesync_timeout = 2
EOF
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

conf() {	# sites-dir
	cat <<EOF
pid $T/nginx.pid;
error_log $T/error.log warn;
worker_processes 1;
events {
	worker_connections 64;
}
http {
	access_log off;
	client_body_temp_path $T/tmp/body;
	proxy_temp_path $T/tmp/proxy;
	fastcgi_temp_path $T/tmp/fastcgi;
	uwsgi_temp_path $T/tmp/uwsgi;
	scgi_temp_path $T/tmp/scgi;
	server {
		listen 127.0.0.1:$BPORT ssl;
		server_name localhost;
		ssl_certificate $T/backend.pem;
		ssl_certificate_key $T/backend.key;
		# the Exchange stand-in names the request it received
		location / {
			return 200 "BACKEND \$request_uri\n";
		}
	}
	include $1/*;
}
EOF
}
conf "$en" >"$T/nginx.conf"
out=$(nginx -t -p "$T/" -c "$T/nginx.conf" 2>&1) || die "nginx -t: $out"
echo "$out" | grep -q 'test is successful' || die "nginx -t: $out"
ok "nginx -t accepts the rendered sites"

# Live run: the same files, port 80 moved to a free loopback port.
mkdir -p "$T/live"
for l in "$en"/mxdeck-*; do
	sed -e "s/^\tlisten 80;/\tlisten 127.0.0.1:$HPORT;/" -e '/^\tlisten \[::\]:80;/d' \
	    "$l" >"$T/live/$(basename "$l")"
done
conf "$T/live" >"$T/nginx-live.conf"
nginx -p "$T/" -c "$T/nginx-live.conf" || die "nginx start"
for _ in $(seq 100); do
	[ -s "$T/nginx.pid" ] && curl -sk -o /dev/null "https://127.0.0.1:$PORT/" && break
	sleep 0.1
done
[ -s "$T/nginx.pid" ] || die "nginx did not start"
ok "nginx started (pid $(cat "$T/nginx.pid")) on 127.0.0.1:$PORT"

get() {	# host path [curl options]
	local h=$1 p=$2
	shift 2
	curl -s --max-time 20 --cacert "$T/ca.pem" --resolve "$h:$PORT:127.0.0.1" "$@" \
	    "https://$h:$PORT$p"
}
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
code=$(get mail.lab.test / -o /dev/null -w '%{http_code}')
[ "$code" = 302 ] || die "/ should redirect to /owa/, got $code"
code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: mail.lab.test' \
    "http://127.0.0.1:$HPORT/owa/")
[ "$code" = "301 https://mail.lab.test:$PORT/owa/" ] || die "http redirect: $code"
ok "/ redirects to /owa/, http:// redirects to https://"

# ActiveSync has its own read timeout (2 s here); OWA keeps nginx's default (60 s).
cat >"$T/slow.py" <<'PY'
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(4)
        body = ("SLOW " + self.path + "\n").encode()
        try:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$T/slow.py" "$SPORT" 2>"$T/slow.log" &
pids+=($!)
# wait for the backend to listen: python can start slowly under load
for _ in $(seq 300); do ss -Hltn "sport = :$SPORT" | grep -q . && break; sleep 0.1; done
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

tls1() {	# host -> 0 if a TLS 1.0 handshake completes
	echo | openssl s_client -connect "127.0.0.1:$PORT" -servername "$1" -tls1 \
	    -cipher 'DEFAULT:@SECLEVEL=0' 2>&1 | grep -q '^New, TLSv1\(\.0\)\?, Cipher is [A-Z]'
}
tls1 old2013.lab.test || die "old2013.lab.test (legacy_tls = yes) refused TLS 1.0"
ok "legacy vhost accepts TLS 1.0 (@SECLEVEL=0)"
if tls1 mail.lab.test; then
	echo "# nginx 1.22 takes ssl_protocols from the default server of the port, not from"
	echo "# the SNI-selected one: the modern vhost accepts TLS 1.0 next to a legacy vhost"
	die "mail.lab.test (modern) accepted TLS 1.0"
fi
ok "modern vhost refuses TLS 1.0"
exit 0
