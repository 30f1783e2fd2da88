/* What an SMTP delivery attempt came to, per message and per recipient.
 *
 * Every attempt is classed twice: by outcome (was the message taken, for
 * whom, and may it be tried again) and by stage (what failed: connection,
 * TLS, authentication, sender, recipient, data).  The outbox decides from
 * these enums and the reply codes alone, never from the text, which is kept
 * for people and the history.
 *
 * A reply code of 0 means that no server reply decided the result: the
 * connection failed, TLS failed, the server went silent, or caqmail refused
 * the message itself before sending it (SIZE over the server's limit, an
 * address that needs SMTPUTF8 where the server has none).
 */
#ifndef CQ_SMTP_RESULT_H
#define CQ_SMTP_RESULT_H

#include <glib.h>

typedef enum {
    CQ_SMTP_OUTCOME_SENT,    /* accepted for every recipient */
    CQ_SMTP_OUTCOME_PARTLY,  /* accepted for some; see the recipients */
    CQ_SMTP_OUTCOME_DEFERRED, /* accepted for none; temporary, retry */
    CQ_SMTP_OUTCOME_FAILED,   /* accepted for none; permanent, do not retry */
    /* The final "." was sent but no reply came: the server may have taken
     * the message.  Do not resend it blindly. */
    CQ_SMTP_OUTCOME_UNCERTAIN,
} CqSmtpOutcome;

typedef enum {
    CQ_SMTP_STAGE_NONE,      /* nothing failed */
    CQ_SMTP_STAGE_CONNECT,   /* name lookup, TCP, greeting, EHLO/HELO */
    CQ_SMTP_STAGE_TLS,       /* STARTTLS, handshake, certificate */
    CQ_SMTP_STAGE_AUTH,      /* credentials, token, AUTH exchange */
    CQ_SMTP_STAGE_SENDER,    /* MAIL FROM and the checks before it */
    CQ_SMTP_STAGE_RECIPIENT, /* RCPT TO */
    CQ_SMTP_STAGE_DATA,      /* DATA, the message, the final "." */
} CqSmtpStage;

typedef enum {
    CQ_SMTP_RCPT_ACCEPTED,  /* the server took the message for it */
    CQ_SMTP_RCPT_TEMPORARY, /* not delivered; may be retried */
    CQ_SMTP_RCPT_PERMANENT, /* not delivered; refused for good */
    CQ_SMTP_RCPT_UNCERTAIN, /* "." sent, no reply: may have been taken */
} CqSmtpRcptStatus;

/* The final word on one recipient.  @stage is RECIPIENT when RCPT TO was
 * refused; when RCPT TO was accepted but the message was not, @stage and
 * the reply are those of the step that failed (often DATA); when the
 * session failed before RCPT TO, they are that failure's. */
typedef struct {
    char *address;       /* as given in the envelope */
    CqSmtpRcptStatus status;
    CqSmtpStage stage;   /* NONE when accepted */
    guint code;          /* reply code, 0 when none */
    char *enhanced;      /* "5.1.1" (RFC 3463), or NULL */
    char *text;          /* reply text, lines joined by "\n"; or NULL */
} CqSmtpRcptResult;

/* The result of one message.  @code, @enhanced and @text are those of the
 * reply that decided the outcome: the reply to the final "." when the
 * message was sent (the server's queue id is in its text), else the
 * failing reply, or an explanation with @code 0. */
typedef struct {
    CqSmtpOutcome outcome;
    CqSmtpStage stage; /* NONE when sent */
    guint code;
    char *enhanced;
    char *text;
    /* The message was 8bit and the server lacks 8BITMIME: it was re-encoded
     * as 7-bit clean MIME, so the bytes sent differ from those given. */
    gboolean downgraded;
    gint64 bytes_sent; /* message bytes after dot-stuffing, 0 if none */
    GPtrArray *rcpts;  /* of CqSmtpRcptResult*, in envelope order */
} CqSmtpResult;

/* Prepares an empty result; call cq_smtp_result_clear() to free what it
 * then holds, and before it is filled again. */
void cq_smtp_result_init(CqSmtpResult *result);
void cq_smtp_result_clear(CqSmtpResult *result);

/* TRUE for DEFERRED, and for a PARTLY result whose refused recipients
 * include a temporary one: something may be sent again later. */
gboolean cq_smtp_result_has_temporary(const CqSmtpResult *result);

const char *cq_smtp_outcome_name(CqSmtpOutcome outcome);
const char *cq_smtp_stage_name(CqSmtpStage stage);
const char *cq_smtp_rcpt_status_name(CqSmtpRcptStatus status);

#endif
