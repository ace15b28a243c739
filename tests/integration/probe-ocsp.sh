#!/usr/bin/env bash
# probe-ocsp.sh: the ocsp probe kind against a real nginx stapling OCSP responses made
# by `openssl ocsp` for the lab CA (ssl_stapling_file), one vhost per case on one port:
#   stapled   a good response for its certificate              -> ok "stapled: good"
#   plain     no stapling, an ordinary certificate             -> ok "not stapled"
#   must      a must-staple certificate (RFC 7633), no staple   -> fail
#   revoked   a response saying the certificate is revoked     -> fail
#   other     a good response, but for another certificate     -> fail
# and openssl s_client -status agrees on what each vhost staples.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MXDECK=${MXDECK:-$ROOT/build/mxdeck}
. "$ROOT/tests/lab/probe-lab.sh"
. "$ROOT/tests/lab/checks.sh"
lab_need openssl ss nginx /usr/bin/python3
lab_init
trap lab_cleanup EXIT

lab_ca
K=$LAB/pki
P=$(lab_port)
for c in stapled plain revoked other; do
	lab_pki_leaf "$c" 30 "$c.lab.test" "DNS:$c.lab.test"
done
lab_pki_leaf must 30 "must.lab.test" $'DNS:must.lab.test\ntlsfeature=status_request'
check "the must-staple certificate has the TLS feature" has \
    "$(openssl x509 -in "$K/must.pem" -noout -text)" "TLS Feature"

# An OCSP database of the lab CA: stapled and other good, revoked revoked.
idx=$LAB/ocsp-index.txt
: > "$idx"
exp=$(date -u -d '+30 days' +%y%m%d%H%M%SZ)
revd=$(date -u -d '-1 day' +%y%m%d%H%M%SZ)
for c in stapled other revoked; do
	serial=$(openssl x509 -in "$K/$c.pem" -noout -serial | cut -d= -f2)
	if [ "$c" = revoked ]; then
		printf 'R\t%s\t%s,keyCompromise\t%s\tunknown\t/CN=%s.lab.test\n' "$exp" "$revd" "$serial" "$c" >> "$idx"
	else
		printf 'V\t%s\t\t%s\tunknown\t/CN=%s.lab.test\n' "$exp" "$serial" "$c" >> "$idx"
	fi
done
for c in stapled revoked other; do
	openssl ocsp -index "$idx" -rsigner "$K/ca.pem" -rkey "$K/ca.key" -CA "$K/ca.pem" \
	    -issuer "$K/ca.pem" -cert "$K/$c.pem" -ndays 1 -respout "$LAB/$c.der" >/dev/null 2>&1
	check "openssl ocsp made the $c response" test -s "$LAB/$c.der"
done

conf=$LAB/ocsp-sites.conf
: > "$conf"
for c in stapled plain must revoked other; do
	cat "$K/$c.pem" "$K/ca.pem" > "$K/$c.chain"
	{
		echo "server {"
		echo "	listen 127.0.0.1:$P ssl;"
		echo "	server_name $c.lab.test;"
		echo "	ssl_certificate $K/$c.chain;"
		echo "	ssl_certificate_key $K/$c.key;"
		case $c in
		stapled|revoked) echo "	ssl_stapling on; ssl_stapling_file $LAB/$c.der;" ;;
		other) echo "	ssl_stapling on; ssl_stapling_file $LAB/stapled.der;" ;;
		esac
		echo "	location / { return 200 'ok'; }"
		echo "}"
	} >> "$conf"
done
chmod -R a+rX "$LAB"
lab_nginx "$conf"
lab_wait_port "$P"

{
	cat <<EOF
[site]
name = ocsp
domain = lab.test

[host "web"]
address = 127.0.0.1
roles = nginx
probe_ports = https:$P

[tests]
ca = $K/ca.pem
EOF
	for c in stapled plain must revoked other; do
		printf '\n[vhost "%s.lab.test"]\nserver = nginx\nbackend = https://127.0.0.1:9\nservices = owa\ncertificate = %s\nkey = %s\n' \
		    "$c" "$K/$c.pem" "$K/$c.key"
	done
} > "$LAB/ocsp.ini"

rc=0
MXDECK_PROBES=ocsp MXDECK_PROBE_TIMEOUT=10 "$MXDECK" test "$LAB/ocsp.ini" --json \
    >"$LAB/ocsp.json" 2>"$LAB/ocsp.txt" || rc=$?
cat "$LAB/ocsp.txt"
check "captured the ocsp results" captured "$LAB/ocsp.json" '"ocsp"'
res() {	# vhost field
	lab_json_target "$LAB/ocsp.json" "127.0.0.1:$P ($1.lab.test)" "$2"
}
check "exit 1 (fails present)" eq "$rc" 1
check "stapled: ok, good" eq "$(res stapled status) $(res stapled summary)" "ok stapled: good"
check "stapled: says signed by the issuer" has "$(res stapled details)" "good, signed by the issuer"
check "plain: ok, not stapled" eq "$(res plain status) $(res plain summary)" "ok not stapled (optional)"
check "must: fail" eq "$(res must status)" fail
check "must: says must-staple with nothing stapled" has "$(res must summary)" "must-staple certificate, NOTHING STAPLED"
check "revoked: fail" eq "$(res revoked status)" fail
check "revoked: says REVOKED with the reason" has "$(res revoked details)" "the certificate is REVOKED"
check "revoked: the reason" has "$(res revoked details)" "keyCompromise"
check "other: fail" eq "$(res other status)" fail
check "other: the response is about another certificate" has "$(res other summary)" "ANOTHER certificate"

# openssl s_client -status: what each vhost staples, independently.
staple() {	# vhost
	echo | openssl s_client -connect "127.0.0.1:$P" -servername "$1.lab.test" -status \
	    -CAfile "$K/ca.pem" 2>/dev/null | sed -n 's/^ *Cert Status: //p' | head -1
}
check "s_client: stapled is good" eq "$(staple stapled)" good
check "s_client: revoked is revoked" eq "$(staple revoked)" revoked
check "s_client: plain staples nothing" eq "$(staple plain)" ""

checks_done
