/* SMTP AUTH (RFC 4954).
 *
 * PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER (RFC 7628) are written here;
 * SCRAM-SHA-256, CRAM-MD5, NTLM and GSSAPI go through GNU SASL.  Exactly
 * one mechanism is tried per session: a second guess after a refusal
 * could lock the account.  Every client message is traced masked.
 */
#ifndef CQ_SMTP_AUTH_H
#define CQ_SMTP_AUTH_H

#include "smtp/conn.h"

typedef enum {
    CQ_SMTP_CRED_NONE,     /* GSSAPI: a Kerberos ticket of the process */
    CQ_SMTP_CRED_PASSWORD, /* user and password */
    CQ_SMTP_CRED_TOKEN,    /* user and OAuth2 access token */
} CqSmtpCredKind;

typedef struct {
    const char *user;
    const char *secret; /* password or token, by the mechanism's kind */
    const char *host;
    guint port;
} CqSmtpCredentials;

/* What @mechanism needs, or -1 when caqmail does not know it. */
int cq_smtp_auth_kind(const char *mechanism);

/* Chooses the mechanism: the first of @configured (a list separated by
 * spaces or commas; NULL: caqmail's order, strongest first) that the
 * server @offered and for which credentials exist (@have_password,
 * @have_token).  Fails with CQ_ERROR_UNAVAILABLE naming what was offered.
 * Returns a static string. */
const char *cq_smtp_auth_choose(char **offered, const char *configured,
                                gboolean have_password, gboolean have_token,
                                GError **error);

/* Runs AUTH with @mechanism on @conn.  @reply receives the server's last
 * reply (code 0 when there was none).  Returns TRUE on 235; otherwise
 * FALSE with @error (CQ_ERROR_PERMFAIL for a 5xx, CQ_ERROR_TEMPFAIL for a
 * 4xx or a lost connection, CQ_ERROR_UNAVAILABLE when GNU SASL lacks the
 * mechanism). */
gboolean cq_smtp_auth_run(CqSmtpConn *conn, const char *mechanism,
                          const CqSmtpCredentials *credentials,
                          CqSmtpReply *reply, int timeout_ms,
                          GError **error);

#endif
