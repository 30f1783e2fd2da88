/* caqmail-cli: the command-line program, run by the `caqmail` executable
 * (front.c) or forked by `caqmail prefork`. */
#include "cli.h"

#include "caqmail-build.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

static int cli_main(int argc, char **argv);

static int
run_prefork(CqCli *cli, int argc, char **argv)
{
    return cmd_prefork(cli, cli_main, argc, argv);
}

static const CqCommand commands[] = {
    {"send", cmd_send, "compose a mail and send it", FALSE},
    {"sendmail", cmd_sendmail,
     "take a message on standard input as sendmail does", FALSE},
    {"deliver", cmd_deliver, "deliver the outbox (--once, --daemon)", TRUE},
    {"outbox", cmd_outbox, "list, show, retry and cancel waiting mail",
     FALSE},
    {"history", cmd_history, "list, show, search and verify sent mail",
     FALSE},
    {"catalog", cmd_catalog, "persons, departments, contacts, lists", TRUE},
    {"record", cmd_record, "quality records that mails belong to", FALSE},
    {"document", cmd_document, "store, list, show and export documents",
     FALSE},
    {"measure", cmd_measure, "measures that reminders are sent for", FALSE},
    {"remind", cmd_remind, "send the reminders that are due (--dry-run)",
     TRUE},
    {"gauge", cmd_gauge, "gauges (test equipment) and their holders", FALSE},
    {"gauges", cmd_gauges, "collect: lists of gauges due for calibration",
     TRUE},
    {"user", cmd_user, "users, roles and permissions", FALSE},
    {"demo", cmd_demo, "send sample mails through the whole flow", FALSE},
    {"migrate", cmd_migrate, "copy the database into another (to PostgreSQL)",
     FALSE},
    {"config", cmd_config, "show the configuration in effect", FALSE},
    {"smtp-check", cmd_smtp_check, "show what the SMTP server offers",
     FALSE},
    {"serve", cmd_serve, "serve the web page and the HTTP API", TRUE},
    {"prefork", run_prefork,
     "keep caqmail loaded to start each send from it", TRUE},
};

static const CqCommand *
find_command(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

static char *
command_list(void)
{
    GString *text = g_string_new("Commands:\n");
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
        g_string_append_printf(text, "  %-14s %s\n", commands[i].name,
                               commands[i].summary);
    g_string_append(text, "\nRun 'caqmail COMMAND --help' for a command's "
                          "options; see caqmail(1).");
    return g_string_free(text, FALSE);
}

GOptionGroup *
cli_global_options(CqCli *cli)
{
    const GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &cli->config_path,
         "Read the configuration from FILE", "FILE"},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &cli->verbose,
         "Log more: one line per step", NULL},
        {"debug", 0, 0, G_OPTION_ARG_NONE, &cli->debug,
         "Log everything, protocol transcripts included", NULL},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &cli->quiet,
         "Log errors only", NULL},
        {"as", 0, 0, G_OPTION_ARG_STRING, &cli->as,
         "Act as user LOGIN (administrators only)", "LOGIN"},
        G_OPTION_ENTRY_NULL,
    };
    GOptionGroup *group = g_option_group_new(
        "global", "Options of every command:", "Show the global options",
        NULL, NULL);
    g_option_group_add_entries(group, entries);
    return group;
}

gboolean
cli_parse(CqCli *cli, GOptionContext *context, int *argc, char ***argv)
{
    g_autoptr(GError) error = NULL;

    g_option_context_add_group(context, cli_global_options(cli));
    if (g_option_context_parse(context, argc, argv, &error))
        return TRUE;
    fprintf(stderr, "caqmail %s: %s\n", cli->command, error->message);
    return FALSE;
}

gboolean
cli_load_config(CqCli *cli, int *exit_code)
{
    g_autoptr(GError) error = NULL;
    const CqCommand *command = find_command(cli->command);

    cli->config = cq_config_load(cli->config_path, &error);
    if (cli->config == NULL) {
        *exit_code = cli_fail(cli, error);
        return FALSE;
    }
    cli_log_start(cli_log_level(cli),
                  command && command->long_running &&
                      cli->config->general.syslog);
    return TRUE;
}

static int
usage(GOptionContext *context, int code)
{
    g_autofree char *help = g_option_context_get_help(context, TRUE, NULL);
    fputs(help, code == EX_OK ? stdout : stderr);
    return code;
}

static int
cli_main(int argc, char **argv)
{
    CqCli cli = {0};
    gboolean version = FALSE;
    const GOptionEntry entries[] = {
        {"version", 'V', 0, G_OPTION_ARG_NONE, &version,
         "Print the version and exit", NULL},
        G_OPTION_ENTRY_NULL,
    };

    setlocale(LC_ALL, "");
    /* Installed as sendmail (a link), caqmail is that command. */
    g_autofree char *called = g_path_get_basename(argv[0]);
    if (strcmp(called, "sendmail") == 0)
        return cmd_sendmail(&cli, argc, argv);
    g_autoptr(GOptionContext) context =
        g_option_context_new("COMMAND [OPTION...]");
    g_autofree char *list = command_list();
    g_option_context_set_summary(context,
                                 "caqmail sends the mail of a quality "
                                 "system (CAQ) and keeps its history.");
    g_option_context_set_description(context, list);
    g_option_context_set_strict_posix(context, TRUE);
    g_option_context_add_main_entries(context, entries, NULL);
    cli.command = "";
    if (!cli_parse(&cli, context, &argc, &argv))
        return EX_USAGE;
    if (version) {
        printf("caqmail %s\n", CAQMAIL_VERSION);
        return EX_OK;
    }
    if (argc < 2)
        return usage(context, EX_USAGE);

    const CqCommand *command = find_command(argv[1]);
    if (command == NULL) {
        fprintf(stderr, "caqmail: unknown command '%s'\n", argv[1]);
        return usage(context, EX_USAGE);
    }
    cli.command = command->name;
    int code = command->run(&cli, argc - 1, argv + 1);
    cq_config_free(cli.config);
    g_free(cli.config_path);
    g_free(cli.as);
    return code;
}

int
main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
