/* caqmail document: the document store, whose documents `caqmail send
 * --document` attaches. */
#include "cli.h"

#include "document/document.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static gboolean json_output;
static char *title, *revision, *record, *name, *output;

static CqSession *
start(CqCli *cli, int *code)
{
    if (!cli_load_config(cli, code))
        return NULL;
    return cli_open_session(cli, code);
}

static void
set_string(JsonBuilder *b, const char *member, const char *value)
{
    json_builder_set_member_name(b, member);
    if (value == NULL)
        json_builder_add_null_value(b);
    else
        json_builder_add_string_value(b, value);
}

static void
add_document_json(JsonBuilder *b, const CqDocument *d)
{
    g_autofree char *created = cli_format_time_iso(d->created);

    json_builder_begin_object(b);
    set_string(b, "id", d->id);
    set_string(b, "title", d->title);
    set_string(b, "revision", d->revision);
    set_string(b, "filename", d->filename);
    set_string(b, "kind", d->kind);
    set_string(b, "media_type", d->media_type);
    json_builder_set_member_name(b, "size");
    json_builder_add_int_value(b, d->size);
    set_string(b, "sha256", d->sha256);
    set_string(b, "record", d->record);
    set_string(b, "created", created);
    set_string(b, "created_by", d->created_by);
    set_string(b, "operator", d->operator);
    if (d->mails != NULL) {
        json_builder_set_member_name(b, "mails");
        json_builder_begin_array(b);
        for (guint i = 0; i < d->mails->len; i++)
            json_builder_add_int_value(b, g_array_index(d->mails, gint64, i));
        json_builder_end_array(b);
    }
    json_builder_end_object(b);
}

static void
print_document_json(const CqDocument *d)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    add_document_json(b, d);
    cli_print_json(json_builder_get_root(b));
}

static int
run_add(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    const GOptionEntry entries[] = {
        {"title", 't', 0, G_OPTION_ARG_STRING, &title, "Title (required)",
         "TEXT"},
        {"revision", 'R', 0, G_OPTION_ARG_STRING, &revision,
         "Revision, e.g. B or 2026-03", "REV"},
        {"record", 'r', 0, G_OPTION_ARG_STRING, &record,
         "Quality record the document belongs to, e.g. 8D-2026-0042", "ID"},
        {"name", 'n', 0, G_OPTION_ARG_STRING, &name,
         "File name recipients see (default: FILE's name); its extension "
         "must match the content",
         "NAME"},
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json_output,
         "Print the new document as JSON", NULL},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, "document add", "FILE",
                       "Store a copy of FILE as a new document and print "
                       "its id (DOC-n).  Word, Excel, PowerPoint, "
                       "OpenDocument, RTF, text, CSV, HTML, images and PDF "
                       "are taken when the name matches the content.",
                       entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 2 || title == NULL) {
        fprintf(stderr, "caqmail document add: give FILE and --title\n");
        return EX_USAGE;
    }
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    CqDocumentSpec spec = {
        .title = title,
        .revision = revision,
        .record = record,
        .filename = name,
        .max_size = cli->config->message.max_attachment_size,
    };
    g_autoptr(CqDocument) d = cq_document_add(s, argv[1], &spec, &error);
    if (d == NULL)
        return cli_fail(cli, error);
    if (json_output)
        print_document_json(d);
    else
        puts(d->id);
    return EX_OK;
}

static int
run_list(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    const GOptionEntry entries[] = {
        {"record", 'r', 0, G_OPTION_ARG_STRING, &record,
         "Only the documents of record ID", "ID"},
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json_output,
         "Print JSON for scripts", NULL},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, "document list", "",
                       "List the documents you may read: all with the "
                       "permission read-all, your own with read-own.",
                       entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 1) {
        fprintf(stderr, "caqmail document list: unexpected '%s'\n", argv[1]);
        return EX_USAGE;
    }
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    g_autoptr(GPtrArray) docs = cq_document_list(s, record, &error);
    if (docs == NULL)
        return cli_fail(cli, error);
    g_autoptr(JsonBuilder) b = json_builder_new();
    CliTable *t = cli_table_new((const char *const[]){
        "id", "rev", "kind", "size", "record", "file", "title", NULL});
    json_builder_begin_array(b);
    for (guint i = 0; i < docs->len; i++) {
        const CqDocument *d = docs->pdata[i];
        g_autofree char *size = g_format_size((guint64)d->size);
        cli_table_add(t, (const char *const[]){d->id, d->revision, d->kind,
                                               size, d->record, d->filename,
                                               d->title, NULL});
        add_document_json(b, d);
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

static void
print_document_text(const CqDocument *d)
{
    g_autofree char *created = cli_format_time(d->created);

    printf("document  %s\ntitle     %s\nrevision  %s\n"
           "file      %s (%s, %s, %" G_GINT64_FORMAT " bytes)\n"
           "sha256    %s\nrecord    %s\ncreated   %s by %s%s%s%s\nmails    ",
           d->id, d->title, d->revision ? d->revision : "-", d->filename,
           d->kind, d->media_type, d->size, d->sha256,
           d->record ? d->record : "-", created, d->created_by,
           d->operator ? " (by " : "", d->operator ? d->operator : "",
           d->operator ? ")" : "");
    for (guint i = 0; i < d->mails->len; i++)
        printf("%s%" G_GINT64_FORMAT, i ? ", " : " ",
               g_array_index(d->mails, gint64, i));
    puts(d->mails->len ? "" : " -");
}

static int
run_show(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    const GOptionEntry entries[] = {
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json_output,
         "Print JSON for scripts", NULL},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, "document show", "DOC-ID",
                       "Show a document and the mails that carried it.",
                       entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 2) {
        fprintf(stderr, "caqmail document show: give DOC-ID\n");
        return EX_USAGE;
    }
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    g_autoptr(CqDocument) d = cq_document_get(s, argv[1], &error);
    if (d == NULL)
        return cli_fail(cli, error);
    if (json_output)
        print_document_json(d);
    else
        print_document_text(d);
    return EX_OK;
}

/* A new file at @path; an existing one is never overwritten. */
static GMimeStream *
create_output(const char *path, GError **error)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);

    if (fd < 0) {
        g_set_error(error, CQ_ERROR,
                    errno == EEXIST ? CQ_ERROR_USAGE : CQ_ERROR_IO,
                    "output '%s': %s", path,
                    errno == EEXIST ? "exists already; give another --output"
                                    : g_strerror(errno));
        return NULL;
    }
    return g_mime_stream_fs_new(fd);
}

static gboolean
export_to(CqSession *s, const char *id, const char *path, GError **error)
{
    if (strcmp(path, "-") == 0) {
        g_autoptr(GMimeStream) out = g_mime_stream_pipe_new(STDOUT_FILENO);
        g_mime_stream_pipe_set_owner(GMIME_STREAM_PIPE(out), FALSE);
        return cq_document_write(s, id, out, NULL, error);
    }
    g_autoptr(GMimeStream) out = create_output(path, error);
    if (out == NULL)
        return FALSE;
    gboolean ok = cq_document_write(s, id, out, NULL, error);
    if (ok && g_mime_stream_close(out) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "output '%s': %s", path,
                    g_strerror(errno));
        ok = FALSE;
    }
    if (!ok)
        unlink(path);
    return ok;
}

static int
run_export(CqCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int code = EX_USAGE;
    const GOptionEntry entries[] = {
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
         "Write to FILE, which must not exist ('-': standard output; "
         "default: the document's file name in the current folder)",
         "FILE"},
        G_OPTION_ENTRY_NULL,
    };

    if (!cli_parse_sub(cli, "document export", "DOC-ID",
                       "Write a document's file exactly as it was added, "
                       "checked against its SHA-256.",
                       entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 2) {
        fprintf(stderr, "caqmail document export: give DOC-ID\n");
        return EX_USAGE;
    }
    g_autoptr(CqSession) s = start(cli, &code);
    if (s == NULL)
        return code;
    g_autoptr(CqDocument) d = NULL;
    if (output == NULL && (d = cq_document_get(s, argv[1], &error)) == NULL)
        return cli_fail(cli, error);
    if (!export_to(s, argv[1], output ? output : d->filename, &error))
        return cli_fail(cli, error);
    return EX_OK;
}

static const CqSubcommand subcommands[] = {
    {"add", run_add, "store a file: FILE --title TEXT [--revision] [--record]"},
    {"list", run_list, "list documents: [--record ID]"},
    {"show", run_show, "show a document: DOC-ID"},
    {"export", run_export, "write a document's file: DOC-ID [--output FILE]"},
};

int
cmd_document(CqCli *cli, int argc, char **argv)
{
    return cli_run_subcommand(
        cli, argc, argv, subcommands, G_N_ELEMENTS(subcommands),
        "The document store: inspection reports, 8D reports, drawings and "
        "work\ninstructions, kept as they were added.  'caqmail send "
        "--document DOC-ID\n[--pdf]' mails them.");
}
