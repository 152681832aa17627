/*
 * codec: what reader.c shares with the decoders in gzip.c and zstd.c. Private
 * to src/input; nothing outside this folder includes it.
 *
 * A decoder sits between two halves that reader.c owns:
 *
 *  - the source (in_src): the compressed bytes, first the head the caller
 *    already took from the descriptor, then read(2) chunks in the reader's
 *    fixed input buffer; or, for a mapped file, windows of the mapping,
 *    read in place. The decoder looks at src->p[0..n) and marks what it
 *    consumed with in_src_skip(); src->pos is the compressed offset of p[0],
 *    which is what error messages quote.
 *  - the sink (in_out_space / in_out_commit): the free tail of the reader's
 *    line buffer. The decoder inflates straight into it, then commits; the
 *    commit cuts whole lines, hands them to the caller's callback and carries
 *    the partial last line to the front, so the next in_out_space() may
 *    return a different pointer.
 *
 * Decoder states are created once per reader and reset per input, so that a
 * worker that reads ten thousand small archives allocates nothing per file.
 */
#ifndef TG_INPUT_CODEC_H
#define TG_INPUT_CODEC_H

#include "input/reader.h"

#include <stddef.h>
#include <stdint.h>

typedef struct in_src {
    int fd;
    const unsigned char *head; /* caller's head bytes not yet handed out */
    size_t headlen;
    unsigned char *buf;        /* the reader's fixed input buffer */
    size_t cap;
    const unsigned char *p;    /* unconsumed bytes of the current chunk */
    size_t n;
    uint64_t pos;              /* compressed offset of p[0] */
    int eof;                   /* read(2) returned 0: no more input */
    int err;                   /* errno of a failed read(2), reported once the
                                  bytes read before it are used up */
    in_result *res;
    atomic_uint_fast64_t *progress; /* in_reader_count_into(); may be NULL */
    /* A mapped input (in_reader_stream_map): read in place a window at a
     * time, [0, map_end) handed out so far, [0, dropped) let go of. */
    const struct mapfile *map;
    size_t map_end, dropped;
    struct in_ra *ra;          /* set when a helper thread decodes (read-ahead):
                                  reads then end early once the caller stopped */
    uint64_t left;             /* bytes fd may still give: the input ends there */
} in_src;

/* Makes the next chunk current; call it only when src->n == 0. Chunks are
 * full (src->cap bytes, IN_MAP_WINDOW of a mapped input) except the last.
 * Returns 1 when bytes came, 0 at end of input, IN_FAILED on a read error
 * (res->err set). */
int in_src_fill(in_src *src);

/* Makes at least k (<= src->cap) bytes contiguous at src->p unless the input
 * ends first; same returns as in_src_fill, 0 meaning fewer than k remain. */
int in_src_need(in_src *src, size_t k);

static inline void in_src_skip(in_src *src, size_t k)
{
    src->p += k;
    src->n -= k;
    src->pos += k;
}

/* The free space of the line buffer, of which the decoder may fill up to
 * max bytes before its next commit: *avail is the smaller of the two, and
 * the free space is never less than IN_CHUNK bytes. Every decoder commits
 * in pieces of a fixed size (max), so that the blocks are the same
 * wherever the free space starts (read-ahead moves it) and reach the
 * callback while still in cache. */
unsigned char *in_out_space(in_reader *r, size_t max, size_t *avail);

/* Takes n freshly decoded bytes at the start of the free space. Returns
 * IN_OK, or IN_STOPPED when the callback asked to stop. */
int in_out_commit(in_reader *r, size_t n);

/* Formats res->err and sets res->err_offset. */
void in_fail(in_result *res, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The size of the input buffer, and the least free space of the line buffer:
 * large enough that one decoder call does a lot of work, small enough that a
 * block handed to the scanner is still warm in the L2 cache. */
enum { IN_CHUNK = 256 * 1024 };

/* The window of a mapped input handed to the decoder at a time: its pages
 * are mapped in one call, and those of the windows before it dropped, so
 * that only about this much of the mapping counts as resident. */
enum { IN_MAP_WINDOW = 4 * 1024 * 1024 };

/* gzip.c: every member of a (multi-member) gzip stream, CRC checked. */
typedef struct in_gzip in_gzip;
in_gzip *in_gzip_new(void);
void in_gzip_free(in_gzip *g);
int in_gzip_run(in_gzip *g, in_reader *r, in_src *src);

/* zstd.c: every frame of a zstd stream, skippable frames included. */
typedef struct in_zstd in_zstd;
in_zstd *in_zstd_new(void);
void in_zstd_free(in_zstd *z);
int in_zstd_run(in_zstd *z, in_reader *r, in_src *src);

#endif
