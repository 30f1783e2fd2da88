/* Runs a helper program (LibreOffice) under a time limit.
 *
 * The program is started with g_spawn from an argv, never through a
 * shell, with standard input and output on /dev/null, in a process group
 * of its own.  Its standard error is collected (the first 64 KiB).  When
 * the time limit is reached the whole group gets SIGTERM and, after a
 * grace period, SIGKILL; a program that ends by itself has every process
 * it left in its group killed too, so nothing it started outlives the
 * call.
 */
#ifndef CQ_ATTACH_RUNNER_H
#define CQ_ATTACH_RUNNER_H

#include <glib.h>

typedef struct {
    int wait_status;    /* as from waitpid() */
    gboolean timed_out; /* the limit was reached and the group killed */
    gint64 elapsed_ms;
    char *err; /* what it wrote to standard error, owned */
} CqRunResult;

void cq_run_result_clear(CqRunResult *result);

/* Runs @argv (argv[0] a path) in @cwd with environment @envp (NULL: this
 * process's) for at most @timeout_ms.  FALSE only when the program could
 * not be started (CQ_ERROR_UNAVAILABLE); how it ended is in @result. */
gboolean cq_run_bounded(const char *const *argv, const char *const *envp,
                        const char *cwd, gint64 timeout_ms, CqRunResult *result,
                        GError **error);

#endif
