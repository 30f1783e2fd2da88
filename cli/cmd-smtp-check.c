/* caqmail smtp-check: connect to the configured SMTP server and tell what
 * it offers and whether caqmail can log in; sends no mail. */
#include "cli.h"

#include "smtp/client.h"

#include <stdio.h>

static void
print_row(const char *label, const char *value)
{
    printf("%-13s %s\n", label, value ? value : "");
}

static void
print_tls(const CqSmtpServerInfo *info)
{
    if (!info->tls) {
        print_row("tls:", "none");
        return;
    }
    g_autofree char *tls =
        g_strdup_printf("%s, %s", info->tls_version, info->tls_cipher);
    print_row("tls:", tls);
    print_row("certificate:", info->cert_subject);
    print_row("  issuer:", info->cert_issuer);
    print_row("  expires:", info->cert_not_after);
    print_row("  sha256:", info->cert_sha256);
}

static void
print_extensions(const CqSmtpServerInfo *info)
{
    if (!info->esmtp) {
        print_row("extensions:", "none (the server knows only HELO)");
        return;
    }
    for (guint i = 0; info->ehlo_lines && info->ehlo_lines[i]; i++)
        print_row(i == 0 ? "extensions:" : "", info->ehlo_lines[i]);
}

static void
print_auth(const CqConfig *config, const CqSmtpServerInfo *info,
           const GError *error)
{
    g_autofree char *offered =
        info->auth_offered ? g_strjoinv(" ", info->auth_offered) : NULL;
    g_autofree char *text = NULL;

    if (config->smtp.user == NULL)
        text = g_strdup_printf("not configured (offered: %s)",
                               offered ? offered : "none");
    else if (info->auth_used != NULL)
        text = g_strdup_printf("%s as '%s' succeeded", info->auth_used,
                               config->smtp.user);
    else
        text = g_strdup_printf("failed: %s",
                               error ? error->message : "not reached");
    print_row("auth:", text);
}

static int
run(CqCli *cli)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqSmtpClient) client = cq_smtp_client_new(cli->config, &error);

    if (client == NULL)
        return cli_fail(cli, error);
    gboolean ok = cq_smtp_client_open(client, NULL, &error);
    const CqSmtpServerInfo *info = cq_smtp_client_get_info(client);
    if (info != NULL && info->greeting != NULL) {
        g_autofree char *server =
            g_strdup_printf("%s port %u", info->host, info->port);
        print_row("server:", server);
        print_row("greeting:", info->greeting);
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
