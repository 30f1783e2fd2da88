/* CaqmailMessage: a mail composed through the public API.
 *
 * The fields that can be checked alone (subject, bodies, files, headers,
 * record) are kept in a draft CqMessage, which validates them as they
 * are set.  Everything that depends on the acting user (the sender, the
 * catalog references, the copy to the sender, stored documents) waits
 * for caqmail_message_enqueue(), which builds a fresh CqMessage from the
 * draft each time, so that the same message may be enqueued again. */
#include "api/api.h"

#include "attach/prepare.h"
#include "common/error.h"
#include "deliver/direct.h"
#include "document/document.h"
#include "outbox/outbox.h"
#include "resolve/resolve.h"

#include <string.h>

G_STATIC_ASSERT((int)CAQMAIL_ORIGIN_API == (int)CQ_ORIGIN_API);
G_STATIC_ASSERT((int)CAQMAIL_BCC == (int)CQ_RCPT_BCC);

#define N_KINDS 3

struct _CaqmailMessage {
    CaqmailContext *context;
    CqMessage *draft;
    char *from;                /* NULL: the default sender */
    GPtrArray *rcpts[N_KINDS]; /* of char *: addresses and references */
    GPtrArray *documents;      /* of char *: "DOC-7" */
    char *acting_user;         /* NULL: the context's user */
    gboolean copy_to_sender;
    gboolean to_pdf;
};

CaqmailMessage *
caqmail_message_new(CaqmailContext *context)
{
    g_return_val_if_fail(context != NULL, NULL);
    CaqmailMessage *message = g_new0(CaqmailMessage, 1);

    message->context = context;
    message->draft = cq_message_new(CQ_ORIGIN_API);
    for (guint k = 0; k < N_KINDS; k++)
        message->rcpts[k] = g_ptr_array_new_with_free_func(g_free);
    message->documents = g_ptr_array_new_with_free_func(g_free);
    return message;
}

void
caqmail_message_free(CaqmailMessage *message)
{
    if (message == NULL)
        return;
    cq_message_free(message->draft);
    g_free(message->from);
    for (guint k = 0; k < N_KINDS; k++)
        g_ptr_array_unref(message->rcpts[k]);
    g_ptr_array_unref(message->documents);
    g_free(message->acting_user);
    g_free(message);
}

gboolean
caqmail_message_set_from(CaqmailMessage *message, const char *address,
                         GError **error)
{
    g_autoptr(CqMessage) check = cq_message_new(CQ_ORIGIN_API);

    if (address != NULL && !cq_message_set_from(check, address, error))
        return FALSE;
    g_free(message->from);
    message->from = g_strdup(address);
    return TRUE;
}

gboolean
caqmail_message_add_recipient(CaqmailMessage *message,
                              CaqmailRecipientKind kind, const char *recipient,
                              GError **error)
{
    if ((guint)kind >= N_KINDS || recipient == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "recipient: no address or reference given");
        return FALSE;
    }
    /* Addresses are checked now; references need the acting user. */
    if (!cq_resolve_needs_catalog(recipient)) {
        g_autoptr(CqMessage) check = cq_message_new(CQ_ORIGIN_API);
        if (!cq_message_add_recipients(check, (CqRecipientKind)kind, recipient,
                                       NULL, error))
            return FALSE;
    }
    g_ptr_array_add(message->rcpts[kind], g_strdup(recipient));
    return TRUE;
}

void
caqmail_message_set_copy_to_sender(CaqmailMessage *message, gboolean copy)
{
    message->copy_to_sender = copy;
}

gboolean
caqmail_message_set_subject(CaqmailMessage *message, const char *subject,
                            GError **error)
{
    return cq_message_set_subject(message->draft, subject, error);
}

gboolean
caqmail_message_set_text(CaqmailMessage *message, const char *text,
                         GError **error)
{
    return cq_message_set_text(message->draft, text, error);
}

gboolean
caqmail_message_set_html(CaqmailMessage *message, const char *html,
                         GError **error)
{
    return cq_message_set_html(message->draft, html, error);
}

gboolean
caqmail_message_add_file(CaqmailMessage *message, const char *path,
                         const char *filename, GError **error)
{
    gint64 max = message->context->config->message.max_attachment_size;

    return cq_message_add_attachment(message->draft, path, filename, NULL, max,
                                     error) != NULL ||
           cq_api_fail(error);
}

gboolean
caqmail_message_add_document(CaqmailMessage *message, const char *document,
                             GError **error)
{
    gint64 number = 0;

    if (!cq_document_parse_id(document ? document : "", &number, error))
        return FALSE;
    g_ptr_array_add(message->documents, g_strdup(document));
    return TRUE;
}

void
caqmail_message_set_convert_to_pdf(CaqmailMessage *message, gboolean convert)
{
    message->to_pdf = convert;
}

gboolean
caqmail_message_add_header(CaqmailMessage *message, const char *name,
                           const char *value, GError **error)
{
    return cq_message_add_header(message->draft, name, value, error);
}

gboolean
caqmail_message_set_record(CaqmailMessage *message, const char *record,
                           GError **error)
{
    return cq_message_set_record(message->draft, record, error);
}

void
caqmail_message_set_origin(CaqmailMessage *message, CaqmailOrigin origin)
{
    if ((guint)origin <= CQ_ORIGIN_API)
        message->draft->origin = (CqOrigin)origin;
}

gboolean
caqmail_message_set_acting_user(CaqmailMessage *message, const char *login,
                                GError **error)
{
    if (login != NULL && *login == '\0') {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "acting user: empty login");
        return FALSE;
    }
    g_free(message->acting_user);
    message->acting_user = g_strdup(login);
    return TRUE;
}

/* ---- enqueueing -------------------------------------------------------- */

static gboolean
add_recipients(CaqmailMessage *message, CqSession *session, CqMessage *m,
               GError **error)
{
    for (guint k = 0; k < N_KINDS; k++) {
        GPtrArray *items = message->rcpts[k];
        g_ptr_array_add(items, NULL);
        gboolean ok = cq_resolve_add(session, m, (CqRecipientKind)k,
                                     (const char *const *)items->pdata, error);
        g_ptr_array_remove_index(items, items->len - 1);
        if (!ok)
            return FALSE;
    }
    if (message->copy_to_sender &&
        !cq_resolve_copy_to_sender(session, m, error))
        return FALSE;
    cq_resolve_dedup(m);
    if (m->recipients->len == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_USAGE,
                    "message '%s' has no recipient", m->subject);
        return FALSE;
    }
    return TRUE;
}

static gboolean
copy_draft(const CqMessage *d, CqMessage *m, gint64 max, GError **error)
{
    if (!cq_message_set_subject(m, d->subject, error) ||
        !cq_message_set_text(m, d->text, error) ||
        (d->html && !cq_message_set_html(m, d->html, error)) ||
        (d->record && !cq_message_set_record(m, d->record, error)))
        return FALSE;
    for (guint i = 0; i < d->headers->len; i++) {
        const CqHeader *h = d->headers->pdata[i];
        if (!cq_message_add_header(m, h->name, h->value, error))
            return FALSE;
    }
    for (guint i = 0; i < d->attachments->len; i++) {
        const CqAttachment *a = d->attachments->pdata[i];
        if (!cq_message_add_attachment(m, a->path, a->filename, a->content_type,
                                       max, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
add_documents(CaqmailMessage *message, CqSession *session,
              CqDocumentSpool *spool, CqMessage *m, gint64 max, GError **error)
{
    for (guint i = 0; i < message->documents->len; i++) {
        if (!cq_document_attach(session, m, message->documents->pdata[i], spool,
                                max, error))
            return FALSE;
    }
    return TRUE;
}

static CqMessage *
compose(CaqmailMessage *message, CqSession *session, CqDocumentSpool *spool,
        GError **error)
{
    const CqConfig *config = message->context->config;
    gint64 max = config->message.max_attachment_size;
    g_autoptr(CqMessage) m = cq_message_new(message->draft->origin);
    g_autofree char *from = message->from
                                ? g_strdup(message->from)
                                : cq_resolve_default_sender(session, config);

    if (!cq_message_set_from(m, from, error) ||
        !add_recipients(message, session, m, error) ||
        !copy_draft(message->draft, m, max, error) ||
        !add_documents(message, session, spool, m, max, error))
        return NULL;
    CqConvertOptions convert = cq_convert_options_from_config(config);
    if (message->to_pdf && !cq_attach_all_to_pdf(&convert, m, max, error))
        return NULL;
    return g_steal_pointer(&m);
}

gboolean
caqmail_message_enqueue(CaqmailMessage *message, gint64 *mail_id,
                        GError **error)
{
    const CqConfig *config = message->context->config;
    CqSession *session = NULL;
    g_autoptr(CqSession) owned = NULL;
    g_autoptr(CqDocumentSpool) spool = NULL;
    g_autoptr(CqMessage) m = NULL;

    if (!cq_api_session_as(message->context, message->acting_user, &session,
                           &owned, error))
        return FALSE;
    if (message->documents->len > 0 &&
        (spool = cq_document_spool_new(error)) == NULL)
        return cq_api_fail(error);
    m = compose(message, session, spool, error);
    if (m == NULL)
        return cq_api_fail(error);
    CqMimeOptions options =
        cq_mime_options_from_config(config, cq_transport_allows_8bit(config));
    return cq_outbox_enqueue(session, m, &options, mail_id, error) ||
           cq_api_fail(error);
}
