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
    gboolean required;   /* in numbered sections: must be given */
} KeyDef;

#define OFF(field) G_STRUCT_OFFSET(CqConfig, field)
#define LEVEL(field) G_STRUCT_OFFSET(CqRemindLevelSettings, field)

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

    {"store", "database", KEY_PATH, NULL, OFF(store.database)},
    {"store", "sync", KEY_CHOICE, "full", OFF(store.sync), "full|normal"},
    {"store", "busy_timeout", KEY_DURATION, "60s", OFF(store.busy_timeout)},

    {"outbox", "lease", KEY_DURATION, "5m", OFF(outbox.lease)},
    {"outbox", "retry_base", KEY_DURATION, "1m", OFF(outbox.retry_base)},
    {"outbox", "retry_max", KEY_DURATION, "1h", OFF(outbox.retry_max)},
    {"outbox", "max_age", KEY_DURATION, "5d", OFF(outbox.max_age)},
    {"outbox", "batch", KEY_INT, "100", OFF(outbox.batch), NULL, 1, 10000},
    {"outbox", "poll_interval", KEY_DURATION, "5s",
     OFF(outbox.poll_interval)},

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
    {"smtp", "token_command", KEY_STRING, NULL, OFF(smtp.token_command)},
    {"smtp", "oauth_token_url", KEY_STRING, NULL, OFF(smtp.oauth_token_url)},
    {"smtp", "oauth_client_id", KEY_STRING, NULL, OFF(smtp.oauth_client_id)},
    {"smtp", "oauth_client_secret", KEY_SECRET, NULL,
     OFF(smtp.oauth_client_secret)},
    {"smtp", "oauth_client_secret_command", KEY_STRING, NULL,
     OFF(smtp.oauth_client_secret_command)},
    {"smtp", "oauth_client_secret_env", KEY_STRING, NULL,
     OFF(smtp.oauth_client_secret_env)},
    {"smtp", "oauth_refresh_token", KEY_SECRET, NULL,
     OFF(smtp.oauth_refresh_token)},
    {"smtp", "oauth_refresh_token_command", KEY_STRING, NULL,
     OFF(smtp.oauth_refresh_token_command)},
    {"smtp", "oauth_refresh_token_env", KEY_STRING, NULL,
     OFF(smtp.oauth_refresh_token_env)},
    {"smtp", "oauth_scope", KEY_STRING, NULL, OFF(smtp.oauth_scope)},
    {"smtp", "connections", KEY_INT, "1", OFF(smtp.connections), NULL, 1,
     64},
    {"smtp", "timeout_connect", KEY_DURATION, "1m",
     OFF(smtp.timeout_connect)},
    {"smtp", "timeout_greeting", KEY_DURATION, "5m",
     OFF(smtp.timeout_greeting)},
    {"smtp", "timeout_mail", KEY_DURATION, "5m", OFF(smtp.timeout_mail)},
    {"smtp", "timeout_rcpt", KEY_DURATION, "5m", OFF(smtp.timeout_rcpt)},
    {"smtp", "timeout_data", KEY_DURATION, "2m", OFF(smtp.timeout_data)},
    {"smtp", "timeout_block", KEY_DURATION, "3m", OFF(smtp.timeout_block)},
    {"smtp", "timeout_dot", KEY_DURATION, "10m", OFF(smtp.timeout_dot)},
    {"smtp", "dsn_notify", KEY_STRING, NULL, OFF(smtp.dsn_notify)},
    {"smtp", "dsn_ret", KEY_CHOICE, "default", OFF(smtp.dsn_ret),
     "default|full|hdrs"},

    {"templates", "folder", KEY_PATH, NULL, OFF(templates.folder)},
    {"templates", "language", KEY_STRING, "de", OFF(templates.language)},

    {"remind", "quality_management", KEY_STRING, NULL,
     OFF(remind.quality_management)},

    {"gauges", "within_days", KEY_INT, "14", OFF(gauges.within_days), NULL,
     0, 3650},
    {"gauges", "repeat_days", KEY_INT, "7", OFF(gauges.repeat_days), NULL, 1,
     3650},
    {"gauges", "lab", KEY_STRING, NULL, OFF(gauges.lab)},
    {"gauges", "template", KEY_STRING, "collection",
     OFF(gauges.template_name)},

    {"convert", "soffice", KEY_STRING, "soffice", OFF(convert.soffice)},
    {"convert", "timeout", KEY_DURATION, "60s", OFF(convert.timeout)},
    {"convert", "cache_dir", KEY_PATH, NULL, OFF(convert.cache_dir)},
    {"convert", "max_parallel", KEY_INT, "0", OFF(convert.max_parallel), NULL,
     0, 64},
    {"convert", "text_encoding", KEY_CHOICE, "windows-1252",
     OFF(convert.text_encoding), "windows-1252|iso-8859-1|iso-8859-15"},

    {"web", "address", KEY_STRING, "127.0.0.1", OFF(web.address)},
    {"web", "port", KEY_INT, "8025", OFF(web.port), NULL, 0, 65535},
    {"web", "tls_certificate", KEY_PATH, NULL, OFF(web.tls_certificate)},
    {"web", "tls_key", KEY_PATH, NULL, OFF(web.tls_key)},
    {"web", "secure_cookie", KEY_BOOL, "false", OFF(web.secure_cookie)},
    {"web", "trusted_header", KEY_STRING, NULL, OFF(web.trusted_header)},
    {"web", "trusted_proxies", KEY_STRING, NULL, OFF(web.trusted_proxies)},
    {"web", "max_upload_size", KEY_SIZE, "25M", OFF(web.max_upload_size)},
    {"web", "upload_dir", KEY_PATH, NULL, OFF(web.upload_dir)},
    {"web", "session_lifetime", KEY_DURATION, "8h",
     OFF(web.session_lifetime)},
    {"web", "login_attempts", KEY_INT, "5", OFF(web.login_attempts), NULL, 1,
     1000},
    {"web", "login_lockout", KEY_DURATION, "5m", OFF(web.login_lockout)},

    {"sendmail", "record", KEY_STRING, NULL, OFF(sendmail.record)},
    {"sendmail", "origin", KEY_CHOICE, "sendmail", OFF(sendmail.origin),
     "sendmail|api"},
    {"sendmail", "deliver", KEY_BOOL, "true", OFF(sendmail.deliver)},
};

/* The keys of a [remind.level.N] section. */
static const KeyDef level_keys[] = {
    {"remind.level", "offset", KEY_INT, NULL, LEVEL(offset), NULL, -3650,
     3650, TRUE},
    {"remind.level", "to", KEY_STRING, "responsible", LEVEL(to)},
    {"remind.level", "cc", KEY_STRING, NULL, LEVEL(cc)},
    {"remind.level", "template", KEY_STRING, NULL, LEVEL(template_name)},
    {"remind.level", "mode", KEY_CHOICE, "per-measure", LEVEL(mode),
     "per-measure|digest"},
};

/* Sections that repeat with a number, [PREFIX.1], [PREFIX.2], ...: each
 * becomes one element of a GArray in CqConfig, sorted by number.  The
 * defaults are INI text that applies when the file has no such section;
 * one such section in the file replaces all of them. */
typedef struct {
    const char *prefix;
    const KeyDef *keys;
    gsize n_keys;
    gsize element_size;
    gsize number;  /* offset of the element's gint64 number */
    gsize array;   /* offset of the GArray * in CqConfig */
    const char *defaults;
} NumberedDef;

static const NumberedDef numbered[] = {
    {"remind.level", level_keys, G_N_ELEMENTS(level_keys),
     sizeof(CqRemindLevelSettings), LEVEL(number), OFF(remind.levels),
     "[remind.level.1]\noffset = -3\n"
     "[remind.level.2]\noffset = 1\n"
     "[remind.level.3]\noffset = 7\ncc = supervisor\n"
     "[remind.level.4]\noffset = 14\ncc = supervisor, quality-management\n"},
};

#define MAX_SECTION_NUMBER 999

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
set_field(gpointer p, const char *section, const KeyDef *def,
          const char *value, GError **error)
{
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
                "setting '%s.%s': '%s' is not valid (expected %s)", section,
                def->name, value ? value : "", what);
    return FALSE;
}

static gboolean
set_value(CqConfig *config, const KeyDef *def, const char *value,
          GError **error)
{
    return set_field(field(config, def), def->section, def, value, error);
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

/* Frees the strings that @defs describe in the structure at @base. */
static void
free_fields(gpointer base, const KeyDef *defs, gsize n_defs)
{
    for (gsize i = 0; i < n_defs; i++) {
        KeyType t = defs[i].type;
        if (t == KEY_STRING || t == KEY_PATH || t == KEY_CHOICE ||
            t == KEY_SECRET) {
            char **p = G_STRUCT_MEMBER_P(base, defs[i].offset);
            if (t == KEY_SECRET && *p != NULL)
                memset(*p, 0, strlen(*p));
            g_clear_pointer(p, g_free);
        }
    }
}

/* ---- Numbered sections: [remind.level.1], [remind.level.2], ... ---- */

static GArray **
numbered_array(CqConfig *config, const NumberedDef *def)
{
    return G_STRUCT_MEMBER_P(config, def->array);
}

static void
numbered_clear(CqConfig *config, const NumberedDef *def)
{
    GArray *array = *numbered_array(config, def);

    for (guint i = 0; array != NULL && i < array->len; i++)
        free_fields(array->data + i * def->element_size, def->keys,
                    def->n_keys);
    if (array != NULL)
        g_array_set_size(array, 0);
}

/* The family of numbered sections that @section belongs to, or NULL.  A
 * section of a family with a bad number is an error. */
static const NumberedDef *
find_numbered(const char *origin, const char *section, guint64 *number,
              GError **error)
{
    for (gsize i = 0; i < G_N_ELEMENTS(numbered); i++) {
        const NumberedDef *def = &numbered[i];
        gsize n = strlen(def->prefix);
        if (strncmp(section, def->prefix, n) != 0 ||
            (section[n] != '.' && section[n] != '\0'))
            continue;
        const char *digits = section[n] ? section + n + 1 : "";
        if (digits[0] != '0' &&
            g_ascii_string_to_unsigned(digits, 10, 1, MAX_SECTION_NUMBER,
                                       number, NULL))
            return def;
        g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                    "config '%s': section [%s] needs a number from 1 to %d, "
                    "as in [%s.1]",
                    origin, section, MAX_SECTION_NUMBER, def->prefix);
        return NULL;
    }
    return NULL;
}

static const KeyDef *
find_numbered_key(const NumberedDef *def, const char *name)
{
    for (gsize i = 0; i < def->n_keys; i++) {
        if (strcmp(def->keys[i].name, name) == 0)
            return &def->keys[i];
    }
    return NULL;
}

/* Fills @element from the fallbacks and the keys of @section. */
static gboolean
fill_numbered(gpointer element, const NumberedDef *def, GKeyFile *file,
              const char *origin, const char *section, GError **error)
{
    g_auto(GStrv) names = g_key_file_get_keys(file, section, NULL, NULL);

    for (gsize i = 0; i < def->n_keys; i++) {
        const KeyDef *key = &def->keys[i];
        gpointer p = G_STRUCT_MEMBER_P(element, key->offset);
        if (key->fallback && !set_field(p, section, key, key->fallback, error))
            return FALSE;
        if (key->required && !g_key_file_has_key(file, section, key->name,
                                                 NULL)) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                        "config '%s': section [%s] needs the setting '%s'",
                        origin, section, key->name);
            return FALSE;
        }
    }
    for (gsize i = 0; names && names[i]; i++) {
        const KeyDef *key = find_numbered_key(def, names[i]);
        if (key == NULL) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                        "config '%s': unknown setting '%s' in section [%s]",
                        origin, names[i], section);
            return FALSE;
        }
        g_autofree char *value =
            g_key_file_get_string(file, section, names[i], NULL);
        if (value != NULL)
            g_strstrip(value);
        if (!set_field(G_STRUCT_MEMBER_P(element, key->offset), section, key,
                       value, error)) {
            g_prefix_error(error, "config '%s': ", origin);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
read_numbered(CqConfig *config, const NumberedDef *def, GKeyFile *file,
              const char *origin, const char *section, guint64 number,
              GError **error)
{
    gpointer element = g_malloc0(def->element_size);
    gboolean ok = fill_numbered(element, def, file, origin, section, error);

    if (ok) {
        *(gint64 *)G_STRUCT_MEMBER_P(element, def->number) = (gint64)number;
        g_array_append_vals(*numbered_array(config, def), element, 1);
    } else {
        free_fields(element, def->keys, def->n_keys);
    }
    g_free(element);
    return ok;
}

static gint
compare_numbered(gconstpointer a, gconstpointer b, gpointer user_data)
{
    const NumberedDef *def = user_data;
    gint64 na = *(const gint64 *)G_STRUCT_MEMBER_P(a, def->number);
    gint64 nb = *(const gint64 *)G_STRUCT_MEMBER_P(b, def->number);

    return na < nb ? -1 : na > nb;
}

/* Reads every numbered section of @file; a family that has at least one
 * section in @file replaces its defaults. */
static gboolean
read_all_numbered(CqConfig *config, GKeyFile *file, const char *origin,
                  GError **error)
{
    g_auto(GStrv) sections = g_key_file_get_groups(file, NULL);
    gboolean seen[G_N_ELEMENTS(numbered)] = {FALSE};

    for (gsize i = 0; sections[i]; i++) {
        guint64 number = 0;
        GError *local = NULL;
        const NumberedDef *def =
            find_numbered(origin, sections[i], &number, &local);
        if (local != NULL) {
            g_propagate_error(error, local);
            return FALSE;
        }
        if (def == NULL)
            continue;
        if (!seen[def - numbered])
            numbered_clear(config, def);
        seen[def - numbered] = TRUE;
        if (!read_numbered(config, def, file, origin, sections[i], number,
                           error))
            return FALSE;
    }
    for (gsize n = 0; n < G_N_ELEMENTS(numbered); n++)
        g_array_sort_with_data(*numbered_array(config, &numbered[n]),
                               compare_numbered, (gpointer)&numbered[n]);
    return TRUE;
}

static gboolean
is_numbered(const char *section)
{
    guint64 number = 0;
    g_autoptr(GError) error = NULL;

    return find_numbered("", section, &number, &error) != NULL ||
           error != NULL;
}

static gboolean
apply_numbered_defaults(CqConfig *config, GError **error)
{
    for (gsize n = 0; n < G_N_ELEMENTS(numbered); n++)
        *numbered_array(config, &numbered[n]) =
            g_array_new(FALSE, TRUE, numbered[n].element_size);
    for (gsize n = 0; n < G_N_ELEMENTS(numbered); n++) {
        g_autoptr(GKeyFile) file = g_key_file_new();
        if (!g_key_file_load_from_data(file, numbered[n].defaults, -1,
                                       G_KEY_FILE_NONE, error) ||
            !read_all_numbered(config, file, "built-in defaults", error))
            return FALSE;
    }
    return TRUE;
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
    return apply_numbered_defaults(config, error);
}

/* Fills in the defaults that depend on other settings. */
static void
derive_settings(CqConfig *config)
{
    if (config->general.data_dir == NULL)
        config->general.data_dir =
            g_build_filename(g_get_user_data_dir(), "caqmail", NULL);
    if (config->store.database == NULL)
        config->store.database =
            g_build_filename(config->general.data_dir, "caqmail.db", NULL);
    if (config->transport.maildir == NULL)
        config->transport.maildir =
            g_build_filename(config->general.data_dir, "maildir", NULL);
    if (config->convert.cache_dir == NULL)
        config->convert.cache_dir =
            g_build_filename(config->general.data_dir, "convert", NULL);
    if (config->web.upload_dir == NULL)
        config->web.upload_dir =
            g_build_filename(config->general.data_dir, "uploads", NULL);
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
    if (!read_all_numbered(config, file, path, error))
        return FALSE;
    for (gsize i = 0; sections[i]; i++) {
        if (is_numbered(sections[i]))
            continue;
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

char **
cq_config_candidates(void)
{
    const char *env = g_getenv("CAQMAIL_CONFIG");
    GStrvBuilder *paths = g_strv_builder_new();

    if (env != NULL && *env != '\0') {
        g_strv_builder_add(paths, env);
    } else {
        g_autofree char *user = g_build_filename(
            g_get_user_config_dir(), "caqmail", "caqmail.conf", NULL);
        g_autofree char *system = g_build_filename(
            CAQMAIL_SYSCONFDIR, "caqmail", "caqmail.conf", NULL);
        g_strv_builder_add(paths, user);
        g_strv_builder_add(paths, system);
    }
    char **list = g_strv_builder_end(paths);
    g_strv_builder_unref(paths);
    return list;
}

CqConfig *
cq_config_load(const char *explicit_path, GError **error)
{
    if (explicit_path != NULL)
        return cq_config_load_file(explicit_path, error);

    g_auto(GStrv) paths = cq_config_candidates();
    const char *env = g_getenv("CAQMAIL_CONFIG");
    for (guint i = 0; paths[i] != NULL; i++) {
        /* $CAQMAIL_CONFIG must exist; the others are looked for */
        if ((env != NULL && *env != '\0') ||
            g_file_test(paths[i], G_FILE_TEST_EXISTS))
            return cq_config_load_file(paths[i], error);
    }
    return cq_config_load_file(NULL, error);
}

void
cq_config_free(CqConfig *config)
{
    if (config == NULL)
        return;
    free_fields(config, keys, G_N_ELEMENTS(keys));
    for (gsize n = 0; n < G_N_ELEMENTS(numbered); n++) {
        numbered_clear(config, &numbered[n]);
        g_clear_pointer(numbered_array(config, &numbered[n]),
                        g_array_unref);
    }
    g_free(config->path);
    g_free(config);
}

static char *
format_value(gconstpointer base, const KeyDef *def)
{
    gconstpointer p = G_STRUCT_MEMBER_P(base, def->offset);

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
cq_config_relative_path(const CqConfig *config)
{
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        if (keys[i].type != KEY_PATH)
            continue;
        const char *value =
            *(char *const *)G_STRUCT_MEMBER_P(config, keys[i].offset);
        if (value != NULL && *value != '\0' && !g_path_is_absolute(value) &&
            !g_str_has_prefix(value, "postgres"))
            return g_strdup_printf("%s.%s", keys[i].section, keys[i].name);
    }
    return NULL;
}

static void
dump_numbered(GString *out, const CqConfig *config, const NumberedDef *def)
{
    const GArray *array = *(GArray *const *)G_STRUCT_MEMBER_P(config,
                                                              def->array);

    for (guint i = 0; i < array->len; i++) {
        gconstpointer element = array->data + i * def->element_size;
        g_string_append_printf(
            out, "\n[%s.%" G_GINT64_FORMAT "]\n", def->prefix,
            *(const gint64 *)G_STRUCT_MEMBER_P(element, def->number));
        for (gsize k = 0; k < def->n_keys; k++) {
            g_autofree char *value = format_value(element, &def->keys[k]);
            g_string_append_printf(out, "%s = %s\n", def->keys[k].name,
                                   value);
        }
    }
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
    for (gsize n = 0; n < G_N_ELEMENTS(numbered); n++)
        dump_numbered(out, config, &numbered[n]);
    return g_string_free(out, FALSE);
}
