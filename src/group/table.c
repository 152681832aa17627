#include "group/table.h"

#include <stdlib.h>
#include <string.h>

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

int grp_events_push(grp_events *ev, const grp_event *e)
{
    if (ev->n == ev->cap) {
        size_t cap = ev->cap ? ev->cap * 2 : 4096;
        grp_event *v = realloc(ev->v, cap * sizeof *v);
        if (!v)
            return -1;
        ev->v = v;
        ev->cap = cap;
    }
    ev->v[ev->n++] = *e;
    return 0;
}

void grp_agg_init(grp_agg *a)
{
    memset(a, 0, sizeof *a);
}

void grp_agg_free(grp_agg *a)
{
    free(a->traces);
    free(a->slots);
    memset(a, 0, sizeof *a);
}

/* Doubles the slot array and re-inserts every trace. */
static int rehash(grp_agg *a)
{
    size_t n = a->nslots ? a->nslots * 2 : 1024;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < a->ntraces; i++) {
        size_t s = grp_root_hash(a->traces[i].root) & (n - 1);
        while (slots[s])
            s = (s + 1) & (n - 1);
        slots[s] = (uint32_t)(i + 1);
    }
    free(a->slots);
    a->slots = slots;
    a->nslots = n;
    return 0;
}

/* The trace with root r, created (empty) if new; NULL when memory is short. */
static grp_trace *find_or_add(grp_agg *a, xray_root r, uint32_t *idx)
{
    if ((a->ntraces + 1) * 2 > a->nslots && rehash(a) != 0)
        return NULL;
    size_t s = grp_root_hash(r) & (a->nslots - 1);
    for (; a->slots[s]; s = (s + 1) & (a->nslots - 1)) {
        grp_trace *cand = &a->traces[a->slots[s] - 1];
        if (xray_root_eq(cand->root, r)) {
            if (idx)
                *idx = a->slots[s] - 1;
            return cand;
        }
    }
    if (a->ntraces == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 1024;
        grp_trace *t = realloc(a->traces, cap * sizeof *t);
        if (!t)
            return NULL;
        a->traces = t;
        a->cap = cap;
    }
    grp_trace *tr = &a->traces[a->ntraces];
    memset(tr, 0, sizeof *tr);
    tr->root = r;
    tr->start_us = INT64_MAX;
    tr->end_us = INT64_MIN;
    a->slots[s] = (uint32_t)++a->ntraces;
    if (idx)
        *idx = (uint32_t)(a->ntraces - 1);
    return tr;
}

int grp_agg_add(grp_agg *a, const grp_event *e, uint32_t *idx)
{
    grp_trace *tr = find_or_add(a, e->root, idx);
    if (!tr)
        return -1;
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
    return 0;
}

int grp_agg_merge(grp_agg *into, const grp_agg *from, const uint16_t *lb_map, size_t nmap)
{
    for (size_t i = 0; i < from->ntraces; i++) {
        const grp_trace *f = &from->traces[i];
        grp_trace *tr = find_or_add(into, f->root, NULL);
        if (!tr)
            return -1;
        tr->count += f->count;
        if (f->start_us < tr->start_us)
            tr->start_us = f->start_us;
        if (f->end_us > tr->end_us)
            tr->end_us = f->end_us;
        if (f->worst_status > tr->worst_status)
            tr->worst_status = f->worst_status;
        for (unsigned k = 0; k < f->nlb; k++)
            add_lb(tr, f->lbs[k] < nmap ? lb_map[f->lbs[k]] : f->lbs[k]);
        tr->lb_more |= f->lb_more;
    }
    return 0;
}

void grp_table_from_agg(grp_table *t, grp_agg *a)
{
    memset(t, 0, sizeof *t);
    t->traces = a->traces;
    t->ntraces = a->ntraces;
    free(a->slots);
    memset(a, 0, sizeof *a);
}

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

/* Lays the events out trace by trace: owner[k] is the trace of the k-th
 * event in vector order. Placing events in that order and then sorting each
 * trace makes the layout independent of the split: the sort key is total. */
static grp_event *lay_out(grp_trace *traces, size_t ntraces, grp_event *const *vecs,
                          const size_t *lens, size_t nvec, const uint32_t *owner, size_t total)
{
    grp_event *events = malloc(total * sizeof *events);
    uint64_t *fill = malloc((ntraces ? ntraces : 1) * sizeof *fill);
    if (!events || !fill) {
        free(events);
        free(fill);
        return NULL;
    }
    uint64_t at = 0;
    for (size_t i = 0; i < ntraces; i++) {
        traces[i].first = fill[i] = at;
        at += traces[i].count;
    }
    size_t k = 0;
    for (size_t v = 0; v < nvec; v++)
        for (size_t i = 0; i < lens[v]; i++, k++)
            events[fill[owner[k]]++] = vecs[v][i];
    free(fill);
    for (size_t i = 0; i < ntraces; i++)
        sort_events(events + traces[i].first, traces[i].count);
    return events;
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
    grp_agg a;
    grp_agg_init(&a);
    uint32_t *owner = keep_events ? malloc(total * sizeof *owner) : NULL;
    if (keep_events && !owner)
        return -1;
    size_t k = 0;
    for (size_t v = 0; v < nvec; v++) {
        for (size_t i = 0; i < lens[v]; i++, k++) {
            if (grp_agg_add(&a, &vecs[v][i], owner ? &owner[k] : NULL) != 0) {
                grp_agg_free(&a);
                free(owner);
                return -1;
            }
        }
    }
    grp_table_from_agg(t, &a);
    if (keep_events) {
        t->events = lay_out(t->traces, t->ntraces, vecs, lens, nvec, owner, total);
        free(owner);
        if (!t->events) {
            grp_free(t);
            return -1;
        }
        t->nevents = total;
    }
    return 0;
}

static int cmp_trace(const void *va, const void *vb)
{
    const grp_trace *a = va, *b = vb;
    if (a->start_us != b->start_us)
        return a->start_us < b->start_us ? -1 : 1;
    if (a->root.hi != b->root.hi)
        return a->root.hi < b->root.hi ? -1 : 1;
    if (a->root.lo != b->root.lo)
        return a->root.lo < b->root.lo ? -1 : 1;
    return 0;
}

void grp_sort_traces(grp_table *t)
{
    if (t->ntraces > 1)
        qsort(t->traces, t->ntraces, sizeof *t->traces, cmp_trace);
}

void grp_free(grp_table *t)
{
    free(t->traces);
    free(t->events);
    memset(t, 0, sizeof *t);
}
