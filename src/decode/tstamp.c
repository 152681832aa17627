/*
 * tstamp: application timestamps by arithmetic on the digits.
 *
 * Decisions the header leaves open, made here:
 * - ISO-8601 needs the seconds: "2023-10-04T17:05" without them is too
 *   easily something else (a version, a key). The separator is 'T', 't' or
 *   one space; the fraction is introduced by '.' or ',' (Python logging
 *   writes "17:05:15,896").
 * - An offset is "+hh:mm", "+hhmm" or "+hh" right after the time, or
 *   "+hh:mm"/"+hhmm" after one space (Go's and strftime's "%z" layouts).
 *   Offset hours up to 23 are accepted although real zones stop at 14:
 *   the digits are unambiguous and rejecting them would only lose lines.
 * - The Apache form needs its two-digit day and English month name (any
 *   case); its offset is "-0700" after one space, as every server writes it.
 * - A timestamp followed directly by a digit is no timestamp: that is a
 *   longer number, not a time.
 */
#include "decode/tstamp.h"

#include <string.h>

#include "util/bits.h" /* byte_mask16(), and <emmintrin.h> */

#include "decode/tgtime.h"

#define US_PER_SEC INT64_C(1000000)

static inline unsigned dig(char c)
{
    return (unsigned)(unsigned char)c - '0';
}

static inline bool is_digit(char c)
{
    return dig(c) <= 9;
}

/* Two decimal digits at s; *bad collects non-digits. */
static inline unsigned d2(const char *s, unsigned *bad)
{
    unsigned a = dig(s[0]), b = dig(s[1]);
    *bad |= (a > 9) | (b > 9);
    return a * 10 + b;
}

typedef struct civil {
    unsigned y, mo, d, h, mi, sec, frac; /* frac in microseconds */
    int off;                              /* seconds east of UTC */
} civil;

static bool is_leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Range checks, then the instant. Leap seconds are rejected as tgtime does.
 * *first gets the first second of the minute as written, before the offset
 * (tstamp_minute). */
static bool civil_to_us(const civil *c, int64_t *us, int64_t *first)
{
    static const unsigned char mdays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (c->mo - 1 > 11 || c->d - 1 > 30 || c->h > 23 || c->mi > 59 || c->sec > 59)
        return false;
    if (c->d > mdays[c->mo] && !(c->mo == 2 && c->d == 29 && is_leap(c->y)))
        return false;
    int64_t days = tgtime_days_from_civil((int)c->y, c->mo, c->d);
    *first = days * 86400 + (int64_t)(c->h * 3600 + c->mi * 60);
    *us = (*first + c->sec - c->off) * US_PER_SEC + c->frac;
    return true;
}

/* Whether the n <= 17 bytes at s are those of m's minute: two loads each. */
static inline bool in_minute(const tstamp_minute *m, const char *s, size_t n)
{
    uint64_t a, b, c, d;
    memcpy(&a, s, 8);
    memcpy(&b, m->text, 8);
    memcpy(&c, s + n - 8, 8);
    memcpy(&d, m->text + n - 8, 8);
    return m->set && ((a ^ b) | (c ^ d)) == 0 && (n <= 16 || s[8] == m->text[8]);
}

/*
 * The end of both forms' reading, i the index past the timestamp: the
 * instant, from the date when the timestamp is not in m's minute (held
 * false), and then its minute kept in m (the first n bytes of s); from m's
 * minute when it is, with only the seconds left to range-check. Returns i,
 * or 0 for a timestamp out of range.
 */
static inline size_t finish(const civil *c, size_t i, bool held, tstamp_minute *m, const char *s,
                            size_t n, int64_t *us)
{
    if (held) {
        if (c->sec > 59)
            return 0;
        *us = (m->first + c->sec - c->off) * US_PER_SEC + c->frac;
        return i;
    }
    int64_t first;
    if (!civil_to_us(c, us, &first))
        return 0;
    if (m) {
        memcpy(m->text, s, n);
        m->first = first;
        m->set = true;
    }
    return i;
}

/* Reads an optional fraction ('.' or ',' and at least one digit) at s[i];
 * returns the index after it. Digits past the sixth are read and dropped. */
static size_t read_frac(const char *s, size_t n, size_t i, unsigned *frac)
{
    *frac = 0;
    if (i + 1 >= n || (s[i] != '.' && s[i] != ',') || !is_digit(s[i + 1]))
        return i;
    i++;
    unsigned k = 0;
    for (; i < n && is_digit(s[i]); i++, k++)
        if (k < 6)
            *frac = *frac * 10 + dig(s[i]);
    for (; k < 6; k++)
        *frac *= 10;
    return i;
}

/* Reads "+hh:mm", "+hhmm" or (when !full) "+hh" at s[i]; returns its
 * length, 0 when there is none. */
static size_t read_offset(const char *s, size_t n, size_t i, bool full, int *off)
{
    if (i + 3 > n || (s[i] != '+' && s[i] != '-'))
        return 0;
    unsigned bad = 0, hh = d2(s + i + 1, &bad), mm = 0;
    size_t len = 3;
    if (bad)
        return 0;
    if (i + 6 <= n && s[i + 3] == ':') {
        mm = d2(s + i + 4, &bad);
        len = 6;
    } else if (i + 5 <= n && is_digit(s[i + 3])) {
        mm = d2(s + i + 3, &bad);
        len = 5;
    } else if (full) {
        return 0;
    }
    if (bad || hh > 23 || mm > 59)
        return 0;
    int v = (int)(hh * 3600 + mm * 60);
    *off = s[i] == '-' ? -v : v;
    return len;
}

/* The zone after a time at s[i]: Z, an offset, or a spaced offset or UTC/GMT.
 * Returns the index after it; sets c->off and *zoned. */
static size_t read_zone(const char *s, size_t n, size_t i, civil *c, bool *zoned)
{
    c->off = 0;
    *zoned = false;
    if (i >= n)
        return i;
    size_t k;
    if (s[i] == 'Z' || s[i] == 'z') {
        *zoned = true;
        return i + 1;
    }
    if ((k = read_offset(s, n, i, false, &c->off)) != 0) {
        *zoned = true;
        return i + k;
    }
    if (s[i] != ' ')
        return i;
    if ((k = read_offset(s, n, i + 1, true, &c->off)) != 0) {
        *zoned = true;
        return i + 1 + k;
    }
    if (i + 4 <= n && (memcmp(s + i + 1, "UTC", 3) == 0 || memcmp(s + i + 1, "GMT", 3) == 0) &&
        (i + 4 == n || !((s[i + 4] | 0x20) >= 'a' && (s[i + 4] | 0x20) <= 'z'))) {
        *zoned = true;
        return i + 4;
    }
    return i;
}

/* "YYYY-MM-DD[T ]HH:MM:SS[.f][zone]" at s; returns its length or 0. With a
 * memo holding its first 16 bytes, the date, hour and minute are the
 * memo's; else a valid one's become the memo's. */
static size_t scan_iso(const char *s, size_t n, int64_t *us, bool *zoned, tstamp_memo *memo)
{
    if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        s[13] != ':' || s[16] != ':')
        return 0;
    civil c;
    unsigned bad = 0;
    tstamp_minute *m = memo ? &memo->iso : NULL;
    const bool held = m && in_minute(m, s, 16);
    if (!held) {
        c.y = d2(s, &bad) * 100 + d2(s + 2, &bad);
        c.mo = d2(s + 5, &bad);
        c.d = d2(s + 8, &bad);
        c.h = d2(s + 11, &bad);
        c.mi = d2(s + 14, &bad);
    }
    c.sec = d2(s + 17, &bad);
    if (bad)
        return 0;
    size_t i = read_frac(s, n, 19, &c.frac);
    i = read_zone(s, n, i, &c, zoned);
    if (i < n && is_digit(s[i]))
        return 0;
    return finish(&c, i, held, m, s, 16, us);
}

/* The month of a three-letter English abbreviation in any case, 0 if none. */
static unsigned month_of(const char *m)
{
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    char a = (char)(m[0] | 0x20), b = (char)(m[1] | 0x20), c = (char)(m[2] | 0x20);
    for (unsigned k = 0; k < 12; k++)
        if (names[3 * k] == a && names[3 * k + 1] == b && names[3 * k + 2] == c)
            return k + 1;
    return 0;
}

/* "DD/Mon/YYYY:HH:MM:SS[.f][ -0700]" at s; returns its length or 0. The
 * memo as scan_iso()'s, over the first 17 bytes. */
static size_t scan_clf(const char *s, size_t n, int64_t *us, bool *zoned, tstamp_memo *memo)
{
    if (n < 20 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':')
        return 0;
    civil c;
    unsigned bad = 0;
    tstamp_minute *m = memo ? &memo->clf : NULL;
    const bool held = m && in_minute(m, s, 17);
    c.mo = 1; /* a held minute's month is known good */
    if (!held) {
        c.d = d2(s, &bad);
        c.mo = month_of(s + 3);
        c.y = d2(s + 7, &bad) * 100 + d2(s + 9, &bad);
        c.h = d2(s + 12, &bad);
        c.mi = d2(s + 15, &bad);
    }
    c.sec = d2(s + 18, &bad);
    if (bad || c.mo == 0)
        return 0;
    size_t i = read_frac(s, n, 20, &c.frac);
    c.off = 0;
    *zoned = false;
    size_t k;
    if (i < n && s[i] == ' ' && (k = read_offset(s, n, i + 1, true, &c.off)) != 0) {
        *zoned = true;
        i += 1 + k;
    }
    if (i < n && is_digit(s[i]))
        return 0;
    return finish(&c, i, held, m, s, 17, us);
}

static inline __attribute__((always_inline)) size_t
parse_prefix(const char *s, size_t n, int64_t *us, bool *zoned, tstamp_memo *memo)
{
    bool z = false;
    int64_t v;
    size_t k = 0;
    if (n >= 19 && s[4] == '-')
        k = scan_iso(s, n, &v, &z, memo);
    else if (n >= 20 && s[2] == '/')
        k = scan_clf(s, n, &v, &z, memo);
    if (k == 0)
        return 0;
    *us = v;
    if (zoned)
        *zoned = z;
    return k;
}

size_t tstamp_parse_prefix(const char *s, size_t n, int64_t *us, bool *zoned)
{
    return parse_prefix(s, n, us, zoned, NULL);
}

static inline bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

bool tstamp_parse(const char *s, size_t n, int64_t *us)
{
    while (n > 0 && is_blank(s[0]))
        s++, n--;
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']')
        s++, n -= 2;
    int64_t v;
    if (n == 0 || tstamp_parse_prefix(s, n, &v, NULL) != n)
        return false;
    *us = v;
    return true;
}

bool tstamp_parse_epoch(const char *s, size_t n, int64_t *us)
{
    /* 19 digits stay below 2^63; nanoseconds need no more until 2262. */
    size_t i = 0;
    uint64_t whole = 0;
    for (; i < n && is_digit(s[i]); i++) {
        if (i == 19)
            return false;
        whole = whole * 10 + dig(s[i]);
    }
    size_t nd = i;
    if (nd == 0)
        return false;
    /* The fraction's first six digits, scaled to millionths. */
    unsigned frac = 0;
    if (i < n) {
        if (s[i] != '.' || i + 1 == n)
            return false;
        size_t f0 = ++i;
        for (; i < n && is_digit(s[i]); i++)
            if (i - f0 < 6)
                frac = frac * 10 + dig(s[i]);
        if (i != n)
            return false;
        for (size_t k = i - f0; k < 6; k++)
            frac *= 10;
    }
    /* Nanoseconds are divided before the conversion to signed: 19 digits
     * may exceed INT64_MAX, their thousandth never does. */
    if (nd <= 11)
        *us = (int64_t)whole * US_PER_SEC + frac;
    else if (nd <= 14)
        *us = (int64_t)whole * 1000 + frac / 1000;
    else if (nd <= 17)
        *us = (int64_t)whole;
    else
        *us = (int64_t)(whole / 1000);
    return true;
}

/* Whether line[i] is shaped like a timestamp's start: "YYYY-" or "DD/",
 * with room for the shortest of each. */
static inline bool shaped_at(const char *line, size_t n, size_t i)
{
    size_t rest = n - i;
    return (rest >= 19 && line[i + 4] == '-') || (rest >= 20 && line[i + 2] == '/');
}

/* Whether a timestamp starts at line[i]; if so, it goes to *out. */
static inline __attribute__((always_inline)) bool try_at(const char *line, size_t n, size_t i,
                                                         tstamp_memo *memo, tstamp_match *out)
{
    size_t k = parse_prefix(line + i, n - i, &out->us, &out->zoned, memo);
    if (k == 0)
        return false;
    out->off = i;
    out->len = k;
    return true;
}

#ifdef __SSE2__
/* The digits among the 16 bytes at p: unsigned p[k] - '0' <= 9. */
static inline unsigned digits16(const char *p)
{
    const __m128i d = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)p),
                                   _mm_set1_epi8('0'));
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
}
#endif

static inline __attribute__((always_inline)) bool find(const char *line, size_t n,
                                                       tstamp_memo *memo, tstamp_match *out)
{
    /* Only the first digit of a run can start a timestamp. The cheap shape
     * tests keep the full parse for real candidates. */
    size_t w = n < TSTAMP_FIND_WINDOW ? n : TSTAMP_FIND_WINDOW;
    size_t i = 0;
#ifdef __SSE2__
    /* The candidates of 16 positions at a time. Byte by byte, the search
     * that passes an nginx line's client address before its
     * "[10/Oct/2000:…" was a third of the time spent on the timestamp.
     * The shape is tested without the room (tstamp_parse_prefix() tests
     * both again); the loads reach line[i + 20), inside the line. */
    if (w > 0 && is_digit(line[0]) && shaped_at(line, n, 0) && try_at(line, n, 0, memo, out))
        return true;
    for (i = 1; i + 16 <= w && i + 20 <= n; i += 16) {
        unsigned m = digits16(line + i) & ~digits16(line + i - 1) &
                     (byte_mask16(line + i + 4, '-') | byte_mask16(line + i + 2, '/'));
        for (; m != 0; m &= m - 1)
            if (try_at(line, n, i + (unsigned)__builtin_ctz(m), memo, out))
                return true;
    }
#endif
    for (; i < w; i++)
        if (is_digit(line[i]) && !(i > 0 && is_digit(line[i - 1])) && shaped_at(line, n, i) &&
            try_at(line, n, i, memo, out))
            return true;
    return false;
}

bool tstamp_find(const char *line, size_t n, tstamp_match *out)
{
    return find(line, n, NULL, out);
}

bool tstamp_find_memo(const char *line, size_t n, tstamp_memo *memo, tstamp_match *out)
{
    return find(line, n, memo, out);
}
