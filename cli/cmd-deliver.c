/* caqmail deliver: the delivery worker. */
#include "cli.h"

#include "outbox/outbox.h"

#include <signal.h>
#include <stdio.h>

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
    stopping = 1;
}

static void
progress(const CqDeliverStats *stats, gpointer data)
{
    guint64 *done = data;
    cli_progress("deliver",
                 *done + stats->sent + stats->partly_sent + stats->failed +
                     stats->deferred + stats->uncertain,
                 0);
}

static void
add_stats(CqDeliverStats *sum, const CqDeliverStats *s)
{
    sum->claimed += s->claimed;
    sum->sent += s->sent;
    sum->partly_sent += s->partly_sent;
    sum->deferred += s->deferred;
    sum->failed += s->failed;
    sum->uncertain += s->uncertain;
    sum->taken_over += s->taken_over;
}

static void
print_stats(const CqDeliverStats *s, gboolean json)
{
    if (!json) {
        printf("delivered: %u sent, %u partly sent, %u deferred, %u failed, "
               "%u uncertain\n",
               s->sent, s->partly_sent, s->deferred, s->failed, s->uncertain);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    const char *names[] = {"claimed", "sent",      "partly_sent", "deferred",
                           "failed",  "uncertain", "taken_over"};
    guint values[] = {s->claimed, s->sent,      s->partly_sent, s->deferred,
                      s->failed,  s->uncertain, s->taken_over};
    json_builder_begin_object(b);
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        json_builder_set_member_name(b, names[i]);
        json_builder_add_int_value(b, values[i]);
    }
    json_builder_end_object(b);
    cli_print_json(json_builder_get_root(b));
}

/* Sleeps until the next mail is due or the poll interval has passed. */
static gboolean
wait_for_work(CqSession *s, gint64 poll, GError **error)
{
    gint64 wait = 0;

    if (!cq_outbox_next_due(s, &wait, error))
        return FALSE;
    if (wait < 0 || wait > poll)
        wait = poll;
    for (gint64 slept = 0; slept < wait && !stopping;
         slept += G_USEC_PER_SEC / 10)
        g_usleep(MIN(G_USEC_PER_SEC / 10, wait - slept));
    return TRUE;
}

static int
run(CqCli *cli, CqSession *s, gboolean daemon, gboolean json)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqTransport) transport = cq_transport_new(cli->config, &error);
    CqDeliverOptions options = cq_deliver_options_from_config(cli->config);
    CqDeliverStats sum = {0}, round = {0};
    guint64 done = 0;

    if (transport == NULL)
        return cli_fail(cli, error);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    do {
        gboolean ok = cq_outbox_deliver(s, transport, &options, &round,
                                        progress, &done, &error);
        add_stats(&sum, &round);
        done = sum.sent + sum.partly_sent + sum.failed + sum.deferred +
               sum.uncertain;
        if (!ok && !daemon) {
            cli_progress_end();
            return cli_fail(cli, error);
        }
        if (!ok) {
            CqEvent *ev = cq_event_begin(CQ_LOG_ERROR, "deliver");
            cq_event_add_error(ev, error);
            cq_event_end(ev);
            g_clear_error(&error);
        }
        if (daemon && !stopping &&
            !wait_for_work(
                s, cli->config->outbox.poll_interval * G_USEC_PER_SEC, &error))
            return cli_fail(cli, error);
    } while (daemon && !stopping);
    cli_progress_end();
    print_stats(&sum, json);
    return EX_OK;
}

int
cmd_deliver(CqCli *cli, int argc, char **argv)
{
    gboolean once = FALSE, daemon = FALSE, json = FALSE;
    int code = EX_USAGE;
    const GOptionEntry entries[] = {
        {"once", 0, 0, G_OPTION_ARG_NONE, &once,
         "Deliver what is due now, then exit", NULL},
        {"daemon", 0, 0, G_OPTION_ARG_NONE, &daemon,
         "Keep delivering until stopped (SIGTERM, SIGINT)", NULL},
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print the summary as JSON",
         NULL},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) context = g_option_context_new("");
    g_option_context_set_summary(
        context, "Deliver the outbox through the configured transport.  "
                 "Several workers may run at once: each claims mail with "
                 "a lease.  Needs the permission administer.");
    g_option_context_add_main_entries(context, entries, NULL);

    if (!cli_parse(cli, context, &argc, &argv))
        return EX_USAGE;
    if (once == daemon || argc > 1) {
        fprintf(stderr, "caqmail deliver: give exactly one of --once and "
                        "--daemon\n");
        return EX_USAGE;
    }
    if (!cli_load_config(cli, &code))
        return code;
    g_autoptr(CqSession) s = cli_open_session(cli, &code);
    if (s == NULL)
        return code;
    return run(cli, s, daemon, json);
}
