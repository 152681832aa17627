/*
 * merge: see merge.h.
 *
 * Thread t works on the tables and partitions t, t + nthreads, … so that the
 * owner of table i is also the thread of partition i. Phase 1 lists table
 * j's traces of partition p in picks[j * parts + p], in table order. Those
 * lists say everything the later phases need: which traces another owner
 * folds from table j, and which of its own traces an owner keeps.
 *
 * When only two tables hold traces (two workers read everything), the
 * merge takes a shorter way: the second table's traces are looked up in
 * the first, each thread taking a slice of them. Those found are folded
 * into the first table and dropped from the second, the others closing up
 * behind them while they are in cache. Nothing is listed or appended: the
 * traces a worker reads are mostly its own (files cover stretches of time),
 * and appending them to another table had been half of the merge.
 */
#include "group/merge.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/u32vec.h"

typedef struct merger {
    const grp_merge_src *src;
    size_t n;          /* tables */
    unsigned parts;    /* partitions: the first `parts` tables own one each */
    unsigned nthreads; /* set once every thread has started */
    u32vec *picks;  /* [table * parts + partition] */
    size_t pair[2];    /* the two tables with traces, in pair mode */
    bool paired;
    size_t *before;    /* by partition: traces in its table before the fold */
    size_t *kept;      /* pair mode, by thread: traces its slice of the second
                          table kept, now at the slice's start */
    atomic_bool failed;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool ready; /* nthreads is known */
    unsigned arrived, generation;
} merger;

static bool failed(merger *m)
{
    return atomic_load_explicit(&m->failed, memory_order_relaxed);
}

static void fail(merger *m)
{
    atomic_store(&m->failed, true);
}

/* Waits until every thread is here. */
static void barrier(merger *m)
{
    pthread_mutex_lock(&m->mu);
    unsigned gen = m->generation;
    if (++m->arrived == m->nthreads) {
        m->arrived = 0;
        m->generation++;
        pthread_cond_broadcast(&m->cv);
    } else {
        while (gen == m->generation)
            pthread_cond_wait(&m->cv, &m->mu);
    }
    pthread_mutex_unlock(&m->mu);
}

static void map_lbs(grp_trace *t, const grp_merge_src *s)
{
    grp_trace_map_lbs(t, s->lb_map, s->nmap);
}

/* True when the source's map leaves every id as it is: worker 0's names,
 * say, which are merged first. */
static bool maps_nothing(const grp_merge_src *s)
{
    for (size_t k = 0; s->lb_map && k < s->nmap; k++)
        if (s->lb_map[k] != k)
            return false;
    return true;
}

/* Phase 1 for table j: its traces listed by partition. Those of its own
 * partition have their load balancer ids mapped now; no other thread reads
 * them. */
static void split(merger *m, size_t j)
{
    const grp_merge_src *s = &m->src[j];
    grp_agg *a = s->agg;
    const bool map = !maps_nothing(s);
    if (m->parts == 1 && j == 0) {
        /* One partition: the table keeps all it has, and lists nothing. */
        for (size_t k = 0; map && k < a->ntraces; k++)
            map_lbs(&a->traces[k], s);
        return;
    }
    u32vec *to = &m->picks[j * m->parts];
    /* Room for an even share and a little more: few lists need to grow. */
    size_t share = a->ntraces / m->parts;
    for (unsigned p = 0; p < m->parts; p++) {
        to[p].cap = share + share / 16 + 16;
        to[p].v = malloc(to[p].cap * sizeof *to[p].v);
        if (!to[p].v) {
            fail(m);
            return;
        }
    }
    for (size_t k = 0; k < a->ntraces && !failed(m); k++) {
        grp_trace *t = &a->traces[k];
        unsigned p = grp_part(grp_root_hash(t->root), m->parts);
        if (u32vec_push(&to[p], (uint32_t)k) != 0)
            fail(m);
        if (p == j && map)
            map_lbs(t, s);
    }
}

/* Phase 2 for partition i: room in table i for every trace it may get. */
static void reserve(merger *m, unsigned i)
{
    size_t more = 0;
    for (size_t j = 0; j < m->n; j++)
        if (j != i)
            more += m->picks[j * m->parts + i].n;
    m->before[i] = m->src[i].agg->ntraces;
    if (grp_agg_reserve(m->src[i].agg, more) != 0)
        fail(m);
}

/* Phase 3 for partition i: its traces in the other tables, folded into
 * table i. The room is there, so table i's arrays stay where they are. */
static void fold(merger *m, unsigned i)
{
    grp_agg *a = m->src[i].agg;
    for (size_t j = 0; j < m->n && !failed(m); j++) {
        const grp_merge_src *s = &m->src[j];
        const u32vec *l = &m->picks[j * m->parts + i];
        if (j != i && grp_agg_fold(a, s->agg->traces, l->v, l->n, s->lb_map, s->nmap) != 0)
            fail(m);
    }
}

/* Phase 4 for table j: an owner keeps its partition's traces, those it had
 * (listed in table order) and those the fold added (behind them); the other
 * tables are freed. */
static void compact(merger *m, size_t j)
{
    grp_agg *a = m->src[j].agg;
    if (j >= m->parts || failed(m)) {
        grp_agg_free(a);
        return;
    }
    if (m->parts == 1)
        return; /* it kept everything */
    const u32vec *own = &m->picks[j * m->parts + j];
    size_t w = 0;
    for (size_t k = 0; k < own->n; k++)
        a->traces[w++] = a->traces[own->v[k]];
    for (size_t k = m->before[j]; k < a->ntraces; k++)
        a->traces[w++] = a->traces[k];
    a->ntraces = w;
    /* The slots point at the old places: the table cannot be added to. */
    free(a->slots);
    a->slots = NULL;
    a->nslots = 0;
}

/* Pair mode: whether exactly two tables hold traces, both owners. */
static bool find_pair(merger *m)
{
    size_t k = 0;
    for (size_t j = 0; j < m->n; j++) {
        if (m->src[j].agg->ntraces == 0)
            continue;
        if (k == 2 || j >= m->parts)
            return false;
        m->pair[k++] = j;
    }
    return k == 2;
}

/* Slice t of nthreads of [0, n). */
static void slice(size_t n, unsigned t, unsigned nthreads, size_t *lo, size_t *hi)
{
    *lo = n * t / nthreads;
    *hi = n * (t + 1) / nthreads;
}

/* Pair mode for thread t: maps the first table's load balancer ids, then
 * folds its slice of the second table into the first, the traces it keeps
 * left at the slice's start; thread 0 then closes the gaps between
 * slices. The tables without traces are freed. (Compacting the second table
 * in one pass on thread 0 afterwards took a sixth of the merge.) */
static void run_pair(merger *m, unsigned t)
{
    const grp_merge_src *a = &m->src[m->pair[0]], *b = &m->src[m->pair[1]];
    size_t lo, hi;
    if (!maps_nothing(a)) {
        slice(a->agg->ntraces, t, m->nthreads, &lo, &hi);
        for (size_t k = lo; k < hi; k++)
            map_lbs(&a->agg->traces[k], a);
        barrier(m);
    }
    slice(b->agg->ntraces, t, m->nthreads, &lo, &hi);
    const bool b_same = maps_nothing(b);
    m->kept[t] = grp_agg_fold_present(a->agg, b->agg->traces + lo, hi - lo,
                                      b_same ? NULL : b->lb_map, b_same ? 0 : b->nmap);
    for (size_t j = t; j < m->n; j += m->nthreads)
        if (j != m->pair[0] && j != m->pair[1])
            grp_agg_free(m->src[j].agg);
    barrier(m);
    if (t != 0)
        return;
    /* Slice s kept its traces at [lo, lo + kept[s]); the gap before them is
     * filled from their own end, which moves as many traces as were
     * folded, not as many as were kept. */
    grp_agg *bt = b->agg;
    size_t end = 0;
    for (unsigned s = 0; s < m->nthreads; s++) {
        slice(bt->ntraces, s, m->nthreads, &lo, &hi);
        size_t gap = lo - end, move = gap < m->kept[s] ? gap : m->kept[s];
        memcpy(&bt->traces[end], &bt->traces[lo + m->kept[s] - move], move * sizeof *bt->traces);
        end += m->kept[s];
    }
    bt->ntraces = end;
}

static void run(merger *m, unsigned t)
{
    pthread_mutex_lock(&m->mu);
    while (!m->ready)
        pthread_cond_wait(&m->cv, &m->mu);
    pthread_mutex_unlock(&m->mu);
    if (m->paired) {
        run_pair(m, t);
        return;
    }
    for (size_t j = t; j < m->n; j += m->nthreads)
        split(m, j);
    barrier(m);
    for (unsigned i = t; i < m->parts && !failed(m); i += m->nthreads)
        reserve(m, i);
    barrier(m);
    for (unsigned i = t; i < m->parts && !failed(m); i += m->nthreads)
        fold(m, i);
    barrier(m);
    for (size_t j = t; j < m->n; j += m->nthreads)
        compact(m, j);
}

typedef struct helper {
    merger *m;
    unsigned t;
    pthread_t th;
} helper;

static void *helper_main(void *arg)
{
    helper *h = arg;
    run(h->m, h->t);
    return NULL;
}

int grp_merge(const grp_merge_src *src, size_t n, unsigned owners)
{
    if (owners > n)
        owners = (unsigned)n;
    if (owners < 1)
        owners = 1;
    merger m = {.src = src, .n = n, .parts = owners};
    atomic_init(&m.failed, false);
    m.picks = calloc(n * owners, sizeof *m.picks);
    m.before = calloc(owners, sizeof *m.before);
    m.kept = calloc(owners, sizeof *m.kept);
    helper *hs = owners > 1 ? calloc(owners - 1, sizeof *hs) : NULL;
    if (n == 0 || !m.picks || !m.before || !m.kept || (owners > 1 && !hs)) {
        free(m.picks);
        free(m.before);
        free(m.kept);
        free(hs);
        for (size_t j = 0; j < n; j++)
            grp_agg_free(src[j].agg);
        return n == 0 ? 0 : -1;
    }
    m.paired = owners > 1 && find_pair(&m);
    pthread_mutex_init(&m.mu, NULL);
    pthread_cond_init(&m.cv, NULL);
    /* Threads that cannot be started leave their share to the others. */
    unsigned started = 0;
    for (unsigned t = 1; t < owners; t++) {
        hs[started] = (helper){&m, started + 1, 0};
        if (pthread_create(&hs[started].th, NULL, helper_main, &hs[started]) != 0)
            break;
        started++;
    }
    pthread_mutex_lock(&m.mu);
    m.nthreads = started + 1;
    m.ready = true;
    pthread_cond_broadcast(&m.cv);
    pthread_mutex_unlock(&m.mu);
    run(&m, 0);
    for (unsigned t = 0; t < started; t++)
        pthread_join(hs[t].th, NULL);
    pthread_cond_destroy(&m.cv);
    pthread_mutex_destroy(&m.mu);

    bool bad = atomic_load(&m.failed);
    for (size_t j = 0; bad && j < n; j++)
        grp_agg_free(src[j].agg);
    for (size_t i = 0; i < n * owners; i++)
        free(m.picks[i].v);
    free(m.picks);
    free(m.before);
    free(m.kept);
    free(hs);
    return bad ? -1 : 0;
}
