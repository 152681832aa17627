/*
 * fuzz_alb: the ALB tokenizer, parsers and unescaper on arbitrary lines.
 *
 * alb_tokenize() finds fields with 64-byte bit masks, prefix XORs and a
 * byte-by-byte fallback for blocks with backslashes; every block boundary,
 * quote and escape is a chance to slip. So besides the invariants alb.h
 * states (slices inside the line, nfields at least the slices set, NULL past
 * nfields, unescaping never longer than its input) the target compares both
 * functions with plain byte-by-byte versions of the rules alb.h and alb.c's
 * opening comment state, field by field and byte by byte, and checks that
 * alb_parse_prefix() is alb_parse() cut after the fields it was asked for,
 * and alb_parse_fields() is alb_parse_prefix() keeping only those asked for;
 * alb_split_fields() splits as alb_parse_fields() does, valid line or not.
 */
#include "fuzz_check.h"

#include <string.h>

#include "decode/alb.h"
#include "decode/tgtime.h"

/* ---- reference versions, written from the documented rules --------------- */

/* One field line[start..e): an opening quote is dropped, and so is the quote
 * that closed it when it is the field's last byte. */
static tg_str ref_field(const char *line, size_t start, size_t e, int last_closes)
{
    size_t s = start;
    if (s < e && line[s] == '"') {
        s++;
        if (last_closes && e - 1 > start)
            e--;
    }
    return tg_str_make(line + s, e - s);
}

static uint32_t ref_tokenize(const char *line, size_t n, tg_str f[ALB_NFIELDS])
{
    size_t k = 0, start = 0;
    int inq = 0, esc = 0, prev_closed = 0; /* prev_closed: line[i-1] closed quotes */
    for (size_t i = 0; i < n; i++) {
        char c = line[i];
        int closes = 0;
        if (esc) {
            esc = 0;
        } else if (inq) {
            if (c == '\\')
                esc = 1;
            else if (c == '"')
                inq = 0, closes = 1;
        } else if (c == '"') {
            inq = 1;
        } else if (c == ' ') {
            if (k < ALB_NFIELDS)
                f[k] = ref_field(line, start, i, prev_closed);
            k++;
            start = i + 1;
        }
        prev_closed = closes;
    }
    if (n > 0) {
        if (k < ALB_NFIELDS)
            f[k] = ref_field(line, start, n, !inq && prev_closed);
        k++;
    }
    for (size_t i = k; i < ALB_NFIELDS; i++)
        f[i] = TG_STR_NULL;
    return (uint32_t)k;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static size_t ref_unescape(const char *s, size_t n, char *dst)
{
    size_t i = 0, o = 0;
    while (i < n) {
        if (s[i] != '\\') {
            dst[o++] = s[i++];
        } else if (i + 10 <= n && s[i + 1] == 'x' && memcmp(s + i + 2, "000000", 6) == 0 &&
                   hexv(s[i + 8]) >= 0 && hexv(s[i + 9]) >= 0) {
            dst[o++] = (char)(hexv(s[i + 8]) << 4 | hexv(s[i + 9]));
            i += 10;
        } else if (i + 4 <= n && s[i + 1] == 'x' && hexv(s[i + 2]) >= 0 && hexv(s[i + 3]) >= 0) {
            dst[o++] = (char)(hexv(s[i + 2]) << 4 | hexv(s[i + 3]));
            i += 4;
        } else if (i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\')) {
            dst[o++] = s[i + 1];
            i += 2;
        } else {
            dst[o++] = s[i++];
        }
    }
    return o;
}

/* ---- checks --------------------------------------------------------------- */

static void check_tokens(const char *line, size_t n, const alb_line *t, uint32_t nf)
{
    FZ_CHECK(nf == t->nfields, "returned %u, nfields %u", nf, t->nfields);
    FZ_CHECK(n == 0 ? nf == 0 : nf >= 1 && nf <= n + 1, "%u fields on a %zu-byte line", nf, n);
    uint32_t set = 0;
    const char *prev_end = line;
    for (unsigned i = 0; i < ALB_NFIELDS; i++) {
        tg_str f = t->f[i];
        if (i >= nf) {
            FZ_CHECK(f.p == NULL && f.n == 0, "field %u set past nfields %u", i, nf);
            continue;
        }
        FZ_CHECK(f.p != NULL, "field %u of %u is NULL", i, nf);
        FZ_CHECK(fz_inside(f.p, f.n, line, n), "field %u [%td, +%zu) outside the %zu-byte line",
                 i, f.p - line, f.n, n);
        FZ_CHECK(f.p >= prev_end, "field %u starts before field %u ends", i, i - 1);
        prev_end = f.p + f.n;
        set++;
    }
    FZ_CHECK(nf >= set, "nfields %u < %u slices set", nf, set);

    tg_str ref[ALB_NFIELDS];
    uint32_t rnf = ref_tokenize(line, n, ref);
    FZ_CHECK(rnf == nf, "nfields %u, the byte-by-byte rules give %u", nf, rnf);
    for (unsigned i = 0; i < ALB_NFIELDS; i++)
        FZ_CHECK(ref[i].p == t->f[i].p && ref[i].n == t->f[i].n,
                 "field %u is [%td, +%zu), the byte-by-byte rules give [%td, +%zu)", i,
                 t->f[i].p ? t->f[i].p - line : -1, t->f[i].n, ref[i].p ? ref[i].p - line : -1,
                 ref[i].n);
}

static int status_of(tg_str s)
{
    if (s.n == 0 || s.n > 9)
        return 0;
    int v = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return 0;
        v = v * 10 + (s.p[i] - '0');
    }
    return v;
}

static void check_parse(const char *line, size_t n, const alb_line *t)
{
    alb_record rec;
    memset(&rec, 0x5a, sizeof rec);
    bool ok = alb_parse(line, n, &rec);
    /* Field by field: the padding after nfields may differ. */
    FZ_CHECK(rec.t.nfields == t->nfields, "alb_parse found %u fields, alb_tokenize %u",
             rec.t.nfields, t->nfields);
    for (unsigned i = 0; i < ALB_NFIELDS; i++)
        FZ_CHECK(rec.t.f[i].p == t->f[i].p && rec.t.f[i].n == t->f[i].n,
                 "alb_parse and alb_tokenize disagree on field %u", i);
    if (!ok)
        return;
    static const char *const types[] = {"http", "https", "h2", "grpcs", "ws", "wss"};
    bool known = false;
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        known |= tg_str_eq(t->f[ALB_TYPE], types[i]);
    FZ_CHECK(known, "accepted type \"%.*s\"", (int)t->f[ALB_TYPE].n, t->f[ALB_TYPE].p);
    FZ_CHECK(t->nfields >= 12, "accepted a line of %u fields", t->nfields);
    int64_t us = TGTIME_NONE;
    FZ_CHECK(tgtime_parse_iso(t->f[ALB_TIME].p, t->f[ALB_TIME].n, &us) && us == rec.time_us,
             "time_us %lld does not match field 2", (long long)rec.time_us);
    int64_t cr = TGTIME_NONE;
    if (t->nfields > ALB_REQUEST_CREATION_TIME)
        tgtime_parse_iso(t->f[ALB_REQUEST_CREATION_TIME].p, t->f[ALB_REQUEST_CREATION_TIME].n,
                         &cr);
    FZ_CHECK(cr == rec.created_us, "created_us %lld, field 22 gives %lld",
             (long long)rec.created_us, (long long)cr);
    FZ_CHECK(rec.status == status_of(t->f[ALB_ELB_STATUS]), "status %d", rec.status);
    FZ_CHECK(rec.target_status == status_of(t->f[ALB_TARGET_STATUS]), "target_status %d",
             rec.target_status);
}

/* alb_parse_prefix() is alb_parse() that stops after `want` fields. */
static void check_prefix(const char *line, size_t n, const alb_line *t, uint32_t want)
{
    alb_record full, pre;
    bool ok = alb_parse(line, n, &full);
    memset(&pre, 0x3c, sizeof pre);
    bool pok = alb_parse_prefix(line, n, want, &pre);
    FZ_CHECK(pok == ok, "want %u: alb_parse_prefix says %d, alb_parse %d", want, pok, ok);
    /* alb.h says nfields is min(fields, want), but want = ALB_NFIELDS is how
     * alb_parse() itself asks for every field, and alb.c counts them all
     * then, as alb_parse() promises: a line of 35 fields gives 35, not 34. */
    uint32_t keep = want >= ALB_NFIELDS || t->nfields < want ? t->nfields : want;
    FZ_CHECK(pre.t.nfields == keep, "want %u: nfields %u, expected %u of %u", want,
             pre.t.nfields, keep, t->nfields);
    for (unsigned i = 0; i < ALB_NFIELDS; i++) {
        tg_str f = i < keep ? t->f[i] : TG_STR_NULL;
        FZ_CHECK(pre.t.f[i].p == f.p && pre.t.f[i].n == f.n,
                 "want %u: field %u is [%td, +%zu), alb_tokenize gives [%td, +%zu)", want, i,
                 pre.t.f[i].p ? pre.t.f[i].p - line : -1, pre.t.f[i].n, f.p ? f.p - line : -1,
                 f.n);
    }
    if (!ok)
        return;
    FZ_CHECK(pre.time_us == full.time_us, "want %u: time_us differs", want);
    FZ_CHECK(pre.status == full.status && pre.target_status == full.target_status,
             "want %u: status differs", want);
    int64_t created = want > ALB_REQUEST_CREATION_TIME ? full.created_us : TGTIME_NONE;
    FZ_CHECK(pre.created_us == created, "want %u: created_us %lld, expected %lld", want,
             (long long)pre.created_us, (long long)created);
}

/* alb_parse_fields() is alb_parse_prefix() up to its last wanted field,
 * with the fields it was not asked for (nor reads itself) left null. */
static void check_fields(const char *line, size_t n, uint64_t want)
{
    const uint64_t own = ALB_FIELD(ALB_TYPE) | ALB_FIELD(ALB_TIME) | ALB_FIELD(ALB_ELB_STATUS) |
                         ALB_FIELD(ALB_TARGET_STATUS) | ALB_FIELD(ALB_REQUEST_CREATION_TIME);
    uint64_t keep = (want | own) & ((1ull << ALB_NFIELDS) - 1);
    uint32_t limit = 64 - (uint32_t)__builtin_clzll(keep);
    alb_record pre, sp;
    memset(&sp, 0x3c, sizeof sp);
    bool pok = alb_parse_prefix(line, n, limit, &pre);
    bool sok = alb_parse_fields(line, n, want, &sp);
    FZ_CHECK(pok == sok, "want %#llx: alb_parse_fields says %d, alb_parse_prefix %d",
             (unsigned long long)want, sok, pok);
    FZ_CHECK(sp.t.nfields == pre.t.nfields, "want %#llx: nfields %u, prefix %u",
             (unsigned long long)want, sp.t.nfields, pre.t.nfields);
    for (unsigned i = 0; i < ALB_NFIELDS; i++) {
        tg_str f = keep >> i & 1 ? pre.t.f[i] : TG_STR_NULL;
        FZ_CHECK(sp.t.f[i].p == f.p && sp.t.f[i].n == f.n, "want %#llx: field %u differs",
                 (unsigned long long)want, i);
    }
    FZ_CHECK(sp.time_us == pre.time_us && sp.created_us == pre.created_us &&
                 sp.status == pre.status && sp.target_status == pre.target_status,
             "want %#llx: the parsed values differ", (unsigned long long)want);
    /* alb_split_fields() is alb_parse_fields()'s split, whatever the verdict. */
    alb_line t;
    memset(&t, 0x5a, sizeof t);
    FZ_CHECK(alb_split_fields(line, n, want, &t) == sp.t.nfields && t.nfields == sp.t.nfields,
             "want %#llx: alb_split_fields nfields %u, alb_parse_fields %u",
             (unsigned long long)want, t.nfields, sp.t.nfields);
    for (unsigned i = 0; i < ALB_NFIELDS; i++)
        FZ_CHECK(t.f[i].p == sp.t.f[i].p && t.f[i].n == sp.t.f[i].n,
                 "want %#llx: alb_split_fields field %u differs", (unsigned long long)want, i);
}

/* Unescapes s into buffers of exactly the capacity given, so that AddressSanitizer
 * sees a write one byte too far. */
static void check_unescape(tg_str s)
{
    char *full = malloc(s.n ? s.n : 1);
    char *ref = malloc(s.n ? s.n : 1);
    size_t m = alb_unescape(s, full, s.n);
    FZ_CHECK(m <= s.n, "unescaped %zu bytes from %zu", m, s.n);
    size_t rm = ref_unescape(s.p, s.n, ref);
    FZ_CHECK(m == rm && memcmp(full, ref, m) == 0,
             "alb_unescape(\"%.*s\") gives %zu bytes, the documented rules %zu", (int)s.n, s.p,
             m, rm);
    if (!memchr(s.p, '\\', s.n))
        FZ_CHECK(m == s.n && memcmp(full, s.p, m) == 0, "text without a backslash changed");

    /* A small buffer holds the start of the full result. */
    size_t caps[] = {0, 1, m / 2, m > 0 ? m - 1 : 0};
    for (size_t i = 0; i < sizeof caps / sizeof *caps; i++) {
        size_t cap = caps[i];
        char *small = malloc(cap ? cap : 1);
        size_t k = alb_unescape(s, small, cap);
        FZ_CHECK(k == (cap < m ? cap : m), "cap %zu: %zu bytes, full result %zu", cap, k, m);
        FZ_CHECK(memcmp(small, full, k) == 0, "cap %zu: not a prefix of the full result", cap);
        free(small);
    }
    free(ref);
    free(full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    alb_line t;
    memset(&t, 0x77, sizeof t);
    uint32_t nf = alb_tokenize(line, size, &t);
    check_tokens(line, size, &t, nf);
    check_parse(line, size, &t);
    static const uint32_t wants[] = {12, ALB_REQUEST_CREATION_TIME + 1, ALB_CONN_TRACE_ID + 1,
                                     ALB_NFIELDS};
    for (size_t i = 0; i < sizeof wants / sizeof *wants; i++)
        check_prefix(line, size, &t, wants[i]);
    if (size)
        check_prefix(line, size, &t, 12 + data[size - 1] % (ALB_NFIELDS - 11));
    /* The engine's choice, then a mask drawn from the input. */
    check_fields(line, size,
                 ALB_FIELD(ALB_TRACE_ID) | ALB_FIELD(ALB_ELB) | ALB_FIELD(ALB_CONN_TRACE_ID));
    if (size >= 4) {
        uint64_t m;
        memcpy(&m, data + size - 4, 4);
        check_fields(line, size, m * 0x9e3779b97f4a7c15ull);
    }
    for (unsigned i = 0; i < ALB_NFIELDS && i < nf; i++)
        check_unescape(t.f[i]);
    if (size)
        check_unescape(tg_str_make(line, size));
    return 0;
}
