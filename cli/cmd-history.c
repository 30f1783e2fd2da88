/* caqmail history: the mails sent, what became of them, and the check
 * that nothing was changed or removed. */
#include "mailview.h"

#include "history/history.h"

#include <stdio.h>
#include <unistd.h>

static gboolean json_output;
static gboolean raw_output;
static gboolean journal;
static char *record;
static guint limit;

static const GOptionEntry json_entries[] = {
    {"json", 'j', 0, G_OPTION_ARG_NONE, &json_output, "Print JSON for scripts",
     NULL},
    G_OPTION_ENTRY_NULL,
};

static CqSession *
start(CqCli *cli, int *code)
{
    if (!cli_load_config(cli, code))
        return NULL;
    return cli_open_session(cli, code);
}

static int
query(CqCli *cli, const CqMailFilter *filter)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    g_autoptr(CqSession) s = start(cli, &code);

    if (s == NULL)
        return code;
    g_autoptr(GPtrArray) mails = cq_mail_query(s, filter, &error);
    if (mails == NULL)
        return cli_fail(cli, error);
    cli_print_mails(mails, json_output);
    return EX_OK;
}

static int
run_list(CqCli *cli, int argc, char **argv)
{
    const GOptionEntry entries[] = {
        {"record", 'r', 0, G_OPTION_ARG_STRING, &record,
         "Only the mails of record ID", "ID"},
        {"journal", 0, 0, G_OPTION_ARG_NONE, &journal,
         "Only your own mails that belong to no record", NULL},
        {"last", 'n', 0, G_OPTION_ARG_INT, &limit, "Only the newest N mails",
         "N"},
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json_output,
         "Print JSON for scripts", NULL},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, "history list", "",
                       "List the mails you may read: all with the "
                       "permission read-all, your own with read-own.",
                       entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 1) {
        fprintf(stderr, "caqmail history list: unexpected '%s'\n", argv[1]);
        return EX_USAGE;
    }
    CqMailFilter filter = {
        .record = record, .journal = journal, .limit = limit};
    return query(cli, &filter);
}

static int
run_search(CqCli *cli, int argc, char **argv)
{
    if (!cli_parse_sub(cli, "history search", "TEXT...",
                       "Find mails whose subject, addresses, record, "
                       "Message-ID or attachment names contain every "
                       "word; case and accents do not matter.",
                       json_entries, &argc, &argv))
        return EX_USAGE;
    if (argc < 2) {
        fprintf(stderr, "caqmail history search: give a TEXT\n");
        return EX_USAGE;
    }
    g_autofree char *text = g_strjoinv(" ", argv + 1);
    CqMailFilter filter = {.text = text};
    return query(cli, &filter);
}

static int
write_raw(CqCli *cli, CqSession *s, gint64 id)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GMimeStream) out = g_mime_stream_pipe_new(STDOUT_FILENO);

    g_mime_stream_pipe_set_owner(GMIME_STREAM_PIPE(out), FALSE);
    if (!cq_mail_write_raw(s, id, out, &error))
        return cli_fail(cli, error);
    return EX_OK;
}

static int
run_show(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    gint64 id = 0;
    const GOptionEntry entries[] = {
        {"raw", 0, 0, G_OPTION_ARG_NONE, &raw_output,
         "Write the message (.eml) exactly as it was sent", NULL},
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json_output,
         "Print JSON for scripts", NULL},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, "history show", "ID",
                       "Show a mail: recipients with their catalog origin "
                       "and results, attachments, and every history "
                       "entry.",
                       entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 2 || !cli_parse_id(cli, argv[1], &id))
        return EX_USAGE;
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    if (raw_output)
        return write_raw(cli, s, id);
    g_autoptr(CqMailDetail) d = cq_mail_detail(s, id, &error);
    if (d == NULL)
        return cli_fail(cli, error);
    cli_print_mail_detail(d, json_output);
    return EX_OK;
}

static void
verify_progress(gint64 done, gint64 total, gpointer data)
{
    cli_progress("verify", (guint64)done, (guint64)total);
}

static void
print_verify(const CqVerifyResult *r)
{
    if (json_output) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "ok");
        json_builder_add_boolean_value(b, r->broken == 0);
        json_builder_set_member_name(b, "entries");
        json_builder_add_int_value(b, r->entries);
        json_builder_set_member_name(b, "broken_entry");
        if (r->broken != 0)
            json_builder_add_int_value(b, r->broken);
        else
            json_builder_add_null_value(b);
        json_builder_set_member_name(b, "problem");
        json_builder_add_string_value(b, r->problem);
        json_builder_set_member_name(b, "head");
        json_builder_add_string_value(b, r->head);
        json_builder_end_object(b);
        cli_print_json(json_builder_get_root(b));
    } else if (r->broken == 0) {
        printf("history intact: %" G_GINT64_FORMAT " entries, last hash %s\n",
               r->entries, r->head ? r->head : "(none)");
    } else {
        printf("history broken at entry %" G_GINT64_FORMAT ": %s\n", r->broken,
               r->problem);
    }
}

static int
run_verify(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    CqVerifyResult result = {0};
    int code = EX_USAGE;

    if (!cli_parse_sub(cli, "history verify", "",
                       "Check the hash chain of the whole history and the "
                       "stored messages; names the first broken entry.  "
                       "Needs the permission read-all.",
                       json_entries, &argc, &argv))
        return EX_USAGE;
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    gboolean ok = cq_history_verify(s, &result, verify_progress, NULL, &error);
    cli_progress_end();
    if (!ok)
        return cli_fail(cli, error);
    print_verify(&result);
    code = result.broken == 0 ? EX_OK : EX_DATAERR;
    cq_verify_result_clear(&result);
    return code;
}

static const CqSubcommand subcommands[] = {
    {"list", run_list, "list mails: [--record ID] [--journal]"},
    {"show", run_show, "show a mail: ID [--raw]"},
    {"search", run_search, "search mails: TEXT..."},
    {"verify", run_verify, "check that no entry was changed or removed"},
};

int
cmd_history(CqCli *cli, int argc, char **argv)
{
    return cli_run_subcommand(
        cli, argc, argv, subcommands, G_N_ELEMENTS(subcommands),
        "The history: every mail with its recipients, attachments and "
        "results,\nchained by SHA-256.  Each command shows only what you "
        "may read.");
}
