/* Uploads, sending and the progress of a send: the page uploads files
 * first, then sends; conversion and delivery run in a thread of their
 * own while the page polls the job. */
#include "web/web.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#define MAX_NAME 255

typedef struct {
    char *job_id;
    char *login;
    WebComposed *composed;
    GPtrArray *dirs; /* upload folders to remove afterwards */
} SendTask;

void
web_upload_free(WebUpload *upload)
{
    if (upload == NULL)
        return;
    g_free(upload->id);
    g_free(upload->login);
    g_free(upload->dir);
    g_free(upload->path);
    g_free(upload->name);
    g_free(upload);
}

void
web_job_free(WebJob *job)
{
    if (job == NULL)
        return;
    g_free(job->id);
    g_free(job->login);
    g_free(job->state);
    g_free(job->error);
    g_free(job);
}

static gboolean
name_acceptable(const char *name, GError **error)
{
    gboolean ok = name != NULL && *name != '\0' && strlen(name) <= MAX_NAME &&
                  g_utf8_validate(name, -1, NULL) &&
                  strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
                  strpbrk(name, "/\\") == NULL;

    for (const char *p = name; ok && *p; p++)
        ok = (guchar)*p >= ' ' && *p != 0x7f;
    if (!ok)
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "file name '%s': give a plain name of 1 to %d "
                    "characters, without folders or control characters",
                    name ? name : "", MAX_NAME);
    return ok;
}

static WebUpload *
save_upload(WebRequest *req, const char *name, GError **error)
{
    SoupMessageBody *body = soup_server_message_get_request_body(req->msg);
    g_autofree char *id = web_random_token();
    id[24] = '\0';
    g_autofree char *dir =
        g_build_filename(req->server->config->web.upload_dir, id, NULL);
    g_autofree char *path = g_build_filename(dir, name, NULL);

    if (body->length > req->server->config->web.max_upload_size) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_TOO_LARGE,
                    "file '%s': over the limit of %" G_GINT64_FORMAT
                    " bytes",
                    name, req->server->config->web.max_upload_size);
        return NULL;
    }
    if (g_mkdir(dir, 0700) != 0 ||
        !g_file_set_contents_full(path, body->data ? body->data : "",
                                  body->length, G_FILE_SET_CONTENTS_NONE,
                                  0600, error)) {
        g_clear_error(error);
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO,
                    "file '%s': could not be stored", name);
        g_rmdir(dir);
        return NULL;
    }
    WebUpload *u = g_new0(WebUpload, 1);
    u->id = g_steal_pointer(&id);
    u->login = g_strdup(req->session->login);
    u->dir = g_steal_pointer(&dir);
    u->path = g_steal_pointer(&path);
    u->name = g_strdup(name);
    u->size = (gint64)body->length;
    return u;
}

void
web_api_upload(WebRequest *req)
{
    g_autoptr(GError) error = NULL;
    const char *name = web_query(req, "name");

    if (!web_user_require(req->user, WEB_MAY_SEND, "send mail", &error) ||
        !name_acceptable(name, &error)) {
        web_reply_error(req, error);
        return;
    }
    WebUpload *u = save_upload(req, name, &error);
    if (u == NULL) {
        web_reply_error(req, error);
        return;
    }
    g_hash_table_insert(req->server->uploads, u->id, u);
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, u->id);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, u->name);
    json_builder_set_member_name(b, "size");
    json_builder_add_int_value(b, u->size);
    json_builder_end_object(b);
    web_reply_json(req, 201, json_builder_get_root(b));
    g_object_unref(b);
}

static gboolean
string_list(JsonObject *o, const char *member, GPtrArray **out,
            GError **error)
{
    *out = g_ptr_array_new_with_free_func(g_free);
    JsonNode *node = json_object_get_member(o, member);
    if (node == NULL || JSON_NODE_HOLDS_NULL(node))
        return TRUE;
    JsonArray *a = JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node)
                                               : NULL;
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonNode *item = json_array_get_element(a, i);
        if (json_node_get_value_type(item) != G_TYPE_STRING) {
            a = NULL;
            break;
        }
        g_ptr_array_add(*out, g_strdup(json_node_get_string(item)));
    }
    if (a == NULL)
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "\"%s\": expected a list of strings", member);
    return a != NULL;
}

static gboolean
optional_string(JsonObject *o, const char *member, char **out,
                GError **error)
{
    JsonNode *node = json_object_get_member(o, member);
    if (node == NULL || JSON_NODE_HOLDS_NULL(node))
        return TRUE;
    if (json_node_get_value_type(node) != G_TYPE_STRING) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "\"%s\": expected a string", member);
        return FALSE;
    }
    const char *v = json_node_get_string(node);
    *out = *v ? g_strdup(v) : NULL;
    return TRUE;
}

static void
send_file_free(gpointer data)
{
    WebSendFile *f = data;
    g_free(f->path);
    g_free(f->filename);
    g_free(f->document);
    g_free(f);
}

static WebSendFile *
parse_file(WebRequest *req, JsonNode *node, GPtrArray *dirs, GError **error)
{
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node)
                                                 : NULL;
    const char *upload = o ? json_object_get_string_member_with_default(
                                 o, "upload", NULL)
                           : NULL;
    const char *doc = o ? json_object_get_string_member_with_default(
                              o, "document", NULL)
                        : NULL;
    if ((upload == NULL) == (doc == NULL)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "\"attachments\": each needs \"upload\" or "
                    "\"document\"");
        return NULL;
    }
    WebSendFile *f = g_new0(WebSendFile, 1);
    f->pdf = json_object_get_boolean_member_with_default(o, "pdf", FALSE);
    if (doc != NULL) {
        f->document = g_strdup(doc);
        return f;
    }
    WebUpload *u = g_hash_table_lookup(req->server->uploads, upload);
    if (u == NULL || strcmp(u->login, req->session->login) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "upload '%s': unknown or already sent", upload);
        send_file_free(f);
        return NULL;
    }
    f->path = g_strdup(u->path);
    f->filename = g_strdup(u->name);
    g_ptr_array_add(dirs, g_strdup(u->dir));
    return f;
}

static gboolean
parse_files(WebRequest *req, JsonObject *o, WebSendSpec *spec,
            GPtrArray *dirs, GError **error)
{
    spec->files = g_ptr_array_new_with_free_func(send_file_free);
    JsonNode *node = json_object_get_member(o, "attachments");
    if (node == NULL || JSON_NODE_HOLDS_NULL(node))
        return TRUE;
    if (!JSON_NODE_HOLDS_ARRAY(node)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "\"attachments\": expected a list");
        return FALSE;
    }
    JsonArray *a = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        WebSendFile *f =
            parse_file(req, json_array_get_element(a, i), dirs, error);
        if (f == NULL)
            return FALSE;
        g_ptr_array_add(spec->files, f);
    }
    return TRUE;
}

static gboolean
parse_spec(WebRequest *req, JsonObject *o, WebSendSpec *spec,
           GPtrArray *dirs, GError **error)
{
    JsonNode *copy = json_object_get_member(o, "copy_to_me");
    if (copy && json_node_get_value_type(copy) != G_TYPE_BOOLEAN) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "\"copy_to_me\": expected true or false");
        return FALSE;
    }
    spec->copy_to_me = copy && json_node_get_boolean(copy);
    return string_list(o, "to", &spec->to, error) &&
           string_list(o, "cc", &spec->cc, error) &&
           string_list(o, "bcc", &spec->bcc, error) &&
           optional_string(o, "subject", &spec->subject, error) &&
           optional_string(o, "text", &spec->text, error) &&
           optional_string(o, "record", &spec->record, error) &&
           parse_files(req, o, spec, dirs, error);
}

static WebJob *
job_start(WebRequest *req)
{
    WebJob *job = g_new0(WebJob, 1);
    job->id = web_random_token();
    job->id[16] = '\0';
    job->login = g_strdup(req->session->login);
    job->state = g_strdup("preparing");
    g_mutex_lock(&req->server->jobs_lock);
    g_hash_table_insert(req->server->jobs, job->id, job);
    g_mutex_unlock(&req->server->jobs_lock);
    return job;
}

static void
forget_uploads(WebServer *server, GPtrArray *dirs)
{
    GHashTableIter iter;
    WebUpload *u = NULL;

    g_hash_table_iter_init(&iter, server->uploads);
    while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&u)) {
        if (g_ptr_array_find_with_equal_func(dirs, u->dir, g_str_equal,
                                             NULL))
            g_hash_table_iter_remove(&iter);
    }
}

void
web_api_send(WebRequest *req)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) root = NULL;
    WebSendSpec spec = {0};
    GPtrArray *dirs = g_ptr_array_new_with_free_func(g_free);
    JsonObject *o = web_request_object(req, &root);
    WebComposed *composed = NULL;

    if (o == NULL)
        goto out;
    if (!parse_spec(req, o, &spec, dirs, &error) ||
        (composed = web_send_compose(req->user, &spec, &error)) == NULL) {
        if (error->domain == CQ_ERROR && error->code == CQ_ERROR_NOT_FOUND)
            error->code = CQ_ERROR_INVALID; /* named in the request */
        web_reply_error(req, error);
        goto out;
    }
    forget_uploads(req->server, dirs);
    WebJob *job = job_start(req);
    SendTask *task = g_new0(SendTask, 1);
    task->job_id = g_strdup(job->id);
    task->login = g_strdup(req->session->login);
    task->composed = composed;
    task->dirs = g_steal_pointer(&dirs);
    g_thread_pool_push(req->server->senders, task, NULL);
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "job");
    json_builder_add_string_value(b, job->id);
    json_builder_end_object(b);
    web_reply_json(req, 202, json_builder_get_root(b));
    g_object_unref(b);
out:
    web_send_spec_clear(&spec);
    if (dirs)
        g_ptr_array_unref(dirs);
}

typedef struct {
    WebServer *server;
    const char *job_id;
} Progress;

static void
job_update(WebServer *server, const char *id, const char *state, guint done,
           guint total, gint64 mail_id, const char *error, gboolean finished)
{
    g_mutex_lock(&server->jobs_lock);
    WebJob *job = g_hash_table_lookup(server->jobs, id);
    if (job != NULL) {
        if (state) {
            g_free(job->state);
            job->state = g_strdup(state);
        }
        job->done = done;
        job->total = total;
        if (mail_id)
            job->mail_id = mail_id;
        if (error)
            job->error = g_strdup(error);
        job->finished = finished;
    }
    g_mutex_unlock(&server->jobs_lock);
}

static void
on_progress(const char *state, guint done, guint total, gint64 mail_id,
            gpointer data)
{
    Progress *p = data;
    job_update(p->server, p->job_id, state, done, total, mail_id, NULL,
               FALSE);
}

static void
remove_upload_dir(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name = NULL;
    while (d && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_unlink(path);
    }
    g_rmdir(dir);
}

void
web_send_thread(gpointer data, gpointer user_data)
{
    SendTask *task = data;
    WebServer *server = user_data;
    Progress progress = {server, task->job_id};
    g_autoptr(GError) error = NULL;
    g_autofree char *state = NULL;
    gint64 mail_id = 0;

    if (web_send_run(server->config, task->login, task->composed,
                     on_progress, &progress, &mail_id, &state, &error))
        job_update(server, task->job_id, state, 0, 0, mail_id, NULL, TRUE);
    else
        job_update(server, task->job_id, "error", 0, 0, mail_id,
                   error->message, TRUE);
    for (guint i = 0; i < task->dirs->len; i++)
        remove_upload_dir(task->dirs->pdata[i]);
    g_ptr_array_unref(task->dirs);
    g_free(task->job_id);
    g_free(task->login);
    g_free(task);
}

void
web_api_job(WebRequest *req)
{
    JsonBuilder *b = json_builder_new();
    g_mutex_lock(&req->server->jobs_lock);
    WebJob *job = g_hash_table_lookup(req->server->jobs, req->params[0]);
    if (job == NULL || strcmp(job->login, req->session->login) != 0) {
        g_mutex_unlock(&req->server->jobs_lock);
        g_object_unref(b);
        web_reply_message(req, 404, "not-found", "no such job");
        return;
    }
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, job->state);
    json_builder_set_member_name(b, "done");
    json_builder_add_int_value(b, job->done);
    json_builder_set_member_name(b, "total");
    json_builder_add_int_value(b, job->total);
    json_builder_set_member_name(b, "mail");
    json_builder_add_int_value(b, job->mail_id);
    json_builder_set_member_name(b, "error");
    if (job->error != NULL)
        json_builder_add_string_value(b, job->error);
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "finished");
    json_builder_add_boolean_value(b, job->finished);
    json_builder_end_object(b);
    g_mutex_unlock(&req->server->jobs_lock);
    web_reply_json(req, 200, json_builder_get_root(b));
    g_object_unref(b);
}
