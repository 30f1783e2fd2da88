"""A private PostgreSQL server on loopback for tests and benchmarks.

The cluster lives in one temporary folder (made with initdb, owned by
the `postgres` user Debian's package creates when this runs as root),
listens on 127.0.0.1 on a free port and keeps its Unix socket in that
folder; the system's clusters and /etc/postgresql are left alone.  The
superuser is `caqtest`, trusted on loopback without a password.

    with PrivatePostgres() as pg:
        location = pg.create_schema()   # or create_database()
        ...
        pg.drop(location)

The server dies with the process that started it (a parent-death
signal), so a killed test run leaves no server behind; stop() and
__exit__ stop it and remove the folder.

Run as a program, it wraps a test command:

    postgres.py run -- COMMAND [ARG...]

starts a server, runs COMMAND with CAQMAIL_TEST_DATABASE set to the
server's address (postgresql://caqtest@127.0.0.1:PORT; the tests make
their own databases there), stops the server afterwards whatever the
command's outcome, and exits with the command's exit code.
"""

import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

SUPERUSER = "caqtest"
# Creating tables means creating files: in memory it is several times
# faster than on disk.
SCRATCH = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
PR_SET_PDEATHSIG = 1


def find_bindir():
    """The newest server installed by Debian's packages, else PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(p.split("/")[4]))
    if found:
        return os.path.dirname(found[-1])
    postgres = shutil.which("postgres")
    if postgres is None:
        raise RuntimeError("PostgreSQL is not installed (Debian: postgresql)")
    return os.path.dirname(postgres)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivatePostgres:
    """One server in its own folder (in @scratch: by default in memory
    where possible); durable=False trades the disk flushes (fsync) for
    speed, which tests do not need."""

    def __init__(self, durable=False, scratch=SCRATCH):
        self.durable = durable
        self.scratch = scratch
        self.bindir = find_bindir()
        self.root = None
        self.proc = None
        self.port = None
        self.log = None
        self.owner = None
        if os.geteuid() == 0:
            try:
                self.owner = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root needs the user "
                                   "'postgres' (Debian: postgresql)")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base(self):
        """The server's address without a database name."""
        return "postgresql://%s@127.0.0.1:%d" % (SUPERUSER, self.port)

    def uri(self, database):
        return "%s/%s" % (self.base, database)

    def _demote(self, die_with_parent):
        owner = self.owner

        def run():
            if owner is not None:
                os.setgroups([])
                os.setgid(owner.pw_gid)
                os.setuid(owner.pw_uid)
            if die_with_parent:
                # after the change of user, which clears the setting
                libc = ctypes.CDLL(None, use_errno=True)
                libc.prctl(PR_SET_PDEATHSIG, signal.SIGINT, 0, 0, 0)
        return run

    def _initdb(self):
        data = os.path.join(self.root, "data")
        proc = subprocess.run(
            [os.path.join(self.bindir, "initdb"), "-D", data,
             "-U", SUPERUSER, "--auth=trust", "--no-sync",
             "--encoding=UTF8", "--locale=C.UTF-8"],
            capture_output=True, text=True, cwd=self.root,
            preexec_fn=self._demote(False))
        if proc.returncode != 0:
            raise RuntimeError("initdb failed: %s" % proc.stderr)
        return data

    def _launch(self, data):
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": self.root,
            "max_connections": "60",
            "fsync": "on" if self.durable else "off",
            "synchronous_commit": "on" if self.durable else "off",
            "full_page_writes": "on" if self.durable else "off",
        }
        argv = [os.path.join(self.bindir, "postgres"), "-D", data]
        for key, value in settings.items():
            argv += ["-c", "%s=%s" % (key, value)]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                cwd=self.root, preexec_fn=self._demote(True))

    def _wait_ready(self, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                self.connect("postgres").close()
                return True
            except Exception:
                time.sleep(0.05)
        return False

    def start(self):
        self.root = tempfile.mkdtemp(prefix="caqmail-pg-", dir=self.scratch)
        self.log = os.path.join(self.root, "server.log")
        if self.owner is not None:
            os.chown(self.root, self.owner.pw_uid, self.owner.pw_gid)
        try:
            data = self._initdb()
            for _ in range(5):
                self.port = free_port()
                self._launch(data)
                if self._wait_ready():
                    return self
                self._halt()
            raise RuntimeError("PostgreSQL did not start:\n%s"
                               % self.log_tail())
        except BaseException:
            self.stop()
            raise

    def log_tail(self, lines=30):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def _halt(self):
        """Fast shutdown: ends the sessions, then the server."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def stop(self):
        self._halt()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def connect(self, database):
        """A psycopg2 connection in autocommit mode."""
        import psycopg2
        con = psycopg2.connect(host="127.0.0.1", port=self.port,
                               user=SUPERUSER, dbname=database,
                               connect_timeout=5)
        con.autocommit = True
        return con

    def create_database(self, name=None):
        """Creates an empty database; returns its URI."""
        name = name or "caqtest_" + uuid.uuid4().hex[:16]
        self._admin('CREATE DATABASE "%s" ENCODING \'UTF8\'' % name)
        return self.uri(name)

    def create_schema(self):
        """An empty schema of its own in the database `postgres`, which
        is as empty to caqmail as a new database and made many times
        faster; returns its location (the search path set in the URI)."""
        name = "caqtest_" + uuid.uuid4().hex[:16]
        self._admin('CREATE SCHEMA "%s"' % name)
        return "%s?options=-csearch_path%%3D%s" % (self.uri("postgres"), name)

    def drop(self, location):
        """Drops what create_database() or create_schema() made."""
        if "search_path%3D" in location:
            self._admin('DROP SCHEMA IF EXISTS "%s" CASCADE'
                        % location.rsplit("%3D", 1)[1])
        else:
            self.drop_database(location)

    def drop_database(self, uri):
        self._admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
                    % uri.rsplit("/", 1)[1])

    def _admin(self, sql):
        con = self.connect("postgres")
        try:
            with con.cursor() as cur:
                cur.execute("SET client_min_messages = warning")
                cur.execute(sql)
        finally:
            con.close()


class ExistingServer(PrivatePostgres):
    """A server someone else started, named by its base URI."""

    def __init__(self, base):
        prefix = "postgresql://%s@127.0.0.1:" % SUPERUSER
        if not base.startswith(prefix):
            raise RuntimeError("CAQMAIL_TEST_DATABASE: expected %sPORT, "
                               "got %r" % (prefix, base))
        self.port = int(base[len(prefix):].rstrip("/"))

    def stop(self):
        pass


def run(argv):
    """Runs @argv with a private server; returns its exit code."""
    with PrivatePostgres() as pg:
        env = dict(os.environ, CAQMAIL_TEST_DATABASE=pg.base)
        proc = subprocess.Popen(argv, env=env)

        def forward(signum, frame):
            proc.send_signal(signum)
        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        return proc.wait()


def main():
    args = sys.argv[1:]
    if len(args) < 3 or args[0] != "run" or args[1] != "--":
        sys.stderr.write("usage: postgres.py run -- COMMAND [ARG...]\n")
        return 64
    code = run(args[2:])
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
