/*
 * reader's internals, shared by the line assembly, the sources and the
 * decoding of one input (reader.c) and the read-ahead helper thread with
 * its caller's side (readahead.c). Not part of the module's interface; what
 * the decoders share with reader.c is codec.h.
 */
#ifndef TG_READER_INT_H
#define TG_READER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "input/codec.h"
#include "input/reader.h"

/*
 * Read-ahead buffers: one being filled by the decoder, one being read by the
 * callback, and one more so that neither waits for the other at every
 * block. Six measured no faster than three (1 GB .gz and .zst, and eight
 * .gz files at -j2): more would only add memory.
 */
enum { IN_RA_BUFS = 3 };
/* Queued blocks: usually one or two per line buffer, more only where
 * oversized lines cut a buffer into many blocks; the decoder waits when the
 * queue is full. */
enum { IN_RA_QUEUE = 64 };
/* The caller, waiting for blocks, is woken once this many are queued, or
 * when the decoder is about to wait itself (for its next line buffer, for
 * room in the queue, for a pipe to have bytes) or is done: a wake-up is a
 * futex call on each side, and one per block of a .gz cost the decoding
 * thread nearly a tenth of its time on a VM. */
enum { IN_RA_WAKE = 4 };

/* A block cut by the helper thread, waiting for the callback. */
typedef struct in_ra_block {
    const unsigned char *p;
    size_t n;
    uint64_t off;
    unsigned buf; /* which line buffer p lies in */
    /* The result as it stood when the block was cut: what the reader
     * returns if the callback stops on this block, as it would without
     * read-ahead. */
    uint64_t bytes_in, bytes_out, oversized;
} in_ra_block;

/* The state shared by the caller's thread and the helper thread. Set up
 * once per reader, reset after every input. */
typedef struct in_ra {
    pthread_mutex_t mu;
    pthread_cond_t to_caller;  /* a block was queued, or the decoder is done */
    pthread_cond_t to_decoder; /* a block was taken or consumed, or stop */
    in_ra_block queue[IN_RA_QUEUE];
    size_t first, count;
    unsigned lent[IN_RA_BUFS]; /* blocks of each line buffer not yet consumed */
    bool done;                 /* the decoder has returned rc */
    int rc;
    atomic_int stop;           /* the callback stopped: the decoder must too */
    int wake[2];               /* a pipe written on stop, for reads on pipes */
    bool poll_wake;            /* the input may block: wait on wake[0] too */
    in_result res;             /* the decoder's, copied to the caller's at the end */
    in_src *src;               /* the input being decoded, and its kind */
    in_kind kind;
    const char *reading; /* the caller's mapfile_reading(), for SIGBUS */
    pthread_t th;
} in_ra;

struct in_reader {
    size_t max_line;
    unsigned char *buf; /* where in the line buffer the carried partial line,
                           [0, len), starts */
    size_t cap;         /* each line buffer's size */
    size_t room;        /* bytes from buf to the end of its line buffer */
    size_t len;
    uint64_t off;       /* decompressed offset of buf[0] */
    int skipping;       /* dropping the rest of an oversized line */
    unsigned char *inbuf; /* IN_CHUNK bytes of compressed input */
    in_gzip *gz;
    in_zstd *zs;
    /* Line buffers: bufs[0] alone, or IN_RA_BUFS with read-ahead (ra set);
     * buf is bufs[cur]. */
    unsigned char *bufs[IN_RA_BUFS];
    unsigned cur;
    in_ra *ra;
    bool ra_skip;       /* in_reader_use_readahead(r, false): decode inline */
    atomic_uint_fast64_t *progress; /* see in_reader_count_into() */
    /* per call of in_reader_stream */
    bool async;         /* the helper thread decodes this input */
    bool lent;          /* buf holds blocks queued for the caller */
    in_block_fn fn;
    void *ctx;
    in_result *res;
};

/* Decodes the whole input and delivers its lines: the same work whichever
 * thread does it. */
int in_decode(in_reader *r, in_src *src, in_kind kind);

/* Starts the helper thread on src. False when no thread could be made: the
 * caller then decodes on its own thread, with the same result. */
bool in_ra_start(in_reader *r, in_src *src, in_kind kind);

/*
 * Consumes the input's blocks, joins the helper thread and fills *res. On a
 * stop, the helper gives up at its next read, block or buffer switch (a read
 * waiting on a pipe is woken), and *res is the result as it stood at the
 * block that stopped, as without read-ahead: the helper's own result has run
 * ahead. The shared state is then reset for the next input.
 */
int in_ra_finish(in_reader *r, in_result *res);

#endif
