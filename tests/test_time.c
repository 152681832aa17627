/*
 * Unit tests of decode/tgtime: ISO-8601 parsing and formatting, the civil
 * calendar arithmetic, and ALB's seconds values.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/tgtime.h"

#define SENTINEL INT64_C(0x5a5a5a5a5a5a)

static bool parse(const char *s, int64_t *us)
{
    return tgtime_parse_iso(s, strlen(s), us);
}

/* Parses s, which must be accepted, and returns its value. */
static int64_t must_parse(const char *s)
{
    int64_t us = SENTINEL;
    cr_assert(parse(s, &us), "rejected a valid timestamp: %s", s);
    return us;
}

/* Checks that s is rejected and that the output is left alone. */
static void must_reject(const char *s)
{
    int64_t us = SENTINEL;
    cr_assert_not(parse(s, &us), "accepted an invalid timestamp: %s", s);
    cr_assert_eq(us, SENTINEL, "a rejected timestamp changed the output: %s", s);
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

Test(tgtime, days_from_civil_known_dates)
{
    cr_assert_eq(tgtime_days_from_civil(1970, 1, 1), 0);
    cr_assert_eq(tgtime_days_from_civil(1970, 1, 2), 1);
    cr_assert_eq(tgtime_days_from_civil(1969, 12, 31), -1);
    cr_assert_eq(tgtime_days_from_civil(2000, 3, 1), 11017);
    cr_assert_eq(tgtime_days_from_civil(2000, 2, 29), 951782400 / 86400);
    cr_assert_eq(tgtime_days_from_civil(2024, 2, 29), 1709164800 / 86400);
    cr_assert_eq(tgtime_days_from_civil(1, 1, 1), INT64_C(-62135596800) / 86400);
    cr_assert_eq(tgtime_days_from_civil(0, 1, 1), -719528);
    cr_assert_eq(tgtime_days_from_civil(9999, 12, 31), INT64_C(253402214400) / 86400);
}

/* Every day from year 0 to 9999, counted one by one, against the formula. */
Test(tgtime, days_from_civil_agrees_with_counting)
{
    static const unsigned mdays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t day = tgtime_days_from_civil(0, 1, 1);
    for (int y = 0; y <= 9999; y++) {
        for (unsigned m = 1; m <= 12; m++) {
            unsigned dim = mdays[m] + (m == 2 && leap(y));
            for (unsigned d = 1; d <= dim; d++, day++) {
                if (tgtime_days_from_civil(y, m, d) != day)
                    cr_assert_fail("%04d-%02u-%02u: got %lld, counted %lld", y, m, d,
                                   (long long)tgtime_days_from_civil(y, m, d), (long long)day);
            }
        }
    }
    cr_assert_eq(day, tgtime_days_from_civil(10000, 1, 1));
}

Test(tgtime, parse_known_instants)
{
    cr_assert_eq(must_parse("1970-01-01T00:00:00.000000Z"), 0);
    cr_assert_eq(must_parse("1970-01-01T00:00:00Z"), 0);
    cr_assert_eq(must_parse("2018-07-02T22:23:00.186641Z"), INT64_C(1530570180186641));
    cr_assert_eq(must_parse("2018-07-02T22:22:48.364000Z"), INT64_C(1530570168364000));
    cr_assert_eq(must_parse("1969-12-31T23:59:59.999999Z"), -1);
    cr_assert_eq(must_parse("0001-01-01T00:00:00Z"), INT64_C(-62135596800) * 1000000);
    cr_assert_eq(must_parse("9999-12-31T23:59:59.999999Z"),
                 (INT64_C(253402214400) + 86399) * 1000000 + 999999);
}

Test(tgtime, parse_leap_days)
{
    cr_assert_eq(must_parse("2000-02-29T00:00:00Z"), INT64_C(951782400) * 1000000);
    cr_assert_eq(must_parse("2024-02-29T00:00:00.000000Z"), INT64_C(1709164800) * 1000000);
    cr_assert_eq(must_parse("2024-03-01T00:00:00Z") - must_parse("2024-02-28T00:00:00Z"),
                 INT64_C(2) * 86400 * 1000000);
    /* Century years are leap years only when divisible by 400. */
    must_reject("1900-02-29T00:00:00Z");
    must_reject("2100-02-29T00:00:00Z");
    must_reject("2023-02-29T00:00:00Z");
    must_reject("2024-02-30T00:00:00Z");
    cr_assert_eq(must_parse("1900-03-01T00:00:00Z") - must_parse("1900-02-28T00:00:00Z"),
                 INT64_C(86400) * 1000000);
}

Test(tgtime, parse_fraction_lengths)
{
    static const struct {
        const char *s;
        int64_t frac;
    } cases[] = {
        {"2018-07-02T22:23:00Z", 0},
        {"2018-07-02T22:23:00.1Z", 100000},
        {"2018-07-02T22:23:00.18Z", 180000},
        {"2018-07-02T22:23:00.186Z", 186000},
        {"2018-07-02T22:23:00.1866Z", 186600},
        {"2018-07-02T22:23:00.18664Z", 186640},
        {"2018-07-02T22:23:00.186641Z", 186641},
        {"2018-07-02T22:23:00.1866419Z", 186641}, /* digits past the 6th are truncated */
        {"2018-07-02T22:23:00.18664199Z", 186641},
        {"2018-07-02T22:23:00.186641999Z", 186641},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(must_parse(cases[i].s), INT64_C(1530570180000000) + cases[i].frac, "%s",
                     cases[i].s);
    must_reject("2018-07-02T22:23:00.1866419999Z"); /* 10 digits */
    must_reject("2018-07-02T22:23:00.Z");           /* a point without digits */
    must_reject("2018-07-02T22:23:00.18a641Z");
    must_reject("2018-07-02T22:23:00,186641Z");
}

Test(tgtime, parse_requires_z)
{
    must_reject("2018-07-02T22:23:00.186641");
    must_reject("2018-07-02T22:23:00");
    must_reject("2018-07-02T22:23:00.186641+00:00");
    must_reject("2018-07-02T22:23:00.186641ZZ");
    must_reject("2018-07-02T22:23:00.186641 ");
}

Test(tgtime, parse_rejects_out_of_range_fields)
{
    must_reject("2018-00-02T22:23:00Z");
    must_reject("2018-13-02T22:23:00Z");
    must_reject("2018-07-00T22:23:00Z");
    must_reject("2018-07-32T22:23:00Z");
    must_reject("2018-04-31T22:23:00Z");
    must_reject("2018-07-02T24:00:00Z");
    must_reject("2018-07-02T22:60:00Z");
    must_reject("2018-07-02T22:23:60Z");
    cr_assert_eq(must_parse("2018-04-30T23:59:59Z") + 1000000, must_parse("2018-05-01T00:00:00Z"));
}

Test(tgtime, parse_rejects_bad_shapes)
{
    must_reject("");
    must_reject("-");
    must_reject("2018-07-02");
    must_reject("2018-07-02 22:23:00.186641Z");
    must_reject("2018/07/02T22:23:00.186641Z");
    must_reject("2018-07-02T22-23-00.186641Z");
    must_reject("2O18-07-02T22:23:00.186641Z");
    must_reject("2018-7-02T22:23:00.186641Z");
    must_reject("+018-07-02T22:23:00.186641Z");
    must_reject("2018-07-02T22:23:0 .186641Z");
    must_reject("12018-07-02T22:23:00.186641Z");
    /* The length given is obeyed: a valid prefix of a longer buffer is not
     * read past. */
    int64_t us = SENTINEL;
    const char *s = "2018-07-02T22:23:00.186641Z";
    cr_assert_not(tgtime_parse_iso(s, 26, &us));
    cr_assert_eq(us, SENTINEL);
    cr_assert(tgtime_parse_iso("2018-07-02T22:23:00Zjunk", 20, &us));
    cr_assert_eq(us, INT64_C(1530570180000000));
}

/*
 * A plain reading of the format, one byte at a time, for the sweeps below:
 * tgtime_parse_iso() reads the fixed part and ALB's six-digit fraction a
 * word at a time, and must accept and compute exactly what this does.
 */
static unsigned days_in_month(int y, unsigned m)
{
    static const unsigned mdays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return mdays[m] + (m == 2 && leap(y));
}

static bool is_dig(char c)
{
    return c >= '0' && c <= '9';
}

static unsigned num(const char *s, size_t k)
{
    unsigned v = 0;
    for (size_t i = 0; i < k; i++)
        v = v * 10 + (unsigned)(s[i] - '0');
    return v;
}

static bool ref_parse(const char *s, size_t n, int64_t *us)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    if (n < 20 || n == 21 || n > 30 || s[n - 1] != 'Z')
        return false;
    for (size_t i = 0; i < 19; i++)
        if (shape[i] == 'd' ? !is_dig(s[i]) : s[i] != shape[i])
            return false;
    if (n > 20 && s[19] != '.')
        return false;
    int64_t frac = 0;
    for (size_t i = 0; i < 6; i++) {
        size_t at = 20 + i;
        frac = frac * 10 + (at < n - 1 ? s[at] - '0' : 0);
    }
    for (size_t at = 20; at < n - 1; at++)
        if (!is_dig(s[at]))
            return false;
    int y = (int)num(s, 4);
    unsigned mo = num(s + 5, 2), d = num(s + 8, 2);
    unsigned h = num(s + 11, 2), mi = num(s + 14, 2), sec = num(s + 17, 2);
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
        return false;
    int64_t secs = tgtime_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    *us = secs * 1000000 + frac;
    return true;
}

/* Parses s[0..n) (copied to a buffer of exactly n bytes, so that a read
 * past the end shows under ASan) and compares with the plain reading;
 * returns whether it was accepted. */
static bool agrees(const char *s, size_t n)
{
    char *copy = malloc(n ? n : 1);
    cr_assert_not_null(copy);
    memcpy(copy, s, n);
    int64_t got = SENTINEL, want = SENTINEL;
    bool ok = tgtime_parse_iso(copy, n, &got);
    bool ref = ref_parse(s, n, &want);
    free(copy);
    if (ok != ref || got != want)
        cr_assert_fail("\"%.*s\" (%zu bytes): parse %d %lld, plain reading %d %lld", (int)n, s, n,
                       ok, (long long)got, ref, (long long)want);
    return ok;
}

Test(tgtime, parse_every_byte_at_every_position)
{
    static const char *const bases[] = {
        "2024-02-29T23:59:59.999999Z",    "1970-01-01T00:00:00.000000Z",
        "2018-07-02T22:23:00Z",           "2000-12-31T19:09:09.5Z",
        "1999-10-10T10:10:10.12Z",        "0000-01-01T00:00:00.123Z",
        "9999-12-31T23:59:59.1234Z",      "2025-11-20T23:30:00.05326Z",
        "2100-02-28T12:34:56.1234567Z",   "1900-01-31T01:02:03.12345678Z",
        "2023-06-30T20:00:00.123456789Z",
    };
    size_t accepted = 0, total = 0;
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        size_t n = strlen(bases[b]);
        cr_assert(agrees(bases[b], n), "base %s", bases[b]);
        char s[40];
        for (size_t i = 0; i < n; i++)
            for (unsigned c = 0; c < 256; c++) {
                memcpy(s, bases[b], n);
                s[i] = (char)c;
                accepted += agrees(s, n);
                total++;
            }
        /* Every shorter length, and longer ones made of digits and a Z. */
        for (size_t k = 0; k < n; k++)
            agrees(bases[b], k);
        memcpy(s, bases[b], n);
        for (size_t k = n; k < sizeof s; k++) {
            s[k - 1] = '7';
            s[k] = 'Z';
            agrees(s, k + 1);
        }
    }
    /* The sweep must have met both verdicts: a digit replaced by a digit
     * is often still valid. */
    cr_assert_gt(accepted, 1000);
    cr_assert_lt(accepted, total / 2);
}

/* tgtime_parse_iso_near() against the full parse: every byte at every
 * position of a timestamp in the same minute as its reference, and ones
 * that leave the minute, change length or are not timestamps at all. */
Test(tgtime, parse_near_agrees_with_full_parse)
{
    static const char *const refs[] = {
        "2025-11-20T08:00:59.999999Z", "1969-12-31T23:59:30.5Z", "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.123456789Z", "2024-02-29T12:34:00.000001Z",
    };
    size_t fast = 0, accepted = 0;
    for (size_t r = 0; r < sizeof refs / sizeof refs[0]; r++) {
        const char *ref = refs[r];
        int64_t ref_us = SENTINEL;
        cr_assert(tgtime_parse_iso(ref, strlen(ref), &ref_us), "%s", ref);
        char base[28];
        memcpy(base, ref, 16);
        memcpy(base + 16, ":07.250000Z", 12);
        for (size_t i = 0; i < 27; i++)
            for (unsigned c = 0; c < 256; c++) {
                char s[27];
                memcpy(s, base, 27);
                s[i] = (char)c;
                for (size_t n = 20; n <= 27; n++) {
                    int64_t near = SENTINEL, full = SENTINEL;
                    bool ok_near = tgtime_parse_iso_near(s, n, ref, ref_us, &near);
                    bool ok_full = tgtime_parse_iso(s, n, &full);
                    if (ok_near != ok_full || near != full)
                        cr_assert_fail("\"%.*s\" near %s: %d %lld, full parse %d %lld", (int)n, s,
                                       ref, ok_near, (long long)near, ok_full, (long long)full);
                    accepted += ok_full;
                    fast += n == 27 && i >= 16;
                }
            }
    }
    /* Both verdicts were met, many of them on the short path. */
    cr_assert_gt(accepted, 500);
    cr_assert_gt(fast, 10000);
}

Test(tgtime, parse_calendar_boundaries)
{
    static const int years[] = {0,    1,    4,    99,   100,  400,  1600, 1900, 1970,
                                1999, 2000, 2023, 2024, 2100, 2400, 9996, 9999};
    static const char *const tails[] = {"T00:00:00Z", "T23:59:59.999999Z", "T12:00:00.5Z",
                                        "T01:02:03.123456789Z"};
    for (size_t i = 0; i < sizeof years / sizeof years[0]; i++) {
        for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
            unsigned days = 0;
            for (unsigned m = 0; m <= 19; m++)
                for (unsigned d = 0; d <= 39; d++) {
                    char s[40];
                    int n = snprintf(s, sizeof s, "%04d-%02u-%02u%s", years[i], m, d, tails[t]);
                    days += agrees(s, (size_t)n);
                }
            /* Exactly the days of the year: month 00 and 13-19, day 00
             * and the days past each month's end are all rejected. */
            cr_assert_eq(days, leap(years[i]) ? 366u : 365u, "%04d%s", years[i], tails[t]);
        }
    }
    must_parse("2000-02-29T00:00:00.000000Z");
    must_parse("1600-02-29T00:00:00Z");
    must_reject("1900-02-29T00:00:00.000000Z");
    must_reject("2100-02-29T00:00:00.000000Z");
    must_reject("2023-02-29T00:00:00.000000Z");
    must_reject("2024-02-30T00:00:00.000000Z");
    must_reject("2024-04-31T00:00:00.000000Z");
    must_reject("2024-12-32T00:00:00.000000Z");
    must_reject("2024-00-10T00:00:00.000000Z");
    must_reject("2024-13-10T00:00:00.000000Z");
    must_reject("2024-01-00T00:00:00.000000Z");
}

Test(tgtime, parse_time_of_day_boundaries)
{
    static const char *const tails[] = {"Z", ".000000Z", ".999999Z", ".9Z", ".000000001Z"};
    for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
        unsigned accepted = 0;
        for (unsigned h = 0; h <= 29; h++)
            for (unsigned mi = 0; mi <= 99; mi++)
                for (unsigned sec = 0; sec <= 99; sec++) {
                    char s[40];
                    int n =
                        snprintf(s, sizeof s, "2024-02-29T%02u:%02u:%02u%s", h, mi, sec, tails[t]);
                    accepted += agrees(s, (size_t)n);
                }
        cr_assert_eq(accepted, 86400u, "%s", tails[t]);
    }
    must_reject("2024-02-29T24:00:00.000000Z");
    must_reject("2024-02-29T23:60:00.000000Z");
    must_reject("2024-02-29T23:59:60.000000Z"); /* no leap seconds */
    must_reject("2024-02-29T23:59:61.000000Z");
    must_reject("2024-02-29T23:61:00Z");
    cr_assert_eq(must_parse("2024-02-29T23:59:59.999999Z") + 1,
                 must_parse("2024-03-01T00:00:00.000000Z"));
}

Test(tgtime, parse_fraction_of_every_length)
{
    const int64_t base = must_parse("2025-11-20T23:30:00Z");
    for (size_t nf = 0; nf <= 12; nf++) {
        char s[48] = "2025-11-20T23:30:00";
        size_t n = 19;
        if (nf > 0)
            s[n++] = '.';
        for (size_t i = 0; i < nf; i++)
            s[n++] = (char)('1' + i % 9);
        s[n++] = 'Z';
        int64_t us = SENTINEL;
        bool ok = tgtime_parse_iso(s, n, &us);
        cr_assert_eq(ok, nf <= 9, "%.*s", (int)n, s);
        if (ok) {
            /* "123456789" cut to six digits or padded with zeros. */
            int64_t frac = 0;
            for (size_t i = 0; i < 6; i++)
                frac = frac * 10 + (i < nf ? (int64_t)(1 + i % 9) : 0);
            cr_assert_eq(us, base + frac, "%.*s", (int)n, s);
        }
        /* A bad byte at each place of the fraction, a missing Z. */
        for (size_t i = 19; i < n; i++) {
            char t[48];
            memcpy(t, s, n);
            t[i] = i == n - 1 ? '0' : (i == 19 ? ',' : 'a');
            agrees(t, n);
            t[i] = (char)0xb0; /* '0' with the high bit set */
            agrees(t, n);
        }
    }
    must_reject("2025-11-20T23:30:00.Z");
    must_reject("2025-11-20T23:30:00.0000000000Z");
    must_reject("2025-11-20T23:30:00.000000");
    must_reject("2025-11-20T23:30:00.00000Z0");
}

Test(tgtime, parse_rejects_high_bytes)
{
    /* Bytes with the high bit set whose low seven bits are what belongs
     * there, at every position, in each of the lengths read word-wide. */
    static const char *const bases[] = {"2024-02-29T23:59:59.999999Z", "2024-02-29T23:59:59Z"};
    for (size_t b = 0; b < 2; b++) {
        size_t n = strlen(bases[b]);
        for (size_t i = 0; i < n; i++) {
            char s[32];
            memcpy(s, bases[b], n);
            s[i] = (char)(s[i] | 0x80);
            int64_t us = SENTINEL;
            cr_assert_not(tgtime_parse_iso(s, n, &us), "%s with byte %zu | 0x80", bases[b], i);
            cr_assert_eq(us, SENTINEL);
        }
    }
}

static void check_format(int64_t us, const char *want)
{
    char out[32];
    memset(out, 'x', sizeof out);
    cr_assert_eq(tgtime_format_iso(us, out), 27);
    cr_assert_str_eq(out, want);
}

Test(tgtime, format_known_instants)
{
    check_format(0, "1970-01-01T00:00:00.000000Z");
    check_format(-1, "1969-12-31T23:59:59.999999Z");
    check_format(INT64_C(1530570180186641), "2018-07-02T22:23:00.186641Z");
    check_format(INT64_C(951782400) * 1000000 + 7, "2000-02-29T00:00:00.000007Z");
    check_format(INT64_C(1709164800) * 1000000 + 86399999999, "2024-02-29T23:59:59.999999Z");
    check_format(INT64_C(-62135596800) * 1000000, "0001-01-01T00:00:00.000000Z");
}

Test(tgtime, format_clamps_to_four_digit_years)
{
    check_format(TGTIME_NONE, "0000-01-01T00:00:00.000000Z");
    check_format(INT64_MAX, "9999-12-31T23:59:59.999999Z");
    check_format(must_parse("0000-01-01T00:00:00Z") - 1, "0000-01-01T00:00:00.000000Z");
}

/* A small deterministic generator, so that a failure can be replayed. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

Test(tgtime, format_parse_round_trip)
{
    const int64_t lo = must_parse("0000-01-01T00:00:00Z");
    const int64_t hi = must_parse("9999-12-31T23:59:59.999999Z");
    uint64_t seed = 0x9e3779b97f4a7c15u;
    char out[32];
    for (int i = 0; i < 200000; i++) {
        int64_t us;
        uint64_t r = rng_next(&seed);
        if (i % 2 == 0) /* anywhere in the years 0000-9999 */
            us = lo + (int64_t)(r % (uint64_t)(hi - lo + 1));
        else /* around the epoch and the years logs come from */
            us = (int64_t)(r % (UINT64_C(4102444800) * 1000000)) - INT64_C(86400) * 1000000;
        tgtime_format_iso(us, out);
        int64_t back = SENTINEL;
        cr_assert(parse(out, &back), "format wrote an unparsable %s", out);
        cr_assert_eq(back, us, "%lld -> %s -> %lld", (long long)us, out, (long long)back);
    }
}

static int64_t must_seconds(const char *s)
{
    int64_t us = SENTINEL;
    cr_assert(tgtime_parse_seconds(s, strlen(s), &us), "rejected seconds value '%s'", s);
    return us;
}

static void reject_seconds(const char *s)
{
    int64_t us = SENTINEL;
    cr_assert_not(tgtime_parse_seconds(s, strlen(s), &us), "accepted seconds value '%s'", s);
    cr_assert_eq(us, SENTINEL);
}

Test(tgtime, seconds_values)
{
    cr_assert_eq(must_seconds("0.000"), 0);
    cr_assert_eq(must_seconds("0.086"), 86000);
    cr_assert_eq(must_seconds("0.001"), 1000);
    cr_assert_eq(must_seconds("12.5"), 12500000);
    cr_assert_eq(must_seconds("12"), 12000000);
    cr_assert_eq(must_seconds("12.345678"), 12345678);
    cr_assert_eq(must_seconds("0.000073"), 73);
    cr_assert_eq(must_seconds("-1"), -1);
    cr_assert_eq(must_seconds("-"), -1);
}

Test(tgtime, seconds_round_to_nearest)
{
    cr_assert_eq(must_seconds("0.0000004"), 0);
    cr_assert_eq(must_seconds("0.0000005"), 1);
    cr_assert_eq(must_seconds("0.00000049999"), 0);
    cr_assert_eq(must_seconds("1.9999995"), 2000000);
    cr_assert_eq(must_seconds("1.2345674999"), 1234567);
}

Test(tgtime, seconds_reject_garbage)
{
    reject_seconds("");
    reject_seconds("abc");
    reject_seconds("1.2.3");
    reject_seconds("1.");
    reject_seconds(".5");
    reject_seconds("+1");
    reject_seconds("-2");
    reject_seconds("-0.5");
    reject_seconds("--1");
    reject_seconds("1e3");
    reject_seconds(" 1");
    reject_seconds("1 ");
    reject_seconds("0x10");
    reject_seconds("1234567890123.0"); /* more seconds than any log can hold */
    cr_assert_eq(must_seconds("123456789012.5"), INT64_C(123456789012500000));
}
