#include "smtp/conn.h"

#include "common/error.h"
#include "common/event.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK 65536
#define FLUSH_AT (256 * 1024) /* queued bytes that force a write */

struct _CqSmtpConn {
    int fd;
    guint session;
    CqTls *tls;
    GString *out;
    char *in;      /* READ_CHUNK + CQ_SMTP_REPLY_MAX_LINE bytes */
    gsize in_start, in_end;
    gboolean broken;
    gboolean holds_secret; /* wipe the output buffer after writing */
    int write_timeout_ms; /* for writes forced by a full buffer */
};

static void
trace(const CqSmtpConn *conn, const char *name, const char *line)
{
    CqEvent *ev = cq_event_begin(CQ_LOG_DEBUG, name);
    cq_event_addf(ev, "session", "%u", conn->session);
    cq_event_add(ev, "line", line);
    cq_event_end(ev);
}

static int
connect_one(const struct addrinfo *ai, gint64 deadline, int *err)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
                                       SOCK_CLOEXEC, ai->ai_protocol);
    int one = 1;
    socklen_t len = sizeof *err;

    if (fd < 0) {
        *err = errno;
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            *err = errno;
            goto fail;
        }
        if (!cq_tls_wait_fd(fd, POLLOUT, deadline)) {
            *err = ETIMEDOUT;
            goto fail;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len) != 0 ||
            *err != 0)
            goto fail;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
fail:
    close(fd);
    return -1;
}

static int
connect_any(const char *host, guint port, int timeout_ms, GError **error)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *list = NULL;
    char service[8];
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    int fd = -1, err = 0;

    g_snprintf(service, sizeof service, "%u", port);
    int rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL,
                    "server '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next)
        fd = connect_one(ai, deadline, &err);
    freeaddrinfo(list);
    if (fd < 0)
        g_set_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL,
                    "server '%s' port %u: %s", host, port,
                    g_strerror(err));
    return fd;
}

CqSmtpConn *
cq_smtp_conn_connect(const char *host, guint port, guint session,
                     int timeout_ms, GError **error)
{
    int fd = connect_any(host, port, timeout_ms, error);
    if (fd < 0)
        return NULL;

    CqSmtpConn *conn = g_new0(CqSmtpConn, 1);
    conn->fd = fd;
    conn->session = session;
    conn->out = g_string_sized_new(FLUSH_AT + 4096);
    conn->in = g_malloc(READ_CHUNK + CQ_SMTP_REPLY_MAX_LINE);
    conn->write_timeout_ms = timeout_ms;
    return conn;
}

void
cq_smtp_conn_free(CqSmtpConn *conn)
{
    if (conn == NULL)
        return;
    cq_tls_free(conn->tls);
    close(conn->fd);
    if (conn->holds_secret)
        explicit_bzero(conn->out->str, conn->out->len);
    g_string_free(conn->out, TRUE);
    g_free(conn->in);
    g_free(conn);
}

gboolean
cq_smtp_conn_start_tls(CqSmtpConn *conn, CqTlsContext *context,
                       const char *host, int timeout_ms, GError **error)
{
    conn->in_start = conn->in_end = 0;
    conn->tls = cq_tls_connect(context, conn->fd, host, timeout_ms, error);
    if (conn->tls == NULL)
        conn->broken = TRUE;
    return conn->tls != NULL;
}

void
cq_smtp_conn_set_write_timeout(CqSmtpConn *conn, int timeout_ms)
{
    conn->write_timeout_ms = timeout_ms;
}

CqTls *
cq_smtp_conn_get_tls(CqSmtpConn *conn)
{
    return conn->tls;
}

gboolean
cq_smtp_conn_is_broken(CqSmtpConn *conn)
{
    return conn->broken;
}

static gboolean
write_plain(CqSmtpConn *conn, const char *p, gsize len, int timeout_ms,
            GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (len > 0) {
        ssize_t n = send(conn->fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (gsize)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            if (!cq_tls_wait_fd(conn->fd, POLLOUT, deadline)) {
                g_set_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL,
                            "the server took nothing in time");
                return FALSE;
            }
        } else {
            g_set_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL,
                        "connection lost: %s", g_strerror(errno));
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
cq_smtp_conn_flush(CqSmtpConn *conn, int timeout_ms, GError **error)
{
    gboolean ok;

    if (conn->broken) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL, "connection lost");
        return FALSE;
    }
    if (conn->out->len == 0)
        return TRUE;
    if (conn->tls != NULL)
        ok = cq_tls_write_all(conn->tls, conn->out->str, conn->out->len,
                              timeout_ms, error);
    else
        ok = write_plain(conn, conn->out->str, conn->out->len, timeout_ms,
                         error);
    if (conn->holds_secret)
        explicit_bzero(conn->out->str, conn->out->len);
    conn->holds_secret = FALSE;
    g_string_truncate(conn->out, 0);
    conn->broken |= !ok;
    return ok;
}

/* Writes early when the buffer is full; a failure is kept in ->broken and
 * reported by the next flush or read. */
static void
maybe_flush(CqSmtpConn *conn)
{
    if (conn->out->len >= FLUSH_AT && !conn->broken)
        cq_smtp_conn_flush(conn, conn->write_timeout_ms, NULL);
    if (conn->broken)
        g_string_truncate(conn->out, 0);
}

void
cq_smtp_conn_queue_line(CqSmtpConn *conn, const char *line,
                        const char *shown)
{
    trace(conn, "smtp-out", shown ? shown : line);
    g_string_append(conn->out, line);
    g_string_append_len(conn->out, "\r\n", 2);
    maybe_flush(conn);
}

void
cq_smtp_conn_queue_secret_line(CqSmtpConn *conn, const char *line,
                               const char *shown)
{
    conn->holds_secret = TRUE;
    cq_smtp_conn_queue_line(conn, line, shown);
}

void
cq_smtp_conn_queue_data(CqSmtpConn *conn, const char *data, gsize len)
{
    g_string_append_len(conn->out, data, (gssize)len);
    maybe_flush(conn);
}

gsize
cq_smtp_conn_queued(CqSmtpConn *conn)
{
    return conn->out->len;
}

static gssize
read_some(CqSmtpConn *conn, char *buffer, gsize len, int timeout_ms,
          GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    if (conn->tls != NULL)
        return cq_tls_read(conn->tls, buffer, len, timeout_ms, error);
    for (;;) {
        ssize_t n = recv(conn->fd, buffer, len, 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL,
                        "connection lost: %s", g_strerror(errno));
            return -1;
        }
        if (!cq_tls_wait_fd(conn->fd, POLLIN, deadline)) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL,
                        "no answer in time");
            return -1;
        }
    }
}

/* Reads more input after what is buffered; FALSE at the end or on error.
 */
static gboolean
fill(CqSmtpConn *conn, int timeout_ms, GError **error)
{
    if (conn->in_start > 0) {
        memmove(conn->in, conn->in + conn->in_start,
                conn->in_end - conn->in_start);
        conn->in_end -= conn->in_start;
        conn->in_start = 0;
    }
    gsize room = READ_CHUNK + CQ_SMTP_REPLY_MAX_LINE - conn->in_end;
    gssize n = read_some(conn, conn->in + conn->in_end, room, timeout_ms,
                         error);
    if (n == 0)
        g_set_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL,
                    "connection closed by the server");
    if (n <= 0) {
        conn->broken = TRUE;
        return FALSE;
    }
    conn->in_end += (gsize)n;
    return TRUE;
}

/* The next line (without CR LF) in *@line / *@len. */
static gboolean
next_line(CqSmtpConn *conn, const char **line, gsize *len, gint64 deadline,
          GError **error)
{
    for (;;) {
        char *start = conn->in + conn->in_start;
        char *nl = memchr(start, '\n', conn->in_end - conn->in_start);
        if (nl != NULL) {
            *line = start;
            *len = (gsize)(nl - start);
            if (*len > 0 && start[*len - 1] == '\r')
                (*len)--;
            conn->in_start = (gsize)(nl + 1 - conn->in);
            return TRUE;
        }
        if (conn->in_end - conn->in_start > CQ_SMTP_REPLY_MAX_LINE) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_PROTOCOL,
                        "reply line longer than %d bytes",
                        CQ_SMTP_REPLY_MAX_LINE);
            conn->broken = TRUE;
            return FALSE;
        }
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        if (!fill(conn, (int)MAX(left, 1), error))
            return FALSE;
    }
}

gboolean
cq_smtp_conn_read_reply(CqSmtpConn *conn, CqSmtpReply *reply,
                        int timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    const char *line = NULL;
    gsize len = 0;

    if (!cq_smtp_conn_flush(conn, timeout_ms, error))
        return FALSE;
    cq_smtp_reply_clear(reply);
    while (!reply->done) {
        if (!next_line(conn, &line, &len, deadline, error))
            return FALSE;
        g_autofree char *copy = g_strndup(line, len);
        trace(conn, "smtp-in", copy);
        if (!cq_smtp_reply_feed(reply, line, len, error)) {
            conn->broken = TRUE;
            return FALSE;
        }
    }
    return TRUE;
}
