#include "workflow/mail-templates.h"

#include "common/error.h"
#include "common/text.h"
#include "cq-builtin-templates.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define RESOURCE_PREFIX "/org/caqmail/templates/"

/* ---- What each mail kind provides ---- */

/* clang-format off */
/* The values every automatic mail has. */
#define COMMON_VARS                                                         \
    {"today", CQ_VAR_DATE}, {"sender.name", CQ_VAR_TEXT},                   \
    {"recipient.name", CQ_VAR_TEXT}, {"recipient.email", CQ_VAR_TEXT}

/* The values of one measure, under @prefix. */
#define MEASURE_VARS(prefix)                                                \
    {prefix ".id", CQ_VAR_TEXT}, {prefix ".title", CQ_VAR_TEXT},            \
    {prefix ".due", CQ_VAR_DATE}, {prefix ".overdue", CQ_VAR_FLAG},         \
    {prefix ".due_today", CQ_VAR_FLAG},                                     \
    {prefix ".days_left", CQ_VAR_NUMBER},                                   \
    {prefix ".days_overdue", CQ_VAR_NUMBER},                                \
    {prefix ".link", CQ_VAR_TEXT}, {prefix ".responsible", CQ_VAR_TEXT},    \
    {prefix ".record.id", CQ_VAR_TEXT}, {prefix ".record.title", CQ_VAR_TEXT}

/* The reminder level and who is in copy. */
#define LEVEL_VARS                                                          \
    {"level.number", CQ_VAR_NUMBER}, {"level.offset", CQ_VAR_NUMBER},       \
    {"level.escalation", CQ_VAR_FLAG}, {"cc_names", CQ_VAR_TEXT}
/* clang-format on */

static const CqTemplateVar reminder_vars[] = {
    COMMON_VARS,
    LEVEL_VARS,
    MEASURE_VARS("measure"),
};

static const CqTemplateVar digest_vars[] = {
    COMMON_VARS,
    LEVEL_VARS,
    {"overdue_count", CQ_VAR_NUMBER},
    {"measures", CQ_VAR_LIST},
    MEASURE_VARS("measures"),
};

static const CqTemplateVar collection_vars[] = {
    COMMON_VARS,
    {"holder.name", CQ_VAR_TEXT},
    {"lab.name", CQ_VAR_TEXT},
    {"within", CQ_VAR_NUMBER},
    {"overdue_count", CQ_VAR_NUMBER},
    {"gauges", CQ_VAR_LIST},
    {"gauges.inventory", CQ_VAR_TEXT},
    {"gauges.description", CQ_VAR_TEXT},
    {"gauges.location", CQ_VAR_TEXT},
    {"gauges.due", CQ_VAR_DATE},
    {"gauges.overdue", CQ_VAR_FLAG},
    {"gauges.days_left", CQ_VAR_NUMBER},
    {"gauges.days_overdue", CQ_VAR_NUMBER},
};

static const CqTemplateSchema schemas[] = {
    [CQ_MAIL_REMINDER] = {"reminder", reminder_vars,
                          G_N_ELEMENTS(reminder_vars)},
    [CQ_MAIL_REMINDER_DIGEST] = {"reminder-digest", digest_vars,
                                 G_N_ELEMENTS(digest_vars)},
    [CQ_MAIL_COLLECTION] = {"collection", collection_vars,
                            G_N_ELEMENTS(collection_vars)},
};

/* Languages that ship inside the binary. */
static const char *const builtin_languages[] = {"de", "en"};

const CqTemplateSchema *
cq_mail_kind_schema(CqMailKind kind)
{
    g_return_val_if_fail(kind <= CQ_MAIL_COLLECTION, NULL);
    return &schemas[kind];
}

const char *
cq_mail_kind_name(CqMailKind kind)
{
    g_return_val_if_fail(kind <= CQ_MAIL_COLLECTION, NULL);
    return schemas[kind].name;
}

/* ---- Names ---- */

gboolean
cq_template_name_valid(const char *name)
{
    gsize n = 0;

    if (name == NULL || !g_ascii_isalnum(*name))
        return FALSE;
    for (; name[n]; n++) {
        char c = name[n];
        if (!(g_ascii_islower(c) || g_ascii_isdigit(c) || c == '-' || c == '_'))
            return FALSE;
    }
    return n <= 64;
}

char *
cq_language_normalize(const char *tag)
{
    gsize n = 0;

    if (tag == NULL)
        return NULL;
    while (g_ascii_isalpha(tag[n]))
        n++;
    if (n < 2 || n > 3 || (tag[n] != '\0' && strchr("-_.@", tag[n]) == NULL))
        return NULL;
    return cq_text_ascii_down(g_strndup(tag, n));
}

/* ---- Rendering ---- */

void
cq_rendered_mail_clear(CqRenderedMail *mail)
{
    g_clear_pointer(&mail->subject, g_free);
    g_clear_pointer(&mail->text, g_free);
    g_clear_pointer(&mail->html, g_free);
}

gboolean
cq_template_set_render(const CqTemplateSet *set, const CqValue *data,
                       CqRenderedMail *out, GError **error)
{
    CqRenderedMail mail = {0};

    mail.subject = cq_template_render(set->subject, data, error);
    if (mail.subject == NULL)
        goto fail;
    mail.text = cq_template_render(set->text, data, error);
    if (mail.text == NULL)
        goto fail;
    if (set->html != NULL) {
        mail.html = cq_template_render(set->html, data, error);
        if (mail.html == NULL)
            goto fail;
    }
    *out = mail;
    return TRUE;
fail:
    cq_rendered_mail_clear(&mail);
    return FALSE;
}

gboolean
cq_template_set_apply(const CqTemplateSet *set, const CqValue *data,
                      CqMessage *message, GError **error)
{
    CqRenderedMail mail = {0};
    gboolean ok =
        cq_template_set_render(set, data, &mail, error) &&
        cq_message_set_subject(message, mail.subject, error) &&
        cq_message_set_text(message, mail.text, error) &&
        (mail.html == NULL || cq_message_set_html(message, mail.html, error));

    cq_rendered_mail_clear(&mail);
    return ok;
}

/* ---- Loading ---- */

struct _CqTemplates {
    char *folder;
    char *fallback;
    GPtrArray *sets;   /* owned CqTemplateSet */
    GHashTable *index; /* "name/kind/asked language" -> borrowed set */
};

typedef enum {
    PART_SUBJECT,
    PART_TEXT,
    PART_HTML,
} PartIndex;

static const char *const part_suffix[] = {"subject", "txt", "html"};
static const CqTemplatePart part_kind[] = {
    CQ_TEMPLATE_SUBJECT,
    CQ_TEMPLATE_TEXT,
    CQ_TEMPLATE_HTML,
};

static void
template_set_free(gpointer data)
{
    CqTemplateSet *set = data;

    g_free(set->name);
    g_free(set->language);
    cq_template_free(set->subject);
    cq_template_free(set->text);
    cq_template_free(set->html);
    g_free(set);
}

CqTemplates *
cq_templates_new(const char *folder, const char *fallback_language)
{
    CqTemplates *templates = g_new0(CqTemplates, 1);

    templates->folder = g_strdup(folder);
    templates->fallback = cq_language_normalize(fallback_language);
    if (templates->fallback == NULL)
        templates->fallback = g_strdup("en");
    templates->sets = g_ptr_array_new_with_free_func(template_set_free);
    templates->index =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return templates;
}

void
cq_templates_free(CqTemplates *templates)
{
    if (templates == NULL)
        return;
    g_hash_table_unref(templates->index);
    g_ptr_array_unref(templates->sets);
    g_free(templates->folder);
    g_free(templates->fallback);
    g_free(templates);
}

/* Reads an override file; FALSE without error when there is none. */
static gboolean
read_override(const char *path, GBytes **bytes, GError **error)
{
    struct stat st;
    char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;

    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return FALSE;
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "template '%s': %s", path,
                    g_strerror(errno));
        return FALSE;
    }
    if (st.st_size > CQ_TEMPLATE_MAX_SOURCE) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_TOO_LARGE,
                    "template '%s': larger than %d bytes", path,
                    CQ_TEMPLATE_MAX_SOURCE);
        return FALSE;
    }
    if (!g_file_get_contents(path, &data, &len, &local)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "template '%s': %s", path,
                    local->message);
        return FALSE;
    }
    *bytes = g_bytes_new_take(data, len);
    return TRUE;
}

/* Finds the file NAME.LANG.PART: the folder first, then the built-in
 * ones.  Sets *bytes and *shown (the name for messages), or leaves them
 * NULL when neither has it. */
static gboolean
find_part(const CqTemplates *templates, const char *file, GBytes **bytes,
          char **shown, GError **error)
{
    GError *local = NULL;

    if (templates->folder != NULL) {
        g_autofree char *path = g_build_filename(templates->folder, file, NULL);
        if (read_override(path, bytes, &local)) {
            *shown = g_steal_pointer(&path);
            return TRUE;
        }
        if (local != NULL) {
            g_propagate_error(error, local);
            return FALSE;
        }
    }
    /* GLib registers a compiled-in resource on first use, and a thread
     * that asks for it while another registers it may get NULL (GLib
     * 2.74).  The call below only has it registered (and its object
     * linked in); the lookup among all registered resources waits for
     * the registration. */
    (void)cq_builtin_templates_get_resource();
    g_autofree char *resource = g_strconcat(RESOURCE_PREFIX, file, NULL);
    *bytes = g_resources_lookup_data(resource, 0, NULL);
    if (*bytes != NULL)
        *shown = g_strconcat("built-in:", file, NULL);
    return TRUE;
}

static gboolean
language_present(const CqTemplates *templates, const char *name,
                 const char *language, GError **error)
{
    g_autofree char *file =
        g_strdup_printf("%s.%s.%s", name, language, part_suffix[0]);
    g_autoptr(GBytes) bytes = NULL;
    g_autofree char *shown = NULL;

    return find_part(templates, file, &bytes, &shown, error) && bytes != NULL;
}

static CqTemplate *
compile_part(const CqTemplates *templates, const char *name,
             const char *language, PartIndex part, CqMailKind kind,
             GError **error)
{
    g_autofree char *file =
        g_strdup_printf("%s.%s.%s", name, language, part_suffix[part]);
    g_autoptr(GBytes) bytes = NULL;
    g_autofree char *shown = NULL;

    if (!find_part(templates, file, &bytes, &shown, error))
        return NULL;
    if (bytes == NULL && templates->folder != NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "template '%s': neither in '%s' nor built in", file,
                    templates->folder);
        return NULL;
    }
    if (bytes == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "template '%s': not built in", file);
        return NULL;
    }
    gsize len = 0;
    const char *data = g_bytes_get_data(bytes, &len);
    return cq_template_compile(shown, data ? data : "", (gssize)len,
                               part_kind[part], language,
                               cq_mail_kind_schema(kind), error);
}

static CqTemplateSet *
load_set(const CqTemplates *templates, const char *name, CqMailKind kind,
         const char *language, GError **error)
{
    CqTemplateSet *set = g_new0(CqTemplateSet, 1);
    GError *local = NULL;

    set->name = g_strdup(name);
    set->language = g_strdup(language);
    set->subject =
        compile_part(templates, name, language, PART_SUBJECT, kind, error);
    if (set->subject != NULL)
        set->text =
            compile_part(templates, name, language, PART_TEXT, kind, error);
    if (set->text != NULL) {
        set->html =
            compile_part(templates, name, language, PART_HTML, kind, &local);
        if (g_error_matches(local, CQ_ERROR, CQ_ERROR_NOT_FOUND))
            g_clear_error(&local);
        if (local != NULL) {
            g_propagate_error(error, local);
            g_clear_pointer(&set->text, cq_template_free);
        }
    }
    if (set->text == NULL) {
        template_set_free(set);
        return NULL;
    }
    return set;
}

static gboolean
check_name(const char *name, GError **error)
{
    if (cq_template_name_valid(name))
        return TRUE;
    g_autofree char *shown = cq_text_printable(name ? name : "");
    g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                "template name '%s': use 1 to 64 of a-z, 0-9, '-' and '_'",
                shown);
    return FALSE;
}

/* The language to use for @asked: itself when the set exists in it, else
 * the fallback. */
static char *
choose_language(const CqTemplates *templates, const char *name,
                const char *asked, GError **error)
{
    GError *local = NULL;

    if (asked != NULL && language_present(templates, name, asked, &local))
        return g_strdup(asked);
    if (local != NULL) {
        g_propagate_error(error, local);
        return NULL;
    }
    if (language_present(templates, name, templates->fallback, &local))
        return g_strdup(templates->fallback);
    if (local != NULL) {
        g_propagate_error(error, local);
        return NULL;
    }
    g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                "template set '%s': no '%s.%s.subject' (language '%s' nor "
                "fallback '%s')",
                name, name, templates->fallback, asked ? asked : "",
                templates->fallback);
    return NULL;
}

static const CqTemplateSet *
get_resolved(CqTemplates *templates, const char *name, CqMailKind kind,
             const char *language, GError **error)
{
    g_autofree char *key =
        g_strdup_printf("%s/%d/=%s", name, (int)kind, language);
    CqTemplateSet *set = g_hash_table_lookup(templates->index, key);

    if (set != NULL)
        return set;
    set = load_set(templates, name, kind, language, error);
    if (set == NULL)
        return NULL;
    g_ptr_array_add(templates->sets, set);
    g_hash_table_insert(templates->index, g_steal_pointer(&key), set);
    return set;
}

const CqTemplateSet *
cq_templates_get(CqTemplates *templates, const char *name, CqMailKind kind,
                 const char *language, GError **error)
{
    g_autofree char *asked = cq_language_normalize(language);
    g_autofree char *key =
        g_strdup_printf("%s/%d/%s", name, (int)kind, asked ? asked : "");
    const CqTemplateSet *set = g_hash_table_lookup(templates->index, key);

    if (set != NULL)
        return set;
    if (!check_name(name, error))
        return NULL;
    g_autofree char *chosen = choose_language(templates, name, asked, error);
    if (chosen == NULL)
        return NULL;
    set = get_resolved(templates, name, kind, chosen, error);
    if (set != NULL)
        g_hash_table_insert(templates->index, g_steal_pointer(&key),
                            (gpointer)set);
    return set;
}

/* Adds the languages of the folder's NAME.LANG.subject files to @langs. */
static void
folder_languages(const CqTemplates *templates, const char *name,
                 GPtrArray *langs)
{
    g_autoptr(GDir) dir = NULL;
    const char *entry = NULL;
    g_autofree char *prefix = g_strconcat(name, ".", NULL);

    if (templates->folder == NULL)
        return;
    dir = g_dir_open(templates->folder, 0, NULL);
    while (dir != NULL && (entry = g_dir_read_name(dir)) != NULL) {
        if (!g_str_has_prefix(entry, prefix) ||
            !g_str_has_suffix(entry, ".subject"))
            continue;
        g_autofree char *lang =
            g_strndup(entry + strlen(prefix),
                      strlen(entry) - strlen(prefix) - strlen(".subject"));
        g_autofree char *norm = cq_language_normalize(lang);
        if (norm != NULL && strcmp(norm, lang) == 0)
            g_ptr_array_add(langs, g_steal_pointer(&lang));
    }
}

gboolean
cq_templates_check(CqTemplates *templates, const char *name, CqMailKind kind,
                   GError **error)
{
    g_autoptr(GPtrArray) langs = g_ptr_array_new_with_free_func(g_free);
    GError *local = NULL;

    if (!check_name(name, error))
        return FALSE;
    g_ptr_array_add(langs, g_strdup(templates->fallback));
    for (gsize i = 0; i < G_N_ELEMENTS(builtin_languages); i++)
        g_ptr_array_add(langs, g_strdup(builtin_languages[i]));
    folder_languages(templates, name, langs);
    for (guint i = 0; i < langs->len; i++) {
        const char *lang = langs->pdata[i];
        if (i > 0 && !language_present(templates, name, lang, &local)) {
            if (local != NULL) {
                g_propagate_error(error, local);
                return FALSE;
            }
            continue;
        }
        if (cq_templates_get(templates, name, kind, lang, error) == NULL)
            return FALSE;
    }
    return TRUE;
}
