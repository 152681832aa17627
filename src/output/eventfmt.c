#include "output/eventfmt.h"

#include <stdio.h>
#include <string.h>

#include "decode/alb.h"
#include "decode/albconn.h"
#include "decode/applog.h"
#include "decode/cloudfront.h"
#include "decode/lambda.h"
#include "decode/xray.h"
#include "output/json.h"

static void json_sampled(writer *w, char sampled)
{
    if (sampled) {
        char s[3] = {'"', sampled, '"'};
        wr_bytes(w, s, 3);
    } else {
        wr_str(w, "null");
    }
}

/* Decodes the keys of a trace header the events print. */
static void header_keys(tg_str h, xray_header *xh)
{
    memset(xh, 0, sizeof *xh);
    /* A header that is one Root=… field and nothing else (about half of
     * them) has no Self, Parent or Sampled: decoding it would only check
     * the Root again. */
    bool root_only = h.n >= 5 && memcmp(h.p, "Root=", 5) == 0 && !memchr(h.p, ';', h.n);
    if (h.p && !root_only)
        xray_decode(h.p, h.n, xh);
}

/* The header keys every traced line has: header, self, parent, sampled. */
static void json_header(writer *w, tg_str h, bool alb_escapes)
{
    xray_header xh;
    header_keys(h, &xh);
    json_key(w, "header", false);
    if (alb_escapes)
        json_alb_field(w, h);
    else
        json_str_or_null(w, h);
    json_key(w, "self", false);
    json_str_or_null(w, xh.self);
    json_key(w, "parent", false);
    json_str_or_null(w, xh.parent);
    json_key(w, "sampled", false);
    json_sampled(w, xh.sampled);
}

/* The field f of a tokenized line, TG_STR_NULL past its end. */
static inline tg_str alb_field(const alb_line *t, int f)
{
    return (uint32_t)f < t->nfields ? t->f[f] : TG_STR_NULL;
}

/* An ALB event's keys after the header's, in README.md's order: S names a
 * string field, N a number, T seconds (where -1 is null). */
#define ALB_COLUMNS(S, N, T)                                                                       \
    S("type", ALB_TYPE)                                                                            \
    S("elb", ALB_ELB)                                                                              \
    S("client", ALB_CLIENT)                                                                        \
    S("target", ALB_TARGET)                                                                        \
    N("elb_status", ALB_ELB_STATUS)                                                                \
    N("target_status", ALB_TARGET_STATUS)                                                          \
    S("request", ALB_REQUEST)                                                                      \
    S("user_agent", ALB_USER_AGENT)                                                                \
    T("request_processing_s", ALB_REQUEST_PROCESSING)                                              \
    T("target_processing_s", ALB_TARGET_PROCESSING)                                                \
    T("response_processing_s", ALB_RESPONSE_PROCESSING)                                            \
    N("received_bytes", ALB_RECEIVED_BYTES)                                                        \
    N("sent_bytes", ALB_SENT_BYTES)                                                                \
    S("actions", ALB_ACTIONS_EXECUTED)                                                             \
    S("error_reason", ALB_ERROR_REASON)                                                            \
    S("conn_trace_id", ALB_CONN_TRACE_ID)

/* An ALB event's keys, value by value through the writer: for lines too
 * long for json_alb_fast()'s room. */
static void json_alb_long(writer *w, const alb_line *r)
{
    json_header(w, r->f[ALB_TRACE_ID], true);
#define STR(key, f) wr_lit(w, ",\"" key "\":"), json_alb_field(w, alb_field(r, (f)));
#define NUM(key, f) wr_lit(w, ",\"" key "\":"), json_number_or_null(w, alb_field(r, (f)), false);
#define SECS(key, f) wr_lit(w, ",\"" key "\":"), json_number_or_null(w, alb_field(r, (f)), true);
    ALB_COLUMNS(STR, NUM, SECS)
#undef STR
#undef NUM
#undef SECS
}

/*
 * The room json_alb_fast() takes: every field it prints is a part of the
 * line, and self and parent are parts of the header, so the values come to
 * at most JSON_ESC_MAX of twice the line; the keys, quotes, nulls and the
 * last block store of json_put_*() fit in ALB_KEYS_ROOM.
 */
#define ALB_KEYS_ROOM ((size_t)1024)
#define ALB_FAST_MAX ((WR_ROOM_MAX - ALB_KEYS_ROOM) / 12)
#define ALB_ROOM(n) (JSON_ESC_MAX(2 * (n)) + ALB_KEYS_ROOM)

/* An ALB field at o; one with an escape goes through json_alb_field(), and
 * the room is then taken anew. */
static char *alb_str(writer *w, char *o, tg_str v, const char *lim, size_t room)
{
    char *end = json_put_alb_field(o, v, lim);
    if (end)
        return end;
    wr_done(w, o);
    json_alb_field(w, v);
    return wr_room(w, room);
}

static char *put_sampled(char *o, char sampled)
{
    if (!sampled)
        return wr_put_lit(o, "null");
    o[0] = '"', o[1] = sampled, o[2] = '"';
    return o + 3;
}

/* json_alb_long()'s output, formatted in one room of the writer's buffer:
 * the keys are fixed-size copies, and the values are read in blocks that
 * may run on into the rest of the line (lim). */
static void json_alb_fast(writer *w, const alb_line *r, tg_str line)
{
    const size_t room = ALB_ROOM(line.n);
    const char *lim = line.p + line.n;
    tg_str h = r->f[ALB_TRACE_ID];
    xray_header xh;
    header_keys(h, &xh);
    char *o = wr_room(w, room);
    o = wr_put_lit(o, ",\"header\":");
    o = alb_str(w, o, h, lim, room);
    o = wr_put_lit(o, ",\"self\":");
    o = json_put_str_or_null(o, xh.self, lim);
    o = wr_put_lit(o, ",\"parent\":");
    o = json_put_str_or_null(o, xh.parent, lim);
    o = wr_put_lit(o, ",\"sampled\":");
    o = put_sampled(o, xh.sampled);
#define STR(key, f)                                                                                \
    o = wr_put_lit(o, ",\"" key "\":"), o = alb_str(w, o, alb_field(r, (f)), lim, room);
#define NUM(key, f)                                                                                \
    o = wr_put_lit(o, ",\"" key "\":"), o = json_put_number(o, alb_field(r, (f)), false, lim);
#define SECS(key, f)                                                                               \
    o = wr_put_lit(o, ",\"" key "\":"), o = json_put_number(o, alb_field(r, (f)), true, lim);
    ALB_COLUMNS(STR, NUM, SECS)
#undef STR
#undef NUM
#undef SECS
    wr_done(w, o);
}

static void json_alb(writer *w, tg_str line)
{
    /* The fields printed; tokenizing stops after the last of them, and
     * skips the work on the others. nfields up to conn_trace_id and the
     * kept fields are alb_parse()'s; the line was validated when it was
     * read. */
    const uint64_t want = ALB_FIELD(ALB_TYPE) | ALB_FIELD(ALB_ELB) | ALB_FIELD(ALB_CLIENT) |
                          ALB_FIELD(ALB_TARGET) | ALB_FIELD(ALB_REQUEST_PROCESSING) |
                          ALB_FIELD(ALB_TARGET_PROCESSING) | ALB_FIELD(ALB_RESPONSE_PROCESSING) |
                          ALB_FIELD(ALB_ELB_STATUS) | ALB_FIELD(ALB_TARGET_STATUS) |
                          ALB_FIELD(ALB_RECEIVED_BYTES) | ALB_FIELD(ALB_SENT_BYTES) |
                          ALB_FIELD(ALB_REQUEST) | ALB_FIELD(ALB_USER_AGENT) |
                          ALB_FIELD(ALB_TRACE_ID) | ALB_FIELD(ALB_ACTIONS_EXECUTED) |
                          ALB_FIELD(ALB_ERROR_REASON) | ALB_FIELD(ALB_CONN_TRACE_ID);
    alb_line r;
    if (!line.p || alb_split_fields(line.p, line.n, want, &r) <= ALB_TRACE_ID)
        return;
    if (line.n <= ALB_FAST_MAX)
        json_alb_fast(w, &r, line);
    else
        json_alb_long(w, &r);
}

static void json_app(writer *w, tg_str line)
{
    applog_record a;
    memset(&a, 0, sizeof a);
    if (line.p)
        applog_decode(line.p, line.n, &a);
    json_header(w, a.has_header ? a.header : TG_STR_NULL, false);
    json_key(w, "json", false);
    wr_str(w, a.json ? "true" : "false");
    json_key(w, "request_id", false);
    json_str_or_null(w, a.request_id);
    json_key(w, "status", false);
    if (a.http_status)
        wr_u64(w, (unsigned)a.http_status);
    else
        wr_str(w, "null");
    json_key(w, "cf_id", false);
    json_str_or_null(w, a.cf_id);
}

/* Milliseconds with microsecond precision, or null for -1. */
static void json_ms(writer *w, int64_t us)
{
    if (us < 0)
        wr_str(w, "null");
    else
        wr_printf(w, "%lld.%03lld", (long long)(us / 1000), (long long)(us % 1000));
}

static void json_lambda(writer *w, tg_str line)
{
    lambda_report rep;
    memset(&rep, 0, sizeof rep);
    rep.duration_us = rep.billed_us = rep.init_us = -1;
    rep.memory_mb = rep.max_memory_mb = -1;
    if (line.p && !lambda_parse_report(line.p, line.n, &rep)) {
        int64_t t;
        lambda_parse_xray(line.p, line.n, &rep.xray, &t);
    }
    json_key(w, "header", false);
    json_str_or_null(w, rep.xray.trace_id);
    json_key(w, "segment_id", false);
    json_str_or_null(w, rep.xray.segment_id);
    json_key(w, "sampled", false);
    json_sampled(w, rep.xray.sampled);
    json_key(w, "request_id", false);
    json_str_or_null(w, rep.request_id.n ? rep.request_id : TG_STR_NULL);
    json_key(w, "duration_ms", false);
    json_ms(w, rep.duration_us);
    json_key(w, "billed_duration_ms", false);
    json_ms(w, rep.billed_us);
    json_key(w, "init_duration_ms", false);
    json_ms(w, rep.init_us);
    json_key(w, "memory_size_mb", false);
    wr_i64(w, rep.memory_mb);
    json_key(w, "max_memory_used_mb", false);
    wr_i64(w, rep.max_memory_mb);
}

/* The columns a CloudFront event kept, in cloudfront_col order. */
static void cf_columns(tg_str extra, tg_str *col)
{
    const char *p = extra.p, *end = extra.p ? extra.p + extra.n : NULL;
    for (int i = 0; i < CLOUDFRONT_NCOLS; i++) {
        if (!p || p > end) {
            col[i] = TG_STR_NULL;
            continue;
        }
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        const char *stop = tab ? tab : end;
        col[i] = tg_str_make(p, (size_t)(stop - p));
        p = tab ? tab + 1 : end + 1;
    }
}

static void json_url(writer *w, tg_str s)
{
    if (!s.p || tg_str_is_dash(s)) {
        wr_str(w, "null");
        return;
    }
    char buf[4096];
    size_t n = cloudfront_url_decode(s, buf, sizeof buf);
    json_str(w, buf, n);
}

static void json_cloudfront(writer *w, tg_str extra)
{
    tg_str col[CLOUDFRONT_NCOLS];
    cf_columns(extra, col);
    static const struct {
        const char *key;
        int col;
        char kind; /* s: string, u: URL-encoded, n: number */
    } keys[] = {
        {"edge_location", CLOUDFRONT_EDGE_LOCATION, 's'},
        {"status", CLOUDFRONT_STATUS, 'n'},
        {"method", CLOUDFRONT_METHOD, 's'},
        {"host", CLOUDFRONT_HOST, 's'},
        {"uri", CLOUDFRONT_URI_STEM, 'u'},
        {"query", CLOUDFRONT_URI_QUERY, 'u'},
        {"result_type", CLOUDFRONT_RESULT_TYPE, 's'},
        {"request_id", CLOUDFRONT_REQUEST_ID, 's'},
        {"time_taken_s", CLOUDFRONT_TIME_TAKEN, 'n'},
        {"client_ip", CLOUDFRONT_CLIENT_IP, 's'},
        {"user_agent", CLOUDFRONT_USER_AGENT, 'u'},
    };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        json_key_n(w, keys[i].key, strlen(keys[i].key), false);
        tg_str v = col[keys[i].col];
        if (keys[i].kind == 'n')
            json_number_or_null(w, v, false);
        else if (keys[i].kind == 'u')
            json_url(w, v);
        else
            json_str_or_null(w, v);
    }
}

static void json_conn(writer *w, tg_str line)
{
    albconn_record r;
    bool ok = line.p && albconn_parse(line.p, line.n, &r);
    static const struct {
        const char *key;
        int field;
        char kind;
    } keys[] = {
        {"client_ip", ALBCONN_CLIENT_IP, 's'},
        {"client_port", ALBCONN_CLIENT_PORT, 'n'},
        {"listener_port", ALBCONN_LISTENER_PORT, 'n'},
        {"tls_protocol", ALBCONN_TLS_PROTOCOL, 's'},
        {"tls_cipher", ALBCONN_TLS_CIPHER, 's'},
        {"tls_handshake_latency_s", ALBCONN_HANDSHAKE_LATENCY, 'n'},
        {"leaf_client_cert_subject", ALBCONN_CERT_SUBJECT, 's'},
        {"tls_verify_status", ALBCONN_VERIFY_STATUS, 's'},
        {"conn_trace_id", ALBCONN_CONN_TRACE_ID, 's'},
        {"elb", ALBCONN_ELB, 's'},
    };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        json_key_n(w, keys[i].key, strlen(keys[i].key), false);
        tg_str v = ok && (uint32_t)keys[i].field < r.t.nfields ? r.t.f[keys[i].field] : TG_STR_NULL;
        if (keys[i].kind == 'n')
            json_number_or_null(w, v, false);
        else
            json_alb_field(w, v);
    }
}

void ef_json_fields(writer *w, const eng_result *r, const grp_event *e, tg_str line)
{
    switch (e->format) {
    case GRP_FMT_ALB:
        json_alb(w, line);
        break;
    case GRP_FMT_APP:
        json_app(w, line);
        break;
    case GRP_FMT_LAMBDA:
        json_lambda(w, line);
        break;
    case GRP_FMT_CLOUDFRONT:
        json_cloudfront(w, eng_event_extra(r, e));
        break;
    case GRP_FMT_ALB_CONN:
        json_conn(w, line);
        break;
    }
}

/* Copies s into out[*k..cap), control bytes shown as '?'. */
static void put(char *out, size_t cap, size_t *k, tg_str s)
{
    /* The count is known before the loop, and nothing in it goes through
     * k: GCC turns it into vector selects. */
    size_t at = *k, n = s.p ? s.n : 0;
    if (n > cap - 1 - at)
        n = cap - 1 - at;
    char *o = out + at;
    const unsigned char *p = (const unsigned char *)s.p;
    for (size_t i = 0; i < n; i++)
        o[i] = p[i] < 0x20 || p[i] == 0x7f ? '?' : (char)p[i];
    *k = at + n;
    out[*k] = '\0';
}

static void putz(char *out, size_t cap, size_t *k, const char *z)
{
    put(out, cap, k, tg_str_make(z, strlen(z)));
}

size_t ef_describe(const eng_result *r, const grp_event *e, tg_str line, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = '\0';
    char buf[2048];
    switch (e->format) {
    case GRP_FMT_ALB: {
        alb_line t;
        if (line.p && alb_split_fields(line.p, line.n, ALB_FIELD(ALB_REQUEST), &t) > ALB_REQUEST) {
            tg_str req = t.f[ALB_REQUEST];
            if (req.n > sizeof buf)
                req.n = sizeof buf; /* a text line shows the start of a huge URL */
            put(out, cap, &k, tg_str_make(buf, alb_unescape(req, buf, sizeof buf)));
        }
        break;
    }
    case GRP_FMT_APP: {
        /* The line itself says most: its start, after any timestamp. */
        put(out, cap, &k, tg_str_make(line.p, line.n > 160 ? 160 : line.n));
        break;
    }
    case GRP_FMT_LAMBDA: {
        lambda_report rep;
        if (line.p && lambda_parse_report(line.p, line.n, &rep)) {
            snprintf(buf, sizeof buf, "REPORT %.*s duration %.2f ms, memory %d/%d MB",
                     (int)rep.request_id.n, rep.request_id.p,
                     rep.duration_us >= 0 ? (double)rep.duration_us / 1e3 : 0.0,
                     rep.max_memory_mb, rep.memory_mb);
            putz(out, cap, &k, buf);
        } else {
            putz(out, cap, &k, "XRAY (REPORT line not found)");
        }
        break;
    }
    case GRP_FMT_CLOUDFRONT: {
        tg_str col[CLOUDFRONT_NCOLS];
        cf_columns(eng_event_extra(r, e), col);
        put(out, cap, &k, col[CLOUDFRONT_METHOD]);
        putz(out, cap, &k, " ");
        put(out, cap, &k, col[CLOUDFRONT_HOST]);
        if (col[CLOUDFRONT_URI_STEM].p) {
            size_t n = cloudfront_url_decode(col[CLOUDFRONT_URI_STEM], buf, sizeof buf);
            put(out, cap, &k, tg_str_make(buf, n));
        }
        putz(out, cap, &k, "  ");
        put(out, cap, &k, col[CLOUDFRONT_RESULT_TYPE]);
        putz(out, cap, &k, " ");
        put(out, cap, &k, col[CLOUDFRONT_REQUEST_ID]);
        break;
    }
    case GRP_FMT_ALB_CONN: {
        albconn_record c;
        if (line.p && albconn_parse(line.p, line.n, &c)) {
            putz(out, cap, &k, "TLS handshake ");
            put(out, cap, &k, c.t.f[ALBCONN_TLS_PROTOCOL]);
            putz(out, cap, &k, " ");
            put(out, cap, &k, c.t.f[ALBCONN_TLS_CIPHER]);
            putz(out, cap, &k, " ");
            put(out, cap, &k, c.t.f[ALBCONN_VERIFY_STATUS]);
            putz(out, cap, &k, " ");
            put(out, cap, &k, c.t.f[ALBCONN_CONN_TRACE_ID]);
        }
        break;
    }
    }
    return k;
}
