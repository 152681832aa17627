#include "group/table.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

static void add_lb(grp_trace *tr, uint16_t lb)
{
    for (unsigned i = 0; i < tr->nlb; i++)
        if (tr->lbs[i] == lb)
            return;
    if (tr->nlb < GRP_MAX_LBS)
        tr->lbs[tr->nlb++] = lb;
    else
        tr->lb_more = 1;
}

int grp_events_reserve(grp_events *ev, size_t more)
{
    if (more > ev->cap - ev->n) {
        size_t cap = ev->cap ? ev->cap : 4096;
        while (more > cap - ev->n) {
            if (cap > SIZE_MAX / 2 / sizeof *ev->v)
                return -1;
            cap *= 2;
        }
        grp_event *v = realloc(ev->v, cap * sizeof *v);
        if (!v)
            return -1;
        ev->v = v;
        ev->cap = cap;
    }
    return 0;
}

int grp_events_push(grp_events *ev, const grp_event *e)
{
    if (grp_events_reserve(ev, 1) != 0)
        return -1;
    ev->v[ev->n++] = *e;
    return 0;
}

void grp_agg_init(grp_agg *a)
{
    memset(a, 0, sizeof *a);
}

void grp_agg_free(grp_agg *a)
{
    tg_mem_big_free(a->traces);
    free(a->slots);
    free(a->epochs);
    memset(a, 0, sizeof *a);
}

/* A slot holds a 32-bit tag of the Root's hash above the trace index + 1;
 * the low bits of the hash choose where the probe starts. The tag is taken
 * from the hash multiplied, so that it depends on every bit: hand-made ids
 * (…000001, …000002) differ only in bits grp_root_hash() leaves low. */
static inline uint64_t slot_tag(uint64_t h)
{
    return (h * 0x9e3779b97f4a7c15ull) & 0xffffffff00000000ull;
}

static inline uint64_t slot_make(uint64_t h, size_t i)
{
    return slot_tag(h) | (uint64_t)(i + 1);
}

static inline size_t slot_trace(uint64_t slot)
{
    return (size_t)(uint32_t)slot - 1;
}

static inline bool slot_tag_is(uint64_t slot, uint64_t h)
{
    return ((slot ^ slot_tag(h)) >> 32) == 0;
}

/* Moves every trace to a fresh slot array of n slots (a power of two).
 * Each trace's slot is prefetched REHASH_AHEAD traces before it is written:
 * the writes land all over an array of megabytes. The array is faulted in
 * whole first (util/mem.h), as are the trace records about to be appended
 * (add_trace()): otherwise a probe's first read of a page maps the shared
 * zero page, and the write of a new trace's slot then faults a second time
 * to replace it; with two threads that second fault also flushes the other
 * core's TLB. A probe reads before it writes, and the slots of a big table
 * are all touched anyway, so nothing is populated that would have stayed
 * unused. Both arrays are faulted in as huge pages where they pay: read at
 * random, a table of megabytes in 4 KiB pages missed the TLB on most
 * lookups and paid a fault a page; over 1 GB of ALB logs (16 MB of slots,
 * 53 MB of records) stats -j1 took 0.429 -> 0.325 s (medians of 9). Where
 * huge pages come dear (util/mem.h), the first dear one leaves the rest of
 * both arrays in small pages. */
#define REHASH_AHEAD 16
static int rehash(grp_agg *a, size_t n)
{
    uint64_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    tg_mem_populate_huge(slots, n * sizeof *slots, &a->huge);
    uint64_t ring[REHASH_AHEAD];
    for (size_t i = 0; i < a->ntraces + REHASH_AHEAD; i++) {
        if (i >= REHASH_AHEAD) {
            size_t k = i - REHASH_AHEAD;
            uint64_t h = ring[k % REHASH_AHEAD];
            size_t s = h & (n - 1);
            while (slots[s])
                s = (s + 1) & (n - 1);
            slots[s] = slot_make(h, k);
        }
        if (i < a->ntraces) {
            uint64_t h = grp_root_hash(a->traces[i].root);
            ring[i % REHASH_AHEAD] = h;
            __builtin_prefetch(&slots[h & (n - 1)], 1);
        }
    }
    free(a->slots);
    a->slots = slots;
    a->nslots = n;
    return 0;
}

/* Makes room for `more` traces, so that adding them moves nothing. */
static int reserve(grp_agg *a, size_t more)
{
    /* Slot values keep the index + 1 in 32 bits. */
    if (a->ntraces + more >= UINT32_MAX)
        return -1;
    if ((a->ntraces + more) * 2 > a->nslots) {
        /* Straight to the final size: every array on the way would be
         * faulted in (tg_mem_populate_write()) only to be freed. */
        size_t n = a->nslots ? a->nslots * 2 : 1024;
        while ((a->ntraces + more) * 2 > n)
            n *= 2;
        if (rehash(a, n) != 0)
            return -1;
    }
    if (!a->epochs && !(a->epochs = calloc(GRP_EPOCH_BITS / 64, sizeof *a->epochs)))
        return -1;
    if (a->ntraces + more > a->cap) {
        size_t cap = a->cap ? a->cap : 1024;
        while (cap < a->ntraces + more)
            cap *= 2;
        /* Grown without a copy (util/mem.h): the records faulted in stay
         * so, and traces[0..faulted) still holds. */
        if (cap > SIZE_MAX / sizeof(grp_trace))
            return -1;
        grp_trace *t = tg_mem_big_realloc(a->traces, cap * sizeof *t);
        if (!t)
            return -1;
        a->traces = t;
        a->cap = cap;
    }
    return 0;
}

int grp_agg_reserve(grp_agg *a, size_t more)
{
    return reserve(a, more);
}

/* The word and bit of r's second in grp_agg.epochs. */
static inline size_t epoch_word(xray_root r)
{
    return (xray_root_epoch(r) & (GRP_EPOCH_BITS - 1)) >> 6;
}

static inline uint64_t epoch_bit(xray_root r)
{
    return (uint64_t)1 << (xray_root_epoch(r) & 63);
}

/* False when a has no trace of root r; true when it may have one. */
static inline bool may_have(const grp_agg *a, xray_root r)
{
    return a->epochs && (a->epochs[epoch_word(r)] & epoch_bit(r)) != 0;
}

/* The trace records are faulted in ahead of the appends, up
 * to the end of the next whole 2 MiB stretch of the array: one
 * tg_mem_populate_huge() call for each, instead of a trap per 4 KiB page
 * as the appends reach it. Over 1 GB of ALB logs (834K traces, 53 MB of
 * records) stats -j1 spent 0.078 -> 0.052 s in the kernel, 1.2% of the
 * .gz run and 1.5% of the plain one, when this was first done in small
 * pages. Only what the appends are about to reach is faulted: a table
 * sized too large stays untouched.
 *
 * Appends the trace of root r with no event yet, its slot being s. */
static size_t add_trace(grp_agg *a, xray_root r, uint64_t h, size_t s)
{
    if (a->ntraces >= a->faulted) {
        /* From the page of the next record, already in when a record
         * straddles the last stretch's end, to the end of the stretch
         * after the one it is in. */
        uintptr_t base = (uintptr_t)a->traces, end = (uintptr_t)(a->traces + a->cap);
        uintptr_t from = (uintptr_t)&a->traces[a->ntraces] & ~(uintptr_t)4095;
        uintptr_t to = (from & ~(TG_MEM_STRETCH - 1)) + 2 * TG_MEM_STRETCH;
        if (to > end)
            to = end;
        tg_mem_populate_huge((void *)from, to - from, &a->huge);
        a->faulted = (to - base) / sizeof *a->traces;
    }
    grp_trace *tr = &a->traces[a->ntraces];
    memset(tr, 0, sizeof *tr);
    tr->root = r;
    tr->start_us = INT64_MAX;
    tr->end_us = INT64_MIN;
    a->slots[s] = slot_make(h, a->ntraces);
    a->epochs[epoch_word(r)] |= epoch_bit(r);
    return a->ntraces++;
}

/* Looks for the trace with root r (hash h): *k receives its index, or -1;
 * returns the slot the search ended at (empty when r is not there). */
static size_t probe(const grp_agg *a, xray_root r, uint64_t h, ptrdiff_t *k)
{
    size_t mask = a->nslots - 1;
    size_t s = h & mask;
    for (; a->slots[s]; s = (s + 1) & mask) {
        uint64_t v = a->slots[s];
        if (slot_tag_is(v, h) && xray_root_eq(a->traces[slot_trace(v)].root, r)) {
            *k = (ptrdiff_t)slot_trace(v);
            return s;
        }
    }
    *k = -1;
    return s;
}

/* The index of the trace with root r (hash h), created (empty) if new; -1
 * when memory is short. */
static ptrdiff_t find_or_add(grp_agg *a, xray_root r, uint64_t h)
{
    if (reserve(a, 1) != 0)
        return -1;
    ptrdiff_t k;
    size_t s = probe(a, r, h, &k);
    return k >= 0 ? k : (ptrdiff_t)add_trace(a, r, h, s);
}

static void fold_event(grp_trace *tr, const grp_event *e)
{
    tr->count++;
    if (e->start_us != GRP_UNTIMED) {
        if (e->start_us < tr->start_us)
            tr->start_us = e->start_us;
        if (e->end_us > tr->end_us)
            tr->end_us = e->end_us;
    }
    if (e->status > tr->worst_status)
        tr->worst_status = e->status;
    /* The load balancers crossed: only ALB lines name one. */
    if (e->format == GRP_FMT_ALB)
        add_lb(tr, e->lb);
}

int grp_agg_add(grp_agg *a, const grp_event *e, uint32_t *idx)
{
    ptrdiff_t i = find_or_add(a, e->root, grp_root_hash(e->root));
    if (i < 0)
        return -1;
    fold_event(&a->traces[i], e);
    if (idx)
        *idx = (uint32_t)i;
    return 0;
}

/*
 * Finds the traces of roots r[0..n), n <= GRP_BATCH, adding those that are
 * new when `add` (a constant where it is inlined), in three passes over the
 * batch, each issuing the memory accesses the next one needs, so that the
 * misses of a batch overlap instead of following one another: hash and
 * prefetch every slot; probe (a new Root gets its trace at once, or
 * UINT32_MAX without `add`; an equal tag is taken on trust) and prefetch
 * every trace record; then check each Root. A tag taken wrongly, once in
 * about four billion probes, is caught there and that Root looked up again
 * the slow way; nothing was added for it meanwhile. Without `add` nothing is
 * written. Returns 0, or -1 when memory is short.
 */
static inline __attribute__((always_inline)) int
find_batch(grp_agg *a, const xray_root *r, size_t n, uint32_t *t, const bool add)
{
    uint64_t h[GRP_BATCH];
    if (n > GRP_BATCH || (add && reserve(a, n) != 0))
        return -1;
    const size_t mask = a->nslots - 1;
    for (size_t i = 0; i < n; i++) {
        h[i] = grp_root_hash(r[i]);
        __builtin_prefetch(&a->slots[h[i] & mask]);
    }
    for (size_t i = 0; i < n; i++) {
        size_t s = h[i] & mask;
        while (a->slots[s] && !slot_tag_is(a->slots[s], h[i]))
            s = (s + 1) & mask;
        if (a->slots[s]) {
            t[i] = (uint32_t)slot_trace(a->slots[s]);
            __builtin_prefetch(&a->traces[t[i]], 1);
        } else {
            t[i] = add ? (uint32_t)add_trace(a, r[i], h[i], s) : UINT32_MAX;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (t[i] != UINT32_MAX && !xray_root_eq(a->traces[t[i]].root, r[i])) {
            ptrdiff_t k;
            if (add)
                k = find_or_add(a, r[i], h[i]);
            else
                (void)probe(a, r[i], h[i], &k);
            if (k < 0 && add)
                return -1;
            t[i] = k < 0 ? UINT32_MAX : (uint32_t)k;
        }
    }
    return 0;
}

static int locate_batch(grp_agg *a, const xray_root *r, size_t n, uint32_t *t)
{
    return find_batch(a, r, n, t, true);
}

int grp_agg_add_batch(grp_agg *a, const grp_event *e, size_t n, uint32_t *idx)
{
    xray_root r[GRP_BATCH] = {{0, 0}}; /* all set below; GCC cannot tell */
    uint32_t t[GRP_BATCH];
    if (n > GRP_BATCH)
        return -1;
    for (size_t i = 0; i < n; i++)
        r[i] = e[i].root;
    if (locate_batch(a, r, n, t) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        fold_event(&a->traces[t[i]], &e[i]);
        if (idx)
            idx[i] = t[i];
    }
    return 0;
}

size_t grp_agg_add_found(grp_agg *a, const grp_event *e, size_t n, uint32_t *miss)
{
    xray_root r[GRP_BATCH];
    uint32_t t[GRP_BATCH], at[GRP_BATCH];
    bool found[GRP_BATCH] = {false};
    size_t m = 0;
    /* Only the Roots of seconds a has seen are looked up (may_have()). */
    for (size_t i = 0; i < n && i < GRP_BATCH; i++) {
        if (a->nslots && may_have(a, e[i].root)) {
            r[m] = e[i].root;
            at[m++] = (uint32_t)i;
        }
    }
    if (m)
        (void)find_batch(a, r, m, t, false); /* adds nothing: cannot fail */
    for (size_t k = 0; k < m; k++) {
        if (t[k] != UINT32_MAX) {
            fold_event(&a->traces[t[k]], &e[at[k]]);
            found[at[k]] = true;
        }
    }
    size_t nmiss = 0;
    for (size_t i = 0; i < n && i < GRP_BATCH; i++)
        if (!found[i])
            miss[nmiss++] = (uint32_t)i;
    return nmiss;
}

static void fold_trace(grp_trace *tr, const grp_trace *f, const uint16_t *lb_map, size_t nmap)
{
    tr->count += f->count;
    if (f->start_us < tr->start_us)
        tr->start_us = f->start_us;
    if (f->end_us > tr->end_us)
        tr->end_us = f->end_us;
    if (f->worst_status > tr->worst_status)
        tr->worst_status = f->worst_status;
    for (unsigned k = 0; k < f->nlb; k++)
        add_lb(tr, grp_map_lb(f->lbs[k], lb_map, nmap));
    tr->lb_more |= f->lb_more;
}

int grp_agg_fold(grp_agg *a, const grp_trace *t, const uint32_t *pick, size_t n,
                 const uint16_t *lb_map, size_t nmap)
{
    xray_root r[GRP_BATCH];
    uint32_t idx[GRP_BATCH];
    /* One rehash at most, to the size both may need together. */
    if (reserve(a, n) != 0)
        return -1;
    for (size_t i = 0; i < n; i += GRP_BATCH) {
        size_t m = n - i < GRP_BATCH ? n - i : GRP_BATCH;
        for (size_t k = 0; k < m; k++)
            r[k] = t[pick ? pick[i + k] : i + k].root;
        if (locate_batch(a, r, m, idx) != 0)
            return -1;
        for (size_t k = 0; k < m; k++)
            fold_trace(&a->traces[idx[k]], &t[pick ? pick[i + k] : i + k], lb_map, nmap);
    }
    return 0;
}

/* Holes fold_present() keeps the places of, to fill them from the end. */
#define FOLD_HOLES 1024

size_t grp_agg_fold_present(grp_agg *a, grp_trace *t, size_t n, const uint16_t *lb_map,
                            size_t nmap)
{
    xray_root r[GRP_BATCH];
    uint32_t idx[GRP_BATCH];
    size_t at[GRP_BATCH];
    size_t hole[FOLD_HOLES], nholes = 0;
    /* Looked up are only the traces whose second a has seen. The inputs a
     * worker reads cover seconds of their own, mostly: of two workers'
     * tables few Roots share a second, and most lookups, a cache miss each,
     * are saved. A trace folded is left with no event, the mark of a hole. */
    for (size_t i = 0; i < n;) {
        size_t m = 0;
        for (; i < n && m < GRP_BATCH; i++) {
            if (a->nslots && may_have(a, t[i].root)) {
                r[m] = t[i].root;
                at[m++] = i;
            } else if (lb_map) {
                grp_trace_map_lbs(&t[i], lb_map, nmap);
            }
        }
        if (m)
            (void)find_batch(a, r, m, idx, false); /* adds nothing: cannot fail */
        for (size_t k = 0; k < m; k++) {
            grp_trace *f = &t[at[k]];
            if (idx[k] == UINT32_MAX) {
                if (lb_map)
                    grp_trace_map_lbs(f, lb_map, nmap);
                continue;
            }
            fold_trace(&a->traces[idx[k]], f, lb_map, nmap);
            f->count = 0;
            if (nholes < FOLD_HOLES)
                hole[nholes] = at[k];
            nholes++;
        }
    }
    size_t kept = n;
    if (nholes <= FOLD_HOLES) {
        /* Few holes, as when each worker read inputs of its own: each is
         * filled with the last trace, last hole first, so that no trace
         * after it is a hole. Moving every kept trace up instead took most
         * of the time. */
        while (nholes--)
            t[hole[nholes]] = t[--kept];
        return kept;
    }
    kept = 0;
    for (size_t j = 0; j < n; j++)
        if (t[j].count != 0)
            t[kept++] = t[j];
    return kept;
}

void grp_table_from_agg(grp_table *t, grp_agg *a)
{
    memset(t, 0, sizeof *t);
    t->traces = a->traces;
    t->ntraces = a->ntraces;
    free(a->slots);
    free(a->epochs);
    memset(a, 0, sizeof *a);
}

void grp_free(grp_table *t)
{
    tg_mem_big_free(t->traces);
    free(t->events);
    memset(t, 0, sizeof *t);
}
