/* The catalog on a real SQLite file: entries, search that ignores case
 * and accents, references, nested lists, cycles, duplicates, CSV import
 * that is all or nothing, and hostile input. */
#include "catalog/catalog.h"
#include "catalog/csv.h"
#include "common/error.h"
#include "resolve/resolve.h"
#include "testdb.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct {
    char *dir;
    char *db;
    CqSession *admin;
} Fixture;

static CqSession *
open_as(Fixture *f, const char *login)
{
    g_autoptr(GError) error = NULL;
    CqStore *store = cq_store_open(f->db, NULL, NULL, &error);
    g_assert_no_error(error);
    CqSession *s = cq_session_new(store, login, &error);
    g_assert_no_error(error);
    return s;
}

static void
add(CqSession *s, CqCatalogKind kind, const char *const *pairs,
    const char *const *members)
{
    g_autoptr(GError) error = NULL;
    CqField fields[16];
    guint n = 0;

    for (; pairs[2 * n]; n++) {
        fields[n].name = pairs[2 * n];
        fields[n].value = pairs[2 * n + 1];
    }
    g_assert_true(cq_catalog_add(s, kind, fields, n, members, &error));
    g_assert_no_error(error);
}

#define PAIRS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    f->dir = g_dir_make_tmp("caqmail-catalog-XXXXXX", &error);
    g_assert_no_error(error);
    f->db = cq_test_db_new(f->dir);
    /* A fresh database makes its creator an administrator. */
    f->admin = cq_session_open(f->db, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(cq_session_may(f->admin, CQ_PERM_ADMIN));

    add(f->admin, CQ_CATALOG_DEPARTMENT,
        PAIRS("ident", "QM", "name", "Qualitätsmanagement"), NULL);
    add(f->admin, CQ_CATALOG_DEPARTMENT,
        PAIRS("ident", "EK", "name", "Einkauf", "email",
              "einkauf@werk.example"),
        NULL);
    add(f->admin, CQ_CATALOG_PERSON,
        PAIRS("ident", "P-0001", "name", "Jürgen Müller", "email",
              "j.mueller@werk.example", "department", "QM", "login",
              "jmueller"),
        NULL);
    add(f->admin, CQ_CATALOG_PERSON,
        PAIRS("ident", "P-0002", "name", "Änne Groß", "email",
              "a.gross@werk.example", "department", "QM", "supervisor",
              "P-0001", "language", "de"),
        NULL);
    add(f->admin, CQ_CATALOG_ORGANISATION,
        PAIRS("ident", "S-100", "name", "Größe & Söhne GmbH", "kind",
              "supplier"),
        NULL);
    add(f->admin, CQ_CATALOG_CONTACT,
        PAIRS("ident", "C-1", "organisation", "S-100", "name", "Olga Ñúñez",
              "email", "olga@groesse.example"),
        NULL);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    cq_session_free(f->admin);
    cq_test_db_drop(f->db);
    g_free(f->db);
    const char *names[] = {"caqmail.db", "caqmail.db-wal", "caqmail.db-shm",
                           "import.csv"};
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *p = g_build_filename(f->dir, names[i], NULL);
        g_unlink(p);
    }
    g_rmdir(f->dir);
    g_free(f->dir);
}

static GStrv
search_idents(CqSession *s, const char *text)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) found = cq_catalog_search(s, text, &error);
    g_assert_no_error(error);
    GStrvBuilder *b = g_strv_builder_new();
    for (guint i = 0; i < found->len; i++) {
        g_autofree char *ref = cq_entry_ref(found->pdata[i]);
        g_strv_builder_add(b, ref);
    }
    GStrv out = g_strv_builder_end(b);
    g_strv_builder_unref(b);
    return out;
}

typedef struct {
    const char *query;
    const char *expected; /* references joined by spaces, "" for none */
} SearchCase;

static const SearchCase search_cases[] = {
    {"muller", "person:P-0001"},
    {"mueller", "person:P-0001"},
    {"MÜLLER", "person:P-0001"},
    {"jurgen muller", "person:P-0001"},
    {"gross", "person:P-0002 organisation:S-100 contact:C-1"},
    {"groß änne", "person:P-0002"},
    {"GROSS aenne", "person:P-0002"},
    {"anne", "person:P-0002"},
    {"aenne", "person:P-0002"},
    {"qualitatsmanagement", "person:P-0001 person:P-0002 department:QM"},
    {"P-0002", "person:P-0002"},
    {"einkauf@werk", "department:EK"},
    {"nunez", "contact:C-1"},
    {"groesse", "organisation:S-100 contact:C-1"},
    {"%", ""},
    {"_", ""},
    {"\\", ""},
    {"' OR 1=1 --", ""},
    {"\"; DROP TABLE person; --", ""},
    {"mül%ler", ""},
};

static void
test_search(Fixture *f, gconstpointer data)
{
    for (guint i = 0; i < G_N_ELEMENTS(search_cases); i++) {
        g_auto(GStrv) got = search_idents(f->admin, search_cases[i].query);
        g_autofree char *joined = g_strjoinv(" ", got);
        g_assert_cmpstr(joined, ==, search_cases[i].expected);
    }
    /* The hostile strings changed nothing. */
    g_autoptr(GPtrArray) all =
        cq_catalog_list(f->admin, CQ_CATALOG_PERSON, NULL);
    g_assert_cmpuint(all->len, ==, 2);
}

static char *
resolve_to_text(CqSession *s, const char *ref, GError **error)
{
    g_autoptr(GPtrArray) found = cq_resolve_reference(s, ref, error);
    if (found == NULL)
        return NULL;
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < found->len; i++) {
        CqResolved *r = found->pdata[i];
        g_autofree char *spec = cq_address_spec(r->address);
        g_string_append_printf(out, "%s%s [%s]", out->len ? "; " : "", spec,
                               r->source);
    }
    return g_string_free(out, FALSE);
}

static void
test_references(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct {
        const char *ref, *expected;
    } cases[] = {
        {"P-0001", "j.mueller@werk.example [person:P-0001]"},
        {"jmueller", "j.mueller@werk.example [person:P-0001]"},
        {"person:P-0002", "a.gross@werk.example [person:P-0002]"},
        {"C-1", "olga@groesse.example [contact:C-1]"},
        {"department:EK", "einkauf@werk.example [department:EK]"},
        /* A department without its own mailbox: everyone in it. */
        {"QM", "j.mueller@werk.example [department:QM > person:P-0001]; "
               "a.gross@werk.example [department:QM > person:P-0002]"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = resolve_to_text(f->admin, cases[i].ref, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(got, ==, cases[i].expected);
    }
    g_autofree char *none = resolve_to_text(f->admin, "P-9999", &error);
    g_assert_null(none);
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "'P-9999'"));
    g_clear_error(&error);
    g_assert_null(resolve_to_text(f->admin, "list:none", &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND);
}

static void
test_ambiguous(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    add(f->admin, CQ_CATALOG_CONTACT,
        PAIRS("ident", "EK", "organisation", "S-100", "name", "Egon Kurz",
              "email", "ek@groesse.example"),
        NULL);
    g_assert_null(resolve_to_text(f->admin, "EK", &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "contact:EK"));
    g_assert_nonnull(strstr(error->message, "department:EK"));
}

static void
test_nested_lists(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    add(f->admin, CQ_CATALOG_LIST, PAIRS("name", "leads"),
        PAIRS("P-0001", "qm@werk.example"));
    add(f->admin, CQ_CATALOG_LIST, PAIRS("name", "8d-team"),
        PAIRS("list:leads", "contact:C-1", "person:P-0002",
              "Jürgen <J.Mueller@WERK.example>"));
    g_autofree char *got = resolve_to_text(f->admin, "list:8d-team", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(got, ==,
                    "j.mueller@werk.example [list:8d-team > list:leads > "
                    "person:P-0001]; qm@werk.example [list:8d-team > "
                    "list:leads]; olga@groesse.example [list:8d-team > "
                    "contact:C-1]; a.gross@werk.example [list:8d-team > "
                    "person:P-0002]; J.Mueller@werk.example [list:8d-team]");

    /* The same person through the list, directly and in another case:
     * one recipient, in the most visible place. */
    g_autoptr(CqMessage) m = cq_message_new(CQ_ORIGIN_MANUAL);
    g_assert_true(cq_message_set_from(m, "qm@werk.example", NULL));
    const char *bcc[] = {"jmueller", NULL};
    const char *to[] = {"list:8d-team, a.gross@werk.example", NULL};
    g_assert_true(cq_resolve_add(f->admin, m, CQ_RCPT_BCC, bcc, &error));
    g_assert_true(cq_resolve_add(f->admin, m, CQ_RCPT_TO, to, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(m->recipients->len, ==, 7);
    g_assert_cmpuint(cq_resolve_dedup(m), ==, 3);
    g_assert_cmpuint(m->recipients->len, ==, 4);
    CqRecipient *first = m->recipients->pdata[0];
    g_assert_cmpint(first->kind, ==, CQ_RCPT_TO);
    g_assert_cmpstr(first->source, ==, "person:P-0001");
    CqRecipient *olga = m->recipients->pdata[2];
    g_assert_cmpstr(olga->address->local, ==, "olga");
    g_assert_cmpstr(olga->source, ==, "list:8d-team > contact:C-1");
}

static void
test_cycle(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    add(f->admin, CQ_CATALOG_LIST, PAIRS("name", "a"), PAIRS("P-0001"));
    add(f->admin, CQ_CATALOG_LIST, PAIRS("name", "b"), PAIRS("list:a"));
    add(f->admin, CQ_CATALOG_LIST, PAIRS("name", "c"), PAIRS("list:b"));

    /* Closing the circle through the catalog is refused... */
    const char *more[] = {"list:c", NULL};
    g_assert_false(cq_catalog_edit(f->admin, CQ_CATALOG_LIST, "a", NULL, 0,
                                   more, NULL, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "distribution lists form a cycle: a -> c -> b -> a");
    g_clear_error(&error);
    g_autoptr(CqEntry) a =
        cq_catalog_get(f->admin, CQ_CATALOG_LIST, "a", &error);
    g_assert_cmpuint(g_strv_length(a->members), ==, 1);

    /* ...and a cycle written behind the catalog's back is found when
     * the list is resolved. */
    CqStmt *stmt = cq_store_stmt(
        f->admin->store,
        "INSERT INTO dlist_member (list_id, position, member_list_id)"
        " VALUES ((SELECT id FROM dlist WHERE ident = 'a'), 9,"
        " (SELECT id FROM dlist WHERE ident = 'c'))",
        &error);
    g_assert_true(cq_stmt_run(stmt, &error));
    g_assert_null(resolve_to_text(f->admin, "list:b", &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "distribution lists form a cycle: b -> a -> c -> b");
    g_clear_error(&error);
    g_assert_null(resolve_to_text(f->admin, "list:a", &error));
    g_assert_nonnull(strstr(error->message, "a -> c -> b -> a"));
}

static void
write_file(Fixture *f, const char *text)
{
    g_autofree char *path = g_build_filename(f->dir, "import.csv", NULL);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void
test_import_all_or_nothing(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = g_build_filename(f->dir, "import.csv", NULL);
    guint count = 0;

    write_file(f, "ident,name,email,department,supervisor\r\n"
                  "P-0100,Karl Klammer,kk@werk.example,QM,P-0101\r\n"
                  "P-0101,\"Huber, Xaver\",xh@werk.example,,\r\n"
                  "P-0102,Bad Address,not-an-address,QM,\r\n"
                  "P-0103,No Department,nd@werk.example,XX,\r\n"
                  "P-0104,\"Evil\r\nBcc: x@evil.example\",e@werk.example,,\r\n"
                  "P-0105,Short\r\n"
                  "P-0100,Twice,tw@werk.example,,\r\n"
                  "P 0106,Space,sp@werk.example,,\r\n"
                  "P-0107,\"unterminated,x@y.example\r\n");
    g_assert_false(cq_catalog_import(f->admin, CQ_CATALOG_PERSON, path, &count,
                                     NULL, NULL, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    const char *msg = error->message;
    g_test_message("%s", msg);
    g_assert_nonnull(strstr(msg, "7 bad lines, nothing was imported"));
    g_assert_nonnull(strstr(msg, "line 4: person email: address "));
    g_assert_nonnull(strstr(msg, "line 5: department: department 'XX'"));
    g_assert_nonnull(strstr(msg, "line 6: person name: contains a line"));
    g_assert_nonnull(strstr(msg, "line 8: 2 fields where the header has 5"));
    g_assert_nonnull(strstr(msg, "line 9: person 'P-0100' appears again"));
    g_assert_nonnull(strstr(msg, "line 10: person ident 'P 0106'"));
    g_assert_nonnull(strstr(msg, "line 11: unterminated quoted field"));
    g_assert_null(strstr(msg, "line 2:"));
    g_autoptr(GPtrArray) people =
        cq_catalog_list(f->admin, CQ_CATALOG_PERSON, NULL);
    g_assert_cmpuint(people->len, ==, 2);
    g_clear_error(&error);

    /* The good lines alone import, the supervisor named further down
     * included; a second import updates. */
    write_file(f, "\xef\xbb\xbfident,name,email,department,supervisor\n"
                  "P-0100,Karl Klammer,kk@werk.example,QM,P-0101\n"
                  "P-0101,\"Huber, Xaver\",xh@werk.example,,\n");
    g_assert_true(cq_catalog_import(f->admin, CQ_CATALOG_PERSON, path, &count,
                                    NULL, NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(count, ==, 2);
    g_autoptr(CqEntry) karl =
        cq_catalog_get(f->admin, CQ_CATALOG_PERSON, "P-0100", &error);
    g_assert_cmpstr(cq_entry_get(karl, "supervisor"), ==, "P-0101");
    g_autoptr(CqEntry) xaver =
        cq_catalog_get(f->admin, CQ_CATALOG_PERSON, "P-0101", &error);
    g_assert_cmpstr(cq_entry_get(xaver, "name"), ==, "Huber, Xaver");
}

static void
test_import_export_lists(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = g_build_filename(f->dir, "import.csv", NULL);

    write_file(f, "name,description,member\n"
                  "outer,Alle,list:inner\n"
                  "outer,,C-1\n"
                  "inner,Leitung,P-0001\n"
                  "inner,,\"\"\"Q, M\"\" <qm@werk.example>\"\n");
    g_assert_true(cq_catalog_import(f->admin, CQ_CATALOG_LIST, path, NULL, NULL,
                                    NULL, &error));
    g_assert_no_error(error);
    g_autofree char *got = resolve_to_text(f->admin, "list:outer", &error);
    g_assert_cmpstr(got, ==,
                    "j.mueller@werk.example [list:outer > list:inner > "
                    "person:P-0001]; qm@werk.example [list:outer > "
                    "list:inner]; olga@groesse.example [list:outer > "
                    "contact:C-1]");
    g_autofree char *csv = cq_catalog_export(f->admin, CQ_CATALOG_LIST, &error);
    g_assert_cmpstr(csv, ==,
                    "name,description,member\r\n"
                    "inner,Leitung,person:P-0001\r\n"
                    "inner,Leitung,\"\"\"Q, M\"\" <qm@werk.example>\"\r\n"
                    "outer,Alle,list:inner\r\n"
                    "outer,Alle,contact:C-1\r\n");
    /* A cycle inside one import file is refused whole. */
    write_file(f, "name,member\nx,list:y\ny,list:x\n");
    g_assert_false(cq_catalog_import(f->admin, CQ_CATALOG_LIST, path, NULL,
                                     NULL, NULL, &error));
    g_assert_nonnull(strstr(error->message, "line 3: distribution lists "
                                            "form a cycle: y -> x -> y"));
    g_autoptr(GPtrArray) lists =
        cq_catalog_list(f->admin, CQ_CATALOG_LIST, NULL);
    g_assert_cmpuint(lists->len, ==, 2);
}

static void
test_permissions(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    const char *roles[] = {"sender", NULL};
    g_assert_true(cq_user_add(f->admin, "bob", roles, &error));
    g_assert_no_error(error);
    g_autoptr(CqSession) bob = open_as(f, "bob");
    g_autoptr(CqSession) eve = open_as(f, "eve");
    CqField name = {"name", "X"};

    g_assert_false(cq_catalog_edit(bob, CQ_CATALOG_PERSON, "P-0001", &name, 1,
                                   NULL, NULL, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_PERMISSION);
    g_assert_nonnull(strstr(error->message, "edit-catalog"));
    g_clear_error(&error);
    g_autoptr(GPtrArray) seen = cq_catalog_list(bob, CQ_CATALOG_PERSON, &error);
    g_assert_cmpuint(seen->len, ==, 2);
    /* Someone not registered reads nothing. */
    g_assert_null(cq_catalog_list(eve, CQ_CATALOG_PERSON, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_PERMISSION);
    g_assert_nonnull(strstr(error->message, "not registered"));
    g_clear_error(&error);
    g_assert_null(cq_catalog_search(eve, "muller", &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_PERMISSION);
}

typedef struct {
    const char *text;
    guint records;
    guint fields_of_first;
    const char *first_field;
    gboolean bad;
} CsvCase;

static const CsvCase csv_cases[] = {
    {"a,b,c\n", 1, 3, "a", FALSE},
    {"\"a,1\",b\r\n", 1, 2, "a,1", FALSE},
    {"\"say \"\"hi\"\"\"\n", 1, 1, "say \"hi\"", FALSE},
    {"\"two\nlines\",x\n", 1, 2, "two\nlines", FALSE},
    {"\n\n\na\n\n", 1, 1, "a", FALSE},
    {"a\"b\n", 1, 0, NULL, TRUE},
    {"\"a\"b\n", 1, 0, NULL, TRUE},
    {"\"open\n", 1, 0, NULL, TRUE},
    {"\xff\xfe\n", 1, 0, NULL, TRUE},
    {"last,field", 1, 2, "last", FALSE},
    {",\n", 1, 2, "", FALSE},
};

static void
test_csv(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(csv_cases); i++) {
        const CsvCase *c = &csv_cases[i];
        g_autoptr(GPtrArray) r = cq_csv_parse(c->text, strlen(c->text));
        g_assert_cmpuint(r->len, ==, c->records);
        CqCsvRecord *first = r->pdata[0];
        g_assert_cmpint(first->error != NULL, ==, c->bad);
        if (c->bad)
            continue;
        g_assert_cmpuint(g_strv_length(first->fields), ==, c->fields_of_first);
        g_assert_cmpstr(first->fields[0], ==, c->first_field);
    }
    /* A NUL byte inside a field is refused. */
    g_autoptr(GPtrArray) nul = cq_csv_parse("a\0b\n", 4);
    g_assert_nonnull(((CqCsvRecord *)nul->pdata[0])->error);
}

#define ADD(path, func)                                                        \
    g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD("/catalog/search", test_search);
    ADD("/catalog/references", test_references);
    ADD("/catalog/ambiguous", test_ambiguous);
    ADD("/catalog/lists/nested", test_nested_lists);
    ADD("/catalog/lists/cycle", test_cycle);
    ADD("/catalog/import/all-or-nothing", test_import_all_or_nothing);
    ADD("/catalog/import/lists", test_import_export_lists);
    ADD("/catalog/permissions", test_permissions);
    g_test_add_func("/catalog/csv", test_csv);
    return g_test_run();
}
