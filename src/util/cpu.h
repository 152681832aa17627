/*
 * cpu: which vector instructions the hot loops may use.
 *
 * The build targets baseline x86-64 (SSE2), which every machine has; the
 * few loops that gain from AVX2 (the ALB tokenizer's masks, line counting)
 * have a second version compiled for it, chosen per call by tg_cpu_avx2().
 * That level also has the bit instructions every AVX2 processor has (Intel
 * since Haswell, AMD since Zen): POPCNT, BMI1 and BMI2 (tzcnt, blsr, shrx)
 * and PCLMULQDQ (a prefix XOR in one carry-less multiply). pdep and pext,
 * microcoded on AMD before Zen 3, are not used.
 * TG_CPU=sse2 in the environment turns AVX2 off, so that tests and
 * benchmarks can run the baseline path on any machine.
 */
#ifndef TG_CPU_H
#define TG_CPU_H

#include <stdatomic.h>
#include <stdbool.h>

/* AVX2 versions are built with a target attribute and chosen at run time.
 * Not in a build without SSE2 (scripts/test.sh builds one on x86-64 for the
 * plain C loops that other architectures get): there, GCC's intrinsics
 * headers would define __SSE2__ again behind their target pragmas, and the
 * files including <immintrin.h> would compile their vector loops after
 * all. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__AVX2__) && defined(__SSE2__)
#define TG_AVX2_DISPATCH 1
#define TG_TARGET_AVX2 __attribute__((target("avx2,bmi,bmi2,popcnt,pclmul")))
#endif

/* 0 before the first tg_cpu_avx2(), then 1 (baseline) or 2 (AVX2). */
extern atomic_int tg_cpu_level;

/* Looks the level up (any thread may; they all find the same). */
int tg_cpu_detect(void);

/* True when the AVX2 versions are to be used. One relaxed load once the
 * level is known. */
static inline bool tg_cpu_avx2(void)
{
    int level = atomic_load_explicit(&tg_cpu_level, memory_order_relaxed);
    if (level == 0)
        level = tg_cpu_detect();
    return level == 2;
}

#endif
