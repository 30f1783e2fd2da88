#include "resolve/resolve.h"

#include "catalog/catalog.h"
#include "common/error.h"

#include <string.h>

#define MAX_DEPTH 64

void
cq_resolved_free(CqResolved *resolved)
{
    if (resolved == NULL)
        return;
    cq_address_free(resolved->address);
    g_free(resolved->source);
    g_free(resolved);
}

typedef struct {
    CqSession *session;
    GPtrArray *out;   /* of CqResolved */
    GArray *lists;    /* ids of the lists being expanded */
    GPtrArray *names; /* their names, for the cycle message */
} Walk;

static gboolean expand(Walk *walk, CqCatalogKind kind, gint64 id,
                       const char *path, GError **error);

static gboolean
add_address(Walk *walk, const char *name, const char *email, const char *source,
            GError **error)
{
    g_autoptr(CqAddress) address =
        cq_address_new(name && *name ? name : NULL, email, error);
    if (address == NULL) {
        g_prefix_error(error, "%s: ", source);
        return FALSE;
    }
    CqResolved *r = g_new0(CqResolved, 1);
    r->address = g_steal_pointer(&address);
    r->source = g_strdup(source);
    g_ptr_array_add(walk->out, r);
    return TRUE;
}

static char *
extend(const char *path, const char *kind, const char *ident)
{
    if (path == NULL)
        return g_strdup_printf("%s:%s", kind, ident);
    return g_strdup_printf("%s > %s:%s", path, kind, ident);
}

static gboolean
expand_mailbox(Walk *walk, const char *sql, const char *kind, gint64 id,
               const char *path, GError **error)
{
    CqStmt *stmt = cq_store_stmt(walk->session->store, sql, error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, id);
    if (cq_stmt_step(stmt, error) != CQ_STEP_ROW) {
        cq_stmt_reset(stmt);
        return FALSE;
    }
    g_autofree char *ident = cq_stmt_dup(stmt, 0);
    g_autofree char *name = cq_stmt_dup(stmt, 1);
    g_autofree char *email = cq_stmt_dup(stmt, 2);
    cq_stmt_reset(stmt);
    g_autofree char *source = extend(path, kind, ident);
    return add_address(walk, name, email, source, error);
}

static GArray *
collect_ids(CqStore *store, const char *sql, gint64 id, GError **error)
{
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    CqStmt *stmt = cq_store_stmt(store, sql, error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt != NULL) {
        cq_stmt_bind_int(stmt, 1, id);
        while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
            gint64 v = cq_stmt_int(stmt, 0);
            g_array_append_val(ids, v);
        }
        cq_stmt_reset(stmt);
    }
    if (step != CQ_STEP_DONE)
        g_clear_pointer(&ids, g_array_unref);
    return ids;
}

/* A department: its shared mailbox, or else every person in it. */
static gboolean
expand_department(Walk *walk, gint64 id, const char *path, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        walk->session->store,
        "SELECT ident, name, email FROM department WHERE id = ?", error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, id);
    if (cq_stmt_step(stmt, error) != CQ_STEP_ROW) {
        cq_stmt_reset(stmt);
        return FALSE;
    }
    g_autofree char *ident = cq_stmt_dup(stmt, 0);
    g_autofree char *name = cq_stmt_dup(stmt, 1);
    g_autofree char *email = cq_stmt_dup(stmt, 2);
    cq_stmt_reset(stmt);
    g_autofree char *source = extend(path, "department", ident);
    if (email != NULL)
        return add_address(walk, name, email, source, error);

    g_autoptr(GArray) people = collect_ids(
        walk->session->store,
        "SELECT id FROM person WHERE department_id = ? ORDER BY ident", id,
        error);
    if (people == NULL)
        return FALSE;
    if (people->len == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "department '%s' has neither an e-mail nor members", ident);
        return FALSE;
    }
    for (guint i = 0; i < people->len; i++) {
        if (!expand(walk, CQ_CATALOG_PERSON, g_array_index(people, gint64, i),
                    source, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
cycle_error(Walk *walk, gint64 id, const char *name, GError **error)
{
    g_autoptr(GString) text = g_string_new(NULL);
    guint start = 0;

    while (g_array_index(walk->lists, gint64, start) != id)
        start++;
    for (guint i = start; i < walk->names->len; i++)
        g_string_append_printf(text, "%s -> ", (char *)walk->names->pdata[i]);
    g_string_append(text, name);
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "distribution lists form a cycle: %s", text->str);
    return FALSE;
}

static gboolean
enter_list(Walk *walk, gint64 id, const char *name, GError **error)
{
    for (guint i = 0; i < walk->lists->len; i++) {
        if (g_array_index(walk->lists, gint64, i) == id)
            return cycle_error(walk, id, name, error);
    }
    if (walk->lists->len >= MAX_DEPTH) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "distribution list '%s' nests deeper than %d levels", name,
                    MAX_DEPTH);
        return FALSE;
    }
    g_array_append_val(walk->lists, id);
    g_ptr_array_add(walk->names, g_strdup(name));
    return TRUE;
}

static void
leave_list(Walk *walk)
{
    g_array_set_size(walk->lists, walk->lists->len - 1);
    g_ptr_array_set_size(walk->names, walk->names->len - 1);
}

typedef struct {
    CqCatalogKind kind;
    gint64 id;
    char *address;
} Member;

static void
member_clear(gpointer data)
{
    g_free(((Member *)data)->address);
}

static GArray *
list_members(CqStore *store, gint64 id, GError **error)
{
    GArray *members = g_array_new(FALSE, FALSE, sizeof(Member));
    CqStmt *stmt = cq_store_stmt(
        store,
        "SELECT person_id, contact_id, department_id, member_list_id,"
        " address FROM dlist_member WHERE list_id = ? ORDER BY position",
        error);
    static const CqCatalogKind kinds[] = {CQ_CATALOG_PERSON, CQ_CATALOG_CONTACT,
                                          CQ_CATALOG_DEPARTMENT,
                                          CQ_CATALOG_LIST};
    CqStep step = CQ_STEP_ERROR;

    g_array_set_clear_func(members, member_clear);
    if (stmt != NULL)
        cq_stmt_bind_int(stmt, 1, id);
    while (stmt != NULL && (step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        Member m = {0};
        for (int col = 0; col < 4; col++) {
            if (!cq_stmt_is_null(stmt, col)) {
                m.kind = kinds[col];
                m.id = cq_stmt_int(stmt, col);
            }
        }
        m.address = cq_stmt_dup(stmt, 4);
        g_array_append_val(members, m);
    }
    if (stmt != NULL)
        cq_stmt_reset(stmt);
    if (step != CQ_STEP_DONE)
        g_clear_pointer(&members, g_array_unref);
    return members;
}

static gboolean
expand_address(Walk *walk, const char *text, const char *path, GError **error)
{
    g_autoptr(CqAddress) address = cq_address_parse(text, error);
    if (address == NULL) {
        g_prefix_error(error, "%s: ", path);
        return FALSE;
    }
    CqResolved *r = g_new0(CqResolved, 1);
    r->address = g_steal_pointer(&address);
    r->source = g_strdup(path);
    g_ptr_array_add(walk->out, r);
    return TRUE;
}

static gboolean
expand_list(Walk *walk, gint64 id, const char *path, GError **error)
{
    CqStmt *stmt = cq_store_stmt(walk->session->store,
                                 "SELECT ident FROM dlist WHERE id = ?", error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, id);
    if (cq_stmt_step(stmt, error) != CQ_STEP_ROW) {
        cq_stmt_reset(stmt);
        return FALSE;
    }
    g_autofree char *name = cq_stmt_dup(stmt, 0);
    cq_stmt_reset(stmt);
    if (!enter_list(walk, id, name, error))
        return FALSE;

    g_autofree char *source = extend(path, "list", name);
    g_autoptr(GArray) members = list_members(walk->session->store, id, error);
    gboolean ok = members != NULL;
    for (guint i = 0; ok && i < members->len; i++) {
        Member *m = &g_array_index(members, Member, i);
        ok = m->address != NULL
                 ? expand_address(walk, m->address, source, error)
                 : expand(walk, m->kind, m->id, source, error);
    }
    leave_list(walk);
    return ok;
}

static gboolean
expand(Walk *walk, CqCatalogKind kind, gint64 id, const char *path,
       GError **error)
{
    switch (kind) {
    case CQ_CATALOG_PERSON:
        return expand_mailbox(
            walk, "SELECT ident, name, email FROM person WHERE id = ?",
            "person", id, path, error);
    case CQ_CATALOG_CONTACT:
        return expand_mailbox(
            walk, "SELECT ident, name, email FROM contact WHERE id = ?",
            "contact", id, path, error);
    case CQ_CATALOG_DEPARTMENT:
        return expand_department(walk, id, path, error);
    case CQ_CATALOG_LIST:
        return expand_list(walk, id, path, error);
    case CQ_CATALOG_ORGANISATION:
        break;
    }
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "an organisation is no recipient: name its contacts");
    return FALSE;
}

GPtrArray *
cq_resolve_reference(CqSession *session, const char *reference, GError **error)
{
    CqCatalogKind kind = CQ_CATALOG_PERSON;
    gint64 id = 0;
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_resolved_free);
    g_autoptr(GArray) lists = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    Walk walk = {session, out, lists, names};

    if (!cq_catalog_lookup(session, reference, &kind, &id, error) ||
        !expand(&walk, kind, id, NULL, error))
        return NULL;
    if (out->len == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "recipient '%s' resolves to no address", reference);
        return NULL;
    }
    return g_steal_pointer(&out);
}

/* Splits @item at the commas that are outside quotes, comments and angle
 * brackets. */
static GPtrArray *
split_item(const char *item)
{
    GPtrArray *pieces = g_ptr_array_new_with_free_func(g_free);
    gboolean quoted = FALSE;
    int depth = 0;
    const char *start = item;

    for (const char *p = item;; p++) {
        if (*p == '\\' && quoted && p[1] != '\0') {
            p++;
            continue;
        }
        if (*p == '"')
            quoted = !quoted;
        else if (!quoted && (*p == '<' || *p == '('))
            depth++;
        else if (!quoted && (*p == '>' || *p == ')') && depth > 0)
            depth--;
        if (*p == '\0' || (*p == ',' && !quoted && depth == 0)) {
            char *piece = g_strstrip(g_strndup(start, (gsize)(p - start)));
            if (*piece != '\0')
                g_ptr_array_add(pieces, piece);
            else
                g_free(piece);
            if (*p == '\0')
                break;
            start = p + 1;
        }
    }
    return pieces;
}

static gboolean
is_reference(const char *piece)
{
    return strchr(piece, '@') == NULL;
}

gboolean
cq_resolve_needs_catalog(const char *item)
{
    g_autoptr(GPtrArray) pieces = split_item(item);
    for (guint i = 0; i < pieces->len; i++) {
        if (is_reference(pieces->pdata[i]))
            return TRUE;
    }
    return FALSE;
}

static gboolean
add_reference(CqSession *session, CqMessage *message, CqRecipientKind kind,
              const char *reference, GError **error)
{
    if (session == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "address '%s': not an address, and no catalog is open",
                    reference);
        return FALSE;
    }
    g_autoptr(GPtrArray) found =
        cq_resolve_reference(session, reference, error);
    if (found == NULL)
        return FALSE;
    for (guint i = 0; i < found->len; i++) {
        CqResolved *r = found->pdata[i];
        cq_message_add_address(message, kind, r->address, r->source);
    }
    return TRUE;
}

static gboolean
add_item(CqSession *session, CqMessage *message, CqRecipientKind kind,
         const char *item, GError **error)
{
    if (!cq_resolve_needs_catalog(item))
        return cq_message_add_recipients(message, kind, item, NULL, error);

    g_autoptr(GPtrArray) pieces = split_item(item);
    for (guint i = 0; i < pieces->len; i++) {
        const char *piece = pieces->pdata[i];
        gboolean ok =
            is_reference(piece)
                ? add_reference(session, message, kind, piece, error)
                : cq_message_add_recipients(message, kind, piece, NULL, error);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

gboolean
cq_resolve_add(CqSession *session, CqMessage *message, CqRecipientKind kind,
               const char *const *items, GError **error)
{
    guint before = message->recipients->len;

    for (guint i = 0; items && items[i]; i++) {
        if (!add_item(session, message, kind, items[i], error)) {
            g_ptr_array_set_size(message->recipients, before);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
cq_resolve_copy_to_sender(CqSession *session, CqMessage *message,
                          GError **error)
{
    if (session != NULL) {
        CqStmt *stmt = cq_store_stmt(
            session->store,
            "SELECT ident, name, email FROM person WHERE login = ?", error);
        if (stmt == NULL)
            return FALSE;
        cq_stmt_bind_text(stmt, 1, session->login);
        if (cq_stmt_step(stmt, NULL) == CQ_STEP_ROW) {
            g_autoptr(CqAddress) a = cq_address_new(
                cq_stmt_text(stmt, 1), cq_stmt_text(stmt, 2), NULL);
            g_autofree char *source = g_strdup_printf(
                "copy-to-sender > person:%s", cq_stmt_text(stmt, 0));
            cq_stmt_reset(stmt);
            if (a != NULL) {
                cq_message_add_address(message, CQ_RCPT_BCC, a, source);
                return TRUE;
            }
        }
        cq_stmt_reset(stmt);
    }
    if (message->from == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "copy to sender: the message has no sender");
        return FALSE;
    }
    cq_message_add_address(message, CQ_RCPT_BCC, message->from,
                           "copy-to-sender");
    return TRUE;
}

guint
cq_resolve_dedup(CqMessage *message)
{
    g_autoptr(GHashTable) first =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GPtrArray *rcpts = message->recipients;
    guint removed = 0;

    for (guint i = 0; i < rcpts->len;) {
        CqRecipient *r = rcpts->pdata[i];
        char *key = cq_address_key(r->address);
        CqRecipient *kept = g_hash_table_lookup(first, key);
        if (kept == NULL) {
            g_hash_table_insert(first, key, r);
            i++;
            continue;
        }
        g_free(key);
        if (r->kind < kept->kind)
            kept->kind = r->kind;
        g_ptr_array_remove_index(rcpts, i);
        removed++;
    }
    return removed;
}

char *
cq_resolve_default_sender(CqSession *session, const CqConfig *config)
{
    if (config->message.from != NULL)
        return g_strdup(config->message.from);
    if (session != NULL) {
        g_autoptr(CqUser) user = cq_user_get(session, session->login, NULL);
        if (user != NULL && user->email != NULL)
            return g_strdup(user->email);
    }
    return g_strdup_printf("%s@%s", g_get_user_name(), g_get_host_name());
}
