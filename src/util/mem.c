#define _GNU_SOURCE /* MADV_POPULATE_WRITE, MADV_HUGEPAGE */
#include "util/mem.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

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
 * page); a quicker stretch was there already and is no reference. */
#define SMALL_FRESH_MIN_NS 20000

bool tg_mem_huge_dear(uint64_t huge_ns, uint64_t small_ns)
{
    return huge_ns > TG_HUGE_RATIO * small_ns;
}

#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE) && defined(MADV_POPULATE_WRITE)
static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Faults in the stretch at a with the given advice; its time in ns, or
 * UINT64_MAX when the kernel cannot fault memory in ahead. */
static uint64_t timed_fault_in(uintptr_t a, int advice)
{
    (void)madvise((void *)a, TG_MEM_STRETCH, advice);
    uint64_t t0 = now_ns();
    if (madvise((void *)a, TG_MEM_STRETCH, MADV_POPULATE_WRITE) != 0)
        return UINT64_MAX;
    return now_ns() - t0;
}

void tg_mem_populate_huge(void *p, size_t n, tg_huge *h)
{
    uintptr_t a = ((uintptr_t)p + TG_MEM_STRETCH - 1) & ~(TG_MEM_STRETCH - 1);
    uintptr_t b = ((uintptr_t)p + n) & ~(TG_MEM_STRETCH - 1);
    if (b <= a) {
        tg_mem_populate_write(p, n);
        return;
    }
    tg_mem_populate_write(p, a - (uintptr_t)p);
    for (; a < b && h->state == TG_HUGE_MEASURE; a += TG_MEM_STRETCH) {
        uint64_t t = timed_fault_in(a, h->small_ns ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
        if (t == UINT64_MAX)
            h->state = TG_HUGE_PAYS;
        else if (!h->small_ns)
            h->small_ns = t >= SMALL_FRESH_MIN_NS ? t : 0;
        else if (tg_mem_huge_dear(t, h->small_ns))
            h->state = TG_HUGE_DEAR;
    }
    if (a < b)
        (void)madvise((void *)a, b - a,
                      h->state == TG_HUGE_DEAR ? MADV_NOHUGEPAGE : MADV_HUGEPAGE);
    /* The stretches left and the end short of a stretch, in one call. */
    tg_mem_populate_write((void *)a, (uintptr_t)p + n - a);
}
#else
void tg_mem_populate_huge(void *p, size_t n, tg_huge *h)
{
    (void)h;
#ifdef MADV_HUGEPAGE
    advise_whole(p, n, TG_MEM_STRETCH, MADV_HUGEPAGE);
#endif
    tg_mem_populate_write(p, n);
}
#endif

/* A big array's mapping starts with its length in bytes; the array follows
 * BIG_HEAD bytes in. */
#define BIG_HEAD 64

/* The mapping length for an array of n bytes; 0 when it does not fit.
 * Mappings of 2 MiB and more are whole stretches, so that the kernel can
 * place them on a huge-page boundary. */
static size_t big_len(size_t n)
{
    if (n > SIZE_MAX - BIG_HEAD - TG_MEM_STRETCH)
        return 0;
    size_t unit = n + BIG_HEAD >= TG_MEM_STRETCH ? TG_MEM_STRETCH : 4096;
    return (n + BIG_HEAD + unit - 1) & ~(unit - 1);
}

void *tg_mem_big_realloc(void *p, size_t n)
{
    size_t len = big_len(n);
    if (!len)
        return NULL;
    char *base = p ? (char *)p - BIG_HEAD : NULL;
    size_t old = 0;
    if (base) {
        memcpy(&old, base, sizeof old);
        if (len == old)
            return p;
        /* The advice given to parts of the array split its mapping in
         * several, and mremap() moves only one: the same advice over the
         * whole joins them again. It changes no page already in. */
#ifdef MADV_HUGEPAGE
        (void)madvise(base, old, MADV_HUGEPAGE);
#endif
        void *m = mremap(base, old, len, MREMAP_MAYMOVE);
        if (m != MAP_FAILED) {
            memcpy(m, &len, sizeof len);
            return (char *)m + BIG_HEAD;
        }
    }
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    memcpy(m, &len, sizeof len);
    if (base) {
        /* mremap() failed: copied, the way realloc() would. */
        memcpy((char *)m + BIG_HEAD, p, (old < len ? old : len) - BIG_HEAD);
        munmap(base, old);
    }
    return (char *)m + BIG_HEAD;
}

void tg_mem_big_free(void *p)
{
    if (!p)
        return;
    char *base = (char *)p - BIG_HEAD;
    size_t len;
    memcpy(&len, base, sizeof len);
    munmap(base, len);
}
