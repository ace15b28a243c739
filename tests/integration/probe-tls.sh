#!/usr/bin/env bash
# probe-tls.sh: `mxdeck test` against TLS endpoints on loopback (openssl s_server as the
# TLS peer, a lab CA via SSL_CERT_FILE) and against servers that misbehave. Each case
# must come out as the truth: valid ok, expired fail, wrong name fail, soon-expiring
# warn, TLS 1.0-only fail against >=TLSv1.2, client renegotiation accepted fail under
# no_renegotiation = yes; silent, garbage, reset, closed and unreachable endpoints fail
# within the per-probe timeout. Protocol and cipher are cross-checked with s_client.
# An SMTP server that picks its certificate by SNI (right name with SNI, another
# without, which is what Postfix's SMTP client sees) warns, cross-checked with
# posttls-finger; an RSA-1024 leaf signed with SHA-1 reports both weaknesses, each on
# its own, with every certificate's key and signature algorithm (cross-checked with
# openssl x509).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MXDECK=${MXDECK:-$ROOT/build/mxdeck}
. "$ROOT/tests/lab/probe-lab.sh"
. "$ROOT/tests/lab/checks.sh"
lab_need openssl ss /usr/bin/python3
lab_init
trap lab_cleanup EXIT

lab_ca
K=$LAB/pki
P_GOOD=$(lab_port); lab_s_server "$P_GOOD" "$K/good.pem" "$K/good.key"
P_EXP=$(lab_port); lab_s_server "$P_EXP" "$K/expired.pem" "$K/expired.key"
P_WRONG=$(lab_port); lab_s_server "$P_WRONG" "$K/wrong.pem" "$K/wrong.key"
P_SOON=$(lab_port); lab_s_server "$P_SOON" "$K/soon.pem" "$K/soon.key"
P_OLD=$(lab_port); lab_s_server "$P_OLD" "$K/good.pem" "$K/good.key" -tls1 \
    -cipher 'DEFAULT:@SECLEVEL=0'
P_RENEG=$(lab_port); lab_s_server "$P_RENEG" "$K/good.pem" "$K/good.key" \
    -client_renegotiation -no_tls1_3
# SNI smtp.lab.test gets the right certificate, no SNI the wrong one
P_SNI=$(lab_port); lab_s_server "$P_SNI" "$K/wrong.pem" "$K/wrong.key" \
    -servername smtp.lab.test -cert2 "$K/good.pem" -key2 "$K/good.key"
# RSA-1024 leaf signed with SHA-1 by the lab CA
openssl req -newkey rsa:1024 -nodes -keyout "$K/weak.key" -subj "/CN=smtp.lab.test" \
    -out "$K/weak.csr" 2>/dev/null
printf 'subjectAltName=DNS:smtp.lab.test\nbasicConstraints=CA:FALSE\n' > "$K/weak.ext"
openssl x509 -req -sha1 -in "$K/weak.csr" -CA "$K/ca.pem" -CAkey "$K/ca.key" \
    -CAcreateserial -days 30 -extfile "$K/weak.ext" -out "$K/weak.pem" 2>/dev/null
chmod 644 "$K"/*
P_WEAK=$(lab_port); lab_s_server "$P_WEAK" "$K/weak.pem" "$K/weak.key" \
    -cipher 'DEFAULT:@SECLEVEL=0'
P_SILENT=$(lab_port); lab_bad silent "$P_SILENT"
P_GARB=$(lab_port); lab_bad garbage "$P_GARB"
P_RESET=$(lab_port); lab_bad reset "$P_RESET"
P_SGARB=$(lab_port); lab_bad smtpgarbage "$P_SGARB"
P_HANG=$(lab_port); lab_bad close "$P_HANG"
P_CLOSED=$(lab_port)
for p in $P_GOOD $P_EXP $P_WRONG $P_SOON $P_OLD $P_RENEG $P_SNI $P_WEAK $P_SILENT $P_GARB $P_RESET $P_SGARB $P_HANG; do
	lab_wait_port "$p"
done

host() {	# name port [service]
	cat <<EOF

[host "$1"]
address = 127.0.0.1
roles = postfix
probe_ports = smtp:off submission:off smtps:off ${3:-smtps}:$2
EOF
}
{
	cat <<EOF
[site]
name = lab
domain = lab.test

[autodiscover "lab.test"]
imap = imap.lab.test:993/ssl
smtp = smtp.lab.test:465/ssl

[tls]
smtpd_protocols = >=TLSv1.2
no_renegotiation = yes
EOF
	host good "$P_GOOD"
	host expired "$P_EXP"
	host wrong "$P_WRONG"
	host soon "$P_SOON"
	host old "$P_OLD"
	host reneg "$P_RENEG"
	host sni "$P_SNI"
	host weak "$P_WEAK"
	host silent "$P_SILENT"
	host garbage "$P_GARB"
	host reset "$P_RESET"
	host closed "$P_CLOSED"
	host hangup "$P_HANG"
	host smtphangup "$P_HANG" smtp
	host smtpgarbage "$P_SGARB" smtp
	host smtpsilent "$P_SILENT" smtp
	cat <<EOF

[host "unreachable"]
address = 192.0.2.1
roles = postfix
probe_ports = smtp:off submission:off smtps:465
EOF
} > "$LAB/tls.ini"

export SSL_CERT_FILE=$K/ca.pem
start=$(date +%s.%N)
rc=0
MXDECK_PROBES=tls,tlsver MXDECK_PROBE_TIMEOUT=3 "$MXDECK" test "$LAB/tls.ini" --json \
    >"$LAB/out.json" 2>"$LAB/out.txt" || rc=$?
end=$(date +%s.%N)
cat "$LAB/out.txt"
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
# Hosts "unreachable" (192.0.2.1, TEST-NET) and "closed" (nothing listens) are never
# reached by any probe: exit 3 (mxdeck(1) EXIT STATUS), not 1.
check "exit status 3 when a host cannot be reached at all" eq "$rc" 3
check "--json names exactly the hosts that could not be reached" eq \
    "$(/usr/bin/python3 -c 'import json,sys; print(" ".join(sorted(json.load(open(sys.argv[1]))["unreachable"])))' "$LAB/out.json")" \
    "closed unreachable"
check "--json: one summary line on stderr" eq "$(wc -l <"$LAB/out.txt")" 1
check "whole run within the 3 s probe timeout plus slack (took ${secs}s)" \
    awk -v s="$secs" 'BEGIN { exit !(s < 8) }'
check "JSON output parses" /usr/bin/python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$LAB/out.json"

st() { lab_json_get "$LAB/out.json" "$1" "$2" status; }
sm() { lab_json_get "$LAB/out.json" "$1" "$2" summary; }
dt() { lab_json_get "$LAB/out.json" "$1" "$2" details; }
lacks() { case $1 in *"$2"*) echo "     '$1' has '$2'" >&2; return 1 ;; esac; return 0; }

check "valid certificate: ok" eq "$(st good 'tls smtps')" ok
check "valid: chain ok, name ok" has "$(sm good 'tls smtps')" "chain ok"
check "valid: accepts TLSv1.2 TLSv1.3 as the policy" eq "$(st good 'protocols smtps')" ok
check "expired certificate: fail" eq "$(st expired 'tls smtps')" fail
check "expired: says EXPIRED" has "$(sm expired 'tls smtps')" "EXPIRED"
check "wrong hostname: fail" eq "$(st wrong 'tls smtps')" fail
check "wrong hostname: says WRONG NAME" has "$(sm wrong 'tls smtps')" "WRONG NAME"
check "expires in 5 days: warn" eq "$(st soon 'tls smtps')" warn
check "TLS 1.0 only: protocols fail" eq "$(st old 'protocols smtps')" fail
check "TLS 1.0 only: names TLSv1 as not allowed" has "$(sm old 'protocols smtps')" "TLSv1 NOT ALLOWED"
check "TLS 1.0 only: accepts exactly TLSv1" has "$(sm old 'protocols smtps')" "accepts TLSv1,"
check "client renegotiation accepted under no_renegotiation = yes: fail" \
    eq "$(st reneg 'protocols smtps')" fail
check "renegotiation: says ACCEPTED" has "$(sm reneg 'protocols smtps')" "client reneg ACCEPTED"
check "the same server's certificate: ok" eq "$(st reneg 'tls smtps')" ok
check "default s_server refuses client renegotiation" has "$(sm good 'protocols smtps')" "client reneg refused"
check "secure renegotiation reported" has "$(dt good 'protocols smtps')" "secure renegotiation (RFC 5746) supported"
check "reneg server without TLS 1.3: policy says it should" has "$(dt reneg 'protocols smtps')" "TLSv1.3 refused but the profile enables it"
for h in silent garbage reset closed hangup unreachable smtpgarbage smtpsilent smtphangup; do
	svc=smtps
	case $h in smtp*) svc=smtp ;; esac
	check "$h: tls fails" eq "$(st $h "tls $svc")" fail
	check "$h: protocols fails" eq "$(st $h "protocols $svc")" fail
	d=$(lab_json_get "$LAB/out.json" "$h" "tls $svc" duration)
	check "$h: within its 3 s timeout (${d}s)" awk -v s="$d" 'BEGIN { exit !(s < 4.5) }'
done
check "silent: says timed out" has "$(dt silent 'tls smtps')" "timed out"
check "closed: says connection refused" has "$(dt closed 'tls smtps')" "refused"
check "smtpgarbage: says not an SMTP reply" has "$(dt smtpgarbage 'tls smtp')" "not an SMTP reply"

# SNI: Postfix's SMTP client sends none (unless DANE).
check "SNI-dependent certificate: warn" eq "$(st sni 'tls smtps')" warn
check "SNI: the SNI handshake is fine" has "$(sm sni 'tls smtps')" "chain ok, 89 days left, name ok (smtp.lab.test)"
check "SNI: says the certificate differs without SNI, and which" has "$(sm sni 'tls smtps')" "NO-SNI CERT DIFFERS (CN=wrong.other.test (DNS:wrong.other.test))"
check "SNI: names both certificates" has "$(dt sni 'tls smtps')" "with SNI smtp.lab.test the server presents CN=smtp.lab.test"
check "SNI: the no-SNI one does not match" has "$(dt sni 'tls smtps')" "presents CN=wrong.other.test (DNS:wrong.other.test), which does NOT match"
check "same certificate either way: said so" has "$(dt good 'tls smtps')" "the same certificate with and without SNI"
check "same certificate either way: no SNI warning" eq "$(st good 'tls smtps')" ok
if command -v posttls-finger >/dev/null; then
	ptf=$(posttls-finger -c -w -l secure -F "$K/ca.pem" -t 5 -T 1 "[127.0.0.1]:$P_SNI" 2>&1 || true)
	echo "posttls-finger (no SNI): $ptf"
	check "posttls-finger agrees: without SNI the server presents wrong.other.test" has "$ptf" "subject_CN=wrong.other.test"
	ptf=$(posttls-finger -c -w -l secure -F "$K/ca.pem" -s smtp.lab.test -t 5 -T 1 "[127.0.0.1]:$P_SNI" 2>&1 || true)
	check "posttls-finger agrees: with SNI smtp.lab.test it presents smtp.lab.test" has "$ptf" "subject_CN=smtp.lab.test"
fi

# Weak key and weak signature: each on its own, and the fields of every certificate.
x=$(openssl x509 -in "$K/weak.pem" -noout -text)
check "openssl x509: the weak leaf is RSA-1024" has "$x" "Public-Key: (1024 bit)"
check "openssl x509: ...signed with SHA-1" has "$x" "Signature Algorithm: sha1WithRSAEncryption"
check "weak leaf: fail" eq "$(st weak 'tls smtps')" fail
check "weak leaf: the key, on its own" has "$(sm weak 'tls smtps')" "WEAK KEY RSA-1024 (chain[0])"
check "weak leaf: the signature, on its own" has "$(sm weak 'tls smtps')" "WEAK SIGNATURE SHA1 (chain[0])"
check "weak leaf: key and signature as fields" has "$(dt weak 'tls smtps')" "chain[0] CN=smtp.lab.test (DNS:smtp.lab.test): key=RSA bits=1024 security_bits=80 signature=sha1WithRSAEncryption"
check "weak leaf: the CA's fields too" has "$(dt weak 'tls smtps')" "chain[1] CN=mxdeck lab CA: key=RSA bits=2048 security_bits=112 signature=sha256WithRSAEncryption (self-signed)"
certs() {	# host -> "depth key_type key_bits security_bits signature self_signed" lines
	/usr/bin/python3 - "$LAB/out.json" "$1" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    if r["host"] == sys.argv[2] and r["name"] == "tls smtps":
        for c in r.get("certs", []):
            print(c["depth"], c["key_type"], c["key_bits"], c["security_bits"],
                  c["signature"], c["signature_security_bits"], c["self_signed"])
PY
}
check "weak leaf: JSON certs fields" eq "$(certs weak)" "0 RSA 1024 80 sha1WithRSAEncryption 63 False
1 RSA 2048 112 sha256WithRSAEncryption 128 True"
check "good leaf: its fields" has "$(dt good 'tls smtps')" "chain[0] CN=smtp.lab.test (DNS:smtp.lab.test, DNS:imap.lab.test"
check "good leaf: no weakness" lacks "$(sm good 'tls smtps')" "WEAK"

# Cross-check protocol and cipher with openssl s_client.
for h in good expired old; do
	case $h in good) p=$P_GOOD ;; expired) p=$P_EXP ;; old) p=$P_OLD ;; esac
	extra=
	[ "$h" = old ] && extra="-cipher DEFAULT:@SECLEVEL=0"
	# shellcheck disable=SC2086
	out=$(openssl s_client -connect "127.0.0.1:$p" -servername smtp.lab.test $extra \
	    </dev/null 2>/dev/null)
	# "New, TLSv1.3, Cipher is X" is printed for every handshake (the session block
	# only once a TLS 1.3 ticket arrived); s_client says TLSv1.0 where
	# SSL_get_version() says TLSv1.
	proto=$(echo "$out" | sed -n 's/^New, \([^,]*\), Cipher is .*/\1/p' | head -1)
	ciph=$(echo "$out" | sed -n 's/^New, [^,]*, Cipher is \(.*\)/\1/p' | head -1)
	[ "$proto" = TLSv1.0 ] && proto=TLSv1
	check "$h: s_client says $proto $ciph; mxdeck agrees" \
	    has "$(sm $h 'tls smtps')" "$proto $ciph"
done

# Cross-check the renegotiation verdicts with s_client's.
check "s_client: reneg server accepts client renegotiation" eq "$(lab_s_client_reneg "$P_RENEG")" accepted
check "s_client: default server refuses it" eq "$(lab_s_client_reneg "$P_GOOD")" refused

check "reach in JSON: unreachable -1, closed -1, silent 1 (connected)" eq \
    "$(lab_json_get "$LAB/out.json" unreachable 'tls smtps' reach) $(lab_json_get "$LAB/out.json" closed 'tls smtps' reach) $(lab_json_get "$LAB/out.json" silent 'tls smtps' reach)" "-1 -1 1"
# Exit 1, not 3, when every host was reached and a probe failed; 3 when one of several
# hosts was not reached.
rc=0
MXDECK_PROBES=tls,tlsver MXDECK_PROBE_TIMEOUT=3 "$MXDECK" test "$LAB/tls.ini" \
    --host expired --host silent >"$LAB/reached.txt" 2>&1 || rc=$?
check "reached hosts with failing probes (expired, silent): exit 1" eq "$rc" 1
rc=0
MXDECK_PROBES=tls,tlsver MXDECK_PROBE_TIMEOUT=3 "$MXDECK" test "$LAB/tls.ini" \
    --host good --host closed >"$LAB/mixed.txt" 2>&1 || rc=$?
check "good + closed: exit 3" eq "$rc" 3
check "good + closed: names only closed" sh -c "grep -q 'host closed could not be reached' '$LAB/mixed.txt' && ! grep -q 'host good could not' '$LAB/mixed.txt'"

# --host: only that host; an unknown host is a usage error (nothing contacted).
rc=0
MXDECK_PROBES=tls "$MXDECK" test "$LAB/tls.ini" --host good >"$LAB/good.txt" 2>&1 || rc=$?
check "--host good: exit 0" eq "$rc" 0
check "--host good: one probe" eq "$(grep -c '^ok  ' "$LAB/good.txt")" 1
rc=0
"$MXDECK" test "$LAB/tls.ini" --host nosuch >/dev/null 2>"$LAB/err.txt" || rc=$?
check "--host nosuch: exit 2" eq "$rc" 2
check "--host nosuch: says which" has "$(cat "$LAB/err.txt")" 'no host "nosuch"'
# Without the lab CA the chain does not verify.
rc=0
env -u SSL_CERT_FILE MXDECK_PROBES=tls "$MXDECK" test "$LAB/tls.ini" --host good \
    >"$LAB/noca.txt" 2>&1 || rc=$?
check "system CA store only: lab chain fails (exit 1)" eq "$rc" 1
check "system CA store only: says why" has "$(cat "$LAB/noca.txt")" "chain does not verify"

checks_done
