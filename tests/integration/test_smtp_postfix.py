"""caqmail's SMTP client against a real Postfix (Debian's package) in a
private configuration on loopback: plain, STARTTLS and implicit TLS, AUTH
on a submission port, and per-recipient replies from Postfix's access
table.  What Postfix delivered is read back from its Maildir and compared
byte for byte with what caqmail composed."""

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
from postfix import private_postfix, strip_delivery_headers  # noqa: E402

DRIVER = os.environ.get("SMTP_DRIVER", "smtp-driver")


class PostfixTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="caqmail-postfix-")
        os.chmod(cls.root, 0o755)
        cls.postfix, cls.cert = private_postfix(cls.root)
        cls.addClassCleanup(subprocess.run, ["rm", "-rf", cls.root])
        cls.addClassCleanup(cls.postfix.stop)
        cls.postfix.start()

    def setUp(self):
        self.box = Sandbox()
        self.addCleanup(self.box.close)
        self.seen = len(self.postfix.delivered())

    def write_config(self, port, tls, extra=""):
        return self.box.write_config(
            "[general]\ndata_dir = %s\n\n[message]\nfrom = QM "
            "<qm@werk.example>\n\n[smtp]\nhost = 127.0.0.1\nport = %d\n"
            "tls = %s\nca_file = %s\nhelo_name = client.werk.example\n%s"
            % (self.box.path("data"), port, tls, self.cert, extra))

    def compose(self, *args):
        """A message as caqmail composes it (canonical, CRLF)."""
        proc = self.box.run("send", "--to", "a@werk.example", "--print",
                            *args, check=0, binary=True)
        return proc.stdout.replace(b"\n", b"\r\n")

    def drive(self, config, messages, env=None):
        jobs = []
        for i, (raw, to) in enumerate(messages):
            path = self.box.write("msg-%d.eml" % i, raw)
            jobs.append({"from": "qm@werk.example", "to": to, "file": path,
                         "8bit": b"8bit" in raw})
        proc = subprocess.run(
            [DRIVER, config],
            input=json.dumps({"mode": "batch", "messages": jobs}).encode(),
            capture_output=True, env=self.box.env(env), timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        return json.loads(proc.stdout)

    def new_mail(self, count):
        got = self.postfix.wait_for_mail(self.seen + count)
        return got[self.seen:]

    def sample(self):
        body = self.box.write("text.txt",
                              "Grüße aus der Qualitätssicherung\n"
                              ".Zeile mit Punkt\n\n..zwei Punkte\n")
        report = self.box.write("Prüfbericht.csv", "Maß;Wert\n" * 5000)
        return self.compose("--subject", "8D-2026-0042: Prüfbericht",
                            "--body-file", body, "--attach", report)

    def test_plain_starttls_and_implicit_tls_byte_for_byte(self):
        cases = [("plain", self.postfix.port, "none"),
                 ("starttls", self.postfix.port, "starttls"),
                 ("implicit", self.postfix.smtps_port, "implicit")]
        for name, port, tls in cases:
            with self.subTest(tls=name):
                raw = self.sample()
                config = self.write_config(port, tls, "tls_required = %s\n"
                                           % ("no" if tls == "none"
                                              else "yes"))
                results = self.drive(config, [(raw, ["a@werk.example"])])
                self.assertEqual(results[0]["outcome"], "sent", results)
                self.assertRegex(results[0]["text"], "queued as")
                delivered = self.new_mail(1)[0]
                self.seen += 1
                self.assertEqual(strip_delivery_headers(delivered), raw)
                protocol = b"ESMTP" if tls == "none" else b"ESMTPS"
                self.assertIn(b"with %s id" % protocol, delivered)

    def test_batch_on_one_connection(self):
        raws = [self.compose("--subject", "Mail %d" % i, "--body", "x" * i)
                for i in range(1, 6)]
        config = self.write_config(self.postfix.port, "starttls")
        results = self.drive(config, [(r, ["a@werk.example"]) for r in raws])
        self.assertEqual([r["outcome"] for r in results], ["sent"] * 5)
        delivered = sorted(strip_delivery_headers(d)
                           for d in self.new_mail(5))
        self.assertEqual(delivered, sorted(raws))

    def test_recipient_replies_from_access_table(self):
        raw = self.compose("--subject", "Verteiler", "--body", "x")
        config = self.write_config(self.postfix.port, "starttls")
        to = ["a@werk.example", "reject550@werk.example",
              "defer450@werk.example"]
        r = self.drive(config, [(raw, to)])[0]
        self.assertEqual(r["outcome"], "partly-sent", r)
        got = [(x["status"], x["code"], x["enhanced"]) for x in r["rcpts"]]
        self.assertEqual(got, [("accepted", 250, "2.1.5"),
                               ("permanent", 550, "5.1.1"),
                               ("temporary", 450, "4.2.1")])
        self.assertIn("no such mailbox", r["rcpts"][1]["text"])
        delivered = self.new_mail(1)[0]
        self.assertIn(b"Delivered-To: a@werk.example", delivered)

    def test_421_for_a_recipient_defers_the_message(self):
        raw = self.compose("--subject", "421", "--body", "x")
        config = self.write_config(self.postfix.port, "starttls")
        r = self.drive(config, [(raw, ["a@werk.example",
                                       "close421@werk.example"])])[0]
        self.assertEqual((r["outcome"], r["stage"], r["code"]),
                         ("deferred", "recipient", 421), r)
        self.assertEqual([x["status"] for x in r["rcpts"]],
                         ["temporary", "temporary"])

    def test_send_with_auth_on_submission_port(self):
        config = self.write_config(
            self.postfix.submission_port, "starttls",
            "user = %s\npassword_env = SMTP_PASSWORD\n" % self.postfix.user)
        body = "Grüße, das Qualitätswesen\n"
        proc = self.box.run("send", "--to", "Jürgen <jm@werk.example>",
                            "--subject", "Maßnahme überfällig", "--body",
                            body, "--debug",
                            env={"SMTP_PASSWORD": self.postfix.password})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn(self.postfix.password, proc.stderr)
        self.assertIn("AUTH PLAIN ****", proc.stderr)
        delivered = self.new_mail(1)[0]
        msg = email.message_from_bytes(delivered,
                                       policy=email.policy.default)
        self.assertEqual(msg["subject"], "Maßnahme überfällig")
        self.assertEqual(msg.get_content(), body)
        self.assertEqual(msg["to"].addresses[0].display_name, "Jürgen")
        self.assertIn(b"with ESMTPSA", delivered)

    def test_submission_refuses_wrong_password(self):
        config = self.write_config(
            self.postfix.submission_port, "starttls",
            "user = %s\npassword_env = SMTP_PASSWORD\n" % self.postfix.user)
        r = self.drive(config, [(self.compose("--body", "x"),
                                 ["a@werk.example"])],
                       env={"SMTP_PASSWORD": "falsch"})[0]
        self.assertEqual((r["outcome"], r["stage"], r["code"]),
                         ("failed", "auth", 535), r)

    def test_smtp_check_on_submission_port(self):
        self.write_config(
            self.postfix.submission_port, "starttls",
            "user = %s\npassword_env = SMTP_PASSWORD\n" % self.postfix.user)
        proc = self.box.run("smtp-check",
                            env={"SMTP_PASSWORD": self.postfix.password})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("postfix.test ESMTP caqmail test", proc.stdout)
        self.assertIn("CN=postfix.test", proc.stdout)
        self.assertIn("AUTH PLAIN LOGIN", proc.stdout)
        self.assertRegex(proc.stdout, r"auth: +PLAIN as '.*' succeeded")


if __name__ == "__main__":
    unittest.main()
