/*
 * reader: the line assembly shared by every stream kind, the plain stream
 * loop, and the compressed source that gzip.c and zstd.c decode from (see
 * codec.h for how the parts meet). The read-ahead helper thread, its set-up
 * and the caller's side of it are readahead.c; the types both files use are
 * reader_int.h.
 *
 * The line buffer holds, at any time, only the partial line carried from the
 * previous block: at most max_line bytes, since anything longer has already
 * been declared oversized. Its capacity is max_line + IN_CHUNK, so a decoder
 * always finds at least IN_CHUNK bytes of free space to write into, and a
 * line of max_line bytes can always be completed without growing anything.
 *
 * With read-ahead on, a helper thread runs the decoder and the line cutting
 * exactly as the caller's thread would, so the blocks are the same; only the
 * delivery differs. Instead of calling the callback, a block is queued, and
 * its line buffer is lent to the caller until the callback is done with it:
 * the partial line then stays where it is, the decoder writing on after it,
 * as long as at least IN_CHUNK bytes are left behind it; then it is carried
 * to the front of the next of IN_RA_BUFS line buffers rather than to the
 * front of the same one. The caller's thread takes the queued blocks in
 * order and runs the callback on them.
 */
#define _GNU_SOURCE /* memrchr */
#include "input/codec.h"
#include "input/reader.h"
#include "input/reader_int.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The smallest line buffer: below this the callback would be called so often
 * for short lines that its fixed cost would show. */
#define IN_MIN_BUF ((size_t)1 << 20)

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
    r->buf = r->bufs[0] = malloc(r->cap);
    r->room = r->cap;
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
    in_reader_set_readahead(r, false);
    in_zstd_free(r->zs);
    in_gzip_free(r->gz);
    free(r->inbuf);
    free(r->bufs[0]);
    free(r);
}

void in_reader_count_into(in_reader *r, atomic_uint_fast64_t *bytes)
{
    r->progress = bytes;
}

/* Counts n bytes taken from the input: in the result, and in the progress
 * count if any. */
static void in_took(in_src *src, uint64_t n)
{
    src->res->bytes_in += n;
    if (src->progress)
        atomic_fetch_add_explicit(src->progress, n, memory_order_relaxed);
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

/*
 * A read on the helper thread: it gives up (ECANCELED) once the caller has
 * stopped, so that the descriptor is not read after in_reader_stream
 * returns. On a pipe or a terminal, where read(2) may wait for a writer
 * forever, it waits on the wake pipe too, which the caller writes on stop.
 */
static ssize_t in_ra_read(in_ra *ra, int fd, void *p, size_t n)
{
    for (int wait = 0; ra->poll_wake && !atomic_load(&ra->stop); wait = -1) {
        struct pollfd pfd[2] = {{fd, POLLIN, 0}, {ra->wake[0], POLLIN, 0}};
        int got = poll(pfd, 2, wait);
        if (got > 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
            break; /* a poll that fails otherwise leaves it to read(2) */
        if (got == 0) {
            /* Nothing to read yet: the caller parses what is queued
             * meanwhile (IN_RA_WAKE). */
            pthread_mutex_lock(&ra->mu);
            if (ra->count)
                pthread_cond_signal(&ra->to_caller);
            pthread_mutex_unlock(&ra->mu);
        }
    }
    if (atomic_load(&ra->stop)) {
        errno = ECANCELED;
        return -1;
    }
    return in_read(fd, p, n);
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
        size_t want = cap - n < src->left ? cap - n : (size_t)src->left;
        ssize_t got = want == 0   ? 0
                      : src->ra ? in_ra_read(src->ra, src->fd, dst + n, want)
                                : in_read(src->fd, dst + n, want);
        if (got < 0) {
            src->err = errno;
            break;
        }
        if (got == 0) {
            src->eof = 1;
            break;
        }
        n += (size_t)got;
        src->left -= (uint64_t)got;
        in_took(src, (uint64_t)got);
    }
    return n;
}

/* ---- the source of a mapped input: windows of the mapping ------------------ */

/* Adds up to `want` bytes of the mapping after what was handed out to the
 * current chunk, their pages mapped in first. 1 when bytes came, 0 at the
 * end of the file, IN_FAILED when the file was cut short since it was
 * mapped (reading there would raise SIGBUS). */
static int in_map_extend(in_src *src, size_t want)
{
    size_t from = src->map_end, left = src->map->n - from;
    if (left == 0) {
        src->eof = 1;
        return 0;
    }
    size_t k = want < left ? want : left;
    if (mapfile_populate(src->map, from, from + k) == EFAULT) {
        in_fail(src->res, from, IN_SHRANK_FMT, (uint64_t)left, (uint64_t)from);
        return IN_FAILED;
    }
    if (src->n == 0)
        src->p = (const unsigned char *)src->map->p + from;
    src->n += k;
    src->map_end += k;
    in_took(src, k);
    return 1;
}

/* Makes the next window current, and lets go of those before it: the
 * decoders keep no pointer into input they consumed. */
static int in_map_fill(in_src *src)
{
    mapfile_drop(src->map, src->dropped, src->map_end);
    src->dropped = src->map_end;
    return in_map_extend(src, IN_MAP_WINDOW);
}

int in_src_fill(in_src *src)
{
    if (src->map)
        return in_map_fill(src);
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
    if (src->map) { /* the mapping is contiguous: the window only grows */
        int rc = in_map_extend(src, k - src->n);
        return rc == IN_FAILED ? rc : src->n >= k;
    }
    memmove(src->buf, src->p, src->n);
    src->p = src->buf;
    src->n += in_src_take(src, src->buf + src->n, src->cap - src->n);
    if (src->n >= k)
        return 1;
    return src->err ? in_read_failed(src->res, src->err) : 0;
}

/* ---- line assembly ------------------------------------------------------ */

unsigned char *in_out_space(in_reader *r, size_t max, size_t *avail)
{
    size_t space = r->room - r->len;
    *avail = space < max ? space : max;
    return r->buf + r->len;
}

/* Read-ahead: queues buf[from, to) for the caller and lends it the buffer.
 * IN_STOPPED once the caller has stopped. */
static int in_ra_push(in_reader *r, size_t from, size_t to)
{
    in_ra *ra = r->ra;
    in_ra_block b = {
        .p = r->buf + from, .n = to - from, .off = r->off + from, .buf = r->cur,
        .bytes_in = r->res->bytes_in, .bytes_out = r->res->bytes_out,
        .oversized = r->res->oversized,
    };
    pthread_mutex_lock(&ra->mu);
    while (ra->count == IN_RA_QUEUE && !atomic_load(&ra->stop))
        pthread_cond_wait(&ra->to_decoder, &ra->mu);
    int stop = atomic_load(&ra->stop);
    if (!stop) {
        ra->queue[(ra->first + ra->count) % IN_RA_QUEUE] = b;
        ra->count++;
        ra->lent[r->cur]++;
        if (ra->count >= IN_RA_WAKE)
            pthread_cond_signal(&ra->to_caller);
    }
    pthread_mutex_unlock(&ra->mu);
    r->lent = true;
    return stop ? IN_STOPPED : IN_OK;
}

static int in_deliver(in_reader *r, size_t from, size_t to)
{
    if (r->async)
        return in_ra_push(r, from, to);
    return r->fn(r->ctx, (const char *)r->buf + from, to - from, r->off + from) ? IN_STOPPED
                                                                                 : IN_OK;
}

/* Read-ahead: makes the next line buffer current once the callback is done
 * with every block in it. Buffers are lent and returned in turn, so the next
 * one is the first to come back. */
static int in_ra_next_buf(in_reader *r)
{
    in_ra *ra = r->ra;
    unsigned next = (r->cur + 1) % IN_RA_BUFS;
    pthread_mutex_lock(&ra->mu);
    /* The blocks of the next buffer are queued: the caller must take them
     * now, however few (IN_RA_WAKE). */
    if (ra->lent[next])
        pthread_cond_signal(&ra->to_caller);
    while (ra->lent[next] && !atomic_load(&ra->stop))
        pthread_cond_wait(&ra->to_decoder, &ra->mu);
    int stop = atomic_load(&ra->stop);
    pthread_mutex_unlock(&ra->mu);
    if (stop)
        return IN_STOPPED;
    r->cur = next;
    r->buf = r->bufs[next];
    r->room = r->cap;
    r->lent = false;
    return IN_OK;
}

/* Carries the partial line, which starts at buf[from] and has r->len bytes,
 * to the front of the buffer the decoder writes into next: the same one,
 * unless the caller still reads blocks in it. Then, while the buffer has
 * room after the line for a decoder's output (IN_CHUNK), the line stays
 * where it is and the buffer stays in use: a buffer changes hands once
 * every few hundred kilobytes, not at every read (the blocks are the same
 * either way: they are cut where the reads end in the input). */
static int in_carry(in_reader *r, size_t from)
{
    const unsigned char *src = r->buf + from;
    if (r->lent) {
        if (r->room - from - r->len >= IN_CHUNK) {
            r->buf += from;
            r->room -= from;
            return IN_OK;
        }
        if (in_ra_next_buf(r) != IN_OK)
            return IN_STOPPED;
    }
    if (r->len)
        memmove(r->buf, src, r->len);
    return IN_OK;
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

    /* The carried partial line holds no newline: the first window's search
     * need not read it again, which for a long line carried through many
     * commits would read it once per commit. */
    const size_t carried = r->len;

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
        size_t rem = end - p, lim = rem < win ? rem : win;
        size_t from = carried > p ? carried - p : 0;
        unsigned char *nl = from < lim ? memrchr(b + p + from, '\n', lim - from) : NULL;
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
    r->off += p;
    return in_carry(r, p);
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

/*
 * A plain stream is read IN_PLAIN_READ bytes at a time, each read's lines
 * handed to the callback before the next read. The copy out of the page
 * cache then writes to the same few cache-resident kilobytes every time,
 * and the callback reads lines that are still in cache. Filling the whole
 * line buffer (1.25 MiB) instead made read(2) copy at about half the speed:
 * stats over 1674 files of 0.84 MB, 1.4 GB in all, spent 0.67 s in the
 * kernel instead of 0.35 s, and took 1.50 s instead of 1.19 s (-j1) and
 * 0.87 s instead of 0.69 s (-j2). 32 KiB did as well as 64; 128 and 256
 * KiB less well.
 */
#define IN_PLAIN_READ ((size_t)64 << 10)

static int in_plain_run(in_reader *r, in_src *src)
{
    /* A mapped file is read IN_PLAIN_READ bytes at a time too, across its
     * windows, so that the blocks are those of a read file. */
    while (src->map) {
        size_t avail, got = 0;
        unsigned char *out = in_out_space(r, IN_PLAIN_READ, &avail);
        int rc = 1;
        while (got < avail && (src->n || (rc = in_src_fill(src)) == 1)) {
            size_t k = src->n < avail - got ? src->n : avail - got;
            memcpy(out + got, src->p, k);
            in_src_skip(src, k);
            got += k;
        }
        if (got && in_out_commit(r, got))
            return IN_STOPPED;
        if (rc != 1)
            return rc; /* IN_OK at the end, or IN_FAILED */
    }
    for (;;) {
        size_t avail;
        unsigned char *out = in_out_space(r, IN_PLAIN_READ, &avail);
        size_t got = in_src_take(src, out, avail);
        if (got == 0)
            return src->err ? in_read_failed(src->res, src->err) : IN_OK;
        if (in_out_commit(r, got))
            return IN_STOPPED;
    }
}

/* The decoding of one input, the same on either thread (reader_int.h). */
int in_decode(in_reader *r, in_src *src, in_kind kind)
{
    int rc;
    switch (kind) {
    case IN_GZIP:
        rc = in_gzip_run(r->gz, r, src);
        break;
    case IN_ZSTD:
        rc = in_zstd_run(r->zs, r, src);
        break;
    default:
        rc = in_plain_run(r, src);
        break;
    }
    /* After an error the partial last line is dropped, not delivered: it is
     * cut by the damage and would only scan as a malformed line. Its bytes are
     * still counted in bytes_out. */
    if (rc == IN_OK)
        rc = in_flush(r);
    return rc;
}

/* ---- one input: decoded here, or by the helper thread ------------------- */

static int in_run(in_reader *r, in_src *src, in_kind kind, in_result *res)
{
    int rc;
    if (r->ra && !r->ra_skip && in_ra_start(r, src, kind)) {
        rc = in_ra_finish(r, res);
    } else {
        rc = in_decode(r, src, kind);
        if (src->res != res)
            *res = *src->res;
    }
    r->async = false;
    r->len = 0;
    r->fn = NULL;
    r->ctx = NULL;
    r->res = NULL;
    return rc;
}

/* Resets the reader for an input; returns the result the decoding side
 * writes: with read-ahead, one of its own, handed over at the end, so that
 * the caller's is never written by two threads. */
static in_result *in_begin(in_reader *r, in_block_fn fn, void *ctx, in_result *res)
{
    in_result *dres = r->ra ? &r->ra->res : res;
    memset(dres, 0, sizeof *dres);
    r->buf = r->bufs[r->cur];
    r->room = r->cap;
    r->len = 0;
    r->off = 0;
    r->skipping = 0;
    r->lent = false;
    r->fn = fn;
    r->ctx = ctx;
    r->res = dres;
    return dres;
}

/* in_reader_stream() of at most `left` bytes of fd after the head. */
static int stream(in_reader *r, int fd, const unsigned char *head, size_t headlen,
                  uint64_t left, in_kind kind, in_block_fn fn, void *ctx, in_result *res)
{
    in_result *dres = in_begin(r, fn, ctx, res);
    in_src src = {
        .fd = fd, .head = head, .headlen = headlen, .buf = r->inbuf, .cap = IN_CHUNK,
        .p = r->inbuf, /* never NULL, so that skipping 0 bytes is defined */
        .res = dres, .progress = r->progress, .left = left,
    };
    in_took(&src, headlen); /* the head was taken from fd before the call */
    return in_run(r, &src, kind, res);
}

int in_reader_stream(in_reader *r, int fd, const unsigned char *head, size_t headlen,
                     in_kind kind, in_block_fn fn, void *ctx, in_result *res)
{
    return stream(r, fd, head, headlen, UINT64_MAX, kind, fn, ctx, res);
}

int in_reader_stream_upto(in_reader *r, int fd, uint64_t limit, in_kind kind, in_block_fn fn,
                          void *ctx, in_result *res)
{
    return stream(r, fd, NULL, 0, limit, kind, fn, ctx, res);
}

int in_reader_stream_map(in_reader *r, const mapfile *m, in_kind kind, in_block_fn fn,
                         void *ctx, in_result *res)
{
    in_result *dres = in_begin(r, fn, ctx, res);
    static const unsigned char none[1];
    in_src src = {
        .fd = -1, .cap = IN_MAP_WINDOW, .p = m->p ? (const unsigned char *)m->p : none,
        .map = m, .res = dres, .progress = r->progress, .left = UINT64_MAX,
    };
    return in_run(r, &src, kind, res);
}
