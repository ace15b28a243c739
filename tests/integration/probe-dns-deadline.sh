#!/usr/bin/env bash
# probe-dns-deadline.sh: the DNS MX probe keeps its timeout and the run's deadline
# (issue 14 item 7). nsd on loopback serves a zone with 2,000 MX records (each with an
# A record); the probe runs against nsd itself and through a deliberately slow
# resolver (tests/lab/slow-dns.py: every answer 50 ms late, UDP and TCP). Before the
# fix the probe looked up A and AAAA for every MX whatever the time (each lookup
# allowed 0.2 s even after the deadline): minutes through the slow resolver.
#
# Asserted: the command returns (an outer `timeout` would fail it) and the probe
# reports its outcome: either every MX looked up, or "deadline reached after N of
# 2000 MX hosts" with N < 2000 -- through the slow resolver always the latter, both
# for a probe timeout shorter than the run deadline and for a run deadline shorter
# than the timeout. No wall time is asserted (tests/bench/probe.sh measures).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MXDECK=${MXDECK:-$ROOT/build/mxdeck}
. "$ROOT/tests/lab/probe-lab.sh"
. "$ROOT/tests/lab/checks.sh"
lab_need nsd nsd-checkzone /usr/bin/python3
lab_init
trap lab_cleanup EXIT

Z=$LAB/zone
mkdir -p "$Z"
{
	cat <<EOF
\$ORIGIN big.test.
\$TTL 300
@ IN SOA ns.big.test. hostmaster.big.test. 1 3600 600 86400 300
@ IN NS ns.big.test.
ns IN A 127.0.0.1
EOF
	for i in $(seq 1 2000); do
		printf '@ IN MX %d mx%04d.big.test.\nmx%04d IN A 127.0.0.%d\n' \
		    $((i % 65535)) "$i" "$i" $((i % 250 + 1))
	done
} >"$Z/big.test"
nsd-checkzone big.test "$Z/big.test" >/dev/null
DNS=$(lab_port)
lab_nsd big "$DNS" big.test "$Z/big.test"
SLOW=$(lab_port)
/usr/bin/python3 "$ROOT/tests/lab/slow-dns.py" "$SLOW" "$DNS" 50 </dev/null >/dev/null 2>&1 &
LAB_PIDS="$LAB_PIDS $!"
lab_wait_port "$SLOW"

profile() {	# resolver-port
	cat <<EOF
[site]
name = big
domain = big.test
resolver = 127.0.0.1:$1

[host "gw1"]
address = 127.0.0.1
roles = postfix
EOF
}
profile "$DNS" >"$LAB/fast.ini"
profile "$SLOW" >"$LAB/slow.ini"

# run NAME INI TIMEOUT DEADLINE: the MX probe alone; exit code, JSON and stderr kept
run() {
	local rc=0
	MXDECK_PROBES=dns MXDECK_PROBE_TIMEOUT=$3 MXDECK_PROBE_DEADLINE=$4 \
	    timeout 120 "$MXDECK" test "$2" --json >"$LAB/$1.json" 2>"$LAB/$1.txt" || rc=$?
	echo "$rc" >"$LAB/$1.rc"
}
sm() { lab_json_get "$LAB/$1.json" '' mx summary; }
dt() { lab_json_get "$LAB/$1.json" '' mx details; }
st() { lab_json_get "$LAB/$1.json" '' mx status; }
# stopped NAME: "deadline reached after N of 2000" with N < 2000; prints N
stopped() {
	local n
	n=$(sm "$1" | sed -n 's/.*deadline reached after \([0-9]*\) of 2000 MX hosts.*/\1/p')
	[ -n "$n" ] && [ "$n" -lt 2000 ] || { echo "     summary: $(sm "$1" | cut -c1-300)" >&2; return 1; }
}

# The zone really has 2000 MX (the probe sees all of them).
run fast "$LAB/fast.ini" 1 3
check "fast resolver: returned (not killed by the outer timeout)" \
    sh -c "[ \$(cat '$LAB/fast.rc') != 124 ] && [ \$(cat '$LAB/fast.rc') -le 2 ]"
check "fast resolver: the probe saw 2000 MX" has "$(sm fast)" "2000 MX"
check "fast resolver, timeout 1 s, deadline 3 s: all looked up or stopped at the deadline" \
    sh -c "case \"\$1\" in *'deadline reached after '*' of 2000 MX hosts'*) exit 0 ;; esac
        [ \$(printf '%s\n' \"\$2\" | grep -c '^ok   MX [0-9]') -eq 2000 ]" _ "$(sm fast)" "$(dt fast)"

run slow1 "$LAB/slow.ini" 2 3
check "slow resolver, timeout 2 s, deadline 3 s: returned" \
    sh -c "[ \$(cat '$LAB/slow1.rc') != 124 ] && [ \$(cat '$LAB/slow1.rc') -le 2 ]"
check "slow resolver, timeout 2 s: deadline reached after N of 2000 MX hosts" stopped slow1
check "slow resolver, timeout 2 s: the probe fails (not all MX checked)" eq "$(st slow1)" fail
check "slow resolver, timeout 2 s: details say how many were not looked up" \
    has "$(dt slow1)" "were not looked up"

run slow2 "$LAB/slow.ini" 30 2
check "slow resolver, timeout 30 s, run deadline 2 s: returned" \
    sh -c "[ \$(cat '$LAB/slow2.rc') != 124 ] && [ \$(cat '$LAB/slow2.rc') -le 2 ]"
check "slow resolver, run deadline 2 s: deadline reached after N of 2000 MX hosts" stopped slow2

for r in fast slow1 slow2; do
	echo "# $r: exit $(cat "$LAB/$r.rc"), mx $(lab_json_get "$LAB/$r.json" '' mx duration)s: $(sm $r | sed "s/, mx[0-9]*\.big\.test//g")"
done
checks_done
