/*
 * xray: the X-Amzn-Trace-Id header decoder (FORMATS.md §1).
 *
 * A header value is a list of Key=Value fields separated by ';', with optional
 * spaces (and tabs) around each field, in any order. xray_decode() finds Root,
 * Self, Parent, Sampled and Lineage and keeps unknown fields untouched (they
 * stay in the raw text the caller holds). Root and Self are "1-" + 8 hex + "-"
 * + 24 hex; either case is accepted and the Root is returned as a 128-bit
 * number so that the same trace groups together whatever its case.
 *
 * A header is usable when it has a valid Root. Anything else is malformed and
 * gets a reason, so that stats can count malformed headers by cause.
 *
 * Pure functions over borrowed bytes: nothing is allocated, slices in the
 * result point into the input, and every function is thread-safe.
 */
#ifndef TG_XRAY_H
#define TG_XRAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/tg_str.h"

/*
 * A trace id. hi holds the 8 epoch digits (top 32 bits) and the first 8 of
 * the 24 id digits (low 32 bits); lo holds the last 16 id digits. Read as
 * hi:lo in hex, that is exactly the 32-hex OpenTelemetry trace id.
 */
typedef struct xray_root {
    uint64_t hi, lo;
} xray_root;

static inline uint32_t xray_root_epoch(xray_root r)
{
    return (uint32_t)(r.hi >> 32);
}

static inline bool xray_root_eq(xray_root a, xray_root b)
{
    return a.hi == b.hi && a.lo == b.lo;
}

/* Orders Roots numerically, for qsort() and bsearch() over xray_root: the
 * order find's id list is sorted in, and traces' tie-break on start. */
int xray_root_cmp(const void *a, const void *b);

/* Why a header present on a line has no usable Root. Order is stable: it
 * indexes counters and names in output. */
typedef enum xray_status {
    XRAY_OK = 0,
    XRAY_NO_ROOT,   /* no Root field at all, e.g. "Parent=…;Sampled=1" */
    XRAY_BAD_ROOT,  /* a Root field that is not 1-<8 hex>-<24 hex> (empty, bad
                       version, bad digits, wrong length) */
    XRAY_ZERO_ROOT, /* Root=1-00000000-000000000000000000000000 */
    XRAY_STATUS_COUNT
} xray_status;

typedef struct xray_header {
    xray_root root; /* valid only when xray_decode() returned XRAY_OK */
    tg_str self;    /* the Self value as written, TG_STR_NULL when absent */
    tg_str parent;  /* the Parent value as written, TG_STR_NULL when absent */
    tg_str lineage; /* the Lineage value as written, TG_STR_NULL when absent */
    char sampled;   /* '0', '1', '?', or 0 when absent or not one of those */
    bool has_span;  /* Parent is exactly 16 hex digits */
    uint64_t span;  /* Parent as a number: the OTel span id, when has_span */
} xray_header;

/* Decodes the header value s[0..n). Always fills *out (fields found before
 * the verdict stay set) and returns the verdict. The first Root field wins
 * when a header repeats it. */
xray_status xray_decode(const char *s, size_t n, xray_header *out);

/* xray_decode()'s verdict and Root alone (*out is zero unless XRAY_OK), for
 * callers that need nothing else: faster on a header that opens with its
 * Root, as first hops do. */
xray_status xray_decode_root(const char *s, size_t n, xray_root *out);

/* The verdict xray_decode() gives a Root value s[0..n): XRAY_OK (and *out
 * set), XRAY_BAD_ROOT or XRAY_ZERO_ROOT. For decoders that meet a bare id
 * (Lambda's XRAY TraceId, a JSON xrayTraceId) and must judge it exactly as
 * a header's Root. */
xray_status xray_root_status(const char *s, size_t n, xray_root *out);

/* Parses exactly "1-XXXXXXXX-XXXXXXXXXXXXXXXXXXXXXXXX" (35 bytes, any case)
 * into *out. Returns false on any deviation, including the all-zero id. */
bool xray_parse_root(const char *s, size_t n, xray_root *out);

/* Parses a trace id as a user types or pastes it: "1-…", "Root=1-…", the
 * 32-hex OTel id, or a whole header value ("Self=…;Root=…;Sampled=1"), in
 * any case, with surrounding blanks ignored; also with the header's name
 * before it ("X-Amzn-Trace-Id: …") or in double quotes, as ALB logs it. */
bool xray_parse_user_id(const char *s, size_t n, xray_root *out);

/* Writes "1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx" (lowercase) and a NUL. */
void xray_format_root(xray_root r, char out[36]);

/* Writes the 32 lowercase hex digits of the OTel trace id and a NUL. */
void xray_format_otel(xray_root r, char out[33]);

/* "ok", "no-root", "bad-root", "zero-root": stable names for output. */
const char *xray_status_name(xray_status st);

#endif
