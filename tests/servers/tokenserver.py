"""A local OAuth2 token endpoint (RFC 6749) on loopback, plain HTTP.

It answers POST requests with a JSON access token: the client-credentials
grant when client id and secret match, the refresh-token grant when the
refresh token matches (and then rotates it).  Every request's form is
recorded in `requests`."""

import http.server
import json
import threading
import urllib.parse


class TokenServer:

    def __init__(self, client_id="caqmail", client_secret="s3cret",
                 refresh_token=None, expires_in=3600):
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.expires_in = expires_in
        self.requests = []
        self.issued = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                form = dict(urllib.parse.parse_qsl(body))
                server.requests.append(form)
                status, answer = server.grant(form)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d/token" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)

    def grant(self, form):
        kind = form.get("grant_type")
        if form.get("client_id") != self.client_id:
            return 401, {"error": "invalid_client"}
        if kind == "client_credentials":
            if form.get("client_secret") != self.client_secret:
                return 401, {"error": "invalid_client"}
        elif kind == "refresh_token":
            if form.get("refresh_token") != self.refresh_token:
                return 400, {"error": "invalid_grant"}
        else:
            return 400, {"error": "unsupported_grant_type"}
        token = "tok-%d" % (len(self.issued) + 1)
        self.issued.append(token)
        answer = {"access_token": token, "token_type": "Bearer",
                  "expires_in": self.expires_in}
        if kind == "refresh_token":
            self.refresh_token = "refresh-%d" % len(self.issued)
            answer["refresh_token"] = self.refresh_token
        return 200, answer

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
