#include "util/arena.h"

#include <stdlib.h>
#include <string.h>

void arena_init(arena *a, size_t chunk_size)
{
    memset(a, 0, sizeof *a);
    a->chunk_size = chunk_size;
    a->used = chunk_size; /* forces a chunk on the first put */
}

void arena_free(arena *a)
{
    for (size_t i = 0; i < a->nchunks; i++)
        free(a->chunks[i]);
    free(a->chunks);
    memset(a, 0, sizeof *a);
}

/* Each string is stored as a 4-byte length and its bytes. */
uint64_t arena_put(arena *a, tg_str s)
{
    size_t need = 4 + s.n;
    if (need > a->chunk_size)
        return UINT64_MAX;
    if (a->used + need > a->chunk_size) {
        if (a->nchunks == a->cap_chunks) {
            size_t cap = a->cap_chunks ? a->cap_chunks * 2 : 16;
            char **c = realloc(a->chunks, cap * sizeof *c);
            if (!c)
                return UINT64_MAX;
            a->chunks = c;
            a->cap_chunks = cap;
        }
        char *chunk = malloc(a->chunk_size);
        if (!chunk)
            return UINT64_MAX;
        a->chunks[a->nchunks++] = chunk;
        a->used = 0;
    }
    char *dst = a->chunks[a->nchunks - 1] + a->used;
    uint32_t len = (uint32_t)s.n;
    memcpy(dst, &len, 4);
    if (s.n)
        memcpy(dst + 4, s.p, s.n);
    uint64_t ref = (uint64_t)(a->nchunks - 1) * a->chunk_size + a->used;
    a->used += need;
    a->bytes += s.n;
    return ref;
}

tg_str arena_get(const arena *a, uint64_t ref)
{
    ref &= ARENA_REF_MASK;
    const char *at = a->chunks[ref / a->chunk_size] + ref % a->chunk_size;
    uint32_t len;
    memcpy(&len, at, 4);
    return tg_str_make(at + 4, len);
}
