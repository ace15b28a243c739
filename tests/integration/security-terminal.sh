#!/bin/bash
# security-terminal.sh: no untrusted byte reaches the admin's terminal raw through the
# CLI's print paths (issue 14 item 8; `mxdeck test` is security-hostile-reply.sh).
# Hostile text -- ESC/CSI/OSC sequences, BEL, CR, backspace, DEL, C1 controls raw and
# UTF-8 encoded, bytes that are not UTF-8, the bidi controls U+202E/U+2066/U+200F/
# U+061C and the separators U+2028/U+2029 -- is put into
#   - a users CSV and a [host] name: lint (text and --json), render's messages;
#   - a managed file and a main.cf value on a lab host (a real sshd): plan's change
#     list and diff, audit (text and --json).
# Each output must quote the text (escaped as \xNN or \u{XXXX}, so the check means
# something) and hold no such byte or code point.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"
command -v python3 >/dev/null || { echo "skip: python3 not installed"; exit 77; }

EVIL=$'\e]0;owned\a\e[2J\e[31mRED\rOVER\b\x7f \x9b\xc2\x9b \xff\xe2\x80\xaeRTL\xe2\x81\xa6\xe2\x80\x8f\xd8\x9c\xe2\x80\xa8SEP\xe2\x80\xa9'
SHOWN='\x1b]0;owned\x07\x1b[2J\x1b[31mRED\x0dOVER\x08\x7f \x9b\xc2\x9b \xff\u{202e}RTL\u{2066}\u{200f}\u{061c}\u{2028}SEP\u{2029}'

# clean FILE: no control byte but \n and \t, no C1, no bidi control, no separator
clean() {
	python3 - "$1" <<'PY'
import re, sys
b = open(sys.argv[1], "rb").read()
bad = re.search(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]", b)
if bad is None:
    t = b.decode("utf-8", "replace")
    bad = re.search("[\x80-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]", t)
    if bad is None:
        sys.exit(0)
    print("U+%04X at %d" % (ord(bad.group(0)), bad.start()))
    sys.exit(1)
s = max(0, bad.start() - 30)
print("byte 0x%02x at %d: %r" % (b[bad.start()], bad.start(), b[s:bad.start() + 10]))
sys.exit(1)
PY
}
# shown WHAT FILE [NEEDLE]: the output quotes the hostile text escaped, and is clean
shown() {
	local what=$1 f=$2 needle=${3:-$SHOWN} why
	[ -s "$f" ] || die "$what: no output"
	grep -qF -- "$needle" "$f" || { cat -v "$f" | head -20; die "$what: the text is not quoted as '$needle'"; }
	why=$(clean "$f") || { cat -v "$f" | head -20; die "$what: raw $why"; }
}
json_ok() {	# WHAT FILE
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$2" || die "$1: not valid JSON"
	why=$(clean "$2") || die "$1: raw $why in the JSON"
}

# 1. lint: a users CSV address, a [host] name (both apache and nginx: an error that
# names it), text and --json.
printf 'email,imap\nbad%s@example.org,1\n' "$EVIL" >"$lab/users.csv"
cat >"$lab/evil.ini" <<EOF
[site]
name = t
domain = example.org

[host "gw$(printf '\xe2\x80\xae\xc2\x9b')1"]
address = 192.0.2.1
roles = postfix apache nginx

[users]
file = users.csv
EOF
rc=0
"$MXDECK" lint "$lab/evil.ini" >"$lab/lint.out" 2>&1 || rc=$?
[ $rc -eq 2 ] || { cat -v "$lab/lint.out"; die "lint: exit $rc, want 2"; }
shown "lint, users CSV" "$lab/lint.out" "user \"bad$SHOWN@example.org\""
shown "lint, host name" "$lab/lint.out" 'host gw\u{202e}\xc2\x9b1 has both apache and nginx'
rc=0
"$MXDECK" lint --json "$lab/evil.ini" >"$lab/lint.json" 2>"$lab/lint.err" || rc=$?
json_ok "lint --json" "$lab/lint.json"
grep -qF '\u202e' "$lab/lint.json" || die "lint --json: U+202E is not escaped as \\u202e"
ok "lint: a hostile users CSV and host name are shown escaped (text and --json), no raw control, bidi or separator"

# 2. render: its messages (the profile's findings, --host)
rc=0
"$MXDECK" render "$lab/evil.ini" "$lab/out" >"$lab/render.out" 2>&1 || rc=$?
[ $rc -eq 2 ] || die "render: exit $rc, want 2"
shown "render, findings" "$lab/render.out" "user \"bad$SHOWN@example.org\""
light_profile_stub() { printf '[site]\nname = t\ndomain = example.org\n\n[host "gw1"]\naddress = 192.0.2.1\nroles = postfix\n'; }
light_profile_stub >"$lab/ok.ini"
rc=0
"$MXDECK" --host "x$EVIL" render "$lab/ok.ini" "$lab/out" >"$lab/render2.out" 2>&1 || rc=$?
[ $rc -eq 2 ] || die "render --host: exit $rc, want 2"
shown "render --host" "$lab/render2.out" "--host x$SHOWN: no such host"
ok "render: findings and --host messages are shown escaped"

# 3. plan and audit against a lab host whose files hold hostile bytes.
"$labtools/lab-hosts.sh" start "$lab" 1
light_profile >"$lab/site.ini"
pf=$(awk '$1 == "h1" {print $4}' "$lab/hosts.list")/etc/postfix
printf 'old%s\n' "$EVIL" >"$pf/mxdeck_transport"
printf 'smtpd_tls_security_level = may%s\n' "$EVIL" >>"$pf/main.cf"
for cmd in plan audit; do
	rc=0
	mx $cmd "$lab/site.ini" >"$lab/$cmd.out" 2>&1 || rc=$?
	[ $rc -eq 1 ] || { tail -5 "$lab/$cmd.out"; die "$cmd: exit $rc, want 1 (drift)"; }
	shown "$cmd, diff" "$lab/$cmd.out" "-old$SHOWN"
	# (postconf shows the CR as a space)
	shown "$cmd, postconf change" "$lab/$cmd.out" 'smtpd_tls_security_level: may\x1b]0;owned\x07\x1b[2J\x1b[31mRED'
	shown "$cmd, postconf change" "$lab/$cmd.out" '\u{202e}RTL\u{2066}\u{200f}\u{061c}\u{2028}SEP\u{2029} -> may'

	rc=0
	mx $cmd --json "$lab/site.ini" >"$lab/$cmd.json" 2>"$lab/$cmd.err" || rc=$?
	json_ok "$cmd --json" "$lab/$cmd.json"
	why=$(clean "$lab/$cmd.err") || die "$cmd --json: raw $why on stderr"
done
ok "plan and audit: a hostile managed file and main.cf value are shown escaped in the change list and the diff; --json clean"
echo "all checks passed"
