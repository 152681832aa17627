/*
 * tg-gen: a deterministic generator of AWS ALB access logs for tracegrep's
 * benchmarks and end-to-end tests.
 *
 * It simulates a small service landscape: one internet-facing load balancer
 * (LB 1) in front of a web tier and a few internal load balancers in front of
 * back-end services. Every trace starts at LB 1 and may cross one or two
 * internal LBs, each hop nested in time inside the hop that called it. Around
 * the traces it writes what real archives also hold: health checks and other
 * requests without a trace header, malformed headers, and decoys (a trace id
 * in a user agent or URL, never in field 18).
 *
 * With --out and --formats it also writes the other log kinds of the same
 * incident beside the ALB logs (tg-gen-formats.c; see tg-gen.h).
 *
 * With --truth it also writes the ground truth: the counts and the per-trace
 * summary tracegrep must reproduce. The truth is taken from what was
 * generated, never from re-parsing the output, so that a parsing bug cannot
 * hide in both the tool and its reference.
 *
 * The output is a pure function of the options: one xoshiro256** stream
 * seeded through splitmix64 drives every ALB line, and the other log kinds
 * draw from a second stream of their own, so that --formats never changes
 * the ALB bytes; no clock and no rand() are read. Lines pass through a small
 * reorder heap (ALB writes lines by response time with some jitter), so
 * memory is bounded by the traffic rate and never grows with the output
 * size.
 *
 * libc only: C11 plus POSIX mkdir() for --out.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tg-gen.h"

/* One rendered line never reaches 1.5 KiB (the longest user agent, request
 * and header are bounded below); a fixed slot keeps the pool allocation-free
 * after warm-up. render_line() checks the bound anyway. */
#define GEN_SLOT 2048
/* ALB delivers one file per node every 5 minutes. */
#define GEN_INTERVAL_S 300
/* How late after its response time a line may be written: this is what makes
 * files "roughly but not strictly" ordered by time. */
#define GEN_JITTER_US 2000000
/* A chain of up to 3 hops plus one retried attempt. */
#define GEN_MAX_EVENTS 4
/* The reorder heap holds about rate * (jitter + the longest trace) lines;
 * capping the rate caps memory (about 10 KiB per trace/s, 100 MiB at most). */
#define GEN_MAX_RATE 10000.0

/* ------------------------------------------------------------------------ */
/* Random numbers: xoshiro256** seeded with splitmix64.                      */

uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* A number in [0, n), n > 0, by multiply-shift (Lemire); the bias is far
 * below anything a test could notice. */
uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* A number in [lo, hi]. */
int64_t rng_range(rng *r, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)(hi - lo) + 1;
    return lo + (int64_t)(span ? rng_next(r) % span : rng_next(r));
}

double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

bool rng_chance(rng *r, double p)
{
    return rng_unit(r) < p;
}

/* ------------------------------------------------------------------------ */
/* A bounded writer into a line slot.                                        */

void put_mem(wbuf *w, const char *s, size_t n)
{
    if (w->over || n > (size_t)(w->end - w->p)) {
        w->over = true;
        return;
    }
    memcpy(w->p, s, n);
    w->p += n;
}

void put_str(wbuf *w, const char *s)
{
    put_mem(w, s, strlen(s));
}

void put_ch(wbuf *w, char c)
{
    put_mem(w, &c, 1);
}

/* Decimal, at least `width` digits (zero padded). */
void put_dec(wbuf *w, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width && n < (int)sizeof tmp)
        tmp[sizeof tmp - 1 - n++] = '0';
    put_mem(w, tmp + sizeof tmp - n, (size_t)n);
}

void put_int(wbuf *w, int64_t v)
{
    if (v < 0) {
        put_ch(w, '-');
        put_dec(w, (uint64_t)-v, 1);
    } else {
        put_dec(w, (uint64_t)v, 1);
    }
}

/* The low `digits` nibbles of v, most significant first. */
void put_hex(wbuf *w, uint64_t v, int digits, bool upper)
{
    const char *xd = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[16];
    for (int i = digits - 1; i >= 0; i--) {
        tmp[i] = xd[v & 15];
        v >>= 4;
    }
    put_mem(w, tmp, (size_t)digits);
}

/* A processing time held in milliseconds, printed in seconds with three
 * decimals as ALB does; -1 (never reached a target, or timed out) stays -1. */
void put_ms3(wbuf *w, int64_t ms)
{
    if (ms < 0) {
        put_str(w, "-1");
        return;
    }
    put_dec(w, (uint64_t)ms / 1000, 1);
    put_ch(w, '.');
    put_dec(w, (uint64_t)ms % 1000, 3);
}

/* Howard Hinnant's civil_from_days: no time zone database, no gmtime(). */
civil civil_from_s(int64_t secs)
{
    int64_t z = (secs >= 0 ? secs : secs - 86399) / 86400;
    int64_t sod = secs - z * 86400;
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    civil c;
    c.d = doy - (153 * mp + 2) / 5 + 1;
    c.mo = mp < 10 ? mp + 3 : mp - 9;
    c.y = (int)((int64_t)yoe + era * 400 + (c.mo <= 2));
    c.h = (unsigned)(sod / 3600);
    c.mi = (unsigned)(sod / 60 % 60);
    c.s = (unsigned)(sod % 60);
    return c;
}

/* "2018-07-02T22:23:00.186641Z" */
void put_time(wbuf *w, int64_t us)
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
    put_dec(w, (uint64_t)(us % 1000000), 6);
    put_ch(w, 'Z');
}

/* ------------------------------------------------------------------------ */
/* Settings and the service landscape.                                       */

static const char *const internal_svcs[] = {"orders",   "payments", "inventory", "users",
                                            "shipping", "search",   "pricing"};

static void fmt_hex_id(char *out, rng *r, int digits)
{
    wbuf w = {out, out + digits, false};
    put_hex(&w, rng_next(r), digits, false);
    out[digits] = '\0';
}

static void landscape_build(lb_info *lbs, int n, uint64_t seed)
{
    /* A stream of its own, so that the landscape does not shift the traffic. */
    rng r;
    rng_seed(&r, seed ^ 0x6C616E6473636170ull);
    static const int ports[] = {8080, 8443, 3000, 9000, 80};
    for (int i = 0; i < n; i++) {
        lb_info *lb = &lbs[i];
        memset(lb, 0, sizeof *lb);
        lb->internal = i > 0;
        if (i == 0)
            snprintf(lb->svc, sizeof lb->svc, "web");
        else if (i - 1 < (int)(sizeof internal_svcs / sizeof internal_svcs[0]))
            snprintf(lb->svc, sizeof lb->svc, "%s", internal_svcs[i - 1]);
        else
            snprintf(lb->svc, sizeof lb->svc, "svc%d", i);
        if (i == 0)
            snprintf(lb->name, sizeof lb->name, "shop-public");
        else
            snprintf(lb->name, sizeof lb->name, "%s-internal", lb->svc);
        fmt_hex_id(lb->id, &r, 16);
        for (int k = 0; k < 2; k++)
            snprintf(lb->node_ip[k], sizeof lb->node_ip[k], "10.0.%u.%u",
                     (unsigned)(4 * i + 2 * k + 1), (unsigned)rng_range(&r, 10, 250));
        if (i == 0)
            snprintf(lb->domain, sizeof lb->domain, "api.example.com");
        else
            snprintf(lb->domain, sizeof lb->domain, "%s.internal.example.com", lb->svc);
        char tg[17];
        fmt_hex_id(tg, &r, 16);
        snprintf(lb->tg_arn, sizeof lb->tg_arn,
                 "arn:aws:elasticloadbalancing:" GEN_REGION ":" GEN_ACCOUNT ":targetgroup/%s-tg/%s",
                 lb->svc, tg);
        uint64_t u1 = rng_next(&r), u2 = rng_next(&r);
        snprintf(lb->cert_arn, sizeof lb->cert_arn,
                 "arn:aws:acm:" GEN_REGION ":" GEN_ACCOUNT ":certificate/%08" PRIx64 "-%04" PRIx64
                 "-4%03" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
                 u1 >> 32, (u1 >> 16) & 0xFFFF, u1 & 0xFFF, (uint64_t)0x8000 | (u2 >> 48 & 0x3FFF),
                 u2 & (uint64_t)0xFFFFFFFFFFFF);
        lb->net_b = (unsigned)(1 + i);
        lb->net_c = (unsigned)rng_range(&r, 0, 200);
        lb->target_port = i == 0 ? 8080 : PICK(&r, ports);
    }
}

/* ------------------------------------------------------------------------ */
/* Vocabulary. User agents are written as ALB logs them: already escaped.    */

static const char *const ua_public[] = {
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/18.1 Safari/605.1.15"),
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/18.1 Mobile/15E148 Safari/604.1"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.6778.81 Mobile Safari/537.36"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0"),
    "ShopApp/5.12.1 (iPhone; iOS 18.1; Scale/3.00)",
    "ShopApp/5.12.0 (Android 14; SM-S921B)",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "okhttp/4.12.0",
    "PostmanRuntime/7.42.0",
    "-",
};

/* Clients send anything; ALB escapes '"' as \x22, '\' as \x5C and non-ASCII
 * bytes as \xHH (and an 8-digit \x000000HH form has been observed). */
static const char *const ua_escaped[] = {
    "Mozilla/5.0 (compatible; \\x22QuotedBot\\x22/1.2; +https://bot.example.net)",
    "WinHTTP-Client\\x5Cv2 (C:\\x5CProgram Files\\x5CAcme)",
    "ShopApp/5.12.1 \\xE2\\x80\\x94 beta (Android 14)",
    "caf\\xC3\\xA9-client/0.9 (\\xE6\\x97\\xA5\\xE6\\x9C\\xAC)",
    "legacy-agent/1.0 \\x00000022compat\\x00000022",
    "\\x22\\x22",
};

static const char *const ua_internal[] = {
    /* Parenthesized: long literals split over lines are one element each. */
    ("aws-sdk-java/2.29.6 Linux/6.1.112-124.190.amzn2023.x86_64 "
     "OpenJDK_64-Bit_Server_VM/21.0.5+11-LTS "
     "Java/21.0.5 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode#standard"),
    ("Boto3/1.35.66 md/Botocore#1.35.66 ua/2.0 os/linux#6.1.112-124.190.amzn2023.x86_64 "
     "md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython cfg/retry-mode#legacy "
     "Botocore/1.35.66"),
    "aws-sdk-go-v2/1.32.4 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64",
    "Go-http-client/2.0",
    "Go-http-client/1.1",
    "axios/1.7.7",
    "Apache-HttpClient/5.3.1 (Java/21.0.5)",
    "python-requests/2.32.3",
    "ktor-client",
};

static const char *const ua_grpc[] = {"grpc-java-netty/1.68.1", "grpc-go/1.68.0",
                                      "grpc-node-js/1.12.2"};

/* Path templates: '#' becomes a number, '@' 8 hex digits, '$' the service. */
typedef struct route {
    const char *method, *path;
} route;

static const route public_routes[] = {
    {"GET", "/v1/orders/#"},
    {"GET", "/v1/orders?status=open&page=#"},
    {"POST", "/v1/orders"},
    {"GET", "/v1/products/#"},
    {"GET", "/v1/products?category=shoes&page=#"},
    {"GET", "/v1/search?q=winter+boots&page=#"},
    {"GET", "/v1/cart"},
    {"PUT", "/v1/cart/items/#"},
    {"DELETE", "/v1/cart/items/#"},
    {"POST", "/v1/checkout"},
    {"GET", "/v1/users/me"},
    {"PATCH", "/v1/users/me"},
    {"GET", "/static/js/app.@.js"},
    {"GET", "/"},
    {"OPTIONS", "/v1/orders"},
    {"HEAD", "/v1/products/#"},
    {"POST", "/v1/login"},
};

static const route internal_routes[] = {
    {"GET", "/v2/$/#"},         {"GET", "/v2/$?ids=#&limit=50"}, {"GET", "/v2/$/#/status"},
    {"POST", "/v2/$/#/events"}, {"POST", "/internal/$/batch"},   {"PUT", "/v2/$/#"},
    {"DELETE", "/v2/$/#/lock"},
};

static const char *const grpc_methods[] = {"GetItem", "ListItems", "UpdateItem", "Watch"};

static const char *const type_names[] = {"http", "https", "h2", "ws", "wss", "grpcs"};

static enum req_type pick_type(rng *r, bool internal)
{
    uint32_t u = rng_below(r, 1000);
    if (internal)
        return u < 450 ? T_HTTPS : u < 700 ? T_H2 : u < 920 ? T_HTTP : T_GRPCS;
    return u < 520   ? T_HTTPS
           : u < 860 ? T_H2
           : u < 940 ? T_HTTP
           : u < 970 ? T_WSS
           : u < 980 ? T_WS
                     : T_GRPCS;
}

/* ------------------------------------------------------------------------ */
/* One log line before rendering.                                            */

void str_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Renders s as one ALB line with its newline. Returns the length, or 0 when
 * it did not fit in cap (a bug in the vocabulary, caught by the caller). */
static size_t render_line(const lb_info *lbs, const line_spec *s, char *buf, size_t cap)
{
    const lb_info *lb = &lbs[s->lb];
    wbuf w = {buf, buf + cap, false};
    put_str(&w, type_names[s->type]);
    put_ch(&w, ' ');
    put_time(&w, s->time_us);
    put_str(&w, " app/");
    put_str(&w, lb->name);
    put_ch(&w, '/');
    put_str(&w, lb->id);
    put_ch(&w, ' ');
    put_str(&w, s->client);
    put_ch(&w, ' ');
    put_str(&w, s->target);
    put_ch(&w, ' ');
    put_ms3(&w, s->req_ms);
    put_ch(&w, ' ');
    put_ms3(&w, s->tgt_ms);
    put_ch(&w, ' ');
    put_ms3(&w, s->resp_ms);
    put_ch(&w, ' ');
    put_int(&w, s->elb_status);
    put_ch(&w, ' ');
    if (s->target_status)
        put_int(&w, s->target_status);
    else
        put_ch(&w, '-');
    put_ch(&w, ' ');
    put_dec(&w, s->rx, 1);
    put_ch(&w, ' ');
    put_dec(&w, s->tx, 1);
    put_str(&w, " \"");
    put_str(&w, s->request);
    put_str(&w, "\" \"");
    put_str(&w, s->ua);
    put_str(&w, "\" ");
    put_str(&w, s->tls ? s->cipher : "-");
    put_ch(&w, ' ');
    put_str(&w, s->tls ? s->protocol : "-");
    put_ch(&w, ' ');
    put_str(&w, s->has_tg ? lb->tg_arn : "-");
    put_str(&w, " \"");
    put_str(&w, s->header);
    put_ch(&w, '"');
    if (s->nfields >= 20) {
        put_str(&w, " \"");
        put_str(&w, s->has_domain ? lb->domain : "-");
        put_str(&w, "\" \"");
        put_str(&w, s->tls ? lb->cert_arn : "-");
        put_ch(&w, '"');
    }
    if (s->nfields >= 29) {
        put_ch(&w, ' ');
        if (s->rule < 0)
            put_ch(&w, '-');
        else
            put_int(&w, s->rule);
        put_ch(&w, ' ');
        put_time(&w, s->created_us);
        put_str(&w, " \"");
        put_str(&w, s->actions);
        put_str(&w, "\" \"-\" \"");
        put_str(&w, s->error_reason);
        put_str(&w, "\" \"");
        put_str(&w, s->target);
        put_str(&w, "\" \"");
        if (s->target_status)
            put_int(&w, s->target_status);
        else
            put_ch(&w, '-');
        put_str(&w, "\" \"");
        put_str(&w, s->classification);
        put_str(&w, "\" \"");
        put_str(&w, s->class_reason);
        put_ch(&w, '"');
    }
    if (s->nfields >= 30) {
        put_str(&w, " TID_");
        put_hex(&w, s->tid_hi, 16, false);
        put_hex(&w, s->tid_lo, 16, false);
    }
    if (s->nfields >= 33)
        put_str(&w, " \"-\" \"-\" \"-\"");
    if (s->nfields >= 36) {
        put_ch(&w, ' ');
        put_str(&w, lb->node_ip[s->node]);
        put_str(&w, " \"-\" \"-\"");
    }
    put_ch(&w, '\n');
    return w.over ? 0 : (size_t)(w.p - buf);
}

/* ------------------------------------------------------------------------ */
/* The reorder heap: lines wait here until nothing earlier can still come.   */

typedef struct pending {
    int64_t key; /* the moment ALB writes the line: time + jitter */
    uint64_t seq;
    char *text;
    uint32_t len;
    uint16_t lb, node;
} pending;

typedef struct reorder {
    pending *v;
    size_t n, cap;
    char **free_slots; /* line buffers ready for reuse */
    size_t nfree, capfree;
} reorder;

static bool pending_less(const pending *a, const pending *b)
{
    return a->key < b->key || (a->key == b->key && a->seq < b->seq);
}

static char *reorder_slot(reorder *h)
{
    return h->nfree ? h->free_slots[--h->nfree] : malloc(GEN_SLOT);
}

static bool reorder_release(reorder *h, char *slot)
{
    if (h->nfree == h->capfree) {
        size_t cap = h->capfree ? h->capfree * 2 : 1024;
        char **v = realloc(h->free_slots, cap * sizeof *v);
        if (!v) {
            free(slot);
            return false;
        }
        h->free_slots = v;
        h->capfree = cap;
    }
    h->free_slots[h->nfree++] = slot;
    return true;
}

static bool reorder_push(reorder *h, pending p)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 1024;
        pending *v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return false;
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0 && pending_less(&p, &h->v[(i - 1) / 2])) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = p;
    return true;
}

static pending reorder_pop(reorder *h)
{
    pending top = h->v[0];
    pending last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && pending_less(&h->v[c + 1], &h->v[c]))
            c++;
        if (!pending_less(&h->v[c], &last))
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n)
        h->v[i] = last;
    return top;
}

static void reorder_free(reorder *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->v[i].text);
    for (size_t i = 0; i < h->nfree; i++)
        free(h->free_slots[i]);
    free(h->v);
    free(h->free_slots);
}

/* ------------------------------------------------------------------------ */
/* Sinks: one plain file, or the S3 layout ALB writes.                       */

typedef struct node_file {
    FILE *f;
    int64_t interval_end_s;
} node_file;

typedef struct sink {
    const settings *cfg;
    const lb_info *lbs;
    FILE *single;
    node_file *files; /* [lb * 2 + node] for --out */
    uint64_t files_written;
} sink;

int mkdir_p(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0777);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int sink_open_interval(sink *k, int lb, int node, int64_t end_s)
{
    const lb_info *l = &k->lbs[lb];
    civil c = civil_from_s(end_s);
    char dir[1024], path[1400];
    snprintf(dir, sizeof dir,
             "%s/AWSLogs/" GEN_ACCOUNT "/elasticloadbalancing/" GEN_REGION "/%04d/%02u/%02u",
             k->cfg->out_dir, c.y, c.mo, c.d);
    if (mkdir_p(dir) != 0) {
        fprintf(stderr, "tg-gen: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    /* The random part of the name is a pure function of the file's identity,
     * so that it does not depend on the order files are opened in. */
    uint64_t x = k->cfg->seed ^ ((uint64_t)end_s << 20) ^ ((uint64_t)lb << 1) ^ (uint64_t)node;
    uint64_t v = splitmix64(&x);
    char rnd[9];
    for (int i = 0; i < 8; i++, v /= 36)
        rnd[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
    rnd[8] = '\0';
    snprintf(path, sizeof path,
             "%s/" GEN_ACCOUNT "_elasticloadbalancing_" GEN_REGION
             "_app.%s.%s_%04d%02u%02uT%02u%02uZ_%s_%s.log",
             dir, l->name, l->id, c.y, c.mo, c.d, c.h, c.mi, l->node_ip[node], rnd);
    node_file *nf = &k->files[lb * 2 + node];
    nf->f = fopen(path, "wb");
    if (!nf->f) {
        fprintf(stderr, "tg-gen: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    nf->interval_end_s = end_s;
    k->files_written++;
    return 0;
}

static int sink_close_file(node_file *nf)
{
    int rc = 0;
    if (nf->f) {
        if (ferror(nf->f) || fclose(nf->f) != 0)
            rc = -1;
        nf->f = NULL;
    }
    return rc;
}

static int sink_write(sink *k, const pending *p)
{
    FILE *f = k->single;
    if (!f) {
        /* Lines reach the sink in write order (key), so each node's interval
         * only moves forward and one open file per node suffices. */
        int64_t key_s = p->key / 1000000;
        int64_t end_s = key_s - key_s % GEN_INTERVAL_S + GEN_INTERVAL_S;
        node_file *nf = &k->files[p->lb * 2 + p->node];
        if (!nf->f || nf->interval_end_s != end_s) {
            if (sink_close_file(nf) != 0) {
                fprintf(stderr, "tg-gen: write error in --out: %s\n", strerror(errno));
                return -1;
            }
            if (sink_open_interval(k, p->lb, p->node, end_s) != 0)
                return -1;
        }
        f = nf->f;
    }
    if (fwrite(p->text, 1, p->len, f) != p->len) {
        fprintf(stderr, "tg-gen: write error: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static int sink_close(sink *k)
{
    int rc = 0;
    if (k->files)
        for (int i = 0; i < k->cfg->lbs * 2; i++)
            rc |= sink_close_file(&k->files[i]);
    if (k->single) {
        if (ferror(k->single))
            rc = -1;
        if (k->single == stdout ? fflush(stdout) != 0 : fclose(k->single) != 0)
            rc = -1;
    }
    free(k->files);
    if (rc)
        fprintf(stderr, "tg-gen: write error while closing output\n");
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The generator.                                                            */

enum malformed_reason { MAL_NO_ROOT, MAL_BAD_ROOT, MAL_ZERO_ROOT, MAL_COUNT };

typedef struct counts {
    uint64_t lines, bytes, header_lines, events, malformed[MAL_COUNT];
    uint64_t traces, multi_event_traces, traces_5xx;
} counts;

typedef struct gen {
    const settings *cfg;
    rng r;
    lb_info lbs[GEN_MAX_LBS];
    reorder heap;
    sink out;
    FILE *trace_rows; /* truth rows, copied after the header at the end */
    int64_t clock_us;
    uint64_t seq;
    double noise_per_trace[3]; /* expected headerless, malformed, decoy lines */
    root_id recent[16];        /* for decoys that quote a real trace id */
    unsigned nrecent;
    counts c;
    fmt_ctx *fmt; /* the other log kinds; NULL for ALB access logs only */
} gen;

/* Field count of a line: mostly the current 36; some older generations; and
 * for traced lines a few of the oldest (18 or 20, no request_creation_time). */
static int pick_nfields(rng *r, bool traced)
{
    uint32_t u = rng_below(r, 1000);
    if (u < 850)
        return 36;
    if (u < 900)
        return 33;
    if (u < 935)
        return 30;
    if (u < 970 || !traced)
        return 29;
    return u < 985 ? 18 : 20;
}

void put_root(wbuf *w, root_id id, bool upper)
{
    put_str(w, "1-");
    put_hex(w, id.epoch, 8, upper);
    put_ch(w, '-');
    put_hex(w, id.hi, 8, upper);
    put_hex(w, id.lo, 16, upper);
}

root_id random_root(rng *r, uint32_t epoch)
{
    root_id id;
    id.epoch = epoch;
    id.hi = (uint32_t)rng_next(r);
    id.lo = rng_next(r) | 1; /* never the all-zero id */
    return id;
}

static void make_ip(char *out, size_t cap, rng *r, const lb_info *lb, bool with_port, int port)
{
    if (with_port)
        snprintf(out, cap, "10.%u.%u.%u:%d", lb->net_b, lb->net_c, (unsigned)rng_range(r, 4, 250),
                 port);
    else
        snprintf(out, cap, "10.%u.%u.%u", lb->net_b, lb->net_c, (unsigned)rng_range(r, 4, 250));
}

/* A client of the internet-facing LB: public IPv4, or IPv6 written without
 * brackets, the port after the last colon. */
static void make_public_client(char *out, size_t cap, rng *r)
{
    static const int first[] = {3,  5,  24, 31,  37,  46,  62,  73, 81,
                                85, 91, 98, 109, 176, 185, 203, 212};
    int port = (int)rng_range(r, 1024, 65535);
    if (rng_chance(r, 0.12)) {
        uint64_t a = rng_next(r), b = rng_next(r);
        snprintf(out, cap, "2a02:%x:%x:%x:%x:%x:%x:%x:%d", (unsigned)(a & 0xFFFF),
                 (unsigned)(a >> 16 & 0xFFFF), (unsigned)(a >> 32 & 0xF), (unsigned)(b & 0xFFFF),
                 (unsigned)(b >> 16 & 0xFFFF), (unsigned)(b >> 32 & 0xFFFF), (unsigned)(b >> 48),
                 port);
    } else {
        /* One draw per statement: the order in which a call's arguments are
         * evaluated is unspecified, and the bytes must not depend on the compiler. */
        int a = PICK(r, first);
        unsigned b = rng_below(r, 256);
        unsigned c = rng_below(r, 256);
        unsigned d = (unsigned)rng_range(r, 1, 254);
        snprintf(out, cap, "%d.%u.%u.%u:%d", a, b, c, d, port);
    }
}

/* Expands a route template into "/path?query". */
static void expand_path(wbuf *w, rng *r, const char *tpl, const char *svc)
{
    for (const char *p = tpl; *p; p++) {
        if (*p == '#')
            put_dec(w, (uint64_t)rng_range(r, 1, 999999), 1);
        else if (*p == '@')
            put_hex(w, rng_next(r), 8, false);
        else if (*p == '$')
            put_str(w, svc);
        else
            put_ch(w, *p);
    }
}

/* Fills the request, user agent, TLS and listener fields of s for a
 * request of type s->type on LB s->lb. Returns the method. */
static const char *fill_request(gen *g, line_spec *s)
{
    rng *r = &g->r;
    const lb_info *lb = &g->lbs[s->lb];
    bool tls = s->type != T_HTTP && s->type != T_WS;
    const char *method;
    char path[200];
    wbuf pw = {path, path + sizeof path - 1, false};
    if (s->type == T_GRPCS) {
        method = "POST";
        put_str(&pw, "/acme.");
        put_str(&pw, lb->svc);
        put_str(&pw, ".v1.Api/");
        put_str(&pw, PICK(r, grpc_methods));
    } else if (s->type == T_WS || s->type == T_WSS) {
        method = "GET";
        expand_path(&pw, r, "/ws/updates?user=#", lb->svc);
    } else {
        const route *rt = lb->internal ? &PICK(r, internal_routes) : &PICK(r, public_routes);
        method = rt->method;
        expand_path(&pw, r, rt->path, lb->svc);
    }
    *pw.p = '\0';
    const char *host = lb->domain;
    if (!lb->internal && rng_chance(r, 0.2))
        host = "www.example.com";
    snprintf(s->request, sizeof s->request, "%s %s://%s:%d%s %s", method, tls ? "https" : "http",
             host, tls ? 443 : 80, path,
             s->type == T_H2 || s->type == T_GRPCS ? "HTTP/2.0" : "HTTP/1.1");
    if (s->type == T_GRPCS)
        str_copy(s->ua, sizeof s->ua, PICK(r, ua_grpc));
    else if (lb->internal)
        str_copy(s->ua, sizeof s->ua, PICK(r, ua_internal));
    else if (rng_chance(r, 0.015))
        str_copy(s->ua, sizeof s->ua, PICK(r, ua_escaped));
    else
        str_copy(s->ua, sizeof s->ua, PICK(r, ua_public));
    s->tls = tls;
    s->has_domain = tls;
    if (rng_chance(r, 0.7)) {
        s->cipher = "ECDHE-RSA-AES128-GCM-SHA256";
        s->protocol = "TLSv1.2";
    } else {
        s->cipher = "TLS_AES_128_GCM_SHA256";
        s->protocol = "TLSv1.3";
    }
    s->has_tg = true;
    s->rule =
        lb->internal ? (int)rng_range(r, 0, 1) : (int)PICK(r, ((const int[]){0, 1, 2, 5, 10, 20}));
    s->actions = !lb->internal && rng_chance(r, 0.3) ? "waf,forward" : "forward";
    s->error_reason = "-";
    s->classification = "-";
    s->class_reason = "-";
    if (rng_chance(r, 0.005)) {
        s->classification = "Ambiguous";
        s->class_reason = "UndefinedContentLengthSemantics";
    }
    s->tid_hi = rng_next(r);
    s->tid_lo = rng_next(r);
    bool upload =
        strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
    s->rx = (uint64_t)rng_range(r, upload ? 600 : 150, upload ? 9000 : 1400);
    s->tx = (uint64_t)rng_range(r, 180, rng_chance(r, 0.2) ? 250000 : 12000);
    return method;
}

/* A successful status for a method, as the target returns it. */
static int ok_status(rng *r, const char *method, enum req_type type)
{
    if (type == T_WS || type == T_WSS)
        return 101;
    if (type == T_GRPCS)
        return 200;
    uint32_t u = rng_below(r, 1000);
    switch (method[0]) {
    case 'G':
    case 'H':
        return u < 880 ? 200 : u < 920 ? 304 : u < 970 ? 404 : u < 985 ? 401 : 403;
    case 'P':
        if (method[1] == 'O')
            return u < 450 ? 201 : u < 920 ? 200 : u < 960 ? 400 : u < 985 ? 409 : 422;
        return u < 950 ? 200 : 400;
    case 'D':
        return u < 950 ? 204 : 404;
    default: /* OPTIONS */
        return 204;
    }
}

/* Pushes the rendered line into the reorder heap and counts it. */
static int emit(gen *g, const line_spec *s)
{
    char *slot = reorder_slot(&g->heap);
    if (!slot) {
        fprintf(stderr, "tg-gen: out of memory\n");
        return -1;
    }
    size_t len = render_line(g->lbs, s, slot, GEN_SLOT);
    if (len == 0) {
        fprintf(stderr, "tg-gen: internal error: a line exceeded %d bytes\n", GEN_SLOT);
        free(slot);
        return -1;
    }
    pending p;
    /* Mostly a small delay, sometimes a long one: files stay roughly, but not
     * strictly, in time order. */
    p.key = s->time_us +
            rng_range(&g->r, 0, rng_chance(&g->r, 0.85) ? GEN_JITTER_US / 20 : GEN_JITTER_US);
    p.seq = g->seq++;
    p.text = slot;
    p.len = (uint32_t)len;
    p.lb = (uint16_t)s->lb;
    p.node = (uint16_t)s->node;
    if (!reorder_push(&g->heap, p)) {
        fprintf(stderr, "tg-gen: out of memory\n");
        free(slot);
        return -1;
    }
    g->c.lines++;
    g->c.bytes += len;
    if (strcmp(s->header, "-") != 0)
        g->c.header_lines++;
    return g->fmt ? fmt_alb_line(g->fmt, s) : 0;
}

/* Writes out every line that no later-generated line can precede. */
static int flush_until(gen *g, int64_t key)
{
    while (g->heap.n && g->heap.v[0].key < key) {
        pending p = reorder_pop(&g->heap);
        int rc = sink_write(&g->out, &p);
        if (!reorder_release(&g->heap, p.text) || rc != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Traces.                                                                   */

enum ev_kind {
    EV_OK,
    EV_CONN_502, /* no target reached: target "-", all times -1 */
    EV_NOTARGET_503,
    EV_TIMEOUT_504, /* target reached, never answered: target time -1 */
    EV_TARGET_500,  /* the target answered 500 */
    EV_RELAY,       /* an outer hop passing a deeper failure on */
    EV_RETRY_460,   /* the caller gave up and retried */
    EV_RETRY_503,   /* a quick 503, retried */
};

typedef struct tevent {
    int lb;
    int depth; /* 0 = the internet-facing hop */
    enum ev_kind kind;
    int status; /* EV_RELAY: the code passed on */
    int64_t c, t;
} tevent;

typedef struct tplan {
    tevent ev[GEN_MAX_EVENTS];
    int n;
    root_id root;
    unsigned upper_mask; /* events whose Root is written in uppercase */
} tplan;

/* How long the deepest hop takes, in microseconds, given how it ends. */
static int64_t deepest_duration(rng *r, enum ev_kind kind, bool slow)
{
    switch (kind) {
    case EV_CONN_502: /* refused fast, or the 10 s connect timeout */
        return rng_chance(r, 0.15) ? rng_range(r, 10000000, 10020000) : rng_range(r, 300, 8000);
    case EV_NOTARGET_503:
        return rng_range(r, 100, 2000);
    case EV_TIMEOUT_504:
        return rng_range(r, 5000000, 30000000);
    default:
        if (slow)
            return rng_range(r, 1000000, 30000000);
        double u = rng_unit(r);
        return 2000 + (int64_t)(u * u * u * 250000.0);
    }
}

/* Lays out the hops of one trace in time. Hop k+1 is nested in hop k: it is
 * created a few ms after and answers a few ms before. A retried hop is
 * preceded, inside the same caller, by a failed first attempt. */
static void plan_trace(gen *g, tplan *pl, int64_t t0)
{
    rng *r = &g->r;
    int nlb = g->cfg->lbs;
    uint32_t u = rng_below(r, 100);
    int h = u < 45 ? 1 : u < 80 ? 2 : 3;
    if (h > nlb)
        h = nlb;
    int chain[3] = {0, 0, 0};
    if (h >= 2)
        chain[1] = 1 + (int)rng_below(r, (uint32_t)(nlb - 1));
    if (h >= 3) /* a different internal LB: h <= nlb guarantees one exists */
        chain[2] = 1 + (int)(((uint32_t)(chain[1] - 1) + 1 + rng_below(r, (uint32_t)(nlb - 2))) %
                             (uint32_t)(nlb - 1));
    int retry_at = h >= 2 && rng_chance(r, 0.04) ? 1 + (int)rng_below(r, (uint32_t)(h - 1)) : -1;
    enum ev_kind fail = EV_OK;
    if (rng_chance(r, 0.03)) {
        uint32_t f = rng_below(r, 100);
        fail = f < 35   ? EV_CONN_502
               : f < 55 ? EV_NOTARGET_503
               : f < 75 ? EV_TIMEOUT_504
                        : EV_TARGET_500;
    }
    bool slow = rng_chance(r, 0.02);
    int fail_code = fail == EV_CONN_502       ? 502
                    : fail == EV_NOTARGET_503 ? 503
                    : fail == EV_TIMEOUT_504  ? 504
                                              : 500;
    enum ev_kind retry_kind = rng_chance(r, 0.7) ? EV_RETRY_460 : EV_RETRY_503;
    int64_t retry_len =
        retry_kind == EV_RETRY_460 ? rng_range(r, 200000, 2000000) : rng_range(r, 200, 3000);
    int64_t retry_gap = rng_range(r, 5000, 200000);

    /* Inside out: the span of every chain hop. */
    int64_t span[3], a[3], b[3];
    span[h - 1] = deepest_duration(r, fail, slow);
    for (int k = h - 2; k >= 0; k--) {
        a[k] = rng_range(r, 800, 6000);
        b[k] = rng_range(r, 800, 6000);
        span[k] = a[k] + span[k + 1] + b[k] + (retry_at == k + 1 ? retry_len + retry_gap : 0);
    }
    /* Outside in: absolute times, in the order the requests were made. */
    pl->n = 0;
    int64_t c = t0;
    for (int k = 0; k < h; k++) {
        if (k > 0)
            c += a[k - 1];
        if (k == retry_at) {
            tevent *e = &pl->ev[pl->n++];
            e->lb = chain[k];
            e->depth = k;
            e->kind = retry_kind;
            e->status = retry_kind == EV_RETRY_460 ? 460 : 503;
            e->c = c;
            e->t = c + retry_len;
            c += retry_len + retry_gap;
        }
        tevent *e = &pl->ev[pl->n++];
        e->lb = chain[k];
        e->depth = k;
        e->c = c;
        e->t = c + span[k];
        if (fail == EV_OK) {
            e->kind = EV_OK;
            e->status = 0;
        } else if (k == h - 1) {
            e->kind = fail;
            e->status = fail_code;
        } else {
            e->kind = EV_RELAY;
            e->status = rng_chance(r, 0.5) ? fail_code : 502;
        }
    }
    /* The Root's epoch is the first request's second, except for skewed
     * clients (minutes to hours off either way). */
    int64_t epoch = t0 / 1000000;
    if (rng_chance(r, 0.01)) {
        int64_t sign = rng_chance(r, 0.5) ? 1 : -1;
        epoch += sign * rng_range(r, 120, 6 * 3600);
    }
    pl->root = random_root(r, (uint32_t)epoch);
    pl->upper_mask = 0;
    if (rng_chance(r, 0.02)) {
        pl->upper_mask = (unsigned)rng_below(r, 1u << pl->n);
        if (!pl->upper_mask)
            pl->upper_mask = 1u << rng_below(r, (uint32_t)pl->n);
    }
}

/* Field 18 of a hop: the first carries the Root the LB created; later hops
 * carry it as an LB that adds Self, or as an X-Ray SDK that adds Parent. */
static void fill_trace_header(gen *g, line_spec *s, const tplan *pl, int i)
{
    rng *r = &g->r;
    const tevent *e = &pl->ev[i];
    bool upper = (pl->upper_mask >> i) & 1;
    wbuf w = {s->header, s->header + sizeof s->header - 1, false};
    if (e->depth == 0) {
        put_str(&w, "Root=");
        put_root(&w, pl->root, upper);
        if (rng_chance(r, 0.25))
            put_str(&w, ";Sampled=1");
    } else if (rng_chance(r, 0.5)) {
        put_str(&w, "Self=");
        put_root(&w, random_root(r, (uint32_t)(e->c / 1000000)), false);
        put_str(&w, ";Root=");
        put_root(&w, pl->root, upper);
    } else {
        put_str(&w, "Root=");
        put_root(&w, pl->root, upper);
        put_str(&w, ";Parent=");
        put_hex(&w, rng_next(r) | 1, 16, false);
        put_str(&w, ";Sampled=1");
        if (rng_chance(r, 0.15)) {
            put_str(&w, ";Lineage=1:");
            put_hex(&w, rng_next(r), 8, false);
            put_ch(&w, ':');
            put_dec(&w, rng_below(r, 3), 1);
        }
    }
    *w.p = '\0';
}

/* Status, target and processing-time fields of a traced line. */
static void fill_outcome(gen *g, line_spec *s, const tevent *e, const char *method)
{
    rng *r = &g->r;
    int64_t span_ms = (e->t - e->c) / 1000;
    s->req_ms = span_ms > 0 ? rng_range(r, 0, span_ms < 2 ? span_ms : 2) : 0;
    s->resp_ms = span_ms - s->req_ms > 0 ? rng_range(r, 0, 1) : 0;
    s->tgt_ms = span_ms - s->req_ms - s->resp_ms;
    switch (e->kind) {
    case EV_OK:
        s->elb_status = s->target_status = ok_status(r, method, s->type);
        break;
    case EV_RELAY:
    case EV_TARGET_500:
        s->elb_status = s->target_status = e->status;
        break;
    case EV_CONN_502:
    case EV_NOTARGET_503:
    case EV_RETRY_503:
        s->elb_status = e->status;
        s->target_status = 0;
        str_copy(s->target, sizeof s->target, "-");
        s->req_ms = s->tgt_ms = s->resp_ms = -1;
        s->error_reason = e->kind == EV_CONN_502 ? "TargetConnectionError" : "-";
        s->tx = (uint64_t)rng_range(r, 270, 330);
        break;
    case EV_TIMEOUT_504:
    case EV_RETRY_460:
        s->elb_status = e->status;
        s->target_status = 0;
        s->tgt_ms = s->resp_ms = -1;
        s->tx = e->kind == EV_RETRY_460 ? 0 : (uint64_t)rng_range(r, 270, 330);
        break;
    }
}

/* Writes the events of one trace and its truth row. */
static int gen_trace(gen *g, int64_t t0)
{
    rng *r = &g->r;
    tplan pl;
    plan_trace(g, &pl, t0);
    char caller[20] = ""; /* the IP of the service that makes the next call */
    int64_t start = INT64_MAX, end = INT64_MIN;
    int worst = 0;
    unsigned lb_seen[GEN_MAX_LBS] = {0};
    int nlbs = 0;
    line_spec hops[GEN_MAX_EVENTS]; /* kept for the other log kinds */
    int depth[GEN_MAX_EVENTS];
    for (int i = 0; i < pl.n; i++) {
        const tevent *e = &pl.ev[i];
        line_spec s;
        memset(&s, 0, sizeof s);
        s.lb = e->lb;
        s.node = (int)rng_below(r, 2);
        s.type = pick_type(r, e->depth > 0);
        s.nfields = pick_nfields(r, true);
        s.time_us = e->t;
        s.created_us = e->c;
        if (e->depth == 0)
            make_public_client(s.client, sizeof s.client, r);
        else
            snprintf(s.client, sizeof s.client, "%s:%d", caller, (int)rng_range(r, 32768, 60999));
        make_ip(s.target, sizeof s.target, r, &g->lbs[e->lb], true, g->lbs[e->lb].target_port);
        if (e->kind != EV_RETRY_460 && e->kind != EV_RETRY_503)
            snprintf(caller, sizeof caller, "%.*s", (int)strcspn(s.target, ":"), s.target);
        const char *method = fill_request(g, &s);
        fill_outcome(g, &s, e, method);
        fill_trace_header(g, &s, &pl, i);
        /* Rarely a client also puts some trace id in its user agent: it must
         * neither create nor move an event. */
        if (rng_chance(r, 0.003)) {
            wbuf w = {s.ua, s.ua + sizeof s.ua - 1, false};
            put_str(&w, "tracing-client/1.0 (Root=");
            put_root(&w, random_root(r, (uint32_t)(t0 / 1000000)), false);
            put_ch(&w, ')');
            *w.p = '\0';
        }
        if (emit(g, &s) != 0)
            return -1;
        if (g->fmt) {
            hops[i] = s;
            depth[i] = e->depth;
        }
        int64_t from = s.nfields >= 22 ? e->c : e->t;
        start = from < start ? from : start;
        end = e->t > end ? e->t : end;
        worst = s.elb_status > worst ? s.elb_status : worst;
        if (!lb_seen[e->lb]++)
            nlbs++;
    }
    g->c.events += (uint64_t)pl.n;
    g->c.traces++;
    g->c.multi_event_traces += pl.n > 1;
    g->c.traces_5xx += worst >= 500;
    g->recent[g->nrecent++ % 16] = pl.root;
    if (g->fmt && fmt_trace(g->fmt, pl.root, hops, depth, pl.n) != 0)
        return -1;
    if (g->trace_rows) {
        char row[160];
        wbuf w = {row, row + sizeof row, false};
        put_str(&w, "trace\t");
        put_root(&w, pl.root, false);
        put_ch(&w, '\t');
        put_int(&w, pl.n);
        put_ch(&w, '\t');
        put_int(&w, start);
        put_ch(&w, '\t');
        put_int(&w, end);
        put_ch(&w, '\t');
        put_int(&w, worst);
        put_ch(&w, '\t');
        put_int(&w, nlbs);
        put_ch(&w, '\n');
        if (fwrite(row, 1, (size_t)(w.p - row), g->trace_rows) != (size_t)(w.p - row)) {
            fprintf(stderr, "tg-gen: cannot write the truth rows: %s\n", strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Lines that are not events.                                                */

/* A request line on a random LB with no trace header yet. */
static void noise_base(gen *g, line_spec *s, int64_t t)
{
    rng *r = &g->r;
    memset(s, 0, sizeof *s);
    s->lb = (int)rng_below(r, (uint32_t)g->cfg->lbs);
    s->node = (int)rng_below(r, 2);
    s->type = pick_type(r, s->lb > 0);
    s->nfields = pick_nfields(r, false);
    const lb_info *lb = &g->lbs[s->lb];
    if (lb->internal) {
        unsigned b = (unsigned)rng_range(r, 1, 60); /* one draw per statement, see above */
        unsigned c = rng_below(r, 256);
        unsigned d = (unsigned)rng_range(r, 4, 250);
        int port = (int)rng_range(r, 32768, 60999);
        snprintf(s->client, sizeof s->client, "10.%u.%u.%u:%d", b, c, d, port);
    } else
        make_public_client(s->client, sizeof s->client, r);
    make_ip(s->target, sizeof s->target, r, lb, true, lb->target_port);
    const char *method = fill_request(g, s);
    int64_t dur = 1000 + (int64_t)rng_below(r, 80000);
    s->time_us = t;
    s->created_us = t - dur;
    s->req_ms = 0;
    s->resp_ms = 0;
    s->tgt_ms = dur / 1000;
    s->elb_status = s->target_status = ok_status(r, method, s->type);
    str_copy(s->header, sizeof s->header, "-");
}

/* Health checks and requests ALB refused before routing: field 18 "-". */
static int gen_headerless(gen *g, int64_t t)
{
    rng *r = &g->r;
    line_spec s;
    noise_base(g, &s, t);
    const lb_info *lb = &g->lbs[s.lb];
    uint32_t u = rng_below(r, 100);
    if (u < 55) {
        char ip[20];
        make_ip(ip, sizeof ip, r, lb, false, 0);
        s.type = T_HTTP;
        s.tls = s.has_domain = false;
        snprintf(s.client, sizeof s.client, "%s:%d", lb->node_ip[s.node],
                 (int)rng_range(r, 10000, 60999));
        snprintf(s.target, sizeof s.target, "%s:%d", ip, lb->target_port);
        snprintf(s.request, sizeof s.request, "GET http://%s:%d/health HTTP/1.1", ip,
                 lb->target_port);
        str_copy(s.ua, sizeof s.ua, "ELB-HealthChecker/2.0");
        s.elb_status = s.target_status = rng_chance(r, 0.03) ? 503 : 200;
        s.tgt_ms = rng_range(r, 0, 4);
        s.rx = 120;
        s.tx = (uint64_t)rng_range(r, 140, 180);
        s.rule = -1;
        s.actions = "forward";
        return emit(g, &s);
    }
    s.has_tg = false;
    str_copy(s.target, sizeof s.target, "-");
    s.req_ms = s.tgt_ms = s.resp_ms = -1;
    s.target_status = 0;
    s.rule = -1;
    s.actions = "-";
    s.tx = (uint64_t)rng_range(r, 270, 330);
    if (u < 85) { /* malformed request line */
        s.type = T_HTTP;
        s.tls = s.has_domain = false;
        snprintf(s.request, sizeof s.request, "- http://%s:80- -", lb->domain);
        str_copy(s.ua, sizeof s.ua, "-");
        s.elb_status = 400;
        s.rx = (uint64_t)rng_range(r, 0, 200);
    } else { /* the client never finished sending */
        s.elb_status = 408;
    }
    return emit(g, &s);
}

/* A header that has one of the keys but no usable Root (FORMATS.md §1 and
 * formats/xray-header-cases.tsv), classified as the decoder must. */
static enum malformed_reason malformed_header(gen *g, char *out, size_t cap, int64_t t)
{
    rng *r = &g->r;
    wbuf w = {out, out + cap - 1, false};
    root_id id = random_root(r, (uint32_t)(t / 1000000));
    enum malformed_reason why;
    uint32_t u = rng_below(r, 100);
    if (u < 15) {
        why = MAL_ZERO_ROOT;
        put_str(&w, "Root=1-00000000-000000000000000000000000");
        if (rng_chance(r, 0.5))
            put_str(&w, ";Sampled=0");
    } else if (u < 50) {
        why = MAL_NO_ROOT;
        switch (rng_below(r, 5)) {
        case 0:
            put_str(&w, "Parent=");
            put_hex(&w, rng_next(r), 16, false);
            put_str(&w, ";Sampled=1");
            break;
        case 1:
            put_str(&w, "Self=");
            put_root(&w, id, false);
            break;
        case 2:
            put_str(&w, rng_chance(r, 0.5) ? "Sampled=0" : "Sampled=?");
            break;
        case 3:
            put_str(&w, "Lineage=a87bd80c:1|68fd508a:5");
            break;
        default:
            put_str(&w, "Self=");
            put_root(&w, id, false);
            put_str(&w, ";Parent=");
            put_hex(&w, rng_next(r), 16, false);
            put_str(&w, ";CalledFrom=app");
            break;
        }
    } else {
        why = MAL_BAD_ROOT;
        char good[40];
        wbuf gw = {good, good + sizeof good - 1, false};
        put_root(&gw, id, false);
        *gw.p = '\0'; /* "1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx", 35 bytes */
        uint32_t v = rng_below(r, 8);
        if (v == 0) { /* a non-hex digit in place of one of the 32 hex digits */
            uint32_t pos = rng_below(r, 32);
            good[pos < 8 ? 2 + pos : 11 + (pos - 8)] = (char)('g' + rng_below(r, 20));
        } else if (v == 1) {
            good[0] = '2'; /* version 2 */
        } else if (v == 2) {
            good[1] = '*';
            good[10] = '+';
        }
        if (rng_chance(r, 0.3)) {
            put_str(&w, "Self=");
            put_root(&w, random_root(r, id.epoch), false);
            put_ch(&w, ';');
        }
        put_str(&w, "Root=");
        switch (v) {
        case 3: /* 26 id digits */
            put_str(&w, good);
            put_str(&w, "00");
            break;
        case 4: /* 23 id digits */
            put_mem(&w, good, 34);
            break;
        case 5: /* 7 epoch digits */
            put_mem(&w, good, 2);
            put_mem(&w, good + 3, 32);
            break;
        case 6: /* empty */
            break;
        case 7: /* the second dash missing */
            put_mem(&w, good, 10);
            put_mem(&w, good + 11, 24);
            break;
        default:
            put_str(&w, good);
            break;
        }
        if (rng_chance(r, 0.6)) {
            put_str(&w, ";Parent=");
            put_hex(&w, rng_next(r), 16, false);
            put_str(&w, rng_chance(r, 0.5) ? ";Sampled=0" : ";Sampled=1");
        }
    }
    *w.p = '\0';
    return why;
}

static int gen_malformed(gen *g, int64_t t)
{
    line_spec s;
    noise_base(g, &s, t);
    enum malformed_reason why = malformed_header(g, s.header, sizeof s.header, t);
    g->c.malformed[why]++;
    return emit(g, &s);
}

/* Field 18 "-", but a valid-looking Root in the user agent or the URL. Half
 * of them quote a real recent trace: it must not gain an event. */
static int gen_decoy(gen *g, int64_t t)
{
    rng *r = &g->r;
    line_spec s;
    noise_base(g, &s, t);
    root_id id = g->nrecent && rng_chance(r, 0.5)
                     ? g->recent[rng_below(r, g->nrecent < 16 ? g->nrecent : 16)]
                     : random_root(r, (uint32_t)(t / 1000000));
    char txt[64];
    wbuf w = {txt, txt + sizeof txt - 1, false};
    put_str(&w, "Root=");
    put_root(&w, id, false);
    *w.p = '\0';
    if (rng_chance(r, 0.5)) {
        snprintf(s.ua, sizeof s.ua, "debug-client/2.1 (X-Amzn-Trace-Id: %s;Sampled=1)", txt);
    } else {
        char *sp = strrchr(s.request, ' '); /* before the HTTP version */
        if (sp) {
            char version[16];
            str_copy(version, sizeof version, sp + 1);
            *sp = '\0';
            size_t n = strlen(s.request);
            snprintf(s.request + n, sizeof s.request - n, "%strace=%s %s",
                     strchr(s.request, '?') ? "&" : "?", txt, version);
        }
    }
    return emit(g, &s);
}

/* The lines between two traces: their number follows the expected rates. */
static int gen_noise(gen *g, int64_t t, int64_t gap)
{
    rng *r = &g->r;
    for (int kind = 0; kind < 3; kind++) {
        double p = g->noise_per_trace[kind];
        int n = (int)p + rng_chance(r, p - (int)p);
        for (int i = 0; i < n; i++) {
            int64_t at = t + rng_range(r, 0, gap);
            int rc = kind == 0   ? gen_headerless(g, at)
                     : kind == 1 ? gen_malformed(g, at)
                                 : gen_decoy(g, at);
            if (rc != 0)
                return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Run and truth.                                                            */

static int write_truth(gen *g)
{
    FILE *f = fopen(g->cfg->truth, "wb");
    if (!f) {
        fprintf(stderr, "tg-gen: cannot create %s: %s\n", g->cfg->truth, strerror(errno));
        return -1;
    }
    const counts *c = &g->c;
    uint64_t malformed = c->malformed[0] + c->malformed[1] + c->malformed[2];
    fprintf(f, "# tg-gen truth v1\n");
    fprintf(f, "lines\t%" PRIu64 "\n", c->lines);
    fprintf(f, "header_lines\t%" PRIu64 "\n", c->header_lines);
    fprintf(f, "events\t%" PRIu64 "\n", c->events);
    fprintf(f, "malformed\t%" PRIu64 "\n", malformed);
    fprintf(f, "malformed.no-root\t%" PRIu64 "\n", c->malformed[MAL_NO_ROOT]);
    fprintf(f, "malformed.bad-root\t%" PRIu64 "\n", c->malformed[MAL_BAD_ROOT]);
    fprintf(f, "malformed.zero-root\t%" PRIu64 "\n", c->malformed[MAL_ZERO_ROOT]);
    fprintf(f, "traces\t%" PRIu64 "\n", c->traces);
    fprintf(f, "multi_event_traces\t%" PRIu64 "\n", c->multi_event_traces);
    fprintf(f, "traces_5xx\t%" PRIu64 "\n", c->traces_5xx);
    /* The other log kinds' keys follow the ALB ones, and their per-trace
     * rows follow the ALB rows, so that a reader of v1 finds everything it
     * knows where it always was. */
    int rc = 0;
    if (g->fmt && fmt_truth_keys(g->fmt, f, c->lines, c->events, malformed) != 0)
        rc = -1;
    rewind(g->trace_rows);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, g->trace_rows)) > 0)
        fwrite(buf, 1, n, f);
    if (rc == 0 && g->fmt && fmt_truth_rows(g->fmt, f) != 0)
        rc = -1;
    if (ferror(g->trace_rows) || ferror(f))
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    if (rc)
        fprintf(stderr, "tg-gen: error while writing %s\n", g->cfg->truth);
    return rc;
}

/* Lines per trace: 45% one hop, 35% two, 20% three (capped by --lbs), plus
 * the retried attempts. Noise rates are per line, so they scale with it. */
static void set_noise_rates(gen *g)
{
    int n = g->cfg->lbs;
    double hops = 0.45 * 1 + 0.35 * (n >= 2 ? 2 : 1) + 0.20 * (n >= 3 ? 3 : n);
    double events = hops + (n >= 2 ? 0.55 * 0.04 : 0.0);
    static const double share[3] = {0.05, 0.01, 0.01}; /* headerless, malformed, decoy */
    double traced = 1.0 - share[0] - share[1] - share[2];
    for (int i = 0; i < 3; i++)
        g->noise_per_trace[i] = share[i] / traced * events;
}

static int run(const settings *cfg)
{
    gen *g = calloc(1, sizeof *g);
    if (!g) {
        fprintf(stderr, "tg-gen: out of memory\n");
        return 2;
    }
    g->cfg = cfg;
    rng_seed(&g->r, cfg->seed);
    landscape_build(g->lbs, cfg->lbs, cfg->seed);
    set_noise_rates(g);
    g->clock_us = cfg->start_s * 1000000;
    g->out.cfg = cfg;
    g->out.lbs = g->lbs;
    int rc = 0;
    if (cfg->out_dir) {
        g->out.files = calloc((size_t)cfg->lbs * 2, sizeof *g->out.files);
        rc = g->out.files ? 0 : -1;
    } else if (!cfg->single || strcmp(cfg->single, "-") == 0) {
        g->out.single = stdout;
    } else {
        g->out.single = fopen(cfg->single, "wb");
        if (!g->out.single) {
            fprintf(stderr, "tg-gen: cannot create %s: %s\n", cfg->single, strerror(errno));
            rc = -1;
        }
    }
    if (rc == 0 && g->out.single)
        setvbuf(g->out.single, NULL, _IOFBF, 1 << 20);
    if (rc == 0 && cfg->truth && !(g->trace_rows = tmpfile())) {
        fprintf(stderr, "tg-gen: cannot create a temporary file: %s\n", strerror(errno));
        rc = -1;
    }
    /* --single writes ALB lines only (main() clears formats there). */
    if (rc == 0 && cfg->formats && cfg->out_dir && !(g->fmt = fmt_open(cfg, g->lbs)))
        rc = -1;
    /* Inter-arrival times are uniform on [0, 2/rate]: mean 1/rate, no libm. */
    int64_t max_gap = (int64_t)(2e6 / cfg->rate);
    while (rc == 0 && (!cfg->max_traces || g->c.traces < cfg->max_traces) &&
           (!cfg->max_bytes || g->c.bytes < cfg->max_bytes)) {
        int64_t gap = rng_range(&g->r, 0, max_gap);
        /* Everything generated from here on is written at or after clock. */
        rc = flush_until(g, g->clock_us);
        if (rc == 0)
            rc = gen_trace(g, g->clock_us);
        if (rc == 0)
            rc = gen_noise(g, g->clock_us, gap);
        if (rc == 0 && g->fmt)
            rc = fmt_between(g->fmt, g->clock_us, gap);
        g->clock_us += gap;
        if (rc == 0 && g->fmt)
            rc = fmt_advance(g->fmt, g->clock_us);
    }
    if (rc == 0)
        rc = flush_until(g, INT64_MAX);
    if (sink_close(&g->out) != 0)
        rc = -1;
    if (g->fmt && fmt_finish(g->fmt) != 0)
        rc = -1;
    if (rc == 0 && cfg->truth)
        rc = write_truth(g);
    if (g->trace_rows)
        fclose(g->trace_rows);
    if (rc == 0 && cfg->out_dir)
        fprintf(stderr, "tg-gen: %" PRIu64 " lines, %" PRIu64 " traces, %" PRIu64 " files\n",
                g->c.lines, g->c.traces, g->out.files_written);
    if (rc == 0 && g->fmt) {
        uint64_t lines, files;
        fmt_totals(g->fmt, &lines, &files);
        fprintf(stderr, "tg-gen: other formats: %" PRIu64 " lines, %" PRIu64 " files\n", lines,
                files);
    }
    fmt_free(g->fmt);
    reorder_free(&g->heap);
    free(g);
    return rc == 0 ? 0 : 2;
}

/* ------------------------------------------------------------------------ */
/* Command line: one table drives parsing and --help.                        */

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static int opt_seed(settings *st, const char *v)
{
    return parse_u64(v, &st->seed) ? 0 : -1;
}

static int opt_traces(settings *st, const char *v)
{
    return parse_u64(v, &st->max_traces) && st->max_traces > 0 ? 0 : -1;
}

static int opt_bytes(settings *st, const char *v)
{
    char *end;
    errno = 0;
    if (!*v || *v == '-')
        return -1;
    unsigned long long n = strtoull(v, &end, 10);
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift)
        end++;
    if (errno || *end || end == v || n == 0 || n > (UINT64_MAX >> shift))
        return -1;
    st->max_bytes = (uint64_t)n << shift;
    return 0;
}

static int opt_lbs(settings *st, const char *v)
{
    uint64_t n;
    if (!parse_u64(v, &n) || n < 1 || n > GEN_MAX_LBS)
        return -1;
    st->lbs = (int)n;
    return 0;
}

static int opt_start(settings *st, const char *v)
{
    uint64_t n;
    /* The Root's epoch is 8 hex digits; keep skewed epochs inside them too. */
    if (!parse_u64(v, &n) || n < 86400 || n > 0xFFFFFFFFull - 86400)
        return -1;
    st->start_s = (int64_t)n;
    return 0;
}

static int opt_rate(settings *st, const char *v)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end || !(d >= 0.001) || d > GEN_MAX_RATE)
        return -1;
    st->rate = d;
    return 0;
}

static int opt_out(settings *st, const char *v)
{
    st->out_dir = v;
    return *v ? 0 : -1;
}

static int opt_single(settings *st, const char *v)
{
    st->single = v;
    return *v ? 0 : -1;
}

static int opt_truth(settings *st, const char *v)
{
    st->truth = v;
    return *v ? 0 : -1;
}

/* The --formats names, in the order "all" lists them. "alb" is accepted and
 * adds nothing: the ALB access logs are always written. */
static const struct {
    const char *name;
    unsigned bits;
} format_names[] = {
    {"alb", 0},
    {"conn", GEN_FMT_CONN},
    {"alb-conn", GEN_FMT_CONN},
    {"cloudfront", GEN_FMT_CLOUDFRONT},
    {"nginx", GEN_FMT_NGINX},
    {"apigw", GEN_FMT_APIGW},
    {"lambda", GEN_FMT_LAMBDA},
    {"all", GEN_FMT_ALL},
};

static int opt_formats(settings *st, const char *v)
{
    unsigned bits = 0;
    for (const char *p = v;; p++) {
        size_t n = strcspn(p, ",");
        size_t k = 0;
        while (k < sizeof format_names / sizeof format_names[0] &&
               !(strlen(format_names[k].name) == n && strncmp(p, format_names[k].name, n) == 0))
            k++;
        if (k == sizeof format_names / sizeof format_names[0])
            return -1;
        bits |= format_names[k].bits;
        p += n;
        if (!*p)
            break;
    }
    st->formats = bits;
    return 0;
}

typedef struct opt_def {
    const char *name, *arg, *help;
    int (*parse)(settings *, const char *);
} opt_def;

static const opt_def options[] = {
    {"--seed", "N", "PRNG seed (default 1); same seed and options, same bytes", opt_seed},
    {"--traces", "N", "stop after N traces (default 1000 when --bytes is not given)", opt_traces},
    {"--bytes", "SIZE",
     "stop once SIZE log bytes are written (K/M/G = 1024^n); the last trace is finished",
     opt_bytes},
    {"--lbs", "N",
     "load balancers, 1..64 (default 3); LB 1 is internet-facing, the others internal", opt_lbs},
    {"--start", "EPOCH",
     "time of the first trace, Unix seconds (default 1763625600 = 2025-11-20T08:00:00Z)",
     opt_start},
    {"--rate", "R", "traces per second, may be fractional, at most 10000 (default 20)", opt_rate},
    {"--out", "DIR",
     "write DIR/AWSLogs/<account>/elasticloadbalancing/<region>/YYYY/MM/DD/*.log, "
     "one file per LB node and 5 minutes",
     opt_out},
    {"--single", "FILE", "write every line to FILE ('-' = stdout, the default)", opt_single},
    {"--truth", "FILE", "write the ground truth (\"# tg-gen truth v1\", tab-separated) to FILE",
     opt_truth},
    {"--formats", "LIST",
     "log kinds to write with --out, comma-separated: alb (the default; always written), "
     "conn, cloudfront, nginx, apigw, lambda, or all; the ALB access logs of a seed are the "
     "same bytes whatever LIST says; --single writes ALB lines only",
     opt_formats},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: tg-gen [options]\n"
               "Writes deterministic AWS ALB access logs with X-Amzn-Trace-Id traces, and their "
               "truth.\n\n");
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        char left[40];
        snprintf(left, sizeof left, "%s %s", options[i].name, options[i].arg);
        fprintf(f, "  %-16s %s\n", left, options[i].help);
    }
    fprintf(f, "  %-16s %s\n", "--help", "this text");
}

int main(int argc, char **argv)
{
    settings st = {.seed = 1, .lbs = 3, .start_s = 1763625600, .rate = 20.0};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        const opt_def *o = NULL;
        const char *val = NULL;
        for (size_t k = 0; k < sizeof options / sizeof options[0]; k++) {
            size_t n = strlen(options[k].name);
            if (strncmp(arg, options[k].name, n) == 0 && (arg[n] == '\0' || arg[n] == '=')) {
                o = &options[k];
                val = arg[n] == '=' ? arg + n + 1 : (i + 1 < argc ? argv[++i] : NULL);
                break;
            }
        }
        if (!o) {
            fprintf(stderr, "tg-gen: unknown option %s (see --help)\n", arg);
            return 2;
        }
        if (!val || o->parse(&st, val) != 0) {
            fprintf(stderr, "tg-gen: bad value for %s: %s\n", o->name, val ? val : "(missing)");
            return 2;
        }
    }
    if (st.out_dir && st.single) {
        fprintf(stderr, "tg-gen: --out and --single exclude each other\n");
        return 2;
    }
    /* The other kinds live in files of their own beside the ALB logs; a
     * single stream has no place for them. */
    if (!st.out_dir && st.formats) {
        fprintf(stderr,
                "tg-gen: note: --formats is ignored without --out; writing ALB lines only\n");
        st.formats = 0;
    }
    if (!st.max_traces && !st.max_bytes)
        st.max_traces = 1000;
    return run(&st);
}
