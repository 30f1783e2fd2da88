/* What the commands over the store share: the session, subcommands,
 * JSON and table output, progress. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* What a prefork worker keeps open across the commands it runs. */
static CqSession *kept_session;
static CqTransport *kept_transport;

void
cli_keep_open(CqSession *session, CqTransport *transport)
{
    kept_session = session;
    kept_transport = transport;
}

CqSession *
cli_open_session(CqCli *cli, int *exit_code)
{
    g_autoptr(GError) error = NULL;
    CqSession *session =
        kept_session != NULL
            ? cq_session_open_shared(kept_session->store, cli->as, &error)
            : cq_session_open_config(cli->config, cli->as, &error);
    if (session == NULL)
        *exit_code = cli_fail(cli, error);
    return session;
}

CliTransport *
cli_transport_new(CqCli *cli, GError **error)
{
    if (kept_transport != NULL)
        return kept_transport;
    return cq_transport_new(cli->config, error);
}

void
cli_transport_free(CliTransport *transport)
{
    if (transport != kept_transport)
        cq_transport_free(transport);
}

CqSession *
cli_start(CqCli *cli, int *exit_code)
{
    if (!cli_load_config(cli, exit_code))
        return NULL;
    return cli_open_session(cli, exit_code);
}

static void
print_subcommands(FILE *out, const char *command, const char *summary,
                  const CqSubcommand *subs, guint n)
{
    fprintf(out,
            "Usage:\n  caqmail %s SUBCOMMAND [OPTION...]\n\n%s\n\n"
            "Subcommands:\n",
            command, summary);
    for (guint i = 0; i < n; i++)
        fprintf(out, "  %-10s %s\n", subs[i].name, subs[i].summary);
    fprintf(out,
            "\nRun 'caqmail %s SUBCOMMAND --help' for its options; "
            "see caqmail(1).\n",
            command);
}

int
cli_run_subcommand(CqCli *cli, int argc, char **argv, const CqSubcommand *subs,
                   guint n_subs, const char *summary)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        gboolean help = argc >= 2;
        print_subcommands(help ? stdout : stderr, cli->command, summary, subs,
                          n_subs);
        return help ? EX_OK : EX_USAGE;
    }
    for (guint i = 0; i < n_subs; i++) {
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].run(cli, argc - 1, argv + 1);
    }
    fprintf(stderr, "caqmail %s: unknown subcommand '%s'\n", cli->command,
            argv[1]);
    print_subcommands(stderr, cli->command, summary, subs, n_subs);
    return EX_USAGE;
}

gboolean
cli_parse_sub(CqCli *cli, const char *name, const char *params,
              const char *summary, const GOptionEntry *entries, int *argc,
              char ***argv)
{
    g_autofree char *usage = g_strdup_printf("%s %s", name, params);
    g_autoptr(GOptionContext) context = g_option_context_new(usage);

    g_option_context_set_summary(context, summary);
    if (entries != NULL)
        g_option_context_add_main_entries(context, entries, NULL);
    return cli_parse(cli, context, argc, argv);
}

void
cli_print_json(JsonNode *node)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();

    json_generator_set_pretty(gen, TRUE);
    json_generator_set_root(gen, node);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    puts(text);
    json_node_unref(node);
}

static char *
format_time(gint64 usec, const char *format)
{
    if (usec <= 0)
        return g_strdup("");
    g_autoptr(GDateTime) t =
        g_date_time_new_from_unix_local(usec / G_USEC_PER_SEC);
    return t ? g_date_time_format(t, format) : g_strdup("");
}

char *
cli_format_time(gint64 usec)
{
    return format_time(usec, "%Y-%m-%d %H:%M:%S");
}

char *
cli_format_time_iso(gint64 usec)
{
    return format_time(usec, "%Y-%m-%dT%H:%M:%S%:z");
}

struct _CliTable {
    guint columns;
    GPtrArray *rows; /* of GStrv */
};

CliTable *
cli_table_new(const char *const *headers)
{
    CliTable *table = g_new0(CliTable, 1);
    table->columns = g_strv_length((char **)headers);
    table->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    cli_table_add(table, headers);
    return table;
}

void
cli_table_add(CliTable *table, const char *const *cells)
{
    char **row = g_new0(char *, table->columns + 1);
    for (guint i = 0; i < table->columns; i++)
        row[i] = g_strdup(cells[i] ? cells[i] : "");
    g_ptr_array_add(table->rows, row);
}

void
cli_table_free_unprinted(CliTable *table)
{
    g_ptr_array_unref(table->rows);
    g_free(table);
}

void
cli_table_print(CliTable *table)
{
    g_autofree glong *width = g_new0(glong, table->columns);

    for (guint r = 0; r < table->rows->len; r++) {
        char **row = table->rows->pdata[r];
        for (guint c = 0; c < table->columns; c++)
            width[c] = MAX(width[c], g_utf8_strlen(row[c], -1));
    }
    for (guint r = 0; r < table->rows->len; r++) {
        char **row = table->rows->pdata[r];
        g_autoptr(GString) line = g_string_new(NULL);
        for (guint c = 0; c < table->columns; c++) {
            g_string_append(line, row[c]);
            if (c + 1 == table->columns)
                break;
            for (glong pad = g_utf8_strlen(row[c], -1); pad < width[c] + 2;
                 pad++)
                g_string_append_c(line, ' ');
        }
        puts(line->str);
    }
    cli_table_free_unprinted(table);
}

static gboolean progress_shown;

void
cli_progress(const char *label, guint64 done, guint64 total)
{
    if (!isatty(STDERR_FILENO))
        return;
    if (total > 0)
        fprintf(stderr,
                "\r%s: %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " (%u%%)",
                label, done, total, (unsigned)(done * 100 / total));
    else
        fprintf(stderr, "\r%s: %" G_GUINT64_FORMAT, label, done);
    progress_shown = TRUE;
}

void
cli_progress_end(void)
{
    if (progress_shown)
        fputc('\n', stderr);
    progress_shown = FALSE;
}

gboolean
cli_parse_id(CqCli *cli, const char *text, gint64 *id)
{
    if (text != NULL &&
        g_ascii_string_to_signed(text, 10, 1, G_MAXINT64, id, NULL))
        return TRUE;
    fprintf(stderr, "caqmail %s: '%s' is not a mail number\n", cli->command,
            text ? text : "");
    return FALSE;
}
