/*
 * lambda: the REPORT lines AWS Lambda writes at the end of each invocation
 * (FORMATS.md §2).
 *
 *   REPORT RequestId: <id>  Duration: 15.74 ms  Billed Duration: 16 ms
 *   Memory Size: 128 MB  Max Memory Used: 56 MB  Init Duration: 130.49 ms
 *   XRAY TraceId: 1-…  SegmentId: <16 hex>  Sampled: true
 *
 * Fields are "Label: value [unit]", separated by tabs, runs of spaces, or
 * (as in AWS's own example) a single space; their order is fixed but most
 * are optional, and unknown labels are skipped. The X-Ray part carries a
 * bare trace id (no "Root="). Exports of CloudWatch logs may split it onto
 * the next line, so the two parts are read by two functions:
 *
 *   lambda_parse_report()  a "REPORT RequestId:" line, with the X-Ray part
 *                          when it is on the same line (has_xray);
 *   lambda_parse_xray()    a line that starts with "XRAY TraceId:", i.e. a
 *                          continuation on its own.
 *
 * A caller reading lines one by one keeps the last REPORT record whose
 * has_xray is false; when the next line passes lambda_parse_xray(), it
 * stores the result in that record's xray and sets has_xray (the record
 * then points into two lines: the caller keeps both alive). A line before
 * either label may carry a prefix of up to LAMBDA_MAX_PREFIX bytes ending
 * in a blank (an export's timestamp); a timestamp there becomes time_us.
 *
 * A trace id that is not 1-<8 hex>-<24 hex> (AWS's documented example,
 * obfuscated with "xmpl") is reported with XRAY_BAD_ROOT, never grouped.
 * Slices point into the caller's line; nothing is allocated; thread-safe.
 */
#ifndef TG_LAMBDA_H
#define TG_LAMBDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/xray.h"
#include "util/tg_str.h"

/* The longest text accepted before "REPORT" or "XRAY" (a timestamp and a
 * stream name fit; a line that merely mentions REPORT far in does not). */
#define LAMBDA_MAX_PREFIX 128

typedef struct lambda_xray {
    tg_str trace_id;     /* as written, TG_STR_NULL when the label is absent */
    xray_status verdict; /* XRAY_OK when trace_id is a valid Root */
    xray_root root;      /* valid when verdict == XRAY_OK */
    tg_str segment_id;   /* as written, TG_STR_NULL when absent */
    bool has_span;       /* segment_id is exactly 16 hex digits */
    uint64_t span;       /* the segment id as a number, when has_span */
    char sampled;        /* '1' for true, '0' for false, 0 when absent or other */
} lambda_xray;

typedef struct lambda_report {
    tg_str request_id;       /* never empty in a parsed report */
    int64_t time_us;         /* a timestamp in the line's prefix, else TGTIME_NONE */
    int64_t duration_us;     /* Duration, -1 when absent */
    int64_t billed_us;       /* Billed Duration, -1 when absent */
    int64_t init_us;         /* Init Duration (cold starts only), -1 when absent */
    int64_t restore_us;      /* Restore Duration (SnapStart), -1 when absent */
    int32_t memory_mb;       /* Memory Size, -1 when absent */
    int32_t max_memory_mb;   /* Max Memory Used, -1 when absent */
    tg_str status;           /* Status ("timeout", "error"), TG_STR_NULL when absent */
    bool has_xray;           /* xray was read (same line, or joined by the caller) */
    lambda_xray xray;
} lambda_report;

/*
 * Parses a REPORT line. Returns true when line[0..n) holds "REPORT
 * RequestId: <id>" at its start or after a prefix as above; fills *out
 * (absent values as documented) and reads an X-Ray part on the same line.
 * Returns false for any other line; *out is then unspecified.
 */
bool lambda_parse_report(const char *line, size_t n, lambda_report *out);

/*
 * False when neither lambda_parse_report() nor lambda_parse_xray() can
 * accept line[0..n): no 'R' or 'X' starts a word (at the line's start or
 * after a blank) within its first LAMBDA_MAX_PREFIX + 1 bytes. One vector
 * pass, for a caller that tries both on every line of a log.
 */
bool lambda_may_hold(const char *line, size_t n);

/*
 * Parses an X-Ray continuation line: "XRAY TraceId: <id>" at its start (or
 * after a prefix) followed by the optional SegmentId and Sampled. Returns
 * false for any other line. *time_us (may be NULL) receives a timestamp of
 * the prefix, TGTIME_NONE when there is none.
 */
bool lambda_parse_xray(const char *line, size_t n, lambda_xray *out, int64_t *time_us);

#endif
