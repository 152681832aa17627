#include "output/stats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/tgtime.h"
#include "input/reader.h"
#include "output/json.h"
#include "output/timeline.h"
#include "util/report.h"

/* The traces a summary lists: the slowest, and those with a 5xx. */
typedef struct picks {
    const grp_trace **slow, **err;
    size_t nslow, nerr;
    uint64_t traces, total_err, multi;
    int64_t first_us, last_us;
} picks;

static int64_t dur(const grp_trace *t)
{
    return grp_trace_duration(t);
}

/* Slowest first; equal durations by Root so the list is stable. */
static bool slower(const grp_trace *a, const grp_trace *b)
{
    if (dur(a) != dur(b))
        return dur(a) > dur(b);
    return a->root.hi != b->root.hi ? a->root.hi < b->root.hi : a->root.lo < b->root.lo;
}

/* Earliest first, the order the 5xx list is in. */
static bool earlier(const grp_trace *a, const grp_trace *b)
{
    if (a->start_us != b->start_us)
        return a->start_us < b->start_us;
    return a->root.hi != b->root.hi ? a->root.hi < b->root.hi : a->root.lo < b->root.lo;
}

/* Keeps the best `cap` traces in list (sorted), by insertion: cap is ~10. */
static void keep_top(const grp_trace **list, size_t *n, size_t cap, const grp_trace *t,
                     bool (*better)(const grp_trace *, const grp_trace *))
{
    if (cap == 0 || (*n == cap && !better(t, list[cap - 1])))
        return;
    size_t i = *n < cap ? (*n)++ : cap - 1;
    while (i > 0 && better(t, list[i - 1])) {
        list[i] = list[i - 1];
        i--;
    }
    list[i] = t;
}

static int picks_init(picks *pk, unsigned top)
{
    memset(pk, 0, sizeof *pk);
    pk->slow = calloc(top + 1, sizeof *pk->slow);
    pk->err = calloc(top + 1, sizeof *pk->err);
    pk->first_us = INT64_MAX;
    pk->last_us = INT64_MIN;
    return pk->slow && pk->err ? 0 : -1;
}

static void picks_free(picks *pk)
{
    free(pk->slow);
    free(pk->err);
}

/* Picks from the traces [lo, hi) of the parts taken end to end. The lists
 * only take a trace that could enter them: once full, one at least as slow
 * as the last (or as early), a test on a local, so that the pass runs at the
 * speed of memory. */
static void pick_range(const stats_view *v, size_t lo, size_t hi, picks *pk)
{
    const unsigned top = v->top;
    int64_t slow_min = INT64_MIN, err_max = INT64_MAX; /* what it takes to enter, once full */
    size_t base = 0;
    for (size_t p = 0; p < v->nparts && base < hi; base += v->parts[p++].ntraces) {
        size_t n = v->parts[p].ntraces;
        if (base + n <= lo)
            continue;
        const grp_trace *tr = v->parts[p].traces;
        for (size_t i = lo > base ? lo - base : 0; i < n && base + i < hi; i++) {
            const grp_trace *t = &tr[i];
            if (dur(t) >= slow_min) {
                keep_top(pk->slow, &pk->nslow, top, t, slower);
                if (pk->nslow == top && top)
                    slow_min = dur(pk->slow[top - 1]);
            }
            if (t->worst_status >= 500) {
                pk->total_err++;
                if (t->start_us <= err_max) {
                    keep_top(pk->err, &pk->nerr, top, t, earlier);
                    if (pk->nerr == top && top)
                        err_max = pk->err[top - 1]->start_us;
                }
            }
            pk->multi += t->count > 1;
            if (!grp_trace_timed(t))
                continue;
            if (t->start_us < pk->first_us)
                pk->first_us = t->start_us;
            if (t->end_us > pk->last_us)
                pk->last_us = t->end_us;
        }
    }
    pk->traces += hi - lo;
}

typedef struct pick_job {
    const stats_view *v;
    size_t lo, hi;
    picks pk;
} pick_job;

static void *pick_main(void *arg)
{
    pick_job *j = arg;
    pick_range(j->v, j->lo, j->hi, &j->pk);
    return NULL;
}

/* Below this many traces a second thread is not worth starting. */
#define PICK_SPLIT 65536

/* The picks of all the traces. With two threads or more allowed and many
 * traces, a second thread takes the second half: a pass over the traces
 * of a big run (tens of megabytes) is the largest part of printing its
 * summary, and it comes after the workers, when nothing else runs. The
 * lists are ordered by total orders, so the halves combine into exactly
 * what one pass gives. */
static int pick(const stats_view *v, picks *pk)
{
    if (picks_init(pk, v->top) != 0)
        return -1;
    size_t total = 0;
    for (size_t p = 0; p < v->nparts; p++)
        total += v->parts[p].ntraces;
    pick_job j = {v, total / 2, total, {0}};
    pthread_t th;
    bool split = v->threads >= 2 && total >= PICK_SPLIT && picks_init(&j.pk, v->top) == 0 &&
                 pthread_create(&th, NULL, pick_main, &j) == 0;
    pick_range(v, 0, split ? j.lo : total, pk);
    if (split) {
        pthread_join(th, NULL);
        for (size_t i = 0; i < j.pk.nslow; i++)
            keep_top(pk->slow, &pk->nslow, v->top, j.pk.slow[i], slower);
        for (size_t i = 0; i < j.pk.nerr; i++)
            keep_top(pk->err, &pk->nerr, v->top, j.pk.err[i], earlier);
        pk->traces += j.pk.traces;
        pk->total_err += j.pk.total_err;
        pk->multi += j.pk.multi;
        if (j.pk.first_us < pk->first_us)
            pk->first_us = j.pk.first_us;
        if (j.pk.last_us > pk->last_us)
            pk->last_us = j.pk.last_us;
    }
    picks_free(&j.pk);
    return 0;
}

static uint64_t malformed_total(const eng_counts *c)
{
    uint64_t m = 0;
    for (int i = 1; i < XRAY_STATUS_COUNT; i++)
        m += c->malformed[i];
    return m;
}

/* A trace's load balancer names, sorted so that what is printed does not
 * depend on the order in which threads met them. */
static void sorted_lbs(const stats_view *v, const grp_trace *t, const char **names)
{
    for (unsigned i = 0; i < t->nlb; i++) {
        const char *nm = intern_name(v->lbs, t->lbs[i]);
        unsigned j = i;
        for (; j > 0 && strcmp(nm, names[j - 1]) < 0; j--)
            names[j] = names[j - 1];
        names[j] = nm;
    }
}

/* Lines by input format, events and malformed headers by event format, and
 * what the joins found; printed only when more than ALB access logs were
 * read, where they would repeat the totals. */
static bool beyond_alb(const eng_counts *c)
{
    for (int f = 1; f < SNIFF_FORMAT_COUNT; f++)
        if (c->lines_by_input[f])
            return true;
    return false;
}

static void text_formats(writer *w, const eng_counts *c)
{
    if (!beyond_alb(c))
        return;
    wr_str(w, "lines by input format:");
    for (int f = 0; f < SNIFF_FORMAT_COUNT; f++)
        if (c->lines_by_input[f])
            wr_printf(w, " %s %llu", sniff_format_name((sniff_format)f),
                      (unsigned long long)c->lines_by_input[f]);
    wr_str(w, "\nevents by format:");
    for (int f = 0; f < GRP_FMT_COUNT; f++)
        wr_printf(w, " %s %llu", grp_format_name((unsigned)f), (unsigned long long)c->events_by[f]);
    wr_printf(w, " (%llu untimed)\n", (unsigned long long)c->untimed);
    wr_printf(w, "joined       %llu alb-conn of %llu connection lines (%llu joined to no trace), "
                 "%llu cloudfront of %llu records (%llu matching no trace)\n",
              (unsigned long long)c->events_by[GRP_FMT_ALB_CONN],
              (unsigned long long)c->conn_records, (unsigned long long)c->conn_unmatched,
              (unsigned long long)c->events_by[GRP_FMT_CLOUDFRONT],
              (unsigned long long)c->cf_records, (unsigned long long)c->cf_unmatched);
}

static void json_formats(writer *w, const eng_counts *c)
{
    json_key(w, "lines_by_input_format", false);
    wr_char(w, '{');
    for (int f = 0; f < SNIFF_FORMAT_COUNT; f++) {
        if (f)
            wr_char(w, ',');
        wr_printf(w, "\"%s\":%llu", sniff_format_name((sniff_format)f),
                  (unsigned long long)c->lines_by_input[f]);
    }
    wr_char(w, '}');
    json_key(w, "by_format", false);
    wr_char(w, '{');
    for (int f = 0; f < GRP_FMT_COUNT; f++)
        wr_printf(w, "%s\"%s\":{\"events\":%llu,\"malformed\":%llu}", f ? "," : "",
                  grp_format_name((unsigned)f), (unsigned long long)c->events_by[f],
                  (unsigned long long)c->malformed_by[f]);
    wr_char(w, '}');
    wr_printf(w, ",\"untimed_events\":%llu", (unsigned long long)c->untimed);
    wr_printf(w, ",\"joins\":{\"alb_conn\":%llu,\"conn_records\":%llu,\"conn_unmatched\":%llu,"
                 "\"cloudfront\":%llu,\"cloudfront_records\":%llu,\"cloudfront_unmatched\":%llu}",
              (unsigned long long)c->events_by[GRP_FMT_ALB_CONN],
              (unsigned long long)c->conn_records, (unsigned long long)c->conn_unmatched,
              (unsigned long long)c->events_by[GRP_FMT_CLOUDFRONT],
              (unsigned long long)c->cf_records, (unsigned long long)c->cf_unmatched);
}

static void text_trace(writer *w, const stats_view *v, const grp_trace *t, bool color)
{
    char id[36], start[32], d[32];
    xray_format_root(t->root, id);
    tgtime_format_iso(t->start_us, start);
    tl_format_duration(dur(t), d, sizeof d);
    wr_printf(w, "  %s  %s  %12s  %3u event%s  ", id, start, d, t->count, t->count == 1 ? " " : "s");
    if (t->worst_status) {
        bool red = color && t->worst_status >= 500;
        wr_printf(w, "%s%u%s", red ? "\033[31m" : "", t->worst_status, red ? "\033[0m" : "");
    } else {
        wr_str(w, "  -");
    }
    const char *names[GRP_MAX_LBS];
    sorted_lbs(v, t, names);
    for (unsigned i = 0; i < t->nlb; i++)
        wr_printf(w, "%s%s", i ? ", " : "  ", names[i]);
    if (t->lb_more)
        wr_str(w, ", …");
    wr_char(w, '\n');
}

void stats_print_text(writer *w, const stats_view *v, bool color)
{
    const eng_counts *c = v->c;
    picks pk;
    if (pick(v, &pk) != 0) {
        picks_free(&pk);
        return;
    }
    char in[32], out[32], rate[32];
    tg_human_bytes((double)c->bytes_in, in, sizeof in);
    tg_human_bytes((double)c->bytes_out, out, sizeof out);
    tg_human_bytes(v->seconds > 0 ? (double)c->bytes_out / v->seconds : 0, rate, sizeof rate);
    uint64_t errors = c->inputs_failed + v->walk_errors;
    wr_printf(w, "inputs       %llu read (%llu gzip, %llu zstd, %llu plain), %llu failed, %llu skipped\n",
              (unsigned long long)c->inputs, (unsigned long long)c->by_kind[IN_GZIP],
              (unsigned long long)c->by_kind[IN_ZSTD], (unsigned long long)c->by_kind[IN_PLAIN],
              (unsigned long long)errors, (unsigned long long)(c->inputs_binary + v->skipped));
    wr_printf(w, "bytes        %s read, %s of log text\n", in, out);
    wr_printf(w, "lines        %llu, %llu with a trace header", (unsigned long long)c->lines,
              (unsigned long long)c->header_lines);
    if (c->oversized)
        wr_printf(w, ", %llu oversized (skipped)", (unsigned long long)c->oversized);
    wr_char(w, '\n');
    wr_printf(w, "events       %llu\n", (unsigned long long)c->events);
    wr_printf(w, "malformed    %llu", (unsigned long long)malformed_total(c));
    for (int i = 1; i < XRAY_STATUS_COUNT; i++)
        wr_printf(w, "%s%s %llu", i == 1 ? " (" : ", ", xray_status_name((xray_status)i),
                  (unsigned long long)c->malformed[i]);
    wr_str(w, ")\n");
    wr_printf(w, "traces       %llu, %llu with more than one event\n",
              (unsigned long long)pk.traces, (unsigned long long)pk.multi);
    if (pk.first_us <= pk.last_us) {
        char a[32], b[32];
        tgtime_format_iso(pk.first_us, a);
        tgtime_format_iso(pk.last_us, b);
        wr_printf(w, "time range   %s .. %s\n", a, b);
    }
    text_formats(w, c);
    wr_printf(w, "errors       %llu\n", (unsigned long long)errors);
    wr_printf(w, "elapsed      %.3f s, %s/s\n", v->seconds, rate);
    if (pk.nslow) {
        wr_printf(w, "\nslowest %zu traces\n", pk.nslow);
        for (size_t i = 0; i < pk.nslow; i++)
            text_trace(w, v, pk.slow[i], color);
    }
    if (pk.nerr) {
        wr_printf(w, "\ntraces with a 5xx: %llu", (unsigned long long)pk.total_err);
        if (pk.total_err > pk.nerr)
            wr_printf(w, ", the first %zu", pk.nerr);
        wr_char(w, '\n');
        for (size_t i = 0; i < pk.nerr; i++)
            text_trace(w, v, pk.err[i], color);
    }
    picks_free(&pk);
}

static void json_u64(writer *w, const char *key, uint64_t v, bool first)
{
    json_key_n(w, key, strlen(key), first);
    wr_u64(w, v);
}

static void json_trace_list(writer *w, const stats_view *v, const grp_trace **list, size_t n)
{
    wr_char(w, '[');
    for (size_t i = 0; i < n; i++) {
        const grp_trace *t = list[i];
        char id[36], a[32], b[32];
        xray_format_root(t->root, id);
        tgtime_format_iso(t->start_us, a);
        tgtime_format_iso(t->end_us, b);
        wr_printf(w, "%s{\"trace_id\":\"%s\",\"start\":\"%s\",\"end\":\"%s\",\"duration_us\":%lld,"
                     "\"event_count\":%u,\"worst_status\":%u,\"load_balancers\":[",
                  i ? "," : "", id, a, b, (long long)dur(t), t->count, t->worst_status);
        const char *names[GRP_MAX_LBS];
        sorted_lbs(v, t, names);
        for (unsigned k = 0; k < t->nlb; k++) {
            if (k)
                wr_char(w, ',');
            json_str(w, names[k], strlen(names[k]));
        }
        wr_str(w, "]}");
    }
    wr_char(w, ']');
}

void stats_print_json(writer *w, const stats_view *v)
{
    const eng_counts *c = v->c;
    picks pk;
    if (pick(v, &pk) != 0) {
        picks_free(&pk);
        return;
    }
    wr_char(w, '{');
    json_u64(w, "files", c->inputs, true);
    json_u64(w, "files_gzip", c->by_kind[IN_GZIP], false);
    json_u64(w, "files_zstd", c->by_kind[IN_ZSTD], false);
    json_u64(w, "files_plain", c->by_kind[IN_PLAIN], false);
    json_u64(w, "files_skipped", c->inputs_binary + v->skipped, false);
    json_u64(w, "bytes", c->bytes_in, false);
    json_u64(w, "bytes_decompressed", c->bytes_out, false);
    json_u64(w, "lines", c->lines, false);
    json_u64(w, "header_lines", c->header_lines, false);
    json_u64(w, "lines_without_header", c->lines - c->header_lines - c->oversized, false);
    json_u64(w, "oversized_lines", c->oversized, false);
    json_u64(w, "events", c->events, false);
    json_u64(w, "malformed", malformed_total(c), false);
    json_key(w, "malformed_by_reason", false);
    wr_char(w, '{');
    for (int i = 1; i < XRAY_STATUS_COUNT; i++)
        json_u64(w, xray_status_name((xray_status)i), c->malformed[i], i == 1);
    wr_char(w, '}');
    json_u64(w, "other_format_lines", c->other_lines, false);
    json_u64(w, "traces", pk.traces, false);
    json_u64(w, "multi_event_traces", pk.multi, false);
    json_u64(w, "traces_5xx", pk.total_err, false);
    json_formats(w, c);
    json_key(w, "time_range", false);
    if (pk.first_us <= pk.last_us) {
        char a[32], b[32];
        tgtime_format_iso(pk.first_us, a);
        tgtime_format_iso(pk.last_us, b);
        wr_printf(w, "{\"start\":\"%s\",\"end\":\"%s\"}", a, b);
    } else {
        wr_str(w, "null");
    }
    json_key(w, "slowest", false);
    json_trace_list(w, v, pk.slow, pk.nslow);
    json_key(w, "with_5xx", false);
    json_trace_list(w, v, pk.err, pk.nerr);
    json_u64(w, "errors", c->inputs_failed + v->walk_errors, false);
    json_key(w, "seconds", false);
    wr_printf(w, "%.6f", v->seconds);
    json_key(w, "bytes_per_second", false);
    wr_printf(w, "%.0f", v->seconds > 0 ? (double)c->bytes_out / v->seconds : 0.0);
    wr_str(w, "}\n");
    picks_free(&pk);
}
