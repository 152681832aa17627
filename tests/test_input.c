/*
 * Tests of the input stage's readers: format sniffing, the streaming reader
 * over plain, gzip and zstd data (members, frames, damage, line assembly,
 * oversized lines, heads and pipes), and mapfile. Compressed fixtures are
 * made with the gzip and zstd command-line tools in a fresh folder per test.
 *
 * Every stream test runs twice, with the reader sequential and with
 * read-ahead on (TEST2); the read-ahead tests at the end compare the two
 * modes block by block, and check how a stop ends the helper thread.
 */
#define _GNU_SOURCE
#include "input/codec.h"
#include "input/mapfile.h"
#include "input/reader.h"
#include "tg_test_util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- per-test folder and the things freed with it ----------------------- */

static char *tdir;
static void *owned[64];
static size_t nowned;
static in_reader *readers[4];
static size_t nreaders;

static void *keep(void *p)
{
    cr_assert_not_null(p);
    cr_assert_lt(nowned, sizeof owned / sizeof owned[0]);
    return owned[nowned++] = p;
}

static void setup(void)
{
    tdir = tt_tmpdir();
}

static void teardown(void)
{
    while (nowned)
        free(owned[--nowned]);
    while (nreaders)
        in_reader_free(readers[--nreaders]);
    tt_rmtree(tdir);
    free(tdir);
}

#define TEST(suite, name) Test(suite, name, .init = setup, .fini = teardown)

/* The mode of the readers reader() makes in this run of a TEST2 test, and
 * whether read_path() maps the file (in_reader_stream_map) or reads it. */
static bool ra_mode, map_mode;

/* A stream test, run with sequential readers and with read-ahead, each
 * reading its files through a descriptor and through a mapping. */
#define TEST2(suite, name)                                                                  \
    static void suite##_##name(void);                                                       \
    static void suite##_##name##_in(bool ra, bool map)                                      \
    {                                                                                       \
        ra_mode = ra;                                                                       \
        map_mode = map;                                                                     \
        suite##_##name();                                                                   \
    }                                                                                       \
    TEST(suite, name) { suite##_##name##_in(false, false); }                                \
    TEST(suite, name##_readahead) { suite##_##name##_in(true, false); }                     \
    TEST(suite, name##_mapped) { suite##_##name##_in(false, true); }                        \
    TEST(suite, name##_mapped_readahead) { suite##_##name##_in(true, true); }               \
    static void suite##_##name(void)

/* A path in the test's folder. */
static char *at(const char *name)
{
    return keep(tt_fmt("%s/%s", tdir, name));
}

static in_reader *reader_mode(size_t max_line, bool ra)
{
    cr_assert_lt(nreaders, sizeof readers / sizeof readers[0]);
    in_reader *r = in_reader_new(max_line);
    cr_assert_not_null(r);
    cr_assert(in_reader_set_readahead(r, ra));
    return readers[nreaders++] = r;
}

static in_reader *reader(size_t max_line)
{
    return reader_mode(max_line, ra_mode);
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

/* A file made with printf (escapes allowed) and piped through tool if any. */
static char *fixture(const char *name, const char *printf_text, const char *tool)
{
    char *path = at(name);
    if (tool)
        sh_ok("printf '%s' | %s -c > '%s'", printf_text, tool, path);
    else
        sh_ok("printf '%s' > '%s'", printf_text, path);
    return path;
}

/* ---- what the callback saw ---------------------------------------------- */

/* Every block is checked against the original bytes at its offset, so a
 * wrong offset or a wrong byte fails the test. */
typedef struct collect {
    char *data; /* everything delivered, NUL-terminated */
    size_t n, blocks;
    const char *orig; /* when set: each block must equal orig[off, off + n) */
    size_t orig_n;
    int unterminated;       /* a block not ending in '\n' was seen... */
    int after_unterminated; /* ...and another block came after it */
    int bad_off, backwards;
    uint64_t last_end; /* offset just past the previous block */
    uint64_t shape;    /* hash of every block's offset and length */
    size_t stop_after; /* stop after this many blocks (0: never) */
    unsigned nap_ms;   /* sleep in the first blocks: the decoder runs ahead */
} collect;

/* Collectors take their buffers in turn from a static pool (untouched pages
 * cost nothing): no test keeps more than four alive at once. */
#define COLLECT_CAP ((size_t)32 << 20)
static char collect_pool[4][COLLECT_CAP];
static unsigned collect_next;

static int collect_fn(void *ctx, const char *p, size_t n, uint64_t off)
{
    collect *c = ctx;
    cr_assert_gt(n, 0, "empty block delivered");
    if (!c->data)
        c->data = collect_pool[collect_next++ % 4];
    cr_assert_lt(c->n + n, COLLECT_CAP);
    c->after_unterminated |= c->unterminated;
    c->unterminated |= p[n - 1] != '\n';
    c->backwards |= off < c->last_end;
    c->last_end = off + n;
    if (c->orig && (off + n > c->orig_n || memcmp(c->orig + off, p, n) != 0))
        c->bad_off = 1;
    c->shape = ((c->shape ^ off) * 0x100000001b3ull ^ n) * 0x100000001b3ull;
    memcpy(c->data + c->n, p, n);
    c->n += n;
    c->data[c->n] = '\0';
    c->blocks++;
    if (c->nap_ms && c->blocks <= 4)
        nanosleep(&(struct timespec){0, (long)c->nap_ms * 1000000}, NULL);
    return c->stop_after && c->blocks >= c->stop_after;
}

static void collect_check(const collect *c)
{
    cr_assert_not(c->after_unterminated, "a block without a final newline was not the last");
    cr_assert_not(c->bad_off, "a block does not match the original at its offset");
    cr_assert_not(c->backwards, "offsets went backwards");
}

/* Reads a file as the tool does a large compressed one: mapped, sniffed,
 * decoded in place. */
static int map_path(in_reader *r, const char *path, collect *c, in_result *res)
{
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    struct stat st;
    cr_assert_eq(fstat(fd, &st), 0);
    mapfile m;
    cr_assert_eq(mapfile_open(&m, fd, (size_t)st.st_size), 0, "map %s", path);
    close(fd);
    in_kind kind = in_sniff((const unsigned char *)m.p, m.n < 4 ? m.n : 4);
    int rc = in_reader_stream_map(r, &m, kind, collect_fn, c, res);
    mapfile_close(&m);
    return rc;
}

/* Streams a file as the tool does with stdin: take a head of 4 bytes with
 * read(2), sniff it, hand it over with the descriptor. */
static int read_path(in_reader *r, const char *path, collect *c, in_result *res)
{
    if (map_mode)
        return map_path(r, path, c, res);
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    unsigned char head[4];
    ssize_t got = read(fd, head, 4);
    cr_assert_geq(got, 0);
    int rc = in_reader_stream(r, fd, head, (size_t)got, in_sniff(head, (size_t)got), collect_fn,
                              c, res);
    close(fd);
    return rc;
}

/* ---- test data ---------------------------------------------------------- */

/* Deterministic ALB-like text: numbered lines of varied length. Owned by
 * the test; 16 spare bytes after the end. */
static char *make_text(size_t target, unsigned seed, size_t *len)
{
    char *t = keep(malloc(target + 512));
    size_t n = 0;
    unsigned x = seed * 2654435761u + 1;
    for (size_t i = 0; n < target; i++) {
        x = x * 1103515245u + 12345u;
        n += (size_t)sprintf(t + n, "%zu https 2024-01-01T00:00:%02zu.1Z app/lb/%08x \"%.*s\"\n", i,
                             i % 60, x, (int)((x >> 16) % 180),
                             "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1 GET http://"
                             "example.com:80/some/long/path/that/goes/on/and/on?query=string&"
                             "more=values&and=more&still=more&even=more&x=1&y=2&z=3&w=4&"
                             "zz=5&end=yes&really=end&fin=1&q=2&r=3&s=4&t=5&u=6&v=7");
    }
    *len = n;
    return t;
}

/* Writes text to name, plus name.gz and name.zst made by the tools. */
static char *with_archives(const char *name, const char *text, size_t n)
{
    char *p = at(name);
    tt_write_file(p, text, n);
    sh_ok("gzip -c '%s' > '%s.gz' && zstd -q -c '%s' > '%s.zst'", p, p, p, p);
    return p;
}

/* The lines a reader with this max_line must deliver (owned by the test),
 * and how many it must skip. */
static char *expected_lines(const char *t, size_t n, size_t max_line, size_t *out_n,
                            uint64_t *oversized)
{
    char *e = keep(malloc(n + 1));
    size_t en = 0;
    *oversized = 0;
    for (size_t i = 0, end; i < n; i = end) {
        const char *nl = memchr(t + i, '\n', n - i);
        end = nl ? (size_t)(nl - t) + 1 : n;
        if (end - i - (nl != NULL) <= max_line) {
            memcpy(e + en, t + i, end - i);
            en += end - i;
        } else {
            (*oversized)++;
        }
    }
    e[en] = '\0';
    *out_n = en;
    return e;
}

/* Reads path and checks the result against the oracle above. */
static void check_against_oracle(in_reader *r, const char *path, size_t max_line, const char *t,
                                 size_t n)
{
    size_t en;
    uint64_t over;
    char *want = expected_lines(t, n, max_line, &en, &over);
    collect c = {.orig = t, .orig_n = n};
    in_result res;
    cr_assert_eq(read_path(r, path, &c, &res), IN_OK, "%s: %s", path, res.err);
    collect_check(&c);
    cr_assert_eq(c.n, en, "%s: delivered %zu bytes, want %zu", path, c.n, en);
    cr_assert(en == 0 || memcmp(c.data, want, en) == 0, "%s: wrong lines", path);
    cr_assert_eq(res.oversized, over, "%s", path);
    cr_assert_eq(res.bytes_out, n, "%s", path);
    cr_assert_eq(res.bytes_in, file_size(path), "%s", path);
}

/* The same text as written by with_archives: plain, gzip and zstd. */
static void check_three(in_reader *r, const char *p, size_t max_line, const char *t, size_t n)
{
    check_against_oracle(r, p, max_line, t, n);
    check_against_oracle(r, keep(tt_fmt("%s.gz", p)), max_line, t, n);
    check_against_oracle(r, keep(tt_fmt("%s.zst", p)), max_line, t, n);
}

/* ---- sniffing ----------------------------------------------------------- */

Test(input_sniff, magic_bytes)
{
    static const struct { const char *head; size_t n; in_kind want; } cases[] = {
        {"\x1f\x8b\x08\x00", 4, IN_GZIP}, {"\x1f\x8b", 2, IN_GZIP}, {"\x1f", 1, IN_PLAIN},
        {"\x28\xb5\x2f\xfd", 4, IN_ZSTD}, {"\x28\xb5\x2f", 3, IN_PLAIN},
        {"\x50\x2a\x4d\x18", 4, IN_ZSTD}, {"\x5f\x2a\x4d\x18", 4, IN_ZSTD}, /* skippable */
        {"\x60\x2a\x4d\x18", 4, IN_PLAIN}, {"http", 4, IN_PLAIN}, {"", 0, IN_PLAIN}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(in_sniff((const unsigned char *)cases[i].head, cases[i].n), cases[i].want,
                     "case %zu", i);
    cr_assert_str_eq(in_kind_name(IN_PLAIN), "plain");
    cr_assert_str_eq(in_kind_name(IN_GZIP), "gzip");
    cr_assert_str_eq(in_kind_name(IN_ZSTD), "zstd");
}

/* ---- members, frames, empty inputs -------------------------------------- */

/* The size of the reader's reads (IN_CHUNK), or of the windows of a mapped
 * input (IN_MAP_WINDOW): where a decoder's input ends. */
static size_t input_edge(void)
{
    return map_mode ? IN_MAP_WINDOW : IN_CHUNK;
}

/* Two parts whose boundary falls inside a line: the line must come out whole. */
static void multi_part(const char *tool)
{
    size_t n1, n2;
    char *t1 = make_text(3u << 20, 1, &n1), *t2 = make_text(2u << 20, 2, &n2);
    n1 -= 7; /* cut the last line of part one short: it continues in part two */
    char *p1 = at("p1"), *p2 = at("p2"), *z = at("all.z");
    tt_write_file(p1, t1, n1);
    tt_write_file(p2, t2, n2);
    sh_ok("%s -c '%s' > '%s' && %s -c '%s' >> '%s'", tool, p1, z, tool, p2, z);
    char *orig = keep(malloc(n1 + n2));
    memcpy(orig, t1, n1);
    memcpy(orig + n1, t2, n2);
    check_against_oracle(reader(4096), z, 4096, orig, n1 + n2);
}

TEST2(input_gzip, multi_member) { multi_part("gzip"); }
TEST2(input_zstd, multi_frame) { multi_part("zstd -q"); }

TEST2(input_zstd, skippable_frames)
{
    char *a = fixture("a", "one\\ntw", "zstd -q"), *b = fixture("b", "o\\nthree\\n", "zstd -q");
    char *z = at("z");
    /* A skippable frame first (so sniffing must know it), one between. */
    sh_ok("printf '\\120\\052\\115\\030\\003\\000\\000\\000abc' > '%s' && cat '%s' >> '%s' && "
          "printf '\\137\\052\\115\\030\\000\\000\\000\\000' >> '%s' && cat '%s' >> '%s'",
          z, a, z, z, b, z);
    in_reader *r = reader(100);
    check_against_oracle(r, z, 100, "one\ntwo\nthree\n", 14);
    /* Padded with a last skippable frame to end right at the end of a read
     * or a window: the reader only learns of the end from an empty read (or
     * window) after a whole frame. */
    const uint64_t edge = input_edge();
    uint64_t pad = edge - file_size(z) - 8;
    sh_ok("printf '\\120\\052\\115\\030\\%03o\\%03o\\%03o\\000' >> '%s' && "
          "head -c %llu /dev/zero >> '%s'", (unsigned)(pad & 255), (unsigned)(pad >> 8 & 255),
          (unsigned)(pad >> 16), z, (unsigned long long)pad, z);
    cr_assert_eq(file_size(z), edge);
    check_against_oracle(r, z, 100, "one\ntwo\nthree\n", 14);
}

/* Writes to m a gzip member of exactly len bytes made from the member gz of
 * gn bytes: its header gains a comment of the length needed. */
static void member_of_len(unsigned char *m, size_t len, const unsigned char *gz, size_t gn)
{
    cr_assert_gt(len, gn + 1);
    memcpy(m, gz, 10);
    m[3] |= 0x10; /* FCOMMENT */
    size_t c = len - gn - 1;
    memset(m + 10, 'c', c);
    m[10 + c] = 0;
    memcpy(m + 11 + c, gz + 10, gn - 10);
}

/* Where one member ends and the next begins, or the input ends, just
 * before, at or just after the end of a read or a window: the next member
 * is found, or the cut one reported. */
TEST2(input_gzip, members_meet_at_chunk_edges)
{
    const size_t edge = input_edge();
    char *f = fixture("first.gz", "first\\n", "gzip -n");
    char *s = fixture("second.gz", "second\\n", "gzip -n"), *p = at("edge.gz");
    size_t fn, sn;
    unsigned char *first = keep(tt_read_file(f, &fn));
    unsigned char *second = keep(tt_read_file(s, &sn));
    in_reader *r = reader(100);
    for (size_t len = edge - 3; len <= edge + 2; len++) {
        unsigned char *buf = keep(malloc(len + sn));
        member_of_len(buf, len, first, fn);
        memcpy(buf + len, second, sn);
        tt_write_file(p, (const char *)buf, len + sn);
        collect c = {0};
        in_result res;
        cr_assert_eq(read_path(r, p, &c, &res), IN_OK, "member of %zu: %s", len, res.err);
        cr_assert_str_eq(c.data, "first\nsecond\n", "member of %zu", len);
        cr_assert_eq(res.bytes_in, len + sn);
        /* The first byte of a next member only. */
        tt_write_file(p, (const char *)buf, len + 1);
        collect t = {0};
        cr_assert_eq(read_path(r, p, &t, &res), IN_FAILED, "member of %zu, cut", len);
        cr_assert_str_eq(t.data, "first\n", "member of %zu, cut", len);
        cr_assert(strstr(res.err, "truncated"), "member of %zu: %s", len, res.err);
        /* Nothing after it. */
        tt_write_file(p, (const char *)buf, len);
        collect e = {0};
        cr_assert_eq(read_path(r, p, &e, &res), IN_OK, "member of %zu alone: %s", len, res.err);
        cr_assert_str_eq(e.data, "first\n");
        cr_assert_eq(res.bytes_in, len);
    }
}

TEST2(input_gzip, trailing_zeros_and_garbage)
{
    char *g = fixture("g", "a\\nb\\n", "gzip");
    uint64_t gsize = file_size(g);
    char *zeros = at("zeros"), *junk = at("junk");
    sh_ok("cat '%s' > '%s' && head -c 1000 /dev/zero >> '%s'", g, zeros, zeros);
    sh_ok("cat '%s' > '%s' && printf 'x\\n' >> '%s'", g, junk, junk);
    in_reader *r = reader(100);
    check_against_oracle(r, zeros, 100, "a\nb\n", 4);

    collect c = {0};
    in_result res;
    cr_assert_eq(read_path(r, junk, &c, &res), IN_FAILED);
    char *want = keep(tt_fmt("trailing garbage after gzip member at byte %llu",
                             (unsigned long long)gsize));
    cr_assert_str_eq(res.err, want);
    cr_assert_eq(res.err_offset, gsize);
    cr_assert_str_eq(c.data, "a\nb\n", "lines before the garbage are delivered");
}

TEST2(input, empty_inputs)
{
    char *plain = with_archives("e", "", 0); /* an empty gzip member, an empty frame */
    in_reader *r = reader(100);
    check_three(r, plain, 100, "", 0);
    /* Nothing at all where a compressed stream was promised. */
    int fd = open(plain, O_RDONLY);
    collect c = {0};
    in_result res;
    cr_assert_eq(in_reader_stream(r, fd, NULL, 0, IN_GZIP, collect_fn, &c, &res), IN_FAILED);
    cr_assert_str_eq(res.err, "truncated gzip stream at byte 0");
    cr_assert_eq(in_reader_stream(r, fd, NULL, 0, IN_ZSTD, collect_fn, &c, &res), IN_FAILED);
    cr_assert_str_eq(res.err, "truncated zstd stream at byte 0");
    cr_assert_eq(c.blocks, 0);
    close(fd);
}

TEST2(input, no_final_newline_and_crlf)
{
    const char *t = "a\r\nbb\r\n\r\nlast"; /* delivered as it is, "last" included */
    check_three(reader(100), with_archives("t", t, 13), 100, t, 13);
}

/* ---- damage ------------------------------------------------------------- */

/* Cuts a compressed copy of a large text in half: the reader must say
 * "truncated" at the cut and deliver the whole lines before it, as many as
 * the reference tool recovers (give or take the line at the cut). */
static void truncated(const char *suffix, const char *tool, const char *what)
{
    size_t n;
    char *t = make_text(4u << 20, 3, &n);
    char *p = with_archives("t", t, n), *z = keep(tt_fmt("%s.%s", p, suffix)), *cut = at("cut");
    uint64_t half = file_size(z) / 2;
    sh_ok("head -c %llu '%s' > '%s'", (unsigned long long)half, z, cut);
    char *refcmd = keep(tt_fmt("%s -dc < '%s'", tool, cut));
    tt_run ref = tt_sh(refcmd, NULL);
    size_t ref_lines = tt_count(ref.out, "\n");
    tt_run_free(&ref);

    collect c = {.orig = t, .orig_n = n};
    in_result res;
    cr_assert_eq(read_path(reader(4096), cut, &c, &res), IN_FAILED);
    char *want = keep(tt_fmt("truncated %s stream at byte %llu", what, (unsigned long long)half));
    cr_assert_str_eq(res.err, want);
    cr_assert_eq(res.err_offset, half);
    cr_assert_eq(res.bytes_in, half);
    collect_check(&c);
    cr_assert_eq(memcmp(c.data, t, c.n), 0, "delivered a prefix of the original");
    cr_assert_eq(c.data[c.n - 1], '\n', "only whole lines");
    size_t lines = tt_count(c.data, "\n");
    cr_assert_gt(lines, 1000);
    cr_assert(lines + 1 >= ref_lines && lines <= ref_lines + 1,
              "%zu lines delivered, %s -dc recovers %zu", lines, tool, ref_lines);
}

TEST2(input_gzip, truncated) { truncated("gz", "gzip", "gzip"); }
TEST2(input_zstd, truncated) { truncated("zst", "zstd -q", "zstd"); }

/* Changes one byte of a file. */
static void flip_byte(const char *path, uint64_t pos)
{
    size_t n;
    char *d = tt_read_file(path, &n);
    cr_assert_lt(pos, n);
    d[pos] ^= 0x5a;
    tt_write_file(path, d, n);
    free(d);
}

TEST2(input_gzip, bad_crc)
{
    size_t n;
    char *t = make_text(1u << 20, 4, &n);
    char *z = keep(tt_fmt("%s.gz", with_archives("t", t, n)));
    flip_byte(z, file_size(z) - 8); /* the first byte of the CRC-32 */
    collect c = {.orig = t, .orig_n = n};
    in_result res;
    cr_assert_eq(read_path(reader(4096), z, &c, &res), IN_FAILED);
    cr_assert(strstr(res.err, "corrupt gzip data at byte ") == res.err, "%s", res.err);
    cr_assert(strstr(res.err, "bad CRC"), "%s", res.err);
    cr_assert_gt(res.err_offset, file_size(z) - 16);
    collect_check(&c);
    cr_assert_eq(c.n, n, "the data before the trailer was delivered");
}

TEST2(input_gzip, corrupt_block)
{
    char *z = at("t.gz");
    /* A stored (type 0) block whose length check NLEN is wrong. */
    sh_ok("printf '\\037\\213\\010\\000\\000\\000\\000\\000\\000\\003\\001\\002\\000\\000\\000"
          "a\\n\\000\\000\\000\\000\\000\\000\\000' > '%s'", z);
    collect c = {0};
    in_result res;
    cr_assert_eq(read_path(reader(100), z, &c, &res), IN_FAILED);
    cr_assert_str_eq(res.err, "corrupt gzip data at byte 15: invalid block");
}

/* Faults in a member header, in the first member and in the second. */
TEST2(input_gzip, header_faults)
{
    char *g = fixture("g", "a\\n", "gzip -n"), *f = at("f");
    size_t gn;
    unsigned char *gz = keep(tt_read_file(g, &gn)), two[256];
    cr_assert_lt(2 * gn + 2, sizeof two);
    struct { size_t pos; unsigned char val; int hcrc; const char *why; } cases[] = {
        {3, 0x20, 0, "invalid gzip header"}, /* a reserved flag bit */
        {2, 7, 0, "unsupported compression method"},
        {1, 0x8c, 0, NULL},                  /* the magic of the second member */
        {3, 0x02, 1, "bad header CRC"},      /* FHCRC with a wrong CRC-16 */
    };
    in_reader *r = reader(100);
    for (int second = 0; second < 2; second++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            if (!second && cases[i].pos == 1)
                continue; /* without the magic it is sniffed as plain text */
            size_t base = second ? gn : 0, n = 2 * gn;
            memcpy(two, gz, gn);
            memcpy(two + gn, gz, gn);
            two[base + cases[i].pos] = cases[i].val;
            if (cases[i].hcrc) { /* insert a CRC-16 that cannot be right */
                memmove(two + base + 12, two + base + 10, n - base - 10);
                two[base + 10] = 0x12, two[base + 11] = 0x34;
                n += 2;
            }
            tt_write_file(f, two, n);
            collect c = {0};
            in_result res;
            cr_assert_eq(read_path(r, f, &c, &res), IN_FAILED);
            char *want = cases[i].why
                             ? tt_fmt("corrupt gzip data at byte %zu: %s", base, cases[i].why)
                             : tt_fmt("trailing garbage after gzip member at byte %zu", gn);
            cr_assert_str_eq(res.err, want, "case %zu, member %d", i, second + 1);
            cr_assert_str_eq(second ? c.data : "", second ? "a\n" : "");
            free(want);
        }
    }
}

/* A damaged deflate stream (found by fuzzing) on which ISA-L writes bytes
 * from its window that this stream never produced before it reports the bad
 * distance. After a file of 'Q' lines, those bytes would be 'Q's. */
TEST2(input_gzip, corrupt_never_leaks_old_bytes)
{
    static const unsigned char bad[] = {
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x61, 0x62, 0x63, 0x64, 0x65, 0x6e, 0x61,
        0x6d, 0x65, 0x00, 0x63, 0x6f, 0x6d, 0x00, 0x42, 0xb7, 0xcb, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0x48, 0xcd, 0xc9, 0xc9, 0xe7, 0x2a, 0xcf, 0x2f, 0xca, 0x49, 0xe1, 0x02, 0x00, 0xff,
        0x5d, 0xc5, 0xc4, 0x0c, 0x00, 0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x01};
    size_t qn = 1u << 20;
    char *qs = keep(malloc(qn)), *b = at("bad.gz");
    for (size_t i = 0; i < qn; i++)
        qs[i] = i % 8 == 7 ? '\n' : 'Q';
    char *q = with_archives("q", qs, qn);
    tt_write_file(b, bad, sizeof bad);
    in_reader *r = reader(100);
    check_against_oracle(r, keep(tt_fmt("%s.gz", q)), 100, qs, qn);
    for (int round = 0; round < 2; round++) {
        collect c = {0};
        in_result res;
        cr_assert_eq(read_path(r, b, &c, &res), IN_FAILED);
        cr_assert(strstr(res.err, "corrupt gzip data at byte ") == res.err, "%s", res.err);
        cr_assert(c.n == 0 || memchr(c.data, 'Q', c.n) == NULL, "bytes of the previous input");
        cr_assert_eq(c.n, 0, "the call that failed delivers nothing");
    }
}

/* Damage in the middle of a large archive: an error, and the lines before
 * it delivered, within a decoder call (256 KiB) of what the reference tool
 * recovers. (Deflate mostly decodes damage into wrong bytes: gzip then
 * fails on the CRC at the end.) */
static void corrupt_middle(const char *suffix, const char *what, const char *tool)
{
    size_t n;
    char *t = make_text(2u << 20, 5, &n);
    char *z = keep(tt_fmt("%s.%s", with_archives("t", t, n), suffix));
    uint64_t size = file_size(z);
    flip_byte(z, size / 2);
    flip_byte(z, size / 2 + 1);
    collect c = {0};
    in_result res;
    cr_assert_eq(read_path(reader(4096), z, &c, &res), IN_FAILED);
    char *want = keep(tt_fmt("corrupt %s data at byte ", what));
    cr_assert(strstr(res.err, want) == res.err, "%s", res.err);
    /* Neither decoder says where in a block the damage is: the offset is
     * where the block (at most 128 KiB of input) was being read. Damage that
     * still decodes shows only at the member's end, as a bad CRC. */
    cr_assert(strstr(res.err, "bad CRC") ||
                  (res.err_offset <= size / 2 + (128u << 10) &&
                   res.err_offset + (128u << 10) + 3 > size / 2),
              "damage at %llu, reported at %llu", (unsigned long long)size / 2,
              (unsigned long long)res.err_offset);
    cr_assert_not(c.after_unterminated);
    tt_run ref = tt_sh(keep(tt_fmt("%s -dc < '%s'", tool, z)), NULL);
    cr_assert(memcmp(c.data, ref.out, c.n < ref.out_len ? c.n : ref.out_len) == 0);
    cr_assert(c.n + (256u << 10) + 4096 >= ref.out_len, "%zu bytes delivered, %s -dc gets %zu",
              c.n, tool, ref.out_len);
    tt_run_free(&ref);
}

TEST2(input_gzip, corrupt_middle) { corrupt_middle("gz", "gzip", "gzip"); }
TEST2(input_zstd, corrupt_middle) { corrupt_middle("zst", "zstd", "zstd -q"); }

TEST2(input, read_error)
{
    int fd = open(tdir, O_RDONLY | O_DIRECTORY);
    collect c = {0};
    in_result res;
    const unsigned char head[] = "ab\nc";
    cr_assert_eq(in_reader_stream(reader(100), fd, head, 4, IN_PLAIN, collect_fn, &c, &res),
                 IN_FAILED);
    cr_assert_str_eq(res.err, "read error at byte 4: Is a directory");
    cr_assert_eq(res.err_offset, 4);
    cr_assert_str_eq(c.data, "ab\n", "lines before the error are delivered");
    close(fd);
}

/* ---- line assembly ------------------------------------------------------ */

/* A file several times the reader's buffer: blocks must be whole lines, at
 * the running offset, and add up to the original. */
TEST2(input, lines_across_buffers)
{
    size_t n;
    char *t = make_text(9u << 20, 6, &n);
    check_three(reader(1000), with_archives("t", t, n), 1000, t, n);
}

TEST2(input, oversized_lines)
{
    char *text = keep(tt_fmt("short\n%0100d\nafter\n0123456789abcdef\n0123456789abcdefg\nok\n"
                             "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", 7));
    size_t n = strlen(text), en;
    uint64_t over;
    cr_assert_str_eq(expected_lines(text, n, 16, &en, &over),
                     "short\nafter\n0123456789abcdef\nok\n");
    cr_assert_eq(over, 3);
    check_three(reader(16), with_archives("t", text, n), 16, text, n);
}

/* An oversized line longer than the whole buffer is dropped across several
 * reads, and what follows keeps its true offset. */
TEST2(input, oversized_longer_than_buffer)
{
    size_t big = 5u << 20, n = 4 + big + 5;
    char *t = keep(malloc(n + 1));
    memcpy(t, "one\n", 4);
    memset(t + 4, 'z', big);
    memcpy(t + 4 + big, "\ntwo\n", 6); /* with its NUL */
    check_three(reader(1000), with_archives("t", t, n), 1000, t, n);
}

/* Lines of every length around max_line = 16 (0..39 bytes) in an order that
 * puts the ends of reads and of decoder outputs all over them. */
TEST2(input, tiny_max_line)
{
    size_t cap = 6u << 20, n = 0;
    char *t = keep(malloc(cap));
    unsigned x = 7;
    while (n < cap - 64) {
        x = x * 1103515245u + 12345u;
        size_t l = (x >> 16) % 40;
        for (size_t i = 0; i < l; i++)
            t[n++] = (char)('a' + (i + l) % 26);
        t[n++] = '\n';
    }
    memcpy(t + n, "tail-no-newline", 15);
    n += 15;
    check_three(reader(16), with_archives("t", t, n), 16, t, n);
}

/*
 * The plain reader reads a fixed amount at a time (whatever the partial
 * line carried takes of its buffer) before cutting lines, so the places
 * where reads end are known: with a first block that reveals the read's
 * size, lines are laid out so that each read ends at a chosen place in a
 * line (tail bytes of a line of len bytes): exactly max_line carried, one
 * more, a line ending right at the end, an oversized line crossing reads,
 * one longer than the whole line buffer...
 */
TEST2(input, chosen_read_boundaries)
{
    in_reader *r = reader(16);
    size_t probe_n = 4u << 20;
    char *probe = keep(malloc(probe_n));
    for (size_t i = 0; i < probe_n; i++)
        probe[i] = i % 2 ? '\n' : 'a';
    char *pp = at("probe");
    tt_write_file(pp, probe, probe_n);
    collect pc = {.stop_after = 1};
    in_result res;
    cr_assert_eq(read_path(r, pp, &pc, &res), IN_STOPPED);
    size_t bufsz = pc.n; /* the first block is the first read, to its last newline */

    static const struct { size_t tail, len; } cases[] = {
        {16, 16}, {17, 17}, {16, 17}, {15, 16}, {0, 5}, {1, 1}, {1, 16}, {17, 40},
        {5, 3u << 20}, {16, 20}, {2, 2}, {16, 16}};
    size_t ncases = sizeof cases / sizeof cases[0], n = 0;
    size_t cap = (ncases + 8) * bufsz + (4u << 20); /* the 3 MiB line too */
    char *t = keep(malloc(cap));
    size_t end = bufsz; /* where the current read ends */
    for (size_t k = 0; k < ncases; k++) {
        cr_assert_leq(cases[k].tail, bufsz);
        size_t start = end - cases[k].tail; /* where the chosen line starts */
        while (n < start) { /* short lines up to it, the last one fitted */
            size_t gap = start - n;
            size_t l = gap <= 17 ? gap - 1 : gap <= 34 ? gap - 18 : (n * 7 + k) % 17;
            memset(t + n, 'a' + (int)(k % 26), l);
            t[n + l] = '\n';
            n += l + 1;
        }
        memset(t + n, 'A' + (int)(k % 26), cases[k].len);
        n += cases[k].len;
        t[n++] = '\n';
        /* The line's tail is carried to the next read if short enough; a
         * line longer than a read is dropped read by read. */
        end += bufsz;
        while (end < n)
            end += bufsz;
    }
    memcpy(t + n, "end\n", 4);
    n += 4;
    cr_assert_lt(n, cap);
    char *p = at("t");
    tt_write_file(p, t, n);
    check_against_oracle(r, p, 16, t, n);
}

/* ---- heads and pipes ---------------------------------------------------- */

/* stdin-like: a two-member gzip stream arrives through a pipe in pieces of
 * 4099 bytes, its first bytes already taken to sniff it. Lines, blocks and
 * offsets must be those of the same file read whole. */
TEST2(input, pipe_with_head)
{
    size_t n;
    char *t = make_text(2u << 20, 8, &n);
    char *gz = keep(tt_fmt("%s.gz", with_archives("t", t, n)));
    sh_ok("printf 'x\\n' | gzip -c >> '%s'", gz);
    memcpy(t + n, "x\n", 3);
    n += 2;
    in_reader *r = reader(4096);
    collect whole = {.orig = t, .orig_n = n};
    in_result res;
    cr_assert_eq(read_path(r, gz, &whole, &res), IN_OK, "%s", res.err);
    for (size_t hl = 1; hl <= 4; hl += 3) {
        FILE *pipe = popen(keep(tt_fmt("dd if='%s' bs=4099 2>/dev/null", gz)), "r");
        cr_assert_not_null(pipe);
        int fd = fileno(pipe); /* read(2) only: stdio would read ahead */
        unsigned char head[4];
        for (ssize_t got = 0, k = 0; (size_t)got < hl; got += k)
            cr_assert_gt(k = read(fd, head + got, hl - (size_t)got), 0);
        collect c = {.orig = t, .orig_n = n};
        int rc = in_reader_stream(r, fd, head, hl, IN_GZIP, collect_fn, &c, &res);
        cr_assert_eq(rc, IN_OK, "%s", res.err);
        collect_check(&c);
        cr_assert(c.n == n && memcmp(c.data, t, n) == 0, "not the original");
        cr_assert_eq(c.shape, whole.shape, "other blocks than from the file");
        cr_assert_eq(res.bytes_in, file_size(gz));
        cr_assert_eq(pclose(pipe), 0);
    }
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
 * survive a split anywhere. One gzip header carries every optional field
 * (FEXTRA, FNAME, FCOMMENT, FHCRC). */
TEST2(input, head_split_everywhere)
{
    char *plain = fixture("hello.log", "hello\\nworld\\n", NULL);
    char *g = fixture("g", "hello\\nworld\\n", "gzip -n"), *named = at("named.gz"),
         *z = fixture("z", "hello\\nworld\\n", "zstd -q"), *fp = at("full.gz");
    sh_ok("gzip -c '%s' > '%s'", plain, named); /* FNAME "hello.log" */
    size_t gn, zn, nn;
    unsigned char *gz = keep(tt_read_file(g, &gn)), *zs = keep(tt_read_file(z, &zn)),
                  *nm = keep(tt_read_file(named, &nn)), full[256];
    const unsigned char hdr[] = {0x1f, 0x8b, 8, 0x1e, 0, 0, 0, 0, 0, 3, 5, 0, 'a', 'b', 'c',
                                 'd', 'e', 'n', 'a', 'm', 'e', 0, 'c', 'o', 'm', 0};
    memcpy(full, hdr, sizeof hdr);
    uint32_t hcrc = crc32_bytes(hdr, sizeof hdr);
    full[sizeof hdr] = (unsigned char)hcrc;
    full[sizeof hdr + 1] = (unsigned char)(hcrc >> 8);
    size_t fn = sizeof hdr + 2 + gn - 10;
    cr_assert_lt(fn, sizeof full);
    memcpy(full + sizeof hdr + 2, gz + 10, gn - 10);
    tt_write_file(fp, full, fn);
    tt_run check = tt_sh(keep(tt_fmt("gzip -dc '%s'", fp)), NULL);
    cr_assert_str_eq(check.out, "hello\nworld\n", "the crafted header is valid: %s", check.err);
    tt_run_free(&check);

    struct { const char *path; const unsigned char *data; size_t n; in_kind k; } cases[] = {
        {g, gz, gn, IN_GZIP}, {named, nm, nn, IN_GZIP}, {fp, full, fn, IN_GZIP},
        {z, zs, zn, IN_ZSTD}};
    in_reader *r = reader(100);
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
        }
    }
}

TEST2(input, callback_stops)
{
    size_t n;
    char *t = make_text(4u << 20, 9, &n);
    char *gz = keep(tt_fmt("%s.gz", with_archives("t", t, n)));
    in_reader *r = reader(4096);
    collect c = {.stop_after = 1};
    in_result res;
    cr_assert_eq(read_path(r, gz, &c, &res), IN_STOPPED);
    cr_assert_eq(c.blocks, 1);
    cr_assert_str_eq(res.err, "");
    /* The same reader then reads a whole input from the start. */
    check_against_oracle(r, gz, 4096, t, n);
}

/* ---- mapfile ------------------------------------------------------------ */

TEST(mapfile, maps_and_empty)
{
    char *p = at("f"), *e = at("e");
    tt_write_file(p, "hello\nworld\n", 12);
    tt_write_file(e, "", 0);
    int fd = open(p, O_RDONLY);
    mapfile m;
    cr_assert_eq(mapfile_open(&m, fd, 12), 0);
    close(fd); /* the mapping outlives the descriptor */
    cr_assert(m.n == 12 && memcmp(m.p, "hello\nworld\n", 12) == 0);
    mapfile_close(&m);
    cr_assert(m.p == NULL && m.n == 0);

    fd = open(e, O_RDONLY);
    cr_assert_eq(mapfile_open(&m, fd, 0), 0);
    cr_assert(m.p == NULL && m.n == 0, "an empty file is not mapped");
    mapfile_close(&m);
    close(fd);
    cr_assert_eq(mapfile_open(&m, -1, 12), EBADF);
    cr_assert_null(m.p);
}

/* A file cut short after it was mapped: populating its lost pages says so
 * (reading them would raise SIGBUS), the pages still in it populate. */
TEST(mapfile, populate_tells_a_truncated_file)
{
    char *p = at("t");
    static char buf[3 * 4096];
    memset(buf, 'x', sizeof buf);
    tt_write_file(p, buf, sizeof buf);
    int fd = open(p, O_RDONLY);
    mapfile m;
    cr_assert_eq(mapfile_open(&m, fd, sizeof buf), 0);
    close(fd);
    cr_assert_eq(mapfile_populate(&m, 0, sizeof buf), 0);
    cr_assert_eq(truncate(p, 4096), 0);
    cr_assert_eq(mapfile_populate(&m, 100, 4000), 0, "the first page is still in the file");
    cr_assert_eq(mapfile_populate(&m, 0, sizeof buf), EFAULT);
    cr_assert_eq(mapfile_populate(&m, 5000, 5001), EFAULT);
    cr_assert_eq(m.p[0], 'x');
    mapfile_close(&m);
}

/* Runs cmd, which it frees. */
static tt_run tg_cmd(char *cmd)
{
    tt_run r = tt_sh(cmd, NULL);
    free(cmd);
    return r;
}

/* Runs tracegrep stats --json -j1 on the files; with cut set, preloads the
 * shim (tests/shim/shrink.c) that truncates cut to cut_to bytes at the
 * moment `call` names (its TG_SHRINK_CALL). A cut at a read(2) ("read:N")
 * has small plain files read, not mapped (engine.c, TG_SMALL_FILES). */
static tt_run stats_run_cut(const char *files, const char *cut, size_t cut_to, const char *call)
{
    if (!cut)
        return tg_cmd(tt_fmt("'%s' stats --json -j1 %s", tt_binary(), files));
    const char *way = strncmp(call, "read:", 5) == 0 ? "TG_SMALL_FILES=read " : "";
    return tg_cmd(tt_fmt("%sTG_SHRINK_PATH='%s' TG_SHRINK_TO=%zu TG_SHRINK_CALL=%s "
                         "LD_PRELOAD='%s' ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}"
                         "verify_asan_link_order=0\" '%s' stats --json -j1 %s",
                         way, cut, cut_to, call, TG_SHRINK_SHIM, tt_binary(), files));
}

/* stats_run_cut() at the second populate call on the file's mapping:
 * after the first 16 MiB step of the file, before the next. */
static tt_run stats_run(const char *files, const char *cut, size_t cut_to)
{
    return stats_run_cut(files, cut, cut_to, "2");
}

/* Checks that r, a run over a file cut short at byte `from` of orig (or
 * read only that far), then the file other, counts what a run over orig's
 * first `from` bytes and other counts, with `errors` errors. */
static void expect_counts_of_head(const tt_run *r, const char *orig, size_t from,
                                  const char *other, unsigned long long errors)
{
    char *head = at("head.log");
    tt_write_file(head, orig, from);
    tt_run w = stats_run(keep(tt_fmt("'%s' '%s'", head, other)), NULL, 0);
    cr_assert_eq(w.status, 0, "stderr: %s", w.err);
    static const char *const keys[] = {"bytes", "bytes_decompressed", "lines", "header_lines",
                                       "events", "malformed", "traces", "multi_event_traces",
                                       "traces_5xx"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_expect_eq(tt_json_u64(r->out, keys[i]), tt_json_u64(w.out, keys[i]), "%s", keys[i]);
    cr_expect_gt(tt_json_u64(r->out, "events"), 0);
    cr_expect_eq(tt_json_u64(r->out, "errors"), errors);
    tt_run_free(&w);
}

/* The whole binary on a plain file cut short while it is read (by another
 * process, as the shim plays it): the error names the file and says what
 * was not read, the run exits 2, and nothing else is lost: the lines of the
 * step read before the cut count, and so does every line of the next
 * input. */
TEST(mapfile, a_file_shrinking_while_read_is_reported_and_loses_nothing)
{
    char *a = at("a.log"), *b = at("b.log");
    sh_ok("'%s' --seed 7 --bytes 20M --single '%s' && '%s' --seed 8 --bytes 1M --single '%s'",
          TG_GEN, a, TG_GEN, b);
    size_t alen = 0;
    char *orig = keep(tt_read_file(a, &alen));
    cr_assert_gt(alen, 17u << 20, "the file needs a second 16 MiB step");

    char *files = keep(tt_fmt("'%s' '%s'", a, b));
    tt_run r = stats_run(files, a, 8u << 20);
    cr_assert_eq(r.status, 2, "exit %d, stderr: %s", r.status, r.err);
    static const char said[] = "the file shrank while it was read: ";
    char *msg = strstr(r.err, said);
    cr_assert_not_null(msg, "stderr: %s", r.err);
    cr_expect_not_null(strstr(r.err, a), "the error names the file: %s", r.err);
    cr_expect_eq(tt_count(r.err, "shrank"), 1, "reported once: %s", r.err);
    unsigned long long lost = 0, from = 0;
    cr_assert_eq(sscanf(msg + strlen(said), "%llu bytes from byte %llu on were not read", &lost,
                        &from), 2, "stderr: %s", r.err);
    /* The first step ends at the first line end past 16 MiB. */
    const char *nl = memchr(orig + (16u << 20), '\n', alen - (16u << 20));
    cr_assert_not_null(nl);
    cr_expect_eq(from, (size_t)(nl - orig) + 1);
    cr_expect_eq(lost, alen - from);
    cr_assert(tt_json_valid(r.out, r.out_len), "stdout: %s", r.out);

    /* The same counts as a run over what was read: the cut file's lines
     * before that byte, then the other input whole. */
    expect_counts_of_head(&r, orig, from, b, 1);
    tt_run_free(&r);
}

/* The two files of the small-file tests: a.log (4 MB, read with read(2) in
 * reads of 64 KiB) and b.log after it; returns a.log's text. */
static char *small_pair(char **a, char **b, size_t *alen)
{
    *a = at("a.log");
    *b = at("b.log");
    sh_ok("'%s' --seed 7 --bytes 4M --single '%s' && '%s' --seed 8 --bytes 1M --single '%s'",
          TG_GEN, *a, TG_GEN, *b);
    return keep(tt_read_file(*a, alen));
}

/* A plain file small enough for stats to read with read(2) (engine.c's
 * ENG_READ_PLAIN_MAX, TG_SMALL_FILES=read), cut short between two reads (the shim cuts it at its
 * second read): the error names the file and the byte from which nothing
 * was read, the run exits 2, and what was read counts, the same as a run
 * over those bytes alone. */
TEST(mapfile, a_small_file_shrinking_while_read_is_reported_and_loses_nothing)
{
    char *a, *b;
    size_t alen = 0;
    char *orig = small_pair(&a, &b, &alen);
    const size_t cut = 2u << 20;
    cr_assert_gt(alen, cut + (1u << 20));
    tt_run r = stats_run_cut(keep(tt_fmt("'%s' '%s'", a, b)), a, cut, "read:2");
    cr_assert_eq(r.status, 2, "exit %d, stderr: %s", r.status, r.err);
    char *want = keep(tt_fmt("%s: the file shrank while it was read: %zu bytes from byte %zu "
                             "on were not read",
                             a, alen - cut, cut));
    cr_expect_not_null(strstr(r.err, want), "stderr: %s", r.err);
    cr_expect_eq(tt_count(r.err, "shrank"), 1, "reported once: %s", r.err);
    expect_counts_of_head(&r, orig, cut, b, 1);
    tt_run_free(&r);
}

/* The same small file growing while it is read (the shim extends it at its
 * second read, as a writer still appending to it would, with zero bytes):
 * it is read up to the size it had when it was opened, as a mapped file
 * is, so the run counts the file as it was, with no error. */
TEST(mapfile, a_small_file_growing_while_read_is_read_to_its_size_at_the_start)
{
    char *a, *b;
    size_t alen = 0;
    char *orig = small_pair(&a, &b, &alen);
    tt_run r = stats_run_cut(keep(tt_fmt("'%s' '%s'", a, b)), a, alen + (1u << 20), "read:2");
    cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
    cr_expect_eq(file_size(a), alen + (1u << 20), "the shim grew the file");
    expect_counts_of_head(&r, orig, alen, b, 0);
    tt_run_free(&r);
}

/* A large compressed file is decoded straight out of its mapping, a window
 * (IN_MAP_WINDOW) at a time. Whole, it gives what its plain text gives; cut
 * short before its second window is mapped (the shim cuts it at the second
 * populate call on its mapping), the error names the file and the byte from
 * which nothing was read, the run exits 2, and what was decoded before
 * counts: the same as a run over the first window's bytes alone, an archive
 * truncated there. The next input is read whole. */
TEST(mapfile, a_compressed_file_shrinking_while_read_is_reported_and_loses_nothing)
{
    char *a = at("a.log"), *b = at("b.log"), *agz = at("a.log.gz");
    sh_ok("'%s' --seed 7 --bytes 24M --single '%s' && gzip -1 -c '%s' > '%s' && "
          "'%s' --seed 8 --bytes 1M --single '%s'", TG_GEN, a, a, agz, TG_GEN, b);
    const uint64_t zsize = file_size(agz);
    cr_assert_gt(zsize, IN_MAP_WINDOW + (256u << 10), "two windows at least");
    static const char *const keys[] = {"lines", "header_lines", "events", "malformed",
                                       "traces", "multi_event_traces", "traces_5xx"};
    const size_t nkeys = sizeof keys / sizeof keys[0];

    tt_run plain = stats_run(keep(tt_fmt("'%s'", a)), NULL, 0);
    tt_run whole = stats_run(keep(tt_fmt("'%s'", agz)), NULL, 0);
    cr_assert_eq(whole.status, 0, "stderr: %s", whole.err);
    for (size_t i = 0; i < nkeys; i++)
        cr_expect_eq(tt_json_u64(whole.out, keys[i]), tt_json_u64(plain.out, keys[i]), "%s",
                     keys[i]);
    cr_expect_eq(tt_json_u64(whole.out, "bytes"), zsize);
    cr_expect_eq(tt_json_u64(whole.out, "bytes_decompressed"), file_size(a));

    tt_run r = stats_run(keep(tt_fmt("'%s' '%s'", agz, b)), agz, 1u << 20);
    cr_assert_eq(r.status, 2, "exit %d, stderr: %s", r.status, r.err);
    char *want = keep(tt_fmt("%s: the file shrank while it was read: %llu bytes from byte %u on "
                             "were not read", agz,
                             (unsigned long long)(zsize - IN_MAP_WINDOW),
                             (unsigned)IN_MAP_WINDOW));
    cr_expect_not_null(strstr(r.err, want), "stderr: %s", r.err);
    cr_expect_eq(tt_count(r.err, "shrank"), 1, "reported once: %s", r.err);

    char *head = at("head.log.gz");
    sh_ok("'%s' --seed 7 --bytes 24M --single - | gzip -1 | head -c %u > '%s'", TG_GEN,
          (unsigned)IN_MAP_WINDOW, head);
    tt_run w = stats_run(keep(tt_fmt("'%s' '%s'", head, b)), NULL, 0);
    cr_assert_eq(w.status, 2, "the truncated archive fails: %s", w.err);
    cr_expect_not_null(strstr(w.err, "truncated gzip stream"), "stderr: %s", w.err);
    for (size_t i = 0; i < nkeys; i++)
        cr_expect_eq(tt_json_u64(r.out, keys[i]), tt_json_u64(w.out, keys[i]), "%s", keys[i]);
    cr_expect_gt(tt_json_u64(r.out, "events"), 10000);
    cr_expect_lt(tt_json_u64(r.out, "events"), tt_json_u64(whole.out, "events"));
    cr_expect_eq(tt_json_u64(r.out, "errors"), 1);
    tt_run_free(&plain);
    tt_run_free(&whole);
    tt_run_free(&r);
    tt_run_free(&w);
}

/* The same cut where the populate call cannot see it (TG_SHRINK_BLIND:
 * an old kernel, or a cut between the call and the read), so that reading
 * the mapping raises SIGBUS; with two threads too, where the compressed
 * file is decoded by the reader's helper thread. The run stops with an
 * error that names the file, exit status 2, not a bare "Bus error". */
TEST(mapfile, a_compressed_file_shrinking_unseen_stops_with_an_error)
{
    char *a = at("a.log"), *agz = at("a.log.gz");
    sh_ok("'%s' --seed 7 --bytes 24M --single '%s' && gzip -1 -c '%s' > '%s'", TG_GEN, a, a,
          agz);
    for (int j = 1; j <= 2; j++) {
        sh_ok("gzip -1 -c '%s' > '%s'", a, agz); /* whole again */
        tt_run r = tg_cmd(tt_fmt("TG_SHRINK_PATH='%s' TG_SHRINK_TO=%u TG_SHRINK_CALL=2 "
                                 "TG_SHRINK_BLIND=1 LD_PRELOAD='%s' "
                                 "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}"
                                 "verify_asan_link_order=0\" '%s' stats --json -j%d '%s'",
                                 agz, 1u << 20, TG_SHRINK_SHIM, tt_binary(), j, agz));
        cr_expect_eq(r.status, 2, "-j%d: exit %d, stderr: %s", j, r.status, r.err);
        cr_expect_not_null(strstr(r.err, "shrank while it was read"), "-j%d: stderr: %s", j,
                           r.err);
        cr_expect_not_null(strstr(r.err, agz), "-j%d: the error names the file: %s", j, r.err);
        tt_run_free(&r);
    }
}

/* The same cut while timelines prints the lines it kept in the mapping
 * (the shim cuts the file to nothing at the first write to the output):
 * the run stops with an error naming the file, exit status 2 rather than a
 * bare "Bus error", and what it wrote before is the start of the full
 * output. */
TEST(mapfile, a_file_shrinking_while_printed_stops_with_an_error)
{
    char *a = at("a.log");
    sh_ok("'%s' --seed 7 --bytes 4M --single '%s'", TG_GEN, a);
    tt_run full = tg_cmd(tt_fmt("'%s' timelines --format ndjson -j1 '%s'", tt_binary(), a));
    cr_assert_eq(full.status, 0, "stderr: %s", full.err);
    cr_assert_gt(full.out_len, 1u << 20, "the output must outgrow the writer's buffer");

    tt_run r = tg_cmd(tt_fmt("TG_SHRINK_PATH='%s' TG_SHRINK_TO=0 TG_SHRINK_CALL=write "
                             "LD_PRELOAD='%s' ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}"
                             "verify_asan_link_order=0\" '%s' timelines --format ndjson -j1 '%s'",
                             a, TG_SHRINK_SHIM, tt_binary(), a));
    cr_expect_eq(r.status, 2, "exit %d, stderr: %s", r.status, r.err);
    char *want = keep(tt_fmt("%s: the file shrank while it was read; stopping, the output is "
                             "incomplete\n", a));
    cr_expect_not_null(strstr(r.err, want), "stderr: %s", r.err);
    cr_expect_lt(r.out_len, full.out_len);
    cr_expect(memcmp(r.out, full.out, r.out_len) == 0, "the output is not a prefix of the full one");
    tt_run_free(&full);
    tt_run_free(&r);
}

/* A legacy-format zstd frame that fails (found by fuzz_reader): libzstd's
 * legacy decoder reports the whole output buffer as written without writing
 * it. The lines before the damage come out, and nothing else: not the
 * previous input's lines still in the reader's buffer. */
TEST2(input, zstd_legacy_frame_error_delivers_no_stale_bytes)
{
    in_reader *r = reader(1 << 20);
    char *prev = at("prev.zst");
    sh_ok("yes 'STALE LINE FROM THE PREVIOUS FILE' | head -c 2000000 | zstd -q -c > '%s'", prev);
    collect first = {0};
    in_result res;
    cr_assert_eq(read_path(r, prev, &first, &res), IN_OK, "%s", res.err);

    size_t len = 0;
    char *bad = keep(tt_read_file(TG_SOURCE_DIR "/fuzz/regressions/fuzz_reader-zstd-legacy-error.bin",
                                  &len));
    cr_assert_not_null(bad);
    char *path = at("legacy.zst");
    tt_write_file(path, bad, len);
    collect got = {0};
    cr_assert_eq(read_path(r, path, &got, &res), IN_FAILED);
    cr_expect_not_null(strstr(res.err, "corrupt zstd"), "%s", res.err);
    cr_expect_eq(got.n, 2, "delivered %zu bytes", got.n);
    cr_expect(got.n == 2 && memcmp(got.data, "x\n", 2) == 0);
    cr_expect_eq(res.bytes_out, 2);
}

/* ---- read-ahead against the sequential reader ---------------------------- */

/* Threads of this process, from /proc. */
static size_t thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    cr_assert_not_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void nap_ms(unsigned ms)
{
    nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000}, NULL);
}

typedef struct run {
    collect c;
    in_result res;
    int rc;
} run;

/*
 * Reads path as read_path does, then checks what a return promises: no
 * thread is left (a joined thread may take a moment to leave /proc, one
 * that still runs never does) and the descriptor is not read any more.
 */
static run read_checked(in_reader *r, const char *path, collect c)
{
    run out = {.c = c};
    size_t threads = thread_count();
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    unsigned char head[4];
    ssize_t got = read(fd, head, 4);
    cr_assert_geq(got, 0);
    out.rc = in_reader_stream(r, fd, head, (size_t)got, in_sniff(head, (size_t)got), collect_fn,
                              &out.c, &out.res);
    off_t pos = lseek(fd, 0, SEEK_CUR);
    for (int i = 0; i < 200 && thread_count() > threads; i++)
        nap_ms(10);
    cr_assert_leq(thread_count(), threads, "a thread outlived in_reader_stream");
    nap_ms(20);
    cr_assert_eq(lseek(fd, 0, SEEK_CUR), pos, "the descriptor was read after the return");
    close(fd);
    return out;
}

/* The same callback sequence (count, offsets, lengths, bytes), return value
 * and result. */
static void same_runs(const run *a, const run *b, const char *what)
{
    cr_assert_eq(a->rc, b->rc, "%s: returned %d and %d", what, a->rc, b->rc);
    cr_assert_eq(a->c.blocks, b->c.blocks, "%s: %zu and %zu blocks", what, a->c.blocks,
                 b->c.blocks);
    cr_assert_eq(a->c.shape, b->c.shape, "%s: other offsets or lengths", what);
    cr_assert_eq(a->c.n, b->c.n, "%s: %zu and %zu bytes", what, a->c.n, b->c.n);
    cr_assert(a->c.n == 0 || memcmp(a->c.data, b->c.data, a->c.n) == 0, "%s: other bytes", what);
    cr_assert_eq(a->res.bytes_in, b->res.bytes_in, "%s", what);
    cr_assert_eq(a->res.bytes_out, b->res.bytes_out, "%s", what);
    cr_assert_eq(a->res.oversized, b->res.oversized, "%s", what);
    cr_assert_eq(a->res.err_offset, b->res.err_offset, "%s", what);
    cr_assert_str_eq(a->res.err, b->res.err, "%s", what);
}

/* Reads path with both readers, the sequential one first, and compares. */
static void both_ways(in_reader *seq, in_reader *ra, const char *path, collect c, run *out)
{
    run a = read_checked(seq, path, c), b = read_checked(ra, path, c);
    collect_check(&a.c);
    collect_check(&b.c);
    char *what = keep(tt_fmt("%s, stop after %zu, nap %u ms", path, c.stop_after, c.nap_ms));
    same_runs(&a, &b, what);
    if (out)
        *out = b;
}

/*
 * Several MB as three gzip members or zstd frames, both cut inside a line,
 * with an oversized line inside a buffer (the commit delivers before and
 * after it: two blocks lent from one buffer), one longer than the whole
 * buffer, and the last line without its newline.
 */
static char *mixed_text(size_t *len)
{
    size_t n1, n2, n3, big = (3u << 20) / 2;
    char *a = make_text(3u << 20, 21, &n1), *b = make_text(2u << 20, 22, &n2),
         *c = make_text(2u << 20, 23, &n3);
    size_t n = n1 + 5001 + n2 + big + 1 + n3 + 4;
    char *t = keep(malloc(n + 1)), *p = t;
    memcpy(p, a, n1), p += n1;
    memset(p, 'o', 5000), p += 5000, *p++ = '\n';
    memcpy(p, b, n2), p += n2;
    memset(p, 'O', big), p += big, *p++ = '\n';
    memcpy(p, c, n3), p += n3;
    memcpy(p, "tail", 5), p += 4;
    *len = (size_t)(p - t);
    return t;
}

/* Writes t as name (plain), name.gz (three members) and name.zst (three
 * frames), the parts cut at the given offsets. */
static char *three_parts(const char *name, const char *t, size_t n, size_t cut1, size_t cut2)
{
    char *p = at(name), *p1 = at("part1"), *p2 = at("part2"), *p3 = at("part3");
    tt_write_file(p, t, n);
    tt_write_file(p1, t, cut1);
    tt_write_file(p2, t + cut1, cut2 - cut1);
    tt_write_file(p3, t + cut2, n - cut2);
    sh_ok("gzip -c '%s' > '%s.gz' && gzip -c '%s' >> '%s.gz' && gzip -c '%s' >> '%s.gz'", p1, p,
          p2, p, p3, p);
    sh_ok("zstd -q -c '%s' > '%s.zst' && zstd -q -c '%s' >> '%s.zst' && zstd -q -c '%s' >> "
          "'%s.zst'", p1, p, p2, p, p3, p);
    return p;
}

TEST(input_readahead, same_blocks_as_sequential)
{
    size_t n;
    char *t = mixed_text(&n);
    char *p = three_parts("t", t, n, n / 3 + 7, 2 * n / 3 + 13);
    in_reader *seq = reader_mode(4096, false), *ra = reader_mode(4096, true);
    const char *paths[] = {p, keep(tt_fmt("%s.gz", p)), keep(tt_fmt("%s.zst", p))};
    for (int i = 0; i < 3; i++) {
        run whole;
        /* A fast callback, then a slow one that lets the decoder fill every
         * buffer and wait. */
        both_ways(seq, ra, paths[i], (collect){.orig = t, .orig_n = n}, &whole);
        both_ways(seq, ra, paths[i], (collect){.orig = t, .orig_n = n, .nap_ms = 30}, NULL);
        cr_assert_eq(whole.rc, IN_OK, "%s: %s", paths[i], whole.res.err);
        cr_assert_eq(whole.res.oversized, 2);
        cr_assert_eq(whole.res.bytes_out, n);
        cr_assert_gt(whole.c.blocks, 8, "%s: too few blocks to test the handoff", paths[i]);
        check_against_oracle(ra, paths[i], 4096, t, n);
    }
}

/* A nonzero return stops the reader at once: no further callback, the same
 * result as the sequential reader's, the helper thread gone. */
TEST(input_readahead, callback_stops_mid_stream)
{
    size_t n;
    char *t = mixed_text(&n);
    char *p = three_parts("t", t, n, n / 2 - 3, n / 2 + 100000);
    in_reader *seq = reader_mode(4096, false), *ra = reader_mode(4096, true);
    const char *paths[] = {keep(tt_fmt("%s.gz", p)), keep(tt_fmt("%s.zst", p)), p};
    for (int i = 0; i < 3; i++) {
        run whole = read_checked(ra, paths[i], (collect){0});
        cr_assert_eq(whole.rc, IN_OK);
        size_t stops[] = {1, 2, 3, 5, whole.c.blocks / 2, whole.c.blocks - 1, whole.c.blocks};
        for (size_t k = 0; k < sizeof stops / sizeof stops[0]; k++) {
            for (unsigned nap = 0; nap <= 20; nap += 20) {
                run r;
                both_ways(seq, ra, paths[i],
                          (collect){.orig = t, .orig_n = n, .stop_after = stops[k], .nap_ms = nap},
                          &r);
                cr_assert_eq(r.rc, IN_STOPPED, "%s: stop after %zu", paths[i], stops[k]);
                cr_assert_eq(r.c.blocks, stops[k], "%s: callbacks after the stop", paths[i]);
                cr_assert_str_eq(r.res.err, "");
            }
        }
    }
}

/* Damage: the lines before it, then the same error as without read-ahead. */
TEST(input_readahead, truncated_same_error)
{
    size_t n;
    char *t = mixed_text(&n); /* each block is checked against it at its offset */
    char *p = three_parts("t", t, n, n / 3, 2 * n / 3);
    in_reader *seq = reader_mode(4096, false), *ra = reader_mode(4096, true);
    const char *suffix[] = {"gz", "zst"};
    for (int i = 0; i < 2; i++) {
        char *z = keep(tt_fmt("%s.%s", p, suffix[i])), *cut = keep(tt_fmt("%s.cut", z));
        sh_ok("head -c %llu '%s' > '%s'", (unsigned long long)file_size(z) * 3 / 5, z, cut);
        for (unsigned nap = 0; nap <= 20; nap += 20) {
            run r;
            both_ways(seq, ra, cut, (collect){.orig = t, .orig_n = n, .nap_ms = nap}, &r);
            cr_assert_eq(r.rc, IN_FAILED);
            cr_assert(strstr(r.res.err, "truncated ") == r.res.err, "%s", r.res.err);
            cr_assert_gt(r.c.n, n / 3, "only %zu of %zu bytes before the damage", r.c.n, n);
        }
    }
}

/* Lines of random letters: they compress to about 3/4, so a decoder's
 * output follows its input closely. */
static char *noise_text(size_t target, unsigned seed, size_t *len)
{
    char *t = keep(malloc(target + 200));
    size_t n = 0;
    unsigned x = seed;
    while (n < target) {
        x = x * 1103515245u + 12345u;
        size_t l = 20 + (x >> 16) % 150;
        for (size_t i = 0; i < l; i++) {
            x = x * 1103515245u + 12345u;
            t[n++] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"[x >> 26];
        }
        t[n++] = '\n';
    }
    *len = n;
    return t;
}

/*
 * The caller stops while the decoder waits for a pipe whose writer neither
 * writes nor closes: in_reader_stream must still return at once, its helper
 * woken and joined. The pipe holds a little more than one read's worth, so
 * the helper delivers a block, decodes the rest and then waits in read.
 */
Test(input_readahead, stop_while_decoder_waits_on_a_pipe, .init = setup, .fini = teardown,
     .timeout = 60)
{
    size_t n, zn;
    char *t = noise_text(2u << 20, 5, &n);
    char *gz = keep(tt_fmt("%s.gz", with_archives("t", t, n)));
    char *z = keep(tt_read_file(gz, &zn));
    size_t part = (256u << 10) + 4000;
    cr_assert_gt(zn, part + 4);
    for (int ra = 0; ra < 2; ra++) {
        int pfd[2];
        cr_assert_eq(pipe(pfd), 0);
        cr_assert_geq(fcntl(pfd[1], F_SETPIPE_SZ, 1 << 20), (int)part);
        cr_assert_eq(write(pfd[1], z + 4, part), (ssize_t)part);
        size_t threads = thread_count();
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        collect c = {.orig = t, .orig_n = n, .stop_after = 1, .nap_ms = 300};
        in_result res;
        int rc = in_reader_stream(reader_mode(4096, ra), pfd[0], (const unsigned char *)z, 4,
                                  IN_GZIP, collect_fn, &c, &res);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        cr_assert_eq(rc, IN_STOPPED, "read-ahead %d", ra);
        cr_assert_eq(c.blocks, 1);
        cr_assert_lt(dt, 5.0, "took %.1f s to stop", dt);
        for (int i = 0; i < 200 && thread_count() > threads; i++)
            nap_ms(10);
        cr_assert_leq(thread_count(), threads, "the helper thread is still there");
        /* Nothing more was taken from the pipe after the return. */
        struct pollfd pf = {pfd[0], POLLIN, 0};
        int before = poll(&pf, 1, 0);
        nap_ms(20);
        cr_assert_eq(poll(&pf, 1, 0), before);
        close(pfd[0]);
        close(pfd[1]);
    }
}

/* A collect_fn that also notes the most threads seen while blocks come. */
typedef struct counted {
    collect c;
    size_t most;
} counted;

static int counted_fn(void *ctx, const char *p, size_t n, uint64_t off)
{
    counted *k = ctx;
    size_t t = thread_count();
    if (t > k->most)
        k->most = t;
    return collect_fn(&k->c, p, n, off);
}

/* With read-ahead on, a reader told not to use it for the next streams
 * decodes them on the caller's thread (no helper is started), and reads
 * the same; told again, it starts the helper. The text is several times
 * what the helper may decode ahead (its queue of line buffers of at least
 * 1 MiB), so that the helper is still there, decoding or waiting for room,
 * when the first blocks come: with 2 MB, on a loaded machine, it could
 * finish and leave before the caller counted threads. */
TEST(input_readahead, skipped_when_asked_and_reads_the_same)
{
    size_t n;
    char *t = make_text(16u << 20, 37, &n);
    char *gz = keep(tt_fmt("%s.gz", with_archives("s", t, n)));
    in_reader *r = reader_mode(4096, true);
    size_t base = thread_count();
    for (int use = 0; use < 2; use++) {
        in_reader_use_readahead(r, use);
        int fd = open(gz, O_RDONLY);
        cr_assert_geq(fd, 0);
        counted k = {.c = {.orig = t, .orig_n = n}};
        in_result res;
        cr_assert_eq(in_reader_stream(r, fd, NULL, 0, IN_GZIP, counted_fn, &k, &res), IN_OK);
        close(fd);
        cr_expect_eq(k.c.n, n, "use %d: %zu bytes of %zu", use, k.c.n, n);
        cr_expect_eq(k.c.bad_off, 0);
        if (use)
            cr_expect_eq(k.most, base + 1, "the helper was not started");
        else
            cr_expect_eq(k.most, base, "a helper was started: %zu threads, %zu before", k.most,
                         base);
    }
}

/* One reader for many inputs, its mode switched between them. */
TEST(input_readahead, reuse_and_toggle)
{
    size_t n;
    char *t = make_text(3u << 20, 31, &n);
    char *p = with_archives("t", t, n), *gz = keep(tt_fmt("%s.gz", p)), *cut = at("cut.gz");
    sh_ok("head -c %llu '%s' > '%s'", (unsigned long long)file_size(gz) / 2, gz, cut);
    in_reader *r = reader_mode(4096, true);
    cr_assert(in_reader_set_readahead(r, true), "turning it on twice is harmless");
    for (int round = 0; round < 3; round++) {
        collect c = {.stop_after = 2};
        in_result res;
        cr_assert_eq(read_path(r, gz, &c, &res), IN_STOPPED);
        check_three(r, p, 4096, t, n);
        collect d = {.orig = t, .orig_n = n};
        cr_assert_eq(read_path(r, cut, &d, &res), IN_FAILED);
        check_three(r, p, 4096, t, n);
        cr_assert(in_reader_set_readahead(r, round % 2 == 1));
    }
}
