#include "outbox/transport.h"

#include "common/error.h"
#include "deliver/maildir.h"

void
cq_transport_rcpt_set(CqTransportRcpt *rcpt, CqOutcome outcome, int code,
                      const char *reply)
{
    rcpt->outcome = outcome;
    rcpt->code = code;
    g_free(rcpt->reply);
    rcpt->reply = g_strdup(reply ? reply : "");
}

void
cq_transport_mail_set_all(CqTransportMail *mail, CqOutcome outcome, int code,
                          const char *reply)
{
    for (guint i = 0; i < mail->rcpts->len; i++) {
        CqTransportRcpt *r = &g_array_index(mail->rcpts, CqTransportRcpt, i);
        if (r->outcome == CQ_OUTCOME_NONE)
            cq_transport_rcpt_set(r, outcome, code, reply);
    }
}

void
cq_transport_free(CqTransport *transport)
{
    if (transport != NULL)
        transport->klass->free(transport);
}

guint
cq_transport_parallel(CqTransport *transport)
{
    if (transport->klass->parallel == NULL)
        return 1;
    return MAX(transport->klass->parallel(transport), 1u);
}

typedef struct {
    CqTransport parent;
    char *path;
} MaildirTransport;

static gboolean
maildir_deliver(CqTransport *transport, CqTransportMail **mails, guint n,
                GError **error)
{
    MaildirTransport *self = (MaildirTransport *)transport;

    for (guint i = 0; i < n; i++) {
        g_autoptr(GError) local = NULL;
        g_autofree char *file =
            cq_maildir_deliver_stream(self->path, mails[i]->raw, &local);
        if (file == NULL) {
            cq_transport_mail_set_all(mails[i], CQ_OUTCOME_DEFERRED, 0,
                                      local->message);
            continue;
        }
        g_autofree char *reply = g_strdup_printf("delivered to %s", file);
        cq_transport_mail_set_all(mails[i], CQ_OUTCOME_ACCEPTED, 250, reply);
    }
    return TRUE;
}

static void
maildir_free(CqTransport *transport)
{
    MaildirTransport *self = (MaildirTransport *)transport;
    g_free(self->path);
    g_free(self);
}

static gboolean
maildir_allows_8bit(CqTransport *transport)
{
    return TRUE;
}

static const CqTransportClass maildir_class = {
    .name = "maildir",
    .deliver = maildir_deliver,
    .allows_8bit = maildir_allows_8bit,
    .free = maildir_free,
};

CqTransport *
cq_transport_maildir_new(const char *path)
{
    MaildirTransport *self = g_new0(MaildirTransport, 1);
    self->parent.klass = &maildir_class;
    self->path = g_strdup(path);
    return &self->parent;
}

gboolean
cq_transport_probe_8bit(CqTransport *transport)
{
    return transport->klass->allows_8bit != NULL &&
           transport->klass->allows_8bit(transport);
}

gboolean
cq_transport_allows_8bit(const CqConfig *config)
{
    return config->transport.kind == CQ_TRANSPORT_MAILDIR;
}

CqTransport *
cq_transport_new(const CqConfig *config, GError **error)
{
    switch (config->transport.kind) {
    case CQ_TRANSPORT_MAILDIR:
        return cq_transport_maildir_new(config->transport.maildir);
    case CQ_TRANSPORT_SMTP:
        break;
    }
    return cq_transport_smtp_new(config, error);
}
