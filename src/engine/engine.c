/*
 * engine: the workers and their reading of the inputs (the connection
 * join's second reading included), and eng_run(). What follows the reading
 * (the joins, the merge of the workers' tables, the result and its
 * accessors) is gather.c.
 */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include "engine/engine.h"
#include "engine/engine_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/collect.h"
#include "input/mapfile.h"
#include "input/reader.h"
#include "scan/scan.h"

/* A mapped file at least this big keeps its mapping for the printers
 * instead of copying its lines out (timelines, find); smaller ones copy, so
 * that an archive of many small files does not pile up mappings. */
#define ENG_KEEP_MAP_MIN (1u << 20)
/* Linux allows 65530 mappings per process by default; stay well below. */
#define ENG_KEEP_MAP_MAX 8192u

/* A compressed file at least this big is decoded straight out of its
 * mapping; a smaller one is read(2) into the reader's buffer. Reading in
 * place saves copying the compressed bytes: 1 GB of ALB logs as .gz, one
 * thread, took 0.04 s of system time instead of 0.11 s, and 2-3% less
 * time in all (.zst alike). A file smaller than one read (256 KiB) is
 * copied in one call: mapping it would take three (not measured). */
#define ENG_MAP_STREAM_MIN (256u << 10)

/*
 * A plain file smaller than ENG_READ_PLAIN_MAX whose mapping would not be
 * kept for the printers (stats; a file under ENG_KEEP_MAP_MIN), a "small"
 * file, is never split for the threads (2 x ENG_MIN_PIECE), so its mapping
 * buys nothing but the saved copy, and what that copy costs against the
 * mapping depends on the machine. On a paravirtualized guest every page of
 * a mapping cost a trap the first time it was touched (small folios, as a
 * download or gunzip leaves a file in the page cache): over the bench's
 * 1674 files of ALB access and connection logs (1.2 MB each), counting
 * lines through mmap took 0.8-1.1 s, through read(2) 0.23-0.26 s. On a KVM
 * guest (the Intel machine of 2026-12-08) mapping and populating those
 * files took 100-200 ns a page, however they were cached, against 480 ns
 * for read(2)'s copy, and stats -j1 over the 838 ALB files took 0.42 s
 * mapped against 0.53 s read (0.40 against 0.64 s with the files written 4
 * KiB at a time).
 *
 * So each worker maps its first ENG_MAP_PROBES small files of at least
 * ENG_MAP_SMALL_MIN, timing the mapping and populating of each, and reads
 * the later ones with read(2) if those cost more than ENG_MAP_PAGE_NS a
 * page on average. A smaller file is always read: one read(2) against
 * three calls. TG_SMALL_FILES=map or =read in the environment fixes the
 * way (for the tests, which run both).
 */
#define ENG_READ_PLAIN_MAX (16u << 20)
#define ENG_MAP_SMALL_MIN (256u << 10)
#define ENG_MAP_PROBES 4u
#define ENG_MAP_PAGE_NS 300u

/* A plain file is split for parallel scanning only when each piece is at
 * least this big: below it, the pieces' setup would cost more than it saves.
 * 8 MiB is about 8 ms of scanning: the most one worker can be left waiting
 * for another's last piece at the end of a run. */
#define ENG_MIN_PIECE (8u << 20)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Says how many lines of an input were too long to read (--max-line-bytes).
 * The summary counts them, but a timeline would miss its events on them
 * without a word. */
static void warn_oversized(worker *w, const char *path, uint64_t n)
{
    tg_input_warning(w->eng->rep, path,
                     "%" PRIu64 " line%s longer than %zu bytes skipped (--max-line-bytes)", n,
                     n == 1 ? "" : "s", w->eng->s->max_line);
}

static void map_release(worker *w, shared_map *sm)
{
    if (atomic_fetch_sub(&sm->refs, 1) == 1) {
        uint64_t over = atomic_load(&sm->oversized);
        if (over)
            warn_oversized(w, walk_name(w->eng->in, sm->input), over);
        uint64_t lost = atomic_load(&sm->lost_bytes);
        if (lost) {
            /* The file was counted whole when it was mapped. Counts are
             * summed over the workers, so this one may hold less than it
             * takes back: the sum wraps back to what was read. */
            w->col.c.inputs_failed++;
            w->col.c.bytes_in -= lost;
            w->col.c.bytes_out -= lost;
            tg_input_error(w->eng->rep, walk_name(w->eng->in, sm->input), IN_SHRANK_FMT, lost,
                           (uint64_t)atomic_load(&sm->lost_from));
        }
        if (!sm->kept)
            mapfile_close(&sm->m);
        free(sm);
    }
}

/* Scans [start, end) of a mapped file, a range of whole lines. */
static void scan_piece(worker *w, const piece *pc)
{
    collector *c = &w->col;
    mapfile_reading(walk_name(w->eng->in, pc->input));
    /* The text check ran on the whole file before it was cut. */
    collect_begin(c, pc->input, false, pc->fmt);
    c->mapped = pc->map->kept;
    const uint64_t over_before = c->c.oversized;
    const char *p = pc->map->m.p + pc->start;
    size_t n = (size_t)(pc->end - pc->start);
    /* A piece is scanned 16 MiB at a time: progress moves on a huge file,
     * and each step's pages are unmapped once scanned, so that no more than
     * 16 MiB of the mapping per worker counts in the resident memory. */
    const size_t step = 16u << 20;
    for (size_t at = 0; at < n;) {
        /* The step's pages are mapped in one call, up to a little past it
         * for the line that crosses its end. The call also tells when the
         * file was cut short since it was mapped, where reading would
         * raise SIGBUS: the rest of the piece is given up, the lines before
         * the step still count, and map_release() reports the loss. */
        const size_t over = 64u << 10;
        size_t ahead = n - at < step + over ? n - at : step + over;
        if (mapfile_populate(&pc->map->m, pc->start + at, pc->start + at + ahead) == EFAULT) {
            uint64_t from = pc->start + at;
            atomic_fetch_add(&pc->map->lost_bytes, pc->end - from);
            uint_fast64_t first = atomic_load(&pc->map->lost_from);
            while (from < first && !atomic_compare_exchange_weak(&pc->map->lost_from, &first, from))
                ;
            break;
        }
        size_t len = n - at;
        if (len > step) {
            const char *nl = memchr(p + at + step, '\n', n - at - step);
            len = nl ? (size_t)(nl - (p + at)) + 1 : n - at;
        }
        int stop = collect_block(c, p + at, len, pc->start + at);
        /* Unless the printers will read its lines there, the scanned part
         * of the mapping can go. */
        if (!c->mapped)
            mapfile_drop(&pc->map->m, pc->start + at, pc->start + at + len);
        atomic_fetch_add(&w->eng->bytes_done, len);
        if (stop)
            break;
        at += len;
    }
    atomic_fetch_add(&pc->map->oversized, c->c.oversized - over_before);
    mapfile_reading(NULL);
}

/* Cuts [0, size) into line-aligned pieces for the workers; the first piece
 * is returned for the caller to scan, the others are pushed on the stack.
 * When memory is short the whole file comes back as one piece. */
static piece split_file(engine *e, shared_map *sm, uint32_t input, sniff_format fmt)
{
    size_t size = sm->m.n;
    size_t per = size / ((size_t)e->s->threads * 4);
    if (per < ENG_MIN_PIECE)
        per = ENG_MIN_PIECE;
    piece whole = {sm, 0, size, input, fmt};
    size_t most = size / per + 2;
    piece *cut = malloc(most * sizeof *cut);
    if (!cut)
        return whole;
    size_t ncut = 0;
    for (size_t start = 0; start < size;) {
        size_t end = size;
        if (size - start > per + per / 2) {
            const char *nl = memchr(sm->m.p + start + per, '\n', size - start - per);
            end = nl ? (size_t)(nl - sm->m.p) + 1 : size;
            end = collect_piece_end(sm->m.p, end, size, fmt);
        }
        cut[ncut++] = (piece){sm, start, end, input, fmt};
        start = end;
    }
    pthread_mutex_lock(&e->mu);
    if (e->npieces + ncut > e->cap_pieces) {
        size_t cap = (e->npieces + ncut) * 2;
        piece *np = realloc(e->pieces, cap * sizeof *np);
        if (!np) {
            pthread_mutex_unlock(&e->mu);
            free(cut);
            return whole;
        }
        e->pieces = np;
        e->cap_pieces = cap;
    }
    /* Pushed last to first so that the stack hands them out in file order. */
    for (size_t i = ncut; i-- > 1;) {
        atomic_fetch_add(&sm->refs, 1);
        e->pieces[e->npieces++] = cut[i];
    }
    pthread_cond_broadcast(&e->more);
    pthread_mutex_unlock(&e->mu);
    piece first = cut[0];
    free(cut);
    return first;
}

/* Counts what a streamed input gave, and reports its failure and its lines
 * too long to read. (The reader counted its bytes into the progress line as
 * it read them.) */
static void account_stream(worker *w, const char *path, int rc, const in_result *res)
{
    collector *c = &w->col;
    c->c.bytes_in += res->bytes_in;
    c->c.bytes_out += res->bytes_out;
    c->c.oversized += res->oversized;
    /* Skipped by the reader, never scanned: counted here, in the total and
     * under the input's format as the scanner counts the lines it sees. */
    c->c.lines += res->oversized;
    c->c.lines_by_input[c->fmt] += res->oversized;
    /* The reader drops every line over max_line before the collector sees
     * it, so its count is the input's. */
    if (res->oversized && !c->binary)
        warn_oversized(w, path, res->oversized);
    if (rc == IN_FAILED) {
        c->c.inputs_failed++;
        tg_input_error(w->eng->rep, path, "%s", res->err);
    }
}

static int on_block(void *ctx, const char *p, size_t n, uint64_t off)
{
    return collect_block(ctx, p, n, off);
}

static void read_regular(worker *w, int fd, const char *path, uint32_t input, uint64_t size)
{
    engine *e = w->eng;
    collector *c = &w->col;
    unsigned char head[4];
    ssize_t got = size ? pread(fd, head, sizeof head, 0) : 0;
    if (got < 0) {
        c->c.inputs_failed++;
        tg_input_error(e->rep, path, "read error at byte 0: %s", strerror(errno));
        return;
    }
    in_kind kind = in_sniff(head, (size_t)got);
    c->c.by_kind[kind]++;
    bool keep_map = e->s->keep_lines && size >= ENG_KEEP_MAP_MIN;
    bool small = !keep_map && size < ENG_READ_PLAIN_MAX;
    if (kind != IN_PLAIN || (small && (size < ENG_MAP_SMALL_MIN || w->small_read))) {
        in_result res;
        int rc;
        mapfile m = {0};
        if (kind != IN_PLAIN && size >= ENG_MAP_STREAM_MIN &&
            mapfile_open(&m, fd, (size_t)size) == 0) {
            mapfile_reading(path);
            rc = in_reader_stream_map(w->reader, &m, kind, on_block, c, &res);
            mapfile_reading(NULL);
            mapfile_close(&m);
        } else if (kind == IN_PLAIN) {
            /* read(2) instead, which needs no mapping, up to the size the
             * file had when it was opened, as a mapping of it would be read:
             * a log still being written gives the same lines whichever way
             * it is read. (A compressed file is read to its end: members
             * may have been added, and a cut one would be an error.) */
            rc = in_reader_stream_upto(w->reader, fd, size, kind, on_block, c, &res);
        } else {
            rc = in_reader_stream(w->reader, fd, NULL, 0, kind, on_block, c, &res);
        }
        /* A plain file that ended before its size at the start was cut
         * short meanwhile (log rotation by copy and truncate, say): said as
         * for a mapped file. What was read counts. */
        if (kind == IN_PLAIN && rc == IN_OK && res.bytes_in < size) {
            snprintf(res.err, sizeof res.err, IN_SHRANK_FMT, size - res.bytes_in, res.bytes_in);
            rc = IN_FAILED;
        }
        account_stream(w, path, rc, &res);
        return;
    }
    shared_map *sm = calloc(1, sizeof *sm);
    const bool probe = small && w->map_probes < ENG_MAP_PROBES;
    const double t0 = probe ? now_s() : 0;
    int err = sm ? mapfile_open(&sm->m, fd, (size_t)size) : ENOMEM;
    if (err) {
        free(sm);
        c->c.inputs_failed++;
        tg_input_error(e->rep, path, "cannot map the file: %s", strerror(err));
        return;
    }
    if (probe) {
        /* Populated whole here for the timing; scan_piece() populating it
         * again finds it done, or the file cut short since (EFAULT). */
        (void)mapfile_populate(&sm->m, 0, (size_t)size);
        w->map_ns += (uint64_t)((now_s() - t0) * 1e9);
        w->map_pages += (size + 4095) / 4096;
        if (++w->map_probes == ENG_MAP_PROBES)
            w->small_read = w->map_ns > ENG_MAP_PAGE_NS * w->map_pages;
    }
    c->c.bytes_in += size;
    c->c.bytes_out += size;
    mapfile_reading(path); /* the sniffing and the cutting below read it too */
    atomic_init(&sm->refs, 1);
    sm->input = input;
    atomic_init(&sm->lost_from, UINT64_MAX);
    atomic_init(&sm->lost_bytes, 0);
    atomic_init(&sm->oversized, 0);
    if (keep_map && atomic_fetch_add(&e->kept_maps, 1) < ENG_KEEP_MAP_MAX) {
        sm->kept = true;
        e->maps[input] = sm->m;
    }
    size_t sniff_len = size < 65536 ? (size_t)size : 65536;
    sniff_format fmt = collect_detect(e->s, sm->m.p, sniff_len);
    if (size && sniff_looks_binary(sm->m.p, sniff_len)) {
        c->binary = true;
    } else if (e->s->threads > 1 && size >= 2 * (uint64_t)ENG_MIN_PIECE &&
               fmt != SNIFF_CLOUDFRONT) {
        /* A CloudFront file is read in one go: its #Fields lines change
         * how every later line is read. */
        piece first = split_file(e, sm, input, fmt);
        scan_piece(w, &first);
    } else {
        piece whole = {sm, 0, size, input, fmt};
        scan_piece(w, &whole);
    }
    map_release(w, sm);
    mapfile_reading(NULL);
}

/*
 * The capacity a pipe tracegrep reads is given (F_SETPIPE_SZ), up from
 * Linux's 64 KiB, which is also the most an unprivileged process may ask
 * for by default (/proc/sys/fs/pipe-max-size). With 64 KiB the writer and
 * tracegrep took turns at every pipe-full, each waking the other: `cat
 * FILE | tracegrep stats -` over 1 GB took 1.21-1.30 s on one thread and
 * 0.94 s on two, 1.12 s and 0.80 s with 1 MiB (medians of 15), and `cat
 * FILE.gz | tracegrep stats -` 1.75 s on two, 1.39 s with 1 MiB. Where the
 * call is refused (a lower limit, the user's pipe quota), the pipe stays as
 * it was.
 */
#define ENG_PIPE_SIZE (1 << 20)

/* Reads an input that is not a regular file; fifo: it is a pipe. */
static void read_stream(worker *w, int fd, const char *path, bool fifo)
{
    engine *e = w->eng;
    collector *c = &w->col;
    if (fifo)
        (void)fcntl(fd, F_SETPIPE_SZ, ENG_PIPE_SIZE);
    unsigned char head[4];
    size_t got = 0;
    while (got < sizeof head) {
        ssize_t r = read(fd, head + got, sizeof head - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            c->c.inputs_failed++;
            tg_input_error(e->rep, path, "read error at byte %zu: %s", got, strerror(errno));
            return;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    in_kind kind = in_sniff(head, got);
    c->c.by_kind[kind]++;
    in_result res;
    int rc = in_reader_stream(w->reader, fd, head, got, kind, on_block, c, &res);
    account_stream(w, path, rc, &res);
}

static void read_input(worker *w, uint32_t input)
{
    engine *e = w->eng;
    collector *c = &w->col;
    const char *path = e->in->paths[input];
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    const char *name = walk_name(e->in, input);
    if (fd < 0) {
        c->c.inputs_failed++;
        tg_input_error(e->rep, name, "%s", strerror(errno));
        return;
    }
    c->c.inputs++;
    collect_begin(c, input, true, SNIFF_TEXT);
    struct stat st;
    bool known = fstat(fd, &st) == 0;
    if (known && S_ISREG(st.st_mode)) {
        read_regular(w, fd, name, input, (uint64_t)st.st_size);
    } else {
        /* A pipe cannot be read a second time for its references. */
        atomic_store_explicit(&e->conn_logs, true, memory_order_relaxed);
        atomic_store_explicit(&e->cf_logs, true, memory_order_relaxed);
        read_stream(w, fd, name, known && S_ISFIFO(st.st_mode));
    }
    if (c->binary) {
        c->c.inputs_binary++;
        tg_input_warning(e->rep, name, "binary file, skipped");
    } else if (c->scan_failed) {
        c->c.inputs_failed++;
        tg_input_error(e->rep, name, "the Hyperscan scan failed");
    } else if (c->out_of_memory) {
        c->c.inputs_failed++;
        tg_input_error(e->rep, name, "out of memory while keeping events");
        w->fatal = true;
    }
    if (!is_stdin)
        close(fd);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    engine *e = w->eng;
    /* Sized here rather than before the threads start: the table's slots
     * are faulted in as it is sized, and each worker does its own. */
    if (e->presize)
        (void)grp_agg_reserve(&w->col.agg, e->presize);
    while (!w->fatal) {
        piece pc;
        bool have_piece = false;
        size_t input = SIZE_MAX;
        pthread_mutex_lock(&e->mu);
        /* With nothing to take, a worker waits as long as another one is
         * inside an input: a large file is cut into pieces only once it
         * is open, and those pieces are for everyone. */
        for (;;) {
            if (e->npieces) {
                pc = e->pieces[--e->npieces];
                have_piece = true;
                break;
            }
            if (e->next_input < e->in->n) {
                input = e->next_input++;
                e->reading++;
                /* Only the last round of inputs, one per worker, would
                 * leave cores idle: only they are decoded ahead on a
                 * thread of their own. */
                in_reader_use_readahead(w->reader, e->in->n - e->next_input < e->s->threads);
                break;
            }
            if (e->reading == 0)
                break;
            pthread_cond_wait(&e->more, &e->mu);
        }
        pthread_mutex_unlock(&e->mu);
        if (have_piece) {
            scan_piece(w, &pc);
            map_release(w, pc.map);
        } else if (input != SIZE_MAX) {
            read_input(w, (uint32_t)input);
            pthread_mutex_lock(&e->mu);
            e->reading--;
            pthread_cond_broadcast(&e->more);
            pthread_mutex_unlock(&e->mu);
        } else {
            break;
        }
    }
    atomic_fetch_sub(&e->workers_left, 1);
    return NULL;
}

/* Waits for the workers, refreshing the progress line every 200 ms once the
 * run has lasted a second (short runs show nothing). */
static void wait_with_progress(engine *e, worker *ws, unsigned n, double t0)
{
    if (e->rep->progress) {
        while (atomic_load(&e->workers_left) > 0) {
            struct timespec nap = {0, 200 * 1000 * 1000};
            nanosleep(&nap, NULL);
            double dt = now_s() - t0;
            if (dt < 1.0 || atomic_load(&e->workers_left) == 0)
                continue;
            pthread_mutex_lock(&e->mu); /* five times a second: costs nothing */
            size_t done = e->next_input;
            pthread_mutex_unlock(&e->mu);
            char b[32], r[32];
            double bytes = (double)atomic_load(&e->bytes_done);
            tg_human_bytes(bytes, b, sizeof b);
            tg_human_bytes(bytes / dt, r, sizeof r);
            tg_progress(e->rep, "tracegrep: %zu/%zu inputs, %s read, %s/s", done, e->in->n, b,
                        r);
        }
        tg_progress_clear(e->rep);
    }
    for (unsigned i = 0; i < n; i++)
        pthread_join(ws[i].th, NULL);
}

/* TG_SMALL_FILES=map or =read settles how w reads small plain files
 * (ENG_MAP_PROBES) without timing them. The second reading's workers carry
 * on with what the first ones measured. */
static void small_files_way(worker *w, const worker *before)
{
    const char *way = getenv("TG_SMALL_FILES");
    if (way && (strcmp(way, "map") == 0 || strcmp(way, "read") == 0)) {
        w->map_probes = ENG_MAP_PROBES;
        w->small_read = way[0] == 'r';
    } else if (before) {
        w->map_probes = before->map_probes;
        w->map_ns = before->map_ns;
        w->map_pages = before->map_pages;
        w->small_read = before->small_read;
    }
}

/* An engine over inputs, before its workers start; conn_logs and cf_logs
 * are the joins' flags to begin with (collect.h). */
static void engine_init(engine *e, const eng_settings *s, const walk_list *in, tg_report *rep,
                        scan_db *db, bool conn_logs, bool cf_logs)
{
    *e = (engine){.s = s, .in = in, .rep = rep, .db = db};
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->more, NULL);
    atomic_init(&e->bytes_done, 0);
    atomic_init(&e->kept_maps, 0);
    atomic_init(&e->workers_left, 0);
    atomic_init(&e->conn_logs, conn_logs);
    atomic_init(&e->cf_logs, cf_logs);
    atomic_init(&e->line_budget, s->line_memory);
}

/* Frees what engine_init() and the workers made, but the database and the
 * kept mappings. */
static void engine_destroy(engine *e)
{
    free(e->pieces);
    pthread_cond_destroy(&e->more);
    pthread_mutex_destroy(&e->mu);
}

/* Starts a thread for each of ws[0..n); returns how many started. */
static unsigned start_workers(engine *e, worker *ws, unsigned n)
{
    unsigned started = 0;
    for (unsigned i = 0; i < n; i++) {
        atomic_fetch_add(&e->workers_left, 1);
        if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) != 0) {
            atomic_fetch_sub(&e->workers_left, 1);
            break;
        }
        started++;
    }
    return started;
}

/* Whether base is named like an ALB connection log (conn_log_…, in the
 * access logs' folder). */
static bool conn_log_name(const char *base)
{
    return strncmp(base, "conn_log", 8) == 0;
}

/* Whether base is named as CloudFront names its standard logs:
 * <distribution id>.YYYY-MM-DD-HH.<unique id>, then .gz or more. */
static bool cf_log_name(const char *base)
{
    const char *dot = strchr(base, '.');
    if (!dot || dot == base)
        return false;
    static const char shape[] = "dddd-dd-dd-dd.";
    for (size_t i = 0; shape[i]; i++) {
        unsigned char ch = (unsigned char)dot[1 + i];
        if (shape[i] == 'd' ? (unsigned)(ch - '0') > 9 : ch != (unsigned char)shape[i])
            return false;
    }
    return dot[1 + sizeof shape - 1] != '\0';
}

/* Whether the file name of an input (its last component) passes is_named.
 * An input named like a connection or CloudFront log has its join keep the
 * references from the start, so that no input is read twice however the
 * names sort (collect.h). */
static bool any_named(const walk_list *in, bool (*is_named)(const char *base))
{
    for (size_t i = 0; i < in->n; i++) {
        const char *base = strrchr(in->paths[i], '/');
        if (is_named(base ? base + 1 : in->paths[i]))
            return true;
    }
    return false;
}

static int cmp_u32(const void *va, const void *vb)
{
    uint32_t a = *(const uint32_t *)va, b = *(const uint32_t *)vb;
    return (a > b) - (a < b);
}

/* The inputs the workers read without the references of the connection
 * join (when conn) or of the CloudFront join (when cf), each once. The
 * paths are borrowed from e->in. */
static int missed_inputs(const engine *e, const worker *ws, unsigned n, bool conn, bool cf,
                         walk_list *out)
{
    size_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += (conn ? ws[i].col.missed.n : 0) + (cf ? ws[i].col.missed_cf.n : 0);
    uint32_t *ids = malloc((total ? total : 1) * sizeof *ids);
    out->paths = malloc((total ? total : 1) * sizeof *out->paths);
    out->sizes = malloc((total ? total : 1) * sizeof *out->sizes);
    if (!ids || !out->paths || !out->sizes) {
        free(ids);
        return -1;
    }
    size_t k = 0;
    for (unsigned i = 0; i < n; i++) {
        const u32vec *lists[2] = {conn ? &ws[i].col.missed : NULL,
                                  cf ? &ws[i].col.missed_cf : NULL};
        for (unsigned l = 0; l < 2; l++) {
            if (lists[l] && lists[l]->n) {
                memcpy(ids + k, lists[l]->v, lists[l]->n * sizeof *ids);
                k += lists[l]->n;
            }
        }
    }
    qsort(ids, total, sizeof *ids, cmp_u32);
    for (size_t j = 0; j < total; j++) {
        if (j && ids[j] == ids[j - 1])
            continue;
        out->paths[out->n] = e->in->paths[ids[j]];
        out->sizes[out->n++] = e->in->sizes[ids[j]];
    }
    free(ids);
    return 0;
}

/*
 * The joins' second reading (collect.h). When connection records were
 * found, the ALB inputs read before the first of them, without their
 * references, are read again; when CloudFront records were, the
 * application inputs read before the first of them. Fresh collectors read
 * them, keeping the references and nothing else; their counts are dropped
 * and nothing is reported, the first reading having reported everything. A
 * file changed in between gives the references of what it holds now.
 * Returns 0, or -1 when memory ran out.
 */
static int reread_missed(engine *e, worker *ws, unsigned n)
{
    size_t conn_recs = 0, cf_recs = 0, conn_missed = 0, cf_missed = 0;
    for (unsigned i = 0; i < n; i++) {
        conn_recs += join_side_nrecs(&ws[i].col.conn);
        cf_recs += join_side_nrecs(&ws[i].col.cf);
        conn_missed += ws[i].col.missed.n;
        cf_missed += ws[i].col.missed_cf.n;
    }
    const bool conn = conn_recs && conn_missed, cf = cf_recs && cf_missed;
    if (!conn && !cf)
        return 0;
    walk_list again = {0};
    worker *w2 = calloc(n, sizeof *w2);
    int rc = w2 && missed_inputs(e, ws, n, conn, cf, &again) == 0 ? 0 : -1;
    eng_settings s2 = *e->s;
    s2.keep_lines = false;
    tg_report quiet;
    tg_report_init(&quiet, false);
    quiet.silent = true;
    engine e2;
    engine_init(&e2, &s2, &again, &quiet, e->db, true, true);
    for (unsigned i = 0; rc == 0 && i < n; i++) {
        w2[i].eng = &e2;
        w2[i].reader = ws[i].reader;
        small_files_way(&w2[i], &ws[i]);
        if (collect_init(&w2[i].col, &s2, e->db, i) != 0)
            rc = -1;
        w2[i].col.refs_only = true;
    }
    unsigned started = rc == 0 ? start_workers(&e2, w2, n) : 0;
    if (started)
        wait_with_progress(&e2, w2, started, now_s());
    else
        rc = -1;
    for (unsigned i = 0; w2 && i < n; i++) {
        if (w2[i].fatal)
            rc = -1;
        else if (rc == 0) {
            join_side_move_refs(&ws[i].col.conn, &w2[i].col.conn);
            join_side_move_refs(&ws[i].col.cf, &w2[i].col.cf);
        }
        if (w2[i].col.scratch)
            collect_free(&w2[i].col);
    }
    free(w2);
    free(again.paths);
    free(again.sizes);
    engine_destroy(&e2);
    tg_report_destroy(&quiet);
    return rc;
}

/* How much text a compressed input holds per byte, for presize_traces():
 * gzip -6 and zstd -3 shrink the generated ALB logs of bench/ about 6.4
 * times, real ones (more repetitive) more. An estimate that is off only
 * sizes the tables wrong, as before: too small, they grow; too large, they
 * hold untouched memory. */
#define ENG_COMPRESSED_RATIO 6

/* True when path names a gzip or zstd file. Only the name is looked at:
 * the inputs are not opened before the workers start. */
static bool named_compressed(const char *path)
{
    size_t n = strlen(path);
    return (n > 3 && strcmp(path + n - 3, ".gz") == 0) ||
           (n > 4 && strcmp(path + n - 4, ".zst") == 0);
}

/* How many trace headers per MiB of text the first plain input holds, read
 * off its first ENG_SAMPLE bytes; 0 when that input is stdin, compressed,
 * unreadable or shorter than a sample (the caller then assumes ALB logs). */
#define ENG_SAMPLE (64u << 10)
static uint64_t sample_density(const walk_list *inputs)
{
    if (inputs->n == 0 || inputs->sizes[0] < ENG_SAMPLE || strcmp(inputs->paths[0], "-") == 0 ||
        named_compressed(inputs->paths[0]))
        return 0;
    int fd = open(inputs->paths[0], O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char *buf = malloc(ENG_SAMPLE);
    ssize_t n = buf ? pread(fd, buf, ENG_SAMPLE, 0) : -1;
    close(fd);
    uint64_t hits = 0;
    if (n == (ssize_t)ENG_SAMPLE) {
        /* A compressed file not named so gives no sample. */
        if (in_sniff((const unsigned char *)buf, (size_t)n) != IN_PLAIN)
            n = 0;
        for (const char *at = buf, *end = buf + n;
             (at = memmem(at, (size_t)(end - at), "Root=", 5)) != NULL; at += 5)
            hits++;
    }
    free(buf);
    return n == (ssize_t)ENG_SAMPLE ? hits * ((1u << 20) / ENG_SAMPLE) : 0;
}

/* How many traces a stats worker's table is sized for up front, up to
 * ENG_PRESIZE_MAX, shared between the workers. The first plain input's first 64 KiB
 * tell how many trace headers a MiB of the inputs holds, and about two
 * thirds of them start a trace of their own (ALB logs: 1.5M headers and
 * 0.83M traces a GB; nginx logs: 1.0M and 0.68M in 260 MB). Without a sample
 * (stdin, a compressed or a short first input) it is one trace per KiB, as
 * in ALB logs. A worker reads about its share. With three workers or more,
 * the merge folds about as many into its table, those of its partition that
 * others read: so each table is sized for twice its share, and none grows.
 * Two workers' tables are merged by looking the second one's traces up in
 * the first (merge.h), which adds nothing to either: each is sized for its
 * share. A compressed input counts ENG_COMPRESSED_RATIO times its size:
 * sized for its compressed bytes, the table of a 1 GB .gz grew three times,
 * 3% of the run. A table sized too small grows (each growth rehashes every
 * trace: sized for one trace a KiB, stats over 260 MB of nginx logs spent a
 * tenth of its time so); too large, it holds slots it does not use.
 *
 * The cap bounds what a wrong sample can cost: the slot array is faulted in
 * whole (16 bytes a trace), the records only as they fill. It was a million
 * traces, which 1.2 GB of ALB logs reach: over 8 GB (6.7M traces) the table
 * of stats -j1 then grew three times, rehashing 7M traces into 112 MB of
 * slot arrays faulted in only to be freed. Sized at once: -j1 2.88 ->
 * 2.73 s, -j2 1.44 -> 1.39 s (medians of 7 and 5), the same peak RSS. At
 * 16M traces, a sample gone wrong holds at most 256 MB of slots, over
 * inputs of 20 GB or more. */
#define ENG_PRESIZE_MAX ((uint64_t)1 << 24)
static size_t presize_traces(const walk_list *inputs, unsigned threads)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < inputs->n; i++)
        bytes += inputs->sizes[i] * (named_compressed(inputs->paths[i]) ? ENG_COMPRESSED_RATIO : 1);
    uint64_t per_mib = sample_density(inputs);
    uint64_t t = per_mib ? (bytes >> 10) * per_mib / 1024 * 2 / 3 : bytes / 1024;
    if (threads == 2)
        t /= 2;
    else if (threads > 2)
        t = t * 2 / threads;
    return t > ENG_PRESIZE_MAX ? (size_t)ENG_PRESIZE_MAX : (size_t)t;
}

bool eng_scans_ids(const eng_settings *s)
{
    return s->mode == ENG_FIND && s->nids <= ENG_ID_SCAN_MAX;
}

int eng_run(const eng_settings *s, const walk_list *inputs, tg_report *rep, eng_result *out)
{
    memset(out, 0, sizeof *out);
    double t0 = now_s();
    char err[256];
    scan_db *db = eng_scans_ids(s) ? scan_db_ids(s->ids, s->nids, err, sizeof err)
                                   : scan_db_headers(err, sizeof err);
    if (!db) {
        tg_errorf(rep, "%s", err);
        return -1;
    }
    engine e;
    engine_init(&e, s, inputs, rep, db, s->input_format < 0 && any_named(inputs, conn_log_name),
                s->input_format < 0 && any_named(inputs, cf_log_name));
    e.maps = calloc(inputs->n ? inputs->n : 1, sizeof *e.maps);
    if (!e.maps) {
        tg_errorf(rep, "out of memory");
        engine_destroy(&e);
        scan_db_free(e.db);
        return -1;
    }
    unsigned n = s->threads ? s->threads : 1;
    worker *ws = calloc(n, sizeof *ws);
    int rc = ws ? 0 : -1;
    unsigned started = 0;
    e.presize = s->mode == ENG_STATS ? presize_traces(inputs, n) : 0;
    for (unsigned i = 0; rc == 0 && i < n; i++) {
        ws[i].eng = &e;
        ws[i].reader = in_reader_new(s->max_line);
        small_files_way(&ws[i], NULL);
        /* -j counts every thread: with one, there is none to decompress
         * ahead of the scan. Without the memory for it, a reader stays
         * sequential and reads the same. */
        if (ws[i].reader && n >= 2)
            (void)in_reader_set_readahead(ws[i].reader, true);
        if (ws[i].reader)
            in_reader_count_into(ws[i].reader, &e.bytes_done);
        if (!ws[i].reader || collect_init(&ws[i].col, s, e.db, i) != 0) {
            rc = -1;
            break;
        }
        ws[i].col.conn_logs = &e.conn_logs;
        ws[i].col.cf_logs = &e.cf_logs;
        if (s->spill_dir)
            arena_spill_past(&ws[i].col.lines, &e.line_budget, s->spill_dir);
    }
    if (rc == 0 && (started = start_workers(&e, ws, n)) == 0)
        rc = -1;
    if (started)
        wait_with_progress(&e, ws, started, t0);
    bool fatal = false;
    for (unsigned i = 0; i < started; i++)
        fatal |= ws[i].fatal;
    if (rc == 0 && !fatal && reread_missed(&e, ws, n) != 0)
        rc = -1;
    if (rc == 0 && !fatal && eng_seal_arenas(&e, ws, n) != 0)
        fatal = true;
    if (rc == 0 && eng_gather(&e, ws, n, out) != 0)
        rc = -1;
    /* A worker's fatal error, or the seal's, has been told already. */
    if (rc != 0)
        tg_errorf(rep, "out of memory");
    for (unsigned i = 0; ws && i < n; i++) {
        in_reader_free(ws[i].reader);
        if (ws[i].col.scratch)
            collect_free(&ws[i].col);
    }
    free(ws);
    engine_destroy(&e);
    scan_db_free(e.db);
    out->maps = e.maps;
    out->nmaps = inputs->n;
    out->seconds = now_s() - t0;
    return rc != 0 || fatal ? -1 : 0;
}
