/* outbox-driver: puts many mails into the outbox through the library,
 * for the integration tests of delivery (crash, parallel workers).
 *
 *     outbox-driver COUNT BATCH TAG RCPT...
 *
 * Reads the configuration as caqmail does ($CAQMAIL_CONFIG), acts as the
 * operating-system user, and enqueues COUNT mails to RCPT..., BATCH of
 * them to a transaction.  Each mail's subject is "mail N" and its
 * Message-ID is "TAG-N@caqmail.test"; prints the mail ids. */
#include "access/access.h"
#include "common/error.h"
#include "deliver/direct.h"
#include "outbox/outbox.h"

#include <stdio.h>
#include <stdlib.h>

static CqMessage *
sample(const char *tag, guint n, char **rcpts)
{
    CqMessage *m = cq_message_new(CQ_ORIGIN_REMINDER);
    g_autofree char *subject = g_strdup_printf("mail %u", n);

    cq_message_set_from(m, "Qualität <qm@caqmail.test>", NULL);
    for (guint i = 0; rcpts[i]; i++)
        cq_message_add_recipients(m, CQ_RCPT_TO, rcpts[i], NULL, NULL);
    cq_message_set_subject(m, subject, NULL);
    cq_message_set_text(m, "Die Maßnahme ist fällig.\n", NULL);
    m->message_id = g_strdup_printf("%s-%u@caqmail.test", tag, n);
    return m;
}

static gboolean
enqueue(CqSession *s, const CqConfig *config, guint count, guint batch,
        char **argv, GError **error)
{
    CqMimeOptions options =
        cq_mime_options_from_config(config, cq_transport_allows_8bit(config));

    for (guint i = 0; i < count; i += batch) {
        guint n = MIN(count, i + batch) - i;
        g_autoptr(GPtrArray) mails =
            g_ptr_array_new_with_free_func((GDestroyNotify)cq_message_free);
        g_autofree gint64 *ids = g_new0(gint64, n);
        for (guint k = 0; k < n; k++)
            g_ptr_array_add(mails, sample(argv[0], i + k + 1, argv + 1));
        if (!cq_outbox_enqueue_many(s, (CqMessage **)mails->pdata, n,
                                    &options, ids, error))
            return FALSE;
        for (guint k = 0; k < n; k++)
            printf("%" G_GINT64_FORMAT "\n", ids[k]);
    }
    return TRUE;
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;

    if (argc < 5) {
        fprintf(stderr, "usage: outbox-driver COUNT BATCH TAG RCPT...\n");
        return 64;
    }
    g_autoptr(CqConfig) config = cq_config_load(NULL, &error);
    g_autoptr(CqSession) s =
        config ? cq_session_open_config(config, NULL, &error) : NULL;
    if (s == NULL || !enqueue(s, config, (guint)atoi(argv[1]),
                              (guint)MAX(atoi(argv[2]), 1), argv + 3, &error)) {
        fprintf(stderr, "outbox-driver: %s\n", error->message);
        return cq_error_exit_code(error);
    }
    return 0;
}
