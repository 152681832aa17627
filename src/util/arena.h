/*
 * arena: an append-only store of byte strings (the raw log lines that
 * timelines and find print), referenced by a 64-bit handle.
 *
 * Strings are copied into large chunks that never move, so a handle stays
 * valid until arena_free(). Each worker owns one arena: no locking. A handle
 * is the string's position in the arena's chunk space; the caller may tag
 * the top bits (see ARENA_REF_BITS) to tell several arenas apart.
 */
#ifndef TG_ARENA_H
#define TG_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include "util/tg_str.h"

/* Handles use the low 48 bits: 256 TiB per arena. */
#define ARENA_REF_BITS 48
#define ARENA_REF_MASK (((uint64_t)1 << ARENA_REF_BITS) - 1)

typedef struct arena {
    char **chunks;
    size_t nchunks, cap_chunks;
    size_t chunk_size; /* fixed; every string fits in one chunk */
    size_t used;       /* bytes used in the last chunk */
    uint64_t bytes;    /* payload bytes stored, for memory accounting */
} arena;

/* chunk_size must exceed the longest string stored plus 4. */
void arena_init(arena *a, size_t chunk_size);
void arena_free(arena *a);

/* Copies s in; returns its handle, or UINT64_MAX when memory is short. */
uint64_t arena_put(arena *a, tg_str s);

/* The string behind a handle (top tag bits ignored). */
tg_str arena_get(const arena *a, uint64_t ref);

#endif
