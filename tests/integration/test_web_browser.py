"""The web page in headless Chromium, walked as a user would: sign in,
pick a distribution list and a person by typing parts of their names,
send a Word document converted to PDF for a record through a real
Postfix, see every recipient's result in the record's history; another
user does not see the mail.  Screenshots of the compose dialog and the
history go into the meson log folder."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "servers"))

import documents  # noqa: E402
from caqtest import Sandbox, parse  # noqa: E402
from postfix import private_postfix, strip_delivery_headers  # noqa: E402
from webtest import Server, catalog, set_password  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
# works with Debian 12's Node 18 and launches any recent Chromium
PLAYWRIGHT = "playwright-core@1.48.2"
RECORD = "8D-2026-0042"
BUILD = os.environ.get("MESON_BUILD_ROOT",
                       os.path.join(HERE, "..", "..", "build"))
ARTEFACTS = os.environ.get("CAQMAIL_TEST_ARTEFACTS",
                           os.path.join(BUILD, "meson-logs"))


def playwright_dir():
    """playwright-core, installed once into a scratch folder of the
    build."""
    folder = os.path.join(BUILD, "tests", "playwright")
    if not os.path.isdir(os.path.join(folder, "node_modules",
                                      "playwright-core")):
        os.makedirs(folder, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund",
                        "--no-save", "--prefix", folder, PLAYWRIGHT],
                       check=True, capture_output=True, timeout=600)
    return os.path.join(folder, "node_modules")


def make_docx(folder):
    odt = os.path.join(folder, "Prüfbericht Gehäuse.odt")
    docx = os.path.join(folder, "Prüfbericht Gehäuse.docx")
    documents.write_odt(odt, ["Prüfbericht Gehäuse",
                              "Maßabweichung an der Bohrung Ø 12,5"])
    office = documents.Office(folder)
    try:
        office.save_as(odt, docx, "MS Word 2007 XML")
    finally:
        office.close()
    return docx


class BrowserTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="caqmail-web-")
        os.chmod(cls.root, 0o755)
        cls.postfix, cls.cert = private_postfix(cls.root)
        cls.postfix.start()
        cls.box = Sandbox()
        cls.box.write_config(
            "[message]\nfrom = QM <qm@werk.example>\n\n"
            "[convert]\ntimeout = 120s\n\n"
            "[smtp]\nhost = 127.0.0.1\nport = %d\ntls = starttls\n"
            "ca_file = %s\nhelo_name = client.werk.example\n"
            % (cls.postfix.port, cls.cert))
        cls.docx = make_docx(cls.box.path())
        cls.fill(cls.box)
        cls.server = Server(cls.box)

    @classmethod
    def fill(cls, box):
        catalog(box,
                ("person", ["ident=P-1", "name=Jürgen Müller",
                            "email=jm@werk.example", "login=alice",
                            "language=de"]),
                ("person", ["ident=P-2", "name=Anna Schäfer",
                            "email=as@werk.example"]),
                ("person", ["ident=P-4", "name=Karl Muster",
                            "email=km@werk.example"]),
                ("person", ["ident=P-5", "name=Petra Prüfer",
                            "email=pp@werk.example", "login=dora"]),
                ("organisation", ["ident=O-1", "name=Guss GmbH",
                                  "kind=supplier"]),
                ("contact", ["ident=C-1", "organisation=O-1",
                             "name=Eva Lieferant",
                             "email=el@guss.example"]),
                ("list", ["name=8d-team-gehaeuse",
                          "description=8D-Team Gehäuse",
                          "member=P-2", "member=C-1", "member=P-4"]))
        box.run("record", "add", RECORD, "--title",
                "Gehäuse undicht", check=0)
        for login in ("alice", "dora"):
            box.run("user", "add", login, "--role", "sender", check=0)
            set_password(box, login, "Passwort-" + login)
        set_password(box, "root", "Passwort-root")
        # waits in the outbox for the administrator
        box.run("send", "--to", "spaeter@werk.example", "--subject",
                "Wartet", "--body", "x", "--queue-only", check=0)

    @classmethod
    def tearDownClass(cls):
        log = cls.server.stop()
        cls.box.close()
        cls.postfix.stop()
        subprocess.run(["rm", "-rf", cls.root])
        if log.strip():
            print(log, file=sys.stderr)

    def walk(self):
        os.makedirs(ARTEFACTS, exist_ok=True)
        settings = {
            "url": self.server.url, "chromium": CHROMIUM,
            "artefacts": os.path.abspath(ARTEFACTS), "docx": self.docx,
            "login": "alice", "password": "Passwort-alice",
            "otherLogin": "dora", "otherPassword": "Passwort-dora",
            "adminLogin": "root", "adminPassword": "Passwort-root",
            "listText": "team geh", "listName": "8d-team-gehaeuse",
            "personText": "prufer", "personName": "Petra Prüfer",
            "record": RECORD, "recordText": "0042",
            "subject": "8D-2026-0042: Prüfbericht Gehäuse",
            "text": "Guten Tag,\nanbei der Prüfbericht als PDF.\n",
        }
        env = dict(os.environ, WALK=json.dumps(settings),
                   NODE_PATH=playwright_dir())
        proc = subprocess.run(
            ["node", os.path.join(HERE, "..", "browser", "walk.js")],
            capture_output=True, text=True, env=env, timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def test_compose_send_and_history(self):
        seen = self.walk()
        self.assertEqual(seen["errors"], [])
        self.assertEqual(seen["language"], "de", "alice's catalog language")
        self.assertIn("Verteiler", seen["toSuggestion"])
        self.assertIn("3 Mitglieder", seen["toSuggestion"])
        self.assertIn("Person", seen["ccSuggestion"])
        self.assertEqual(seen["chips"], ["list:8d-team-gehaeuse",
                                         "person:P-5"])
        self.assertEqual(seen["finalState"], "sent", seen["statusText"])
        self.assertIn("converting", seen["states"],
                      "the conversion showed while it ran")
        self.assertLess(seen["states"].index("converting"),
                        seen["states"].index("sent"))

        # to, cc and the copy to alice: five recipients, one file each
        got = [parse(strip_delivery_headers(m))
               for m in self.postfix.wait_for_mail(5)]
        self.assertEqual(len(got), 5)
        msg = got[0]
        self.assertEqual(msg["Subject"], "8D-2026-0042: Prüfbericht Gehäuse")
        self.assertIn("as@werk.example", str(msg["To"]))
        self.assertIn("el@guss.example", str(msg["To"]))
        self.assertIn("pp@werk.example", str(msg["Cc"]))
        self.assertNotIn("jm@werk.example", str(msg), "a blind copy")
        pdf = [p for p in msg.iter_attachments()]
        self.assertEqual([p.get_filename() for p in pdf],
                         ["Prüfbericht Gehäuse.pdf"])
        self.assertEqual(pdf[0].get_content_type(), "application/pdf")
        self.assertTrue(pdf[0].get_payload(decode=True).startswith(b"%PDF-"))

        mails = seen["mails"]
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails[0]["subject"],
                         "8D-2026-0042: Prüfbericht Gehäuse")
        self.assertIn("state-sent", mails[0]["state"])
        self.assertIn("anbei der Prüfbericht", mails[0]["text"])
        self.assertIn("Prüfbericht Gehäuse.pdf", mails[0]["files"])
        addresses = sorted(r["address"] for r in mails[0]["recipients"])
        self.assertEqual(addresses, ["as@werk.example", "el@guss.example",
                                     "jm@werk.example", "km@werk.example",
                                     "pp@werk.example"])
        for r in mails[0]["recipients"]:
            self.assertIn("state-accepted", r["status"], r)

        self.assertEqual(seen["otherMails"], [], "dora reads only her own")
        self.assertEqual(seen["otherEmpty"], 1)
        self.assertEqual(seen["otherLanguage"], "en", "from the browser")
        self.assertFalse(seen["otherOutbox"], "for administrators only")

        # the administrator's outbox: the queued mail, cancelled there
        self.assertEqual(len(seen["outbox"]), 1)
        self.assertIn("state-queued", seen["outbox"][0]["state"])
        self.assertEqual(self.box.sql(
            "SELECT state FROM outbox WHERE mail_id = ?",
            int(seen["outbox"][0]["id"])), [("cancelled",)])
        for name in ("web-compose.png", "web-history.png", "web-outbox.png"):
            path = os.path.join(ARTEFACTS, name)
            with open(path, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")


if __name__ == "__main__":
    unittest.main()
