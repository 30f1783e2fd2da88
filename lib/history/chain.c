/* The hash chain: appending entries and verifying them. */
#include "history/history.h"

#include "common/error.h"
#include "store/chunks.h"
#include "tls/digest.h"

#include <string.h>

#define CHAIN_FORMAT "caqmail-history 1"

/* Writes the decimal digits of @value so that they end at @end; returns
 * where they start.  Every entry formats dozens of numbers: printf would
 * cost more than the hash. */
static char *
decimal(char *end, guint64 value)
{
    char *p = end;

    do {
        *--p = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    return p;
}

/* Appends `key=<length>:<value>\n`: unambiguous whatever the value holds.
 */
static void
put_len(GString *out, const char *key, const char *value, gsize len)
{
    char buf[24];
    char *digits = decimal(buf + sizeof buf, len);

    g_string_append(out, key);
    g_string_append_c(out, '=');
    g_string_append_len(out, digits, buf + sizeof buf - digits);
    g_string_append_c(out, ':');
    g_string_append_len(out, value, (gssize)len);
    g_string_append_c(out, '\n');
}

static void
put(GString *out, const char *key, const char *value)
{
    if (value == NULL)
        value = "";
    put_len(out, key, value, strlen(value));
}

/* An integer as the database gives it back as text. */
static const char *
int_text(char buf[24], gint64 value)
{
    char *end = buf + 23;
    char *p = decimal(end, value < 0 ? -(guint64)value : (guint64)value);

    *end = '\0';
    if (value < 0)
        *--p = '-';
    return p;
}

static void
put_int(GString *out, const char *key, gint64 value)
{
    char buf[24];

    put(out, key, int_text(buf, value));
}

/* Puts one row as block @block: the columns @names with their @values
 * (NULL for SQL NULL), then those of @later (may be NULL) that are not
 * NULL: columns added to a table after entries were written, which keep
 * their hash that way.  @values holds the later columns' after the
 * others'. */
static void
put_row(GString *out, const char *block, const char *const *names,
        const char *const *later, const char *const *values)
{
    int i = 0;

    g_string_append_c(out, '[');
    g_string_append(out, block);
    g_string_append(out, "]\n");
    for (; names[i]; i++)
        put(out, names[i], values[i]);
    for (int k = 0; later && later[k]; k++) {
        if (values[i + k] != NULL)
            put(out, later[k], values[i + k]);
    }
}

#define MAX_COLUMNS 16

/* Appends every row of @sql (bound to @id) to @out, one block a row. */
static gboolean
put_rows_later(CqStore *store, GString *out, const char *block, const char *sql,
               const char *const *names, const char *const *later, gint64 id,
               GError **error)
{
    CqStmt *stmt = cq_store_stmt(store, sql, error);
    CqStep step = CQ_STEP_ERROR;
    guint n = g_strv_length((char **)names) +
              (later ? g_strv_length((char **)later) : 0);
    const char *values[MAX_COLUMNS];

    g_assert(n <= MAX_COLUMNS);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, id);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        for (guint i = 0; i < n; i++)
            values[i] = cq_stmt_is_null(stmt, (int)i)
                            ? NULL
                            : cq_stmt_text(stmt, (int)i);
        put_row(out, block, names, later, values);
    }
    cq_stmt_reset(stmt);
    return step == CQ_STEP_DONE;
}

static gboolean
put_rows(CqStore *store, GString *out, const char *block, const char *sql,
         const char *const *names, gint64 id, GError **error)
{
    return put_rows_later(store, out, block, sql, names, NULL, id, error);
}

static const char *const mail_names[] = {
    "message_id", "record",     "sender",  "operator", "envelope_from",
    "from",       "subject",    "origin",  "smtputf8", "body_8bit",
    "raw_size",   "raw_sha256", "created", NULL,
};
static const char *const rcpt_names[] = {
    "id", "position", "kind", "address", "display", "source", NULL,
};
static const char *const att_names[] = {
    "position", "filename", "content_type", "size", "sha256", "source", NULL,
};
static const char *const att_later[] = {"source_sha256", NULL};
static const char *const result_names[] = {
    "rcpt", "status", "code", "reply", NULL,
};

static gboolean
put_mail(CqStore *store, GString *out, gint64 mail, GError **error)
{
    return put_rows(store, out, "mail",
                    "SELECT m.message_id, r.ident, m.sender, m.operator,"
                    " m.envelope_from, m.from_display, m.subject, m.origin,"
                    " m.smtputf8, m.body_8bit, m.raw_size, m.raw_sha256,"
                    " m.created"
                    " FROM mail m LEFT JOIN record r ON r.id = m.record_id"
                    " WHERE m.id = ?",
                    mail_names, mail, error) &&
           put_rows(store, out, "rcpt",
                    "SELECT id, position, kind, address, display, source"
                    " FROM mail_rcpt WHERE mail_id = ? ORDER BY position",
                    rcpt_names, mail, error) &&
           put_rows_later(store, out, "attachment",
                          "SELECT position, filename, content_type, size,"
                          " sha256, source, source_sha256"
                          " FROM mail_attachment WHERE mail_id = ?"
                          " ORDER BY position",
                          att_names, att_later, mail, error);
}

/* ---- the rows of a queued mail, as they are written ------------------ */

struct _CqQueuedRows {
    GString *text;
};

CqQueuedRows *
cq_queued_rows_new(void)
{
    CqQueuedRows *rows = g_new0(CqQueuedRows, 1);

    rows->text = g_string_new(NULL);
    return rows;
}

void
cq_queued_rows_free(CqQueuedRows *rows)
{
    if (rows == NULL)
        return;
    g_string_free(rows->text, TRUE);
    g_free(rows);
}

void
cq_queued_rows_add_mail(CqQueuedRows *rows, const CqQueuedMail *m)
{
    char utf8[24], body[24], size[24], created[24];
    const char *values[] = {
        m->message_id,
        m->record,
        m->sender,
        m->operator_login,
        m->envelope_from,
        m->from_display,
        m->subject,
        m->origin,
        int_text(utf8, m->smtputf8),
        int_text(body, m->body_8bit),
        int_text(size, m->raw_size),
        m->raw_sha256,
        int_text(created, m->created),
    };

    G_STATIC_ASSERT(G_N_ELEMENTS(values) == G_N_ELEMENTS(mail_names) - 1);
    put_row(rows->text, "mail", mail_names, NULL, values);
}

void
cq_queued_rows_add_rcpt(CqQueuedRows *rows, const CqQueuedRcpt *r)
{
    char id[24], position[24];
    const char *values[] = {
        int_text(id, r->id),
        int_text(position, r->position),
        r->kind,
        r->address,
        r->display,
        r->source,
    };

    G_STATIC_ASSERT(G_N_ELEMENTS(values) == G_N_ELEMENTS(rcpt_names) - 1);
    put_row(rows->text, "rcpt", rcpt_names, NULL, values);
}

void
cq_queued_rows_add_attachment(CqQueuedRows *rows, const CqQueuedAttachment *a)
{
    char position[24], size[24];
    const char *values[] = {
        int_text(position, a->position),
        a->filename,
        a->content_type,
        int_text(size, a->size),
        a->sha256,
        a->source,
        a->source_sha256,
    };

    G_STATIC_ASSERT(G_N_ELEMENTS(values) ==
                    G_N_ELEMENTS(att_names) - 1 + G_N_ELEMENTS(att_later) - 1);
    put_row(rows->text, "attachment", att_names, att_later, values);
}

typedef struct {
    gint64 seq;
    char *kind;
    gint64 mail;
    char *actor;
    gint64 at;
    char *detail;
    char *prev;
    char *hash;
} Entry;

static void
entry_clear(Entry *e)
{
    g_free(e->kind);
    g_free(e->actor);
    g_free(e->detail);
    g_free(e->prev);
    g_free(e->hash);
    memset(e, 0, sizeof *e);
}

static void
entry_read(Entry *e, CqStmt *stmt)
{
    e->seq = cq_stmt_int(stmt, 0);
    e->kind = cq_stmt_dup(stmt, 1);
    e->mail = cq_stmt_is_null(stmt, 2) ? 0 : cq_stmt_int(stmt, 2);
    e->actor = cq_stmt_dup(stmt, 3);
    e->at = cq_stmt_int(stmt, 4);
    e->detail = cq_stmt_dup(stmt, 5);
    e->prev = cq_stmt_dup(stmt, 6);
    e->hash = cq_stmt_dup(stmt, 7);
}

#define ENTRY_COLUMNS "seq, kind, mail_id, actor, at, detail, prev_hash, hash"

/* Puts @n results as the rows of delivery_result read back give them. */
static void
put_results(GString *out, const CqHistoryResult *results, guint n)
{
    for (guint i = 0; i < n; i++) {
        char rcpt[24], code[24];
        const char *values[] = {
            int_text(rcpt, results[i].rcpt_id),
            results[i].status,
            int_text(code, results[i].code),
            results[i].reply ? results[i].reply : "",
        };
        put_row(out, "result", result_names, NULL, values);
    }
}

/* The hash of entry @e over its canonical content; newly allocated.
 * The writer passes what the entry covers as it writes it: the rows of a
 * "queued" entry in @rows, the delivery results in @results.  With
 * @read_back (the verification), those are read from the database. */
static char *
entry_hash_of(CqStore *store, const Entry *e, gboolean read_back,
              const CqQueuedRows *rows, const CqHistoryResult *results,
              guint n_results, GError **error)
{
    g_autoptr(GString) out = g_string_new(CHAIN_FORMAT "\n");

    put_int(out, "seq", e->seq);
    put(out, "kind", e->kind);
    put_int(out, "mail", e->mail);
    put(out, "actor", e->actor);
    put_int(out, "at", e->at);
    put(out, "detail", e->detail);
    put(out, "prev", e->prev);
    if (rows != NULL)
        g_string_append_len(out, rows->text->str, (gssize)rows->text->len);
    else if (strcmp(e->kind, "queued") == 0 &&
             !put_mail(store, out, e->mail, error))
        return NULL;
    if (!read_back)
        put_results(out, results, n_results);
    else if (!put_rows(store, out, "result",
                       "SELECT rcpt_id, status, code, reply FROM"
                       " delivery_result WHERE history_seq = ? ORDER BY id",
                       result_names, e->seq, error))
        return NULL;
    return cq_sha256_of(out->str, out->len);
}

static char *
entry_hash(CqStore *store, const Entry *e, GError **error)
{
    return entry_hash_of(store, e, TRUE, NULL, NULL, 0, error);
}

/* The chain's head; an appender locks it until its transaction ends, so
 * that entries of several processes follow each other. */
static gboolean
read_head(CqStore *store, gboolean lock, gint64 *seq, char **hash,
          GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store,
        lock ? "SELECT seq, hash FROM history_head WHERE id = 1 {for_update}"
             : "SELECT seq, hash FROM history_head WHERE id = 1",
        error);
    if (stmt == NULL)
        return FALSE;
    if (cq_stmt_step(stmt, error) != CQ_STEP_ROW) {
        cq_stmt_reset(stmt);
        return FALSE;
    }
    *seq = cq_stmt_int(stmt, 0);
    *hash = cq_stmt_dup(stmt, 1);
    cq_stmt_reset(stmt);
    return TRUE;
}

static gboolean
write_head(CqStore *store, gint64 seq, const char *hash, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store, "UPDATE history_head SET seq = ?, hash = ? WHERE id = 1", error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, seq);
    cq_stmt_bind_text(stmt, 2, hash);
    return cq_stmt_run(stmt, error);
}

static gboolean
insert_entry(CqStore *store, const Entry *e, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store,
        "INSERT INTO history (seq, kind, mail_id, actor, at, detail,"
        " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, e->seq);
    cq_stmt_bind_text(stmt, 2, e->kind);
    if (e->mail != 0)
        cq_stmt_bind_int(stmt, 3, e->mail);
    else
        cq_stmt_bind_null(stmt, 3);
    cq_stmt_bind_text(stmt, 4, e->actor);
    cq_stmt_bind_int(stmt, 5, e->at);
    cq_stmt_bind_text(stmt, 6, e->detail);
    cq_stmt_bind_text(stmt, 7, e->prev);
    cq_stmt_bind_text(stmt, 8, e->hash);
    return cq_stmt_run(stmt, error);
}

/* Starts entry @e after the head. */
static gboolean
start_entry(CqStore *store, Entry *e, const char *kind, gint64 mail_id,
            const char *actor, const char *detail, GError **error)
{
    gint64 last = 0;

    if (!read_head(store, TRUE, &last, &e->prev, error))
        return FALSE;
    e->seq = last + 1;
    e->kind = g_strdup(kind);
    e->mail = mail_id;
    e->actor = g_strdup(actor);
    e->at = cq_store_now();
    e->detail = g_strdup(detail ? detail : "");
    return TRUE;
}

static gboolean
insert_result(CqStore *store, gint64 seq, const CqHistoryResult *r,
              GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store,
        "INSERT INTO delivery_result (history_seq, rcpt_id, status, code,"
        " reply) VALUES (?, ?, ?, ?, ?)",
        error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, seq);
    cq_stmt_bind_int(stmt, 2, r->rcpt_id);
    cq_stmt_bind_text(stmt, 3, r->status);
    cq_stmt_bind_int(stmt, 4, r->code);
    cq_stmt_bind_text(stmt, 5, r->reply ? r->reply : "");
    return cq_stmt_run(stmt, error);
}

/* Every entry is written once, hashed from the values as they are
 * written: the entry first (its results refer to it), then its results,
 * then the head. */
static gboolean
append(CqStore *store, const char *kind, gint64 mail_id, const char *actor,
       const char *detail, const CqQueuedRows *rows,
       const CqHistoryResult *results, guint n_results, gint64 *seq,
       GError **error)
{
    Entry e = {0};

    gboolean ok = start_entry(store, &e, kind, mail_id, actor, detail, error) &&
                  (e.hash = entry_hash_of(store, &e, FALSE, rows, results,
                                          n_results, error)) != NULL &&
                  insert_entry(store, &e, error);
    for (guint i = 0; ok && i < n_results; i++)
        ok = insert_result(store, e.seq, &results[i], error);
    ok = ok && write_head(store, e.seq, e.hash, error);
    if (ok && seq != NULL)
        *seq = e.seq;
    entry_clear(&e);
    return ok;
}

gboolean
cq_history_append(CqStore *store, const char *kind, gint64 mail_id,
                  const char *actor, const char *detail, GError **error)
{
    return append(store, kind, mail_id, actor, detail, NULL, NULL, 0, NULL,
                  error);
}

gboolean
cq_history_append_queued(CqStore *store, gint64 mail_id, const char *actor,
                         const CqQueuedRows *rows, GError **error)
{
    return append(store, "queued", mail_id, actor, "", rows, NULL, 0, NULL,
                  error);
}

gboolean
cq_history_append_results(CqStore *store, const char *kind, gint64 mail_id,
                          const char *actor, const char *detail,
                          const CqHistoryResult *results, guint n_results,
                          gint64 *seq, GError **error)
{
    g_return_val_if_fail(results != NULL || n_results == 0, FALSE);
    return append(store, kind, mail_id, actor, detail, NULL, results, n_results,
                  seq, error);
}

void
cq_verify_result_clear(CqVerifyResult *result)
{
    g_clear_pointer(&result->problem, g_free);
    g_clear_pointer(&result->head, g_free);
}

static void
broken(CqVerifyResult *result, gint64 seq, char *problem)
{
    if (result->broken != 0) {
        g_free(problem);
        return;
    }
    result->broken = seq;
    result->problem = problem;
}

/* The raw message of a queued mail must still be what was hashed. */
static gboolean
check_raw(CqStore *store, const Entry *e, CqVerifyResult *result,
          GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store, "SELECT raw_size, raw_sha256 FROM mail WHERE id = ?", error);
    gint64 size = 0, stored_size = -1;
    g_autofree char *sha = NULL, *stored_sha = NULL;

    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, e->mail);
    if (cq_stmt_step(stmt, NULL) == CQ_STEP_ROW) {
        stored_size = cq_stmt_int(stmt, 0);
        stored_sha = cq_stmt_dup(stmt, 1);
    }
    cq_stmt_reset(stmt);
    if (!cq_chunks_digest(store, e->mail, &size, &sha, error))
        return FALSE;
    if (size != stored_size || g_strcmp0(sha, stored_sha) != 0)
        broken(result, e->seq,
               g_strdup_printf("the raw message of mail %" G_GINT64_FORMAT
                               " has been changed",
                               e->mail));
    return TRUE;
}

static gboolean
check_entry(CqStore *store, const Entry *e, gint64 expected,
            const char *prev_hash, CqVerifyResult *result, GError **error)
{
    if (e->seq != expected) {
        broken(result, expected,
               g_strdup_printf("entry %" G_GINT64_FORMAT " has been removed "
                               "(the chain goes on with entry %" G_GINT64_FORMAT
                               ")",
                               expected, e->seq));
        return TRUE;
    }
    if (strcmp(e->prev, prev_hash) != 0)
        broken(result, e->seq,
               g_strdup("its link to the entry before does not match"));
    g_autofree char *hash = entry_hash(store, e, error);
    if (hash == NULL)
        return FALSE;
    if (strcmp(hash, e->hash) != 0)
        broken(result, e->seq,
               g_strdup("its content has been changed (the hash does not "
                        "match)"));
    if (result->broken == 0 && strcmp(e->kind, "queued") == 0)
        return check_raw(store, e, result, error);
    return TRUE;
}

static gboolean
check_head(CqStore *store, gint64 last, const char *last_hash,
           CqVerifyResult *result, GError **error)
{
    g_autofree char *hash = NULL;
    gint64 seq = 0;

    if (!read_head(store, FALSE, &seq, &hash, error))
        return FALSE;
    if (seq > last)
        broken(result, last + 1,
               g_strdup_printf("entries %" G_GINT64_FORMAT
                               " to %" G_GINT64_FORMAT " have been removed",
                               last + 1, seq));
    else if (seq != last || strcmp(hash, last_hash) != 0)
        broken(result, last,
               g_strdup("the chain's head does not match the last entry"));
    result->head = g_strdup(last_hash);
    return TRUE;
}

static gboolean
count_entries(CqStore *store, gint64 *count, GError **error)
{
    CqStmt *stmt = cq_store_stmt(store, "SELECT COUNT(*) FROM history", error);
    return stmt != NULL && cq_stmt_int_result(stmt, 0, count, error);
}

#define PAGE 500

/* Reads up to PAGE entries after entry @after: the chain is walked in
 * pages, so that a long history is never read whole. */
static gboolean
load_page(CqStore *store, gint64 after, GArray *page, GError **error)
{
    CqStmt *stmt = cq_store_stmt(store,
                                 "SELECT " ENTRY_COLUMNS " FROM history"
                                 " WHERE seq > ? ORDER BY seq LIMIT ?",
                                 error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, after);
    cq_stmt_bind_int(stmt, 2, PAGE);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        Entry e = {0};
        entry_read(&e, stmt);
        g_array_append_val(page, e);
    }
    cq_stmt_reset(stmt);
    return step == CQ_STEP_DONE;
}

typedef struct {
    gint64 expected; /* the next entry's number */
    char *prev;      /* the hash of the entry before it */
    gint64 total;
    CqVerifyProgress progress;
    gpointer data;
} Walk;

static gboolean
check_page(CqStore *store, GArray *page, Walk *w, CqVerifyResult *result,
           GError **error)
{
    for (guint i = 0; i < page->len && result->broken == 0; i++) {
        const Entry *e = &g_array_index(page, Entry, i);
        gboolean ok =
            check_entry(store, e, w->expected, w->prev, result, error);
        g_free(w->prev);
        w->prev = g_strdup(e->hash);
        w->expected = e->seq + 1;
        result->entries++;
        if (!ok)
            return FALSE;
        if (w->progress != NULL && result->entries % 1000 == 0)
            w->progress(result->entries, w->total, w->data);
    }
    return TRUE;
}

static gboolean
walk_chain(CqStore *store, CqVerifyResult *result, CqVerifyProgress progress,
           gpointer data, GError **error)
{
    Walk w = {1, g_strnfill(64, '0'), 0, progress, data};
    g_autoptr(GArray) page = g_array_new(FALSE, FALSE, sizeof(Entry));
    gboolean ok = count_entries(store, &w.total, error);
    gint64 after = 0;

    g_array_set_clear_func(page, (GDestroyNotify)entry_clear);
    while (ok && result->broken == 0) {
        g_array_set_size(page, 0);
        ok = load_page(store, after, page, error) &&
             check_page(store, page, &w, result, error);
        if (page->len < PAGE)
            break;
        after = g_array_index(page, Entry, page->len - 1).seq;
    }
    if (ok && result->broken == 0)
        ok = check_head(store, w.expected - 1, w.prev, result, error);
    g_free(w.prev);
    return ok;
}

gboolean
cq_history_verify(CqSession *session, CqVerifyResult *result,
                  CqVerifyProgress progress, gpointer data, GError **error)
{
    memset(result, 0, sizeof *result);
    if (!cq_session_require(session, CQ_PERM_READ_ALL, "verify the history",
                            error) ||
        !cq_store_begin(session->store, CQ_TX_READ, error))
        return FALSE;
    gboolean ok = walk_chain(session->store, result, progress, data, error);
    cq_store_end_read(session->store);
    return ok;
}
