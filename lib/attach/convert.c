#include "attach/convert.h"

#include "attach/cache.h"
#include "attach/runner.h"
#include "common/error.h"
#include "common/event.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Changes whenever the same options would give a different PDF, so that
 * older cache entries are no longer used. */
#define CONVERTER_VERSION "1"
#define VARIANT_DIGITS 16
#define PDF_TAIL 1024

#define PACKAGES                                                               \
    "libreoffice-writer-nogui libreoffice-calc-nogui "                         \
    "libreoffice-impress-nogui fonts-liberation2 fonts-crosextra-carlito "     \
    "fonts-crosextra-caladea"

/* Text encodings by setting name: LibreOffice's name for the text filter
 * and its number for the CSV filter. */
static const struct {
    const char *setting;
    const char *name;
    guint number;
} encodings[] = {
    {"utf-8", "UTF8", 76},
    {"utf-16", "UNICODE", 65535},
    {"windows-1252", "MS_1252", 1},
    {"iso-8859-1", "ISO_8859_1", 12},
    {"iso-8859-15", "ISO_8859_15", 22},
};

CqConvertOptions
cq_convert_options_from_config(const CqConfig *config)
{
    CqConvertOptions options = {
        .soffice = config->convert.soffice,
        .timeout_ms = config->convert.timeout * 1000,
        .cache_dir = config->convert.cache_dir,
        .max_parallel = (guint)config->convert.max_parallel,
        .text_encoding = config->convert.text_encoding,
    };
    return options;
}

void
cq_conversion_clear(CqConversion *conversion)
{
    g_clear_pointer(&conversion->source_sha256, g_free);
    g_clear_pointer(&conversion->pdf_path, g_free);
    g_clear_pointer(&conversion->pdf_sha256, g_free);
}

static guint
encoding_index(CqCharset charset, const char *text_encoding)
{
    const char *setting = charset == CQ_CHARSET_UTF8    ? "utf-8"
                          : charset == CQ_CHARSET_UTF16 ? "utf-16"
                                                        : text_encoding;
    for (guint i = 0; i < G_N_ELEMENTS(encodings); i++) {
        if (g_strcmp0(encodings[i].setting, setting) == 0)
            return i;
    }
    return 2; /* windows-1252, a superset of ISO 8859-1's printable part */
}

char *
cq_convert_import_filter(const CqDocType *type, const char *text_encoding)
{
    guint enc = encoding_index(type->charset, text_encoding);

    switch (type->kind) {
    case CQ_DOC_TEXT:
        return g_strdup_printf("Text (encoded):%s,LF,,", encodings[enc].name);
    case CQ_DOC_CSV:
        /* separator, text quote, character set, first line */
        return g_strdup_printf("CSV:%d,34,%u,1", type->separator,
                               encodings[enc].number);
    case CQ_DOC_HTML:
        return g_strdup("HTML (StarWriter)");
    default:
        return NULL;
    }
}

char *
cq_convert_export_filter(const CqDocType *type)
{
    static const char *const apps[] = {
        [CQ_APP_NONE] = "writer", [CQ_APP_WRITER] = "writer",
        [CQ_APP_CALC] = "calc",   [CQ_APP_IMPRESS] = "impress",
        [CQ_APP_DRAW] = "draw",
    };
    return g_strdup_printf("pdf:%s_pdf_Export:{\"UseLosslessCompression\":"
                           "{\"type\":\"boolean\",\"value\":\"true\"}}",
                           apps[cq_doc_kind_app(type->kind)]);
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    remove(path);
    return 0;
}

static void
remove_tree(const char *path)
{
    if (path != NULL)
        nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Copies the source into the work folder, hashing what is copied. */
static gboolean
copy_source(const char *path, const char *copy, CqConversion *conversion,
            GError **error)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    struct stat st;
    gboolean ok = FALSE;
    int out = -1, in = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (in < 0 || fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOINPUT, "%s",
                    in >= 0           ? "is not a regular file"
                    : errno == ENOENT ? "no such file"
                                      : g_strerror(errno));
        goto out;
    }
    out = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "copy '%s': %s", copy,
                    g_strerror(errno));
        goto out;
    }
    if (!cq_cache_copy_fd(in, out, sum, copy, error))
        goto out;
    conversion->source_sha256 = g_strdup(g_checksum_get_string(sum));
    conversion->source_size = st.st_size;
    ok = TRUE;
out:
    if (out >= 0)
        close(out);
    if (in >= 0)
        close(in);
    return ok;
}

static gboolean
identify_copy(const char *copy, const char *filename, CqDocType *type,
              GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GMappedFile) map = g_mapped_file_new(copy, FALSE, &local);

    if (map == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "copy '%s': %s", copy,
                    local->message);
        return FALSE;
    }
    return cq_doc_identify(filename,
                           (const guchar *)g_mapped_file_get_contents(map),
                           g_mapped_file_get_length(map), type, error);
}

/* Names the way a PDF is made, for the cache: the same source converted
 * with other filters or options, or under another name, which shows in
 * the PDF, is another entry. */
static char *
variant_of(const CqConvertOptions *options, const CqDocType *type,
           const char *stem)
{
    g_autofree char *import =
        cq_convert_import_filter(type, options->text_encoding);
    g_autofree char *export = cq_convert_export_filter(type);
    g_autofree char *recipe = g_strjoin("\n", CONVERTER_VERSION, export,
                                        import ? import : "", stem, NULL);
    g_autofree char *digest =
        g_compute_checksum_for_string(G_CHECKSUM_SHA256, recipe, -1);
    return g_strndup(digest, VARIANT_DIGITS);
}

static char *
find_soffice(const char *program, GError **error)
{
    char *found = NULL;

    if (strchr(program, '/') != NULL) {
        if (g_file_test(program, G_FILE_TEST_IS_EXECUTABLE) &&
            !g_file_test(program, G_FILE_TEST_IS_DIR))
            found = g_strdup(program);
    } else {
        found = g_find_program_in_path(program);
    }
    if (found == NULL)
        g_set_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE,
                    "LibreOffice is not installed: no program '%s' "
                    "(setting convert.soffice); on Debian install " PACKAGES,
                    program);
    return found;
}

static int
lock_slot(const char *folder, guint slot, int how)
{
    g_autofree char *name = g_strdup_printf("%u.lock", slot);
    g_autofree char *path = g_build_filename(folder, name, NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int r = -1;

    while (fd >= 0 && (r = flock(fd, how)) != 0 && errno == EINTR)
        ;
    if (fd >= 0 && r != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Takes one of the machine's conversion slots: a lock file in the cache
 * folder.  A free one if there is one, else it waits for one chosen by
 * process id.  Returns the locked descriptor; closing it frees the slot. */
static int
acquire_slot(const CqConvertOptions *options, GError **error)
{
    guint slots =
        options->max_parallel ? options->max_parallel : g_get_num_processors();
    g_autofree char *folder =
        g_build_filename(options->cache_dir, "slots", NULL);
    int fd = -1;

    if (g_mkdir_with_parents(folder, 0700) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "conversion slots '%s': %s",
                    folder, g_strerror(errno));
        return -1;
    }
    for (guint i = 0; i < slots && fd < 0; i++)
        fd = lock_slot(folder, i, LOCK_EX | LOCK_NB);
    if (fd < 0)
        fd = lock_slot(folder, (guint)getpid() % slots, LOCK_EX);
    if (fd < 0)
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "conversion slots '%s': %s",
                    folder, g_strerror(errno));
    return fd;
}

/* The first line of LibreOffice's standard error that reports an error;
 * newly allocated, or NULL. */
static char *
error_line(const char *err)
{
    g_auto(GStrv) lines = g_strsplit(err ? err : "", "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], "Error:"))
            return g_strstrip(g_strdup(lines[i]));
    }
    return NULL;
}

static gboolean
judge_run(const CqConvertOptions *options, const CqRunResult *run,
          GError **error)
{
    g_autofree char *line = error_line(run->err);

    if (run->timed_out) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL,
                    "LibreOffice did not finish within the time limit of "
                    "%" G_GINT64_FORMAT " s (setting convert.timeout) and "
                    "was stopped",
                    options->timeout_ms / 1000);
        return FALSE;
    }
    if (line != NULL && strstr(line, "could not be loaded") != NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "LibreOffice cannot open it: the file is damaged or "
                    "protected by a password");
        return FALSE;
    }
    if (line != NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_FAILED, "LibreOffice failed: %s",
                    line);
        return FALSE;
    }
    if (WIFSIGNALED(run->wait_status)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL,
                    "LibreOffice was killed by signal %d",
                    WTERMSIG(run->wait_status));
        return FALSE;
    }
    return TRUE;
}

/* Accepts only a complete PDF: a header at the start and an end-of-file
 * mark near the end. */
static gboolean
check_pdf(const char *path, gint64 *size, GError **error)
{
    g_autoptr(GMappedFile) map = g_mapped_file_new(path, FALSE, NULL);
    gsize len = map ? g_mapped_file_get_length(map) : 0;
    const char *data = map ? g_mapped_file_get_contents(map) : NULL;
    gsize tail = MIN(len, PDF_TAIL);

    if (len < 5 || memcmp(data, "%PDF-", 5) != 0 ||
        g_strstr_len(data + len - tail, (gssize)tail, "%%EOF") == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_FAILED, "LibreOffice wrote %s",
                    map == NULL ? "no PDF"
                    : len == 0  ? "an empty file"
                                : "a file that is not a complete PDF");
        return FALSE;
    }
    *size = (gint64)len;
    return TRUE;
}

static void
log_command(const char *const *argv)
{
    CqEvent *ev = cq_event_begin(CQ_LOG_DEBUG, "convert-run");
    if (ev == NULL)
        return;
    g_autofree char *line = g_strjoinv(" ", (char **)argv);
    cq_event_add(ev, "argv", line);
    cq_event_end(ev);
}

/* soffice's command line: one file, a profile of its own in the work
 * folder, the import filter the content needs (before the file, which
 * it applies to) and the export filter.  Newly allocated. */
static GStrv
soffice_argv(const CqConvertOptions *options, const char *program,
             const char *work, const char *input, const CqDocType *type)
{
    GPtrArray *argv = g_ptr_array_new();
    g_autofree char *profile = g_build_filename(work, "profile", NULL);
    g_autofree char *profile_uri = g_filename_to_uri(profile, NULL, NULL);
    g_autofree char *import =
        cq_convert_import_filter(type, options->text_encoding);
    static const char *const switches[] = {
        "--headless",  "--invisible",   "--nologo", "--norestore",
        "--nodefault", "--nolockcheck", NULL,
    };

    g_ptr_array_add(argv, g_strdup(program));
    g_ptr_array_add(argv,
                    g_strconcat("-env:UserInstallation=", profile_uri, NULL));
    for (guint i = 0; switches[i]; i++)
        g_ptr_array_add(argv, g_strdup(switches[i]));
    g_ptr_array_add(argv, g_strdup("--convert-to"));
    g_ptr_array_add(argv, cq_convert_export_filter(type));
    g_ptr_array_add(argv, g_strdup("--outdir"));
    g_ptr_array_add(argv, g_build_filename(work, "out", NULL));
    if (import != NULL)
        g_ptr_array_add(argv, g_strconcat("--infilter=", import, NULL));
    g_ptr_array_add(argv, g_strdup(input));
    g_ptr_array_add(argv, NULL);
    return (GStrv)g_ptr_array_free(argv, FALSE);
}

static gboolean
run_soffice(const CqConvertOptions *options, const char *program,
            const char *work, const char *input, const CqDocType *type,
            GError **error)
{
    g_auto(GStrv) argv = soffice_argv(options, program, work, input, type);
    /* LibreOffice's own temporary files go into the work folder too. */
    g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "TMPDIR", work, TRUE);
    CqRunResult run = {0};

    log_command((const char *const *)argv);
    int slot = acquire_slot(options, error);
    if (slot < 0)
        return FALSE;
    gboolean ok =
        cq_run_bounded((const char *const *)argv, (const char *const *)env,
                       work, options->timeout_ms, &run, error);
    close(slot);
    ok = ok && judge_run(options, &run, error);
    cq_run_result_clear(&run);
    return ok;
}

/* The name LibreOffice sees, which shows in the PDF (a spreadsheet's
 * sheet name, a document's title): the stem of @filename, with anything
 * but letters, digits and a few marks replaced.  Newly allocated. */
static char *
input_stem(const char *filename)
{
    const char *dot = strrchr(filename, '.');
    gsize stem = dot != NULL && dot != filename ? (gsize)(dot - filename)
                                                : strlen(filename);
    GString *name = g_string_new(NULL);

    for (const char *p = filename; p < filename + stem && name->len < 120;
         p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_isalnum(c) || (c < 0x80 && strchr(" -_,()", (int)c)))
            g_string_append_unichar(name, c);
        else
            g_string_append_c(name, '_');
    }
    if (name->len == 0)
        g_string_append(name, "document");
    return g_string_free(name, FALSE);
}

static gboolean
convert_source(const CqConvertOptions *options, const char *work,
               const char *copy, const char *stem, CqConversion *conversion,
               GError **error)
{
    g_autofree char *program = find_soffice(options->soffice, error);
    if (program == NULL)
        return FALSE;
    if (options->timeout_ms < 1000) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                    "setting convert.timeout: at least 1s is needed");
        return FALSE;
    }
    g_autofree char *name = g_strconcat(
        stem, ".", cq_doc_kind_extension(conversion->type.kind), NULL);
    g_autofree char *input = g_build_filename(work, name, NULL);
    g_autofree char *out_name = g_strconcat(stem, ".pdf", NULL);
    g_autofree char *pdf = g_build_filename(work, "out", out_name, NULL);
    if (g_rename(copy, input) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "copy '%s': %s", input,
                    g_strerror(errno));
        return FALSE;
    }
    return run_soffice(options, program, work, input, &conversion->type,
                       error) &&
           check_pdf(pdf, &conversion->pdf_size, error) &&
           cq_cache_store(conversion->pdf_path, pdf, &conversion->pdf_sha256,
                          error);
}

static void
log_converted(const char *filename, const CqConversion *conversion,
              gint64 started)
{
    CqEvent *ev = cq_event_begin(CQ_LOG_INFO, "converted");
    if (ev == NULL)
        return;
    cq_event_add(ev, "file", filename);
    cq_event_add(ev, "type", cq_doc_kind_name(conversion->type.kind));
    cq_event_add(ev, "source", conversion->source_sha256);
    cq_event_add(ev, "pdf", conversion->pdf_sha256);
    cq_event_addf(ev, "bytes", "%" G_GINT64_FORMAT, conversion->source_size);
    cq_event_addf(ev, "pdf_bytes", "%" G_GINT64_FORMAT, conversion->pdf_size);
    cq_event_add(ev, "cache", conversion->cache_hit ? "hit" : "miss");
    cq_event_addf(ev, "ms", "%" G_GINT64_FORMAT,
                  (g_get_monotonic_time() - started) / 1000);
    cq_event_end(ev);
}

static gboolean
convert_or_reuse(const CqConvertOptions *options, const char *work,
                 const char *copy, const char *filename,
                 CqConversion *conversion, GError **error)
{
    GStatBuf st;

    if (conversion->type.kind == CQ_DOC_PDF)
        return TRUE;
    g_autofree char *stem = input_stem(filename);
    g_autofree char *variant = variant_of(options, &conversion->type, stem);
    conversion->pdf_path =
        cq_cache_path(options->cache_dir, conversion->source_sha256, variant);
    if (g_stat(conversion->pdf_path, &st) == 0 && S_ISREG(st.st_mode)) {
        conversion->pdf_sha256 = cq_cache_entry_sha256(conversion->pdf_path);
        conversion->pdf_size = st.st_size;
        conversion->cache_hit = conversion->pdf_sha256 != NULL;
    }
    if (conversion->cache_hit)
        return TRUE;
    return convert_source(options, work, copy, stem, conversion, error);
}

gboolean
cq_convert_to_pdf(const CqConvertOptions *options, const char *path,
                  const char *filename, CqConversion *conversion,
                  GError **error)
{
    g_autoptr(GError) local = NULL;
    gint64 started = g_get_monotonic_time();

    memset(conversion, 0, sizeof *conversion);
    g_autofree char *work = g_dir_make_tmp("caqmail-convert-XXXXXX", &local);
    if (work == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO,
                    "temporary folder for the conversion: %s", local->message);
        return FALSE;
    }
    g_autofree char *copy = g_build_filename(work, "source", NULL);
    gboolean ok =
        copy_source(path, copy, conversion, error) &&
        identify_copy(copy, filename, &conversion->type, error) &&
        convert_or_reuse(options, work, copy, filename, conversion, error);
    remove_tree(work);
    if (!ok) {
        cq_conversion_clear(conversion);
        return FALSE;
    }
    if (conversion->pdf_path != NULL)
        log_converted(filename, conversion, started);
    return TRUE;
}
