/* Events: the library's only way to report what happens.
 *
 * The library never prints.  It describes each event as one line of
 * `event=NAME key=value ...` pairs and hands the line to a handler that a
 * front end installs (the command line writes it to standard error and to
 * the journal).  Without a handler, events are dropped.  Values with spaces,
 * quotes or control characters are quoted and escaped, so that one event is
 * always one line and a hostile value cannot forge another.
 *
 *     CqEvent *ev = cq_event_begin(CQ_LOG_INFO, "sent");
 *     cq_event_add(ev, "mail", id);
 *     cq_event_addf(ev, "size", "%zu", size);
 *     cq_event_end(ev);
 *
 * cq_event_begin() returns NULL when the level is filtered out; the other
 * calls accept NULL and do nothing, so a disabled event costs one test.
 */
#ifndef CQ_COMMON_EVENT_H
#define CQ_COMMON_EVENT_H

#include <glib.h>

typedef enum {
    CQ_LOG_ERROR,
    CQ_LOG_WARNING,
    CQ_LOG_NOTICE,
    CQ_LOG_INFO,
    CQ_LOG_DEBUG,
} CqLogLevel;

typedef void (*CqEventFunc)(CqLogLevel level, const char *line,
                            gpointer user_data);

typedef struct _CqEvent CqEvent;

/* Installs @func as the handler for events up to @max_level; NULL removes
 * it.  Not thread-safe against concurrent events: call it at start-up. */
void cq_event_set_handler(CqLogLevel max_level, CqEventFunc func,
                          gpointer user_data);
gboolean cq_event_enabled(CqLogLevel level);

CqEvent *cq_event_begin(CqLogLevel level, const char *name);
void cq_event_add(CqEvent *event, const char *key, const char *value);
void cq_event_addf(CqEvent *event, const char *key, const char *format, ...)
    G_GNUC_PRINTF(3, 4);
void cq_event_add_error(CqEvent *event, const GError *error);
/* Hands the line to the handler and frees @event. */
void cq_event_end(CqEvent *event);

/* Appends `key=value` to @line, quoting @value when needed. */
void cq_event_append_pair(GString *line, const char *key, const char *value);

const char *cq_log_level_name(CqLogLevel level);

#endif
