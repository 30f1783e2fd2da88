/* What the web server asks of the library, in the server's terms: each
 * call acts for one signed-in user and answers in JSON.  This is the
 * only file of web/ that reaches into the library's modules; the HTTP
 * code never sees a store, an SMTP session or a TLS object.
 *
 * Every call enforces the library's permission rules (lib/access): a
 * user without the right gets CQ_ERROR_PERMISSION and no data; a mail
 * the user may not read does not exist for that user (CQ_ERROR_NOT_FOUND).
 */
#ifndef CQ_WEB_BACKEND_H
#define CQ_WEB_BACKEND_H

#include "common/config.h"
#include "common/error.h"

#include <json-glib/json-glib.h>

typedef struct _WebBackend WebBackend; /* the server's own connection */
typedef struct _WebUser WebUser;       /* one request's signed-in user */

WebBackend *web_backend_open(const CqConfig *config, GError **error);
void web_backend_free(WebBackend *backend);

/* Fails with CQ_ERROR_PERMISSION for a wrong password or an unknown or
 * unregistered login. */
gboolean web_backend_check_password(WebBackend *backend, const char *login,
                                    const char *password, GError **error);

/* The user @login; fails unless it is a registered caqmail user. */
WebUser *web_user_open(WebBackend *backend, const char *login,
                       GError **error);
void web_user_free(WebUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WebUser, web_user_free)

typedef enum {
    WEB_MAY_SEND = 1 << 0,
    WEB_MAY_READ = 1 << 1, /* own or all history */
    WEB_MAY_READ_ALL = 1 << 2,
    WEB_MAY_ADMIN = 1 << 3,
} WebRight;

gboolean web_user_may(const WebUser *user, WebRight right);
/* Fails with CQ_ERROR_PERMISSION naming @what unless the user may. */
gboolean web_user_require(const WebUser *user, WebRight right,
                          const char *what, GError **error);

/* {login, name, email, language, permissions: [...]} */
JsonNode *web_user_describe(WebUser *user, GError **error);

/* Persons, contacts, departments and lists matching every word of @text
 * (case and accents ignored), best first, at most @limit:
 * [{ref, kind, name, email, detail, members}]. */
JsonNode *web_catalog_search(WebUser *user, const char *text, guint limit,
                             GError **error);
/* Records whose identifier or title holds @text: [{ident, kind, title,
 * owner, mails}]. */
JsonNode *web_record_search(WebUser *user, const char *text, guint limit,
                            GError **error);
/* Documents the user may read whose id, title or file name holds @text,
 * optionally only of @record. */
JsonNode *web_document_search(WebUser *user, const char *text,
                              const char *record, guint limit,
                              GError **error);

/* Mails the user may read: of @record (NULL: any), in one of @states
 * (NULL: any), newest first; each with its recipients' results. */
JsonNode *web_mail_list(WebUser *user, const char *record,
                        const char *const *states, guint limit,
                        GError **error);
/* One mail with recipients, attachments, history entries and its text. */
JsonNode *web_mail_detail(WebUser *user, gint64 id, GError **error);
/* The raw message exactly as sent. */
GBytes *web_mail_raw(WebUser *user, gint64 id, GError **error);
/* Attachment @index (0-based) of mail @id, decoded; *@filename and
 * *@content_type are newly allocated. */
GBytes *web_mail_attachment(WebUser *user, gint64 id, guint index,
                            char **filename, char **content_type,
                            GError **error);

gboolean web_outbox_retry(WebUser *user, gint64 id, GError **error);
gboolean web_outbox_cancel(WebUser *user, gint64 id, GError **error);
/* {ok, entries, broken, problem, head}; needs read-all. */
JsonNode *web_history_verify(WebUser *user, GError **error);

/* A mail to send, as the page asked for it. */
typedef struct {
    GPtrArray *to, *cc, *bcc; /* of char *: addresses or references */
    gboolean copy_to_me;
    char *subject;
    char *text;
    char *record; /* or NULL */
    GPtrArray *files;      /* of WebSendFile */
} WebSendSpec;

typedef struct {
    char *path;     /* an upload, or NULL for a stored document */
    char *filename; /* the upload's name */
    char *document; /* "DOC-7", or NULL */
    gboolean pdf;   /* convert to PDF first */
} WebSendFile;

void web_send_spec_clear(WebSendSpec *spec);

typedef struct _WebComposed WebComposed;

/* Checks and composes the mail: recipients resolved, files attached.
 * Bad input (an unknown catalog reference, a bad address, a missing
 * document) fails here, before anything is converted or stored. */
WebComposed *web_send_compose(WebUser *user, const WebSendSpec *spec,
                              GError **error);
void web_composed_free(WebComposed *composed);

typedef void (*WebSendProgress)(const char *state, guint done, guint total,
                                gint64 mail_id, gpointer data);

/* Converts, stores and delivers @composed in the calling thread, with a
 * connection of its own, reporting each step: "converting" (done of
 * total), "queued", "sending", then the mail's state.  Consumes
 * @composed. */
gboolean web_send_run(const CqConfig *config, const char *login,
                      WebComposed *composed, WebSendProgress progress,
                      gpointer data, gint64 *mail_id, char **state,
                      GError **error);

#endif
