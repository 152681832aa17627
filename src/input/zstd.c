/*
 * zstd: decodes every frame of a zstd stream with libzstd's streaming API.
 *
 * ZSTD_decompressStream reads frame after frame on its own, skippable frames
 * included, and checks each frame's checksum when it has one. The stream is
 * complete when the input is used up, everything decoded has been flushed,
 * and the last call reported a finished frame (return value 0).
 */
#include "input/codec.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <zstd.h>

struct in_zstd {
    ZSTD_DCtx *dctx;
    bool dirty; /* the last stream did not end cleanly: see in_zstd_run() */
};

in_zstd *in_zstd_new(void)
{
    in_zstd *z = malloc(sizeof *z);
    if (!z)
        return NULL;
    z->dctx = ZSTD_createDCtx();
    z->dirty = false;
    if (!z->dctx) {
        free(z);
        return NULL;
    }
    return z;
}

void in_zstd_free(in_zstd *z)
{
    if (!z)
        return;
    ZSTD_freeDCtx(z->dctx);
    free(z);
}

/* What a call is given when zstd has no better idea: a frame header's fixed
 * part (ZSTD_FRAMEHEADERSIZE_PREFIX, which needs the static-only API). */
#define ZS_HEADER_PREFIX 5

/* The body of in_zstd_run(). */
static int run(in_zstd *z, in_reader *r, in_src *src);

/*
 * A context whose last stream ended in an error (or was cut short) gets
 * replaced, not reset: a session reset leaves libzstd 1.5's legacy
 * (v0.5-0.7) decoder state behind, so that the next corrupt legacy frame
 * could fail at another point depending on the file read before (found by
 * fuzz_reader, which reads many inputs with one reader as a worker does).
 */
int in_zstd_run(in_zstd *z, in_reader *r, in_src *src)
{
    if (z->dirty) {
        ZSTD_DCtx *fresh = ZSTD_createDCtx();
        if (!fresh) {
            in_fail(src->res, src->pos, "out of memory for a zstd decoder");
            return IN_FAILED;
        }
        ZSTD_freeDCtx(z->dctx);
        z->dctx = fresh;
    }
    z->dirty = true;
    int rc = run(z, r, src);
    z->dirty = rc != 0;
    return rc;
}

static int run(in_zstd *z, in_reader *r, in_src *src)
{
    ZSTD_DCtx_reset(z->dctx, ZSTD_reset_session_only);
    /* The last answer of a call that did something: 0 once a frame is fully
     * decoded and flushed. A call with nothing to do answers with the size of
     * the next frame's header instead, which must not count as "unfinished". */
    size_t pending = 1, hint = ZS_HEADER_PREFIX;
    for (;;) {
        if (src->n == 0) {
            int rc = in_src_fill(src);
            if (rc < 0)
                return rc;
        }
        size_t avail, ret;
        /* Up to IN_CHUNK of output before each commit, as gzip's. */
        unsigned char *out = in_out_space(r, IN_CHUNK, &avail);
        ZSTD_outBuffer o = {out, avail, 0};
        /* Each call gets the input zstd asked for (its hint): one block, so
         * that an error loses only that block's output (libzstd reports no
         * progress at all from a call that fails) and src->pos says where
         * the block began. Calls go on into the same output while a whole
         * block still fits, so blocks reach the callback in large runs. */
        int idle;
        do {
            size_t before = o.pos;
            ZSTD_inBuffer in = {src->p, hint < src->n ? hint : src->n, 0};
            ret = ZSTD_decompressStream(z->dctx, &o, &in);
            if (ZSTD_isError(ret)) {
                /* A failing call's output is not to be trusted: the legacy
                 * (v0.5-0.7) decoders of libzstd 1.5 set o.pos to the whole
                 * buffer on error without writing it, which would hand
                 * stale memory to the scanner as lines. */
                o.pos = before;
                break;
            }
            in_src_skip(src, in.pos);
            idle = in.pos == 0 && o.pos == before;
            if (!idle || ret == 0)
                pending = ret;
            hint = ret ? ret : ZS_HEADER_PREFIX;
        } while (!idle && src->n && o.size - o.pos >= ZSTD_BLOCKSIZE_MAX);

        if (o.pos && in_out_commit(r, o.pos))
            return IN_STOPPED;
        if (ZSTD_isError(ret)) {
            in_fail(src->res, src->pos, "corrupt zstd data at byte %" PRIu64 ": %s", src->pos,
                    ZSTD_getErrorName(ret));
            return IN_FAILED;
        }
        /* With no input left and room to spare in the output, the decoder has
         * flushed all it could: the stream ends here. */
        if (src->n == 0 && src->eof && o.pos < o.size) {
            if (pending == 0)
                return IN_OK;
            in_fail(src->res, src->pos, "truncated zstd stream at byte %" PRIu64, src->pos);
            return IN_FAILED;
        }
    }
}
