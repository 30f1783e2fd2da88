"""The catalog, the outbox and the history through the `caqmail`
commands, on the embedded SQLite database of a sandbox."""

import json
import os
import sqlite3
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from caqtest import CAQMAIL, POSTGRES, SandboxTest, parse  # noqa: E402

DEPARTMENTS = """\
ident,name,email,head
QM,Qualitätsmanagement,,
EK,Einkauf,einkauf@werk.example,
"""

PERSONS = """\
ident,name,email,department,supervisor,language,login
P-0001,Jürgen Müller,j.mueller@werk.example,QM,,de,alice
P-0002,Änne Groß,a.gross@werk.example,QM,P-0001,de,bob
P-0003,Karl Weiß,k.weiss@werk.example,EK,P-0001,en,carol
"""

ORGANISATIONS = """\
ident,name,kind
S-100,Größe & Söhne GmbH,supplier
"""

CONTACTS = """\
ident,organisation,name,email,role
C-1,S-100,Olga Núñez,olga@groesse.example,Vertrieb
"""

LISTS = """\
name,description,member
leitung,Leitung,P-0001
leitung,,qm-postfach@werk.example
8d-team,8D-Team,list:leitung
8d-team,,C-1
8d-team,,person:P-0002
"""


class StoreTest(SandboxTest):
    """A sandbox with the sample catalog imported by its creator."""

    def setUp(self):
        super().setUp()
        for kind, text in (("department", DEPARTMENTS), ("person", PERSONS),
                           ("organisation", ORGANISATIONS),
                           ("contact", CONTACTS), ("list", LISTS)):
            path = self.box.write(kind + ".csv", text)
            self.box.run("catalog", "import", kind, path, check=0)

    def json(self, *args, check=0):
        proc = self.box.run(*args, "--json", check=check)
        return json.loads(proc.stdout)

    def send(self, *args, check=0):
        return self.box.run("send", "--from", "QM <qm@werk.example>",
                            "--subject", "Prüfbericht Gehäuse",
                            "--body", "Grüße\n", *args, check=check)


class CatalogTest(StoreTest):

    def test_search_ignores_case_and_accents(self):
        for query in ("muller", "mueller", "MÜLLER", "jurgen muller"):
            found = self.json("catalog", "search", query)
            self.assertEqual([e["ident"] for e in found], ["P-0001"], query)
        found = self.json("catalog", "search", "qualitatsmanagement")
        self.assertEqual({e["ident"] for e in found},
                         {"P-0001", "P-0002", "QM"})
        found = self.json("catalog", "search", "nunez")
        self.assertEqual([(e["kind"], e["ident"]) for e in found],
                         [("contact", "C-1")])

    def test_import_reports_every_bad_line_and_imports_nothing(self):
        before = self.json("catalog", "list", "person")
        bad = self.box.write("bad.csv", (
            "ident,name,email,department\n"
            "P-0100,Gut Genug,gg@werk.example,QM\n"
            "P-0101,Kaputt,kein-at,QM\n"
            "P-0102,Unbekannt,u@werk.example,XX\n"
            "P-0103,\"offen,o@werk.example,QM\n"))
        proc = self.box.run("catalog", "import", "person", bad)
        self.assertEqual(proc.returncode, 65, proc.stderr)
        self.assertIn("3 bad lines, nothing was imported", proc.stderr)
        self.assertIn("line 3: person email: address 'kein-at'", proc.stderr)
        self.assertIn("line 4: department: department 'XX' does not exist",
                      proc.stderr)
        self.assertIn("line 5: unterminated quoted field", proc.stderr)
        self.assertNotIn("line 2:", proc.stderr)
        self.assertEqual(self.json("catalog", "list", "person"), before)

    def test_import_names_a_login_taken_and_goes_on(self):
        bad = self.box.write("taken.csv", (
            "ident,name,email,department,login\n"
            "P-0100,Doppelt,d@werk.example,QM,alice\n"
            "P-0101,Unbekannt,u@werk.example,XX,dora\n"))
        proc = self.box.run("catalog", "import", "person", bad)
        self.assertEqual(proc.returncode, 65, proc.stderr)
        self.assertIn("2 bad lines, nothing was imported", proc.stderr)
        self.assertIn("line 2: login 'alice' belongs to person 'P-0001' "
                      "already", proc.stderr)
        self.assertIn("line 3: department: department 'XX' does not exist",
                      proc.stderr)

    def test_hostile_strings(self):
        hostile = ["' OR '1'='1", "\"; DROP TABLE person; --", "%", "_",
                   "\\", "a%b_c", "*", "P-0001' --"]
        for text in hostile:
            self.assertEqual(self.json("catalog", "search", text), [], text)
        # As data they are kept exactly, and found as themselves.
        name = "Robert'); DROP TABLE person;-- 100% _x_"
        path = self.box.write("evil.csv",
                              "ident,name,email\nP-0666,\"%s\",r@x.example\n"
                              % name.replace('"', '""'))
        self.box.run("catalog", "import", "person", path, check=0)
        found = self.json("catalog", "search", "100%", "_x_")
        self.assertEqual([e["name"] for e in found], [name])
        self.assertEqual(len(self.json("catalog", "list", "person")), 4)
        # A control character or a line break in a field is refused.
        path = self.box.write("ctl.csv",
                              "ident,name,email\nP-0667,\"a\x07b\",c@x.example\n"
                              "P-0668,\"a\rBcc: x@evil.example\",d@x.example\n")
        proc = self.box.run("catalog", "import", "person", path)
        self.assertEqual(proc.returncode, 65)
        self.assertIn("line 2: person name: contains the control", proc.stderr)
        self.assertIn("line 3: person name: contains a line break",
                      proc.stderr)

    def test_export_imports_again_unchanged(self):
        for kind in ("department", "person", "organisation", "contact",
                     "list"):
            first = self.box.run("catalog", "export", kind, check=0).stdout
            path = self.box.write("again.csv", first)
            self.box.run("catalog", "import", kind, path, check=0)
            again = self.box.run("catalog", "export", kind, check=0).stdout
            self.assertEqual(first, again, kind)

    def test_nested_lists_resolve_and_cycles_are_named(self):
        found = self.json("catalog", "resolve", "list:8d-team")
        self.assertEqual([(r["address"], r["source"]) for r in found], [
            ("j.mueller@werk.example",
             "list:8d-team > list:leitung > person:P-0001"),
            ("qm-postfach@werk.example", "list:8d-team > list:leitung"),
            ("olga@groesse.example", "list:8d-team > contact:C-1"),
            ("a.gross@werk.example", "list:8d-team > person:P-0002")])
        proc = self.box.run("catalog", "edit", "list", "leitung",
                            "add-member=list:8d-team")
        self.assertEqual(proc.returncode, 65)
        self.assertIn("cycle: leitung -> 8d-team -> leitung", proc.stderr)
        entry = self.json("catalog", "show", "list", "leitung")
        self.assertEqual(entry["members"],
                         ["person:P-0001", "qm-postfach@werk.example"])

    def test_add_edit_remove(self):
        self.box.run("catalog", "add", "person", "ident=P-0009",
                     "name=Zoë Å", "email=Zoe <zoe@werk.example>",
                     "department=EK", check=0)
        self.box.run("catalog", "edit", "person", "P-0009", "language=fr",
                     "department=", check=0)
        entry = self.json("catalog", "show", "person", "P-0009")
        self.assertEqual((entry["email"], entry["language"],
                          entry["department"]),
                         ("zoe@werk.example", "fr", None))
        # A person still pointed at cannot be removed.
        proc = self.box.run("catalog", "remove", "person", "P-0001")
        self.assertEqual(proc.returncode, 65)
        self.assertIn("still in use", proc.stderr)
        self.box.run("catalog", "remove", "person", "P-0009", check=0)
        proc = self.box.run("catalog", "show", "person", "P-0009")
        self.assertEqual(proc.returncode, 66)


class SendTest(StoreTest):

    def test_references_duplicates_and_copy_to_me(self):
        # root (who created the database) is the person with login root.
        self.box.run("catalog", "add", "person", "ident=P-0000",
                     "name=Rita Root", "email=rita@werk.example",
                     "login=root", check=0)
        self.send("--to", "list:8d-team", "--to", "alice",
                  "--cc", "A.Gross@werk.example, C-1", "--bcc", "EK",
                  "--copy-to-me", "--record", "8D-2026-0042")
        raws = self.box.delivered()
        self.assertEqual(len(raws), 1)
        msg = parse(raws[0])
        to = [a.addr_spec for a in msg["to"].addresses]
        self.assertEqual(to, ["j.mueller@werk.example",
                              "qm-postfach@werk.example",
                              "olga@groesse.example",
                              "a.gross@werk.example"])
        self.assertIsNone(msg["cc"])
        self.assertNotIn(b"einkauf@", raws[0])
        mail = self.json("history", "list")[0]
        shown = self.json("history", "show", str(mail["id"]))
        got = [(r["kind"], r["address"], r["source"], r["status"])
               for r in shown["recipients"]]
        self.assertEqual(got, [
            ("to", "j.mueller@werk.example",
             "list:8d-team > list:leitung > person:P-0001", "accepted"),
            ("to", "qm-postfach@werk.example",
             "list:8d-team > list:leitung", "accepted"),
            ("to", "olga@groesse.example", "list:8d-team > contact:C-1",
             "accepted"),
            ("to", "a.gross@werk.example", "list:8d-team > person:P-0002",
             "accepted"),
            ("bcc", "einkauf@werk.example", "department:EK", "accepted"),
            ("bcc", "rita@werk.example", "copy-to-sender > person:P-0000",
             "accepted")])
        self.assertEqual(shown["record"], "8D-2026-0042")
        self.assertEqual([e["kind"] for e in shown["history"]],
                         ["queued", "attempt"])

    def test_raw_is_what_was_delivered(self):
        att = self.box.write("Prüfbericht.bin", os.urandom(300000))
        self.send("--to", "P-0001", "--attach", att)
        raw = self.box.run("history", "show", "1", "--raw", binary=True,
                           check=0).stdout
        self.assertIn(b"\r\n", raw)
        self.assertEqual(raw.replace(b"\r\n", b"\n"),
                         self.box.delivered()[0])
        shown = self.json("history", "show", "1")
        self.assertEqual(shown["size"], len(raw))
        att_info = shown["attachments"][0]
        self.assertEqual(att_info["filename"], "Prüfbericht.bin")
        self.assertEqual(att_info["size"], 300000)

    def test_record_journal_and_search(self):
        self.send("--to", "P-0001", "--record", "AUD-2026-7")
        self.send("--to", "P-0002")
        self.assertEqual([m["id"] for m in
                          self.json("history", "list", "--record",
                                    "AUD-2026-7")], [1])
        self.assertEqual([m["id"] for m in
                          self.json("history", "list", "--journal")], [2])
        self.assertEqual([m["id"] for m in
                          self.json("history", "search", "gehause", "gross")],
                         [2])
        record = self.json("record", "show", "AUD-2026-7")
        self.assertEqual((record["kind"], record["owner"], record["mails"]),
                         ("AUD", "root", 1))
        for text in ("'; DELETE FROM mail; --", "%", "_"):
            self.assertEqual(self.json("history", "search", text), [])
        self.assertEqual(len(self.json("history", "list")), 2)

    def test_verify_names_the_changed_entry(self):
        self.send("--to", "P-0001")
        self.send("--to", "P-0002")
        self.assertEqual(self.json("history", "verify")["ok"], True)
        # Entries: 1 queued mail 1, 2 its attempt, 3 queued mail 2, 4 ...
        self.box.sql("UPDATE mail SET subject = 'p' || substr(subject, 2)"
                     " WHERE id = 2")
        proc = self.box.run("history", "verify")
        self.assertEqual(proc.returncode, 65)
        self.assertIn("history broken at entry 3", proc.stdout)
        result = self.json("history", "verify", check=65)
        self.assertEqual(result["broken_entry"], 3)

    def test_verify_finds_a_changed_byte_of_a_message(self):
        self.send("--to", "P-0001")
        data = bytearray(self.box.sql(
            "SELECT data FROM mail_chunk WHERE mail_id = 1")[0][0])
        data[-5] ^= 0x20
        self.box.sql("UPDATE mail_chunk SET data = ? WHERE mail_id = 1",
                     bytes(data))
        result = self.json("history", "verify", check=65)
        self.assertEqual(result["broken_entry"], 1)
        self.assertIn("raw message of mail 1", result["problem"])

    def test_queue_cancel_retry_deliver(self):
        first = self.json("send", "--from", "qm@werk.example", "--to",
                          "P-0001", "--queue-only")
        second = self.json("send", "--from", "qm@werk.example", "--to",
                           "P-0002", "--queue-only")
        self.assertEqual(first["state"], "queued")
        waiting = self.json("outbox", "list")
        self.assertEqual([m["state"] for m in waiting], ["queued", "queued"])
        self.box.run("outbox", "cancel", str(first["id"]), check=0)
        summary = self.json("deliver", "--once")
        self.assertEqual((summary["claimed"], summary["sent"]), (1, 1))
        self.assertEqual(len(self.box.delivered()), 1)
        self.assertEqual(self.json("outbox", "list"), [])
        states = {m["id"]: m["state"] for m in
                  self.json("outbox", "list", "--all")}
        self.assertEqual(states, {first["id"]: "cancelled",
                                  second["id"]: "sent"})
        proc = self.box.run("outbox", "retry", str(second["id"]))
        self.assertEqual(proc.returncode, 65)
        self.assertIn("is sent and cannot be retried", proc.stderr)

    @unittest.skipIf(POSTGRES, "a SQLite file")
    def test_database_is_created_at_the_default_path(self):
        self.assertTrue(os.path.isfile(self.box.db))
        proc = self.box.run("config", check=0)
        self.assertIn("database = %s" % self.box.db, proc.stdout)
        with sqlite3.connect(self.box.db) as con:
            mode = con.execute("PRAGMA journal_mode").fetchone()[0]
            versions = [row[0] for row in con.execute(
                "SELECT version FROM schema_version ORDER BY version")]
        self.assertEqual(mode, "wal")
        # Every migration, each once, in order.
        self.assertGreater(len(versions), 1)
        self.assertEqual(versions, list(range(1, len(versions) + 1)))


class FreshDatabaseTest(SandboxTest):

    def test_processes_racing_to_create_it_are_all_administrators(self):
        """Several commands at once on a database that does not exist
        yet: one creates it, and every one of them finds its creator and
        root registered as administrators."""
        procs = [subprocess.Popen(
            [CAQMAIL, "send", "--queue-only", "--to", "a@werk.example",
             "--subject", "race %d" % i],
            env=self.box.env(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE) for i in range(6)]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            self.assertEqual(proc.returncode, 0, err.decode())
        proc = self.box.run("outbox", "list", "--json", check=0)
        self.assertEqual(len(json.loads(proc.stdout)), 6)


class PermissionTest(StoreTest):
    """A user without read-all sees nothing of another user's mail,
    through every command."""

    def setUp(self):
        super().setUp()
        self.box.run("user", "add", "alice", check=0)
        self.box.run("user", "add", "bob", check=0)
        self.box.run("user", "add", "carol", "--role", "auditor", check=0)
        self.box.run("--as", "alice", "send", "--from", "alice@werk.example",
                     "--to", "P-0003", "--subject", "Geheim Alpha",
                     "--record", "8D-2026-0099", "--body", "x", check=0)
        self.box.run("--as", "alice", "send", "--from", "alice@werk.example",
                     "--to", "P-0003", "--subject", "Geheim Beta",
                     "--queue-only", "--body", "x", check=0)

    def as_user(self, login, *args, check=None):
        return self.box.run("--as", login, *args, check=check)

    def test_other_users_see_nothing(self):
        reads = [
            ("history", "list", "--json"),
            ("history", "list", "--record", "8D-2026-0099", "--json"),
            ("history", "search", "Geheim", "--json"),
            ("outbox", "list", "--all", "--json"),
            ("outbox", "list", "--json"),
        ]
        for args in reads:
            proc = self.as_user("bob", *args)
            self.assertEqual(proc.returncode, 0, (args, proc.stderr))
            self.assertEqual(json.loads(proc.stdout), [], args)
            seen = json.loads(self.as_user("carol", *args).stdout)
            self.assertTrue(seen, args)
            mine = json.loads(self.as_user("alice", *args).stdout)
            self.assertEqual(len(mine), len(seen), args)
        for args in [("history", "show", "1"), ("history", "show", "1",
                                                "--raw"),
                     ("outbox", "show", "2"), ("outbox", "cancel", "2"),
                     ("outbox", "retry", "1"), ("history", "show", "2",
                                                "--json")]:
            proc = self.as_user("bob", *args)
            self.assertEqual(proc.returncode, 66, args)
            self.assertEqual(proc.stdout, "", args)
            self.assertNotIn("Geheim", proc.stderr)
            self.assertIn("does not exist", proc.stderr)
        record = json.loads(self.as_user("bob", "record", "show",
                                         "8D-2026-0099", "--json").stdout)
        self.assertEqual(record["mails"], 0)
        proc = self.as_user("bob", "history", "verify")
        self.assertEqual(proc.returncode, 77)
        self.assertIn("needs permission 'read-all'", proc.stderr)
        proc = self.as_user("bob", "deliver", "--once")
        self.assertEqual(proc.returncode, 77)
        # Nothing bob did changed alice's mail.
        states = {m["id"]: m["state"] for m in
                  json.loads(self.as_user("carol", "outbox", "list", "--all",
                                          "--json").stdout)}
        self.assertEqual(states, {1: "sent", 2: "queued"})

    def test_rights_follow_roles(self):
        proc = self.as_user("bob", "catalog", "add", "department",
                            "ident=XX", "name=X")
        self.assertEqual(proc.returncode, 77)
        self.assertIn("needs permission 'edit-catalog'", proc.stderr)
        proc = self.as_user("bob", "user", "add", "mallory")
        self.assertEqual(proc.returncode, 77)
        proc = self.as_user("nobody-here", "history", "list")
        self.assertEqual(proc.returncode, 66)
        self.assertIn("'nobody-here' is not registered", proc.stderr)
        self.box.run("user", "grant", "bob", "catalog-editor", check=0)
        self.as_user("bob", "catalog", "add", "department", "ident=XX",
                     "name=X", check=0)
        me = json.loads(self.as_user("bob", "user", "show", "--json").stdout)
        self.assertEqual((me["person"], me["roles"]),
                         ("P-0002", ["catalog-editor", "sender"]))
        proc = self.box.run("user", "revoke", "root", "administrator")
        self.assertEqual(proc.returncode, 65)
        self.assertIn("the last administrator cannot be removed",
                      proc.stderr)
        proc = self.box.run("user", "revoke", "nobody-here", "sender")
        self.assertEqual(proc.returncode, 66)

    def test_unregistered_operating_system_user(self):
        if os.getuid() != 0:
            self.skipTest("needs root to run as another user")
        for path in (self.box.data, self.box.db, self.box.db + "-wal",
                     self.box.db + "-shm"):
            if os.path.exists(path):
                os.chmod(path, 0o777 if os.path.isdir(path) else 0o666)
        os.chmod(self.box.home, 0o755)
        for parent in (os.path.dirname(self.box.data),
                       os.path.dirname(os.path.dirname(self.box.data))):
            os.chmod(parent, 0o755)
        nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup",
                  "--clear-groups"]
        proc = self.box.run("history", "list", prefix=nobody)
        self.assertEqual(proc.returncode, 77, proc.stderr)
        self.assertIn("user 'nobody' may not read the history: not "
                      "registered", proc.stderr)
        proc = self.box.run("--as", "alice", "history", "list",
                            prefix=nobody)
        self.assertEqual(proc.returncode, 77)
        self.assertIn("may not act for another user", proc.stderr)
        self.box.run("user", "add", "nobody", check=0)
        proc = self.box.run("history", "list", "--json", prefix=nobody)
        self.assertEqual(json.loads(proc.stdout), [])


if __name__ == "__main__":
    unittest.main()
