/* The catalog: the master data that recipients are chosen from.
 *
 * Five kinds of entry, each with an identifier unique within its kind:
 *
 *   person        ident, name, email, department, supervisor, language,
 *                 login (the operating-system login of a caqmail user)
 *   department    ident, name, email (a shared mailbox, optional), head
 *   organisation  ident, name, kind (supplier or customer)
 *   contact       ident, organisation, name, email, role
 *   list          name, description, and members: persons, contacts,
 *                 departments, other lists, or plain addresses
 *
 * Fields that point at other entries (department, supervisor, head,
 * organisation) hold that entry's identifier.  An entry is written as a
 * reference "KIND:IDENT" ("person:P-0007", "list:qm-team"); a bare word
 * finds a person by identifier or login, then a contact, then a
 * department.  Everyone registered may read the catalog; changing it
 * needs the permission edit-catalog.  Bad input changes nothing.
 */
#ifndef CQ_CATALOG_CATALOG_H
#define CQ_CATALOG_CATALOG_H

#include "access/access.h"

typedef enum {
    CQ_CATALOG_PERSON,
    CQ_CATALOG_DEPARTMENT,
    CQ_CATALOG_ORGANISATION,
    CQ_CATALOG_CONTACT,
    CQ_CATALOG_LIST,
} CqCatalogKind;

#define CQ_CATALOG_KINDS 5

typedef struct {
    CqCatalogKind kind;
    gint64 id;
    GStrv values;  /* one per field, in field order; "" when empty */
    GStrv members; /* lists: member references in order; else NULL */
} CqEntry;

void cq_entry_free(CqEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqEntry, cq_entry_free)

/* The value of @field, or NULL when the kind has no such field. */
const char *cq_entry_get(const CqEntry *entry, const char *field);
/* "KIND:IDENT"; newly allocated. */
char *cq_entry_ref(const CqEntry *entry);

/* A field name and its new value; "" clears an optional field. */
typedef struct {
    const char *name;
    const char *value;
} CqField;

const char *cq_catalog_kind_name(CqCatalogKind kind);
gboolean cq_catalog_kind_parse(const char *name, CqCatalogKind *kind,
                               GError **error);
/* The field names of @kind in order (NULL-terminated, static); the
 * first is the identifier. */
const char *const *cq_catalog_fields(CqCatalogKind kind);
guint cq_catalog_n_fields(CqCatalogKind kind);

gboolean cq_catalog_add(CqSession *session, CqCatalogKind kind,
                        const CqField *fields, guint n_fields,
                        const char *const *members, GError **error);
/* Changes the given fields of the entry @ident; members of a list are
 * added and removed by their reference. */
gboolean cq_catalog_edit(CqSession *session, CqCatalogKind kind,
                         const char *ident, const CqField *fields,
                         guint n_fields, const char *const *add_members,
                         const char *const *remove_members, GError **error);
/* Fails while other entries still point at the entry. */
gboolean cq_catalog_remove(CqSession *session, CqCatalogKind kind,
                           const char *ident, GError **error);

CqEntry *cq_catalog_get(CqSession *session, CqCatalogKind kind,
                        const char *ident, GError **error);
/* All entries of @kind by identifier; an owning array of CqEntry. */
GPtrArray *cq_catalog_list(CqSession *session, CqCatalogKind kind,
                           GError **error);
/* Entries of every kind whose name, e-mail, department or identifier
 * contain every word of @text, ignoring case and accents. */
GPtrArray *cq_catalog_search(CqSession *session, const char *text,
                             GError **error);

/* Finds the entry a reference names (see above).  Addresses are not
 * references: @text must not hold an '@'. */
gboolean cq_catalog_lookup(CqSession *session, const char *text,
                           CqCatalogKind *kind, gint64 *id, GError **error);

/* Finds the person @text names (identifier, login or person:IDENT):
 * sets its row id and, newly allocated, its identifier.  @what names the
 * role in messages ("responsible person"). */
gboolean cq_catalog_find_person(CqSession *session, const char *what,
                                const char *text, gint64 *id, char **ident,
                                GError **error);

/* Loads the entry with database id @id. */
CqEntry *cq_catalog_get_by_id(CqSession *session, CqCatalogKind kind, gint64 id,
                              GError **error);

typedef void (*CqProgressFunc)(guint done, guint total, gpointer data);

/* Imports a CSV file (UTF-8, header row of field names; lists use the
 * columns name, description, member with one member a row).  Entries
 * whose identifier exists are updated, others added.  All or nothing:
 * when any line is bad, nothing is imported and the error lists every bad
 * line with its number.  *@count (may be NULL) is set to the number of
 * entries written. */
gboolean cq_catalog_import(CqSession *session, CqCatalogKind kind,
                           const char *path, guint *count,
                           CqProgressFunc progress, gpointer data,
                           GError **error);
/* All entries of @kind as CSV in the import format; newly allocated. */
char *cq_catalog_export(CqSession *session, CqCatalogKind kind, GError **error);

#endif
