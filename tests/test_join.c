/*
 * Unit tests of engine/join: which record a key's references get (the
 * first in input order), once per trace, in an order that does not depend
 * on the order the workers found things in, on how many workers found them
 * or on how many threads join them, and what counts as unmatched. A
 * reference implementation checks random cases with many shared keys,
 * spread over every partition and byte of the key or over only some.
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

/* A record as a test keeps it: the event join_add_rec() is given. */
typedef struct test_rec {
    grp_event e;
    uint64_t key;
} test_rec;

/* A case: records and references as the workers found them, in one list
 * each; run() deals them out to the workers' sides. */
typedef struct join_case {
    test_rec *recs;
    join_ref *refs;
    size_t nrec, nref, cap_rec, cap_ref;
} join_case;

static void add_rec(join_case *c, uint64_t key, uint32_t input, uint64_t offset)
{
    if (c->nrec == c->cap_rec) {
        c->cap_rec = c->cap_rec ? 2 * c->cap_rec : 64;
        c->recs = realloc(c->recs, c->cap_rec * sizeof *c->recs);
        cr_assert_not_null(c->recs);
    }
    test_rec *r = &c->recs[c->nrec++];
    memset(r, 0, sizeof *r);
    r->e.input = input;
    r->e.offset = offset;
    r->e.start_us = (int64_t)offset;
    r->e.end_us = (int64_t)offset + 1;
    /* Every field the joined event carries, set, to be found again. */
    r->e.line = offset * 3 + 1;
    r->e.status = offset % 600;
    r->e.format = offset % 2 ? GRP_FMT_ALB_CONN : GRP_FMT_CLOUDFRONT;
    r->e.lb = (uint16_t)(input + 7);
    r->key = key;
}

static void add_ref(join_case *c, xray_root rt, uint64_t key)
{
    if (c->nref == c->cap_ref) {
        c->cap_ref = c->cap_ref ? 2 * c->cap_ref : 64;
        c->refs = realloc(c->refs, c->cap_ref * sizeof *c->refs);
        cr_assert_not_null(c->refs);
    }
    c->refs[c->nref++] = (join_ref){rt, key};
}

static void case_free(join_case *c)
{
    free(c->recs);
    free(c->refs);
}

#define MAX_SIDES 4

/* Joins c with its entries dealt out to nsides workers in turn, with
 * `threads` threads; returns join_resolve()'s result. */
static int run(const join_case *c, unsigned nsides, unsigned threads, seen *out,
               uint64_t *joined, uint64_t *unmatched)
{
    join_side sides[MAX_SIDES];
    join_side *ps[MAX_SIDES];
    memset(sides, 0, sizeof sides);
    for (unsigned i = 0; i < nsides; i++)
        ps[i] = &sides[i];
    for (size_t i = 0; i < c->nrec; i++)
        cr_assert_eq(join_add_rec(&sides[i % nsides], &c->recs[i].e, c->recs[i].key), 0);
    for (size_t i = 0; i < c->nref; i++)
        cr_assert_eq(join_add_ref(&sides[(i * 7 + 1) % nsides], c->refs[i].root, c->refs[i].key),
                     0);
    int rc = join_resolve(ps, nsides, threads, collect, out, joined, unmatched);
    /* The sides themselves are left as they were. */
    size_t nrec = 0;
    for (unsigned i = 0; i < nsides; i++) {
        nrec += join_side_nrecs(&sides[i]);
        join_side_free(&sides[i]);
    }
    cr_assert_eq(nrec, c->nrec);
    return rc;
}

Test(join, first_record_in_input_order_once_per_trace)
{
    join_case c = {0};
    /* Key 7 has three records; the first in input order is input 1,
     * offset 50, though it was found last. Key 9 has one, key 11 two and
     * no reference. */
    add_rec(&c, 7, 2, 10);
    add_rec(&c, 7, 1, 90);
    add_rec(&c, 9, 0, 5);
    add_rec(&c, 11, 3, 1);
    add_rec(&c, 11, 3, 2);
    add_rec(&c, 7, 1, 50);
    /* Three traces name key 7, one of them twice; one names key 9 and a
     * key with no record. */
    add_ref(&c, root(5, 5), 7);
    add_ref(&c, root(2, 9), 7);
    add_ref(&c, root(5, 5), 7);
    add_ref(&c, root(2, 1), 7);
    add_ref(&c, root(8, 8), 9);
    add_ref(&c, root(8, 8), 12345);
    for (unsigned nsides = 1; nsides <= 3; nsides++) {
        seen s = {.fail_after = SIZE_MAX};
        uint64_t joined = 99, unmatched = 99;
        cr_assert_eq(run(&c, nsides, nsides, &s, &joined, &unmatched), 0);
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
            /* The record's fields, carried over (add_rec()). */
            cr_expect_eq(s.v[i].format, GRP_FMT_CLOUDFRONT);
            cr_expect_eq(s.v[i].line, 151);
            cr_expect_eq(s.v[i].status, 50);
            cr_expect_eq(s.v[i].lb, 8);
            cr_expect_eq(s.v[i].end_us, 51);
        }
        cr_expect_eq(s.v[3].offset, 5);
        free(s.v);
    }
    case_free(&c);
}

Test(join, nothing_to_join)
{
    join_case c = {0};
    seen s = {.fail_after = SIZE_MAX};
    uint64_t joined = 99, unmatched = 99;
    cr_assert_eq(run(&c, 1, 1, &s, &joined, &unmatched), 0);
    cr_expect_eq(joined + unmatched + s.calls, 0);
    /* Records and no reference: every record is unmatched. */
    add_rec(&c, 1, 0, 0);
    add_rec(&c, 1, 0, 1);
    add_rec(&c, 2, 0, 2);
    add_rec(&c, UINT64_MAX, 0, 3);
    cr_assert_eq(run(&c, 2, 2, &s, &joined, &unmatched), 0);
    cr_expect_eq(joined, 0);
    cr_expect_eq(unmatched, 4);
    cr_expect_eq(s.calls, 0);
    case_free(&c);
}

/* ---- random vectors against a reference ------------------------------ */

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int cmp_rec(const void *va, const void *vb)
{
    const test_rec *a = va, *b = vb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->e.input != b->e.input)
        return a->e.input < b->e.input ? -1 : 1;
    return a->e.offset < b->e.offset ? -1 : a->e.offset > b->e.offset;
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

/* The join spelled out with qsort and a merge: the distinct (key, root)
 * pairs in order, each with the first record of its key in input order. */
static void reference(const join_case *c, seen *out, uint64_t *unmatched)
{
    test_rec *r = malloc((c->nrec + 1) * sizeof *r);
    join_ref *p = malloc((c->nref + 1) * sizeof *p);
    memcpy(r, c->recs, c->nrec * sizeof *r);
    memcpy(p, c->refs, c->nref * sizeof *p);
    qsort(r, c->nrec, sizeof *r, cmp_rec);
    qsort(p, c->nref, sizeof *p, cmp_pair);
    size_t k = 0;
    for (size_t i = 0; i < c->nref; i++) {
        if (i > 0 && cmp_pair(&p[i - 1], &p[i]) == 0)
            continue;
        while (k < c->nrec && r[k].key < p[i].key)
            k++;
        if (k == c->nrec || r[k].key != p[i].key)
            continue;
        grp_event e = r[k].e;
        e.root = p[i].root;
        cr_assert_eq(collect(out, &e, 1), 0);
    }
    *unmatched = 0;
    for (size_t i = 0, j = 0; i < c->nrec; i++) {
        while (j < c->nref && p[j].key < r[i].key)
            j++;
        *unmatched += j == c->nref || p[j].key != r[i].key;
    }
    free(r);
    free(p);
}

/* How a case's keys spread: over all 64 bits (every partition, every pass
 * of the sort); their high halves drawn from 16 values (one partition, and
 * most slots tie on the half the passes sort by, and are put in order
 * after); the top byte 0 in most keys, random in the others (one partition
 * holds most); only one byte of the high half varying (one partition, the
 * other passes skipped); or three partitions only, the rest empty. */
enum { KEYS_RANDOM, KEYS_FEW_HIGH, KEYS_SKEWED, KEYS_ONE_BYTE, KEYS_THREE_PARTS, KEYS_SPREADS };

static void random_case(uint64_t seed, size_t nrec, size_t nref, uint64_t nkeys, int spread)
{
    join_case c = {0};
    /* Keys come from a small set, so that keys repeat among records and
     * among references. */
    uint64_t *keys = malloc(nkeys * sizeof *keys);
    for (uint64_t k = 0; k < nkeys; k++) {
        uint64_t r = rng(&seed);
        static const uint64_t parts[3] = {0, 17, 63};
        keys[k] = spread == KEYS_RANDOM     ? r
                  : spread == KEYS_FEW_HIGH ? (r % 16) << 40 | (uint32_t)(r >> 7)
                  : spread == KEYS_SKEWED   ? (r % 5 < 3 ? r >> 8 : r)
                  : spread == KEYS_ONE_BYTE ? (r & 0xff) << 48 | (r >> 40)
                                            : parts[r % 3] << 58 | (r >> 6);
    }
    for (size_t i = 0; i < nrec; i++)
        add_rec(&c, keys[rng(&seed) % nkeys], (uint32_t)(rng(&seed) % 5), rng(&seed) % 1000000);
    for (size_t i = 0; i < nref; i++)
        add_ref(&c, root(rng(&seed) % 4, rng(&seed) % 3), keys[rng(&seed) % nkeys]);

    seen want = {.fail_after = SIZE_MAX};
    uint64_t want_unmatched;
    reference(&c, &want, &want_unmatched);
    cr_assert(want.n > 0);
    /* One worker and one thread, then more of both, then found in another
     * order (other workers, other timing): the same events in the same
     * order every time. */
    for (unsigned round = 0; round < 4; round++) {
        if (round == 3) {
            for (size_t i = c.nrec; i > 1; i--) {
                size_t k = rng(&seed) % i;
                test_rec t = c.recs[i - 1];
                c.recs[i - 1] = c.recs[k];
                c.recs[k] = t;
            }
            for (size_t i = c.nref; i > 1; i--) {
                size_t k = rng(&seed) % i;
                join_ref t = c.refs[i - 1];
                c.refs[i - 1] = c.refs[k];
                c.refs[k] = t;
            }
        }
        unsigned n = round == 0 ? 1 : round + 1;
        seen got = {.fail_after = SIZE_MAX};
        uint64_t joined, unmatched;
        cr_assert_eq(run(&c, n, n, &got, &joined, &unmatched), 0);
        cr_assert_eq(got.n, want.n, "seed %llu, %u threads", (unsigned long long)seed, n);
        cr_assert_eq(joined, want.n);
        cr_assert_eq(unmatched, want_unmatched);
        for (size_t i = 0; i < got.n; i++)
            cr_assert_eq(memcmp(&got.v[i], &want.v[i], sizeof got.v[i]), 0,
                         "event %zu of %zu, %u threads", i, got.n, n);
        free(got.v);
    }
    free(keys);
    free(want.v);
    case_free(&c);
}

Test(join, random_cases_match_the_reference)
{
    for (uint64_t seed = 1; seed <= 20; seed++)
        random_case(seed * 0x9e3779b97f4a7c15u, 3000, 3000, 400 + seed * 50,
                    (int)(seed % KEYS_SPREADS));
    /* Fewer references than records, and the other way round. */
    random_case(77, 5000, 40, 3000, KEYS_RANDOM);
    random_case(78, 40, 5000, 30, KEYS_RANDOM);
}

/* Enough records for several threads to join them (join.c's
 * JOIN_PARALLEL_MIN is 16384), each partition taken by whichever thread
 * comes first. */
Test(join, large_cases_on_several_threads_match_the_reference)
{
    for (int spread = 0; spread < KEYS_SPREADS; spread++)
        random_case(1000 + (uint64_t)spread, 60000, 50000, 30000, spread);
}

Test(join, emit_failure_stops)
{
    join_case c = {0};
    for (uint64_t k = 0; k < 40000; k++) {
        uint64_t key = k * 0x9e3779b97f4a7c15u;
        add_rec(&c, key, 0, k);
        add_ref(&c, root(k, k), key);
    }
    /* Early, in the first partition, and late, where a partition joined
     * ahead of its turn is being handed on. */
    const size_t fail_after[] = {40, 30000};
    for (unsigned threads = 1; threads <= 3; threads++) {
        for (size_t f = 0; f < 2; f++) {
            seen s = {.fail_after = fail_after[f]};
            uint64_t joined, unmatched;
            cr_assert_eq(run(&c, threads, threads, &s, &joined, &unmatched), -1);
            cr_expect_leq(s.n, fail_after[f]);
            cr_expect_eq(joined, s.n, "only what was handed on counts");
            free(s.v);
        }
    }
    case_free(&c);
}
