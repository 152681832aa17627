/*
 * Tests of the input stage's readers: format sniffing, the streaming reader
 * over plain, gzip and zstd data (members, frames, damage, line assembly,
 * oversized lines), and mapfile. Compressed fixtures are made with the gzip
 * and zstd command-line tools in a fresh folder per test.
 */
#define _GNU_SOURCE
#include "input/mapfile.h"
#include "input/reader.h"
#include "tg_test_util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

/* What the callback saw. Every block is checked against the original bytes
 * at its offset, so a wrong offset or a wrong byte fails the test. */
typedef struct collect {
    char *data;
    size_t n, cap;
    size_t blocks;
    const char *orig; /* when set: each block must equal orig[off, off + n) */
    size_t orig_n;
    int unterminated;     /* a block not ending in '\n' was seen... */
    int after_unterminated; /* ...and another block came after it */
    int bad_off;
    uint64_t last_end;    /* offset just past the previous block */
    int backwards;
    size_t stop_after;    /* stop after this many blocks (0: never) */
} collect;

static int collect_fn(void *ctx, const char *p, size_t n, uint64_t off)
{
    collect *c = ctx;
    cr_assert_gt(n, 0, "empty block delivered");
    if (c->unterminated)
        c->after_unterminated = 1;
    if (p[n - 1] != '\n')
        c->unterminated = 1;
    if (off < c->last_end)
        c->backwards = 1;
    c->last_end = off + n;
    if (c->orig && (off + n > c->orig_n || memcmp(c->orig + off, p, n) != 0))
        c->bad_off = 1;
    if (c->n + n + 1 > c->cap) {
        while (c->n + n + 1 > c->cap)
            c->cap = c->cap ? c->cap * 2 : 4096;
        c->data = realloc(c->data, c->cap);
        cr_assert_not_null(c->data);
    }
    memcpy(c->data + c->n, p, n);
    c->n += n;
    c->data[c->n] = '\0';
    c->blocks++;
    return c->stop_after && c->blocks >= c->stop_after;
}

static void collect_check(const collect *c)
{
    cr_assert_not(c->after_unterminated, "a block without a final newline was not the last");
    cr_assert_not(c->bad_off, "a block does not match the original at its offset");
    cr_assert_not(c->backwards, "offsets went backwards");
}

static void sh_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh_ok(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = NULL;
    cr_assert_geq(vasprintf(&cmd, fmt, ap), 0);
    va_end(ap);
    tt_run r = tt_sh(cmd, NULL);
    cr_assert_eq(r.status, 0, "%s failed: %s", cmd, r.err);
    tt_run_free(&r);
    free(cmd);
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "stat %s", path);
    return (uint64_t)st.st_size;
}

/* Streams a file as the tool does with stdin: take a head of headlen bytes
 * with read(2), sniff it, hand it over with the descriptor. */
static int read_path_head(in_reader *r, const char *path, size_t headlen, collect *c,
                          in_result *res, in_kind *kind_out)
{
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    unsigned char head[64];
    cr_assert_leq(headlen, sizeof head);
    ssize_t got = read(fd, head, headlen);
    cr_assert_geq(got, 0);
    in_kind k = in_sniff(head, (size_t)got);
    if (kind_out)
        *kind_out = k;
    int rc = in_reader_stream(r, fd, head, (size_t)got, k, collect_fn, c, res);
    close(fd);
    return rc;
}

static int read_path(in_reader *r, const char *path, collect *c, in_result *res)
{
    return read_path_head(r, path, 4, c, res, NULL);
}

/* Deterministic text: numbered lines of varied length, ALB-like. */
static char *make_text(size_t target, unsigned seed, size_t *len)
{
    char *t = malloc(target + 512);
    size_t n = 0;
    unsigned x = seed * 2654435761u + 1;
    for (size_t i = 0; n < target; i++) {
        x = x * 1103515245u + 12345u;
        int pad = (int)((x >> 16) % 180);
        n += (size_t)sprintf(t + n, "%zu https 2024-01-01T00:00:%02zu.123456Z app/lb/%08x \"%.*s\"\n",
                             i, i % 60, x, pad,
                             "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1 GET http://"
                             "example.com:80/some/long/path/that/goes/on/and/on?query=string&"
                             "more=values&and=more&still=more&even=more&x=1&y=2&z=3&w=4&"
                             "zz=5&end=yes&really=end&fin=1&q=2&r=3&s=4&t=5&u=6&v=7");
    }
    *len = n;
    return t;
}

static size_t count_lines(const char *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += p[i] == '\n';
    return c;
}

/* The lines a reader with this max_line must deliver, and how many it must
 * skip. */
static char *expected_lines(const char *t, size_t n, size_t max_line, size_t *out_n,
                            uint64_t *oversized)
{
    char *e = malloc(n + 1);
    size_t en = 0, i = 0;
    *oversized = 0;
    while (i < n) {
        const char *nl = memchr(t + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - t) + 1 : n;
        size_t content = end - i - (nl ? 1 : 0);
        if (content <= max_line) {
            memcpy(e + en, t + i, end - i);
            en += end - i;
        } else {
            (*oversized)++;
        }
        i = end;
    }
    e[en] = '\0';
    *out_n = en;
    return e;
}

static in_reader *reader_or_die(size_t max_line)
{
    in_reader *r = in_reader_new(max_line);
    cr_assert_not_null(r);
    return r;
}

/* ---- sniffing ----------------------------------------------------------- */

Test(input_sniff, magic_bytes)
{
    const unsigned char gz[] = {0x1f, 0x8b, 8, 0}, zs[] = {0x28, 0xb5, 0x2f, 0xfd},
                        skip0[] = {0x50, 0x2a, 0x4d, 0x18}, skipf[] = {0x5f, 0x2a, 0x4d, 0x18},
                        notskip[] = {0x60, 0x2a, 0x4d, 0x18}, txt[] = "http";
    cr_assert_eq(in_sniff(gz, 4), IN_GZIP);
    cr_assert_eq(in_sniff(gz, 2), IN_GZIP);
    cr_assert_eq(in_sniff(gz, 1), IN_PLAIN);
    cr_assert_eq(in_sniff(zs, 4), IN_ZSTD);
    cr_assert_eq(in_sniff(zs, 3), IN_PLAIN);
    cr_assert_eq(in_sniff(skip0, 4), IN_ZSTD);
    cr_assert_eq(in_sniff(skipf, 4), IN_ZSTD);
    cr_assert_eq(in_sniff(notskip, 4), IN_PLAIN);
    cr_assert_eq(in_sniff(txt, 4), IN_PLAIN);
    cr_assert_eq(in_sniff(NULL, 0), IN_PLAIN);
    cr_assert_str_eq(in_kind_name(IN_PLAIN), "plain");
    cr_assert_str_eq(in_kind_name(IN_GZIP), "gzip");
    cr_assert_str_eq(in_kind_name(IN_ZSTD), "zstd");
}

/* ---- members, frames, empty inputs -------------------------------------- */

/* Two parts whose boundary falls inside a line: the line must come out whole. */
static void multi_part(const char *tool)
{
    char *dir = tt_tmpdir();
    size_t n1, n2;
    char *t1 = make_text(3u << 20, 1, &n1), *t2 = make_text(2u << 20, 2, &n2);
    n1 -= 7; /* cut the last line of part one short: it continues in part two */
    char *p1 = tt_fmt("%s/p1", dir), *p2 = tt_fmt("%s/p2", dir), *z = tt_fmt("%s/all.z", dir);
    tt_write_file(p1, t1, n1);
    tt_write_file(p2, t2, n2);
    sh_ok("%s -c '%s' > '%s' && %s -c '%s' >> '%s'", tool, p1, z, tool, p2, z);
    char *orig = malloc(n1 + n2);
    memcpy(orig, t1, n1);
    memcpy(orig + n1, t2, n2);

    in_reader *r = reader_or_die(4096);
    collect c = {.orig = orig, .orig_n = n1 + n2};
    in_result res;
    cr_assert_eq(read_path(r, z, &c, &res), IN_OK, "%s", res.err);
    cr_assert_str_eq(res.err, "");
    collect_check(&c);
    cr_assert_eq(c.n, n1 + n2, "got %zu of %zu bytes", c.n, n1 + n2);
    cr_assert_eq(memcmp(c.data, orig, c.n), 0);
    cr_assert_eq(res.bytes_out, n1 + n2);
    cr_assert_eq(res.bytes_in, file_size(z));
    cr_assert_eq(res.oversized, 0);
    cr_assert_gt(c.blocks, 2);
    in_reader_free(r);
    free(c.data), free(orig), free(t1), free(t2), free(p1), free(p2), free(z);
    tt_rmtree(dir);
    free(dir);
}

Test(input_gzip, multi_member) { multi_part("gzip"); }
Test(input_zstd, multi_frame) { multi_part("zstd -q"); }

/* A small compressed fixture: printf-escaped text through a tool. */
static char *fixture(const char *dir, const char *name, const char *printf_text, const char *tool)
{
    char *path = tt_fmt("%s/%s", dir, name);
    if (tool)
        sh_ok("printf '%s' | %s -c > '%s'", printf_text, tool, path);
    else
        sh_ok("printf '%s' > '%s'", printf_text, path);
    return path;
}

Test(input_zstd, skippable_frames)
{
    char *dir = tt_tmpdir();
    char *a = fixture(dir, "a", "one\\ntw", "zstd -q"), *b = fixture(dir, "b", "o\\nthree\\n", "zstd -q");
    char *z = tt_fmt("%s/z", dir);
    /* A skippable frame first (so sniffing must know it), one between. */
    sh_ok("printf '\\120\\052\\115\\030\\003\\000\\000\\000abc' > '%s' && cat '%s' >> '%s' && "
          "printf '\\137\\052\\115\\030\\000\\000\\000\\000' >> '%s' && cat '%s' >> '%s'",
          z, a, z, z, b, z);
    in_reader *r = reader_or_die(100);
    collect c = {0};
    in_result res;
    in_kind k;
    cr_assert_eq(read_path_head(r, z, 4, &c, &res, &k), IN_OK, "%s", res.err);
    cr_assert_eq(k, IN_ZSTD);
    cr_assert_str_eq(c.data, "one\ntwo\nthree\n");
    cr_assert_eq(res.bytes_in, file_size(z));
    in_reader_free(r);
    free(a), free(b), free(z), free(c.data);
    tt_rmtree(dir);
    free(dir);
}

Test(input_gzip, trailing_zeros_and_garbage)
{
    char *dir = tt_tmpdir();
    char *g = fixture(dir, "g", "a\\nb\\n", "gzip");
    uint64_t gsize = file_size(g);
    char *zeros = tt_fmt("%s/zeros", dir), *junk = tt_fmt("%s/junk", dir);
    sh_ok("cat '%s' > '%s' && head -c 1000 /dev/zero >> '%s'", g, zeros, zeros);
    sh_ok("cat '%s' > '%s' && printf 'x\\n' >> '%s'", g, junk, junk);
    in_reader *r = reader_or_die(100);
    in_result res;
    collect c = {0};
    cr_assert_eq(read_path(r, zeros, &c, &res), IN_OK, "%s", res.err);
    cr_assert_str_eq(c.data, "a\nb\n");
    cr_assert_eq(res.bytes_in, gsize + 1000);
    free(c.data);

    collect d = {0};
    cr_assert_eq(read_path(r, junk, &d, &res), IN_FAILED);
    char *want = tt_fmt("trailing garbage after gzip member at byte %llu", (unsigned long long)gsize);
    cr_assert_str_eq(res.err, want);
    cr_assert_eq(res.err_offset, gsize);
    cr_assert_str_eq(d.data, "a\nb\n", "lines before the garbage are delivered");
    in_reader_free(r);
    free(d.data), free(want), free(g), free(zeros), free(junk);
    tt_rmtree(dir);
    free(dir);
}

Test(input, empty_inputs)
{
    char *dir = tt_tmpdir();
    char *plain = fixture(dir, "p", "", NULL), *gz = fixture(dir, "g", "", "gzip"),
         *zs = fixture(dir, "z", "", "zstd -q");
    in_reader *r = reader_or_die(100);
    const char *paths[] = {plain, gz, zs};
    for (int i = 0; i < 3; i++) {
        collect c = {0};
        in_result res;
        cr_assert_eq(read_path(r, paths[i], &c, &res), IN_OK, "%s: %s", paths[i], res.err);
        cr_assert_eq(c.blocks, 0);
        cr_assert_eq(res.bytes_out, 0);
        cr_assert_eq(res.bytes_in, file_size(paths[i]));
        cr_assert_str_eq(res.err, "");
    }
    /* Nothing at all where a compressed stream was promised. */
    int fd = open(plain, O_RDONLY);
    collect c = {0};
    in_result res;
    cr_assert_eq(in_reader_stream(r, fd, NULL, 0, IN_GZIP, collect_fn, &c, &res), IN_FAILED);
    cr_assert_str_eq(res.err, "truncated gzip stream at byte 0");
    lseek(fd, 0, SEEK_SET);
    cr_assert_eq(in_reader_stream(r, fd, NULL, 0, IN_ZSTD, collect_fn, &c, &res), IN_FAILED);
    cr_assert_str_eq(res.err, "truncated zstd stream at byte 0");
    close(fd);
    in_reader_free(r);
    free(plain), free(gz), free(zs);
    tt_rmtree(dir);
    free(dir);
}

Test(input, no_final_newline_and_crlf)
{
    char *dir = tt_tmpdir();
    const char *tools[] = {NULL, "gzip", "zstd -q"};
    in_reader *r = reader_or_die(100);
    for (int i = 0; i < 3; i++) {
        char *p = fixture(dir, "f", "a\\r\\nbb\\r\\n\\r\\nlast", tools[i]);
        collect c = {.orig = "a\r\nbb\r\n\r\nlast", .orig_n = 13};
        in_result res;
        cr_assert_eq(read_path(r, p, &c, &res), IN_OK, "%s", res.err);
        collect_check(&c);
        cr_assert_str_eq(c.data, "a\r\nbb\r\n\r\nlast");
        cr_assert(c.unterminated, "the last line has no newline");
        cr_assert_eq(c.last_end, 13);
        cr_assert_eq(res.bytes_out, 13);
        free(p), free(c.data);
    }
    in_reader_free(r);
    tt_rmtree(dir);
    free(dir);
}

/* ---- damage ------------------------------------------------------------- */

/* Cuts a compressed copy of a large text in half: the reader must say
 * "truncated" at the cut and deliver the whole lines before it. */
static void truncated(const char *tool, const char *dtool, const char *what)
{
    char *dir = tt_tmpdir();
    size_t n;
    char *t = make_text(4u << 20, 3, &n);
    char *p = tt_fmt("%s/t", dir), *z = tt_fmt("%s/t.z", dir), *cut = tt_fmt("%s/cut", dir);
    tt_write_file(p, t, n);
    sh_ok("%s -c '%s' > '%s'", tool, p, z);
    uint64_t half = file_size(z) / 2;
    sh_ok("head -c %llu '%s' > '%s'", (unsigned long long)half, z, cut);
    /* What the reference tool gets out of the same cut file. */
    char *refcmd = tt_fmt("%s -dc < '%s'", dtool, cut);
    tt_run ref = tt_sh(refcmd, NULL);
    free(refcmd);
    size_t ref_lines = count_lines(ref.out, ref.out_len);

    in_reader *r = reader_or_die(4096);
    collect c = {.orig = t, .orig_n = n};
    in_result res;
    cr_assert_eq(read_path(r, cut, &c, &res), IN_FAILED);
    char *want = tt_fmt("truncated %s stream at byte %llu", what, (unsigned long long)half);
    cr_assert_str_eq(res.err, want);
    cr_assert_eq(res.err_offset, half);
    collect_check(&c);
    cr_assert_eq(memcmp(c.data, t, c.n), 0, "delivered a prefix of the original");
    cr_assert_eq(c.data[c.n - 1], '\n', "only whole lines");
    size_t lines = count_lines(c.data, c.n);
    cr_assert_gt(lines, 1000);
    cr_assert(lines + 1 >= ref_lines && lines <= ref_lines + 1,
              "%zu lines delivered, %s -dc recovers %zu", lines, dtool, ref_lines);
    cr_assert_eq(res.bytes_in, half);
    in_reader_free(r);
    tt_run_free(&ref);
    free(t), free(p), free(z), free(cut), free(want), free(c.data);
    tt_rmtree(dir);
    free(dir);
}

Test(input_gzip, truncated) { truncated("gzip", "gzip", "gzip"); }
Test(input_zstd, truncated) { truncated("zstd -q", "zstd -q", "zstd"); }

/* Overwrites one byte of a file. */
static void flip_byte(const char *path, uint64_t at)
{
    size_t n;
    char *d = tt_read_file(path, &n);
    cr_assert_lt(at, n);
    d[at] ^= 0x5a;
    tt_write_file(path, d, n);
    free(d);
}

Test(input_gzip, bad_crc)
{
    char *dir = tt_tmpdir();
    size_t n;
    char *t = make_text(1u << 20, 4, &n);
    char *p = tt_fmt("%s/t", dir), *z = tt_fmt("%s/t.gz", dir);
    tt_write_file(p, t, n);
    sh_ok("gzip -c '%s' > '%s'", p, z);
    flip_byte(z, file_size(z) - 8); /* the first byte of the CRC-32 */
    in_reader *r = reader_or_die(4096);
    collect c = {.orig = t, .orig_n = n};
    in_result res;
    cr_assert_eq(read_path(r, z, &c, &res), IN_FAILED);
    cr_assert(strstr(res.err, "corrupt gzip data at byte ") == res.err, "%s", res.err);
    cr_assert(strstr(res.err, "bad CRC"), "%s", res.err);
    cr_assert_gt(res.err_offset, file_size(z) - 16);
    collect_check(&c);
    cr_assert_eq(c.n, n, "the data before the trailer was delivered");
    in_reader_free(r);
    free(t), free(p), free(z), free(c.data);
    tt_rmtree(dir);
    free(dir);
}

Test(input_gzip, corrupt_block)
{
    char *dir = tt_tmpdir();
    char *z = tt_fmt("%s/t.gz", dir);
    /* A stored (type 0) block whose length check NLEN is wrong. */
    sh_ok("printf '\\037\\213\\010\\000\\000\\000\\000\\000\\000\\003\\001\\002\\000\\000\\000"
          "a\\n\\000\\000\\000\\000\\000\\000\\000' > '%s'", z);
    in_reader *r = reader_or_die(100);
    collect c = {0};
    in_result res;
    cr_assert_eq(read_path(r, z, &c, &res), IN_FAILED);
    cr_assert_str_eq(res.err, "corrupt gzip data at byte 15: invalid block", "%s", res.err);
    in_reader_free(r);
    free(z);
    tt_rmtree(dir);
    free(dir);
}

/* A damaged deflate stream (found by fuzzing) on which ISA-L writes bytes
 * from its window that this stream never produced before it reports the bad
 * distance. After a file of 'Q' lines, those bytes would be 'Q's. */
Test(input_gzip, corrupt_never_leaks_old_bytes)
{
    static const unsigned char bad[] = {
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x61, 0x62, 0x63, 0x64, 0x65, 0x6e, 0x61,
        0x6d, 0x65, 0x00, 0x63, 0x6f, 0x6d, 0x00, 0x42, 0xb7, 0xcb, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0x48, 0xcd, 0xc9, 0xc9, 0xe7, 0x2a, 0xcf, 0x2f, 0xca, 0x49, 0xe1, 0x02, 0x00, 0xff,
        0x5d, 0xc5, 0xc4, 0x0c, 0x00, 0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x01};
    char *dir = tt_tmpdir();
    char *q = tt_fmt("%s/q", dir), *b = tt_fmt("%s/bad.gz", dir);
    size_t qn = 1u << 20;
    char *qs = malloc(qn);
    for (size_t i = 0; i < qn; i++)
        qs[i] = i % 64 == 63 ? '\n' : 'Q';
    tt_write_file(q, qs, qn);
    sh_ok("gzip -c '%s' > '%s.gz'", q, q);
    tt_write_file(b, bad, sizeof bad);
    char *qgz = tt_fmt("%s.gz", q);
    in_reader *r = reader_or_die(100);
    collect c = {0};
    in_result res;
    cr_assert_eq(read_path(r, qgz, &c, &res), IN_OK, "%s", res.err);
    cr_assert_eq(c.n, qn);
    free(c.data);
    for (int round = 0; round < 2; round++) {
        collect d = {0};
        cr_assert_eq(read_path(r, b, &d, &res), IN_FAILED);
        cr_assert(strstr(res.err, "corrupt gzip data at byte ") == res.err, "%s", res.err);
        cr_assert(d.n == 0 || memchr(d.data, 'Q', d.n) == NULL, "bytes of the previous input");
        cr_assert_eq(d.n, 0, "the call that failed delivers nothing");
        free(d.data);
    }
    in_reader_free(r);
    free(qs), free(q), free(b), free(qgz);
    tt_rmtree(dir);
    free(dir);
}

Test(input_zstd, corrupt)
{
    char *dir = tt_tmpdir();
    size_t n;
    char *t = make_text(2u << 20, 5, &n);
    char *p = tt_fmt("%s/t", dir), *z = tt_fmt("%s/t.zst", dir);
    tt_write_file(p, t, n);
    sh_ok("zstd -q -c '%s' > '%s'", p, z);
    uint64_t size = file_size(z);
    flip_byte(z, size / 2);
    flip_byte(z, size / 2 + 1);
    in_reader *r = reader_or_die(4096);
    collect c = {0};
    in_result res;
    cr_assert_eq(read_path(r, z, &c, &res), IN_FAILED);
    cr_assert(strstr(res.err, "corrupt zstd data at byte ") == res.err, "%s", res.err);
    cr_assert_gt(res.err_offset, 0);
    cr_assert_leq(res.err_offset, size);
    cr_assert_not(c.after_unterminated);
    in_reader_free(r);
    free(t), free(p), free(z), free(c.data);
    tt_rmtree(dir);
    free(dir);
}

Test(input, read_error)
{
    char *dir = tt_tmpdir();
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    in_reader *r = reader_or_die(100);
    collect c = {0};
    in_result res;
    const unsigned char head[] = "ab\nc";
    cr_assert_eq(in_reader_stream(r, fd, head, 4, IN_PLAIN, collect_fn, &c, &res), IN_FAILED);
    cr_assert_str_eq(res.err, "read error at byte 4: Is a directory");
    cr_assert_eq(res.err_offset, 4);
    cr_assert_str_eq(c.data, "ab\n", "lines before the error are delivered");
    close(fd);
    in_reader_free(r);
    free(c.data);
    tt_rmtree(dir);
    free(dir);
}

/* ---- line assembly ------------------------------------------------------ */

/* A file several times the reader's buffer: blocks must be whole lines, at
 * the running offset, and add up to the original. */
Test(input, lines_across_buffers)
{
    char *dir = tt_tmpdir();
    size_t n;
    char *t = make_text(9u << 20, 6, &n);
    char *p = tt_fmt("%s/t", dir);
    tt_write_file(p, t, n);
    sh_ok("gzip -c '%s' > '%s.gz' && zstd -q -c '%s' > '%s.zst'", p, p, p, p);
    in_reader *r = reader_or_die(1000);
    const char *sfx[] = {"", ".gz", ".zst"};
    for (int i = 0; i < 3; i++) {
        char *f = tt_fmt("%s%s", p, sfx[i]);
        collect c = {.orig = t, .orig_n = n};
        in_result res;
        cr_assert_eq(read_path(r, f, &c, &res), IN_OK, "%s", res.err);
        collect_check(&c);
        cr_assert_not(c.unterminated, "every block ends in a newline");
        cr_assert_eq(c.n, n);
        cr_assert_eq(memcmp(c.data, t, n), 0);
        cr_assert_gt(c.blocks, 8, "%s: only %zu blocks", f, c.blocks);
        cr_assert_eq(res.bytes_in, file_size(f));
        free(f), free(c.data);
    }
    in_reader_free(r);
    free(t), free(p);
    tt_rmtree(dir);
    free(dir);
}

Test(input, oversized_lines)
{
    char long_line[101];
    memset(long_line, 'x', 100);
    long_line[100] = '\0';
    char *text = tt_fmt("short\n%s\nafter\n0123456789abcdef\n0123456789abcdefg\nok\n"
                        "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", long_line);
    size_t n = strlen(text);
    char *dir = tt_tmpdir();
    char *p = tt_fmt("%s/t", dir);
    tt_write_file(p, text, n);
    sh_ok("gzip -c '%s' > '%s.gz'", p, p);
    in_reader *r = reader_or_die(16);
    const char *sfx[] = {"", ".gz"};
    for (int i = 0; i < 2; i++) {
        char *f = tt_fmt("%s%s", p, sfx[i]);
        collect c = {.orig = text, .orig_n = n};
        in_result res;
        cr_assert_eq(read_path(r, f, &c, &res), IN_OK, "%s", res.err);
        collect_check(&c);
        cr_assert_str_eq(c.data, "short\nafter\n0123456789abcdef\nok\n");
        cr_assert_eq(res.oversized, 3);
        cr_assert_eq(res.bytes_out, n);
        free(f), free(c.data);
    }
    in_reader_free(r);
    free(text), free(p);
    tt_rmtree(dir);
    free(dir);
}

/* An oversized line longer than the whole buffer is dropped across several
 * reads, and what follows keeps its true offset. */
Test(input, oversized_longer_than_buffer)
{
    size_t big = 5u << 20, n = 4 + big + 5;
    char *t = malloc(n + 1);
    memcpy(t, "one\n", 4);
    memset(t + 4, 'z', big);
    memcpy(t + 4 + big, "\ntwo\n", 6); /* with its NUL */
    char *dir = tt_tmpdir();
    char *p = tt_fmt("%s/t", dir);
    tt_write_file(p, t, n);
    sh_ok("zstd -q -c '%s' > '%s.zst'", p, p);
    in_reader *r = reader_or_die(1000);
    const char *sfx[] = {"", ".zst"};
    for (int i = 0; i < 2; i++) {
        char *f = tt_fmt("%s%s", p, sfx[i]);
        collect c = {.orig = t, .orig_n = n};
        in_result res;
        cr_assert_eq(read_path(r, f, &c, &res), IN_OK, "%s", res.err);
        collect_check(&c);
        cr_assert_str_eq(c.data, "one\ntwo\n");
        cr_assert_eq(c.last_end, n, "\"two\" came at its true offset");
        cr_assert_eq(res.oversized, 1);
        cr_assert_eq(res.bytes_out, n);
        free(f), free(c.data);
    }
    in_reader_free(r);
    free(t), free(p);
    tt_rmtree(dir);
    free(dir);
}

/* Lines of every length around max_line = 16, in an order that moves their
 * ends across every position of the reads. */
static char *small_lines(size_t *len)
{
    size_t cap = 4u << 20, n = 0;
    char *t = malloc(cap);
    unsigned x = 7;
    while (n < cap - 64) {
        x = x * 1103515245u + 12345u;
        size_t l = (x >> 16) % 40; /* 0..39, half of them over 16 */
        for (size_t i = 0; i < l; i++)
            t[n++] = (char)('a' + (i + l) % 26);
        t[n++] = '\n';
    }
    memcpy(t + n, "tail-no-newline", 15);
    *len = n + 15;
    return t;
}

static void check_small_lines(in_reader *r, int fd, const unsigned char *head, size_t hl,
                              in_kind k, const char *t, size_t n)
{
    size_t en;
    uint64_t over;
    char *want = expected_lines(t, n, 16, &en, &over);
    collect c = {.orig = t, .orig_n = n};
    in_result res;
    cr_assert_eq(in_reader_stream(r, fd, head, hl, k, collect_fn, &c, &res), IN_OK, "%s", res.err);
    collect_check(&c);
    cr_assert_eq(c.n, en, "delivered %zu bytes, want %zu", c.n, en);
    cr_assert_eq(memcmp(c.data, want, en), 0);
    cr_assert_eq(res.oversized, over);
    cr_assert_eq(res.bytes_out, n);
    free(want), free(c.data);
}

Test(input, tiny_max_line_files)
{
    size_t n;
    char *t = small_lines(&n);
    char *dir = tt_tmpdir();
    char *p = tt_fmt("%s/t", dir);
    tt_write_file(p, t, n);
    sh_ok("gzip -c '%s' > '%s.gz' && zstd -q -c '%s' > '%s.zst'", p, p, p, p);
    in_reader *r = reader_or_die(16);
    const char *sfx[] = {"", ".gz", ".zst"};
    for (int i = 0; i < 3; i++) {
        char *f = tt_fmt("%s%s", p, sfx[i]);
        int fd = open(f, O_RDONLY);
        unsigned char head[4];
        cr_assert_eq(read(fd, head, 4), 4);
        check_small_lines(r, fd, head, 4, in_sniff(head, 4), t, n);
        close(fd);
        free(f);
    }
    in_reader_free(r);
    free(t), free(p);
    tt_rmtree(dir);
    free(dir);
}

/* A child writes data into a pipe in small uneven pieces, so reads end at
 * ever different places; the first and last `slow` bytes go one at a time,
 * with a pause so that each is a read of its own. Returns the read end. */
static int pipe_writer(const char *data, size_t n, size_t slow, pid_t *pid)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    *pid = fork();
    cr_assert_geq(*pid, 0);
    if (*pid == 0) {
        close(fds[0]);
        size_t off = 0, piece = 1;
        while (off < n) {
            size_t k = piece < n - off ? piece : n - off;
            int one = off < slow || off + slow >= n;
            if (one) {
                k = 1;
                usleep(1000);
            }
            ssize_t w = write(fds[1], data + off, k);
            if (w <= 0)
                _exit(1);
            off += (size_t)w;
            piece = piece % 53 + 1;
            if (piece % 7 == 0)
                usleep(10);
        }
        _exit(0);
    }
    close(fds[1]);
    return fds[0];
}

/* A pipe hands out what was written so far: loop for a head of n bytes. */
static void read_full(int fd, unsigned char *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, p + got, n - got);
        cr_assert_gt(k, 0, "read: %s", k < 0 ? strerror(errno) : "end of input");
        got += (size_t)k;
    }
}

static void reap(pid_t pid)
{
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

Test(input, tiny_max_line_pipe)
{
    size_t n;
    char *t = small_lines(&n);
    n = 300000; /* enough pieces for a pipe fed byte-wise-ish */
    in_reader *r = reader_or_die(16);
    pid_t pid;
    int fd = pipe_writer(t, n, 0, &pid);
    unsigned char head[3];
    read_full(fd, head, 3);
    check_small_lines(r, fd, head, 3, in_sniff(head, 3), t, n);
    close(fd);
    reap(pid);
    in_reader_free(r);
    free(t);
}

/* stdin-like: a two-member gzip stream arrives through a pipe, its first
 * bytes already taken to sniff it; both members' headers and trailers come
 * a byte per read. */
Test(input, pipe_with_head)
{
    char *dir = tt_tmpdir();
    size_t n;
    char *t = make_text(2u << 20, 8, &n);
    char *p = tt_fmt("%s/t", dir);
    tt_write_file(p, t, n);
    sh_ok("gzip -c '%s' > '%s.gz' && printf 'x\\n' | gzip -c >> '%s.gz'", p, p, p);
    memcpy(t + n, "x\n", 3); /* make_text leaves room */
    char *gz = tt_fmt("%s.gz", p);
    size_t zn;
    char *z = tt_read_file(gz, &zn);
    in_reader *r = reader_or_die(4096);
    for (size_t hl = 1; hl <= 4; hl += 3) {
        pid_t pid;
        int fd = pipe_writer(z, zn, 64, &pid);
        unsigned char head[4];
        read_full(fd, head, hl);
        collect c = {.orig = t, .orig_n = n + 2};
        in_result res;
        int rc = in_reader_stream(r, fd, head, hl, IN_GZIP, collect_fn, &c, &res);
        cr_assert_eq(rc, IN_OK, "%s", res.err);
        collect_check(&c);
        cr_assert_eq(c.n, n + 2);
        cr_assert_eq(memcmp(c.data, t, n), 0);
        cr_assert_str_eq(c.data + n, "x\n");
        cr_assert_eq(res.bytes_in, zn);
        close(fd);
        reap(pid);
        free(c.data);
    }
    in_reader_free(r);
    free(t), free(p), free(gz), free(z);
    tt_rmtree(dir);
    free(dir);
}

static uint32_t crc32_bytes(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

/* The reader's first chunk is the caller's head, so a head of k bytes splits
 * the stream at byte k: every header field and the start of the data must
 * survive a split anywhere. The gzip header carries every optional field
 * (FEXTRA, FNAME, FCOMMENT, FHCRC). */
Test(input, head_split_everywhere)
{
    char *dir = tt_tmpdir();
    char *g = fixture(dir, "g", "hello\\nworld\\n", "gzip -n"),
         *z = fixture(dir, "z", "hello\\nworld\\n", "zstd -q"),
         *plain = fixture(dir, "hello.log", "hello\\nworld\\n", NULL);
    char *named = tt_fmt("%s/named.gz", dir);
    sh_ok("gzip -c '%s' > '%s'", plain, named); /* FNAME "hello.log" */
    size_t gn, zn, nn;
    unsigned char *gz = (unsigned char *)tt_read_file(g, &gn);
    unsigned char *zs = (unsigned char *)tt_read_file(z, &zn);
    unsigned char *nm = (unsigned char *)tt_read_file(named, &nn);
    unsigned char full[256];
    const unsigned char hdr[] = {0x1f, 0x8b, 8, 0x1e, 0, 0, 0, 0, 0, 3, 5, 0, 'a', 'b', 'c',
                                 'd', 'e', 'n', 'a', 'm', 'e', 0, 'c', 'o', 'm', 0};
    memcpy(full, hdr, sizeof hdr);
    uint32_t hcrc = crc32_bytes(hdr, sizeof hdr);
    full[sizeof hdr] = (unsigned char)hcrc;
    full[sizeof hdr + 1] = (unsigned char)(hcrc >> 8);
    size_t fn = sizeof hdr + 2 + gn - 10;
    cr_assert_lt(fn, sizeof full);
    memcpy(full + sizeof hdr + 2, gz + 10, gn - 10);
    char *fp = tt_fmt("%s/full.gz", dir);
    tt_write_file(fp, full, fn);
    char *cmd = tt_fmt("gzip -dc '%s'", fp);
    tt_run check = tt_sh(cmd, NULL);
    free(cmd);
    cr_assert_str_eq(check.out, "hello\nworld\n", "the crafted header is valid: %s", check.err);

    struct { const char *path; const unsigned char *data; size_t n; in_kind k; } cases[] = {
        {g, gz, gn, IN_GZIP}, {named, nm, nn, IN_GZIP}, {fp, full, fn, IN_GZIP},
        {z, zs, zn, IN_ZSTD}};
    in_reader *r = reader_or_die(100);
    for (int c = 0; c < 4; c++) {
        for (size_t k = 1; k < cases[c].n; k++) {
            int fd = open(cases[c].path, O_RDONLY);
            cr_assert_eq(lseek(fd, (off_t)k, SEEK_SET), (off_t)k);
            collect col = {0};
            in_result res;
            int rc = in_reader_stream(r, fd, cases[c].data, k, cases[c].k, collect_fn, &col, &res);
            cr_assert_eq(rc, IN_OK, "%s split at %zu: %s", cases[c].path, k, res.err);
            cr_assert_str_eq(col.data, "hello\nworld\n", "%s split at %zu", cases[c].path, k);
            cr_assert_eq(res.bytes_in, cases[c].n);
            close(fd);
            free(col.data);
        }
    }
    in_reader_free(r);
    tt_run_free(&check);
    free(gz), free(zs), free(nm), free(g), free(z), free(plain), free(named), free(fp);
    tt_rmtree(dir);
    free(dir);
}

Test(input, callback_stops)
{
    char *dir = tt_tmpdir();
    size_t n;
    char *t = make_text(4u << 20, 9, &n);
    char *p = tt_fmt("%s/t", dir);
    tt_write_file(p, t, n);
    sh_ok("gzip -c '%s' > '%s.gz'", p, p);
    char *gz = tt_fmt("%s.gz", p);
    in_reader *r = reader_or_die(4096);
    collect c = {.stop_after = 1};
    in_result res;
    cr_assert_eq(read_path(r, gz, &c, &res), IN_STOPPED);
    cr_assert_eq(c.blocks, 1);
    cr_assert_str_eq(res.err, "");
    /* The same reader then reads a whole input from the start. */
    collect d = {.orig = t, .orig_n = n};
    cr_assert_eq(read_path(r, gz, &d, &res), IN_OK);
    cr_assert_eq(d.n, n);
    in_reader_free(r);
    free(c.data), free(d.data), free(t), free(p), free(gz);
    tt_rmtree(dir);
    free(dir);
}

/* ---- mapfile ------------------------------------------------------------ */

Test(mapfile, maps_and_empty)
{
    char *dir = tt_tmpdir();
    char *p = tt_fmt("%s/f", dir), *e = tt_fmt("%s/e", dir);
    tt_write_file(p, "hello\nworld\n", 12);
    tt_write_file(e, "", 0);
    int fd = open(p, O_RDONLY);
    mapfile m;
    cr_assert_eq(mapfile_open(&m, fd, 12), 0);
    close(fd); /* the mapping outlives the descriptor */
    cr_assert_eq(m.n, 12);
    cr_assert_eq(memcmp(m.p, "hello\nworld\n", 12), 0);
    mapfile_close(&m);
    cr_assert_null(m.p);
    cr_assert_eq(m.n, 0);

    fd = open(e, O_RDONLY);
    cr_assert_eq(mapfile_open(&m, fd, 0), 0);
    cr_assert_null(m.p);
    cr_assert_eq(m.n, 0);
    mapfile_close(&m);
    close(fd);

    cr_assert_eq(mapfile_open(&m, -1, 12), EBADF);
    cr_assert_null(m.p);
    free(p), free(e);
    tt_rmtree(dir);
    free(dir);
}
