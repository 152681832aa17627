/*
 * arena: an append-only store of byte strings (the raw log lines that
 * timelines and find print), referenced by a 64-bit handle.
 *
 * Strings are copied into large chunks that never move, so a handle stays
 * valid until arena_free(). Each worker owns one arena: no locking. A handle
 * is the string's position in the arena's chunk space; the caller may tag
 * the top bits (see ARENA_REF_BITS) to tell several arenas apart.
 *
 * An arena may be given a memory budget (arena_spill_past()), which several
 * arenas may share: once it is spent, the arena's next chunks are written to
 * a temporary file instead of being kept, one staging chunk being filled at
 * a time. The file has no name (it is gone when the arena is freed or the
 * process ends) and its pages are the page cache's, which the kernel writes
 * back and drops under memory pressure, so the lines of an archive larger
 * than memory still fit. Until arena_seal() maps the file, the strings in
 * it cannot be read.
 */
#ifndef TG_ARENA_H
#define TG_ARENA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/tg_str.h"

/* Handles use the low 48 bits: 256 TiB per arena. */
#define ARENA_REF_BITS 48
#define ARENA_REF_MASK (((uint64_t)1 << ARENA_REF_BITS) - 1)

typedef struct arena {
    char **chunks;     /* in memory, or in the file's mapping once sealed */
    size_t nchunks, cap_chunks;
    size_t chunk_size; /* fixed; every string fits in one chunk */
    size_t used;       /* bytes used in the last chunk */
    uint64_t bytes;    /* payload bytes stored, for memory accounting */
    /* Spilling (arena_spill_past()). */
    const char *spill_dir; /* where the file goes; NULL: never spill */
    atomic_uint_fast64_t *budget; /* bytes still to be kept, shared */
    bool spilling;         /* the budget ran out: chunks go to the file */
    size_t keep_chunks;    /* the first chunk in the file */
    size_t nspilled;       /* chunks written to the file, from keep_chunks on */
    int fd;                /* the file, once a chunk is spilled; else -1 */
    char *stage;           /* the spilled chunk being filled */
    char *map;             /* the file, mapped by arena_seal() */
    size_t map_len;
    int err;               /* errno of the spill that failed; 0 */
} arena;

/* chunk_size must exceed the longest string stored plus 4. */
void arena_init(arena *a, size_t chunk_size);
void arena_free(arena *a);

/* Keeps chunks in memory while *budget lasts, each taking chunk_size bytes
 * from it (atomically: arenas of several threads may share it), and from
 * the first chunk it cannot pay for on, writes them to a temporary file in
 * dir. When the file cannot be made or written (a missing or full folder),
 * a->err says why and the arena keeps every later chunk in memory instead,
 * as without a budget: nothing put is lost. budget and dir must outlive the
 * arena. Call before the first arena_put(). */
void arena_spill_past(arena *a, atomic_uint_fast64_t *budget, const char *dir);

/* Copies s in; returns its handle, or UINT64_MAX when memory is short. */
uint64_t arena_put(arena *a, tg_str s);

/* Writes out the staging chunk (or keeps it in memory when it cannot be
 * written) and maps the file, so that every string can be read; nothing may
 * be put afterwards. Returns 0, or -1 with a->err set when the file cannot
 * be mapped: its strings are then out of reach. Does nothing for an arena
 * that spilled nothing. */
int arena_seal(arena *a);

/* The string behind a handle (top tag bits ignored); a spilled one only
 * after arena_seal(). */
tg_str arena_get(const arena *a, uint64_t ref);

#endif
