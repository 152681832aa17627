/*
 * reader: turns one input (a memory-mapped file, or a gzip, zstd or plain
 * stream) into blocks of whole lines for the scanner.
 *
 * The format comes from the first bytes (input_sniff), never from a name:
 * gzip (1f 8b; every member of a multi-member file is read), zstd (28 b5 2f
 * fd, or a skippable frame; every frame is read), otherwise plain text.
 *
 * Large plain regular files are memory-mapped by the caller (see
 * mapfile.h) and never pass through here; the caller may read small ones
 * here, as streams. Streams (compressed files, stdin, pipes, such small
 * files) are read through one fixed buffer per reader, reused for every
 * input: a line that straddles two reads is carried to the front of the
 * buffer, and a line longer than max_line bytes (which could otherwise need
 * unbounded memory) is skipped, counted in in_result.oversized and never
 * delivered.
 *
 * Read-ahead (off by default, see in_reader_set_readahead) overlaps the
 * decompression with the callback: a helper thread, started and joined by
 * each in_reader_stream call, decodes into the next of three line buffers
 * while the callback reads the previous one. The blocks, their offsets, the
 * result and the return value are exactly those of the sequential reader;
 * only the thread count differs.
 *
 * A reader belongs to one worker thread, and its callback always runs on
 * that thread; distinct readers are independent.
 */
#ifndef TG_READER_H
#define TG_READER_H

#include "input/mapfile.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum in_kind { IN_PLAIN = 0, IN_GZIP, IN_ZSTD } in_kind;

/* "plain", "gzip", "zstd". */
const char *in_kind_name(in_kind k);

/* Chooses the format from the first n bytes of an input (n may be 0..4). */
in_kind in_sniff(const unsigned char *head, size_t n);

/*
 * Receives p[0..n): whole lines, each ending in '\n', except that the very
 * last block of an input may end with a line that has no newline. off is the
 * offset of p[0] in the decompressed stream. Returning nonzero stops the
 * reader, which then returns IN_STOPPED.
 */
typedef int (*in_block_fn)(void *ctx, const char *p, size_t n, uint64_t off);

typedef struct in_result {
    uint64_t bytes_in;       /* bytes read from the file or pipe */
    uint64_t bytes_out;      /* decompressed bytes, oversized lines included */
    uint64_t oversized;      /* lines longer than max_line, skipped */
    uint64_t err_offset;     /* compressed (input) offset reached at an error */
    char err[256];           /* what went wrong, without the path; "" if ok */
} in_result;

enum { IN_OK = 0, IN_FAILED = -1, IN_STOPPED = 1 };

/* What is said of a file cut short while it was read, whichever way it was
 * read: the bytes not read (uint64_t), then the first of them (uint64_t). */
#define IN_SHRANK_FMT                                                                     \
    "the file shrank while it was read: %" PRIu64 " bytes from byte %" PRIu64 " on were not read"

typedef struct in_reader in_reader;

/* A reader whose lines may be up to max_line bytes (newline excluded).
 * Returns NULL when memory is short. */
in_reader *in_reader_new(size_t max_line);
void in_reader_free(in_reader *r);

/*
 * Adds every byte the reader takes from an input (a read, a window of a
 * mapping, the head) to *bytes as it goes, from whichever thread reads, so
 * that another thread can show the progress of a long stream. NULL stops
 * it. The total may run past res->bytes_in when read-ahead stopped early.
 */
void in_reader_count_into(in_reader *r, atomic_uint_fast64_t *bytes);

/*
 * Turns read-ahead on or off for the next inputs. On, the reader holds three
 * line buffers instead of one (about 3 x (max_line + 256 KiB), at least
 * 3 MiB) and one pipe, kept until it is turned off or freed, and each stream
 * uses one more thread while it is read. Returns false when memory or a pipe
 * is short; the reader then stays sequential, and works as before.
 */
bool in_reader_set_readahead(in_reader *r, bool on);

/*
 * With read-ahead on, whether the next streams start the helper thread (they
 * do until told otherwise). Without it a stream is decoded on the caller's
 * thread, exactly as by a reader without read-ahead. A worker whose cores
 * other workers keep busy gains nothing from the helper: decoding where the
 * lines are read keeps them in that core's cache, and no thread is started
 * and joined for each input.
 */
void in_reader_use_readahead(in_reader *r, bool use);

/*
 * Reads the stream on fd to its end. head[0..headlen) are bytes already
 * taken from fd to sniff it (stdin cannot seek back); they come first. Lines
 * read before an error are delivered before IN_FAILED is returned, with
 * res->err and res->err_offset set: a corrupt or truncated archive loses
 * nothing that came before the damage. fd is not closed. With read-ahead,
 * the helper thread has ended, and read fd for the last time, by the time
 * this returns, whatever the outcome.
 */
int in_reader_stream(in_reader *r, int fd, const unsigned char *head, size_t headlen,
                     in_kind kind, in_block_fn fn, void *ctx, in_result *res);

/*
 * in_reader_stream() of a regular file, with no head, that reads no more
 * than limit bytes of it: its size when it was opened, so that a file
 * that grows meanwhile (a log still being written) gives what a mapping of
 * it would, whatever reads it. A file that ends before gives IN_OK and
 * res->bytes_in short of limit, for the caller to tell.
 */
int in_reader_stream_upto(in_reader *r, int fd, uint64_t limit, in_kind kind, in_block_fn fn,
                          void *ctx, in_result *res);

/*
 * in_reader_stream() of a mapped file (a compressed one: a plain file is
 * better scanned in place), its kind sniffed by the caller. The decoder
 * reads the mapping in place instead of copying it into a read buffer,
 * 4 MiB at a time: each window's pages are mapped in one call, and dropped
 * once read. A file cut short since it was mapped ends the input with
 * IN_FAILED, as a read error would, instead of a SIGBUS.
 */
int in_reader_stream_map(in_reader *r, const mapfile *m, in_kind kind, in_block_fn fn,
                         void *ctx, in_result *res);

#endif
