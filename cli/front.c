/* The `caqmail` executable.  It links only the C library: a command that
 * is run once per mail (send, sendmail) is handed to a running prefork
 * server when there is one (prefork.h), which saves loading the
 * libraries; everything else, and everything when no server answers,
 * runs the full program, caqmail-cli, in this process's place. */
#include "prefork.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#if !defined CAQMAIL_CLI_PATH || !defined CAQMAIL_CLI_RELATIVE
#error "CAQMAIL_CLI_PATH, CAQMAIL_CLI_RELATIVE: where caqmail-cli is"
#endif

#define EXIT_SOFTWARE 70 /* sysexits.h EX_SOFTWARE */

extern char **environ;

/* The signals that go on to the command. */
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define N_FORWARDED (sizeof forwarded / sizeof forwarded[0])

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t pending_signal; /* came before child_pid */

/* The caller's signals go to the command it asked for; one that comes
 * before the command runs is kept for it. */
static void
forward_signal(int sig)
{
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
    else
        pending_signal = sig;
}

static void
forward_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < N_FORWARDED; i++)
        sigaction(forwarded[i], &sa, NULL);
}

/* Before running the command here: the defaults again, and a signal
 * that came meanwhile acts now. */
static void
stop_forwarding(void)
{
    for (size_t i = 0; i < N_FORWARDED; i++)
        signal(forwarded[i], SIG_DFL);
    if (pending_signal != 0)
        raise(pending_signal);
}

/* Connects to the server; -1 when there is none, or it runs as another
 * user (a warning then: somebody else's server is not to be trusted with
 * our descriptors). */
static int
connect_server(void)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    struct ucred cred;
    socklen_t len = sizeof cred;

    if (cq_prefork_socket_path(addr.sun_path, sizeof addr.sun_path) != 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        close(fd);
        return -1;
    }
    if (cred.uid != geteuid()) {
        fprintf(stderr,
                "caqmail: warning: ignoring the prefork server at %s: it "
                "runs as user %u\n",
                addr.sun_path, (unsigned)cred.uid);
        close(fd);
        return -1;
    }
    return fd;
}

static int
write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Appends @n strings to @buf (NUL-ended); -1 past the limits. */
static int
pack(char **buf, size_t *used, char *const *strings, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(strings[i]) + 1;
        if (*used + len > CQ_PREFORK_MAX_BYTES)
            return -1;
        char *grown = realloc(*buf, *used + len);
        if (grown == NULL)
            return -1;
        *buf = grown;
        memcpy(*buf + *used, strings[i], len);
        *used += len;
    }
    return 0;
}

/* Sends the request: the header with the four descriptors, then the
 * strings. */
static int
send_request(int fd, int argc, char **argv)
{
    size_t envc = 0, used = 0;
    char *strings = NULL;
    int fds[CQ_PREFORK_N_FDS] = {0, 1, 2, -1};
    int ok = -1;

    while (environ[envc] != NULL)
        envc++;
    if (argc + envc > CQ_PREFORK_MAX_STRINGS ||
        pack(&strings, &used, argv, (size_t)argc) != 0 ||
        pack(&strings, &used, environ, envc) != 0)
        goto out;
    for (int i = 0; i < CQ_PREFORK_FD_CWD; i++) {
        if (fcntl(fds[i], F_GETFD) < 0)
            goto out; /* a closed standard descriptor cannot be passed */
    }
    fds[CQ_PREFORK_FD_CWD] = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fds[CQ_PREFORK_FD_CWD] < 0)
        goto out;

    mode_t mask = umask(0);
    umask(mask);
    CqPreforkRequest req = {
        .magic = CQ_PREFORK_MAGIC,
        .version = CQ_PREFORK_VERSION,
        .umask = (uint32_t)mask,
        .argc = (uint32_t)argc,
        .envc = (uint32_t)envc,
        .bytes = (uint32_t)used,
    };
    union {
        char buf[CMSG_SPACE(sizeof fds)];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = &req, .iov_len = sizeof req};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(cmsg), fds, sizeof fds);
    ssize_t n;
    do
        n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof req && write_all(fd, strings, used) == 0)
        ok = 0;
out:
    if (fds[CQ_PREFORK_FD_CWD] >= 0)
        close(fds[CQ_PREFORK_FD_CWD]);
    free(strings);
    return ok;
}

/* Reads one reply; -1 at the end of the connection or on an error. */
static int
read_reply(int fd, CqPreforkReply *reply)
{
    size_t got = 0;

    while (got < sizeof *reply) {
        ssize_t n = recv(fd, (char *)reply + got, sizeof *reply - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

/* Ends this process as the command ended. */
static int
exit_like(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        sigset_t set;
        signal(sig, SIG_DFL);
        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        raise(sig);
        return 128 + sig;
    }
    return EXIT_SOFTWARE;
}

/* Hands the command to the server.  Returns -1 when the server ran
 * nothing (the caller then runs it), else the exit code. */
static int
hand_over(int argc, char **argv)
{
    CqPreforkReply reply;
    int fd = connect_server();

    if (fd < 0)
        return -1;
    forward_signals();
    if (send_request(fd, argc, argv) != 0 || read_reply(fd, &reply) != 0 ||
        reply.kind != CQ_PREFORK_TAKEN) {
        close(fd);
        return -1;
    }
    if (read_reply(fd, &reply) != 0) {
        fprintf(stderr,
                "caqmail: the prefork server closed the connection while "
                "the command started; whether it ran is unknown\n");
        close(fd);
        return EXIT_SOFTWARE;
    }
    if (reply.kind != CQ_PREFORK_STARTED) {
        close(fd); /* REFUSED: nothing ran */
        return -1;
    }
    child_pid = reply.value;
    if (pending_signal != 0)
        kill((pid_t)child_pid, pending_signal);
    if (read_reply(fd, &reply) != 0 || reply.kind != CQ_PREFORK_EXITED) {
        fprintf(stderr,
                "caqmail: the prefork server closed the connection while "
                "process %d ran; whether it finished is unknown\n",
                (int)child_pid);
        close(fd);
        return EXIT_SOFTWARE;
    }
    close(fd);
    return exit_like(reply.value);
}

/* Puts @name after the folder of @self (of length @dir) into @buf, and
 * tells whether that file is an executable. */
static int
try_beside(char *buf, size_t size, size_t dir, const char *name)
{
    if (dir + 1 + strlen(name) + 1 > size)
        return 0;
    buf[dir] = '/';
    strcpy(buf + dir + 1, name);
    return access(buf, X_OK) == 0;
}

/* caqmail-cli beside this executable (the build tree), else where the
 * installation puts it relative to this executable's folder (an install
 * moved as a whole, or into a staging folder), else where it is
 * installed. */
static const char *
full_program(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);

    if (n > 0) {
        buf[n] = '\0';
        char *slash = strrchr(buf, '/');
        if (slash != NULL) {
            size_t dir = (size_t)(slash - buf);
            if (try_beside(buf, size, dir, "caqmail-cli") ||
                try_beside(buf, size, dir, CAQMAIL_CLI_RELATIVE))
                return buf;
        }
    }
    return CAQMAIL_CLI_PATH;
}

int
main(int argc, char **argv)
{
    char path[PATH_MAX];

    if (cq_prefork_command(argc, argv) != NULL) {
        int code = hand_over(argc, argv);
        if (code >= 0)
            return code;
        stop_forwarding();
    }
    const char *program = full_program(path, sizeof path);
    execv(program, argv);
    fprintf(stderr, "caqmail: cannot run %s: %s\n", program, strerror(errno));
    return 127;
}
