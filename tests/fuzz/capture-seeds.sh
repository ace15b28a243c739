#!/bin/bash
# tests/fuzz/capture-seeds.sh [DIR]: record real server replies for the fuzz_probe_reply
# seed corpus (default DIR: tests/fuzz/corpus/probe_reply): a private Postfix (smtp and
# submission) and Dovecot (imap and pop3) from tests/lab/probe-lab.sh on loopback, each
# driven through the dialogue the probes use (EHLO, relay test, AUTH before STARTTLS,
# CAPABILITY, LOGIN, CAPA, USER/PASS, STARTTLS/STLS). Run by hand; the files are
# checked in.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
out=$(cd "${1:-$ROOT/tests/fuzz/corpus/probe_reply}" && pwd)
. "$ROOT/tests/lab/probe-lab.sh"
lab_need ss /usr/bin/python3
lab_init
trap lab_cleanup EXIT
lab_ca
I=$(lab_port); IS=$(lab_port); P=$(lab_port); PS=$(lab_port)
lab_dovecot "$I" "$IS" "$P" "$PS"
S=$(lab_port); SUB=$(lab_port); SS=$(lab_port)
lab_postfix cap "$S" "$SUB" "$SS"
lab_wait_port "$S"; lab_wait_port "$I"; lab_wait_port "$P"
python3 - "$S" "$SUB" "$I" "$P" "$out" <<'PY'
import socket, sys, time
S, SUB, I, P, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def talk(port, lines, fn):
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    buf = b""
    def rd():
        nonlocal buf
        time.sleep(0.4)
        c.settimeout(1.0)
        try:
            while True:
                d = c.recv(65536)
                if not d: break
                buf += d
                if len(d) < 65536: break
        except socket.timeout:
            pass
    rd()
    for l in lines:
        c.sendall(l + b"\r\n"); rd()
    c.close()
    open(out + "/" + fn, "wb").write(buf)
talk(S, [b"EHLO probe.mxdeck.invalid", b"MAIL FROM:<a@example.net>", b"RCPT TO:<x@elsewhere.example>", b"RCPT TO:<postmaster@lab.test>", b"RSET", b"AUTH PLAIN AGFsaWNlAHNlY3JldA==", b"NOOP", b"STARTTLS"], "lab-postfix-smtp")
talk(SUB, [b"EHLO probe.mxdeck.invalid", b"AUTH PLAIN AGFsaWNlAHNlY3JldA==", b"STARTTLS"], "lab-postfix-submission")
talk(I, [b"a1 CAPABILITY", b"a2 LOGIN alice secret", b"a3 NOOP", b"a4 STARTTLS"], "lab-dovecot-imap")
talk(P, [b"CAPA", b"USER alice", b"PASS secret", b"STLS"], "lab-dovecot-pop3")
PY
