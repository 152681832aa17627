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

/* The header keys every traced line has: header, self, parent, sampled. */
static void json_header(writer *w, tg_str h, bool alb_escapes)
{
    xray_header xh;
    memset(&xh, 0, sizeof xh);
    if (h.p)
        xray_decode(h.p, h.n, &xh);
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

static void json_alb(writer *w, tg_str line)
{
    alb_record r;
    if (!line.p || !alb_parse(line.p, line.n, &r) || r.t.nfields <= ALB_TRACE_ID)
        return;
    json_header(w, r.t.f[ALB_TRACE_ID], true);
    static const struct {
        const char *key;
        size_t len;
        int field;
        char kind; /* s: string, n: number, t: seconds (-1 = null) */
    } cols[] = {
        {"type", sizeof "type" - 1, ALB_TYPE, 's'},
        {"elb", sizeof "elb" - 1, ALB_ELB, 's'},
        {"client", sizeof "client" - 1, ALB_CLIENT, 's'},
        {"target", sizeof "target" - 1, ALB_TARGET, 's'},
        {"elb_status", sizeof "elb_status" - 1, ALB_ELB_STATUS, 'n'},
        {"target_status", sizeof "target_status" - 1, ALB_TARGET_STATUS, 'n'},
        {"request", sizeof "request" - 1, ALB_REQUEST, 's'},
        {"user_agent", sizeof "user_agent" - 1, ALB_USER_AGENT, 's'},
        {"request_processing_s", sizeof "request_processing_s" - 1, ALB_REQUEST_PROCESSING, 't'},
        {"target_processing_s", sizeof "target_processing_s" - 1, ALB_TARGET_PROCESSING, 't'},
        {"response_processing_s", sizeof "response_processing_s" - 1, ALB_RESPONSE_PROCESSING,
         't'},
        {"received_bytes", sizeof "received_bytes" - 1, ALB_RECEIVED_BYTES, 'n'},
        {"sent_bytes", sizeof "sent_bytes" - 1, ALB_SENT_BYTES, 'n'},
        {"actions", sizeof "actions" - 1, ALB_ACTIONS_EXECUTED, 's'},
        {"error_reason", sizeof "error_reason" - 1, ALB_ERROR_REASON, 's'},
        {"conn_trace_id", sizeof "conn_trace_id" - 1, ALB_CONN_TRACE_ID, 's'},
    };
    for (size_t i = 0; i < sizeof cols / sizeof *cols; i++) {
        json_key_n(w, cols[i].key, cols[i].len, false);
        tg_str v = (uint32_t)cols[i].field < r.t.nfields ? r.t.f[cols[i].field] : TG_STR_NULL;
        if (cols[i].kind == 's')
            json_alb_field(w, v);
        else
            json_number_or_null(w, v, cols[i].kind == 't');
    }
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
    for (size_t i = 0; s.p && i < s.n && *k + 1 < cap; i++) {
        unsigned char b = (unsigned char)s.p[i];
        out[(*k)++] = b < 0x20 || b == 0x7f ? '?' : (char)b;
    }
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
        alb_record rec;
        if (line.p && alb_parse(line.p, line.n, &rec) && rec.t.nfields > ALB_REQUEST) {
            tg_str req = rec.t.f[ALB_REQUEST];
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
