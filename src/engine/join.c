#include "engine/join.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

uint64_t join_key(const char *p, size_t n)
{
    /* FNV-1a, then a final mix: keys are short and already random. */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
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

int join_refs_move(join_refs *dst, join_refs *src)
{
    if (grow((void **)&dst->v, &dst->cap, dst->n + src->n, sizeof *dst->v) != 0)
        return -1;
    if (src->n)
        memcpy(dst->v + dst->n, src->v, src->n * sizeof *src->v);
    dst->n += src->n;
    join_refs_free(src);
    return 0;
}

int join_recs_move(join_recs *dst, join_recs *src)
{
    if (grow((void **)&dst->v, &dst->cap, dst->n + src->n, sizeof *dst->v) != 0)
        return -1;
    if (src->n)
        memcpy(dst->v + dst->n, src->v, src->n * sizeof *src->v);
    dst->n += src->n;
    join_recs_free(src);
    return 0;
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
