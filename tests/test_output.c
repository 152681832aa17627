/* JSON that stays valid on any bytes, and the writer's error handling. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/json.h"
#include "output/writer.h"
#include "tg_test_util.h"

/* Writes through a writer into a temp file and returns its contents. */
static char *capture(void (*fn)(writer *, const void *), const void *arg)
{
    char *dir = tt_tmpdir();
    char *path = tt_fmt("%s/out", dir);
    writer w;
    cr_assert_eq(wr_open(&w, path), 0);
    fn(&w, arg);
    cr_assert_eq(wr_close(&w), 0);
    char *got = tt_read_file(path, NULL);
    tt_rmtree(dir);
    free(path);
    free(dir);
    return got;
}

static void put_str(writer *w, const void *arg)
{
    const tg_str *s = arg;
    json_str(w, s->p, s->n);
}

static void put_alb(writer *w, const void *arg)
{
    json_alb_field(w, *(const tg_str *)arg);
}

Test(output, json_escapes_and_replaces_invalid_utf8)
{
    const char raw[] = "a\"b\\c\n\t\x01 caf\xc3\xa9 bad\xff\xfe end\xe2\x82";
    tg_str s = {raw, sizeof raw - 1};
    char *got = capture(put_str, &s);
    cr_expect_str_eq(got, "\"a\\\"b\\\\c\\n\\t\\u0001 caf\xc3\xa9 bad\\ufffd\\ufffd end\\ufffd\\ufffd\"");
    cr_expect(tt_json_valid(got, strlen(got)));
    free(got);
}

Test(output, every_byte_value_gives_valid_json)
{
    char raw[256 * 3];
    for (int i = 0; i < 256; i++)
        raw[i] = (char)i, raw[256 + i] = (char)(255 - i), raw[512 + i] = (char)(i * 7);
    tg_str s = {raw, sizeof raw};
    char *got = capture(put_str, &s);
    cr_expect(tt_json_valid(got, strlen(got)), "%s", got);
    free(got);
}

Test(output, alb_fields_are_unescaped_then_encoded)
{
    tg_str s = {"say \\x22hi\\x22 \\xE2\\x80\\x94 \\x5C", 0};
    s.n = strlen(s.p);
    char *got = capture(put_alb, &s);
    cr_expect_str_eq(got, "\"say \\\"hi\\\" \xe2\x80\x94 \\\\\"");
    free(got);
    tg_str dash = {"-", 1};
    got = capture(put_alb, &dash);
    cr_expect_str_eq(got, "null");
    free(got);
}

static void put_numbers(writer *w, const void *arg)
{
    (void)arg;
    const char *vals[] = {"0.000", "-1", "12", "1e5", "-", "01", "1.", "abc", "-0.5"};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        json_number_or_null(w, tg_str_make(vals[i], strlen(vals[i])), true);
        wr_char(w, ' ');
    }
}

Test(output, numbers_pass_only_when_valid_json)
{
    char *got = capture(put_numbers, NULL);
    cr_expect_str_eq(got, "0.000 null 12 1e5 null null null null -0.5 ");
    free(got);
}

Test(output, writer_reports_a_full_disk)
{
    writer w;
    cr_assert_eq(wr_open(&w, "/dev/full"), 0);
    for (int i = 0; i < 100000; i++)
        wr_str(&w, "some output that will not fit\n");
    cr_expect_eq(wr_close(&w), 28 /* ENOSPC */);
}

Test(output, writer_stops_quietly_on_a_closed_pipe)
{
    signal(SIGPIPE, SIG_IGN);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    close(fds[0]);
    writer w;
    cr_assert_eq(wr_open(&w, NULL), 0);
    w.fd = fds[1];
    for (int i = 0; i < 100000; i++)
        wr_str(&w, "line\n");
    cr_expect(wr_broken_pipe(&w));
    cr_expect_eq(wr_close(&w), 32 /* EPIPE */);
    close(fds[1]);
}

Test(output, integers)
{
    char *dir = tt_tmpdir();
    char *path = tt_fmt("%s/o", dir);
    writer w;
    cr_assert_eq(wr_open(&w, path), 0);
    wr_u64(&w, 0);
    wr_char(&w, ' ');
    wr_u64(&w, 18446744073709551615ull);
    wr_char(&w, ' ');
    wr_i64(&w, -9223372036854775807ll - 1);
    cr_assert_eq(wr_close(&w), 0);
    char *got = tt_read_file(path, NULL);
    cr_expect_str_eq(got, "0 18446744073709551615 -9223372036854775808");
    free(got);
    tt_rmtree(dir);
    free(path);
    free(dir);
}
