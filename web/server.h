/* `caqmail serve`: the web page and the JSON API over HTTP (libsoup).
 *
 * A thin front end over the public library (caqmail/caqmail.h): every
 * request is answered by a context acting for the signed-in user, with
 * the same permission rules as the command line.  doc/http-api.md lists
 * the endpoints.
 */
#ifndef CQ_WEB_SERVER_H
#define CQ_WEB_SERVER_H

#include "common/config.h"

typedef struct _WebServer WebServer;

/* Opens the library's context from @config_path (NULL: where caqmail
 * looks by default; @config is what it holds), loads the TLS
 * certificate when one is configured and listens on [web] address and
 * port (@port >= 0 overrides it; 0 picks a free one). */
WebServer *web_server_new(const CqConfig *config, const char *config_path,
                          const char *address, gint64 port, GError **error);
void web_server_free(WebServer *server);
/* The base URI it listens on ("http://127.0.0.1:8025/"); newly
 * allocated. */
char *web_server_uri(WebServer *server);

/* The web server is the module caqmail-web.so (common/module.h), which
 * `caqmail serve` loads; what it provides: */
typedef struct {
    WebServer *(*server_new)(const CqConfig *config, const char *config_path,
                             const char *address, gint64 port,
                             GError **error);
    void (*server_free)(WebServer *server);
    char *(*server_uri)(WebServer *server);
} WebModule;

#endif
