/* Reading mails and their history, limited to what the acting user may
 * read: everything with the permission read-all, the mails the user sent
 * with read-own, nothing otherwise.  A mail the user may not read is
 * reported as not existing.
 */
#ifndef CQ_HISTORY_MAILS_H
#define CQ_HISTORY_MAILS_H

#include "access/access.h"
#include "mime/gmime-util.h"

typedef struct {
    const char *record;        /* only mails of this record (with the
                                  reminder digests about its measures) */
    gboolean journal;          /* only the user's mails without record */
    const char *text;          /* only mails matching every word */
    const char *const *states; /* only mails in one of these states */
    gint64 id;                 /* only this mail; 0: any */
    guint limit;               /* at most this many, newest first; 0: all */
} CqMailFilter;

typedef struct {
    gint64 id;
    char *message_id;
    char *record;   /* identifier, or NULL for the sender's journal */
    char *sender;   /* login */
    char *operator; /* the administrator who acted for the sender */
    char *from;
    char *subject;
    char *origin;
    gint64 created; /* microseconds since 1970 */
    gint64 size;    /* of the raw message */
    char *sha256;   /* of the raw message */
    char *state;    /* outbox state */
    gint64 attempts;
    gint64 next_attempt;
    char *last_error;
    gint64 n_rcpts;
} CqMailInfo;

typedef struct {
    gint64 id;
    char *kind;    /* to, cc, bcc */
    char *address; /* local@domain */
    char *display; /* Name <local@domain> */
    char *source;  /* catalog origin, or NULL when typed in */
    char *status;  /* last result: accepted, deferred, rejected,
                      uncertain, or pending before any attempt */
    gint64 code;
    char *reply;
} CqRcptInfo;

typedef struct {
    char *filename;
    char *content_type;
    gint64 size;
    char *sha256;        /* of what was sent */
    char *source;        /* "document:DOC-7", or NULL */
    char *source_sha256; /* of the document or file it was made from, or
                            NULL when the file was sent as it is */
} CqAttachmentInfo;

typedef struct {
    gint64 seq;
    char *kind;
    char *actor;
    gint64 at;
    char *detail;
    GPtrArray *results; /* of CqRcptInfo: address, status, code, reply */
} CqEntryInfo;

typedef struct {
    CqMailInfo *mail;
    GPtrArray *rcpts;       /* of CqRcptInfo */
    GPtrArray *attachments; /* of CqAttachmentInfo */
    GPtrArray *entries;     /* of CqEntryInfo, oldest first */
} CqMailDetail;

void cq_mail_info_free(CqMailInfo *info);
void cq_rcpt_info_free(CqRcptInfo *info);
void cq_mail_detail_free(CqMailDetail *detail);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqMailDetail, cq_mail_detail_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqMailInfo, cq_mail_info_free)

/* The mails matching @filter, an owning array of CqMailInfo, by id. */
GPtrArray *cq_mail_query(CqSession *session, const CqMailFilter *filter,
                         GError **error);
CqMailDetail *cq_mail_detail(CqSession *session, gint64 id, GError **error);
/* The recipients and attachments of @mail, one that cq_mail_query()
 * returned to @session, without its history entries; takes @mail, also
 * on failure. */
CqMailDetail *cq_mail_summary(CqSession *session, CqMailInfo *mail,
                              GError **error);
/* Writes the raw message exactly as it was stored and sent. */
gboolean cq_mail_write_raw(CqSession *session, gint64 id, GMimeStream *out,
                           GError **error);

#endif
