/*
 * fuzz_reader: in_reader_stream() on arbitrary bytes, read as gzip, as zstd
 * and as plain text, with lines limited to 64 bytes so that oversized lines
 * are common.
 *
 * The input goes to a memfd, and is handed over in the ways tracegrep does:
 * a file read from its descriptor (no head), stdin with its first 4 bytes
 * already taken to sniff it, and two more splits between head and
 * descriptor; and once through a socket that returns it in pieces, as a slow
 * pipe would. The kind in_sniff() picks is read all five ways, and twice
 * more (from the file, and piecewise) by a reader with read-ahead on; the
 * other two kinds are forced once each. It is read once more mapped, as
 * tracegrep reads a large compressed file (in_reader_stream_map()).
 *
 * Checked for every run (reader.h's promises):
 * - every block is non-empty and made of whole lines of at most max_line
 *   bytes, each ending in '\n', except that the very last block may end in a
 *   line without one; blocks come in increasing, non-overlapping offsets,
 *   contiguous when no line was skipped;
 * - bytes delivered <= bytes_out, equal when all went well and nothing was
 *   skipped; bytes_in <= the input, equal when all went well; an error has a
 *   message and an offset inside the input, success has neither;
 * - plain text comes out exactly as the input minus its oversized lines,
 *   and between two blocks of any kind lie only oversized lines;
 * - gzip comes out as zlib decodes it (every byte delivered is zlib's at
 *   that offset);
 * - zstd comes out exactly as libzstd decodes it when given the calls the
 *   reader makes (see ref_zstd()): the same verdict and error offset, the
 *   same bytes_out, and all of that output's lines but the oversized ones
 *   (and a last line cut by an error);
 * - the sniffed kind gives the same verdict, lines, counts and offsets
 *   however the input is split between head, descriptor and reads.
 */
#define _GNU_SOURCE /* memfd_create */
#include "fuzz_check.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "input/reader.h"

#include <zlib.h>
#include <zstd.h>

#define MAX_LINE 64
/* Decompression bombs are stopped here: two megabytes already cross every
 * buffer boundary the reader has (its line buffer is 1 MiB). */
#define OUT_CAP ((size_t)2 << 20)

typedef struct sink {
    const uint8_t *plain; /* the expected text for plain runs, else NULL */
    size_t plain_n;
    const unsigned char *ref; /* what zlib or libzstd decoded, else NULL */
    size_t ref_n;
    int ref_strict;       /* nothing may be delivered past ref_n */
    uint64_t next_off;    /* end of the previous block */
    int ended;            /* a block without a final newline came */
    int gap;              /* some block did not start where the last ended */
    int stopped;          /* the callback asked to stop */
    uint64_t offs_hash;   /* of every block's offset and length */
    unsigned char *out;   /* everything delivered, in order (OUT_CAP bytes) */
    size_t n;
} sink;

/* What lies between two blocks, t[a..b) of the decoded text, must be whole
 * lines longer than MAX_LINE: nothing else may be dropped. */
static void check_gap(const unsigned char *t, uint64_t a, uint64_t b)
{
    FZ_CHECK(a == 0 || t[a - 1] == '\n', "a gap at %llu starts inside a line",
             (unsigned long long)a);
    FZ_CHECK(t[b - 1] == '\n', "a gap ending at %llu ends inside a line", (unsigned long long)b);
    for (uint64_t q = a; q < b;) {
        const unsigned char *nl = memchr(t + q, '\n', (size_t)(b - q));
        size_t len = (size_t)(nl - (t + q));
        FZ_CHECK(len > MAX_LINE, "the %zu-byte line at %llu was dropped", len,
                 (unsigned long long)q);
        q += len + 1;
    }
}

static int on_block(void *ctx, const char *p, size_t n, uint64_t off)
{
    sink *s = ctx;
    const unsigned char *truth = s->plain ? s->plain : s->ref;
    size_t truth_n = s->plain ? s->plain_n : s->ref_n;
    if (truth && off > s->next_off && off <= truth_n)
        check_gap(truth, s->next_off, off);
    FZ_CHECK(n > 0, "empty block at offset %llu", (unsigned long long)off);
    FZ_CHECK(!s->ended, "a block after one that ended without a newline");
    FZ_CHECK(off >= s->next_off, "block at %llu overlaps the previous one ending at %llu",
             (unsigned long long)off, (unsigned long long)s->next_off);
    s->gap |= off != s->next_off;
    s->next_off = off + n;
    s->ended = p[n - 1] != '\n';
    for (const char *q = p, *e = p + n; q < e;) {
        const char *nl = memchr(q, '\n', (size_t)(e - q));
        size_t len = (size_t)((nl ? nl : e) - q);
        FZ_CHECK(len <= MAX_LINE, "a %zu-byte line delivered at %llu (max_line %d)", len,
                 (unsigned long long)(off + (size_t)(q - p)), MAX_LINE);
        q = nl ? nl + 1 : e;
    }
    if (s->plain)
        FZ_CHECK(off + n <= s->plain_n && memcmp(p, s->plain + off, n) == 0,
                 "plain block at %llu (%zu bytes) differs from the input",
                 (unsigned long long)off, n);
    if (s->ref) {
        /* Every byte delivered is a byte of the stream as the reference
         * decoder read it. */
        if (off < s->ref_n) {
            size_t m = off + n <= s->ref_n ? n : (size_t)(s->ref_n - off);
            const unsigned char *q = s->ref + off;
            size_t bad = 0;
            while (bad < m && q[bad] == (unsigned char)p[bad])
                bad++;
            FZ_CHECK(bad == m,
                     "block at %llu: byte %llu is 0x%02x, the reference decoder gives 0x%02x",
                     (unsigned long long)off, (unsigned long long)(off + bad),
                     (unsigned char)p[bad], q[bad]);
        }
        if (s->ref_strict)
            FZ_CHECK(off + n <= s->ref_n,
                     "block [%llu, %llu) delivered, the reference decoder stops at %zu",
                     (unsigned long long)off, (unsigned long long)(off + n), s->ref_n);
    }
    s->offs_hash = (s->offs_hash ^ off) * 0x100000001b3ull;
    s->offs_hash = (s->offs_hash ^ n) * 0x100000001b3ull;
    if (s->n + n > OUT_CAP) {
        s->stopped = 1;
        return 1;
    }
    memcpy(s->out + s->n, p, n);
    s->n += n;
    return 0;
}

/* ---- reference decoders ------------------------------------------------- */

/* They decode as much of the input as they can, up to REF_CAP bytes, and
 * keep only the output of calls that succeeded. */
#define REF_CAP (OUT_CAP + ((size_t)1 << 20))
static unsigned char *zs_ref, *gz_ref;
static size_t zs_ref_n, gz_ref_n;
static int zs_ref_capped, gz_ref_capped;
static int zs_ref_failed;     /* libzstd failed, or the input ended inside a frame */
static size_t zs_ref_err_at;  /* then: the input offset the reader must quote */
static ZSTD_DCtx *ref_dctx;

/*
 * The zstd reference makes the very calls the reader makes (zstd.c), because
 * what libzstd decodes depends on how the input is cut between calls: a call
 * that fails loses all its output, and a legacy frame (magic 25..27 b5 2f fd)
 * is only recognized by a call that holds its whole magic, so neither "all
 * at once" nor "a byte at a time" yields the reader's bytes. The reader's
 * contract, modeled here:
 * - the input is taken in chunks of RD_CHUNK bytes, whatever the head and
 *   the reads were, and no call spans two chunks;
 * - each call gets the input libzstd's last answer asked for (RD_HEADER bytes
 *   at the start of a frame, where it answered 0), cut at the chunk's end;
 * - the output of calls that succeed is kept; a failing call's output is
 *   dropped and ends the stream, quoting the offset where its input began;
 * - calls go on into one output window while a whole block still fits; a
 *   window is the line buffer (RD_LINEBUF) less the partial line carried;
 * - the stream ends when the input is used up and a window was left with room;
 *   it is complete when the last call that did something answered 0.
 * The windows matter to libzstd only for its one-pass shortcut (a frame whose
 * content size fits the room), but modeling them costs little.
 */
#define RD_CHUNK ((size_t)256 << 10) /* codec.h's IN_CHUNK */
#define RD_LINEBUF ((size_t)1 << 20) /* reader.c's IN_MIN_BUF, above MAX_LINE + IN_CHUNK */
#define RD_HEADER 5                   /* zstd.c's ZS_HEADER_PREFIX */

/* The length of the line still open after p[0..n), which followed one of
 * tail bytes: the reader carries it when it is not oversized. */
static size_t open_line(size_t tail, const unsigned char *p, size_t n)
{
    const unsigned char *nl = n ? memrchr(p, '\n', n) : NULL;
    return nl ? (size_t)(p + n - nl - 1) : tail + n;
}

/* One window: the calls zstd.c makes into one output window. Returns the
 * last answer, an error code if the last call failed, with *at moved past
 * the input used and *o holding the output of the calls that succeeded. */
static size_t ref_zstd_window(const uint8_t *p, size_t *at, size_t end, ZSTD_outBuffer *o,
                              size_t *hint, size_t *pending)
{
    size_t ret;
    int idle;
    do {
        size_t before = o->pos;
        size_t want = *hint < end - *at ? *hint : end - *at;
        ZSTD_inBuffer in = {p + *at, want, 0};
        ret = ZSTD_decompressStream(ref_dctx, o, &in);
        if (ZSTD_isError(ret)) {
            o->pos = before; /* not trusted, see zstd.c */
            return ret;
        }
        *at += in.pos;
        idle = in.pos == 0 && o->pos == before;
        if (!idle || ret == 0)
            *pending = ret;
        *hint = ret ? ret : RD_HEADER;
    } while (!idle && *at < end && o->size - o->pos >= ZSTD_BLOCKSIZE_MAX);
    return ret;
}

static void ref_zstd(const uint8_t *p, size_t n)
{
    /* A fresh context per input, as the reader has after an error: a reset
     * one keeps legacy decoder state (see src/input/zstd.c). */
    ZSTD_freeDCtx(ref_dctx);
    ref_dctx = ZSTD_createDCtx();
    FZ_CHECK(ref_dctx != NULL, "out of memory");
    zs_ref_n = 0;
    zs_ref_capped = 0;
    zs_ref_failed = 0;
    zs_ref_err_at = 0;
    size_t at = 0, end = 0, hint = RD_HEADER, pending = 1, tail = 0;
    int eof = 0;
    for (;;) {
        if (at == end) { /* the next chunk; a short one shows the end */
            end = n - at > RD_CHUNK ? at + RD_CHUNK : n;
            eof |= end - at < RD_CHUNK;
        }
        size_t room = RD_LINEBUF - (tail <= MAX_LINE ? tail : 0);
        if (room > REF_CAP - zs_ref_n) {
            zs_ref_capped = 1;
            return;
        }
        ZSTD_outBuffer o = {zs_ref + zs_ref_n, room, 0};
        size_t from = at;
        size_t ret = ref_zstd_window(p, &at, end, &o, &hint, &pending);
        /* The reader would go round this loop for ever. */
        FZ_CHECK(ZSTD_isError(ret) || at > from || o.pos || at == end,
                 "zstd: libzstd takes none of the input left at %zu", at);
        tail = open_line(tail, zs_ref + zs_ref_n, o.pos);
        zs_ref_n += o.pos;
        if (ZSTD_isError(ret) || (at == end && eof && o.pos < o.size)) {
            zs_ref_failed = ZSTD_isError(ret) || pending != 0;
            zs_ref_err_at = zs_ref_failed ? at : 0;
            return;
        }
    }
}

/* zlib, member after member, as long as the next one starts with 1f 8b. */
static void ref_gzip(const uint8_t *p, size_t n)
{
    gz_ref_n = 0;
    gz_ref_capped = 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + 15) != Z_OK)
        return;
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    for (;;) {
        z.next_out = gz_ref + gz_ref_n;
        z.avail_out = (uInt)(REF_CAP - gz_ref_n);
        int rc = inflate(&z, Z_NO_FLUSH);
        gz_ref_n = REF_CAP - z.avail_out;
        if (gz_ref_n == REF_CAP) {
            gz_ref_capped = 1;
            break;
        }
        if (rc == Z_STREAM_END && z.avail_in >= 2 && z.next_in[0] == 0x1f && z.next_in[1] == 0x8b) {
            inflateReset(&z);
            continue;
        }
        break; /* the end, an error, or input cut short */
    }
    inflateEnd(&z);
}

static in_reader *reader, *reader_seq, *reader_ahead; /* reader: the one read_as() uses */
static unsigned char *outs[8]; /* what each of the readings delivered */
static int mfd = -1;
static int verbose; /* FZ_VERBOSE=1 in the environment: one line per reading */

static void put_fd(const uint8_t *p, size_t n)
{
    FZ_CHECK(ftruncate(mfd, 0) == 0, "ftruncate");
    for (size_t at = 0; at < n;) {
        ssize_t w = pwrite(mfd, p + at, n - at, (off_t)at);
        FZ_CHECK(w > 0, "pwrite");
        at += (size_t)w;
    }
    FZ_CHECK(lseek(mfd, 0, SEEK_SET) == 0, "lseek");
}

typedef struct run {
    int rc;
    in_result res;
    sink s;
} run;

/*
 * A descriptor that hands the bytes out in pieces: a SOCK_SEQPACKET socket
 * returns one message per read(2), so the pieces are exactly the messages
 * written, as from a slow pipe, but the same on every run. The sizes come
 * from the data: 1 to 8 bytes for the first pieces (splitting gzip and zstd
 * headers), larger ones after, at most 48 pieces in all. The socket buffer
 * holds them all, so nothing blocks; the reader's reads are at least 192 KiB
 * and -max_len keeps inputs far below, so no message is ever cut.
 */
static int piecewise_fd(const uint8_t *p, size_t n)
{
    int sv[2];
    FZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
    int buf = 4 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n && i < 64; i++)
        h = (h ^ p[i]) * 16777619u;
    size_t at = 0;
    for (unsigned piece = 0; at < n; piece++) {
        h = h * 1103515245u + 12345u;
        size_t want = piece < 8 ? 1 + (h >> 16) % 8 : 1 + (h >> 8) % 4096;
        if (piece == 47 || want > n - at)
            want = n - at;
        FZ_CHECK(write(sv[0], p + at, want) == (ssize_t)want, "socket write of %zu bytes", want);
        at += want;
    }
    close(sv[0]);
    return sv[1];
}

/*
 * What a reading that was not stopped delivers: the decoded text t[0..n)
 * minus its lines longer than MAX_LINE, and, when the reading failed, minus
 * a last line without a newline (cut by the damage, see reader.c). Every
 * oversized line is counted, a cut one too.
 */
static void check_lines(const run *r, const unsigned char *t, size_t n, const char *k)
{
    size_t at = 0;
    uint64_t over = 0;
    for (const unsigned char *q = t, *e = t + n; q < e;) {
        const unsigned char *nl = memchr(q, '\n', (size_t)(e - q));
        size_t len = (size_t)((nl ? nl : e) - q), with_nl = len + (nl != NULL);
        if (len > MAX_LINE) {
            over++;
        } else if (nl || r->rc == IN_OK) {
            FZ_CHECK(at + with_nl <= r->s.n && memcmp(r->s.out + at, q, with_nl) == 0,
                     "%s: the line at %td is not delivered as it is", k, q - t);
            at += with_nl;
        }
        q += with_nl;
    }
    FZ_CHECK(at == r->s.n, "%s: %zu bytes delivered, %zu expected", k, r->s.n, at);
    FZ_CHECK(over == r->res.oversized, "%s: %llu oversized, %llu expected", k,
             (unsigned long long)r->res.oversized, (unsigned long long)over);
}

/* A zstd reading against the same calls made by ref_zstd(): the same
 * verdict, quoting the same input offset, and the lines of exactly the
 * output of the calls that succeeded. */
static void check_zstd(const run *r, const char *k)
{
    const in_result *res = &r->res;
    FZ_CHECK((r->rc == IN_FAILED) == zs_ref_failed, "%s: rc %d (%s), but the reference %s", k,
             r->rc, res->err, zs_ref_failed ? "failed" : "succeeded");
    if (zs_ref_failed)
        FZ_CHECK(res->err_offset == zs_ref_err_at,
                 "%s: error quoted at byte %llu, the failing call began at %zu", k,
                 (unsigned long long)res->err_offset, zs_ref_err_at);
    FZ_CHECK(res->bytes_out == zs_ref_n, "%s: bytes_out %llu, the reference decoded %zu", k,
             (unsigned long long)res->bytes_out, zs_ref_n);
    check_lines(r, zs_ref, zs_ref_n, k);
}

/* What in_result and the return code promise for any kind of input. */
static void check_result(const run *r, size_t size, const char *k)
{
    const in_result *res = &r->res;
    FZ_CHECK(r->rc == IN_OK || r->rc == IN_FAILED || r->rc == IN_STOPPED, "%s: rc %d", k, r->rc);
    FZ_CHECK((r->rc == IN_STOPPED) == (r->s.stopped != 0), "%s: rc %d, callback stopped %d", k,
             r->rc, r->s.stopped);
    FZ_CHECK(memchr(res->err, 0, sizeof res->err) != NULL, "%s: err not terminated", k);
    if (r->rc == IN_FAILED)
        FZ_CHECK(res->err[0] != 0, "%s: failed without a message", k);
    else
        FZ_CHECK(res->err[0] == 0, "%s: rc %d with the message \"%s\"", k, r->rc, res->err);
    FZ_CHECK(res->bytes_in <= size, "%s: bytes_in %llu of a %zu-byte input", k,
             (unsigned long long)res->bytes_in, size);
    FZ_CHECK(res->err_offset <= size, "%s: err_offset %llu of a %zu-byte input", k,
             (unsigned long long)res->err_offset, size);
    FZ_CHECK(r->s.next_off <= res->bytes_out,
             "%s: delivered up to offset %llu, bytes_out %llu", k,
             (unsigned long long)r->s.next_off, (unsigned long long)res->bytes_out);
    FZ_CHECK(r->s.n <= res->bytes_out || r->s.stopped, "%s: delivered %zu, bytes_out %llu", k,
             r->s.n, (unsigned long long)res->bytes_out);
    if (res->oversized == 0)
        FZ_CHECK(!r->s.gap, "%s: a gap between blocks with no oversized line", k);
    if (r->s.ref_strict)
        FZ_CHECK(res->bytes_out <= r->s.ref_n,
                 "%s: bytes_out %llu, but the reference decoder got only %zu bytes out", k,
                 (unsigned long long)res->bytes_out, r->s.ref_n);
    if (r->rc == IN_OK) {
        FZ_CHECK(res->bytes_in == size, "%s: success after reading %llu of %zu bytes", k,
                 (unsigned long long)res->bytes_in, size);
        if (res->oversized == 0)
            FZ_CHECK(r->s.n == res->bytes_out, "%s: delivered %zu of %llu bytes, none skipped",
                     k, r->s.n, (unsigned long long)res->bytes_out);
    }
}

/* How read_as() hands the input over. */
enum { BY_FD, BY_PIECES, BY_MAP };

/* Reads data[0..size) as kind, the first headlen bytes as the head and the
 * rest through the descriptor: the memfd, or the socket BY_PIECES; or BY_MAP,
 * the memfd mapped and read in place (headlen 0). */
static void read_as(run *r, unsigned char *out, const uint8_t *data, size_t size, size_t headlen,
                    in_kind kind, int how)
{
    const bool piecewise = how == BY_PIECES;
    memset(r, 0, sizeof *r);
    r->s.out = out;
    if (kind == IN_PLAIN) {
        r->s.plain = data;
        r->s.plain_n = size;
    } else if (kind == IN_ZSTD) {
        /* The same library, given the same calls: nothing past the point
         * where it stopped (and check_zstd() compares the whole). */
        r->s.ref = zs_ref;
        r->s.ref_n = zs_ref_n;
        r->s.ref_strict = !zs_ref_capped;
    } else {
        /* zlib and ISA-L may notice damage at different points, so only
         * the bytes both decoded are compared. */
        r->s.ref = gz_ref;
        r->s.ref_n = gz_ref_n;
    }
    int fd = mfd;
    if (piecewise)
        fd = piecewise_fd(data + headlen, size - headlen);
    else
        put_fd(data + headlen, size - headlen);
    if (how == BY_MAP) {
        mapfile m;
        FZ_CHECK(headlen == 0 && mapfile_open(&m, mfd, size) == 0, "cannot map the memfd");
        r->rc = in_reader_stream_map(reader, &m, kind, on_block, &r->s, &r->res);
        mapfile_close(&m);
    } else {
        r->rc = in_reader_stream(reader, fd, headlen ? data : NULL, headlen, kind, on_block,
                                 &r->s, &r->res);
    }
    if (piecewise)
        close(fd);
    const in_result *res = &r->res;
    const char *k = in_kind_name(kind);
    if (verbose)
        fprintf(stderr,
                "%s head %zu%s: rc %d, in %llu, out %llu, delivered %zu, oversized %llu, "
                "err \"%s\" at %llu\n",
                k, headlen, piecewise ? " piecewise" : how == BY_MAP ? " mapped" : "", r->rc,
                (unsigned long long)res->bytes_in, (unsigned long long)res->bytes_out, r->s.n,
                (unsigned long long)res->oversized, res->err,
                (unsigned long long)res->err_offset);

    check_result(r, size, k);
    if (r->s.stopped)
        return;
    if (kind == IN_PLAIN) {
        FZ_CHECK(r->rc == IN_OK, "plain: rc %d (%s)", r->rc, res->err);
        FZ_CHECK(res->bytes_out == size, "plain: bytes_out %llu of %zu",
                 (unsigned long long)res->bytes_out, size);
        check_lines(r, data, size, k);
    } else if (kind == IN_ZSTD && !zs_ref_capped) {
        check_zstd(r, k);
    }
}

/* The same input split differently must read the same. */
static void same_reading(const run *a, const run *b, const char *what)
{
    if (a->s.stopped || b->s.stopped)
        return;
    FZ_CHECK(a->rc == b->rc, "%s: rc %d (%s) vs %d (%s)", what, a->rc, a->res.err, b->rc,
             b->res.err);
    FZ_CHECK(a->s.n == b->s.n && (a->s.n == 0 || memcmp(a->s.out, b->s.out, a->s.n) == 0),
             "%s: %zu vs %zu bytes delivered, or different bytes", what, a->s.n, b->s.n);
    FZ_CHECK(a->s.offs_hash == b->s.offs_hash, "%s: different block offsets", what);
    FZ_CHECK(a->res.oversized == b->res.oversized, "%s: %llu vs %llu oversized", what,
             (unsigned long long)a->res.oversized, (unsigned long long)b->res.oversized);
    if (a->rc == IN_OK)
        FZ_CHECK(a->res.bytes_out == b->res.bytes_out, "%s: bytes_out %llu vs %llu", what,
                 (unsigned long long)a->res.bytes_out, (unsigned long long)b->res.bytes_out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    reader = reader_seq = in_reader_new(MAX_LINE);
    reader_ahead = in_reader_new(MAX_LINE);
    if (!reader_ahead || !in_reader_set_readahead(reader_ahead, true))
        reader = NULL;
    mfd = memfd_create("fuzz_reader", MFD_CLOEXEC);
    verbose = getenv("FZ_VERBOSE") != NULL;
    zs_ref = malloc(REF_CAP);
    gz_ref = malloc(REF_CAP);
    ref_dctx = ZSTD_createDCtx();
    for (int i = 0; i < 8; i++)
        if (!(outs[i] = malloc(OUT_CAP)))
            reader = NULL;
    if (!reader || mfd < 0 || !zs_ref || !gz_ref || !ref_dctx) {
        fprintf(stderr, "fuzz_reader: cannot set up the reader or the memfd\n");
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0; /* see piecewise_fd() */
    size_t sniff = size < 4 ? size : 4;
    in_kind kind = in_sniff(data, sniff);
    FZ_CHECK(kind == in_sniff(data, size < 64 ? size : 64), "in_sniff looks past 4 bytes");
    if (sniff < 2)
        FZ_CHECK(kind == IN_PLAIN, "in_sniff(%zu bytes) = %s", sniff, in_kind_name(kind));
    ref_zstd(data, size);
    ref_gzip(data, size);

    run file, pipe, head_only, half, pieces;
    read_as(&file, outs[0], data, size, 0, kind, BY_FD);     /* a file: no head */
    read_as(&pipe, outs[1], data, size, sniff, kind, BY_FD); /* stdin: 4 bytes to sniff */
    read_as(&head_only, outs[2], data, size, size, kind, BY_FD);
    read_as(&half, outs[3], data, size, size / 2, kind, BY_FD);
    read_as(&pieces, outs[4], data, size, sniff, kind, BY_PIECES); /* a slow pipe */
    same_reading(&file, &pipe, "no head vs 4-byte head");
    same_reading(&file, &head_only, "no head vs all in head");
    same_reading(&file, &half, "no head vs half in head");
    same_reading(&file, &pieces, "no head vs piecewise reads");

    /* Mapped, as tracegrep reads a large compressed file: the same reading,
     * and the same result as from the descriptor. */
    run mapped;
    read_as(&mapped, outs[7], data, size, 0, kind, BY_MAP);
    same_reading(&file, &mapped, "read vs mapped");
    if (!file.s.stopped && !mapped.s.stopped)
        FZ_CHECK(file.res.bytes_in == mapped.res.bytes_in &&
                     file.res.err_offset == mapped.res.err_offset &&
                     strcmp(file.res.err, mapped.res.err) == 0,
                 "mapped: result differs (\"%s\" at %llu vs \"%s\" at %llu)", mapped.res.err,
                 (unsigned long long)mapped.res.err_offset, file.res.err,
                 (unsigned long long)file.res.err_offset);

    /* Read-ahead (a second thread decodes) reads exactly the same. */
    run ahead_file, ahead_pieces;
    reader = reader_ahead;
    read_as(&ahead_file, outs[5], data, size, 0, kind, BY_FD);
    read_as(&ahead_pieces, outs[6], data, size, sniff, kind, BY_PIECES);
    reader = reader_seq;
    same_reading(&file, &ahead_file, "sequential vs read-ahead");
    if (!file.s.stopped && !ahead_file.s.stopped)
        FZ_CHECK(file.res.bytes_in == ahead_file.res.bytes_in &&
                     file.res.bytes_out == ahead_file.res.bytes_out &&
                     file.res.err_offset == ahead_file.res.err_offset &&
                     strcmp(file.res.err, ahead_file.res.err) == 0,
                 "read-ahead: result differs (\"%s\" at %llu vs \"%s\" at %llu)",
                 ahead_file.res.err, (unsigned long long)ahead_file.res.err_offset,
                 file.res.err, (unsigned long long)file.res.err_offset);
    same_reading(&file, &ahead_pieces, "sequential vs read-ahead piecewise reads");

    for (in_kind k = IN_PLAIN; k <= IN_ZSTD; k++) {
        if (k == kind)
            continue;
        run forced;
        read_as(&forced, outs[1], data, size, sniff, k, BY_FD);
    }
    return 0;
}
