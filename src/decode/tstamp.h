/*
 * tstamp: the timestamps of application log lines, as microseconds UTC.
 *
 * ALB lines carry one fixed ISO-8601 form (tgtime reads it); the services
 * behind a load balancer write whatever their framework likes. This module
 * reads the forms seen on such lines:
 *
 *   ISO-8601   2023-10-04T17:05:15Z, 2023-10-04 17:05:15.514108+02:00,
 *              2023-10-04T17:05:15,896-0700 (Python's comma), ...+05, and a
 *              space before the offset or a " UTC"/" GMT" suffix
 *              (2023-10-04 17:05:15 -0700, 2023-10-04 17:05:15.123 UTC);
 *   Apache/CLF 10/Oct/2000:13:55:36 -0700, with or without [ ] around it
 *              (nginx $time_local, Apache %t, API Gateway requestTime),
 *              an optional fraction after the seconds, the offset optional;
 *   epoch      JSON numbers in seconds, milliseconds, microseconds or
 *              nanoseconds, with a fraction (tstamp_parse_epoch()).
 *
 * Offsets are applied, so every result is UTC. A timestamp that names no
 * zone is read as UTC (there is no other clock to read it in) and says so
 * through `zoned`. Digits past the sixth of a fraction are truncated, as
 * tgtime does. Dates and times are range-checked (Feb 30, hour 24 and leap
 * second :60 are rejected, as in tgtime).
 *
 * Pure functions over borrowed bytes: nothing is allocated, and every
 * function is thread-safe. Functions that fail leave *us alone.
 */
#ifndef TG_TSTAMP_H
#define TG_TSTAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How far into a line tstamp_find() looks for the start of a timestamp.
 * Application lines put their time first or after a short prefix (a level,
 * a client address and "- - [" for nginx); a bounded window keeps the cost
 * per line constant on long lines. A timestamp starting inside the window
 * may end past it. */
#define TSTAMP_FIND_WINDOW 256

/*
 * Reads one ISO-8601 or Apache timestamp that starts at s[0] (no brackets)
 * and may be followed by anything but a digit. Returns the bytes it spans
 * (0 when s does not start with one) and sets *us; *zoned (may be NULL)
 * tells whether the text named its zone.
 */
size_t tstamp_parse_prefix(const char *s, size_t n, int64_t *us, bool *zoned);

/* True when s[0..n) is exactly one timestamp of the text forms, optionally
 * inside [ ] (blanks around it allowed): the form of a JSON string value. */
bool tstamp_parse(const char *s, size_t n, int64_t *us);

/*
 * Reads a JSON number of Unix time: digits with an optional fraction, no
 * sign, no exponent. The unit follows from the size of the integer part,
 * since the logs that write these never say it: up to 11 digits are
 * seconds (until year 5138), 12 to 14 milliseconds, 15 to 17 microseconds,
 * 18 and 19 nanoseconds. Fractions are truncated to the microsecond.
 */
bool tstamp_parse_epoch(const char *s, size_t n, int64_t *us);

typedef struct tstamp_match {
    int64_t us;  /* the instant, UTC */
    size_t off;  /* where the timestamp starts in the line */
    size_t len;  /* its length, without brackets */
    bool zoned;  /* the text named its zone (Z, an offset, UTC or GMT) */
} tstamp_match;

/*
 * Finds the first timestamp of the text forms on a line: the first one
 * that starts within TSTAMP_FIND_WINDOW bytes, not right after a digit
 * (so that the middle of a longer number never reads as a date). Returns
 * false when there is none; *out is then unspecified.
 */
bool tstamp_find(const char *line, size_t n, tstamp_match *out);

/*
 * The minute of the last timestamp of each form that tstamp_find_memo()
 * read in full: its text up to the minute ("2025-11-20T08:00",
 * "20/Nov/2025:08:00") and the minute's first second as written, before
 * any offset. A log's lines come in time order, so most share the minute
 * of the line before; of a timestamp in the same minute only the seconds,
 * the fraction and the zone are read. Zero-initialized, it holds nothing.
 * One per thread.
 */
typedef struct tstamp_minute {
    char text[17]; /* 16 bytes of ISO, 17 of CLF */
    bool set;
    int64_t first; /* the minute's first second, Unix time before the offset */
} tstamp_minute;

typedef struct tstamp_memo {
    tstamp_minute iso, clf;
} tstamp_memo;

/* tstamp_find(), the date, hour and minute of a timestamp in memo's minute
 * taken from memo instead of parsed again. Same result, whatever memo
 * holds. */
bool tstamp_find_memo(const char *line, size_t n, tstamp_memo *memo, tstamp_match *out);

#endif
