"""Delivery through the outbox: workers killed in the middle, workers in
parallel; every mail is counted where it arrived."""

import collections
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from caqtest import CAQMAIL, SandboxTest, parse  # noqa: E402

DRIVER = os.environ.get("OUTBOX_DRIVER", "outbox-driver")


class DeliveryTest(SandboxTest):

    def setUp(self):
        super().setUp()
        self.box.write_config("[outbox]\nbatch = 20\n")

    @property
    def db(self):
        return os.path.join(self.box.data, "caqmail.db")

    def enqueue(self, count, *rcpts):
        proc = subprocess.run([DRIVER, str(count), "100",
                               uuid.uuid4().hex[:12], *rcpts],
                              capture_output=True, env=self.box.env(),
                              timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return [int(x) for x in proc.stdout.split()]

    def arrived(self):
        """Message-IDs of the mails that arrived, with their counts."""
        ids = collections.Counter()
        for raw in self.box.delivered():
            ids[parse(raw)["message-id"]] += 1
        return ids

    def worker(self, *args):
        return subprocess.Popen([CAQMAIL, "deliver", *args],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL,
                                env=self.box.env(), cwd=self.box.root)

    def states(self):
        with sqlite3.connect(self.db) as con:
            return dict(con.execute(
                "SELECT state, COUNT(*) FROM outbox GROUP BY state"))

    def wait_for_arrivals(self, count, proc, seconds=120):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if sum(self.arrived().values()) >= count:
                return
            if proc.poll() is not None:
                self.fail("the worker ended before %d mails arrived" % count)
            time.sleep(0.02)
        self.fail("%d mails did not arrive in time" % count)

    def test_worker_killed_in_the_middle(self):
        ids = self.enqueue(1000, "ziel@caqmail.test")
        self.assertEqual(len(ids), 1000)
        proc = self.worker("--once")
        self.wait_for_arrivals(300, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        in_flight = self.states().get("sending", 0)
        before = self.arrived()
        self.assertLess(sum(before.values()), 1000, "killed too late")
        self.assertGreater(in_flight, 0)

        again = self.worker("--once", "--json")
        out, _ = again.communicate(timeout=300)
        self.assertEqual(again.returncode, 0)
        summary = json.loads(out)
        self.assertEqual(summary["taken_over"], in_flight)

        got = self.arrived()
        self.assertEqual(len(got), 1000, "every mail arrived")
        duplicates = sum(got.values()) - len(got)
        self.assertLessEqual(duplicates, in_flight)
        self.assertEqual(self.states(), {"sent": 1000})
        self.assertEqual(self.box.run("history", "verify").returncode, 0)

    def test_two_workers_send_nothing_twice(self):
        self.enqueue(1000, "ziel@caqmail.test")
        workers = [self.worker("--once", "--json") for _ in range(2)]
        summaries = []
        for w in workers:
            out, _ = w.communicate(timeout=300)
            self.assertEqual(w.returncode, 0)
            summaries.append(json.loads(out))
        got = self.arrived()
        self.assertEqual(len(got), 1000)
        self.assertEqual(max(got.values()), 1, "a mail was sent twice")
        self.assertEqual(sum(s["sent"] for s in summaries), 1000)
        # Both took part.
        self.assertTrue(all(s["claimed"] > 0 for s in summaries), summaries)
        self.assertEqual(self.states(), {"sent": 1000})


if __name__ == "__main__":
    unittest.main()
