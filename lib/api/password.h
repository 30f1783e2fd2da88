/* Passwords for signing in to the web page.
 *
 * A password is kept only as libsodium's Argon2id string (parameters,
 * salt and hash together) in user_password, one per registered user.
 * Setting one needs the permission administer, or being that user;
 * checking one needs no session permission, since it is what signs a
 * user in.  A password is 8 to 1024 bytes of UTF-8 without control
 * characters; it never reaches an event, an error message or the
 * history.
 */
#ifndef CQ_API_PASSWORD_H
#define CQ_API_PASSWORD_H

#include "access/access.h"

/* Hashes @password and stores it for @login, replacing an earlier one. */
gboolean cq_password_set(CqSession *session, const char *login,
                         const char *password, GError **error);

/* TRUE when @login is registered and @password is its password.  A
 * wrong password, an unknown login and a user without a password all
 * fail alike with CQ_ERROR_PERMISSION, and take about as long. */
gboolean cq_password_check(CqStore *store, const char *login,
                           const char *password, GError **error);

#endif
