#include "util/report.h"

#include <stdarg.h>
#include <stdio.h>

void tg_report_init(tg_report *r, bool progress)
{
    pthread_mutex_init(&r->mu, NULL);
    r->progress = progress;
    r->progress_shown = false;
    r->quiet_warnings = false;
    r->silent = false;
    r->errors = 0;
    r->warnings = 0;
}

void tg_report_destroy(tg_report *r)
{
    pthread_mutex_destroy(&r->mu);
}

/* Called with the mutex held. "\r\033[K" returns to column 0 and clears the
 * line: the progress text is gone before the next message lands there. */
static void wipe_locked(tg_report *r)
{
    if (r->progress_shown) {
        fputs("\r\033[K", stderr);
        r->progress_shown = false;
    }
}

static void vmessage(tg_report *r, const char *kind, const char *path, const char *fmt,
                     va_list ap)
{
    if (r->silent)
        return;
    wipe_locked(r);
    fputs("tracegrep: ", stderr);
    if (kind)
        fputs(kind, stderr);
    if (path)
        fprintf(stderr, "%s: ", path);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void tg_input_error(tg_report *r, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&r->mu);
    r->errors++;
    vmessage(r, NULL, path, fmt, ap);
    pthread_mutex_unlock(&r->mu);
    va_end(ap);
}

void tg_input_warning(tg_report *r, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&r->mu);
    r->warnings++;
    if (!r->quiet_warnings)
        vmessage(r, "warning: ", path, fmt, ap);
    pthread_mutex_unlock(&r->mu);
    va_end(ap);
}

void tg_errorf(tg_report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&r->mu);
    vmessage(r, NULL, NULL, fmt, ap);
    pthread_mutex_unlock(&r->mu);
    va_end(ap);
}

void tg_progress(tg_report *r, const char *fmt, ...)
{
    if (!r->progress)
        return;
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&r->mu);
    fputs("\r\033[K", stderr);
    vfprintf(stderr, fmt, ap);
    fflush(stderr);
    r->progress_shown = true;
    pthread_mutex_unlock(&r->mu);
    va_end(ap);
}

void tg_human_bytes(double b, char *out, size_t cap)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    unsigned u = 0;
    while (b >= 1000 && u < 5)
        b /= 1000, u++;
    snprintf(out, cap, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

void tg_progress_clear(tg_report *r)
{
    pthread_mutex_lock(&r->mu);
    wipe_locked(r);
    fflush(stderr);
    pthread_mutex_unlock(&r->mu);
}
