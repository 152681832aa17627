/*
 * Unit tests of engine/join: which record a key's references get (the
 * first in input order), once per trace, in an order that does not depend
 * on the order the workers found things in, and what counts as unmatched.
 * A reference implementation (every pair compared) checks random vectors
 * with many shared keys, spread over every byte or over only some.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/join.h"

/* What emit saw, in order. */
typedef struct seen {
    grp_event *v;
    size_t n, cap;
    size_t calls;
    size_t fail_after; /* emit fails once this many events were seen */
} seen;

static int collect(void *ctx, const grp_event *e, size_t n)
{
    seen *s = ctx;
    s->calls++;
    cr_assert(n > 0 && n <= 32, "a batch of %zu", n);
    if (s->n + n > s->fail_after)
        return -1;
    if (s->n + n > s->cap) {
        s->cap = (s->n + n) * 2;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        cr_assert_not_null(s->v);
    }
    memcpy(s->v + s->n, e, n * sizeof *e);
    s->n += n;
    return 0;
}

static xray_root root(uint64_t hi, uint64_t lo)
{
    xray_root r = {.hi = hi, .lo = lo};
    return r;
}

static void add_rec(join_recs *r, uint64_t key, uint32_t input, uint64_t offset)
{
    grp_event e;
    memset(&e, 0, sizeof e);
    e.input = input;
    e.offset = offset;
    e.start_us = (int64_t)offset;
    e.end_us = (int64_t)offset + 1;
    e.format = GRP_FMT_ALB_CONN;
    cr_assert_eq(join_recs_push(r, &e, key), 0);
}

Test(join, first_record_in_input_order_once_per_trace)
{
    join_recs recs = {0};
    join_refs refs = {0};
    /* Key 7 has three records; the first in input order is input 1,
     * offset 50, though it was found last. Key 9 has one, key 11 two and
     * no reference. */
    add_rec(&recs, 7, 2, 10);
    add_rec(&recs, 7, 1, 90);
    add_rec(&recs, 9, 0, 5);
    add_rec(&recs, 11, 3, 1);
    add_rec(&recs, 11, 3, 2);
    add_rec(&recs, 7, 1, 50);
    /* Three traces name key 7, one of them twice; one names key 9 and a
     * key with no record. */
    cr_assert_eq(join_refs_push(&refs, root(5, 5), 7), 0);
    cr_assert_eq(join_refs_push(&refs, root(2, 9), 7), 0);
    cr_assert_eq(join_refs_push(&refs, root(5, 5), 7), 0);
    cr_assert_eq(join_refs_push(&refs, root(2, 1), 7), 0);
    cr_assert_eq(join_refs_push(&refs, root(8, 8), 9), 0);
    cr_assert_eq(join_refs_push(&refs, root(8, 8), 12345), 0);

    seen s = {.fail_after = SIZE_MAX};
    uint64_t joined = 99, unmatched = 99;
    cr_assert_eq(join_resolve(&recs, &refs, collect, &s, &joined, &unmatched), 0);
    cr_assert_eq(joined, 4);
    cr_assert_eq(unmatched, 2, "both records of key 11");
    cr_assert_eq(s.n, 4);
    /* By key, then by root. */
    const xray_root want[] = {root(2, 1), root(2, 9), root(5, 5), root(8, 8)};
    for (size_t i = 0; i < 4; i++)
        cr_expect(xray_root_eq(s.v[i].root, want[i]), "event %zu", i);
    for (size_t i = 0; i < 3; i++) {
        cr_expect_eq(s.v[i].input, 1, "event %zu", i);
        cr_expect_eq(s.v[i].offset, 50, "event %zu", i);
        cr_expect_eq(s.v[i].format, GRP_FMT_ALB_CONN);
    }
    cr_expect_eq(s.v[3].offset, 5);
    /* The vectors themselves are left as they were. */
    cr_expect_eq(recs.v[0].e.offset, 10);
    cr_expect(xray_root_eq(refs.v[1].root, root(2, 9)));
    free(s.v);
    join_recs_free(&recs);
    join_refs_free(&refs);
}

Test(join, nothing_to_join)
{
    join_recs recs = {0};
    join_refs refs = {0};
    seen s = {.fail_after = SIZE_MAX};
    uint64_t joined = 99, unmatched = 99;
    cr_assert_eq(join_resolve(&recs, &refs, collect, &s, &joined, &unmatched), 0);
    cr_expect_eq(joined + unmatched + s.calls, 0);
    /* Records and no reference: every record is unmatched. */
    add_rec(&recs, 1, 0, 0);
    add_rec(&recs, 1, 0, 1);
    add_rec(&recs, 2, 0, 2);
    cr_assert_eq(join_resolve(&recs, &refs, collect, &s, &joined, &unmatched), 0);
    cr_expect_eq(joined, 0);
    cr_expect_eq(unmatched, 3);
    cr_expect_eq(s.calls, 0);
    join_recs_free(&recs);
}

/* ---- random vectors against a reference ------------------------------ */

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static bool rec_first(const join_rec *a, const join_rec *b)
{
    return a->e.input != b->e.input ? a->e.input < b->e.input : a->e.offset < b->e.offset;
}

static int cmp_pair(const void *va, const void *vb)
{
    const join_ref *a = va, *b = vb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->root.hi != b->root.hi)
        return a->root.hi < b->root.hi ? -1 : 1;
    return a->root.lo < b->root.lo ? -1 : a->root.lo > b->root.lo;
}

/* The join spelled out: the distinct (key, root) pairs in order, each with
 * the first record of its key, found by a scan of all records. */
static void reference(const join_recs *recs, const join_refs *refs, seen *out,
                      uint64_t *unmatched)
{
    join_ref *p = malloc((refs->n + 1) * sizeof *p);
    memcpy(p, refs->v, refs->n * sizeof *p);
    qsort(p, refs->n, sizeof *p, cmp_pair);
    for (size_t i = 0; i < refs->n; i++) {
        if (i > 0 && cmp_pair(&p[i - 1], &p[i]) == 0)
            continue;
        const join_rec *best = NULL;
        for (size_t k = 0; k < recs->n; k++)
            if (recs->v[k].key == p[i].key && (!best || rec_first(&recs->v[k], best)))
                best = &recs->v[k];
        if (!best)
            continue;
        grp_event e = best->e;
        e.root = p[i].root;
        cr_assert_eq(collect(out, &e, 1), 0);
    }
    *unmatched = 0;
    for (size_t k = 0; k < recs->n; k++) {
        bool named = false;
        for (size_t i = 0; i < refs->n && !named; i++)
            named = refs->v[i].key == recs->v[k].key;
        *unmatched += !named;
    }
    free(p);
}

/* How a case's keys spread: over all 64 bits (every pass of the sort);
 * their high halves drawn from 16 values (most slots tie on the half the
 * passes sort by, and are put in order after); the top byte 0 in most
 * keys, random in the others; or only one byte of the high half varying
 * (the other passes skipped). */
enum { KEYS_RANDOM, KEYS_FEW_HIGH, KEYS_SKEWED, KEYS_ONE_BYTE, KEYS_SPREADS };

static void random_case(uint64_t seed, size_t nrec, size_t nref, uint64_t nkeys, int spread)
{
    join_recs recs = {0};
    join_refs refs = {0};
    /* Keys come from a small set, so that keys repeat among records and
     * among references. */
    uint64_t *keys = malloc(nkeys * sizeof *keys);
    for (uint64_t k = 0; k < nkeys; k++) {
        uint64_t r = rng(&seed);
        keys[k] = spread == KEYS_RANDOM     ? r
                  : spread == KEYS_FEW_HIGH ? (r % 16) << 40 | (uint32_t)(r >> 7)
                  : spread == KEYS_SKEWED   ? (r % 5 < 3 ? r >> 8 : r)
                                            : (r & 0xff) << 48 | (r >> 40);
    }
    for (size_t i = 0; i < nrec; i++)
        add_rec(&recs, keys[rng(&seed) % nkeys], (uint32_t)(rng(&seed) % 5),
                rng(&seed) % 1000000);
    for (size_t i = 0; i < nref; i++)
        cr_assert_eq(join_refs_push(&refs, root(rng(&seed) % 4, rng(&seed) % 3),
                                    keys[rng(&seed) % nkeys]),
                     0);

    seen want = {.fail_after = SIZE_MAX}, got = {.fail_after = SIZE_MAX};
    uint64_t want_unmatched, joined, unmatched;
    reference(&recs, &refs, &want, &want_unmatched);
    cr_assert_eq(join_resolve(&recs, &refs, collect, &got, &joined, &unmatched), 0);
    cr_assert_eq(got.n, want.n, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(joined, want.n);
    cr_assert_eq(unmatched, want_unmatched);
    cr_assert(got.n > 0);
    for (size_t i = 0; i < got.n; i++)
        cr_assert_eq(memcmp(&got.v[i], &want.v[i], sizeof got.v[i]), 0, "event %zu of %zu", i,
                     got.n);
    /* Found in another order (other workers, other timing), the same. */
    for (size_t i = recs.n; i > 1; i--) {
        size_t k = rng(&seed) % i;
        join_rec t = recs.v[i - 1];
        recs.v[i - 1] = recs.v[k];
        recs.v[k] = t;
    }
    for (size_t i = refs.n; i > 1; i--) {
        size_t k = rng(&seed) % i;
        join_ref t = refs.v[i - 1];
        refs.v[i - 1] = refs.v[k];
        refs.v[k] = t;
    }
    seen again = {.fail_after = SIZE_MAX};
    cr_assert_eq(join_resolve(&recs, &refs, collect, &again, &joined, &unmatched), 0);
    cr_assert_eq(again.n, got.n);
    cr_assert_eq(memcmp(again.v, got.v, got.n * sizeof *got.v), 0);
    cr_assert_eq(unmatched, want_unmatched);
    free(again.v);
    free(keys);
    free(want.v);
    free(got.v);
    join_recs_free(&recs);
    join_refs_free(&refs);
}

Test(join, random_vectors_match_the_reference)
{
    for (uint64_t seed = 1; seed <= 20; seed++)
        random_case(seed * 0x9e3779b97f4a7c15u, 3000, 3000, 400 + seed * 50,
                    (int)(seed % KEYS_SPREADS));
    /* Fewer references than records, and the other way round. */
    random_case(77, 5000, 40, 3000, KEYS_RANDOM);
    random_case(78, 40, 5000, 30, KEYS_RANDOM);
}

Test(join, emit_failure_stops)
{
    join_recs recs = {0};
    join_refs refs = {0};
    for (uint64_t k = 0; k < 100; k++) {
        add_rec(&recs, k, 0, k);
        cr_assert_eq(join_refs_push(&refs, root(k, k), k), 0);
    }
    seen s = {.fail_after = 40};
    uint64_t joined, unmatched;
    cr_assert_eq(join_resolve(&recs, &refs, collect, &s, &joined, &unmatched), -1);
    cr_expect_leq(s.n, 40);
    free(s.v);
    join_recs_free(&recs);
    join_refs_free(&refs);
}
