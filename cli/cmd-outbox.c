/* caqmail outbox: mail waiting to be delivered, and what operators do
 * with it. */
#include "mailview.h"

#include "outbox/outbox.h"

#include <stdio.h>

static gboolean json_output;
static char **states;
static gboolean all_states;

static CqSession *
start(CqCli *cli, int *code)
{
    if (!cli_load_config(cli, code))
        return NULL;
    return cli_open_session(cli, code);
}

static gboolean
check_states(CqCli *cli)
{
    for (guint i = 0; states && states[i]; i++) {
        if (!g_strv_contains(cq_outbox_states(), states[i])) {
            g_autofree char *known =
                g_strjoinv(", ", (char **)cq_outbox_states());
            fprintf(stderr, "caqmail outbox: unknown state '%s' (%s)\n",
                    states[i], known);
            return FALSE;
        }
    }
    return TRUE;
}

static int
run_list(CqCli *cli, int argc, char **argv)
{
    static const char *const waiting[] = {"queued", "sending", "deferred",
                                          "uncertain", NULL};
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    const GOptionEntry entries[] = {
        {"state", 's', 0, G_OPTION_ARG_STRING_ARRAY, &states,
         "Only mails in STATE (repeatable)", "STATE"},
        {"all", 'a', 0, G_OPTION_ARG_NONE, &all_states,
         "Mails in every state, delivered ones included", NULL},
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json_output,
         "Print JSON for scripts", NULL},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, "outbox list", "",
                       "List the mails that wait: queued, sending, "
                       "deferred and uncertain (or those of --state).",
                       entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 1 || !check_states(cli))
        return EX_USAGE;
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    CqMailFilter filter = {
        .states = all_states ? NULL
                  : states   ? (const char *const *)states
                             : waiting,
    };
    g_autoptr(GPtrArray) mails = cq_mail_query(s, &filter, &error);
    if (mails == NULL)
        return cli_fail(cli, error);
    cli_print_mails(mails, json_output);
    return EX_OK;
}

static int
run_show(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    gint64 id = 0;
    const GOptionEntry entries[] = {
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json_output,
         "Print JSON for scripts", NULL},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, "outbox show", "ID",
                       "Show a mail with its state, attempts and each "
                       "recipient's last result.",
                       entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 2 || !cli_parse_id(cli, argv[1], &id))
        return EX_USAGE;
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    g_autoptr(CqMailDetail) d = cq_mail_detail(s, id, &error);
    if (d == NULL)
        return cli_fail(cli, error);
    cli_print_mail_detail(d, json_output);
    return EX_OK;
}

static int
change(CqCli *cli, int argc, char **argv, gboolean retry)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    gint64 id = 0;

    if (!cli_parse_sub(cli, retry ? "outbox retry" : "outbox cancel", "ID",
                       retry ? "Queue a deferred, failed, partly sent or "
                               "uncertain mail again at once."
                             : "Cancel a mail that waits to be sent.",
                       NULL, &argc, &argv))
        return EX_USAGE;
    if (argc != 2 || !cli_parse_id(cli, argv[1], &id))
        return EX_USAGE;
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    gboolean ok = retry ? cq_outbox_retry(s, id, &error)
                        : cq_outbox_cancel(s, id, &error);
    return ok ? EX_OK : cli_fail(cli, error);
}

static int
run_retry(CqCli *cli, int argc, char **argv)
{
    return change(cli, argc, argv, TRUE);
}

static int
run_cancel(CqCli *cli, int argc, char **argv)
{
    return change(cli, argc, argv, FALSE);
}

static const CqSubcommand subcommands[] = {
    {"list", run_list, "list waiting mails: [--state STATE]... [--all]"},
    {"show", run_show, "show a mail: ID"},
    {"retry", run_retry, "queue a mail again: ID"},
    {"cancel", run_cancel, "cancel a waiting mail: ID"},
};

int
cmd_outbox(CqCli *cli, int argc, char **argv)
{
    return cli_run_subcommand(
        cli, argc, argv, subcommands, G_N_ELEMENTS(subcommands),
        "The outbox.  States: queued, sending, sent, partly-sent, "
        "deferred, failed,\nuncertain, cancelled.  You see and change your "
        "own mails; administrators all.");
}
