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
 * `caqmail config` prints.  Sections that repeat with a number, such as
 * [remind.level.1], [remind.level.2], become arrays sorted by number; when
 * the file has none, built-in ones apply, and one in the file replaces all
 * of those.  A module reads its settings from the typed
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
    char *database; /* SQLite file (default <data_dir>/caqmail.db) or
                       postgresql:// URI */
    char *sync;     /* full: every commit reaches the disk; normal */
    gint64 busy_timeout; /* seconds to wait for another writer */
} CqStoreSettings;

typedef struct {
    gint64 lease;         /* seconds a worker's claim lasts */
    gint64 retry_base;    /* seconds before the first retry */
    gint64 retry_max;     /* longest wait between retries */
    gint64 max_age;       /* give up on temporary failures after */
    gint64 batch;         /* mails claimed and committed together */
    gint64 poll_interval; /* how often a daemon looks for new mail */
} CqOutboxSettings;

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
    char *token_command;   /* program that prints an OAuth2 token */
    char *oauth_token_url; /* token endpoint for caqmail's own grant */
    char *oauth_client_id;
    char *oauth_client_secret;  /* secret kept in the file (0600 only) */
    char *oauth_client_secret_command;
    char *oauth_client_secret_env;
    char *oauth_refresh_token;  /* refresh-token grant; secret */
    char *oauth_refresh_token_command;
    char *oauth_refresh_token_env;
    char *oauth_scope;     /* space-separated scopes for the grant */
    gint64 connections;    /* parallel connections for bulk sending */
    gint64 timeout_connect; /* seconds, TCP and TLS handshake */
    gint64 timeout_greeting; /* RFC 5321 4.5.3.2 defaults below */
    gint64 timeout_mail;
    gint64 timeout_rcpt;
    gint64 timeout_data;    /* the 354 reply to DATA */
    gint64 timeout_block;   /* each block of the message written */
    gint64 timeout_dot;     /* the reply to the final "." */
    char *dsn_notify;       /* NULL, never, or success,failure,delay */
    char *dsn_ret;          /* default (not sent), full or hdrs */
} CqSmtpSettings;

typedef struct {
    char *folder;   /* overrides of the built-in templates; NULL: none */
    char *language; /* for recipients whose language has no templates */
} CqTemplateSettings;

/* One reminder level, a [remind.level.N] section.  The roles are kept as
 * written; the reminder policy (workflow/remind-policy.h) checks them. */
typedef struct {
    gint64 number;       /* N: levels count up from 1 */
    gint64 offset;       /* days after the due date; negative: before */
    char *to;            /* roles, comma-separated; default responsible */
    char *cc;            /* roles, comma-separated; NULL: none */
    char *template_name; /* NULL: the built-in set of the mode */
    char *mode;          /* per-measure or digest */
} CqRemindLevelSettings;

typedef struct {
    char *quality_management; /* address of the role quality-management */
    GArray *levels; /* of CqRemindLevelSettings, sorted by number */
} CqRemindSettings;

typedef struct {
    gint64 within_days;  /* list gauges due within this many days */
    gint64 repeat_days;  /* list a gauge again after this many days */
    char *lab;           /* the calibration lab, in Cc of every list */
    char *template_name; /* template set of the collection list */
} CqGaugeSettings;

typedef struct {
    char *soffice;        /* LibreOffice's soffice: a name in PATH or a path */
    gint64 timeout;       /* seconds per conversion, then it is killed */
    char *cache_dir;      /* converted PDFs; default <data_dir>/convert */
    gint64 max_parallel;  /* conversions at once, 0: one per processor */
    char *text_encoding;  /* what text that is not UTF-8 is read as */
} CqConvertSettings;

/* The web page and HTTP API of `caqmail serve`. */
typedef struct {
    char *address;          /* listening address; default loopback */
    gint64 port;            /* 8025 */
    char *tls_certificate;  /* PEM; with tls_key: HTTPS served directly */
    char *tls_key;
    gboolean secure_cookie; /* Secure cookies behind a TLS proxy */
    char *trusted_header;   /* sign-in by a reverse proxy's header */
    char *trusted_proxies;  /* addresses that may send that header */
    gint64 max_upload_size; /* bytes per uploaded file */
    char *upload_dir;       /* uploads until sent; <data_dir>/uploads */
    gint64 session_lifetime; /* seconds a sign-in lasts when idle */
    gint64 login_attempts;  /* failed sign-ins before the lockout */
    gint64 login_lockout;   /* seconds the lockout lasts */
} CqWebSettings;

typedef struct {
    char *record;    /* record of mails taken by sendmail; NULL: the
                        journal of the user who sent them */
    char *origin;    /* origin stored with them: sendmail or api */
    gboolean deliver; /* deliver each mail at once (else the next
                         `caqmail deliver` does) */
} CqSendmailSettings;

typedef struct {
    char *path; /* the file that was read, NULL for built-in defaults */
    gboolean holds_secret;
    CqGeneralSettings general;
    CqMessageSettings message;
    CqTransportSettings transport;
    CqStoreSettings store;
    CqOutboxSettings outbox;
    CqSmtpSettings smtp;
    CqTemplateSettings templates;
    CqRemindSettings remind;
    CqGaugeSettings gauges;
    CqConvertSettings convert;
    CqWebSettings web;
    CqSendmailSettings sendmail;
} CqConfig;

/* Finds and reads the configuration as described above; @explicit_path may
 * be NULL.  Returns a new CqConfig to free with cq_config_free(). */
CqConfig *cq_config_load(const char *explicit_path, GError **error);

/* The files cq_config_load(NULL) looks for, in its order: the one of
 * $CAQMAIL_CONFIG, else the user's and the system's.  A process that
 * keeps a configuration watches them to notice a change.  Free with
 * g_strfreev(). */
char **cq_config_candidates(void);

/* The first setting that names a file by a relative path, which each
 * process resolves in its own working folder ("store.database"); NULL
 * when there is none.  A database URI is not a path. */
char *cq_config_relative_path(const CqConfig *config);

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
