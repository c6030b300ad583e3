/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Check results hold UTF-8 whatever they are given: what the server, the probe and
 * nautobot-server print (a Job name, a panel title, an error body) can hold any bytes, and
 * the state file made of a result must stay JSON that Python's json reads.
 */
#include <json-c/json.h>

#include "result.h"
#include "test.h"
#include "utf8.h"

#define FFFD "\xef\xbf\xbd"

static bool valid(const char *s)
{
        return s && utf8_is_valid(s, strlen(s));
}

static void test_invalid_utf8_replaced(void)
{
        _cleanup_(check_result_freep) CheckResult *r = NULL;
        char **items = NULL;

        ASSERT(check_result_new(&r, "jobs") == 0);
        /* A lone continuation byte, a cut sequence, an overlong '/', a surrogate, Latin-1. */
        ASSERT(check_result_set(r, CHECK_FAIL, "Job %s failed: %s", "Renew\200al",
                                "caf\xe9 \xe2\x82 \xc0\xaf \xed\xa0\x80 end") == 0);
        ASSERT(r->state == CHECK_FAIL);
        ASSERT(valid(r->reason));
        ASSERT_STREQ(r->reason, "Job Renew" FFFD "al failed: caf" FFFD " " FFFD " " FFFD FFFD
                                " " FFFD FFFD FFFD " end");
        ASSERT(check_result_set_evidence(r, "HTTP 500\n\xff\xfe body \xc3\xa9t\xc3\xa9") == 0);
        ASSERT_STREQ(r->evidence, "HTTP 500\n" FFFD FFFD " body \xc3\xa9t\xc3\xa9");
        ASSERT(check_result_add_finding(r, "panel '%s'", "Co\xf0\x9f\x98verage") == 0);
        ASSERT_STREQ(r->findings[0], "panel 'Co" FFFD "verage'");
        ASSERT(check_result_set_pending(r, "migrate (%s)", "\xfe") == 0);
        ASSERT_STREQ(r->pending, "migrate (" FFFD ")");
        ASSERT(strv_extend(&items, "Renewal\240Check (Contracts)") == 0);
        ASSERT(strv_extend(&items, "Vendor Concentration") == 0);
        ASSERT(check_result_set_observed(r, items) == 0);
        ASSERT_STREQ(r->observed[0], "Renewal" FFFD "Check (Contracts)");
        ASSERT_STREQ(r->observed[1], "Vendor Concentration");

        /* Valid text, other scripts included, is kept as it is. */
        ASSERT(check_result_set(r, CHECK_PASS, "%s",
                                "Vertr\xc3\xa4ge \xe5\xa5\x91\xe7\xb4\x84 \xf0\x9f\x93\x84") == 0);
        ASSERT_STREQ(r->reason, "Vertr\xc3\xa4ge \xe5\xa5\x91\xe7\xb4\x84 \xf0\x9f\x93\x84");
}

/* Cutting a long text never splits a character in two. */
static void test_cuts_keep_characters(void)
{
        _cleanup_(check_result_freep) CheckResult *r = NULL;
        Buf b;

        ASSERT(check_result_new(&r, "panels") == 0);
        buf_init(&b, 1 << 20);
        ASSERT(buf_printf(&b, "x") == 0); /* so that 2-byte characters straddle every cut */
        for (int i = 0; i < 6000; i++)
                ASSERT(buf_printf(&b, "\xc3\xa9") == 0);
        ASSERT(check_result_set(r, CHECK_FAIL, "%s", b.data) == 0);
        ASSERT(valid(r->reason));
        ASSERT(strlen(r->reason) <= RESULT_REASON_MAX);
        ASSERT(endswith(r->reason, "\xc3\xa9..."));
        ASSERT(check_result_set_evidence(r, b.data) == 0);
        ASSERT(valid(r->evidence));
        ASSERT(strlen(r->evidence) <= RESULT_EVIDENCE_MAX);
        ASSERT(strlen(r->evidence) >= RESULT_EVIDENCE_MAX - 1);
        /* Invalid bytes grow threefold as U+FFFD: the limits still hold. */
        buf_done(&b);
        buf_init(&b, 1 << 20);
        for (int i = 0; i < 6000; i++)
                ASSERT(buf_printf(&b, "\xff") == 0);
        ASSERT(check_result_add_finding(r, "%s", b.data) == 0);
        ASSERT(valid(r->findings[0]) && strlen(r->findings[0]) <= RESULT_REASON_MAX);
        ASSERT(check_result_set_evidence(r, b.data) == 0);
        ASSERT(valid(r->evidence) && strlen(r->evidence) <= RESULT_EVIDENCE_MAX);
        buf_done(&b);
}

/* What json-c writes of such a result is UTF-8 (json-c copies a string's bytes as they are). */
static void test_json_of_result(void)
{
        _cleanup_(check_result_freep) CheckResult *r = NULL;
        json_object *o;
        const char *text;

        ASSERT(check_result_new(&r, "system") == 0);
        ASSERT(check_result_set(r, CHECK_FAIL, "System check failed: %s", "bad \xff\xfe name") ==
               0);
        o = json_object_new_object();
        json_object_object_add(o, "reason", json_object_new_string(r->reason));
        text = json_object_to_json_string(o);
        ASSERT(valid(text));
        ASSERT(strstr(text, "bad " FFFD FFFD " name"));
        json_object_put(o);
}

int main(void)
{
        RUN(test_invalid_utf8_replaced);
        RUN(test_cuts_keep_characters);
        RUN(test_json_of_result);
        return 0;
}
