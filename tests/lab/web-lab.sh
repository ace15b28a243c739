# web-lab.sh: private web servers for the render tests (tests/integration/apache-render.sh,
# nginx-render.sh, autodiscover-render.sh), on top of probe-lab.sh. $T is the lab
# directory ($LAB) and the working directory; on exit the servers whose pid files are in
# WEB_PIDFILES and every lab_* process are stopped and $T is removed (KEEP=1: not).
#
#   . tests/lab/web-lab.sh
#   web_init TOOL...                  skip (exit 77) without them; T, cd, EXIT trap
#   ok TEXT, die TEXT                 TAP lines; die tails the files in WEB_LOGS, exit 1
#   web_ca NAME; web_cert NAME SAN    NAME.pem/.key: a CA; a leaf signed by ca.pem
#   web_site NAME ROLES [LINE...]     [site] and [host "lab"] of a lab profile
#   web_vhost NAME SERVER BACKEND SERVICES [LINE...]   a [vhost] with proxy.pem/.key
#   web_slow_backend PORT             plain HTTP on 127.0.0.1:PORT, answers after 4 s
#   apache_conf DIR LOGLEVEL "PORT..." MODULE...     the head of a private apache2.conf
#   nginx_conf PIDFILE ERRLOG TMPDIR INCLUDE...      a private nginx.conf
#   nginx_live SITES LIVE PORT        copies of the nginx sites, port 80 moved to PORT
#   web_wait PIDFILE PORT             wait (10 s) for PIDFILE and https://127.0.0.1:PORT/
#   web_get PORT HOST PATH [curl options...]         GET https://HOST:PORT/PATH, lab CA
#   web_tls1 PORT HOST                0 when a TLS 1.0 handshake with HOST completes

. "$(dirname "${BASH_SOURCE[0]}")/probe-lab.sh"

WEB_PIDFILES=()
WEB_LOGS=()

web_init() {
	lab_need ss openssl "$@"
	lab_init
	T=$LAB
	cd "$T"
	[ -n "${KEEP:-}" ] || trap web_cleanup EXIT
}

web_cleanup() {
	local pf _
	for pf in "${WEB_PIDFILES[@]}"; do
		[ -s "$pf" ] && kill "$(cat "$pf")" 2>/dev/null || true
	done
	for pf in "${WEB_PIDFILES[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$(cat "$pf" 2>/dev/null)" 2>/dev/null || break
			sleep 0.1
		done
	done
	lab_cleanup
}

ok() { echo "ok - $*"; }

die() {
	local f
	echo "not ok - $*"
	for f in "${WEB_LOGS[@]}"; do
		[ -s "$f" ] && tail -n "${TAIL:-20}" "$f" | sed "s|^|# $(basename "$f"): |"
	done
	exit 1
}

web_ca() {	# NAME
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mxdeck lab $1" \
	    -keyout "$T/$1.key" -out "$T/$1.pem" 2>/dev/null
}

web_cert() {	# NAME SAN: signed by $T/ca.pem, the key readable by the servers' users
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$T/$1.key" \
	    -out "$T/$1.csr" 2>/dev/null
	printf 'subjectAltName=%s\n' "$2" >"$T/$1.ext"
	openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
	    -days 2 -extfile "$T/$1.ext" -out "$T/$1.pem" 2>/dev/null
	chmod 644 "$T/$1.key"
}

web_site() {	# NAME ROLES [LINE...]
	local line
	printf '[site]\nname = %s\ndomain = lab.test\n\n[host "lab"]\naddress = local\nroles = %s\n' \
	    "$1" "$2"
	shift 2
	for line in "$@"; do
		echo "$line"
	done
}

web_vhost() {	# NAME SERVER BACKEND SERVICES [LINE...]
	local line
	printf '\n[vhost "%s"]\nserver = %s\nbackend = %s\nservices = %s\n' "$1" "$2" "$3" "$4"
	printf 'certificate = %s/proxy.pem\nkey = %s/proxy.key\n' "$T" "$T"
	shift 4
	for line in "$@"; do
		echo "$line"
	done
}

web_slow_backend() {	# PORT
	cat >"$T/slow.py" <<'EOF'
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
EOF
	python3 "$T/slow.py" "$1" 2>"$T/slow.log" &
	LAB_PIDS="$LAB_PIDS $!"
	# wait for the backend to listen: python can start slowly under load (up to 30 s)
	LAB_WAIT_STEPS=600 lab_wait_port "$1" || true
}

apache_conf() {	# DIR LOGLEVEL "PORT..." MODULE...
	local dir=$1 level=$2 ports=$3 p m
	shift 3
	cat <<EOF
ServerRoot "$dir"
PidFile "$dir/apache.pid"
ErrorLog "$dir/error.log"
LogLevel $level
User www-data
Group www-data
ServerName localhost
EOF
	for p in $ports; do
		echo "Listen 127.0.0.1:$p"
	done
	for m in "$@"; do
		echo "LoadModule ${m}_module /usr/lib/apache2/modules/mod_$m.so"
	done
	cat <<EOF
TypesConfig /etc/mime.types
SSLSessionCache "shmcb:$dir/ssl_scache(512000)"
<Directory />
	Require all denied
</Directory>
EOF
}

nginx_conf() {	# PIDFILE ERRLOG TMPDIR INCLUDE...
	local inc
	cat <<EOF
pid $1;
error_log $2 warn;
worker_processes 1;
events {
	worker_connections 64;
}
http {
	access_log off;
	client_body_temp_path $3/body;
	proxy_temp_path $3/proxy;
	fastcgi_temp_path $3/fastcgi;
	uwsgi_temp_path $3/uwsgi;
	scgi_temp_path $3/scgi;
EOF
	shift 3
	for inc in "$@"; do
		echo "	include $inc;"
	done
	echo "}"
}

nginx_live() {	# SITES-DIR LIVE-DIR PORT
	local l
	mkdir -p "$2"
	for l in "$1"/*; do
		sed -e "s/^\tlisten 80;/\tlisten 127.0.0.1:$3;/" -e '/^\tlisten \[::\]:80;/d' \
		    "$l" >"$2/$(basename "$l")"
	done
}

web_wait() {	# PIDFILE PORT: returns 0 either way, the caller checks what it needs
	local _
	for _ in $(seq 100); do
		[ -s "$1" ] && curl -sk -o /dev/null "https://127.0.0.1:$2/" && return 0
		sleep 0.1
	done
	return 0
}

web_get() {	# PORT HOST PATH [curl options...]
	local port=$1 h=$2 p=$3
	shift 3
	curl -s --max-time 20 --cacert "$T/ca.pem" --resolve "$h:$port:127.0.0.1" "$@" \
	    "https://$h:$port$p"
}

web_tls1() {	# PORT HOST
	echo | openssl s_client -connect "127.0.0.1:$1" -servername "$2" -tls1 \
	    -cipher 'DEFAULT:@SECLEVEL=0' 2>&1 | grep -q '^New, TLSv1\(\.0\)\?, Cipher is [A-Z]'
}
