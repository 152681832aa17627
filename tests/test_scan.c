#define _GNU_SOURCE
/* The scan stage: hits become lines, once per line; lines are counted and
 * oversized ones caught, whatever the piece boundaries. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"
#include "tg_test_util.h"

typedef struct seen {
    size_t n;
    size_t off[64];
    size_t len[64];
} seen;

static int record(void *ctx, const char *line, size_t len, size_t off)
{
    (void)line;
    seen *s = ctx;
    if (s->n < 64) {
        s->off[s->n] = off;
        s->len[s->n] = len;
    }
    s->n++;
    return 0;
}

static scan_db *headers(void)
{
    char err[256];
    scan_db *db = scan_db_headers(err, sizeof err);
    cr_assert_not_null(db, "%s", err);
    return db;
}

Test(scan, one_call_per_line_with_hits)
{
    scan_db *db = headers();
    scan_scratch *s = scan_scratch_new(db);
    const char *text = "no header here\n"
                       "a Root=1 and Parent=2 and Sampled=1\n"
                       "plain\n"
                       "Self=x\n"
                       "last Lineage=1:2:3";
    seen got = {0};
    scan_counts c = {0, 0};
    cr_assert_eq(scan_block(db, s, text, strlen(text), 1 << 20, record, &got, &c), SCAN_OK);
    cr_assert_eq(got.n, 3);
    cr_expect_eq(got.off[0], 15);
    cr_expect_eq(got.len[0], strlen("a Root=1 and Parent=2 and Sampled=1"));
    cr_expect_eq(got.off[1], strlen("no header here\na Root=1 and Parent=2 and Sampled=1\nplain\n"));
    cr_expect_eq(got.len[2], strlen("last Lineage=1:2:3"));
    cr_expect_eq(c.lines, 5, "the last line has no newline and still counts");
    scan_scratch_free(s);
    scan_db_free(db);
}

Test(scan, keys_are_case_sensitive)
{
    scan_db *db = headers();
    scan_scratch *s = scan_scratch_new(db);
    const char *text = "root=1-5759e988-bd862e3fe1be46a994272793\nROOT=x\n";
    seen got = {0};
    scan_counts c = {0, 0};
    scan_block(db, s, text, strlen(text), 1 << 20, record, &got, &c);
    cr_expect_eq(got.n, 0);
    cr_expect_eq(c.lines, 2);
    scan_scratch_free(s);
    scan_db_free(db);
}

/* Many lines, far more than one 256 KiB piece: every hit line is found at
 * its exact offset and the count is exact. */
Test(scan, large_block_across_pieces)
{
    scan_db *db = headers();
    scan_scratch *s = scan_scratch_new(db);
    size_t nlines = 40000, cap = nlines * 40;
    char *buf = malloc(cap);
    size_t n = 0, expect_hits = 0;
    for (size_t i = 0; i < nlines; i++) {
        bool hit = i % 997 == 0;
        n += (size_t)sprintf(buf + n, hit ? "line %zu Root=%zu\n" : "line %zu nothing\n", i, i);
        expect_hits += hit;
    }
    seen got = {0};
    scan_counts c = {0, 0};
    cr_assert_eq(scan_block(db, s, buf, n, 1 << 20, record, &got, &c), SCAN_OK);
    cr_expect_eq(c.lines, nlines);
    cr_expect_eq(got.n, expect_hits);
    for (size_t i = 0; i < got.n && i < 64; i++)
        cr_expect(strncmp(buf + got.off[i], "line ", 5) == 0 &&
                      memmem(buf + got.off[i], got.len[i], "Root=", 5) != NULL,
                  "hit %zu at a wrong offset", i);
    cr_expect_eq(scan_count_lines(buf, n), nlines);
    free(buf);
    scan_scratch_free(s);
    scan_db_free(db);
}

Test(scan, oversized_lines_are_counted_not_delivered)
{
    scan_db *db = headers();
    scan_scratch *s = scan_scratch_new(db);
    size_t longn = 700000;
    char *buf = malloc(longn + 100);
    size_t n = (size_t)sprintf(buf, "short Root=a\n");
    memset(buf + n, 'x', longn);
    memcpy(buf + n + 10, "Root=", 5);
    n += longn;
    n += (size_t)sprintf(buf + n, "\nafter Root=b\n");
    seen got = {0};
    scan_counts c = {0, 0};
    cr_assert_eq(scan_block(db, s, buf, n, 1000, record, &got, &c), SCAN_OK);
    cr_expect_eq(c.lines, 3);
    cr_expect_eq(c.oversized, 1);
    cr_expect_eq(got.n, 2, "the oversized line must not be delivered");
    free(buf);
    scan_scratch_free(s);
    scan_db_free(db);
}

Test(scan, ids_match_any_case_and_the_otel_form)
{
    xray_root want;
    cr_assert(xray_parse_user_id("1-5759e988-bd862e3fe1be46a994272793", 35, &want));
    char err[256];
    scan_db *db = scan_db_ids(&want, 1, err, sizeof err);
    cr_assert_not_null(db, "%s", err);
    scan_scratch *s = scan_scratch_new(db);
    const char *text = "a Root=1-5759E988-BD862E3FE1BE46A994272793\n"
                       "b otel 5759e988bd862e3fe1be46a994272793\n"
                       "c Root=1-5759e988-bd862e3fe1be46a994272794\n";
    seen got = {0};
    scan_counts c = {0, 0};
    scan_block(db, s, text, strlen(text), 1 << 20, record, &got, &c);
    cr_expect_eq(got.n, 2);
    scan_scratch_free(s);
    scan_db_free(db);
}

static int stop_at_first(void *ctx, const char *line, size_t len, size_t off)
{
    (void)line, (void)len, (void)off;
    (*(int *)ctx)++;
    return 1;
}

Test(scan, a_callback_can_stop_the_scan)
{
    scan_db *db = headers();
    scan_scratch *s = scan_scratch_new(db);
    const char *text = "Root=1\nRoot=2\nRoot=3\n";
    int calls = 0;
    scan_counts c = {0, 0};
    cr_expect_eq(scan_block(db, s, text, strlen(text), 1 << 20, stop_at_first, &calls, &c),
                 SCAN_STOPPED);
    cr_expect_eq(calls, 1);
    scan_scratch_free(s);
    scan_db_free(db);
}

