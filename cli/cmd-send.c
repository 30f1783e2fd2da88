/* caqmail send: compose one mail from options and send it. */
#include "cli.h"

#include "attach/prepare.h"
#include "deliver/direct.h"
#include "document/document.h"
#include "history/mails.h"
#include "mime/build.h"
#include "outbox/outbox.h"
#include "resolve/resolve.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char **to, **cc, **bcc, **attach, **documents, **headers;
    char *from, *subject, *body, *body_file, *html_file, *record;
    gboolean print, pdf, copy_to_me, queue_only, json;
} SendOptions;

static void
send_options_clear(SendOptions *o)
{
    g_strfreev(o->to);
    g_strfreev(o->cc);
    g_strfreev(o->bcc);
    g_strfreev(o->attach);
    g_strfreev(o->documents);
    g_strfreev(o->headers);
    g_free(o->from);
    g_free(o->subject);
    g_free(o->body);
    g_free(o->body_file);
    g_free(o->html_file);
    g_free(o->record);
}

static gboolean
needs_catalog(const SendOptions *o)
{
    char **lists[] = {o->to, o->cc, o->bcc};

    for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; lists[l] && lists[l][i]; i++) {
            if (cq_resolve_needs_catalog(lists[l][i]))
                return TRUE;
        }
    }
    return o->copy_to_me;
}

static gboolean
add_recipients(CqSession *session, CqMessage *message, const SendOptions *o,
               GError **error)
{
    if (!cq_resolve_add(session, message, CQ_RCPT_TO,
                        (const char *const *)o->to, error) ||
        !cq_resolve_add(session, message, CQ_RCPT_CC,
                        (const char *const *)o->cc, error) ||
        !cq_resolve_add(session, message, CQ_RCPT_BCC,
                        (const char *const *)o->bcc, error))
        return FALSE;
    if (o->copy_to_me && !cq_resolve_copy_to_sender(session, message, error))
        return FALSE;
    cq_resolve_dedup(message);
    return TRUE;
}

static gboolean
add_headers(CqMessage *message, char **headers, GError **error)
{
    for (guint i = 0; headers && headers[i]; i++) {
        const char *colon = strchr(headers[i], ':');
        if (colon == NULL) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_USAGE,
                        "--header '%s': expected 'Name: value'", headers[i]);
            return FALSE;
        }
        g_autofree char *name = g_strndup(headers[i], colon - headers[i]);
        g_autofree char *value = g_strstrip(g_strdup(colon + 1));
        if (!cq_message_add_header(message, g_strstrip(name), value, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
set_bodies(CqMessage *message, const SendOptions *o, GError **error)
{
    if (o->body != NULL && o->body_file != NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_USAGE,
                    "--body and --body-file exclude each other");
        return FALSE;
    }
    if (o->body != NULL && !cq_message_set_text(message, o->body, error))
        return FALSE;
    if (o->body_file != NULL) {
        const char *path =
            strcmp(o->body_file, "-") == 0 ? "/dev/stdin" : o->body_file;
        if (!cq_message_set_text_file(message, path, error))
            return FALSE;
    }
    if (o->html_file != NULL &&
        !cq_message_set_html_file(message, o->html_file, error))
        return FALSE;
    return TRUE;
}

/* Files first, then stored documents, each in the order given. */
static gboolean
add_attachments(const CqConfig *config, CqSession *session,
                CqDocumentSpool *spool, CqMessage *message,
                const SendOptions *o, GError **error)
{
    gint64 max = config->message.max_attachment_size;

    for (guint i = 0; o->attach && o->attach[i]; i++) {
        if (!cq_message_add_attachment(message, o->attach[i], NULL, NULL, max,
                                       error))
            return FALSE;
    }
    for (guint i = 0; o->documents && o->documents[i]; i++) {
        if (!cq_document_attach(session, message, o->documents[i], spool, max,
                                error))
            return FALSE;
    }
    return TRUE;
}

static CqMessage *
compose(const CqConfig *config, CqSession *session, CqDocumentSpool *spool,
        const SendOptions *o, GError **error)
{
    g_autoptr(CqMessage) message =
        cq_message_new(o->documents ? CQ_ORIGIN_DOCUMENT : CQ_ORIGIN_MANUAL);
    g_autofree char *from =
        o->from ? g_strdup(o->from)
               : cq_resolve_default_sender(session, config);

    if (!cq_message_set_from(message, from, error) ||
        !add_recipients(session, message, o, error) ||
        (o->subject && !cq_message_set_subject(message, o->subject, error)) ||
        !set_bodies(message, o, error) ||
        !add_headers(message, o->headers, error) ||
        (o->record && !cq_message_set_record(message, o->record, error)) ||
        !add_attachments(config, session, spool, message, o, error))
        return NULL;
    if (!cq_message_check(message, error))
        return NULL;
    CqConvertOptions convert = cq_convert_options_from_config(config);
    if (o->pdf && !cq_attach_all_to_pdf(&convert, message,
                                        config->message.max_attachment_size,
                                        error))
        return NULL;
    return g_steal_pointer(&message);
}

/* Writes the message as it would be sent, with LF line ends. */
static gboolean
print_message(const CqConfig *config, CqMessage *message, GError **error)
{
    CqMimeOptions options = cq_mime_options_from_config(config, TRUE);
    g_autoptr(CqMime) mime = cq_mime_build(message, &options, error);
    if (mime == NULL)
        return FALSE;

    g_autoptr(GMimeStream) out = g_mime_stream_pipe_new(STDOUT_FILENO);
    g_mime_stream_pipe_set_owner(GMIME_STREAM_PIPE(out), FALSE);
    g_autoptr(GMimeStream) filtered = g_mime_stream_filter_new(out);
    g_autoptr(GMimeFilter) lf = g_mime_filter_dos2unix_new(FALSE);
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), lf);
    return cq_mime_write(mime, filtered, error);
}

static void
print_result(gint64 id, const char *state)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, id);
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, state);
    json_builder_end_object(b);
    cli_print_json(json_builder_get_root(b));
}

/* Delivers the new mail at once and reports how that went: a refused
 * mail is an error, a deferred one a warning (the outbox keeps it). */
static int
deliver_now(CqCli *cli, CqSession *session, CqTransport *transport, gint64 id,
            const char **state)
{
    g_autoptr(GError) error = NULL;
    CqDeliverOptions options = cq_deliver_options_from_config(cli->config);
    CqDeliverStats stats = {0};

    options.only_mail = id;
    if (!cq_outbox_deliver(session, transport, &options, &stats, NULL, NULL,
                           &error)) {
        g_prefix_error(&error,
                       "mail %" G_GINT64_FORMAT " is queued, but "
                       "delivering it failed: ",
                       id);
        return cli_fail(cli, error);
    }
    *state = stats.sent          ? "sent"
             : stats.deferred    ? "deferred"
             : stats.uncertain   ? "uncertain"
             : stats.partly_sent ? "partly-sent"
                                 : "failed";
    if (stats.sent)
        return EX_OK;
    CqMailFilter filter = {.id = id};
    g_autoptr(GPtrArray) mails = cq_mail_query(session, &filter, NULL);
    const CqMailInfo *info = mails && mails->len ? mails->pdata[0] : NULL;
    const char *why = info && info->last_error ? info->last_error : "";
    if (stats.deferred || stats.uncertain) {
        fprintf(stderr,
                "caqmail send: mail %" G_GINT64_FORMAT " is %s: %s\n"
                "caqmail send: it stays in the outbox; %s\n",
                id, *state, why,
                stats.deferred ? "'caqmail deliver' tries again"
                               : "see 'caqmail outbox show'");
        return EX_OK;
    }
    g_set_error(&error, CQ_ERROR, CQ_ERROR_PERMFAIL,
                "mail %" G_GINT64_FORMAT " %s: %s", id,
                stats.partly_sent ? "was sent only partly" : "failed", why);
    return cli_fail(cli, error);
}

static int
enqueue(CqCli *cli, CqSession *session, CqMessage *message,
        const SendOptions *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CliTransport) transport = NULL;
    gboolean allow_8bit = cq_transport_allows_8bit(cli->config);
    const char *state = "queued";
    gint64 id = 0;
    int code = EX_OK;

    /* Delivering at once: the server says whether 8bit text may go. */
    if (!o->queue_only) {
        transport = cli_transport_new(cli, &error);
        if (transport == NULL)
            return cli_fail(cli, error);
        allow_8bit = cq_transport_probe_8bit(transport);
    }
    CqMimeOptions options =
        cq_mime_options_from_config(cli->config, allow_8bit);
    if (!cq_outbox_enqueue(session, message, &options, &id, &error))
        return cli_fail(cli, error);
    if (transport != NULL)
        code = deliver_now(cli, session, transport, id, &state);
    if (o->json)
        print_result(id, state);
    return code;
}

static int
run(CqCli *cli, const SendOptions *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqSession) session = NULL;
    g_autoptr(CqDocumentSpool) spool = NULL;
    int code = EX_OK;

    if (!o->print || needs_catalog(o) || o->documents) {
        session = cli_open_session(cli, &code);
        if (session == NULL)
            return code;
    }
    if (o->documents && (spool = cq_document_spool_new(&error)) == NULL)
        return cli_fail(cli, error);
    g_autoptr(CqMessage) message =
        compose(cli->config, session, spool, o, &error);
    if (message == NULL)
        return cli_fail(cli, error);
    if (o->print) {
        if (!print_message(cli->config, message, &error))
            return cli_fail(cli, error);
        return EX_OK;
    }
    return enqueue(cli, session, message, o);
}

int
cmd_send(CqCli *cli, int argc, char **argv)
{
    SendOptions o = {0};
    int code = EX_USAGE;
    const GOptionEntry entries[] = {
        {"to", 't', 0, G_OPTION_ARG_STRING_ARRAY, &o.to,
         "Recipient: an address or a catalog reference (person, login, "
         "contact, department, list:NAME); repeatable, comma-separated",
         "ADDR"},
        {"cc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.cc, "Copy recipient",
         "ADDR"},
        {"bcc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.bcc, "Blind copy recipient",
         "ADDR"},
        {"from", 'f', 0, G_OPTION_ARG_STRING, &o.from,
         "Sender (default: [message] from, else USER@HOST)", "ADDR"},
        {"subject", 's', 0, G_OPTION_ARG_STRING, &o.subject, "Subject", "TEXT"},
        {"body", 'b', 0, G_OPTION_ARG_STRING, &o.body, "Text body", "TEXT"},
        {"body-file", 0, 0, G_OPTION_ARG_FILENAME, &o.body_file,
         "Read the text body from FILE ('-': standard input)", "FILE"},
        {"html-file", 0, 0, G_OPTION_ARG_FILENAME, &o.html_file,
         "Add an HTML alternative read from FILE", "FILE"},
        {"attach", 'a', 0, G_OPTION_ARG_FILENAME_ARRAY, &o.attach,
         "Attach FILE (repeatable)", "FILE"},
        {"document", 'd', 0, G_OPTION_ARG_STRING_ARRAY, &o.documents,
         "Attach stored document DOC-ID as it was added (repeatable; after "
         "the files of --attach)",
         "DOC-ID"},
        {"pdf", 0, 0, G_OPTION_ARG_NONE, &o.pdf,
         "Convert every attachment and document that is not a PDF to PDF "
         "first",
         NULL},
        {"header", 'H', 0, G_OPTION_ARG_STRING_ARRAY, &o.headers,
         "Add a header 'Name: value' (repeatable)", "HEADER"},
        {"record", 'r', 0, G_OPTION_ARG_STRING, &o.record,
         "Quality record the mail belongs to, e.g. 8D-2026-0042", "ID"},
        {"copy-to-me", 0, 0, G_OPTION_ARG_NONE, &o.copy_to_me,
         "Send a blind copy to yourself", NULL},
        {"queue-only", 0, 0, G_OPTION_ARG_NONE, &o.queue_only,
         "Only put the mail into the outbox; 'caqmail deliver' sends it", NULL},
        {"json", 'j', 0, G_OPTION_ARG_NONE, &o.json,
         "Print the mail's number and state as JSON", NULL},
        {"print", 'p', 0, G_OPTION_ARG_NONE, &o.print,
         "Write the message to standard output instead of sending it", NULL},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) context = g_option_context_new("");
    g_option_context_set_summary(
        context, "Compose a mail, store it in the outbox with its history "
                 "entry, and deliver it at once (unless --queue-only).  "
                 "Duplicate addresses are sent once.");
    g_option_context_add_main_entries(context, entries, NULL);

    if (cli_parse(cli, context, &argc, &argv)) {
        if (argc > 1)
            fprintf(stderr, "caqmail send: unexpected argument '%s'\n",
                    argv[1]);
        else if (cli_load_config(cli, &code))
            code = run(cli, &o);
    }
    send_options_clear(&o);
    return code;
}
