/* The caqmail command line: a thin front end over the library.  Every
 * command is one function in its own file, listed in main.c. */
#ifndef CQ_CLI_H
#define CQ_CLI_H

#include "common/config.h"
#include "common/error.h"
#include "common/event.h"

#include <sysexits.h>

typedef struct {
    char *config_path; /* --config */
    gboolean verbose;  /* --verbose: info level */
    gboolean debug;    /* --debug: debug level, protocol transcripts */
    gboolean quiet;    /* --quiet: errors only */
    char *as;          /* --as: act for this user (administrators) */
    const char *command;
    CqConfig *config;  /* loaded by cli_load_config() */
} CqCli;

typedef int (*CqCommandFunc)(CqCli *cli, int argc, char **argv);
/* The whole program, from its command line to its exit code. */
typedef int (*CqCliMain)(int argc, char **argv);

typedef struct {
    const char *name;
    CqCommandFunc run;
    const char *summary;
    gboolean long_running; /* also logs to the journal */
} CqCommand;

/* The options every command accepts (--config, --verbose, ...). */
GOptionGroup *cli_global_options(CqCli *cli);

/* Parses a command's options; on a usage error prints it and returns
 * FALSE. */
gboolean cli_parse(CqCli *cli, GOptionContext *context, int *argc,
                   char ***argv);

/* Loads the configuration and starts logging at its level.  Prints the
 * error and returns FALSE on failure; *exit_code is then set. */
gboolean cli_load_config(CqCli *cli, int *exit_code);

/* Reports @error on standard error and as an event; returns its exit
 * code. */
int cli_fail(CqCli *cli, const GError *error);

/* Starts logging events to standard error (and the journal when
 * @to_syslog) up to @level. */
void cli_log_start(CqLogLevel level, gboolean to_syslog);
CqLogLevel cli_log_level(const CqCli *cli);

int cmd_send(CqCli *cli, int argc, char **argv);
int cmd_sendmail(CqCli *cli, int argc, char **argv);
int cmd_catalog(CqCli *cli, int argc, char **argv);
int cmd_user(CqCli *cli, int argc, char **argv);
int cmd_record(CqCli *cli, int argc, char **argv);
int cmd_document(CqCli *cli, int argc, char **argv);
int cmd_measure(CqCli *cli, int argc, char **argv);
int cmd_gauge(CqCli *cli, int argc, char **argv);
int cmd_gauges(CqCli *cli, int argc, char **argv);
int cmd_remind(CqCli *cli, int argc, char **argv);
int cmd_deliver(CqCli *cli, int argc, char **argv);
int cmd_outbox(CqCli *cli, int argc, char **argv);
int cmd_history(CqCli *cli, int argc, char **argv);
int cmd_demo(CqCli *cli, int argc, char **argv);
int cmd_config(CqCli *cli, int argc, char **argv);
int cmd_migrate(CqCli *cli, int argc, char **argv);
int cmd_smtp_check(CqCli *cli, int argc, char **argv);
int cmd_serve(CqCli *cli, int argc, char **argv);
/* Forks @run for every command handed over (cmd-prefork.c). */
int cmd_prefork(CqCli *cli, CqCliMain run, int argc, char **argv);

/* Helpers shared by the commands that use the store (util.c). */
#include "access/access.h"

#include <json-glib/json-glib.h>

/* Opens the database named by the configuration, acting as --as when
 * given.  Prints the error and sets *exit_code on failure.  In a prefork
 * worker, the session is over the database the worker keeps open. */
CqSession *cli_open_session(CqCli *cli, int *exit_code);

#include "outbox/transport.h"

/* The transport the configuration names: a new one, or in a prefork
 * worker the one it keeps (with its open SMTP connections).  Give it
 * back with cli_transport_free(). */
typedef CqTransport CliTransport;
CliTransport *cli_transport_new(CqCli *cli, GError **error);
void cli_transport_free(CliTransport *transport);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CliTransport, cli_transport_free)

/* Makes cli_open_session() and cli_transport_new() use @session's store
 * and @transport (both kept by the caller), or NULLs: a new one each. */
void cli_keep_open(CqSession *session, CqTransport *transport);
/* Loads the configuration, then opens the session as cli_open_session()
 * does. */
CqSession *cli_start(CqCli *cli, int *exit_code);

/* A subcommand such as "catalog add". */
typedef struct {
    const char *name;
    int (*run)(CqCli *cli, int argc, char **argv);
    const char *summary;
} CqSubcommand;

/* Runs the subcommand named by argv[1]; prints the list on --help or a
 * usage error. */
int cli_run_subcommand(CqCli *cli, int argc, char **argv,
                       const CqSubcommand *subs, guint n_subs,
                       const char *summary);

/* Parses a subcommand's options; "catalog add" is the name shown.
 * @entries may be NULL.  Returns FALSE after printing a usage error. */
gboolean cli_parse_sub(CqCli *cli, const char *name, const char *params,
                       const char *summary, const GOptionEntry *entries,
                       int *argc, char ***argv);

/* Prints @node as indented JSON on standard output and frees it. */
void cli_print_json(JsonNode *node);
/* "2026-12-03 17:04:05" in local time; newly allocated. */
char *cli_format_time(gint64 usec);
/* ISO 8601 with the offset, for JSON; newly allocated. */
char *cli_format_time_iso(gint64 usec);

/* A table printed with aligned columns. */
typedef struct _CliTable CliTable;
CliTable *cli_table_new(const char *const *headers);
void cli_table_add(CliTable *table, const char *const *cells);
/* Prints and frees the table. */
void cli_table_print(CliTable *table);
void cli_table_free_unprinted(CliTable *table);

/* Shows "label: done/total" on standard error when it is a terminal,
 * overwriting the line; cli_progress_end() ends the line. */
void cli_progress(const char *label, guint64 done, guint64 total);
void cli_progress_end(void);

/* Parses a mail id ("12"); prints a usage error on failure. */
gboolean cli_parse_id(CqCli *cli, const char *text, gint64 *id);

#endif
