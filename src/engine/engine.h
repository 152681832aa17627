/*
 * engine: runs the pipeline over a list of inputs with N worker threads.
 *
 * Each worker owns its reader (buffers, inflate state), its Hyperscan
 * scratch, its event vector, its line arena and its table of load balancer
 * names; nothing shared is written but a job cursor (under a mutex) and a
 * progress counter (atomic). Inputs are handed out one at a time in walk
 * order; a large plain file is memory-mapped once and split at line
 * boundaries into pieces that any worker may take.
 *
 * Results do not depend on the number of threads: counts are sums, and the
 * group stage orders events by (start, input, offset).
 *
 * eng_run() reports every failed or skipped input through the tg_report and
 * goes on with the others.
 */
#ifndef TG_ENGINE_H
#define TG_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/sniff.h"
#include "decode/xray.h"
#include "group/event.h"
#include "group/intern.h"
#include "group/table.h"
#include "input/mapfile.h"
#include "input/walk.h"
#include "util/arena.h"
#include "util/report.h"

typedef enum eng_mode { ENG_STATS, ENG_TIMELINES, ENG_FIND } eng_mode;

typedef struct eng_settings {
    eng_mode mode;        /* ENG_STATS aggregates traces and keeps no event */
    unsigned threads;     /* workers, at least 1 */
    size_t max_line;      /* longer lines are counted as oversized, skipped */
    bool keep_lines;      /* keep each event's raw line (timelines, find) */
    uint64_t line_memory; /* bytes of kept lines held in memory, shared by
                             the workers; the rest go to a file in spill_dir */
    const char *spill_dir;
    const xray_root *ids; /* find: the wanted traces, sorted by xray_root_cmp */
    size_t nids;
    int input_format;     /* a sniff_format forced on every input, -1: detect */
} eng_settings;

typedef struct eng_counts {
    uint64_t inputs;        /* inputs opened */
    uint64_t inputs_failed; /* inputs that could not be read to their end */
    uint64_t inputs_binary; /* inputs skipped as binary */
    uint64_t by_kind[3];    /* inputs read, by in_kind */
    uint64_t bytes_in;      /* bytes read from disk or pipe */
    uint64_t bytes_out;     /* bytes of log text (decompressed) */
    uint64_t lines;         /* every line, oversized ones included */
    uint64_t header_lines;  /* lines holding a trace header (any format) */
    uint64_t events;        /* lines with a valid Root (any format) */
    uint64_t malformed[XRAY_STATUS_COUNT]; /* by reason; [XRAY_OK] stays 0 */
    uint64_t oversized;     /* lines longer than max_line */
    uint64_t other_lines;   /* lines with a header key in an ALB input that
                               are not ALB lines */
    uint64_t lines_by_input[SNIFF_FORMAT_COUNT]; /* lines by input format */
    uint64_t events_by[GRP_FMT_COUNT];    /* events by event format; alb-conn
                                             and cloudfront ones are joined */
    uint64_t malformed_by[GRP_FMT_COUNT]; /* malformed headers by format */
    uint64_t untimed;       /* events without a timestamp */
    uint64_t conn_records;  /* connection-log lines read */
    uint64_t conn_unmatched;/* … that joined no trace */
    uint64_t cf_records;    /* CloudFront records read */
    uint64_t cf_unmatched;  /* … that no traced line named */
} eng_counts;

typedef struct eng_result {
    eng_counts c;
    size_t nvec;      /* one per worker, and the joined events */
    grp_event **vecs; /* owned; events in each worker's reading order */
    size_t *lens;
    arena *arenas;    /* one per worker; an event's line handle is tagged with
                         its worker in the bits above ARENA_REF_BITS */
    size_t narenas;
    grp_table *parts; /* stats: every trace (no events), merged from the
                         workers' tables; a table per partition of the Roots
                         (group/merge.h) */
    size_t nparts;
    mapfile *maps;    /* by input: mappings kept for their lines (timelines,
                         find), {NULL, 0} for the others */
    size_t nmaps;
    intern lbs;       /* load balancer names; events' lb ids point here */
    double seconds;   /* wall time of the run */
} eng_result;


/*
 * find looks for its ids themselves, with a database of them, when it has
 * at most ENG_ID_SCAN_MAX; given more, it reads every trace as stats does
 * and keeps the wanted ones. Hyperscan slows down as its literals
 * multiply (over 1 GB of ALB logs: 0.12 s for one id, 0.3 s for a
 * hundred, 1.2 s for ten thousand, 0.2 s of it to compile them), while
 * reading every trace costs the same for any number. Where that reading
 * is cheap, in ALB access logs, the ids are scanned for only up to
 * ENG_ALB_ID_SCAN_MAX (there the scan took 0.19 s for 8 ids, 0.26 s for
 * 9, reading every line 0.24 s); in application logs, whose lines cost
 * more to decode, up to ENG_ID_SCAN_MAX (259 MB of nginx logs: 0.129
 * against 0.132 s for 1000 ids).
 */
#define ENG_ID_SCAN_MAX 1000
#define ENG_ALB_ID_SCAN_MAX 8
bool eng_scans_ids(const eng_settings *s);

/* Returns 0, or -1 on a failure that stops everything (the scan patterns do
 * not compile, memory is short), after reporting it. */
int eng_run(const eng_settings *s, const walk_list *inputs, tg_report *rep, eng_result *out);

/* The raw line of an event that kept one (TG_STR_NULL otherwise), without
 * its line end. */
tg_str eng_event_line(const eng_result *r, const grp_event *e);

/* Asks for the first bytes of the raw line of e, about to be printed: in
 * trace order the lines are scattered over the inputs, each a wait on
 * memory when read cold. */
void eng_event_prefetch(const eng_result *r, const grp_event *e);

/* What an event kept after its raw line: the decoded columns of a
 * CloudFront record, tab-separated in cloudfront_col order; TG_STR_NULL for
 * other events. */
tg_str eng_event_extra(const eng_result *r, const grp_event *e);

void eng_result_free(eng_result *r);

/* Adds b's counts into a. */
void eng_counts_add(eng_counts *a, const eng_counts *b);

#endif
