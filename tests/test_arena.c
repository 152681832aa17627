/*
 * Unit tests of util/arena: strings come back as they were put, whether
 * their chunk stayed in memory or went to the temporary file (and whether
 * the spilled chunks were full, partial or the last one), and a spill that
 * cannot be written says why instead of losing strings.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, mincore */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "tg_test_util.h"
#include "util/arena.h"

#define CHUNK 4096u

/* The i-th test string: its length varies from 0 to 999 bytes, so chunks
 * end at every kind of boundary, and its bytes name it. */
static size_t make(unsigned i, char *buf)
{
    size_t n = (i * 37u) % 1000u;
    for (size_t k = 0; k < n; k++)
        buf[k] = (char)('a' + (i + k) % 26);
    if (n >= 8)
        snprintf(buf, 8, "%07u", i);
    return n;
}

/* Puts n strings, seals, and checks every one by its handle. */
static void round_trip(arena *a, unsigned n)
{
    uint64_t *ref = malloc(n * sizeof *ref);
    char buf[1000];
    for (unsigned i = 0; i < n; i++) {
        size_t len = make(i, buf);
        ref[i] = arena_put(a, tg_str_make(buf, len));
        cr_assert_neq(ref[i], UINT64_MAX, "put %u failed: %s", i, strerror(a->err));
    }
    cr_assert_eq(arena_seal(a), 0, "seal: %s", strerror(a->err));
    for (unsigned i = 0; i < n; i++) {
        size_t len = make(i, buf);
        tg_str s = arena_get(a, ref[i]);
        cr_assert_eq(s.n, len, "string %u: %zu bytes, expected %zu", i, s.n, len);
        cr_assert(len == 0 || memcmp(s.p, buf, len) == 0, "string %u differs", i);
    }
    free(ref);
}

/* The budget of the arena spilling() makes, one test at a time. */
static atomic_uint_fast64_t budget;

/* An arena of CHUNK-byte chunks spilling past `bytes` into a fresh folder,
 * which it returns (for done()). */
static char *spilling(arena *a, uint64_t bytes)
{
    char *dir = tt_tmpdir();
    atomic_init(&budget, bytes);
    arena_init(a, CHUNK);
    arena_spill_past(a, &budget, dir);
    return dir;
}

static void done(arena *a, char *dir)
{
    arena_free(a);
    tt_rmtree(dir);
    free(dir);
}

Test(arena, strings_stay_in_memory_without_a_budget)
{
    arena a;
    arena_init(&a, CHUNK);
    round_trip(&a, 2000);
    cr_expect_eq(a.fd, -1, "a file was opened");
    cr_expect_gt(a.nchunks, 100);
    arena_free(&a);
}

Test(arena, every_chunk_spilled_reads_back_after_seal)
{
    arena a;
    char *dir = spilling(&a, 0);
    round_trip(&a, 2000);
    cr_expect_geq(a.fd, 0, "nothing was spilled");
    cr_expect_eq(a.map_len, a.nchunks * CHUNK);
    arena_free(&a);
    /* The file had no name: nothing is left in the folder. */
    char *empty = tt_fmt("test -z \"$(ls -A '%s')\"", dir);
    tt_run r = tt_sh(empty, NULL);
    cr_expect_eq(r.status, 0, "the folder is not empty");
    tt_run_free(&r);
    free(empty);
    tt_rmtree(dir);
    free(dir);
}

Test(arena, chunks_past_the_budget_are_spilled_the_first_kept)
{
    arena a;
    char *dir = spilling(&a, 3 * CHUNK + 100); /* three whole chunks fit */
    round_trip(&a, 2000);
    cr_expect_eq(a.keep_chunks, 3);
    cr_expect_gt(a.nchunks, 3);
    cr_expect_eq(a.map_len, (a.nchunks - 3) * CHUNK);
    /* The kept chunks are not in the mapping; the spilled ones are. */
    for (size_t i = 0; i < a.nchunks; i++) {
        bool in_map = a.chunks[i] >= a.map && a.chunks[i] < a.map + a.map_len;
        cr_expect_eq(in_map, i >= 3, "chunk %zu", i);
    }
    done(&a, dir);
}

Test(arena, a_budget_never_reached_spills_nothing)
{
    arena a;
    char *dir = spilling(&a, (uint64_t)1 << 30);
    round_trip(&a, 500);
    cr_expect_eq(a.fd, -1);
    cr_expect_null(a.map);
    done(&a, dir);
}

Test(arena, freed_unsealed_after_spilling)
{
    arena a;
    char *dir = spilling(&a, CHUNK);
    char buf[1000];
    for (unsigned i = 0; i < 300; i++)
        cr_assert_neq(arena_put(&a, tg_str_make(buf, make(i, buf))), UINT64_MAX);
    cr_assert_geq(a.fd, 0, "nothing was spilled");
    done(&a, dir); /* with the staging chunk unwritten: ASan's leak check */
}

/* A folder that cannot hold the file (here, one that does not exist):
 * past the budget the arena keeps its chunks in memory, says why, and loses
 * nothing. */
Test(arena, a_folder_that_cannot_hold_the_file_keeps_the_strings_in_memory)
{
    char *dir = tt_tmpdir();
    char *missing = tt_fmt("%s/not-there", dir);
    arena a;
    arena_init(&a, CHUNK);
    atomic_init(&budget, CHUNK);
    arena_spill_past(&a, &budget, missing);
    round_trip(&a, 2000);
    cr_expect_eq(a.err, ENOENT, "err %d (%s)", a.err, strerror(a.err));
    cr_expect_eq(a.fd, -1);
    cr_expect_eq(a.nspilled, 0);
    cr_expect_null(a.map);
    cr_expect_gt(a.nchunks, 100);
    arena_free(&a);
    free(missing);
    tt_rmtree(dir);
    free(dir);
}

/* A file that fills up part way (a full disk, here a file size limit): the
 * chunks written stay in the file, the rest in memory, and every string
 * reads back once sealed. */
Test(arena, a_spill_that_runs_out_of_room_keeps_the_rest_in_memory)
{
    signal(SIGXFSZ, SIG_IGN); /* the write then fails with EFBIG instead */
    struct rlimit lim = {3 * CHUNK, 3 * CHUNK};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    arena a;
    char *dir = spilling(&a, 0);
    round_trip(&a, 2000);
    cr_expect_eq(a.err, EFBIG, "err %d (%s)", a.err, strerror(a.err));
    cr_expect_eq(a.nspilled, 3, "%zu chunks in the file", a.nspilled);
    cr_expect_eq(a.map_len, 3 * CHUNK);
    cr_expect_gt(a.nchunks, 100);
    done(&a, dir);
}

/* Arenas sharing a budget: what one keeps, the other cannot. The first
 * takes the three chunks the budget pays for, and the second spills from
 * its first chunk; both read back whole. */
Test(arena, a_shared_budget_is_spent_once)
{
    arena a, b;
    char *dir = spilling(&a, 3 * CHUNK);
    arena_init(&b, CHUNK);
    arena_spill_past(&b, &budget, dir);
    round_trip(&a, 1000);
    round_trip(&b, 1000);
    cr_expect(a.spilling && a.keep_chunks == 3, "a kept %zu chunks", a.keep_chunks);
    cr_expect(b.spilling && b.keep_chunks == 0, "b kept %zu chunks", b.keep_chunks);
    cr_expect_lt(atomic_load(&budget), (uint_fast64_t)CHUNK);
    arena_free(&b);
    done(&a, dir);
}

/* Whether MADV_POPULATE_WRITE works here (Linux 5.14 and later). */
static bool can_populate(void)
{
#ifdef MADV_POPULATE_WRITE
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert(p != MAP_FAILED);
    bool ok = madvise(p, 4096, MADV_POPULATE_WRITE) == 0;
    munmap(p, 4096);
    return ok;
#else
    return false;
#endif
}

/* The resident pages among the whole ones of p[from..to). */
static size_t resident(const char *p, size_t from, size_t to)
{
    uintptr_t b = ((uintptr_t)p + from + 4095) & ~(uintptr_t)4095;
    uintptr_t e = ((uintptr_t)p + to) & ~(uintptr_t)4095;
    unsigned char vec[1024];
    cr_assert_leq((e - b) / 4096, sizeof vec);
    cr_assert_eq(mincore((void *)b, e - b, vec), 0);
    size_t n = 0;
    for (size_t i = 0; i < (e - b) / 4096; i++)
        n += vec[i] & 1;
    return n;
}

/* A kept chunk is faulted in a megabyte at a time ahead of the writes: one
 * short string makes its first megabyte resident, not the second; a string
 * that crosses into the second faults that one in. */
Test(arena, kept_chunks_are_faulted_in_a_megabyte_ahead)
{
    if (!can_populate())
        cr_skip_test("MADV_POPULATE_WRITE is not supported here");
    arena a;
    arena_init(&a, (size_t)4 << 20);
    char buf[1000];
    memset(buf, 'x', sizeof buf);
    cr_assert_neq(arena_put(&a, tg_str_make(buf, 100)), UINT64_MAX);
    const char *c = a.chunks[0];
    size_t mib = (size_t)1 << 20;
    cr_expect_geq(resident(c, 0, mib), 250, "the first megabyte was not faulted in");
    cr_expect_leq(resident(c, mib, 2 * mib), 2, "the second megabyte was faulted in early");
    while (a.used < mib - 500)
        cr_assert_neq(arena_put(&a, tg_str_make(buf, sizeof buf)), UINT64_MAX);
    cr_assert_neq(arena_put(&a, tg_str_make(buf, sizeof buf)), UINT64_MAX);
    cr_expect_geq(resident(c, mib, 2 * mib), 250, "the second megabyte was not faulted in");
    arena_free(&a);
}
