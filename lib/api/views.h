/* Writing the JSON views of the public API (views.c, signin.c,
 * send-json.c). */
#ifndef CQ_API_VIEWS_H
#define CQ_API_VIEWS_H

#include <json-glib/json-glib.h>

/* A member "@name": @value, or null for NULL. */
void cq_view_string(JsonBuilder *b, const char *name, const char *value);
void cq_view_int(JsonBuilder *b, const char *name, gint64 value);
/* The text of @b's root; frees @b. */
char *cq_view_finish(JsonBuilder *b);

#endif
