/* Conversion of documents to PDF with LibreOffice headless.
 *
 * Each conversion works on a private copy of the source in a temporary
 * folder of its own (hashed while it is copied, so the PDF is of exactly
 * the bytes that were hashed) and runs one `soffice --convert-to` for one
 * file: with a user profile of its own (LibreOffice instances sharing a
 * profile fail silently), the import filter the content needs (Writer for
 * HTML and text, CSV options for encoding and separator) and the PDF
 * export filter of the application that opens it, with lossless images.
 * It runs under a time limit after which its whole process group is
 * killed.  The result counts only when LibreOffice reported no "Error:"
 * and wrote a complete PDF; its exit status says little.  The folder is
 * removed afterwards whatever happened.
 *
 * PDFs are kept in the conversion cache (attach/cache.h), so a source is
 * converted once.  At most max_parallel conversions run at once on the
 * machine (a lock file per slot in the cache folder): each LibreOffice
 * needs about 200 MB.
 */
#ifndef CQ_ATTACH_CONVERT_H
#define CQ_ATTACH_CONVERT_H

#include "attach/detect.h"
#include "common/config.h"

typedef struct {
    const char *soffice;       /* a name looked up in PATH, or a path */
    gint64 timeout_ms;         /* per conversion */
    const char *cache_dir;     /* where PDFs are kept */
    guint max_parallel;        /* 0: one per processor */
    const char *text_encoding; /* windows-1252, iso-8859-1, iso-8859-15 */
} CqConvertOptions;

/* The options of the [convert] settings; borrows from @config. */
CqConvertOptions cq_convert_options_from_config(const CqConfig *config);

typedef struct {
    CqDocType type;      /* what the source is */
    char *source_sha256; /* hex SHA-256 of the source */
    gint64 source_size;
    char *pdf_path;   /* the PDF in the cache; NULL for a PDF source */
    char *pdf_sha256; /* hex SHA-256 of the PDF */
    gint64 pdf_size;
    gboolean cache_hit; /* no conversion was needed */
} CqConversion;

void cq_conversion_clear(CqConversion *conversion);

/* Converts the file at @path, which recipients know as @filename, to
 * PDF, unless it is a PDF already (then pdf_path stays NULL).  The type
 * is judged by content and must agree with @filename (attach/detect.h).
 * Fails with CQ_ERROR_INVALID for input that cannot be converted,
 * CQ_ERROR_NOINPUT for a missing file, CQ_ERROR_UNAVAILABLE when
 * LibreOffice is not installed, CQ_ERROR_TEMPFAIL when the time limit was
 * reached.  Messages do not name the file; callers prefix it.  Emits one
 * "converted" event. */
gboolean cq_convert_to_pdf(const CqConvertOptions *options, const char *path,
                           const char *filename, CqConversion *conversion,
                           GError **error);

/* The LibreOffice import filter for @type ("CSV:59,34,76,1"), or NULL
 * when LibreOffice finds it itself.  Newly allocated. */
char *cq_convert_import_filter(const CqDocType *type,
                               const char *text_encoding);

/* The --convert-to argument for @type: the PDF export filter of the
 * application that opens it, with its options.  Newly allocated. */
char *cq_convert_export_filter(const CqDocType *type);

#endif
