/* Quality records: what the history of mails hangs on (an 8D report, an
 * audit, a gauge).  A record has an identifier such as 8D-2026-0042, a
 * kind, a title and an owner (a login).  Sending a mail for a record that
 * does not exist yet creates it, with the kind taken from the
 * identifier's first part ("8D") and the sender as owner.  Any
 * registered user may read the records; adding one needs the permission
 * to send, changing one is for its owner or an administrator.
 */
#ifndef CQ_HISTORY_RECORD_H
#define CQ_HISTORY_RECORD_H

#include "access/access.h"

typedef struct {
    char *ident;
    char *kind;
    char *title;
    char *owner;
    gint64 created; /* microseconds since 1970 */
    gint64 mails;   /* mails of the record the acting user may read */
} CqRecord;

void cq_record_free(CqRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqRecord, cq_record_free)

/* @kind NULL: from the identifier; @title NULL: empty; @owner NULL: the
 * acting user. */
gboolean cq_record_add(CqSession *session, const char *ident, const char *kind,
                       const char *title, const char *owner, GError **error);
/* Changes the given fields (NULL: keep). */
gboolean cq_record_edit(CqSession *session, const char *ident, const char *kind,
                        const char *title, const char *owner, GError **error);
GPtrArray *cq_record_list(CqSession *session, GError **error);
CqRecord *cq_record_get(CqSession *session, const char *ident, GError **error);

/* The id of record @ident, creating it as described above; the caller
 * holds a write transaction. */
gboolean cq_record_ensure(CqSession *session, const char *ident, gint64 *id,
                          GError **error);

#endif
