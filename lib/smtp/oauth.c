#include "smtp/oauth.h"

#include "common/error.h"
#include "common/event.h"
#include "common/secret.h"
#include "smtp/http.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define EXPIRY_MARGIN 60   /* seconds a cached token must still be good */
#define MAX_RESPONSE 65536 /* bytes of a token response */

typedef struct {
    char *access_token;
    char *refresh_token; /* rotated by the endpoint, or NULL */
    gint64 expires_at;   /* unix seconds, 0: unknown */
} Token;

static void
token_clear(Token *token)
{
    g_clear_pointer(&token->access_token, cq_secret_free);
    g_clear_pointer(&token->refresh_token, cq_secret_free);
}

gboolean
cq_smtp_oauth_configured(const CqConfig *config)
{
    return config->smtp.token_command != NULL ||
           config->smtp.oauth_token_url != NULL;
}

static char *
cache_path(const CqConfig *config)
{
    const CqSmtpSettings *s = &config->smtp;
    g_autofree char *key = g_strdup_printf(
        "%s\n%s\n%s\n%s", s->oauth_token_url,
        s->oauth_client_id ? s->oauth_client_id : "", s->user ? s->user : "",
        s->oauth_scope ? s->oauth_scope : "");
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
                                                         key, -1);
    sum[16] = '\0';
    g_autofree char *name = g_strdup_printf("token-%s.json", sum);
    return g_build_filename(config->general.data_dir, "oauth", name, NULL);
}

static gboolean
parse_token(const char *json, gsize len, Token *token, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) local = NULL;

    if (!json_parser_load_from_data(parser, json, (gssize)len, &local) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_PROTOCOL,
                    "OAuth2 token response: not a JSON object");
        return FALSE;
    }
    JsonObject *obj = json_node_get_object(json_parser_get_root(parser));
    const char *access =
        json_object_get_string_member_with_default(obj, "access_token", NULL);
    if (access == NULL || *access == '\0') {
        const char *err =
            json_object_get_string_member_with_default(obj, "error", "");
        g_set_error(error, CQ_ERROR, CQ_ERROR_PERMFAIL,
                    "OAuth2 token response without access_token%s%s",
                    *err ? ": " : "", err);
        return FALSE;
    }
    token->access_token = g_strdup(access);
    const char *refresh =
        json_object_get_string_member_with_default(obj, "refresh_token", NULL);
    token->refresh_token = refresh ? g_strdup(refresh) : NULL;
    token->expires_at =
        json_object_get_int_member_with_default(obj, "expires_at", 0);
    gint64 expires_in =
        json_object_get_int_member_with_default(obj, "expires_in", 0);
    if (token->expires_at == 0 && expires_in > 0)
        token->expires_at = g_get_real_time() / G_USEC_PER_SEC + expires_in;
    return TRUE;
}

static gboolean
load_cache(const char *path, Token *token)
{
    char *json = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &json, &len, NULL))
        return FALSE;
    gboolean ok = parse_token(json, len, token, NULL);
    explicit_bzero(json, len);
    g_free(json);
    return ok;
}

static void
save_cache(const char *path, const Token *token)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "access_token");
    json_builder_add_string_value(b, token->access_token);
    if (token->refresh_token != NULL) {
        json_builder_set_member_name(b, "refresh_token");
        json_builder_add_string_value(b, token->refresh_token);
    }
    json_builder_set_member_name(b, "expires_at");
    json_builder_add_int_value(b, token->expires_at);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    char *json = json_to_string(root, FALSE);
    /* g_file_set_contents_full writes a temporary file and renames it,
     * with the mode given, so the token is never readable by others. */
    if (g_mkdir_with_parents(dir, 0700) == 0)
        g_file_set_contents_full(path, json, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL);
    cq_secret_free(json);
}

static gboolean
url_allowed(const char *url, GError **error)
{
    g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
    const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;
    const char *host = uri ? g_uri_get_host(uri) : NULL;

    if (g_strcmp0(scheme, "https") == 0)
        return TRUE;
    if (g_strcmp0(scheme, "http") == 0 &&
        (g_strcmp0(host, "127.0.0.1") == 0 || g_strcmp0(host, "::1") == 0 ||
         g_strcmp0(host, "localhost") == 0))
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                "oauth_token_url '%s': must be an https URL", url);
    return FALSE;
}

/* The refresh token to use: the one the endpoint last rotated to, else
 * the configured one, else none (client credentials). */
static char *
refresh_token(const CqSmtpSettings *s, const char *cached, GError **error)
{
    if (cached != NULL)
        return g_strdup(cached);
    return cq_secret_fetch("OAuth2 refresh token",
                           s->oauth_refresh_token_command,
                           s->oauth_refresh_token_env, s->oauth_refresh_token,
                           error);
}

static void
add_field(GString *form, const char *name, const char *value)
{
    if (value == NULL)
        return;
    g_autofree char *escaped = g_uri_escape_string(value, NULL, FALSE);
    g_string_append_printf(form, "%s%s=%s", form->len ? "&" : "", name,
                           escaped);
    explicit_bzero(escaped, strlen(escaped));
}

/* The form of the grant, urlencoded; wipe it with cq_secret_free(). */
static char *
grant_form(const CqConfig *config, const char *cached_refresh,
           GError **error)
{
    const CqSmtpSettings *s = &config->smtp;
    GError *local = NULL;
    char *refresh = NULL, *encoded = NULL;
    char *secret = cq_secret_fetch(
        "OAuth2 client secret", s->oauth_client_secret_command,
        s->oauth_client_secret_env, s->oauth_client_secret, &local);

    if (local == NULL)
        refresh = refresh_token(s, cached_refresh, &local);
    if (local != NULL) {
        g_propagate_error(error, local);
        goto out;
    }
    GString *form = g_string_sized_new(4096); /* no copies on growth */
    add_field(form, "grant_type",
              refresh ? "refresh_token" : "client_credentials");
    add_field(form, "refresh_token", refresh);
    add_field(form, "client_id", s->oauth_client_id);
    add_field(form, "client_secret", secret);
    add_field(form, "scope", s->oauth_scope);
    encoded = g_string_free(form, FALSE);
out:
    cq_secret_free(secret);
    cq_secret_free(refresh);
    return encoded;
}

static GBytes *
post_form(const char *url, char *form, guint *status, GError **error)
{
    g_autoptr(GBytes) body = g_bytes_new_with_free_func(
        form, strlen(form), (GDestroyNotify)cq_secret_free, form);

    return cq_http_post("OAuth2 token endpoint", url,
                        "application/x-www-form-urlencoded", body, status,
                        error);
}

static gboolean
request_token(const CqConfig *config, const char *cached_refresh,
              Token *token, GError **error)
{
    const char *url = config->smtp.oauth_token_url;
    guint status = 0;

    if (!url_allowed(url, error))
        return FALSE;
    char *form = grant_form(config, cached_refresh, error);
    if (form == NULL)
        return FALSE;
    g_autoptr(GBytes) reply = post_form(url, form, &status, error);
    if (reply == NULL)
        return FALSE;
    gsize len = 0;
    const char *data = g_bytes_get_data(reply, &len);
    if (status != 200 || len > MAX_RESPONSE) {
        g_set_error(error, CQ_ERROR,
                    status >= 500 ? CQ_ERROR_TEMPFAIL : CQ_ERROR_PERMFAIL,
                    "OAuth2 token endpoint '%s': HTTP status %u", url,
                    status);
        return FALSE;
    }
    return parse_token(data, len, token, error);
}

static char *
token_from_endpoint(const CqConfig *config, gboolean renew, GError **error)
{
    g_autofree char *path = cache_path(config);
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    Token cached = {0}, fresh = {0};
    char *result = NULL;

    gboolean have = load_cache(path, &cached);
    if (have && !renew && cached.expires_at > now + EXPIRY_MARGIN) {
        result = g_steal_pointer(&cached.access_token);
        goto out;
    }
    if (!request_token(config, cached.refresh_token, &fresh, error))
        goto out;
    if (fresh.refresh_token == NULL && cached.refresh_token != NULL)
        fresh.refresh_token = g_steal_pointer(&cached.refresh_token);
    save_cache(path, &fresh);
    result = g_steal_pointer(&fresh.access_token);
    CqEvent *ev = cq_event_begin(CQ_LOG_INFO, "oauth-token");
    cq_event_add(ev, "endpoint", config->smtp.oauth_token_url);
    cq_event_addf(ev, "expires", "%" G_GINT64_FORMAT, fresh.expires_at);
    cq_event_end(ev);
out:
    token_clear(&cached);
    token_clear(&fresh);
    return result;
}

char *
cq_smtp_oauth_token(const CqConfig *config, gboolean renew, GError **error)
{
    if (config->smtp.token_command != NULL)
        return cq_secret_run_command("OAuth2 token",
                                     config->smtp.token_command, error);
    if (config->smtp.oauth_token_url != NULL)
        return token_from_endpoint(config, renew, error);
    g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                "OAuth2: neither token_command nor oauth_token_url is set");
    return NULL;
}

void
cq_smtp_oauth_forget(const CqConfig *config)
{
    if (config->smtp.oauth_token_url == NULL)
        return;
    g_autofree char *path = cache_path(config);
    Token cached = {0};

    /* The refresh token stays: only the access token was refused. */
    if (load_cache(path, &cached)) {
        cached.expires_at = 1;
        save_cache(path, &cached);
    }
    token_clear(&cached);
}
