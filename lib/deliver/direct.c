#include "deliver/direct.h"

#include "common/error.h"
#include "common/event.h"
#include "deliver/maildir.h"

#include <glib/gstdio.h>

void
cq_direct_result_clear(CqDirectResult *result)
{
    g_clear_pointer(&result->location, g_free);
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
        g_set_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE,
                    "SMTP delivery is not built into this caqmail");
        break;
    }
    if (ok)
        log_sent(message, result);
    return ok;
}
