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
 * One writer per output; not thread-safe.
 */
#ifndef TG_WRITER_H
#define TG_WRITER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct writer {
    int fd;
    char *buf;
    size_t n, cap;
    int err;   /* errno of the first failed write, 0 if none */
    bool own_fd;
} writer;

/* Opens path for writing (truncating), or stdout when path is NULL or "-".
 * Returns 0 or an errno value. */
int wr_open(writer *w, const char *path);

void wr_bytes(writer *w, const char *p, size_t n);
void wr_str(writer *w, const char *s);
void wr_char(writer *w, char c);
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
