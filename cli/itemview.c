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

CqSession *
cli_run_start(CqCli *cli, CliRunOutput *out, int *code)
{
    CqSession *session = cli_start(cli, code);

    if (session == NULL)
        return NULL;
    out->b = json_builder_new();
    json_builder_begin_object(out->b);
    json_builder_set_member_name(out->b, "mails");
    json_builder_begin_array(out->b);
    return session;
}

int
cli_run_fail(CqCli *cli, CliRunOutput *out, const GError *error)
{
    g_clear_object(&out->b);
    cli_progress_end();
    return cli_fail(cli, error);
}

void
cli_run_output_mail(CliRunOutput *out, const CliRunMail *mail)
{
    if (out->json)
        cli_json_run_mail(out->b, mail);
    else if (out->dry_run)
        cli_print_run_mail(mail);
}

void
cli_run_output_end(CliRunOutput *out, const CliCount *counts, guint n)
{
    json_builder_end_array(out->b);
    for (guint i = 0; i < n; i++)
        cli_json_int(out->b, counts[i].name, counts[i].value);
    json_builder_end_object(out->b);
    if (out->json)
        cli_print_json(json_builder_get_root(out->b));
    g_clear_object(&out->b);
}

int
cli_run_result(CqCli *cli, guint failed, const char *what)
{
    if (failed == 0)
        return EX_OK;
    fprintf(stderr, "caqmail %s: %u %s; the log names them\n", cli->command,
            failed, what);
    return EX_DATAERR;
}

void
cli_print_items(GPtrArray *items, gboolean json, CliJsonFunc add,
                void (*table)(GPtrArray *items))
{
    if (!json) {
        table(items);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0; i < items->len; i++) {
        json_builder_begin_object(b);
        add(b, items->pdata[i]);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    cli_print_json(json_builder_get_root(b));
}

int
cli_run_show(CqCli *cli, int argc, char **argv, const CliShow *show)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) history = NULL;
    gboolean json = FALSE;
    int code = EX_USAGE;
    const GOptionEntry entries[] = {
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print JSON for scripts",
         NULL},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, show->name, show->param, show->summary, entries,
                       &argc, &argv))
        return EX_USAGE;
    if (argc != 2) {
        fprintf(stderr, "caqmail %s: give the %s\n", show->name, show->param);
        return EX_USAGE;
    }
    g_autoptr(CqSession) s = cli_start(cli, &code);
    if (s == NULL)
        return code;
    gpointer item = show->get(s, argv[1], &history, &error);
    if (item == NULL)
        return cli_fail(cli, error);
    if (!json) {
        show->text(item, history);
        show->free(item);
        return EX_OK;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    show->add(b, item);
    cli_json_item_history(b, "history", history);
    json_builder_end_object(b);
    cli_print_json(json_builder_get_root(b));
    show->free(item);
    return EX_OK;
}

int
cli_run_import(CqCli *cli, int argc, char **argv, const char *name,
               const char *summary, CliImportFunc import, const char *noun)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    guint count = 0;

    if (!cli_parse_sub(cli, name, "FILE", summary, NULL, &argc, &argv))
        return EX_USAGE;
    if (argc != 2) {
        fprintf(stderr, "caqmail %s: give the FILE\n", name);
        return EX_USAGE;
    }
    g_autoptr(CqSession) s = cli_start(cli, &code);
    if (s == NULL)
        return code;
    if (!import(s, argv[1], &count, &error))
        return cli_fail(cli, error);
    printf("%s imported: %u\n", noun, count);
    return EX_OK;
}
