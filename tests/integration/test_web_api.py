"""The HTTP API of `caqmail serve` over real HTTP: every endpoint, the
permission rules of lib/access on each, CSRF, bad input, sign-in by a
trusted proxy, and HTTPS."""

import os
import re
import socket
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "servers"))

from caqtest import Sandbox, parse  # noqa: E402
from certs import self_signed  # noqa: E402
from webtest import Client, Server, catalog, set_password  # noqa: E402

PASSWORDS = {"alice": "Apfelbaum-42", "bob": "Birnbaum-42",
             "carol": "Kirschbaum-42", "root": "Wurzelwerk-42"}
RECORD = "8D-2026-0042"

WEB_CONFIG = """[message]
from = QM <qm@werk.example>

[web]
max_upload_size = 64k
login_attempts = 3
login_lockout = 10m
"""

# Every endpoint: method, path, body, the permission it needs beyond a
# signed-in user ("send", "read", "read-all", "admin" or None).
ENDPOINTS = [
    ("POST", "/api/logout", None, None),
    ("GET", "/api/catalog?q=mu", None, None),
    ("GET", "/api/records?q=8D", None, None),
    ("GET", "/api/records/%s/mails" % RECORD, None, "read"),
    ("GET", "/api/documents?q=", None, "read"),
    ("POST", "/api/uploads?name=a.txt", b"x", "send"),
    ("POST", "/api/send", {"to": ["a@werk.example"]}, "send"),
    ("GET", "/api/jobs/0123456789abcdef", None, None),
    ("GET", "/api/outbox", None, "admin"),
    ("POST", "/api/outbox/1/retry", None, "send"),
    ("POST", "/api/outbox/1/cancel", None, "send"),
    ("GET", "/api/mails/1", None, "read"),
    ("GET", "/api/mails/1/raw", None, "read"),
    ("GET", "/api/mails/1/attachments/0", None, "read"),
    ("GET", "/api/history/verify", None, "read-all"),
]


def setup_users(box):
    box.write_config(WEB_CONFIG)
    catalog(box,
            ("department", ["ident=QM", "name=Qualitätsmanagement",
                            "email=qm@werk.example"]),
            ("person", ["ident=P-1", "name=Jürgen Müller",
                        "email=jm@werk.example", "login=alice",
                        "department=QM", "language=de"]),
            ("person", ["ident=P-2", "name=Anna Schäfer",
                        "email=as@werk.example", "login=bob"]),
            ("person", ["ident=P-3", "name=Carola Mulder",
                        "email=cm@werk.example", "login=carol"]),
            ("person", ["ident=P-4", "name=Karl Muster",
                        "email=km@werk.example"]),
            ("organisation", ["ident=O-1", "name=Müller Guss GmbH",
                              "kind=supplier"]),
            ("contact", ["ident=C-1", "organisation=O-1",
                         "name=Eva Lieferant", "email=el@guss.example"]),
            ("list", ["name=8d-team", "description=Team für 8D-Berichte",
                      "member=P-1", "member=P-2", "member=C-1"]))
    box.run("user", "add", "alice", "--role", "sender", check=0)
    box.run("user", "add", "bob", "--role", "auditor", check=0)
    box.run("user", "add", "carol", "--role", "sender", check=0)
    box.run("user", "revoke", "carol", "sender", check=0)
    for login, password in PASSWORDS.items():
        set_password(box, login, password)


def wait_job(client, job):
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        state = client.get("/api/jobs/" + job).json()
        if state["finished"]:
            return state
        time.sleep(0.1)
    raise AssertionError("job %s did not finish" % job)


class WebCase(unittest.TestCase):
    """One sandbox and server for the class; each test signs in anew."""

    config = WEB_CONFIG

    @classmethod
    def setUpClass(cls):
        cls.box = Sandbox()
        setup_users(cls.box)
        if cls.config != WEB_CONFIG:
            cls.box.write_config(cls.config)
        cls.prepare(cls.box)
        cls.server = Server(cls.box)

    @classmethod
    def prepare(cls, box):
        """What happens before the server starts."""

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.box.close()

    def client(self, login=None):
        c = Client(self.server)
        if login:
            res = c.login(login, PASSWORDS[login])
            self.assertEqual(res.status, 200, res.body)
        return c

    def send(self, client, **fields):
        body = {"to": ["a@werk.example"], "subject": "Test",
                "text": "Hallo", "record": RECORD}
        body.update(fields)
        res = client.post("/api/send", body)
        self.assertEqual(res.status, 202, res.body)
        return wait_job(client, res.json()["job"])

    def mails(self):
        return self.box.sql("SELECT COUNT(*) FROM mail")[0][0]


class SignInTest(WebCase):

    def test_password_signs_in_with_a_safe_cookie(self):
        c = Client(self.server)
        res = c.login("alice", PASSWORDS["alice"])
        self.assertEqual(res.status, 200)
        cookie = res.header("Set-Cookie")
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        self.assertNotIn("Secure", cookie, "plain HTTP")
        me = c.get("/api/session").json()
        self.assertEqual(me["login"], "alice")
        self.assertEqual(me["language"], "de")
        self.assertEqual(me["permissions"], ["send", "read-own"])
        self.assertEqual(me["csrf"], c.csrf)

    def test_wrong_password_and_unknown_login_fail_alike(self):
        for login, password in (("alice", "falsch-falsch"),
                                ("niemand", "irgendwas-1")):
            res = Client(self.server).login(login, password)
            self.assertEqual(res.status, 403)
            self.assertNotIn("Set-Cookie", res.headers)
            self.assertIn("unknown login or wrong password",
                          res.json()["error"])

    def test_logout_ends_the_session(self):
        c = self.client("bob")
        self.assertEqual(c.post("/api/logout", csrf=False).status, 403)
        self.assertEqual(c.get("/api/session").status, 200)
        old = c.cookie
        self.assertEqual(c.post("/api/logout").status, 200)
        c.cookie = old  # a stolen cookie is worth nothing afterwards
        self.assertEqual(c.get("/api/session").status, 401)
        self.assertEqual(c.get("/api/catalog?q=mu").status, 401)

    def test_login_only_as_json(self):
        c = Client(self.server)
        res = c.post("/api/login", b"login=alice&password=Apfelbaum-42",
                     content_type="application/x-www-form-urlencoded")
        self.assertEqual(res.status, 415)
        self.assertNotIn("Set-Cookie", res.headers)

    def test_malformed_login(self):
        c = Client(self.server)
        self.assertEqual(c.post("/api/login", b"{nope").status, 400)
        self.assertEqual(c.post("/api/login", {"login": 7}).status, 400)

    def test_every_endpoint_needs_a_session(self):
        for method, path, body, _ in ENDPOINTS:
            res = Client(self.server).request(method, path, body)
            self.assertEqual(res.status, 401, path)
            self.assertEqual(set(res.json()), {"error", "code"}, path)

    def test_unknown_paths_and_methods(self):
        c = self.client("alice")
        self.assertEqual(c.get("/api/nothing").status, 404)
        self.assertEqual(c.request("DELETE", "/api/send").status, 405)
        self.assertEqual(c.get("/../etc/passwd").status, 404)


class RateLimitTest(WebCase):

    def test_lockout_after_failed_sign_ins(self):
        for _ in range(3):
            self.assertEqual(
                Client(self.server).login("bob", "falsch-falsch").status,
                403)
        res = Client(self.server).login("bob", PASSWORDS["bob"])
        self.assertEqual(res.status, 429, "the right password is not "
                                          "even checked while locked")
        self.assertEqual(res.header("Retry-After"), "600")
        self.assertNotIn("Set-Cookie", res.headers)


class CsrfTest(WebCase):

    def test_every_change_needs_the_token(self):
        c = self.client("root")
        before = self.mails()
        for method, path, body, _ in ENDPOINTS:
            if method == "GET":
                continue
            for token in (None, "0" * 64, c.csrf[:-1]):
                headers = {"X-CSRF-Token": token} if token else {}
                res = c.request(method, path, body, headers=headers,
                                csrf=False)
                self.assertEqual(res.status, 403, (path, token))
                self.assertEqual(res.json()["code"], "csrf")
        self.assertEqual(self.mails(), before, "nothing was sent")
        self.assertEqual(c.get("/api/session").status, 200,
                         "logout without the token did nothing")

    def test_another_sessions_token_does_not_count(self):
        a, b = self.client("alice"), self.client("bob")
        res = a.post("/api/send", {"to": ["x@werk.example"]},
                     headers={"X-CSRF-Token": b.csrf})
        self.assertEqual(res.status, 403)


class CatalogTest(WebCase):

    def search(self, client, q, limit=None):
        path = "/api/catalog?q=" + urllib.parse.quote(q)
        if limit:
            path += "&limit=%d" % limit
        res = client.get(path)
        self.assertEqual(res.status, 200, res.body)
        return res.json()

    def test_accents_ignored_and_ranked(self):
        c = self.client("carol")  # reading the catalog needs no right
        found = self.search(c, "mu")
        refs = [e["ref"] for e in found]
        self.assertIn("person:P-1", refs, "Müller found by 'mu'")
        self.assertNotIn("organisation:O-1", refs, "not a recipient")
        # names starting with the text come first
        starts = [e for e in found if e["name"].lower().startswith("mu")]
        self.assertEqual(found[:len(starts)], starts)
        self.assertEqual(self.search(c, "MÜLLER")[0]["ref"], "person:P-1")
        self.assertEqual(self.search(c, "schafer")[0]["ref"], "person:P-2")

    def test_each_entry_says_what_it_is(self):
        c = self.client("alice")
        lst = self.search(c, "8d")[0]
        self.assertEqual((lst["ref"], lst["kind"], lst["members"]),
                         ("list:8d-team", "list", 3))
        self.assertEqual(lst["detail"], "Team für 8D-Berichte")
        dep = self.search(c, "qualitat")[0]
        self.assertEqual((dep["kind"], dep["email"]),
                         ("department", "qm@werk.example"))
        contact = self.search(c, "eva")[0]
        self.assertEqual((contact["kind"], contact["detail"]),
                         ("contact", "O-1"))

    def test_limit(self):
        c = self.client("alice")
        self.assertGreater(len(self.search(c, "werk")), 2)
        self.assertEqual(len(self.search(c, "werk", 2)), 2)

    def test_empty_query(self):
        c = self.client("alice")
        self.assertEqual(c.get("/api/catalog?q=%20").status, 400)
        self.assertEqual(c.get("/api/catalog").status, 400)


class SendTest(WebCase):

    def test_send_with_list_cc_copy_and_upload(self):
        c = self.client("alice")
        data = "Prüfprotokoll\nMaß 12,5\n".encode()
        up = c.upload("Protokoll Gehäuse.txt", data)
        self.assertEqual(up.status, 201, up.body)
        self.assertEqual(up.json()["size"], len(data))
        job = self.send(c, to=["list:8d-team"], cc=["P-4"], copy_to_me=True,
                        subject="8D: Gehäuse <undicht>",
                        text="Siehe Anhang.\n<script>alert(1)</script>",
                        attachments=[{"upload": up.json()["id"]}])
        self.assertEqual(job["state"], "sent", job)
        self.assertIsNone(job["error"])
        mail_id = job["mail"]

        raw = self.box.delivered()[-1]
        msg = parse(raw)
        self.assertIn("Jürgen Müller", str(msg["To"]))
        self.assertIn("el@guss.example", str(msg["To"]))
        self.assertIn("km@werk.example", str(msg["Cc"]))
        self.assertIsNone(msg["Bcc"])
        self.assertEqual(msg["Subject"], "8D: Gehäuse <undicht>")
        att = [p for p in msg.iter_attachments()][0]
        self.assertEqual(att.get_filename(), "Protokoll Gehäuse.txt")
        self.assertEqual(att.get_payload(decode=True), data)

        history = c.get("/api/records/%s/mails" % RECORD).json()
        mail = [m for m in history if m["id"] == mail_id][0]
        self.assertEqual(mail["state"], "sent")
        by_address = {r["address"]: r for r in mail["recipients"]}
        self.assertEqual(by_address["el@guss.example"]["source"],
                         "list:8d-team > contact:C-1")
        self.assertEqual(by_address["km@werk.example"]["kind"], "cc")
        self.assertEqual({r["status"] for r in mail["recipients"]},
                         {"accepted"})
        self.assertEqual(by_address["jm@werk.example"]["code"], 250)

        detail = c.get("/api/mails/%d" % mail_id)
        self.assertEqual(detail.header("Content-Type"), "application/json")
        detail = detail.json()
        self.assertEqual(detail["text"].rstrip("\n"),
                         "Siehe Anhang.\n<script>alert(1)</script>")
        self.assertEqual(detail["attachments"][0]["filename"],
                         "Protokoll Gehäuse.txt")
        self.assertTrue(any(e["kind"] == "queued" or e["kind"]
                            for e in detail["entries"]))

        res = c.get("/api/mails/%d/raw" % mail_id)
        self.assertEqual(res.header("Content-Type"), "message/rfc822")
        self.assertIn("attachment", res.header("Content-Disposition"))
        self.assertEqual(parse(res.body)["Message-ID"], msg["Message-ID"])
        self.assertEqual(
            parse(res.body).get_body(("plain",)).get_content()
            .replace("\r\n", "\n"),
            msg.get_body(("plain",)).get_content().replace("\r\n", "\n"))

        res = c.get("/api/mails/%d/attachments/0" % mail_id)
        self.assertEqual(res.status, 200)
        self.assertEqual(res.body, data)
        self.assertIn("attachment", res.header("Content-Disposition"))
        self.assertEqual(c.get("/api/mails/%d/attachments/1"
                               % mail_id).status, 404)

        # the upload was used up
        res = c.post("/api/send", {"to": ["a@werk.example"],
                                   "attachments": [
                                       {"upload": up.json()["id"]}]})
        self.assertEqual(res.status, 400)

        records = c.get("/api/records?q=8d-2026").json()
        self.assertEqual(records[0]["ident"], RECORD)

    def test_html_attachment_is_only_a_download(self):
        c = self.client("alice")
        up = c.upload("bericht.html", b"<html><script>alert(1)</script>")
        job = self.send(c, attachments=[{"upload": up.json()["id"]}])
        res = c.get("/api/mails/%d/attachments/0" % job["mail"])
        self.assertEqual(res.header("Content-Type"),
                         "application/octet-stream")
        self.assertTrue(res.header("Content-Disposition")
                        .startswith("attachment"))

    def test_job_of_another_user_is_hidden(self):
        a, b = self.client("alice"), self.client("bob")
        res = a.post("/api/send", {"to": ["x@werk.example"]})
        job = res.json()["job"]
        self.assertEqual(b.get("/api/jobs/" + job).status, 404)
        wait_job(a, job)

    def test_stored_document(self):
        path = self.box.write("Prüfplan.txt", "Prüfplan Gehäuse\n")
        proc = self.box.run("--as", "alice", "document", "add", path,
                            "--title", "Prüfplan Gehäuse", "--record",
                            RECORD, check=0)
        doc = proc.stdout.strip()
        c = self.client("alice")
        found = c.get("/api/documents?q=prufplan").json()
        self.assertEqual([d["id"] for d in found], [doc])
        job = self.send(c, attachments=[{"document": doc}])
        self.assertEqual(job["state"], "sent")
        detail = c.get("/api/mails/%d" % job["mail"]).json()
        self.assertEqual(detail["attachments"][0]["source"],
                         "document:" + doc)
        self.assertEqual(self.client("carol").get(
            "/api/documents?q=").status, 403)


class BadInputTest(WebCase):

    def setUp(self):
        self.c = self.client("alice")
        self.before = self.mails()

    def tearDown(self):
        self.assertEqual(self.mails(), self.before, "nothing was stored")

    def expect(self, res, status, words):
        self.assertEqual(res.status, status, res.body)
        self.assertIn(words, res.json()["error"])

    def test_malformed_json(self):
        self.expect(self.c.post("/api/send", b'{"to": ['), 400,
                    "malformed JSON")
        self.expect(self.c.post("/api/send", b'["a@b.example"]'), 400,
                    "expected an object")
        self.expect(self.c.post("/api/send", {"to": "a@b.example"}), 400,
                    '"to": expected a list of strings')
        self.expect(self.c.post("/api/send", {"to": [1]}), 400,
                    '"to": expected a list of strings')
        self.expect(self.c.post("/api/send", {"to": ["a@b.example"],
                                              "copy_to_me": "ja"}),
                    400, "copy_to_me")
        self.expect(self.c.post("/api/send", {"to": ["a@b.example"],
                                              "attachments": [{}]}),
                    400, "attachments")

    def test_unknown_catalog_references(self):
        for ref in ("list:gibt-es-nicht", "P-999", "department:NOPE"):
            res = self.c.post("/api/send", {"to": [ref]})
            self.assertEqual(res.status, 400, ref)
            self.assertIn(ref.split(":")[-1], res.json()["error"])
        self.expect(self.c.post("/api/send", {"to": ["kein adresse"]}),
                    400, "kein adresse")
        self.expect(self.c.post("/api/send", {"to": []}), 400,
                    "recipient")

    def test_oversized_upload(self):
        res = self.c.upload("gross.bin", b"x" * (64 * 1024 + 1))
        self.expect(res, 413, "over the limit")
        self.assertEqual(self.c.upload("passt.bin",
                                       b"x" * (64 * 1024)).status, 201)
        self.assertEqual(os.listdir(self.box.path(
            "home", ".local", "share", "caqmail", "uploads")).__len__(), 1)

    def test_file_names_with_path_parts(self):
        for name in ("../passwd", "a/b.txt", "..", "a\\b.txt", "",
                     "x\x01.txt", "n" * 256):
            res = self.c.upload(name, b"data")
            self.assertEqual(res.status, 400, name)
            self.assertIn("file name", res.json()["error"])
        self.expect(self.c.post("/api/uploads", b"data",
                                content_type="application/octet-stream"),
                    400, "file name")

    def test_unknown_upload_and_bad_mail_numbers(self):
        self.expect(self.c.post("/api/send", {
            "to": ["a@b.example"], "attachments": [{"upload": "nope"}]}),
            400, "upload 'nope'")
        self.assertEqual(self.c.get("/api/mails/abc").status, 400)
        self.assertEqual(self.c.get("/api/mails/0").status, 400)
        self.assertEqual(self.c.get("/api/mails/99999").status, 404)
        self.assertEqual(self.c.get("/api/mails/1/attachments/x").status,
                         400)

    def test_missing_document(self):
        self.expect(self.c.post("/api/send", {
            "to": ["a@b.example"], "attachments": [{"document": "DOC-77"}]}),
            400, "DOC-77")


class PermissionTest(WebCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = Client(cls.server)
        c.login("alice", PASSWORDS["alice"])
        res = c.post("/api/send", {"to": ["x@werk.example"],
                                   "subject": "von Alice", "text": "geheim",
                                   "record": RECORD})
        cls.alice_mail = wait_job(c, res.json()["job"])["mail"]
        b = Client(cls.server)
        b.login("bob", PASSWORDS["bob"])
        res = b.post("/api/send", {"to": ["y@werk.example"],
                                   "subject": "von Bob", "text": "intern",
                                   "record": RECORD})
        cls.bob_mail = wait_job(b, res.json()["job"])["mail"]

    def assert_refused(self, res, what):
        self.assertEqual(res.status, 403, (what, res.body))
        self.assertEqual(set(res.json()), {"error", "code"}, what)
        self.assertNotIn(b"geheim", res.body)

    def test_user_without_rights_gets_403_everywhere(self):
        c = self.client("carol")
        for method, path, body, needs in ENDPOINTS:
            if needs is None:
                continue
            path = path.replace("/1", "/%d" % self.alice_mail)
            self.assert_refused(c.request(method, path, body), path)

    def test_read_own_sees_only_own_mail(self):
        c = self.client("alice")
        subjects = [m["subject"] for m in
                    c.get("/api/records/%s/mails" % RECORD).json()]
        self.assertIn("von Alice", subjects)
        self.assertNotIn("von Bob", subjects)
        for path in ("/api/mails/%d", "/api/mails/%d/raw"):
            res = c.get(path % self.bob_mail)
            self.assertEqual(res.status, 404, "not there for alice")
            self.assertNotIn(b"intern", res.body)
        self.assertEqual(c.post("/api/outbox/%d/cancel"
                                % self.bob_mail).status, 404)

    def test_read_all_sees_every_mail_but_no_outbox(self):
        c = self.client("bob")
        subjects = [m["subject"] for m in
                    c.get("/api/records/%s/mails" % RECORD).json()]
        self.assertIn("von Alice", subjects)
        self.assertEqual(c.get("/api/mails/%d" % self.alice_mail)
                         .json()["text"].rstrip("\n"), "geheim")
        self.assert_refused(c.get("/api/outbox"), "outbox")
        verify = c.get("/api/history/verify").json()
        self.assertTrue(verify["ok"])
        self.assertGreaterEqual(verify["entries"], 2)
        self.assertEqual(verify["broken"], 0)

    def test_alice_may_not_verify(self):
        self.assert_refused(self.client("alice").get("/api/history/verify"),
                            "verify")


class OutboxTest(WebCase):
    """Mail that cannot be delivered (nothing listens on the port) stays
    in the outbox for an administrator to retry or cancel."""

    @classmethod
    def setUpClass(cls):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cls.config = WEB_CONFIG + (
            "\n[smtp]\nhost = 127.0.0.1\nport = %d\ntls = none\n"
            "timeout_connect = 2s\n" % port)
        super().setUpClass()

    def test_admin_lists_retries_and_cancels(self):
        a = self.client("alice")
        job = self.send(a, subject="wartet")
        self.assertEqual(job["state"], "deferred", job)
        admin = self.client("root")
        waiting = admin.get("/api/outbox").json()
        mail = [m for m in waiting if m["id"] == job["mail"]][0]
        self.assertEqual((mail["state"], mail["sender"]),
                         ("deferred", "alice"))
        self.assertTrue(mail["last_error"])
        only = admin.get("/api/outbox?state=deferred").json()
        self.assertIn(job["mail"], [m["id"] for m in only])
        self.assertEqual(admin.get("/api/outbox?state=sent").json(), [])

        res = admin.post("/api/outbox/%d/retry" % job["mail"])
        self.assertEqual(res.status, 200, res.body)
        self.assertEqual(res.json()["state"], "queued")
        res = a.post("/api/outbox/%d/cancel" % job["mail"])
        self.assertEqual(res.status, 200, res.body)
        self.assertEqual(res.json()["state"], "cancelled")
        res = admin.post("/api/outbox/%d/cancel" % job["mail"])
        self.assertEqual(res.status, 400, "cancelled already")
        self.assert_state(job["mail"], "cancelled")

    def assert_state(self, mail_id, state):
        rows = self.box.sql("SELECT state FROM outbox WHERE mail_id = ?",
                            mail_id)
        self.assertEqual(rows, [(state,)])


class FreshServerTest(WebCase):
    """The first request of a new server reads a mail that the command
    line sent."""

    @classmethod
    def prepare(cls, box):
        box.run("send", "--to", "list:8d-team", "--subject", "Über CLI",
                "--body", "Grüße von der Kommandozeile", "--record", RECORD,
                check=0)

    def test_read_first(self):
        c = self.client("root")
        mails = c.get("/api/records/%s/mails" % RECORD).json()
        self.assertEqual([m["subject"] for m in mails], ["Über CLI"])
        detail = c.get("/api/mails/%d" % mails[0]["id"]).json()
        self.assertEqual(detail["text"].rstrip("\n"),
                         "Grüße von der Kommandozeile")
        self.assertEqual(len(detail["recipients"]), 3)


class PageTest(WebCase):

    def test_page_and_its_files_are_built_in(self):
        c = Client(self.server)
        page = c.get("/")
        self.assertEqual(page.status, 200)
        csp = page.header("Content-Security-Policy")
        self.assertIn("script-src 'self'", csp)
        self.assertIn("default-src 'none'", csp)
        self.assertNotIn("unsafe-inline", csp)
        html = page.body.decode()
        self.assertNotIn("style=", html)
        self.assertIsNone(re.search(r"<style", html))
        for tag in re.findall(r"<script[^>]*>", html):
            self.assertIn('src="/app.js"', tag)
        self.assertIsNone(re.search(r"<script[^>]*>[^<]+</script>", html))
        js = c.get("/app.js")
        self.assertTrue(js.header("Content-Type").startswith(
            "text/javascript"))
        self.assertNotIn(b"innerHTML", js.body)
        self.assertEqual(c.get("/app.css").status, 200)
        self.assertEqual(c.get("/nothing.js").status, 404)
        self.assertEqual(js.header("X-Content-Type-Options"), "nosniff")


class ProxySignInTest(WebCase):

    config = WEB_CONFIG + ("trusted_header = X-Remote-User\n"
                           "trusted_proxies = 127.0.0.1, ::1\n")

    def test_header_from_a_trusted_proxy_signs_in(self):
        c = Client(self.server)
        res = c.get("/api/session", headers={"X-Remote-User": "bob"})
        self.assertEqual(res.status, 200, res.body)
        self.assertEqual(res.json()["login"], "bob")
        c.csrf = res.json()["csrf"]
        self.assertEqual(c.get("/api/history/verify").status, 200)
        res = Client(self.server).get("/api/session",
                                      headers={"X-Remote-User": "mallory"})
        self.assertEqual(res.status, 401, "not a registered user")


class UntrustedProxyTest(WebCase):

    config = WEB_CONFIG + ("trusted_header = X-Remote-User\n"
                           "trusted_proxies = 192.0.2.10\n")

    def test_header_from_elsewhere_is_ignored(self):
        res = Client(self.server).get("/api/session",
                                      headers={"X-Remote-User": "root"})
        self.assertEqual(res.status, 401)
        self.assertNotIn("Set-Cookie", res.headers)


class TlsTest(WebCase):

    @classmethod
    def setUpClass(cls):
        cls.certs = Sandbox()
        cls.cert, cls.key = self_signed(cls.certs.path("certs"), "localhost",
                                        ["IP:127.0.0.1", "DNS:localhost"])
        cls.config = WEB_CONFIG + ("tls_certificate = %s\ntls_key = %s\n"
                                   % (cls.cert, cls.key))
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.certs.close()

    def test_https_with_secure_cookie(self):
        self.assertTrue(self.server.url.startswith("https://"))
        c = Client(self.server, cafile=self.cert)
        res = c.login("alice", PASSWORDS["alice"])
        self.assertEqual(res.status, 200)
        self.assertIn("; Secure", res.header("Set-Cookie"))
        self.assertEqual(c.get("/api/session").json()["login"], "alice")


class PasswordCommandTest(unittest.TestCase):

    def setUp(self):
        self.box = Sandbox()
        self.box.run("user", "add", "dora", check=0)

    def tearDown(self):
        self.box.close()

    def hash_of(self, login):
        return self.box.sql(
            "SELECT p.hash FROM user_password p JOIN app_user u"
            " ON u.id = p.user_id WHERE u.login = ?", login)

    def test_set_from_stdin_and_command(self):
        self.box.run("user", "password", "dora", stdin=b"Sonnenblume-7\n",
                     check=0)
        first = self.hash_of("dora")[0][0]
        self.assertTrue(first.startswith("$argon2id$"))
        self.assertNotIn("Sonnenblume", first)
        script = self.box.write("pw.sh", "#!/bin/sh\necho Mondblume-77\n",
                                mode=0o755)
        self.box.run("user", "password", "dora", "--password-command",
                     script, check=0)
        self.assertNotEqual(self.hash_of("dora")[0][0], first)

    def test_refused(self):
        proc = self.box.run("user", "password", "dora", "kurz")
        self.assertEqual(proc.returncode, 64, "never from argv")
        proc = self.box.run("user", "password", "dora", stdin=b"kurz\n")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("password", proc.stderr)
        proc = self.box.run("user", "password", "niemand",
                            stdin=b"Sonnenblume-7\n")
        self.assertNotEqual(proc.returncode, 0)
        proc = self.box.run("--as", "dora", "user", "password", "root",
                            stdin=b"Sonnenblume-7\n")
        self.assertNotEqual(proc.returncode, 0)
        self.assertEqual(self.hash_of("dora"), [])
        self.assertEqual(self.hash_of("root"), [])


if __name__ == "__main__":
    unittest.main()
