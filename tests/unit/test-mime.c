/* MIME composition: header encoding, structure and hostile input. */
#include "common/error.h"
#include "mime/attachment-part.h"
#include "mime/build.h"
#include "mime/digest-filter.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>

static CqMessage *
simple_message(CqOrigin origin)
{
    g_autoptr(GError) error = NULL;
    CqMessage *m = cq_message_new(origin);

    g_assert_true(cq_message_set_from(m, "QM <qm@werk.example>", &error));
    g_assert_true(cq_message_add_recipients(m, CQ_RCPT_TO,
                                            "Jürgen Müller <jm@werk.example>",
                                            NULL, &error));
    g_assert_true(cq_message_set_text(m, "Hallo\n", &error));
    g_assert_no_error(error);
    return m;
}

static char *
compose(CqMessage *m, gboolean allow_8bit)
{
    g_autoptr(GError) error = NULL;
    CqMimeOptions options = {.allow_8bit = allow_8bit};
    g_autoptr(CqMime) mime = cq_mime_build(m, &options, &error);
    g_assert_no_error(error);
    g_autoptr(GBytes) bytes = cq_mime_to_bytes(mime, &error);
    g_assert_no_error(error);
    gsize len = 0;
    const char *data = g_bytes_get_data(bytes, &len);
    return g_strndup(data, len);
}

static GMimeMessage *
parse(const char *raw)
{
    g_autoptr(GMimeStream) stream =
        g_mime_stream_mem_new_with_buffer(raw, strlen(raw));
    g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    g_assert_nonnull(msg);
    return msg;
}

/* Every line ends in CRLF and is at most 998 octets; header lines are at
 * most 78 unless a single word is longer. */
static void
check_lines(const char *raw)
{
    gboolean in_header = TRUE;
    const char *line = raw;

    while (*line) {
        const char *end = strstr(line, "\r\n");
        g_assert_nonnull(end);
        gsize len = (gsize)(end - line);
        g_assert_cmpuint(len, <=, 998);
        g_assert_null(memchr(line, '\n', len));
        if (len == 0)
            in_header = FALSE;
        if (in_header && len > 78) {
            /* Only an unbreakable word may run longer. */
            g_autofree char *l = g_strndup(line, len);
            char *word = g_strstrip(l);
            char *colon = strchr(word, ':');
            if (colon != NULL && *word != ' ')
                word = g_strchug(colon + 1);
            g_assert_null(strchr(word, ' '));
        }
        if (in_header) {
            for (gsize i = 0; i < len; i++)
                g_assert_cmpuint((guchar)line[i], <, 0x80);
        }
        line = end + 2;
    }
}

static const char *const subjects[] = {
    "Prüfbericht",
    "8D-2026-0042: Maßnahmen für Lieferant Größe & Söhne",
    "Reklamation – „Gehäuse“ – ÄÖÜ äöü ß €",
    "ASCII only subject that is long enough to need folding because it runs "
    "well past seventy-eight columns of text in one header line",
    "Ünïcödé everywhere: Größenmaßstäbe, Prüfmittelüberwachung, "
    "Kalibrierscheine, Messunsicherheit, Qualitätsregelkarten und mehr",
    "=?UTF-8?Q?not_an_encoded_word?=",
    "日本語の件名とDeutsch gemischt",
    "",
};

static void
test_subject(gconstpointer data)
{
    const char *subject = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(CqMessage) m = simple_message(CQ_ORIGIN_MANUAL);

    g_assert_true(cq_message_set_subject(m, subject, &error));
    g_autofree char *raw = compose(m, FALSE);
    check_lines(raw);
    g_autoptr(GMimeMessage) msg = parse(raw);
    g_assert_cmpstr(g_mime_message_get_subject(msg), ==, subject);
}

static void
test_long_word_subject(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqMessage) m = simple_message(CQ_ORIGIN_MANUAL);
    g_autofree char *word = g_strnfill(1500, 'x');

    g_assert_true(cq_message_set_subject(m, word, &error));
    g_autofree char *raw = compose(m, FALSE);
    check_lines(raw);
    g_autoptr(GMimeMessage) msg = parse(raw);
    g_assert_cmpstr(g_mime_message_get_subject(msg), ==, word);
}

static const char *const hostile_headers[] = {
    "a\r\nBcc: victim@example.org", "a\nX-Evil: 1", "a\rb", "tab\tok\x01",
    "a\x7f", "\xc3\x28",
};

static void
test_hostile_subject(void)
{
    g_autoptr(CqMessage) m = simple_message(CQ_ORIGIN_MANUAL);

    for (guint i = 0; i < G_N_ELEMENTS(hostile_headers); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_false(cq_message_set_subject(m, hostile_headers[i], &error));
        g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
        g_assert_true(g_str_has_prefix(error->message, "subject:"));
        g_assert_false(cq_message_add_header(m, "X-Test", hostile_headers[i],
                                             NULL));
        g_assert_false(cq_message_set_record(m, hostile_headers[i], NULL));
    }
    g_assert_cmpstr(m->subject, ==, "");
    g_assert_cmpuint(m->headers->len, ==, 0);
}

static void
test_header_names(void)
{
    static const char *const refused[] = {
        "Bcc", "to", "Content-Type", "Message-ID", "X Bad", "X:Bad", "",
        "X-\xc3\xa4",
    };
    g_autoptr(CqMessage) m = simple_message(CQ_ORIGIN_MANUAL);

    for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_false(cq_message_add_header(m, refused[i], "v", &error));
        g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    }
    g_autoptr(GError) error = NULL;
    g_assert_true(cq_message_add_header(m, "X-Prüfung", "x", NULL) == FALSE);
    g_assert_true(cq_message_add_header(m, "X-CAQ-Plant", "Werk Süd",
                                        &error));
    g_autofree char *raw = compose(m, FALSE);
    g_autoptr(GMimeMessage) msg = parse(raw);
    g_assert_cmpstr(g_mime_object_get_header(GMIME_OBJECT(msg),
                                             "X-CAQ-Plant"),
                    ==, "Werk Süd");
}

static void
test_encoding_choice(void)
{
    g_autoptr(CqMessage) m = simple_message(CQ_ORIGIN_MANUAL);
    g_autofree char *long_line = g_strnfill(2000, 'a');

    g_assert_true(cq_message_set_text(m, "Grüße\n", NULL));
    g_autofree char *qp = compose(m, FALSE);
    g_assert_nonnull(strstr(qp, "Content-Transfer-Encoding: quoted-printable"));
    g_assert_nonnull(strstr(qp, "Gr=C3=BC=C3=9Fe"));
    g_free(m->message_id);
    m->message_id = NULL;
    g_autofree char *eight = compose(m, TRUE);
    g_assert_nonnull(strstr(eight, "Content-Transfer-Encoding: 8bit"));
    g_assert_nonnull(strstr(eight, "Grüße\r\n"));

    g_assert_true(cq_message_set_text(m, long_line, NULL));
    g_autofree char *wrapped = compose(m, TRUE);
    g_assert_nonnull(
        strstr(wrapped, "Content-Transfer-Encoding: quoted-printable"));
    check_lines(wrapped);

    g_assert_true(cq_message_set_text(m, "plain\r\nascii\rtext", NULL));
    g_autofree char *seven = compose(m, FALSE);
    g_assert_nonnull(strstr(seven, "Content-Transfer-Encoding: 7bit"));
    g_assert_nonnull(strstr(seven, "\r\n\r\nplain\r\nascii\r\ntext\r\n"));
}

static char *
temp_file(const char *name, const char *content, gssize len)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("caqmail-test-XXXXXX", &error);
    g_assert_no_error(error);
    char *path = g_build_filename(dir, name, NULL);
    g_assert_true(g_file_set_contents(path, content, len, &error));
    return path;
}

static void
remove_temp(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_unlink(path);
    g_rmdir(dir);
}

static void
test_attachment_names(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqMessage) m = simple_message(CQ_ORIGIN_MANUAL);
    g_autofree char *path = temp_file("Prüfbericht März.pdf", "%PDF-1.4\n", -1);

    CqAttachment *att =
        cq_message_add_attachment(m, path, NULL, NULL, 0, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(att->content_type, ==, "application/pdf");
    g_autofree char *raw = compose(m, FALSE);
    check_lines(raw);
    g_assert_nonnull(
        strstr(raw, "filename*=UTF-8''Pr%C3%BCfbericht%20M%C3%A4rz.pdf"));
    g_assert_nonnull(strstr(raw, "name=\"=?UTF-8?"));
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, (const guchar *)"%PDF-1.4\n", 9);
    g_assert_cmpstr(att->sha256, ==, g_checksum_get_string(sum));
    g_assert_cmpint(att->size, ==, 9);

    /* Writing again yields the same digest, not a running one. */
    g_autofree char *again = compose(m, FALSE);
    g_assert_nonnull(strstr(again, "JVBERi0xLjQK"));
    g_assert_cmpstr(att->sha256, ==, g_checksum_get_string(sum));
    remove_temp(path);
}

static void
test_attachment_refused(void)
{
    g_autoptr(CqMessage) m = simple_message(CQ_ORIGIN_MANUAL);
    g_autofree char *path = temp_file("a.txt", "12345", -1);
    g_autofree char *dir = g_path_get_dirname(path);
    static const char *const names[] = {"../x", "a/b", "a\\b", "..", "",
                                        "a\r\nb"};
    GError *error = NULL;

    g_assert_null(cq_message_add_attachment(m, "/nonexistent/Prüf.pdf", NULL,
                                            NULL, 0, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_NOINPUT);
    g_assert_nonnull(strstr(error->message, "no such file"));
    g_clear_error(&error);
    g_assert_null(cq_message_add_attachment(m, dir, NULL, NULL, 0, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_NOINPUT);
    g_assert_nonnull(strstr(error->message, "folder"));
    g_clear_error(&error);
    g_assert_null(cq_message_add_attachment(m, path, NULL, NULL, 4, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_TOO_LARGE);
    g_clear_error(&error);
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_assert_null(
            cq_message_add_attachment(m, path, names[i], NULL, 0, &error));
        g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
        g_clear_error(&error);
    }
    g_assert_null(cq_message_add_attachment(m, path, NULL, "text", 0,
                                            &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_cmpuint(m->attachments->len, ==, 0);
    remove_temp(path);
}

static void
test_structure(void)
{
    g_autoptr(CqMessage) m = simple_message(CQ_ORIGIN_MANUAL);
    g_autofree char *path = temp_file("data.bin", "\x00\x01\x02", 3);

    g_assert_true(cq_message_set_html(m, "<p>Grüße</p>", NULL));
    g_assert_nonnull(cq_message_add_attachment(m, path, NULL, NULL, 0, NULL));
    g_autofree char *raw = compose(m, FALSE);
    g_autoptr(GMimeMessage) msg = parse(raw);
    GMimeObject *top = g_mime_message_get_mime_part(msg);
    g_assert_true(GMIME_IS_MULTIPART(top));
    g_assert_cmpstr(g_mime_content_type_get_media_subtype(
                        g_mime_object_get_content_type(top)),
                    ==, "mixed");
    GMimeObject *alt = g_mime_multipart_get_part(GMIME_MULTIPART(top), 0);
    g_assert_true(GMIME_IS_MULTIPART(alt));
    g_assert_cmpint(g_mime_multipart_get_count(GMIME_MULTIPART(alt)), ==, 2);
    GMimeObject *html = g_mime_multipart_get_part(GMIME_MULTIPART(alt), 1);
    g_assert_cmpstr(g_mime_content_type_get_media_subtype(
                        g_mime_object_get_content_type(html)),
                    ==, "html");
    g_assert_true(g_str_has_suffix(raw, "--\r\n"));
    remove_temp(path);
}

static void
test_headers_of_origin(void)
{
    g_autoptr(CqMessage) manual = simple_message(CQ_ORIGIN_MANUAL);
    g_autoptr(CqMessage) reminder = simple_message(CQ_ORIGIN_REMINDER);

    g_assert_true(cq_message_add_recipients(manual, CQ_RCPT_BCC,
                                            "hidden@werk.example", NULL,
                                            NULL));
    g_autofree char *a = compose(manual, FALSE);
    g_autofree char *b = compose(reminder, FALSE);
    g_assert_null(strstr(a, "Auto-Submitted"));
    g_assert_nonnull(strstr(b, "\r\nAuto-Submitted: auto-generated\r\n"));
    g_assert_null(strstr(a, "hidden@"));
    g_assert_nonnull(strstr(a, "\r\nDate: "));
    g_assert_nonnull(strstr(a, "\r\nMessage-Id: <"));
    g_assert_nonnull(strstr(a, "@werk.example>\r\n"));
}

static void
test_thread(void)
{
    g_autoptr(CqMessage) one = simple_message(CQ_ORIGIN_MANUAL);
    g_autoptr(CqMessage) two = simple_message(CQ_ORIGIN_REMINDER);
    g_autoptr(CqMessage) other = simple_message(CQ_ORIGIN_MANUAL);

    g_assert_true(cq_message_set_record(one, "8D-2026-0042", NULL));
    g_assert_true(cq_message_set_record(two, "8D-2026-0042", NULL));
    g_assert_true(cq_message_set_record(other, "AUD/2026 7", NULL) == FALSE);
    g_assert_true(cq_message_set_record(other, "AUD/2026.7", NULL));
    g_autofree char *a = compose(one, FALSE);
    g_autofree char *b = compose(two, FALSE);
    g_autofree char *c = compose(other, FALSE);
    const char *ref = "References: <caqmail.record.8D-2026-0042@werk.example>";
    g_assert_nonnull(strstr(a, ref));
    g_assert_nonnull(strstr(b, ref));
    g_assert_nonnull(strstr(c, "<caqmail.record.AUD=2F2026=2E7@"));
    g_assert_cmpstr(one->message_id, !=, two->message_id);
}

/* Writes @part (its content only, or whole) with @newline line ends. */
static GByteArray *
write_part(GMimePart *part, GMimeNewLineFormat newline, gboolean content_only)
{
    GMimeFormatOptions *format = g_mime_format_options_new();
    GMimeStream *mem = g_mime_stream_mem_new();
    GByteArray *bytes = g_byte_array_new();

    g_mime_format_options_set_newline_format(format, newline);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
    g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(mem), bytes);
    GMimeObject *object = GMIME_OBJECT(part);
    ssize_t n = content_only
                    ? g_mime_object_write_content_to_stream(object, format, mem)
                    : g_mime_object_write_to_stream(object, format, mem);
    g_assert_cmpint(n, >=, 0);
    g_object_unref(mem);
    g_mime_format_options_free(format);
    return bytes;
}

static void
assert_same_bytes(GByteArray *a, GByteArray *b)
{
    g_assert_cmpmem(a->data, a->len, b->data, b->len);
}

/* An attachment's part writes what GMime's own base64 part writes, at
 * every length around a line and a block of lines, with either line end,
 * and its digest is of the file. */
static void
test_attachment_part_as_gmime(void)
{
    const gsize sizes[] = {0,         1,         2,         3,
                           56,        57,        58,        113,
                           114,       115,       57 * 1024 - 1,
                           57 * 1024, 57 * 1024 + 1, 3 * 57 * 1024 + 77};
    GRand *rand = g_rand_new_with_seed(7);

    for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_autofree guint8 *data = g_malloc(sizes[i] + 1);
        for (gsize j = 0; j < sizes[i]; j++)
            data[j] = (guint8)g_rand_int(rand);
        g_autofree char *path =
            temp_file("anlage.bin", (const char *)data, (gssize)sizes[i]);

        g_autoptr(GMimeStream) file =
            g_mime_stream_fs_open(path, O_RDONLY, 0, NULL);
        g_autoptr(GMimeFilter) digest = cq_digest_filter_new();
        g_autoptr(GMimePart) ours =
            cq_attachment_part_new("application", "pdf", file, digest);
        g_autoptr(GMimeStream) mem =
            g_mime_stream_mem_new_with_buffer((const char *)data, sizes[i]);
        g_autoptr(GMimeDataWrapper) content =
            g_mime_data_wrapper_new_with_stream(
                mem, GMIME_CONTENT_ENCODING_DEFAULT);
        g_autoptr(GMimePart) theirs =
            g_mime_part_new_with_type("application", "pdf");
        g_mime_part_set_content(theirs, content);
        g_mime_part_set_content_encoding(theirs, GMIME_CONTENT_ENCODING_BASE64);

        for (int nl = GMIME_NEWLINE_FORMAT_UNIX; nl <= GMIME_NEWLINE_FORMAT_DOS;
             nl++) {
            for (int only = 0; only < 2; only++) {
                g_autoptr(GByteArray) a = write_part(ours, nl, only);
                g_autoptr(GByteArray) b = write_part(theirs, nl, only);
                assert_same_bytes(a, b);
            }
        }
        /* written again: the same bytes, the digest of the file */
        g_autoptr(GByteArray) again =
            write_part(ours, GMIME_NEWLINE_FORMAT_DOS, TRUE);
        g_autoptr(GByteArray) once =
            write_part(theirs, GMIME_NEWLINE_FORMAT_DOS, TRUE);
        assert_same_bytes(again, once);
        g_autofree char *want =
            g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, sizes[i]);
        g_autofree char *got =
            cq_digest_filter_get_hex(CQ_DIGEST_FILTER(digest));
        g_assert_cmpstr(got, ==, want);
        g_assert_cmpint(cq_digest_filter_get_size(CQ_DIGEST_FILTER(digest)),
                        ==, (gint64)sizes[i]);
        g_clear_object(&file);
        remove_temp(path);
    }
    g_rand_free(rand);
}

static void
test_size_limit(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqMessage) m = simple_message(CQ_ORIGIN_MANUAL);
    g_autofree char *path = temp_file("big.bin", "0123456789", -1);
    CqMimeOptions options = {.max_message_size = 1000};

    g_assert_nonnull(cq_message_add_attachment(m, path, NULL, NULL, 0, NULL));
    g_assert_null(cq_mime_build(m, &options, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_TOO_LARGE);
    remove_temp(path);
}

static void
test_no_recipient(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqMessage) m = cq_message_new(CQ_ORIGIN_MANUAL);
    CqMimeOptions options = {0};

    g_assert_true(cq_message_set_from(m, "a@b.example", NULL));
    g_assert_null(cq_mime_build(m, &options, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "no recipient"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cq_mime_init();

    for (guint i = 0; i < G_N_ELEMENTS(subjects); i++) {
        g_autofree char *path = g_strdup_printf("/mime/subject/%u", i);
        g_test_add_data_func(path, subjects[i], test_subject);
    }
    g_test_add_func("/mime/subject/long-word", test_long_word_subject);
    g_test_add_func("/mime/hostile/subject", test_hostile_subject);
    g_test_add_func("/mime/hostile/header-names", test_header_names);
    g_test_add_func("/mime/encoding", test_encoding_choice);
    g_test_add_func("/mime/attachment/names", test_attachment_names);
    g_test_add_func("/mime/attachment/refused", test_attachment_refused);
    g_test_add_func("/mime/attachment/part-as-gmime",
                    test_attachment_part_as_gmime);
    g_test_add_func("/mime/structure", test_structure);
    g_test_add_func("/mime/origin-headers", test_headers_of_origin);
    g_test_add_func("/mime/thread", test_thread);
    g_test_add_func("/mime/size-limit", test_size_limit);
    g_test_add_func("/mime/no-recipient", test_no_recipient);
    return g_test_run();
}
