/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Home page panels and the login form, on pages saved from Nautobot 3.1.6 and 3.2.7. */
#include "parse-html.h"
#include "test.h"

static char *load(const char *name, size_t *len)
{
        _cleanup_free_ char *path = fixture(name);
        char *text = NULL;

        ASSERT(read_file_bounded(path, 1 << 24, &text, len) == 0);
        return text;
}

/* The panels a superuser sees on the test bed's home page: Nautobot's and the app's. */
static const char *const home_panels[] = {"Organization",
                                          "DCIM",
                                          "Power",
                                          "IPAM",
                                          "Circuits",
                                          "Cloud",
                                          "Wireless",
                                          "VPN",
                                          "Approval Workflow",
                                          "Virtualization",
                                          "Data Sources",
                                          "Job History",
                                          "Change Log",
                                          "Contracts",
                                          "Action Required",
                                          "Coverage Gaps",
                                          "Cost Summary",
                                          "Vendor Concentration",
                                          "Renewal Forecast"};

/* One saved page per release whose markup differs: 3.1 titles a card with a <strong>, 3.2 with
 * an <h2> beside a visually hidden "Toggle <name> panel". */
static void check_home(const char *name)
{
        _cleanup_(home_page_freep) HomePage *h = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len;

        text = load(name, &len);
        ASSERT(html_parse_home(text, len, &h) == 0);
        ASSERT(h->n_panels == ELEMENTSOF(home_panels));
        ASSERT(h->n_titled == h->n_panels);
        ASSERT(!h->login_form);
        for (size_t i = 0; i < ELEMENTSOF(home_panels); i++) {
                const Panel *p = home_page_find(h, home_panels[i]);

                ASSERT(p);
                /* Found by its title, which is the name and nothing else. */
                ASSERT_STREQ(p->title, home_panels[i]);
        }
        ASSERT_STREQ(home_page_find(h, "Action Required")->id, "action-required");
        ASSERT(!home_page_find(h, "Renewal Calendar"));
        /* Substring search would be fooled by this; the parser is not. */
        ASSERT(!home_page_find(h, "Contract"));
        ASSERT(!home_page_find(h, "Toggle Contracts panel"));
}

static void test_home(void)
{
        check_home("home.html");
}

static void test_home_3_2(void)
{
        check_home("home-3.2.html");
}

static HomePage *parse_home(const char *html)
{
        HomePage *h = NULL;

        ASSERT(html_parse_home(html, strlen(html), &h) == 0);
        return h;
}

/* Markup the saved pages do not have: titles inside other elements, unreadable ones, ids. */
static void test_titles(void)
{
        _cleanup_(home_page_freep) HomePage *nested = NULL, *none = NULL, *other = NULL,
                                            *slugs = NULL;

        nested = parse_home(
                "<div class='card nb-draggable' id=cost-summary><div class=card-header>"
                "<h2 class='d-inline'><span class='mdi mdi-cash'></span>\n  Cost\n"
                "<em>Summary</em> <span class=visually-hidden>(panel)</span></h2>"
                "<span class=visually-hidden><strong>Toggle</strong></span></div></div>"
                "<div class='card nb-draggable' id=contracts><div class=card-header>"
                "<span class='sr-only'><strong>Hidden</strong></span>"
                "<h3 class='card-title'>Contracts <span class=badge>3</span></h3></div></div>"
                "<div class='card nb-draggable' id=x><div class=card-header>"
                "<div class=card-title>Job &amp; History</div></div></div>");
        ASSERT(nested->n_panels == 3 && nested->n_titled == 3);
        ASSERT_STREQ(nested->panels[0].title, "Cost Summary");
        ASSERT_STREQ(nested->panels[1].title, "Contracts 3");
        ASSERT_STREQ(nested->panels[2].title, "Job & History");
        ASSERT(home_page_find(nested, "Cost Summary") == &nested->panels[0]);
        /* The title reads as the name with a badge's count: the id says which panel it is. */
        ASSERT(home_page_find(nested, "Contracts") == &nested->panels[1]);

        /* No title element, an empty one, no header: untitled, found by id only. */
        none = parse_home(
                "<div class='card nb-draggable' id=action-required><div class=card-header>"
                "<span class=btn></span></div></div>"
                "<div class='card nb-draggable' id=coverage-gaps><div class=card-header>"
                "<h2> <span class=visually-hidden>Coverage Gaps</span> </h2></div></div>"
                "<div class='card nb-draggable' id=cost-summary></div>");
        ASSERT(none->n_panels == 3 && none->n_titled == 0);
        for (size_t i = 0; i < none->n_panels; i++)
                ASSERT(!none->panels[i].title);
        ASSERT(home_page_find(none, "Action Required") == &none->panels[0]);
        ASSERT(home_page_find(none, "Coverage Gaps") == &none->panels[1]);
        ASSERT(home_page_find(none, "Cost Summary") == &none->panels[2]);
        ASSERT(!home_page_find(none, "Action"));
        ASSERT(!home_page_find(none, "Renewal Forecast"));

        /* A card titled with another name is not found by its id; a title match comes first. */
        other = parse_home("<div class='card nb-draggable' id=contracts><div class=card-header>"
                           "<h2>Renewal Forecast</h2></div></div>"
                           "<div class='card nb-draggable' id=y><div class=card-header>"
                           "<strong>Contracts</strong></div></div>");
        ASSERT(home_page_find(other, "Contracts") == &other->panels[1]);
        ASSERT(home_page_find(other, "Renewal Forecast") == &other->panels[0]);
        other = home_page_free(other);
        other = parse_home("<div class='card nb-draggable' id=contracts><div class=card-header>"
                           "<h2>Renewal Forecast</h2></div></div>");
        ASSERT(!home_page_find(other, "Contracts"));

        /* Django's slugify(): punctuation dropped, lower case, [-\s]+ one '-', "-_" trimmed. */
        slugs = parse_home("<div class='card nb-draggable' id=cost-summary></div>"
                           "<div class='card nb-draggable' id=vendor_concentration-2></div>"
                           "<div class='card nb-draggable' id=ab></div>"
                           "<div class='card nb-draggable' id=caf></div>"
                           "<div class='card nb-draggable'></div>");
        ASSERT(home_page_find(slugs, "Cost & Summary") == &slugs->panels[0]);
        ASSERT(home_page_find(slugs, "  -Cost --\tSummary_ ") == &slugs->panels[0]);
        ASSERT(home_page_find(slugs, "_Vendor_Concentration (2)") == &slugs->panels[1]);
        ASSERT(home_page_find(slugs, "A.B!") == &slugs->panels[2]);
        ASSERT(!home_page_find(slugs, "a b"));
        /* Django makes "cafe" of it (NFKD): no slug rather than a wrong one. */
        ASSERT(!home_page_find(slugs, "Caf\xc3\xa9"));
        ASSERT(!home_page_find(slugs, "!!!"));
        ASSERT(!home_page_find(slugs, ""));
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
        ASSERT(h3->n_panels == 1 && !h3->panels[0].title && h3->n_titled == 0);
}

int main(void)
{
        RUN(test_home);
        RUN(test_home_3_2);
        RUN(test_titles);
        RUN(test_login);
        RUN(test_hostile);
        return 0;
}
