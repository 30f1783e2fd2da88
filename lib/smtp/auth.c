#include "smtp/auth.h"

#include "common/error.h"
#include "common/secret.h"

#include <gsasl.h>
#include <string.h>

#define MASK "****"

typedef struct {
    const char *name;
    CqSmtpCredKind kind;
    gboolean gsasl;
} Mechanism;

/* caqmail's order when none is configured: strongest first.  GSSAPI is
 * tried only when configured: it needs a Kerberos ticket. */
static const Mechanism mechanisms[] = {
    {"OAUTHBEARER", CQ_SMTP_CRED_TOKEN, FALSE},
    {"XOAUTH2", CQ_SMTP_CRED_TOKEN, FALSE},
    {"SCRAM-SHA-256", CQ_SMTP_CRED_PASSWORD, TRUE},
    {"PLAIN", CQ_SMTP_CRED_PASSWORD, FALSE},
    {"LOGIN", CQ_SMTP_CRED_PASSWORD, FALSE},
    {"CRAM-MD5", CQ_SMTP_CRED_PASSWORD, TRUE},
    {"NTLM", CQ_SMTP_CRED_PASSWORD, TRUE},
    {"GSSAPI", CQ_SMTP_CRED_NONE, TRUE},
};

static const Mechanism *
find_mechanism(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(mechanisms); i++) {
        if (g_ascii_strcasecmp(mechanisms[i].name, name) == 0)
            return &mechanisms[i];
    }
    return NULL;
}

int
cq_smtp_auth_kind(const char *mechanism)
{
    const Mechanism *m = find_mechanism(mechanism);
    return m ? (int)m->kind : -1;
}

static gboolean
usable(const Mechanism *m, char **offered, gboolean have_password,
       gboolean have_token)
{
    if (offered == NULL ||
        !g_strv_contains((const char *const *)offered, m->name))
        return FALSE;
    switch (m->kind) {
    case CQ_SMTP_CRED_PASSWORD:
        return have_password;
    case CQ_SMTP_CRED_TOKEN:
        return have_token;
    case CQ_SMTP_CRED_NONE:
        return TRUE;
    }
    return FALSE;
}

const char *
cq_smtp_auth_choose(char **offered, const char *configured,
                    gboolean have_password, gboolean have_token,
                    GError **error)
{
    if (configured != NULL) {
        g_auto(GStrv) wanted = g_strsplit_set(configured, " ,", -1);
        for (guint i = 0; wanted[i]; i++) {
            const Mechanism *m = find_mechanism(wanted[i]);
            if (m != NULL && usable(m, offered, have_password, have_token))
                return m->name;
        }
    } else {
        for (guint i = 0; i < G_N_ELEMENTS(mechanisms) - 1; i++) {
            if (usable(&mechanisms[i], offered, have_password, have_token))
                return mechanisms[i].name;
        }
    }
    g_autofree char *list =
        offered ? g_strjoinv(" ", offered) : g_strdup("none");
    g_set_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE,
                "AUTH: no usable mechanism (server offers: %s; "
                "configured: %s; credentials: %s)",
                *list ? list : "none", configured ? configured : "any",
                have_token ? "token" : have_password ? "password" : "none");
    return NULL;
}

/* ---- the exchange ---------------------------------------------------- */

static void
classify_reply(const CqSmtpReply *reply, const char *mechanism,
               GError **error)
{
    g_autofree char *summary = cq_smtp_reply_summary(reply);
    g_set_error(error, CQ_ERROR,
                cq_smtp_reply_is_permanent(reply) ? CQ_ERROR_PERMFAIL
                                                  : CQ_ERROR_TEMPFAIL,
                "AUTH %s: %s", mechanism, summary);
}

/* Sends @line, traced as @shown, and reads the reply; the line is wiped
 * from the output buffer once written. */
static gboolean
exchange(CqSmtpConn *conn, const char *line, const char *shown,
         CqSmtpReply *reply, int timeout_ms, GError **error)
{
    cq_smtp_conn_queue_secret_line(conn, line, shown);
    return cq_smtp_conn_read_reply(conn, reply, timeout_ms, error);
}

/* The server's challenge, base64-decoded; NULL when it is not base64. */
static char *
challenge(const CqSmtpReply *reply, gsize *len)
{
    const char *text = reply->lines->len ? reply->lines->pdata[0] : "";
    g_autofree char *copy = g_strdup(text);
    guchar *raw = g_base64_decode(g_strstrip(copy), len);
    return (char *)raw;
}

typedef char *(*StepFunc)(gpointer state, const char *challenge, gsize len,
                          guint step);

/* The exchange every mechanism shares: AUTH with an optional initial
 * response, then a response to every 334 until the final reply. */
static gboolean
run_steps(CqSmtpConn *conn, const char *mechanism, char *initial,
          StepFunc step, gpointer state, CqSmtpReply *reply, int timeout_ms,
          GError **error)
{
    g_autofree char *line = NULL;
    gboolean ok;

    line = initial ? g_strdup_printf("AUTH %s %s", mechanism, initial)
                   : g_strdup_printf("AUTH %s", mechanism);
    g_autofree char *shown = g_strdup_printf(
        "AUTH %s%s", mechanism, initial ? " " MASK : "");
    ok = exchange(conn, line, shown, reply, timeout_ms, error);
    cq_secret_free(g_steal_pointer(&line));
    cq_secret_free(initial);
    for (guint n = 1; ok && reply->code == 334 && n < 10; n++) {
        gsize len = 0;
        char *raw = challenge(reply, &len);
        char *answer = step(state, raw ? raw : "", raw ? len : 0, n);
        g_free(raw);
        if (answer == NULL)
            answer = g_strdup("*"); /* cancels the exchange */
        ok = exchange(conn, answer, *answer ? MASK : "", reply, timeout_ms,
                      error);
        cq_secret_free(answer);
    }
    if (ok && reply->code != 235) {
        classify_reply(reply, mechanism, error);
        ok = FALSE;
    }
    return ok;
}

static char *
b64(const char *data, gsize len)
{
    return g_base64_encode((const guchar *)data, len);
}

/* A base64 string of @text, with the plain copy wiped. */
static char *
b64_secret(char *text, gsize len)
{
    char *out = b64(text, len);
    explicit_bzero(text, len);
    g_free(text);
    return out;
}

static char *
plain_initial(const CqSmtpCredentials *c)
{
    gsize ulen = strlen(c->user), plen = strlen(c->secret);
    gsize len = ulen + plen + 2;
    char *raw = g_malloc(len);

    raw[0] = '\0';
    memcpy(raw + 1, c->user, ulen);
    raw[ulen + 1] = '\0';
    memcpy(raw + ulen + 2, c->secret, plen);
    return b64_secret(raw, len);
}

/* A challenge where none belongs: the exchange is cancelled. */
static char *
cancel_step(gpointer state, const char *challenge, gsize len, guint step)
{
    return NULL;
}

static char *
login_step(gpointer state, const char *challenge, gsize len, guint step)
{
    const CqSmtpCredentials *c = state;
    const char *value = step == 1 ? c->user : step == 2 ? c->secret : NULL;
    return value ? b64(value, strlen(value)) : NULL;
}

static char *
xoauth2_initial(const CqSmtpCredentials *c)
{
    char *raw = g_strdup_printf("user=%s\001auth=Bearer %s\001\001", c->user,
                                c->secret);
    return b64_secret(raw, strlen(raw));
}

/* After a failure the server sends an error as a challenge; the client
 * answers with an empty line (XOAUTH2) or %x01 (OAUTHBEARER). */
static char *
xoauth2_step(gpointer state, const char *challenge, gsize len, guint step)
{
    return g_strdup("");
}

static char *
oauthbearer_initial(const CqSmtpCredentials *c)
{
    char *raw = g_strdup_printf(
        "n,a=%s,\001host=%s\001port=%u\001auth=Bearer %s\001\001", c->user,
        c->host, c->port, c->secret);
    return b64_secret(raw, strlen(raw));
}

static char *
oauthbearer_step(gpointer state, const char *challenge, gsize len,
                 guint step)
{
    return b64("\001", 1);
}

/* ---- GNU SASL -------------------------------------------------------- */

typedef struct {
    Gsasl_session *session;
    int rc; /* GSASL_OK until a step of the client fails */
} SaslState;

static char *
sasl_step(gpointer data, const char *challenge, gsize len, guint step)
{
    SaslState *state = data;
    g_autofree char *in = b64(challenge, len);
    char *out = NULL;
    int rc = gsasl_step64(state->session, in, &out);

    if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE) {
        state->rc = rc;
        gsasl_free(out);
        return NULL;
    }
    char *copy = g_strdup(out ? out : "");
    if (out != NULL) {
        explicit_bzero(out, strlen(out));
        gsasl_free(out);
    }
    return copy;
}

/* The client's own side failed: a missing Kerberos ticket, a service
 * the realm does not know, a server proof that does not verify.  The
 * error names GNU SASL's reason rather than the server's answer to the
 * cancelled exchange. */
static void
sasl_failed(const char *mechanism, const CqSmtpCredentials *c, int rc,
            GError **error)
{
    g_autofree char *hint = NULL;

    if (strcmp(mechanism, "GSSAPI") == 0)
        hint = g_strdup_printf("; it needs a Kerberos ticket that gets one "
                               "for the service 'smtp@%s' (see kinit, klist)",
                               c->host);
    g_set_error(error, CQ_ERROR, CQ_ERROR_PERMFAIL,
                "AUTH %s failed on the client side: %s%s", mechanism,
                gsasl_strerror(rc), hint ? hint : "");
}

static Gsasl_session *
gsasl_begin(Gsasl *ctx, const char *mechanism, const CqSmtpCredentials *c,
            GError **error)
{
    Gsasl_session *session = NULL;
    int rc = gsasl_client_start(ctx, mechanism, &session);

    if (rc != GSASL_OK) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE,
                    "AUTH %s: GNU SASL: %s", mechanism, gsasl_strerror(rc));
        return NULL;
    }
    gsasl_property_set(session, GSASL_AUTHID, c->user);
    if (c->secret != NULL)
        gsasl_property_set(session, GSASL_PASSWORD, c->secret);
    gsasl_property_set(session, GSASL_SERVICE, "smtp");
    gsasl_property_set(session, GSASL_HOSTNAME, c->host);
    return session;
}

/* Mechanisms that speak first give their initial response at once; the
 * others (CRAM-MD5) give nothing and wait for a challenge.  When the
 * first step fails, no AUTH is sent; a later failure cancels the
 * exchange, and the server's answer to that is not the reason. */
static gboolean
sasl_exchange(CqSmtpConn *conn, const char *mechanism,
              const CqSmtpCredentials *c, SaslState *state,
              CqSmtpReply *reply, int timeout_ms, GError **error)
{
    char *initial = sasl_step(state, "", 0, 0);

    if (initial == NULL) {
        sasl_failed(mechanism, c, state->rc, error);
        return FALSE;
    }
    if (*initial == '\0')
        g_clear_pointer(&initial, g_free);
    if (run_steps(conn, mechanism, initial, sasl_step, state, reply,
                  timeout_ms, error))
        return TRUE;
    if (state->rc != GSASL_OK && reply->code != 0) {
        g_clear_error(error);
        cq_smtp_reply_clear(reply);
        sasl_failed(mechanism, c, state->rc, error);
    }
    return FALSE;
}

static gboolean
run_gsasl(CqSmtpConn *conn, const char *mechanism,
          const CqSmtpCredentials *c, CqSmtpReply *reply, int timeout_ms,
          GError **error)
{
    Gsasl *ctx = NULL;
    SaslState state = {NULL, GSASL_OK};
    gboolean ok = FALSE;

    if (gsasl_init(&ctx) != GSASL_OK) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE,
                    "AUTH %s: GNU SASL could not start", mechanism);
        return FALSE;
    }
    state.session = gsasl_begin(ctx, mechanism, c, error);
    if (state.session == NULL)
        goto out;
    ok = sasl_exchange(conn, mechanism, c, &state, reply, timeout_ms, error);
out:
    if (state.session != NULL)
        gsasl_finish(state.session);
    gsasl_done(ctx);
    return ok;
}

gboolean
cq_smtp_auth_run(CqSmtpConn *conn, const char *mechanism,
                 const CqSmtpCredentials *c, CqSmtpReply *reply,
                 int timeout_ms, GError **error)
{
    const Mechanism *m = find_mechanism(mechanism);

    cq_smtp_reply_clear(reply);
    if (m == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE,
                    "AUTH %s: not supported by caqmail", mechanism);
        return FALSE;
    }
    if (m->gsasl)
        return run_gsasl(conn, m->name, c, reply, timeout_ms, error);
    if (strcmp(m->name, "PLAIN") == 0)
        return run_steps(conn, m->name, plain_initial(c), cancel_step, NULL,
                         reply, timeout_ms, error);
    if (strcmp(m->name, "LOGIN") == 0)
        return run_steps(conn, m->name, NULL, login_step, (gpointer)c, reply,
                         timeout_ms, error);
    if (strcmp(m->name, "XOAUTH2") == 0)
        return run_steps(conn, m->name, xoauth2_initial(c), xoauth2_step,
                         NULL, reply, timeout_ms, error);
    return run_steps(conn, m->name, oauthbearer_initial(c), oauthbearer_step,
                     NULL, reply, timeout_ms, error);
}
