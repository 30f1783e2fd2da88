/* send-report: how a host application sends a mail through libcaqmail.
 *
 * Finds the recipient in the catalog as a recipient picker would, sends a
 * report with its attachments for a quality record, delivers it at once,
 * and prints the result of every recipient and the record's history.
 *
 *     cc -o send-report send-report.c $(pkg-config --cflags --libs caqmail)
 *     ./send-report [-u LOGIN] RECORD "Müller" "Subject" "Text" [FILE...]
 *
 * With -u, a service that has logged its user in itself sends for LOGIN
 * (the operating-system user running it must be an administrator).
 * The configuration is found as caqmail finds it ($CAQMAIL_CONFIG, ...).
 */
#include <caqmail/caqmail.h>

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

static void
log_line(CaqmailLogLevel level, const char *line, void *data)
{
    (void)data;
    if (level <= CAQMAIL_LOG_WARNING)
        fprintf(stderr, "send-report: %s\n", line);
}

/* The catalog reference of the first entry that @who finds, or @who
 * itself when it is an address or nothing is found.  Newly allocated. */
static char *
pick_recipient(CaqmailContext *context, const char *who, GError **error)
{
    if (strchr(who, '@') != NULL)
        return g_strdup(who);
    GPtrArray *found = caqmail_catalog_search(context, who, error);
    if (found == NULL)
        return NULL;
    char *reference = g_strdup(
        found->len > 0 ? caqmail_catalog_entry_get_reference(found->pdata[0])
                       : who);
    g_ptr_array_unref(found);
    return reference;
}

static gboolean
send_report(CaqmailContext *context, char **argv, int argc, gint64 *id,
            GError **error)
{
    char *to = pick_recipient(context, argv[2], error);
    CaqmailMessage *message = caqmail_message_new(context);
    gboolean ok =
        to != NULL &&
        caqmail_message_add_recipient(message, CAQMAIL_TO, to, error) &&
        caqmail_message_set_record(message, argv[1], error) &&
        caqmail_message_set_subject(message, argv[3], error) &&
        caqmail_message_set_text(message, argv[4], error);

    for (int i = 5; ok && i < argc; i++)
        ok = caqmail_message_add_file(message, argv[i], NULL, error);
    ok = ok && caqmail_message_enqueue(message, id, error);
    caqmail_message_free(message);
    g_free(to);
    return ok;
}

static gboolean
show_mail(CaqmailContext *context, gint64 id, GError **error)
{
    CaqmailMail *mail = caqmail_mail_get(context, id, error);
    if (mail == NULL)
        return FALSE;
    printf("mail %" G_GINT64_FORMAT " %s\n", id, caqmail_mail_get_state(mail));
    for (guint i = 0; i < caqmail_mail_get_n_recipients(mail); i++)
        printf("rcpt %s %s %s %d\n", caqmail_mail_get_recipient_kind(mail, i),
               caqmail_mail_get_recipient_address(mail, i),
               caqmail_mail_get_recipient_status(mail, i),
               caqmail_mail_get_recipient_code(mail, i));
    for (guint i = 0; i < caqmail_mail_get_n_attachments(mail); i++)
        printf("attachment %s %" G_GINT64_FORMAT " %s\n",
               caqmail_mail_get_attachment_name(mail, i),
               caqmail_mail_get_attachment_size(mail, i),
               caqmail_mail_get_attachment_sha256(mail, i));
    caqmail_mail_free(mail);
    return TRUE;
}

static gboolean
show_history(CaqmailContext *context, const char *record, GError **error)
{
    GPtrArray *mails = caqmail_history_list(context, record, NULL, 0, error);
    if (mails == NULL)
        return FALSE;
    for (guint i = 0; i < mails->len; i++)
        printf("history %s %" G_GINT64_FORMAT " %s %s\n", record,
               caqmail_mail_get_id(mails->pdata[i]),
               caqmail_mail_get_state(mails->pdata[i]),
               caqmail_mail_get_subject(mails->pdata[i]));
    g_ptr_array_unref(mails);
    return TRUE;
}

static gboolean
run(CaqmailContext *context, int argc, char **argv, GError **error)
{
    CaqmailDeliverStats stats;
    gint64 id = 0;

    return send_report(context, argv, argc, &id, error) &&
           caqmail_deliver(context, id, &stats, error) &&
           show_mail(context, id, error) &&
           show_history(context, argv[1], error);
}

int
main(int argc, char **argv)
{
    GError *error = NULL;
    const char *login = NULL;

    if (argc > 2 && strcmp(argv[1], "-u") == 0) {
        login = argv[2];
        argv[2] = argv[0];
        argv += 2;
        argc -= 2;
    }
    if (argc < 5) {
        fprintf(stderr, "usage: send-report [-u LOGIN] RECORD TO SUBJECT "
                        "TEXT [FILE...]\n");
        return EX_USAGE;
    }
    caqmail_set_log_handler(CAQMAIL_LOG_WARNING, log_line, NULL);
    CaqmailContext *service = caqmail_context_open(NULL, &error);
    CaqmailContext *user = service && login
                               ? caqmail_context_act_as(service, login, &error)
                               : NULL;
    gboolean ok = service != NULL && (login == NULL || user != NULL) &&
                  run(user ? user : service, argc, argv, &error);
    int code = 0;
    if (!ok) {
        fprintf(stderr, "send-report: %s\n", error->message);
        code = caqmail_error_exit_code(error);
        g_error_free(error);
    }
    caqmail_context_free(user);
    caqmail_context_free(service);
    return code;
}
