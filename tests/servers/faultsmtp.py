"""A scripted SMTP server for fault tests, listening on loopback.

Each test gives a Script: the greeting, the EHLO extensions, the replies
to MAIL, RCPT, DATA and the final ".", TLS (STARTTLS or implicit, or a
broken handshake), the accepted credentials per AUTH mechanism, and
faults (cutting the connection during DATA, silence after ".", slow
replies).  The server records what the client sent: every command line,
every message (with the dot-stuffing undone), the AUTH results, and the
groups of lines the client sent between two waits for replies (with
`settle` set), for exact-transcript tests.

    script = Script(ehlo=["PIPELINING", "8BITMIME"])
    with FaultServer(script) as server:
        ... connect to 127.0.0.1:server.port ...
    server.messages, server.commands, server.groups

Standard library only, so that any python3 runs it; NTLM alone needs
DES from python3-cryptography (tests/servers/ntlm.py), loaded when a
client asks for it.
"""

import base64
import hashlib
import hmac
import json
import os
import socket
import ssl
import threading
import time


class Script:
    """What the server answers.  Replies are full lines such as
    "550 5.1.1 no such user"; multi-line replies are lists of lines."""

    def __init__(self, **kw):
        self.greeting = "220 fault.test ESMTP scripted"
        # None: EHLO is refused with 502 and only HELO works.
        self.ehlo = ["PIPELINING", "SIZE 10485760", "8BITMIME",
                     "ENHANCEDSTATUSCODES", "SMTPUTF8", "DSN"]
        self.starttls = False      # offer STARTTLS (needs cert)
        self.implicit_tls = False  # TLS from the first byte (needs cert)
        self.cert = None           # (certfile, keyfile)
        self.broken_tls = False    # answer STARTTLS 220, then garbage
        self.auth = {}             # mechanism -> True (offered)
        self.users = {}            # user -> password
        self.tokens = set()        # accepted OAuth2 tokens
        self.scram_forged = False  # SCRAM: a server signature of no key
        self.mail_reply = "250 2.1.0 Ok"
        self.rcpt_replies = {}     # address -> reply
        self.rcpt_default = "250 2.1.5 Ok"
        self.data_reply = "354 End data with <CR><LF>.<CR><LF>"
        self.dot_replies = []      # per message, then dot_default
        self.dot_default = "250 2.0.0 Ok: queued"
        self.cut_during_data = False  # close after the first body line
        self.silent_after_dot = False  # never answer "."
        self.delay = {}            # command word -> seconds before reply
        self.close_after_messages = 0  # 421 and close after N per connection
        self.settle = 0.0          # seconds of quiet that end a group
        for key, value in kw.items():
            if not hasattr(self, key):
                raise TypeError("unknown script setting %r" % key)
            setattr(self, key, value)


class _Conn:
    """One client connection, handled in its own thread."""

    def __init__(self, server, sock):
        self.server = server
        self.script = server.script
        self.sock = sock
        self.buf = b""
        self.group = []
        self.mail = None
        self.rcpts = []
        self.n_messages = 0

    # ---- input and output
    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data
        if self.script.settle:
            self.sock.settimeout(self.script.settle)
            try:
                while True:
                    more = self.sock.recv(65536)
                    if not more:
                        break
                    self.buf += more
            except (socket.timeout, ssl.SSLError, BlockingIOError):
                pass
            self.sock.settimeout(None)

    def readline(self):
        while b"\n" not in self.buf:
            if self.group:
                self.server.groups.append(self.group)
                self.group = []
            self._recv()
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def command(self):
        line = self.readline().decode("utf-8", "replace")
        self.server.commands.append(line)
        self.group.append(line)
        return line

    def send(self, reply):
        lines = reply if isinstance(reply, list) else [reply]
        out = b""
        for i, line in enumerate(lines):
            code, text = line[:3], line[4:]
            sep = " " if i == len(lines) - 1 else "-"
            out += ("%s%s%s\r\n" % (code, sep, text)).encode()
        self.sock.sendall(out)

    def pause(self, word):
        seconds = self.script.delay.get(word)
        if seconds:
            time.sleep(seconds)

    # ---- the session
    def run(self):
        try:
            if self.script.implicit_tls:
                self.start_tls()
            self.send(self.script.greeting)
            if not self.script.greeting.startswith("220"):
                self.command()
                return
            while self.dispatch(self.command()):
                pass
        except (EOFError, OSError, ssl.SSLError):
            pass
        finally:
            if self.group:
                self.server.groups.append(self.group)
            self.sock.close()

    def dispatch(self, line):
        word = line.split(" ", 1)[0].upper()
        handler = getattr(self, "do_" + word, None)
        if handler is None:
            self.send("502 5.5.2 command not recognized")
            return True
        return handler(line)

    def extensions(self):
        ext = list(self.script.ehlo)
        tls_now = isinstance(self.sock, ssl.SSLSocket)
        if self.script.starttls and not tls_now:
            ext.append("STARTTLS")
        if self.script.auth:
            ext.append("AUTH " + " ".join(self.script.auth))
        return ext

    def do_EHLO(self, line):
        if self.script.ehlo is None:
            self.send("502 5.5.2 EHLO not recognized")
            return True
        self.send(["250 fault.test greets you"] +
                  ["250 " + e for e in self.extensions()])
        return True

    def do_HELO(self, line):
        self.send("250 fault.test")
        return True

    def start_tls(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*self.script.cert)
        self.sock = ctx.wrap_socket(self.sock, server_side=True)
        self.buf = b""

    def do_STARTTLS(self, line):
        self.send("220 2.0.0 ready to start TLS")
        if self.script.broken_tls:
            self.sock.sendall(b"this is not a TLS record\r\n" * 4)
            return False
        self.start_tls()
        return True

    def do_AUTH(self, line):
        parts = line.split(" ")
        mech = parts[1].upper() if len(parts) > 1 else ""
        initial = parts[2] if len(parts) > 2 else None
        if mech not in self.script.auth:
            self.send("504 5.5.4 mechanism not available")
            return True
        ok, user = _AUTH[mech](self, initial)
        self.server.auth_results.append((mech, user, ok))
        if ok:
            self.send("235 2.7.0 Authentication successful")
        else:
            self.send("535 5.7.8 Authentication credentials invalid")
        return True

    def challenge(self, data):
        self.send("334 " + base64.b64encode(data).decode())
        answer = self.command()
        if answer == "*":
            return None
        return base64.b64decode(answer)

    def do_MAIL(self, line):
        self.pause("MAIL")
        reply = self.script.mail_reply
        if reply.startswith("250"):
            self.mail = line
            self.rcpts = []
        self.send(reply)
        return not reply.startswith("421")

    def do_RCPT(self, line):
        self.pause("RCPT")
        if self.mail is None:
            self.send("503 5.5.1 need MAIL first")
            return True
        addr = line.split("<", 1)[-1].split(">", 1)[0]
        reply = self.script.rcpt_replies.get(addr, self.script.rcpt_default)
        if reply.startswith("250"):
            self.rcpts.append(line)
        self.send(reply)
        return not reply.startswith("421")

    def do_DATA(self, line):
        self.pause("DATA")
        if self.mail is None or not self.rcpts:
            self.send("554 5.5.1 no valid recipients")
            return True
        self.send(self.script.data_reply)
        if not self.script.data_reply.startswith("354"):
            return True
        return self.receive_message()

    def receive_message(self):
        body = []
        while True:
            line = self.readline()
            if line == b".":
                break
            if self.script.cut_during_data:
                return False
            body.append(line[1:] if line.startswith(b".") else line)
        self.group.append("<message of %d lines>" % len(body))
        self.group.append(".")
        self.server.commands.append(".")
        raw = b"".join(l + b"\r\n" for l in body)
        self.server.messages.append(
            {"mail": self.mail, "rcpts": list(self.rcpts), "data": raw})
        self.mail = None
        if self.script.silent_after_dot:
            time.sleep(3600)
        self.pause(".")
        n = len(self.server.messages)
        replies = self.script.dot_replies
        self.send(replies[n - 1] if n <= len(replies)
                  else self.script.dot_default)
        self.n_messages += 1
        if self.n_messages == self.script.close_after_messages:
            self.send("421 4.7.0 too many messages, closing")
            return False
        return True

    def do_RSET(self, line):
        self.mail = None
        self.rcpts = []
        self.send("250 2.0.0 Ok")
        return True

    def do_NOOP(self, line):
        self.send("250 2.0.0 Ok")
        return True

    def do_QUIT(self, line):
        self.send("221 2.0.0 Bye")
        return False


# ---- AUTH mechanisms, server side: each returns (ok, user) ------------

def _plain(conn, initial):
    raw = base64.b64decode(initial) if initial else conn.challenge(b"")
    if raw is None:
        return False, None
    _, user, password = raw.split(b"\0", 2)
    user, password = user.decode(), password.decode()
    return conn.script.users.get(user) == password, user


def _login(conn, initial):
    user = conn.challenge(b"Username:")
    password = conn.challenge(b"Password:") if user is not None else None
    if password is None:
        return False, None
    user = user.decode()
    return conn.script.users.get(user) == password.decode(), user


def _cram_md5(conn, initial):
    nonce = ("<%s.%d@fault.test>" % (os.urandom(6).hex(),
                                     int(time.time()))).encode()
    answer = conn.challenge(nonce)
    if answer is None:
        return False, None
    user, digest = answer.decode().rsplit(" ", 1)
    password = conn.script.users.get(user, "").encode()
    good = hmac.new(password, nonce, hashlib.md5).hexdigest()
    return hmac.compare_digest(good, digest), user


def _scram_sha256(conn, initial):
    first = base64.b64decode(initial) if initial else conn.challenge(b"")
    if first is None:
        return False, None
    bare = first.decode().split(",", 2)[2]  # after the gs2 header "n,,"
    attrs = dict(a.split("=", 1) for a in bare.split(","))
    user = attrs["n"]
    salt, iterations = os.urandom(16), 4096
    nonce = attrs["r"] + base64.b64encode(os.urandom(18)).decode()
    server_first = "r=%s,s=%s,i=%d" % (
        nonce, base64.b64encode(salt).decode(), iterations)
    final = conn.challenge(server_first.encode())
    if final is None:
        return False, user
    final = final.decode()
    without_proof, proof = final.rsplit(",p=", 1)
    password = conn.script.users.get(user, "\0invalid").encode()
    salted = hashlib.pbkdf2_hmac("sha256", password, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored = hashlib.sha256(client_key).digest()
    message = ",".join([bare, server_first, without_proof]).encode()
    signature = hmac.new(stored, message, hashlib.sha256).digest()
    given = base64.b64decode(proof)
    recovered = bytes(a ^ b for a, b in zip(given, signature))
    if hashlib.sha256(recovered).digest() != stored:
        return False, user
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    server_sig = hmac.new(server_key, message, hashlib.sha256).digest()
    if conn.script.scram_forged:
        server_sig = os.urandom(len(server_sig))
    answer = conn.challenge(b"v=" + base64.b64encode(server_sig))
    return answer is not None, user


def _ntlm(conn, initial):
    import ntlm
    negotiate = base64.b64decode(initial) if initial else conn.challenge(b"")
    if negotiate is None or negotiate[:8] != ntlm.SIGNATURE:
        return False, None
    nonce = ntlm.new_challenge()
    answer = conn.challenge(ntlm.challenge_message(nonce))
    if answer is None:
        return False, None
    fields = ntlm.parse_authenticate(answer)
    user = fields["user"]
    if fields["domain"]:
        user += "@" + fields["domain"]
    return ntlm.verify(fields, conn.script.users.get(user), nonce), user


def _bearer_fail(conn, answer_expected):
    error = json.dumps({"status": "401", "schemes": "bearer"}).encode()
    answer = conn.challenge(error)
    return answer == answer_expected


def _xoauth2(conn, initial):
    raw = base64.b64decode(initial).decode()
    fields = dict(f.split("=", 1) for f in raw.split("\x01") if f)
    user, token = fields.get("user"), fields.get("auth", "")[7:]
    if token in conn.script.tokens:
        return True, user
    _bearer_fail(conn, b"")
    return False, user


def _oauthbearer(conn, initial):
    raw = base64.b64decode(initial).decode()
    gs2, rest = raw.split("\x01", 1)
    user = gs2.split("a=", 1)[1].rstrip(",")
    fields = dict(f.split("=", 1) for f in rest.split("\x01") if f)
    token = fields.get("auth", "")[7:]
    if token in conn.script.tokens:
        return True, user
    _bearer_fail(conn, b"\x01")
    return False, user


_AUTH = {
    "PLAIN": _plain,
    "LOGIN": _login,
    "CRAM-MD5": _cram_md5,
    "SCRAM-SHA-256": _scram_sha256,
    "NTLM": _ntlm,
    "XOAUTH2": _xoauth2,
    "OAUTHBEARER": _oauthbearer,
}


class FaultServer:
    """Listens on 127.0.0.1 on a free port until stopped."""

    def __init__(self, script):
        self.script = script
        self.commands = []
        self.messages = []
        self.groups = []
        self.auth_results = []
        self.connections = 0
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            conn = _Conn(self, sock)
            threading.Thread(target=conn.run, daemon=True).start()

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
