/* CSV as RFC 4180 describes it: comma-separated fields, fields quoted
 * with `"` when they hold a comma, a quote or a line break, quotes inside
 * doubled.  Lines end with CRLF or LF.  Input must be UTF-8; a leading
 * byte-order mark is skipped.
 */
#ifndef CQ_CATALOG_CSV_H
#define CQ_CATALOG_CSV_H

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

#endif
