/* The description of each catalog kind: its table and fields.  Private
 * to lib/catalog; the SQL of the catalog is built from these tables (the
 * names in them are constants, never input). */
#ifndef CQ_CATALOG_KINDS_H
#define CQ_CATALOG_KINDS_H

#include "catalog/catalog.h"

typedef enum {
    F_KEY,    /* the identifier */
    F_NAME,   /* a required one-line text */
    F_TEXT,   /* an optional one-line text */
    F_EMAIL,  /* an e-mail address, stored as local@domain */
    F_REF,    /* the identifier of another entry, stored as its id */
    F_CHOICE, /* one of a fixed list */
    F_LANG,   /* a language tag such as de or en-GB */
    F_LOGIN,  /* an operating-system login */
} FieldType;

typedef struct {
    const char *name;
    const char *column;
    FieldType type;
    gboolean required;
    CqCatalogKind ref;   /* for F_REF */
    const char *choices; /* for F_CHOICE: "a|b" */
} FieldDef;

typedef struct {
    const char *name;
    const char *table;
    const FieldDef *fields;
    guint n_fields;
    const char *const *field_names;
} KindDef;

const KindDef *cq_catalog_kind_def(CqCatalogKind kind);

/* The id of entry @ident of @kind, 0 when there is none. */
gboolean cq_catalog_find_id(CqStore *store, CqCatalogKind kind,
                            const char *ident, gint64 *id, GError **error);

/* Checks and normalizes @value for @field of @kind (a reference becomes
 * its id in *@ref_id); *@out is newly allocated. */
gboolean cq_catalog_check_value(CqStore *store, const KindDef *kind,
                                const FieldDef *field, const char *value,
                                char **out, gint64 *ref_id, GError **error);

/* Writes @values (one per field, "" empty) as entry @id (0: a new one);
 * the caller holds a write transaction. */
gboolean cq_catalog_write(CqStore *store, CqCatalogKind kind, gint64 *id,
                          char **values, GError **error);

/* Adds @member (a reference or an address) to list @list_id, and checks
 * that no list then contains itself. */
gboolean cq_catalog_add_member(CqSession *session, gint64 list_id,
                               const char *member, GError **error);

/* Loads entry @ident of @kind without a permission check. */
CqEntry *cq_catalog_load(CqStore *store, CqCatalogKind kind, const char *ident,
                         GError **error);

gboolean cq_catalog_remove_member(CqSession *session, gint64 list_id,
                                  const char *member, GError **error);

/* Fails when list @list_id contains itself, naming the cycle. */
gboolean cq_catalog_check_list_cycles(CqStore *store, gint64 list_id,
                                      GError **error);

gboolean cq_catalog_require_reader(CqSession *session, GError **error);

#endif
