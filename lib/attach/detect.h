/* Document types, judged by content and checked against the file name.
 *
 * Conversion starts only for a file whose content is a type caqmail
 * converts and whose name agrees with that content: a name says what a
 * recipient will expect, and a file that is not what its name says is
 * refused with a message that names both.  The content decides:
 *
 *   Office Open XML  a ZIP archive whose [Content_Types].xml names the main
 *                    part of a Word, Excel or PowerPoint document
 *   OpenDocument     a ZIP archive whose first member "mimetype" says so
 *   Office 97-2003   an OLE2 compound file with a WordDocument, Workbook
 *                    or PowerPoint Document stream
 *   RTF, PDF, PNG, JPEG, GIF, TIFF, BMP   their signatures
 *   text             valid UTF-8, UTF-16 with a byte order mark, or 8-bit
 *                    text without control characters; HTML when it opens
 *                    with an HTML tag; CSV when the name ends in .csv
 *
 * Password protection is seen before conversion where the format shows
 * it: an encrypted Office Open XML file is an OLE2 file holding
 * EncryptionInfo and EncryptedPackage streams; encrypted OpenDocument
 * lists encryption-data in META-INF/manifest.xml; Word 97-2003 sets a
 * flag in its file header, Excel writes a FILEPASS record, PowerPoint an
 * EncryptedSummary stream.
 */
#ifndef CQ_ATTACH_DETECT_H
#define CQ_ATTACH_DETECT_H

#include <glib.h>

typedef enum {
    CQ_DOC_UNKNOWN,
    CQ_DOC_PDF,
    CQ_DOC_DOCX,
    CQ_DOC_XLSX,
    CQ_DOC_PPTX,
    CQ_DOC_ODT,
    CQ_DOC_ODS,
    CQ_DOC_ODP,
    CQ_DOC_DOC,
    CQ_DOC_XLS,
    CQ_DOC_PPT,
    CQ_DOC_RTF,
    CQ_DOC_TEXT,
    CQ_DOC_CSV,
    CQ_DOC_HTML,
    CQ_DOC_PNG,
    CQ_DOC_JPEG,
    CQ_DOC_GIF,
    CQ_DOC_TIFF,
    CQ_DOC_BMP,
} CqDocKind;

typedef enum {
    CQ_CHARSET_NONE, /* not text */
    CQ_CHARSET_UTF8,
    CQ_CHARSET_UTF16, /* with a byte order mark */
    CQ_CHARSET_8BIT,  /* one byte per character; which one is a setting */
} CqCharset;

/* The LibreOffice application that opens a kind. */
typedef enum {
    CQ_APP_NONE,
    CQ_APP_WRITER,
    CQ_APP_CALC,
    CQ_APP_IMPRESS,
    CQ_APP_DRAW,
} CqDocApp;

typedef struct {
    CqDocKind kind;
    gboolean encrypted; /* protected by a password */
    gboolean damaged;   /* starts like a known format but is broken */
    CqCharset charset;  /* text kinds */
    char separator;     /* CSV: ',', ';', '\t' or '|' */
    const char *what;   /* what the content is ("a PNG image"); static */
} CqDocType;

/* Judges @len bytes of @data by content alone; never fails. */
void cq_doc_sniff(const guchar *data, gsize len, CqDocType *type);

/* Judges the content and checks it against @filename.  Fails with
 * CQ_ERROR_INVALID for an empty, damaged or password-protected file, a
 * type that is not converted, and a name whose extension does not match
 * the content; the message does not name the file, callers prefix it. */
gboolean cq_doc_identify(const char *filename, const guchar *data, gsize len,
                         CqDocType *type, GError **error);

/* Short name of a kind ("docx"), its usual file name extension, its
 * description ("a Word document"), its media type and application. */
const char *cq_doc_kind_name(CqDocKind kind);
const char *cq_doc_kind_extension(CqDocKind kind);
const char *cq_doc_kind_description(CqDocKind kind);
const char *cq_doc_kind_media_type(CqDocKind kind);
CqDocApp cq_doc_kind_app(CqDocKind kind);

#endif
