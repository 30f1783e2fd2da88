"""caqmail send --pdf: real documents converted by real LibreOffice, the
PDFs checked in the delivered mail with poppler's pdfinfo, pdftotext,
pdffonts and pdfimages.

The documents are made once per run (tests/lib/documents.py).  Every test
runs caqmail with a mark in its environment that LibreOffice inherits,
and afterwards no process with that mark may still run, and no work
folder may be left in the test's temporary folder."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import documents  # noqa: E402
from caqtest import SandboxTest, parse  # noqa: E402

TEXT = ["Prüfbericht Gehäuse 8D-2026-0042",
        "Maße geprüft: Ø 12,5 mm, Oberfläche „gut“, Größe i.O."]
MARK = "CAQMAIL_TEST_RUN"
PNG_SIZE = (48, 32)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def words(text):
    return " ".join(text.split())


class Documents:
    """The inputs, made once for all tests in a folder of their own."""

    folder = None

    @classmethod
    def make(cls):
        if cls.folder is not None:
            return cls.folder
        cls.folder = tempfile.mkdtemp(prefix="caqmail-docs-")
        d = cls.path
        documents.write_odt(d("Prüfbericht Gehäuse.odt"), TEXT)
        documents.write_ods(d("Messwerte.ods"),
                            [["Merkmal", "Maß", "Prüfer"],
                             ["Bohrung Ø", "12,5", "Jürgen Müller"]])
        documents.write_odp(d("Audit.odp"), ["Auditbericht Größe & Maße",
                                             "Maßnahmen für Lieferant Süd"])
        documents.write_png(d("Prüfmarke.png"), *PNG_SIZE)
        office = documents.Office(cls.folder)
        try:
            office.save_as(d("Prüfbericht Gehäuse.odt"),
                           d("Prüfbericht Gehäuse.docx"), "MS Word 2007 XML")
            office.save_as(d("Messwerte.ods"), d("Messwerte.xlsx"),
                           "Calc MS Excel 2007 XML")
            office.save_as(d("Audit.odp"), d("Audit.pptx"),
                           "Impress MS PowerPoint 2007 XML")
            office.save_as(d("Prüfbericht Gehäuse.odt"), d("Geheim.docx"),
                           "MS Word 2007 XML", password="geheim", ooxml=True)
            office.save_as(d("Prüfbericht Gehäuse.odt"), d("Geheim.odt"),
                           "writer8", password="geheim")
            office.save_as(d("Prüfbericht Gehäuse.odt"), d("Geheim.doc"),
                           "MS Word 97", password="geheim")
        finally:
            office.close()
        return cls.folder

    @classmethod
    def path(cls, name):
        return os.path.join(cls.folder, name)

    @classmethod
    def remove(cls):
        if cls.folder is not None:
            shutil.rmtree(cls.folder, ignore_errors=True)
            cls.folder = None


def setUpModule():
    Documents.make()


def tearDownModule():
    Documents.remove()


def corrupt_docx(src, dst):
    """A Word document whose package is whole but whose text is not XML:
    it passes caqmail's checks, and LibreOffice cannot open it."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                data = b"<<<\x00\x01 kein XML"
            zout.writestr(item, data)


def running_with(mark):
    """Processes that carry @mark in their environment and still run."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                env = f.read().split(b"\0")
            with open("/proc/%s/stat" % pid) as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile, or not ours to read
        state = stat[stat.rindex(")") + 2]
        if mark.encode() in env and state not in "ZX":
            found.append(stat[:stat.rindex(")") + 1])
    return found


class ConvertCase(SandboxTest):
    """A sandbox whose caqmail runs carry a mark and keep their temporary
    files in the sandbox."""

    config = "[convert]\ntimeout = 120s\nmax_parallel = 4\n"

    def setUp(self):
        super().setUp()
        self.mark = "%s=%s" % (MARK, uuid.uuid4().hex)
        self.tmp = self.box.path("tmp")
        os.makedirs(self.tmp)
        self.box.write_config(self.config)

    def tearDown(self):
        try:
            self.assertEqual(running_with(self.mark), [],
                             "LibreOffice processes left behind")
            self.assertEqual(os.listdir(self.tmp), [],
                             "conversion work folders left behind")
        finally:
            super().tearDown()

    def env(self):
        key, value = self.mark.split("=")
        return {key: value, "TMPDIR": self.tmp}

    def send(self, *args, check=0):
        return self.box.run("send", "-v", "--from", "qm@werk.example", "--to",
                            "a@werk.example", "--subject", "Bericht",
                            "--pdf", *args, env=self.env(), check=check,
                            timeout=600)

    def copy(self, name, as_name=None):
        dst = self.box.path(as_name or name)
        shutil.copyfile(Documents.path(name), dst)
        return dst

    def attachments(self, raw):
        msg = parse(raw)
        return [p for p in msg.walk()
                if p.get_content_disposition() == "attachment"]

    def events(self, stderr, name):
        out = []
        for line in stderr.splitlines():
            if "event=%s " % name in line:
                pairs = re.findall(r'(\w+)=(?:"([^"]*)"|(\S+))', line)
                out.append({k: q or v for k, q, v in pairs})
        return out

    def tool(self, *args):
        proc = subprocess.run(args, capture_output=True, check=True)
        return proc.stdout.decode("utf-8")

    def check_history(self, mail, raw, sources):
        """`history show` lists each attachment of the delivered @raw with
        the hash of what was sent and where it came from: for each of
        @sources, a stored document (its JSON) or (None, the path of a
        file that was converted); `history show --raw` holds the same
        bytes as the delivered mail."""
        shown = json.loads(self.box.run("history", "show", str(mail),
                                        "--json", check=0).stdout)
        sent = self.attachments(raw)
        self.assertEqual(len(shown["attachments"]), len(sent))
        for info, part, source in zip(shown["attachments"], sent, sources):
            data = part.get_content()
            self.assertEqual(info["filename"], part.get_filename())
            self.assertEqual(info["size"], len(data))
            self.assertEqual(info["sha256"], sha256(data))
            if isinstance(source, dict):
                self.assertEqual(info["source"], "document:" + source["id"])
                self.assertEqual(info["source_sha256"], source["sha256"])
            else:
                with open(source[1], "rb") as f:
                    self.assertEqual(info["source_sha256"],
                                     sha256(f.read()))
                self.assertIsNone(info["source"])
        stored = self.box.run("history", "show", str(mail), "--raw",
                              binary=True, check=0).stdout
        self.assertEqual([p.get_content() for p in self.attachments(stored)],
                         [p.get_content() for p in sent])
        return shown

    def check_pdf(self, data, texts=(), fonts=True):
        """A real PDF: pdfinfo reads it, pdftotext finds @texts with their
        umlauts, pdffonts lists embedded fonts that are not bitmaps."""
        path = self.box.path("check.pdf")
        with open(path, "wb") as f:
            f.write(data)
        self.assertTrue(data.startswith(b"%PDF-"))
        info = self.tool("pdfinfo", path)
        pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
        self.assertGreaterEqual(pages, 1)
        text = words(self.tool("pdftotext", "-enc", "UTF-8", path, "-"))
        for want in texts:
            self.assertIn(words(want), text)
        rows = self.tool("pdffonts", path).splitlines()[2:]
        if fonts:
            self.assertGreater(len(rows), 0, "no fonts in the PDF")
        for row in rows:
            cols = row.split()
            self.assertEqual(cols[-5], "yes", "font not embedded: " + row)
            self.assertNotIn("Type 3", row)
        return path


class EveryTypeTest(ConvertCase):
    """One conversion per input type, in one mail."""

    def test_seven_types_in_one_mail(self):
        html = self.box.write(
            "Prüfplan.html",
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
            "<title>Prüfplan</title></head><body><h1>Prüfplan Gehäuse</h1>"
            "<table border=\"1\"><tr><td>Maß</td><td>Ø 12,5 mm</td></tr>"
            "<tr><td>Prüfer</td><td>Jürgen Müller</td></tr></table>"
            "</body></html>\n")
        txt = self.box.write("Prüfprotokoll.txt", "\n".join(TEXT) + "\n")
        inputs = [
            (self.copy("Prüfbericht Gehäuse.docx"), TEXT),
            (self.copy("Messwerte.xlsx"), ["Bohrung Ø", "Jürgen Müller"]),
            (self.copy("Prüfbericht Gehäuse.odt",
                       "Prüfbericht Gehäuse (ODF).odt"), TEXT),
            (self.copy("Audit.pptx"), ["Auditbericht Größe & Maße"]),
            (txt, TEXT),
            (html, ["Prüfplan Gehäuse", "Ø 12,5 mm", "Jürgen Müller"]),
            (self.copy("Prüfmarke.png"), None),
        ]
        args = []
        for path, _ in inputs:
            args += ["--attach", path]
        proc = self.send(*args)

        raws = self.box.delivered()
        self.assertEqual(len(raws), 1)
        atts = self.attachments(raws[0])
        converted = {e["file"]: e
                     for e in self.events(proc.stderr, "converted")}
        self.assertEqual(len(atts), len(inputs))
        for (path, texts), part in zip(inputs, atts):
            name = os.path.basename(path)
            with self.subTest(name=name):
                stem = os.path.splitext(name)[0]
                self.assertEqual(part.get_filename(), stem + ".pdf")
                self.assertEqual(part.get_content_type(), "application/pdf")
                data = part.get_content()
                if texts is None:
                    self.check_image_pdf(data)
                else:
                    self.check_pdf(data, texts)
                # The source's identity and the hash of the PDF sent.
                event = converted[name]
                with open(path, "rb") as f:
                    self.assertEqual(event["source"], sha256(f.read()))
                self.assertEqual(event["pdf"], sha256(data))
                self.assertEqual(event["cache"], "miss")
        self.check_history(1, raws[0], [(None, p) for p, _ in inputs])

    def check_image_pdf(self, data):
        """The image is in the PDF once, losslessly: its pixels come out
        exactly as they went in."""
        path = self.check_pdf(data, fonts=False)
        listing = self.tool("pdfimages", "-list", path).splitlines()[2:]
        self.assertEqual(len(listing), 1, listing)
        cols = listing[0].split()
        self.assertEqual((int(cols[3]), int(cols[4])), PNG_SIZE)
        self.assertNotEqual(cols[9], "jpeg")
        prefix = self.box.path("img")
        self.tool("pdfimages", path, prefix)
        with open(prefix + "-000.ppm", "rb") as f:
            ppm = f.read()
        header = b"P6\n%d %d\n255\n" % PNG_SIZE
        self.assertTrue(ppm.startswith(header))
        width, height = PNG_SIZE
        want = b"".join(bytes(documents.pixel(x, y))
                        for y in range(height) for x in range(width))
        self.assertEqual(ppm[len(header):], want)


class DocumentTest(ConvertCase):
    """Stored documents (`caqmail document`) sent with --pdf."""

    def add(self, path, *args):
        proc = self.box.run("document", "add", path, "--title", "Prüfbericht",
                            "--json", *args, env=self.env(), check=0)
        return json.loads(proc.stdout)

    def test_converted_document_in_mail_and_history(self):
        """The stored revision is converted, even after the original
        changed; the mail and the history hold the same PDF, and the
        history names the document and its hash.  A stored PDF goes as
        it is, and sending the document again takes its PDF from the
        cache."""
        path = self.copy("Prüfbericht Gehäuse.docx")
        with open(path, "rb") as f:
            original = f.read()
        docx = self.add(path, "--revision", "B", "--record", "8D-2026-0042")
        self.assertEqual(docx["kind"], "docx")
        self.assertEqual(docx["sha256"], sha256(original))
        pdf = self.add(self.box.write("Zeugnis.pdf", b"%PDF-1.4\n%\xe2\n"))
        shutil.copyfile(Documents.path("Messwerte.xlsx"), path)

        proc = self.send("--document", docx["id"], "--document", pdf["id"])
        raw = self.box.delivered()[0]
        atts = self.attachments(raw)
        self.assertEqual([a.get_filename() for a in atts],
                         ["Prüfbericht Gehäuse.pdf", "Zeugnis.pdf"])
        self.check_pdf(atts[0].get_content(), TEXT)
        event, = self.events(proc.stderr, "converted")
        self.assertEqual(event["source"], docx["sha256"])
        shown = self.check_history(1, raw, [docx, pdf])
        self.assertEqual(shown["origin"], "document")

        proc = self.send("--document", docx["id"])
        event, = self.events(proc.stderr, "converted")
        self.assertEqual(event["cache"], "hit")
        again = self.attachments(self.box.delivered()[1])[0].get_content()
        self.assertEqual(again, atts[0].get_content())
        shown = json.loads(self.box.run("document", "show", docx["id"],
                                        "--json", check=0).stdout)
        self.assertEqual(shown["mails"], [1, 2])

    def test_failed_conversion_queues_nothing(self):
        path = self.box.path("Verdorben.docx")
        corrupt_docx(Documents.path("Prüfbericht Gehäuse.docx"), path)
        doc = self.add(path)
        proc = self.send("--document", doc["id"], check=65)
        self.assertIn("attachment 'Verdorben.docx': LibreOffice cannot open "
                      "it", proc.stderr)
        self.assertEqual(self.box.delivered(), [])
        listed = self.box.run("history", "list", "--json", check=0).stdout
        self.assertEqual(json.loads(listed), [])


class TextVariantsTest(ConvertCase):

    def test_csv_in_windows_1252_with_semicolons(self):
        rows = ["Merkmal;Maß;Ergebnis", "Gehäuse;Ø 12,5;„gut“",
                "Deckel;3,2;Prüfer Müller"]
        path = self.box.write("Prüfmaße.csv",
                              "\r\n".join(rows).encode("cp1252") + b"\r\n")
        self.send("--attach", path)
        part = self.attachments(self.box.delivered()[0])[0]
        self.assertEqual(part.get_filename(), "Prüfmaße.pdf")
        pdf = self.check_pdf(part.get_content(), ["Gehäuse", "Ø 12,5",
                                                  "„gut“", "Prüfer Müller"])
        # Cells, not lines: the semicolons were taken as separators.
        self.assertNotIn(";", self.tool("pdftotext", pdf, "-"))

    def test_pdf_is_sent_as_it_is_and_repeats_come_from_the_cache(self):
        pdf = self.box.write("Zeugnis.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        txt = self.box.write("Notiz.txt", "Grüße aus der Qualitätssicherung\n")
        first = self.send("--attach", pdf, "--attach", txt)
        second = self.send("--attach", txt)
        one, two = [self.attachments(r) for r in self.box.delivered()]
        self.assertEqual(one[0].get_filename(), "Zeugnis.pdf")
        with open(pdf, "rb") as f:
            self.assertEqual(one[0].get_content(), f.read())
        self.assertEqual(one[1].get_content(), two[0].get_content())
        ev1 = self.events(first.stderr, "converted")
        ev2 = self.events(second.stderr, "converted")
        self.assertEqual([e["file"] for e in ev1], ["Notiz.txt"])
        self.assertEqual(ev1[0]["cache"], "miss")
        self.assertEqual(ev2[0]["cache"], "hit")
        self.assertEqual(ev2[0]["pdf"], sha256(two[0].get_content()))


class ParallelTest(ConvertCase):

    def test_four_conversions_at_once(self):
        procs = []
        for i in range(4):
            path = self.box.path("Auftrag %d.odt" % i)
            documents.write_odt(path, ["Prüfauftrag Nr. %d – Größe %d mm"
                                       % (i, 10 + i)])
            procs.append(subprocess.Popen(
                [os.environ.get("CAQMAIL", "caqmail"), "send", "--from",
                 "qm@werk.example", "--to", "a@werk.example", "--subject",
                 "Auftrag %d" % i, "--attach", path, "--pdf"],
                env=self.box.env(self.env()), cwd=self.box.root,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        for proc in procs:
            _, err = proc.communicate(timeout=600)
            self.assertEqual(proc.returncode, 0, err.decode())
        raws = self.box.delivered()
        self.assertEqual(len(raws), 4)
        for raw in raws:
            i = int(parse(raw)["subject"].split()[-1])
            part = self.attachments(raw)[0]
            self.assertEqual(part.get_filename(), "Auftrag %d.pdf" % i)
            self.check_pdf(part.get_content(),
                           ["Prüfauftrag Nr. %d – Größe %d mm" % (i, 10 + i)])


class BadInputTest(ConvertCase):
    """Every refusal: a clear message, a sysexits code, nothing sent."""

    def refuse(self, path, code, message, *extra):
        proc = self.send("--attach", path, *extra, check=None)
        self.assertEqual(proc.returncode, code, proc.stderr)
        self.assertIn(message, proc.stderr)
        self.assertEqual(self.box.delivered(), [])
        self.assertEqual(self.box.leftovers(), [])
        return proc

    def test_damaged_archive(self):
        with open(Documents.path("Prüfbericht Gehäuse.docx"), "rb") as f:
            data = f.read()
        path = self.box.write("Kaputt.docx", data[:len(data) // 2])
        self.refuse(path, 65, "attachment 'Kaputt.docx': the file is "
                              "damaged: an incomplete ZIP archive")

    def test_corrupt_content_refused_by_libreoffice(self):
        path = self.box.path("Verdorben.docx")
        corrupt_docx(Documents.path("Prüfbericht Gehäuse.docx"), path)
        self.refuse(path, 65, "attachment 'Verdorben.docx': LibreOffice "
                              "cannot open it: the file is damaged or "
                              "protected by a password")

    def test_password_protected(self):
        cases = [("Geheim.docx", "a Word document"),
                 ("Geheim.odt", "an OpenDocument text"),
                 ("Geheim.doc", "a Word 97-2003 document")]
        for name, what in cases:
            with self.subTest(name=name):
                self.refuse(self.copy(name), 65,
                            "attachment '%s': %s protected by a password "
                            "cannot be converted" % (name, what))

    def test_empty_file(self):
        path = self.box.write("Leer.docx", b"")
        self.refuse(path, 65, "attachment 'Leer.docx': the file is empty")

    def test_content_does_not_match_name(self):
        path = self.copy("Prüfmarke.png", "Prüfbericht.docx")
        self.refuse(path, 65, "attachment 'Prüfbericht.docx': the name says "
                              "a Word document (.docx) but the content is a "
                              "PNG image")
        path = self.box.write("Zeichnung.dwg", b"AC1032\x00\x01\x02")
        self.refuse(path, 65, "binary data is not a type that is converted")

    def test_time_limit(self):
        self.box.write_config("[convert]\ntimeout = 1s\n")
        line = "Zeile %06d: Prüfwert Größe Ø 12,5 mm – Oberfläche „gut“\n"
        path = self.box.write("Langes Protokoll.txt",
                              "".join(line % i for i in range(60000)))
        self.refuse(path, 75, "attachment 'Langes Protokoll.txt': "
                              "LibreOffice did not finish within the time "
                              "limit of 1 s (setting convert.timeout)")

    def test_libreoffice_missing(self):
        self.box.write_config("[convert]\nsoffice = %s\n"
                              % self.box.path("no", "soffice"))
        path = self.box.write("Notiz.txt", "Grüße\n")
        proc = self.refuse(path, 69, "LibreOffice is not installed")
        for package in ("libreoffice-writer-nogui", "libreoffice-calc-nogui",
                        "libreoffice-impress-nogui"):
            self.assertIn(package, proc.stderr)

    def test_one_bad_attachment_stops_the_mail(self):
        good = self.box.write("Zeugnis.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        bad = self.box.write("Leer.txt", b"")
        self.refuse(good, 65, "attachment 'Leer.txt': the file is empty",
                    "--attach", bad)


if __name__ == "__main__":
    unittest.main()
