#include "group/build.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/bits.h"
#include "util/mem.h"

static int cmp_event(const void *a, const void *b)
{
    return grp_event_cmp(a, b);
}

/* Traces are mostly 1 to 5 events: insertion sort beats qsort's overhead. */
static void sort_events(grp_event *e, size_t n)
{
    if (n > 24) {
        qsort(e, n, sizeof *e, cmp_event);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        grp_event x = e[i];
        size_t j = i;
        for (; j > 0 && grp_event_cmp(&x, &e[j - 1]) < 0; j--)
            e[j] = e[j - 1];
        e[j] = x;
    }
}

static int cmp_trace(const void *va, const void *vb)
{
    const grp_trace *a = va, *b = vb;
    if (a->start_us != b->start_us)
        return a->start_us < b->start_us ? -1 : 1;
    return xray_root_cmp(&a->root, &b->root);
}

/* A trace's start as an unsigned number in the same order; an untimed
 * trace's (INT64_MAX) becomes UINT64_MAX. */
static inline uint64_t start_key(const grp_trace *t)
{
    return (uint64_t)t->start_us ^ ((uint64_t)1 << 63);
}

/* Bits of the start sorted in one pass of order_traces(): 2048 counters,
 * 16 KiB, stay in the L1 cache. */
#define RADIX_BITS 11

/* The order of a table's traces by start, ties by Root: the k-th trace is
 * traces[w[k] & imask], or traces[k] when w is NULL. */
typedef struct trace_order {
    uint64_t *w;
    uint64_t imask;
} trace_order;

static inline const grp_trace *trace_at(const grp_table *t, const trace_order *o, size_t k)
{
    return &t->traces[o->w ? o->w[k] & o->imask : k];
}

/* A word of a run of traces that tie on start, with its trace's Root. */
typedef struct tie {
    xray_root root;
    uint64_t w;
} tie;

static int cmp_tie(const void *va, const void *vb)
{
    const tie *a = va, *b = vb;
    return xray_root_cmp(&a->root, &b->root);
}

/*
 * The order of grp_sort_traces(), by a radix sort. Each trace becomes one
 * 64-bit word: its start less the earliest (untimed traces after the
 * latest) above its index. The words are sorted on the start's bits alone,
 * RADIX_BITS at a time, skipping a digit all words share; the runs of
 * traces that tie on start (8 over the bench's 1 GB, and one of all the
 * untimed traces) are then sorted by Root. Over 1 GB of ALB logs the starts
 * span an hour, 32 bits: three passes over 834K words. qsort() took 5% of
 * timelines -j1 there, comparing 64-byte records through a function
 * pointer; this and the gather after it take 3%. False, with o->w NULL,
 * when the start and index bits do not fit in a word (starts centuries
 * apart) or memory is short.
 */
static bool order_traces(const grp_table *t, trace_order *o)
{
    const size_t n = t->ntraces;
    const grp_trace *tr = t->traces;
    o->w = NULL;
    o->imask = 0;
    if (n < 2)
        return true;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t k = start_key(&tr[i]);
        if (k != UINT64_MAX) {
            lo = k < lo ? k : lo;
            hi = k > hi ? k : hi;
        }
    }
    if (lo > hi) /* every trace untimed */
        lo = hi = 0;
    const uint64_t last = hi - lo + 1; /* the untimed traces' key */
    const unsigned ibits = 64 - clz64((uint64_t)n - 1), kbits = 64 - clz64(last);
    if (kbits + ibits > 64)
        return false;
    uint64_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t k = start_key(&tr[i]);
        a[i] = (k == UINT64_MAX ? last : k - lo) << ibits | i;
    }
    for (unsigned shift = ibits; shift < ibits + kbits; shift += RADIX_BITS) {
        size_t count[1u << RADIX_BITS] = {0};
        const uint64_t dmask = (1u << RADIX_BITS) - 1;
        for (size_t i = 0; i < n; i++)
            count[a[i] >> shift & dmask]++;
        if (count[a[0] >> shift & dmask] == n)
            continue;
        size_t sum = 0;
        for (size_t d = 0; d <= dmask; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            b[count[a[i] >> shift & dmask]++] = a[i];
        uint64_t *x = a;
        a = b;
        b = x;
    }
    free(b);
    const uint64_t imask = ((uint64_t)1 << ibits) - 1;
    for (size_t k = 0, run; k < n; k += run) {
        for (run = 1; k + run < n && (a[k + run] >> ibits) == (a[k] >> ibits); run++)
            ;
        if (run == 1)
            continue;
        tie *ties = malloc(run * sizeof *ties);
        if (!ties) {
            free(a);
            return false;
        }
        for (size_t i = 0; i < run; i++)
            ties[i] = (tie){tr[a[k + i] & imask].root, a[k + i]};
        qsort(ties, run, sizeof *ties, cmp_tie);
        for (size_t i = 0; i < run; i++)
            a[k + i] = ties[i].w;
        free(ties);
    }
    o->w = a;
    o->imask = imask;
    return true;
}

/* The records of t in the order o, in a new array faulted in with one
 * call; NULL when memory is short. Until the old array is freed the peak
 * holds both (timelines -j1 over 1 GB: 1292 -> 1335 MB). */
static grp_trace *gather(const grp_table *t, const trace_order *o)
{
    const size_t n = t->ntraces;
    grp_trace *out = tg_mem_big_realloc(NULL, (n ? n : 1) * sizeof *out);
    if (!out)
        return NULL;
    tg_mem_populate_write(out, n * sizeof *out);
    for (size_t k = 0; k < n; k++) {
        if (k + 8 < n)
            __builtin_prefetch(trace_at(t, o, k + 8));
        out[k] = *trace_at(t, o, k);
    }
    return out;
}

/* qsort() where order_traces() cannot. */
void grp_sort_traces(grp_table *t)
{
    if (t->ntraces > 1 && !t->sorted) {
        trace_order o;
        grp_trace *out = NULL;
        if (order_traces(t, &o) && (out = gather(t, &o)) != NULL) {
            tg_mem_big_free(t->traces);
            t->traces = out;
        } else {
            qsort(t->traces, t->ntraces, sizeof *t->traces, cmp_trace);
        }
        free(o.w);
    }
    t->sorted = true;
}

/*
 * One partition's share of a build: the events whose Root falls in
 * partition `p` (every event when part is NULL), taken in vector order.
 */
typedef struct share {
    grp_event *const *vecs;
    const size_t *lens;
    size_t nvec;
    const uint8_t *part; /* each event's partition, in vector order; NULL: one */
    unsigned p;
} share;

/* Calls fn(ctx, run, n) on the runs of consecutive events of the share, in
 * vector order; stops at the first nonzero return and returns it. Events
 * of other partitions are copied into runs of up to GRP_BATCH first. */
static int each_run(const share *s, int (*fn)(void *, const grp_event *, size_t), void *ctx)
{
    grp_event batch[GRP_BATCH];
    size_t m = 0, g = 0;
    for (size_t v = 0; v < s->nvec; v++) {
        if (!s->part) {
            for (size_t i = 0; i < s->lens[v]; i += GRP_BATCH) {
                size_t n = s->lens[v] - i < GRP_BATCH ? s->lens[v] - i : GRP_BATCH;
                int rc = fn(ctx, &s->vecs[v][i], n);
                if (rc)
                    return rc;
            }
            continue;
        }
        for (size_t i = 0; i < s->lens[v]; i++, g++) {
            if (s->part[g] != s->p)
                continue;
            batch[m++] = s->vecs[v][i];
            if (m == GRP_BATCH) {
                int rc = fn(ctx, batch, m);
                if (rc)
                    return rc;
                m = 0;
            }
        }
    }
    return m ? fn(ctx, batch, m) : 0;
}

/* Adding a share's events to an aggregate, noting each one's trace. */
typedef struct adder {
    grp_agg *a;
    uint32_t *owner; /* owner[k]: the trace of the share's k-th event */
    size_t k;
} adder;

static int add_run(void *ctx, const grp_event *e, size_t n)
{
    adder *ad = ctx;
    if (grp_agg_add_batch(ad->a, e, n, ad->owner ? ad->owner + ad->k : NULL) != 0)
        return -1;
    ad->k += n;
    return 0;
}

/* Placing a share's events trace by trace. */
typedef struct placer {
    grp_event *events;
    const uint32_t *owner;
    uint64_t *fill; /* fill[i]: where trace i's next event goes */
    size_t k;
} placer;

static int place_run(void *ctx, const grp_event *e, size_t n)
{
    placer *pl = ctx;
    for (size_t i = 0; i < n; i++)
        pl->events[pl->fill[pl->owner[pl->k++]]++] = e[i];
    return 0;
}

/*
 * Groups a share of n events into t; with events, lays them out trace by
 * trace at events[at..at + n), the traces' `first` counting from events[0].
 * Placing events in vector order and then sorting each trace makes the
 * layout independent of the split: the sort key is total. Returns 0, or -1
 * when memory is short (t is then empty).
 */
static int build_share(grp_table *t, const share *s, size_t n, grp_event *events, size_t at)
{
    memset(t, 0, sizeof *t);
    grp_agg a;
    grp_agg_init(&a);
    /* Half the events: one rehash at most, when every event is a trace of
     * its own; none when traces have two events or more, as most do. */
    (void)grp_agg_reserve(&a, n / 2);
    adder ad = {&a, events ? malloc((n ? n : 1) * sizeof *ad.owner) : NULL, 0};
    if ((events && !ad.owner) || each_run(s, add_run, &ad) != 0) {
        grp_agg_free(&a);
        free(ad.owner);
        return -1;
    }
    grp_table_from_agg(t, &a);
    if (!events)
        return 0;
    placer pl = {events, ad.owner, malloc((t->ntraces ? t->ntraces : 1) * sizeof *pl.fill), 0};
    if (!pl.fill) {
        free(ad.owner);
        grp_free(t);
        return -1;
    }
    for (size_t i = 0; i < t->ntraces; i++) {
        t->traces[i].first = pl.fill[i] = at;
        at += t->traces[i].count;
    }
    (void)each_run(s, place_run, &pl);
    free(pl.fill);
    free(ad.owner);
    for (size_t i = 0; i < t->ntraces; i++)
        sort_events(events + t->traces[i].first, t->traces[i].count);
    return 0;
}

int grp_build(grp_table *t, grp_event *const *vecs, const size_t *lens, size_t nvec,
              bool keep_events)
{
    memset(t, 0, sizeof *t);
    size_t total = 0;
    for (size_t v = 0; v < nvec; v++)
        total += lens[v];
    if (total == 0)
        return 0;
    grp_event *events = keep_events ? malloc(total * sizeof *events) : NULL;
    if (keep_events && !events)
        return -1;
    /* Written at random (place_run()) and read at random (the printers
     * take the traces by their start): huge pages spare most TLB misses,
     * where they pay (util/mem.h). Every event is written, so the whole
     * array is faulted in. */
    tg_huge huge = {0};
    if (events)
        tg_mem_populate_huge(events, total * sizeof *events, &huge);
    share s = {vecs, lens, nvec, NULL, 0};
    if (build_share(t, &s, total, events, 0) != 0) {
        free(events);
        return -1;
    }
    t->events = events;
    t->nevents = keep_events ? total : 0;
    return 0;
}

/* Builds of fewer events stay on one thread: starting threads and merging
 * would cost more than they save. */
#define BUILD_MIN_PARALLEL 65536

typedef struct builder {
    grp_event *const *vecs;
    const size_t *lens;
    size_t nvec;
    const uint8_t *part; /* each event's partition, in vector order */
    const size_t *off;   /* [parts + 1]: each partition's stretch of events */
    grp_event *events;
    grp_table *pt;       /* [parts]: each partition's traces */
    trace_order *order;  /* [parts]: the order of each one's traces */
    unsigned parts;
    atomic_uint next;    /* the next partition to take */
    atomic_bool failed;
} builder;

/* Takes partitions until none is left: a thread that could not be started
 * leaves its share to the others. */
static void work(builder *b)
{
    for (;;) {
        unsigned p = atomic_fetch_add(&b->next, 1);
        if (p >= b->parts || atomic_load(&b->failed))
            return;
        share s = {b->vecs, b->lens, b->nvec, b->part, p};
        if (build_share(&b->pt[p], &s, b->off[p + 1] - b->off[p], b->events, b->off[p]) != 0) {
            atomic_store(&b->failed, true);
            return;
        }
        /* Sorted in place where the order cannot be had, and then taken
         * as it stands. */
        if (!order_traces(&b->pt[p], &b->order[p]))
            qsort(b->pt[p].traces, b->pt[p].ntraces, sizeof *b->pt[p].traces, cmp_trace);
    }
}

static void *helper_main(void *arg)
{
    work(arg);
    return NULL;
}

/* Partition p's next trace in its order. */
static inline const grp_trace *next_of(const builder *b, const size_t *at, unsigned p)
{
    return trace_at(&b->pt[p], &b->order[p], at[p]);
}

/* Whether partition p's next trace comes before partition q's. */
static bool before(const builder *b, const size_t *at, unsigned p, unsigned q)
{
    return cmp_trace(next_of(b, at, p), next_of(b, at, q)) < 0;
}

static void sift_down(unsigned *h, unsigned n, unsigned i, const builder *b, const size_t *at)
{
    for (;;) {
        unsigned l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && before(b, at, h[l], h[m]))
            m = l;
        if (r < n && before(b, at, h[r], h[m]))
            m = r;
        if (m == i)
            return;
        unsigned x = h[i];
        h[i] = h[m];
        h[m] = x;
        i = m;
    }
}

/* The partitions' traces merged into one array of n, each partition's in
 * its order, through a heap of the partitions by their next trace; NULL
 * when memory is short. No two partitions hold the same Root, so the order
 * is total. The records are copied once, here: sorting each partition's
 * records first, into an array of their own, made 64 bytes a trace more of
 * fresh memory, and over 8 GB of ALB logs this merge's page faults alone
 * were 4% of timelines -j2. Copied once, timelines -j2 -o /dev/null over
 * those 8 GB took 5.44 -> 4.70 s and 6.00 -> 5.62 s (two interleaved sets
 * of 3 and 4 runs), over 1 GB 0.591 -> 0.581 s (9). */
static grp_trace *merge_sorted(const builder *b, size_t n)
{
    const grp_table *pt = b->pt;
    const unsigned parts = b->parts;
    grp_trace *out =
        n > SIZE_MAX / sizeof *out ? NULL : tg_mem_big_realloc(NULL, (n ? n : 1) * sizeof *out);
    size_t *at = calloc(parts, sizeof *at);
    unsigned *h = malloc(parts * sizeof *h);
    if (!out || !at || !h) {
        tg_mem_big_free(out);
        out = NULL;
    } else {
        unsigned nh = 0;
        for (unsigned p = 0; p < parts; p++)
            if (pt[p].ntraces)
                h[nh++] = p;
        tg_mem_populate_write(out, n * sizeof *out);
        for (unsigned i = nh / 2; i-- > 0;)
            sift_down(h, nh, i, b, at);
        for (size_t k = 0; nh; k++) {
            unsigned p = h[0];
            out[k] = *next_of(b, at, p);
            if (++at[p] == pt[p].ntraces)
                h[0] = h[--nh];
            else if (at[p] + 8 < pt[p].ntraces)
                __builtin_prefetch(trace_at(&pt[p], &b->order[p], at[p] + 8));
            sift_down(h, nh, 0, b, at);
        }
    }
    free(at);
    free(h);
    return out;
}

/* Frees what a parallel build allocated but the table does not own. */
static void builder_free(builder *b)
{
    for (unsigned p = 0; b->pt && p < b->parts; p++)
        grp_free(&b->pt[p]);
    for (unsigned p = 0; b->order && p < b->parts; p++)
        free(b->order[p].w);
    free(b->pt);
    free(b->order);
    free((void *)b->part);
    free((void *)b->off);
}

int grp_build_sorted(grp_table *t, grp_event *const *vecs, const size_t *lens, size_t nvec,
                     unsigned threads)
{
    size_t total = 0;
    for (size_t v = 0; v < nvec; v++)
        total += lens[v];
    if (threads < 2 || total < BUILD_MIN_PARALLEL) {
        if (grp_build(t, vecs, lens, nvec, true) != 0)
            return -1;
        grp_sort_traces(t);
        return 0;
    }
    memset(t, 0, sizeof *t);
    /* A partition is noted in a byte per event. */
    unsigned parts = threads > 255 ? 255 : threads;
    uint8_t *part = malloc(total);
    size_t *off = calloc(parts + 1, sizeof *off);
    builder b = {.vecs = vecs,
                 .lens = lens,
                 .nvec = nvec,
                 .part = part,
                 .off = off,
                 .events = malloc(total * sizeof *b.events),
                 .pt = calloc(parts, sizeof *b.pt),
                 .order = calloc(parts, sizeof *b.order),
                 .parts = parts};
    atomic_init(&b.next, 0);
    atomic_init(&b.failed, false);
    pthread_t *th = malloc((parts - 1) * sizeof *th);
    if (!part || !off || !b.events || !b.pt || !b.order || !th) {
        free(b.events);
        free(th);
        builder_free(&b);
        return -1;
    }
    tg_huge huge = {0};
    tg_mem_populate_huge(b.events, total * sizeof *b.events, &huge);
    /* Each event's partition, and each partition's stretch of the events
     * array: partition p's events go to events[off[p] .. off[p + 1]). */
    for (size_t v = 0, g = 0; v < nvec; v++)
        for (size_t i = 0; i < lens[v]; i++, g++) {
            part[g] = (uint8_t)grp_part(grp_root_hash(vecs[v][i].root), parts);
            off[part[g] + 1]++;
        }
    for (unsigned p = 0; p < parts; p++)
        off[p + 1] += off[p];
    unsigned started = 0;
    for (; started < parts - 1; started++)
        if (pthread_create(&th[started], NULL, helper_main, &b) != 0)
            break;
    work(&b);
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(th);
    size_t ntraces = 0;
    for (unsigned p = 0; p < parts; p++)
        ntraces += b.pt[p].ntraces;
    grp_trace *traces = atomic_load(&b.failed) ? NULL : merge_sorted(&b, ntraces);
    builder_free(&b);
    if (!traces) {
        free(b.events);
        return -1;
    }
    t->traces = traces;
    t->ntraces = ntraces;
    t->events = b.events;
    t->nevents = total;
    t->sorted = true;
    return 0;
}
