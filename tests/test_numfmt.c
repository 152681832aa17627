/*
 * Unit tests of output/numfmt: integers against printf, and instants
 * against tgtime_format_iso() across second, day, month and year
 * boundaries, before 1970, at the ends of the years the format spells and
 * past them, with one clock reused the way a printer does.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "decode/tgtime.h"
#include "output/numfmt.h"
#include "tg_test_util.h"


static void expect_u64(uint64_t v)
{
    char got[32], want[32];
    char *end = nf_u64(got, v);
    *end = '\0';
    snprintf(want, sizeof want, "%" PRIu64, v);
    cr_expect_str_eq(got, want);
}

static void expect_i64(int64_t v)
{
    char got[32], want[32];
    char *end = nf_i64(got, v);
    *end = '\0';
    snprintf(want, sizeof want, "%" PRId64, v);
    cr_expect_str_eq(got, want);
}

Test(numfmt, integers_match_printf)
{
    for (uint64_t v = 0; v < 20000; v++)
        expect_u64(v);
    for (uint64_t p = 1, i = 0; i < 20; i++, p *= 10) {
        expect_u64(p - 1), expect_u64(p), expect_u64(p + 1);
        expect_i64(-(int64_t)p + 1), expect_i64(-(int64_t)p), expect_i64(-(int64_t)p - 1);
    }
    expect_u64(UINT64_MAX), expect_u64(UINT64_MAX - 1);
    expect_i64(INT64_MAX), expect_i64(INT64_MIN), expect_i64(INT64_MIN + 1), expect_i64(-1);
    for (int i = 0; i < 100000; i++) {
        uint64_t v = tt_rnd() >> tt_rnd_below(64);
        expect_u64(v);
        expect_i64((int64_t)v);
        expect_i64(-(int64_t)(v >> 1));
    }
}

/* Formats us with the clock and checks it against tgtime_format_iso(). */
static void expect_iso(nf_clock *c, int64_t us)
{
    char got[40], want[32];
    char *end = nf_iso(c, got, us);
    cr_assert_eq(end - got, NF_ISO_LEN);
    *end = '\0';
    tgtime_format_iso(us, want);
    cr_assert_str_eq(got, want, "instant %" PRId64, us);
}

static int64_t at(int y, unsigned m, unsigned d)
{
    return tgtime_days_from_civil(y, m, d) * 86400 * INT64_C(1000000);
}

Test(numfmt, instants_match_tgtime_across_boundaries)
{
    const int64_t us = 1000000;
    const int64_t marks[] = {
        0,              /* the epoch, and just before it */
        at(2000, 1, 1), /* year, century and leap-century turn */
        at(2024, 3, 1), /* after a leap day */
        at(2023, 3, 1), /* after a common February */
        at(1900, 3, 1), /* no leap day in 1900 */
        at(2025, 11, 20) + 3600 * us,
        at(1969, 12, 31),
        at(1, 1, 1),
        at(0, 1, 1), /* the first instant written as is */
        at(9999, 12, 31) + 86399 * us,
        at(10000, 1, 1), /* past the last: clamped */
        INT64_MIN + 5 * us,
        INT64_MAX - 5 * us,
        -us,
    };
    for (size_t i = 0; i < sizeof marks / sizeof *marks; i++) {
        nf_clock c;
        nf_clock_init(&c);
        /* Forwards and backwards over the mark, in steps that cross and
         * revisit seconds, with one clock. */
        for (int64_t d = -3 * us; d <= 3 * us; d += us / 4 + 1)
            expect_iso(&c, marks[i] + d);
        for (int64_t d = 3 * us; d >= -3 * us; d -= us / 3 + 7)
            expect_iso(&c, marks[i] + d);
        expect_iso(&c, marks[i]);
        expect_iso(&c, marks[i] - 1);
    }
    nf_clock c;
    nf_clock_init(&c);
    const int64_t extremes[] = {INT64_MIN, INT64_MAX, INT64_MIN + 1, INT64_MAX - 1, 0, -1, 1};
    for (size_t i = 0; i < sizeof extremes / sizeof *extremes; i++)
        expect_iso(&c, extremes[i]);
}

Test(numfmt, instants_match_tgtime_on_random_walks)
{
    nf_clock c;
    nf_clock_init(&c);
    int64_t t = at(2025, 11, 20);
    for (int i = 0; i < 200000; i++) {
        switch (tt_rnd_below(8)) {
        case 0: /* anywhere in the years the format spells, or past them */
            t = (int64_t)(tt_rnd() >> 1) * (tt_rnd_below(2) ? 1 : -1) / (int64_t)(1 + tt_rnd_below(3000));
            break;
        case 1: /* a neighbouring second */
            t += ((int64_t)tt_rnd_below(5) - 2) * 1000000;
            break;
        default: /* within a few seconds, as a trace's events are */
            t += (int64_t)tt_rnd_below(4000000) - 2000000;
            break;
        }
        expect_iso(&c, t);
    }
}
