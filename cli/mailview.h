/* Printing mails for `caqmail history` and `caqmail outbox`, as text for
 * people and as JSON for scripts. */
#ifndef CQ_CLI_MAILVIEW_H
#define CQ_CLI_MAILVIEW_H

#include "cli.h"
#include "history/mails.h"

/* Prints an array of CqMailInfo. */
void cli_print_mails(GPtrArray *mails, gboolean json);
void cli_print_mail_detail(const CqMailDetail *detail, gboolean json);

/* Members of a JSON object: a NULL text and a time of 0 become null. */
void cli_json_string(JsonBuilder *b, const char *name, const char *value);
void cli_json_int(JsonBuilder *b, const char *name, gint64 value);
void cli_json_time(JsonBuilder *b, const char *name, gint64 usec);

#endif
