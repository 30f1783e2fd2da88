/* Document type detection: byte signatures, ZIP and OLE2 containers built
 * here byte by byte, password protection, and names against content. */
#include "attach/detect.h"
#include "common/error.h"

#include <gio/gio.h>
#include <string.h>

/* ---- building containers ---------------------------------------------- */

static void
put16(GByteArray *a, guint v)
{
    guint8 b[2] = {v & 0xff, (v >> 8) & 0xff};
    g_byte_array_append(a, b, 2);
}

static void
put32(GByteArray *a, guint32 v)
{
    put16(a, v & 0xffff);
    put16(a, v >> 16);
}

static void
set32(GByteArray *a, gsize at, guint32 v)
{
    for (guint i = 0; i < 4; i++)
        a->data[at + i] = (v >> (8 * i)) & 0xff;
}

static GBytes *
deflate_raw(const char *data)
{
    g_autoptr(GZlibCompressor) z =
        g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_RAW, 6);
    gsize len = strlen(data), cap = len + 64, read = 0, written = 0;
    guchar *out = g_malloc(cap);
    GConverterResult r =
        g_converter_convert(G_CONVERTER(z), data, len, out, cap,
                            G_CONVERTER_INPUT_AT_END, &read, &written, NULL);
    g_assert_cmpint(r, ==, G_CONVERTER_FINISHED);
    return g_bytes_new_take(out, written);
}

typedef struct {
    const char *name;
    const char *data;
    gboolean deflate;
} ZipMember;

static void
zip_header(GByteArray *a, guint32 sig, guint method, gsize packed, gsize size,
           const char *name)
{
    put32(a, sig);
    if (sig == 0x02014b50)
        put16(a, 20); /* made by */
    put16(a, 20);     /* needed */
    put16(a, 0);      /* flags */
    put16(a, method);
    put32(a, 0); /* time, date */
    put32(a, 0); /* CRC: not checked by the detector */
    put32(a, (guint32)packed);
    put32(a, (guint32)size);
    put16(a, (guint)strlen(name));
    put16(a, 0); /* extra */
}

static GBytes *
build_zip(const ZipMember *members, guint n)
{
    GByteArray *zip = g_byte_array_new();
    g_autoptr(GByteArray) cd = g_byte_array_new();

    for (guint i = 0; i < n; i++) {
        const ZipMember *m = &members[i];
        g_autoptr(GBytes) packed =
            m->deflate ? deflate_raw(m->data)
                       : g_bytes_new_static(m->data, strlen(m->data));
        gsize plen = g_bytes_get_size(packed), offset = zip->len;
        guint method = m->deflate ? 8 : 0;

        zip_header(zip, 0x04034b50, method, plen, strlen(m->data), m->name);
        g_byte_array_append(zip, (const guint8 *)m->name, strlen(m->name));
        g_byte_array_append(zip, g_bytes_get_data(packed, NULL), plen);

        zip_header(cd, 0x02014b50, method, plen, strlen(m->data), m->name);
        put16(cd, 0); /* comment */
        put16(cd, 0); /* disk */
        put16(cd, 0); /* internal attributes */
        put32(cd, 0); /* external attributes */
        put32(cd, (guint32)offset);
        g_byte_array_append(cd, (const guint8 *)m->name, strlen(m->name));
    }
    gsize cd_offset = zip->len;
    g_byte_array_append(zip, cd->data, cd->len);
    put32(zip, 0x06054b50);
    put32(zip, 0); /* disks */
    put16(zip, n);
    put16(zip, n);
    put32(zip, cd->len);
    put32(zip, (guint32)cd_offset);
    put16(zip, 0);
    return g_byte_array_free_to_bytes(zip);
}

#define CT_HEAD                                                                \
    "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats."     \
    "org/package/2006/content-types\"><Override PartName=\"/main.xml\" "       \
    "ContentType=\"application/"
#define CT_TAIL "\"/></Types>"
#define ODF "application/vnd.oasis.opendocument."
#define MANIFEST                                                               \
    "<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:"     \
    "xmlns:manifest:1.0\"><manifest:file-entry manifest:full-path=\"/\"/>"
#define ENCRYPTED                                                              \
    "<manifest:file-entry manifest:full-path=\"content.xml\">"                 \
    "<manifest:encryption-data manifest:checksum-type=\"sha256-1k\"/>"         \
    "</manifest:file-entry>"

typedef struct {
    const char *path;
    ZipMember members[3];
    CqDocKind kind;
    gboolean encrypted;
    gboolean damaged;
} ZipCase;

static const ZipCase zip_cases[] = {
    {"/detect/zip/docx",
     {{"[Content_Types].xml",
       CT_HEAD "vnd.openxmlformats-officedocument.wordprocessingml."
               "document.main+xml" CT_TAIL,
       TRUE}},
     CQ_DOC_DOCX},
    {"/detect/zip/docm",
     {{"[Content_Types].xml",
       CT_HEAD "vnd.ms-word.document.macroEnabled.main+xml" CT_TAIL, TRUE}},
     CQ_DOC_DOCX},
    {"/detect/zip/xlsx",
     {{"[Content_Types].xml",
       CT_HEAD "vnd.openxmlformats-officedocument.spreadsheetml.sheet."
               "main+xml" CT_TAIL,
       FALSE}},
     CQ_DOC_XLSX},
    {"/detect/zip/pptx",
     {{"[Content_Types].xml",
       CT_HEAD "vnd.openxmlformats-officedocument.presentationml."
               "presentation.main+xml" CT_TAIL,
       TRUE}},
     CQ_DOC_PPTX},
    {"/detect/zip/ooxml-other",
     {{"[Content_Types].xml", CT_HEAD "xml" CT_TAIL, TRUE}},
     CQ_DOC_UNKNOWN},
    {"/detect/zip/odt",
     {{"mimetype", ODF "text", FALSE},
      {"META-INF/manifest.xml", MANIFEST "</manifest:manifest>", TRUE}},
     CQ_DOC_ODT},
    {"/detect/zip/ods",
     {{"mimetype", ODF "spreadsheet", FALSE},
      {"META-INF/manifest.xml", MANIFEST "</manifest:manifest>", FALSE}},
     CQ_DOC_ODS},
    {"/detect/zip/odp",
     {{"mimetype", ODF "presentation", FALSE},
      {"META-INF/manifest.xml", MANIFEST "</manifest:manifest>", TRUE}},
     CQ_DOC_ODP},
    {"/detect/zip/odt-encrypted",
     {{"mimetype", ODF "text", FALSE},
      {"META-INF/manifest.xml", MANIFEST ENCRYPTED "</manifest:manifest>",
       TRUE}},
     CQ_DOC_ODT,
     TRUE},
    {"/detect/zip/odg",
     {{"mimetype", ODF "graphics", FALSE},
      {"META-INF/manifest.xml", MANIFEST "</manifest:manifest>", TRUE}},
     CQ_DOC_UNKNOWN},
    {"/detect/zip/odt-no-manifest",
     {{"mimetype", ODF "text", FALSE}},
     CQ_DOC_UNKNOWN,
     FALSE,
     TRUE},
    {"/detect/zip/plain-archive",
     {{"Messwerte.csv", "a;b\n", TRUE}},
     CQ_DOC_UNKNOWN},
};

static void
check_type(const CqDocType *type, CqDocKind kind, gboolean encrypted,
           gboolean damaged)
{
    g_assert_cmpstr(cq_doc_kind_name(type->kind), ==, cq_doc_kind_name(kind));
    g_assert_cmpint(type->encrypted, ==, encrypted);
    g_assert_cmpint(type->damaged, ==, damaged);
    g_assert_nonnull(type->what);
}

static void
test_zip(gconstpointer data)
{
    const ZipCase *c = data;
    guint n = 0;
    CqDocType type;

    while (n < G_N_ELEMENTS(c->members) && c->members[n].name)
        n++;
    g_autoptr(GBytes) zip = build_zip(c->members, n);
    gsize len = 0;
    const guchar *bytes = g_bytes_get_data(zip, &len);
    cq_doc_sniff(bytes, len, &type);
    check_type(&type, c->kind, c->encrypted, c->damaged);

    /* Every cut-off archive is refused as damaged, never misread. */
    for (gsize cut = 1; cut + 4 <= len; cut += 7) {
        cq_doc_sniff(bytes, len - cut, &type);
        g_assert_cmpint(type.kind, ==, CQ_DOC_UNKNOWN);
    }
}

/* ---- OLE2 compound files --------------------------------------------- */

#define SECTOR 512
#define END_OF_CHAIN 0xfffffffeu
#define FREE_SECT 0xffffffffu

typedef struct {
    const char *name;
    gsize size;         /* 4096 and more: regular sectors, else mini */
    const guchar *head; /* the first bytes; zeros follow */
    gsize head_len;
} OleStream;

static void
dir_entry(guchar *e, const char *name, guint type, guint32 start, guint32 size,
          guint32 child, guint32 right)
{
    gsize n = strlen(name);
    memset(e, 0, 128);
    for (gsize i = 0; i < n; i++)
        e[2 * i] = (guchar)name[i];
    e[0x40] = (guchar)((n + 1) * 2);
    e[0x42] = (guchar)type;
    e[0x43] = 1; /* black */
    for (guint i = 0; i < 4; i++) {
        e[0x44 + i] = 0xff; /* no left sibling */
        e[0x48 + i] = (right >> (8 * i)) & 0xff;
        e[0x4c + i] = (child >> (8 * i)) & 0xff;
        e[0x74 + i] = (start >> (8 * i)) & 0xff;
        e[0x78 + i] = (size >> (8 * i)) & 0xff;
    }
}

/* Lays out: header, FAT (sector 0), directory (sector 1), the regular
 * streams, then the mini stream.  Up to three streams. */
static GByteArray *
build_ole(const OleStream *streams, guint n)
{
    guint32 fat[SECTOR / 4], next = 2, mini_next = 0;
    guint32 starts[3] = {0};
    GByteArray *f = g_byte_array_new();

    g_assert_cmpuint(n, <=, 3);
    for (guint i = 0; i < SECTOR / 4; i++)
        fat[i] = FREE_SECT;
    fat[0] = 0xfffffffdu;
    fat[1] = END_OF_CHAIN;
    for (guint i = 0; i < n; i++) {
        if (streams[i].size < 4096) {
            starts[i] = mini_next;
            mini_next += (guint32)((streams[i].size + 63) / 64);
            continue;
        }
        guint32 count = (guint32)((streams[i].size + SECTOR - 1) / SECTOR);
        starts[i] = next;
        for (guint32 s = 0; s < count; s++)
            fat[next + s] = s + 1 < count ? next + s + 1 : END_OF_CHAIN;
        next += count;
    }
    guint32 mini_start = mini_next ? next : END_OF_CHAIN;
    guint32 mini_sectors = (mini_next * 64 + SECTOR - 1) / SECTOR;
    for (guint32 s = 0; s < mini_sectors; s++)
        fat[next + s] = s + 1 < mini_sectors ? next + s + 1 : END_OF_CHAIN;
    guint32 total = next + mini_sectors;

    g_byte_array_set_size(f, SECTOR * (total + 1));
    memset(f->data, 0, f->len);
    memcpy(f->data, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8);
    guchar *h = f->data;
    h[0x18] = 0x3e;
    h[0x1a] = 3;
    h[0x1c] = 0xfe;
    h[0x1d] = 0xff;
    h[0x1e] = 9;
    h[0x20] = 6;
    set32(f, 0x2c, 1);
    set32(f, 0x30, 1);
    set32(f, 0x38, 4096);
    set32(f, 0x3c, END_OF_CHAIN);
    set32(f, 0x44, END_OF_CHAIN);
    set32(f, 0x4c, 0);
    for (guint i = 1; i < 109; i++)
        set32(f, 0x4c + 4 * i, FREE_SECT);
    for (guint i = 0; i < SECTOR / 4; i++)
        set32(f, SECTOR + 4 * i, fat[i]);

    guchar *dir = f->data + 2 * SECTOR;
    dir_entry(dir, "Root Entry", 5, mini_start, mini_next * 64,
              n ? 1 : FREE_SECT, FREE_SECT);
    for (guint i = 0; i < n; i++) {
        const OleStream *s = &streams[i];
        dir_entry(dir + 128 * (i + 1), s->name, 2, starts[i], (guint32)s->size,
                  FREE_SECT, i + 1 < n ? i + 2 : FREE_SECT);
        gsize at = s->size < 4096
                       ? (gsize)(mini_start + 1) * SECTOR + starts[i] * 64
                       : (gsize)(starts[i] + 1) * SECTOR;
        memcpy(f->data + at, s->head, s->head_len);
    }
    return f;
}

static const guchar fib_plain[12] = {0xec, 0xa5, 0xc1, 0x00};
static const guchar fib_encrypted[12] = {0xec, 0xa5, 0xc1, 0x00, 0,    0,
                                         0,    0,    0,    0,    0x00, 0x01};
static const guchar fib_obfuscated[12] = {0xec, 0xa5, 0xc1, 0x00, 0,    0,
                                          0,    0,    0,    0,    0x00, 0x80};
/* BOF (0x0809, 16 bytes), then FILEPASS (0x002F) or WINDOW1 (0x003D). */
static const guchar bof_filepass[24] = {0x09, 0x08,        0x10, 0x00, 0x00,
                                        0x06, [20] = 0x2f, 0x00, 0x36, 0x00};
static const guchar bof_plain[24] = {0x09, 0x08,        0x10, 0x00, 0x00,
                                     0x06, [20] = 0x3d, 0x00, 0x12, 0x00};
static const guchar zeros[8] = {0};

typedef struct {
    const char *path;
    OleStream streams[3];
    CqDocKind kind;
    gboolean encrypted;
} OleCase;

static const OleCase ole_cases[] = {
    {"/detect/ole/doc", {{"WordDocument", 4096, fib_plain, 12}}, CQ_DOC_DOC},
    {"/detect/ole/doc-encrypted",
     {{"1Table", 100, zeros, 8}, {"WordDocument", 8192, fib_encrypted, 12}},
     CQ_DOC_DOC,
     TRUE},
    {"/detect/ole/doc-obfuscated",
     {{"WordDocument", 5000, fib_obfuscated, 12}},
     CQ_DOC_DOC,
     TRUE},
    {"/detect/ole/doc-small",
     {{"WordDocument", 200, fib_encrypted, 12}},
     CQ_DOC_DOC,
     TRUE},
    {"/detect/ole/xls", {{"Workbook", 300, bof_plain, 24}}, CQ_DOC_XLS},
    {"/detect/ole/xls-encrypted",
     {{"SummaryInformation", 100, zeros, 8},
      {"Workbook", 300, bof_filepass, 24}},
     CQ_DOC_XLS,
     TRUE},
    {"/detect/ole/xls-biff5",
     {{"Book", 6000, bof_filepass, 24}},
     CQ_DOC_XLS,
     TRUE},
    {"/detect/ole/ppt",
     {{"PowerPoint Document", 4200, zeros, 8}, {"Current User", 60, zeros, 8}},
     CQ_DOC_PPT},
    {"/detect/ole/ppt-encrypted",
     {{"PowerPoint Document", 4200, zeros, 8},
      {"EncryptedSummary", 60, zeros, 8}},
     CQ_DOC_PPT,
     TRUE},
    {"/detect/ole/ooxml-encrypted",
     {{"EncryptionInfo", 200, zeros, 8}, {"EncryptedPackage", 9000, zeros, 8}},
     CQ_DOC_UNKNOWN,
     TRUE},
    {"/detect/ole/outlook-message",
     {{"__substg1.0_0037001F", 40, zeros, 8}},
     CQ_DOC_UNKNOWN},
};

static void
test_ole(gconstpointer data)
{
    const OleCase *c = data;
    guint n = 0;
    CqDocType type;

    while (n < G_N_ELEMENTS(c->streams) && c->streams[n].name)
        n++;
    g_autoptr(GByteArray) f = build_ole(c->streams, n);
    cq_doc_sniff(f->data, f->len, &type);
    check_type(&type, c->kind, c->encrypted, FALSE);

    /* A truncated file never reads beyond its end. */
    for (gsize len = f->len; len > 0; len -= MIN(len, 97))
        cq_doc_sniff(f->data, len, &type);
}

static void
test_ole_damaged(void)
{
    static const OleStream word = {"WordDocument", 4096, fib_plain, 12};
    g_autoptr(GByteArray) f = build_ole(&word, 1);
    CqDocType type;

    set32(f, 0x2c, 100000); /* more allocation sectors than the file has */
    cq_doc_sniff(f->data, f->len, &type);
    check_type(&type, CQ_DOC_UNKNOWN, FALSE, TRUE);

    set32(f, 0x2c, 1);
    f->data[0x1e] = 7; /* no such sector size */
    cq_doc_sniff(f->data, f->len, &type);
    check_type(&type, CQ_DOC_UNKNOWN, FALSE, TRUE);

    f->data[0x1e] = 9;
    set32(f, 0x30, 0x7fffffff); /* directory beyond the end */
    cq_doc_sniff(f->data, f->len, &type);
    check_type(&type, CQ_DOC_UNKNOWN, FALSE, TRUE);

    set32(f, 0x30, 0); /* directory chain loops through the FAT sector */
    cq_doc_sniff(f->data, f->len, &type);
    g_assert_cmpint(type.kind, ==, CQ_DOC_UNKNOWN);
}

/* ---- signatures and text ---------------------------------------------- */

typedef struct {
    const char *path;
    const char *bytes;
    gsize len; /* 0: strlen */
    CqDocKind kind;
    CqCharset charset;
} Signature;

static const Signature signatures[] = {
    {"/detect/magic/png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, CQ_DOC_PNG},
    {"/detect/magic/jpeg", "\xff\xd8\xff\xe0\0\x10JFIF", 10, CQ_DOC_JPEG},
    {"/detect/magic/gif87", "GIF87a\x01\0\x01\0", 10, CQ_DOC_GIF},
    {"/detect/magic/gif89", "GIF89a\x01\0\x01\0", 10, CQ_DOC_GIF},
    {"/detect/magic/tiff-le", "II*\0\x08\0\0\0", 8, CQ_DOC_TIFF},
    {"/detect/magic/tiff-be", "MM\0*\0\0\0\x08", 8, CQ_DOC_TIFF},
    {"/detect/magic/bmp", "BM\x46\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0", 18,
     CQ_DOC_BMP},
    {"/detect/magic/pdf", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", 0, CQ_DOC_PDF},
    {"/detect/magic/rtf", "{\\rtf1\\ansi\\deff0 Gr\\'fc\\'dfe}", 0, CQ_DOC_RTF},
    {"/detect/text/utf8", "Prüfbericht: Maße in Ordnung\r\n", 0, CQ_DOC_TEXT,
     CQ_CHARSET_UTF8},
    {"/detect/text/utf8-bom", "\xef\xbb\xbfGrüße\n", 0, CQ_DOC_TEXT,
     CQ_CHARSET_UTF8},
    {"/detect/text/latin1",
     "Gr\xfc\xdf"
     "e aus M\xfcnchen\n",
     0, CQ_DOC_TEXT, CQ_CHARSET_8BIT},
    {"/detect/text/cp1252",
     "Pr\xfc"
     "fung \x84gut\x93 \x80 12\n",
     0, CQ_DOC_TEXT, CQ_CHARSET_8BIT},
    {"/detect/text/utf16le", "\xff\xfeG\0r\0\xfc\0\xdf\0", 10, CQ_DOC_TEXT,
     CQ_CHARSET_UTF16},
    {"/detect/text/utf16be", "\xfe\xff\0G\0r", 6, CQ_DOC_TEXT,
     CQ_CHARSET_UTF16},
    {"/detect/text/bmw", "BMW Zulieferer, Werk 2\n", 0, CQ_DOC_TEXT,
     CQ_CHARSET_UTF8},
    {"/detect/text/tag-like", "<prüfung> bestanden\n", 0, CQ_DOC_TEXT,
     CQ_CHARSET_UTF8},
    {"/detect/text/xml", "<?xml version=\"1.0\"?><bericht/>\n", 0, CQ_DOC_TEXT,
     CQ_CHARSET_UTF8},
    {"/detect/html/doctype", "<!DOCTYPE html>\n<html><body>Grüße</body>", 0,
     CQ_DOC_HTML, CQ_CHARSET_UTF8},
    {"/detect/html/upper", "  <HTML>\r\n<BODY>x</BODY></HTML>", 0, CQ_DOC_HTML,
     CQ_CHARSET_UTF8},
    {"/detect/html/prolog",
     "<?xml version=\"1.0\"?>\n<!-- Bericht -->\n<html xmlns=\"x\">", 0,
     CQ_DOC_HTML, CQ_CHARSET_UTF8},
    {"/detect/html/fragment",
     "<p>Gr\xfc\xdf"
     "e</p>\n",
     0, CQ_DOC_HTML, CQ_CHARSET_8BIT},
    {"/detect/binary/nul", "Prüf\0bericht", 13, CQ_DOC_UNKNOWN},
    {"/detect/binary/control", "Pr\x01\x02\x03", 0, CQ_DOC_UNKNOWN},
    {"/detect/binary/bom-invalid",
     "\xef\xbb\xbfGr\xfc\xdf"
     "e",
     0, CQ_DOC_UNKNOWN},
    {"/detect/binary/utf16-odd", "\xff\xfeG\0r", 5, CQ_DOC_UNKNOWN},
    {"/detect/binary/elf",
     "\x7f"
     "ELF\x02\x01\x01\0",
     8, CQ_DOC_UNKNOWN},
    {"/detect/binary/zip-truncated", "PK\x03\x04\x14\0\0\0\x08\0", 10,
     CQ_DOC_UNKNOWN},
};

static void
test_signature(gconstpointer data)
{
    const Signature *s = data;
    gsize len = s->len ? s->len : strlen(s->bytes);
    CqDocType type;

    cq_doc_sniff((const guchar *)s->bytes, len, &type);
    g_assert_cmpstr(cq_doc_kind_name(type.kind), ==, cq_doc_kind_name(s->kind));
    g_assert_cmpint(type.charset, ==, s->charset);
    g_assert_false(type.encrypted);
}

/* ---- names against content -------------------------------------------- */

static GBytes *
docx_bytes(void)
{
    static const ZipMember m = {"[Content_Types].xml",
                                CT_HEAD
                                "vnd.openxmlformats-officedocument."
                                "wordprocessingml.document.main+xml" CT_TAIL,
                                TRUE};
    return build_zip(&m, 1);
}

static GBytes *
encrypted_odt_bytes(void)
{
    static const ZipMember m[] = {
        {"mimetype", ODF "text", FALSE},
        {"META-INF/manifest.xml", MANIFEST ENCRYPTED "</manifest:manifest>",
         TRUE},
    };
    return build_zip(m, 2);
}

static GBytes *
encrypted_ooxml_bytes(void)
{
    static const OleStream s[] = {{"EncryptionInfo", 200, zeros, 8},
                                  {"EncryptedPackage", 9000, zeros, 8}};
    GByteArray *f = build_ole(s, 2);
    return g_byte_array_free_to_bytes(f);
}

static GBytes *
truncated_docx_bytes(void)
{
    g_autoptr(GBytes) whole = docx_bytes();
    return g_bytes_new_from_bytes(whole, 0, g_bytes_get_size(whole) - 30);
}

typedef struct {
    const char *path;
    const char *filename;
    const char *text;      /* content, or NULL for ... */
    GBytes *(*make)(void); /* ... built content */
    const char *error;     /* part of the message, NULL: accepted */
    CqDocKind kind;
    char separator;
} NameCase;

static const NameCase name_cases[] = {
    {"/detect/name/docx", "Prüfbericht.docx", NULL, docx_bytes, NULL,
     CQ_DOC_DOCX},
    {"/detect/name/upper-case", "PRÜFBERICHT.DOCX", NULL, docx_bytes, NULL,
     CQ_DOC_DOCX},
    {"/detect/name/docm", "Vorlage.docm", NULL, docx_bytes, NULL, CQ_DOC_DOCX},
    {"/detect/name/no-extension", "Prüfbericht", NULL, docx_bytes, NULL,
     CQ_DOC_DOCX},
    {"/detect/name/docx-as-pdf", "Prüfbericht.pdf", NULL, docx_bytes,
     "the name says a PDF document (.pdf) but the content is a Word "
     "document"},
    {"/detect/name/docx-as-xlsx", "Messwerte.xlsx", NULL, docx_bytes,
     "the name says an Excel workbook (.xlsx) but the content is a Word "
     "document"},
    {"/detect/name/png-as-docx", "Zeichnung.docx", "\x89PNG\r\n\x1a\nxxxx",
     NULL,
     "the name says a Word document (.docx) but the content is a PNG "
     "image"},
    {"/detect/name/unknown-extension", "Zeichnung.xyz", "\x89PNG\r\n\x1a\nxxxx",
     NULL, "the name says '.xyz' but the content is a PNG image"},
    {"/detect/name/garbage-as-docx", "Bericht.docx", "\x01\x02garbage", NULL,
     "the name says a Word document (.docx) but the content is binary data"},
    {"/detect/name/unsupported", "Zeichnung.dwg", "AC1032\x01\x02", NULL,
     "binary data is not a type that is converted to PDF"},
    {"/detect/name/archive", "Daten.zip", NULL, truncated_docx_bytes,
     "the file is damaged: an incomplete ZIP archive"},
    {"/detect/name/empty", "leer.txt", "", NULL, "the file is empty"},
    {"/detect/name/odt-password", "Audit.odt", NULL, encrypted_odt_bytes,
     "an OpenDocument text protected by a password cannot be converted"},
    {"/detect/name/docx-password", "8D.docx", NULL, encrypted_ooxml_bytes,
     "a Word document protected by a password cannot be converted"},
    {"/detect/name/password-no-name", "8D", NULL, encrypted_ooxml_bytes,
     "an Office document protected by a password"},
    {"/detect/name/text-as-html", "Seite.html", "Nur Text\n", NULL,
     "the name says an HTML page (.html) but the content is plain text"},
    {"/detect/name/html-as-text", "Notiz.txt", "<html><body>x</body></html>",
     NULL, "the name says plain text (.txt) but the content is an HTML page"},
    {"/detect/name/csv-semicolon", "Maße.csv",
     "Teil;Maß;Ergebnis\nGehäuse;12,5;i.O.\n", NULL, NULL, CQ_DOC_CSV, ';'},
    {"/detect/name/csv-comma", "m.csv", "a,b,\"x;y;z\"\n1,2,3\n", NULL, NULL,
     CQ_DOC_CSV, ','},
    {"/detect/name/csv-tab", "m.csv", "a\tb\tc\n", NULL, NULL, CQ_DOC_CSV,
     '\t'},
    {"/detect/name/csv-one-column", "m.csv", "Nummer\n17\n", NULL, NULL,
     CQ_DOC_CSV, ','},
    {"/detect/name/log", "messung.log", "12:00 Maß 12,5\n", NULL, NULL,
     CQ_DOC_TEXT},
    {"/detect/name/htm", "Seite.htm", "<!doctype html><p>x", NULL, NULL,
     CQ_DOC_HTML},
    {"/detect/name/jpeg", "Foto.JPEG", "\xff\xd8\xff\xe1xxxx", NULL, NULL,
     CQ_DOC_JPEG},
    {"/detect/name/hidden-file", ".txt", "Text\n", NULL, NULL, CQ_DOC_TEXT},
};

static void
test_name(gconstpointer data)
{
    const NameCase *c = data;
    g_autoptr(GBytes) bytes =
        c->make ? c->make() : g_bytes_new_static(c->text, strlen(c->text));
    g_autoptr(GError) error = NULL;
    gsize len = 0;
    const guchar *p = g_bytes_get_data(bytes, &len);
    CqDocType type;

    gboolean ok = cq_doc_identify(c->filename, p, len, &type, &error);
    if (c->error == NULL) {
        g_assert_no_error(error);
        g_assert_true(ok);
        g_assert_cmpstr(cq_doc_kind_name(type.kind), ==,
                        cq_doc_kind_name(c->kind));
        if (c->kind == CQ_DOC_CSV)
            g_assert_cmpint(type.separator, ==, c->separator);
        return;
    }
    g_assert_false(ok);
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    if (strstr(error->message, c->error) == NULL)
        g_error("'%s' does not contain '%s'", error->message, c->error);
}

static void
test_kind_table(void)
{
    for (CqDocKind k = CQ_DOC_PDF; k <= CQ_DOC_BMP; k++) {
        g_assert_cmpstr(cq_doc_kind_name(k), !=, "unknown");
        g_assert_cmpuint(strlen(cq_doc_kind_extension(k)), >, 0);
        g_assert_nonnull(strchr(cq_doc_kind_media_type(k), '/'));
        if (k != CQ_DOC_PDF)
            g_assert_cmpint(cq_doc_kind_app(k), !=, CQ_APP_NONE);
    }
    g_assert_cmpstr(cq_doc_kind_extension(CQ_DOC_JPEG), ==, "jpg");
    g_assert_cmpstr(cq_doc_kind_name(99), ==, "unknown");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(signatures); i++)
        g_test_add_data_func(signatures[i].path, &signatures[i],
                             test_signature);
    for (guint i = 0; i < G_N_ELEMENTS(zip_cases); i++)
        g_test_add_data_func(zip_cases[i].path, &zip_cases[i], test_zip);
    for (guint i = 0; i < G_N_ELEMENTS(ole_cases); i++)
        g_test_add_data_func(ole_cases[i].path, &ole_cases[i], test_ole);
    g_test_add_func("/detect/ole/damaged", test_ole_damaged);
    for (guint i = 0; i < G_N_ELEMENTS(name_cases); i++)
        g_test_add_data_func(name_cases[i].path, &name_cases[i], test_name);
    g_test_add_func("/detect/kinds", test_kind_table);
    return g_test_run();
}
