/*
 * json: writing JSON values that stay valid whatever bytes a log held.
 *
 * Strings are written with the escapes JSON requires; bytes that are not
 * valid UTF-8 (a log is not obliged to be) are replaced by U+FFFD, so every
 * line tracegrep prints parses. Stateless and thread-safe.
 */
#ifndef TG_JSON_H
#define TG_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "output/writer.h"
#include "util/tg_str.h"

/* Writes s as a quoted JSON string. */
void json_str(writer *w, const char *s, size_t n);

/* A quoted string, or null when s is absent (p == NULL) or the "-" marker. */
void json_str_or_null(writer *w, tg_str s);

/* Writes a field of an ALB line: ALB's escapes are decoded first, then the
 * bytes are JSON-encoded; "-" becomes null. */
void json_alb_field(writer *w, tg_str raw);

/* Writes the text as a JSON number when it is one (e.g. "0.086", "200"),
 * null otherwise ("-", "-1" when minus_one_is_null). */
void json_number_or_null(writer *w, tg_str s, bool minus_one_is_null);

/* Writes ,"key": — the separator and the key. first suppresses the comma.
 * json_key() takes a string literal and measures it at compile time. */
void json_key_n(writer *w, const char *key, size_t n, bool first);
#define json_key(w, lit, first) json_key_n((w), (lit), sizeof(lit) - 1, (first))

#endif
