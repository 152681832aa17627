/*
 * hex: hex digit values by table, for the decoders' hot paths.
 *
 * tg_hexval[c] is 0x10 | the digit's value for '0'-'9', 'a'-'f' and 'A'-'F',
 * and 0 for every other byte. The 0x10 tag lets a decoder AND the entries
 * of a run of digits and test once, at the end, that all were hex digits.
 */
#ifndef TG_HEX_H
#define TG_HEX_H

#include <stdint.h>

extern const uint8_t tg_hexval[256];

/* The value of hex digit c, or -1. */
static inline int tg_hex_digit(char c)
{
    uint8_t v = tg_hexval[(unsigned char)c];
    return v ? v & 0xf : -1;
}

#endif
