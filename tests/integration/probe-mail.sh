#!/usr/bin/env bash
# probe-mail.sh: `mxdeck test` against a real Postfix and Dovecot on loopback.
#   "main": STARTTLS on 25/587, implicit TLS on 465, >=TLSv1.2, NO_RENEGOTIATION, relay
#           closed, AUTH (Dovecot SASL) only after STARTTLS, postmaster@/abuse@ accepted;
#           Dovecot with IMAP STARTTLS, POP3 STLS, IMAPS, POP3S.
#   "open": the same Postfix misconfigured: relays for loopback (mynetworks), AUTH before
#           STARTTLS, TLS 1.0 allowed (and SECLEVEL=0), no NO_RENEGOTIATION, abuse@ refused.
#   "forged": relay closed for the null and outside senders, but check_sender_access
#           permits senders in lab2.test (a profile domain): open to anyone who forges one.
#   "strict": relay closed, and the session is dropped after two errors
#           (smtpd_hard_error_limit = 2): the senders tried until then still count.
# The probes must tell them apart; protocol and cipher are cross-checked with s_client.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MXDECK=${MXDECK:-$ROOT/build/mxdeck}
. "$ROOT/tests/lab/probe-lab.sh"
. "$ROOT/tests/lab/checks.sh"
lab_need openssl ss postfix postconf dovecot doveadm /usr/bin/python3
lab_init
trap lab_cleanup EXIT

lab_ca
I=$(lab_port); IS=$(lab_port); P=$(lab_port); PS=$(lab_port)
lab_dovecot "$I" "$IS" "$P" "$PS"
S=$(lab_port); SUB=$(lab_port); SS=$(lab_port)
lab_postfix main "$S" "$SUB" "$SS"
OS=$(lab_port); OSUB=$(lab_port); OSS=$(lab_port)
lab_postfix open "$OS" "$OSUB" "$OSS" "mynetworks = 127.0.0.0/8" \
    "smtpd_tls_auth_only = no" "submission_tls_level = may" "smtpd_tls_protocols = >=TLSv1" \
    "smtpd_tls_mandatory_protocols = >=TLSv1" "tls_ssl_options =" \
    "tls_medium_cipherlist = DEFAULT:@SECLEVEL=0" \
    "smtpd_recipient_restrictions = check_recipient_access inline:{ abuse@=REJECT }, permit_mynetworks, reject_unauth_destination"
FS=$(lab_port); FSUB=$(lab_port); FSS=$(lab_port)
lab_postfix forged "$FS" "$FSUB" "$FSS" \
    "smtpd_relay_restrictions = permit_mynetworks, check_sender_access inline:{ lab2.test=OK }, reject_unauth_destination"
TS=$(lab_port); TSUB=$(lab_port); TSS=$(lab_port)
lab_postfix strict "$TS" "$TSUB" "$TSS" "smtpd_hard_error_limit = 2"
echo "lab: postfix main $S/$SUB/$SS, open $OS/$OSUB/$OSS, forged $FS/$FSUB/$FSS, strict $TS/$TSUB/$TSS; dovecot $I/$IS/$P/$PS"

cat > "$LAB/mail.ini" <<EOF
[site]
name = lab
domain = lab.test

[host "main"]
address = 127.0.0.1
roles = postfix dovecot
probe_ports = smtp:$S submission:$SUB smtps:$SS imaps:$IS pop3s:$PS imap:$I pop3:$P https:off

[host "open"]
address = 127.0.0.1
roles = postfix
probe_ports = smtp:$OS submission:$OSUB smtps:$OSS

[host "forged"]
address = 127.0.0.1
roles = postfix
probe_ports = smtp:$FS submission:$FSUB smtps:$FSS

[host "strict"]
address = 127.0.0.1
roles = postfix
probe_ports = smtp:$TS submission:$TSUB smtps:$TSS

[autodiscover "lab.test"]
imap = imap.lab.test:993/ssl
pop3 = pop.lab.test:995/ssl
smtp = smtp.lab.test:587/starttls
also = lab2.test

[tls]
smtpd_protocols = >=TLSv1.2
no_renegotiation = yes
dovecot_min_protocol = TLSv1.2

[access]
always_accept = postmaster abuse
EOF

export SSL_CERT_FILE=$LAB/pki/ca.pem
rc=0
MXDECK_PROBES=tls,tlsver,smtp MXDECK_PROBE_TIMEOUT=8 "$MXDECK" test "$LAB/mail.ini" \
    --json >"$LAB/out.json" 2>"$LAB/out.txt" || rc=$?
cat "$LAB/out.txt"
check "exit 1: the open instance fails" eq "$rc" 1
st() { lab_json_get "$LAB/out.json" "$1" "$2" status; }
sm() { lab_json_get "$LAB/out.json" "$1" "$2" summary; }
dt() { lab_json_get "$LAB/out.json" "$1" "$2" details; }

for svc in smtp submission smtps imaps pop3s imap pop3; do
	check "main: tls $svc ok" eq "$(st main "tls $svc")" ok
	check "main: protocols $svc ok" eq "$(st main "protocols $svc")" ok
	check "main: protocols $svc = TLSv1.2 TLSv1.3" has "$(sm main "protocols $svc")" "accepts TLSv1.2 TLSv1.3"
done
check "main: STARTTLS dialogue on 25 seen" has "$(sm main 'tls smtp')" "name ok (smtp.lab.test)"
check "main: IMAP STARTTLS name" has "$(sm main 'tls imap')" "name ok (imap.lab.test)"
check "main: POP3 STLS name" has "$(sm main 'tls pop3')" "name ok (pop.lab.test)"
check "main: NO_RENEGOTIATION: client reneg refused" has "$(sm main 'protocols smtp')" "client reneg refused"
check "main: relay refused" eq "$(st main open-relay)" ok
check "main: relay refused as a relay (5.7.1)" has "$(sm main open-relay)" "relay refused (554 5.7.1)"
# null, outside, lab.test, lab2.test, postmaster@lab.test: all five refused
check "main: refused for every sender tried" has "$(sm main open-relay)" "for 5 of 5 senders"
for from in '<>' '<mxdeck-relay-test@mxdeck-sender.invalid>' '<mxdeck-relay-test@lab.test>' \
    '<mxdeck-relay-test@lab2.test>' '<postmaster@lab.test>'; do
	check "main: tried MAIL FROM:$from" has "$(dt main open-relay)" "C: MAIL FROM:$from"
done
check "forged: OPEN RELAY fails" eq "$(st forged open-relay)" fail
check "forged: names the forged local sender" eq "$(sm forged open-relay)" \
    "OPEN RELAY (RCPT to example.net accepted with MAIL FROM <mxdeck-relay-test@lab2.test>)"
check "forged: the null sender was refused" has "$(dt forged open-relay)" "MAIL FROM:<>: relay refused: 554"
check "strict: a session dropped after 2 refusals: not an open relay" eq "$(st strict open-relay)" warn
check "strict: the 2 refusals before it count" has "$(sm strict open-relay)" "relay refused (554 5.7.1) for 2 of 5 senders"
check "strict: says where the session ended" has "$(dt strict open-relay)" "the session ended after 2 of 5 senders"
check "main: postmaster@/abuse@ of lab.test and lab2.test accepted" eq "$(st main always-accept)" ok
check "main: 4 addresses" has "$(sm main always-accept)" "4 addresses accepted"
check "main: AUTH only after STARTTLS" eq "$(st main auth-after-starttls)" ok

check "open: OPEN RELAY fails" eq "$(st open open-relay)" fail
check "open: says OPEN RELAY" has "$(sm open open-relay)" "OPEN RELAY"
check "open: AUTH before STARTTLS fails" eq "$(st open auth-after-starttls)" fail
check "open: says AUTH BEFORE STARTTLS" has "$(sm open auth-after-starttls)" "AUTH BEFORE STARTTLS"
check "open: TLS 1.0 allowed: protocols smtp fails" eq "$(st open 'protocols smtp')" fail
check "open: names TLSv1 as not allowed" has "$(sm open 'protocols smtp')" "TLSv1 NOT ALLOWED"
check "open: abuse@ refused: always-accept fails" eq "$(st open always-accept)" fail
check "open: 2 of 4 refused" has "$(sm open always-accept)" "2 of 4 REFUSED"
# Without NO_RENEGOTIATION Postfix 3.7 on OpenSSL 3 still refuses client-initiated
# renegotiation (OpenSSL 3 servers need SSL_OP_ALLOW_CLIENT_RENEGOTIATION): the probe
# must say what s_client sees, on both instances.
for inst in main open; do
	[ $inst = main ] && port=$S || port=$OS
	v=$(lab_s_client_reneg "$port" -starttls smtp)
	echo "     $inst: s_client says client renegotiation $v; mxdeck: $(sm $inst 'protocols smtp')"
	check "$inst: s_client's renegotiation verdict ($v) matches" has "$(sm $inst 'protocols smtp')" "client reneg $v"
done

# Cross-check with s_client over STARTTLS and implicit TLS.
xcheck() {	# host svc port s_client-args...
	local h=$1 svc=$2 port=$3 out proto ciph
	shift 3
	out=$(openssl s_client -connect "127.0.0.1:$port" "$@" </dev/null 2>/dev/null || true)
	# "New, TLSv1.3, Cipher is X" is printed for every handshake (the session block
	# only once a TLS 1.3 ticket arrived); s_client says TLSv1.0 where
	# SSL_get_version() says TLSv1.
	proto=$(echo "$out" | sed -n 's/^New, \([^,]*\), Cipher is .*/\1/p' | head -1)
	ciph=$(echo "$out" | sed -n 's/^New, [^,]*, Cipher is \(.*\)/\1/p' | head -1)
	[ "$proto" = TLSv1.0 ] && proto=TLSv1
	[ -n "$proto" ] || echo "$out" | tail -5 >&2
	check "$h $svc: s_client says '$proto $ciph', mxdeck agrees" \
	    has "$(sm "$h" "tls $svc")" "${proto:-s_client failed} $ciph"
}
xcheck main smtp "$S" -starttls smtp
xcheck main submission "$SUB" -starttls smtp
xcheck main smtps "$SS"
xcheck main imap "$I" -starttls imap
xcheck main pop3 "$P" -starttls pop3
xcheck main imaps "$IS"
xcheck open smtp "$OS" -starttls smtp

checks_done
