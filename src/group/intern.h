/*
 * intern: maps short strings (load balancer names) to small integer ids.
 *
 * Each worker interns into its own table without locking; when workers are
 * done their tables are merged into one and the events' ids are remapped
 * (intern_merge). Ids are dense, starting at 0; at most INTERN_MAX strings.
 */
#ifndef TG_INTERN_H
#define TG_INTERN_H

#include <stddef.h>
#include <stdint.h>

#include "util/tg_str.h"

#define INTERN_MAX 65535u
#define INTERN_NONE 65535u /* returned when the table is full */

typedef struct intern {
    char **names;     /* owned, NUL-terminated, by id */
    uint32_t *lens;
    uint16_t *slots;  /* open addressing: id + 1, 0 = empty */
    size_t n, cap;    /* cap: number of slots, a power of two */
} intern;

void intern_init(intern *t);
void intern_free(intern *t);

/* The id of s, adding it if new; INTERN_NONE when full or out of memory. */
uint16_t intern_id(intern *t, tg_str s);

static inline const char *intern_name(const intern *t, uint16_t id)
{
    return id < t->n ? t->names[id] : "-";
}

/* Adds every name of from into into; map[i] receives the new id of from's
 * id i (map holds from->n entries). */
void intern_merge(intern *into, const intern *from, uint16_t *map);

#endif
