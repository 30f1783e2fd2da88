#include "catalog/catalog.h"

#include "catalog/fold.h"
#include "catalog/kinds.h"
#include "common/error.h"
#include "common/text.h"
#include "compose/address.h"

#include <string.h>

#define MAX_TEXT 200
#define MAX_SEARCH_WORDS 8

static const FieldDef person_fields[] = {
    {"ident", "ident", F_KEY, TRUE},
    {"name", "name", F_NAME, TRUE},
    {"email", "email", F_EMAIL, TRUE},
    {"department", "department_id", F_REF, FALSE, CQ_CATALOG_DEPARTMENT},
    {"supervisor", "supervisor_id", F_REF, FALSE, CQ_CATALOG_PERSON},
    {"language", "language", F_LANG, FALSE},
    {"login", "login", F_LOGIN, FALSE},
};
static const char *const person_names[] = {
    "ident",      "name",     "email", "department",
    "supervisor", "language", "login", NULL,
};

static const FieldDef department_fields[] = {
    {"ident", "ident", F_KEY, TRUE},
    {"name", "name", F_NAME, TRUE},
    {"email", "email", F_EMAIL, FALSE},
    {"head", "head_id", F_REF, FALSE, CQ_CATALOG_PERSON},
};
static const char *const department_names[] = {"ident", "name", "email", "head",
                                               NULL};

static const FieldDef organisation_fields[] = {
    {"ident", "ident", F_KEY, TRUE},
    {"name", "name", F_NAME, TRUE},
    {"kind", "kind", F_CHOICE, TRUE, 0, "supplier|customer"},
};
static const char *const organisation_names[] = {"ident", "name", "kind", NULL};

static const FieldDef contact_fields[] = {
    {"ident", "ident", F_KEY, TRUE},
    {"organisation", "organisation_id", F_REF, TRUE, CQ_CATALOG_ORGANISATION},
    {"name", "name", F_NAME, TRUE},
    {"email", "email", F_EMAIL, TRUE},
    {"role", "role", F_TEXT, FALSE},
};
static const char *const contact_names[] = {"ident", "organisation", "name",
                                            "email", "role",         NULL};

static const FieldDef list_fields[] = {
    {"name", "ident", F_KEY, TRUE},
    {"description", "description", F_TEXT, FALSE},
};
static const char *const list_names[] = {"name", "description", NULL};

#define KIND(n, t, f)                                                          \
    {                                                                          \
        n, t, f##_fields, G_N_ELEMENTS(f##_fields), f##_names                  \
    }

static const KindDef kinds[CQ_CATALOG_KINDS] = {
    [CQ_CATALOG_PERSON] = KIND("person", "person", person),
    [CQ_CATALOG_DEPARTMENT] = KIND("department", "department", department),
    [CQ_CATALOG_ORGANISATION] =
        KIND("organisation", "organisation", organisation),
    [CQ_CATALOG_CONTACT] = KIND("contact", "contact", contact),
    [CQ_CATALOG_LIST] = KIND("list", "dlist", list),
};

const KindDef *
cq_catalog_kind_def(CqCatalogKind kind)
{
    return &kinds[kind];
}

const char *
cq_catalog_kind_name(CqCatalogKind kind)
{
    return kinds[kind].name;
}

gboolean
cq_catalog_kind_parse(const char *name, CqCatalogKind *kind, GError **error)
{
    for (guint i = 0; i < CQ_CATALOG_KINDS; i++) {
        if (g_strcmp0(name, kinds[i].name) == 0) {
            *kind = (CqCatalogKind)i;
            return TRUE;
        }
    }
    if (g_strcmp0(name, "dept") == 0 || g_strcmp0(name, "org") == 0) {
        *kind =
            name[0] == 'd' ? CQ_CATALOG_DEPARTMENT : CQ_CATALOG_ORGANISATION;
        return TRUE;
    }
    g_set_error(error, CQ_ERROR, CQ_ERROR_USAGE,
                "'%s' is not a kind of catalog entry (person, department, "
                "organisation, contact, list)",
                name ? name : "");
    return FALSE;
}

const char *const *
cq_catalog_fields(CqCatalogKind kind)
{
    return kinds[kind].field_names;
}

guint
cq_catalog_n_fields(CqCatalogKind kind)
{
    return kinds[kind].n_fields;
}

void
cq_entry_free(CqEntry *entry)
{
    if (entry == NULL)
        return;
    g_strfreev(entry->values);
    g_strfreev(entry->members);
    g_free(entry);
}

const char *
cq_entry_get(const CqEntry *entry, const char *field)
{
    const KindDef *def = &kinds[entry->kind];
    for (guint i = 0; i < def->n_fields; i++) {
        if (strcmp(def->fields[i].name, field) == 0)
            return entry->values[i];
    }
    return NULL;
}

char *
cq_entry_ref(const CqEntry *entry)
{
    return g_strdup_printf("%s:%s", kinds[entry->kind].name, entry->values[0]);
}

gboolean
cq_catalog_require_reader(CqSession *session, GError **error)
{
    if (session->registered)
        return TRUE;
    return cq_session_require(session, CQ_PERM_SEND, "read the catalog", error);
}

gboolean
cq_catalog_find_id(CqStore *store, CqCatalogKind kind, const char *ident,
                   gint64 *id, GError **error)
{
    g_autofree char *sql =
        g_strdup_printf("SELECT id FROM %s WHERE ident = ?", kinds[kind].table);
    CqStmt *stmt = cq_store_stmt(store, sql, error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, ident);
    return cq_stmt_int_result(stmt, 0, id, error);
}

/* SELECT id, field... FROM table t; references read as identifiers. */
static char *
select_sql(const KindDef *def, const char *where)
{
    GString *sql = g_string_new("SELECT t.id");

    for (guint i = 0; i < def->n_fields; i++) {
        const FieldDef *f = &def->fields[i];
        if (f->type == F_REF)
            g_string_append_printf(
                sql, ", (SELECT r.ident FROM %s r WHERE r.id = t.%s)",
                kinds[f->ref].table, f->column);
        else
            g_string_append_printf(sql, ", t.%s", f->column);
    }
    g_string_append_printf(sql, " FROM %s t %s", def->table, where);
    return g_string_free(sql, FALSE);
}

static CqEntry *
entry_from_row(CqCatalogKind kind, CqStmt *stmt)
{
    const KindDef *def = &kinds[kind];
    CqEntry *entry = g_new0(CqEntry, 1);

    entry->kind = kind;
    entry->id = cq_stmt_int(stmt, 0);
    entry->values = g_new0(char *, def->n_fields + 1);
    for (guint i = 0; i < def->n_fields; i++) {
        const char *v = cq_stmt_text(stmt, (int)i + 1);
        entry->values[i] = g_strdup(v ? v : "");
    }
    return entry;
}

static gboolean
load_members(CqStore *store, CqEntry *entry, GError **error)
{
    g_autoptr(GStrvBuilder) refs = g_strv_builder_new();
    CqStmt *stmt =
        cq_store_stmt(store,
                      "SELECT m.address, p.ident, c.ident, d.ident, l.ident"
                      " FROM dlist_member m"
                      " LEFT JOIN person p ON p.id = m.person_id"
                      " LEFT JOIN contact c ON c.id = m.contact_id"
                      " LEFT JOIN department d ON d.id = m.department_id"
                      " LEFT JOIN dlist l ON l.id = m.member_list_id"
                      " WHERE m.list_id = ? ORDER BY m.position",
                      error);
    static const char *const prefix[] = {NULL, "person", "contact",
                                         "department", "list"};
    CqStep step = CQ_STEP_ERROR;

    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, entry->id);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        for (int col = 0; col < 5; col++) {
            const char *v = cq_stmt_text(stmt, col);
            if (v == NULL)
                continue;
            g_autofree char *ref =
                col == 0 ? g_strdup(v)
                         : g_strdup_printf("%s:%s", prefix[col], v);
            g_strv_builder_add(refs, ref);
            break;
        }
    }
    cq_stmt_reset(stmt);
    entry->members = g_strv_builder_end(refs);
    return step == CQ_STEP_DONE;
}

/* Runs a SELECT built by select_sql() and collects the entries. */
static GPtrArray *
query_entries(CqStore *store, CqCatalogKind kind, const char *where,
              const char *const *binds, GError **error)
{
    g_autofree char *sql = select_sql(&kinds[kind], where);
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_entry_free);
    CqStmt *stmt = cq_store_stmt(store, sql, error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt == NULL)
        return NULL;
    for (guint i = 0; binds && binds[i]; i++)
        cq_stmt_bind_text(stmt, (int)i + 1, binds[i]);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW)
        g_ptr_array_add(out, entry_from_row(kind, stmt));
    cq_stmt_reset(stmt);
    if (step != CQ_STEP_DONE)
        return NULL;
    for (guint i = 0; kind == CQ_CATALOG_LIST && i < out->len; i++) {
        if (!load_members(store, out->pdata[i], error))
            return NULL;
    }
    return g_steal_pointer(&out);
}

CqEntry *
cq_catalog_load(CqStore *store, CqCatalogKind kind, const char *ident,
                GError **error)
{
    g_autoptr(GPtrArray) found =
        query_entries(store, kind, "WHERE t.ident = ?",
                      (const char *const[]){ident, NULL}, error);
    if (found == NULL)
        return NULL;
    if (found->len == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "%s '%s' does not exist", kinds[kind].name, ident);
        return NULL;
    }
    return g_ptr_array_steal_index(found, 0);
}

CqEntry *
cq_catalog_get(CqSession *session, CqCatalogKind kind, const char *ident,
               GError **error)
{
    if (!cq_catalog_require_reader(session, error))
        return NULL;
    return cq_catalog_load(session->store, kind, ident, error);
}

CqEntry *
cq_catalog_get_by_id(CqSession *session, CqCatalogKind kind, gint64 id,
                     GError **error)
{
    g_autofree char *text = g_strdup_printf("%" G_GINT64_FORMAT, id);
    g_autoptr(GPtrArray) found =
        query_entries(session->store, kind, "WHERE t.id = CAST(? AS {int})",
                      (const char *const[]){text, NULL}, error);
    if (found == NULL)
        return NULL;
    if (found->len == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "%s #%" G_GINT64_FORMAT " does not exist", kinds[kind].name,
                    id);
        return NULL;
    }
    return g_ptr_array_steal_index(found, 0);
}

GPtrArray *
cq_catalog_list(CqSession *session, CqCatalogKind kind, GError **error)
{
    if (!cq_catalog_require_reader(session, error))
        return NULL;
    return query_entries(session->store, kind, "ORDER BY t.ident", NULL, error);
}

/* Entries of @kind whose search key holds every one of @words. */
static gboolean
search_kind(CqStore *store, CqCatalogKind kind, char **words, GPtrArray *out,
            GError **error)
{
    g_autoptr(GString) where = g_string_new("WHERE");
    g_autoptr(GPtrArray) patterns = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; words[i]; i++) {
        g_autofree char *escaped = cq_store_like_escape(words[i]);
        g_ptr_array_add(patterns, g_strdup_printf("%%%s%%", escaped));
        g_string_append_printf(where, "%s t.search LIKE ? ESCAPE '\\'",
                               i ? " AND" : "");
    }
    g_ptr_array_add(patterns, NULL);
    g_string_append(where, " ORDER BY t.ident");
    g_autoptr(GPtrArray) found = query_entries(
        store, kind, where->str, (const char *const *)patterns->pdata, error);
    if (found == NULL)
        return FALSE;
    for (guint i = 0; i < found->len; i++)
        g_ptr_array_add(out, g_steal_pointer(&found->pdata[i]));
    return TRUE;
}

GPtrArray *
cq_catalog_search(CqSession *session, const char *text, GError **error)
{
    if (!cq_catalog_require_reader(session, error))
        return NULL;
    g_autofree char *folded = cq_fold_strip(text);
    g_auto(GStrv) words = g_strsplit_set(g_strstrip(folded), " \t", -1);
    g_autoptr(GStrvBuilder) kept = g_strv_builder_new();
    guint n = 0;

    for (guint i = 0; words[i] && n < MAX_SEARCH_WORDS; i++) {
        if (*words[i] != '\0') {
            g_strv_builder_add(kept, words[i]);
            n++;
        }
    }
    g_auto(GStrv) query = g_strv_builder_end(kept);
    if (n == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_USAGE,
                    "search: give at least one word");
        return NULL;
    }
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_entry_free);
    for (guint k = 0; k < CQ_CATALOG_KINDS; k++) {
        if (!search_kind(session->store, (CqCatalogKind)k, query, out, error))
            return NULL;
    }
    return g_steal_pointer(&out);
}

static gboolean
check_lang(const char *value)
{
    gsize len = strlen(value);
    if (len < 2 || len > 35)
        return FALSE;
    for (const char *p = value; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-')
            return FALSE;
    }
    return g_ascii_isalpha(value[0]) && g_ascii_isalpha(value[1]);
}

static gboolean
check_text(const KindDef *kind, const FieldDef *field, const char *value,
           GError **error)
{
    g_autofree char *what = g_strdup_printf("%s %s", kind->name, field->name);
    if (!cq_text_check_header(what, value, error))
        return FALSE;
    if (g_utf8_strlen(value, -1) <= MAX_TEXT)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "%s: longer than %d characters", what, MAX_TEXT);
    return FALSE;
}

static gboolean
check_ref(CqStore *store, const FieldDef *field, const char *value,
          gint64 *ref_id, GError **error)
{
    if (!cq_catalog_find_id(store, field->ref, value, ref_id, error))
        return FALSE;
    if (*ref_id != 0)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID, "%s: %s '%s' does not exist",
                field->name, kinds[field->ref].name, value);
    return FALSE;
}

static gboolean
check_choice(const FieldDef *field, const char *value, GError **error)
{
    g_auto(GStrv) choices = g_strsplit(field->choices, "|", -1);
    if (g_strv_contains((const char *const *)choices, value))
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "%s '%s': expected one of %s", field->name, value,
                field->choices);
    return FALSE;
}

gboolean
cq_catalog_check_value(CqStore *store, const KindDef *kind,
                       const FieldDef *field, const char *value, char **out,
                       gint64 *ref_id, GError **error)
{
    *ref_id = 0;
    if (*value == '\0') {
        if (!field->required) {
            *out = g_strdup("");
            return TRUE;
        }
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "%s: the field '%s' is required", kind->name, field->name);
        return FALSE;
    }
    switch (field->type) {
    case F_KEY: {
        g_autofree char *what =
            g_strdup_printf("%s %s", kind->name, field->name);
        if (!cq_ident_check(what, value, error))
            return FALSE;
        break;
    }
    case F_NAME:
    case F_TEXT:
        if (!check_text(kind, field, value, error))
            return FALSE;
        break;
    case F_EMAIL: {
        g_autoptr(CqAddress) address = cq_address_parse(value, error);
        if (address == NULL) {
            g_prefix_error(error, "%s email: ", kind->name);
            return FALSE;
        }
        *out = cq_address_spec(address);
        return TRUE;
    }
    case F_REF:
        if (!check_ref(store, field, value, ref_id, error))
            return FALSE;
        break;
    case F_CHOICE:
        if (!check_choice(field, value, error))
            return FALSE;
        break;
    case F_LANG:
        if (!check_lang(value)) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                        "language '%s': expected a tag such as de or en-GB",
                        value);
            return FALSE;
        }
        break;
    case F_LOGIN:
        if (!cq_login_check(value, error))
            return FALSE;
        break;
    }
    *out = g_strdup(value);
    return TRUE;
}
