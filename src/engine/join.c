#include "engine/join.h"

#include "engine/engine.h" /* xray_root_cmp() */
#include "group/table.h"

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

int join_refs_push(join_refs *r, xray_root root, uint64_t key)
{
    if (grow((void **)&r->v, &r->cap, r->n + 1, sizeof *r->v) != 0)
        return -1;
    r->v[r->n].root = root;
    r->v[r->n].key = key;
    r->n++;
    return 0;
}

int join_recs_push(join_recs *r, const grp_event *e, uint64_t key)
{
    if (grow((void **)&r->v, &r->cap, r->n + 1, sizeof *r->v) != 0)
        return -1;
    r->v[r->n].e = *e;
    r->v[r->n].key = key;
    r->n++;
    return 0;
}

void join_refs_free(join_refs *r)
{
    free(r->v);
    memset(r, 0, sizeof *r);
}

void join_recs_free(join_recs *r)
{
    free(r->v);
    memset(r, 0, sizeof *r);
}

/* Appends the vector (*sv, *sn, *scap) of elements of size `size` to
 * (*dv, *dn, *dcap) and leaves the source empty; an empty destination takes
 * the source's array over instead of copying it. On failure (memory) both
 * are left as they were. */
static int move_vec(void **dv, size_t *dn, size_t *dcap, void **sv, size_t *sn, size_t *scap,
                    size_t size)
{
    if (*dn == 0) {
        free(*dv);
        *dv = *sv;
        *dn = *sn;
        *dcap = *scap;
    } else {
        if (grow(dv, dcap, *dn + *sn, size) != 0)
            return -1;
        if (*sn)
            memcpy((char *)*dv + *dn * size, *sv, *sn * size);
        *dn += *sn;
        free(*sv);
    }
    *sv = NULL;
    *sn = *scap = 0;
    return 0;
}

int join_refs_move(join_refs *dst, join_refs *src)
{
    return move_vec((void **)&dst->v, &dst->n, &dst->cap, (void **)&src->v, &src->n, &src->cap,
                    sizeof *src->v);
}

int join_recs_move(join_recs *dst, join_recs *src)
{
    return move_vec((void **)&dst->v, &dst->n, &dst->cap, (void **)&src->v, &src->n, &src->cap,
                    sizeof *src->v);
}

/* A key and the index of its entry, sorted in place of the entry itself:
 * 16 bytes move where a record is 64. */
typedef struct join_slot {
    uint64_t key;
    uint64_t idx;
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
    if (a->e.input != b->e.input)
        return a->e.input < b->e.input;
    return a->e.offset < b->e.offset;
}

/* The slots of n (at least 1) entries of `size` bytes whose key is at
 * key_at, sorted by key; NULL when memory is short. */
static join_slot *sorted_slots(const void *v, size_t n, size_t size, size_t key_at,
                               join_slot *tmp)
{
    join_slot *s = malloc(n * sizeof *s);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        memcpy(&s[i].key, (const char *)v + i * size + key_at, sizeof s[i].key);
        s[i].idx = i;
    }
    sort_slots(s, tmp, n);
    return s;
}

int join_resolve(join_recs *recs, join_refs *refs, join_emit_fn emit, void *ctx,
                 uint64_t *joined, uint64_t *unmatched)
{
    *joined = 0;
    *unmatched = 0;
    if (recs->n == 0)
        return 0; /* nothing to join: the references cost no sort */
    if (refs->n == 0) {
        *unmatched = recs->n; /* and the records none */
        return 0;
    }
    const size_t nrec = recs->n, nref = refs->n;
    join_slot *tmp = malloc((nrec > nref ? nrec : nref) * sizeof *tmp);
    join_slot *rs = tmp ? sorted_slots(recs->v, nrec, sizeof *recs->v,
                                       offsetof(join_rec, key), tmp)
                        : NULL;
    join_slot *fs = rs ? sorted_slots(refs->v, nref, sizeof *refs->v,
                                      offsetof(join_ref, key), tmp)
                       : NULL;
    free(tmp);
    /* The roots that named one key, sorted to emit each trace once and in
     * the same order whatever order the workers found them in. */
    xray_root *roots = NULL;
    size_t roots_cap = 0;
    /* Events are emitted in batches, which the aggregate adds faster. */
    grp_event batch[JOIN_BATCH];
    size_t nbatch = 0;
    int rc = fs ? 0 : -1;
    /* Both sorted by key: one merge walk. The entries behind the slots are
     * in input order, so each is a cache miss: they are asked for ahead. */
    size_t i = 0, j = 0;
    while (rc == 0 && i < nrec) {
        if (i + JOIN_AHEAD < nrec)
            __builtin_prefetch(&recs->v[rs[i + JOIN_AHEAD].idx]);
        if (j + JOIN_AHEAD < nref)
            __builtin_prefetch(&refs->v[fs[j + JOIN_AHEAD].idx]);
        const uint64_t key = rs[i].key;
        const join_rec *rec = &recs->v[rs[i].idx];
        size_t next = i + 1;
        for (; next < nrec && rs[next].key == key; next++)
            if (rec_before(&recs->v[rs[next].idx], rec))
                rec = &recs->v[rs[next].idx];
        while (j < nref && fs[j].key < key)
            j++;
        size_t end = j;
        while (end < nref && fs[end].key == key)
            end++;
        if (grow((void **)&roots, &roots_cap, end - j, sizeof *roots) != 0) {
            rc = -1;
            break;
        }
        for (size_t k = j; k < end; k++)
            roots[k - j] = refs->v[fs[k].idx].root;
        if (end - j > 1)
            qsort(roots, end - j, sizeof *roots, xray_root_cmp);
        for (size_t k = 0; k < end - j; k++) {
            if (k > 0 && xray_root_eq(roots[k - 1], roots[k]))
                continue; /* once per trace */
            batch[nbatch] = rec->e;
            batch[nbatch].root = roots[k];
            if (++nbatch == JOIN_BATCH) {
                if (emit(ctx, batch, nbatch) != 0) {
                    rc = -1;
                    break;
                }
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
    if (rc == 0 && nbatch) {
        rc = emit(ctx, batch, nbatch) != 0 ? -1 : 0;
        if (rc == 0)
            *joined += nbatch;
    }
    free(roots);
    free(rs);
    free(fs);
    return rc;
}
