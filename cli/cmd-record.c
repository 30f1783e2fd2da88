/* caqmail record: the quality records mails belong to. */
#include "mailview.h"

#include "history/record.h"

#include <stdio.h>

static gboolean json_output;
static char *kind, *title, *owner;

static CqSession *
start(CqCli *cli, int *code)
{
    if (!cli_load_config(cli, code))
        return NULL;
    return cli_open_session(cli, code);
}

static const GOptionEntry field_entries[] = {
    {"kind", 'k', 0, G_OPTION_ARG_STRING, &kind,
     "Kind of record (default: the identifier's first part, e.g. 8D)", "KIND"},
    {"title", 't', 0, G_OPTION_ARG_STRING, &title, "Title", "TEXT"},
    {"owner", 'o', 0, G_OPTION_ARG_STRING, &owner,
     "Owner's login (default: you)", "LOGIN"},
    G_OPTION_ENTRY_NULL,
};

static int
change(CqCli *cli, int argc, char **argv, gboolean add)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;

    if (!cli_parse_sub(cli, add ? "record add" : "record edit", "ID",
                       add ? "Add a quality record."
                           : "Change a record (its owner or an "
                             "administrator).",
                       field_entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 2) {
        fprintf(stderr, "caqmail record: give the record ID\n");
        return EX_USAGE;
    }
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    gboolean ok = add ? cq_record_add(s, argv[1], kind, title, owner, &error)
                      : cq_record_edit(s, argv[1], kind, title, owner, &error);
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
add_record_json(JsonBuilder *b, const CqRecord *r)
{
    g_autofree char *created = cli_format_time_iso(r->created);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "record");
    json_builder_add_string_value(b, r->ident);
    json_builder_set_member_name(b, "kind");
    json_builder_add_string_value(b, r->kind);
    json_builder_set_member_name(b, "title");
    json_builder_add_string_value(b, r->title);
    json_builder_set_member_name(b, "owner");
    json_builder_add_string_value(b, r->owner);
    json_builder_set_member_name(b, "created");
    json_builder_add_string_value(b, created);
    json_builder_set_member_name(b, "mails");
    json_builder_add_int_value(b, r->mails);
    json_builder_end_object(b);
}

static int
run_list(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    const GOptionEntry entries[] = {
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json_output,
         "Print JSON for scripts", NULL},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, "record list", "",
                       "List the records, with the number of their mails "
                       "you may read.",
                       entries, &argc, &argv))
        return EX_USAGE;
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    g_autoptr(GPtrArray) records = cq_record_list(s, &error);
    if (records == NULL)
        return cli_fail(cli, error);
    g_autoptr(JsonBuilder) b = json_builder_new();
    CliTable *t = cli_table_new((const char *const[]){"record", "kind", "owner",
                                                      "mails", "title", NULL});
    json_builder_begin_array(b);
    for (guint i = 0; i < records->len; i++) {
        const CqRecord *r = records->pdata[i];
        g_autofree char *n = g_strdup_printf("%" G_GINT64_FORMAT, r->mails);
        cli_table_add(t, (const char *const[]){r->ident, r->kind, r->owner, n,
                                               r->title, NULL});
        add_record_json(b, r);
    }
    json_builder_end_array(b);
    if (json_output) {
        cli_table_free_unprinted(t);
        cli_print_json(json_builder_get_root(b));
    } else {
        cli_table_print(t);
    }
    return EX_OK;
}

static int
run_show(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    const GOptionEntry entries[] = {
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json_output,
         "Print JSON for scripts", NULL},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, "record show", "ID",
                       "Show a record; its mails are listed by 'caqmail "
                       "history list --record ID'.",
                       entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 2) {
        fprintf(stderr, "caqmail record show: give the record ID\n");
        return EX_USAGE;
    }
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    g_autoptr(CqRecord) r = cq_record_get(s, argv[1], &error);
    if (r == NULL)
        return cli_fail(cli, error);
    if (json_output) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        add_record_json(b, r);
        cli_print_json(json_builder_get_root(b));
        return EX_OK;
    }
    g_autofree char *created = cli_format_time(r->created);
    printf("record   %s\nkind     %s\ntitle    %s\nowner    %s\n"
           "created  %s\nmails    %" G_GINT64_FORMAT "\n",
           r->ident, r->kind, r->title, r->owner, created, r->mails);
    return EX_OK;
}

static const CqSubcommand subcommands[] = {
    {"add", run_add, "add a record: ID [--kind] [--title] [--owner]"},
    {"edit", run_edit, "change a record: ID [--kind] [--title] [--owner]"},
    {"list", run_list, "list the records"},
    {"show", run_show, "show a record: ID"},
};

int
cmd_record(CqCli *cli, int argc, char **argv)
{
    return cli_run_subcommand(
        cli, argc, argv, subcommands, G_N_ELEMENTS(subcommands),
        "Quality records (8D reports, audits, gauges...) that mails belong "
        "to.\nSending a mail with --record creates a missing record.");
}
