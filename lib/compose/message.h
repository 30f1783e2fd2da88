/* The message model: what a mail is before it becomes MIME.
 *
 * A CqMessage is built field by field; every setter validates its input and
 * refuses it with CQ_ERROR_INVALID (or CQ_ERROR_NOINPUT for files) without
 * changing the message, so that a message is never half-updated.  Nothing
 * here touches the network or the store.
 *
 * The structure's fields may be read directly; they are changed only
 * through the functions below.  Strings are UTF-8 and owned by the message.
 */
#ifndef CQ_COMPOSE_MESSAGE_H
#define CQ_COMPOSE_MESSAGE_H

#include "compose/address.h"

#include <glib.h>

typedef enum {
    CQ_ORIGIN_MANUAL,
    CQ_ORIGIN_DOCUMENT,
    CQ_ORIGIN_REMINDER,
    CQ_ORIGIN_COLLECTION,
    CQ_ORIGIN_SENDMAIL,
    CQ_ORIGIN_API,
} CqOrigin;

typedef enum {
    CQ_RCPT_TO,
    CQ_RCPT_CC,
    CQ_RCPT_BCC,
} CqRecipientKind;

typedef struct {
    CqAddress *address;
    CqRecipientKind kind;
    char *source; /* catalog reference it came from, NULL when typed in */
} CqRecipient;

typedef struct {
    char *path;         /* the file, streamed when the message is written */
    char *filename;     /* the name the recipient sees, no folder parts */
    char *content_type; /* "type/subtype"; detected from name and content */
    gint64 size;        /* bytes, from the file when it was added */
    char *sha256;       /* hex digest of what was sent; set once written */
    char *source;       /* where it came from ("document:DOC-7"), or NULL */
    char *source_sha256; /* hex digest of the file it was converted from
                            or the stored document it was taken from;
                            NULL for a file sent as it is */
} CqAttachment;

typedef struct {
    char *name;
    char *value;
} CqHeader;

typedef struct {
    CqAddress *from;
    GPtrArray *recipients;  /* of CqRecipient, in the order added */
    char *subject;          /* never NULL, may be empty */
    char *text;             /* plain text body, never NULL */
    char *html;             /* optional HTML alternative */
    GPtrArray *attachments; /* of CqAttachment */
    GPtrArray *headers;     /* extra headers, of CqHeader */
    char *record;           /* quality record identifier, or NULL */
    CqOrigin origin;
    char *message_id; /* without angle brackets; assigned when built */
    GDateTime *date;  /* assigned when built */
} CqMessage;

CqMessage *cq_message_new(CqOrigin origin);
void cq_message_free(CqMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqMessage, cq_message_free)

gboolean cq_message_set_from(CqMessage *message, const char *address,
                             GError **error);
/* Adds every mailbox of the comma-separated @addresses as @kind;
 * @source names the catalog entry they came from (NULL for typed ones). */
gboolean cq_message_add_recipients(CqMessage *message, CqRecipientKind kind,
                                   const char *addresses, const char *source,
                                   GError **error);
/* Adds one already parsed address (copied). */
void cq_message_add_address(CqMessage *message, CqRecipientKind kind,
                            const CqAddress *address, const char *source);
gboolean cq_message_set_subject(CqMessage *message, const char *subject,
                                GError **error);
gboolean cq_message_set_text(CqMessage *message, const char *text,
                             GError **error);
gboolean cq_message_set_html(CqMessage *message, const char *html,
                             GError **error);
/* Reads a body from a UTF-8 file (at most 64 MiB). */
gboolean cq_message_set_text_file(CqMessage *message, const char *path,
                                  GError **error);
gboolean cq_message_set_html_file(CqMessage *message, const char *path,
                                  GError **error);
/* Checks that @path is a readable regular file, not larger than
 * @max_size (0: no limit), and adds it.  @filename defaults to the base
 * name of @path; @content_type is detected when NULL.  Returns the new
 * attachment, owned by the message. */
CqAttachment *cq_message_add_attachment(CqMessage *message, const char *path,
                                        const char *filename,
                                        const char *content_type,
                                        gint64 max_size, GError **error);
/* Adds a custom header; refuses names that caqmail writes itself. */
gboolean cq_message_add_header(CqMessage *message, const char *name,
                               const char *value, GError **error);
gboolean cq_message_set_record(CqMessage *message, const char *record,
                               GError **error);

/* Checks what a message needs before it can be built: a sender and at
 * least one recipient. */
gboolean cq_message_check(const CqMessage *message, GError **error);

/* TRUE when an address of the message has a UTF-8 local part. */
gboolean cq_message_needs_smtputf8(const CqMessage *message);

/* Validates an identifier of a quality record (`8D-2026-0042`). */
gboolean cq_record_id_check(const char *record, GError **error);

const char *cq_origin_name(CqOrigin origin);
gboolean cq_origin_from_name(const char *name, CqOrigin *origin);
/* TRUE for mails that no person wrote (reminders, collection lists):
 * they carry Auto-Submitted: auto-generated (RFC 3834). */
gboolean cq_origin_is_automatic(CqOrigin origin);

const char *cq_recipient_kind_name(CqRecipientKind kind);

void cq_recipient_free(CqRecipient *recipient);
void cq_attachment_free(CqAttachment *attachment);

#endif
