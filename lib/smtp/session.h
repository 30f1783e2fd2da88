/* The SMTP session inside a CqSmtpClient: an explicit state machine.
 *
 * session.c opens and closes sessions (connect, greeting, EHLO or HELO,
 * STARTTLS, AUTH, QUIT); transaction.c sends messages on an open session.
 * Both change state only through cq_smtp_set_state(), which traces every
 * change as a debug event.
 */
#ifndef CQ_SMTP_SESSION_H
#define CQ_SMTP_SESSION_H

#include "smtp/client.h"
#include "smtp/conn.h"
#include "smtp/envelope.h"

typedef enum {
    SMTP_CLOSED,     /* no connection */
    SMTP_CONNECT,    /* TCP connect, implicit TLS */
    SMTP_GREETING,   /* waiting for 220 */
    SMTP_EHLO,
    SMTP_HELO,       /* the server did not know EHLO */
    SMTP_STARTTLS,
    SMTP_AUTH,
    SMTP_READY,      /* between transactions */
    SMTP_MAIL,       /* MAIL FROM and RCPT TO sent, replies due */
    SMTP_DATA,       /* waiting for 354 */
    SMTP_BODY,       /* message being written */
    SMTP_DOT,        /* final "." sent, reply due */
    SMTP_RSET,
    SMTP_QUIT,
    SMTP_BROKEN,     /* the connection failed; must be closed */
} CqSmtpState;

struct _CqSmtpClient {
    const CqConfig *config;
    guint session;
    CqSmtpState state;
    CqSmtpConn *conn;
    CqTlsContext *tls_context;
    gboolean tls_required;
    gboolean implicit_tls;
    guint port;
    CqSmtpServerInfo info;
    CqSmtpReply reply;  /* the last reply read */
    guint n_messages;   /* sent on this connection */
    guint dsn_notify;   /* from [smtp] dsn_notify */
    CqSmtpRet dsn_ret;  /* from [smtp] dsn_ret */
};

const char *cq_smtp_state_name(CqSmtpState state);
void cq_smtp_set_state(CqSmtpClient *client, CqSmtpState state);

/* Milliseconds for a timeout setting in seconds. */
int cq_smtp_ms(gint64 seconds);

/* Fills @result (no recipients) as a failure at @stage: from the last
 * reply when @from_reply, else from @error with code 0. */
void cq_smtp_fail_result(CqSmtpResult *result, CqSmtpStage stage,
                         const CqSmtpReply *reply, gboolean from_reply,
                         const GError *error);

/* Drops the connection without QUIT (after a failure). */
void cq_smtp_client_drop(CqSmtpClient *client);

typedef enum {
    CQ_TXN_DONE,        /* the job's result is final */
    CQ_TXN_DOT_PENDING, /* "." sent, its reply is read with the next job */
    CQ_TXN_RETRY,       /* a reused connection was gone before anything of
                           the job was accepted: try again on a new one */
} CqTxnStatus;

/* Sends @job on the open session.  @previous, when not NULL, is the job
 * whose "." reply is still due: it is read after @job's envelope went
 * out, and @previous's result completed.  With @more, and PIPELINING,
 * @job's "." is left pending for the next job.  See transaction.c. */
CqTxnStatus cq_smtp_transaction_run(CqSmtpClient *client, CqSmtpJob *job,
                                    CqSmtpJob *previous, gboolean more);

/* Reads the pending "." reply of @job and completes its result. */
void cq_smtp_transaction_finish(CqSmtpClient *client, CqSmtpJob *job);

#endif
