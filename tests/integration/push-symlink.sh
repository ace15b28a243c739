#!/bin/bash
# push-symlink.sh: symlinks planted at paths mxdeck manages, on a real sshd host.
#  - a managed file that is a link to another file (etc/dovecot/conf.d/99-mxdeck.conf),
#  - a link in the web root to a root-only 0600 file (www/autodiscover/autodiscover.php):
#    plan and audit --json name the link and its target and never show the target's
#    content; apply refuses (exit 4, nothing changed) even with a profile whose
#    validation would fail after the renames (the old code then "restored" the path as a
#    regular file, mode 0777, with the target's content); the link, its target (content
#    and mode) and every other file stay byte for byte.
#  - a link the profile itself manages (sites-enabled) pointing at a 0600 file: it is
#    retargeted, never read through, and a failed validation gives it back as a link
#    with its old target.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

"$labtools/lab-hosts.sh" start "$lab" 1
"$labtools/lab-hosts.sh" profile "$lab" "$roles_all" >"$lab/site.ini"
mx apply --yes "$lab/site.ini" >"$lab/out" 2>&1 || { cat "$lab/out"; die "first apply"; }
h=$lab/h1
sed -e '0,/^certificate = /s|^certificate = .*|certificate = /etc/ssl/certs/mxdeck-no-such-cert.pem|' \
    -e 's|^dovecot_min_protocol = TLSv1.2$|dovecot_min_protocol = TLSv1.3|' \
    -e 's|^rule = /^User-Agent:/ IGNORE$|rule = /^User-Agent:/ IGNORE\nrule = /^X-Symlink-Test:/ IGNORE|' \
    "$lab/site.ini" >"$lab/bad.ini"
"$MXDECK" lint "$lab/bad.ini" >/dev/null 2>&1 || die "test setup: lint rejects the profile"

# state of a link and of its target: link text, target mode and content hash
link_state() {
	printf '%s -> %s; target %s %s\n' "$1" "$(readlink "$1")" "$(stat -c %a "$2")" "$(sha256sum <"$2" | cut -c1-64)"
}

check_refused() {	# LINK TARGET SECRET: plan, audit --json and apply around one planted link
	local link=$1 target=$2 secret=$3 rc
	host_state "$h" >"$lab/before"
	link_state "$link" "$target" >"$lab/link.before"

	rc=0
	mx plan "$lab/site.ini" >"$lab/plan" 2>&1 || rc=$?
	[ $rc -eq 1 ] || { cat "$lab/plan"; die "plan with $link a link: exit $rc, want 1"; }
	grep -q "$link is a symlink to $target" "$lab/plan" || { cat "$lab/plan"; die "plan does not name the link and its target"; }
	grep -q "$secret" "$lab/plan" && die "plan prints the link target's content"
	ok "plan: exit 1, names $link and its target, does not show the target's content"

	rc=0
	MXDECK_PROBES=dns MXDECK_PROBE_TIMEOUT=1 mx audit --json "$lab/site.ini" >"$lab/audit.json" 2>"$lab/audit.err" || rc=$?
	[ $rc -ne 0 ] || die "audit with a planted link: exit 0"
	[ -s "$lab/audit.json" ] || { cat "$lab/audit.err"; die "audit --json printed nothing"; }
	grep -q "is a symlink to" "$lab/audit.json" || { cat "$lab/audit.json"; die "audit --json does not report the link"; }
	grep -q "$secret" "$lab/audit.json" "$lab/audit.err" && die "audit --json prints the link target's content"
	ok "audit --json: exit $rc, reports the link, not the target's content"

	for profile in site.ini bad.ini; do
		rc=0
		mx apply --yes "$lab/$profile" >"$lab/out" 2>&1 || rc=$?
		[ $rc -eq 4 ] || { cat "$lab/out"; die "apply $profile with a planted link: exit $rc, want 4"; }
		grep -q "refused, nothing was changed: .*$link is a symlink to $target" "$lab/out" ||
			{ cat "$lab/out"; die "apply $profile: no refusal naming the link"; }
		grep -q "$secret" "$lab/out" && die "apply prints the link target's content"
		[ -L "$link" ] || die "apply $profile: $link is no longer a link ($(stat -c '%F %a' "$link"))"
		link_state "$link" "$target" | diff -u "$lab/link.before" - || die "apply $profile: link or target changed"
		host_state "$h" | diff -u "$lab/before" - || die "apply $profile: host changed"
		[ ! -e "$h/state/lock" ] || die "lock left"
	done
	grep -rl "$secret" "$h/etc" "$h/www" "$h/state" 2>/dev/null && die "the target's content was copied onto the host"
	ok "apply (a good profile, and one that fails validation after the renames): exit 4, refused, link/target/host byte for byte"
}

# 1. A managed Dovecot file is a link to another file.
echo "# SECRET-OTHER-$$" >"$lab/other.conf"
chmod 0640 "$lab/other.conf"
rm "$h/etc/dovecot/conf.d/99-mxdeck.conf"
ln -s "$lab/other.conf" "$h/etc/dovecot/conf.d/99-mxdeck.conf"
check_refused "$h/etc/dovecot/conf.d/99-mxdeck.conf" "$lab/other.conf" "SECRET-OTHER-$$"
[ "$(stat -c %a "$lab/other.conf")" = 640 ] || die "the target's mode changed"
rm "$h/etc/dovecot/conf.d/99-mxdeck.conf"

# 2. The web root: a link to a root-only 0600 file.
install -m 0600 /dev/null "$lab/root-only"
echo "TOPSECRET-$$" >"$lab/root-only"
rm "$h/www/autodiscover/autodiscover.php"
ln -s "$lab/root-only" "$h/www/autodiscover/autodiscover.php"
check_refused "$h/www/autodiscover/autodiscover.php" "$lab/root-only" "TOPSECRET-$$"
[ "$(stat -c %a "$lab/root-only")" = 600 ] || die "the root-only file's mode changed"
rm "$h/www/autodiscover/autodiscover.php"

rc=0
mx apply --yes "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/out"; die "apply after removing the links: exit $rc"; }
[ -f "$h/www/autodiscover/autodiscover.php" ] && [ ! -L "$h/www/autodiscover/autodiscover.php" ] &&
	[ "$(stat -c %a "$h/www/autodiscover/autodiscover.php")" = 644 ] || die "autodiscover.php not put back"
ok "with the links removed, apply puts regular files back (exit 0)"

# 3. A link the profile manages (sites-enabled) points at a root-only file: retargeted,
# never read through; a validation failure after the renames restores the link itself.
se=$h/etc/apache2/sites-enabled/mxdeck-legacy.example.org.conf
rm "$se"
ln -s "$lab/root-only" "$se"
host_state "$h" >"$lab/before"
rc=0
mx plan "$lab/site.ini" >"$lab/plan" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "$se -> ../sites-available/mxdeck-legacy.example.org.conf: symlink retargeted" "$lab/plan" ||
	{ cat "$lab/plan"; die "plan of a retargeted sites-enabled link: exit $rc"; }
grep -q "TOPSECRET-$$" "$lab/plan" && die "plan prints the content behind the sites-enabled link"
rc=0
mx apply --yes "$lab/bad.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 4 ] && grep -q "rolled back" "$lab/out" || { cat "$lab/out"; die "failed validation: exit $rc, want 4 rolled back"; }
b=$(ls -t "$h/state/backup" | head -n 1)
grep -q "^L .*root-only .*/sites-enabled/mxdeck-legacy.example.org.conf$" "$h/state/backup/$b/manifest" ||
	{ cat "$h/state/backup/$b/manifest"; die "the manifest does not record the link as a link"; }
grep -q '^F 777 ' "$h/state/backup/$b/manifest" && die "the manifest records a mode 0777 file"
[ -L "$se" ] && [ "$(readlink "$se")" = "$lab/root-only" ] || die "rollback did not restore the link ($(stat -c '%F %a' "$se"))"
[ "$(stat -c %a "$lab/root-only")" = 600 ] && grep -qx "TOPSECRET-$$" "$lab/root-only" || die "the root-only file changed"
host_state "$h" | diff -u "$lab/before" - || die "host not byte-identical after the rollback"
ok "managed sites-enabled link to a 0600 file: retargeted in the plan, rollback restores the link (L in the manifest), target untouched"

# 4. A link planted at an upload's temporary name (.mxdeck.NAME.PID.tmp next to the file,
# PID the apply's own) while the apply runs: removed, never written through.
wait_for() {	# wait_for SECONDS COMMAND...
	local t=$1
	shift
	for _ in $(seq $((t * 20))); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}
have_temps() { [ -n "$(find "$h/etc" -name '.mxdeck.*.tmp' 2>/dev/null)" ]; }
sed -e 's|^login = email$|login = localpart|' -e 's|^smtpd_protocols = >=TLSv1.2$|smtpd_protocols = >=TLSv1.3|' \
    "$lab/site.ini" >"$lab/changed.ini"
grep -q '^login = localpart$' "$lab/changed.ini" || die "test setup: profile not changed"
install -m 0600 /dev/null "$lab/victim"
echo "VICTIM-$$" >"$lab/victim"
MXDECK_TEST_STALL=upload:3 "$MXDECK" --known-hosts "$lab/known_hosts" apply --yes \
    "$lab/changed.ini" >"$lab/out" 2>&1 &
mxpid=$!
wait_for 20 have_temps || { kill $mxpid; die "no temporary file appeared"; }
[ -z "$(find "$h/www" -name '.mxdeck.*.tmp')" ] || die "test setup: the web root's temporary is already written"
ln -s "$lab/victim" "$h/www/autodiscover/.mxdeck.autodiscover.php.$mxpid.tmp"
rc=0
wait $mxpid || rc=$?
[ $rc -eq 0 ] || { cat "$lab/out"; die "apply with a link planted at a temporary name: exit $rc"; }
[ "$(cat "$lab/victim")" = "VICTIM-$$" ] && [ "$(stat -c %a "$lab/victim")" = 600 ] ||
	die "the apply wrote through the link planted at its temporary name"
grep -q "'localpart'" "$h/www/autodiscover/autodiscover.php" && [ ! -L "$h/www/autodiscover/autodiscover.php" ] ||
	die "autodiscover.php not applied"
[ -z "$(find "$h" -name '.mxdeck.*')" ] || die "temporary names left"
ok "a link planted at an upload's temporary name is removed, not written through (the victim keeps its bytes and mode 0600)"
