/* caqmail remind: queue the reminders that are due for open measures. */
#include "itemview.h"

#include "workflow/remind.h"

#include <stdio.h>

typedef struct {
    gboolean json;
    gboolean dry_run;
    JsonBuilder *mails; /* --json: the array being built */
} Output;

static void
each_mail(const CqRemindMail *mail, gpointer data)
{
    Output *out = data;
    CliRunMail view = {
        .message = mail->message,
        .language = mail->language,
        .mail_id = mail->mail_id,
        .what = "measures",
        .items = mail->measures,
        .level = mail->level,
    };

    if (out->json)
        cli_json_run_mail(out->mails, &view);
    else if (out->dry_run)
        cli_print_run_mail(&view);
}

static void
print_stats(const Output *out, const CqRemindStats *st)
{
    if (out->json) {
        JsonBuilder *b = out->mails;
        json_builder_end_array(b);
        cli_json_int(b, "selected", st->selected);
        cli_json_int(b, "reminded", st->reminded);
        cli_json_int(b, "lowered", st->lowered);
        cli_json_int(b, "taken", st->taken);
        cli_json_int(b, "failed", st->failed);
        json_builder_end_object(b);
        cli_print_json(json_builder_get_root(b));
        return;
    }
    printf("%s %u mail%s for %u measure%s; %u level%s taken back, %u "
           "changed by another run, %u failed\n",
           out->dry_run ? "would queue" : "queued", st->mails,
           st->mails == 1 ? "" : "s", st->reminded,
           st->reminded == 1 ? "" : "s", st->lowered,
           st->lowered == 1 ? "" : "s", st->taken, st->failed);
}

static int
run(CqCli *cli, const char *date, Output *out)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    CqRemindStats stats = {0};
    CqRemindOptions options = {.dry_run = out->dry_run};

    if (!cli_parse_day(cli, "--date", date, &options.today))
        return EX_USAGE;
    g_autoptr(CqSession) s = cli_start(cli, &code);
    if (s == NULL)
        return code;
    g_autoptr(JsonBuilder) b = json_builder_new();
    out->mails = b;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "mails");
    json_builder_begin_array(b);
    if (!cq_remind_run(s, cli->config, &options, each_mail, out, &stats,
                       &error))
        return cli_fail(cli, error);
    print_stats(out, &stats);
    if (stats.failed == 0)
        return EX_OK;
    fprintf(stderr,
            "caqmail remind: %u measure%s could not be reminded; the log "
            "names them\n",
            stats.failed, stats.failed == 1 ? "" : "s");
    return EX_DATAERR;
}

int
cmd_remind(CqCli *cli, int argc, char **argv)
{
    g_autofree char *date = NULL;
    Output out = {0};
    int code = EX_USAGE;
    const GOptionEntry entries[] = {
        {"date", 'd', 0, G_OPTION_ARG_STRING, &date,
         "Remind as on this day (default: today)", "YYYY-MM-DD"},
        {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &out.dry_run,
         "Print the mails that would go out; change nothing", NULL},
        {"json", 'j', 0, G_OPTION_ARG_NONE, &out.json,
         "Print the mails and the counts as JSON", NULL},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) context = g_option_context_new("");
    g_option_context_set_summary(
        context,
        "Queue the reminders that are due for open measures, by the levels "
        "of [remind.level.N]: each level of a measure is sent once; a run "
        "after days without one sends the highest level reached; a due "
        "date moved later takes back the levels that no longer apply.  "
        "'caqmail deliver' sends the mails.");
    g_option_context_add_main_entries(context, entries, NULL);

    if (cli_parse(cli, context, &argc, &argv)) {
        if (argc > 1)
            fprintf(stderr, "caqmail remind: unexpected argument '%s'\n",
                    argv[1]);
        else
            code = run(cli, date, &out);
    }
    return code;
}
