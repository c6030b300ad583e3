/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Nautobot's HTML pages, parsed with libxml2's HTML parser: the home page's
 * dashboard panels and the login form (its CSRF token and error message).
 */
#pragma once

#include <stdbool.h>

#include "util.h"

#define HTML_PANELS_MAX 256

typedef struct Panel {
        char *id;    /* the card's id attribute: a slug of the panel name */
        char *title; /* the text of the header's <strong> */
} Panel;

typedef struct HomePage {
        Panel *panels;
        size_t n_panels;
        bool login_form; /* the page is really the login form */
} HomePage;

HomePage *home_page_free(HomePage *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(HomePage *, home_page_free);

/* Panels are <div class="card nb-draggable" id=...> with a .card-header <strong>. */
int html_parse_home(const char *html, size_t len, HomePage **ret);

/* Finds a panel by its title (exact, white space folded), or NULL. */
const Panel *home_page_find(const HomePage *h, const char *title);

typedef struct LoginPage {
        bool has_form;    /* a form with a password field */
        char *csrf_token; /* the form's csrfmiddlewaretoken, or NULL */
        char *error;      /* the text of an error message on the page, or NULL */
} LoginPage;

LoginPage *login_page_free(LoginPage *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(LoginPage *, login_page_free);

int html_parse_login(const char *html, size_t len, LoginPage **ret);
