/* caqmail send: compose one mail from options and send it. */
#include "cli.h"

#include "attach/prepare.h"
#include "deliver/direct.h"
#include "mime/build.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char **to, **cc, **bcc, **attach, **headers;
    char *from, *subject, *body, *body_file, *html_file, *record;
    gboolean print, pdf;
} SendOptions;

static void
send_options_clear(SendOptions *o)
{
    g_strfreev(o->to);
    g_strfreev(o->cc);
    g_strfreev(o->bcc);
    g_strfreev(o->attach);
    g_strfreev(o->headers);
    g_free(o->from);
    g_free(o->subject);
    g_free(o->body);
    g_free(o->body_file);
    g_free(o->html_file);
    g_free(o->record);
}

static char *
default_sender(const CqConfig *config)
{
    if (config->message.from != NULL)
        return g_strdup(config->message.from);
    return g_strdup_printf("%s@%s", g_get_user_name(), g_get_host_name());
}

static gboolean
add_recipients(CqMessage *message, CqRecipientKind kind, char **list,
               GError **error)
{
    for (guint i = 0; list && list[i]; i++) {
        if (!cq_message_add_recipients(message, kind, list[i], NULL, error))
            return FALSE;
    }
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

static CqMessage *
compose(const CqConfig *config, const SendOptions *o, GError **error)
{
    g_autoptr(CqMessage) message = cq_message_new(CQ_ORIGIN_MANUAL);
    g_autofree char *from = o->from ? g_strdup(o->from)
                                    : default_sender(config);

    if (!cq_message_set_from(message, from, error) ||
        !add_recipients(message, CQ_RCPT_TO, o->to, error) ||
        !add_recipients(message, CQ_RCPT_CC, o->cc, error) ||
        !add_recipients(message, CQ_RCPT_BCC, o->bcc, error) ||
        (o->subject && !cq_message_set_subject(message, o->subject, error)) ||
        !set_bodies(message, o, error) || !add_headers(message, o->headers,
                                                       error) ||
        (o->record && !cq_message_set_record(message, o->record, error)))
        return NULL;

    for (guint i = 0; o->attach && o->attach[i]; i++) {
        if (!cq_message_add_attachment(message, o->attach[i], NULL, NULL,
                                       config->message.max_attachment_size,
                                       error))
            return NULL;
    }
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

static int
run(CqCli *cli, const SendOptions *o)
{
    g_autoptr(GError) error = NULL;
    CqDirectResult result = {0};

    g_autoptr(CqMessage) message = compose(cli->config, o, &error);
    if (message == NULL)
        return cli_fail(cli, error);
    if (o->print) {
        if (!print_message(cli->config, message, &error))
            return cli_fail(cli, error);
        return EX_OK;
    }
    gboolean ok = cq_deliver_direct(cli->config, message, &result, &error);
    cq_direct_result_clear(&result);
    return ok ? EX_OK : cli_fail(cli, error);
}

int
cmd_send(CqCli *cli, int argc, char **argv)
{
    SendOptions o = {0};
    int code = EX_USAGE;
    const GOptionEntry entries[] = {
        {"to", 't', 0, G_OPTION_ARG_STRING_ARRAY, &o.to,
         "Recipient (repeatable; a list may be comma-separated)", "ADDR"},
        {"cc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.cc, "Copy recipient",
         "ADDR"},
        {"bcc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.bcc,
         "Blind copy recipient", "ADDR"},
        {"from", 'f', 0, G_OPTION_ARG_STRING, &o.from,
         "Sender (default: [message] from, else USER@HOST)", "ADDR"},
        {"subject", 's', 0, G_OPTION_ARG_STRING, &o.subject, "Subject",
         "TEXT"},
        {"body", 'b', 0, G_OPTION_ARG_STRING, &o.body, "Text body", "TEXT"},
        {"body-file", 0, 0, G_OPTION_ARG_FILENAME, &o.body_file,
         "Read the text body from FILE ('-': standard input)", "FILE"},
        {"html-file", 0, 0, G_OPTION_ARG_FILENAME, &o.html_file,
         "Add an HTML alternative read from FILE", "FILE"},
        {"attach", 'a', 0, G_OPTION_ARG_FILENAME_ARRAY, &o.attach,
         "Attach FILE (repeatable)", "FILE"},
        {"pdf", 0, 0, G_OPTION_ARG_NONE, &o.pdf,
         "Convert every attachment that is not a PDF to PDF first", NULL},
        {"header", 'H', 0, G_OPTION_ARG_STRING_ARRAY, &o.headers,
         "Add a header 'Name: value' (repeatable)", "HEADER"},
        {"record", 'r', 0, G_OPTION_ARG_STRING, &o.record,
         "Quality record the mail belongs to, e.g. 8D-2026-0042", "ID"},
        {"print", 'p', 0, G_OPTION_ARG_NONE, &o.print,
         "Write the message to standard output instead of sending it",
         NULL},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) context = g_option_context_new("");
    g_option_context_set_summary(context, "Compose a mail and send it.");
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
