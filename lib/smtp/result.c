#include "smtp/result.h"

static void
rcpt_result_free(gpointer data)
{
    CqSmtpRcptResult *rcpt = data;

    g_free(rcpt->address);
    g_free(rcpt->enhanced);
    g_free(rcpt->text);
    g_free(rcpt);
}

void
cq_smtp_result_init(CqSmtpResult *result)
{
    *result = (CqSmtpResult){0};
    result->rcpts = g_ptr_array_new_with_free_func(rcpt_result_free);
}

void
cq_smtp_result_clear(CqSmtpResult *result)
{
    g_clear_pointer(&result->enhanced, g_free);
    g_clear_pointer(&result->text, g_free);
    g_clear_pointer(&result->rcpts, g_ptr_array_unref);
}

gboolean
cq_smtp_result_has_temporary(const CqSmtpResult *result)
{
    if (result->outcome == CQ_SMTP_OUTCOME_DEFERRED)
        return TRUE;
    if (result->outcome != CQ_SMTP_OUTCOME_PARTLY)
        return FALSE;
    for (guint i = 0; i < result->rcpts->len; i++) {
        const CqSmtpRcptResult *rcpt = result->rcpts->pdata[i];
        if (rcpt->status == CQ_SMTP_RCPT_TEMPORARY)
            return TRUE;
    }
    return FALSE;
}

const char *
cq_smtp_outcome_name(CqSmtpOutcome outcome)
{
    static const char *const names[] = {
        [CQ_SMTP_OUTCOME_SENT] = "sent",
        [CQ_SMTP_OUTCOME_PARTLY] = "partly-sent",
        [CQ_SMTP_OUTCOME_DEFERRED] = "deferred",
        [CQ_SMTP_OUTCOME_FAILED] = "failed",
        [CQ_SMTP_OUTCOME_UNCERTAIN] = "uncertain",
    };
    return (guint)outcome < G_N_ELEMENTS(names) ? names[outcome] : "unknown";
}

const char *
cq_smtp_stage_name(CqSmtpStage stage)
{
    static const char *const names[] = {
        [CQ_SMTP_STAGE_NONE] = "none",
        [CQ_SMTP_STAGE_CONNECT] = "connect",
        [CQ_SMTP_STAGE_TLS] = "tls",
        [CQ_SMTP_STAGE_AUTH] = "auth",
        [CQ_SMTP_STAGE_SENDER] = "sender",
        [CQ_SMTP_STAGE_RECIPIENT] = "recipient",
        [CQ_SMTP_STAGE_DATA] = "data",
    };
    return (guint)stage < G_N_ELEMENTS(names) ? names[stage] : "unknown";
}

const char *
cq_smtp_rcpt_status_name(CqSmtpRcptStatus status)
{
    static const char *const names[] = {
        [CQ_SMTP_RCPT_ACCEPTED] = "accepted",
        [CQ_SMTP_RCPT_TEMPORARY] = "temporary",
        [CQ_SMTP_RCPT_PERMANENT] = "permanent",
        [CQ_SMTP_RCPT_UNCERTAIN] = "uncertain",
    };
    return (guint)status < G_N_ELEMENTS(names) ? names[status] : "unknown";
}
