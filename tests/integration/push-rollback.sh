#!/bin/bash
# push-rollback.sh: a header rule Postfix rejects at validation (exit 4, the new files
# never put in place), and an Apache configuration that fails `apache2 -t` after the
# rename (exit 4, every file restored from the backup): both leave every file of the
# host byte-identical (content hash, mode, symlinks).
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

"$labtools/lab-hosts.sh" start "$lab" 1
"$labtools/lab-hosts.sh" profile "$lab" "$roles_all" >"$lab/site.ini"
mx apply --yes "$lab/site.ini" >"$lab/out" 2>&1 || { cat "$lab/out"; die "first apply"; }
ok "first apply"

# (*LIMIT_HEAP=0) compiles (lint is happy) but Postfix cannot match with it: postmap
# warns "heap limit exceeded".
sed 's|^rule = /^X-Mailer:/ IGNORE$|&\nrule = /(*LIMIT_HEAP=0)^X-Spam-Flag:/ IGNORE|' "$lab/site.ini" >"$lab/bad-rule.ini"
grep -q LIMIT_HEAP "$lab/bad-rule.ini" || die "test setup: rule not added"
"$MXDECK" lint "$lab/bad-rule.ini" >/dev/null 2>&1 || die "test setup: lint rejects the rule (pick another one)"
host_state "$lab/h1" >"$lab/before"
host_mtimes "$lab/h1" >"$lab/before.mtimes"
rc=0
mx apply --yes "$lab/bad-rule.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 4 ] || { cat "$lab/out"; die "bad header rule: exit $rc, want 4"; }
grep -q "heap limit exceeded" "$lab/out" || die "the Postfix message is not shown"
grep -q "$lab/h1/etc/postfix/mxdeck_msa_header_checks.pcre" "$lab/out" || die "the file is not named"
host_state "$lab/h1" | diff -u "$lab/before" - || die "host changed after a failed validation"
host_mtimes "$lab/h1" | diff - "$lab/before.mtimes" || die "a file was touched"
[ -z "$(find "$lab/h1" -name '.mxdeck.*')" ] || die "temporary files left"
[ ! -e "$lab/h1/state/lock" ] || die "lock left"
[ ! -e "$lab/h1/state/stage-postfix" ] || die "stage left"
ok "header rule Postfix rejects: exit 4, message names the file, host byte-identical and untouched"

# The vhost's certificate does not exist on the host: apache2 -t fails after the
# rename; the restore puts every file (and main.cf/master.cf) back, with its owner.
chgrp postfix "$lab/h1/etc/postfix/main.cf"
chgrp www-data "$lab/h1/etc/apache2/sites-available/mxdeck-mail.example.org.conf"
host_state "$lab/h1" >"$lab/before"
sed -e '0,/^certificate = /s|^certificate = .*|certificate = /etc/ssl/certs/mxdeck-no-such-cert.pem|' \
    -e 's|^smtpd_protocols = >=TLSv1.2$|smtpd_protocols = >=TLSv1.3|' "$lab/site.ini" >"$lab/bad-cert.ini"
"$MXDECK" lint "$lab/bad-cert.ini" >/dev/null 2>&1 || die "test setup: lint rejects the profile"
rc=0
mx apply --yes "$lab/bad-cert.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 4 ] || { cat "$lab/out"; die "missing certificate: exit $rc, want 4"; }
grep -q "rolled back" "$lab/out" && grep -q "apache2 -t" "$lab/out" || { cat "$lab/out"; die "no rollback message"; }
host_state "$lab/h1" | diff -u "$lab/before" - || die "host not byte-identical after the rollback"
[ "$(postconf -c "$lab/h1/etc/postfix" -h smtpd_tls_protocols)" = ">=TLSv1.2" ] || die "main.cf not restored"
[ ! -e "$lab/h1/state/lock" ] || die "lock left"
ok "apache2 -t fails after the rename: exit 4, every file restored (hashes, modes, owners, links, main.cf)"

rc=0
mx plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/out"; die "plan of the good profile after the rollbacks: exit $rc"; }
ok "after both rollbacks the host matches the good profile again (plan exit 0)"
