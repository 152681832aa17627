/* The group stage: traces from events, whatever the split between vectors. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tg_test_util.h"
#include "group/build.h"
#include "group/intern.h"
#include "group/merge.h"
#include "group/table.h"
#include "util/mem.h"

static grp_event ev(uint64_t id, int64_t start, int64_t end, uint32_t input, uint64_t off,
                    uint16_t status, uint16_t lb)
{
    grp_event e;
    memset(&e, 0, sizeof e);
    e.root.hi = 0x5759e98800000000ull | (id >> 32);
    e.root.lo = id;
    e.start_us = start;
    e.end_us = end;
    e.input = input;
    e.offset = off;
    e.status = status;
    e.lb = lb;
    e.line = GRP_NO_LINE;
    return e;
}

Test(group, traces_spans_and_worst_status)
{
    grp_event a[] = {ev(1, 100, 200, 0, 0, 200, 0), ev(2, 50, 60, 0, 10, 200, 0),
                     ev(1, 90, 150, 1, 0, 502, 1), ev(1, 120, 300, 1, 20, 200, 2)};
    grp_event *vecs[] = {a};
    size_t lens[] = {4};
    grp_table t;
    cr_assert_eq(grp_build(&t, vecs, lens, 1, true), 0);
    grp_sort_traces(&t);
    cr_assert_eq(t.ntraces, 2);
    cr_expect_eq(t.traces[0].root.lo, 2, "traces are ordered by start");
    const grp_trace *tr = &t.traces[1];
    cr_expect_eq(tr->count, 3);
    cr_expect_eq(tr->start_us, 90);
    cr_expect_eq(tr->end_us, 300);
    cr_expect_eq(tr->worst_status, 502);
    cr_expect_eq(tr->nlb, 3);
    const grp_event *e = grp_trace_events(&t, tr);
    cr_expect_eq(e[0].start_us, 90);
    cr_expect_eq(e[1].start_us, 100);
    cr_expect_eq(e[2].start_us, 120);
    grp_free(&t);
}

/* The order grp_sort_traces() promises, checked pair by pair: start, then
 * Root; untimed traces (INT64_MAX) last. */
static bool trace_before(const grp_trace *a, const grp_trace *b)
{
    if (a->start_us != b->start_us)
        return a->start_us < b->start_us;
    return a->root.hi != b->root.hi ? a->root.hi < b->root.hi : a->root.lo < b->root.lo;
}

/* n traces, their starts drawn from `spread` values (ties when it is
 * small) from base, one in seven untimed; sorted, each record must be one
 * of the originals, once, and in order. A spread of centuries does not fit
 * the radix sort's keys (build.c), so its fallback is checked too. */
static void check_sort(size_t n, int64_t base, uint64_t spread)
{
    grp_table t = {0};
    t.traces = tg_mem_big_realloc(NULL, n * sizeof *t.traces);
    cr_assert_not_null(t.traces);
    t.ntraces = n;
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        grp_trace *tr = &t.traces[i];
        memset(tr, 0, sizeof *tr);
        tr->root.hi = 0x5759e98800000000ull | (x >> 40);
        tr->root.lo = i; /* distinct Roots, as a table holds */
        tr->start_us = x % 7 == 0 ? INT64_MAX : base + (int64_t)(x % spread);
        tr->end_us = tr->start_us == INT64_MAX ? INT64_MIN : tr->start_us + 5;
        tr->count = (uint32_t)i; /* which original each record is */
    }
    grp_sort_traces(&t);
    cr_assert(t.sorted);
    cr_assert_eq(t.ntraces, n);
    bool *seen = calloc(n, sizeof *seen);
    for (size_t i = 0; i < n; i++) {
        const grp_trace *tr = &t.traces[i];
        cr_assert_lt(tr->count, n);
        cr_assert(!seen[tr->count], "record %u twice", tr->count);
        seen[tr->count] = true;
        cr_assert_eq(tr->root.lo, tr->count, "record %zu was not moved whole", i);
        if (i > 0)
            cr_assert(trace_before(&t.traces[i - 1], tr),
                      "n %zu, spread %llu: traces %zu and %zu out of order", n,
                      (unsigned long long)spread, i - 1, i);
    }
    free(seen);
    grp_free(&t);
}

Test(group, traces_sort_by_start_then_root)
{
    const int64_t y2025 = INT64_C(1763625600000000);
    check_sort(2, y2025, 3);
    check_sort(1000, y2025, 10); /* long runs of ties */
    /* An hour of starts, from several bases: where the untimed traces'
     * keys land must not depend on the earliest start's bits. */
    for (int64_t b = 0; b < 8; b++)
        check_sort(20000, y2025 + b * 1234567891, UINT64_C(3600000000));
    check_sort(100000, -INT64_C(62000000000000000), UINT64_C(1) << 62); /* centuries */
    check_sort(5000, y2025, 1); /* one start for all */
}

Test(group, ties_break_by_input_then_offset)
{
    grp_event a[] = {ev(7, 10, 20, 2, 5, 0, 0), ev(7, 10, 20, 1, 900, 0, 0),
                     ev(7, 10, 20, 1, 100, 0, 0)};
    grp_event *vecs[] = {a};
    size_t lens[] = {3};
    grp_table t;
    cr_assert_eq(grp_build(&t, vecs, lens, 1, true), 0);
    const grp_event *e = grp_trace_events(&t, &t.traces[0]);
    cr_expect(e[0].input == 1 && e[0].offset == 100);
    cr_expect(e[1].input == 1 && e[1].offset == 900);
    cr_expect(e[2].input == 2);
    grp_free(&t);
}

/* The same events split between 1, 2 or 5 vectors in shuffled order give
 * the same table. */
Test(group, result_does_not_depend_on_the_split)
{
    enum { N = 5000 };
    grp_event *all = malloc(N * sizeof *all);
    for (size_t i = 0; i < N; i++)
        all[i] = ev(i % 1234, (int64_t)((i * 7919) % 100000), (int64_t)((i * 7919) % 100000) + 50,
                    (uint32_t)(i % 3), i, (uint16_t)(i % 7 == 0 ? 503 : 200), (uint16_t)(i % 4));
    grp_table ref;
    grp_event *one[] = {all};
    size_t len1[] = {N};
    cr_assert_eq(grp_build(&ref, one, len1, 1, true), 0);
    grp_sort_traces(&ref);
    cr_assert_eq(ref.ntraces, 1234);
    for (size_t parts = 2; parts <= 5; parts += 3) {
        grp_event *shuffled = malloc(N * sizeof *shuffled);
        for (size_t i = 0; i < N; i++)
            shuffled[i] = all[(i * 2654435761u) % N]; /* a permutation: N is coprime */
        grp_event *vecs[5];
        size_t lens[5];
        for (size_t p = 0; p < parts; p++) {
            vecs[p] = shuffled + p * (N / parts);
            lens[p] = p + 1 == parts ? N - p * (N / parts) : N / parts;
        }
        grp_table t;
        cr_assert_eq(grp_build(&t, vecs, lens, parts, true), 0);
        grp_sort_traces(&t);
        cr_assert_eq(t.ntraces, ref.ntraces);
        for (size_t i = 0; i < t.ntraces; i++) {
            cr_assert(xray_root_eq(t.traces[i].root, ref.traces[i].root));
            cr_assert_eq(t.traces[i].count, ref.traces[i].count);
            cr_assert_eq(t.traces[i].worst_status, ref.traces[i].worst_status);
            const grp_event *a = grp_trace_events(&t, &t.traces[i]);
            const grp_event *b = grp_trace_events(&ref, &ref.traces[i]);
            for (uint32_t k = 0; k < t.traces[i].count; k++)
                cr_assert(a[k].offset == b[k].offset && a[k].input == b[k].input);
        }
        grp_free(&t);
        free(shuffled);
    }
    grp_free(&ref);
    free(all);
}

/* A build on threads, one per partition of the Roots, gives the table of
 * one thread byte for byte: the traces (sorted) and each one's events.
 * Enough events to take the parallel path, split over three vectors, with
 * ties in start times so that the Root decides the order; and with starts
 * too far apart for the radix sort's words (build.c), which sorts each
 * partition with qsort() instead. */
static void check_threaded(bool wide)
{
    enum { N = 200000 };
    grp_event *all = malloc(N * sizeof *all);
    for (size_t i = 0; i < N; i++) {
        uint64_t x = (i * 0x9e3779b97f4a7c15ull) >> 20;
        int64_t start = wide ? (int64_t)(x << 18) : (int64_t)(x % 50000);
        all[i] = ev(x % 90001, start, start + (int64_t)(i % 300), (uint32_t)(i % 4), i,
                    (uint16_t)(i % 11 == 0 ? 502 : 200), (uint16_t)(i % 5));
    }
    grp_event *vecs[] = {all, all + 70000, all + 150000};
    size_t lens[] = {70000, 80000, N - 150000};
    grp_table ref;
    cr_assert_eq(grp_build(&ref, vecs, lens, 3, true), 0);
    grp_sort_traces(&ref);
    cr_assert_gt(ref.ntraces, 80000);
    for (unsigned threads = 1; threads <= 5; threads++) {
        grp_table t;
        cr_assert_eq(grp_build_sorted(&t, vecs, lens, 3, threads), 0);
        cr_assert(t.sorted);
        cr_assert_eq(t.ntraces, ref.ntraces, "%u threads", threads);
        cr_assert_eq(t.nevents, (size_t)N);
        for (size_t i = 0; i < t.ntraces; i++) {
            const grp_trace *a = &t.traces[i], *b = &ref.traces[i];
            cr_assert(xray_root_eq(a->root, b->root), "%u threads: trace %zu", threads, i);
            cr_assert(a->count == b->count && a->start_us == b->start_us &&
                          a->end_us == b->end_us && a->worst_status == b->worst_status &&
                          a->nlb == b->nlb && memcmp(a->lbs, b->lbs, sizeof a->lbs) == 0,
                      "%u threads: trace %zu differs", threads, i);
            const grp_event *ea = grp_trace_events(&t, a), *eb = grp_trace_events(&ref, b);
            for (uint32_t k = 0; k < a->count; k++)
                cr_assert(ea[k].input == eb[k].input && ea[k].offset == eb[k].offset &&
                              xray_root_eq(ea[k].root, a->root),
                          "%u threads: event %u of trace %zu", threads, k, i);
        }
        grp_free(&t);
    }
    grp_free(&ref);
    free(all);
}

Test(group, threaded_build_matches_one_thread)
{
    check_threaded(false);
    check_threaded(true);
}

Test(group, summary_only_keeps_no_events)
{
    grp_event a[] = {ev(1, 1, 2, 0, 0, 0, 0), ev(1, 3, 4, 0, 1, 0, 0)};
    grp_event *vecs[] = {a};
    size_t lens[] = {2};
    grp_table t;
    cr_assert_eq(grp_build(&t, vecs, lens, 1, false), 0);
    cr_expect_eq(t.ntraces, 1);
    cr_expect_null(t.events);
    cr_expect_eq(t.traces[0].count, 2);
    grp_free(&t);
}

Test(group, intern_ids_are_stable_and_merge_remaps)
{
    intern a, b;
    intern_init(&a);
    intern_init(&b);
    cr_expect_eq(intern_id(&a, tg_str_make("app/x/1", 7)), 0);
    cr_expect_eq(intern_id(&a, tg_str_make("app/y/2", 7)), 1);
    cr_expect_eq(intern_id(&a, tg_str_make("app/x/1", 7)), 0);
    for (int i = 0; i < 300; i++) {
        char name[32];
        int n = snprintf(name, sizeof name, "lb-%d", i);
        cr_assert_eq(intern_id(&b, tg_str_make(name, (size_t)n)), i);
    }
    intern_id(&b, tg_str_make("app/y/2", 7));
    uint16_t map[301];
    intern_merge(&a, &b, map);
    cr_expect_eq(map[300], 1, "a name both tables hold keeps its id");
    cr_expect_eq(map[0], 2);
    cr_expect_str_eq(intern_name(&a, map[299]), "lb-299");
    intern_free(&a);
    intern_free(&b);
}

/* Merges src[0..n) with `owners` partitions and gathers the owners' tables
 * into one, checking on the way that each holds only its partition, unless
 * only two owner tables held traces (merge.h: those two then hold them). */
static void merge_into(const grp_merge_src *src, size_t n, unsigned owners, grp_table *out)
{
    unsigned parts = owners < n ? owners : (unsigned)n;
    size_t holding = 0, holding_owners = 0, first = n, first_had = 0;
    for (size_t j = 0; j < n; j++) {
        holding += src[j].agg->ntraces > 0;
        holding_owners += src[j].agg->ntraces > 0 && j < parts;
        if (src[j].agg->ntraces > 0 && first == n) {
            first = j;
            first_had = src[j].agg->ntraces;
        }
    }
    const bool paired = parts > 1 && holding == 2 && holding_owners == 2;
    cr_assert_eq(grp_merge(src, n, owners), 0);
    /* The pair merge keeps every trace of the first table where it is. */
    if (paired)
        cr_assert_eq(src[first].agg->ntraces, first_had, "the pair merge was not taken");
    size_t total = 0;
    for (size_t j = 0; j < n; j++)
        total += src[j].agg->ntraces;
    memset(out, 0, sizeof *out);
    out->traces = tg_mem_big_realloc(NULL, (total ? total : 1) * sizeof *out->traces);
    cr_assert_not_null(out->traces);
    for (size_t j = 0; j < n; j++) {
        grp_agg *a = src[j].agg;
        cr_assert(j < parts || a->ntraces == 0, "table %zu, no owner, was not emptied", j);
        for (size_t k = 0; k < a->ntraces; k++) {
            cr_assert(paired || grp_part(grp_root_hash(a->traces[k].root), parts) == j,
                      "table %zu holds a trace of another partition", j);
            out->traces[out->ntraces++] = a->traces[k];
        }
        grp_agg_free(a);
    }
}

/* Two workers' aggregates merge into the same traces a single pass gives,
 * with load balancer ids remapped, on one thread or two. */
Test(group, aggregates_merge_like_one_pass)
{
    grp_event a[] = {ev(1, 100, 200, 0, 0, 200, 0), ev(2, 50, 60, 0, 10, 404, 1)};
    grp_event b[] = {ev(1, 90, 150, 1, 0, 502, 0), ev(3, 10, 20, 1, 5, 200, 1)};
    for (unsigned owners = 1; owners <= 2; owners++) {
        grp_agg wa, wb;
        grp_agg_init(&wa);
        grp_agg_init(&wb);
        for (int i = 0; i < 2; i++) {
            cr_assert_eq(grp_agg_add(&wa, &a[i], NULL), 0);
            cr_assert_eq(grp_agg_add(&wb, &b[i], NULL), 0);
        }
        uint16_t map_b[] = {7, 8}; /* worker b's ids 0, 1 are 7, 8 globally */
        grp_merge_src src[] = {{&wa, NULL, 0}, {&wb, map_b, 2}};
        grp_table t;
        merge_into(src, 2, owners, &t);
        grp_sort_traces(&t);
        cr_assert_eq(t.ntraces, 3);
        const grp_trace *one = NULL;
        for (size_t i = 0; i < t.ntraces; i++)
            if (t.traces[i].root.lo == 1)
                one = &t.traces[i];
        cr_assert_not_null(one);
        cr_expect_eq(one->count, 2);
        cr_expect_eq(one->start_us, 90);
        cr_expect_eq(one->end_us, 200);
        cr_expect_eq(one->worst_status, 502);
        cr_expect_eq(one->nlb, 2, "lb 0 of a and lb 7 (0 of b) are different names");
        cr_expect((one->lbs[0] == 0 && one->lbs[1] == 7) || (one->lbs[0] == 7 && one->lbs[1] == 0));
        cr_expect_eq(t.traces[0].root.lo, 3, "ordered by start");
        cr_expect_eq(t.traces[0].lbs[0], 8, "a trace only b saw has b's ids mapped");
        grp_free(&t);
    }
}

/* The event of trace id made in second `epoch`. */
static grp_event ev_at(uint32_t epoch, uint64_t id, int64_t start, uint16_t status, uint16_t lb)
{
    grp_event e = ev(id, start, start + 5, 0, id, status, lb);
    e.root.hi = (uint64_t)epoch << 32 | (id >> 32);
    return e;
}

/* Checks that t[0..kept) holds each Root of want[0..n) once (in any
 * order), every one with one event and its load balancer id `lb`. */
static void expect_kept(const grp_trace *t, size_t kept, const xray_root *want, size_t n,
                        uint16_t lb)
{
    cr_assert_eq(kept, n);
    bool *seen = calloc(n, sizeof *seen);
    cr_assert_not_null(seen);
    for (size_t i = 0; i < kept; i++) {
        size_t k = 0;
        while (k < n && !xray_root_eq(want[k], t[i].root))
            k++;
        cr_assert(k < n && !seen[k], "kept trace %zu is unexpected or twice", i);
        seen[k] = true;
        cr_expect_eq(t[i].count, 1);
        cr_expect(t[i].nlb == 1 && t[i].lbs[0] == lb, "kept trace %zu: lb %u", i, t[i].lbs[0]);
    }
    free(seen);
}

/* Folding present traces drops them from the array given and keeps the
 * others, with their load balancer ids mapped. */
Test(group, fold_present_drops_those_folded_and_keeps_the_others)
{
    enum { N = 100 }; /* several batches */
    grp_agg a, b;
    grp_agg_init(&a);
    grp_agg_init(&b);
    xray_root want[N];
    size_t nwant = 0;
    for (uint64_t id = 1; id <= N; id++) {
        grp_event e = ev(id, (int64_t)id * 10, (int64_t)id * 10 + 5, 0, id, 200, 0);
        cr_assert_eq(grp_agg_add(&b, &e, NULL), 0);
        if (id % 3 == 0) { /* a has every third Root, over a longer span */
            e.start_us -= 1;
            e.status = 503;
            cr_assert_eq(grp_agg_add(&a, &e, NULL), 0);
        } else {
            want[nwant++] = e.root;
        }
    }
    uint16_t map[] = {4};
    size_t kept = grp_agg_fold_present(&a, b.traces, b.ntraces, map, 1);
    expect_kept(b.traces, kept, want, nwant, 4);
    for (size_t i = 0; i < a.ntraces; i++) {
        const grp_trace *t = &a.traces[i];
        cr_expect_eq(t->count, 2, "trace %llu was folded", (unsigned long long)t->root.lo);
        cr_expect_eq(t->start_us, (int64_t)t->root.lo * 10 - 1);
        cr_expect_eq(t->worst_status, 503);
        cr_expect_eq(t->nlb, 2, "its own lb 0 and the mapped 4");
    }
    grp_agg_free(&a);
    grp_agg_free(&b);
}

/* Traces of a second the table has no Root of are kept without a lookup;
 * those of a second it has are looked up, even when the Root is not there
 * or its second only shares the table's bit (GRP_EPOCH_BITS later). Both
 * ways of filling the holes give the same traces: a few holes, and more
 * than the function keeps the places of. */
Test(group, fold_present_looks_up_only_the_seconds_the_table_has)
{
    const uint32_t e0 = 0x5759e988, e1 = e0 + 7, alias = e0 + (uint32_t)GRP_EPOCH_BITS;
    for (size_t shared = 3; shared <= 5000; shared += 4997) {
        grp_agg a, b;
        grp_agg_init(&a);
        grp_agg_init(&b);
        size_t n = 3 * shared + 30;
        xray_root *want = malloc(n * sizeof *want);
        cr_assert_not_null(want);
        size_t nwant = 0;
        for (uint64_t id = 1; id <= n; id++) {
            int kind = (int)(id % 3);
            grp_event e;
            if (id <= 3 * shared)
                e = ev_at(e0, id, 100, 200, 1); /* every third in a as well */
            else
                e = ev_at(kind == 0 ? e1 : kind == 1 ? alias : e0, id, 100, 200, 1);
            cr_assert_eq(grp_agg_add(&b, &e, NULL), 0);
            if (id <= 3 * shared && kind == 0) {
                grp_event f = ev_at(e0, id, 50, 504, 0);
                cr_assert_eq(grp_agg_add(&a, &f, NULL), 0);
            } else {
                want[nwant++] = e.root;
            }
        }
        /* a has a Root of second e0 that b lacks, and one of the alias
         * second with another id. */
        grp_event f = ev_at(e0, n + 1, 50, 200, 0);
        cr_assert_eq(grp_agg_add(&a, &f, NULL), 0);
        f = ev_at(alias, n + 2, 50, 200, 0);
        cr_assert_eq(grp_agg_add(&a, &f, NULL), 0);
        /* b's last trace is one of those folded, of the alias second: a
         * hole at the very end. */
        grp_event e = ev_at(alias, n + 3, 100, 200, 1);
        cr_assert_eq(grp_agg_add(&b, &e, NULL), 0);
        f = ev_at(alias, n + 3, 50, 504, 0);
        cr_assert_eq(grp_agg_add(&a, &f, NULL), 0);

        size_t kept = grp_agg_fold_present(&a, b.traces, b.ntraces, NULL, 0);
        expect_kept(b.traces, kept, want, nwant, 1);
        cr_assert_eq(a.ntraces, shared + 3, "nothing is added to a");
        for (size_t i = 0; i < shared + 3; i++) {
            if (i == shared || i == shared + 1)
                continue;
            const grp_trace *t = &a.traces[i];
            cr_expect_eq(t->count, 2);
            cr_expect_eq(t->start_us, 50);
            cr_expect_eq(t->end_us, 105);
            cr_expect_eq(t->worst_status, 504);
            cr_expect(t->nlb == 2, "lb 0 and b's 1, left as they are");
        }
        cr_expect_eq(a.traces[shared].count, 1);
        cr_expect_eq(a.traces[shared + 1].count, 1);
        free(want);
        grp_agg_free(&a);
        grp_agg_free(&b);
    }
}

/* Two traces agree when every field the aggregate keeps agrees. */
static void expect_same_traces(const grp_agg *x, const grp_agg *y)
{
    cr_assert_eq(x->ntraces, y->ntraces);
    for (size_t i = 0; i < x->ntraces; i++) {
        const grp_trace *a = &x->traces[i], *b = &y->traces[i];
        cr_assert(xray_root_eq(a->root, b->root), "trace %zu: other root", i);
        cr_assert(a->count == b->count && a->start_us == b->start_us && a->end_us == b->end_us &&
                      a->worst_status == b->worst_status && a->nlb == b->nlb &&
                      memcmp(a->lbs, b->lbs, sizeof a->lbs) == 0,
                  "trace %zu differs", i);
    }
}

/* The batched add is the one-at-a-time add: the same traces, in the same
 * order, and the same trace index for every event, over batches of every
 * size and a table that grows (rehashes) many times meanwhile. */
Test(group, batched_add_equals_single_adds)
{
    enum { N = 20000 };
    grp_event *e = malloc(N * sizeof *e);
    uint32_t *one = malloc(N * sizeof *one), *bat = malloc(N * sizeof *bat);
    cr_assert(e && one && bat);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* About 3 events per trace, repeats near and far apart. */
        e[i] = ev(x % (N / 3) + 1, (int64_t)(x >> 40), (int64_t)(x >> 40) + 7, 0, i,
                  (uint16_t)(x % 600), (uint16_t)(x >> 60));
    }
    grp_agg a, b;
    grp_agg_init(&a);
    grp_agg_init(&b);
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(grp_agg_add(&a, &e[i], &one[i]), 0);
    for (size_t i = 0, n = 1; i < N; i += n, n = n % GRP_BATCH + 1) {
        size_t m = N - i < n ? N - i : n;
        cr_assert_eq(grp_agg_add_batch(&b, &e[i], m, &bat[i]), 0);
    }
    expect_same_traces(&a, &b);
    cr_assert_eq(memcmp(one, bat, N * sizeof *one), 0, "trace indexes differ");
    cr_expect_eq(grp_agg_add_batch(&b, e, GRP_BATCH + 1, NULL), -1, "a batch has a limit");
    grp_agg_free(&a);
    grp_agg_free(&b);
    free(e);
    free(one);
    free(bat);
}

/* Adding only the events whose trace a table holds: those fold as
 * grp_agg_add_batch() would fold them, the others are named in order and
 * nothing is added for them, with a Root of a second the table has seen
 * and of one it has not. */
Test(group, add_found_folds_known_traces_and_names_the_others)
{
    enum { N = 3000 };
    grp_event *e = malloc(N * sizeof *e);
    cr_assert_not_null(e);
    grp_agg a, b;
    grp_agg_init(&a);
    grp_agg_init(&b);
    uint32_t miss[GRP_BATCH];
    size_t nmiss = 0;
    cr_assert_eq(grp_agg_add_found(&a, e, 0, miss), 0, "nothing to add");
    /* Traces 1..1000 in second 50; events for ids 1..3000 in seconds 50
     * and 51, so that a third are known. */
    for (uint64_t id = 1; id <= 1000; id++) {
        grp_event k = ev_at(50, id, 10, 200, 1);
        cr_assert_eq(grp_agg_add(&a, &k, NULL), 0);
        cr_assert_eq(grp_agg_add(&b, &k, NULL), 0);
    }
    for (size_t i = 0; i < N; i++)
        e[i] = ev_at(i % 7 ? 50 : 51, i % 3000 + 1, (int64_t)i, (uint16_t)(i % 600), 2);
    for (size_t i = 0; i < N; i += GRP_BATCH) {
        size_t m = N - i < GRP_BATCH ? N - i : GRP_BATCH;
        size_t got = grp_agg_add_found(&a, &e[i], m, miss);
        size_t want = 0;
        for (size_t k = 0; k < m; k++) {
            const grp_event *x = &e[i + k];
            bool known = xray_root_epoch(x->root) == 50 && x->root.lo <= 1000;
            if (known) {
                cr_assert_eq(grp_agg_add_batch(&b, x, 1, NULL), 0);
            } else {
                cr_assert(want < got && miss[want] == k, "event %zu is not named", i + k);
                want++;
            }
        }
        cr_assert_eq(got, want, "events named that were added");
        nmiss += got;
    }
    cr_expect_gt(nmiss, N / 2);
    cr_expect_eq(a.ntraces, 1000, "add_found added a trace");
    expect_same_traces(&a, &b);
    grp_agg_free(&a);
    grp_agg_free(&b);
    free(e);
}

/* Roots whose hashes are equal in all 64 bits (same slot, same tag) are
 * still two traces, in one batch or in two, added or merged. */
Test(group, equal_hashes_stay_distinct_traces)
{
    grp_event p = ev(5, 10, 20, 0, 0, 200, 0), q = p;
    /* grp_root_hash() mixes lo ^ hi * K: move hi by one and lo by K. */
    q.root.hi = p.root.hi + 1;
    q.root.lo = p.root.lo ^ (q.root.hi * 0x9e3779b97f4a7c15ull) ^ (p.root.hi * 0x9e3779b97f4a7c15ull);
    q.start_us = 5;
    cr_assert_eq(grp_root_hash(p.root), grp_root_hash(q.root));
    grp_event batch[] = {p, q, q, p, q};
    grp_agg a, b;
    grp_agg_init(&a);
    grp_agg_init(&b);
    uint32_t idx[5];
    cr_assert_eq(grp_agg_add_batch(&a, batch, 5, idx), 0);
    cr_assert_eq(a.ntraces, 2);
    cr_expect(idx[0] == 0 && idx[1] == 1 && idx[2] == 1 && idx[3] == 0 && idx[4] == 1);
    cr_expect_eq(a.traces[0].count, 2);
    cr_expect_eq(a.traces[1].count, 3);
    cr_expect_eq(a.traces[1].start_us, 5);
    cr_assert_eq(grp_agg_add_batch(&b, &q, 1, NULL), 0);
    cr_assert_eq(grp_agg_add_batch(&b, &p, 1, NULL), 0);
    cr_assert_eq(b.ntraces, 2);
    /* Merged, on one thread or two: the tables are folded batch by batch. */
    for (unsigned owners = 1; owners <= 2; owners++) {
        grp_agg x, y, m;
        grp_agg_init(&x);
        grp_agg_init(&y);
        grp_agg_init(&m);
        cr_assert_eq(grp_agg_add_batch(&m, &p, 1, NULL), 0);
        cr_assert_eq(grp_agg_add_batch(&x, batch, 5, NULL), 0);
        cr_assert_eq(grp_agg_add_batch(&y, &q, 1, NULL), 0);
        cr_assert_eq(grp_agg_add_batch(&y, &p, 1, NULL), 0);
        grp_merge_src src[] = {{&m, NULL, 0}, {&x, NULL, 0}, {&y, NULL, 0}};
        grp_table t;
        merge_into(src, 3, owners, &t);
        cr_assert_eq(t.ntraces, 2);
        const grp_trace *tp = xray_root_eq(t.traces[0].root, p.root) ? &t.traces[0] : &t.traces[1];
        const grp_trace *tq = tp == &t.traces[0] ? &t.traces[1] : &t.traces[0];
        cr_expect(xray_root_eq(tq->root, q.root));
        cr_expect_eq(tp->count, 1 + 2 + 1);
        cr_expect_eq(tq->count, 3 + 1);
        cr_expect_eq(tq->start_us, 5);
        grp_free(&t);
    }
    grp_agg_free(&a);
    grp_agg_free(&b);
}

/* Orders a table's traces by Root, and each trace's load balancers by id:
 * the two things a merge leaves in an order of its own. */
static int cmp_root(const void *x, const void *y)
{
    const grp_trace *a = x, *b = y;
    if (a->root.hi != b->root.hi)
        return a->root.hi < b->root.hi ? -1 : 1;
    return a->root.lo < b->root.lo ? -1 : a->root.lo > b->root.lo;
}

static void canonical(grp_table *t)
{
    qsort(t->traces, t->ntraces, sizeof *t->traces, cmp_root);
    for (size_t i = 0; i < t->ntraces; i++) {
        grp_trace *tr = &t->traces[i];
        for (unsigned k = 1; k < tr->nlb; k++)
            for (unsigned j = k; j > 0 && tr->lbs[j] < tr->lbs[j - 1]; j--) {
                uint16_t s = tr->lbs[j];
                tr->lbs[j] = tr->lbs[j - 1];
                tr->lbs[j - 1] = s;
            }
    }
}

/*
 * Events spread over `ntables` tables merge into what one table of all of
 * them holds, whatever the number of partitions (threads), with tables that
 * only give (owners < ntables), an empty table (`empty`, or none when -1),
 * and load balancer ids mapped per table. Traces are seen by one table or by
 * several.
 */
static void check_merge(unsigned ntables, unsigned owners, int empty, uint64_t seed)
{
    enum { N = 40000, LBS = 5 };
    grp_agg tables[8], one;
    uint16_t maps[8][LBS];
    grp_merge_src src[8];
    cr_assert_leq(ntables, 8);
    grp_agg_init(&one);
    for (unsigned j = 0; j < ntables; j++) {
        grp_agg_init(&tables[j]);
        /* Table j's local id k is global id (k + j) % LBS. */
        for (unsigned k = 0; k < LBS; k++)
            maps[j][k] = (uint16_t)((k + j) % LBS);
        src[j] = (grp_merge_src){&tables[j], maps[j], LBS};
    }
    uint64_t x = seed;
    for (uint64_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* Table `empty` (if any) stays empty. */
        unsigned j = (unsigned)((x >> 20) % ntables);
        if (empty >= 0 && j == (unsigned)empty)
            j = (j + 1) % ntables;
        uint16_t lb = (uint16_t)((x >> 8) % LBS);
        grp_event e = ev(x % (N / 3) + 1, (int64_t)(x >> 44), (int64_t)(x >> 44) + (x & 255), 0,
                         i, (uint16_t)(x % 599), lb);
        cr_assert_eq(grp_agg_add(&tables[j], &e, NULL), 0);
        e.lb = maps[j][lb];
        cr_assert_eq(grp_agg_add(&one, &e, NULL), 0);
    }
    grp_table got, want;
    merge_into(src, ntables, owners, &got);
    grp_table_from_agg(&want, &one);
    canonical(&got);
    canonical(&want);
    cr_assert_eq(got.ntraces, want.ntraces, "%u tables, %u owners", ntables, owners);
    for (size_t i = 0; i < got.ntraces; i++) {
        const grp_trace *a = &got.traces[i], *b = &want.traces[i];
        cr_assert(xray_root_eq(a->root, b->root) && a->count == b->count &&
                      a->start_us == b->start_us && a->end_us == b->end_us &&
                      a->worst_status == b->worst_status && a->nlb == b->nlb &&
                      memcmp(a->lbs, b->lbs, a->nlb * sizeof *a->lbs) == 0,
                  "%u tables, %u owners: trace %zu differs", ntables, owners, i);
    }
    grp_free(&got);
    grp_free(&want);
}

Test(group, merge_equals_one_table_whatever_the_partitions)
{
    check_merge(1, 1, -1, 88172645463325252ull);
    check_merge(2, 1, -1, 3);
    check_merge(3, 2, 1, 7);
    check_merge(5, 3, 1, 11);
    check_merge(8, 8, 1, 13);
    check_merge(4, 9, 1, 17); /* more owners than tables: one per table */
    /* Two tables with traces, both owners: the pair merge. The first of
     * them has its ids mapped (table 1's map is not the identity) or not. */
    check_merge(2, 2, -1, 5);
    check_merge(3, 3, 0, 19);
    check_merge(3, 3, 1, 23);
    check_merge(3, 2, 2, 29);
}

/* Each partition gets a share of the Roots, and every Root one partition. */
Test(group, partitions_split_the_roots)
{
    enum { N = 100000, P = 7 };
    size_t per[P] = {0};
    for (uint64_t i = 1; i <= N; i++) {
        grp_event e = ev(i, 0, 0, 0, 0, 0, 0);
        unsigned p = grp_part(grp_root_hash(e.root), P);
        cr_assert_lt(p, P);
        per[p]++;
    }
    for (unsigned p = 0; p < P; p++)
        cr_expect(per[p] > N / P * 9 / 10 && per[p] < N / P * 11 / 10, "partition %u: %zu", p,
                  per[p]);
}

/* A presized table gives what a growing one gives, without growing while
 * its estimate holds, and still grows past a wrong estimate. */
Test(group, presized_equals_growing)
{
    enum { N = 30000 };
    grp_event *e = malloc(N * sizeof *e);
    cr_assert(e);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        e[i] = ev(x % (N / 2) + 1, (int64_t)(x >> 40), (int64_t)(x >> 40) + 3, 0, i,
                  (uint16_t)(x % 600), (uint16_t)(x >> 60));
    }
    grp_agg grow, big, small;
    grp_agg_init(&grow);
    grp_agg_init(&big);
    grp_agg_init(&small);
    cr_assert_eq(grp_agg_reserve(&big, N / 2), 0);
    cr_assert_eq(grp_agg_reserve(&small, 100), 0);
    size_t slots = big.nslots;
    cr_assert_geq(slots, (size_t)N, "room for N/2 traces at half load");
    cr_expect_eq(slots, (size_t)32768, "the smallest power of two with that room");
    for (size_t i = 0; i < N; i += GRP_BATCH) {
        size_t m = N - i < GRP_BATCH ? N - i : GRP_BATCH;
        cr_assert_eq(grp_agg_add_batch(&grow, &e[i], m, NULL), 0);
        cr_assert_eq(grp_agg_add_batch(&big, &e[i], m, NULL), 0);
        cr_assert_eq(grp_agg_add_batch(&small, &e[i], m, NULL), 0);
    }
    cr_expect_eq(big.nslots, slots, "the presized table grew");
    cr_expect_gt(small.nslots, (size_t)1024, "a small estimate must not stop growth");
    expect_same_traces(&grow, &big);
    expect_same_traces(&grow, &small);
    grp_agg_free(&grow);
    grp_agg_free(&big);
    grp_agg_free(&small);
    free(e);
}

/* A table of 100000 traces grows its records (6.4 MB) and slots many
 * times over from their first size; nothing held may be lost on the way. */
Test(group, a_big_table_keeps_every_trace_as_it_grows)
{
    enum { TRACES = 100000, N = 2 * TRACES };
    grp_agg a;
    grp_agg_init(&a);
    grp_event b[GRP_BATCH];
    size_t nb = 0;
    for (size_t i = 0; i < N; i++) {
        /* Each trace twice, the second time half a run later. */
        uint64_t id = i % TRACES + 1;
        int64_t t = (int64_t)(id * 10 + i / TRACES);
        b[nb++] = ev(id, t, t + 5, 0, i, (uint16_t)(i < TRACES ? 200 : 500 + id % 4), 0);
        if (nb == GRP_BATCH || i + 1 == N) {
            cr_assert_eq(grp_agg_add_batch(&a, b, nb, NULL), 0);
            nb = 0;
        }
    }
    cr_assert_eq(a.ntraces, (size_t)TRACES);
    for (size_t k = 0; k < a.ntraces; k++) {
        const grp_trace *tr = &a.traces[k];
        uint64_t id = k + 1; /* traces are in order of first appearance */
        cr_assert_eq(tr->root.lo, id);
        cr_assert_eq(tr->count, 2, "trace %zu", k);
        cr_assert_eq(tr->start_us, (int64_t)(id * 10));
        cr_assert_eq(tr->end_us, (int64_t)(id * 10 + 6));
        cr_assert_eq(tr->worst_status, 500 + id % 4);
    }
    grp_table t;
    grp_table_from_agg(&t, &a);
    cr_assert_eq(t.ntraces, (size_t)TRACES);
    grp_sort_traces(&t);
    cr_expect_eq(t.traces[TRACES - 1].root.lo, (uint64_t)TRACES, "sorted by start");
    grp_free(&t);
}

/* A table of hundreds of thousands of traces is read at random: its slots
 * and trace records are faulted in as huge pages (one TLB entry and one
 * fault per 2 MiB) before they are first written, where huge pages pay,
 * and as small pages where they are dear (util/mem.h). Either verdict is
 * set by hand here: which one this machine gives depends on its recent
 * past. */
Test(group, a_big_tables_arrays_follow_the_huge_page_verdict)
{
    enum { N = 100000 }; /* 6.4 MB of trace records */
    const int states[] = {TG_HUGE_PAYS, TG_HUGE_DEAR};
    for (size_t v = 0; v < 2; v++) {
        grp_agg a;
        grp_agg_init(&a);
        a.huge.state = states[v];
        cr_assert_eq(grp_agg_reserve(&a, 500000), 0);
        for (uint64_t i = 1; i <= N; i++) {
            grp_event e = ev(i, 10, 20, 0, 0, 200, 0);
            cr_assert_eq(grp_agg_add(&a, &e, NULL), 0);
        }
        int want = states[v] == TG_HUGE_PAYS ? 'h' : 'n';
        int slots = tt_thp_advice(&a.slots[a.nslots / 2]);
        if (slots < 0)
            cr_skip_test("/proc/self/smaps does not tell transparent huge pages here");
        cr_expect_eq(slots, want, "the slots (%zu KiB) are advised '%c', not '%c'",
                     a.nslots * 8 / 1024, slots, want);
        /* The first records share a stretch with what malloc put before
         * them; those past 2 MiB fill stretches of their own. */
        int traces = tt_thp_advice(&a.traces[N - 1]);
        cr_expect_eq(traces, want, "the trace records are advised '%c', not '%c'", traces, want);
        cr_expect_eq(a.huge.state, states[v], "a verdict given is kept");
        grp_agg_free(&a);
    }
}

/* The events a build keeps for the printers are placed and read at random
 * too, on one thread or several: their array is faulted in the same way, as
 * huge pages or small ones, as its own stretches tell (util/mem.h). */
Test(group, a_big_builds_events_are_advised_on_huge_pages)
{
    enum { N = 200000 }; /* 12.8 MB of events */
    grp_event *v = malloc(N * sizeof *v);
    cr_assert(v);
    for (size_t i = 0; i < N; i++)
        v[i] = ev(i % 40000 + 1, (int64_t)i, (int64_t)i + 3, 0, i, 200, 0);
    grp_event *const vecs[] = {v};
    const size_t lens[] = {N};
    for (unsigned threads = 1; threads <= 2; threads++) {
        grp_table t;
        cr_assert_eq(grp_build_sorted(&t, vecs, lens, 1, threads), 0);
        cr_assert_eq(t.nevents, (size_t)N);
        int r = tt_thp_advice(&t.events[N * 3 / 4]);
        if (r < 0)
            cr_skip_test("/proc/self/smaps does not tell transparent huge pages here");
        cr_expect(r == 'h' || r == 'n', "with %u threads the events are not advised (%c)",
                  threads, r);
        grp_free(&t);
    }
    free(v);
}
