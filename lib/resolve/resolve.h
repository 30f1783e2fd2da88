/* Recipients: catalog references become addresses.
 *
 * Wherever an address is accepted, a catalog reference is too: a person
 * (identifier or login), a contact, a department (its shared mailbox, or
 * else every person in it) or a distribution list ("list:NAME"), see
 * catalog.h.  Lists resolve recursively; a list that contains itself is
 * an error naming the cycle.  Each address keeps where it came from
 * ("list:qm-team > person:P-0007"), which is recorded with the mail.
 */
#ifndef CQ_RESOLVE_RESOLVE_H
#define CQ_RESOLVE_RESOLVE_H

#include "access/access.h"
#include "compose/message.h"

typedef struct {
    CqAddress *address;
    char *source; /* the chain of catalog entries it came from */
} CqResolved;

void cq_resolved_free(CqResolved *resolved);

/* Expands one reference; an owning array of CqResolved, never empty. */
GPtrArray *cq_resolve_reference(CqSession *session, const char *reference,
                                GError **error);

/* TRUE when @item (one option value, perhaps a comma-separated list)
 * names a catalog entry and so needs the catalog. */
gboolean cq_resolve_needs_catalog(const char *item);

/* Adds every address and every reference of @items to @message as
 * @kind.  @session may be NULL when no item needs the catalog.  On
 * failure @message is unchanged. */
gboolean cq_resolve_add(CqSession *session, CqMessage *message,
                        CqRecipientKind kind, const char *const *items,
                        GError **error);

/* Adds the acting user as a blind copy: the e-mail of the catalog person
 * whose login is the user's, or else the sender of @message. */
gboolean cq_resolve_copy_to_sender(CqSession *session, CqMessage *message,
                                   GError **error);

/* The sender of a mail that names none: [message] from of @config, else
 * the e-mail of the catalog person whose login is the acting user's
 * (@session may be NULL), else USER@HOST.  Newly allocated. */
char *cq_resolve_default_sender(CqSession *session, const CqConfig *config);

/* Keeps each address once, at its first place, with the most visible
 * kind it was given (To, then Cc, then Bcc); returns how many recipients
 * were removed. */
guint cq_resolve_dedup(CqMessage *message);

#endif
