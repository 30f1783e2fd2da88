/* caqmail gauge: gauges (test equipment); caqmail gauges collect: the
 * collection lists of gauges due for calibration. */
#include "itemview.h"

#include "gauges/gauge.h"
#include "workflow/collect.h"

#include <stdio.h>

static gboolean json_output;
static char *description, *holder, *location, *due, *status;
static int interval;

static const GOptionEntry field_entries[] = {
    {"description", 'D', 0, G_OPTION_ARG_STRING, &description, "Description",
     "TEXT"},
    {"holder", 'p', 0, G_OPTION_ARG_STRING, &holder,
     "Holder: a person's identifier or login", "PERSON"},
    {"location", 'l', 0, G_OPTION_ARG_STRING, &location, "Location", "TEXT"},
    {"interval", 'i', 0, G_OPTION_ARG_INT, &interval,
     "Calibration interval in months", "MONTHS"},
    {"due", 'd', 0, G_OPTION_ARG_STRING, &due, "Next calibration due",
     "YYYY-MM-DD"},
    {"status", 's', 0, G_OPTION_ARG_STRING, &status,
     "in-use, collection-requested, in-calibration or blocked", "STATUS"},
    G_OPTION_ENTRY_NULL,
};

static gboolean
parse_one(CqCli *cli, const char *name, const char *summary,
          const GOptionEntry *entries, int *argc, char ***argv)
{
    if (!cli_parse_sub(cli, name, "INVENTORY", summary, entries, argc, argv))
        return FALSE;
    if (*argc == 2)
        return TRUE;
    fprintf(stderr, "caqmail %s: give the inventory number\n", name);
    return FALSE;
}

static int
change(CqCli *cli, int argc, char **argv, gboolean add)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    CqGaugeStatus wanted = CQ_GAUGE_IN_USE;
    CqGaugeFields f = {.due = CQ_DAY_NONE};

    if (!parse_one(cli, add ? "gauge add" : "gauge edit",
                   add ? "Add a gauge; --description, --holder, --interval "
                         "and --due are needed."
                       : "Change a gauge.  A new due date (after a "
                         "calibration) puts it on lists again when due.",
                   field_entries, &argc, &argv))
        return EX_USAGE;
    if (due != NULL && !cli_parse_day(cli, "--due", due, &f.due))
        return EX_USAGE;
    if (status != NULL && !cq_gauge_status_parse(status, &wanted, &error))
        return cli_fail(cli, error);
    if (interval < 0) {
        fprintf(stderr, "caqmail %s: --interval must be positive\n",
                add ? "gauge add" : "gauge edit");
        return EX_USAGE;
    }
    g_autoptr(CqSession) s = cli_start(cli, &code);
    if (s == NULL)
        return code;
    f.inventory = argv[1];
    f.description = description;
    f.holder = holder;
    f.location = location;
    f.interval_months = (guint)interval;
    f.status = status ? &wanted : NULL;
    gboolean ok =
        add ? cq_gauge_add(s, &f, &error) : cq_gauge_edit(s, &f, &error);
    return ok ? EX_OK : cli_fail(cli, error);
}

static int
run_add(CqCli *cli, int argc, char **argv)
{
    return change(cli, argc, argv, TRUE);
}

static int
run_edit(CqCli *cli, int argc, char **argv)
{
    return change(cli, argc, argv, FALSE);
}

static void
add_gauge_json(JsonBuilder *b, gconstpointer item)
{
    const CqGauge *g = item;

    cli_json_string(b, "inventory", g->inventory);
    cli_json_string(b, "description", g->description);
    cli_json_string(b, "holder", g->holder);
    cli_json_string(b, "holder_name", g->holder_name);
    cli_json_string(b, "location", g->location);
    cli_json_int(b, "interval_months", g->interval_months);
    cli_json_day(b, "due", g->due);
    cli_json_string(b, "status", cq_gauge_status_name(g->status));
    cli_json_day(b, "last_listed", g->last_listed);
}

static void
print_list(GPtrArray *gauges)
{
    CliTable *t = cli_table_new(
        (const char *const[]){"inventory", "due", "status", "holder",
                              "location", "description", NULL});

    for (guint i = 0; i < gauges->len; i++) {
        const CqGauge *g = gauges->pdata[i];
        char day[CQ_DAY_ISO_LEN];
        cli_table_add(t, (const char *const[]){
                             g->inventory, cq_day_format_iso(g->due, day),
                             cq_gauge_status_name(g->status), g->holder,
                             g->location, g->description, NULL});
    }
    cli_table_print(t);
}

static int
run_list(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    CqGaugeStatus wanted = CQ_GAUGE_IN_USE;
    const GOptionEntry entries[] = {
        {"status", 's', 0, G_OPTION_ARG_STRING, &status,
         "Only gauges with this status", "STATUS"},
        {"holder", 'p', 0, G_OPTION_ARG_STRING, &holder,
         "Only the gauges of this person (identifier)", "PERSON"},
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json_output,
         "Print JSON for scripts", NULL},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, "gauge list", "",
                       "List gauges by the date their calibration is due.",
                       entries, &argc, &argv))
        return EX_USAGE;
    if (status != NULL && !cq_gauge_status_parse(status, &wanted, &error))
        return cli_fail(cli, error);
    g_autoptr(CqSession) s = cli_start(cli, &code);
    if (s == NULL)
        return code;
    CqGaugeFilter filter = {status ? &wanted : NULL, holder};
    g_autoptr(GPtrArray) gauges = cq_gauge_list(s, &filter, &error);
    if (gauges == NULL)
        return cli_fail(cli, error);
    cli_print_items(gauges, json_output, add_gauge_json, print_list);
    return EX_OK;
}

static void
print_gauge(gconstpointer item, const GPtrArray *history)
{
    const CqGauge *g = item;
    char day[CQ_DAY_ISO_LEN], listed[CQ_DAY_ISO_LEN] = "";

    if (g->last_listed != CQ_DAY_NONE)
        cq_day_format_iso(g->last_listed, listed);
    printf("inventory    %s\ndescription  %s\nholder       %s (%s)\n"
           "location     %s\ninterval     %u months\ndue          %s\n"
           "status       %s\nlast listed  %s\n\nhistory:\n",
           g->inventory, g->description, g->holder, g->holder_name, g->location,
           g->interval_months, cq_day_format_iso(g->due, day),
           cq_gauge_status_name(g->status), listed);
    cli_print_item_history(history);
}

static gpointer
get_with_history(CqSession *s, const char *id, GPtrArray **history,
                 GError **error)
{
    g_autoptr(CqGauge) item = cq_gauge_get(s, id, error);

    if (item == NULL || (*history = cq_gauge_history(s, id, error)) == NULL)
        return NULL;
    return g_steal_pointer(&item);
}

static int
run_show(CqCli *cli, int argc, char **argv)
{
    const CliShow show = {
        .name = "gauge show",
        .param = "INVENTORY",
        .summary = "Show a gauge and its history: changes, and every "
                   "collection list with its mail.",
        .get = get_with_history,
        .free = (GDestroyNotify)cq_gauge_free,
        .add = add_gauge_json,
        .text = print_gauge,
    };

    return cli_run_show(cli, argc, argv, &show);
}

static int
run_import(CqCli *cli, int argc, char **argv)
{
    return cli_run_import(cli, argc, argv, "gauge import",
                          "Import gauges from a CSV file with the columns "
                          "inventory, description, holder, interval "
                          "(months), due and optionally location and "
                          "status.  Existing gauges are changed.  All or "
                          "nothing: a bad line imports nothing, and every "
                          "bad line is reported.",
                          cq_gauge_import, "gauges");
}

static const CqSubcommand gauge_subcommands[] = {
    {"add", run_add,
     "add a gauge: INVENTORY --description --holder --interval --due"},
    {"edit", run_edit, "change a gauge: INVENTORY [--due] [--status] ..."},
    {"list", run_list, "list gauges [--status] [--holder]"},
    {"show", run_show, "show a gauge and its history: INVENTORY"},
    {"import", run_import, "import a CSV file, all or nothing"},
};

int
cmd_gauge(CqCli *cli, int argc, char **argv)
{
    return cli_run_subcommand(
        cli, argc, argv, gauge_subcommands, G_N_ELEMENTS(gauge_subcommands),
        "Gauges: test equipment with a holder, a calibration interval and "
        "the date\nits next calibration is due.  'caqmail gauges collect' "
        "sends the collection lists.");
}

/* ---- gauges collect ---- */

static void
each_mail(const CqCollectMail *mail, gpointer data)
{
    CliRunMail view = {
        .message = mail->message,
        .language = mail->language,
        .mail_id = mail->mail_id,
        .what = "gauges",
        .items = mail->gauges,
    };

    cli_run_output_mail(data, &view);
}

static void
print_stats(CliRunOutput *out, const CqCollectStats *st)
{
    const CliCount counts[] = {
        {"selected", st->selected},
        {"listed", st->listed},
        {"taken", st->taken},
        {"failed", st->failed},
    };

    cli_run_output_end(out, counts, G_N_ELEMENTS(counts));
    if (out->json)
        return;
    printf("%s %u list%s with %u gauge%s; %u changed by another run, %u "
           "failed\n",
           out->dry_run ? "would queue" : "queued", st->mails,
           st->mails == 1 ? "" : "s", st->listed, st->listed == 1 ? "" : "s",
           st->taken, st->failed);
}

static int
collect(CqCli *cli, const char *date, int within, CliRunOutput *out)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    CqCollectStats stats = {0};
    CqCollectOptions options = {.within_days = within, .dry_run = out->dry_run};

    if (!cli_parse_day(cli, "--date", date, &options.today))
        return EX_USAGE;
    g_autoptr(CqSession) s = cli_run_start(cli, out, &code);
    if (s == NULL)
        return code;
    if (!cq_collect_run(s, cli->config, &options, each_mail, out, &stats,
                        &error))
        return cli_run_fail(cli, out, error);
    print_stats(out, &stats);
    return cli_run_result(cli, stats.failed, "gauges could not be listed");
}

static int
run_collect(CqCli *cli, int argc, char **argv)
{
    g_autofree char *date = NULL;
    int within = -1;
    CliRunOutput out = {0};
    const GOptionEntry entries[] = {
        {"within", 'w', 0, G_OPTION_ARG_INT, &within,
         "List gauges due within DAYS (default: [gauges] within_days)", "DAYS"},
        {"date", 'd', 0, G_OPTION_ARG_STRING, &date,
         "Collect as on this day (default: today)", "YYYY-MM-DD"},
        {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &out.dry_run,
         "Print the lists that would go out; change nothing", NULL},
        {"json", 'j', 0, G_OPTION_ARG_NONE, &out.json,
         "Print the mails and the counts as JSON", NULL},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, "gauges collect", "",
                       "Send each holder of gauges due within the window or "
                       "overdue one mail with the list (and a PDF of it), "
                       "the calibration lab in copy.  Listed gauges become "
                       "collection-requested and are listed again only "
                       "after [gauges] repeat_days.",
                       entries, &argc, &argv))
        return EX_USAGE;
    if (argc > 1) {
        fprintf(stderr, "caqmail gauges collect: unexpected argument '%s'\n",
                argv[1]);
        return EX_USAGE;
    }
    if (within < -1 || within > 3650) {
        fprintf(stderr, "caqmail gauges collect: --within takes 0 to 3650 "
                        "days\n");
        return EX_USAGE;
    }
    return collect(cli, date, within, &out);
}

static const CqSubcommand gauges_subcommands[] = {
    {"collect", run_collect,
     "send the collection lists [--within DAYS] [--date] [--dry-run]"},
};

int
cmd_gauges(CqCli *cli, int argc, char **argv)
{
    return cli_run_subcommand(
        cli, argc, argv, gauges_subcommands, G_N_ELEMENTS(gauges_subcommands),
        "Collection lists: each holder of gauges due for calibration gets "
        "a list\nof what to hand in.");
}
