#!/bin/bash
# postfix-live.sh: the rendered Postfix configuration, merged into a copy of the stock
# /etc/postfix with tests/lab/postfix-merge.sh, running for real on loopback (private
# queue, a minimal Dovecot for SASL). Proves behaviour, not just syntax:
#   always-accept postmaster@/abuse@ before a filter, without opening a relay;
#   submission: STARTTLS required, AUTH only after it, relay for SASL users and
#   relay_networks only, smtp=off users refused (check_sasl_access); smtps wrapper mode;
#   header privacy rules only for submission/smtps (msa_cleanup), not on port 25;
#   connector: a smarthost sink (smtp-sink) stands in for the fax server;
#   only the own tenant's message reaches it. Refused at RCPT: plaintext, no client
#   certificate, a certificate of an unrelated CA, of a sibling CA under the same root,
#   self-signed, and any client without one (mynetworks, SASL users). After the
#   certificate: a foreign tenant, no tenant header, a right and a wrong header (both
#   orders) never reach the smarthost and are not bounced (no backscatter);
#   vrfy and ciphers probes pass on the rendered policy (non-FS kept on 25 only);
#   TLS: TLSv1.1 refused, 1.2/1.3 accepted, client renegotiation refused; the same with
#   the Postfix < 3.6 protocol syntax and 0x40000000.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
MXDECK=${MXDECK:-$BUILD/mxdeck}
MERGE=$ROOT/tests/lab/postfix-merge.sh
. "$ROOT/tests/lab/checks.sh"	# captured, lacks: an absence check needs a capture
for c in postfix postconf swaks openssl dovecot ss smtp-sink; do
	command -v $c >/dev/null || { echo "$c not installed"; exit 77; }
done
[ -r /etc/ssl/certs/ssl-cert-snakeoil.pem ] || { echo "no snakeoil certificate (ssl-cert)"; exit 77; }
[ -x "$MXDECK" ] || { echo "FAIL $MXDECK not built"; exit 1; }

T=$(mktemp -d /tmp/mxdeck-pflive.XXXXXX)
chmod 755 "$T"
D=$T/etc/postfix
PF_PID= DV= SINK_PID=
cleanup() {
	if [ -n "$SINK_PID" ]; then
		kill "$SINK_PID" 2>/dev/null || true
		wait "$SINK_PID" 2>/dev/null || true
	fi
	if [ -n "$PF_PID" ]; then
		postfix -c "$D" stop >/dev/null 2>&1 || true
		kill "$PF_PID" 2>/dev/null || true
		wait "$PF_PID" 2>/dev/null || true
	fi
	if [ -n "$DV" ] && [ -f "$T/dv/run/master.pid" ]; then
		kill "$(cat "$T/dv/run/master.pid")" 2>/dev/null || true
	fi
	[ -n "${LAB_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

port_free() { ! ss -ltnH "sport = :$1" | grep -q .; }
# Four free loopback ports for smtp, submission, smtps and the smarthost sink; the
# connector's 10041 is fixed.
base=$((10100 + RANDOM % 20000))
while ! { port_free $base && port_free $((base + 1)) && port_free $((base + 2)) &&
    port_free $((base + 3)); }; do
	base=$((base + 7))
done
P25=$base P587=$((base + 1)) P465=$((base + 2)) PSINK=$((base + 3))
port_free 10041 || { echo "port 10041 (connector re-injection) is busy"; exit 77; }

mkdir -p "$D"
cp /etc/postfix/main.cf /etc/postfix/master.cf /etc/postfix/dynamicmaps.cf "$D/"
[ -d /etc/postfix/dynamicmaps.cf.d ] && cp -r /etc/postfix/dynamicmaps.cf.d "$D/"

# Client certificates. "Microsoft": root -> issuing CA -> CN=mail.protection.outlook.com;
# client_ca holds that root and issuing CA (Postfix verifies client certificates up to a
# self-signed root: an issuing CA alone verifies nothing [tested]), client_fingerprints
# the SHA-256 of Microsoft's public key. "sibling": another issuing CA under the same
# root; "neighbour": another certificate of Microsoft's issuing CA; "public": an
# unrelated CA (any publicly trusted certificate); "other": self-signed; "selfpin":
# self-signed with Microsoft's key (the pin without the CA).
mkdir -p "$T/ca"
ca() {	# name subject [issuer]: a CA certificate
	openssl req -newkey rsa:2048 -nodes -keyout "$T/ca/$1.key" -out "$T/ca/$1.csr" \
	    -subj "$2" 2>/dev/null
	printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' > "$T/ca/$1.ext"
	if [ -z "${3:-}" ]; then
		openssl x509 -req -in "$T/ca/$1.csr" -signkey "$T/ca/$1.key" -days 2 \
		    -extfile "$T/ca/$1.ext" -out "$T/ca/$1.pem" 2>/dev/null
	else
		openssl x509 -req -in "$T/ca/$1.csr" -CA "$T/ca/$3.pem" -CAkey "$T/ca/$3.key" \
		    -CAcreateserial -days 2 -extfile "$T/ca/$1.ext" -out "$T/ca/$1.pem" 2>/dev/null
	fi
}
leaf() {	# name CN issuer: a client certificate, its chain in NAME.chain
	openssl req -newkey rsa:2048 -nodes -keyout "$T/ca/$1.key" -out "$T/ca/$1.csr" \
	    -subj "/CN=$2" 2>/dev/null
	printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth,serverAuth\nsubjectAltName=DNS:%s\n' "$2" > "$T/ca/$1.ext"
	openssl x509 -req -in "$T/ca/$1.csr" -CA "$T/ca/$3.pem" -CAkey "$T/ca/$3.key" \
	    -CAcreateserial -days 2 -extfile "$T/ca/$1.ext" -out "$T/ca/$1.pem" 2>/dev/null
	cat "$T/ca/$1.pem" "$T/ca/$3.pem" > "$T/ca/$1.chain"
}
ca ms-root "/O=Lab Root/CN=lab public root"
ca ms-int "/O=Lab Root/CN=lab Microsoft 365 issuing CA" ms-root
ca sib-int "/O=Lab Root/CN=lab other issuing CA" ms-root
ca pub-ca "/CN=lab unrelated public CA"
leaf ms mail.protection.outlook.com ms-int
leaf sib mail.attacker.test sib-int
leaf pub mail.attacker.test pub-ca
leaf neighbour mail.attacker.test ms-int
cat "$T/ca/ms-root.pem" "$T/ca/ms-int.pem" > "$T/ca/ms-ca.pem"
openssl req -x509 -new -key "$T/ca/ms.key" -out "$T/ca/selfpin.pem" -days 2 \
    -subj /CN=mail.protection.outlook.com 2>/dev/null
cp "$T/ca/ms.key" "$T/ca/selfpin.key"
cp "$T/ca/selfpin.pem" "$T/ca/selfpin.chain"
MSFP=$(openssl x509 -in "$T/ca/ms.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -r | cut -d' ' -f1)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca/other.key" -out "$T/ca/other.pem" \
    -days 2 -subj /CN=mail.protection.outlook.com 2>/dev/null
cp "$T/ca/other.pem" "$T/ca/other.chain"
render_merge() {	# postfix_version
	sed -e "s|^postfix_dir = .*|postfix_dir = $D|" \
	    -e "s|^postfix_version = .*|postfix_version = $1|" \
	    -e "s|^probe_ports = .*|probe_ports = smtp:$P25 submission:$P587 smtps:$P465|" \
	    -e "s|^smarthost = \[fax-gw.example.org\]:25|smarthost = [127.0.0.1]:$PSINK|" \
	    -e "s|^client_ca = .*|client_ca = $T/ca/ms-ca.pem\nclient_fingerprints = $MSFP|" \
	    "$ROOT/share/examples/demo.ini" > "$T/demo.ini"
	cp "$ROOT/share/examples/demo-users.csv" "$T/"
	"$ROOT/share/lab/demo-lab.sh" pki "$T"	# the demo CA's certificates the profile names
	rm -rf "$T/out"
	"$MXDECK" render "$T/demo.ini" "$T/out" 2>"$T/render.err" || { cat "$T/render.err"; return 1; }
	cp "$T/out/demo$D"/* "$D/"
	"$MERGE" "$D"
}
render_merge 3.7 || { echo "FAIL render/merge"; exit 1; }
ok "rendered and merged (ports $P25 $P587 $P465)"
rrs=$(postconf -c "$D" -h smtpd_recipient_restrictions)

# Lab scaffolding only: private queue, loopback, no DNS (so no DANE), nothing leaves (relay_domains
# mail goes through the deferred smtp transport; only the connector's smarthost, the
# sink, gets mail), XCLIENT so that tests can pose as remote clients, example.org
# relayed here, and a filter after the rendered recipient restrictions.
mkdir -p "$T/spool" "$T/data" "$T/dv/run" "$T/dv/state" "$T/sink"
chown postfix "$T/data"
chown nobody "$T/sink"
postconf -c "$D" -e "queue_directory = $T/spool" "data_directory = $T/data" \
    "inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" "maillog_file = /dev/stdout" \
    "myhostname = gw.lab.test" "mydomain = lab.test" "mydestination = localhost" \
    "alias_maps =" "alias_database =" "smtp_dns_support_level =" \
    "relay_domains = example.org" "relay_transport = smtp" "defer_transports = smtp" \
    "smtpd_authorized_xclient_hosts = 127.0.0.1" "smtpd_tls_loglevel = 1" \
    "smtp_tls_security_level = may" \
    "smtpd_recipient_restrictions = $rrs, check_recipient_access pcre:$T/filter.pcre"
# A filter that would reject the role addresses: they must be accepted before it.
printf '/^(postmaster|abuse|nobody)@example\\.org$/ REJECT 5.7.1 lab filter\n' > "$T/filter.pcre"
postconf -c "$D" -M# smtp/inet
postfix -c "$D" check 2>"$T/check.err" && [ ! -s "$T/check.err" ] && ok "postfix check clean" \
    || bad "postfix check: $(cat "$T/check.err")"
postfix -c "$D" set-permissions >/dev/null 2>&1

# Dovecot for SASL (the dovecot renderer's job on a real gateway): auth socket only.
printf 'alice@example.org:{PLAIN}secret\ncarol@example.org:{PLAIN}secret\n' > "$T/dv/passwd"
cat > "$T/dv/dovecot.conf" <<DOVECOT
base_dir = $T/dv/run
state_dir = $T/dv/state
log_path = $T/dv/log
protocols = none
ssl = no
listen = 127.0.0.1
auth_mechanisms = plain login
disable_plaintext_auth = no
passdb {
  driver = passwd-file
  args = scheme=PLAIN $T/dv/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener $T/spool/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
DOVECOT
dovecot -c "$T/dv/dovecot.conf" && DV=1
# The fax server: every message it receives lands in $T/sink.
smtp-sink -u nobody -d "$T/sink/%Y%m%d%H%M%S." "127.0.0.1:$PSINK" 10 &
SINK_PID=$!
postfix -c "$D" start-fg > "$T/maillog" 2>&1 &
PF_PID=$!
for i in $(seq 50); do
	port_free $P25 || port_free $P587 || port_free $P465 || break
	sleep 0.1
done
port_free $P25 && { cat "$T/maillog"; echo "FAIL postfix did not start"; exit 1; }
ok "postfix running (pid $PF_PID)"

S=0
smtp() {	# swaks args...: output in $T/s.$S
	S=$((S + 1))
	timeout 30 swaks --server 127.0.0.1 --helo client.lab.test "$@" > "$T/s.$S" 2>&1 || true
}
reply() {	# description, regex matched against the last reply lines
	if grep -qE -- "$2" "$T/s.$S"; then ok "$1"; else
		bad "$1: no '$2' in:"; grep -E '^ ?(<|->|~>)' "$T/s.$S" | tail -4 | sed 's/^/     /'; fi
}
EXT="--xclient-addr 203.0.113.5"

# --- port 25: always-accept and relay ---
smtp -p $P25 $EXT --from x@foreign.test --to postmaster@example.org --quit-after RCPT
reply "25: postmaster@example.org accepted before the filter" '^<[-~] +250 2\.1\.5'
smtp -p $P25 $EXT --from x@foreign.test --to abuse@example.org --quit-after RCPT
reply "25: abuse@example.org accepted before the filter" '^<[-~] +250 2\.1\.5'
smtp -p $P25 $EXT --from x@foreign.test --to nobody@example.org --quit-after RCPT
reply "25: other recipients reach the filter (rejected)" '^<\*\* +554 .*lab filter'
smtp -p $P25 $EXT --from x@foreign.test --to postmaster@foreign.test --quit-after RCPT
reply "25: postmaster@ of a foreign domain: no relay" '^<\*\* +554 .*Relay access denied'
smtp -p $P25 $EXT --from x@foreign.test --to x@foreign.test --quit-after RCPT
reply "25: no open relay" '^<\*\* +554 .*Relay access denied'
smtp -p $P25 $EXT --quit-after EHLO
lacks "$T/s.$S" '250[- ]AUTH' '^<- +250 ' && ok "25: no AUTH on port 25 (EHLO answered)" \
    || bad "25: AUTH offered, or no EHLO answer"

# --- connector fax.example.org ---
MS="--tls --tls-cert $T/ca/ms.chain --tls-key $T/ca/ms.key"
TENANT=00000000-0000-0000-0000-000000000000 FOREIGN=11111111-2222-3333-4444-555555555555
smtp -p $P25 $EXT --from x@tenant.test --to 4711@fax.example.org --quit-after RCPT
reply "connector: plaintext refused" '^<\*\* +4[0-9][0-9] .*encryption is required'
smtp -p $P25 $EXT --tls --from x@tenant.test --to 4711@fax.example.org --quit-after RCPT
reply "connector: TLS without client certificate refused" '^<~\* +554 .*Access denied'
for c in pub sib neighbour other selfpin; do
	smtp -p $P25 $EXT --tls --tls-cert "$T/ca/$c.chain" --tls-key "$T/ca/$c.key" \
	    --from x@tenant.test --to 4711@fax.example.org --quit-after RCPT
	reply "connector: client certificate '$c' (not Microsoft's pinned one under client_ca) refused" '^<~\* +554 .*Access denied'
done
smtp -p $P25 $EXT $MS --from x@tenant.test --to 4711@sub.fax.example.org --quit-after RCPT
reply "connector: subdomain accepted with Microsoft's certificate" '^<~ +250 2\.1\.5'
# Clients that may relay elsewhere may not reach the fax server past the tenant check.
smtp -p $P25 --from x@example.org --to 4711@fax.example.org --quit-after RCPT
reply "connector: a mynetworks client (loopback) refused at RCPT" '^<\*\* +4[0-9][0-9] .*encryption is required'
smtp -p $P25 --tls --from x@example.org --to 4711@fax.example.org --quit-after RCPT
reply "connector: a mynetworks client over TLS refused at RCPT" '^<~\* +554 .*Access denied'
smtp -p $P587 --xclient-addr 198.51.100.9 -tls --auth PLAIN --auth-user alice@example.org \
    --auth-password secret --from alice@example.org --to 4711@fax.example.org --quit-after RCPT
reply "connector: a SASL user on 587 refused at RCPT" '^<~\* +554 .*Access denied'

conn_send() {	# label, header lines...: a message from Microsoft's certificate
	local label=$1 h
	shift
	{ for h in "$@"; do printf '%s\n' "$h"; done
	  printf 'From: %s@tenant.test\nTo: 4711@fax.example.org\nSubject: %s\n\nfax body %s\n' \
	      "$label" "$label" "$label"; } > "$T/conn.$label"
	smtp -p $P25 $EXT $MS --from "$label@tenant.test" --to 4711@fax.example.org \
	    --data "$T/conn.$label"
	reply "connector: $label: accepted from Microsoft's certificate" '^<~ +250 2\.0\.0 Ok: queued'
}
conn_send own "X-MS-Exchange-CrossTenant-Id: $TENANT"
conn_send folded "X-MS-Exchange-CrossTenant-Id:" "	$TENANT"
conn_send foreign "X-MS-Exchange-CrossTenant-Id: $FOREIGN"
conn_send noheader
conn_send dup-right-first "X-MS-Exchange-CrossTenant-Id: $TENANT" \
    "X-MS-Exchange-CrossTenant-Id: $FOREIGN"
conn_send dup-wrong-first "X-MS-Exchange-CrossTenant-Id: $FOREIGN" \
    "X-MS-Exchange-CrossTenant-Id: $TENANT"
conn_send spaced "X-MS-Exchange-CrossTenant-Id : $TENANT"
conn_send suffix "X-MS-Exchange-CrossTenant-Id: $TENANT, $FOREIGN"
# Wait until every message left the queue (delivered to the sink, or discarded).
for i in $(seq 100); do
	postqueue -c "$D" -p 2>/dev/null | grep -q '@tenant\.test' || break
	sleep 0.2
done
cat "$T"/sink/* 2>/dev/null > "$T/sink.all" || true
sinkhas() { grep -q "^Subject: $1\$" "$T/sink.all"; }
[ -s "$T/sink.all" ] || bad "connector: the smarthost sink received nothing"
# "Name :" is the obsolete header syntax; Postfix's cleanup normalises it to "Name:"
# before header_checks see it, and that is what the fax server gets.
for l in own folded spaced; do
	sinkhas $l && ok "connector: $l tenant header: delivered to the smarthost" \
	    || bad "connector: $l: not delivered to the smarthost"
done
for l in foreign noheader dup-right-first dup-wrong-first suffix; do
	sinkhas $l && bad "connector: $l: REACHED THE SMARTHOST" \
	    || ok "connector: $l: kept from the smarthost"
done
[ "$(grep -c "^X-MS-Exchange-CrossTenant-Id: $TENANT\$" "$T/sink.all")" = 2 ] \
    && ok "connector: 'Name :' arrived as 'Name:' with the right tenant id" \
    || bad "connector: the normalised header is not in the sink"
[ "$(grep -c '^Subject: ' "$T/sink.all")" = 3 ] && ok "connector: the sink has exactly the 3 own-tenant messages" \
    || bad "connector: the sink has $(grep -c '^Subject: ' "$T/sink.all") messages"
for l in foreign dup-right-first dup-wrong-first suffix; do
	grep -q "discard: header X-MS-Exchange-CrossTenant-Id: .*from=<$l@tenant.test>.*accepted only from its Microsoft 365 tenant" "$T/maillog" \
	    && ok "connector: $l: discarded by the tenant check" || bad "connector: $l: not discarded by the tenant check"
done
q=$(sed -n 's/.* postfix\/qmgr\[[0-9]*\]: \([0-9A-F]*\): from=<noheader@tenant\.test>.*/\1/p' "$T/maillog" | tail -1)
[ -n "$q" ] && grep -q "postfix/discard\[[0-9]*\]: $q: to=<4711@fax.example.org>.*status=sent (no X-MS-Exchange-CrossTenant-Id of tenant $TENANT)" "$T/maillog" \
    && ok "connector: noheader: no tenant id: discarded by the default route" || bad "connector: noheader: not discarded"
grep -q 'status=bounced' "$T/maillog" && bad "connector: a bounce (backscatter): $(grep 'status=bounced' "$T/maillog" | head -1)" \
    || ok "connector: nothing bounced (no backscatter)"
grep -qE 'postfix/bounce.*sender non-delivery notification' "$T/maillog" \
    && bad "connector: a non-delivery notification was sent" || ok "connector: no non-delivery notification"

# --- submission ---
smtp -p $P587 $EXT --quit-after EHLO
lacks "$T/s.$S" '^<- +250[- ]AUTH' '^<- +250[- ]STARTTLS' && ok "587: no AUTH before STARTTLS (EHLO answered)" \
    || bad "587: AUTH offered before STARTTLS, or no EHLO answer"
smtp -p $P587 $EXT --from x@example.org --to x@foreign.test --quit-after MAIL
reply "587: STARTTLS required" '^<\*\* +530 .*STARTTLS'
smtp -p $P587 $EXT -tls --from x@example.org --to x@foreign.test --quit-after RCPT
reply "587: unauthenticated remote client cannot relay" '^<~\* +554 .*Access denied'
smtp -p $P587 --xclient-addr 192.0.2.10 -tls --from x@example.org --to x@foreign.test --quit-after RCPT
reply "587: relay_networks client may relay" '^<~ +250 2\.1\.5'
smtp -p $P587 --xclient-addr 192.0.2.11 -tls --from x@example.org --to x@foreign.test --quit-after RCPT
reply "587: neighbour of relay_networks may not" '^<~\* +554'
smtp -p $P587 $EXT -tls --auth PLAIN --auth-user carol@example.org --auth-password secret \
    --from carol@example.org --to x@foreign.test --quit-after RCPT
reply "587: carol (smtp off) refused" '^<~\* +554 .*SASL login name rejected'

cat > "$T/msg.eml" <<'MSG'
Received: from client.example.net (client.example.net [198.51.100.7])
	(using TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits))
	by smtp.example.org (Postfix) with ESMTPSA id 7458E7B802
From: alice@example.org
To: x@foreign.test
Subject: privacy
X-Originating-IP: [198.51.100.7]
User-Agent: Thunderbird/60.6.1
X-Mailer: PHPMailer 5.2.1

body
MSG
qid() { sed -n 's/.*250 2\.0\.0 Ok: queued as \([0-9A-F]*\).*/\1/p' "$T/s.$S" | tail -n 1; }
smtp -p $P587 --xclient-addr 198.51.100.9 -tls --auth PLAIN --auth-user alice@example.org \
    --auth-password secret --from alice@example.org --to x@foreign.test --data "$T/msg.eml"
reply "587: alice relays" '^<~ +250 2\.0\.0 Ok: queued'
Q587=$(qid)
smtp -p $P465 --xclient-addr 198.51.100.9 --tlsc --auth PLAIN --auth-user alice@example.org \
    --auth-password secret --from alice@example.org --to x@foreign.test --data "$T/msg.eml"
reply "465: alice relays over implicit TLS" '^<~ +250 2\.0\.0 Ok: queued'
Q465=$(qid)
smtp -p $P25 --xclient-addr 198.51.100.9 --from alice@example.org --to bob@example.org --data "$T/msg.eml"
reply "25: message queued" '^<- +250 2\.0\.0 Ok: queued'
Q25=$(qid)
for q in "$Q587:587" "$Q465:465"; do
	id=${q%%:*} port=${q##*:}
	: > "$T/h.$port"
	[ -n "$id" ] && postcat -c "$D" -hq "$id" > "$T/h.$port" 2>"$T/h.$port.err" || true
	# the message itself must be there (its Subject:) before its missing headers mean anything
	if lacks "$T/h.$port" '198\.51\.100\.|X-Originating-IP|User-Agent|X-Mailer' '^Subject: privacy$'; then
		ok "$port: client IPs, X-Originating-IP, User-Agent, X-Mailer gone"
	else
		bad "$port: private headers left, or no queued message (queue id '$id') to check: $(cat "$T/h.$port.err" 2>/dev/null)"
	fi
	[ "$(grep -c '^Received: from \[127\.0\.0\.1\] (localhost \[127\.0\.0\.1\])$' "$T/h.$port")" = 2 ] \
	    && ok "$port: both Received lines rewritten" || bad "$port: Received not rewritten"
	grep -qxF $'\t(using TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits))' "$T/h.$port" \
	    && ok "$port: continuation lines kept" || bad "$port: continuation lines lost"
done
: > "$T/h.25"
[ -n "$Q25" ] && { postcat -c "$D" -hq "$Q25" > "$T/h.25" 2>/dev/null || true; }
grep -q '^X-Originating-IP: \[198.51.100.7\]' "$T/h.25" && grep -q '198\.51\.100\.9' "$T/h.25" \
    && ok "25: headers untouched (scope = authenticated)" || bad "25: headers changed on port 25"

# --- TLS policy ---
tls_check() {	# label, port, starttls(yes|no)
	local st=() v
	[ "$3" = yes ] && st=(-starttls smtp)
	for v in tls1_1 tls1_2 tls1_3; do
		echo QUIT | timeout 10 openssl s_client "${st[@]}" -connect 127.0.0.1:$2 -$v \
		    -cipher 'DEFAULT:@SECLEVEL=0' > "$T/tls.$v" 2>&1 || true
	done
	grep -q '^New, (NONE)' "$T/tls.tls1_1" && ok "$1: TLSv1.1 refused" || bad "$1: TLSv1.1 accepted"
	grep -q '^New, TLSv1.2' "$T/tls.tls1_2" && ok "$1: TLSv1.2 accepted" || bad "$1: TLSv1.2 refused"
	grep -q '^New, TLSv1.3' "$T/tls.tls1_3" && ok "$1: TLSv1.3 accepted" || bad "$1: TLSv1.3 refused"
	{ [ "$3" = yes ] && echo "EHLO x"; sleep 1; echo R; sleep 2; echo QUIT; } |
	    timeout 10 openssl s_client "${st[@]}" -connect 127.0.0.1:$2 -tls1_2 > "$T/reneg" 2>&1 || true
	grep -q 'RENEGOTIATING' "$T/reneg" && grep -q 'no renegotiation' "$T/reneg" \
	    && ok "$1: client-initiated renegotiation refused" || bad "$1: renegotiation not refused"
}
tls_check "3.7 syntax, 25" $P25 yes
tls_check "3.7 syntax, 465" $P465 no

# The peers' checks against the rendered policy: mxdeck's vrfy and ciphers probes (raw
# ClientHellos per weak class) pass on every port; port 25 keeps the non-forward-secret
# suites (opportunistic TLS) with a note; s_client agrees where this libssl can offer.
printf '[site]\nname = live\ndomain = example.org\n\n[host "gw"]\naddress = 127.0.0.1\nroles = postfix\nprobe_ports = smtp:%s submission:%s smtps:%s\n' \
    "$P25" "$P587" "$P465" > "$T/peers.ini"
rc=0
MXDECK_PROBES=vrfy,ciphers MXDECK_PROBE_TIMEOUT=30 "$MXDECK" test "$T/peers.ini" --json \
    > "$T/peers.json" 2> "$T/peers.txt" || rc=$?
[ "$rc" -eq 0 ] && ok "vrfy, ciphers: exit 0" || { bad "vrfy, ciphers: exit $rc"; cat "$T/peers.txt"; }
peer() {	# kind target field
	/usr/bin/python3 - "$T/peers.json" "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
print(next((r[sys.argv[4]] for r in doc["results"]
    if r["kind"] == sys.argv[2] and r["target"] == sys.argv[3]), "MISSING"))
PY
}
for p in $P25 $P587 $P465; do
	v=$(peer vrfy "127.0.0.1:$p" status)
	[ "$v" = ok ] && ok "vrfy $p: ok" || bad "vrfy $p: $v"
	v=$(peer vrfy "127.0.0.1:$p" details)
	case $v in *"S: 502"*) ok "vrfy $p: Postfix's 502" ;; *) bad "vrfy $p: no 502 in: $v" ;; esac
	v=$(peer ciphers "127.0.0.1:$p" status)
	[ "$v" = ok ] && ok "ciphers $p: ok" || bad "ciphers $p: $v ($(peer ciphers "127.0.0.1:$p" summary))"
done
for p in $P587 $P465; do
	v=$(peer ciphers "127.0.0.1:$p" summary)
	[ "$v" = "refuses NULL anon EXPORT RC4 3DES non-FS" ] && ok "ciphers $p: every class refused" \
	    || bad "ciphers $p: '$v'"
done
v=$(peer ciphers "127.0.0.1:$P25" summary)
[ "$v" = "refuses NULL anon EXPORT RC4 3DES; non-FS kept (opportunistic TLS)" ] \
    && ok "ciphers 25: non-FS kept, the rest refused" || bad "ciphers 25: '$v'"
sclient() {	# port starttls(smtp|"") cipher-string: the cipher negotiated, or none
	local c st=()
	[ -n "$2" ] && st=(-starttls smtp)
	c=$(echo QUIT | timeout 10 openssl s_client "${st[@]}" -connect "127.0.0.1:$1" -tls1_2 \
	    -cipher "$3:@SECLEVEL=0" 2>/dev/null | sed -n 's/^New, [^,]*, Cipher is \(.*\)/\1/p' | head -1)
	case $c in ''|'(NONE)') echo none ;; *) echo "$c" ;; esac
}
for p in "$P25 smtp" "$P587 smtp" "$P465 "; do
	set -- $p
	v=$(sclient "$1" "${2:-}" 'aNULL:eNULL')
	[ "$v" = none ] && ok "s_client: aNULL/eNULL refused on $1" || bad "s_client: $v on $1"
done
v=$(sclient "$P587" smtp kRSA)
[ "$v" = none ] && ok "s_client: kRSA refused on submission" || bad "s_client: $v on submission"
v=$(sclient "$P465" "" kRSA)
[ "$v" = none ] && ok "s_client: kRSA refused on smtps" || bad "s_client: $v on smtps"
v=$(sclient "$P25" smtp kRSA)
[ "$v" != none ] && ok "s_client: kRSA ($v) kept on 25" || bad "s_client: kRSA refused on 25"

# --- the Postfix < 3.6 syntax, reloaded into the running instance ---
render_merge 3.3 || bad "3.3 render/merge"
grep -qx 'smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1' <(postconf -c "$D" -n) \
    && grep -qx 'tls_ssl_options = 0x40000000' <(postconf -c "$D" -n) \
    && ok "3.3 syntax merged" || bad "3.3 syntax not in main.cf"
postfix -c "$D" reload >/dev/null 2>&1
sleep 1
tls_check "3.3 syntax, 25" $P25 yes

if ! captured "$T/maillog" 'postfix/smtpd\[[0-9]+\]: connect from'; then
	bad "maillog: nothing logged, nothing to check"
elif grep -E 'warning|fatal|panic|disabling TLS' "$T/maillog" | grep -v 'TLS library problem' | grep -q .; then
	bad "maillog has warnings:"; grep -E 'warning|fatal|panic|disabling TLS' "$T/maillog" | grep -v 'TLS library problem' | sort -u | head -5 | sed 's/^/     /'
else
	ok "maillog: no warnings (besides the refused TLS handshakes)"
fi
echo "$fails failure(s)"
[ "$fails" -eq 0 ]
