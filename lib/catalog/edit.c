/* Changing the catalog: add, edit, remove, list members, and finding the
 * entry a reference names. */
#include "catalog/catalog.h"

#include "catalog/fold.h"
#include "catalog/kinds.h"
#include "common/error.h"
#include "compose/address.h"

#include <string.h>

static const char *
ref_name_sql(CqCatalogKind kind)
{
    switch (kind) {
    case CQ_CATALOG_PERSON:
        return "SELECT name FROM person WHERE id = ?";
    case CQ_CATALOG_DEPARTMENT:
        return "SELECT name FROM department WHERE id = ?";
    case CQ_CATALOG_ORGANISATION:
        return "SELECT name FROM organisation WHERE id = ?";
    case CQ_CATALOG_CONTACT:
        return "SELECT name FROM contact WHERE id = ?";
    case CQ_CATALOG_LIST:
        break;
    }
    return "SELECT ident FROM dlist WHERE id = ?";
}

/* The search key: every value folded, and the name of the department or
 * organisation an entry belongs to.  Pointers at persons (supervisor,
 * head) are left out: searching a name finds that person only. */
static gboolean
search_key(CqStore *store, const KindDef *def, char **values,
           const gint64 *refs, char **key, GError **error)
{
    g_autoptr(GString) out = g_string_new(NULL);

    for (guint i = 0; i < def->n_fields; i++) {
        const FieldDef *f = &def->fields[i];
        if (f->type == F_REF && f->ref == CQ_CATALOG_PERSON)
            continue;
        cq_fold_add_key(out, values[i]);
        if (refs[i] == 0)
            continue;
        CqStmt *stmt =
            cq_store_stmt(store, ref_name_sql(def->fields[i].ref), error);
        if (stmt == NULL)
            return FALSE;
        cq_stmt_bind_int(stmt, 1, refs[i]);
        if (cq_stmt_step(stmt, error) == CQ_STEP_ROW)
            cq_fold_add_key(out, cq_stmt_text(stmt, 0));
        cq_stmt_reset(stmt);
    }
    *key = g_string_free(g_steal_pointer(&out), FALSE);
    return TRUE;
}

static char *
write_sql(const KindDef *def, gboolean insert)
{
    GString *sql = g_string_new(NULL);

    if (insert) {
        g_string_printf(sql, "INSERT INTO %s (", def->table);
        for (guint i = 0; i < def->n_fields; i++)
            g_string_append_printf(sql, "%s, ", def->fields[i].column);
        g_string_append(sql, "search) VALUES (");
        for (guint i = 0; i < def->n_fields; i++)
            g_string_append(sql, "?, ");
        g_string_append(sql, "?) {returning_id}");
    } else {
        g_string_printf(sql, "UPDATE %s SET ", def->table);
        for (guint i = 0; i < def->n_fields; i++)
            g_string_append_printf(sql, "%s = ?, ", def->fields[i].column);
        g_string_append(sql, "search = ? WHERE id = ?");
    }
    return g_string_free(sql, FALSE);
}

static gboolean
check_values(CqStore *store, const KindDef *def, char **values, char **checked,
             gint64 *refs, GError **error)
{
    for (guint i = 0; i < def->n_fields; i++) {
        if (!cq_catalog_check_value(store, def, &def->fields[i], values[i],
                                    &checked[i], &refs[i], error))
            return FALSE;
    }
    return TRUE;
}

/* A login names one person: asked before writing, so that the error
 * names the holder and the transaction goes on (an import reports every
 * bad line). */
static gboolean
check_logins(CqStore *store, const KindDef *def, char **checked, gint64 id,
             GError **error)
{
    for (guint i = 0; i < def->n_fields; i++) {
        const FieldDef *f = &def->fields[i];
        if (f->type != F_LOGIN || *checked[i] == '\0')
            continue;
        g_autofree char *sql =
            g_strdup_printf("SELECT ident FROM %s WHERE %s = ? AND id <> ?",
                            def->table, f->column);
        g_autofree char *holder = NULL;
        CqStmt *stmt = cq_store_stmt(store, sql, error);
        if (stmt == NULL)
            return FALSE;
        cq_stmt_bind_text(stmt, 1, checked[i]);
        cq_stmt_bind_int(stmt, 2, id);
        CqStep step = cq_stmt_step(stmt, error);
        if (step == CQ_STEP_ROW)
            holder = cq_stmt_dup(stmt, 0);
        cq_stmt_reset(stmt);
        if (step == CQ_STEP_ERROR)
            return FALSE;
        if (holder != NULL) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                        "%s '%s' belongs to %s '%s' already", f->name,
                        checked[i], def->name, holder);
            return FALSE;
        }
    }
    return TRUE;
}

static void
bind_values(CqStmt *stmt, const KindDef *def, char **checked,
            const gint64 *refs)
{
    for (guint i = 0; i < def->n_fields; i++) {
        int index = (int)i + 1;
        if (def->fields[i].type == F_REF && refs[i] != 0)
            cq_stmt_bind_int(stmt, index, refs[i]);
        else if (*checked[i] == '\0')
            cq_stmt_bind_null(stmt, index);
        else
            cq_stmt_bind_text(stmt, index, checked[i]);
    }
}

gboolean
cq_catalog_write(CqStore *store, CqCatalogKind kind, gint64 *id, char **values,
                 GError **error)
{
    const KindDef *def = cq_catalog_kind_def(kind);
    g_auto(GStrv) checked = g_new0(char *, def->n_fields + 1);
    g_autofree gint64 *refs = g_new0(gint64, def->n_fields);
    g_autofree char *key = NULL;

    if (!check_values(store, def, values, checked, refs, error) ||
        !check_logins(store, def, checked, *id, error) ||
        !search_key(store, def, checked, refs, &key, error))
        return FALSE;
    g_autofree char *sql = write_sql(def, *id == 0);
    CqStmt *stmt = cq_store_stmt(store, sql, error);
    if (stmt == NULL)
        return FALSE;
    bind_values(stmt, def, checked, refs);
    cq_stmt_bind_text(stmt, (int)def->n_fields + 1, key);
    if (*id == 0)
        return cq_stmt_insert_id(stmt, id, error);
    cq_stmt_bind_int(stmt, (int)def->n_fields + 2, *id);
    return cq_stmt_run(stmt, error);
}

static int
field_index(const KindDef *def, const char *name, GError **error)
{
    for (guint i = 0; i < def->n_fields; i++) {
        if (strcmp(def->fields[i].name, name) == 0)
            return (int)i;
    }
    g_autofree char *known = g_strjoinv(", ", (char **)def->field_names);
    g_set_error(error, CQ_ERROR, CQ_ERROR_USAGE,
                "%s has no field '%s' (fields: %s)", def->name, name, known);
    return -1;
}

static gboolean
apply_fields(const KindDef *def, char **values, const CqField *fields, guint n,
             GError **error)
{
    for (guint i = 0; i < n; i++) {
        int index = field_index(def, fields[i].name, error);
        if (index < 0)
            return FALSE;
        g_free(values[index]);
        values[index] =
            g_strstrip(g_strdup(fields[i].value ? fields[i].value : ""));
    }
    return TRUE;
}

/* Re-computes the search keys of entries that point at @id of @kind, as
 * they contain its name. */
static gboolean refresh_referrers(CqStore *store, CqCatalogKind kind, gint64 id,
                                  GError **error);

static gboolean
finish(CqStore *store, gboolean ok, GError **error)
{
    if (!ok) {
        cq_store_rollback(store);
        return FALSE;
    }
    return cq_store_commit(store, error);
}

static gboolean
add_members(CqSession *session, gint64 list, const char *const *members,
            GError **error)
{
    for (guint i = 0; members && members[i]; i++) {
        if (!cq_catalog_add_member(session, list, members[i], error))
            return FALSE;
    }
    return TRUE;
}

gboolean
cq_catalog_add(CqSession *session, CqCatalogKind kind, const CqField *fields,
               guint n_fields, const char *const *members, GError **error)
{
    const KindDef *def = cq_catalog_kind_def(kind);
    g_auto(GStrv) values = g_new0(char *, def->n_fields + 1);
    gint64 id = 0;

    if (!cq_session_require(session, CQ_PERM_EDIT_CATALOG, "edit the catalog",
                            error))
        return FALSE;
    for (guint i = 0; i < def->n_fields; i++)
        values[i] = g_strdup("");
    if (!apply_fields(def, values, fields, n_fields, error))
        return FALSE;
    if (members != NULL && members[0] != NULL && kind != CQ_CATALOG_LIST) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_USAGE, "only a list has members");
        return FALSE;
    }
    if (!cq_store_begin(session->store, CQ_TX_WRITE, error))
        return FALSE;
    gboolean ok =
        cq_catalog_find_id(session->store, kind, values[0], &id, error);
    if (ok && id != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID, "%s '%s' already exists",
                    def->name, values[0]);
        ok = FALSE;
    }
    ok = ok && cq_catalog_write(session->store, kind, &id, values, error) &&
         add_members(session, id, members, error);
    return finish(session->store, ok, error);
}

gboolean
cq_catalog_edit(CqSession *session, CqCatalogKind kind, const char *ident,
                const CqField *fields, guint n_fields, const char *const *add,
                const char *const *remove, GError **error)
{
    const KindDef *def = cq_catalog_kind_def(kind);

    if (!cq_session_require(session, CQ_PERM_EDIT_CATALOG, "edit the catalog",
                            error) ||
        !cq_store_begin(session->store, CQ_TX_WRITE, error))
        return FALSE;
    g_autoptr(CqEntry) entry =
        cq_catalog_load(session->store, kind, ident, error);
    gboolean ok = entry != NULL &&
                  apply_fields(def, entry->values, fields, n_fields, error);
    if (ok && ((add && add[0]) || (remove && remove[0])) &&
        kind != CQ_CATALOG_LIST) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_USAGE, "only a list has members");
        ok = FALSE;
    }
    ok = ok &&
         cq_catalog_write(session->store, kind, &entry->id, entry->values,
                          error) &&
         refresh_referrers(session->store, kind, entry->id, error);
    for (guint i = 0; ok && remove && remove[i]; i++)
        ok = cq_catalog_remove_member(session, entry->id, remove[i], error);
    ok = ok && add_members(session, entry->id, add, error);
    return finish(session->store, ok, error);
}

gboolean
cq_catalog_remove(CqSession *session, CqCatalogKind kind, const char *ident,
                  GError **error)
{
    const KindDef *def = cq_catalog_kind_def(kind);
    gint64 id = 0;
    g_autoptr(GError) local = NULL;

    if (!cq_session_require(session, CQ_PERM_EDIT_CATALOG, "edit the catalog",
                            error) ||
        !cq_store_begin(session->store, CQ_TX_WRITE, error))
        return FALSE;
    gboolean ok = cq_catalog_find_id(session->store, kind, ident, &id, error);
    if (ok && id == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "%s '%s' does not exist", def->name, ident);
        ok = FALSE;
    }
    g_autofree char *sql =
        g_strdup_printf("DELETE FROM %s WHERE id = ?", def->table);
    CqStmt *stmt = ok ? cq_store_stmt(session->store, sql, error) : NULL;
    if (stmt != NULL) {
        cq_stmt_bind_int(stmt, 1, id);
        ok = cq_stmt_run(stmt, &local);
        if (!ok && g_error_matches(local, CQ_ERROR, CQ_ERROR_INVALID))
            g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                        "%s '%s' is still in use (by a department, person, "
                        "contact or list); change those first",
                        def->name, ident);
        else if (!ok)
            g_propagate_error(error, g_steal_pointer(&local));
    }
    return finish(session->store, ok && stmt != NULL, error);
}

static gboolean
refresh_referrers(CqStore *store, CqCatalogKind kind, gint64 id, GError **error)
{
    for (guint k = 0; k < CQ_CATALOG_KINDS; k++) {
        const KindDef *def = cq_catalog_kind_def((CqCatalogKind)k);
        for (guint f = 0; f < def->n_fields; f++) {
            const FieldDef *field = &def->fields[f];
            if (field->type != F_REF || field->ref != kind)
                continue;
            g_autofree char *sql = g_strdup_printf(
                "SELECT ident FROM %s WHERE %s = ?", def->table, field->column);
            CqStmt *stmt = cq_store_stmt(store, sql, error);
            g_autoptr(GStrvBuilder) b = g_strv_builder_new();
            if (stmt == NULL)
                return FALSE;
            cq_stmt_bind_int(stmt, 1, id);
            while (cq_stmt_step(stmt, NULL) == CQ_STEP_ROW)
                g_strv_builder_add(b, cq_stmt_text(stmt, 0));
            cq_stmt_reset(stmt);
            g_auto(GStrv) idents = g_strv_builder_end(b);
            for (guint i = 0; idents[i]; i++) {
                g_autoptr(CqEntry) e =
                    cq_catalog_load(store, (CqCatalogKind)k, idents[i], error);
                if (e == NULL || !cq_catalog_write(store, (CqCatalogKind)k,
                                                   &e->id, e->values, error))
                    return FALSE;
            }
        }
    }
    return TRUE;
}
