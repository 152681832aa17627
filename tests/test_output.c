/*
 * Unit tests of output/: JSON that stays valid on any bytes, the fast
 * formatters of strings and ALB events against simple reference
 * implementations, and the writer (errors, the helper thread, replacing a
 * file). output/numfmt has its own file, test_numfmt.c.
 */
#define _GNU_SOURCE /* posix_openpt */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <inttypes.h>
#include <regex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "decode/alb.h"
#include "decode/xray.h"
#include "output/eventfmt.h"
#include "group/intern.h"
#include "output/json.h"
#include "output/stats.h"
#include "output/timeline.h"
#include "output/writer.h"
#include "tg_test_util.h"

/* Writes through a writer into a temp file and returns its contents. */
static char *capture(void (*fn)(writer *, const void *), const void *arg)
{
    char *dir = tt_tmpdir();
    char *path = tt_fmt("%s/out", dir);
    writer w;
    cr_assert_eq(wr_open(&w, path), 0);
    fn(&w, arg);
    cr_assert_eq(wr_close(&w), 0);
    char *got = tt_read_file(path, NULL);
    tt_rmtree(dir);
    free(path);
    free(dir);
    return got;
}

static void put_str(writer *w, const void *arg)
{
    const tg_str *s = arg;
    json_str(w, s->p, s->n);
}

static void put_alb(writer *w, const void *arg)
{
    json_alb_field(w, *(const tg_str *)arg);
}

Test(output, json_escapes_and_replaces_invalid_utf8)
{
    const char raw[] = "a\"b\\c\n\t\x01 caf\xc3\xa9 bad\xff\xfe end\xe2\x82";
    tg_str s = {raw, sizeof raw - 1};
    char *got = capture(put_str, &s);
    cr_expect_str_eq(got, "\"a\\\"b\\\\c\\n\\t\\u0001 caf\xc3\xa9 bad\\ufffd\\ufffd end\\ufffd\\ufffd\"");
    cr_expect(tt_json_valid(got, strlen(got)));
    free(got);
}

Test(output, every_byte_value_gives_valid_json)
{
    char raw[256 * 3];
    for (int i = 0; i < 256; i++)
        raw[i] = (char)i, raw[256 + i] = (char)(255 - i), raw[512 + i] = (char)(i * 7);
    tg_str s = {raw, sizeof raw};
    char *got = capture(put_str, &s);
    cr_expect(tt_json_valid(got, strlen(got)), "%s", got);
    free(got);
}

Test(output, alb_fields_are_unescaped_then_encoded)
{
    tg_str s = {"say \\x22hi\\x22 \\xE2\\x80\\x94 \\x5C", 0};
    s.n = strlen(s.p);
    char *got = capture(put_alb, &s);
    cr_expect_str_eq(got, "\"say \\\"hi\\\" \xe2\x80\x94 \\\\\"");
    free(got);
    tg_str dash = {"-", 1};
    got = capture(put_alb, &dash);
    cr_expect_str_eq(got, "null");
    free(got);
}

static void put_numbers(writer *w, const void *arg)
{
    (void)arg;
    const char *vals[] = {"0.000", "-1", "12", "1e5", "-", "01", "1.", "abc", "-0.5"};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        json_number_or_null(w, tg_str_make(vals[i], strlen(vals[i])), true);
        wr_char(w, ' ');
    }
    json_number_or_null(w, TG_STR_NULL, false); /* an absent field */
}

Test(output, numbers_pass_only_when_valid_json)
{
    char *got = capture(put_numbers, NULL);
    cr_expect_str_eq(got, "0.000 null 12 1e5 null null null null -0.5 null");
    free(got);
}

Test(output, writer_reports_a_full_disk)
{
    writer w;
    cr_assert_eq(wr_open(&w, "/dev/full"), 0);
    for (int i = 0; i < 100000; i++)
        wr_str(&w, "some output that will not fit\n");
    cr_expect_eq(wr_close(&w), 28 /* ENOSPC */);
}

Test(output, writer_stops_quietly_on_a_closed_pipe)
{
    signal(SIGPIPE, SIG_IGN);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    close(fds[0]);
    writer w;
    cr_assert_eq(wr_open(&w, NULL), 0);
    w.fd = fds[1];
    /* Full buffers are written by the helper thread, whose error shows at
     * the next handover: a few buffers' worth is enough to see it. */
    for (int i = 0; i < 10000000 && !wr_broken_pipe(&w); i++)
        wr_str(&w, "line\n");
    cr_expect(wr_broken_pipe(&w));
    cr_expect_eq(wr_close(&w), 32 /* EPIPE */);
    close(fds[1]);
}

Test(output, integers)
{
    char *dir = tt_tmpdir();
    char *path = tt_fmt("%s/o", dir);
    writer w;
    cr_assert_eq(wr_open(&w, path), 0);
    wr_u64(&w, 0);
    wr_char(&w, ' ');
    wr_u64(&w, 18446744073709551615ull);
    wr_char(&w, ' ');
    wr_i64(&w, -9223372036854775807ll - 1);
    cr_assert_eq(wr_close(&w), 0);
    char *got = tt_read_file(path, NULL);
    cr_expect_str_eq(got, "0 18446744073709551615 -9223372036854775808");
    free(got);
    tt_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- Reference implementations the fast printers are checked against ---- */

/* A growable string for expected output. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_put(sbuf *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        cr_assert(b->p);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}


/* The length of a well-formed UTF-8 sequence at p, per RFC 3629's table of
 * byte ranges, 0 if ill-formed. */
static size_t ref_utf8(const unsigned char *p, size_t n)
{
    unsigned b = p[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xbf; /* the range of the second byte */
    if (b >= 0xc2 && b <= 0xdf)
        len = 2;
    else if (b == 0xe0)
        len = 3, lo = 0xa0;
    else if (b == 0xed)
        len = 3, hi = 0x9f;
    else if (b >= 0xe1 && b <= 0xef)
        len = 3;
    else if (b == 0xf0)
        len = 4, lo = 0x90;
    else if (b == 0xf4)
        len = 4, hi = 0x8f;
    else if (b >= 0xf1 && b <= 0xf3)
        len = 4;
    else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

/* What json_str() must write, one byte at a time. */
static void ref_json(sbuf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    sb_str(b, "\"");
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        char tmp[8];
        size_t len;
        if (c == '"' || c == '\\') {
            tmp[0] = '\\', tmp[1] = (char)c;
            sb_put(b, tmp, 2);
        } else if (c == '\n') {
            sb_str(b, "\\n");
        } else if (c == '\r') {
            sb_str(b, "\\r");
        } else if (c == '\t') {
            sb_str(b, "\\t");
        } else if (c < 0x20) {
            snprintf(tmp, sizeof tmp, "\\u%04x", c);
            sb_str(b, tmp);
        } else if (c < 0x80) {
            sb_put(b, p + i, 1);
        } else if ((len = ref_utf8(p + i, n - i)) != 0) {
            sb_put(b, p + i, len);
            i += len;
            continue;
        } else {
            sb_str(b, "\\ufffd");
        }
        i++;
    }
    sb_str(b, "\"");
}

static void ref_str_or_null(sbuf *b, tg_str s)
{
    if (!s.p || (s.n == 1 && s.p[0] == '-'))
        sb_str(b, "null");
    else
        ref_json(b, s.p, s.n);
}

/* What json_alb_field() must write: unescaped whole, then encoded. */
static void ref_alb_field(sbuf *b, tg_str raw)
{
    if (!raw.p || (raw.n == 1 && raw.p[0] == '-')) {
        sb_str(b, "null");
        return;
    }
    char *buf = malloc(raw.n + 1);
    cr_assert(buf);
    size_t n = alb_unescape(raw, buf, raw.n);
    ref_json(b, buf, n);
    free(buf);
}

/* Appends a random piece of log text: mostly plain ASCII, with quotes,
 * backslashes, control bytes, well-formed UTF-8 and the ill-formed kinds
 * (truncated, overlong, surrogate, past U+10FFFF, stray continuation). */
static void rnd_text(sbuf *b, size_t n, bool alb_escapes)
{
    static const char *const pieces[] = {
        "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\xc3",
        "\xe2\x82", "\xf0\x9f\x98", "\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80",
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\x80", "\xbf", "\xff", "\"", "\\",
        "\x01", "\x1f", "\x7f", "\n", "\r", "\t", "\\x22", "\\xE2\\x80\\x94", "\\x00000022",
        "\\\\", "\\\"", "\\xZZ", "\\x5", "\xc3\\xA9",
    };
    size_t npieces = sizeof pieces / sizeof *pieces - (alb_escapes ? 0 : 8);
    while (n > 0) {
        if (tt_rnd_below(8) == 0) {
            const char *piece = pieces[tt_rnd_below((unsigned)npieces)];
            sb_str(b, piece);
            n -= n < strlen(piece) ? n : strlen(piece);
        } else {
            char c = (char)(0x20 + tt_rnd_below(0x5f));
            sb_put(b, &c, 1);
            n--;
        }
    }
}

/* A writer into a temp file whose contents come back at the end. */
typedef struct sink {
    char *dir, *path;
    writer w;
} sink;

static writer *sink_open(sink *s)
{
    s->dir = tt_tmpdir();
    s->path = tt_fmt("%s/out", s->dir);
    cr_assert_eq(wr_open(&s->w, s->path), 0);
    return &s->w;
}

static char *sink_close(sink *s, size_t *len)
{
    cr_assert_eq(wr_close(&s->w), 0);
    char *got = tt_read_file(s->path, len);
    cr_assert(got);
    tt_rmtree(s->dir);
    free(s->path);
    free(s->dir);
    return got;
}

/* Compares got with want and names the first difference. */
static void expect_same(const char *got, size_t got_n, const sbuf *want)
{
    size_t i = 0;
    while (i < got_n && i < want->n && got[i] == want->p[i])
        i++;
    cr_expect(i == got_n && i == want->n,
              "outputs differ at byte %zu of %zu (want %zu):\n got  %.80s\n want %.80s", i, got_n,
              want->n, got + (i > 20 ? i - 20 : 0), want->p + (i > 20 ? i - 20 : 0));
}

/* ---- JSON strings ---- */

Test(output, json_str_matches_the_reference_on_random_bytes)
{
    sink s;
    writer *w = sink_open(&s);
    sbuf want = {0};
    for (int round = 0; round < 20000; round++) {
        sbuf in = {0};
        rnd_text(&in, tt_rnd_below(round < 19000 ? 80 : 3000), false);
        json_str(w, in.p ? in.p : "", in.n);
        ref_json(&want, in.p ? in.p : "", in.n);
        free(in.p);
    }
    size_t n;
    char *got = sink_close(&s, &n);
    expect_same(got, n, &want);
    free(got);
    free(want.p);
}

Test(output, json_str_splits_long_strings_between_sequences)
{
    /* Strings longer than the room one call takes are escaped in pieces;
     * a sequence of 2, 3 or 4 bytes must survive every cut, whatever its
     * alignment, and so must escapes and bad bytes. */
    static const char *const units[] = {
        "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\x01", "\"", "\xff", "a"};
    sink s;
    writer *w = sink_open(&s);
    sbuf want = {0};
    for (size_t u = 0; u < sizeof units / sizeof *units; u++) {
        for (size_t shift = 0; shift < 4; shift++) {
            sbuf in = {0};
            sb_put(&in, "xyz", shift);
            while (in.n < 70000)
                sb_str(&in, units[u]);
            json_str(w, in.p, in.n);
            ref_json(&want, in.p, in.n);
            free(in.p);
        }
    }
    size_t n;
    char *got = sink_close(&s, &n);
    expect_same(got, n, &want);
    free(got);
    free(want.p);
}

Test(output, json_esc_matches_json_str)
{
    for (int round = 0; round < 2000; round++) {
        sbuf in = {0}, want = {0};
        rnd_text(&in, tt_rnd_below(200), false);
        ref_json(&want, in.p ? in.p : "", in.n);
        char *out = malloc(JSON_ESC_MAX(in.n) + 2);
        out[0] = '"';
        char *end = json_esc(out + 1, in.p ? in.p : "", in.n);
        *end++ = '"';
        expect_same(out, (size_t)(end - out), &want);
        free(out);
        free(in.p);
        free(want.p);
    }
}

Test(output, alb_fields_match_the_reference)
{
    sink s;
    writer *w = sink_open(&s);
    sbuf want = {0};
    for (int round = 0; round < 20000; round++) {
        sbuf in = {0};
        rnd_text(&in, tt_rnd_below(round < 19500 ? 60 : 5000), true);
        tg_str raw = tg_str_make(in.p ? in.p : "", in.n);
        json_alb_field(w, raw);
        ref_alb_field(&want, raw);
        free(in.p);
    }
    json_alb_field(w, TG_STR_NULL);
    ref_alb_field(&want, TG_STR_NULL);
    size_t n;
    char *got = sink_close(&s, &n);
    expect_same(got, n, &want);
    free(got);
    free(want.p);
}

Test(output, values_read_past_their_end_stop_at_it)
{
    /* json_put_*() may read a value in blocks that run on into its line
     * (up to lim): what follows must not leak into the value. */
    for (int round = 0; round < 5000; round++) {
        sbuf line = {0}, want = {0}, want2 = {0};
        rnd_text(&line, 1 + tt_rnd_below(40), true);
        size_t vn = line.n;
        rnd_text(&line, tt_rnd_below(40), true); /* the rest of the line */
        tg_str v = tg_str_make(line.p, vn);
        const char *lim = line.p + line.n;
        char *out = malloc(JSON_PUT_MAX(line.n));
        char *end = json_put_str_or_null(out, v, lim);
        ref_str_or_null(&want, v);
        expect_same(out, (size_t)(end - out), &want);
        end = json_put_alb_field(out, v, lim);
        if (end) {
            cr_expect(!memchr(v.p, '\\', v.n), "an ALB escape was not reported");
            ref_alb_field(&want2, v);
            expect_same(out, (size_t)(end - out), &want2);
        } else {
            cr_expect(memchr(v.p, '\\', v.n), "a field without escapes was refused");
        }
        free(out);
        free(line.p);
        free(want.p);
        free(want2.p);
    }
}

/* ---- ALB events ---- */

/* JSON's number grammar, by regular expression. */
static bool ref_is_number(tg_str s)
{
    static regex_t re;
    static bool compiled;
    if (!compiled) {
        cr_assert_eq(regcomp(&re, "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
        compiled = true;
    }
    if (!s.p || memchr(s.p, '\0', s.n))
        return false;
    char *z = strndup(s.p, s.n);
    bool ok = regexec(&re, z, 0, NULL, 0) == 0;
    free(z);
    return ok;
}

static void ref_number(sbuf *b, tg_str s, bool minus_one_is_null)
{
    if (!ref_is_number(s) || (minus_one_is_null && s.n == 2 && memcmp(s.p, "-1", 2) == 0))
        sb_str(b, "null");
    else
        sb_put(b, s.p, s.n);
}

/* What an ALB event's own keys must be, from the full parser and the
 * reference encoders (README.md's table of keys). */
static void ref_alb_event(sbuf *b, const char *line, size_t n)
{
    /* An ALB event's line was validated when it was read: the printer
     * prints the fields of any line, as alb_parse() splits it. */
    alb_record r;
    (void)alb_parse(line, n, &r);
    if (r.t.nfields <= ALB_TRACE_ID)
        return;
    tg_str h = r.t.f[ALB_TRACE_ID];
    xray_header xh;
    memset(&xh, 0, sizeof xh);
    if (h.p)
        xray_decode(h.p, h.n, &xh);
    sb_str(b, ",\"header\":");
    ref_alb_field(b, h);
    sb_str(b, ",\"self\":");
    ref_str_or_null(b, xh.self);
    sb_str(b, ",\"parent\":");
    ref_str_or_null(b, xh.parent);
    sb_str(b, ",\"sampled\":");
    if (xh.sampled) {
        char q[4] = {'"', xh.sampled, '"', 0};
        sb_str(b, q);
    } else {
        sb_str(b, "null");
    }
    static const struct {
        const char *key;
        int field;
        char kind; /* s: string, n: number, t: seconds */
    } cols[] = {
        {"type", ALB_TYPE, 's'},
        {"elb", ALB_ELB, 's'},
        {"client", ALB_CLIENT, 's'},
        {"target", ALB_TARGET, 's'},
        {"elb_status", ALB_ELB_STATUS, 'n'},
        {"target_status", ALB_TARGET_STATUS, 'n'},
        {"request", ALB_REQUEST, 's'},
        {"user_agent", ALB_USER_AGENT, 's'},
        {"request_processing_s", ALB_REQUEST_PROCESSING, 't'},
        {"target_processing_s", ALB_TARGET_PROCESSING, 't'},
        {"response_processing_s", ALB_RESPONSE_PROCESSING, 't'},
        {"received_bytes", ALB_RECEIVED_BYTES, 'n'},
        {"sent_bytes", ALB_SENT_BYTES, 'n'},
        {"actions", ALB_ACTIONS_EXECUTED, 's'},
        {"error_reason", ALB_ERROR_REASON, 's'},
        {"conn_trace_id", ALB_CONN_TRACE_ID, 's'},
    };
    for (size_t i = 0; i < sizeof cols / sizeof *cols; i++) {
        sb_str(b, ",\"");
        sb_str(b, cols[i].key);
        sb_str(b, "\":");
        tg_str v = (uint32_t)cols[i].field < r.t.nfields ? r.t.f[cols[i].field] : TG_STR_NULL;
        if (cols[i].kind == 's')
            ref_alb_field(b, v);
        else
            ref_number(b, v, cols[i].kind == 't');
    }
}

static const char *pick(const char *const *list, size_t n)
{
    return list[tt_rnd_below((unsigned)n)];
}
#define PICK(list) pick((list), sizeof(list) / sizeof *(list))

/* A random ALB line: mostly well-formed, with odd values in every field
 * and, now and then, an odd shape (bad type or time, few fields, empty
 * fields, quotes and escapes in odd places, a huge field). */
static void rnd_alb_line(sbuf *b, unsigned *nfields)
{
    static const char *const types[] = {"http", "https", "h2", "ws", "wss", "grpcs", "tcp"};
    static const char *const times[] = {"2025-11-20T08:00:02.323310Z",
                                        "2024-02-29T23:59:59.999999Z", "2025-11-20T08:00:02Z",
                                        "2025-13-20T08:00:02.323310Z", "-"};
    static const char *const nums[] = {"0.001", "-1", "-",   "12",  "1e5", "01",   "1.", "abc",
                                       "-0.5",  "0",  "200", "503", "12a", "1E+9", "",
                                       ".5",    "00", "0.",  "1.2.3", "0.25", "1234567890123456",
                                       "12345678901234567"};
    static const char *const headers[] = {
        "Root=1-691eca82-d49ee3d9b1165d27a2f24613",
        "Root=1-691eca82-d49ee3d9b1165d27a2f24613;Sampled=1",
        "Self=1-691fa478-268439c82c35f3b9935af71b;Root=1-691fa478-b4c6643599953c6c57808dd7;"
        "Parent=e9c9b34bb1ae2a6b;Sampled=1",
        " Root = 1-691eca82-d49ee3d9b1165d27a2f24613 ; Sampled=? ; Parent=-",
        "Parent=abc;Sampled=0;Sampled=1;Self=x;Self=y",
        "Root=1-691eca82-d49ee3d9b1165d27a2f24613\\x3BSelf=z",
        "Root=1-00000000-000000000000000000000000;Lineage=a:1",
        "Root=",
        "Root",
        "-",
    };
    static const unsigned counts[] = {12, 17, 18, 19, 22, 25, 29, 30, 31, 36};
    unsigned nf = tt_rnd_below(4) ? 34 : counts[tt_rnd_below(sizeof counts / sizeof *counts)];
    for (unsigned k = 0; k < nf; k++) {
        if (k)
            sb_str(b, " ");
        bool quoted = k == ALB_REQUEST || k == ALB_USER_AGENT || k == ALB_TRACE_ID ||
                      k == ALB_ACTIONS_EXECUTED || k == ALB_ERROR_REASON || k >= 24;
        if (tt_rnd_below(60) == 0)
            continue; /* an empty field: two spaces in a row */
        if (k == ALB_TYPE) {
            sb_str(b, tt_rnd_below(40) ? PICK(types) : "h2\"x");
        } else if (k == ALB_TIME || k == ALB_REQUEST_CREATION_TIME) {
            sb_str(b, PICK(times));
        } else if ((k >= ALB_REQUEST_PROCESSING && k <= ALB_SENT_BYTES)) {
            sb_str(b, PICK(nums));
        } else if (k == ALB_TRACE_ID) {
            sb_str(b, "\"");
            sb_str(b, tt_rnd_below(20) ? PICK(headers) : "\\x22-\\x22");
            sb_str(b, "\"");
        } else if (k == nf - 1) {
            sb_str(b, "\"-\""); /* a well-formed end: padding may follow */
        } else if (quoted) {
            sb_str(b, "\"");
            sbuf t = {0};
            size_t len = tt_rnd_below(200) == 0 ? 12000 : tt_rnd_below(tt_rnd_below(4) ? 40 : 300);
            rnd_text(&t, len, true);
            /* Escapes are kept whole, so no quote is escaped by accident;
             * a bare quote inside stays (the tokenizer's business). */
            for (size_t i = 0; i < t.n; i++)
                if (t.p[i] == '\n')
                    t.p[i] = ' ';
            if (t.n && t.p[t.n - 1] == '\\')
                t.p[t.n - 1] = '/';
            if (t.n)
                sb_put(b, t.p, t.n);
            free(t.p);
            sb_str(b, "\"");
        } else {
            sb_str(b, tt_rnd_below(5) ? "app/shop-public/8337dfda9f42dac9" : "-");
        }
    }
    *nfields = nf;
}

Test(output, alb_events_match_the_reference)
{
    sink s;
    writer *w = sink_open(&s);
    sbuf want = {0};
    grp_event e;
    memset(&e, 0, sizeof e);
    e.format = GRP_FMT_ALB;
    for (int round = 0; round < 20000; round++) {
        sbuf line = {0};
        unsigned nf;
        rnd_alb_line(&line, &nf);
        ef_json_fields(w, NULL, &e, tg_str_make(line.p, line.n));
        ref_alb_event(&want, line.p, line.n);
        wr_char(w, '\n');
        sb_str(&want, "\n");
        /* The same line made long by fields that are not printed goes the
         * value-by-value way: same output. */
        if (nf >= ALB_CONN_TRACE_ID + 2 && round % 4 == 0) {
            sb_str(&line, " ");
            for (int i = 0; i < 700; i++)
                sb_str(&line, "padding ");
            ef_json_fields(w, NULL, &e, tg_str_make(line.p, line.n));
            ref_alb_event(&want, line.p, line.n);
            wr_char(w, '\n');
            sb_str(&want, "\n");
        }
        free(line.p);
    }
    size_t n;
    char *got = sink_close(&s, &n);
    expect_same(got, n, &want);
    /* Every event's keys make a valid object. */
    size_t lines_ok = 0, lines = 0;
    for (char *p = got, *nl; (nl = memchr(p, '\n', (size_t)(got + n - p))) != NULL; p = nl + 1) {
        char *obj = tt_fmt("{\"x\":0%.*s}", (int)(nl - p), p);
        lines_ok += tt_json_valid(obj, strlen(obj)) != 0;
        lines++;
        free(obj);
    }
    cr_expect_eq(lines_ok, lines);
    free(got);
    free(want.p);
}

/* ---- The writer ---- */

Test(output, writer_keeps_order_across_buffers_and_threads)
{
    /* Enough output for the helper thread to take over, written through
     * every entry: small copies, room, huge copies, numbers. */
    sink s;
    writer *w = sink_open(&s);
    sbuf want = {0};
    char *big = malloc(700000);
    for (size_t i = 0; i < 700000; i++)
        big[i] = (char)('a' + i % 26);
    for (int round = 0; round < 3000; round++) {
        char tmp[32];
        switch (tt_rnd_below(6)) {
        case 0:
            wr_str(w, "line ");
            sb_str(&want, "line ");
            break;
        case 1: {
            size_t n = tt_rnd_below(WR_ROOM_MAX);
            char *o = wr_room(w, n);
            memcpy(o, big, n);
            wr_done(w, o + n);
            sb_put(&want, big, n);
            break;
        }
        case 2: {
            size_t n = tt_rnd_below(tt_rnd_below(10) ? 3000 : 700000);
            wr_bytes(w, big + 1, n - (n > 0));
            sb_put(&want, big + 1, n - (n > 0));
            break;
        }
        case 4: {
            /* Blocks past one write() each (WR_WRITE_MAX), now and then. */
            size_t n = tt_rnd_below(tt_rnd_below(10) ? 3000 : 700000);
            wr_bytes_direct(w, big + 2, n - (n > 1));
            sb_put(&want, big + 2, n - (n > 1));
            break;
        }
        case 3: {
            uint64_t v = tt_rnd();
            wr_u64(w, v);
            snprintf(tmp, sizeof tmp, "%" PRIu64, v);
            sb_str(&want, tmp);
            break;
        }
        default:
            wr_char(w, '\n');
            sb_str(&want, "\n");
            break;
        }
    }
    size_t n;
    char *got = sink_close(&s, &n);
    expect_same(got, n, &want);
    free(got);
    free(want.p);
    free(big);
}

/* wr_has_reader() of a standard-output writer whose descriptor is fd. */
static bool stdout_writer_has_reader(int fd)
{
    writer w;
    cr_assert_eq(wr_open(&w, NULL), 0);
    w.fd = fd; /* not the writer's own: wr_close() leaves it open */
    bool r = wr_has_reader(&w);
    wr_close(&w);
    return r;
}

/* Only a pipe's, a socket's or a terminal's writer has a process reading
 * at the other end. */
Test(output, writer_knows_whether_a_process_reads_it)
{
    char *dir = tt_tmpdir();
    char *path = tt_fmt("%s/report", dir);
    writer w;
    cr_assert_eq(wr_open(&w, path), 0);
    cr_expect_not(wr_has_reader(&w), "a file");
    wr_close(&w);
    cr_assert_eq(wr_open(&w, "/dev/null"), 0);
    cr_expect_not(wr_has_reader(&w), "/dev/null");
    wr_close(&w);
    cr_assert_eq(wr_open_mem(&w), 0);
    cr_expect_not(wr_has_reader(&w), "memory");
    wr_close(&w);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cr_expect(stdout_writer_has_reader(fds[1]), "a pipe");
    close(fds[0]);
    close(fds[1]);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    cr_expect(stdout_writer_has_reader(fds[0]), "a socket");
    close(fds[0]);
    close(fds[1]);
    int pty = posix_openpt(O_RDWR | O_NOCTTY);
    if (pty >= 0) { /* a container may have no pseudo-terminals */
        cr_expect(stdout_writer_has_reader(pty), "a terminal");
        close(pty);
    }
    tt_rmtree(dir);
    free(path);
    free(dir);
}

static char *write_over(const char *old, size_t old_n, const char *text, bool behind, size_t *n)
{
    char *dir = tt_tmpdir();
    char *path = tt_fmt("%s/report", dir);
    tt_write_file(path, old, old_n);
    writer w;
    cr_assert_eq(behind ? wr_open_behind(&w, path) : wr_open(&w, path), 0);
    wr_bytes(&w, text, strlen(text));
    cr_assert_eq(wr_close(&w), 0);
    char *got = tt_read_file(path, n);
    tt_rmtree(dir);
    free(path);
    free(dir);
    return got;
}

Test(output, writer_replaces_what_the_file_held)
{
    /* The old contents go whatever their size and the new ones' (the
     * writer truncates to one byte, not zero: see writer.c), cut at once
     * or by the helper thread. */
    size_t old_n = 3u << 20;
    char *old = malloc(old_n);
    memset(old, 'o', old_n);
    const char *news[] = {"", "n", "new report\n"};
    size_t olds[] = {0, 1, 2, 11, old_n};
    for (int behind = 0; behind < 2; behind++) {
        for (size_t i = 0; i < sizeof news / sizeof *news; i++) {
            for (size_t j = 0; j < sizeof olds / sizeof *olds; j++) {
                size_t n;
                char *got = write_over(old, olds[j], news[i], behind, &n);
                cr_expect_eq(n, strlen(news[i]), "old size %zu, new \"%s\", behind %d: %zu bytes",
                             olds[j], news[i], behind, n);
                cr_expect(memcmp(got, news[i], n) == 0);
                free(got);
            }
        }
    }
    free(old);
}

/* Slowest first, ties by Root; and the earliest first, ties by Root: the
 * orders stats promises, written out again for the test. */
static int by_slowest(const void *x, const void *y)
{
    const grp_trace *a = x, *b = y;
    int64_t da = grp_trace_duration(a), db = grp_trace_duration(b);
    if (da != db)
        return da > db ? -1 : 1;
    if (a->root.hi != b->root.hi)
        return a->root.hi < b->root.hi ? -1 : 1;
    return a->root.lo < b->root.lo ? -1 : a->root.lo > b->root.lo;
}

static int by_earliest(const void *x, const void *y)
{
    const grp_trace *a = x, *b = y;
    if (a->start_us != b->start_us)
        return a->start_us < b->start_us ? -1 : 1;
    if (a->root.hi != b->root.hi)
        return a->root.hi < b->root.hi ? -1 : 1;
    return a->root.lo < b->root.lo ? -1 : a->root.lo > b->root.lo;
}

/* The trace ids of the JSON list after key, up to next_key, in order. */
static size_t json_ids(const char *json, const char *key, const char *next_key, char ids[][36],
                       size_t cap)
{
    const char *p = strstr(json, key), *end = strstr(json, next_key);
    cr_assert(p && end, "no %s or %s", key, next_key);
    size_t n = 0;
    while ((p = strstr(p, "\"trace_id\":\"")) && p < end && n < cap) {
        p += strlen("\"trace_id\":\"");
        memcpy(ids[n], p, 35);
        ids[n++][35] = '\0';
    }
    return n;
}

/* The summary of many traces, in parts of uneven size, lists the slowest
 * and the earliest 5xx traces in the orders promised, and is the same when
 * a second thread picks from half of them (the split falls inside a part;
 * durations and starts tie often, so the halves' lists interleave). */
Test(output, stats_picks_are_the_same_on_two_threads)
{
    enum { N = 150000, TOP = 10 };
    grp_trace *all = calloc(N, sizeof *all);
    cr_assert_not_null(all);
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        grp_trace *t = &all[i];
        t->root.hi = 0x5759e98800000000ull | (x >> 40);
        t->root.lo = (uint64_t)i;
        t->count = 1 + (uint32_t)(x % 3);
        t->start_us = 1000000 + (int64_t)(x % 5000);
        t->end_us = t->start_us + (int64_t)((x >> 20) % 700);
        t->worst_status = (x >> 33) % 30 == 0 ? 500 + (uint16_t)((x >> 50) % 4) : 200;
        if ((x >> 12) % 100 == 0) { /* untimed */
            t->start_us = INT64_MAX;
            t->end_us = INT64_MIN;
        }
    }
    grp_table parts[3] = {{all, 1000, NULL, 0, false}, {all + 1000, 100000, NULL, 0, false},
                          {all + 101000, N - 101000, NULL, 0, false}};
    eng_counts c;
    memset(&c, 0, sizeof c);
    intern lbs;
    intern_init(&lbs);
    stats_view v = {.c = &c, .parts = parts, .nparts = 3, .lbs = &lbs, .top = TOP};
    char *out[3];
    for (unsigned th = 1; th <= 3; th++) {
        writer w;
        cr_assert_eq(wr_open_mem(&w), 0);
        v.threads = th;
        stats_print_json(&w, &v);
        out[th - 1] = strndup(w.buf, w.n);
        wr_close(&w);
    }
    cr_expect_str_eq(out[1], out[0], "two threads differ from one");
    cr_expect_str_eq(out[2], out[0], "three threads differ from one");

    /* What they must list, from a sort of everything. */
    grp_trace *sorted = malloc(N * sizeof *sorted);
    cr_assert_not_null(sorted);
    memcpy(sorted, all, N * sizeof *sorted);
    qsort(sorted, N, sizeof *sorted, by_slowest);
    char got[TOP][36], want[36];
    cr_assert_eq(json_ids(out[0], "\"slowest\":", "\"with_5xx\":", got, TOP), TOP);
    for (size_t i = 0; i < TOP; i++) {
        xray_format_root(sorted[i].root, want);
        cr_expect_str_eq(got[i], want, "slowest #%zu", i);
    }
    size_t nerr = 0;
    for (size_t i = 0; i < N; i++)
        if (all[i].worst_status >= 500)
            sorted[nerr++] = all[i];
    qsort(sorted, nerr, sizeof *sorted, by_earliest);
    cr_assert_eq(json_ids(out[0], "\"with_5xx\":", "\"errors\":", got, TOP), TOP);
    for (size_t i = 0; i < TOP; i++) {
        xray_format_root(sorted[i].root, want);
        cr_expect_str_eq(got[i], want, "5xx #%zu", i);
    }
    char count[64];
    snprintf(count, sizeof count, "\"traces_5xx\":%zu", nerr);
    cr_expect_not_null(strstr(out[0], count), "want %s", count);
    for (unsigned i = 0; i < 3; i++)
        free(out[i]);
    free(sorted);
    intern_free(&lbs);
    free(all);
}

/* The duration for people, written digit by digit, against the printf
 * formats it replaced: every unit's edges, half-millisecond ties in
 * seconds, negative values, the extremes, and random values of every size. */
static void ref_duration(int64_t us, char *out, size_t cap)
{
    const char *sign = us < 0 ? "-" : "";
    uint64_t a = us < 0 ? 0ull - (uint64_t)us : (uint64_t)us;
    if (a < 1000)
        snprintf(out, cap, "%s%llu us", sign, (unsigned long long)a);
    else if (a < 1000000)
        snprintf(out, cap, "%s%.3f ms", sign, (double)a / 1e3);
    else if (a < 60000000)
        snprintf(out, cap, "%s%.3f s", sign, (double)a / 1e6);
    else if (a < 3600000000ull)
        snprintf(out, cap, "%s%llu min %llu s", sign, (unsigned long long)(a / 60000000),
                 (unsigned long long)(a / 1000000 % 60));
    else
        snprintf(out, cap, "%s%llu h %llu min", sign, (unsigned long long)(a / 3600000000ull),
                 (unsigned long long)(a / 60000000 % 60));
}

static void check_duration(int64_t us)
{
    char got[32], want[32];
    memset(got, 'x', sizeof got);
    tl_format_duration(us, got, sizeof got);
    ref_duration(us, want, sizeof want);
    cr_assert_str_eq(got, want, "%" PRId64 " us", us);
    /* A short buffer gets the start, as snprintf gives it. */
    char small[6];
    tl_format_duration(us, small, sizeof small);
    ref_duration(us, want, sizeof small);
    cr_assert_str_eq(small, want, "%" PRId64 " us in 6 bytes", us);
}

Test(output, durations_read_as_printf_wrote_them)
{
    static const int64_t edges[] = {0, 1, 999, 1000, 1001, 999499, 999500, 999999, 1000000,
                                    1000499, 1000500, 1000501, 1234500, 1235500, 59999499,
                                    59999500, 59999999, 60000000, 3599999999, 3600000000,
                                    INT64_MAX, INT64_MIN, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        check_duration(edges[i]);
        if (edges[i] != INT64_MIN)
            check_duration(-edges[i]);
    }
    /* Every tie in seconds at some point of the range, and random values. */
    for (int64_t s = 1; s < 60; s++)
        for (int64_t ms = 0; ms < 1000; ms += 7)
            check_duration(s * 1000000 + ms * 1000 + 500);
    for (int i = 0; i < 200000; i++) {
        uint64_t r = tt_rnd();
        int64_t v = (int64_t)(r >> (r % 63 + 1)); /* shifts of 1 to 63 */
        check_duration(r & 1 ? -v : v);
    }
}
