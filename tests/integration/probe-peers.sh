#!/usr/bin/env bash
# probe-peers.sh: the checks peers make (testssl.sh, posttls-finger, swaks, Mail-in-a-Box's
# status checks), each a probe kind with a case that must fail, against real daemons on
# loopback:
#   vrfy:      Postfix "quiet" (disable_vrfy_command = yes: 502)            -> ok
#              Postfix "oracle" (VRFY on, a local domain: 252 vs 550)      -> fail
#              Postfix "vague" (VRFY on, relay domain only: 252 for all)   -> warn
#   cleartext: Dovecot "safe" (disable_plaintext_auth = yes)               -> ok
#              Dovecot "plain" (disable_plaintext_auth = no)               -> fail
#              both on an address of their own: Dovecot counts a client at its own
#              address as secured, and the probes connect from 127.0.0.1
#   ciphers:   s_server with ECDHE+AESGCM only                             -> ok
#              s_server accepting NULL-SHA, ADH-AES128-SHA, AES128-SHA     -> fail each
#              a 3DES-only stand-in (this libssl has no 3DES to serve)     -> fail
#              Postfix with its defaults: anon and non-FS accepted: fail on submission
#              and smtps; on 25 (opportunistic TLS) anon fails too, non-FS alone is
#              kept with a note (the rendered policy, tested in postfix-live.sh)
#              cross-checked with openssl s_client where this libssl can offer the suite
#   hsts:      nginx vhosts with a one-year HSTS header (ok), none (fail), max-age=300
#              (warn), max-age=0 (fail), on /owa/ and /ecp/
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MXDECK=${MXDECK:-$ROOT/build/mxdeck}
. "$ROOT/tests/lab/probe-lab.sh"
. "$ROOT/tests/lab/checks.sh"
lab_need openssl ss postfix postconf dovecot doveadm nsd nginx /usr/bin/python3
lab_init
trap lab_cleanup EXIT

lab_ca
K=$LAB/pki

# ---- SMTP: VRFY/EXPN ----
QS=$(lab_port); QSUB=$(lab_port); QSS=$(lab_port)
lab_postfix quiet "$QS" "$QSUB" "$QSS" "mydestination = lab.test" \
    "local_recipient_maps = inline:{ postmaster=x }" "alias_maps =" "local_transport = discard"
OS=$(lab_port); OSUB=$(lab_port); OSS=$(lab_port)
lab_postfix oracle "$OS" "$OSUB" "$OSS" "disable_vrfy_command = no" "mydestination = lab.test" \
    "local_recipient_maps = inline:{ postmaster=x }" "alias_maps =" "local_transport = discard"
VS=$(lab_port); VSUB=$(lab_port); VSS=$(lab_port)
lab_postfix vague "$VS" "$VSUB" "$VSS" "disable_vrfy_command = no"

# ---- IMAP/POP3 before STARTTLS ----
DA=$(lab_addr)
I=$(lab_port); IS=$(lab_port); P=$(lab_port); PS=$(lab_port)
LAB_DOVECOT_ADDR=$DA lab_dovecot "$I" "$IS" "$P" "$PS" safe
OI=$(lab_port); OIS=$(lab_port); OP=$(lab_port); OPS=$(lab_port)
LAB_DOVECOT_ADDR=$DA lab_dovecot "$OI" "$OIS" "$OP" "$OPS" plain "disable_plaintext_auth = no"

# ---- cipher suites ----
CG=$(lab_port); CN=$(lab_port); CA=$(lab_port); CR=$(lab_port); CD=$(lab_port)
lab_s_server "$CG" "$K/good.pem" "$K/good.key" -cipher 'ECDHE+AESGCM'
lab_s_server "$CN" "$K/good.pem" "$K/good.key" -cipher 'NULL-SHA:@SECLEVEL=0' -no_tls1_3
lab_s_server "$CA" "$K/good.pem" "$K/good.key" -cipher 'ADH-AES128-SHA:@SECLEVEL=0' -no_tls1_3
lab_s_server "$CR" "$K/good.pem" "$K/good.key" -cipher 'ECDHE+AESGCM:AES128-SHA'
lab_bad tls3des "$CD"
for p in "$CG" "$CN" "$CA" "$CR" "$CD"; do lab_wait_port "$p"; done

# ---- HSTS ----
DNS=$(lab_port); W=$(lab_port)
cat > "$LAB/lab.test.zone" <<EOF
\$ORIGIN lab.test.
\$TTL 300
@ IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
@ IN NS ns.lab.test.
ns IN A 127.0.0.1
@ IN A 127.0.0.1
mail IN A 127.0.0.1
pop IN A 127.0.0.1
imap IN A 127.0.0.1
EOF
lab_nsd peers "$DNS" lab.test "$LAB/lab.test.zone"
vhost() {	# name, add_header line or ""
	cat <<EOF
server {
	listen 127.0.0.1:$W ssl;
	server_name $1;
	ssl_certificate $K/good.pem;
	ssl_certificate_key $K/good.key;
	$2
	location / { return 302 /owa/auth/logon.aspx; }
}
EOF
}
{
	vhost mail.lab.test 'add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;'
	vhost lab.test ''
	vhost pop.lab.test 'add_header Strict-Transport-Security "max-age=300" always;'
	vhost imap.lab.test 'add_header Strict-Transport-Security "max-age=0" always;'
} > "$LAB/hsts.conf"
lab_nginx "$LAB/hsts.conf"
lab_wait_port "$W"
echo "lab: postfix quiet $QS oracle $OS vague $VS; dovecot $DA safe $I/$P plain $OI/$OP;" \
    "ciphers good $CG null $CN anon $CA nofs $CR 3des $CD; nginx $W, nsd $DNS"

host() {	# name address roles probe_ports
	printf '[host "%s"]\naddress = %s\nroles = %s\nprobe_ports = %s\n\n' "$@"
}
{
	printf '[site]\nname = lab\ndomain = lab.test\nresolver = 127.0.0.1:%s\n\n' "$DNS"
	# first: the https port of the first host at an address is where https to it goes
	host web 127.0.0.1 nginx "https:$W"
	host quiet 127.0.0.1 postfix "smtp:$QS submission:$QSUB smtps:$QSS"
	host oracle 127.0.0.1 postfix "smtp:$OS submission:$OSUB smtps:$OSS"
	host vague 127.0.0.1 postfix "smtp:$VS submission:off smtps:off"
	host safe "$DA" dovecot "imap:$I pop3:$P imaps:$IS pop3s:$PS"
	host plain "$DA" dovecot "imap:$OI pop3:$OP imaps:$OIS pop3s:$OPS"
	host cgood 127.0.0.1 postfix "smtp:off submission:off smtps:$CG"
	host cnull 127.0.0.1 postfix "smtp:off submission:off smtps:$CN"
	host canon 127.0.0.1 postfix "smtp:off submission:off smtps:$CA"
	host cnofs 127.0.0.1 postfix "smtp:off submission:off smtps:$CR"
	host c3des 127.0.0.1 postfix "smtp:off submission:off smtps:$CD"
	for v in mail.lab.test:"owa ecp" lab.test:owa pop.lab.test:ecp imap.lab.test:owa; do
		printf '[vhost "%s"]\nserver = nginx\nbackend = https://127.0.0.1:9\n' "${v%%:*}"
		printf 'services = %s\ncertificate = %s\nkey = %s\n\n' "${v#*:}" "$K/good.pem" "$K/good.key"
	done
} > "$LAB/peers.ini"

export SSL_CERT_FILE=$K/ca.pem
# Two runs: the cipher stand-ins (openssl s_server) serve one connection at a time, and
# a vrfy probe waiting for an SMTP greeting they never send would hold them.
rc=0
MXDECK_PROBES=vrfy,cleartext,hsts MXDECK_PROBE_TIMEOUT=30 "$MXDECK" test \
    "$LAB/peers.ini" --json >"$LAB/out.json" 2>"$LAB/out.txt" || rc=$?
cat "$LAB/out.txt"
check "exit 1: the broken cases fail" eq "$rc" 1
check "the JSON document has results" captured "$LAB/out.json" '"kind":"vrfy"'
rc=0
MXDECK_PROBES=ciphers MXDECK_PROBE_TIMEOUT=30 "$MXDECK" test \
    "$LAB/peers.ini" --json >"$LAB/ciphers.json" 2>"$LAB/ciphers.txt" || rc=$?
cat "$LAB/ciphers.txt"
check "ciphers: exit 1" eq "$rc" 1
check "ciphers: the JSON document has results" captured "$LAB/ciphers.json" '"kind":"ciphers"'
OUT=$LAB/out.json
hasnt() { case $1 in *"$2"*) echo "     '$1' has '$2'" >&2; return 1 ;; esac; }
st() { lab_json_get "$OUT" "$1" "$2" status; }
sm() { lab_json_get "$OUT" "$1" "$2" summary; }
dt() { lab_json_get "$OUT" "$1" "$2" details; }

# vrfy
for svc in smtp submission smtps; do
	check "quiet: vrfy-expn $svc ok" eq "$(st quiet "vrfy-expn $svc")" ok
	check "quiet: $svc says refused" eq "$(sm quiet "vrfy-expn $svc")" "VRFY and EXPN refused"
	check "oracle: vrfy-expn $svc fails" eq "$(st oracle "vrfy-expn $svc")" fail
	check "oracle: $svc names the oracle" has "$(sm oracle "vrfy-expn $svc")" "VRFY ANSWERS (252/550)"
done
check "quiet: asked after STARTTLS on 25" has "$(dt quiet 'vrfy-expn smtp')" "C: STARTTLS"
check "quiet: Postfix's 502 seen" has "$(dt quiet 'vrfy-expn smtp')" "S: 502"
check "vague: 252 for every address warns" eq "$(st vague 'vrfy-expn smtp')" warn
check "vague: says VRFY answered 252" has "$(sm vague 'vrfy-expn smtp')" "VRFY answered 252"

# cleartext
check "safe: imap ok" eq "$(st safe 'cleartext imap')" ok
check "safe: LOGINDISABLED" eq "$(sm safe 'cleartext imap')" "LOGINDISABLED before STARTTLS"
check "safe: pop3 ok" eq "$(st safe 'cleartext pop3')" ok
check "safe: USER refused" has "$(dt safe 'cleartext pop3')" "USER refused before STLS"
check "plain: imap fails" eq "$(st plain 'cleartext imap')" fail
check "plain: LOGIN allowed in clear" has "$(sm plain 'cleartext imap')" "LOGIN ALLOWED BEFORE STARTTLS"
check "plain: pop3 fails" eq "$(st plain 'cleartext pop3')" fail
check "plain: USER/PASS in clear" has "$(sm plain 'cleartext pop3')" "USER/PASS BEFORE STLS"
check "plain: USER accepted" has "$(dt plain 'cleartext pop3')" "USER accepted before STLS"
check "no password was sent" lacks "$LAB/out.json" 'C: PASS|C: [a-z0-9]+ (LOGIN|AUTHENTICATE)|C: AUTH ' '"cleartext pop3"'

# ciphers
OUT=$LAB/ciphers.json
check "good: ok" eq "$(st cgood 'ciphers smtps')" ok
check "good: every class refused" eq "$(sm cgood 'ciphers smtps')" "refuses NULL anon EXPORT RC4 3DES non-FS"
check "null: fails" eq "$(st cnull 'ciphers smtps')" fail
check "null: NULL-SHA accepted" eq "$(sm cnull 'ciphers smtps')" "ACCEPTS NULL (NULL-SHA)"
check "anon: fails" eq "$(st canon 'ciphers smtps')" fail
check "anon: ADH accepted" eq "$(sm canon 'ciphers smtps')" "ACCEPTS anon (ADH-AES128-SHA)"
check "nofs: fails" eq "$(st cnofs 'ciphers smtps')" fail
check "nofs: AES128-SHA accepted" eq "$(sm cnofs 'ciphers smtps')" "ACCEPTS non-FS (AES128-SHA)"
check "3des: fails" eq "$(st c3des 'ciphers smtps')" fail
check "3des: DES-CBC3-SHA accepted" eq "$(sm c3des 'ciphers smtps')" "ACCEPTS 3DES (DES-CBC3-SHA)"
check "postfix defaults: submission fails" eq "$(st quiet 'ciphers submission')" fail
check "postfix defaults: anon and non-FS on submission" has "$(sm quiet 'ciphers submission')" "ACCEPTS anon"
check "postfix defaults: port 25 fails (anon)" eq "$(st quiet 'ciphers smtp')" fail
check "postfix defaults: port 25 names anon" has "$(sm quiet 'ciphers smtp')" "ACCEPTS anon"
check "postfix defaults: port 25 non-FS is not a failure" hasnt "$(sm quiet 'ciphers smtp')" "non-FS"
check "postfix defaults: port 25 non-FS noted" has "$(dt quiet 'ciphers smtp')" "non-FS accepted"
# s_client's own verdict, offering only that class, where this libssl can
sclient() {	# port cipher-string: the cipher s_client negotiated, or "none"
	local c
	c=$(openssl s_client -connect "127.0.0.1:$1" -tls1_2 -cipher "$2:@SECLEVEL=0" \
	    </dev/null 2>/dev/null | sed -n 's/^New, [^,]*, Cipher is \(.*\)/\1/p' | head -1)
	case $c in ''|'(NONE)') echo none ;; *) echo "$c" ;; esac
}
check "s_client agrees: NULL-SHA on null" eq "$(sclient "$CN" eNULL)" NULL-SHA
check "s_client agrees: ADH on anon" eq "$(sclient "$CA" aNULL)" ADH-AES128-SHA
check "s_client agrees: AES128-SHA on nofs" eq "$(sclient "$CR" kRSA)" AES128-SHA
check "s_client agrees: nothing weak on good" eq "$(sclient "$CG" 'eNULL:aNULL:kRSA')" none

# hsts (site-wide results: found by target)
tg() {	# target field
	/usr/bin/python3 - "$LAB/out.json" "$1" "$2" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
print(next((r[sys.argv[3]] for r in doc["results"] if r["target"] == sys.argv[2]), "MISSING"))
PY
}
for path in owa ecp; do
	check "mail.lab.test /$path/: ok" eq "$(tg "https://mail.lab.test/$path/" status)" ok
	check "mail.lab.test /$path/: one year" eq "$(tg "https://mail.lab.test/$path/" summary)" \
	    "HSTS max-age 31536000 s, includeSubDomains"
done
check "lab.test /owa/: no header fails" eq "$(tg https://lab.test/owa/ status)" fail
check "lab.test /owa/: says NO HSTS" eq "$(tg https://lab.test/owa/ summary)" "NO HSTS (HTTP 302)"
check "pop.lab.test /ecp/: 300 s warns" eq "$(tg https://pop.lab.test/ecp/ status)" warn
check "imap.lab.test /owa/: max-age=0 fails" eq "$(tg https://imap.lab.test/owa/ status)" fail
check "imap.lab.test /owa/: says disabled" eq "$(tg https://imap.lab.test/owa/ summary)" \
    "HSTS DISABLED (max-age=0)"
check "curl sees the same header on mail.lab.test" has "$(curl -sS -o /dev/null -D - \
    --cacert "$K/ca.pem" --resolve "mail.lab.test:$W:127.0.0.1" \
    "https://mail.lab.test:$W/owa/")" "max-age=31536000; includeSubDomains"

checks_done
