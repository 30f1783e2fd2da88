"""libcaqmail as a host application uses it: `meson install` into a
scratch DESTDIR, the example program (examples/send-report.c) compiled
against the installed header and library found through pkg-config, and a
mail sent by it to a private Postfix that arrives with its attachment and
shows in the history.  The same program runs under valgrind, which must
find no leak, and on a PostgreSQL database, whose backend the installed
library loads from its module, as it loads the drawing of collection
lists and the installed `caqmail serve` its web server; the installed
`caqmail --version` loads no module nor their libraries."""

import glob
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "servers"))

from caqtest import SANITIZED, Sandbox, parse  # noqa: E402
from postfix import private_postfix  # noqa: E402

BUILD = os.environ.get("CAQMAIL_BUILD_ROOT", "build")
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "send-report.c")
SUPPRESSIONS = os.path.join(HERE, "..", "..", "tools", "valgrind.supp")


def run(args, **kwargs):
    proc = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise AssertionError("%s: exit %d\n%s%s" % (" ".join(args),
                                                    proc.returncode,
                                                    proc.stdout,
                                                    proc.stderr))
    return proc.stdout


class LibraryTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="caqmail-lib-")
        os.chmod(cls.root, 0o755)
        cls.addClassCleanup(shutil.rmtree, cls.root, True)
        cls.install()
        cls.compile_example()
        cls.postfix, cls.cert = private_postfix(cls.root)
        cls.addClassCleanup(cls.postfix.stop)
        cls.postfix.start()

    @classmethod
    def install(cls):
        cls.destdir = os.path.join(cls.root, "dest")
        run(["meson", "install", "-C", BUILD, "--no-rebuild", "--quiet",
             "--destdir", cls.destdir])
        pcs = glob.glob(os.path.join(cls.destdir, "**", "caqmail.pc"),
                        recursive=True)
        if len(pcs) != 1:
            raise AssertionError("installed caqmail.pc: %s" % pcs)
        cls.pcdir = os.path.dirname(pcs[0])
        cls.libdir = os.path.dirname(cls.pcdir)

    @classmethod
    def compile_example(cls):
        env = dict(os.environ, PKG_CONFIG_PATH=cls.pcdir)
        flags = run(["pkg-config", "--cflags", "--libs", "caqmail"],
                    env=env).split()
        sanitize = (["-fsanitize=address,undefined"] if SANITIZED else [])
        cls.example = os.path.join(cls.root, "send-report")
        run(["cc", "-std=c17", "-Wall", "-Wextra", "-Werror"] + sanitize +
            ["-o", cls.example, EXAMPLE] + flags)

    def setUp(self):
        self.box = self.sandbox()

    def sandbox(self, backend=None, config=""):
        box = Sandbox(backend)
        self.addCleanup(box.close)
        self.box = box
        self.seen = len(self.postfix.delivered())
        self.box.write_config(
            "[message]\nfrom = QM <qm@werk.example>\n\n"
            "[smtp]\nhost = 127.0.0.1\nport = %d\ntls = starttls\n"
            "ca_file = %s\nhelo_name = client.werk.example\n\n%s"
            % (self.postfix.port, self.cert, config))
        self.box.run("catalog", "add", "person", "ident=P-0007",
                     "name=Jürgen Müller", "email=jm@werk.example", check=0)
        self.report = self.box.write("Prüfbericht.csv",
                                     "Merkmal;Wert\nØ 12,0;12,02\n" * 300)
        return box

    def send_report(self, prefix=(), args=(), libdir=None):
        return subprocess.run(
            list(prefix) + [self.example] + list(args) + [
                            "8D-2026-0042", "mueller",
                            "8D-2026-0042: Prüfbericht",
                            "Grüße aus der QS\n", self.report],
            capture_output=True, text=True, timeout=300,
            env=self.box.env({"LD_LIBRARY_PATH": libdir or self.libdir}),
            cwd=self.box.root)

    def installed_caqmail(self):
        caqmail = glob.glob(os.path.join(self.destdir, "**", "bin",
                                         "caqmail"), recursive=True)
        self.assertEqual(len(caqmail), 1)
        return caqmail

    def loader_env(self):
        return self.box.env({"LD_LIBRARY_PATH": self.libdir,
                             "LD_DEBUG": "files"})

    @staticmethod
    def loaded(debug):
        """The shared objects in the dynamic loader's report @debug."""
        return re.findall(r"file=(\S+) \[0\];  (?:needed by|dynamically "
                          r"loaded by)", debug)

    def loaded_objects(self, args):
        """The shared objects the installed caqmail loads running @args."""
        proc = subprocess.run(
            self.installed_caqmail() + list(args), capture_output=True,
            text=True, timeout=60, env=self.loader_env())
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        return self.loaded(proc.stderr)

    def test_installed_files(self):
        lib = os.path.join(self.libdir, "libcaqmail.so.0")
        self.assertTrue(os.path.isfile(lib))
        self.assertEqual(os.readlink(os.path.join(self.libdir,
                                                  "libcaqmail.so")),
                         "libcaqmail.so.0")
        header = glob.glob(os.path.join(self.destdir, "**", "caqmail",
                                        "caqmail.h"), recursive=True)
        self.assertEqual(len(header), 1)
        dynamic = run(["readelf", "-d", lib])
        self.assertIn("Library soname: [libcaqmail.so.0]", dynamic)
        symbols = run(["readelf", "--dyn-syms", "-W", lib])
        self.assertIn("caqmail_message_enqueue@@CAQMAIL_0", symbols)
        self.assertNotIn("insert_mail", symbols)  # a static function
        self.assertIn("NEEDED", run(["readelf", "-d", self.example]))
        self.assertIn("[libcaqmail.so.0]", run(["readelf", "-d",
                                                self.example]))
        modules = os.path.join(self.libdir, "caqmail")
        self.assertIn("[libpq.so.5]", run([
            "readelf", "-d", os.path.join(modules, "caqmail-postgres.so")]))
        self.assertIn("[libcairo.so.2]", run([
            "readelf", "-d", os.path.join(modules, "caqmail-pdf.so")]))
        self.assertIn("[libsoup-3.0.so.0]", run([
            "readelf", "-d", os.path.join(modules, "caqmail-http.so")]))
        self.assertIn("[libsoup-3.0.so.0]", run([
            "readelf", "-d", os.path.join(modules, "caqmail-web.so")]))
        for program in [lib] + self.installed_caqmail():
            needed = run(["readelf", "-d", program])
            for name in ("libpq", "libcairo", "libpango", "libsoup"):
                self.assertNotIn(name, needed, program)

    def test_version_loads_none_of_the_modules_libraries(self):
        loaded = self.loaded_objects(["--version"])
        self.assertIn("libcaqmail.so.0", loaded)
        self.assertFalse([f for f in loaded if re.search(
            r"libpq|libcairo|libpango|libfontconfig|libsoup|caqmail-", f)],
            loaded)

    def test_installed_caqmail_serves_from_its_module(self):
        server = subprocess.Popen(
            self.installed_caqmail() + ["serve", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=self.loader_env())
        try:
            line = server.stdout.readline()
        finally:
            server.terminate()
            _, debug = server.communicate(timeout=60)
        self.assertRegex(line, r"^listening on http://127\.0\.0\.1:\d+/$",
                         debug[-3000:])
        loaded = self.loaded(debug)
        self.assertIn(os.path.join(self.libdir, "caqmail", "caqmail-web.so"),
                      loaded)
        self.assertIn("libsoup-3.0.so.0", loaded)

    def test_installed_library_draws_collection_lists_with_its_module(self):
        self.sandbox(config="[gauges]\nlab = Labor <lab@werk.example>\n")
        gauges = self.box.write(
            "gauges.csv", "inventory,description,holder,location,interval,"
            "due,status\nPM-001,Messschieber,P-0007,Halle 1,12,2026-03-20,\n")
        self.box.run("gauge", "import", gauges, check=0)
        loaded = self.loaded_objects(["gauges", "collect", "--date",
                                      "2026-03-12"])
        self.assertIn(os.path.join(self.libdir, "caqmail", "caqmail-pdf.so"),
                      loaded)
        self.assertIn("libcairo.so.2", loaded)
        self.box.run("deliver", "--once", check=0)
        msg = parse(self.postfix.wait_for_mail(self.seen + 1)[-1])
        pdfs = [p for p in msg.iter_attachments()
                if p.get_content_type() == "application/pdf"]
        self.assertEqual(len(pdfs), 1)
        self.assertTrue(pdfs[0].get_content().startswith(b"%PDF-"))

    def test_installed_library_loads_its_postgresql_module(self):
        self.sandbox("postgresql")
        proc = self.send_report()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertRegex(proc.stdout, r"^mail \d+ sent\n")
        self.postfix.wait_for_mail(self.seen + 1)
        history = json.loads(self.box.run("history", "list", "--json",
                                          check=0).stdout)
        self.assertEqual([(m["state"], m["origin"]) for m in history],
                         [("sent", "api")])
        self.assertIn("libpq.so.5", self.loaded_objects(["history", "list"]))

    def test_without_its_module_postgresql_is_unavailable(self):
        self.sandbox("postgresql")
        alone = os.path.join(self.root, "alone")
        os.makedirs(alone, exist_ok=True)
        shutil.copy(os.path.join(self.libdir, "libcaqmail.so.0"), alone)
        proc = self.send_report(libdir=alone)
        self.assertEqual(proc.returncode, 69, proc.stderr)  # EX_UNAVAILABLE
        self.assertIn("PostgreSQL support: module '%s' is missing"
                      % os.path.join(alone, "caqmail", "caqmail-postgres.so"),
                      proc.stderr)
        self.assertEqual(self.box.sql("SELECT count(*) FROM mail"), [(0,)])

    def test_example_sends_a_mail_that_arrives_and_is_in_the_history(self):
        proc = self.send_report()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = proc.stdout.splitlines()
        self.assertRegex(lines[0], r"^mail \d+ sent$")
        self.assertEqual(lines[1], "rcpt to jm@werk.example accepted 250")
        self.assertRegex(lines[2], r"^attachment Prüfbericht.csv \d+ "
                                   r"[0-9a-f]{64}$")
        self.assertRegex(lines[3], r"^history 8D-2026-0042 \d+ sent "
                                   r"8D-2026-0042: Prüfbericht$")
        msg = parse(self.postfix.wait_for_mail(self.seen + 1)[-1])
        self.assertEqual(msg["Subject"], "8D-2026-0042: Prüfbericht")
        self.assertEqual(msg["To"], "Jürgen Müller <jm@werk.example>")
        parts = list(msg.iter_attachments())
        self.assertEqual(parts[0].get_filename(), "Prüfbericht.csv")
        with open(self.report, "rb") as f:
            self.assertEqual(parts[0].get_payload(decode=True), f.read())
        history = json.loads(self.box.run("history", "list", "--record",
                                          "8D-2026-0042", "--json",
                                          check=0).stdout)
        self.assertEqual([(m["state"], m["origin"]) for m in history],
                         [("sent", "api")])
        shown = json.loads(self.box.run("history", "show",
                                        str(history[0]["id"]), "--json",
                                        check=0).stdout)
        self.assertEqual(shown["recipients"][0]["source"], "person:P-0007")

    def test_a_service_acts_for_a_user(self):
        self.box.run("user", "add", "jmueller", "--role", "sender", check=0)
        proc = self.send_report(args=["-u", "jmueller"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.postfix.wait_for_mail(self.seen + 1)
        mail = json.loads(self.box.run("history", "list", "--json",
                                       check=0).stdout)[0]
        self.assertEqual((mail["sender"], mail["operator"]),
                         ("jmueller", pwd.getpwuid(os.geteuid()).pw_name))
        proc = self.send_report(args=["-u", "unbekannt"])
        self.assertEqual(proc.returncode, 66, proc.stderr)  # EX_NOINPUT
        self.assertIn("'unbekannt' is not registered", proc.stderr)

    def test_errors_come_back_with_the_exit_code(self):
        self.box.write_config("[smtp]\nport = 99999\n")
        proc = self.send_report()
        self.assertEqual(proc.returncode, 78)  # EX_CONFIG
        self.assertIn("port", proc.stderr)

    @unittest.skipIf(SANITIZED, "valgrind cannot run sanitized programs; "
                     "the sanitizers check this build themselves")
    def test_no_leak_under_valgrind(self):
        proc = self.send_report(prefix=[
            "valgrind", "--leak-check=full", "--error-exitcode=99",
            "--errors-for-leak-kinds=definite,indirect,possible",
            "--suppressions=" + SUPPRESSIONS, "--num-callers=30"])
        self.assertEqual(proc.returncode, 0, proc.stderr[-6000:])
        self.assertIn("ERROR SUMMARY: 0 errors", proc.stderr)
        self.assertRegex(proc.stdout, r"^mail \d+ sent\n")


if __name__ == "__main__":
    unittest.main()
