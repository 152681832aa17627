#include "cli/commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "group/build.h"
#include "input/walk.h"
#include "output/stats.h"
#include "output/timeline.h"
#include "output/writer.h"
#include "util/report.h"
#include "util/sysmem.h"

enum { EXIT_FOUND = 0, EXIT_NONE = 1, EXIT_ERROR = 2 };

typedef struct walk_ctx {
    tg_report *rep;
    uint64_t errors, skipped;
} walk_ctx;

static void on_walk_problem(void *vctx, walk_problem kind, const char *path, const char *msg)
{
    walk_ctx *c = vctx;
    if (kind == WALK_ERROR) {
        c->errors++;
        tg_input_error(c->rep, path, "%s", msg);
    } else {
        c->skipped++;
        tg_input_warning(c->rep, path, "%s", msg);
    }
}

/* The most of a line that is not a trace id its error message quotes. */
#define ID_ECHO_MAX 80

/* Reads --ids-from FILE: one id per line; blank lines and # comments are
 * skipped; a line that is not an id is an error naming FILE:LINE. */
static int read_id_file(const char *path, xray_root **ids, size_t *n, size_t *cap, tg_report *rep)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        tg_errorf(rep, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    int rc = 0;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
                           line[len - 1] == ' ' || line[len - 1] == '\t'))
            len--;
        size_t s = 0;
        while ((ssize_t)s < len && (line[s] == ' ' || line[s] == '\t'))
            s++;
        if ((ssize_t)s == len || line[s] == '#')
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            xray_root *grown = realloc(*ids, *cap * sizeof **ids);
            if (!grown) {
                rc = -1;
                break;
            }
            *ids = grown;
        }
        if (!xray_parse_user_id(line + s, (size_t)len - s, &(*ids)[*n])) {
            /* The line is quoted up to ID_ECHO_MAX bytes: a file given by
             * mistake may have lines of megabytes. */
            int shown = len - (ssize_t)s > ID_ECHO_MAX ? ID_ECHO_MAX : (int)(len - (ssize_t)s);
            tg_errorf(rep, "%s:%lu: not a trace id: %.*s%s", path, lineno, shown, line + s,
                      shown < len - (ssize_t)s ? "…" : "");
            rc = -1;
            break;
        }
        (*n)++;
    }
    if (ferror(f) && rc == 0) {
        tg_errorf(rep, "%s: read error: %s", path, strerror(errno));
        rc = -1;
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* Splits find's arguments: the leading ones that parse as trace ids are ids,
 * the rest are paths. Ids come back sorted and without duplicates. */
static int find_ids(const cli_opts *o, tg_report *rep, xray_root **ids_out, size_t *nids,
                    size_t *first_path)
{
    xray_root *ids = NULL;
    size_t n = 0, cap = 0, i = 0;
    for (; i < o->nargs; i++) {
        xray_root r;
        if (!xray_parse_user_id(o->args[i], strlen(o->args[i]), &r))
            break;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            xray_root *grown = realloc(ids, cap * sizeof *ids);
            if (!grown) {
                free(ids);
                return -1;
            }
            ids = grown;
        }
        ids[n++] = r;
    }
    if (o->ids_from && read_id_file(o->ids_from, &ids, &n, &cap, rep) != 0) {
        free(ids);
        return -1;
    }
    if (n == 0) {
        tg_errorf(rep, "find needs at least one trace id (1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx, "
                       "Root=1-…, or 32 hex digits)%s%s%s",
                  o->nargs ? "; '" : "", o->nargs ? o->args[0] : "", o->nargs ? "' is none" : "");
        free(ids);
        return -1;
    }
    qsort(ids, n, sizeof *ids, xray_root_cmp);
    size_t k = 0;
    for (size_t j = 0; j < n; j++)
        if (k == 0 || xray_root_cmp(&ids[k - 1], &ids[j]) != 0)
            ids[k++] = ids[j];
    *ids_out = ids;
    *nids = k;
    *first_path = i;
    return 0;
}

static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

/* How many bytes of kept lines stay in memory by default: a quarter of the
 * memory the process can count on (the physical memory, or its container's
 * limit), leaving room for the events (about 50 bytes each against a line's
 * 700), the output's buffers and everything else on the machine. Lines of
 * plain files are never copied (they stay in the file's mapping): this
 * bounds those of compressed inputs and stdin. */
static uint64_t default_line_memory(void)
{
    uint64_t m = tg_usable_memory();
    return m ? m / 4 : (uint64_t)1 << 30;
}

/* Where lines past --line-memory go: $TMPDIR, as sort(1) does, or /tmp. */
static const char *spill_dir(void)
{
    const char *d = getenv("TMPDIR");
    return d && *d ? d : "/tmp";
}

/* True when the file at path is one of the inputs (stdin included): the
 * report may then not be cut behind the engine's back (wr_open_behind()),
 * since the engine is about to read it. */
static bool output_is_input(const char *path, const walk_list *inputs)
{
    struct stat out;
    if (stat(path, &out) != 0)
        return false; /* not there yet, so not read either */
    for (size_t i = 0; i < inputs->n; i++) {
        struct stat in;
        const char *p = inputs->paths[i];
        if ((strcmp(p, "-") == 0 ? fstat(0, &in) : stat(p, &in)) == 0 &&
            in.st_dev == out.st_dev && in.st_ino == out.st_ino)
            return true;
    }
    return false;
}

/* Reports the write error of the report itself; a closed pipe is not one. */
static int finish_output(writer *w, const cli_opts *o, tg_report *rep)
{
    int err = wr_close(w);
    if (err == 0 || err == EPIPE)
        return 0;
    tg_errorf(rep, "cannot write %s: %s", o->output ? o->output : "to standard output",
              strerror(err));
    return -1;
}

/* How many of the ids find did not find are named on stderr; past them
 * the rest are only counted, so that --ids-from with thousands of ids that
 * a slice of logs lacks does not bury the run's other messages. */
#define MISSING_NAMED 10

/* The traces find was asked for and did not find: the first MISSING_NAMED
 * in id order one line each on stderr, then how many more. ids are sorted
 * and distinct: each trace found is looked up among them, not the other way
 * round (200,000 ids found in 1 GB took 47 s that way). Returns 0, or -1
 * when memory ran out. */
static int report_missing(const grp_table *t, const xray_root *ids, size_t nids,
                          tg_report *rep)
{
    bool *found = calloc(nids, sizeof *found);
    if (!found)
        return -1;
    for (size_t k = 0; k < t->ntraces; k++) {
        const xray_root *hit =
            bsearch(&t->traces[k].root, ids, nids, sizeof *ids, xray_root_cmp);
        if (hit)
            found[hit - ids] = true;
    }
    size_t missing = 0;
    for (size_t i = 0; i < nids; i++) {
        if (!found[i] && missing++ < MISSING_NAMED) {
            char id[36];
            xray_format_root(ids[i], id);
            tg_errorf(rep, "%s: not found", id);
        }
    }
    if (missing > MISSING_NAMED)
        tg_errorf(rep, "%zu more trace ids not found (%zu of the %zu asked for)",
                  missing - MISSING_NAMED, missing, nids);
    free(found);
    return 0;
}

int cmd_run(const cli_opts *o)
{
    tg_report rep;
    bool progress = o->progress && isatty(2);
    tg_report_init(&rep, progress);
    rep.quiet_warnings = o->quiet;
    int status = EXIT_ERROR;
    xray_root *ids = NULL;
    size_t nids = 0, first_path = 0;
    walk_list inputs = {0};
    eng_result res = {0};
    grp_table table = {0};
    writer w = {0};
    bool writer_open = false;

    if (o->cmd == CMD_FIND && find_ids(o, &rep, &ids, &nids, &first_path) != 0)
        goto done;

    walk_ctx wc = {&rep, 0, 0};
    if (first_path == o->nargs) {
        if (isatty(0)) {
            tg_errorf(&rep, "no input: give files or directories, or pipe logs into stdin "
                            "(see --help)");
            goto done;
        }
        walk_add(&inputs, "-", on_walk_problem, &wc);
    }
    for (size_t i = first_path; i < o->nargs; i++)
        walk_add(&inputs, o->args[i], on_walk_problem, &wc);

    /* An old report is cut while the inputs are read, unless it is one. */
    int err = o->output && !output_is_input(o->output, &inputs) ? wr_open_behind(&w, o->output)
                                                                : wr_open(&w, o->output);
    if (err) {
        tg_errorf(&rep, "cannot open %s: %s", o->output, strerror(err));
        goto done;
    }
    writer_open = true;

    eng_settings s = {
        .mode = o->cmd == CMD_FIND ? ENG_FIND : o->cmd == CMD_TIMELINES ? ENG_TIMELINES
                                                                       : ENG_STATS,
        .threads = o->threads ? o->threads : default_threads(),
        .max_line = o->max_line,
        .keep_lines = o->cmd != CMD_STATS,
        /* stats keeps no line: it has no budget and no folder to read. */
        .line_memory = o->cmd == CMD_STATS ? 0
                       : o->line_memory    ? o->line_memory
                                           : default_line_memory(),
        .spill_dir = o->cmd != CMD_STATS ? spill_dir() : NULL,
        .ids = ids,
        .nids = nids,
        .input_format = o->input_format,
    };
    if (eng_run(&s, &inputs, &rep, &res) != 0)
        goto done;
    size_t ntraces = 0;
    if (o->cmd == CMD_STATS) {
        for (size_t i = 0; i < res.nparts; i++)
            ntraces += res.parts[i].ntraces;
    } else if (grp_build_sorted(&table, res.vecs, res.lens, res.nvec, s.threads) != 0) {
        tg_errorf(&rep, "out of memory while grouping %zu events", (size_t)res.c.events);
        goto done;
    }

    bool color = o->color == COLOR_ALWAYS || (o->color == COLOR_AUTO && !o->output && isatty(1));
    if (o->cmd == CMD_STATS) {
        stats_view v = {.c = &res.c,
                        .parts = res.parts,
                        .nparts = res.nparts,
                        .lbs = &res.lbs,
                        .walk_errors = wc.errors,
                        .skipped = wc.skipped,
                        .seconds = res.seconds,
                        .top = 10,
                        .threads = s.threads};
        if (o->json)
            stats_print_json(&w, &v);
        else
            stats_print_text(&w, &v, color);
    } else {
        /* Into a file, every thread formats: each writes its own chunks
         * in its turn. Into a pipe or a terminal, one thread fewer formats
         * than read: the report is written by the writer's helper thread,
         * and the reader at the other end wants a core too. timelines
         * --format ndjson of 1 GB of ALB logs (1.5 GB out) with -j2 on 2
         * cores, medians of 7: into a file 1.16 -> 1.03 s and into
         * /dev/null 1.15 -> 0.75 s with two formatters, but into `| cat`
         * 1.15 -> 1.97 s: a formatter whose write waits for the reader
         * holds up the other. */
        unsigned print_threads = s.threads > 1 && wr_has_reader(&w) ? s.threads - 1 : s.threads;
        if (tl_print_all(&w, &table, &res, &inputs, color, o->cmd == CMD_FIND,
                         o->format == FMT_NDJSON, print_threads) != 0) {
            tg_errorf(&rep, "out of memory while printing");
            goto done;
        }
        if (o->cmd == CMD_FIND && report_missing(&table, ids, nids, &rep) != 0) {
            tg_errorf(&rep, "out of memory while listing the traces not found");
            goto done;
        }
    }
    writer_open = false;
    bool write_failed = finish_output(&w, o, &rep) != 0;
    status = ntraces || table.ntraces ? EXIT_FOUND : EXIT_NONE;
    if (write_failed || rep.errors)
        status = EXIT_ERROR;
done:
    if (writer_open)
        wr_close(&w);
    grp_free(&table);
    eng_result_free(&res);
    walk_free(&inputs);
    free(ids);
    tg_report_destroy(&rep);
    return status;
}
