/* The schema, written once for every backend (see store.h for the
 * dialect words).  A released migration is never changed: a new version
 * appends a new one.
 *
 * The tables fall into these groups:
 *   catalog   department, person, organisation, contact, dlist and
 *             dlist_member: the master data recipients come from;
 *   access    app_user, role, user_role: who may do what;
 *   mail      record, mail, mail_rcpt, mail_attachment, mail_chunk (the
 *             raw message in fixed-size pieces), outbox (the working
 *             state of delivery), history with history_head (the hash
 *             chain) and delivery_result (per recipient and attempt);
 *   documents document (title, revision, file name, kind, record),
 *             document_content and document_chunk (each distinct content
 *             once, in fixed-size pieces), document_counter (DOC-n)
 *             (version 2);
 *   workflow  measure, gauge and item_history, their own histories
 *             (version 3);
 *   sign-in   user_password: the Argon2id hash of a user's password for
 *             the web page (version 4).
 * Everything in history and the rows it covers is only ever appended.
 */
#include "store/backend.h"

static const char *const v1[] = {
    "CREATE TABLE department ("
    " id {serial},"
    " ident TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL,"
    " email TEXT,"
    " search TEXT NOT NULL DEFAULT '')",

    "CREATE TABLE person ("
    " id {serial},"
    " ident TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL,"
    " email TEXT NOT NULL,"
    " department_id {int} REFERENCES department(id),"
    " supervisor_id {int} REFERENCES person(id),"
    " language TEXT,"
    " login TEXT UNIQUE,"
    " search TEXT NOT NULL DEFAULT '')",

    "ALTER TABLE department ADD COLUMN head_id {int} REFERENCES person(id)",

    "CREATE TABLE organisation ("
    " id {serial},"
    " ident TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('supplier', 'customer')),"
    " search TEXT NOT NULL DEFAULT '')",

    "CREATE TABLE contact ("
    " id {serial},"
    " ident TEXT NOT NULL UNIQUE,"
    " organisation_id {int} NOT NULL REFERENCES organisation(id),"
    " name TEXT NOT NULL,"
    " email TEXT NOT NULL,"
    " role TEXT,"
    " search TEXT NOT NULL DEFAULT '')",

    "CREATE TABLE dlist ("
    " id {serial},"
    " ident TEXT NOT NULL UNIQUE,"
    " description TEXT,"
    " search TEXT NOT NULL DEFAULT '')",

    /* Exactly one of the target columns is set. */
    "CREATE TABLE dlist_member ("
    " id {serial},"
    " list_id {int} NOT NULL REFERENCES dlist(id) ON DELETE CASCADE,"
    " position {int} NOT NULL,"
    " person_id {int} REFERENCES person(id),"
    " contact_id {int} REFERENCES contact(id),"
    " department_id {int} REFERENCES department(id),"
    " member_list_id {int} REFERENCES dlist(id),"
    " address TEXT)",
    "CREATE INDEX dlist_member_list ON dlist_member(list_id, position)",

    "CREATE TABLE app_user ("
    " id {serial},"
    " login TEXT NOT NULL UNIQUE,"
    " created {int} NOT NULL)",

    "CREATE TABLE role ("
    " id {serial},"
    " name TEXT NOT NULL UNIQUE,"
    " permissions {int} NOT NULL,"
    " description TEXT NOT NULL)",

    "CREATE TABLE user_role ("
    " user_id {int} NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,"
    " role_id {int} NOT NULL REFERENCES role(id),"
    " PRIMARY KEY (user_id, role_id))",

    /* Permission bits: 1 send, 2 read own history, 4 read all history,
     * 8 edit the catalog, 16 administer. */
    "INSERT INTO role (name, permissions, description) VALUES"
    " ('sender', 3, 'send mail, read own history'),"
    " ('auditor', 7, 'send mail, read all history'),"
    " ('catalog-editor', 11, 'send mail, read own history, edit the "
    "catalog'),"
    " ('administrator', 31, 'everything, and act for other users')",

    "CREATE TABLE record ("
    " id {serial},"
    " ident TEXT NOT NULL UNIQUE,"
    " kind TEXT NOT NULL,"
    " title TEXT NOT NULL,"
    " owner TEXT NOT NULL,"
    " created {int} NOT NULL)",

    "CREATE TABLE mail ("
    " id {serial},"
    " message_id TEXT NOT NULL,"
    " record_id {int} REFERENCES record(id),"
    " sender TEXT NOT NULL,"
    " operator TEXT,"
    " envelope_from TEXT NOT NULL,"
    " from_display TEXT NOT NULL,"
    " subject TEXT NOT NULL,"
    " origin TEXT NOT NULL,"
    " smtputf8 {int} NOT NULL,"
    " body_8bit {int} NOT NULL,"
    " raw_size {int} NOT NULL,"
    " raw_sha256 TEXT NOT NULL,"
    " created {int} NOT NULL,"
    " search TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX mail_sender ON mail(sender)",
    "CREATE INDEX mail_record ON mail(record_id)",

    "CREATE TABLE mail_rcpt ("
    " id {serial},"
    " mail_id {int} NOT NULL REFERENCES mail(id),"
    " position {int} NOT NULL,"
    " kind TEXT NOT NULL,"
    " address TEXT NOT NULL,"
    " display TEXT NOT NULL,"
    " source TEXT)",
    "CREATE INDEX mail_rcpt_mail ON mail_rcpt(mail_id, position)",

    "CREATE TABLE mail_attachment ("
    " id {serial},"
    " mail_id {int} NOT NULL REFERENCES mail(id),"
    " position {int} NOT NULL,"
    " filename TEXT NOT NULL,"
    " content_type TEXT NOT NULL,"
    " size {int} NOT NULL,"
    " sha256 TEXT NOT NULL,"
    " source TEXT)",
    "CREATE INDEX mail_attachment_mail ON mail_attachment(mail_id)",

    "CREATE TABLE mail_chunk ("
    " mail_id {int} NOT NULL REFERENCES mail(id),"
    " seq {int} NOT NULL,"
    " data {blob} NOT NULL,"
    " PRIMARY KEY (mail_id, seq))",

    "CREATE TABLE outbox ("
    " mail_id {int} PRIMARY KEY REFERENCES mail(id),"
    " state TEXT NOT NULL,"
    " attempts {int} NOT NULL DEFAULT 0,"
    " queued {int} NOT NULL,"
    " next_attempt {int} NOT NULL,"
    " lease_owner TEXT,"
    " lease_until {int},"
    " last_error TEXT,"
    " updated {int} NOT NULL)",
    "CREATE INDEX outbox_due ON outbox(state, next_attempt)",

    "CREATE TABLE history ("
    " seq {int} PRIMARY KEY,"
    " kind TEXT NOT NULL,"
    " mail_id {int} REFERENCES mail(id),"
    " actor TEXT NOT NULL,"
    " at {int} NOT NULL,"
    " detail TEXT NOT NULL,"
    " prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL)",
    "CREATE INDEX history_mail ON history(mail_id)",

    "CREATE TABLE history_head ("
    " id {int} PRIMARY KEY CHECK (id = 1),"
    " seq {int} NOT NULL,"
    " hash TEXT NOT NULL)",
    "INSERT INTO history_head (id, seq, hash) VALUES (1, 0, "
    "'0000000000000000000000000000000000000000000000000000000000000000')",

    "CREATE TABLE delivery_result ("
    " id {serial},"
    " history_seq {int} NOT NULL REFERENCES history(seq),"
    " rcpt_id {int} NOT NULL REFERENCES mail_rcpt(id),"
    " status TEXT NOT NULL,"
    " code {int} NOT NULL,"
    " reply TEXT NOT NULL)",
    "CREATE INDEX delivery_result_rcpt ON delivery_result(rcpt_id)",
    "CREATE INDEX delivery_result_entry ON delivery_result(history_seq)",
    NULL,
};

/* The document store, and the source of an attachment that was
 * converted or taken from the store. */
static const char *const v2[] = {
    "CREATE TABLE document_content ("
    " id {serial},"
    " sha256 TEXT NOT NULL UNIQUE,"
    " size {int} NOT NULL,"
    " created {int} NOT NULL)",

    "CREATE TABLE document_chunk ("
    " content_id {int} NOT NULL REFERENCES document_content(id),"
    " seq {int} NOT NULL,"
    " data {blob} NOT NULL,"
    " PRIMARY KEY (content_id, seq))",

    /* The last number given out: DOC-n are counted without gaps. */
    "CREATE TABLE document_counter ("
    " id {int} PRIMARY KEY CHECK (id = 1),"
    " last_number {int} NOT NULL)",
    "INSERT INTO document_counter (id, last_number) VALUES (1, 0)",

    "CREATE TABLE document ("
    " id {int} PRIMARY KEY,"
    " title TEXT NOT NULL,"
    " revision TEXT,"
    " filename TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " media_type TEXT NOT NULL,"
    " size {int} NOT NULL,"
    " sha256 TEXT NOT NULL REFERENCES document_content(sha256),"
    " record_id {int} REFERENCES record(id),"
    " created {int} NOT NULL,"
    " created_by TEXT NOT NULL,"
    " operator TEXT)",
    "CREATE INDEX document_creator ON document(created_by)",
    "CREATE INDEX document_record ON document(record_id)",

    "ALTER TABLE mail_attachment ADD COLUMN source_sha256 TEXT",
    "CREATE INDEX mail_attachment_source ON mail_attachment(source)",
    NULL,
};

/* Measures and gauges: what reminders and collection lists are about.
 *
 * A measure belongs to a record and has a responsible person and a due
 * date (YYYY-MM-DD, which sorts as text); `level` is the reminder level it
 * stands at (0: none yet), changed only together with the mail that
 * reminds of it and on the condition that it still holds the value read,
 * so that two reminder runs at once cannot both send.  A gauge has a
 * holder, its next calibration date and the day it was last put on a
 * collection list.  item_history is the history of each measure and
 * gauge: its changes, and each mail about it with the entry of the mail
 * history that records it. */
static const char *const v3[] = {
    "CREATE TABLE measure ("
    " id {serial},"
    " ident TEXT NOT NULL UNIQUE,"
    " record_id {int} NOT NULL REFERENCES record(id),"
    " title TEXT NOT NULL,"
    " responsible_id {int} NOT NULL REFERENCES person(id),"
    " due TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),"
    " level {int} NOT NULL DEFAULT 0,"
    " link TEXT,"
    " owner TEXT NOT NULL,"
    " created {int} NOT NULL,"
    " updated {int} NOT NULL)",
    "CREATE INDEX measure_due ON measure(status, due)",
    "CREATE INDEX measure_level ON measure(status, level)",
    "CREATE INDEX measure_responsible ON measure(responsible_id)",
    "CREATE INDEX measure_record ON measure(record_id)",

    "CREATE TABLE gauge ("
    " id {serial},"
    " inventory TEXT NOT NULL UNIQUE,"
    " description TEXT NOT NULL,"
    " holder_id {int} NOT NULL REFERENCES person(id),"
    " location TEXT NOT NULL DEFAULT '',"
    " interval_months {int} NOT NULL,"
    " due TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('in-use',"
    " 'collection-requested', 'in-calibration', 'blocked')),"
    " last_listed TEXT,"
    " created {int} NOT NULL,"
    " updated {int} NOT NULL)",
    "CREATE INDEX gauge_due ON gauge(status, due)",
    "CREATE INDEX gauge_holder ON gauge(holder_id)",

    /* Exactly one of measure_id and gauge_id is set. */
    "CREATE TABLE item_history ("
    " id {serial},"
    " measure_id {int} REFERENCES measure(id),"
    " gauge_id {int} REFERENCES gauge(id),"
    " at {int} NOT NULL,"
    " actor TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " level {int} NOT NULL DEFAULT 0,"
    " mail_id {int} REFERENCES mail(id),"
    " history_seq {int} REFERENCES history(seq),"
    " detail TEXT NOT NULL,"
    " CHECK ((measure_id IS NULL) <> (gauge_id IS NULL)))",
    "CREATE INDEX item_history_measure ON item_history(measure_id, id)",
    "CREATE INDEX item_history_gauge ON item_history(gauge_id, id)",
    "CREATE INDEX item_history_mail ON item_history(mail_id)",
    NULL,
};

/* Passwords for signing in to the web page, as libsodium's Argon2id
 * string (algorithm, parameters, salt and hash in one). */
static const char *const v4[] = {
    "CREATE TABLE user_password ("
    " user_id {int} PRIMARY KEY REFERENCES app_user(id) ON DELETE CASCADE,"
    " hash TEXT NOT NULL,"
    " updated {int} NOT NULL)",
    NULL,
};

static const CqMigration migrations[] = {
    {1, v1},
    {2, v2},
    {3, v3},
    {4, v4},
};

const CqMigration *
cq_schema_migrations(guint *count)
{
    *count = G_N_ELEMENTS(migrations);
    return migrations;
}
