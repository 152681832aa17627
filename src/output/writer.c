#include "output/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/numfmt.h"

_Static_assert(EPIPE == 32, "wr_broken_pipe assumes Linux's EPIPE");
_Static_assert(WR_ROOM_MAX <= WR_BUF, "wr_room() must fit in an empty buffer");

/*
 * An existing report is replaced without O_TRUNC, by cutting it down to one
 * byte, which our first byte then overwrites. The reason is ext4's
 * auto_da_alloc: a file truncated to size 0 and written again is flushed to
 * disk when it is closed (the rename-less "replace a config file" pattern is
 * made crash-safe that way). For a report of a gigabyte and more that close
 * waits for the disk: about 1.5 s here, as long as everything else the
 * command does, while a new file's close returns at once and the kernel
 * writes it back later. Size 1 is not 0, so the file is treated like a new
 * one. What differs from O_TRUNC: until the first flush (and after a crash or
 * a kill before it) the file holds its old first byte instead of nothing,
 * and after a power loss soon after the run the report may be lost, as a
 * new file's would be. An empty report still ends up empty (wr_close() cuts
 * that byte).
 */
static int replace_contents(writer *w, bool behind)
{
    struct stat st;
    if (fstat(w->fd, &st) != 0)
        return errno;
    if (!S_ISREG(st.st_mode) || st.st_size == 0)
        return 0; /* a terminal, pipe or device, or nothing to replace */
    w->trunc_at_close = true;
    if (st.st_size == 1)
        return 0;
    if (behind) {
        w->cut_behind = true; /* open_as() starts the helper */
        return 0;
    }
    return ftruncate(w->fd, 1) == 0 ? 0 : errno;
}

static bool start_async(writer *w);

static int open_as(writer *w, const char *path, bool behind)
{
    memset(w, 0, sizeof *w);
    w->cap = WR_BUF;
    w->buf = malloc(w->cap);
    if (!w->buf)
        return ENOMEM;
    if (!path || strcmp(path, "-") == 0) {
        w->fd = 1;
        return 0;
    }
    int err = 0;
    w->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        err = errno;
    } else {
        w->own_fd = true;
        err = replace_contents(w, behind);
        /* Without a helper the file is cut here and now. */
        if (!err && w->cut_behind && !start_async(w)) {
            w->cut_behind = false;
            w->sync_only = true;
            err = ftruncate(w->fd, 1) == 0 ? 0 : errno;
        }
        if (err)
            close(w->fd);
    }
    if (err) {
        free(w->buf);
        w->buf = NULL;
    }
    return err;
}

int wr_open(writer *w, const char *path)
{
    return open_as(w, path, false);
}

int wr_open_behind(writer *w, const char *path)
{
    return open_as(w, path, true);
}

/*
 * The most one write() is given. Larger blocks (the megabyte chunks of
 * several formatters, wr_bytes_direct()) go in pieces of this size: on
 * Linux 6.18 with ext4, the kernel's copy of a 1 MiB write into the page
 * cache took four times as long per byte as that of a 256 KiB one.
 * timelines --format ndjson -j2 with two formatters, 1.5 GB into a file:
 * 1.47 s (0.98-2.0 s, 1.1 s of system time) in whole chunks, 1.02 s
 * (0.6 s) in pieces, medians of 9.
 */
#define WR_WRITE_MAX ((size_t)256 << 10)

/* Writes p[0..n) to fd unless *err is set already; the first error goes to
 * *err, the bytes written are added to *written. */
static void put(int fd, const char *p, size_t n, int *err, unsigned long long *written)
{
    while (n && !*err) {
        ssize_t done = write(fd, p, n < WR_WRITE_MAX ? n : WR_WRITE_MAX);
        if (done < 0 && errno == EINTR)
            continue;
        if (done < 0) {
            *err = errno;
        } else {
            p += done, n -= (size_t)done;
            *written += (unsigned long long)done;
        }
    }
}

/*
 * The helper thread and the buffer it owns. job is the buffer it is to
 * write (NULL when idle); the filling side hands over its buffer only when
 * the helper is idle, and takes back the one the helper wrote last, so each
 * buffer has one owner at a time. err and written are the helper's, copied
 * to the writer at each handover.
 */
typedef struct wr_async {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake, idle;
    int fd;
    bool cut; /* cut the file to one byte before the first job; false once done */
    char *job;
    size_t job_n;
    char *other; /* the buffer not being filled: the job's, or the spare */
    bool stop;
    int err;
    unsigned long long written;
} wr_async;

static void *helper_main(void *arg)
{
    wr_async *a = arg;
    pthread_mutex_lock(&a->mu);
    bool cut = a->cut;
    pthread_mutex_unlock(&a->mu);
    int cut_err = cut && ftruncate(a->fd, 1) != 0 ? errno : 0;
    pthread_mutex_lock(&a->mu);
    if (cut_err && !a->err)
        a->err = cut_err;
    a->cut = false; /* wr_bytes_direct() waits for this */
    pthread_cond_signal(&a->idle);
    for (;;) {
        while (!a->job && !a->stop)
            pthread_cond_wait(&a->wake, &a->mu);
        if (!a->job)
            break;
        const char *p = a->job;
        size_t n = a->job_n;
        int err = a->err;
        unsigned long long written = 0;
        pthread_mutex_unlock(&a->mu);
        put(a->fd, p, n, &err, &written);
        pthread_mutex_lock(&a->mu);
        a->err = err;
        a->written += written;
        a->job = NULL;
        pthread_cond_signal(&a->idle);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* Waits until the helper is idle (the caller holds a->mu) and copies its
 * results to the writer. */
static void wait_idle(writer *w, wr_async *a)
{
    while (a->job)
        pthread_cond_wait(&a->idle, &a->mu);
    if (a->err && !w->err)
        w->err = a->err;
    w->written = a->written;
}

/* Starts the helper; false (and nothing started) when it cannot be. */
static bool start_async(writer *w)
{
    wr_async *a = calloc(1, sizeof *a);
    char *other = malloc(w->cap);
    if (!a || !other)
        goto fail;
    a->fd = w->fd;
    a->cut = w->cut_behind;
    a->other = other;
    a->err = w->err;
    a->written = w->written;
    if (pthread_mutex_init(&a->mu, NULL) != 0)
        goto fail;
    if (pthread_cond_init(&a->wake, NULL) != 0)
        goto no_wake;
    if (pthread_cond_init(&a->idle, NULL) != 0)
        goto no_idle;
    if (pthread_create(&a->thread, NULL, helper_main, a) != 0)
        goto no_thread;
    w->async = a;
    return true;
no_thread:
    pthread_cond_destroy(&a->idle);
no_idle:
    pthread_cond_destroy(&a->wake);
no_wake:
    pthread_mutex_destroy(&a->mu);
fail:
    free(other);
    free(a);
    return false;
}

void wr_flush(writer *w)
{
    /* A memory writer keeps everything; an empty buffer has nothing to
     * hand over, and would only wake the helper. */
    if (w->fd < 0 || w->n == 0)
        return;
    wr_async *a = w->async;
    if (!a) {
        put(w->fd, w->buf, w->n, &w->err, &w->written);
        w->n = 0;
        return;
    }
    pthread_mutex_lock(&a->mu);
    wait_idle(w, a);
    char *next = a->other;
    a->job = w->buf;
    a->job_n = w->n;
    a->other = w->buf;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->mu);
    w->buf = next;
    w->n = 0;
}

/* Stops the helper after its last job; its results go to the writer. */
static void stop_async(writer *w)
{
    wr_async *a = w->async;
    pthread_mutex_lock(&a->mu);
    wait_idle(w, a);
    a->stop = true;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    pthread_cond_destroy(&a->wake);
    pthread_cond_destroy(&a->idle);
    pthread_mutex_destroy(&a->mu);
    free(a->other);
    free(a);
    w->async = NULL;
}

/* A memory writer's buffer doubled until it has room for n more bytes. On
 * failure the text so far is dropped (the error stays), so that the callers
 * still get the room they asked for. */
static void grow_mem(writer *w, size_t n)
{
    size_t cap = w->cap;
    while (cap - w->n < n)
        cap *= 2;
    char *b = cap == w->cap ? w->buf : realloc(w->buf, cap);
    if (!b) {
        w->err = w->err ? w->err : ENOMEM;
        w->n = 0;
        return;
    }
    w->buf = b;
    w->cap = cap;
}

/* Empties a buffer that ran full: the output is long, so from now on the
 * helper writes it (unless it cannot be started). */
static void flush_full(writer *w)
{
    if (w->fd < 0) {
        grow_mem(w, w->cap / 2);
        return;
    }
    if (!w->async && !w->sync_only && !start_async(w))
        w->sync_only = true;
    wr_flush(w);
}

void wr_bytes_slow(writer *w, const char *p, size_t n)
{
    /* Through the buffer even when larger than it, so that the order of
     * the output never depends on who writes what. */
    while (n) {
        if (w->n == w->cap)
            flush_full(w);
        size_t k = w->cap - w->n < n ? w->cap - w->n : n;
        memcpy(w->buf + w->n, p, k);
        w->n += k, p += k, n -= k;
    }
}

char *wr_room_slow(writer *w, size_t n)
{
    if (w->fd < 0) {
        grow_mem(w, n);
        return w->buf + w->n;
    }
    /* n is at most WR_ROOM_MAX, which an empty buffer holds. */
    flush_full(w);
    return w->buf;
}

int wr_open_mem(writer *w)
{
    memset(w, 0, sizeof *w);
    w->fd = -1;
    w->sync_only = true;
    w->cap = WR_BUF;
    w->buf = malloc(w->cap);
    return w->buf ? 0 : ENOMEM;
}

void wr_mem_clear(writer *w)
{
    w->n = 0;
    w->err = 0;
}

void wr_bytes_direct(writer *w, const char *p, size_t n)
{
    /* A memory writer copies, as does any writer a small block. A large
     * one is written at once even when the buffer has room for it: copied,
     * it would fill the buffer, and the helper thread started to write it
     * would want a core that the callers, several formatters, use. */
    if (w->fd < 0 || n <= WR_ROOM_MAX) {
        wr_bytes(w, p, n);
        return;
    }
    wr_flush(w);
    wr_async *a = w->async;
    if (!a) {
        put(w->fd, p, n, &w->err, &w->written);
        return;
    }
    /* The helper idle, and done cutting the old file: the bytes go in
     * between its jobs, counted as its own. */
    pthread_mutex_lock(&a->mu);
    while (a->job || a->cut)
        pthread_cond_wait(&a->idle, &a->mu);
    put(w->fd, p, n, &a->err, &a->written);
    wait_idle(w, a);
    pthread_mutex_unlock(&a->mu);
}

bool wr_has_reader(const writer *w)
{
    struct stat st;
    if (w->fd < 0)
        return false;
    if (fstat(w->fd, &st) != 0)
        return true; /* the careful answer */
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
        return false;
    if (S_ISCHR(st.st_mode))
        return isatty(w->fd) == 1;
    return true;
}

void wr_printf(writer *w, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    if ((size_t)len < sizeof tmp) {
        wr_bytes(w, tmp, (size_t)len);
        return;
    }
    char *big = malloc((size_t)len + 1);
    if (!big) {
        w->err = w->err ? w->err : ENOMEM;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)len + 1, fmt, ap);
    va_end(ap);
    wr_bytes(w, big, (size_t)len);
    free(big);
}

void wr_u64(writer *w, unsigned long long v)
{
    wr_done(w, nf_u64(wr_room(w, NF_U64_MAX), v));
}

void wr_i64(writer *w, long long v)
{
    wr_done(w, nf_i64(wr_room(w, NF_I64_MAX), v));
}

int wr_close(writer *w)
{
    if (w->fd < 0) {
        free(w->buf);
        w->buf = NULL;
        return w->err;
    }
    wr_flush(w);
    if (w->async)
        stop_async(w);
    /* Nothing overwrote the old first byte that replace_contents() left. */
    if (w->trunc_at_close && w->written == 0 && ftruncate(w->fd, 0) != 0 && !w->err)
        w->err = errno;
    if (w->own_fd && close(w->fd) != 0 && !w->err)
        w->err = errno;
    free(w->buf);
    w->buf = NULL;
    return w->err;
}
