/* Accepting a mail: compose it straight into the store, in one
 * transaction with its recipients, attachments, outbox row and history
 * entry. */
#include "outbox/outbox.h"

#include "catalog/fold.h"
#include "common/error.h"
#include "common/event.h"
#include "history/history.h"
#include "history/record.h"
#include "store/chunks.h"
#include "tls/digest.h"

/* The message to store: composed while it is written (@mime), or
 * composed before (@bytes), then with its hex SHA-256 and the mail's
 * search key worked out beside it (@sha256 and @search, or NULL). */
typedef struct {
    CqMime *mime;
    GBytes *bytes;
    const char *sha256;
    const char *search;
} Raw;

/* The mail's row; raw_size and raw_sha256 are set by finish_mail() when
 * the message is composed while it is written. */
static gboolean
insert_mail(CqStore *store, const CqQueuedMail *row, gint64 record,
            const char *search, gint64 *id, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store,
        "INSERT INTO mail (message_id, record_id, sender, operator,"
        " envelope_from, from_display, subject, origin, smtputf8, body_8bit,"
        " created, raw_size, raw_sha256, search)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " {returning_id}",
        error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, row->message_id);
    if (record != 0)
        cq_stmt_bind_int(stmt, 2, record);
    else
        cq_stmt_bind_null(stmt, 2);
    cq_stmt_bind_text(stmt, 3, row->sender);
    cq_stmt_bind_text(stmt, 4, row->operator_login);
    cq_stmt_bind_text(stmt, 5, row->envelope_from);
    cq_stmt_bind_text(stmt, 6, row->from_display);
    cq_stmt_bind_text(stmt, 7, row->subject);
    cq_stmt_bind_text(stmt, 8, row->origin);
    cq_stmt_bind_int(stmt, 9, row->smtputf8);
    cq_stmt_bind_int(stmt, 10, row->body_8bit);
    cq_stmt_bind_int(stmt, 11, row->created);
    cq_stmt_bind_int(stmt, 12, row->raw_size);
    cq_stmt_bind_text(stmt, 13, row->raw_sha256);
    cq_stmt_bind_text(stmt, 14, search ? search : "");
    return cq_stmt_insert_id(stmt, id, error);
}

static gboolean
write_composed(const Raw *raw, GMimeStream *writer, GError **error)
{
    gsize len = 0;
    const char *data = NULL;

    if (raw->mime != NULL)
        return cq_mime_write(raw->mime, writer, error);
    data = g_bytes_get_data(raw->bytes, &len);
    if (g_mime_stream_write(writer, data, len) != (ssize_t)len) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO,
                    "the message could not be stored");
        return FALSE;
    }
    return TRUE;
}

static gboolean
write_raw(CqStore *store, const Raw *raw, gint64 id, gint64 *size,
          char **sha256, GError **error)
{
    g_autoptr(GMimeStream) writer = cq_chunk_writer_new(store, id);
    g_autoptr(GError) local = NULL;

    if (!write_composed(raw, writer, &local)) {
        /* A store failure is the better explanation than the stream's. */
        if (!cq_chunk_writer_finish(writer, size, sha256, error))
            return FALSE;
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    return cq_chunk_writer_finish(writer, size, sha256, error);
}

static char *
search_key(const CqMessage *m)
{
    GString *key = g_string_new(NULL);
    g_autofree char *from = cq_address_display(m->from);

    cq_fold_add_key(key, m->subject);
    cq_fold_add_key(key, from);
    cq_fold_add_key(key, m->record);
    cq_fold_add_key(key, m->message_id);
    for (guint i = 0; i < m->recipients->len; i++) {
        const CqRecipient *r = m->recipients->pdata[i];
        g_autofree char *display = cq_address_display(r->address);
        cq_fold_add_key(key, display);
    }
    for (guint i = 0; i < m->attachments->len; i++)
        cq_fold_add_key(key,
                        ((CqAttachment *)m->attachments->pdata[i])->filename);
    return g_string_free(key, FALSE);
}

static gboolean
finish_mail(CqStore *store, const CqMessage *m, gint64 id, gint64 size,
            const char *sha256, GError **error)
{
    g_autofree char *key = search_key(m);
    CqStmt *stmt =
        cq_store_stmt(store,
                      "UPDATE mail SET raw_size = ?, raw_sha256 = ?, search = ?"
                      " WHERE id = ?",
                      error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, size);
    cq_stmt_bind_text(stmt, 2, sha256);
    cq_stmt_bind_text(stmt, 3, key);
    cq_stmt_bind_int(stmt, 4, id);
    return cq_stmt_run(stmt, error);
}

static gboolean
insert_rcpt(CqStore *store, gint64 mail, CqQueuedRcpt *row, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store,
        "INSERT INTO mail_rcpt (mail_id, position, kind, address,"
        " display, source) VALUES (?, ?, ?, ?, ?, ?) {returning_id}",
        error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, mail);
    cq_stmt_bind_int(stmt, 2, row->position);
    cq_stmt_bind_text(stmt, 3, row->kind);
    cq_stmt_bind_text(stmt, 4, row->address);
    cq_stmt_bind_text(stmt, 5, row->display);
    cq_stmt_bind_text(stmt, 6, row->source);
    return cq_stmt_insert_id(stmt, &row->id, error);
}

static gboolean
insert_rcpts(CqStore *store, const CqMessage *m, gint64 id, CqQueuedRows *rows,
             GError **error)
{
    for (guint i = 0; i < m->recipients->len; i++) {
        const CqRecipient *r = m->recipients->pdata[i];
        g_autofree char *spec = cq_address_spec(r->address);
        g_autofree char *display = cq_address_display(r->address);
        CqQueuedRcpt row = {
            .position = i + 1,
            .kind = cq_recipient_kind_name(r->kind),
            .address = spec,
            .display = display,
            .source = r->source,
        };
        if (!insert_rcpt(store, id, &row, error))
            return FALSE;
        cq_queued_rows_add_rcpt(rows, &row);
    }
    return TRUE;
}

static gboolean
insert_attachment(CqStore *store, gint64 mail, const CqQueuedAttachment *row,
                  GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store,
        "INSERT INTO mail_attachment (mail_id, position, filename,"
        " content_type, size, sha256, source, source_sha256)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, mail);
    cq_stmt_bind_int(stmt, 2, row->position);
    cq_stmt_bind_text(stmt, 3, row->filename);
    cq_stmt_bind_text(stmt, 4, row->content_type);
    cq_stmt_bind_int(stmt, 5, row->size);
    cq_stmt_bind_text(stmt, 6, row->sha256);
    cq_stmt_bind_text(stmt, 7, row->source);
    cq_stmt_bind_text(stmt, 8, row->source_sha256);
    return cq_stmt_run(stmt, error);
}

static gboolean
insert_attachments(CqStore *store, const CqMessage *m, gint64 id,
                   CqQueuedRows *rows, GError **error)
{
    for (guint i = 0; i < m->attachments->len; i++) {
        const CqAttachment *a = m->attachments->pdata[i];
        CqQueuedAttachment row = {
            .position = i + 1,
            .filename = a->filename,
            .content_type = a->content_type,
            .size = a->size,
            .sha256 = a->sha256 ? a->sha256 : "",
            .source = a->source,
            .source_sha256 = a->source_sha256,
        };
        if (!insert_attachment(store, id, &row, error))
            return FALSE;
        cq_queued_rows_add_attachment(rows, &row);
    }
    return TRUE;
}

static gboolean
insert_outbox(CqStore *store, gint64 id, GError **error)
{
    gint64 now = cq_store_now();
    CqStmt *stmt = cq_store_stmt(
        store,
        "INSERT INTO outbox (mail_id, state, attempts, queued, next_attempt,"
        " updated) VALUES (?, 'queued', 0, ?, ?, ?)",
        error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, id);
    cq_stmt_bind_int(stmt, 2, now);
    cq_stmt_bind_int(stmt, 3, now);
    cq_stmt_bind_int(stmt, 4, now);
    return cq_stmt_run(stmt, error);
}

/* Stores the mail's rows, its message and its outbox row, and appends
 * its "queued" entry, hashed from the values as they were written. */
static gboolean
store_mail(CqSession *session, CqMessage *message, const Raw *raw,
           gboolean is_8bit, gint64 *id, GError **error)
{
    CqStore *store = session->store;
    gint64 record = 0;
    g_autofree char *sha256 = NULL;
    g_autofree char *actor = cq_session_actor(session);
    g_autofree char *from = cq_address_spec(message->from);
    g_autofree char *display = cq_address_display(message->from);
    g_autoptr(CqQueuedRows) rows = cq_queued_rows_new();
    CqQueuedMail row = {
        .message_id = message->message_id,
        .record = message->record,
        .sender = session->login,
        .operator_login = session->operator,
        .envelope_from = from,
        .from_display = display,
        .subject = message->subject,
        .origin = cq_origin_name(message->origin),
        .smtputf8 = cq_message_needs_smtputf8(message),
        .body_8bit = is_8bit,
        .raw_size = raw->sha256 ? (gint64)g_bytes_get_size(raw->bytes) : 0,
        .raw_sha256 = raw->sha256 ? raw->sha256 : "",
        .created = cq_store_now(),
    };

    if ((message->record != NULL &&
         !cq_record_ensure(session, message->record, &record, error)) ||
        !insert_mail(store, &row, record, raw->search, id, error) ||
        !write_raw(store, raw, *id, &row.raw_size, &sha256, error))
        return FALSE;
    if (raw->sha256 == NULL) {
        row.raw_sha256 = sha256;
        if (!finish_mail(store, message, *id, row.raw_size, sha256, error))
            return FALSE;
    }
    cq_queued_rows_add_mail(rows, &row);
    return insert_rcpts(store, message, *id, rows, error) &&
           insert_attachments(store, message, *id, rows, error) &&
           insert_outbox(store, *id, error) &&
           cq_history_append_queued(store, *id, actor, rows, error);
}

static void
log_queued(const CqSession *session, const CqMessage *m, gint64 id)
{
    CqEvent *ev = cq_event_begin(CQ_LOG_INFO, "queued");
    cq_event_addf(ev, "id", "%" G_GINT64_FORMAT, id);
    cq_event_add(ev, "mail", m->message_id);
    cq_event_add(ev, "user", session->login);
    cq_event_add(ev, "record", m->record);
    cq_event_addf(ev, "rcpts", "%u", m->recipients->len);
    cq_event_end(ev);
}

gboolean
cq_outbox_enqueue(CqSession *session, CqMessage *message,
                  const CqMimeOptions *options, gint64 *mail_id, GError **error)
{
    gint64 id = 0;

    if (!cq_session_require(session, CQ_PERM_SEND, "send mail", error))
        return FALSE;
    g_autoptr(CqMime) mime = cq_mime_build(message, options, error);
    Raw raw = {.mime = mime};
    if (mime == NULL || !cq_store_begin(session->store, CQ_TX_WRITE, error))
        return FALSE;
    if (!store_mail(session, message, &raw, options->allow_8bit, &id,
                    error)) {
        cq_store_rollback(session->store);
        return FALSE;
    }
    if (!cq_store_commit(session->store, error))
        return FALSE;
    log_queued(session, message, id);
    if (mail_id != NULL)
        *mail_id = id;
    return TRUE;
}

gboolean
cq_outbox_enqueue_raw(CqSession *session, CqMessage *envelope, GBytes *raw,
                      gint64 *mail_id, GError **error)
{
    gsize len = 0;
    const guchar *data = g_bytes_get_data(raw, &len);
    gboolean is_8bit = FALSE;
    Raw stored = {.bytes = raw};
    gint64 id = 0;

    if (!cq_session_require(session, CQ_PERM_SEND, "send mail", error) ||
        !cq_message_check(envelope, error))
        return FALSE;
    for (gsize i = 0; i < len && !is_8bit; i++)
        is_8bit = data[i] >= 0x80;
    if (!cq_store_begin(session->store, CQ_TX_WRITE, error))
        return FALSE;
    if (!store_mail(session, envelope, &stored, is_8bit, &id, error)) {
        cq_store_rollback(session->store);
        return FALSE;
    }
    if (!cq_store_commit(session->store, error))
        return FALSE;
    log_queued(session, envelope, id);
    if (mail_id != NULL)
        *mail_id = id;
    return TRUE;
}

/* ---- many at once ------------------------------------------------------ */

/* From this many mails on, each of them hashed twice (raw message and
 * history entry), OpenSSL's hash repays its setup. */
#define ENQUEUE_PREPARE_HASH 32

typedef struct {
    CqMessage *message;
    const CqMimeOptions *options;
    GBytes *bytes;  /* composed, or NULL */
    char *sha256;   /* of @bytes */
    char *search;   /* the mail's search key */
    GError *error;  /* why it could not be composed */
    gboolean done;
} Job;

typedef struct {
    GMutex lock;
    GCond cond;
} Board;

typedef struct {
    Job *job;
    Board *board;
} Task;

static void
compose_job(gpointer data, gpointer user_data)
{
    Task *task = data;
    Job *job = task->job;
    GError *error = NULL;
    GBytes *bytes = cq_mime_compose_simple(job->message, job->options,
                                           &error);
    char *sha256 = NULL, *search = NULL;

    if (bytes == NULL && error == NULL) {
        g_autoptr(CqMime) mime = cq_mime_build(job->message, job->options,
                                               &error);
        bytes = mime ? cq_mime_to_bytes(mime, &error) : NULL;
    }

    /* What the writer would otherwise work out while it holds the
     * store's write transaction. */
    if (bytes != NULL) {
        gsize len = 0;
        const void *raw = g_bytes_get_data(bytes, &len);
        sha256 = cq_sha256_of(raw, len);
        search = search_key(job->message);
    }
    g_mutex_lock(&task->board->lock);
    job->bytes = bytes;
    job->sha256 = sha256;
    job->search = search;
    job->error = error;
    job->done = TRUE;
    g_cond_broadcast(&task->board->cond);
    g_mutex_unlock(&task->board->lock);
    g_free(task);
}

static void
wait_job(Board *board, Job *job)
{
    g_mutex_lock(&board->lock);
    while (!job->done)
        g_cond_wait(&board->cond, &board->lock);
    g_mutex_unlock(&board->lock);
}

/* Stores message @i: composed by the pool, or composed here while it is
 * written when it has attachments (those are streamed, never held). */
static gboolean
store_one(CqSession *session, Board *board, Job *job,
          const CqMimeOptions *options, gint64 *id, GError **error)
{
    g_autoptr(CqMime) mime = NULL;
    Raw raw = {0};

    if (job->message->attachments->len > 0) {
        mime = cq_mime_build(job->message, options, error);
        if (mime == NULL)
            return FALSE;
        raw.mime = mime;
    } else {
        wait_job(board, job);
        if (job->error != NULL) {
            g_propagate_error(error, g_steal_pointer(&job->error));
            return FALSE;
        }
        raw.bytes = job->bytes;
        raw.sha256 = job->sha256;
        raw.search = job->search;
    }
    if (!store_mail(session, job->message, &raw, options->allow_8bit, id,
                    error))
        return FALSE;
    log_queued(session, job->message, *id);
    return TRUE;
}

static gboolean
store_all(CqSession *session, Board *board, Job *jobs, guint n,
          const CqMimeOptions *options, gint64 *mail_ids, GError **error)
{
    for (guint i = 0; i < n; i++) {
        gint64 id = 0;
        if (!store_one(session, board, &jobs[i], options, &id, error)) {
            g_prefix_error(error, "message %u of %u: ", i + 1, n);
            return FALSE;
        }
        if (mail_ids != NULL)
            mail_ids[i] = id;
    }
    return TRUE;
}

static GThreadPool *
start_pool(Board *board, Job *jobs, guint n)
{
    GThreadPool *pool = g_thread_pool_new(
        compose_job, NULL, (gint)MAX(g_get_num_processors(), 1), FALSE, NULL);

    for (guint i = 0; i < n; i++) {
        if (jobs[i].message->attachments->len > 0)
            continue;
        Task *task = g_new0(Task, 1);
        task->job = &jobs[i];
        task->board = board;
        g_thread_pool_push(pool, task, NULL);
    }
    return pool;
}

gboolean
cq_outbox_enqueue_many(CqSession *session, CqMessage **messages, guint n,
                       const CqMimeOptions *options, gint64 *mail_ids,
                       GError **error)
{
    Board board;
    g_autofree Job *jobs = g_new0(Job, n);

    if (!cq_session_require(session, CQ_PERM_SEND, "send mail", error))
        return FALSE;
    cq_mime_init();
    if (n >= ENQUEUE_PREPARE_HASH)
        cq_sha256_prepare();
    for (guint i = 0; i < n; i++) {
        jobs[i].message = messages[i];
        jobs[i].options = options;
    }
    g_mutex_init(&board.lock);
    g_cond_init(&board.cond);
    GThreadPool *pool = start_pool(&board, jobs, n);

    gboolean ok = cq_store_begin(session->store, CQ_TX_WRITE, error);
    if (ok && !store_all(session, &board, jobs, n, options, mail_ids, error)) {
        cq_store_rollback(session->store);
        ok = FALSE;
    }
    g_thread_pool_free(pool, FALSE, TRUE); /* every job runs, then ends */
    if (ok)
        ok = cq_store_commit(session->store, error);
    for (guint i = 0; i < n; i++) {
        g_clear_pointer(&jobs[i].bytes, g_bytes_unref);
        g_free(jobs[i].sha256);
        g_free(jobs[i].search);
        g_clear_error(&jobs[i].error);
    }
    g_cond_clear(&board.cond);
    g_mutex_clear(&board.lock);
    return ok;
}
