/* caqmail measure: the measures that reminders are sent for. */
#include "itemview.h"

#include "measures/measure.h"

#include <stdio.h>

static gboolean json_output;
static char *record, *title, *responsible, *due, *link_url, *status;

static const GOptionEntry field_entries[] = {
    {"record", 'r', 0, G_OPTION_ARG_STRING, &record,
     "The quality record it belongs to, e.g. 8D-2026-0042", "ID"},
    {"title", 't', 0, G_OPTION_ARG_STRING, &title, "Title", "TEXT"},
    {"responsible", 'p', 0, G_OPTION_ARG_STRING, &responsible,
     "Responsible person: identifier or login", "PERSON"},
    {"due", 'd', 0, G_OPTION_ARG_STRING, &due, "Due date", "YYYY-MM-DD"},
    {"link", 'l', 0, G_OPTION_ARG_STRING, &link_url,
     "Address of the measure in the CAQ application ('' removes it)", "URL"},
    G_OPTION_ENTRY_NULL,
};

/* Parses a subcommand that takes one measure ID. */
static gboolean
parse_one(CqCli *cli, const char *name, const char *summary,
          const GOptionEntry *entries, int *argc, char ***argv)
{
    if (!cli_parse_sub(cli, name, "ID", summary, entries, argc, argv))
        return FALSE;
    if (*argc == 2)
        return TRUE;
    fprintf(stderr, "caqmail %s: give the measure ID\n", name);
    return FALSE;
}

static int
run_add(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    CqMeasureNew m = {.due = CQ_DAY_NONE};

    if (!parse_one(cli, "measure add",
                   "Add an open measure; --record, --title, --responsible "
                   "and --due are needed.",
                   field_entries, &argc, &argv))
        return EX_USAGE;
    if (due != NULL && !cli_parse_day(cli, "--due", due, &m.due))
        return EX_USAGE;
    g_autoptr(CqSession) s = cli_start(cli, &code);
    if (s == NULL)
        return code;
    m.ident = argv[1];
    m.record = record;
    m.title = title;
    m.responsible = responsible;
    m.link = link_url;
    return cq_measure_add(s, &m, &error) ? EX_OK : cli_fail(cli, error);
}

static int
run_edit(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    CqMeasureChange change = {.due = CQ_DAY_NONE};

    if (!parse_one(cli, "measure edit",
                   "Change a measure (its owner, its responsible person "
                   "or an administrator).  A due date moved later takes "
                   "back the reminder levels that no longer apply.",
                   field_entries, &argc, &argv))
        return EX_USAGE;
    if (record != NULL) {
        fprintf(stderr, "caqmail measure edit: the record of a measure "
                        "cannot change\n");
        return EX_USAGE;
    }
    if (due != NULL && !cli_parse_day(cli, "--due", due, &change.due))
        return EX_USAGE;
    g_autoptr(CqSession) s = cli_start(cli, &code);
    if (s == NULL)
        return code;
    change.title = title;
    change.responsible = responsible;
    change.link = link_url;
    return cq_measure_edit(s, argv[1], &change, &error) ? EX_OK
                                                        : cli_fail(cli, error);
}

static int
set_status(CqCli *cli, int argc, char **argv, const char *name,
           CqMeasureStatus to, const char *summary)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;

    if (!parse_one(cli, name, summary, NULL, &argc, &argv))
        return EX_USAGE;
    g_autoptr(CqSession) s = cli_start(cli, &code);
    if (s == NULL)
        return code;
    return cq_measure_set_status(s, argv[1], to, &error) ? EX_OK
                                                         : cli_fail(cli, error);
}

static int
run_done(CqCli *cli, int argc, char **argv)
{
    return set_status(cli, argc, argv, "measure done", CQ_MEASURE_DONE,
                      "Mark a measure done: it gets no further reminders.");
}

static int
run_cancel(CqCli *cli, int argc, char **argv)
{
    return set_status(cli, argc, argv, "measure cancel", CQ_MEASURE_CANCELLED,
                      "Cancel a measure: it gets no further reminders.");
}

static int
run_reopen(CqCli *cli, int argc, char **argv)
{
    return set_status(cli, argc, argv, "measure reopen", CQ_MEASURE_OPEN,
                      "Open a measure again that was done or cancelled.");
}

static void
add_measure_json(JsonBuilder *b, gconstpointer item)
{
    const CqMeasure *m = item;

    cli_json_string(b, "measure", m->ident);
    cli_json_string(b, "record", m->record);
    cli_json_string(b, "title", m->title);
    cli_json_string(b, "responsible", m->responsible);
    cli_json_string(b, "responsible_name", m->responsible_name);
    cli_json_day(b, "due", m->due);
    cli_json_string(b, "status", cq_measure_status_name(m->status));
    cli_json_int(b, "level", m->level);
    cli_json_string(b, "link", m->link);
    cli_json_string(b, "owner", m->owner);
    cli_json_time(b, "created", m->created);
    cli_json_time(b, "updated", m->updated);
}

static void
print_list(GPtrArray *measures)
{
    CliTable *t = cli_table_new(
        (const char *const[]){"measure", "due", "status", "level",
                              "responsible", "record", "title", NULL});

    for (guint i = 0; i < measures->len; i++) {
        const CqMeasure *m = measures->pdata[i];
        char day[CQ_DAY_ISO_LEN];
        g_autofree char *level = g_strdup_printf("%u", m->level);
        cli_table_add(t, (const char *const[]){
                             m->ident, cq_day_format_iso(m->due, day),
                             cq_measure_status_name(m->status), level,
                             m->responsible, m->record, m->title, NULL});
    }
    cli_table_print(t);
}

static int
run_list(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    CqMeasureStatus wanted = CQ_MEASURE_OPEN;
    const GOptionEntry entries[] = {
        {"status", 's', 0, G_OPTION_ARG_STRING, &status,
         "Only measures that are open, done or cancelled", "STATUS"},
        {"record", 'r', 0, G_OPTION_ARG_STRING, &record,
         "Only the measures of this record", "ID"},
        {"responsible", 'p', 0, G_OPTION_ARG_STRING, &responsible,
         "Only the measures of this person (identifier)", "PERSON"},
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json_output,
         "Print JSON for scripts", NULL},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, "measure list", "",
                       "List measures by due date, with the reminder level "
                       "each stands at.",
                       entries, &argc, &argv))
        return EX_USAGE;
    if (status != NULL && !cq_measure_status_parse(status, &wanted, &error))
        return cli_fail(cli, error);
    g_autoptr(CqSession) s = cli_start(cli, &code);
    if (s == NULL)
        return code;
    CqMeasureFilter filter = {status ? &wanted : NULL, record, responsible};
    g_autoptr(GPtrArray) measures = cq_measure_list(s, &filter, &error);
    if (measures == NULL)
        return cli_fail(cli, error);
    cli_print_items(measures, json_output, add_measure_json, print_list);
    return EX_OK;
}

static void
print_measure(gconstpointer item, const GPtrArray *history)
{
    const CqMeasure *m = item;
    char day[CQ_DAY_ISO_LEN];

    printf("measure      %s\nrecord       %s\ntitle        %s\n"
           "responsible  %s (%s)\ndue          %s\nstatus       %s\n"
           "level        %u\n",
           m->ident, m->record, m->title, m->responsible, m->responsible_name,
           cq_day_format_iso(m->due, day), cq_measure_status_name(m->status),
           m->level);
    if (m->link != NULL)
        printf("link         %s\n", m->link);
    printf("\nhistory:\n");
    cli_print_item_history(history);
}

static gpointer
get_with_history(CqSession *s, const char *id, GPtrArray **history,
                 GError **error)
{
    g_autoptr(CqMeasure) item = cq_measure_get(s, id, error);

    if (item == NULL || (*history = cq_measure_history(s, id, error)) == NULL)
        return NULL;
    return g_steal_pointer(&item);
}

static int
run_show(CqCli *cli, int argc, char **argv)
{
    const CliShow show = {
        .name = "measure show",
        .param = "ID",
        .summary = "Show a measure and its history: changes, and every "
                   "reminder with its mail (see 'caqmail history show').",
        .get = get_with_history,
        .free = (GDestroyNotify)cq_measure_free,
        .add = add_measure_json,
        .text = print_measure,
    };

    return cli_run_show(cli, argc, argv, &show);
}

static int
run_import(CqCli *cli, int argc, char **argv)
{
    return cli_run_import(cli, argc, argv, "measure import",
                          "Import measures from a CSV file with the columns "
                          "ident, record, title, responsible, due and "
                          "optionally status and link.  Existing measures "
                          "are changed.  All or nothing: a bad line imports "
                          "nothing, and every bad line is reported.",
                          cq_measure_import, "measures");
}

static const CqSubcommand subcommands[] = {
    {"add", run_add,
     "add a measure: ID --record --title --responsible --due [--link]"},
    {"edit", run_edit,
     "change a measure: ID [--title] [--responsible] [--due] [--link]"},
    {"done", run_done, "mark a measure done: ID"},
    {"cancel", run_cancel, "cancel a measure: ID"},
    {"reopen", run_reopen, "open a measure again: ID"},
    {"list", run_list, "list measures [--status] [--record] [--responsible]"},
    {"show", run_show, "show a measure and its history: ID"},
    {"import", run_import, "import a CSV file, all or nothing"},
};

int
cmd_measure(CqCli *cli, int argc, char **argv)
{
    return cli_run_subcommand(
        cli, argc, argv, subcommands, G_N_ELEMENTS(subcommands),
        "Measures: corrective and preventive actions with a responsible "
        "person and a due date.\n'caqmail remind' sends their reminders.");
}
