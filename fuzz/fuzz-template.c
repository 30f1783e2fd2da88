/* libFuzzer target: the template compiler and renderer must never crash,
 * leak or run away, whatever the template; a rendered subject never holds
 * a line break, HTML output never holds markup that its template did not
 * write, and every message stays one line.
 *
 * The first byte chooses the mail kind, the part and the language; the
 * rest is the template. */
#include "workflow/mail-templates.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every value contains all that HTML escaping must catch, and every kind
 * of line break a subject must flatten. */
static const char hostile[] = "<b class=\"x\">Tom & 'Jerry'</b>\r\n"
                              "Zeile\u2028Ä\tEnde";

static void
set_leaf(CqValue *group, const char *key, CqVarType type)
{
    switch (type) {
    case CQ_VAR_TEXT:
        cq_value_set_text(group, key, hostile);
        break;
    case CQ_VAR_NUMBER:
        cq_value_set_number(group, key, -42);
        break;
    case CQ_VAR_FLAG:
        cq_value_set_flag(group, key, TRUE);
        break;
    case CQ_VAR_DATE:
        cq_value_set_date(group, key, cq_day_from_ymd(2026, 2, 28));
        break;
    case CQ_VAR_LIST:
    case CQ_VAR_GROUP:
        break;
    }
}

static CqVarType
schema_type(const CqTemplateSchema *schema, const char *path)
{
    for (gsize i = 0; i < schema->n_vars; i++) {
        if (strcmp(schema->vars[i].path, path) == 0)
            return schema->vars[i].type;
    }
    return CQ_VAR_GROUP;
}

/* Fills @group with every variable the schema has below @prefix; lists
 * get two items each. */
static void
fill(const CqTemplateSchema *schema, CqValue *group, const char *prefix)
{
    g_autoptr(GHashTable) seen =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    gsize n = strlen(prefix);

    for (gsize i = 0; i < schema->n_vars; i++) {
        const char *path = schema->vars[i].path;
        if (n > 0 && (strncmp(path, prefix, n) != 0 || path[n] != '.'))
            continue;
        const char *rest = n > 0 ? path + n + 1 : path;
        char *name = g_strndup(rest, strcspn(rest, "."));
        if (g_hash_table_contains(seen, name)) {
            g_free(name);
            continue;
        }
        g_hash_table_add(seen, name);
        g_autofree char *full =
            n > 0 ? g_strdup_printf("%s.%s", prefix, name) : g_strdup(name);
        CqVarType type = schema_type(schema, full);
        if (type == CQ_VAR_LIST) {
            CqValue *list = cq_value_set_list(group, name);
            for (int k = 0; k < 2; k++)
                fill(schema, cq_value_list_append(list), full);
        } else if (type == CQ_VAR_GROUP) {
            fill(schema, cq_value_set_group(group, name), full);
        } else {
            set_leaf(group, name, type);
        }
    }
}

static CqValue *
full_values(const CqTemplateSchema *schema)
{
    CqValue *root = cq_value_new();

    fill(schema, root, "");
    return root;
}

static void
check_output(const char *out, CqTemplatePart part, const char *source,
             gsize len)
{
    if (strlen(out) > CQ_TEMPLATE_MAX_OUTPUT || !g_utf8_validate(out, -1, NULL))
        __builtin_trap();
    if (part == CQ_TEMPLATE_SUBJECT && strpbrk(out, "\r\n") != NULL)
        __builtin_trap();
    if (part != CQ_TEMPLATE_HTML)
        return;
    for (const char *c = "<>\"'"; *c; c++) {
        if (memchr(source, *c, len) == NULL && strchr(out, *c) != NULL)
            __builtin_trap();
    }
}

static void
render(const CqTemplate *t, const CqValue *values, CqTemplatePart part,
       const char *source, gsize len)
{
    GError *error = NULL;
    char *out = cq_template_render(t, values, &error);

    if (out != NULL)
        check_output(out, part, source, len);
    else if (error == NULL || strchr(error->message, '\n') != NULL)
        __builtin_trap();
    g_free(out);
    g_clear_error(&error);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const CqTemplatePart parts[] = {CQ_TEMPLATE_SUBJECT,
                                           CQ_TEMPLATE_TEXT, CQ_TEMPLATE_HTML};
    GError *error = NULL;

    if (size < 1)
        return 0;
    CqMailKind kind = (CqMailKind)(data[0] % 3);
    CqTemplatePart part = parts[(data[0] / 3) % 3];
    const char *language = (data[0] / 9) % 2 ? "en" : "de";
    const char *source = (const char *)data + 1;
    gsize len = size - 1;
    const CqTemplateSchema *schema = cq_mail_kind_schema(kind);

    CqTemplate *t = cq_template_compile("fuzz", source, (gssize)len, part,
                                        language, schema, &error);
    if (t == NULL) {
        if (error == NULL || strchr(error->message, '\n') != NULL)
            __builtin_trap();
        g_clear_error(&error);
        return 0;
    }
    CqValue *values = full_values(schema);
    CqValue *empty = cq_value_new();
    render(t, values, part, source, len);
    render(t, empty, part, source, len);
    cq_value_free(values);
    cq_value_free(empty);
    cq_template_free(t);
    return 0;
}
