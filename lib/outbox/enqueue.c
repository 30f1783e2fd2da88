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

static gboolean
insert_mail(CqSession *session, const CqMessage *m, const Raw *raw,
            gboolean is_8bit, gint64 record, gint64 *id, GError **error)
{
    g_autofree char *from = cq_address_spec(m->from);
    g_autofree char *display = cq_address_display(m->from);
    CqStmt *stmt = cq_store_stmt(
        session->store,
        "INSERT INTO mail (message_id, record_id, sender, operator,"
        " envelope_from, from_display, subject, origin, smtputf8, body_8bit,"
        " created, raw_size, raw_sha256, search)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " RETURNING id",
        error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, m->message_id);
    if (record != 0)
        cq_stmt_bind_int(stmt, 2, record);
    else
        cq_stmt_bind_null(stmt, 2);
    cq_stmt_bind_text(stmt, 3, session->login);
    cq_stmt_bind_text(stmt, 4, session->operator);
    cq_stmt_bind_text(stmt, 5, from);
    cq_stmt_bind_text(stmt, 6, display);
    cq_stmt_bind_text(stmt, 7, m->subject);
    cq_stmt_bind_text(stmt, 8, cq_origin_name(m->origin));
    cq_stmt_bind_int(stmt, 9, cq_message_needs_smtputf8(m));
    cq_stmt_bind_int(stmt, 10, is_8bit);
    cq_stmt_bind_int(stmt, 11, cq_store_now());
    /* Known now, or set by finish_mail() once the message is written. */
    cq_stmt_bind_int(stmt, 12,
                     raw->sha256 ? (gint64)g_bytes_get_size(raw->bytes) : 0);
    cq_stmt_bind_text(stmt, 13, raw->sha256 ? raw->sha256 : "");
    cq_stmt_bind_text(stmt, 14, raw->search ? raw->search : "");
    return cq_stmt_int_result(stmt, 0, id, error);
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
insert_rcpts(CqStore *store, const CqMessage *m, gint64 id, GError **error)
{
    for (guint i = 0; i < m->recipients->len; i++) {
        const CqRecipient *r = m->recipients->pdata[i];
        g_autofree char *spec = cq_address_spec(r->address);
        g_autofree char *display = cq_address_display(r->address);
        CqStmt *stmt = cq_store_stmt(
            store,
            "INSERT INTO mail_rcpt (mail_id, position, kind, address,"
            " display, source) VALUES (?, ?, ?, ?, ?, ?)",
            error);
        if (stmt == NULL)
            return FALSE;
        cq_stmt_bind_int(stmt, 1, id);
        cq_stmt_bind_int(stmt, 2, i + 1);
        cq_stmt_bind_text(stmt, 3, cq_recipient_kind_name(r->kind));
        cq_stmt_bind_text(stmt, 4, spec);
        cq_stmt_bind_text(stmt, 5, display);
        cq_stmt_bind_text(stmt, 6, r->source);
        if (!cq_stmt_run(stmt, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
insert_attachments(CqStore *store, const CqMessage *m, gint64 id,
                   GError **error)
{
    for (guint i = 0; i < m->attachments->len; i++) {
        const CqAttachment *a = m->attachments->pdata[i];
        CqStmt *stmt = cq_store_stmt(
            store,
            "INSERT INTO mail_attachment (mail_id, position, filename,"
            " content_type, size, sha256, source, source_sha256)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            error);
        if (stmt == NULL)
            return FALSE;
        cq_stmt_bind_int(stmt, 1, id);
        cq_stmt_bind_int(stmt, 2, i + 1);
        cq_stmt_bind_text(stmt, 3, a->filename);
        cq_stmt_bind_text(stmt, 4, a->content_type);
        cq_stmt_bind_int(stmt, 5, a->size);
        cq_stmt_bind_text(stmt, 6, a->sha256 ? a->sha256 : "");
        cq_stmt_bind_text(stmt, 7, a->source);
        cq_stmt_bind_text(stmt, 8, a->source_sha256);
        if (!cq_stmt_run(stmt, error))
            return FALSE;
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

static gboolean
store_mail(CqSession *session, CqMessage *message, const Raw *raw,
           gboolean is_8bit, gint64 *id, GError **error)
{
    CqStore *store = session->store;
    gint64 record = 0, size = 0;
    g_autofree char *sha256 = NULL;
    g_autofree char *actor = cq_session_actor(session);

    return (message->record == NULL ||
            cq_record_ensure(session, message->record, &record, error)) &&
           insert_mail(session, message, raw, is_8bit, record, id, error) &&
           write_raw(store, raw, *id, &size, &sha256, error) &&
           (raw->sha256 != NULL ||
            finish_mail(store, message, *id, size, sha256, error)) &&
           insert_rcpts(store, message, *id, error) &&
           insert_attachments(store, message, *id, error) &&
           insert_outbox(store, *id, error) &&
           cq_history_append(store, "queued", *id, actor, "", error);
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
