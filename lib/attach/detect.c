#include "attach/detect.h"

#include "attach/bytes.h"
#include "attach/ole.h"
#include "attach/zip.h"
#include "common/error.h"

#include <string.h>

#define MAX_PART (1024 * 1024) /* [Content_Types].xml, manifest.xml */
#define HTML_SEARCH 4096
#define CSV_SEARCH 65536

typedef struct {
    const char *name;
    const char *extension;  /* the usual one */
    const char *extensions; /* every one the kind is known by */
    const char *description;
    const char *media_type;
    CqDocApp app;
} KindInfo;

static const KindInfo kinds[] = {
    [CQ_DOC_UNKNOWN] = {"unknown", "", "", "data", "application/octet-stream",
                        CQ_APP_NONE},
    [CQ_DOC_PDF] = {"pdf", "pdf", "pdf", "a PDF document", "application/pdf",
                    CQ_APP_NONE},
    [CQ_DOC_DOCX] = {"docx", "docx", "docx|docm|dotx|dotm", "a Word document",
                     "application/vnd.openxmlformats-officedocument."
                     "wordprocessingml.document",
                     CQ_APP_WRITER},
    [CQ_DOC_XLSX] = {"xlsx", "xlsx", "xlsx|xlsm|xltx|xltm", "an Excel workbook",
                     "application/vnd.openxmlformats-officedocument."
                     "spreadsheetml.sheet",
                     CQ_APP_CALC},
    [CQ_DOC_PPTX] = {"pptx", "pptx", "pptx|pptm|ppsx|ppsm|potx|potm",
                     "a PowerPoint presentation",
                     "application/vnd.openxmlformats-officedocument."
                     "presentationml.presentation",
                     CQ_APP_IMPRESS},
    [CQ_DOC_ODT] = {"odt", "odt", "odt|ott", "an OpenDocument text",
                    "application/vnd.oasis.opendocument.text", CQ_APP_WRITER},
    [CQ_DOC_ODS] = {"ods", "ods", "ods|ots", "an OpenDocument spreadsheet",
                    "application/vnd.oasis.opendocument.spreadsheet",
                    CQ_APP_CALC},
    [CQ_DOC_ODP] = {"odp", "odp", "odp|otp", "an OpenDocument presentation",
                    "application/vnd.oasis.opendocument.presentation",
                    CQ_APP_IMPRESS},
    [CQ_DOC_DOC] = {"doc", "doc", "doc|dot", "a Word 97-2003 document",
                    "application/msword", CQ_APP_WRITER},
    [CQ_DOC_XLS] = {"xls", "xls", "xls|xlt", "an Excel 97-2003 workbook",
                    "application/vnd.ms-excel", CQ_APP_CALC},
    [CQ_DOC_PPT] = {"ppt", "ppt", "ppt|pps|pot",
                    "a PowerPoint 97-2003 presentation",
                    "application/vnd.ms-powerpoint", CQ_APP_IMPRESS},
    [CQ_DOC_RTF] = {"rtf", "rtf", "rtf", "an RTF document", "application/rtf",
                    CQ_APP_WRITER},
    [CQ_DOC_TEXT] = {"text", "txt", "txt|text|log", "plain text", "text/plain",
                     CQ_APP_WRITER},
    [CQ_DOC_CSV] = {"csv", "csv", "csv", "a CSV table", "text/csv",
                    CQ_APP_CALC},
    [CQ_DOC_HTML] = {"html", "html", "html|htm", "an HTML page", "text/html",
                     CQ_APP_WRITER},
    [CQ_DOC_PNG] = {"png", "png", "png", "a PNG image", "image/png",
                    CQ_APP_DRAW},
    [CQ_DOC_JPEG] = {"jpeg", "jpg", "jpg|jpeg|jpe", "a JPEG image",
                     "image/jpeg", CQ_APP_DRAW},
    [CQ_DOC_GIF] = {"gif", "gif", "gif", "a GIF image", "image/gif",
                    CQ_APP_DRAW},
    [CQ_DOC_TIFF] = {"tiff", "tif", "tif|tiff", "a TIFF image", "image/tiff",
                     CQ_APP_DRAW},
    [CQ_DOC_BMP] = {"bmp", "bmp", "bmp", "a BMP image", "image/bmp",
                    CQ_APP_DRAW},
};

static const KindInfo *
info(CqDocKind kind)
{
    if ((guint)kind < G_N_ELEMENTS(kinds))
        return &kinds[kind];
    return &kinds[CQ_DOC_UNKNOWN];
}

const char *
cq_doc_kind_name(CqDocKind kind)
{
    return info(kind)->name;
}

const char *
cq_doc_kind_description(CqDocKind kind)
{
    return info(kind)->description;
}

const char *
cq_doc_kind_media_type(CqDocKind kind)
{
    return info(kind)->media_type;
}

CqDocApp
cq_doc_kind_app(CqDocKind kind)
{
    return info(kind)->app;
}

const char *
cq_doc_kind_extension(CqDocKind kind)
{
    return info(kind)->extension;
}

static void
set_kind(CqDocType *type, CqDocKind kind)
{
    type->kind = kind;
    type->what = info(kind)->description;
}

static void
set_damaged(CqDocType *type, const char *what)
{
    type->kind = CQ_DOC_UNKNOWN;
    type->damaged = TRUE;
    type->what = what;
}

static gboolean
contains(GBytes *bytes, const char *needle)
{
    gsize len = 0;
    const char *data = g_bytes_get_data(bytes, &len);
    return len > 0 && g_strstr_len(data, (gssize)len, needle) != NULL;
}

/* Office Open XML: [Content_Types].xml names the main part. */
static const struct {
    const char *needle; /* lower case */
    CqDocKind kind;
} main_parts[] = {
    {"wordprocessingml.document.main+xml", CQ_DOC_DOCX},
    {"wordprocessingml.template.main+xml", CQ_DOC_DOCX},
    {"ms-word.document.macroenabled.main+xml", CQ_DOC_DOCX},
    {"ms-word.template.macroenabledtemplate.main+xml", CQ_DOC_DOCX},
    {"spreadsheetml.sheet.main+xml", CQ_DOC_XLSX},
    {"spreadsheetml.template.main+xml", CQ_DOC_XLSX},
    {"ms-excel.sheet.macroenabled.main+xml", CQ_DOC_XLSX},
    {"ms-excel.template.macroenabled.main+xml", CQ_DOC_XLSX},
    {"presentationml.presentation.main+xml", CQ_DOC_PPTX},
    {"presentationml.slideshow.main+xml", CQ_DOC_PPTX},
    {"presentationml.template.main+xml", CQ_DOC_PPTX},
    {"ms-powerpoint.presentation.macroenabled.main+xml", CQ_DOC_PPTX},
    {"ms-powerpoint.slideshow.macroenabled.main+xml", CQ_DOC_PPTX},
    {"ms-powerpoint.template.macroenabled.main+xml", CQ_DOC_PPTX},
};

static void
sniff_ooxml(const CqZip *zip, const CqZipEntry *entry, CqDocType *type)
{
    g_autoptr(GBytes) xml = cq_zip_read(zip, entry, MAX_PART);
    if (xml == NULL) {
        set_damaged(type, "an Office Open XML file whose [Content_Types].xml "
                          "cannot be read");
        return;
    }
    gsize len = 0;
    const char *data = g_bytes_get_data(xml, &len);
    g_autofree char *lower = g_ascii_strdown(data ? data : "", (gssize)len);
    for (guint i = 0; i < G_N_ELEMENTS(main_parts); i++) {
        if (strstr(lower, main_parts[i].needle) != NULL) {
            set_kind(type, main_parts[i].kind);
            return;
        }
    }
    type->what = "an Office Open XML package of another kind";
}

static const struct {
    const char *media_type;
    CqDocKind kind;
} odf_types[] = {
    {"application/vnd.oasis.opendocument.text", CQ_DOC_ODT},
    {"application/vnd.oasis.opendocument.text-template", CQ_DOC_ODT},
    {"application/vnd.oasis.opendocument.spreadsheet", CQ_DOC_ODS},
    {"application/vnd.oasis.opendocument.spreadsheet-template", CQ_DOC_ODS},
    {"application/vnd.oasis.opendocument.presentation", CQ_DOC_ODP},
    {"application/vnd.oasis.opendocument.presentation-template", CQ_DOC_ODP},
};

static void
sniff_odf(const CqZip *zip, const CqZipEntry *entry, CqDocType *type)
{
    g_autoptr(GBytes) mime = cq_zip_read(zip, entry, 256);
    gsize len = 0;
    const char *data = mime ? g_bytes_get_data(mime, &len) : NULL;

    type->what = "an OpenDocument file of another kind";
    for (guint i = 0; data && i < G_N_ELEMENTS(odf_types); i++) {
        if (len == strlen(odf_types[i].media_type) &&
            memcmp(data, odf_types[i].media_type, len) == 0)
            set_kind(type, odf_types[i].kind);
    }

    CqZipEntry manifest;
    if (!cq_zip_find(zip, "META-INF/manifest.xml", &manifest)) {
        set_damaged(type, "an OpenDocument file without its manifest");
        return;
    }
    g_autoptr(GBytes) xml = cq_zip_read(zip, &manifest, MAX_PART);
    if (xml == NULL)
        set_damaged(type, "an OpenDocument file whose manifest cannot be "
                          "read");
    else if (contains(xml, "encryption-data"))
        type->encrypted = TRUE;
}

static void
sniff_zip(const guchar *data, gsize len, CqDocType *type)
{
    CqZip zip;
    CqZipEntry entry;

    if (!cq_zip_open(&zip, data, len)) {
        set_damaged(type, "an incomplete ZIP archive");
        return;
    }
    type->what = "a ZIP archive";
    if (cq_zip_find(&zip, "[Content_Types].xml", &entry))
        sniff_ooxml(&zip, &entry, type);
    else if (cq_zip_find(&zip, "mimetype", &entry))
        sniff_odf(&zip, &entry, type);
}

static gsize
read_stream(const CqOle *ole, const char *name, guchar *buf, gsize len)
{
    CqOleStream stream;
    if (!cq_ole_find(ole, name, &stream))
        return 0;
    return cq_ole_read_head(ole, &stream, buf, len);
}

/* Word 97-2003: the file information block starts the WordDocument
 * stream; its flags mark encryption (fEncrypted) and obfuscation. */
static gboolean
word_encrypted(const guchar *fib, gsize len)
{
    if (len < 12)
        return FALSE;
    guint16 flags = cq_le16(fib + 10);
    return (flags & 0x0100) != 0 || (flags & 0x8000) != 0;
}

/* Excel 97-2003: a FILEPASS record (0x002F) follows the first BOF. */
static gboolean
excel_encrypted(const guchar *rec, gsize len)
{
    if (len < 8)
        return FALSE;
    gsize next = 4 + (gsize)cq_le16(rec + 2);
    return next + 2 <= len && rec[next] == 0x2f && rec[next + 1] == 0;
}

static void
sniff_legacy(const CqOle *ole, CqDocType *type)
{
    guchar head[64];
    gsize n = 0;
    CqOleStream stream;

    if ((n = read_stream(ole, "WordDocument", head, sizeof head)) > 0) {
        set_kind(type, CQ_DOC_DOC);
        type->encrypted = word_encrypted(head, n);
    } else if ((n = read_stream(ole, "Workbook", head, sizeof head)) > 0 ||
               (n = read_stream(ole, "Book", head, sizeof head)) > 0) {
        set_kind(type, CQ_DOC_XLS);
        type->encrypted = excel_encrypted(head, n);
    } else if (cq_ole_find(ole, "PowerPoint Document", &stream)) {
        set_kind(type, CQ_DOC_PPT);
        type->encrypted = cq_ole_find(ole, "EncryptedSummary", &stream);
    }
}

static void
sniff_ole(const guchar *data, gsize len, CqDocType *type)
{
    CqOle ole;
    CqOleStream stream;

    if (!cq_ole_open(&ole, data, len)) {
        set_damaged(type, "a damaged OLE2 compound file");
        cq_ole_clear(&ole);
        return;
    }
    type->what = "an OLE2 compound file of another kind";
    if (cq_ole_find(&ole, "EncryptionInfo", &stream) &&
        cq_ole_find(&ole, "EncryptedPackage", &stream)) {
        type->encrypted = TRUE;
        type->what = "a password-protected Office document";
    } else {
        sniff_legacy(&ole, type);
    }
    cq_ole_clear(&ole);
}

static gboolean
has_prefix(const guchar *data, gsize len, const char *magic, gsize n)
{
    return len >= n && memcmp(data, magic, n) == 0;
}

/* BMP: "BM" and a known size of the header that follows the file
 * header, so that text starting with "BM" is not taken for an image. */
static gboolean
is_bmp(const guchar *data, gsize len)
{
    static const guint32 sizes[] = {12, 40, 52, 56, 64, 108, 124};
    if (len < 18 || !has_prefix(data, len, "BM", 2))
        return FALSE;
    guint size =
        data[14] | data[15] << 8 | data[16] << 16 | (guint)data[17] << 24;
    for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
        if (size == sizes[i])
            return TRUE;
    }
    return FALSE;
}

static CqDocKind
sniff_magic(const guchar *data, gsize len)
{
    static const struct {
        const char *magic;
        gsize len;
        CqDocKind kind;
    } magics[] = {
        {"\x89PNG\r\n\x1a\n", 8, CQ_DOC_PNG},
        {"\xff\xd8\xff", 3, CQ_DOC_JPEG},
        {"GIF87a", 6, CQ_DOC_GIF},
        {"GIF89a", 6, CQ_DOC_GIF},
        {"II*\0", 4, CQ_DOC_TIFF},
        {"MM\0*", 4, CQ_DOC_TIFF},
        {"{\\rtf", 5, CQ_DOC_RTF},
    };
    for (guint i = 0; i < G_N_ELEMENTS(magics); i++) {
        if (has_prefix(data, len, magics[i].magic, magics[i].len))
            return magics[i].kind;
    }
    if (is_bmp(data, len))
        return CQ_DOC_BMP;
    if (has_prefix(data, len, "%PDF-", 5))
        return CQ_DOC_PDF;
    return CQ_DOC_UNKNOWN;
}

/* Text has no NUL and no control characters but tab, line and page
 * breaks, and a DOS end-of-file mark. */
static gboolean
text_bytes(const guchar *data, gsize len)
{
    for (gsize i = 0; i < len; i++) {
        guchar c = data[i];
        if (c == 0 || (c < 0x20 && strchr("\t\n\v\f\r\x1a", c) == NULL) ||
            c == 0x7f)
            return FALSE;
    }
    return TRUE;
}

static const char *const html_tags[] = {
    "!doctype html",
    "html",
    "head",
    "body",
    "meta",
    "title",
    "style",
    "link",
    "p",
    "div",
    "span",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "br",
    "ul",
    "ol",
    "pre",
    "b",
    "i",
    "strong",
    "em",
    "font",
    "center",
    "img",
    "a",
    "hr",
    "header",
    "main",
    "section",
    "article",
    "form",
};

/* Skips white space, an XML declaration and comments. */
static const char *
skip_prolog(const char *p, const char *end)
{
    for (;;) {
        while (p < end && g_ascii_isspace(*p))
            p++;
        const char *close = NULL;
        if (end - p >= 5 && g_ascii_strncasecmp(p, "<?xml", 5) == 0)
            close = g_strstr_len(p, end - p, "?>");
        else if (end - p >= 4 && strncmp(p, "<!--", 4) == 0)
            close = g_strstr_len(p + 4, end - p - 4, "-->");
        else
            return p;
        if (close == NULL)
            return end;
        p = close + (close[0] == '?' ? 2 : 3);
    }
}

static gboolean
starts_with_html(const guchar *data, gsize len)
{
    const char *end = (const char *)data + MIN(len, HTML_SEARCH);
    const char *p = skip_prolog((const char *)data, end);

    if (p >= end || *p++ != '<')
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(html_tags); i++) {
        gsize n = strlen(html_tags[i]);
        if ((gsize)(end - p) > n &&
            g_ascii_strncasecmp(p, html_tags[i], n) == 0 &&
            (g_ascii_isspace(p[n]) || p[n] == '>' || p[n] == '/'))
            return TRUE;
    }
    return FALSE;
}

static void
sniff_text(const guchar *data, gsize len, CqDocType *type)
{
    if (len >= 2 && ((data[0] == 0xff && data[1] == 0xfe) ||
                     (data[0] == 0xfe && data[1] == 0xff))) {
        if (len % 2 != 0)
            return;
        set_kind(type, CQ_DOC_TEXT);
        type->charset = CQ_CHARSET_UTF16;
        return;
    }
    gsize skip = has_prefix(data, len, "\xef\xbb\xbf", 3) ? 3 : 0;
    if (!text_bytes(data + skip, len - skip))
        return;
    gboolean utf8 =
        g_utf8_validate_len((const char *)data + skip, len - skip, NULL);
    if (skip > 0 && !utf8)
        return;
    set_kind(type, starts_with_html(data + skip, len - skip) ? CQ_DOC_HTML
                                                             : CQ_DOC_TEXT);
    type->charset = utf8 ? CQ_CHARSET_UTF8 : CQ_CHARSET_8BIT;
}

void
cq_doc_sniff(const guchar *data, gsize len, CqDocType *type)
{
    memset(type, 0, sizeof *type);
    set_kind(type, CQ_DOC_UNKNOWN);
    type->what = len == 0 ? "an empty file" : "binary data";
    if (len == 0)
        return;
    if (has_prefix(data, len, "PK\x03\x04", 4))
        sniff_zip(data, len, type);
    else if (has_prefix(data, len, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8))
        sniff_ole(data, len, type);
    else if ((type->kind = sniff_magic(data, len)) != CQ_DOC_UNKNOWN)
        set_kind(type, type->kind);
    else
        sniff_text(data, len, type);
}

/* The separator of a CSV table: whichever of ; , tab | occurs most often
 * outside quotes in its first line. */
static char
guess_separator(const guchar *data, gsize len)
{
    static const char candidates[] = ";,\t|";
    guint counts[sizeof candidates - 1] = {0};
    gboolean quoted = FALSE;

    for (gsize i = 0; i < MIN(len, CSV_SEARCH); i++) {
        char c = (char)data[i];
        if (c == '"')
            quoted = !quoted;
        if (!quoted && (c == '\n' || c == '\r'))
            break;
        const char *hit = quoted ? NULL : strchr(candidates, c);
        if (hit != NULL && c != '\0')
            counts[hit - candidates]++;
    }
    guint best = 1; /* a comma when there is only one column */
    for (guint i = 0; i < G_N_ELEMENTS(counts); i++) {
        if (counts[i] > counts[best])
            best = i;
    }
    return candidates[best];
}

/* The lower-case extension of @filename, or NULL when it has none. */
static char *
extension_of(const char *filename)
{
    const char *dot = strrchr(filename, '.');
    if (dot == NULL || dot == filename || dot[1] == '\0')
        return NULL;
    return g_ascii_strdown(dot + 1, -1);
}

static CqDocKind
kind_for_extension(const char *ext)
{
    for (guint k = CQ_DOC_PDF; k < G_N_ELEMENTS(kinds); k++) {
        g_auto(GStrv) list = g_strsplit(kinds[k].extensions, "|", -1);
        if (g_strv_contains((const char *const *)list, ext))
            return (CqDocKind)k;
    }
    return CQ_DOC_UNKNOWN;
}

/* Damaged and protected files are refused whatever their name says;
 * @named describes an encrypted Office Open XML file, whose content does
 * not tell which kind it is. */
static gboolean
refuse_content(const CqDocType *type, CqDocKind named, GError **error)
{
    if (type->damaged) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "the file is damaged: %s", type->what);
        return FALSE;
    }
    if (type->encrypted) {
        const char *what = type->kind != CQ_DOC_UNKNOWN ? type->what
                           : named == CQ_DOC_DOCX || named == CQ_DOC_XLSX ||
                                   named == CQ_DOC_PPTX
                               ? info(named)->description
                               : "an Office document";
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "%s protected by a password cannot be converted; remove "
                    "the protection or send it as it is",
                    what);
        return FALSE;
    }
    return TRUE;
}

static gboolean
refuse_mismatch(const char *ext, CqDocKind named, const CqDocType *type,
                GError **error)
{
    if (named != CQ_DOC_UNKNOWN)
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "the name says %s (.%s) but the content is %s",
                    info(named)->description, ext, type->what);
    else
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "the name says '.%s' but the content is %s", ext,
                    type->what);
    return FALSE;
}

gboolean
cq_doc_identify(const char *filename, const guchar *data, gsize len,
                CqDocType *type, GError **error)
{
    g_autofree char *ext = extension_of(filename);
    CqDocKind named = ext ? kind_for_extension(ext) : CQ_DOC_UNKNOWN;

    cq_doc_sniff(data, len, type);
    if (len == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID, "the file is empty");
        return FALSE;
    }
    if (!refuse_content(type, named, error))
        return FALSE;
    if (type->kind == CQ_DOC_TEXT && named == CQ_DOC_CSV) {
        set_kind(type, CQ_DOC_CSV);
        type->separator = type->charset == CQ_CHARSET_UTF16
                              ? ','
                              : guess_separator(data, len);
    }
    if (type->kind == CQ_DOC_UNKNOWN && named == CQ_DOC_UNKNOWN) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "%s is not a type that is converted to PDF (Word, "
                    "Excel, PowerPoint, OpenDocument, RTF, text, CSV, HTML, "
                    "PNG, JPEG, GIF, TIFF, BMP)",
                    type->what);
        return FALSE;
    }
    if (ext != NULL && named != type->kind)
        return refuse_mismatch(ext, named, type, error);
    return TRUE;
}
