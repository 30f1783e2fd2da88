"""What only PostgreSQL does: delivery workers in separate processes
(one of them, as if on another machine, killed in the middle) sharing
one database and a counting SMTP sink; `caqmail migrate` from a SQLite
database filled through the commands; passwords kept out of locations
and logs.  The server is the suite's (CAQMAIL_TEST_DATABASE, set by
tests/servers/postgres.py run) or a private one."""

import collections
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "servers"))
from caqtest import CAQMAIL, SANITIZED, Sandbox, postgres_server  # noqa
from faultsmtp import FaultServer, Script  # noqa: E402

DRIVER = os.environ.get("OUTBOX_DRIVER", "outbox-driver")
# Under the sanitizers, which make every process several times slower,
# the same paths run with fewer mails.
MAILS = 2500 if SANITIZED else 10000
KILL_MAILS = 2500
CLONE_NEWUTS = 0x04000000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CountingSink:
    """Postfix's smtp-sink on loopback, writing every message it accepts
    into one file, so that each Message-ID is counted where it arrived."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="caqmail-sink-")
        self.dump = os.path.join(self.root, "dump")
        self.port = free_port()
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        if user:
            shutil.chown(self.root, "nobody")
        self.proc = subprocess.Popen(
            ["/usr/sbin/smtp-sink"] + user +
            ["-D", self.dump, "127.0.0.1:%d" % self.port, "1000"],
            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("smtp-sink did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def counts(self, tag):
        """How often each Message-ID with @tag arrived."""
        pattern = re.compile(rb"^Message-ID: <(%s-\d+)@caqmail\.test>"
                             % re.escape(tag.encode()), re.M | re.I)
        if not os.path.exists(self.dump):
            return collections.Counter()
        with open(self.dump, "rb") as f:
            return collections.Counter(m.group(1).decode()
                                       for m in pattern.finditer(f.read()))


def elsewhere():
    """Runs the child in a UTS namespace of its own, under another host
    name: its claims look like those of a worker on another machine,
    whose death only the lease tells."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWUTS) != 0:
        raise OSError(ctypes.get_errno(), "unshare")
    name = b"worker-elsewhere"
    if libc.sethostname(name, len(name)) != 0:
        raise OSError(ctypes.get_errno(), "sethostname")


class WorkersTest(unittest.TestCase):
    """Four `caqmail deliver` processes and one database: 10,000 mails
    delivered exactly once; one worker killed in the middle of 2,500."""

    def setUp(self):
        self.box = Sandbox(backend="postgresql")
        self.addCleanup(self.box.close)
        self.sink = CountingSink()
        self.addCleanup(self.sink.stop)
        self.tag = uuid.uuid4().hex[:12]
        self.box.write_config(
            "[message]\nfrom = QM <qm@werk.example>\n\n"
            "[outbox]\nbatch = 50\nlease = 10s\npoll_interval = 1s\n\n"
            "[smtp]\nhost = 127.0.0.1\nport = %d\ntls = none\n"
            "timeout_connect = 5s\n" % self.sink.port)

    def enqueue(self, count):
        self.count = count
        proc = subprocess.run(
            [DRIVER, str(count), "500", self.tag, "ziel@werk.example"],
            capture_output=True, env=self.box.env(), timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def worker(self, mode, preexec_fn=None):
        return subprocess.Popen(
            [CAQMAIL, "-q", "deliver", mode, "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=self.box.env(), cwd=self.box.root, preexec_fn=preexec_fn)

    def finish(self, proc):
        out, err = proc.communicate(timeout=900)
        self.assertEqual(proc.returncode, 0, err)
        return json.loads(out)

    def states(self):
        return dict(self.box.sql(
            "SELECT state, COUNT(*) FROM outbox GROUP BY state"))

    def wait_until(self, what, seconds=600):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if what():
                return
            time.sleep(0.2)
        self.fail("timed out waiting; outbox: %s" % self.states())

    def assert_verified(self):
        verify = json.loads(self.box.run("history", "verify", "--json",
                                         check=0).stdout)
        self.assertTrue(verify["ok"], verify)
        return verify

    def assert_linked(self, entries):
        """One chain without gaps or forks: entry n+1 names the hash of
        entry n, and the head the last one (what several appenders at
        once could break; the killed-worker test recomputes every hash
        with `history verify`)."""
        rows = self.box.sql(
            "SELECT COUNT(*), MIN(seq), MAX(seq), SUM(CASE WHEN before IS"
            " NOT NULL AND (before_seq + 1 <> seq OR before <> prev_hash)"
            " THEN 1 ELSE 0 END) FROM (SELECT seq, prev_hash,"
            " LAG(hash) OVER (ORDER BY seq) AS before,"
            " LAG(seq) OVER (ORDER BY seq) AS before_seq FROM history) AS h")
        self.assertEqual(rows[0], (entries, 1, entries, 0))
        head = self.box.sql("SELECT h.seq FROM history_head h JOIN history"
                            " e ON e.seq = h.seq AND e.hash = h.hash")
        self.assertEqual(head, [(entries,)])

    def test_every_mail_arrives_exactly_once(self):
        self.enqueue(MAILS)
        workers = [self.worker("--once") for _ in range(4)]
        summaries = [self.finish(w) for w in workers]
        got = self.sink.counts(self.tag)
        self.assertEqual(len(got), self.count, "every mail arrived")
        self.assertEqual(max(got.values()), 1, "a mail arrived twice")
        self.assertEqual(sum(s["sent"] for s in summaries), self.count)
        self.assertTrue(all(s["claimed"] > 0 for s in summaries), summaries)
        self.assertEqual(self.states(), {"sent": self.count})
        self.assert_linked(2 * self.count)

    def test_worker_killed_in_the_middle_loses_nothing(self):
        self.enqueue(KILL_MAILS)
        remote = os.geteuid() == 0
        victim = self.worker("--daemon", elsewhere if remote else None)
        workers = [self.worker("--daemon") for _ in range(3)]
        self.wait_until(lambda: self.states().get("sent", 0) >= self.count // 4)
        victim.send_signal(signal.SIGKILL)
        victim.communicate()
        owner = "worker-elsewhere:%d:%%" % victim.pid if remote else \
            "%%:%d:%%" % victim.pid
        in_flight = self.box.sql(
            "SELECT COUNT(*) FROM outbox WHERE state = 'sending'"
            " AND lease_owner LIKE ?", owner)[0][0]
        self.assertLess(self.states().get("sent", 0), self.count, "killed late")

        self.wait_until(lambda: self.states() == {"sent": self.count})
        for w in workers:
            w.send_signal(signal.SIGTERM)
        summaries = [self.finish(w) for w in workers]
        self.assertEqual(sum(s["taken_over"] for s in summaries), in_flight)
        got = self.sink.counts(self.tag)
        self.assertEqual(len(got), self.count, "every mail arrived")
        duplicates = sum(got.values()) - len(got)
        self.assertLessEqual(duplicates, in_flight)
        kinds = dict(self.box.sql(
            "SELECT kind, COUNT(*) FROM history GROUP BY kind"))
        self.assertEqual(kinds.get("takeover", 0), in_flight)
        self.assert_verified()


PERSONS = """\
ident,name,email,department,supervisor,language,login
P-0001,Jürgen Müller,j.mueller@werk.example,,,de,alice
P-0002,Änne Groß,a.gross@werk.example,,P-0001,de,bob
"""

LISTS = """\
name,description,member
8d-team,8D-Team,P-0001
8d-team,,person:P-0002
8d-team,,qm-postfach@werk.example
"""


class MigrateTest(unittest.TestCase):
    """A SQLite database filled through the commands, then moved."""

    def setUp(self):
        self.server = FaultServer(Script(rcpt_replies={
            "weg@werk.example": "550 5.1.1 user unknown"})).start()
        self.addCleanup(self.server.stop)
        self.old = Sandbox(backend="sqlite")
        self.addCleanup(self.old.close)
        self.smtp = ("[message]\nfrom = QM <qm@werk.example>\n\n"
                     "[smtp]\nhost = 127.0.0.1\nport = %d\ntls = none\n"
                     % self.server.port)
        self.old.write_config(self.smtp)
        self.fill()
        self.target = postgres_server().create_database()
        self.addCleanup(postgres_server().drop, self.target)

    def fill(self):
        run = self.old.run
        for kind, text in (("person", PERSONS), ("list", LISTS)):
            run("catalog", "import", kind,
                self.old.write(kind + ".csv", text), check=0)
        run("user", "add", "alice", "--role", "auditor", check=0)
        run("record", "add", "8D-2026-0042", "--title", "Gehäuse", check=0)
        report = self.old.write("Prüfbericht.csv",
                                "Maß;Wert\n" + "Ø 12,5;0,02\n" * 60000)
        run("document", "add", report, "--title", "Prüfbericht",
            "--record", "8D-2026-0042", check=0)
        run("send", "--to", "list:8d-team", "--record", "8D-2026-0042",
            "--subject", "Maßnahmen", "--body", "Grüße\n", "--document",
            "DOC-1", check=0)
        run("send", "--to", "P-0002", "--to", "weg@werk.example",
            "--subject", "Teilweise", "--body", "x\n", check=69)
        run("send", "--to", "P-0001", "--subject", "Wartet", "--body",
            "später\n", "--queue-only", check=0)
        run("measure", "add", "M-1", "--record", "8D-2026-0042", "--title",
            "Prüfmittel tauschen", "--responsible", "P-0001", "--due",
            "2026-11-02", check=0)
        run("measure", "done", "M-1", check=0)
        run("gauge", "add", "MS-0815", "--description", "Bügelmessschraube",
            "--holder", "P-0002", "--interval", "12", "--due", "2026-12-10",
            check=0)

    def on_target(self):
        """A sandbox whose configured database is the target."""
        box = Sandbox(backend="sqlite")
        self.addCleanup(box.close)
        box.write_config("[store]\ndatabase = %s\n\n%s"
                         % (self.target, self.smtp))
        return box

    def json(self, box, *args):
        return json.loads(box.run(*args, "--json", check=0).stdout)

    def test_history_and_raw_messages_arrive_unchanged(self):
        before = self.json(self.old, "history", "verify")
        result = self.json(self.old, "migrate", "--to", self.target)
        self.assertEqual(result["entries"], before["entries"])
        self.assertEqual(result["head"], before["head"])

        new = self.on_target()
        self.assertEqual(self.json(new, "history", "verify"), before)
        for args in (("history", "list"), ("outbox", "list", "--all"),
                     ("catalog", "list", "person"),
                     ("catalog", "list", "list"), ("user", "list"),
                     ("record", "list"), ("document", "list"),
                     ("measure", "show", "M-1"), ("gauge", "list"),
                     ("gauge", "show", "MS-0815")):
            self.assertEqual(self.json(new, *args),
                             self.json(self.old, *args), args)
        mails = self.json(self.old, "history", "list")
        self.assertEqual(len(mails), 3)
        for mail in mails:
            shown = ("history", "show", str(mail["id"]))
            self.assertEqual(self.json(new, *shown),
                             self.json(self.old, *shown))
            raw_old = self.old.run(*shown, "--raw", binary=True, check=0)
            raw_new = new.run(*shown, "--raw", binary=True, check=0)
            self.assertEqual(raw_new.stdout, raw_old.stdout)
        self.assertGreater(len(self.server.messages), 0)
        exported = [box.run("document", "export", "DOC-1", "--output",
                            box.path("DOC-1.csv"), check=0)
                    and open(box.path("DOC-1.csv"), "rb").read()
                    for box in (self.old, new)]
        self.assertEqual(exported[0], exported[1])
        self.assertGreater(len(exported[0]), 2 * 256 * 1024)

        # The queued mail goes out from the new database, and new mails
        # get new numbers.
        self.assertEqual(self.json(new, "deliver", "--once")["sent"], 1)
        sent = self.json(new, "send", "--to", "P-0001", "--subject", "Neu",
                         "--body", "x\n")
        self.assertEqual(sent["id"], 4)
        self.assertTrue(self.json(new, "history", "verify")["ok"])

    def test_target_with_data_is_refused_and_kept(self):
        self.old.run("migrate", "--to", self.target, check=0)
        proc = self.old.run("migrate", "--to", self.target)
        self.assertEqual(proc.returncode, 65)
        self.assertIn("is not empty", proc.stderr)
        verify = self.json(self.on_target(), "history", "verify")
        self.assertTrue(verify["ok"])

    def test_broken_history_is_not_committed(self):
        self.old.sql("UPDATE mail SET subject = 'Gefälscht' WHERE id = 2")
        proc = self.old.run("migrate", "--to", self.target)
        self.assertEqual(proc.returncode, 65, proc.stderr)
        self.assertIn("does not verify", proc.stderr)
        con = postgres_server().connect(self.target.rsplit("/", 1)[1])
        try:
            with con.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM mail")
                self.assertEqual(cur.fetchone()[0], 0)
        finally:
            con.close()

    def test_missing_source_creates_nothing(self):
        missing = self.old.path("nicht-da.db")
        proc = self.old.run("migrate", "--from", missing, "--to",
                            self.target)
        self.assertEqual(proc.returncode, 66)
        self.assertIn("no such file", proc.stderr)
        self.assertFalse(os.path.exists(missing))


class PasswordTest(unittest.TestCase):
    """A role that logs in with a password, which libpq reads from
    ~/.pgpass; a location with a password inside is refused."""

    PASSWORD = "Prüf-Geheimnis 7"

    def setUp(self):
        self.pg = postgres_server()
        self.role = "mailer_" + uuid.uuid4().hex[:8]
        self.database = self.pg.create_database()
        con = self.pg.connect("postgres")
        with con.cursor() as cur:
            cur.execute("SHOW hba_file")
            self.hba = cur.fetchone()[0]
            cur.execute("CREATE ROLE %s LOGIN PASSWORD %%s" % self.role,
                        (self.PASSWORD,))
            cur.execute('ALTER DATABASE "%s" OWNER TO %s'
                        % (self.database.rsplit("/", 1)[1], self.role))
        with open(self.hba) as f:
            self.hba_text = f.read()
        with open(self.hba, "w") as f:
            f.write("host all %s 127.0.0.1/32 scram-sha-256\n%s"
                    % (self.role, self.hba_text))
        with con.cursor() as cur:
            cur.execute("SELECT pg_reload_conf()")
        con.close()
        self.addCleanup(self.restore)
        self.box = Sandbox(backend="sqlite")
        self.addCleanup(self.box.close)
        self.location = "postgresql://%s@127.0.0.1:%d/%s" % (
            self.role, self.pg.port, self.database.rsplit("/", 1)[1])
        self.box.write_config("[store]\ndatabase = %s\n" % self.location)

    def restore(self):
        with open(self.hba, "w") as f:
            f.write(self.hba_text)
        con = self.pg.connect("postgres")
        with con.cursor() as cur:
            cur.execute("SELECT pg_reload_conf()")
        con.close()
        self.pg.drop(self.database)
        con = self.pg.connect("postgres")
        with con.cursor() as cur:
            cur.execute("DROP ROLE IF EXISTS %s" % self.role)
        con.close()

    def test_pgpass_is_read_and_the_password_never_shown(self):
        proc = self.box.run("--debug", "user", "list")
        self.assertEqual(proc.returncode, 69, proc.stderr)
        self.assertIn("password", proc.stderr)
        pgpass = os.path.join(self.box.home, ".pgpass")
        with open(pgpass, "w") as f:
            f.write("127.0.0.1:%d:*:%s:%s\n"
                    % (self.pg.port, self.role, self.PASSWORD))
        os.chmod(pgpass, 0o600)
        proc = self.box.run("--debug", "send", "--to", "a@werk.example",
                            "--subject", "x", "--body", "x\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = self.box.run("--debug", "history", "verify")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        for text in (proc.stdout, proc.stderr,
                     self.box.run("config").stdout):
            self.assertNotIn("Geheimnis", text)

    def test_password_in_the_location_is_refused(self):
        self.box.write_config(
            "[store]\ndatabase = postgresql://%s:Geheimnis@127.0.0.1:%d/x\n"
            % (self.role, self.pg.port))
        proc = self.box.run("user", "list")
        self.assertEqual(proc.returncode, 78)
        self.assertIn("~/.pgpass", proc.stderr)
        self.assertNotIn("Geheimnis", proc.stderr)


if __name__ == "__main__":
    unittest.main()
