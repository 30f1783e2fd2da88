/* caqmail demo: runs sample mails of a quality department through the
 * whole flow on the built-in defaults: a small catalog with a nested
 * distribution list, mails for quality records put into the outbox,
 * delivered by the worker into the local Maildir, then the history shown
 * and verified.  It never uses a configured SMTP server: the sample
 * addresses are made up. */
#include "cli.h"

#include "catalog/catalog.h"
#include "deliver/direct.h"
#include "history/history.h"
#include "history/mails.h"
#include "outbox/outbox.h"
#include "resolve/resolve.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

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
    CqCatalogKind kind;
    const char *fields[12]; /* name, value, ..., NULL */
    const char *members[4];
} DemoEntry;

static const DemoEntry demo_catalog[] = {
    {CQ_CATALOG_DEPARTMENT,
     {"ident", "QM", "name", "Qualitätsmanagement", NULL}},
    {CQ_CATALOG_PERSON,
     {"ident", "P-0001", "name", "Änne Groß", "email",
      "a.gross@werk-nord.example", "department", "QM", "language", "de", NULL}},
    {CQ_CATALOG_PERSON,
     {"ident", "P-0002", "name", "Karl Weiß", "email",
      "k.weiss@werk-nord.example", "department", "QM", "supervisor", "P-0001",
      NULL}},
    {CQ_CATALOG_ORGANISATION,
     {"ident", "S-0100", "name", "Zulieferer Süd – Größe & Söhne", "kind",
      "supplier", NULL}},
    {CQ_CATALOG_CONTACT,
     {"ident", "C-0100", "organisation", "S-0100", "name", "Jürgen Müller",
      "email", "j.mueller@zulieferer-süd.example", NULL}},
    {CQ_CATALOG_LIST,
     {"name", "qm-leitung", "description", "Leitung Qualität", NULL},
     {"P-0001", NULL}},
    {CQ_CATALOG_LIST,
     {"name", "8d-team", "description", "8D-Team Gehäuse", NULL},
     {"list:qm-leitung", "P-0002", NULL}},
};

typedef struct {
    const char *from, *to, *cc, *subject, *text, *record;
    CqOrigin origin;
    gboolean html, attach;
} DemoMail;

static const DemoMail demo_mails[] = {
    {"Qualitätsmanagement <qm@werk-nord.example>", "C-0100", "list:8d-team",
     "8D-2026-0042: Prüfbericht Gehäuse – Maßnahmen erforderlich",
     "Guten Tag Herr Müller,\n\nanbei der Prüfbericht zur Reklamation "
     "8D-2026-0042.\nBitte prüfen Sie die Abweichung bei der Rauheit.\n\n"
     "Mit freundlichen Grüßen\nQualitätsmanagement\n",
     "8D-2026-0042", CQ_ORIGIN_MANUAL, FALSE, TRUE},
    {"Qualitätsmanagement <qm@werk-nord.example>", "contact:C-0100", NULL,
     "8D-2026-0042: Sofortmaßnahmen bis 15.12.2026",
     "Guten Tag Herr Müller,\n\nfür die Reklamation 8D-2026-0042 sind die "
     "Sofortmaßnahmen bis 15.12.2026 einzuleiten.\n\nMit freundlichen "
     "Grüßen\nQualitätsmanagement\n",
     "8D-2026-0042", CQ_ORIGIN_MANUAL, TRUE, FALSE},
    {"caqmail <caqmail@werk-nord.example>", "P-0001", NULL,
     "Erinnerung: Maßnahme M-2026-0107 ist morgen fällig",
     "Hallo Frau Groß,\n\ndie Maßnahme M-2026-0107 \"Prüfmittel "
     "nachkalibrieren\" ist am 04.12.2026 fällig.\n",
     "M-2026-0107", CQ_ORIGIN_REMINDER, FALSE, FALSE},
};

/* Adds the sample entries that are not in the catalog yet. */
static gboolean
ensure_catalog(CqSession *s, GError **error)
{
    for (guint i = 0; i < G_N_ELEMENTS(demo_catalog); i++) {
        const DemoEntry *e = &demo_catalog[i];
        CqField fields[6];
        guint n = 0;
        g_autoptr(CqEntry) old = cq_catalog_get(s, e->kind, e->fields[1], NULL);
        if (old != NULL)
            continue;
        for (; e->fields[2 * n] != NULL; n++)
            fields[n] = (CqField){e->fields[2 * n], e->fields[2 * n + 1]};
        if (!cq_catalog_add(s, e->kind, fields, n, e->members, error))
            return FALSE;
    }
    return TRUE;
}

static CqMessage *
demo_message(CqSession *s, const DemoMail *mail, const char *report,
             GError **error)
{
    g_autoptr(CqMessage) message = cq_message_new(mail->origin);
    const char *to[] = {mail->to, NULL};
    const char *cc[] = {mail->cc, NULL};

    if (!cq_message_set_from(message, mail->from, error) ||
        !cq_resolve_add(s, message, CQ_RCPT_TO, to, error) ||
        !cq_resolve_add(s, message, CQ_RCPT_CC, mail->cc ? cc : NULL, error) ||
        !cq_message_set_subject(message, mail->subject, error) ||
        !cq_message_set_text(message, mail->text, error) ||
        !cq_message_set_record(message, mail->record, error) ||
        (mail->html && !cq_message_set_html(message, demo_html, error)))
        return NULL;
    cq_resolve_dedup(message);
    if (mail->attach &&
        !cq_message_add_attachment(message, report, NULL, "text/csv", 0, error))
        return NULL;
    return g_steal_pointer(&message);
}

/* Puts every sample mail into the outbox in one transaction. */
static gboolean
enqueue_all(CqCli *cli, CqSession *s, const char *report, gint64 *ids,
            GError **error)
{
    CqMimeOptions options = cq_mime_options_from_config(cli->config, TRUE);

    if (!cq_store_begin(s->store, CQ_TX_WRITE, error))
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(demo_mails); i++) {
        g_autoptr(CqMessage) m = demo_message(s, &demo_mails[i], report, error);
        if (m == NULL || !cq_outbox_enqueue(s, m, &options, &ids[i], error)) {
            cq_store_rollback(s->store);
            return FALSE;
        }
    }
    return cq_store_commit(s->store, error);
}

static gboolean
deliver_all(CqCli *cli, CqSession *s, const gint64 *ids, GError **error)
{
    g_autoptr(CqTransport) transport =
        cq_transport_maildir_new(cli->config->transport.maildir);
    CqDeliverOptions options = cq_deliver_options_from_config(cli->config);
    CqDeliverStats stats;

    for (guint i = 0; i < G_N_ELEMENTS(demo_mails); i++) {
        options.only_mail = ids[i];
        if (!cq_outbox_deliver(s, transport, &options, &stats, NULL, NULL,
                               error))
            return FALSE;
    }
    return TRUE;
}

static void
show_mail(CqSession *s, gint64 id)
{
    g_autoptr(CqMailDetail) d = cq_mail_detail(s, id, NULL);
    if (d == NULL)
        return;
    printf("\n  mail %" G_GINT64_FORMAT " [%s] %s\n    record %s\n", id,
           d->mail->state, d->mail->subject, d->mail->record);
    for (guint i = 0; i < d->rcpts->len; i++) {
        const CqRcptInfo *r = d->rcpts->pdata[i];
        printf("    %-3s %s (from %s): %s\n", r->kind, r->display,
               r->source ? r->source : "typed in", r->status);
    }
    const CqRcptInfo *first = d->rcpts->len ? d->rcpts->pdata[0] : NULL;
    if (first && first->reply && g_str_has_prefix(first->reply, "delivered "))
        printf("    %s\n", first->reply);
}

static void
show_verify(CqSession *s)
{
    CqVerifyResult result = {0};
    if (!cq_history_verify(s, &result, NULL, NULL, NULL))
        return;
    if (result.broken == 0)
        printf("\nHistory verified: %" G_GINT64_FORMAT " entries chained by "
               "SHA-256, none changed or removed.\n",
               result.entries);
    else
        printf("\nHistory broken at entry %" G_GINT64_FORMAT ": %s\n",
               result.broken, result.problem);
    cq_verify_result_clear(&result);
}

static gboolean
run_flow(CqCli *cli, CqSession *s, const char *report, GError **error)
{
    gint64 ids[G_N_ELEMENTS(demo_mails)] = {0};

    if (!ensure_catalog(s, error) || !enqueue_all(cli, s, report, ids, error))
        return FALSE;
    printf("caqmail demo: %u sample mails are in the outbox; delivering "
           "them into the Maildir\n",
           (unsigned)G_N_ELEMENTS(demo_mails));
    if (!deliver_all(cli, s, ids, error))
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(demo_mails); i++)
        show_mail(s, ids[i]);
    show_verify(s);
    return TRUE;
}

static int
run(CqCli *cli)
{
    g_autoptr(GError) error = NULL;
    int code = EX_OK;
    g_autofree char *dir = g_dir_make_tmp("caqmail-demo-XXXXXX", &error);
    if (dir == NULL)
        return cli_fail(cli, error);
    g_autofree char *report =
        g_build_filename(dir, "Prüfbericht Gehäuse März.csv", NULL);

    /* The samples go to made-up addresses: never to a real server. */
    cli->config->transport.kind = CQ_TRANSPORT_MAILDIR;
    g_autoptr(CqSession) s = cli_open_session(cli, &code);
    gboolean ok = s != NULL &&
                  g_file_set_contents(report, demo_report, -1, &error) &&
                  run_flow(cli, s, report, &error);
    g_unlink(report);
    g_rmdir(dir);
    if (s == NULL)
        return code;
    if (!ok)
        return cli_fail(cli, error);
    printf("\nRead the mails with any mail program that opens a Maildir, "
           "e.g.\n  mutt -f %s\nor look at the files in %s/new.\n"
           "The catalog, outbox and history are in %s:\n"
           "  caqmail catalog list person\n  caqmail history list\n"
           "  caqmail history show ID\n  caqmail history verify\n",
           cli->config->transport.maildir, cli->config->transport.maildir,
           cli->config->store.database);
    return EX_OK;
}

int
cmd_demo(CqCli *cli, int argc, char **argv)
{
    int code = EX_USAGE;
    g_autoptr(GOptionContext) context = g_option_context_new("");
    g_option_context_set_summary(
        context, "Run sample mails of a quality department through the "
                 "whole flow: catalog, outbox, delivery into the local "
                 "Maildir, history.");

    if (!cli_parse(cli, context, &argc, &argv))
        return EX_USAGE;
    if (!cli_load_config(cli, &code))
        return code;
    return run(cli);
}
