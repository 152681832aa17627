#include "engine/join.h"

#include "engine/engine.h"
#include "group/table.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/*
 * The key hash is wyhash (Wang Yi, public domain, final version 4), less
 * its three-lane loop for inputs over 48 bytes, a speed-up for long inputs
 * where the ids hashed here (TID_ and 32 hex digits, 56-character CloudFront
 * ids) are short. It mixes 16 bytes per 64x64->128-bit multiply, where
 * FNV-1a took a multiply per byte, and wyhash passes SMHasher, so a false
 * match still takes a 64-bit collision. Keys are read in the machine's byte
 * order: equal bytes get equal hashes within one process, which is all the
 * join needs, but not across machines.
 */
static const uint64_t wyp[4] = {0x2d358dccaa6c78a5ull, 0x8bb84b93962eacc9ull, 0x4b33a62ed433d4a3ull,
                                0x4d5a2da51de1aa47ull};

/* The 128-bit product of *a and *b: the low half into *a, the high into *b. */
static inline void wymum(uint64_t *a, uint64_t *b)
{
#ifdef __SIZEOF_INT128__
    __extension__ typedef unsigned __int128 u128;
    const u128 r = (u128)*a * *b;
    *a = (uint64_t)r;
    *b = (uint64_t)(r >> 64);
#else
    const uint64_t ha = *a >> 32, hb = *b >> 32, la = (uint32_t)*a, lb = (uint32_t)*b;
    const uint64_t rh = ha * hb, rm0 = ha * lb, rm1 = hb * la, rl = la * lb;
    const uint64_t t = rl + (rm0 << 32), lo = t + (rm1 << 32);
    *a = lo;
    *b = rh + (rm0 >> 32) + (rm1 >> 32) + (t < rl) + (lo < t);
#endif
}

/* The two halves of the 128-bit product of a and b, XOR-ed. */
static inline uint64_t wymix(uint64_t a, uint64_t b)
{
    wymum(&a, &b);
    return a ^ b;
}

static inline uint64_t rd64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t rd32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

uint64_t join_key(const char *p, size_t n)
{
    /* wyhash's seed 0 mixed with the secret, folded by the compiler. */
    uint64_t seed = wymix(wyp[0], wyp[1]);
    uint64_t a, b;
    if (n <= 16) {
        if (n >= 4) {
            /* Two 4-byte reads from each end, overlapping below 16 bytes. */
            const size_t q = (n >> 3) << 2;
            a = rd32(p) << 32 | rd32(p + q);
            b = rd32(p + n - 4) << 32 | rd32(p + n - 4 - q);
        } else if (n > 0) {
            a = (uint64_t)(unsigned char)p[0] << 16 | (uint64_t)(unsigned char)p[n >> 1] << 8 |
                (unsigned char)p[n - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = n;
        for (; i > 16; i -= 16, p += 16)
            seed = wymix(rd64(p) ^ wyp[1], rd64(p + 8) ^ seed);
        /* The last 16 bytes, overlapping those already mixed. */
        a = rd64(p + i - 16);
        b = rd64(p + i - 8);
    }
    a ^= wyp[1];
    b ^= seed;
    wymum(&a, &b);
    return wymix(a ^ wyp[0] ^ n, b ^ wyp[1]);
}

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *nv = realloc(*v, c * size);
    if (!nv)
        return -1;
    *v = nv;
    *cap = c;
    return 0;
}

/* The first block of a list holds this many entries. */
#define JOIN_BLOCK_MIN 16

/* The block the next entry of l goes in, for blocks of hdr bytes and then
 * entries of `size`: its tail, or a new block linked after it. NULL when
 * memory is short. */
static join_blk *list_room(join_list *l, size_t hdr, size_t size)
{
    join_blk *t = l->tail;
    if (t && t->n < t->cap)
        return t;
    uint32_t cap = t ? (t->cap < JOIN_BLOCK_MAX ? 2 * t->cap : JOIN_BLOCK_MAX) : JOIN_BLOCK_MIN;
    join_blk *b = malloc(hdr + (size_t)cap * size);
    if (!b)
        return NULL;
    b->next = NULL;
    b->n = 0;
    b->cap = cap;
    if (t)
        t->next = b;
    else
        l->head = b;
    l->tail = b;
    return b;
}

int join_add_ref(join_side *s, xray_root root, uint64_t key)
{
    join_list *l = &s->refs[join_part(key)];
    join_ref_blk *b = (join_ref_blk *)list_room(l, sizeof *b, sizeof *b->v);
    if (!b)
        return -1;
    b->v[b->h.n++] = (join_ref){root, key};
    l->n++;
    return 0;
}

int join_add_rec(join_side *s, const grp_event *e, uint64_t key)
{
    join_list *l = &s->recs[join_part(key)];
    join_rec_blk *b = (join_rec_blk *)list_room(l, sizeof *b, sizeof *b->v);
    if (!b)
        return -1;
    join_rec *o = &b->v[b->h.n++];
    o->key = key;
    o->start_us = e->start_us;
    o->end_us = e->end_us;
    o->offset = e->offset;
    o->line = e->line;
    o->input = e->input;
    o->status = e->status;
    o->format = e->format;
    o->lb = e->lb;
    l->n++;
    return 0;
}

size_t join_side_nrecs(const join_side *s)
{
    size_t n = 0;
    for (unsigned p = 0; p < JOIN_PARTS; p++)
        n += s->recs[p].n;
    return n;
}

static void list_free(join_list *l)
{
    for (join_blk *b = l->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    memset(l, 0, sizeof *l);
}

void join_side_free(join_side *s)
{
    for (unsigned p = 0; p < JOIN_PARTS; p++) {
        list_free(&s->recs[p]);
        list_free(&s->refs[p]);
    }
}

void join_side_move_refs(join_side *dst, join_side *src)
{
    /* The source's blocks are linked after the destination's: a list may
     * hold blocks that are not full. */
    for (unsigned p = 0; p < JOIN_PARTS; p++) {
        join_list *d = &dst->refs[p], *r = &src->refs[p];
        if (!r->head)
            continue;
        if (d->tail)
            d->tail->next = r->head;
        else
            d->head = r->head;
        d->tail = r->tail;
        d->n += r->n;
        memset(r, 0, sizeof *r);
    }
}

/* A key and its entry, sorted in place of the entry itself: 16 bytes move
 * where a record is 48. */
typedef struct join_slot {
    uint64_t key;
    const void *at;
} join_slot;

static int cmp_slot(const void *va, const void *vb)
{
    const join_slot *a = va, *b = vb;
    return a->key < b->key ? -1 : a->key > b->key;
}

/*
 * Sorts a[0..n) by key, with tmp (room for n) as scratch. The keys are
 * hashes: a comparison sort's log2(n) passes over the array (20 for a
 * million connection lines; qsort of the records themselves was a third
 * of a stats run over ALB and connection logs) become four passes of a
 * radix sort over the slots, one per byte of the high half of the key,
 * least significant first (a pass whose byte is the same in every key
 * moves nothing and is skipped). Slots that tie on that half are then put
 * in order by the whole key: among a million random keys, a few hundred.
 */
static void sort_slots(join_slot *a, join_slot *tmp, size_t n)
{
    size_t count[4][256] = {{0}};
    if (n < 2)
        return;
    for (size_t i = 0; i < n; i++)
        for (unsigned d = 0; d < 4; d++)
            count[d][a[i].key >> (32 + 8 * d) & 255]++;
    join_slot *src = a, *dst = tmp;
    for (unsigned d = 0; d < 4; d++) {
        const unsigned shift = 32 + 8 * d;
        size_t *c = count[d];
        if (c[src[0].key >> shift & 255] == n)
            continue;
        size_t sum = 0;
        for (unsigned b = 0; b < 256; b++) {
            size_t t = c[b];
            c[b] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[src[i].key >> shift & 255]++] = src[i];
        join_slot *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    for (size_t i = 0; i < n;) {
        size_t end = i + 1;
        bool mixed = false;
        while (end < n && a[end].key >> 32 == a[i].key >> 32) {
            mixed |= a[end].key != a[i].key;
            end++;
        }
        if (mixed)
            qsort(a + i, end - i, sizeof *a, cmp_slot);
        i = end;
    }
}

/* Joined events handed to emit at once, and how many slots ahead of the
 * merge walk the entries behind them are fetched. */
#define JOIN_BATCH 32
#define JOIN_AHEAD 8
_Static_assert(JOIN_BATCH <= GRP_BATCH, "emit_joined() hands a batch to grp_agg_add_batch()");

/* The order of records with one key: the first in input order is used. */
static bool rec_before(const join_rec *a, const join_rec *b)
{
    if (a->input != b->input)
        return a->input < b->input;
    return a->offset < b->offset;
}

/* The event of record r joined to the trace of root. */
static grp_event rec_event(const join_rec *r, xray_root root)
{
    grp_event e = {.root = root, .start_us = r->start_us, .end_us = r->end_us,
                   .offset = r->offset, .line = r->line, .input = r->input,
                   .status = r->status, .format = r->format, .lb = r->lb};
    return e;
}

/* What a thread reuses from one partition to the next: slot arrays as
 * large as the largest partition it joined, and the roots of one key. */
typedef struct join_scratch {
    join_slot *rs, *fs, *tmp;
    size_t rs_cap, fs_cap, tmp_cap;
    xray_root *roots;
    size_t roots_cap;
} join_scratch;

static void scratch_free(join_scratch *sc)
{
    free(sc->rs);
    free(sc->fs);
    free(sc->tmp);
    free(sc->roots);
}

/* Partition p's slots of every side's records (or references, refs), in
 * sc->rs (sc->fs), sorted by key; their number goes to *n. Returns 0, or -1
 * when memory is short. */
static int part_slots(join_side *const *sides, unsigned nsides, unsigned p, bool refs,
                      join_scratch *sc, size_t *n)
{
    size_t k = 0;
    for (unsigned s = 0; s < nsides; s++)
        k += refs ? sides[s]->refs[p].n : sides[s]->recs[p].n;
    join_slot **v = refs ? &sc->fs : &sc->rs;
    if (grow((void **)v, refs ? &sc->fs_cap : &sc->rs_cap, k, sizeof **v) != 0 ||
        grow((void **)&sc->tmp, &sc->tmp_cap, k, sizeof *sc->tmp) != 0)
        return -1;
    join_slot *o = *v;
    for (unsigned s = 0; s < nsides; s++) {
        if (refs) {
            for (const join_blk *h = sides[s]->refs[p].head; h; h = h->next) {
                const join_ref_blk *b = (const join_ref_blk *)h;
                for (uint32_t i = 0; i < h->n; i++)
                    *o++ = (join_slot){b->v[i].key, &b->v[i]};
            }
        } else {
            for (const join_blk *h = sides[s]->recs[p].head; h; h = h->next) {
                const join_rec_blk *b = (const join_rec_blk *)h;
                for (uint32_t i = 0; i < h->n; i++)
                    *o++ = (join_slot){b->v[i].key, &b->v[i]};
            }
        }
    }
    sort_slots(*v, sc->tmp, k);
    *n = k;
    return 0;
}

/* Joins partition p of the sides, handing its events to emit; *joined and
 * *unmatched are added to. Returns 0, or -1 when memory is short or emit
 * failed. */
static int join_one(join_side *const *sides, unsigned nsides, unsigned p, join_scratch *sc,
                    join_emit_fn emit, void *ctx, uint64_t *joined, uint64_t *unmatched)
{
    size_t nrec = 0, nref = 0;
    for (unsigned s = 0; s < nsides; s++) {
        nrec += sides[s]->recs[p].n;
        nref += sides[s]->refs[p].n;
    }
    if (nrec == 0)
        return 0; /* nothing to join: the references cost no sort */
    if (nref == 0) {
        *unmatched += nrec; /* and the records none */
        return 0;
    }
    if (part_slots(sides, nsides, p, false, sc, &nrec) != 0 ||
        part_slots(sides, nsides, p, true, sc, &nref) != 0)
        return -1;
    const join_slot *rs = sc->rs, *fs = sc->fs;
    /* Events are emitted in batches, which the aggregate adds faster. */
    grp_event batch[JOIN_BATCH];
    size_t nbatch = 0;
    /* Both sorted by key: one merge walk. The entries behind the slots are
     * in input order, so they are asked for ahead. */
    size_t i = 0, j = 0;
    while (i < nrec) {
        if (i + JOIN_AHEAD < nrec)
            __builtin_prefetch(rs[i + JOIN_AHEAD].at);
        if (j + JOIN_AHEAD < nref)
            __builtin_prefetch(fs[j + JOIN_AHEAD].at);
        const uint64_t key = rs[i].key;
        const join_rec *rec = rs[i].at;
        size_t next = i + 1;
        for (; next < nrec && rs[next].key == key; next++)
            if (rec_before(rs[next].at, rec))
                rec = rs[next].at;
        while (j < nref && fs[j].key < key)
            j++;
        size_t end = j;
        while (end < nref && fs[end].key == key)
            end++;
        /* The roots that named the key, sorted to emit each trace once
         * and in the same order whatever order the workers found them in. */
        if (grow((void **)&sc->roots, &sc->roots_cap, end - j, sizeof *sc->roots) != 0)
            return -1;
        xray_root *roots = sc->roots;
        for (size_t k = j; k < end; k++)
            roots[k - j] = ((const join_ref *)fs[k].at)->root;
        if (end - j > 1)
            qsort(roots, end - j, sizeof *roots, xray_root_cmp);
        for (size_t k = 0; k < end - j; k++) {
            if (k > 0 && xray_root_eq(roots[k - 1], roots[k]))
                continue; /* once per trace */
            batch[nbatch] = rec_event(rec, roots[k]);
            if (++nbatch == JOIN_BATCH) {
                if (emit(ctx, batch, nbatch) != 0)
                    return -1;
                *joined += nbatch;
                nbatch = 0;
            }
        }
        /* Duplicates of a used key count as matched too. */
        if (end == j)
            *unmatched += next - i;
        i = next;
        j = end;
    }
    if (nbatch) {
        if (emit(ctx, batch, nbatch) != 0)
            return -1;
        *joined += nbatch;
    }
    return 0;
}

/*
 * Several threads: each takes the next partition and joins it, the calling
 * thread handing the events on in partition order. A partition taken in
 * its turn is emitted as it is joined; one taken ahead keeps its events in
 * memory until its turn, and no thread runs more than JOIN_WINDOW
 * partitions ahead of the one emitted, which bounds that memory to a few
 * partitions' events.
 */
#define JOIN_WINDOW 8

/* Below this many records, one thread joins them all: starting another
 * would cost more than it saves. */
#define JOIN_PARALLEL_MIN 16384

/* A partition joined ahead of its turn. */
typedef struct join_ahead {
    grp_event *v;
    size_t n, cap;
    uint64_t joined, unmatched;
    int state; /* 0: not joined yet; 1: joined; -1: failed (memory) */
} join_ahead;

typedef struct join_run {
    join_side *const *sides;
    unsigned nsides;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned next;    /* the next partition to take */
    unsigned emitted; /* partitions whose events were handed on */
    bool stop;
    join_ahead ahead[JOIN_PARTS];
} join_run;

static int keep_events(void *ctx, const grp_event *e, size_t n)
{
    join_ahead *a = ctx;
    if (grow((void **)&a->v, &a->cap, a->n + n, sizeof *a->v) != 0)
        return -1;
    memcpy(a->v + a->n, e, n * sizeof *e);
    a->n += n;
    return 0;
}

/* True when the thread holding r->mu may take partition r->next. */
static bool may_take(const join_run *r)
{
    return !r->stop && r->next < JOIN_PARTS && r->next < r->emitted + JOIN_WINDOW;
}

static void *helper_main(void *arg)
{
    join_run *r = arg;
    join_scratch sc = {0};
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->stop && r->next < JOIN_PARTS && !may_take(r))
            pthread_cond_wait(&r->cv, &r->mu);
        if (!may_take(r))
            break;
        join_ahead *a = &r->ahead[r->next++];
        pthread_mutex_unlock(&r->mu);
        unsigned p = (unsigned)(a - r->ahead);
        int rc = join_one(r->sides, r->nsides, p, &sc, keep_events, a, &a->joined, &a->unmatched);
        pthread_mutex_lock(&r->mu);
        a->state = rc == 0 ? 1 : -1;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    scratch_free(&sc);
    return NULL;
}

/* Hands a partition joined ahead on, in batches. */
static int emit_ahead(join_ahead *a, join_emit_fn emit, void *ctx, uint64_t *joined,
                      uint64_t *unmatched)
{
    *unmatched += a->unmatched;
    for (size_t i = 0; i < a->n; i += JOIN_BATCH) {
        size_t m = a->n - i < JOIN_BATCH ? a->n - i : JOIN_BATCH;
        if (emit(ctx, a->v + i, m) != 0)
            return -1;
        *joined += m;
    }
    return 0;
}

/* The calling thread's part: it joins partitions too, and hands every
 * partition's events on in order. */
static int run_caller(join_run *r, join_scratch *sc, join_emit_fn emit, void *ctx,
                      uint64_t *joined, uint64_t *unmatched)
{
    int rc = 0;
    pthread_mutex_lock(&r->mu);
    while (rc == 0 && r->emitted < JOIN_PARTS) {
        join_ahead *a = &r->ahead[r->emitted];
        if (a->state != 0) {
            pthread_mutex_unlock(&r->mu);
            rc = a->state < 0 ? -1 : emit_ahead(a, emit, ctx, joined, unmatched);
            free(a->v);
            a->v = NULL;
            pthread_mutex_lock(&r->mu);
        } else if (may_take(r)) {
            unsigned p = r->next++;
            pthread_mutex_unlock(&r->mu);
            if (p == r->emitted) {
                rc = join_one(r->sides, r->nsides, p, sc, emit, ctx, joined, unmatched);
            } else {
                join_ahead *b = &r->ahead[p];
                int brc = join_one(r->sides, r->nsides, p, sc, keep_events, b, &b->joined,
                                   &b->unmatched);
                pthread_mutex_lock(&r->mu);
                b->state = brc == 0 ? 1 : -1;
                continue;
            }
            pthread_mutex_lock(&r->mu);
        } else {
            pthread_cond_wait(&r->cv, &r->mu);
            continue;
        }
        /* Partition r->emitted was handed on: the window moves. */
        r->emitted++;
        pthread_cond_broadcast(&r->cv);
    }
    r->stop = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int join_resolve(join_side *const *sides, unsigned nsides, unsigned threads, join_emit_fn emit,
                 void *ctx, uint64_t *joined, uint64_t *unmatched)
{
    *joined = 0;
    *unmatched = 0;
    size_t nrec = 0;
    for (unsigned s = 0; s < nsides; s++)
        nrec += join_side_nrecs(sides[s]);
    if (nrec == 0)
        return 0;
    join_scratch sc = {0};
    int rc = 0;
    if (threads <= 1 || nrec < JOIN_PARALLEL_MIN) {
        for (unsigned p = 0; p < JOIN_PARTS && rc == 0; p++)
            rc = join_one(sides, nsides, p, &sc, emit, ctx, joined, unmatched);
        scratch_free(&sc);
        return rc;
    }
    join_run *r = calloc(1, sizeof *r);
    pthread_t *th = calloc(threads - 1, sizeof *th);
    if (!r || !th) {
        free(r);
        free(th);
        return -1;
    }
    r->sides = sides;
    r->nsides = nsides;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    unsigned started = 0;
    while (started < threads - 1 && pthread_create(&th[started], NULL, helper_main, r) == 0)
        started++;
    rc = run_caller(r, &sc, emit, ctx, joined, unmatched); /* alone, it joins them all */
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    for (unsigned p = 0; p < JOIN_PARTS; p++)
        free(r->ahead[p].v);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(th);
    free(r);
    scratch_free(&sc);
    return rc;
}
