/* Configuration: an INI file read with GKeyFile into typed settings.
 *
 * The file is looked up in this order: an explicit path (--config), then
 * $CAQMAIL_CONFIG, then $XDG_CONFIG_HOME/caqmail/caqmail.conf (normally
 * ~/.config/caqmail/caqmail.conf), then SYSCONFDIR/caqmail/caqmail.conf.
 * Without any file the built-in defaults apply, so nothing is needed to
 * start.  Unknown sections and keys are errors, so that a misspelt key is
 * not silently ignored.  A file that holds a secret (a password or a client
 * secret) must not be readable by group or others.
 *
 * Every setting lives in one table in config.c; that table is also what
 * `caqmail config` prints.  A module reads its settings from the typed
 * structure below and never from the key file.
 */
#ifndef CQ_COMMON_CONFIG_H
#define CQ_COMMON_CONFIG_H

#include <glib.h>

typedef enum {
    CQ_TRANSPORT_MAILDIR,
    CQ_TRANSPORT_SMTP,
} CqTransportKind;

typedef struct {
    char *data_dir; /* state folder; default $XDG_DATA_HOME/caqmail */
    char *log_level; /* error, warning, notice, info, debug */
    gboolean syslog; /* long-running commands also log to the journal */
} CqGeneralSettings;

typedef struct {
    char *from;              /* default sender; NULL: the user's login */
    char *message_id_domain; /* NULL: the domain of the sender */
    char *body_encoding;     /* "auto" (8bit where allowed) or "7bit" */
    gint64 max_attachment_size; /* bytes per attachment, 0: no limit */
    gint64 max_message_size;    /* bytes per composed message, 0: none */
} CqMessageSettings;

typedef struct {
    CqTransportKind kind; /* maildir unless an SMTP host is configured */
    char *maildir;        /* default <data_dir>/maildir */
} CqTransportSettings;

typedef struct {
    char *host;            /* NULL: no SMTP server, deliver into maildir */
    gint64 port;           /* 0: 465 for implicit TLS, else 587 */
    char *tls;             /* starttls, implicit or none */
    char *tls_required;    /* auto (all but loopback), yes, no */
    char *ca_file;         /* extra trust anchors; NULL: system store */
    char *fingerprint;     /* pinned SHA-256 of the server certificate */
    char *helo_name;       /* NULL: this host's name */
    char *user;            /* authentication identity, NULL: no AUTH */
    char *password;        /* secret kept in the file (mode 0600 only) */
    char *password_command; /* program that prints the password */
    char *password_env;    /* environment variable with the password */
    char *auth_mechanisms; /* NULL: best offered; else a list */
} CqSmtpSettings;

typedef struct {
    char *soffice;        /* LibreOffice's soffice: a name in PATH or a path */
    gint64 timeout;       /* seconds per conversion, then it is killed */
    char *cache_dir;      /* converted PDFs; default <data_dir>/convert */
    gint64 max_parallel;  /* conversions at once, 0: one per processor */
    char *text_encoding;  /* what text that is not UTF-8 is read as */
} CqConvertSettings;

typedef struct {
    char *path; /* the file that was read, NULL for built-in defaults */
    gboolean holds_secret;
    CqGeneralSettings general;
    CqMessageSettings message;
    CqTransportSettings transport;
    CqSmtpSettings smtp;
    CqConvertSettings convert;
} CqConfig;

/* Finds and reads the configuration as described above; @explicit_path may
 * be NULL.  Returns a new CqConfig to free with cq_config_free(). */
CqConfig *cq_config_load(const char *explicit_path, GError **error);

/* Reads exactly @path (NULL: built-in defaults only). */
CqConfig *cq_config_load_file(const char *path, GError **error);

void cq_config_free(CqConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqConfig, cq_config_free)

/* Writes every setting with its current value as INI text; secrets are
 * written as "(set)" and never in clear. */
char *cq_config_dump(const CqConfig *config);

/* Parses "30", "30s", "5m", "2h", "5d" into seconds. */
gboolean cq_config_parse_duration(const char *text, gint64 *seconds);
/* Parses "1024", "10k", "25M", "1G" into bytes. */
gboolean cq_config_parse_size(const char *text, gint64 *bytes);

#endif
