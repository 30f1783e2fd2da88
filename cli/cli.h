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
    const char *command;
    CqConfig *config;  /* loaded by cli_load_config() */
} CqCli;

typedef int (*CqCommandFunc)(CqCli *cli, int argc, char **argv);

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
int cmd_demo(CqCli *cli, int argc, char **argv);
int cmd_config(CqCli *cli, int argc, char **argv);
int cmd_smtp_check(CqCli *cli, int argc, char **argv);

#endif
