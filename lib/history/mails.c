#include "history/mails.h"

#include "catalog/fold.h"
#include "common/error.h"
#include "store/chunks.h"

#include <string.h>

#define MAX_WORDS 8

void
cq_mail_info_free(CqMailInfo *info)
{
    if (info == NULL)
        return;
    g_free(info->message_id);
    g_free(info->record);
    g_free(info->sender);
    g_free(info->operator);
    g_free(info->from);
    g_free(info->subject);
    g_free(info->origin);
    g_free(info->sha256);
    g_free(info->state);
    g_free(info->last_error);
    g_free(info);
}

void
cq_rcpt_info_free(CqRcptInfo *info)
{
    if (info == NULL)
        return;
    g_free(info->kind);
    g_free(info->address);
    g_free(info->display);
    g_free(info->source);
    g_free(info->status);
    g_free(info->reply);
    g_free(info);
}

static void
attachment_info_free(CqAttachmentInfo *info)
{
    g_free(info->filename);
    g_free(info->content_type);
    g_free(info->sha256);
    g_free(info->source);
    g_free(info->source_sha256);
    g_free(info);
}

static void
entry_info_free(CqEntryInfo *info)
{
    g_free(info->kind);
    g_free(info->actor);
    g_free(info->detail);
    g_ptr_array_unref(info->results);
    g_free(info);
}

void
cq_mail_detail_free(CqMailDetail *detail)
{
    if (detail == NULL)
        return;
    cq_mail_info_free(detail->mail);
    g_clear_pointer(&detail->rcpts, g_ptr_array_unref);
    g_clear_pointer(&detail->attachments, g_ptr_array_unref);
    g_clear_pointer(&detail->entries, g_ptr_array_unref);
    g_free(detail);
}

static gboolean
require_reader(CqSession *session, GError **error)
{
    if (cq_session_may(session, CQ_PERM_READ_OWN) ||
        cq_session_may(session, CQ_PERM_READ_ALL))
        return TRUE;
    return cq_session_require(session, CQ_PERM_READ_OWN, "read the history",
                              error);
}

typedef struct {
    GString *sql;
    GPtrArray *texts; /* bound in order after the visibility pair */
} Query;

static void
add_condition(Query *q, const char *sql, const char *value)
{
    g_string_append_printf(q->sql, " AND %s", sql);
    g_ptr_array_add(q->texts, g_strdup(value));
}

static void
add_words(Query *q, const char *text)
{
    g_autofree char *folded = cq_fold_strip(text);
    g_auto(GStrv) words = g_strsplit_set(folded, " \t", -1);
    guint n = 0;

    for (guint i = 0; words[i] && n < MAX_WORDS; i++) {
        if (*words[i] == '\0')
            continue;
        g_autofree char *escaped = cq_store_like_escape(words[i]);
        g_autofree char *pattern = g_strdup_printf("%%%s%%", escaped);
        add_condition(q, "m.search LIKE ? ESCAPE '\\'", pattern);
        n++;
    }
}

static void
build_query(Query *q, CqSession *session, const CqMailFilter *f)
{
    g_string_append(
        q->sql,
        "SELECT m.id, m.message_id, r.ident, m.sender, m.operator,"
        " m.from_display, m.subject, m.origin, m.created, m.raw_size,"
        " m.raw_sha256, o.state, o.attempts, o.next_attempt, o.last_error,"
        " (SELECT COUNT(*) FROM mail_rcpt x WHERE x.mail_id = m.id)"
        " FROM mail m JOIN outbox o ON o.mail_id = m.id"
        " LEFT JOIN record r ON r.id = m.record_id"
        " WHERE (? = 1 OR m.sender = ?)");
    if (f->record != NULL) {
        /* Also the reminder digests about the record's measures. */
        add_condition(q,
                      "(r.ident = ? OR m.id IN (SELECT h.mail_id"
                      " FROM item_history h"
                      " JOIN measure x ON x.id = h.measure_id"
                      " JOIN record y ON y.id = x.record_id"
                      " WHERE y.ident = ? AND h.mail_id IS NOT NULL))",
                      f->record);
        g_ptr_array_add(q->texts, g_strdup(f->record));
    }
    if (f->journal)
        add_condition(q, "m.record_id IS NULL AND m.sender = ?",
                      session->login);
    if (f->text != NULL)
        add_words(q, f->text);
    for (guint i = 0; f->states && f->states[i]; i++) {
        g_string_append(q->sql, i == 0 ? " AND o.state IN (?" : ", ?");
        g_ptr_array_add(q->texts, g_strdup(f->states[i]));
        if (f->states[i + 1] == NULL)
            g_string_append(q->sql, ")");
    }
    if (f->id != 0) {
        g_autofree char *id = g_strdup_printf("%" G_GINT64_FORMAT, f->id);
        add_condition(q, "m.id = CAST(? AS {int})", id);
    }
    g_string_append(q->sql,
                    f->limit ? " ORDER BY m.id DESC" : " ORDER BY m.id");
    if (f->limit)
        g_string_append_printf(q->sql, " LIMIT %u", f->limit);
}

static CqMailInfo *
info_from_row(CqStmt *stmt)
{
    CqMailInfo *m = g_new0(CqMailInfo, 1);

    m->id = cq_stmt_int(stmt, 0);
    m->message_id = cq_stmt_dup(stmt, 1);
    m->record = cq_stmt_dup(stmt, 2);
    m->sender = cq_stmt_dup(stmt, 3);
    m->operator= cq_stmt_dup(stmt, 4);
    m->from = cq_stmt_dup(stmt, 5);
    m->subject = cq_stmt_dup(stmt, 6);
    m->origin = cq_stmt_dup(stmt, 7);
    m->created = cq_stmt_int(stmt, 8);
    m->size = cq_stmt_int(stmt, 9);
    m->sha256 = cq_stmt_dup(stmt, 10);
    m->state = cq_stmt_dup(stmt, 11);
    m->attempts = cq_stmt_int(stmt, 12);
    m->next_attempt = cq_stmt_int(stmt, 13);
    m->last_error = cq_stmt_dup(stmt, 14);
    m->n_rcpts = cq_stmt_int(stmt, 15);
    return m;
}

GPtrArray *
cq_mail_query(CqSession *session, const CqMailFilter *filter, GError **error)
{
    if (!require_reader(session, error))
        return NULL;
    Query q = {g_string_new(NULL), g_ptr_array_new_with_free_func(g_free)};
    build_query(&q, session, filter);
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_mail_info_free);
    CqStmt *stmt = cq_store_stmt(session->store, q.sql->str, error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt != NULL) {
        cq_stmt_bind_int(stmt, 1, cq_session_may(session, CQ_PERM_READ_ALL));
        cq_stmt_bind_text(stmt, 2, session->login);
        for (guint i = 0; i < q.texts->len; i++)
            cq_stmt_bind_text(stmt, (int)i + 3, q.texts->pdata[i]);
        while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW)
            g_ptr_array_add(out, info_from_row(stmt));
        cq_stmt_reset(stmt);
    }
    g_string_free(q.sql, TRUE);
    g_ptr_array_unref(q.texts);
    return step == CQ_STEP_DONE ? g_steal_pointer(&out) : NULL;
}

static CqMailInfo *
visible_mail(CqSession *session, gint64 id, GError **error)
{
    CqMailFilter filter = {.id = id};
    g_autoptr(GPtrArray) found = cq_mail_query(session, &filter, error);

    if (found == NULL)
        return NULL;
    if (found->len == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "mail %" G_GINT64_FORMAT " does not exist", id);
        return NULL;
    }
    return g_ptr_array_steal_index(found, 0);
}

static GPtrArray *
load_rcpts(CqStore *store, gint64 mail, GError **error)
{
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_rcpt_info_free);
    CqStmt *stmt = cq_store_stmt(
        store,
        "SELECT r.id, r.kind, r.address, r.display, r.source, d.status,"
        " d.code, d.reply FROM mail_rcpt r"
        " LEFT JOIN delivery_result d ON d.id = (SELECT MAX(x.id)"
        " FROM delivery_result x WHERE x.rcpt_id = r.id)"
        " WHERE r.mail_id = ? ORDER BY r.position",
        error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt == NULL)
        return NULL;
    cq_stmt_bind_int(stmt, 1, mail);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        CqRcptInfo *r = g_new0(CqRcptInfo, 1);
        r->id = cq_stmt_int(stmt, 0);
        r->kind = cq_stmt_dup(stmt, 1);
        r->address = cq_stmt_dup(stmt, 2);
        r->display = cq_stmt_dup(stmt, 3);
        r->source = cq_stmt_dup(stmt, 4);
        r->status = cq_stmt_is_null(stmt, 5) ? g_strdup("pending")
                                             : cq_stmt_dup(stmt, 5);
        r->code = cq_stmt_int(stmt, 6);
        r->reply = cq_stmt_dup(stmt, 7);
        g_ptr_array_add(out, r);
    }
    cq_stmt_reset(stmt);
    return step == CQ_STEP_DONE ? g_steal_pointer(&out) : NULL;
}

static GPtrArray *
load_attachments(CqStore *store, gint64 mail, GError **error)
{
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)attachment_info_free);
    CqStmt *stmt = cq_store_stmt(
        store,
        "SELECT filename, content_type, size, sha256, source, source_sha256"
        " FROM mail_attachment WHERE mail_id = ? ORDER BY position",
        error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt == NULL)
        return NULL;
    cq_stmt_bind_int(stmt, 1, mail);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        CqAttachmentInfo *a = g_new0(CqAttachmentInfo, 1);
        a->filename = cq_stmt_dup(stmt, 0);
        a->content_type = cq_stmt_dup(stmt, 1);
        a->size = cq_stmt_int(stmt, 2);
        a->sha256 = cq_stmt_dup(stmt, 3);
        a->source = cq_stmt_dup(stmt, 4);
        a->source_sha256 = cq_stmt_dup(stmt, 5);
        g_ptr_array_add(out, a);
    }
    cq_stmt_reset(stmt);
    return step == CQ_STEP_DONE ? g_steal_pointer(&out) : NULL;
}

static gboolean
load_results(CqStore *store, CqEntryInfo *entry, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store,
        "SELECT r.address, d.status, d.code, d.reply FROM delivery_result d"
        " JOIN mail_rcpt r ON r.id = d.rcpt_id WHERE d.history_seq = ?"
        " ORDER BY d.id",
        error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, entry->seq);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        CqRcptInfo *r = g_new0(CqRcptInfo, 1);
        r->address = cq_stmt_dup(stmt, 0);
        r->status = cq_stmt_dup(stmt, 1);
        r->code = cq_stmt_int(stmt, 2);
        r->reply = cq_stmt_dup(stmt, 3);
        g_ptr_array_add(entry->results, r);
    }
    cq_stmt_reset(stmt);
    return step == CQ_STEP_DONE;
}

static GPtrArray *
load_entries(CqStore *store, gint64 mail, GError **error)
{
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)entry_info_free);
    CqStmt *stmt =
        cq_store_stmt(store,
                      "SELECT seq, kind, actor, at, detail FROM history"
                      " WHERE mail_id = ? ORDER BY seq",
                      error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt == NULL)
        return NULL;
    cq_stmt_bind_int(stmt, 1, mail);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        CqEntryInfo *e = g_new0(CqEntryInfo, 1);
        e->seq = cq_stmt_int(stmt, 0);
        e->kind = cq_stmt_dup(stmt, 1);
        e->actor = cq_stmt_dup(stmt, 2);
        e->at = cq_stmt_int(stmt, 3);
        e->detail = cq_stmt_dup(stmt, 4);
        e->results =
            g_ptr_array_new_with_free_func((GDestroyNotify)cq_rcpt_info_free);
        g_ptr_array_add(out, e);
    }
    cq_stmt_reset(stmt);
    for (guint i = 0; step == CQ_STEP_DONE && i < out->len; i++) {
        if (!load_results(store, out->pdata[i], error))
            return NULL;
    }
    return step == CQ_STEP_DONE ? g_steal_pointer(&out) : NULL;
}

/* Fills @d for mail @id in one read transaction: its recipients and
 * attachments, and with @entries its history entries too. */
static gboolean
load_lists(CqStore *store, CqMailDetail *d, gint64 id, gboolean entries,
           GError **error)
{
    return (d->rcpts = load_rcpts(store, id, error)) != NULL &&
           (d->attachments = load_attachments(store, id, error)) != NULL &&
           (!entries || (d->entries = load_entries(store, id, error)) != NULL);
}

CqMailDetail *
cq_mail_detail(CqSession *session, gint64 id, GError **error)
{
    g_autoptr(CqMailDetail) d = g_new0(CqMailDetail, 1);

    if (!cq_store_begin(session->store, CQ_TX_READ, error))
        return NULL;
    d->mail = visible_mail(session, id, error);
    gboolean ok = d->mail != NULL &&
                  load_lists(session->store, d, id, TRUE, error);
    cq_store_end_read(session->store);
    return ok ? g_steal_pointer(&d) : NULL;
}

CqMailDetail *
cq_mail_summary(CqSession *session, CqMailInfo *mail, GError **error)
{
    g_autoptr(CqMailDetail) d = g_new0(CqMailDetail, 1);

    d->mail = mail;
    if (!cq_store_begin(session->store, CQ_TX_READ, error))
        return NULL;
    gboolean ok = load_lists(session->store, d, mail->id, FALSE, error);
    cq_store_end_read(session->store);
    return ok ? g_steal_pointer(&d) : NULL;
}

gboolean
cq_mail_write_raw(CqSession *session, gint64 id, GMimeStream *out,
                  GError **error)
{
    g_autoptr(CqMailInfo) info = NULL;

    if (!cq_store_begin(session->store, CQ_TX_READ, error))
        return FALSE;
    info = visible_mail(session, id, error);
    g_autoptr(GMimeStream) raw =
        info ? cq_chunk_reader_new(session->store, id) : NULL;
    gboolean ok = raw != NULL && g_mime_stream_write_to_stream(raw, out) >= 0 &&
                  g_mime_stream_flush(out) == 0;
    if (raw != NULL && !ok) {
        const GError *e = cq_chunk_reader_error(raw);
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO,
                    "mail %" G_GINT64_FORMAT ": %s", id,
                    e ? e->message : "writing failed");
    }
    cq_store_end_read(session->store);
    return ok;
}
