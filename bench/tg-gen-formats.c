/*
 * tg-gen-formats.c: the other log kinds of tg-gen's incident (--formats).
 *
 * tg-gen.c makes the ALB access lines; this file writes, from those same
 * lines and on the same time base, what the rest of the stack logs about
 * the same requests. Everything lands under the --out directory:
 *
 *   conn        AWSLogs/<acct>/elasticloadbalancing/<region>/yyyy/mm/dd/
 *                 conn_log_<acct>_elasticloadbalancing_<region>_app.<lb>.<id>_
 *                 <yyyymmddThhmmZ>_<node-ip>_<rnd>.log
 *               ALB connection logs, beside the access logs (the name is
 *               the one S3 shows, "conn_log_" with an underscore, although
 *               AWS's documentation writes "conn_log."). One line per TID_
 *               an access line carries (field 30, so lines of 30 fields or
 *               more), timed a little before the request was created, one
 *               file per LB node and 5 minutes like the access logs; 85% of
 *               lines in the newer 15-field form. About 3% more lines are
 *               connections that sent no request: no access line names
 *               their TID.
 *   cloudfront  cloudfront/EDFDVBD6EXAMPLE.YYYY-MM-DD-HH.<rnd>.log, one per
 *               hour: W3C, the 33 usual columns. 60% of traces came through
 *               the distribution: one Miss record for their internet-facing
 *               hop, whose time-taken covers the ALB hop. About 10% of the
 *               records are cache Hits of no trace. The first file switches
 *               to a second #Fields order after FMT_CF_SWITCH records; every
 *               second file ends its records with an empty column.
 *   nginx       app/<service>/access.log: the target's line for 70% of the
 *               hops that reached a target (499 when ALB gave up on it), in
 *               "combined" plus "$http_x_amzn_trace_id", and for the web
 *               tier (behind the internet-facing LB) plus
 *               "$http_x_amz_cf_id". The trace header is the ALB line's
 *               field 18 as ALB forwards it: a hop that arrived with a
 *               header gets "Self=<new id>;" in front unless it has one. Hops
 *               whose user agent holds "Root=" get no line (a text decoder
 *               could not tell the two apart). Around them: health checks
 *               and metrics scrapes without a header, and about one line in
 *               a hundred traces with a malformed header (it has "Root=",
 *               the Root is bad).
 *   apigw       apigw/<api-id>.log: for 15% of traces the deepest hop that
 *               reached a target calls an API Gateway API: one JSON line
 *               with the bare trace id in "xrayTraceId".
 *   lambda      lambda/<function>/<yyyy-mm-dd>.log: each such call invokes
 *               a Lambda function: START, one or two log lines, END, and
 *               REPORT with "XRAY TraceId: …", split onto a second line in
 *               30% of them, each line behind a CloudWatch export
 *               timestamp. A scheduled function adds invocations with no
 *               X-Ray part.
 *
 * Truth (fmt_truth_keys, fmt_truth_rows), counted as written:
 *   lines       every line of a kind's files (CloudFront '#' lines, Lambda
 *               START/END/log lines and continuations included);
 *   events      alb-conn: distinct (trace, TID) pairs whose TID is in a
 *               connection log; cloudfront: records joined through an app
 *               line carrying the trace's valid Root and the record's
 *               x-edge-request-id as X-Amz-Cf-Id; app: nginx and API
 *               Gateway lines with a valid Root or xrayTraceId; lambda:
 *               REPORT lines with a valid XRAY TraceId (one event with
 *               their continuation);
 *   malformed   app only: nginx lines whose header has "Root=" but no
 *               valid Root.
 * An unselected kind is generated all the same (the same random draws) and
 * only not written, so it counts nothing and joins nothing.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tg-gen.h"

/* One rendered line: the longest, a CloudFront record whose user agent is
 * URL-encoded (3 bytes per escaped byte of a 360-byte agent), stays far
 * below. Every writer checks the bound. */
#define FMT_LINE 4096
/* How long a file of a time period (5 minutes, an hour, a day) stays open
 * after the period ended. Lines are made in trace order, never more than a
 * few seconds before the generator's clock; a file is closed only when no
 * later line can belong to it, and never reopened. */
#define FMT_LATE_US (300 * INT64_C(1000000))
/* The record after which the first CloudFront file changes its columns. */
#define FMT_CF_SWITCH 50
#define FMT_CF_DIST "EDFDVBD6EXAMPLE"

enum { K_CONN, K_CF, K_NGINX, K_APIGW, K_LAMBDA, K_COUNT };

static const unsigned kind_bit[K_COUNT] = {GEN_FMT_CONN, GEN_FMT_CLOUDFRONT, GEN_FMT_NGINX,
                                           GEN_FMT_APIGW, GEN_FMT_LAMBDA};

typedef struct ofile {
    char *path;
    FILE *f;
    int64_t close_at_us; /* INT64_MAX: open until fmt_finish() */
    uint64_t lines;
    int kind;
    int index;       /* CloudFront: the file's number in creation order */
    bool alt_fields; /* CloudFront: the second #Fields order is in effect */
} ofile;

typedef struct kind_count {
    uint64_t lines, events, malformed;
} kind_count;

/* The functions API Gateway invokes, and one the scheduler does. */
enum { FN_QUOTE, FN_NOTIFY, FN_CRON, FN_COUNT };
static const char *const fn_names[FN_COUNT] = {"quote-handler", "notify-sender", "cache-warmer"};
static const int fn_memory[FN_COUNT] = {256, 128, 512};

struct fmt_ctx {
    const settings *cfg;
    const lb_info *lbs;
    rng r; /* never the ALB stream: see tg-gen.h */
    ofile *files;
    size_t nfiles, capfiles;
    uint64_t files_made;
    int cf_files;
    kind_count k[K_COUNT];
    uint64_t cf_records, joined_conn, joined_cf;
    FILE *rows; /* tracefmt rows, copied into the truth at the end */
    char cf_domain[32];
    char api_id[2][12];
    int64_t warm_until_us[FN_COUNT];
    char line[FMT_LINE];
};

static bool selected(const fmt_ctx *x, int kind)
{
    return (x->cfg->formats & kind_bit[kind]) != 0;
}

/* ------------------------------------------------------------------------ */
/* Files.                                                                    */

/* The open file at path, opened (and its folder made) on first use. */
static ofile *file_get(fmt_ctx *x, int kind, const char *path, int64_t close_at_us)
{
    for (size_t i = 0; i < x->nfiles; i++)
        if (strcmp(x->files[i].path, path) == 0)
            return &x->files[i];
    if (x->nfiles == x->capfiles) {
        size_t cap = x->capfiles ? x->capfiles * 2 : 32;
        ofile *v = realloc(x->files, cap * sizeof *v);
        if (!v) {
            fprintf(stderr, "tg-gen: out of memory\n");
            return NULL;
        }
        x->files = v;
        x->capfiles = cap;
    }
    char *dup = strdup(path);
    if (!dup) {
        fprintf(stderr, "tg-gen: out of memory\n");
        return NULL;
    }
    char *slash = strrchr(dup, '/');
    if (slash) {
        *slash = '\0';
        int rc = mkdir_p(dup);
        *slash = '/';
        if (rc != 0) {
            fprintf(stderr, "tg-gen: cannot create the folder of %s: %s\n", path, strerror(errno));
            free(dup);
            return NULL;
        }
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "tg-gen: cannot create %s: %s\n", path, strerror(errno));
        free(dup);
        return NULL;
    }
    ofile *o = &x->files[x->nfiles++];
    memset(o, 0, sizeof *o);
    o->path = dup;
    o->f = f;
    o->close_at_us = close_at_us;
    o->kind = kind;
    o->index = kind == K_CF ? x->cf_files++ : 0;
    x->files_made++;
    return o;
}

static int file_write(fmt_ctx *x, ofile *o, const char *text, size_t len)
{
    if (fwrite(text, 1, len, o->f) != len) {
        fprintf(stderr, "tg-gen: write error in %s: %s\n", o->path, strerror(errno));
        return -1;
    }
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    o->lines += n;
    x->k[o->kind].lines += n;
    return 0;
}

/* Writes lines of a kind when it is selected; returns 0 when it is not. */
static int write_to(fmt_ctx *x, int kind, const char *path, int64_t close_at_us, const wbuf *w)
{
    if (w->over) {
        fprintf(stderr, "tg-gen: internal error: a line exceeded %d bytes\n", FMT_LINE);
        return -1;
    }
    if (!selected(x, kind))
        return 0;
    ofile *o = file_get(x, kind, path, close_at_us);
    return o ? file_write(x, o, x->line, (size_t)(w->p - x->line)) : -1;
}

static int file_close(fmt_ctx *x, size_t i)
{
    ofile *o = &x->files[i];
    int rc = ferror(o->f) || fclose(o->f) != 0 ? -1 : 0;
    if (rc)
        fprintf(stderr, "tg-gen: write error in %s\n", o->path);
    free(o->path);
    x->files[i] = x->files[--x->nfiles];
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Small writers and readers of the ALB line's fields.                       */

static wbuf line_start(fmt_ctx *x)
{
    wbuf w = {x->line, x->line + sizeof x->line, false};
    return w;
}

/* An 8-character name part: a pure function of what names the file. */
static void name_rnd(char out[9], uint64_t seed, uint64_t salt, int64_t end_s, uint64_t extra)
{
    uint64_t s = seed ^ salt ^ ((uint64_t)end_s << 20) ^ extra;
    uint64_t v = splitmix64(&s);
    for (int i = 0; i < 8; i++, v /= 36)
        out[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
    out[8] = '\0';
}

/* "ip:port" (IPv6 without brackets: the port is after the last colon). */
static void split_client(const char *client, char *ip, size_t cap, int *port)
{
    const char *c = strrchr(client, ':');
    size_t n = c ? (size_t)(c - client) : strlen(client);
    if (n >= cap)
        n = cap - 1;
    memcpy(ip, client, n);
    ip[n] = '\0';
    *port = c ? atoi(c + 1) : 0;
}

typedef struct req_parts {
    char method[16];
    char host[64];
    char path[224]; /* path and query */
} req_parts;

/* "METHOD scheme://host:port/path VERSION", as tg-gen.c writes field 13. */
static void split_request(const char *request, req_parts *p)
{
    memset(p, 0, sizeof *p);
    size_t m = strcspn(request, " ");
    snprintf(p->method, sizeof p->method, "%.*s", (int)m, request);
    const char *h = strstr(request, "://");
    if (!h) {
        str_copy(p->path, sizeof p->path, "/");
        return;
    }
    h += 3;
    size_t hn = strcspn(h, ":/ ");
    snprintf(p->host, sizeof p->host, "%.*s", (int)hn, h);
    const char *path = strchr(h, '/');
    const char *end = strrchr(request, ' ');
    if (!path || !end || end < path) {
        str_copy(p->path, sizeof p->path, "/");
        return;
    }
    snprintf(p->path, sizeof p->path, "%.*s", (int)(end - path), path);
}

static const char *const month_abbr[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* "20/Nov/2025:23:30:24 +0000" (nginx $time_local, API Gateway requestTime). */
static void put_clf_time(wbuf *w, int64_t us)
{
    civil c = civil_from_s(us / 1000000);
    put_dec(w, c.d, 2);
    put_ch(w, '/');
    put_str(w, month_abbr[c.mo - 1]);
    put_ch(w, '/');
    put_dec(w, (uint64_t)c.y, 4);
    put_ch(w, ':');
    put_dec(w, c.h, 2);
    put_ch(w, ':');
    put_dec(w, c.mi, 2);
    put_ch(w, ':');
    put_dec(w, c.s, 2);
    put_str(w, " +0000");
}

/* "2025-11-20T23:30:24.123Z": a CloudWatch export's millisecond stamp. */
static void put_iso_ms(wbuf *w, int64_t us)
{
    civil c = civil_from_s(us / 1000000);
    put_dec(w, (uint64_t)c.y, 4);
    put_ch(w, '-');
    put_dec(w, c.mo, 2);
    put_ch(w, '-');
    put_dec(w, c.d, 2);
    put_ch(w, 'T');
    put_dec(w, c.h, 2);
    put_ch(w, ':');
    put_dec(w, c.mi, 2);
    put_ch(w, ':');
    put_dec(w, c.s, 2);
    put_ch(w, '.');
    put_dec(w, (uint64_t)(us % 1000000) / 1000, 3);
    put_ch(w, 'Z');
}

/* A version-4 UUID, lowercase. */
static void put_uuid(wbuf *w, rng *r)
{
    uint64_t a = rng_next(r), b = rng_next(r);
    put_hex(w, a >> 32, 8, false);
    put_ch(w, '-');
    put_hex(w, a >> 16, 4, false);
    put_str(w, "-4");
    put_hex(w, a, 3, false);
    put_ch(w, '-');
    put_hex(w, 0x8 | (b >> 62), 1, false);
    put_hex(w, b >> 48, 3, false);
    put_ch(w, '-');
    put_hex(w, b, 12, false);
}

/* Microseconds as milliseconds with two decimals: "15.74". */
static void put_ms2(wbuf *w, int64_t us)
{
    put_dec(w, (uint64_t)us / 1000, 1);
    put_ch(w, '.');
    put_dec(w, (uint64_t)us % 1000 / 10, 2);
}

/* An x-edge-request-id: 54 characters of the URL-safe base64 alphabet and
 * "==", 56 in all, as CloudFront writes them. */
static void make_cf_id(rng *r, char out[57])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < 54; i++)
        out[i] = b64[rng_below(r, 64)];
    out[54] = out[55] = '=';
    out[56] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* An ALB-escaped field (\xHH, \x000000HH) as CloudFront URL-encodes the
 * same bytes: blanks, controls, non-ASCII and a few specials as %HH. */
static void put_url_from_alb(wbuf *w, const char *s)
{
    for (const char *p = s; *p;) {
        unsigned char b = (unsigned char)*p++;
        if (b == '\\' && p[0] == 'x') {
            size_t n = strncmp(p + 1, "000000", 6) == 0 && hexval(p[7]) >= 0 && hexval(p[8]) >= 0
                           ? 8
                           : 2;
            int hi = hexval(p[n - 1]), lo = hexval(p[n]);
            if (hi >= 0 && lo >= 0) {
                b = (unsigned char)(hi * 16 + lo);
                p += n + 1;
            }
        }
        if (b <= 0x20 || b >= 0x7F || strchr("\"\\%<>`{}|^#", b)) {
            put_ch(w, '%');
            put_hex(w, b, 2, true);
        } else {
            put_ch(w, (char)b);
        }
    }
}

static void put_public_ip(wbuf *w, rng *r)
{
    static const int first[] = {3, 18, 24, 52, 54, 81, 91, 109, 176, 185, 203};
    int a = PICK(r, first);
    unsigned b = rng_below(r, 256);
    unsigned c = rng_below(r, 256);
    unsigned d = (unsigned)rng_range(r, 1, 254);
    put_int(w, a);
    put_ch(w, '.');
    put_dec(w, b, 1);
    put_ch(w, '.');
    put_dec(w, c, 1);
    put_ch(w, '.');
    put_dec(w, d, 1);
}

/* ------------------------------------------------------------------------ */
/* ALB connection logs.                                                      */

typedef struct conn_in {
    int lb, node;
    int64_t first_request_us; /* the connection opened a little before */
    char ip[48];
    int port;
    bool tls;
    const char *protocol, *cipher;
    uint64_t tid_hi, tid_lo;
} conn_in;

static void put_conn_fields(fmt_ctx *x, wbuf *w, const conn_in *c, int64_t *at_us)
{
    rng *r = &x->r;
    const lb_info *lb = &x->lbs[c->lb];
    bool newer = rng_chance(r, 0.85);
    int64_t hs_ms = c->tls ? (lb->internal ? rng_range(r, 1, 10) : rng_range(r, 4, 120)) : -1;
    bool mtls = c->tls && lb->internal && rng_chance(r, 0.6);
    uint64_t serial = rng_next(r);
    uint32_t client_no = rng_below(r, 40);
    const char *kx = PICK(r, ((const char *const[]){"x25519", "secp256r1", "x25519"}));
    *at_us = c->first_request_us - (hs_ms > 0 ? hs_ms * 1000 : 0) - rng_range(r, 200, 300000);
    put_time(w, *at_us);
    put_ch(w, ' ');
    put_str(w, c->ip);
    put_ch(w, ' ');
    put_int(w, c->port);
    put_str(w, c->tls ? " 443 " : " 80 ");
    put_str(w, c->tls ? c->protocol : "-");
    put_ch(w, ' ');
    put_str(w, c->tls ? c->cipher : "-");
    put_ch(w, ' ');
    if (hs_ms >= 0)
        put_ms3(w, hs_ms);
    else
        put_ch(w, '-');
    if (mtls) {
        put_str(w, " \"CN=client-");
        put_dec(w, client_no, 2);
        put_str(w, ".internal.example.com,O=Example Corp,L=Seattle,ST=Washington,C=US\" "
                   "NotBefore=2025-06-01T00:00:00Z;NotAfter=2026-06-01T00:00:00Z ");
        put_hex(w, serial, 16, true);
    } else {
        put_str(w, " \"-\" - -");
    }
    put_str(w, " Success TID_");
    put_hex(w, c->tid_hi, 16, false);
    put_hex(w, c->tid_lo, 16, false);
    if (newer) {
        put_ch(w, ' ');
        put_str(w, c->tls ? kx : "-");
        put_str(w, " app/");
        put_str(w, lb->name);
        put_ch(w, '/');
        put_str(w, lb->id);
        put_ch(w, ' ');
        put_str(w, lb->node_ip[c->node]);
    }
    put_ch(w, '\n');
}

static int conn_line(fmt_ctx *x, const conn_in *c)
{
    wbuf w = line_start(x);
    int64_t at_us;
    put_conn_fields(x, &w, c, &at_us);
    const lb_info *lb = &x->lbs[c->lb];
    int64_t s = at_us / 1000000;
    int64_t end_s = s - s % 300 + 300;
    civil e = civil_from_s(end_s);
    char rnd[9];
    name_rnd(rnd, x->cfg->seed, 0x636F6E6E5F6C6F67ull, end_s,
             (uint64_t)c->lb << 1 | (uint64_t)c->node);
    char path[1400];
    snprintf(path, sizeof path,
             "%s/AWSLogs/" GEN_ACCOUNT "/elasticloadbalancing/" GEN_REGION
             "/%04d/%02u/%02u/conn_log_" GEN_ACCOUNT "_elasticloadbalancing_" GEN_REGION
             "_app.%s.%s_%04d%02u%02uT%02u%02uZ_%s_%s.log",
             x->cfg->out_dir, e.y, e.mo, e.d, lb->name, lb->id, e.y, e.mo, e.d, e.h, e.mi,
             lb->node_ip[c->node], rnd);
    return write_to(x, K_CONN, path, end_s * 1000000 + FMT_LATE_US, &w);
}

/* The connection of an access line, and now and then one that sent no
 * request at all (a scanner, a client that gave up after the handshake). */
static int conn_of(fmt_ctx *x, const line_spec *s)
{
    conn_in c;
    memset(&c, 0, sizeof c);
    c.lb = s->lb;
    c.node = s->node;
    c.first_request_us = s->created_us;
    split_client(s->client, c.ip, sizeof c.ip, &c.port);
    c.tls = s->tls;
    c.protocol = s->protocol;
    c.cipher = s->cipher;
    c.tid_hi = s->tid_hi;
    c.tid_lo = s->tid_lo;
    if (conn_line(x, &c) != 0)
        return -1;
    if (!rng_chance(&x->r, 0.03))
        return 0;
    wbuf ipw = {c.ip, c.ip + sizeof c.ip - 1, false};
    if (x->lbs[s->lb].internal) {
        put_str(&ipw, "10.");
        put_dec(&ipw, x->lbs[s->lb].net_b, 1);
        put_str(&ipw, ".");
        put_dec(&ipw, rng_below(&x->r, 256), 1);
        put_str(&ipw, ".");
        put_dec(&ipw, (uint64_t)rng_range(&x->r, 4, 250), 1);
    } else {
        put_public_ip(&ipw, &x->r);
    }
    *ipw.p = '\0';
    c.port = (int)rng_range(&x->r, 1024, 65535);
    c.first_request_us = s->created_us + rng_range(&x->r, 0, 2000000);
    c.tid_hi = rng_next(&x->r);
    c.tid_lo = rng_next(&x->r);
    return conn_line(x, &c);
}

/* ------------------------------------------------------------------------ */
/* nginx access logs of the targets.                                         */

typedef struct nginx_rec {
    int lb;
    const char *remote;
    int64_t at_us;
    const char *method, *path, *proto;
    int status;
    uint64_t bytes;
    const char *ua, *trace, *cf_id; /* "-" when absent */
} nginx_rec;

/* log_format combined plus "$http_x_amzn_trace_id"; the web tier (behind
 * the internet-facing LB) logs "$http_x_amz_cf_id" too. */
static int nginx_write(fmt_ctx *x, const nginx_rec *n, bool event, bool malformed)
{
    wbuf w = line_start(x);
    put_str(&w, n->remote);
    put_str(&w, " - - [");
    put_clf_time(&w, n->at_us);
    put_str(&w, "] \"");
    put_str(&w, n->method);
    put_ch(&w, ' ');
    put_str(&w, n->path);
    put_ch(&w, ' ');
    put_str(&w, n->proto);
    put_str(&w, "\" ");
    put_int(&w, n->status);
    put_ch(&w, ' ');
    put_dec(&w, n->bytes, 1);
    put_str(&w, " \"-\" \"");
    put_str(&w, n->ua);
    put_str(&w, "\" \"");
    put_str(&w, n->trace);
    put_ch(&w, '"');
    if (!x->lbs[n->lb].internal) {
        put_str(&w, " \"");
        put_str(&w, n->cf_id);
        put_ch(&w, '"');
    }
    put_ch(&w, '\n');
    char path[1200];
    snprintf(path, sizeof path, "%s/app/%s/access.log", x->cfg->out_dir, x->lbs[n->lb].svc);
    if (write_to(x, K_NGINX, path, INT64_MAX, &w) != 0)
        return -1;
    if (selected(x, K_NGINX)) {
        x->k[K_NGINX].events += event;
        x->k[K_NGINX].malformed += malformed;
    }
    return 0;
}

static uint64_t body_bytes(rng *r, int status, uint64_t tx)
{
    if (status == 101 || status == 204 || status == 304 || status == 499)
        return 0;
    return tx > 600 ? tx - (uint64_t)rng_range(r, 180, 380) : tx / 2;
}

/* The target's line of one traced hop. Returns 1 when a line with the
 * trace's Root was written, 0 when none, -1 on error. */
static int nginx_hop(fmt_ctx *x, const line_spec *s, int depth, const char *cf_id)
{
    rng *r = &x->r;
    if (!rng_chance(r, 0.7) || strcmp(s->target, "-") == 0 || strstr(s->ua, "Root="))
        return 0;
    /* The header ALB forwards: a request that brought one gets Self in
     * front; the first hop's header is the one ALB created. */
    char header[256];
    wbuf hw = {header, header + sizeof header - 1, false};
    if (depth > 0 && strncmp(s->header, "Self=", 5) != 0) {
        put_str(&hw, "Self=");
        put_root(&hw, random_root(r, (uint32_t)(s->created_us / 1000000)), false);
        put_ch(&hw, ';');
    }
    put_str(&hw, s->header);
    *hw.p = '\0';
    req_parts rq;
    split_request(s->request, &rq);
    nginx_rec n;
    n.lb = s->lb;
    n.remote = x->lbs[s->lb].node_ip[s->node];
    n.status = s->target_status ? s->target_status : 499; /* ALB gave up on it */
    n.at_us = s->target_status ? s->time_us - (s->resp_ms > 0 ? s->resp_ms * 1000 : 0) : s->time_us;
    n.method = rq.method;
    n.path = rq.path;
    n.proto = s->type == T_GRPCS ? "HTTP/2.0" : "HTTP/1.1";
    n.bytes = body_bytes(r, n.status, s->tx);
    n.ua = s->ua;
    n.trace = header;
    n.cf_id = cf_id ? cf_id : "-";
    if (nginx_write(x, &n, true, false) != 0)
        return -1;
    return selected(x, K_NGINX) ? 1 : 0;
}

static int nginx_health(fmt_ctx *x, const line_spec *s)
{
    if (!rng_chance(&x->r, 0.7))
        return 0;
    nginx_rec n;
    n.lb = s->lb;
    n.remote = x->lbs[s->lb].node_ip[s->node];
    n.at_us = s->time_us;
    n.method = "GET";
    n.path = "/health";
    n.proto = "HTTP/1.1";
    n.status = s->target_status;
    n.bytes = (uint64_t)rng_range(&x->r, 2, 40);
    n.ua = s->ua;
    n.trace = n.cf_id = "-";
    return nginx_write(x, &n, false, false);
}

/* A header with "Root=" and no valid Root (formats/xray-header-cases.tsv). */
static void bad_header(rng *r, wbuf *w, int64_t t_us)
{
    root_id id = random_root(r, (uint32_t)(t_us / 1000000));
    char good[40];
    wbuf gw = {good, good + sizeof good - 1, false};
    put_root(&gw, id, false);
    *gw.p = '\0';
    switch (rng_below(r, 6)) {
    case 0:
        put_str(w, "Root=1-00000000-000000000000000000000000");
        break;
    case 1: /* a non-hex digit */
        good[11 + rng_below(r, 24)] = (char)('g' + rng_below(r, 20));
        put_str(w, "Root=");
        put_str(w, good);
        break;
    case 2: /* 26 id digits */
        put_str(w, "Root=");
        put_str(w, good);
        put_str(w, "00;Parent=");
        put_hex(w, rng_next(r), 16, false);
        put_str(w, ";Sampled=0");
        break;
    case 3: /* version 2 */
        good[0] = '2';
        put_str(w, "Root=");
        put_str(w, good);
        put_str(w, ";Sampled=1");
        break;
    case 4: /* 7 epoch digits */
        put_str(w, "Root=1-");
        put_mem(w, good + 3, 32);
        break;
    default: /* empty */
        put_str(w, "Self=");
        put_str(w, good);
        put_str(w, ";Root=");
        break;
    }
}

/* Lines of no trace: a metrics scrape, and a direct call with a broken
 * header (a service calling another one around the load balancer). */
static int nginx_noise(fmt_ctx *x, int64_t t_us, int64_t gap_us)
{
    rng *r = &x->r;
    if (rng_chance(r, 0.03)) {
        nginx_rec n;
        n.lb = (int)rng_below(r, (uint32_t)x->cfg->lbs);
        n.remote = "127.0.0.1";
        n.at_us = t_us + rng_range(r, 0, gap_us);
        n.method = "GET";
        n.path = "/metrics";
        n.proto = "HTTP/1.1";
        n.status = 200;
        n.bytes = (uint64_t)rng_range(r, 4000, 9000);
        n.ua = "Prometheus/2.53.0";
        n.trace = n.cf_id = "-";
        if (nginx_write(x, &n, false, false) != 0)
            return -1;
    }
    if (!rng_chance(r, 0.01))
        return 0;
    /* One draw per statement: the order in which a call's arguments or an
     * initializer's values are evaluated is unspecified, and the bytes must
     * not depend on the compiler. */
    int lb = (int)rng_below(r, (uint32_t)x->cfg->lbs);
    int64_t at = t_us + rng_range(r, 0, gap_us);
    unsigned b = (unsigned)rng_range(r, 1, 60);
    unsigned c = rng_below(r, 256);
    unsigned d = (unsigned)rng_range(r, 4, 250);
    char remote[24], header[160], path[96];
    snprintf(remote, sizeof remote, "10.%u.%u.%u", b, c, d);
    wbuf hw = {header, header + sizeof header - 1, false};
    bad_header(r, &hw, at);
    *hw.p = '\0';
    snprintf(path, sizeof path, "/internal/%s/batch", x->lbs[lb].svc);
    nginx_rec n;
    n.lb = lb;
    n.remote = remote;
    n.at_us = at;
    n.method = "POST";
    n.path = path;
    n.proto = "HTTP/1.1";
    n.status = 200;
    n.bytes = (uint64_t)rng_range(r, 20, 400);
    n.ua = "python-requests/2.32.3";
    n.trace = header;
    n.cf_id = "-";
    return nginx_write(x, &n, false, true);
}

/* ------------------------------------------------------------------------ */
/* CloudFront.                                                               */

enum {
    CF_DATE,
    CF_TIME,
    CF_EDGE,
    CF_SC_BYTES,
    CF_C_IP,
    CF_METHOD,
    CF_HOST,
    CF_STEM,
    CF_STATUS,
    CF_REFERER,
    CF_UA,
    CF_QUERY,
    CF_COOKIE,
    CF_RESULT,
    CF_REQUEST_ID,
    CF_X_HOST,
    CF_PROTOCOL,
    CF_CS_BYTES,
    CF_TIME_TAKEN,
    CF_XFF,
    CF_SSL_PROTOCOL,
    CF_SSL_CIPHER,
    CF_RESPONSE_RESULT,
    CF_PROTOCOL_VERSION,
    CF_FLE_STATUS,
    CF_FLE_FIELDS,
    CF_C_PORT,
    CF_TTFB,
    CF_DETAILED_RESULT,
    CF_CONTENT_TYPE,
    CF_CONTENT_LEN,
    CF_RANGE_START,
    CF_RANGE_END,
    CF_NCOLS
};

static const char *const cf_col_names[CF_NCOLS] = {
    "date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)",
    "cs-uri-stem", "sc-status", "cs(Referer)", "cs(User-Agent)", "cs-uri-query", "cs(Cookie)",
    "x-edge-result-type", "x-edge-request-id", "x-host-header", "cs-protocol", "cs-bytes",
    "time-taken", "x-forwarded-for", "ssl-protocol", "ssl-cipher", "x-edge-response-result-type",
    "cs-protocol-version", "fle-status", "fle-encrypted-fields", "c-port", "time-to-first-byte",
    "x-edge-detailed-result-type", "sc-content-type", "sc-content-len", "sc-range-start",
    "sc-range-end"};

/* The second order (FMT_CF_SWITCH): the same columns, ids and timings first. */
static const unsigned char cf_alt_order[CF_NCOLS] = {
    CF_DATE,          CF_TIME,            CF_REQUEST_ID,   CF_RESULT,          CF_TIME_TAKEN,
    CF_TTFB,          CF_EDGE,            CF_C_IP,         CF_C_PORT,          CF_METHOD,
    CF_HOST,          CF_X_HOST,          CF_STEM,         CF_QUERY,           CF_STATUS,
    CF_SC_BYTES,      CF_CS_BYTES,        CF_UA,           CF_REFERER,         CF_COOKIE,
    CF_PROTOCOL,      CF_PROTOCOL_VERSION, CF_SSL_PROTOCOL, CF_SSL_CIPHER,     CF_XFF,
    CF_RESPONSE_RESULT, CF_DETAILED_RESULT, CF_CONTENT_TYPE, CF_CONTENT_LEN,   CF_RANGE_START,
    CF_RANGE_END,     CF_FLE_STATUS,      CF_FLE_FIELDS};

static const char *const cf_edges[] = {"IAD89-C1", "IAD12-P2", "FRA56-P3", "LHR61-P1",
                                       "CDG50-C1", "NRT57-P2", "SEA19-C2", "GRU1-C1"};

/* One record's values, rendered before its file is known: every random
 * draw happens here, whether CloudFront is written or not. */
typedef struct cf_rec {
    int64_t at_us;
    char v[CF_NCOLS][64]; /* the short values; the request id is the longest, 56 */
    const char *ua;       /* URL-encoded, or NULL for "-" */
    char ua_buf[1200];
    char stem[232], query[232];
} cf_rec;

static void cf_set(cf_rec *c, int col, const char *s)
{
    str_copy(c->v[col], sizeof c->v[col], s);
}

static void cf_set_num(cf_rec *c, int col, uint64_t n)
{
    snprintf(c->v[col], sizeof c->v[col], "%" PRIu64, n);
}

/* Seconds with three decimals, rounded up, at least 0.001. */
static void cf_set_secs(cf_rec *c, int col, int64_t us)
{
    int64_t ms = us > 0 ? (us + 999) / 1000 : 1;
    snprintf(c->v[col], sizeof c->v[col], "%" PRId64 ".%03" PRId64, ms / 1000, ms % 1000);
}

static void cf_common(cf_rec *c, int64_t at_us, const char *edge)
{
    civil t = civil_from_s(at_us / 1000000);
    c->at_us = at_us;
    snprintf(c->v[CF_DATE], sizeof c->v[CF_DATE], "%04d-%02u-%02u", t.y, t.mo, t.d);
    snprintf(c->v[CF_TIME], sizeof c->v[CF_TIME], "%02u:%02u:%02u", t.h, t.mi, t.s);
    cf_set(c, CF_EDGE, edge);
    cf_set(c, CF_REFERER, "-");
    cf_set(c, CF_COOKIE, "-");
    cf_set(c, CF_XFF, "-");
    cf_set(c, CF_FLE_STATUS, "-");
    cf_set(c, CF_FLE_FIELDS, "-");
    cf_set(c, CF_RANGE_START, "-");
    cf_set(c, CF_RANGE_END, "-");
}

/* "/path?query" into the URL-encoded stem and query ("-" for none). */
static void cf_split_uri(cf_rec *c, const char *path)
{
    size_t n = strcspn(path, "?");
    snprintf(c->stem, sizeof c->stem, "%.*s", (int)n, path);
    str_copy(c->query, sizeof c->query, path[n] ? path + n + 1 : "-");
}

static void content_type(cf_rec *c)
{
    const char *s = c->stem;
    size_t n = strlen(s);
    const char *t = n > 3 && strcmp(s + n - 3, ".js") == 0     ? "application/javascript"
                    : n > 4 && strcmp(s + n - 4, ".css") == 0  ? "text/css"
                    : n > 4 && strcmp(s + n - 4, ".jpg") == 0  ? "image/jpeg"
                    : n > 4 && strcmp(s + n - 4, ".ico") == 0  ? "image/x-icon"
                    : strcmp(s, "/") == 0                      ? "text/html"
                                                               : "application/json";
    cf_set(c, CF_CONTENT_TYPE, t);
}

/* The Miss record of a trace's internet-facing hop: CloudFront received
 * the request before the ALB created it and answered after the ALB did. */
static void cf_miss(fmt_ctx *x, cf_rec *c, const line_spec *s, const char *cf_id)
{
    rng *r = &x->r;
    int64_t before = rng_range(r, 1000, 15000), after = rng_range(r, 200, 5000);
    cf_common(c, s->time_us + after, PICK(r, cf_edges));
    req_parts rq;
    split_request(s->request, &rq);
    cf_split_uri(c, rq.path);
    char ip[48];
    int port;
    split_client(s->client, ip, sizeof ip, &port);
    uint64_t sc = s->tx + (uint64_t)rng_range(r, 220, 640);
    int64_t taken = s->time_us - s->created_us + before + after;
    cf_set_num(c, CF_SC_BYTES, sc);
    cf_set(c, CF_C_IP, ip);
    cf_set(c, CF_METHOD, rq.method);
    cf_set(c, CF_HOST, x->cf_domain);
    cf_set_num(c, CF_STATUS, (uint64_t)s->elb_status);
    cf_set(c, CF_RESULT, "Miss");
    cf_set(c, CF_REQUEST_ID, cf_id);
    cf_set(c, CF_X_HOST, rq.host);
    cf_set(c, CF_PROTOCOL, s->type == T_HTTP  ? "http"
                           : s->type == T_WS  ? "ws"
                           : s->type == T_WSS ? "wss"
                                              : "https");
    cf_set_num(c, CF_CS_BYTES, s->rx);
    cf_set_secs(c, CF_TIME_TAKEN, taken);
    cf_set(c, CF_SSL_PROTOCOL, s->tls ? "TLSv1.3" : "-");
    cf_set(c, CF_SSL_CIPHER, s->tls ? "TLS_AES_128_GCM_SHA256" : "-");
    cf_set(c, CF_RESPONSE_RESULT, "Miss");
    cf_set(c, CF_PROTOCOL_VERSION, s->type == T_H2 || s->type == T_GRPCS ? "HTTP/2.0" : "HTTP/1.1");
    cf_set_num(c, CF_C_PORT, (uint64_t)port);
    cf_set_secs(c, CF_TTFB, taken - rng_range(r, 0, taken / 4));
    cf_set(c, CF_DETAILED_RESULT, "Miss");
    content_type(c);
    cf_set_num(c, CF_CONTENT_LEN, sc > 400 ? sc - 380 : sc);
    wbuf uw = {c->ua_buf, c->ua_buf + sizeof c->ua_buf - 1, false};
    put_url_from_alb(&uw, s->ua);
    *uw.p = '\0';
    c->ua = strcmp(s->ua, "-") == 0 || uw.over ? NULL : c->ua_buf;
}

static const char *const cf_hit_uas[] = {
    "Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,"
    "%20like%20Gecko)%20Chrome/131.0.0.0%20Safari/537.36",
    "Mozilla/5.0%20(iPhone;%20CPU%20iPhone%20OS%2018_1%20like%20Mac%20OS%20X)%20AppleWebKit/"
    "605.1.15%20(KHTML,%20like%20Gecko)%20Version/18.1%20Mobile/15E148%20Safari/604.1",
    "Mozilla/5.0%20(X11;%20Linux%20x86_64;%20rv:132.0)%20Gecko/20100101%20Firefox/132.0",
};

/* A cache Hit of a static file: CloudFront answered, no origin saw it. */
static void cf_hit(fmt_ctx *x, cf_rec *c, int64_t at_us)
{
    rng *r = &x->r;
    static const char *const paths[] = {"/static/js/app.@.js", "/static/css/main.@.css",
                                        "/favicon.ico", "/images/products/#.jpg"};
    cf_common(c, at_us, PICK(r, cf_edges));
    const char *tpl = PICK(r, paths);
    wbuf sw = {c->stem, c->stem + sizeof c->stem - 1, false};
    for (const char *p = tpl; *p; p++)
        if (*p == '@')
            put_hex(&sw, rng_next(r), 8, false);
        else if (*p == '#')
            put_dec(&sw, (uint64_t)rng_range(r, 1000, 99999), 1);
        else
            put_ch(&sw, *p);
    *sw.p = '\0';
    str_copy(c->query, sizeof c->query, "-");
    wbuf iw = {c->v[CF_C_IP], c->v[CF_C_IP] + sizeof c->v[CF_C_IP] - 1, false};
    put_public_ip(&iw, r);
    *iw.p = '\0';
    char id[57];
    make_cf_id(r, id);
    uint64_t sc = (uint64_t)rng_range(r, 900, 180000);
    int64_t taken = rng_range(r, 300, 4000);
    bool not_modified = rng_chance(r, 0.15);
    cf_set_num(c, CF_SC_BYTES, not_modified ? 310 : sc);
    cf_set(c, CF_METHOD, "GET");
    cf_set(c, CF_HOST, x->cf_domain);
    cf_set(c, CF_STATUS, not_modified ? "304" : "200");
    cf_set(c, CF_RESULT, "Hit");
    cf_set(c, CF_REQUEST_ID, id);
    cf_set(c, CF_X_HOST, "www.example.com");
    cf_set(c, CF_PROTOCOL, "https");
    cf_set_num(c, CF_CS_BYTES, (uint64_t)rng_range(r, 30, 400));
    cf_set_secs(c, CF_TIME_TAKEN, taken);
    cf_set(c, CF_SSL_PROTOCOL, "TLSv1.3");
    cf_set(c, CF_SSL_CIPHER, "TLS_AES_128_GCM_SHA256");
    cf_set(c, CF_RESPONSE_RESULT, "Hit");
    cf_set(c, CF_PROTOCOL_VERSION, rng_chance(r, 0.7) ? "HTTP/2.0" : "HTTP/1.1");
    cf_set_num(c, CF_C_PORT, (uint64_t)rng_range(r, 1024, 65535));
    cf_set_secs(c, CF_TTFB, taken);
    cf_set(c, CF_DETAILED_RESULT, "Hit");
    content_type(c);
    if (not_modified)
        cf_set(c, CF_CONTENT_LEN, "-");
    else
        cf_set_num(c, CF_CONTENT_LEN, sc - 310);
    c->ua = PICK(r, cf_hit_uas);
}

static void put_cf_fields(wbuf *w, bool alt)
{
    put_str(w, "#Fields:");
    for (int i = 0; i < CF_NCOLS; i++) {
        put_ch(w, ' ');
        put_str(w, cf_col_names[alt ? cf_alt_order[i] : i]);
    }
    put_ch(w, '\n');
}

static int cf_write(fmt_ctx *x, const cf_rec *c)
{
    if (!selected(x, K_CF))
        return 0;
    civil t = civil_from_s(c->at_us / 1000000);
    int64_t hour_s = c->at_us / 1000000 - c->at_us / 1000000 % 3600;
    char rnd[9], path[1200];
    name_rnd(rnd, x->cfg->seed, 0x636C6F756466726Full, hour_s, 0);
    snprintf(path, sizeof path, "%s/cloudfront/" FMT_CF_DIST ".%04d-%02u-%02u-%02u.%s.log",
             x->cfg->out_dir, t.y, t.mo, t.d, t.h, rnd);
    ofile *o = file_get(x, K_CF, path, (hour_s + 3600) * 1000000 + FMT_LATE_US);
    if (!o)
        return -1;
    wbuf w = line_start(x);
    if (o->lines == 0) {
        put_str(&w, "#Version: 1.0\n");
        put_cf_fields(&w, false);
    }
    /* A distribution whose log configuration changed within the hour: the
     * decoder must take the columns from the latest #Fields line. */
    if (o->index == 0 && o->lines == 2 + FMT_CF_SWITCH && !o->alt_fields) {
        put_cf_fields(&w, true);
        o->alt_fields = true;
    }
    for (int i = 0; i < CF_NCOLS; i++) {
        int col = o->alt_fields ? cf_alt_order[i] : i;
        if (i)
            put_ch(&w, '\t');
        if (col == CF_UA)
            put_str(&w, c->ua ? c->ua : "-");
        else if (col == CF_STEM)
            put_str(&w, c->stem);
        else if (col == CF_QUERY)
            put_str(&w, c->query);
        else
            put_str(&w, c->v[col]);
    }
    if (o->index % 2 == 1)
        put_ch(&w, '\t'); /* the extra empty column some files carry */
    put_ch(&w, '\n');
    if (w.over) {
        fprintf(stderr, "tg-gen: internal error: a CloudFront record exceeded %d bytes\n",
                FMT_LINE);
        return -1;
    }
    x->cf_records++;
    return file_write(x, o, x->line, (size_t)(w.p - x->line));
}

/* ------------------------------------------------------------------------ */
/* API Gateway and Lambda.                                                   */

typedef struct invocation {
    int fn;
    int64_t start_us, dur_us;
    const root_id *root; /* NULL: not traced */
    int info_lines;
} invocation;

static int lambda_path(fmt_ctx *x, const invocation *v, char *path, size_t cap,
                       int64_t *close_at_us)
{
    civil d = civil_from_s(v->start_us / 1000000);
    int64_t day_s = v->start_us / 1000000 - v->start_us / 1000000 % 86400;
    *close_at_us = (day_s + 86400) * 1000000 + FMT_LATE_US;
    return snprintf(path, cap, "%s/lambda/%s/%04d-%02u-%02u.log", x->cfg->out_dir,
                    fn_names[v->fn], d.y, d.mo, d.d) >= (int)cap
               ? -1
               : 0;
}

static void put_report(fmt_ctx *x, wbuf *w, const invocation *v, const char *rid, bool cold)
{
    rng *r = &x->r;
    const char *sep = rng_chance(r, 0.8) ? "\t" : "  ";
    bool split = v->root && rng_chance(r, 0.3);
    int64_t init_us = rng_range(r, 90000, 420000);
    uint64_t used = (uint64_t)rng_range(r, 48, fn_memory[v->fn] / 2 + 40);
    uint64_t seg = rng_next(r);
    put_iso_ms(w, v->start_us + v->dur_us);
    put_str(w, " REPORT RequestId: ");
    put_str(w, rid);
    put_str(w, sep);
    put_str(w, "Duration: ");
    put_ms2(w, v->dur_us);
    put_str(w, " ms");
    put_str(w, sep);
    put_str(w, "Billed Duration: ");
    put_dec(w, (uint64_t)(v->dur_us + 999) / 1000, 1);
    put_str(w, " ms");
    put_str(w, sep);
    put_str(w, "Memory Size: ");
    put_int(w, fn_memory[v->fn]);
    put_str(w, " MB");
    put_str(w, sep);
    put_str(w, "Max Memory Used: ");
    put_dec(w, used, 1);
    put_str(w, " MB");
    if (cold) {
        put_str(w, sep);
        put_str(w, "Init Duration: ");
        put_ms2(w, init_us);
        put_str(w, " ms");
    }
    if (v->root) {
        /* A split export puts the X-Ray part on a line of its own. */
        put_str(w, split ? "\n" : sep);
        put_str(w, "XRAY TraceId: ");
        put_root(w, *v->root, false);
        put_str(w, sep);
        put_str(w, "SegmentId: ");
        put_hex(w, seg, 16, false);
        put_str(w, sep);
        put_str(w, "Sampled: true");
    }
    put_str(w, sep);
    put_ch(w, '\n');
}

/* '#' becomes a number up to 99999, '%' one up to 9. */
static const char *const fn_messages[FN_COUNT][2] = {
    {"quote requested for sku #", "priced % items"},
    {"sending notification to user #", "notification # queued"},
    {"warming cache partition %", "warmed # keys"},
};

/* START, log lines, END and REPORT of one invocation. Returns 1 when the
 * REPORT carried a trace and was written, 0 when not, -1 on error. */
static int lambda_invoke(fmt_ctx *x, const invocation *v)
{
    rng *r = &x->r;
    char rid[40];
    wbuf rw = {rid, rid + sizeof rid - 1, false};
    put_uuid(&rw, r);
    *rw.p = '\0';
    bool cold = v->start_us > x->warm_until_us[v->fn];
    x->warm_until_us[v->fn] = v->start_us + v->dur_us + rng_range(r, 300, 900) * INT64_C(1000000);
    wbuf w = line_start(x);
    put_iso_ms(&w, v->start_us);
    put_str(&w, " START RequestId: ");
    put_str(&w, rid);
    put_str(&w, " Version: $LATEST\n");
    for (int i = 0; i < v->info_lines; i++) {
        int64_t at = v->start_us + v->dur_us * (i + 1) / (v->info_lines + 1);
        put_iso_ms(&w, at);
        put_ch(&w, ' ');
        put_iso_ms(&w, at);
        put_ch(&w, '\t');
        put_str(&w, rid);
        put_str(&w, "\tINFO\t");
        for (const char *p = fn_messages[v->fn][i]; *p; p++)
            if (*p == '#' || *p == '%')
                put_dec(&w, (uint64_t)rng_range(r, 1, *p == '#' ? 99999 : 9), 1);
            else
                put_ch(&w, *p);
        put_ch(&w, '\n');
    }
    put_iso_ms(&w, v->start_us + v->dur_us);
    put_str(&w, " END RequestId: ");
    put_str(&w, rid);
    put_ch(&w, '\n');
    put_report(x, &w, v, rid, cold);
    char path[1200];
    int64_t close_at;
    if (lambda_path(x, v, path, sizeof path, &close_at) != 0 ||
        write_to(x, K_LAMBDA, path, close_at, &w) != 0)
        return -1;
    if (!v->root || !selected(x, K_LAMBDA))
        return 0;
    x->k[K_LAMBDA].events++;
    return 1;
}

/* The API call a hop's service makes: the API Gateway line and the Lambda
 * invocation behind it, nested in the hop's span. Adds to *app and
 * *lambda the events written. */
static int api_call(fmt_ctx *x, root_id root, const line_spec *s, int *app, int *lambda)
{
    rng *r = &x->r;
    int api = (int)rng_below(r, 2);
    int64_t span = s->time_us - s->created_us;
    int64_t at = s->created_us + span / 4 + rng_range(r, 0, 500);
    invocation v;
    v.fn = api == 0 ? FN_QUOTE : FN_NOTIFY;
    v.start_us = at + rng_range(r, 300, 2000);
    v.dur_us = span / 2 > 1000 ? rng_range(r, span / 4, span / 2) : rng_range(r, 800, 3000);
    v.root = &root;
    v.info_lines = 1 + (int)rng_below(r, 2);
    char ip[24];
    snprintf(ip, sizeof ip, "%.*s", (int)strcspn(s->target, ":"), s->target);
    wbuf w = line_start(x);
    put_str(&w, "{\"requestId\":\"");
    put_uuid(&w, r);
    put_str(&w, "\",\"ip\":\"");
    put_str(&w, ip);
    put_str(&w, "\",\"requestTime\":\"");
    put_clf_time(&w, at);
    static const char *const routes[3] = {
        "\",\"httpMethod\":\"POST\",\"resourcePath\":\"/quotes",
        "\",\"httpMethod\":\"GET\",\"resourcePath\":\"/quotes/{id}",
        "\",\"httpMethod\":\"POST\",\"resourcePath\":\"/notifications",
    };
    put_str(&w, routes[api == 0 ? (rng_chance(r, 0.6) ? 0 : 1) : 2]);
    put_str(&w, "\",\"status\":\"");
    put_str(&w, rng_chance(r, 0.95) ? (api == 0 ? "200" : "202") : "400");
    put_str(&w, "\",\"protocol\":\"HTTP/1.1\",\"responseLength\":\"");
    put_dec(&w, (uint64_t)rng_range(r, 2, 900), 1);
    put_str(&w, "\",\"xrayTraceId\":\"");
    put_root(&w, root, false);
    put_str(&w, "\"}\n");
    char path[1200];
    snprintf(path, sizeof path, "%s/apigw/%s.log", x->cfg->out_dir, x->api_id[api]);
    if (write_to(x, K_APIGW, path, INT64_MAX, &w) != 0)
        return -1;
    if (selected(x, K_APIGW)) {
        x->k[K_APIGW].events++;
        (*app)++;
    }
    int rc = lambda_invoke(x, &v);
    if (rc < 0)
        return -1;
    *lambda += rc;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The interface.                                                            */

fmt_ctx *fmt_open(const settings *cfg, const lb_info *lbs)
{
    fmt_ctx *x = calloc(1, sizeof *x);
    if (!x) {
        fprintf(stderr, "tg-gen: out of memory\n");
        return NULL;
    }
    x->cfg = cfg;
    x->lbs = lbs;
    rng_seed(&x->r, cfg->seed ^ 0x666F726D61747321ull); /* "formats!" */
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    wbuf dw = {x->cf_domain, x->cf_domain + sizeof x->cf_domain - 1, false};
    put_ch(&dw, 'd');
    for (int i = 0; i < 13; i++)
        put_ch(&dw, alnum[rng_below(&x->r, 36)]);
    put_str(&dw, ".cloudfront.net");
    *dw.p = '\0';
    for (int a = 0; a < 2; a++) {
        for (int i = 0; i < 10; i++)
            x->api_id[a][i] = alnum[rng_below(&x->r, 36)];
        x->api_id[a][10] = '\0';
    }
    for (int f = 0; f < FN_COUNT; f++)
        x->warm_until_us[f] = INT64_MIN;
    if (cfg->truth && !(x->rows = tmpfile())) {
        fprintf(stderr, "tg-gen: cannot create a temporary file: %s\n", strerror(errno));
        free(x);
        return NULL;
    }
    return x;
}

int fmt_alb_line(fmt_ctx *x, const line_spec *s)
{
    if (s->nfields >= 30 && conn_of(x, s) != 0)
        return -1;
    if (strcmp(s->header, "-") == 0 && strcmp(s->ua, "ELB-HealthChecker/2.0") == 0)
        return nginx_health(x, s);
    return 0;
}

/* Distinct TIDs among the trace's lines that write one (field 30). */
static int trace_tids(const line_spec *hops, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (hops[i].nfields < 30)
            continue;
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = hops[j].nfields >= 30 && hops[j].tid_hi == hops[i].tid_hi &&
                   hops[j].tid_lo == hops[i].tid_lo;
        k += !seen;
    }
    return k;
}

static int trace_row(fmt_ctx *x, root_id root, int alb, int conn, int cf, int app, int lambda)
{
    if (!x->rows)
        return 0;
    char row[160];
    wbuf w = {row, row + sizeof row, false};
    put_str(&w, "tracefmt\t");
    put_root(&w, root, false);
    int v[5] = {alb, conn, cf, app, lambda};
    for (int i = 0; i < 5; i++) {
        put_ch(&w, '\t');
        put_int(&w, v[i]);
    }
    put_ch(&w, '\n');
    size_t len = (size_t)(w.p - row);
    if (fwrite(row, 1, len, x->rows) != len) {
        fprintf(stderr, "tg-gen: cannot write the truth rows: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

int fmt_trace(fmt_ctx *x, root_id root, const line_spec *hops, const int *depth, int n)
{
    rng *r = &x->r;
    bool via_cf = rng_chance(r, 0.6);
    char cf_id[57];
    make_cf_id(r, cf_id);
    int app = 0, lambda = 0, cf_joined = 0;
    for (int i = 0; i < n; i++) {
        int rc = nginx_hop(x, &hops[i], depth[i], depth[i] == 0 && via_cf ? cf_id : NULL);
        if (rc < 0)
            return -1;
        app += rc;
        if (rc == 1 && depth[i] == 0 && via_cf)
            cf_joined = selected(x, K_CF);
    }
    if (via_cf) {
        cf_rec c;
        memset(&c, 0, sizeof c);
        cf_miss(x, &c, &hops[0], cf_id);
        if (cf_write(x, &c) != 0)
            return -1;
    }
    /* The deepest hop whose service ran calls the API. */
    if (rng_chance(r, 0.15)) {
        int k = n - 1;
        while (k >= 0 && (hops[k].target_status == 0 || hops[k].elb_status == 460))
            k--;
        if (k >= 0 && api_call(x, root, &hops[k], &app, &lambda) != 0)
            return -1;
    }
    int conn = selected(x, K_CONN) ? trace_tids(hops, n) : 0;
    x->joined_conn += (uint64_t)conn;
    x->joined_cf += (uint64_t)cf_joined;
    x->k[K_CONN].events += (uint64_t)conn;
    x->k[K_CF].events += (uint64_t)cf_joined;
    return trace_row(x, root, n, conn, cf_joined, app, lambda);
}

int fmt_between(fmt_ctx *x, int64_t t_us, int64_t gap_us)
{
    rng *r = &x->r;
    /* About 10% of all records: 0.6 Miss per trace, so 0.067 Hits. */
    if (rng_chance(r, 0.067)) {
        cf_rec c;
        memset(&c, 0, sizeof c);
        cf_hit(x, &c, t_us + rng_range(r, 0, gap_us));
        if (cf_write(x, &c) != 0)
            return -1;
    }
    if (nginx_noise(x, t_us, gap_us) != 0)
        return -1;
    if (rng_chance(r, 0.02)) {
        invocation v;
        v.fn = FN_CRON;
        v.start_us = t_us + rng_range(r, 0, gap_us);
        v.dur_us = rng_range(r, 20000, 900000);
        v.root = NULL;
        v.info_lines = 2;
        if (lambda_invoke(x, &v) < 0)
            return -1;
    }
    return 0;
}

int fmt_advance(fmt_ctx *x, int64_t clock_us)
{
    int rc = 0;
    for (size_t i = 0; i < x->nfiles;)
        if (x->files[i].close_at_us < clock_us)
            rc |= file_close(x, i); /* moves the last entry to i */
        else
            i++;
    return rc;
}

int fmt_finish(fmt_ctx *x)
{
    int rc = 0;
    while (x->nfiles)
        rc |= file_close(x, x->nfiles - 1);
    return rc;
}

static void key_format(FILE *f, const char *name, uint64_t lines, uint64_t events,
                       uint64_t malformed)
{
    fprintf(f, "format\t%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n", name, lines, events,
            malformed);
}

int fmt_truth_keys(fmt_ctx *x, FILE *f, uint64_t alb_lines, uint64_t alb_events,
                   uint64_t alb_malformed)
{
    const kind_count *k = x->k;
    key_format(f, "alb", alb_lines, alb_events, alb_malformed);
    if (selected(x, K_CONN))
        key_format(f, "alb-conn", k[K_CONN].lines, k[K_CONN].events, 0);
    if (selected(x, K_CF))
        key_format(f, "cloudfront", k[K_CF].lines, k[K_CF].events, 0);
    if (selected(x, K_NGINX) || selected(x, K_APIGW))
        key_format(f, "app", k[K_NGINX].lines + k[K_APIGW].lines,
                   k[K_NGINX].events + k[K_APIGW].events, k[K_NGINX].malformed);
    if (selected(x, K_LAMBDA))
        key_format(f, "lambda", k[K_LAMBDA].lines, k[K_LAMBDA].events, 0);
    fprintf(f, "joined.alb-conn\t%" PRIu64 "\n", x->joined_conn);
    fprintf(f, "joined.cloudfront\t%" PRIu64 "\n", x->joined_cf);
    fprintf(f, "cloudfront.unmatched\t%" PRIu64 "\n", x->cf_records - x->joined_cf);
    return ferror(f) ? -1 : 0;
}

int fmt_truth_rows(fmt_ctx *x, FILE *f)
{
    if (!x->rows)
        return 0;
    rewind(x->rows);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, x->rows)) > 0)
        if (fwrite(buf, 1, n, f) != n)
            return -1;
    return ferror(x->rows) || ferror(f) ? -1 : 0;
}

void fmt_totals(const fmt_ctx *x, uint64_t *lines, uint64_t *files)
{
    *lines = 0;
    for (int i = 0; i < K_COUNT; i++)
        *lines += x->k[i].lines;
    *files = x->files_made;
}

void fmt_free(fmt_ctx *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->nfiles; i++) {
        fclose(x->files[i].f);
        free(x->files[i].path);
    }
    free(x->files);
    if (x->rows)
        fclose(x->rows);
    free(x);
}
