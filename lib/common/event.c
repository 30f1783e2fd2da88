#include "common/event.h"

#include <stdarg.h>

struct _CqEvent {
    CqLogLevel level;
    GString *line;
};

static CqEventFunc handler;
static gpointer handler_data;
static CqLogLevel handler_level = CQ_LOG_ERROR;

void
cq_event_set_handler(CqLogLevel max_level, CqEventFunc func,
                     gpointer user_data)
{
    handler = func;
    handler_data = user_data;
    handler_level = max_level;
}

gboolean
cq_event_enabled(CqLogLevel level)
{
    return handler != NULL && level <= handler_level;
}

static gboolean
needs_quotes(const char *value)
{
    if (*value == '\0')
        return TRUE;
    for (const char *p = value; *p; p++) {
        guchar c = (guchar)*p;
        if (c <= ' ' || c == '"' || c == '\\' || c == '=' || c == 0x7f)
            return TRUE;
    }
    return FALSE;
}

static void
append_quoted(GString *line, const char *value)
{
    g_string_append_c(line, '"');
    for (const char *p = value; *p; p++) {
        guchar c = (guchar)*p;
        if (c == '"' || c == '\\')
            g_string_append_printf(line, "\\%c", c);
        else if (c == '\n')
            g_string_append(line, "\\n");
        else if (c == '\r')
            g_string_append(line, "\\r");
        else if (c < ' ' || c == 0x7f)
            g_string_append_printf(line, "\\x%02x", c);
        else
            g_string_append_c(line, (char)c);
    }
    g_string_append_c(line, '"');
}

void
cq_event_append_pair(GString *line, const char *key, const char *value)
{
    if (line->len > 0)
        g_string_append_c(line, ' ');
    g_string_append(line, key);
    g_string_append_c(line, '=');
    if (value == NULL)
        value = "";
    if (needs_quotes(value))
        append_quoted(line, value);
    else
        g_string_append(line, value);
}

CqEvent *
cq_event_begin(CqLogLevel level, const char *name)
{
    if (!cq_event_enabled(level))
        return NULL;

    CqEvent *event = g_new0(CqEvent, 1);
    event->level = level;
    event->line = g_string_sized_new(128);
    cq_event_append_pair(event->line, "event", name);
    return event;
}

void
cq_event_add(CqEvent *event, const char *key, const char *value)
{
    if (event == NULL || value == NULL)
        return;
    cq_event_append_pair(event->line, key, value);
}

void
cq_event_addf(CqEvent *event, const char *key, const char *format, ...)
{
    if (event == NULL)
        return;

    va_list args;
    va_start(args, format);
    g_autofree char *value = g_strdup_vprintf(format, args);
    va_end(args);
    cq_event_append_pair(event->line, key, value);
}

void
cq_event_add_error(CqEvent *event, const GError *error)
{
    if (error != NULL)
        cq_event_add(event, "error", error->message);
}

void
cq_event_end(CqEvent *event)
{
    if (event == NULL)
        return;
    if (handler != NULL)
        handler(event->level, event->line->str, handler_data);
    g_string_free(event->line, TRUE);
    g_free(event);
}

const char *
cq_log_level_name(CqLogLevel level)
{
    static const char *const names[] = {
        [CQ_LOG_ERROR] = "error",   [CQ_LOG_WARNING] = "warning",
        [CQ_LOG_NOTICE] = "notice", [CQ_LOG_INFO] = "info",
        [CQ_LOG_DEBUG] = "debug",
    };
    if ((guint)level < G_N_ELEMENTS(names))
        return names[level];
    return "unknown";
}
