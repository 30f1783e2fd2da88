"""Real documents for the conversion tests, made on the spot.

OpenDocument files and PNG images are written here byte by byte, as their
specifications describe them.  Word, Excel and PowerPoint files, and
password-protected ones, come from LibreOffice's own export filters,
driven through its UNO interface (Debian's python3-uno) by one LibreOffice
process with a private profile, which is stopped, with its whole process
group, when the work is done.
"""

import os
import signal
import struct
import subprocess
import tempfile
import time
import zipfile
import zlib
from xml.sax.saxutils import escape

ODF_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "svg": "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0",
}
ODF_MEDIA = "application/vnd.oasis.opendocument."


def _odf(path, kind, body):
    """Writes an OpenDocument package: "mimetype" first and stored, then
    the content and the manifest."""
    media = ODF_MEDIA + kind
    names = " ".join('xmlns:%s="%s"' % item for item in ODF_NS.items())
    content = ('<?xml version="1.0" encoding="UTF-8"?>\n'
               '<office:document-content %s office:version="1.2">'
               "<office:body>%s</office:body></office:document-content>"
               % (names, body))
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
        'opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="%s"/>'
        '<manifest:file-entry manifest:full-path="content.xml" '
        'manifest:media-type="text/xml"/></manifest:manifest>' % media)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", media, compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest,
                   compress_type=zipfile.ZIP_DEFLATED)
    return path


def write_odt(path, paragraphs):
    body = "".join("<text:p>%s</text:p>" % escape(p) for p in paragraphs)
    return _odf(path, "text", "<office:text>%s</office:text>" % body)


def write_ods(path, rows, sheet="Messwerte"):
    cells = "".join(
        "<table:table-row>%s</table:table-row>" % "".join(
            '<table:table-cell office:value-type="string">'
            "<text:p>%s</text:p></table:table-cell>" % escape(c) for c in row)
        for row in rows)
    return _odf(path, "spreadsheet",
                '<office:spreadsheet><table:table table:name="%s">%s'
                "</table:table></office:spreadsheet>" % (escape(sheet), cells))


def write_odp(path, slides):
    pages = "".join(
        '<draw:page draw:name="Folie%d"><draw:frame svg:x="2cm" svg:y="2cm" '
        'svg:width="20cm" svg:height="4cm"><draw:text-box><text:p>%s'
        "</text:p></draw:text-box></draw:frame></draw:page>"
        % (i + 1, escape(text)) for i, text in enumerate(slides))
    return _odf(path, "presentation",
                "<office:presentation>%s</office:presentation>" % pages)


def pixel(x, y):
    """The test image: a gradient no lossy encoder keeps exactly."""
    return ((x * 7) % 256, (y * 11) % 256, (x * y) % 256)


def write_png(path, width, height):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data)))
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width))
        for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
                chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


class Office:
    """One LibreOffice process driven through UNO, for making documents in
    the formats of Microsoft Office and with passwords."""

    def __init__(self, workdir):
        import uno  # Debian's python3-uno; imported only where needed
        self.uno = uno
        self.profile = tempfile.mkdtemp(prefix="lo-profile-", dir=workdir)
        pipe = "caqmail-test-%d" % os.getpid()
        self.proc = subprocess.Popen(
            ["soffice", "-env:UserInstallation=file://" + self.profile,
             "--headless", "--invisible", "--norestore", "--nologo",
             "--nodefault", "--accept=pipe,name=%s;urp;" % pipe],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            self.desktop = self._connect(pipe)
        except BaseException:
            self.close()
            raise

    def _connect(self, pipe):
        local = self.uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        url = "uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe
        for _ in range(600):  # LibreOffice takes a few seconds to start
            if self.proc.poll() is not None:
                raise RuntimeError("LibreOffice ended before it answered")
            try:
                ctx = resolver.resolve(url)
                return ctx.ServiceManager.createInstanceWithContext(
                    "com.sun.star.frame.Desktop", ctx)
            except Exception:  # not listening yet
                time.sleep(0.1)
        raise RuntimeError("LibreOffice did not answer on its pipe")

    def _prop(self, name, value):
        from com.sun.star.beans import PropertyValue
        p = PropertyValue()
        p.Name, p.Value = name, value
        return p

    def _named(self, name, value):
        from com.sun.star.beans import NamedValue
        v = NamedValue()
        v.Name, v.Value = name, value
        return v

    def save_as(self, src, dst, filter_name, password=None, ooxml=False):
        """Opens @src and stores it as @dst with @filter_name, protected
        by @password when given (Office Open XML needs its own encryption
        data: the Standard encryption of ECMA-376)."""
        uno = self.uno
        doc = self.desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(src), "_blank", 0,
            (self._prop("Hidden", True),))
        props = [self._prop("FilterName", filter_name),
                 self._prop("Overwrite", True)]
        if password and ooxml:
            data = (self._named("OOXPassword", password),
                    self._named("CryptoType", "Standard"))
            props.append(self._prop("EncryptionData", uno.Any(
                "[]com.sun.star.beans.NamedValue", data)))
        elif password:
            props.append(self._prop("Password", password))
        try:
            uno.invoke(doc, "storeToURL", (uno.systemPathToFileUrl(dst),
                                           tuple(props)))
        finally:
            doc.close(True)
        return dst

    def close(self):
        try:
            self.desktop.terminate()
        except Exception:  # already gone, or never connected
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
