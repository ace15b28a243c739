#!/usr/bin/env bash
# tests/valgrind.sh: the batch paths of mxdeck under valgrind, zero leaks and zero
# errors required:
#	valgrind --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all
#	    --error-exitcode=99
# Cases: --version/--help, lint of every shipped example and of broken profiles (error
# paths), render of every example, render into an unwritable place, `test` against
# loopback ports with nothing listening and against a silent server (the probe engine's
# threads, timeouts and cleanup), and plan/apply on an `address = local` host in a
# temp tree once those commands are built (skipped with a note before), with a lock left
# from another machine (plan, a refused apply, unlock).
#
# Env: MXDECK (a normal build, not ASan), BUILD. Prints one line per case; exit 0 when
# every case is clean, 1 otherwise (the valgrind log of a failed case is printed).
set -eu
MXDECK=${MXDECK:?set MXDECK to the mxdeck binary (not an ASan build)}
here=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null || { echo "valgrind not installed (apt-get install valgrind)"; exit 77; }
if nm -a "$MXDECK" 2>/dev/null | grep -q __asan_init; then
	echo "$MXDECK is an ASan build; valgrind needs a plain one"; exit 77
fi

tmp=$(mktemp -d /tmp/mxdeck-valgrind.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

fails=0 n=0
# vg NAME EXPECTED_EXIT ARGS...: run mxdeck under valgrind; the exit code must be the
# expected one (valgrind's own 99 means errors or leaks).
vg() {
	local name=$1 want=$2 rc log="$tmp/vg-$1.log"
	shift 2
	n=$((n + 1))
	set +e
	valgrind -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
	    --error-exitcode=99 --track-fds=no --num-callers=30 --log-file="$log" \
	    "$MXDECK" "$@" >"$tmp/out-$name.txt" 2>"$tmp/err-$name.txt" </dev/null
	rc=$?
	set -e
	if [ "$rc" -eq 99 ] || [ -s "$log" ]; then
		echo "not ok - $name: valgrind reports errors or leaks (exit $rc)"
		head -n 60 "$log" | sed 's/^/    /'
		fails=$((fails + 1))
	elif [ "$rc" -ne "$want" ]; then
		echo "not ok - $name: exit $rc, expected $want"
		tail -n 5 "$tmp/err-$name.txt" | sed 's/^/    /'
		fails=$((fails + 1))
	else
		echo "ok - $name (exit $rc, no leaks, no errors)"
	fi
}

vg version 0 --version
vg help 0 --help
vg usage 2 render

# lint and render every shipped example (with its users CSV next to it)
mkdir -p "$tmp/ex"
cp "$here"/share/examples/*.ini "$here"/share/examples/*.csv "$tmp/ex/"
"$here/share/lab/demo-lab.sh" pki "$tmp/ex"	# the demo CA's certificates demo.ini names
for p in "$tmp"/ex/*.ini; do
	b=$(basename "$p" .ini)
	set +e
	"$MXDECK" lint "$p" >/dev/null 2>&1
	want=$?
	set -e
	vg "lint-$b" "$want" lint "$p"
	[ "$want" -eq 0 ] || continue
	# Some examples name certificates that only exist on their gateway: render
	# then fails (exit 2) on purpose; valgrind checks that path as well.
	set +e
	"$MXDECK" render "$p" "$tmp/pre-$b" >/dev/null 2>&1
	want=$?
	set -e
	vg "render-$b" "$want" render "$p" "$tmp/out-$b"
done
# --json output path
vg lint-json 0 lint --json "$tmp/ex/demo.ini"

# error paths: unreadable, missing, garbage, bad values, missing users file
printf '[site]\nname = x\n[host "a"]\naddress = local\nport = 99999\nroles = postfix nope\n[vhost "v"]\nserver = iis\n[header-rules "r"]\nrule = /(/ FOOBAR\nrule = nodelim\n[users]\nfile = missing.csv\n[tls]\nsmtpd_protocols = TLSv9\n' >"$tmp/bad.ini"
vg lint-bad 2 lint "$tmp/bad.ini"
vg render-bad 2 render "$tmp/bad.ini" "$tmp/out-bad"
head -c 3000 /dev/urandom >"$tmp/random.ini"
vg lint-random 2 lint "$tmp/random.ini"
vg lint-missing 2 lint "$tmp/does-not-exist.ini"
printf 'email,imap\nalice@example.org,maybe\n"unterminated\n' >"$tmp/ex/bad-users.csv"
sed 's/^file = .*/file = bad-users.csv/' "$tmp/ex/demo.ini" >"$tmp/ex/demo-badcsv.ini"
vg lint-badcsv 2 lint "$tmp/ex/demo-badcsv.ini"
# render into a place that cannot be written
touch "$tmp/notadir"
vg render-unwritable 2 render "$tmp/ex/autodiscover.ini" "$tmp/notadir/sub" || true

# live tests: every probe against loopback with nothing listening (refused), and
# against a server that accepts and never answers (the per-probe timeout)
free_port() {
	local p
	while :; do
		p=$(( (RANDOM % 20000) + 30000 ))
		ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
	done
}
refused=$(free_port)
silent=$(free_port)
python3 - "$silent" <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
PY
pids="$pids $!"
for _ in $(seq 50); do ss -Hltn "sport = :$silent" | grep -q . && break; sleep 0.1; done
for kind in refused silent; do
	port=$([ $kind = refused ] && echo "$refused" || echo "$silent")
	cat >"$tmp/probe-$kind.ini" <<EOF
[site]
name = vg
domain = lab.test
resolver = 127.0.0.1:$port
trust_anchor = /usr/share/dns/root.key

[host "gw"]
address = 127.0.0.1
roles = postfix dovecot nginx autodiscover
probe_ports = smtp:$port submission:$port smtps:$port imaps:$port pop3s:$port imap:$port pop3:$port https:$port

[vhost "mail.lab.test"]
server = nginx
backend = https://exchange.lab.test:$port
services = owa ews autodiscover activesync
certificate = /etc/ssl/certs/ssl-cert-snakeoil.pem
key = /etc/ssl/private/ssl-cert-snakeoil.key

[autodiscover "lab.test"]
imap = 127.0.0.1:993/ssl
smtp = 127.0.0.1:465/ssl
activesync = https://127.0.0.1:$port/Microsoft-Server-ActiveSync
EOF
	set +e
	MXDECK_PROBE_TIMEOUT=2 MXDECK_PROBE_DEADLINE=20 "$MXDECK" test "$tmp/probe-$kind.ini" >/dev/null 2>&1
	want=$?
	set -e
	if [ "$want" -eq 2 ]; then
		echo "not ok - test-$kind: the probe profile does not load: $("$MXDECK" lint "$tmp/probe-$kind.ini" 2>&1 | grep -m1 error)"
		fails=$((fails + 1))
		continue
	fi
	MXDECK_PROBE_TIMEOUT=2 MXDECK_PROBE_DEADLINE=20 vg "test-$kind" "$want" test "$tmp/probe-$kind.ini"
	MXDECK_PROBE_TIMEOUT=2 MXDECK_PROBE_DEADLINE=20 vg "test-$kind-json" "$want" test --json "$tmp/probe-$kind.ini"
done

# plan / apply on this machine (address = local, no SSH) into a temp tree: a copy of
# the stock nginx configuration, the autodiscover responder; exit codes as mxdeck(1) says.
if "$MXDECK" plan /dev/null 2>&1 | grep -q "not built yet"; then
	echo "# plan/apply: not built yet in this tree, skipped"
else
	root=$tmp/local
	mkdir -p "$root/www" "$root/state"
	cp -a /etc/nginx "$root/nginx"
	cat >"$tmp/local.ini" <<EOF
[site]
name = vglocal
domain = lab.test

[host "here"]
address = local
roles = autodiscover nginx
nginx_dir = $root/nginx
www_dir = $root/www
state_dir = $root/state

[autodiscover "lab.test"]
imap = imap.lab.test:993/ssl
smtp = smtp.lab.test:465/ssl

[tls]
certificate = /etc/ssl/certs/ssl-cert-snakeoil.pem
key = /etc/ssl/private/ssl-cert-snakeoil.key
EOF
	vg plan-local 1 plan "$tmp/local.ini"
	vg apply-local 0 apply --yes "$tmp/local.ini"
	vg plan-after-apply 0 plan "$tmp/local.ini"
	vg plan-local-json 0 plan --json "$tmp/local.ini"
	# a lock left from another machine: plan reports it, apply is refused (locked),
	# unlock takes it over and releases it, a second unlock finds none
	mkdir -m 0700 "$root/state/lock"
	printf 'pid=4242\ncontroller=elsewhere.example\nhost=here\ntime=x\nepoch=1\n' \
	    >"$root/state/lock/owner"
	vg plan-left-lock 1 plan "$tmp/local.ini"
	vg apply-locked 3 apply --yes "$tmp/local.ini"
	vg unlock-local 0 unlock "$tmp/local.ini" --host here
	vg unlock-none 0 unlock "$tmp/local.ini" --host here
	# the doctor on the same host (threads, the read-only transport, render in memory)
	vg doctor-local 0 doctor "$tmp/local.ini"
	vg doctor-local-json 0 doctor --json "$tmp/local.ini"
fi
# first run: init (and its refusal), an unknown command
XDG_CONFIG_HOME=$tmp/xdg vg init 0 init connector
XDG_CONFIG_HOME=$tmp/xdg vg init-again 2 init connector
vg unknown-command 2 pln

echo "$((n - fails)) of $n cases clean under valgrind"
[ "$fails" -eq 0 ]
