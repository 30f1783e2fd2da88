/* The template compiler: source text to a checked tree of nodes. */
#include "workflow/template-private.h"

#include "common/error.h"
#include "common/text.h"

#include <stdarg.h>
#include <string.h>

typedef struct {
    Node *node;      /* the open block; NULL for the root */
    GPtrArray *into; /* where new nodes go */
    char *alias;     /* NODE_EACH: the loop name */
    char *list_path; /* NODE_EACH: the schema path of its list */
    int loop_level;  /* NODE_EACH: 0 for the outermost loop */
    gboolean in_else;
} Block;

typedef struct {
    CqTemplate *t;
    const char *src;
    gsize len;
    gsize pos;
    guint line;
    gsize text_start; /* first byte after the previous tag */
    GString *pending; /* text not yet made a node */
    Block blocks[CQ_TEMPLATE_MAX_DEPTH + 1];
    guint depth; /* blocks[0] is the root */
    int loops;   /* open #each blocks */
    GError **error;
} Parser;

static gboolean G_GNUC_PRINTF(3, 4)
    fail(Parser *p, guint line, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    g_autofree char *what = g_strdup_vprintf(format, args);
    va_end(args);
    g_set_error(p->error, CQ_ERROR, CQ_ERROR_CONFIG,
                "template '%s' line %u: %s", p->t->file, line, what);
    return FALSE;
}

static void
ref_clear(Ref *ref)
{
    g_strfreev(ref->segments);
    g_free(ref->name);
}

void
cq_template_node_free(gpointer data)
{
    Node *node = data;

    if (node == NULL)
        return;
    g_free(node->text);
    ref_clear(&node->ref);
    g_clear_pointer(&node->body, g_ptr_array_unref);
    g_clear_pointer(&node->orelse, g_ptr_array_unref);
    g_free(node);
}

static GPtrArray *
node_list_new(void)
{
    return g_ptr_array_new_with_free_func(cq_template_node_free);
}

static Node *
node_add(Parser *p, NodeKind kind, guint line)
{
    Node *node = g_new0(Node, 1);

    node->kind = kind;
    node->line = line;
    g_ptr_array_add(p->blocks[p->depth].into, node);
    return node;
}

static void
flush_text(Parser *p)
{
    if (p->pending->len == 0)
        return;
    Node *node = node_add(p, NODE_TEXT, p->line);
    node->length = p->pending->len;
    node->text = g_strndup(p->pending->str, p->pending->len);
    g_string_truncate(p->pending, 0);
}

/* ---- The schema ---- */

static const CqTemplateVar *
schema_find(const CqTemplateSchema *schema, const char *path)
{
    for (gsize i = 0; i < schema->n_vars; i++) {
        if (strcmp(schema->vars[i].path, path) == 0)
            return &schema->vars[i];
    }
    return NULL;
}

static gboolean
schema_has_below(const CqTemplateSchema *schema, const char *path)
{
    gsize n = strlen(path);

    for (gsize i = 0; i < schema->n_vars; i++) {
        const char *var = schema->vars[i].path;
        if (strncmp(var, path, n) == 0 && var[n] == '.')
            return TRUE;
    }
    return FALSE;
}

/* TRUE when @name is the first part of a path in the schema, so that a
 * loop name equal to it would hide a variable. */
static gboolean
schema_has_root(const CqTemplateSchema *schema, const char *name)
{
    gsize n = strlen(name);

    for (gsize i = 0; i < schema->n_vars; i++) {
        const char *var = schema->vars[i].path;
        if (strncmp(var, name, n) == 0 && (var[n] == '.' || var[n] == '\0'))
            return TRUE;
    }
    return FALSE;
}

/* ---- Names and paths ---- */

static gboolean
is_identifier(const char *s)
{
    if (!g_ascii_isalpha(*s) && *s != '_')
        return FALSE;
    gsize n = 0;
    for (; *s; s++, n++) {
        if (!g_ascii_isalnum(*s) && *s != '_')
            return FALSE;
    }
    return n <= CQ_TEMPLATE_MAX_NAME;
}

static const Block *
find_loop(const Parser *p, const char *name)
{
    for (guint b = p->depth; b >= 1; b--) {
        if (p->blocks[b].alias && strcmp(p->blocks[b].alias, name) == 0)
            return &p->blocks[b];
    }
    return NULL;
}

/* Looks up the schema path @full, made of @base (a list, or NULL) and
 * @segs.  A list on the way means an item field outside its loop. */
static gboolean
resolve_type(Parser *p, guint line, const char *base, char **segs,
             const char *name, CqVarType *type)
{
    GString *path = g_string_new(base);

    for (guint i = 0; segs[i]; i++) {
        if (path->len > 0)
            g_string_append_c(path, '.');
        g_string_append(path, segs[i]);
        const CqTemplateVar *var = schema_find(p->t->schema, path->str);
        if (var != NULL && var->type == CQ_VAR_LIST && segs[i + 1]) {
            g_string_free(path, TRUE);
            return fail(p, line,
                        "'%s' is a list: use its items inside "
                        "{{#each %s as NAME}}",
                        name, segs[0]);
        }
        if (segs[i + 1] == NULL && var != NULL) {
            *type = var->type;
        } else if (segs[i + 1] == NULL &&
                   schema_has_below(p->t->schema, path->str)) {
            *type = CQ_VAR_GROUP;
        } else if (segs[i + 1] == NULL) {
            g_string_free(path, TRUE);
            return fail(p, line, "unknown variable '%s' (%s mail)", name,
                        p->t->schema->name);
        }
    }
    g_string_free(path, TRUE);
    return TRUE;
}

static gboolean
check_path_syntax(Parser *p, guint line, const char *text, char **segs)
{
    guint n = g_strv_length(segs);

    if (n == 0 || n > CQ_TEMPLATE_MAX_SEGMENTS)
        return fail(p, line, "'%s' is not a variable name", text);
    for (guint i = 0; i < n; i++) {
        if (!is_identifier(segs[i]))
            return fail(p, line, "'%s' is not a variable name", text);
    }
    return TRUE;
}

/* Resolves @text ("m.title") into @ref: where it starts (the root or the
 * item of a loop) and which schema type it has. */
static gboolean
resolve(Parser *p, guint line, const char *text, Ref *ref)
{
    g_auto(GStrv) segs = g_strsplit(text, ".", CQ_TEMPLATE_MAX_SEGMENTS + 2);

    if (!check_path_syntax(p, line, text, segs))
        return FALSE;
    ref->name = g_strdup(text);
    const Block *loop = find_loop(p, segs[0]);
    if (loop == NULL) {
        ref->scope = -1;
        ref->segments = g_strdupv(segs);
        return resolve_type(p, line, NULL, segs, text, &ref->type);
    }
    ref->scope = loop->loop_level;
    ref->segments = g_strdupv(segs + 1);
    if (segs[1] == NULL) {
        ref->type = CQ_VAR_GROUP;
        return TRUE;
    }
    return resolve_type(p, line, loop->list_path, segs + 1, text, &ref->type);
}

/* The schema path that @ref names, for loops over lists in lists. */
static char *
ref_schema_path(const Parser *p, const Ref *ref)
{
    g_autofree char *below = g_strjoinv(".", ref->segments);

    if (ref->scope < 0)
        return g_steal_pointer(&below);
    for (guint b = 1; b <= p->depth; b++) {
        const Block *block = &p->blocks[b];
        if (block->alias && block->loop_level == ref->scope)
            return g_strconcat(block->list_path, ".", below, NULL);
    }
    g_assert_not_reached();
}

/* ---- Value tags: {{path|format|format}} ---- */

static gboolean
parse_format(Parser *p, guint line, const char *text, Format *format)
{
    static const struct {
        const char *name;
        FormatKind kind;
    } names[] = {
        {"iso", FORMAT_ISO},
        {"long", FORMAT_LONG},
        {"count", FORMAT_COUNT},
        {"upper", FORMAT_UPPER},
    };
    guint64 width = 0;

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        if (strcmp(text, names[i].name) == 0) {
            format->kind = names[i].kind;
            return TRUE;
        }
    }
    if (g_str_has_prefix(text, "pad:") &&
        g_ascii_string_to_unsigned(text + 4, 10, 1, CQ_TEMPLATE_MAX_PAD, &width,
                                   NULL)) {
        format->kind = FORMAT_PAD;
        format->width = (guint)width;
        return TRUE;
    }
    g_autofree char *shown = cq_text_printable(text);
    return fail(p, line,
                "unknown formatter '%s' (iso, long, count, upper, pad:N)",
                shown);
}

/* Follows the type of the value through its formatters; what comes out
 * must be printable. */
static gboolean
check_formats(Parser *p, const Node *node)
{
    static const char *const type_names[] = {
        "a text", "a number", "a flag", "a date", "a list", "a group",
    };
    CqVarType type = node->ref.type;
    const char *name = node->ref.name;

    for (guint i = 0; i < node->n_formats; i++) {
        FormatKind kind = node->formats[i].kind;
        if ((kind == FORMAT_ISO || kind == FORMAT_LONG) && type != CQ_VAR_DATE)
            return fail(p, node->line, "'%s': date formatter on %s", name,
                        type_names[type]);
        if (kind == FORMAT_COUNT && type != CQ_VAR_LIST)
            return fail(p, node->line, "'%s': 'count' needs a list, not %s",
                        name, type_names[type]);
        if (type == CQ_VAR_FLAG || type == CQ_VAR_GROUP ||
            (type == CQ_VAR_LIST && kind != FORMAT_COUNT))
            break;
        type = kind == FORMAT_COUNT ? CQ_VAR_NUMBER : CQ_VAR_TEXT;
    }
    if (type == CQ_VAR_FLAG)
        return fail(p, node->line, "'%s' is a flag: test it with {{#if}}",
                    name);
    if (type == CQ_VAR_LIST)
        return fail(p, node->line, "'%s' is a list: use {{#each}} or '|count'",
                    name);
    if (type == CQ_VAR_GROUP)
        return fail(p, node->line, "'%s' is a group of values, not a value",
                    name);
    return TRUE;
}

static gboolean
parse_value(Parser *p, guint line, const char *content)
{
    g_auto(GStrv) parts = g_strsplit(content, "|", CQ_TEMPLATE_MAX_FORMATS + 2);
    guint n = g_strv_length(parts);

    if (n > CQ_TEMPLATE_MAX_FORMATS + 1)
        return fail(p, line, "more than %d formatters",
                    CQ_TEMPLATE_MAX_FORMATS);
    for (guint i = 0; i < n; i++)
        g_strstrip(parts[i]);
    flush_text(p);
    Node *node = node_add(p, NODE_VALUE, line);
    if (!resolve(p, line, parts[0], &node->ref))
        return FALSE;
    for (guint i = 1; i < n; i++) {
        if (!parse_format(p, line, parts[i], &node->formats[i - 1]))
            return FALSE;
        node->n_formats++;
    }
    return check_formats(p, node);
}

/* ---- Block tags ---- */

static gboolean
push_block(Parser *p, guint line, Node *node)
{
    if (p->depth >= CQ_TEMPLATE_MAX_DEPTH)
        return fail(p, line, "blocks nested deeper than %d",
                    CQ_TEMPLATE_MAX_DEPTH);
    node->body = node_list_new();
    if (node->kind == NODE_IF)
        node->orelse = node_list_new();
    p->depth++;
    p->blocks[p->depth] = (Block){.node = node, .into = node->body};
    return TRUE;
}

static gboolean
parse_if(Parser *p, guint line, char **words)
{
    if (words[1] == NULL || words[2] != NULL)
        return fail(p, line, "write {{#if NAME}} or {{#if !NAME}}");
    Node *node = node_add(p, NODE_IF, line);
    const char *path = words[1];
    if (*path == '!') {
        node->negate = TRUE;
        path++;
    }
    if (!resolve(p, line, path, &node->ref))
        return FALSE;
    return push_block(p, line, node);
}

static gboolean
parse_each(Parser *p, guint line, char **words)
{
    if (g_strv_length(words) != 4 || strcmp(words[2], "as") != 0)
        return fail(p, line, "write {{#each LIST as NAME}}");
    const char *alias = words[3];
    if (!is_identifier(alias))
        return fail(p, line, "'%s' is not a loop name", alias);
    if (find_loop(p, alias) || schema_has_root(p->t->schema, alias))
        return fail(p, line, "loop name '%s' hides another variable", alias);

    Node *node = node_add(p, NODE_EACH, line);
    if (!resolve(p, line, words[1], &node->ref))
        return FALSE;
    if (node->ref.type != CQ_VAR_LIST)
        return fail(p, line, "'%s' is not a list", words[1]);
    g_autofree char *list_path = ref_schema_path(p, &node->ref);
    if (!push_block(p, line, node))
        return FALSE;
    Block *block = &p->blocks[p->depth];
    block->alias = g_strdup(alias);
    block->list_path = g_steal_pointer(&list_path);
    block->loop_level = p->loops++;
    node->loop_level = block->loop_level;
    return TRUE;
}

static gboolean
parse_else(Parser *p, guint line, char **words)
{
    Block *block = &p->blocks[p->depth];

    if (words[1] != NULL)
        return fail(p, line, "{{#else}} takes nothing");
    if (block->node == NULL || block->node->kind != NODE_IF || block->in_else)
        return fail(p, line, "{{#else}} outside {{#if}}");
    block->in_else = TRUE;
    block->into = block->node->orelse;
    return TRUE;
}

static gboolean
parse_close(Parser *p, guint line, char **words)
{
    Block *block = &p->blocks[p->depth];
    NodeKind kind = strcmp(words[0], "/if") == 0 ? NODE_IF : NODE_EACH;

    if (words[1] != NULL)
        return fail(p, line, "{{%s}} takes nothing", words[0]);
    if (block->node == NULL || block->node->kind != kind)
        return fail(p, line, "{{%s}} without its opening tag", words[0]);
    if (kind == NODE_EACH)
        p->loops--;
    g_free(block->alias);
    g_free(block->list_path);
    *block = (Block){0};
    p->depth--;
    return TRUE;
}

static gboolean
parse_block(Parser *p, guint line, const char *content)
{
    g_auto(GStrv) all = g_strsplit_set(content, " \t", -1);
    g_autoptr(GPtrArray) words = g_ptr_array_new();

    for (guint i = 0; all[i]; i++) {
        if (*all[i] != '\0')
            g_ptr_array_add(words, all[i]);
    }
    g_ptr_array_add(words, NULL);
    char **w = (char **)words->pdata;
    flush_text(p);
    if (strcmp(w[0], "#if") == 0)
        return parse_if(p, line, w);
    if (strcmp(w[0], "#each") == 0)
        return parse_each(p, line, w);
    if (strcmp(w[0], "#else") == 0)
        return parse_else(p, line, w);
    if (strcmp(w[0], "/if") == 0 || strcmp(w[0], "/each") == 0)
        return parse_close(p, line, w);
    g_autofree char *shown = cq_text_printable(w[0]);
    return fail(p, line, "unknown block '{{%s}}'", shown);
}

/* ---- Tags and text ---- */

/* A block tag or comment alone on its line takes the line with it: the
 * indentation before it and the spaces and line break after it. */
static void
take_standalone_line(Parser *p, gsize start, gsize end)
{
    const char *s = p->src;
    gsize i = start, j = end;

    while (i > p->text_start && (s[i - 1] == ' ' || s[i - 1] == '\t'))
        i--;
    if (i > 0 && s[i - 1] != '\n')
        return;
    while (j < p->len && (s[j] == ' ' || s[j] == '\t'))
        j++;
    if (j + 1 < p->len && s[j] == '\r' && s[j + 1] == '\n')
        j += 2;
    else if (j < p->len && s[j] == '\n')
        j++;
    else if (j < p->len)
        return;
    g_string_truncate(p->pending, p->pending->len - (start - i));
    if (j > end && s[j - 1] == '\n')
        p->line++;
    p->pos = j;
}

static gboolean
parse_literal(Parser *p, guint line, gsize q)
{
    const char *s = p->src;
    gsize end = q + 1;

    while (end < p->len && s[end] != '"' && s[end] != '\n')
        end++;
    gsize close = end + 1;
    while (close < p->len && (s[close] == ' ' || s[close] == '\t'))
        close++;
    if (end >= p->len || s[end] != '"' || close + 1 >= p->len ||
        s[close] != '}' || s[close + 1] != '}')
        return fail(p, line, "unclosed literal: write {{\"text\"}}");
    g_string_append_len(p->pending, s + q + 1, end - q - 1);
    p->pos = close + 2;
    return TRUE;
}

static gboolean
parse_tag(Parser *p, gsize start)
{
    const char *s = p->src;
    guint line = p->line;
    gsize q = start + 2;

    while (q < p->len && (s[q] == ' ' || s[q] == '\t'))
        q++;
    if (q < p->len && s[q] == '"')
        return parse_literal(p, line, q);

    gsize close = q;
    while (close + 1 < p->len && s[close] != '\n' &&
           !(s[close] == '}' && s[close + 1] == '}'))
        close++;
    if (close + 1 >= p->len || s[close] == '\n')
        return fail(p, line, "'{{' without '}}' on the same line");
    g_autofree char *content = g_strndup(s + q, close - q);
    g_strchomp(content);
    p->pos = close + 2;
    if (*content == '\0')
        return fail(p, line, "empty tag '{{}}'");
    if (*content == '!' || *content == '#' || *content == '/')
        take_standalone_line(p, start, close + 2);
    if (*content == '!')
        return TRUE;
    if (*content == '#' || *content == '/')
        return parse_block(p, line, content);
    return parse_value(p, line, content);
}

static void
take_text(Parser *p, gsize end)
{
    for (gsize i = p->pos; i < end; i++) {
        if (p->src[i] == '\n')
            p->line++;
    }
    g_string_append_len(p->pending, p->src + p->pos, end - p->pos);
    p->pos = end;
}

static gboolean
parse_all(Parser *p)
{
    while (p->pos < p->len) {
        const char *open = g_strstr_len(p->src + p->pos, p->len - p->pos, "{{");
        if (open == NULL) {
            take_text(p, p->len);
            break;
        }
        take_text(p, open - p->src);
        if (!parse_tag(p, open - p->src))
            return FALSE;
        p->text_start = p->pos;
    }
    flush_text(p);
    if (p->depth > 0) {
        Node *open = p->blocks[p->depth].node;
        return fail(p, open->line, "{{%s}} is not closed",
                    open->kind == NODE_IF ? "#if" : "#each");
    }
    return TRUE;
}

/* ---- The source as a whole ---- */

static gboolean
check_source(Parser *p)
{
    const char *end = NULL;

    if (p->len > CQ_TEMPLATE_MAX_SOURCE) {
        g_set_error(p->error, CQ_ERROR, CQ_ERROR_TOO_LARGE,
                    "template '%s': larger than %d bytes", p->t->file,
                    CQ_TEMPLATE_MAX_SOURCE);
        return FALSE;
    }
    guint line = 1;
    for (gsize i = 0; i < p->len; i++) {
        guchar c = (guchar)p->src[i];
        if (c == '\n')
            line++;
        if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f)
            return fail(p, line, "control character 0x%02x", c);
        if ((c == '\n' || c == '\r') && p->t->part == CQ_TEMPLATE_SUBJECT)
            return fail(p, line, "a subject is one line");
    }
    if (!g_utf8_validate_len(p->src, p->len, &end))
        return fail(p, 1, "not valid UTF-8 at byte %ld", (long)(end - p->src));
    return TRUE;
}

static void
parser_clear(Parser *p)
{
    for (guint b = 1; b <= p->depth; b++) {
        g_free(p->blocks[b].alias);
        g_free(p->blocks[b].list_path);
    }
    g_string_free(p->pending, TRUE);
}

CqTemplate *
cq_template_compile(const char *file, const char *source, gssize length,
                    CqTemplatePart part, const char *language,
                    const CqTemplateSchema *schema, GError **error)
{
    g_return_val_if_fail(source != NULL && schema != NULL, NULL);
    gsize len = length < 0 ? strlen(source) : (gsize)length;
    g_autoptr(CqTemplate) t = g_new0(CqTemplate, 1);
    Parser p = {.t = t, .src = source, .len = len, .line = 1, .error = error};

    t->file = g_strdup(file ? file : "(string)");
    t->language = g_strdup(language ? language : "en");
    t->part = part;
    t->schema = schema;
    t->nodes = node_list_new();
    if (part == CQ_TEMPLATE_SUBJECT) {
        while (p.len > 0 && g_ascii_isspace(source[p.len - 1]))
            p.len--;
    }
    p.pending = g_string_new(NULL);
    p.blocks[0].into = t->nodes;
    gboolean ok = check_source(&p) && parse_all(&p);
    parser_clear(&p);
    return ok ? g_steal_pointer(&t) : NULL;
}

void
cq_template_free(CqTemplate *template)
{
    if (template == NULL)
        return;
    g_clear_pointer(&template->nodes, g_ptr_array_unref);
    g_free(template->file);
    g_free(template->language);
    g_free(template);
}

const char *
cq_template_file(const CqTemplate *template)
{
    return template->file;
}
