#!/bin/bash
# lint-limits.sh: lint enforces the limits render and push need (issue 14 item 11), so
# a profile lint passes is one `mxdeck render` can write: a [host] name is a directory
# under DIR (at most NAME_MAX = 255 bytes), every directory key and every rendered path
# keeps NAME_MAX per component and PATH_MAX in all, DNS names keep 63 bytes a label and
# 253 a name. Each refusal is a FILE:LINE finding from lint and the same exit 2 from
# render, never render's "File name too long"; the largest allowed values pass both.
set -eu

: "${MXDECK:?set MXDECK to the mxdeck binary}"
tmp=$(mktemp -d /tmp/mxdeck-lint-limits.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
rep() { printf "%${2}s" "" | tr ' ' "$1"; }	# rep CHAR N

# profile HOSTNAME ADDRESS EXTRA-HOST-KEYS DOMAIN ROLES
profile() {
	cat <<EOF
[site]
name = t
domain = $4

[host "$1"]
address = $2
roles = $5
$3

[tls]
tlsa_ports =
EOF
}

# refused WHAT LINE NEEDLE: lint exits 2 with "p.ini:LINE: error: ...NEEDLE", render
# exits 2 with NEEDLE too and writes nothing, and no "File name too long" anywhere
refused() {
	local what=$1 line=$2 needle=$3 rc=0 at
	at="p.ini:$line: error: "
	[ "$line" = - ] && at="p.ini: error: "	# found by rendering: no single line
	(cd "$tmp" && "$MXDECK" lint p.ini) >"$tmp/lint.out" 2>&1 || rc=$?
	if [ $rc -ne 2 ]; then
		bad "$what: lint exit $rc, want 2"; cat "$tmp/lint.out"; return
	fi
	if ! grep -qF -- "$at" "$tmp/lint.out" || ! grep -qF -- "$needle" "$tmp/lint.out"; then
		bad "$what: lint does not say '$at...$needle'"; cat "$tmp/lint.out"; return
	fi
	rm -rf "$tmp/out"
	rc=0
	(cd "$tmp" && "$MXDECK" render p.ini out) >"$tmp/render.out" 2>&1 || rc=$?
	if [ $rc -ne 2 ] || ! grep -qF -- "$needle" "$tmp/render.out"; then
		bad "$what: render exit $rc, want 2 with '$needle'"; cat "$tmp/render.out"; return
	fi
	if grep -q "too long" "$tmp/lint.out" "$tmp/render.out"; then
		bad "$what: an ENAMETOOLONG reached the user"; return
	fi
	ok "$what: lint finding ${at%error: }, render refuses the same"
}

# accepted WHAT: lint exit 0 and render writes the files
accepted() {
	local what=$1 rc=0
	(cd "$tmp" && "$MXDECK" lint p.ini) >"$tmp/lint.out" 2>&1 || rc=$?
	if [ $rc -ne 0 ]; then
		bad "$what: lint exit $rc, want 0"; cat "$tmp/lint.out"; return
	fi
	rm -rf "$tmp/out"
	rc=0
	(cd "$tmp" && "$MXDECK" render p.ini out) >"$tmp/render.out" 2>&1 || rc=$?
	if [ $rc -ne 0 ] || [ -z "$(find "$tmp/out" -type f | head -1)" ]; then
		bad "$what: render exit $rc or no file written"; cat "$tmp/render.out"; return
	fi
	ok "$what: lint ok and render writes it"
}

l63=$(rep a 63)
dom253="$l63.$l63.$l63.$(rep b 61)"	# 253 bytes: a valid DNS name
[ ${#dom253} -eq 253 ] || { echo "test setup: ${#dom253}"; exit 1; }

# 1. The [host] name is render's directory DIR/NAME.
profile "$(rep g 300)" 192.0.2.1 "" example.org postfix >"$tmp/p.ini"
refused "host name of 300 bytes" 5 "the host name is 300 bytes"
profile "$(rep g 256)" 192.0.2.1 "" example.org postfix >"$tmp/p.ini"
refused "host name of 256 bytes" 5 "at most 255 bytes (NAME_MAX)"
profile "$(rep g 255)" 192.0.2.1 "" example.org postfix >"$tmp/p.ini"
accepted "host name of 255 bytes"

# 2. Directory keys: a component over NAME_MAX, a path too long for what goes under it.
profile gw1 192.0.2.1 "postfix_dir = /etc/$(rep p 256)" example.org postfix >"$tmp/p.ini"
refused "postfix_dir with a 256-byte component" 8 "postfix_dir has a path component of 256 bytes"
long=$(for _ in $(seq 12); do printf '/%s' "$(rep s 200)"; done)
profile gw1 192.0.2.1 "state_dir = $long" example.org "postfix dns" >"$tmp/p.ini"
refused "state_dir of ${#long} bytes" 8 "state_dir is ${#long} bytes long"
profile gw1 192.0.2.1 "postfix_dir = /etc/$(rep p 255)" example.org postfix >"$tmp/p.ini"
accepted "postfix_dir with a 255-byte component"

# 3. A rendered file name built from a name: dns/<domain>.zone of a 253-byte domain
# is 258 bytes (found by rendering in lint, reported against the profile).
profile gw1 mx1.example.org "" "$dom253" "postfix dns" >"$tmp/p.ini"
refused "253-byte domain, dns role" - "has a file name of 258 bytes"
profile gw1 mx1.example.org "" "$l63.$l63.$(rep c 60).org" "postfix dns" >"$tmp/p.ini"
accepted "a 250-byte domain with the dns role"

# 4. DNS names: a label of 64 bytes, a name of 254 bytes.
profile gw1 "$(rep a 64).example.org" "" example.org postfix >"$tmp/p.ini"
refused "address with a 64-byte label" 6 "is not a host name"
profile gw1 "$dom253.c" "" example.org postfix >"$tmp/p.ini"
refused "address of 255 bytes" 6 "is not a host name"
profile gw1 192.0.2.1 "" "$(rep a 64).org" postfix >"$tmp/p.ini"
refused "domain with a 64-byte label" 3 "domain"
profile gw1 "$l63.example.org" "" example.org postfix >"$tmp/p.ini"
accepted "address with a 63-byte label"

if [ $fails -gt 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all checks passed"
