/* smtp-driver: runs caqmail's SMTP client for the integration tests.
 *
 *     smtp-driver CONFIG [--debug] < jobs.json > results.json
 *
 * Reads {"mode": "batch" | "each" | "parallel", "messages": [{"from": "a@b",
 * "to": ["c@d"], "orcpt": ["x@y"], "file": "msg.eml", "8bit": false,
 * "smtputf8": false, "envid": "ID", "notify": "success,failure",
 * "ret": "hdrs"}]} and sends the messages on one client, as one batch or
 * one call each, or over parallel connections.  Prints every result as
 * JSON: outcome, stage, code, enhanced, text, downgraded, bytes and the
 * recipients.  Events go to standard error.
 */
#include "common/config.h"
#include "common/event.h"
#include "smtp/client.h"
#include "smtp/envelope.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

static void
print_event(CqLogLevel level, const char *line, gpointer data)
{
    fprintf(stderr, "%s: %s\n", cq_log_level_name(level), line);
}

static CqSmtpEnvelope *
envelope_from_json(JsonObject *m, GError **error)
{
    const char *from = json_object_get_string_member(m, "from");
    g_autoptr(CqSmtpEnvelope) env = cq_smtp_envelope_new(from, error);
    JsonArray *to = json_object_get_array_member(m, "to");
    JsonArray *orcpt = json_object_has_member(m, "orcpt")
                           ? json_object_get_array_member(m, "orcpt")
                           : NULL;
    guint notify = 0;
    const char *ret = json_object_get_string_member_with_default(m, "ret",
                                                                 "");
    const char *n = json_object_get_string_member_with_default(m, "notify",
                                                               NULL);

    if (env == NULL)
        return NULL;
    for (guint i = 0; i < json_array_get_length(to); i++) {
        const char *o = orcpt ? json_array_get_string_element(orcpt, i)
                              : NULL;
        if (!cq_smtp_envelope_add_recipient(
                env, json_array_get_string_element(to, i), o, error))
            return NULL;
    }
    cq_smtp_envelope_set_8bit(
        env, json_object_get_boolean_member_with_default(m, "8bit", FALSE));
    if (json_object_get_boolean_member_with_default(m, "smtputf8", FALSE))
        cq_smtp_envelope_set_smtputf8(env, TRUE);
    if (n != NULL && !cq_smtp_notify_parse(n, &notify, error))
        return NULL;
    if (!cq_smtp_envelope_set_dsn(
            env, notify,
            strcmp(ret, "full") == 0   ? CQ_SMTP_RET_FULL
            : strcmp(ret, "hdrs") == 0 ? CQ_SMTP_RET_HDRS
                                       : CQ_SMTP_RET_DEFAULT,
            json_object_get_string_member_with_default(m, "envid", NULL),
            error))
        return NULL;
    return g_steal_pointer(&env);
}

static void
add_reply(JsonBuilder *b, guint code, const char *enhanced, const char *text)
{
    json_builder_set_member_name(b, "code");
    json_builder_add_int_value(b, code);
    json_builder_set_member_name(b, "enhanced");
    json_builder_add_string_value(b, enhanced);
    json_builder_set_member_name(b, "text");
    json_builder_add_string_value(b, text);
}

static void
add_result(JsonBuilder *b, const CqSmtpResult *r)
{
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "outcome");
    json_builder_add_string_value(b, cq_smtp_outcome_name(r->outcome));
    json_builder_set_member_name(b, "stage");
    json_builder_add_string_value(b, cq_smtp_stage_name(r->stage));
    add_reply(b, r->code, r->enhanced, r->text);
    json_builder_set_member_name(b, "downgraded");
    json_builder_add_boolean_value(b, r->downgraded);
    json_builder_set_member_name(b, "bytes");
    json_builder_add_int_value(b, r->bytes_sent);
    json_builder_set_member_name(b, "rcpts");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->rcpts->len; i++) {
        const CqSmtpRcptResult *rr = r->rcpts->pdata[i];
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "address");
        json_builder_add_string_value(b, rr->address);
        json_builder_set_member_name(b, "status");
        json_builder_add_string_value(b,
                                      cq_smtp_rcpt_status_name(rr->status));
        json_builder_set_member_name(b, "stage");
        json_builder_add_string_value(b, cq_smtp_stage_name(rr->stage));
        add_reply(b, rr->code, rr->enhanced, rr->text);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

/* Each file is opened once; its jobs read it through their own
 * substreams, so that many jobs may share one file. */
static GMimeStream *
job_stream(GHashTable *files, const char *path, GError **error)
{
    GMimeStream *file = g_hash_table_lookup(files, path);

    if (file == NULL) {
        file = g_mime_stream_fs_open(path, 0, 0, error);
        if (file == NULL)
            return NULL;
        g_hash_table_insert(files, g_strdup(path), file);
    }
    return g_mime_stream_substream(file, 0, g_mime_stream_length(file));
}

static gboolean
load_jobs(JsonArray *messages, GPtrArray *envs, CqSmtpJob *jobs,
          GError **error)
{
    g_autoptr(GHashTable) files =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                              g_object_unref);

    for (guint i = 0; i < json_array_get_length(messages); i++) {
        JsonObject *m = json_array_get_object_element(messages, i);
        CqSmtpEnvelope *env = envelope_from_json(m, error);
        if (env == NULL)
            return FALSE;
        g_ptr_array_add(envs, env);
        const char *file = json_object_get_string_member(m, "file");
        jobs[i].envelope = env;
        jobs[i].message = job_stream(files, file, error);
        if (jobs[i].message == NULL)
            return FALSE;
    }
    return TRUE;
}

static void
send_jobs(const CqConfig *config, CqSmtpClient *client, const char *mode,
          CqSmtpJob *jobs, guint n)
{
    guint n_sent = 0;

    if (strcmp(mode, "parallel") == 0) {
        cq_smtp_send_parallel(config, jobs, n, &n_sent, NULL);
        return;
    }
    if (strcmp(mode, "batch") == 0) {
        cq_smtp_client_send_batch(client, jobs, n);
        return;
    }
    for (guint i = 0; i < n; i++) {
        cq_smtp_result_init(&jobs[i].result);
        cq_smtp_client_send(client, jobs[i].envelope, jobs[i].message,
                            &jobs[i].result, NULL);
    }
}

static int
run(const CqConfig *config, JsonObject *input, GError **error)
{
    JsonArray *messages = json_object_get_array_member(input, "messages");
    guint n = json_array_get_length(messages);
    const char *mode = json_object_get_string_member(input, "mode");
    g_autoptr(GPtrArray) envs =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_smtp_envelope_free);
    g_autofree CqSmtpJob *jobs = g_new0(CqSmtpJob, MAX(n, 1));
    g_autoptr(CqSmtpClient) client = cq_smtp_client_new(config, error);
    int code = 1;

    if (client != NULL && load_jobs(messages, envs, jobs, error)) {
        send_jobs(config, client, mode, jobs, n);
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_array(b);
        for (guint i = 0; i < n; i++)
            add_result(b, &jobs[i].result);
        json_builder_end_array(b);
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        g_autofree char *text = json_to_string(root, TRUE);
        puts(text);
        code = 0;
    }
    for (guint i = 0; i < n; i++) {
        g_clear_object(&jobs[i].message);
        if (jobs[i].result.rcpts != NULL)
            cq_smtp_result_clear(&jobs[i].result);
    }
    return code;
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();

    if (argc < 2) {
        fprintf(stderr, "usage: smtp-driver CONFIG [--debug] < jobs.json\n");
        return 2;
    }
    cq_mime_init();
    cq_event_set_handler(argc > 2 ? CQ_LOG_DEBUG : CQ_LOG_INFO, print_event,
                         NULL);
    g_autoptr(CqConfig) config = cq_config_load_file(argv[1], &error);
    g_autoptr(GString) input = g_string_new(NULL);
    char block[4096];
    size_t got;
    while ((got = fread(block, 1, sizeof block, stdin)) > 0)
        g_string_append_len(input, block, (gssize)got);
    if (config == NULL ||
        !json_parser_load_from_data(parser, input->str, (gssize)input->len,
                                    &error)) {
        fprintf(stderr, "smtp-driver: %s\n", error->message);
        return 1;
    }
    int code = run(config, json_node_get_object(json_parser_get_root(parser)),
                   &error);
    if (code != 0)
        fprintf(stderr, "smtp-driver: %s\n", error->message);
    return code;
}
