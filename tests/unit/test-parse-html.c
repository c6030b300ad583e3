/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Home page panels and the login form, on pages saved from Nautobot 3.1.6. */
#include "parse-html.h"
#include "test.h"

static char *load(const char *name, size_t *len)
{
        _cleanup_free_ char *path = fixture(name);
        char *text = NULL;

        ASSERT(read_file_bounded(path, 1 << 24, &text, len) == 0);
        return text;
}

static void test_home(void)
{
        static const char *const expected[] = {"Contracts",
                                               "Action Required",
                                               "Coverage Gaps",
                                               "Cost Summary",
                                               "Vendor Concentration",
                                               "Renewal Forecast",
                                               "Organization",
                                               "Change Log"};
        _cleanup_(home_page_freep) HomePage *h = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len;

        text = load("home.html", &len);
        ASSERT(html_parse_home(text, len, &h) == 0);
        ASSERT(h->n_panels == 19);
        ASSERT(!h->login_form);
        for (size_t i = 0; i < ELEMENTSOF(expected); i++)
                ASSERT(home_page_find(h, expected[i]));
        ASSERT_STREQ(home_page_find(h, "Action Required")->id, "action-required");
        ASSERT(!home_page_find(h, "Renewal Calendar"));
        /* Substring search would be fooled by this; the parser is not. */
        ASSERT(!home_page_find(h, "Contract"));
}

static void test_login(void)
{
        _cleanup_(login_page_freep) LoginPage *ok = NULL, *failed = NULL;
        _cleanup_(home_page_freep) HomePage *h = NULL;
        _cleanup_free_ char *t1 = NULL, *t2 = NULL;
        size_t l1, l2;

        t1 = load("login.html", &l1);
        ASSERT(html_parse_login(t1, l1, &ok) == 0);
        ASSERT(ok->has_form);
        ASSERT(ok->csrf_token && strlen(ok->csrf_token) == 64);
        ASSERT(!ok->error);
        ASSERT(html_parse_home(t1, l1, &h) == 0);
        ASSERT(h->login_form && h->n_panels == 0);

        t2 = load("login-failed.html", &l2);
        ASSERT(html_parse_login(t2, l2, &failed) == 0);
        ASSERT(failed->has_form && failed->csrf_token);
        ASSERT_STREQ(
                failed->error,
                "Please enter a correct username and password. Note that both fields may be case-sensitive.");
}

static void test_hostile(void)
{
        _cleanup_(home_page_freep) HomePage *h = NULL, *h2 = NULL, *h3 = NULL;
        _cleanup_(login_page_freep) LoginPage *l = NULL;
        Buf b;

        /* Deep nesting must not exhaust the stack. */
        buf_init(&b, 1 << 22);
        for (int i = 0; i < 100000; i++)
                buf_append(&b, "<div>", 5);
        ASSERT(html_parse_home(b.data, b.len, &h) == 0);
        ASSERT(h->n_panels == 0);
        buf_done(&b);

        /* Binary junk: either no document at all, or one without panels. */
        int r = html_parse_home("\0\xff\xfe<<<>>>", 9, &h2);
        ASSERT(r == -EBADMSG || (r == 0 && h2->n_panels == 0));
        ASSERT(html_parse_login("<form><input name=password>", 27, &l) == 0);
        ASSERT(l->has_form && !l->csrf_token);
        /* A panel without a header still counts, without a title. */
        ASSERT(html_parse_home("<div class='card nb-draggable' id=x></div>", 42, &h3) == 0);
        ASSERT(h3->n_panels == 1 && !h3->panels[0].title);
}

int main(void)
{
        RUN(test_home);
        RUN(test_login);
        RUN(test_hostile);
        return 0;
}
