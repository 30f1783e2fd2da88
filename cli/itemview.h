/* What the commands of the automatic mails share (measure, gauge, remind,
 * gauges collect): dates, the histories of measures and gauges, and the
 * mails of a run, as text for people and as JSON for scripts. */
#ifndef CQ_CLI_ITEMVIEW_H
#define CQ_CLI_ITEMVIEW_H

#include "mailview.h"

#include "compose/message.h"
#include "history/item.h"
#include "workflow/day.h"

/* Parses the value @text of the date option @option (YYYY-MM-DD); NULL
 * gives today.  Prints the error and returns FALSE on failure. */
gboolean cli_parse_day(CqCli *cli, const char *option, const char *text,
                       CqDay *day);

/* A date as YYYY-MM-DD, or null for CQ_DAY_NONE. */
void cli_json_day(JsonBuilder *b, const char *name, CqDay day);

/* An array of CqItemEntry as the member @name, or as lines of text. */
void cli_json_item_history(JsonBuilder *b, const char *name,
                           const GPtrArray *entries);
void cli_print_item_history(const GPtrArray *entries);

/* One mail of a run: its number (0 in a dry run), language, subject,
 * recipients and the items it is about (@what: "measures", "gauges"). */
typedef struct {
    const CqMessage *message;
    const char *language;
    gint64 mail_id;
    const char *what;
    const char *const *items;
    guint level; /* reminders; 0: none */
} CliRunMail;

void cli_json_run_mail(JsonBuilder *b, const CliRunMail *mail);
void cli_print_run_mail(const CliRunMail *mail);

#endif
