/* Mail templates: a small template language, checked when it is loaded.
 *
 * A template is one part of a mail (subject, text or HTML body) written in
 * this syntax:
 *
 *     {{measure.title}}                a value; dotted paths reach into groups
 *     {{measure.due|long}}             a value through formatters
 *     {{#each measures as m}}...{{/each}}   repeat for every item of a list
 *     {{#if measure.record}}...{{#else}}...{{/if}}   choose by a value
 *     {{#if !overdue}}...{{/if}}       the same, negated
 *     {{! a comment }}                 nothing
 *     {{"{{"}}                         literal text (here two braces)
 *
 * Spaces inside the braces are allowed.  A line holding nothing but one
 * block tag (#each, /each, #if, #else, /if) or a comment, apart from spaces
 * and tabs, disappears with its line break, so that blocks can stand on
 * lines of their own without leaving blank lines behind.
 *
 * Inside `{{#each LIST as NAME}}`, NAME is the current item and NAME.field
 * its fields; the variables outside the loop stay visible.  A loop name
 * may not hide another variable.
 *
 * `#if` is true for a flag that is set, a number other than 0, a text that
 * is not empty, a list with items, and any date or group that is present.
 * A value the schema declares but the caller did not give is false and
 * prints as nothing.
 *
 * Formatters, applied left to right:
 *     iso      a date as 2026-12-15
 *     long     a date written out: "15. Dezember 2026", "15 December 2026"
 *     count    the number of items of a list
 *     upper    upper case
 *     pad:N    padded with spaces to N characters (1 to 200), for columns
 *              in plain text
 * A date without a formatter prints in the language's short form
 * (15.12.2026 in German, 2026-12-15 otherwise).
 *
 * What each part does with values:
 *  - HTML: every value is escaped (& < > " ' become entities); the
 *    template's own text is taken as written.
 *  - text: values are inserted as they are.
 *  - subject: the template must be one line (a trailing line break of the
 *    file is dropped); line breaks, tabs and other control characters in
 *    values are flattened to single spaces, and the result is trimmed, so
 *    a rendered subject never holds a line break.
 *
 * Every template is checked against the schema of its mail kind when it is
 * compiled: an unknown variable, a loop over something that is not a list,
 * an item field used outside its loop, or a formatter applied to the wrong
 * type is an error naming the file, the line and the name.  Limits against
 * hostile templates: CQ_TEMPLATE_MAX_SOURCE bytes of source, blocks nested
 * CQ_TEMPLATE_MAX_DEPTH deep, CQ_TEMPLATE_MAX_OUTPUT bytes of output and
 * CQ_TEMPLATE_MAX_STEPS steps of work per rendering.
 */
#ifndef CQ_WORKFLOW_TEMPLATE_H
#define CQ_WORKFLOW_TEMPLATE_H

#include "workflow/day.h"

#include <glib.h>

#define CQ_TEMPLATE_MAX_SOURCE (256 * 1024)
#define CQ_TEMPLATE_MAX_DEPTH 16
#define CQ_TEMPLATE_MAX_OUTPUT (8 * 1024 * 1024)
#define CQ_TEMPLATE_MAX_STEPS (16 * 1024 * 1024)

/* ---- Values: the tree a caller builds for one rendering ---- */

typedef enum {
    CQ_VALUE_TEXT,
    CQ_VALUE_NUMBER,
    CQ_VALUE_FLAG,
    CQ_VALUE_DATE,
    CQ_VALUE_GROUP, /* named values */
    CQ_VALUE_LIST,  /* of groups */
} CqValueType;

typedef struct _CqValue CqValue;

/* A new empty group: the root of a tree.  The root owns every value set in
 * it; free it with cq_value_free().  The setters replace a value of the
 * same key.  Keys and texts are copied; texts must be valid UTF-8. */
CqValue *cq_value_new(void);
void cq_value_free(CqValue *value);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqValue, cq_value_free)

/* @text NULL leaves the key absent (false in #if, prints as nothing). */
void cq_value_set_text(CqValue *group, const char *key, const char *text);
void cq_value_set_number(CqValue *group, const char *key, gint64 number);
void cq_value_set_flag(CqValue *group, const char *key, gboolean flag);
void cq_value_set_date(CqValue *group, const char *key, CqDay day);
/* These two return the new empty child, owned by @group. */
CqValue *cq_value_set_group(CqValue *group, const char *key);
CqValue *cq_value_set_list(CqValue *group, const char *key);
/* Appends a new empty group to @list and returns it, owned by @list. */
CqValue *cq_value_list_append(CqValue *list);

/* The child named @key of @group, or NULL. */
const CqValue *cq_value_get(const CqValue *group, const char *key);
CqValueType cq_value_type(const CqValue *value);

/* ---- Schemas: what a mail kind provides ---- */

typedef enum {
    CQ_VAR_TEXT,
    CQ_VAR_NUMBER,
    CQ_VAR_FLAG,
    CQ_VAR_DATE,
    CQ_VAR_LIST,
    CQ_VAR_GROUP, /* implied by paths below it; never listed in a schema */
} CqVarType;

/* One variable: "measure.title".  The fields of a list's items are listed
 * under the list's path: "measures" (CQ_VAR_LIST), "measures.title". */
typedef struct {
    const char *path;
    CqVarType type;
} CqTemplateVar;

typedef struct {
    const char *name; /* the mail kind, for messages */
    const CqTemplateVar *vars;
    gsize n_vars;
} CqTemplateSchema;

/* ---- Templates ---- */

typedef enum {
    CQ_TEMPLATE_SUBJECT,
    CQ_TEMPLATE_TEXT,
    CQ_TEMPLATE_HTML,
} CqTemplatePart;

typedef struct _CqTemplate CqTemplate;

/* Compiles @source (@length bytes, or NUL-terminated when -1) as @part of
 * a mail in @language ("de", "en": chooses the date forms), checked
 * against @schema.  @file names the template in error messages.  Errors
 * are CQ_ERROR_CONFIG ("template 'reminder.de.txt' line 4: unknown
 * variable 'measure.titel'"); CQ_ERROR_TOO_LARGE for an oversized source.
 * Returns a new template to free with cq_template_free(); @schema must
 * outlive it. */
CqTemplate *cq_template_compile(const char *file, const char *source,
                                gssize length, CqTemplatePart part,
                                const char *language,
                                const CqTemplateSchema *schema, GError **error);
void cq_template_free(CqTemplate *template);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqTemplate, cq_template_free)

const char *cq_template_file(const CqTemplate *template);

/* Renders @template with the values of @data (a tree from cq_value_new).
 * Returns a new string, or NULL with CQ_ERROR_TOO_LARGE when the output or
 * the work would pass the limits, or CQ_ERROR_FAILED when @data holds a
 * value of another type than the schema declares. */
char *cq_template_render(const CqTemplate *template, const CqValue *data,
                         GError **error);

#endif
