/* caqmail smtp-check: connect to the configured SMTP server and tell what
 * it offers and whether caqmail can log in; sends no mail. */
#include "cli.h"

#include <caqmail/caqmail.h>

#include <stdio.h>

static void
print_row(const char *label, const char *value)
{
    printf("%-13s %s\n", label, value ? value : "");
}

static const char *
get(const CaqmailServerInfo *info, const char *key)
{
    return caqmail_server_info_get(info, key);
}

static void
print_tls(const CaqmailServerInfo *info)
{
    if (g_strcmp0(get(info, "tls"), "yes") != 0) {
        print_row("tls:", "none");
        return;
    }
    g_autofree char *tls = g_strdup_printf("%s, %s", get(info, "tls-version"),
                                           get(info, "tls-cipher"));
    print_row("tls:", tls);
    print_row("certificate:", get(info, "cert-subject"));
    print_row("  issuer:", get(info, "cert-issuer"));
    print_row("  expires:", get(info, "cert-not-after"));
    print_row("  sha256:", get(info, "cert-sha256"));
}

static void
print_extensions(const CaqmailServerInfo *info)
{
    const char *const *lines = caqmail_server_info_get_extensions(info);

    if (g_strcmp0(get(info, "esmtp"), "yes") != 0) {
        print_row("extensions:", "none (the server knows only HELO)");
        return;
    }
    for (guint i = 0; lines[i]; i++)
        print_row(i == 0 ? "extensions:" : "", lines[i]);
}

static void
print_auth(const CqConfig *config, const CaqmailServerInfo *info,
           const GError *error)
{
    const char *offered = get(info, "auth-offered");
    const char *used = get(info, "auth-used");
    g_autofree char *text = NULL;

    if (config->smtp.user == NULL)
        text = g_strdup_printf("not configured (offered: %s)",
                               offered ? offered : "none");
    else if (used != NULL)
        text = g_strdup_printf("%s as '%s' succeeded", used, config->smtp.user);
    else
        text = g_strdup_printf("failed: %s",
                               error ? error->message : "not reached");
    print_row("auth:", text);
}

static int
run(CqCli *cli)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CaqmailServerInfo) info = NULL;
    g_autoptr(CaqmailContext) context =
        caqmail_context_open(cli->config_path, &error);

    if (context == NULL)
        return cli_fail(cli, error);
    gboolean ok = caqmail_smtp_check(context, &info, &error);
    if (info != NULL) {
        g_autofree char *server =
            g_strdup_printf("%s port %s", get(info, "host"), get(info, "port"));
        print_row("server:", server);
        print_row("greeting:", get(info, "greeting"));
        print_tls(info);
        print_extensions(info);
        print_auth(cli->config, info, error);
    }
    return ok ? EX_OK : cli_fail(cli, error);
}

int
cmd_smtp_check(CqCli *cli, int argc, char **argv)
{
    int code = EX_USAGE;
    g_autoptr(GOptionContext) context = g_option_context_new("");

    g_option_context_set_summary(
        context, "Connect to the configured SMTP server and show its "
                 "greeting, TLS, certificate and extensions, and whether "
                 "authentication succeeds.  No mail is sent.");
    if (cli_parse(cli, context, &argc, &argv)) {
        if (argc > 1)
            fprintf(stderr, "caqmail smtp-check: unexpected argument '%s'\n",
                    argv[1]);
        else if (cli_load_config(cli, &code))
            code = run(cli);
    }
    return code;
}
