/*
 * json: writing JSON values that stay valid whatever bytes a log held.
 *
 * Strings are written with the escapes JSON requires; bytes that are not
 * valid UTF-8 (a log is not obliged to be) are replaced by U+FFFD, so every
 * line tracegrep prints parses. Strings are escaped straight into the
 * writer's buffer, 16 bytes at a time where nothing needs escaping.
 * Stateless and thread-safe.
 */
#ifndef TG_JSON_H
#define TG_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "output/writer.h"
#include "util/tg_str.h"

/* Writes s as a quoted JSON string. */
void json_str(writer *w, const char *s, size_t n);

/* The most bytes json_esc() writes for n input bytes: every byte may become
 * "\ufffd" or "\u00XX". */
#define JSON_ESC_MAX(n) (6 * (size_t)(n))

/* Writes s[0..n) JSON-escaped, without quotes, at out, which has room for
 * JSON_ESC_MAX(n) bytes; returns the end. json_str() without a writer, for
 * text that is formatted once and kept (a source path). */
char *json_esc(char *out, const char *s, size_t n);

/* A quoted string, or null when s is absent (p == NULL) or the "-" marker. */
void json_str_or_null(writer *w, tg_str s);

/*
 * The same values written into room from wr_room(), for printers that
 * reserve room once for many values: each returns the end of what it
 * wrote, and needs JSON_PUT_MAX(s.n) bytes of room. lim is where the
 * readable bytes around the value end (the end of its line): the value is
 * read in 16-byte blocks as far as lim allows. json_put_alb_field() writes
 * nothing usable and returns NULL for a field with an ALB escape:
 * json_alb_field() then writes it.
 */
#define JSON_PUT_MAX(n) (JSON_ESC_MAX(n) + 32)
char *json_put_str_or_null(char *out, tg_str s, const char *lim);
char *json_put_alb_field(char *out, tg_str raw, const char *lim);
char *json_put_number(char *out, tg_str s, bool minus_one_is_null, const char *lim);

/* Writes a field of an ALB line: ALB's escapes are decoded first, then the
 * bytes are JSON-encoded; "-" becomes null. */
void json_alb_field(writer *w, tg_str raw);

/* Writes the text as a JSON number when it is one (e.g. "0.086", "200"),
 * null otherwise ("-", "-1" when minus_one_is_null). */
void json_number_or_null(writer *w, tg_str s, bool minus_one_is_null);

/* Writes ,"key": — the separator and the key. first suppresses the comma.
 * json_key() takes a string literal and measures it at compile time. */
void json_key_n(writer *w, const char *key, size_t n, bool first);
#define json_key(w, lit, first)                                                                    \
    ((first) ? wr_lit((w), "\"" lit "\":") : wr_lit((w), ",\"" lit "\":"))

#endif
