/*
 * reader's read-ahead: its set-up (in_reader_set_readahead), the helper
 * thread that decodes an input into the next of IN_RA_BUFS line buffers
 * while the caller's thread runs the callback on the blocks already cut,
 * and the caller's side, which takes the queued blocks in order. The
 * decoding side's part (queuing a block and lending its line buffer,
 * in_ra_push; moving to the next buffer, in_ra_next_buf; reads that give up
 * on a stop, in_ra_read) stays in reader.c, in the line assembly and the
 * source that call it; the top of reader.c tells how the two sides share
 * the line buffers.
 */
#define _GNU_SOURCE /* pipe2 */
#include "input/codec.h"
#include "input/reader.h"
#include "input/reader_int.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Frees what read-ahead added; the line buffer in use stays as bufs[0]. */
static void in_ra_free(in_reader *r)
{
    in_ra *ra = r->ra;
    pthread_cond_destroy(&ra->to_decoder);
    pthread_cond_destroy(&ra->to_caller);
    pthread_mutex_destroy(&ra->mu);
    close(ra->wake[0]);
    close(ra->wake[1]);
    free(ra);
    r->ra = NULL;
    unsigned char *keep = r->bufs[r->cur];
    for (unsigned i = 0; i < IN_RA_BUFS; i++) {
        if (r->bufs[i] != keep)
            free(r->bufs[i]);
        r->bufs[i] = NULL;
    }
    r->bufs[0] = keep;
    r->cur = 0;
    r->buf = keep;
    r->room = r->cap;
}

bool in_reader_set_readahead(in_reader *r, bool on)
{
    if (on == (r->ra != NULL))
        return true;
    if (!on) {
        in_ra_free(r);
        return true;
    }
    in_ra *ra = calloc(1, sizeof *ra);
    if (!ra)
        return false;
    if (pipe2(ra->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        free(ra);
        return false;
    }
    /* Default attributes: these cannot fail on Linux, and nothing here
     * could recover if they did. */
    pthread_mutex_init(&ra->mu, NULL);
    pthread_cond_init(&ra->to_caller, NULL);
    pthread_cond_init(&ra->to_decoder, NULL);
    atomic_init(&ra->stop, 0);
    r->ra = ra;
    bool ok = true;
    for (unsigned i = 1; i < IN_RA_BUFS; i++)
        ok &= (r->bufs[i] = malloc(r->cap)) != NULL;
    if (!ok)
        in_ra_free(r);
    return ok;
}

void in_reader_use_readahead(in_reader *r, bool use)
{
    r->ra_skip = !use;
}

/* ---- read-ahead: the helper thread and the caller's side ---------------- */

static void *in_ra_main(void *arg)
{
    in_reader *r = arg;
    in_ra *ra = r->ra;
    mapfile_reading(ra->reading);
    int rc = in_decode(r, ra->src, ra->kind);
    pthread_mutex_lock(&ra->mu);
    ra->done = true;
    ra->rc = rc;
    pthread_cond_signal(&ra->to_caller);
    pthread_mutex_unlock(&ra->mu);
    return NULL;
}

/* in_run()'s first step with read-ahead (reader_int.h). */
bool in_ra_start(in_reader *r, in_src *src, in_kind kind)
{
    in_ra *ra = r->ra;
    struct stat st;
    ra->poll_wake = !src->map && (fstat(src->fd, &st) != 0 || !S_ISREG(st.st_mode));
    ra->src = src;
    ra->kind = kind;
    ra->reading = mapfile_reading_now();
    src->ra = ra;
    r->async = true; /* before the helper can deliver its first block */
    /* The helper takes no signals: they keep going to the threads that
     * took them before read-ahead existed. But SIGBUS, raised by the read
     * of a mapping whose file was cut short, is the helper's own: blocked,
     * the kernel would kill the process with it, past mapfile's guard. */
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGBUS);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&ra->th, NULL, in_ra_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        src->ra = NULL;
        r->async = false;
    }
    return err == 0;
}

/*
 * The caller's side: runs the callback on each queued block in order. Returns
 * the decoder's rc once it is done and every block is consumed, or
 * IN_STOPPED as soon as the callback stops, with *last the block it stopped
 * on; the decoder is then told to stop too.
 */
static int in_ra_consume(in_reader *r, in_ra_block *last)
{
    in_ra *ra = r->ra;
    int rc;
    pthread_mutex_lock(&ra->mu);
    for (;;) {
        while (ra->count == 0 && !ra->done)
            pthread_cond_wait(&ra->to_caller, &ra->mu);
        if (ra->count == 0) {
            rc = ra->rc;
            break;
        }
        in_ra_block b = ra->queue[ra->first];
        ra->first = (ra->first + 1) % IN_RA_QUEUE;
        if (ra->count-- == IN_RA_QUEUE)
            pthread_cond_signal(&ra->to_decoder);
        pthread_mutex_unlock(&ra->mu);
        int stop = r->fn(r->ctx, (const char *)b.p, b.n, b.off);
        pthread_mutex_lock(&ra->mu);
        if (--ra->lent[b.buf] == 0)
            pthread_cond_signal(&ra->to_decoder);
        if (stop) {
            atomic_store(&ra->stop, 1);
            pthread_cond_signal(&ra->to_decoder);
            *last = b;
            rc = IN_STOPPED;
            break;
        }
    }
    pthread_mutex_unlock(&ra->mu);
    return rc;
}

/* in_run()'s second step, once in_ra_start() succeeded (reader_int.h). */
int in_ra_finish(in_reader *r, in_result *res)
{
    in_ra *ra = r->ra;
    in_ra_block last = {0};
    int rc = in_ra_consume(r, &last);
    if (rc == IN_STOPPED) {
        /* Nonblocking and empty (drained below after every stop): one byte
         * always fits, so the result needs no check. */
        ssize_t w = write(ra->wake[1], "", 1);
        (void)w;
    }
    pthread_join(ra->th, NULL);
    if (rc == IN_STOPPED) {
        memset(res, 0, sizeof *res);
        res->bytes_in = last.bytes_in;
        res->bytes_out = last.bytes_out;
        res->oversized = last.oversized;
    } else {
        *res = ra->res;
    }
    unsigned char sink[8];
    while (read(ra->wake[0], sink, sizeof sink) > 0) {
    }
    ra->first = ra->count = 0;
    memset(ra->lent, 0, sizeof ra->lent);
    ra->done = false;
    atomic_store(&ra->stop, 0);
    return rc;
}
