"""caqmail's SMTP client against a scripted server: every fault the
client must class, each as its own case, and the exact commands of a
pipelined session.

The client runs in tests/smtp-driver (the library's send functions, one
client, results printed as JSON) and in `caqmail send` / `smtp-check`.
"""

import email
import email.policy
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "servers"))
from caqtest import Sandbox  # noqa: E402
from certs import TestCA, sha256_fingerprint  # noqa: E402
from faultsmtp import FaultServer, Script  # noqa: E402
from tokenserver import TokenServer  # noqa: E402

DRIVER = os.environ.get("SMTP_DRIVER", "smtp-driver")

MESSAGE = (b"From: QM <qm@werk.example>\r\n"
           b"To: a@werk.example\r\n"
           b"Subject: Pruefbericht\r\n"
           b"Message-ID: <1@werk.example>\r\n"
           b"\r\n"
           b"Line one\r\n"
           b".a line that starts with a dot\r\n"
           b"..two dots\r\n"
           b"\r\n"
           b"last line\r\n")

MESSAGE_8BIT = ("From: qm@werk.example\r\n"
                "To: a@werk.example\r\n"
                "Subject: Umlaute\r\n"
                "MIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: 8bit\r\n"
                "\r\n"
                "Grüße aus dem Qualitätswesen\r\n").encode()

CA = None


def setUpModule():
    global CA, CA_DIR
    CA_DIR = tempfile.mkdtemp(prefix="caqmail-ca-")
    CA = TestCA(CA_DIR)


def tearDownModule():
    subprocess.run(["rm", "-rf", CA_DIR])


class FaultTest(unittest.TestCase):

    def setUp(self):
        self.box = Sandbox()
        self.servers = []

    def tearDown(self):
        for server in self.servers:
            server.stop()
        self.box.close()

    def serve(self, **settings):
        server = FaultServer(Script(**settings)).start()
        self.servers.append(server)
        return server

    def config(self, server, extra=""):
        text = ("[general]\ndata_dir = %s\n\n[smtp]\nhost = 127.0.0.1\n"
                "port = %d\ntls = none\ntimeout_connect = 5s\n%s"
                % (self.box.path("data"), server.port, extra))
        return self.box.write_config(text)

    def drive(self, server, messages, extra="", mode="batch", debug=False,
              env=None):
        """Sends @messages (dicts for the driver; "data" is the raw
        message) and returns (results, stderr)."""
        config = self.config(server, extra)
        jobs = []
        for i, m in enumerate(messages):
            m = dict(m)
            m.setdefault("from", "qm@werk.example")
            m.setdefault("to", ["a@werk.example"])
            m["file"] = self.box.write("msg-%d.eml" % i,
                                       m.pop("data", MESSAGE))
            jobs.append(m)
        args = [DRIVER, config] + (["--debug"] if debug else [])
        proc = subprocess.run(
            args, input=json.dumps({"mode": mode, "messages": jobs}).encode(),
            capture_output=True, env=self.box.env(env), timeout=120)
        stderr = proc.stderr.decode("utf-8", "replace")
        self.assertEqual(proc.returncode, 0, stderr)
        return json.loads(proc.stdout), stderr

    def send_one(self, server, extra="", **message):
        results, _ = self.drive(server, [message], extra)
        return results[0]

    def assertOutcome(self, result, outcome, stage, code=None):
        self.assertEqual((result["outcome"], result["stage"]),
                         (outcome, stage), result)
        if code is not None:
            self.assertEqual(result["code"], code, result)

    def mail_commands(self, server):
        return [c for c in server.commands if c.startswith("MAIL")]


class ConnectTest(FaultTest):

    def test_421_greeting_defers(self):
        server = self.serve(greeting="421 4.3.2 fault.test busy, try later")
        r = self.send_one(server)
        self.assertOutcome(r, "deferred", "connect", 421)
        self.assertEqual(r["enhanced"], "4.3.2")
        self.assertEqual(r["rcpts"][0]["status"], "temporary")
        self.assertEqual(server.messages, [])

    def test_554_greeting_fails(self):
        server = self.serve(greeting="554 5.7.1 go away")
        self.assertOutcome(self.send_one(server), "failed", "connect", 554)

    def test_helo_only_server(self):
        server = self.serve(ehlo=None, settle=0.05)
        r = self.send_one(server)
        self.assertOutcome(r, "sent", "none", 250)
        self.assertTrue(server.commands[0].startswith("EHLO "))
        self.assertTrue(server.commands[1].startswith("HELO "))
        # No extensions: no SIZE=, and one command at a time.
        self.assertEqual(self.mail_commands(server),
                         ["MAIL FROM:<qm@werk.example>"])
        self.assertIn(["MAIL FROM:<qm@werk.example>"], server.groups)
        self.assertIn(["RCPT TO:<a@werk.example>"], server.groups)
        self.assertIn(["DATA"], server.groups)

    def test_no_server_listening(self):
        server = self.serve()
        server.stop()
        r = self.send_one(server)
        self.assertOutcome(r, "deferred", "connect", 0)
        self.assertIn("refused", r["text"])


class TlsTest(FaultTest):

    def tls_extra(self, mode="starttls", required="yes"):
        return "tls = %s\ntls_required = %s\nca_file = %s\n" % (
            mode, required, CA.cert)

    def test_starttls_missing_when_required_sends_nothing(self):
        server = self.serve(auth={"PLAIN": True}, users={"u": "pw"})
        r = self.send_one(server, self.tls_extra() +
                          "user = u\npassword_env = PW\n")
        self.assertOutcome(r, "failed", "tls", 0)
        self.assertIn("STARTTLS", r["text"])
        self.assertEqual([c.split()[0] for c in server.commands], ["EHLO"])
        self.assertEqual(server.auth_results, [])

    def test_starttls_missing_but_optional_sends_plain(self):
        server = self.serve()
        r = self.send_one(server, self.tls_extra(required="no"))
        self.assertOutcome(r, "sent", "none")

    def test_failing_handshake_sends_nothing(self):
        cert = CA.issue("good", ["IP:127.0.0.1"])
        server = self.serve(starttls=True, cert=cert, broken_tls=True)
        r = self.send_one(server, self.tls_extra())
        self.assertOutcome(r, "failed", "tls", 0)
        self.assertEqual(self.mail_commands(server), [])

    def test_wrong_host_name_on_certificate(self):
        cert = CA.issue("wrong", ["DNS:wrong.example"])
        server = self.serve(starttls=True, cert=cert)
        r = self.send_one(server, self.tls_extra())
        self.assertOutcome(r, "failed", "tls", 0)
        self.assertIn("certificate", r["text"])
        self.assertEqual(self.mail_commands(server), [])

    def test_untrusted_certificate_without_ca_file(self):
        cert = CA.issue("good", ["IP:127.0.0.1"])
        server = self.serve(starttls=True, cert=cert)
        r = self.send_one(server, "tls = starttls\ntls_required = yes\n")
        self.assertOutcome(r, "failed", "tls", 0)
        self.assertEqual(self.mail_commands(server), [])

    def test_starttls_and_implicit_tls_send(self):
        cert = CA.issue("good", ["IP:127.0.0.1", "DNS:localhost"])
        for mode in ("starttls", "implicit"):
            with self.subTest(mode=mode):
                server = self.serve(starttls=mode == "starttls",
                                    implicit_tls=mode == "implicit",
                                    cert=cert)
                r = self.send_one(server, self.tls_extra(mode))
                self.assertOutcome(r, "sent", "none", 250)
                self.assertEqual(server.messages[0]["data"], MESSAGE)

    def test_pinned_fingerprint_replaces_ca(self):
        cert = CA.issue("pinned", ["DNS:other.example"])
        server = self.serve(starttls=True, cert=cert)
        pin = sha256_fingerprint(cert[0])
        r = self.send_one(server, "tls = starttls\ntls_required = yes\n"
                          "fingerprint = %s\n" % pin)
        self.assertOutcome(r, "sent", "none")
        wrong = ("1" if pin[0] == "0" else "0") + pin[1:]
        server = self.serve(starttls=True, cert=cert)
        r = self.send_one(server, "tls = starttls\ntls_required = yes\n"
                          "fingerprint = %s\n" % wrong)
        self.assertOutcome(r, "failed", "tls")


class AuthTest(FaultTest):

    PASSWORD_MECHS = ["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256", "NTLM"]
    TOKEN_MECHS = ["XOAUTH2", "OAUTHBEARER"]

    def auth_server(self, mech):
        return self.serve(auth={m: True for m in
                                self.PASSWORD_MECHS + self.TOKEN_MECHS},
                          users={"qm@werk.example": "Geheim 42!"},
                          tokens={"good-token"})

    def password_extra(self, mech):
        return ("user = qm@werk.example\npassword_env = SMTP_PW\n"
                "auth_mechanisms = %s\n" % mech)

    def token_extra(self, mech, token):
        script = self.box.write("token.sh", "#!/bin/sh\necho %s\n" % token,
                                0o755)
        return ("user = qm@werk.example\ntoken_command = %s\n"
                "auth_mechanisms = %s\n" % (script, mech))

    def run_auth(self, mech, extra, password="Geheim 42!"):
        server = self.auth_server(mech)
        results, stderr = self.drive(server, [{}], extra, debug=True,
                                     env={"SMTP_PW": password})
        return server, results[0], stderr

    def test_password_mechanisms(self):
        for mech in self.PASSWORD_MECHS:
            with self.subTest(mech=mech):
                server, r, log = self.run_auth(mech,
                                               self.password_extra(mech))
                self.assertOutcome(r, "sent", "none")
                self.assertEqual(server.auth_results,
                                 [(mech, "qm@werk.example", True)])
                self.assertNotIn("Geheim", log)
                self.assertIn("AUTH %s" % mech, log)

    def test_password_mechanisms_535(self):
        for mech in self.PASSWORD_MECHS:
            with self.subTest(mech=mech):
                server, r, log = self.run_auth(
                    mech, self.password_extra(mech), password="falsch")
                self.assertOutcome(r, "failed", "auth", 535)
                self.assertEqual(r["enhanced"], "5.7.8")
                self.assertEqual(server.auth_results[0][2], False)
                self.assertEqual(self.mail_commands(server), [])
                self.assertNotIn("falsch", log)

    def test_token_command_mechanisms(self):
        for mech in self.TOKEN_MECHS:
            with self.subTest(mech=mech):
                server, r, log = self.run_auth(
                    mech, self.token_extra(mech, "good-token"))
                self.assertOutcome(r, "sent", "none")
                self.assertEqual(server.auth_results,
                                 [(mech, "qm@werk.example", True)])
                self.assertNotIn("good-token", log)

    def test_token_mechanisms_535(self):
        for mech in self.TOKEN_MECHS:
            with self.subTest(mech=mech):
                server, r, _ = self.run_auth(
                    mech, self.token_extra(mech, "bad-token"))
                self.assertOutcome(r, "failed", "auth", 535)
                self.assertEqual(self.mail_commands(server), [])

    def test_strongest_offered_is_chosen(self):
        server, r, _ = self.run_auth(
            None, "user = qm@werk.example\npassword_env = SMTP_PW\n")
        self.assertOutcome(r, "sent", "none")
        self.assertEqual(server.auth_results[0][0], "SCRAM-SHA-256")

    def test_scram_server_that_cannot_prove_the_password(self):
        # The server accepts the proof but signs with a key it made up:
        # caqmail cancels the exchange and sends nothing.
        server = self.serve(auth={"SCRAM-SHA-256": True},
                            users={"qm@werk.example": "Geheim 42!"},
                            scram_forged=True)
        results, log = self.drive(
            server, [{}], self.password_extra("SCRAM-SHA-256"), debug=True,
            env={"SMTP_PW": "Geheim 42!"})
        self.assertOutcome(results[0], "failed", "auth", 0)
        self.assertIn("SCRAM-SHA-256 failed on the client side",
                      results[0]["text"])
        self.assertIn("*", server.commands)
        self.assertEqual(self.mail_commands(server), [])

    def test_xoauth2_client_credentials_from_token_endpoint(self):
        with TokenServer() as tokens:
            extra = ("user = qm@werk.example\nauth_mechanisms = XOAUTH2\n"
                     "oauth_token_url = %s\noauth_client_id = caqmail\n"
                     "oauth_client_secret_env = CLIENT_SECRET\n"
                     "oauth_scope = https://outlook.office365.com/.default\n"
                     % tokens.url)
            server = self.serve(auth={"XOAUTH2": True},
                                tokens={"tok-1", "tok-2"})
            env = {"CLIENT_SECRET": "s3cret"}
            results, log = self.drive(server, [{}], extra, debug=True,
                                      env=env)
            self.assertOutcome(results[0], "sent", "none")
            self.assertEqual(tokens.requests[0]["grant_type"],
                             "client_credentials")
            self.assertEqual(tokens.requests[0]["scope"],
                             "https://outlook.office365.com/.default")
            self.assertNotIn("tok-1", log)
            self.assertNotIn("s3cret", log)
            # The token is cached: a second run asks the endpoint nothing.
            results, _ = self.drive(server, [{}], extra, env=env)
            self.assertOutcome(results[0], "sent", "none")
            self.assertEqual(len(tokens.requests), 1)
            cache = os.path.join(self.box.path("data"), "oauth")
            for name in os.listdir(cache):
                mode = os.stat(os.path.join(cache, name)).st_mode & 0o777
                self.assertEqual(mode, 0o600)

    def test_xoauth2_refresh_token_grant_and_rotation(self):
        with TokenServer(refresh_token="refresh-0", expires_in=30) as tokens:
            extra = ("user = qm@werk.example\nauth_mechanisms = XOAUTH2\n"
                     "oauth_token_url = %s\noauth_client_id = caqmail\n"
                     "oauth_refresh_token_env = REFRESH\n" % tokens.url)
            server = self.serve(auth={"XOAUTH2": True},
                                tokens={"tok-1", "tok-2"})
            env = {"REFRESH": "refresh-0"}
            results, _ = self.drive(server, [{}], extra, env=env)
            self.assertOutcome(results[0], "sent", "none")
            self.assertEqual(tokens.requests[0]["grant_type"],
                             "refresh_token")
            # expires_in 30 s is within the margin: a new token is asked
            # for, with the refresh token the endpoint rotated to.
            results, _ = self.drive(server, [{}], extra, env=env)
            self.assertOutcome(results[0], "sent", "none")
            self.assertEqual(tokens.requests[1]["refresh_token"],
                             "refresh-1")

    def test_token_endpoint_refusal_fails_auth(self):
        with TokenServer() as tokens:
            extra = ("user = qm@werk.example\nauth_mechanisms = XOAUTH2\n"
                     "oauth_token_url = %s\noauth_client_id = caqmail\n"
                     "oauth_client_secret_env = CLIENT_SECRET\n"
                     % tokens.url)
            server = self.serve(auth={"XOAUTH2": True}, tokens={"tok-1"})
            results, _ = self.drive(server, [{}], extra,
                                    env={"CLIENT_SECRET": "wrong"})
            self.assertOutcome(results[0], "failed", "auth", 0)
            self.assertIn("401", results[0]["text"])
            self.assertEqual(server.auth_results, [])


class TransactionTest(FaultTest):

    def test_451_and_550_at_mail(self):
        for reply, outcome in (("451 4.3.0 try again", "deferred"),
                               ("550 5.7.1 sender refused", "failed")):
            with self.subTest(reply=reply):
                server = self.serve(mail_reply=reply)
                r = self.send_one(server)
                self.assertOutcome(r, outcome, "sender", int(reply[:3]))
                self.assertEqual(r["rcpts"][0]["stage"], "sender")
                self.assertEqual(server.messages, [])
                self.assertIn("RSET", server.commands)

    def test_mixed_rcpt_replies(self):
        server = self.serve(rcpt_replies={
            "later@werk.example": "450 4.2.1 mailbox busy",
            "nobody@werk.example": "550 5.1.1 no such user"})
        r = self.send_one(server, to=["a@werk.example",
                                      "later@werk.example",
                                      "nobody@werk.example"])
        self.assertOutcome(r, "partly-sent", "none", 250)
        got = [(x["address"], x["status"], x["code"], x["enhanced"])
               for x in r["rcpts"]]
        self.assertEqual(got, [
            ("a@werk.example", "accepted", 250, "2.1.5"),
            ("later@werk.example", "temporary", 450, "4.2.1"),
            ("nobody@werk.example", "permanent", 550, "5.1.1")])
        self.assertEqual(server.messages[0]["rcpts"],
                         ["RCPT TO:<a@werk.example>"])

    def test_all_recipients_refused_then_next_message(self):
        server = self.serve(rcpt_replies={
            "x@werk.example": "450 4.2.1 busy",
            "y@werk.example": "550 5.1.1 unknown"})
        results, _ = self.drive(server, [
            {"to": ["x@werk.example", "y@werk.example"]},
            {"to": ["a@werk.example"]}])
        self.assertOutcome(results[0], "deferred", "recipient", 450)
        self.assertOutcome(results[1], "sent", "none", 250)
        self.assertEqual(len(server.messages), 1)
        self.assertEqual(server.connections, 1)

    def test_552_and_451_after_dot(self):
        for reply, outcome in (("552 5.3.4 message too big", "failed"),
                               ("451 4.3.0 local error", "deferred")):
            with self.subTest(reply=reply):
                server = self.serve(dot_replies=[reply])
                r = self.send_one(server, to=["a@werk.example",
                                              "b@werk.example"])
                self.assertOutcome(r, outcome, "data", int(reply[:3]))
                status = "permanent" if outcome == "failed" else "temporary"
                self.assertEqual([x["status"] for x in r["rcpts"]],
                                 [status, status])
                self.assertEqual(r["rcpts"][0]["stage"], "data")

    def test_connection_cut_during_data(self):
        # Large enough that the cut comes while the client still writes.
        big = MESSAGE + (b"x" * 998 + b"\r\n") * 20000
        server = self.serve(cut_during_data=True, ehlo=["PIPELINING"])
        r = self.send_one(server, data=big)
        self.assertOutcome(r, "deferred", "data", 0)
        self.assertEqual(r["rcpts"][0]["status"], "temporary")

    def test_silence_after_final_dot_is_uncertain(self):
        server = self.serve(silent_after_dot=True)
        r = self.send_one(server, "timeout_dot = 1s\n")
        self.assertOutcome(r, "uncertain", "data", 0)
        self.assertEqual(r["rcpts"][0]["status"], "uncertain")
        self.assertEqual(len(server.messages), 1)

    def test_slow_server_times_out(self):
        server = self.serve(delay={"MAIL": 3})
        r = self.send_one(server, "timeout_mail = 1s\n")
        self.assertOutcome(r, "deferred", "sender", 0)
        self.assertIn("no answer", r["text"])

    def test_size_exceeded_is_refused_before_mail(self):
        server = self.serve(ehlo=["PIPELINING", "SIZE 100"])
        r = self.send_one(server)
        self.assertOutcome(r, "failed", "sender", 0)
        self.assertEqual(r["enhanced"], "5.3.4")
        self.assertEqual(self.mail_commands(server), [])

    def test_size_announced(self):
        server = self.serve()
        self.send_one(server)
        self.assertEqual(self.mail_commands(server),
                         ["MAIL FROM:<qm@werk.example> SIZE=%d"
                          % len(MESSAGE)])

    def test_new_connection_when_server_closes(self):
        server = self.serve(close_after_messages=1)
        results, _ = self.drive(server, [{}, {}, {}], mode="each")
        self.assertEqual([r["outcome"] for r in results], ["sent"] * 3)
        self.assertEqual(len(server.messages), 3)
        self.assertEqual(server.connections, 3)

    def test_parallel_connections(self):
        server = self.serve()
        to = [["r%d@werk.example" % i] for i in range(100)]
        results, _ = self.drive(server, [{"to": t} for t in to],
                                "connections = 3\n", mode="parallel")
        self.assertEqual([r["outcome"] for r in results], ["sent"] * 100)
        self.assertEqual([r["rcpts"][0]["address"] for r in results],
                         [t[0] for t in to])
        self.assertEqual(len(server.messages), 100)
        self.assertEqual(server.connections, 3)

    def test_dot_stuffing_round_trip(self):
        server = self.serve()
        self.send_one(server)
        self.assertEqual(server.messages[0]["data"], MESSAGE)


class ExtensionTest(FaultTest):

    def test_8bitmime_offered_sends_body_as_is(self):
        server = self.serve()
        r = self.send_one(server, data=MESSAGE_8BIT, **{"8bit": True})
        self.assertOutcome(r, "sent", "none")
        self.assertFalse(r["downgraded"])
        self.assertIn(" BODY=8BITMIME", self.mail_commands(server)[0])
        self.assertEqual(server.messages[0]["data"], MESSAGE_8BIT)

    def test_8bitmime_missing_downgrades_to_7bit(self):
        server = self.serve(ehlo=["PIPELINING", "SIZE 1000000"])
        r = self.send_one(server, data=MESSAGE_8BIT, **{"8bit": True})
        self.assertOutcome(r, "sent", "none")
        self.assertTrue(r["downgraded"])
        self.assertNotIn("BODY=", self.mail_commands(server)[0])
        data = server.messages[0]["data"]
        self.assertTrue(all(b < 0x80 for b in data))
        msg = email.message_from_bytes(data, policy=email.policy.default)
        # Text in base64 or quoted-printable keeps its CRLF (RFC 2045).
        self.assertEqual(msg.get_content().replace("\r\n", "\n"),
                         "Grüße aus dem Qualitätswesen\n")
        self.assertNotEqual(msg["content-transfer-encoding"], "8bit")

    def test_smtputf8_needed_and_offered(self):
        server = self.serve()
        r = self.send_one(server, to=["jürgen@werk.example"])
        self.assertOutcome(r, "sent", "none")
        self.assertTrue(self.mail_commands(server)[0].endswith(" SMTPUTF8"))

    def test_smtputf8_needed_and_missing(self):
        server = self.serve(ehlo=["PIPELINING", "8BITMIME"])
        r = self.send_one(server, to=["jürgen@werk.example"])
        self.assertOutcome(r, "failed", "sender", 0)
        self.assertEqual(r["enhanced"], "5.6.7")
        self.assertEqual(r["rcpts"][0]["status"], "permanent")
        self.assertEqual(self.mail_commands(server), [])

    DSN_MESSAGE = {"envid": "Q-2026+42", "notify": "success,failure",
                   "ret": "hdrs", "orcpt": ["orig@werk.example"]}

    def test_dsn_parameters_when_offered(self):
        server = self.serve()
        self.send_one(server, **self.DSN_MESSAGE)
        self.assertEqual(self.mail_commands(server)[0],
                         "MAIL FROM:<qm@werk.example> SIZE=%d RET=HDRS "
                         "ENVID=Q-2026+2B42" % len(MESSAGE))
        rcpt = [c for c in server.commands if c.startswith("RCPT")]
        self.assertEqual(rcpt, ["RCPT TO:<a@werk.example> NOTIFY=SUCCESS,"
                                "FAILURE ORCPT=rfc822;orig@werk.example"])

    def test_dsn_parameters_absent_when_not_offered(self):
        server = self.serve(ehlo=["PIPELINING", "8BITMIME"])
        r = self.send_one(server, **self.DSN_MESSAGE)
        self.assertOutcome(r, "sent", "none")
        self.assertEqual(self.mail_commands(server),
                         ["MAIL FROM:<qm@werk.example>"])
        self.assertEqual([c for c in server.commands
                          if c.startswith("RCPT")],
                         ["RCPT TO:<a@werk.example>"])


class TranscriptTest(FaultTest):
    """The exact commands of a session, grouped as the client sent them
    between two waits for replies."""

    def test_pipelined_batch(self):
        server = self.serve(settle=0.1)
        results, _ = self.drive(server, [
            {"to": ["a@werk.example", "b@werk.example"]},
            {"from": "", "to": ["c@werk.example"]}],
            "helo_name = client.werk.example\n")
        self.assertEqual([r["outcome"] for r in results], ["sent", "sent"])
        size = len(MESSAGE)
        self.assertEqual(server.groups, [
            ["EHLO client.werk.example"],
            ["MAIL FROM:<qm@werk.example> SIZE=%d" % size,
             "RCPT TO:<a@werk.example>",
             "RCPT TO:<b@werk.example>",
             "DATA"],
            ["<message of 10 lines>", ".",
             "MAIL FROM:<> SIZE=%d" % size,
             "RCPT TO:<c@werk.example>",
             "DATA"],
            ["<message of 10 lines>", "."],
            ["QUIT"],
        ])

    def test_without_pipelining(self):
        server = self.serve(settle=0.1, ehlo=["8BITMIME"])
        results, _ = self.drive(server, [{}, {}],
                                "helo_name = client.werk.example\n")
        self.assertEqual([r["outcome"] for r in results], ["sent", "sent"])
        message = ["MAIL FROM:<qm@werk.example>"], \
            ["RCPT TO:<a@werk.example>"], ["DATA"], \
            ["<message of 10 lines>", "."]
        self.assertEqual(server.groups, [["EHLO client.werk.example"]] +
                         list(message) * 2 + [["QUIT"]])


class CommandLineTest(FaultTest):

    def test_send_through_smtp(self):
        server = self.serve()
        self.config(server)
        proc = self.box.run("send", "--from", "qm@werk.example", "--to",
                            "a@werk.example", "--subject", "Prüfung",
                            "--body", "Grüße\n", check=0)
        self.assertEqual(len(server.messages), 1, proc.stderr)
        msg = email.message_from_bytes(server.messages[0]["data"],
                                       policy=email.policy.default)
        self.assertEqual(msg["subject"], "Prüfung")
        self.assertEqual(msg.get_content(), "Grüße\r\n")
        # 8BITMIME was offered: the text went as 8bit.
        self.assertIn(" BODY=8BITMIME", self.mail_commands(server)[0])

    def test_send_composes_7bit_without_8bitmime(self):
        server = self.serve(ehlo=["PIPELINING"])
        self.config(server)
        self.box.run("send", "--from", "qm@werk.example", "--to",
                     "a@werk.example", "--body", "Grüße\n", check=0)
        data = server.messages[0]["data"]
        self.assertTrue(all(b < 0x80 for b in data))

    def test_send_partly_refused_exits_nonzero(self):
        server = self.serve(rcpt_replies={
            "nobody@werk.example": "550 5.1.1 no such user"})
        self.config(server)
        proc = self.box.run("send", "--from", "qm@werk.example", "--to",
                            "a@werk.example", "--to", "nobody@werk.example",
                            "--body", "x")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("nobody@werk.example", proc.stderr)
        self.assertIn("550", proc.stderr)
        self.assertEqual(len(server.messages), 1)

    def test_smtp_check(self):
        cert = CA.issue("check", ["IP:127.0.0.1"])
        server = self.serve(starttls=True, cert=cert, auth={"PLAIN": True},
                            users={"u": "pw"})
        self.config(server, "tls = starttls\nca_file = %s\nuser = u\n"
                    "password_env = PW\n" % CA.cert)
        proc = self.box.run("smtp-check", env={"PW": "pw"}, check=0)
        out = proc.stdout
        self.assertIn("fault.test ESMTP scripted", out)
        self.assertRegex(out, r"tls: +TLSv1\.[23], ")
        self.assertIn("CN=check", out)
        self.assertIn("PIPELINING", out)
        self.assertIn("PLAIN as 'u' succeeded", out)
        self.assertEqual(server.messages, [])
        proc = self.box.run("smtp-check", env={"PW": "wrong"})
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("auth:", proc.stdout)
        self.assertIn("535", proc.stdout)


if __name__ == "__main__":
    unittest.main()
