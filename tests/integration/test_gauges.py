"""Collection lists for gauges through `caqmail gauges collect`: the mail
read back with Python's `email` package, its PDF with poppler's pdftotext
and pdffonts; the repeat interval, dry runs, imports."""

import email.utils
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from caqtest import CAQMAIL, SandboxTest, parse  # noqa: E402

PERSONS = """\
ident,name,email,language
P-1,Änne Groß,a.gross@werk.example,de
P-2,Karl Weiß,k.weiss@werk.example,en
P-3,Olga Núñez,o.nunez@werk.example,de
"""

GAUGES = """\
inventory,description,holder,location,interval,due,status
PM-001,Bügelmessschraube 0–25 mm,P-1,Halle 3 – Prüfraum,12,2026-03-20,
PM-002,Höhenmessgerät „Größe L“,P-1,Werkstatt Süd,24,2026-03-01,
PM-003,Gewindelehrring M8×1,P-1,Lager Nord,12,2026-05-01,
PM-004,Rauheitsmessgerät <R&D>,P-2,Labor Öst,12,2026-03-15,
PM-005,Messschieber digital,P-2,Labor Öst,6,2026-03-10,in-calibration
PM-006,Härteprüfer,P-3,Halle 1,12,2026-03-05,blocked
PM-007,Drehmomentschlüssel,P-3,Montage,12,2026-04-30,
"""

CONFIG = """\
[message]
from = Prüfmittelverwaltung <pmv@werk.example>

[gauges]
lab = Kalibrierlabor Süd <kalibrierlabor@werk.example>
within_days = 14
repeat_days = 7
"""

# What each holder's list of 2026-03-12 holds: inventory, description,
# location, due date as the reader writes it.
LISTS = {
    "a.gross@werk.example": ("de", [
        ("PM-002", "Höhenmessgerät „Größe L“", "Werkstatt Süd",
         "01.03.2026"),
        ("PM-001", "Bügelmessschraube 0–25 mm", "Halle 3 – Prüfraum",
         "20.03.2026"),
    ]),
    "k.weiss@werk.example": ("en", [
        ("PM-004", "Rauheitsmessgerät <R&D>", "Labor Öst", "2026-03-15"),
    ]),
}
NOT_LISTED = ("PM-003", "PM-005", "PM-006", "PM-007")
LAB = "kalibrierlabor@werk.example"


def tool(*argv):
    return subprocess.run(argv, check=True, capture_output=True,
                          text=True).stdout


class GaugeTest(SandboxTest):

    def setUp(self):
        super().setUp()
        self.box.write_config(CONFIG)
        path = self.box.write("person.csv", PERSONS)
        self.box.run("catalog", "import", "person", path, check=0)
        path = self.box.write("gauges.csv", GAUGES)
        self.box.run("gauge", "import", path, check=0)
        self.seen = 0

    def json(self, *args, check=0):
        return json.loads(self.box.run(*args, "--json", check=check).stdout)

    def collect(self, date, *args):
        return self.json("gauges", "collect", "--date", date, *args)

    def new_mails(self):
        self.box.run("deliver", "--once", check=0)
        raw = self.box.delivered()
        new = raw[self.seen:]
        self.seen = len(raw)
        return [parse(r) for r in new]

    def statuses(self):
        return {g["inventory"]: (g["status"], g["last_listed"])
                for g in self.json("gauge", "list")}

    def pdf_text(self, message):
        pdfs = [p for p in message.iter_attachments()
                if p.get_content_type() == "application/pdf"]
        self.assertEqual(len(pdfs), 1)
        self.assertTrue(pdfs[0].get_filename().endswith(" 2026-03-12.pdf"))
        path = self.box.path("list.pdf")
        with open(path, "wb") as f:
            f.write(pdfs[0].get_content())
        fonts = tool("pdffonts", path)
        self.assertIn("DejaVuSans", fonts)
        # Every font is embedded: the glyphs are real text, not boxes.
        for line in fonts.splitlines()[2:]:
            self.assertIn(" yes ", line)
        return pdfs[0].get_filename(), tool("pdftotext", "-layout", "-enc",
                                            "UTF-8", path, "-")

    def check_list(self, message):
        to = [a for _, a in email.utils.getaddresses(message.get_all("To"))]
        cc = [a for _, a in email.utils.getaddresses(message.get_all("Cc"))]
        self.assertEqual(len(to), 1)
        self.assertEqual(cc, [LAB])
        language, rows = LISTS[to[0]]
        filename, pdf = self.pdf_text(message)
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        lines = pdf.splitlines()
        for inventory, description, location, due in rows:
            row = [line for line in lines if inventory in line]
            self.assertEqual(len(row), 1, pdf)
            for cell in (description, location, due):
                self.assertIn(cell, row[0])
            self.assertLess(row[0].index(inventory),
                            row[0].index(description))
            self.assertLess(row[0].index(location), row[0].index(due))
            body_row = [line for line in text.splitlines()
                        if line.startswith(inventory)]
            self.assertEqual(len(body_row), 1, text)
            self.assertIn(description, body_row[0])
            self.assertIn("<td>%s</td>" % description.replace(
                "&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), html)
        for inventory in NOT_LISTED:
            self.assertNotIn(inventory, pdf)
            self.assertNotIn(inventory, text)
        if language == "de":
            self.assertTrue(filename.startswith("Prüfmittel zur Kalibrierung"))
            self.assertIn("Inhaber: Änne Groß", pdf)
            self.assertIn("Datum: 12. März 2026", pdf)
            self.assertIn("Guten Tag Änne Groß", text)
        else:
            self.assertIn("Holder: Karl Weiß", pdf)
            self.assertIn("Date: 12 March 2026", pdf)
        return to[0]


class CollectTest(GaugeTest):

    def test_each_holder_gets_one_list_with_its_pdf(self):
        run = self.collect("2026-03-12")
        self.assertEqual(sorted((m["gauges"], m["language"])
                                for m in run["mails"]),
                         [(["PM-002", "PM-001"], "de"), (["PM-004"], "en")])
        mails = self.new_mails()
        self.assertEqual(sorted(self.check_list(m) for m in mails),
                         sorted(LISTS))
        for m in mails:
            self.assertEqual(m["Auto-Submitted"], "auto-generated")
        status = self.statuses()
        for inventory in ("PM-001", "PM-002", "PM-004"):
            self.assertEqual(status[inventory],
                             ("collection-requested", "2026-03-12"))
        self.assertEqual(status["PM-003"], ("in-use", None))
        self.assertEqual(status["PM-005"], ("in-calibration", None))
        self.assertEqual(status["PM-006"], ("blocked", None))
        # Each gauge's history names the mail, whose history names it.
        shown = self.json("gauge", "show", "PM-001")
        entry = shown["history"][-1]
        self.assertEqual(entry["kind"], "collection")
        mail = self.json("history", "show", str(entry["mail"]))
        self.assertEqual(sorted(e["detail"] for e in mail["history"]
                                if e["kind"] == "collection"),
                         ["gauge 'PM-001' due 2026-03-20 listed for person "
                          "'P-1'",
                          "gauge 'PM-002' due 2026-03-01 listed for person "
                          "'P-1'"])
        self.assertEqual(mail["origin"], "collection")

    def test_no_second_list_within_the_repeat_interval(self):
        self.collect("2026-03-12")
        self.assertEqual(len(self.new_mails()), 2)
        before = self.statuses()
        for date in ("2026-03-12", "2026-03-15", "2026-03-18"):
            again = self.collect(date)
            self.assertEqual(again["mails"], [], date)
            self.assertEqual(again["listed"], 0, date)
        self.assertEqual(self.new_mails(), [])
        self.assertEqual(self.statuses(), before)
        # Back from calibration with a new date: not due any more.
        self.box.run("gauge", "edit", "PM-002", "--status", "in-use",
                     "--due", "2027-03-01", check=0)
        # After the repeat interval, what is still due is listed again.
        later = self.collect("2026-03-19")
        self.assertEqual(sorted(m["gauges"] for m in later["mails"]),
                         [["PM-001"], ["PM-004"]])
        self.assertEqual(len(self.new_mails()), 2)

    def test_two_runs_at_once_list_each_gauge_once(self):
        procs = [subprocess.Popen(
            [CAQMAIL, "gauges", "collect", "--date", "2026-03-12", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=self.box.env(), cwd=self.box.root) for _ in range(2)]
        listed = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            self.assertEqual(proc.returncode, 0, err)
            for mail in json.loads(out)["mails"]:
                listed += mail["gauges"]
        self.assertEqual(sorted(listed), ["PM-001", "PM-002", "PM-004"])
        self.assertEqual(len(self.new_mails()), 2)

    def test_window_from_the_command_line(self):
        run = self.collect("2026-03-12", "--within", "3")
        self.assertEqual(sorted(m["gauges"] for m in run["mails"]),
                         [["PM-002"], ["PM-004"]])

    def test_dry_run_changes_nothing(self):
        before = self.statuses()
        run = self.collect("2026-03-12", "--dry-run")
        self.assertEqual(len(run["mails"]), 2)
        self.assertTrue(all("mail" not in m for m in run["mails"]))
        text = self.box.run("gauges", "collect", "--date", "2026-03-12",
                            "--dry-run", check=0).stdout
        self.assertIn("cc: Kalibrierlabor Süd <kalibrierlabor@werk.example>",
                      text)
        self.assertEqual(self.statuses(), before)
        self.assertEqual(self.json("history", "list"), [])
        self.assertEqual(self.new_mails(), [])
        self.assertEqual(len(self.collect("2026-03-12")["mails"]), 2)


class GaugeCommandTest(GaugeTest):

    def test_import_reports_every_bad_line_and_imports_nothing(self):
        before = self.json("gauge", "list")
        bad = self.box.write("bad.csv", (
            "inventory,description,holder,location,interval,due,status\n"
            "PM-100,Gut,P-1,Halle,12,2026-04-01,\n"
            "PM-101,Ohne Inhaber,P-99,Halle,12,2026-04-01,\n"
            "PM-102,Intervall,P-1,Halle,0,2026-04-01,\n"
            "PM-103,Datum,P-1,Halle,12,01.04.2026,\n"
            "PM-104,Status,P-1,Halle,12,2026-04-01,verloren\n"
            "PM-100,Doppelt,P-1,Halle,12,2026-04-01,\n"
            "PM-105,\"Zeile\nBcc: x@evil.example\",P-1,Halle,12,2026-04-01,\n"
            "PM-106,Zu wenig,P-1\n"))
        proc = self.box.run("gauge", "import", bad)
        self.assertEqual(proc.returncode, 65, proc.stderr)
        self.assertIn("7 bad lines, nothing was imported", proc.stderr)
        for text in ("line 3: address 'P-99'",
                     "line 4: calibration interval '0'",
                     "line 5: due date '01.04.2026'",
                     "line 6: gauge status 'verloren'",
                     "line 7: gauge 'PM-100' appears again (first on line 2)",
                     "line 8: gauge description: contains a line break",
                     "line 10: 3 fields where the header has 7"):
            self.assertIn(text, proc.stderr)
        self.assertEqual(self.json("gauge", "list"), before)

    def test_gauges_are_master_data(self):
        self.box.run("user", "add", "bob", "--role", "sender", check=0)
        proc = self.box.run("--as", "bob", "gauge", "edit", "PM-001",
                            "--status", "blocked")
        self.assertEqual(proc.returncode, 77, proc.stderr)
        proc = self.box.run("--as", "bob", "gauges", "collect")
        self.assertEqual(proc.returncode, 77, proc.stderr)
        listed = self.json("--as", "bob", "gauge", "list", "--holder", "P-2")
        self.assertEqual([g["inventory"] for g in listed],
                         ["PM-005", "PM-004"])


if __name__ == "__main__":
    unittest.main()
