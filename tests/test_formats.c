/*
 * End-to-end tests of the formats beyond ALB: an archive written by the
 * generator with every kind of log (ALB access and connection logs,
 * CloudFront, nginx, API Gateway, Lambda) is read in full, and each trace's
 * events by format, the joins and the per-format counts are checked against
 * what the generator says it wrote.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_test_util.h"

/* Writes an archive of every kind of log to dir/logs; returns the truth
 * the generator wrote beside it. */
static tt_truth make_archive(const char *dir, unsigned seed, unsigned traces)
{
    char *cmd = tt_fmt("set -e; cd '%s'; '%s' --seed %u --traces %u --lbs 3 --formats all "
                       "--out logs --truth truth.tsv 2>/dev/null",
                       dir, TG_GEN, seed, traces);
    tt_run r = tt_sh(cmd, NULL);
    cr_assert_eq(r.status, 0, "making the archive failed: %s", r.err);
    tt_run_free(&r);
    free(cmd);
    char *truth = tt_fmt("%s/truth.tsv", dir);
    tt_truth t = tt_truth_read(truth);
    free(truth);
    return t;
}

/* Runs the shell command fmt (%s: dir, then the binary), which must
 * succeed; its run is the caller's to free. */
static tt_run sh_ok(const char *fmt, const char *dir)
{
    char *cmd = tt_fmt(fmt, dir, tt_binary());
    tt_run r = tt_sh(cmd, NULL);
    cr_assert_eq(r.status, 0, "%s: %s", cmd, r.err);
    free(cmd);
    return r;
}

static tt_run tg(const char *fmt, const char *dir)
{
    char *args = tt_fmt(fmt, dir);
    char *cmd = tt_fmt("'%s' %s", tt_binary(), args);
    tt_run r = tt_sh(cmd, NULL);
    free(cmd);
    free(args);
    return r;
}

static void check_stats(const char *json, const tt_truth *t)
{
    cr_assert(tt_json_valid(json, strlen(json)), "%s", json);
    static const char *const names[TT_NFMT] = {"alb", "alb-conn", "cloudfront", "app", "lambda"};
    for (int f = 0; f < TT_NFMT; f++) {
        char *obj = tt_fmt("%s", names[f]);
        cr_expect_eq(tt_json_obj_u64(json, obj, "events"), t->fmt_events[f], "%s events", names[f]);
        cr_expect_eq(tt_json_obj_u64(json, obj, "malformed"), t->fmt_malformed[f], "%s malformed", names[f]);
        free(obj);
    }
    cr_expect_eq(tt_json_obj_u64(json, "lines_by_input_format", "alb"), t->fmt_lines[TT_FMT_ALB]);
    cr_expect_eq(tt_json_obj_u64(json, "lines_by_input_format", "alb-conn"), t->fmt_lines[TT_FMT_CONN]);
    cr_expect_eq(tt_json_obj_u64(json, "lines_by_input_format", "cloudfront"), t->fmt_lines[TT_FMT_CF]);
    cr_expect_eq(tt_json_obj_u64(json, "lines_by_input_format", "json") +
                     tt_json_obj_u64(json, "lines_by_input_format", "text"),
                 t->fmt_lines[TT_FMT_APP] + t->fmt_lines[TT_FMT_LAMBDA]);
    cr_expect_eq(tt_json_obj_u64(json, "joins", "alb_conn"), t->joined_conn);
    cr_expect_eq(tt_json_obj_u64(json, "joins", "cloudfront"), t->joined_cf);
    cr_expect_eq(tt_json_obj_u64(json, "joins", "cloudfront_unmatched"), t->cf_unmatched);
    cr_expect_eq(tt_json_u64(json, "traces"), t->traces);
    cr_expect_eq(tt_json_u64(json, "errors"), 0);
}

/* stats --json -j j over dir/logs agrees with the truth. */
static void check_stats_j(const char *dir, unsigned j, const tt_truth *t)
{
    char *args = tt_fmt("stats --json -j %u '%%s/logs'", j);
    tt_run r = tg(args, dir);
    cr_assert_eq(r.status, 0, "-j %u: %s", j, r.err);
    check_stats(r.out, t);
    tt_run_free(&r);
    free(args);
}

/* Runs the shell command move (%s: dir) over dir's archive, which moves
 * some of its logs, then checks stats at -j1..3 and the NDJSON timelines'
 * events of format `name` (the truth's fmt) against the truth. */
static void check_after_move(const char *dir, const tt_truth *t, const char *move, int fmt,
                             const char *name)
{
    tt_run r = sh_ok(move, dir);
    tt_run_free(&r);
    for (unsigned j = 1; j <= 3; j++)
        check_stats_j(dir, j, t);
    r = tg("timelines --format ndjson -j 2 '%s/logs'", dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char *key = tt_fmt("\"format\":\"%s\"", name);
    cr_expect_eq(tt_count(r.out, key), t->fmt_events[fmt], "%s events", name);
    free(key);
    tt_run_free(&r);
}

Test(formats, samples_every_format_matches_truth)
{
    tt_truth t = tt_truth_read(TG_SOURCE_DIR "/tests/fixtures/samples.truth.tsv");
    cr_assert(t.has_formats, "samples were not written with --formats all");
    tt_run r = tg("stats --json '%s/samples'", TG_SOURCE_DIR);
    cr_assert_eq(r.status, 0, "%s", r.err);
    check_stats(r.out, &t);
    tt_run_free(&r);
    tt_truth_free(&t);
}

/* Each trace's events, counted by format from the NDJSON timelines. */
Test(formats, every_trace_has_its_events_by_format, .timeout = 120)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_archive(dir, 17, 300);
    cr_assert(t.has_formats && t.ntf == t.nt, "the truth lacks per-format counts");
    tt_run r = tg("timelines --format ndjson '%s/logs'", dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    static const char *const names[TT_NFMT] = {"alb", "alb-conn", "cloudfront", "app", "lambda"};
    size_t seen = 0, crossed_all = 0;
    for (char *line = r.out, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        cr_assert_not_null(nl);
        *nl = '\0';
        cr_assert(tt_json_valid(line, strlen(line)), "invalid JSON: %.300s", line);
        char *id = tt_json_str(line, "trace_id");
        const tt_truth_fmt *want = NULL;
        for (size_t i = 0; i < t.ntf && !want; i++)
            if (strcmp(t.tf[i].id, id) == 0)
                want = &t.tf[i];
        cr_assert_not_null(want, "trace %s is not in the truth", id);
        int kinds = 0;
        for (int f = 0; f < TT_NFMT; f++) {
            char *pat = tt_fmt("\"format\":\"%s\"", names[f]);
            size_t got = tt_count(line, pat);
            cr_expect_eq(got, want->n[f], "%s: %zu %s events, truth %lu", id, got, names[f],
                         want->n[f]);
            kinds += got > 0;
            free(pat);
        }
        crossed_all += kinds >= 4;
        free(id);
        seen++;
    }
    cr_expect_eq(seen, t.nt);
    cr_expect_gt(crossed_all, 0, "no trace crosses four kinds of log");
    tt_run_free(&r);
    /* stats agrees, and does not depend on the order the files come in:
     * the same files named in reverse order. */
    r = tg("stats --json '%s/logs'", dir);
    check_stats(r.out, &t);
    tt_run_free(&r);
    char *rev = tt_fmt("cd '%s' && find logs -type f | sort -r | xargs '%s' stats --json", dir,
                       tt_binary());
    r = tt_sh(rev, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    check_stats(r.out, &t);
    tt_run_free(&r);
    free(rev);
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

/*
 * ALB lines keep their connection references only once a connection log is
 * known to be among the inputs (by name, conn_log_…, or on reading one);
 * access logs read before that are read again for them. Here the
 * connection logs are renamed to sort after the access logs of their
 * folder, so every access log is read before the first of them: the joins
 * still match the truth, with any number of threads, the second reading
 * adds nothing else, and it reports a damaged input no second time.
 */
Test(formats, connection_logs_after_their_access_logs, .timeout = 120)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_archive(dir, 29, 300);
    cr_assert_gt(t.joined_conn, 0);
    check_after_move(dir, &t,
                     "cd '%s' && find logs -name 'conn_log_*' | while read -r f; do "
                     "mv \"$f\" \"$(dirname \"$f\")/zz-$(basename \"$f\" | cut -c10-)\"; "
                     "done && ! find logs -name 'conn_log*' | grep -q .",
                     TT_FMT_CONN, "alb-conn");

    /* Access logs from a pipe, which cannot be read twice, and the
     * connection logs as files. */
    tt_run r = sh_ok("cd '%s' && cat $(find logs -name '[0-9]*_elasticloadbalancing_*' | sort) | "
                     "'%s' stats --json -j 1 - $(find logs -name 'zz-*' | sort)",
                     dir);
    cr_expect_eq(tt_json_obj_u64(r.out, "joins", "alb_conn"), t.joined_conn);
    tt_run_free(&r);

    /* A truncated gzip access log: read twice, reported once. */
    r = sh_ok("cd '%s' && f=$(find logs -name '[0-9]*_elasticloadbalancing_*' | sort | head -1)"
              " && gzip -c \"$f\" | head -c 2000 > \"$f.gz\" && rm \"$f\"",
              dir);
    tt_run_free(&r);
    r = tg("stats --json -j 2 '%s/logs'", dir);
    cr_expect_eq(r.status, 2, "%s", r.err);
    cr_expect_eq(tt_count(r.err, ".log.gz"), 1, "%s", r.err);
    cr_expect_eq(tt_json_u64(r.out, "errors"), 1, "%s", r.out);
    /* The other inputs' joins are still made: all but the few the damaged
     * file's lost lines named. */
    uint64_t joined = tt_json_obj_u64(r.out, "joins", "alb_conn");
    cr_expect(joined > t.joined_conn / 2 && joined <= t.joined_conn, "%lu of %lu joins",
              (unsigned long)joined, (unsigned long)t.joined_conn);
    tt_run_free(&r);

    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

/*
 * Application lines keep their CloudFront ids only once a CloudFront log is
 * known to be among the inputs (by name, <distribution>.YYYY-MM-DD-HH.…, or
 * on reading one); application logs read before that are read again for
 * them. Here the CloudFront log is renamed and moved to a folder that sorts
 * after the application logs: the joins still match the truth with any
 * number of threads, and so do they with the application logs through a
 * pipe, which cannot be read twice.
 */
Test(formats, cloudfront_logs_after_their_application_logs, .timeout = 120)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_archive(dir, 31, 300);
    cr_assert_gt(t.joined_cf, 0);
    check_after_move(dir, &t,
                     "cd '%s' && mkdir logs/zz-edge && n=0 && for f in logs/cloudfront/*; do "
                     "n=$((n+1)); mv \"$f\" logs/zz-edge/edge$n.log; done && "
                     "rmdir logs/cloudfront",
                     TT_FMT_CF, "cloudfront");

    /* The application logs that log the ids, from a pipe; the CloudFront
     * logs as files after it. */
    tt_run r = sh_ok("cd '%s' && cat $(find logs/app -type f | sort) | "
                     "'%s' stats --json -j 1 - logs/zz-edge",
                     dir);
    cr_expect_eq(tt_json_obj_u64(r.out, "joins", "cloudfront"), t.joined_cf, "%s", r.out);
    cr_expect_eq(tt_json_obj_u64(r.out, "joins", "cloudfront_unmatched"), t.cf_unmatched);
    tt_run_free(&r);

    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

/* find shows a trace's events from every kind of log, with their lines. */
/*
 * Enough connection and CloudFront records (48K and 17K) that the joins
 * run on several threads at -j2 and -j3 (engine/join.c joins fewer than
 * 16384 on one): every count matches the truth at any -j, and the
 * timelines are the same bytes. Under ThreadSanitizer (scripts/test.sh)
 * this is the test of the threaded join.
 */
Test(formats, joins_on_several_threads_match_truth, .timeout = 300)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_archive(dir, 5, 26000);
    cr_assert_gt(t.joined_conn, 40000);
    cr_assert_gt(t.joined_cf, 10000);
    char *first = NULL;
    for (unsigned j = 1; j <= 3; j++) {
        check_stats_j(dir, j, &t);
        /* The timelines (100 MB) are compared whole: counting in them
         * would be quadratic under ASan, whose strstr() measures the rest
         * of the text at every call, and stats has counted already. */
        char *args = tt_fmt("timelines --format ndjson -j %u '%%s/logs'", j);
        tt_run r = tg(args, dir);
        cr_assert_eq(r.status, 0, "-j %u: %s", j, r.err);
        if (!first)
            first = strdup(r.out);
        else
            cr_expect(strcmp(first, r.out) == 0, "the timelines differ at -j %u", j);
        tt_run_free(&r);
        free(args);
    }
    free(first);
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

/*
 * A plain Lambda log big enough for two workers to share (17 MiB) whose cut
 * falls between a REPORT line and its XRAY part: the cut moves past the
 * XRAY line, and -j2 gives what -j1 gives, the REPORT with its trace.
 */
Test(formats, lambda_report_and_xray_stay_together_when_a_file_is_split, .timeout = 120)
{
    char *dir = tt_tmpdir();
    char *path = tt_fmt("%s/lambda.log", dir);
    const size_t cut = 8u << 20, size = 17u << 20; /* engine.c's ENG_MIN_PIECE, and past 2x */
    static const char pad[] = "2025-11-20T08:00:01.000Z\tINFO\tpadding line without a trace\n";
    static const char report[] =
        "2025-11-20T08:00:02.503Z REPORT RequestId: 76d6c41f-7046-4afe-8bcb-d809937881ec\t"
        "Duration: 6.49 ms\tBilled Duration: 7 ms\tMemory Size: 128 MB\tMax Memory Used: 69 MB\n";
    static const char xray[] = "XRAY TraceId: 1-691eca83-354e964e9bba142a71a83e6c\t"
                               "SegmentId: 854dc277192540ac\tSampled: true\n";
    char *buf = malloc(size + sizeof report + sizeof xray + sizeof pad);
    cr_assert_not_null(buf);
    size_t n = 0;
    /* Padding up to a REPORT line that holds byte `cut`. */
    while (n + sizeof pad - 1 + sizeof report / 2 < cut) {
        memcpy(buf + n, pad, sizeof pad - 1);
        n += sizeof pad - 1;
    }
    memcpy(buf + n, report, sizeof report - 1);
    n += sizeof report - 1;
    cr_assert(n > cut && n - (sizeof report - 1) < cut);
    memcpy(buf + n, xray, sizeof xray - 1);
    n += sizeof xray - 1;
    while (n < size) {
        memcpy(buf + n, pad, sizeof pad - 1);
        n += sizeof pad - 1;
    }
    tt_write_file(path, buf, n);
    free(buf);
    for (unsigned j = 1; j <= 2; j++) {
        char *args = tt_fmt("stats --json -j %u '%%s/lambda.log'", j);
        tt_run r = tg(args, dir);
        cr_assert_eq(r.status, 0, "-j %u: %s", j, r.err);
        cr_expect_eq(tt_json_obj_u64(r.out, "lambda", "events"), 1, "-j %u: %s", j, r.out);
        cr_expect_eq(tt_json_u64(r.out, "untimed_events"), 0, "-j %u: the XRAY line alone", j);
        tt_run_free(&r);
        free(args);
    }
    free(path);
    tt_rmtree(dir);
    free(dir);
}

Test(formats, find_shows_every_kind_of_event)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_archive(dir, 23, 200);
    const tt_truth_fmt *best = &t.tf[0];
    int best_kinds = 0;
    for (size_t i = 0; i < t.ntf; i++) {
        int kinds = 0;
        for (int f = 0; f < TT_NFMT; f++)
            kinds += t.tf[i].n[f] > 0;
        if (kinds > best_kinds)
            best = &t.tf[i], best_kinds = kinds;
    }
    char *args = tt_fmt("find --format ndjson %s '%%s/logs'", best->id);
    tt_run r = tg(args, dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    unsigned long total = 0;
    for (int f = 0; f < TT_NFMT; f++)
        total += best->n[f];
    cr_expect_eq(tt_json_u64(r.out, "event_count"), total);
    cr_expect_eq(tt_count(r.out, "\"line\":"), total);
    tt_run_free(&r);
    free(args);
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

/* Small plain files (under 16 MiB, engine.c) are mapped or read with
 * read(2), as timing the first ones decides; TG_SMALL_FILES fixes the way.
 * Both ways, and the timed one, agree with the truth and with each other,
 * on one thread or two, over an archive whose files are mostly 0.3-2 MB. */
Test(formats, small_files_mapped_or_read_give_the_same, .timeout = 120)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_archive(dir, 41, 8000);
    tt_run big = sh_ok("find '%s/logs' -type f -size +256k | wc -l", dir);
    cr_assert_gt(atoi(big.out), 10, "too few files big enough to be mapped");
    tt_run_free(&big);
    static const char *const ways[] = {"TG_SMALL_FILES=read", "TG_SMALL_FILES=map", ""};
    char *first = NULL;
    for (unsigned j = 1; j <= 2; j++) {
        for (size_t w = 0; w < sizeof ways / sizeof *ways; w++) {
            char *cmd = tt_fmt("%s '%%2$s' stats --json -j %u '%%1$s/logs'", ways[w], j);
            tt_run r = sh_ok(cmd, dir);
            check_stats(r.out, &t);
            char *secs = strstr(r.out, "\"seconds\""); /* the run's time differs */
            cr_assert_not_null(secs);
            *secs = '\0';
            if (!first)
                first = strdup(r.out);
            else
                cr_expect_str_eq(r.out, first, "%s -j %u", ways[w], j);
            tt_run_free(&r);
            free(cmd);
        }
    }
    tt_run a = sh_ok("TG_SMALL_FILES=read '%2$s' timelines -f ndjson -j2 '%1$s/logs'", dir);
    tt_run b = sh_ok("TG_SMALL_FILES=map '%2$s' timelines -f ndjson -j2 '%1$s/logs'", dir);
    cr_expect_eq(tt_count(a.out, "\n"), t.traces);
    cr_expect_str_eq(b.out, a.out, "timelines, mapped and read");
    tt_run_free(&a);
    tt_run_free(&b);
    free(first);
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

/* find reads its ids three ways (engine.h): a database of them for a few,
 * every trace header filtered by id for many, and for as many as ALB
 * access logs read faster whole, a mix. The three must print the same. */
Test(formats, find_prints_the_same_for_few_and_many_ids, .timeout = 120)
{
    char *dir = tt_tmpdir();
    tt_truth t = make_archive(dir, 37, 400);
    cr_assert_gt(t.ntf, 100, "the archive has too few traces to need the mixed way");
    /* Two traces in three (the mixed way), then the same and 1500 absent
     * ones; the third left out must stay out. */
    char *some = tt_fmt("%s/some.ids", dir), *many = tt_fmt("%s/many.ids", dir);
    FILE *a = fopen(some, "w"), *b = fopen(many, "w");
    cr_assert(a && b);
    unsigned long events = 0, wanted = 0;
    for (size_t i = 0; i < t.ntf; i++) {
        if (i % 3 == 0)
            continue;
        wanted++;
        fprintf(a, "%s\n", t.tf[i].id);
        fprintf(b, "%s\n", t.tf[i].id);
        for (int f = 0; f < TT_NFMT; f++)
            events += t.tf[i].n[f];
    }
    for (unsigned i = 0; i < 1500; i++)
        fprintf(b, "1-5f000000-%024x\n", i + 1);
    fclose(a);
    fclose(b);
    tt_run ra = tg("find --format ndjson --ids-from '%1$s/some.ids' '%1$s/logs'", dir);
    tt_run rb = tg("find --format ndjson --ids-from '%1$s/many.ids' '%1$s/logs'", dir);
    cr_assert_eq(ra.status, 0, "%s", ra.err);
    cr_assert_eq(rb.status, 0, "%s", rb.err);
    cr_expect_eq(tt_count(ra.out, "\n"), wanted, "one line per trace");
    cr_expect_eq(tt_count(ra.out, "\"line\":"), events, "every event of every trace");
    cr_expect_eq(tt_count(ra.err, "not found"), 0, "%s", ra.err);
    /* The first ten absent ids are named (in id order), the rest counted. */
    cr_expect_eq(tt_count(rb.err, ": not found"), 10, "%s", rb.err);
    cr_expect_not_null(strstr(rb.err, "1-5f000000-00000000000000000000000a: not found\n"),
                       "%s", rb.err);
    char *more = tt_fmt("1490 more trace ids not found (1500 of the %lu asked for)",
                        wanted + 1500);
    cr_expect_not_null(strstr(rb.err, more), "%s", rb.err);
    free(more);
    cr_expect_str_eq(rb.out, ra.out, "many ids print what some print");
    /* A few ids, one database of them: each trace's line is the same. */
    for (size_t i = 0; i < 5; i++) {
        const char *id = t.tf[i * 3 + 1].id;
        char *args = tt_fmt("find --format ndjson %s '%%s/logs'", id);
        tt_run r = tg(args, dir);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_expect(strstr(ra.out, r.out) != NULL, "%s: the line differs", id);
        tt_run_free(&r);
        free(args);
    }
    tt_run_free(&ra);
    tt_run_free(&rb);
    free(some);
    free(many);
    tt_truth_free(&t);
    tt_rmtree(dir);
    free(dir);
}

/* A forced format wins over detection. */
Test(formats, input_format_overrides_detection)
{
    tt_run r = tg("stats --json --input-format text '%s/tests/fixtures/alb-doc-examples.log'",
                  TG_SOURCE_DIR);
    /* Read as application text, each line's Root= still makes an event. */
    cr_expect_eq(tt_json_obj_u64(r.out, "app", "events"), 8);
    cr_expect_eq(tt_json_obj_u64(r.out, "alb", "events"), 0);
    tt_run_free(&r);
    r = tg("stats --json --input-format nonsense '%s'", TG_SOURCE_DIR);
    cr_expect_eq(r.status, 2);
    cr_expect_not_null(strstr(r.err, "--input-format"));
    tt_run_free(&r);
}

/* An application line without a timestamp joins its trace, marked untimed,
 * after the timed events, and leaves the trace's span alone. */
Test(formats, untimed_app_line_joins_its_trace_last)
{
    char *dir = tt_tmpdir();
    const char *alb =
        "https 2025-11-20T08:00:01.000000Z app/web/50dc6c495c0c9188 1.2.3.4:5 10.0.0.1:80 0.001 "
        "0.002 0.000 200 200 10 20 \"GET https://x.example.com:443/ HTTP/1.1\" \"curl\" "
        "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:1:"
        "targetgroup/t/1 \"Root=1-691ecab1-bd862e3fe1be46a994272793\" \"-\" \"-\" 0 "
        "2025-11-20T08:00:00.990000Z \"forward\" \"-\" \"-\" \"10.0.0.1:80\" \"200\" \"-\" \"-\"\n";
    const char *app = "worker done, trace Root=1-691ecab1-bd862e3fe1be46a994272793 ok\n";
    char *a = tt_fmt("%s/a.log", dir), *b = tt_fmt("%s/b.log", dir);
    tt_write_file(a, alb, strlen(alb));
    tt_write_file(b, app, strlen(app));
    tt_run r = tg("timelines --format ndjson '%s'", dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(tt_json_u64(r.out, "event_count"), 2);
    cr_expect_eq(tt_json_u64(r.out, "duration_us"), 10000, "the untimed line moved the span");
    const char *alb_at = strstr(r.out, "\"format\":\"alb\"");
    const char *app_at = strstr(r.out, "\"untimed\":true");
    cr_assert(alb_at && app_at, "%s", r.out);
    cr_expect(app_at > alb_at, "the untimed event must come last: %s", r.out);
    tt_run_free(&r);
    r = tg("stats --json '%s'", dir);
    cr_expect_eq(tt_json_u64(r.out, "untimed_events"), 1);
    tt_run_free(&r);
    free(a);
    free(b);
    tt_rmtree(dir);
    free(dir);
}
