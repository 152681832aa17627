/*
 * Unit tests of util/mem: the huge-page verdict from two timings, and
 * tg_mem_advise_huge(), which follows a verdict given and otherwise finds
 * one by faulting in an array's first two stretches, one as a huge page and
 * one as small pages.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, mincore */
#include <criterion/criterion.h>
#include <stdint.h>
#include <sys/mman.h>

#include "tg_test_util.h"
#include "util/mem.h"

#define STRETCH ((size_t)2 << 20)

Test(mem, the_verdict_weighs_a_huge_page_against_small_pages)
{
    /* As measured: warm huge pages, then huge pages the host had taken back. */
    cr_expect_eq(tg_mem_huge_verdict(180000, 800000), TG_HUGE_PAYS);
    cr_expect_eq(tg_mem_huge_verdict(4500000, 800000), TG_HUGE_DEAR);
    /* Huge pages spare TLB misses: up to twice the cost of small ones. */
    cr_expect_eq(tg_mem_huge_verdict(1600000, 800000), TG_HUGE_PAYS);
    cr_expect_eq(tg_mem_huge_verdict(1600001, 800000), TG_HUGE_DEAR);
    /* Small pages faulted in too fast to be fresh say nothing. */
    cr_expect_eq(tg_mem_huge_verdict(5000000, 3000), TG_HUGE_UNKNOWN);
}

/* An anonymous mapping of n stretches, starting on a stretch boundary. */
static char *stretches(size_t n, void **map, size_t *len)
{
    *len = (n + 1) * STRETCH;
    *map = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(*map, MAP_FAILED);
    return (char *)(((uintptr_t)*map + STRETCH - 1) & ~(uintptr_t)(STRETCH - 1));
}

Test(mem, a_verdict_given_is_followed)
{
    const tg_huge verdicts[] = {TG_HUGE_PAYS, TG_HUGE_DEAR};
    for (size_t v = 0; v < 2; v++) {
        void *map;
        size_t len;
        char *p = stretches(4, &map, &len);
        tg_huge h = verdicts[v];
        tg_mem_advise_huge(p, 4 * STRETCH, &h);
        cr_expect_eq(h, verdicts[v]);
        int want = verdicts[v] == TG_HUGE_PAYS ? 'h' : 'n';
        for (size_t s = 0; s < 4; s++) {
            int got = tt_thp_advice(p + s * STRETCH + 4096);
            if (got < 0)
                cr_skip_test("/proc/self/smaps does not tell transparent huge pages here");
            cr_expect_eq(got, want, "stretch %zu is advised '%c', not '%c'", s, got, want);
        }
        /* Nothing was faulted in: the verdict was known. */
        unsigned char in[1];
        cr_expect_eq(mincore(p + 4096, 4096, in), 0);
        cr_expect_eq(in[0] & 1, 0, "a page was faulted in");
        munmap(map, len);
    }
}

Test(mem, without_a_verdict_the_first_two_stretches_are_the_measure)
{
    void *map;
    size_t len;
    char *p = stretches(5, &map, &len);
    if (tt_thp_advice(p) < 0)
        cr_skip_test("/proc/self/smaps does not tell transparent huge pages here");
    /* Kernels before 5.14 cannot fault memory in ahead: nothing to time. */
    if (madvise(map, 4096, MADV_POPULATE_WRITE) != 0)
        cr_skip_test("this kernel has no MADV_POPULATE_WRITE");
    tg_huge h = TG_HUGE_UNKNOWN;
    /* From a page in, as malloc's memory starts: the first whole stretch
     * is the next one. */
    tg_mem_advise_huge(p + 4096, 5 * STRETCH - 4096, &h);
    cr_expect(h == TG_HUGE_PAYS || h == TG_HUGE_DEAR, "no verdict (%d)", (int)h);
    cr_expect_eq(tt_thp_advice(p + 4096), '-', "the part short of a stretch was advised");
    cr_expect_eq(tt_thp_advice(p + STRETCH), 'h', "the first stretch is not a huge page");
    cr_expect_eq(tt_thp_advice(p + 2 * STRETCH), 'n', "the second stretch is not small pages");
    int rest = h == TG_HUGE_DEAR ? 'n' : 'h';
    for (size_t s = 3; s < 5; s++)
        cr_expect_eq(tt_thp_advice(p + s * STRETCH), rest, "stretch %zu", s);
    /* The two measured stretches were faulted in, and they read as zeros;
     * the rest waits for its writes. */
    unsigned char in[2 * STRETCH / 4096];
    cr_assert_eq(mincore(p + STRETCH, 2 * STRETCH, in), 0);
    for (size_t i = 0; i < sizeof in; i++)
        cr_expect_eq(in[i] & 1, 1, "page %zu of the measure is not in", i);
    cr_expect_eq(p[STRETCH] | p[3 * STRETCH - 1], 0);
    cr_assert_eq(mincore(p + 3 * STRETCH, 4096, in), 0);
    cr_expect_eq(in[0] & 1, 0, "past the measure a page was faulted in");
    munmap(map, len);
}
