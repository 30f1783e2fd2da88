#include "web/backend.h"

#include "access/access.h"
#include "api/password.h"
#include "attach/prepare.h"
#include "catalog/catalog.h"
#include "catalog/fold.h"
#include "deliver/direct.h"
#include "document/document.h"
#include "history/history.h"
#include "history/mails.h"
#include "history/record.h"
#include "outbox/outbox.h"
#include "resolve/resolve.h"

#include <string.h>

struct _WebBackend {
    const CqConfig *config;
    CqSession *base; /* owns the store every WebUser shares */
};

struct _WebUser {
    WebBackend *backend;
    CqSession *session; /* over the backend's store, not owning it */
};

struct _WebComposed {
    CqMessage *message;
    CqDocumentSpool *spool;
    GArray *pdf; /* guint indexes of attachments to convert */
};

WebBackend *
web_backend_open(const CqConfig *config, GError **error)
{
    CqSession *base = cq_session_open_config(config, NULL, error);
    if (base == NULL)
        return NULL;
    WebBackend *backend = g_new0(WebBackend, 1);
    backend->config = config;
    backend->base = base;
    return backend;
}

void
web_backend_free(WebBackend *backend)
{
    if (backend == NULL)
        return;
    cq_session_free(backend->base);
    g_free(backend);
}

gboolean
web_backend_check_password(WebBackend *backend, const char *login,
                           const char *password, GError **error)
{
    return cq_password_check(backend->base->store, login, password, error);
}

/* A session acting as @login over @store, which it does not own: free it
 * with session_release(). */
static CqSession *
session_over(CqStore *store, const char *login, GError **error)
{
    CqSession *session = cq_session_new(store, login, error);
    if (session == NULL)
        return NULL;
    if (!session->registered) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_PERMISSION,
                    "user '%s' is not registered with caqmail", login);
        session->store = NULL;
        cq_session_free(session);
        return NULL;
    }
    return session;
}

static void
session_release(CqSession *session)
{
    if (session == NULL)
        return;
    session->store = NULL;
    cq_session_free(session);
}

WebUser *
web_user_open(WebBackend *backend, const char *login, GError **error)
{
    if (!cq_login_check(login, error))
        return NULL;
    CqSession *session = session_over(backend->base->store, login, error);
    if (session == NULL)
        return NULL;
    WebUser *user = g_new0(WebUser, 1);
    user->backend = backend;
    user->session = session;
    return user;
}

void
web_user_free(WebUser *user)
{
    if (user == NULL)
        return;
    session_release(user->session);
    g_free(user);
}

gboolean
web_user_may(const WebUser *user, WebRight right)
{
    const CqSession *s = user->session;
    switch (right) {
    case WEB_MAY_SEND:
        return cq_session_may(s, CQ_PERM_SEND);
    case WEB_MAY_READ:
        return cq_session_may(s, CQ_PERM_READ_OWN) ||
               cq_session_may(s, CQ_PERM_READ_ALL);
    case WEB_MAY_READ_ALL:
        return cq_session_may(s, CQ_PERM_READ_ALL);
    case WEB_MAY_ADMIN:
        return cq_session_may(s, CQ_PERM_ADMIN);
    }
    return FALSE;
}

gboolean
web_user_require(const WebUser *user, WebRight right, const char *what,
                 GError **error)
{
    if (web_user_may(user, right))
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_PERMISSION,
                "user '%s' may not %s", user->session->login, what);
    return FALSE;
}

static void
add_string(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value != NULL)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

static void
add_int(JsonBuilder *b, const char *name, gint64 value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

static JsonNode *
finish(JsonBuilder *b)
{
    JsonNode *node = json_builder_get_root(b);
    g_object_unref(b);
    return node;
}

JsonNode *
web_user_describe(WebUser *user, GError **error)
{
    CqSession *s = user->session;
    g_autoptr(CqUser) u = cq_user_get(s, s->login, error);
    g_autoptr(CqEntry) person = NULL;

    if (u == NULL)
        return NULL;
    if (u->person != NULL)
        person = cq_catalog_get(s, CQ_CATALOG_PERSON, u->person, NULL);
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    add_string(b, "login", s->login);
    add_string(b, "name", person ? cq_entry_get(person, "name") : NULL);
    add_string(b, "email", u->email);
    const char *lang = person ? cq_entry_get(person, "language") : NULL;
    add_string(b, "language", lang && *lang ? lang : NULL);
    json_builder_set_member_name(b, "permissions");
    json_builder_begin_array(b);
    for (guint bit = 1; bit <= CQ_PERM_ADMIN; bit <<= 1) {
        if (s->permissions & bit)
            json_builder_add_string_value(b, cq_permission_name(bit));
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    return finish(b);
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
    char *name;
} Ranked;

static int
compare_ranked(gconstpointer a, gconstpointer b)
{
    const Ranked *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank - y->rank;
    return g_utf8_collate(x->name, y->name);
}

static void
describe_entry(JsonBuilder *b, const CqEntry *e)
{
    g_autofree char *ref = cq_entry_ref(e);
    const char *name = cq_entry_get(e, "name");
    const char *detail = NULL;

    json_builder_begin_object(b);
    add_string(b, "ref", ref);
    add_string(b, "kind", cq_catalog_kind_name(e->kind));
    add_string(b, "name", name);
    if (e->kind == CQ_CATALOG_LIST)
        detail = cq_entry_get(e, "description");
    else if (e->kind == CQ_CATALOG_PERSON)
        detail = cq_entry_get(e, "department");
    else if (e->kind == CQ_CATALOG_CONTACT)
        detail = cq_entry_get(e, "organisation");
    add_string(b, "detail", detail && *detail ? detail : NULL);
    const char *email = cq_entry_get(e, "email");
    add_string(b, "email", email && *email ? email : NULL);
    if (e->kind == CQ_CATALOG_LIST)
        add_int(b, "members", e->members ? g_strv_length(e->members) : 0);
    json_builder_end_object(b);
}

JsonNode *
web_catalog_search(WebUser *user, const char *text, guint limit,
                   GError **error)
{
    g_autoptr(GPtrArray) found =
        cq_catalog_search(user->session, text, error);
    if (found == NULL)
        return NULL;
    g_autofree char *folded = cq_fold_strip(text);
    g_strstrip(folded);
    g_autoptr(GArray) ranked = g_array_new(FALSE, FALSE, sizeof(Ranked));
    for (guint i = 0; i < found->len; i++) {
        CqEntry *e = found->pdata[i];
        if (e->kind == CQ_CATALOG_ORGANISATION)
            continue;
        const char *name = cq_entry_get(e, "name");
        Ranked r = {e, rank(e, folded), (char *)(name ? name : "")};
        g_array_append_val(ranked, r);
    }
    g_array_sort(ranked, compare_ranked);
    JsonBuilder *b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0; i < ranked->len && i < limit; i++)
        describe_entry(b, g_array_index(ranked, Ranked, i).entry);
    json_builder_end_array(b);
    return finish(b);
}

/* TRUE when every word of @folded_query occurs in one of @values. */
static gboolean
matches(const char *folded_query, const char *const *values)
{
    g_auto(GStrv) words = g_strsplit_set(folded_query, " \t", -1);
    GString *hay = g_string_new(NULL);

    for (guint i = 0; values[i] != NULL || i == 0; i++) {
        if (values[i] == NULL)
            break;
        g_autofree char *f = cq_fold_strip(values[i]);
        g_string_append_printf(hay, "%s\n", f);
    }
    gboolean ok = TRUE;
    for (guint i = 0; ok && words[i]; i++)
        ok = *words[i] == '\0' || strstr(hay->str, words[i]) != NULL;
    g_string_free(hay, TRUE);
    return ok;
}

JsonNode *
web_record_search(WebUser *user, const char *text, guint limit,
                  GError **error)
{
    g_autoptr(GPtrArray) list = cq_record_list(user->session, error);
    if (list == NULL)
        return NULL;
    g_autofree char *q = cq_fold_strip(text ? text : "");
    JsonBuilder *b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0, n = 0; i < list->len && n < limit; i++) {
        CqRecord *r = list->pdata[i];
        const char *values[] = {r->ident, r->title ? r->title : "", NULL};
        if (!matches(q, values))
            continue;
        json_builder_begin_object(b);
        add_string(b, "ident", r->ident);
        add_string(b, "kind", r->kind);
        add_string(b, "title", r->title);
        add_string(b, "owner", r->owner);
        add_int(b, "mails", r->mails);
        json_builder_end_object(b);
        n++;
    }
    json_builder_end_array(b);
    return finish(b);
}

JsonNode *
web_document_search(WebUser *user, const char *text, const char *record,
                    guint limit, GError **error)
{
    g_autoptr(GPtrArray) list =
        cq_document_list(user->session, record, error);
    if (list == NULL)
        return NULL;
    g_autofree char *q = cq_fold_strip(text ? text : "");
    JsonBuilder *b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0, n = 0; i < list->len && n < limit; i++) {
        CqDocument *d = list->pdata[i];
        const char *values[] = {d->id, d->title, d->filename, NULL};
        if (!matches(q, values))
            continue;
        json_builder_begin_object(b);
        add_string(b, "id", d->id);
        add_string(b, "title", d->title);
        add_string(b, "revision", d->revision);
        add_string(b, "filename", d->filename);
        add_string(b, "media_type", d->media_type);
        add_int(b, "size", d->size);
        add_string(b, "record", d->record);
        json_builder_end_object(b);
        n++;
    }
    json_builder_end_array(b);
    return finish(b);
}

static void
describe_rcpts(JsonBuilder *b, GPtrArray *rcpts)
{
    json_builder_set_member_name(b, "recipients");
    json_builder_begin_array(b);
    for (guint i = 0; i < rcpts->len; i++) {
        CqRcptInfo *r = rcpts->pdata[i];
        json_builder_begin_object(b);
        add_string(b, "kind", r->kind);
        add_string(b, "address", r->address);
        add_string(b, "display", r->display);
        add_string(b, "source", r->source);
        add_string(b, "status", r->status);
        add_int(b, "code", r->code);
        add_string(b, "reply", r->reply);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void
describe_info(JsonBuilder *b, const CqMailInfo *m)
{
    add_int(b, "id", m->id);
    add_string(b, "message_id", m->message_id);
    add_string(b, "record", m->record);
    add_string(b, "sender", m->sender);
    add_string(b, "operator", m->operator);
    add_string(b, "from", m->from);
    add_string(b, "subject", m->subject);
    add_string(b, "origin", m->origin);
    add_int(b, "created", m->created / G_USEC_PER_SEC);
    add_int(b, "size", m->size);
    add_string(b, "sha256", m->sha256);
    add_string(b, "state", m->state);
    add_int(b, "attempts", m->attempts);
    add_string(b, "last_error", m->last_error);
}

static void
describe_attachments(JsonBuilder *b, GPtrArray *list)
{
    json_builder_set_member_name(b, "attachments");
    json_builder_begin_array(b);
    for (guint i = 0; i < list->len; i++) {
        CqAttachmentInfo *a = list->pdata[i];
        json_builder_begin_object(b);
        add_int(b, "index", i);
        add_string(b, "filename", a->filename);
        add_string(b, "content_type", a->content_type);
        add_int(b, "size", a->size);
        add_string(b, "sha256", a->sha256);
        add_string(b, "source", a->source);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

JsonNode *
web_mail_list(WebUser *user, const char *record, const char *const *states,
              guint limit, GError **error)
{
    if (!web_user_require(user, WEB_MAY_READ, "read the history", error))
        return NULL;
    CqMailFilter filter = {.record = record, .states = states,
                           .limit = limit};
    g_autoptr(GPtrArray) mails = cq_mail_query(user->session, &filter, error);
    if (mails == NULL)
        return NULL;
    JsonBuilder *b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = mails->len; i-- > 0;) {
        const CqMailInfo *m = mails->pdata[i];
        g_autoptr(CqMailDetail) d = cq_mail_detail(user->session, m->id, NULL);
        json_builder_begin_object(b);
        describe_info(b, m);
        if (d != NULL) {
            describe_rcpts(b, d->rcpts);
            describe_attachments(b, d->attachments);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    return finish(b);
}

static GMimeMessage *
load_message(WebUser *user, gint64 id, GError **error)
{
    g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
    if (!cq_mail_write_raw(user->session, id, mem, error))
        return NULL;
    g_mime_stream_seek(mem, 0, GMIME_STREAM_SEEK_SET);
    g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(mem);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    if (msg == NULL)
        g_set_error(error, CQ_ERROR, CQ_ERROR_FAILED,
                    "mail %" G_GINT64_FORMAT ": stored message unreadable",
                    id);
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
    GByteArray *array = g_mime_stream_mem_get_byte_array(
        GMIME_STREAM_MEM(mem));
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
    const char *charset = g_mime_object_get_content_type_parameter(
        GMIME_OBJECT(part), "charset");
    if (charset && g_ascii_strcasecmp(charset, "utf-8") != 0) {
        char *converted = g_convert(data, len, "UTF-8", charset, NULL, NULL,
                                    NULL);
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

JsonNode *
web_mail_detail(WebUser *user, gint64 id, GError **error)
{
    if (!web_user_require(user, WEB_MAY_READ, "read the history", error))
        return NULL;
    g_autoptr(CqMailDetail) d = cq_mail_detail(user->session, id, error);
    if (d == NULL)
        return NULL;
    g_autoptr(GMimeMessage) msg = load_message(user, id, error);
    if (msg == NULL)
        return NULL;
    Parts parts = {NULL, g_ptr_array_new()};
    g_mime_message_foreach(msg, collect_part, &parts);
    g_autofree char *text = unix_lines(part_text(parts.text));
    g_ptr_array_unref(parts.attachments);

    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    describe_info(b, d->mail);
    describe_rcpts(b, d->rcpts);
    describe_attachments(b, d->attachments);
    add_string(b, "text", text);
    json_builder_set_member_name(b, "entries");
    json_builder_begin_array(b);
    for (guint i = 0; i < d->entries->len; i++) {
        CqEntryInfo *e = d->entries->pdata[i];
        json_builder_begin_object(b);
        add_int(b, "seq", e->seq);
        add_string(b, "kind", e->kind);
        add_string(b, "actor", e->actor);
        add_int(b, "at", e->at / G_USEC_PER_SEC);
        add_string(b, "detail", e->detail);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    return finish(b);
}

GBytes *
web_mail_raw(WebUser *user, gint64 id, GError **error)
{
    if (!web_user_require(user, WEB_MAY_READ, "read the history", error))
        return NULL;
    g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
    if (!cq_mail_write_raw(user->session, id, mem, error))
        return NULL;
    GByteArray *array = g_mime_stream_mem_get_byte_array(
        GMIME_STREAM_MEM(mem));
    return g_bytes_new(array->data, array->len);
}

GBytes *
web_mail_attachment(WebUser *user, gint64 id, guint index, char **filename,
                    char **content_type, GError **error)
{
    if (!web_user_require(user, WEB_MAY_READ, "read the history", error))
        return NULL;
    g_autoptr(GMimeMessage) msg = load_message(user, id, error);
    if (msg == NULL)
        return NULL;
    Parts parts = {NULL, g_ptr_array_new()};
    g_mime_message_foreach(msg, collect_part, &parts);
    GBytes *bytes = NULL;
    if (index < parts.attachments->len) {
        GMimePart *part = parts.attachments->pdata[index];
        const char *name = g_mime_part_get_filename(part);
        *filename = g_strdup(name ? name : "attachment");
        *content_type = g_mime_content_type_get_mime_type(
            g_mime_object_get_content_type(GMIME_OBJECT(part)));
        bytes = part_bytes(part);
    } else {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "mail %" G_GINT64_FORMAT ": no attachment %u", id,
                    index);
    }
    g_ptr_array_unref(parts.attachments);
    return bytes;
}

gboolean
web_outbox_retry(WebUser *user, gint64 id, GError **error)
{
    return cq_outbox_retry(user->session, id, error);
}

gboolean
web_outbox_cancel(WebUser *user, gint64 id, GError **error)
{
    return cq_outbox_cancel(user->session, id, error);
}

JsonNode *
web_history_verify(WebUser *user, GError **error)
{
    CqVerifyResult r = {0};
    if (!cq_history_verify(user->session, &r, NULL, NULL, error))
        return NULL;
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "ok");
    json_builder_add_boolean_value(b, r.broken == 0);
    add_int(b, "entries", r.entries);
    add_int(b, "broken", r.broken);
    add_string(b, "problem", r.problem);
    add_string(b, "head", r.head);
    json_builder_end_object(b);
    cq_verify_result_clear(&r);
    return finish(b);
}

void
web_send_spec_clear(WebSendSpec *spec)
{
    g_clear_pointer(&spec->to, g_ptr_array_unref);
    g_clear_pointer(&spec->cc, g_ptr_array_unref);
    g_clear_pointer(&spec->bcc, g_ptr_array_unref);
    g_clear_pointer(&spec->files, g_ptr_array_unref);
    g_clear_pointer(&spec->subject, g_free);
    g_clear_pointer(&spec->text, g_free);
    g_clear_pointer(&spec->record, g_free);
}

void
web_composed_free(WebComposed *composed)
{
    if (composed == NULL)
        return;
    cq_message_free(composed->message);
    cq_document_spool_free(composed->spool);
    g_array_unref(composed->pdf);
    g_free(composed);
}

static gboolean
add_recipients(CqSession *s, CqMessage *m, const WebSendSpec *spec,
               GError **error)
{
    const struct {
        GPtrArray *items;
        CqRecipientKind kind;
    } kinds[] = {{spec->to, CQ_RCPT_TO},
                 {spec->cc, CQ_RCPT_CC},
                 {spec->bcc, CQ_RCPT_BCC}};

    for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
        GPtrArray *items = kinds[k].items;
        if (items == NULL || items->len == 0)
            continue;
        g_ptr_array_add(items, NULL);
        gboolean ok = cq_resolve_add(s, m, kinds[k].kind,
                                     (const char *const *)items->pdata,
                                     error);
        g_ptr_array_remove_index(items, items->len - 1);
        if (!ok)
            return FALSE;
    }
    if (spec->copy_to_me && !cq_resolve_copy_to_sender(s, m, error))
        return FALSE;
    cq_resolve_dedup(m);
    return TRUE;
}

static gboolean
add_files(WebUser *user, WebComposed *c, const WebSendSpec *spec,
          GError **error)
{
    gint64 max = user->backend->config->message.max_attachment_size;

    for (guint i = 0; spec->files && i < spec->files->len; i++) {
        WebSendFile *f = spec->files->pdata[i];
        CqAttachment *a = NULL;
        if (f->document != NULL) {
            if (c->spool == NULL &&
                (c->spool = cq_document_spool_new(error)) == NULL)
                return FALSE;
            a = cq_document_attach(user->session, c->message, f->document,
                                   c->spool, max, error);
        } else {
            a = cq_message_add_attachment(c->message, f->path, f->filename,
                                          NULL, max, error);
        }
        if (a == NULL)
            return FALSE;
        guint index = c->message->attachments->len - 1;
        if (f->pdf)
            g_array_append_val(c->pdf, index);
    }
    return TRUE;
}

static gboolean
has_document(const WebSendSpec *spec)
{
    for (guint i = 0; spec->files && i < spec->files->len; i++) {
        if (((WebSendFile *)spec->files->pdata[i])->document != NULL)
            return TRUE;
    }
    return FALSE;
}

WebComposed *
web_send_compose(WebUser *user, const WebSendSpec *spec, GError **error)
{
    CqSession *s = user->session;
    const CqConfig *config = user->backend->config;

    if (!cq_session_require(s, CQ_PERM_SEND, "send mail", error))
        return NULL;
    WebComposed *c = g_new0(WebComposed, 1);
    c->message = cq_message_new(has_document(spec) ? CQ_ORIGIN_DOCUMENT
                                                   : CQ_ORIGIN_MANUAL);
    c->pdf = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autofree char *from = cq_resolve_default_sender(s, config);
    if (!cq_message_set_from(c->message, from, error) ||
        !add_recipients(s, c->message, spec, error) ||
        !cq_message_set_subject(c->message, spec->subject ? spec->subject : "",
                                error) ||
        !cq_message_set_text(c->message, spec->text ? spec->text : "",
                             error) ||
        (spec->record && !cq_message_set_record(c->message, spec->record,
                                                error)) ||
        !add_files(user, c, spec, error) ||
        !cq_message_check(c->message, error)) {
        web_composed_free(c);
        return NULL;
    }
    return c;
}

static gboolean
convert_all(const CqConfig *config, WebComposed *c, WebSendProgress progress,
            gpointer data, GError **error)
{
    CqConvertOptions options = cq_convert_options_from_config(config);
    gint64 max = config->message.max_attachment_size;

    for (guint i = 0; i < c->pdf->len; i++) {
        progress("converting", i, c->pdf->len, 0, data);
        CqAttachment *a =
            c->message->attachments->pdata[g_array_index(c->pdf, guint, i)];
        if (!cq_attach_to_pdf(&options, a, max, error))
            return FALSE;
    }
    return TRUE;
}

static const char *
final_state(const CqDeliverStats *stats)
{
    return stats->sent          ? "sent"
           : stats->deferred    ? "deferred"
           : stats->uncertain   ? "uncertain"
           : stats->partly_sent ? "partly-sent"
                                : "failed";
}

static gboolean
store_and_deliver(const CqConfig *config, CqSession *s, WebComposed *c,
                  WebSendProgress progress, gpointer data, gint64 *mail_id,
                  char **state, GError **error)
{
    g_autoptr(CqTransport) transport = cq_transport_new(config, error);
    if (transport == NULL)
        return FALSE;
    CqMimeOptions mime =
        cq_mime_options_from_config(config, cq_transport_probe_8bit(transport));
    if (!cq_outbox_enqueue(s, c->message, &mime, mail_id, error))
        return FALSE;
    progress("queued", 0, 0, *mail_id, data);
    progress("sending", 0, 0, *mail_id, data);
    CqDeliverOptions options = cq_deliver_options_from_config(config);
    CqDeliverStats stats = {0};
    options.only_mail = *mail_id;
    if (!cq_outbox_deliver(s, transport, &options, &stats, NULL, NULL,
                           error))
        return FALSE;
    *state = g_strdup(final_state(&stats));
    return TRUE;
}

gboolean
web_send_run(const CqConfig *config, const char *login, WebComposed *c,
             WebSendProgress progress, gpointer data, gint64 *mail_id,
             char **state, GError **error)
{
    CqSession *own = NULL, *s = NULL;
    gboolean ok = FALSE;

    *mail_id = 0;
    if (!convert_all(config, c, progress, data, error))
        goto out;
    if ((own = cq_session_open_config(config, NULL, error)) == NULL)
        goto out;
    if ((s = session_over(own->store, login, error)) == NULL)
        goto out;
    ok = store_and_deliver(config, s, c, progress, data, mail_id, state,
                           error);
out:
    session_release(s);
    cq_session_free(own);
    web_composed_free(c);
    return ok;
}
