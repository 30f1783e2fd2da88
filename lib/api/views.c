/* The JSON views of the public API: what front ends show of the
 * catalog, records, documents and mails (see caqmail.h). */
#include "api/api.h"

#include "common/error.h"
#include "api/views.h"

#include "catalog/catalog.h"
#include "catalog/fold.h"
#include "document/document.h"
#include "history/history.h"
#include "history/mails.h"
#include "history/record.h"

#include <string.h>

void
cq_view_string(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value != NULL)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

void
cq_view_int(JsonBuilder *b, const char *name, gint64 value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

char *
cq_view_finish(JsonBuilder *b)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    JsonNode *root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    char *text = json_generator_to_data(gen, NULL);
    json_node_unref(root);
    g_object_unref(b);
    return text;
}

/* The session of @context, or NULL with a public error. */
static CqSession *
session_of(CaqmailContext *context, GError **error)
{
    CqSession *s = cq_api_session(context, error);
    if (s == NULL)
        cq_api_fail(error);
    return s;
}

static gboolean
require_reader(CqSession *s, GError **error)
{
    if (cq_session_may(s, CQ_PERM_READ_OWN) ||
        cq_session_may(s, CQ_PERM_READ_ALL))
        return TRUE;
    return cq_session_require(s, CQ_PERM_READ_OWN, "read the history", error);
}

/* Lower is better: the name or identifier starting with the text, then
 * a word of it, then anything else that matched. */
static int
rank(const CqEntry *entry, const char *folded)
{
    const char *fields[] = {"name", "ident"};
    int best = 2;

    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        const char *v = cq_entry_get(entry, fields[i]);
        if (v == NULL)
            continue;
        g_autofree char *f = cq_fold_strip(v);
        if (g_str_has_prefix(f, folded))
            return 0;
        g_autofree char *spaced = g_strconcat(" ", folded, NULL);
        if (strstr(f, spaced) != NULL)
            best = 1;
    }
    return best;
}

typedef struct {
    CqEntry *entry;
    int rank;
    char *key; /* collation key of the name, owned */
} Ranked;

static int
compare_ranked(gconstpointer a, gconstpointer b)
{
    const Ranked *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank - y->rank;
    return strcmp(x->key, y->key);
}

static void
ranked_clear(gpointer data)
{
    g_free(((Ranked *)data)->key);
}

static void
describe_entry(JsonBuilder *b, const CqEntry *e)
{
    g_autofree char *ref = cq_entry_ref(e);
    const char *detail = NULL;
    const char *email = cq_entry_get(e, "email");

    json_builder_begin_object(b);
    cq_view_string(b, "ref", ref);
    cq_view_string(b, "kind", cq_catalog_kind_name(e->kind));
    cq_view_string(b, "name", cq_entry_get(e, "name"));
    if (e->kind == CQ_CATALOG_LIST)
        detail = cq_entry_get(e, "description");
    else if (e->kind == CQ_CATALOG_PERSON)
        detail = cq_entry_get(e, "department");
    else if (e->kind == CQ_CATALOG_CONTACT)
        detail = cq_entry_get(e, "organisation");
    cq_view_string(b, "detail", detail && *detail ? detail : NULL);
    cq_view_string(b, "email", email && *email ? email : NULL);
    if (e->kind == CQ_CATALOG_LIST)
        cq_view_int(b, "members", e->members ? g_strv_length(e->members) : 0);
    json_builder_end_object(b);
}

char *
caqmail_json_catalog_search(CaqmailContext *context, const char *text,
                            guint limit, GError **error)
{
    CqSession *s = session_of(context, error);
    g_autoptr(GPtrArray) found = s ? cq_catalog_search(s, text, error) : NULL;
    if (found == NULL) {
        cq_api_fail(error);
        return NULL;
    }
    g_autofree char *folded = g_strstrip(cq_fold_strip(text));
    g_autoptr(GArray) ranked = g_array_new(FALSE, FALSE, sizeof(Ranked));
    g_array_set_clear_func(ranked, ranked_clear);
    for (guint i = 0; i < found->len; i++) {
        CqEntry *e = found->pdata[i];
        if (e->kind == CQ_CATALOG_ORGANISATION)
            continue;
        const char *name = cq_entry_get(e, "name");
        Ranked r = {e, rank(e, folded),
                    g_utf8_collate_key(name ? name : "", -1)};
        g_array_append_val(ranked, r);
    }
    g_array_sort(ranked, compare_ranked);
    JsonBuilder *b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0; i < ranked->len && i < limit; i++)
        describe_entry(b, g_array_index(ranked, Ranked, i).entry);
    json_builder_end_array(b);
    return cq_view_finish(b);
}

/* TRUE when every word of @folded_query occurs in one of @values. */
static gboolean
matches(const char *folded_query, const char *const *values)
{
    g_auto(GStrv) words = g_strsplit_set(folded_query, " \t", -1);
    GString *hay = g_string_new(NULL);
    gboolean ok = TRUE;

    for (guint i = 0; values[i] != NULL; i++) {
        g_autofree char *f = cq_fold_strip(values[i]);
        g_string_append_printf(hay, "%s\n", f);
    }
    for (guint i = 0; ok && words[i]; i++)
        ok = *words[i] == '\0' || strstr(hay->str, words[i]) != NULL;
    g_string_free(hay, TRUE);
    return ok;
}

/* The texts a search looks in, and how an item is written. */
typedef struct {
    void (*texts)(gconstpointer item, const char **out); /* up to 3 */
    void (*write)(JsonBuilder *b, gconstpointer item);
} Searched;

/* At most @limit items of @list (taken) with every word of @text in
 * their texts, as a JSON list. */
static char *
search_view(GPtrArray *list, const char *text, guint limit, const Searched *how,
            GError **error)
{
    if (list == NULL) {
        cq_api_fail(error);
        return NULL;
    }
    g_autofree char *q = cq_fold_strip(text ? text : "");
    JsonBuilder *b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0, n = 0; i < list->len && n < limit; i++) {
        const char *values[4] = {NULL};
        how->texts(list->pdata[i], values);
        if (matches(q, values)) {
            how->write(b, list->pdata[i]);
            n++;
        }
    }
    json_builder_end_array(b);
    g_ptr_array_unref(list);
    return cq_view_finish(b);
}

static void
record_texts(gconstpointer item, const char **out)
{
    const CqRecord *r = item;
    out[0] = r->ident;
    out[1] = r->title ? r->title : "";
}

static void
record_write(JsonBuilder *b, gconstpointer item)
{
    const CqRecord *r = item;
    json_builder_begin_object(b);
    cq_view_string(b, "ident", r->ident);
    cq_view_string(b, "kind", r->kind);
    cq_view_string(b, "title", r->title);
    cq_view_string(b, "owner", r->owner);
    cq_view_int(b, "mails", r->mails);
    json_builder_end_object(b);
}

char *
caqmail_json_records(CaqmailContext *context, const char *text, guint limit,
                     GError **error)
{
    static const Searched how = {record_texts, record_write};
    CqSession *s = session_of(context, error);
    return search_view(s ? cq_record_list(s, error) : NULL, text, limit, &how,
                       error);
}

static void
document_texts(gconstpointer item, const char **out)
{
    const CqDocument *d = item;
    out[0] = d->id;
    out[1] = d->title;
    out[2] = d->filename;
}

static void
document_write(JsonBuilder *b, gconstpointer item)
{
    const CqDocument *d = item;
    json_builder_begin_object(b);
    cq_view_string(b, "id", d->id);
    cq_view_string(b, "title", d->title);
    cq_view_string(b, "revision", d->revision);
    cq_view_string(b, "filename", d->filename);
    cq_view_string(b, "media_type", d->media_type);
    cq_view_int(b, "size", d->size);
    cq_view_string(b, "record", d->record);
    json_builder_end_object(b);
}

char *
caqmail_json_documents(CaqmailContext *context, const char *text,
                       const char *record, guint limit, GError **error)
{
    static const Searched how = {document_texts, document_write};
    CqSession *s = session_of(context, error);
    return search_view(s ? cq_document_list(s, record, error) : NULL, text,
                       limit, &how, error);
}

static void
describe_rcpts(JsonBuilder *b, GPtrArray *rcpts)
{
    json_builder_set_member_name(b, "recipients");
    json_builder_begin_array(b);
    for (guint i = 0; i < rcpts->len; i++) {
        CqRcptInfo *r = rcpts->pdata[i];
        json_builder_begin_object(b);
        cq_view_string(b, "kind", r->kind);
        cq_view_string(b, "address", r->address);
        cq_view_string(b, "display", r->display);
        cq_view_string(b, "source", r->source);
        cq_view_string(b, "status", r->status);
        cq_view_int(b, "code", r->code);
        cq_view_string(b, "reply", r->reply);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void
describe_info(JsonBuilder *b, const CqMailInfo *m)
{
    cq_view_int(b, "id", m->id);
    cq_view_string(b, "message_id", m->message_id);
    cq_view_string(b, "record", m->record);
    cq_view_string(b, "sender", m->sender);
    cq_view_string(b, "operator", m->operator);
    cq_view_string(b, "from", m->from);
    cq_view_string(b, "subject", m->subject);
    cq_view_string(b, "origin", m->origin);
    cq_view_int(b, "created", m->created / G_USEC_PER_SEC);
    cq_view_int(b, "size", m->size);
    cq_view_string(b, "sha256", m->sha256);
    cq_view_string(b, "state", m->state);
    cq_view_int(b, "attempts", m->attempts);
    cq_view_string(b, "last_error", m->last_error);
}

static void
describe_attachments(JsonBuilder *b, GPtrArray *list)
{
    json_builder_set_member_name(b, "attachments");
    json_builder_begin_array(b);
    for (guint i = 0; i < list->len; i++) {
        CqAttachmentInfo *a = list->pdata[i];
        json_builder_begin_object(b);
        cq_view_int(b, "index", i);
        cq_view_string(b, "filename", a->filename);
        cq_view_string(b, "content_type", a->content_type);
        cq_view_int(b, "size", a->size);
        cq_view_string(b, "sha256", a->sha256);
        cq_view_string(b, "source", a->source);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

char *
caqmail_json_mails(CaqmailContext *context, const char *record,
                   const char *const *states, guint limit, GError **error)
{
    CqSession *s = session_of(context, error);
    CqMailFilter filter = {.record = record, .states = states, .limit = limit};
    g_autoptr(GPtrArray) mails = NULL;

    if (s == NULL || !require_reader(s, error) ||
        (mails = cq_mail_query(s, &filter, error)) == NULL) {
        cq_api_fail(error);
        return NULL;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    /* newest first; each mail is taken from the end of the list */
    for (guint i = mails->len; i-- > 0;) {
        g_autoptr(CqMailDetail) d =
            cq_mail_summary(s, g_ptr_array_steal_index(mails, i), error);
        if (d == NULL) {
            cq_api_fail(error);
            return NULL;
        }
        json_builder_begin_object(b);
        describe_info(b, d->mail);
        describe_rcpts(b, d->rcpts);
        describe_attachments(b, d->attachments);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    return cq_view_finish(g_steal_pointer(&b));
}

static GMimeMessage *
load_message(CqSession *s, gint64 id, GError **error)
{
    cq_mime_init();
    g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
    if (!cq_mail_write_raw(s, id, mem, error))
        return NULL;
    g_mime_stream_seek(mem, 0, GMIME_STREAM_SEEK_SET);
    g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(mem);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    if (msg == NULL)
        g_set_error(error, CQ_ERROR, CQ_ERROR_FAILED,
                    "mail %" G_GINT64_FORMAT ": stored message unreadable", id);
    return msg;
}

typedef struct {
    GMimePart *text;
    GPtrArray *attachments; /* of GMimePart, borrowed */
} Parts;

static void
collect_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
    Parts *parts = data;
    if (!GMIME_IS_PART(part))
        return;
    if (g_mime_part_is_attachment(GMIME_PART(part)))
        g_ptr_array_add(parts->attachments, part);
    else if (parts->text == NULL &&
             g_mime_content_type_is_type(g_mime_object_get_content_type(part),
                                         "text", "plain"))
        parts->text = GMIME_PART(part);
}

static GBytes *
part_bytes(GMimePart *part)
{
    GMimeDataWrapper *content = g_mime_part_get_content(part);
    g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
    if (content != NULL)
        g_mime_data_wrapper_write_to_stream(content, mem);
    GByteArray *array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    return g_bytes_new(array->data, array->len);
}

static char *
part_text(GMimePart *part)
{
    if (part == NULL)
        return g_strdup("");
    g_autoptr(GBytes) bytes = part_bytes(part);
    gsize len = 0;
    const char *data = g_bytes_get_data(bytes, &len);
    const char *charset =
        g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    if (charset && g_ascii_strcasecmp(charset, "utf-8") != 0) {
        char *converted =
            g_convert(data, len, "UTF-8", charset, NULL, NULL, NULL);
        if (converted)
            return converted;
    }
    return g_utf8_make_valid(data, len);
}

/* The text as it was written: line ends as LF. */
static char *
unix_lines(char *text)
{
    char *out = text;
    for (const char *p = text; *p; p++) {
        if (!(p[0] == '\r' && p[1] == '\n'))
            *out++ = *p;
    }
    *out = '\0';
    return text;
}

static void
describe_entries(JsonBuilder *b, GPtrArray *entries)
{
    json_builder_set_member_name(b, "entries");
    json_builder_begin_array(b);
    for (guint i = 0; i < entries->len; i++) {
        CqEntryInfo *e = entries->pdata[i];
        json_builder_begin_object(b);
        cq_view_int(b, "seq", e->seq);
        cq_view_string(b, "kind", e->kind);
        cq_view_string(b, "actor", e->actor);
        cq_view_int(b, "at", e->at / G_USEC_PER_SEC);
        cq_view_string(b, "detail", e->detail);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

/* The first text/plain part that is not an attachment, and the
 * attachments, of the stored message of mail @id. */
static GMimeMessage *
load_parts(CaqmailContext *context, gint64 id, Parts *parts, GError **error)
{
    CqSession *s = session_of(context, error);
    GMimeMessage *msg = NULL;

    if (s == NULL || !require_reader(s, error) ||
        (msg = load_message(s, id, error)) == NULL) {
        cq_api_fail(error);
        return NULL;
    }
    parts->text = NULL;
    parts->attachments = g_ptr_array_new();
    g_mime_message_foreach(msg, collect_part, parts);
    return msg;
}

char *
caqmail_json_mail(CaqmailContext *context, gint64 mail_id, GError **error)
{
    Parts parts = {0};
    g_autoptr(GMimeMessage) msg = load_parts(context, mail_id, &parts, error);
    if (msg == NULL)
        return NULL;
    g_autofree char *text = unix_lines(part_text(parts.text));
    g_ptr_array_unref(parts.attachments);
    g_autoptr(CqMailDetail) d =
        cq_mail_detail(context->session, mail_id, error);
    if (d == NULL) {
        cq_api_fail(error);
        return NULL;
    }
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    describe_info(b, d->mail);
    describe_rcpts(b, d->rcpts);
    describe_attachments(b, d->attachments);
    cq_view_string(b, "text", text);
    describe_entries(b, d->entries);
    json_builder_end_object(b);
    return cq_view_finish(b);
}

GBytes *
caqmail_mail_get_attachment(CaqmailContext *context, gint64 mail_id,
                            guint index, char **filename, char **content_type,
                            GError **error)
{
    Parts parts = {0};
    g_autoptr(GMimeMessage) msg = load_parts(context, mail_id, &parts, error);
    GBytes *bytes = NULL;

    if (msg == NULL)
        return NULL;
    if (index < parts.attachments->len) {
        GMimePart *part = parts.attachments->pdata[index];
        const char *name = g_mime_part_get_filename(part);
        *filename = g_strdup(name ? name : "attachment");
        *content_type = g_mime_content_type_get_mime_type(
            g_mime_object_get_content_type(GMIME_OBJECT(part)));
        bytes = part_bytes(part);
    } else {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "mail %" G_GINT64_FORMAT ": no attachment %u", mail_id,
                    index);
    }
    g_ptr_array_unref(parts.attachments);
    return bytes;
}

char *
caqmail_json_history_verify(CaqmailContext *context, GError **error)
{
    CqSession *s = session_of(context, error);
    CqVerifyResult r = {0};

    if (s == NULL || !cq_history_verify(s, &r, NULL, NULL, error)) {
        cq_api_fail(error);
        return NULL;
    }
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "ok");
    json_builder_add_boolean_value(b, r.broken == 0);
    cq_view_int(b, "entries", r.entries);
    cq_view_int(b, "broken", r.broken);
    cq_view_string(b, "problem", r.problem);
    cq_view_string(b, "head", r.head);
    json_builder_end_object(b);
    cq_verify_result_clear(&r);
    return cq_view_finish(b);
}
