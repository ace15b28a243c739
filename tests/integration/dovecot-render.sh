#!/usr/bin/env bash
# dovecot-render.sh: the Dovecot renderer against the real daemon.
#  1. render into a copy of the stock /etc/dovecot; `doveconf -n` accepts the tree and the
#     rendered deny passdb is the FIRST passdb (before Debian's auth-system.conf.ext);
#  2. a private dovecot built from the rendered drop-ins (00- before the real passdb,
#     99- last, as in the stock tree) enforces the per-user protocol deny:
#     `doveadm auth test -x service=...` exits 77 for a denied user/service, 0 otherwise,
#     also for a bare local part (auth_default_realm) and for smtp/submission;
#  3. real TLS logins with curl on the imaps/pop3s listeners; no plaintext listener;
#     ssl_min_protocol = TLSv1.3 refuses a TLS 1.2 handshake;
#  4. the ordering trap: the same deny passdb defined AFTER the real passdb denies nobody;
#  5. the peers' checks on the rendered TLS 1.2 policy: mxdeck's ciphers probe finds every
#     weak class (NULL, anon, EXPORT, RC4, 3DES, non-FS) refused on imaps/pop3s and after
#     STARTTLS, and with plaintext listeners added by hand (the render has none) its
#     cleartext probe finds LOGINDISABLED and no USER/PASS before STARTTLS
#     (disable_plaintext_auth = yes).
set -eu
MXDECK=${MXDECK:?}
tmp=$(mktemp -d)
conf=
cleanup() {
	if [ -n "$conf" ] && [ -f "$tmp/run/master.pid" ]; then
		pid=$(cat "$tmp/run/master.pid")
		doveadm -c "$conf" stop >/dev/null 2>&1 || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
ok() { echo "ok - $*"; }
die() { echo "not ok - $*"; [ -f "$tmp/log" ] && tail -n 20 "$tmp/log"; exit 1; }

command -v dovecot >/dev/null && command -v doveadm >/dev/null || {
	echo "dovecot-core is not installed"; exit 77; }

free_port() {
	local p
	while :; do
		p=$((10000 + RANDOM % 22000))	# below the ephemeral range (32768-60999): a client socket cannot hold it
		ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}
imaps=$(free_port)
pop3s=$(free_port)
[ "$imaps" != "$pop3s" ] || pop3s=$((imaps + 1))

chmod 755 "$tmp"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=mail.lab.test \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
cp -a /etc/dovecot "$tmp/etc-dovecot"
D=$tmp/etc-dovecot

cat >"$tmp/users.csv" <<'EOF'
email,imap,pop3,smtp,activesync,mapi,owa,ews
alice@example.org,1,0,1,1,1,1,1
bob@example.org,1,1,1,1,1,1,1
carol@example.org,0,1,0,1,1,1,1
EOF
cat >"$tmp/site.ini" <<EOF
[site]
name = dovecot-lab
domain = example.org
[host "gw"]
address = 192.0.2.1
roles = dovecot
dovecot_dir = $D
probe_ports = imaps:$imaps pop3s:$pop3s
[tls]
dovecot_min_protocol = TLSv1.3
certificate = $tmp/cert.pem
key = $tmp/key.pem
[users]
default = imap pop3:off smtp activesync mapi owa ews
file = users.csv
EOF

"$MXDECK" render "$tmp/site.ini" "$tmp/out" 2>"$tmp/render.err" ||
    die "mxdeck render: $(cat "$tmp/render.err")"
[ -d "$tmp/out/gw$D" ] || die "render did not write under $tmp/out/gw$D"
for s in imap pop3 smtp submission sieve doveadm; do
	[ -f "$tmp/out/gw$D/mxdeck/deny.$s" ] || die "deny.$s not rendered"
done
cp -a "$tmp/out/gw$D/." "$D/"
ok "rendered 00-mxdeck-deny.conf, 99-mxdeck.conf and every deny file into a stock tree"

doveconf -c "$D/dovecot.conf" -n >"$tmp/doveconf.out" 2>"$tmp/doveconf.err" ||
    die "doveconf -n rejects the rendered tree: $(cat "$tmp/doveconf.err")"
ok "doveconf -c DIR/dovecot.conf -n accepts the stock tree with the drop-ins"

first=$(awk '/^passdb {/ { inside = 1; next } inside && /^}/ { exit } inside' "$tmp/doveconf.out")
echo "$first" | grep -q 'deny = yes' && echo "$first" | grep -q "args = $D/mxdeck/deny.%s" ||
    die "the first passdb is not the deny passdb: $first"
grep -q '^  driver = pam' "$tmp/doveconf.out" || die "the stock pam passdb is gone"
ok "the deny passdb comes before the stock pam passdb"

for kv in "ssl=required" "ssl_min_protocol=TLSv1.3" "auth_default_realm=example.org" \
    "auth_username_format=%Lu" "disable_plaintext_auth=yes" "ssl_prefer_server_ciphers=yes"; do
	got=$(doveconf -c "$D/dovecot.conf" -h "${kv%%=*}")
	[ "$got" = "${kv#*=}" ] || die "effective ${kv%%=*} is '$got', want '${kv#*=}'"
done
ok "effective settings: ssl = required, ssl_min_protocol, server cipher order, login name = address"

# A private dovecot, built from the rendered drop-ins in the stock order.
mkdir -p "$tmp/run" "$tmp/state" "$tmp/home"
chown nobody:nogroup "$tmp/home"
cat >"$tmp/passwd" <<'EOF'
alice@example.org:{PLAIN}secret
bob@example.org:{PLAIN}secret
carol@example.org:{PLAIN}secret
EOF
mkconf() {	# FILE ORDER(early|late)
	{
		cat <<EOF
base_dir = $tmp/run
state_dir = $tmp/state
log_path = $tmp/log
listen = 127.0.0.1
protocols = imap pop3
default_login_user = dovenull
default_internal_user = dovecot
mail_location = maildir:~/Maildir
auth_failure_delay = 0
EOF
		[ "$2" = early ] && echo "!include $D/conf.d/00-mxdeck-deny.conf"
		cat <<EOF
passdb {
  driver = passwd-file
  args = $tmp/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$tmp/home/%u
}
EOF
		[ "$2" = late ] && echo "!include $D/conf.d/00-mxdeck-deny.conf"
		echo "!include $D/conf.d/99-mxdeck.conf"
	} >"$1"
}
start() {
	conf=$1
	: >"$tmp/log"
	rm -rf "$tmp/run" && mkdir "$tmp/run"	# no stale sockets from an earlier start
	dovecot -c "$conf" || die "dovecot -c $conf does not start"
	for _ in $(seq 100); do
		[ -S "$tmp/run/auth-client" ] && [ -s "$tmp/run/master.pid" ] && break
		sleep 0.1
	done
	[ -s "$tmp/run/master.pid" ] || die "no master.pid"
}
stop() {
	local pid
	pid=$(cat "$tmp/run/master.pid")
	doveadm -c "$conf" stop >/dev/null 2>&1 || kill "$pid"
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && die "dovecot $pid did not stop"
	rm -f "$tmp/run/master.pid"
	conf=
}
auth() {	# SERVICE USER -> exit status of doveadm auth test
	local rc=0
	doveadm -c "$conf" auth test -x service="$1" "$2" secret >"$tmp/auth.out" 2>&1 || rc=$?
	echo "$rc"
}

mkconf "$tmp/early.conf" early
start "$tmp/early.conf"
check() {	# SERVICE USER WANT
	local got
	got=$(auth "$1" "$2")
	[ "$got" = "$3" ] || die "auth service=$1 $2: exit $got, want $3 ($(tr '\n' ' ' <"$tmp/auth.out"))"
	ok "auth service=$1 $2 -> $3"
}
check pop3 alice@example.org 77
check imap alice@example.org 0
check pop3 bob@example.org 0
check pop3 alice 77			# bare local part: auth_default_realm makes it the address
check pop3 ALICE@Example.ORG 77		# %Lu: case does not escape the list
check imap carol@example.org 77
check pop3 carol@example.org 0
check smtp carol@example.org 77		# Postfix SMTP AUTH through Dovecot SASL
check submission carol@example.org 77
check smtp bob@example.org 0
# The password-free smoke test the push code can run after a reload: a denied user is
# refused with code=user_disabled whatever the password; an allowed one is not.
doveadm -c "$conf" auth test -x service=pop3 alice@example.org wrong >"$tmp/auth.out" 2>&1 || true
grep -q 'code=user_disabled' "$tmp/auth.out" || die "denied user without user_disabled: $(cat "$tmp/auth.out")"
doveadm -c "$conf" auth test -x service=pop3 bob@example.org wrong >"$tmp/auth.out" 2>&1 || true
grep -q 'bob@example.org' "$tmp/auth.out" || die "no doveadm answer for bob: $(cat "$tmp/auth.out")"
grep -q 'code=user_disabled' "$tmp/auth.out" && die "allowed user reported user_disabled"
ok "smoke test without passwords: code=user_disabled only for the denied user"
[ -s "$tmp/log" ] || die "the auth log is empty: nothing to check"
grep -q 'missing passwd file' "$tmp/log" && die "auth logged a missing deny file"
ok "no 'missing passwd file' in the log"

# Real logins over TLS.
curl -sS -k --max-time 10 "pop3s://127.0.0.1:$pop3s/" -u bob@example.org:secret >/dev/null 2>"$tmp/curl.err" ||
    die "POP3S login as bob: $(cat "$tmp/curl.err")"
ok "POP3S login bob (pop3 on) succeeds"
rc=0
curl -sS -k --max-time 10 "pop3s://127.0.0.1:$pop3s/" -u alice@example.org:secret >/dev/null 2>"$tmp/curl.err" || rc=$?
[ "$rc" -ne 0 ] || die "POP3S login as alice (pop3 off) succeeded"
ok "POP3S login alice (pop3 off) refused (curl exit $rc)"
curl -sS -k --max-time 10 "imaps://127.0.0.1:$imaps/" -u alice@example.org:secret >/dev/null 2>"$tmp/curl.err" ||
    die "IMAPS login as alice: $(cat "$tmp/curl.err")"
ok "IMAPS login alice (imap on) succeeds"

pid=$(cat "$tmp/run/master.pid")
ports=$(ss -Hltnp | grep "pid=$pid," | awk '{ n = split($4, a, ":"); print a[n] }' | sort -n | tr '\n' ' ')
want=$(printf '%s\n' "$imaps" "$pop3s" | sort -n | tr '\n' ' ')
[ "$ports" = "$want" ] || die "dovecot listens on '$ports', want only the TLS ports '$want'"
ok "listens only on imaps $imaps and pop3s $pop3s (plaintext listeners off)"

echo Q | openssl s_client -connect "127.0.0.1:$imaps" -tls1_2 >/dev/null 2>&1 &&
    die "a TLS 1.2 handshake succeeded although ssl_min_protocol = TLSv1.3"
echo Q | openssl s_client -connect "127.0.0.1:$imaps" -tls1_3 >/dev/null 2>&1 ||
    die "a TLS 1.3 handshake failed"
ok "ssl_min_protocol = TLSv1.3: TLS 1.2 refused, TLS 1.3 accepted"
stop

# The trap this layout avoids: a deny passdb after a passdb that succeeds does nothing.
mkconf "$tmp/late.conf" late
start "$tmp/late.conf"
got=$(auth pop3 alice@example.org)
[ "$got" = 0 ] || die "late deny passdb: expected the trap (exit 0), got $got"
ok "ordering trap confirmed: a deny passdb defined after the real one denies nobody"
stop

# 5. The rendered TLS 1.2 policy against mxdeck's own ciphers and cleartext probes.
# Plain IMAP/POP3 listeners are added after the drop-ins (the render turns them off) to
# prove disable_plaintext_auth; on an address of their own, because Dovecot counts a
# client connecting from its own address as secured.
sed -i 's/^dovecot_min_protocol = .*/dovecot_min_protocol = TLSv1.2/' "$tmp/site.ini"
rm -rf "$tmp/out"
"$MXDECK" render "$tmp/site.ini" "$tmp/out" 2>"$tmp/render.err" ||
    die "mxdeck render (TLSv1.2): $(cat "$tmp/render.err")"
cp -a "$tmp/out/gw$D/." "$D/"
addr=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
imap=$(free_port)
pop3=$(free_port)
[ "$imap" != "$pop3" ] || pop3=$((imap + 1))
mkconf "$tmp/peers.conf" early
# A weak list set before the drop-in (as a hand-edited 10-ssl.conf would): 99-mxdeck.conf
# must win, or ADH and RSA key exchange are served.
sed -i -e "s/^listen = .*/listen = $addr/" \
    -e "s|^!include $D/conf.d/99-mxdeck.conf|ssl_cipher_list = ALL:@SECLEVEL=0\\n&|" "$tmp/peers.conf"
grep -q '^ssl_cipher_list = ALL:@SECLEVEL=0$' "$tmp/peers.conf" || die "no weak list in peers.conf"
cat >>"$tmp/peers.conf" <<EOF
service imap-login {
  inet_listener imap {
    port = $imap
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $pop3
  }
}
EOF
start "$tmp/peers.conf"
for p in "$imap" "$pop3" "$imaps" "$pop3s"; do
	for _ in $(seq 50); do ss -Hltn "sport = :$p" | grep -q . && break; sleep 0.1; done
done
[ "$(doveconf -c "$conf" -h ssl_cipher_list)" = "$(doveconf -c "$D/dovecot.conf" -h ssl_cipher_list)" ] ||
    die "the private dovecot does not use the rendered ssl_cipher_list"
cat >"$tmp/peers.ini" <<EOF
[site]
name = dovecot-peers
domain = example.org
[host "gw"]
address = $addr
roles = dovecot
probe_ports = imap:$imap pop3:$pop3 imaps:$imaps pop3s:$pop3s
EOF
rc=0
MXDECK_PROBES=ciphers,cleartext MXDECK_PROBE_TIMEOUT=30 "$MXDECK" test "$tmp/peers.ini" --json \
    >"$tmp/peers.json" 2>"$tmp/peers.txt" || rc=$?
[ "$rc" = 0 ] || die "ciphers, cleartext on the rendered Dovecot: exit $rc: $(cat "$tmp/peers.txt")"
peer() {	# kind target field
	/usr/bin/python3 - "$tmp/peers.json" "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
print(next((r[sys.argv[4]] for r in doc["results"]
    if r["kind"] == sys.argv[2] and r["target"] == sys.argv[3]), "MISSING"))
PY
}
for p in "$imaps" "$pop3s" "$imap" "$pop3"; do
	got=$(peer ciphers "$addr:$p" summary)
	[ "$got" = "refuses NULL anon EXPORT RC4 3DES non-FS" ] ||
	    die "ciphers $p: '$got' ($(peer ciphers "$addr:$p" status))"
done
ok "ciphers: every weak class refused on imaps, pop3s and after STARTTLS/STLS"
got=$(peer cleartext "$addr:$imap" summary)
[ "$got" = "LOGINDISABLED before STARTTLS" ] || die "cleartext imap: '$got'"
got=$(peer cleartext "$addr:$pop3" summary)
[ "$got" = "no USER/PASS before STLS" ] || die "cleartext pop3: '$got'"
ok "cleartext: LOGINDISABLED on IMAP, no USER/PASS on POP3 before STARTTLS"
c=$(echo Q | openssl s_client -connect "$addr:$imaps" -tls1_2 -cipher 'kRSA:aNULL:eNULL:@SECLEVEL=0' \
    2>/dev/null | sed -n 's/^New, [^,]*, Cipher is \(.*\)/\1/p' | head -1)
[ "$c" = "(NONE)" ] || [ -z "$c" ] || die "s_client negotiated $c with only kRSA/aNULL/eNULL"
c=$(echo Q | openssl s_client -connect "$addr:$imaps" -tls1_2 2>/dev/null |
    sed -n 's/^New, [^,]*, Cipher is \(.*\)/\1/p' | head -1)
case $c in ECDHE-*) ok "s_client agrees: kRSA/aNULL/eNULL refused, $c chosen" ;;
*) die "s_client TLS 1.2 chose '$c'" ;; esac
stop
