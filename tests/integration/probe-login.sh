#!/usr/bin/env bash
# probe-login.sh: per-user access proven by logging in ([tests] credentials, `mxdeck test`
# login probes) against a real gateway on loopback:
#   - Dovecot with a passwd-file passdb behind the deny passdb and deny files that mxdeck
#     rendered for the profile (imaps, pop3s, and an imap listener with STARTTLS);
#   - Postfix (its own instance, queue and SASL socket) authenticating submission and
#     smtps through that Dovecot;
#   - the nginx reverse proxy mxdeck rendered, in front of an Exchange stand-in that
#     checks HTTP Basic per user (tests/lab/login-lab.py).
# alice has pop3 off: refused over POP3S and allowed over IMAPS, "as declared"; then
# deny.pop3 is removed by hand and the same run fails naming alice and POP3. A
# credentials file with mode 0644 (or another owner, or bad lines) is refused. Servers
# that offer no STARTTLS, or a certificate that does not verify, get no password. After
# the runs every file written since the first one, and mxdeck's stdout/stderr/JSON, are
# searched for the passwords: none.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MXDECK=${MXDECK:-$ROOT/build/mxdeck}
. "$ROOT/tests/lab/web-lab.sh"
TUI_SRC=$ROOT
. "$ROOT/tests/tui/lib/tmux.bash"
. "$ROOT/tests/lab/checks.sh"	# after tmux.bash: its check() counts into checks_done
lab_need openssl ss postfix postconf dovecot doveadm nginx nsd tmux /usr/bin/python3
lab_init
T=$LAB
WEB_PIDFILES=("$LAB/nginx.pid")
trap 'tui_cleanup; web_cleanup' EXIT
lab_ca
K=$LAB/pki

IS=$(lab_port); I=$(lab_port); PS=$(lab_port)
S=$(lab_port); SUB=$(lab_port); SS=$(lab_port)
HTTPS=$(lab_port); HTTP=$(lab_port); BP=$(lab_port); DNS=$(lab_port)
F1=$(lab_port); F2=$(lab_port); BC=$(lab_port); EC=$(lab_port)

# Fresh passwords each run, so a hit can only come from this run.
PA=alice-$(openssl rand -hex 10)
PB=bob-$(openssl rand -hex 10)

cat > "$LAB/lab.test.zone" <<EOF
\$ORIGIN lab.test.
\$TTL 300
@ IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
@ IN NS ns.lab.test.
ns IN A 127.0.0.1
mail IN A 127.0.0.1
EOF
lab_nsd login "$DNS" lab.test "$LAB/lab.test.zone"

D=$LAB/etc-dovecot
PQ=$LAB/postfix-gw/queue
mkdir -p "$D/conf.d" "$PQ/private" "$LAB/nginx" "$LAB/www"

cat > "$LAB/login.ini" <<EOF
[site]
name = login-lab
domain = lab.test
resolver = 127.0.0.1:$DNS

[host "gw"]
address = 127.0.0.1
roles = postfix dovecot
dovecot_dir = $D
postfix_dir = $LAB/etc-postfix
postfix_queue_dir = $PQ
probe_ports = smtp:$S submission:$SUB smtps:$SS imaps:$IS imap:$I pop3s:$PS pop3:off https:off

[host "proxy"]
address = 127.0.0.1
roles = nginx
nginx_dir = $LAB/nginx
www_dir = $LAB/www
probe_ports = https:$HTTPS

[vhost "mail.lab.test"]
server = nginx
backend = http://127.0.0.1:$BP
services = owa ews activesync
certificate = $K/good.pem
key = $K/good.key

[autodiscover "lab.test"]
imap = imap.lab.test:993/ssl
pop3 = pop.lab.test:995/ssl
smtp = smtp.lab.test:587/starttls

[tls]
certificate = $K/good.pem
key = $K/good.key
dovecot_min_protocol = TLSv1.2

[users]
default = imap pop3 smtp activesync mapi owa ews

[user "alice@lab.test"]
pop3 = off

[user "bob@lab.test"]
smtp = off
activesync = off

[user "carol@lab.test"]
imap = on

[tests]
credentials = creds.txt
EOF
umask 077
printf '# test users\nalice@lab.test:%s\n\nbob@lab.test:%s\n' "$PA" "$PB" > "$LAB/creds.txt"
umask 022
chmod 600 "$LAB/creds.txt"

# ---- the gateway, from what mxdeck renders ----
"$MXDECK" render "$LAB/login.ini" "$LAB/out" >"$LAB/render.out" 2>&1 ||
    { cat "$LAB/render.out"; echo "render failed"; exit 1; }
cp "$LAB/out/gw$D/conf.d/00-mxdeck-deny.conf" "$LAB/out/gw$D/conf.d/99-mxdeck.conf" "$D/conf.d/"
cp -r "$LAB/out/gw$D/mxdeck" "$D/"
check "rendered: only alice in deny.pop3" eq "$(grep -v "^#" "$D/mxdeck/deny.pop3")" "alice@lab.test"
check "rendered: bob in deny.smtp" has "$(cat "$D/mxdeck/deny.smtp")" "bob@lab.test"
check "rendered: SASL socket in the lab's own queue" has \
    "$(cat "$D/conf.d/99-mxdeck.conf")" "unix_listener $PQ/private/auth"

DV=$LAB/dv
mkdir -p "$DV/base" "$DV/state" "$DV/home"
chown nobody:nogroup "$DV/home"
printf 'alice@lab.test:{PLAIN}%s\nbob@lab.test:{PLAIN}%s\ncarol@lab.test:{PLAIN}x-unused\n' \
    "$PA" "$PB" > "$DV/passwd"
cat > "$DV/dovecot.conf" <<EOF
base_dir = $DV/base
state_dir = $DV/state
log_path = $DV/log
listen = 127.0.0.1
protocols = imap pop3
default_login_user = dovenull
default_internal_user = dovecot
mail_location = maildir:~/Maildir
auth_mechanisms = plain login
!include $D/conf.d/00-mxdeck-deny.conf
passdb {
  driver = passwd-file
  args = $DV/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$DV/home/%u
}
!include $D/conf.d/99-mxdeck.conf
# The rendered gateway has no plaintext listeners; the lab adds one on imap with
# STARTTLS (ssl = required still refuses a login before it) to test that path.
service imap-login {
  inet_listener imap-starttls {
    address = 127.0.0.1
    port = $I
  }
}
EOF
# the rendered listeners bind every address; keep the lab on loopback
sed -i 's/^\( *\)port = \([1-9][0-9]*\)$/\1address = 127.0.0.1\n\1port = \2/' "$D/conf.d/99-mxdeck.conf"
dovecot -c "$DV/dovecot.conf" || { cat "$DV/log"; echo "dovecot did not start"; exit 1; }
LAB_DOVECOT_CONFS="$LAB_DOVECOT_CONFS $DV/dovecot.conf"
lab_wait_port "$IS" && lab_wait_port "$PS" && lab_wait_port "$I"
for _ in $(seq 100); do [ -S "$PQ/private/auth" ] && break; sleep 0.1; done

lab_postfix gw "$S" "$SUB" "$SS" "smtpd_sasl_type = dovecot" "smtpd_sasl_path = private/auth"

# ---- the proxy mxdeck rendered, and the Exchange stand-in behind it ----
printf 'alice@lab.test:%s:activesync,ews,owa\nbob@lab.test:%s:activesync,ews,owa\n' \
    "$PA" "$PB" > "$LAB/exchange-users"
/usr/bin/python3 "$ROOT/tests/lab/login-lab.py" exchange "$BP" "$LAB/exchange-users" \
    </dev/null >"$LAB/exchange.log" 2>&1 &
LAB_PIDS="$LAB_PIDS $!"
en="$LAB/out/proxy$LAB/nginx/sites-enabled"
nginx_live "$en" "$LAB/live" "$HTTP"
mkdir -p "$LAB/tmp"
nginx_conf "$LAB/nginx.pid" "$LAB/nginx-error.log" "$LAB/tmp" "$LAB/live/*" >"$LAB/nginx.conf"
nginx -p "$LAB/" -c "$LAB/nginx.conf" || { cat "$LAB/nginx-error.log"; exit 1; }
web_wait "$LAB/nginx.pid" "$HTTPS"
LAB_WAIT_STEPS=600 lab_wait_port "$BP"
echo "lab: dovecot imaps $IS imap $I pop3s $PS; postfix $S/$SUB/$SS; nginx $HTTPS -> $BP; dns $DNS"

export SSL_CERT_FILE=$K/ca.pem
MARK=$LAB/mark
touch "$MARK"
sleep 1	# files written from now on are newer than the mark
mkdir -p "$LAB/home" "$LAB/cwd" "$LAB/tmpdir"
run() {	# NAME PROFILE: mxdeck test --json, stdout/stderr/exit kept under $LAB/run-NAME.*
	local rc=0
	(cd "$LAB/cwd" && HOME=$LAB/home TMPDIR=$LAB/tmpdir MXDECK_PROBES=login \
	    MXDECK_PROBE_TIMEOUT=40 MXDECK_PROBE_DEADLINE=200 "$MXDECK" test "$2" --json \
	    >"$LAB/run-$1.json" 2>"$LAB/run-$1.err") || rc=$?
	echo "$rc" > "$LAB/run-$1.rc"
	(cd "$LAB/cwd" && HOME=$LAB/home TMPDIR=$LAB/tmpdir MXDECK_PROBES=login \
	    MXDECK_PROBE_TIMEOUT=40 MXDECK_PROBE_DEADLINE=200 "$MXDECK" test "$2" -v \
	    >"$LAB/run-$1.txt" 2>&1) || true
}
st() { lab_json_get "$LAB/run-$1.json" "$2" "$3" status; }
sm() { lab_json_get "$LAB/run-$1.json" "$2" "$3" summary; }
dt() { lab_json_get "$LAB/run-$1.json" "$2" "$3" details; }
ids() { /usr/bin/python3 -c 'import json,sys; [print(r["id"]) for r in json.load(open(sys.argv[1]))["results"]]' "$1"; }

# ---- 1. as declared ----
run ok "$LAB/login.ini"
cat "$LAB/run-ok.txt"
check "run 1: exit 0 (nothing fails; Exchange-only mismatch is a warning)" eq "$(cat "$LAB/run-ok.rc")" 0
check "alice pop3: ok" eq "$(st ok gw 'alice@lab.test pop3')" ok
check "alice pop3: refused as declared" has "$(sm ok gw 'alice@lab.test pop3')" "refused as declared"
check "alice pop3: over POP3S USER/PASS" has "$(dt ok gw 'alice@lab.test pop3')" "pop3s 127.0.0.1:$PS USER/PASS: refused as declared"
check "alice imap: ok" eq "$(st ok gw 'alice@lab.test imap')" ok
check "alice imap: allowed as declared (3 attempts)" has "$(sm ok gw 'alice@lab.test imap')" "allowed as declared (3 attempts)"
check "alice imap: LOGIN over IMAPS" has "$(dt ok gw 'alice@lab.test imap')" "imaps 127.0.0.1:$IS LOGIN: allowed as declared"
check "alice imap: AUTHENTICATE PLAIN over IMAPS" has "$(dt ok gw 'alice@lab.test imap')" "imaps 127.0.0.1:$IS AUTHENTICATE PLAIN: allowed as declared"
check "alice imap: STARTTLS on imap" has "$(dt ok gw 'alice@lab.test imap')" "imap 127.0.0.1:$I STARTTLS + LOGIN: allowed as declared"
check "alice smtp: allowed on submission and smtps" has "$(sm ok gw 'alice@lab.test smtp')" "allowed as declared (2 attempts)"
check "bob smtp: refused as declared (Postfix SASL through Dovecot's deny)" has "$(sm ok gw 'bob@lab.test smtp')" "refused as declared (2 attempts)"
check "bob pop3: allowed as declared" has "$(sm ok gw 'bob@lab.test pop3')" "allowed as declared"
check "alice activesync via the proxy: allowed" has "$(sm ok '' 'alice@lab.test activesync')" "allowed as declared (1 attempt; enforced by Exchange)"
check "alice ews via the proxy: allowed" eq "$(st ok '' 'alice@lab.test ews')" ok
check "alice owa via the proxy: allowed" eq "$(st ok '' 'alice@lab.test owa')" ok
check "bob activesync: Exchange let him in: a warning, not a gateway failure" eq "$(st ok '' 'bob@lab.test activesync')" warn
check "bob activesync: says only Exchange enforces it" has "$(sm ok '' 'bob@lab.test activesync')" "bob@lab.test ActiveSync: declared off but Exchange let bob@lab.test in (1 of 1 attempts); only Exchange enforces this"
check "carol: not in the credentials file, not tested" eq "$(grep -c carol "$LAB/run-ok.json" || true)" 0
check "stable id login/USER/PROTO/HOST" has "$(ids "$LAB/run-ok.json")" "login/alice@lab.test/pop3/gw"
check "stable id for the proxy: login/USER/PROTO/VHOST" has "$(ids "$LAB/run-ok.json")" "login/bob@lab.test/activesync/mail.lab.test"
check "the dialogue hides the password" has "$(dt ok gw 'alice@lab.test imap')" "LOGIN \"alice@lab.test\" <password not shown>"
check "the document validates against share/schema/mxdeck.schema.json" eq "$(/usr/bin/python3 - "$ROOT/share/schema/mxdeck.schema.json" "$LAB/run-ok.json" <<'PY'
import json, sys, jsonschema
s = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))
try:
    jsonschema.Draft202012Validator(s).validate(d); print("valid")
except jsonschema.ValidationError as e:
    print(e.message)
PY
)" valid

# ---- 1b. the console: a user x protocol matrix in the Users view after a test run ----
matrix() {
	tui_start 160 40 "$LAB/login.ini"
	tui_wait '1 Site' || return 1
	tui_keys t
	tui_wait 'Live tests: [0-9]+ running' || return 1
	tui_wait 'live tests done' 150 || return 1
	tui_keys 7
	tui_wait 'login test: = as declared' || return 1
	# imap pop3 smtp as mbox mapi owa ews: alice pop3 off and refused, the rest allowed;
	# bob's ActiveSync off but Exchange let him in (~); mapi is not tested
	tui_wait 'alice@lab\.test +on= +-= +on= +on= +on +on= +on=' || return 1
	tui_wait 'bob@lab\.test +on= +on= +-= +-~ +on +on= +on=' || return 1
	# carol has no credentials: her row has no verdicts
	tui_wait 'carol@lab\.test +on +on +on +on +on +on +on' || return 1
	tui_keys q
}
check "console: the Users view shows the login matrix after t" matrix
tmux -S "$TUI_SOCK" kill-server 2>/dev/null || true

# ---- 2. the deny file removed by hand on the host ----
rm "$D/mxdeck/deny.pop3"
run nodeny "$LAB/login.ini"
cat "$LAB/run-nodeny.txt"
check "run 2: exit 1" eq "$(cat "$LAB/run-nodeny.rc")" 1
check "alice pop3: now fails" eq "$(st nodeny gw 'alice@lab.test pop3')" fail
check "alice pop3: names the user and the protocol" has "$(dt nodeny gw 'alice@lab.test pop3')" "declared off but the gateway let alice@lab.test in over POP3"
check "alice pop3: summary says let in" has "$(sm nodeny gw 'alice@lab.test pop3')" "alice@lab.test POP3: declared off but the gateway let alice@lab.test in (1 of 1 attempts)"
check "the human report names it too" has "$(cat "$LAB/run-nodeny.txt")" "declared off but the gateway let alice@lab.test in over POP3"
check "alice imap still as declared" eq "$(st nodeny gw 'alice@lab.test imap')" ok
cp "$LAB/out/gw$D/mxdeck/deny.pop3" "$D/mxdeck/deny.pop3"

# ---- 3. the credentials file refused ----
chmod 644 "$LAB/creds.txt"
run mode "$LAB/login.ini"
check "mode 0644: exit 2" eq "$(cat "$LAB/run-mode.rc")" 2
check "mode 0644: names the file, the mode and the fix" has "$(cat "$LAB/run-mode.txt")" \
    "$LAB/creds.txt: mode 0644 lets group and others read the passwords: refused (chmod 600 $LAB/creds.txt)"
check "mode 0644: nothing contacted" lacks "$LAB/run-mode.txt" "as declared" "refused"
check "mode 0644: --json is one error document naming the file and the fix" eq "$(/usr/bin/python3 - "$ROOT/share/schema/mxdeck.schema.json" "$LAB/run-mode.json" "$LAB/creds.txt" <<'PY'
import json, sys, jsonschema
s = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))
jsondoc = json.dumps(d)
jsonschema.Draft202012Validator(s).validate(d)
print("ok" if d["exit"] == 2 and sys.argv[3] + ": mode 0644" in jsondoc and "chmod 600" in jsondoc else jsondoc)
PY
)" ok
"$MXDECK" lint "$LAB/login.ini" > "$LAB/lint-mode.txt" 2>&1 || true
check "mode 0644: lint warns at the key's line" has "$(cat "$LAB/lint-mode.txt")" \
    "login.ini:$(grep -n '^credentials' "$LAB/login.ini" | cut -d: -f1): warning: [tests] credentials $LAB/creds.txt is readable by group or others"
chmod 600 "$LAB/creds.txt"
"$MXDECK" lint "$LAB/login.ini" > "$LAB/lint-ok.txt" 2>&1 || true
check "mode 0600: no lint warning about it" lacks "$LAB/lint-ok.txt" "\\[tests\\] credentials" "."
chown nobody "$LAB/creds.txt"
run owner "$LAB/login.ini"
chown root "$LAB/creds.txt"
check "owned by someone else: exit 2" eq "$(cat "$LAB/run-owner.rc")" 2
check "owned by someone else: says so" has "$(cat "$LAB/run-owner.txt")" "$LAB/creds.txt: owned by uid $(id -u nobody), not by you"
sed 's/^credentials = creds.txt/credentials = bad.txt/' "$LAB/login.ini" > "$LAB/bad.ini"
printf 'alice@lab.test:%s\nno-colon-%s\ndave@lab.test:%s\n:%s\nbob@lab.test:\n' "$PA" "$PB" "$PB" "$PA" > "$LAB/bad.txt"
chmod 600 "$LAB/bad.txt"
run badlines "$LAB/bad.ini"
check "bad lines: exit 2" eq "$(cat "$LAB/run-badlines.rc")" 2
check "bad lines: FILE:2 no ':'" has "$(cat "$LAB/run-badlines.txt")" "$LAB/bad.txt:2: no ':' between the address and the password"
check "bad lines: FILE:3 not a user" has "$(cat "$LAB/run-badlines.txt")" "$LAB/bad.txt:3: dave@lab.test is not a user of the profile"
check "bad lines: FILE:4 no address" has "$(cat "$LAB/run-badlines.txt")" "$LAB/bad.txt:4: the part before ':' is not an address"
check "bad lines: FILE:5 empty password" has "$(cat "$LAB/run-badlines.txt")" "$LAB/bad.txt:5: empty password for bob@lab.test"

# ---- 4. no STARTTLS offered, or a certificate that does not verify: no password ----
/usr/bin/python3 "$ROOT/tests/lab/login-lab.py" imap-nostarttls "$F1" "$LAB/cap-imap" </dev/null >/dev/null 2>&1 &
LAB_PIDS="$LAB_PIDS $!"
/usr/bin/python3 "$ROOT/tests/lab/login-lab.py" smtp-nostarttls "$F2" "$LAB/cap-smtp" </dev/null >/dev/null 2>&1 &
LAB_PIDS="$LAB_PIDS $!"
lab_s_server "$BC" "$K/wrong.pem" "$K/wrong.key"
# an IMAPS server that repeats the password (and the AUTH PLAIN blob) in its refusals
/usr/bin/python3 "$ROOT/tests/lab/login-lab.py" imaps-echo "$EC" "$K/good.pem" "$K/good.key" </dev/null >/dev/null 2>&1 &
LAB_PIDS="$LAB_PIDS $!"
LAB_WAIT_STEPS=600 lab_wait_port "$F1"; LAB_WAIT_STEPS=600 lab_wait_port "$F2"; lab_wait_port "$BC"
LAB_WAIT_STEPS=600 lab_wait_port "$EC"
sed -e '/^\[host "proxy"\]/,$d' "$LAB/login.ini" | sed -e 's/^\[host "gw"\]/[host "plain"]/' \
    -e "s/^probe_ports = .*/probe_ports = smtp:off submission:$F2 smtps:off imaps:off imap:$F1 pop3s:$BC pop3:off https:off/" \
    > "$LAB/plain.ini"
printf '\n[host "echo"]\naddress = 127.0.0.1\nroles = dovecot\nprobe_ports = imaps:%s imap:off pop3s:off pop3:off https:off\n' "$EC" >> "$LAB/plain.ini"
sed -n '/^\[autodiscover/,$p' "$LAB/login.ini" >> "$LAB/plain.ini"
run plain "$LAB/plain.ini"
cat "$LAB/run-plain.txt"
check "no STARTTLS on imap: not tested, no password sent" has "$(dt plain plain 'alice@lab.test imap')" "imap 127.0.0.1:$F1 STARTTLS + LOGIN: not tested: no STARTTLS offered: no password sent"
check "no STARTTLS on submission: not tested, no password sent" has "$(dt plain plain 'alice@lab.test smtp')" "submission 127.0.0.1:$F2 STARTTLS + AUTH PLAIN: not tested: no STARTTLS offered: no password sent"
check "a certificate for another name: could not test, no password sent" has "$(dt plain plain 'alice@lab.test pop3')" "the certificate does not verify"
check "that is a failure" eq "$(st plain plain 'alice@lab.test pop3')" fail
check "a server that repeats the password: refused, and shown masked" has "$(dt plain echo 'alice@lab.test imap')" "S: a1 NO [ALERT] wrong: a1 LOGIN \"alice@lab.test\" \"<masked>\""
check "a server that repeats the AUTH PLAIN blob: masked too" has "$(dt plain echo 'alice@lab.test imap')" "not you: <masked> <masked>"
check "the IMAP server without STARTTLS got commands but no password" lacks "$LAB/cap-imap" "$PA|$PB|LOGIN|AUTHENTICATE" "CAPABILITY"
check "the SMTP server without STARTTLS got commands but no password" lacks "$LAB/cap-smtp" "$PA|$PB|AUTH|$(printf '\0alice@lab.test\0%s' "$PA" | base64 -w0)" "EHLO"

# ---- 5. no password anywhere mxdeck wrote ----
for f in "$LAB"/run-*.json "$LAB"/run-*.err "$LAB"/run-*.txt; do
	captured "$f" || fails=$((fails + 1))
done
check "run 1 captured results" captured "$LAB/run-ok.json" '"kind":"login"'
b64a=$(printf '\0alice@lab.test\0%s' "$PA" | base64 -w0)
b64b=$(printf '\0bob@lab.test\0%s' "$PB" | base64 -w0)
# every file changed on this file system since the first run (mxdeck's HOME, TMPDIR and
# working directory are in the lab), except the ones the test itself wrote with the
# passwords on purpose (credentials, Dovecot's passwd, the Exchange stand-in's users)
find / -xdev -newer "$MARK" -type f -size -20M \
    ! -path "$LAB/creds.txt" ! -path "$LAB/bad.txt" ! -path "$DV/passwd" \
    ! -path "$LAB/exchange-users" ! -path '/proc/*' 2>/dev/null > "$LAB/written" ||
    true	# files of other processes may vanish during the walk
check "the list of files written since the first run is not empty" captured "$LAB/written" "run-ok.json"
hits=$(xargs -d '\n' grep -l -F -e "$PA" -e "$PB" -e "$b64a" -e "$b64b" < "$LAB/written" 2>/dev/null || true)
check "no password (or its AUTH PLAIN form) in any file written since: $(wc -l < "$LAB/written") files" eq "$hits" ""
checks_done
