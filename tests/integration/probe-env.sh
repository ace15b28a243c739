#!/bin/bash
# probe-env.sh: the probe settings in the environment (MXDECK_PROBE_TIMEOUT, _DEADLINE,
# _HTTP_PORT, MXDECK_PROBES) are read by one function for `mxdeck test` and `audit`: a
# bad value is a usage error (exit 2) naming the variable, before any host is contacted
# (audit used to ignore a bad MXDECK_PROBES and read MXDECK_PROBE_TIMEOUT with atof).
set -eu
: "${MXDECK:?set MXDECK to the mxdeck binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL - $*"; exit 1; }
ok() { echo "ok - $*"; }

# A port nothing listens on: a host that would be contacted fails with exit 3.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$tmp/site.ini" <<INI
[site]
name = env
domain = example.org
[host "gw"]
address = 127.0.0.1
port = $port
roles = postfix
postfix_dir = $tmp/postfix
INI

check() {	# check COMMAND VAR VALUE
	local cmd=$1 var=$2 val=$3 rc=0
	env "$var=$val" "$MXDECK" --known-hosts "$tmp/kh" $cmd "$tmp/site.ini" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ -s "$tmp/err" ] || die "$cmd with $var=$val: nothing on stderr (exit $rc)"
	[ $rc -eq 2 ] || { cat "$tmp/err"; die "$cmd with $var=$val: exit $rc, want 2"; }
	grep -qF "$var" "$tmp/err" || { cat "$tmp/err"; die "$cmd: the message does not name $var"; }
	! grep -q "cannot connect\|Connection refused" "$tmp/err" || die "$cmd with $var=$val contacted the host"
}
for cmd in test audit; do
	check $cmd MXDECK_PROBE_TIMEOUT soon
	check $cmd MXDECK_PROBE_TIMEOUT 0
	check $cmd MXDECK_PROBE_DEADLINE 5s
	check $cmd MXDECK_PROBE_HTTP_PORT 99999
	check $cmd MXDECK_PROBES "tls bogus"
done
ok "test and audit refuse the same bad probe settings (exit 2, the variable named, no host contacted)"

rc=0
"$MXDECK" --known-hosts "$tmp/kh" audit --json "$tmp/site.ini" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
[ $rc -eq 3 ] || { cat "$tmp/err"; die "audit of a host that is down: exit $rc, want 3"; }
rc=0
MXDECK_PROBE_TIMEOUT=1 "$MXDECK" --known-hosts "$tmp/kh" audit --json "$tmp/site.ini" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ $rc -eq 3 ] || { cat "$tmp/err"; die "audit with a good MXDECK_PROBE_TIMEOUT: exit $rc, want 3"; }
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["exit"] == 3, d' "$tmp/out" ||
	die "audit --json"
ok "good values are accepted (the host that is down is then reported: exit 3)"
