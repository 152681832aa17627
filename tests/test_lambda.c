/*
 * Unit tests of decode/lambda: AWS's documented (split) REPORT example,
 * one-line reports with tabs or spaces, optional fields, the join of a
 * REPORT line with its continuation, and the rejections.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/lambda.h"
#include "decode/tgtime.h"
#include "tg_test_util.h"

#define FIXTURES TG_SOURCE_DIR "/tests/fixtures/"

static bool slice_is(tg_str s, const char *lit)
{
    return s.p != NULL && tg_str_eq(s, lit);
}

#define assert_slice(s, lit)                                                                    \
    cr_assert(slice_is((s), (lit)), "got [%.*s], want [%s]", (int)(s).n,                        \
              (s).p ? (s).p : "(null)", (lit))

/* An exact-length copy of a string literal, kept for the record's slices. */
static char *copy(const char *s, size_t *n)
{
    *n = strlen(s);
    char *p = malloc(*n ? *n : 1);
    memcpy(p, s, *n);
    return p;
}

static bool report(const char *line, lambda_report *r, char **keep)
{
    size_t n;
    *keep = copy(line, &n);
    return lambda_parse_report(*keep, n, r);
}

static bool xray(const char *line, lambda_xray *x, char **keep)
{
    size_t n;
    *keep = copy(line, &n);
    return lambda_parse_xray(*keep, n, x, NULL);
}

Test(lambda, doc_example_split_over_two_lines)
{
    size_t len;
    char *text = tt_read_file(FIXTURES "lambda-report.log", &len);
    cr_assert_not_null(text);
    char *l2 = strchr(text, '\n');
    cr_assert_not_null(l2);
    size_t n1 = (size_t)(l2 - text);
    l2++;
    size_t n2 = strcspn(l2, "\n");

    /* The caller's loop: a REPORT without X-Ray waits for the next line. */
    lambda_report r;
    cr_assert(lambda_parse_report(text, n1, &r));
    cr_assert_not(lambda_parse_xray(text, n1, &r.xray, NULL), "a REPORT line is no continuation");
    cr_assert(lambda_parse_report(text, n1, &r));
    assert_slice(r.request_id, "8f507cfc-xmpl-4697-b07a-ac58fc914c95");
    cr_assert_eq(r.duration_us, 15740);
    cr_assert_eq(r.billed_us, 16000);
    cr_assert_eq(r.memory_mb, 128);
    cr_assert_eq(r.max_memory_mb, 56);
    cr_assert_eq(r.init_us, 130490);
    cr_assert_eq(r.restore_us, -1);
    cr_assert_null(r.status.p);
    cr_assert_eq(r.time_us, TGTIME_NONE);
    cr_assert_not(r.has_xray);
    cr_assert_null(r.xray.trace_id.p);

    lambda_report tmp;
    cr_assert_not(lambda_parse_report(l2, n2, &tmp), "the continuation is no REPORT");
    int64_t t = 0;
    cr_assert(lambda_parse_xray(l2, n2, &r.xray, &t));
    r.has_xray = true;
    cr_assert_eq(t, TGTIME_NONE);
    assert_slice(r.xray.trace_id, "1-5e34a614-10bdxmplf1fb44f07bc535a1");
    /* "xmpl" is not hex: the documented id is malformed. */
    cr_assert_eq(r.xray.verdict, XRAY_BAD_ROOT, "%s", xray_status_name(r.xray.verdict));
    cr_assert_eq(r.xray.root.hi, 0);
    cr_assert_eq(r.xray.root.lo, 0);
    assert_slice(r.xray.segment_id, "07f5xmpl2d1f6f85");
    cr_assert_not(r.xray.has_span);
    cr_assert_eq(r.xray.sampled, '1');
    free(text);
}

Test(lambda, one_line_with_tabs)
{
    const char *line = "REPORT RequestId: 3604209a-e9a3-11e6-939a-754dd98c7be3\tDuration: 12.34 ms\t"
                       "Billed Duration: 100 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\t"
                       "XRAY TraceId: 1-5759e988-bd862e3fe1be46a994272793\t"
                       "SegmentId: 53995c3f42cd8ad8\tSampled: false\t";
    lambda_report r;
    char *keep;
    cr_assert(report(line, &r, &keep));
    assert_slice(r.request_id, "3604209a-e9a3-11e6-939a-754dd98c7be3");
    cr_assert_eq(r.duration_us, 12340);
    cr_assert_eq(r.billed_us, 100000);
    cr_assert_eq(r.memory_mb, 128);
    cr_assert_eq(r.max_memory_mb, 18);
    cr_assert_eq(r.init_us, -1, "no Init Duration on a warm start");
    cr_assert(r.has_xray);
    cr_assert_eq(r.xray.verdict, XRAY_OK);
    char id[36];
    xray_format_root(r.xray.root, id);
    cr_assert_str_eq(id, "1-5759e988-bd862e3fe1be46a994272793");
    cr_assert(r.xray.has_span);
    cr_assert_eq(r.xray.span, UINT64_C(0x53995c3f42cd8ad8));
    cr_assert_eq(r.xray.sampled, '0');
    free(keep);
}

Test(lambda, runs_of_spaces_and_single_spaces)
{
    const char *line = "REPORT RequestId: abc   Duration: 1.5 ms Billed Duration: 2 ms   Memory Size: "
                       "1024 MB Max Memory Used: 99 MB Init Duration: 0.07 ms "
                       "XRAY TraceId: 1-5759E988-BD862E3FE1BE46A994272793  SegmentId: "
                       "53995C3F42CD8AD8  Sampled: true   ";
    lambda_report r;
    char *keep;
    cr_assert(report(line, &r, &keep));
    assert_slice(r.request_id, "abc");
    cr_assert_eq(r.duration_us, 1500);
    cr_assert_eq(r.billed_us, 2000);
    cr_assert_eq(r.memory_mb, 1024);
    cr_assert_eq(r.max_memory_mb, 99);
    cr_assert_eq(r.init_us, 70);
    cr_assert(r.has_xray);
    cr_assert_eq(r.xray.verdict, XRAY_OK);
    cr_assert_eq(r.xray.root.lo, UINT64_C(0xe1be46a994272793));
    cr_assert_eq(r.xray.span, UINT64_C(0x53995c3f42cd8ad8));
    cr_assert_eq(r.xray.sampled, '1');
    free(keep);
}

Test(lambda, absent_fields_and_extras)
{
    /* SnapStart, a timeout status and an unknown label with a two-word
     * value: the labels after it still read. */
    const char *line = "REPORT RequestId: r1\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\t"
                       "Memory Size: 128 MB\tMax Memory Used: 40 MB\tRestore Duration: 250.5 ms\t"
                       "Billed Restore Duration: 120 ms\tStatus: timeout\tNew Thing: two words\t"
                       "Max Memory Used: 77 MB";
    lambda_report r;
    char *keep;
    cr_assert(report(line, &r, &keep));
    cr_assert_eq(r.duration_us, 3000000);
    cr_assert_eq(r.restore_us, 250500);
    cr_assert_eq(r.billed_us, 3000000, "Billed Restore Duration is not Billed Duration");
    cr_assert_eq(r.max_memory_mb, 40, "the first occurrence wins");
    assert_slice(r.status, "timeout");
    cr_assert_not(r.has_xray);
    free(keep);

    /* Billed Restore Duration alone is not a Restore Duration. */
    cr_assert(report("REPORT RequestId: r3 Billed Restore Duration: 120 ms Billed Duration: 7 ms",
                     &r, &keep));
    cr_assert_eq(r.restore_us, -1);
    cr_assert_eq(r.billed_us, 7000);
    cr_assert_eq(r.duration_us, -1);
    free(keep);

    cr_assert(report("REPORT RequestId: only", &r, &keep));
    assert_slice(r.request_id, "only");
    cr_assert_eq(r.duration_us, -1);
    cr_assert_eq(r.billed_us, -1);
    cr_assert_eq(r.memory_mb, -1);
    cr_assert_eq(r.max_memory_mb, -1);
    free(keep);

    /* A number that is not one leaves its field absent, not the line. */
    cr_assert(report("REPORT RequestId: x Duration: fast ms Memory Size: 12x MB", &r, &keep));
    cr_assert_eq(r.duration_us, -1);
    cr_assert_eq(r.memory_mb, -1);
    free(keep);
}

Test(lambda, prefix_with_a_timestamp)
{
    const char *line = "2024-01-02T03:04:05.678Z REPORT RequestId: r2\tDuration: 1.00 ms";
    lambda_report r;
    char *keep;
    cr_assert(report(line, &r, &keep));
    int64_t want;
    cr_assert(tgtime_parse_iso("2024-01-02T03:04:05.678Z", 24, &want));
    cr_assert_eq(r.time_us, want);
    assert_slice(r.request_id, "r2");
    free(keep);

    lambda_xray x;
    size_t n;
    keep = copy("2024-01-02T03:04:05.678Z XRAY TraceId: 1-5759e988-bd862e3fe1be46a994272793", &n);
    int64_t t = 0;
    cr_assert(lambda_parse_xray(keep, n, &x, &t));
    cr_assert_eq(t, want);
    cr_assert_eq(x.verdict, XRAY_OK);
    cr_assert_null(x.segment_id.p);
    cr_assert_eq(x.sampled, 0);
    free(keep);
}

Test(lambda, trace_id_verdicts)
{
    static const struct {
        const char *id;
        xray_status want;
    } cases[] = {
        {"1-5759e988-bd862e3fe1be46a994272793", XRAY_OK},
        {"1-5759e988-000000000000000000000000", XRAY_ZERO_ROOT},
        {"1-5759e988-bd862e3fe1be46a99427279", XRAY_BAD_ROOT},
        {"Root=1-5759e988-bd862e3fe1be46a994272793", XRAY_BAD_ROOT},
        {"1-5759e988-bd862e3f;Root=1-5759e988", XRAY_BAD_ROOT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *line = tt_fmt("XRAY TraceId: %s\tSegmentId: 53995c3f42cd8ad8", cases[i].id);
        lambda_xray x;
        char *keep;
        cr_assert(xray(line, &x, &keep), "%s", line);
        assert_slice(x.trace_id, cases[i].id);
        cr_assert_eq(x.verdict, cases[i].want, "%s: %s", cases[i].id, xray_status_name(x.verdict));
        free(keep);
        free(line);
    }
    /* An empty value: the label is there, the id is not. */
    lambda_xray x;
    char *keep;
    cr_assert(xray("XRAY TraceId:\tSegmentId: 53995c3f42cd8ad8", &x, &keep));
    cr_assert_not_null(x.trace_id.p);
    cr_assert_eq(x.trace_id.n, 0);
    cr_assert_eq(x.verdict, XRAY_BAD_ROOT);
    assert_slice(x.segment_id, "53995c3f42cd8ad8");
    free(keep);
}

Test(lambda, rejects_other_lines)
{
    static const char *const bad[] = {
        "",
        "REPORT",
        "REPORT RequestId:",
        "REPORT RequestId:   ",
        "START RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95 Version: $LATEST",
        "END RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95",
        "xREPORT RequestId: abc",
        "report RequestId: abc",
    };
    lambda_report r;
    lambda_xray x;
    char *keep;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_not(report(bad[i], &r, &keep), "[%s]", bad[i]);
        free(keep);
        cr_assert_not(xray(bad[i], &x, &keep), "[%s]", bad[i]);
        free(keep);
    }
    /* Too far into the line: not a prefix, a mention. */
    char line[400];
    memset(line, 'x', sizeof line);
    line[LAMBDA_MAX_PREFIX] = ' ';
    memcpy(line + LAMBDA_MAX_PREFIX + 1, "REPORT RequestId: a", 19);
    cr_assert_not(lambda_parse_report(line, LAMBDA_MAX_PREFIX + 20, &r));
    cr_assert(lambda_parse_report(line + 1, LAMBDA_MAX_PREFIX + 19, &r));
    assert_slice(r.request_id, "a");
    cr_assert_not(xray("see XRAY TraceId:x", &x, &keep));
    free(keep);
    cr_assert_not(xray("XRAY TraceIds: 1", &x, &keep));
    free(keep);
}

/* Every other fixture: no line is a REPORT or a continuation. */
Test(lambda, other_fixtures_are_rejected)
{
    static const char *const files[] = {"alb-doc-examples.log", "classic-elb-doc-example.log",
                                        "cloudfront-doc-example.log",
                                        "alb-connection-doc-example.log"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *path = tt_fmt("%s%s", FIXTURES, files[i]);
        size_t len;
        char *text = tt_read_file(path, &len);
        cr_assert_not_null(text);
        for (char *p = text; *p;) {
            size_t n = strcspn(p, "\n");
            lambda_report r;
            lambda_xray x;
            cr_assert_not(lambda_parse_report(p, n, &r), "%s", files[i]);
            cr_assert_not(lambda_parse_xray(p, n, &x, NULL), "%s", files[i]);
            p += n + (p[n] == '\n');
        }
        free(text);
        free(path);
    }
}

/* lambda_may_hold()'s rule byte by byte: an 'R' or 'X' at the start of the
 * line or after a blank, at most LAMBDA_MAX_PREFIX bytes in, with room for
 * the shorter label after it. */
static bool ref_may_hold(const char *line, size_t n)
{
    for (size_t i = 0; i <= LAMBDA_MAX_PREFIX && i + 13 <= n; i++)
        if ((line[i] == 'R' || line[i] == 'X') &&
            (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t' || line[i - 1] == '\r'))
            return true;
    return false;
}

/* Random lines of label pieces, blanks and filler of every length around
 * the window's end: lambda_may_hold() follows its rule, and a line it
 * turns away is one neither parser accepts. */
Test(lambda, may_hold_turns_away_only_lines_no_parser_takes)
{
    static const char *const frags[] = {
        "REPORT RequestId: 3f1c", "XRAY TraceId: 1-5e6722a7-cc2xmpl46db7ae98d2f10f1", " ", "\t",
        "\r", "R", "X", "xR", "aX", "2025-11-20T08:00:02.101Z ", "Duration: 0.63 ms",
        "abcdefghijklmnop", "RREPORT", "XXRAY",
    };
    const size_t nfrags = sizeof frags / sizeof frags[0];
    size_t held = 0, taken = 0;
    for (int iter = 0; iter < 50000; iter++) {
        char line[400];
        size_t n = 0;
        /* Filler up to near the window's end, then pieces. */
        size_t pad = tt_rnd_below(4) == 0 ? 100 + tt_rnd_below(40) : tt_rnd_below(20);
        for (size_t i = 0; i < pad; i++)
            line[n++] = "abc-0123./:"[tt_rnd_below(11)];
        n = tt_append_frags(line, n, sizeof line, frags, nfrags, 1 + tt_rnd_below(6));
        char *exact = malloc(n ? n : 1);
        memcpy(exact, line, n);
        bool may = lambda_may_hold(exact, n);
        cr_assert_eq(may, ref_may_hold(exact, n), "line [%.*s]", (int)n, exact);
        lambda_report rep;
        lambda_xray xr;
        bool parsed = lambda_parse_report(exact, n, &rep) || lambda_parse_xray(exact, n, &xr, NULL);
        if (parsed)
            cr_assert(may, "turned away a line a parser takes: [%.*s]", (int)n, exact);
        held += may;
        taken += parsed;
        free(exact);
    }
    /* Both verdicts, and lines the parsers take, often enough to mean
     * something. */
    cr_assert_gt(held, 5000);
    cr_assert_gt(50000 - held, 5000);
    cr_assert_gt(taken, 1000);
}
