/*
 * End-to-end tests of the binary on bad inputs and at its edges: exit codes,
 * messages that name the file, and the other inputs' results left intact.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tg_test_util.h"
#include "util/report.h"

/* One plain ALB file of `traces` traces in dir/good.log, its truth in
 * dir/truth.tsv. */
static tt_truth make_good(const char *dir, unsigned traces)
{
    char *cmd = tt_fmt("cd '%s' && '%s' --seed 2 --traces %u --single good.log --truth truth.tsv",
                       dir, TG_GEN, traces);
    tt_run r = tt_sh(cmd, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    tt_run_free(&r);
    free(cmd);
    char *truth = tt_fmt("%s/truth.tsv", dir);
    tt_truth t = tt_truth_read(truth);
    free(truth);
    return t;
}

/* Runs a shell command line in which @B stands for the binary and @D for the
 * test's folder. */
static tt_run sh(const char *tmpl, const char *dir)
{
    size_t cap = strlen(tmpl) * 4 + 4096, n = 0;
    char *cmd = malloc(cap);
    for (const char *p = tmpl; *p; p++) {
        const char *sub = NULL;
        if (p[0] == '@' && p[1] == 'B')
            sub = tt_binary();
        else if (p[0] == '@' && p[1] == 'D')
            sub = dir;
        if (sub) {
            size_t l = strlen(sub);
            cr_assert_lt(n + l, cap);
            memcpy(cmd + n, sub, l);
            n += l;
            p++;
        } else {
            cmd[n++] = *p;
        }
    }
    cmd[n] = '\0';
    tt_run r = tt_sh(cmd, NULL);
    free(cmd);
    return r;
}

/* stats --json accounts for every line. */
static void conserved(const char *json)
{
    cr_assert(tt_json_valid(json, strlen(json)), "not JSON: %s", json);
    cr_expect_eq(tt_json_u64(json, "header_lines"),
                 tt_json_u64(json, "events") + tt_json_u64(json, "malformed"));
    cr_expect_eq(tt_json_u64(json, "lines"), tt_json_u64(json, "header_lines") +
                                                 tt_json_u64(json, "lines_without_header") +
                                                 tt_json_u64(json, "oversized_lines"));
}

Test(cli, help_documents_every_command_and_option)
{
    tt_run r = sh("'@B' --help", "");
    cr_assert_eq(r.status, 0);
    const char *must[] = {"stats", "timelines", "find", "--threads", "--json", "--format",
                          "--output", "--ids-from", "--color", "--max-line-bytes",
                          "--line-memory", "--no-progress", "--version", "exit status"};
    for (size_t i = 0; i < sizeof must / sizeof *must; i++)
        cr_expect_not_null(strstr(r.out, must[i]), "--help lacks %s", must[i]);
    /* It names every kind of log it reads, and fits an 80-column terminal:
     * characters counted, not bytes ("…" is three). */
    const char *kinds[] = {"ALB access logs", "application logs", "JSON", "Lambda",
                           "ALB connection logs", "CloudFront logs"};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        cr_expect_not_null(strstr(r.out, kinds[i]), "--help lacks %s", kinds[i]);
    size_t col = 0, line = 1;
    for (const unsigned char *p = (const unsigned char *)r.out; *p; p++) {
        if (*p == '\n') {
            line++;
            col = 0;
        } else if ((*p & 0xc0) != 0x80) {
            col++;
            cr_expect_leq(col, 80, "--help line %zu is wider than 80 columns", line);
        }
    }
    tt_run_free(&r);
    r = sh("'@B' --version", "");
    cr_assert_eq(r.status, 0);
    cr_expect_not_null(strstr(r.out, "tracegrep "));
    cr_expect_not_null(strstr(r.out, "Hyperscan "));
    cr_expect_not_null(strstr(r.out, "zstd "));
    cr_expect_not_null(strstr(r.out, "ISA-L "));
    tt_run_free(&r);
}

Test(cli, usage_errors_exit_2_with_a_message)
{
    tt_run r = sh("'@B' --bogus x", "");
    cr_expect_eq(r.status, 2);
    cr_expect_not_null(strstr(r.err, "--bogus"), "%s", r.err);
    tt_run_free(&r);
    r = sh("'@B' -j 0 x", "");
    cr_expect_eq(r.status, 2);
    cr_expect_not_null(strstr(r.err, "--threads"), "%s", r.err);
    tt_run_free(&r);
    r = sh("'@B' find /tmp", "");
    cr_expect_eq(r.status, 2);
    cr_expect_not_null(strstr(r.err, "trace id"), "%s", r.err);
    tt_run_free(&r);
    r = sh("'@B' timelines --line-memory 0 /tmp", "");
    cr_expect_eq(r.status, 2);
    cr_expect_not_null(strstr(r.err, "--line-memory wants a size"), "%s", r.err);
    tt_run_free(&r);
    r = sh("'@B' stats --line-memory 1G /tmp", "");
    cr_expect_eq(r.status, 2);
    cr_expect_not_null(strstr(r.err, "stats keeps no line"), "%s", r.err);
    tt_run_free(&r);
}

Test(cli, missing_file_is_an_error_but_the_rest_is_read)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_good(dir, 100);
    tt_run r = sh("'@B' stats --json '@D/nope.log' '@D/good.log'", dir);
    cr_expect_eq(r.status, 2, "a failed input must give exit 2");
    cr_expect_not_null(strstr(r.err, "nope.log"), "the message names the file: %s", r.err);
    cr_expect_not_null(strstr(r.err, "No such file"), "%s", r.err);
    conserved(r.out);
    cr_expect_eq(tt_json_u64(r.out, "events"), t.events);
    cr_expect_eq(tt_json_u64(r.out, "traces"), t.traces);
    cr_expect_eq(tt_json_u64(r.out, "errors"), 1);
    tt_run_free(&r);
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

/* The progress line (shown on a terminal once a run has lasted a second)
 * counts a stream's bytes while it is read, not only once it ends: here
 * stdin is a .gz that arrives at once, then stays open for two seconds, so
 * every line drawn meanwhile must show all of its bytes read. With -j2 a
 * helper thread does the reading. */
Test(cli, progress_counts_a_stream_while_it_is_read)
{
    char *dir = tt_tmpdir();
    tt_run g = sh("'" TG_GEN "' --seed 3 --bytes 2M --single - | gzip -c > '@D/in.gz'", dir);
    cr_assert_eq(g.status, 0, "%s", g.err);
    tt_run_free(&g);
    size_t zn = 0;
    char *gz = tt_fmt("%s/in.gz", dir);
    free(tt_read_file(gz, &zn));
    free(gz);
    cr_assert_gt(zn, 100000);
    char size[32];
    tg_human_bytes((double)zn, size, sizeof size);
    char *want = tt_fmt("/1 inputs, %s read, ", size);
    static const char *const threads[] = {"-j1", "-j2"};
    for (size_t i = 0; i < 2; i++) {
        char *cmd = tt_fmt("script -qec \"(cat '@D/in.gz'; sleep 2) | '@B' stats %s - "
                           ">/dev/null\" /dev/null", threads[i]);
        tt_run r = sh(cmd, dir);
        cr_expect_eq(r.status, 0, "%s: exit %d: %s", threads[i], r.status, r.err);
        cr_expect_not_null(strstr(r.out, want), "%s: want \"%s\" in: %s", threads[i], want,
                           r.out);
        cr_expect_null(strstr(r.out, "0 B read"), "%s: %s", threads[i], r.out);
        tt_run_free(&r);
        free(cmd);
    }
    free(want);
    tt_rmtree(dir);
    free(dir);
}

Test(cli, truncated_gzip_keeps_the_lines_before_the_cut)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_good(dir, 400);
    tt_run p = sh("cd '@D' && gzip -n -c good.log > full.gz && "
                  "head -c $(( $(stat -c %s full.gz) / 2 )) full.gz > cut.log.gz && "
                  "cp good.log other.log",
                  dir);
    cr_assert_eq(p.status, 0, "%s", p.err);
    tt_run r = sh("'@B' stats --json '@D/cut.log.gz' '@D/other.log'", dir);
    cr_expect_eq(r.status, 2);
    cr_expect_not_null(strstr(r.err, "cut.log.gz"), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "truncated"), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "byte "), "the offset reached is given: %s", r.err);
    /* other.log is whole, and about half of cut.log.gz was read. */
    unsigned long long ev = tt_json_u64(r.out, "events");
    cr_expect_gt(ev, t.events + t.events / 4, "lines before the damage were lost: %llu", ev);
    cr_expect_lt(ev, 2 * t.events);
    tt_run_free(&p);
    tt_run_free(&r);
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

Test(cli, corrupt_gzip_and_zstd_are_reported)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_good(dir, 200);
    /* A flipped byte in the CRC (8 bytes from the end) and one in the middle
     * of a zstd frame. */
    tt_run p = sh("cd '@D' && gzip -n -c good.log > crc.gz && "
                  "s=$(stat -c %s crc.gz) && printf '\\377' | dd of=crc.gz bs=1 seek=$((s-8)) "
                  "conv=notrunc 2>/dev/null && zstd -q -c good.log > bad.zst && "
                  "s=$(stat -c %s bad.zst) && printf 'XXXXXXXX' | dd of=bad.zst bs=1 "
                  "seek=$((s/2)) conv=notrunc 2>/dev/null",
                  dir);
    cr_assert_eq(p.status, 0, "%s", p.err);
    tt_run r = sh("'@B' stats --json '@D/crc.gz' '@D/bad.zst' '@D/good.log'", dir);
    cr_expect_eq(r.status, 2);
    cr_expect_not_null(strstr(r.err, "crc.gz"), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "bad.zst"), "%s", r.err);
    conserved(r.out);
    cr_expect_eq(tt_json_u64(r.out, "errors"), 2);
    cr_expect_geq(tt_json_u64(r.out, "events"), t.events, "good.log was not fully counted");
    tt_run_free(&p);
    tt_run_free(&r);
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

/* Field 18 is "-" but the user agent and the URL hold a valid header: no
 * event, no header line. */
Test(cli, header_text_outside_field_18_is_no_event)
{
    char *dir = tt_tmpdir();
    const char *line =
        "https 2025-11-20T08:00:01.000000Z app/web/50dc6c495c0c9188 1.2.3.4:5 10.0.0.1:80 0.001 "
        "0.002 0.000 200 200 10 20 \"GET https://x.example.com:443/?h=Root=1-5759e988-"
        "bd862e3fe1be46a994272793 HTTP/1.1\" \"curl Root=1-5759e988-bd862e3fe1be46a994272793\" "
        "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:1:"
        "targetgroup/t/1 \"-\" \"-\" \"-\" 0 2025-11-20T08:00:00.990000Z \"forward\" \"-\" \"-\" "
        "\"10.0.0.1:80\" \"200\" \"-\" \"-\"\n";
    char *path = tt_fmt("%s/decoy.log", dir);
    tt_write_file(path, line, strlen(line));
    tt_run r = sh("'@B' stats --json '@D/decoy.log'", dir);
    cr_expect_eq(r.status, 1, "nothing found means exit 1");
    conserved(r.out);
    cr_expect_eq(tt_json_u64(r.out, "lines"), 1);
    cr_expect_eq(tt_json_u64(r.out, "header_lines"), 0);
    cr_expect_eq(tt_json_u64(r.out, "events"), 0);
    tt_run_free(&r);
    free(path);
    tt_rmtree(dir);
    free(dir);
}

Test(cli, crlf_lines_count_like_lf_lines)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_good(dir, 150);
    tt_run p = sh("cd '@D' && sed 's/$/\\r/' good.log > crlf.log", dir);
    cr_assert_eq(p.status, 0, "%s", p.err);
    tt_run r = sh("'@B' timelines --format ndjson '@D/crlf.log'", dir);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(tt_count(r.out, "\n"), t.traces);
    cr_expect_eq(tt_count(r.out, "\\r"), 0, "a CR leaked into a field");
    tt_run_free(&r);
    r = sh("'@B' stats --json '@D/crlf.log'", dir);
    conserved(r.out);
    cr_expect_eq(tt_json_u64(r.out, "events"), t.events);
    cr_expect_eq(tt_json_u64(r.out, "lines"), t.lines);
    tt_run_free(&r);
    tt_run_free(&p);
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

/* find prints every event's raw line as it stands in the input: from a
 * plain file's mapping (kept for the printers at 1 MiB and over; the line
 * lengths were taken as the lines were read), from a gzip copy (through the
 * line arena), from a copy with CRLF line ends and from one whose last line
 * has no newline, the same lines. */
Test(cli, find_prints_each_raw_line_exactly)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_good(dir, 1200); /* 1.5 MB */
    tt_run p = sh("cd '@D' && awk -F'\t' '$1==\"trace\" {print $2}' truth.tsv > ids && "
                  "gzip -k good.log && sed 's/$/\r/' good.log > crlf.log && "
                  "head -c -1 good.log > nonl.log && sed 's/^/      /' good.log > raw && "
                  "'@B' find --ids-from ids good.log > a && "
                  "'@B' find --ids-from ids good.log.gz | sed 's/good[.]log[.]gz/good.log/' > b && "
                  "'@B' find --ids-from ids nonl.log | sed 's/nonl[.]log/good.log/' > d && "
                  "'@B' find --ids-from ids crlf.log > c",
                  dir);
    cr_assert_eq(p.status, 0, "%s", p.err);
    tt_run_free(&p);
    const char *files[] = {"a", "b", "c", "d"};
    char *out[4];
    for (int i = 0; i < 4; i++) {
        char *path = tt_fmt("%s/%s", dir, files[i]);
        out[i] = tt_read_file(path, NULL);
        cr_assert(out[i], "%s", path);
        free(path);
        /* Every event's line, indented, whole: nothing cut, nothing added. */
        char *cmd = tt_fmt("grep -c -x -F -f '%s/raw' '%s/%s'", dir, dir, files[i]);
        tt_run g = tt_sh(cmd, NULL);
        cr_expect_eq(strtoull(g.out, NULL, 10), t.events, "%s: raw lines printed", files[i]);
        tt_run_free(&g);
        free(cmd);
    }
    cr_expect_str_eq(out[1], out[0], "the gzip copy prints other lines");
    cr_expect_str_eq(out[3], out[0], "a last line without newline prints otherwise");
    cr_expect_eq(tt_count(out[2], "\r"), 0, "a CR was printed");
    for (int i = 0; i < 4; i++)
        free(out[i]);
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

/* With one thread printing, and with three (3000 traces make six chunks,
 * printed side by side). */
Test(cli, closed_pipe_ends_quietly)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_good(dir, 3000);
    for (int j = 1; j <= 3; j += 2) {
        char *cmd = tt_fmt("bash -c \"'%s' timelines -j %d --format ndjson '%s/good.log' | head -1 "
                           ">/dev/null; echo status=\\${PIPESTATUS[0]}\"",
                           tt_binary(), j, dir);
        tt_run r = tt_sh(cmd, NULL);
        cr_expect_not_null(strstr(r.out, "status=0"), "-j %d: exit status through a closed pipe: %s",
                           j, r.out);
        cr_expect_eq(r.err_len, 0, "-j %d: a closed pipe printed: %s", j, r.err);
        tt_run_free(&r);
        free(cmd);
    }
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

Test(cli, full_disk_is_an_error)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_good(dir, 3000);
    /* Three threads print side by side: the error must still stop them. */
    const char *cmds[] = {"'@B' timelines -j 1 -o /dev/full '@D/good.log'",
                          "'@B' timelines -j 3 --format ndjson -o /dev/full '@D/good.log'"};
    for (int i = 0; i < 2; i++) {
        tt_run r = sh(cmds[i], dir);
        cr_expect_eq(r.status, 2, "%s", cmds[i]);
        cr_expect_not_null(strstr(r.err, "/dev/full"), "%s", r.err);
        cr_expect_not_null(strstr(r.err, "No space left"), "%s", r.err);
        tt_run_free(&r);
    }
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

Test(cli, binary_file_is_skipped_with_a_warning)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_good(dir, 100);
    tt_run p = sh("head -c 100000 /dev/urandom > '@D/random.bin'", dir);
    cr_assert_eq(p.status, 0);
    tt_run r = sh("'@B' stats --json '@D'", dir);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_not_null(strstr(r.err, "random.bin"), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "binary"), "%s", r.err);
    conserved(r.out);
    cr_expect_eq(tt_json_u64(r.out, "events"), t.events);
    cr_expect_eq(tt_json_u64(r.out, "files_skipped"), 1);
    tt_run_free(&p);
    tt_run_free(&r);
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

Test(cli, symlink_loop_is_reported_once_and_the_rest_read)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_good(dir, 100);
    tt_run p = sh("mkdir -p '@D/d/sub' && mv '@D/good.log' '@D/d/sub/' && "
                  "ln -s .. '@D/d/sub/up'",
                  dir);
    cr_assert_eq(p.status, 0, "%s", p.err);
    tt_run r = sh("'@B' stats --json '@D/d'", dir);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(tt_count(r.err, "loop"), 1, "%s", r.err);
    conserved(r.out);
    cr_expect_eq(tt_json_u64(r.out, "events"), t.events);
    cr_expect_eq(tt_json_u64(r.out, "files"), 1);
    tt_run_free(&p);
    tt_run_free(&r);
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

Test(cli, empty_and_headerless_inputs_exit_1)
{
    char *dir = tt_tmpdir();
    tt_run r = sh(": > '@D/empty.log' && '@B' stats --json '@D/empty.log' "
                  "'" TG_SOURCE_DIR "/tests/fixtures/classic-elb-doc-example.log'",
                  dir);
    cr_expect_eq(r.status, 1, "%s", r.err);
    conserved(r.out);
    cr_expect_eq(tt_json_u64(r.out, "lines"), 2);
    cr_expect_eq(tt_json_u64(r.out, "events"), 0);
    cr_expect_eq(tt_json_u64(r.out, "files"), 2);
    tt_run_free(&r);
    tt_rmtree(dir);
    free(dir);
}

/* A line over --max-line-bytes is counted and skipped, even when it holds
 * a header, and every input with such lines says so once on stderr, with
 * their number, however it is read: mapped whole, mapped and cut into
 * pieces for two threads (the two lines about 10 MB apart), kept mapped for
 * the printers, a small file read with read(2) or mapped (TG_SMALL_FILES),
 * inflated, or from stdin with read-ahead.
 * -q silences it; the exit status is not touched. */
Test(cli, oversized_lines_are_reported_once_per_input)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_good(dir, 100);
    tt_run p = sh("cd '@D' && long() { printf 'https 2025-11-20T08:00:01.000000Z x '; "
                  "head -c 10000000 /dev/zero | tr '\\0' a; "
                  "printf ' \"Root=1-5759e988-bd862e3fe1be46a994272793\"\\n'; } && "
                  "{ cat good.log; long; cat good.log; long; cat good.log; } > two.log && "
                  "gzip -n -c two.log > two.log.gz && { cat good.log; long; } > one.log",
                  dir);
    cr_assert_eq(p.status, 0, "%s", p.err);
    /* lines: the long ones; copies: of good.log, whose events must all
     * still be there. */
    const struct {
        const char *cmd, *name;
        unsigned lines, copies;
    } cases[] = {
        {"'@B' stats --json -j1 '@D/two.log'", "two.log", 2, 3},
        {"'@B' stats --json -j2 '@D/two.log'", "two.log", 2, 3},
        {"'@B' timelines -f ndjson -j2 '@D/two.log'", "two.log", 2, 3},
        {"'@B' stats --json -j1 '@D/two.log.gz'", "two.log.gz", 2, 3},
        {"cat '@D/two.log' | '@B' timelines -f ndjson -j2 -", NULL, 2, 3},
        {"TG_SMALL_FILES=read '@B' stats --json -j2 '@D/one.log'", "one.log", 1, 1},
        {"TG_SMALL_FILES=map '@B' stats --json -j2 '@D/one.log'", "one.log", 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tt_run r = sh(cases[i].cmd, dir);
        cr_expect_eq(r.status, 0, "%s: %s", cases[i].cmd, r.err);
        if (strstr(cases[i].cmd, "stats")) {
            conserved(r.out);
            cr_expect_eq(tt_json_u64(r.out, "events"), cases[i].copies * t.events, "%s",
                         cases[i].cmd);
            cr_expect_eq(tt_json_u64(r.out, "oversized_lines"), cases[i].lines, "%s",
                         cases[i].cmd);
            const uint64_t lines = cases[i].copies * t.lines + cases[i].lines;
            cr_expect_eq(tt_json_u64(r.out, "lines"), lines, "%s", cases[i].cmd);
            cr_expect_eq(tt_json_obj_u64(r.out, "lines_by_input_format", "alb"), lines, "%s",
                         cases[i].cmd);
        } else {
            cr_expect_eq(tt_count(r.out, "\n"), t.traces, "%s", cases[i].cmd);
            cr_expect_eq(tt_count(r.out, "\"offset\":"), cases[i].copies * t.events, "%s",
                         cases[i].cmd);
        }
        char *want = cases[i].name ? tt_fmt("warning: %s/%s: %u line%s longer than 1048576 bytes "
                                            "skipped (--max-line-bytes)\n",
                                            dir, cases[i].name, cases[i].lines,
                                            cases[i].lines == 1 ? "" : "s")
                                   : tt_fmt("warning: <stdin>: %u lines longer than 1048576 "
                                            "bytes skipped (--max-line-bytes)\n",
                                            cases[i].lines);
        cr_expect_not_null(strstr(r.err, want), "%s: stderr: %s", cases[i].cmd, r.err);
        cr_expect_eq(tt_count(r.err, "longer than"), 1, "%s: stderr: %s", cases[i].cmd, r.err);
        free(want);
        tt_run_free(&r);
    }
    tt_run q = sh("'@B' -q stats -j2 '@D/two.log'", dir);
    cr_expect_eq(q.status, 0, "%s", q.err);
    cr_expect_null(strstr(q.err, "longer than"), "-q: %s", q.err);
    tt_run_free(&q);
    tt_run_free(&p);
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

Test(cli, nul_bytes_inside_lines_are_read)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_good(dir, 300);
    /* A NUL in the user agent of every 50th line: a log with a few NUL bytes
     * is still text, and its lines still count. */
    tt_run p = sh("cd '@D' && perl -pe 's/ HTTP/ HT\\0TP/ if $. % 50 == 0' good.log > nul.log && "
                  "cmp -s good.log nul.log; test $? -eq 1",
                  dir);
    cr_assert_eq(p.status, 0, "the fixture has no NUL: %s", p.err);
    tt_run r = sh("'@B' stats --json '@D/nul.log' '@D/good.log'", dir);
    cr_expect_eq(r.status, 0, "%s", r.err);
    conserved(r.out);
    cr_expect_eq(tt_json_u64(r.out, "lines"), 2 * t.lines);
    cr_expect_eq(tt_json_u64(r.out, "events"), 2 * t.events);
    cr_expect_eq(tt_json_u64(r.out, "files_skipped"), 0);
    tt_run_free(&r);
    /* And the NUL comes out of NDJSON as an escape, never raw. */
    r = sh("'@B' timelines --format ndjson '@D/nul.log'", dir);
    cr_expect_eq(r.status, 0);
    cr_expect_eq(strlen(r.out), r.out_len, "a raw NUL byte reached the output");
    cr_expect_gt(tt_count(r.out, "\\u0000"), 0);
    tt_run_free(&r);
    tt_run_free(&p);
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

Test(cli, stdin_from_a_pipe)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_good(dir, 200);
    tt_run r = sh("gzip -n -c '@D/good.log' | '@B' stats --json", dir);
    cr_expect_eq(r.status, 0, "%s", r.err);
    conserved(r.out);
    cr_expect_eq(tt_json_u64(r.out, "events"), t.events);
    cr_expect_eq(tt_json_u64(r.out, "files_gzip"), 1);
    tt_run_free(&r);
    /* - among files: stdin read once, beside the others. */
    r = sh("cat '@D/good.log' | '@B' stats --json - '@D/good.log'", dir);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(tt_json_u64(r.out, "events"), 2 * t.events);
    tt_run_free(&r);
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

/* Root reads anything, so the unreadable file is tried as the nobody user. */
Test(cli, unreadable_file_is_an_error_and_the_rest_is_read)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_good(dir, 100);
    tt_run p = sh("cp '@D/good.log' '@D/secret.log' && chmod 000 '@D/secret.log' && "
                  "chmod 755 '@D' && chmod 644 '@D/good.log'",
                  dir);
    cr_assert_eq(p.status, 0, "%s", p.err);
    /* The binary is copied beside the logs: wherever the build lives, the
     * nobody user may not be able to reach it. */
    bool root = geteuid() == 0;
    char *bin = root ? tt_fmt("%s/tracegrep", dir) : tt_fmt("%s", tt_binary());
    if (root) {
        char *cp = tt_fmt("cp '%s' '%s' && chmod 755 '%s'", tt_binary(), bin, bin);
        tt_run c = tt_sh(cp, NULL);
        cr_assert_eq(c.status, 0, "%s", c.err);
        tt_run_free(&c);
        free(cp);
    }
    const char *as = root ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
    char *cmd = tt_fmt("%s'%s' stats --json '%s/secret.log' '%s/good.log'", as, bin, dir, dir);
    tt_run r = tt_sh(cmd, NULL);
    cr_expect_eq(r.status, 2, "%s", r.err);
    cr_expect_not_null(strstr(r.err, "secret.log"), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "Permission denied"), "%s", r.err);
    cr_expect_eq(tt_json_u64(r.out, "events"), t.events);
    cr_expect_eq(tt_json_u64(r.out, "errors"), 1);
    tt_run_free(&r);
    tt_run_free(&p);
    free(cmd);
    free(bin);
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}
