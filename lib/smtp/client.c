/* The public send functions: one message, a batch on one connection, and
 * batches over parallel connections. */
#include "smtp/session.h"

#include "common/error.h"
#include "common/event.h"

#define BATCH 32 /* jobs one parallel worker takes at a time */

static void
log_result(CqSmtpClient *client, const CqSmtpJob *job)
{
    const CqSmtpResult *r = &job->result;
    guint accepted = 0;
    CqEvent *ev = cq_event_begin(CQ_LOG_INFO, "smtp-message");

    if (ev == NULL)
        return;
    for (guint i = 0; i < r->rcpts->len; i++) {
        const CqSmtpRcptResult *rr = r->rcpts->pdata[i];
        accepted += rr->status == CQ_SMTP_RCPT_ACCEPTED;
    }
    cq_event_addf(ev, "session", "%u", client->session);
    cq_event_add(ev, "from", job->envelope->sender);
    cq_event_addf(ev, "rcpts", "%u", r->rcpts->len);
    cq_event_addf(ev, "accepted", "%u", accepted);
    cq_event_add(ev, "outcome", cq_smtp_outcome_name(r->outcome));
    if (r->stage != CQ_SMTP_STAGE_NONE)
        cq_event_add(ev, "stage", cq_smtp_stage_name(r->stage));
    cq_event_addf(ev, "code", "%u", r->code);
    cq_event_add(ev, "enhanced", r->enhanced);
    cq_event_add(ev, "reply", r->text);
    cq_event_addf(ev, "bytes", "%" G_GINT64_FORMAT, r->bytes_sent);
    if (r->downgraded)
        cq_event_add(ev, "downgraded", "7bit");
    cq_event_end(ev);
}

static gboolean
job_sent(const CqSmtpJob *job)
{
    return job->result.outcome == CQ_SMTP_OUTCOME_SENT ||
           job->result.outcome == CQ_SMTP_OUTCOME_PARTLY;
}

/* Fills @job's result from a failure to open the session. */
static void
fail_unopened(CqSmtpJob *job, const CqSmtpResult *failure)
{
    CqSmtpResult *r = &job->result;

    cq_smtp_result_clear(r);
    cq_smtp_result_init(r);
    r->outcome = failure->outcome;
    r->stage = failure->stage;
    r->code = failure->code;
    r->enhanced = g_strdup(failure->enhanced);
    r->text = g_strdup(failure->text);
    for (guint i = 0; i < job->envelope->rcpts->len; i++) {
        const CqSmtpEnvRcpt *er = job->envelope->rcpts->pdata[i];
        CqSmtpRcptResult *rr = g_new0(CqSmtpRcptResult, 1);
        rr->address = g_strdup(er->address);
        rr->status = failure->outcome == CQ_SMTP_OUTCOME_FAILED
                         ? CQ_SMTP_RCPT_PERMANENT
                         : CQ_SMTP_RCPT_TEMPORARY;
        rr->stage = failure->stage;
        rr->code = failure->code;
        rr->enhanced = g_strdup(failure->enhanced);
        rr->text = g_strdup(failure->text);
        g_ptr_array_add(r->rcpts, rr);
    }
}

/* Opens the session if needed; on failure fills @job's result. */
static gboolean
ensure_open(CqSmtpClient *client, CqSmtpJob *job)
{
    CqSmtpResult failure;
    gboolean ok;

    cq_smtp_result_init(&failure);
    ok = cq_smtp_client_open(client, &failure, NULL);
    if (!ok)
        fail_unopened(job, &failure);
    cq_smtp_result_clear(&failure);
    return ok;
}

/* Runs @job, retrying it once on a new connection when the reused one
 * turned out to be closed.  Returns the job whose "." is pending, or
 * NULL. */
static CqSmtpJob *
run_job(CqSmtpClient *client, CqSmtpJob *job, CqSmtpJob *pending,
        gboolean more)
{
    /* A write of the pending "." may have failed already: its reply
     * cannot come, and a new connection must not wait for it. */
    if (pending != NULL && cq_smtp_conn_is_broken(client->conn)) {
        cq_smtp_transaction_finish(client, pending);
        pending = NULL;
    }
    for (guint attempt = 0; attempt < 2; attempt++) {
        if (!ensure_open(client, job))
            return NULL;
        CqTxnStatus status =
            cq_smtp_transaction_run(client, job, pending, more);
        pending = NULL;
        if (client->state == SMTP_BROKEN)
            cq_smtp_client_drop(client);
        if (status == CQ_TXN_DOT_PENDING)
            return job;
        if (status == CQ_TXN_DONE)
            return NULL;
    }
    return NULL;
}

guint
cq_smtp_client_send_batch(CqSmtpClient *client, CqSmtpJob *jobs,
                          guint n_jobs)
{
    CqSmtpJob *pending = NULL;
    guint n_sent = 0;

    for (guint i = 0; i < n_jobs; i++) {
        cq_smtp_result_init(&jobs[i].result);
        pending = run_job(client, &jobs[i], pending, i + 1 < n_jobs);
    }
    if (pending != NULL) {
        cq_smtp_transaction_finish(client, pending);
        if (client->state == SMTP_BROKEN)
            cq_smtp_client_drop(client);
    }
    for (guint i = 0; i < n_jobs; i++) {
        log_result(client, &jobs[i]);
        n_sent += job_sent(&jobs[i]);
    }
    return n_sent;
}

static void
set_send_error(const CqSmtpResult *r, GError **error)
{
    CqErrorCode code = CQ_ERROR_TEMPFAIL;

    if (r->outcome == CQ_SMTP_OUTCOME_FAILED)
        code = g_strcmp0(r->enhanced, "5.3.4") == 0 && r->code == 0
                   ? CQ_ERROR_TOO_LARGE
                   : CQ_ERROR_PERMFAIL;
    GString *text = g_string_new(NULL);
    g_string_append_printf(text, "SMTP %s (%s)",
                           cq_smtp_outcome_name(r->outcome),
                           cq_smtp_stage_name(r->stage));
    if (r->code != 0)
        g_string_append_printf(text, ": %u", r->code);
    if (r->enhanced != NULL)
        g_string_append_printf(text, " %s", r->enhanced);
    if (r->text != NULL)
        g_string_append_printf(text, "%s%s", r->code ? " " : ": ", r->text);
    g_set_error_literal(error, CQ_ERROR, code, text->str);
    g_string_free(text, TRUE);
}

gboolean
cq_smtp_client_send(CqSmtpClient *client, const CqSmtpEnvelope *envelope,
                    GMimeStream *message, CqSmtpResult *result,
                    GError **error)
{
    CqSmtpJob job = {.envelope = envelope, .message = message};

    cq_smtp_client_send_batch(client, &job, 1);
    cq_smtp_result_clear(result);
    *result = job.result;
    if (job_sent(&job))
        return TRUE;
    set_send_error(result, error);
    return FALSE;
}

/* ---- parallel connections -------------------------------------------- */

typedef struct {
    const CqConfig *config;
    CqSmtpJob *jobs;
    guint n_jobs;
    guint next; /* atomically advanced: the first job not yet taken */
    guint n_sent;
} Parallel;

static gpointer
parallel_worker(gpointer data)
{
    Parallel *p = data;
    g_autoptr(CqSmtpClient) client = cq_smtp_client_new(p->config, NULL);

    for (;;) {
        guint first = (guint)g_atomic_int_add(&p->next, BATCH);
        if (first >= p->n_jobs)
            break;
        guint n = MIN(BATCH, p->n_jobs - first);
        guint sent = cq_smtp_client_send_batch(client, p->jobs + first, n);
        g_atomic_int_add(&p->n_sent, sent);
    }
    return NULL;
}

gboolean
cq_smtp_send_parallel(const CqConfig *config, CqSmtpJob *jobs,
                      guint n_jobs, guint *n_sent, GError **error)
{
    Parallel p = {config, jobs, n_jobs, 0, 0};
    guint n_threads = (guint)MAX(config->smtp.connections, 1);
    GPtrArray *threads = g_ptr_array_new();

    CqSmtpClient *probe = cq_smtp_client_new(config, error);
    if (probe == NULL)
        return FALSE;
    cq_smtp_client_free(probe);
    n_threads = MIN(n_threads, (n_jobs + BATCH - 1) / BATCH);
    for (guint i = 0; i < n_threads; i++)
        g_ptr_array_add(threads,
                        g_thread_new("caqmail-smtp", parallel_worker, &p));
    for (guint i = 0; i < threads->len; i++)
        g_thread_join(threads->pdata[i]);
    g_ptr_array_free(threads, TRUE);
    *n_sent = p.n_sent;
    return TRUE;
}
