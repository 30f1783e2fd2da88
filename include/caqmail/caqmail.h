/* libcaqmail: the mail subsystem of a CAQ system, for host applications.
 *
 *     #include <caqmail/caqmail.h>
 *     pkg-config --cflags --libs caqmail
 *
 * A host application opens a context from a configuration file, builds
 * messages in it, puts them into the outbox (the durable queue that also
 * is the history), reads their state and every recipient's result, lists
 * the history as the acting user may see it, and runs delivery passes.
 *
 * Conventions, true of every function below:
 * - Errors come back as a GError in the domain CAQMAIL_ERROR with a
 *   CaqmailError code and a message that names the subject in quotes.  A
 *   function that fails returns FALSE, NULL or -1 and changes nothing.
 *   @error may be NULL when the caller does not want the details.
 * - The library never prints and never exits; what it does it reports as
 *   one-line events to a handler the host installs (caqmail_set_log_handler).
 * - Strings are UTF-8.  A `const char *` returned by an accessor belongs to
 *   the object it was read from and lives as long as that object; anything
 *   else returned is owned by the caller and freed as the function says.
 * - Objects are not shared between threads; each thread opens its own
 *   context (they may share one database).
 */
#ifndef CAQMAIL_CAQMAIL_H
#define CAQMAIL_CAQMAIL_H

#include <glib.h>

G_BEGIN_DECLS

#if defined(CAQMAIL_COMPILATION)
#define CAQMAIL_API __attribute__((visibility("default")))
#else
#define CAQMAIL_API
#endif

/* ---- Version and errors ----------------------------------------------- */

/* The version of the library in use, "0.1.0"; static. */
CAQMAIL_API const char *caqmail_version(void);

#define CAQMAIL_ERROR (caqmail_error_quark())

/* The codes of CAQMAIL_ERROR; the numbers are part of the ABI. */
typedef enum {
    CAQMAIL_ERROR_FAILED = 0,      /* unexpected internal failure */
    CAQMAIL_ERROR_USAGE = 1,       /* wrong use of the API or a command */
    CAQMAIL_ERROR_INVALID = 2,     /* malformed input: address, header */
    CAQMAIL_ERROR_NOINPUT = 3,     /* an input is missing or unreadable */
    CAQMAIL_ERROR_CONFIG = 4,      /* the configuration is wrong */
    CAQMAIL_ERROR_IO = 5,          /* reading or writing local files */
    CAQMAIL_ERROR_NOT_FOUND = 6,   /* a referenced object does not exist */
    CAQMAIL_ERROR_PERMISSION = 7,  /* the acting user may not do this */
    CAQMAIL_ERROR_UNAVAILABLE = 8, /* a program or service is missing */
    CAQMAIL_ERROR_TEMPFAIL = 9,    /* may pass: try again later */
    CAQMAIL_ERROR_PERMFAIL = 10,   /* refused for good */
    CAQMAIL_ERROR_PROTOCOL = 11,   /* the peer broke the protocol */
    CAQMAIL_ERROR_TOO_LARGE = 12,  /* over a size limit */
} CaqmailError;

/* The quark of the error domain CAQMAIL_ERROR. */
CAQMAIL_API GQuark caqmail_error_quark(void);

/* The sysexits.h code a program should exit with for @error (EX_OK for
 * NULL, EX_SOFTWARE for errors of other domains), as sendmail does:
 * USAGE -> EX_USAGE, INVALID and TOO_LARGE -> EX_DATAERR, NOINPUT and
 * NOT_FOUND -> EX_NOINPUT, TEMPFAIL -> EX_TEMPFAIL, and so on. */
CAQMAIL_API int caqmail_error_exit_code(const GError *error);

/* ---- Events ----------------------------------------------------------- */

typedef enum {
    CAQMAIL_LOG_ERROR,
    CAQMAIL_LOG_WARNING,
    CAQMAIL_LOG_NOTICE,
    CAQMAIL_LOG_INFO,
    CAQMAIL_LOG_DEBUG,
} CaqmailLogLevel;

/* Receives one event as one line of `event=NAME key=value ...`; @line
 * belongs to the library and is valid during the call only.  Secrets
 * never appear in it. */
typedef void (*CaqmailLogFunc)(CaqmailLogLevel level, const char *line,
                               void *user_data);

/* Hands every event up to @max_level to @func (NULL: drop all events, the
 * default).  Process-wide; call it before opening contexts. */
CAQMAIL_API void caqmail_set_log_handler(CaqmailLogLevel max_level,
                                         CaqmailLogFunc func,
                                         void *user_data);

/* ---- Contexts --------------------------------------------------------- */

/* A loaded configuration, the database it names, and the user every call
 * acts as. */
typedef struct _CaqmailContext CaqmailContext;

/* Loads the configuration from @config_path, or when NULL from the first
 * of $CAQMAIL_CONFIG, ~/.config/caqmail/caqmail.conf and
 * /etc/caqmail/caqmail.conf that exists (else the built-in defaults),
 * and acts as the operating-system user.  The database is opened (and
 * created) when first needed.  Free with caqmail_context_free().
 * Errors: CONFIG (unreadable file, unknown key, bad value). */
CAQMAIL_API CaqmailContext *caqmail_context_open(const char *config_path,
                                                 GError **error);

/* A context over the same configuration and open database that acts as
 * @login, for a service that authenticates its users itself: the user of
 * @context must hold the permission administer (as for `caqmail --as`),
 * and the history names that user as the operator.  @login NULL or equal
 * to the current user: the same user, without the permission check.
 * @context must outlive the result; free it with caqmail_context_free().
 * Errors: PERMISSION, NOT_FOUND (no such user), IO (database). */
CAQMAIL_API CaqmailContext *caqmail_context_act_as(CaqmailContext *context,
                                                   const char *login,
                                                   GError **error);

/* Closes the database (unless the context was made by act_as) and frees
 * @context.  NULL is ignored. */
CAQMAIL_API void caqmail_context_free(CaqmailContext *context);

/* The login the context acts as; owned by @context. */
CAQMAIL_API const char *caqmail_context_get_login(CaqmailContext *context);

/* ---- Messages --------------------------------------------------------- */

/* Why a mail was written; stored with it and shown in the history. */
typedef enum {
    CAQMAIL_ORIGIN_MANUAL,
    CAQMAIL_ORIGIN_DOCUMENT,
    CAQMAIL_ORIGIN_REMINDER,
    CAQMAIL_ORIGIN_COLLECTION,
    CAQMAIL_ORIGIN_SENDMAIL,
    CAQMAIL_ORIGIN_API,
} CaqmailOrigin;

typedef enum {
    CAQMAIL_TO,
    CAQMAIL_CC,
    CAQMAIL_BCC,
} CaqmailRecipientKind;

/* A mail being composed in a context. */
typedef struct _CaqmailMessage CaqmailMessage;

/* A new, empty message of origin API, acting as @context's user.
 * @context must outlive the message.  Free with caqmail_message_free(). */
CAQMAIL_API CaqmailMessage *caqmail_message_new(CaqmailContext *context);

/* NULL is ignored. */
CAQMAIL_API void caqmail_message_free(CaqmailMessage *message);

/* The sender, "Name <local@domain>" or "local@domain".  Without one, the
 * mail comes from [message] from, else the acting user's catalog e-mail,
 * else USER@HOST.  Errors: INVALID. */
CAQMAIL_API gboolean caqmail_message_set_from(CaqmailMessage *message,
                                              const char *address,
                                              GError **error);

/* Adds recipients of @kind: one address, several separated by commas, or
 * a catalog reference (a person's identifier or login, "C-12",
 * "department:QM", "list:8d-team"; lists resolve recursively).
 * Addresses are checked at once; references when the message is
 * enqueued, as the acting user.  Errors: INVALID. */
CAQMAIL_API gboolean caqmail_message_add_recipient(
    CaqmailMessage *message, CaqmailRecipientKind kind, const char *recipient,
    GError **error);

/* With TRUE, the acting user gets a blind copy (their catalog e-mail,
 * else the sender). */
CAQMAIL_API void caqmail_message_set_copy_to_sender(CaqmailMessage *message,
                                                    gboolean copy);

/* Errors of the three setters below: INVALID (line breaks in the subject,
 * text that is not UTF-8). */
CAQMAIL_API gboolean caqmail_message_set_subject(CaqmailMessage *message,
                                                 const char *subject,
                                                 GError **error);
CAQMAIL_API gboolean caqmail_message_set_text(CaqmailMessage *message,
                                              const char *text,
                                              GError **error);
/* An HTML alternative to the text body. */
CAQMAIL_API gboolean caqmail_message_set_html(CaqmailMessage *message,
                                              const char *html,
                                              GError **error);

/* Attaches the file @path, streamed when the mail is stored.  @filename
 * (NULL: the base name of @path) is what the recipient sees.  The file
 * is checked now.  Errors: NOINPUT (missing, unreadable, not a regular
 * file), TOO_LARGE ([message] max_attachment_size), INVALID (name). */
CAQMAIL_API gboolean caqmail_message_add_file(CaqmailMessage *message,
                                              const char *path,
                                              const char *filename,
                                              GError **error);

/* Attaches the stored document @document ("DOC-7") as it was added; the
 * history names it.  Documents follow the files.  Checked when the
 * message is enqueued (NOT_FOUND, PERMISSION).  Errors now: INVALID. */
CAQMAIL_API gboolean caqmail_message_add_document(CaqmailMessage *message,
                                                  const char *document,
                                                  GError **error);

/* With TRUE, every attachment that is not a PDF is converted to one with
 * LibreOffice when the message is enqueued; if one cannot be, nothing is
 * queued. */
CAQMAIL_API void caqmail_message_set_convert_to_pdf(CaqmailMessage *message,
                                                    gboolean convert);

/* Adds a header "@name: @value"; headers that caqmail writes itself
 * (From, To, Date, MIME headers...) are refused.  Errors: INVALID. */
CAQMAIL_API gboolean caqmail_message_add_header(CaqmailMessage *message,
                                                const char *name,
                                                const char *value,
                                                GError **error);

/* The quality record ("8D-2026-0042") whose history the mail belongs to;
 * created when it does not exist.  Without one the mail goes into the
 * acting user's journal.  Errors: INVALID. */
CAQMAIL_API gboolean caqmail_message_set_record(CaqmailMessage *message,
                                                const char *record,
                                                GError **error);

/* Why the mail is sent (default CAQMAIL_ORIGIN_API); automatic origins
 * (reminder, collection) mark the mail Auto-Submitted.  A value outside
 * the enum is ignored. */
CAQMAIL_API void caqmail_message_set_origin(CaqmailMessage *message,
                                            CaqmailOrigin origin);

/* Sends as @login instead of the context's user, as
 * caqmail_context_act_as() does (checked when enqueued).  NULL: the
 * context's user.  Errors: INVALID (an empty login). */
CAQMAIL_API gboolean caqmail_message_set_acting_user(CaqmailMessage *message,
                                                     const char *login,
                                                     GError **error);

/* Resolves the recipients, converts attachments when asked, composes the
 * MIME message and stores it with its history entry in the outbox, in
 * one transaction; sets *@mail_id (may be NULL).  The mail is delivered
 * by the next delivery pass.  The message may be enqueued again (another
 * mail) or freed.  Errors: USAGE (no recipient), PERMISSION (no right to
 * send), INVALID (a catalog reference that names nothing, a cyclic
 * list), NOT_FOUND (a document), NOINPUT, TOO_LARGE, UNAVAILABLE
 * (conversion), IO. */
CAQMAIL_API gboolean caqmail_message_enqueue(CaqmailMessage *message,
                                             gint64 *mail_id,
                                             GError **error);

/* ---- Messages as they are (sendmail) ---------------------------------- */

/* A complete RFC 5322 message handed over as bytes, kept as it is except
 * for the headers a submission must add. */
typedef struct _CaqmailRawMessage CaqmailRawMessage;

/* Checks @data (@length bytes, LF or CRLF line ends) and keeps a copy:
 * the header must end in an empty line or the end of the data, each
 * header line must be at most 998 octets and UTF-8, and continuation
 * lines must follow a header.  Date, Message-ID and From are added when
 * missing.  @context must outlive the result; free it with
 * caqmail_raw_message_free().  Errors: NOINPUT (empty), INVALID,
 * TOO_LARGE ([message] max_message_size). */
CAQMAIL_API CaqmailRawMessage *caqmail_raw_message_new(
    CaqmailContext *context, const char *data, gsize length, GError **error);

/* NULL is ignored. */
CAQMAIL_API void caqmail_raw_message_free(CaqmailRawMessage *raw);

/* The envelope sender (sendmail -f) and, for a From header that caqmail
 * adds, the full name (-F); NULL: From of the message, else the default
 * sender.  Errors: INVALID. */
CAQMAIL_API gboolean caqmail_raw_message_set_sender(CaqmailRawMessage *raw,
                                                    const char *address,
                                                    const char *full_name,
                                                    GError **error);

/* Adds envelope recipients (one address or several separated by
 * commas).  Errors: INVALID. */
CAQMAIL_API gboolean caqmail_raw_message_add_recipient(
    CaqmailRawMessage *raw, const char *address, GError **error);

/* Adds the addresses of the To, Cc and Bcc headers as recipients and
 * removes the Bcc headers (sendmail -t).  Errors: INVALID. */
CAQMAIL_API gboolean caqmail_raw_message_extract_recipients(
    CaqmailRawMessage *raw, GError **error);

/* The record the mail belongs to; NULL: [sendmail] record, else the
 * acting user's journal.  Errors: INVALID. */
CAQMAIL_API gboolean caqmail_raw_message_set_record(CaqmailRawMessage *raw,
                                                    const char *record,
                                                    GError **error);

/* Stores the message in the outbox with origin sendmail (or [sendmail]
 * origin); sets *@mail_id (may be NULL).  Errors: USAGE (no recipient),
 * PERMISSION, INVALID, IO. */
CAQMAIL_API gboolean caqmail_raw_message_enqueue(CaqmailRawMessage *raw,
                                                 gint64 *mail_id,
                                                 GError **error);

/* ---- Mails: state, recipients, history -------------------------------- */

/* A stored mail as the acting user may see it: a snapshot, not updated. */
typedef struct _CaqmailMail CaqmailMail;

/* The mail @mail_id with its recipients and attachments.  Free with
 * caqmail_mail_free().  Errors: NOT_FOUND (also for a mail the acting
 * user may not read), IO. */
CAQMAIL_API CaqmailMail *caqmail_mail_get(CaqmailContext *context,
                                          gint64 mail_id, GError **error);

/* NULL is ignored. */
CAQMAIL_API void caqmail_mail_free(CaqmailMail *mail);

/* The mails the acting user may read, newest first: only those of
 * @record when not NULL, only those matching every word of @text when
 * not NULL, at most @limit (0: all).  Returns an array of CaqmailMail
 * without recipients and attachments (their counts are set); free it
 * with g_ptr_array_unref().  Errors: IO. */
CAQMAIL_API GPtrArray *caqmail_history_list(CaqmailContext *context,
                                            const char *record,
                                            const char *text, guint limit,
                                            GError **error);

/* The message exactly as it was stored and sent; free with
 * g_bytes_unref().  Errors: NOT_FOUND, IO. */
CAQMAIL_API GBytes *caqmail_mail_get_raw(CaqmailContext *context,
                                         gint64 mail_id, GError **error);

/* The accessors below read @mail; strings are owned by it and may be
 * NULL only where said. */
/* The mail's number, as caqmail_message_enqueue() returned it. */
CAQMAIL_API gint64 caqmail_mail_get_id(const CaqmailMail *mail);
/* queued, sending, sent, partly-sent, deferred, failed, uncertain,
 * cancelled. */
CAQMAIL_API const char *caqmail_mail_get_state(const CaqmailMail *mail);
/* The Message-ID without angle brackets. */
CAQMAIL_API const char *caqmail_mail_get_message_id(const CaqmailMail *mail);
/* The record, or NULL for the sender's journal. */
CAQMAIL_API const char *caqmail_mail_get_record(const CaqmailMail *mail);
/* The login that sent it, and the administrator who acted for it (or
 * NULL). */
CAQMAIL_API const char *caqmail_mail_get_sender(const CaqmailMail *mail);
CAQMAIL_API const char *caqmail_mail_get_operator(const CaqmailMail *mail);
/* The sender as shown ("Name <local@domain>") and the decoded subject. */
CAQMAIL_API const char *caqmail_mail_get_from(const CaqmailMail *mail);
CAQMAIL_API const char *caqmail_mail_get_subject(const CaqmailMail *mail);
/* "manual", "document", "reminder", "collection", "sendmail", "api". */
CAQMAIL_API const char *caqmail_mail_get_origin(const CaqmailMail *mail);
/* Microseconds since 1970. */
CAQMAIL_API gint64 caqmail_mail_get_created(const CaqmailMail *mail);
/* The size of the stored message in bytes; delivery attempts so far. */
CAQMAIL_API gint64 caqmail_mail_get_size(const CaqmailMail *mail);
CAQMAIL_API gint64 caqmail_mail_get_attempts(const CaqmailMail *mail);
/* The last failure, or NULL. */
CAQMAIL_API const char *caqmail_mail_get_last_error(const CaqmailMail *mail);

/* How many recipients the mail has (after duplicates were removed). */
CAQMAIL_API guint caqmail_mail_get_n_recipients(const CaqmailMail *mail);
/* Recipient @index, which must be below n_recipients, of a mail from
 * caqmail_mail_get() (the mails of a list have no details: asking is a
 * programming error, answered with NULL or 0):
 * "to", "cc" or "bcc"; the address; the catalog entry it came from or
 * NULL; its result: "pending", "accepted", "deferred", "rejected" or
 * "uncertain"; the server's reply code (0 before any answer) and text
 * (or NULL). */
CAQMAIL_API const char *caqmail_mail_get_recipient_kind(
    const CaqmailMail *mail, guint index);
CAQMAIL_API const char *caqmail_mail_get_recipient_address(
    const CaqmailMail *mail, guint index);
CAQMAIL_API const char *caqmail_mail_get_recipient_source(
    const CaqmailMail *mail, guint index);
CAQMAIL_API const char *caqmail_mail_get_recipient_status(
    const CaqmailMail *mail, guint index);
CAQMAIL_API int caqmail_mail_get_recipient_code(const CaqmailMail *mail,
                                                guint index);
CAQMAIL_API const char *caqmail_mail_get_recipient_reply(
    const CaqmailMail *mail, guint index);

/* How many attachments (0 in the mails of caqmail_history_list()). */
CAQMAIL_API guint caqmail_mail_get_n_attachments(const CaqmailMail *mail);
/* Attachment @index (below n_attachments): its file name, its size in
 * bytes and the SHA-256 (hex) of what was sent. */
CAQMAIL_API const char *caqmail_mail_get_attachment_name(
    const CaqmailMail *mail, guint index);
CAQMAIL_API gint64 caqmail_mail_get_attachment_size(const CaqmailMail *mail,
                                                    guint index);
CAQMAIL_API const char *caqmail_mail_get_attachment_sha256(
    const CaqmailMail *mail, guint index);

/* Queues a deferred, failed, partly sent or uncertain mail again for its
 * recipients without a final result.  For the sender and
 * administrators.  Errors: NOT_FOUND, PERMISSION, USAGE (wrong state). */
CAQMAIL_API gboolean caqmail_mail_retry(CaqmailContext *context,
                                        gint64 mail_id, GError **error);
/* Cancels a mail not yet delivered and not being sent.  Errors as for
 * caqmail_mail_retry(). */
CAQMAIL_API gboolean caqmail_mail_cancel(CaqmailContext *context,
                                         gint64 mail_id, GError **error);

/* ---- Delivery --------------------------------------------------------- */

/* What one delivery pass did, in mails. */
typedef struct {
    guint claimed;
    guint sent;
    guint partly_sent;
    guint deferred;
    guint failed;
    guint uncertain;
    guint reserved[4]; /* zero; room for later counts */
} CaqmailDeliverStats;

/* Delivers, over the transport the configuration names ([smtp], or the
 * local Maildir), every mail that is due now, or with @mail_id > 0 just
 * that mail, and returns when nothing is left; fills *@stats (may be
 * NULL).  Refused and deferred recipients are results, not errors.
 * All mails need the permission administer; one's own mail the
 * permission send.  Errors: PERMISSION, CONFIG, IO; a server that cannot
 * be reached defers the mails and is no error. */
CAQMAIL_API gboolean caqmail_deliver(CaqmailContext *context, gint64 mail_id,
                                     CaqmailDeliverStats *stats,
                                     GError **error);

/* ---- Catalog ---------------------------------------------------------- */

/* One entry of the catalog: a person, department, organisation, contact
 * or distribution list. */
typedef struct _CaqmailCatalogEntry CaqmailCatalogEntry;

/* Entries whose name, e-mail, department or identifier contain every
 * word of @text, ignoring case and accents ("mueller" finds "Müller"),
 * for recipient pickers.  Returns an array of CaqmailCatalogEntry; free
 * it with g_ptr_array_unref().  Errors: PERMISSION (unregistered user),
 * IO. */
CAQMAIL_API GPtrArray *caqmail_catalog_search(CaqmailContext *context,
                                              const char *text,
                                              GError **error);

/* "person", "department", "organisation", "contact" or "list". */
CAQMAIL_API const char *caqmail_catalog_entry_get_kind(
    const CaqmailCatalogEntry *entry);
/* The reference to pass to caqmail_message_add_recipient(),
 * "person:P-0007". */
CAQMAIL_API const char *caqmail_catalog_entry_get_reference(
    const CaqmailCatalogEntry *entry);
/* The identifier ("P-0007", a list's name). */
CAQMAIL_API const char *caqmail_catalog_entry_get_ident(
    const CaqmailCatalogEntry *entry);
/* The name (a list's description), or "". */
CAQMAIL_API const char *caqmail_catalog_entry_get_name(
    const CaqmailCatalogEntry *entry);
/* The e-mail address, or "" (lists, organisations, departments without
 * a shared mailbox). */
CAQMAIL_API const char *caqmail_catalog_entry_get_email(
    const CaqmailCatalogEntry *entry);

/* ---- The SMTP server -------------------------------------------------- */

/* What the configured SMTP server offers. */
typedef struct _CaqmailServerInfo CaqmailServerInfo;

/* Connects to the configured server, TLS and authentication as
 * configured, and closes again without sending mail.  Sets *@info
 * whenever the server greeted, even when FALSE is returned (then
 * authentication or TLS failed); free it with
 * caqmail_server_info_free().  Needs no database.  Errors: CONFIG,
 * UNAVAILABLE, TEMPFAIL, PERMFAIL, PROTOCOL. */
CAQMAIL_API gboolean caqmail_smtp_check(CaqmailContext *context,
                                        CaqmailServerInfo **info,
                                        GError **error);

/* NULL is ignored. */
CAQMAIL_API void caqmail_server_info_free(CaqmailServerInfo *info);

/* A property, or NULL when unknown: "host", "port", "greeting", "tls"
 * ("yes"/"no"), "tls-version", "tls-cipher", "cert-subject",
 * "cert-issuer", "cert-not-after", "cert-sha256", "auth-used",
 * "auth-offered" (space-separated), "esmtp" ("yes"/"no"). */
CAQMAIL_API const char *caqmail_server_info_get(const CaqmailServerInfo *info,
                                                const char *key);

/* The lines of the server's EHLO reply after the first; NULL-terminated,
 * owned by @info. */
CAQMAIL_API const char *const *caqmail_server_info_get_extensions(
    const CaqmailServerInfo *info);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CaqmailContext, caqmail_context_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CaqmailMessage, caqmail_message_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CaqmailRawMessage, caqmail_raw_message_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CaqmailMail, caqmail_mail_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CaqmailServerInfo, caqmail_server_info_free)

/* ---- Front ends that sign people in: the web page and HTTP API ------- */

/* A service such as `caqmail serve` opens one context and, for every
 * request, a context acting for the person who signed in: by password,
 * or by a sign-in the service checked itself (a trusted proxy, its own
 * session cookie).  The service's own user must be an administrator,
 * since it acts for others; the history names the person who signed in.
 * Such a context shares the database of @context, must be freed before
 * it, and is used in @context's thread only.
 *
 * The views below answer in JSON text (UTF-8, newly allocated, free with
 * g_free()): the same documents the HTTP API returns, described with
 * each endpoint in doc/http-api.md.  Each enforces the permissions of the
 * acting user: a user without the right gets PERMISSION and no data; a
 * mail the user may not read does not exist for that user (NOT_FOUND). */

/* The context acting for @login when @password is that user's password
 * (set with caqmail_password_set()).  A wrong password, an unknown login
 * and a user without a password all fail with PERMISSION and take about
 * as long. */
CAQMAIL_API CaqmailContext *caqmail_context_sign_in(CaqmailContext *context,
                                                    const char *login,
                                                    const char *password,
                                                    GError **error);

/* The context acting for @login, whom the caller has authenticated
 * itself.  Fails with PERMISSION unless @login is a registered user and
 * @context's user may act for others. */
CAQMAIL_API CaqmailContext *caqmail_context_for_user(CaqmailContext *context,
                                                     const char *login,
                                                     GError **error);

/* Sets the password @login signs in with (Argon2id; the password itself
 * is kept nowhere).  One's own, or anyone's as administrator.  Errors:
 * INVALID (8 to 1024 characters without control characters),
 * PERMISSION, NOT_FOUND. */
CAQMAIL_API gboolean caqmail_password_set(CaqmailContext *context,
                                          const char *login,
                                          const char *password,
                                          GError **error);

/* TRUE when the acting user holds @permission: "send", "read-own",
 * "read-all", "edit-catalog" or "administer". */
CAQMAIL_API gboolean caqmail_context_may(CaqmailContext *context,
                                         const char *permission);

/* {login, name, email, language, permissions}: the acting user. */
CAQMAIL_API char *caqmail_json_user(CaqmailContext *context, GError **error);

/* Recipients for autocompletion: persons, contacts, departments and
 * lists with every word of @text in name, e-mail, department or
 * identifier (case and accents ignored), those whose name or identifier
 * starts with @text first, at most @limit: [{ref, kind, name, email,
 * detail, members}]. */
CAQMAIL_API char *caqmail_json_catalog_search(CaqmailContext *context,
                                              const char *text, guint limit,
                                              GError **error);

/* Records whose identifier or title holds every word of @text (NULL:
 * all), at most @limit: [{ident, kind, title, owner, mails}]. */
CAQMAIL_API char *caqmail_json_records(CaqmailContext *context,
                                       const char *text, guint limit,
                                       GError **error);

/* Stored documents the user may read, by id, title or file name;
 * only those of @record unless NULL: [{id, title, revision, filename,
 * media_type, size, record}]. */
CAQMAIL_API char *caqmail_json_documents(CaqmailContext *context,
                                         const char *text,
                                         const char *record, guint limit,
                                         GError **error);

/* The mails the user may read, newest first: of @record (NULL: any), in
 * one of @states (NULL: any), at most @limit (0: all); each with its
 * recipients' results and its attachments.  Needs read-own or read-all. */
CAQMAIL_API char *caqmail_json_mails(CaqmailContext *context,
                                     const char *record,
                                     const char *const *states, guint limit,
                                     GError **error);

/* One mail as in caqmail_json_mails(), with its text part ("text", as
 * plain text; an HTML part is never returned) and its history entries. */
CAQMAIL_API char *caqmail_json_mail(CaqmailContext *context, gint64 mail_id,
                                    GError **error);

/* Attachment @index (from 0) of a mail, decoded from the stored message;
 * *@filename and *@content_type are newly allocated.  Free the bytes
 * with g_bytes_unref(). */
CAQMAIL_API GBytes *caqmail_mail_get_attachment(CaqmailContext *context,
                                                gint64 mail_id, guint index,
                                                char **filename,
                                                char **content_type,
                                                GError **error);

/* Checks the hash chain of the whole history: {ok, entries, broken,
 * problem, head}.  Needs read-all. */
CAQMAIL_API char *caqmail_json_history_verify(CaqmailContext *context,
                                              GError **error);

/* Called as a send advances: "converting" (@done of @total files),
 * "queued" and "sending" (with the mail's number). */
typedef void (*CaqmailSendProgress)(const char *state, guint done,
                                    guint total, gint64 mail_id,
                                    void *user_data);

/* Sends the mail that @request (a JSON object) describes, as the web
 * page composes it: "to", "cc", "bcc" (lists of addresses or catalog
 * references), "copy_to_me", "subject", "text", "record", and
 * "attachments": [{"path", "filename", "pdf"} or {"document", "pdf"}],
 * each converted to PDF first when "pdf" is true.  With @check_only,
 * only checks the request and composes the mail (recipients resolved,
 * files and documents found), converting and storing nothing; otherwise
 * converts, stores it in the outbox and delivers it at once, and sets
 * *@mail_id and *@state (the mail's state afterwards, newly allocated).
 * Errors: INVALID (the request; an unknown catalog reference is named),
 * PERMISSION, TOO_LARGE, UNAVAILABLE, and those of delivery. */
CAQMAIL_API gboolean caqmail_send_json(CaqmailContext *context,
                                       const char *request,
                                       gboolean check_only,
                                       CaqmailSendProgress progress,
                                       void *user_data, gint64 *mail_id,
                                       char **state, GError **error);

G_END_DECLS

#endif
