/* The document store: adding, listing, reading and exporting documents. */
#include "document/document.h"

#include "attach/detect.h"
#include "common/error.h"
#include "common/event.h"
#include "common/text.h"
#include "history/record.h"
#include "mime/digest-filter.h"
#include "store/chunks.h"
#include "tls/digest.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TITLE 200
#define MAX_REVISION 64
#define MAX_FILENAME 255
#define COPY_BLOCK (64 * 1024)

void
cq_document_free(CqDocument *document)
{
    if (document == NULL)
        return;
    g_free(document->id);
    g_free(document->title);
    g_free(document->revision);
    g_free(document->filename);
    g_free(document->kind);
    g_free(document->media_type);
    g_free(document->sha256);
    g_free(document->record);
    g_free(document->created_by);
    g_free(document->operator);
    if (document->mails != NULL)
        g_array_unref(document->mails);
    g_free(document);
}

gboolean
cq_document_parse_id(const char *text, gint64 *number, GError **error)
{
    if (text != NULL && g_ascii_strncasecmp(text, "DOC-", 4) == 0 &&
        g_ascii_isdigit(text[4]) &&
        g_ascii_string_to_signed(text + 4, 10, 1, G_MAXINT64, number, NULL))
        return TRUE;
    g_autofree char *shown = cq_text_printable(text ? text : "");
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "document '%s': not a document id such as DOC-7", shown);
    return FALSE;
}

/* Title and revision are shown in mail programs' lists and may end up
 * in a subject: header text of bounded length. */
static gboolean
check_text(const char *what, const char *value, glong max, GError **error)
{
    if (!cq_text_check_header(what, value, error))
        return FALSE;
    const char *p = value;
    while (g_ascii_isspace(*p))
        p++;
    if (*p != '\0' && g_utf8_strlen(value, -1) <= max)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "%s: give 1 to %ld characters", what, max);
    return FALSE;
}

/* The name becomes an attachment's file name: a plain name, no folder. */
static gboolean
check_filename(const char *name, GError **error)
{
    if (!cq_text_check_header("document file name", name, error))
        return FALSE;
    if (*name != '\0' && strlen(name) <= MAX_FILENAME &&
        strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
        strpbrk(name, "/\\") == NULL)
        return TRUE;
    g_autofree char *shown = cq_text_printable(name);
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "document file name '%s': must be a plain file name of at "
                "most %d bytes without folder parts",
                shown, MAX_FILENAME);
    return FALSE;
}

static gboolean
check_spec(const CqDocumentSpec *spec, const char *filename, GError **error)
{
    if (spec->title == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_USAGE,
                    "document '%s': give it a title", filename);
        return FALSE;
    }
    return check_text("document title", spec->title, MAX_TITLE, error) &&
           (spec->revision == NULL ||
            check_text("document revision", spec->revision, MAX_REVISION,
                       error)) &&
           (spec->record == NULL || cq_record_id_check(spec->record, error)) &&
           check_filename(filename, error);
}

/* A private copy of the file being added, so that what is judged, hashed
 * and stored is one and the same, whatever happens to the original. */
typedef struct {
    char *path;
    gint64 size;
    char *sha256;
} Spooled;

static void
spooled_clear(Spooled *s)
{
    if (s->path != NULL)
        g_unlink(s->path);
    g_clear_pointer(&s->path, g_free);
    g_clear_pointer(&s->sha256, g_free);
}

static int
open_source(const char *path, gint64 max_size, GError **error)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int err = errno;
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOINPUT, "document '%s': %s",
                    path,
                    fd >= 0         ? "is not a regular file"
                    : err == ENOENT ? "no such file"
                                    : g_strerror(err));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (max_size > 0 && st.st_size > max_size) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_TOO_LARGE,
                    "document '%s': %" G_GINT64_FORMAT " bytes is over the "
                    "limit of %" G_GINT64_FORMAT,
                    path, (gint64)st.st_size, max_size);
        close(fd);
        return -1;
    }
    return fd;
}

static gboolean
copy_failed(const char *path, Spooled *out, GError **error)
{
    g_set_error(error, CQ_ERROR, CQ_ERROR_IO,
                "document '%s': copying it "
                "failed: %s",
                path, g_strerror(errno));
    spooled_clear(out);
    return FALSE;
}

static gboolean
spool_source(const char *path, gint64 max_size, Spooled *out, GError **error)
{
    g_autoptr(GError) local = NULL;
    int in = open_source(path, max_size, error);

    if (in < 0)
        return FALSE;
    cq_mime_init();
    g_autoptr(GMimeStream) source = g_mime_stream_fs_new(in);
    int fd = g_file_open_tmp("caqmail-document-XXXXXX", &out->path, &local);
    if (fd < 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "document '%s': %s", path,
                    local->message);
        return FALSE;
    }
    g_autoptr(GMimeStream) copy = g_mime_stream_fs_new(fd);
    g_autoptr(GMimeStream) filtered = g_mime_stream_filter_new(source);
    g_autoptr(GMimeFilter) digest = cq_digest_filter_new();
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), digest);
    if (g_mime_stream_write_to_stream(filtered, copy) < 0 ||
        g_mime_stream_close(copy) != 0)
        return copy_failed(path, out, error);
    out->sha256 = cq_digest_filter_get_hex(CQ_DIGEST_FILTER(digest));
    out->size = cq_digest_filter_get_size(CQ_DIGEST_FILTER(digest));
    if (max_size <= 0 || out->size <= max_size)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_TOO_LARGE,
                "document '%s': over the limit of %" G_GINT64_FORMAT " bytes",
                path, max_size);
    spooled_clear(out);
    return FALSE;
}

/* Judges the copy by content against the name it will be known by. */
static gboolean
identify(const Spooled *s, const char *filename, CqDocType *type,
         GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GMappedFile) map = g_mapped_file_new(s->path, FALSE, &local);

    if (map == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "document '%s': %s", filename,
                    local->message);
        return FALSE;
    }
    if (cq_doc_identify(filename,
                        (const guchar *)g_mapped_file_get_contents(map),
                        g_mapped_file_get_length(map), type, error))
        return TRUE;
    g_prefix_error(error, "document '%s': ", filename);
    return FALSE;
}

/* Streams the copy into the chunks of content @content. */
static gboolean
write_chunks(CqStore *store, const Spooled *s, gint64 content, GError **error)
{
    g_autoptr(GMimeStream) writer =
        cq_chunk_writer_new_for(store, CQ_CHUNKS_DOCUMENT, content);
    g_autoptr(GMimeStream) file = NULL;
    g_autofree char *sha256 = NULL;
    gint64 size = 0;
    int fd = open(s->path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "document copy '%s': %s",
                    s->path, g_strerror(errno));
        return FALSE;
    }
    file = g_mime_stream_fs_new(fd);
    gboolean copied = g_mime_stream_write_to_stream(file, writer) >= 0;
    if (!cq_chunk_writer_finish(writer, &size, &sha256, error))
        return FALSE;
    if (copied && size == s->size && strcmp(sha256, s->sha256) == 0)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_IO,
                "document copy '%s': could not be read back whole", s->path);
    return FALSE;
}

/* The id of the stored content with @s's hash, stored now unless it is
 * there already; *@shared tells which. */
static gboolean
store_content(CqStore *store, const Spooled *s, gint64 *content,
              gboolean *shared, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store,
        "INSERT INTO document_content (sha256, size, created)"
        " VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING {returning_id}",
        error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, s->sha256);
    cq_stmt_bind_int(stmt, 2, s->size);
    cq_stmt_bind_int(stmt, 3, cq_store_now());
    if (!cq_stmt_insert_id(stmt, content, error))
        return FALSE;
    *shared = *content == 0;
    if (!*shared)
        return write_chunks(store, s, *content, error);
    stmt = cq_store_stmt(
        store, "SELECT id FROM document_content WHERE sha256 = ?", error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, s->sha256);
    return cq_stmt_int_result(stmt, 0, content, error);
}

static gboolean
next_number(CqStore *store, gint64 *number, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store,
        "UPDATE document_counter SET last_number = last_number + 1"
        " WHERE id = 1 RETURNING last_number",
        error);
    return stmt != NULL && cq_stmt_int_result(stmt, 0, number, error);
}

typedef struct {
    const CqDocumentSpec *spec;
    const char *filename;
    const CqDocType *type;
    const Spooled *content;
} NewDocument;

static gboolean
insert_document(CqSession *session, const NewDocument *d, gint64 number,
                gint64 record, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        session->store,
        "INSERT INTO document (id, title, revision, filename, kind,"
        " media_type, size, sha256, record_id, created, created_by,"
        " operator) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, number);
    cq_stmt_bind_text(stmt, 2, d->spec->title);
    cq_stmt_bind_text(stmt, 3, d->spec->revision);
    cq_stmt_bind_text(stmt, 4, d->filename);
    cq_stmt_bind_text(stmt, 5, cq_doc_kind_name(d->type->kind));
    cq_stmt_bind_text(stmt, 6, cq_doc_kind_media_type(d->type->kind));
    cq_stmt_bind_int(stmt, 7, d->content->size);
    cq_stmt_bind_text(stmt, 8, d->content->sha256);
    if (record != 0)
        cq_stmt_bind_int(stmt, 9, record);
    else
        cq_stmt_bind_null(stmt, 9);
    cq_stmt_bind_int(stmt, 10, cq_store_now());
    cq_stmt_bind_text(stmt, 11, session->login);
    cq_stmt_bind_text(stmt, 12, session->operator);
    return cq_stmt_run(stmt, error);
}

static gboolean
store_document(CqSession *session, const NewDocument *d, gint64 *number,
               gboolean *shared, GError **error)
{
    CqStore *store = session->store;
    gint64 record = 0, content = 0;

    if (!cq_store_begin(store, CQ_TX_WRITE, error))
        return FALSE;
    gboolean ok =
        (d->spec->record == NULL ||
         cq_record_ensure(session, d->spec->record, &record, error)) &&
        store_content(store, d->content, &content, shared, error) &&
        next_number(store, number, error) &&
        insert_document(session, d, *number, record, error);
    if (!ok) {
        cq_store_rollback(store);
        return FALSE;
    }
    return cq_store_commit(store, error);
}

static void
log_added(const CqSession *session, const CqDocument *doc, gboolean shared)
{
    CqEvent *ev = cq_event_begin(CQ_LOG_INFO, "document-added");
    cq_event_add(ev, "document", doc->id);
    cq_event_add(ev, "file", doc->filename);
    cq_event_add(ev, "kind", doc->kind);
    cq_event_addf(ev, "size", "%" G_GINT64_FORMAT, doc->size);
    cq_event_add(ev, "sha256", doc->sha256);
    cq_event_add(ev, "content", shared ? "shared" : "new");
    cq_event_add(ev, "record", doc->record);
    cq_event_add(ev, "user", session->login);
    cq_event_end(ev);
}

static CqDocument *get_visible(CqSession *session, gint64 number,
                               GError **error);

CqDocument *
cq_document_add(CqSession *session, const char *path,
                const CqDocumentSpec *spec, GError **error)
{
    g_autofree char *base = g_path_get_basename(path);
    const char *filename = spec->filename ? spec->filename : base;
    Spooled content = {0};
    CqDocType type;
    gint64 number = 0;
    gboolean shared = FALSE;

    if (!cq_session_require(session, CQ_PERM_SEND, "add documents", error) ||
        !check_spec(spec, filename, error) ||
        !spool_source(path, spec->max_size, &content, error))
        return NULL;
    NewDocument d = {spec, filename, &type, &content};
    gboolean ok = identify(&content, filename, &type, error) &&
                  store_document(session, &d, &number, &shared, error);
    spooled_clear(&content);
    if (!ok)
        return NULL;
    CqDocument *doc = get_visible(session, number, error);
    if (doc != NULL)
        log_added(session, doc, shared);
    return doc;
}

static gboolean
require_reader(CqSession *session, GError **error)
{
    if (cq_session_may(session, CQ_PERM_READ_OWN) ||
        cq_session_may(session, CQ_PERM_READ_ALL))
        return TRUE;
    return cq_session_require(session, CQ_PERM_READ_OWN, "read documents",
                              error);
}

#define SELECT_DOCUMENTS                                                       \
    "SELECT d.id, d.title, d.revision, d.filename, d.kind, d.media_type,"      \
    " d.size, d.sha256, r.ident, d.created, d.created_by, d.operator"          \
    " FROM document d LEFT JOIN record r ON r.id = d.record_id"                \
    " WHERE (? = 1 OR d.created_by = ?)"

static CqDocument *
document_from_row(CqStmt *stmt)
{
    CqDocument *d = g_new0(CqDocument, 1);

    d->number = cq_stmt_int(stmt, 0);
    d->id = g_strdup_printf("DOC-%" G_GINT64_FORMAT, d->number);
    d->title = cq_stmt_dup(stmt, 1);
    d->revision = cq_stmt_dup(stmt, 2);
    d->filename = cq_stmt_dup(stmt, 3);
    d->kind = cq_stmt_dup(stmt, 4);
    d->media_type = cq_stmt_dup(stmt, 5);
    d->size = cq_stmt_int(stmt, 6);
    d->sha256 = cq_stmt_dup(stmt, 7);
    d->record = cq_stmt_dup(stmt, 8);
    d->created = cq_stmt_int(stmt, 9);
    d->created_by = cq_stmt_dup(stmt, 10);
    d->operator= cq_stmt_dup(stmt, 11);
    return d;
}

/* Runs one of the SELECT_DOCUMENTS statements with its visibility pair
 * bound and @extra (text or, when NULL, @number) as the third value. */
static GPtrArray *
query(CqSession *session, const char *sql, const char *extra, gint64 number,
      GError **error)
{
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_document_free);
    CqStmt *stmt = cq_store_stmt(session->store, sql, error);
    CqStep step;

    if (stmt == NULL)
        return NULL;
    cq_stmt_bind_int(stmt, 1, cq_session_may(session, CQ_PERM_READ_ALL));
    cq_stmt_bind_text(stmt, 2, session->login);
    if (extra != NULL)
        cq_stmt_bind_text(stmt, 3, extra);
    else if (number != 0)
        cq_stmt_bind_int(stmt, 3, number);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW)
        g_ptr_array_add(out, document_from_row(stmt));
    cq_stmt_reset(stmt);
    return step == CQ_STEP_DONE ? g_steal_pointer(&out) : NULL;
}

GPtrArray *
cq_document_list(CqSession *session, const char *record, GError **error)
{
    if (!require_reader(session, error))
        return NULL;
    if (record != NULL)
        return query(session, SELECT_DOCUMENTS " AND r.ident = ? ORDER BY d.id",
                     record, 0, error);
    return query(session, SELECT_DOCUMENTS " ORDER BY d.id", NULL, 0, error);
}

static CqDocument *
get_visible(CqSession *session, gint64 number, GError **error)
{
    g_autoptr(GPtrArray) found =
        query(session, SELECT_DOCUMENTS " AND d.id = ?", NULL, number, error);

    if (found == NULL)
        return NULL;
    if (found->len == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "document 'DOC-%" G_GINT64_FORMAT "' does not exist",
                    number);
        return NULL;
    }
    return g_ptr_array_steal_index(found, 0);
}

/* The mails that carried @doc and the user may read. */
static gboolean
load_mails(CqSession *session, CqDocument *doc, GError **error)
{
    g_autofree char *source = g_strconcat("document:", doc->id, NULL);
    CqStmt *stmt = cq_store_stmt(
        session->store,
        "SELECT DISTINCT a.mail_id FROM mail_attachment a"
        " JOIN mail m ON m.id = a.mail_id"
        " WHERE a.source = ? AND (? = 1 OR m.sender = ?) ORDER BY a.mail_id",
        error);
    CqStep step;

    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, source);
    cq_stmt_bind_int(stmt, 2, cq_session_may(session, CQ_PERM_READ_ALL));
    cq_stmt_bind_text(stmt, 3, session->login);
    doc->mails = g_array_new(FALSE, FALSE, sizeof(gint64));
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        gint64 id = cq_stmt_int(stmt, 0);
        g_array_append_val(doc->mails, id);
    }
    cq_stmt_reset(stmt);
    return step == CQ_STEP_DONE;
}

CqDocument *
cq_document_get(CqSession *session, const char *id, GError **error)
{
    gint64 number = 0;

    if (!cq_document_parse_id(id, &number, error) ||
        !require_reader(session, error) ||
        !cq_store_begin(session->store, CQ_TX_READ, error))
        return NULL;
    g_autoptr(CqDocument) doc = get_visible(session, number, error);
    gboolean ok = doc != NULL && load_mails(session, doc, error);
    cq_store_end_read(session->store);
    return ok ? g_steal_pointer(&doc) : NULL;
}

static gboolean
content_id(CqStore *store, const CqDocument *doc, gint64 *content,
           GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store, "SELECT id FROM document_content WHERE sha256 = ?", error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, doc->sha256);
    if (!cq_stmt_int_result(stmt, 0, content, error))
        return FALSE;
    if (*content != 0)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_FAILED,
                "document '%s': its content is missing from the store",
                doc->id);
    return FALSE;
}

/* Copies the chunks of @content to @out and checks size and hash. */
static gboolean
copy_content(CqStore *store, const CqDocument *doc, gint64 content,
             GMimeStream *out, GError **error)
{
    g_autoptr(GMimeStream) reader =
        cq_chunk_reader_new_for(store, CQ_CHUNKS_DOCUMENT, content);
    g_autoptr(CqSha256) sha = cq_sha256_new();
    g_autofree char *buf = g_malloc(COPY_BLOCK);
    gint64 size = 0;
    ssize_t n;

    while ((n = g_mime_stream_read(reader, buf, COPY_BLOCK)) > 0) {
        cq_sha256_update(sha, buf, (gsize)n);
        size += n;
        if (g_mime_stream_write(out, buf, (size_t)n) != n) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_IO,
                        "document '%s': writing it failed: %s", doc->id,
                        g_strerror(errno));
            return FALSE;
        }
    }
    if (n < 0) {
        g_propagate_error(error, g_error_copy(cq_chunk_reader_error(reader)));
        return FALSE;
    }
    g_autofree char *got = cq_sha256_hex(sha);
    if (size == doc->size && strcmp(got, doc->sha256) == 0)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_FAILED,
                "document '%s': the stored content does not match its "
                "SHA-256 (it has been changed in the database)",
                doc->id);
    return FALSE;
}

gboolean
cq_document_write(CqSession *session, const char *id, GMimeStream *out,
                  CqDocument **document, GError **error)
{
    gint64 number = 0, content = 0;

    if (!cq_document_parse_id(id, &number, error) ||
        !require_reader(session, error) ||
        !cq_store_begin(session->store, CQ_TX_READ, error))
        return FALSE;
    g_autoptr(CqDocument) doc = get_visible(session, number, error);
    gboolean ok = doc != NULL &&
                  content_id(session->store, doc, &content, error) &&
                  copy_content(session->store, doc, content, out, error);
    cq_store_end_read(session->store);
    if (ok && document != NULL)
        *document = g_steal_pointer(&doc);
    return ok;
}
