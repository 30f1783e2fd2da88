/* Conversion without LibreOffice: the filters chosen per type, the
 * bounded runner and its process group, the cache, and attachments that
 * must stay as they are.  Conversions themselves are tested end to end in
 * tests/integration/test_convert.py. */
#include "attach/cache.h"
#include "attach/prepare.h"
#include "attach/runner.h"
#include "common/error.h"

#include <glib/gstdio.h>
#include <sys/wait.h>
#include <string.h>

typedef struct {
    const char *path;
    CqDocKind kind;
    CqCharset charset;
    char separator;
    const char *text_encoding;
    const char *import; /* NULL: none */
    const char *app;    /* of the export filter */
} FilterCase;

static const FilterCase filter_cases[] = {
    {"/convert/filter/text-utf8", CQ_DOC_TEXT, CQ_CHARSET_UTF8, 0,
     "windows-1252", "Text (encoded):UTF8,LF,,", "writer"},
    {"/convert/filter/text-utf16", CQ_DOC_TEXT, CQ_CHARSET_UTF16, 0,
     "windows-1252", "Text (encoded):UNICODE,LF,,", "writer"},
    {"/convert/filter/text-cp1252", CQ_DOC_TEXT, CQ_CHARSET_8BIT, 0,
     "windows-1252", "Text (encoded):MS_1252,LF,,", "writer"},
    {"/convert/filter/text-latin9", CQ_DOC_TEXT, CQ_CHARSET_8BIT, 0,
     "iso-8859-15", "Text (encoded):ISO_8859_15,LF,,", "writer"},
    {"/convert/filter/csv-semicolon-utf8", CQ_DOC_CSV, CQ_CHARSET_UTF8, ';',
     "windows-1252", "CSV:59,34,76,1", "calc"},
    {"/convert/filter/csv-tab-cp1252", CQ_DOC_CSV, CQ_CHARSET_8BIT, '\t',
     "windows-1252", "CSV:9,34,1,1", "calc"},
    {"/convert/filter/csv-comma-latin1", CQ_DOC_CSV, CQ_CHARSET_8BIT, ',',
     "iso-8859-1", "CSV:44,34,12,1", "calc"},
    {"/convert/filter/html", CQ_DOC_HTML, CQ_CHARSET_UTF8, 0, "windows-1252",
     "HTML (StarWriter)", "writer"},
    {"/convert/filter/docx", CQ_DOC_DOCX, CQ_CHARSET_NONE, 0, "windows-1252",
     NULL, "writer"},
    {"/convert/filter/xls", CQ_DOC_XLS, CQ_CHARSET_NONE, 0, "windows-1252",
     NULL, "calc"},
    {"/convert/filter/odp", CQ_DOC_ODP, CQ_CHARSET_NONE, 0, "windows-1252",
     NULL, "impress"},
    {"/convert/filter/png", CQ_DOC_PNG, CQ_CHARSET_NONE, 0, "windows-1252",
     NULL, "draw"},
};

static void
test_filter(gconstpointer data)
{
    const FilterCase *c = data;
    CqDocType type = {
        .kind = c->kind, .charset = c->charset, .separator = c->separator};
    g_autofree char *import = cq_convert_import_filter(&type, c->text_encoding);
    g_autofree char *export = cq_convert_export_filter(&type);
    g_autofree char *want = g_strdup_printf(
        "pdf:%s_pdf_Export:{\"UseLosslessCompression\":{\"type\":"
        "\"boolean\",\"value\":\"true\"}}",
        c->app);

    g_assert_cmpstr(import, ==, c->import);
    g_assert_cmpstr(export, ==, want);
}

/* ---- the bounded runner ----------------------------------------------- */

static char *
read_pid_file(const char *path)
{
    char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return g_strstrip(text);
}

/* TRUE while a process of group @pid_text runs; zombies waiting for init
 * to collect them do not count. */
static gboolean
group_exists(const char *pid_text)
{
    long pgid = g_ascii_strtoll(pid_text, NULL, 10);
    g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
    const char *name;

    g_assert_cmpint(pgid, >, 1);
    g_assert_nonnull(proc);
    while ((name = g_dir_read_name(proc)) != NULL) {
        g_autofree char *path = g_build_filename("/proc", name, "stat", NULL);
        g_autofree char *stat = NULL;
        if (!g_file_get_contents(path, &stat, NULL, NULL))
            continue;
        g_auto(GStrv) fields = g_strsplit(strrchr(stat, ')') + 2, " ", 4);
        if (g_ascii_strtoll(fields[2], NULL, 10) == pgid &&
            strcmp(fields[0], "Z") != 0)
            return TRUE;
    }
    return FALSE;
}

/* Runs the shell commands @body (after one that notes the shell's
 * process id, which names its group) and checks that no process of the
 * group runs after the call. */
static void
run_group(const char *body, gint64 timeout_ms, CqRunResult *run)
{
    g_autofree char *dir = g_dir_make_tmp("caqmail-test-XXXXXX", NULL);
    g_autofree char *pidfile = g_build_filename(dir, "pid", NULL);
    g_autofree char *script =
        g_strdup_printf("echo $$ > '%s'; %s", pidfile, body);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    g_autoptr(GError) error = NULL;

    g_assert_true(cq_run_bounded(argv, NULL, dir, timeout_ms, run, &error));
    g_assert_no_error(error);
    g_autofree char *pid = read_pid_file(pidfile);
    g_assert_false(group_exists(pid));
    g_unlink(pidfile);
    g_rmdir(dir);
}

/* A program that outlives its limit, with a child of its own. */
static void
test_runner_timeout(void)
{
    CqRunResult run;

    run_group("sleep 60 & echo started >&2; wait", 500, &run);
    g_assert_true(run.timed_out);
    g_assert_true(WIFSIGNALED(run.wait_status));
    g_assert_nonnull(strstr(run.err, "started"));
    cq_run_result_clear(&run);
}

/* A program that ends by itself but leaves a process behind. */
static void
test_runner_straggler(void)
{
    CqRunResult run;

    run_group("sleep 60 >/dev/null 2>&1 & echo 'Error: x' >&2; exit 3", 30000,
              &run);
    g_assert_false(run.timed_out);
    g_assert_true(WIFEXITED(run.wait_status));
    g_assert_cmpint(WEXITSTATUS(run.wait_status), ==, 3);
    g_assert_cmpstr(run.err, ==, "Error: x\n");
    cq_run_result_clear(&run);
}

static void
test_runner_missing(void)
{
    const char *argv[] = {"/nonexistent/soffice", NULL};
    CqRunResult run;
    g_autoptr(GError) error = NULL;

    g_assert_false(cq_run_bounded(argv, NULL, NULL, 1000, &run, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE);
    g_assert_nonnull(strstr(error->message, "/nonexistent/soffice"));
}

/* ---- cache ------------------------------------------------------------ */

static void
test_cache(void)
{
    g_autofree char *dir = g_dir_make_tmp("caqmail-test-XXXXXX", NULL);
    g_autofree char *src = g_build_filename(dir, "in.pdf", NULL);
    g_autofree char *entry = cq_cache_path(dir, "ab12cd", "0011");
    g_autoptr(GError) error = NULL;
    g_autofree char *got = NULL;
    g_autofree char *sha = NULL;
    gsize len = 0;

    g_assert_true(g_str_has_suffix(entry, "/ab/ab12cd-0011.pdf"));
    g_assert_true(g_file_set_contents(src, "%PDF-1.7\n%%EOF\n", -1, NULL));
    g_assert_true(cq_cache_store(entry, src, &sha, &error));
    g_assert_no_error(error);
    g_assert_true(g_file_get_contents(entry, &got, &len, NULL));
    g_assert_cmpstr(got, ==, "%PDF-1.7\n%%EOF\n");
    g_autofree char *want = g_compute_checksum_for_string(
        G_CHECKSUM_SHA256, "%PDF-1.7\n%%EOF\n", -1);
    g_assert_cmpstr(sha, ==, want);
    g_autofree char *again = cq_cache_entry_sha256(entry);
    g_assert_cmpstr(again, ==, want);

    /* Nothing but the entry is left in its folder. */
    g_autofree char *folder = g_path_get_dirname(entry);
    g_autoptr(GDir) d = g_dir_open(folder, 0, NULL);
    g_assert_cmpstr(g_dir_read_name(d), ==, "ab12cd-0011.pdf");
    g_assert_null(g_dir_read_name(d));

    g_autofree char *missing = g_build_filename(dir, "none.pdf", NULL);
    g_autofree char *none = NULL;
    g_assert_false(cq_cache_store(entry, missing, &none, &error));
    g_assert_null(none);
    g_assert_error(error, CQ_ERROR, CQ_ERROR_IO);

    g_unlink(entry);
    g_rmdir(folder);
    g_unlink(src);
    g_rmdir(dir);
}

/* ---- attachments that are not converted ------------------------------- */

typedef struct {
    char *dir;
    CqMessage *message;
    CqConvertOptions options;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("caqmail-test-XXXXXX", NULL);
    f->message = cq_message_new(CQ_ORIGIN_MANUAL);
    f->options = (CqConvertOptions){
        .soffice = "/nonexistent/soffice",
        .timeout_ms = 10000,
        .cache_dir = f->dir,
        .text_encoding = "windows-1252",
    };
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
    g_autoptr(GDir) d = g_dir_open(f->dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = g_build_filename(f->dir, name, NULL);
        g_remove(path);
    }
    g_rmdir(f->dir);
    cq_message_free(f->message);
    g_free(f->dir);
}

static CqAttachment *
attach(Fixture *f, const char *name, const char *content)
{
    g_autofree char *path = g_build_filename(f->dir, name, NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(g_file_set_contents(path, content, -1, NULL));
    CqAttachment *att =
        cq_message_add_attachment(f->message, path, NULL, NULL, 0, &error);
    g_assert_no_error(error);
    return att;
}

static void
test_pdf_kept(Fixture *f, gconstpointer data)
{
    CqAttachment *att = attach(f, "Zeugnis.pdf", "%PDF-1.4\n%%EOF\n");
    g_autofree char *path = g_strdup(att->path);
    g_autoptr(GError) error = NULL;

    g_assert_true(cq_attach_all_to_pdf(&f->options, f->message, 0, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(att->path, ==, path);
    g_assert_cmpstr(att->filename, ==, "Zeugnis.pdf");
    g_assert_null(att->source_sha256);
}

/* One attachment that cannot be converted leaves all of them as they
 * were, the PDF before it included. */
static void
test_all_or_nothing(Fixture *f, gconstpointer data)
{
    CqAttachment *pdf = attach(f, "Zeugnis.pdf", "%PDF-1.4\n%%EOF\n");
    CqAttachment *txt = attach(f, "Prüfprotokoll.txt", "Maße i.O.\n");
    g_autoptr(GError) error = NULL;

    g_assert_false(cq_attach_all_to_pdf(&f->options, f->message, 0, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE);
    g_assert_nonnull(strstr(error->message, "attachment 'Prüfprotokoll.txt'"));
    g_assert_nonnull(strstr(error->message, "libreoffice-writer-nogui"));
    g_assert_cmpstr(txt->filename, ==, "Prüfprotokoll.txt");
    g_assert_cmpstr(txt->content_type, ==, "text/plain");
    g_assert_null(txt->source_sha256);
    g_assert_cmpstr(pdf->filename, ==, "Zeugnis.pdf");
}

static void
test_mismatch_refused(Fixture *f, gconstpointer data)
{
    CqAttachment *att = attach(f, "Zeichnung.pdf", "nur Text\n");
    g_autoptr(GError) error = NULL;

    g_assert_false(cq_attach_to_pdf(&f->options, att, 0, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "attachment 'Zeichnung.pdf': the name says a PDF "
                    "document (.pdf) but the content is plain text");
    g_assert_cmpstr(att->filename, ==, "Zeichnung.pdf");
}

static void
test_missing_source(Fixture *f, gconstpointer data)
{
    CqAttachment *att = attach(f, "Bericht.txt", "x\n");
    g_autoptr(GError) error = NULL;

    g_remove(att->path);
    g_assert_false(cq_attach_to_pdf(&f->options, att, 0, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_NOINPUT);
    g_assert_cmpstr(error->message, ==,
                    "attachment 'Bericht.txt': no such file");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(filter_cases); i++)
        g_test_add_data_func(filter_cases[i].path, &filter_cases[i],
                             test_filter);
    g_test_add_func("/convert/runner/timeout", test_runner_timeout);
    g_test_add_func("/convert/runner/straggler", test_runner_straggler);
    g_test_add_func("/convert/runner/missing", test_runner_missing);
    g_test_add_func("/convert/cache", test_cache);
    g_test_add("/convert/prepare/pdf-kept", Fixture, NULL, fixture_set_up,
               test_pdf_kept, fixture_tear_down);
    g_test_add("/convert/prepare/all-or-nothing", Fixture, NULL, fixture_set_up,
               test_all_or_nothing, fixture_tear_down);
    g_test_add("/convert/prepare/mismatch", Fixture, NULL, fixture_set_up,
               test_mismatch_refused, fixture_tear_down);
    g_test_add("/convert/prepare/missing-source", Fixture, NULL, fixture_set_up,
               test_missing_source, fixture_tear_down);
    return g_test_run();
}
