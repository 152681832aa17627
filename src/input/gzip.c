/*
 * gzip: decodes every member of a gzip stream with ISA-L's igzip, checking
 * each member's CRC and length.
 *
 * ALB writes multi-member files, so the end of a member is not the end of the
 * data: whatever follows must be another member (1f 8b), or zero padding up
 * to the end (some writers pad to a block size, and gzip(1) ignores it);
 * anything else is reported as trailing garbage.
 */
#include "input/codec.h"

#include <inttypes.h>
#include <isa-l.h>
#include <stdlib.h>

struct in_gzip {
    struct inflate_state st; /* ~100 KiB of tables and history: made once */
};

in_gzip *in_gzip_new(void)
{
    in_gzip *g = malloc(sizeof *g);
    if (g)
        isal_inflate_init(&g->st);
    return g;
}

void in_gzip_free(in_gzip *g)
{
    free(g);
}

static const char *gz_why(int ret)
{
    switch (ret) {
    case ISAL_INVALID_BLOCK:
        return "invalid block";
    case ISAL_INVALID_SYMBOL:
        return "invalid symbol";
    case ISAL_INVALID_LOOKBACK:
        return "invalid back-reference distance";
    case ISAL_INVALID_WRAPPER:
        return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
        return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM:
        return "bad CRC";
    case ISAL_NEED_DICT:
        return "needs a preset dictionary";
    }
    return "decoder error";
}

static void gz_start_member(struct inflate_state *st)
{
    isal_inflate_reset(st);
    st->crc_flag = ISAL_GZIP; /* parse the header, verify CRC-32 and ISIZE */
}

/* After a member ended: 1 when another member starts at src->p, 0 at a clean
 * end of input, IN_FAILED otherwise. */
static int gz_next_member(in_src *src)
{
    int rc = in_src_need(src, 2);
    if (rc < 0)
        return rc;
    if (src->n == 0)
        return 0;
    /* A lone 1f at the very end is a member cut short: the decoder will say
     * "truncated". */
    if (src->p[0] == 0x1f && (src->n == 1 || src->p[1] == 0x8b))
        return 1;
    if (src->p[0] == 0) {
        for (;;) {
            size_t i = 0;
            while (i < src->n && src->p[i] == 0)
                i++;
            in_src_skip(src, i);
            if (src->n)
                break; /* something after the padding */
            rc = in_src_fill(src);
            if (rc <= 0)
                return rc;
        }
    }
    in_fail(src->res, src->pos, "trailing garbage after gzip member at byte %" PRIu64,
            src->pos);
    return IN_FAILED;
}

int in_gzip_run(in_gzip *g, in_reader *r, in_src *src)
{
    struct inflate_state *st = &g->st;
    gz_start_member(st);
    for (;;) {
        if (src->n == 0) {
            int rc = in_src_fill(src);
            if (rc < 0)
                return rc;
        }
        size_t avail;
        unsigned char *out = in_out_space(r, &avail);
        if (avail > UINT32_MAX)
            avail = UINT32_MAX;
        uint32_t in_n = src->n > UINT32_MAX ? UINT32_MAX : (uint32_t)src->n;
        st->next_in = (uint8_t *)src->p; /* not const in ISA-L's struct; only read */
        st->avail_in = in_n;
        st->next_out = out;
        st->avail_out = (uint32_t)avail;

        int ret = isal_inflate(st);

        size_t used = in_n - st->avail_in, made = avail - st->avail_out;
        in_src_skip(src, used);
        /* What was decoded before any damage goes out first. */
        if (made && in_out_commit(r, made))
            return IN_STOPPED;
        if (ret < 0 || ret == ISAL_NEED_DICT) {
            /* The decoder may hold a few input bytes in its bit buffer; the
             * offset quoted is the byte it was actually decoding. */
            uint64_t at = src->pos - (uint64_t)(st->read_in_length / 8);
            in_fail(src->res, at, "corrupt gzip data at byte %" PRIu64 ": %s", at,
                    gz_why(ret));
            return IN_FAILED;
        }
        if (st->block_state == ISAL_BLOCK_FINISH) {
            int more = gz_next_member(src);
            if (more <= 0)
                return more;
            gz_start_member(st);
            continue;
        }
        if (used == 0 && made == 0 && src->n == 0 && src->eof) {
            in_fail(src->res, src->pos, "truncated gzip stream at byte %" PRIu64, src->pos);
            return IN_FAILED;
        }
        if (used == 0 && made == 0 && src->n != 0) {
            /* Never seen; guards against spinning on a decoder that neither
             * consumes nor produces. */
            in_fail(src->res, src->pos, "corrupt gzip data at byte %" PRIu64 ": stalled",
                    src->pos);
            return IN_FAILED;
        }
    }
}
