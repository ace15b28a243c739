#!/usr/bin/env bash
# security-modes.sh: what mxdeck writes locally, with which modes, and where secrets
# never go.
#
# Claims (share/SECURITY.md):
#  1. render writes files 0644 and directories 0755 at most: nothing group- or
#     world-writable, whatever the umask (000 and 077 tried).
#  2. render never follows a symlink planted where a rendered file goes (the file a
#     link points to is left alone).
#  3. Private key material never leaves its file: not in any rendered file, not on
#     stdout/stderr of lint, render or test (-v), also when a profile path that mxdeck
#     reads (users file, trust anchor, certificate) points at the key by mistake.
set -eu
MXDECK=${MXDECK:?set MXDECK to the mxdeck binary}
tmp=$(mktemp -d /tmp/mxdeck-sec-modes.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fails=$((fails + 1)); }

# A key whose bytes we can look for (a real RSA key: the renderers may parse it).
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=mail.example.org -days 30 \
    -addext subjectAltName=DNS:mail.example.org \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
chmod 600 "$tmp/key.pem"
marker=$(sed -n 6p "$tmp/key.pem" | cut -c1-40)	# 40 base64 bytes of the private key (past the constant header)
[ -n "$marker" ] || { echo "not ok - no key material to look for"; exit 1; }

profile() {	# extra lines appended
	cat <<EOF
[site]
name = modes
domain = example.org

[host "gw1"]
address = gw1.example.org
roles = postfix dovecot nginx autodiscover dns exchange

[vhost "mail.example.org"]
server = nginx
backend = https://192.0.2.10
services = owa ews activesync autodiscover
certificate = $tmp/cert.pem
key = $tmp/key.pem

[autodiscover "example.org"]
imap = imap.example.org:993/ssl
smtp = smtp.example.org:465/ssl
activesync = https://mail.example.org/Microsoft-Server-ActiveSync

[tls]
certificate = $tmp/cert.pem
key = $tmp/key.pem
EOF
	printf '%s\n' "$@"
}
profile >"$tmp/p.ini"

# 1. modes under two umasks
for um in 000 077; do
	out=$tmp/out-$um
	if ! (umask $um && "$MXDECK" render "$tmp/p.ini" "$out" >"$tmp/render-$um.log" 2>&1); then
		bad "render under umask $um failed: $(tail -n 3 "$tmp/render-$um.log")"
		continue
	fi
	nf=$(find "$out" -type f | wc -l)
	w=$(find "$out" -perm /022 ! -type l | head -n 5)
	big=$(find "$out" -type f -perm /7133 | head -n 5)	# beyond 0644
	if [ -z "$w" ] && [ -z "$big" ] && [ "$nf" -gt 5 ]; then
		ok "umask $um: $nf files, none group/world-writable, none beyond 0644"
	else
		bad "umask $um: writable or executable: $w $big"
	fi
done
modes=$(find "$tmp/out-077" -type f -printf '%m\n' | sort -u | tr '\n' ' ')
[ "$modes" = "644 " ] && ok "files are 0644 even under umask 077 (readable by the daemons)" ||
    bad "file modes under umask 077: $modes"

# 2. a symlink planted at a rendered path is not followed
victim=$tmp/victim
echo "do not touch" >"$victim"
out=$tmp/out-link
"$MXDECK" render "$tmp/p.ini" "$out" >/dev/null 2>&1
target=$(find "$out" -type f -name 'mxdeck.postconf' | head -n 1)
[ -n "$target" ] || target=$(find "$out" -type f | head -n 1)
rm -f "$target"
ln -s "$victim" "$target"
set +e
"$MXDECK" render "$tmp/p.ini" "$out" >"$tmp/link.log" 2>&1
rc=$?
set -e
if [ "$(cat "$victim")" = "do not touch" ]; then
	ok "planted symlink not followed (render exit $rc, the link's target unchanged)"
else
	bad "render wrote through a planted symlink into $victim"
fi

# 3. key material: rendered files and every output stream
if grep -rqF -- "$marker" "$tmp"/out-000 "$tmp"/out-077; then
	bad "key material found in rendered files: $(grep -rlF -- "$marker" "$tmp"/out-* | head -n 3)"
else
	ok "no key material in any rendered file"
fi
keyfile_cases=0
check_streams() {	# NAME CMD...: run, and look for the key in stdout+stderr
	local name=$1
	shift
	set +e
	MXDECK_PROBE_TIMEOUT=2 MXDECK_PROBE_DEADLINE=15 "$@" >"$tmp/s-$name.out" 2>&1
	set -e
	keyfile_cases=$((keyfile_cases + 1))
	if grep -qF -- "$marker" "$tmp/s-$name.out" || grep -q "PRIVATE KEY" "$tmp/s-$name.out"; then
		bad "$name: key material printed: $(grep -m1 -F -- "$marker" "$tmp/s-$name.out" | head -c 100)"
	else
		ok "$name: no key material in the output"
	fi
}
check_streams lint "$MXDECK" lint "$tmp/p.ini"
check_streams lint-json "$MXDECK" lint --json "$tmp/p.ini"
check_streams render-v "$MXDECK" -v render "$tmp/p.ini" "$tmp/out-v"
profile '[users]' "file = $tmp/key.pem" >"$tmp/users-key.ini"
check_streams users-file-is-key "$MXDECK" lint "$tmp/users-key.ini"
profile | sed "s|^domain = example.org|domain = example.org\ntrust_anchor = $tmp/key.pem|" >"$tmp/anchor-key.ini"
check_streams trust-anchor-is-key "$MXDECK" lint "$tmp/anchor-key.ini"
profile | sed "s|^certificate = $tmp/cert.pem|certificate = $tmp/key.pem|" >"$tmp/cert-key.ini"
check_streams certificate-is-key "$MXDECK" render "$tmp/cert-key.ini" "$tmp/out-ck"
check_streams certificate-is-key-lint "$MXDECK" lint "$tmp/cert-key.ini"
# live tests against loopback with nothing listening (the verbose dialogue paths)
sed 's/^address = gw1.example.org/address = 127.0.0.1\nprobe_ports = smtp:1 submission:1 smtps:1 imaps:1 pop3s:1 https:1/' \
    "$tmp/p.ini" >"$tmp/probe.ini"
check_streams test-v "$MXDECK" -v test "$tmp/probe.ini"
check_streams test-json "$MXDECK" test --json "$tmp/probe.ini"
if [ -d "$tmp/out-ck" ] && grep -rqF -- "$marker" "$tmp/out-ck"; then
	bad "certificate-is-key: key material rendered"
fi

echo "$fails failed"
[ "$fails" -eq 0 ]
