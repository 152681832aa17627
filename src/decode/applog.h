/*
 * applog: application log lines that carry an X-Amzn-Trace-Id (FORMATS §2).
 *
 * The services behind a load balancer log the header the ALB forwarded
 * (nginx's $http_x_amzn_trace_id, often "Self=…;Root=…"), and Lambda and
 * API Gateway write JSON lines with the trace in a key. applog_decode()
 * reads both kinds: a line whose first non-blank byte is '{' is JSON, any
 * other line is text.
 *
 * Text lines. Every "Root=" that does not continue a longer word (XRoot=,
 * my_Root=) is a candidate. The header around it reaches back over the
 * "Key=Value;" fields before it (Self=…;Root=…) and forward to the first
 * quote, backslash, blank, comma or bracket, a "; " between fields
 * included; xray_decode_root() judges it. The first candidate with a valid
 * Root wins; when none is valid, the first one's verdict is reported. Text
 * lines without "Root=" have no header (a bare 1-… id in prose is too often
 * some other request's id). The time is the first timestamp found by
 * tstamp_find(); the CloudFront id is the token after "X-Amz-Cf-Id" (any
 * case, '-' or '_' between words) and its ':', '=', quotes or blanks, when
 * it has at least 16 bytes of the id alphabet; without a name, a token of
 * exactly CloudFront's shape (54 URL-safe base64 bytes and "==", between
 * quotes or blanks, as nginx logs "$http_x_amz_cf_id").
 *
 * JSON lines are scanned once, without a tree: strings are skipped with
 * their escapes, keys are recognised at any depth by their name with case,
 * '-', '_', '.' and '@' ignored:
 *
 *   traceid, xraytraceid,      a bare id (1-<8>-<24>, or the 32-hex OTel
 *   awsxraytraceid             form) or a header; "", "-" and null are no
 *                              header, anything else is a bad Root. The
 *                              key spells "trace" in one piece (any case),
 *                              as the scanner looks for it: "tra_ceId" is
 *                              only a key containing "trace" (below)
 *   any key containing "trace" a header, when its string holds "Root=":
 *   or "tracing", and strings  "X-Amzn-Trace-Id", "http_x_amzn_trace_id",
 *   inside such a key's value  Lambda telemetry's tracing.value
 *   time, timestamp,           the time: an ISO-8601 or Apache string, or
 *   requesttime,               epoch seconds/milliseconds as a number or a
 *   requesttimeepoch           string of digits
 *   xamzcfid, cfid             X-Amz-Cf-Id (CloudFront's x-edge-request-id)
 *   requestid                  the request id
 *   status                     the HTTP status, a number or digit string
 *
 * A "Root=" in any other string ("message", "userAgent", "url") never
 * counts: those hold text a client sent or prose about other requests,
 * the same reason an ALB line's trace comes from field 18 only. The first
 * trace key with a valid Root wins, else the first one present. For the
 * other values the shallowest key wins, the first among equals.
 *
 * A line with a header but no timestamp is "untimed": time_us is
 * TGTIME_NONE, the trace is still reported.
 *
 * Slices point into the caller's line, JSON escapes as written. Nothing is
 * allocated; the JSON scanner keeps its nesting in a fixed 64-bit stack
 * (deeper levels share the 64th level's state). Thread-safe.
 */
#ifndef TG_APPLOG_H
#define TG_APPLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/tstamp.h"
#include "decode/xray.h"
#include "util/tg_str.h"

typedef struct applog_record {
    bool json;            /* read as a JSON line */
    bool has_header;      /* a trace header or id was found */
    xray_status verdict;  /* the header's verdict; XRAY_NO_ROOT without one */
    xray_root root;       /* the Root when verdict is XRAY_OK, else zero */
    tg_str header;        /* the header text or bare id as written; its other
                             fields (Self, Parent, ...) are read from it by
                             xray_decode() when wanted: grouping needs only
                             the Root, and decoding them cost 7% of a stats
                             run over application logs */
    int64_t time_us;      /* the line's time, TGTIME_NONE when untimed */
    tg_str cf_id;         /* X-Amz-Cf-Id, TG_STR_NULL when absent */
    tg_str request_id;    /* JSON only, TG_STR_NULL when absent */
    int http_status;      /* JSON only, 0 when absent */
} applog_record;

/* Decodes line[0..n) as JSON or text (see above) into *out, which is
 * always filled. Returns has_header. */
bool applog_decode(const char *line, size_t n, applog_record *out);

/* applog_decode() for a caller that wants nothing of a line without a
 * header (grouping): a text line is left as soon as it is known to have
 * none, its time and CloudFront id unread. Without `cf`, a text line's
 * CloudFront id is not looked for either (cf_id stays TG_STR_NULL; a JSON
 * line's comes with its keys). A text line's time is found through tm
 * (tstamp_find_memo()) unless it is NULL; the result is the same. Returns
 * has_header; when that is false, *out holds no more than that. */
bool applog_decode_traced(const char *line, size_t n, bool cf, tstamp_memo *tm,
                          applog_record *out);

/* The text reading of any line. Returns has_header. */
bool applog_decode_text(const char *line, size_t n, applog_record *out);

/* The JSON reading of any line; malformed JSON is scanned as far as it
 * makes sense, never rejected. Returns has_header. */
bool applog_decode_json(const char *line, size_t n, applog_record *out);

/*
 * The header value around the "Root=" at root (line <= root < line + n),
 * bounded as described for text lines. The building block of both
 * readings, exported for callers that found "Root=" themselves.
 */
tg_str applog_header_at(const char *line, size_t n, const char *root);

#endif
