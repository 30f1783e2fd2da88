#include "smtp/envelope.h"

#include "common/error.h"
#include "common/text.h"

#include <string.h>

#define MAX_PATH 254 /* RFC 5321 4.5.3.1.3 less the brackets */
#define MAX_ENVID 100

static void
env_rcpt_free(gpointer data)
{
    CqSmtpEnvRcpt *rcpt = data;
    g_free(rcpt->address);
    g_free(rcpt->orcpt);
    g_free(rcpt);
}

/* A path goes between angle brackets on a command line: no controls, no
 * brackets, no spaces outside a quoted local part, valid UTF-8. */
static gboolean
check_path(const char *what, const char *address, gboolean allow_empty,
           GError **error)
{
    const char *why = NULL;
    gboolean quoted = FALSE;

    if (!g_utf8_validate(address, -1, NULL))
        why = "invalid UTF-8";
    else if (*address == '\0' && !allow_empty)
        why = "empty";
    else if (strlen(address) > MAX_PATH)
        why = "longer than 254 bytes";
    for (const char *p = address; why == NULL && *p; p++) {
        guchar c = (guchar)*p;
        if (c == '"')
            quoted = !quoted;
        if (c < 0x20 || c == 0x7f)
            why = "control character";
        else if (c == '<' || c == '>' || (c == ' ' && !quoted))
            why = "space or angle bracket";
    }
    if (why == NULL && *address != '\0' && strchr(address, '@') == NULL)
        why = "no '@'";
    if (why == NULL)
        return TRUE;
    g_autofree char *shown = cq_text_printable(address);
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID, "%s '%s': %s", what,
                shown, why);
    return FALSE;
}

CqSmtpEnvelope *
cq_smtp_envelope_new(const char *sender, GError **error)
{
    if (!check_path("sender", sender, TRUE, error))
        return NULL;
    CqSmtpEnvelope *env = g_new0(CqSmtpEnvelope, 1);
    env->sender = g_strdup(sender);
    env->rcpts = g_ptr_array_new_with_free_func(env_rcpt_free);
    env->smtputf8 = cq_text_is_8bit(sender);
    return env;
}

void
cq_smtp_envelope_free(CqSmtpEnvelope *env)
{
    if (env == NULL)
        return;
    g_free(env->sender);
    g_ptr_array_unref(env->rcpts);
    g_free(env->envid);
    g_free(env);
}

gboolean
cq_smtp_envelope_add_recipient(CqSmtpEnvelope *env, const char *address,
                               const char *orcpt, GError **error)
{
    if (!check_path("recipient", address, FALSE, error) ||
        (orcpt != NULL && !check_path("original recipient", orcpt, FALSE,
                                      error)))
        return FALSE;
    CqSmtpEnvRcpt *rcpt = g_new0(CqSmtpEnvRcpt, 1);
    rcpt->address = g_strdup(address);
    rcpt->orcpt = g_strdup(orcpt);
    g_ptr_array_add(env->rcpts, rcpt);
    env->smtputf8 |= cq_text_is_8bit(address);
    return TRUE;
}

void
cq_smtp_envelope_set_8bit(CqSmtpEnvelope *env, gboolean is_8bit)
{
    env->is_8bit = is_8bit;
}

void
cq_smtp_envelope_set_smtputf8(CqSmtpEnvelope *env, gboolean needs)
{
    env->smtputf8 = needs;
    for (guint i = 0; i < env->rcpts->len; i++) {
        const CqSmtpEnvRcpt *rcpt = env->rcpts->pdata[i];
        env->smtputf8 |= cq_text_is_8bit(rcpt->address);
    }
    env->smtputf8 |= cq_text_is_8bit(env->sender);
}

static gboolean
envid_ok(const char *envid)
{
    if (strlen(envid) > MAX_ENVID || *envid == '\0')
        return FALSE;
    for (const char *p = envid; *p; p++) {
        if (*p < 0x21 || *p > 0x7e)
            return FALSE;
    }
    return TRUE;
}

gboolean
cq_smtp_envelope_set_dsn(CqSmtpEnvelope *env, guint notify, CqSmtpRet ret,
                         const char *envid, GError **error)
{
    if ((notify & CQ_SMTP_NOTIFY_NEVER) && notify != CQ_SMTP_NOTIFY_NEVER) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "DSN NOTIFY: NEVER excludes SUCCESS, FAILURE and DELAY");
        return FALSE;
    }
    if (envid != NULL && !envid_ok(envid)) {
        g_autofree char *shown = cq_text_printable(envid);
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "DSN ENVID '%s': expected 1 to 100 printable ASCII "
                    "characters", shown);
        return FALSE;
    }
    env->notify = notify;
    env->ret = ret;
    g_free(env->envid);
    env->envid = g_strdup(envid);
    return TRUE;
}

guint
cq_smtp_envelope_n_recipients(const CqSmtpEnvelope *env)
{
    return env->rcpts->len;
}

char *
cq_smtp_notify_text(guint flags)
{
    static const char *const names[] = {"NEVER", "SUCCESS", "FAILURE",
                                        "DELAY"};
    GString *text = g_string_new(NULL);

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (flags & (1u << i))
            g_string_append_printf(text, "%s%s", text->len ? "," : "",
                                   names[i]);
    }
    return g_string_free(text, FALSE);
}

gboolean
cq_smtp_notify_parse(const char *text, guint *flags, GError **error)
{
    static const char *const names[] = {"never", "success", "failure",
                                        "delay"};
    g_auto(GStrv) words = g_strsplit(text, ",", -1);

    *flags = 0;
    for (guint i = 0; words[i]; i++) {
        const char *word = g_strstrip(words[i]);
        guint bit = 0;
        while (bit < G_N_ELEMENTS(names) &&
               g_ascii_strcasecmp(word, names[bit]) != 0)
            bit++;
        if (bit == G_N_ELEMENTS(names)) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                        "dsn_notify '%s': expected never, or a list of "
                        "success, failure and delay", text);
            return FALSE;
        }
        *flags |= 1u << bit;
    }
    if ((*flags & CQ_SMTP_NOTIFY_NEVER) && *flags != CQ_SMTP_NOTIFY_NEVER) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                    "dsn_notify '%s': never excludes the others", text);
        return FALSE;
    }
    return TRUE;
}

char *
cq_smtp_xtext(const char *text)
{
    GString *out = g_string_new(NULL);

    for (const guchar *p = (const guchar *)text; *p; p++) {
        if (*p < 0x21 || *p > 0x7e || *p == '+' || *p == '=')
            g_string_append_printf(out, "+%02X", *p);
        else
            g_string_append_c(out, (char)*p);
    }
    return g_string_free(out, FALSE);
}
