/*
 * bigmem: see bigmem.h.
 */
#define _GNU_SOURCE /* mremap, MADV_HUGEPAGE */
#include "util/bigmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Under AddressSanitizer the arrays come from malloc, whose bounds it
 * checks; a mapping of our own it would not. */
#if defined(__SANITIZE_ADDRESS__)
#define BIGMEM_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BIGMEM_MALLOC 1
#endif
#endif

#ifdef BIGMEM_MALLOC

void *bigmem_alloc(size_t n)
{
    return calloc(1, n);
}

void *bigmem_grow(void *p, size_t old, size_t n)
{
    if (n <= old)
        return p;
    char *q = realloc(p, n);
    if (q)
        memset(q + old, 0, n - old);
    return q;
}

void bigmem_free(void *p, size_t n)
{
    (void)n;
    free(p);
}

#else

#define BIGMEM_PAGE ((size_t)4096)
#define BIGMEM_HUGE ((size_t)2 << 20)

/* The length of the mapping that holds n bytes; 0 when that overflows. */
static size_t map_len(size_t n)
{
    return n > SIZE_MAX - BIGMEM_HUGE ? 0 : (n + BIGMEM_PAGE - 1) & ~(BIGMEM_PAGE - 1);
}

/* A fresh zero mapping of len bytes (a multiple of the page); at a 2 MiB
 * boundary and advised as huge pages when len is 2 MiB or more. */
static char *map_fresh(size_t len)
{
    size_t slack = len >= BIGMEM_HUGE ? BIGMEM_HUGE : 0;
    char *p = mmap(NULL, len + slack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (!slack)
        return p;
    /* Keep the aligned len bytes, give back the slack around them. */
    char *a = (char *)(((uintptr_t)p + BIGMEM_HUGE - 1) & ~(uintptr_t)(BIGMEM_HUGE - 1));
    if (a > p)
        munmap(p, (size_t)(a - p));
    if (p + slack > a)
        munmap(a + len, (size_t)(p + slack - a));
#ifdef MADV_HUGEPAGE
    (void)madvise(a, len, MADV_HUGEPAGE); /* advice only */
#endif
    return a;
}

void *bigmem_alloc(size_t n)
{
    size_t len = map_len(n);
    return len ? map_fresh(len) : NULL;
}

void *bigmem_grow(void *p, size_t old, size_t n)
{
    if (!p)
        return bigmem_alloc(n);
    size_t olen = map_len(old), len = map_len(n);
    if (!len)
        return NULL;
    if (len <= olen)
        return p;
    char *q = map_fresh(len);
    if (!q)
        return NULL;
    /* The old pages move over the head of the new mapping, which keeps its
     * zero tail; page tables move, bytes are not copied. */
    if (mremap(p, olen, olen, MREMAP_MAYMOVE | MREMAP_FIXED, q) == MAP_FAILED) {
        memcpy(q, p, old);
        munmap(p, olen);
    }
#ifdef MADV_HUGEPAGE
    /* The moved head keeps the old mapping's advice: a small array had
     * none. */
    if (len >= BIGMEM_HUGE)
        (void)madvise(q, len, MADV_HUGEPAGE);
#endif
    return q;
}

void bigmem_free(void *p, size_t n)
{
    if (p)
        munmap(p, map_len(n));
}

#endif
