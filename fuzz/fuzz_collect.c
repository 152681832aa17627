/*
 * fuzz_collect: the collector's two ways through a block of an input.
 *
 * collect_block() reads an ALB access log line by line, parsing every line,
 * while find reads it through the scanner, which hands over only the lines
 * holding a hit (src/engine/collect.c, alb_lines()). Application logs go
 * through the scanner too, save the stretches after one where a third of
 * the lines held a header, which are read line by line, every line decoded
 * (app_lines()). The input is a
 * block, read both ways by two collectors; the first byte picks the line
 * limit (64 bytes, so that oversized lines are common, or 1 MiB), whether
 * the block is one of stats (aggregated) or of timelines (events kept), and
 * the input's format: ALB, text (Lambda lines are looked for) or JSON. A
 * text or JSON block is read line by line from its start, as a stretch
 * after a dense one is (a first stretch never is).
 *
 * Checked besides memory safety: the two ways give the same result, the same
 * counts of every kind (lines, oversized, headers, events, malformed by
 * reason, other-format lines), the same events in the same order with the
 * same offsets, and the same connection-join references.
 */
#include "fuzz_check.h"

#include <string.h>

#include "engine/collect.h"

static scan_db *headers_db(void)
{
    static scan_db *db;
    if (!db) {
        char err[256];
        db = scan_db_headers(err, sizeof err);
        FZ_CHECK(db != NULL, "scan_db_headers: %s", err);
    }
    return db;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    eng_settings s = {.mode = (data[0] & 2) ? ENG_STATS : ENG_TIMELINES,
                      .threads = 1,
                      .max_line = (data[0] & 1) ? 64 : (size_t)1 << 20,
                      .input_format = -1};
    const char *p = (const char *)data + 1;
    size_t n = size - 1;

    collector c[2];
    int rc[2];
    static const sniff_format fmts[4] = {SNIFF_ALB, SNIFF_TEXT, SNIFF_JSON, SNIFF_ALB};
    const sniff_format fmt = fmts[data[0] >> 2 & 3];
    for (int i = 0; i < 2; i++) {
        FZ_CHECK(collect_init(&c[i], &s, headers_db(), 0) == 0, "collect_init failed");
        c[i].alb_by_scan = c[i].app_by_scan = i == 1;
        collect_begin(&c[i], 0, false, fmt);
        c[i].app_direct = i == 0;
        rc[i] = collect_block(&c[i], p, n, 0);
    }
    FZ_CHECK(rc[0] == rc[1], "line by line %d, by scan %d", rc[0], rc[1]);
    FZ_CHECK(c[0].scan_failed == c[1].scan_failed && c[0].out_of_memory == c[1].out_of_memory,
             "failure flags differ");
    const eng_counts *a = &c[0].c, *b = &c[1].c;
    FZ_CHECK(a->lines == b->lines && a->oversized == b->oversized,
             "lines %llu/%llu, oversized %llu/%llu", (unsigned long long)a->lines,
             (unsigned long long)b->lines, (unsigned long long)a->oversized,
             (unsigned long long)b->oversized);
    FZ_CHECK(a->header_lines == b->header_lines && a->events == b->events,
             "header lines %llu/%llu, events %llu/%llu", (unsigned long long)a->header_lines,
             (unsigned long long)b->header_lines, (unsigned long long)a->events,
             (unsigned long long)b->events);
    FZ_CHECK(a->other_lines == b->other_lines, "other-format lines %llu/%llu",
             (unsigned long long)a->other_lines, (unsigned long long)b->other_lines);
    FZ_CHECK(memcmp(a, b, sizeof *a) == 0, "the counts differ (malformed or by format)");
    FZ_CHECK(c[0].ev.n == c[1].ev.n, "events kept %zu/%zu", c[0].ev.n, c[1].ev.n);
    for (size_t i = 0; i < c[0].ev.n; i++)
        FZ_CHECK(memcmp(&c[0].ev.v[i], &c[1].ev.v[i], sizeof c[0].ev.v[i]) == 0,
                 "event %zu differs (offsets %llu/%llu)", i,
                 (unsigned long long)c[0].ev.v[i].offset, (unsigned long long)c[1].ev.v[i].offset);
    FZ_CHECK(c[0].agg.ntraces == c[1].agg.ntraces, "traces %zu/%zu", (size_t)c[0].agg.ntraces,
             (size_t)c[1].agg.ntraces);
    for (unsigned k = 0; k < JOIN_PARTS; k++) {
        const join_list *r0 = &c[0].conn.refs[k], *r1 = &c[1].conn.refs[k];
        FZ_CHECK(r0->n == r1->n, "join references %zu/%zu", r0->n, r1->n);
        /* Filled the same way, the lists' blocks are alike. */
        for (const join_blk *b0 = r0->head, *b1 = r1->head; b0 && b1; b0 = b0->next, b1 = b1->next)
            FZ_CHECK(b0->n == b1->n && memcmp(((const join_ref_blk *)b0)->v,
                                              ((const join_ref_blk *)b1)->v,
                                              b0->n * sizeof(join_ref)) == 0,
                     "join references differ");
    }
    collect_free(&c[0]);
    collect_free(&c[1]);
    return 0;
}
