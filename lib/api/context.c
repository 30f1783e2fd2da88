/* Contexts, errors, events and the check of the SMTP server: the parts of
 * the public API that need no mail. */
#include "api/api.h"

#include "caqmail-build.h"
#include "common/error.h"
#include "common/event.h"
#include "smtp/client.h"

G_STATIC_ASSERT((int)CAQMAIL_ERROR_FAILED == (int)CQ_ERROR_FAILED);
G_STATIC_ASSERT((int)CAQMAIL_ERROR_USAGE == (int)CQ_ERROR_USAGE);
G_STATIC_ASSERT((int)CAQMAIL_ERROR_INVALID == (int)CQ_ERROR_INVALID);
G_STATIC_ASSERT((int)CAQMAIL_ERROR_NOINPUT == (int)CQ_ERROR_NOINPUT);
G_STATIC_ASSERT((int)CAQMAIL_ERROR_CONFIG == (int)CQ_ERROR_CONFIG);
G_STATIC_ASSERT((int)CAQMAIL_ERROR_IO == (int)CQ_ERROR_IO);
G_STATIC_ASSERT((int)CAQMAIL_ERROR_NOT_FOUND == (int)CQ_ERROR_NOT_FOUND);
G_STATIC_ASSERT((int)CAQMAIL_ERROR_PERMISSION == (int)CQ_ERROR_PERMISSION);
G_STATIC_ASSERT((int)CAQMAIL_ERROR_UNAVAILABLE == (int)CQ_ERROR_UNAVAILABLE);
G_STATIC_ASSERT((int)CAQMAIL_ERROR_TEMPFAIL == (int)CQ_ERROR_TEMPFAIL);
G_STATIC_ASSERT((int)CAQMAIL_ERROR_PERMFAIL == (int)CQ_ERROR_PERMFAIL);
G_STATIC_ASSERT((int)CAQMAIL_ERROR_PROTOCOL == (int)CQ_ERROR_PROTOCOL);
G_STATIC_ASSERT((int)CAQMAIL_ERROR_TOO_LARGE == (int)CQ_ERROR_TOO_LARGE);
G_STATIC_ASSERT((int)CAQMAIL_LOG_DEBUG == (int)CQ_LOG_DEBUG);

const char *
caqmail_version(void)
{
    return CAQMAIL_VERSION;
}

/* The public domain is the library's own: codes need no translation. */
GQuark
caqmail_error_quark(void)
{
    return cq_error_quark();
}

int
caqmail_error_exit_code(const GError *error)
{
    return cq_error_exit_code(error);
}

gboolean
cq_api_fail(GError **error)
{
    if (error == NULL || *error == NULL || (*error)->domain == CQ_ERROR)
        return FALSE;
    int code =
        (*error)->domain == G_IO_ERROR || (*error)->domain == G_FILE_ERROR
            ? CQ_ERROR_IO
            : CQ_ERROR_FAILED;
    GError *mapped = g_error_new_literal(CQ_ERROR, code, (*error)->message);
    g_error_free(*error);
    *error = mapped;
    return FALSE;
}

/* ---- events ------------------------------------------------------------ */

static CaqmailLogFunc log_func;
static void *log_data;

static void
forward_event(CqLogLevel level, const char *line, gpointer data)
{
    log_func((CaqmailLogLevel)level, line, data);
}

void
caqmail_set_log_handler(CaqmailLogLevel max_level, CaqmailLogFunc func,
                        void *user_data)
{
    log_func = func;
    log_data = user_data;
    cq_event_set_handler((CqLogLevel)max_level, func ? forward_event : NULL,
                         log_data);
}

/* ---- contexts ---------------------------------------------------------- */

CaqmailContext *
caqmail_context_open(const char *config_path, GError **error)
{
    CqConfig *config = cq_config_load(config_path, error);
    if (config == NULL) {
        cq_api_fail(error);
        return NULL;
    }
    CaqmailContext *context = g_new0(CaqmailContext, 1);
    context->config = config;
    context->login = cq_os_login();
    return context;
}

CqSession *
cq_api_session(CaqmailContext *context, GError **error)
{
    if (context->session == NULL) {
        context->session = cq_session_open_config(context->config, NULL, error);
        if (context->session == NULL)
            cq_api_fail(error);
    }
    return context->session;
}

gboolean
cq_api_session_as(CaqmailContext *context, const char *login,
                  CqSession **session, CqSession **owned, GError **error)
{
    CqSession *own = cq_api_session(context, error);

    *session = own;
    *owned = NULL;
    if (own == NULL)
        return FALSE;
    if (login == NULL || g_strcmp0(login, own->login) == 0)
        return TRUE;
    *owned = cq_session_derive(own, login, error);
    *session = *owned;
    return *owned != NULL || cq_api_fail(error);
}

CaqmailContext *
caqmail_context_act_as(CaqmailContext *context, const char *login,
                       GError **error)
{
    g_return_val_if_fail(context != NULL, NULL);
    CqSession *session = NULL, *owned = NULL;

    if (!cq_api_session_as(context, login, &session, &owned, error))
        return NULL;
    if (owned == NULL)
        owned = cq_session_derive(session, NULL, error);
    if (owned == NULL) {
        cq_api_fail(error);
        return NULL;
    }
    CaqmailContext *derived = g_new0(CaqmailContext, 1);
    derived->config = context->config;
    derived->parent = context;
    derived->session = owned;
    derived->login = g_strdup(owned->login);
    return derived;
}

void
caqmail_context_free(CaqmailContext *context)
{
    if (context == NULL)
        return;
    cq_session_free(context->session);
    if (context->parent == NULL)
        cq_config_free(context->config);
    g_free(context->login);
    g_free(context);
}

const char *
caqmail_context_get_login(CaqmailContext *context)
{
    return context->login;
}

/* ---- the SMTP server --------------------------------------------------- */

struct _CaqmailServerInfo {
    GHashTable *values; /* key -> value, both owned */
    char **extensions;
};

static void
info_put(CaqmailServerInfo *info, const char *key, const char *value)
{
    if (value != NULL)
        g_hash_table_insert(info->values, g_strdup(key), g_strdup(value));
}

static CaqmailServerInfo *
info_from_client(const CqSmtpServerInfo *s)
{
    CaqmailServerInfo *info = g_new0(CaqmailServerInfo, 1);
    g_autofree char *port = g_strdup_printf("%u", s->port);
    g_autofree char *offered =
        s->auth_offered ? g_strjoinv(" ", s->auth_offered) : NULL;

    info->values =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    info_put(info, "host", s->host);
    info_put(info, "port", port);
    info_put(info, "greeting", s->greeting);
    info_put(info, "esmtp", s->esmtp ? "yes" : "no");
    info_put(info, "tls", s->tls ? "yes" : "no");
    info_put(info, "tls-version", s->tls_version);
    info_put(info, "tls-cipher", s->tls_cipher);
    info_put(info, "cert-subject", s->cert_subject);
    info_put(info, "cert-issuer", s->cert_issuer);
    info_put(info, "cert-not-after", s->cert_not_after);
    info_put(info, "cert-sha256", s->cert_sha256);
    info_put(info, "auth-used", s->auth_used);
    info_put(info, "auth-offered", offered);
    info->extensions = g_strdupv(s->ehlo_lines);
    if (info->extensions == NULL)
        info->extensions = g_new0(char *, 1);
    return info;
}

gboolean
caqmail_smtp_check(CaqmailContext *context, CaqmailServerInfo **info,
                   GError **error)
{
    g_autoptr(CqSmtpClient) client = NULL;

    *info = NULL;
    client = cq_smtp_client_new(context->config, error);
    if (client == NULL)
        return cq_api_fail(error);
    gboolean ok = cq_smtp_client_open(client, NULL, error);
    const CqSmtpServerInfo *s = cq_smtp_client_get_info(client);
    if (s != NULL && s->greeting != NULL)
        *info = info_from_client(s);
    return ok || cq_api_fail(error);
}

void
caqmail_server_info_free(CaqmailServerInfo *info)
{
    if (info == NULL)
        return;
    g_hash_table_unref(info->values);
    g_strfreev(info->extensions);
    g_free(info);
}

const char *
caqmail_server_info_get(const CaqmailServerInfo *info, const char *key)
{
    return g_hash_table_lookup(info->values, key);
}

const char *const *
caqmail_server_info_get_extensions(const CaqmailServerInfo *info)
{
    return (const char *const *)info->extensions;
}
