#include "output/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Static_assert(EPIPE == 32, "wr_broken_pipe assumes Linux's EPIPE");

#define WR_BUF (256u << 10)

int wr_open(writer *w, const char *path)
{
    memset(w, 0, sizeof *w);
    if (path && strcmp(path, "-") != 0) {
        w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (w->fd < 0)
            return errno;
        w->own_fd = true;
    } else {
        w->fd = 1;
    }
    w->cap = WR_BUF;
    w->buf = malloc(w->cap);
    if (!w->buf) {
        if (w->own_fd)
            close(w->fd);
        return ENOMEM;
    }
    return 0;
}

static void flush(writer *w)
{
    size_t at = 0;
    while (at < w->n && !w->err) {
        ssize_t put = write(w->fd, w->buf + at, w->n - at);
        if (put < 0 && errno == EINTR)
            continue;
        if (put < 0)
            w->err = errno;
        else
            at += (size_t)put;
    }
    w->n = 0;
}

void wr_bytes(writer *w, const char *p, size_t n)
{
    if (w->err)
        return;
    if (w->n + n > w->cap) {
        flush(w);
        if (n > w->cap) {
            /* Larger than the buffer: write it through. */
            while (n && !w->err) {
                ssize_t put = write(w->fd, p, n);
                if (put < 0 && errno == EINTR)
                    continue;
                if (put < 0)
                    w->err = errno;
                else
                    p += put, n -= (size_t)put;
            }
            return;
        }
    }
    memcpy(w->buf + w->n, p, n);
    w->n += n;
}

void wr_str(writer *w, const char *s)
{
    wr_bytes(w, s, strlen(s));
}

void wr_char(writer *w, char c)
{
    if (w->n < w->cap)
        w->buf[w->n++] = c;
    else
        wr_bytes(w, &c, 1);
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
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    wr_bytes(w, tmp + i, sizeof tmp - i);
}

void wr_i64(writer *w, long long v)
{
    if (v < 0) {
        wr_char(w, '-');
        wr_u64(w, 0ull - (unsigned long long)v);
    } else {
        wr_u64(w, (unsigned long long)v);
    }
}

int wr_close(writer *w)
{
    flush(w);
    if (w->own_fd && close(w->fd) != 0 && !w->err)
        w->err = errno;
    free(w->buf);
    w->buf = NULL;
    return w->err;
}
