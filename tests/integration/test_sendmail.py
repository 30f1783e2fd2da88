"""caqmail as sendmail: the invocations of cron, bsd-mailx, PHP's mail()
and git send-email, through caqmail to a private Postfix on loopback; the
mail that arrives is read with Python's email package and must be the
message as given, apart from the headers a submission adds.  Bad input
gets sendmail's exit code and queues nothing."""

import email.policy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "servers"))

from caqtest import CAQMAIL, Sandbox, parse  # noqa: E402
from postfix import private_postfix, strip_delivery_headers  # noqa: E402

EX_USAGE, EX_DATAERR, EX_NOINPUT = 64, 65, 66

CRON_MAIL = (
    "From: root (Cron Daemon)\n"
    "To: qm@werk.example\n"
    "Cc: Jürgen Müller <jm@werk.example>\n"
    "Subject: Cron <root@werk> /usr/local/bin/kalibrierung --check\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=UTF-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "X-Cron-Env: <SHELL=/bin/sh>\n"
    "\n"
    "3 Prüfmittel überfällig: PM-0815, PM-0816, PM-0817\n"
    ".\n"
    "..zwei Punkte\n")

GIT_MAIL = (
    "From: Jürgen Müller <jm@werk.example>\r\n"
    "To: qm@werk.example\r\n"
    "Subject: [PATCH] Prüfplan: Toleranz korrigiert\r\n"
    "Date: Thu, 3 Dec 2026 10:00:00 +0100\r\n"
    "Message-ID: <20261203090000.1234-1-jm@werk.example>\r\n"
    "X-Mailer: git-send-email 2.39.5\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n"
    "\r\n"
    "---\r\n"
    " pruefplan.txt | 2 +-\r\n"
    ".\r\n"
    "-Toleranz 0,1 mm\r\n"
    "+Toleranz 0,05 mm\r\n")


class SendmailTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="caqmail-sendmail-")
        os.chmod(cls.root, 0o755)
        cls.postfix, cls.cert = private_postfix(cls.root)
        cls.addClassCleanup(shutil.rmtree, cls.root, True)
        cls.addClassCleanup(cls.postfix.stop)
        cls.postfix.start()
        # The binary called as sendmail, as a link in /usr/sbin would be.
        cls.sendmail_path = os.path.join(cls.root, "bin", "sendmail")
        os.makedirs(os.path.dirname(cls.sendmail_path))
        os.symlink(os.path.abspath(CAQMAIL), cls.sendmail_path)

    def setUp(self):
        self.box = Sandbox()
        self.addCleanup(self.box.close)
        self.seen = len(self.postfix.delivered())
        self.write_config()

    def write_config(self, extra=""):
        self.box.write_config(
            "[message]\nfrom = QM <qm@werk.example>\n\n"
            "[smtp]\nhost = 127.0.0.1\nport = %d\ntls = starttls\n"
            "ca_file = %s\nhelo_name = client.werk.example\n%s"
            % (self.postfix.port, self.cert, extra))

    def sendmail(self, *args, stdin=b"", env=None):
        if isinstance(stdin, str):
            stdin = stdin.encode()
        return subprocess.run([self.sendmail_path] + list(args),
                              input=stdin, capture_output=True,
                              env=self.box.env(env), timeout=120,
                              cwd=self.box.root)

    def new_mail(self, count):
        got = self.postfix.wait_for_mail(self.seen + count)
        self.seen += count
        return got[-count:]

    def history(self):
        proc = self.box.run("history", "list", "--json", check=0)
        return json.loads(proc.stdout)

    def shown(self, mail_id):
        proc = self.box.run("history", "show", str(mail_id), "--json",
                            check=0)
        return json.loads(proc.stdout)

    def assert_ok(self, proc):
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())

    def test_cron_takes_recipients_from_the_header(self):
        # Debian's cron: sendmail -FCronDaemon -i -B8BITMIME -oem -oi -t
        proc = self.sendmail("-FCronDaemon", "-i", "-B8BITMIME", "-oem",
                             "-oi", "-t", stdin=CRON_MAIL)
        self.assert_ok(proc)
        arrived = self.new_mail(2)
        wanted = {"qm@werk.example", "jm@werk.example"}
        self.assertEqual({parse(m)["X-Original-To"] for m in arrived},
                         wanted)
        msg = parse(arrived[0])
        self.assertEqual(msg.get_content(),
                         "3 Prüfmittel überfällig: PM-0815, PM-0816, "
                         "PM-0817\n.\n..zwei Punkte\n")
        self.assertEqual(msg["Cc"], "Jürgen Müller <jm@werk.example>")
        self.assertIsNotNone(msg["Date"])
        self.assertRegex(msg["Message-ID"], r"^<[^<>@]+@werk\.example>$")
        # given headers stay as they were, in their order, before the
        # ones added; Postfix itself qualifies cron's "From: root"
        given = CRON_MAIL.replace("\n", "\r\n").encode()
        head, body = given.split(b"\r\n\r\n", 1)
        sent = strip_delivery_headers(arrived[0])
        sent_head, sent_body = sent.split(b"\r\n\r\n", 1)
        self.assertEqual(sent_body, body)
        self.assertEqual(sent_head.split(b"\r\n")[1:8],
                         head.split(b"\r\n")[1:])
        self.assertTrue(sent.startswith(b"From: root@postfix.test (Cron "
                                        b"Daemon)\r\n"), sent)
        mails = self.history()
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails[0]["state"], "sent")
        self.assertEqual(mails[0]["origin"], "sendmail")
        self.assertEqual(mails[0]["subject"],
                         "Cron <root@werk> /usr/local/bin/kalibrierung "
                         "--check")
        rcpts = self.shown(mails[0]["id"])["recipients"]
        self.assertEqual({(r["kind"], r["address"], r["status"])
                          for r in rcpts},
                         {("to", "qm@werk.example", "accepted"),
                          ("cc", "jm@werk.example", "accepted")})

    def test_mailx_sends_through_caqmail(self):
        mailrc = self.box.write("mailrc",
                                "set sendmail=%s\n" % self.sendmail_path)
        body = "Der Prüfbericht liegt vor.\n.\nGruß\n"
        proc = subprocess.run(
            ["mailx", "-s", "8D-2026-0042: Prüfbericht", "qm@werk.example"],
            input=body.encode(), capture_output=True,
            env=self.box.env({"MAILRC": mailrc}), timeout=120,
            cwd=self.box.root)
        self.assert_ok(proc)
        msg = parse(self.new_mail(1)[0])
        self.assertEqual(msg["To"], "qm@werk.example")
        self.assertEqual(msg["From"], "QM <qm@werk.example>")
        self.assertEqual(msg.get_content(), body)
        mails = self.history()
        self.assertEqual([m["state"] for m in mails], ["sent"])
        self.assertEqual(mails[0]["from"], "QM <qm@werk.example>")
        self.assertEqual(mails[0]["subject"], "8D-2026-0042: Prüfbericht")

    def test_git_send_email_message_arrives_byte_for_byte(self):
        proc = self.sendmail("-i", "-f", "jm@werk.example",
                             "qm@werk.example", stdin=GIT_MAIL)
        self.assert_ok(proc)
        arrived = self.new_mail(1)[0]
        self.assertEqual(strip_delivery_headers(arrived), GIT_MAIL.encode())
        self.assertIn(b"Return-Path: <jm@werk.example>", arrived)
        mail = self.history()[0]
        self.assertEqual(mail["message_id"],
                         "20261203090000.1234-1-jm@werk.example")

    def test_php_mail_with_from_and_bcc_headers(self):
        # PHP's mail(): sendmail -t -i, the extra headers as given
        message = ("To: qm@werk.example\nSubject: Reklamation\n"
                   "From: Portal <portal@werk.example>\n"
                   "Bcc: archiv@werk.example\n\nText\n")
        proc = self.sendmail("-t", "-i", "-f", "portal@werk.example",
                             stdin=message)
        self.assert_ok(proc)
        arrived = self.new_mail(2)
        self.assertEqual({parse(m)["X-Original-To"] for m in arrived},
                         {"qm@werk.example", "archiv@werk.example"})
        for raw in arrived:
            self.assertNotIn(b"archiv@", strip_delivery_headers(raw))
            self.assertEqual(parse(raw)["From"],
                             "Portal <portal@werk.example>")

    def test_a_dot_ends_the_message_unless_i(self):
        message = "To: qm@werk.example\nSubject: Punkt\n\nvorher\n.\nnachher\n"
        self.assert_ok(self.sendmail("-t", stdin=message))
        self.assertEqual(parse(self.new_mail(1)[0]).get_content(),
                         "vorher\n")
        self.assert_ok(self.sendmail("-t", "-oi", stdin=message))
        self.assertEqual(parse(self.new_mail(1)[0]).get_content(),
                         "vorher\n.\nnachher\n")

    def test_record_and_queue_only_from_the_configuration(self):
        self.write_config("\n[sendmail]\nrecord = AUDIT-2026-07\n")
        message = "Subject: Audit\n\nBericht\n"
        proc = self.sendmail("-odq", "--", "qm@werk.example", stdin=message)
        self.assert_ok(proc)
        mails = self.history()
        self.assertEqual([(m["state"], m["record"]) for m in mails],
                         [("queued", "AUDIT-2026-07")])
        self.box.run("deliver", "--once", check=0)
        self.assertEqual(parse(self.new_mail(1)[0])["Subject"], "Audit")
        self.write_config("\n[sendmail]\ndeliver = false\n")
        self.assert_ok(self.sendmail("qm@werk.example", stdin=message))
        self.assertEqual([m["state"] for m in self.history()],
                         ["sent", "queued"])

    def test_bad_input_gets_sendmail_exit_codes_and_queues_nothing(self):
        long_line = "X-Long: " + "a" * 991 + "\n"
        cases = [
            ("empty", [], b"", EX_NOINPUT, "the message is empty"),
            ("blank", ["-t"], b"\n\n", EX_NOINPUT, "the message is empty"),
            ("no recipient", ["-t"], b"Subject: x\n\nbody\n", EX_USAGE,
             "no recipient"),
            ("no recipient without -t", [], b"To: a@werk.example\n\nb\n",
             EX_USAGE, "no recipient"),
            ("long header line", ["qm@werk.example"],
             (long_line + "\nbody\n").encode(), EX_DATAERR,
             "header line 1 ('X-Long'): 999 octets"),
            ("long continuation", ["qm@werk.example"],
             ("Subject: x\n " + "b" * 998 + "\n\nbody\n").encode(),
             EX_DATAERR, "header line 2 ('Subject')"),
            ("latin-1 header", ["qm@werk.example"],
             b"Subject: Pr\xfcfbericht\n\nbody\n", EX_DATAERR,
             "header line 1 ('Subject'): not UTF-8"),
            ("bad recipient", ["qm@@werk"], b"Subject: x\n\nb\n",
             EX_DATAERR, "qm@@werk"),
            ("bad -t recipient", ["-t"], b"To: <a@werk\n\nb\n", EX_DATAERR,
             "header 'To'"),
            ("unknown option", ["-X", "qm@werk.example"], b"b\n", EX_USAGE,
             "unknown option '-X'"),
            ("mode", ["-bp"], b"", EX_USAGE, "mode '-bp' is not supported"),
            ("missing value", ["-f"], b"b\n", EX_USAGE,
             "option '-f' needs a value"),
        ]
        for name, args, stdin, code, words in cases:
            with self.subTest(name):
                proc = self.sendmail(*args, stdin=stdin)
                self.assertEqual(proc.returncode, code, proc.stderr)
                self.assertIn(words, proc.stderr.decode())
        self.assertEqual(self.history(), [])

    def test_a_message_over_the_size_limit_is_refused(self):
        self.write_config("\n[message]\nmax_message_size = 1k\n")
        proc = self.sendmail("qm@werk.example",
                             stdin="Subject: x\n\n" + "y" * 1100)
        self.assertEqual(proc.returncode, EX_DATAERR, proc.stderr)
        self.assertIn(b"max_message_size", proc.stderr)
        self.assertEqual(self.history(), [])

    def test_a_header_line_of_998_octets_is_taken(self):
        line = "X-Long: " + "a" * 990
        message = "%s\nSubject: lang\n\nbody\n" % line
        self.assert_ok(self.sendmail("qm@werk.example", stdin=message))
        self.assertIn(line.encode() + b"\r\n",
                      strip_delivery_headers(self.new_mail(1)[0]))

    def test_help_and_the_command_form(self):
        proc = self.sendmail("--help")
        self.assert_ok(proc)
        self.assertIn(b"-t ", proc.stdout)
        proc = self.box.run("sendmail", "-t",
                            stdin=b"To: qm@werk.example\nSubject: s\n\nb\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(parse(self.new_mail(1)[0])["Subject"], "s")


if __name__ == "__main__":
    unittest.main()
