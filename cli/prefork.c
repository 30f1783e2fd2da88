/* What the front and the prefork server agree on; the C library only. */
#include "prefork.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
cq_prefork_socket_path(char *path, size_t size)
{
    const char *given = getenv("CAQMAIL_PREFORK_SOCKET");
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    int n;

    if (given != NULL)
        n = given[0] ? snprintf(path, size, "%s", given) : -1;
    else if (runtime != NULL && runtime[0] == '/')
        n = snprintf(path, size, "%s/caqmail/prefork.sock", runtime);
    else
        n = -1;
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* The global options that take a value (cli_global_options()). */
static int
takes_value(const char *option)
{
    return strcmp(option, "-c") == 0 || strcmp(option, "--config") == 0 ||
           strcmp(option, "--as") == 0;
}

const char *
cq_prefork_command(int argc, char *const *argv)
{
    const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
    const char *called = slash ? slash + 1 : argc > 0 ? argv[0] : "";

    if (strcmp(called, "sendmail") == 0)
        return "sendmail";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return NULL;
        if (argv[i][0] != '-') {
            if (strcmp(argv[i], "send") == 0)
                return "send";
            return strcmp(argv[i], "sendmail") == 0 ? "sendmail" : NULL;
        }
        if (takes_value(argv[i]))
            i++;
    }
    return NULL;
}
