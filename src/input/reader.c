/*
 * reader: the line assembly shared by every stream kind, the plain stream
 * loop, and the compressed source that gzip.c and zstd.c decode from (see
 * codec.h for how the parts meet).
 *
 * The line buffer holds, at any time, only the partial line carried from the
 * previous block: at most max_line bytes, since anything longer has already
 * been declared oversized. Its capacity is max_line + IN_CHUNK, so a decoder
 * always finds at least IN_CHUNK bytes of free space to write into, and a
 * line of max_line bytes can always be completed without growing anything.
 */
#define _GNU_SOURCE /* memrchr */
#include "input/codec.h"
#include "input/reader.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The smallest line buffer: below this the callback would be called so often
 * for short lines that its fixed cost would show. */
#define IN_MIN_BUF ((size_t)1 << 20)

struct in_reader {
    size_t max_line;
    unsigned char *buf; /* line buffer: [0, len) is the carried partial line */
    size_t cap;
    size_t len;
    uint64_t off;       /* decompressed offset of buf[0] */
    int skipping;       /* dropping the rest of an oversized line */
    unsigned char *inbuf; /* IN_CHUNK bytes of compressed input */
    in_gzip *gz;
    in_zstd *zs;
    /* per call of in_reader_stream */
    in_block_fn fn;
    void *ctx;
    in_result *res;
};

const char *in_kind_name(in_kind k)
{
    switch (k) {
    case IN_GZIP:
        return "gzip";
    case IN_ZSTD:
        return "zstd";
    case IN_PLAIN:
        break;
    }
    return "plain";
}

in_kind in_sniff(const unsigned char *head, size_t n)
{
    if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b)
        return IN_GZIP;
    if (n >= 4) {
        uint32_t magic = (uint32_t)head[0] | (uint32_t)head[1] << 8 |
                         (uint32_t)head[2] << 16 | (uint32_t)head[3] << 24;
        /* A zstd frame, or a skippable frame (0x184D2A50..0x184D2A5F), which
         * zstd tools write around or between real frames. */
        if (magic == 0xFD2FB528u || (magic & 0xFFFFFFF0u) == 0x184D2A50u)
            return IN_ZSTD;
    }
    return IN_PLAIN;
}

in_reader *in_reader_new(size_t max_line)
{
    /* A bound far beyond any real line, so that the sizes below cannot wrap. */
    if (max_line > SIZE_MAX / 4)
        return NULL;
    in_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->max_line = max_line;
    r->cap = max_line + IN_CHUNK;
    if (r->cap < IN_MIN_BUF)
        r->cap = IN_MIN_BUF;
    r->buf = malloc(r->cap);
    r->inbuf = malloc(IN_CHUNK);
    r->gz = in_gzip_new();
    r->zs = in_zstd_new();
    if (!r->buf || !r->inbuf || !r->gz || !r->zs) {
        in_reader_free(r);
        return NULL;
    }
    return r;
}

void in_reader_free(in_reader *r)
{
    if (!r)
        return;
    in_zstd_free(r->zs);
    in_gzip_free(r->gz);
    free(r->inbuf);
    free(r->buf);
    free(r);
}

void in_fail(in_result *res, uint64_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->err, sizeof res->err, fmt, ap);
    va_end(ap);
    res->err_offset = off;
}

/* read(2) that retries on EINTR and waits on a descriptor someone left in
 * non-blocking mode (a shell's stdin can be). */
static ssize_t in_read(int fd, void *p, size_t n)
{
    for (;;) {
        ssize_t got = read(fd, p, n);
        if (got >= 0)
            return got;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            struct pollfd pfd = {fd, POLLIN, 0};
            if (poll(&pfd, 1, -1) >= 0 || errno == EINTR)
                continue;
        }
        return -1;
    }
}

static int in_read_failed(in_result *res, int e)
{
    in_fail(res, res->bytes_in, "read error at byte %" PRIu64 ": %s", res->bytes_in,
            strerror(e));
    return IN_FAILED;
}

/* ---- the source: the head, then the descriptor ---------------------------- */

/*
 * Fills dst[0..cap) from the head, then from the descriptor, until it is full
 * or the input ends. Filling whole chunks (instead of taking what one read(2)
 * returns) makes the chunks, and so the blocks handed to the callback, the
 * same however the input arrives: from a file or a pipe, with a head of any
 * length. A read error is kept in src->err until the bytes before it are used.
 */
static size_t in_src_take(in_src *src, unsigned char *dst, size_t cap)
{
    size_t n = 0;
    while (n < cap) {
        if (src->headlen) {
            size_t k = src->headlen < cap - n ? src->headlen : cap - n;
            memcpy(dst + n, src->head, k);
            src->head += k;
            src->headlen -= k;
            n += k;
            continue;
        }
        if (src->eof || src->err)
            break;
        ssize_t got = in_read(src->fd, dst + n, cap - n);
        if (got < 0) {
            src->err = errno;
            break;
        }
        if (got == 0) {
            src->eof = 1;
            break;
        }
        n += (size_t)got;
        src->res->bytes_in += (uint64_t)got;
    }
    return n;
}

int in_src_fill(in_src *src)
{
    src->p = src->buf;
    src->n = in_src_take(src, src->buf, src->cap);
    if (src->n)
        return 1;
    return src->err ? in_read_failed(src->res, src->err) : 0;
}

int in_src_need(in_src *src, size_t k)
{
    if (src->n >= k)
        return 1;
    memmove(src->buf, src->p, src->n);
    src->p = src->buf;
    src->n += in_src_take(src, src->buf + src->n, src->cap - src->n);
    if (src->n >= k)
        return 1;
    return src->err ? in_read_failed(src->res, src->err) : 0;
}

/* ---- line assembly ------------------------------------------------------ */

unsigned char *in_out_space(in_reader *r, size_t *avail)
{
    *avail = r->cap - r->len;
    return r->buf + r->len;
}

static int in_deliver(in_reader *r, size_t from, size_t to)
{
    return r->fn(r->ctx, (const char *)r->buf + from, to - from, r->off + from) ? IN_STOPPED
                                                                                 : IN_OK;
}

/*
 * Cuts buf[0, len + n) into the block of whole lines to deliver and the
 * partial line to carry. Lines longer than max_line are found without looking
 * at every newline: from a line start p, the last newline inside the window
 * [p, p + max_line + 1) ends a run of lines that are all short enough, so p
 * jumps past it. memrchr stops at the first newline it meets from the window's
 * end, so this costs about one line's worth of bytes per max_line bytes. A
 * window without a newline holds the start of an oversized line, whatever
 * the read boundaries were: the same lines are dropped for every chunking.
 */
int in_out_commit(in_reader *r, size_t n)
{
    unsigned char *b = r->buf;
    size_t end = r->len + n, start = 0, p = 0;
    const size_t win = r->max_line + 1;

    r->res->bytes_out += n;
    if (r->skipping) { /* len is 0 while skipping */
        unsigned char *nl = memchr(b, '\n', end);
        if (!nl) {
            r->off += end;
            return IN_OK;
        }
        start = p = (size_t)(nl - b) + 1;
        r->skipping = 0;
    }
    while (p < end) {
        size_t rem = end - p;
        unsigned char *nl = memrchr(b + p, '\n', rem < win ? rem : win);
        if (nl) {
            p = (size_t)(nl - b) + 1;
            continue;
        }
        if (rem <= r->max_line)
            break; /* a partial line, short enough to wait for its end */
        /* The line at p has more than max_line bytes before any newline. */
        if (p > start && in_deliver(r, start, p))
            return IN_STOPPED;
        r->res->oversized++;
        nl = memchr(b + p + win, '\n', end - p - win);
        if (!nl) {
            r->skipping = 1;
            start = p = end;
            break;
        }
        start = p = (size_t)(nl - b) + 1;
    }
    if (p > start && in_deliver(r, start, p))
        return IN_STOPPED;
    r->len = end - p;
    if (r->len)
        memmove(b, b + p, r->len);
    r->off += p;
    return IN_OK;
}

/* End of input: the last line may lack its newline. */
static int in_flush(in_reader *r)
{
    int rc = IN_OK;
    if (r->len) /* 0 while skipping an oversized line */
        rc = in_deliver(r, 0, r->len);
    r->off += r->len;
    r->len = 0;
    return rc;
}

/* ---- plain streams ------------------------------------------------------ */

static int in_plain_run(in_reader *r, in_src *src)
{
    for (;;) {
        size_t avail;
        unsigned char *out = in_out_space(r, &avail);
        size_t got = in_src_take(src, out, avail);
        if (got == 0)
            return src->err ? in_read_failed(src->res, src->err) : IN_OK;
        if (in_out_commit(r, got))
            return IN_STOPPED;
    }
}

int in_reader_stream(in_reader *r, int fd, const unsigned char *head, size_t headlen,
                     in_kind kind, in_block_fn fn, void *ctx, in_result *res)
{
    memset(res, 0, sizeof *res);
    res->bytes_in = headlen;
    r->len = 0;
    r->off = 0;
    r->skipping = 0;
    r->fn = fn;
    r->ctx = ctx;
    r->res = res;

    in_src src = {
        .fd = fd, .head = head, .headlen = headlen, .buf = r->inbuf, .cap = IN_CHUNK,
        .p = r->inbuf, /* never NULL, so that skipping 0 bytes is defined */
        .res = res,
    };
    int rc;
    switch (kind) {
    case IN_GZIP:
        rc = in_gzip_run(r->gz, r, &src);
        break;
    case IN_ZSTD:
        rc = in_zstd_run(r->zs, r, &src);
        break;
    default:
        rc = in_plain_run(r, &src);
        break;
    }
    /* After an error the partial last line is dropped, not delivered: it is
     * cut by the damage and would only scan as a malformed line. Its bytes are
     * still counted in bytes_out. */
    if (rc == IN_OK)
        rc = in_flush(r);
    r->len = 0;
    r->fn = NULL;
    r->ctx = NULL;
    r->res = NULL;
    return rc;
}
