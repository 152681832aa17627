/*
 * engine's gathering: what follows the workers' reading of the inputs. The
 * workers' events, lines and counts move into the result, the connection
 * and CloudFront joins run, and for stats the workers' tables are merged;
 * then the result's accessors (engine.h). The workers and their reading are
 * engine.c.
 */
#include "engine/engine.h"
#include "engine/engine_int.h"

#include <stdlib.h>
#include <string.h>

#include "group/merge.h"

void eng_counts_add(eng_counts *a, const eng_counts *b)
{
    /* eng_counts is all uint64_t: add it as an array. */
    uint64_t *pa = (uint64_t *)a;
    const uint64_t *pb = (const uint64_t *)b;
    for (size_t i = 0; i < sizeof *a / sizeof(uint64_t); i++)
        pa[i] += pb[i];
}

/* After the workers, before eng_gather() (engine_int.h). */
int eng_seal_arenas(engine *e, worker *ws, unsigned n)
{
    bool warned = false;
    for (unsigned i = 0; i < n; i++) {
        arena *a = &ws[i].col.lines;
        if (arena_seal(a) != 0) {
            tg_errorf(e->rep, "cannot read back the lines written to a temporary file in %s: %s",
                      e->s->spill_dir, strerror(a->err));
            return -1;
        }
        if (a->err && !warned) {
            tg_input_warning(e->rep, e->s->spill_dir,
                             "cannot write lines to a temporary file here (%s): kept them in "
                             "memory past --line-memory",
                             strerror(a->err));
            warned = true;
        }
    }
    return 0;
}

/* Where joined events go: for stats, into the workers' tables; otherwise
 * into one more event vector. */
typedef struct join_sink {
    grp_agg **aggs; /* stats: the workers' tables */
    unsigned naggs;
    grp_events ev;
} join_sink;

/*
 * A joined event's trace is in a worker's table already: the reference that
 * joined it came from one of the trace's own lines. So for stats it is
 * folded into the first table that holds its Root, and added to the last
 * only when none does (its input changed between two readings). A joined
 * event touches nothing whose value depends on the order events are folded
 * in (no load balancer: only ALB lines name one), so where it goes does not
 * change the merged tables. Collecting the joined events in a table of
 * their own, merged with the workers' afterwards, took that table's memory
 * and a third source for the merge.
 */
static int emit_joined(void *ctx, const grp_event *e, size_t n)
{
    join_sink *js = ctx;
    if (js->naggs) {
        grp_event left[GRP_BATCH];
        uint32_t miss[GRP_BATCH];
        const grp_event *cur = e;
        for (unsigned k = 0; k + 1 < js->naggs && n; k++) {
            size_t m = grp_agg_add_found(js->aggs[k], cur, n, miss);
            /* In place: miss[i] >= i. */
            for (size_t i = 0; i < m; i++)
                left[i] = cur[miss[i]];
            cur = left;
            n = m;
        }
        return n ? grp_agg_add_batch(js->aggs[js->naggs - 1], cur, n, NULL) : 0;
    }
    if (grp_events_reserve(&js->ev, n) != 0)
        return -1;
    memcpy(js->ev.v + js->ev.n, e, n * sizeof *e);
    js->ev.n += n;
    return 0;
}

static void remap_recs(join_side *s, const uint16_t *map, size_t nmap)
{
    for (unsigned p = 0; p < JOIN_PARTS; p++)
        for (join_blk *h = s->recs[p].head; h; h = h->next) {
            join_rec_blk *b = (join_rec_blk *)h;
            for (uint32_t k = 0; k < h->n; k++)
                if (b->v[k].lb < nmap)
                    b->v[k].lb = map[b->v[k].lb];
        }
}

/* Matches the connection and CloudFront records to the traces that named
 * them, once every input is read (join.h), with one thread per worker. For
 * stats the joined events go into the workers' tables. */
static int resolve_joins(eng_result *out, worker *ws, unsigned n, bool stats)
{
    join_side **conn = calloc(n, sizeof *conn), **cf = calloc(n, sizeof *cf);
    grp_agg **aggs = calloc(n, sizeof *aggs);
    if (!conn || !cf || !aggs) {
        free(conn);
        free(cf);
        free(aggs);
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        conn[i] = &ws[i].col.conn;
        cf[i] = &ws[i].col.cf;
        aggs[i] = &ws[i].col.agg;
    }
    join_sink js = {.aggs = aggs, .naggs = stats ? n : 0};
    uint64_t joined, unmatched;
    int rc = join_resolve(conn, n, n, emit_joined, &js, &joined, &unmatched);
    out->c.events_by[GRP_FMT_ALB_CONN] += joined;
    out->c.conn_unmatched += unmatched;
    if (rc == 0)
        rc = join_resolve(cf, n, n, emit_joined, &js, &joined, &unmatched);
    out->c.events_by[GRP_FMT_CLOUDFRONT] += joined;
    out->c.cf_unmatched += unmatched;
    out->vecs[out->nvec - 1] = js.ev.v;
    out->lens[out->nvec - 1] = js.ev.n;
    free(conn);
    free(cf);
    free(aggs);
    return rc;
}

/* Merges the workers' tables into out->parts, one thread and one table per
 * worker (merge.h). maps[i] is worker i's load balancer map. */
static int merge_tables(worker *ws, unsigned n, uint16_t **maps, eng_result *out)
{
    grp_merge_src *src = calloc(n, sizeof *src);
    out->parts = calloc(n, sizeof *out->parts);
    if (!src || !out->parts) {
        free(src);
        return -1;
    }
    for (unsigned i = 0; i < n; i++)
        src[i] = (grp_merge_src){&ws[i].col.agg, maps[i], ws[i].col.lbs.n};
    int rc = grp_merge(src, n, n);
    free(src);
    if (rc != 0)
        return -1;
    for (unsigned i = 0; i < n; i++)
        grp_table_from_agg(&out->parts[i], &ws[i].col.agg);
    out->nparts = n;
    return 0;
}

/* eng_run()'s last step (engine_int.h). */
int eng_gather(engine *e, worker *ws, unsigned n, eng_result *out)
{
    out->nvec = n + 1; /* the last holds the joined events */
    out->narenas = n;
    out->vecs = calloc(n + 1, sizeof *out->vecs);
    out->lens = calloc(n + 1, sizeof *out->lens);
    out->arenas = calloc(n, sizeof *out->arenas);
    uint16_t **maps = calloc(n, sizeof *maps);
    intern_init(&out->lbs);
    if (!out->vecs || !out->lens || !out->arenas || !maps) {
        free(maps);
        return -1;
    }
    const bool stats = e->s->mode == ENG_STATS;
    int rc = 0;
    for (unsigned i = 0; i < n && rc == 0; i++) {
        collector *c = &ws[i].col;
        uint16_t *map = maps[i] = malloc((c->lbs.n + 1) * sizeof *map);
        if (!map) {
            rc = -1;
            break;
        }
        intern_merge(&out->lbs, &c->lbs, map);
        for (size_t k = 0; k < c->ev.n; k++)
            if (c->ev.v[k].lb < c->lbs.n)
                c->ev.v[k].lb = map[c->ev.v[k].lb];
        remap_recs(&c->conn, map, c->lbs.n);
        remap_recs(&c->cf, map, c->lbs.n);
        eng_counts_add(&out->c, &c->c);
        out->vecs[i] = c->ev.v;
        out->lens[i] = c->ev.n;
        out->arenas[i] = c->lines;
        memset(&c->ev, 0, sizeof c->ev);
        arena_init(&c->lines, c->lines.chunk_size);
    }
    if (rc == 0)
        rc = resolve_joins(out, ws, n, stats);
    for (unsigned i = 0; i < n; i++) {
        join_side_free(&ws[i].col.conn);
        join_side_free(&ws[i].col.cf);
    }
    if (rc == 0 && stats)
        rc = merge_tables(ws, n, maps, out);
    for (unsigned i = 0; i < n; i++)
        free(maps[i]);
    free(maps);
    return rc;
}

tg_str eng_event_line(const eng_result *r, const grp_event *e)
{
    if (e->line == GRP_NO_LINE)
        return TG_STR_NULL;
    /* A mapped line's length was taken as the line was read, its '\r'
     * already dropped. */
    if (grp_line_is_mapped(e->line))
        return tg_str_make(r->maps[e->input].p + e->offset, grp_line_mapped_len(e->line));
    /* An arena entry may carry decoded columns after the raw line
     * (eng_event_extra). */
    tg_str s = arena_get(&r->arenas[e->line >> ARENA_REF_BITS], e->line);
    const char *nl = memchr(s.p, '\n', s.n);
    if (nl)
        s.n = (size_t)(nl - s.p);
    if (s.n && s.p[s.n - 1] == '\r')
        s.n--;
    return s;
}

/* How much of a line eng_event_prefetch() asks for: an ALB line's length,
 * about; the processor's stream prefetcher follows a longer one. */
#define ENG_LINE_PREFETCH 768

void eng_event_prefetch(const eng_result *r, const grp_event *e)
{
    const char *p;
    if (grp_line_is_mapped(e->line)) {
        const mapfile *m = &r->maps[e->input];
        p = m->p + e->offset;
    } else if (e->line != GRP_NO_LINE) {
        p = arena_get(&r->arenas[e->line >> ARENA_REF_BITS], e->line).p;
    } else {
        return;
    }
    /* A prefetch never faults, so the few bytes past a line's end that it
     * may reach need no bound. */
    for (size_t i = 0; i < ENG_LINE_PREFETCH; i += 64)
        __builtin_prefetch(p + i);
}

tg_str eng_event_extra(const eng_result *r, const grp_event *e)
{
    if (e->line == GRP_NO_LINE || grp_line_is_mapped(e->line))
        return TG_STR_NULL;
    tg_str s = arena_get(&r->arenas[e->line >> ARENA_REF_BITS], e->line);
    const char *nl = memchr(s.p, '\n', s.n);
    return nl ? tg_str_make(nl + 1, (size_t)(s.p + s.n - nl - 1)) : TG_STR_NULL;
}

void eng_result_free(eng_result *r)
{
    for (size_t i = 0; i < r->nvec; i++)
        free(r->vecs ? r->vecs[i] : NULL);
    for (size_t i = 0; i < r->narenas; i++)
        arena_free(&r->arenas[i]);
    free(r->vecs);
    free(r->lens);
    free(r->arenas);
    intern_free(&r->lbs);
    for (size_t i = 0; i < r->nparts; i++)
        grp_free(&r->parts[i]);
    free(r->parts);
    for (size_t i = 0; i < r->nmaps; i++)
        mapfile_close(&r->maps[i]);
    free(r->maps);
    memset(r, 0, sizeof *r);
}
