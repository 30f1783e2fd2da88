/* E-mail addresses: RFC 5322 mailboxes, validated strictly.
 *
 * Accepted: `local@domain`, `Name <local@domain>`, `"Name, Q." <l@d>`,
 * comments, groups (`team: a@x, b@y;`) in lists, internationalized domains
 * (converted to their ASCII form with IDNA 2008 / UTS 46) and UTF-8 local
 * parts (flagged: such an address needs SMTPUTF8, RFC 6531).  Refused with
 * CQ_ERROR_INVALID and a message naming the address: line breaks, control
 * characters, invalid UTF-8, missing or doubled '@', empty or overlong
 * parts, bad domain labels, unbalanced quotes, comments or brackets.
 */
#ifndef CQ_COMPOSE_ADDRESS_H
#define CQ_COMPOSE_ADDRESS_H

#include <glib.h>

typedef struct {
    char *name;        /* display name in UTF-8, NULL when none */
    char *local;       /* local part as on the wire (dot-atom or quoted) */
    char *domain;      /* ASCII domain (A-labels) or [literal] */
    char *domain_utf8; /* the domain with U-labels, for people to read */
    gboolean smtputf8; /* the local part is not ASCII */
} CqAddress;

/* Parses exactly one mailbox. */
CqAddress *cq_address_parse(const char *text, GError **error);

/* Parses a comma-separated list of mailboxes and groups into a new array of
 * CqAddress (owning, freed with g_ptr_array_unref).  An empty list is an
 * error unless @allow_empty. */
GPtrArray *cq_address_list_parse(const char *text, gboolean allow_empty,
                                 GError **error);

/* Builds an address from its parts, validating them as the parser does;
 * @name may be NULL. */
CqAddress *cq_address_new(const char *name, const char *addr_spec,
                          GError **error);

CqAddress *cq_address_copy(const CqAddress *address);
void cq_address_free(CqAddress *address);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqAddress, cq_address_free)

/* `local@domain` with the ASCII domain: what goes into MAIL FROM / RCPT TO.
 * Newly allocated. */
char *cq_address_spec(const CqAddress *address);

/* `Name <local@domain>` in UTF-8 for logs and people (not for headers:
 * the MIME builder encodes names).  Newly allocated. */
char *cq_address_display(const CqAddress *address);

/* A key under which equal mailboxes compare equal: the spec with the
 * domain lower-cased (local parts are case-sensitive by the RFC, but real
 * servers treat them alike, so they are lower-cased too).  Newly allocated.
 */
char *cq_address_key(const CqAddress *address);

#endif
