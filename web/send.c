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
    char *request;   /* the send request, uploads replaced by their files */
    GPtrArray *dirs; /* upload folders to remove afterwards */
} SendTask;

static void remove_upload_dir(const char *dir);

/* Removes the files of uploads that were never sent. */
void
web_uploads_discard(WebServer *server)
{
    GHashTableIter iter;
    WebUpload *u = NULL;

    g_hash_table_iter_init(&iter, server->uploads);
    while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&u)) {
        remove_upload_dir(u->dir);
        g_hash_table_iter_remove(&iter);
    }
}

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
                  g_utf8_validate(name, -1, NULL) && strcmp(name, ".") != 0 &&
                  strcmp(name, "..") != 0 && strpbrk(name, "/\\") == NULL;

    for (const char *p = name; ok && *p; p++)
        ok = (guchar)*p >= ' ' && *p != 0x7f;
    if (!ok)
        g_set_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_INVALID,
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
        g_set_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_TOO_LARGE,
                    "file '%s': over the limit of %" G_GINT64_FORMAT " bytes",
                    name, req->server->config->web.max_upload_size);
        return NULL;
    }
    if (g_mkdir(dir, 0700) != 0 ||
        !g_file_set_contents_full(path, body->data ? body->data : "",
                                  body->length, G_FILE_SET_CONTENTS_NONE, 0600,
                                  error)) {
        g_clear_error(error);
        g_set_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_IO,
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

    if (!web_require(req, "send", "send mail"))
        return;
    if (!name_acceptable(name, &error)) {
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

/* Replaces {"upload": ID} by the file it names; the upload must be the
 * user's own and not sent yet.  Its folder joins @dirs. */
static gboolean
resolve_upload(WebRequest *req, JsonObject *item, GPtrArray *dirs,
               GError **error)
{
    const char *id =
        json_object_get_string_member_with_default(item, "upload", NULL);
    WebUpload *u = id ? g_hash_table_lookup(req->server->uploads, id) : NULL;

    if (!json_object_has_member(item, "upload"))
        return TRUE;
    if (u == NULL || strcmp(u->login, req->session->login) != 0) {
        g_set_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_INVALID,
                    "upload '%s': unknown or already sent", id ? id : "");
        return FALSE;
    }
    json_object_remove_member(item, "upload");
    json_object_set_string_member(item, "path", u->path);
    json_object_set_string_member(item, "filename", u->name);
    g_ptr_array_add(dirs, g_strdup(u->dir));
    return TRUE;
}

static gboolean
resolve_uploads(WebRequest *req, JsonObject *o, GPtrArray *dirs, GError **error)
{
    JsonNode *node = json_object_get_member(o, "attachments");
    JsonArray *a =
        node && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;

    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonNode *item = json_array_get_element(a, i);
        if (JSON_NODE_HOLDS_OBJECT(item)) {
            JsonObject *f = json_node_get_object(item);
            if (json_object_has_member(f, "path")) {
                g_set_error(error, CAQMAIL_ERROR, CAQMAIL_ERROR_INVALID,
                            "\"attachments\": name uploads or documents");
                return FALSE;
            }
            if (!resolve_upload(req, f, dirs, error))
                return FALSE;
        }
    }
    return TRUE;
}

static char *
to_text(JsonNode *root)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

#define JOB_KEPT                                                               \
    (G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC) /* finished jobs, for the page  \
                                                */

/* Forgets jobs finished long ago; the caller holds the lock. */
static void
sweep_jobs(WebServer *server)
{
    gint64 now = g_get_monotonic_time();
    GHashTableIter iter;
    WebJob *job = NULL;

    g_hash_table_iter_init(&iter, server->jobs);
    while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&job)) {
        if (job->finished && now - job->finished_at > JOB_KEPT)
            g_hash_table_iter_remove(&iter);
    }
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
    sweep_jobs(req->server);
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
        if (g_ptr_array_find_with_equal_func(dirs, u->dir, g_str_equal, NULL))
            g_hash_table_iter_remove(&iter);
    }
}

/* Checks the request at once, so that bad input is answered with an
 * error; then converts, stores and delivers in a thread of its own. */
void
web_api_send(WebRequest *req)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) root = NULL;
    g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func(g_free);
    JsonObject *o = web_request_object(req, &root);

    if (o == NULL)
        return;
    g_autofree char *request = NULL;
    if (!resolve_uploads(req, o, dirs, &error) ||
        !caqmail_send_json(req->user, (request = to_text(root)), TRUE, NULL,
                           NULL, NULL, NULL, &error)) {
        if (error->domain == CAQMAIL_ERROR &&
            error->code == CAQMAIL_ERROR_NOT_FOUND)
            error->code = CAQMAIL_ERROR_INVALID; /* named in the request */
        web_reply_error(req, error);
        return;
    }
    forget_uploads(req->server, dirs);
    WebJob *job = job_start(req);
    SendTask *task = g_new0(SendTask, 1);
    task->job_id = g_strdup(job->id);
    task->login = g_strdup(req->session->login);
    task->request = g_steal_pointer(&request);
    task->dirs = g_steal_pointer(&dirs);
    g_thread_pool_push(req->server->senders, task, NULL);
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "job");
    json_builder_add_string_value(b, job->id);
    json_builder_end_object(b);
    web_reply_json(req, 202, json_builder_get_root(b));
    g_object_unref(b);
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
        if (finished)
            job->finished_at = g_get_monotonic_time();
    }
    g_mutex_unlock(&server->jobs_lock);
}

static void
on_progress(const char *state, guint done, guint total, gint64 mail_id,
            void *data)
{
    Progress *p = data;
    job_update(p->server, p->job_id, state, done, total, mail_id, NULL, FALSE);
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

/* A context of the thread's own, acting for the user. */
static gboolean
send_as_user(WebServer *server, SendTask *task, Progress *progress,
             gint64 *mail_id, char **state, GError **error)
{
    g_autoptr(CaqmailContext) own =
        caqmail_context_open(server->config_path, error);
    g_autoptr(CaqmailContext) user =
        own ? caqmail_context_for_user(own, task->login, error) : NULL;

    return user != NULL &&
           caqmail_send_json(user, task->request, FALSE, on_progress, progress,
                             mail_id, state, error);
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

    if (send_as_user(server, task, &progress, &mail_id, &state, &error))
        job_update(server, task->job_id, state, 0, 0, mail_id, NULL, TRUE);
    else
        job_update(server, task->job_id, "error", 0, 0, mail_id, error->message,
                   TRUE);
    for (guint i = 0; i < task->dirs->len; i++)
        remove_upload_dir(task->dirs->pdata[i]);
    g_ptr_array_unref(task->dirs);
    g_free(task->job_id);
    g_free(task->login);
    g_free(task->request);
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
