/*
 * tgtime: timestamps as signed microseconds since the Unix epoch, UTC.
 *
 * Log timestamps are parsed by direct arithmetic on the digits (days from the
 * civil date, no strptime/mktime and no time zone database), because a
 * gigabyte of ALB logs holds millions of them. Pure and thread-safe.
 */
#ifndef TG_TGTIME_H
#define TG_TGTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Marks "no timestamp" in events and records. */
#define TGTIME_NONE INT64_MIN

/* Days since 1970-01-01 of a proleptic Gregorian date (any year 0..9999). */
int64_t tgtime_days_from_civil(int y, unsigned m, unsigned d);

/*
 * Parses an ISO-8601 UTC timestamp as ALB writes it,
 * "YYYY-MM-DDTHH:MM:SS[.f…]Z": 0 to 9 fraction digits (digits past the 6th
 * are truncated), the trailing Z required. Rejects out-of-range fields
 * (month 13, hour 24, day 32, Feb 30 …). Returns false and leaves *us alone
 * on any deviation.
 */
bool tgtime_parse_iso(const char *s, size_t n, int64_t *us);

/*
 * tgtime_parse_iso() of s, given ref, a timestamp that tgtime_parse_iso()
 * accepted (so at least 20 bytes) as ref_us: when both share the date, hour
 * and minute, only the seconds and fraction of s are read. ALB's two
 * timestamps on a line are usually that close.
 */
bool tgtime_parse_iso_near(const char *s, size_t n, const char *ref, int64_t ref_us, int64_t *us);

/* Writes "YYYY-MM-DDTHH:MM:SS.ffffffZ" and a NUL; returns 27, the length. */
size_t tgtime_format_iso(int64_t us, char out[32]);

/*
 * Parses a duration in seconds as ALB writes it ("0.000", "12.345678", "-1")
 * into microseconds, rounding to the nearest. "-1" and "-" give -1 (unknown).
 * Returns false when s is not such a number.
 */
bool tgtime_parse_seconds(const char *s, size_t n, int64_t *us);

#endif
