/* The SMTP transport: each batch of stored mails goes over one client
 * connection, the final "." of one mail sent with the next envelope.  Up
 * to `[smtp] connections` batches go at once, each on its own connection
 * from a pool; a connection stays open for the next batch. */
#include "outbox/transport.h"

#include "common/error.h"
#include "smtp/client.h"

#include <string.h>

typedef struct {
    CqTransport parent;
    const CqConfig *config;
    guint size;        /* connections at most */
    guint created;     /* clients made so far; under the lock */
    GMutex lock;
    GAsyncQueue *idle; /* CqSmtpClient not in use */
} SmtpTransport;

/* A client for one batch: an idle one, or a new one while the pool is
 * not full, or else the next to come back. */
static CqSmtpClient *
take_client(SmtpTransport *self, GError **error)
{
    CqSmtpClient *client = g_async_queue_try_pop(self->idle);
    gboolean make = FALSE;

    if (client != NULL)
        return client;
    g_mutex_lock(&self->lock);
    if (self->created < self->size) {
        self->created++;
        make = TRUE;
    }
    g_mutex_unlock(&self->lock);
    if (!make)
        return g_async_queue_pop(self->idle);
    client = cq_smtp_client_new(self->config, error);
    if (client == NULL) {
        g_mutex_lock(&self->lock);
        self->created--;
        g_mutex_unlock(&self->lock);
    }
    return client;
}

static void
give_back(SmtpTransport *self, CqSmtpClient *client)
{
    g_async_queue_push(self->idle, client);
}

static CqOutcome
rcpt_outcome(CqSmtpRcptStatus status)
{
    switch (status) {
    case CQ_SMTP_RCPT_ACCEPTED:
        return CQ_OUTCOME_ACCEPTED;
    case CQ_SMTP_RCPT_PERMANENT:
        return CQ_OUTCOME_REJECTED;
    case CQ_SMTP_RCPT_UNCERTAIN:
        return CQ_OUTCOME_UNCERTAIN;
    case CQ_SMTP_RCPT_TEMPORARY:
        break;
    }
    return CQ_OUTCOME_DEFERRED;
}

static CqOutcome
mail_outcome(CqSmtpOutcome outcome)
{
    switch (outcome) {
    case CQ_SMTP_OUTCOME_SENT:
    case CQ_SMTP_OUTCOME_PARTLY:
        return CQ_OUTCOME_ACCEPTED;
    case CQ_SMTP_OUTCOME_FAILED:
        return CQ_OUTCOME_REJECTED;
    case CQ_SMTP_OUTCOME_UNCERTAIN:
        return CQ_OUTCOME_UNCERTAIN;
    case CQ_SMTP_OUTCOME_DEFERRED:
        break;
    }
    return CQ_OUTCOME_DEFERRED;
}

/* "550 5.1.1 user unknown", or what failed when no reply decided. */
static char *
reply_text(guint code, const char *enhanced, const char *text,
           CqSmtpStage stage)
{
    const char *name = cq_smtp_stage_name(stage);
    gsize len = strlen(name);

    if (code == 0 && text != NULL && strncmp(text, name, len) == 0 &&
        text[len] == ':')
        return g_strdup(text); /* the client named the stage already */
    if (code == 0)
        return g_strdup_printf("%s: %s", name, text ? text : "no reply");
    return g_strdup_printf("%u%s%s %s", code, enhanced ? " " : "",
                           enhanced ? enhanced : "", text ? text : "");
}

static void
apply_result(CqTransportMail *mail, const CqSmtpResult *result)
{
    for (guint i = 0; i < mail->rcpts->len; i++) {
        CqTransportRcpt *r = &g_array_index(mail->rcpts, CqTransportRcpt, i);
        if (result->rcpts != NULL && i < result->rcpts->len) {
            const CqSmtpRcptResult *s = result->rcpts->pdata[i];
            gboolean accepted = s->status == CQ_SMTP_RCPT_ACCEPTED;
            /* An accepted recipient's reply is that to the final ".". */
            g_autofree char *reply =
                accepted ? reply_text(result->code, result->enhanced,
                                      result->text, result->stage)
                         : reply_text(s->code, s->enhanced, s->text, s->stage);
            cq_transport_rcpt_set(r, rcpt_outcome(s->status),
                                  (int)(accepted ? result->code : s->code),
                                  reply);
        }
    }
    g_autofree char *reply =
        reply_text(result->code, result->enhanced, result->text, result->stage);
    cq_transport_mail_set_all(mail, mail_outcome(result->outcome),
                              (int)result->code, reply);
}

static CqSmtpEnvelope *
envelope_of(const CqTransportMail *mail, GError **error)
{
    g_autoptr(CqSmtpEnvelope) env =
        cq_smtp_envelope_new(mail->envelope_from, error);
    if (env == NULL)
        return NULL;
    for (guint i = 0; i < mail->rcpts->len; i++) {
        const CqTransportRcpt *r =
            &g_array_index(mail->rcpts, CqTransportRcpt, i);
        if (!cq_smtp_envelope_add_recipient(env, r->address, NULL, error))
            return NULL;
    }
    cq_smtp_envelope_set_smtputf8(env, mail->smtputf8);
    cq_smtp_envelope_set_8bit(env, mail->is_8bit);
    return g_steal_pointer(&env);
}

static gboolean
smtp_deliver(CqTransport *transport, CqTransportMail **mails, guint n,
             GError **error)
{
    SmtpTransport *self = (SmtpTransport *)transport;
    CqSmtpClient *client = take_client(self, error);
    if (client == NULL)
        return FALSE;
    g_autofree CqSmtpJob *jobs = g_new0(CqSmtpJob, n);
    g_autofree guint *index = g_new0(guint, n);
    guint n_jobs = 0;

    for (guint i = 0; i < n; i++) {
        g_autoptr(GError) local = NULL;
        if (mails[i]->rcpts->len == 0)
            continue;
        CqSmtpEnvelope *env = envelope_of(mails[i], &local);
        if (env == NULL) {
            cq_transport_mail_set_all(mails[i], CQ_OUTCOME_REJECTED, 0,
                                      local->message);
            continue;
        }
        jobs[n_jobs].envelope = env;
        jobs[n_jobs].message = mails[i]->raw;
        index[n_jobs++] = i;
    }
    cq_smtp_client_send_batch(client, jobs, n_jobs);
    give_back(self, client);
    for (guint j = 0; j < n_jobs; j++) {
        apply_result(mails[index[j]], &jobs[j].result);
        mails[index[j]]->downgraded = jobs[j].result.downgraded;
        cq_smtp_result_clear(&jobs[j].result);
        cq_smtp_envelope_free((CqSmtpEnvelope *)jobs[j].envelope);
    }
    return TRUE;
}

/* Connects to learn the server's extensions; the connection then serves
 * the first batch. */
static gboolean
smtp_allows_8bit(CqTransport *transport)
{
    SmtpTransport *self = (SmtpTransport *)transport;
    CqSmtpClient *client = take_client(self, NULL);
    gboolean allows = FALSE;

    if (client == NULL)
        return FALSE;
    if (cq_smtp_client_open(client, NULL, NULL)) {
        const CqSmtpServerInfo *info = cq_smtp_client_get_info(client);
        allows = info != NULL &&
                 (info->extensions & CQ_SMTP_EXT_8BITMIME) != 0;
    }
    give_back(self, client);
    return allows;
}

static guint
smtp_parallel(CqTransport *transport)
{
    return ((SmtpTransport *)transport)->size;
}

static void
smtp_free(CqTransport *transport)
{
    SmtpTransport *self = (SmtpTransport *)transport;
    CqSmtpClient *client;

    while ((client = g_async_queue_try_pop(self->idle)) != NULL)
        cq_smtp_client_free(client);
    g_async_queue_unref(self->idle);
    g_mutex_clear(&self->lock);
    g_free(self);
}

static const CqTransportClass smtp_class = {
    .name = "smtp",
    .deliver = smtp_deliver,
    .allows_8bit = smtp_allows_8bit,
    .free = smtp_free,
    .parallel = smtp_parallel,
};

CqTransport *
cq_transport_smtp_new(const CqConfig *config, GError **error)
{
    /* Checks the settings now, and is the pool's first connection. */
    CqSmtpClient *client = cq_smtp_client_new(config, error);
    if (client == NULL)
        return NULL;
    SmtpTransport *self = g_new0(SmtpTransport, 1);
    self->parent.klass = &smtp_class;
    self->config = config;
    self->size = (guint)MAX(config->smtp.connections, 1);
    self->created = 1;
    g_mutex_init(&self->lock);
    self->idle = g_async_queue_new();
    g_async_queue_push(self->idle, client);
    return &self->parent;
}
