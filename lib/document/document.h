/* The document store: the files of the quality system (inspection
 * reports, 8D reports, drawings, work instructions) kept in the database,
 * so that the revision that was mailed can always be shown later, even
 * after the original file changed.
 *
 * A document is a title, an optional revision, the quality record it
 * belongs to, and the file as it was added: its original name, its kind
 * and media type (judged by content, attach/detect.h), its size and
 * SHA-256.  Only files that caqmail can also convert to PDF are taken,
 * and only when the name agrees with the content; an empty, damaged or
 * password-protected file is refused.  The bytes are kept by content:
 * each distinct content once (document_content), in fixed-size chunks
 * (document_chunk), streamed in and out with bounded memory the same way
 * on every backend.  Adding the same content again makes a new document
 * that shares the stored bytes.  A document never changes; a new revision
 * is a new document.
 *
 * Documents are numbered DOC-1, DOC-2 ... without gaps: the number is
 * taken inside the transaction that adds the document.
 *
 * Permissions, checked here for every front end:
 *   add             send: who may mail documents may store them
 *   list, show,     one's own documents with read-own, every document
 *   export          with read-all; a document the user may not read is
 *                   reported as not existing
 *   attach to mail  send, and read of the document
 * An administrator acting for another user adds documents in that user's
 * name; the document names both.
 */
#ifndef CQ_DOCUMENT_DOCUMENT_H
#define CQ_DOCUMENT_DOCUMENT_H

#include "access/access.h"
#include "compose/message.h"
#include "mime/gmime-util.h"

typedef struct {
    gint64 number; /* n of DOC-n */
    char *id;      /* "DOC-n" */
    char *title;
    char *revision;   /* NULL: none */
    char *filename;   /* the name it was added under */
    char *kind;       /* cq_doc_kind_name(): "docx", "pdf", "text" ... */
    char *media_type; /* "application/pdf" */
    gint64 size;
    char *sha256;     /* hex SHA-256 of the content */
    char *record;     /* identifier, or NULL */
    gint64 created;   /* microseconds since 1970 */
    char *created_by; /* login */
    char *operator;   /* the administrator who acted for created_by */
    GArray *mails;    /* gint64 ids of the mails that carried it and the
                         user may read; only filled by cq_document_get() */
} CqDocument;

void cq_document_free(CqDocument *document);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqDocument, cq_document_free)

typedef struct {
    const char *title;    /* required */
    const char *revision; /* NULL: none */
    const char *record;   /* NULL: none; a missing record is created */
    const char *filename; /* NULL: the base name of the path */
    gint64 max_size;      /* bytes; 0: no limit */
} CqDocumentSpec;

/* Stores the file at @path as a new document and returns it.  Bad input
 * (a missing file, an invalid title, a name that does not match the
 * content, an empty file, a type that is not converted) fails with
 * CQ_ERROR_INVALID, CQ_ERROR_NOINPUT or CQ_ERROR_TOO_LARGE and stores
 * nothing.  Emits one "document-added" event. */
CqDocument *cq_document_add(CqSession *session, const char *path,
                            const CqDocumentSpec *spec, GError **error);

/* The documents the user may read, oldest first; only those of @record
 * when it is not NULL.  An owning array of CqDocument. */
GPtrArray *cq_document_list(CqSession *session, const char *record,
                            GError **error);

/* The document @id ("DOC-7"), with the mails that carried it. */
CqDocument *cq_document_get(CqSession *session, const char *id, GError **error);

/* Writes the content of document @id to @out exactly as it was added,
 * and checks it against the stored SHA-256 on the way: a changed stored
 * content fails with CQ_ERROR_FAILED (after the bytes were written).
 * *@document (may be NULL) receives the document. */
gboolean cq_document_write(CqSession *session, const char *id, GMimeStream *out,
                           CqDocument **document, GError **error);

/* Parses "DOC-7" (case does not matter) into 7. */
gboolean cq_document_parse_id(const char *text, gint64 *number, GError **error);

/* A private temporary folder that holds the files of stored documents
 * while a message that carries them is built and stored; freeing it
 * removes the folder and everything in it. */
typedef struct _CqDocumentSpool CqDocumentSpool;

CqDocumentSpool *cq_document_spool_new(GError **error);
void cq_document_spool_free(CqDocumentSpool *spool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqDocumentSpool, cq_document_spool_free)

/* Attaches document @id to @message: its content is written into a file
 * in @spool (which must outlive the message's use of it), named as the
 * document was added and typed by its media type, with source
 * "document:DOC-n" and source_sha256 the document's SHA-256.  Needs the
 * permission send and that the user may read the document; @max_size as
 * for cq_message_add_attachment().  Returns the attachment, owned by the
 * message; on failure the message is unchanged. */
CqAttachment *cq_document_attach(CqSession *session, CqMessage *message,
                                 const char *id, CqDocumentSpool *spool,
                                 gint64 max_size, GError **error);

#endif
