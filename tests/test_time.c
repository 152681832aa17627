/*
 * Unit tests of decode/tgtime: ISO-8601 parsing and formatting, the civil
 * calendar arithmetic, and ALB's seconds values.
 */
#include <criterion/criterion.h>
#include <stdint.h>
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
