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
 *
 * So a changed byte in any of these rows, or in the raw message, breaks
 * the entry's hash, and a removed entry breaks the chain;
 * cq_history_verify() names the first broken entry.
 */
#ifndef CQ_HISTORY_HISTORY_H
#define CQ_HISTORY_HISTORY_H

#include "access/access.h"

/* Starts an entry; the caller holds a write transaction, stores the rows
 * the entry covers (delivery results name *@seq), then seals it before
 * starting the next one. */
gboolean cq_history_begin(CqStore *store, const char *kind, gint64 mail_id,
                          const char *actor, const char *detail, gint64 *seq,
                          GError **error);
gboolean cq_history_seal(CqStore *store, gint64 seq, GError **error);
/* Begin and seal in one: for entries that cover no other rows. */
gboolean cq_history_append(CqStore *store, const char *kind, gint64 mail_id,
                           const char *actor, const char *detail,
                           GError **error);

/* Stores one recipient's result as part of entry @seq. */
gboolean cq_history_add_result(CqStore *store, gint64 seq, gint64 rcpt_id,
                               const char *status, int code, const char *reply,
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
