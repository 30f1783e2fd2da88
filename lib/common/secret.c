#include "common/secret.h"

#include "common/error.h"

#include <string.h>

void
cq_secret_free(char *secret)
{
    if (secret == NULL)
        return;
    explicit_bzero(secret, strlen(secret));
    g_free(secret);
}

static void
strip_line_end(char *text)
{
    gsize len = strlen(text);
    if (len > 0 && text[len - 1] == '\n')
        text[--len] = '\0';
    if (len > 0 && text[len - 1] == '\r')
        text[--len] = '\0';
}

char *
cq_secret_run_command(const char *what, const char *command_line,
                      GError **error)
{
    g_auto(GStrv) argv = NULL;
    g_autoptr(GError) local = NULL;
    char *out = NULL;
    g_autofree char *err = NULL;
    int status = 0;

    if (!g_shell_parse_argv(command_line, NULL, &argv, &local)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                    "%s command '%s': %s", what, command_line,
                    local->message);
        return NULL;
    }
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                      &out, &err, &status, &local)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE,
                    "%s command '%s': %s", what, argv[0], local->message);
        return NULL;
    }
    if (!g_spawn_check_wait_status(status, &local)) {
        g_strchomp(err);
        g_set_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL,
                    "%s command '%s' failed: %s%s%s", what, argv[0],
                    local->message, *err ? ": " : "", err);
        cq_secret_free(out);
        return NULL;
    }
    char *nl = strchr(out, '\n');
    if (nl != NULL && nl[1] != '\0')
        nl[1] = '\0'; /* only the first line counts */
    strip_line_end(out);
    if (*out == '\0') {
        g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                    "%s command '%s' printed nothing", what, argv[0]);
        g_free(out);
        return NULL;
    }
    return out;
}

char *
cq_secret_fetch(const char *what, const char *command, const char *env_name,
                const char *inline_value, GError **error)
{
    if (command != NULL && *command != '\0')
        return cq_secret_run_command(what, command, error);

    if (env_name != NULL && *env_name != '\0') {
        const char *value = g_getenv(env_name);
        if (value == NULL || *value == '\0') {
            g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                        "%s: environment variable '%s' is not set", what,
                        env_name);
            return NULL;
        }
        return g_strdup(value);
    }
    if (inline_value != NULL && *inline_value != '\0')
        return g_strdup(inline_value);
    return NULL;
}
