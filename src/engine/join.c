#include "engine/join.h"

#include <stdbool.h>
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

/* Records by key, then input order: the first of equal keys is used. */
static int cmp_rec(const void *va, const void *vb)
{
    const join_rec *a = va, *b = vb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->e.input != b->e.input)
        return a->e.input < b->e.input ? -1 : 1;
    return a->e.offset < b->e.offset ? -1 : a->e.offset > b->e.offset;
}

static int cmp_ref(const void *va, const void *vb)
{
    const join_ref *a = va, *b = vb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->root.hi != b->root.hi)
        return a->root.hi < b->root.hi ? -1 : 1;
    return a->root.lo < b->root.lo ? -1 : a->root.lo > b->root.lo;
}

int join_resolve(join_recs *recs, join_refs *refs, join_emit_fn emit, void *ctx,
                 uint64_t *joined, uint64_t *unmatched)
{
    *joined = 0;
    *unmatched = 0;
    if (recs->n == 0)
        return 0; /* nothing to join: the references cost no sort */
    qsort(recs->v, recs->n, sizeof *recs->v, cmp_rec);
    if (refs->n) /* qsort must not see the NULL of an empty vector */
        qsort(refs->v, refs->n, sizeof *refs->v, cmp_ref);
    /* Both sorted by key: one merge walk. */
    size_t i = 0, j = 0;
    while (i < recs->n) {
        const join_rec *rec = &recs->v[i];
        size_t next = i + 1;
        while (next < recs->n && recs->v[next].key == rec->key)
            next++;
        while (j < refs->n && refs->v[j].key < rec->key)
            j++;
        bool used = false;
        for (; j < refs->n && refs->v[j].key == rec->key; j++) {
            if (j > 0 && refs->v[j - 1].key == rec->key &&
                xray_root_eq(refs->v[j - 1].root, refs->v[j].root))
                continue; /* once per trace */
            grp_event e = rec->e;
            e.root = refs->v[j].root;
            if (emit(ctx, &e) != 0)
                return -1;
            (*joined)++;
            used = true;
        }
        /* Duplicates of a used key count as matched too. */
        if (!used)
            *unmatched += next - i;
        i = next;
    }
    return 0;
}
