#!/usr/bin/python3
# slow-dns.py PORT UPSTREAM_PORT DELAY_MS: a slow DNS resolver on 127.0.0.1:PORT (UDP
# and TCP) that passes every query on to 127.0.0.1:UPSTREAM_PORT (the lab's nsd) and
# answers DELAY_MS later, for the probe deadline tests.
import socket
import struct
import sys
import threading
import time

port, upstream, delay = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) / 1000.0


def udp_one(sock, data, peer):
    time.sleep(delay)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(5)
    try:
        u.sendto(data, ("127.0.0.1", upstream))
        reply, _ = u.recvfrom(65535)
        sock.sendto(reply, peer)
    except OSError:
        pass
    finally:
        u.close()


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        part = c.recv(n - len(b))
        if not part:
            raise OSError("eof")
        b += part
    return b


def tcp_one(c):
    try:
        while True:
            n = struct.unpack("!H", recv_exact(c, 2))[0]
            q = recv_exact(c, n)
            time.sleep(delay)
            u = socket.create_connection(("127.0.0.1", upstream), timeout=5)
            try:
                u.sendall(struct.pack("!H", len(q)) + q)
                m = struct.unpack("!H", recv_exact(u, 2))[0]
                c.sendall(struct.pack("!H", m) + recv_exact(u, m))
            finally:
                u.close()
    except OSError:
        pass
    finally:
        c.close()


def udp_loop(s):
    while True:
        data, peer = s.recvfrom(65535)
        threading.Thread(target=udp_one, args=(s, data, peer), daemon=True).start()


def main():
    # UDP bound before TCP listens: callers wait for the TCP port (lab_wait_port)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", port))
    threading.Thread(target=udp_loop, args=(u,), daemon=True).start()
    t = socket.socket()
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(("127.0.0.1", port))
    t.listen(64)
    while True:
        c, _ = t.accept()
        threading.Thread(target=tcp_one, args=(c,), daemon=True).start()


main()
