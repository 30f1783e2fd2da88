#include "common/config.h"

#include "caqmail-build.h"
#include "common/error.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

typedef enum {
    KEY_STRING,
    KEY_PATH,   /* a string; a leading ~/ means the home folder */
    KEY_SECRET, /* a string that must stay private */
    KEY_BOOL,
    KEY_INT,
    KEY_DURATION,
    KEY_SIZE,
    KEY_CHOICE, /* a string out of a fixed list */
} KeyType;

typedef struct {
    const char *section;
    const char *name;
    KeyType type;
    const char *fallback; /* built-in default, as the file would say it */
    gsize offset;
    const char *choices; /* for KEY_CHOICE: "a|b|c" */
    gint64 min, max;     /* for KEY_INT */
} KeyDef;

#define OFF(field) G_STRUCT_OFFSET(CqConfig, field)

static const KeyDef keys[] = {
    {"general", "data_dir", KEY_PATH, NULL, OFF(general.data_dir)},
    {"general", "log_level", KEY_CHOICE, "notice", OFF(general.log_level),
     "error|warning|notice|info|debug"},
    {"general", "syslog", KEY_BOOL, "true", OFF(general.syslog)},

    {"message", "from", KEY_STRING, NULL, OFF(message.from)},
    {"message", "message_id_domain", KEY_STRING, NULL,
     OFF(message.message_id_domain)},
    {"message", "body_encoding", KEY_CHOICE, "auto",
     OFF(message.body_encoding), "auto|7bit"},
    {"message", "max_attachment_size", KEY_SIZE, "0",
     OFF(message.max_attachment_size)},
    {"message", "max_message_size", KEY_SIZE, "0",
     OFF(message.max_message_size)},

    {"transport", "maildir", KEY_PATH, NULL, OFF(transport.maildir)},

    {"smtp", "host", KEY_STRING, NULL, OFF(smtp.host)},
    {"smtp", "port", KEY_INT, "0", OFF(smtp.port), NULL, 0, 65535},
    {"smtp", "tls", KEY_CHOICE, "starttls", OFF(smtp.tls),
     "starttls|implicit|none"},
    {"smtp", "tls_required", KEY_CHOICE, "auto", OFF(smtp.tls_required),
     "auto|yes|no"},
    {"smtp", "ca_file", KEY_PATH, NULL, OFF(smtp.ca_file)},
    {"smtp", "fingerprint", KEY_STRING, NULL, OFF(smtp.fingerprint)},
    {"smtp", "helo_name", KEY_STRING, NULL, OFF(smtp.helo_name)},
    {"smtp", "user", KEY_STRING, NULL, OFF(smtp.user)},
    {"smtp", "password", KEY_SECRET, NULL, OFF(smtp.password)},
    {"smtp", "password_command", KEY_STRING, NULL,
     OFF(smtp.password_command)},
    {"smtp", "password_env", KEY_STRING, NULL, OFF(smtp.password_env)},
    {"smtp", "auth_mechanisms", KEY_STRING, NULL, OFF(smtp.auth_mechanisms)},

    {"convert", "soffice", KEY_STRING, "soffice", OFF(convert.soffice)},
    {"convert", "timeout", KEY_DURATION, "60s", OFF(convert.timeout)},
    {"convert", "cache_dir", KEY_PATH, NULL, OFF(convert.cache_dir)},
    {"convert", "max_parallel", KEY_INT, "0", OFF(convert.max_parallel), NULL,
     0, 64},
    {"convert", "text_encoding", KEY_CHOICE, "windows-1252",
     OFF(convert.text_encoding), "windows-1252|iso-8859-1|iso-8859-15"},
};

static gpointer
field(CqConfig *config, const KeyDef *def)
{
    return G_STRUCT_MEMBER_P(config, def->offset);
}

static gboolean
parse_scaled(const char *text, const char *units, const gint64 *scales,
             gint64 *out)
{
    char *end = NULL;

    if (text == NULL || !g_ascii_isdigit(*text))
        return FALSE;
    errno = 0;
    guint64 value = g_ascii_strtoull(text, &end, 10);
    if (errno != 0)
        return FALSE;

    gint64 scale = 1;
    if (*end != '\0') {
        const char *unit = strchr(units, g_ascii_tolower(*end));
        if (unit == NULL || end[1] != '\0')
            return FALSE;
        scale = scales[unit - units];
    }
    if (value > (guint64)(G_MAXINT64 / scale))
        return FALSE;
    *out = (gint64)value * scale;
    return TRUE;
}

gboolean
cq_config_parse_duration(const char *text, gint64 *seconds)
{
    static const gint64 scales[] = {1, 60, 3600, 86400};
    return parse_scaled(text, "smhd", scales, seconds);
}

gboolean
cq_config_parse_size(const char *text, gint64 *bytes)
{
    static const gint64 scales[] = {1024, 1024 * 1024, 1024 * 1024 * 1024};
    return parse_scaled(text, "kmg", scales, bytes);
}

static gboolean
choice_allowed(const char *choices, const char *value)
{
    g_auto(GStrv) list = g_strsplit(choices, "|", -1);
    return g_strv_contains((const char *const *)list, value);
}

static char *
expand_path(const char *value)
{
    if (g_str_has_prefix(value, "~/"))
        return g_build_filename(g_get_home_dir(), value + 2, NULL);
    return g_strdup(value);
}

static gboolean
set_value(CqConfig *config, const KeyDef *def, const char *value,
          GError **error)
{
    gpointer p = field(config, def);
    gint64 number = 0;
    const char *what = NULL;

    switch (def->type) {
    case KEY_STRING:
    case KEY_SECRET:
        g_free(*(char **)p);
        *(char **)p = value ? g_strdup(value) : NULL;
        return TRUE;
    case KEY_PATH:
        g_free(*(char **)p);
        *(char **)p = value ? expand_path(value) : NULL;
        return TRUE;
    case KEY_CHOICE:
        if (!choice_allowed(def->choices, value)) {
            what = def->choices;
            break;
        }
        g_free(*(char **)p);
        *(char **)p = g_strdup(value);
        return TRUE;
    case KEY_BOOL:
        if (g_strcmp0(value, "true") == 0 || g_strcmp0(value, "yes") == 0)
            *(gboolean *)p = TRUE;
        else if (g_strcmp0(value, "false") == 0 ||
                 g_strcmp0(value, "no") == 0)
            *(gboolean *)p = FALSE;
        else {
            what = "true or false";
            break;
        }
        return TRUE;
    case KEY_INT:
        if (!g_ascii_string_to_signed(value, 10, def->min, def->max, &number,
                                      NULL)) {
            what = "a whole number in range";
            break;
        }
        *(gint64 *)p = number;
        return TRUE;
    case KEY_DURATION:
        if (!cq_config_parse_duration(value, &number)) {
            what = "a duration such as 30s, 5m, 2h or 5d";
            break;
        }
        *(gint64 *)p = number;
        return TRUE;
    case KEY_SIZE:
        if (!cq_config_parse_size(value, &number)) {
            what = "a size such as 4096, 512k or 25M";
            break;
        }
        *(gint64 *)p = number;
        return TRUE;
    }
    g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                "setting '%s.%s': '%s' is not valid (expected %s)",
                def->section, def->name, value ? value : "", what);
    return FALSE;
}

static const KeyDef *
find_key(const char *section, const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        if (strcmp(keys[i].section, section) == 0 &&
            strcmp(keys[i].name, name) == 0)
            return &keys[i];
    }
    return NULL;
}

static gboolean
section_known(const char *section)
{
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        if (strcmp(keys[i].section, section) == 0)
            return TRUE;
    }
    return FALSE;
}

static gboolean
apply_defaults(CqConfig *config, GError **error)
{
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        if (keys[i].fallback == NULL)
            continue;
        if (!set_value(config, &keys[i], keys[i].fallback, error))
            return FALSE;
    }
    return TRUE;
}

/* Fills in the defaults that depend on other settings. */
static void
derive_settings(CqConfig *config)
{
    if (config->general.data_dir == NULL)
        config->general.data_dir =
            g_build_filename(g_get_user_data_dir(), "caqmail", NULL);
    if (config->transport.maildir == NULL)
        config->transport.maildir =
            g_build_filename(config->general.data_dir, "maildir", NULL);
    if (config->convert.cache_dir == NULL)
        config->convert.cache_dir =
            g_build_filename(config->general.data_dir, "convert", NULL);
    config->transport.kind = config->smtp.host != NULL
                                 ? CQ_TRANSPORT_SMTP
                                 : CQ_TRANSPORT_MAILDIR;
}

static gboolean
read_section(CqConfig *config, GKeyFile *file, const char *section,
             GError **error)
{
    g_auto(GStrv) names = g_key_file_get_keys(file, section, NULL, NULL);

    for (gsize i = 0; names && names[i]; i++) {
        const KeyDef *def = find_key(section, names[i]);
        if (def == NULL) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                        "config '%s': unknown setting '%s' in section [%s]",
                        config->path, names[i], section);
            return FALSE;
        }
        g_autofree char *value =
            g_key_file_get_string(file, section, names[i], NULL);
        if (value != NULL)
            g_strstrip(value);
        if (def->type == KEY_SECRET && value != NULL && *value != '\0')
            config->holds_secret = TRUE;
        if (!set_value(config, def, value, error)) {
            g_prefix_error(error, "config '%s': ", config->path);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
check_private(const char *path, GError **error)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG, "config '%s': %s",
                    path, g_strerror(errno));
        return FALSE;
    }
    if ((st.st_mode & 0077) == 0)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                "config '%s' holds a password but others can read it "
                "(mode %04o); make it private with: chmod 600 '%s'",
                path, (unsigned)(st.st_mode & 07777), path);
    return FALSE;
}

static gboolean
read_file(CqConfig *config, const char *path, GError **error)
{
    g_autoptr(GKeyFile) file = g_key_file_new();
    g_autoptr(GError) local = NULL;

    config->path = g_strdup(path);
    if (!g_key_file_load_from_file(file, path, G_KEY_FILE_NONE, &local)) {
        int code = g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                       ? CQ_ERROR_NOINPUT
                       : CQ_ERROR_CONFIG;
        g_set_error(error, CQ_ERROR, code, "config '%s': %s", path,
                    local->message);
        return FALSE;
    }

    g_auto(GStrv) sections = g_key_file_get_groups(file, NULL);
    for (gsize i = 0; sections[i]; i++) {
        if (!section_known(sections[i])) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                        "config '%s': unknown section [%s]", path,
                        sections[i]);
            return FALSE;
        }
        if (!read_section(config, file, sections[i], error))
            return FALSE;
    }
    if (config->holds_secret && !check_private(path, error))
        return FALSE;
    return TRUE;
}

CqConfig *
cq_config_load_file(const char *path, GError **error)
{
    g_autoptr(CqConfig) config = g_new0(CqConfig, 1);

    if (!apply_defaults(config, error))
        return NULL;
    if (path != NULL && !read_file(config, path, error))
        return NULL;
    derive_settings(config);
    return g_steal_pointer(&config);
}

CqConfig *
cq_config_load(const char *explicit_path, GError **error)
{
    if (explicit_path != NULL)
        return cq_config_load_file(explicit_path, error);

    const char *env = g_getenv("CAQMAIL_CONFIG");
    if (env != NULL && *env != '\0')
        return cq_config_load_file(env, error);

    g_autofree char *user = g_build_filename(
        g_get_user_config_dir(), "caqmail", "caqmail.conf", NULL);
    if (g_file_test(user, G_FILE_TEST_EXISTS))
        return cq_config_load_file(user, error);

    g_autofree char *system =
        g_build_filename(CAQMAIL_SYSCONFDIR, "caqmail", "caqmail.conf", NULL);
    if (g_file_test(system, G_FILE_TEST_EXISTS))
        return cq_config_load_file(system, error);

    return cq_config_load_file(NULL, error);
}

void
cq_config_free(CqConfig *config)
{
    if (config == NULL)
        return;
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        KeyType t = keys[i].type;
        if (t == KEY_STRING || t == KEY_PATH || t == KEY_CHOICE ||
            t == KEY_SECRET) {
            char **p = field(config, &keys[i]);
            if (t == KEY_SECRET && *p != NULL)
                memset(*p, 0, strlen(*p));
            g_clear_pointer(p, g_free);
        }
    }
    g_free(config->path);
    g_free(config);
}

static char *
format_value(const CqConfig *config, const KeyDef *def)
{
    gconstpointer p = G_STRUCT_MEMBER_P(config, def->offset);

    switch (def->type) {
    case KEY_SECRET:
        return g_strdup(*(char *const *)p ? "(set)" : "");
    case KEY_STRING:
    case KEY_PATH:
    case KEY_CHOICE:
        return g_strdup(*(char *const *)p ? *(char *const *)p : "");
    case KEY_BOOL:
        return g_strdup(*(const gboolean *)p ? "true" : "false");
    case KEY_INT:
    case KEY_DURATION:
    case KEY_SIZE:
        return g_strdup_printf("%" G_GINT64_FORMAT, *(const gint64 *)p);
    }
    return g_strdup("");
}

char *
cq_config_dump(const CqConfig *config)
{
    GString *out = g_string_new(NULL);
    const char *section = NULL;

    g_string_append_printf(out, "# from %s\n",
                           config->path ? config->path : "built-in defaults");
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        if (g_strcmp0(section, keys[i].section) != 0) {
            section = keys[i].section;
            g_string_append_printf(out, "\n[%s]\n", section);
        }
        g_autofree char *value = format_value(config, &keys[i]);
        g_string_append_printf(out, "%s = %s\n", keys[i].name, value);
    }
    return g_string_free(out, FALSE);
}
