/*
 * hs-limit: the machine's limit for tracegrep's scan stage. Memory-maps a
 * file and runs a bare Hyperscan block-mode scan for the literal "Root="
 * (or, with -r, the full Root=1-<8hex>-<24hex> regex) over it, counting
 * matches and nothing else. tracegrep's stats over the same file is
 * compared against this time in bench/RESULTS.md.
 *
 * usage: hs-limit [-r] FILE
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int on_match(unsigned id, unsigned long long from, unsigned long long to,
                    unsigned flags, void *ctx)
{
    (void)id, (void)from, (void)to, (void)flags;
    (*(unsigned long long *)ctx)++;
    return 0;
}

int main(int argc, char **argv)
{
    int regex = argc == 3 && strcmp(argv[1], "-r") == 0;
    if (argc != 2 + regex) {
        fprintf(stderr, "usage: hs-limit [-r] FILE\n");
        return 2;
    }
    const char *path = argv[1 + regex];
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
        perror(path);
        return 2;
    }
    size_t n = (size_t)st.st_size;
    const char *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    madvise((void *)p, n, MADV_SEQUENTIAL);
    const char *pat = regex ? "Root=1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24}" : "Root=";
    hs_database_t *db;
    hs_compile_error_t *err;
    if (hs_compile(pat, regex ? 0 : 0, HS_MODE_BLOCK, NULL, &db, &err) != HS_SUCCESS) {
        fprintf(stderr, "hs_compile: %s\n", err->message);
        return 2;
    }
    hs_scratch_t *scratch = NULL;
    hs_alloc_scratch(db, &scratch);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned long long hits = 0;
    /* hs_scan takes an unsigned int length: 1 GiB chunks. A match straddling
     * a chunk boundary is missed, which changes nothing about the speed. */
    for (size_t at = 0; at < n;) {
        size_t len = n - at > (1u << 30) ? (1u << 30) : n - at;
        hs_scan(db, p + at, (unsigned)len, 0, scratch, on_match, &hits);
        at += len;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%llu matches in %.3f s, %.2f GB/s\n", hits, s, (double)n / s / 1e9);
    hs_free_scratch(scratch);
    hs_free_database(db);
    munmap((void *)p, n);
    close(fd);
    return 0;
}
