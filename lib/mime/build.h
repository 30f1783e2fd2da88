/* MIME composition: turns a CqMessage into an RFC 5322 / MIME message.
 *
 * The result is written in canonical form (CRLF line ends, no line over 998
 * octets, headers folded at 78 columns).  Subject and display names are
 * RFC 2047 encoded; attachment names are written both as RFC 2231
 * `filename*` (Content-Disposition) and as an RFC 2047 `name` (Content-Type)
 * because Outlook reads only the latter.  Text is quoted-printable unless
 * 8bit is allowed and the lines fit; attachments are base64 and streamed
 * from their files while the message is written, never held in memory.
 */
#ifndef CQ_MIME_BUILD_H
#define CQ_MIME_BUILD_H

#include "compose/message.h"

#include "mime/gmime-util.h"

typedef struct {
    const char *message_id_domain; /* NULL: the sender's domain */
    gboolean allow_8bit;           /* the transport takes 8bit text */
    gint64 max_message_size;       /* 0: no limit */
} CqMimeOptions;

typedef struct _CqMime CqMime;

/* Builds the MIME tree of @message, opening every attachment.  Assigns the
 * message's Message-ID and Date when it has none.  @message must outlive
 * the result, which cq_mime_write() updates. */
CqMime *cq_mime_build(CqMessage *message, const CqMimeOptions *options,
                      GError **error);

/* Writes the message to @out and records the size and SHA-256 of what was
 * sent of each attachment in the CqMessage.  May be called again to write
 * the same message elsewhere. */
gboolean cq_mime_write(CqMime *mime, GMimeStream *out, GError **error);

/* The composed message as bytes; for small messages and tests. */
GBytes *cq_mime_to_bytes(CqMime *mime, GError **error);

/* The composed message as bytes, written directly without a MIME tree,
 * when @message has the commonest shape (one text part, no HTML, no
 * attachments, no extra headers, every header on one line without
 * quoting): the same bytes as cq_mime_build() then cq_mime_to_bytes(),
 * at a fraction of the cost.  Assigns Message-ID and Date as
 * cq_mime_build() does.  NULL without an error for another shape (the
 * caller then builds the tree); NULL with @error for an invalid message. */
GBytes *cq_mime_compose_simple(CqMessage *message,
                               const CqMimeOptions *options, GError **error);

GMimeMessage *cq_mime_get_message(CqMime *mime);

void cq_mime_free(CqMime *mime);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqMime, cq_mime_free)

/* The Message-ID shared by all mails of @record, without brackets: mails of
 * one record name it in References and In-Reply-To, so that mail programs
 * show them as one thread.  Newly allocated. */
char *cq_mime_record_thread_id(const char *record, const char *domain);

#endif
