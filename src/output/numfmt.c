#include "output/numfmt.h"

#include <string.h>

#include "decode/tgtime.h"

static const char pairs[201] = "00010203040506070809"
                               "10111213141516171819"
                               "20212223242526272829"
                               "30313233343536373839"
                               "40414243444546474849"
                               "50515253545556575859"
                               "60616263646566676869"
                               "70717273747576777879"
                               "80818283848586878889"
                               "90919293949596979899";

char *nf_u64(char *out, uint64_t v)
{
    /* The length first, by comparisons, so the digits go straight to out. */
    unsigned n = 1;
    for (uint64_t t = 10; n < 20 && v >= t; t *= 10)
        n++;
    char *p = out + n;
    while (v >= 100) {
        p -= 2;
        memcpy(p, pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10)
        memcpy(p - 2, pairs + 2 * v, 2);
    else
        p[-1] = (char)('0' + v);
    return out + n;
}

char *nf_i64(char *out, int64_t v)
{
    if (v >= 0)
        return nf_u64(out, (uint64_t)v);
    *out = '-';
    return nf_u64(out + 1, 0 - (uint64_t)v);
}

/* The instants tgtime_format_iso() writes without clamping: years 0000 to
 * 9999 (its DAYS_YEAR_0 and DAYS_YEAR_10000). Outside them it is called
 * directly, so the clamping stays its own. */
#define US_PER_SEC INT64_C(1000000)
#define ISO_LO (INT64_C(-719528) * 86400 * US_PER_SEC)
#define ISO_HI (INT64_C(2932897) * 86400 * US_PER_SEC - 1)

void nf_clock_init(nf_clock *c)
{
    memset(c, 0, sizeof *c);
}

char *nf_iso(nf_clock *c, char *out, int64_t us)
{
    if (us < ISO_LO || us > ISO_HI) {
        char tmp[32];
        tgtime_format_iso(us, tmp);
        memcpy(out, tmp, NF_ISO_LEN);
        return out + NF_ISO_LEN;
    }
    int64_t sec = us / US_PER_SEC, frac = us % US_PER_SEC;
    if (frac < 0) {
        frac += US_PER_SEC;
        sec--;
    }
    /* sec + 2^62 is nonnegative for every sec in range: the slot of a
     * negative second is its remainder too. */
    size_t k = (size_t)(((uint64_t)sec + ((uint64_t)1 << 62)) % NF_CLOCK_SLOTS);
    if (!c->slot[k].valid || sec != c->slot[k].sec) {
        /* A day boundary is a whole second, so the text before the
         * fraction depends on the second alone. */
        char tmp[32];
        tgtime_format_iso(sec * US_PER_SEC, tmp);
        memcpy(c->slot[k].head, tmp, sizeof c->slot[k].head);
        c->slot[k].sec = sec;
        c->slot[k].valid = 1;
    }
    memcpy(out, c->slot[k].head, sizeof c->slot[k].head);
    unsigned f = (unsigned)frac;
    memcpy(out + 20, pairs + 2 * (f / 10000), 2);
    memcpy(out + 22, pairs + 2 * (f / 100 % 100), 2);
    memcpy(out + 24, pairs + 2 * (f % 100), 2);
    out[26] = 'Z';
    return out + NF_ISO_LEN;
}
