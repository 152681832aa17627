/*
 * Unit tests of util/mem: when a huge page is dear against small pages,
 * and tg_mem_populate_huge(), which faults an array in as huge pages while
 * they come cheap: it follows a verdict given, takes a stretch of small
 * pages for reference when it has none, and turns to small pages at the
 * first dear huge page, for the rest of the array and the arrays after it.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, mincore */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tg_test_util.h"
#include "util/mem.h"

#define STRETCH ((size_t)TG_MEM_STRETCH)
#define MAXS 8

Test(mem, a_huge_page_is_dear_past_twice_the_small_pages)
{
    /* As measured: warm huge pages, then huge pages the host had taken back. */
    cr_expect_not(tg_mem_huge_dear(180000, 1000000));
    cr_expect(tg_mem_huge_dear(5000000, 1000000));
    /* Huge pages spare TLB misses: up to twice the cost of small ones. */
    cr_expect_not(tg_mem_huge_dear(2000000, 1000000));
    cr_expect(tg_mem_huge_dear(2000001, 1000000));
}

typedef struct area {
    void *map;
    size_t len;
    char *p; /* n stretches from a stretch boundary */
    size_t n;
} area;

static area area_new(size_t n)
{
    area a = {.len = (n + 1) * STRETCH, .n = n};
    a.map = mmap(NULL, a.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(a.map, MAP_FAILED);
    a.p = (char *)(((uintptr_t)a.map + STRETCH - 1) & ~(uintptr_t)(STRETCH - 1));
    return a;
}

/* Fills the advice of each stretch ('h', 'n' or '-'); skips the test
 * where smaps does not tell. */
static void advice_of(const area *a, char *out)
{
    for (size_t s = 0; s < a->n; s++) {
        int r = tt_thp_advice(a->p + s * STRETCH + 4096);
        if (r < 0)
            cr_skip_test("/proc/self/smaps does not tell transparent huge pages here");
        out[s] = (char)r;
    }
    out[a->n] = '\0';
}

/* Every page from a page into the area to the end of its stretches is in
 * and reads as zeros. */
static void expect_all_in(const area *a)
{
    size_t pages = a->n * STRETCH / 4096;
    unsigned char *in = malloc(pages);
    cr_assert(in);
    cr_assert_eq(mincore(a->p, a->n * STRETCH, in), 0);
    size_t missing = 0;
    for (size_t i = 1; i < pages; i++)
        missing += !(in[i] & 1);
    cr_expect_eq(missing, 0, "%zu of %zu pages were not faulted in", missing, pages);
    size_t nonzero = 0;
    for (size_t i = 4096; i < a->n * STRETCH; i += 4096)
        nonzero += a->p[i] != 0;
    cr_expect_eq(nonzero, 0, "%zu pages do not read as zeros", nonzero);
    free(in);
}

static void skip_without_populate(void)
{
    /* Kernels before 5.14 cannot fault memory in ahead: nothing to time.
     * Asked on a page of its own: with transparent huge pages "always", a
     * page faulted in inside an area would bring in its whole stretch. */
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(page, MAP_FAILED);
    int rc = madvise(page, 4096, MADV_POPULATE_WRITE);
    munmap(page, 4096);
    if (rc != 0)
        cr_skip_test("this kernel has no MADV_POPULATE_WRITE");
}

Test(mem, a_verdict_given_is_followed)
{
    const int states[] = {TG_HUGE_PAYS, TG_HUGE_DEAR};
    for (size_t v = 0; v < 2; v++) {
        area a = area_new(4);
        skip_without_populate();
        tg_huge h = {.state = states[v]};
        tg_mem_populate_huge(a.p + 4096, 4 * STRETCH - 4096, &h);
        char adv[MAXS + 1];
        advice_of(&a, adv);
        /* The part short of a stretch keeps ordinary pages. */
        cr_expect_str_eq(adv, states[v] == TG_HUGE_PAYS ? "-hhh" : "-nnn");
        cr_expect_eq(h.state, states[v]);
        cr_expect_eq(h.small_ns, 0, "nothing was timed");
        expect_all_in(&a);
        munmap(a.map, a.len);
    }
}

Test(mem, without_a_reference_a_stretch_of_small_pages_is_timed_first)
{
    area a = area_new(5);
    skip_without_populate();
    tg_huge h = {0};
    tg_mem_populate_huge(a.p, 5 * STRETCH, &h);
    char adv[MAXS + 1];
    advice_of(&a, adv);
    cr_expect_neq(h.small_ns, 0, "no reference was taken");
    /* Then huge pages, until one comes dear: small ones after it. */
    cr_expect(adv[0] == 'n' && adv[1] == 'h', "%s", adv);
    size_t k = 1;
    while (adv[k] == 'h')
        k++;
    cr_expect_eq(strspn(adv + k, "n"), strlen(adv + k), "%s", adv);
    if (h.state == TG_HUGE_MEASURE)
        cr_expect_str_eq(adv, "nhhhh");
    else
        cr_expect_eq(h.state, TG_HUGE_DEAR);
    expect_all_in(&a);

    /* The next array of the same owner needs no new reference. */
    area b = area_new(2);
    uint64_t ref = h.small_ns;
    tg_mem_populate_huge(b.p, 2 * STRETCH, &h);
    advice_of(&b, adv);
    cr_expect_eq(h.small_ns, ref);
    if (h.state == TG_HUGE_MEASURE)
        cr_expect_str_eq(adv, "hh");
    expect_all_in(&b);
    munmap(a.map, a.len);
    munmap(b.map, b.len);
}

/* With the reference set by hand, whether huge pages come dear is known
 * before any is timed: the first dear one turns the rest to small pages,
 * here and in the owner's next array. */
Test(mem, the_first_dear_huge_page_turns_the_rest_to_small_pages)
{
    area a = area_new(4);
    skip_without_populate();
    tg_huge h = {.small_ns = 1}; /* no huge page faults in within 2 ns */
    tg_mem_populate_huge(a.p, 4 * STRETCH, &h);
    char adv[MAXS + 1];
    advice_of(&a, adv);
    cr_expect_str_eq(adv, "hnnn");
    cr_expect_eq(h.state, TG_HUGE_DEAR);
    expect_all_in(&a);
    area b = area_new(2);
    tg_mem_populate_huge(b.p, 2 * STRETCH, &h);
    advice_of(&b, adv);
    cr_expect_str_eq(adv, "nn");
    expect_all_in(&b);

    /* And with a reference no huge page can exceed, all of them stay. */
    area c = area_new(3);
    tg_huge cheap = {.small_ns = UINT64_MAX / 4};
    tg_mem_populate_huge(c.p, 3 * STRETCH, &cheap);
    advice_of(&c, adv);
    cr_expect_str_eq(adv, "hhh");
    cr_expect_eq(cheap.state, TG_HUGE_MEASURE);
    expect_all_in(&c);
    munmap(a.map, a.len);
    munmap(b.map, b.len);
    munmap(c.map, c.len);
}

/* A big array keeps its contents as it grows past the advice that split its
 * mapping (a huge stretch, then small ones) and as it shrinks; it starts on
 * a cache line, and an allocation of nothing is still an array. */
Test(mem, a_big_array_keeps_its_contents_as_it_grows_and_shrinks)
{
    size_t n = 3 * STRETCH + 1000;
    uint32_t *v = tg_mem_big_realloc(NULL, n);
    cr_assert_not_null(v);
    cr_expect_eq((uintptr_t)v % 64, 0, "not aligned to a cache line");
    /* With a reference of 1 ns the first huge stretch is dear: the array
     * ends with a huge stretch and small ones, in several mappings where
     * the kernel can fault memory in ahead. */
    tg_huge h = {.small_ns = 1};
    tg_mem_populate_huge(v, n, &h);
    for (size_t i = 0; i < n / 4; i++)
        v[i] = (uint32_t)(i * 2654435761u);
    size_t sizes[] = {4 * STRETCH, 16 * STRETCH + 12, 64, 5 * STRETCH};
    size_t kept = n / 4;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        uint32_t *w = tg_mem_big_realloc(v, sizes[s]);
        cr_assert_not_null(w, "resizing to %zu bytes failed", sizes[s]);
        v = w;
        if (sizes[s] / 4 < kept)
            kept = sizes[s] / 4;
        size_t wrong = 0;
        for (size_t i = 0; i < kept; i++)
            wrong += v[i] != (uint32_t)(i * 2654435761u);
        cr_expect_eq(wrong, 0, "%zu of %zu values changed when resized to %zu bytes", wrong, kept,
                     sizes[s]);
        cr_expect_eq((uintptr_t)v % 64, 0);
        /* The new part can be written. */
        for (size_t i = kept; i < sizes[s] / 4; i++)
            v[i] = (uint32_t)(i * 2654435761u);
        kept = sizes[s] / 4;
    }
    tg_mem_big_free(v);
    void *z = tg_mem_big_realloc(NULL, 0);
    cr_assert_not_null(z);
    tg_mem_big_free(z);
    tg_mem_big_free(NULL);
}
