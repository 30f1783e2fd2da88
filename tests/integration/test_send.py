"""caqmail send: messages composed and delivered locally, read back with
Python's email package."""

import email
import email.header
import email.utils
import hashlib
import os
import resource
import stat
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from caqtest import POSTGRES, SANITIZED, SandboxTest, parse  # noqa: E402

NAME = "Prüfbericht Gehäuse März – Ø 12.pdf"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def attachments(msg):
    return [p for p in msg.walk() if p.get_content_disposition() ==
            "attachment"]


class SendTest(SandboxTest):

    def send(self, *args, check=0, stdin=None):
        return self.box.run("send", "--from", "QM <qm@werk.example>", *args,
                            check=check, stdin=stdin)

    def only_message(self):
        raws = self.box.delivered()
        self.assertEqual(len(raws), 1)
        return raws[0], parse(raws[0])

    def test_umlauts_in_subject_and_names(self):
        self.send("--to", "Jürgen Müller <jm@zulieferer-süd.example>",
                  "--cc", "\"Groß, Änne\" <ag@werk.example>",
                  "--bcc", "audit@werk.example",
                  "--subject", "8D-2026-0042: Maßnahmen für „Gehäuse“",
                  "--body", "Grüße aus dem Qualitätswesen\n")
        raw, msg = self.only_message()
        self.assertEqual(msg["subject"],
                         "8D-2026-0042: Maßnahmen für „Gehäuse“")
        to = msg["to"].addresses[0]
        self.assertEqual(to.display_name, "Jürgen Müller")
        self.assertEqual(to.domain, "xn--zulieferer-sd-7ob.example")
        self.assertEqual(msg["cc"].addresses[0].display_name, "Groß, Änne")
        self.assertNotIn(b"audit@", raw)
        self.assertEqual(msg.get_content(), "Grüße aus dem Qualitätswesen\n")
        for line in raw.split(b"\n"):
            self.assertLessEqual(len(line), 998)
        header_block = raw.split(b"\n\n", 1)[0]
        self.assertTrue(header_block.isascii())
        self.assertIsNotNone(email.utils.parsedate_to_datetime(msg["date"]))
        self.assertRegex(msg["message-id"], r"^<[0-9a-f]{32}@werk\.example>$")

    def test_body_from_a_pipe(self):
        self.send("--to", "a@werk.example", "--body-file", "-",
                  stdin="Grüße über die Pipe\n".encode())
        _, msg = self.only_message()
        self.assertEqual(msg.get_content(), "Grüße über die Pipe\n")

    def test_multipart_structure_and_names(self):
        pdf = self.box.write(NAME, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        html = self.box.write("body.html", "<p>Grüße</p>\n")
        self.send("--to", "a@werk.example", "--subject", "Bericht",
                  "--body", "Text", "--html-file", html, "--attach", pdf,
                  "--record", "8D-2026-0042")
        raw, msg = self.only_message()
        self.assertEqual(msg.get_content_type(), "multipart/mixed")
        parts = msg.get_payload()
        self.assertEqual(parts[0].get_content_type(),
                         "multipart/alternative")
        kinds = [p.get_content_type() for p in parts[0].get_payload()]
        self.assertEqual(kinds, ["text/plain", "text/html"])
        self.assertEqual(parts[0].get_payload()[1].get_content(),
                         "<p>Grüße</p>\n")
        att = parts[1]
        self.assertEqual(att.get_content_type(), "application/pdf")
        # Thunderbird and the standard: RFC 2231 filename* in
        # Content-Disposition.
        self.assertRegex(raw, rb"filename\*(0\*)?=UTF-8''Pr%C3%BCfbericht")
        self.assertEqual(att.get_filename(), NAME)
        # Outlook: an RFC 2047 encoded name in Content-Type, as the raw
        # (compat32) parser sees it.
        old = email.message_from_bytes(raw).get_payload()[1]
        name = old.get_param("name", header="content-type")
        self.assertTrue(name.startswith("=?UTF-8?"), name)
        decoded = email.header.make_header(email.header.decode_header(name))
        self.assertEqual(str(decoded), NAME)
        self.assertEqual(att.get_content(), open(pdf, "rb").read())
        # Mails of one record share a thread.
        self.assertEqual(msg["references"],
                         "<caqmail.record.8D-2026-0042@werk.example>")
        self.assertEqual(msg["in-reply-to"], msg["references"])

    def test_attachment_bytes_identical(self):
        files = {
            "empty.bin": b"",
            "binary.dat": bytes(range(256)) * 64 + b"\r\n.\r\n\x00",
        }
        paths = [self.box.write(n, d) for n, d in files.items()]
        big = self.box.path("fifty.bin")
        with open(big, "wb") as f:
            f.write(os.urandom(50 * 1024 * 1024))
        paths.append(big)
        args = []
        for p in paths:
            args += ["--attach", p]
        self.send("--to", "a@werk.example", "--subject", "Dateien", *args)
        _, msg = self.only_message()
        atts = attachments(msg)
        self.assertEqual([a.get_filename() for a in atts],
                         [os.path.basename(p) for p in paths])
        for part, path in zip(atts, paths):
            got = hashlib.sha256(part.get_content()).hexdigest()
            self.assertEqual(got, sha256_file(path), path)

    def test_print_writes_message_and_delivers_nothing(self):
        proc = self.send("--to", "a@werk.example", "--subject", "Prüfung",
                         "--print")
        msg = parse(proc.stdout.encode())
        self.assertEqual(msg["subject"], "Prüfung")
        self.assertEqual(self.box.delivered(), [])

    def test_automatic_and_custom_headers(self):
        self.send("--to", "a@werk.example", "--header", "X-CAQ-Plant: Süd",
                  "--subject", "s")
        _, msg = self.only_message()
        self.assertEqual(msg["x-caq-plant"], "Süd")
        self.assertIsNone(msg["auto-submitted"])

    def test_demo_delivers_sample_mails(self):
        proc = self.box.run("demo", check=0)
        raws = self.box.delivered()
        self.assertEqual(len(raws), 3)
        self.assertIn(self.box.maildir, proc.stdout)
        subjects = {parse(r)["subject"] for r in raws}
        self.assertIn("8D-2026-0042: Sofortmaßnahmen bis 15.12.2026",
                      subjects)
        reminder = [parse(r) for r in raws
                    if parse(r)["auto-submitted"] == "auto-generated"]
        self.assertEqual(len(reminder), 1)


class BadInputTest(SandboxTest):
    """Bad input: a clear message, exit code from sysexits.h, no output."""

    def refuse(self, args, code, words, extra=()):
        proc = self.box.run("send", "--from", "qm@werk.example", *args,
                            prefix=extra)
        self.assertEqual(proc.returncode, code, proc.stderr)
        self.assertIn(words, proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertEqual(self.box.delivered(), [])
        self.assertEqual(self.box.leftovers(), [])
        return proc

    def test_line_break_in_subject(self):
        self.refuse(["--to", "a@werk.example", "--subject",
                     "Hallo\r\nBcc: victim@evil.example"], 65,
                    "subject: contains a line break")
        self.refuse(["--to", "a@werk.example", "--subject", "a\nb",
                     "--print"], 65, "line break")

    def test_line_break_in_display_name(self):
        self.refuse(["--to", "Evil\r\nBcc: x@evil.example <a@werk.example>"],
                    65, "line break")
        self.refuse(["--to", "=?UTF-8?Q?a=0D=0AX-Evil=3A_1?= <a@w.example>"],
                    65, "line break")

    def test_invalid_addresses(self):
        for bad in ["no-at-sign", "a@b@c.example", "a@-bad.example",
                    "a..b@werk.example", "Name <a@werk.example"]:
            with self.subTest(address=bad):
                self.refuse(["--to", bad], 65, "address '")
        self.refuse(["--to", "a@werk.example", "--from", "x"], 65,
                    "sender: address 'x'")

    def test_missing_attachment(self):
        self.refuse(["--to", "a@werk.example", "--attach",
                     self.box.path("Prüfbericht.docx")], 66,
                    "attachment '%s': no such file"
                    % self.box.path("Prüfbericht.docx"))

    def test_directory_as_attachment(self):
        os.makedirs(self.box.path("folder"))
        self.refuse(["--to", "a@werk.example", "--attach",
                     self.box.path("folder")], 66, "is a folder")

    def test_unreadable_attachment(self):
        path = self.box.write("secret.pdf", b"%PDF", mode=0o000)
        if os.getuid() == 0:
            # root reads everything: check as an unprivileged user.
            extra = ["setpriv", "--reuid=nobody", "--regid=nogroup",
                     "--clear-groups"]
            os.chmod(self.box.home, 0o777)
        else:
            extra = []
        proc = self.refuse(["--to", "a@werk.example", "--attach", path,
                            "--print"], 66, "Permission denied", extra)
        self.assertIn("attachment '%s'" % path, proc.stderr)

    def test_no_recipient(self):
        self.refuse(["--subject", "x"], 65, "no recipient")

    def test_reserved_header(self):
        self.refuse(["--to", "a@werk.example", "--header", "Bcc: x@y.z"], 65,
                    "written by caqmail itself")

    def test_invalid_utf8_body_file(self):
        path = self.box.write("latin1.txt", "Grüße".encode("latin-1"))
        self.refuse(["--to", "a@werk.example", "--body-file", path], 65,
                    "not valid UTF-8")

    def test_folder_as_body_file(self):
        os.makedirs(self.box.path("folder"))
        self.refuse(["--to", "a@werk.example", "--body-file",
                     self.box.path("folder")], 66, "Is a directory")


class LargeAttachmentTest(SandboxTest):

    @unittest.skipIf(SANITIZED, "sanitizers change memory use")
    def test_100mb_is_streamed(self):
        big = self.box.path("hundred.bin")
        with open(big, "wb") as f:
            block = os.urandom(1 << 20)
            for _ in range(100):
                f.write(block)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        self.box.run("send", "--from", "qm@werk.example", "--to",
                     "a@werk.example", "--attach", big, check=0)
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        # The file is 100 MiB; composing it must not hold it in memory.
        self.assertLess(max(peak_kib, before), 48 * 1024)
        raw = self.box.delivered()[0]
        self.assertGreater(len(raw), 100 * 1024 * 1024)


class ConfigTest(SandboxTest):

    def test_password_in_readable_file_is_refused(self):
        self.box.write_config("[smtp]\npassword = geheim\n", mode=0o644)
        proc = self.box.run("config")
        self.assertEqual(proc.returncode, 78)
        self.assertIn("chmod 600", proc.stderr)
        self.assertNotIn("geheim", proc.stderr + proc.stdout)

    def test_private_file_is_accepted_and_secret_masked(self):
        self.box.write_config("[smtp]\npassword = geheim\n", mode=0o600)
        proc = self.box.run("config", check=0)
        self.assertIn("password = (set)", proc.stdout)
        self.assertNotIn("geheim", proc.stdout)

    def test_unknown_key_and_bad_value(self):
        self.box.write_config("[message]\nfromm = x@y.z\n")
        proc = self.box.run("config")
        self.assertEqual(proc.returncode, 78)
        self.assertIn("unknown setting 'fromm'", proc.stderr)
        self.box.write_config("[message]\nmax_attachment_size = lots\n")
        proc = self.box.run("config")
        self.assertIn("'lots' is not valid", proc.stderr)

    @unittest.skipIf(POSTGRES, "the sandbox names its database in a file")
    def test_lookup_order(self):
        user = os.path.join(self.box.home, ".config", "caqmail")
        os.makedirs(user)
        with open(os.path.join(user, "caqmail.conf"), "w") as f:
            f.write("[message]\nfrom = user@werk.example\n")
        proc = self.box.run("config", check=0)
        self.assertIn("from = user@werk.example", proc.stdout)
        env_conf = self.box.write("env.conf",
                                  "[message]\nfrom = env@werk.example\n")
        proc = self.box.run("config", env={"CAQMAIL_CONFIG": env_conf},
                            check=0)
        self.assertIn("from = env@werk.example", proc.stdout)
        cli_conf = self.box.write("cli.conf",
                                  "[message]\nfrom = cli@werk.example\n")
        proc = self.box.run("config", "--config", cli_conf,
                            env={"CAQMAIL_CONFIG": env_conf}, check=0)
        self.assertIn("from = cli@werk.example", proc.stdout)
        proc = self.box.run("send", "--config", cli_conf, "--to",
                            "a@werk.example", "--print", check=0)
        self.assertIn("From: cli@werk.example", proc.stdout)

    def test_missing_explicit_config(self):
        proc = self.box.run("config", "--config", self.box.path("none.conf"))
        self.assertEqual(proc.returncode, 66)


class UsageTest(SandboxTest):

    def test_help_and_usage_errors(self):
        proc = self.box.run("--help", check=0)
        self.assertIn("send", proc.stdout)
        proc = self.box.run("send", "--help", check=0)
        self.assertIn("--attach", proc.stdout)
        self.assertEqual(self.box.run("frobnicate").returncode, 64)
        self.assertEqual(self.box.run("send", "--nonsense").returncode, 64)
        self.assertEqual(self.box.run().returncode, 64)


if __name__ == "__main__":
    unittest.main()
