#include "deliver/direct.h"

#include "common/error.h"
#include "common/event.h"
#include "deliver/maildir.h"
#include "smtp/client.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <unistd.h>

void
cq_direct_result_clear(CqDirectResult *result)
{
    g_clear_pointer(&result->location, g_free);
    cq_smtp_result_clear(&result->smtp);
}

CqMimeOptions
cq_mime_options_from_config(const CqConfig *config, gboolean transport_8bit)
{
    CqMimeOptions options = {
        .message_id_domain = config->message.message_id_domain,
        .allow_8bit = transport_8bit &&
                      g_strcmp0(config->message.body_encoding, "auto") == 0,
        .max_message_size = config->message.max_message_size,
    };
    return options;
}

static void
log_sent(const CqMessage *message, const CqDirectResult *result)
{
    CqEvent *ev = cq_event_begin(CQ_LOG_NOTICE, "sent");
    if (ev == NULL)
        return;

    g_autofree char *from = cq_address_spec(message->from);
    cq_event_add(ev, "mail", message->message_id);
    cq_event_add(ev, "origin", cq_origin_name(message->origin));
    cq_event_add(ev, "record", message->record);
    cq_event_add(ev, "from", from);
    cq_event_addf(ev, "rcpts", "%u", message->recipients->len);
    cq_event_addf(ev, "attachments", "%u", message->attachments->len);
    cq_event_addf(ev, "size", "%" G_GINT64_FORMAT, result->size);
    cq_event_add(ev, "transport", result->transport);
    cq_event_add(ev, "location", result->location);
    cq_event_end(ev);
}

static gboolean
deliver_maildir(const CqConfig *config, CqMessage *message,
                CqDirectResult *result, GError **error)
{
    CqMimeOptions options = cq_mime_options_from_config(config, TRUE);
    g_autoptr(CqMime) mime = cq_mime_build(message, &options, error);
    GStatBuf st;

    if (mime == NULL)
        return FALSE;
    result->transport = "maildir";
    result->location =
        cq_maildir_deliver(config->transport.maildir, mime, error);
    if (result->location == NULL)
        return FALSE;
    if (g_stat(result->location, &st) == 0)
        result->size = st.st_size;
    return TRUE;
}

/* Writes the composed message into an unlinked temporary file, so that
 * it is streamed from disk and its size is known for SIZE=. */
static GMimeStream *
compose_to_file(CqMime *mime, GError **error)
{
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("caqmail-send-XXXXXX", &path, NULL);

    if (fd < 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO,
                    "temporary file for the message: %s", g_strerror(errno));
        return NULL;
    }
    unlink(path);
    GMimeStream *stream = g_mime_stream_fs_new(fd);
    if (!cq_mime_write(mime, stream, error) ||
        g_mime_stream_reset(stream) != 0) {
        g_object_unref(stream);
        return NULL;
    }
    return stream;
}

static CqSmtpEnvelope *
envelope_of(const CqMessage *message, gboolean is_8bit, GError **error)
{
    g_autofree char *from = cq_address_spec(message->from);
    g_autoptr(CqSmtpEnvelope) env = cq_smtp_envelope_new(from, error);

    if (env == NULL)
        return NULL;
    for (guint i = 0; i < message->recipients->len; i++) {
        const CqRecipient *rcpt = message->recipients->pdata[i];
        g_autofree char *spec = cq_address_spec(rcpt->address);
        if (!cq_smtp_envelope_add_recipient(env, spec, NULL, error))
            return NULL;
    }
    cq_smtp_envelope_set_8bit(env, is_8bit);
    cq_smtp_envelope_set_smtputf8(env, cq_message_needs_smtputf8(message));
    return g_steal_pointer(&env);
}

static void
log_recipients(const CqSmtpResult *smtp)
{
    for (guint i = 0; i < smtp->rcpts->len; i++) {
        const CqSmtpRcptResult *rr = smtp->rcpts->pdata[i];
        gboolean ok = rr->status == CQ_SMTP_RCPT_ACCEPTED;
        CqEvent *ev = cq_event_begin(ok ? CQ_LOG_INFO : CQ_LOG_WARNING,
                                     "rcpt");
        cq_event_add(ev, "to", rr->address);
        cq_event_add(ev, "status", cq_smtp_rcpt_status_name(rr->status));
        cq_event_addf(ev, "code", "%u", rr->code);
        cq_event_add(ev, "enhanced", rr->enhanced);
        cq_event_add(ev, "reply", rr->text);
        cq_event_end(ev);
    }
}

/* A partly sent mail fails too, naming the refused recipients. */
static gboolean
check_all_accepted(const CqSmtpResult *smtp, GError **error)
{
    g_autoptr(GString) refused = g_string_new(NULL);

    for (guint i = 0; i < smtp->rcpts->len; i++) {
        const CqSmtpRcptResult *rr = smtp->rcpts->pdata[i];
        if (rr->status == CQ_SMTP_RCPT_ACCEPTED)
            continue;
        g_string_append_printf(refused, "%s<%s> (%u %s)",
                               refused->len ? ", " : "", rr->address,
                               rr->code, rr->text ? rr->text : "");
    }
    if (refused->len == 0)
        return TRUE;
    g_set_error(error, CQ_ERROR,
                cq_smtp_result_has_temporary(smtp) ? CQ_ERROR_TEMPFAIL
                                                   : CQ_ERROR_PERMFAIL,
                "sent, but not to every recipient: refused %s",
                refused->str);
    return FALSE;
}

static gboolean
send_smtp(const CqConfig *config, CqSmtpClient *client, CqMessage *message,
          gboolean is_8bit, CqDirectResult *result, GError **error)
{
    CqMimeOptions options = cq_mime_options_from_config(config, is_8bit);
    g_autoptr(CqMime) mime = cq_mime_build(message, &options, error);
    g_autoptr(CqSmtpEnvelope) env = NULL;
    g_autoptr(GMimeStream) stream = NULL;

    if (mime == NULL ||
        (env = envelope_of(message, options.allow_8bit, error)) == NULL ||
        (stream = compose_to_file(mime, error)) == NULL)
        return FALSE;
    result->size = g_mime_stream_length(stream);
    gboolean sent = cq_smtp_client_send(client, env, stream, &result->smtp,
                                        error);
    log_recipients(&result->smtp);
    return sent && check_all_accepted(&result->smtp, error);
}

static gboolean
deliver_smtp(const CqConfig *config, CqMessage *message,
             CqDirectResult *result, GError **error)
{
    g_autoptr(CqSmtpClient) client = cq_smtp_client_new(config, error);

    cq_smtp_result_init(&result->smtp);
    result->transport = "smtp";
    if (client == NULL || !cq_smtp_client_open(client, NULL, error))
        return FALSE;
    const CqSmtpServerInfo *info = cq_smtp_client_get_info(client);
    result->location = g_strdup_printf("%s:%u", info->host, info->port);
    return send_smtp(config, client, message,
                     (info->extensions & CQ_SMTP_EXT_8BITMIME) != 0, result,
                     error);
}

gboolean
cq_deliver_direct(const CqConfig *config, CqMessage *message,
                  CqDirectResult *result, GError **error)
{
    gboolean ok = FALSE;

    switch (config->transport.kind) {
    case CQ_TRANSPORT_MAILDIR:
        ok = deliver_maildir(config, message, result, error);
        break;
    case CQ_TRANSPORT_SMTP:
        ok = deliver_smtp(config, message, result, error);
        break;
    }
    if (ok)
        log_sent(message, result);
    return ok;
}
