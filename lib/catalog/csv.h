/* CSV as RFC 4180 describes it: comma-separated fields, fields quoted
 * with `"` when they hold a comma, a quote or a line break, quotes inside
 * doubled.  Lines end with CRLF or LF.  Input must be UTF-8; a leading
 * byte-order mark is skipped.
 */
#ifndef CQ_CATALOG_CSV_H
#define CQ_CATALOG_CSV_H

#include "store/store.h"

#include <glib.h>

typedef struct {
    guint line;   /* the line the record starts on, 1-based */
    GStrv fields; /* owned */
    char *error;  /* why the record is malformed, or NULL */
} CqCsvRecord;

void cq_csv_record_free(CqCsvRecord *record);

/* Splits @len bytes of @data into records (CqCsvRecord, an owning
 * array).  A malformed record (an unterminated or stray quote, invalid
 * UTF-8, a NUL byte) is returned with its error set, and parsing goes on
 * at the next line, so that every bad line can be reported.  Empty lines
 * are skipped. */
GPtrArray *cq_csv_parse(const char *data, gsize len);

/* Appends @fields as one CSV line ending in CRLF, quoting as needed. */
void cq_csv_append_line(GString *out, const char *const *fields,
                        guint n_fields);

/* Reads the file @path to import (at most CQ_CSV_MAX_FILE bytes) and
 * splits it as cq_csv_parse() does.  Fails with CQ_ERROR_NOINPUT for a
 * missing or unreadable file, CQ_ERROR_TOO_LARGE for a larger one, both
 * naming the file ("import 'x.csv': ..."). */
#define CQ_CSV_MAX_FILE (64 * 1024 * 1024)
GPtrArray *cq_csv_read_file(const char *path, GError **error);

/* An import of a CSV file whose first row names the columns, all or
 * nothing: every bad line is collected, and at the end the import either
 * holds none or fails naming each one with its number. */
typedef struct {
    char *path;
    GPtrArray *records; /* of CqCsvRecord, the header row first */
    GStrv columns;      /* the header's names; borrowed from records */
    GString *errors;
    guint n_errors;
} CqCsvImport;

/* Reads @path and checks its header against @known (the columns the
 * import understands, NULL-terminated) and @required (a subset): an
 * unknown, repeated or missing column is a bad line 1.  Returns FALSE
 * only when the file cannot be read or is empty; @im is then cleared. */
gboolean cq_csv_import_open(CqCsvImport *im, const char *path,
                            const char *const *known,
                            const char *const *required, GError **error);
void cq_csv_import_clear(CqCsvImport *im);

/* Checks that @record is well formed and has as many fields as the
 * header, and strips its fields; a bad one is collected as bad. */
gboolean cq_csv_import_check(CqCsvImport *im, CqCsvRecord *record);
/* The field of @record in @column, or NULL when the file has no such
 * column. */
const char *cq_csv_import_value(const CqCsvImport *im,
                                const CqCsvRecord *record, const char *column);
void cq_csv_import_bad(CqCsvImport *im, guint line, const char *message);
/* Writes one record of an import; sets *@written when it changed
 * anything. */
typedef gboolean (*CqCsvWriteFunc)(const CqCsvImport *im,
                                   const CqCsvRecord *record, gpointer data,
                                   gboolean *written, GError **error);

/* Runs an opened import in one write transaction of @store: checks each
 * record, refuses a value of @key_column seen on an earlier line (@what
 * names the kind: "gauge 'X' appears again"), writes the others with
 * @write, and commits only when no line was bad; else fails as
 * cq_csv_import_result().  *@count (may be NULL): records written. */
gboolean cq_csv_import_run(CqCsvImport *im, CqStore *store,
                           const char *key_column, const char *what,
                           CqCsvWriteFunc write, gpointer data, guint *count,
                           GError **error);

/* Fails with CQ_ERROR_INVALID listing every bad line ("import 'x.csv': 2
 * bad lines, nothing was imported: line 3: ...") when there was one. */
gboolean cq_csv_import_result(const CqCsvImport *im, GError **error);

#endif
