/*
 * engine's internals, shared by the workers' reading of the inputs
 * (engine.c) and what follows it (gather.c: the joins, the merge of the
 * workers' tables, the result). Not part of the module's interface.
 */
#ifndef TG_ENGINE_INT_H
#define TG_ENGINE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/sniff.h"
#include "engine/collect.h"
#include "engine/engine.h"
#include "input/mapfile.h"
#include "input/reader.h"
#include "scan/scan.h"

/* A memory-mapped file shared by the pieces cut from it. The last worker
 * done with a piece unmaps it. */
typedef struct shared_map {
    mapfile m;
    atomic_uint refs;
    uint32_t input;
    /* Where steps found the file cut short (scan_piece()): the first such
     * byte and the bytes not read from there; the last worker done reports
     * them once. */
    atomic_uint_fast64_t lost_from, lost_bytes;
    /* Lines too long to read, over every piece; the last worker done says
     * so once. */
    atomic_uint_fast64_t oversized;
    bool kept; /* the result owns the mapping now: never unmap it here */
} shared_map;

typedef struct piece {
    shared_map *map;
    uint64_t start, end;
    uint32_t input;
    sniff_format fmt; /* detected on the file's start, before the cut */
} piece;

typedef struct engine {
    const eng_settings *s;
    const walk_list *in;
    tg_report *rep;
    scan_db *db;

    pthread_mutex_t mu; /* guards next_input, the piece stack and reading */
    pthread_cond_t more; /* pieces were pushed, or an input was finished */
    size_t next_input;
    unsigned reading;   /* workers inside an input: they may still cut it */
    piece *pieces;
    size_t npieces, cap_pieces;

    atomic_uint_fast64_t bytes_done; /* for the progress line */
    mapfile *maps;                   /* by input: the mappings kept */
    atomic_uint kept_maps;
    atomic_uint workers_left;
    size_t presize; /* stats: the traces each worker's table is sized for */
    atomic_bool conn_logs; /* keep the connection join's references (collect.h) */
    atomic_bool cf_logs;   /* keep the CloudFront join's references (collect.h) */
    atomic_uint_fast64_t line_budget; /* kept lines' bytes the workers may still hold */
} engine;

typedef struct worker {
    engine *eng;
    collector col;
    in_reader *reader;
    pthread_t th;
    bool fatal;
    /* How it reads small plain files (engine.c, ENG_MAP_PROBES): the
     * mappings timed so far, and whether read(2) won. */
    unsigned map_probes;
    uint64_t map_ns, map_pages;
    bool small_read;
} worker;

/* Makes the lines the workers wrote to temporary files readable
 * (arena_seal()), and says so once if a worker could not write there and
 * kept its lines in memory instead. Returns 0, or -1 once it has said why
 * lines written cannot be read back. */
int eng_seal_arenas(engine *e, worker *ws, unsigned n);

/* Moves the workers' results into out, merging their name tables, then
 * runs the joins and, for stats, merges the tables. */
int eng_gather(engine *e, worker *ws, unsigned n, eng_result *out);

#endif
