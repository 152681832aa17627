/*
 * Unit tests of decode/cloudfront: AWS's documented file record by record,
 * the #Fields map (default, replaced mid-file, reordered, partial), the
 * trailing empty column, and URL decoding.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/cloudfront.h"
#include "decode/tgtime.h"
#include "tg_test_util.h"

#define FIXTURES TG_SOURCE_DIR "/tests/fixtures/"

static int64_t iso(const char *s)
{
    int64_t us = 0;
    cr_assert(tgtime_parse_iso(s, strlen(s), &us), "bad test timestamp %s", s);
    return us;
}

static bool slice_is(tg_str s, const char *lit)
{
    return s.p != NULL && tg_str_eq(s, lit);
}

#define assert_col(r, c, lit)                                                                   \
    cr_assert(slice_is((r)->col[c], (lit)), "column %d is [%.*s], want [%s]", (int)(c),         \
              (int)(r)->col[c].n, (r)->col[c].p ? (r)->col[c].p : "(null)", (lit))

/* Parses a line from an exact-length copy kept in *keep. */
static bool parse(const cloudfront_state *st, const char *line, cloudfront_record *r, char **keep)
{
    size_t n = strlen(line);
    *keep = malloc(n ? n : 1);
    memcpy(*keep, line, n);
    return cloudfront_parse(st, *keep, n, r);
}

static bool directive(cloudfront_state *st, const char *line)
{
    size_t n = strlen(line);
    char *b = malloc(n ? n : 1);
    memcpy(b, line, n);
    bool ok = cloudfront_directive(st, b, n);
    free(b);
    return ok;
}

/* What the documented file's six records hold, read off the file. */
typedef struct doc_record {
    const char *when, *edge, *stem, *result, *id, *host, *ua;
    int status;
    int64_t taken_us;
    uint32_t ncolumns;
} doc_record;

static const doc_record doc[6] = {
    {"2019-12-04T21:02:31Z", "LAX1", "/index.html", "Hit",
     "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==", "d111111abcdef8.cloudfront.net",
     NULL, 200, 1000, 33},
    {"2019-12-04T21:02:31Z", "LAX1", "/index.html", "Hit",
     "k6WGMNkEzR5BEM_SaF47gjtX9zBDO2m349OY2an0QPEaUum1ZOLrow==", "d111111abcdef8.cloudfront.net",
     NULL, 200, 0, 33},
    {"2019-12-04T21:02:31Z", "LAX1", "/index.html", "Hit",
     "f37nTMVvnKvV2ZSvEsivup_c2kZ7VXzYdjC-GUQZ5qNs-89BlWazbw==", "d111111abcdef8.cloudfront.net",
     NULL, 200, 1000, 34},
    {"2019-12-13T22:36:27Z", "SEA19-C1", "/favicon.ico", "Error",
     "1pkpNfBQ39sYMnjjUQjmH2w1wdJnbHYTbag21o_3OfcQgPzdL2RSSQ==", "d111111abcdef8.cloudfront.net",
     NULL, 502, 102000, 33},
    {"2019-12-13T22:36:26Z", "SEA19-C1", "/", "Error",
     "3AqrZGCnF_g0-5KOvfA7c9XLcf4YGvMFSeFdIetR1N_2y8jSis8Zxg==", "d111111abcdef8.cloudfront.net",
     NULL, 502, 107000, 33},
    {"2019-12-13T22:37:02Z", "SEA19-C2", "/", "Error",
     "kBkDzGnceVtWHqSCqBUqtA_cEs2T3tFUBbnBNkB9El_uVRhHgcZfcw==", "d111111abcdef8.cloudfront.net",
     "curl/7.55.1", 502, 103000, 33},
};

Test(cloudfront, doc_example_file)
{
    size_t len;
    char *text = tt_read_file(FIXTURES "cloudfront-doc-example.log", &len);
    cr_assert_not_null(text);
    cloudfront_state st;
    cloudfront_init(&st);
    cr_assert_not(st.have_fields);
    size_t records = 0, directives = 0;
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *line = malloc(n ? n : 1);
        memcpy(line, p, n);
        if (cloudfront_directive(&st, line, n)) {
            directives++;
        } else {
            cloudfront_record r;
            cr_assert(cloudfront_parse(&st, line, n, &r), "record %zu rejected", records + 1);
            cr_assert_lt(records, 6);
            const doc_record *w = &doc[records];
            cr_assert_eq(r.time_us, iso(w->when), "record %zu", records + 1);
            cr_assert_eq(r.start_us, r.time_us);
            cr_assert_eq(r.duration_us, w->taken_us, "record %zu", records + 1);
            cr_assert_eq(r.end_us, r.time_us + w->taken_us);
            cr_assert_eq(r.status, w->status, "record %zu", records + 1);
            cr_assert_eq(r.ncolumns, w->ncolumns, "record %zu", records + 1);
            assert_col(&r, CLOUDFRONT_EDGE_LOCATION, w->edge);
            assert_col(&r, CLOUDFRONT_URI_STEM, w->stem);
            assert_col(&r, CLOUDFRONT_RESULT_TYPE, w->result);
            assert_col(&r, CLOUDFRONT_REQUEST_ID, w->id);
            cr_assert_eq(r.col[CLOUDFRONT_REQUEST_ID].n, 56, "x-edge-request-id is 56 characters");
            assert_col(&r, CLOUDFRONT_HOST, w->host);
            assert_col(&r, CLOUDFRONT_METHOD, "GET");
            assert_col(&r, CLOUDFRONT_URI_QUERY, "-");
            assert_col(&r, CLOUDFRONT_CLIENT_IP, records < 3 ? "192.0.2.100" : "192.0.2.200");
            if (w->ua)
                assert_col(&r, CLOUDFRONT_USER_AGENT, w->ua);
            else
                cr_assert(r.col[CLOUDFRONT_USER_AGENT].n > 100 &&
                          memcmp(r.col[CLOUDFRONT_USER_AGENT].p, "Mozilla/5.0%20(Windows", 22) == 0);
            records++;
        }
        free(line);
        p = nl ? nl + 1 : p + n;
    }
    cr_assert_eq(directives, 2);
    cr_assert_eq(records, 6);
    cr_assert(st.have_fields);
    cr_assert_eq(st.ncolumns, 33);
    free(text);
}

/* The default map reads the documented records without their header. */
Test(cloudfront, default_map_without_header)
{
    size_t len;
    char *text = tt_read_file(FIXTURES "cloudfront-doc-example.log", &len);
    cr_assert_not_null(text);
    char *rec = strstr(text, "\n2019-12-13\t22:37:02");
    cr_assert_not_null(rec);
    rec++;
    rec[strcspn(rec, "\n")] = '\0';
    cloudfront_state st;
    cloudfront_init(&st);
    cloudfront_record r;
    char *keep;
    cr_assert(parse(&st, rec, &r, &keep));
    cr_assert_eq(r.time_us, iso("2019-12-13T22:37:02Z"));
    assert_col(&r, CLOUDFRONT_REQUEST_ID, doc[5].id);
    assert_col(&r, CLOUDFRONT_USER_AGENT, "curl/7.55.1");
    cr_assert_eq(r.duration_us, 103000);
    free(keep);
    free(text);
}

Test(cloudfront, fields_change_mid_file)
{
    cloudfront_state st;
    cloudfront_init(&st);
    cr_assert(directive(&st, "#Version: 1.0"));
    cr_assert(directive(&st, "#Fields: date time sc-status x-edge-request-id time-taken"));
    cr_assert_eq(st.ncolumns, 5);
    cloudfront_record r;
    char *keep;
    cr_assert(parse(&st, "2024-03-01\t10:00:00\t200\tAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\t0.250",
                    &r, &keep));
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.duration_us, 250000);
    cr_assert_null(r.col[CLOUDFRONT_EDGE_LOCATION].p, "a column #Fields does not name is absent");
    cr_assert_null(r.col[CLOUDFRONT_USER_AGENT].p);
    free(keep);

    /* A second #Fields with another order replaces the map from here on. */
    cr_assert(directive(&st, "#Fields:\ttime-taken\tx-edge-request-id cs-method  date time "
                             "x-edge-location sc-status"));
    cr_assert_eq(st.ncolumns, 7);
    cr_assert(parse(&st, "1.5\tBBBB\tPOST\t2024-03-01\t11:00:00\tFRA56-P1\t504", &r, &keep));
    cr_assert_eq(r.time_us, iso("2024-03-01T11:00:00Z"));
    cr_assert_eq(r.duration_us, 1500000);
    cr_assert_eq(r.end_us, iso("2024-03-01T11:00:01.5Z"));
    cr_assert_eq(r.status, 504);
    assert_col(&r, CLOUDFRONT_REQUEST_ID, "BBBB");
    assert_col(&r, CLOUDFRONT_METHOD, "POST");
    assert_col(&r, CLOUDFRONT_EDGE_LOCATION, "FRA56-P1");
    free(keep);
    /* The old layout no longer parses: its first column is no time-taken
     * and its fourth no date. */
    cr_assert_not(parse(&st, "2024-03-01\t10:00:00\t200\tX\t0.250", &r, &keep));
    free(keep);
    /* #Version and unknown directives change nothing. */
    cr_assert(directive(&st, "#Version: 2.0"));
    cr_assert(directive(&st, "#Remark: hello"));
    cr_assert_eq(st.ncolumns, 7);
    cr_assert_not(directive(&st, "2024-03-01\t10:00:00"));
    cr_assert_not(directive(&st, ""));
}

Test(cloudfront, short_and_trailing_columns)
{
    cloudfront_state st;
    cloudfront_init(&st);
    cr_assert(directive(&st, "#Fields: date time sc-status time-taken cs(User-Agent)"));
    cloudfront_record r;
    char *keep;
    /* An extra empty trailing column. */
    cr_assert(parse(&st, "2024-03-01\t10:00:00\t000\t-\tcurl\t", &r, &keep));
    cr_assert_eq(r.ncolumns, 6);
    cr_assert_eq(r.status, 0, "000: the viewer went away");
    cr_assert_eq(r.duration_us, -1, "\"-\" is an unknown time-taken");
    cr_assert_eq(r.end_us, r.start_us);
    assert_col(&r, CLOUDFRONT_USER_AGENT, "curl");
    free(keep);
    /* A record shorter than the map: the missing columns are absent. */
    cr_assert(parse(&st, "2024-03-01\t10:00:00\t404", &r, &keep));
    cr_assert_eq(r.ncolumns, 3);
    cr_assert_eq(r.status, 404);
    cr_assert_null(r.col[CLOUDFRONT_TIME_TAKEN].p);
    cr_assert_eq(r.duration_us, -1);
    free(keep);
}

Test(cloudfront, rejects_non_records)
{
    cloudfront_state st;
    cloudfront_init(&st);
    static const char *const bad[] = {
        "",
        "#Fields: date time",
        "2019-12-04 21:02:31 LAX1",
        "2019-12-04\t21:02\tLAX1",
        "2019-13-04\t21:02:31\tLAX1",
        "2019-12-04\t25:02:31\tLAX1",
        "20191204\t21:02:31\tLAX1",
        "http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cloudfront_record r;
        char *keep;
        cr_assert_not(parse(&st, bad[i], &r, &keep), "[%s]", bad[i]);
        free(keep);
    }
    /* A map without date and time parses nothing. */
    cr_assert(directive(&st, "#Fields: sc-status"));
    cloudfront_record r;
    char *keep;
    cr_assert_not(parse(&st, "200", &r, &keep));
    free(keep);
}

static void decode_is(const char *in, const char *want)
{
    char out[256];
    size_t n = cloudfront_url_decode(tg_str_make(in, strlen(in)), out, sizeof out);
    cr_assert_leq(n, strlen(in));
    cr_assert(n == strlen(want) && memcmp(out, want, n) == 0, "[%s] -> [%.*s], want [%s]", in,
              (int)n, out, want);
}

Test(cloudfront, url_decode)
{
    decode_is("Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)",
              "Mozilla/5.0 (Windows NT 10.0; Win64; x64)");
    decode_is("a%2fb%2Fc", "a/b/c");
    /* Once only: a double-encoded value keeps one level. */
    decode_is("%2520", "%20");
    /* Invalid escapes are kept as written. */
    decode_is("100%", "100%");
    decode_is("%2", "%2");
    decode_is("%zz%4", "%zz%4");
    decode_is("%2z%4g%g4", "%2z%4g%g4");
    decode_is("%%41", "%A");
    decode_is("a+b", "a+b");
    decode_is("", "");
    decode_is("%E2%80%94", "\xE2\x80\x94");
    char nul[4];
    cr_assert_eq(cloudfront_url_decode(tg_str_make("%00x", 4), nul, sizeof nul), 2);
    cr_assert(nul[0] == '\0' && nul[1] == 'x');

    /* A small buffer: stops when full. */
    char out[4];
    const char *in = "%41%42%43%44%45";
    size_t n = cloudfront_url_decode(tg_str_make(in, strlen(in)), out, sizeof out);
    cr_assert_eq(n, 4);
    cr_assert(memcmp(out, "ABCD", 4) == 0);
    n = cloudfront_url_decode(tg_str_make("abcdef", 6), out, 3);
    cr_assert_eq(n, 3);
    cr_assert(memcmp(out, "abc", 3) == 0);
}

/* Every documented user agent decodes to a readable browser string. */
Test(cloudfront, url_decode_doc_user_agents)
{
    size_t len;
    char *text = tt_read_file(FIXTURES "cloudfront-doc-example.log", &len);
    cr_assert_not_null(text);
    cloudfront_state st;
    cloudfront_init(&st);
    size_t browsers = 0;
    for (char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        cloudfront_record r;
        if (!cloudfront_directive(&st, p, n) && cloudfront_parse(&st, p, n, &r)) {
            char ua[512];
            tg_str s = r.col[CLOUDFRONT_USER_AGENT];
            size_t k = cloudfront_url_decode(s, ua, sizeof ua);
            ua[k] = '\0';
            if (strstr(ua, "Mozilla") != NULL) {
                cr_assert_str_eq(ua, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                                     "(KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36");
                browsers++;
            }
        }
        p += n + (p[n] == '\n');
    }
    cr_assert_eq(browsers, 5);
    free(text);
}

/* Splits line[0..n) at every tab, a memchr() at a time: column k of the
 * line is cols[k], for k < *ncols (at most max are kept). */
static void ref_split(const char *line, size_t n, tg_str *cols, size_t max, size_t *ncols)
{
    const char *p = line, *end = line + n;
    size_t k = 0;
    for (;;) {
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        const char *e = tab ? tab : end;
        if (k < max)
            cols[k] = tg_str_make(p, (size_t)(e - p));
        k++;
        if (!tab)
            break;
        p = tab + 1;
    }
    *ncols = k;
}

Test(cloudfront, columns_match_reference_on_random_records)
{
    /* Two maps: the default one, and a short reordered one whose last
     * needed column comes early (the rest of the line is only counted). */
    cloudfront_state maps[2];
    cloudfront_init(&maps[0]);
    cloudfront_init(&maps[1]);
    cr_assert(directive(&maps[1], "#Fields: time x-edge-request-id date sc-status"));
    uint64_t seed = 0x853c49e6748fea9bu;
    char line[600];
    tg_str cols[64];
    size_t checked = 0;
    for (int iter = 0; iter < 50000; iter++) {
        /* Columns of 0 to 40 bytes, so that lines run from a few bytes to
         * several 64-byte blocks and tabs fall on every block boundary. */
        size_t n = 0;
        unsigned ncols = 1 + (unsigned)(seed % 45);
        for (unsigned k = 0; k < ncols; k++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            size_t len = (seed >> 8) % (seed % 3 == 0 ? 3 : 41);
            if (k == 0 && len == 0)
                len = 1; /* a first byte '#' would make a directive */
            for (size_t i = 0; i < len && n < sizeof line; i++)
                line[n++] = "abc-/:.=01"[(seed >> (i % 50)) % 10];
            if (k + 1 < ncols && n < sizeof line)
                line[n++] = '\t';
        }
        char *exact = malloc(n ? n : 1);
        memcpy(exact, line, n);
        size_t want_n;
        ref_split(exact, n, cols, 64, &want_n);
        for (unsigned m = 0; m < 2; m++) {
            const cloudfront_state *st = &maps[m];
            cloudfront_record r;
            cloudfront_parse(st, exact, n, &r);
            cr_assert_eq(r.ncolumns, want_n, "line [%.*s]", (int)n, exact);
            for (unsigned c = 0; c < CLOUDFRONT_NCOLS; c++) {
                tg_str want = st->pos[c] != CLOUDFRONT_ABSENT && st->pos[c] < want_n
                                  ? cols[st->pos[c]]
                                  : TG_STR_NULL;
                if (r.col[c].p != want.p || r.col[c].n != want.n)
                    cr_assert_fail("map %u, column %u of [%.*s]: got [%.*s] want [%.*s]", m, c,
                                   (int)n, exact, (int)r.col[c].n, r.col[c].p ? r.col[c].p : "",
                                   (int)want.n, want.p ? want.p : "");
                checked += want.p != NULL;
            }
        }
        free(exact);
    }
    cr_assert_gt(checked, 200000);
}
