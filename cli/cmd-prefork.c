/* caqmail prefork: keep the program loaded, and run every `caqmail
 * send` and `caqmail sendmail` handed over by the front (prefork.h
 * describes the exchange).
 *
 * The server itself stays single-threaded and reads nothing that depends
 * on a caller: no configuration, no home or data folders (GLib keeps
 * those for the life of a process, and a command must find its caller's).
 * A command runs in one of two ways:
 *
 * - forked: a child of the server becomes the command, under the
 *   caller's environment, umask, working folder and standard descriptors,
 *   as a new process would;
 * - warm: a worker (a child started with the server) has read the
 *   configuration of the server's environment and keeps the database and
 *   the SMTP connections open; it runs a `caqmail send` itself when
 *   nothing could make the result differ: the caller's environment is the
 *   worker's, the configuration files are unchanged, its SQLite
 *   database is still the file of that path, and the command names no
 *   other configuration or user and reads no standard input.  Everything
 *   else is forked.  A worker runs one command at a time, and is
 *   replaced after a number of them or when the configuration or the
 *   database file changed.
 *
 * An upgrade that replaces caqmail-cli or libcaqmail.so leaves the
 * server and its workers running the old code: the server notices it at
 * the next caller, lets that caller run its command itself, and ends
 * with EX_TEMPFAIL once its commands finished, for its service manager
 * to start the new program.
 */
#include "cli.h"
#include "common/module.h"
#include "prefork.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* Commands running at once; a caller past that runs its command
 * itself. */
#define MAX_CHILDREN 64
/* Workers at most (--warm). */
#define MAX_WARM 4
/* Commands a worker runs before it is replaced. */
#define WARM_COMMANDS 1000
/* How long a caller may take to send its request, and a worker to say
 * whether it takes one. */
#define REQUEST_TIMEOUT_S 5
/* A worker that ended sooner than this after its start is not replaced
 * before the same time has passed again. */
#define WARM_RETRY_US (10 * G_USEC_PER_SEC)

/* Between the server and a worker: the request in the caller's format,
 * then the worker's answers as CqPreforkReply. */
enum {
    WARM_READY = 10,    /* started: takes requests */
    WARM_ACCEPTED = 11, /* runs this one; CQ_PREFORK_EXITED follows */
    WARM_DECLINED = 12, /* fork it */
};

typedef struct {
    pid_t pid;
    int client; /* the caller's connection, for the exit status */
} Child;

typedef enum { WARM_STARTING, WARM_IDLE, WARM_BUSY } WarmState;

typedef struct {
    pid_t pid;
    int control; /* the server's end of the worker's socket */
    WarmState state;
    int client; /* while busy: the caller */
    gint64 started;
} Warm;

typedef struct {
    CqPreforkRequest head;
    int fds[CQ_PREFORK_N_FDS];
    char *strings;
    char **argv; /* argc entries and a NULL */
    char **envp; /* envc entries and a NULL */
} Request;

/* A file the server's code was loaded from. */
typedef struct {
    char *path; /* NULL: unknown, not checked */
    dev_t dev;
    ino_t ino;
} LoadedFile;

enum { LOADED_PROGRAM, LOADED_LIBRARY, N_LOADED };

typedef struct {
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int listener;
    int signals;
    sigset_t blocked;
    CqLogLevel log_level;
    Child children[MAX_CHILDREN];
    guint n_children;
    Warm warm[MAX_WARM];
    guint n_warm;
    guint warm_wanted;
    gint64 warm_retry; /* no new worker before this time */
    gboolean stopping;
    int exit_code;
    LoadedFile loaded[N_LOADED];
    CqCliMain run;
} Server;

#define REQUEST_INIT {.fds = {-1, -1, -1, -1}}

static void
request_clear(Request *r)
{
    for (int i = 0; i < CQ_PREFORK_N_FDS; i++) {
        if (r->fds[i] >= 0)
            close(r->fds[i]);
        r->fds[i] = -1;
    }
    g_clear_pointer(&r->strings, free);
    g_clear_pointer(&r->argv, free);
    g_clear_pointer(&r->envp, free);
}

static void
log_event(CqLogLevel level, const char *name, const char *key,
          const char *value)
{
    CqEvent *ev = cq_event_begin(level, name);
    cq_event_add(ev, key, value);
    cq_event_end(ev);
}

static void
log_pid(CqLogLevel level, const char *name, pid_t pid, const char *key,
        const char *value)
{
    CqEvent *ev = cq_event_begin(level, name);
    cq_event_addf(ev, "pid", "%d", (int)pid);
    cq_event_add(ev, key, value);
    cq_event_end(ev);
}

/* ---- the socket ------------------------------------------------------- */

/* The socket's folder: made private when it is new, and refused when
 * others could replace the socket in it. */
static gboolean
prepare_folder(const char *path, GError **error)
{
    g_autofree char *folder = g_path_get_dirname(path);
    struct stat st;

    if (g_mkdir_with_parents(folder, 0700) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "cannot create %s: %s",
                    folder, g_strerror(errno));
        return FALSE;
    }
    if (stat(folder, &st) != 0 || st.st_uid != geteuid() ||
        (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                    "%s must belong to this user and be writable by no "
                    "one else",
                    folder);
        return FALSE;
    }
    return TRUE;
}

/* Removes a socket left by a server that is gone; a live one is an
 * error. */
static gboolean
clear_stale(const struct sockaddr_un *addr, GError **error)
{
    struct stat st;

    if (lstat(addr->sun_path, &st) != 0)
        return TRUE;
    if (!S_ISSOCK(st.st_mode)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                    "%s exists and is not a socket", addr->sun_path);
        return FALSE;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    gboolean live =
        fd >= 0 &&
        connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0;
    if (fd >= 0)
        close(fd);
    if (live) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                    "a prefork server already listens on %s",
                    addr->sun_path);
        return FALSE;
    }
    unlink(addr->sun_path);
    return TRUE;
}

static gboolean
listen_on(Server *s, GError **error)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};

    g_strlcpy(addr.sun_path, s->path, sizeof addr.sun_path);
    if (!prepare_folder(s->path, error) || !clear_stale(&addr, error))
        return FALSE;
    s->listener =
        socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    mode_t mask = umask(0177); /* the socket: rw for this user only */
    int bound = s->listener < 0
                    ? -1
                    : bind(s->listener, (struct sockaddr *)&addr, sizeof addr);
    umask(mask);
    if (bound != 0 || listen(s->listener, 64) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "cannot listen on %s: %s",
                    s->path, g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

/* Signals arrive through a descriptor; children get them unblocked
 * again. */
static gboolean
catch_signals(Server *s, GError **error)
{
    sigemptyset(&s->blocked);
    sigaddset(&s->blocked, SIGCHLD);
    sigaddset(&s->blocked, SIGTERM);
    sigaddset(&s->blocked, SIGINT);
    sigaddset(&s->blocked, SIGHUP);
    sigprocmask(SIG_BLOCK, &s->blocked, NULL);
    s->signals = signalfd(-1, &s->blocked, SFD_CLOEXEC | SFD_NONBLOCK);
    if (s->signals < 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "signalfd: %s",
                    g_strerror(errno));
        return FALSE;
    }
    signal(SIGPIPE, SIG_IGN);
    return TRUE;
}

/* ---- requests --------------------------------------------------------- */

static gboolean
receive_head(int fd, Request *r)
{
    union {
        char buf[CMSG_SPACE(sizeof r->fds)];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = &r->head, .iov_len = sizeof r->head};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    ssize_t n;

    do
        n = recvmsg(fd, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL;
         c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        int *got = (int *)(void *)CMSG_DATA(c);
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        if (k == CQ_PREFORK_N_FDS) {
            memcpy(r->fds, got, sizeof r->fds);
            continue;
        }
        for (size_t i = 0; i < k; i++) /* the wrong number */
            close(got[i]);
    }
    return n == (ssize_t)sizeof r->head && (msg.msg_flags & MSG_CTRUNC) == 0 &&
           r->fds[CQ_PREFORK_FD_CWD] >= 0 &&
           r->head.magic == CQ_PREFORK_MAGIC &&
           r->head.version == CQ_PREFORK_VERSION && r->head.argc >= 1 &&
           r->head.argc + r->head.envc <= CQ_PREFORK_MAX_STRINGS &&
           r->head.bytes > 0 && r->head.bytes <= CQ_PREFORK_MAX_BYTES;
}

/* Splits the strings into argv and envp; FALSE when their count or
 * ending is not what the head said. */
static gboolean
split_strings(Request *r)
{
    guint argc = r->head.argc, envc = r->head.envc, k = 0;
    char *p = r->strings, *end = r->strings + r->head.bytes;

    if (end[-1] != '\0')
        return FALSE;
    r->argv = calloc(argc + 1, sizeof(char *));
    r->envp = calloc(envc + 1, sizeof(char *));
    if (r->argv == NULL || r->envp == NULL)
        return FALSE;
    for (; p < end && k < argc + envc; k++) {
        if (k < argc)
            r->argv[k] = p;
        else
            r->envp[k - argc] = p;
        p += strlen(p) + 1;
    }
    return k == argc + envc && p == end;
}

/* Reads a request from @fd, a caller or (in a worker) the server. */
static gboolean
receive_request(int fd, Request *r)
{
    gsize got = 0;

    if (!receive_head(fd, r))
        return FALSE;
    r->strings = malloc(r->head.bytes);
    while (r->strings != NULL && got < r->head.bytes) {
        ssize_t n = recv(fd, r->strings + got, r->head.bytes - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        got += (gsize)n;
    }
    return r->strings != NULL && split_strings(r) &&
           cq_prefork_command((int)r->head.argc, r->argv) != NULL;
}

/* Passes @r on to a worker in the same format. */
static gboolean
forward_request(int fd, const Request *r)
{
    union {
        char buf[CMSG_SPACE(sizeof r->fds)];
        struct cmsghdr align;
    } control;
    struct iovec iov[2] = {
        {.iov_base = (void *)&r->head, .iov_len = sizeof r->head},
        {.iov_base = r->strings, .iov_len = r->head.bytes},
    };
    struct msghdr msg = {.msg_iov = iov,
                         .msg_iovlen = 2,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    gsize total = sizeof r->head + r->head.bytes, sent = 0;

    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof r->fds);
    memcpy(CMSG_DATA(c), r->fds, sizeof r->fds);
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n <= 0)
        return FALSE;
    /* the rest of a long request, without the descriptors */
    for (sent = (gsize)n; sent < total; sent += (gsize)n) {
        gsize off = sent - sizeof r->head;
        n = send(fd, r->strings + off, r->head.bytes - off, MSG_NOSIGNAL);
        if (n <= 0 && errno != EINTR)
            return FALSE;
        n = MAX(n, 0);
    }
    return TRUE;
}

static gboolean
send_reply(int fd, guint32 kind, gint32 value)
{
    CqPreforkReply msg = {.kind = kind, .value = value};

    return send(fd, &msg, sizeof msg, MSG_NOSIGNAL) == sizeof msg;
}

static gboolean
read_reply(int fd, CqPreforkReply *reply)
{
    ssize_t n;

    do
        n = recv(fd, reply, sizeof *reply, MSG_WAITALL);
    while (n < 0 && errno == EINTR);
    return n == sizeof *reply;
}

/* ---- a command as a new process --------------------------------------- */

/* Puts a child of the server in a session of its own.  A server started
 * from a terminal shares that terminal's session, and a child in another
 * process group of it would be stopped (SIGTTIN) when it reads the
 * caller's terminal; in its own session the terminal is no controlling
 * one of it, only a descriptor.  Signals from the server's terminal
 * (Ctrl-C) no longer reach it either: the caller forwards its own. */
static void
leave_terminal(void)
{
    if (setsid() < 0)
        setpgid(0, 0);
}

/* The caller's descriptors, working folder and umask on 0, 1, 2. */
static gboolean
take_callers_place(const Request *r)
{
    for (int i = 0; i < CQ_PREFORK_FD_CWD; i++) {
        if (dup2(r->fds[i], i) < 0)
            return FALSE;
    }
    if (fchdir(r->fds[CQ_PREFORK_FD_CWD]) != 0)
        return FALSE;
    umask((mode_t)(r->head.umask & 0777));
    return TRUE;
}

/* A forked child becomes the command: the caller's descriptors, folder,
 * umask and environment, the signals and log of a new process.  Never
 * returns. */
static void G_GNUC_NORETURN
become_command(Server *s, Request *r)
{
    extern char **environ;

    sigprocmask(SIG_UNBLOCK, &s->blocked, NULL);
    signal(SIGPIPE, SIG_DFL);
    leave_terminal();
    if (!take_callers_place(r)) {
        fprintf(stderr, "caqmail: cannot take the caller's place: %s\n",
                g_strerror(errno));
        _exit(EX_OSERR);
    }
    /* the server's socket, signals and callers stay with the server */
    close_range(3, ~0U, 0);
    environ = r->envp;
    cq_event_set_handler(CQ_LOG_ERROR, NULL, NULL);
    int status = s->run((int)r->head.argc, r->argv);
    exit(status);
}

/* ---- a warm worker ---------------------------------------------------- */

/* What a worker checks before each command: its environment (sorted,
 * without what a shell changes by itself), the configuration files it
 * read or looked for, and that its SQLite database is still the file
 * its path names (not replaced, say, by a restored copy). */
typedef struct {
    GPtrArray *environment;
    char **config_files;
    GArray *config_stats; /* of struct stat, st_ino 0: missing */
    char *database;       /* NULL: not an SQLite file */
    dev_t database_dev;
    ino_t database_ino;
    CqLogLevel log_level;
    guint commands;
} WarmCheck;

static gboolean
environment_counts(const char *entry)
{
    /* set by a shell or by systemd for each process; caqmail reads none */
    static const char *const ignored[] = {
        "PWD=",           "OLDPWD=",           "SHLVL=",
        "_=",             "INVOCATION_ID=",    "JOURNAL_STREAM=",
        "SYSTEMD_EXEC_PID=", "NOTIFY_SOCKET=", "MANAGERPID=",
    };

    for (guint i = 0; i < G_N_ELEMENTS(ignored); i++) {
        if (g_str_has_prefix(entry, ignored[i]))
            return FALSE;
    }
    return TRUE;
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static GPtrArray *
sorted_environment(char **envp)
{
    GPtrArray *list = g_ptr_array_new();

    for (guint i = 0; envp[i] != NULL; i++) {
        if (environment_counts(envp[i]))
            g_ptr_array_add(list, envp[i]);
    }
    g_ptr_array_sort(list, compare_strings);
    return list;
}

static gboolean
same_environment(const WarmCheck *w, char **envp)
{
    g_autoptr(GPtrArray) theirs = sorted_environment(envp);

    if (theirs->len != w->environment->len)
        return FALSE;
    for (guint i = 0; i < theirs->len; i++) {
        if (strcmp(theirs->pdata[i], w->environment->pdata[i]) != 0)
            return FALSE;
    }
    return TRUE;
}

static GArray *
stat_files(char **files)
{
    GArray *stats = g_array_new(FALSE, TRUE, sizeof(struct stat));

    for (guint i = 0; files[i] != NULL; i++) {
        struct stat st = {0};
        if (stat(files[i], &st) != 0)
            memset(&st, 0, sizeof st);
        g_array_append_val(stats, st);
    }
    return stats;
}

static gboolean
same_config_files(const WarmCheck *w)
{
    g_autoptr(GArray) now = stat_files(w->config_files);

    for (guint i = 0; i < now->len; i++) {
        const struct stat *a = &g_array_index(now, struct stat, i);
        const struct stat *b = &g_array_index(w->config_stats, struct stat, i);
        if (a->st_ino != b->st_ino || a->st_dev != b->st_dev ||
            a->st_size != b->st_size ||
            a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
            a->st_mtim.tv_nsec != b->st_mtim.tv_nsec ||
            a->st_ctim.tv_sec != b->st_ctim.tv_sec ||
            a->st_ctim.tv_nsec != b->st_ctim.tv_nsec)
            return FALSE;
    }
    return TRUE;
}

/* Notes which file the SQLite database of @config is, once open. */
static void
note_database(WarmCheck *w, const CqConfig *config)
{
    struct stat st;
    const char *path = config->store.database;

    if (path == NULL || strstr(path, "://") != NULL || stat(path, &st) != 0)
        return;
    w->database = g_strdup(path);
    w->database_dev = st.st_dev;
    w->database_ino = st.st_ino;
}

static gboolean
same_database(const WarmCheck *w)
{
    struct stat st;

    return w->database == NULL ||
           (stat(w->database, &st) == 0 && st.st_dev == w->database_dev &&
            st.st_ino == w->database_ino);
}

/* Whether the command line could read another configuration, act as
 * another user or read standard input: then it is forked. */
static gboolean
plain_send(int argc, char **argv)
{
    const char *slash = strrchr(argv[0], '/');

    if (strcmp(slash ? slash + 1 : argv[0], "sendmail") == 0 ||
        g_strcmp0(cq_prefork_command(argc, argv), "send") != 0)
        return FALSE;
    /* GOption ends the process after --help: that is for a fork too */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-") == 0 || g_str_has_prefix(a, "--config") ||
            g_str_has_prefix(a, "--as") || g_str_has_prefix(a, "--help") ||
            (a[0] == '-' && a[1] != '-' && strpbrk(a, "ch?") != NULL))
            return FALSE;
    }
    return TRUE;
}

/* Runs the command in this process, in the caller's place, and comes
 * back to the worker's own. */
static int
run_here(Server *s, WarmCheck *w, const Request *r)
{
    int saved[CQ_PREFORK_FD_CWD];
    int home = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    mode_t mask = umask(0);
    int code = EX_OSERR;

    umask(mask);
    for (int i = 0; i < CQ_PREFORK_FD_CWD; i++)
        saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
    if (take_callers_place(r))
        code = s->run((int)r->head.argc, r->argv);
    fflush(stdout);
    fflush(stderr);
    clearerr(stdout);
    clearerr(stderr);
    for (int i = 0; i < CQ_PREFORK_FD_CWD; i++) {
        dup2(saved[i], i);
        close(saved[i]);
    }
    if (fchdir(home) != 0)
        code = EX_OSERR;
    close(home);
    umask(mask);
    cli_log_start(w->log_level, FALSE);
    return code;
}

/* Takes one request from the server: runs it, or declines it.  FALSE
 * when the worker is to end. */
static gboolean
warm_request(Server *s, WarmCheck *w, int control)
{
    Request r = REQUEST_INIT;
    struct pollfd pfd = {.fd = control, .events = POLLIN};

    while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
        ;
    if (!receive_request(control, &r)) {
        request_clear(&r);
        return FALSE; /* the server ended, or broke the exchange */
    }
    gboolean current = same_config_files(w) && same_database(w);
    if (!current || !plain_send((int)r.head.argc, r.argv) ||
        !same_environment(w, r.envp)) {
        request_clear(&r);
        return send_reply(control, WARM_DECLINED, 0) && current;
    }
    if (!send_reply(control, WARM_ACCEPTED, 0)) {
        request_clear(&r);
        return FALSE;
    }
    int code = run_here(s, w, &r);
    request_clear(&r);
    return send_reply(control, CQ_PREFORK_EXITED, (code & 0xff) << 8) &&
           ++w->commands < WARM_COMMANDS;
}

/* A worker: reads the configuration, opens the database and the
 * transport, says it is ready and takes requests.  Never returns. */
static void G_GNUC_NORETURN
warm_main(Server *s, int control)
{
    extern char **environ;
    g_autoptr(GError) error = NULL;
    WarmCheck w = {.log_level = s->log_level};

    sigprocmask(SIG_UNBLOCK, &s->blocked, NULL);
    signal(SIGPIPE, SIG_DFL);
    leave_terminal();
    setlocale(LC_ALL, "");
    w.environment = sorted_environment(environ);
    w.config_files = cq_config_candidates();
    w.config_stats = stat_files(w.config_files);
    g_autoptr(CqConfig) config = cq_config_load(NULL, &error);
    g_autofree char *relative =
        config ? cq_config_relative_path(config) : NULL;
    if (relative != NULL) {
        /* each command would find that file from its own folder */
        log_pid(CQ_LOG_NOTICE, "prefork-warm-off", getpid(), "relative-path",
                relative);
        _exit(EX_CONFIG);
    }
    g_autoptr(CqSession) session =
        config ? cq_session_open_config(config, NULL, &error) : NULL;
    g_autoptr(CqTransport) transport =
        session ? cq_transport_new(config, &error) : NULL;
    if (transport == NULL) {
        log_pid(CQ_LOG_WARNING, "prefork-warm-failed", getpid(), "error",
                error->message);
        _exit(EX_CONFIG);
    }
    note_database(&w, config);
    cli_keep_open(session, transport);
    if (send_reply(control, WARM_READY, 0)) {
        while (warm_request(s, &w, control))
            ;
    }
    cli_keep_open(NULL, NULL);
    g_ptr_array_unref(w.environment);
    g_strfreev(w.config_files);
    g_array_unref(w.config_stats);
    g_free(w.database);
    g_clear_pointer(&transport, cq_transport_free);
    g_clear_pointer(&session, cq_session_free);
    g_clear_pointer(&config, cq_config_free);
    fflush(NULL);
    _exit(EX_OK);
}

static void
start_warm(Server *s)
{
    int pair[2];

    if (s->n_warm >= s->warm_wanted || s->stopping ||
        g_get_monotonic_time() < s->warm_retry ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        int keep = fcntl(pair[1], F_DUPFD_CLOEXEC, 3);
        close_range(3, (unsigned)keep - 1, 0);
        warm_main(s, keep);
    }
    close(pair[1]);
    if (pid < 0) {
        close(pair[0]);
        return;
    }
    struct timeval timeout = {.tv_sec = REQUEST_TIMEOUT_S};
    setsockopt(pair[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    s->warm[s->n_warm++] = (Warm){.pid = pid,
                                  .control = pair[0],
                                  .state = WARM_STARTING,
                                  .client = -1,
                                  .started = g_get_monotonic_time()};
}

static Warm *
idle_warm(Server *s)
{
    for (guint i = 0; i < s->n_warm; i++) {
        if (s->warm[i].state == WARM_IDLE)
            return &s->warm[i];
    }
    return NULL;
}

/* Offers the request to an idle worker; TRUE when it runs it. */
static gboolean
offer_warm(Server *s, int client, const Request *r)
{
    Warm *w = idle_warm(s);
    CqPreforkReply answer;

    if (w == NULL)
        return FALSE;
    if (!forward_request(w->control, r) || !read_reply(w->control, &answer)) {
        kill(w->pid, SIGTERM); /* out of step: replaced when reaped */
        w->state = WARM_BUSY;
        return FALSE;
    }
    if (answer.kind != WARM_ACCEPTED)
        return FALSE;
    w->state = WARM_BUSY;
    w->client = client;
    log_pid(CQ_LOG_INFO, "prefork-run", w->pid, "way", "warm");
    send_reply(client, CQ_PREFORK_STARTED, (gint32)w->pid);
    return TRUE;
}

/* A message from a worker: ready, or the end of the command it ran. */
static void
read_warm(Server *s, Warm *w)
{
    CqPreforkReply msg;

    if (!read_reply(w->control, &msg))
        return; /* it ended: reaped below */
    if (msg.kind == WARM_READY && w->state == WARM_STARTING) {
        w->state = WARM_IDLE;
        log_pid(CQ_LOG_INFO, "prefork-warm-ready", w->pid, "socket",
                s->path);
    } else if (msg.kind == CQ_PREFORK_EXITED && w->state == WARM_BUSY &&
               w->client >= 0) {
        send_reply(w->client, CQ_PREFORK_EXITED, msg.value);
        close(w->client);
        w->client = -1;
        w->state = WARM_IDLE;
    }
}

/* A worker ended: its caller, if any, learns how. */
static gboolean
reap_warm(Server *s, pid_t pid, int status)
{
    for (guint i = 0; i < s->n_warm; i++) {
        Warm *w = &s->warm[i];
        if (w->pid != pid)
            continue;
        if (w->client >= 0) {
            send_reply(w->client, CQ_PREFORK_EXITED, status);
            close(w->client);
        }
        close(w->control);
        /* a worker that fails soon after its start would fail again */
        gboolean failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        if (failed && g_get_monotonic_time() - w->started < WARM_RETRY_US)
            s->warm_retry = g_get_monotonic_time() + WARM_RETRY_US;
        *w = s->warm[--s->n_warm];
        return TRUE;
    }
    return FALSE;
}

/* ---- the server ------------------------------------------------------- */

/* Notes @path as a file the server was loaded from, whose contents are
 * the file @running (the same, or /proc/self/exe).  Takes @path. */
static void
note_loaded(LoadedFile *f, char *path, const char *running)
{
    struct stat st;

    if (path == NULL || stat(running, &st) != 0) {
        g_free(path);
        return;
    }
    f->path = path;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
}

static void
note_program(Server *s)
{
    note_loaded(&s->loaded[LOADED_PROGRAM],
                g_file_read_link("/proc/self/exe", NULL), "/proc/self/exe");
    char *library = cq_module_library_path();
    note_loaded(&s->loaded[LOADED_LIBRARY], library, library);
}

/* The first file the server was loaded from that its path no longer
 * names (an upgrade renamed a new one over it, or removed it), or
 * NULL. */
static const char *
replaced_program(const Server *s)
{
    struct stat st;

    for (guint i = 0; i < N_LOADED; i++) {
        const LoadedFile *f = &s->loaded[i];
        if (f->path != NULL &&
            (stat(f->path, &st) != 0 || st.st_dev != f->dev ||
             st.st_ino != f->ino))
            return f->path;
    }
    return NULL;
}

static void
forget_program(Server *s)
{
    for (guint i = 0; i < N_LOADED; i++)
        g_clear_pointer(&s->loaded[i].path, g_free);
}

static void
refuse(int client, const char *why)
{
    log_event(CQ_LOG_WARNING, "prefork-refused", "reason", why);
    close(client);
}

static void stop_listening(Server *s);

/* Whether the server's code was replaced: then @client runs its command
 * itself, and the server stops for the new program to take its place. */
static gboolean
outdated(Server *s, int client)
{
    const char *file = replaced_program(s);

    if (file == NULL)
        return FALSE;
    log_event(CQ_LOG_NOTICE, "prefork-outdated", "replaced", file);
    close(client);
    s->exit_code = EX_TEMPFAIL;
    stop_listening(s);
    return TRUE;
}

/* Takes one caller: checks it, then runs its command warm or forked. */
static void
serve_client(Server *s, int client)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    struct timeval timeout = {.tv_sec = REQUEST_TIMEOUT_S};
    Request r = REQUEST_INIT;

    if (getsockopt(client, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        cred.uid != geteuid()) {
        refuse(client, "another user");
        return;
    }
    if (outdated(s, client))
        return;
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (!receive_request(client, &r)) {
        request_clear(&r);
        refuse(client, "bad request");
        return;
    }
    if (s->n_children == MAX_CHILDREN && idle_warm(s) == NULL) {
        request_clear(&r);
        refuse(client, "busy");
        return;
    }
    if (!send_reply(client, CQ_PREFORK_TAKEN, 0)) {
        request_clear(&r);
        refuse(client, "caller gone");
        return;
    }
    start_warm(s);
    if (offer_warm(s, client, &r)) {
        request_clear(&r);
        return;
    }
    pid_t pid = -1;
    const char *why = "busy";
    if (s->n_children < MAX_CHILDREN && (pid = fork()) < 0)
        why = g_strerror(errno);
    if (pid == 0)
        become_command(s, &r);
    request_clear(&r);
    if (pid < 0) {
        send_reply(client, CQ_PREFORK_REFUSED, 0);
        refuse(client, why);
        return;
    }
    log_pid(CQ_LOG_INFO, "prefork-run", pid, "way", "forked");
    send_reply(client, CQ_PREFORK_STARTED, (gint32)pid);
    s->children[s->n_children].pid = pid;
    s->children[s->n_children++].client = client;
}

static void
accept_clients(Server *s)
{
    int client;

    while (s->listener >= 0 &&
           (client = accept4(s->listener, NULL, NULL, SOCK_CLOEXEC)) >= 0)
        serve_client(s, client);
}

/* Reports every child that ended to its caller, and replaces a worker
 * that ended. */
static void
reap(Server *s)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (reap_warm(s, pid, status))
            continue;
        for (guint i = 0; i < s->n_children; i++) {
            if (s->children[i].pid != pid)
                continue;
            send_reply(s->children[i].client, CQ_PREFORK_EXITED, status);
            close(s->children[i].client);
            s->children[i] = s->children[--s->n_children];
            break;
        }
    }
    start_warm(s); /* in place of a worker that ended */
}

/* SIGTERM, SIGINT, SIGHUP: take no new caller, let the running commands
 * finish, end the workers. */
static void
stop_listening(Server *s)
{
    if (s->stopping)
        return;
    s->stopping = TRUE;
    close(s->listener);
    s->listener = -1;
    unlink(s->path);
    for (guint i = 0; i < s->n_warm; i++) {
        if (s->warm[i].state != WARM_BUSY)
            shutdown(s->warm[i].control, SHUT_WR);
    }
    CqEvent *ev = cq_event_begin(CQ_LOG_NOTICE, "prefork-stop");
    cq_event_add(ev, "socket", s->path);
    cq_event_addf(ev, "running", "%u", s->n_children);
    cq_event_end(ev);
}

static void
read_signals(Server *s)
{
    struct signalfd_siginfo info;

    while (read(s->signals, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGCHLD)
            reap(s);
        else
            stop_listening(s);
    }
}

static void
serve(Server *s)
{
    while (!s->stopping || s->n_children > 0 || s->n_warm > 0) {
        struct pollfd fds[2 + MAX_WARM] = {
            {.fd = s->signals, .events = POLLIN},
            {.fd = s->listener, .events = POLLIN},
        };
        guint n_warm = s->n_warm;
        for (guint i = 0; i < n_warm; i++)
            fds[2 + i] = (struct pollfd){.fd = s->warm[i].control,
                                         .events = POLLIN};
        if (poll(fds, 2 + n_warm, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_event(CQ_LOG_ERROR, "prefork-poll", "error",
                      g_strerror(errno));
            return;
        }
        for (guint i = 0; i < n_warm; i++) {
            if (fds[2 + i].revents && i < s->n_warm &&
                s->warm[i].control == fds[2 + i].fd)
                read_warm(s, &s->warm[i]);
        }
        if (fds[0].revents)
            read_signals(s);
        if (!s->stopping && fds[1].revents)
            accept_clients(s);
        if (s->stopping) {
            for (guint i = 0; i < s->n_warm; i++) {
                if (s->warm[i].state != WARM_BUSY)
                    shutdown(s->warm[i].control, SHUT_WR);
            }
        }
    }
}

int
cmd_prefork(CqCli *cli, CqCliMain run, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *socket_path = NULL;
    gint warm = 1;
    Server s = {.listener = -1, .signals = -1, .run = run};
    const GOptionEntry entries[] = {
        {"socket", 's', 0, G_OPTION_ARG_FILENAME, &socket_path,
         "Listen on PATH (default: $CAQMAIL_PREFORK_SOCKET, else "
         "$XDG_RUNTIME_DIR/caqmail/prefork.sock)",
         "PATH"},
        {"warm", 'w', 0, G_OPTION_ARG_INT, &warm,
         "Keep N workers with the database and SMTP connections open "
         "(0-4, default 1)",
         "N"},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) context = g_option_context_new("");
    g_option_context_set_summary(
        context,
        "Keep caqmail loaded and run every 'caqmail send' and 'caqmail "
        "sendmail' of this user from it: a send then starts in a fraction "
        "of the time.  Runs until SIGTERM, then lets the running commands "
        "finish.");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!cli_parse(cli, context, &argc, &argv))
        return EX_USAGE;
    if (argc > 1 || warm < 0 || warm > MAX_WARM || cli->config_path ||
        cli->as) {
        g_set_error(&error, CQ_ERROR, CQ_ERROR_USAGE,
                    "takes --socket and --warm 0-%d only; every command "
                    "reads its own configuration",
                    MAX_WARM);
        return cli_fail(cli, error);
    }
    if (socket_path != NULL)
        g_strlcpy(s.path, socket_path, sizeof s.path);
    if ((socket_path != NULL && strlen(socket_path) >= sizeof s.path) ||
        (socket_path == NULL &&
         cq_prefork_socket_path(s.path, sizeof s.path) != 0)) {
        g_set_error(&error, CQ_ERROR, CQ_ERROR_USAGE,
                    "no socket path (or one too long): give --socket, or "
                    "set CAQMAIL_PREFORK_SOCKET or XDG_RUNTIME_DIR");
        return cli_fail(cli, error);
    }
    /* No configuration is read here: logging goes to standard error. */
    s.log_level = cli_log_level(cli);
    s.warm_wanted = (guint)warm;
    cli_log_start(s.log_level, FALSE);
    if (!catch_signals(&s, &error) || !listen_on(&s, &error))
        return cli_fail(cli, error);
    note_program(&s);
    log_event(CQ_LOG_NOTICE, "prefork-start", "socket", s.path);
    start_warm(&s);
    serve(&s);
    if (s.listener >= 0) {
        close(s.listener);
        unlink(s.path);
    }
    forget_program(&s);
    return s.exit_code;
}
