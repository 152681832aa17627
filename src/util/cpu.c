#include "util/cpu.h"

#include <stdlib.h>
#include <string.h>

atomic_int tg_cpu_level;

int tg_cpu_detect(void)
{
    const char *force = getenv("TG_CPU");
    bool off = force && strcmp(force, "sse2") == 0;
    int level = 1;
#if defined(__AVX2__)
    level = 2; /* the whole build assumes it */
    (void)off;
#elif defined(TG_AVX2_DISPATCH)
    __builtin_cpu_init();
    if (!off && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
        __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt") &&
        __builtin_cpu_supports("pclmul"))
        level = 2;
#else
    (void)off;
#endif
    atomic_store_explicit(&tg_cpu_level, level, memory_order_relaxed);
    return level;
}
