/*
 * u32vec: a growable array of 32-bit indexes (trace indexes in the merge,
 * input numbers in a collector). Zero-initialized, it is empty; the owner
 * frees v.
 */
#ifndef TG_U32VEC_H
#define TG_U32VEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct u32vec {
    uint32_t *v;
    size_t n, cap;
} u32vec;

/* Appends x, doubling the array when full. Returns 0, or -1 when memory is
 * short (l is then unchanged). */
static inline int u32vec_push(u32vec *l, uint32_t x)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        uint32_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = x;
    return 0;
}

#endif
