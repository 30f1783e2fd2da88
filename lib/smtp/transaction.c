/* Mail transactions: MAIL FROM, RCPT TO, DATA, the message and ".", with
 * PIPELINING (RFC 2920) where offered, and the public send functions. */
#include "smtp/session.h"

#include "common/error.h"
#include "common/event.h"
#include "common/text.h"
#include "smtp/body.h"

#include <string.h>

static const CqSmtpSettings *
settings(const CqSmtpClient *client)
{
    return &client->config->smtp;
}

static gboolean
offers(const CqSmtpClient *client, CqSmtpExtension ext)
{
    return (client->info.extensions & ext) != 0;
}

/* ---- results --------------------------------------------------------- */

static CqSmtpRcptResult *
rcpt_result(CqSmtpJob *job, guint i)
{
    return job->result.rcpts->pdata[i];
}

static void
prepare_result(CqSmtpJob *job)
{
    const CqSmtpEnvelope *env = job->envelope;

    cq_smtp_result_clear(&job->result);
    cq_smtp_result_init(&job->result);
    for (guint i = 0; i < env->rcpts->len; i++) {
        const CqSmtpEnvRcpt *r = env->rcpts->pdata[i];
        CqSmtpRcptResult *rr = g_new0(CqSmtpRcptResult, 1);
        rr->address = g_strdup(r->address);
        rr->status = CQ_SMTP_RCPT_TEMPORARY;
        g_ptr_array_add(job->result.rcpts, rr);
    }
}

static void
set_rcpt(CqSmtpRcptResult *rr, CqSmtpRcptStatus status, CqSmtpStage stage,
         guint code, const char *enhanced, const char *text)
{
    rr->status = status;
    rr->stage = stage;
    rr->code = code;
    g_free(rr->enhanced);
    rr->enhanced = enhanced && *enhanced ? g_strdup(enhanced) : NULL;
    g_free(rr->text);
    rr->text = g_strdup(text);
}

static CqSmtpRcptStatus
status_of(CqSmtpOutcome outcome)
{
    switch (outcome) {
    case CQ_SMTP_OUTCOME_FAILED:
        return CQ_SMTP_RCPT_PERMANENT;
    case CQ_SMTP_OUTCOME_UNCERTAIN:
        return CQ_SMTP_RCPT_UNCERTAIN;
    default:
        return CQ_SMTP_RCPT_TEMPORARY;
    }
}

/* The message failed as @result says: every recipient not refused on its
 * own (still ACCEPTED, or not yet asked) shares that failure. */
static void
spread_failure(CqSmtpJob *job, gboolean only_accepted)
{
    CqSmtpResult *r = &job->result;

    for (guint i = 0; i < r->rcpts->len; i++) {
        CqSmtpRcptResult *rr = rcpt_result(job, i);
        if (only_accepted && rr->status != CQ_SMTP_RCPT_ACCEPTED)
            continue;
        set_rcpt(rr, status_of(r->outcome), r->stage, r->code, r->enhanced,
                 r->text);
    }
}

/* Fails the whole job at @stage, from the last reply or from @error. */
static void
fail_job(CqSmtpClient *client, CqSmtpJob *job, CqSmtpStage stage,
         gboolean from_reply, const GError *error)
{
    cq_smtp_fail_result(&job->result, stage, &client->reply, from_reply,
                        error);
    spread_failure(job, FALSE);
}

/* After RCPT replies: the outcome when the message itself is not taken.
 * DEFERRED when any recipient may be retried, else FAILED; the decisive
 * reply is that of the first such recipient. */
static void
conclude_refused(CqSmtpJob *job)
{
    CqSmtpResult *r = &job->result;
    CqSmtpRcptResult *first = NULL;

    for (guint i = 0; i < r->rcpts->len && first == NULL; i++) {
        if (rcpt_result(job, i)->status == CQ_SMTP_RCPT_TEMPORARY)
            first = rcpt_result(job, i);
    }
    r->outcome = first ? CQ_SMTP_OUTCOME_DEFERRED : CQ_SMTP_OUTCOME_FAILED;
    if (first == NULL && r->rcpts->len > 0)
        first = rcpt_result(job, 0);
    r->stage = CQ_SMTP_STAGE_RECIPIENT;
    if (first != NULL) {
        r->code = first->code;
        g_free(r->enhanced);
        r->enhanced = g_strdup(first->enhanced);
        g_free(r->text);
        r->text = g_strdup(first->text);
    }
}

/* ---- commands -------------------------------------------------------- */

static void
add_dsn_mail(const CqSmtpClient *client, const CqSmtpEnvelope *env,
             GString *line)
{
    CqSmtpRet ret = env->ret ? env->ret : client->dsn_ret;

    if (!offers(client, CQ_SMTP_EXT_DSN))
        return;
    if (ret != CQ_SMTP_RET_DEFAULT)
        g_string_append(line, ret == CQ_SMTP_RET_FULL ? " RET=FULL"
                                                      : " RET=HDRS");
    if (env->envid != NULL) {
        g_autofree char *x = cq_smtp_xtext(env->envid);
        g_string_append_printf(line, " ENVID=%s", x);
    }
}

static char *
mail_line(const CqSmtpClient *client, const CqSmtpEnvelope *env,
          gint64 size, gboolean body_8bit)
{
    GString *line = g_string_new(NULL);

    g_string_append_printf(line, "MAIL FROM:<%s>", env->sender);
    if (size >= 0 && offers(client, CQ_SMTP_EXT_SIZE))
        g_string_append_printf(line, " SIZE=%" G_GINT64_FORMAT, size);
    if (body_8bit)
        g_string_append(line, " BODY=8BITMIME");
    if (env->smtputf8)
        g_string_append(line, " SMTPUTF8");
    add_dsn_mail(client, env, line);
    return g_string_free(line, FALSE);
}

static char *
orcpt_param(const char *orcpt)
{
    if (!cq_text_is_8bit(orcpt)) {
        g_autofree char *x = cq_smtp_xtext(orcpt);
        return g_strdup_printf(" ORCPT=rfc822;%s", x);
    }
    /* RFC 6533 utf-8-addr-unitext: UTF-8 as it is, escapes for the rest */
    GString *out = g_string_new(" ORCPT=utf-8;");
    for (const guchar *p = (const guchar *)orcpt; *p; p++) {
        if (*p < 0x21 || *p == '+' || *p == '=' || *p == '\\' || *p == 0x7f)
            g_string_append_printf(out, "\\x{%02X}", *p);
        else
            g_string_append_c(out, (char)*p);
    }
    return g_string_free(out, FALSE);
}

static char *
rcpt_line(const CqSmtpClient *client, const CqSmtpEnvelope *env,
          const CqSmtpEnvRcpt *rcpt)
{
    GString *line = g_string_new(NULL);
    guint notify = env->notify ? env->notify : client->dsn_notify;

    g_string_append_printf(line, "RCPT TO:<%s>", rcpt->address);
    if (offers(client, CQ_SMTP_EXT_DSN)) {
        if (notify != 0) {
            g_autofree char *n = cq_smtp_notify_text(notify);
            g_string_append_printf(line, " NOTIFY=%s", n);
        }
        if (rcpt->orcpt != NULL) {
            g_autofree char *o = orcpt_param(rcpt->orcpt);
            g_string_append(line, o);
        }
    }
    return g_string_free(line, FALSE);
}

static void
queue(CqSmtpClient *client, char *line)
{
    cq_smtp_conn_queue_line(client->conn, line, NULL);
    g_free(line);
}

static gboolean
read_reply(CqSmtpClient *client, gint64 timeout, GError **error)
{
    return cq_smtp_conn_read_reply(client->conn, &client->reply,
                                   cq_smtp_ms(timeout), error);
}

/* ---- the transaction ------------------------------------------------- */

typedef struct {
    CqSmtpClient *client;
    CqSmtpJob *job;
    GMimeStream *stream; /* the message, or its 7-bit form */
    gint64 size;         /* of @stream, -1 when unknown */
    gboolean body_8bit;  /* BODY=8BITMIME */
    gboolean reused;     /* the connection carried a message before */
    guint n_accepted;
} Txn;

static gboolean
refuse_locally(Txn *t, CqErrorCode code, const char *enhanced,
               const char *format, ...) G_GNUC_PRINTF(4, 5);

static gboolean
refuse_locally(Txn *t, CqErrorCode code, const char *enhanced,
               const char *format, ...)
{
    CqSmtpResult *r = &t->job->result;
    va_list args;

    va_start(args, format);
    g_autofree char *text = g_strdup_vprintf(format, args);
    va_end(args);
    GError *error = g_error_new_literal(CQ_ERROR, code, text);
    cq_smtp_fail_result(r, CQ_SMTP_STAGE_SENDER, NULL, FALSE, error);
    r->enhanced = g_strdup(enhanced);
    spread_failure(t->job, FALSE);
    g_error_free(error);
    return FALSE;
}

/* SMTPUTF8 needed but not offered: refused before anything is sent. */
static gboolean
check_smtputf8(Txn *t)
{
    CqSmtpClient *client = t->client;

    if (!t->job->envelope->smtputf8 || offers(client, CQ_SMTP_EXT_SMTPUTF8))
        return TRUE;
    return refuse_locally(
        t, CQ_ERROR_PERMFAIL, "5.6.7",
        "the message needs SMTPUTF8 (non-ASCII addresses), which server "
        "'%s' does not offer", client->info.host);
}

/* SIZE (RFC 1870): a message over the server's limit is refused before
 * MAIL FROM. */
static gboolean
check_size(Txn *t)
{
    CqSmtpClient *client = t->client;
    const CqSmtpEnvelope *env = t->job->envelope;
    gint64 limit = client->info.max_size;

    t->size = g_mime_stream_length(t->stream);
    if (t->size >= 0 && limit > 0 && t->size > limit)
        return refuse_locally(t, CQ_ERROR_TOO_LARGE, "5.3.4",
                              "message of %" G_GINT64_FORMAT
                              " bytes is larger than the %" G_GINT64_FORMAT
                              " bytes that server '%s' takes",
                              t->size, limit, client->info.host);
    t->body_8bit = env->is_8bit && offers(client, CQ_SMTP_EXT_8BITMIME);
    return TRUE;
}

static gboolean
downgrade_if_needed(Txn *t)
{
    GError *error = NULL;

    if (!t->job->envelope->is_8bit || offers(t->client, CQ_SMTP_EXT_8BITMIME))
        return TRUE;
    GMimeStream *seven = cq_smtp_body_downgrade(t->stream, &error);
    if (seven == NULL) {
        fail_job(t->client, t->job, CQ_SMTP_STAGE_DATA, FALSE, error);
        g_error_free(error);
        return FALSE;
    }
    t->stream = seven;
    t->job->result.downgraded = TRUE;
    return TRUE;
}

static void
queue_envelope(Txn *t, gboolean pipelining)
{
    CqSmtpClient *client = t->client;
    const CqSmtpEnvelope *env = t->job->envelope;

    cq_smtp_set_state(client, SMTP_MAIL);
    queue(client, mail_line(client, env, t->size, t->body_8bit));
    if (!pipelining)
        return;
    for (guint i = 0; i < env->rcpts->len; i++)
        queue(client, rcpt_line(client, env, env->rcpts->pdata[i]));
    cq_smtp_conn_queue_line(client->conn, "DATA", NULL);
}

static void
record_rcpt(Txn *t, guint i)
{
    const CqSmtpReply *reply = &t->client->reply;
    g_autofree char *text = cq_smtp_reply_text(reply);
    CqSmtpRcptStatus status = CQ_SMTP_RCPT_ACCEPTED;

    if (!cq_smtp_reply_is_positive(reply))
        status = cq_smtp_reply_is_permanent(reply) ? CQ_SMTP_RCPT_PERMANENT
                                                   : CQ_SMTP_RCPT_TEMPORARY;
    set_rcpt(rcpt_result(t->job, i), status,
             status == CQ_SMTP_RCPT_ACCEPTED ? CQ_SMTP_STAGE_NONE
                                             : CQ_SMTP_STAGE_RECIPIENT,
             reply->code, reply->enhanced, text);
    t->n_accepted += status == CQ_SMTP_RCPT_ACCEPTED;
}

/* Reads the RCPT replies (sending each RCPT first when not pipelining).
 * FALSE when the connection failed (@error set) or the server answered
 * 421 and is closing it (the last reply). */
static gboolean
read_rcpts(Txn *t, gboolean pipelining, GError **error)
{
    CqSmtpClient *client = t->client;
    const CqSmtpEnvelope *env = t->job->envelope;

    for (guint i = 0; i < env->rcpts->len; i++) {
        if (!pipelining)
            queue(client, rcpt_line(client, env, env->rcpts->pdata[i]));
        if (!read_reply(client, settings(client)->timeout_rcpt, error)) {
            g_prefix_error(error, "RCPT TO <%s>: ",
                           rcpt_result(t->job, i)->address);
            return FALSE;
        }
        record_rcpt(t, i);
        if (client->reply.code == 421) /* the server is closing */
            return FALSE;
    }
    return TRUE;
}

/* RSET after a transaction that did not end with "."; its failure leaves
 * the connection to be dropped. */
static void
reset(CqSmtpClient *client)
{
    cq_smtp_set_state(client, SMTP_RSET);
    cq_smtp_conn_queue_line(client->conn, "RSET", NULL);
    if (!read_reply(client, settings(client)->timeout_mail, NULL) ||
        client->reply.code != 250)
        cq_smtp_set_state(client, SMTP_BROKEN);
    else
        cq_smtp_set_state(client, SMTP_READY);
}

static void
broken(CqSmtpClient *client)
{
    cq_smtp_set_state(client, SMTP_BROKEN);
}

/* Completes @job from the reply to its ".", or marks it uncertain. */
void
cq_smtp_transaction_finish(CqSmtpClient *client, CqSmtpJob *job)
{
    CqSmtpResult *r = &job->result;
    g_autoptr(GError) error = NULL;

    /* A write that failed before "." was out: the server cannot have
     * taken the message. */
    if (!cq_smtp_conn_flush(client->conn,
                            cq_smtp_ms(settings(client)->timeout_block),
                            &error)) {
        g_prefix_error(&error, "sending the message: ");
        cq_smtp_fail_result(r, CQ_SMTP_STAGE_DATA, NULL, FALSE, error);
        spread_failure(job, TRUE);
        broken(client);
        return;
    }
    if (!read_reply(client, settings(client)->timeout_dot, &error)) {
        g_prefix_error(&error, "after the final \".\": ");
        cq_smtp_fail_result(r, CQ_SMTP_STAGE_DATA, NULL, FALSE, error);
        r->outcome = CQ_SMTP_OUTCOME_UNCERTAIN;
        spread_failure(job, TRUE);
        broken(client);
        return;
    }
    if (client->state == SMTP_DOT) /* not when the next job is under way */
        cq_smtp_set_state(client, SMTP_READY);
    if (!cq_smtp_reply_is_positive(&client->reply)) {
        cq_smtp_fail_result(r, CQ_SMTP_STAGE_DATA, &client->reply, TRUE,
                            NULL);
        spread_failure(job, TRUE);
        return;
    }
    guint accepted = 0;
    for (guint i = 0; i < r->rcpts->len; i++)
        accepted += rcpt_result(job, i)->status == CQ_SMTP_RCPT_ACCEPTED;
    r->outcome = accepted == r->rcpts->len ? CQ_SMTP_OUTCOME_SENT
                                           : CQ_SMTP_OUTCOME_PARTLY;
    r->stage = CQ_SMTP_STAGE_NONE;
    r->code = client->reply.code;
    r->enhanced = client->reply.enhanced[0]
                      ? g_strdup(client->reply.enhanced)
                      : NULL;
    r->text = cq_smtp_reply_text(&client->reply);
    client->n_messages++;
}

/* After 354: the message and ".", or only "." when no recipient was
 * accepted (RFC 2920 3.1). */
static CqTxnStatus
send_body(Txn *t, gboolean more, gboolean pipelining)
{
    CqSmtpClient *client = t->client;
    CqSmtpResult *r = &t->job->result;
    g_autoptr(GError) error = NULL;

    cq_smtp_set_state(client, SMTP_BODY);
    if (t->n_accepted == 0) {
        cq_smtp_conn_queue_line(client->conn, ".", NULL);
        read_reply(client, settings(client)->timeout_dot, NULL);
        conclude_refused(t->job);
        reset(client);
        return CQ_TXN_DONE;
    }
    if (!cq_smtp_body_queue(client->conn, t->stream, &r->bytes_sent,
                            &error)) {
        fail_job(client, t->job, CQ_SMTP_STAGE_DATA, FALSE, error);
        broken(client); /* DATA cannot be ended without sending it */
        return CQ_TXN_DONE;
    }
    CqEvent *ev = cq_event_begin(CQ_LOG_DEBUG, "smtp-out");
    cq_event_addf(ev, "session", "%u", client->session);
    cq_event_addf(ev, "message-bytes", "%" G_GINT64_FORMAT, r->bytes_sent);
    cq_event_add(ev, "line", ".");
    cq_event_end(ev);
    cq_smtp_set_state(client, SMTP_DOT);
    if (more && pipelining)
        return CQ_TXN_DOT_PENDING;
    cq_smtp_transaction_finish(client, t->job);
    return CQ_TXN_DONE;
}

/* The replies to DATA: 354 goes on to the message. */
static CqTxnStatus
after_data(Txn *t, gboolean more, gboolean pipelining)
{
    CqSmtpClient *client = t->client;
    g_autoptr(GError) error = NULL;

    cq_smtp_set_state(client, SMTP_DATA);
    if (!pipelining) {
        if (t->n_accepted == 0) {
            conclude_refused(t->job);
            reset(client);
            return CQ_TXN_DONE;
        }
        cq_smtp_conn_queue_line(client->conn, "DATA", NULL);
    }
    if (!read_reply(client, settings(client)->timeout_data, &error)) {
        g_prefix_error(&error, "DATA: ");
        fail_job(client, t->job, CQ_SMTP_STAGE_DATA, FALSE, error);
        broken(client);
        return CQ_TXN_DONE;
    }
    if (client->reply.code == 354)
        return send_body(t, more, pipelining);
    if (t->n_accepted == 0)
        conclude_refused(t->job);
    else {
        cq_smtp_fail_result(&t->job->result, CQ_SMTP_STAGE_DATA,
                            &client->reply, TRUE, NULL);
        spread_failure(t->job, TRUE);
    }
    reset(client);
    return CQ_TXN_DONE;
}

/* After a refused MAIL in a pipelined group: reads the replies to the
 * RCPTs and DATA that followed; a server that still says 354 to DATA gets
 * an empty message. */
static void
drain_group(Txn *t)
{
    CqSmtpClient *client = t->client;
    guint n = t->job->envelope->rcpts->len;

    for (guint i = 0; i < n; i++) {
        if (!read_reply(client, settings(client)->timeout_rcpt, NULL))
            return;
    }
    if (!read_reply(client, settings(client)->timeout_data, NULL) ||
        client->reply.code != 354)
        return;
    cq_smtp_conn_queue_line(client->conn, ".", NULL);
    read_reply(client, settings(client)->timeout_dot, NULL);
}

/* Reads the replies to MAIL and RCPT; in a pipelined group the later
 * replies are read even after MAIL failed, to keep replies in step. */
static CqTxnStatus
after_mail(Txn *t, gboolean more, gboolean pipelining)
{
    CqSmtpClient *client = t->client;
    g_autoptr(GError) error = NULL;

    if (!read_reply(client, settings(client)->timeout_mail, &error)) {
        g_prefix_error(&error, "MAIL FROM <%s>: ", t->job->envelope->sender);
        fail_job(client, t->job, CQ_SMTP_STAGE_SENDER, FALSE, error);
        broken(client);
        return t->reused ? CQ_TXN_RETRY : CQ_TXN_DONE;
    }
    if (client->reply.code == 421 && t->reused) {
        broken(client);
        return CQ_TXN_RETRY;
    }
    if (client->reply.code != 250) {
        fail_job(client, t->job, CQ_SMTP_STAGE_SENDER, TRUE, NULL);
        if (pipelining)
            drain_group(t);
        reset(client);
        return CQ_TXN_DONE;
    }
    if (!read_rcpts(t, pipelining, &error)) {
        fail_job(client, t->job, CQ_SMTP_STAGE_RECIPIENT, error == NULL,
                 error);
        broken(client);
        return CQ_TXN_DONE;
    }
    return after_data(t, more, pipelining);
}

CqTxnStatus
cq_smtp_transaction_run(CqSmtpClient *client, CqSmtpJob *job,
                        CqSmtpJob *previous, gboolean more)
{
    Txn t = {.client = client, .job = job, .stream = job->message,
             .reused = client->n_messages > 0 || previous != NULL};
    gboolean pipelining = offers(client, CQ_SMTP_EXT_PIPELINING);
    CqTxnStatus status = CQ_TXN_DONE;

    prepare_result(job);
    if (!check_smtputf8(&t) || !downgrade_if_needed(&t) || !check_size(&t)) {
        if (previous != NULL)
            cq_smtp_transaction_finish(client, previous);
        goto out;
    }
    queue_envelope(&t, pipelining);
    if (previous != NULL)
        cq_smtp_transaction_finish(client, previous);
    if (client->state == SMTP_BROKEN) {
        status = CQ_TXN_RETRY;
        goto out;
    }
    status = after_mail(&t, more, pipelining);
out:
    if (t.stream != job->message)
        g_object_unref(t.stream);
    return status;
}
