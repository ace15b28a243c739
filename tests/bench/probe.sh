#!/usr/bin/env bash
# probe.sh: how fast `mxdeck test` sweeps TLS endpoints, against a shell loop of
# `openssl s_client`. 200 openssl s_server processes (RSA-2048, lab CA) on loopback;
# a profile with one host per endpoint (address 127.0.0.1, probe_ports https:PORT).
# Prints: the loop's time per handshake, mxdeck's wall time and handshakes/s, the
# ratio for the same number of handshakes, handshakes/s against the machine's RSA-2048
# signing limit, wall time at 50/200/800 endpoints, and the effect of --jobs.
#   BENCH_N=200 BENCH_LOOP=200 tests/bench/probe.sh
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MXDECK=${MXDECK:-$ROOT/build/mxdeck}
N=${BENCH_N:-200}
LAB_WAIT_STEPS=600
LOOPN=${BENCH_LOOP:-200}
. "$ROOT/tests/lab/probe-lab.sh"
lab_init
trap lab_cleanup EXIT
export SSL_CERT_FILE

lab_ca
SSL_CERT_FILE=$LAB/pki/ca.pem
ports=()
for i in $(seq 1 "$N"); do
	p=$(lab_port)
	while printf '%s\n' "${ports[@]:-}" | grep -qx "$p"; do p=$(lab_port); done
	ports+=("$p")
	lab_s_server "$p" "$LAB/pki/good.pem" "$LAB/pki/good.key"
done
for p in "${ports[@]}"; do lab_wait_port "$p"; done
echo "bench: $N openssl s_server endpoints on 127.0.0.1 ($(nproc) cores)"

profile() {	# count -> file
	local n=$1 f=$LAB/bench-$1.ini i
	{
		printf '[site]\nname = bench\ndomain = lab.test\n\n[tls]\nno_renegotiation = yes\n'
		for i in $(seq 0 $((n - 1))); do
			printf '\n[host "e%d"]\naddress = 127.0.0.1\nroles = apache\n' "$i"
			printf 'probe_ports = https:%s\n' "${ports[$((i % N))]}"
		done
	} > "$f"
	echo "$f"
}

now() { date +%s.%N; }
run_mx() {	# profile jobs -> "wall handshakes fails"
	local out
	out=$(MXDECK_PROBES=tls MXDECK_PROBE_TIMEOUT=20 MXDECK_PROBE_DEADLINE=300 \
	    "$MXDECK" test "$1" --jobs "$2" 2>&1 | tail -1)
	# "mxdeck: N probes: a ok, b warn, c fail; H TLS handshakes in W.WWs"
	echo "$out" | sed -n 's/.* \([0-9]*\) fail; \([0-9]*\) TLS handshakes in \([0-9.]*\)s$/\3 \2 \1/p'
}

# 1. The shell loop: one s_client handshake per endpoint.
t0=$(now)
for p in "${ports[@]:0:$LOOPN}"; do
	openssl s_client -connect "127.0.0.1:$p" </dev/null >/dev/null 2>&1 || true
done
t1=$(now)
loop=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
per=$(awk -v l="$loop" -v n="$LOOPN" 'BEGIN { printf "%.4f", l / n }')
echo "loop: $LOOPN x openssl s_client: ${loop}s, $(awk -v p="$per" 'BEGIN { printf "%.1f", p * 1000 }') ms per handshake"

# 2. mxdeck over the same endpoints (tls probe: default handshake, a TLS 1.2 one for
# the renegotiation check, the renegotiation attempt).
f=$(profile "$N")
# median of three runs (the first run of a process pays for cold caches)
runs=()
for k in 1 2 3; do
	read -r wall hs nfail <<<"$(run_mx "$f" 32)"
	[ "$nfail" = 0 ] || { echo "bench: $nfail probes failed" >&2; exit 1; }
	runs+=("$wall")
done
wall=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)
echo "mxdeck runs: ${runs[*]} s (median $wall)"
same=$(awk -v p="$per" -v h="$hs" 'BEGIN { printf "%.2f", p * h }')
ratio=$(awk -v s="$same" -v w="$wall" 'BEGIN { printf "%.1f", s / w }')
rawratio=$(awk -v l="$loop" -v n="$LOOPN" -v N="$N" -v w="$wall" 'BEGIN { printf "%.1f", l / n * N / w }')
hps=$(awk -v h="$hs" -v w="$wall" 'BEGIN { printf "%.0f", h / w }')
echo "mxdeck: $N endpoints, $hs handshakes in ${wall}s (--jobs 32): $hps handshakes/s"
echo "ratio for the same $hs handshakes: loop ${same}s / mxdeck ${wall}s = ${ratio}x (target >= 20x)"
echo "ratio per endpoint (mxdeck does $((hs / N)) handshakes each, the loop 1): ${rawratio}x"

# 3. A full probe run (tls + tlsver: cert, 4 protocol versions, renegotiation) and
# the machine's limit: RSA-2048 signatures per second on all cores (each completed
# handshake costs the server one).
full=$(MXDECK_PROBES=tls,tlsver MXDECK_PROBE_TIMEOUT=20 MXDECK_PROBE_DEADLINE=300 \
    "$MXDECK" test "$f" 2>&1 | tail -1)
fwall=$(echo "$full" | sed -n 's/.* TLS handshakes in \([0-9.]*\)s$/\1/p')
fhs=$(echo "$full" | sed -n 's/.* \([0-9]*\) TLS handshakes in .*/\1/p')
fhps=$(awk -v h="$fhs" -v w="$fwall" 'BEGIN { printf "%.0f", h / w }')
echo "full run: $N endpoints, $fhs completed handshakes (+ refused version probes) in ${fwall}s: $fhps handshakes/s"
sign=$(openssl speed -seconds 2 -multi "$(nproc)" rsa2048 2>/dev/null | awk '/^rsa 2048/ { print $6 }' | tail -1)
if [ -n "$sign" ]; then
	echo "RSA-2048 sign/s on $(nproc) cores (openssl speed): $sign"
	echo "single-handshake sweep reached $(awk -v h="$hps" -v s="$sign" 'BEGIN { printf "%.0f", 100 * h / s }')% of it, the full run $(awk -v h="$fhps" -v s="$sign" 'BEGIN { printf "%.0f", 100 * h / s }')% (target >= 50%)"
fi

# Where the time goes: mxdeck's own CPU per handshake (OpenSSL 3 client side) and the
# servers' (sum over the s_server processes, from /proc).
srvcpu() { local t=0 p; for p in $LAB_PIDS; do t=$((t + $(awk '{ print $14 + $15 }' /proc/$p/stat 2>/dev/null || echo 0))); done; echo "$t"; }
c0=$(srvcpu)
/usr/bin/time -o "$LAB/time.txt" -f '%U %S' env MXDECK_PROBES=tls "$MXDECK" test "$f" \
    --jobs 32 >/dev/null 2>&1
cl=$(tail -1 "$LAB/time.txt")
c1=$(srvcpu)
echo "CPU per handshake: client $(echo "$cl" | awk -v n="$N" '{ printf "%.2f", 1000 * ($1 + $2) / n }') ms, servers $(awk -v a="$c0" -v b="$c1" -v n="$N" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", 1000 * (b - a) / hz / n }') ms (so $(nproc) cores top out near $(echo "$cl" | awk -v n="$N" -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" -v c="$(nproc)" '{ printf "%.0f", c / (($1 + $2) / n + (b - a) / hz / n) }') handshakes/s)"

# 4. Growth: 50, 200, 800 endpoints (800 = each server listed four times).
for n in 50 200 800; do
	f=$(profile "$n")
	read -r wall hs nfail <<<"$(run_mx "$f" 32)"
	echo "scale: $n endpoints: ${wall}s, $hs handshakes, $(awk -v n="$n" -v w="$wall" 'BEGIN { printf "%.2f", 1000 * w / n }') ms per endpoint, $nfail fail"
done

# 5. Why a pool of 64: --jobs 1, 8, 32, 64, 128 on 200 endpoints.
f=$(profile "$N")
for j in 1 8 32 64 128; do
	read -r wall hs nfail <<<"$(run_mx "$f" "$j")"
	echo "jobs: --jobs $j: ${wall}s, $(awk -v h="$hs" -v w="$wall" 'BEGIN { printf "%.0f", h / w }') handshakes/s"
done
