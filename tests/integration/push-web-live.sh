#!/bin/bash
# push-web-live.sh: apply to RUNNING nginx and Apache servers (address = local, private
# copies of the stock /etc/nginx and /etc/apache2, own pid and log paths, in a network
# namespace of their own because the rendered nginx vhost listens on port 80).
#  - a vhost change (another backend): exit 0, "nginx reloaded" / "apache2 reloaded",
#    the running servers answer from the new backend, master pids unchanged;
#  - a change that passes `nginx -t` but cannot be loaded (its port is held by another
#    process): exit 4, files restored byte for byte, nginx still serves the old config;
#  - a change that passes `apache2 -t` but cannot be loaded (a key that does not match
#    its certificate): exit 4, files restored, and the report says what became of Apache.
set -eu
MXDECK=${MXDECK:?}
[ "$(id -u)" = 0 ] || { echo "needs root (daemons as www-data, a network namespace)"; exit 77; }
for c in nginx apache2 curl python3 unshare ip ss openssl; do
	command -v $c >/dev/null || { echo "$c is not installed"; exit 77; }
done
if [ -z "${MXDECK_WEB_NETNS:-}" ]; then
	exec env MXDECK_WEB_NETNS=1 unshare -n -- "$0" "$@"
fi
ip link set lo up

holder=
extra_cleanup='web_cleanup'
web_cleanup() {
	local pf
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	for pf in "$lab/ngx/run/nginx.pid" "$lab/apa/run/apache2.pid"; do
		[ -s "$pf" ] && kill "$(cat "$pf")" 2>/dev/null
	done
	for pf in "$lab/ngx/run/nginx.pid" "$lab/apa/run/apache2.pid"; do
		for _ in $(seq 50); do
			[ -s "$pf" ] && kill -0 "$(cat "$pf")" 2>/dev/null || break
			sleep 0.1
		done
	done
	return 0
}
. "$(dirname "$0")/../lab/push-lib.sh"
chmod 755 "$lab"

n=$lab/ngx/etc/nginx
a=$lab/apa/etc/apache2
mkdir -p "$lab/ngx/etc" "$lab/ngx/run" "$lab/ngx/log" "$lab/apa/etc" "$lab/apa/run" \
    "$lab/apa/log" "$lab/apa/lock"
cp -a /etc/nginx "$n"
cp -a /etc/apache2 "$a"
# nginx: every absolute /etc/nginx path here, pid and logs private.
sed -i -e "s|/etc/nginx/|$n/|g" -e "s|^pid .*|pid $lab/ngx/run/nginx.pid;|" \
    -e "s|/var/log/nginx/|$lab/ngx/log/|g" "$n/nginx.conf"
# The backends both vhosts proxy to: a static part of this nginx, not managed by mxdeck.
cat >"$n/conf.d/lab-backends.conf" <<'EOF'
server { listen 127.0.0.1:9001; location / { return 200 "B1 $request_uri\n"; } }
server { listen 127.0.0.1:9002; location / { return 200 "B2 $request_uri\n"; } }
EOF
# Apache: run, lock and log directories private (envvars; mxdeck enables the modules), and
# one HTTPS port of its own (nginx has 80 and 443 here).
sed -i -e "s|^export APACHE_RUN_DIR=.*|export APACHE_RUN_DIR=$lab/apa/run|" \
    -e "s|^export APACHE_PID_FILE=.*|export APACHE_PID_FILE=$lab/apa/run/apache2.pid|" \
    -e "s|^export APACHE_LOCK_DIR=.*|export APACHE_LOCK_DIR=$lab/apa/lock|" \
    -e "s|^export APACHE_LOG_DIR=.*|export APACHE_LOG_DIR=$lab/apa/log|" "$a/envvars"
APORT=8443
echo "Listen $APORT" >"$a/ports.conf"
rm -f "$a/sites-enabled/000-default.conf"

cd "$lab"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mail.lab.test" \
    -addext "subjectAltName=DNS:mail.lab.test,DNS:web.lab.test" \
    -keyout proxy.key -out proxy.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key 2>/dev/null

profile() {	# backend-port nginx-https-port apache-key
	cat <<EOF
[site]
name = weblab
domain = lab.test

[host "ngx"]
address = local
roles = nginx
nginx_dir = $n
state_dir = $lab/ngx/state
probe_ports = https:$2

[host "apa"]
address = local
roles = apache
apache_dir = $a
state_dir = $lab/apa/state
probe_ports = https:$APORT

[vhost "mail.lab.test"]
server = nginx
backend = http://127.0.0.1:$1
services = owa ews
certificate = $lab/proxy.pem
key = $lab/proxy.key

[vhost "web.lab.test"]
server = apache
backend = http://127.0.0.1:$1
services = owa ews
certificate = $lab/proxy.pem
key = $3
EOF
}
get() {	# name port path
	curl -sk --max-time 10 --resolve "$1:$2:127.0.0.1" "https://$1:$2$3"
}
# expect_body NAME PORT PATH BODY: the server answers BODY (a reload is asynchronous:
# up to 10 s for the new workers).
expect_body() {
	local body=
	for _ in $(seq 100); do
		body=$(get "$1" "$2" "$3") || true
		[ "$body" = "$4" ] && return 0
		sleep 0.1
	done
	die "https://$1:$2$3 answers '$body', want '$4'"
}
npid() { cat "$lab/ngx/run/nginx.pid"; }
apid() { cat "$lab/apa/run/apache2.pid"; }

# First apply: the daemons are not running yet.
profile 9001 443 "$lab/proxy.key" >site.ini
rc=0
"$MXDECK" apply --yes site.ini >out 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat out; die "first apply: exit $rc"; }
grep -q "nginx is not running" out && grep -q "apache2 is not running" out ||
	{ cat out; die "first apply: the report does not say the daemons are not running"; }

nginx -c "$n/nginx.conf" || die "nginx does not start on the stock copy"
(set +u; . "$a/envvars" && apache2 -d "$a" -f "$a/apache2.conf" -k start) ||
	{ cat "$lab/apa/log/error.log"; die "apache2 does not start on the stock copy"; }
for _ in $(seq 100); do
	[ -s "$lab/ngx/run/nginx.pid" ] && [ -s "$lab/apa/run/apache2.pid" ] && break
	sleep 0.1
done
expect_body mail.lab.test 443 /owa/x "B1 /owa/x"
expect_body web.lab.test $APORT /owa/x "B1 /owa/x"
n0=$(npid)
a0=$(apid)
ok "first apply, then nginx (pid $n0) and apache2 (pid $a0) serve the vhosts from backend 1"

# A vhost change on the running servers: reloaded in place.
profile 9002 443 "$lab/proxy.key" >site.ini
rc=0
"$MXDECK" apply --yes site.ini >out 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat out; die "apply of a backend change: exit $rc"; }
grep -q "nginx reloaded" out && grep -q "apache2 reloaded" out ||
	{ cat out; die "the report does not say nginx and apache2 were reloaded"; }
expect_body mail.lab.test 443 /owa/x "B2 /owa/x"
expect_body web.lab.test $APORT /ews/y "B2 /EWS/y"
[ "$(npid)" = "$n0" ] && kill -0 "$n0" || die "nginx master pid changed: $n0 -> $(npid)"
[ "$(apid)" = "$a0" ] && kill -0 "$a0" || die "apache2 parent pid changed: $a0 -> $(apid)"
ok "backend change: exit 0, nginx and apache2 reloaded, both serve backend 2, same master pids"

# nginx: a change nginx -t accepts but the running nginx cannot load (port held).
HPORT=4443
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1); time.sleep(600)' $HPORT &
holder=$!
for _ in $(seq 300); do ss -Hltn "sport = :$HPORT" | grep -q . && break; sleep 0.1; done
ss -Hltn "sport = :$HPORT" | grep -q . || die "the port holder does not listen on $HPORT"
host_state "$lab/ngx" >before
profile 9001 $HPORT "$lab/proxy.key" >site.ini
rc=0
"$MXDECK" apply --yes --host ngx site.ini >out 2>&1 || rc=$?
# nginx keeps running its old configuration when a reload cannot bind: the apply must
# not be reported as done.
grep -q "bind() to 0.0.0.0:$HPORT failed" "$lab/ngx/log/error.log" ||
	{ cat out; die "test setup: nginx did not even try the held port $HPORT"; }
kill -0 "$n0" && [ "$(npid)" = "$n0" ] || die "nginx (pid $n0) is gone"
[ $rc -eq 4 ] || { cat out; die "apply whose port nginx cannot bind: exit $rc, want 4 (nginx never loaded it)"; }
grep -q "nginx reload failed" out && grep -q "did not load the new configuration" out ||
	{ cat out; die "the report does not say nginx did not load the new configuration"; }
host_state "$lab/ngx" | diff before - || die "nginx files not restored"
expect_body mail.lab.test 443 /owa/x "B2 /owa/x"
ok "port held by another process: nginx keeps its old config, apply exits 4, files restored, still served"
kill "$holder"
holder=

# Apache: a key that does not match its certificate passes apache2 -t but not a restart.
host_state "$lab/apa" >before
profile 9002 443 "$lab/other.key" >site.ini
(set +u; . "$a/envvars"; apache2 -d "$a" -f "$a/apache2.conf" -t >/dev/null 2>&1) ||
	die "test setup: apache2 -t refuses the mismatched key; pick another failure"
rc=0
"$MXDECK" apply --yes --host apa site.ini >out 2>&1 || rc=$?
[ $rc -eq 4 ] || { cat out; die "apply with a mismatched key: exit $rc, want 4"; }
grep -q "apache2 reload failed" out || { cat out; die "the report does not say the reload failed"; }
host_state "$lab/apa" | diff before - || die "apache files not restored"
if kill -0 "$a0" 2>/dev/null; then
	expect_body web.lab.test $APORT /owa/x "B2 /owa/x"
	ok "mismatched key: apply exits 4, files restored, apache2 (pid $a0) still serves the old config"
else
	# Apache's graceful restart exits on a configuration it cannot load: the report must
	# say that the server is down, not only that the files are back.
	grep -q "apache2 is not running: old files restored; start it by hand" out ||
		{ cat out; die "apache2 died and the report does not say so"; }
	(set +u; . "$a/envvars" && apache2 -d "$a" -f "$a/apache2.conf" -k start) ||
		die "apache2 does not start on the restored files"
	expect_body web.lab.test $APORT /owa/x "B2 /owa/x"
	ok "mismatched key: apache2 exits on graceful; apply exits 4, files restored, the report says apache2 is down and must be started; it starts on the restored files"
fi
