"""caqmail prefork: `caqmail send` handed to a running server, forked from
it or run by its warm worker, must behave exactly as when it runs alone:
the caller's arguments, environment, working folder, standard input,
output and error, exit code and signals; the mail in the Maildir or at
the SMTP server; the history.  Callers of another user are refused, and
without a server everything runs as before."""

import json
import os
import pty
import pwd
import select
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "servers"))

from caqtest import CAQMAIL, SandboxTest, parse  # noqa: E402
from faultsmtp import FaultServer, Script  # noqa: E402

EX_DATAERR, EX_NOINPUT, EX_SOFTWARE = 65, 66, 70
# cli/prefork.h
MAGIC, VERSION = 0x46505143, 2
STARTED, EXITED, TAKEN, REFUSED = 1, 2, 3, 4


def closed_unanswered(sock):
    """Whether the other end closed @sock without a word."""
    try:
        return sock.recv(8) == b""
    except ConnectionResetError:
        return True


class Prefork:
    """`caqmail -v prefork` for a sandbox; its log in self.log()."""

    def __init__(self, box, *args, env=None, program=CAQMAIL):
        self.box = box
        self.socket = box.path("run", "prefork.sock")
        self.log_path = box.path("prefork.log")
        self.env = box.env(dict(env or {}, CAQMAIL_PREFORK_SOCKET=self.socket))
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [program, "-v", "prefork"] + list(args), env=self.env,
            stdout=self.log_file, stderr=self.log_file, cwd=box.root)
        self.wait_for(lambda: os.path.exists(self.socket), "the socket")

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_for(self, test, what, timeout=30):
        deadline = time.monotonic() + timeout
        while not test():
            if self.proc.poll() is not None:
                raise AssertionError("prefork ended (%d) before %s:\n%s"
                                     % (self.proc.returncode, what,
                                        self.log()))
            if time.monotonic() > deadline:
                raise AssertionError("no %s:\n%s" % (what, self.log()))
            time.sleep(0.02)

    def wait_warm(self):
        self.wait_for(lambda: "prefork-warm-ready" in self.log(),
                      "warm worker")

    def ways(self):
        """How each command ran, in order: "warm" or "forked"."""
        return [line.split("way=")[1].split()[0]
                for line in self.log().splitlines()
                if "event=prefork-run" in line]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.log_file.close()
        return self.proc.returncode


class PreforkTest(SandboxTest):

    def setUp(self):
        super().setUp()
        os.makedirs(self.box.path("run"), mode=0o700)
        self.servers = []

    def tearDown(self):
        for server in self.servers:
            server.stop()
        super().tearDown()

    def start(self, *args, env=None, program=CAQMAIL):
        server = Prefork(self.box, *args, env=env, program=program)
        self.servers.append(server)
        return server

    def send(self, server, *args, check=0, env=None, cwd=None):
        proc = subprocess.run(
            [CAQMAIL, "send", "--from", "QM <qm@werk.example>"] + list(args),
            env=dict(server.env, **(env or {})), capture_output=True,
            text=True, cwd=cwd or self.box.root, timeout=60)
        if check is not None and proc.returncode != check:
            raise AssertionError("send: exit %d, expected %d\n%s\n%s"
                                 % (proc.returncode, check, proc.stderr,
                                    server.log()))
        return proc

    def subjects(self):
        return [parse(raw)["subject"] for raw in self.box.delivered()]

    # -- the two ways ------------------------------------------------------

    def test_warm_worker_runs_send_as_the_caller(self):
        server = self.start()
        server.wait_warm()
        self.box.write("texts/body.txt", "Prüfbericht anbei.\n")
        proc = self.send(server, "--to", "a@werk.example", "--subject",
                         "warm 1", "--body-file", "body.txt", "--json",
                         cwd=self.box.path("texts"))
        result = json.loads(proc.stdout)
        self.assertEqual(result["state"], "sent")
        self.send(server, "--to", "b@werk.example", "--subject", "warm 2",
                  "--body", "x")
        self.assertEqual(server.ways(), ["warm", "warm"])
        self.assertEqual(self.subjects(), ["warm 1", "warm 2"])
        msg = parse(self.box.delivered()[0])
        self.assertEqual(msg.get_content(), "Prüfbericht anbei.\n")
        rows = self.box.sql("SELECT mail_id, state FROM outbox ORDER BY 1")
        self.assertEqual(rows, [(result["id"], "sent"),
                                (result["id"] + 1, "sent")])
        verify = self.box.run("history", "verify", check=0)
        self.assertIn("intact", verify.stdout)

    def test_errors_and_exit_codes_reach_the_caller(self):
        server = self.start()
        server.wait_warm()
        proc = self.send(server, "--to", "kein Empfänger", "--body", "x",
                         check=EX_DATAERR)
        self.assertIn("not an address", proc.stderr)
        proc = self.send(server, "--to", "a@werk.example", "--body-file",
                         "missing.txt", check=EX_NOINPUT,
                         cwd=self.box.path("run"))
        self.assertIn("missing.txt", proc.stderr)
        self.assertEqual(server.ways(), ["warm", "warm"])
        self.assertEqual(self.box.delivered(), [])
        self.assertEqual(self.box.sql("SELECT COUNT(*) FROM mail"), [(0,)])
        # the worker is still there for the next one
        self.send(server, "--to", "a@werk.example", "--body", "x")
        self.assertEqual(server.ways(), ["warm", "warm", "warm"])

    def test_forked_without_workers(self):
        server = self.start("--warm", "0")
        self.box.write("texts/body.txt", "Text\n")
        self.send(server, "--to", "a@werk.example", "--subject", "forked",
                  "--body-file", "body.txt", cwd=self.box.path("texts"))
        proc = self.send(server, "--to", "kein Empfänger", "--body", "x",
                         check=EX_DATAERR)
        self.assertIn("not an address", proc.stderr)
        self.assertEqual(server.ways(), ["forked", "forked"])
        self.assertEqual(self.subjects(), ["forked"])

    def test_command_reads_the_callers_terminal(self):
        """A server started from the caller's terminal, as `caqmail
        prefork &` in a shell: the command it forks reads the message
        typed there, and is not stopped for reading it."""
        sock = self.box.path("run", "prefork.sock")
        log = self.box.path("prefork.log")
        script = ('"$0" -v prefork --warm 0 2>"$1" & '
                  'while [ ! -S "$2" ]; do sleep 0.05; done; '
                  '"$0" sendmail -t; echo "exit=$?"; kill $!; wait')
        pid, fd = pty.fork()
        if pid == 0:  # a new session, with the terminal as its own
            os.execve("/bin/sh", ["sh", "-c", script, CAQMAIL, log, sock],
                      self.box.env({"CAQMAIL_PREFORK_SOCKET": sock}))
        self.addCleanup(os.close, fd)
        self.addCleanup(lambda: os.waitpid(pid, 0))
        self.addCleanup(os.killpg, pid, signal.SIGKILL)
        deadline = time.monotonic() + 30

        def forked():
            if not os.path.exists(log):
                return False
            with open(log, encoding="utf-8") as f:
                return "way=forked" in f.read()
        while not forked():
            self.assertLess(time.monotonic(), deadline, "no fork")
            time.sleep(0.02)
        os.write(fd, b"To: a@werk.example\nSubject: typed\n\nText\n\x04")
        out = b""
        while b"exit=" not in out or not out.endswith(b"\n"):
            left = deadline - time.monotonic()
            self.assertGreater(left, 0, "the command did not end: %r" % out)
            if select.select([fd], [], [], left)[0]:
                out += os.read(fd, 4096)
        self.assertIn(b"exit=0", out)
        self.assertEqual(self.subjects(), ["typed"])

    def test_standard_input_and_other_environments_are_forked(self):
        server = self.start()
        server.wait_warm()
        proc = subprocess.run(
            [CAQMAIL, "send", "--to", "a@werk.example", "--subject",
             "from stdin", "--body-file", "-"], input="Über stdin\n",
            env=server.env, capture_output=True, text=True,
            cwd=self.box.root, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # another time zone: the Date header must be the caller's
        self.send(server, "--to", "a@werk.example", "--subject", "tz",
                  "--body", "x", env={"TZ": "Asia/Tokyo"})
        self.assertEqual(server.ways(), ["forked", "forked"])
        first, second = [parse(raw) for raw in self.box.delivered()]
        self.assertEqual(first.get_content(), "Über stdin\n")
        self.assertTrue(second["date"].endswith("+0900"), second["date"])

    def test_changed_configuration_is_read_again(self):
        self.box.write_config("[message]\nfrom = alt@werk.example\n")
        server = self.start()
        server.wait_warm()
        proc = subprocess.run(
            [CAQMAIL, "send", "--to", "a@werk.example", "--body", "x"],
            env=server.env, capture_output=True, text=True,
            cwd=self.box.root, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        time.sleep(0.01)  # a new modification time, even on coarse clocks
        self.box.write_config("[message]\nfrom = neu@werk.example\n")
        for _ in range(2):
            proc = subprocess.run(
                [CAQMAIL, "send", "--to", "a@werk.example", "--body", "x"],
                env=server.env, capture_output=True, text=True,
                cwd=self.box.root, timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stderr)
        senders = [parse(raw)["from"] for raw in self.box.delivered()]
        self.assertEqual(senders, ["alt@werk.example", "neu@werk.example",
                                   "neu@werk.example"])
        self.assertEqual(server.ways()[:2], ["warm", "forked"])

    def test_replaced_database_is_opened_again(self):
        server = self.start()
        server.wait_warm()
        self.send(server, "--to", "a@werk.example", "--subject", "before",
                  "--body", "x")
        # a restored copy takes the database's place, WAL and index gone
        if self.box.database is not None:
            self.skipTest("an SQLite file only")
        db = self.box.db
        copy = sqlite3.connect(db + ".restored")
        with sqlite3.connect(db) as live:
            live.backup(copy)
        copy.close()
        os.replace(db + ".restored", db)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)
        self.send(server, "--to", "a@werk.example", "--subject", "after",
                  "--body", "x")
        rows = self.box.sql("SELECT subject FROM mail ORDER BY id")
        self.assertEqual(rows, [("before",), ("after",)])
        self.assertEqual(server.ways(), ["warm", "forked"])
        server.wait_for(  # a new worker, on the restored file
            lambda: server.log().count("prefork-warm-ready") == 2,
            "a new warm worker")
        self.send(server, "--to", "a@werk.example", "--subject", "warm",
                  "--body", "x")
        self.assertEqual(server.ways(), ["warm", "forked", "warm"])
        self.assertEqual(len(self.box.sql("SELECT id FROM mail")), 3)

    # -- an upgrade ---------------------------------------------------------

    def copied_program(self):
        """caqmail, caqmail-cli and libcaqmail.so.0 copied into the
        sandbox, laid out as in the build tree: a program that can be
        replaced while it runs."""
        build = os.path.dirname(os.path.dirname(os.path.realpath(CAQMAIL)))
        top = self.box.path("program")
        for part in ("cli/caqmail", "cli/caqmail-cli", "lib/libcaqmail.so.0"):
            os.makedirs(os.path.dirname(os.path.join(top, part)),
                        exist_ok=True)
            shutil.copy2(os.path.join(build, part), os.path.join(top, part))
        return top

    def check_upgrade_ends_the_server(self, part):
        top = self.copied_program()
        server = self.start(program=os.path.join(top, "cli", "caqmail"))
        server.wait_warm()
        self.send(server, "--to", "a@werk.example", "--subject", "before",
                  "--body", "x")
        # an upgrade writes the new file beside the old and renames it
        path = os.path.join(top, part)
        shutil.copy2(path, path + ".new")
        os.replace(path + ".new", path)
        self.send(server, "--to", "a@werk.example", "--subject", "after",
                  "--body", "x")
        self.assertEqual(server.proc.wait(timeout=30), 75, server.log())
        # the file as the loader named it
        replaced = server.log().split("event=prefork-outdated replaced=")[1]
        self.assertEqual(os.path.realpath(replaced.split()[0]),
                         os.path.realpath(path))
        self.assertEqual(server.ways(), ["warm"])  # "after" ran by itself
        self.assertFalse(os.path.exists(server.socket))
        self.assertEqual(self.subjects(), ["before", "after"])

    def test_replaced_program_ends_the_server(self):
        self.check_upgrade_ends_the_server("cli/caqmail-cli")

    def test_replaced_library_ends_the_server(self):
        self.check_upgrade_ends_the_server("lib/libcaqmail.so.0")

    def test_warm_worker_keeps_and_renews_its_smtp_connection(self):
        smtp = FaultServer(Script()).start()
        self.addCleanup(smtp.stop)
        self.box.write_config("[smtp]\nhost = 127.0.0.1\nport = %d\n"
                              "tls = none\n" % smtp.port)
        server = self.start()
        server.wait_warm()
        for i in range(3):
            self.send(server, "--to", "a@werk.example", "--subject",
                      "kept %d" % i, "--body", "x")
        self.assertEqual(server.ways(), ["warm"] * 3)
        self.assertEqual(len(smtp.messages), 3)
        self.assertEqual(smtp.connections, 1)
        # a server that says 421 and closes after each message
        smtp.script.close_after_messages = 1
        for i in range(3):
            self.send(server, "--to", "a@werk.example", "--subject",
                      "renewed %d" % i, "--body", "x")
        self.assertEqual(len(smtp.messages), 6)
        self.assertEqual(
            self.box.sql("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"),
            [(6,)])

    def test_sends_at_once_each_go_out_once(self):
        server = self.start()
        server.wait_warm()
        procs = [subprocess.Popen(
            [CAQMAIL, "send", "--to", "a@werk.example", "--subject",
             "parallel %d" % i, "--body", "x"], env=server.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            cwd=self.box.root) for i in range(6)]
        for p in procs:
            _, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, err)
        self.assertEqual(sorted(self.subjects()),
                         ["parallel %d" % i for i in range(6)])
        self.assertEqual(len(server.ways()), 6)

    # -- signals and stopping ----------------------------------------------

    def sendmail_waiting(self, server):
        """A forked `caqmail sendmail` that waits for its message."""
        proc = subprocess.Popen(
            [CAQMAIL, "sendmail", "-t"], env=server.env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=self.box.root)
        server.wait_for(lambda: "way=forked" in server.log(), "the fork")
        return proc

    def test_signal_to_the_caller_reaches_the_command(self):
        server = self.start("--warm", "0")
        proc = self.sendmail_waiting(server)
        pid = int(server.log().split("event=prefork-run pid=")[1].split()[0])
        proc.send_signal(signal.SIGTERM)
        # Standard input stays open: at its end the command would finish
        # by itself, before the forwarded signal reaches it.
        proc.wait(timeout=30)
        proc.stdin.close()
        self.assertEqual(proc.returncode, -signal.SIGTERM)
        with self.assertRaises(ProcessLookupError):
            for _ in range(100):  # reaped by the server
                os.kill(pid, 0)
                time.sleep(0.05)

    def scripted_hand_over(self, sig=signal.SIGTERM):
        """A listening socket that plays the server: `caqmail send` hands
        itself over, and gets @sig (unless None) before any answer.
        Returns the caller's process and the accepted connection."""
        path = self.box.path("run", "scripted.sock")
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(path)
        listener.listen(1)
        self.addCleanup(listener.close)
        proc = subprocess.Popen(
            [CAQMAIL, "send", "--to", "a@werk.example", "--body", "x"],
            env=self.box.env({"CAQMAIL_PREFORK_SOCKET": path}),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(proc.kill)
        listener.settimeout(30)
        conn, _ = listener.accept()
        self.addCleanup(conn.close)
        conn.settimeout(30)
        head, fds, _, _ = socket.recv_fds(conn, 24, 4)
        for fd in fds:
            os.close(fd)
        self.assertEqual(len(fds), 4)
        magic, version, _, _, _, left = struct.unpack("6I", head)
        self.assertEqual((magic, version), (MAGIC, VERSION))
        while left > 0:
            left -= len(conn.recv(left))
        if sig is not None:
            proc.send_signal(sig)
            time.sleep(0.2)  # the signal arrives before the answer
        return proc, conn

    def test_signal_before_the_command_starts_reaches_it(self):
        proc, conn = self.scripted_hand_over()
        command = subprocess.Popen(["sleep", "60"])
        self.addCleanup(command.kill)
        conn.sendall(struct.pack("IiIi", TAKEN, 0, STARTED, command.pid))
        self.assertEqual(command.wait(timeout=30), -signal.SIGTERM)
        conn.sendall(struct.pack("Ii", EXITED, signal.SIGTERM))
        proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, -signal.SIGTERM)

    def test_signal_before_a_refusal_ends_the_caller(self):
        proc, conn = self.scripted_hand_over()
        conn.close()  # refused: nothing ran
        proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, -signal.SIGTERM)
        self.assertEqual(self.box.delivered(), [])

    def test_refused_after_taken_runs_the_command_itself(self):
        proc, conn = self.scripted_hand_over(sig=None)
        conn.sendall(struct.pack("IiIi", TAKEN, 0, REFUSED, 0))
        _, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(len(self.box.delivered()), 1)

    def test_lost_server_after_taken_runs_nothing(self):
        """The command may have started: running it again could send the
        mail twice."""
        proc, conn = self.scripted_hand_over(sig=None)
        conn.sendall(struct.pack("Ii", TAKEN, 0))
        conn.close()
        _, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, EX_SOFTWARE, err)
        self.assertIn(b"whether it ran is unknown", err)
        self.assertEqual(self.box.delivered(), [])
        if self.box.database is None:  # nothing opened it
            self.assertFalse(os.path.exists(self.box.db))

    def test_stop_lets_running_commands_finish(self):
        server = self.start()
        server.wait_warm()
        proc = self.sendmail_waiting(server)
        server.proc.send_signal(signal.SIGTERM)
        server.wait_for(lambda: not os.path.exists(server.socket),
                        "the socket removed")
        self.assertIsNone(server.proc.poll())
        out, err = proc.communicate(
            b"To: a@werk.example\nSubject: after stop\n\nText\n", timeout=30)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(server.proc.wait(timeout=30), 0)
        self.assertEqual(self.subjects(), ["after stop"])
        # without the server, a send runs by itself
        self.send(server, "--to", "a@werk.example", "--subject", "alone",
                  "--body", "x")
        self.assertEqual(self.subjects(), ["after stop", "alone"])

    # -- who may use it ----------------------------------------------------

    def test_without_a_server_send_runs_by_itself(self):
        env = self.box.env({"CAQMAIL_PREFORK_SOCKET":
                            self.box.path("run", "none.sock")})
        proc = subprocess.run(
            [CAQMAIL, "send", "--to", "a@werk.example", "--body", "x"],
            env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(len(self.box.delivered()), 1)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to switch users")
    def test_other_users_are_refused(self):
        server = self.start()
        os.chmod(self.box.path("run"), 0o755)
        os.chmod(server.socket, 0o666)
        nobody = pwd.getpwnam("nobody")

        def as_nobody():
            os.setgid(nobody.pw_gid)
            os.setgroups([])
            os.setuid(nobody.pw_uid)

        # the server: a request of another user is closed unanswered
        probe = (
            "import socket, struct, sys\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            "s.connect(sys.argv[1])\n"
            "head = struct.pack('6I', %d, %d, 0o22, 2, 0, 13)\n"
            "fds = struct.pack('4i', 0, 1, 2, 0)\n"
            "try:\n"
            "    s.sendmsg([head, b'caqmail\\0send\\0'], [(socket.SOL_SOCKET,"
            " socket.SCM_RIGHTS, fds)])\n"
            "    print(len(s.recv(8)))\n"
            "except (BrokenPipeError, ConnectionResetError):\n"
            "    print(0)\n" % (MAGIC, VERSION))
        out = subprocess.run([sys.executable, "-c", probe, server.socket],
                             preexec_fn=as_nobody, capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.stdout.strip(), "0", out.stderr)
        server.wait_for(lambda: 'reason="another user"' in server.log(),
                        "the refusal")
        # the front: a server of another user is not handed anything
        env = dict(server.env, HOME=tempfile.gettempdir())
        proc = subprocess.run(
            [CAQMAIL, "send", "--print", "--from", "qm@werk.example",
             "--to", "a@werk.example", "--subject", "nobody", "--body", "x"],
            env=env, preexec_fn=as_nobody, capture_output=True, text=True,
            cwd="/", timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("ignoring the prefork server", proc.stderr)
        self.assertIn("runs as user 0", proc.stderr)
        self.assertIn("Subject: nobody", proc.stdout)
        self.assertEqual(server.ways(), [])

    def test_other_commands_are_never_handed_over(self):
        server = self.start()
        server.wait_warm()
        self.box.run("send", "--to", "a@werk.example", "--body", "x",
                     "--queue-only", env={"CAQMAIL_PREFORK_SOCKET":
                                          server.socket}, check=0)
        listed = self.box.run("outbox", "list", env={
            "CAQMAIL_PREFORK_SOCKET": server.socket}, check=0)
        self.assertIn("queued", listed.stdout)
        self.assertEqual(server.ways(), ["warm"])

    def test_bad_requests_are_refused(self):
        server = self.start()
        s = socket.socket(socket.AF_UNIX)
        s.connect(server.socket)
        s.sendall(struct.pack("6I", 0x12345678, 1, 0, 1, 0, 2) + b"x\0")
        self.assertTrue(closed_unanswered(s))
        s.close()
        # a front of another version
        s = socket.socket(socket.AF_UNIX)
        s.connect(server.socket)
        s.sendmsg([struct.pack("6I", MAGIC, VERSION - 1, 0o22, 1, 0, 8),
                   b"caqmail\0"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                    struct.pack("4i", 0, 1, 2, 0))])
        self.assertTrue(closed_unanswered(s))
        s.close()
        server.wait_for(
            lambda: server.log().count('reason="bad request"') == 2,
            "the refusals")
        self.assertEqual(server.ways(), [])


if __name__ == "__main__":
    unittest.main()
