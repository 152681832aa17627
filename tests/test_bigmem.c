/* bigmem: zeroed arrays that grow without losing what they hold. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "util/bigmem.h"

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 31 + seed);
}

static bool filled(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 31 + seed))
            return false;
    return true;
}

Test(bigmem, alloc_gives_zeroed_writable_memory)
{
    /* Below a page, a few pages, and past the 2 MiB of a huge page. */
    const size_t sizes[] = {1, 100, 5000, (3u << 20) + 17};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        unsigned char *p = bigmem_alloc(sizes[k]);
        cr_assert(p, "%zu bytes", sizes[k]);
        cr_expect(all_zero(p, sizes[k]), "%zu bytes start zero", sizes[k]);
        fill(p, sizes[k], 7);
        cr_expect(filled(p, sizes[k], 7));
        bigmem_free(p, sizes[k]);
    }
}

Test(bigmem, grow_keeps_the_bytes_and_zeroes_the_rest)
{
    /* From nothing, through sizes on both sides of 2 MiB: each step keeps
     * what was written and adds zeroes. */
    const size_t steps[] = {64u << 10, 1u << 20, 2u << 20, 8u << 20, (8u << 20) + 1, 20u << 20};
    unsigned char *p = bigmem_grow(NULL, 0, 4096);
    cr_assert(p);
    size_t n = 4096;
    fill(p, n, 1);
    for (size_t k = 0; k < sizeof steps / sizeof *steps; k++) {
        unsigned char *q = bigmem_grow(p, n, steps[k]);
        cr_assert(q, "grow to %zu", steps[k]);
        cr_expect(filled(q, n, 1), "the first %zu bytes survive a grow to %zu", n, steps[k]);
        cr_expect(all_zero(q + n, steps[k] - n), "the %zu new bytes are zero", steps[k] - n);
        fill(q, steps[k], 1);
        p = q;
        n = steps[k];
    }
    /* Asking for less keeps the array as it is. */
    cr_expect_eq(bigmem_grow(p, n, 100), p);
    cr_expect(filled(p, n, 1));
    bigmem_free(p, n);
    bigmem_free(NULL, 0);
}
