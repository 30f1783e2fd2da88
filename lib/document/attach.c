/* Stored documents as attachments: written out of the store into a
 * private folder, from where the MIME builder and the converter read
 * them like any file. */
#include "document/document.h"

#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

struct _CqDocumentSpool {
    char *folder;
};

CqDocumentSpool *
cq_document_spool_new(GError **error)
{
    g_autoptr(GError) local = NULL;
    char *folder = g_dir_make_tmp("caqmail-documents-XXXXXX", &local);

    if (folder == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "folder for documents: %s",
                    local->message);
        return NULL;
    }
    CqDocumentSpool *spool = g_new0(CqDocumentSpool, 1);
    spool->folder = folder;
    return spool;
}

void
cq_document_spool_free(CqDocumentSpool *spool)
{
    if (spool == NULL)
        return;
    GDir *dir = g_dir_open(spool->folder, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *path = g_build_filename(spool->folder, name, NULL);
        g_unlink(path);
    }
    if (dir != NULL)
        g_dir_close(dir);
    g_rmdir(spool->folder);
    g_free(spool->folder);
    g_free(spool);
}

/* Writes document @id into a new file of @spool; *@path receives it. */
static CqDocument *
write_out(CqSession *session, const char *id, CqDocumentSpool *spool,
          char **path, GError **error)
{
    CqDocument *doc = NULL;

    *path = g_build_filename(spool->folder, "document-XXXXXX", NULL);
    int fd = g_mkstemp_full(*path, O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "document '%s': %s", id,
                    g_strerror(errno));
        g_clear_pointer(path, g_free);
        return NULL;
    }
    g_autoptr(GMimeStream) out = g_mime_stream_fs_new(fd);
    if (!cq_document_write(session, id, out, &doc, error) ||
        g_mime_stream_close(out) != 0) {
        if (doc != NULL)
            g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "document '%s': %s", id,
                        g_strerror(errno));
        g_clear_pointer(&doc, cq_document_free);
        g_unlink(*path);
        g_clear_pointer(path, g_free);
    }
    return doc;
}

/* A document over the limit is refused before it is written out. */
static gboolean
check_size(CqSession *session, const char *id, gint64 max_size, GError **error)
{
    g_autoptr(CqDocument) doc = cq_document_get(session, id, error);

    if (doc == NULL)
        return FALSE;
    if (max_size <= 0 || doc->size <= max_size)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_TOO_LARGE,
                "document '%s' ('%s'): %" G_GINT64_FORMAT " bytes is over "
                "the attachment limit of %" G_GINT64_FORMAT,
                doc->id, doc->filename, doc->size, max_size);
    return FALSE;
}

CqAttachment *
cq_document_attach(CqSession *session, CqMessage *message, const char *id,
                   CqDocumentSpool *spool, gint64 max_size, GError **error)
{
    g_autofree char *path = NULL;

    if (!cq_session_require(session, CQ_PERM_SEND, "send mail", error) ||
        !check_size(session, id, max_size, error))
        return NULL;
    g_autoptr(CqDocument) doc = write_out(session, id, spool, &path, error);
    if (doc == NULL)
        return NULL;
    CqAttachment *att = cq_message_add_attachment(message, path, doc->filename,
                                                  doc->media_type, 0, error);
    if (att == NULL) {
        g_prefix_error(error, "document '%s': ", doc->id);
        g_unlink(path);
        return NULL;
    }
    att->source = g_strconcat("document:", doc->id, NULL);
    att->source_sha256 = g_strdup(doc->sha256);
    return att;
}
