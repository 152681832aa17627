/*
 * Unit tests of decode/sniff: every fixture file, one test per format and
 * per voting rule, the names --input-format takes, and the binary check
 * against its byte-by-byte rule.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "decode/sniff.h"
#include "tg_test_util.h"

#define FIXTURES TG_SOURCE_DIR "/tests/fixtures/"

/* Sniffs text from a buffer of exactly its length (AddressSanitizer then
 * sees any read past it). */
static sniff_format sniff(const char *text)
{
    size_t n = strlen(text);
    char *b = malloc(n ? n : 1);
    cr_assert_not_null(b);
    memcpy(b, text, n);
    sniff_format f = sniff_detect(b, n);
    free(b);
    return f;
}

static sniff_format sniff_file(const char *name)
{
    char *path = tt_fmt("%s%s", FIXTURES, name);
    size_t len;
    char *text = tt_read_file(path, &len);
    cr_assert_not_null(text, "cannot read %s", path);
    /* At most the first 64 KiB, as the input stage hands it over. */
    sniff_format f = sniff_detect(text, len < 65536 ? len : 65536);
    free(text);
    free(path);
    return f;
}

#define assert_format(got, want)                                                               \
    cr_assert_eq((got), (want), "got %s, want %s", sniff_format_name(got), sniff_format_name(want))

Test(sniff, every_fixture)
{
    assert_format(sniff_file("alb-doc-examples.log"), SNIFF_ALB);
    assert_format(sniff_file("alb-connection-doc-example.log"), SNIFF_ALB_CONN);
    assert_format(sniff_file("cloudfront-doc-example.log"), SNIFF_CLOUDFRONT);
    assert_format(sniff_file("classic-elb-doc-example.log"), SNIFF_CLASSIC_ELB);
    assert_format(sniff_file("lambda-report.log"), SNIFF_TEXT);
    assert_format(sniff_file("xray-header-cases.tsv"), SNIFF_TEXT);
    assert_format(sniff_file("samples.truth.tsv"), SNIFF_TEXT);
}

/* Each line of the fixtures, on its own, is classified as its file. */
Test(sniff, every_fixture_line)
{
    static const struct {
        const char *file;
        sniff_format f;
    } files[] = {
        {"alb-doc-examples.log", SNIFF_ALB},
        {"alb-connection-doc-example.log", SNIFF_ALB_CONN},
        {"cloudfront-doc-example.log", SNIFF_CLOUDFRONT},
        {"classic-elb-doc-example.log", SNIFF_CLASSIC_ELB},
        {"lambda-report.log", SNIFF_TEXT},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *path = tt_fmt("%s%s", FIXTURES, files[i].file);
        size_t len, lines = 0;
        char *text = tt_read_file(path, &len);
        cr_assert_not_null(text);
        for (char *p = text; *p;) {
            char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            char *copy = malloc(n ? n : 1);
            memcpy(copy, p, n);
            sniff_format f = sniff_line(copy, n);
            free(copy);
            cr_assert_eq(f, files[i].f, "%s line %zu: %s", files[i].file, lines + 1,
                         sniff_format_name(f));
            lines++;
            p = nl ? nl + 1 : p + n;
        }
        cr_assert_geq(lines, 2);
        free(text);
        free(path);
    }
}

Test(sniff, json_lines)
{
    assert_format(sniff("{\"time\":\"2023-10-04T17:05:15Z\",\"msg\":\"a\"}\n"
                        "  {\"time\":\"2023-10-04T17:05:16Z\",\"msg\":\"b\"}\n"),
                  SNIFF_JSON);
    assert_format(sniff("\t{\"a\":1}"), SNIFF_JSON);
    /* An array or a bare value is not a JSON-lines log. */
    assert_format(sniff("[1,2,3]\n"), SNIFF_TEXT);
}

Test(sniff, cloudfront_header_decides_at_once)
{
    assert_format(sniff("#Version: 1.0\nsomething else\nand more\nand more\n"), SNIFF_CLOUDFRONT);
    assert_format(sniff("\n\n#Fields: date time\n"), SNIFF_CLOUDFRONT);
    /* Records alone (a file cut away from its header) still vote for it. */
    assert_format(sniff("2019-12-04\t21:02:31\tLAX1\t392\n2019-12-04\t21:02:32\tLAX1\t392\n"),
                  SNIFF_CLOUDFRONT);
    /* A '#' comment is not a W3C directive. */
    assert_format(sniff("# comment\nplain text\n"), SNIFF_TEXT);
}

Test(sniff, majority_wins_over_an_odd_line)
{
    const char *alb = "http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 "
                      "192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "
                      "\"GET http://www.example.com:80/ HTTP/1.1\" \"curl/7.46.0\" - - "
                      "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/t/73e2d6bc24d8a067 "
                      "\"Root=1-58337262-36d228ad5d99923122bbe354\" \"-\" \"-\" 0 "
                      "2018-07-02T22:22:48.364000Z \"forward\" \"-\" \"-\" 10.0.0.1:80 200 \"-\" \"-\"\n";
    char *text = tt_fmt("garbage banner line\n%s%s", alb, alb);
    assert_format(sniff(text), SNIFF_ALB);
    free(text);
    /* One of each: no majority, so text. */
    text = tt_fmt("garbage\n%s{\"a\":1}\n", alb);
    assert_format(sniff(text), SNIFF_TEXT);
    free(text);
    /* Half is not a majority. */
    text = tt_fmt("garbage\n%s", alb);
    assert_format(sniff(text), SNIFF_TEXT);
    free(text);
}

Test(sniff, only_the_first_lines_vote)
{
    /* 16 text lines, then as many JSON lines: the JSON ones are not read. */
    char buf[4096] = "";
    for (int i = 0; i < SNIFF_MAX_LINES; i++)
        strcat(buf, "plain line\n");
    for (int i = 0; i < 3 * SNIFF_MAX_LINES; i++)
        strcat(buf, "{\"a\":1}\n");
    assert_format(sniff(buf), SNIFF_TEXT);
}

Test(sniff, blank_lines_crlf_bom_and_cut_lines)
{
    assert_format(sniff(""), SNIFF_TEXT);
    assert_format(sniff("\n\n  \n"), SNIFF_TEXT);
    assert_format(sniff("\xEF\xBB\xBF{\"a\":1}\r\n{\"a\":2}\r\n"), SNIFF_JSON);
    assert_format(sniff("\xEF\xBB\xBF#Version: 1.0\r\n"), SNIFF_CLOUDFRONT);
    /* A cut last line does not vote when whole lines exist... */
    assert_format(sniff("plain\n{\"a\":1}\n{\"trunc"), SNIFF_TEXT);
    assert_format(sniff("{\"a\":1}\n{\"a\":1}\nplain cut"), SNIFF_JSON);
    /* ...but does when it is all there is. */
    assert_format(sniff("{\"a\":1}"), SNIFF_JSON);
}

Test(sniff, connection_log_ipv6_and_newer_fields)
{
    const char *l = "2023-10-04T17:05:15.514108Z 2001:db8::1 36280 443 TLSv1.3 "
                    "TLS_AES_128_GCM_SHA256 0.012 \"-\" - - - TID_3180a73013c8ca4bac2f731159d4b0fe "
                    "x25519 app/my-lb/50dc6c495c0c9188 10.0.0.5";
    cr_assert_eq(sniff_line(l, strlen(l)), SNIFF_ALB_CONN);
    /* Without TID_ in field 12 it is not a connection log. */
    const char *m = "2023-10-04T17:05:15.514108Z 2001:db8::1 36280 443 TLSv1.3 "
                    "TLS_AES_128_GCM_SHA256 0.012 \"-\" - - - conn-1234";
    cr_assert_eq(sniff_line(m, strlen(m)), SNIFF_TEXT);
}

Test(sniff, classic_elb_shapes)
{
    /* The oldest 12-field lines and a TCP listener's line. */
    const char *old = "2014-02-15T23:39:43.945958Z my-test-loadbalancer 192.168.131.39:2817 "
                      "10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "
                      "\"GET http://www.example.com:80/ HTTP/1.1\"";
    cr_assert(sniff_is_classic_elb(old, strlen(old)));
    const char *tcp = "2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 "
                      "10.0.0.1:80 -1 -1 -1 - - 57 502 \"- - - \" \"-\" - -";
    cr_assert(sniff_is_classic_elb(tcp, strlen(tcp)));
    /* An ALB line has a type first; an NLB line starts with "tls". */
    const char *bad[] = {
        "2015-05-13T23:39:43.945958Z my-lb 192.168.131.39 10.0.0.1:80 0.1 0.1 0.1 200 200 0 29 \"x\"",
        "2015-05-13T23:39:43.945958Z my-lb 192.168.131.39:2817 10.0.0.1:80 0.1 x 0.1 200 200 0 29 \"x\"",
        "2015-05-13T23:39:43.945958Z my-lb 192.168.131.39:2817 10.0.0.1:80 0.1 0.1 0.1 200 200 0",
        "tls 2.0 2018-12-20T02:59:40 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd "
        "72.21.218.154:51341 172.100.100.185:443 5 2 98 246 - "
        "arn:aws:acm:us-east-2:671290407336:certificate/2a108f19 - ECDHE-RSA-AES128-SHA tlsv12 - "
        "my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com - - - "
        "2018-12-20T02:59:30",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_not(sniff_is_classic_elb(bad[i], strlen(bad[i])), "[%s]", bad[i]);
        cr_assert_eq(sniff_line(bad[i], strlen(bad[i])), SNIFF_TEXT, "[%s]", bad[i]);
    }
}

Test(sniff, names_round_trip)
{
    static const char *const want[SNIFF_FORMAT_COUNT] = {"alb", "alb-conn", "cloudfront",
                                                          "classic-elb", "json", "text"};
    for (int f = 0; f < SNIFF_FORMAT_COUNT; f++) {
        cr_assert_str_eq(sniff_format_name((sniff_format)f), want[f]);
        sniff_format got = SNIFF_FORMAT_COUNT;
        cr_assert(sniff_parse_name(want[f], strlen(want[f]), &got), "%s", want[f]);
        cr_assert_eq(got, (sniff_format)f);
    }
    cr_assert_str_eq(sniff_format_name(SNIFF_FORMAT_COUNT), "unknown");
}

Test(sniff, parse_name_aliases_and_rejections)
{
    static const struct {
        const char *s;
        sniff_format f;
    } ok[] = {{"ALB", SNIFF_ALB},         {"Alb-Conn", SNIFF_ALB_CONN},
              {"albconn", SNIFF_ALB_CONN}, {"alb-connection", SNIFF_ALB_CONN},
              {"elb", SNIFF_CLASSIC_ELB},  {"CloudFront", SNIFF_CLOUDFRONT},
              {"ndjson", SNIFF_JSON},      {"jsonl", SNIFF_JSON},
              {"TEXT", SNIFF_TEXT}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        sniff_format got = SNIFF_FORMAT_COUNT;
        cr_assert(sniff_parse_name(ok[i].s, strlen(ok[i].s), &got), "%s", ok[i].s);
        cr_assert_eq(got, ok[i].f, "%s", ok[i].s);
    }
    static const char *const bad[] = {"", "auto", "al", "albx", "alb ", "json-lines", "nlb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sniff_format got = SNIFF_TEXT;
        cr_assert_not(sniff_parse_name(bad[i], strlen(bad[i]), &got), "[%s]", bad[i]);
    }
    /* The length is obeyed: "alb" is a prefix of "alb-conn". */
    sniff_format got;
    cr_assert(sniff_parse_name("alb-conn", 3, &got));
    cr_assert_eq(got, SNIFF_ALB);
}

/* The byte-by-byte rule sniff_looks_binary() counts by: control bytes
 * other than tab, LF, CR, FF and ESC, more than 5% of them. */
static bool binary_by_bytes(const unsigned char *p, size_t n)
{
    size_t ctrl = 0;
    for (size_t i = 0; i < n; i++)
        ctrl += p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r' && p[i] != '\f' &&
                p[i] != 0x1b;
    return ctrl * 20 > n;
}

/* Checks sniff_looks_binary() against the rule on buf[0..n), the test's
 * round-th buffer, and counts the verdict in verdicts[]. */
static void check_rule(const unsigned char *buf, size_t n, size_t verdicts[2], unsigned round)
{
    bool want = binary_by_bytes(buf, n);
    cr_assert_eq(sniff_looks_binary((const char *)buf, n), want, "round %u: %zu bytes", round, n);
    verdicts[want]++;
}

/* The vector count agrees with the rule at every length and around the 5%
 * line, whatever the bytes: text, UTF-8 and high bytes (which a signed
 * compare would take for control bytes), and every control byte. */
Test(sniff, binary_check_counts_as_the_byte_rule)
{
    unsigned char buf[600];
    size_t verdicts[2] = {0, 0};
    for (unsigned round = 0; round < 4000; round++) {
        size_t n = tt_rnd_below(sizeof buf + 1);
        unsigned pct = tt_rnd_below(12); /* control bytes: 0 to 11% */
        for (size_t i = 0; i < n; i++) {
            unsigned r = tt_rnd_below(100);
            if (r < pct)
                buf[i] = (unsigned char)tt_rnd_below(0x20);
            else if (r < pct + 10)
                buf[i] = (unsigned char)(0x80 + tt_rnd_below(0x80));
            else if (r < pct + 15)
                buf[i] = "\t\n\r\f\x1b"[tt_rnd_below(5)];
            else
                buf[i] = (unsigned char)(0x20 + tt_rnd_below(0x5f));
        }
        check_rule(buf, n, verdicts, round);
    }
    cr_expect(verdicts[0] > 100 && verdicts[1] > 100, "both verdicts: %zu text, %zu binary",
              verdicts[0], verdicts[1]);
}

/* Text whose lines hold a few stray control bytes, from none to past the
 * 5% line, at any place: most of its 64-byte blocks hold none but
 * newlines and are passed over on the quicker test, and the verdict is
 * still the rule's, at every length up to the 64 KiB read. */
Test(sniff, binary_check_on_text_with_a_few_control_bytes)
{
    enum { CAP = 70000 };
    unsigned char *buf = malloc(CAP);
    cr_assert_not_null(buf);
    size_t verdicts[2] = {0, 0};
    for (unsigned round = 0; round < 300; round++) {
        size_t n = tt_rnd_below(CAP + 1);
        for (size_t i = 0; i < n; i++)
            buf[i] = tt_rnd_below(80) == 0 ? '\n' : (unsigned char)(0x20 + tt_rnd_below(0x5f));
        /* Stray bytes: per mille of the length, 0 to 80. */
        size_t strays = n * tt_rnd_below(81) / 1000;
        for (size_t k = 0; k < strays; k++)
            buf[tt_rnd_below((unsigned)n)] = (unsigned char)"\x01\x08\x0b\x1f\x00"[tt_rnd_below(5)];
        check_rule(buf, n, verdicts, round);
    }
    cr_expect(verdicts[0] > 30 && verdicts[1] > 30, "both verdicts: %zu text, %zu binary",
              verdicts[0], verdicts[1]);
    free(buf);
}

