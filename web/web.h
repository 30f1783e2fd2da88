/* The parts of the web server that its files share. */
#ifndef CQ_WEB_WEB_H
#define CQ_WEB_WEB_H

#include "web/server.h"

#include "common/event.h"

#include <caqmail/caqmail.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

typedef struct {
    char *token; /* the cookie's value */
    char *login;
    char *csrf;     /* sent back in X-CSRF-Token with every change */
    gint64 expires; /* monotonic microseconds; renewed on use */
} WebSession;

typedef struct {
    char *id;
    char *login;
    char *dir; /* private folder holding the file */
    char *path;
    char *name;
    gint64 size;
} WebUpload;

typedef struct {
    char *id;
    char *login;
    char *state; /* preparing, converting, queued, sending, or final */
    guint done, total;
    gint64 mail_id;
    char *error;
    gboolean finished;
    gint64 finished_at; /* monotonic microseconds */
} WebJob;

struct _WebServer {
    const CqConfig *config;  /* the [web] settings */
    char *config_path;       /* for the contexts of send threads */
    CaqmailContext *context; /* the server's own, in the main thread */
    SoupServer *soup;
    gboolean tls;
    GHashTable *sessions; /* token -> WebSession */
    GHashTable *failures; /* "login" or "addr" key -> WebFailures */
    GHashTable *uploads;  /* id -> WebUpload */
    GHashTable *jobs;     /* id -> WebJob, shared with send threads */
    GMutex jobs_lock;
    GThreadPool *senders;
    GPtrArray *proxies; /* of GInetAddressMask: may sign users in */
};

typedef struct {
    WebServer *server;
    SoupServerMessage *msg;
    const char *path;
    GHashTable *query;
    const char *params[2]; /* the path's {id} parts */
    WebSession *session;
    CaqmailContext *user; /* acting for the signed-in user */
} WebRequest;

/* Responses; each sets the security headers. */
void web_reply_json(WebRequest *req, guint status, JsonNode *node);
/* Replies with the JSON text @json (taken), or with @error when it is
 * NULL. */
void web_reply_view(WebRequest *req, char *json, GError *error);
void web_reply_error(WebRequest *req, const GError *error);
void web_reply_message(WebRequest *req, guint status, const char *code,
                       const char *message);
void web_reply_bytes(WebRequest *req, const char *content_type,
                     const char *filename, GBytes *bytes);
void web_security_headers(SoupServerMessage *msg);

/* The request body as a JSON object, or NULL after replying 400. */
JsonObject *web_request_object(WebRequest *req, JsonNode **root);
const char *web_query(WebRequest *req, const char *name);
/* Fails with 403 unless the user holds @permission ("send", ...). */
gboolean web_require(WebRequest *req, const char *permission, const char *what);
gboolean web_param_id(WebRequest *req, guint index, gint64 *id);

/* Sessions, sign-in and CSRF (auth.c). */
char *web_random_token(void);
void web_session_free(WebSession *session);
WebSession *web_session_find(WebServer *server, SoupServerMessage *msg);
gboolean web_csrf_valid(WebRequest *req);
WebSession *web_session_from_proxy(WebServer *server, SoupServerMessage *msg);
void web_api_login(WebRequest *req);
void web_api_logout(WebRequest *req);
void web_api_session(WebRequest *req);
void web_failures_free(gpointer failures);

/* Endpoints (api.c, send.c). */
void web_api_catalog(WebRequest *req);
void web_api_records(WebRequest *req);
void web_api_record_mails(WebRequest *req);
void web_api_documents(WebRequest *req);
void web_api_mail(WebRequest *req);
void web_api_mail_raw(WebRequest *req);
void web_api_mail_attachment(WebRequest *req);
void web_api_outbox(WebRequest *req);
void web_api_outbox_retry(WebRequest *req);
void web_api_outbox_cancel(WebRequest *req);
void web_api_verify(WebRequest *req);
void web_api_upload(WebRequest *req);
void web_api_send(WebRequest *req);
void web_api_job(WebRequest *req);
void web_upload_free(WebUpload *upload);
void web_uploads_discard(WebServer *server);
void web_job_free(WebJob *job);
void web_send_thread(gpointer task, gpointer server);

#endif
