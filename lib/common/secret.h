/* Secrets: passwords and tokens, from a program or the environment.
 *
 * A secret never comes from the command line (other users can read a
 * process's arguments).  It comes from, in this order: a program whose
 * first output line is the secret (run without a shell, its arguments split
 * as a shell would split them), an environment variable, or a value kept in
 * a private configuration file.  Secrets are wiped from memory when freed.
 */
#ifndef CQ_COMMON_SECRET_H
#define CQ_COMMON_SECRET_H

#include <glib.h>

/* Returns a new secret to free with cq_secret_free(), or NULL with @error
 * set.  Returns NULL without an error when no source is configured.  @what
 * names the secret in messages ("SMTP password"); a message never contains
 * the secret itself. */
char *cq_secret_fetch(const char *what, const char *command,
                      const char *env_name, const char *inline_value,
                      GError **error);

/* Runs @command_line without a shell and returns its standard output with
 * one trailing line end removed; used for password and token programs. */
char *cq_secret_run_command(const char *what, const char *command_line,
                            GError **error);

/* Overwrites and frees @secret; NULL is allowed. */
void cq_secret_free(char *secret);

#endif
