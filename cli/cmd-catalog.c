/* caqmail catalog: the master data that recipients are chosen from. */
#include "cli.h"

#include "catalog/catalog.h"
#include "resolve/resolve.h"

#include <stdio.h>
#include <string.h>

static gboolean json_output;
static char *output_path;

static const GOptionEntry json_entries[] = {
    {"json", 'j', 0, G_OPTION_ARG_NONE, &json_output, "Print JSON for scripts",
     NULL},
    G_OPTION_ENTRY_NULL,
};

/* Loads the configuration and opens the session; *code is set on
 * failure. */
static CqSession *
start(CqCli *cli, int *code)
{
    if (!cli_load_config(cli, code))
        return NULL;
    return cli_open_session(cli, code);
}

static gboolean
parse_kind(CqCli *cli, const char *text, CqCatalogKind *kind, int *code)
{
    g_autoptr(GError) error = NULL;
    if (cq_catalog_kind_parse(text, kind, &error))
        return TRUE;
    *code = cli_fail(cli, error);
    return FALSE;
}

typedef struct {
    GArray *fields; /* of CqField, pointing into argv */
    GPtrArray *add; /* member references */
    GPtrArray *remove;
} Assignments;

static void
assignments_clear(Assignments *a)
{
    g_array_unref(a->fields);
    g_ptr_array_unref(a->add);
    g_ptr_array_unref(a->remove);
}

/* Splits FIELD=VALUE arguments; member=, add-member= and remove-member=
 * name list members. */
static gboolean
parse_assignments(CqCli *cli, int argc, char **argv, Assignments *a)
{
    a->fields = g_array_new(FALSE, FALSE, sizeof(CqField));
    a->add = g_ptr_array_new();
    a->remove = g_ptr_array_new();
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL || eq == argv[i]) {
            fprintf(stderr, "caqmail %s: '%s': expected FIELD=VALUE\n",
                    cli->command, argv[i]);
            return FALSE;
        }
        *eq = '\0';
        if (strcmp(argv[i], "member") == 0 ||
            strcmp(argv[i], "add-member") == 0)
            g_ptr_array_add(a->add, eq + 1);
        else if (strcmp(argv[i], "remove-member") == 0)
            g_ptr_array_add(a->remove, eq + 1);
        else {
            CqField f = {argv[i], eq + 1};
            g_array_append_val(a->fields, f);
        }
    }
    g_ptr_array_add(a->add, NULL);
    g_ptr_array_add(a->remove, NULL);
    return TRUE;
}

static int
run_add(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    CqCatalogKind kind;
    Assignments a = {0};
    int code = EX_USAGE;

    if (!cli_parse_sub(cli, "catalog add", "KIND FIELD=VALUE...",
                       "Add a catalog entry.  KIND is person, department, "
                       "organisation, contact or list; a list takes its "
                       "members as member=REFERENCE.",
                       NULL, &argc, &argv))
        return EX_USAGE;
    if (argc < 3) {
        fprintf(stderr, "caqmail catalog add: give KIND and FIELD=VALUE\n");
        return EX_USAGE;
    }
    if (!parse_kind(cli, argv[1], &kind, &code))
        return code;
    if (parse_assignments(cli, argc - 2, argv + 2, &a)) {
        g_autoptr(CqSession) s = start(cli, &code);
        if (s != NULL)
            code = cq_catalog_add(s, kind, (CqField *)a.fields->data,
                                  a.fields->len,
                                  (const char *const *)a.add->pdata, &error)
                       ? EX_OK
                       : cli_fail(cli, error);
    }
    assignments_clear(&a);
    return code;
}

static int
run_edit(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    CqCatalogKind kind;
    Assignments a = {0};
    int code = EX_USAGE;

    if (!cli_parse_sub(cli, "catalog edit", "KIND IDENT FIELD=VALUE...",
                       "Change fields of a catalog entry (FIELD= clears "
                       "one); add-member=REF and remove-member=REF change "
                       "a list.",
                       NULL, &argc, &argv))
        return EX_USAGE;
    if (argc < 4) {
        fprintf(stderr, "caqmail catalog edit: give KIND, IDENT and "
                        "FIELD=VALUE\n");
        return EX_USAGE;
    }
    if (!parse_kind(cli, argv[1], &kind, &code))
        return code;
    if (parse_assignments(cli, argc - 3, argv + 3, &a)) {
        g_autoptr(CqSession) s = start(cli, &code);
        if (s != NULL)
            code = cq_catalog_edit(s, kind, argv[2], (CqField *)a.fields->data,
                                   a.fields->len,
                                   (const char *const *)a.add->pdata,
                                   (const char *const *)a.remove->pdata, &error)
                       ? EX_OK
                       : cli_fail(cli, error);
    }
    assignments_clear(&a);
    return code;
}

static int
run_remove(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    CqCatalogKind kind;
    int code = EX_USAGE;

    if (!cli_parse_sub(cli, "catalog remove", "KIND IDENT",
                       "Remove a catalog entry that nothing points at.", NULL,
                       &argc, &argv))
        return EX_USAGE;
    if (argc != 3) {
        fprintf(stderr, "caqmail catalog remove: give KIND and IDENT\n");
        return EX_USAGE;
    }
    if (!parse_kind(cli, argv[1], &kind, &code))
        return code;
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    if (!cq_catalog_remove(s, kind, argv[2], &error))
        return cli_fail(cli, error);
    return EX_OK;
}

static JsonNode *
entry_json(const CqEntry *e)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    const char *const *fields = cq_catalog_fields(e->kind);

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "kind");
    json_builder_add_string_value(b, cq_catalog_kind_name(e->kind));
    for (guint i = 0; fields[i]; i++) {
        json_builder_set_member_name(b, fields[i]);
        if (*e->values[i] == '\0')
            json_builder_add_null_value(b);
        else
            json_builder_add_string_value(b, e->values[i]);
    }
    if (e->members != NULL) {
        json_builder_set_member_name(b, "members");
        json_builder_begin_array(b);
        for (guint i = 0; e->members[i]; i++)
            json_builder_add_string_value(b, e->members[i]);
        json_builder_end_array(b);
    }
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

static void
print_entries_json(GPtrArray *entries)
{
    JsonArray *array = json_array_new();
    for (guint i = 0; i < entries->len; i++)
        json_array_add_element(array, entry_json(entries->pdata[i]));
    JsonNode *node = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(node, array);
    cli_print_json(node);
}

static void
print_entries_table(CqCatalogKind kind, GPtrArray *entries)
{
    const char *const *fields = cq_catalog_fields(kind);
    guint n = cq_catalog_n_fields(kind);
    g_autofree const char **row = g_new0(const char *, n + 2);

    for (guint i = 0; i < n; i++)
        row[i] = fields[i];
    if (kind == CQ_CATALOG_LIST)
        row[n] = "members";
    CliTable *table = cli_table_new(row);
    for (guint e = 0; e < entries->len; e++) {
        const CqEntry *entry = entries->pdata[e];
        g_autofree char *members =
            entry->members ? g_strjoinv(", ", entry->members) : NULL;
        for (guint i = 0; i < n; i++)
            row[i] = entry->values[i];
        row[n] = members;
        cli_table_add(table, row);
    }
    cli_table_print(table);
}

static int
run_list(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    CqCatalogKind kind;
    int code = EX_USAGE;

    if (!cli_parse_sub(cli, "catalog list", "KIND",
                       "List the entries of one kind.", json_entries, &argc,
                       &argv))
        return EX_USAGE;
    if (argc != 2) {
        fprintf(stderr, "caqmail catalog list: give KIND\n");
        return EX_USAGE;
    }
    if (!parse_kind(cli, argv[1], &kind, &code))
        return code;
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    g_autoptr(GPtrArray) entries = cq_catalog_list(s, kind, &error);
    if (entries == NULL)
        return cli_fail(cli, error);
    if (json_output)
        print_entries_json(entries);
    else
        print_entries_table(kind, entries);
    return EX_OK;
}

static void
print_entry(const CqEntry *e)
{
    const char *const *fields = cq_catalog_fields(e->kind);

    printf("%-12s %s\n", "kind", cq_catalog_kind_name(e->kind));
    for (guint i = 0; fields[i]; i++)
        printf("%-12s %s\n", fields[i], e->values[i]);
    for (guint i = 0; e->members && e->members[i]; i++)
        printf("%-12s %s\n", "member", e->members[i]);
}

static int
run_show(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    CqCatalogKind kind;
    int code = EX_USAGE;

    if (!cli_parse_sub(cli, "catalog show", "KIND IDENT",
                       "Show one catalog entry.", json_entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 3) {
        fprintf(stderr, "caqmail catalog show: give KIND and IDENT\n");
        return EX_USAGE;
    }
    if (!parse_kind(cli, argv[1], &kind, &code))
        return code;
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    g_autoptr(CqEntry) entry = cq_catalog_get(s, kind, argv[2], &error);
    if (entry == NULL)
        return cli_fail(cli, error);
    if (json_output)
        cli_print_json(entry_json(entry));
    else
        print_entry(entry);
    return EX_OK;
}

static void
print_found_table(GPtrArray *entries)
{
    CliTable *table = cli_table_new(
        (const char *const[]){"reference", "name", "email", NULL});
    for (guint i = 0; i < entries->len; i++) {
        const CqEntry *e = entries->pdata[i];
        g_autofree char *ref = cq_entry_ref(e);
        const char *name = cq_entry_get(e, "name");
        if (e->kind == CQ_CATALOG_LIST)
            name = cq_entry_get(e, "description");
        const char *email = cq_entry_get(e, "email");
        cli_table_add(table, (const char *const[]){ref, name, email, NULL});
    }
    cli_table_print(table);
}

static int
run_search(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;

    if (!cli_parse_sub(cli, "catalog search", "TEXT...",
                       "Find entries whose name, e-mail, department or "
                       "identifier contain every word; case and accents "
                       "do not matter.",
                       json_entries, &argc, &argv))
        return EX_USAGE;
    if (argc < 2) {
        fprintf(stderr, "caqmail catalog search: give a TEXT\n");
        return EX_USAGE;
    }
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    g_autofree char *text = g_strjoinv(" ", argv + 1);
    g_autoptr(GPtrArray) found = cq_catalog_search(s, text, &error);
    if (found == NULL)
        return cli_fail(cli, error);
    if (json_output)
        print_entries_json(found);
    else
        print_found_table(found);
    return EX_OK;
}

static void
add_resolved_json(JsonBuilder *b, const char *ref, GPtrArray *found)
{
    for (guint i = 0; i < found->len; i++) {
        CqResolved *r = found->pdata[i];
        g_autofree char *spec = cq_address_spec(r->address);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "reference");
        json_builder_add_string_value(b, ref);
        json_builder_set_member_name(b, "address");
        json_builder_add_string_value(b, spec);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, r->address->name);
        json_builder_set_member_name(b, "source");
        json_builder_add_string_value(b, r->source);
        json_builder_end_object(b);
    }
}

static int
run_resolve(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonBuilder) b = json_builder_new();
    int code = EX_USAGE;

    if (!cli_parse_sub(cli, "catalog resolve", "REFERENCE...",
                       "Show the addresses that references resolve to, "
                       "and where each came from.",
                       json_entries, &argc, &argv))
        return EX_USAGE;
    if (argc < 2) {
        fprintf(stderr, "caqmail catalog resolve: give a REFERENCE\n");
        return EX_USAGE;
    }
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    json_builder_begin_array(b);
    for (int i = 1; i < argc; i++) {
        g_autoptr(GPtrArray) found = cq_resolve_reference(s, argv[i], &error);
        if (found == NULL)
            return cli_fail(cli, error);
        add_resolved_json(b, argv[i], found);
        for (guint k = 0; !json_output && k < found->len; k++) {
            CqResolved *r = found->pdata[k];
            g_autofree char *display = cq_address_display(r->address);
            printf("%s\t%s\n", display, r->source);
        }
    }
    json_builder_end_array(b);
    if (json_output)
        cli_print_json(json_builder_get_root(b));
    return EX_OK;
}

static void
import_progress(guint done, guint total, gpointer data)
{
    cli_progress("import", done, total);
}

static int
run_import(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    CqCatalogKind kind;
    guint count = 0;
    int code = EX_USAGE;

    if (!cli_parse_sub(cli, "catalog import", "KIND FILE",
                       "Import entries from a CSV file (UTF-8, a header "
                       "row of field names).  All or nothing: a bad line "
                       "imports nothing, and every bad line is reported.",
                       NULL, &argc, &argv))
        return EX_USAGE;
    if (argc != 3) {
        fprintf(stderr, "caqmail catalog import: give KIND and FILE\n");
        return EX_USAGE;
    }
    if (!parse_kind(cli, argv[1], &kind, &code))
        return code;
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    gboolean ok = cq_catalog_import(s, kind, argv[2], &count, import_progress,
                                    NULL, &error);
    cli_progress_end();
    if (!ok)
        return cli_fail(cli, error);
    printf("imported %u %s entr%s\n", count, cq_catalog_kind_name(kind),
           count == 1 ? "y" : "ies");
    return EX_OK;
}

static int
run_export(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    CqCatalogKind kind;
    int code = EX_USAGE;
    const GOptionEntry entries[] = {
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output_path,
         "Write to FILE instead of standard output", "FILE"},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, "catalog export", "KIND",
                       "Write the entries of one kind as CSV, in the "
                       "format that import reads.",
                       entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 2) {
        fprintf(stderr, "caqmail catalog export: give KIND\n");
        return EX_USAGE;
    }
    if (!parse_kind(cli, argv[1], &kind, &code))
        return code;
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    g_autofree char *csv = cq_catalog_export(s, kind, &error);
    if (csv == NULL)
        return cli_fail(cli, error);
    if (output_path == NULL) {
        fputs(csv, stdout);
        return EX_OK;
    }
    if (!g_file_set_contents(output_path, csv, -1, &error))
        return cli_fail(cli, error);
    return EX_OK;
}

static const CqSubcommand subcommands[] = {
    {"add", run_add, "add an entry: KIND FIELD=VALUE..."},
    {"edit", run_edit, "change an entry: KIND IDENT FIELD=VALUE..."},
    {"remove", run_remove, "remove an entry: KIND IDENT"},
    {"list", run_list, "list the entries of a kind"},
    {"show", run_show, "show one entry"},
    {"search", run_search, "search every kind, ignoring case and accents"},
    {"resolve", run_resolve, "show the addresses of references"},
    {"import", run_import, "import a CSV file, all or nothing"},
    {"export", run_export, "export a kind as CSV"},
};

int
cmd_catalog(CqCli *cli, int argc, char **argv)
{
    return cli_run_subcommand(
        cli, argc, argv, subcommands, G_N_ELEMENTS(subcommands),
        "The catalog: persons, departments, organisations, contacts and "
        "distribution lists.\nKinds: person (ident, name, email, "
        "department, supervisor, language, login),\ndepartment (ident, "
        "name, email, head), organisation (ident, name, kind),\ncontact "
        "(ident, organisation, name, email, role), list (name, "
        "description).");
}
