#define _GNU_SOURCE /* MADV_POPULATE_WRITE, MADV_HUGEPAGE */
#include "util/mem.h"

#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)

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

/* 512 fresh small pages cannot fault in faster than this (about 40 ns a
 * page); a quicker stretch was there already. */
#define SMALL_FRESH_MIN_NS 20000

tg_huge tg_mem_huge_verdict(uint64_t huge_ns, uint64_t small_ns)
{
    if (small_ns < SMALL_FRESH_MIN_NS)
        return TG_HUGE_UNKNOWN;
    return huge_ns <= TG_HUGE_RATIO * small_ns ? TG_HUGE_PAYS : TG_HUGE_DEAR;
}

#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE) && defined(MADV_POPULATE_WRITE)
static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Faults in the stretch at a with the given advice; its time in ns, or 0
 * when the kernel would not fault it in. */
static uint64_t timed_fault_in(uintptr_t a, int advice)
{
    (void)madvise((void *)a, HUGE_PAGE, advice);
    uint64_t t0 = now_ns();
    if (madvise((void *)a, HUGE_PAGE, MADV_POPULATE_WRITE) != 0)
        return 0;
    return now_ns() - t0;
}

void tg_mem_advise_huge(void *p, size_t n, tg_huge *verdict)
{
    uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t b = ((uintptr_t)p + n) & ~(HUGE_PAGE - 1);
    if (b <= a)
        return;
    if (*verdict == TG_HUGE_UNKNOWN && b - a >= 2 * HUGE_PAGE) {
        uint64_t huge_ns = timed_fault_in(a, MADV_HUGEPAGE);
        uint64_t small_ns = timed_fault_in(a + HUGE_PAGE, MADV_NOHUGEPAGE);
        if (huge_ns)
            *verdict = tg_mem_huge_verdict(huge_ns, small_ns);
        a += 2 * HUGE_PAGE;
        if (b == a)
            return;
    }
    (void)madvise((void *)a, b - a, *verdict == TG_HUGE_DEAR ? MADV_NOHUGEPAGE : MADV_HUGEPAGE);
}
#else
void tg_mem_advise_huge(void *p, size_t n, tg_huge *verdict)
{
    (void)verdict;
#ifdef MADV_HUGEPAGE
    advise_whole(p, n, HUGE_PAGE, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}
#endif
