/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * UTF-8 validity: what the server, the probe and nautobot-server print is
 * bytes; what the state file and the journal's JSON readers take is UTF-8.
 * And what a terminal may be shown of such bytes (the journal's fields, as
 * nautobot-verifyctl and the daemon's table print them). Pure functions;
 * nothing here logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Whether the n bytes at s are well-formed UTF-8 (Unicode 15, table 3-7: no
 * overlong forms, no surrogates, nothing beyond U+10FFFF). NUL counts as a
 * character.
 */
bool utf8_is_valid(const char *s, size_t n);

/*
 * A malloc'ed copy of the string s with each ill-formed sequence (each maximal
 * subpart, as Python's errors="replace" counts them) replaced by U+FFFD; NULL
 * when out of memory.
 */
char *utf8_sanitize(const char *s);

/*
 * The length (1-4) of the well-formed sequence at the start of the n bytes at
 * s, and its code point in *ret_cp; 0 when n is 0 or the bytes there are not
 * one (*ret_cp untouched).
 */
size_t utf8_decode(const char *s, size_t n, uint32_t *ret_cp);

/*
 * A malloc'ed copy of the string s that is safe to print on a terminal: C0
 * controls (ESC, so escape sequences, included), DEL, C1 controls
 * (U+0080-U+009F: U+009B is a one-character CSI to some terminals), the bidi
 * controls U+202A-U+202E and U+2066-U+2069 (they reorder what follows on the
 * line) and bytes that are not UTF-8 become \xNN, one per byte; newline, tab
 * and CR become \n, \t, \r. Other valid UTF-8 is kept, so the result is valid
 * UTF-8. NULL when out of memory.
 */
char *utf8_escape_control(const char *s);
