/* Address parsing: tables of accepted and refused mailboxes. */
#include "common/error.h"
#include "compose/address.h"

#include <string.h>

typedef struct {
    const char *input;
    const char *name;   /* expected display name or NULL */
    const char *spec;   /* expected local@ascii-domain */
    const char *domain_utf8;
    gboolean smtputf8;
} GoodCase;

static const GoodCase good_cases[] = {
    {"a@example.com", NULL, "a@example.com", "example.com", FALSE},
    {"  a@example.com  ", NULL, "a@example.com", "example.com", FALSE},
    {"A.B-c+tag@Example.COM", NULL, "A.B-c+tag@example.com", "example.com",
     FALSE},
    {"Jürgen Müller <j.mueller@example.de>", "Jürgen Müller",
     "j.mueller@example.de", "example.de", FALSE},
    {"\"Müller, Jürgen\" <jm@example.de>", "Müller, Jürgen",
     "jm@example.de", "example.de", FALSE},
    {"\"Quote \\\"inside\\\"\" <q@example.de>", "Quote \"inside\"",
     "q@example.de", "example.de", FALSE},
    {"<bare@example.org>", NULL, "bare@example.org", "example.org", FALSE},
    {"qm@werk-süd.example", NULL, "qm@xn--werk-sd-s2a.example",
     "werk-süd.example", FALSE},
    {"info@xn--mller-kva.de", NULL, "info@xn--mller-kva.de", "müller.de",
     FALSE},
    {"info@MÜLLER.de", NULL, "info@xn--mller-kva.de", "MÜLLER.de", FALSE},
    {"jürgen@example.de", NULL, "jürgen@example.de", "example.de", TRUE},
    {"\"john smith\"@example.com", NULL, "\"john smith\"@example.com",
     "example.com", FALSE},
    {"\"plain\"@example.com", NULL, "plain@example.com", "example.com",
     FALSE},
    {"user@[192.0.2.1]", NULL, "user@[192.0.2.1]", "[192.0.2.1]", FALSE},
    {"user@[IPv6:2001:db8::1]", NULL, "user@[IPv6:2001:db8::1]",
     "[IPv6:2001:db8::1]", FALSE},
    {"root@localhost", NULL, "root@localhost", "localhost", FALSE},
    {"a@b.example (Anna Berg)", "Anna Berg", "a@b.example", "b.example",
     FALSE},
    {"Anna (the boss) Berg <a@b.example>", "Anna Berg", "a@b.example",
     "b.example", FALSE},
    {"=?UTF-8?Q?J=C3=BCrgen?= <j@example.de>", "Jürgen", "j@example.de",
     "example.de", FALSE},
    {"Dr. Anna Berg <a@b.example>", "Dr. Anna Berg", "a@b.example",
     "b.example", FALSE},
    {"!#$%&'*+-/=?^_`{|}~@example.com", NULL,
     "!#$%&'*+-/=?^_`{|}~@example.com", "example.com", FALSE},
};

typedef struct {
    const char *input;
    const char *reason; /* a part of the expected message */
} BadCase;

static const BadCase bad_cases[] = {
    {"", "empty address"},
    {"   ", "empty address"},
    {"plainaddress", "missing '@'"},
    {"@example.com", "missing local part"},
    {"a@", "missing domain"},
    {"a@@example.com", "missing domain"},
    {"a@b@example.com", "unexpected '@'"},
    {".a@example.com", "empty label"},
    {"a.@example.com", "empty label"},
    {"a..b@example.com", "empty label"},
    {"a@example..com", "empty label"},
    {"a@.example.com", "empty label"},
    {"a@example.com.", "empty label"},
    {"a@-example.com", "starts or ends with '-'"},
    {"a@example-.com", "starts or ends with '-'"},
    {"a@exa_mple.com", "contains '_'"},
    {"a b@example.com", "unexpected 'b'"},
    {"a@example.com\r\nBcc: victim@example.org", "line break"},
    {"Name\n <a@example.com>", "line break"},
    {"a@example.com\n", "line break"},
    {"a\x01@example.com", "control character"},
    {"a@exa\x7fmple.com", "control character"},
    {"\xff\xfe@example.com", "UTF-8"},
    {"\"unterminated@example.com", "unbalanced '\"'"},
    {"(comment a@example.com", "unbalanced '('"},
    {"Name <a@example.com", "missing '>'"},
    {"Name a@example.com>", "unexpected"},
    {"a@example.com, b@example.com", "unexpected ','"},
    {"a@[300.1.1.1]", "domain literal"},
    {"a@[IPv6:zz::1]", "domain literal"},
    {"a@[192.0.2.1", "unbalanced '['"},
    {"\"\"@example.com", "empty local part"},
    {"=?UTF-8?Q?a=0D=0ABcc=3A_x?= <a@example.com>", "line break"},
    {"a@xn--zz.example", "invalid 'xn--' label"},
    {"a@ex\xc2\xa0mple.com", "contains"},
    {"Name <>", "missing local part"},
};

static void
test_good(gconstpointer data)
{
    const GoodCase *c = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(CqAddress) a = cq_address_parse(c->input, &error);

    g_assert_no_error(error);
    g_assert_nonnull(a);
    g_autofree char *spec = cq_address_spec(a);
    g_assert_cmpstr(spec, ==, c->spec);
    g_assert_cmpstr(a->name, ==, c->name);
    g_assert_cmpstr(a->domain_utf8, ==, c->domain_utf8);
    g_assert_cmpint(a->smtputf8, ==, c->smtputf8);
}

static void
test_bad(gconstpointer data)
{
    const BadCase *c = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(CqAddress) a = cq_address_parse(c->input, &error);

    g_assert_null(a);
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    if (strstr(error->message, c->reason) == NULL)
        g_error("input '%s': message '%s' lacks '%s'", c->input,
                error->message, c->reason);
    /* The message is one line: hostile input cannot forge log lines. */
    g_assert_null(strchr(error->message, '\n'));
    g_assert_null(strchr(error->message, '\r'));
}

static void
test_long_parts(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *local64 = g_strnfill(64, 'a');
    g_autofree char *local65 = g_strnfill(65, 'a');
    g_autofree char *label63 = g_strnfill(63, 'b');
    g_autofree char *label64 = g_strnfill(64, 'b');
    g_autofree char *ok = g_strdup_printf("%s@%s.de", local64, label63);
    g_autofree char *long_local = g_strdup_printf("%s@x.de", local65);
    g_autofree char *long_label = g_strdup_printf("a@%s.de", label64);

    g_autoptr(CqAddress) a = cq_address_parse(ok, &error);
    g_assert_no_error(error);
    g_assert_nonnull(a);
    g_assert_null(cq_address_parse(long_local, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "longer than 64"));
    g_clear_error(&error);
    g_assert_null(cq_address_parse(long_label, &error));
    g_assert_nonnull(strstr(error->message, "over 63"));
    g_clear_error(&error);

    /* A whole path over 254 octets. */
    GString *big = g_string_new("a@");
    for (int i = 0; i < 5; i++)
        g_string_append_printf(big, "%s.", label63);
    g_string_append(big, "de");
    g_assert_null(cq_address_parse(big->str, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    g_string_free(big, TRUE);
}

typedef struct {
    const char *input;
    guint count;
    const char *first;
    const char *last;
} ListCase;

static const ListCase list_cases[] = {
    {"a@x.de", 1, "a@x.de", "a@x.de"},
    {"a@x.de, b@y.de", 2, "a@x.de", "b@y.de"},
    {"\"Berg, Anna\" <a@x.de>, Bob <b@y.de>", 2, "a@x.de", "b@y.de"},
    {"a@x.de,,b@y.de,", 2, "a@x.de", "b@y.de"},
    {"Team: a@x.de, b@y.de;, c@z.de", 3, "a@x.de", "c@z.de"},
    {"undisclosed-recipients:;, c@z.de", 1, "c@z.de", "c@z.de"},
};

static void
test_list(gconstpointer data)
{
    const ListCase *c = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = cq_address_list_parse(c->input, FALSE,
                                                      &error);
    g_assert_no_error(error);
    g_assert_cmpuint(list->len, ==, c->count);
    g_autofree char *first = cq_address_spec(list->pdata[0]);
    g_autofree char *last = cq_address_spec(list->pdata[list->len - 1]);
    g_assert_cmpstr(first, ==, c->first);
    g_assert_cmpstr(last, ==, c->last);
}

static void
test_list_bad(void)
{
    static const char *const inputs[] = {
        "", " , ", "a@x.de; b@y.de", "Team: a@x.de", "a@x.de b@y.de",
        "Team: a@x.de, bad;",
    };
    for (guint i = 0; i < G_N_ELEMENTS(inputs); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list =
            cq_address_list_parse(inputs[i], FALSE, &error);
        if (list != NULL)
            g_error("list '%s' was accepted", inputs[i]);
        g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    }
}

static void
test_key_and_display(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqAddress) a =
        cq_address_parse("Jürgen <J.Mueller@Werk-Süd.Example>", &error);
    g_assert_no_error(error);
    g_autofree char *key = cq_address_key(a);
    g_autofree char *display = cq_address_display(a);
    g_assert_cmpstr(key, ==, "j.mueller@xn--werk-sd-s2a.example");
    g_assert_cmpstr(display, ==, "Jürgen <J.Mueller@Werk-Süd.Example>");
}

static void
test_new(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqAddress) a = cq_address_new("Anna", "a@x.de", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(a->name, ==, "Anna");
    g_assert_null(cq_address_new("Evil\r\nBcc: x@y", "a@x.de", &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_null(cq_address_new(NULL, "Name <a@x.de>", &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    for (guint i = 0; i < G_N_ELEMENTS(good_cases); i++) {
        g_autofree char *path = g_strdup_printf("/address/good/%u", i);
        g_test_add_data_func(path, &good_cases[i], test_good);
    }
    for (guint i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autofree char *path = g_strdup_printf("/address/bad/%u", i);
        g_test_add_data_func(path, &bad_cases[i], test_bad);
    }
    for (guint i = 0; i < G_N_ELEMENTS(list_cases); i++) {
        g_autofree char *path = g_strdup_printf("/address/list/%u", i);
        g_test_add_data_func(path, &list_cases[i], test_list);
    }
    g_test_add_func("/address/list-bad", test_list_bad);
    g_test_add_func("/address/lengths", test_long_parts);
    g_test_add_func("/address/key-display", test_key_and_display);
    g_test_add_func("/address/new", test_new);
    return g_test_run();
}
