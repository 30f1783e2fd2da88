#include "web/web.h"

#include "cq-web-resources.h"

#include <string.h>

#define MAX_JSON_BODY (1024 * 1024)
#define RESOURCE_PREFIX "/org/caqmail/web/"

enum {
    ROUTE_AUTH = 1 << 0, /* a signed-in user */
    ROUTE_CSRF = 1 << 1, /* a change: the CSRF token must match */
};

typedef struct {
    const char *method;
    const char *pattern; /* segments; "*" takes a number or name */
    void (*handler)(WebRequest *req);
    guint flags;
} Route;

static const Route routes[] = {
    {"POST", "/api/login", web_api_login, 0},
    {"POST", "/api/logout", web_api_logout, ROUTE_AUTH | ROUTE_CSRF},
    {"GET", "/api/session", web_api_session, 0},
    {"GET", "/api/catalog", web_api_catalog, ROUTE_AUTH},
    {"GET", "/api/records", web_api_records, ROUTE_AUTH},
    {"GET", "/api/records/*/mails", web_api_record_mails, ROUTE_AUTH},
    {"GET", "/api/documents", web_api_documents, ROUTE_AUTH},
    {"POST", "/api/uploads", web_api_upload, ROUTE_AUTH | ROUTE_CSRF},
    {"POST", "/api/send", web_api_send, ROUTE_AUTH | ROUTE_CSRF},
    {"GET", "/api/jobs/*", web_api_job, ROUTE_AUTH},
    {"GET", "/api/outbox", web_api_outbox, ROUTE_AUTH},
    {"POST", "/api/outbox/*/retry", web_api_outbox_retry,
     ROUTE_AUTH | ROUTE_CSRF},
    {"POST", "/api/outbox/*/cancel", web_api_outbox_cancel,
     ROUTE_AUTH | ROUTE_CSRF},
    {"GET", "/api/mails/*", web_api_mail, ROUTE_AUTH},
    {"GET", "/api/mails/*/raw", web_api_mail_raw, ROUTE_AUTH},
    {"GET", "/api/mails/*/attachments/*", web_api_mail_attachment, ROUTE_AUTH},
    {"GET", "/api/history/verify", web_api_verify, ROUTE_AUTH},
};

void
web_security_headers(SoupServerMessage *msg)
{
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(
        h, "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        "img-src 'self'; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'");
    soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
    soup_message_headers_replace(h, "X-Frame-Options", "DENY");
    soup_message_headers_replace(h, "Referrer-Policy", "no-referrer");
    soup_message_headers_replace(h, "Cross-Origin-Opener-Policy",
                                 "same-origin");
}

void
web_reply_json(WebRequest *req, guint status, JsonNode *node)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, node);
    gsize len = 0;
    char *text = json_generator_to_data(gen, &len);
    soup_server_message_set_status(req->msg, status, NULL);
    soup_server_message_set_response(req->msg, "application/json",
                                     SOUP_MEMORY_TAKE, text, len);
    soup_message_headers_replace(
        soup_server_message_get_response_headers(req->msg), "Cache-Control",
        "no-store");
    json_node_unref(node);
}

void
web_reply_message(WebRequest *req, guint status, const char *code,
                  const char *message)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "error");
    json_builder_add_string_value(b, message);
    json_builder_set_member_name(b, "code");
    json_builder_add_string_value(b, code);
    json_builder_end_object(b);
    web_reply_json(req, status, json_builder_get_root(b));
    g_object_unref(b);
}

static guint
status_of(const GError *error, const char **code)
{
    static const struct {
        int error;
        guint status;
        const char *code;
    } map[] = {
        {CAQMAIL_ERROR_USAGE, 400, "invalid"},
        {CAQMAIL_ERROR_INVALID, 400, "invalid"},
        {CAQMAIL_ERROR_NOINPUT, 400, "invalid"},
        {CAQMAIL_ERROR_NOT_FOUND, 404, "not-found"},
        {CAQMAIL_ERROR_PERMISSION, 403, "forbidden"},
        {CAQMAIL_ERROR_TOO_LARGE, 413, "too-large"},
        {CAQMAIL_ERROR_UNAVAILABLE, 503, "unavailable"},
        {CAQMAIL_ERROR_TEMPFAIL, 503, "unavailable"},
        {CAQMAIL_ERROR_PERMFAIL, 409, "refused"},
    };
    for (guint i = 0; error->domain == CAQMAIL_ERROR && i < G_N_ELEMENTS(map);
         i++) {
        if (map[i].error == error->code) {
            *code = map[i].code;
            return map[i].status;
        }
    }
    *code = "failed";
    return 500;
}

void
web_reply_error(WebRequest *req, const GError *error)
{
    const char *code = NULL;
    guint status = status_of(error, &code);
    web_reply_message(req, status, code, error->message);
}

void
web_reply_view(WebRequest *req, char *json, GError *error)
{
    if (json == NULL) {
        web_reply_error(req, error);
        return;
    }
    soup_server_message_set_status(req->msg, 200, NULL);
    soup_server_message_set_response(req->msg, "application/json",
                                     SOUP_MEMORY_TAKE, json, strlen(json));
    soup_message_headers_replace(
        soup_server_message_get_response_headers(req->msg), "Cache-Control",
        "no-store");
}

gboolean
web_require(WebRequest *req, const char *permission, const char *what)
{
    if (caqmail_context_may(req->user, permission))
        return TRUE;
    g_autofree char *m =
        g_strdup_printf("user '%s' may not %s (needs permission '%s')",
                        caqmail_context_get_login(req->user), what, permission);
    web_reply_message(req, 403, "forbidden", m);
    return FALSE;
}

void
web_reply_bytes(WebRequest *req, const char *content_type, const char *filename,
                GBytes *bytes)
{
    SoupMessageHeaders *h = soup_server_message_get_response_headers(req->msg);
    soup_server_message_set_status(req->msg, 200, NULL);
    soup_message_headers_set_content_type(h, content_type, NULL);
    if (filename != NULL) {
        GHashTable *params = g_hash_table_new(g_str_hash, g_str_equal);
        g_hash_table_insert(params, (gpointer) "filename", (gpointer)filename);
        soup_message_headers_set_content_disposition(h, "attachment", params);
        g_hash_table_unref(params);
    }
    soup_message_headers_replace(h, "Cache-Control", "no-store");
    soup_message_body_append_bytes(
        soup_server_message_get_response_body(req->msg), bytes);
}

JsonObject *
web_request_object(WebRequest *req, JsonNode **root)
{
    SoupMessageBody *body = soup_server_message_get_request_body(req->msg);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;

    const char *type = soup_message_headers_get_content_type(
        soup_server_message_get_request_headers(req->msg), NULL);
    if (g_strcmp0(type, "application/json") != 0) {
        /* no form of another site can send this type without asking */
        web_reply_message(req, 415, "invalid",
                          "send the body as application/json");
        return NULL;
    }
    if (body->length > MAX_JSON_BODY) {
        web_reply_message(req, 413, "too-large", "request body too large");
        return NULL;
    }
    if (!json_parser_load_from_data(parser, body->data ? body->data : "",
                                    body->length, &error)) {
        g_autofree char *m =
            g_strdup_printf("malformed JSON: %s", error->message);
        web_reply_message(req, 400, "invalid", m);
        return NULL;
    }
    JsonNode *node = json_parser_get_root(parser);
    if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
        web_reply_message(req, 400, "invalid",
                          "malformed JSON: expected an object");
        return NULL;
    }
    *root = json_node_copy(node);
    return json_node_get_object(*root);
}

const char *
web_query(WebRequest *req, const char *name)
{
    return req->query ? g_hash_table_lookup(req->query, name) : NULL;
}

gboolean
web_param_id(WebRequest *req, guint index, gint64 *id)
{
    guint64 value = 0;
    if (req->params[index] == NULL ||
        !g_ascii_string_to_unsigned(req->params[index], 10, 1, G_MAXINT64,
                                    &value, NULL)) {
        web_reply_message(req, 400, "invalid", "expected a mail number");
        return FALSE;
    }
    *id = (gint64)value;
    return TRUE;
}

/* Matches @path against @pattern, keeping the "*" segments (at most
 * two) in @params; the segments point into @parts. */
static gboolean
route_matches(const char *pattern, char **parts, const char **params)
{
    g_auto(GStrv) want = g_strsplit(pattern, "/", -1);
    guint n = 0, i = 0;

    for (; want[i] && parts[i]; i++) {
        if (strcmp(want[i], "*") == 0) {
            if (*parts[i] == '\0' || n >= 2)
                return FALSE;
            params[n++] = parts[i];
        } else if (strcmp(want[i], parts[i]) != 0) {
            return FALSE;
        }
    }
    return want[i] == NULL && parts[i] == NULL;
}

static void
log_request(WebRequest *req)
{
    CqEvent *ev = cq_event_begin(CQ_LOG_INFO, "http");
    cq_event_add(ev, "method", soup_server_message_get_method(req->msg));
    cq_event_add(ev, "path", req->path);
    cq_event_addf(ev, "status", "%u", soup_server_message_get_status(req->msg));
    cq_event_add(ev, "user", req->session ? req->session->login : NULL);
    cq_event_add(ev, "client", soup_server_message_get_remote_host(req->msg));
    cq_event_end(ev);
}

static void
run_route(WebRequest *req, const Route *route)
{
    g_autoptr(GError) error = NULL;

    req->session = web_session_find(req->server, req->msg);
    if ((route->flags & ROUTE_AUTH) && req->session == NULL) {
        web_reply_message(req, 401, "unauthenticated", "sign in first");
        return;
    }
    if ((route->flags & ROUTE_CSRF) && !web_csrf_valid(req)) {
        web_reply_message(req, 403, "csrf",
                          "missing or wrong X-CSRF-Token header");
        return;
    }
    if (req->session != NULL) {
        req->user = caqmail_context_for_user(req->server->context,
                                             req->session->login, &error);
        if (req->user == NULL) {
            web_reply_error(req, error);
            return;
        }
    }
    route->handler(req);
}

static void
handle_api(SoupServer *soup, SoupServerMessage *msg, const char *path,
           GHashTable *query, gpointer data)
{
    WebRequest req = {.server = data, .msg = msg, .path = path, .query = query};
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    const char *method = soup_server_message_get_method(msg);
    gboolean path_known = FALSE;

    web_security_headers(msg);
    for (guint i = 0; i < G_N_ELEMENTS(routes); i++) {
        const char *params[2] = {NULL, NULL};
        if (!route_matches(routes[i].pattern, parts, params))
            continue;
        path_known = TRUE;
        if (strcmp(routes[i].method, method) != 0)
            continue;
        memcpy(req.params, params, sizeof params);
        run_route(&req, &routes[i]);
        goto out;
    }
    if (path_known)
        web_reply_message(&req, 405, "method", "method not allowed");
    else
        web_reply_message(&req, 404, "not-found", "no such endpoint");
out:
    log_request(&req);
    caqmail_context_free(req.user);
}

static const char *
static_type(const char *name)
{
    if (g_str_has_suffix(name, ".js"))
        return "text/javascript; charset=utf-8";
    if (g_str_has_suffix(name, ".css"))
        return "text/css; charset=utf-8";
    if (g_str_has_suffix(name, ".svg"))
        return "image/svg+xml";
    return "text/html; charset=utf-8";
}

static void
handle_static(SoupServer *soup, SoupServerMessage *msg, const char *path,
              GHashTable *query, gpointer data)
{
    const char *name = strcmp(path, "/") == 0 ? "index.html" : path + 1;
    g_autofree char *resource = g_strconcat(RESOURCE_PREFIX, name, NULL);
    g_autoptr(GBytes) bytes = NULL;

    web_security_headers(msg);
    if (strcmp(soup_server_message_get_method(msg), "GET") != 0) {
        soup_server_message_set_status(msg, 405, NULL);
        return;
    }
    if (strstr(name, "..") == NULL && strchr(name, '/') == NULL)
        bytes = g_resources_lookup_data(resource, 0, NULL);
    if (bytes == NULL) {
        soup_server_message_set_status(msg, 404, NULL);
        soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_STATIC,
                                         "not found\n", 10);
        return;
    }
    soup_server_message_set_status(msg, 200, NULL);
    soup_server_message_set_response(msg, static_type(name), SOUP_MEMORY_COPY,
                                     g_bytes_get_data(bytes, NULL),
                                     g_bytes_get_size(bytes));
}

/* Refuses a body that is too large before it is read. */
static void
handle_early(SoupServer *soup, SoupServerMessage *msg, const char *path,
             GHashTable *query, gpointer data)
{
    WebServer *server = data;
    SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
    gboolean upload = strcmp(path, "/api/uploads") == 0;
    goffset limit =
        upload ? server->config->web.max_upload_size : MAX_JSON_BODY;

    if (soup_message_headers_get_encoding(h) == SOUP_ENCODING_CHUNKED &&
        upload) {
        web_security_headers(msg);
        soup_server_message_set_status(msg, 411, NULL);
        return;
    }
    if (soup_message_headers_get_encoding(h) == SOUP_ENCODING_CONTENT_LENGTH &&
        soup_message_headers_get_content_length(h) > limit) {
        WebRequest req = {.server = server, .msg = msg, .path = path};
        web_security_headers(msg);
        g_autofree char *m = g_strdup_printf(
            "request body over the limit of %" G_GOFFSET_FORMAT " bytes",
            limit);
        web_reply_message(&req, 413, "too-large", m);
        soup_message_headers_replace(
            soup_server_message_get_response_headers(msg), "Connection",
            "close");
    }
}

static gboolean
parse_proxies(WebServer *server, GError **error)
{
    const char *list = server->config->web.trusted_proxies;
    g_auto(GStrv) items = g_strsplit_set(list ? list : "", ", ", -1);

    server->proxies = g_ptr_array_new_with_free_func(g_object_unref);
    for (guint i = 0; items[i]; i++) {
        if (*items[i] == '\0')
            continue;
        GInetAddressMask *mask =
            g_inet_address_mask_new_from_string(items[i], NULL);
        if (mask == NULL) {
            g_set_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_CONFIG,
                        "[web] trusted_proxies: '%s' is not an address or "
                        "network",
                        items[i]);
            return FALSE;
        }
        g_ptr_array_add(server->proxies, mask);
    }
    if (server->config->web.trusted_header && server->proxies->len == 0) {
        g_set_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_CONFIG,
                    "[web] trusted_header needs trusted_proxies: the "
                    "addresses of the proxies that may set it");
        return FALSE;
    }
    return TRUE;
}

static GTlsCertificate *
load_certificate(const CqConfig *config, GError **error)
{
    const char *cert = config->web.tls_certificate;
    const char *key = config->web.tls_key;

    if (cert == NULL && key == NULL)
        return NULL;
    if (cert == NULL || key == NULL) {
        g_set_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_CONFIG,
                    "[web] tls_certificate and tls_key go together");
        return NULL;
    }
    g_autoptr(GError) local = NULL;
    GTlsCertificate *c = g_tls_certificate_new_from_files(cert, key, &local);
    if (c == NULL)
        g_set_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_CONFIG,
                    "[web] tls_certificate '%s': %s", cert, local->message);
    return c;
}

static gboolean
start_listening(WebServer *server, const char *address, gint64 port,
                GError **error)
{
    g_autoptr(GInetAddress) inet = g_inet_address_new_from_string(address);
    g_autoptr(GError) local = NULL;

    if (inet == NULL) {
        g_set_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_CONFIG,
                    "[web] address '%s' is not an IP address", address);
        return FALSE;
    }
    g_autoptr(GSocketAddress) sa =
        g_inet_socket_address_new(inet, (guint16)port);
    if (!soup_server_listen(server->soup, sa,
                            server->tls ? SOUP_SERVER_LISTEN_HTTPS : 0,
                            &local)) {
        g_set_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_UNAVAILABLE,
                    "listening on %s port %" G_GINT64_FORMAT ": %s", address,
                    port, local->message);
        return FALSE;
    }
    return TRUE;
}

static gboolean
setup(WebServer *server, const char *address, gint64 port, GError **error)
{
    g_autoptr(GTlsCertificate) cert = NULL;
    g_autoptr(GError) local = NULL;

    if (!parse_proxies(server, error))
        return FALSE;
    cert = load_certificate(server->config, &local);
    if (local != NULL) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    server->tls = cert != NULL;
    server->soup = soup_server_new("server-header", "caqmail",
                                   "tls-certificate", cert, NULL);
    server->context = caqmail_context_open(server->config_path, error);
    if (server->context == NULL)
        return FALSE;
    if (g_mkdir_with_parents(server->config->web.upload_dir, 0700) != 0) {
        g_set_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_IO,
                    "[web] upload_dir '%s': %s", server->config->web.upload_dir,
                    g_strerror(errno));
        return FALSE;
    }
    soup_server_add_early_handler(server->soup, "/api", handle_early, server,
                                  NULL);
    soup_server_add_handler(server->soup, "/api", handle_api, server, NULL);
    soup_server_add_handler(server->soup, "/", handle_static, server, NULL);
    return start_listening(server, address, port, error);
}

WebServer *
web_server_new(const CqConfig *config, const char *config_path,
               const char *address, gint64 port, GError **error)
{
    WebServer *server = g_new0(WebServer, 1);

    server->config_path = g_strdup(config_path);
    g_resources_register(cq_web_get_resource());
    server->config = config;
    server->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                             (GDestroyNotify)web_session_free);
    server->failures = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                             web_failures_free);
    server->uploads = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify)web_upload_free);
    server->jobs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify)web_job_free);
    g_mutex_init(&server->jobs_lock);
    server->senders =
        g_thread_pool_new(web_send_thread, server, 4, FALSE, NULL);
    if (!setup(server, address ? address : config->web.address,
               port >= 0 ? port : config->web.port, error)) {
        web_server_free(server);
        return NULL;
    }
    return server;
}

void
web_server_free(WebServer *server)
{
    if (server == NULL)
        return;
    if (server->soup)
        soup_server_disconnect(server->soup);
    g_thread_pool_free(server->senders, FALSE, TRUE);
    web_uploads_discard(server);
    g_clear_object(&server->soup);
    g_hash_table_unref(server->sessions);
    g_hash_table_unref(server->failures);
    g_hash_table_unref(server->uploads);
    g_hash_table_unref(server->jobs);
    g_mutex_clear(&server->jobs_lock);
    g_clear_pointer(&server->proxies, g_ptr_array_unref);
    caqmail_context_free(server->context);
    g_free(server->config_path);
    g_free(server);
}

char *
web_server_uri(WebServer *server)
{
    GSList *uris = soup_server_get_uris(server->soup);
    char *text = uris ? g_uri_to_string(uris->data) : g_strdup("");
    g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
    return text;
}
