#include "attach/runner.h"

#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ERR (64 * 1024)
#define GRACE_MS 3000      /* from SIGTERM to SIGKILL */
#define TICK_MS 50         /* polling when pidfd_open() is missing */
#define GROUP_GONE_MS 2000 /* how long killed processes may take to go */

void
cq_run_result_clear(CqRunResult *result)
{
    g_clear_pointer(&result->err, g_free);
}

static void
child_setup(gpointer user_data)
{
    setpgid(0, 0);
}

/* A descriptor that polls readable once @pid has ended; -1 on kernels
 * without pidfd_open(), where the wait falls back to short ticks. */
static int
open_pidfd(GPid pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    return -1;
#endif
}

/* TRUE once @pid has ended; its exit status stays to be reaped, so its
 * process id, which names the group, is not reused meanwhile. */
static gboolean
has_ended(GPid pid)
{
    siginfo_t info = {0};
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0)
        return errno != EINTR;
    return info.si_pid == pid;
}

static void
read_err(int *fd, GString *err)
{
    char buf[4096];
    ssize_t n = read(*fd, buf, sizeof buf);

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close(*fd);
        *fd = -1;
        return;
    }
    if (err->len < MAX_ERR)
        g_string_append_len(err, buf, MIN((gsize)n, MAX_ERR - err->len));
}

/* Collects standard error until @pid ends (TRUE) or @deadline passes. */
static gboolean
wait_until(GPid pid, int pidfd, int *err_fd, GString *err, gint64 deadline)
{
    while (!has_ended(pid)) {
        gint64 now = g_get_monotonic_time();
        if (now >= deadline)
            return FALSE;
        int wait_ms = (int)MIN((deadline - now + 999) / 1000, G_MAXINT);
        if (pidfd < 0)
            wait_ms = MIN(wait_ms, TICK_MS);

        struct pollfd fds[2];
        nfds_t n = 0;
        if (*err_fd >= 0)
            fds[n++] = (struct pollfd){.fd = *err_fd, .events = POLLIN};
        if (pidfd >= 0)
            fds[n++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
        if (poll(fds, n, wait_ms) > 0 && *err_fd >= 0 && fds[0].revents)
            read_err(err_fd, err);
    }
    return TRUE;
}

static void
drain_err(int *fd, GString *err)
{
    if (*fd < 0)
        return;
    fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK);
    while (*fd >= 0) {
        gsize before = err->len;
        read_err(fd, err);
        if (*fd >= 0 && err->len == before)
            break; /* nothing more to read now */
    }
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* TRUE while a process of group @pgid is running.  Killed processes
 * whose parent is gone wait as zombies until init collects them, which
 * may take a while; they hold nothing and are not counted.  Without /proc
 * every member counts. */
static gboolean
group_running(GPid pgid)
{
    if (kill(-pgid, 0) != 0)
        return FALSE;
    g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
    if (proc == NULL)
        return TRUE;
    const char *name;
    while ((name = g_dir_read_name(proc)) != NULL) {
        if (!g_ascii_isdigit(name[0]))
            continue;
        g_autofree char *path = g_build_filename("/proc", name, "stat", NULL);
        g_autofree char *stat = NULL;
        if (!g_file_get_contents(path, &stat, NULL, NULL))
            continue;
        /* "pid (name) state ppid pgrp ...": the name may hold anything. */
        const char *end = strrchr(stat, ')');
        char state = 0;
        long ppid = 0, pgrp = 0;
        if (end != NULL &&
            sscanf(end + 1, " %c %ld %ld", &state, &ppid, &pgrp) == 3 &&
            pgrp == pgid && state != 'Z' && state != 'X')
            return TRUE;
    }
    return FALSE;
}

/* Kills what is left of the group that @pid leads, reaps @pid and
 * waits, bounded, until no process of the group runs, so that none
 * outlives the call.  The kill comes while @pid is not reaped yet: the
 * group's id cannot have been reused by then. */
static void
end_group(GPid pid, int *status)
{
    kill(-pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    gint64 stop = g_get_monotonic_time() + GROUP_GONE_MS * 1000;
    while (group_running(pid) && g_get_monotonic_time() < stop)
        g_usleep(10 * 1000);
}

gboolean
cq_run_bounded(const char *const *argv, const char *const *envp,
               const char *cwd, gint64 timeout_ms, CqRunResult *result,
               GError **error)
{
    g_autoptr(GError) local = NULL;
    GPid pid = 0;
    int err_fd = -1;
    gint64 start = g_get_monotonic_time();

    memset(result, 0, sizeof *result);
    if (!g_spawn_async_with_pipes_and_fds(
            cwd, argv, envp,
            G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                G_SPAWN_STDIN_FROM_DEV_NULL | G_SPAWN_CLOEXEC_PIPES,
            child_setup, NULL, -1, -1, -1, NULL, NULL, 0, &pid, NULL, NULL,
            &err_fd, &local)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE,
                    "program '%s' could not be started: %s", argv[0],
                    local->message);
        return FALSE;
    }
    setpgid(pid, pid); /* also here: the group exists before any kill */
    int pidfd = open_pidfd(pid);
    g_autoptr(GString) err = g_string_new(NULL);

    if (!wait_until(pid, pidfd, &err_fd, err,
                    start + timeout_ms * G_TIME_SPAN_MILLISECOND)) {
        result->timed_out = TRUE;
        kill(-pid, SIGTERM);
        wait_until(pid, pidfd, &err_fd, err,
                   g_get_monotonic_time() + GRACE_MS * G_TIME_SPAN_MILLISECOND);
    }
    end_group(pid, &result->wait_status);
    drain_err(&err_fd, err);
    if (pidfd >= 0)
        close(pidfd);
    result->elapsed_ms = (g_get_monotonic_time() - start) / 1000;
    result->err = g_string_free(g_steal_pointer(&err), FALSE);
    return TRUE;
}
