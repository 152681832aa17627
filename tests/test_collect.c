/* The collector's two ways through an input: line by line and through the
 * scanner. An ALB input is read line by line (find reads it through the
 * scanner); a text input through the scanner, save its dense stretches.
 * Both ways must count every kind of line the same and make the same
 * events, in the same order. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/collect.h"
#include "tg_test_util.h"

#define ALB_HEAD "https 2025-11-21T00:09:59.933774Z app/shop/8337dfda9f42dac9 "              \
                 "62.234.70.253:2637 10.1.123.246:8080 0.001 0.049 0.000 %s 204 761 26455 "
#define ALB_MID "\"GET https://api.example.com:443/v1/cart HTTP/1.1\" \"%s\" "                \
                "TLS_AES_128_GCM_SHA256 TLSv1.3 "                                         \
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/5c "
#define ALB_TAIL " \"api.example.com\" \"-\" 1 2025-11-21T00:09:59.883209Z \"forward\" \"-\" " \
                 "\"-\" \"10.1.123.246:8080\" \"204\" \"-\" \"-\" %s \"-\" \"-\" \"-\" 10.0.1.90"

/* An ALB line with the given status, user agent, field-18 text (quoted as
 * written) and connection id. */
static size_t alb(char *dst, size_t cap, const char *status, const char *ua, const char *f18,
                  const char *tid)
{
    int n = snprintf(dst, cap, ALB_HEAD ALB_MID "%s" ALB_TAIL, status, ua, f18, tid);
    cr_assert(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

/* The scanner's database of header keys, as the engine makes it. */
static scan_db *headers_db(void)
{
    char err[256];
    scan_db *db = scan_db_headers(err, sizeof err);
    cr_assert_not_null(db, "%s", err);
    return db;
}

typedef struct run {
    collector c;
    int rc;
} run;

static void collect_all(run *r, const eng_settings *s, const scan_db *db, bool by_scan,
                        const char *p, size_t n)
{
    cr_assert_eq(collect_init(&r->c, s, db, 0), 0);
    r->c.alb_by_scan = by_scan;
    collect_begin(&r->c, 0, false, SNIFF_ALB);
    r->rc = collect_block(&r->c, p, n, 0);
}

/* Two lists of join references hold the same, in the same order. */
static void assert_same_refs(const join_list *a, const join_list *b)
{
    cr_assert_eq(a->n, b->n);
    const join_blk *ha = a->head, *hb = b->head;
    for (uint32_t ia = 0, ib = 0;; ia++, ib++) {
        while (ha && ia == ha->n)
            ha = ha->next, ia = 0;
        while (hb && ib == hb->n)
            hb = hb->next, ib = 0;
        cr_assert_eq(!ha, !hb);
        if (!ha)
            break;
        const join_ref *ra = &((const join_ref_blk *)ha)->v[ia];
        const join_ref *rb = &((const join_ref_blk *)hb)->v[ib];
        cr_assert_eq(memcmp(ra, rb, sizeof *ra), 0);
    }
}

/* Both ways agree on everything the run reports and keeps. */
static void assert_same(const run *a, const run *b)
{
    cr_assert_eq(a->rc, b->rc);
    cr_assert_eq(a->c.out_of_memory, b->c.out_of_memory);
    cr_assert_eq(a->c.scan_failed, b->c.scan_failed);
    cr_assert_eq(memcmp(&a->c.c, &b->c.c, sizeof a->c.c), 0, "counts differ");
    cr_assert_eq(a->c.ev.n, b->c.ev.n);
    if (a->c.ev.n)
        cr_assert_eq(memcmp(a->c.ev.v, b->c.ev.v, a->c.ev.n * sizeof *a->c.ev.v), 0);
    for (unsigned p = 0; p < JOIN_PARTS; p++) {
        assert_same_refs(&a->c.conn.refs[p], &b->c.conn.refs[p]);
        assert_same_refs(&a->c.cf.refs[p], &b->c.cf.refs[p]);
    }
}

Test(collect, alb_lines_counted_as_the_scanner_counts_them)
{
    scan_db *db = headers_db();
    eng_settings s = {.mode = ENG_TIMELINES, .threads = 1, .max_line = 2048,
                      .input_format = -1};

    static char buf[1 << 16];
    size_t n = 0;
    const char *ua = "Mozilla/5.0 (X11; Linux x86_64)";
    /* 1. two events, one of them with a connection id */
    n += alb(buf + n, sizeof buf - n, "200", ua, "\"Root=1-691fadd7-1a6ca3aabc136b585405086f\"",
             "TID_14db99825d612d1a687902eedbdd0da9");
    buf[n++] = '\n';
    n += alb(buf + n, sizeof buf - n, "503", ua,
             "\"Self=1-691fadd8-aaaaaaaaaaaaaaaaaaaaaaaa;Root=1-691fadd7-bbbbbbbbbbbbbbbbbbbbbbbb\"",
             "-");
    /* 2. CRLF ending */
    buf[n++] = '\r';
    buf[n++] = '\n';
    /* 3. an ALB line without a trace */
    n += alb(buf + n, sizeof buf - n, "200", ua, "\"-\"", "-");
    buf[n++] = '\n';
    /* 4. Root= only in the user agent: not a header */
    n += alb(buf + n, sizeof buf - n, "200", "curl Root=1-691fadd7-1a6ca3aabc136b585405086f", "\"-\"",
             "-");
    buf[n++] = '\n';
    /* 5. a malformed header */
    n += alb(buf + n, sizeof buf - n, "200", ua, "\"Root=1-691fadd7-xyz\"", "-");
    buf[n++] = '\n';
    /* 6. not ALB lines: with a key, with "TRACE", without any hit */
    const char *others = "garbage Root=1-691fadd7-1a6ca3aabc136b585405086f here\n"
                         "a TRACE word\n"
                         "nothing to see\n"
                         "\n";
    memcpy(buf + n, others, strlen(others));
    n += strlen(others);
    /* 7. an oversized ALB line */
    n += alb(buf + n, sizeof buf - n, "200", "", "\"Root=1-691fadd7-cccccccccccccccccccccccc\"", "-");
    memset(buf + n, 'x', 3000);
    n += 3000;
    buf[n++] = '\n';
    /* 8. the last line, without a newline */
    n += alb(buf + n, sizeof buf - n, "200", ua, "\"Root=1-691fadd9-dddddddddddddddddddddddd\"",
             "TID_2");

    run a, b;
    collect_all(&a, &s, db, false, buf, n);
    collect_all(&b, &s, db, true, buf, n);
    assert_same(&a, &b);
    cr_assert_eq(a.rc, 0);
    cr_assert_eq(a.c.c.lines, 11);
    cr_assert_eq(a.c.c.oversized, 1);
    cr_assert_eq(a.c.c.header_lines, 4);
    cr_assert_eq(a.c.c.events, 3);
    cr_assert_eq(a.c.c.malformed_by[GRP_FMT_ALB], 1);
    cr_assert_eq(a.c.c.other_lines, 2, "not ALB and holding a hit: %llu",
                 (unsigned long long)a.c.c.other_lines);
    cr_assert_eq(a.c.ev.n, 3);
    cr_assert_eq(a.c.ev.v[1].status, 503);
    size_t nrefs = 0;
    for (unsigned p = 0; p < JOIN_PARTS; p++)
        nrefs += a.c.conn.refs[p].n;
    cr_assert_eq(nrefs, 2); /* lines 1 and 8 */
    collect_free(&a.c);
    collect_free(&b.c);
    scan_db_free(db);
}

/* The generated logs the benchmark reads, through both ways. */
Test(collect, generated_alb_log_same_both_ways)
{
    scan_db *db = headers_db();
    eng_settings s = {.mode = ENG_TIMELINES, .threads = 1, .max_line = 1 << 20,
                      .input_format = -1};
    char *dir = tt_tmpdir();
    char *path = tt_fmt("%s/alb.log", dir);
    char *cmd = tt_fmt("'%s' --seed 7 --bytes 2M --single '%s'", TG_GEN, path);
    cr_assert_eq(system(cmd), 0);
    size_t n;
    char *p = tt_read_file(path, &n);
    cr_assert_not_null(p);
    run a, b;
    collect_all(&a, &s, db, false, p, n);
    collect_all(&b, &s, db, true, p, n);
    assert_same(&a, &b);
    cr_assert_gt(a.c.ev.n, 1000);
    collect_free(&a.c);
    collect_free(&b.c);
    free(p);
    tt_rmtree(dir);
    free(dir);
    free(path);
    free(cmd);
    scan_db_free(db);
}

/* A Lambda REPORT whose XRAY part is on the next line is one event, at the
 * REPORT line, wherever the input is cut into blocks (a stream's buffer
 * fills anywhere): between the two lines too, or the run of lines. */
Test(collect, lambda_report_and_xray_apart_wherever_blocks_are_cut)
{
    scan_db *db = headers_db();
    eng_settings s = {.mode = ENG_TIMELINES, .threads = 1, .max_line = 2048,
                      .input_format = -1};
    static const char text[] =
        "2025-11-20T08:00:00.800Z END RequestId: c2e3ae84-3fdb-4fc8-b877-914615921f72\n"
        "2025-11-20T08:00:02.101Z REPORT RequestId: b42b7cd4-ce1a-4627-9b5d-4bee1de49872  "
        "Duration: 0.63 ms  Billed Duration: 1 ms  Memory Size: 128 MB  Max Memory Used: 98 MB\n"
        "XRAY TraceId: 1-691eca82-354e964e9bba142a71a83e6b  SegmentId: 854dc277192540ab  "
        "Sampled: true  \r\n"
        "2025-11-20T08:00:02.503Z REPORT RequestId: 76d6c41f-7046-4afe-8bcb-d809937881ec\t"
        "Duration: 6.49 ms\tBilled Duration: 7 ms\tMemory Size: 128 MB\tMax Memory Used: 69 MB\n"
        "XRAY TraceId: 1-691eca83-354e964e9bba142a71a83e6c\tSegmentId: 854dc277192540ac\t"
        "Sampled: true\n"
        "XRAY TraceId: 1-691eca84-354e964e9bba142a71a83e6d\tSegmentId: 854dc277192540ad\n";
    const size_t n = sizeof text - 1;
    run whole;
    cr_assert_eq(collect_init(&whole.c, &s, db, 0), 0);
    collect_begin(&whole.c, 0, false, SNIFF_TEXT);
    cr_assert_eq(collect_block(&whole.c, text, n, 0), 0);
    /* Two REPORTs with their XRAY parts, then an XRAY line alone. */
    cr_assert_eq(whole.c.ev.n, 3);
    const char *report2 = strstr(text, "2025-11-20T08:00:02.503Z REPORT");
    cr_expect_eq(whole.c.ev.v[1].offset, (uint64_t)(report2 - text), "at the REPORT line");
    cr_expect_neq(whole.c.ev.v[1].start_us, GRP_UNTIMED);
    cr_expect_eq(whole.c.ev.v[1].end_us - whole.c.ev.v[1].start_us, 6490, "its duration");
    cr_expect_eq(whole.c.ev.v[2].start_us, GRP_UNTIMED, "an XRAY line alone has no time");
    cr_expect_eq(whole.c.c.untimed, 1);
    for (size_t cut = 1; cut < n; cut++) {
        if (text[cut - 1] != '\n')
            continue;
        run two;
        cr_assert_eq(collect_init(&two.c, &s, db, 0), 0);
        collect_begin(&two.c, 0, false, SNIFF_TEXT);
        cr_assert_eq(collect_block(&two.c, text, cut, 0), 0);
        cr_assert_eq(collect_block(&two.c, text + cut, n - cut, cut), 0);
        cr_assert_eq(two.c.ev.n, whole.c.ev.n, "cut at %zu", cut);
        cr_assert_eq(memcmp(two.c.ev.v, whole.c.ev.v, whole.c.ev.n * sizeof *two.c.ev.v),
                     0, "cut at %zu: other events", cut);
        cr_assert_eq(memcmp(&two.c.c, &whole.c.c, sizeof two.c.c), 0, "cut at %zu: counts", cut);
        collect_free(&two.c);
    }
    /* A block of another input, or not the next, does not take the last
     * line of the one before. */
    run other;
    cr_assert_eq(collect_init(&other.c, &s, db, 0), 0);
    collect_begin(&other.c, 0, false, SNIFF_TEXT);
    size_t cut = (size_t)(strstr(text, "XRAY TraceId: 1-691eca82") - text);
    cr_assert_eq(collect_block(&other.c, text, cut, 0), 0);
    collect_begin(&other.c, 1, false, SNIFF_TEXT);
    cr_assert_eq(collect_block(&other.c, text + cut, n - cut, cut), 0);
    cr_expect_eq(other.c.ev.v[0].start_us, GRP_UNTIMED, "joined across inputs");
    collect_free(&other.c);
    collect_free(&whole.c);
    scan_db_free(db);
}

/* A line with a header, as most lines of a dense application log are, a
 * different Root each time: an nginx line with the header the ALB
 * forwarded, or (odd i) an API Gateway JSON line with the bare id. */
static size_t header_line(char *dst, size_t cap, unsigned i)
{
    int n = i % 2 ? snprintf(dst, cap,
                             "{\"requestId\":\"91b9b4ab-%u\",\"requestTime\":\"20/Nov/2025:08:00:%02u "
                             "+0000\",\"status\":\"202\",\"xrayTraceId\":\"1-691eca80-%024x\"}\n",
                             i, i % 60, i)
                  : snprintf(dst, cap,
                             "10.0.7.38 - - [20/Nov/2025:23:30:%02u +0000] \"GET /v2/orders/%u "
                             "HTTP/1.1\" 200 7913 \"-\" \"python-requests/2.32.3\" "
                             "\"Self=1-691fa486-10c922338f59116a12216e1d;Root=1-691fa486-%024x;"
                             "Parent=6ae916f9b53f6f45;Sampled=1\"\n",
                             i % 60, i, i);
    cr_assert(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

/*
 * An application log whose density of headers changes every 100 KB, so
 * that stretches are read both ways (app_lines()), with every kind of line
 * among the headers: lines with a hit but no header, JSON lines (one with a
 * key that spells "trace" in two pieces, which is no trace key), Lambda
 * REPORT and XRAY lines, CRLF endings, oversized lines. Read in blocks cut
 * at random lines, as a text input and as a JSON one, it gives what the
 * scanner alone gives.
 */
Test(collect, app_lines_dense_or_not_same_both_ways)
{
    scan_db *db = headers_db();
    eng_settings s = {.mode = ENG_TIMELINES, .threads = 1, .max_line = 2048,
                      .input_format = -1};
    static const char *const others[] = {
        "10.0.7.38 - - [20/Nov/2025:23:30:14 +0000] \"GET /health HTTP/1.1\" 200 2 \"-\" "
        "\"ELB-HealthChecker/2.0\" \"-\"\n",
        "10.0.7.38 - - [20/Nov/2025:23:30:14 +0000] \"GET / HTTP/1.1\" 200 2 \"-\" \"-\" "
        "\"Root=1-691fa486-xyz\"\n",
        "10.0.7.38 - - [20/Nov/2025:23:30:15 +0000] \"GET / HTTP/1.1\" 200 2 \"-\" \"-\" "
        "\"Self=1-691fa486-10c922338f59116a12216e1d\"\n",
        "a TRACE word in prose, and XRoot=1-691fa486-10c922338f59116a12216e1d\n",
        "nothing to see\n",
        "\n",
        "2025-11-20 08:00:01 INFO request done\r\n",
        "{\"time\":\"2025-11-20T08:00:01Z\",\"traceId\":\"1-691eca82-354e964e9bba142a71a83e6b\"}\n",
        "  {\"tra_ceId\":\"1-691eca82-354e964e9bba142a71a83e6c\",\"status\":500}\n",
        "{\"x_amzn_trace_id\":\"Root=1-691eca82-354e964e9bba142a71a83e6d\"}\r\n",
        "{\"message\":\"no trace here\"}\n",
        "2025-11-20T08:00:02.101Z REPORT RequestId: b42b7cd4-ce1a-4627-9b5d-4bee1de49872  "
        "Duration: 0.63 ms  Billed Duration: 1 ms  Memory Size: 128 MB  Max Memory Used: 98 MB\n"
        "XRAY TraceId: 1-691eca82-354e964e9bba142a71a83e6b  SegmentId: 854dc277192540ab  "
        "Sampled: true\n",
        "2025-11-20T08:00:02.503Z REPORT RequestId: 76d6c41f-7046-4afe-8bcb-d809937881ec\t"
        "Duration: 6.49 ms\tXRAY TraceId: 1-691eca83-354e964e9bba142a71a83e6c\n",
        "2025-11-20T08:00:02.503Z REPORT RequestId: 76d6c41f-7046-4afe-8bcb-d809937881ed\t"
        "Duration: 6.49 ms\n",
        "XRAY TraceId: 1-691eca84-354e964e9bba142a71a83e6d\tSegmentId: 854dc277192540ad\n",
    };
    const size_t nothers = sizeof others / sizeof others[0];
    /* Headers on none, a third, two thirds, nineteen in twenty or every line
     * of a region; the last region is dense. */
    static const unsigned pct[] = {0, 33, 66, 95, 100};
    const size_t cap = 4u << 20;
    char *buf = malloc(cap);
    size_t n = 0;
    unsigned id = 0;
    for (unsigned region = 0; region < 30; region++) {
        unsigned dense = region == 29 ? 100 : pct[tt_rnd_below(5)];
        for (size_t end = n + 100000; n < end;) {
            if (tt_rnd_below(100) < dense) {
                n += header_line(buf + n, cap - n, id++);
            } else if (tt_rnd_below(200) == 0) {
                /* An oversized line with a header. */
                size_t k = header_line(buf + n, cap - n, id++);
                memset(buf + n + k - 1, 'x', 3000);
                n += k - 1 + 3000;
                buf[n++] = '\n';
            } else {
                const char *o = others[tt_rnd_below((unsigned)nothers)];
                memcpy(buf + n, o, strlen(o));
                n += strlen(o);
            }
        }
    }
    n += header_line(buf + n, cap - n, id++) - 1; /* the last line without its newline */

    for (unsigned round = 0; round < 4; round++) {
        const sniff_format fmt = round % 2 ? SNIFF_JSON : SNIFF_TEXT;
        run a, b;
        cr_assert_eq(collect_init(&a.c, &s, db, 0), 0);
        collect_begin(&a.c, 0, false, fmt);
        /* Blocks cut after random lines. */
        a.rc = 0;
        for (size_t at = 0; at < n && a.rc == 0;) {
            size_t to = at + 1 + tt_rnd_below(1u << 20);
            const char *nl = to < n ? memchr(buf + to, '\n', n - to) : NULL;
            to = nl ? (size_t)(nl - buf) + 1 : n;
            a.rc = collect_block(&a.c, buf + at, to - at, at);
            at = to;
        }
        cr_assert(a.c.app_direct, "the dense last stretch was not read line by line");
        cr_assert_eq(collect_init(&b.c, &s, db, 0), 0);
        b.c.app_by_scan = true;
        collect_begin(&b.c, 0, false, fmt);
        b.rc = collect_block(&b.c, buf, n, 0);
        cr_assert_not(b.c.app_direct);
        assert_same(&a, &b);
        cr_assert_eq(a.rc, 0);
        cr_assert_gt(a.c.ev.n, 10000);
        cr_assert_gt(a.c.c.oversized, 0);
        cr_assert_gt(a.c.c.malformed_by[GRP_FMT_APP], 0);
        /* Lambda lines are looked for in text inputs only. */
        cr_assert_eq(a.c.c.events_by[GRP_FMT_LAMBDA] > 0, fmt == SNIFF_TEXT);
        collect_free(&a.c);
        collect_free(&b.c);
    }
    free(buf);
    scan_db_free(db);
}

/*
 * CloudFront records name their edge as a source ("cloudfront/<edge>"),
 * looked up in the few names the collector remembers before its table.
 * With 40 edges of one length and the same last 8 bytes, which is where
 * the remembered names are told apart first, every record still gets its
 * own edge's name.
 */
Test(collect, cloudfront_edges_get_their_own_names)
{
    scan_db *db = headers_db();
    eng_settings s = {.mode = ENG_STATS, .threads = 1, .max_line = 2048, .input_format = -1};
    const size_t cap = 1u << 20;
    char *buf = malloc(cap);
    size_t n = (size_t)snprintf(buf, cap, "#Version: 1.0\n#Fields: date time x-edge-location "
                                          "sc-status x-edge-request-id time-taken\n");
    for (unsigned i = 0; i < 4000; i++)
        n += (size_t)snprintf(buf + n, cap - n,
                              "2025-11-20\t08:00:%02u\tE%02u-SAMETAIL\t200\tid%05u%048u\t0.025\n",
                              i % 60, tt_rnd_below(40), i, i);
    run a;
    cr_assert_eq(collect_init(&a.c, &s, db, 0), 0);
    collect_begin(&a.c, 0, false, SNIFF_CLOUDFRONT);
    cr_assert_eq(collect_block(&a.c, buf, n, 0), 0);
    cr_assert_eq(a.c.c.cf_records, 4000);
    cr_assert_eq(a.c.lbs.n, 40, "%zu names for 40 edges", a.c.lbs.n);
    size_t seen = 0;
    for (unsigned p = 0; p < JOIN_PARTS; p++) {
        for (const join_blk *b = a.c.cf.recs[p].head; b; b = b->next) {
            for (uint32_t k = 0; k < b->n; k++) {
                const join_rec *r = &((const join_rec_blk *)b)->v[k];
                const char *line = buf + r->offset;
                const char *edge = strchr(strchr(line, '\t') + 1, '\t') + 1;
                char want[64];
                snprintf(want, sizeof want, "cloudfront/%.*s", (int)(strchr(edge, '\t') - edge),
                         edge);
                cr_assert_lt(r->lb, a.c.lbs.n);
                cr_assert_str_eq(a.c.lbs.names[r->lb], want, "record at %llu",
                                 (unsigned long long)r->offset);
                seen++;
            }
        }
    }
    cr_assert_eq(seen, 4000);
    collect_free(&a.c);
    free(buf);
    scan_db_free(db);
}
