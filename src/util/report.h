/*
 * report: every message tracegrep prints on stderr goes through here.
 *
 * Errors and warnings name the input and what went wrong; a progress line,
 * when enabled, is rate-limited by the caller and overwritten in place, and it
 * is wiped before any other message so the two never interleave. One
 * tg_report is created by the command line and handed to the workers, which
 * may call every function concurrently (a mutex orders the writes).
 */
#ifndef TG_REPORT_H
#define TG_REPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tg_report {
    pthread_mutex_t mu;
    bool progress;       /* a progress line may be shown (stderr is a terminal) */
    bool progress_shown; /* one is on the screen now */
    bool quiet_warnings; /* --quiet-ish: suppress warnings (errors still show) */
    bool silent;         /* count, print nothing: a second reading of inputs */
    uint64_t errors;     /* inputs that failed: drives exit code 2 */
    uint64_t warnings;   /* inputs skipped on purpose */
} tg_report;

void tg_report_init(tg_report *r, bool progress);
void tg_report_destroy(tg_report *r);

/* "tracegrep: <path>: <message>" and counts one failed input. path may be NULL. */
void tg_input_error(tg_report *r, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "tracegrep: warning: <path>: <message>" for an input skipped on purpose. */
void tg_input_warning(tg_report *r, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "tracegrep: <message>" for an error that is not about one input (usage,
 * output file); it does not count as a failed input. */
void tg_errorf(tg_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Overwrites the progress line with the formatted text; a no-op unless
 * progress is enabled. */
void tg_progress(tg_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Wipes the progress line if one is shown. */
void tg_progress_clear(tg_report *r);

/* A byte count for people, in SI units: "812 B", "3.4 MB", "1.2 GB". */
void tg_human_bytes(double bytes, char *out, size_t cap);

#endif
