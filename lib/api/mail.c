/* Stored mails as the acting user may read them, delivery passes and the
 * catalog search: the public API over the outbox, the history and the
 * catalog. */
#include "api/api.h"

#include "catalog/catalog.h"
#include "common/error.h"
#include "history/mails.h"
#include "outbox/outbox.h"

struct _CaqmailMail {
    CqMailInfo *info;
    GPtrArray *rcpts;       /* of CqRcptInfo, or NULL in lists */
    GPtrArray *attachments; /* of CqAttachmentInfo, or NULL in lists */
};

static CaqmailMail *
mail_new(CqMailInfo *info)
{
    CaqmailMail *mail = g_new0(CaqmailMail, 1);
    mail->info = info;
    return mail;
}

void
caqmail_mail_free(CaqmailMail *mail)
{
    if (mail == NULL)
        return;
    cq_mail_info_free(mail->info);
    g_clear_pointer(&mail->rcpts, g_ptr_array_unref);
    g_clear_pointer(&mail->attachments, g_ptr_array_unref);
    g_free(mail);
}

CaqmailMail *
caqmail_mail_get(CaqmailContext *context, gint64 mail_id, GError **error)
{
    CqSession *session = cq_api_session(context, error);
    if (session == NULL)
        return NULL;
    g_autoptr(CqMailDetail) detail = cq_mail_detail(session, mail_id, error);
    if (detail == NULL) {
        cq_api_fail(error);
        return NULL;
    }
    CaqmailMail *mail = mail_new(g_steal_pointer(&detail->mail));
    mail->rcpts = g_steal_pointer(&detail->rcpts);
    mail->attachments = g_steal_pointer(&detail->attachments);
    return mail;
}

GPtrArray *
caqmail_history_list(CaqmailContext *context, const char *record,
                     const char *text, guint limit, GError **error)
{
    CqSession *session = cq_api_session(context, error);
    CqMailFilter filter = {.record = record, .text = text, .limit = limit};

    if (session == NULL)
        return NULL;
    g_autoptr(GPtrArray) infos = cq_mail_query(session, &filter, error);
    if (infos == NULL) {
        cq_api_fail(error);
        return NULL;
    }
    GPtrArray *mails =
        g_ptr_array_new_full(infos->len, (GDestroyNotify)caqmail_mail_free);
    /* The query sorts the newest first only when limited. */
    for (guint n = 0; n < infos->len; n++) {
        guint i = limit ? n : infos->len - 1 - n;
        g_ptr_array_add(mails, mail_new(g_steal_pointer(&infos->pdata[i])));
    }
    return mails;
}

GBytes *
caqmail_mail_get_raw(CaqmailContext *context, gint64 mail_id, GError **error)
{
    CqSession *session = cq_api_session(context, error);
    if (session == NULL)
        return NULL;
    g_autoptr(GByteArray) bytes = g_byte_array_new();
    g_autoptr(GMimeStream) out = g_mime_stream_mem_new_with_byte_array(bytes);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(out), FALSE);
    if (!cq_mail_write_raw(session, mail_id, out, error)) {
        cq_api_fail(error);
        return NULL;
    }
    return g_byte_array_free_to_bytes(g_steal_pointer(&bytes));
}

gint64
caqmail_mail_get_id(const CaqmailMail *mail)
{
    return mail->info->id;
}

const char *
caqmail_mail_get_state(const CaqmailMail *mail)
{
    return mail->info->state;
}

const char *
caqmail_mail_get_message_id(const CaqmailMail *mail)
{
    return mail->info->message_id;
}

const char *
caqmail_mail_get_record(const CaqmailMail *mail)
{
    return mail->info->record;
}

const char *
caqmail_mail_get_sender(const CaqmailMail *mail)
{
    return mail->info->sender;
}

const char *
caqmail_mail_get_operator(const CaqmailMail *mail)
{
    return mail->info->operator;
}

const char *
caqmail_mail_get_from(const CaqmailMail *mail)
{
    return mail->info->from;
}

const char *
caqmail_mail_get_subject(const CaqmailMail *mail)
{
    return mail->info->subject;
}

const char *
caqmail_mail_get_origin(const CaqmailMail *mail)
{
    return mail->info->origin;
}

gint64
caqmail_mail_get_created(const CaqmailMail *mail)
{
    return mail->info->created;
}

gint64
caqmail_mail_get_size(const CaqmailMail *mail)
{
    return mail->info->size;
}

gint64
caqmail_mail_get_attempts(const CaqmailMail *mail)
{
    return mail->info->attempts;
}

const char *
caqmail_mail_get_last_error(const CaqmailMail *mail)
{
    return mail->info->last_error;
}

guint
caqmail_mail_get_n_recipients(const CaqmailMail *mail)
{
    return mail->rcpts ? mail->rcpts->len : (guint)mail->info->n_rcpts;
}

static const CqRcptInfo *
rcpt(const CaqmailMail *mail, guint index)
{
    g_return_val_if_fail(mail->rcpts != NULL && index < mail->rcpts->len, NULL);
    return mail->rcpts->pdata[index];
}

const char *
caqmail_mail_get_recipient_kind(const CaqmailMail *mail, guint index)
{
    const CqRcptInfo *r = rcpt(mail, index);
    return r ? r->kind : NULL;
}

const char *
caqmail_mail_get_recipient_address(const CaqmailMail *mail, guint index)
{
    const CqRcptInfo *r = rcpt(mail, index);
    return r ? r->address : NULL;
}

const char *
caqmail_mail_get_recipient_source(const CaqmailMail *mail, guint index)
{
    const CqRcptInfo *r = rcpt(mail, index);
    return r ? r->source : NULL;
}

const char *
caqmail_mail_get_recipient_status(const CaqmailMail *mail, guint index)
{
    const CqRcptInfo *r = rcpt(mail, index);
    return r ? r->status : NULL;
}

int
caqmail_mail_get_recipient_code(const CaqmailMail *mail, guint index)
{
    const CqRcptInfo *r = rcpt(mail, index);
    return r ? (int)r->code : 0;
}

const char *
caqmail_mail_get_recipient_reply(const CaqmailMail *mail, guint index)
{
    const CqRcptInfo *r = rcpt(mail, index);
    return r ? r->reply : NULL;
}

guint
caqmail_mail_get_n_attachments(const CaqmailMail *mail)
{
    return mail->attachments ? mail->attachments->len : 0;
}

static const CqAttachmentInfo *
attachment(const CaqmailMail *mail, guint index)
{
    g_return_val_if_fail(
        mail->attachments != NULL && index < mail->attachments->len, NULL);
    return mail->attachments->pdata[index];
}

const char *
caqmail_mail_get_attachment_name(const CaqmailMail *mail, guint index)
{
    const CqAttachmentInfo *a = attachment(mail, index);
    return a ? a->filename : NULL;
}

gint64
caqmail_mail_get_attachment_size(const CaqmailMail *mail, guint index)
{
    const CqAttachmentInfo *a = attachment(mail, index);
    return a ? a->size : -1;
}

const char *
caqmail_mail_get_attachment_sha256(const CaqmailMail *mail, guint index)
{
    const CqAttachmentInfo *a = attachment(mail, index);
    return a ? a->sha256 : NULL;
}

gboolean
caqmail_mail_retry(CaqmailContext *context, gint64 mail_id, GError **error)
{
    CqSession *session = cq_api_session(context, error);
    return (session != NULL && cq_outbox_retry(session, mail_id, error)) ||
           cq_api_fail(error);
}

gboolean
caqmail_mail_cancel(CaqmailContext *context, gint64 mail_id, GError **error)
{
    CqSession *session = cq_api_session(context, error);
    return (session != NULL && cq_outbox_cancel(session, mail_id, error)) ||
           cq_api_fail(error);
}

/* ---- delivery ---------------------------------------------------------- */

gboolean
caqmail_deliver(CaqmailContext *context, gint64 mail_id,
                CaqmailDeliverStats *stats, GError **error)
{
    CqSession *session = cq_api_session(context, error);
    CqDeliverOptions options = cq_deliver_options_from_config(context->config);
    CqDeliverStats done = {0};

    if (stats != NULL)
        *stats = (CaqmailDeliverStats){0};
    if (session == NULL)
        return FALSE;
    g_autoptr(CqTransport) transport = cq_transport_new(context->config, error);
    if (transport == NULL)
        return cq_api_fail(error);
    options.only_mail = mail_id > 0 ? mail_id : 0;
    if (!cq_outbox_deliver(session, transport, &options, &done, NULL, NULL,
                           error))
        return cq_api_fail(error);
    if (stats != NULL) {
        stats->claimed = done.claimed;
        stats->sent = done.sent;
        stats->partly_sent = done.partly_sent;
        stats->deferred = done.deferred;
        stats->failed = done.failed;
        stats->uncertain = done.uncertain;
    }
    return TRUE;
}

/* ---- catalog ----------------------------------------------------------- */

struct _CaqmailCatalogEntry {
    CqEntry *entry;
    char *reference;
};

static void
catalog_entry_free(CaqmailCatalogEntry *entry)
{
    cq_entry_free(entry->entry);
    g_free(entry->reference);
    g_free(entry);
}

GPtrArray *
caqmail_catalog_search(CaqmailContext *context, const char *text,
                       GError **error)
{
    CqSession *session = cq_api_session(context, error);
    if (session == NULL)
        return NULL;
    g_autoptr(GPtrArray) found =
        cq_catalog_search(session, text ? text : "", error);
    if (found == NULL) {
        cq_api_fail(error);
        return NULL;
    }
    GPtrArray *entries =
        g_ptr_array_new_full(found->len, (GDestroyNotify)catalog_entry_free);
    for (guint i = 0; i < found->len; i++) {
        CaqmailCatalogEntry *entry = g_new0(CaqmailCatalogEntry, 1);
        entry->entry = g_steal_pointer(&found->pdata[i]);
        entry->reference = cq_entry_ref(entry->entry);
        g_ptr_array_add(entries, entry);
    }
    return entries;
}

const char *
caqmail_catalog_entry_get_kind(const CaqmailCatalogEntry *entry)
{
    return cq_catalog_kind_name(entry->entry->kind);
}

const char *
caqmail_catalog_entry_get_reference(const CaqmailCatalogEntry *entry)
{
    return entry->reference;
}

const char *
caqmail_catalog_entry_get_ident(const CaqmailCatalogEntry *entry)
{
    return entry->entry->values[0];
}

static const char *
field_or_empty(const CqEntry *entry, const char *field)
{
    const char *value = cq_entry_get(entry, field);
    return value ? value : "";
}

const char *
caqmail_catalog_entry_get_name(const CaqmailCatalogEntry *entry)
{
    if (entry->entry->kind == CQ_CATALOG_LIST)
        return field_or_empty(entry->entry, "description");
    return field_or_empty(entry->entry, "name");
}

const char *
caqmail_catalog_entry_get_email(const CaqmailCatalogEntry *entry)
{
    return field_or_empty(entry->entry, "email");
}
