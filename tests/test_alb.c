/*
 * Unit tests of decode/alb: the documented example lines, one test per rule
 * of FORMATS.md §3, alb_unescape(), and a comparison of the block-wise
 * tokenizer with a byte-by-byte reference on random lines.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/alb.h"
#include "decode/tgtime.h"
#include "tg_test_util.h"

#define FIXTURES TG_SOURCE_DIR "/tests/fixtures/"

/* Copies s into a buffer of exactly its length, so that AddressSanitizer
 * sees any read past the line. The caller frees it. */
static char *exact_copy(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    cr_assert_not_null(p);
    memcpy(p, s, n);
    return p;
}

static bool field_is(const alb_line *t, unsigned i, const char *lit)
{
    return t->f[i].p != NULL && tg_str_eq(t->f[i], lit);
}

#define assert_field(t, i, lit)                                                                 \
    cr_assert(field_is((t), (i), (lit)), "field %u is [%.*s], want [%s]", (unsigned)(i) + 1,     \
              (int)(t)->f[i].n, (t)->f[i].p ? (t)->f[i].p : "(null)", (lit))

static int64_t iso(const char *s)
{
    int64_t us = 0;
    cr_assert(tgtime_parse_iso(s, strlen(s), &us), "bad test timestamp %s", s);
    return us;
}

/* Splits a file into lines (without '\n'); returns the count. */
static size_t file_lines(const char *path, char **text, char *lines[], size_t max)
{
    size_t len, n = 0;
    *text = tt_read_file(path, &len);
    cr_assert_not_null(*text, "cannot read %s", path);
    for (char *p = *text; *p && n < max;) {
        char *nl = strchr(p, '\n');
        lines[n++] = p;
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    return n;
}

/* ---- the documented example lines ------------------------------------ */

Test(alb, doc_examples)
{
    static const struct {
        uint32_t nfields;
        const char *type, *time, *created;
        int status, target_status;
        const char *trace, *client, *target, *ua;
    } want[] = {
        {29, "http", "2018-07-02T22:23:00.186641Z", "2018-07-02T22:22:48.364000Z", 200, 200,
         "Root=1-58337262-36d228ad5d99923122bbe354", "192.168.131.39:2817", "10.0.0.1:80",
         "curl/7.46.0"},
        {29, "https", "2018-07-02T22:23:00.186641Z", "2018-07-02T22:22:48.364000Z", 200, 200,
         "Root=1-58337281-1d84f3d73c47ec4e58577259", "192.168.131.39:2817", "10.0.0.1:80",
         "curl/7.46.0"},
        {29, "h2", "2018-07-02T22:23:00.186641Z", "2018-07-02T22:22:48.364000Z", 200, 200,
         "Root=1-58337327-72bd00b0343d75b906739c42", "10.0.1.252:48160", "10.0.0.66:9000",
         "curl/7.46.0"},
        {29, "ws", "2018-07-02T22:23:00.186641Z", "2018-07-02T22:22:48.364000Z", 101, 101,
         "Root=1-58337364-23a8c76965a2ef7629b185e3", "10.0.0.140:40914", "10.0.1.192:8010", "-"},
        {29, "wss", "2018-07-02T22:23:00.186641Z", "2018-07-02T22:22:48.364000Z", 101, 101,
         "Root=1-58337364-23a8c76965a2ef7629b185e3", "10.0.0.140:44244", "10.0.0.171:8010", "-"},
        {29, "http", "2018-11-30T22:23:00.186641Z", "2018-11-30T22:22:48.364000Z", 200, 200,
         "Root=1-58337364-23a8c76965a2ef7629b185e3", "192.168.131.39:2817", "-", "curl/7.46.0"},
        {29, "http", "2018-11-30T22:23:00.186641Z", "2018-11-30T22:22:48.364000Z", 502, 0,
         "Root=1-58337364-23a8c76965a2ef7629b185e3", "192.168.131.39:2817", "-", "curl/7.46.0"},
        {33, "http", "2018-11-30T22:23:00.186641Z", "2018-11-30T22:22:48.364000Z", 200, 200,
         "Root=1-58337364-23a8c76965a2ef7629b185e3", "192.168.131.39:2817", "-", "curl/7.46.0"},
    };
    char *text, *lines[32];
    size_t n = file_lines(FIXTURES "alb-doc-examples.log", &text, lines, 32);
    cr_assert_eq(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(lines[i]);
        char *line = exact_copy(lines[i], len);
        alb_record r;
        cr_assert(alb_parse(line, len, &r), "line %zu rejected", i + 1);
        cr_assert_eq(r.t.nfields, want[i].nfields, "line %zu", i + 1);
        assert_field(&r.t, ALB_TYPE, want[i].type);
        assert_field(&r.t, ALB_TIME, want[i].time);
        cr_assert_eq(r.time_us, iso(want[i].time), "line %zu", i + 1);
        cr_assert_eq(r.created_us, iso(want[i].created), "line %zu", i + 1);
        cr_assert_eq(r.status, want[i].status, "line %zu", i + 1);
        cr_assert_eq(r.target_status, want[i].target_status, "line %zu", i + 1);
        assert_field(&r.t, ALB_TRACE_ID, want[i].trace);
        assert_field(&r.t, ALB_CLIENT, want[i].client);
        assert_field(&r.t, ALB_TARGET, want[i].target);
        assert_field(&r.t, ALB_USER_AGENT, want[i].ua);
        assert_field(&r.t, ALB_ELB, "app/my-loadbalancer/50dc6c495c0c9188");
        /* Slices point into the line, and nothing is kept past nfields. */
        cr_assert(r.t.f[ALB_TRACE_ID].p > line && r.t.f[ALB_TRACE_ID].p < line + len);
        for (unsigned k = want[i].nfields; k < ALB_NFIELDS; k++)
            cr_assert_null(r.t.f[k].p, "line %zu field %u", i + 1, k + 1);
        free(line);
    }
    free(text);
}

Test(alb, doc_examples_details)
{
    char *text, *lines[32];
    file_lines(FIXTURES "alb-doc-examples.log", &text, lines, 32);
    alb_record r;
    cr_assert(alb_parse(lines[0], strlen(lines[0]), &r));
    assert_field(&r.t, ALB_REQUEST, "GET http://www.example.com:80/ HTTP/1.1");
    assert_field(&r.t, ALB_REQUEST_PROCESSING, "0.000");
    assert_field(&r.t, ALB_TARGET_PROCESSING, "0.001");
    assert_field(&r.t, ALB_RECEIVED_BYTES, "34");
    assert_field(&r.t, ALB_SENT_BYTES, "366");
    assert_field(&r.t, ALB_SSL_CIPHER, "-");
    assert_field(&r.t, ALB_TARGET_GROUP_ARN,
                 "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/"
                 "73e2d6bc24d8a067");
    assert_field(&r.t, ALB_DOMAIN_NAME, "-");
    assert_field(&r.t, ALB_MATCHED_RULE_PRIORITY, "0");
    assert_field(&r.t, ALB_ACTIONS_EXECUTED, "forward");
    assert_field(&r.t, ALB_TARGET_PORT_LIST, "10.0.0.1:80");
    assert_field(&r.t, ALB_TARGET_STATUS_CODE_LIST, "200");
    assert_field(&r.t, ALB_CLASSIFICATION_REASON, "-");

    cr_assert(alb_parse(lines[1], strlen(lines[1]), &r));
    assert_field(&r.t, ALB_SSL_CIPHER, "ECDHE-RSA-AES128-GCM-SHA256");
    assert_field(&r.t, ALB_SSL_PROTOCOL, "TLSv1.2");
    assert_field(&r.t, ALB_DOMAIN_NAME, "www.example.com");
    assert_field(&r.t, ALB_CHOSEN_CERT_ARN,
                 "arn:aws:acm:us-east-2:123456789012:certificate/"
                 "12345678-1234-1234-1234-123456789012");
    assert_field(&r.t, ALB_ACTIONS_EXECUTED, "authenticate,forward");
    assert_field(&r.t, ALB_RESPONSE_PROCESSING, "0.037");

    cr_assert(alb_parse(lines[2], strlen(lines[2]), &r));
    assert_field(&r.t, ALB_REDIRECT_URL, "https://example.com:80/");

    cr_assert(alb_parse(lines[6], strlen(lines[6]), &r));
    assert_field(&r.t, ALB_ERROR_REASON, "LambdaInvalidResponse");
    assert_field(&r.t, ALB_TARGET_STATUS, "-");

    cr_assert(alb_parse(lines[7], strlen(lines[7]), &r));
    assert_field(&r.t, ALB_CONN_TRACE_ID, "TID_12345");
    assert_field(&r.t, ALB_REQUEST_TRANSFORM_STATUS, "-");
    cr_assert_null(r.t.f[ALB_NODE_IP].p);
    free(text);
}

/* Lines of the other formats are not ALB access-log lines. */
static void reject_file(const char *path, size_t min_lines)
{
    char *text, *lines[64];
    size_t n = file_lines(path, &text, lines, 64);
    cr_assert_geq(n, min_lines, "%s", path);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(lines[i]);
        char *line = exact_copy(lines[i], len);
        alb_record r;
        cr_assert_not(alb_parse(line, len, &r), "%s line %zu accepted", path, i + 1);
        free(line);
    }
    free(text);
}

Test(alb, classic_elb_rejected)
{
    reject_file(FIXTURES "classic-elb-doc-example.log", 2);
    /* They do tokenize: 15 fields, the request of a malformed one intact. */
    char *text, *lines[4];
    file_lines(FIXTURES "classic-elb-doc-example.log", &text, lines, 4);
    alb_line t;
    cr_assert_eq(alb_tokenize(lines[0], strlen(lines[0]), &t), 15);
    cr_assert_eq(alb_tokenize(lines[1], strlen(lines[1]), &t), 15);
    assert_field(&t, 11, "- - - ");
    free(text);
}

Test(alb, other_formats_rejected)
{
    reject_file(FIXTURES "alb-connection-doc-example.log", 2);
    reject_file(FIXTURES "lambda-report.log", 2);
    reject_file(FIXTURES "cloudfront-doc-example.log", 3);
    alb_record r;
    const char *nlb = "tls 2.0 2018-12-20T02:59:40 net/my-network-loadbalancer/c6e77e28c25b2234 "
                      "g3d4b5e8bb8464cd 72.21.218.154:51341 172.100.100.185:443 5 2 98 246 - "
                      "arn:aws:acm:us-east-2:671290407336:certificate/2a108f19 - "
                      "ECDHE-RSA-AES128-SHA tlsv12 - my-network-loadbalancer-c6e77e28c25b2234."
                      "elb.us-east-2.amazonaws.com - - - 2018-12-20T02:59:30";
    cr_assert_not(alb_parse(nlb, strlen(nlb), &r));
    cr_assert_not(alb_parse("", 0, &r));
    cr_assert_not(alb_parse("garbage", 7, &r));
}

/* ---- one test per rule of FORMATS.md §3 ------------------------------ */

/* The fields of the newest documented line, plus the observed node IP and
 * trailing fields, to cut lines of every generation from. */
static const char *const GEN[] = {
    "http", "2018-11-30T22:23:00.186641Z", "app/my-loadbalancer/50dc6c495c0c9188",
    "192.168.131.39:2817", "10.0.0.1:80", "0.000", "0.001", "0.000", "200", "200", "34", "366",
    "\"GET http://www.example.com:80/ HTTP/1.1\"", "\"curl/7.46.0\"", "-", "-",
    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067",
    "\"Root=1-58337364-23a8c76965a2ef7629b185e3\"", "\"www.example.com\"", "\"-\"", "0",
    "2018-11-30T22:22:48.364000Z", "\"forward\"", "\"-\"", "\"-\"", "\"10.0.0.1:80\"", "\"200\"",
    "\"-\"", "\"-\"", "TID_12345", "\"-\"", "\"-\"", "\"-\"", "10.0.0.77", "\"-\"", "\"-\"",
    "\"x37\"", "x38", "\"x 39\"", "x40",
};

/* Joins the first n fields of GEN into buf. */
static size_t gen_line(size_t n, char *buf, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? " " : "", GEN[i]);
    cr_assert_lt(len, cap);
    return len;
}

Test(alb, generations)
{
    static const size_t sizes[] = {18, 20, 25, 29, 30, 33, 34, 36, 40};
    cr_assert_eq(sizeof GEN / sizeof GEN[0], 40);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t nf = sizes[i];
        char buf[1024];
        size_t len = gen_line(nf, buf, sizeof buf);
        char *line = exact_copy(buf, len);
        alb_record r;
        cr_assert(alb_parse(line, len, &r), "%zu fields rejected", nf);
        cr_assert_eq(r.t.nfields, nf);
        cr_assert_eq(r.time_us, iso("2018-11-30T22:23:00.186641Z"));
        assert_field(&r.t, ALB_TRACE_ID, "Root=1-58337364-23a8c76965a2ef7629b185e3");
        if (nf > 21)
            cr_assert_eq(r.created_us, iso("2018-11-30T22:22:48.364000Z"), "%zu fields", nf);
        else
            cr_assert_eq(r.created_us, TGTIME_NONE, "%zu fields", nf);
        if (nf >= 20)
            assert_field(&r.t, ALB_CHOSEN_CERT_ARN, "-");
        if (nf >= 30)
            assert_field(&r.t, ALB_CONN_TRACE_ID, "TID_12345");
        if (nf >= 34)
            assert_field(&r.t, ALB_NODE_IP, "10.0.0.77");
        else
            cr_assert_null(r.t.f[ALB_NODE_IP].p);
        free(line);
    }
}

Test(alb, extra_trailing_fields_counted_not_kept)
{
    char buf[2048];
    size_t len = gen_line(40, buf, sizeof buf);
    /* Fifty more unknown fields, quoted and not. */
    for (int i = 0; i < 50; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, i % 2 ? " \"new %d\"" : " n%d", i);
    alb_record r;
    cr_assert(alb_parse(buf, len, &r));
    cr_assert_eq(r.t.nfields, 90);
    assert_field(&r.t, ALB_NODE_IP, "10.0.0.77");
    assert_field(&r.t, ALB_TRACE_ID, "Root=1-58337364-23a8c76965a2ef7629b185e3");
}

Test(alb, fewer_fields)
{
    char buf[1024];
    alb_record r;
    size_t len = gen_line(12, buf, sizeof buf);
    cr_assert(alb_parse(buf, len, &r), "12 fields is the minimum");
    cr_assert_eq(r.t.nfields, 12);
    cr_assert_null(r.t.f[ALB_TRACE_ID].p);
    cr_assert_eq(r.created_us, TGTIME_NONE);
    cr_assert_eq(r.status, 200);
    len = gen_line(11, buf, sizeof buf);
    cr_assert_not(alb_parse(buf, len, &r));
    cr_assert_eq(r.t.nfields, 11);
}

Test(alb, type_and_time_validated)
{
    static const char *const types[] = {"http", "https", "h2", "grpcs", "ws", "wss"};
    static const char *const not_types[] = {"HTTP", "tls", "udp", "http2", "", "-", "\"http\"x",
                                            "grpc", "w", "wsss"};
    char buf[1024];
    size_t len = gen_line(29, buf, sizeof buf);
    const char *rest = buf + 4; /* after "http" */
    alb_record r;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char *line = tt_fmt("%s%s", types[i], rest);
        cr_assert(alb_parse(line, strlen(line), &r), "type %s", types[i]);
        free(line);
    }
    for (size_t i = 0; i < sizeof not_types / sizeof not_types[0]; i++) {
        char *line = tt_fmt("%s%s", not_types[i], rest);
        cr_assert_not(alb_parse(line, strlen(line), &r), "type [%s]", not_types[i]);
        free(line);
    }
    /* A bad time in field 2 rejects the line; a bad field 22 does not. */
    char *line = tt_fmt("http 2018-11-31T22:23:00.186641Z%s", buf + 32);
    cr_assert_not(alb_parse(line, strlen(line), &r));
    free(line);
    cr_assert_eq(len, strlen(buf));
}

Test(alb, created_time_absent_or_dash)
{
    char buf[1024];
    size_t len = gen_line(29, buf, sizeof buf);
    char *p = strstr(buf, "2018-11-30T22:22:48.364000Z");
    cr_assert_not_null(p);
    alb_record r;
    char *line = tt_fmt("%.*s-%s", (int)(p - buf), buf, p + 27);
    cr_assert(alb_parse(line, strlen(line), &r));
    cr_assert_eq(r.t.nfields, 29);
    cr_assert_eq(r.created_us, TGTIME_NONE);
    free(line);
    line = tt_fmt("%.*s2018-11-30T22:22:48%s", (int)(p - buf), buf, p + 27);
    cr_assert(alb_parse(line, strlen(line), &r));
    cr_assert_eq(r.created_us, TGTIME_NONE, "no Z: unparsable");
    free(line);
    cr_assert(alb_parse(buf, len, &r));
    cr_assert_eq(r.created_us, iso("2018-11-30T22:22:48.364000Z"));
}

Test(alb, escapes_keep_fields_whole)
{
    /* A user agent with an escaped quote and spaces, in every spelling. */
    static const char *const uas[] = {
        "Mozilla/5.0 \\\"quoted\\\" (X11; Linux)",
        "Mozilla/5.0 \\x22quoted\\x22 (X11; Linux)",
        "Mozilla/5.0 \\x00000022quoted\\x00000022 (X11; Linux)",
        "back\\\\slash \\x5C\\x5c \\\\",
        "x \\\" \\\" \\\" y",
        "\\\"",
    };
    for (size_t i = 0; i < sizeof uas / sizeof uas[0]; i++) {
        char *line = tt_fmt("http 2018-11-30T22:23:00.186641Z app/x 1.2.3.4:5 - -1 -1 -1 460 - "
                            "0 0 \"GET http://h:80/ HTTP/1.1\" \"%s\" - - - "
                            "\"Root=1-58337364-23a8c76965a2ef7629b185e3\" \"-\"",
                            uas[i]);
        alb_record r;
        cr_assert(alb_parse(line, strlen(line), &r), "[%s]", uas[i]);
        cr_assert_eq(r.t.nfields, 19, "[%s]", uas[i]);
        assert_field(&r.t, ALB_USER_AGENT, uas[i]);
        assert_field(&r.t, ALB_TRACE_ID, "Root=1-58337364-23a8c76965a2ef7629b185e3");
        free(line);
    }
    /* \\ is an escaped backslash, so the quote after it does close. */
    alb_line t;
    const char *s = "\"a\\\\\" b";
    cr_assert_eq(alb_tokenize(s, strlen(s), &t), 2);
    assert_field(&t, 0, "a\\\\");
    assert_field(&t, 1, "b");
}

Test(alb, trace_text_elsewhere_does_not_move_the_trace)
{
    const char *line =
        "http 2018-11-30T22:23:00.186641Z app/x 1.2.3.4:5 - -1 -1 -1 460 - 0 0 "
        "\"GET http://h:80/?q=\\x22Root=1-11111111-111111111111111111111111\\x22 HTTP/1.1\" "
        "\"evil \\\" Root=1-22222222-222222222222222222222222 \\\" agent\" - - - "
        "\"Root=1-58337364-23a8c76965a2ef7629b185e3\" \"-\"";
    alb_record r;
    cr_assert(alb_parse(line, strlen(line), &r));
    cr_assert_eq(r.t.nfields, 19);
    assert_field(&r.t, ALB_TRACE_ID, "Root=1-58337364-23a8c76965a2ef7629b185e3");
}

Test(alb, empty_and_leading_space_fields)
{
    const char *line = "https 2018-11-30T22:23:00.186641Z app/x 1.2.3.4:5 10.0.0.1:80 0.000 "
                       "0.001 0.000 200 200 1 2 \"GET https:// example.com:443/ HTTP/1.1\" \"\" "
                       "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 - \"Root=1-58337364-23a8c76965a2ef"
                       "7629b185e3\" \" example.com\" \"\" 0 2018-11-30T22:22:48.364000Z \"\"";
    alb_record r;
    cr_assert(alb_parse(line, strlen(line), &r));
    cr_assert_eq(r.t.nfields, 23);
    assert_field(&r.t, ALB_REQUEST, "GET https:// example.com:443/ HTTP/1.1");
    assert_field(&r.t, ALB_USER_AGENT, "");
    assert_field(&r.t, ALB_DOMAIN_NAME, " example.com");
    assert_field(&r.t, ALB_CHOSEN_CERT_ARN, "");
    assert_field(&r.t, ALB_ACTIONS_EXECUTED, "");
    cr_assert_not_null(r.t.f[ALB_USER_AGENT].p, "an empty field is not an absent one");
    cr_assert_eq(r.created_us, iso("2018-11-30T22:22:48.364000Z"));
}

Test(alb, malformed_requests)
{
    static const char *const reqs[] = {
        "- http://host:80- -",
        "GET http://www.example.com:80/ HTTP/1.1 ",
        "- - - ",
        "PROPFIND http://h:80/a b c HTTP/1.1",
        "",
        "-",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        char *line = tt_fmt("http 2018-11-30T22:23:00.186641Z app/x 1.2.3.4:5 - -1 -1 -1 400 - 0 "
                            "0 \"%s\" \"-\" - - - \"-\"",
                            reqs[i]);
        alb_record r;
        cr_assert(alb_parse(line, strlen(line), &r), "[%s]", reqs[i]);
        cr_assert_eq(r.t.nfields, 18, "[%s]", reqs[i]);
        assert_field(&r.t, ALB_REQUEST, reqs[i]);
        assert_field(&r.t, ALB_TRACE_ID, "-");
        cr_assert_eq(r.status, 400);
        free(line);
    }
}

Test(alb, ipv6_client_and_target)
{
    const char *line = "h2 2024-01-05T10:11:12.123456Z app/x/1 2a02:a33c:4538:1:bcf4:5264:e01c:"
                       "f215:50718 2600:1f14:abc:d00:1234:5678:9abc:def0:8443 0.001 0.002 0.000 "
                       "200 204 10 20 \"GET https://[2600::1]:443/ HTTP/2.0\" \"ua\" - - arn "
                       "\"Root=1-659fd5b0-0123456789abcdef01234567\"";
    alb_record r;
    cr_assert(alb_parse(line, strlen(line), &r));
    cr_assert_eq(r.t.nfields, 18);
    assert_field(&r.t, ALB_CLIENT, "2a02:a33c:4538:1:bcf4:5264:e01c:f215:50718");
    assert_field(&r.t, ALB_TARGET, "2600:1f14:abc:d00:1234:5678:9abc:def0:8443");
    cr_assert_eq(r.target_status, 204);
    assert_field(&r.t, ALB_TRACE_ID, "Root=1-659fd5b0-0123456789abcdef01234567");
}

Test(alb, minus_one_and_dash_values)
{
    const char *line = "http 2018-11-30T22:23:00.186641Z app/x 1.2.3.4:5 - -1 -1 -1 504 - 0 0 "
                       "\"GET http://h:80/ HTTP/1.1\" \"-\" - - - \"-\" \"-\" \"-\" -1 - "
                       "\"waf,forward\" \"-\" \"Target.Timeout\" - - \"Acceptable\" \"-\"";
    alb_record r;
    cr_assert(alb_parse(line, strlen(line), &r));
    cr_assert_eq(r.t.nfields, 29);
    assert_field(&r.t, ALB_TARGET, "-");
    assert_field(&r.t, ALB_REQUEST_PROCESSING, "-1");
    assert_field(&r.t, ALB_TARGET_PROCESSING, "-1");
    assert_field(&r.t, ALB_RESPONSE_PROCESSING, "-1");
    assert_field(&r.t, ALB_MATCHED_RULE_PRIORITY, "-1");
    cr_assert_eq(r.status, 504);
    cr_assert_eq(r.target_status, 0);
    cr_assert_eq(r.created_us, TGTIME_NONE);
    int64_t us = 0;
    tg_str f = r.t.f[ALB_TARGET_PROCESSING];
    cr_assert(tgtime_parse_seconds(f.p, f.n, &us));
    cr_assert_eq(us, -1);
    assert_field(&r.t, ALB_ERROR_REASON, "Target.Timeout");
}

Test(alb, status_not_a_number)
{
    const char *line = "http 2018-11-30T22:23:00.186641Z app/x 1.2.3.4:5 - -1 -1 -1 2x0 abc 0 0";
    alb_record r;
    cr_assert(alb_parse(line, strlen(line), &r));
    cr_assert_eq(r.status, 0);
    cr_assert_eq(r.target_status, 0);
}

Test(alb, unterminated_quote_runs_to_end)
{
    alb_line t;
    const char *s = "a \"b c d";
    cr_assert_eq(alb_tokenize(s, strlen(s), &t), 2);
    assert_field(&t, 1, "b c d");
    s = "a \"b c \\\"";
    cr_assert_eq(alb_tokenize(s, strlen(s), &t), 2);
    assert_field(&t, 1, "b c \\\"");
    s = "a \"b\\";
    cr_assert_eq(alb_tokenize(s, strlen(s), &t), 2);
    assert_field(&t, 1, "b\\");
    s = "a \"";
    cr_assert_eq(alb_tokenize(s, strlen(s), &t), 2);
    assert_field(&t, 1, "");

    char buf[1024];
    size_t len = gen_line(17, buf, sizeof buf);
    len += (size_t)snprintf(buf + len, sizeof buf - len,
                            " \"Root=1-58337364-23a8c76965a2ef7629b185e3 \"-\" \"-\" 0");
    alb_record r;
    cr_assert(alb_parse(buf, len, &r));
    /* The quote before the first "-" closes the trace, the next reopens and
     * so on: with five quotes the line ends inside one field. */
    cr_assert_eq(r.t.nfields, 18);
    assert_field(&r.t, ALB_TRACE_ID, "Root=1-58337364-23a8c76965a2ef7629b185e3 \"-\" \"-\" 0");
    char *cut = tt_fmt("%.*s \"Root=1-58337364 x y z", (int)gen_line(17, buf, sizeof buf), buf);
    cr_assert(alb_parse(cut, strlen(cut), &r));
    cr_assert_eq(r.t.nfields, 18);
    assert_field(&r.t, ALB_TRACE_ID, "Root=1-58337364 x y z");
    free(cut);
}

Test(alb, trailing_cr_left_to_the_caller)
{
    char buf[1024];
    size_t len = gen_line(30, buf, sizeof buf);
    buf[len++] = '\r';
    alb_record r;
    cr_assert(alb_parse(buf, len, &r));
    cr_assert_eq(r.t.nfields, 30);
    assert_field(&r.t, ALB_CONN_TRACE_ID, "TID_12345\r");
    /* Stripped by the caller, the field is clean. */
    cr_assert(alb_parse(buf, len - 1, &r));
    assert_field(&r.t, ALB_CONN_TRACE_ID, "TID_12345");
}

Test(alb, spaces_make_empty_fields)
{
    alb_line t;
    cr_assert_eq(alb_tokenize("", 0, &t), 0);
    cr_assert_null(t.f[0].p);
    cr_assert_eq(alb_tokenize("a", 1, &t), 1);
    assert_field(&t, 0, "a");
    cr_assert_eq(alb_tokenize(" ", 1, &t), 2);
    assert_field(&t, 0, "");
    assert_field(&t, 1, "");
    cr_assert_eq(alb_tokenize("a  b ", 5, &t), 4);
    assert_field(&t, 0, "a");
    assert_field(&t, 1, "");
    assert_field(&t, 2, "b");
    assert_field(&t, 3, "");
}

Test(alb, quotes_inside_fields)
{
    alb_line t;
    const char *s = "\"abc\"def ghi";
    cr_assert_eq(alb_tokenize(s, strlen(s), &t), 2);
    assert_field(&t, 0, "abc\"def");
    assert_field(&t, 1, "ghi");
    s = "ab\"c d\" e";
    cr_assert_eq(alb_tokenize(s, strlen(s), &t), 2);
    assert_field(&t, 0, "ab\"c d\"");
    s = "\"\" \"\"\"\" x";
    cr_assert_eq(alb_tokenize(s, strlen(s), &t), 3);
    assert_field(&t, 0, "");
    assert_field(&t, 1, "\"\"");
    /* A backslash outside quotes escapes nothing. */
    s = "a\\ b\\\" c\"";
    cr_assert_eq(alb_tokenize(s, strlen(s), &t), 2);
    assert_field(&t, 0, "a\\");
    assert_field(&t, 1, "b\\\" c\"");
}

Test(alb, long_fields_across_blocks)
{
    /* Quoted fields and escapes that straddle the 64-byte blocks. */
    char ua[600];
    for (size_t i = 0; i < sizeof ua - 1; i++)
        ua[i] = i % 61 == 60 ? ' ' : (char)('a' + i % 26);
    ua[sizeof ua - 1] = '\0';
    for (size_t at = 0; at < 200; at += 7) {
        ua[at] = '\\';
        ua[at + 1] = '"';
        char *line = tt_fmt("http 2018-11-30T22:23:00.186641Z app/x 1.2.3.4:5 - -1 -1 -1 200 200 "
                            "0 0 \"GET / HTTP/1.1\" \"%s\" - - - \"Root=1-58337364-23a8c76965a2"
                            "ef7629b185e3\"",
                            ua);
        size_t len = strlen(line);
        char *exact = exact_copy(line, len);
        alb_record r;
        cr_assert(alb_parse(exact, len, &r));
        cr_assert_eq(r.t.nfields, 18, "escape at %zu", at);
        assert_field(&r.t, ALB_USER_AGENT, ua);
        assert_field(&r.t, ALB_TRACE_ID, "Root=1-58337364-23a8c76965a2ef7629b185e3");
        free(exact);
        free(line);
        ua[at] = 'q';
        ua[at + 1] = 'q';
    }
}

/* ---- a reference tokenizer, byte by byte, for random lines ----------- */

static void ref_put(alb_line *t, size_t k, const char *line, size_t s, size_t e, bool closed)
{
    if (s < e && line[s] == '"') {
        s++;
        if (closed && e > s && line[e - 1] == '"')
            e--;
    }
    if (k < ALB_NFIELDS)
        t->f[k] = tg_str_make(line + s, e - s);
}

static uint32_t ref_tokenize(const char *line, size_t n, alb_line *t)
{
    bool inq = false, esc = false;
    size_t k = 0, start = 0;
    for (size_t i = 0; i < n; i++) {
        char c = line[i];
        if (esc)
            esc = false;
        else if (inq && c == '\\')
            esc = true;
        else if (c == '"')
            inq = !inq;
        else if (!inq && c == ' ') {
            ref_put(t, k++, line, start, i, true);
            start = i + 1;
        }
    }
    if (n > 0)
        ref_put(t, k++, line, start, n, !inq);
    for (size_t i = k; i < ALB_NFIELDS; i++)
        t->f[i] = TG_STR_NULL;
    t->nfields = (uint32_t)k;
    return t->nfields;
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

Test(alb, tokenizer_matches_reference_on_random_lines)
{
    static const char alphabet[] = "  \"\\ab-x\xe2";
    uint64_t seed = 0x853c49e6748fea9bu;
    char buf[400];
    for (int iter = 0; iter < 200000; iter++) {
        size_t n = rng_next(&seed) % (iter % 10 == 0 ? sizeof buf : 140);
        /* Mostly letters, so that fields have a realistic length, with
         * quote- and backslash-heavy lines now and then. */
        unsigned special = (unsigned)(rng_next(&seed) % 4);
        for (size_t i = 0; i < n; i++) {
            uint64_t r = rng_next(&seed);
            buf[i] = (r % 8 < 2 + special) ? alphabet[(r >> 8) % (sizeof alphabet - 1)]
                                           : (char)('a' + (r >> 16) % 26);
        }
        char *line = exact_copy(buf, n);
        alb_line got, want;
        uint32_t kg = alb_tokenize(line, n, &got);
        uint32_t kw = ref_tokenize(line, n, &want);
        cr_assert_eq(kg, kw, "line [%.*s]", (int)n, line);
        cr_assert_eq(got.nfields, kw);
        for (unsigned i = 0; i < ALB_NFIELDS; i++) {
            if (got.f[i].p != want.f[i].p || got.f[i].n != want.f[i].n)
                cr_assert_fail("line [%.*s] field %u: got [%.*s] want [%.*s]", (int)n, line, i,
                               (int)got.f[i].n, got.f[i].p ? got.f[i].p : "", (int)want.f[i].n,
                               want.f[i].p ? want.f[i].p : "");
        }
        free(line);
    }
}

/* ---- alb_unescape ----------------------------------------------------- */

static void check_unescape(const char *raw, const char *want, size_t want_len)
{
    char out[256];
    memset(out, '#', sizeof out);
    tg_str s = tg_str_make(raw, strlen(raw));
    size_t n = alb_unescape(s, out, sizeof out);
    cr_assert_eq(n, want_len, "[%s] decoded to %zu bytes", raw, n);
    cr_assert_leq(n, s.n);
    cr_assert_eq(memcmp(out, want, want_len), 0, "[%s] -> [%.*s]", raw, (int)n, out);
}

#define UNESC(raw, want) check_unescape((raw), (want), sizeof(want) - 1)

Test(alb, unescape)
{
    UNESC("", "");
    UNESC("plain text", "plain text");
    UNESC("\\x22", "\"");
    UNESC("\\x5C", "\\");
    UNESC("\\x5c", "\\");
    UNESC("\\\"", "\"");
    UNESC("\\\\", "\\");
    UNESC("\\x00000022", "\"");
    UNESC("\\x0000005C\\x0000005c", "\\\\");
    UNESC("say \\x22hi\\x22 and \\\"bye\\\"", "say \"hi\" and \"bye\"");
    UNESC("caf\\xC3\\xA9", "caf\xc3\xa9");
    UNESC("nul\\x00!", "nul\0!");
    /* Anything else keeps its backslash. */
    UNESC("a\\nb", "a\\nb");
    UNESC("\\x4", "\\x4");
    UNESC("\\xZZ", "\\xZZ");
    UNESC("\\x", "\\x");
    UNESC("end\\", "end\\");
    UNESC("\\\\x22", "\\x22");
    /* An 8-digit form needs six zeros; otherwise the 2-digit form is read. */
    UNESC("\\x01000022", "\x01" "000022");
    UNESC("\\x000000", "\0" "0000");
    UNESC("\\x0000002G", "\0" "00002G");
}

Test(alb, unescape_small_buffer)
{
    char out[4];
    tg_str s = tg_str_make("ab\\x22cdef", 10);
    cr_assert_eq(alb_unescape(s, out, 4), 4);
    cr_assert_eq(memcmp(out, "ab\"c", 4), 0);
    cr_assert_eq(alb_unescape(s, out, 2), 2);
    cr_assert_eq(memcmp(out, "ab", 2), 0);
    cr_assert_eq(alb_unescape(s, out, 0), 0);
    /* cap == s.n always suffices. */
    char big[10];
    cr_assert_eq(alb_unescape(s, big, sizeof big), 7);
    cr_assert_eq(memcmp(big, "ab\"cdef", 7), 0);
}

Test(alb, unescape_user_agent_field)
{
    const char *line = "http 2018-11-30T22:23:00.186641Z app/x 1.2.3.4:5 - -1 -1 -1 200 200 0 0 "
                       "\"GET / HTTP/1.1\" \"Mozilla \\x22X\\x22 \\\"Y\\\" \\x00000022Z\\x00000022\"";
    alb_record r;
    cr_assert(alb_parse(line, strlen(line), &r));
    cr_assert_eq(r.t.nfields, 14);
    tg_str ua = r.t.f[ALB_USER_AGENT];
    char *out = malloc(ua.n);
    size_t n = alb_unescape(ua, out, ua.n);
    cr_assert_eq(n, strlen("Mozilla \"X\" \"Y\" \"Z\""));
    cr_assert_eq(memcmp(out, "Mozilla \"X\" \"Y\" \"Z\"", n), 0);
    free(out);
}

/* A prefix parse agrees with the full parse on every field it keeps, and
 * stops counting at its limit. */
Test(alb, prefix_parse_agrees_with_full_parse)
{
    size_t len = 0;
    char *text = tt_read_file(TG_SOURCE_DIR "/tests/fixtures/alb-doc-examples.log", &len);
    cr_assert_not_null(text);
    size_t checked = 0;
    for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        alb_record full, head;
        cr_assert(alb_parse(line, n, &full));
        for (uint32_t want = 12; want <= ALB_NFIELDS; want++) {
            cr_assert(alb_parse_prefix(line, n, want, &head));
            uint32_t expect = full.t.nfields < want ? full.t.nfields : want;
            cr_assert_eq(head.t.nfields, expect, "want %u", want);
            for (uint32_t i = 0; i < expect; i++)
                cr_assert(head.t.f[i].n == full.t.f[i].n &&
                              memcmp(head.t.f[i].p, full.t.f[i].p, full.t.f[i].n) == 0,
                          "field %u differs with want %u", i, want);
            cr_assert_eq(head.time_us, full.time_us);
            cr_assert_eq(head.status, full.status);
            if (want > ALB_REQUEST_CREATION_TIME)
                cr_assert_eq(head.created_us, full.created_us);
        }
        checked++;
        if (!nl)
            break;
    }
    cr_expect_eq(checked, 8);
    free(text);
}

/* A sparse parse keeps exactly the fields asked for (and those it reads
 * itself) as the prefix parse gives them, on every documented line and for
 * masks that skip whole blocks, single fields and nothing. */
Test(alb, sparse_parse_keeps_the_fields_asked_for)
{
    size_t len = 0;
    char *text = tt_read_file(TG_SOURCE_DIR "/tests/fixtures/alb-doc-examples.log", &len);
    cr_assert_not_null(text);
    const uint64_t own = ALB_FIELD(ALB_TYPE) | ALB_FIELD(ALB_TIME) | ALB_FIELD(ALB_ELB_STATUS) |
                         ALB_FIELD(ALB_TARGET_STATUS) | ALB_FIELD(ALB_REQUEST_CREATION_TIME);
    const uint64_t masks[] = {
        ALB_FIELD(ALB_TRACE_ID) | ALB_FIELD(ALB_ELB) | ALB_FIELD(ALB_CONN_TRACE_ID),
        0,
        ALB_FIELD(ALB_USER_AGENT),
        ALB_FIELD(ALB_NFIELDS - 1),
        ALB_FIELD(ALB_REQUEST) | ALB_FIELD(ALB_DOMAIN_NAME) | ALB_FIELD(ALB_CLASSIFICATION_REASON),
        0x5555555555555555ull,
        ~0ull,
    };
    size_t checked = 0;
    for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        for (size_t m = 0; m < sizeof masks / sizeof *masks; m++) {
            uint64_t keep = (masks[m] | own) & ((1ull << ALB_NFIELDS) - 1);
            uint32_t limit = 64 - (uint32_t)__builtin_clzll(keep);
            alb_record pre, sp;
            cr_assert(alb_parse_prefix(line, n, limit, &pre));
            cr_assert(alb_parse_fields(line, n, masks[m], &sp));
            cr_assert_eq(sp.t.nfields, pre.t.nfields, "mask %zu", m);
            for (unsigned i = 0; i < ALB_NFIELDS; i++) {
                tg_str want = keep >> i & 1 ? pre.t.f[i] : TG_STR_NULL;
                cr_assert(sp.t.f[i].p == want.p && sp.t.f[i].n == want.n,
                          "line %zu, mask %zu: field %u", checked, m, i);
            }
            cr_assert(sp.time_us == pre.time_us && sp.created_us == pre.created_us &&
                      sp.status == pre.status);
            /* The split alone gives the same fields. */
            alb_line t;
            memset(&t, 0x5a, sizeof t);
            cr_assert_eq(alb_split_fields(line, n, masks[m], &t), sp.t.nfields);
            for (unsigned i = 0; i < ALB_NFIELDS; i++)
                cr_assert(t.f[i].p == sp.t.f[i].p && t.f[i].n == sp.t.f[i].n,
                          "alb_split_fields, line %zu, mask %zu: field %u", checked, m, i);
        }
        checked++;
        if (!nl)
            break;
    }
    cr_expect_eq(checked, 8);
    free(text);
}
