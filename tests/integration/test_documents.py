"""The document store through `caqmail document` and `caqmail send
--document`, on the embedded SQLite database of a sandbox: contents kept
once, exact export, the stored revision sent after the original changed,
refused input that leaves no trace, permissions, and the history's hash
chain over each attachment's source.  (Conversion of stored documents to
PDF is tested with the other conversions in test_convert.py.)"""

import hashlib
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import documents  # noqa: E402
from caqtest import SandboxTest, parse  # noqa: E402

TEXT = "Prüfbericht Gehäuse 8D-2026-0042\nMaße geprüft: Ø 12,5 mm\n"
TABLES = ("document", "document_content", "document_chunk")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class DocumentCase(SandboxTest):

    def setUp(self):
        super().setUp()
        self.tmp = self.box.path("tmp")
        os.makedirs(self.tmp)

    def tearDown(self):
        try:
            self.assertEqual(os.listdir(self.tmp), [],
                             "temporary files left behind")
        finally:
            super().tearDown()

    def run_as(self, login, *args, check=None, binary=False):
        prefix = ("--as", login) if login else ()
        return self.box.run(*prefix, *args, check=check, binary=binary,
                            env={"TMPDIR": self.tmp})

    def json(self, *args, login=None):
        return json.loads(self.run_as(login, *args, "--json", check=0).stdout)

    def add(self, path, title="Prüfbericht", *args, login=None):
        return self.json("document", "add", path, "--title", title, *args,
                         login=login)

    def send(self, *args, login=None, check=0):
        return self.run_as(login, "send", "--from", "qm@werk.example", "--to",
                           "a@werk.example", "--subject", "Dokument", *args,
                           check=check)

    def counts(self):
        return {t: self.box.sql("SELECT COUNT(*) FROM %s" % t)[0][0]
                for t in TABLES}

    def attachments(self, raw):
        return [p for p in parse(raw).walk()
                if p.get_content_disposition() == "attachment"]


class StoreTest(DocumentCase):

    def test_same_content_is_stored_once_and_exported_exactly(self):
        # Over two chunks of 256 KiB, so that the order of chunks counts.
        lines = ["Zeile %06d: Prüfwert Größe Ø 12,5 mm\n" % i
                 for i in range(16000)]
        data = "".join(lines).encode()
        path = self.box.write("Prüfprotokoll.txt", data)
        one = self.add(path, "Prüfprotokoll", "--revision", "A",
                       "--record", "8D-2026-0042")
        two = self.add(path, "Prüfprotokoll (Kopie)")
        self.assertEqual((one["id"], two["id"]), ("DOC-1", "DOC-2"))
        for doc in (one, two):
            self.assertEqual(doc["sha256"], sha256(data))
            self.assertEqual(doc["size"], len(data))
            self.assertEqual((doc["kind"], doc["media_type"]),
                             ("text", "text/plain"))
        self.assertEqual(self.counts(), {"document": 2, "document_content": 1,
                                         "document_chunk": 3})
        listed = self.json("document", "list", "--record", "8D-2026-0042")
        self.assertEqual([(d["id"], d["revision"]) for d in listed],
                         [("DOC-1", "A")])
        self.assertEqual(len(self.json("document", "list")), 2)

        out = self.box.path("Export.txt")
        self.run_as(None, "document", "export", "DOC-2", "--output", out,
                    check=0)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), data)
        proc = self.run_as(None, "document", "export", "DOC-1", "-o", "-",
                           check=0, binary=True)
        self.assertEqual(proc.stdout, data)
        # The default name is the document's, and nothing is overwritten.
        os.remove(path)
        self.run_as(None, "document", "export", "DOC-1", check=0)
        with open(self.box.path("Prüfprotokoll.txt"), "rb") as f:
            self.assertEqual(f.read(), data)
        proc = self.run_as(None, "document", "export", "DOC-1", "-o", out)
        self.assertEqual(proc.returncode, 64)
        self.assertIn("output '%s': exists already" % out, proc.stderr)

    def test_image_exported_byte_for_byte(self):
        path = documents.write_png(self.box.path("Prüfmarke.png"), 300, 200)
        doc = self.add(path, "Prüfmarke")
        self.assertEqual((doc["kind"], doc["media_type"]),
                         ("png", "image/png"))
        proc = self.run_as(None, "document", "export", doc["id"], "-o", "-",
                           check=0, binary=True)
        with open(path, "rb") as f:
            self.assertEqual(proc.stdout, f.read())

    def test_refused_inputs_change_nothing(self):
        with open(documents.write_png(self.box.path("x.png"), 8, 8),
                  "rb") as f:
            png = f.read()
        cases = [
            ("Prüfbericht.docx", png,
             "document 'Prüfbericht.docx': the name says a Word document "
             "(.docx) but the content is a PNG image"),
            ("Leer.txt", b"", "document 'Leer.txt': the file is empty"),
            ("Zeichnung.dwg", b"AC1032\x00\x01\x02\x03",
             "document 'Zeichnung.dwg': binary data is not a type that is "
             "converted to PDF"),
        ]
        for name, data, message in cases:
            with self.subTest(name=name):
                path = self.box.write(name, data)
                proc = self.run_as(None, "document", "add", path, "--title",
                                   "Prüfbericht")
                self.assertEqual(proc.returncode, 65, proc.stderr)
                self.assertIn(message, proc.stderr)
                self.assertEqual(proc.stdout, "")
                self.assertEqual(self.counts(), dict.fromkeys(TABLES, 0))
        proc = self.run_as(None, "document", "add", self.box.path("x.png"))
        self.assertEqual(proc.returncode, 64)
        self.assertIn("give FILE and --title", proc.stderr)
        self.assertEqual(self.json("document", "list"), [])
        # No number was used up by the refusals.
        self.assertEqual(self.add(self.box.path("x.png"))["id"], "DOC-1")

    def test_stored_revision_is_sent_after_the_original_changed(self):
        path = self.box.write("Arbeitsanweisung.txt", TEXT)
        doc = self.add(path, "Arbeitsanweisung", "--revision", "A")
        self.box.write("Arbeitsanweisung.txt", "Revision B: alles neu\n")
        proc = self.send("--document", doc["id"], "--json")
        mail = json.loads(proc.stdout)["id"]

        part, = self.attachments(self.box.delivered()[0])
        self.assertEqual(part.get_filename(), "Arbeitsanweisung.txt")
        self.assertEqual(part.get_content_type(), "text/plain")
        self.assertEqual(part.get_payload(decode=True), TEXT.encode())
        shown = self.json("history", "show", str(mail))
        self.assertEqual(shown["origin"], "document")
        att, = shown["attachments"]
        self.assertEqual(att["source"], "document:DOC-1")
        self.assertEqual(att["source_sha256"], sha256(TEXT.encode()))
        self.assertEqual(att["sha256"], sha256(TEXT.encode()))
        text = self.run_as(None, "history", "show", str(mail), check=0).stdout
        self.assertIn("from document:DOC-1 (sha256 %s)"
                      % sha256(TEXT.encode()), text)
        self.assertEqual(self.json("document", "show", "DOC-1")["mails"],
                         [mail])

    def test_history_chain_covers_the_source(self):
        doc = self.add(self.box.write("Notiz.txt", TEXT))
        self.send("--document", doc["id"])
        self.assertTrue(self.json("history", "verify")["ok"])
        self.box.sql("UPDATE mail_attachment SET source_sha256 ="
                     " 'ab' || substr(source_sha256, 3)")
        proc = self.run_as(None, "history", "verify", "--json", check=65)
        self.assertEqual(json.loads(proc.stdout)["broken_entry"], 1)

    def test_unknown_and_malformed_ids(self):
        self.add(self.box.write("Notiz.txt", TEXT))
        for args, code, message in [
                (("document", "show", "DOC-7"), 66,
                 "document 'DOC-7' does not exist"),
                (("document", "export", "7"), 65,
                 "document '7': not a document id such as DOC-7"),
                (("send", "--to", "a@werk.example", "--document", "DOC-7"),
                 66, "document 'DOC-7' does not exist")]:
            proc = self.run_as(None, *args)
            self.assertEqual(proc.returncode, code, args)
            self.assertIn(message, proc.stderr)
        self.assertEqual(self.box.delivered(), [])
        self.assertEqual(self.json("history", "list"), [])


class PermissionTest(DocumentCase):
    """Senders read their own documents, auditors all of them; another
    user's document does not exist for a sender."""

    def setUp(self):
        super().setUp()
        self.box.run("user", "add", "alice", check=0)
        self.box.run("user", "add", "bob", check=0)
        self.box.run("user", "add", "carol", "--role", "auditor", check=0)
        self.path = self.box.write("8D-Bericht Lieferant.txt", TEXT)
        self.doc = self.add(self.path, "8D-Bericht Geheim", login="alice")

    def test_other_senders_cannot_read_or_send_it(self):
        self.assertEqual(self.doc["created_by"], "alice")
        self.assertEqual(self.json("document", "list", login="bob"), [])
        out = self.box.path("gestohlen.txt")
        for args in [("document", "show", "DOC-1"),
                     ("document", "export", "DOC-1", "-o", out),
                     ("send", "--to", "b@werk.example", "--document",
                      "DOC-1")]:
            proc = self.run_as("bob", *args)
            self.assertEqual(proc.returncode, 66, args)
            self.assertIn("document 'DOC-1' does not exist", proc.stderr)
            self.assertNotIn("Geheim", proc.stderr + proc.stdout)
        self.assertFalse(os.path.exists(out))
        self.assertEqual(self.box.delivered(), [])

        export = self.run_as("carol", "document", "export", "DOC-1", "-o",
                             "-", check=0, binary=True)
        self.assertEqual(export.stdout, TEXT.encode())
        self.assertEqual(len(self.json("document", "list", login="carol")),
                         1)
        self.send("--document", "DOC-1", login="alice")
        self.assertEqual(len(self.box.delivered()), 1)

    def test_unregistered_user_cannot_add(self):
        proc = self.run_as("nobody-here", "document", "add", self.path,
                           "--title", "x")
        self.assertEqual(proc.returncode, 66)
        self.assertIn("'nobody-here' is not registered", proc.stderr)
        self.box.run("user", "revoke", "bob", "sender", check=0)
        proc = self.run_as("bob", "document", "add", self.path, "--title",
                           "x")
        self.assertEqual(proc.returncode, 77)
        self.assertIn("user 'bob' may not add documents", proc.stderr)
        self.assertEqual(self.counts()["document"], 1)


if __name__ == "__main__":
    unittest.main()
