/* caqmail serve: the web page and the HTTP API, from the module
 * caqmail-web.so, so that other commands never load libsoup. */
#include "cli.h"

#include "common/module.h"
#include "web/server.h"

#include <glib-unix.h>
#include <stdio.h>

static gboolean
on_stop(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

static int
serve(CqCli *cli, const char *address, gint64 port)
{
    static gconstpointer loaded;
    g_autoptr(GError) error = NULL;
    const WebModule *web =
        cq_module_load("caqmail-web.so", "web server", &loaded, &error);
    WebServer *server = web == NULL ? NULL
                                    : web->server_new(cli->config,
                                                      cli->config_path,
                                                      address, port, &error);

    if (server == NULL)
        return cli_fail(cli, error);
    g_autofree char *uri = web->server_uri(server);
    printf("listening on %s\n", uri);
    fflush(stdout);

    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGTERM, on_stop, loop);
    g_unix_signal_add(SIGINT, on_stop, loop);
    g_main_loop_run(loop);
    g_main_loop_unref(loop);
    web->server_free(server);
    return EX_OK;
}

int
cmd_serve(CqCli *cli, int argc, char **argv)
{
    g_autofree char *address = NULL;
    gint port = -1;
    int code = EX_USAGE;
    const GOptionEntry entries[] = {
        {"address", 'a', 0, G_OPTION_ARG_STRING, &address,
         "Listen on ADDR (default: [web] address, 127.0.0.1)", "ADDR"},
        {"port", 'p', 0, G_OPTION_ARG_INT, &port,
         "Listen on PORT (default: [web] port, 8025; 0: any free port)",
         "PORT"},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) context = g_option_context_new("");
    g_option_context_set_summary(
        context,
        "Serve the web page (compose, history, outbox) and the JSON API "
        "over HTTP, or HTTPS with [web] tls_certificate and tls_key.  "
        "Users sign in with the password set by 'caqmail user password', "
        "or through a reverse proxy's [web] trusted_header.  Prints the "
        "address it listens on; stops on SIGTERM or SIGINT.");
    g_option_context_add_main_entries(context, entries, NULL);

    if (!cli_parse(cli, context, &argc, &argv))
        return EX_USAGE;
    if (argc > 1) {
        fprintf(stderr, "caqmail serve: unexpected argument '%s'\n", argv[1]);
        return EX_USAGE;
    }
    if (port > 65535) {
        fprintf(stderr, "caqmail serve: --port %d: use 0 to 65535\n", port);
        return EX_USAGE;
    }
    if (cli_load_config(cli, &code))
        code = serve(cli, address, port);
    return code;
}
