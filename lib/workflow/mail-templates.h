/* The templates of the automatic mails: reminders, reminder digests and
 * collection lists.
 *
 * A template set is a subject, a text body and an optional HTML body for
 * one mail kind in one language, kept in files named NAME.LANG.PART:
 *
 *     reminder.de.subject   reminder.de.txt   reminder.de.html
 *
 * Sets for German and English ship inside the binary (reminder,
 * reminder-digest, collection).  A configured folder ([templates] folder)
 * overrides single files: a file there takes the place of the built-in one
 * of the same name, and new names or languages can be added there.  A
 * language counts as present for a set when its subject file exists; it
 * then needs its text file too.  A recipient whose language has no set
 * gets the fallback language ([templates] language).
 *
 * Each mail kind declares the variables it provides (see the schemas in
 * mail-templates.c and doc/templates.md); every template is checked against
 * them when it is loaded.
 */
#ifndef CQ_WORKFLOW_MAIL_TEMPLATES_H
#define CQ_WORKFLOW_MAIL_TEMPLATES_H

#include "compose/message.h"
#include "workflow/template.h"

typedef enum {
    CQ_MAIL_REMINDER,        /* one measure */
    CQ_MAIL_REMINDER_DIGEST, /* all measures of a person at one level */
    CQ_MAIL_COLLECTION,      /* the gauges a holder hands in */
} CqMailKind;

/* The variables the kind provides. */
const CqTemplateSchema *cq_mail_kind_schema(CqMailKind kind);
/* "reminder", "reminder-digest", "collection": also the name of the
 * built-in template set of that kind. */
const char *cq_mail_kind_name(CqMailKind kind);

typedef struct {
    char *name;
    char *language; /* the language the set is written in */
    CqTemplate *subject;
    CqTemplate *text;
    CqTemplate *html; /* NULL: the mail has no HTML body */
} CqTemplateSet;

typedef struct {
    char *subject; /* one line */
    char *text;
    char *html; /* NULL when the set has no HTML part */
} CqRenderedMail;

/* Renders every part of @set with @data into @out, which the caller clears
 * with cq_rendered_mail_clear().  Fails as cq_template_render(). */
gboolean cq_template_set_render(const CqTemplateSet *set, const CqValue *data,
                                CqRenderedMail *out, GError **error);
void cq_rendered_mail_clear(CqRenderedMail *mail);

/* Renders @set with @data into the subject and bodies of @message. */
gboolean cq_template_set_apply(const CqTemplateSet *set, const CqValue *data,
                               CqMessage *message, GError **error);

typedef struct _CqTemplates CqTemplates;

/* A cache of compiled template sets.  @folder (NULL: built-in only) holds
 * the overrides; @fallback_language (NULL: "en") is used for recipients
 * whose language has no templates.  Not thread-safe. */
CqTemplates *cq_templates_new(const char *folder,
                              const char *fallback_language);
void cq_templates_free(CqTemplates *templates);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqTemplates, cq_templates_free)

/* The set @name of @kind for a recipient who reads @language (a catalog
 * value such as "de", "en-GB", "de_DE.UTF-8"; NULL: the fallback),
 * compiled on first use and cached.  Returned borrowed from @templates.
 * Fails with CQ_ERROR_CONFIG for a template that does not compile,
 * CQ_ERROR_NOT_FOUND when neither the language nor the fallback has the
 * set, CQ_ERROR_IO for an unreadable file. */
const CqTemplateSet *cq_templates_get(CqTemplates *templates, const char *name,
                                      CqMailKind kind, const char *language,
                                      GError **error);

/* Compiles the set @name of @kind in every language that is present
 * (built in or in the folder) and in the fallback language, so that a run
 * finds broken templates before it sends anything. */
gboolean cq_templates_check(CqTemplates *templates, const char *name,
                            CqMailKind kind, GError **error);

/* TRUE for a name that can be a template set: 1 to 64 of a-z, 0-9, '-'
 * and '_', starting with a letter or digit. */
gboolean cq_template_name_valid(const char *name);

/* The primary language of @tag in lower case ("de_DE.UTF-8" -> "de"), or
 * NULL when @tag does not start with 2 or 3 letters.  Newly allocated. */
char *cq_language_normalize(const char *tag);

#endif
