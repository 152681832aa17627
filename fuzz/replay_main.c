/*
 * replay_main: runs a fuzz target on saved inputs without libFuzzer, so that
 * the ordinary compiler and ctest can replay fuzz/regressions/ and
 * fuzz/seeds/ (CMakeLists.txt links this file with each fuzz/fuzz_*.c into
 * fuzz_replay_fuzz_<target>).
 *
 *   fuzz_replay_fuzz_reader FILE|DIR...
 *
 * After the empty input, each FILE, and each regular file directly inside a
 * DIR (in name order, so that two runs agree), is read whole into a buffer
 * of its exact size, as libFuzzer does, so that a sanitizer sees any read
 * past its end; then LLVMFuzzerTestOneInput runs on it once. The harnesses
 * abort on a broken invariant, which is what fails the test. Exits 0 after
 * printing how many inputs ran, 2 when an argument cannot be read: a
 * regression that silently went missing must not pass.
 */
#define _GNU_SOURCE /* scandir, alphasort, fileno: hidden by -std=c11 */
#include "fuzz_check.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* Optional in a target, as for libFuzzer: NULL when the target has none. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Reads all of path into a buffer of its exact size (never NULL, even when
 * empty). Returns 0, or -1 with errno set. */
static int read_whole(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct stat st;
    uint8_t *buf = NULL;
    size_t n = 0;
    int ok = fstat(fileno(f), &st) == 0 && (buf = malloc(st.st_size ? (size_t)st.st_size : 1));
    if (ok) {
        n = fread(buf, 1, (size_t)st.st_size, f);
        ok = n == (size_t)st.st_size && !ferror(f);
        if (!ok)
            errno = EIO;
    }
    fclose(f);
    if (!ok) {
        free(buf);
        return -1;
    }
    *data = buf;
    *size = n;
    return 0;
}

static int run_file(const char *path)
{
    uint8_t *data;
    size_t size;
    if (read_whole(path, &data, &size) != 0) {
        fprintf(stderr, "fuzz_replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    /* Named first: when the target aborts, this is the input to blame. */
    fprintf(stderr, "Running: %s (%zu bytes)\n", path, size);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int visible_entry(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* Runs the regular files directly inside dir, in name order. Returns how
 * many ran, or -1. */
static long run_dir(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, visible_entry, alphasort);
    if (n < 0) {
        fprintf(stderr, "fuzz_replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    long ran = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        int len = snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        free(names[i]);
        if (ran < 0)
            continue; /* only freeing the rest */
        if (len < 0 || (size_t)len >= sizeof path) {
            fprintf(stderr, "fuzz_replay: %s/...: path too long\n", dir);
            ran = -1;
        } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            ran = run_file(path) == 0 ? ran + 1 : -1;
        }
    }
    free(names);
    return ran;
}

/* One argument: a file or a folder of them. Returns how many ran, or -1. */
static long run_arg(const char *arg)
{
    struct stat st;
    if (stat(arg, &st) != 0) {
        fprintf(stderr, "fuzz_replay: %s: %s\n", arg, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return run_dir(arg);
    return run_file(arg) == 0 ? 1 : -1;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    /* libFuzzer always tries the empty input first; so does this, which
     * also keeps the run of a target with no saved input from being empty. */
    static const uint8_t none[1];
    LLVMFuzzerTestOneInput(none, 0);
    long ran = 0;
    for (int i = 1; i < argc; i++) {
        long got = run_arg(argv[i]);
        if (got < 0)
            return 2;
        ran += got;
    }
    printf("fuzz_replay: %ld inputs ran (and the empty one), no invariant broken\n", ran);
    return 0;
}
