"""Reminders for measures through `caqmail remind`, on the embedded
database of a sandbox: a month simulated day by day with --date, each
day's mails delivered into the Maildir and read back with Python's
`email` package; dry runs, CSV import and permissions."""

import email.utils
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from caqtest import CAQMAIL, SandboxTest, parse  # noqa: E402

DEPARTMENTS = """\
ident,name,email,head
PROD,Produktion,,
QS,Qualitätssicherung,,
"""

# P-3 has no supervisor; P-4 reads French, for which no templates exist.
PERSONS = """\
ident,name,email,department,supervisor,language,login
P-20,Werner Böhm,w.boehm@werk.example,PROD,,de,
P-10,Hanna Schäfer,h.schaefer@werk.example,QS,,de,
P-5,Jürgen Müller,j.mueller@werk.example,PROD,P-20,de,
P-1,Änne Groß,a.gross@werk.example,PROD,P-5,de,
P-2,Karl Weiß,k.weiss@werk.example,QS,P-5,en,
P-3,Olga Núñez,o.nunez@werk.example,QS,,de,
P-4,Pierre Lefèvre,p.lefevre@werk.example,PROD,P-5,fr,
"""

HEADS = """\
ident,name,email,head
PROD,Produktion,,P-20
QS,Qualitätssicherung,,P-10
"""

LISTS = """\
name,description,member
werkleitung,Werkleitung,P-20
werkleitung,,werkleitung@werk.example
"""

MEASURES = """\
ident,record,title,responsible,due
M-1,8D-2026-0001,Dichtung am Gehäuse tauschen,P-1,2026-03-10
M-2,8D-2026-0001,Prüfanweisung ändern,P-1,2026-03-10
M-3,8D-2026-0002,Retrain the night shift,P-2,2026-03-12
M-4,AUD-2026-0007,Close the audit finding,P-2,2026-03-23
M-5,8D-2026-0003,Lieferant auditieren,P-3,2026-03-08
"""

CONFIG = """\
[message]
from = Qualitätsmanagement Werk <qm-system@werk.example>
message_id_domain = werk.example

[remind]
quality_management = Qualitätsmanagement <qm@werk.example>

[remind.level.1]
offset = -3
to = responsible

[remind.level.2]
offset = 1
to = responsible
mode = digest

[remind.level.3]
offset = 7
to = responsible
cc = supervisor

[remind.level.4]
offset = 14
to = responsible
cc = supervisor, department-head, quality-management, list:werkleitung
"""

EMAIL = {
    "P-1": "a.gross@werk.example", "P-2": "k.weiss@werk.example",
    "P-3": "o.nunez@werk.example", "P-4": "p.lefevre@werk.example",
    "P-5": "j.mueller@werk.example", "P-10": "h.schaefer@werk.example",
    "P-20": "w.boehm@werk.example", "QM": "qm@werk.example",
    "WL": "werkleitung@werk.example",
}

# Day of March 2026 -> the mails that day: (level, measures, To, Cc,
# language).  No run happens from the 20th to the 24th.
EXPECTED = {
    5: [(1, ["M-5"], ["P-3"], [], "de")],
    7: [(1, ["M-1"], ["P-1"], [], "de"), (1, ["M-2"], ["P-1"], [], "de")],
    9: [(1, ["M-3"], ["P-2"], [], "en"), (2, ["M-5"], ["P-3"], [], "de")],
    11: [(2, ["M-1", "M-2"], ["P-1"], [], "de")],
    13: [(2, ["M-3"], ["P-2"], [], "en")],
    # M-6 is added already overdue: the highest level it has reached.
    15: [(3, ["M-6"], ["P-4"], ["P-5"], "de")],
    17: [(3, ["M-1"], ["P-1"], ["P-5"], "de"),
         (1, ["M-5"], ["P-3"], [], "de"),
         (4, ["M-6"], ["P-4"], ["P-5", "P-20", "QM", "WL"], "de")],
    19: [(3, ["M-3"], ["P-2"], ["P-5"], "en")],
    # After the days without runs: M-1 level 4 late, M-4 only level 2 (its
    # level 1 and 2 both fell into the gap), M-5 level 2 of its new date.
    25: [(4, ["M-1"], ["P-1"], ["P-5", "P-20", "QM", "WL"], "de"),
         (2, ["M-4"], ["P-2"], [], "en"),
         (2, ["M-5"], ["P-3"], [], "de")],
    26: [(4, ["M-3"], ["P-2"], ["P-5", "P-10", "QM", "P-20", "WL"], "en")],
    # P-3 has no supervisor: level 3 goes to P-3 alone.
    27: [(3, ["M-5"], ["P-3"], [], "de")],
    30: [(3, ["M-4"], ["P-2"], ["P-5"], "en")],
}
NO_RUN = range(20, 25)


def day(n):
    return "2026-03-%02d" % n


def addresses(message, header):
    return [a.lower() for _, a in
            email.utils.getaddresses(message.get_all(header, []))]


def language_of(message):
    text = message.get_body(("plain",)).get_content()
    if text.startswith("Guten Tag"):
        return "de"
    if text.startswith("Dear") or text.startswith("Hello"):
        return "en"
    return "?"


class RemindTest(SandboxTest):
    """A sandbox with the catalog, the reminder policy and five measures."""

    def setUp(self):
        super().setUp()
        self.box.write_config(CONFIG)
        for kind, text in (("department", DEPARTMENTS), ("person", PERSONS),
                           ("department", HEADS), ("list", LISTS)):
            path = self.box.write(kind + ".csv", text)
            self.box.run("catalog", "import", kind, path, check=0)
        path = self.box.write("measures.csv", MEASURES)
        self.box.run("measure", "import", path, check=0)
        self.seen = 0

    @property
    def db(self):
        return os.path.join(self.box.data, "caqmail.db")

    def json(self, *args, check=0):
        return json.loads(self.box.run(*args, "--json", check=check).stdout)

    def remind(self, date, *args, check=0):
        return self.json("remind", "--date", date, *args, check=check)

    def new_mails(self):
        """Delivers the outbox; the messages that arrived since last."""
        self.box.run("deliver", "--once", check=0)
        raw = self.box.delivered()
        new = raw[self.seen:]
        self.seen = len(raw)
        return [parse(r) for r in new]

    def race(self, date):
        """Two runs started together on the same day."""
        procs = [subprocess.Popen(
            [CAQMAIL, "remind", "--date", date, "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=self.box.env(), cwd=self.box.root) for _ in range(2)]
        outs = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            self.assertEqual(proc.returncode, 0, err)
            outs.append(json.loads(out))
        return outs


class MonthTest(RemindTest):

    def act(self, n):
        """What people do on day @n before the reminder run."""
        if n == 12:
            self.box.run("measure", "done", "M-2", check=0)
            self.box.run("measure", "edit", "M-5", "--due", "2026-03-20",
                         check=0)
        if n == 15:
            self.box.run("measure", "add", "M-6", "--record", "8D-2026-0004",
                         "--title", "Prüfmittel sperren", "--responsible",
                         "P-4", "--due", "2026-03-03", check=0)

    def check_report(self, n, mails):
        """The run's own report against the expected mails."""
        got = sorted((m["level"], m["measures"],
                      [email.utils.parseaddr(a)[1] for a in m["to"]],
                      sorted(email.utils.parseaddr(a)[1] for a in m["cc"]),
                      m["language"]) for m in mails)
        want = sorted((level, measures, [EMAIL[p] for p in to],
                       sorted(EMAIL[p] for p in cc), lang)
                      for level, measures, to, cc, lang in
                      EXPECTED.get(n, []))
        self.assertEqual(got, want, day(n))

    def check_delivered(self, n, mails, delivered):
        """What arrived is what the run reported, addressed and written
        as expected."""
        self.assertEqual(len(delivered), len(mails), day(n))
        by_subject = {m["subject"]: m for m in mails}
        self.assertEqual(len(by_subject), len(mails), day(n))
        for msg in delivered:
            report = by_subject.pop(str(msg["Subject"]))
            self.assertEqual(addresses(msg, "To"),
                             [email.utils.parseaddr(a)[1]
                              for a in report["to"]], day(n))
            self.assertEqual(sorted(addresses(msg, "Cc")),
                             sorted(email.utils.parseaddr(a)[1]
                                    for a in report["cc"]), day(n))
            self.assertEqual(language_of(msg), report["language"], day(n))
            self.assertEqual(msg["Auto-Submitted"], "auto-generated")
            text = msg.get_body(("plain",)).get_content()
            self.assertEqual(sorted(set(re.findall(r"\bM-\d\b", text))),
                             report["measures"], day(n))
            html = msg.get_body(("html",)).get_content()
            for ident in report["measures"]:
                self.assertIn(ident, html)

    def run_day(self, n):
        """Two runs at once, then one more: each mail goes out once."""
        first, second = self.race(day(n))
        mails = first["mails"] + second["mails"]
        self.assertEqual(first["reminded"] + second["reminded"],
                         sum(len(e[1]) for e in EXPECTED.get(n, [])), day(n))
        self.assertEqual(self.remind(day(n))["mails"], [], day(n))
        return mails

    def test_a_month_day_by_day(self):
        for n in range(1, 32):
            self.act(n)
            if n in NO_RUN:
                continue
            mails = self.run_day(n)
            self.check_report(n, mails)
            self.check_delivered(n, mails, self.new_mails())
            if n == 12:
                self.check_after_changes()
        self.check_histories()

    def check_after_changes(self):
        done = self.json("measure", "show", "M-2")
        self.assertEqual(done["status"], "done")
        moved = self.json("measure", "show", "M-5")
        # The move took back level 2: the levels start again.
        self.assertEqual((moved["due"], moved["level"]), ("2026-03-20", 0))
        self.assertEqual([e["kind"] for e in moved["history"]],
                         ["added", "reminder", "reminder", "changed",
                          "level"])

    def check_histories(self):
        levels = {}
        for ident in ("M-1", "M-2", "M-3", "M-4", "M-5", "M-6"):
            shown = self.json("measure", "show", ident)
            levels[ident] = [e["level"] for e in shown["history"]
                             if e["kind"] == "reminder"]
            for entry in shown["history"]:
                if entry["kind"] != "reminder":
                    continue
                # Each reminder is an entry of the mail's own history too.
                mail = self.json("history", "show", str(entry["mail"]))
                self.assertIn(entry["entry"],
                              [e["entry"] for e in mail["history"]
                               if e["kind"] == "reminder"])
        self.assertEqual(levels, {
            "M-1": [1, 2, 3, 4], "M-2": [1, 2], "M-3": [1, 2, 3, 4],
            "M-4": [2, 3], "M-5": [1, 2, 1, 2, 3], "M-6": [3, 4]})
        # Mails for one measure belong to its record; the digest of M-1
        # and M-2 to the record both share: levels 1 (twice), 2, 3, 4.
        mails = self.json("history", "list", "--record", "8D-2026-0001")
        self.assertEqual(len(mails), 5)
        self.assertEqual({m["origin"] for m in mails}, {"reminder"})
        verify = self.box.run("history", "verify", check=0)
        self.assertIn("history intact", verify.stdout)


class RunTest(RemindTest):

    def test_dry_run_changes_nothing(self):
        before = self.json("measure", "list")
        planned = self.remind("2026-03-11", "--dry-run")
        self.assertEqual(sorted((m["level"], m["measures"])
                                for m in planned["mails"]),
                         [(1, ["M-3"]), (2, ["M-1", "M-2"]),
                          (2, ["M-5"])])
        self.assertTrue(all("mail" not in m for m in planned["mails"]))
        text = self.box.run("remind", "--date", "2026-03-11", "--dry-run",
                            check=0).stdout
        self.assertIn("would send, level 2 (de)", text)
        self.assertIn("to: Änne Groß <a.gross@werk.example>", text)
        self.assertEqual(self.json("measure", "list"), before)
        self.assertEqual(self.json("history", "list"), [])
        self.assertEqual(self.new_mails(), [])
        # The real run then sends exactly what the dry run showed.
        done = self.remind("2026-03-11")
        self.assertEqual(
            sorted((m["subject"], m["to"], m["cc"]) for m in done["mails"]),
            sorted((m["subject"], m["to"], m["cc"])
                   for m in planned["mails"]))

    def test_a_digest_over_records_is_in_each_record_history(self):
        self.box.run("measure", "edit", "M-4", "--due", "2026-03-12",
                     check=0)
        mails = self.remind("2026-03-13")["mails"]
        digest = [m for m in mails if m["measures"] == ["M-3", "M-4"]]
        self.assertEqual(len(digest), 1, mails)
        for record in ("8D-2026-0002", "AUD-2026-0007"):
            found = self.json("history", "list", "--record", record)
            self.assertEqual([m["id"] for m in found], [digest[0]["mail"]])
        shown = self.json("history", "show", str(digest[0]["mail"]))
        self.assertIsNone(shown["record"])
        self.assertEqual(
            sorted(e["detail"] for e in shown["history"]
                   if e["kind"] == "reminder"),
            ["measure 'M-3' level 2 (record 8D-2026-0002)",
             "measure 'M-4' level 2 (record AUD-2026-0007)"])

    def test_escalation_needs_a_recipient_in_to(self):
        """A level sent only to a supervisor fails loudly for a person
        without one, and is tried again on the next run."""
        config = CONFIG.replace("[remind.level.4]\noffset = 14\n"
                                "to = responsible\n",
                                "[remind.level.4]\noffset = 14\n"
                                "to = supervisor\n")
        self.box.write_config(config)
        proc = self.box.run("remind", "--date", "2026-03-25", "--json")
        self.assertEqual(proc.returncode, 65, proc.stderr)
        self.assertIn("event=remind-failed", proc.stderr)
        self.assertIn("measure 'M-5': reminder level 4 has no recipient "
                      "in To for person 'P-3'", proc.stderr)
        self.assertIn("1 measures could not be reminded", proc.stderr)
        out = json.loads(proc.stdout)
        self.assertEqual(out["failed"], 1)
        self.assertEqual(self.json("measure", "show", "M-5")["level"], 0)

    def test_only_administrators_send_reminders(self):
        self.box.run("user", "add", "bob", "--role", "sender", check=0)
        self.box.run("user", "add", "eve", "--role", "auditor", check=0)
        proc = self.box.run("--as", "bob", "remind", "--date", "2026-03-11")
        self.assertEqual(proc.returncode, 77, proc.stderr)
        self.assertIn("send reminders", proc.stderr)
        proc = self.box.run("--as", "bob", "remind", "--dry-run")
        self.assertEqual(proc.returncode, 77, proc.stderr)
        # An auditor may preview them.
        self.box.run("--as", "eve", "remind", "--date", "2026-03-11",
                     "--dry-run", check=0)
        self.assertEqual(self.json("history", "list"), [])

    def test_broken_template_stops_the_run_before_sending(self):
        folder = self.box.path("templates")
        os.makedirs(folder)
        with open(os.path.join(folder, "reminder.en.txt"), "w") as f:
            f.write("Dear {{recipient.name}},\n{{measure.titel}}\n")
        self.box.write_config(CONFIG + "\n[templates]\nfolder = %s\n"
                              % folder)
        proc = self.box.run("remind", "--date", "2026-03-11")
        self.assertEqual(proc.returncode, 78, proc.stderr)
        self.assertIn("unknown variable 'measure.titel'", proc.stderr)
        self.assertEqual(self.json("history", "list"), [])


class MeasureCommandTest(RemindTest):

    def test_import_reports_every_bad_line_and_imports_nothing(self):
        before = self.json("measure", "list")
        bad = self.box.write("bad.csv", (
            "ident,record,title,responsible,due,status\n"
            "M-10,8D-2026-0009,Gut genug,P-1,2026-04-01,\n"
            "M-11,8D-2026-0009,Unbekannt,P-99,2026-04-01,\n"
            "M-12,8D-2026-0009,Falsches Datum,P-1,2026-02-30,\n"
            "M-13,8D-2026-0009,Falscher Status,P-1,2026-04-01,erledigt\n"
            "M-10,8D-2026-0009,Doppelt,P-1,2026-04-01,\n"
            "M-14,8D-2026-0009,,P-1,2026-04-01,\n"
            "M-15,8D-2026-0009,Kontakt,list:werkleitung,2026-04-01,\n"
            "M-16,8D-2026-0009,\"offen,P-1,2026-04-01,\n"))
        proc = self.box.run("measure", "import", bad)
        self.assertEqual(proc.returncode, 65, proc.stderr)
        self.assertIn("7 bad lines, nothing was imported", proc.stderr)
        self.assertNotIn("line 2:", proc.stderr)
        for text in ("line 3: address 'P-99'",
                     "line 4: due date '2026-02-30'",
                     "line 5: measure status 'erledigt'",
                     "line 6: measure 'M-10' appears again (first on "
                     "line 2)",
                     "line 7: measure title: must not be empty",
                     "line 8: responsible person 'list:werkleitung': is a "
                     "list, not a person",
                     "line 9: unterminated quoted field"):
            self.assertIn(text, proc.stderr)
        self.assertEqual(self.json("measure", "list"), before)
        self.assertEqual(self.json("record", "list")[-1]["record"],
                         "AUD-2026-0007")

    def test_import_changes_existing_measures(self):
        path = self.box.write("again.csv", (
            "ident,record,title,responsible,due,status,link\n"
            "M-1,8D-2026-0001,Dichtung am Gehäuse tauschen,P-1,2026-03-10,,"
            "https://caq.werk.example/m/1\n"
            "M-2,8D-2026-0001,Prüfanweisung ändern,P-1,2026-03-10,done,\n"))
        out = self.box.run("measure", "import", path, check=0).stdout
        self.assertIn("measures imported: 2", out)
        m1 = self.json("measure", "show", "M-1")
        self.assertEqual(m1["link"], "https://caq.werk.example/m/1")
        self.assertEqual(m1["history"][-1]["kind"], "changed")
        self.assertEqual(self.json("measure", "show", "M-2")["status"],
                         "done")
        # The same file again changes nothing.
        out = self.box.run("measure", "import", path, check=0).stdout
        self.assertIn("measures imported: 0", out)

    def test_add_refuses_bad_input(self):
        cases = [
            (("M-1", "--record", "8D-1", "--title", "x", "--responsible",
              "P-1", "--due", "2026-04-01"), "measure 'M-1' already exists"),
            (("M-9", "--record", "8D-1", "--title", "x", "--responsible",
              "P-1"), "the due date is missing"),
            (("M-9", "--record", "8D-1", "--title", "a\rBcc: x@evil",
              "--responsible", "P-1", "--due", "2026-04-01"),
             "measure title: contains a line break"),
            (("M-9", "--record", "8D-1", "--title", "x", "--responsible",
              "P-1", "--due", "2026-04-01", "--link", "javascript:alert(1)"),
             "not an http or https address"),
        ]
        for args, message in cases:
            proc = self.box.run("measure", "add", *args)
            self.assertNotEqual(proc.returncode, 0, args)
            self.assertIn(message, proc.stderr)
        self.assertEqual(len(self.json("measure", "list")), 5)

    def test_others_may_not_change_a_measure(self):
        self.box.run("user", "add", "bob", "--role", "sender", check=0)
        proc = self.box.run("--as", "bob", "measure", "done", "M-1")
        self.assertEqual(proc.returncode, 77, proc.stderr)
        self.assertIn("change measure 'M-1'", proc.stderr)
        self.assertEqual(self.json("measure", "show", "M-1")["status"],
                         "open")
        listed = self.json("--as", "bob", "measure", "list", "--status",
                           "open", "--responsible", "P-1")
        self.assertEqual([m["measure"] for m in listed], ["M-1", "M-2"])


if __name__ == "__main__":
    unittest.main()
