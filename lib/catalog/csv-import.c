/* Reading CSV files to import, and the bookkeeping of an import that is
 * all or nothing. */
#include "catalog/csv.h"

#include "common/error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

GPtrArray *
cq_csv_read_file(const char *path, GError **error)
{
    GStatBuf st;
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;

    if (g_stat(path, &st) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOINPUT, "import '%s': %s", path,
                    g_strerror(errno));
        return NULL;
    }
    if (st.st_size > CQ_CSV_MAX_FILE) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_TOO_LARGE,
                    "import '%s': larger than %d MiB", path,
                    CQ_CSV_MAX_FILE >> 20);
        return NULL;
    }
    if (!g_file_get_contents(path, &data, &len, &local)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOINPUT, "import '%s': %s", path,
                    local->message);
        return NULL;
    }
    return cq_csv_parse(data, len);
}

void
cq_csv_import_bad(CqCsvImport *im, guint line, const char *message)
{
    g_string_append_printf(im->errors, "\n  line %u: %s", line, message);
    im->n_errors++;
}

static gboolean
in_list(const char *const *names, const char *name)
{
    return g_strv_contains(names, name);
}

static void
note_column(GString *list, const char *name)
{
    g_string_append_printf(list, "%s'%s'", list->len ? ", " : "", name);
}

/* Reports every problem of the header as one bad line. */
static void
check_header(CqCsvImport *im, const CqCsvRecord *header,
             const char *const *known, const char *const *required)
{
    g_autoptr(GString) unknown = g_string_new(NULL);
    g_autoptr(GString) twice = g_string_new(NULL);
    g_autoptr(GString) missing = g_string_new(NULL);
    g_autoptr(GString) message = g_string_new(NULL);

    if (header->error != NULL) {
        cq_csv_import_bad(im, header->line, header->error);
        return;
    }
    for (guint i = 0; im->columns[i]; i++) {
        const char *name = g_strstrip(im->columns[i]);
        if (!in_list(known, name))
            note_column(unknown, name);
        for (guint j = 0; j < i; j++) {
            if (strcmp(im->columns[j], name) == 0)
                note_column(twice, name);
        }
    }
    for (guint i = 0; required[i]; i++) {
        if (!in_list((const char *const *)im->columns, required[i]))
            note_column(missing, required[i]);
    }
    if (unknown->len)
        g_string_append_printf(message, "unknown column %s; ", unknown->str);
    if (twice->len)
        g_string_append_printf(message, "column %s given twice; ", twice->str);
    if (missing->len)
        g_string_append_printf(message, "missing column %s; ", missing->str);
    if (message->len == 0)
        return;
    g_autofree char *choices = g_strjoinv(", ", (char **)known);
    g_string_append_printf(message, "the columns are %s", choices);
    cq_csv_import_bad(im, header->line, message->str);
}

gboolean
cq_csv_import_open(CqCsvImport *im, const char *path, const char *const *known,
                   const char *const *required, GError **error)
{
    memset(im, 0, sizeof *im);
    im->records = cq_csv_read_file(path, error);
    if (im->records == NULL)
        return FALSE;
    im->path = g_strdup(path);
    im->errors = g_string_new(NULL);
    if (im->records->len == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "import '%s': the file is empty (a header row is "
                    "needed)",
                    path);
        cq_csv_import_clear(im);
        return FALSE;
    }
    const CqCsvRecord *header = im->records->pdata[0];
    im->columns = header->fields;
    check_header(im, header, known, required);
    return TRUE;
}

void
cq_csv_import_clear(CqCsvImport *im)
{
    g_clear_pointer(&im->records, g_ptr_array_unref);
    g_clear_pointer(&im->path, g_free);
    if (im->errors != NULL)
        g_string_free(im->errors, TRUE);
    memset(im, 0, sizeof *im);
}

gboolean
cq_csv_import_check(CqCsvImport *im, CqCsvRecord *record)
{
    if (record->error != NULL) {
        cq_csv_import_bad(im, record->line, record->error);
        return FALSE;
    }
    guint n = g_strv_length(record->fields);
    guint want = g_strv_length(im->columns);
    if (n != want) {
        g_autofree char *message =
            g_strdup_printf("%u fields where the header has %u", n, want);
        cq_csv_import_bad(im, record->line, message);
        return FALSE;
    }
    for (guint i = 0; i < n; i++)
        g_strstrip(record->fields[i]);
    return TRUE;
}

const char *
cq_csv_import_value(const CqCsvImport *im, const CqCsvRecord *record,
                    const char *column)
{
    for (guint i = 0; im->columns[i]; i++) {
        if (strcmp(im->columns[i], column) == 0)
            return record->fields[i];
    }
    return NULL;
}

gboolean
cq_csv_import_result(const CqCsvImport *im, GError **error)
{
    if (im->n_errors == 0)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "import '%s': %u bad line%s, nothing was imported:%s", im->path,
                im->n_errors, im->n_errors == 1 ? "" : "s", im->errors->str);
    return FALSE;
}

static void
import_record(CqCsvImport *im, CqCsvRecord *rec, GHashTable *seen,
              const char *key_column, const char *what, CqCsvWriteFunc write,
              gpointer data, guint *count)
{
    g_autoptr(GError) error = NULL;
    gboolean written = FALSE;

    if (!cq_csv_import_check(im, rec))
        return;
    const char *key = cq_csv_import_value(im, rec, key_column);
    gpointer first = g_hash_table_lookup(seen, key);
    if (first != NULL) {
        g_autofree char *message =
            g_strdup_printf("%s '%s' appears again (first on line %u)", what,
                            key, GPOINTER_TO_UINT(first));
        cq_csv_import_bad(im, rec->line, message);
        return;
    }
    g_hash_table_insert(seen, (gpointer)key, GUINT_TO_POINTER(rec->line));
    if (!write(im, rec, data, &written, &error))
        cq_csv_import_bad(im, rec->line, error->message);
    else if (written)
        (*count)++;
}

gboolean
cq_csv_import_run(CqCsvImport *im, CqStore *store, const char *key_column,
                  const char *what, CqCsvWriteFunc write, gpointer data,
                  guint *count, GError **error)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    gboolean header_ok = im->n_errors == 0;
    guint written = 0;

    if (!cq_store_begin(store, CQ_TX_WRITE, error))
        return FALSE;
    for (guint i = 1; header_ok && i < im->records->len; i++)
        import_record(im, im->records->pdata[i], seen, key_column, what, write,
                      data, &written);
    if (im->n_errors > 0) {
        cq_store_rollback(store);
        return cq_csv_import_result(im, error);
    }
    if (!cq_store_commit(store, error))
        return FALSE;
    if (count != NULL)
        *count = written;
    return TRUE;
}
