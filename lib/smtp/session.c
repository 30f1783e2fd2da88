#include "smtp/session.h"

#include "common/error.h"
#include "common/event.h"
#include "common/secret.h"
#include "smtp/auth.h"
#include "smtp/oauth.h"

#include <string.h>

static guint next_session_id = 1;

const char *
cq_smtp_state_name(CqSmtpState state)
{
    static const char *const names[] = {
        [SMTP_CLOSED] = "closed",     [SMTP_CONNECT] = "connect",
        [SMTP_GREETING] = "greeting", [SMTP_EHLO] = "ehlo",
        [SMTP_HELO] = "helo",         [SMTP_STARTTLS] = "starttls",
        [SMTP_AUTH] = "auth",         [SMTP_READY] = "ready",
        [SMTP_MAIL] = "mail",         [SMTP_DATA] = "data",
        [SMTP_BODY] = "body",         [SMTP_DOT] = "dot",
        [SMTP_RSET] = "rset",         [SMTP_QUIT] = "quit",
        [SMTP_BROKEN] = "broken",
    };
    return (guint)state < G_N_ELEMENTS(names) ? names[state] : "unknown";
}

void
cq_smtp_set_state(CqSmtpClient *client, CqSmtpState state)
{
    if (client->state == state)
        return;
    CqEvent *ev = cq_event_begin(CQ_LOG_DEBUG, "smtp-state");
    cq_event_addf(ev, "session", "%u", client->session);
    cq_event_add(ev, "from", cq_smtp_state_name(client->state));
    cq_event_add(ev, "to", cq_smtp_state_name(state));
    cq_event_end(ev);
    client->state = state;
}

int
cq_smtp_ms(gint64 seconds)
{
    return (int)CLAMP(seconds, 1, G_MAXINT / 1000) * 1000;
}

/* ---- settings -------------------------------------------------------- */

static gboolean
is_loopback(const char *host)
{
    return g_str_has_prefix(host, "127.") || strcmp(host, "::1") == 0 ||
           g_ascii_strcasecmp(host, "localhost") == 0;
}

static gboolean
check_tls_settings(CqSmtpClient *client, GError **error)
{
    const CqSmtpSettings *s = &client->config->smtp;

    client->implicit_tls = g_strcmp0(s->tls, "implicit") == 0;
    client->tls_required = g_strcmp0(s->tls_required, "yes") == 0 ||
                           (g_strcmp0(s->tls_required, "auto") == 0 &&
                            !is_loopback(s->host));
    if (g_strcmp0(s->tls, "none") == 0 && client->tls_required) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                    "SMTP server '%s': tls = none, but TLS is required "
                    "(set tls_required = no to send in plain text)",
                    s->host);
        return FALSE;
    }
    if (g_strcmp0(s->tls, "none") == 0)
        return TRUE;
    client->tls_context = cq_tls_context_new(s->ca_file, s->fingerprint,
                                             error);
    return client->tls_context != NULL;
}

static gboolean
check_dsn_settings(CqSmtpClient *client, GError **error)
{
    const CqSmtpSettings *s = &client->config->smtp;

    if (s->dsn_notify != NULL &&
        !cq_smtp_notify_parse(s->dsn_notify, &client->dsn_notify, error))
        return FALSE;
    client->dsn_ret = CQ_SMTP_RET_DEFAULT;
    if (g_strcmp0(s->dsn_ret, "full") == 0)
        client->dsn_ret = CQ_SMTP_RET_FULL;
    else if (g_strcmp0(s->dsn_ret, "hdrs") == 0)
        client->dsn_ret = CQ_SMTP_RET_HDRS;
    return TRUE;
}

CqSmtpClient *
cq_smtp_client_new(const CqConfig *config, GError **error)
{
    const CqSmtpSettings *s = &config->smtp;

    if (s->host == NULL || *s->host == '\0') {
        g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                    "no SMTP server configured ([smtp] host)");
        return NULL;
    }
    CqSmtpClient *client = g_new0(CqSmtpClient, 1);
    client->config = config;
    client->session = g_atomic_int_add(&next_session_id, 1);
    cq_smtp_reply_init(&client->reply);
    if (!check_tls_settings(client, error) ||
        !check_dsn_settings(client, error)) {
        cq_smtp_client_free(client);
        return NULL;
    }
    client->port = s->port ? (guint)s->port : client->implicit_tls ? 465
                                                                  : 587;
    return client;
}

/* ---- server information ---------------------------------------------- */

static void
info_clear(CqSmtpServerInfo *info)
{
    g_free(info->host);
    g_free(info->greeting);
    g_strfreev(info->ehlo_lines);
    g_strfreev(info->auth_offered);
    g_free(info->auth_used);
    g_free(info->tls_version);
    g_free(info->tls_cipher);
    g_free(info->cert_subject);
    g_free(info->cert_issuer);
    g_free(info->cert_not_after);
    g_free(info->cert_sha256);
    *info = (CqSmtpServerInfo){0};
}

static const struct {
    const char *keyword;
    CqSmtpExtension flag;
} extension_names[] = {
    {"STARTTLS", CQ_SMTP_EXT_STARTTLS},
    {"PIPELINING", CQ_SMTP_EXT_PIPELINING},
    {"SIZE", CQ_SMTP_EXT_SIZE},
    {"8BITMIME", CQ_SMTP_EXT_8BITMIME},
    {"SMTPUTF8", CQ_SMTP_EXT_SMTPUTF8},
    {"DSN", CQ_SMTP_EXT_DSN},
    {"ENHANCEDSTATUSCODES", CQ_SMTP_EXT_ENHANCEDSTATUSCODES},
    {"AUTH", CQ_SMTP_EXT_AUTH},
    {"CHUNKING", CQ_SMTP_EXT_CHUNKING},
};

static void
parse_extension(CqSmtpServerInfo *info, const char *line)
{
    g_auto(GStrv) words = g_strsplit_set(line, " =", -1);
    const char *keyword = words[0];

    if (keyword == NULL || *keyword == '\0')
        return;

    for (guint i = 0; i < G_N_ELEMENTS(extension_names); i++) {
        if (g_ascii_strcasecmp(keyword, extension_names[i].keyword) == 0)
            info->extensions |= extension_names[i].flag;
    }
    if (g_ascii_strcasecmp(keyword, "SIZE") == 0 && words[1] != NULL)
        info->max_size = g_ascii_strtoll(words[1], NULL, 10);
    if (g_ascii_strcasecmp(keyword, "AUTH") == 0) {
        GStrvBuilder *b = g_strv_builder_new();
        for (guint i = 0; info->auth_offered && info->auth_offered[i]; i++)
            g_strv_builder_add(b, info->auth_offered[i]);
        for (guint i = 1; words[i]; i++) {
            if (*words[i] != '\0') {
                g_autofree char *up = g_ascii_strup(words[i], -1);
                g_strv_builder_add(b, up);
            }
        }
        g_strfreev(info->auth_offered);
        info->auth_offered = g_strv_builder_end(b);
        g_strv_builder_unref(b);
    }
}

static void
parse_ehlo(CqSmtpServerInfo *info, const CqSmtpReply *reply)
{
    GStrvBuilder *b = g_strv_builder_new();

    info->extensions = 0;
    info->max_size = 0;
    g_clear_pointer(&info->auth_offered, g_strfreev);
    for (guint i = 1; i < reply->lines->len; i++) {
        const char *line = reply->lines->pdata[i];
        g_strv_builder_add(b, line);
        parse_extension(info, line);
    }
    g_strfreev(info->ehlo_lines);
    info->ehlo_lines = g_strv_builder_end(b);
    g_strv_builder_unref(b);
}

static void
record_tls(CqSmtpClient *client)
{
    CqTlsInfo tls;
    CqSmtpServerInfo *info = &client->info;

    cq_tls_get_info(cq_smtp_conn_get_tls(client->conn), &tls);
    info->tls = TRUE;
    info->tls_version = g_steal_pointer(&tls.version);
    info->tls_cipher = g_steal_pointer(&tls.cipher);
    info->cert_subject = g_steal_pointer(&tls.subject);
    info->cert_issuer = g_steal_pointer(&tls.issuer);
    info->cert_not_after = g_steal_pointer(&tls.not_after);
    info->cert_sha256 = g_steal_pointer(&tls.sha256);
    cq_tls_info_clear(&tls);
}

/* ---- failures -------------------------------------------------------- */

void
cq_smtp_fail_result(CqSmtpResult *result, CqSmtpStage stage,
                    const CqSmtpReply *reply, gboolean from_reply,
                    const GError *error)
{
    gboolean permanent;

    g_clear_pointer(&result->enhanced, g_free);
    g_clear_pointer(&result->text, g_free);
    result->stage = stage;
    if (from_reply) {
        result->code = reply->code;
        result->enhanced =
            reply->enhanced[0] ? g_strdup(reply->enhanced) : NULL;
        result->text = cq_smtp_reply_text(reply);
        permanent = cq_smtp_reply_is_permanent(reply);
    } else {
        result->code = 0;
        result->text = g_strdup(error ? error->message : "failed");
        permanent = error != NULL && error->domain == CQ_ERROR &&
                    (error->code == CQ_ERROR_PERMFAIL ||
                     error->code == CQ_ERROR_CONFIG ||
                     error->code == CQ_ERROR_UNAVAILABLE ||
                     error->code == CQ_ERROR_TOO_LARGE ||
                     error->code == CQ_ERROR_INVALID);
    }
    result->outcome =
        permanent ? CQ_SMTP_OUTCOME_FAILED : CQ_SMTP_OUTCOME_DEFERRED;
}

/* Sets @error from the last reply: "COMMAND: 421 4.3.2 text". */
static void
reply_error(CqSmtpClient *client, const char *command, GError **error)
{
    g_autofree char *summary = cq_smtp_reply_summary(&client->reply);
    g_set_error(error, CQ_ERROR,
                cq_smtp_reply_is_permanent(&client->reply)
                    ? CQ_ERROR_PERMFAIL
                    : CQ_ERROR_TEMPFAIL,
                "%s: %s", command, summary);
}

typedef struct {
    CqSmtpStage stage;
    gboolean from_reply; /* the failure is the last reply */
} Failure;

static gboolean
failed_io(Failure *f, CqSmtpStage stage, const char *what, GError **error)
{
    f->stage = stage;
    f->from_reply = FALSE;
    g_prefix_error(error, "%s: ", what);
    return FALSE;
}

static gboolean
failed_reply(CqSmtpClient *client, Failure *f, CqSmtpStage stage,
             const char *command, GError **error)
{
    f->stage = stage;
    f->from_reply = TRUE;
    reply_error(client, command, error);
    return FALSE;
}

/* ---- opening --------------------------------------------------------- */

static gboolean
command(CqSmtpClient *client, const char *line, gint64 timeout,
        GError **error)
{
    cq_smtp_conn_queue_line(client->conn, line, NULL);
    return cq_smtp_conn_read_reply(client->conn, &client->reply,
                                   cq_smtp_ms(timeout), error);
}

static gboolean
greet(CqSmtpClient *client, Failure *f, GError **error)
{
    const CqSmtpSettings *s = &client->config->smtp;
    CqSmtpServerInfo *info = &client->info;

    cq_smtp_set_state(client, SMTP_GREETING);
    if (!cq_smtp_conn_read_reply(client->conn, &client->reply,
                                 cq_smtp_ms(s->timeout_greeting), error))
        return failed_io(f, CQ_SMTP_STAGE_CONNECT, "greeting", error);
    if (client->reply.code != 220)
        return failed_reply(client, f, CQ_SMTP_STAGE_CONNECT, "greeting",
                            error);
    g_free(info->greeting);
    info->greeting = cq_smtp_reply_text(&client->reply);
    return TRUE;
}

static gboolean
hello(CqSmtpClient *client, Failure *f, GError **error)
{
    const CqSmtpSettings *s = &client->config->smtp;
    const char *name = s->helo_name ? s->helo_name : g_get_host_name();
    g_autofree char *ehlo = g_strdup_printf("EHLO %s", name);
    g_autofree char *helo = g_strdup_printf("HELO %s", name);

    cq_smtp_set_state(client, SMTP_EHLO);
    if (!command(client, ehlo, s->timeout_greeting, error))
        return failed_io(f, CQ_SMTP_STAGE_CONNECT, "EHLO", error);
    if (client->reply.code == 250) {
        client->info.esmtp = TRUE;
        parse_ehlo(&client->info, &client->reply);
        return TRUE;
    }
    if (client->reply.code < 500 || client->reply.code == 554)
        return failed_reply(client, f, CQ_SMTP_STAGE_CONNECT, "EHLO", error);
    cq_smtp_set_state(client, SMTP_HELO);
    if (!command(client, helo, s->timeout_greeting, error))
        return failed_io(f, CQ_SMTP_STAGE_CONNECT, "HELO", error);
    if (client->reply.code != 250)
        return failed_reply(client, f, CQ_SMTP_STAGE_CONNECT, "HELO", error);
    client->info.esmtp = FALSE;
    parse_ehlo(&client->info, &client->reply); /* clears the extensions */
    return TRUE;
}

static gboolean
handshake(CqSmtpClient *client, Failure *f, GError **error)
{
    const CqSmtpSettings *s = &client->config->smtp;

    if (!cq_smtp_conn_start_tls(client->conn, client->tls_context, s->host,
                                cq_smtp_ms(s->timeout_connect), error))
        return failed_io(f, CQ_SMTP_STAGE_TLS, "TLS", error);
    record_tls(client);
    return TRUE;
}

static gboolean
starttls(CqSmtpClient *client, Failure *f, GError **error)
{
    const CqSmtpSettings *s = &client->config->smtp;

    if (client->implicit_tls || client->tls_context == NULL)
        return TRUE;
    if (!(client->info.extensions & CQ_SMTP_EXT_STARTTLS)) {
        if (!client->tls_required)
            return TRUE;
        g_set_error(error, CQ_ERROR, CQ_ERROR_PERMFAIL,
                    "server '%s' does not offer STARTTLS, which is "
                    "required; nothing was sent", s->host);
        return failed_io(f, CQ_SMTP_STAGE_TLS, "STARTTLS", error);
    }
    cq_smtp_set_state(client, SMTP_STARTTLS);
    if (!command(client, "STARTTLS", s->timeout_greeting, error))
        return failed_io(f, CQ_SMTP_STAGE_TLS, "STARTTLS", error);
    if (client->reply.code != 220)
        return failed_reply(client, f, CQ_SMTP_STAGE_TLS, "STARTTLS",
                            error);
    return handshake(client, f, error) && hello(client, f, error);
}

static char *
fetch_secret(CqSmtpClient *client, CqSmtpCredKind kind, GError **error)
{
    const CqSmtpSettings *s = &client->config->smtp;

    if (kind == CQ_SMTP_CRED_TOKEN)
        return cq_smtp_oauth_token(client->config, FALSE, error);
    if (kind == CQ_SMTP_CRED_NONE)
        return NULL;
    char *secret = cq_secret_fetch("SMTP password", s->password_command,
                                   s->password_env, s->password, error);
    if (secret == NULL && (error == NULL || *error == NULL))
        g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                    "SMTP user '%s': no password configured", s->user);
    return secret;
}

static gboolean
have_password(const CqSmtpSettings *s)
{
    return s->password != NULL || s->password_command != NULL ||
           s->password_env != NULL;
}

static gboolean
authenticate(CqSmtpClient *client, Failure *f, GError **error)
{
    const CqSmtpSettings *s = &client->config->smtp;
    CqSmtpServerInfo *info = &client->info;

    if (s->user == NULL)
        return TRUE;
    cq_smtp_set_state(client, SMTP_AUTH);
    const char *mech = cq_smtp_auth_choose(
        info->auth_offered, s->auth_mechanisms, have_password(s),
        cq_smtp_oauth_configured(client->config), error);
    if (mech == NULL)
        return failed_io(f, CQ_SMTP_STAGE_AUTH, "AUTH", error);
    int kind = cq_smtp_auth_kind(mech);
    char *secret = fetch_secret(client, kind, error);
    if (secret == NULL && kind != CQ_SMTP_CRED_NONE)
        return failed_io(f, CQ_SMTP_STAGE_AUTH, "AUTH", error);
    CqSmtpCredentials cred = {s->user, secret, s->host, client->port};
    gboolean ok = cq_smtp_auth_run(client->conn, mech, &cred, &client->reply,
                                   cq_smtp_ms(s->timeout_greeting), error);
    cq_secret_free(secret);
    if (ok) {
        info->auth_used = g_strdup(mech);
        return TRUE;
    }
    if (kind == CQ_SMTP_CRED_TOKEN)
        cq_smtp_oauth_forget(client->config);
    f->stage = CQ_SMTP_STAGE_AUTH;
    f->from_reply = client->reply.code != 0 && client->reply.code != 334;
    return FALSE;
}

static gboolean
connect_tcp(CqSmtpClient *client, Failure *f, GError **error)
{
    const CqSmtpSettings *s = &client->config->smtp;

    cq_smtp_set_state(client, SMTP_CONNECT);
    client->conn = cq_smtp_conn_connect(s->host, client->port,
                                        client->session,
                                        cq_smtp_ms(s->timeout_connect), error);
    if (client->conn == NULL)
        return failed_io(f, CQ_SMTP_STAGE_CONNECT, "connect", error);
    cq_smtp_conn_set_write_timeout(client->conn,
                                   cq_smtp_ms(s->timeout_block));
    client->info.host = g_strdup(s->host);
    client->info.port = client->port;
    return !client->implicit_tls || handshake(client, f, error);
}

static void
log_open(CqSmtpClient *client)
{
    const CqSmtpServerInfo *info = &client->info;
    CqEvent *ev = cq_event_begin(CQ_LOG_INFO, "smtp-open");

    cq_event_addf(ev, "session", "%u", client->session);
    cq_event_add(ev, "host", info->host);
    cq_event_addf(ev, "port", "%u", info->port);
    cq_event_add(ev, "tls", info->tls ? info->tls_version : "none");
    cq_event_add(ev, "auth", info->auth_used ? info->auth_used : "none");
    cq_event_addf(ev, "extensions", "%#x", info->extensions);
    cq_event_end(ev);
}

gboolean
cq_smtp_client_open(CqSmtpClient *client, CqSmtpResult *failure,
                    GError **error)
{
    Failure f = {CQ_SMTP_STAGE_CONNECT, FALSE};
    GError *local = NULL;

    if (client->conn != NULL && client->state != SMTP_BROKEN &&
        !cq_smtp_conn_is_broken(client->conn))
        return TRUE;
    cq_smtp_client_drop(client);
    info_clear(&client->info);
    client->n_messages = 0;
    if (connect_tcp(client, &f, &local) && greet(client, &f, &local) &&
        hello(client, &f, &local) && starttls(client, &f, &local) &&
        authenticate(client, &f, &local)) {
        cq_smtp_set_state(client, SMTP_READY);
        log_open(client);
        return TRUE;
    }
    if (failure != NULL)
        cq_smtp_fail_result(failure, f.stage, &client->reply, f.from_reply,
                            local);
    g_propagate_error(error, local);
    cq_smtp_client_drop(client);
    return FALSE;
}

const CqSmtpServerInfo *
cq_smtp_client_get_info(CqSmtpClient *client)
{
    return client->info.host != NULL ? &client->info : NULL;
}

guint
cq_smtp_client_get_session_id(CqSmtpClient *client)
{
    return client->session;
}

void
cq_smtp_client_drop(CqSmtpClient *client)
{
    g_clear_pointer(&client->conn, cq_smtp_conn_free);
    cq_smtp_set_state(client, SMTP_CLOSED);
}

void
cq_smtp_client_close(CqSmtpClient *client)
{
    if (client->conn != NULL && client->state == SMTP_READY) {
        cq_smtp_set_state(client, SMTP_QUIT);
        /* The reply is waited for briefly; nothing depends on it. */
        command(client, "QUIT", 5, NULL);
    }
    cq_smtp_client_drop(client);
}

void
cq_smtp_client_free(CqSmtpClient *client)
{
    if (client == NULL)
        return;
    cq_smtp_client_close(client);
    cq_tls_context_free(client->tls_context);
    info_clear(&client->info);
    g_ptr_array_unref(client->reply.lines);
    g_free(client);
}
