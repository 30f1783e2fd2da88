"""Helpers for the tests of `caqmail serve`: a server started on a free
loopback port in a sandbox, and an HTTP client that keeps its session
cookie and CSRF token as the web page does."""

import http.client
import json
import os
import signal
import ssl
import subprocess
import urllib.parse

from caqtest import CAQMAIL


class Server:
    """`caqmail serve --port 0` in @box; the port it took is read from
    its first line of output."""

    def __init__(self, box, extra_env=None):
        self.box = box
        self.proc = subprocess.Popen(
            [CAQMAIL, "serve", "--address", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=box.env(extra_env), cwd=box.root)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise AssertionError("caqmail serve did not start: %r %s"
                                 % (line, self.proc.stderr.read().decode()))
        self.url = line.split()[-1]
        parts = urllib.parse.urlsplit(self.url)
        self.tls = parts.scheme == "https"
        self.host, self.port = parts.hostname, parts.port

    def stop(self):
        """Stops the server and returns its log; a server that did not
        stop cleanly (or reported a sanitizer error) fails the test."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        log = self.proc.stderr.read().decode("utf-8", "replace")
        self.proc.stderr.close()
        if self.proc.returncode != 0 or "Sanitizer" in log \
                or "runtime error" in log:
            raise AssertionError("caqmail serve exited %d:\n%s"
                                 % (self.proc.returncode, log[-4000:]))
        return log


class Response:

    def __init__(self, raw):
        self.status = raw.status
        self.headers = raw.headers
        self.body = raw.read()

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name)


class Client:
    """Talks to @server as one browser: the session cookie and the CSRF
    token are kept and sent back; @cafile trusts a test certificate."""

    def __init__(self, server, cafile=None):
        self.server = server
        self.cafile = cafile
        self.cookie = None
        self.csrf = None

    def _connection(self):
        if self.server.tls:
            ctx = ssl.create_default_context(cafile=self.cafile)
            return http.client.HTTPSConnection(
                self.server.host, self.server.port, context=ctx, timeout=120)
        return http.client.HTTPConnection(self.server.host, self.server.port,
                                          timeout=120)

    def request(self, method, path, body=None, headers=None, csrf=True,
                content_type="application/json"):
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = self.cookie
        if csrf and self.csrf and method != "GET":
            h.setdefault("X-CSRF-Token", self.csrf)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        if body is not None:
            h.setdefault("Content-Type", content_type)
        con = self._connection()
        try:
            con.request(method, path, body=body, headers=h)
            res = Response(con.getresponse())
        finally:
            con.close()
        cookie = res.header("Set-Cookie")
        if cookie:
            value = cookie.split(";", 1)[0]
            self.cookie = None if value.endswith("=") else value
        return res

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body if body is not None else b"",
                            **kw)

    def login(self, login, password):
        res = self.post("/api/login", {"login": login, "password": password})
        if res.status == 200:
            self.csrf = res.json()["csrf"]
        return res

    def upload(self, name, data):
        return self.post("/api/uploads?name=" + urllib.parse.quote(name),
                         data, content_type="application/octet-stream")


def set_password(box, login, password):
    box.run("user", "password", login, stdin=(password + "\n").encode(),
            check=0)


def catalog(box, *entries):
    for kind, fields in entries:
        box.run("catalog", "add", kind, *fields, check=0)
