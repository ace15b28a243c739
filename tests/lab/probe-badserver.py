#!/usr/bin/python3
# probe-badserver.py MODE PORT: a misbehaving TCP server on 127.0.0.1:PORT for the probe
# tests. MODE: silent (accepts, never says a word), garbage (answers with random bytes
# and keeps sending), reset (reads the start of the ClientHello, then RST), close
# (accepts and closes at once), smtpgarbage (a valid 220 greeting, then junk), smtplong
# (a greeting and an EHLO reply of 200 CRLF-ended continuation lines each, over 64 KiB
# in all, then 454 to STARTTLS), tls3des (an old TLS stack that knows only 3DES: a
# ServerHello choosing DES-CBC3-SHA when the ClientHello offers it, else a
# handshake_failure alert; the lab's libssl has no 3DES suite to serve it with).
import os
import socket
import struct
import sys
import threading
import time


def handle(mode, c):
    try:
        if mode == "silent":
            time.sleep(600)
        elif mode == "garbage":
            for _ in range(200):
                c.sendall(os.urandom(512))
                time.sleep(0.05)
        elif mode == "reset":
            c.recv(20)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif mode == "close":
            pass
        elif mode == "smtpgarbage":
            c.sendall(b"220 smtp.lab.test ESMTP\r\n")
            c.recv(100)
            c.sendall(b"\x00\x01garbage\xff\r\n")
            time.sleep(600)
        elif mode == "smtplong":
            pad = b"x" * 400
            c.sendall(b"".join(b"220-" + pad + b"\r\n" for _ in range(200)) +
                      b"220 smtp.lab.test ESMTP\r\n")
            c.recv(1000)
            c.sendall(b"250-smtp.lab.test\r\n" +
                      b"".join(b"250-X-PAD-" + pad + b"\r\n" for _ in range(200)) +
                      b"250 STARTTLS\r\n")
            c.recv(1000)
            c.sendall(b"454 4.7.0 TLS not available due to local problem\r\n")
            time.sleep(5)
        elif mode == "tls3des":
            hello = b""
            while len(hello) < 5 or len(hello) < 5 + int.from_bytes(hello[3:5], "big"):
                d = c.recv(4096)
                if not d:
                    return
                hello += d
            # record(5) type(1) len(3) version(2) random(32) session id, suites
            o = 5 + 4 + 2 + 32
            o += 1 + hello[o]
            n = int.from_bytes(hello[o:o + 2], "big")
            suites = [int.from_bytes(hello[i:i + 2], "big") for i in range(o + 2, o + 2 + n, 2)]
            if 0x000a in suites:
                body = b"\x03\x03" + os.urandom(32) + b"\x00" + b"\x00\x0a" + b"\x00"
                hs = b"\x02" + len(body).to_bytes(3, "big") + body
                c.sendall(b"\x16\x03\x03" + len(hs).to_bytes(2, "big") + hs)
            else:
                c.sendall(b"\x15\x03\x03\x00\x02\x02\x28")
            time.sleep(2)
    except OSError:
        pass
    finally:
        c.close()


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(mode, c), daemon=True).start()


main()
