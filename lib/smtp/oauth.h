/* OAuth2 access tokens for SMTP (XOAUTH2, OAUTHBEARER).
 *
 * A token comes from `[smtp] token_command` (a program that prints it),
 * or caqmail gets it itself from `[smtp] oauth_token_url` with the
 * refresh-token grant when a refresh token is configured, else with the
 * client-credentials grant (RFC 6749 6 and 4.4).  Tokens so obtained are
 * cached in <data_dir>/oauth/ (mode 0600) until shortly before they
 * expire; a refresh token that the endpoint rotates is kept there too.
 * The endpoint must use https, except on a loopback address.
 */
#ifndef CQ_SMTP_OAUTH_H
#define CQ_SMTP_OAUTH_H

#include "common/config.h"

/* TRUE when a token source is configured. */
gboolean cq_smtp_oauth_configured(const CqConfig *config);

/* A new access token to free with cq_secret_free().  @renew skips the
 * cache.  Fails with CQ_ERROR_CONFIG, CQ_ERROR_TEMPFAIL (endpoint not
 * reachable, 5xx) or CQ_ERROR_PERMFAIL (the grant was refused). */
char *cq_smtp_oauth_token(const CqConfig *config, gboolean renew,
                          GError **error);

/* Forgets a cached token, after the server refused it. */
void cq_smtp_oauth_forget(const CqConfig *config);

#endif
