/* The outbox and the history on a real SQLite file: enqueue, delivery
 * states, retries, leases, permissions, and the hash chain that names
 * the first entry someone changed or removed. */
#include "common/error.h"
#include "history/history.h"
#include "history/mails.h"
#include "outbox/outbox.h"
#include "store/chunks.h"
#include "testdb.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct {
    char *dir;
    char *db;
    char *maildir;
    CqSession *admin;
} Fixture;

static CqSession *
open_as(Fixture *f, const char *login)
{
    g_autoptr(GError) error = NULL;
    CqStore *store = cq_store_open(f->db, NULL, NULL, &error);
    g_assert_no_error(error);
    CqSession *s = cq_session_new(store, login, &error);
    g_assert_no_error(error);
    return s;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    f->dir = g_dir_make_tmp("caqmail-outbox-XXXXXX", &error);
    f->maildir = g_build_filename(f->dir, "maildir", NULL);
    f->db = cq_test_db_new(f->dir);
    f->admin = cq_session_open(f->db, NULL, NULL, &error);
    g_assert_no_error(error);
}

static void
remove_tree(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *child = g_build_filename(path, name, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_DIR))
            remove_tree(child);
        else
            g_assert_cmpint(g_unlink(child), ==, 0);
    }
    if (dir != NULL)
        g_dir_close(dir);
    g_assert_cmpint(g_rmdir(path), ==, 0);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    cq_session_free(f->admin);
    cq_test_db_drop(f->db);
    g_free(f->db);
    remove_tree(f->dir);
    g_free(f->maildir);
    g_free(f->dir);
}

static gint64
enqueue(CqSession *s, const char *to, const char *record)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqMessage) m = cq_message_new(CQ_ORIGIN_MANUAL);
    CqMimeOptions options = {0};
    gint64 id = 0;

    g_assert_true(cq_message_set_from(m, "QM <qm@werk.example>", NULL));
    g_assert_true(cq_message_add_recipients(m, CQ_RCPT_TO, to, "test", &error));
    g_assert_true(cq_message_set_subject(m, "Prüfbericht Gehäuse", NULL));
    g_assert_true(cq_message_set_text(m, "Grüße\n", NULL));
    g_assert_true(cq_message_set_record(m, record, NULL));
    g_assert_true(cq_outbox_enqueue(s, m, &options, &id, &error));
    g_assert_no_error(error);
    return id;
}

/* A transport that answers by the recipient's local part: ok, temp,
 * perm, lost (connection gone after the final dot). */
static gboolean
scripted_deliver(CqTransport *t, CqTransportMail **mails, guint n,
                 GError **error)
{
    for (guint i = 0; i < n; i++) {
        for (guint k = 0; k < mails[i]->rcpts->len; k++) {
            CqTransportRcpt *r =
                &g_array_index(mails[i]->rcpts, CqTransportRcpt, k);
            if (g_str_has_prefix(r->address, "ok"))
                cq_transport_rcpt_set(r, CQ_OUTCOME_ACCEPTED, 250,
                                      "250 2.0.0 queued as 1");
            else if (g_str_has_prefix(r->address, "temp"))
                cq_transport_rcpt_set(r, CQ_OUTCOME_DEFERRED, 450,
                                      "450 4.2.0 mailbox busy");
            else if (g_str_has_prefix(r->address, "perm"))
                cq_transport_rcpt_set(r, CQ_OUTCOME_REJECTED, 550,
                                      "550 5.1.1 user unknown");
            else
                cq_transport_rcpt_set(r, CQ_OUTCOME_UNCERTAIN, 0,
                                      "data: connection lost");
        }
    }
    return TRUE;
}

static void
scripted_free(CqTransport *t)
{
    g_free(t);
}

static const CqTransportClass scripted_class = {
    .name = "scripted",
    .deliver = scripted_deliver,
    .free = scripted_free,
};

static CqTransport *
scripted_new(void)
{
    CqTransport *t = g_new0(CqTransport, 1);
    t->klass = &scripted_class;
    return t;
}

static CqDeliverStats
deliver(CqSession *s, CqTransport *t, gint64 max_age)
{
    g_autoptr(GError) error = NULL;
    CqDeliverOptions o = cq_deliver_options_default();
    CqDeliverStats stats;

    o.max_age = max_age;
    g_assert_true(cq_outbox_deliver(s, t, &o, &stats, NULL, NULL, &error));
    g_assert_no_error(error);
    return stats;
}

static CqMailDetail *
detail(CqSession *s, gint64 id)
{
    g_autoptr(GError) error = NULL;
    CqMailDetail *d = cq_mail_detail(s, id, &error);
    g_assert_no_error(error);
    return d;
}

static void
run_sql(CqSession *s, const char *sql)
{
    g_autoptr(GError) error = NULL;
    CqStmt *stmt = cq_store_stmt(s->store, sql, &error);
    g_assert_no_error(error);
    g_assert_true(cq_stmt_run(stmt, &error));
    g_assert_no_error(error);
}

static void
test_states(Fixture *f, gconstpointer data)
{
    g_autoptr(CqTransport) t = scripted_new();
    gint64 sent = enqueue(f->admin, "ok1@a.example, ok2@a.example", "R-1");
    gint64 partly = enqueue(f->admin, "ok@a.example, perm@a.example", "R-1");
    gint64 failed = enqueue(f->admin, "perm@a.example", "R-2");
    gint64 deferred = enqueue(f->admin, "ok@a.example, temp@a.example", NULL);
    gint64 lost = enqueue(f->admin, "lost@a.example", NULL);

    CqDeliverStats st = deliver(f->admin, t, 86400);
    g_assert_cmpuint(st.claimed, ==, 5);
    g_assert_cmpuint(st.sent, ==, 1);
    g_assert_cmpuint(st.partly_sent, ==, 1);
    g_assert_cmpuint(st.failed, ==, 1);
    g_assert_cmpuint(st.deferred, ==, 1);
    g_assert_cmpuint(st.uncertain, ==, 1);

    struct {
        gint64 id;
        const char *state;
    } expect[] = {{sent, "sent"},
                  {partly, "partly-sent"},
                  {failed, "failed"},
                  {deferred, "deferred"},
                  {lost, "uncertain"}};
    for (guint i = 0; i < G_N_ELEMENTS(expect); i++) {
        g_autoptr(CqMailDetail) d = detail(f->admin, expect[i].id);
        g_assert_cmpstr(d->mail->state, ==, expect[i].state);
    }
    g_autoptr(CqMailDetail) p = detail(f->admin, partly);
    CqRcptInfo *refused = p->rcpts->pdata[1];
    g_assert_cmpstr(refused->status, ==, "rejected");
    g_assert_cmpint(refused->code, ==, 550);
    g_assert_cmpstr(refused->reply, ==, "550 5.1.1 user unknown");
    g_assert_cmpstr(((CqRcptInfo *)p->rcpts->pdata[0])->status, ==, "accepted");

    /* Nothing is due now: the deferred mail waits, the uncertain one
     * waits for an operator. */
    st = deliver(f->admin, t, 86400);
    g_assert_cmpuint(st.claimed, ==, 0);

    /* When it is due, only the deferred recipient is tried again. */
    run_sql(f->admin, "UPDATE outbox SET next_attempt = 0");
    st = deliver(f->admin, t, 86400);
    g_assert_cmpuint(st.claimed, ==, 1);
    g_autoptr(CqMailDetail) d = detail(f->admin, deferred);
    g_assert_cmpstr(d->mail->state, ==, "deferred");
    g_assert_cmpint(d->mail->attempts, ==, 2);
    CqEntryInfo *second = d->entries->pdata[d->entries->len - 1];
    g_assert_cmpuint(second->results->len, ==, 1);
    g_assert_cmpstr(((CqRcptInfo *)second->results->pdata[0])->address, ==,
                    "temp@a.example");
    /* Back-off: the wait doubles. */
    g_assert_cmpint(d->mail->next_attempt - cq_store_now(), >,
                    100 * G_USEC_PER_SEC);

    /* Past the maximum age the temporary failure becomes final, with
     * the last reason. */
    run_sql(f->admin, "UPDATE outbox SET next_attempt = 0");
    st = deliver(f->admin, t, 0);
    g_autoptr(CqMailDetail) e = detail(f->admin, deferred);
    g_assert_cmpstr(e->mail->state, ==, "partly-sent");
    CqRcptInfo *gave_up = e->rcpts->pdata[1];
    g_assert_cmpstr(gave_up->status, ==, "rejected");
    g_assert_nonnull(strstr(gave_up->reply, "gave up after 0s: 450 4.2.0"));
}

static gint64 first_broken(Fixture *f, gint64 *entries);

/* The number of @status results of mail @mail's recipients. */
static gint64
results_of(Fixture *f, gint64 mail, const char *status)
{
    g_autoptr(GError) error = NULL;
    CqStmt *stmt = cq_store_stmt(
        f->admin->store,
        "SELECT COUNT(*) FROM delivery_result d JOIN mail_rcpt r"
        " ON r.id = d.rcpt_id WHERE r.mail_id = ? AND d.status = ?",
        &error);
    g_assert_no_error(error);
    cq_stmt_bind_int(stmt, 1, mail);
    cq_stmt_bind_text(stmt, 2, status);
    g_assert_cmpint(cq_stmt_step(stmt, &error), ==, CQ_STEP_ROW);
    gint64 n = cq_stmt_int(stmt, 0);
    cq_stmt_reset(stmt);
    return n;
}

static void
test_retry_cancel(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqTransport) t = scripted_new();
    gint64 lost = enqueue(f->admin, "lost@a.example", NULL);
    gint64 waiting = enqueue(f->admin, "ok@a.example", NULL);

    g_assert_true(cq_outbox_cancel(f->admin, waiting, &error));
    deliver(f->admin, t, 86400);
    g_autoptr(CqMailDetail) c = detail(f->admin, waiting);
    g_assert_cmpstr(c->mail->state, ==, "cancelled");
    g_assert_cmpint(c->mail->attempts, ==, 0);
    /* Sent or cancelled mail cannot be cancelled or retried. */
    g_assert_false(cq_outbox_retry(f->admin, waiting, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    g_clear_error(&error);

    g_autoptr(CqMailDetail) u = detail(f->admin, lost);
    g_assert_cmpstr(u->mail->state, ==, "uncertain");
    g_assert_true(cq_outbox_retry(f->admin, lost, &error));
    g_assert_no_error(error);
    /* the retry entry reopens the uncertain recipient, and holds */
    g_assert_cmpint(results_of(f, lost, "retry"), ==, 1);
    g_assert_cmpint(first_broken(f, NULL), ==, 0);
    CqDeliverStats st = deliver(f->admin, t, 86400);
    g_assert_cmpuint(st.claimed, ==, 1);
    g_autoptr(CqMailDetail) r = detail(f->admin, lost);
    g_assert_cmpint(r->mail->attempts, ==, 2);
    const char *kinds[] = {"queued", "attempt", "retry", "attempt"};
    g_assert_cmpuint(r->entries->len, ==, G_N_ELEMENTS(kinds));
    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++)
        g_assert_cmpstr(((CqEntryInfo *)r->entries->pdata[i])->kind, ==,
                        kinds[i]);
}

static void
test_lease_takeover(Fixture *f, gconstpointer data)
{
    g_autoptr(CqTransport) t = scripted_new();
    gint64 a = enqueue(f->admin, "ok@a.example", NULL);
    gint64 b = enqueue(f->admin, "ok@b.example", NULL);
    gint64 now = cq_store_now();

    /* Mail a: claimed by a worker elsewhere whose lease ran out; mail b:
     * by one whose lease still runs: that one is left alone. */
    g_autofree char *sql = g_strdup_printf(
        "UPDATE outbox SET state = 'sending', lease_owner = CASE mail_id"
        " WHEN %" G_GINT64_FORMAT " THEN 'elsewhere:1:0' ELSE 'elsewhere:2:0'"
        " END, lease_until = CASE mail_id WHEN %" G_GINT64_FORMAT
        " THEN %" G_GINT64_FORMAT " ELSE %" G_GINT64_FORMAT " END",
        a, a, now - 1, now + 600 * G_USEC_PER_SEC);
    run_sql(f->admin, sql);
    CqDeliverStats st = deliver(f->admin, t, 86400);
    g_assert_cmpuint(st.taken_over, ==, 1);
    g_assert_cmpuint(st.sent, ==, 1);
    g_autoptr(CqMailDetail) da = detail(f->admin, a);
    g_assert_cmpstr(da->mail->state, ==, "sent");
    g_assert_cmpstr(((CqEntryInfo *)da->entries->pdata[1])->kind, ==,
                    "takeover");
    g_autoptr(CqMailDetail) db = detail(f->admin, b);
    g_assert_cmpstr(db->mail->state, ==, "sending");
}

/* Two mails delivered into the Maildir: entries 1 and 2 queue them,
 * 3 and 4 are their delivery attempts. */
static void
two_delivered(Fixture *f)
{
    g_autoptr(CqTransport) t = cq_transport_maildir_new(f->maildir);
    enqueue(f->admin, "ok@a.example, ok@b.example", "8D-2026-0042");
    enqueue(f->admin, "ok@c.example", NULL);
    CqDeliverStats st = deliver(f->admin, t, 86400);
    g_assert_cmpuint(st.sent, ==, 2);
}

static void
verify(Fixture *f, CqVerifyResult *r)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(cq_history_verify(f->admin, r, NULL, NULL, &error));
    g_assert_no_error(error);
}

/* The first broken entry of the chain, 0 when none; and in *@entries
 * how many there are. */
static gint64
first_broken(Fixture *f, gint64 *entries)
{
    CqVerifyResult r = {0};

    verify(f, &r);
    gint64 broken = r.broken;
    if (entries != NULL)
        *entries = r.entries;
    cq_verify_result_clear(&r);
    return broken;
}

/* Changes one byte of the first chunk of mail 1. */
static void
flip_chunk_byte(Fixture *f)
{
    g_autoptr(GError) error = NULL;
    CqStmt *stmt = cq_store_stmt(
        f->admin->store,
        "SELECT data FROM mail_chunk WHERE mail_id = 1 AND seq = 0", &error);
    g_assert_true(cq_stmt_step(stmt, &error) == CQ_STEP_ROW);
    gsize len = 0;
    const guint8 *data = cq_stmt_blob(stmt, 0, &len);
    g_autofree guint8 *copy = g_memdup2(data, len);
    cq_stmt_reset(stmt);
    copy[len / 2] ^= 0x01;
    stmt = cq_store_stmt(f->admin->store,
                         "UPDATE mail_chunk SET data = ? WHERE mail_id = 1",
                         &error);
    cq_stmt_bind_blob(stmt, 1, copy, len);
    g_assert_true(cq_stmt_run(stmt, &error));
}

typedef struct {
    const char *sql; /* NULL: flip a byte of the raw message */
    gint64 broken;
    const char *problem;
} Tamper;

static const Tamper tampers[] = {
    {"UPDATE mail SET subject = 'p' || substr(subject, 2) WHERE id = 2", 2,
     "content has been changed"},
    {NULL, 1, "raw message of mail 1 has been changed"},
    {"UPDATE mail_rcpt SET address = 'ok@evil.example' WHERE id = 2", 1,
     "content has been changed"},
    {"UPDATE delivery_result SET reply = 'x' || reply WHERE id = 3", 4,
     "content has been changed"},
    {"UPDATE delivery_result SET status = 'rejected' WHERE id = 1", 3,
     "content has been changed"},
    {"UPDATE history SET detail = 'state=failed' WHERE seq = 3", 3,
     "content has been changed"},
    {"UPDATE history SET actor = 'mallory' WHERE seq = 1", 1,
     "content has been changed"},
    {"UPDATE history SET hash = CASE substr(hash, 1, 1) WHEN '0' THEN"
     " '1' ELSE '0' END || substr(hash, 2) WHERE seq = 2",
     2, "content has been changed"},
    {"UPDATE history SET prev_hash = CASE substr(prev_hash, 1, 1)"
     " WHEN 'f' THEN 'e' ELSE 'f' END || substr(prev_hash, 2)"
     " WHERE seq = 3",
     3, "link to the entry before does not match"},
    {"DELETE FROM delivery_result WHERE history_seq = 3;"
     "DELETE FROM history WHERE seq = 3",
     3, "entry 3 has been removed"},
    {"DELETE FROM delivery_result WHERE history_seq = 4;"
     "DELETE FROM history WHERE seq = 4",
     4, "entries 4 to 4 have been removed"},
    {"UPDATE outbox SET state = 'queued'", 0, NULL},
};

static void
test_chain(Fixture *f, gconstpointer data)
{
    const Tamper *t = data;
    CqVerifyResult r;

    two_delivered(f);
    verify(f, &r);
    g_assert_cmpint(r.broken, ==, 0);
    g_assert_cmpint(r.entries, ==, 4);
    cq_verify_result_clear(&r);

    if (t->sql == NULL) {
        flip_chunk_byte(f);
    } else {
        g_auto(GStrv) parts = g_strsplit(t->sql, ";", -1);
        for (guint i = 0; parts[i]; i++)
            run_sql(f->admin, parts[i]);
    }
    verify(f, &r);
    g_assert_cmpint(r.broken, ==, t->broken);
    if (t->problem != NULL)
        g_assert_nonnull(strstr(r.problem, t->problem));
    cq_verify_result_clear(&r);
}

static void
test_raw_is_as_sent(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    two_delivered(f);
    g_autoptr(GMimeStream) out = g_mime_stream_mem_new();
    g_assert_true(cq_mail_write_raw(f->admin, 1, out, &error));
    GByteArray *raw = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
    g_autoptr(CqMailDetail) d = detail(f->admin, 1);
    g_autofree char *sha =
        g_compute_checksum_for_data(G_CHECKSUM_SHA256, raw->data, raw->len);
    g_assert_cmpstr(sha, ==, d->mail->sha256);
    g_assert_cmpint((gint64)raw->len, ==, d->mail->size);
    g_assert_nonnull(g_strstr_len((char *)raw->data, raw->len,
                                  "\r\nX-Caqmail-Record: 8D-2026-0042\r\n"));
}

/* A user without read-all sees nothing of another's mail, through every
 * library call the commands use. */
static void
test_permissions(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    const char *sender[] = {"sender", NULL}, *auditor[] = {"auditor", NULL};
    g_assert_true(cq_user_add(f->admin, "alice", sender, &error));
    g_assert_true(cq_user_add(f->admin, "bob", sender, &error));
    g_assert_true(cq_user_add(f->admin, "carol", auditor, &error));
    g_autoptr(CqSession) alice = open_as(f, "alice");
    g_autoptr(CqSession) bob = open_as(f, "bob");
    g_autoptr(CqSession) carol = open_as(f, "carol");
    g_autoptr(CqSession) eve = open_as(f, "eve");
    gint64 id = enqueue(alice, "ok@a.example", "AUD-7");
    gint64 own = enqueue(bob, "ok@b.example", NULL);
    CqMailFilter all = {0}, search = {.text = "gehause"},
                 by_record = {.record = "AUD-7"}, journal = {.journal = TRUE};
    const CqMailFilter *filters[] = {&all, &search, &by_record, &journal};

    for (guint i = 0; i < G_N_ELEMENTS(filters); i++) {
        g_autoptr(GPtrArray) a = cq_mail_query(alice, filters[i], &error);
        g_autoptr(GPtrArray) b = cq_mail_query(bob, filters[i], &error);
        g_autoptr(GPtrArray) c = cq_mail_query(carol, filters[i], &error);
        g_assert_no_error(error);
        for (guint k = 0; k < b->len; k++)
            g_assert_cmpint(((CqMailInfo *)b->pdata[k])->id, ==, own);
        g_assert_cmpuint(a->len, ==, filters[i] == &journal ? 0 : 1);
        g_assert_cmpuint(c->len, >=, a->len);
    }
    g_assert_null(cq_mail_detail(bob, id, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_autoptr(GMimeStream) out = g_mime_stream_mem_new();
    g_assert_false(cq_mail_write_raw(bob, id, out, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND);
    g_assert_cmpuint(
        g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out))->len, ==, 0);
    g_clear_error(&error);
    g_assert_false(cq_outbox_cancel(bob, id, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_assert_false(cq_outbox_retry(bob, id, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND);
    g_clear_error(&error);
    CqVerifyResult r;
    g_assert_false(cq_history_verify(bob, &r, NULL, NULL, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_PERMISSION);
    g_clear_error(&error);
    /* Delivering someone else's mail, or the whole outbox, is not a
     * sender's business. */
    g_autoptr(CqTransport) t = scripted_new();
    CqDeliverOptions o = cq_deliver_options_default();
    CqDeliverStats st;
    o.only_mail = id;
    g_assert_false(cq_outbox_deliver(bob, t, &o, &st, NULL, NULL, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND);
    g_clear_error(&error);
    o.only_mail = 0;
    g_assert_false(cq_outbox_deliver(bob, t, &o, &st, NULL, NULL, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_PERMISSION);
    g_clear_error(&error);
    /* An unregistered user can neither send nor read. */
    g_assert_null(cq_mail_query(eve, &all, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_PERMISSION);
    g_clear_error(&error);
    g_autoptr(CqMailDetail) d = detail(carol, id);
    g_assert_cmpstr(d->mail->sender, ==, "alice");
}

static CqMessage *
bulk_message(guint i, const char *attachment)
{
    g_autoptr(GError) error = NULL;
    CqMessage *m = cq_message_new(CQ_ORIGIN_REMINDER);
    g_autofree char *subject = g_strdup_printf("Erinnerung %u: Maßnahme", i);
    g_autofree char *to = g_strdup_printf("ok%u@a.example", i);

    g_assert_true(cq_message_set_from(m, "QM <qm@werk.example>", NULL));
    g_assert_true(cq_message_add_recipients(m, CQ_RCPT_TO, to, NULL, NULL));
    g_assert_true(cq_message_set_subject(m, subject, NULL));
    g_assert_true(cq_message_set_text(m, "Fällig.\n", NULL));
    if (attachment != NULL)
        g_assert_nonnull(cq_message_add_attachment(m, attachment, NULL,
                                                   "text/plain", 0, &error));
    g_assert_no_error(error);
    return m;
}

static GByteArray *
raw_of(CqSession *s, gint64 id)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GMimeStream) out = g_mime_stream_mem_new();
    g_assert_true(cq_mail_write_raw(s, id, out, &error));
    g_assert_no_error(error);
    GByteArray *raw = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(out), FALSE);
    return raw;
}

/* The search key of mail @id holds @address (up to its line end), so
 * that the history finds the mail by it. */
static void
assert_search_names(Fixture *f, gint64 id, const char *address)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *want = g_strndup(address, strcspn(address, "\r"));
    CqStmt *stmt = cq_store_stmt(f->admin->store,
                                 "SELECT search FROM mail WHERE id = ?",
                                 &error);

    g_assert_no_error(error);
    cq_stmt_bind_int(stmt, 1, id);
    g_assert_cmpint(cq_stmt_step(stmt, &error), ==, CQ_STEP_ROW);
    g_assert_nonnull(strstr(cq_stmt_text(stmt, 0), want));
    cq_stmt_reset(stmt);
}

/* The "queued" entry is hashed from the values as they were written:
 * what the verification reads back gives the same hash for every kind
 * of column, whether set or NULL (operator, record, a recipient's
 * source, an attachment's source and its original's digest), for a
 * message composed here and one handed over composed. */
static void
test_chain_every_column(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    const char *sender[] = {"sender", NULL};
    g_autofree char *file = g_build_filename(f->dir, "Bericht.txt", NULL);
    CqMimeOptions options = {.allow_8bit = TRUE};
    g_autoptr(CqMessage) m = cq_message_new(CQ_ORIGIN_DOCUMENT);
    g_autoptr(CqMessage) envelope = cq_message_new(CQ_ORIGIN_SENDMAIL);
    static const char text[] = "From: qm@werk.example\r\nSubject: roh\r\n"
                               "\r\nGr\xc3\xbc\xc3\x9f"
                               "e\r\n";
    g_autoptr(GBytes) raw = g_bytes_new_static(text, sizeof text - 1);
    gint64 id = 0;

    g_assert_true(cq_user_add(f->admin, "alice", sender, &error));
    g_autoptr(CqSession) alice = cq_session_derive(f->admin, "alice", &error);
    g_assert_no_error(error);
    g_assert_true(g_file_set_contents(file, "Prüfbericht\n", -1, NULL));
    g_assert_true(cq_message_set_from(m, "QM <qm@werk.example>", NULL));
    g_assert_true(
        cq_message_add_recipients(m, CQ_RCPT_TO, "ok@a.example", NULL, NULL));
    g_assert_true(cq_message_add_recipients(
        m, CQ_RCPT_CC, "Jörg <ok@b.example>", "person:17", NULL));
    g_assert_true(cq_message_set_subject(m, "Bericht ü", NULL));
    g_assert_true(cq_message_set_text(m, "Grüße\n", NULL));
    CqAttachment *a = cq_message_add_attachment(m, file, NULL, NULL, 0, &error);
    g_assert_no_error(error);
    a->source = g_strdup("document:DOC-7");
    a->source_sha256 = g_strdup("ab12");
    g_assert_true(cq_message_add_attachment(m, file, "Kopie.txt", NULL, 0,
                                            &error) != NULL);
    g_assert_true(cq_outbox_enqueue(alice, m, &options, &id, &error));
    g_assert_no_error(error);

    g_assert_true(cq_message_set_from(envelope, "qm@werk.example", NULL));
    g_assert_true(cq_message_add_recipients(envelope, CQ_RCPT_BCC,
                                            "ok@c.example", NULL, NULL));
    g_assert_true(cq_message_set_record(envelope, "8D-2026-0042", NULL));
    g_assert_true(cq_message_set_subject(envelope, "roh", NULL));
    envelope->message_id = g_strdup("roh.1@werk.example");
    gboolean stored =
        cq_outbox_enqueue_raw(f->admin, envelope, raw, &id, &error);
    g_assert_no_error(error);
    g_assert_true(stored);

    gint64 entries = 0;
    g_assert_cmpint(first_broken(f, &entries), ==, 0);
    g_assert_cmpint(entries, ==, 2);

    /* and a column of each kind still counts */
    run_sql(f->admin, "UPDATE mail_attachment SET source_sha256 = 'ab13'"
                      " WHERE source_sha256 = 'ab12'");
    g_assert_cmpint(first_broken(f, NULL), ==, 1);
}

/* An entry with results appended in one step is hashed from the values
 * written: the verification, which reads them back, finds it intact for
 * every kind of value (a reply with non-ASCII text, a tab and quotes, an
 * empty and a missing one, the code 0 of an uncertain result), and still
 * notices a changed one. */
static void
test_chain_results_in_one_step(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    CqStore *store = f->admin->store;
    gint64 rcpt[3] = {0};
    guint n = 0;

    enqueue(f->admin, "ok@a.example, ok@b.example, ok@c.example", NULL);
    CqStmt *stmt = cq_store_stmt(
        store, "SELECT id FROM mail_rcpt WHERE mail_id = 1 ORDER BY position",
        &error);
    while (cq_stmt_step(stmt, &error) == CQ_STEP_ROW && n < 3)
        rcpt[n++] = cq_stmt_int(stmt, 0);
    cq_stmt_reset(stmt);
    g_assert_cmpuint(n, ==, 3);
    const CqHistoryResult results[] = {
        {rcpt[0], "accepted", 250, "2.0.0 Ok: queued as 4XyZ"},
        {rcpt[1], "rejected", 550,
         "5.1.1 <ok@b.example>: Empf\xc3\xa4nger \"unbekannt\"\tsiehe"},
        {rcpt[2], "uncertain", 0, NULL},
    };
    const CqHistoryResult empty[] = {{rcpt[0], "deferred", 451, ""}};

    g_assert_true(cq_store_begin(store, CQ_TX_WRITE, &error));
    g_assert_true(cq_history_append_results(store, "attempt", 1, "worker-1",
                                            "state=partly-sent", results, 3,
                                            NULL, &error));
    g_assert_true(cq_history_append_results(store, "attempt", 1, "worker-1",
                                            "state=deferred", empty, 1,
                                            NULL, &error));
    g_assert_true(cq_store_commit(store, &error));
    g_assert_no_error(error);

    gint64 entries = 0;
    g_assert_cmpint(first_broken(f, &entries), ==, 0);
    g_assert_cmpint(entries, ==, 3);
    run_sql(f->admin, "UPDATE delivery_result SET code = 251 WHERE code = 250");
    g_assert_cmpint(first_broken(f, NULL), ==, 2);
}

/* Many messages at once, composed in parallel, stored in order: each
 * stored message is its own, attachments included, and the chain holds. */
static void
test_enqueue_many(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    enum { N = 60 };
    g_autofree char *file = g_build_filename(f->dir, "Liste.txt", NULL);
    g_autoptr(GPtrArray) mails =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_message_free);
    gint64 ids[N] = {0};
    CqMimeOptions options = {0};

    g_assert_true(g_file_set_contents(file, "Prüfmittel\n", -1, NULL));
    for (guint i = 0; i < N; i++)
        g_ptr_array_add(mails, bulk_message(i, i % 7 == 3 ? file : NULL));
    g_assert_true(cq_outbox_enqueue_many(f->admin, (CqMessage **)mails->pdata,
                                         N, &options, ids, &error));
    g_assert_no_error(error);
    for (guint i = 0; i < N; i++) {
        CqMessage *m = mails->pdata[i];
        g_autoptr(GByteArray) raw = raw_of(f->admin, ids[i]);
        g_autofree char *mid =
            g_strdup_printf("Message-Id: <%s>", m->message_id);
        g_autofree char *to = g_strdup_printf("To: ok%u@a.example\r\n", i);
        g_assert_cmpint(ids[i], ==, (gint64)i + 1);
        g_assert_nonnull(g_strstr_len((char *)raw->data, raw->len, mid));
        g_assert_nonnull(g_strstr_len((char *)raw->data, raw->len, to));
        g_assert_cmpint(g_strstr_len((char *)raw->data, raw->len,
                                     "filename=Liste.txt") != NULL,
                        ==, i % 7 == 3);
        assert_search_names(f, ids[i], to + strlen("To: "));
    }
    CqVerifyResult verify = {0};
    g_assert_true(cq_history_verify(f->admin, &verify, NULL, NULL, &error));
    g_assert_cmpint(verify.broken, ==, 0);
    g_assert_cmpint(verify.entries, ==, N);
    cq_verify_result_clear(&verify);
}

/* One bad message stores none of them and names its position. */
static void
test_enqueue_many_all_or_nothing(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) mails =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_message_free);
    CqMimeOptions options = {0};

    for (guint i = 0; i < 10; i++)
        g_ptr_array_add(mails, bulk_message(i, NULL));
    g_ptr_array_add(mails, cq_message_new(CQ_ORIGIN_API)); /* no sender */
    g_assert_false(cq_outbox_enqueue_many(f->admin, (CqMessage **)mails->pdata,
                                          mails->len, &options, NULL, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    g_assert_true(g_str_has_prefix(error->message, "message 11 of 11: "));
    CqMailFilter all = {0};
    g_autoptr(GPtrArray) stored = cq_mail_query(f->admin, &all, NULL);
    g_assert_cmpuint(stored->len, ==, 0);
}

/* Several processes append at once (here threads, each with its own
 * connection): the entries follow each other and the chain verifies. */
typedef struct {
    Fixture *f;
    guint n;
} Appender;

static gpointer
append_entries(gpointer data)
{
    Appender *a = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(CqStore) store = cq_store_open(a->f->db, NULL, NULL, &error);
    g_autofree char *actor = g_strdup_printf("appender-%u", a->n);

    g_assert_no_error(error);
    for (guint i = 0; i < 25; i++) {
        g_autofree char *detail = g_strdup_printf("n=%u", i);
        g_assert_true(cq_store_begin(store, CQ_TX_WRITE, &error));
        g_assert_true(
            cq_history_append(store, "note", 0, actor, detail, &error));
        g_assert_true(cq_store_commit(store, &error));
        g_assert_no_error(error);
    }
    return NULL;
}

static void
test_concurrent_appenders(Fixture *f, gconstpointer data)
{
    Appender appenders[4];
    GThread *threads[4];
    CqVerifyResult r;

    for (guint i = 0; i < 4; i++) {
        appenders[i] = (Appender){f, i};
        threads[i] = g_thread_new("appender", append_entries, &appenders[i]);
    }
    for (guint i = 0; i < 4; i++)
        g_thread_join(threads[i]);
    verify(f, &r);
    g_assert_cmpint(r.broken, ==, 0);
    g_assert_cmpint(r.entries, ==, 100);
    cq_verify_result_clear(&r);
}

/* Workers claiming at once never take the same mail. */
typedef struct {
    GMutex lock;
    GHashTable *sent; /* mail id -> times handed to a transport */
} Ledger;

typedef struct {
    CqTransport parent;
    Ledger *ledger;
} CountingTransport;

static gboolean
counting_deliver(CqTransport *t, CqTransportMail **mails, guint n,
                 GError **error)
{
    Ledger *ledger = ((CountingTransport *)t)->ledger;

    g_mutex_lock(&ledger->lock);
    for (guint i = 0; i < n; i++) {
        gpointer key = GINT_TO_POINTER((int)mails[i]->mail_id);
        guint times = GPOINTER_TO_UINT(g_hash_table_lookup(ledger->sent, key));
        g_hash_table_insert(ledger->sent, key, GUINT_TO_POINTER(times + 1));
        cq_transport_mail_set_all(mails[i], CQ_OUTCOME_ACCEPTED, 250,
                                  "250 2.0.0 ok");
    }
    g_mutex_unlock(&ledger->lock);
    return TRUE;
}

static void
counting_free(CqTransport *t)
{
    g_free(t);
}

static const CqTransportClass counting_class = {
    .name = "counting",
    .deliver = counting_deliver,
    .free = counting_free,
};

typedef struct {
    Fixture *f;
    Ledger *ledger;
    guint claimed;
} Worker;

static gpointer
run_worker(gpointer data)
{
    Worker *w = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *login = cq_os_login();
    CountingTransport *t = g_new0(CountingTransport, 1);
    CqDeliverOptions o = cq_deliver_options_default();
    CqDeliverStats st;

    t->parent.klass = &counting_class;
    t->ledger = w->ledger;
    o.batch = 7;
    g_autoptr(CqSession) s = open_as(w->f, login);
    g_assert_true(
        cq_outbox_deliver(s, &t->parent, &o, &st, NULL, NULL, &error));
    g_assert_no_error(error);
    w->claimed = st.claimed;
    cq_transport_free(&t->parent);
    return NULL;
}

static void
test_concurrent_workers(Fixture *f, gconstpointer data)
{
    Ledger ledger = {.sent = g_hash_table_new(NULL, NULL)};
    Worker workers[4];
    GThread *threads[4];
    guint claimed = 0;
    CqVerifyResult r;

    g_mutex_init(&ledger.lock);
    for (guint i = 0; i < 200; i++)
        enqueue(f->admin, "ok@a.example", NULL);
    for (guint i = 0; i < 4; i++) {
        workers[i] = (Worker){f, &ledger, 0};
        threads[i] = g_thread_new("worker", run_worker, &workers[i]);
    }
    for (guint i = 0; i < 4; i++) {
        g_thread_join(threads[i]);
        claimed += workers[i].claimed;
    }
    g_assert_cmpuint(claimed, ==, 200);
    g_assert_cmpuint(g_hash_table_size(ledger.sent), ==, 200);
    GHashTableIter it;
    gpointer times;
    g_hash_table_iter_init(&it, ledger.sent);
    while (g_hash_table_iter_next(&it, NULL, &times))
        g_assert_cmpuint(GPOINTER_TO_UINT(times), ==, 1);
    verify(f, &r);
    g_assert_cmpint(r.broken, ==, 0);
    g_assert_cmpint(r.entries, ==, 400);
    cq_verify_result_clear(&r);
    g_hash_table_unref(ledger.sent);
    g_mutex_clear(&ledger.lock);
}

#define ADD(path, data, func)                                                  \
    g_test_add(path, Fixture, data, fixture_setup, func, fixture_teardown)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cq_mime_init();
    ADD("/outbox/states", NULL, test_states);
    ADD("/outbox/retry-cancel", NULL, test_retry_cancel);
    ADD("/outbox/lease-takeover", NULL, test_lease_takeover);
    ADD("/outbox/permissions", NULL, test_permissions);
    ADD("/outbox/concurrent-workers", NULL, test_concurrent_workers);
    ADD("/history/raw", NULL, test_raw_is_as_sent);
    ADD("/history/concurrent-appenders", NULL, test_concurrent_appenders);
    ADD("/outbox/enqueue-many", NULL, test_enqueue_many);
    ADD("/outbox/chain/every-column", NULL, test_chain_every_column);
    ADD("/history/chain/results-in-one-step", NULL,
        test_chain_results_in_one_step);
    ADD("/outbox/enqueue-many/all-or-nothing", NULL,
        test_enqueue_many_all_or_nothing);
    for (guint i = 0; i < G_N_ELEMENTS(tampers); i++) {
        g_autofree char *path = g_strdup_printf("/history/chain/%u", i);
        ADD(path, &tampers[i], test_chain);
    }
    return g_test_run();
}
