/* The history: every mail and everything that happened to it, kept as a
 * chain of entries that an auditor can verify.
 *
 * Entries are only appended.  Each has a sequence number (its id), a
 * kind, the mail it is about, who caused it, when, a detail text, and the
 * hash of the entry before it; its own hash is the SHA-256 of all that in
 * a canonical form together with the rows it covers:
 *
 *   queued     the mail as accepted: sender, subject, record, the size
 *              and SHA-256 of the raw message, each recipient with the
 *              catalog entry it came from, each attachment with its size
 *              and SHA-256 and where it came from (a stored document, or
 *              the file it was converted from, with that one's SHA-256)
 *   attempt    one delivery attempt, with each recipient's result and
 *              the server's reply
 *   retry, cancel, takeover, expire
 *              the changes of state an operator or a worker made
 *   reminder, collection
 *              the measure or gauge an automatic mail is about, named in
 *              the detail (see item.h)
 *
 * So a changed byte in any of these rows, or in the raw message, breaks
 * the entry's hash, and a removed entry breaks the chain;
 * cq_history_verify() names the first broken entry.
 */
#ifndef CQ_HISTORY_HISTORY_H
#define CQ_HISTORY_HISTORY_H

#include "access/access.h"

/* Appends an entry that covers no other rows; the caller holds a write
 * transaction, as for every append below. */
gboolean cq_history_append(CqStore *store, const char *kind, gint64 mail_id,
                           const char *actor, const char *detail,
                           GError **error);

/* The rows a "queued" entry covers, put together by the code that writes
 * them, so that the entry is hashed without reading them back: the mail,
 * then its recipients, then its attachments, each in the order of their
 * positions, every value as it was written (NULL for SQL NULL).  The hash
 * is the same as of the rows read back, which is how
 * cq_history_verify() checks it. */
typedef struct _CqQueuedRows CqQueuedRows;

typedef struct {
    const char *message_id;
    const char *record; /* the record's identifier */
    const char *sender;
    const char *operator_login;
    const char *envelope_from;
    const char *from_display;
    const char *subject;
    const char *origin;
    gint64 smtputf8;
    gint64 body_8bit;
    gint64 raw_size;
    const char *raw_sha256;
    gint64 created;
} CqQueuedMail;

typedef struct {
    gint64 id;
    gint64 position;
    const char *kind;
    const char *address;
    const char *display;
    const char *source;
} CqQueuedRcpt;

typedef struct {
    gint64 position;
    const char *filename;
    const char *content_type;
    gint64 size;
    const char *sha256;
    const char *source;
    const char *source_sha256;
} CqQueuedAttachment;

CqQueuedRows *cq_queued_rows_new(void);
void cq_queued_rows_free(CqQueuedRows *rows);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqQueuedRows, cq_queued_rows_free)
void cq_queued_rows_add_mail(CqQueuedRows *rows, const CqQueuedMail *mail);
void cq_queued_rows_add_rcpt(CqQueuedRows *rows, const CqQueuedRcpt *rcpt);
void cq_queued_rows_add_attachment(CqQueuedRows *rows,
                                   const CqQueuedAttachment *attachment);

/* Appends the "queued" entry of mail @mail_id, whose rows are @rows. */
gboolean cq_history_append_queued(CqStore *store, gint64 mail_id,
                                  const char *actor, const CqQueuedRows *rows,
                                  GError **error);

/* One recipient's result, as an entry with results holds it. */
typedef struct {
    gint64 rcpt_id;
    const char *status;
    int code;
    const char *reply; /* NULL: none, stored as "" */
} CqHistoryResult;

/* Appends an entry with its @n_results delivery results (none: NULL),
 * hashed from the values as they are written, as cq_history_verify()
 * hashes them read back.  Sets *@seq (may be NULL) to the entry's
 * number. */
gboolean cq_history_append_results(CqStore *store, const char *kind,
                                   gint64 mail_id, const char *actor,
                                   const char *detail,
                                   const CqHistoryResult *results,
                                   guint n_results, gint64 *seq,
                                   GError **error);

typedef struct {
    gint64 entries; /* how many entries were checked */
    gint64 broken;  /* the first broken entry, 0 when all is well */
    char *problem;  /* what is wrong with it, or NULL */
    char *head;     /* the hash of the last entry */
} CqVerifyResult;

void cq_verify_result_clear(CqVerifyResult *result);

typedef void (*CqVerifyProgress)(gint64 done, gint64 total, gpointer data);

/* Checks the whole chain; needs the permission read-all.  Returns FALSE
 * only when the check could not run; a broken chain is reported in
 * @result. */
gboolean cq_history_verify(CqSession *session, CqVerifyResult *result,
                           CqVerifyProgress progress, gpointer data,
                           GError **error);

#endif
