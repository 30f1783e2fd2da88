/* caqmail user: who may use caqmail, and with which roles. */
#include "cli.h"

#include "api/password.h"
#include "common/secret.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static gboolean json_output;
static char **roles;

static const GOptionEntry json_entries[] = {
    {"json", 'j', 0, G_OPTION_ARG_NONE, &json_output, "Print JSON for scripts",
     NULL},
    G_OPTION_ENTRY_NULL,
};

static CqSession *
start(CqCli *cli, int *code)
{
    if (!cli_load_config(cli, code))
        return NULL;
    return cli_open_session(cli, code);
}

static int
run_add(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    const GOptionEntry entries[] = {
        {"role", 'r', 0, G_OPTION_ARG_STRING_ARRAY, &roles,
         "Grant ROLE (repeatable; default: sender)", "ROLE"},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, "user add", "LOGIN",
                       "Register an operating-system login as a caqmail "
                       "user.  The catalog person with the same login is "
                       "that user.",
                       entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 2) {
        fprintf(stderr, "caqmail user add: give LOGIN\n");
        return EX_USAGE;
    }
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    if (!cq_user_add(s, argv[1], (const char *const *)roles, &error))
        return cli_fail(cli, error);
    return EX_OK;
}

static int
change_roles(CqCli *cli, int argc, char **argv, gboolean grant)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;

    if (!cli_parse_sub(
            cli, grant ? "user grant" : "user revoke", "LOGIN ROLE...",
            grant ? "Grant roles to a user." : "Take roles from a user.", NULL,
            &argc, &argv))
        return EX_USAGE;
    if (argc < 3) {
        fprintf(stderr, "caqmail user: give LOGIN and ROLE\n");
        return EX_USAGE;
    }
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    const char *const *list = (const char *const *)argv + 2;
    if (!cq_user_set_roles(s, argv[1], grant ? list : NULL, grant ? NULL : list,
                           &error))
        return cli_fail(cli, error);
    return EX_OK;
}

static int
run_grant(CqCli *cli, int argc, char **argv)
{
    return change_roles(cli, argc, argv, TRUE);
}

static int
run_revoke(CqCli *cli, int argc, char **argv)
{
    return change_roles(cli, argc, argv, FALSE);
}

static int
run_remove(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;

    if (!cli_parse_sub(cli, "user remove", "LOGIN",
                       "Remove a user; the mail they sent stays in the "
                       "history.",
                       NULL, &argc, &argv))
        return EX_USAGE;
    if (argc != 2) {
        fprintf(stderr, "caqmail user remove: give LOGIN\n");
        return EX_USAGE;
    }
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    if (!cq_user_remove(s, argv[1], &error))
        return cli_fail(cli, error);
    return EX_OK;
}

static JsonNode *
user_json(const CqUser *u)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autofree char *perms = cq_permissions_format(u->permissions);
    g_auto(GStrv) perm_list = g_strsplit(perms, ", ", -1);

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "login");
    json_builder_add_string_value(b, u->login);
    json_builder_set_member_name(b, "person");
    json_builder_add_string_value(b, u->person);
    json_builder_set_member_name(b, "email");
    json_builder_add_string_value(b, u->email);
    json_builder_set_member_name(b, "roles");
    json_builder_begin_array(b);
    for (guint i = 0; u->roles[i]; i++)
        json_builder_add_string_value(b, u->roles[i]);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "permissions");
    json_builder_begin_array(b);
    for (guint i = 0; perm_list[i] && *perm_list[i]; i++)
        json_builder_add_string_value(b, perm_list[i]);
    json_builder_end_array(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

static int
run_list(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;

    if (!cli_parse_sub(cli, "user list", "", "List the users.", json_entries,
                       &argc, &argv))
        return EX_USAGE;
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    g_autoptr(GPtrArray) users = cq_user_list(s, &error);
    if (users == NULL)
        return cli_fail(cli, error);
    if (json_output) {
        JsonArray *array = json_array_new();
        for (guint i = 0; i < users->len; i++)
            json_array_add_element(array, user_json(users->pdata[i]));
        JsonNode *node = json_node_new(JSON_NODE_ARRAY);
        json_node_take_array(node, array);
        cli_print_json(node);
        return EX_OK;
    }
    CliTable *t =
        cli_table_new((const char *const[]){"login", "person", "roles", NULL});
    for (guint i = 0; i < users->len; i++) {
        CqUser *u = users->pdata[i];
        g_autofree char *r = g_strjoinv(", ", u->roles);
        cli_table_add(t, (const char *const[]){u->login, u->person, r, NULL});
    }
    cli_table_print(t);
    return EX_OK;
}

static int
run_show(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;

    if (!cli_parse_sub(cli, "user show", "[LOGIN]",
                       "Show a user (default: the one acting) with roles "
                       "and permissions.",
                       json_entries, &argc, &argv))
        return EX_USAGE;
    if (argc > 2) {
        fprintf(stderr, "caqmail user show: give at most one LOGIN\n");
        return EX_USAGE;
    }
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    g_autoptr(CqUser) u =
        cq_user_get(s, argc == 2 ? argv[1] : s->login, &error);
    if (u == NULL)
        return cli_fail(cli, error);
    if (json_output) {
        cli_print_json(user_json(u));
        return EX_OK;
    }
    g_autofree char *r = g_strjoinv(", ", u->roles);
    g_autofree char *p = cq_permissions_format(u->permissions);
    printf("login        %s\nperson       %s\nemail        %s\n"
           "roles        %s\npermissions  %s\n",
           u->login, u->person ? u->person : "", u->email ? u->email : "", r,
           p);
    return EX_OK;
}

static int
run_roles(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;

    if (!cli_parse_sub(cli, "user roles", "",
                       "List the roles and the permissions they grant.",
                       json_entries, &argc, &argv))
        return EX_USAGE;
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    g_autoptr(GPtrArray) list = cq_role_list(s, &error);
    if (list == NULL)
        return cli_fail(cli, error);
    g_autoptr(JsonBuilder) b = json_builder_new();
    CliTable *t = cli_table_new(
        (const char *const[]){"role", "permissions", "description", NULL});
    json_builder_begin_array(b);
    for (guint i = 0; i < list->len; i++) {
        CqRole *r = list->pdata[i];
        g_autofree char *p = cq_permissions_format(r->permissions);
        cli_table_add(t,
                      (const char *const[]){r->name, p, r->description, NULL});
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "role");
        json_builder_add_string_value(b, r->name);
        json_builder_set_member_name(b, "permissions");
        json_builder_add_string_value(b, p);
        json_builder_set_member_name(b, "description");
        json_builder_add_string_value(b, r->description);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    if (json_output) {
        cli_table_free_unprinted(t);
        cli_print_json(json_builder_get_root(b));
    } else {
        cli_table_print(t);
    }
    return EX_OK;
}

/* The first line of standard input, without its line end; from a
 * terminal, asked for and not echoed. */
static char *
read_password_line(GError **error)
{
    char buf[1100];
    struct termios old, quiet;
    gboolean tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;

    if (tty) {
        fputs("Password: ", stderr);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *line = fgets(buf, sizeof buf, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (line == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOINPUT,
                    "password: nothing on standard input");
        return NULL;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    char *password = g_strdup(buf);
    explicit_bzero(buf, sizeof buf);
    return password;
}

static int
run_password(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *command = NULL;
    char *password = NULL;
    int code = EX_USAGE;
    const GOptionEntry entries[] = {
        {"password-command", 0, 0, G_OPTION_ARG_STRING, &command,
         "Run COMMAND (no shell) and take its first line of output", "CMD"},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, "user password", "LOGIN",
                       "Set the password LOGIN signs in to the web page "
                       "with, read from the first line of standard input "
                       "(or --password-command); never from the command "
                       "line.  Your own, or anyone's as administrator.",
                       entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 2) {
        fprintf(stderr, "caqmail user password: give LOGIN\n");
        return EX_USAGE;
    }
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    password = command ? cq_secret_run_command("password", command, &error)
                       : read_password_line(&error);
    if (password == NULL || !cq_password_set(s, argv[1], password, &error))
        code = cli_fail(cli, error);
    else
        code = EX_OK;
    cq_secret_free(password);
    return code;
}

static const CqSubcommand subcommands[] = {
    {"add", run_add, "register a login: LOGIN [--role ROLE]..."},
    {"grant", run_grant, "grant roles: LOGIN ROLE..."},
    {"revoke", run_revoke, "take roles: LOGIN ROLE..."},
    {"remove", run_remove, "remove a user"},
    {"list", run_list, "list the users"},
    {"show", run_show, "show a user (default: yourself)"},
    {"roles", run_roles, "list the roles and their permissions"},
    {"password", run_password,
     "set the web page password of LOGIN (from standard input)"},
};

int
cmd_user(CqCli *cli, int argc, char **argv)
{
    return cli_run_subcommand(
        cli, argc, argv, subcommands, G_N_ELEMENTS(subcommands),
        "Users and roles.  A command acts as the operating-system user\n"
        "(or, for an administrator, as the user named with --as).  "
        "Changes need the\npermission administer.");
}
