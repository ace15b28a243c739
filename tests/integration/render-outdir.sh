#!/usr/bin/env bash
# render-outdir.sh: `mxdeck render PROFILE DIR` writes only inside DIR.
#  1. A directory symlink planted inside DIR (DIR/HOST/etc -> elsewhere, or deeper,
#     DIR/HOST/etc/postfix -> elsewhere) is refused, never followed: nothing is written
#     through it, the message names it.
#  2. An empty DIR is refused (exit 2): nothing is written under /.
#  3. Output files are replaced (temporary + rename), not rewritten in place: a hard
#     link to an earlier render keeps the earlier bytes.
set -eu
MXDECK=${MXDECK:?set MXDECK to the mxdeck binary}
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/mxdeck-outdir.XXXXXX)
hostname=mxdeck-outdir-test-$$
trap 'rm -rf "$tmp" "/$hostname"' EXIT
ok() { echo "ok - $*"; }
die() { echo "FAIL - $*"; exit 1; }

# The demo profile with one host "$hostname" and the Debian default directories
# (/etc/postfix, /etc/dovecot, ...), role postfix and dovecot.
cp "$here/share/examples/demo-users.csv" "$tmp/"
awk -v h="$hostname" '
	/^\[host /{ print "[host \"" h "\"]"; print "address = 192.0.2.1"; print "roles = postfix dovecot"; skip=1; next }
	/^\[(vhost|autodiscover) /{ skip=1; next }
	/^\[/{ skip=0 }
	!skip' "$here/share/examples/demo.ini" >"$tmp/p.ini"
"$MXDECK" lint "$tmp/p.ini" >/dev/null 2>&1 || die "test setup: lint rejects the profile"
"$MXDECK" render "$tmp/p.ini" "$tmp/ref" 2>/dev/null || die "test setup: render"
[ -f "$tmp/ref/$hostname/etc/postfix/mxdeck.postconf" ] || die "test setup: no /etc/postfix/mxdeck.postconf rendered"

# 1. directory symlinks inside DIR
for link in etc etc/postfix; do
	out=$tmp/out-${link//\//-}
	victim=$tmp/victim-${link//\//-}
	mkdir -p "$victim" "$(dirname "$out/$hostname/$link")"
	echo keep >"$victim/keep"
	ln -s "$victim" "$out/$hostname/$link"
	rc=0
	"$MXDECK" render "$tmp/p.ini" "$out" >"$tmp/log" 2>&1 || rc=$?
	[ $rc -ne 0 ] || die "render through DIR/$hostname/$link -> $victim: exit 0"
	grep -q "$out/$hostname/$link is a symlink or not a directory" "$tmp/log" ||
		{ cat "$tmp/log"; die "the refusal does not name DIR/$hostname/$link"; }
	[ "$(find "$victim" | wc -l)" -eq 2 ] && [ "$(cat "$victim/keep")" = keep ] ||
		die "render wrote through DIR/$hostname/$link: $(find "$victim")"
	ok "DIR/$hostname/$link a symlink to another directory: refused (exit $rc), nothing written through it"
done

# 2. an empty DIR
rc=0
"$MXDECK" render "$tmp/p.ini" "" >"$tmp/log" 2>&1 || rc=$?
[ $rc -eq 2 ] || { cat "$tmp/log"; die "render with DIR \"\": exit $rc, want 2"; }
grep -q "output directory is empty" "$tmp/log" || { cat "$tmp/log"; die "no message for the empty DIR"; }
[ ! -e "/$hostname" ] || die "render with DIR \"\" wrote /$hostname"
ok "render with an empty DIR: exit 2, nothing written under /"

# 3. a hard link to an earlier render keeps its bytes
out=$tmp/out-hard
"$MXDECK" render "$tmp/p.ini" "$out" 2>/dev/null || die "render"
f=$out/$hostname/etc/postfix/mxdeck.postconf
ln "$f" "$tmp/earlier.postconf"
cp "$f" "$tmp/earlier.copy"
sed 's|^smtpd_protocols = >=TLSv1.2$|smtpd_protocols = >=TLSv1.3|' "$tmp/p.ini" >"$tmp/p2.ini"
grep -q '>=TLSv1.3' "$tmp/p2.ini" || die "test setup: profile not changed"
"$MXDECK" render "$tmp/p2.ini" "$out" 2>/dev/null || die "second render"
grep -q 'TLSv1.3' "$f" || die "the second render did not change $f"
cmp -s "$tmp/earlier.postconf" "$tmp/earlier.copy" || die "the hard-linked copy changed with the new render"
[ "$(stat -c %h "$f")" -eq 1 ] || die "$f still shares its inode"
[ -z "$(find "$out" -name '.*mxdeck-tmp*')" ] || die "temporary files left"
ok "a second render replaces files (rename): a hard link to the earlier render keeps its bytes"
