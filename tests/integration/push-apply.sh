#!/bin/bash
# push-apply.sh: apply the demo profile to 3 lab hosts over real sshd: files with the
# right content and modes, the Postfix merge applied and `postfix check` clean; a second
# apply changes nothing (no file touched); a tampered file shows up in plan (exit 1).
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

"$labtools/lab-hosts.sh" start "$lab" 3
"$labtools/lab-hosts.sh" profile "$lab" "$roles_all" >"$lab/site.ini"

# Refused without a terminal and without --yes, before contacting anything.
rc=0
mx apply "$lab/site.ini" </dev/null >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 2 ] && grep -q -- "--yes" "$lab/out" || die "apply without tty and --yes: exit $rc"
[ ! -e "$lab/h1/state/lock" ] && [ ! -e "$lab/h1/etc/postfix/mxdeck.postconf" ] ||
	die "apply without --yes touched a host"
ok "apply without a terminal and without --yes is refused (exit 2)"

rc=0
mx plan "$lab/site.ini" >"$lab/plan" 2>&1 || rc=$?
[ $rc -eq 1 ] || die "plan before the first apply: exit $rc, want 1"
grep -q '^+++ b/.*/h2/etc/postfix/mxdeck.postconf' "$lab/plan" || die "plan shows no diff"
ok "plan on fresh hosts exits 1 with unified diffs"

rc=0
mx apply --yes --json "$lab/site.ini" >"$lab/apply.json" 2>"$lab/apply.err" || rc=$?
[ $rc -eq 0 ] || { cat "$lab/apply.err"; die "apply to 3 hosts: exit $rc"; }
python3 - "$lab/apply.json" <<'PY' || die "apply --json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["exit"] == 0, d["exit"]
assert [h["name"] for h in d["hosts"]] == ["h1", "h2", "h3"]
for h in d["hosts"]:
    assert h["exit"] == 0 and h["applied"], h
    n = sum(len(c.get("settings", [1])) for c in h["changes"])
    assert n > 50, n
    assert all(c["host"] == h["name"] for c in h["changes"]), h["name"]
PY
ok "apply to 3 hosts: exit 0, JSON report per host"

# Content and modes: exactly what `mxdeck render` produces for each host.
"$MXDECK" render "$lab/site.ini" "$lab/render" 2>/dev/null
for h in h1 h2 h3; do
	n=0
	while IFS= read -r -d '' f; do
		remote=${f#"$lab/render/$h"}
		cmp -s "$f" "$remote" || die "$h: $remote differs from the rendered file"
		[ "$(stat -c %a "$f")" = "$(stat -c %a "$remote")" ] || die "$h: $remote mode $(stat -c %a "$remote")"
		n=$((n + 1))
	done < <(find "$lab/render/$h" -type f -print0)
	[ $n -gt 20 ] || die "$h: only $n rendered files"
	link=$lab/$h/etc/apache2/sites-enabled/mxdeck-mail.example.org.conf
	[ "$(readlink "$link")" = "../sites-available/mxdeck-mail.example.org.conf" ] ||
		die "$h: sites-enabled symlink"
	pf=$lab/$h/etc/postfix
	[ "$(postconf -c "$pf" -h smtpd_tls_protocols)" = ">=TLSv1.2" ] || die "$h: smtpd_tls_protocols not merged"
	postconf -c "$pf" -M msa_cleanup/unix | grep -q cleanup || die "$h: msa_cleanup not in master.cf"
	postconf -c "$pf" -P submission/inet/cleanup_service_name | grep -q 'msa_cleanup$' ||
		die "$h: submission -o cleanup_service_name not merged"
	out=$(postfix -c "$pf" check 2>&1) || die "$h: postfix check failed: $out"
	[ -z "$out" ] || die "$h: postfix check warns: $out"
	doveconf -c "$lab/$h/etc/dovecot/dovecot.conf" -n >/dev/null || die "$h: doveconf"
	grep -q "apply host=$h profile=sha256:" "$lab/$h/state/journal" || die "$h: no journal entry"
	[ ! -e "$lab/$h/state/lock" ] || die "$h: lock left behind"
done
ok "3 hosts: $n files each identical to render (content, mode, symlinks), postconf merged, postfix check and doveconf clean, journal written, lock released"

for h in h1 h2 h3; do host_mtimes "$lab/$h" >"$lab/$h.mtimes"; done
sleep 1.1
rc=0
mx apply --yes "$lab/site.ini" >"$lab/again" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/again"; die "second apply: exit $rc"; }
[ "$(grep -c ': ok: no changes' "$lab/again")" = 3 ] || { cat "$lab/again"; die "second apply did change something"; }
for h in h1 h2 h3; do
	host_mtimes "$lab/$h" | diff -q - "$lab/$h.mtimes" >/dev/null || die "$h: second apply touched files"
done
ok "second apply: no changes on any host, exit 0, no mtime changed"

echo "# tampered by hand" >>"$lab/h2/etc/postfix/mxdeck_always_accept"
chgrp postfix "$lab/h2/etc/postfix/mxdeck_always_accept"
postconf -c "$lab/h3/etc/postfix" -e "smtpd_tls_protocols = >=TLSv1"
rc=0
mx plan "$lab/site.ini" >"$lab/plan2" 2>&1 || rc=$?
[ $rc -eq 1 ] || die "plan after tampering: exit $rc, want 1"
grep -q '^-# tampered by hand$' "$lab/plan2" || die "plan does not show the tampered line"
grep -q '^-smtpd_tls_protocols = >=TLSv1$' "$lab/plan2" &&
	grep -q '^+smtpd_tls_protocols = >=TLSv1.2$' "$lab/plan2" || die "plan does not show the postconf drift"
grep -q '=== host h1 .*: ok: no changes' "$lab/plan2" || die "h1 should have no drift"
ok "tampered file on h2 and setting on h3: plan exits 1 and shows both diffs, h1 clean"

rc=0
mx --batch "$lab/site.ini" >"$lab/batch" 2>&1 || rc=$?
[ $rc -eq 0 ] || die "--batch repair: exit $rc"
[ "$(stat -c %U:%G "$lab/h2/etc/postfix/mxdeck_always_accept")" = root:postfix ] ||
	die "the repaired file lost its group"
cmp -s "$lab/h2/etc/postfix/mxdeck_always_accept" \
    "$lab/render/h2$lab/h2/etc/postfix/mxdeck_always_accept" || die "not repaired"
rc=0
mx --batch --dry-run "$lab/site.ini" >"$lab/dry" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/dry"; die "--batch --dry-run after repair: exit $rc"; }
ok "--batch repairs the drift (the replaced file keeps its group), --batch --dry-run then reports none"
