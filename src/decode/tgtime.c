/*
 * tgtime: ISO-8601 UTC timestamps and ALB durations as microseconds.
 *
 * Every conversion is plain integer arithmetic on the digits. The calendar
 * arithmetic is Howard Hinnant's days_from_civil / civil_from_days, exact
 * for the proleptic Gregorian calendar and free of loops (the parser's copy
 * looks up the days before each month in a 12-entry table).
 */
#include "decode/tgtime.h"

#include <string.h>

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

/*
 * The fixed part of a timestamp, "YYYY-MM-DDTHH:MM:SS", and ALB's
 * ".ffffffZ" after it are read as 8-byte words, each checked against its
 * pattern and converted with a few word-wide operations instead of a branch
 * per byte: two timestamps are parsed for every ALB line. Byte i of a word
 * is the text's byte i whatever the machine, so shifts count bytes left to
 * right.
 */
#define ONES UINT64_C(0x0101010101010101)

/* The word of the 8 bytes b0..b7. */
#define WORD8(b0, b1, b2, b3, b4, b5, b6, b7)                                                      \
    ((uint64_t)(b0) | (uint64_t)(b1) << 8 | (uint64_t)(b2) << 16 | (uint64_t)(b3) << 24 |          \
     (uint64_t)(b4) << 32 | (uint64_t)(b5) << 40 | (uint64_t)(b6) << 48 | (uint64_t)(b7) << 56)

/* A pattern is two words. Its template holds '0' where a digit goes and the
 * fixed byte elsewhere; its limits hold 0x7f minus the largest value allowed
 * at each byte once the template is subtracted: a digit up to 9 (L9) or up
 * to 5 (L5), a fixed byte exactly (LX). Bounding the tens of minutes and
 * seconds to 5 is their whole range check; months, days and hours need more
 * than a bound on one digit and are checked as numbers. */
#define L9 (0x7f - 9)
#define L5 (0x7f - 5)
#define LX 0x7f
/* "YYYY-MM-" at offset 0 */
#define DATE_TPL WORD8('0', '0', '0', '0', '-', '0', '0', '-')
#define DATE_LIM WORD8(L9, L9, L9, L9, LX, L9, L9, LX)
/* "DDTHH:MM" at offset 8 */
#define DAY_TPL WORD8('0', '0', 'T', '0', '0', ':', '0', '0')
#define DAY_LIM WORD8(L9, L9, LX, L9, L9, LX, L5, L9)
/* "HH:MM:SS" at offset 11, overlapping the word before */
#define TIME_TPL WORD8('0', '0', ':', '0', '0', ':', '0', '0')
#define TIME_LIM WORD8(L9, L9, LX, L5, L9, LX, L5, L9)
/* ".ffffffZ" at offset 19 */
#define FRAC_TPL WORD8('.', '0', '0', '0', '0', '0', '0', 'Z')
#define FRAC_LIM WORD8(LX, L9, L9, L9, L9, L9, L9, LX)

/* The 8 bytes at p as a word whose lowest byte is p[0]. */
static inline uint64_t load_le64(const char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
#else
    uint64_t w = 0;
    for (int i = 7; i >= 0; i--)
        w = w << 8 | (unsigned char)p[i];
    return w;
#endif
}

/*
 * Subtracts a pattern's template from the word w and returns the result x.
 * When w matches the pattern, each byte of x is its digit's value (0 at the
 * fixed bytes), nothing borrows or carries between bytes, and neither x nor
 * x + lim has a high bit set. When some byte does not match, the lowest
 * such byte, which no borrow or carry from below disturbs, sets the high
 * bit of x or of x + lim, and *bad collects both: below its template byte
 * it wraps to 0x80 or more (templates are at most 'Z', 0x5a); above its
 * maximum it is either 0x80 or more already or, adding 0x7f - maximum,
 * reaches 0x80 without passing 0xff.
 */
static inline uint64_t word_digits(uint64_t w, uint64_t tpl, uint64_t lim, uint64_t *bad)
{
    const uint64_t x = w - tpl;
    *bad |= x | (x + lim);
    return x;
}

/* Byte i of the result is 10 * digit i + digit i+1 of a word of digit
 * values (at most 99, so nothing carries between bytes). */
static inline uint64_t digit_pairs(uint64_t x)
{
    return x * 10 + (x >> 8);
}

/* Byte i of w. */
static inline unsigned byte_at(uint64_t w, unsigned i)
{
    return (unsigned)(w >> 8 * i) & 0xff;
}

/* tgtime_days_from_civil() for years 0..9999 in unsigned arithmetic. The
 * year counts from March, which puts the leap day last, and is moved up by
 * one 400-year era (146097 days) so that it stays positive. The days before
 * each month in such a year come from a table (they are (153 * (m - 3) + 2)
 * / 5 for m from March), and floor(floor(y / 100) / 4) is floor(y / 400). */
static inline int64_t days_from_civil_u(unsigned y, unsigned m, unsigned d)
{
    static const uint16_t before_month[13] = {0,   306, 337, 0,   31,  61, 92,
                                              122, 153, 184, 214, 245, 275};
    y += 400 - (unsigned)(m <= 2);
    const unsigned c = y / 100;
    const unsigned days = y * 365 + y / 4 - c + c / 4 + before_month[m] + d - 1;
    return (int64_t)days - 719468 - 146097;
}

bool tgtime_parse_iso(const char *s, size_t n, int64_t *us)
{
    /* "YYYY-MM-DDTHH:MM:SS" is 19 bytes, then "Z" or "." + 1..9 digits + "Z". */
    if (UNLIKELY(n < 20 || s[n - 1] != 'Z'))
        return false;
    /* The checks are OR-ed together and tested once: ALB lines are almost
     * always valid, and one branch beats several. */
    uint64_t bad = 0;
    const uint64_t date = word_digits(load_le64(s), DATE_TPL, DATE_LIM, &bad);
    const uint64_t day = word_digits(load_le64(s + 8), DAY_TPL, DAY_LIM, &bad);
    const uint64_t hms = word_digits(load_le64(s + 11), TIME_TPL, TIME_LIM, &bad);

    /* ALB writes exactly six digits; other lengths are scaled to them, and
     * digits past the sixth are checked but dropped (truncation). */
    unsigned frac = 0;
    if (n == 27) {
        const uint64_t p = digit_pairs(word_digits(load_le64(s + 19), FRAC_TPL, FRAC_LIM, &bad));
        frac = byte_at(p, 1) * 10000 + byte_at(p, 3) * 100 + byte_at(p, 5);
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
    if (UNLIKELY(bad & ONES * 0x80))
        return false;

    const uint64_t pd = digit_pairs(date), pt = digit_pairs(hms);
    const unsigned y = byte_at(pd, 0) * 100 + byte_at(pd, 2), mo = byte_at(pd, 5);
    const unsigned d = byte_at(digit_pairs(day), 0);
    const unsigned h = byte_at(pt, 0), mi = byte_at(pt, 3), sec = byte_at(pt, 6);

    /* A leap second (:60) is rejected with the rest (by the limit on the
     * tens of seconds): ALB never writes one, and accepting it would make
     * two spellings of the same instant. */
    static const unsigned char mdays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (UNLIKELY(mo - 1 > 11 || d == 0 || h > 23))
        return false;
    /* Every month has days 1 to 28; above that the table decides, which
     * also rejects days 32 to 99, no month having more than 31. */
    if (UNLIKELY(d > 28) && d > mdays[mo] && !(mo == 2 && d == 29 && is_leap(y)))
        return false;

    int64_t days = days_from_civil_u(y, mo, d);
    int64_t secs = days * 86400 + (int64_t)(h * 3600 + mi * 60 + sec);
    *us = secs * US_PER_SEC + frac;
    return true;
}

bool tgtime_parse_iso_near(const char *s, size_t n, const char *ref, int64_t ref_us, int64_t *us)
{
    /* Only seconds and fraction differ: they are checked as the full parse
     * checks them, and the date, hour and minute, being ref's, are valid. */
    if (n != 27 || memcmp(s, ref, 16) != 0)
        return tgtime_parse_iso(s, n, us);
    uint64_t bad = 0;
    const uint64_t pt = digit_pairs(word_digits(load_le64(s + 11), TIME_TPL, TIME_LIM, &bad));
    const uint64_t pf = digit_pairs(word_digits(load_le64(s + 19), FRAC_TPL, FRAC_LIM, &bad));
    if (UNLIKELY(bad & ONES * 0x80))
        return false;
    const int64_t minute = INT64_C(60) * US_PER_SEC;
    int64_t into = ref_us % minute;
    if (into < 0)
        into += minute;
    const unsigned frac = byte_at(pf, 1) * 10000 + byte_at(pf, 3) * 100 + byte_at(pf, 5);
    *us = ref_us - into + (int64_t)byte_at(pt, 6) * US_PER_SEC + frac;
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
