#include "itemview.h"

#include <stdio.h>

gboolean
cli_parse_day(CqCli *cli, const char *option, const char *text, CqDay *day)
{
    g_autoptr(GError) error = NULL;

    if (text == NULL) {
        *day = cq_day_today();
        return TRUE;
    }
    if (cq_day_parse(option, text, day, &error))
        return TRUE;
    fprintf(stderr, "caqmail %s: %s\n", cli->command, error->message);
    return FALSE;
}

void
cli_json_day(JsonBuilder *b, const char *name, CqDay day)
{
    char iso[CQ_DAY_ISO_LEN];

    cli_json_string(b, name,
                    day == CQ_DAY_NONE ? NULL : cq_day_format_iso(day, iso));
}

void
cli_json_item_history(JsonBuilder *b, const char *name,
                      const GPtrArray *entries)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (guint i = 0; i < entries->len; i++) {
        const CqItemEntry *e = entries->pdata[i];
        json_builder_begin_object(b);
        cli_json_time(b, "at", e->at);
        cli_json_string(b, "actor", e->actor);
        cli_json_string(b, "kind", e->kind);
        if (e->level > 0 || g_strcmp0(e->kind, "level") == 0)
            cli_json_int(b, "level", e->level);
        if (e->mail_id != 0)
            cli_json_int(b, "mail", e->mail_id);
        if (e->history_seq != 0)
            cli_json_int(b, "entry", e->history_seq);
        cli_json_string(b, "detail", e->detail);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

void
cli_print_item_history(const GPtrArray *entries)
{
    for (guint i = 0; i < entries->len; i++) {
        const CqItemEntry *e = entries->pdata[i];
        g_autofree char *at = cli_format_time(e->at);
        g_autoptr(GString) line = g_string_new(NULL);
        g_string_printf(line, "%s %-10s by %s", at, e->kind, e->actor);
        if (e->mail_id != 0)
            g_string_append_printf(line, ", mail %" G_GINT64_FORMAT,
                                   e->mail_id);
        if (e->detail != NULL && *e->detail)
            g_string_append_printf(line, ": %s", e->detail);
        puts(line->str);
    }
}

/* The recipients of @kind as displayed addresses; newly allocated. */
static GStrv
recipients_of(const CqMessage *m, CqRecipientKind kind)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();

    for (guint i = 0; i < m->recipients->len; i++) {
        const CqRecipient *r = m->recipients->pdata[i];
        if (r->kind != kind)
            continue;
        g_autofree char *display = cq_address_display(r->address);
        g_strv_builder_add(b, display);
    }
    return g_strv_builder_end(b);
}

static void
json_strings(JsonBuilder *b, const char *name, const char *const *values)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (guint i = 0; values && values[i]; i++)
        json_builder_add_string_value(b, values[i]);
    json_builder_end_array(b);
}

void
cli_json_run_mail(JsonBuilder *b, const CliRunMail *mail)
{
    g_auto(GStrv) to = recipients_of(mail->message, CQ_RCPT_TO);
    g_auto(GStrv) cc = recipients_of(mail->message, CQ_RCPT_CC);

    json_builder_begin_object(b);
    if (mail->mail_id != 0)
        cli_json_int(b, "mail", mail->mail_id);
    if (mail->level != 0)
        cli_json_int(b, "level", mail->level);
    cli_json_string(b, "language", mail->language);
    cli_json_string(b, "subject", mail->message->subject);
    json_strings(b, "to", (const char *const *)to);
    json_strings(b, "cc", (const char *const *)cc);
    json_strings(b, mail->what, mail->items);
    json_builder_end_object(b);
}

void
cli_print_run_mail(const CliRunMail *mail)
{
    g_auto(GStrv) to = recipients_of(mail->message, CQ_RCPT_TO);
    g_auto(GStrv) cc = recipients_of(mail->message, CQ_RCPT_CC);
    g_autofree char *to_text = g_strjoinv(", ", to);
    g_autofree char *cc_text = g_strjoinv(", ", cc);
    g_autofree char *items = g_strjoinv(", ", (char **)mail->items);

    if (mail->mail_id != 0)
        printf("mail %" G_GINT64_FORMAT, mail->mail_id);
    else
        printf("would send");
    if (mail->level != 0)
        printf(", level %u", mail->level);
    printf(" (%s): %s\n  to: %s\n", mail->language, mail->message->subject,
           to_text);
    if (*cc_text)
        printf("  cc: %s\n", cc_text);
    printf("  %s: %s\n", mail->what, items);
}
