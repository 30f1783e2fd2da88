"""Helpers for caqmail's integration tests.

Each test runs the built `caqmail` binary (path in $CAQMAIL) in a sandbox:
a private HOME, XDG folders and configuration, so that nothing outside a
temporary folder is read or written.  Messages are checked with Python's
own `email` package, a parser independent of the GMime code under test.

The database is the sandbox's SQLite file, or, with CAQMAIL_TEST_DATABASE
set, an empty one on PostgreSQL for each sandbox: "postgresql://..." names
a server that tests/servers/postgres.py started (`postgres.py run`, as
the meson suite 'postgresql' does); "postgresql" alone starts a private
server for this process.  Tests reach the database with Sandbox.sql().
"""

import atexit
import email
import email.policy
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "servers"))

CAQMAIL = os.environ.get("CAQMAIL", "caqmail")
SANITIZED = os.environ.get("CAQMAIL_SANITIZED") == "1"
DATABASE = os.environ.get("CAQMAIL_TEST_DATABASE", "")
POSTGRES = DATABASE.startswith("postgresql")

_server = None


def postgres_server():
    """The PostgreSQL server the tests of this process share."""
    global _server
    if _server is None:
        import postgres
        if DATABASE.startswith("postgresql://"):
            _server = postgres.ExistingServer(DATABASE)
        else:
            _server = postgres.PrivatePostgres().start()
            atexit.register(_server.stop)
    return _server


class Sandbox:
    """A private HOME with its own configuration and Maildir; @backend
    ("sqlite" or "postgresql") overrides CAQMAIL_TEST_DATABASE."""

    def __init__(self, backend=None):
        self.root = tempfile.mkdtemp(prefix="caqmail-it-")
        os.chmod(self.root, 0o755)
        self.home = os.path.join(self.root, "home")
        os.makedirs(self.home)
        self.data = os.path.join(self.home, ".local", "share", "caqmail")
        self.maildir = os.path.join(self.data, "maildir")
        self.config = None
        self.database = None
        if backend == "postgresql" if backend else POSTGRES:
            self.database = postgres_server().create_schema()
            # readable by the other users some tests run as
            self.write_config("", mode=0o644)

    def close(self):
        if self.database is not None:
            postgres_server().drop(self.database)
            self.database = None
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def db(self):
        """The database's location: a URI, or the default SQLite file."""
        return self.database or os.path.join(self.data, "caqmail.db")

    def sql(self, query, *params):
        """Runs @query (with ? placeholders) on the sandbox's database,
        past caqmail; returns the rows."""
        if self.database is None:
            con = sqlite3.connect(self.db)
            try:
                with con:
                    return con.execute(query, params).fetchall()
            finally:
                con.close()
        import psycopg2
        con = psycopg2.connect(self.database)
        try:
            with con, con.cursor() as cur:
                cur.execute(query.replace("%", "%%").replace("?", "%s"),
                            params)
                return cur.fetchall() if cur.description else []
        finally:
            con.close()

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write(self, name, data, mode=0o644):
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        os.chmod(path, mode)
        return path

    def write_config(self, text, mode=0o600):
        if self.database is not None:
            text = "[store]\ndatabase = %s\n\n%s" % (self.database, text)
        self.config = self.write("caqmail.conf", text, mode)
        return self.config

    def env(self, extra=None):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.home,
            "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
            "XDG_DATA_HOME": os.path.join(self.home, ".local", "share"),
            "LANG": "C.UTF-8",
            "TZ": "Europe/Berlin",
        }
        for key in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if key in os.environ:
                env[key] = os.environ[key]
        if self.config:
            env["CAQMAIL_CONFIG"] = self.config
        env.update(extra or {})
        return env

    def run(self, *args, stdin=None, env=None, check=None, binary=False,
            timeout=120, prefix=()):
        proc = subprocess.run(
            list(prefix) + [CAQMAIL] + list(args),
            input=stdin, capture_output=True, env=self.env(env),
            timeout=timeout, cwd=self.root)
        if not binary:
            proc.stdout = proc.stdout.decode("utf-8", "replace")
        proc.stderr = proc.stderr.decode("utf-8", "replace")
        if check is not None and proc.returncode != check:
            raise AssertionError(
                "caqmail %s: exit %d, expected %d\nstderr: %s"
                % (" ".join(args), proc.returncode, check, proc.stderr))
        return proc

    def delivered(self):
        """The raw messages in the Maildir's new/ folder, oldest first."""
        folder = os.path.join(self.maildir, "new")
        if not os.path.isdir(folder):
            return []
        names = sorted(os.listdir(folder))
        out = []
        for name in names:
            with open(os.path.join(folder, name), "rb") as f:
                out.append(f.read())
        return out

    def leftovers(self):
        """Files in the Maildir's tmp/ folder: there must never be any."""
        folder = os.path.join(self.maildir, "tmp")
        return os.listdir(folder) if os.path.isdir(folder) else []


def parse(raw):
    """Parses a message with the standard library's modern policy."""
    return email.message_from_bytes(raw, policy=email.policy.default)


class SandboxTest(unittest.TestCase):
    """A test case with a fresh Sandbox in self.box."""

    def setUp(self):
        self.box = Sandbox()

    def tearDown(self):
        self.box.close()
