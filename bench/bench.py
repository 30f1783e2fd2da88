"""caqmail's delivery benchmark, side by side with the reference clients.

Starts Postfix's smtp-sink on loopback and sends the same 2,048-byte
message with every client; prints one table of rates, CPU seconds and peak
memory, with caqmail's ratio to each reference.  Every figure is the median
of RUNS runs; absolute figures move from machine to machine, so compare the
ratios of one run only.
"""

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
SCRATCH = os.path.join(HERE, "out")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("smtp-sink did not start on port %d" % port)


class Sink:
    """Postfix's smtp-sink: accepts and discards, the limit of the path."""

    def __init__(self):
        self.port = free_port()
        argv = ["/usr/sbin/smtp-sink"]
        if os.getuid() == 0:
            argv += ["-u", "nobody"]
        argv += ["127.0.0.1:%d" % self.port, "1024"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)


def make_message(path, size=2048):
    head = ("From: bench@caqmail.test\r\nTo: sink@caqmail.test\r\n"
            "Subject: caqmail benchmark\r\nMessage-ID: <bench@caqmail.test>"
            "\r\nDate: Thu, 03 Dec 2026 12:00:00 +0000\r\n\r\n")
    body = []
    left = size - len(head)
    while left > 0:
        line = ("x" * min(76, left - 2))[: max(left - 2, 0)] + "\r\n"
        body.append(line)
        left -= len(line)
    with open(path, "w", newline="") as f:
        f.write(head + "".join(body))
    return path


class Measure:
    """Runs processes under /usr/bin/time and sums their CPU time; keeps
    the peak RSS.  (A child forked from Python would count Python's own
    memory in its peak.)"""

    def __init__(self):
        self.cpu = 0.0
        self.rss_kib = 0
        fd, self.report = tempfile.mkstemp(prefix="caqmail-bench-")
        os.close(fd)

    def run(self, argv, **kw):
        timed_argv = ["/usr/bin/time", "-q", "-o", self.report, "-f",
                      "%U %S %M"] + list(argv)
        proc = subprocess.run(timed_argv, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, **kw)
        with open(self.report) as f:
            last = f.read().split("\n")
        fields = [line for line in last if line.strip()][-1].split()
        user, system, rss = float(fields[0]), float(fields[1]), int(fields[2])
        self.cpu += user + system
        self.rss_kib = max(self.rss_kib, rss)
        if proc.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (
                argv[0], proc.returncode,
                proc.stderr.decode(errors="replace")))

    def close(self):
        os.unlink(self.report)


def timed(fn, *args):
    m = Measure()
    try:
        start = time.monotonic()
        count = fn(m, *args)
        return count, time.monotonic() - start, m.cpu, m.rss_kib
    finally:
        m.close()


# --- reference clients ----------------------------------------------------

def smtp_source(m, ctx, sessions):
    n = ctx.count
    m.run(["/usr/sbin/smtp-source", "-d", "-s", str(sessions), "-m", str(n),
           "-F", ctx.message, "-f", "bench@caqmail.test",
           "-t", "sink@caqmail.test", "127.0.0.1:%d" % ctx.port])
    return n


def smtplib_one(m, ctx):
    n = ctx.count
    m.run(["/usr/bin/python3", os.path.join(HERE, "smtplib-send.py"),
           str(ctx.port), str(n), ctx.message])
    return n


def nodemailer_pool(m, ctx):
    n = ctx.count
    m.run(["node", os.path.join(HERE, "nodemailer-send.js"), str(ctx.port),
           str(n), "4", ctx.message],
          env=dict(os.environ, NODE_PATH=os.path.join(SCRATCH,
                                                      "node_modules")))
    return n


def curl_each(m, ctx):
    n = max(ctx.count // 100, 20)
    for _ in range(n):
        m.run(["curl", "-s", "--url", "smtp://127.0.0.1:%d" % ctx.port,
               "--mail-from", "bench@caqmail.test",
               "--mail-rcpt", "sink@caqmail.test", "-T", ctx.message])
    return n


def msmtp_each(m, ctx):
    n = max(ctx.count // 500, 10)
    for _ in range(n):
        with open(ctx.message, "rb") as f:
            m.run(["msmtp", "--host=127.0.0.1", "--port=%d" % ctx.port,
                   "--auth=off", "--tls=off", "--from=bench@caqmail.test",
                   "sink@caqmail.test"], stdin=f)
    return n


REFERENCES = [
    ("smtp-source, 1 session", lambda m, c: smtp_source(m, c, 1)),
    ("smtp-source, 4 sessions", lambda m, c: smtp_source(m, c, 4)),
    ("python smtplib, 1 connection", smtplib_one),
    ("nodemailer, pool of 4", nodemailer_pool),
    ("curl, 1 process/mail", curl_each),
    ("msmtp, 1 process/mail", msmtp_each),
]


class Context:
    pass


def median_run(name, fn, ctx, runs):
    results = []
    for _ in range(runs):
        count, wall, cpu, rss = timed(fn, ctx)
        results.append((count / wall, cpu / count * 1000.0, rss, count))
    rate = statistics.median(r[0] for r in results)
    cpu_ms = statistics.median(r[1] for r in results)
    rss = max(r[2] for r in results)
    return {"name": name, "rate": rate, "cpu_ms": cpu_ms, "rss": rss,
            "count": results[0][3]}


def print_table(rows, ours):
    print("\n%-34s %10s %12s %10s %s" % ("client", "mails/s", "CPU ms/mail",
                                         "peak RSS", "messages"))
    for r in rows:
        print("%-34s %10.0f %12.3f %8.1f MB %d" % (
            r["name"], r["rate"], r["cpu_ms"], r["rss"] / 1024.0,
            r["count"]))
    if not ours:
        return
    print("\nratios (caqmail rate / reference rate):")
    refs = [r for r in rows if not r["name"].startswith("caqmail")]
    for o in ours:
        for r in refs:
            print("  %-32s / %-30s %6.2f" % (o["name"], r["name"],
                                             o["rate"] / r["rate"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=20000,
                    help="mails per run for the fast clients")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", help="run only clients whose name has this")
    args = ap.parse_args()

    os.makedirs(SCRATCH, exist_ok=True)
    ctx = Context()
    ctx.count = args.count
    ctx.message = make_message(os.path.join(SCRATCH, "message.eml"))
    print("caqmail benchmark on %s, %d cores, %s; %d-byte message, "
          "median of %d runs" % (platform.node(), os.cpu_count(),
                                 platform.platform(), 2048, args.runs))
    sink = Sink()
    ctx.port = sink.port
    rows = []
    try:
        for name, fn in REFERENCES:
            if args.only and args.only not in name:
                continue
            rows.append(median_run(name, fn, ctx, args.runs))
            print("  done: %s" % name, file=sys.stderr)
    finally:
        sink.stop()
    print_table(rows, [r for r in rows if r["name"].startswith("caqmail")])


if __name__ == "__main__":
    main()
