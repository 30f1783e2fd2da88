/* caqmail demo: sends sample mails of a quality department through the
 * whole flow into the local Maildir, and says where to find them.  It
 * never uses a configured SMTP server: the sample addresses are made up. */
#include "cli.h"

#include "deliver/direct.h"

#include <glib/gstdio.h>
#include <stdio.h>

static const char demo_report[] =
    "Merkmal;Sollwert;Istwert;Bewertung\n"
    "Bohrungsdurchmesser Ø12 H7;12,000;12,012;i.O.\n"
    "Rauheit Ra;0,8;1,1;n.i.O. – Nacharbeit\n"
    "Gewindeprüfung M8;Lehre;Gut-Seite geht;i.O.\n";

static const char demo_html[] =
    "<html><body><p>Guten Tag Herr Müller,</p>"
    "<p>für die Reklamation <b>8D-2026-0042</b> (Gehäuse, Lieferant "
    "Größe &amp; Söhne) sind die Sofortmaßnahmen bis "
    "<b>15.12.2026</b> einzuleiten.</p>"
    "<p>Mit freundlichen Grüßen<br>Qualitätsmanagement</p></body></html>";

typedef struct {
    const char *from, *to, *cc, *subject, *text, *record;
    CqOrigin origin;
    gboolean html, attach;
} DemoMail;

static const DemoMail demo_mails[] = {
    {"Qualitätsmanagement <qm@werk-nord.example>",
     "Jürgen Müller <j.mueller@zulieferer-süd.example>",
     "Änne Groß <a.gross@werk-nord.example>",
     "8D-2026-0042: Prüfbericht Gehäuse – Maßnahmen erforderlich",
     "Guten Tag Herr Müller,\n\nanbei der Prüfbericht zur Reklamation "
     "8D-2026-0042.\nBitte prüfen Sie die Abweichung bei der Rauheit.\n\n"
     "Mit freundlichen Grüßen\nQualitätsmanagement\n",
     "8D-2026-0042", CQ_ORIGIN_MANUAL, FALSE, TRUE},
    {"Qualitätsmanagement <qm@werk-nord.example>",
     "Jürgen Müller <j.mueller@zulieferer-süd.example>", NULL,
     "8D-2026-0042: Sofortmaßnahmen bis 15.12.2026",
     "Guten Tag Herr Müller,\n\nfür die Reklamation 8D-2026-0042 sind die "
     "Sofortmaßnahmen bis 15.12.2026 einzuleiten.\n\nMit freundlichen "
     "Grüßen\nQualitätsmanagement\n",
     "8D-2026-0042", CQ_ORIGIN_MANUAL, TRUE, FALSE},
    {"caqmail <caqmail@werk-nord.example>",
     "Änne Groß <a.gross@werk-nord.example>", NULL,
     "Erinnerung: Maßnahme M-2026-0107 ist morgen fällig",
     "Hallo Frau Groß,\n\ndie Maßnahme M-2026-0107 \"Prüfmittel "
     "nachkalibrieren\" ist am 04.12.2026 fällig.\n",
     "M-2026-0107", CQ_ORIGIN_REMINDER, FALSE, FALSE},
};

static CqMessage *
demo_message(const DemoMail *mail, const char *report, GError **error)
{
    g_autoptr(CqMessage) message = cq_message_new(mail->origin);

    if (!cq_message_set_from(message, mail->from, error) ||
        !cq_message_add_recipients(message, CQ_RCPT_TO, mail->to, NULL,
                                   error) ||
        (mail->cc && !cq_message_add_recipients(message, CQ_RCPT_CC,
                                                mail->cc, NULL, error)) ||
        !cq_message_set_subject(message, mail->subject, error) ||
        !cq_message_set_text(message, mail->text, error) ||
        !cq_message_set_record(message, mail->record, error) ||
        (mail->html && !cq_message_set_html(message, demo_html, error)))
        return NULL;
    if (mail->attach &&
        !cq_message_add_attachment(message, report, NULL, "text/csv", 0,
                                   error))
        return NULL;
    return g_steal_pointer(&message);
}

static gboolean
send_all(const CqConfig *config, const char *report, GError **error)
{
    for (guint i = 0; i < G_N_ELEMENTS(demo_mails); i++) {
        CqDirectResult result = {0};
        g_autoptr(CqMessage) message =
            demo_message(&demo_mails[i], report, error);
        if (message == NULL ||
            !cq_deliver_direct(config, message, &result, error))
            return FALSE;
        printf("  %s\n    %s\n", demo_mails[i].subject, result.location);
        cq_direct_result_clear(&result);
    }
    return TRUE;
}

static int
run(CqCli *cli)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("caqmail-demo-XXXXXX", &error);
    if (dir == NULL)
        return cli_fail(cli, error);
    g_autofree char *report =
        g_build_filename(dir, "Prüfbericht Gehäuse März.csv", NULL);

    /* The samples go to made-up addresses: never to a real server. */
    cli->config->transport.kind = CQ_TRANSPORT_MAILDIR;
    printf("caqmail demo: sending %u sample mails into the Maildir\n",
           (unsigned)G_N_ELEMENTS(demo_mails));
    gboolean ok = g_file_set_contents(report, demo_report, -1, &error) &&
                  send_all(cli->config, report, &error);
    g_unlink(report);
    g_rmdir(dir);
    if (!ok)
        return cli_fail(cli, error);
    printf("\nRead them with any mail program that opens a Maildir, e.g.\n"
           "  mutt -f %s\nor look at the files in %s/new.\n",
           cli->config->transport.maildir, cli->config->transport.maildir);
    return EX_OK;
}

int
cmd_demo(CqCli *cli, int argc, char **argv)
{
    int code = EX_USAGE;
    g_autoptr(GOptionContext) context = g_option_context_new("");
    g_option_context_set_summary(
        context, "Send sample mails of a quality department through the "
                 "whole flow into the local Maildir.");

    if (!cli_parse(cli, context, &argc, &argv))
        return EX_USAGE;
    if (!cli_load_config(cli, &code))
        return code;
    return run(cli);
}
