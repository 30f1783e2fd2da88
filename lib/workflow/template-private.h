/* Internals shared by the template compiler and renderer. */
#ifndef CQ_WORKFLOW_TEMPLATE_PRIVATE_H
#define CQ_WORKFLOW_TEMPLATE_PRIVATE_H

#include "workflow/template.h"

#define CQ_TEMPLATE_MAX_SEGMENTS 8
#define CQ_TEMPLATE_MAX_NAME 64
#define CQ_TEMPLATE_MAX_FORMATS 4
#define CQ_TEMPLATE_MAX_PAD 200

struct _CqValue {
    CqValueType type;
    char *key; /* NULL for the root and for list items */
    union {
        char *text;
        gint64 number;
        gboolean flag;
        CqDay day;
        GPtrArray *children; /* group and list: owned CqValue */
    } v;
};

typedef enum {
    NODE_TEXT,
    NODE_VALUE,
    NODE_IF,
    NODE_EACH,
} NodeKind;

typedef enum {
    FORMAT_ISO,
    FORMAT_LONG,
    FORMAT_COUNT,
    FORMAT_UPPER,
    FORMAT_PAD,
    FORMAT_SHORT, /* a date without formatter; not written in templates */
} FormatKind;

typedef struct {
    FormatKind kind;
    guint width; /* for FORMAT_PAD */
} Format;

/* A resolved variable: where its path starts and the keys below that. */
typedef struct {
    int scope;       /* -1: the root; else the loop level whose item */
    char **segments; /* keys below the start, NULL-terminated */
    CqVarType type;  /* what the schema declares */
    char *name;      /* as written, for messages */
} Ref;

typedef struct _Node Node;
struct _Node {
    NodeKind kind;
    guint line;
    char *text; /* NODE_TEXT */
    gsize length;
    Ref ref; /* NODE_VALUE, NODE_IF, NODE_EACH */
    Format formats[CQ_TEMPLATE_MAX_FORMATS];
    guint n_formats;
    gboolean negate;   /* NODE_IF */
    int loop_level;    /* NODE_EACH: 0 for the outermost loop */
    GPtrArray *body;   /* NODE_IF (then), NODE_EACH: owned Node */
    GPtrArray *orelse; /* NODE_IF */
};

struct _CqTemplate {
    char *file;
    char *language;
    CqTemplatePart part;
    const CqTemplateSchema *schema;
    GPtrArray *nodes; /* owned Node */
};

void cq_template_node_free(gpointer node);

#endif
