/* caqmail remind: queue the reminders that are due for open measures. */
#include "itemview.h"

#include "workflow/remind.h"

#include <stdio.h>

static void
each_mail(const CqRemindMail *mail, gpointer data)
{
    CliRunMail view = {
        .message = mail->message,
        .language = mail->language,
        .mail_id = mail->mail_id,
        .what = "measures",
        .items = mail->measures,
        .level = mail->level,
    };

    cli_run_output_mail(data, &view);
}

static void
print_stats(CliRunOutput *out, const CqRemindStats *st)
{
    const CliCount counts[] = {
        {"selected", st->selected}, {"reminded", st->reminded},
        {"lowered", st->lowered},   {"taken", st->taken},
        {"failed", st->failed},
    };

    cli_run_output_end(out, counts, G_N_ELEMENTS(counts));
    if (out->json)
        return;
    printf("%s %u mail%s for %u measure%s; %u level%s taken back, %u "
           "changed by another run, %u failed\n",
           out->dry_run ? "would queue" : "queued", st->mails,
           st->mails == 1 ? "" : "s", st->reminded,
           st->reminded == 1 ? "" : "s", st->lowered,
           st->lowered == 1 ? "" : "s", st->taken, st->failed);
}

static void
show_progress(guint done, guint total, gpointer data)
{
    cli_progress("remind", done, total);
}

static int
run(CqCli *cli, const char *date, CliRunOutput *out)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    CqRemindStats stats = {0};
    CqRemindOptions options = {.dry_run = out->dry_run,
                               .progress = show_progress};

    if (!cli_parse_day(cli, "--date", date, &options.today))
        return EX_USAGE;
    g_autoptr(CqSession) s = cli_run_start(cli, out, &code);
    if (s == NULL)
        return code;
    if (!cq_remind_run(s, cli->config, &options, each_mail, out, &stats,
                       &error))
        return cli_run_fail(cli, out, error);
    cli_progress_end();
    print_stats(out, &stats);
    return cli_run_result(cli, stats.failed, "measures could not be reminded");
}

int
cmd_remind(CqCli *cli, int argc, char **argv)
{
    g_autofree char *date = NULL;
    CliRunOutput out = {0};
    const GOptionEntry entries[] = {
        {"date", 'd', 0, G_OPTION_ARG_STRING, &date,
         "Remind as on this day (default: today)", "YYYY-MM-DD"},
        {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &out.dry_run,
         "Print the mails that would go out; change nothing", NULL},
        {"json", 'j', 0, G_OPTION_ARG_NONE, &out.json,
         "Print the mails and the counts as JSON", NULL},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, "remind", "",
                       "Queue the reminders that are due for open measures, "
                       "by the levels of [remind.level.N]: each level of a "
                       "measure is sent once; a run after days without one "
                       "sends the highest level reached; a due date moved "
                       "later takes back the levels that no longer apply.  "
                       "'caqmail deliver' sends the mails.",
                       entries, &argc, &argv))
        return EX_USAGE;
    if (argc > 1) {
        fprintf(stderr, "caqmail remind: unexpected argument '%s'\n", argv[1]);
        return EX_USAGE;
    }
    return run(cli, date, &out);
}
