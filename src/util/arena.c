#define _GNU_SOURCE /* O_TMPFILE */
#include "util/arena.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void arena_init(arena *a, size_t chunk_size)
{
    memset(a, 0, sizeof *a);
    a->chunk_size = chunk_size;
    a->used = chunk_size; /* forces a chunk on the first put */
    a->fd = -1;
}

void arena_spill_past(arena *a, atomic_uint_fast64_t *budget, const char *dir)
{
    a->spill_dir = dir;
    a->budget = budget;
}

/* True when chunk i was written to the file. */
static bool in_file(const arena *a, size_t i)
{
    return i >= a->keep_chunks && i - a->keep_chunks < a->nspilled;
}

void arena_free(arena *a)
{
    /* Chunks in memory are their own allocations; the staging chunk is
     * freed once, and those in the file go with the mapping. */
    for (size_t i = 0; i < a->nchunks; i++)
        if (!in_file(a, i) && a->chunks[i] != a->stage)
            free(a->chunks[i]);
    free(a->chunks);
    free(a->stage);
    if (a->map)
        munmap(a->map, a->map_len);
    if (a->fd >= 0)
        close(a->fd);
    memset(a, 0, sizeof *a);
    a->fd = -1;
}

/*
 * A kept chunk is faulted in a stretch at a time, just ahead of the strings
 * written into it: one madvise(MADV_POPULATE_WRITE) call instead of a trap
 * per 4 KiB page. timelines over a 1 GB .gz fills 1.2 GB of chunks, and the
 * traps were 0.7 s of kernel time: -j1 2.67 -> 2.48 s, and over 2000 .gz
 * files at -j2 (each worker filling its own) 1.52 -> 1.43 s; a single .gz
 * at -j2, where inflating sets the pace, stays as it was. A whole chunk at
 * once made that case slower (1.45 -> 1.71 s), not understood. Advice only:
 * before Linux 5.14 the pages fault in as they are written.
 */
static void fault_ahead(const arena *a, size_t from)
{
    size_t to = from + TG_MEM_AHEAD < a->chunk_size ? from + TG_MEM_AHEAD : a->chunk_size;
    tg_mem_populate_write(a->chunks[a->nchunks - 1] + from, to - from);
}

/* Takes a chunk's worth from the shared budget; false when it is short. */
static bool take_budget(arena *a)
{
    uint_fast64_t left = atomic_load_explicit(a->budget, memory_order_relaxed);
    while (left >= a->chunk_size)
        if (atomic_compare_exchange_weak_explicit(a->budget, &left, left - a->chunk_size,
                                                  memory_order_relaxed, memory_order_relaxed))
            return true;
    return false;
}

/* An unnamed file in dir: O_TMPFILE where the file system has it, else a
 * named one unlinked at once. -1 with errno set on failure. */
static int spill_file(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/tracegrep-XXXXXX", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    return fd;
}

/* Stops spilling for good, keeping every later chunk in memory; the
 * staging chunk, if any, becomes the memory of the chunk it holds. */
static void give_up(arena *a, int err)
{
    a->err = err;
    a->spilling = false;
    a->spill_dir = NULL;
    a->stage = NULL;
}

/* Writes the staging chunk, which holds the last chunk, after those in the
 * file. On failure the arena gives up spilling (give_up()) and the chunk
 * stays where it is, in memory. */
static void write_stage(arena *a)
{
    off_t at = (off_t)(a->nspilled * a->chunk_size);
    for (size_t done = 0; done < a->used;) {
        ssize_t w = pwrite(a->fd, a->stage + done, a->used - done, at + (off_t)done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            give_up(a, w < 0 ? errno : EIO);
            return;
        }
        done += (size_t)w;
    }
    a->chunks[a->nchunks - 1] = NULL; /* readable again once sealed */
    a->nspilled++;
}

/* Starts chunk nchunks: in memory, or in the staging buffer after writing
 * out the chunk it held. Returns 0, or -1 when memory is short. */
static int new_chunk(arena *a)
{
    if (a->nchunks == a->cap_chunks) {
        size_t cap = a->cap_chunks ? a->cap_chunks * 2 : 16;
        char **c = realloc(a->chunks, cap * sizeof *c);
        if (!c)
            return -1;
        a->chunks = c;
        a->cap_chunks = cap;
    }
    size_t i = a->nchunks;
    if (a->spill_dir && !a->spilling && !take_budget(a)) {
        a->spilling = true; /* the kept chunks stay a prefix */
        a->keep_chunks = i;
    }
    if (a->spilling && !a->stage) {
        /* The first spilled chunk: the file is opened now. */
        int fd = spill_file(a->spill_dir);
        if (fd < 0) {
            give_up(a, errno);
        } else if (!(a->stage = malloc(a->chunk_size))) {
            close(fd);
            return -1;
        } else {
            a->fd = fd;
        }
    } else if (a->spilling) {
        write_stage(a);
    }
    if (a->spilling) {
        a->chunks[i] = a->stage;
    } else if (!(a->chunks[i] = malloc(a->chunk_size))) {
        return -1;
    }
    a->nchunks++;
    a->used = 0;
    if (!a->spilling)
        fault_ahead(a, 0);
    return 0;
}

/* Each string is stored as a 4-byte length and its bytes. */
uint64_t arena_put(arena *a, tg_str s)
{
    size_t need = 4 + s.n;
    if (need > a->chunk_size)
        return UINT64_MAX;
    if (a->used + need > a->chunk_size && new_chunk(a) != 0)
        return UINT64_MAX;
    char *dst = a->chunks[a->nchunks - 1] + a->used;
    uint32_t len = (uint32_t)s.n;
    memcpy(dst, &len, 4);
    if (s.n)
        memcpy(dst + 4, s.p, s.n);
    uint64_t ref = (uint64_t)(a->nchunks - 1) * a->chunk_size + a->used;
    /* Crossing into the next stretch of a kept chunk faults it in (the
     * staging chunk of a spilling arena was faulted in once, and is reused). */
    size_t next = (a->used + need) & ~(TG_MEM_AHEAD - 1);
    if (next > (a->used & ~(TG_MEM_AHEAD - 1)) && !a->spilling)
        fault_ahead(a, next);
    a->used += need;
    a->bytes += s.n;
    return ref;
}

int arena_seal(arena *a)
{
    if (a->stage) {
        write_stage(a);
        if (a->stage) { /* written: the file holds it now */
            free(a->stage);
            a->stage = NULL;
        }
    }
    if (a->nspilled == 0 || a->map)
        return 0;
    size_t len = a->nspilled * a->chunk_size;
    void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, a->fd, 0);
    if (m == MAP_FAILED) {
        a->err = errno;
        return -1;
    }
    a->map = m;
    a->map_len = len;
    for (size_t i = 0; i < a->nspilled; i++)
        a->chunks[a->keep_chunks + i] = a->map + i * a->chunk_size;
    return 0;
}

tg_str arena_get(const arena *a, uint64_t ref)
{
    ref &= ARENA_REF_MASK;
    const char *at = a->chunks[ref / a->chunk_size] + ref % a->chunk_size;
    uint32_t len;
    memcpy(&len, at, 4);
    return tg_str_make(at + 4, len);
}
