#include "cli/options.h"

#include "decode/sniff.h"

#include <errno.h>
#include <hs/hs.h>
#include <isa-l.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

typedef enum opt_id {
    OPT_THREADS,
    OPT_JSON,
    OPT_FORMAT,
    OPT_OUTPUT,
    OPT_IDS_FROM,
    OPT_INPUT_FORMAT,
    OPT_COLOR,
    OPT_MAX_LINE,
    OPT_LINE_MEMORY,
    OPT_NO_PROGRESS,
    OPT_QUIET,
    OPT_HELP,
    OPT_VERSION,
} opt_id;

typedef struct opt_def {
    opt_id id;
    char short_name; /* 0 when none */
    const char *long_name;
    const char *arg; /* NULL for a flag */
    const char *help;
} opt_def;

static const opt_def OPTS[] = {
    {OPT_THREADS, 'j', "threads", "N", "worker threads (default: one per core)"},
    {OPT_JSON, 0, "json", NULL, "stats: print one JSON object instead of text"},
    {OPT_FORMAT, 'f', "format", "FMT", "timelines, find: text (default) or ndjson"},
    {OPT_OUTPUT, 'o', "output", "FILE", "write the report to FILE instead of stdout"},
    {OPT_IDS_FROM, 0, "ids-from", "FILE", "find: read trace ids from FILE, one per line"},
    {OPT_INPUT_FORMAT, 0, "input-format", "FMT",
     "read every input as FMT: alb, alb-conn, cloudfront, classic-elb, json, text "
     "(default: detected per input from its first lines)"},
    {OPT_COLOR, 0, "color", "WHEN", "auto (default: when stdout is a terminal), always, never"},
    {OPT_MAX_LINE, 0, "max-line-bytes", "N",
     "lines longer than N bytes are counted and skipped (default 1M; K, M, G suffixes)"},
    {OPT_LINE_MEMORY, 0, "line-memory", "SIZE",
     "timelines, find: the lines of compressed inputs and stdin kept in memory; the "
     "rest go to a temporary file in $TMPDIR or /tmp (default: a quarter of the "
     "memory, or of the container's limit)"},
    {OPT_NO_PROGRESS, 0, "no-progress", NULL, "no progress line on stderr"},
    {OPT_QUIET, 'q', "quiet", NULL,
     "no warnings about skipped inputs and lines (errors still show)"},
    {OPT_HELP, 'h', "help", NULL, "show this help and exit"},
    {OPT_VERSION, 'V', "version", NULL, "show versions and exit"},
};
#define NOPTS (sizeof OPTS / sizeof *OPTS)

/* The width of an option's left column in --help, and the terminal's. */
#define HELP_LEFT 26
#define HELP_WIDTH 80

/* Prints text from column `indent`, where the caller left the cursor, in
 * lines that end before column `width`, each later one indented as much;
 * words are cut at spaces only, so a word longer than a line overflows. */
static void print_wrapped(FILE *f, const char *text, size_t indent, size_t width)
{
    const size_t room = width - indent;
    const char *p = text;
    for (bool first = true; *p; first = false) {
        size_t n = strlen(p);
        if (n > room) {
            n = room;
            while (n > 0 && p[n] != ' ')
                n--;
            if (n == 0) /* one long word: up to the next space */
                n = strcspn(p, " ");
        }
        fprintf(f, "%*s%.*s\n", first ? 1 : (int)indent, "", (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
    }
}

void cli_help(FILE *f)
{
    fputs("tracegrep: every request of a distributed trace, from AWS load balancer and\n"
          "application logs, on one timeline.\n"
          "\n"
          "usage:\n"
          "  tracegrep [stats] [OPTIONS] PATH...        summary of the traces in PATH\n"
          "  tracegrep timelines [OPTIONS] PATH...      every trace's timeline\n"
          "  tracegrep find [OPTIONS] ID... PATH...     the timelines of the given traces\n"
          "\n"
          "PATH is a file, a directory (read recursively, in sorted order) or - for stdin;\n"
          "with no PATH, logs are read from stdin when it is not a terminal. gzip (every\n"
          "member), zstd (every frame) and plain text are recognized by their first bytes,\n"
          "and each input's format by its first lines:\n"
          "  ALB access logs      the trace is the Root of the X-Amzn-Trace-Id in field 18\n"
          "  application logs     text (nginx, ...) or JSON lines that log the header or a\n"
          "                       trace id, and Lambda REPORT lines with an XRAY TraceId\n"
          "  ALB connection logs  joined to the traces whose access lines name their\n"
          "                       conn_trace_id\n"
          "  CloudFront logs      joined to the trace whose application line logged their\n"
          "                       x-edge-request-id as X-Amz-Cf-Id\n"
          "\n"
          "ID is a trace id as 1-5759e988-bd862e3fe1be46a994272793, Root=1-…, or the\n"
          "32-hex OpenTelemetry form, in any case. find reads only the lines that mention\n"
          "one.\n"
          "\n"
          "options:\n",
          f);
    for (size_t i = 0; i < NOPTS; i++) {
        char left[64];
        const opt_def *d = &OPTS[i];
        if (d->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", d->short_name, d->long_name,
                     d->arg ? " " : "", d->arg ? d->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", d->long_name, d->arg ? " " : "",
                     d->arg ? d->arg : "");
        fprintf(f, "  %-*s", HELP_LEFT, left);
        print_wrapped(f, d->help, 2 + HELP_LEFT + 1, HELP_WIDTH);
    }
    fputs("\n"
          "exit status: 0 when traces (or the traces asked for) were found, 1 when none\n"
          "were, 2 when an input could not be read or another error happened (even if\n"
          "traces were found in the other inputs).\n"
          "\n"
          "examples:\n"
          "  tracegrep AWSLogs/                              summary of an ALB log archive\n"
          "  tracegrep timelines --format ndjson -o t.ndjson AWSLogs/\n"
          "  tracegrep find 1-5759e988-bd862e3fe1be46a994272793 AWSLogs/\n",
          f);
}

void cli_version(FILE *f)
{
    fprintf(f, "tracegrep %s\n", TG_VERSION);
    fprintf(f, "Hyperscan %s\n", hs_version());
    fprintf(f, "zstd %s\n", ZSTD_versionString());
    fprintf(f, "ISA-L %d.%d.%d\n", ISAL_MAJOR_VERSION, ISAL_MINOR_VERSION, ISAL_PATCH_VERSION);
}

/* "1048576", "512K", "1M", "2G". */
static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-')
        return -1;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10, end++;
    else if (*end == 'M' || *end == 'm')
        shift = 20, end++;
    else if (*end == 'G' || *end == 'g')
        shift = 30, end++;
    if (*end || v == 0 || v > (SIZE_MAX >> shift))
        return -1;
    *out = (size_t)v << shift;
    return 0;
}

static int apply(cli_opts *o, const opt_def *d, const char *val, char *err, size_t errlen)
{
    switch (d->id) {
    case OPT_THREADS: {
        char *end;
        long v = strtol(val, &end, 10);
        if (*end || end == val || v < 1 || v > 256) {
            snprintf(err, errlen, "--threads wants a number from 1 to 256, not '%s'", val);
            return -1;
        }
        o->threads = (unsigned)v;
        return 0;
    }
    case OPT_JSON:
        o->json = true;
        return 0;
    case OPT_FORMAT:
        if (strcmp(val, "text") == 0)
            o->format = FMT_TEXT;
        else if (strcmp(val, "ndjson") == 0 || strcmp(val, "json") == 0)
            o->format = FMT_NDJSON;
        else {
            snprintf(err, errlen, "--format is text or ndjson, not '%s'", val);
            return -1;
        }
        o->format_given = true;
        return 0;
    case OPT_OUTPUT:
        o->output = val;
        return 0;
    case OPT_IDS_FROM:
        o->ids_from = val;
        return 0;
    case OPT_INPUT_FORMAT: {
        sniff_format f;
        if (!sniff_parse_name(val, strlen(val), &f)) {
            snprintf(err, errlen,
                     "--input-format is alb, alb-conn, cloudfront, classic-elb, json or text, "
                     "not '%s'",
                     val);
            return -1;
        }
        o->input_format = (int)f;
        return 0;
    }
    case OPT_COLOR:
        if (strcmp(val, "auto") == 0)
            o->color = COLOR_AUTO;
        else if (strcmp(val, "always") == 0)
            o->color = COLOR_ALWAYS;
        else if (strcmp(val, "never") == 0)
            o->color = COLOR_NEVER;
        else {
            snprintf(err, errlen, "--color is auto, always or never, not '%s'", val);
            return -1;
        }
        return 0;
    case OPT_MAX_LINE:
        if (parse_size(val, &o->max_line) != 0 || o->max_line > ((size_t)1 << 30)) {
            snprintf(err, errlen, "--max-line-bytes wants a size from 1 to 1G, not '%s'", val);
            return -1;
        }
        return 0;
    case OPT_LINE_MEMORY:
        if (parse_size(val, &o->line_memory) != 0) {
            snprintf(err, errlen, "--line-memory wants a size such as 512M or 4G, not '%s'", val);
            return -1;
        }
        return 0;
    case OPT_NO_PROGRESS:
        o->progress = false;
        return 0;
    case OPT_QUIET:
        o->quiet = true;
        return 0;
    case OPT_HELP:
        o->help = true;
        return 0;
    case OPT_VERSION:
        o->version = true;
        return 0;
    }
    return -1;
}

static const opt_def *find_long(const char *name, size_t n)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(OPTS[i].long_name) == n && memcmp(OPTS[i].long_name, name, n) == 0)
            return &OPTS[i];
    return NULL;
}

static const opt_def *find_short(char c)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (OPTS[i].short_name == c)
            return &OPTS[i];
    return NULL;
}

/* Handles argv[*i], an option; may consume the next argument as its value. */
static int parse_option(int argc, char **argv, int *i, cli_opts *o, char *err, size_t errlen)
{
    const char *a = argv[*i];
    const opt_def *d;
    const char *val = NULL;
    if (a[1] == '-') {
        const char *name = a + 2, *eq = strchr(name, '=');
        d = find_long(name, eq ? (size_t)(eq - name) : strlen(name));
        if (!d) {
            snprintf(err, errlen, "unknown option '%s' (see --help)", a);
            return -1;
        }
        if (eq && !d->arg) {
            snprintf(err, errlen, "--%s takes no value", d->long_name);
            return -1;
        }
        val = eq ? eq + 1 : NULL;
    } else {
        d = find_short(a[1]);
        if (!d) {
            snprintf(err, errlen, "unknown option '-%c' (see --help)", a[1]);
            return -1;
        }
        if (a[2]) {
            if (!d->arg) {
                snprintf(err, errlen, "-%c takes no value (flags are not bundled)", a[1]);
                return -1;
            }
            val = a + 2;
        }
    }
    if (d->arg && !val) {
        if (*i + 1 >= argc) {
            snprintf(err, errlen, "--%s needs a value: %s", d->long_name, d->arg);
            return -1;
        }
        val = argv[++*i];
    }
    return apply(o, d, val, err, errlen);
}

int cli_parse(int argc, char **argv, cli_opts *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->max_line = (size_t)1 << 20;
    o->input_format = -1;
    o->progress = true;
    o->args = calloc((size_t)argc + 1, sizeof *o->args);
    if (!o->args) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    bool cmd_seen = false, options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && a[0] == '-' && a[1] != '\0') {
            if (parse_option(argc, argv, &i, o, err, errlen) != 0)
                return -1;
            continue;
        }
        if (!cmd_seen && o->nargs == 0 && !options_done) {
            cmd_seen = true;
            if (strcmp(a, "stats") == 0) {
                o->cmd = CMD_STATS;
                continue;
            }
            if (strcmp(a, "timelines") == 0) {
                o->cmd = CMD_TIMELINES;
                continue;
            }
            if (strcmp(a, "find") == 0) {
                o->cmd = CMD_FIND;
                continue;
            }
            if (strcmp(a, "help") == 0) {
                o->help = true;
                continue;
            }
            /* Not a command: stats over this path. */
        }
        o->args[o->nargs++] = argv[i];
    }
    if (o->json && o->cmd != CMD_STATS) {
        snprintf(err, errlen, "--json is for stats; timelines and find take --format ndjson");
        return -1;
    }
    if (o->format_given && o->cmd == CMD_STATS) {
        snprintf(err, errlen, "--format is for timelines and find; stats takes --json");
        return -1;
    }
    if (o->line_memory && o->cmd == CMD_STATS) {
        snprintf(err, errlen, "--line-memory is for timelines and find: stats keeps no line");
        return -1;
    }
    if (o->ids_from && o->cmd != CMD_FIND) {
        snprintf(err, errlen, "--ids-from is for find");
        return -1;
    }
    return 0;
}

void cli_free(cli_opts *o)
{
    free(o->args);
    o->args = NULL;
}
