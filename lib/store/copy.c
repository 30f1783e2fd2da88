#include "store/copy.h"

#include "common/error.h"

#include <string.h>

/* One table: its columns in the order they are read and written, the
 * first one or two of them its key (rows are read in key order, a page
 * at a time). */
typedef struct {
    const char *table;
    const char *columns;
    guint n_key;        /* 1 or 2 leading columns */
    const char *serial; /* the column that numbers itself, or NULL */
    const char *later;  /* a column that may point at a later row: set in
                           a second pass, or NULL */
    int blob;           /* the column of bytes, or -1 */
    guint page;         /* rows a page */
    gboolean seeded;    /* a new schema has rows: replaced by the source's */
} CopyTable;

/* In the order of their references. */
static const CopyTable tables[] = {
    {"role", "id, name, permissions, description", 1, "id", NULL, -1, 500,
     TRUE},
    {"app_user", "id, login, created", 1, "id", NULL, -1, 500},
    {"user_role", "user_id, role_id", 2, NULL, NULL, -1, 500},
    {"user_password", "user_id, hash, updated", 1, NULL, NULL, -1, 500},
    {"department", "id, ident, name, email, search, head_id", 1, "id",
     "head_id", -1, 500},
    {"person",
     "id, ident, name, email, department_id, supervisor_id, language, "
     "login, search",
     1, "id", "supervisor_id", -1, 500},
    {"organisation", "id, ident, name, kind, search", 1, "id", NULL, -1, 500},
    {"contact", "id, ident, organisation_id, name, email, role, search", 1,
     "id", NULL, -1, 500},
    {"dlist", "id, ident, description, search", 1, "id", NULL, -1, 500},
    {"dlist_member",
     "id, list_id, position, person_id, contact_id, department_id, "
     "member_list_id, address",
     1, "id", NULL, -1, 500},
    {"record", "id, ident, kind, title, owner, created", 1, "id", NULL, -1,
     500},
    {"mail",
     "id, message_id, record_id, sender, operator, envelope_from, "
     "from_display, subject, origin, smtputf8, body_8bit, raw_size, "
     "raw_sha256, created, search",
     1, "id", NULL, -1, 500},
    {"mail_rcpt", "id, mail_id, position, kind, address, display, source", 1,
     "id", NULL, -1, 500},
    {"mail_attachment",
     "id, mail_id, position, filename, content_type, size, sha256, source, "
     "source_sha256",
     1, "id", NULL, -1, 500},
    /* 256 KiB a row: a few at a time */
    {"mail_chunk", "mail_id, seq, data", 2, NULL, NULL, 2, 8},
    {"outbox",
     "mail_id, state, attempts, queued, next_attempt, lease_owner, "
     "lease_until, last_error, updated",
     1, NULL, NULL, -1, 500},
    {"history", "seq, kind, mail_id, actor, at, detail, prev_hash, hash", 1,
     NULL, NULL, -1, 500},
    {"delivery_result", "id, history_seq, rcpt_id, status, code, reply", 1,
     "id", NULL, -1, 500},
    {"history_head", "id, seq, hash", 1, NULL, NULL, -1, 500, TRUE},
    {"document_content", "id, sha256, size, created", 1, "id", NULL, -1, 500},
    {"document_chunk", "content_id, seq, data", 2, NULL, NULL, 2, 8},
    {"document_counter", "id, last_number", 1, NULL, NULL, -1, 500, TRUE},
    {"document",
     "id, title, revision, filename, kind, media_type, size, sha256, "
     "record_id, created, created_by, operator",
     1, NULL, NULL, -1, 500},
    {"measure",
     "id, ident, record_id, title, responsible_id, due, status, level, "
     "link, owner, created, updated",
     1, "id", NULL, -1, 500},
    {"gauge",
     "id, inventory, description, holder_id, location, interval_months, "
     "due, status, last_listed, created, updated",
     1, "id", NULL, -1, 500},
    {"item_history",
     "id, measure_id, gauge_id, at, actor, kind, level, mail_id, "
     "history_seq, detail",
     1, "id", NULL, -1, 500},
};

const char *
cq_store_copy_columns(const char *table)
{
    for (guint i = 0; i < G_N_ELEMENTS(tables); i++) {
        if (strcmp(tables[i].table, table) == 0)
            return tables[i].columns;
    }
    return NULL;
}

const char *const *
cq_store_copy_tables(void)
{
    static const char *names[G_N_ELEMENTS(tables) + 1];

    for (guint i = 0; i < G_N_ELEMENTS(tables); i++)
        names[i] = tables[i].table;
    return names;
}

static guint
count_columns(const CopyTable *t)
{
    g_auto(GStrv) names = g_strsplit(t->columns, ",", -1);
    return g_strv_length(names);
}

static char *
select_sql(const CopyTable *t)
{
    g_auto(GStrv) names = g_strsplit(t->columns, ", ", 3);

    if (t->n_key == 1)
        return g_strdup_printf("SELECT %s FROM %s WHERE %s > ? ORDER BY %s"
                               " LIMIT %u",
                               t->columns, t->table, names[0], names[0],
                               t->page);
    return g_strdup_printf("SELECT %s FROM %s WHERE %s > ? OR (%s = ? AND"
                           " %s > ?) ORDER BY %s, %s LIMIT %u",
                           t->columns, t->table, names[0], names[0], names[1],
                           names[0], names[1], t->page);
}

static char *
insert_sql(const CopyTable *t, guint n)
{
    GString *sql = g_string_new(NULL);

    g_string_printf(sql, "INSERT INTO %s (%s) VALUES (?", t->table, t->columns);
    for (guint i = 1; i < n; i++)
        g_string_append(sql, ", ?");
    g_string_append_c(sql, ')');
    return g_string_free(sql, FALSE);
}

/* The column that waits for the second pass. */
static int
later_index(const CopyTable *t)
{
    g_auto(GStrv) names = g_strsplit(t->columns, ", ", -1);

    for (int i = 0; t->later && names[i]; i++) {
        if (strcmp(names[i], t->later) == 0)
            return i;
    }
    return -1;
}

/* Writes the current row of @src with @dst, column by column. */
static gboolean
copy_row(const CopyTable *t, CqStmt *src, CqStmt *dst, guint n, int later,
         GError **error)
{
    for (guint i = 0; i < n; i++) {
        int c = (int)i;
        if (c == later || cq_stmt_is_null(src, c)) {
            cq_stmt_bind_null(dst, c + 1);
        } else if (c == t->blob) {
            gsize len = 0;
            const void *data = cq_stmt_blob(src, c, &len);
            cq_stmt_bind_blob(dst, c + 1, data, len);
        } else {
            cq_stmt_bind_text(dst, c + 1, cq_stmt_text(src, c));
        }
    }
    return cq_stmt_run(dst, error);
}

typedef struct {
    CqStore *from, *to;
    CqCopyProgress progress;
    gpointer data;
} Copy;

/* Copies one page after @key (updated to the last row's key); *@count
 * is the number of rows of the page. */
static gboolean
copy_page(Copy *c, const CopyTable *t, gint64 key[2], guint *count,
          GError **error)
{
    g_autofree char *select = select_sql(t);
    guint n = count_columns(t);
    g_autofree char *insert = insert_sql(t, n);
    CqStmt *src = cq_store_stmt(c->from, select, error);
    CqStmt *dst = src ? cq_store_stmt(c->to, insert, error) : NULL;
    CqStep step = CQ_STEP_ERROR;

    if (dst == NULL)
        return FALSE;
    cq_stmt_bind_int(src, 1, key[0]);
    if (t->n_key == 2) {
        cq_stmt_bind_int(src, 2, key[0]);
        cq_stmt_bind_int(src, 3, key[1]);
    }
    int later = later_index(t);
    *count = 0;
    while ((step = cq_stmt_step(src, error)) == CQ_STEP_ROW) {
        if (!copy_row(t, src, dst, n, later, error)) {
            step = CQ_STEP_ERROR;
            break;
        }
        key[0] = cq_stmt_int(src, 0);
        key[1] = t->n_key == 2 ? cq_stmt_int(src, 1) : 0;
        (*count)++;
    }
    cq_stmt_reset(src);
    return step == CQ_STEP_DONE;
}

/* The second pass: the forward pointers, now that every row exists. */
static gboolean
copy_later(Copy *c, const CopyTable *t, GError **error)
{
    g_autofree char *select = g_strdup_printf(
        "SELECT id, %s FROM %s WHERE %s IS NOT NULL AND id > ? ORDER BY id"
        " LIMIT 500",
        t->later, t->table, t->later);
    g_autofree char *update = g_strdup_printf(
        "UPDATE %s SET %s = ? WHERE id = ?", t->table, t->later);
    gint64 last = -1;
    guint count = 0;

    do {
        CqStmt *src = cq_store_stmt(c->from, select, error);
        CqStmt *dst = src ? cq_store_stmt(c->to, update, error) : NULL;
        CqStep step = CQ_STEP_ERROR;
        if (dst == NULL)
            return FALSE;
        cq_stmt_bind_int(src, 1, last);
        for (count = 0; (step = cq_stmt_step(src, error)) == CQ_STEP_ROW;
             count++) {
            last = cq_stmt_int(src, 0);
            cq_stmt_bind_int(dst, 1, cq_stmt_int(src, 1));
            cq_stmt_bind_int(dst, 2, last);
            if (!cq_stmt_run(dst, error)) {
                step = CQ_STEP_ERROR;
                break;
            }
        }
        cq_stmt_reset(src);
        if (step != CQ_STEP_DONE)
            return FALSE;
    } while (count == 500);
    return TRUE;
}

static gboolean
count_rows(CqStore *store, const char *table, gint64 *count, GError **error)
{
    g_autofree char *sql = g_strdup_printf("SELECT COUNT(*) FROM %s", table);
    CqStmt *stmt = cq_store_stmt(store, sql, error);
    return stmt != NULL && cq_stmt_int_result(stmt, 0, count, error);
}

static gboolean
check_count(Copy *c, const CopyTable *t, gint64 *copied, GError **error)
{
    gint64 there = -1, here = -1;

    if (!count_rows(c->from, t->table, &there, error) ||
        !count_rows(c->to, t->table, &here, error))
        return FALSE;
    *copied = here;
    if (there == here)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_FAILED,
                "copy of table '%s': %" G_GINT64_FORMAT " rows instead of %"
                " " G_GINT64_FORMAT,
                t->table, here, there);
    return FALSE;
}

static gboolean
copy_table(Copy *c, const CopyTable *t, GError **error)
{
    gint64 key[2] = {-1, -1}, copied = 0;
    guint count = 0;

    if (t->seeded) {
        g_autofree char *sql = g_strdup_printf("DELETE FROM %s", t->table);
        if (!cq_store_exec(c->to, sql, error))
            return FALSE;
    }
    do {
        if (!copy_page(c, t, key, &count, error))
            return FALSE;
        copied += count;
        if (c->progress != NULL && count > 0)
            c->progress(t->table, copied, c->data);
    } while (count == t->page);
    return TRUE;
}

/* Once every row exists: the pointers forward, the counters of ids, and
 * the number of rows. */
static gboolean
finish_table(Copy *c, const CopyTable *t, gint64 *rows, GError **error)
{
    gint64 copied = 0;

    if ((t->later != NULL && !copy_later(c, t, error)) ||
        (t->serial != NULL &&
         !cq_store_sync_serial(c->to, t->table, t->serial, error)) ||
        !check_count(c, t, &copied, error))
        return FALSE;
    *rows += copied;
    return TRUE;
}

gboolean
cq_store_copy(CqStore *from, CqStore *to, CqCopyProgress progress,
              gpointer data, gint64 *rows, GError **error)
{
    Copy c = {from, to, progress, data};
    gint64 total = 0;

    if (cq_store_schema_version(from) != cq_store_schema_version(to)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "database '%s' has schema version %d, '%s' has %d",
                    cq_store_location(from), cq_store_schema_version(from),
                    cq_store_location(to), cq_store_schema_version(to));
        return FALSE;
    }
    for (guint pass = 0; pass < 2; pass++) {
        for (guint i = 0; i < G_N_ELEMENTS(tables); i++) {
            const CopyTable *t = &tables[i];
            if (pass == 0 ? copy_table(&c, t, error)
                          : finish_table(&c, t, &total, error))
                continue;
            g_prefix_error(error, "table '%s': ", t->table);
            return FALSE;
        }
    }
    if (rows != NULL)
        *rows = total;
    return TRUE;
}

gboolean
cq_store_check_empty(CqStore *store, GError **error)
{
    gint64 head = 0, count = 0;
    CqStmt *stmt = cq_store_stmt(
        store, "SELECT seq FROM history_head WHERE id = 1", error);
    const char *table = NULL;

    if (stmt == NULL || !cq_stmt_int_result(stmt, 0, &head, error))
        return FALSE;
    if (head != 0)
        table = "history_head";
    for (guint i = 0; table == NULL && i < G_N_ELEMENTS(tables); i++) {
        if (tables[i].seeded)
            continue;
        if (!count_rows(store, tables[i].table, &count, error))
            return FALSE;
        if (count > 0)
            table = tables[i].table;
    }
    if (table == NULL)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "database '%s' is not empty (table '%s' has data); copy "
                "into a new, empty database",
                cq_store_location(store), table);
    return FALSE;
}
