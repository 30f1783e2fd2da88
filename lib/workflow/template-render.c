/* The template renderer: a compiled template and a value tree to text. */
#include "workflow/template-private.h"

#include "common/error.h"

#include <string.h>

typedef struct {
    const CqTemplate *t;
    const CqValue *root;
    const CqValue *items[CQ_TEMPLATE_MAX_DEPTH]; /* current loop items */
    GString *out;
    GString *scratch; /* one value being formatted */
    guint64 steps;
    GError **error;
} Render;

static void
append_date(GString *buf, CqDay day, const char *language, FormatKind kind)
{
    CqDayForm form = kind == FORMAT_ISO    ? CQ_DAY_ISO
                     : kind == FORMAT_LONG ? CQ_DAY_LONG
                                           : CQ_DAY_SHORT;

    cq_day_append(buf, day, language, form);
}

static const CqValue *
lookup(const Render *r, const Ref *ref)
{
    const CqValue *value = ref->scope < 0 ? r->root : r->items[ref->scope];

    for (char **s = ref->segments; value != NULL && *s; s++)
        value = cq_value_get(value, *s);
    return value;
}

/* A caller that gives a value of another type than the schema declares
 * has a bug; say so instead of printing something odd. */
static gboolean
check_type(Render *r, const Node *node, const CqValue *value)
{
    static const CqValueType expected[] = {
        [CQ_VAR_TEXT] = CQ_VALUE_TEXT, [CQ_VAR_NUMBER] = CQ_VALUE_NUMBER,
        [CQ_VAR_FLAG] = CQ_VALUE_FLAG, [CQ_VAR_DATE] = CQ_VALUE_DATE,
        [CQ_VAR_LIST] = CQ_VALUE_LIST, [CQ_VAR_GROUP] = CQ_VALUE_GROUP,
    };

    if (value == NULL || value->type == expected[node->ref.type])
        return TRUE;
    g_set_error(r->error, CQ_ERROR, CQ_ERROR_FAILED,
                "template '%s' line %u: the value of '%s' has the wrong "
                "type for the %s schema",
                r->t->file, node->line, node->ref.name, r->t->schema->name);
    return FALSE;
}

static gboolean
truthy(const CqValue *value)
{
    if (value == NULL)
        return FALSE;
    switch (value->type) {
    case CQ_VALUE_TEXT:
        return value->v.text[0] != '\0';
    case CQ_VALUE_NUMBER:
        return value->v.number != 0;
    case CQ_VALUE_FLAG:
        return value->v.flag;
    case CQ_VALUE_LIST:
        return value->v.children->len > 0;
    case CQ_VALUE_DATE:
    case CQ_VALUE_GROUP:
        break;
    }
    return TRUE;
}

static void
append_plain(GString *buf, const CqValue *value, const char *language)
{
    if (value == NULL)
        return;
    if (value->type == CQ_VALUE_TEXT)
        g_string_append(buf, value->v.text);
    else if (value->type == CQ_VALUE_NUMBER)
        g_string_append_printf(buf, "%" G_GINT64_FORMAT, value->v.number);
    else if (value->type == CQ_VALUE_DATE)
        append_date(buf, value->v.day, language, FORMAT_SHORT);
}

static void
apply_format(GString *buf, const Format *format, const CqValue *value,
             const char *language)
{
    switch (format->kind) {
    case FORMAT_ISO:
    case FORMAT_LONG:
    case FORMAT_SHORT:
        if (value != NULL)
            append_date(buf, value->v.day, language, format->kind);
        break;
    case FORMAT_COUNT:
        g_string_append_printf(buf, "%u", value ? value->v.children->len : 0);
        break;
    case FORMAT_UPPER: {
        g_autofree char *up = g_utf8_strup(buf->str, buf->len);
        g_string_assign(buf, up);
        break;
    }
    case FORMAT_PAD:
        for (glong n = g_utf8_strlen(buf->str, buf->len); n < format->width;
             n++)
            g_string_append_c(buf, ' ');
        break;
    }
}

/* Formats the value of @node into r->scratch. */
static void
format_value(Render *r, const Node *node, const CqValue *value)
{
    GString *buf = r->scratch;
    guint first = 0;

    g_string_truncate(buf, 0);
    if (node->n_formats > 0 && node->formats[0].kind <= FORMAT_COUNT) {
        apply_format(buf, &node->formats[0], value, r->t->language);
        first = 1;
    } else {
        append_plain(buf, value, r->t->language);
    }
    for (guint i = first; i < node->n_formats; i++)
        apply_format(buf, &node->formats[i], value, r->t->language);
}

static void
append_html(GString *out, const char *s, gsize len)
{
    for (gsize i = 0; i < len; i++) {
        switch (s[i]) {
        case '&':
            g_string_append(out, "&amp;");
            break;
        case '<':
            g_string_append(out, "&lt;");
            break;
        case '>':
            g_string_append(out, "&gt;");
            break;
        case '"':
            g_string_append(out, "&quot;");
            break;
        case '\'':
            g_string_append(out, "&#39;");
            break;
        default:
            g_string_append_c(out, s[i]);
        }
    }
}

static gboolean
is_break(gunichar c)
{
    return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 ||
           c == 0x2029;
}

/* Control characters and line separators become one space per run. */
static void
append_flat(GString *out, const char *s, gsize len)
{
    const char *end = s + len;
    gboolean in_break = FALSE;

    for (const char *p = s; p < end; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (is_break(c)) {
            if (!in_break)
                g_string_append_c(out, ' ');
            in_break = TRUE;
            continue;
        }
        in_break = FALSE;
        g_string_append_len(out, p, g_utf8_next_char(p) - p);
    }
}

static gboolean
check_output(Render *r)
{
    if (r->out->len <= CQ_TEMPLATE_MAX_OUTPUT)
        return TRUE;
    g_set_error(r->error, CQ_ERROR, CQ_ERROR_TOO_LARGE,
                "template '%s': output larger than %d bytes", r->t->file,
                CQ_TEMPLATE_MAX_OUTPUT);
    return FALSE;
}

static gboolean
emit_value(Render *r, const Node *node)
{
    const CqValue *value = lookup(r, &node->ref);

    if (!check_type(r, node, value))
        return FALSE;
    format_value(r, node, value);
    const char *s = r->scratch->str;
    gsize len = r->scratch->len;
    if (!g_utf8_validate_len(s, len, NULL)) {
        g_set_error(r->error, CQ_ERROR, CQ_ERROR_INVALID,
                    "template '%s' line %u: the value of '%s' is not valid "
                    "UTF-8",
                    r->t->file, node->line, node->ref.name);
        return FALSE;
    }
    if (r->t->part == CQ_TEMPLATE_HTML)
        append_html(r->out, s, len);
    else if (r->t->part == CQ_TEMPLATE_SUBJECT)
        append_flat(r->out, s, len);
    else
        g_string_append_len(r->out, s, len);
    return check_output(r);
}

static gboolean render_nodes(Render *r, const GPtrArray *nodes);

static gboolean
render_each(Render *r, const Node *node)
{
    const CqValue *list = lookup(r, &node->ref);

    if (!check_type(r, node, list))
        return FALSE;
    if (list == NULL)
        return TRUE;
    for (guint i = 0; i < list->v.children->len; i++) {
        r->items[node->loop_level] = list->v.children->pdata[i];
        if (!render_nodes(r, node->body))
            return FALSE;
    }
    return TRUE;
}

static gboolean
count_step(Render *r)
{
    if (++r->steps <= CQ_TEMPLATE_MAX_STEPS)
        return TRUE;
    g_set_error(r->error, CQ_ERROR, CQ_ERROR_TOO_LARGE,
                "template '%s': rendering takes more than %d steps", r->t->file,
                CQ_TEMPLATE_MAX_STEPS);
    return FALSE;
}

static gboolean
render_node(Render *r, const Node *node)
{
    const CqValue *value = NULL;

    switch (node->kind) {
    case NODE_TEXT:
        g_string_append_len(r->out, node->text, node->length);
        return check_output(r);
    case NODE_VALUE:
        return emit_value(r, node);
    case NODE_IF:
        value = lookup(r, &node->ref);
        if (!check_type(r, node, value))
            return FALSE;
        return render_nodes(r, truthy(value) != node->negate ? node->body
                                                             : node->orelse);
    case NODE_EACH:
        return render_each(r, node);
    }
    return TRUE;
}

static gboolean
render_nodes(Render *r, const GPtrArray *nodes)
{
    for (guint i = 0; i < nodes->len; i++) {
        if (!count_step(r) || !render_node(r, nodes->pdata[i]))
            return FALSE;
    }
    return TRUE;
}

char *
cq_template_render(const CqTemplate *template, const CqValue *data,
                   GError **error)
{
    g_return_val_if_fail(template != NULL && data != NULL, NULL);
    Render r = {.t = template, .root = data, .error = error};

    r.out = g_string_new(NULL);
    r.scratch = g_string_new(NULL);
    gboolean ok = render_nodes(&r, template->nodes);
    g_string_free(r.scratch, TRUE);
    if (!ok) {
        g_string_free(r.out, TRUE);
        return NULL;
    }
    if (template->part == CQ_TEMPLATE_SUBJECT) {
        g_strstrip(r.out->str);
        r.out->len = strlen(r.out->str);
    }
    return g_string_free(r.out, FALSE);
}
