/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * UTF-8 from others (utf8.c): what is well-formed (RFC 3629 and Unicode's
 * table 3-7, at each edge), the U+FFFD repair for JSON, and the escaping for
 * a terminal of what a hostile journal entry or server page may hold: escape
 * sequences, C1 controls, bidi overrides, bytes that are not text.
 */
#include <stdlib.h>

#include "test.h"
#include "utf8.h"
#include "util.h"

static bool valid(const char *s)
{
        return utf8_is_valid(s, strlen(s));
}

static void test_is_valid(void)
{
        ASSERT(valid(""));
        ASSERT(valid("plain ASCII \x01\x1b\x7f"));
        ASSERT(valid("\u00e9\u2192\U0001F600"));
        ASSERT(valid("\xc2\x80"));         /* U+0080, the first C1 control: valid, not printable */
        ASSERT(valid("\xed\x9f\xbf"));     /* U+D7FF */
        ASSERT(valid("\xee\x80\x80"));     /* U+E000 */
        ASSERT(valid("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
        ASSERT(!valid("\x80"));            /* a lone continuation byte */
        ASSERT(!valid("\xc0\xaf"));        /* overlong '/' */
        ASSERT(!valid("\xc1\xbf"));
        ASSERT(!valid("\xe0\x9f\xbf"));     /* overlong U+07FF */
        ASSERT(!valid("\xed\xa0\x80"));     /* surrogate U+D800 */
        ASSERT(!valid("\xf0\x8f\xbf\xbf")); /* overlong U+FFFF */
        ASSERT(!valid("\xf4\x90\x80\x80")); /* U+110000 */
        ASSERT(!valid("\xf5\x80\x80\x80"));
        ASSERT(!valid("\xff"));
        ASSERT(!valid("cut \xe2\x86"));
        /* By length, not by NUL: U+0000 is UTF-8, a sequence cut by the length is not. */
        ASSERT(utf8_is_valid("a\0b", 3));
        ASSERT(!utf8_is_valid("\xe2\x86\x92", 2));
        ASSERT(utf8_is_valid("\xe2\x86\x92", 3));
        ASSERT(utf8_is_valid(NULL, 0));
}

static void test_decode(void)
{
        uint32_t cp = 0;

        ASSERT(utf8_decode("A", 1, &cp) == 1 && cp == 'A');
        ASSERT(utf8_decode("\u202e", 3, &cp) == 3 && cp == 0x202e);
        ASSERT(utf8_decode("\U0001F600", 4, &cp) == 4 && cp == 0x1f600);
        cp = 7;
        ASSERT(utf8_decode("\xed\xa0\x80", 3, &cp) == 0 && cp == 7);
        ASSERT(utf8_decode("\xe2\x86\x92", 2, &cp) == 0);
        ASSERT(utf8_decode("", 0, &cp) == 0);
}

static void sanitized(const char *in, const char *want)
{
        _cleanup_free_ char *got = utf8_sanitize(in);

        ASSERT_STREQ(got, want);
        ASSERT(valid(got));
}

static void test_sanitize(void)
{
        sanitized("", "");
        sanitized("fine \u2192 \x1b[31m", "fine \u2192 \x1b[31m"); /* valid: controls are kept */
        sanitized("bad\xff", "bad\ufffd");
        sanitized("\x80\x80", "\ufffd\ufffd");
        /* A sequence cut short is one U+FFFD; what could never continue is one per byte. */
        sanitized("cut \xe2\x86!", "cut \ufffd!");
        sanitized("\xf0\x9f\x98", "\ufffd");
        sanitized("\xc0\xaf", "\ufffd\ufffd");
        sanitized("\xed\xa0\x80", "\ufffd\ufffd\ufffd");
        sanitized("\xf4\x90\x80\x80x", "\ufffd\ufffd\ufffd\ufffdx");
        sanitized("a\xe2\x86\xe2\x86\x92", "a\ufffd\u2192");
}

static void escaped(const char *in, const char *want)
{
        _cleanup_free_ char *got = utf8_escape_control(in);

        ASSERT_STREQ(got, want);
        ASSERT(valid(got));
}

static void test_escape(void)
{
        escaped("", "");
        escaped("2026.5.12 \u2192 2026.5.17 \U0001F600 \u00e9",
                "2026.5.12 \u2192 2026.5.17 \U0001F600 \u00e9");
        /* CSI colour, an OSC title change ended by BEL, a lone BEL. */
        escaped("\x1b[31mred\x1b]0;owned\x07"
                "ding\x07",
                "\\x1b[31mred\\x1b]0;owned\\x07ding\\x07");
        escaped("a\nb\tc\rd", "a\\nb\\tc\\rd");
        escaped("\x01\x1f\x7f", "\\x01\\x1f\\x7f");
        /* C1 controls as UTF-8 (U+009B is a one-character CSI) and as raw bytes. */
        escaped("csi\xc2\x9b"
                "31m",
                "csi\\xc2\\x9b31m");
        escaped("\xc2\x85next", "\\xc2\\x85next");
        escaped("\xc2\xa0nbsp", "\xc2\xa0nbsp"); /* U+00A0: the first code point after C1 */
        escaped("raw\x9b"
                "31m",
                "raw\\x9b31m");
        /* Bidi embeddings, overrides and isolates: "pass" that reads "ssap". */
        escaped("\u202epass", "\\xe2\\x80\\xaepass");
        escaped("\u202a\u202b\u202c\u202d",
                "\\xe2\\x80\\xaa\\xe2\\x80\\xab\\xe2\\x80\\xac\\xe2\\x80\\xad");
        escaped("\u2066\u2067\u2068\u2069",
                "\\xe2\\x81\\xa6\\xe2\\x81\\xa7\\xe2\\x81\\xa8\\xe2\\x81\\xa9");
        escaped("\u2029\u2065\u206a", "\u2029\u2065\u206a"); /* their neighbours are text */
        /* Bytes that are not UTF-8, one \xNN each. */
        escaped("bad\xff", "bad\\xff");
        escaped("cut\xe2\x86", "cut\\xe2\\x86");
        escaped("\xed\xa0\x80", "\\xed\\xa0\\x80");
        escaped("\xc0\xaf", "\\xc0\\xaf");
}

int main(void)
{
        RUN(test_is_valid);
        RUN(test_decode);
        RUN(test_sanitize);
        RUN(test_escape);
        return 0;
}
