#include "mailview.h"

#include <stdio.h>

static void
set_string(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value == NULL)
        json_builder_add_null_value(b);
    else
        json_builder_add_string_value(b, value);
}

static void
set_int(JsonBuilder *b, const char *name, gint64 value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

static void
set_time(JsonBuilder *b, const char *name, gint64 usec)
{
    g_autofree char *text = cli_format_time_iso(usec);
    set_string(b, name, *text ? text : NULL);
}

static void
add_info(JsonBuilder *b, const CqMailInfo *m)
{
    set_int(b, "id", m->id);
    set_string(b, "message_id", m->message_id);
    set_string(b, "record", m->record);
    set_string(b, "sender", m->sender);
    set_string(b, "operator", m->operator);
    set_string(b, "from", m->from);
    set_string(b, "subject", m->subject);
    set_string(b, "origin", m->origin);
    set_time(b, "created", m->created);
    set_int(b, "size", m->size);
    set_string(b, "sha256", m->sha256);
    set_string(b, "state", m->state);
    set_int(b, "attempts", m->attempts);
    set_time(b, "next_attempt",
             g_strv_contains((const char *const[]){"queued", "deferred", NULL},
                             m->state)
                 ? m->next_attempt
                 : 0);
    set_string(b, "last_error", m->last_error);
    set_int(b, "recipients", m->n_rcpts);
}

void
cli_print_mails(GPtrArray *mails, gboolean json)
{
    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_array(b);
        for (guint i = 0; i < mails->len; i++) {
            json_builder_begin_object(b);
            add_info(b, mails->pdata[i]);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        cli_print_json(json_builder_get_root(b));
        return;
    }
    CliTable *t = cli_table_new((const char *const[]){
        "id", "created", "state", "sender", "record", "subject", NULL});
    for (guint i = 0; i < mails->len; i++) {
        const CqMailInfo *m = mails->pdata[i];
        g_autofree char *id = g_strdup_printf("%" G_GINT64_FORMAT, m->id);
        g_autofree char *when = cli_format_time(m->created);
        cli_table_add(t, (const char *const[]){id, when, m->state, m->sender,
                                               m->record, m->subject, NULL});
    }
    cli_table_print(t);
}

static void
add_rcpt(JsonBuilder *b, const CqRcptInfo *r)
{
    json_builder_begin_object(b);
    if (r->kind != NULL) {
        set_string(b, "kind", r->kind);
        set_string(b, "display", r->display);
        set_string(b, "source", r->source);
    }
    set_string(b, "address", r->address);
    set_string(b, "status", r->status);
    set_int(b, "code", r->code);
    set_string(b, "reply", r->reply);
    json_builder_end_object(b);
}

static void
add_detail_lists(JsonBuilder *b, const CqMailDetail *d)
{
    json_builder_set_member_name(b, "recipients");
    json_builder_begin_array(b);
    for (guint i = 0; i < d->rcpts->len; i++)
        add_rcpt(b, d->rcpts->pdata[i]);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "attachments");
    json_builder_begin_array(b);
    for (guint i = 0; i < d->attachments->len; i++) {
        const CqAttachmentInfo *a = d->attachments->pdata[i];
        json_builder_begin_object(b);
        set_string(b, "filename", a->filename);
        set_string(b, "content_type", a->content_type);
        set_int(b, "size", a->size);
        set_string(b, "sha256", a->sha256);
        set_string(b, "source", a->source);
        set_string(b, "source_sha256", a->source_sha256);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void
add_entries(JsonBuilder *b, const CqMailDetail *d)
{
    json_builder_set_member_name(b, "history");
    json_builder_begin_array(b);
    for (guint i = 0; i < d->entries->len; i++) {
        const CqEntryInfo *e = d->entries->pdata[i];
        json_builder_begin_object(b);
        set_int(b, "entry", e->seq);
        set_string(b, "kind", e->kind);
        set_string(b, "actor", e->actor);
        set_time(b, "at", e->at);
        set_string(b, "detail", e->detail);
        json_builder_set_member_name(b, "results");
        json_builder_begin_array(b);
        for (guint k = 0; k < e->results->len; k++)
            add_rcpt(b, e->results->pdata[k]);
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

/* "from document:DOC-7 (sha256 ...)", "converted from a file with
 * sha256 ..." */
static void
print_attachment_source(const CqAttachmentInfo *a)
{
    if (a->source != NULL && a->source_sha256 != NULL)
        printf("            from %s (sha256 %s)\n", a->source,
               a->source_sha256);
    else if (a->source != NULL)
        printf("            from %s\n", a->source);
    else if (a->source_sha256 != NULL)
        printf("            converted from a file with sha256 %s\n",
               a->source_sha256);
}

static void
print_detail_text(const CqMailDetail *d)
{
    const CqMailInfo *m = d->mail;
    g_autofree char *created = cli_format_time(m->created);

    printf("mail        %" G_GINT64_FORMAT "\nmessage-id  <%s>\n"
           "record      %s\nsender      %s%s%s%s\nfrom        %s\n"
           "subject     %s\norigin      %s\ncreated     %s\n"
           "state       %s (%" G_GINT64_FORMAT " attempts)\n"
           "size        %" G_GINT64_FORMAT " bytes, sha256 %s\n",
           m->id, m->message_id, m->record ? m->record : "(journal)",
           m->sender, m->operator ? " (by " : "",
           m->operator ? m->operator : "", m->operator ? ")" : "", m->from,
           m->subject, m->origin, created, m->state, m->attempts, m->size,
           m->sha256);
    if (m->last_error != NULL)
        printf("last error  %s\n", m->last_error);
    for (guint i = 0; i < d->rcpts->len; i++) {
        const CqRcptInfo *r = d->rcpts->pdata[i];
        printf("%-4s        %s [%s]%s%s: %s", r->kind, r->display, r->status,
               r->source ? " from " : "", r->source ? r->source : "",
               r->reply ? r->reply : "");
        putchar('\n');
    }
    for (guint i = 0; i < d->attachments->len; i++) {
        const CqAttachmentInfo *a = d->attachments->pdata[i];
        printf("attachment  %s (%s, %" G_GINT64_FORMAT " bytes, sha256 %s)\n",
               a->filename, a->content_type, a->size, a->sha256);
        print_attachment_source(a);
    }
    for (guint i = 0; i < d->entries->len; i++) {
        const CqEntryInfo *e = d->entries->pdata[i];
        g_autofree char *at = cli_format_time(e->at);
        printf("entry %-5" G_GINT64_FORMAT " %s %s by %s %s\n", e->seq, at,
               e->kind, e->actor, e->detail);
        for (guint k = 0; k < e->results->len; k++) {
            const CqRcptInfo *r = e->results->pdata[k];
            printf("            <%s> %s %" G_GINT64_FORMAT " %s\n", r->address,
                   r->status, r->code, r->reply);
        }
    }
}

void
cli_print_mail_detail(const CqMailDetail *d, gboolean json)
{
    if (!json) {
        print_detail_text(d);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_info(b, d->mail);
    add_detail_lists(b, d);
    add_entries(b, d);
    json_builder_end_object(b);
    cli_print_json(json_builder_get_root(b));
}
