/* The document store on a real SQLite file: contents kept once in
 * chunks, exact export, refused input that changes nothing, numbers
 * without gaps, permissions, a changed stored content, documents as
 * attachments and their source in the history's hash chain. */
#include "common/error.h"
#include "document/document.h"
#include "history/history.h"
#include "outbox/outbox.h"
#include "store/chunks.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct {
    char *dir;
    CqSession *admin;
} Fixture;

static char *
db_path(Fixture *f)
{
    return g_build_filename(f->dir, "caqmail.db", NULL);
}

static CqSession *
open_as(Fixture *f, const char *login)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = db_path(f);
    CqStore *store = cq_store_open(path, NULL, NULL, &error);
    g_assert_no_error(error);
    CqSession *s = cq_session_new(store, login, &error);
    g_assert_no_error(error);
    return s;
}

static void
add_user(Fixture *f, const char *login, const char *role)
{
    g_autoptr(GError) error = NULL;
    const char *roles[] = {role, NULL};
    g_assert_true(cq_user_add(f->admin, login, roles, &error));
    g_assert_no_error(error);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;

    f->dir = g_dir_make_tmp("caqmail-document-XXXXXX", &error);
    g_assert_no_error(error);
    path = db_path(f);
    f->admin = cq_session_open(path, NULL, NULL, &error);
    g_assert_no_error(error);
    add_user(f, "alice", "sender");
    add_user(f, "bob", "sender");
    add_user(f, "carol", "auditor");
}

static void
remove_tree(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *child = g_build_filename(path, name, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_DIR))
            remove_tree(child);
        else
            g_assert_cmpint(g_unlink(child), ==, 0);
    }
    if (dir != NULL)
        g_dir_close(dir);
    g_assert_cmpint(g_rmdir(path), ==, 0);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    cq_session_free(f->admin);
    remove_tree(f->dir);
    g_free(f->dir);
}

/* Writes @len bytes of @data, or all of the text @data when @len is 0. */
static char *
write_file(Fixture *f, const char *name, const char *data, gsize len)
{
    char *path = g_build_filename(f->dir, name, NULL);
    g_assert_true(
        g_file_set_contents(path, data, len ? (gssize)len : -1, NULL));
    return path;
}

/* German text over several chunks, with a line number on every line so
 * that no two chunks are alike. */
static GString *
long_text(gsize at_least)
{
    GString *text = g_string_new(NULL);
    for (guint i = 0; text->len < at_least; i++)
        g_string_append_printf(text,
                               "Zeile %06u: Prüfwert Größe Ø 12,5 mm, "
                               "Oberfläche „gut“\n",
                               i);
    return text;
}

static gint64
count(CqSession *s, const char *table)
{
    g_autofree char *sql = g_strdup_printf("SELECT COUNT(*) FROM %s", table);
    gint64 n = -1;
    CqStmt *stmt = cq_store_stmt(s->store, sql, NULL);
    g_assert_nonnull(stmt);
    g_assert_true(cq_stmt_int_result(stmt, -1, &n, NULL));
    return n;
}

static CqDocument *
add(CqSession *s, const char *path, const char *title)
{
    g_autoptr(GError) error = NULL;
    CqDocumentSpec spec = {.title = title};
    CqDocument *doc = cq_document_add(s, path, &spec, &error);
    g_assert_no_error(error);
    g_assert_nonnull(doc);
    return doc;
}

static GBytes *export(CqSession *s, const char *id, GError **error)
{
    g_autoptr(GMimeStream) out = g_mime_stream_mem_new();
    if (!cq_document_write(s, id, out, NULL, error))
        return NULL;
    GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
    return g_bytes_new(bytes->data, bytes->len);
}

/* The same content twice: two documents, one stored content, exported
 * byte for byte; the content spans several chunks. */
static void
test_same_content_once(Fixture *f, gconstpointer data)
{
    g_autoptr(GString) text = long_text(CQ_CHUNK_SIZE * 2 + 1000);
    g_autofree char *path =
        write_file(f, "Prüfprotokoll.txt", text->str, text->len);
    g_autofree char *expected = g_compute_checksum_for_data(
        G_CHECKSUM_SHA256, (const guchar *)text->str, text->len);
    g_autoptr(CqDocument) one = add(f->admin, path, "Prüfprotokoll");
    g_autoptr(CqDocument) two = add(f->admin, path, "Prüfprotokoll, Kopie");

    g_assert_cmpstr(one->id, ==, "DOC-1");
    g_assert_cmpstr(two->id, ==, "DOC-2");
    g_assert_cmpstr(one->sha256, ==, expected);
    g_assert_cmpstr(two->sha256, ==, expected);
    g_assert_cmpint(one->size, ==, (gint64)text->len);
    g_assert_cmpstr(one->kind, ==, "text");
    g_assert_cmpstr(one->media_type, ==, "text/plain");
    g_assert_cmpstr(one->filename, ==, "Prüfprotokoll.txt");
    g_assert_cmpint(count(f->admin, "document"), ==, 2);
    g_assert_cmpint(count(f->admin, "document_content"), ==, 1);
    g_assert_cmpint(count(f->admin, "document_chunk"), ==, 3);

    for (guint i = 0; i < 2; i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) got = export(f->admin, i ? "DOC-2" : "doc-1", &error);
        g_assert_no_error(error);
        g_assert_cmpmem(g_bytes_get_data(got, NULL), g_bytes_get_size(got),
                        text->str, text->len);
    }
}

/* The original may change afterwards: the document keeps what was
 * added, a new revision is a new document with a content of its own. */
static void
test_original_changes(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path =
        write_file(f, "Arbeitsanweisung.txt", "Revision A: Maß prüfen\n", 0);
    g_autoptr(CqDocument) a = add(f->admin, path, "Arbeitsanweisung");
    g_free(write_file(f, "Arbeitsanweisung.txt", "Revision B: Maß und Ø\n", 0));
    g_autoptr(CqDocument) b = add(f->admin, path, "Arbeitsanweisung");
    g_autoptr(GBytes) got = export(f->admin, a->id, &error);

    g_assert_no_error(error);
    g_assert_cmpmem(g_bytes_get_data(got, NULL), g_bytes_get_size(got),
                    "Revision A: Maß prüfen\n",
                    strlen("Revision A: Maß prüfen\n"));
    g_assert_cmpstr(a->sha256, !=, b->sha256);
    g_assert_cmpint(count(f->admin, "document_content"), ==, 2);
}

typedef struct {
    const char *name;  /* as the file is named */
    const char *data;  /* its content */
    gsize len;         /* 0: text up to its NUL */
    const char *title; /* NULL: "Titel" */
    const char *as;    /* the name given, or NULL */
    gint64 max_size;
    int code;
    const char *message;
} Refusal;

static const Refusal refusals[] = {
    {"Prüfbericht.docx", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, NULL, NULL, 0,
     CQ_ERROR_INVALID,
     "document 'Prüfbericht.docx': the name says a Word document (.docx) "
     "but the content is a PNG image"},
    {"Leer.txt", "", 0, NULL, NULL, 0, CQ_ERROR_INVALID,
     "document 'Leer.txt': the file is empty"},
    {"Zeichnung.dwg", "AC1032\0\1\2\3", 10, NULL, NULL, 0, CQ_ERROR_INVALID,
     "document 'Zeichnung.dwg': binary data is not a type"},
    {"Notiz.txt", "Grüße\n", 0, "Titel\r\nBcc: x@y", NULL, 0, CQ_ERROR_INVALID,
     "document title"},
    {"Notiz.txt", "Grüße\n", 0, "   ", NULL, 0, CQ_ERROR_INVALID,
     "document title: give 1 to 200 characters"},
    {"Notiz.txt", "Grüße\n", 0, NULL, "../Notiz.txt", 0, CQ_ERROR_INVALID,
     "must be a plain file name"},
    {"Notiz.txt", "Grüße\n", 0, NULL, "Notiz.pdf", 0, CQ_ERROR_INVALID,
     "the name says a PDF document (.pdf) but the content is"},
    {"Groß.txt", "Grüße aus dem Labor\n", 0, NULL, NULL, 10, CQ_ERROR_TOO_LARGE,
     "22 bytes is over the limit of 10"},
};

/* Every refusal names what was wrong and stores nothing: no document, no
 * content, no chunk, and no number used up. */
static void
test_refused_inputs(Fixture *f, gconstpointer data)
{
    for (guint i = 0; i < G_N_ELEMENTS(refusals); i++) {
        const Refusal *r = &refusals[i];
        g_autoptr(GError) error = NULL;
        g_autofree char *path = write_file(f, r->name, r->data, r->len);
        CqDocumentSpec spec = {
            .title = r->title ? r->title : "Titel",
            .filename = r->as,
            .max_size = r->max_size,
        };
        g_test_message("case %u: %s", i, r->name);
        g_assert_null(cq_document_add(f->admin, path, &spec, &error));
        g_assert_error(error, CQ_ERROR, r->code);
        g_assert_nonnull(strstr(error->message, r->message));
        g_unlink(path);
    }
    g_autoptr(GError) error = NULL;
    CqDocumentSpec spec = {.title = "Titel"};
    g_assert_null(
        cq_document_add(f->admin, "/nonexistent/Notiz.txt", &spec, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_NOINPUT);
    g_assert_cmpint(count(f->admin, "document"), ==, 0);
    g_assert_cmpint(count(f->admin, "document_content"), ==, 0);
    g_assert_cmpint(count(f->admin, "document_chunk"), ==, 0);

    g_autofree char *path = write_file(f, "Notiz.txt", "Grüße\n", 0);
    g_autoptr(CqDocument) doc = add(f->admin, path, "Notiz");
    g_assert_cmpstr(doc->id, ==, "DOC-1");
}

/* Senders read their own documents, auditors every one; a document the
 * user may not read does not exist for that user. */
static void
test_permissions(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = write_file(f, "8D-Bericht.txt", "D1: Team\n", 0);
    CqSession *alice = open_as(f, "alice");
    CqSession *bob = open_as(f, "bob");
    CqSession *carol = open_as(f, "carol");
    CqSession *nobody = open_as(f, "mallory");
    g_autoptr(CqDocument) doc = add(alice, path, "8D-Bericht");
    CqDocumentSpec spec = {.title = "x"};

    g_assert_cmpstr(doc->created_by, ==, "alice");
    g_assert_null(cq_document_get(bob, "DOC-1", &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_assert_null(export(bob, "DOC-1", &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_autoptr(GPtrArray) seen = cq_document_list(bob, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(seen->len, ==, 0);
    g_autoptr(GBytes) got = export(carol, "DOC-1", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_bytes_get_size(got), ==, strlen("D1: Team\n"));
    g_autoptr(GPtrArray) all = cq_document_list(carol, NULL, &error);
    g_assert_cmpuint(all->len, ==, 1);
    g_assert_null(cq_document_add(nobody, path, &spec, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_PERMISSION);
    g_clear_error(&error);
    g_assert_null(cq_document_list(nobody, NULL, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_PERMISSION);

    cq_session_free(alice);
    cq_session_free(bob);
    cq_session_free(carol);
    cq_session_free(nobody);
}

/* A stored content changed behind caqmail's back is never passed on as
 * the document. */
static void
test_changed_content_is_refused(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = write_file(f, "Notiz.txt", "Grüße\n", 0);
    g_autoptr(CqDocument) doc = add(f->admin, path, "Notiz");

    g_assert_true(cq_store_exec(
        f->admin->store, "UPDATE document_chunk SET data = X'4772'", &error));
    g_assert_null(export(f->admin, doc->id, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, "does not match its SHA-256"));
}

static gint64
enqueue_with(CqSession *s, const char *id, CqDocumentSpool *spool)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqMessage) m = cq_message_new(CQ_ORIGIN_DOCUMENT);
    CqMimeOptions options = {0};
    gint64 mail = 0;

    g_assert_true(cq_message_set_from(m, "qm@werk.example", NULL));
    g_assert_true(
        cq_message_add_recipients(m, CQ_RCPT_TO, "a@werk.example", NULL, NULL));
    CqAttachment *att = cq_document_attach(s, m, id, spool, 0, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(att->source, ==, "document:DOC-1");
    g_assert_cmpstr(att->filename, ==, "Maßblatt.txt");
    g_assert_cmpstr(att->content_type, ==, "text/plain");
    g_assert_true(cq_outbox_enqueue(s, m, &options, &mail, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(att->sha256, ==, att->source_sha256);
    return mail;
}

static void
verify(CqSession *s, CqVerifyResult *r)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(cq_history_verify(s, r, NULL, NULL, &error));
    g_assert_no_error(error);
}

/* A document attached to a mail names its source in the history, and the
 * source's SHA-256 is covered by the hash chain. */
static void
test_attach_and_chain(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = write_file(f, "Maßblatt.txt", "Ø 12,5 mm\n", 0);
    g_autoptr(CqDocument) doc = add(f->admin, path, "Maßblatt");
    g_autoptr(CqDocumentSpool) spool = cq_document_spool_new(&error);
    CqVerifyResult r = {0};

    g_assert_no_error(error);
    gint64 mail = enqueue_with(f->admin, doc->id, spool);
    g_autoptr(CqDocument) again = cq_document_get(f->admin, "DOC-1", &error);
    g_assert_cmpuint(again->mails->len, ==, 1);
    g_assert_cmpint(g_array_index(again->mails, gint64, 0), ==, mail);
    verify(f->admin, &r);
    g_assert_cmpint(r.broken, ==, 0);
    cq_verify_result_clear(&r);

    g_assert_true(cq_store_exec(f->admin->store,
                                "UPDATE mail_attachment SET source_sha256 ="
                                " 'ab' || substr(source_sha256, 3)",
                                &error));
    verify(f->admin, &r);
    g_assert_cmpint(r.broken, ==, 1);
    cq_verify_result_clear(&r);

    /* Freeing the spool removes what it held. */
    g_autoptr(CqMessage) m = cq_message_new(CQ_ORIGIN_DOCUMENT);
    CqAttachment *att =
        cq_document_attach(f->admin, m, "DOC-1", spool, 0, &error);
    g_autofree char *folder = g_path_get_dirname(att->path);
    g_assert_true(g_file_test(att->path, G_FILE_TEST_IS_REGULAR));
    g_clear_pointer(&spool, cq_document_spool_free);
    g_assert_false(g_file_test(folder, G_FILE_TEST_EXISTS));
}

/* Over the attachment limit, a document is refused before it is
 * written out, and the message is unchanged. */
static void
test_attach_over_limit(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = write_file(f, "Maßblatt.txt", "Ø 12,5 mm\n", 0);
    g_autoptr(CqDocument) doc = add(f->admin, path, "Maßblatt");
    g_autoptr(CqDocumentSpool) spool = cq_document_spool_new(&error);
    g_autoptr(CqMessage) m = cq_message_new(CQ_ORIGIN_DOCUMENT);

    g_assert_null(cq_document_attach(f->admin, m, doc->id, spool, 5, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_TOO_LARGE);
    g_assert_cmpuint(m->attachments->len, ==, 0);
    g_clear_error(&error);
    g_assert_null(cq_document_attach(f->admin, m, "DOC-2", spool, 0, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND);
    g_assert_cmpuint(m->attachments->len, ==, 0);
}

static void
add_test(const char *path, void (*func)(Fixture *, gconstpointer))
{
    g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add_test("/document/add/same-content-once", test_same_content_once);
    add_test("/document/add/original-changes", test_original_changes);
    add_test("/document/add/refused", test_refused_inputs);
    add_test("/document/permissions", test_permissions);
    add_test("/document/export/changed-content",
             test_changed_content_is_refused);
    add_test("/document/attach/history-chain", test_attach_and_chain);
    add_test("/document/attach/over-limit", test_attach_over_limit);
    return g_test_run();
}
