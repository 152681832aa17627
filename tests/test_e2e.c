/*
 * End-to-end tests of the built tracegrep binary: archives written by the
 * generator (bench/tg-gen.c), whose truth file says what was written, are
 * read through every path (gzip, zstd, plain, stdin, threads) and the
 * reports are checked against that truth, never against tracegrep's own
 * earlier output.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/tgtime.h"
#include "tg_test_util.h"

/* Writes a 3-LB archive under dir/logs (gzip, one zstd, one plain file) and
 * its truth in dir/truth.tsv. */
static void make_archive(const char *dir, unsigned seed, unsigned traces)
{
    char *cmd = tt_fmt(
        "set -e; cd '%s'; '%s' --seed %u --traces %u --lbs 3 --out logs --truth truth.tsv;"
        " i=0; find logs -name '*.log' | sort | while read f; do"
        "   i=$((i+1));"
        "   if [ $i -eq 1 ]; then zstd -q --rm \"$f\";"
        "   elif [ $i -eq 2 ]; then :;"
        "   else gzip -n \"$f\"; fi;"
        " done",
        dir, TG_GEN, seed, traces);
    tt_run r = tt_sh(cmd, NULL);
    cr_assert_eq(r.status, 0, "making the archive failed: %s", r.err);
    tt_run_free(&r);
    free(cmd);
}

static tt_run tg(const char *args)
{
    char *cmd = tt_fmt("'%s' %s", tt_binary(), args);
    tt_run r = tt_sh(cmd, NULL);
    free(cmd);
    return r;
}

static void check_stats_json(const char *json, const tt_truth *t)
{
    cr_assert(tt_json_valid(json, strlen(json)), "stats --json is not JSON: %s", json);
    cr_expect_eq(tt_json_u64(json, "lines"), t->lines);
    cr_expect_eq(tt_json_u64(json, "header_lines"), t->header_lines);
    cr_expect_eq(tt_json_u64(json, "events"), t->events);
    cr_expect_eq(tt_json_u64(json, "malformed"), t->malformed);
    cr_expect_eq(tt_json_u64(json, "no-root"), t->no_root);
    cr_expect_eq(tt_json_u64(json, "bad-root"), t->bad_root);
    cr_expect_eq(tt_json_u64(json, "zero-root"), t->zero_root);
    cr_expect_eq(tt_json_u64(json, "traces"), t->traces);
    cr_expect_eq(tt_json_u64(json, "multi_event_traces"), t->multi);
    cr_expect_eq(tt_json_u64(json, "traces_5xx"), t->traces_5xx);
    cr_expect_eq(tt_json_u64(json, "errors"), 0);
    /* Conservation: every line is accounted for. */
    cr_expect_eq(tt_json_u64(json, "header_lines"),
                 tt_json_u64(json, "events") + tt_json_u64(json, "malformed"));
    cr_expect_eq(tt_json_u64(json, "lines"), tt_json_u64(json, "header_lines") +
                                                 tt_json_u64(json, "lines_without_header") +
                                                 tt_json_u64(json, "oversized_lines"));
}

/* samples/ holds every kind of log; the truth's first keys describe its ALB
 * access logs, which stats reports apart (test_formats.c checks the rest). */
Test(e2e, samples_match_the_generator_truth)
{
    tt_truth t = tt_truth_read(TG_SOURCE_DIR "/tests/fixtures/samples.truth.tsv");
    tt_run r = tg("stats --json -j 2 '" TG_SOURCE_DIR "/samples'");
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    cr_expect_eq(r.err_len, 0, "unexpected stderr: %s", r.err);
    const char *json = r.out;
    cr_assert(tt_json_valid(json, strlen(json)), "%s", json);
    cr_expect_eq(tt_json_obj_u64(json, "lines_by_input_format", "alb"), t.lines);
    cr_expect_eq(tt_json_obj_u64(json, "alb", "events"), t.events);
    cr_expect_eq(tt_json_obj_u64(json, "alb", "malformed"), t.malformed);
    cr_expect_eq(tt_json_u64(json, "traces"), t.traces);
    cr_expect_eq(tt_json_u64(json, "errors"), 0);
    cr_expect_eq(tt_json_u64(json, "header_lines"),
                 tt_json_u64(json, "events") + tt_json_u64(json, "malformed"));
    cr_expect_eq(tt_json_u64(json, "lines"), tt_json_u64(json, "header_lines") +
                                                 tt_json_u64(json, "lines_without_header") +
                                                 tt_json_u64(json, "oversized_lines"));
    /* samples/ holds gzip (one multi-member), zstd and plain files. */
    cr_expect_geq(tt_json_u64(json, "files_gzip"), 2);
    cr_expect_geq(tt_json_u64(json, "files_zstd"), 1);
    cr_expect_geq(tt_json_u64(json, "files_plain"), 1);
    tt_run_free(&r);
    tt_truth_free(&t);
}

Test(e2e, stats_counts_match_truth_on_mixed_archive)
{
    char *dir = tt_tmpdir();
    make_archive(dir, 11, 400);
    char *truth = tt_fmt("%s/truth.tsv", dir);
    tt_truth t = tt_truth_read(truth);
    /* Four threads on two cores: four partitions of the merge too. */
    for (int j = 1; j <= 4; j *= 2) {
        char *args = tt_fmt("stats --json -j %d '%s/logs'", j, dir);
        tt_run r = tg(args);
        cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
        check_stats_json(r.out, &t);
        tt_run_free(&r);
        free(args);
    }
    tt_truth_free(&t);
    free(truth);
    tt_rmtree(dir);
    free(dir);
}

/* Every NDJSON timeline is valid JSON and agrees with the truth: event
 * count, span and worst status of every trace. */
Test(e2e, timelines_ndjson_match_truth)
{
    char *dir = tt_tmpdir();
    make_archive(dir, 5, 500);
    char *truth = tt_fmt("%s/truth.tsv", dir);
    tt_truth t = tt_truth_read(truth);
    char *args = tt_fmt("timelines --format ndjson '%s/logs'", dir);
    tt_run r = tg(args);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    size_t seen = 0;
    long long prev_start = -1;
    for (char *line = r.out, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        cr_assert_not_null(nl, "last NDJSON line lacks its newline");
        *nl = '\0';
        cr_assert(tt_json_valid(line, strlen(line)), "invalid JSON: %.300s", line);
        char *id = tt_json_str(line, "trace_id");
        cr_assert_not_null(id);
        const tt_truth_trace *want = tt_truth_find(&t, id);
        cr_assert_not_null(want, "trace %s is not in the truth", id);
        cr_expect_eq(tt_json_u64(line, "event_count"), want->events, "events of %s", id);
        cr_expect_eq(tt_json_u64(line, "duration_us"),
                     (unsigned long long)(want->end_us - want->start_us), "duration of %s", id);
        char *start = tt_json_str(line, "start");
        int64_t us = 0;
        cr_assert(tgtime_parse_iso(start, strlen(start), &us), "start %s", start);
        cr_expect_eq(us, want->start_us, "start of %s", id);
        cr_expect_geq(us, prev_start, "traces are not in start order at %s", id);
        prev_start = us;
        if (want->worst)
            cr_expect_eq(tt_json_u64(line, "worst_status"), want->worst, "worst of %s", id);
        /* The epoch is Root's own 8 hex digits. */
        cr_expect_eq(tt_json_u64(line, "epoch"), strtoull(id + 2, NULL, 16));
        cr_expect_eq(tt_count(line, "\"format\":\"alb\""), want->events);
        free(start);
        free(id);
        seen++;
    }
    cr_expect_eq(seen, t.nt, "%zu timelines for %zu traces", seen, t.nt);
    tt_run_free(&r);
    free(args);
    tt_truth_free(&t);
    free(truth);
    tt_rmtree(dir);
    free(dir);
}

static const tt_truth_trace *busiest(const tt_truth *t)
{
    const tt_truth_trace *best = &t->t[0];
    for (size_t i = 1; i < t->nt; i++)
        if (t->t[i].lbs > best->lbs || (t->t[i].lbs == best->lbs && t->t[i].events > best->events))
            best = &t->t[i];
    return best;
}

Test(e2e, find_one_trace_in_every_id_form)
{
    char *dir = tt_tmpdir();
    make_archive(dir, 3, 300);
    char *truth = tt_fmt("%s/truth.tsv", dir);
    tt_truth t = tt_truth_read(truth);
    const tt_truth_trace *want = busiest(&t);
    cr_assert_geq(want->lbs, 2, "the archive should hold a trace crossing 2+ LBs");
    char upper[36], otel[33], root[48], pasted[80], quoted[64];
    for (int i = 0; i < 36; i++)
        upper[i] = (char)(want->id[i] >= 'a' && want->id[i] <= 'f' ? want->id[i] - 32 : want->id[i]);
    snprintf(otel, sizeof otel, "%.8s%.24s", want->id + 2, want->id + 11);
    snprintf(root, sizeof root, "Root=%s", want->id);
    /* As pasted from a request dump, and from an ALB line's field 18. */
    snprintf(pasted, sizeof pasted, "X-Amzn-Trace-Id: Root=%s;Sampled=1", want->id);
    snprintf(quoted, sizeof quoted, "\"Root=%s\"", want->id);
    const char *forms[] = {want->id, upper, otel, root, pasted, quoted};
    for (size_t f = 0; f < sizeof forms / sizeof *forms; f++) {
        char *args = tt_fmt("find --format ndjson '%s' '%s/logs'", forms[f], dir);
        tt_run r = tg(args);
        cr_assert_eq(r.status, 0, "find %s: exit %d: %s", forms[f], r.status, r.err);
        cr_expect_eq(tt_count(r.out, "\n"), 1, "one trace expected for %s", forms[f]);
        cr_expect(tt_json_valid(r.out, strlen(r.out) - 1));
        cr_expect_eq(tt_json_u64(r.out, "event_count"), want->events);
        /* Each event carries its raw line, which names the trace. */
        cr_expect_eq(tt_count(r.out, "\"line\":"), want->events);
        tt_run_free(&r);
        free(args);
    }
    /* Text output shows source:offset and the raw lines. */
    char *args = tt_fmt("find --color never %s '%s/logs'", want->id, dir);
    tt_run r = tg(args);
    cr_assert_eq(r.status, 0);
    cr_expect_not_null(strstr(r.out, want->id));
    cr_expect_geq(tt_count(r.out, ".log"), want->events, "source paths missing: %s", r.out);
    tt_run_free(&r);
    free(args);
    tt_truth_free(&t);
    free(truth);
    tt_rmtree(dir);
    free(dir);
}

Test(e2e, find_reports_missing_ids_and_exits_1)
{
    char *dir = tt_tmpdir();
    make_archive(dir, 3, 50);
    char *args = tt_fmt("find 1-00000001-000000000000000000000001 '%s/logs'", dir);
    tt_run r = tg(args);
    cr_expect_eq(r.status, 1);
    cr_expect_eq(r.out_len, 0);
    cr_expect_not_null(strstr(r.err, "1-00000001-000000000000000000000001: not found"), "%s", r.err);
    tt_run_free(&r);
    free(args);
    tt_rmtree(dir);
    free(dir);
}

Test(e2e, find_ids_from_file)
{
    char *dir = tt_tmpdir();
    make_archive(dir, 9, 200);
    char *truth = tt_fmt("%s/truth.tsv", dir);
    tt_truth t = tt_truth_read(truth);
    /* A header as pasted from a request dump counts as its Root. */
    char *list = tt_fmt("# wanted\n%s\n\nRoot=%s\nX-Amzn-Trace-Id: Root=%s;Sampled=1\n",
                        t.t[0].id, t.t[t.nt - 1].id, t.t[1].id);
    char *ids = tt_fmt("%s/ids.txt", dir);
    tt_write_file(ids, list, strlen(list));
    char *args = tt_fmt("find --format ndjson --ids-from '%s' '%s/logs'", ids, dir);
    tt_run r = tg(args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(tt_count(r.out, "\n"), 3);
    cr_expect_not_null(strstr(r.out, t.t[0].id));
    cr_expect_not_null(strstr(r.out, t.t[1].id));
    cr_expect_not_null(strstr(r.out, t.t[t.nt - 1].id));
    tt_run_free(&r);
    free(args);
    /* A file given by mistake, one line of a megabyte of quotes: an error
     * naming FILE:LINE that quotes the start of the line only. */
    size_t big = 1u << 20;
    char *junk = malloc(big + 1);
    cr_assert_not_null(junk);
    memset(junk, '"', big);
    junk[big] = '\n';
    tt_write_file(ids, junk, big + 1);
    free(junk);
    args = tt_fmt("find --ids-from '%s' '%s/logs'", ids, dir);
    r = tg(args);
    cr_expect_eq(r.status, 2, "%s", r.err);
    char *where = tt_fmt("%s:1: not a trace id: \"", ids);
    cr_expect_not_null(strstr(r.err, where), "%s", r.err);
    cr_expect_lt(strlen(r.err), 400, "the error quotes the whole line: %zu bytes",
                 strlen(r.err));
    free(where);
    tt_run_free(&r);
    free(args);
    free(ids);
    free(list);
    tt_truth_free(&t);
    free(truth);
    tt_rmtree(dir);
    free(dir);
}

/* Runs each of ways, a shell command run in dir with the binary in $t, and
 * checks its stats --json against the truth. */
static void stats_ways_match_truth(const char *dir, const tt_truth *t, const char *const *ways,
                                   size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *full = tt_fmt("cd '%s' && t='%s' && %s", dir, tt_binary(), ways[i]);
        tt_run r = tt_sh(full, NULL);
        cr_assert_eq(r.status, 0, "%s: %s", ways[i], r.err);
        check_stats_json(r.out, t);
        tt_run_free(&r);
        free(full);
    }
}

/* A fresh folder with all.log from `tg-gen ARGS --single all.log`, its
 * truth read into *t, after which the shell command `then` has run there. */
static char *gen_all_log(const char *args, const char *then, tt_truth *t)
{
    char *dir = tt_tmpdir();
    char *cmd = tt_fmt("cd '%s' && '%s' %s --single all.log --truth truth.tsv && %s", dir, TG_GEN,
                       args, then);
    tt_run g = tt_sh(cmd, NULL);
    cr_assert_eq(g.status, 0, "%s", g.err);
    tt_run_free(&g);
    free(cmd);
    char *truth = tt_fmt("%s/truth.tsv", dir);
    *t = tt_truth_read(truth);
    free(truth);
    return dir;
}

static void gen_all_log_free(char *dir, tt_truth *t)
{
    tt_truth_free(t);
    tt_rmtree(dir);
    free(dir);
}

/* Same bytes, three ways in: a path, "-" and stdin without a path. */
Test(e2e, stdin_gives_the_same_counts)
{
    tt_truth t;
    char *dir = gen_all_log("--seed 4 --traces 200", "gzip -n all.log", &t);
    static const char *const ways[] = {"\"$t\" stats --json all.log.gz",
                                       "\"$t\" stats --json - < all.log.gz",
                                       "\"$t\" stats --json < all.log.gz"};
    stats_ways_match_truth(dir, &t, ways, sizeof ways / sizeof ways[0]);
    gen_all_log_free(dir, &t);
}

/* Through a real pipe, as `zcat … | tracegrep` reads: many reads of 64 KiB
 * and, with -j2, a helper thread filling the buffers ahead (plain and gzip
 * text alike). The counts are the generator's truth every way, and the
 * timelines of the pipe are those of the file. */
Test(e2e, a_pipe_gives_the_same_counts, .timeout = 120)
{
    tt_truth t;
    char *dir = gen_all_log("--seed 9 --bytes 6M", "gzip -1 -n -c all.log > all.log.gz", &t);
    static const char *const ways[] = {"cat all.log | \"$t\" stats --json -j1 -",
                                       "cat all.log | \"$t\" stats --json -j2 -",
                                       "cat all.log.gz | \"$t\" stats --json -j2 -"};
    stats_ways_match_truth(dir, &t, ways, sizeof ways / sizeof ways[0]);
    /* The file as stdin, so that both name their source "-". */
    char *cmp = tt_fmt("cd '%s' && t='%s' &&"
                       " cat all.log | \"$t\" timelines --format ndjson -j2 - > pipe.ndjson &&"
                       " \"$t\" timelines --format ndjson -j1 - < all.log > file.ndjson &&"
                       " cmp pipe.ndjson file.ndjson",
                       dir, tt_binary());
    tt_run c = tt_sh(cmp, NULL);
    cr_expect_eq(c.status, 0, "the pipe's timelines differ from the file's: %s", c.err);
    tt_run_free(&c);
    free(cmp);
    gen_all_log_free(dir, &t);
}

/* A large plain file is cut into pieces for the threads; the output must not
 * change by a byte whatever the number of threads. */
Test(e2e, output_is_identical_for_any_thread_count, .timeout = 300)
{
    char *dir = tt_tmpdir();
    char *cmd = tt_fmt("cd '%s' && '%s' --seed 21 --bytes 72M --single big.log", dir, TG_GEN);
    tt_run g = tt_sh(cmd, NULL);
    cr_assert_eq(g.status, 0, "%s", g.err);
    char *o1 = tt_fmt("timelines --format ndjson -j 1 -o '%s/j1' '%s/big.log'", dir, dir);
    char *o2 = tt_fmt("timelines --format ndjson -j 2 -o '%s/j2' '%s/big.log'", dir, dir);
    char *o3 = tt_fmt("timelines --format ndjson -j 3 -o '%s/j3' '%s/big.log'", dir, dir);
    tt_run r1 = tg(o1), r2 = tg(o2), r3 = tg(o3);
    cr_assert_eq(r1.status, 0, "%s", r1.err);
    cr_assert_eq(r2.status, 0, "%s", r2.err);
    cr_assert_eq(r3.status, 0, "%s", r3.err);
    char *diff = tt_fmt("cmp '%s/j1' '%s/j2' && cmp '%s/j1' '%s/j3' && test -s '%s/j1'", dir, dir,
                        dir, dir, dir);
    /* The text printer too: its chunks are printed side by side as well,
     * by every thread into a file, by one thread fewer into a pipe, whose
     * reader wants a core (the writer's helper then writes them). */
    char *tx = tt_fmt("for j in 1 3; do '%s' timelines -j $j '%s/big.log' >'%s/t'$j || exit 1; done; "
                      "'%s' timelines -j 3 '%s/big.log' | cat >'%s/p3' && "
                      "cmp '%s/t1' '%s/t3' && cmp '%s/t1' '%s/p3' && test -s '%s/t1'",
                      TG_BINARY, dir, dir, TG_BINARY, dir, dir, dir, dir, dir, dir, dir);
    tt_run tr = tt_sh(tx, NULL);
    cr_expect_eq(tr.status, 0, "text output differs between thread counts: %s%s", tr.out, tr.err);
    tt_run_free(&tr);
    free(tx);
    tt_run d = tt_sh(diff, NULL);
    cr_expect_eq(d.status, 0, "outputs differ: %s%s", d.out, d.err);
    tt_run_free(&d);
    /* stats too, whose workers' tables are merged at the end, one partition
     * per thread: everything but the timing. */
    char *st = tt_fmt("for j in 1 2 3 5; do '%s' stats --json -j $j '%s/big.log' | "
                      "sed 's/\"seconds\":[^,]*,\"bytes_per_second\":[0-9]*//' >'%s/s'$j || exit 1; "
                      "done; cmp '%s/s1' '%s/s2' && cmp '%s/s1' '%s/s3' && cmp '%s/s1' '%s/s5' && "
                      "grep -q '\"traces\":[1-9]' '%s/s1'",
                      TG_BINARY, dir, dir, dir, dir, dir, dir, dir, dir, dir);
    tt_run sd = tt_sh(st, NULL);
    cr_expect_eq(sd.status, 0, "stats differ between thread counts: %s%s", sd.out, sd.err);
    tt_run_free(&sd);
    free(st);
    tt_run_free(&r1);
    tt_run_free(&r2);
    tt_run_free(&r3);
    tt_run_free(&g);
    free(diff);
    free(o1);
    free(o2);
    free(o3);
    free(cmd);
    tt_rmtree(dir);
    free(dir);
}

/* Lines of compressed inputs past --line-memory go to a temporary file in
 * $TMPDIR; the output is the same byte for byte. A $TMPDIR that cannot take
 * the file gets a warning that names it, the lines are kept in memory and
 * nothing is lost, while a run that stays within its budget never touches
 * it. Two .gz files of 12 MB of text each are 2
 * chunks or more per worker, so chunks are spilled, staged again and read
 * back from the middle of the file. */
Test(e2e, lines_past_line_memory_are_spilled_and_print_the_same, .timeout = 300)
{
    char *dir = tt_tmpdir();
    char *cmd = tt_fmt("cd '%s' && mkdir logs spill && '%s' --seed 23 --bytes 24M --single big.log"
                       " && split -n l/2 -d big.log logs/part- && gzip -1 logs/part-*",
                       dir, TG_GEN);
    tt_run g = tt_sh(cmd, NULL);
    cr_assert_eq(g.status, 0, "%s", g.err);
    char *runs = tt_fmt(
        "set -e; cd '%s'; t='%s'; export TMPDIR=\"$PWD/spill\";"
        " \"$t\" timelines --format ndjson -j 2 -o kept logs;"
        " \"$t\" timelines --format ndjson -j 2 --line-memory 1 -o spilled2 logs;"
        " \"$t\" timelines --format ndjson -j 1 --line-memory 9M -o spilled1 logs;"
        " \"$t\" timelines -j 2 --line-memory 1 logs >text-spilled;"
        " \"$t\" timelines -j 2 logs >text-kept;"
        " test -s kept && cmp kept spilled2 && cmp kept spilled1 && cmp text-kept text-spilled;"
        " test -z \"$(ls -A spill)\"",
        dir, TG_BINARY);
    tt_run r = tt_sh(runs, NULL);
    cr_expect_eq(r.status, 0, "spilled output differs, or a file was left: %s%s", r.out, r.err);
    char *bad = tt_fmt("cd '%s' && TMPDIR=\"$PWD/nowhere\" '%s' timelines --line-memory 1 logs "
                       "| cmp - text-kept",
                       dir, TG_BINARY);
    tt_run b = tt_sh(bad, NULL);
    cr_expect_eq(b.status, 0, "exit %d (or the output differs): %s%s", b.status, b.out, b.err);
    cr_expect(strstr(b.err, "warning: ") && strstr(b.err, "/nowhere: cannot write lines") &&
                  strstr(b.err, "No such file") && strstr(b.err, "kept them in memory"),
              "stderr: %s", b.err);
    char *fine = tt_fmt("cd '%s' && TMPDIR=\"$PWD/nowhere\" '%s' timelines logs | cmp - text-kept",
                        dir, TG_BINARY);
    tt_run f = tt_sh(fine, NULL);
    cr_expect_eq(f.status, 0, "within its budget a run needs no $TMPDIR: %s%s", f.out, f.err);
    cr_expect_null(strstr(f.err, "temporary file"), "a warning within the budget: %s", f.err);
    tt_run_free(&f);
    tt_run_free(&b);
    tt_run_free(&r);
    tt_run_free(&g);
    free(fine);
    free(bad);
    free(runs);
    free(cmd);
    tt_rmtree(dir);
    free(dir);
}

/* The default --line-memory is a quarter of what the process may use: in a
 * control group limited to 128 MB (a container, say), 32 MB, so that 40 MB
 * of lines from a .gz spill (which, $TMPDIR being missing, the warning
 * shows), while the same run outside it keeps them in memory. Needs a cgroup v1 memory
 * hierarchy this test may write to; skipped otherwise. */
Test(e2e, default_line_memory_follows_the_cgroup_limit, .timeout = 300)
{
    char *dir = tt_tmpdir();
    char *cmd = tt_fmt("cd '%s' && '%s' --seed 29 --bytes 40M --single big.log && gzip -1 big.log",
                       dir, TG_GEN);
    tt_run g = tt_sh(cmd, NULL);
    cr_assert_eq(g.status, 0, "%s", g.err);
    char *in_cg = tt_fmt(
        "p=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup);"
        " base=/sys/fs/cgroup/memory${p%%/}; [ -n \"$p\" ] && [ -w \"$base\" ] || exit 77;"
        " cg=$base/tracegrep-test-$$; mkdir \"$cg\" 2>/dev/null || exit 77;"
        " if echo 128M >\"$cg/memory.limit_in_bytes\"; then"
        "   TMPDIR='%s/nowhere' sh -c 'echo $$ >\"$1/cgroup.procs\" &&"
        "     exec \"$2\" timelines -j1 \"$3\" >/dev/null' sh \"$cg\" '%s' '%s/big.log.gz';"
        "   rc=$?;"
        " else rc=77; fi; rmdir \"$cg\"; exit $rc",
        dir, TG_BINARY, dir);
    tt_run r = tt_sh(in_cg, NULL);
    if (r.status == 77) {
        tt_run_free(&r);
        tt_run_free(&g);
        free(in_cg);
        free(cmd);
        tt_rmtree(dir);
        free(dir);
        cr_skip_test("no writable cgroup v1 memory hierarchy here");
    }
    cr_expect_eq(r.status, 0, "inside the limit: exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "cannot write lines to a temporary file"), "stderr: %s", r.err);
    char *out_cg = tt_fmt("TMPDIR='%s/nowhere' '%s' timelines -j1 '%s/big.log.gz' >/dev/null", dir,
                          TG_BINARY, dir);
    tt_run o = tt_sh(out_cg, NULL);
    cr_expect_eq(o.status, 0, "outside the limit: exit %d: %s", o.status, o.err);
    cr_expect_null(strstr(o.err, "temporary file"), "outside the limit: %s", o.err);
    tt_run_free(&o);
    tt_run_free(&r);
    tt_run_free(&g);
    free(out_cg);
    free(in_cg);
    free(cmd);
    tt_rmtree(dir);
    free(dir);
}

/* The README's quick start finds one sample trace by id: that id must stay
 * in samples/ (the generator is deterministic, but samples can be remade). */
Test(e2e, readme_quick_start_trace_is_in_the_samples)
{
    char *readme = tt_read_file(TG_SOURCE_DIR "/README.md", NULL);
    cr_assert_not_null(readme);
    const char *at = strstr(readme, "build/tracegrep find ");
    cr_assert_not_null(at, "the quick start no longer runs find");
    char id[36];
    cr_assert_eq(sscanf(at + strlen("build/tracegrep find "), "%35s", id), 1);
    tt_truth t = tt_truth_read(TG_SOURCE_DIR "/tests/fixtures/samples.truth.tsv");
    const tt_truth_trace *want = tt_truth_find(&t, id);
    cr_assert_not_null(want, "README's %s is not in samples/", id);
    char *args = tt_fmt("find --format ndjson %s '" TG_SOURCE_DIR "/samples'", id);
    tt_run r = tg(args);
    cr_expect_eq(r.status, 0, "%s", r.err);
    /* Its ALB events, plus whatever the other logs hold of it. */
    unsigned long total = want->events;
    for (size_t i = 0; i < t.ntf; i++)
        if (strcmp(t.tf[i].id, id) == 0)
            total = t.tf[i].n[0] + t.tf[i].n[1] + t.tf[i].n[2] + t.tf[i].n[3] + t.tf[i].n[4];
    cr_expect_gt(total, want->events, "the README's trace should cross more than ALB logs");
    cr_expect_eq(tt_json_u64(r.out, "event_count"), total);
    tt_run_free(&r);
    free(args);
    tt_truth_free(&t);
    free(readme);
}
