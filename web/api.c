/* The endpoints that read: catalog, records, documents, mails and the
 * outbox, and the ones that act on a single mail. */
#include "web/web.h"

#include <string.h>

#define DEFAULT_LIMIT 10
#define MAX_LIMIT 200

static guint
limit_of(WebRequest *req)
{
    const char *text = web_query(req, "limit");
    guint64 value = DEFAULT_LIMIT;
    if (text != NULL &&
        !g_ascii_string_to_unsigned(text, 10, 1, MAX_LIMIT, &value, NULL))
        value = DEFAULT_LIMIT;
    return (guint)value;
}

/* The history needs read-own or read-all: without either, 403. */
static gboolean
require_reader(WebRequest *req)
{
    return caqmail_context_may(req->user, "read-all") ||
           web_require(req, "read-own", "read the history");
}

void
web_api_catalog(WebRequest *req)
{
    g_autoptr(GError) error = NULL;
    const char *q = web_query(req, "q");
    g_autofree char *trimmed = g_strstrip(g_strdup(q ? q : ""));

    if (*trimmed == '\0') {
        web_reply_message(req, 400, "invalid", "give the search text as q");
        return;
    }
    char *json =
        caqmail_json_catalog_search(req->user, q, limit_of(req), &error);
    web_reply_view(req, json, error);
}

void
web_api_records(WebRequest *req)
{
    g_autoptr(GError) error = NULL;
    char *json = caqmail_json_records(req->user, web_query(req, "q"),
                                      limit_of(req), &error);
    web_reply_view(req, json, error);
}

void
web_api_documents(WebRequest *req)
{
    g_autoptr(GError) error = NULL;
    char *json =
        caqmail_json_documents(req->user, web_query(req, "q"),
                               web_query(req, "record"), limit_of(req), &error);
    web_reply_view(req, json, error);
}

void
web_api_record_mails(WebRequest *req)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *record = g_uri_unescape_string(req->params[0], NULL);

    if (record == NULL) {
        web_reply_message(req, 400, "invalid", "bad record identifier");
        return;
    }
    if (!require_reader(req))
        return;
    char *json = caqmail_json_mails(req->user, record, NULL, 0, &error);
    web_reply_view(req, json, error);
}

void
web_api_outbox(WebRequest *req)
{
    static const char *const waiting[] = {"queued",    "sending", "deferred",
                                          "uncertain", "failed",  "partly-sent",
                                          NULL};
    g_autoptr(GError) error = NULL;
    const char *state = web_query(req, "state");
    const char *one[] = {state, NULL};

    if (!web_require(req, "administer", "see the outbox"))
        return;
    char *json = caqmail_json_mails(req->user, NULL, state ? one : waiting,
                                    MAX_LIMIT, &error);
    web_reply_view(req, json, error);
}

void
web_api_mail(WebRequest *req)
{
    g_autoptr(GError) error = NULL;
    gint64 id = 0;

    if (!web_param_id(req, 0, &id) || !require_reader(req))
        return;
    char *json = caqmail_json_mail(req->user, id, &error);
    web_reply_view(req, json, error);
}

void
web_api_mail_raw(WebRequest *req)
{
    g_autoptr(GError) error = NULL;
    gint64 id = 0;

    if (!web_param_id(req, 0, &id) || !require_reader(req))
        return;
    g_autoptr(GBytes) raw = caqmail_mail_get_raw(req->user, id, &error);
    if (raw == NULL) {
        web_reply_error(req, error);
        return;
    }
    g_autofree char *name =
        g_strdup_printf("mail-%" G_GINT64_FORMAT ".eml", id);
    web_reply_bytes(req, "message/rfc822", name, raw);
}

void
web_api_mail_attachment(WebRequest *req)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *name = NULL, *type = NULL;
    gint64 id = 0, index = 0;

    if (!web_param_id(req, 0, &id))
        return;
    if (g_strcmp0(req->params[1], "0") != 0 && !web_param_id(req, 1, &index))
        return;
    if (!require_reader(req))
        return;
    g_autoptr(GBytes) bytes = caqmail_mail_get_attachment(
        req->user, id, (guint)index, &name, &type, &error);
    if (bytes == NULL) {
        web_reply_error(req, error);
        return;
    }
    /* never shown by the browser itself: an HTML file is a download */
    web_reply_bytes(
        req,
        g_str_has_prefix(type, "text/html") ? "application/octet-stream" : type,
        name, bytes);
}

static void
act(WebRequest *req, gboolean (*action)(CaqmailContext *, gint64, GError **))
{
    g_autoptr(GError) error = NULL;
    gint64 id = 0;

    if (!web_param_id(req, 0, &id))
        return;
    if (!action(req->user, id, &error)) {
        web_reply_error(req, error);
        return;
    }
    g_autoptr(CaqmailMail) mail = caqmail_mail_get(req->user, id, NULL);
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, id);
    json_builder_set_member_name(b, "state");
    if (mail != NULL)
        json_builder_add_string_value(b, caqmail_mail_get_state(mail));
    else
        json_builder_add_null_value(b);
    json_builder_end_object(b);
    web_reply_json(req, 200, json_builder_get_root(b));
    g_object_unref(b);
}

void
web_api_outbox_retry(WebRequest *req)
{
    act(req, caqmail_mail_retry);
}

void
web_api_outbox_cancel(WebRequest *req)
{
    act(req, caqmail_mail_cancel);
}

void
web_api_verify(WebRequest *req)
{
    g_autoptr(GError) error = NULL;
    char *json = caqmail_json_history_verify(req->user, &error);
    web_reply_view(req, json, error);
}
