/* The histories of measures and gauges, the items that automatic mails
 * are about: every change made to one, and every mail about it together
 * with the entry of the mail history (history.h) that records the mail,
 * so that the item's history and the hash chain name each other.
 */
#ifndef CQ_HISTORY_ITEM_H
#define CQ_HISTORY_ITEM_H

#include "access/access.h"

typedef enum {
    CQ_ITEM_MEASURE,
    CQ_ITEM_GAUGE,
} CqItemKind;

typedef struct {
    gint64 at; /* microseconds since 1970 */
    char *actor;
    char *kind;         /* added, changed, ..., or the kind of mail */
    guint level;        /* measures: the reminder level after it; else 0 */
    gint64 mail_id;     /* the mail, or 0 */
    gint64 history_seq; /* its entry in the mail history, or 0 */
    char *detail;
} CqItemEntry;

void cq_item_entry_free(CqItemEntry *entry);

/* Appends an entry to the history of the item with row id @id; the
 * caller holds a write transaction.  The actor is the session's. */
gboolean cq_item_history_add(CqSession *session, CqItemKind item, gint64 id,
                             const char *kind, guint level, const char *detail,
                             GError **error);

/* Records that mail @mail_id is about item @id: an entry of @kind in the
 * mail history (its detail names the item) and one in the item's
 * history that points at it.  The caller holds a write transaction. */
gboolean cq_item_history_mail(CqSession *session, CqItemKind item, gint64 id,
                              const char *kind, guint level, gint64 mail_id,
                              const char *detail, GError **error);

/* The history of the item with row id @id, oldest first: an owning array
 * of CqItemEntry.  The caller checks that the user may read the item. */
GPtrArray *cq_item_history_list(CqStore *store, CqItemKind item, gint64 id,
                                GError **error);

#endif
