/* Sending a mail described in JSON, as the web page composes it: each
 * attachment converted to PDF on its own request, progress reported. */
#include "api/api.h"

#include "common/error.h"

#include "attach/prepare.h"
#include "deliver/direct.h"
#include "document/document.h"
#include "outbox/outbox.h"
#include "resolve/resolve.h"

#include <json-glib/json-glib.h>

typedef struct {
    CqMessage *message;
    CqDocumentSpool *spool;
    GArray *pdf; /* guint indexes of attachments to convert */
} Draft;

static void
draft_clear(Draft *d)
{
    g_clear_pointer(&d->message, cq_message_free);
    g_clear_pointer(&d->spool, cq_document_spool_free);
    g_clear_pointer(&d->pdf, g_array_unref);
}

static gboolean
invalid(GError **error, const char *member, const char *expected)
{
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID, "\"%s\": expected %s",
                member, expected);
    return FALSE;
}

/* The strings of the list @member (absent or null: none), NULL-ended. */
static gboolean
string_list(JsonObject *o, const char *member, GPtrArray *out, GError **error)
{
    JsonNode *node = json_object_get_member(o, member);
    if (node == NULL || JSON_NODE_HOLDS_NULL(node))
        return TRUE;
    if (!JSON_NODE_HOLDS_ARRAY(node))
        return invalid(error, member, "a list of strings");
    JsonArray *a = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonNode *item = json_array_get_element(a, i);
        if (json_node_get_value_type(item) != G_TYPE_STRING)
            return invalid(error, member, "a list of strings");
        g_ptr_array_add(out, (gpointer)json_node_get_string(item));
    }
    return TRUE;
}

static gboolean
optional_string(JsonObject *o, const char *member, const char **out,
                GError **error)
{
    JsonNode *node = json_object_get_member(o, member);
    *out = NULL;
    if (node == NULL || JSON_NODE_HOLDS_NULL(node))
        return TRUE;
    if (json_node_get_value_type(node) != G_TYPE_STRING)
        return invalid(error, member, "a string");
    *out = json_node_get_string(node);
    return TRUE;
}

static gboolean
optional_bool(JsonObject *o, const char *member, gboolean *out, GError **error)
{
    JsonNode *node = json_object_get_member(o, member);
    *out = FALSE;
    if (node == NULL || JSON_NODE_HOLDS_NULL(node))
        return TRUE;
    if (json_node_get_value_type(node) != G_TYPE_BOOLEAN)
        return invalid(error, member, "true or false");
    *out = json_node_get_boolean(node);
    return TRUE;
}

static gboolean
add_recipients(CqSession *s, CqMessage *m, JsonObject *o, GError **error)
{
    static const struct {
        const char *member;
        CqRecipientKind kind;
    } kinds[] = {{"to", CQ_RCPT_TO}, {"cc", CQ_RCPT_CC}, {"bcc", CQ_RCPT_BCC}};
    gboolean copy = FALSE;

    for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
        g_autoptr(GPtrArray) items = g_ptr_array_new();
        if (!string_list(o, kinds[k].member, items, error))
            return FALSE;
        if (items->len == 0)
            continue;
        g_ptr_array_add(items, NULL);
        if (!cq_resolve_add(s, m, kinds[k].kind,
                            (const char *const *)items->pdata, error))
            return FALSE;
    }
    if (!optional_bool(o, "copy_to_me", &copy, error) ||
        (copy && !cq_resolve_copy_to_sender(s, m, error)))
        return FALSE;
    cq_resolve_dedup(m);
    return TRUE;
}

static gboolean
add_file(const CqConfig *config, CqSession *s, Draft *d, JsonNode *node,
         GError **error)
{
    JsonObject *f =
        JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    const char *path = NULL, *name = NULL, *doc = NULL;
    gboolean pdf = FALSE;
    gint64 max = config->message.max_attachment_size;
    CqAttachment *a = NULL;

    if (f == NULL)
        return invalid(error, "attachments", "a list of objects");
    if (!optional_string(f, "path", &path, error) ||
        !optional_string(f, "filename", &name, error) ||
        !optional_string(f, "document", &doc, error) ||
        !optional_bool(f, "pdf", &pdf, error))
        return FALSE;
    if ((path == NULL) == (doc == NULL))
        return invalid(error, "attachments",
                       "a \"path\" or a \"document\" for each");
    if (doc != NULL) {
        if (d->spool == NULL &&
            (d->spool = cq_document_spool_new(error)) == NULL)
            return FALSE;
        a = cq_document_attach(s, d->message, doc, d->spool, max, error);
    } else {
        a = cq_message_add_attachment(d->message, path, name, NULL, max, error);
    }
    guint index = d->message->attachments->len - 1;
    if (a != NULL && pdf)
        g_array_append_val(d->pdf, index);
    return a != NULL;
}

static gboolean
add_files(const CqConfig *config, CqSession *s, Draft *d, JsonObject *o,
          GError **error)
{
    JsonNode *node = json_object_get_member(o, "attachments");
    if (node == NULL || JSON_NODE_HOLDS_NULL(node))
        return TRUE;
    if (!JSON_NODE_HOLDS_ARRAY(node))
        return invalid(error, "attachments", "a list");
    JsonArray *a = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonNode *item = json_array_get_element(a, i);
        if (!add_file(config, s, d, item, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
has_document(JsonObject *o)
{
    JsonNode *node = json_object_get_member(o, "attachments");
    JsonArray *a =
        node && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonNode *item = json_array_get_element(a, i);
        if (JSON_NODE_HOLDS_OBJECT(item) &&
            json_object_has_member(json_node_get_object(item), "document"))
            return TRUE;
    }
    return FALSE;
}

static gboolean
compose(const CqConfig *config, CqSession *s, JsonObject *o, Draft *d,
        GError **error)
{
    const char *subject = NULL, *text = NULL, *record = NULL;

    if (!cq_session_require(s, CQ_PERM_SEND, "send mail", error))
        return FALSE;
    d->message =
        cq_message_new(has_document(o) ? CQ_ORIGIN_DOCUMENT : CQ_ORIGIN_MANUAL);
    d->pdf = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autofree char *from = cq_resolve_default_sender(s, config);
    return optional_string(o, "subject", &subject, error) &&
           optional_string(o, "text", &text, error) &&
           optional_string(o, "record", &record, error) &&
           cq_message_set_from(d->message, from, error) &&
           add_recipients(s, d->message, o, error) &&
           cq_message_set_subject(d->message, subject ? subject : "", error) &&
           cq_message_set_text(d->message, text ? text : "", error) &&
           (record == NULL || *record == '\0' ||
            cq_message_set_record(d->message, record, error)) &&
           add_files(config, s, d, o, error) &&
           cq_message_check(d->message, error);
}

static void
report(CaqmailSendProgress progress, void *data, const char *state, guint done,
       guint total, gint64 mail_id)
{
    if (progress != NULL)
        progress(state, done, total, mail_id, data);
}

static gboolean
convert(const CqConfig *config, Draft *d, CaqmailSendProgress progress,
        void *data, GError **error)
{
    CqConvertOptions options = cq_convert_options_from_config(config);
    gint64 max = config->message.max_attachment_size;

    for (guint i = 0; i < d->pdf->len; i++) {
        report(progress, data, "converting", i, d->pdf->len, 0);
        CqAttachment *a =
            d->message->attachments->pdata[g_array_index(d->pdf, guint, i)];
        if (!cq_attach_to_pdf(&options, a, max, error))
            return FALSE;
    }
    return TRUE;
}

static const char *
final_state(const CqDeliverStats *stats)
{
    return stats->sent          ? "sent"
           : stats->deferred    ? "deferred"
           : stats->uncertain   ? "uncertain"
           : stats->partly_sent ? "partly-sent"
                                : "failed";
}

static gboolean
store_and_deliver(const CqConfig *config, CqSession *s, Draft *d,
                  CaqmailSendProgress progress, void *data, gint64 *mail_id,
                  char **state, GError **error)
{
    g_autoptr(CqTransport) transport = cq_transport_new(config, error);
    if (transport == NULL)
        return FALSE;
    CqMimeOptions mime =
        cq_mime_options_from_config(config, cq_transport_probe_8bit(transport));
    if (!cq_outbox_enqueue(s, d->message, &mime, mail_id, error))
        return FALSE;
    report(progress, data, "queued", 0, 0, *mail_id);
    report(progress, data, "sending", 0, 0, *mail_id);
    CqDeliverOptions options = cq_deliver_options_from_config(config);
    CqDeliverStats stats = {0};
    options.only_mail = *mail_id;
    if (!cq_outbox_deliver(s, transport, &options, &stats, NULL, NULL, error))
        return FALSE;
    *state = g_strdup(final_state(&stats));
    return TRUE;
}

static JsonObject *
parse_request(const char *request, JsonParser *parser, GError **error)
{
    g_autoptr(GError) local = NULL;
    if (!json_parser_load_from_data(parser, request ? request : "", -1,
                                    &local)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID, "malformed JSON: %s",
                    local->message);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "malformed JSON: expected an object");
        return NULL;
    }
    return json_node_get_object(root);
}

gboolean
caqmail_send_json(CaqmailContext *context, const char *request,
                  gboolean check_only, CaqmailSendProgress progress,
                  void *user_data, gint64 *mail_id, char **state,
                  GError **error)
{
    g_return_val_if_fail(context != NULL, FALSE);
    g_autoptr(JsonParser) parser = json_parser_new();
    CqSession *s = cq_api_session(context, error);
    JsonObject *o = s ? parse_request(request, parser, error) : NULL;
    Draft d = {0};
    gboolean ok = FALSE;

    if (o != NULL && compose(context->config, s, o, &d, error)) {
        ok = check_only ||
             (convert(context->config, &d, progress, user_data, error) &&
              store_and_deliver(context->config, s, &d, progress, user_data,
                                mail_id, state, error));
    }
    draft_clear(&d);
    return ok || cq_api_fail(error);
}
