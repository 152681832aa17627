/*
 * alb: the ALB access-log tokenizer and parser.
 *
 * The tokenizer is the hot path of every ALB run (about 1.5 million lines
 * per gigabyte, about 30 fields each); how it finds fields fast is told
 * above alb_tokenize().
 *
 * Rules the header leaves open, decided here:
 * - Every space outside quotes ends a field, so two spaces in a row make an
 *   empty field and a trailing space an empty last field: ALB writes single
 *   spaces, and this keeps positions stable on odd lines. An empty line has
 *   no fields.
 * - Every unescaped quote opens or closes quoted text wherever it stands, so
 *   a space between quotes never splits a field. A field's slice drops its
 *   first byte when that is a quote, and its last byte when that is the
 *   quote closing it; any other quote stays ("abc"def gives abc"def, a shape
 *   ALB never writes). Nothing on a line is ever dropped or moved to another
 *   field.
 * - Inside quotes a backslash escapes the next byte; outside quotes it is an
 *   ordinary byte. A backslash ending the line leaves its quote unterminated.
 * - alb_unescape() given too small a buffer stops when it is full and
 *   returns the number of bytes written.
 */
#include "decode/alb.h"
#include "util/bits.h"
#include "util/hex.h"

#include "decode/tgtime.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include "util/cpu.h"
#ifdef TG_AVX2_DISPATCH
#include <immintrin.h>
#endif

/*
 * The tokenizer works on 64-byte blocks of the line and bit masks over them,
 * bit i standing for byte i of the block: spaces, quotes and backslashes.
 * Which bytes are inside quotes follows from the quote mask by a prefix XOR
 * (each unescaped quote toggles the state), so the separating spaces of a
 * whole block are found at once and the fields are read off its set bits,
 * with no branch that depends on whether the next field is quoted (such a
 * branch, mispredicted once per field, used to cost as much as the rest of
 * the tokenizer). Blocks with a backslash, where escapes decide which quotes
 * count, are rare and are walked byte by byte.
 */

/* The mask of the bytes that are inside quotes: an opening quote and the
 * bytes after it up to, not including, the closing quote. */
static inline uint64_t prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

#ifdef __SSE2__
/* The 64-bit mask of the bytes equal to x in the four vectors. The shifts
 * are spelled out so that they are constants, not a loop's variable. */
static inline uint64_t eq_mask(__m128i a, __m128i b, __m128i c, __m128i d, __m128i x)
{
    uint64_t m0 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, x));
    uint64_t m1 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, x));
    uint64_t m2 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(c, x));
    uint64_t m3 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(d, x));
    return m0 | m1 << 16 | m2 << 32 | m3 << 48;
}
#endif

/* Builds the masks of the 64 bytes at p: spaces, quotes, and (nonzero or
 * zero only) whether there is a backslash. The backslash test is a single
 * OR-ed compare because a block with one is walked byte by byte anyway. */
static inline void masks64(const char *p, uint64_t *sp, uint64_t *qt, uint64_t *bs)
{
#ifdef __SSE2__
    const __m128i vs = _mm_set1_epi8(' '), vq = _mm_set1_epi8('"'), vb = _mm_set1_epi8('\\');
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
    __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
    *sp = eq_mask(a, b, c, d, vs);
    *qt = eq_mask(a, b, c, d, vq);
    __m128i any = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(a, vb), _mm_cmpeq_epi8(b, vb)),
                               _mm_or_si128(_mm_cmpeq_epi8(c, vb), _mm_cmpeq_epi8(d, vb)));
    *bs = (uint64_t)_mm_movemask_epi8(any);
#else
    uint64_t s = 0, q = 0, b = 0;
    for (unsigned i = 0; i < 64; i++) {
        s |= (uint64_t)(p[i] == ' ') << i;
        q |= (uint64_t)(p[i] == '"') << i;
        b |= (uint64_t)(p[i] == '\\') << i;
    }
    *sp = s;
    *qt = q;
    *bs = b;
#endif
}

#ifdef TG_AVX2_DISPATCH
/* masks64() with 32-byte vectors. */
TG_TARGET_AVX2 static inline void masks64_avx2(const char *p, uint64_t *sp, uint64_t *qt,
                                               uint64_t *bs)
{
    const __m256i vs = _mm256_set1_epi8(' '), vq = _mm256_set1_epi8('"'),
                  vb = _mm256_set1_epi8('\\');
    __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
    *sp = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, vs)) |
          (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, vs)) << 32;
    *qt = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, vq)) |
          (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, vq)) << 32;
    *bs = (uint64_t)(uint32_t)_mm256_movemask_epi8(
        _mm256_or_si256(_mm256_cmpeq_epi8(a, vb), _mm256_cmpeq_epi8(b, vb)));
}
#define MASKS64(avx2, p, sp, qt, bs) ((avx2) ? masks64_avx2(p, sp, qt, bs) : masks64(p, sp, qt, bs))
#else
#define MASKS64(avx2, p, sp, qt, bs) ((void)(avx2), masks64(p, sp, qt, bs))
#endif

/* The masks of the block at line[b..), whose bits past the line's end are
 * zero (*bs only says zero or not). The line is at least 64 bytes long
 * (tokenize_body() copies a shorter one into a padded buffer first).
 * Nothing outside line[0..n) is read: the last, partial block re-reads the
 * line's final 64 bytes and shifts away those before the block. */
static inline __attribute__((always_inline)) void
block_masks(const char *line, size_t n, size_t b, uint64_t *sp, uint64_t *qt, uint64_t *bs,
            const bool avx2)
{
    if (n - b >= 64) {
        MASKS64(avx2, line + b, sp, qt, bs);
    } else {
        size_t shift = b - (n - 64);
        MASKS64(avx2, line + n - 64, sp, qt, bs);
        *sp >>= shift;
        *qt >>= shift;
        /* *bs only says whether a backslash is near: left unshifted it may
         * also see one just before the block, which merely costs the slow
         * walk, never a wrong answer. */
    }
}

/* The inside-quotes mask of the len bytes at p, byte by byte, honouring
 * escapes. *inq and *esc carry the state from one block to the next. */
static inline __attribute__((always_inline)) uint64_t inside_slow(const char *p, size_t len,
                                                                  bool *inq, bool *esc)
{
    uint64_t m = 0;
    for (size_t i = 0; i < len; i++) {
        if (*esc) {
            *esc = false;
        } else if (*inq) {
            if (p[i] == '\\') {
                *esc = true;
            } else if (p[i] == '"') {
                *inq = false;
                continue;
            }
        } else if (p[i] == '"') {
            *inq = true;
        }
        if (*inq)
            m |= (uint64_t)1 << i;
    }
    /* The bytes past the end keep the final state, as prefix_xor() would. */
    if (*inq && len < 64)
        m |= ~(uint64_t)0 << len;
    return m;
}

/* Sets every field of out to TG_STR_NULL (all zero bytes) with plain
 * vector stores: a memset() of this size is inlined as "rep stos", whose
 * start-up alone cost a sixth of the tokenizer's time. */
static inline __attribute__((always_inline)) void clear_fields(alb_line *out)
{
#ifdef __SSE2__
    char *p = (char *)out->f;
    const __m128i z = _mm_setzero_si128();
    _Static_assert(sizeof out->f % 64 == 32, "the stores below cover the array");
#pragma GCC unroll 16
    for (size_t i = 0; i + 64 <= sizeof out->f; i += 64) {
        _mm_storeu_si128((__m128i *)(void *)(p + i), z);
        _mm_storeu_si128((__m128i *)(void *)(p + i + 16), z);
        _mm_storeu_si128((__m128i *)(void *)(p + i + 32), z);
        _mm_storeu_si128((__m128i *)(void *)(p + i + 48), z);
    }
    _mm_storeu_si128((__m128i *)(void *)(p + sizeof out->f - 32), z);
    _mm_storeu_si128((__m128i *)(void *)(p + sizeof out->f - 16), z);
#else
    memset(out->f, 0, sizeof out->f);
#endif
}

#ifdef TG_AVX2_DISPATCH
/* clear_fields() with 32-byte stores. */
TG_TARGET_AVX2 static inline void clear_fields_avx2(alb_line *out)
{
    char *p = (char *)out->f;
    const __m256i z = _mm256_setzero_si256();
    _Static_assert(sizeof out->f % 32 == 0, "the stores below cover the array");
#pragma GCC unroll 17
    for (size_t i = 0; i + 32 <= sizeof out->f; i += 32)
        _mm256_storeu_si256((__m256i *)(void *)(p + i), z);
}
#define CLEAR_FIELDS(avx2, out) ((avx2) ? clear_fields_avx2(out) : clear_fields(out))
#else
#define CLEAR_FIELDS(avx2, out) ((void)(avx2), clear_fields(out))
#endif

/* Bit counts and the prefix XOR, as single instructions in the AVX2 build
 * of the tokenizer (cpu.h: that level has POPCNT and PCLMULQDQ). */
#ifdef TG_AVX2_DISPATCH
TG_TARGET_AVX2 static inline uint64_t prefix_xor_clmul(uint64_t x)
{
    /* Multiplying by all ones without carries XORs every lower bit into
     * each bit: the prefix XOR. */
    __m128i r = _mm_clmulepi64_si128(_mm_cvtsi64_si128((long long)x), _mm_set1_epi8(-1), 0);
    return (uint64_t)_mm_cvtsi128_si64(r);
}
#define POPCOUNT(fast, x) ((fast) ? (unsigned)__builtin_popcountll(x) : popcount64(x))
#define PREFIX_XOR(fast, x) ((fast) ? prefix_xor_clmul(x) : prefix_xor(x))
#else
#define POPCOUNT(fast, x) ((void)(fast), popcount64(x))
#define PREFIX_XOR(fast, x) ((void)(fast), prefix_xor(x))
#endif

/* Blocks whose masks are built in one pass, before any field is read. */
#define TK_BLOCKS 16

/* The first pass over up to TK_BLOCKS blocks of a line. */
typedef struct tk_chunk {
    uint64_t seps[TK_BLOCKS]; /* each block's separators */
    unsigned nb, cnt;         /* blocks read, separators in them */
    uint64_t carry;           /* all ones when the next block starts inside quotes */
    bool esc;                 /* the next block starts with an escaped byte */
} tk_chunk;

/* Builds the separator masks of line's blocks from byte b, up to TK_BLOCKS
 * of them, stopping early once `need` separators are found; line is at
 * least 64 bytes long. Kept out of line and free of calls: inside the field
 * walk, or with a call in its loop, GCC spilled its state to the stack and
 * rebuilt the vector constants on every block. */
static inline __attribute__((always_inline)) void chunk_body(const char *line, size_t n, size_t b,
                                                             size_t need, tk_chunk *c,
                                                             const bool avx2)
{
    uint64_t carry = c->carry;
    bool esc = c->esc;
    unsigned nb = 0, cnt = 0;
    const size_t end = n - b > 64 * TK_BLOCKS ? b + 64 * TK_BLOCKS : n;
    size_t at = b;
    do {
        uint64_t sp, qt, bs, inq;
        block_masks(line, n, at, &sp, &qt, &bs, avx2);
        if ((bs | esc) == 0) {
            inq = PREFIX_XOR(avx2, qt) ^ carry;
        } else {
            bool in = carry != 0;
            inq = inside_slow(line + at, n - at < 64 ? n - at : 64, &in, &esc);
        }
        carry = (uint64_t)0 - (inq >> 63);
        uint64_t sep = sp & ~inq;
        c->seps[nb++] = sep;
        cnt += POPCOUNT(avx2, sep);
        at += 64;
    } while (at < end && cnt < need);
    c->nb = nb;
    c->cnt = cnt;
    c->carry = carry;
    c->esc = esc;
}

__attribute__((noinline)) static void chunk_sse2(const char *line, size_t n, size_t b,
                                                 size_t need, tk_chunk *c)
{
    chunk_body(line, n, b, need, c, false);
}

#ifdef TG_AVX2_DISPATCH
TG_TARGET_AVX2 __attribute__((noinline)) static void chunk_avx2(const char *line, size_t n,
                                                                size_t b, size_t need,
                                                                tk_chunk *c)
{
    chunk_body(line, n, b, need, c, true);
}
#define CHUNK(avx2, line, n, b, need, c)                                                   \
    ((avx2) ? chunk_avx2(line, n, b, need, c) : chunk_sse2(line, n, b, need, c))
#else
#define CHUNK(avx2, line, n, b, need, c) ((void)(avx2), chunk_sse2(line, n, b, need, c))
#endif

/* Splits line into fields, stopping once `limit` fields are known when
 * limit < ALB_NFIELDS (nfields is then limit, and fields past it are
 * neither kept nor counted). Only the fields whose bit is set in want are
 * kept, the others are TG_STR_NULL.
 *
 * The line is read a chunk of blocks at a time, in two passes: the masks
 * of all its blocks (chunk_body()), then the walk over their separators.
 * Only the wanted fields are visited; the others are stepped over one
 * cleared bit each, and a block without a wanted field is skipped whole. A
 * field's quotes are read off the line: it opens with a quote when its
 * first byte is one, and a field that opens with a quote and ends at a
 * separator has closed it (an escaped quote would have kept the space
 * inside), so a quote just before the separator is the closing one. */
static inline __attribute__((always_inline)) uint32_t
tokenize_body(const char *line, size_t n, alb_line *out, size_t limit, uint64_t want,
              const bool avx2)
{
    size_t k = 0;     /* fields so far, kept or only counted */
    size_t start = 0; /* where the current field begins */

    /* The full tokenizer counts every field; a prefix stops at its limit. */
    const bool count_all = limit == ALB_NFIELDS;
    want &= limit >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << limit) - 1;
    /* Fields not written below stay TG_STR_NULL. Every field is written
     * when all are wanted, save those past the line's last. */
    const bool all = want == ((uint64_t)1 << limit) - 1;
    if (!all)
        CLEAR_FIELDS(avx2, out);
    /* A line shorter than a block is masked in a padded copy. */
    char pad[64];
    const char *text = line;
    if (n < 64) {
        memset(pad, 'a', sizeof pad);
        memcpy(pad, line, n);
        text = pad;
    }
    /* The next field to keep; SIZE_MAX once none is left. */
    size_t next = want ? ctz64(want) : SIZE_MAX;
    tk_chunk c;
    c.carry = 0;
    c.esc = false;
    for (size_t b = 0; b < n && (count_all || k < limit); b += 64 * (size_t)c.nb) {
        CHUNK(avx2, text, n < 64 ? 64 : n, b, count_all ? SIZE_MAX : limit - k, &c);
        for (unsigned i = 0; i < c.nb; i++) {
            uint64_t sep = c.seps[i];
            if (sep == 0)
                continue;
            const size_t bb = b + 64 * (size_t)i;
            /* Fields k .. kend-1 end in this block. */
            size_t kend = k + POPCOUNT(avx2, sep);
            size_t after = bb + 64 - clz64(sep); /* just past the last separator */
            while (next < kend) {
                /* Step over the fields before the wanted one. */
                for (; k < next; k++) {
                    start = bb + ctz64(sep) + 1;
                    sep &= sep - 1;
                }
                size_t e = bb + ctz64(sep);
                size_t qs = line[start] == '"';
                size_t t = qs & (line[e - qs] == '"');
                out->f[k++] = tg_str_make(line + start + qs, e - start - qs - t);
                start = e + 1;
                sep &= sep - 1;
                want &= want - 1;
                next = want ? ctz64(want) : SIZE_MAX;
            }
            /* The block's other separators end fields that are only
             * counted. */
            k = kend;
            start = after;
        }
        if (!count_all && k > limit)
            k = limit;
    }

    /* The last field ends at the end of the line. Its trailing quote closes
     * it only if the line ends outside quotes; otherwise the quote was
     * unterminated (or escaped) and the field runs to the end as written. */
    if (n > 0 && (count_all || k < limit)) {
        if (k < ALB_NFIELDS && (want >> k & 1)) {
            size_t s = start, e = n;
            if (s < e && line[s] == '"') {
                s++;
                if (c.carry == 0 && e > s && line[e - 1] == '"')
                    e--;
            }
            out->f[k] = tg_str_make(line + s, e - s);
        }
        k++;
    }
    if (all)
        for (size_t i = k; i < ALB_NFIELDS; i++)
            out->f[i] = TG_STR_NULL;
    out->nfields = k > UINT32_MAX ? UINT32_MAX : (uint32_t)k;
    return out->nfields;
}

/* Kept out of line: inlined into tokenize(), its prologue (six registers
 * saved, a 300-byte frame) ran before the dispatch on every line, for the
 * AVX2 path too. */
__attribute__((noinline)) static uint32_t tokenize_sse2(const char *line, size_t n,
                                                        alb_line *out, size_t limit,
                                                        uint64_t want)
{
    return tokenize_body(line, n, out, limit, want, false);
}

#ifdef TG_AVX2_DISPATCH
TG_TARGET_AVX2 static uint32_t tokenize_avx2(const char *line, size_t n, alb_line *out,
                                             size_t limit, uint64_t want)
{
    return tokenize_body(line, n, out, limit, want, true);
}
#endif

/* The same tokenizer, its masks built 32 bytes at a time where the CPU can. */
static uint32_t tokenize(const char *line, size_t n, alb_line *out, size_t limit, uint64_t want)
{
#ifdef TG_AVX2_DISPATCH
    if (tg_cpu_avx2())
        return tokenize_avx2(line, n, out, limit, want);
#endif
    return tokenize_sse2(line, n, out, limit, want);
}

uint32_t alb_tokenize(const char *line, size_t n, alb_line *out)
{
    return tokenize(line, n, out, ALB_NFIELDS, ~(uint64_t)0);
}

/* True for the six request types ALB writes in field 1. */
static bool type_ok(tg_str t)
{
    switch (t.n) {
    case 2:
        return (t.p[0] == 'h' && t.p[1] == '2') || (t.p[0] == 'w' && t.p[1] == 's');
    case 3:
        return memcmp(t.p, "wss", 3) == 0;
    case 4:
        return memcmp(t.p, "http", 4) == 0;
    case 5:
        return memcmp(t.p, "https", 5) == 0 || memcmp(t.p, "grpcs", 5) == 0;
    default:
        return false;
    }
}

/* An HTTP status code: 1 to 9 digits, 0 for "-" and anything else. */
static int parse_status(tg_str s)
{
    if (s.n == 0 || s.n > 9)
        return 0;
    int v = 0;
    for (size_t i = 0; i < s.n; i++) {
        unsigned d = (unsigned)(unsigned char)s.p[i] - '0';
        if (d > 9)
            return 0;
        v = v * 10 + (int)d;
    }
    return v;
}

static bool parse(const char *line, size_t n, uint32_t limit, uint64_t want, alb_record *out);

bool alb_parse(const char *line, size_t n, alb_record *out)
{
    return alb_parse_prefix(line, n, ALB_NFIELDS, out);
}

bool alb_parse_prefix(const char *line, size_t n, uint32_t want, alb_record *out)
{
    return parse(line, n, want < 12 ? 12 : want > ALB_NFIELDS ? ALB_NFIELDS : want, ~(uint64_t)0,
                 out);
}

/* The fields alb_parse() itself reads to validate and time a line. */
#define ALB_PARSE_FIELDS                                                                   \
    ((uint64_t)1 << ALB_TYPE | (uint64_t)1 << ALB_TIME | (uint64_t)1 << ALB_ELB_STATUS |   \
     (uint64_t)1 << ALB_TARGET_STATUS | (uint64_t)1 << ALB_REQUEST_CREATION_TIME)

/* Adds the fields parse() reads to *want and returns where tokenizing may
 * stop: after the last of them, and never before field 12. */
static uint32_t fields_limit(uint64_t *want)
{
    *want = (*want | ALB_PARSE_FIELDS) & (((uint64_t)1 << ALB_NFIELDS) - 1);
    uint32_t limit = 64 - clz64(*want);
    return limit < 12 ? 12 : limit;
}

bool alb_parse_fields(const char *line, size_t n, uint64_t want, alb_record *out)
{
    uint32_t limit = fields_limit(&want);
    return parse(line, n, limit, want, out);
}

uint32_t alb_split_fields(const char *line, size_t n, uint64_t want, alb_line *out)
{
    uint32_t limit = fields_limit(&want);
    return tokenize(line, n, out, limit, want);
}

static bool parse(const char *line, size_t n, uint32_t limit, uint64_t want, alb_record *out)
{
    uint32_t nf = tokenize(line, n, &out->t, limit, want);
    out->time_us = TGTIME_NONE;
    out->created_us = TGTIME_NONE;
    out->status = 0;
    out->target_status = 0;
    if (nf < 12 || !type_ok(out->t.f[ALB_TYPE]))
        return false;
    tg_str t = out->t.f[ALB_TIME];
    if (!tgtime_parse_iso(t.p, t.n, &out->time_us))
        return false;
    /* Older generations end before field 22; "-" and junk leave NONE too,
     * since tgtime_parse_iso() leaves its output alone on failure. */
    if (nf > ALB_REQUEST_CREATION_TIME) {
        tg_str c = out->t.f[ALB_REQUEST_CREATION_TIME];
        /* Usually in the same minute as the time: only its seconds are read. */
        tgtime_parse_iso_near(c.p, c.n, t.p, out->time_us, &out->created_us);
    }
    out->status = parse_status(out->t.f[ALB_ELB_STATUS]);
    out->target_status = parse_status(out->t.f[ALB_TARGET_STATUS]);
    return true;
}


/* The byte named by the escape at s[i] ("\x…"), and its length in *len;
 * -1 when s[i] does not start a hex escape. */
static int hex_escape(const char *s, size_t i, size_t n, size_t *len)
{
    if (i + 4 > n || s[i + 1] != 'x')
        return -1;
    /* The 8-digit form \x000000HH is tried first: read as \xHH it would
     * give byte 0 followed by the text "000022". */
    if (i + 10 <= n && memcmp(s + i + 2, "000000", 6) == 0 &&
        (tg_hexval[(unsigned char)s[i + 8]] & tg_hexval[(unsigned char)s[i + 9]] & 0x10)) {
        *len = 10;
        return (tg_hexval[(unsigned char)s[i + 8]] & 0xf) << 4 | (tg_hexval[(unsigned char)s[i + 9]] & 0xf);
    }
    if (tg_hexval[(unsigned char)s[i + 2]] & tg_hexval[(unsigned char)s[i + 3]] & 0x10) {
        *len = 4;
        return (tg_hexval[(unsigned char)s[i + 2]] & 0xf) << 4 | (tg_hexval[(unsigned char)s[i + 3]] & 0xf);
    }
    return -1;
}

size_t alb_unescape(tg_str s, char *dst, size_t cap)
{
    size_t i = 0, o = 0;
    while (i < s.n && o < cap) {
        const char *bs = memchr(s.p + i, '\\', s.n - i);
        size_t run = bs ? (size_t)(bs - (s.p + i)) : s.n - i;
        if (run > cap - o)
            run = cap - o;
        memcpy(dst + o, s.p + i, run);
        i += run;
        o += run;
        if (i >= s.n || o >= cap)
            break;
        /* s.p[i] is a backslash. */
        size_t len;
        int b = hex_escape(s.p, i, s.n, &len);
        if (b >= 0) {
            dst[o++] = (char)b;
            i += len;
        } else if (i + 1 < s.n && (s.p[i + 1] == '"' || s.p[i + 1] == '\\')) {
            dst[o++] = s.p[i + 1];
            i += 2;
        } else {
            dst[o++] = '\\';
            i++;
        }
    }
    return o;
}
