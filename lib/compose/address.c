#include "compose/address.h"

#include "common/error.h"
#include "common/text.h"
#include "mime/gmime-util.h"

#include <gio/gio.h>
#include <idn2.h>
#include <string.h>

#define MAX_LOCAL 64   /* RFC 5321 4.5.3.1.1 */
#define MAX_DOMAIN 253 /* a DNS name without the final dot */
#define MAX_PATH 254   /* RFC 5321 4.5.3.1.3 less the angle brackets */
#define MAX_LABEL 63

typedef struct {
    const char *input; /* the whole text, for messages */
    const char *p;     /* the cursor */
    char *comment;     /* text of the last comment skipped */
    GError **error;
} Parser;

static gboolean
fail(Parser *ps, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static gboolean
fail(Parser *ps, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    g_autofree char *reason = g_strdup_vprintf(fmt, args);
    va_end(args);

    if (ps->error != NULL && *ps->error != NULL)
        return FALSE; /* keep the first, most precise reason */
    g_autofree char *shown = cq_text_printable(ps->input);
    g_set_error(ps->error, CQ_ERROR, CQ_ERROR_INVALID, "address '%s': %s",
                shown, reason);
    return FALSE;
}

static gboolean
is_atext(guchar c)
{
    if (g_ascii_isalnum(c) || c >= 0x80)
        return TRUE;
    return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static gboolean
is_wsp(guchar c)
{
    return c == ' ' || c == '\t';
}

/* Skips a comment, nested comments and quoted pairs included; keeps its
 * text for an old-style `addr (Name)` display name. */
static gboolean
skip_comment(Parser *ps)
{
    GString *text = g_string_new(NULL);
    int depth = 0;

    do {
        char c = *ps->p;
        if (c == '\0') {
            g_string_free(text, TRUE);
            return fail(ps, "unbalanced '(' in a comment");
        }
        ps->p++;
        if (c == '\\' && *ps->p != '\0') {
            g_string_append_c(text, *ps->p++);
            continue;
        }
        if (c == '(' && depth++ == 0)
            continue;
        if (c == ')' && --depth == 0)
            break;
        g_string_append_c(text, c);
    } while (depth > 0);

    g_free(ps->comment);
    ps->comment = g_string_free(text, FALSE);
    g_strstrip(ps->comment);
    return TRUE;
}

/* Skips folding white space and comments (CFWS). */
static gboolean
skip_cfws(Parser *ps)
{
    for (;;) {
        while (is_wsp((guchar)*ps->p))
            ps->p++;
        if (*ps->p != '(')
            return TRUE;
        if (!skip_comment(ps))
            return FALSE;
    }
}

/* Reads a quoted-string at the cursor into @value (unescaped). */
static gboolean
read_quoted(Parser *ps, GString *value)
{
    ps->p++; /* the opening quote */
    for (;;) {
        char c = *ps->p;
        if (c == '\0')
            return fail(ps, "unbalanced '\"'");
        ps->p++;
        if (c == '"')
            return TRUE;
        if (c == '\\') {
            if (*ps->p == '\0')
                return fail(ps, "unbalanced '\"'");
            c = *ps->p++;
        }
        g_string_append_c(value, c);
    }
}

static void
read_atom(Parser *ps, GString *value, gboolean allow_dot)
{
    while (is_atext((guchar)*ps->p) || (allow_dot && *ps->p == '.'))
        g_string_append_c(value, *ps->p++);
}

static gboolean
is_dot_atom(const char *text)
{
    if (*text == '\0' || *text == '.')
        return FALSE;
    for (const char *p = text; *p; p++) {
        if (*p == '.' && (p[1] == '.' || p[1] == '\0'))
            return FALSE;
        if (*p != '.' && !is_atext((guchar)*p))
            return FALSE;
    }
    return TRUE;
}

static char *
quote_local(const char *value)
{
    GString *out = g_string_new("\"");
    for (const char *p = value; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_c(out, '\\');
        g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
    return g_string_free(out, FALSE);
}

static char *
read_local_part(Parser *ps)
{
    g_autoptr(GString) value = g_string_new(NULL);

    if (*ps->p == '"') {
        if (!read_quoted(ps, value))
            return NULL;
        if (value->len == 0) {
            fail(ps, "empty local part");
            return NULL;
        }
        if (is_dot_atom(value->str))
            return g_strdup(value->str);
        return quote_local(value->str);
    }
    read_atom(ps, value, TRUE);
    if (value->len == 0) {
        fail(ps, "missing local part before '@'");
        return NULL;
    }
    if (!is_dot_atom(value->str)) {
        fail(ps, "local part '%s' has an empty label (a leading, "
                 "trailing or doubled '.')", value->str);
        return NULL;
    }
    return g_strdup(value->str);
}

static gboolean
check_ascii_labels(Parser *ps, const char *domain)
{
    const char *label = domain;

    if (strlen(domain) > MAX_DOMAIN)
        return fail(ps, "domain is longer than %d characters", MAX_DOMAIN);
    for (const char *p = domain;; p++) {
        if (*p != '.' && *p != '\0') {
            if (!g_ascii_isalnum(*p) && *p != '-')
                return fail(ps, "domain '%s' contains '%c'", domain, *p);
            continue;
        }
        gsize len = (gsize)(p - label);
        if (len == 0)
            return fail(ps, "domain '%s' has an empty label", domain);
        if (len > MAX_LABEL)
            return fail(ps, "domain '%s' has a label over %d characters",
                        domain, MAX_LABEL);
        if (label[0] == '-' || p[-1] == '-')
            return fail(ps, "domain '%s' has a label that starts or ends "
                            "with '-'", domain);
        if (*p == '\0')
            return TRUE;
        label = p + 1;
    }
}

/* Converts @domain to its ASCII form; sets @utf8 to the readable form. */
static char *
convert_domain(Parser *ps, const char *domain, char **utf8)
{
    char *out = NULL;
    int rc;

    if (cq_text_is_8bit(domain)) {
        rc = idn2_to_ascii_8z(domain, &out,
                              IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
        if (rc != IDN2_OK) {
            fail(ps, "domain '%s' is not a valid internationalized name: "
                     "%s", domain, idn2_strerror(rc));
            return NULL;
        }
        *utf8 = g_strdup(domain);
    } else {
        out = strdup(domain);
        *utf8 = NULL;
    }
    char *ascii = cq_text_ascii_down(g_strdup(out));
    idn2_free(out);

    if (!check_ascii_labels(ps, ascii))
        goto fail;
    if (*utf8 == NULL) {
        /* An ASCII domain with A-labels: check them, keep U-labels. */
        rc = idn2_to_unicode_8z8z(ascii, &out, 0);
        if (rc != IDN2_OK) {
            fail(ps, "domain '%s' has an invalid 'xn--' label: %s", ascii,
                 idn2_strerror(rc));
            goto fail;
        }
        *utf8 = g_strdup(out);
        idn2_free(out);
    }
    return ascii;

fail:
    g_clear_pointer(utf8, g_free);
    g_free(ascii);
    return NULL;
}

static char *
read_domain_literal(Parser *ps)
{
    const char *start = ps->p;
    const char *end = strchr(start, ']');

    if (end == NULL) {
        fail(ps, "unbalanced '[' in the domain");
        return NULL;
    }
    g_autofree char *inner = g_strndup(start + 1, (gsize)(end - start - 1));
    const char *ip = inner;
    GSocketFamily want = G_SOCKET_FAMILY_IPV4;
    if (g_ascii_strncasecmp(inner, "IPv6:", 5) == 0) {
        ip += 5;
        want = G_SOCKET_FAMILY_IPV6;
    }
    g_autoptr(GInetAddress) addr = g_inet_address_new_from_string(ip);
    if (addr == NULL || g_inet_address_get_family(addr) != want) {
        fail(ps, "domain literal '[%s]' is not an IPv4 address or "
                 "'IPv6:' followed by an IPv6 address", inner);
        return NULL;
    }
    ps->p = end + 1;
    return g_strndup(start, (gsize)(end + 1 - start));
}

static gboolean
read_domain(Parser *ps, CqAddress *address)
{
    if (*ps->p == '[') {
        address->domain = read_domain_literal(ps);
        address->domain_utf8 = g_strdup(address->domain);
        return address->domain != NULL;
    }

    g_autoptr(GString) value = g_string_new(NULL);
    read_atom(ps, value, TRUE);
    if (value->len == 0)
        return fail(ps, "missing domain after '@'");
    if (!is_dot_atom(value->str))
        return fail(ps, "domain '%s' has an empty label", value->str);
    address->domain = convert_domain(ps, value->str, &address->domain_utf8);
    return address->domain != NULL;
}

static gboolean
read_addr_spec(Parser *ps, CqAddress *address)
{
    if (!skip_cfws(ps))
        return FALSE;
    address->local = read_local_part(ps);
    if (address->local == NULL)
        return FALSE;
    if (!skip_cfws(ps))
        return FALSE;
    if (*ps->p != '@')
        return fail(ps, *ps->p ? "unexpected '%c' in the local part"
                               : "missing '@' and domain",
                    *ps->p);
    ps->p++;
    if (!skip_cfws(ps) || !read_domain(ps, address))
        return FALSE;

    address->smtputf8 = cq_text_is_8bit(address->local);
    if (strlen(address->local) > MAX_LOCAL)
        return fail(ps, "local part is longer than %d octets", MAX_LOCAL);
    if (strlen(address->local) + 1 + strlen(address->domain) > MAX_PATH)
        return fail(ps, "address is longer than %d octets", MAX_PATH);
    return TRUE;
}

/* Reads a display name; stops before '<', ':', ',', ';', '@' or the end. */
static gboolean
read_phrase(Parser *ps, GString *phrase)
{
    for (;;) {
        if (!skip_cfws(ps))
            return FALSE;
        g_autoptr(GString) word = g_string_new(NULL);
        if (*ps->p == '"') {
            if (!read_quoted(ps, word))
                return FALSE;
        } else if (is_atext((guchar)*ps->p) || *ps->p == '.') {
            read_atom(ps, word, TRUE);
        } else {
            return TRUE;
        }
        if (phrase->len > 0)
            g_string_append_c(phrase, ' ');
        g_string_append_len(phrase, word->str, (gssize)word->len);
    }
}

static gboolean
set_name(Parser *ps, CqAddress *address, const char *phrase)
{
    if (phrase == NULL || *phrase == '\0')
        return TRUE;

    char *name = NULL;
    if (strstr(phrase, "=?") != NULL) {
        cq_mime_init();
        name = g_mime_utils_header_decode_phrase(NULL, phrase);
    }
    else
        name = g_strdup(phrase);
    g_strstrip(name);

    g_autoptr(GError) local = NULL;
    if (!cq_text_check_header("display name", name, &local)) {
        g_free(name);
        return fail(ps, "%s", local->message);
    }
    if (*name == '\0')
        g_clear_pointer(&name, g_free);
    address->name = name;
    return TRUE;
}

/* Reads one mailbox at the cursor: `phrase <spec>` or `spec (comment)`. */
static CqAddress *
read_mailbox(Parser *ps)
{
    g_autoptr(CqAddress) address = g_new0(CqAddress, 1);
    g_autoptr(GString) phrase = g_string_new(NULL);
    const char *start = ps->p;

    if (!read_phrase(ps, phrase))
        return NULL;
    if (*ps->p == '<') {
        ps->p++;
        if (!read_addr_spec(ps, address) || !skip_cfws(ps))
            return NULL;
        if (*ps->p != '>') {
            fail(ps, "missing '>' after the address");
            return NULL;
        }
        ps->p++;
        if (!set_name(ps, address, phrase->str))
            return NULL;
    } else {
        ps->p = start;
        g_clear_pointer(&ps->comment, g_free);
        if (!read_addr_spec(ps, address) || !skip_cfws(ps))
            return NULL;
        if (!set_name(ps, address, ps->comment))
            return NULL;
    }
    g_clear_pointer(&ps->comment, g_free);
    if (!skip_cfws(ps))
        return NULL;
    return g_steal_pointer(&address);
}

static gboolean
precheck(Parser *ps)
{
    g_autoptr(GError) local = NULL;

    if (cq_text_check_header("text", ps->input, &local))
        return TRUE;
    /* Name the problem without repeating the hostile text. */
    g_set_error(ps->error, CQ_ERROR, CQ_ERROR_INVALID, "address %s",
                local->message + strlen("text: "));
    return FALSE;
}

CqAddress *
cq_address_parse(const char *text, GError **error)
{
    Parser ps = {.input = text, .p = text, .error = error};

    CqAddress *address = NULL;

    if (!precheck(&ps) || !skip_cfws(&ps))
        goto out;
    if (*ps.p == '\0') {
        fail(&ps, "empty address");
        goto out;
    }
    address = read_mailbox(&ps);
    if (address != NULL && *ps.p != '\0') {
        fail(&ps, "unexpected '%c' after the address", *ps.p);
        g_clear_pointer(&address, cq_address_free);
    }
out:
    g_free(ps.comment);
    return address;
}

/* Tries `name: list;` at the cursor; returns FALSE on errors, sets
 * @is_group when it read a group. */
static gboolean
read_group(Parser *ps, GPtrArray *out, gboolean *is_group)
{
    const char *start = ps->p;
    g_autoptr(GString) phrase = g_string_new(NULL);

    *is_group = FALSE;
    if (!read_phrase(ps, phrase))
        return FALSE;
    if (*ps->p != ':' || phrase->len == 0) {
        ps->p = start;
        return TRUE;
    }
    *is_group = TRUE;
    ps->p++;
    for (;;) {
        if (!skip_cfws(ps))
            return FALSE;
        if (*ps->p == ';') {
            ps->p++;
            return skip_cfws(ps);
        }
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == '\0')
            return fail(ps, "group '%s' lacks its closing ';'", phrase->str);
        CqAddress *address = read_mailbox(ps);
        if (address == NULL)
            return FALSE;
        g_ptr_array_add(out, address);
        if (*ps->p != ',' && *ps->p != ';')
            return fail(ps, "unexpected '%c' in group '%s'", *ps->p,
                        phrase->str);
    }
}

static gboolean
read_list(Parser *ps, GPtrArray *out)
{
    for (;;) {
        gboolean is_group = FALSE;
        if (!skip_cfws(ps))
            return FALSE;
        if (*ps->p == '\0')
            return TRUE;
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (!read_group(ps, out, &is_group))
            return FALSE;
        if (!is_group) {
            CqAddress *address = read_mailbox(ps);
            if (address == NULL)
                return FALSE;
            g_ptr_array_add(out, address);
        }
        if (*ps->p != ',' && *ps->p != '\0')
            return fail(ps, "unexpected '%c' after an address (addresses "
                            "are separated by ',')", *ps->p);
    }
}

GPtrArray *
cq_address_list_parse(const char *text, gboolean allow_empty, GError **error)
{
    Parser ps = {.input = text, .p = text, .error = error};
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_address_free);

    if (!precheck(&ps))
        return NULL;
    gboolean ok = read_list(&ps, out);
    g_free(ps.comment);
    if (!ok)
        return NULL;
    if (out->len == 0 && !allow_empty) {
        fail(&ps, "no address given");
        return NULL;
    }
    return g_steal_pointer(&out);
}

CqAddress *
cq_address_new(const char *name, const char *addr_spec, GError **error)
{
    Parser ps = {.input = addr_spec, .p = addr_spec, .error = error};
    g_autoptr(CqAddress) address = g_new0(CqAddress, 1);

    gboolean ok = precheck(&ps) && read_addr_spec(&ps, address);

    g_free(ps.comment);
    if (!ok)
        return NULL;
    if (*ps.p != '\0') {
        fail(&ps, "unexpected '%c' after the address", *ps.p);
        return NULL;
    }
    if (name != NULL) {
        g_autoptr(GError) local = NULL;
        if (!cq_text_check_header("display name", name, &local)) {
            fail(&ps, "%s", local->message);
            return NULL;
        }
        if (*name != '\0')
            address->name = g_strdup(name);
    }
    return g_steal_pointer(&address);
}

CqAddress *
cq_address_copy(const CqAddress *address)
{
    CqAddress *copy = g_new0(CqAddress, 1);
    copy->name = g_strdup(address->name);
    copy->local = g_strdup(address->local);
    copy->domain = g_strdup(address->domain);
    copy->domain_utf8 = g_strdup(address->domain_utf8);
    copy->smtputf8 = address->smtputf8;
    return copy;
}

void
cq_address_free(CqAddress *address)
{
    if (address == NULL)
        return;
    g_free(address->name);
    g_free(address->local);
    g_free(address->domain);
    g_free(address->domain_utf8);
    g_free(address);
}

char *
cq_address_spec(const CqAddress *address)
{
    return g_strconcat(address->local, "@", address->domain, NULL);
}

char *
cq_address_display(const CqAddress *address)
{
    const char *domain =
        address->domain_utf8 ? address->domain_utf8 : address->domain;
    if (address->name == NULL)
        return g_strconcat(address->local, "@", domain, NULL);
    return g_strdup_printf("%s <%s@%s>", address->name, address->local,
                           domain);
}

char *
cq_address_key(const CqAddress *address)
{
    g_autofree char *local = g_utf8_strdown(address->local, -1);
    return g_strconcat(local, "@", address->domain, NULL);
}
