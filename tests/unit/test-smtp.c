/* The SMTP client's parts that need no server: the reply parser, the
 * envelope checks, DSN parameters and dot-stuffing. */
#include "common/error.h"
#include "smtp/body.h"
#include "smtp/envelope.h"
#include "smtp/reply.h"

#include <string.h>

typedef struct {
    const char *lines; /* separated by '\n' */
    guint code;
    const char *enhanced;
    const char *text;  /* lines joined by '\n' */
} ReplyCase;

static const ReplyCase good_replies[] = {
    {"250 OK", 250, "", "OK"},
    {"250", 250, "", ""},
    {"220 mail.example.com ESMTP Postfix", 220, "", "mail.example.com ESMTP "
                                                    "Postfix"},
    {"250-mail.example.com\n250-PIPELINING\n250 8BITMIME", 250, "",
     "mail.example.com\nPIPELINING\n8BITMIME"},
    {"550 5.1.1 <a@b>: Recipient address rejected", 550, "5.1.1",
     "<a@b>: Recipient address rejected"},
    {"550-5.7.1 first\n550 5.7.1 second", 550, "5.7.1", "first\nsecond"},
    {"451 4.3.0", 451, "4.3.0", ""},
    {"250 2.0.0 Ok: queued as 4Fx", 250, "2.0.0", "Ok: queued as 4Fx"},
    /* a code of the wrong class is text, not an enhanced code */
    {"550 4.1.1 odd", 550, "", "4.1.1 odd"},
    {"250 2.1000.0 too long", 250, "", "2.1000.0 too long"},
    {"354 End data with <CR><LF>.<CR><LF>", 354, "",
     "End data with <CR><LF>.<CR><LF>"},
    {"421 4.7.0 closing", 421, "4.7.0", "closing"},
    {"334 VXNlcm5hbWU6", 334, "", "VXNlcm5hbWU6"},
};

static void
feed_lines(CqSmtpReply *reply, const char *lines, GError **error)
{
    g_auto(GStrv) split = g_strsplit(lines, "\n", -1);
    for (guint i = 0; split[i]; i++) {
        if (!cq_smtp_reply_feed(reply, split[i], strlen(split[i]), error))
            return;
    }
}

static void
test_reply_good(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(good_replies); i++) {
        const ReplyCase *c = &good_replies[i];
        CqSmtpReply reply;
        g_autoptr(GError) error = NULL;

        cq_smtp_reply_init(&reply);
        feed_lines(&reply, c->lines, &error);
        g_assert_no_error(error);
        g_assert_true(reply.done);
        g_assert_cmpuint(reply.code, ==, c->code);
        g_assert_cmpstr(reply.enhanced, ==, c->enhanced);
        g_autofree char *text = cq_smtp_reply_text(&reply);
        g_assert_cmpstr(text, ==, c->text);
        g_ptr_array_unref(reply.lines);
    }
}

static const char *const bad_replies[] = {
    "25",
    "hello",
    "650 bad class",
    "190 bad class",
    "260 second digit",
    "250x no separator",
    "250-first\n251 code changed",
};

static void
test_reply_bad(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(bad_replies); i++) {
        CqSmtpReply reply;
        g_autoptr(GError) error = NULL;

        cq_smtp_reply_init(&reply);
        feed_lines(&reply, bad_replies[i], &error);
        g_assert_error(error, CQ_ERROR, CQ_ERROR_PROTOCOL);
        g_ptr_array_unref(reply.lines);
    }
}

/* An empty line and a NUL byte, which a C string table cannot hold. */
static void
test_reply_empty_and_nul(void)
{
    CqSmtpReply reply;
    g_autoptr(GError) error = NULL;

    cq_smtp_reply_init(&reply);
    g_assert_false(cq_smtp_reply_feed(&reply, "", 0, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_PROTOCOL);
    g_clear_error(&error);
    cq_smtp_reply_clear(&reply);
    g_assert_false(cq_smtp_reply_feed(&reply, "250 a\0b", 7, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_PROTOCOL);
    g_ptr_array_unref(reply.lines);
}

/* A line that ends in its enhanced code, in a buffer without a NUL after
 * it: the parser must read no byte past the line (AddressSanitizer run). */
static void
test_reply_enhanced_at_end(void)
{
    CqSmtpReply reply;
    g_autoptr(GError) error = NULL;
    char *line = g_malloc(9);

    memcpy(line, "550 5.1.1", 9);
    cq_smtp_reply_init(&reply);
    g_assert_true(cq_smtp_reply_feed(&reply, line, 9, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(reply.enhanced, ==, "5.1.1");
    g_free(line);
    g_ptr_array_unref(reply.lines);
}

static void
test_reply_bounds(void)
{
    CqSmtpReply reply;
    g_autoptr(GError) error = NULL;
    g_autofree char *long_line = g_strnfill(CQ_SMTP_REPLY_MAX_LINE + 1, 'a');

    memcpy(long_line, "250 ", 4);
    cq_smtp_reply_init(&reply);
    g_assert_false(cq_smtp_reply_feed(&reply, long_line, strlen(long_line),
                                      &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_PROTOCOL);
    g_clear_error(&error);
    cq_smtp_reply_clear(&reply);
    for (guint i = 0; i < CQ_SMTP_REPLY_MAX_LINES && !error; i++)
        cq_smtp_reply_feed(&reply, "250-x", 5, &error);
    g_assert_no_error(error);
    g_assert_false(cq_smtp_reply_feed(&reply, "250 x", 5, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_PROTOCOL);
    g_ptr_array_unref(reply.lines);
}

static void
test_reply_summary_escapes(void)
{
    CqSmtpReply reply;
    cq_smtp_reply_init(&reply);
    cq_smtp_reply_feed(&reply, "550-5.1.1 a\x1b[31m", 16, NULL);
    cq_smtp_reply_feed(&reply, "550 5.1.1 b", 11, NULL);
    g_autofree char *summary = cq_smtp_reply_summary(&reply);
    g_assert_cmpstr(summary, ==, "550 5.1.1 a\\x1b[31m / b");
    g_ptr_array_unref(reply.lines);
}

typedef struct {
    const char *address;
    const char *reason; /* NULL: accepted */
} PathCase;

static const PathCase paths[] = {
    {"a@example.com", NULL},
    {"jürgen@example.de", NULL},
    {"\"john smith\"@example.com", NULL},
    {"a@b\r\nRCPT TO:<x@y>", "control character"},
    {"a b@example.com", "space or angle bracket"},
    {"a>@example.com", "space or angle bracket"},
    {"noat", "no '@'"},
    {"", "empty"},
    {"\xff@example.com", "invalid UTF-8"},
};

static void
test_envelope_paths(void)
{
    g_autoptr(CqSmtpEnvelope) env = cq_smtp_envelope_new("", NULL);

    g_assert_nonnull(env);
    for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
        g_autoptr(GError) error = NULL;
        gboolean ok = cq_smtp_envelope_add_recipient(env, paths[i].address,
                                                     NULL, &error);
        if (paths[i].reason == NULL) {
            g_assert_no_error(error);
            continue;
        }
        g_assert_false(ok);
        g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, paths[i].reason));
    }
    g_assert_cmpuint(cq_smtp_envelope_n_recipients(env), ==, 3);
    g_assert_true(env->smtputf8); /* jürgen */
}

static void
test_envelope_dsn(void)
{
    g_autoptr(CqSmtpEnvelope) env = cq_smtp_envelope_new("a@b.c", NULL);
    g_autoptr(GError) error = NULL;
    guint flags = 0;

    g_assert_false(env->smtputf8);
    g_assert_false(cq_smtp_envelope_set_dsn(
        env, CQ_SMTP_NOTIFY_NEVER | CQ_SMTP_NOTIFY_SUCCESS,
        CQ_SMTP_RET_DEFAULT, NULL, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_false(cq_smtp_envelope_set_dsn(env, 0, CQ_SMTP_RET_FULL,
                                            "has space", &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_true(cq_smtp_notify_parse("Success, delay", &flags, NULL));
    g_assert_cmpuint(flags, ==, CQ_SMTP_NOTIFY_SUCCESS | CQ_SMTP_NOTIFY_DELAY);
    g_autofree char *text = cq_smtp_notify_text(flags);
    g_assert_cmpstr(text, ==, "SUCCESS,DELAY");
    g_assert_false(cq_smtp_notify_parse("never,failure", &flags, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_CONFIG);
    g_autofree char *x = cq_smtp_xtext("a+b=c d\x01");
    g_assert_cmpstr(x, ==, "a+2Bb+3Dc+20d+01");
}

typedef struct {
    const char *in;
    const char *out;
} StuffCase;

static const StuffCase stuff_cases[] = {
    {"", ""},
    {"a\r\n", "a\r\n"},
    {"a", "a\r\n"},
    {".\r\n", "..\r\n"},
    {"a\r\n.b\r\n..c\r\n", "a\r\n..b\r\n...c\r\n"},
    {"a\nb\n", "a\r\nb\r\n"},
    {"x\n.\n", "x\r\n..\r\n"},
    {"a.b\r\n", "a.b\r\n"},
    {"\n\n", "\r\n\r\n"},
    {"cr\rinside\r\n", "cr\rinside\r\n"},
    {"ends in cr\r", "ends in cr\r\n"},
};

static void
to_string(gpointer sink, const char *data, gsize len)
{
    g_string_append_len(sink, data, (gssize)len);
}

static void
test_dot_stuffing(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(stuff_cases); i++) {
        const StuffCase *c = &stuff_cases[i];
        g_autoptr(GMimeStream) in =
            g_mime_stream_mem_new_with_buffer(c->in, strlen(c->in));
        g_autoptr(GString) out = g_string_new(NULL);
        gint64 bytes = -1;

        g_assert_true(cq_smtp_body_copy(in, to_string, out, &bytes, NULL));
        g_assert_cmpstr(out->str, ==, c->out);
        g_assert_cmpint(bytes, ==, (gint64)out->len);
    }
}

/* A "." line split over two reads must still be stuffed. */
static void
test_dot_stuffing_across_blocks(void)
{
    gsize n = 65536 - 2;
    g_autofree char *data = g_malloc(n + 6);
    memset(data, 'x', n);
    memcpy(data + n, "\r\n.\r\n", 5);
    data[n + 5] = '\0';
    g_autoptr(GMimeStream) in = g_mime_stream_mem_new_with_buffer(data,
                                                                  n + 5);
    g_autoptr(GString) out = g_string_new(NULL);
    gint64 bytes = 0;

    g_assert_true(cq_smtp_body_copy(in, to_string, out, &bytes, NULL));
    g_assert_cmpuint(out->len, ==, n + 6);
    g_assert_cmpstr(out->str + n, ==, "\r\n..\r\n");
}

/* A bounded stream (what the outbox may hand over) ends with -1 from
 * g_mime_stream_read(); that is its end, not an error. */
static void
test_copy_substream(void)
{
    const char *text = "skip\r\n.dot\r\nlast\r\n";
    g_autoptr(GMimeStream) whole =
        g_mime_stream_mem_new_with_buffer(text, strlen(text));
    g_autoptr(GMimeStream) part = g_mime_stream_substream(whole, 6, 18);
    g_autoptr(GString) out = g_string_new(NULL);
    gint64 bytes = 0;
    g_autoptr(GError) error = NULL;

    g_assert_true(cq_smtp_body_copy(part, to_string, out, &bytes, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(out->str, ==, "..dot\r\nlast\r\n");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cq_mime_init();
    g_test_add_func("/smtp/reply/good", test_reply_good);
    g_test_add_func("/smtp/reply/bad", test_reply_bad);
    g_test_add_func("/smtp/reply/empty-and-nul", test_reply_empty_and_nul);
    g_test_add_func("/smtp/reply/bounds", test_reply_bounds);
    g_test_add_func("/smtp/reply/enhanced-at-end",
                    test_reply_enhanced_at_end);
    g_test_add_func("/smtp/reply/summary-escapes",
                    test_reply_summary_escapes);
    g_test_add_func("/smtp/envelope/paths", test_envelope_paths);
    g_test_add_func("/smtp/envelope/dsn", test_envelope_dsn);
    g_test_add_func("/smtp/body/dot-stuffing", test_dot_stuffing);
    g_test_add_func("/smtp/body/dot-stuffing-across-blocks",
                    test_dot_stuffing_across_blocks);
    g_test_add_func("/smtp/body/substream", test_copy_substream);
    return g_test_run();
}
