/* The delivery worker: claim due mail with a lease, hand it to the
 * transport, record every recipient's result. */
#include "outbox/outbox.h"

#include "common/error.h"
#include "common/event.h"
#include "history/history.h"
#include "store/chunks.h"
#include "tls/digest.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USEC G_USEC_PER_SEC

static const char *const states[] = {
    "queued", "sending",   "sent",      "partly-sent", "deferred",
    "failed", "uncertain", "cancelled", NULL,
};

const char *const *
cq_outbox_states(void)
{
    return states;
}

CqDeliverOptions
cq_deliver_options_from_config(const CqConfig *config)
{
    CqDeliverOptions o = {
        .lease = config->outbox.lease,
        .retry_base = config->outbox.retry_base,
        .retry_max = config->outbox.retry_max,
        .max_age = config->outbox.max_age,
        .batch = (guint)config->outbox.batch,
    };
    return o;
}

CqDeliverOptions
cq_deliver_options_default(void)
{
    CqDeliverOptions o = {
        .lease = 300,
        .retry_base = 60,
        .retry_max = 3600,
        .max_age = 5 * 86400,
        .batch = 100,
    };
    return o;
}

/* "host:pid:n", unique among the workers that share a database. */
static char *
worker_name(void)
{
    static gint counter;
    return g_strdup_printf("%s:%d:%d", g_get_host_name(), (int)getpid(),
                           g_atomic_int_add(&counter, 1));
}

/* A worker of this host whose process is gone. */
static gboolean
owner_is_dead(const char *owner)
{
    g_auto(GStrv) parts = g_strsplit(owner, ":", 3);
    gint64 pid = 0;

    if (g_strv_length(parts) != 3 || strcmp(parts[0], g_get_host_name()) != 0 ||
        !g_ascii_string_to_signed(parts[1], 10, 1, G_MAXINT, &pid, NULL))
        return FALSE;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static gboolean
expire_dead_owners(CqStore *store, GError **error)
{
    g_autoptr(GPtrArray) dead = g_ptr_array_new_with_free_func(g_free);
    CqStmt *stmt = cq_store_stmt(
        store,
        "SELECT DISTINCT lease_owner FROM outbox WHERE state = 'sending'",
        error);
    if (stmt == NULL)
        return FALSE;
    while (cq_stmt_step(stmt, NULL) == CQ_STEP_ROW) {
        const char *owner = cq_stmt_text(stmt, 0);
        if (owner != NULL && owner_is_dead(owner))
            g_ptr_array_add(dead, g_strdup(owner));
    }
    cq_stmt_reset(stmt);
    for (guint i = 0; i < dead->len; i++) {
        stmt = cq_store_stmt(store,
                             "UPDATE outbox SET lease_until = 0"
                             " WHERE state = 'sending' AND lease_owner = ?",
                             error);
        if (stmt == NULL)
            return FALSE;
        cq_stmt_bind_text(stmt, 1, dead->pdata[i]);
        if (!cq_stmt_run(stmt, error))
            return FALSE;
    }
    return TRUE;
}

/* Claims whose lease ran out go back to the queue, with an entry that
 * says so: the mail may have gone out already.  Rows another worker is
 * busy with are left to it. */
static gboolean
take_over_expired(CqStore *store, const char *worker, guint *count,
                  GError **error)
{
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    gint64 now = cq_store_now();
    CqStmt *stmt = cq_store_stmt(
        store,
        "UPDATE outbox SET state = 'queued', next_attempt = ?,"
        " lease_owner = NULL, lease_until = NULL, updated = ?"
        " WHERE mail_id IN (SELECT mail_id FROM outbox"
        " WHERE state = 'sending' AND lease_until < ? {skip_locked})"
        " RETURNING mail_id",
        error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, now);
    cq_stmt_bind_int(stmt, 2, now);
    cq_stmt_bind_int(stmt, 3, now);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        gint64 id = cq_stmt_int(stmt, 0);
        g_array_append_val(ids, id);
    }
    cq_stmt_reset(stmt);
    if (step != CQ_STEP_DONE)
        return FALSE;
    for (guint i = 0; i < ids->len; i++) {
        if (!cq_history_append(store, "takeover", g_array_index(ids, gint64, i),
                               worker,
                               "the claim of a worker ran out; the mail "
                               "may have been sent already",
                               error))
            return FALSE;
    }
    *count += ids->len;
    return TRUE;
}

static gboolean
reclaim(CqStore *store, const char *worker, CqDeliverStats *stats,
        GError **error)
{
    if (!cq_store_begin(store, CQ_TX_WRITE, error))
        return FALSE;
    if (!expire_dead_owners(store, error) ||
        !take_over_expired(store, worker, &stats->taken_over, error)) {
        cq_store_rollback(store);
        return FALSE;
    }
    return cq_store_commit(store, error);
}

static GArray *
claim(CqStore *store, const char *worker, const CqDeliverOptions *o,
      GError **error)
{
    gint64 now = cq_store_now();
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    CqStmt *stmt = cq_store_stmt(
        store,
        "UPDATE outbox SET state = 'sending', lease_owner = ?,"
        " lease_until = ?, attempts = attempts + 1, updated = ?"
        " WHERE mail_id IN (SELECT mail_id FROM outbox"
        " WHERE state IN ('queued', 'deferred') AND next_attempt <= ?"
        " AND (? = 0 OR mail_id = ?)"
        " ORDER BY next_attempt, mail_id LIMIT ? {skip_locked})"
        " RETURNING mail_id",
        error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt != NULL) {
        cq_stmt_bind_text(stmt, 1, worker);
        cq_stmt_bind_int(stmt, 2, now + o->lease * USEC);
        cq_stmt_bind_int(stmt, 3, now);
        cq_stmt_bind_int(stmt, 4, now);
        cq_stmt_bind_int(stmt, 5, o->only_mail);
        cq_stmt_bind_int(stmt, 6, o->only_mail);
        cq_stmt_bind_int(stmt, 7, MAX(o->batch, 1u));
        while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
            gint64 id = cq_stmt_int(stmt, 0);
            g_array_append_val(ids, id);
        }
        cq_stmt_reset(stmt);
    }
    if (step != CQ_STEP_DONE)
        g_clear_pointer(&ids, g_array_unref);
    return ids;
}

/* A claim lost in a power failure is simply made again, so its commit
 * need not wait for the disk. */
static GArray *
claim_batch(CqStore *store, const char *worker, const CqDeliverOptions *o,
            GError **error)
{
    if (!cq_store_begin_relaxed(store, error))
        return NULL;
    GArray *ids = claim(store, worker, o, error);
    if (ids == NULL) {
        cq_store_rollback(store);
        return NULL;
    }
    if (!cq_store_commit(store, error))
        g_clear_pointer(&ids, g_array_unref);
    return ids;
}

/* Messages up to this size are read into memory with the rest of their
 * batch; larger ones are streamed from the store while they are sent. */
#define MAX_PRELOAD (1024 * 1024)

static void
rcpt_clear(gpointer data)
{
    CqTransportRcpt *r = data;
    g_free(r->address);
    g_free(r->reply);
}

static void
mail_free(CqTransportMail *m)
{
    g_free(m->envelope_from);
    g_clear_object(&m->raw);
    g_array_unref(m->rcpts);
    g_free(m);
}

/* The recipients whose last result is neither accepted nor rejected. */
static gboolean
load_pending(CqStore *store, CqTransportMail *m, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store,
        "SELECT r.id, r.address FROM mail_rcpt r WHERE r.mail_id = ?"
        " AND COALESCE((SELECT d.status FROM delivery_result d"
        " WHERE d.rcpt_id = r.id ORDER BY d.id DESC LIMIT 1), 'pending')"
        " NOT IN ('accepted', 'rejected') ORDER BY r.position",
        error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, m->mail_id);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        CqTransportRcpt r = {
            .rcpt_id = cq_stmt_int(stmt, 0),
            .address = cq_stmt_dup(stmt, 1),
        };
        g_array_append_val(m->rcpts, r);
    }
    cq_stmt_reset(stmt);
    return step == CQ_STEP_DONE;
}

/* Reads a small message into memory while the batch's read transaction
 * is open, so that sending it costs the store nothing more. */
static gboolean
preload(CqTransportMail *m, GError **error)
{
    g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();

    if (g_mime_stream_write_to_stream(m->raw, mem) != m->size) {
        const GError *why = cq_chunk_reader_error(m->raw);
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO,
                    "mail %" G_GINT64_FORMAT ": its stored message is "
                    "incomplete%s%s",
                    m->mail_id, why ? ": " : "", why ? why->message : "");
        return FALSE;
    }
    g_mime_stream_reset(mem);
    g_object_unref(m->raw);
    m->raw = g_steal_pointer(&mem);
    return TRUE;
}

static CqTransportMail *
load_mail(CqStore *store, gint64 id, GError **error)
{
    CqTransportMail *m = g_new0(CqTransportMail, 1);
    CqStmt *stmt = cq_store_stmt(
        store,
        "SELECT envelope_from, smtputf8, raw_size, body_8bit FROM mail"
        " WHERE id = ?",
        error);

    m->mail_id = id;
    m->rcpts = g_array_new(FALSE, TRUE, sizeof(CqTransportRcpt));
    g_array_set_clear_func(m->rcpts, rcpt_clear);
    if (stmt == NULL)
        goto fail;
    cq_stmt_bind_int(stmt, 1, id);
    if (cq_stmt_step(stmt, error) != CQ_STEP_ROW) {
        cq_stmt_reset(stmt);
        goto fail;
    }
    m->envelope_from = cq_stmt_dup(stmt, 0);
    m->smtputf8 = cq_stmt_int(stmt, 1) != 0;
    m->size = cq_stmt_int(stmt, 2);
    m->is_8bit = cq_stmt_int(stmt, 3) != 0;
    cq_stmt_reset(stmt);
    if (!load_pending(store, m, error))
        goto fail;
    m->raw = cq_chunk_reader_new(store, id);
    cq_chunk_reader_set_length(m->raw, m->size);
    if (m->size <= MAX_PRELOAD && !preload(m, error))
        goto fail;
    return m;

fail:
    mail_free(m);
    return NULL;
}

static CqOutcome
outcome_of_error(const GError *error)
{
    if (g_error_matches(error, CQ_ERROR, CQ_ERROR_PERMFAIL))
        return CQ_OUTCOME_REJECTED;
    return CQ_OUTCOME_DEFERRED;
}

static void
transmit(CqTransport *transport, GPtrArray *mails)
{
    g_autoptr(GError) error = NULL;

    gboolean ok = transport->klass->deliver(
        transport, (CqTransportMail **)mails->pdata, mails->len, &error);
    if (ok || error == NULL) {
        g_clear_error(&error);
        error = g_error_new_literal(CQ_ERROR, CQ_ERROR_TEMPFAIL,
                                    "the transport gave no result");
    }
    for (guint i = 0; i < mails->len; i++)
        cq_transport_mail_set_all(mails->pdata[i], outcome_of_error(error), 0,
                                  error->message);
}

static const char *
outcome_name(CqOutcome outcome)
{
    switch (outcome) {
    case CQ_OUTCOME_ACCEPTED:
        return "accepted";
    case CQ_OUTCOME_REJECTED:
        return "rejected";
    case CQ_OUTCOME_UNCERTAIN:
        return "uncertain";
    case CQ_OUTCOME_DEFERRED:
    case CQ_OUTCOME_NONE:
        break;
    }
    return "deferred";
}

typedef struct {
    guint accepted, rejected, deferred, uncertain;
    gint64 queued, attempts;
    const char *state;
    gint64 next;
    char *last_error;
} Tally;

/* Counts the recipients already done in earlier attempts, and locks the
 * mail's outbox row until the results are committed. */
static gboolean
tally_prior(CqStore *store, gint64 mail, Tally *t, GError **error)
{
    CqStmt *stmt =
        cq_store_stmt(store,
                      "SELECT (SELECT d.status FROM delivery_result d"
                      " WHERE d.rcpt_id = r.id ORDER BY d.id DESC LIMIT 1)"
                      " FROM mail_rcpt r WHERE r.mail_id = ?",
                      error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, mail);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        const char *status = cq_stmt_text(stmt, 0);
        t->accepted += g_strcmp0(status, "accepted") == 0;
        t->rejected += g_strcmp0(status, "rejected") == 0;
    }
    cq_stmt_reset(stmt);
    if (step != CQ_STEP_DONE)
        return FALSE;
    stmt = cq_store_stmt(
        store,
        "SELECT queued, attempts FROM outbox WHERE mail_id = ? {for_update}",
        error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, mail);
    step = cq_stmt_step(stmt, error);
    if (step == CQ_STEP_ROW) {
        t->queued = cq_stmt_int(stmt, 0);
        t->attempts = cq_stmt_int(stmt, 1);
    }
    cq_stmt_reset(stmt);
    return step == CQ_STEP_ROW;
}

static gint64
backoff(const CqDeliverOptions *o, gint64 attempts)
{
    gint64 wait = MAX(o->retry_base, 1);
    for (gint64 i = 1; i < attempts && wait < o->retry_max; i++)
        wait *= 2;
    return MIN(wait, MAX(o->retry_max, 1));
}

/* Temporary failures past the maximum age become permanent. */
static void
give_up_old(CqTransportMail *m, const CqDeliverOptions *o, gint64 now,
            gint64 queued)
{
    if (now - queued < o->max_age * USEC)
        return;
    for (guint i = 0; i < m->rcpts->len; i++) {
        CqTransportRcpt *r = &g_array_index(m->rcpts, CqTransportRcpt, i);
        if (r->outcome != CQ_OUTCOME_DEFERRED)
            continue;
        g_autofree char *reply =
            g_strdup_printf("gave up after %" G_GINT64_FORMAT "s: %s",
                            o->max_age, r->reply ? r->reply : "");
        cq_transport_rcpt_set(r, CQ_OUTCOME_REJECTED, r->code, reply);
    }
}

static void
tally_attempt(const CqTransportMail *m, const CqDeliverOptions *o, gint64 now,
              Tally *t)
{
    for (guint i = 0; i < m->rcpts->len; i++) {
        const CqTransportRcpt *r = &g_array_index(m->rcpts, CqTransportRcpt, i);
        t->accepted += r->outcome == CQ_OUTCOME_ACCEPTED;
        t->rejected += r->outcome == CQ_OUTCOME_REJECTED;
        t->deferred += r->outcome == CQ_OUTCOME_DEFERRED;
        t->uncertain += r->outcome == CQ_OUTCOME_UNCERTAIN;
        if (r->outcome != CQ_OUTCOME_ACCEPTED && t->last_error == NULL)
            t->last_error = g_strdup_printf("<%s>: %s", r->address,
                                            r->reply ? r->reply : "");
    }
    if (t->uncertain > 0)
        t->state = "uncertain";
    else if (t->deferred > 0)
        t->state = "deferred";
    else if (t->rejected == 0)
        t->state = "sent";
    else if (t->accepted > 0)
        t->state = "partly-sent";
    else
        t->state = "failed";
    t->next = now;
    if (t->deferred > 0 && t->uncertain == 0)
        t->next = now + backoff(o, t->attempts) * USEC;
}

static gboolean
write_results(CqStore *store, const CqTransportMail *m, const char *worker,
              const Tally *t, GError **error)
{
    g_autofree char *detail = g_strdup_printf(
        "state=%s attempt=%" G_GINT64_FORMAT
        " accepted=%u rejected=%u deferred=%u uncertain=%u%s",
        t->state, t->attempts, t->accepted, t->rejected, t->deferred,
        t->uncertain, m->downgraded ? " downgraded=7bit" : "");

    g_autofree CqHistoryResult *results =
        g_new(CqHistoryResult, MAX(m->rcpts->len, 1));
    for (guint i = 0; i < m->rcpts->len; i++) {
        const CqTransportRcpt *r = &g_array_index(m->rcpts, CqTransportRcpt, i);
        results[i] = (CqHistoryResult){.rcpt_id = r->rcpt_id,
                                       .status = outcome_name(r->outcome),
                                       .code = r->code,
                                       .reply = r->reply};
    }
    return cq_history_append_results(store, "attempt", m->mail_id, worker,
                                     detail, results, m->rcpts->len, NULL,
                                     error);
}

static gboolean
update_outbox(CqStore *store, gint64 mail, const Tally *t, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store,
        "UPDATE outbox SET state = ?, next_attempt = ?, last_error = ?,"
        " lease_owner = NULL, lease_until = NULL, updated = ?"
        " WHERE mail_id = ?",
        error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, t->state);
    cq_stmt_bind_int(stmt, 2, t->next);
    cq_stmt_bind_text(stmt, 3, t->last_error);
    cq_stmt_bind_int(stmt, 4, cq_store_now());
    cq_stmt_bind_int(stmt, 5, mail);
    return cq_stmt_run(stmt, error);
}

static void
count_state(CqDeliverStats *stats, const char *state)
{
    if (strcmp(state, "sent") == 0)
        stats->sent++;
    else if (strcmp(state, "partly-sent") == 0)
        stats->partly_sent++;
    else if (strcmp(state, "deferred") == 0)
        stats->deferred++;
    else if (strcmp(state, "failed") == 0)
        stats->failed++;
    else
        stats->uncertain++;
}

static void
log_result(const CqTransportMail *m, const Tally *t)
{
    gboolean final = strcmp(t->state, "deferred") != 0;
    CqEvent *ev = cq_event_begin(final ? CQ_LOG_NOTICE : CQ_LOG_INFO, t->state);
    cq_event_addf(ev, "id", "%" G_GINT64_FORMAT, m->mail_id);
    cq_event_add(ev, "from", m->envelope_from);
    cq_event_addf(ev, "attempt", "%" G_GINT64_FORMAT, t->attempts);
    cq_event_addf(ev, "accepted", "%u", t->accepted);
    cq_event_addf(ev, "rejected", "%u", t->rejected);
    cq_event_addf(ev, "deferred", "%u", t->deferred);
    cq_event_addf(ev, "size", "%" G_GINT64_FORMAT, m->size);
    if (t->last_error != NULL)
        cq_event_add(ev, "error", t->last_error);
    cq_event_end(ev);
}

static gboolean
record_mail(CqStore *store, CqTransportMail *m, Tally *t, const char *worker,
            const CqDeliverOptions *o, CqDeliverStats *stats, GError **error)
{
    gint64 now = cq_store_now();

    give_up_old(m, o, now, t->queued);
    tally_attempt(m, o, now, t);
    if (!write_results(store, m, worker, t, error) ||
        !update_outbox(store, m->mail_id, t, error))
        return FALSE;
    count_state(stats, t->state);
    log_result(m, t);
    return TRUE;
}

/* Commits the results of a whole batch at once.  The commit need not
 * wait for the disk: it survives a crash of the process, and what a power
 * failure takes is only that these mails went out; they are then claimed
 * and sent once more, like any mail in flight.  Every outbox row of the
 * batch is locked before the history's head: the order all writers keep,
 * so that none waits for another that waits for it. */
static gboolean
record_batch(CqStore *store, GPtrArray *mails, const char *worker,
             const CqDeliverOptions *o, CqDeliverStats *stats, GError **error)
{
    CqDeliverStats before = *stats;
    g_autofree Tally *tallies = g_new0(Tally, mails->len);
    gboolean ok = cq_store_begin_relaxed(store, error);
    gboolean begun = ok;

    for (guint i = 0; ok && i < mails->len; i++) {
        const CqTransportMail *m = mails->pdata[i];
        ok = tally_prior(store, m->mail_id, &tallies[i], error);
    }
    for (guint i = 0; ok && i < mails->len; i++)
        ok = record_mail(store, mails->pdata[i], &tallies[i], worker, o, stats,
                         error);
    for (guint i = 0; i < mails->len; i++)
        g_free(tallies[i].last_error);
    if (ok)
        ok = cq_store_commit(store, error);
    else if (begun)
        cq_store_rollback(store);
    if (!ok)
        *stats = before;
    return ok;
}

/* A batch that lost a deadlock or waited too long for a lock is
 * recorded again: the mails went out, their results must not be lost. */
static gboolean
record_batch_retrying(CqStore *store, GPtrArray *mails, const char *worker,
                      const CqDeliverOptions *o, CqDeliverStats *stats,
                      GError **error)
{
    for (guint attempt = 1;; attempt++) {
        g_autoptr(GError) local = NULL;
        if (record_batch(store, mails, worker, o, stats, &local))
            return TRUE;
        if (attempt == 5 ||
            !g_error_matches(local, CQ_ERROR, CQ_ERROR_TEMPFAIL)) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        CqEvent *ev = cq_event_begin(CQ_LOG_WARNING, "record-again");
        cq_event_addf(ev, "mails", "%u", mails->len);
        cq_event_add_error(ev, local);
        cq_event_end(ev);
    }
}

/* Loads the claimed mails in one read transaction: one snapshot, and no
 * lock taken and released for every statement. */
static gboolean
load_batch(CqStore *store, GArray *ids, GPtrArray *mails, GError **error)
{
    if (!cq_store_begin(store, CQ_TX_READ, error))
        return FALSE;
    for (guint i = 0; i < ids->len; i++) {
        CqTransportMail *m =
            load_mail(store, g_array_index(ids, gint64, i), error);
        if (m == NULL) {
            cq_store_end_read(store);
            return FALSE;
        }
        g_ptr_array_add(mails, m);
    }
    cq_store_end_read(store);
    return TRUE;
}

/* A claimed batch on its way: loaded, sent, then recorded. */
typedef struct {
    GPtrArray *mails; /* of CqTransportMail */
    gboolean streams; /* a message is read from the store while sent */
} Batch;

static void
batch_free(Batch *batch)
{
    if (batch == NULL)
        return;
    g_ptr_array_unref(batch->mails);
    g_free(batch);
}

static Batch *
batch_load(CqStore *store, GArray *ids, GError **error)
{
    Batch *batch = g_new0(Batch, 1);

    batch->mails = g_ptr_array_new_with_free_func((GDestroyNotify)mail_free);
    if (!load_batch(store, ids, batch->mails, error)) {
        batch_free(batch);
        return NULL;
    }
    for (guint i = 0; i < batch->mails->len; i++) {
        const CqTransportMail *m = batch->mails->pdata[i];
        batch->streams |= !GMIME_IS_STREAM_MEM(m->raw);
    }
    return batch;
}

/* The sending threads: they alone talk to the transport, so that the
 * store is read and written for the next and the previous batches while
 * these are on the wire; one thread for each batch the transport takes
 * at once (parallel SMTP connections).  Messages they send are all in
 * memory; a batch that streams from the store is sent by the store's own
 * thread.  Without threads (a single mail, where there is nothing to
 * overlap) every batch is sent by the store's thread. */
typedef struct {
    CqTransport *transport;
    GAsyncQueue *todo; /* Batch to send */
    GAsyncQueue *done; /* Batch sent */
    GPtrArray *threads;
    guint in_flight; /* batches given to the threads, not yet recorded */
} Sender;

/* Pushed to end the sending thread. */
static Batch end_of_work;

static gpointer
sender_main(gpointer data)
{
    Sender *sender = data;

    for (;;) {
        Batch *batch = g_async_queue_pop(sender->todo);
        if (batch == &end_of_work)
            return NULL;
        transmit(sender->transport, batch->mails);
        g_async_queue_push(sender->done, batch);
    }
}

static void
sender_start(Sender *sender, CqTransport *transport, guint n)
{
    sender->transport = transport;
    sender->todo = g_async_queue_new();
    sender->done = g_async_queue_new();
    sender->threads = g_ptr_array_new();
    for (guint i = 0; i < n; i++)
        g_ptr_array_add(sender->threads,
                        g_thread_new("caqmail-send", sender_main, sender));
}

/* Waits for the batches still on their way and ends the threads; their
 * mails stay claimed, and their leases bring them back. */
static void
sender_stop(Sender *sender)
{
    for (guint i = 0; i < sender->threads->len; i++)
        g_async_queue_push(sender->todo, &end_of_work);
    for (guint i = 0; i < sender->threads->len; i++)
        g_thread_join(sender->threads->pdata[i]);
    g_ptr_array_unref(sender->threads);
    while (sender->in_flight > 0) {
        batch_free(g_async_queue_pop(sender->done));
        sender->in_flight--;
    }
    g_async_queue_unref(sender->todo);
    g_async_queue_unref(sender->done);
}

static gboolean
record_next(Sender *sender, CqSession *session, const char *worker,
            const CqDeliverOptions *o, CqDeliverStats *stats,
            CqDeliverProgress progress, gpointer data, GError **error)
{
    Batch *batch = g_async_queue_pop(sender->done);
    sender->in_flight--;
    gboolean ok = record_batch_retrying(session->store, batch->mails, worker, o,
                                        stats, error);
    batch_free(batch);
    if (ok && progress != NULL)
        progress(stats, data);
    return ok;
}

/* Sends a batch that streams from the store in this thread, after the
 * batches before it are recorded. */
static gboolean
deliver_streaming(Sender *sender, CqSession *session, Batch *batch,
                  const char *worker, const CqDeliverOptions *o,
                  CqDeliverStats *stats, CqDeliverProgress progress,
                  gpointer data, GError **error)
{
    while (sender->in_flight > 0) {
        if (!record_next(sender, session, worker, o, stats, progress, data,
                         error))
            return FALSE;
    }
    transmit(sender->transport, batch->mails);
    g_async_queue_push(sender->done, batch);
    sender->in_flight++;
    return record_next(sender, session, worker, o, stats, progress, data,
                       error);
}

static gint
compare_ids(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return x < y ? -1 : x > y;
}

/* Claims and loads the next batch; NULL with no error when none is due. */
static Batch *
next_batch(CqSession *session, const char *worker, const CqDeliverOptions *o,
           GError **error)
{
    g_autoptr(GArray) ids = claim_batch(session->store, worker, o, error);

    if (ids == NULL || ids->len == 0)
        return NULL;
    g_array_sort(ids, compare_ids);
    return batch_load(session->store, ids, error);
}

/* Keeps one batch more on its way than there are sending threads:
 * while they have theirs on the wire, the next is claimed and loaded,
 * and the ones before are recorded.  Results are recorded in the order
 * the batches finish. */
static gboolean
deliver_all(CqSession *session, Sender *sender, const char *worker,
            const CqDeliverOptions *o, CqDeliverStats *stats,
            CqDeliverProgress progress, gpointer data, GError **error)
{
    gboolean more = TRUE;

    for (;;) {
        if (more && sender->in_flight <= sender->threads->len) {
            Batch *batch = next_batch(session, worker, o, error);
            if (batch == NULL && error && *error)
                return FALSE;
            more = batch != NULL;
            if (batch != NULL)
                stats->claimed += batch->mails->len;
            if (batch != NULL &&
                (batch->streams || sender->threads->len == 0)) {
                if (!deliver_streaming(sender, session, batch, worker, o, stats,
                                       progress, data, error))
                    return FALSE;
            } else if (batch != NULL) {
                g_async_queue_push(sender->todo, batch);
                sender->in_flight++;
            }
            continue;
        }
        if (sender->in_flight == 0)
            return TRUE;
        if (!record_next(sender, session, worker, o, stats, progress, data,
                         error))
            return FALSE;
    }
}

static gboolean
check_own_mail(CqSession *session, gint64 id, GError **error)
{
    gint64 mine = 0;
    CqStmt *stmt = cq_store_stmt(
        session->store, "SELECT COUNT(*) FROM mail WHERE id = ? AND sender = ?",
        error);

    if (!cq_session_require(session, CQ_PERM_SEND, "send mail", error) ||
        stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, id);
    cq_stmt_bind_text(stmt, 2, session->login);
    if (!cq_stmt_int_result(stmt, 0, &mine, error))
        return FALSE;
    if (mine > 0 || cq_session_may(session, CQ_PERM_ADMIN))
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                "mail %" G_GINT64_FORMAT " does not exist", id);
    return FALSE;
}

gboolean
cq_outbox_deliver(CqSession *session, CqTransport *transport,
                  const CqDeliverOptions *options, CqDeliverStats *stats,
                  CqDeliverProgress progress, gpointer data, GError **error)
{
    g_autofree char *worker = worker_name();

    memset(stats, 0, sizeof *stats);
    if (options->only_mail != 0
            ? !check_own_mail(session, options->only_mail, error)
            : !cq_session_require(session, CQ_PERM_ADMIN, "deliver the outbox",
                                  error))
        return FALSE;
    if (options->only_mail == 0 &&
        !reclaim(session->store, worker, stats, error))
        return FALSE;
    if (options->only_mail == 0)
        cq_sha256_prepare(); /* a pass hashes a history entry a mail */

    Sender sender = {0};
    GError *local = NULL;
    /* One mail has nothing to overlap: a thread would only cost its
     * start and two hand-overs. */
    sender_start(&sender, transport,
                 options->only_mail != 0 ? 0
                                         : cq_transport_parallel(transport));
    gboolean ok = deliver_all(session, &sender, worker, options, stats,
                              progress, data, &local);
    sender_stop(&sender);
    if (!ok)
        g_propagate_error(error, local);
    return ok;
}

gboolean
cq_outbox_next_due(CqSession *session, gint64 *wait, GError **error)
{
    gint64 next = -1;
    CqStmt *stmt = cq_store_stmt(
        session->store,
        "SELECT MIN(t) FROM (SELECT MIN(next_attempt) AS t FROM outbox"
        " WHERE state IN ('queued', 'deferred') UNION ALL"
        " SELECT MIN(lease_until) AS t FROM outbox"
        " WHERE state = 'sending') AS due",
        error);

    if (stmt == NULL || !cq_stmt_int_result(stmt, -1, &next, error))
        return FALSE;
    *wait = next < 0 ? -1 : MAX(next - cq_store_now(), 0);
    return TRUE;
}
