/* Sign-in: sessions in cookies, CSRF tokens, the login rate limit and
 * sign-in by a trusted reverse proxy. */
#include "web/web.h"

#include <sodium.h>
#include <string.h>

#define COOKIE "caqmail_session"
#define TOKEN_BYTES 32

typedef struct {
    guint count;
    gint64 since; /* monotonic microseconds of the first failure */
} WebFailures;

char *
web_random_token(void)
{
    guchar raw[TOKEN_BYTES];
    char *hex = g_malloc(TOKEN_BYTES * 2 + 1);

    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(hex, TOKEN_BYTES * 2 + 1, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    return hex;
}

void
web_session_free(WebSession *session)
{
    if (session == NULL)
        return;
    g_free(session->token);
    g_free(session->login);
    g_free(session->csrf);
    g_free(session);
}

void
web_failures_free(gpointer failures)
{
    g_free(failures);
}

static char *
cookie_value(SoupServerMessage *msg)
{
    const char *header = soup_message_headers_get_one(
        soup_server_message_get_request_headers(msg), "Cookie");
    g_auto(GStrv) items = g_strsplit(header ? header : "", ";", -1);

    for (guint i = 0; items[i]; i++) {
        const char *item = g_strstrip(items[i]);
        if (g_str_has_prefix(item, COOKIE "="))
            return g_strdup(item + strlen(COOKIE "="));
    }
    return NULL;
}

WebSession *
web_session_find(WebServer *server, SoupServerMessage *msg)
{
    g_autofree char *token = cookie_value(msg);
    if (token == NULL)
        return NULL;
    WebSession *s = g_hash_table_lookup(server->sessions, token);
    gint64 now = g_get_monotonic_time();
    if (s == NULL)
        return NULL;
    if (s->expires < now) {
        g_hash_table_remove(server->sessions, s->token);
        return NULL;
    }
    s->expires = now + server->config->web.session_lifetime * G_USEC_PER_SEC;
    return s;
}

gboolean
web_csrf_valid(WebRequest *req)
{
    const char *sent = soup_message_headers_get_one(
        soup_server_message_get_request_headers(req->msg), "X-CSRF-Token");
    const char *want = req->session ? req->session->csrf : NULL;

    return sent != NULL && want != NULL && strlen(sent) == strlen(want) &&
           sodium_memcmp(sent, want, strlen(want)) == 0;
}

static void
set_cookie(WebRequest *req, const char *value, gint64 max_age)
{
    const CqWebSettings *web = &req->server->config->web;
    g_autofree char *cookie = g_strdup_printf(
        COOKIE "=%s; Path=/; Max-Age=%" G_GINT64_FORMAT
               "; HttpOnly; SameSite=Strict%s",
        value, max_age,
        req->server->tls || web->secure_cookie ? "; Secure" : "");
    soup_message_headers_append(
        soup_server_message_get_response_headers(req->msg), "Set-Cookie",
        cookie);
}

/* Forgets the sessions that ran out and the failures that no longer
 * count, so that neither table grows without bound. */
static void
sweep(WebServer *server)
{
    gint64 now = g_get_monotonic_time();
    gint64 window = server->config->web.login_lockout * G_USEC_PER_SEC;
    GHashTableIter iter;
    gpointer value = NULL;

    g_hash_table_iter_init(&iter, server->sessions);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        if (((WebSession *)value)->expires < now)
            g_hash_table_iter_remove(&iter);
    }
    g_hash_table_iter_init(&iter, server->failures);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        if (now - ((WebFailures *)value)->since > window)
            g_hash_table_iter_remove(&iter);
    }
}

static WebSession *
session_start(WebServer *server, const char *login)
{
    sweep(server);
    WebSession *s = g_new0(WebSession, 1);
    s->token = web_random_token();
    s->login = g_strdup(login);
    s->csrf = web_random_token();
    s->expires = g_get_monotonic_time() +
                 server->config->web.session_lifetime * G_USEC_PER_SEC;
    g_hash_table_insert(server->sessions, s->token, s);
    return s;
}

/* {user..., csrf} for the signed-in session. */
static void
reply_session(WebRequest *req)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CaqmailContext) user = caqmail_context_for_user(
        req->server->context, req->session->login, &error);
    g_autofree char *text = user ? caqmail_json_user(user, &error) : NULL;
    g_autoptr(JsonParser) parser = json_parser_new();

    if (text == NULL) {
        web_reply_error(req, error);
        return;
    }
    if (!json_parser_load_from_data(parser, text, -1, &error)) {
        web_reply_error(req, error);
        return;
    }
    JsonNode *node = json_node_copy(json_parser_get_root(parser));
    json_object_set_string_member(json_node_get_object(node), "csrf",
                                  req->session->csrf);
    web_reply_json(req, 200, node);
}

static WebFailures *
failures_of(WebServer *server, const char *key)
{
    WebFailures *f = g_hash_table_lookup(server->failures, key);
    gint64 window = server->config->web.login_lockout * G_USEC_PER_SEC;
    if (f != NULL && g_get_monotonic_time() - f->since > window) {
        g_hash_table_remove(server->failures, key);
        f = NULL;
    }
    return f;
}

static gboolean
locked_out(WebServer *server, const char *const *keys)
{
    for (guint i = 0; keys[i]; i++) {
        WebFailures *f = failures_of(server, keys[i]);
        if (f && f->count >= (guint)server->config->web.login_attempts)
            return TRUE;
    }
    return FALSE;
}

static void
count_failure(WebServer *server, const char *const *keys)
{
    for (guint i = 0; keys[i]; i++) {
        WebFailures *f = failures_of(server, keys[i]);
        if (f == NULL) {
            f = g_new0(WebFailures, 1);
            f->since = g_get_monotonic_time();
            g_hash_table_insert(server->failures, g_strdup(keys[i]), f);
        }
        f->count++;
    }
}

static void
log_sign_in(WebRequest *req, const char *login, const char *outcome)
{
    CqEvent *ev = cq_event_begin(CQ_LOG_NOTICE, "sign-in");
    cq_event_add(ev, "login", login);
    cq_event_add(ev, "client", soup_server_message_get_remote_host(req->msg));
    cq_event_add(ev, "outcome", outcome);
    cq_event_end(ev);
}

static void
try_login(WebRequest *req, const char *login, const char *password)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *by_login = g_strconcat("login:", login, NULL);
    g_autofree char *by_addr = g_strconcat(
        "addr:", soup_server_message_get_remote_host(req->msg), NULL);
    const char *keys[] = {by_login, by_addr, NULL};

    if (locked_out(req->server, keys)) {
        g_autofree char *after = g_strdup_printf(
            "%" G_GINT64_FORMAT, req->server->config->web.login_lockout);
        soup_message_headers_replace(
            soup_server_message_get_response_headers(req->msg), "Retry-After",
            after);
        log_sign_in(req, login, "locked");
        web_reply_message(req, 429, "locked",
                          "too many failed sign-ins: try again later");
        return;
    }
    g_autoptr(CaqmailContext) user =
        caqmail_context_sign_in(req->server->context, login, password, &error);
    if (user == NULL) {
        count_failure(req->server, keys);
        log_sign_in(req, login, "refused");
        web_reply_error(req, error);
        return;
    }
    g_hash_table_remove(req->server->failures, by_login);
    req->session = session_start(req->server, login);
    set_cookie(req, req->session->token,
               req->server->config->web.session_lifetime);
    log_sign_in(req, login, "ok");
    reply_session(req);
}

void
web_api_login(WebRequest *req)
{
    g_autoptr(JsonNode) root = NULL;
    JsonObject *o = web_request_object(req, &root);
    if (o == NULL)
        return;
    const char *login =
        json_object_get_string_member_with_default(o, "login", NULL);
    const char *password =
        json_object_get_string_member_with_default(o, "password", NULL);
    if (login == NULL || password == NULL || *login == '\0') {
        web_reply_message(req, 400, "invalid",
                          "give \"login\" and \"password\" as strings");
        return;
    }
    try_login(req, login, password);
}

void
web_api_logout(WebRequest *req)
{
    g_hash_table_remove(req->server->sessions, req->session->token);
    req->session = NULL;
    set_cookie(req, "", 0);
    web_reply_message(req, 200, "ok", "signed out");
}

static gboolean
from_proxy(WebServer *server, SoupServerMessage *msg)
{
    GSocketAddress *sa = soup_server_message_get_remote_address(msg);
    if (sa == NULL || !G_IS_INET_SOCKET_ADDRESS(sa))
        return FALSE;
    GInetAddress *addr =
        g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(sa));
    for (guint i = 0; i < server->proxies->len; i++) {
        if (g_inet_address_mask_matches(server->proxies->pdata[i], addr))
            return TRUE;
    }
    return FALSE;
}

WebSession *
web_session_from_proxy(WebServer *server, SoupServerMessage *msg)
{
    const char *header = server->config->web.trusted_header;
    if (header == NULL || !from_proxy(server, msg))
        return NULL;
    const char *login = soup_message_headers_get_one(
        soup_server_message_get_request_headers(msg), header);
    if (login == NULL || *login == '\0')
        return NULL;
    g_autoptr(CaqmailContext) user =
        caqmail_context_for_user(server->context, login, NULL);
    if (user == NULL)
        return NULL;
    return session_start(server, login);
}

void
web_api_session(WebRequest *req)
{
    req->session = web_session_find(req->server, req->msg);
    if (req->session == NULL) {
        req->session = web_session_from_proxy(req->server, req->msg);
        if (req->session != NULL)
            set_cookie(req, req->session->token,
                       req->server->config->web.session_lifetime);
    }
    if (req->session == NULL) {
        web_reply_message(req, 401, "unauthenticated", "sign in first");
        return;
    }
    reply_session(req);
}
