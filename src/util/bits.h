/*
 * bits: bit scans and counts of 64-bit masks, for the loops that find
 * bytes 16 or 64 at a time (the ALB tokenizer, CloudFront's columns,
 * application lines, timestamps), and the 16-byte mask most of them start
 * from. Header-only; x must be nonzero for ctz64() and clz64().
 */
#ifndef TG_BITS_H
#define TG_BITS_H

#include <stdint.h>

#ifdef __SSE2__
#include <emmintrin.h>

/* The bytes equal to c among the 16 at p, bit i for p[i]. */
static inline unsigned byte_mask16(const char *p, char c)
{
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c)));
}
#endif

/* GCC and clang (the compilers the build supports) have them as builtins;
 * the loops keep the code compilable elsewhere. */
#if defined(__GNUC__)
#define ctz64(x) ((unsigned)__builtin_ctzll(x))
#define clz64(x) ((unsigned)__builtin_clzll(x))
#if defined(__POPCNT__)
#define popcount64(x) ((unsigned)__builtin_popcountll(x))
#else
/* Without -mpopcnt the builtin is a call into libgcc; this is a dozen
 * inline operations. */
static inline unsigned popcount64(uint64_t x)
{
    x -= (x >> 1) & 0x5555555555555555ull;
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
}
#endif
#else
static inline unsigned ctz64(uint64_t x)
{
    unsigned c = 0;
    while (!(x & 1)) {
        x >>= 1;
        c++;
    }
    return c;
}
static inline unsigned clz64(uint64_t x)
{
    unsigned c = 0;
    while (!(x >> 63)) {
        x <<= 1;
        c++;
    }
    return c;
}
static inline unsigned popcount64(uint64_t x)
{
    unsigned c = 0;
    for (; x != 0; x &= x - 1)
        c++;
    return c;
}
#endif

#endif
