/* CSV import and export of the catalog. */
#include "catalog/catalog.h"

#include "catalog/csv.h"
#include "catalog/kinds.h"
#include "common/error.h"

#include <string.h>

typedef struct {
    CqSession *session;
    CqCatalogKind kind;
    const KindDef *def;
    int *column_field; /* for each CSV column: field index, or -1 member */
    guint n_columns;
    GString *errors;
    guint n_errors;
    GHashTable *seen;    /* ident -> first line */
    GPtrArray *deferred; /* records whose self-references wait */
    guint written;
} Import;

static void
bad_line(Import *im, guint line, const char *message)
{
    g_string_append_printf(im->errors, "\n  line %u: %s", line, message);
    im->n_errors++;
}

static int
header_field(const KindDef *def, const char *name)
{
    for (guint i = 0; i < def->n_fields; i++) {
        if (strcmp(def->fields[i].name, name) == 0)
            return (int)i;
    }
    return -2;
}

static gboolean
read_header(Import *im, const CqCsvRecord *header)
{
    guint n = g_strv_length(header->fields);
    gboolean has_key = FALSE;

    if (header->error != NULL) {
        bad_line(im, header->line, header->error);
        return FALSE;
    }
    im->n_columns = n;
    im->column_field = g_new0(int, n);
    for (guint i = 0; i < n; i++) {
        const char *name = g_strstrip(header->fields[i]);
        int field = header_field(im->def, name);
        if (field == -2 && im->kind == CQ_CATALOG_LIST &&
            strcmp(name, "member") == 0)
            field = -1;
        for (guint j = 0; j < i && field != -2; j++) {
            if (im->column_field[j] == field)
                field = -3;
        }
        if (field < -1) {
            g_autofree char *known =
                g_strjoinv(", ", (char **)im->def->field_names);
            g_autofree char *msg = g_strdup_printf(
                "column '%s' is %s (columns of %s: %s%s)", name,
                field == -3 ? "given twice" : "unknown", im->def->name, known,
                im->kind == CQ_CATALOG_LIST ? ", member" : "");
            bad_line(im, header->line, msg);
            return FALSE;
        }
        im->column_field[i] = field;
        has_key |= field == 0;
    }
    if (!has_key)
        bad_line(im, header->line, "the identifier column is missing");
    return has_key;
}

static const char *
record_value(const Import *im, const CqCsvRecord *rec, int field)
{
    for (guint i = 0; i < im->n_columns; i++) {
        if (im->column_field[i] == field)
            return rec->fields[i];
    }
    return NULL;
}

/* A field that points at the same kind may name an entry further down
 * the file: it is written in a second pass. */
static gboolean
is_self_ref(const Import *im, guint field)
{
    const FieldDef *f = &im->def->fields[field];
    return f->type == F_REF && f->ref == im->kind;
}

static gboolean
write_record(Import *im, const CqCsvRecord *rec, gboolean second_pass,
             GError **error)
{
    const char *key = record_value(im, rec, 0);
    g_autoptr(CqEntry) entry = NULL;
    gint64 id = 0;

    if (!cq_catalog_find_id(im->session->store, im->kind, key, &id, error))
        return FALSE;
    g_auto(GStrv) values = g_new0(char *, im->def->n_fields + 1);
    if (id != 0) {
        entry = cq_catalog_load(im->session->store, im->kind, key, error);
        if (entry == NULL)
            return FALSE;
    }
    for (guint f = 0; f < im->def->n_fields; f++) {
        const char *v = record_value(im, rec, (int)f);
        if (v == NULL || (!second_pass && is_self_ref(im, f) && id == 0))
            v = entry ? entry->values[f] : "";
        values[f] = g_strdup(v);
    }
    if (!cq_catalog_write(im->session->store, im->kind, &id, values, error))
        return FALSE;
    if (!second_pass)
        im->written++;
    return TRUE;
}

static gboolean
check_record(Import *im, const CqCsvRecord *rec)
{
    if (rec->error != NULL) {
        bad_line(im, rec->line, rec->error);
        return FALSE;
    }
    guint n = g_strv_length(rec->fields);
    if (n != im->n_columns) {
        g_autofree char *msg = g_strdup_printf(
            "%u fields where the header has %u", n, im->n_columns);
        bad_line(im, rec->line, msg);
        return FALSE;
    }
    for (guint i = 0; i < n; i++)
        g_strstrip(rec->fields[i]);
    return TRUE;
}

static void
import_record(Import *im, const CqCsvRecord *rec)
{
    g_autoptr(GError) error = NULL;

    if (!check_record(im, rec))
        return;
    const char *key = record_value(im, rec, 0);
    gpointer first = g_hash_table_lookup(im->seen, key);
    if (first != NULL) {
        g_autofree char *msg =
            g_strdup_printf("%s '%s' appears again (first on line %u)",
                            im->def->name, key, GPOINTER_TO_UINT(first));
        bad_line(im, rec->line, msg);
        return;
    }
    g_hash_table_insert(im->seen, g_strdup(key), GUINT_TO_POINTER(rec->line));
    if (!write_record(im, rec, FALSE, &error))
        bad_line(im, rec->line, error->message);
    else
        g_ptr_array_add(im->deferred, (gpointer)rec);
}

static void
second_pass(Import *im)
{
    for (guint i = 0; i < im->deferred->len; i++) {
        const CqCsvRecord *rec = im->deferred->pdata[i];
        g_autoptr(GError) error = NULL;
        if (!write_record(im, rec, TRUE, &error))
            bad_line(im, rec->line, error->message);
    }
}

static gboolean
clear_members(CqStore *store, gint64 list, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store, "DELETE FROM dlist_member WHERE list_id = ?", error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, list);
    return cq_stmt_run(stmt, error);
}

/* Lists: the first row of a name writes the list and drops its old
 * members; members are added once every list of the file exists. */
static void
import_list_row(Import *im, const CqCsvRecord *rec)
{
    g_autoptr(GError) error = NULL;
    gint64 id = 0;

    if (!check_record(im, rec))
        return;
    const char *key = record_value(im, rec, 0);
    if (!g_hash_table_contains(im->seen, key)) {
        g_hash_table_insert(im->seen, g_strdup(key),
                            GUINT_TO_POINTER(rec->line));
        if (!write_record(im, rec, FALSE, &error) ||
            !cq_catalog_find_id(im->session->store, CQ_CATALOG_LIST, key, &id,
                                &error) ||
            !clear_members(im->session->store, id, &error)) {
            bad_line(im, rec->line, error->message);
            return;
        }
    }
    g_ptr_array_add(im->deferred, (gpointer)rec);
}

static void
add_list_members(Import *im)
{
    for (guint i = 0; i < im->deferred->len; i++) {
        const CqCsvRecord *rec = im->deferred->pdata[i];
        const char *member = record_value(im, rec, -1);
        g_autoptr(GError) error = NULL;
        gint64 id = 0;

        if (member == NULL || *member == '\0')
            continue;
        if (!cq_catalog_find_id(im->session->store, CQ_CATALOG_LIST,
                                record_value(im, rec, 0), &id, &error) ||
            !cq_catalog_add_member(im->session, id, member, &error))
            bad_line(im, rec->line, error->message);
    }
}

static void
import_records(Import *im, GPtrArray *records, CqProgressFunc progress,
               gpointer data)
{
    for (guint i = 1; i < records->len; i++) {
        if (im->kind == CQ_CATALOG_LIST)
            import_list_row(im, records->pdata[i]);
        else
            import_record(im, records->pdata[i]);
        if (progress != NULL && (i % 100 == 0 || i + 1 == records->len))
            progress(i, records->len - 1, data);
    }
    if (im->kind == CQ_CATALOG_LIST)
        add_list_members(im);
    else
        second_pass(im);
}

static void
import_clear(Import *im)
{
    g_free(im->column_field);
    g_string_free(im->errors, TRUE);
    g_hash_table_unref(im->seen);
    g_ptr_array_unref(im->deferred);
}

static gboolean
run_import(Import *im, const char *path, GPtrArray *records,
           CqProgressFunc progress, gpointer data, GError **error)
{
    if (records->len == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "import '%s': the file is empty (a header row is "
                    "needed)",
                    path);
        return FALSE;
    }
    if (!cq_store_begin(im->session->store, CQ_TX_WRITE, error))
        return FALSE;
    if (read_header(im, records->pdata[0]))
        import_records(im, records, progress, data);
    if (im->n_errors == 0)
        return cq_store_commit(im->session->store, error);
    cq_store_rollback(im->session->store);
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "import '%s': %u bad line%s, nothing was imported:%s", path,
                im->n_errors, im->n_errors == 1 ? "" : "s", im->errors->str);
    return FALSE;
}

gboolean
cq_catalog_import(CqSession *session, CqCatalogKind kind, const char *path,
                  guint *count, CqProgressFunc progress, gpointer data,
                  GError **error)
{
    g_autoptr(GPtrArray) records = NULL;
    Import im = {
        .session = session,
        .kind = kind,
        .def = cq_catalog_kind_def(kind),
        .errors = g_string_new(NULL),
        .seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .deferred = g_ptr_array_new(),
    };

    gboolean ok = cq_session_require(session, CQ_PERM_EDIT_CATALOG,
                                     "edit the catalog", error) &&
                  (records = cq_csv_read_file(path, error)) != NULL;
    if (ok)
        ok = run_import(&im, path, records, progress, data, error);
    if (ok && count != NULL)
        *count = im.written;
    import_clear(&im);
    return ok;
}

char *
cq_catalog_export(CqSession *session, CqCatalogKind kind, GError **error)
{
    const KindDef *def = cq_catalog_kind_def(kind);
    g_autoptr(GPtrArray) entries = cq_catalog_list(session, kind, error);
    GString *out = g_string_new(NULL);
    guint n = def->n_fields;

    if (entries == NULL) {
        g_string_free(out, TRUE);
        return NULL;
    }
    g_autofree const char **row = g_new0(const char *, n + 2);
    for (guint i = 0; i < n; i++)
        row[i] = def->field_names[i];
    row[n] = "member";
    cq_csv_append_line(out, row, kind == CQ_CATALOG_LIST ? n + 1 : n);
    for (guint e = 0; e < entries->len; e++) {
        const CqEntry *entry = entries->pdata[e];
        for (guint i = 0; i < n; i++)
            row[i] = entry->values[i];
        if (kind != CQ_CATALOG_LIST) {
            cq_csv_append_line(out, row, n);
            continue;
        }
        guint m = entry->members ? g_strv_length(entry->members) : 0;
        for (guint i = 0; i < MAX(m, 1u); i++) {
            row[n] = m ? entry->members[i] : "";
            cq_csv_append_line(out, row, n + 1);
        }
    }
    return g_string_free(out, FALSE);
}
