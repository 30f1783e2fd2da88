"""Delivery through the outbox against real servers: a private Postfix
on loopback and the scripted fault server.  Workers are killed in the
middle and run in parallel; every mail is counted where it arrived."""

import collections
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "servers"))
from caqtest import CAQMAIL, SANITIZED, Sandbox  # noqa: E402
from certs import self_signed  # noqa: E402
from faultsmtp import FaultServer, Script  # noqa: E402
from postfix import PrivatePostfix  # noqa: E402

DRIVER = os.environ.get("OUTBOX_DRIVER", "outbox-driver")
# The crash test in the benchmark's configuration; fewer under the
# sanitizers, which slow everything down.
FULL_SPEED_MAILS = 1500 if SANITIZED else 3000
ROOT = CERT = KEY = POSTFIX = None


def setUpModule():
    global ROOT, CERT, KEY, POSTFIX
    ROOT = tempfile.mkdtemp(prefix="caqmail-delivery-")
    os.chmod(ROOT, 0o755)
    CERT, KEY = self_signed(os.path.join(ROOT, "certs"), "postfix.test",
                            ["IP:127.0.0.1", "DNS:localhost"])
    POSTFIX = PrivatePostfix(os.path.join(ROOT, "postfix"), CERT, KEY)
    POSTFIX.start()


def tearDownModule():
    POSTFIX.stop()
    subprocess.run(["rm", "-rf", ROOT])


MESSAGE_ID = re.compile(rb"^message-id:\s*<([^>]*)>", re.I | re.M)
SEEN = {}  # Maildir file -> (Message-ID, header), read once


def arrived(pf, tag):
    """Message-IDs of the mails that reached @pf with @tag in their
    header, counted."""
    folder = os.path.join(pf.maildir, "new")
    ids = collections.Counter()
    for name in os.listdir(folder) if os.path.isdir(folder) else []:
        path = os.path.join(folder, name)
        if path not in SEEN:
            with open(path, "rb") as f:
                head = f.read(8192).split(b"\n\n", 1)[0]
            match = MESSAGE_ID.search(head)
            SEEN[path] = (match.group(1).decode() if match else "", head)
        mid, head = SEEN[path]
        if tag.encode() in head:
            ids[mid] += 1
    return ids


def queue_empty(pf):
    proc = subprocess.run(["postqueue", "-c", pf.etc, "-p"],
                          capture_output=True, text=True)
    return "Mail queue is empty" in proc.stdout


class OutboxTest(unittest.TestCase):

    def setUp(self):
        self.box = Sandbox()
        self.addCleanup(self.box.close)
        self.tag = uuid.uuid4().hex[:12]

    def configure(self, port, tls="starttls", extra="", smtp="", batch=20):
        self.box.write_config(
            "[message]\nfrom = QM <qm@werk.example>\n\n"
            "[outbox]\nbatch = %d\nretry_base = 1s\n%s\n"
            "[smtp]\nhost = 127.0.0.1\nport = %d\ntls = %s\n"
            "ca_file = %s\nhelo_name = client.werk.example\n"
            "timeout_connect = 5s\ntimeout_dot = 3s\n%s"
            % (batch, extra, port, tls, CERT, smtp))

    def states(self):
        return dict(self.box.sql(
            "SELECT state, COUNT(*) FROM outbox GROUP BY state"))

    def enqueue(self, count, *rcpts):
        proc = subprocess.run([DRIVER, str(count), "100", self.tag, *rcpts],
                              capture_output=True, env=self.box.env(),
                              timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return [int(x) for x in proc.stdout.split()]

    def worker(self, *args):
        return subprocess.Popen([CAQMAIL, "-q", "deliver", *args],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL,
                                env=self.box.env(), cwd=self.box.root)

    def finish(self, proc):
        out, _ = proc.communicate(timeout=600)
        self.assertEqual(proc.returncode, 0)
        return json.loads(out)

    def json(self, *args, check=0):
        return json.loads(self.box.run(*args, "--json", check=check).stdout)

    def wait_until(self, what, seconds=120):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if what():
                return
            time.sleep(0.1)
        self.fail("timed out waiting")


class PostfixTest(OutboxTest):

    def setUp(self):
        super().setUp()
        self.configure(POSTFIX.port)

    def settled(self, unique):
        """Waits until Postfix delivered everything it accepted."""
        self.wait_until(lambda: len(arrived(POSTFIX, self.tag)) >= unique
                        and queue_empty(POSTFIX), 300)
        return arrived(POSTFIX, self.tag)

    def test_worker_killed_in_the_middle(self):
        self.enqueue(1000, "ziel@werk.example")
        proc = self.worker("--once")
        self.wait_until(lambda: self.states().get("sent", 0) >= 300)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        in_flight = self.states().get("sending", 0)
        self.assertLess(self.states().get("sent", 0), 1000, "killed late")

        summary = self.finish(self.worker("--once", "--json"))
        self.assertEqual(summary["taken_over"], in_flight)
        got = self.settled(1000)
        self.assertEqual(len(got), 1000, "every mail arrived")
        duplicates = sum(got.values()) - len(got)
        self.assertLessEqual(duplicates, in_flight)
        self.assertEqual(self.states(), {"sent": 1000})
        self.assertEqual(self.box.run("history", "verify").returncode, 0)

    def test_worker_killed_at_full_speed(self):
        """The crash test in the benchmark's configuration: batches of
        200 on four connections, so that up to five batches are in
        flight when the worker dies."""
        self.configure(POSTFIX.port, batch=200, smtp="connections = 4\n")
        total = FULL_SPEED_MAILS
        self.enqueue(total, "ziel@werk.example")
        proc = self.worker("--once")
        self.wait_until(lambda: self.states().get("sent", 0) >= 400)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        in_flight = self.states().get("sending", 0)
        self.assertLess(self.states().get("sent", 0), total, "killed late")

        summary = self.finish(self.worker("--once", "--json"))
        self.assertEqual(summary["taken_over"], in_flight)
        got = self.settled(total)
        self.assertEqual(len(got), total, "every mail arrived")
        self.assertLessEqual(sum(got.values()) - len(got), in_flight)
        self.assertEqual(self.states(), {"sent": total})
        self.assertEqual(self.box.run("history", "verify").returncode, 0)

    def test_two_workers_send_nothing_twice(self):
        self.enqueue(1000, "ziel@werk.example")
        workers = [self.worker("--once", "--json") for _ in range(2)]
        summaries = [self.finish(w) for w in workers]
        got = self.settled(1000)
        self.assertEqual(len(got), 1000)
        self.assertEqual(max(got.values()), 1, "a mail was sent twice")
        self.assertEqual(sum(s["sent"] for s in summaries), 1000)
        self.assertTrue(all(s["claimed"] > 0 for s in summaries), summaries)
        self.assertEqual(self.states(), {"sent": 1000})

    def test_parallel_connections_send_each_mail_once(self):
        """Batches go out over three connections at once; the results of
        every batch are recorded, and each mail arrives once."""
        self.configure(POSTFIX.port, smtp="connections = 3\n")
        self.enqueue(600, "ziel@werk.example")
        summary = self.finish(self.worker("--once", "--json"))
        self.assertEqual(summary["sent"], 600)
        got = self.settled(600)
        self.assertEqual(len(got), 600)
        self.assertEqual(max(got.values()), 1, "a mail was sent twice")
        self.assertEqual(self.states(), {"sent": 600})
        self.assertEqual(self.box.run("history", "verify").returncode, 0)

    def test_mixed_recipients_end_partly_sent(self):
        self.configure(POSTFIX.port, extra="max_age = 2s\n")
        sent = self.json("send", "--to", "ok-%s@werk.example" % self.tag,
                         "--to", "reject550@werk.example",
                         "--cc", "defer450@werk.example",
                         "--subject", "Maßnahme %s" % self.tag,
                         "--body", "Grüße\n")
        self.assertEqual(sent["state"], "deferred")
        first = self.json("history", "show", str(sent["id"]))
        replies = {r["address"]: (r["status"], r["code"])
                   for r in first["recipients"]}
        self.assertEqual(replies, {
            "ok-%s@werk.example" % self.tag: ("accepted", 250),
            "reject550@werk.example": ("rejected", 550),
            "defer450@werk.example": ("deferred", 450)})
        time.sleep(2.5)
        self.json("deliver", "--once")
        shown = self.json("history", "show", str(sent["id"]))
        self.assertEqual(shown["state"], "partly-sent")
        by_addr = {r["address"]: r for r in shown["recipients"]}
        self.assertRegex(by_addr["reject550@werk.example"]["reply"],
                         r"^550 5\.1\.1 .*no such mailbox here")
        self.assertRegex(by_addr["defer450@werk.example"]["reply"],
                         r"^gave up after 2s: 450 4\.2\.1 .*mailbox busy")
        self.assertRegex(by_addr["ok-%s@werk.example" % self.tag]["reply"],
                         r"^250 2\.0\.0 Ok: queued as ")
        attempts = [e for e in shown["history"] if e["kind"] == "attempt"]
        self.assertEqual([len(e["results"]) for e in attempts], [3, 1])
        self.assertEqual(len(self.settled(1)), 1)

    def test_raw_is_what_the_server_got(self):
        report = self.box.write("Prüfbericht.csv", "Maß;Wert\n" * 20000)
        sent = self.json("send", "--to", "raw-%s@werk.example" % self.tag,
                         "--subject", "Prüfbericht %s" % self.tag,
                         "--body", "Grüße\n", "--attach", report)
        self.assertEqual(sent["state"], "sent")
        raw = self.box.run("history", "show", str(sent["id"]), "--raw",
                           binary=True, check=0).stdout
        got = self.settled(1)
        self.assertEqual(len(got), 1)
        from postfix import strip_delivery_headers
        server = [r for r in POSTFIX.delivered()
                  if self.tag.encode() in r][0]
        self.assertEqual(strip_delivery_headers(server), raw)


class ServerDownTest(OutboxTest):

    def test_down_server_keeps_mail_and_delivers_it_later(self):
        later = PrivatePostfix(os.path.join(ROOT, "later-" + self.tag),
                               CERT, KEY)
        self.addCleanup(later.stop)
        self.configure(later.port)
        proc = self.box.run("send", "--to", "a@werk.example", "--subject",
                            "Warteschlange", "--body", "x", "--json")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout)["state"], "deferred")
        self.assertIn("stays in the outbox", proc.stderr)
        waiting = self.json("outbox", "list")
        self.assertEqual([m["state"] for m in waiting], ["deferred"])
        self.assertIn(": connect: server ", waiting[0]["last_error"])
        self.assertNotIn("connect: connect", waiting[0]["last_error"])
        self.assertEqual(self.json("deliver", "--once")["claimed"], 0)

        later.start()
        time.sleep(1.5)
        self.assertEqual(self.json("deliver", "--once")["sent"], 1)
        later.wait_for_mail(1)
        self.assertEqual(self.json("outbox", "list"), [])
        shown = self.json("history", "show", "1")
        self.assertEqual(shown["attempts"], 2)
        self.assertEqual(shown["recipients"][0]["status"], "accepted")


class FaultTest(OutboxTest):

    def serve(self, **settings):
        server = FaultServer(Script(**settings)).start()
        self.addCleanup(server.stop)
        self.configure(server.port, tls="none")
        return server

    def send(self):
        proc = self.box.run("send", "--to", "a@werk.example", "--to",
                            "b@werk.example", "--subject", "Störung",
                            "--body", "x", "--json")
        self.assertEqual(proc.returncode in (0, 69), True, proc.stderr)
        return json.loads(proc.stdout)

    def test_silence_after_the_dot_is_uncertain(self):
        server = self.serve(silent_after_dot=True)
        sent = self.send()
        self.assertEqual(sent["state"], "uncertain")
        self.assertEqual(len(server.messages), 1)
        # Not sent again by itself...
        self.assertEqual(self.json("deliver", "--once")["claimed"], 0)
        # ...only when an operator says so.
        server.script.silent_after_dot = False
        self.box.run("outbox", "retry", str(sent["id"]), check=0)
        self.assertEqual(self.json("deliver", "--once")["sent"], 1)
        self.assertEqual(len(server.messages), 2)
        kinds = [e["kind"] for e in
                 self.json("history", "show", str(sent["id"]))["history"]]
        self.assertEqual(kinds, ["queued", "attempt", "retry", "attempt"])

    def test_busy_server_defers_then_delivers(self):
        server = self.serve(greeting="421 4.3.2 too busy, try later")
        sent = self.send()
        self.assertEqual(sent["state"], "deferred")
        shown = self.json("history", "show", str(sent["id"]))
        self.assertEqual([(r["status"], r["code"]) for r in
                          shown["recipients"]],
                         [("deferred", 421), ("deferred", 421)])
        self.assertEqual(server.messages, [])
        server.script.greeting = "220 fault.test ESMTP back again"
        time.sleep(1.5)
        self.assertEqual(self.json("deliver", "--once")["sent"], 1)
        self.assertEqual(len(server.messages), 1)

    def test_permanent_refusal_stops_at_once(self):
        self.serve(mail_reply="550 5.7.1 sender refused")
        proc = self.box.run("send", "--to", "a@werk.example", "--subject",
                            "x", "--body", "x")
        self.assertEqual(proc.returncode, 69)
        self.assertIn("550 5.7.1 sender refused", proc.stderr)
        shown = self.json("history", "show", "1")
        self.assertEqual(shown["state"], "failed")
        self.assertEqual(shown["attempts"], 1)
        self.assertEqual(self.json("deliver", "--once")["claimed"], 0)

    def test_parallel_connections_are_used(self):
        # A slow final reply keeps each connection busy with its batch
        # long enough for the others to be opened.
        server = self.serve(delay={".": 0.02})
        self.configure(server.port, tls="none", extra="batch = 10",
                       smtp="connections = 3\n")
        self.enqueue(90, "a@werk.example")
        summary = self.json("deliver", "--once")
        self.assertEqual(summary["sent"], 90)
        self.assertEqual(len(server.messages), 90)
        ids = [re.search(rb"Message-ID: <([^>]*)>", m["data"], re.I)
               .group(1) for m in server.messages]
        self.assertEqual(len(set(ids)), 90)
        self.assertEqual(server.connections, 3)

    def test_one_refused_recipient_is_partly_sent(self):
        server = self.serve(rcpt_replies={
            "b@werk.example": "550 5.1.1 user unknown"})
        proc = self.box.run("send", "--to", "a@werk.example", "--to",
                            "b@werk.example", "--subject", "x", "--body",
                            "x")
        self.assertEqual(proc.returncode, 69)
        shown = self.json("history", "show", "1")
        self.assertEqual(shown["state"], "partly-sent")
        got = [(r["address"], r["status"], r["code"])
               for r in shown["recipients"]]
        self.assertEqual(got, [("a@werk.example", "accepted", 250),
                               ("b@werk.example", "rejected", 550)])
        self.assertEqual(len(server.messages), 1)


if __name__ == "__main__":
    unittest.main()
