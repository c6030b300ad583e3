/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * UTF-8 validation, repair and terminal escaping. See utf8.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/*
 * Decodes the sequence at s (n > 0 bytes there). Returns its length with
 * *ret_valid set, or, for an ill-formed one, the length of its maximal
 * subpart (at least 1): the bytes one U+FFFD stands for. The second byte's
 * range is what rules out overlong forms (E0, F0), surrogates (ED) and code
 * points beyond U+10FFFF (F4), as in Unicode's table 3-7.
 */
static size_t decode(const unsigned char *s, size_t n, uint32_t *ret_cp, bool *ret_valid)
{
        unsigned char lo = 0x80, hi = 0xbf;
        size_t len;
        uint32_t cp;

        *ret_valid = false;
        if (s[0] < 0x80) {
                *ret_cp = s[0];
                *ret_valid = true;
                return 1;
        }
        if (s[0] >= 0xc2 && s[0] <= 0xdf) {
                len = 2;
                cp = s[0] & 0x1f;
        } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                len = 3;
                cp = s[0] & 0x0f;
                if (s[0] == 0xe0)
                        lo = 0xa0;
                else if (s[0] == 0xed)
                        hi = 0x9f;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                len = 4;
                cp = s[0] & 0x07;
                if (s[0] == 0xf0)
                        lo = 0x90;
                else if (s[0] == 0xf4)
                        hi = 0x8f;
        } else
                return 1; /* a continuation byte, C0, C1, F5-FF */
        for (size_t i = 1; i < len; i++) {
                /* Also stops at a terminating NUL, which is no continuation byte. */
                if (i >= n || s[i] < lo || s[i] > hi)
                        return i;
                cp = cp << 6 | (s[i] & 0x3f);
                lo = 0x80;
                hi = 0xbf;
        }
        *ret_cp = cp;
        *ret_valid = true;
        return len;
}

size_t utf8_decode(const char *s, size_t n, uint32_t *ret_cp)
{
        uint32_t cp;
        bool valid;
        size_t len;

        if (n == 0)
                return 0;
        len = decode((const unsigned char *)s, n, &cp, &valid);
        if (!valid)
                return 0;
        *ret_cp = cp;
        return len;
}

bool utf8_is_valid(const char *s, size_t n)
{
        for (size_t i = 0; i < n;) {
                uint32_t cp;
                bool valid;

                i += decode((const unsigned char *)s + i, n - i, &cp, &valid);
                if (!valid)
                        return false;
        }
        return true;
}

char *utf8_sanitize(const char *s)
{
        size_t len = strlen(s), j = 0;
        char *r;

        if (utf8_is_valid(s, len))
                return strdup(s);
        /* One byte becomes at most three (U+FFFD). */
        r = malloc(len * 3 + 1);
        if (!r)
                return NULL;
        for (size_t i = 0; i < len;) {
                uint32_t cp;
                bool valid;
                size_t n = decode((const unsigned char *)s + i, len - i, &cp, &valid);

                if (valid) {
                        memcpy(r + j, s + i, n);
                        j += n;
                } else {
                        memcpy(r + j, "\xef\xbf\xbd", 3);
                        j += 3;
                }
                i += n;
        }
        r[j] = 0;
        return r;
}

/* Code points a terminal acts on instead of showing them. */
static bool is_control(uint32_t cp)
{
        return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
               (cp >= 0x2066 && cp <= 0x2069);
}

char *utf8_escape_control(const char *s)
{
        size_t len = strlen(s);
        char *r, *o;

        /* Each byte becomes at most four (\xNN). */
        r = o = malloc(len * 4 + 1);
        if (!r)
                return NULL;
        for (size_t i = 0; i < len;) {
                uint32_t cp = 0;
                bool valid;
                size_t n = decode((const unsigned char *)s + i, len - i, &cp, &valid);

                if (valid && (cp == '\n' || cp == '\t' || cp == '\r')) {
                        *o++ = '\\';
                        *o++ = cp == '\n' ? 'n' : cp == '\t' ? 't' : 'r';
                } else if (valid && !is_control(cp)) {
                        memcpy(o, s + i, n);
                        o += n;
                } else
                        for (size_t k = 0; k < n; k++)
                                o += sprintf(o, "\\x%02x", (unsigned char)s[i + k]);
                i += n;
        }
        *o = 0;
        return r;
}
