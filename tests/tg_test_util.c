#define _GNU_SOURCE
#include "tg_test_util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

char *tt_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        cr_assert_fail("vasprintf failed");
    va_end(ap);
    return s;
}

const char *tt_binary(void)
{
    const char *env = getenv("TRACEGREP_BIN");
#ifdef TG_BINARY
    return env && *env ? env : TG_BINARY;
#else
    return env && *env ? env : "tracegrep";
#endif
}

char *tt_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *tmpl = tt_fmt("%s/tracegrep-test-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(tmpl), "mkdtemp: %s", strerror(errno));
    return tmpl;
}

void tt_rmtree(const char *path)
{
    char *cmd = tt_fmt("chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", path, path);
    int rc = system(cmd);
    (void)rc;
    free(cmd);
}

char *tt_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1 >= cap)
            buf = realloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

void tt_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(data, 1, len, f), len, "write %s", path);
    cr_assert_eq(fclose(f), 0, "close %s", path);
}

typedef struct sink {
    char *p;
    size_t n, cap;
} sink;

static void sink_add(sink *s, const char *p, size_t n)
{
    if (s->n + n + 1 > s->cap) {
        while (s->n + n + 1 > s->cap)
            s->cap = s->cap ? s->cap * 2 : 4096;
        s->p = realloc(s->p, s->cap);
    }
    memcpy(s->p + s->n, p, n);
    s->n += n;
    s->p[s->n] = '\0';
}

tt_run tt_sh(const char *cmdline, const char *stdin_data)
{
    int in[2], out[2], err[2];
    signal(SIGPIPE, SIG_IGN); /* a child that stops reading stdin must not kill us */
    cr_assert(pipe(in) == 0 && pipe(out) == 0 && pipe(err) == 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]), close(err[0]), close(err[1]);
        execl("/bin/sh", "sh", "-c", cmdline, (char *)NULL);
        _exit(127);
    }
    close(in[0]), close(out[1]), close(err[1]);
    size_t in_len = stdin_data ? strlen(stdin_data) : 0, in_off = 0;
    if (in_len == 0)
        close(in[1]), in[1] = -1;
    else
        fcntl(in[1], F_SETFL, O_NONBLOCK);
    sink so = {0}, se = {0};
    sink_add(&so, "", 0);
    sink_add(&se, "", 0);
    int open_fds = 2;
    while (open_fds > 0 || in[1] >= 0) {
        struct pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in[1], POLLOUT, 0}};
        if (poll(fds, 3, -1) < 0 && errno != EINTR)
            break;
        char buf[65536];
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                ssize_t got = read(fds[i].fd, buf, sizeof buf);
                if (got <= 0) {
                    close(fds[i].fd);
                    if (i == 0)
                        out[0] = -1;
                    else
                        err[0] = -1;
                    open_fds--;
                } else {
                    sink_add(i == 0 ? &so : &se, buf, (size_t)got);
                }
            }
        }
        if (in[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t put = write(in[1], stdin_data + in_off, in_len - in_off);
            if (put > 0)
                in_off += (size_t)put;
            if (put < 0 || in_off == in_len)
                close(in[1]), in[1] = -1;
        }
    }
    int wst = 0;
    waitpid(pid, &wst, 0);
    tt_run r = {so.p, so.n, se.p, se.n, 0};
    r.status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
    return r;
}

void tt_run_free(tt_run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

size_t tt_count(const char *hay, const char *needle)
{
    /* memmem over what is left, not strstr: ASan's strstr measures the
     * whole rest of the haystack at every call, which made counting the
     * lines of a few megabytes quadratic (about 20 s a test under ASan). */
    size_t c = 0, nl = strlen(needle), left = strlen(hay);
    if (nl == 0)
        return 0;
    for (const char *p = hay, *q; (q = memmem(p, left, needle, nl)) != NULL; p = q + nl) {
        left -= (size_t)(q - p) + nl;
        c++;
    }
    return c;
}

/* A recursive-descent JSON checker: enough to prove every printed line
 * parses, without a JSON library in the test dependencies. */
typedef struct jp {
    const unsigned char *p, *end;
    int depth;
} jp;

static void jp_ws(jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int jp_value(jp *j);

static int jp_string(jp *j)
{
    if (j->p >= j->end || *j->p != '"')
        return 0;
    j->p++;
    while (j->p < j->end) {
        unsigned char c = *j->p;
        if (c == '"') {
            j->p++;
            return 1;
        }
        if (c < 0x20)
            return 0;
        if (c == '\\') {
            j->p++;
            if (j->p >= j->end)
                return 0;
            c = *j->p;
            if (c == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (j->p + i >= j->end || !strchr("0123456789abcdefABCDEF", j->p[i]) ||
                        j->p[i] == 0)
                        return 0;
                j->p += 5;
                continue;
            }
            if (!strchr("\"\\/bfnrt", c) || c == 0)
                return 0;
            j->p++;
            continue;
        }
        if (c < 0x80) {
            j->p++;
            continue;
        }
        int len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
        if (!len || j->p + len > j->end)
            return 0;
        for (int i = 1; i < len; i++)
            if ((j->p[i] & 0xc0) != 0x80)
                return 0;
        j->p += len;
    }
    return 0;
}

static int jp_number(jp *j)
{
    const unsigned char *s = j->p;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p >= j->end)
        return 0;
    if (*j->p == '0')
        j->p++;
    else if (*j->p >= '1' && *j->p <= '9')
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    else
        return 0;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        const unsigned char *d = j->p;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
        if (j->p == d)
            return 0;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        const unsigned char *d = j->p;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
        if (j->p == d)
            return 0;
    }
    return j->p > s;
}

static int jp_lit(jp *j, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
        return 0;
    j->p += n;
    return 1;
}

static int jp_value(jp *j)
{
    if (++j->depth > 64)
        return 0;
    jp_ws(j);
    if (j->p >= j->end)
        return 0;
    int ok;
    unsigned char c = *j->p;
    if (c == '{' || c == '[') {
        unsigned char close = c == '{' ? '}' : ']';
        j->p++;
        jp_ws(j);
        if (j->p < j->end && *j->p == close) {
            j->p++;
            j->depth--;
            return 1;
        }
        for (;;) {
            if (c == '{') {
                jp_ws(j);
                if (!jp_string(j))
                    return 0;
                jp_ws(j);
                if (j->p >= j->end || *j->p != ':')
                    return 0;
                j->p++;
            }
            if (!jp_value(j))
                return 0;
            jp_ws(j);
            if (j->p < j->end && *j->p == ',') {
                j->p++;
                continue;
            }
            if (j->p < j->end && *j->p == close) {
                j->p++;
                break;
            }
            return 0;
        }
        ok = 1;
    } else if (c == '"') {
        ok = jp_string(j);
    } else if (c == 't') {
        ok = jp_lit(j, "true");
    } else if (c == 'f') {
        ok = jp_lit(j, "false");
    } else if (c == 'n') {
        ok = jp_lit(j, "null");
    } else {
        ok = jp_number(j);
    }
    j->depth--;
    return ok;
}

int tt_json_valid(const char *s, size_t n)
{
    jp j = {(const unsigned char *)s, (const unsigned char *)s + n, 0};
    if (!jp_value(&j))
        return 0;
    jp_ws(&j);
    return j.p == j.end;
}

unsigned long long tt_json_u64(const char *json, const char *key)
{
    char *pat = tt_fmt("\"%s\":", key);
    const char *at = strstr(json, pat);
    cr_assert_not_null(at, "key %s missing in %.300s", key, json);
    unsigned long long v = strtoull(at + strlen(pat), NULL, 10);
    free(pat);
    return v;
}

unsigned long long tt_json_obj_u64(const char *json, const char *obj, const char *key)
{
    char *pat = tt_fmt("\"%s\":{", obj);
    const char *at = strstr(json, pat);
    cr_assert_not_null(at, "no %s in %.300s", obj, json);
    free(pat);
    const char *end = strchr(at, '}');
    char *k = tt_fmt("\"%s\":", key);
    const char *v = strstr(at, k);
    cr_assert(v && v < end, "no %s.%s", obj, key);
    unsigned long long n = strtoull(v + strlen(k), NULL, 10);
    free(k);
    return n;
}

char *tt_json_str(const char *json, const char *key)
{
    char *pat = tt_fmt("\"%s\":\"", key);
    const char *at = strstr(json, pat);
    char *out = NULL;
    if (at) {
        at += strlen(pat);
        const char *end = strchr(at, '"');
        if (end)
            out = strndup(at, (size_t)(end - at));
    }
    free(pat);
    return out;
}

tt_truth tt_truth_read(const char *path)
{
    tt_truth t;
    memset(&t, 0, sizeof t);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "truth file %s: %s", path, strerror(errno));
    char line[512];
    size_t cap = 0, tfcap = 0;
    while (fgets(line, sizeof line, f)) {
        char key[64];
        unsigned long long v;
        if (line[0] == '#')
            continue;
        if (strncmp(line, "format\t", 7) == 0) {
            char name[32];
            unsigned long long l, e, m;
            cr_assert_eq(sscanf(line + 7, "%31s %llu %llu %llu", name, &l, &e, &m), 4,
                         "bad truth line: %s", line);
            int k = tt_fmt_index(name);
            cr_assert_geq(k, 0, "unknown format in truth: %s", name);
            t.fmt_lines[k] = l, t.fmt_events[k] = e, t.fmt_malformed[k] = m;
            t.has_formats = 1;
            continue;
        }
        if (strncmp(line, "tracefmt\t", 9) == 0) {
            if (t.ntf == tfcap) {
                tfcap = tfcap ? tfcap * 2 : 1024;
                t.tf = realloc(t.tf, tfcap * sizeof *t.tf);
            }
            tt_truth_fmt *tf = &t.tf[t.ntf++];
            cr_assert_eq(sscanf(line + 9, "%35s %lu %lu %lu %lu %lu", tf->id, &tf->n[0], &tf->n[1],
                                &tf->n[2], &tf->n[3], &tf->n[4]),
                         6, "bad truth line: %s", line);
            continue;
        }
        if (strncmp(line, "trace\t", 6) == 0) {
            if (t.nt == cap) {
                cap = cap ? cap * 2 : 1024;
                t.t = realloc(t.t, cap * sizeof *t.t);
            }
            tt_truth_trace *tr = &t.t[t.nt];
            int got = sscanf(line + 6, "%35s %lu %lld %lld %u %u", tr->id, &tr->events,
                             &tr->start_us, &tr->end_us, &tr->worst, &tr->lbs);
            cr_assert_eq(got, 6, "bad truth line: %s", line);
            t.nt++;
            continue;
        }
        cr_assert_eq(sscanf(line, "%63s %llu", key, &v), 2, "bad truth line: %s", line);
        if (!strcmp(key, "lines"))
            t.lines = v;
        else if (!strcmp(key, "header_lines"))
            t.header_lines = v;
        else if (!strcmp(key, "events"))
            t.events = v;
        else if (!strcmp(key, "malformed"))
            t.malformed = v;
        else if (!strcmp(key, "malformed.no-root"))
            t.no_root = v;
        else if (!strcmp(key, "malformed.bad-root"))
            t.bad_root = v;
        else if (!strcmp(key, "malformed.zero-root"))
            t.zero_root = v;
        else if (!strcmp(key, "traces"))
            t.traces = v;
        else if (!strcmp(key, "multi_event_traces"))
            t.multi = v;
        else if (!strcmp(key, "traces_5xx"))
            t.traces_5xx = v;
        else if (!strcmp(key, "joined.alb-conn"))
            t.joined_conn = v;
        else if (!strcmp(key, "joined.cloudfront"))
            t.joined_cf = v;
        else if (!strcmp(key, "cloudfront.unmatched"))
            t.cf_unmatched = v;
    }
    fclose(f);
    cr_assert_eq(t.nt, t.traces, "truth lists %zu traces but counts %llu", t.nt, t.traces);
    return t;
}

const tt_truth_trace *tt_truth_find(const tt_truth *t, const char *id)
{
    for (size_t i = 0; i < t->nt; i++)
        if (strcmp(t->t[i].id, id) == 0)
            return &t->t[i];
    return NULL;
}

int tt_fmt_index(const char *name)
{
    static const char *const names[TT_NFMT] = {"alb", "alb-conn", "cloudfront", "app", "lambda"};
    for (int i = 0; i < TT_NFMT; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

void tt_truth_free(tt_truth *t)
{
    free(t->t);
    free(t->tf);
    memset(t, 0, sizeof *t);
}

static uint64_t tt_rnd_state = 0x9e3779b97f4a7c15ull;

uint64_t tt_rnd(void)
{
    tt_rnd_state ^= tt_rnd_state >> 12;
    tt_rnd_state ^= tt_rnd_state << 25;
    tt_rnd_state ^= tt_rnd_state >> 27;
    return tt_rnd_state * 0x2545f4914f6cdd1dull;
}

unsigned tt_rnd_below(unsigned n)
{
    return (unsigned)(tt_rnd() % n);
}

size_t tt_append_frags(char *line, size_t n, size_t cap, const char *const *frags,
                       size_t nfrags, unsigned parts)
{
    for (unsigned k = 0; k < parts; k++) {
        const char *f = frags[tt_rnd_below((unsigned)nfrags)];
        size_t len = strlen(f);
        if (n + len > cap)
            break;
        memcpy(line + n, f, len);
        n += len;
    }
    return n;
}

int tt_thp_advice(const void *p)
{
    if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) != 0)
        return -1;
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return -1;
    char line[512];
    bool inside = false;
    int r = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
            inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
        } else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
            r = strstr(line, " hg") ? 'h' : strstr(line, " nh") ? 'n' : '-';
            break;
        }
    }
    fclose(f);
    return r;
}
