/* caqmail sendmail, and the same binary called as `sendmail`: takes one
 * message on standard input the way sendmail does, for cron, mailx,
 * PHP's mail() and git send-email, and queues it through libcaqmail.
 *
 * Options are sendmail's, parsed by hand because they are not GNU style
 * (-oi, -odq, -fADDR, -F NAME).  Exit codes are sendmail's (sysexits.h).
 */
#include "cli.h"

#include <caqmail/caqmail.h>

#include <stdio.h>
#include <string.h>

typedef struct {
    gboolean extract;     /* -t */
    gboolean ignore_dots; /* -i, -oi: a line "." does not end the input */
    gboolean queue_only;  /* -odq */
    gboolean verbose;     /* -v */
    gboolean help;
    const char *sender;    /* -f, -r */
    const char *full_name; /* -F */
    const char *config;    /* -C */
    GPtrArray *rcpts;      /* of const char *, from the arguments */
} SendmailOptions;

static const char usage_text[] =
    "Usage: sendmail [-t] [-i] [-f SENDER] [-F NAME] [-C CONFIG] [-odq] "
    "[--] [RECIPIENT...]\n"
    "\n"
    "Reads one message from standard input and queues it in caqmail's\n"
    "outbox (record: [sendmail] record, else the user's journal); it is\n"
    "delivered at once unless -odq or [sendmail] deliver = false.\n"
    "\n"
    "  -t          take recipients from To, Cc and Bcc (Bcc is removed)\n"
    "  -i, -oi     a line with a single '.' does not end the message\n"
    "  -f SENDER   envelope sender (also -r); From when the message has\n"
    "              none\n"
    "  -F NAME     full name for a From line that caqmail adds\n"
    "  -C CONFIG   read caqmail's configuration from CONFIG\n"
    "  -odq        only queue; 'caqmail deliver' sends it\n"
    "  -bm         read mail from standard input (the default)\n"
    "  -v          log each step\n"
    "Other -o options and -B, -h, -L, -N, -O, -R, -V with their values\n"
    "are accepted and ignored, as sendmail does.\n";

/* Options whose value follows, attached or as the next argument. */
static const char *
option_value(int argc, char **argv, int *i, GError **error)
{
    const char *attached = argv[*i] + 2;

    if (*attached != '\0')
        return attached;
    if (*i + 1 >= argc) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_USAGE,
                    "option '%s' needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

static gboolean
parse_o(SendmailOptions *o, const char *arg)
{
    if (strncmp(arg, "-oi", 3) == 0)
        o->ignore_dots = TRUE;
    else if (strcmp(arg, "-odq") == 0)
        o->queue_only = TRUE;
    else if (strcmp(arg, "-odi") == 0 || strcmp(arg, "-odb") == 0)
        o->queue_only = FALSE;
    return TRUE; /* every other -o option is ignored */
}

static gboolean
parse_b(const char *arg, GError **error)
{
    if (strcmp(arg, "-bm") == 0)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_USAGE,
                "mode '%s' is not supported; caqmail's sendmail only takes "
                "mail (-bm)",
                arg);
    return FALSE;
}

/* One option at argv[*i]; FALSE with @error set on a usage error. */
static gboolean
parse_option(SendmailOptions *o, int argc, char **argv, int *i, GError **error)
{
    const char *arg = argv[*i];
    const char **target = NULL;

    switch (arg[1]) {
    case 't':
    case 'i':
    case 'v':
        if (arg[2] != '\0')
            break;
        o->extract |= arg[1] == 't';
        o->ignore_dots |= arg[1] == 'i';
        o->verbose |= arg[1] == 'v';
        return TRUE;
    case 'o':
        return parse_o(o, arg);
    case 'b':
        return parse_b(arg, error);
    case 'f':
    case 'r':
        target = &o->sender;
        break;
    case 'F':
        target = &o->full_name;
        break;
    case 'C':
        target = &o->config;
        break;
    case 'B':
    case 'h':
    case 'L':
    case 'N':
    case 'O':
    case 'R':
    case 'V':
        return option_value(argc, argv, i, error) != NULL;
    case 'n':
    case 'm':
    case 'U':
    case 'G':
        return TRUE;
    }
    if (target != NULL)
        return (*target = option_value(argc, argv, i, error)) != NULL;
    g_set_error(error, CQ_ERROR, CQ_ERROR_USAGE, "unknown option '%s'", arg);
    return FALSE;
}

static gboolean
parse_args(SendmailOptions *o, int argc, char **argv, GError **error)
{
    gboolean options = TRUE;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (options && strcmp(arg, "--") == 0)
            options = FALSE;
        else if (options && strcmp(arg, "--help") == 0)
            o->help = TRUE;
        else if (options && arg[0] == '-' && arg[1] != '\0') {
            if (!parse_option(o, argc, argv, &i, error))
                return FALSE;
        } else
            g_ptr_array_add(o->rcpts, (gpointer)arg);
    }
    return TRUE;
}

/* Reads standard input up to its end or, unless @ignore_dots, up to a
 * line with a single ".". */
static GString *
read_message(gboolean ignore_dots, GError **error)
{
    GString *data = g_string_new(NULL);
    char *line = NULL;
    size_t size = 0;
    ssize_t len;

    while ((len = getline(&line, &size, stdin)) > 0) {
        if (!ignore_dots &&
            (strcmp(line, ".\n") == 0 || strcmp(line, ".\r\n") == 0 ||
             strcmp(line, ".") == 0))
            break;
        g_string_append_len(data, line, len);
    }
    free(line);
    if (ferror(stdin)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO,
                    "reading the message from standard input failed");
        g_string_free(data, TRUE);
        return NULL;
    }
    return data;
}

static CaqmailRawMessage *
take_message(CaqmailContext *context, const SendmailOptions *o, GError **error)
{
    g_autoptr(GString) data = read_message(o->ignore_dots, error);
    if (data == NULL)
        return NULL;
    g_autoptr(CaqmailRawMessage) raw =
        caqmail_raw_message_new(context, data->str, data->len, error);
    if (raw == NULL ||
        !caqmail_raw_message_set_sender(raw, o->sender, o->full_name, error))
        return NULL;
    for (guint i = 0; i < o->rcpts->len; i++) {
        if (!caqmail_raw_message_add_recipient(raw, o->rcpts->pdata[i], error))
            return NULL;
    }
    if (o->extract && !caqmail_raw_message_extract_recipients(raw, error))
        return NULL;
    return g_steal_pointer(&raw);
}

/* Delivers the new mail at once, as `caqmail send` does: a refused mail
 * is an error, a deferred one stays in the outbox. */
static gboolean
deliver_now(CaqmailContext *context, gint64 id, GError **error)
{
    CaqmailDeliverStats stats = {0};

    if (!caqmail_deliver(context, id, &stats, error))
        return FALSE;
    if (stats.sent || stats.claimed == 0)
        return TRUE;
    g_autoptr(CaqmailMail) mail = caqmail_mail_get(context, id, NULL);
    const char *why = mail ? caqmail_mail_get_last_error(mail) : NULL;
    if (stats.deferred || stats.uncertain) {
        fprintf(stderr,
                "sendmail: mail %" G_GINT64_FORMAT " waits in the outbox "
                "(%s): %s\n",
                id, stats.deferred ? "deferred" : "uncertain", why ? why : "");
        return TRUE;
    }
    g_set_error(error, CQ_ERROR, CQ_ERROR_PERMFAIL,
                "mail %" G_GINT64_FORMAT " %s: %s", id,
                stats.partly_sent ? "was sent only partly" : "was refused",
                why ? why : "");
    return FALSE;
}

static gboolean
run(const SendmailOptions *o, GError **error)
{
    gint64 id = 0;
    g_autoptr(CqConfig) config = cq_config_load(o->config, error);
    if (config == NULL)
        return FALSE;
    g_autoptr(CaqmailContext) context = caqmail_context_open(o->config, error);
    if (context == NULL)
        return FALSE;
    g_autoptr(CaqmailRawMessage) raw = take_message(context, o, error);
    if (raw == NULL || !caqmail_raw_message_enqueue(raw, &id, error))
        return FALSE;
    if (o->queue_only || !config->sendmail.deliver)
        return TRUE;
    return deliver_now(context, id, error);
}

int
cmd_sendmail(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    SendmailOptions o = {.rcpts = g_ptr_array_new()};
    int code = EX_OK;

    cli->command = "sendmail";
    if (!parse_args(&o, argc, argv, &error)) {
        fprintf(stderr, "sendmail: %s\n%s", error->message, usage_text);
        code = EX_USAGE;
    } else if (o.help) {
        fputs(usage_text, stdout);
    } else {
        cli_log_start(o.verbose ? CQ_LOG_INFO : CQ_LOG_WARNING, FALSE);
        if (!run(&o, &error)) {
            fprintf(stderr, "sendmail: %s\n", error->message);
            code = caqmail_error_exit_code(error);
        }
    }
    g_ptr_array_unref(o.rcpts);
    return code;
}
