#!/bin/bash
# push-e2e.sh: the proof that a pushed profile does what it says. `mxdeck apply` over
# SSH to a lab host whose Postfix and Dovecot then run for real from that host's own
# directories (the lab scaffolding below is what the gateway's admin has: private
# queue, loopback, a virtual mailbox domain, a test password file). Then:
#  - a message submitted with SMTP AUTH (STARTTLS) on the submission port arrives in
#    the mailbox with Received / X-Originating-IP / User-Agent / X-Mailer rewritten as
#    the profile's [header-rules] say (scope = authenticated);
#  - a message arriving unauthenticated on port 25 keeps those headers;
#  - a user with pop3 off is refused by Dovecot over POP3S and accepted over IMAPS;
#  - postmaster@ is accepted from a sender that a later restriction rejects.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"
for c in postfix dovecot swaks curl ss; do
	command -v $c >/dev/null || { echo "$c not installed"; exit 77; }
done

T=$lab/run
mkdir -p "$T/spool" "$T/data" "$T/mail" "$T/dv/run" "$T/dv/state"
PF_PID=
cleanup_daemons() {
	[ -n "$PF_PID" ] && { postfix -c "$P" stop >/dev/null 2>&1 || true; kill "$PF_PID" 2>/dev/null || true; }
	[ -f "$T/dv/run/master.pid" ] && kill "$(cat "$T/dv/run/master.pid")" 2>/dev/null || true
}
extra_cleanup=cleanup_daemons

port_free() { ! ss -ltnH "sport = :$1" | grep -q .; }
base=$((10000 + RANDOM % 22000))	# below the ephemeral range (32768-60999)
while ! { port_free $base && port_free $((base + 1)) && port_free $((base + 2)) &&
    port_free $((base + 3)) && port_free $((base + 4)); }; do base=$((base + 11)); done
P25=$base P587=$((base + 1)) P465=$((base + 2)) P993=$((base + 3)) P995=$((base + 4))

"$labtools/lab-hosts.sh" start "$lab" 1
"$labtools/lab-hosts.sh" profile "$lab" "postfix dovecot" |
	awk '/^\[(vhost|autodiscover|connector) /{skip=1; next} /^\[/{skip=0} !skip' |
	sed "s|^roles = postfix dovecot|&\nprobe_ports = smtp:$P25 submission:$P587 smtps:$P465 imaps:$P993 pop3s:$P995|" \
	    >"$lab/site.ini"
P=$lab/h1/etc/postfix
D=$lab/h1/etc/dovecot

# The gateway as its admin set it up before mxdeck (nothing here is managed by mxdeck).
chmod 755 "$lab" "$T" "$lab/h1" "$lab/h1/etc"
chown postfix "$T/data"
chmod 1777 "$T/mail"
printf 'alice@example.org example.org/alice/\ndave@example.org example.org/dave/\n' >"$T/vmailbox"
postconf -c "$P" -e "queue_directory = $T/spool" "data_directory = $T/data" \
    "inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" "maillog_file = /dev/stdout" \
    "myhostname = gw.lab.test" "mydomain = lab.test" "mydestination = localhost" \
    "alias_maps =" "alias_database =" "relay_domains =" "defer_transports = relay smtp" \
    "virtual_mailbox_domains = example.org" "virtual_mailbox_base = $T/mail" \
    "virtual_mailbox_maps = texthash:$T/vmailbox" "virtual_uid_maps = static:65534" \
    "virtual_gid_maps = static:65534"
postconf -c "$P" -M# smtp/inet
sed -i 's/^!include auth-system.conf.ext/#&/' "$D/conf.d/10-auth.conf"
printf 'alice@example.org:{PLAIN}secret\ndave@example.org:{PLAIN}secret\n' >"$T/dv/passwd"
cat >"$D/conf.d/50-lab.conf" <<DOVECOT
listen = 127.0.0.1
base_dir = $T/dv/run
state_dir = $T/dv/state
log_path = $T/dv/log
protocols = imap pop3
mail_location = maildir:$T/mail/%d/%n
first_valid_uid = 65534
passdb {
  driver = passwd-file
  args = scheme=PLAIN $T/dv/passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$T/mail/%d/%n
}
service auth {
  unix_listener $T/spool/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
DOVECOT

rc=0
mx apply --yes "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/out"; die "apply: exit $rc"; }
grep -q 'note: postfix is not running' "$lab/out" || die "expected 'not running' notes"
ok "applied over SSH (postfix, dovecot not running yet: reload skipped with a note)"

postfix -c "$P" set-permissions >/dev/null 2>&1 || true
mkdir -p "$T/spool/private"
dovecot -c "$D/dovecot.conf" || { cat "$T/dv/log" 2>/dev/null; die "dovecot did not start"; }
postfix -c "$P" start-fg >"$T/maillog" 2>&1 &
PF_PID=$!
for _ in $(seq 100); do
	port_free $P25 || port_free $P587 || port_free $P993 || break
	sleep 0.1
done
port_free $P587 && { cat "$T/maillog"; die "postfix did not start"; }
port_free $P993 && { cat "$T/dv/log"; die "dovecot did not start"; }
ok "postfix and dovecot run from the pushed host directories (ports $P25 $P587 $P993 $P995)"

# A second apply with the daemons running reloads them.
sed -i 's|^rule = /^X-Mailer:/ IGNORE$|&\nrule = /^X-Lab-Reload:/ IGNORE|' "$lab/site.ini"
rc=0
mx apply --yes "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] && grep -q 'note: postfix reloaded' "$lab/out" || { cat "$lab/out"; die "reload on apply"; }
ok "apply with Postfix running: validated, renamed, postfix reloaded"

hdrs=(--add-header "Received: from secret-laptop.corp.internal ([10.9.8.7]) by mua"
      --add-header "X-Originating-IP: [198.51.100.77]"
      --add-header "User-Agent: LabAgent/1.0" --add-header "X-Mailer: LabMailer 2.0")
timeout 60 swaks --server 127.0.0.1 -p $P587 --tls --auth PLAIN --auth-user dave@example.org \
    --auth-password secret --from dave@example.org --to alice@example.org \
    --header "Subject: authenticated" "${hdrs[@]}" >"$T/s1" 2>&1 || { cat "$T/s1"; die "submission"; }
timeout 60 swaks --server 127.0.0.1 -p $P25 --from someone@foreign.test --to alice@example.org \
    --header "Subject: inbound" "${hdrs[@]}" >"$T/s2" 2>&1 || { cat "$T/s2"; die "port 25"; }
msg() { grep -l "^Subject: $1" "$T"/mail/example.org/alice/new/* 2>/dev/null | head -n 1; }
for _ in $(seq 100); do [ -n "$(msg authenticated)" ] && [ -n "$(msg inbound)" ] && break; sleep 0.1; done
m1=$(msg authenticated)
m2=$(msg inbound)
[ -n "$m1" ] && [ -n "$m2" ] || { cat "$T/maillog"; die "messages did not arrive in the mailbox"; }
! grep -qiE '^(X-Originating-IP|User-Agent|X-Mailer):' "$m1" || { cat "$m1"; die "authenticated: headers not removed"; }
! grep -q 'secret-laptop' "$m1" || { cat "$m1"; die "authenticated: the client's Received line leaked"; }
grep -q '^Received: from \[127.0.0.1\] (localhost \[127.0.0.1\])' "$m1" || { cat "$m1"; die "authenticated: Received not rewritten"; }
ok "SMTP AUTH on submission: delivered; X-Originating-IP, User-Agent, X-Mailer removed, Received rewritten"
grep -q '^X-Mailer: LabMailer 2.0' "$m2" && grep -q '^User-Agent: LabAgent/1.0' "$m2" &&
	grep -q '^X-Originating-IP: \[198.51.100.77\]' "$m2" && grep -q 'secret-laptop' "$m2" ||
	{ cat "$m2"; die "port 25: headers were changed"; }
ok "unauthenticated on port 25: delivered with every header kept (scope = authenticated)"

rc=0
curl -sk --max-time 20 --user dave@example.org:secret "pop3s://127.0.0.1:$P995/" >/dev/null || rc=$?
[ $rc -ne 0 ] || die "dave (pop3 off) logged in over POP3S"
grep -q 'pop3.*dave@example.org' "$T/dv/log" || true
rc=0
curl -sk --max-time 20 --user dave@example.org:secret "imaps://127.0.0.1:$P993/" -X 'LIST "" *' >/dev/null || rc=$?
[ $rc -eq 0 ] || die "dave (imap on) refused over IMAPS (curl exit $rc)"
rc=0
curl -sk --max-time 20 --user alice@example.org:secret "pop3s://127.0.0.1:$P995/" >"$T/pop" || rc=$?
[ $rc -eq 0 ] && grep -q '^1 ' "$T/pop" || die "alice (pop3 on) refused over POP3S (curl exit $rc)"
ok "dave (pop3 off) refused over POP3S, accepted over IMAPS; alice (pop3 on) reads her mail over POP3S"

# The admin's own later restriction (after the pushed check, as a site would add a
# blocklist): mail from spammer@foreign.test is rejected. postmaster@ is a real alias.
printf 'spammer@foreign.test REJECT 5.7.1 lab blocklist\n' >"$T/blocklist"
printf 'postmaster@example.org alice@example.org\n' >"$T/valias"
rrs=$(postconf -c "$P" -h smtpd_recipient_restrictions)
postconf -c "$P" -e "smtpd_recipient_restrictions = $rrs, check_sender_access texthash:$T/blocklist" \
    "virtual_alias_maps = texthash:$T/valias"
postfix -c "$P" reload >/dev/null 2>&1
sleep 1
timeout 30 swaks --server 127.0.0.1 -p $P25 --from spammer@foreign.test --to postmaster@example.org \
    --quit-after RCPT >"$T/s3" 2>&1 || true
grep -qE '^<[-~] +250 2\.1\.5' "$T/s3" || { cat "$T/s3"; die "postmaster@ not accepted"; }
timeout 30 swaks --server 127.0.0.1 -p $P25 --from spammer@foreign.test --to alice@example.org \
    --quit-after RCPT >"$T/s4" 2>&1 || true
grep -qE '^<\*\* +554 .*lab blocklist' "$T/s4" || { cat "$T/s4"; die "the later restriction should reject alice@"; }
ok "postmaster@example.org accepted from a sender that a later restriction rejects for alice@"

# Turning alice's POP3 off in the profile: the deny file changes, Dovecot is reloaded,
# and alice is refused over POP3S from then on.
sed -i '/^\[user "alice@example.org"\]/,/^$/s/^pop3 = on$/pop3 = off/' "$lab/site.ini"
rc=0
mx apply --yes "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] && grep -q 'note: dovecot reloaded' "$lab/out" || { cat "$lab/out"; die "apply with dovecot running"; }
rc=0
curl -sk --max-time 20 --user alice@example.org:secret "pop3s://127.0.0.1:$P995/" >/dev/null || rc=$?
[ $rc -ne 0 ] || die "alice still logs in over POP3S after pop3 = off was pushed"
ok "pop3 = off for alice pushed: dovecot reloaded, alice refused over POP3S"

# Post-apply smoke test: a configuration that passes `postfix check` but kills the
# running master on reload (smtps moved to a port something else holds) is a failed
# apply: the files are restored, and the report says Postfix is gone.
Pbusy=$((base + 5))
while ! port_free $Pbusy; do Pbusy=$((Pbusy + 1)); done
python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(120)' $Pbusy &
busy=$!
extra_cleanup="kill $busy 2>/dev/null; cleanup_daemons"
# The holder must be listening before the apply starts: otherwise the reloaded master
# takes the port first and survives (seen under load, where python starts slowly).
for _ in $(seq 300); do port_free $Pbusy || break; kill -0 $busy 2>/dev/null || break; sleep 0.1; done
port_free $Pbusy && die "the port holder did not bind $Pbusy"
host_state "$lab/h1" >"$lab/before"
sed "s|smtps:$P465|smtps:$Pbusy|" "$lab/site.ini" >"$lab/busy.ini"
rc=0
mx apply --yes "$lab/busy.ini" >"$lab/out" 2>&1 || rc=$?
kill $busy 2>/dev/null || true
[ $rc -eq 4 ] && grep -q "gone after the reload" "$lab/out" || { cat "$lab/out"; tail -5 "$T/maillog"; die "master killed by the reload: exit $rc, want 4"; }
host_state "$lab/h1" | diff -u "$lab/before" - || die "files not restored after the failed reload"
ok "postfix master dies on the reloaded config: exit 4, files restored, the report says so"
if [ -n "${PUSH_E2E_SHOW:-}" ]; then cat "$lab/out"; fi
