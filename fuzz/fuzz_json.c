/*
 * fuzz_json: the JSON string writers on arbitrary bytes.
 *
 * json.h promises that every string tracegrep prints is valid JSON whatever
 * bytes the log held, with invalid UTF-8 replaced by U+FFFD. The target
 * writes the input through json_str(), json_str_or_null(), json_alb_field()
 * and json_number_or_null() into a writer on a memfd whose buffer is nearly
 * full, so that the writer's flush and write-through paths run too; then
 * it reads the output back and checks it with a JSON validator of its own:
 * - one JSON value per call: a string (RFC 8259 grammar, strict UTF-8,
 *   paired surrogate escapes), null, or a number;
 * - the string decodes to the input with each byte that does not start a
 *   well-formed UTF-8 sequence (Unicode Table 3-7) replaced by U+FFFD; for
 *   json_alb_field() the input is first unescaped by alb_unescape().
 */
#define _GNU_SOURCE /* memfd_create */
#include "fuzz_check.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "decode/alb.h"
#include "output/json.h"
#include "output/writer.h"

/* ---- a strict UTF-8 reader (Unicode Table 3-7) -------------------------- */

/* Length of the well-formed sequence at p[0..n), 0 when there is none. */
static size_t wf_len(const uint8_t *p, size_t n)
{
    uint8_t b = p[0];
    if (b < 0x80)
        return 1;
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf; /* the range of the second byte */
    if (b >= 0xc2 && b <= 0xdf)
        len = 2;
    else if (b == 0xe0)
        len = 3, lo = 0xa0;
    else if ((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef)
        len = 3;
    else if (b == 0xed)
        len = 3, hi = 0x9f;
    else if (b == 0xf0)
        len = 4, lo = 0x90;
    else if (b >= 0xf1 && b <= 0xf3)
        len = 4;
    else if (b == 0xf4)
        len = 4, hi = 0x8f;
    else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

/* What a JSON string of s should decode to: s with every byte that starts
 * no well-formed sequence replaced by U+FFFD (EF BF BD). */
static size_t expected_text(const uint8_t *s, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t len = wf_len(s + i, n - i);
        if (len) {
            memcpy(out + o, s + i, len);
            o += len, i += len;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3, i++;
        }
    }
    return o;
}

/* ---- a JSON validator ----------------------------------------------------- */

static int hex4(const uint8_t *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? c - 'a' + 10u
                     : c >= 'A' && c <= 'F' ? c - 'A' + 10u
                                            : 16u;
        if (d > 15)
            return 0;
        *v = *v << 4 | d;
    }
    return 1;
}

static size_t put_utf8(unsigned cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | cp >> 18);
    out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

/* Checks that j[0..n) is exactly one JSON string and decodes it into out.
 * Returns the decoded length; aborts (through FZ_CHECK) when it is invalid. */
static size_t decode_json_string(const uint8_t *j, size_t n, uint8_t *out)
{
    FZ_CHECK(n >= 2 && j[0] == '"' && j[n - 1] == '"', "not a quoted string (%zu bytes)", n);
    size_t o = 0, i = 1, end = n - 1;
    while (i < end) {
        uint8_t c = j[i];
        FZ_CHECK(c >= 0x20, "raw control byte 0x%02x at %zu", c, i);
        FZ_CHECK(c != '"', "unescaped quote at %zu of %zu", i, n);
        if (c != '\\') {
            size_t len = wf_len(j + i, end - i);
            FZ_CHECK(len != 0, "invalid UTF-8 at %zu: 0x%02x", i, c);
            memcpy(out + o, j + i, len);
            o += len, i += len;
            continue;
        }
        FZ_CHECK(i + 1 < end, "backslash at the end of the string");
        uint8_t e = j[i + 1];
        static const char simple[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *hit = e ? strchr(simple, e) : NULL;
        if (hit) {
            out[o++] = (uint8_t)to[hit - simple];
            i += 2;
            continue;
        }
        FZ_CHECK(e == 'u', "invalid escape \\%c at %zu", e, i);
        unsigned cp;
        FZ_CHECK(i + 6 <= end && hex4(j + i + 2, &cp), "bad \\u escape at %zu", i);
        i += 6;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            unsigned lo;
            FZ_CHECK(i + 6 <= end && j[i] == '\\' && j[i + 1] == 'u' && hex4(j + i + 2, &lo) &&
                         lo >= 0xdc00 && lo <= 0xdfff,
                     "unpaired high surrogate \\u%04x", cp);
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
        } else {
            FZ_CHECK(cp < 0xdc00 || cp > 0xdfff, "unpaired low surrogate \\u%04x", cp);
        }
        o += put_utf8(cp, out + o);
    }
    return o;
}

/* RFC 8259's number grammar, written as a small state machine. */
static int is_number(const uint8_t *p, size_t n)
{
    size_t i = 0;
    if (i < n && p[i] == '-')
        i++;
    if (i < n && p[i] == '0') {
        i++;
    } else {
        size_t d = i;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == d || p[d] == '0')
            return 0;
    }
    if (i < n && p[i] == '.') {
        size_t d = ++i;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    return i == n;
}

/* ---- the writer on a memfd ----------------------------------------------- */

static int mfd = -1;
static uint8_t *got, *want; /* output read back, and the expected text */
static size_t got_cap;

/* The filler written ahead of each test, and its length. */
static size_t fill;

/*
 * A writer whose buffer has only `room` bytes left when the test writes:
 * writer.h asks for full-size buffers (wr_room() hands out up to
 * WR_ROOM_MAX), so the buffer is WR_BUF and filler takes the rest. Short
 * inputs then still cross a flush at every position. The filler is dropped
 * again when the output is read back.
 */
static void open_writer(writer *w, size_t room)
{
    FZ_CHECK(ftruncate(mfd, 0) == 0 && lseek(mfd, 0, SEEK_SET) == 0, "memfd reset");
    memset(w, 0, sizeof *w);
    w->fd = mfd;
    w->cap = WR_BUF;
    w->buf = malloc(w->cap);
    FZ_CHECK(w->buf != NULL, "out of memory");
    fill = WR_BUF - room;
    memset(w->buf, '#', fill);
    w->n = fill;
}

static size_t close_writer(writer *w)
{
    FZ_CHECK(wr_close(w) == 0, "writer error %d", w->err);
    off_t len = lseek(mfd, 0, SEEK_END);
    FZ_CHECK(len >= (off_t)fill && (size_t)len - fill <= got_cap, "output of %lld bytes",
             (long long)len);
    FZ_CHECK(pread(mfd, got, (size_t)len - fill, (off_t)fill) == len - (off_t)fill, "pread");
    return (size_t)len - fill;
}

static void check_string_output(size_t outlen, const uint8_t *text, size_t n, const char *what)
{
    uint8_t *dec = malloc(outlen + 1);
    size_t dn = decode_json_string(got, outlen, dec);
    size_t wn = expected_text(text, n, want);
    FZ_CHECK(dn == wn && memcmp(dec, want, dn) == 0,
             "%s: the JSON string decodes to %zu bytes, %zu expected", what, dn, wn);
    free(dec);
}

/*
 * The room writers (json_put_*()), as the NDJSON printer calls them on a
 * field of a line: the value is a prefix of the input, and the rest of the
 * input may be read in blocks up to its end (lim), but must not leak into
 * the output. The room is exactly what json.h asks for, so that AddressSanitizer
 * sees a store past it.
 */
static void check_room_writers(const uint8_t *data, size_t size)
{
    const char *s = size ? (const char *)data : "";
    size_t vn = size ? data[0] % (size + 1) : 0;
    tg_str v = tg_str_make(s, vn);
    const char *lim = s + size;
    bool dash = vn == 1 && s[0] == '-';
    char *out = malloc(JSON_PUT_MAX(vn));
    FZ_CHECK(out != NULL, "out of memory");

    size_t n = (size_t)(json_put_str_or_null(out, v, lim) - out);
    memcpy(got, out, n);
    if (dash)
        FZ_CHECK(n == 4 && memcmp(got, "null", 4) == 0, "json_put_str_or_null(\"-\")");
    else
        check_string_output(n, data, vn, "json_put_str_or_null");

    char *end = json_put_alb_field(out, v, lim);
    bool bslash = memchr(s, '\\', vn) != NULL;
    FZ_CHECK((end == NULL) == (bslash && !dash), "json_put_alb_field: NULL is for escapes only");
    if (end && !dash) {
        n = (size_t)(end - out);
        memcpy(got, out, n);
        check_string_output(n, data, vn, "json_put_alb_field");
    }

    for (int minus_one = 0; minus_one < 2; minus_one++) {
        n = (size_t)(json_put_number(out, v, minus_one, lim) - out);
        int num = is_number(data, vn) && !(minus_one && vn == 2 && memcmp(s, "-1", 2) == 0);
        if (num)
            FZ_CHECK(n == vn && memcmp(out, s, vn) == 0, "json_put_number(\"%.*s\")", (int)vn, s);
        else
            FZ_CHECK(n == 4 && memcmp(out, "null", 4) == 0, "json_put_number(\"%.*s\", %d)",
                     (int)vn, s, minus_one);
    }
    free(out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    mfd = memfd_create("fuzz_json", MFD_CLOEXEC);
    /* Enough for any -max_len the script uses: 6 output bytes per input byte
     * at worst (\u00XX), 3 bytes of U+FFFD per byte expected. */
    got_cap = 6 * ((size_t)1 << 20) + 64;
    got = malloc(got_cap);
    want = malloc(3 * ((size_t)1 << 20) + 64);
    if (mfd < 0 || !got || !want) {
        fprintf(stderr, "fuzz_json: cannot set up\n");
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > ((size_t)1 << 20))
        return 0;
    /* libFuzzer may pass NULL for an empty input, which these functions
     * would rightly read as an absent value. */
    const char *s = size ? (const char *)data : "";
    /* 1 to 64 bytes left in the buffer: most calls flush, long runs write through. */
    size_t room = 1 + (size ? data[size - 1] % 64 : 0);
    writer w;
    size_t n;

    open_writer(&w, room);
    json_str(&w, s, size);
    n = close_writer(&w);
    check_string_output(n, data, size, "json_str");

    tg_str raw = tg_str_make(s, size);
    open_writer(&w, room);
    json_str_or_null(&w, raw);
    n = close_writer(&w);
    if (size == 1 && s[0] == '-')
        FZ_CHECK(n == 4 && memcmp(got, "null", 4) == 0, "json_str_or_null(\"-\")");
    else
        check_string_output(n, data, size, "json_str_or_null");

    open_writer(&w, room);
    json_alb_field(&w, raw);
    n = close_writer(&w);
    if (size == 1 && s[0] == '-') {
        FZ_CHECK(n == 4 && memcmp(got, "null", 4) == 0, "json_alb_field(\"-\")");
    } else {
        char *un = malloc(size ? size : 1);
        size_t un_n = alb_unescape(raw, un, size);
        check_string_output(n, (const uint8_t *)un, un_n, "json_alb_field");
        free(un);
    }

    for (int minus_one = 0; minus_one < 2; minus_one++) {
        open_writer(&w, room);
        json_number_or_null(&w, raw, minus_one);
        n = close_writer(&w);
        int num = is_number(data, size) && !(minus_one && size == 2 && memcmp(s, "-1", 2) == 0);
        if (num)
            FZ_CHECK(n == size && memcmp(got, data, size) == 0,
                     "json_number_or_null(\"%.*s\") did not write the number", (int)size, s);
        else
            FZ_CHECK(n == 4 && memcmp(got, "null", 4) == 0,
                     "json_number_or_null(\"%.*s\", %d) wrote %.*s", (int)size, s, minus_one,
                     (int)n, (const char *)got);
    }

    check_room_writers(data, size);

    /* Absent values. */
    open_writer(&w, room);
    json_str_or_null(&w, TG_STR_NULL);
    json_alb_field(&w, TG_STR_NULL);
    json_number_or_null(&w, TG_STR_NULL, false);
    n = close_writer(&w);
    FZ_CHECK(n == 12 && memcmp(got, "nullnullnull", 12) == 0, "absent values");
    return 0;
}
