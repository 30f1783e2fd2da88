#include "cli.h"

#include <stdio.h>
#include <syslog.h>

static gboolean use_syslog;

static int
syslog_priority(CqLogLevel level)
{
    switch (level) {
    case CQ_LOG_ERROR:
        return LOG_ERR;
    case CQ_LOG_WARNING:
        return LOG_WARNING;
    case CQ_LOG_NOTICE:
        return LOG_NOTICE;
    case CQ_LOG_INFO:
        return LOG_INFO;
    case CQ_LOG_DEBUG:
        return LOG_DEBUG;
    }
    return LOG_INFO;
}

static void
write_event(CqLogLevel level, const char *line, gpointer user_data)
{
    fprintf(stderr, "caqmail: %s: %s\n", cq_log_level_name(level), line);
    if (use_syslog)
        syslog(LOG_MAIL | syslog_priority(level), "%s", line);
}

void
cli_log_start(CqLogLevel level, gboolean to_syslog)
{
    use_syslog = to_syslog;
    if (to_syslog)
        openlog("caqmail", LOG_PID, LOG_MAIL);
    cq_event_set_handler(level, write_event, NULL);
}

CqLogLevel
cli_log_level(const CqCli *cli)
{
    static const char *const names[] = {"error", "warning", "notice", "info",
                                        "debug"};
    CqLogLevel level = CQ_LOG_NOTICE;

    if (cli->debug)
        return CQ_LOG_DEBUG;
    if (cli->verbose)
        return CQ_LOG_INFO;
    if (cli->quiet)
        return CQ_LOG_ERROR;
    for (guint i = 0; cli->config && i < G_N_ELEMENTS(names); i++) {
        if (g_strcmp0(cli->config->general.log_level, names[i]) == 0)
            level = (CqLogLevel)i;
    }
    return level;
}

int
cli_fail(CqCli *cli, const GError *error)
{
    fprintf(stderr, "caqmail %s: %s\n", cli->command ? cli->command : "",
            error->message);
    return cq_error_exit_code(error);
}
