/* One HTTP POST, for the OAuth2 token endpoint (oauth.c), over libsoup.
 *
 * libsoup pulls in Kerberos, libpsl, nghttp2 and brotli, which a process
 * that never asks a token endpoint does not need: libcaqmail.so loads
 * this code from the module caqmail-http.so the first time it posts
 * (http-module.c; common/module.h); the static library links it in. */
#ifndef CQ_SMTP_HTTP_H
#define CQ_SMTP_HTTP_H

#include <glib.h>

/* Posts @body of @content_type to @url (60 seconds at most) and returns
 * the reply's body, its status in *@status.  Fails with
 * CQ_ERROR_TEMPFAIL "@what 'URL': ..." when no reply came, and with
 * CQ_ERROR_UNAVAILABLE when the module cannot be loaded. */
GBytes *cq_http_post(const char *what, const char *url,
                     const char *content_type, GBytes *body, guint *status,
                     GError **error);

/* What the module provides. */
typedef struct {
    GBytes *(*post)(const char *what, const char *url,
                    const char *content_type, GBytes *body, guint *status,
                    GError **error);
} CqHttpModule;

#endif
