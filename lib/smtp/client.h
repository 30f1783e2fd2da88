/* caqmail's SMTP submission client (RFC 5321, RFC 6409).
 *
 * A CqSmtpClient is one connection to the configured server ([smtp] in the
 * configuration), used for any number of messages one after the other:
 *
 *     CqSmtpClient *client = cq_smtp_client_new(config, &error);
 *     CqSmtpEnvelope *env = cq_smtp_envelope_new("qm@werk.example", &error);
 *     cq_smtp_envelope_add_recipient(env, "jm@lieferant.example", NULL,
 *                                    &error);
 *     CqSmtpResult result;
 *     cq_smtp_result_init(&result);
 *     cq_smtp_client_send(client, env, stream, &result, &error);
 *     ... result.outcome, result.rcpts ...
 *     cq_smtp_result_clear(&result);
 *     cq_smtp_envelope_free(env);
 *     cq_smtp_client_free(client); (sends QUIT)
 *
 * The client connects when first needed (or on cq_smtp_client_open()),
 * negotiates TLS, authenticates, and connects again when the server has
 * closed the connection between two messages.  Commands are pipelined
 * where the server offers PIPELINING, and cq_smtp_client_send_batch() sends
 * the final "." of one message together with the next envelope.
 *
 * The message is read from a GMimeStream in canonical form (CRLF line
 * ends, as cq_mime_write() writes it), from its current position to its
 * end, in blocks: memory use does not grow with the message.  When the
 * stream knows its length (g_mime_stream_length() >= 0), SIZE= is sent and
 * a message larger than the server's limit is refused before MAIL FROM.
 *
 * Threads: a client belongs to one thread at a time; different clients
 * may run in parallel threads (cq_smtp_send_parallel() does that).
 * Secrets (password, tokens) are fetched when authenticating, wiped after
 * use, and masked in the debug transcript (events at CQ_LOG_DEBUG, one per
 * line sent or received, each with `session=N`).
 */
#ifndef CQ_SMTP_CLIENT_H
#define CQ_SMTP_CLIENT_H

#include "common/config.h"
#include "mime/gmime-util.h"
#include "smtp/result.h"

/* ---- The envelope ---------------------------------------------------- */

typedef struct _CqSmtpEnvelope CqSmtpEnvelope;

/* DSN NOTIFY (RFC 3461 4.1); 0 leaves it to the server.  NEVER excludes
 * the others. */
typedef enum {
    CQ_SMTP_NOTIFY_NEVER = 1 << 0,
    CQ_SMTP_NOTIFY_SUCCESS = 1 << 1,
    CQ_SMTP_NOTIFY_FAILURE = 1 << 2,
    CQ_SMTP_NOTIFY_DELAY = 1 << 3,
} CqSmtpNotify;

/* DSN RET (RFC 3461 4.3). */
typedef enum {
    CQ_SMTP_RET_DEFAULT, /* not sent */
    CQ_SMTP_RET_FULL,
    CQ_SMTP_RET_HDRS,
} CqSmtpRet;

/* A new envelope with reverse path @sender (`local@domain`; "" is the
 * null path <>).  Refuses addresses with control characters, spaces
 * outside quotes, angle brackets or over 254 octets (CQ_ERROR_INVALID).
 * Free with cq_smtp_envelope_free(). */
CqSmtpEnvelope *cq_smtp_envelope_new(const char *sender, GError **error);
void cq_smtp_envelope_free(CqSmtpEnvelope *envelope);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqSmtpEnvelope, cq_smtp_envelope_free)

/* Adds a forward path (`local@domain`, checked as above).  @orcpt is the
 * original recipient for DSN ORCPT (an address, sent as rfc822 or utf-8
 * address type), or NULL.  Addresses are copied. */
gboolean cq_smtp_envelope_add_recipient(CqSmtpEnvelope *envelope,
                                        const char *address,
                                        const char *orcpt, GError **error);

/* The message body holds 8bit text (Content-Transfer-Encoding: 8bit):
 * BODY=8BITMIME is sent where offered, and where not, the message is
 * re-encoded 7-bit clean before it is sent (result->downgraded). */
void cq_smtp_envelope_set_8bit(CqSmtpEnvelope *envelope, gboolean is_8bit);

/* The message needs SMTPUTF8 (RFC 6531), for example for UTF-8 in its
 * headers.  Set by itself when an address of the envelope is not ASCII.
 * A server without SMTPUTF8 then gets nothing, and the result is a
 * permanent failure at stage SENDER. */
void cq_smtp_envelope_set_smtputf8(CqSmtpEnvelope *envelope,
                                   gboolean needs_smtputf8);

/* DSN parameters (RFC 3461): NOTIFY flags (0: none), RET, and ENVID
 * (printable ASCII, at most 100 characters; NULL: none).  Sent only when
 * the server offers DSN; never an error when it does not. */
gboolean cq_smtp_envelope_set_dsn(CqSmtpEnvelope *envelope, guint notify,
                                  CqSmtpRet ret, const char *envid,
                                  GError **error);

guint cq_smtp_envelope_n_recipients(const CqSmtpEnvelope *envelope);

/* ---- The server ------------------------------------------------------ */

/* Extensions from the server's EHLO reply (after STARTTLS, if any). */
typedef enum {
    CQ_SMTP_EXT_STARTTLS = 1 << 0,
    CQ_SMTP_EXT_PIPELINING = 1 << 1,
    CQ_SMTP_EXT_SIZE = 1 << 2,
    CQ_SMTP_EXT_8BITMIME = 1 << 3,
    CQ_SMTP_EXT_SMTPUTF8 = 1 << 4,
    CQ_SMTP_EXT_DSN = 1 << 5,
    CQ_SMTP_EXT_ENHANCEDSTATUSCODES = 1 << 6,
    CQ_SMTP_EXT_AUTH = 1 << 7,
    CQ_SMTP_EXT_CHUNKING = 1 << 8,
} CqSmtpExtension;

/* What is known about the server of an open session.  Strings are owned
 * by the client and valid until it closes or reconnects. */
typedef struct {
    char *host;           /* as configured */
    guint port;
    char *greeting;       /* text of the 220 greeting */
    gboolean esmtp;       /* FALSE: the server answered only HELO */
    guint extensions;     /* CqSmtpExtension flags */
    gint64 max_size;      /* SIZE limit, 0: none announced */
    char **ehlo_lines;    /* the EHLO reply's lines after the first */
    char **auth_offered;  /* mechanisms announced, upper case */
    char *auth_used;      /* the mechanism that succeeded, or NULL */
    gboolean tls;         /* the session is encrypted */
    char *tls_version;    /* "TLSv1.3" */
    char *tls_cipher;     /* "TLS_AES_256_GCM_SHA384" */
    char *cert_subject;   /* of the server's certificate */
    char *cert_issuer;
    char *cert_not_after;
    char *cert_sha256;    /* hex, colon-separated */
} CqSmtpServerInfo;

/* ---- The client ------------------------------------------------------ */

typedef struct _CqSmtpClient CqSmtpClient;

/* A client for the server that @config names; checks the settings (host,
 * TLS, timeouts, authentication) and fails with CQ_ERROR_CONFIG when they
 * do not fit.  Does not connect.  @config is borrowed and must outlive
 * the client.  Free with cq_smtp_client_free(). */
CqSmtpClient *cq_smtp_client_new(const CqConfig *config, GError **error);

/* Connects, greets, negotiates TLS and authenticates, if not done yet.
 * On failure returns FALSE, sets @error (CQ_ERROR_TEMPFAIL,
 * CQ_ERROR_PERMFAIL or CQ_ERROR_CONFIG) and, when @failure is not NULL,
 * fills it with outcome DEFERRED or FAILED, the stage and the reply
 * (no recipients).  Sending opens by itself; call this to learn the
 * server's extensions before composing (8BITMIME). */
gboolean cq_smtp_client_open(CqSmtpClient *client, CqSmtpResult *failure,
                             GError **error);

/* The server of the open session, or of the last attempt to open one
 * (as far as it got: a failed AUTH still shows the extensions); NULL
 * before the first attempt. */
const CqSmtpServerInfo *cq_smtp_client_get_info(CqSmtpClient *client);

/* The number that tags this client's events (`session=N`). */
guint cq_smtp_client_get_session_id(CqSmtpClient *client);

/* Sends one message: the envelope, then @message from its current
 * position to its end.  Always fills @result (initialized by the caller
 * with cq_smtp_result_init()), with one entry per recipient.  Returns TRUE
 * when the outcome is SENT or PARTLY; else FALSE with @error set to a
 * summary (CQ_ERROR_TEMPFAIL for DEFERRED and UNCERTAIN, CQ_ERROR_PERMFAIL
 * or CQ_ERROR_TOO_LARGE for FAILED, CQ_ERROR_IO when @message could not be
 * read).  Connects first when needed. */
gboolean cq_smtp_client_send(CqSmtpClient *client,
                             const CqSmtpEnvelope *envelope,
                             GMimeStream *message, CqSmtpResult *result,
                             GError **error);

/* One message of a batch; @envelope and @message are borrowed, @result
 * is initialized and filled by cq_smtp_client_send_batch(). */
typedef struct {
    const CqSmtpEnvelope *envelope;
    GMimeStream *message;
    CqSmtpResult result;
} CqSmtpJob;

/* Sends @n_jobs messages on this connection, in order, each as
 * cq_smtp_client_send() would, but the final "." of one goes out with the
 * next message's envelope.  Returns the number of jobs whose outcome is
 * SENT or PARTLY; every job's result is filled. */
guint cq_smtp_client_send_batch(CqSmtpClient *client, CqSmtpJob *jobs,
                                guint n_jobs);

/* Ends the session politely (QUIT) and closes the connection; the client
 * may be used again and then connects anew. */
void cq_smtp_client_close(CqSmtpClient *client);

/* Closes (as above) and frees; NULL is allowed. */
void cq_smtp_client_free(CqSmtpClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqSmtpClient, cq_smtp_client_free)

/* Sends @n_jobs messages over up to `[smtp] connections` parallel
 * clients, each in its own thread, each taking the next unsent jobs in
 * batches.  Sets *@n_sent to the number of jobs sent or partly sent and
 * fills every job's result.  Returns FALSE with CQ_ERROR_CONFIG, having
 * tried no job, only when the settings do not fit. */
gboolean cq_smtp_send_parallel(const CqConfig *config, CqSmtpJob *jobs,
                               guint n_jobs, guint *n_sent, GError **error);

#endif
