/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Nautobot's HTML pages, parsed with libxml2's HTML parser: the home page's
 * dashboard panels and the login form (its CSRF token and error message).
 */
#pragma once

#include <stdbool.h>

#include "util.h"

#define HTML_PANELS_MAX 256
#define HTML_SLUG_MAX   256 /* a longer panel name is found by its title only */

typedef struct Panel {
        char *id;    /* the card's id attribute: Django's slugify() of the panel name */
        char *title; /* the text of the header's title element; NULL: none could be read */
} Panel;

typedef struct HomePage {
        Panel *panels;
        size_t n_panels;
        size_t n_titled; /* panels with a title */
        bool login_form; /* the page is really the login form */
} HomePage;

HomePage *home_page_free(HomePage *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(HomePage *, home_page_free);

/*
 * Panels are <div class="card nb-draggable" id=...>; the title is the text of
 * the first <strong> (3.1), heading (<h2> in 3.2) or .card-title in their
 * .card-header, white space folded, text hidden from the eye left out.
 */
int html_parse_home(const char *html, size_t len, HomePage **ret);

/*
 * Finds the panel called name, or NULL: by its title (exact, white space
 * folded); else by its id, the slug of name, when its title cannot be read or
 * is name with other text around it (markup this version does not know).
 */
const Panel *home_page_find(const HomePage *h, const char *name);

typedef struct LoginPage {
        bool has_form;    /* a form with a password field */
        char *csrf_token; /* the form's csrfmiddlewaretoken, or NULL */
        char *error;      /* the text of an error message on the page, or NULL */
} LoginPage;

LoginPage *login_page_free(LoginPage *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(LoginPage *, login_page_free);

int html_parse_login(const char *html, size_t len, LoginPage **ret);
