/* One HTTP POST over libsoup (http.h). */
#include "smtp/http.h"

#include "common/error.h"

#include <libsoup/soup.h>

GBytes *
cq_http_post(const char *what, const char *url, const char *content_type,
             GBytes *body, guint *status, GError **error)
{
    g_autoptr(SoupSession) session = soup_session_new_with_options(
        "timeout", 60, "user-agent", "caqmail", NULL);
    g_autoptr(SoupMessage) msg = soup_message_new("POST", url);
    g_autoptr(GError) local = NULL;
    GBytes *reply = NULL;

    soup_message_set_request_body_from_bytes(msg, content_type, body);
    reply = soup_session_send_and_read(session, msg, NULL, &local);
    if (reply == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL, "%s '%s': %s", what,
                    url, local->message);
        return NULL;
    }
    *status = soup_message_get_status(msg);
    return reply;
}
