"""caqmail's delivery benchmark, side by side with the reference clients.

Starts Postfix's smtp-sink on loopback and sends the same 2,048-byte
message with every client; prints one table of rates, CPU seconds and peak
memory, with caqmail's ratio to each reference.  Every figure is the median
of RUNS runs; absolute figures move from machine to machine, so compare the
ratios of one run only.
"""

import argparse
import json
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


def run_counted(argv, stderr=subprocess.DEVNULL, **kw):
    """Runs @argv to its end with its output discarded; returns its exit
    code, the CPU seconds of it and of the processes it waited for (the
    kernel's accounting, in microseconds), and its standard error when
    @stderr is subprocess.PIPE."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr,
                            **kw)
    errors = b""
    if proc.stderr is not None:
        errors = proc.stderr.read()
        proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime, errors


def time_share(runs=100):
    """What /usr/bin/time adds to the CPU time of the process it runs:
    the difference it makes to /bin/true's, at least 0."""
    timed = ["/usr/bin/time", "-q", "-o", "/dev/null", "-f", "%M",
             "/bin/true"]
    alone = sum(run_counted(["/bin/true"])[1] for _ in range(runs))
    under = sum(run_counted(timed)[1] for _ in range(runs))
    return max(0.0, (under - alone) / runs)


TIME_SHARE = 0.0  # set by main()


class Measure:
    """Runs processes under /usr/bin/time and sums their CPU time; keeps
    the peak RSS.  The peak comes from /usr/bin/time (a child forked or
    spawned from Python would count Python's own memory in it); the CPU
    time from the kernel's accounting of /usr/bin/time and its child, in
    microseconds (/usr/bin/time prints hundredths of a second: nothing
    for a process of a few milliseconds), less /usr/bin/time's own share
    (TIME_SHARE)."""

    def __init__(self):
        self.cpu = 0.0
        self.rss_kib = 0
        self.started = time.monotonic()
        fd, self.report = tempfile.mkstemp(prefix="caqmail-bench-")
        os.close(fd)

    def start(self):
        """Starts the clock again: what came before was preparation."""
        self.started = time.monotonic()

    def run(self, argv, **kw):
        timed_argv = ["/usr/bin/time", "-q", "-o", self.report, "-f",
                      "%M"] + list(argv)
        code, cpu, errors = run_counted(timed_argv, stderr=subprocess.PIPE,
                                        **kw)
        with open(self.report) as f:
            last = f.read().split("\n")
        fields = [line for line in last if line.strip()][-1].split()
        self.cpu += max(0.0, cpu - TIME_SHARE)
        self.rss_kib = max(self.rss_kib, int(fields[0]))
        if code != 0:
            raise RuntimeError("%s failed (%d): %s" % (
                argv[0], code, errors.decode(errors="replace")))

    def close(self):
        os.unlink(self.report)


def timed(fn, *args):
    m = Measure()
    try:
        count = fn(m, *args)
        return count, time.monotonic() - m.started, m.cpu, m.rss_kib
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


# --- caqmail ----------------------------------------------------------------

CAQMAIL = os.environ.get("CAQMAIL", os.path.join(TOP, "build-bench", "cli",
                                                  "caqmail"))
DRIVER = os.path.join(os.path.dirname(os.path.dirname(CAQMAIL)), "tests",
                      "outbox-driver")


class Home:
    """A fresh caqmail data folder and configuration for one run."""

    def __init__(self, ctx, connections=1):
        self.root = tempfile.mkdtemp(prefix="caqmail-bench-",
                                     dir=SCRATCH)
        self.config = os.path.join(self.root, "caqmail.conf")
        with open(self.config, "w") as f:
            f.write("[message]\nfrom = bench@caqmail.test\n"
                    "[smtp]\nhost = 127.0.0.1\nport = %d\ntls = none\n"
                    "connections = %d\n[outbox]\nbatch = 200\n"
                    % (ctx.port, connections))
        self.env = dict(os.environ, HOME=self.root,
                        XDG_DATA_HOME=os.path.join(self.root, "data"),
                        CAQMAIL_CONFIG=self.config)

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


def enqueue(home, count):
    subprocess.run([DRIVER, str(count), "500", "bench", "sink@caqmail.test"],
                   env=home.env, check=True, stdout=subprocess.DEVNULL)


def caqmail_deliver(m, ctx, connections):
    """(a) mails already queued, delivered by `deliver --once`; every
    recipient's result committed to the history."""
    home = Home(ctx, connections)
    try:
        enqueue(home, ctx.count)
        m.start()
        m.run([CAQMAIL, "-q", "deliver", "--once"], env=home.env)
    finally:
        home.close()
    return ctx.count


def caqmail_enqueue(m, ctx):
    """(b) mails composed and queued through the library."""
    home = Home(ctx)
    try:
        m.run([DRIVER, str(ctx.count), "500", "bench", "sink@caqmail.test"],
              env=home.env)
    finally:
        home.close()
    return ctx.count


def caqmail_send_each(m, ctx):
    """(c) one `caqmail send` process per mail, delivered at once."""
    home = Home(ctx)
    n = max(ctx.count // 100, 20)
    try:
        for i in range(n):
            m.run([CAQMAIL, "-q", "send", "--to", "sink@caqmail.test",
                   "--subject", "caqmail benchmark %d" % i, "--body-file",
                   ctx.body], env=home.env)
    finally:
        home.close()
    return n


class Prefork:
    """`caqmail prefork` for one run: the sends of (c) are forked from it.
    Its CPU time and peak memory, and those of the commands it forked,
    go into the run's (from wait4 when it has stopped)."""

    def __init__(self, home):
        self.socket = os.path.join(home.root, "prefork.sock")
        home.env["CAQMAIL_PREFORK_SOCKET"] = self.socket
        self.proc = subprocess.Popen([CAQMAIL, "-q", "prefork"],
                                     env=home.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.socket):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("caqmail prefork did not start")
            time.sleep(0.01)

    def stop(self, m):
        self.proc.terminate()
        _, _, usage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = 0
        m.cpu += usage.ru_utime + usage.ru_stime
        m.rss_kib = max(m.rss_kib, usage.ru_maxrss)


def caqmail_send_prefork(m, ctx):
    """(c) as above, with `caqmail prefork` running: each `caqmail send`
    is handed to it and forked from it."""
    home = Home(ctx)
    n = max(ctx.count // 100, 20)
    server = None
    try:
        m.start()
        server = Prefork(home)
        for i in range(n):
            m.run([CAQMAIL, "-q", "send", "--to", "sink@caqmail.test",
                   "--subject", "caqmail benchmark %d" % i, "--body-file",
                   ctx.body], env=home.env)
    finally:
        if server is not None:
            server.stop(m)
        home.close()
    return n


CAQMAIL_SCENARIOS = [
    ("caqmail (a) deliver, 1 connection",
     lambda m, c: caqmail_deliver(m, c, 1)),
    ("caqmail (a) deliver, 4 connections",
     lambda m, c: caqmail_deliver(m, c, 4)),
    ("caqmail (b) enqueue, library", caqmail_enqueue),
    ("caqmail (c) send, 1 process/mail", caqmail_send_each),
    ("caqmail (c) send, prefork running", caqmail_send_prefork),
]


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


def print_table(rows):
    print("\n%-38s %10s %12s %10s %s" % ("client", "mails/s", "CPU ms/mail",
                                         "peak RSS", "messages"))
    for r in rows:
        print("%-38s %10.0f %12.3f %8.1f MB %d" % (
            r["name"], r["rate"], r["cpu_ms"], r["rss"] / 1024.0,
            r["count"]))
    ours = [r for r in rows if r["name"].startswith("caqmail")]
    refs = [r for r in rows if not r["name"].startswith("caqmail")]
    if ours and refs:
        print("\nratios (caqmail rate / reference rate):")
        print("%-38s" % "" + "".join(" %9s" % r["name"].split(",")[0][:9]
                                     for r in refs))
        for o in ours:
            print("%-38s" % o["name"] + "".join(
                " %9.2f" % (o["rate"] / r["rate"]) for r in refs))


def rate_of(rows, name):
    for r in rows:
        if r["name"] == name:
            return r["rate"]
    return None


def print_targets(rows, big):
    a = rate_of(rows, "caqmail (a) deliver, 1 connection")
    checks = [
        ("(a) >= 2 x smtp-source, 1 session", a,
         rate_of(rows, "smtp-source, 1 session"), 2.0),
        ("(a) >= 3 x smtplib", a, rate_of(rows,
                                          "python smtplib, 1 connection"), 3.0),
        ("(b) enqueue >= (a) deliver",
         rate_of(rows, "caqmail (b) enqueue, library"), a, 1.0),
        ("(c) >= 2 x curl", rate_of(rows, "caqmail (c) send, 1 process/mail"),
         rate_of(rows, "curl, 1 process/mail"), 2.0),
        ("(c) >= 2 x curl, prefork running",
         rate_of(rows, "caqmail (c) send, prefork running"),
         rate_of(rows, "curl, 1 process/mail"), 2.0),
    ]
    print("\ntargets:")
    for name, ours, ref, factor in checks:
        if ours is None or ref is None:
            continue
        ratio = ours / ref
        print("  %-38s %6.2f  %s" % (name, ratio,
                                     "met" if ratio >= factor else "MISSED"))
    if big:
        ratio = big["wall"] / big["reference_wall"]
        print("  %-38s %6.1f MB  %s" % ("(d) peak RSS < 32 MB",
                                        big["rss"] / 1024.0,
                                        "met" if big["rss"] < 32 * 1024
                                        else "MISSED"))
        print("  %-38s %6.2f  %s" % ("(d) wall <= 1.5 x smtp-source", ratio,
                                     "met" if ratio <= 1.5 else "MISSED"))


BIG_NAME = "caqmail (d) 100 MB attachment"


def big_attachment(ctx):
    """(d) a 100 MB attachment from file to server, next to smtp-source
    sending a message of the same size."""
    home = Home(ctx)
    path = os.path.join(home.root, "hundred.bin")
    try:
        with open(path, "wb") as f:
            block = os.urandom(1 << 20)
            for _ in range(100):
                f.write(block)
        walls, rss = [], 0
        for _ in range(ctx.runs):
            m = Measure()
            m.run([CAQMAIL, "-q", "send", "--to", "sink@caqmail.test",
                   "--attach", path], env=home.env)
            walls.append(time.monotonic() - m.started)
            rss = max(rss, m.rss_kib)
            m.close()
        listed = subprocess.run(
            [CAQMAIL, "-q", "history", "list", "--json"], env=home.env,
            capture_output=True, check=True, text=True).stdout
        size = max(mail["size"] for mail in json.loads(listed))
    finally:
        home.close()
    refs = []
    for _ in range(ctx.runs):
        m = Measure()
        m.run(["/usr/sbin/smtp-source", "-m", "1", "-l", str(size), "-f",
               "bench@caqmail.test", "-t", "sink@caqmail.test",
               "127.0.0.1:%d" % ctx.port])
        refs.append(time.monotonic() - m.started)
        m.close()
    big = {"wall": statistics.median(walls), "rss": rss, "size": size,
           "reference_wall": statistics.median(refs)}
    print("\n(d) 100 MB attachment, message of %.1f MB: caqmail send %.2f s"
          " (peak RSS %.1f MB), smtp-source %.2f s"
          % (size / 1048576.0, big["wall"], rss / 1024.0,
             big["reference_wall"]))
    return big


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=20000,
                    help="mails per run for the fast clients")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", help="run only clients whose name has this"
                    " ('(d)': the 100 MB attachment alone)")
    ap.add_argument("--no-big", action="store_true",
                    help="skip the 100 MB attachment")
    args = ap.parse_args()

    global TIME_SHARE
    TIME_SHARE = time_share()
    os.makedirs(SCRATCH, exist_ok=True)
    ctx = Context()
    ctx.count = args.count
    ctx.runs = args.runs
    ctx.message = make_message(os.path.join(SCRATCH, "message.eml"))
    ctx.body = os.path.join(SCRATCH, "body.txt")
    with open(ctx.body, "w") as f:
        f.write(("x" * 76 + "\n") * 24)
    print("caqmail benchmark on %s, %d cores, %s; %d-byte message, "
          "median of %d runs" % (platform.node(), os.cpu_count(),
                                 platform.platform(), 2048, args.runs))
    sink = Sink()
    ctx.port = sink.port
    rows, big = [], None
    try:
        for name, fn in CAQMAIL_SCENARIOS + REFERENCES:
            if args.only and args.only not in name:
                continue
            rows.append(median_run(name, fn, ctx, args.runs))
            print("  done: %s" % name, file=sys.stderr)
        if not args.no_big and (not args.only or args.only in BIG_NAME):
            big = big_attachment(ctx)
    finally:
        sink.stop()
    print_table(rows)
    print_targets(rows, big)


if __name__ == "__main__":
    main()
