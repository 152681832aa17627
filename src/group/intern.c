#include "group/intern.h"

#include <stdlib.h>
#include <string.h>

void intern_init(intern *t)
{
    memset(t, 0, sizeof *t);
}

void intern_free(intern *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->names[i]);
    free(t->names);
    free(t->lens);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a: names are short */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static int grow(intern *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    uint16_t *slots = calloc(cap, sizeof *slots);
    char **names = realloc(t->names, cap / 2 * sizeof *names);
    if (names)
        t->names = names;
    uint32_t *lens = realloc(t->lens, cap / 2 * sizeof *lens);
    if (lens)
        t->lens = lens;
    if (!slots || !names || !lens) {
        free(slots);
        return -1;
    }
    for (size_t id = 0; id < t->n; id++) {
        size_t i = hash_bytes(t->names[id], t->lens[id]) & (cap - 1);
        while (slots[i])
            i = (i + 1) & (cap - 1);
        slots[i] = (uint16_t)(id + 1);
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

uint16_t intern_id(intern *t, tg_str s)
{
    if (t->cap) {
        size_t i = hash_bytes(s.p, s.n) & (t->cap - 1);
        for (; t->slots[i]; i = (i + 1) & (t->cap - 1)) {
            uint16_t id = (uint16_t)(t->slots[i] - 1);
            if (t->lens[id] == s.n && memcmp(t->names[id], s.p, s.n) == 0)
                return id;
        }
    }
    /* Kept at most half full, so probes stay short and a free slot exists. */
    if (t->n >= INTERN_MAX - 1 || ((t->n + 1) * 2 > t->cap && grow(t) != 0))
        return INTERN_NONE;
    char *name = malloc(s.n + 1);
    if (!name)
        return INTERN_NONE;
    memcpy(name, s.p, s.n);
    name[s.n] = '\0';
    uint16_t id = (uint16_t)t->n++;
    t->names[id] = name;
    t->lens[id] = (uint32_t)s.n;
    size_t i = hash_bytes(s.p, s.n) & (t->cap - 1);
    while (t->slots[i])
        i = (i + 1) & (t->cap - 1);
    t->slots[i] = (uint16_t)(id + 1);
    return id;
}

void intern_merge(intern *into, const intern *from, uint16_t *map)
{
    for (size_t i = 0; i < from->n; i++)
        map[i] = intern_id(into, tg_str_make(from->names[i], from->lens[i]));
}
