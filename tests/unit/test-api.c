/* The public API through the shared library, as a host program sees it:
 * only <caqmail/caqmail.h>, a configuration file and a fresh database. */
#include <caqmail/caqmail.h>

#include <glib/gstdio.h>
#include <string.h>
#include <sysexits.h>

typedef struct {
    char *dir;
    CaqmailContext *context;
} Fixture;

static char *
write_config(const char *dir, const char *extra)
{
    char *path = g_build_filename(dir, "caqmail.conf", NULL);
    g_autofree char *text = g_strdup_printf(
        "[general]\ndata_dir = %s\n[message]\nfrom = QM <qm@werk.example>\n"
        "%s",
        dir, extra);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    g_chmod(path, 0600);
    return path;
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    f->dir = g_dir_make_tmp("caqmail-api-XXXXXX", NULL);
    g_autofree char *config = write_config(f->dir, data ? data : "");
    f->context = caqmail_context_open(config, &error);
    g_assert_no_error(error);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
    caqmail_context_free(f->context);
    g_autofree char *command = g_strdup_printf("rm -rf '%s'", f->dir);
    g_assert_cmpint(system(command), ==, 0);
    g_free(f->dir);
}

static guint
n_mails(Fixture *f)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) mails =
        caqmail_history_list(f->context, NULL, NULL, 0, &error);
    g_assert_no_error(error);
    return mails->len;
}

static void
test_error_domain(void)
{
    g_autoptr(GError) usage =
        g_error_new(CAQMAIL_ERROR, CAQMAIL_ERROR_USAGE, "x");
    g_autoptr(GError) data =
        g_error_new(CAQMAIL_ERROR, CAQMAIL_ERROR_INVALID, "x");
    g_autoptr(GError) other = g_error_new(G_FILE_ERROR, 0, "x");

    g_assert_cmpstr(g_quark_to_string(CAQMAIL_ERROR), ==,
                    "caqmail-error-quark");
    g_assert_cmpint(caqmail_error_exit_code(NULL), ==, EX_OK);
    g_assert_cmpint(caqmail_error_exit_code(usage), ==, EX_USAGE);
    g_assert_cmpint(caqmail_error_exit_code(data), ==, EX_DATAERR);
    g_assert_cmpint(caqmail_error_exit_code(other), ==, EX_SOFTWARE);
    g_assert_cmpstr(caqmail_version(), !=, "");
}

static void
test_bad_config(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("caqmail-api-XXXXXX", NULL);
    g_autofree char *path = write_config(dir, "[smtp]\nhots = x\n");

    g_assert_null(caqmail_context_open(path, &error));
    g_assert_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_CONFIG);
    g_assert_nonnull(strstr(error->message, "hots"));
    g_unlink(path);
    g_rmdir(dir);
}

typedef struct {
    const char *name;
    const char *input;
    const char *rcpt;   /* argument recipient, or NULL */
    gboolean extract;   /* -t */
    int code;           /* expected error, or -1 */
    const char *expect; /* in the error message, or in the stored mail */
    const char *absent; /* not in the stored mail */
} RawCase;

static const RawCase raw_cases[] = {
    {"empty", "", "a@werk.example", FALSE, CAQMAIL_ERROR_NOINPUT, "empty",
     NULL},
    {"no recipient", "Subject: x\n\nb\n", NULL, TRUE, CAQMAIL_ERROR_USAGE,
     "no recipient", NULL},
    {"not utf-8", "Subject: \xe4\n\nb\n", "a@werk.example", FALSE,
     CAQMAIL_ERROR_INVALID, "header line 1 ('Subject'): not UTF-8", NULL},
    {"bad to", "To: <x@\n\nb\n", NULL, TRUE, CAQMAIL_ERROR_INVALID,
     "header 'To'", NULL},
    {"adds date, id, from", "Subject: s\n\nb\n", "a@werk.example", FALSE, -1,
     "Subject: s\r\nMessage-ID: <", NULL},
    {"keeps message id", "Message-ID: <1@x>\nFrom: a@x\n\nb\n",
     "a@werk.example", FALSE, -1,
     "Message-ID: <1@x>\r\nFrom: a@x\r\nDate: ", "QM <qm@werk.example>"},
    {"drops bcc", "To: a@werk.example\nBcc: b@werk.example\n\nb\n", NULL, TRUE,
     -1, "To: a@werk.example\r\n", "Bcc"},
    {"body starts at a non-header", "Subject: s\nno header here\n",
     "a@werk.example", FALSE, -1, "\r\n\r\nno header here\r\n", NULL},
    {"folded header", "Subject: a\n\tb\n\nbody\n", "a@werk.example", FALSE, -1,
     "Subject: a\r\n\tb\r\n", NULL},
    {"mbox separator", "From a@x Thu Dec  3 10:00:00 2026\nSubject: s\n\nb\n",
     "a@werk.example", FALSE, -1, "Subject: s\r\n", "From a@x"},
    {"8bit body", "Subject: s\n\nGr\xfc\xdf\n", "a@werk.example", FALSE, -1,
     "\r\n\r\nGr\xfc\xdf\r\n", NULL},
};

static gboolean
raw_enqueue(Fixture *f, const RawCase *c, gint64 *id, GError **error)
{
    g_autoptr(CaqmailRawMessage) raw =
        caqmail_raw_message_new(f->context, c->input, strlen(c->input), error);

    return raw != NULL &&
           (c->rcpt == NULL ||
            caqmail_raw_message_add_recipient(raw, c->rcpt, error)) &&
           (!c->extract ||
            caqmail_raw_message_extract_recipients(raw, error)) &&
           caqmail_raw_message_enqueue(raw, id, error);
}

static void
check_stored(Fixture *f, const RawCase *c, gint64 id)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) bytes = caqmail_mail_get_raw(f->context, id, &error);
    g_assert_no_error(error);
    g_autofree char *text =
        g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
    g_assert_nonnull(strstr(text, c->expect));
    g_assert_nonnull(strstr(text, "\r\nDate: "));
    g_assert_true(c->absent == NULL || strstr(text, c->absent) == NULL);
}

static void
test_raw(Fixture *f, gconstpointer data)
{
    for (guint i = 0; i < G_N_ELEMENTS(raw_cases); i++) {
        const RawCase *c = &raw_cases[i];
        g_autoptr(GError) error = NULL;
        guint before = n_mails(f);
        gint64 id = 0;
        g_test_message("case '%s'", c->name);
        gboolean ok = raw_enqueue(f, c, &id, &error);
        if (c->code >= 0) {
            g_assert_false(ok);
            g_assert_error(error, CAQMAIL_ERROR, c->code);
            g_assert_nonnull(strstr(error->message, c->expect));
            g_assert_cmpuint(n_mails(f), ==, before);
            continue;
        }
        g_assert_no_error(error);
        g_assert_cmpuint(n_mails(f), ==, before + 1);
        check_stored(f, c, id);
    }
}

/* A failed enqueue leaves the message as it was: the second try adds
 * one Message-ID, not two. */
static void
test_raw_retry(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    const char *input = "Subject: s\n\nb\n";
    g_autoptr(CaqmailRawMessage) raw =
        caqmail_raw_message_new(f->context, input, strlen(input), &error);
    gint64 id = 0;

    g_assert_false(caqmail_raw_message_enqueue(raw, &id, &error));
    g_assert_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_USAGE);
    g_clear_error(&error);
    g_assert_true(
        caqmail_raw_message_add_recipient(raw, "a@werk.example", &error));
    g_assert_true(caqmail_raw_message_enqueue(raw, &id, &error));
    g_autoptr(GBytes) bytes = caqmail_mail_get_raw(f->context, id, &error);
    g_autofree char *text =
        g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
    char *first = strstr(text, "Message-ID:");
    g_assert_nonnull(first);
    g_assert_null(strstr(first + 1, "Message-ID:"));
}

static void
test_message(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *file = g_build_filename(f->dir, "Maß.csv", NULL);
    g_assert_true(g_file_set_contents(file, "a;b\n1;2\n", -1, NULL));
    g_autoptr(CaqmailMessage) m = caqmail_message_new(f->context);
    gint64 id = 0;

    g_assert_true(caqmail_message_add_recipient(
        m, CAQMAIL_TO, "Jürgen <jm@werk.example>, b@werk.example", &error));
    g_assert_true(caqmail_message_add_recipient(m, CAQMAIL_BCC,
                                                "b@werk.example", &error));
    g_assert_true(caqmail_message_set_subject(m, "Prüfbericht", &error));
    g_assert_true(caqmail_message_set_text(m, "Text\n", &error));
    g_assert_true(caqmail_message_set_record(m, "8D-2026-0042", &error));
    g_assert_true(caqmail_message_add_file(m, file, NULL, &error));
    g_assert_true(caqmail_message_enqueue(m, &id, &error));
    g_assert_no_error(error);

    g_autoptr(CaqmailMail) mail = caqmail_mail_get(f->context, id, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(caqmail_mail_get_state(mail), ==, "queued");
    g_assert_cmpstr(caqmail_mail_get_origin(mail), ==, "api");
    g_assert_cmpstr(caqmail_mail_get_record(mail), ==, "8D-2026-0042");
    g_assert_cmpstr(caqmail_mail_get_subject(mail), ==, "Prüfbericht");
    g_assert_cmpuint(caqmail_mail_get_n_recipients(mail), ==, 2);
    g_assert_cmpstr(caqmail_mail_get_recipient_address(mail, 1), ==,
                    "b@werk.example");
    g_assert_cmpstr(caqmail_mail_get_recipient_kind(mail, 1), ==, "to");
    g_assert_cmpstr(caqmail_mail_get_recipient_status(mail, 0), ==, "pending");
    g_assert_cmpuint(caqmail_mail_get_n_attachments(mail), ==, 1);
    g_assert_cmpstr(caqmail_mail_get_attachment_name(mail, 0), ==, "Maß.csv");
    g_assert_cmpint(caqmail_mail_get_attachment_size(mail, 0), ==, 8);

    /* enqueued again: a second mail, newest first in the history */
    gint64 second = 0;
    g_assert_true(caqmail_message_enqueue(m, &second, &error));
    g_autoptr(GPtrArray) mails =
        caqmail_history_list(f->context, "8D-2026-0042", NULL, 0, &error);
    g_assert_cmpuint(mails->len, ==, 2);
    g_assert_cmpint(caqmail_mail_get_id(mails->pdata[0]), ==, second);
}

static void
test_message_errors(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CaqmailMessage) m = caqmail_message_new(f->context);
    gint64 id = 0;

    g_assert_false(
        caqmail_message_add_recipient(m, CAQMAIL_TO, "a@@b", &error));
    g_assert_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_false(caqmail_message_set_subject(m, "a\nBcc: x@y", &error));
    g_assert_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_false(
        caqmail_message_add_file(m, "/nonexistent/x.pdf", NULL, &error));
    g_assert_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_NOINPUT);
    g_assert_nonnull(strstr(error->message, "x.pdf"));
    g_clear_error(&error);
    g_assert_false(caqmail_message_enqueue(m, &id, &error));
    g_assert_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_USAGE);
    g_clear_error(&error);
    g_assert_true(
        caqmail_message_add_recipient(m, CAQMAIL_TO, "P-0404", &error));
    g_assert_false(caqmail_message_enqueue(m, &id, &error));
    g_assert_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "'P-0404'"));
    g_assert_cmpuint(n_mails(f), ==, 0);
}

static void
test_act_as(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CaqmailContext) same =
        caqmail_context_act_as(f->context, NULL, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(caqmail_context_get_login(same), ==,
                    caqmail_context_get_login(f->context));
    g_assert_null(caqmail_context_act_as(f->context, "nobody-here", &error));
    g_assert_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_autoptr(CaqmailMessage) m = caqmail_message_new(f->context);
    g_assert_true(caqmail_message_set_acting_user(m, "nobody-here", &error));
    g_assert_true(
        caqmail_message_add_recipient(m, CAQMAIL_TO, "a@werk.example", &error));
    g_assert_false(caqmail_message_enqueue(m, NULL, &error));
    g_assert_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_NOT_FOUND);
    g_assert_cmpuint(n_mails(f), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/api/error/domain", test_error_domain);
    g_test_add_func("/api/context/bad-config", test_bad_config);
#define ADD(path, func)                                                        \
    g_test_add(path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
    ADD("/api/raw/table", test_raw);
    ADD("/api/raw/retry", test_raw_retry);
    ADD("/api/message/enqueue", test_message);
    ADD("/api/message/errors", test_message_errors);
    ADD("/api/context/act-as", test_act_as);
#undef ADD
    return g_test_run();
}
