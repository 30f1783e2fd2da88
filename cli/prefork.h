/* The prefork protocol, between the `caqmail` executable (front.c) and
 * `caqmail prefork` (cmd-prefork.c), over a Unix socket of one user.
 *
 * The prefork server is a caqmail process that has loaded the library
 * and waits.  For each command it is handed, it forks: the child becomes
 * that command, with the caller's arguments, environment, umask, working
 * directory and standard input, output and error, as if the caller had
 * started it, only without loading some thirty shared libraries first.
 *
 *   caller                                 server
 *   request + 4 descriptors (SCM_RIGHTS) ->
 *   arguments and environment            ->
 *                                        <- TAKEN
 *                                        <- STARTED, the child's pid
 *                                        <- EXITED, its wait status
 *
 * The descriptors are standard input, output, error and the working
 * directory (O_PATH).  A server that closes the connection before TAKEN,
 * or answers REFUSED after it, has run nothing: the caller then runs the
 * command itself.  Between TAKEN and STARTED the command may be starting,
 * so a connection that ends there leaves the caller not knowing whether
 * it ran; it says so and runs nothing (running it again could send the
 * mail twice).  Only the
 * commands that are started once per mail go this way (send, sendmail);
 * both ends check that.  Both ends also check that the other runs as the
 * same user.
 *
 * This file and prefork.c use only the C library: the front must not
 * load anything else.
 */
#ifndef CQ_CLI_PREFORK_H
#define CQ_CLI_PREFORK_H

#include <stddef.h>
#include <stdint.h>

#define CQ_PREFORK_MAGIC 0x46505143u /* "CQPF" */
#define CQ_PREFORK_VERSION 2u
/* Limits of a request: its strings, and how many there are. */
#define CQ_PREFORK_MAX_BYTES (1u << 20)
#define CQ_PREFORK_MAX_STRINGS 8192u

enum {
    CQ_PREFORK_FD_STDIN,
    CQ_PREFORK_FD_STDOUT,
    CQ_PREFORK_FD_STDERR,
    CQ_PREFORK_FD_CWD,
    CQ_PREFORK_N_FDS
};

typedef struct {
    uint32_t magic;
    uint32_t version;
    uint32_t umask;
    uint32_t argc;
    uint32_t envc;
    uint32_t bytes; /* of the strings that follow: argv, then environ,
                     * each ended by a NUL */
} CqPreforkRequest;

enum {
    CQ_PREFORK_STARTED = 1, /* value: the child's pid */
    CQ_PREFORK_EXITED = 2,  /* value: its status as waitpid() gives it */
    CQ_PREFORK_TAKEN = 3,   /* the server starts the command */
    CQ_PREFORK_REFUSED = 4, /* after TAKEN: it could not, nothing ran */
};

typedef struct {
    uint32_t kind;
    int32_t value;
} CqPreforkReply;

/* The socket both ends use when not told otherwise:
 * $CAQMAIL_PREFORK_SOCKET (empty: none), else
 * $XDG_RUNTIME_DIR/caqmail/prefork.sock.  Returns 0 and fills @path, or
 * -1 when there is none or it does not fit @size. */
int cq_prefork_socket_path(char *path, size_t size);

/* The command @argv runs when it may be handed to the server: "send" or
 * "sendmail" (after the global options, or the program called as
 * sendmail); NULL for every other. */
const char *cq_prefork_command(int argc, char *const *argv);

#endif
