/*
 * tgtime: ISO-8601 UTC timestamps and ALB durations as microseconds.
 *
 * Every conversion is plain integer arithmetic on the digits. The calendar
 * arithmetic is Howard Hinnant's days_from_civil / civil_from_days, exact
 * for the proleptic Gregorian calendar and free of tables and loops.
 */
#include "decode/tgtime.h"

/* GCC takes the code after a run of "return false" for cold and compiles
 * the calendar arithmetic there with real divisions; saying that malformed
 * timestamps are rare keeps it on the fast path. */
#if defined(__GNUC__)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define UNLIKELY(x) (x)
#endif

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_SEC)

/* Days from 1970-01-01 to 0000-01-01 and to 10000-01-01: the years the
 * four-digit formats can spell. */
#define DAYS_YEAR_0 INT64_C(-719528)
#define DAYS_YEAR_10000 INT64_C(2932897)

int64_t tgtime_days_from_civil(int y, unsigned m, unsigned d)
{
    /* Counting years from March puts the leap day last, so the day of the
     * year follows from the month by a linear formula. */
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int64_t)era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of tgtime_days_from_civil(). */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400) + (*m <= 2);
}

static bool is_leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The value of the decimal digit c, or a number above 9 for anything else
 * (the subtraction wraps for bytes below '0'). */
static inline unsigned dig(char c)
{
    return (unsigned)(unsigned char)c - '0';
}

/* Reads two decimal digits at s; sets *bad if either is not a digit.
 * Timestamps are read in such pairs at fixed offsets rather than by a loop
 * over digits, which the compiler does not unroll at -O2: two timestamps
 * are parsed for every ALB line. */
static inline unsigned d2(const char *s, unsigned *bad)
{
    unsigned a = dig(s[0]), b = dig(s[1]);
    *bad |= (a > 9) | (b > 9);
    return a * 10 + b;
}

/* tgtime_days_from_civil() for years 0..9999 in unsigned arithmetic: the
 * year is moved up by one 400-year era (146097 days) so that it stays
 * positive even after March-based counting subtracts one. */
static inline int64_t days_from_civil_u(unsigned y, unsigned m, unsigned d)
{
    y += 400 - (unsigned)(m <= 2);
    const unsigned era = y / 400;
    const unsigned yoe = y - era * 400;
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int64_t)era * 146097 + (int64_t)doe - 719468 - 146097;
}

bool tgtime_parse_iso(const char *s, size_t n, int64_t *us)
{
    /* "YYYY-MM-DDTHH:MM:SS" is 19 bytes, then "Z" or "." + 1..9 digits + "Z". */
    if (UNLIKELY(n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
                 s[16] != ':' || s[n - 1] != 'Z'))
        return false;
    /* The digit checks are OR-ed together and tested once: ALB lines are
     * almost always valid, and one branch beats six. */
    unsigned bad = 0;
    unsigned y = d2(s, &bad) * 100 + d2(s + 2, &bad);
    unsigned mo = d2(s + 5, &bad), d = d2(s + 8, &bad);
    unsigned h = d2(s + 11, &bad), mi = d2(s + 14, &bad), sec = d2(s + 17, &bad);

    /* ALB writes exactly six digits; other lengths are scaled to them, and
     * digits past the sixth are checked but dropped (truncation). */
    unsigned frac = 0;
    if (n == 27) {
        bad |= s[19] != '.';
        frac = d2(s + 20, &bad) * 10000 + d2(s + 22, &bad) * 100 + d2(s + 24, &bad);
    } else if (n > 20) {
        size_t nf = n - 21;
        if (s[19] != '.' || nf < 1 || nf > 9)
            return false;
        unsigned i = 0;
        for (; i < nf; i++) {
            unsigned x = dig(s[20 + i]);
            if (x > 9)
                return false;
            if (i < 6)
                frac = frac * 10 + x;
        }
        for (; i < 6; i++)
            frac *= 10;
    }
    if (UNLIKELY(bad))
        return false;

    /* A leap second (:60) is rejected with the rest: ALB never writes one,
     * and accepting it would make two spellings of the same instant. */
    static const unsigned char mdays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (UNLIKELY(mo - 1 > 11 || d - 1 > 30 || h > 23 || mi > 59 || sec > 59))
        return false;
    if (UNLIKELY(d > mdays[mo]) && !(mo == 2 && d == 29 && is_leap(y)))
        return false;

    int64_t days = days_from_civil_u(y, mo, d);
    int64_t secs = days * 86400 + (int64_t)(h * 3600 + mi * 60 + sec);
    *us = secs * US_PER_SEC + frac;
    return true;
}

/* Writes v as exactly k decimal digits, most significant first. */
static inline void put_digits(char *out, unsigned v, unsigned k)
{
    while (k-- > 0) {
        out[k] = (char)('0' + v % 10);
        v /= 10;
    }
}

size_t tgtime_format_iso(int64_t us, char out[32])
{
    /* The format has room for years 0000 to 9999 only, so instants outside
     * them (TGTIME_NONE among them) are clamped to the nearest end: the
     * output keeps its fixed width and the call cannot overflow. */
    const int64_t lo = DAYS_YEAR_0 * US_PER_DAY;
    const int64_t hi = DAYS_YEAR_10000 * US_PER_DAY - 1;
    if (us < lo)
        us = lo;
    if (us > hi)
        us = hi;

    int64_t days = us / US_PER_DAY, rem = us % US_PER_DAY;
    if (rem < 0) {
        rem += US_PER_DAY;
        days--;
    }
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    unsigned secs = (unsigned)(rem / US_PER_SEC);
    unsigned frac = (unsigned)(rem % US_PER_SEC);

    put_digits(out, (unsigned)y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = 'T';
    put_digits(out + 11, secs / 3600, 2);
    out[13] = ':';
    put_digits(out + 14, secs / 60 % 60, 2);
    out[16] = ':';
    put_digits(out + 17, secs % 60, 2);
    out[19] = '.';
    put_digits(out + 20, frac, 6);
    out[26] = 'Z';
    out[27] = '\0';
    return 27;
}

bool tgtime_parse_seconds(const char *s, size_t n, int64_t *us)
{
    /* ALB's "unknown" marker; no other negative value is a duration. */
    if ((n == 1 && s[0] == '-') || (n == 2 && s[0] == '-' && s[1] == '1')) {
        *us = -1;
        return true;
    }
    /* 12 integer digits (about 31,700 years) keep every result far inside
     * int64_t; a longer number is not a duration ALB could have written. */
    size_t i = 0;
    int64_t whole = 0;
    while (i < n && dig(s[i]) <= 9) {
        if (i == 12)
            return false;
        whole = whole * 10 + dig(s[i]);
        i++;
    }
    if (i == 0)
        return false;
    int64_t frac = 0;
    if (i < n) {
        if (s[i] != '.' || i + 1 == n)
            return false;
        i++;
        /* Six digits are microseconds; the seventh decides the rounding
         * (the ones after it can only push a 5 further up). */
        int64_t scale = 100000;
        bool round_up = false;
        for (size_t k = 0; i < n; i++, k++) {
            unsigned x = dig(s[i]);
            if (x > 9)
                return false;
            if (k < 6) {
                frac += (int64_t)x * scale;
                scale /= 10;
            } else if (k == 6) {
                round_up = x >= 5;
            }
        }
        frac += round_up;
    }
    *us = whole * US_PER_SEC + frac;
    return true;
}
