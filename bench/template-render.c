/* How fast the built-in reminder templates render: builds the values of
 * one measure and renders subject, text and HTML, as a reminder run does
 * for every mail.  Prints mails per second; the reminder benchmark puts
 * this next to the rate of queueing.
 *
 *     ninja -C build bench/bench-template-render
 *     build/bench/bench-template-render [MAILS] [LANGUAGE]
 */
#include "workflow/mail-templates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CqValue *
measure_values(guint i, CqDay today)
{
    CqValue *root = cq_value_new();
    CqValue *measure = cq_value_set_group(root, "measure");
    CqValue *level = cq_value_set_group(root, "level");
    CqValue *record = cq_value_set_group(measure, "record");
    char id[32];

    g_snprintf(id, sizeof id, "M-2026-%06u", i);
    cq_value_set_date(root, "today", today);
    cq_value_set_text(cq_value_set_group(root, "recipient"), "name",
                      "Jürgen Müller");
    cq_value_set_number(level, "number", 3);
    cq_value_set_number(level, "offset", 7);
    cq_value_set_flag(level, "escalation", TRUE);
    cq_value_set_text(root, "cc_names", "Änne Groß");
    cq_value_set_text(measure, "id", id);
    cq_value_set_text(measure, "title",
                      "Prüfmittel nachkalibrieren & "
                      "Prüfanweisung <PA-17> ändern");
    cq_value_set_date(measure, "due", today - 7);
    cq_value_set_flag(measure, "overdue", TRUE);
    cq_value_set_number(measure, "days_overdue", 7);
    cq_value_set_text(measure, "responsible", "Jürgen Müller");
    cq_value_set_text(record, "id", "8D-2026-0042");
    cq_value_set_text(record, "title", "Gehäuse undicht");
    return root;
}

int
main(int argc, char **argv)
{
    guint n = argc > 1 ? (guint)strtoul(argv[1], NULL, 10) : 100000;
    const char *language = argc > 2 ? argv[2] : "de";
    g_autoptr(GError) error = NULL;
    g_autoptr(CqTemplates) templates = cq_templates_new(NULL, "de");
    const CqTemplateSet *set = cq_templates_get(
        templates, "reminder", CQ_MAIL_REMINDER, language, &error);
    CqDay today = cq_day_from_ymd(2026, 3, 12);
    gsize bytes = 0;

    if (set == NULL) {
        fprintf(stderr, "%s\n", error->message);
        return 1;
    }
    gint64 start = g_get_monotonic_time();
    for (guint i = 0; i < n; i++) {
        g_autoptr(CqValue) values = measure_values(i, today);
        CqRenderedMail mail = {0};
        if (!cq_template_set_render(set, values, &mail, &error)) {
            fprintf(stderr, "%s\n", error->message);
            return 1;
        }
        bytes += strlen(mail.subject) + strlen(mail.text) + strlen(mail.html);
        cq_rendered_mail_clear(&mail);
    }
    double seconds = (g_get_monotonic_time() - start) / 1e6;
    printf("template-render mails=%u seconds=%.3f mails_per_second=%.0f "
           "bytes_per_mail=%zu\n",
           n, seconds, n / seconds, n ? bytes / n : 0);
    return 0;
}
