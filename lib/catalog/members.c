/* Members of distribution lists, references to entries, and the check
 * that no list contains itself. */
#include "catalog/catalog.h"

#include "catalog/kinds.h"
#include "common/error.h"
#include "compose/address.h"

#include <string.h>

#define MAX_DEPTH 64

typedef struct {
    const char *prefix;
    CqCatalogKind kind;
} Prefix;

static const Prefix prefixes[] = {
    {"person:", CQ_CATALOG_PERSON},
    {"contact:", CQ_CATALOG_CONTACT},
    {"department:", CQ_CATALOG_DEPARTMENT},
    {"dept:", CQ_CATALOG_DEPARTMENT},
    {"list:", CQ_CATALOG_LIST},
};

static gboolean
find_prefixed(CqStore *store, const char *text, CqCatalogKind *kind, gint64 *id,
              gboolean *matched, GError **error)
{
    *matched = FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(prefixes); i++) {
        if (!g_str_has_prefix(text, prefixes[i].prefix))
            continue;
        const char *ident = text + strlen(prefixes[i].prefix);
        *matched = TRUE;
        *kind = prefixes[i].kind;
        if (!cq_catalog_find_id(store, *kind, ident, id, error))
            return FALSE;
        if (*id != 0)
            return TRUE;
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "recipient '%s': %s '%s' does not exist", text,
                    cq_catalog_kind_name(*kind), ident);
        return FALSE;
    }
    return TRUE;
}

typedef struct {
    CqCatalogKind kind;
    const char *sql;
    int binds;
} BareLookup;

/* A bare word: a person by identifier or login, a contact, a department.
 */
static const BareLookup bare[] = {
    {CQ_CATALOG_PERSON, "SELECT id FROM person WHERE ident = ? OR login = ?",
     2},
    {CQ_CATALOG_CONTACT, "SELECT id FROM contact WHERE ident = ?", 1},
    {CQ_CATALOG_DEPARTMENT, "SELECT id FROM department WHERE ident = ?", 1},
};

static gboolean
find_bare(CqStore *store, const char *text, CqCatalogKind *kind, gint64 *id,
          GError **error)
{
    g_autoptr(GString) found = g_string_new(NULL);
    guint hits = 0;

    for (guint i = 0; i < G_N_ELEMENTS(bare); i++) {
        gint64 hit = 0;
        CqStmt *stmt = cq_store_stmt(store, bare[i].sql, error);
        if (stmt == NULL)
            return FALSE;
        for (int b = 1; b <= bare[i].binds; b++)
            cq_stmt_bind_text(stmt, b, text);
        if (!cq_stmt_int_result(stmt, 0, &hit, error))
            return FALSE;
        if (hit == 0)
            continue;
        hits++;
        *kind = bare[i].kind;
        *id = hit;
        g_string_append_printf(found, "%s%s:%s", found->len ? ", " : "",
                               cq_catalog_kind_name(bare[i].kind), text);
    }
    if (hits == 1)
        return TRUE;
    if (hits == 0)
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "address '%s': not an address (no '@'), and no catalog "
                    "entry has this identifier or login (search with "
                    "'caqmail catalog search')",
                    text);
    else
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "recipient '%s' is ambiguous: write one of %s", text,
                    found->str);
    return FALSE;
}

static gboolean
lookup(CqStore *store, const char *text, CqCatalogKind *kind, gint64 *id,
       GError **error)
{
    gboolean matched = FALSE;

    if (strchr(text, '@') != NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "'%s' is an address, not a catalog reference", text);
        return FALSE;
    }
    if (!find_prefixed(store, text, kind, id, &matched, error))
        return FALSE;
    return matched || find_bare(store, text, kind, id, error);
}

gboolean
cq_catalog_lookup(CqSession *session, const char *text, CqCatalogKind *kind,
                  gint64 *id, GError **error)
{
    return cq_catalog_require_reader(session, error) &&
           lookup(session->store, text, kind, id, error);
}

gboolean
cq_catalog_find_person(CqSession *session, const char *what, const char *text,
                       gint64 *id, char **ident, GError **error)
{
    CqCatalogKind kind = CQ_CATALOG_PERSON;

    if (text == NULL || *text == '\0') {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID, "%s: missing", what);
        return FALSE;
    }
    if (!cq_catalog_lookup(session, text, &kind, id, error))
        return FALSE;
    if (kind != CQ_CATALOG_PERSON) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "%s '%s': is a %s, not a person", what, text,
                    cq_catalog_kind_name(kind));
        return FALSE;
    }
    g_autoptr(CqEntry) entry =
        cq_catalog_get_by_id(session, CQ_CATALOG_PERSON, *id, error);
    if (entry == NULL)
        return FALSE;
    *ident = g_strdup(entry->values[0]);
    return TRUE;
}

static const char *
member_column(CqCatalogKind kind)
{
    switch (kind) {
    case CQ_CATALOG_PERSON:
        return "person_id";
    case CQ_CATALOG_CONTACT:
        return "contact_id";
    case CQ_CATALOG_DEPARTMENT:
        return "department_id";
    case CQ_CATALOG_LIST:
        return "member_list_id";
    case CQ_CATALOG_ORGANISATION:
        break;
    }
    return NULL;
}

static gboolean
list_name(CqStore *store, gint64 id, GString *out)
{
    CqStmt *stmt =
        cq_store_stmt(store, "SELECT ident FROM dlist WHERE id = ?", NULL);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, id);
    if (cq_stmt_step(stmt, NULL) == CQ_STEP_ROW)
        g_string_append(out, cq_stmt_text(stmt, 0));
    cq_stmt_reset(stmt);
    return TRUE;
}

static GArray *
sublists(CqStore *store, gint64 list, GError **error)
{
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    CqStmt *stmt = cq_store_stmt(
        store,
        "SELECT member_list_id FROM dlist_member WHERE list_id = ?"
        " AND member_list_id IS NOT NULL ORDER BY position",
        error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt != NULL) {
        cq_stmt_bind_int(stmt, 1, list);
        while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
            gint64 id = cq_stmt_int(stmt, 0);
            g_array_append_val(ids, id);
        }
        cq_stmt_reset(stmt);
    }
    if (step != CQ_STEP_DONE)
        g_clear_pointer(&ids, g_array_unref);
    return ids;
}

static gboolean
set_cycle_error(CqStore *store, GArray *path, gint64 again, GError **error)
{
    g_autoptr(GString) text = g_string_new(NULL);
    guint start = 0;

    while (g_array_index(path, gint64, start) != again)
        start++;
    for (guint i = start; i < path->len; i++) {
        list_name(store, g_array_index(path, gint64, i), text);
        g_string_append(text, " -> ");
    }
    list_name(store, again, text);
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "distribution lists form a cycle: %s", text->str);
    return FALSE;
}

static gboolean
walk(CqStore *store, GArray *path, gint64 list, GError **error)
{
    for (guint i = 0; i < path->len; i++) {
        if (g_array_index(path, gint64, i) == list)
            return set_cycle_error(store, path, list, error);
    }
    if (path->len >= MAX_DEPTH) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "distribution lists nest deeper than %d levels", MAX_DEPTH);
        return FALSE;
    }
    g_autoptr(GArray) subs = sublists(store, list, error);
    if (subs == NULL)
        return FALSE;
    g_array_append_val(path, list);
    for (guint i = 0; i < subs->len; i++) {
        if (!walk(store, path, g_array_index(subs, gint64, i), error))
            return FALSE;
    }
    g_array_set_size(path, path->len - 1);
    return TRUE;
}

static gboolean
check_cycles(CqStore *store, gint64 list, GError **error)
{
    g_autoptr(GArray) path = g_array_new(FALSE, FALSE, sizeof(gint64));
    return walk(store, path, list, error);
}

static gboolean
insert_member(CqStore *store, gint64 list, const char *column, gint64 id,
              const char *address, GError **error)
{
    g_autofree char *sql = g_strdup_printf(
        "INSERT INTO dlist_member (list_id, position, %s) VALUES (?,"
        " (SELECT COALESCE(MAX(position), 0) + 1 FROM dlist_member"
        " WHERE list_id = ?), ?)",
        column);
    CqStmt *stmt = cq_store_stmt(store, sql, error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, list);
    cq_stmt_bind_int(stmt, 2, list);
    if (address != NULL)
        cq_stmt_bind_text(stmt, 3, address);
    else
        cq_stmt_bind_int(stmt, 3, id);
    return cq_stmt_run(stmt, error);
}

gboolean
cq_catalog_add_member(CqSession *session, gint64 list, const char *member,
                      GError **error)
{
    CqCatalogKind kind = CQ_CATALOG_PERSON;
    gint64 id = 0;
    g_autofree char *text = g_strstrip(g_strdup(member));

    if (strchr(text, '@') != NULL) {
        g_autoptr(CqAddress) address = cq_address_parse(text, error);
        if (address == NULL) {
            g_prefix_error(error, "list member: ");
            return FALSE;
        }
        return insert_member(session->store, list, "address", 0, text, error);
    }
    if (!lookup(session->store, text, &kind, &id, error))
        return FALSE;
    const char *column = member_column(kind);
    if (column == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "list member '%s': an organisation cannot be a member; "
                    "add its contacts",
                    text);
        return FALSE;
    }
    return insert_member(session->store, list, column, id, NULL, error) &&
           (kind != CQ_CATALOG_LIST ||
            check_cycles(session->store, list, error));
}

gboolean
cq_catalog_remove_member(CqSession *session, gint64 list, const char *member,
                         GError **error)
{
    CqCatalogKind kind = CQ_CATALOG_PERSON;
    gint64 id = 0;
    gboolean address = strchr(member, '@') != NULL;

    if (!address && !lookup(session->store, member, &kind, &id, error))
        return FALSE;
    g_autofree char *sql =
        g_strdup_printf("DELETE FROM dlist_member WHERE list_id = ? AND %s = ?"
                        " RETURNING id",
                        address ? "address" : member_column(kind));
    CqStmt *stmt = cq_store_stmt(session->store, sql, error);
    gint64 removed = 0;
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, list);
    if (address)
        cq_stmt_bind_text(stmt, 2, member);
    else
        cq_stmt_bind_int(stmt, 2, id);
    if (!cq_stmt_int_result(stmt, 0, &removed, error))
        return FALSE;
    if (removed != 0)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                "'%s' is not a member of the list", member);
    return FALSE;
}

gboolean
cq_catalog_check_list_cycles(CqStore *store, gint64 list, GError **error)
{
    return check_cycles(store, list, error);
}
