#!/usr/bin/env python3
"""login-lab.py: stand-ins for tests/integration/probe-login.sh.

  login-lab.py exchange PORT USERS     plain-HTTP Exchange backend behind the proxy: HTTP
                                      Basic checked against USERS (lines
                                      address:password:proto,proto...), 200 for a user
                                      whose list has the protocol of the path
                                      (activesync, ews, owa), 401 otherwise
  login-lab.py imap-nostarttls PORT CAPTURE   an IMAP server that offers no STARTTLS
  login-lab.py smtp-nostarttls PORT CAPTURE   an SMTP server that offers no STARTTLS
  login-lab.py imaps-echo PORT CERT KEY       an IMAPS server that repeats what the client
                                              sent (the password too) in its refusals
The two servers without STARTTLS append every byte a client sends to CAPTURE, so the
test can show that no password reached them."""
import base64
import http.server
import socketserver
import sys


def exchange(port, users_file):
    users = {}
    for line in open(users_file):
        line = line.rstrip("\n")
        if not line:
            continue
        addr, rest = line.split(":", 1)
        pw, protos = rest.rsplit(":", 1)
        users[addr.lower()] = (pw, set(protos.split(",")))

    class H(http.server.BaseHTTPRequestHandler):
        def proto_of(self):
            p = self.path.lower()
            if p.startswith("/microsoft-server-activesync"):
                return "activesync"
            if p.startswith("/ews/"):
                return "ews"
            if p.startswith("/owa"):
                return "owa"
            return None

        def answer(self):
            want = self.proto_of()
            ok = False
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic ") and want is not None:
                try:
                    u, p = base64.b64decode(auth[6:]).decode().split(":", 1)
                except Exception:
                    u, p = "", ""
                e = users.get(u.lower())
                ok = e is not None and e[0] == p and want in e[1]
            if ok:
                self.send_response(200)
                if want == "activesync":
                    self.send_header("MS-ASProtocolVersions", "14.1,16.1")
                body = b"OK\n"
            else:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="lab"')
                body = b"no\n"
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_OPTIONS = do_POST = do_HEAD = answer

        def log_message(self, *a):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()


def nostarttls(kind, port, capture):
    class H(socketserver.StreamRequestHandler):
        def handle(self):
            w = self.wfile.write
            if kind == "imap":
                w(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] lab without STARTTLS\r\n")
            else:
                w(b"220 smtp.lab.test ESMTP lab without STARTTLS\r\n")
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                with open(capture, "ab") as f:
                    f.write(line)
                parts = line.split()
                if kind == "imap":
                    tag = parts[0] if parts else b"*"
                    cmd = parts[1].upper() if len(parts) > 1 else b""
                    if cmd == b"CAPABILITY":
                        w(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
                    elif cmd == b"LOGOUT":
                        w(b"* BYE\r\n" + tag + b" OK bye\r\n")
                        return
                    else:
                        # would let anyone in: a client that sends a password here
                        # has already lost it
                        w(tag + b" OK welcome\r\n")
                else:
                    cmd = parts[0].upper() if parts else b""
                    if cmd in (b"EHLO", b"HELO"):
                        w(b"250-smtp.lab.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
                    elif cmd == b"QUIT":
                        w(b"221 bye\r\n")
                        return
                    elif cmd == b"AUTH":
                        w(b"334 \r\n")
                    else:
                        w(b"235 welcome\r\n")

    class S(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True

    S(("127.0.0.1", port), H).serve_forever()


def imaps_echo(port, cert, key):
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    class H(socketserver.StreamRequestHandler):
        def setup(self):
            self.request = ctx.wrap_socket(self.request, server_side=True)
            socketserver.StreamRequestHandler.setup(self)

        def handle(self):
            w = self.wfile.write
            w(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] echo lab\r\n")
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                parts = line.split()
                tag = parts[0] if parts else b"*"
                cmd = parts[1].upper() if len(parts) > 1 else b""
                if cmd == b"AUTHENTICATE":
                    w(b"+ \r\n")
                    blob = self.rfile.readline().strip()
                    w(tag + b" NO [ALERT] not you: " + blob + b" " +
                      base64.b64decode(blob).split(b"\0")[-1] + b"\r\n")
                elif cmd == b"LOGIN":
                    w(tag + b" NO [ALERT] wrong: " + line.strip() + b"\r\n")
                else:
                    w(b"* BYE " + line.strip() + b"\r\n")
                    return

    class S(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True

    S(("127.0.0.1", port), H).serve_forever()


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "exchange":
        exchange(port, sys.argv[3])
    elif mode == "imap-nostarttls":
        nostarttls("imap", port, sys.argv[3])
    elif mode == "smtp-nostarttls":
        nostarttls("smtp", port, sys.argv[3])
    elif mode == "imaps-echo":
        imaps_echo(port, sys.argv[3], sys.argv[4])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
