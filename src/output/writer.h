/*
 * writer: buffered output to a file descriptor that notices when the reader
 * went away or the disk filled up.
 *
 * A closed pipe (EPIPE, e.g. `tracegrep … | head -1`) makes the writer stop
 * quietly: every later write is dropped and wr_broken_pipe() says so, so the
 * command can end without a message. Any other write error (ENOSPC on
 * -o /dev/full, EIO) is kept in wr_error() for the command to report with
 * exit code 2. SIGPIPE must be ignored by the program for this to work.
 *
 * The printers write a gigabyte and more, so the common calls are inline and
 * the fastest ones format straight into the buffer: wr_room() hands out room
 * at the end of the buffer, the caller fills it and gives back the end with
 * wr_done(). After an error the buffer is still filled and then dropped
 * instead of written, so the callers need no check per call.
 *
 * Once the output outgrows one buffer, full buffers are written by a
 * helper thread while the next one fills (two buffers take turns): write()
 * into the page cache is a copy as long as the formatting of the text, and
 * so overlaps with it. Errors of those writes show in err one buffer late.
 *
 * One writer per output; not thread-safe (the helper thread is the writer's
 * own business).
 */
#ifndef TG_WRITER_H
#define TG_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Each of the two buffers: at least WR_ROOM_MAX. Each one filled wakes the
 * helper thread, some 15 us of the filling thread's time on the VMs we
 * measure on: timelines --format ndjson -j1 over 1 GB of ALB logs (1.5 GB
 * out) took 1.28 -> 1.23 s into a file and 1.28 -> 1.25 s into a pipe,
 * medians of 15, with 1 MiB instead of 256 KiB (both buffers still in a
 * 2 MiB L2 cache). It is written 256 KiB at a time (writer.c). */
#define WR_BUF ((size_t)1 << 20)

/* The most wr_room() hands out at once. */
#define WR_ROOM_MAX ((size_t)64 << 10)

struct wr_async;

typedef struct writer {
    int fd;
    char *buf; /* the buffer being filled */
    size_t n, cap;
    int err;   /* errno of the first failed write, 0 if none */
    bool own_fd;
    bool trunc_at_close;        /* see wr_open(): the file may hold one stale byte */
    bool sync_only;             /* never start the helper thread */
    bool cut_behind;            /* the helper is to cut the file first */
    unsigned long long written; /* bytes written to fd (as far as known) */
    struct wr_async *async;     /* the helper thread, NULL until started */
} writer;

/* Opens path for writing (replacing its contents), or stdout when path is
 * NULL or "-". Returns 0 or an errno value. */
int wr_open(writer *w, const char *path);

/* wr_open(), but the old contents of path are cut by the helper thread,
 * before its first write, while the caller goes on: cutting a large old
 * report takes from a tenth of a second to more than one. Only for callers
 * that do not read path meanwhile (a mapping of it may fault as it
 * shrinks). */
int wr_open_behind(writer *w, const char *path);

/* A writer into memory: its buffer grows (doubling) instead of being
 * written, for text made on one thread and written out by another. buf[0..n)
 * is the text so far; err is ENOMEM if some of it was dropped for want of
 * memory. wr_close() frees it. Returns 0 or ENOMEM. */
int wr_open_mem(writer *w);

/* Empties a memory writer, keeping its buffer. */
void wr_mem_clear(writer *w);

/* wr_bytes(), for large blocks: what is buffered is handed over, then p
 * (more than WR_ROOM_MAX bytes; a smaller block is copied) is written from
 * where it is, by the calling thread. Thread-safe only as the rest is: one
 * caller at a time. */
void wr_bytes_direct(writer *w, const char *p, size_t n);

/* Whether another process reads what w writes, and so wants a core of its
 * own: true for a pipe, a socket or a terminal; false for a file, a device
 * such as /dev/null, or memory. */
bool wr_has_reader(const writer *w);

/* Hands the buffer over to be written (it is then empty). */
void wr_flush(writer *w);

/* Slow paths of the inline calls below. */
void wr_bytes_slow(writer *w, const char *p, size_t n);
char *wr_room_slow(writer *w, size_t n);

/* Room for n <= WR_ROOM_MAX bytes at the end of the buffer, flushing it
 * first when needed. Write at most n bytes there, then call wr_done() with
 * the end of what was written. */
static inline char *wr_room(writer *w, size_t n)
{
    if (n <= w->cap - w->n)
        return w->buf + w->n;
    return wr_room_slow(w, n);
}

static inline void wr_done(writer *w, char *end)
{
    w->n = (size_t)(end - w->buf);
}

/* Copies a string literal to o, in room from wr_room(); gives its end. */
#define wr_put_lit(o, lit) ((char *)memcpy((o), (lit), sizeof(lit) - 1) + sizeof(lit) - 1)

static inline void wr_bytes(writer *w, const char *p, size_t n)
{
    if (n <= w->cap - w->n) {
        memcpy(w->buf + w->n, p, n);
        w->n += n;
    } else {
        wr_bytes_slow(w, p, n);
    }
}

/* A string literal, measured at compile time. */
#define wr_lit(w, lit) wr_bytes((w), (lit), sizeof(lit) - 1)

static inline void wr_str(writer *w, const char *s)
{
    wr_bytes(w, s, strlen(s));
}

static inline void wr_char(writer *w, char c)
{
    if (w->n < w->cap)
        w->buf[w->n++] = c;
    else
        wr_bytes_slow(w, &c, 1);
}

void wr_printf(writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wr_u64(writer *w, unsigned long long v);
void wr_i64(writer *w, long long v);

/* Flushes and, for a file it opened, closes. Returns the errno of the first
 * failure (EPIPE included) or 0. */
int wr_close(writer *w);

static inline bool wr_broken_pipe(const writer *w)
{
    return w->err == 32; /* EPIPE on Linux; <errno.h> kept out of this header */
}

#endif
