/* caqmail migrate: the whole database copied into another one, such as
 * from the SQLite file into PostgreSQL. */
#include "cli.h"

#include "history/migrate.h"

#include <stdio.h>

static void
progress(const char *table, gint64 rows, gpointer data)
{
    g_autofree char *label = g_strdup_printf("copy %-16s", table);
    cli_progress(label, (guint64)rows, 0);
}

static void
print_result(const char *to, const CqMigrateResult *r, gboolean json)
{
    if (!json) {
        printf("copied %" G_GINT64_FORMAT " rows into %s; its history "
               "verifies: %" G_GINT64_FORMAT " entries, last hash %s\n",
               r->rows, to, r->entries, r->head);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "rows");
    json_builder_add_int_value(b, r->rows);
    json_builder_set_member_name(b, "entries");
    json_builder_add_int_value(b, r->entries);
    json_builder_set_member_name(b, "head");
    json_builder_add_string_value(b, r->head);
    json_builder_end_object(b);
    cli_print_json(json_builder_get_root(b));
}

/* A SQLite file that does not exist would be created empty. */
static gboolean
check_source(CqCli *cli, const char *from, int *code)
{
    if (!cq_store_location_is_file(from) ||
        g_file_test(from, G_FILE_TEST_IS_REGULAR))
        return TRUE;
    g_autoptr(GError) error = g_error_new(CQ_ERROR, CQ_ERROR_NOINPUT,
                                          "database '%s': no such file", from);
    *code = cli_fail(cli, error);
    return FALSE;
}

static int
run(CqCli *cli, const char *from, const char *to, gboolean json)
{
    g_autoptr(GError) error = NULL;
    CqMigrateResult result = {0};
    CqStoreOptions options;
    int code = EX_OK;

    cq_store_options_init(&options);
    options.busy_timeout_ms = cli->config->store.busy_timeout * 1000;
    if (!check_source(cli, from, &code))
        return code;
    g_autoptr(CqSession) s = cq_session_open(from, &options, cli->as, &error);
    if (s == NULL)
        return cli_fail(cli, error);
    gboolean ok = cq_migrate(s, to, &options, progress, NULL, &result, &error);
    cli_progress_end();
    if (!ok)
        return cli_fail(cli, error);
    print_result(to, &result, json);
    cq_migrate_result_clear(&result);
    return EX_OK;
}

int
cmd_migrate(CqCli *cli, int argc, char **argv)
{
    g_autofree char *from = NULL, *to = NULL;
    gboolean json = FALSE;
    int code = EX_USAGE;
    const GOptionEntry entries[] = {
        {"from", 0, 0, G_OPTION_ARG_FILENAME, &from,
         "Copy this database (default: the configured one)", "LOCATION"},
        {"to", 0, 0, G_OPTION_ARG_FILENAME, &to,
         "Into this one, which must be empty (default: the configured one)",
         "LOCATION"},
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print the result as JSON",
         NULL},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) context = g_option_context_new("");
    g_option_context_set_summary(
        context,
        "Copy the whole database (catalog, users, records, mails with their "
        "raw\nmessages, the outbox, the history with its hashes) into an "
        "empty one, in\none transaction that commits only when the copy's "
        "history chain verifies.\nA LOCATION is a SQLite file or "
        "postgresql://USER@HOST/DBNAME.  Stop the\ndelivery workers first.  "
        "Needs the permission administer.");
    g_option_context_add_main_entries(context, entries, NULL);

    if (!cli_parse(cli, context, &argc, &argv))
        return EX_USAGE;
    if (argc > 1 || (from == NULL && to == NULL)) {
        fprintf(stderr, "caqmail migrate: give --from, --to or both\n");
        return EX_USAGE;
    }
    if (!cli_load_config(cli, &code))
        return code;
    return run(cli, from ? from : cli->config->store.database,
               to ? to : cli->config->store.database, json);
}
