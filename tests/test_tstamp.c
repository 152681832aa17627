/*
 * Unit tests of decode/tstamp: every text form with every offset layout,
 * the epoch units, tstamp_find() on realistic lines and on the fixtures,
 * and the rejections.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/tgtime.h"
#include "decode/tstamp.h"
#include "tg_test_util.h"

#define FIXTURES TG_SOURCE_DIR "/tests/fixtures/"
#define SENTINEL INT64_C(0x5a5a5a5a5a5a)

/* The reference instant, through tgtime's own parser (UTC, 'Z'). */
static int64_t utc(const char *iso)
{
    int64_t us = 0;
    cr_assert(tgtime_parse_iso(iso, strlen(iso), &us), "bad reference %s", iso);
    return us;
}

/* Copies s into a buffer of exactly its length, so that AddressSanitizer
 * sees any read past the end. */
static char *exact(const char *s, size_t *n)
{
    *n = strlen(s);
    char *p = malloc(*n ? *n : 1);
    cr_assert_not_null(p);
    memcpy(p, s, *n);
    return p;
}

static int64_t must_parse(const char *s)
{
    size_t n;
    char *b = exact(s, &n);
    int64_t us = SENTINEL;
    cr_assert(tstamp_parse(b, n, &us), "rejected [%s]", s);
    free(b);
    return us;
}

static void must_reject(const char *s)
{
    size_t n;
    char *b = exact(s, &n);
    int64_t us = SENTINEL;
    cr_assert_not(tstamp_parse(b, n, &us), "accepted [%s]", s);
    cr_assert_eq(us, SENTINEL, "a rejected [%s] changed the output", s);
    free(b);
}

Test(tstamp, iso_utc_forms)
{
    int64_t want = utc("2023-10-04T17:05:15Z");
    cr_assert_eq(must_parse("2023-10-04T17:05:15Z"), want);
    cr_assert_eq(must_parse("2023-10-04t17:05:15z"), want);
    cr_assert_eq(must_parse("2023-10-04 17:05:15Z"), want);
    cr_assert_eq(must_parse("2023-10-04 17:05:15 UTC"), want);
    cr_assert_eq(must_parse("2023-10-04 17:05:15 GMT"), want);
    cr_assert_eq(must_parse("2023-10-04T17:05:15+00:00"), want);
    cr_assert_eq(must_parse("2023-10-04T17:05:15-0000"), want);
    /* No zone at all reads as UTC. */
    cr_assert_eq(must_parse("2023-10-04T17:05:15"), want);
    cr_assert_eq(must_parse("2023-10-04 17:05:15"), want);
}

Test(tstamp, iso_fractions)
{
    int64_t base = utc("2023-10-04T17:05:15Z");
    cr_assert_eq(must_parse("2023-10-04T17:05:15.514108Z"), base + 514108);
    cr_assert_eq(must_parse("2023-10-04T17:05:15.5Z"), base + 500000);
    cr_assert_eq(must_parse("2023-10-04T17:05:15.514Z"), base + 514000);
    /* Nanoseconds are truncated to the microsecond. */
    cr_assert_eq(must_parse("2023-10-04T17:05:15.123456789Z"), base + 123456);
    /* Python logging's comma. */
    cr_assert_eq(must_parse("2023-10-04 17:05:15,896"), base + 896000);
    cr_assert_eq(must_parse("2023-10-04 17:05:15.123 UTC"), base + 123000);
}

Test(tstamp, iso_offsets_every_layout)
{
    /* 17:05:15 at +02:00 is 15:05:15 UTC; at -07:00 it is 00:05:15 the next day. */
    int64_t east = utc("2023-10-04T15:05:15Z"), west = utc("2023-10-05T00:05:15Z");
    cr_assert_eq(must_parse("2023-10-04T17:05:15+02:00"), east);
    cr_assert_eq(must_parse("2023-10-04T17:05:15+0200"), east);
    cr_assert_eq(must_parse("2023-10-04T17:05:15+02"), east);
    cr_assert_eq(must_parse("2023-10-04 17:05:15 +0200"), east);
    cr_assert_eq(must_parse("2023-10-04 17:05:15 +02:00"), east);
    cr_assert_eq(must_parse("2023-10-04T17:05:15-07:00"), west);
    cr_assert_eq(must_parse("2023-10-04T17:05:15-0700"), west);
    cr_assert_eq(must_parse("2023-10-04T17:05:15.25-07:00"), west + 250000);
    cr_assert_eq(must_parse("2023-10-04 17:05:15 -0700"), west);
    /* Half-hour zones. */
    cr_assert_eq(must_parse("2023-10-04T17:05:15+05:30"), utc("2023-10-04T11:35:15Z"));
    /* An offset across a year end. */
    cr_assert_eq(must_parse("2023-12-31T23:30:00-01:00"), utc("2024-01-01T00:30:00Z"));
}

Test(tstamp, apache_form)
{
    int64_t want = utc("2000-10-10T20:55:36Z");
    cr_assert_eq(must_parse("10/Oct/2000:13:55:36 -0700"), want);
    cr_assert_eq(must_parse("[10/Oct/2000:13:55:36 -0700]"), want);
    cr_assert_eq(must_parse(" [10/oct/2000:13:55:36 -07:00] "), want);
    cr_assert_eq(must_parse("10/OCT/2000:20:55:36 +0000"), want);
    cr_assert_eq(must_parse("10/Oct/2000:20:55:36"), want);
    cr_assert_eq(must_parse("10/Oct/2000:13:55:36.250 -0700"), want + 250000);
    /* API Gateway's $context.requestTime. */
    cr_assert_eq(must_parse("06/Nov/2020:20:41:33 +0000"), utc("2020-11-06T20:41:33Z"));
    static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int m = 0; m < 12; m++) {
        char clf[64], iso[32];
        snprintf(clf, sizeof clf, "01/%s/2024:00:00:00 +0000", months[m]);
        snprintf(iso, sizeof iso, "2024-%02d-01T00:00:00Z", m + 1);
        cr_assert_eq(must_parse(clf), utc(iso), "%s", clf);
    }
}

Test(tstamp, rejects_what_is_no_timestamp)
{
    static const char *const bad[] = {
        "",
        "   ",
        "2023-10-04",
        "2023-10-04T17:05",
        "2023-13-04T17:05:15Z",
        "2023-02-29T17:05:15Z",
        "2023-10-04T24:00:00Z",
        "2023-10-04T17:60:15Z",
        "2023-10-04T17:05:60Z",
        "2023-10-04X17:05:15Z",
        "2023-10-04T17:05:15ZZ",
        "2023-10-04T17:05:15+2400",
        "2023-10-04T17:05:15+0260",
        "2023-10-04T17:05:15 junk",
        "2023-10-04T17:05:155",
        "2023-1a-04T17:05:15Z",
        "10/Foo/2000:13:55:36 -0700",
        "1/Oct/2000:13:55:36 -0700",
        "10/Oct/2000 13:55:36 -0700",
        "10/Oct/2000:13:55:36 -07",
        "[10/Oct/2000:13:55:36 -0700",
        "1696439115",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        must_reject(bad[i]);
    /* A leap day exists in leap years only. */
    cr_assert_eq(must_parse("2024-02-29T00:00:00Z"), utc("2024-02-29T00:00:00Z"));
    must_reject("2100-02-29T00:00:00Z");
    cr_assert_eq(must_parse("2000-02-29T00:00:00Z"), utc("2000-02-29T00:00:00Z"));
}

Test(tstamp, prefix_length_and_zoned)
{
    int64_t us;
    bool zoned = true;
    const char *s = "2023-10-04 17:05:15,896 INFO started";
    cr_assert_eq(tstamp_parse_prefix(s, strlen(s), &us, &zoned), 23);
    cr_assert_not(zoned);
    s = "2023-10-04T17:05:15.514108Z rest";
    cr_assert_eq(tstamp_parse_prefix(s, strlen(s), &us, &zoned), 27);
    cr_assert(zoned);
    s = "10/Oct/2000:13:55:36 -0700] \"GET";
    cr_assert_eq(tstamp_parse_prefix(s, strlen(s), &us, &zoned), 26);
    cr_assert(zoned);
    s = "2023-10-04 17:05:15 - 200";
    cr_assert_eq(tstamp_parse_prefix(s, strlen(s), &us, &zoned), 19);
    cr_assert_not(zoned);
    s = "2023-10-04 17:05:15 UTCX";
    cr_assert_eq(tstamp_parse_prefix(s, strlen(s), &us, &zoned), 19);
    cr_assert_eq(tstamp_parse_prefix("x2023-10-04T17:05:15Z", 21, &us, NULL), 0);
}

Test(tstamp, epoch_units)
{
    int64_t want = utc("2023-10-04T17:05:15Z"), us = 0;
    cr_assert(tstamp_parse_epoch("1696439115", 10, &us));
    cr_assert_eq(us, want);
    cr_assert(tstamp_parse_epoch("1696439115.514108", 17, &us));
    cr_assert_eq(us, want + 514108);
    cr_assert(tstamp_parse_epoch("1696439115.5", 12, &us));
    cr_assert_eq(us, want + 500000);
    cr_assert(tstamp_parse_epoch("1696439115514", 13, &us));
    cr_assert_eq(us, want + 514000);
    cr_assert(tstamp_parse_epoch("1696439115514.25", 16, &us));
    cr_assert_eq(us, want + 514250);
    cr_assert(tstamp_parse_epoch("1696439115514108", 16, &us));
    cr_assert_eq(us, want + 514108);
    cr_assert(tstamp_parse_epoch("1696439115514108999", 19, &us));
    cr_assert_eq(us, want + 514108);
    cr_assert(tstamp_parse_epoch("0", 1, &us));
    cr_assert_eq(us, 0);
    /* The unit boundaries: 11 digits are seconds, 12 to 14 milliseconds,
     * 15 to 17 microseconds, 18 and 19 nanoseconds. */
    static const struct {
        const char *s;
        int64_t us;
    } units[] = {
        {"99999999999", INT64_C(99999999999) * 1000000},
        {"100000000000", INT64_C(100000000000) * 1000},
        {"99999999999999", INT64_C(99999999999999) * 1000},
        {"100000000000000", INT64_C(100000000000000)},
        {"99999999999999999", INT64_C(99999999999999999)},
        {"100000000000000000", INT64_C(100000000000000)},
        {"9999999999999999999", INT64_C(9999999999999999)},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        cr_assert(tstamp_parse_epoch(units[i].s, strlen(units[i].s), &us), "%s", units[i].s);
        cr_assert_eq(us, units[i].us, "%s", units[i].s);
    }

    static const char *const bad[] = {"", "-1696439115", "1.7e9", "1696439115.", ".5",
                                      "16964x9115", "12345678901234567890", "1696439115 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        us = SENTINEL;
        cr_assert_not(tstamp_parse_epoch(bad[i], strlen(bad[i]), &us), "accepted [%s]", bad[i]);
        cr_assert_eq(us, SENTINEL);
    }
}

static void find_ok(const char *line, size_t off, size_t len, int64_t want)
{
    size_t n;
    char *b = exact(line, &n);
    tstamp_match m;
    cr_assert(tstamp_find(b, n, &m), "no timestamp in [%s]", line);
    cr_assert_eq(m.off, off, "[%s]: offset %zu", line, m.off);
    cr_assert_eq(m.len, len, "[%s]: length %zu", line, m.len);
    cr_assert_eq(m.us, want, "[%s]", line);
    free(b);
}

Test(tstamp, find_in_common_places)
{
    int64_t t = utc("2000-10-10T20:55:36Z");
    /* nginx combined with $http_x_amzn_trace_id appended. */
    find_ok("192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 612 \"-\" "
            "\"curl/8.0\" \"Self=1-67891233-12456789abcdef012345678;"
            "Root=1-67891233-abcdef012345678912345678\"",
            15, 26, t);
    find_ok("2000-10-10T20:55:36Z INFO handled", 0, 20, t);
    find_ok("[2000-10-10 20:55:36,250] INFO", 1, 23, t + 250000);
    find_ok("INFO  [main] 2000-10-10 13:55:36 -0700 handled", 13, 25, t);
    find_ok("level=info ts=2000-10-10T20:55:36.000001Z msg=x", 14, 27, t + 1);
    /* Numbers that merely look like a start are passed over. */
    find_ok("id 12023-10-04 then 2000-10-10T20:55:36Z", 20, 20, t);
    find_ok("v1.2/3 2000-10-10T20:55:36Z", 7, 20, t);
    /* A valid date inside a longer number is not one. */
    find_ok("build 12023-10-04T17:05:15Z then 2000-10-10T20:55:36Z", 33, 20, t);
    find_ok("id=9910/Oct/2000:13:55:36 -0700 [10/Oct/2000:13:55:36 -0700]", 33, 26, t);
}

Test(tstamp, find_is_bounded)
{
    char line[600];
    memset(line, 'x', sizeof line);
    memcpy(line + TSTAMP_FIND_WINDOW, "2000-10-10T20:55:36Z", 20);
    tstamp_match m;
    cr_assert_not(tstamp_find(line, sizeof line, &m), "looked past the window");
    memcpy(line + TSTAMP_FIND_WINDOW - 1, "2000-10-10T20:55:36Z", 20);
    cr_assert(tstamp_find(line, sizeof line, &m));
    cr_assert_eq(m.off, TSTAMP_FIND_WINDOW - 1);
    cr_assert_not(tstamp_find("no time here 12:00", 18, &m));
    cr_assert_not(tstamp_find("", 0, &m));
}

/* Every fixture line that starts with a time is found there, at the value
 * tgtime reads; the others are checked by their known first timestamp. */
Test(tstamp, fixtures)
{
    static const struct {
        const char *file;
        const char *first; /* the first timestamp of the first line, as UTC ISO */
        bool after_type;   /* ALB: the time follows the type field */
    } files[] = {
        {"alb-connection-doc-example.log", "2023-10-04T17:05:15.514108Z", false},
        {"classic-elb-doc-example.log", "2015-05-13T23:39:43.945958Z", false},
        {"alb-doc-examples.log", "2018-07-02T22:23:00.186641Z", true},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *path = tt_fmt("%s%s", FIXTURES, files[i].file);
        size_t len;
        char *text = tt_read_file(path, &len);
        cr_assert_not_null(text, "%s", path);
        size_t lines = 0;
        for (char *p = text; *p;) {
            char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            tstamp_match m;
            cr_assert(tstamp_find(p, n, &m), "%s line %zu", files[i].file, lines + 1);
            size_t want_off = files[i].after_type ? (size_t)(strchr(p, ' ') - p) + 1 : 0;
            cr_assert_eq(m.off, want_off, "%s line %zu", files[i].file, lines + 1);
            int64_t ref;
            cr_assert(tgtime_parse_iso(p + m.off, m.len, &ref));
            cr_assert_eq(m.us, ref);
            if (lines == 0)
                cr_assert_eq(m.us, utc(files[i].first), "%s", files[i].file);
            lines++;
            p = nl ? nl + 1 : p + n;
        }
        cr_assert_geq(lines, 2, "%s", files[i].file);
        free(text);
        free(path);
    }
    /* The REPORT line has no time; its durations must not read as one. */
    size_t len;
    char *text = tt_read_file(FIXTURES "lambda-report.log", &len);
    cr_assert_not_null(text);
    tstamp_match m;
    cr_assert_not(tstamp_find(text, len, &m));
    free(text);
}

/* line[0..n), sometimes cut short so that a timestamp runs off the end, in
 * a buffer of its own so that a read past it is caught; *n is the length. */
static char *cut_copy(const char *line, size_t *n)
{
    if (*n && tt_rnd_below(4) == 0)
        *n -= tt_rnd_below((unsigned)*n);
    char *exact = malloc(*n ? *n : 1);
    memcpy(exact, line, *n);
    return exact;
}

/* tstamp_find()'s rule byte by byte: the first digit of a run within the
 * window, shaped like a timestamp's start, where a timestamp parses. */
static bool ref_find(const char *line, size_t n, tstamp_match *out)
{
    size_t w = n < TSTAMP_FIND_WINDOW ? n : TSTAMP_FIND_WINDOW;
    for (size_t i = 0; i < w; i++) {
        bool dig = line[i] >= '0' && line[i] <= '9';
        bool after = i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9';
        if (!dig || after)
            continue;
        size_t rest = n - i;
        if (!((rest >= 19 && line[i + 4] == '-') || (rest >= 20 && line[i + 2] == '/')))
            continue;
        size_t k = tstamp_parse_prefix(line + i, rest, &out->us, &out->zoned);
        if (k != 0) {
            out->off = i;
            out->len = k;
            return true;
        }
    }
    return false;
}

/* Random lines of digits, separators and near-timestamps, the real ones at
 * every offset, around the window's end and the line's: the search that
 * tests 16 positions at a time finds what the byte-by-byte rule finds. */
Test(tstamp, find_matches_reference_on_random_lines)
{
    static const char *const frags[] = {
        "10.0.7.38 - - [", "20/Nov/2025:23:30:14 +0000]", "2025-11-20T08:00:01.732Z",
        "2025-11-20 08:00:01", "2025-11-20", "20/Nov/2025", "1-", "12", "-", "/", " ", "x",
        "2025-13-01T00:00:00Z", "99/Nov/2025:23:30:14", "0", "[", "\t",
    };
    const size_t nfrags = sizeof frags / sizeof frags[0];
    size_t found = 0;
    for (int iter = 0; iter < 100000; iter++) {
        char line[400];
        size_t n = 0;
        size_t pad = tt_rnd_below(3) == 0 ? 200 + tt_rnd_below(80) : tt_rnd_below(40);
        for (size_t i = 0; i < pad && n < sizeof line; i++)
            line[n++] = "ab7-/ :."[tt_rnd_below(8)];
        n = tt_append_frags(line, n, sizeof line, frags, nfrags, tt_rnd_below(6));
        char *exact = cut_copy(line, &n);
        tstamp_match got, want;
        memset(&got, 0, sizeof got);
        memset(&want, 0, sizeof want);
        bool g = tstamp_find(exact, n, &got), r = ref_find(exact, n, &want);
        cr_assert_eq(g, r, "line [%.*s]", (int)n, exact);
        if (r) {
            cr_assert(got.off == want.off && got.len == want.len && got.us == want.us &&
                          got.zoned == want.zoned,
                      "line [%.*s]: at %zu+%zu, want %zu+%zu", (int)n, exact, got.off, got.len,
                      want.off, want.len);
            found++;
        }
        free(exact);
    }
    cr_assert(found > 10000 && found < 90000, "%zu of 100000 lines with a timestamp", found);
}

/* A memo (tstamp_find_memo()) kept across lines that share a timestamp's
 * minute but not its seconds or what follows them: zones that may or may
 * not parse, a fraction, a 60th second, a digit that voids the timestamp,
 * the line's end anywhere. The memo's answer is find's every time, and its
 * minute is taken often. */
Test(tstamp, memo_gives_what_find_gives)
{
    static const char *const heads[] = {"", "[", "x ", "10.0.7.38 - - ["};
    static const char *const stamps[] = {
        "2023-10-04 17:05:15", "2023-10-04T17:05:15", "20/Nov/2025:23:30:14",
        "2023-10-04 17:05:15.5", "20/Nov/2025:23:30:14 +0000", "2023-10-04 17:05:16",
        "2023-10-04 17:05:60", "20/Nov/2025:23:30:61", "20/Nov/2025:23:30:59.25",
        "2023-10-04T17:05:00,896", "20/nov/2025:23:30:14", "20/Nov/2125:23:30:14",
    };
    static const char *const tails[] = {
        "", " ", " UTC", " UTCx", " GMT", " -0700", " -07", " +05:30", " +0530", "Z", "+02",
        "+02:00", ",896", ".123456789", "5", " foo", "]", " -07001", "+0200", " - ", " UT",
        "] \"GET / HTTP/1.1\" 200", " +05:3", " +05:3x", " -07:0x", " -070x",
        "+05:3", "+05:3x", "+05:", "Zx", " UTC5", "-12:00", " +23:59",
    };
    const size_t nh = sizeof heads / sizeof *heads, ns = sizeof stamps / sizeof *stamps,
                 nt = sizeof tails / sizeof *tails;
    tstamp_memo memo;
    memset(&memo, 0, sizeof memo);
    size_t held = 0;
    unsigned h = 0;
    for (int iter = 0; iter < 100000; iter++) {
        /* Runs of lines with the same head, as one log writes them. */
        if (tt_rnd_below(8) == 0)
            h = tt_rnd_below((unsigned)nh);
        char line[128];
        int n = snprintf(line, sizeof line, "%s%s%s", heads[h],
                         stamps[tt_rnd_below((unsigned)ns)], tails[tt_rnd_below((unsigned)nt)]);
        size_t len = (size_t)n;
        char *exact = cut_copy(line, &len);
        tstamp_match got, want;
        memset(&got, 0, sizeof got);
        memset(&want, 0, sizeof want);
        tstamp_memo before = memo;
        bool g = tstamp_find_memo(exact, len, &memo, &got), w = tstamp_find(exact, len, &want);
        cr_assert_eq(g, w, "line [%.*s]", (int)len, exact);
        if (w)
            cr_assert(got.off == want.off && got.len == want.len && got.us == want.us &&
                          got.zoned == want.zoned,
                      "line [%.*s]: at %zu+%zu, want %zu+%zu", (int)len, exact, got.off,
                      got.len, want.off, want.len);
        /* Held: the timestamp is in the minute the memo held before. */
        if (w) {
            const char *t = exact + want.off;
            held += t[4] == '-' ? before.iso.set && memcmp(t, before.iso.text, 16) == 0
                                : before.clf.set && memcmp(t, before.clf.text, 17) == 0;
        }
        free(exact);
    }
    cr_assert_gt(held, 20000, "the memo's minute was taken on %zu lines", held);
}
