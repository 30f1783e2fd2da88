/* The template engine: syntax, checks against the schema, escaping, limits,
 * and the built-in and overriding template sets of the automatic mails. */
#include "common/error.h"
#include "workflow/mail-templates.h"
#include "workflow/template.h"

#include <glib/gstdio.h>
#include <string.h>

/* ---- A schema and values of the tests' own ---- */

static const CqTemplateVar test_vars[] = {
    {"name", CQ_VAR_TEXT},
    {"empty", CQ_VAR_TEXT},
    {"missing", CQ_VAR_TEXT},
    {"danger", CQ_VAR_TEXT},
    {"multi", CQ_VAR_TEXT},
    {"count", CQ_VAR_NUMBER},
    {"zero", CQ_VAR_NUMBER},
    {"flag", CQ_VAR_FLAG},
    {"off", CQ_VAR_FLAG},
    {"due", CQ_VAR_DATE},
    {"user.name", CQ_VAR_TEXT},
    {"user.address.city", CQ_VAR_TEXT},
    {"items", CQ_VAR_LIST},
    {"items.name", CQ_VAR_TEXT},
    {"items.qty", CQ_VAR_NUMBER},
    {"items.tags", CQ_VAR_LIST},
    {"items.tags.label", CQ_VAR_TEXT},
    {"none", CQ_VAR_LIST},
    {"none.name", CQ_VAR_TEXT},
};
static const CqTemplateSchema test_schema = {"test", test_vars,
                                             G_N_ELEMENTS(test_vars)};

static CqValue *
test_data(void)
{
    CqValue *root = cq_value_new();

    cq_value_set_text(root, "name", "Jürgen Müller");
    cq_value_set_text(root, "empty", "");
    cq_value_set_text(root, "danger", "<b>\"Tom\" & 'Jerry'</b>");
    cq_value_set_text(root, "multi", "Zeile 1\r\nZeile 2\t\tEnde");
    cq_value_set_number(root, "count", 42);
    cq_value_set_number(root, "zero", 0);
    cq_value_set_flag(root, "flag", TRUE);
    cq_value_set_flag(root, "off", FALSE);
    cq_value_set_date(root, "due", cq_day_from_ymd(2026, 3, 5));
    CqValue *user = cq_value_set_group(root, "user");
    cq_value_set_text(user, "name", "Änne");
    CqValue *address = cq_value_set_group(user, "address");
    cq_value_set_text(address, "city", "Köln");
    CqValue *items = cq_value_set_list(root, "items");
    static const char *const names[] = {"Messschieber", "Bügelmessschraube",
                                        "Lehrdorn"};
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        CqValue *item = cq_value_list_append(items);
        cq_value_set_text(item, "name", names[i]);
        cq_value_set_number(item, "qty", i + 1);
        CqValue *tags = cq_value_set_list(item, "tags");
        for (guint t = 0; t < i; t++) {
            CqValue *tag = cq_value_list_append(tags);
            g_autofree char *label = g_strdup_printf("t%u", t);
            cq_value_set_text(tag, "label", label);
        }
    }
    cq_value_set_list(root, "none");
    return root;
}

static char *
render_string(const char *source, CqTemplatePart part, const char *language,
              GError **error)
{
    g_autoptr(CqValue) data = test_data();
    g_autoptr(CqTemplate) t = cq_template_compile(
        "test.tmpl", source, -1, part, language, &test_schema, error);

    return t ? cq_template_render(t, data, error) : NULL;
}

/* ---- What renders to what ---- */

typedef struct {
    const char *path;
    CqTemplatePart part;
    const char *language;
    const char *source;
    const char *expected;
} RenderCase;

#define TXT CQ_TEMPLATE_TEXT
#define HTML CQ_TEMPLATE_HTML
#define SUBJ CQ_TEMPLATE_SUBJECT

static const RenderCase render_cases[] = {
    {"/template/render/plain", TXT, "de", "Hallo Welt", "Hallo Welt"},
    {"/template/render/value", TXT, "de", "Hallo {{name}}!",
     "Hallo Jürgen Müller!"},
    {"/template/render/spaces", TXT, "de", "{{ name }}|{{  count  }}",
     "Jürgen Müller|42"},
    {"/template/render/number", TXT, "de", "{{count}} {{zero}}", "42 0"},
    {"/template/render/group", TXT, "de",
     "{{user.name}} aus {{user.address.city}}", "Änne aus Köln"},
    {"/template/render/absent", TXT, "de", "[{{missing}}]", "[]"},
    {"/template/render/date-de", TXT, "de", "{{due}}", "05.03.2026"},
    {"/template/render/date-en", TXT, "en", "{{due}}", "2026-03-05"},
    {"/template/render/date-other", TXT, "fr", "{{due}} {{due|long}}",
     "2026-03-05 2026-03-05"},
    {"/template/render/iso", TXT, "de", "{{due|iso}}", "2026-03-05"},
    {"/template/render/long-de", TXT, "de", "{{due|long}}", "5. März 2026"},
    {"/template/render/long-en", TXT, "en", "{{due|long}}", "5 March 2026"},
    {"/template/render/upper", TXT, "de", "{{name|upper}}", "JÜRGEN MÜLLER"},
    {"/template/render/pad", TXT, "de", "[{{user.name|pad:6}}]", "[Änne  ]"},
    {"/template/render/pad-short", TXT, "de", "[{{name|pad:3}}]",
     "[Jürgen Müller]"},
    {"/template/render/chain", TXT, "de", "[{{due|long|upper|pad:14}}]",
     "[5. MÄRZ 2026  ]"},
    {"/template/render/count", TXT, "de", "{{items|count}} {{none|count}}",
     "3 0"},
    {"/template/render/each", TXT, "de",
     "{{#each items as i}}{{i.name}}={{i.qty}};{{/each}}",
     "Messschieber=1;Bügelmessschraube=2;Lehrdorn=3;"},
    {"/template/render/each-outer", TXT, "de",
     "{{#each items as i}}{{name}}:{{i.qty}} {{/each}}",
     "Jürgen Müller:1 Jürgen Müller:2 Jürgen Müller:3 "},
    {"/template/render/each-nested", TXT, "de",
     "{{#each items as i}}{{i.qty}}({{#each i.tags as t}}{{t.label}}"
     "{{/each}}){{/each}}",
     "1()2(t0)3(t0t1)"},
    {"/template/render/each-empty", TXT, "de",
     "a{{#each none as n}}{{n.name}}{{/each}}b", "ab"},
    {"/template/render/if-true", TXT, "de",
     "{{#if flag}}ja{{#else}}nein{{/if}}", "ja"},
    {"/template/render/if-false", TXT, "de",
     "{{#if off}}ja{{#else}}nein{{/if}}", "nein"},
    {"/template/render/if-not", TXT, "de", "{{#if !off}}ja{{/if}}", "ja"},
    {"/template/render/if-number", TXT, "de",
     "{{#if count}}a{{/if}}{{#if zero}}b{{/if}}", "a"},
    {"/template/render/if-text", TXT, "de",
     "{{#if name}}a{{/if}}{{#if empty}}b{{/if}}{{#if missing}}c{{/if}}", "a"},
    {"/template/render/if-list", TXT, "de",
     "{{#if items}}a{{/if}}{{#if none}}b{{/if}}", "a"},
    {"/template/render/if-group", TXT, "de",
     "{{#if user}}a{{/if}}{{#if user.address}}b{{/if}}", "ab"},
    {"/template/render/if-date", TXT, "de", "{{#if due}}a{{/if}}", "a"},
    {"/template/render/if-item", TXT, "de",
     "{{#each items as i}}{{#if i.tags}}{{i.name}} {{/if}}{{/each}}",
     "Bügelmessschraube Lehrdorn "},
    {"/template/render/comment", TXT, "de", "a{{! nichts }}b", "ab"},
    {"/template/render/literal", TXT, "de", "{{\"{{\"}}name}}", "{{name}}"},
    {"/template/render/literal-braces", TXT, "de", "{{ \"}}\" }}", "}}"},
    {"/template/render/single-brace", TXT, "de", "{a} }", "{a} }"},
    {"/template/render/standalone", TXT, "de",
     "Liste:\n{{#each items as i}}\n  - {{i.name}}\n{{/each}}\nEnde\n",
     "Liste:\n  - Messschieber\n  - Bügelmessschraube\n  - Lehrdorn\n"
     "Ende\n"},
    {"/template/render/standalone-if", TXT, "de",
     "a\n  {{#if off}}  \nb\n{{#else}}\nc\n\t{{/if}}\nd", "a\nc\nd"},
    {"/template/render/standalone-crlf", TXT, "de",
     "a\r\n{{#if flag}}\r\nb\r\n{{/if}}\r\nc", "a\r\nb\r\nc"},
    {"/template/render/standalone-comment", TXT, "de", "a\n{{! Kommentar }}\nb",
     "a\nb"},
    {"/template/render/standalone-eof", TXT, "de", "a\n{{#if flag}}b{{/if}}",
     "a\nb"},
    {"/template/render/inline-blocks", TXT, "de", "a {{#if flag}}b{{/if}}\nc",
     "a b\nc"},
    {"/template/render/value-line-kept", TXT, "de", "{{missing}}\nb", "\nb"},
    {"/template/render/text-raw", TXT, "de", "{{danger}}",
     "<b>\"Tom\" & 'Jerry'</b>"},
    {"/template/render/html-escaped", HTML, "de", "<p>{{danger}}</p>",
     "<p>&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;</p>"},
    {"/template/render/html-attribute", HTML, "de", "<a title=\"{{danger}}\">",
     "<a title=\"&lt;b&gt;&quot;Tom&quot; "
     "&amp; &#39;Jerry&#39;&lt;/b&gt;\">"},
    {"/template/render/html-literal-kept", HTML, "de", "<b>{{\"&amp;\"}}</b>",
     "<b>&amp;</b>"},
    {"/template/render/html-upper", HTML, "de", "{{danger|upper}}",
     "&lt;B&gt;&quot;TOM&quot; &amp; &#39;JERRY&#39;&lt;/B&gt;"},
    {"/template/render/subject", SUBJ, "de", "Betreff: {{name}}\n",
     "Betreff: Jürgen Müller"},
    {"/template/render/subject-flat", SUBJ, "de", "[{{multi}}]",
     "[Zeile 1 Zeile 2 Ende]"},
    {"/template/render/subject-trim", SUBJ, "de", "  {{empty}} x {{missing}}",
     "x"},
    {"/template/render/subject-not-escaped", SUBJ, "de", "{{danger}}",
     "<b>\"Tom\" & 'Jerry'</b>"},
    {"/template/render/text-multi-raw", TXT, "de", "{{multi}}",
     "Zeile 1\r\nZeile 2\t\tEnde"},
};

static void
test_render(gconstpointer data)
{
    const RenderCase *c = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *out =
        render_string(c->source, c->part, c->language, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(out, ==, c->expected);
}

/* ---- What is refused when a template is loaded ---- */

typedef struct {
    const char *path;
    CqTemplatePart part;
    const char *source;
    guint line;
    const char *reason;
} ErrorCase;

static const ErrorCase error_cases[] = {
    {"/template/error/unknown", TXT, "a\nb {{nmae}}", 2,
     "unknown variable 'nmae'"},
    {"/template/error/unknown-field", TXT, "{{user.nmae}}", 1,
     "unknown variable 'user.nmae'"},
    {"/template/error/unknown-if", TXT, "\n\n{{#if flga}}{{/if}}", 3,
     "unknown variable 'flga'"},
    {"/template/error/unknown-item-field", TXT,
     "{{#each items as i}}\n{{i.nmae}}\n{{/each}}", 2,
     "unknown variable 'i.nmae'"},
    {"/template/error/unknown-list", TXT, "{{#each itmes as i}}{{/each}}", 1,
     "unknown variable 'itmes'"},
    {"/template/error/item-outside-loop", TXT, "{{items.name}}", 1,
     "'items.name' is a list"},
    {"/template/error/alias-outside-loop", TXT,
     "{{#each items as i}}{{/each}}{{i.name}}", 1, "unknown variable 'i.name'"},
    {"/template/error/each-not-list", TXT, "{{#each name as n}}{{/each}}", 1,
     "'name' is not a list"},
    {"/template/error/each-syntax", TXT, "{{#each items}}{{/each}}", 1,
     "{{#each LIST as NAME}}"},
    {"/template/error/each-hides", TXT, "{{#each items as name}}{{/each}}", 1,
     "hides another variable"},
    {"/template/error/each-hides-loop", TXT,
     "{{#each items as i}}{{#each i.tags as i}}{{/each}}{{/each}}", 1,
     "hides another variable"},
    {"/template/error/print-list", TXT, "{{items}}", 1, "is a list"},
    {"/template/error/print-flag", TXT, "{{flag}}", 1, "is a flag"},
    {"/template/error/print-group", TXT, "{{user}}", 1, "group of values"},
    {"/template/error/print-item", TXT, "{{#each items as i}}{{i}}{{/each}}", 1,
     "group of values"},
    {"/template/error/date-format-on-text", TXT, "{{name|long}}", 1,
     "date formatter"},
    {"/template/error/count-on-text", TXT, "{{name|count}}", 1,
     "'count' needs a list"},
    {"/template/error/format-after-text", TXT, "{{due|upper|iso}}", 1,
     "date formatter"},
    {"/template/error/unknown-format", TXT, "{{name|lower}}", 1,
     "unknown formatter 'lower'"},
    {"/template/error/pad-zero", TXT, "{{name|pad:0}}", 1,
     "unknown formatter 'pad:0'"},
    {"/template/error/pad-big", TXT, "{{name|pad:201}}", 1,
     "unknown formatter"},
    {"/template/error/formats", TXT, "{{name|upper|upper|upper|upper|upper}}",
     1, "more than 4 formatters"},
    {"/template/error/bad-name", TXT, "{{na-me}}", 1, "not a variable name"},
    {"/template/error/empty-segment", TXT, "{{user..name}}", 1,
     "not a variable name"},
    {"/template/error/empty-tag", TXT, "{{ }}", 1, "empty tag"},
    {"/template/error/unclosed-tag", TXT, "a {{name\n}}", 1, "without '}}'"},
    {"/template/error/unclosed-tag-eof", TXT, "a {{name}", 1, "without '}}'"},
    {"/template/error/unclosed-literal", TXT, "{{\"abc}}", 1,
     "unclosed literal"},
    {"/template/error/unclosed-if", TXT, "\n{{#if flag}}\nx\n", 2,
     "{{#if}} is not closed"},
    {"/template/error/unclosed-each", TXT, "{{#each items as i}}", 1,
     "{{#each}} is not closed"},
    {"/template/error/stray-close", TXT, "a\n{{/if}}", 2,
     "{{/if}} without its opening tag"},
    {"/template/error/crossed-close", TXT, "{{#if flag}}{{/each}}", 1,
     "{{/each}} without its opening tag"},
    {"/template/error/stray-else", TXT, "{{#else}}", 1,
     "{{#else}} outside {{#if}}"},
    {"/template/error/double-else", TXT,
     "{{#if flag}}{{#else}}{{#else}}{{/if}}", 1, "outside {{#if}}"},
    {"/template/error/unknown-block", TXT, "{{#unless flag}}", 1,
     "unknown block '{{#unless}}'"},
    {"/template/error/if-syntax", TXT, "{{#if}}{{/if}}", 1, "{{#if NAME}}"},
    {"/template/error/subject-lines", SUBJ, "Betreff\nZeile 2", 2,
     "a subject is one line"},
    {"/template/error/subject-cr", SUBJ, "Betreff\rX", 1,
     "a subject is one line"},
    {"/template/error/control", TXT, "a\nb\x01", 2, "control character 0x01"},
    {"/template/error/utf8", TXT, "abc\xff", 1, "not valid UTF-8"},
};

static void
test_error(gconstpointer data)
{
    const ErrorCase *c = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(CqTemplate) t = cq_template_compile(
        "bad.tmpl", c->source, -1, c->part, "de", &test_schema, &error);
    g_autofree char *where =
        g_strdup_printf("template 'bad.tmpl' line %u: ", c->line);

    g_assert_null(t);
    g_assert_error(error, CQ_ERROR, CQ_ERROR_CONFIG);
    if (!g_str_has_prefix(error->message, where) ||
        strstr(error->message, c->reason) == NULL)
        g_error("'%s': got '%s', wanted '%s...%s'", c->source, error->message,
                where, c->reason);
}

/* ---- Limits against hostile templates ---- */

static char *
nested_ifs(guint depth)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < depth; i++)
        g_string_append(s, "{{#if flag}}");
    g_string_append(s, "tief");
    for (guint i = 0; i < depth; i++)
        g_string_append(s, "{{/if}}");
    return g_string_free(s, FALSE);
}

static void
test_limit_depth(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *ok = nested_ifs(CQ_TEMPLATE_MAX_DEPTH);
    g_autofree char *deep = nested_ifs(CQ_TEMPLATE_MAX_DEPTH + 1);
    g_autofree char *out = render_string(ok, TXT, "de", &error);

    g_assert_no_error(error);
    g_assert_cmpstr(out, ==, "tief");
    g_assert_null(render_string(deep, TXT, "de", &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_CONFIG);
    g_assert_nonnull(strstr(error->message, "nested deeper than 16"));
}

static void
test_limit_source(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *big = g_strnfill(CQ_TEMPLATE_MAX_SOURCE + 1, 'x');
    g_autoptr(CqTemplate) t = cq_template_compile("big.tmpl", big, -1, TXT,
                                                  "de", &test_schema, &error);

    g_assert_null(t);
    g_assert_error(error, CQ_ERROR, CQ_ERROR_TOO_LARGE);
    g_assert_nonnull(strstr(error->message, "'big.tmpl'"));
}

/* A long value printed in a loop passes the output limit. */
static void
test_limit_output(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqValue) data = cq_value_new();
    g_autofree char *chunk = g_strnfill(100 * 1024, 'x');
    CqValue *items = cq_value_set_list(data, "items");

    for (int i = 0; i < 100; i++)
        cq_value_set_text(cq_value_list_append(items), "name", chunk);
    g_autoptr(CqTemplate) t = cq_template_compile(
        "out.tmpl", "{{#each items as i}}{{i.name}}{{/each}}", -1, TXT, "de",
        &test_schema, &error);
    g_assert_no_error(error);
    g_assert_null(cq_template_render(t, data, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_TOO_LARGE);
    g_assert_nonnull(strstr(error->message, "output larger than"));
}

/* Loops in loops that print nothing still cannot run for ever. */
static void
test_limit_steps(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqValue) data = cq_value_new();
    CqValue *items = cq_value_set_list(data, "items");
    GString *source = g_string_new(NULL);

    for (int i = 0; i < 1000; i++) {
        CqValue *item = cq_value_list_append(items);
        cq_value_set_list(item, "tags");
    }
    for (int i = 0; i < 3; i++)
        g_string_append_printf(source, "{{#each items as i%d}}", i);
    g_string_append(source, "{{#if off}}x{{/if}}");
    for (int i = 0; i < 3; i++)
        g_string_append(source, "{{/each}}");
    g_autoptr(CqTemplate) t = cq_template_compile(
        "steps.tmpl", source->str, -1, TXT, "de", &test_schema, &error);
    g_string_free(source, TRUE);
    g_assert_no_error(error);
    g_assert_null(cq_template_render(t, data, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_TOO_LARGE);
    g_assert_nonnull(strstr(error->message, "steps"));
}

/* A caller that gives a value of another type than the schema has a bug
 * that the renderer names instead of printing nonsense. */
static void
test_wrong_type(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqValue) data = cq_value_new();
    g_autoptr(CqTemplate) t = cq_template_compile(
        "type.tmpl", "{{due}}", -1, TXT, "de", &test_schema, &error);

    cq_value_set_text(data, "due", "2026-03-05");
    g_assert_null(cq_template_render(t, data, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, "'due'"));
}

static void
test_invalid_utf8_value(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqValue) data = cq_value_new();
    g_autoptr(CqTemplate) t = cq_template_compile(
        "utf8.tmpl", "{{name}}", -1, HTML, "de", &test_schema, &error);

    cq_value_set_text(data, "name", "M\xfcller");
    g_assert_null(cq_template_render(t, data, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
}

static void
test_value_replace(void)
{
    g_autoptr(CqValue) data = cq_value_new();

    cq_value_set_text(data, "name", "alt");
    cq_value_set_text(data, "name", "neu");
    cq_value_set_text(data, "skipped", NULL);
    g_assert_cmpint(cq_value_type(cq_value_get(data, "name")), ==,
                    CQ_VALUE_TEXT);
    g_assert_null(cq_value_get(data, "skipped"));
    g_autoptr(CqTemplate) t = cq_template_compile("r.tmpl", "{{name}}", -1, TXT,
                                                  "de", &test_schema, NULL);
    g_autofree char *out = cq_template_render(t, data, NULL);
    g_assert_cmpstr(out, ==, "neu");
}

/* ---- Dates and languages ---- */

static void
test_day(void)
{
    static const struct {
        const char *text;
        int y, m, d;
        CqDay day;
    } good[] = {
        {"1970-01-01", 1970, 1, 1, 0},     {"1970-01-02", 1970, 1, 2, 1},
        {"1969-12-31", 1969, 12, 31, -1},  {"2000-02-29", 2000, 2, 29, 11016},
        {"2026-03-05", 2026, 3, 5, 20517},
    };
    static const char *const bad[] = {
        "",         "2026-3-5",   "2026-02-30", "2026-13-01", "2026-03-05x",
        "26-03-05", "2026/03/05", "0000-01-01", "2023-02-29",
    };
    char buf[CQ_DAY_ISO_LEN];

    for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
        CqDay day = 0;
        g_assert_true(cq_day_parse("date", good[i].text, &day, NULL));
        g_assert_cmpint(day, ==, good[i].day);
        g_assert_cmpint(cq_day_from_ymd(good[i].y, good[i].m, good[i].d), ==,
                        day);
        g_assert_cmpstr(cq_day_format_iso(day, buf), ==, good[i].text);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        CqDay day = 7;
        g_assert_false(cq_day_parse("--date", bad[i], &day, &error));
        g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
        g_assert_true(g_str_has_prefix(error->message, "--date '"));
        g_assert_cmpint(day, ==, 7);
    }
}

static void
test_language(void)
{
    static const char *const cases[][2] = {
        {"de", "de"},          {"DE", "de"},      {"de-AT", "de"},
        {"de_DE.UTF-8", "de"}, {"en-GB", "en"},   {"fil", "fil"},
        {"d", NULL},           {"deutsch", NULL}, {"", NULL},
        {"1de", NULL},         {"de/../x", NULL}, {"en GB", NULL},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *norm = cq_language_normalize(cases[i][0]);
        g_assert_cmpstr(norm, ==, cases[i][1]);
    }
    g_assert_null(cq_language_normalize(NULL));
    g_assert_true(cq_template_name_valid("reminder-digest"));
    g_assert_true(cq_template_name_valid("stufe_3"));
    g_assert_false(cq_template_name_valid("../etc/passwd"));
    g_assert_false(cq_template_name_valid("Reminder"));
    g_assert_false(cq_template_name_valid("-x"));
    g_assert_false(cq_template_name_valid(""));
}

/* ---- The built-in sets ---- */

static CqValue *
reminder_data(CqMailKind kind, gboolean overdue)
{
    CqValue *root = cq_value_new();
    CqValue *measure = NULL;

    cq_value_set_date(root, "today", cq_day_from_ymd(2026, 3, 12));
    cq_value_set_text(cq_value_set_group(root, "recipient"), "name",
                      "Jürgen Müller");
    cq_value_set_text(cq_value_set_group(root, "sender"), "name",
                      "Qualitätsmanagement Werk Süd");
    CqValue *level = cq_value_set_group(root, "level");
    cq_value_set_number(level, "number", overdue ? 3 : 1);
    cq_value_set_number(level, "offset", overdue ? 7 : -3);
    cq_value_set_flag(level, "escalation", overdue);
    if (overdue)
        cq_value_set_text(root, "cc_names", "Änne Groß");
    if (kind == CQ_MAIL_REMINDER) {
        measure = cq_value_set_group(root, "measure");
    } else {
        cq_value_set_number(root, "overdue_count", overdue ? 1 : 0);
        measure = cq_value_list_append(cq_value_set_list(root, "measures"));
    }
    cq_value_set_text(measure, "id", "M-2026-0107");
    cq_value_set_text(measure, "title", "Prüfmittel <neu> & kalibrieren\n!");
    cq_value_set_date(measure, "due", cq_day_from_ymd(2026, 3, 5));
    cq_value_set_flag(measure, "overdue", overdue);
    cq_value_set_number(measure, "days_overdue", overdue ? 7 : 0);
    cq_value_set_number(measure, "days_left", overdue ? 0 : 3);
    cq_value_set_text(measure, "responsible", "Jürgen Müller");
    CqValue *record = cq_value_set_group(measure, "record");
    cq_value_set_text(record, "id", "8D-2026-0042");
    cq_value_set_text(record, "title", "Gehäuse undicht");
    return root;
}

static CqValue *
collection_data(void)
{
    CqValue *root = cq_value_new();
    CqValue *gauges = NULL;

    cq_value_set_date(root, "today", cq_day_from_ymd(2026, 3, 12));
    cq_value_set_text(cq_value_set_group(root, "holder"), "name", "Änne Groß");
    cq_value_set_text(cq_value_set_group(root, "lab"), "name",
                      "Kalibrierlabor Süd");
    cq_value_set_number(root, "within", 14);
    cq_value_set_number(root, "overdue_count", 1);
    gauges = cq_value_set_list(root, "gauges");
    for (int i = 0; i < 2; i++) {
        CqValue *g = cq_value_list_append(gauges);
        cq_value_set_text(g, "inventory", i ? "PM-0002" : "PM-0001");
        cq_value_set_text(g, "description",
                          i ? "Bügelmessschraube 0–25 mm"
                            : "Grenzlehrdorn Ø12");
        cq_value_set_text(g, "location", "Halle 3 / Prüfraum");
        cq_value_set_date(g, "due", cq_day_from_ymd(2026, 3, 10 + i * 10));
        cq_value_set_flag(g, "overdue", i == 0);
        cq_value_set_number(g, "days_overdue", i == 0 ? 2 : 0);
    }
    return root;
}

typedef struct {
    const char *path;
    CqMailKind kind;
    const char *language;
    gboolean overdue;
    const char *subject;
    const char *in_text[3];
    const char *in_html[3];
} BuiltinCase;

static const BuiltinCase builtin_cases[] = {
    {"/template/builtin/reminder-de",
     CQ_MAIL_REMINDER,
     "de-DE",
     FALSE,
     "Erinnerung: Maßnahme M-2026-0107 – Prüfmittel <neu> & kalibrieren ! "
     "(fällig 05.03.2026)",
     {"Guten Tag Jürgen Müller,", "in 3 Tag(en) fällig",
      "Fällig am:       5. März 2026"},
     {"Prüfmittel &lt;neu&gt; &amp; kalibrieren", "<td>5. März 2026</td>",
      "Qualitätsmanagement Werk Süd"}},
    {"/template/builtin/reminder-en",
     CQ_MAIL_REMINDER,
     "en",
     TRUE,
     "Overdue: action M-2026-0107 – Prüfmittel <neu> & kalibrieren ! "
     "(due 2026-03-05)",
     {"Dear Jürgen Müller,", "7 day(s) overdue", "copies go to: Änne Groß."},
     {"<b>7 day(s) overdue</b>", "8D-2026-0042 – Gehäuse undicht",
      "reminder level 3"}},
    {"/template/builtin/digest-de",
     CQ_MAIL_REMINDER_DIGEST,
     "de",
     TRUE,
     "Überfällige Maßnahmen: 1 offen (12.03.2026)",
     {"(1 insgesamt, davon 1 überfällig)",
      "- M-2026-0107: Prüfmittel <neu> & kalibrieren\n!\n"
      "  fällig am 05.03.2026, seit 7 Tag(en) überfällig\n",
      "Vorgang 8D-2026-0042 – Gehäuse undicht"},
     {"<td>Prüfmittel &lt;neu&gt; &amp; kalibrieren\n!</td>",
      "<b>05.03.2026</b> (7 Tag(e) überfällig)", "Erinnerungsstufe 3"}},
    {"/template/builtin/digest-en",
     CQ_MAIL_REMINDER_DIGEST,
     "en",
     FALSE,
     "Reminder of actions: 1 open (2026-03-12)",
     {"(1 in all, 0 of them overdue)", "  due 2026-03-05\n",
      "record 8D-2026-0042"},
     {"<td>2026-03-05</td>", "<th align=\"left\">Record</th>",
      "<td>8D-2026-0042</td>"}},
    {"/template/builtin/collection-de",
     CQ_MAIL_COLLECTION,
     "de",
     FALSE,
     "Prüfmittel zur Kalibrierung abgeben: 2 Prüfmittel (Änne Groß)",
     {"Guten Tag Änne Groß,",
      "PM-0001          Grenzlehrdorn Ø12                Halle 3 / Prüfraum"
      " 10.03.2026 (überfällig)\n",
      "Kalibrierlabor (Kalibrierlabor Süd)"},
     {"<td>Bügelmessschraube 0–25 mm</td>", "<b>10.03.2026</b>",
      "<td>20.03.2026</td>"}},
    {"/template/builtin/collection-en",
     CQ_MAIL_COLLECTION,
     "en",
     FALSE,
     "Gauges to hand in for calibration: 2 item(s) (Änne Groß)",
     {"within\nthe next 14 days; 1 of them are already overdue",
      "PM-0002          Bügelmessschraube 0–25 mm        Halle 3 / Prüfraum"
      " 2026-03-20\n",
      "Gauge Management"},
     {"<td>Grenzlehrdorn Ø12</td>", "(overdue)", "<td>2026-03-20</td>"}},
};

static void
assert_contains(const char *what, const char *text, const char *part)
{
    if (part != NULL && strstr(text, part) == NULL)
        g_error("%s lacks '%s':\n%s", what, part, text);
}

static void
test_builtin(gconstpointer data)
{
    const BuiltinCase *c = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(CqTemplates) templates = cq_templates_new(NULL, "de");
    const CqTemplateSet *set = cq_templates_get(
        templates, cq_mail_kind_name(c->kind), c->kind, c->language, &error);
    g_assert_no_error(error);
    g_autoptr(CqValue) values = c->kind == CQ_MAIL_COLLECTION
                                    ? collection_data()
                                    : reminder_data(c->kind, c->overdue);
    CqRenderedMail mail = {0};

    g_assert_true(cq_template_set_render(set, values, &mail, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(mail.subject, ==, c->subject);
    for (int i = 0; i < 3; i++) {
        assert_contains("text", mail.text, c->in_text[i]);
        assert_contains("html", mail.html, c->in_html[i]);
    }
    /* Values are escaped in HTML: no raw markup from the title. */
    g_assert_null(strstr(mail.html, "<neu>"));
    g_assert_null(strstr(mail.text, "{{"));
    g_assert_null(strstr(mail.html, "{{"));
    cq_rendered_mail_clear(&mail);
}

/* Every built-in set compiles in every language, checked as a run does. */
static void
test_builtin_check(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqTemplates) templates = cq_templates_new(NULL, "en");

    for (int k = CQ_MAIL_REMINDER; k <= CQ_MAIL_COLLECTION; k++) {
        g_assert_true(
            cq_templates_check(templates, cq_mail_kind_name(k), k, &error));
        g_assert_no_error(error);
    }
    /* A set loaded as the wrong kind fails its schema check. */
    g_assert_false(
        cq_templates_check(templates, "collection", CQ_MAIL_REMINDER, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_CONFIG);
    g_assert_nonnull(strstr(error->message, "built-in:collection."));
    g_assert_nonnull(strstr(error->message, "unknown variable"));
}

/* ---- Overrides from a folder ---- */

static char *
make_folder(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("caqmail-tmpl-XXXXXX", &error);

    g_assert_no_error(error);
    return dir;
}

static void
put(const char *dir, const char *name, const char *text)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void
remove_folder(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name = NULL;

    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_unlink(path);
    }
    g_rmdir(dir);
}

static void
test_override_file(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = make_folder();
    put(dir, "reminder.de.subject", "Bitte erledigen: {{measure.id}}\n");
    g_autoptr(CqTemplates) templates = cq_templates_new(dir, "de");
    g_autoptr(CqValue) values = reminder_data(CQ_MAIL_REMINDER, FALSE);
    CqRenderedMail mail = {0};

    const CqTemplateSet *de =
        cq_templates_get(templates, "reminder", CQ_MAIL_REMINDER, "de", &error);
    g_assert_no_error(error);
    g_assert_true(cq_template_set_render(de, values, &mail, &error));
    g_assert_cmpstr(mail.subject, ==, "Bitte erledigen: M-2026-0107");
    /* The other parts and languages stay built in. */
    assert_contains("text", mail.text, "Guten Tag Jürgen Müller,");
    g_assert_cmpstr(cq_template_file(de->text), ==, "built-in:reminder.de.txt");
    cq_rendered_mail_clear(&mail);
    const CqTemplateSet *en =
        cq_templates_get(templates, "reminder", CQ_MAIL_REMINDER, "en", &error);
    g_assert_no_error(error);
    g_assert_true(cq_template_set_render(en, values, &mail, &error));
    g_assert_true(g_str_has_prefix(mail.subject, "Reminder: action"));
    cq_rendered_mail_clear(&mail);
    remove_folder(dir);
}

static void
test_override_unknown_variable(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = make_folder();
    put(dir, "reminder.en.html", "<p>\n{{measure.titel}}</p>\n");
    g_autoptr(CqTemplates) templates = cq_templates_new(dir, "de");
    g_autofree char *where = g_strdup_printf(
        "template '%s/reminder.en.html' line 2: unknown variable "
        "'measure.titel'",
        dir);

    /* German still loads; the broken English part fails every check. */
    g_assert_nonnull(cq_templates_get(templates, "reminder", CQ_MAIL_REMINDER,
                                      "de", &error));
    g_assert_null(cq_templates_get(templates, "reminder", CQ_MAIL_REMINDER,
                                   "en", &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_CONFIG);
    g_assert_true(g_str_has_prefix(error->message, where));
    g_clear_error(&error);
    g_assert_false(
        cq_templates_check(templates, "reminder", CQ_MAIL_REMINDER, &error));
    g_assert_true(g_str_has_prefix(error->message, where));
    remove_folder(dir);
}

static void
test_language_fallback(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqTemplates) templates = cq_templates_new(NULL, "de");
    static const char *const asked[] = {"fr", NULL, "x-klingon", "en_US"};
    static const char *const got[] = {"de", "de", "de", "en"};

    for (gsize i = 0; i < G_N_ELEMENTS(asked); i++) {
        const CqTemplateSet *set = cq_templates_get(
            templates, "collection", CQ_MAIL_COLLECTION, asked[i], &error);
        g_assert_no_error(error);
        g_assert_cmpstr(set->language, ==, got[i]);
    }
}

/* A folder can add a language and a set of its own; a set without a
 * subject in the language and the fallback is missing. */
static void
test_folder_language(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = make_folder();
    put(dir, "collection.fr.subject", "Étalonnage : {{gauges|count}}");
    put(dir, "collection.fr.txt",
        "{{#each gauges as g}}{{g.inventory}} "
        "{{g.due|long}}\n{{/each}}");
    put(dir, "stufe3.de.subject", "Eskalation {{measure.id}}");
    put(dir, "stufe3.de.txt", "{{measure.title}}");
    g_autoptr(CqTemplates) templates = cq_templates_new(dir, "en");
    g_autoptr(CqValue) values = collection_data();
    CqRenderedMail mail = {0};

    const CqTemplateSet *fr = cq_templates_get(
        templates, "collection", CQ_MAIL_COLLECTION, "fr-CH", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(fr->language, ==, "fr");
    g_assert_null(fr->html);
    g_assert_true(cq_template_set_render(fr, values, &mail, &error));
    g_assert_cmpstr(mail.subject, ==, "Étalonnage : 2");
    g_assert_cmpstr(mail.text, ==, "PM-0001 2026-03-10\nPM-0002 2026-03-20\n");
    g_assert_null(mail.html);
    cq_rendered_mail_clear(&mail);

    const CqTemplateSet *own =
        cq_templates_get(templates, "stufe3", CQ_MAIL_REMINDER, "de", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(own->language, ==, "de");
    g_assert_null(
        cq_templates_get(templates, "stufe3", CQ_MAIL_REMINDER, "it", &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_assert_null(
        cq_templates_get(templates, "nosuch", CQ_MAIL_REMINDER, "de", &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_assert_null(
        cq_templates_get(templates, "../x", CQ_MAIL_REMINDER, "de", &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_CONFIG);
    g_clear_error(&error);

    /* A language with a subject but no text is an error, not a fallback. */
    put(dir, "collection.it.subject", "Taratura");
    g_assert_false(cq_templates_check(templates, "collection",
                                      CQ_MAIL_COLLECTION, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "'collection.it.txt'"));
    remove_folder(dir);
}

/* The first lookups of built-in templates, made by several threads at
 * the same moment in a new process: each finds them.  (GLib registers
 * the compiled-in resource on first use; a thread that came in while
 * another registered it used to get no resource and crash.) */
enum { FIRST_LOOKUP_THREADS = 8 };
static gint first_lookup_waiting;

static gpointer
first_lookup(gpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqTemplates) templates = cq_templates_new(NULL, "de");

    g_atomic_int_dec_and_test(&first_lookup_waiting);
    while (g_atomic_int_get(&first_lookup_waiting) > 0)
        g_thread_yield(); /* all start together */
    const CqTemplateSet *set =
        cq_templates_get(templates, "reminder", CQ_MAIL_REMINDER, "de", &error);
    g_assert_no_error(error);
    g_assert_nonnull(set);
    return NULL;
}

static void
test_builtin_first_lookup_threads(void)
{
    if (g_test_subprocess()) {
        GThread *threads[FIRST_LOOKUP_THREADS];
        g_atomic_int_set(&first_lookup_waiting, FIRST_LOOKUP_THREADS);
        for (guint i = 0; i < FIRST_LOOKUP_THREADS; i++)
            threads[i] = g_thread_new("lookup", first_lookup, NULL);
        for (guint i = 0; i < FIRST_LOOKUP_THREADS; i++)
            g_thread_join(threads[i]);
        return;
    }
    for (guint run = 0; run < 40; run++) {
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/template/builtin/first-lookup-threads",
                    test_builtin_first_lookup_threads);
    for (gsize i = 0; i < G_N_ELEMENTS(render_cases); i++)
        g_test_add_data_func(render_cases[i].path, &render_cases[i],
                             test_render);
    for (gsize i = 0; i < G_N_ELEMENTS(error_cases); i++)
        g_test_add_data_func(error_cases[i].path, &error_cases[i], test_error);
    g_test_add_func("/template/limit/depth", test_limit_depth);
    g_test_add_func("/template/limit/source", test_limit_source);
    g_test_add_func("/template/limit/output", test_limit_output);
    g_test_add_func("/template/limit/steps", test_limit_steps);
    g_test_add_func("/template/value/wrong-type", test_wrong_type);
    g_test_add_func("/template/value/invalid-utf8", test_invalid_utf8_value);
    g_test_add_func("/template/value/replace", test_value_replace);
    g_test_add_func("/template/day", test_day);
    g_test_add_func("/template/language", test_language);
    for (gsize i = 0; i < G_N_ELEMENTS(builtin_cases); i++)
        g_test_add_data_func(builtin_cases[i].path, &builtin_cases[i],
                             test_builtin);
    g_test_add_func("/template/builtin/check", test_builtin_check);
    g_test_add_func("/template/override/file", test_override_file);
    g_test_add_func("/template/override/unknown-variable",
                    test_override_unknown_variable);
    g_test_add_func("/template/override/fallback", test_language_fallback);
    g_test_add_func("/template/override/folder-language", test_folder_language);
    return g_test_run();
}
