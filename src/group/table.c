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

int grp_build(grp_table *t, grp_event *const *vecs, const size_t *lens, size_t nvec,
              bool keep_events)
{
    memset(t, 0, sizeof *t);
    size_t total = 0;
    for (size_t v = 0; v < nvec; v++)
        total += lens[v];
    if (total == 0)
        return 0;

    /* At most one trace per event: a table twice that size never fills. */
    size_t cap = 16;
    while (cap < total * 2)
        cap *= 2;
    uint32_t *slots = calloc(cap, sizeof *slots);
    grp_trace *traces = malloc(total * sizeof *traces);
    uint32_t *owner = keep_events ? malloc(total * sizeof *owner) : NULL;
    if (!slots || !traces || (keep_events && !owner))
        goto oom;

    size_t ntraces = 0, k = 0;
    for (size_t v = 0; v < nvec; v++) {
        for (size_t i = 0; i < lens[v]; i++, k++) {
            const grp_event *e = &vecs[v][i];
            size_t s = grp_root_hash(e->root) & (cap - 1);
            grp_trace *tr = NULL;
            for (; slots[s]; s = (s + 1) & (cap - 1)) {
                grp_trace *cand = &traces[slots[s] - 1];
                if (xray_root_eq(cand->root, e->root)) {
                    tr = cand;
                    break;
                }
            }
            if (!tr) {
                tr = &traces[ntraces];
                memset(tr, 0, sizeof *tr);
                tr->root = e->root;
                tr->start_us = INT64_MAX;
                tr->end_us = INT64_MIN;
                slots[s] = (uint32_t)++ntraces;
            }
            tr->count++;
            if (e->start_us < tr->start_us)
                tr->start_us = e->start_us;
            if (e->end_us > tr->end_us)
                tr->end_us = e->end_us;
            if (e->status > tr->worst_status)
                tr->worst_status = e->status;
            add_lb(tr, e->lb);
            if (owner)
                owner[k] = (uint32_t)(tr - traces);
        }
    }
    free(slots);
    slots = NULL;
    grp_trace *shrunk = realloc(traces, ntraces * sizeof *traces);
    if (shrunk)
        traces = shrunk;

    if (keep_events) {
        grp_event *events = malloc(total * sizeof *events);
        if (!events)
            goto oom;
        uint64_t at = 0;
        for (size_t i = 0; i < ntraces; i++) {
            traces[i].first = at;
            at += traces[i].count;
        }
        /* Placing events in vector order and then sorting each trace makes
         * the layout independent of the split: the sort key is total. */
        uint64_t *fill = malloc(ntraces * sizeof *fill);
        if (!fill) {
            free(events);
            goto oom;
        }
        for (size_t i = 0; i < ntraces; i++)
            fill[i] = traces[i].first;
        k = 0;
        for (size_t v = 0; v < nvec; v++)
            for (size_t i = 0; i < lens[v]; i++, k++)
                events[fill[owner[k]]++] = vecs[v][i];
        free(fill);
        for (size_t i = 0; i < ntraces; i++)
            sort_events(events + traces[i].first, traces[i].count);
        t->events = events;
        t->nevents = total;
    }
    free(owner);
    t->traces = traces;
    t->ntraces = ntraces;
    return 0;
oom:
    free(slots);
    free(traces);
    free(owner);
    return -1;
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
