/* Contexts for people who signed in to a front end, and their
 * passwords. */
#include "api/api.h"

#include "common/error.h"
#include "api/password.h"
#include "api/views.h"

#include "catalog/catalog.h"

#include <string.h>

/* A context acting for @login over @context's database, with no
 * operator named: the person signed in. */
static CaqmailContext *
context_for(CaqmailContext *context, const char *login, GError **error)
{
    CqSession *base = cq_api_session(context, error);
    if (base == NULL)
        return NULL;
    if (!cq_login_check(login, error))
        return NULL;
    if (g_strcmp0(base->login, login) != 0 &&
        !cq_session_require(base, CQ_PERM_ADMIN,
                            "act for the users who sign in", error))
        return NULL;
    CqSession *session = cq_session_derive(base, login, error);
    if (session == NULL) {
        if (error && *error && (*error)->code == CQ_ERROR_NOT_FOUND)
            (*error)->code = CQ_ERROR_PERMISSION;
        return NULL;
    }
    g_clear_pointer(&session->operator, g_free);
    CaqmailContext *derived = g_new0(CaqmailContext, 1);
    derived->config = context->config;
    derived->parent = context;
    derived->session = session;
    derived->login = g_strdup(login);
    return derived;
}

CaqmailContext *
caqmail_context_for_user(CaqmailContext *context, const char *login,
                         GError **error)
{
    g_return_val_if_fail(context != NULL, NULL);
    CaqmailContext *derived = context_for(context, login, error);
    if (derived == NULL)
        cq_api_fail(error);
    return derived;
}

CaqmailContext *
caqmail_context_sign_in(CaqmailContext *context, const char *login,
                        const char *password, GError **error)
{
    g_return_val_if_fail(context != NULL, NULL);
    CqSession *base = cq_api_session(context, error);
    if (base == NULL ||
        !cq_password_check(base->store, login, password, error)) {
        cq_api_fail(error);
        return NULL;
    }
    return caqmail_context_for_user(context, login, error);
}

gboolean
caqmail_password_set(CaqmailContext *context, const char *login,
                     const char *password, GError **error)
{
    g_return_val_if_fail(context != NULL, FALSE);
    CqSession *session = cq_api_session(context, error);
    return (session != NULL &&
            cq_password_set(session, login, password, error)) ||
           cq_api_fail(error);
}

gboolean
caqmail_context_may(CaqmailContext *context, const char *permission)
{
    g_return_val_if_fail(context != NULL, FALSE);
    CqSession *session = cq_api_session(context, NULL);
    for (guint bit = 1; session && bit <= CQ_PERM_ADMIN; bit <<= 1) {
        if (g_strcmp0(cq_permission_name(bit), permission) == 0)
            return cq_session_may(session, bit);
    }
    return FALSE;
}

char *
caqmail_json_user(CaqmailContext *context, GError **error)
{
    g_return_val_if_fail(context != NULL, NULL);
    CqSession *s = cq_api_session(context, error);
    g_autoptr(CqUser) u = s ? cq_user_get(s, s->login, error) : NULL;
    g_autoptr(CqEntry) person = NULL;

    if (u == NULL) {
        cq_api_fail(error);
        return NULL;
    }
    if (u->person != NULL)
        person = cq_catalog_get(s, CQ_CATALOG_PERSON, u->person, NULL);
    const char *lang = person ? cq_entry_get(person, "language") : NULL;
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    cq_view_string(b, "login", s->login);
    cq_view_string(b, "name", person ? cq_entry_get(person, "name") : NULL);
    cq_view_string(b, "email", u->email);
    cq_view_string(b, "language", lang && *lang ? lang : NULL);
    json_builder_set_member_name(b, "permissions");
    json_builder_begin_array(b);
    for (guint bit = 1; bit <= CQ_PERM_ADMIN; bit <<= 1) {
        if (s->permissions & bit)
            json_builder_add_string_value(b, cq_permission_name(bit));
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    return cq_view_finish(b);
}
