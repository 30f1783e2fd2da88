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

/* What a run prints: with --json one object with the array "mails" and
 * the counts; otherwise, in a dry run, each mail as text. */
typedef struct {
    gboolean json;
    gboolean dry_run;
    JsonBuilder *b; /* owned; from begin to end */
} CliRunOutput;

typedef struct {
    const char *name;
    guint value;
} CliCount;

/* Opens the session for a run and starts @out; prints the error and
 * sets *@code on failure. */
CqSession *cli_run_start(CqCli *cli, CliRunOutput *out, int *code);
/* Ends @out unprinted and reports @error. */
int cli_run_fail(CqCli *cli, CliRunOutput *out, const GError *error);
void cli_run_output_mail(CliRunOutput *out, const CliRunMail *mail);
/* Prints the JSON with @counts (when --json) and frees the builder. */
void cli_run_output_end(CliRunOutput *out, const CliCount *counts, guint n);
/* EX_OK when nothing @failed; else says so and returns EX_DATAERR. */
int cli_run_result(CqCli *cli, guint failed, const char *what);

/* Measures and gauges as a table or a JSON array (objects filled by
 * @add). */
typedef void (*CliJsonFunc)(JsonBuilder *b, gconstpointer item);
void cli_print_items(GPtrArray *items, gboolean json, CliJsonFunc add,
                     void (*table)(GPtrArray *items));

/* The subcommand "NAME ID [--json]" that shows an item and its history.
 * @get returns the item (freed with @free) and sets its history. */
typedef struct {
    const char *name;
    const char *param;
    const char *summary;
    gpointer (*get)(CqSession *session, const char *id, GPtrArray **history,
                    GError **error);
    GDestroyNotify free;
    CliJsonFunc add;
    void (*text)(gconstpointer item, const GPtrArray *history);
} CliShow;

int cli_run_show(CqCli *cli, int argc, char **argv, const CliShow *show);

/* The subcommand "NAME FILE" that imports a CSV file with @import and
 * says how many @noun (plural) it wrote. */
typedef gboolean (*CliImportFunc)(CqSession *session, const char *path,
                                  guint *count, GError **error);
int cli_run_import(CqCli *cli, int argc, char **argv, const char *name,
                   const char *summary, CliImportFunc import, const char *noun);

#endif
