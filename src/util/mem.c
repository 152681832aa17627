#define _GNU_SOURCE /* MADV_POPULATE_WRITE, MADV_HUGEPAGE */
#include "util/mem.h"

#include <stdint.h>
#include <sys/mman.h>

/* Gives the advice to the whole units (a power of two) inside p[0..n). */
static inline void advise_whole(void *p, size_t n, uintptr_t unit, int advice)
{
    uintptr_t a = ((uintptr_t)p + unit - 1) & ~(unit - 1);
    uintptr_t b = ((uintptr_t)p + n) & ~(unit - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, advice); /* advice only */
}

void tg_mem_populate_write(void *p, size_t n)
{
#ifdef MADV_POPULATE_WRITE
    advise_whole(p, n, 4096, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)n;
#endif
}

void tg_mem_advise_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    advise_whole(p, n, (uintptr_t)2 << 20, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}
