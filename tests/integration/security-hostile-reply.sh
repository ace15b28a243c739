#!/usr/bin/env bash
# security-hostile-reply.sh: a hostile mail server cannot drive the admin's terminal.
#
# Claim (share/SECURITY.md): text a server sends (SMTP, IMAP and POP3 greetings and
# replies) reaches the output of `mxdeck test` only as printable text: no ESC/CSI/OSC
# sequence (which could retitle the window, clear the screen, rewrite earlier result
# lines or, on some terminals, answer back), no BEL, no bare CR, no C1 control, no NUL;
# --json output is valid JSON with every control character escaped. Checked for the
# plain and the verbose (-v: the whole dialogue) report. Also no bidirectional control
# (U+202E and friends reorder what follows: a reply could make a FAIL line read like
# an ok one) and no U+2028/U+2029 line separator (issue 14 item 8).
set -eu
MXDECK=${MXDECK:?set MXDECK to the mxdeck binary}
command -v python3 >/dev/null || { echo "skip: python3 not installed"; exit 77; }
tmp=$(mktemp -d /tmp/mxdeck-sec-reply.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fails=$((fails + 1)); }

cat >"$tmp/evil.py" <<'PY'
# evil.py KIND PORT: a mail server whose every line carries terminal control sequences.
import socket, sys, threading
kind, port = sys.argv[1], int(sys.argv[2])
EVIL = (b"\x1b]0;owned\x07\x1b[2J\x1b[H\x1b[31mRED\x1b[0m\rOVERWRITE"
        b"\x9b1;1H\xc2\x9b2J\x1bP+q\x1b\\\x08\x7f"
        # bidi controls (U+202E RLO, U+2066 LRI, U+200F RLM, U+061C ALM) and the
        # line/paragraph separators U+2028, U+2029: they reorder or break the line
        b" \xe2\x80\xaeSTLUSER\xe2\x81\xa6\xe2\x80\x8f\xd8\x9c\xe2\x80\xa8NEXT\xe2\x80\xa9")
def h(c):
    try:
        f = c.makefile("rb")
        if kind == "smtp":
            c.sendall(b"220-evil " + EVIL + b"\r\n220 evil " + EVIL + b"\r\n")
            for line in f:
                v = line.strip().upper()
                if v.startswith(b"QUIT"):
                    c.sendall(b"221 bye " + EVIL + b"\r\n"); break
                if v.startswith(b"EHLO"):
                    c.sendall(b"250-evil " + EVIL + b"\r\n250-AUTH PLAIN " + EVIL +
                              b"\r\n250 STARTTLS\r\n")
                else:
                    c.sendall(b"554 5.7.1 no " + EVIL + b"\r\n")
        elif kind == "imap":
            c.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS " + EVIL + b"] " + EVIL + b"\r\n")
            for line in f:
                tag = line.split(b" ")[0]
                c.sendall(b"* BYE " + EVIL + b"\r\n" + tag + b" BAD " + EVIL + b"\r\n")
        else:
            c.sendall(b"+OK " + EVIL + b"\r\n")
            for line in f:
                c.sendall(b"-ERR " + EVIL + b"\r\n")
    except OSError:
        pass
    finally:
        c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(32)
while True:
    c, _ = s.accept()
    threading.Thread(target=h, args=(c,), daemon=True).start()
PY
free_port() {
	local p
	while :; do
		p=$(( (RANDOM % 20000) + 30000 ))
		ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}
declare -A port
for k in smtp imap pop3; do
	port[$k]=$(free_port)
	python3 "$tmp/evil.py" "$k" "${port[$k]}" &
	pids="$pids $!"
done
for k in smtp imap pop3; do
	for _ in $(seq 50); do ss -Hltn "sport = :${port[$k]}" | grep -q . && break; sleep 0.1; done
done

cat >"$tmp/p.ini" <<EOF
[site]
name = evil
domain = lab.test

[host "gw"]
address = 127.0.0.1
roles = postfix dovecot
probe_ports = smtp:${port[smtp]} submission:${port[smtp]} imap:${port[imap]} pop3:${port[pop3]}
EOF

# clean FILE: no control bytes but \n and \t, no C1 (raw or UTF-8 encoded), no bidi
# control (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069), no U+2028/U+2029
clean() {
	python3 - "$1" <<'PY'
import re, sys
b = open(sys.argv[1], "rb").read()
bad = re.search(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]", b)
if bad is None:
    # a lone 0x80-0x9f byte that is not part of a UTF-8 sequence, or a code point
    # that reorders or breaks the line
    t = b.decode("utf-8", "replace")
    bad = re.search("[\x80-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]", t)
    if bad is None:
        sys.exit(0)
    print("control character U+%04X at %d" % (ord(bad.group(0)), bad.start()))
    sys.exit(1)
s = max(0, bad.start() - 30)
print("control byte 0x%02x at %d: %r" % (b[bad.start()], bad.start(), b[s:bad.start() + 10]))
sys.exit(1)
PY
}

for mode in plain verbose; do
	args=(test)
	[ $mode = verbose ] && args=(-v test)
	set +e
	MXDECK_PROBES=${MXDECK_PROBES:-} MXDECK_PROBE_TIMEOUT=3 MXDECK_PROBE_DEADLINE=20 \
	    "$MXDECK" "${args[@]}" "$tmp/p.ini" >"$tmp/$mode.out" 2>&1
	rc=$?
	set -e
	if ! grep -q "evil\|RED\|OVERWRITE\|554\|BAD\|ERR" "$tmp/$mode.out"; then
		# The probes must have talked to the servers for the check to mean anything.
		bad "$mode: the report quotes nothing of the servers' text (exit $rc); cannot check"
	elif ! grep -qF '\u{202e}STLUSER\u{2066}\u{200f}\u{061c}\u{2028}NEXT\u{2029}' "$tmp/$mode.out"; then
		bad "$mode report: the bidi controls and separators are not shown as \\u{XXXX}"
	elif why=$(clean "$tmp/$mode.out"); then
		ok "$mode report (exit $rc): server text shown, no control characters"
	else
		bad "$mode report: $why"
	fi
done

set +e
MXDECK_PROBE_TIMEOUT=3 MXDECK_PROBE_DEADLINE=20 "$MXDECK" test --json "$tmp/p.ini" \
    >"$tmp/json.out" 2>"$tmp/json.err"
set -e
if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/json.out" 2>"$tmp/json.why"; then
	why=$(clean "$tmp/json.out") && ok "--json: valid JSON, every control character escaped" ||
	    bad "--json: raw control character: $why"
else
	bad "--json: not valid JSON: $(tail -n 1 "$tmp/json.why")"
fi
why=$(clean "$tmp/json.err") && ok "--json: human text on stderr has no control characters" ||
    bad "--json stderr: $why"

echo "$fails failed"
[ "$fails" -eq 0 ]
